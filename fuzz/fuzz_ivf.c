/*
 * fuzz_ivf: the IVF file and frame header parsers of tools/media on
 * arbitrary bytes, walking the frames of an in-memory file as `mxrtc peer`
 * does with --video-file x.ivf. Seeds: files written by mxrtc_ivf_writer
 * (VP8 and VP9 headers, several frames).
 *
 * Links libmxrtc_media (fuzz/CMakeLists.txt, and LINK in tests/tools).
 */
#include <stdlib.h>

#include "tools/media/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_ivf_info info;
    if (mxrtc_ivf_parse_header(data, size, &info) != MXRTC_OK) return 0;
    size_t off = MXRTC_IVF_HEADER_LEN;
    volatile uint32_t sum = 0;
    for (unsigned n = 0; n < 1024 && off < size; n++) {
        uint32_t len;
        uint64_t pts;
        if (mxrtc_ivf_parse_frame_header(data + off, size - off, &len, &pts) != MXRTC_OK) break;
        if (len == 0 || len > MXRTC_IVF_MAX_FRAME) abort();
        off += MXRTC_IVF_FRAME_HEADER_LEN;
        if (size - off < len) break;
        sum += data[off] + data[off + len - 1];
        off += len;
    }
    (void)sum;
    return 0;
}
