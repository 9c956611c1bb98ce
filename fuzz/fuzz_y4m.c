/*
 * fuzz_y4m: the YUV4MPEG2 stream and frame header parsers of tools/media on
 * arbitrary bytes, walking the frames of an in-memory stream and averaging
 * each one's colour as `mxrtc peer` does for its result line. Seeds: streams
 * written by mxrtc_y4m_writer (solid and moving patterns, odd sizes) and
 * headers with every tag.
 *
 * Links libmxrtc_media (fuzz/CMakeLists.txt, and LINK in tests/tools).
 */
#include <stdlib.h>

#include "tools/media/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_y4m_info info;
    if (mxrtc_y4m_parse_header(data, size, &info) != MXRTC_OK) return 0;
    if (info.header_len > size || info.frame_bytes != mxrtc_i420_size(info.width, info.height))
        abort();
    size_t off = info.header_len;
    for (unsigned n = 0; n < 64 && off < size; n++) {
        size_t hl = 0;
        if (mxrtc_y4m_parse_frame_header(data + off, size - off, &hl) != MXRTC_OK) break;
        if (hl > size - off) abort();
        off += hl;
        if (size - off < info.frame_bytes) break;
        uint8_t rgb[3];
        if (mxrtc_i420_mean_rgb(data + off, info.width, info.height, rgb) != MXRTC_OK) abort();
        off += info.frame_bytes;
    }
    return 0;
}
