/*
 * fuzz_vp9_depacketizer.c: a stream of RTP packets into the VP9 descriptor
 * parser (RFC 9628 §4.2, with the scalability structure) and the frame
 * assembler. Input: packets each preceded by a 2-byte big-endian length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t buf[16384];
    mxrtc_frame_assembler a;
    mxrtc_frame_assembler_init(&a, buf, sizeof buf);
    mxrtc_reader r;
    mxrtc_reader_init(&r, data, size);
    while (mxrtc_reader_remaining(&r) >= 2) {
        uint16_t n = mxrtc_read_u16(&r);
        const uint8_t *p = mxrtc_read_ptr(&r, n);
        if (!p) break;
        mxrtc_vp9_descriptor d;
        if (mxrtc_vp9_parse_descriptor(p, n, &d) == MXRTC_OK) {
            if (d.descriptor_len + d.payload_len != n || d.p_diff_count > 3 ||
                d.ss_spatial_layers > MXRTC_VP9_MAX_SPATIAL)
                abort();
        }
        mxrtc_rtp_packet pkt;
        if (mxrtc_rtp_parse(&pkt, p, n) != MXRTC_OK) continue;
        mxrtc_video_frame f;
        if (mxrtc_vp9_assembler_push(&a, &pkt, &f) == MXRTC_OK &&
            (f.data != buf || f.len > sizeof buf || f.len == 0))
            abort();
    }
    if (a.len > sizeof buf) abort();
    return 0;
}
