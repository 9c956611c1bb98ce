/*
 * fuzz_vp8_depacketizer.c: a stream of RTP packets into the VP8 descriptor
 * parser and the frame assembler. Input: packets each preceded by a 2-byte
 * big-endian length.
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
    uint64_t pushed = 0;
    while (mxrtc_reader_remaining(&r) >= 2) {
        uint16_t n = mxrtc_read_u16(&r);
        const uint8_t *p = mxrtc_read_ptr(&r, n);
        if (!p) break;
        mxrtc_vp8_descriptor d;
        (void)mxrtc_vp8_parse_descriptor(p, n, &d);
        mxrtc_rtp_packet pkt;
        if (mxrtc_rtp_parse(&pkt, p, n) != MXRTC_OK) continue;
        mxrtc_video_frame f;
        int rc = mxrtc_vp8_assembler_push(&a, &pkt, &f);
        pushed++;
        if (rc == MXRTC_OK) {
            if (f.data != buf || f.len > sizeof buf || f.len == 0) abort();
            if (f.keyframe && (f.len < 10 || f.data[3] != 0x9d)) abort();
        }
    }
    if (a.len > sizeof buf) abort();
    if (a.frames_complete > pushed) abort();
    return 0;
}
