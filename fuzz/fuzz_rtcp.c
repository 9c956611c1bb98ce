/*
 * fuzz_rtcp.c: a compound RTCP packet walked packet by packet, each one
 * handed to every parser that matches its type (SR, RR, SDES, BYE, NACK
 * with expansion, PLI, FIR, REMB, TWCC); what parsed is rebuilt where the
 * builder can express it and parsed again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[70000];

static void twcc(const mxrtc_rtcp_header *h) {
    static mxrtc_twcc_packet pk[4096];
    mxrtc_twcc_feedback fb = {.packets = pk, .packet_cap = 4096};
    if (mxrtc_rtcp_parse_twcc(h, &fb) != MXRTC_OK) return;
    if (fb.packet_count != fb.status_count) abort();
    /* rebuild from the arrivals and compare the parsed result */
    static int64_t arr[4096];
    size_t received = 0;
    int64_t min = INT64_MAX;
    for (size_t i = 0; i < fb.packet_count; i++)
        if (pk[i].status && pk[i].arrival_us < min) min = pk[i].arrival_us;
    /* arrivals must be non-negative for the builder; shift them all */
    int64_t shift = min < 0 ? ((-min) / MXRTC_TWCC_REFTIME_US + 1) * MXRTC_TWCC_REFTIME_US : 0;
    for (size_t i = 0; i < fb.packet_count; i++) {
        arr[i] = pk[i].status ? pk[i].arrival_us + shift : -1;
        if (pk[i].status) received++;
    }
    if (!received) return;
    mxrtc_writer w;
    mxrtc_writer_init(&w, out, sizeof out);
    int rc = mxrtc_rtcp_write_twcc(&w, fb.sender_ssrc, fb.media_ssrc, fb.base_seq,
                                   fb.fb_pkt_count, arr, fb.packet_count);
    if (rc != MXRTC_OK) return;   /* LIMIT: a delta the first-packet reference can't reach */
    mxrtc_rtcp_iter it;
    mxrtc_rtcp_header h2;
    mxrtc_rtcp_iter_init(&it, out, w.pos);
    if (mxrtc_rtcp_next(&it, &h2) != 1) abort();
    static mxrtc_twcc_packet pk2[4096];
    mxrtc_twcc_feedback fb2 = {.packets = pk2, .packet_cap = 4096};
    if (mxrtc_rtcp_parse_twcc(&h2, &fb2) != MXRTC_OK) abort();
    if (fb2.packet_count != fb.packet_count || fb2.base_seq != fb.base_seq) abort();
    for (size_t i = 0; i < fb.packet_count; i++) {
        if ((pk2[i].status != 0) != (pk[i].status != 0)) abort();
        if (pk[i].status && pk2[i].arrival_us != arr[i]) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_rtcp_iter it;
    mxrtc_rtcp_header h;
    mxrtc_rtcp_iter_init(&it, data, size);
    int guard = 0;
    while (mxrtc_rtcp_next(&it, &h) == 1) {
        if (++guard > 20000) abort();   /* each packet is >= 4 bytes */
        if (h.raw < data || h.raw + h.raw_len > data + size) abort();
        mxrtc_writer w;
        mxrtc_writer_init(&w, out, sizeof out);
        switch (h.pt) {
        case MXRTC_RTCP_SR: {
            mxrtc_rtcp_sr sr;
            if (mxrtc_rtcp_parse_sr(&h, &sr) == MXRTC_OK && mxrtc_rtcp_write_sr(&w, &sr) != MXRTC_OK) abort();
            break;
        }
        case MXRTC_RTCP_RR: {
            mxrtc_rtcp_rr rr;
            if (mxrtc_rtcp_parse_rr(&h, &rr) == MXRTC_OK && mxrtc_rtcp_write_rr(&w, &rr) != MXRTC_OK) abort();
            break;
        }
        case MXRTC_RTCP_SDES: {
            mxrtc_rtcp_sdes s;
            if (mxrtc_rtcp_parse_sdes(&h, &s) == MXRTC_OK)
                for (unsigned i = 0; i < s.chunk_count; i++)
                    if (s.chunk[i].cname && s.chunk[i].cname_len)
                        (void)mxrtc_rtcp_write_sdes_cname(&w, s.chunk[i].ssrc,
                                                          (const char *)s.chunk[i].cname,
                                                          s.chunk[i].cname_len);
            break;
        }
        case MXRTC_RTCP_BYE: {
            mxrtc_rtcp_bye b;
            if (mxrtc_rtcp_parse_bye(&h, &b) == MXRTC_OK && b.ssrc_count)
                (void)mxrtc_rtcp_write_bye(&w, b.ssrc, b.ssrc_count, (const char *)b.reason, b.reason_len);
            break;
        }
        case MXRTC_RTCP_RTPFB:
            if (h.count == MXRTC_RTCP_FMT_NACK) {
                mxrtc_rtcp_nack n;
                if (mxrtc_rtcp_parse_nack(&h, &n) == MXRTC_OK) {
                    static uint16_t seqs[1024];
                    size_t count;
                    int rc = mxrtc_rtcp_nack_expand(&n, seqs, 1024, &count);
                    if (rc != MXRTC_OK && rc != MXRTC_ERR_LIMIT) abort();
                    if (count > 1024) abort();
                    if (count) (void)mxrtc_rtcp_write_nack(&w, n.sender_ssrc, n.media_ssrc, seqs, count);
                }
            } else if (h.count == MXRTC_RTCP_FMT_TWCC) {
                twcc(&h);
            }
            break;
        case MXRTC_RTCP_PSFB: {
            mxrtc_rtcp_pli pli;
            mxrtc_rtcp_fir fir;
            mxrtc_rtcp_remb remb;
            if (h.count == MXRTC_RTCP_FMT_PLI) (void)mxrtc_rtcp_parse_pli(&h, &pli);
            if (h.count == MXRTC_RTCP_FMT_FIR && mxrtc_rtcp_parse_fir(&h, &fir) == MXRTC_OK) {
                uint32_t ssrc; uint8_t nr;
                for (size_t i = 0; i < fir.entry_count; i++) mxrtc_rtcp_fir_entry(&fir, i, &ssrc, &nr);
            }
            if (h.count == MXRTC_RTCP_FMT_AFB && mxrtc_rtcp_parse_remb(&h, &remb) == MXRTC_OK &&
                remb.bitrate_bps != UINT64_MAX)
                (void)mxrtc_rtcp_write_remb(&w, &remb);
            break;
        }
        default:
            break;   /* APP and unknown types are skipped */
        }
    }
    return 0;
}
