/*
 * rtcp_write.h: shared helpers of the RTCP builders (inside rtp/ only).
 */
#ifndef MXRTC_RTP_RTCP_WRITE_H
#define MXRTC_RTP_RTCP_WRITE_H

#include <stdint.h>

#include "base/bytes.h"

/* Writes a common header (V=2, count, pt, length 0) and returns its offset. */
size_t mxrtc_rtcp_begin(mxrtc_writer *w, uint8_t count, uint8_t pt);
/* Pads with zeros to 32 bits and patches the length field. MXRTC_OK or
 * MXRTC_ERR_BUFFER_TOO_SMALL. */
int mxrtc_rtcp_finish(mxrtc_writer *w, size_t start);

/* The TWCC builder over arrivals held in a ring: packet i of the feedback is
 * ring[(start + i) % ring_size]. On MXRTC_ERR_LIMIT, *fit (if given) is the
 * index of the first packet whose delta does not fit; nothing is written. */
int mxrtc_twcc_write_ring(mxrtc_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc,
                          uint16_t base_seq, uint8_t fb_pkt_count, const int64_t *ring,
                          size_t ring_size, size_t start, size_t count, size_t *fit);

#endif
