/*
 * fuzz_rtp_packet.c: RTP header and RFC 8285 extension parsing, the typed
 * extension getters, and a write-back round trip of whatever parsed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    (void)mxrtc_rtp_is_rtcp(data, size);
    mxrtc_rtp_packet p;
    if (mxrtc_rtp_parse(&p, data, size) != MXRTC_OK) return 0;
    if (p.header_len + p.payload_len + p.padding_len != size) abort();

    /* ids as WebRTC commonly negotiates them, and every id in turn */
    mxrtc_rtp_ext_map m = {.mid = 9, .audio_level = 1, .abs_send_time = 3, .twcc = 5};
    char mid[MXRTC_RTP_MID_MAX + 1];
    bool v; uint8_t lvl; uint32_t ast; uint16_t tw;
    for (unsigned id = 1; id < 256; id++) {
        if (id > 1 && !mxrtc_rtp_find_ext(&p, (uint8_t)id)) continue;
        if (id > 1) m = (mxrtc_rtp_ext_map){(uint8_t)id, (uint8_t)id, (uint8_t)id, (uint8_t)id};
        (void)mxrtc_rtp_get_mid(&p, &m, mid, sizeof mid);
        (void)mxrtc_rtp_get_audio_level(&p, &m, &v, &lvl);
        (void)mxrtc_rtp_get_abs_send_time(&p, &m, &ast);
        (void)mxrtc_rtp_get_twcc_seq(&p, &m, &tw);
    }

    /* RTX round trip (RFC 4588 §4): encapsulate, parse, decapsulate. */
    static uint8_t rtx[70000];
    int rn = mxrtc_rtx_encapsulate(data, size, 0x5555, 97, 1, rtx, sizeof rtx);
    if (rn > 0) {
        mxrtc_rtp_packet r, o;
        if (mxrtc_rtp_parse(&r, rtx, (size_t)rn) != MXRTC_OK) abort();
        int rc = mxrtc_rtx_decapsulate(&r, p.ssrc, p.pt, &o);
        if (rc != MXRTC_OK) abort();
        if (o.seq != p.seq || o.payload_len != p.payload_len || o.ts != p.ts) abort();
        if (p.payload_len && memcmp(o.payload, p.payload, p.payload_len) != 0) abort();
    }

    /* Writing back what parsed must succeed and parse to the same fields
     * (the form may change: padding between elements is not kept). */
    static uint8_t out[70000];
    int n = mxrtc_rtp_write(&p, out, sizeof out);
    if (n < 0) return 0;   /* e.g. a two-byte element with id 0 cannot occur; others fine */
    mxrtc_rtp_packet q;
    if (mxrtc_rtp_parse(&q, out, (size_t)n) != MXRTC_OK) abort();
    if (q.seq != p.seq || q.ts != p.ts || q.ssrc != p.ssrc || q.pt != p.pt ||
        q.marker != p.marker || q.csrc_count != p.csrc_count || q.ext_count != p.ext_count ||
        q.payload_len != p.payload_len || q.padding_len != p.padding_len)
        abort();
    if (p.payload_len && memcmp(q.payload, p.payload, p.payload_len) != 0) abort();
    for (unsigned i = 0; i < p.ext_count; i++)
        if (q.ext[i].id != p.ext[i].id || q.ext[i].len != p.ext[i].len ||
            (p.ext[i].len && memcmp(q.ext[i].data, p.ext[i].data, p.ext[i].len) != 0))
            abort();
    return 0;
}
