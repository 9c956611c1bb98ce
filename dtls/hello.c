/*
 * hello.c: reassembly of a fragmented ClientHello before mbedTLS sees it.
 *
 * RFC 6347 §4.2.3 lets any handshake message be split into fragments, each
 * with its own record. Chrome and Firefox (post-quantum key shares, ~1.4 KB)
 * and GStreamer's webrtcbin (small MTU) all split their ClientHello.
 * mbedTLS 2.28 as a server parses the first ClientHello straight from the
 * record layer and rejects any fragment ("ClientHello fragmentation not
 * supported"), so a server endpoint collects the fragments here and hands
 * mbedTLS one record with the whole message (fragment_offset 0,
 * fragment_length = length), which it accepts.
 */
#include <string.h>

#include "base/bytes.h"
#include "dtls/dtls.h"

/* RFC 6347 §4.1 content type and RFC 5246 §7.4 handshake type. */
#define CT_HANDSHAKE 22
#define HT_CLIENT_HELLO 1

void mxrtc_dtls_hello_init(mxrtc_dtls_hello *h) {
    h->length = 0;
    h->received = 0;
    h->fragments = 0;
    h->have_length = 0;
    h->record_version = 0;
    h->record_seq = 0;
    memset(h->seen, 0, sizeof h->seen);
}

/* Marks [off, off+n) as received; returns how many bytes were new. */
static uint32_t mark(mxrtc_dtls_hello *h, uint32_t off, uint32_t n) {
    uint32_t fresh = 0;
    for (uint32_t i = off; i < off + n; i++) {
        uint8_t bit = (uint8_t)(1u << (i & 7));
        if (!(h->seen[i >> 3] & bit)) {
            h->seen[i >> 3] |= bit;
            fresh++;
        }
    }
    return fresh;
}

/* One handshake fragment (header already read). 0 if used, else an error. */
static int take_fragment(mxrtc_dtls_hello *h, uint32_t length, uint32_t off, uint32_t flen,
                         const uint8_t *body) {
    if (length > MXRTC_DTLS_HELLO_MAX) return MXRTC_ERR_LIMIT;
    /* A ClientHello has at least version, random and four length fields. */
    if (length < 2 + 32 + 1 + 1 + 2 + 1) return MXRTC_ERR_MALFORMED;
    if (off > length || flen > length - off) return MXRTC_ERR_MALFORMED;
    if (h->have_length && length != h->length) {
        /* A new ClientHello of another length (a client restart): start over
         * rather than merge two messages. */
        mxrtc_dtls_hello_init(h);
    }
    if (!h->have_length) {
        h->have_length = 1;
        h->length = length;
    }
    if (flen == 0) return MXRTC_OK;
    h->fragments++;
    /* Overlaps are allowed (retransmissions with another MTU); the newest
     * bytes win, which only matters for a broken peer. */
    memcpy(h->body + off, body, flen);
    h->received += mark(h, off, flen);
    return MXRTC_OK;
}

static void put_u16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put_u24(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 16); put_u16(p + 1, v); }

static size_t build(mxrtc_dtls_hello *h) {
    uint8_t *o = h->out;
    uint32_t hs_len = MXRTC_DTLS_HANDSHAKE_HEADER + h->length;
    /* RFC 6347 §4.1 record header. */
    o[0] = CT_HANDSHAKE;
    put_u16(o + 1, h->record_version);
    put_u16(o + 3, 0); /* epoch 0 */
    for (int i = 0; i < 6; i++) o[5 + i] = (uint8_t)(h->record_seq >> (8 * (5 - i)));
    put_u16(o + 11, hs_len);
    /* RFC 6347 §4.2.2 handshake header: one unfragmented message. */
    uint8_t *m = o + MXRTC_DTLS_RECORD_HEADER;
    m[0] = HT_CLIENT_HELLO;
    put_u24(m + 1, h->length);
    put_u16(m + 4, 0); /* message_seq 0: the first ClientHello (no cookie exchange) */
    put_u24(m + 6, 0);
    put_u24(m + 9, h->length);
    memcpy(m + MXRTC_DTLS_HANDSHAKE_HEADER, h->body, h->length);
    return MXRTC_DTLS_RECORD_HEADER + hs_len;
}

int mxrtc_dtls_hello_feed(mxrtc_dtls_hello *h, const uint8_t *data, size_t len,
                          const uint8_t **out, size_t *out_len) {
    if (!h || !out || !out_len) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    *out_len = 0;
    mxrtc_reader dg;
    mxrtc_reader_init(&dg, data, len);
    int used = 0, err = MXRTC_ERR_MALFORMED;
    /* A datagram may carry several records (RFC 6347 §4.1.1). */
    while (mxrtc_reader_remaining(&dg) > 0) {
        uint8_t type = mxrtc_read_u8(&dg);
        uint16_t version = mxrtc_read_u16(&dg);
        uint16_t epoch = mxrtc_read_u16(&dg);
        uint64_t seq = (uint64_t)mxrtc_read_u16(&dg) << 32;
        seq |= mxrtc_read_u32(&dg);
        uint16_t rlen = mxrtc_read_u16(&dg);
        const uint8_t *payload = mxrtc_read_ptr(&dg, rlen);
        if (dg.error) break; /* a truncated record ends the datagram */
        /* DTLS versions are 0xfeXX (1.0 = feff, 1.2 = fefd). */
        if (type != CT_HANDSHAKE || epoch != 0 || (version >> 8) != 0xfe) continue;
        mxrtc_reader rec;
        mxrtc_reader_init(&rec, payload, rlen);
        while (mxrtc_reader_remaining(&rec) > 0) {
            uint8_t msg_type = mxrtc_read_u8(&rec);
            uint32_t length = mxrtc_read_u24(&rec);
            uint16_t msg_seq = mxrtc_read_u16(&rec);
            uint32_t off = mxrtc_read_u24(&rec);
            uint32_t flen = mxrtc_read_u24(&rec);
            const uint8_t *body = mxrtc_read_ptr(&rec, flen);
            if (rec.error) break;
            if (msg_type != HT_CLIENT_HELLO || msg_seq != 0) continue;
            int r = take_fragment(h, length, off, flen, body);
            if (r != MXRTC_OK) {
                err = r;
                continue;
            }
            used = 1;
            if (seq >= h->record_seq) h->record_seq = seq;
            /* The record version of a ClientHello is usually DTLS 1.0 (feff)
             * for compatibility; keep what the client used. */
            h->record_version = version;
        }
    }
    if (!used) return err;
    if (!h->have_length || h->received < h->length) return MXRTC_ERR_AGAIN;
    *out_len = build(h);
    *out = h->out;
    return MXRTC_OK;
}
