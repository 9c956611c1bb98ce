/*
 * fuzz_vp9_decode: random frame sequences into the VP9 decoder wrapper (see
 * fuzz_video_decode.h). Seeds: real VP9 frames written by tests/codecs
 * (MXRTC_WRITE_SEEDS).
 */
#include "fuzz_video_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_video_decode(MXRTC_CODEC_VP9, data, size);
}
