/*
 * fuzz_vp8_decode: random frame sequences into the VP8 decoder wrapper (see
 * fuzz_video_decode.h). Seeds: real VP8 frames written by tests/codecs
 * (MXRTC_WRITE_SEEDS).
 */
#include "fuzz_video_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_video_decode(MXRTC_CODEC_VP8, data, size);
}
