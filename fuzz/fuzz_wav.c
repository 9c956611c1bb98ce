/*
 * fuzz_wav: the RIFF/WAVE header parser of tools/media (what `mxrtc peer`
 * reads with --audio-file) on arbitrary bytes. Seeds: files written by
 * mxrtc_wav_writer (mono, stereo), an extensible-format header, extra chunks.
 *
 * Links libmxrtc_media (fuzz/CMakeLists.txt, and LINK in tests/tools).
 */
#include <stdlib.h>

#include "tools/media/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_wav_info info;
    if (mxrtc_wav_parse(data, size, &info) != MXRTC_OK) return 0;
    /* Everything the parser says is present must be readable. */
    if (info.data_offset > size || info.data_avail > size - info.data_offset) abort();
    volatile uint32_t sum = 0;
    for (size_t i = 0; i < info.data_avail; i++) sum += data[info.data_offset + i];
    (void)sum;
    return 0;
}
