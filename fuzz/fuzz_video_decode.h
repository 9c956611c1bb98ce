/*
 * fuzz_video_decode.h: the body shared by fuzz_vp8_decode and
 * fuzz_vp9_decode: random frame sequences into one video decoder wrapper.
 *
 * Input: a sequence of [u16 big-endian length][frame bytes]; a length beyond
 * the end takes what is left. Each frame goes to one decoder in turn, so
 * inter frames meet a real reference state. Every picture that comes out is
 * read at its four corners and along its edges per plane, so ASan checks
 * that the borrowed planes really span the size the wrapper reports.
 * libvpx itself is not instrumented here; the targets prove that what it
 * accepts or rejects never makes the wrapper misbehave.
 */
#ifndef MXRTC_FUZZ_VIDEO_DECODE_H
#define MXRTC_FUZZ_VIDEO_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/bytes.h"
#include "codecs/codec.h"

static volatile unsigned sink;

static void touch_plane(const uint8_t *p, int stride, int w, int h) {
    unsigned acc = 0;
    for (int r = 0; r < h; r++) {
        acc += p[(size_t)r * (size_t)stride];
        acc += p[(size_t)r * (size_t)stride + (size_t)w - 1];
    }
    sink += acc;
}

/* A build without the codec has nothing to fuzz: 0 at once. */
static int fuzz_video_decode(mxrtc_codec_id codec, const uint8_t *data, size_t size) {
    mxrtc_video_decoder *d = NULL;
    if (mxrtc_video_decoder_new(&d, codec, NULL, NULL) != MXRTC_OK) return 0;
    mxrtc_reader r;
    mxrtc_reader_init(&r, data, size);
    for (int frames = 0; frames < 64 && mxrtc_reader_remaining(&r) >= 2; frames++) {
        size_t len = mxrtc_read_u16(&r);
        if (len > mxrtc_reader_remaining(&r)) len = mxrtc_reader_remaining(&r);
        const uint8_t *frame = mxrtc_read_ptr(&r, len);
        mxrtc_i420 pic;
        int got = 0;
        int rc = mxrtc_video_decode(d, frame, len, (mxrtc_time_us)frames, &pic, &got);
        if (rc == MXRTC_OK && got) {
            int cw = (pic.width + 1) / 2, ch = (pic.height + 1) / 2;
            touch_plane(pic.y, pic.stride_y, pic.width, pic.height);
            touch_plane(pic.u, pic.stride_u, cw, ch);
            touch_plane(pic.v, pic.stride_v, cw, ch);
        } else if (got) {
            abort();   /* a picture must only come with MXRTC_OK */
        }
        if (rc != MXRTC_OK && !mxrtc_video_decoder_needs_keyframe(d)) abort();
    }
    mxrtc_video_decoder_free(d);
    return 0;
}

#endif
