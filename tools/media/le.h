/*
 * le.h: little-endian fields (RIFF, IVF) read through the bounds-checked
 * mxrtc_reader of base/bytes.h, which itself only knows network order.
 * Private to tools/media.
 */
#ifndef MXRTC_TOOLS_MEDIA_LE_H
#define MXRTC_TOOLS_MEDIA_LE_H

#include "base/bytes.h"

static inline uint16_t media_le16(mxrtc_reader *r) {
    const uint8_t *p = mxrtc_read_ptr(r, 2);
    return p ? (uint16_t)(p[0] | (p[1] << 8)) : 0;
}

static inline uint32_t media_le32(mxrtc_reader *r) {
    const uint8_t *p = mxrtc_read_ptr(r, 4);
    return p ? (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24) : 0;
}

static inline uint64_t media_le64(mxrtc_reader *r) {
    uint64_t lo = media_le32(r);
    uint64_t hi = media_le32(r);
    return lo | (hi << 32);
}

static inline void media_put_le16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void media_put_le32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void media_put_le64(uint8_t *p, uint64_t v) {
    media_put_le32(p, (uint32_t)v);
    media_put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
