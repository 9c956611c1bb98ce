/*
 * codec.c: codec ids, names, clock rates and what this build includes.
 *
 * VP8/VP9 availability is decided when CMake probes libvpx (codecs/
 * CMakeLists.txt defines MXRTC_HAVE_VP8_ENCODER and friends): a libvpx
 * configured with --disable-vp9 simply lacks the vpx_codec_vp9_* interfaces,
 * and we must not reference them then.
 */
#include "codecs/codec.h"

int mxrtc_codec_supported(mxrtc_codec_id id) {
    int caps = 0;
    switch (id) {
    case MXRTC_CODEC_OPUS:
        caps = MXRTC_CODEC_CAN_ENCODE | MXRTC_CODEC_CAN_DECODE;
        break;
    case MXRTC_CODEC_VP8:
#ifdef MXRTC_HAVE_VP8_ENCODER
        caps |= MXRTC_CODEC_CAN_ENCODE;
#endif
#ifdef MXRTC_HAVE_VP8_DECODER
        caps |= MXRTC_CODEC_CAN_DECODE;
#endif
        break;
    case MXRTC_CODEC_VP9:
#ifdef MXRTC_HAVE_VP9_ENCODER
        caps |= MXRTC_CODEC_CAN_ENCODE;
#endif
#ifdef MXRTC_HAVE_VP9_DECODER
        caps |= MXRTC_CODEC_CAN_DECODE;
#endif
        break;
    case MXRTC_CODEC_H264:
    case MXRTC_CODEC_AV1:
    case MXRTC_CODEC_NONE:
        break;
    }
    return caps;
}

const char *mxrtc_codec_name(mxrtc_codec_id id) {
    switch (id) {
    case MXRTC_CODEC_OPUS: return "opus";   /* RFC 7587 §7: media subtype "opus" */
    case MXRTC_CODEC_VP8: return "VP8";     /* RFC 7741 §6.1 */
    case MXRTC_CODEC_VP9: return "VP9";     /* RFC 9628 §7 */
    case MXRTC_CODEC_H264: return "H264";   /* RFC 6184 */
    case MXRTC_CODEC_AV1: return "AV1";
    case MXRTC_CODEC_NONE: break;
    }
    return "";
}

uint32_t mxrtc_codec_clock_rate(mxrtc_codec_id id) {
    switch (id) {
    case MXRTC_CODEC_OPUS: return 48000;    /* RFC 7587 §4.1 */
    case MXRTC_CODEC_VP8:
    case MXRTC_CODEC_VP9:
    case MXRTC_CODEC_H264:
    case MXRTC_CODEC_AV1: return 90000;     /* RFC 7741 §6.1, RFC 9628 §7 */
    case MXRTC_CODEC_NONE: break;
    }
    return 0;
}
