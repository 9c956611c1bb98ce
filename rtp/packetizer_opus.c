/*
 * packetizer_opus.c: Opus over RTP (RFC 7587): one Opus packet per RTP
 * payload (§4.2), 48 kHz RTP clock whatever the coded bandwidth (§4.1).
 * Received payloads are checked against the Opus framing rules of RFC 6716
 * §3.2-3.4 so that a decoder only ever sees well-framed packets.
 */
#include "rtp/rtp.h"

#define OPUS_MAX_FRAME 1275          /* RFC 6716 §3.2.1, R2 */
#define OPUS_MAX_SAMPLES 5760        /* 120 ms at 48 kHz, R5 */

/* 48 kHz samples per frame for each TOC configuration (RFC 6716 §3.1, Table 2). */
static int frame_samples(uint8_t toc) {
    unsigned config = toc >> 3;
    if (config < 12) {                               /* SILK-only: 10/20/40/60 ms */
        static const int d[4] = {480, 960, 1920, 2880};
        return d[config & 3];
    }
    if (config < 16) return (config & 1) ? 960 : 480; /* Hybrid: 10/20 ms */
    static const int c[4] = {120, 240, 480, 960};      /* CELT-only: 2.5/5/10/20 ms */
    return c[config & 3];
}

/* RFC 6716 §3.2.1: a frame length in one or two bytes. */
static int read_len(mxrtc_reader *r, size_t *len) {
    uint8_t b = mxrtc_read_u8(r);
    if (r->error) return MXRTC_ERR_TRUNCATED;
    if (b < 252) {
        *len = b;
        return MXRTC_OK;
    }
    uint8_t b2 = mxrtc_read_u8(r);
    if (r->error) return MXRTC_ERR_TRUNCATED;
    *len = (size_t)b2 * 4 + b;
    return MXRTC_OK;
}

int mxrtc_opus_packet_samples(const uint8_t *data, size_t len) {
    if (!data || len == 0) return MXRTC_ERR_TRUNCATED;   /* R1: at least the TOC */
    mxrtc_reader r;
    mxrtc_reader_init(&r, data, len);
    uint8_t toc = mxrtc_read_u8(&r);
    int per = frame_samples(toc);
    size_t rest = len - 1;
    switch (toc & 3) {
    case 0:                                          /* one frame */
        if (rest > OPUS_MAX_FRAME) return MXRTC_ERR_MALFORMED;
        return per;
    case 1:                                          /* two equal frames, R3 */
        if (rest % 2 || rest / 2 > OPUS_MAX_FRAME) return MXRTC_ERR_MALFORMED;
        return 2 * per;
    case 2: {                                        /* two frames, R4 */
        size_t n1;
        int rc = read_len(&r, &n1);
        if (rc) return rc;
        size_t left = mxrtc_reader_remaining(&r);
        if (n1 > left) return MXRTC_ERR_TRUNCATED;
        if (n1 > OPUS_MAX_FRAME || left - n1 > OPUS_MAX_FRAME) return MXRTC_ERR_MALFORMED;
        return 2 * per;
    }
    default: {                                       /* code 3: M frames, §3.2.5 */
        uint8_t fc = mxrtc_read_u8(&r);
        if (r.error) return MXRTC_ERR_TRUNCATED;
        bool vbr = (fc & 0x80) != 0, padded = (fc & 0x40) != 0;
        unsigned m = fc & 0x3f;
        if (m == 0 || (int)m * per > OPUS_MAX_SAMPLES) return MXRTC_ERR_MALFORMED; /* R5 */
        size_t pad = 0;
        if (padded) {
            /* Each 255 adds 254 and continues (R6/R7). */
            for (;;) {
                uint8_t p = mxrtc_read_u8(&r);
                if (r.error) return MXRTC_ERR_TRUNCATED;
                pad += p == 255 ? 254 : p;
                if (p != 255) break;
            }
        }
        if (pad > mxrtc_reader_remaining(&r)) return MXRTC_ERR_TRUNCATED;
        size_t end = len - pad;          /* frame data ends where padding starts */
        if (vbr) {
            size_t used = 0;
            for (unsigned i = 0; i + 1 < m; i++) {
                size_t n;
                int rc = read_len(&r, &n);
                if (rc) return rc;
                if (n > OPUS_MAX_FRAME) return MXRTC_ERR_MALFORMED;
                used += n;
            }
            if (r.pos > end || used > end - r.pos) return MXRTC_ERR_TRUNCATED;
            if (end - r.pos - used > OPUS_MAX_FRAME) return MXRTC_ERR_MALFORMED;
        } else {
            size_t data_len = end - r.pos;
            if (data_len % m || data_len / m > OPUS_MAX_FRAME) return MXRTC_ERR_MALFORMED;
        }
        return (int)m * per;
    }
    }
}

int mxrtc_opus_packetize(const mxrtc_rtp_packet *hdr, const uint8_t *frame, size_t frame_len,
                         size_t mtu, uint8_t *buf, size_t cap) {
    if (!hdr || !buf) return MXRTC_ERR_INVALID_ARGUMENT;
    int s = mxrtc_opus_packet_samples(frame, frame_len);
    if (s < 0) return s;
    int h = mxrtc_rtp_write_header(hdr, buf, cap);
    if (h < 0) return h;
    if ((size_t)h + frame_len > mtu) return MXRTC_ERR_LIMIT;
    if ((size_t)h + frame_len > cap) return MXRTC_ERR_BUFFER_TOO_SMALL;
    memcpy(buf + h, frame, frame_len);
    return h + (int)frame_len;
}

int mxrtc_opus_depacketize(const uint8_t *payload, size_t len, mxrtc_opus_payload *out) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    int s = mxrtc_opus_packet_samples(payload, len);
    if (s < 0) return s;
    out->data = payload;
    out->len = len;
    out->samples = s;
    return MXRTC_OK;
}
