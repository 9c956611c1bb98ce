/*
 * y4m.c: YUV4MPEG2 streams (the format of mjpegtools, ffmpeg and Chromium's
 * --use-file-for-fake-video-capture): one text header line
 * "YUV4MPEG2 W<w> H<h> F<n>:<d> I<p> A<n>:<d> C<space> X<comment>\n", then
 * per frame a line "FRAME[ params]\n" and the raw planes. We take I420
 * (C420, C420jpeg, C420paldv, C420mpeg2: the same planes, different chroma
 * siting) progressive only.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "tools/media/media.h"

static const char y4m_magic[] = "YUV4MPEG2";
static const char frame_magic[] = "FRAME";

/* Parses a decimal in 1..UINT32_MAX/2 from [*p, end); advances *p. */
static int parse_uint(const char **p, const char *end, unsigned *out) {
    const char *s = *p;
    uint64_t v = 0;
    if (s >= end || *s < '0' || *s > '9') return MXRTC_ERR_MALFORMED;
    while (s < end && *s >= '0' && *s <= '9') {
        v = v * 10u + (uint64_t)(*s - '0');
        if (v > 0x7fffffffu) return MXRTC_ERR_MALFORMED;
        s++;
    }
    *p = s;
    *out = (unsigned)v;
    return MXRTC_OK;
}

/* "n:d" filling the whole token. */
static int parse_ratio(const char *s, const char *end, unsigned *num, unsigned *den) {
    if (parse_uint(&s, end, num) != MXRTC_OK) return MXRTC_ERR_MALFORMED;
    if (s >= end || *s != ':') return MXRTC_ERR_MALFORMED;
    s++;
    if (parse_uint(&s, end, den) != MXRTC_OK || s != end) return MXRTC_ERR_MALFORMED;
    return MXRTC_OK;
}

static int token_is(const char *s, const char *end, const char *word) {
    size_t n = strlen(word);
    return (size_t)(end - s) == n && memcmp(s, word, n) == 0;
}

size_t mxrtc_i420_size(unsigned width, unsigned height) {
    if (width == 0 || height == 0 || width > MXRTC_Y4M_MAX_DIM || height > MXRTC_Y4M_MAX_DIM) return 0;
    size_t cw = (width + 1u) / 2u, ch = (height + 1u) / 2u;
    return (size_t)width * height + 2u * cw * ch;
}

/* Finds the '\n' ending a header line within the line bound. */
static int find_line(const uint8_t *buf, size_t len, size_t *line_len) {
    size_t lim = len < MXRTC_Y4M_MAX_LINE ? len : MXRTC_Y4M_MAX_LINE;
    const uint8_t *nl = memchr(buf, '\n', lim);
    if (!nl) return len < MXRTC_Y4M_MAX_LINE ? MXRTC_ERR_TRUNCATED : MXRTC_ERR_MALFORMED;
    *line_len = (size_t)(nl - buf);
    return MXRTC_OK;
}

int mxrtc_y4m_parse_header(const uint8_t *buf, size_t len, mxrtc_y4m_info *out) {
    if (!buf || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    size_t m = sizeof y4m_magic - 1;
    if (memcmp(buf, y4m_magic, len < m ? len : m) != 0) return MXRTC_ERR_MALFORMED;
    size_t line;
    int rc = find_line(buf, len, &line);
    if (rc != MXRTC_OK) return rc;
    if (line < m || (line > m && buf[m] != ' ')) return MXRTC_ERR_MALFORMED;
    const char *s = (const char *)buf + m, *end = (const char *)buf + line;
    int have_w = 0, have_h = 0;
    unsigned w = 0, h = 0, fn = 30, fd = 1, an = 0, ad = 0;
    while (s < end) {
        if (*s == ' ') { s++; continue; }
        const char *t = s;
        while (s < end && *s != ' ') s++;
        char tag = *t;
        const char *v = t + 1;
        if (v >= s && tag != 'X') return MXRTC_ERR_MALFORMED;   /* a tag needs a value */
        switch (tag) {
        case 'W':
        case 'H': {
            unsigned x;
            const char *q = v;
            if (parse_uint(&q, s, &x) != MXRTC_OK || q != s || x == 0) return MXRTC_ERR_MALFORMED;
            if (x > MXRTC_Y4M_MAX_DIM) return MXRTC_ERR_LIMIT;
            if (tag == 'W') { w = x; have_w = 1; } else { h = x; have_h = 1; }
            break;
        }
        case 'F':
            if (parse_ratio(v, s, &fn, &fd) != MXRTC_OK || fn == 0 || fd == 0) return MXRTC_ERR_MALFORMED;
            break;
        case 'A':
            if (parse_ratio(v, s, &an, &ad) != MXRTC_OK) return MXRTC_ERR_MALFORMED;
            break;
        case 'I':
            /* p: progressive; ?: unknown, taken as progressive. t, b, m: interlaced. */
            if (token_is(v, s, "p") || token_is(v, s, "?")) break;
            if (token_is(v, s, "t") || token_is(v, s, "b") || token_is(v, s, "m")) return MXRTC_ERR_UNSUPPORTED;
            return MXRTC_ERR_MALFORMED;
        case 'C':
            if (token_is(v, s, "420") || token_is(v, s, "420jpeg") || token_is(v, s, "420paldv") ||
                token_is(v, s, "420mpeg2"))
                break;
            return MXRTC_ERR_UNSUPPORTED;   /* 422, 444, mono, 420p10, ... */
        case 'X':
            break;                          /* application comments */
        default:
            return MXRTC_ERR_MALFORMED;
        }
    }
    if (!have_w || !have_h) return MXRTC_ERR_MALFORMED;
    out->width = w;
    out->height = h;
    out->fps_num = fn;
    out->fps_den = fd;
    out->par_num = an;
    out->par_den = ad;
    out->header_len = line + 1;
    out->frame_bytes = mxrtc_i420_size(w, h);
    return MXRTC_OK;
}

int mxrtc_y4m_parse_frame_header(const uint8_t *buf, size_t len, size_t *header_len) {
    if (!buf || !header_len) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t m = sizeof frame_magic - 1;
    if (memcmp(buf, frame_magic, len < m ? len : m) != 0) return MXRTC_ERR_MALFORMED;
    size_t line;
    int rc = find_line(buf, len, &line);
    if (rc != MXRTC_OK) return rc;
    if (line < m || (line > m && buf[m] != ' ')) return MXRTC_ERR_MALFORMED;
    *header_len = line + 1;
    return MXRTC_OK;
}

int mxrtc_y4m_write_header(char *out, size_t cap, unsigned width, unsigned height, unsigned fps_num,
                           unsigned fps_den) {
    if (!out || !mxrtc_i420_size(width, height) || fps_num == 0 || fps_den == 0) return MXRTC_ERR_INVALID_ARGUMENT;
    int n = snprintf(out, cap, "%s W%u H%u F%u:%u Ip A1:1 C420jpeg\n", y4m_magic, width, height, fps_num, fps_den);
    if (n < 0) return MXRTC_ERR_INTERNAL;
    if ((size_t)n >= cap) return MXRTC_ERR_BUFFER_TOO_SMALL;
    return n;
}

/* ---- files ---------------------------------------------------------------- */

/* Reads one header line (bounded) into line; *n gets its length with '\n'.
 * 0 bytes at end of file: *n = 0. */
static int read_line(FILE *f, uint8_t *line, size_t *n) {
    size_t i = 0;
    for (;;) {
        int c = fgetc(f);
        if (c == EOF) {
            if (ferror(f)) return MXRTC_ERR_IO;
            *n = i;
            return i == 0 ? MXRTC_OK : MXRTC_ERR_TRUNCATED;
        }
        if (i == MXRTC_Y4M_MAX_LINE) return MXRTC_ERR_MALFORMED;
        line[i++] = (uint8_t)c;
        if (c == '\n') { *n = i; return MXRTC_OK; }
    }
}

int mxrtc_y4m_reader_open(mxrtc_y4m_file *r, const char *path) {
    if (!r || !path) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "rb");
    if (!f) return MXRTC_ERR_IO;
    uint8_t line[MXRTC_Y4M_MAX_LINE];
    size_t n = 0;
    int rc = read_line(f, line, &n);
    if (rc == MXRTC_OK) rc = n == 0 ? MXRTC_ERR_TRUNCATED : mxrtc_y4m_parse_header(line, n, &r->info);
    if (rc != MXRTC_OK) { fclose(f); return rc; }
    r->f = f;
    return MXRTC_OK;
}

int mxrtc_y4m_reader_read(mxrtc_y4m_file *r, uint8_t *i420, size_t cap) {
    if (!r || !r->f || !i420) return MXRTC_ERR_INVALID_ARGUMENT;
    if (cap < r->info.frame_bytes) return MXRTC_ERR_BUFFER_TOO_SMALL;
    uint8_t line[MXRTC_Y4M_MAX_LINE];
    size_t n = 0, hl = 0;
    int rc = read_line(r->f, line, &n);
    if (rc != MXRTC_OK) return rc;
    if (n == 0) return 0;
    rc = mxrtc_y4m_parse_frame_header(line, n, &hl);
    if (rc != MXRTC_OK) return rc;
    size_t got = fread(i420, 1, r->info.frame_bytes, r->f);
    if (got < r->info.frame_bytes) return ferror(r->f) ? MXRTC_ERR_IO : MXRTC_ERR_TRUNCATED;
    return 1;
}

int mxrtc_y4m_writer_open(mxrtc_y4m_file *w, const char *path, unsigned width, unsigned height,
                          unsigned fps_num, unsigned fps_den) {
    if (!w || !path) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(w, 0, sizeof *w);
    char h[MXRTC_Y4M_MAX_LINE];
    int n = mxrtc_y4m_write_header(h, sizeof h, width, height, fps_num, fps_den);
    if (n < 0) return n;
    int rc = mxrtc_y4m_parse_header((const uint8_t *)h, (size_t)n, &w->info);
    if (rc != MXRTC_OK) return MXRTC_ERR_INTERNAL;
    FILE *f = fopen(path, "wb");
    if (!f) return MXRTC_ERR_IO;
    if (fwrite(h, 1, (size_t)n, f) != (size_t)n) { fclose(f); return MXRTC_ERR_IO; }
    w->f = f;
    return MXRTC_OK;
}

int mxrtc_y4m_writer_write(mxrtc_y4m_file *w, const uint8_t *i420) {
    if (!w || !w->f || !i420) return MXRTC_ERR_INVALID_ARGUMENT;
    if (fwrite("FRAME\n", 1, 6, w->f) != 6) return MXRTC_ERR_IO;
    if (fwrite(i420, 1, w->info.frame_bytes, w->f) != w->info.frame_bytes) return MXRTC_ERR_IO;
    return MXRTC_OK;
}

int mxrtc_y4m_close(mxrtc_y4m_file *f) {
    if (!f || !f->f) return MXRTC_ERR_INVALID_ARGUMENT;
    int rc = fclose(f->f) == 0 ? MXRTC_OK : MXRTC_ERR_IO;
    f->f = NULL;
    return rc;
}
