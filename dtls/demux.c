/*
 * demux.c: one port, several protocols (RFC 7983 §7, updating RFC 5764
 * §5.1.2), told apart by the first byte; RTP from RTCP by the second
 * (RFC 5761 §4).
 */
#include "dtls/dtls.h"

mxrtc_demux_kind mxrtc_demux_classify(const uint8_t *p, size_t len) {
    if (!p || len == 0) return MXRTC_DEMUX_UNKNOWN;
    uint8_t b = p[0];
    if (b <= 3) return MXRTC_DEMUX_STUN;
    if (b >= 16 && b <= 19) return MXRTC_DEMUX_ZRTP;
    if (b >= 20 && b <= 63) return MXRTC_DEMUX_DTLS;
    if (b >= 64 && b <= 79) return MXRTC_DEMUX_TURN_CHANNEL;
    if (b >= 128 && b <= 191) {
        /* RFC 5761 §4: RTCP packet types 192..223 occupy the byte where RTP
         * has marker + payload type, which is why RTP avoids PT 64..95. */
        if (len >= 2 && p[1] >= 192 && p[1] <= 223) {
            /* RFC 3550 §6.4.1: the shortest RTCP packet is a 4-byte header
             * plus 4-byte SSRC (an empty RR); SRTCP adds more. */
            return len >= 8 ? MXRTC_DEMUX_RTCP : MXRTC_DEMUX_UNKNOWN;
        }
        /* RFC 3550 §5.1: the fixed RTP header is 12 bytes. */
        return len >= 12 ? MXRTC_DEMUX_RTP : MXRTC_DEMUX_UNKNOWN;
    }
    return MXRTC_DEMUX_UNKNOWN;
}
