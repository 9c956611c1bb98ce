/*
 * sdp_fixture.h: loading the SDP fixtures (tests/sdp/fixtures, located by
 * the MXRTC_SDP_FIXTURES environment variable CTest sets) and small helpers
 * shared by the sdp tests.
 */
#ifndef MXRTC_TEST_SDP_FIXTURE_H
#define MXRTC_TEST_SDP_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp/sdp.h"

/* The fixture's bytes, NUL-terminated, in a malloc'd buffer (free it); NULL
 * if it cannot be read. */
static inline char *fixture_load(const char *name, size_t *len) {
    const char *dir = getenv("MXRTC_SDP_FIXTURES");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "tests/sdp/fixtures", name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(256 * 1024);
    size_t n = buf ? fread(buf, 1, 256 * 1024 - 1, f) : 0;
    fclose(f);
    if (!buf) return NULL;
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Parses a fixture with default limits; NULL on failure. */
static inline mxrtc_sdp *fixture_parse(const char *name) {
    size_t n = 0;
    char *t = fixture_load(name, &n);
    mxrtc_sdp *s = NULL;
    if (t && mxrtc_sdp_parse(&s, t, n, NULL, NULL, NULL) != MXRTC_OK) s = NULL;
    free(t);
    return s;
}

/* The text with every occurrence of from replaced by to (malloc'd). */
static inline char *replace_all(const char *text, const char *from, const char *to) {
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    for (const char *p = text; (p = strstr(p, from)) != NULL; p += fl) n++;
    char *out = malloc(strlen(text) + n * (tl > fl ? tl - fl : 0) + 1), *o = out;
    const char *p = text, *q;
    while ((q = strstr(p, from)) != NULL) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, tl);
        o += tl;
        p = q + fl;
    }
    strcpy(o, p);
    return out;
}

/* A malloc'd copy of text (strdup is POSIX, not C11). */
static inline char *dup_text(const char *text) {
    char *d = malloc(strlen(text) + 1);
    if (d) strcpy(d, text);
    return d;
}

#endif
