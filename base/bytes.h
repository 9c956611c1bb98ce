/*
 * bytes.h: bounds-checked cursors over byte buffers, for every wire format.
 *
 * Received bytes are never cast to packed structs; they are read through a
 * mxrtc_reader. A read past the end does not touch memory: it returns zero
 * and sets the sticky `error` flag, so a parser may read a whole header and
 * check the flag once. mxrtc_writer works the same way for output buffers.
 * All multi-byte integers are network byte order (big-endian).
 */
#ifndef MXRTC_BASE_BYTES_H
#define MXRTC_BASE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct mxrtc_reader {
    const uint8_t *data;
    size_t len;
    size_t pos;
    bool error;          /* sticky: set by any read past the end */
} mxrtc_reader;

static inline void mxrtc_reader_init(mxrtc_reader *r, const uint8_t *data, size_t len) {
    r->data = data;
    r->len = data ? len : 0;
    r->pos = 0;
    r->error = false;
}

static inline size_t mxrtc_reader_remaining(const mxrtc_reader *r) {
    return r->error ? 0 : r->len - r->pos;
}

/* True (and the error flag set) if fewer than n bytes remain. */
static inline bool mxrtc_reader_short(mxrtc_reader *r, size_t n) {
    if (r->error || r->len - r->pos < n) {
        r->error = true;
        return true;
    }
    return false;
}

static inline uint8_t mxrtc_read_u8(mxrtc_reader *r) {
    if (mxrtc_reader_short(r, 1)) return 0;
    return r->data[r->pos++];
}

static inline uint16_t mxrtc_read_u16(mxrtc_reader *r) {
    if (mxrtc_reader_short(r, 2)) return 0;
    const uint8_t *p = r->data + r->pos;
    r->pos += 2;
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t mxrtc_read_u24(mxrtc_reader *r) {
    if (mxrtc_reader_short(r, 3)) return 0;
    const uint8_t *p = r->data + r->pos;
    r->pos += 3;
    return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

static inline uint32_t mxrtc_read_u32(mxrtc_reader *r) {
    if (mxrtc_reader_short(r, 4)) return 0;
    const uint8_t *p = r->data + r->pos;
    r->pos += 4;
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t mxrtc_read_u64(mxrtc_reader *r) {
    uint64_t hi = mxrtc_read_u32(r);
    uint64_t lo = mxrtc_read_u32(r);
    return (hi << 32) | lo;
}

/* Borrows n bytes in place; NULL (and error set) if they are not there. */
static inline const uint8_t *mxrtc_read_ptr(mxrtc_reader *r, size_t n) {
    if (mxrtc_reader_short(r, n)) return NULL;
    const uint8_t *p = r->data + r->pos;
    r->pos += n;
    return p;
}

/* Copies n bytes into out; on a short read out is zero-filled. */
static inline void mxrtc_read_bytes(mxrtc_reader *r, uint8_t *out, size_t n) {
    const uint8_t *p = mxrtc_read_ptr(r, n);
    if (p) memcpy(out, p, n);
    else if (n) memset(out, 0, n);
}

static inline void mxrtc_read_skip(mxrtc_reader *r, size_t n) {
    (void)mxrtc_read_ptr(r, n);
}

/* A sub-reader over the next n bytes; the parent advances past them. */
static inline mxrtc_reader mxrtc_read_sub(mxrtc_reader *r, size_t n) {
    mxrtc_reader sub;
    const uint8_t *p = mxrtc_read_ptr(r, n);
    mxrtc_reader_init(&sub, p, p ? n : 0);
    sub.error = (p == NULL);
    return sub;
}

typedef struct mxrtc_writer {
    uint8_t *data;
    size_t cap;
    size_t pos;
    bool error;          /* sticky: set by any write past cap */
} mxrtc_writer;

static inline void mxrtc_writer_init(mxrtc_writer *w, uint8_t *data, size_t cap) {
    w->data = data;
    w->cap = data ? cap : 0;
    w->pos = 0;
    w->error = false;
}

/* Reserves n bytes and returns where to write them, or NULL (error set). */
static inline uint8_t *mxrtc_write_reserve(mxrtc_writer *w, size_t n) {
    if (w->error || w->cap - w->pos < n) {
        w->error = true;
        return NULL;
    }
    uint8_t *p = w->data + w->pos;
    w->pos += n;
    return p;
}

static inline void mxrtc_write_u8(mxrtc_writer *w, uint8_t v) {
    uint8_t *p = mxrtc_write_reserve(w, 1);
    if (p) p[0] = v;
}

static inline void mxrtc_write_u16(mxrtc_writer *w, uint16_t v) {
    uint8_t *p = mxrtc_write_reserve(w, 2);
    if (p) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
}

static inline void mxrtc_write_u24(mxrtc_writer *w, uint32_t v) {
    uint8_t *p = mxrtc_write_reserve(w, 3);
    if (p) { p[0] = (uint8_t)(v >> 16); p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)v; }
}

static inline void mxrtc_write_u32(mxrtc_writer *w, uint32_t v) {
    uint8_t *p = mxrtc_write_reserve(w, 4);
    if (p) {
        p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
        p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
    }
}

static inline void mxrtc_write_u64(mxrtc_writer *w, uint64_t v) {
    mxrtc_write_u32(w, (uint32_t)(v >> 32));
    mxrtc_write_u32(w, (uint32_t)v);
}

static inline void mxrtc_write_bytes(mxrtc_writer *w, const void *src, size_t n) {
    uint8_t *p = mxrtc_write_reserve(w, n);
    if (p && n) memcpy(p, src, n);
}

static inline void mxrtc_write_zeros(mxrtc_writer *w, size_t n) {
    uint8_t *p = mxrtc_write_reserve(w, n);
    if (p && n) memset(p, 0, n);
}

/* Big-endian stores and loads on memory the caller has already bounds-checked
 * (for patching a length field written earlier). */
static inline void mxrtc_store_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v;
}
static inline void mxrtc_store_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);  p[3] = (uint8_t)v;
}
static inline uint16_t mxrtc_load_u16(const uint8_t *p) {
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t mxrtc_load_u32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

#endif /* MXRTC_BASE_BYTES_H */
