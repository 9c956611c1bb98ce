/*
 * media_test_util.h: a scratch directory for the tools/media tests (files
 * are the media library's business; each test removes what it wrote).
 */
#ifndef MXRTC_TEST_MEDIA_UTIL_H
#define MXRTC_TEST_MEDIA_UTIL_H

#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Fills path (cap bytes) with a fresh temporary file name ending in suffix. */
static inline void media_tmp_path(char *path, size_t cap, const char *suffix) {
    const char *dir = getenv("TMPDIR");
    snprintf(path, cap, "%s/mxrtc-media-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd >= 0) {
        close(fd);
        unlink(path);
    }
    strncat(path, suffix, cap - strlen(path) - 1);
}

/* Writes len bytes to path; 0 on success. */
static inline int media_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

/* Reads path into buf (cap bytes); returns the length or -1. */
static inline long media_read_file(const char *path, void *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return (long)n;
}

#endif
