/*
 * turn_framing.c: ChannelData encode/decode (RFC 8656 §12.4-12.5) and the
 * stream framer for TURN over TCP/TLS (RFC 8656 §3.1).
 */
#include "stun/turn_framing.h"

#include <string.h>

#include "base/bytes.h"

/* RFC 8489 §5: fixed header of 20 bytes, magic cookie at bytes 4-7. */
#define STUN_HEADER 20
#define STUN_MAGIC_COOKIE 0x2112A442u

/* RFC 8656 §12.5: over stream transports the ChannelData message is padded
 * to a multiple of four bytes. */
static size_t pad4(size_t n) {
    return (4 - (n & 3)) & 3;
}

int mxrtc_channeldata_encode(uint16_t channel, const uint8_t *data, size_t len, int pad_to_4,
                             uint8_t *out, size_t cap) {
    if (channel < MXRTC_TURN_CHANNEL_MIN || channel > MXRTC_TURN_CHANNEL_MAX)
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (len > 0xFFFF || (len && !data) || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t pad = pad_to_4 ? pad4(len) : 0;
    size_t total = MXRTC_CHANNELDATA_HEADER + len + pad;
    if (cap < total) return MXRTC_ERR_BUFFER_TOO_SMALL;
    mxrtc_writer w;
    mxrtc_writer_init(&w, out, cap);
    mxrtc_write_u16(&w, channel);
    mxrtc_write_u16(&w, (uint16_t)len);
    mxrtc_write_bytes(&w, data, len);
    mxrtc_write_zeros(&w, pad);
    if (w.error) return MXRTC_ERR_INTERNAL;  /* cap was checked above */
    return (int)total;
}

int mxrtc_channeldata_decode(const uint8_t *buf, size_t len, uint16_t *channel,
                             const uint8_t **data, size_t *data_len) {
    if (!buf || !channel || !data || !data_len) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_reader r;
    mxrtc_reader_init(&r, buf, len);
    uint16_t ch = mxrtc_read_u16(&r);
    uint16_t dlen = mxrtc_read_u16(&r);
    if (r.error) {
        /* Even a short datagram that is not ChannelData says so. */
        if (len >= 1 && (buf[0] & 0xC0) != 0x40) return MXRTC_ERR_MALFORMED;
        return MXRTC_ERR_TRUNCATED;
    }
    if ((ch & 0xC000) != 0x4000) return MXRTC_ERR_MALFORMED;
    /* 0x5000-0x7FFF are reserved (RFC 8656 §12). */
    if (ch < MXRTC_TURN_CHANNEL_MIN || ch > MXRTC_TURN_CHANNEL_MAX) return MXRTC_ERR_MALFORMED;
    const uint8_t *p = mxrtc_read_ptr(&r, dlen);
    if (!p) return MXRTC_ERR_TRUNCATED;
    /* Over UDP the padding MAY be present (§12.5); anything beyond it is not
     * part of one ChannelData message. */
    if (mxrtc_reader_remaining(&r) > pad4(dlen)) return MXRTC_ERR_MALFORMED;
    *channel = ch;
    *data = p;
    *data_len = dlen;
    return MXRTC_OK;
}

void mxrtc_stream_framer_init(mxrtc_stream_framer *f) {
    if (!f) return;
    f->len = 0;
    f->consumed = 0;
    f->broken = 0;
}

size_t mxrtc_stream_framer_push(mxrtc_stream_framer *f, const uint8_t *data, size_t len) {
    if (!f || !data || len == 0) return 0;
    if (f->broken) return len;   /* the connection is to be closed: discard */
    if (f->consumed == f->len) {
        f->len = 0;
        f->consumed = 0;
    }
    size_t space = sizeof f->buf - f->len;
    if (space < len && f->consumed > 0) {
        /* Move the unread tail to the front. Only done when short of space,
         * so a stream of small frames does not memmove on every push. */
        memmove(f->buf, f->buf + f->consumed, f->len - f->consumed);
        f->len -= f->consumed;
        f->consumed = 0;
        space = sizeof f->buf - f->len;
    }
    size_t take = len < space ? len : space;
    memcpy(f->buf + f->len, data, take);
    f->len += take;
    return take;
}

int mxrtc_stream_framer_next(mxrtc_stream_framer *f, const uint8_t **frame, size_t *frame_len,
                             int *is_channeldata) {
    if (!f || !frame || !frame_len || !is_channeldata) return MXRTC_ERR_INVALID_ARGUMENT;
    if (f->broken) return MXRTC_ERR_MALFORMED;
    const uint8_t *p = f->buf + f->consumed;
    size_t avail = f->len - f->consumed;
    if (avail == 0) return MXRTC_ERR_AGAIN;

    /* Check the first byte as soon as it arrives: a desynchronised stream is
     * reported at once rather than after waiting for a bogus length. */
    uint8_t kind = p[0] & 0xC0;
    if (kind != 0x00 && kind != 0x40) {
        f->broken = 1;
        return MXRTC_ERR_MALFORMED;
    }
    if (kind == 0x40) {
        if (avail < MXRTC_CHANNELDATA_HEADER) return MXRTC_ERR_AGAIN;
        size_t dlen = mxrtc_load_u16(p + 2);
        size_t body = MXRTC_CHANNELDATA_HEADER + dlen;
        size_t total = body + pad4(dlen);
        if (avail < total) return MXRTC_ERR_AGAIN;
        *frame = p;
        *frame_len = body;
        *is_channeldata = 1;
        f->consumed += total;
        return MXRTC_OK;
    }
    if (avail < 4) return MXRTC_ERR_AGAIN;
    size_t mlen = mxrtc_load_u16(p + 2);
    /* RFC 8489 §5: the message length is a multiple of 4 (attributes are
     * padded); anything else means we lost the frame boundary. */
    if (mlen & 3) {
        f->broken = 1;
        return MXRTC_ERR_MALFORMED;
    }
    if (avail < 8) return MXRTC_ERR_AGAIN;
    if (mxrtc_load_u32(p + 4) != STUN_MAGIC_COOKIE) {
        f->broken = 1;
        return MXRTC_ERR_MALFORMED;
    }
    size_t total = STUN_HEADER + mlen;
    if (avail < total) return MXRTC_ERR_AGAIN;
    *frame = p;
    *frame_len = total;
    *is_channeldata = 0;
    f->consumed += total;
    return MXRTC_OK;
}
