/*
 * rtcp_write.h: shared helpers of the RTCP builders (inside rtp/ only).
 */
#ifndef MXRTC_RTP_RTCP_WRITE_H
#define MXRTC_RTP_RTCP_WRITE_H

#include "base/bytes.h"

/* Writes a common header (V=2, count, pt, length 0) and returns its offset. */
size_t mxrtc_rtcp_begin(mxrtc_writer *w, uint8_t count, uint8_t pt);
/* Pads with zeros to 32 bits and patches the length field. MXRTC_OK or
 * MXRTC_ERR_BUFFER_TOO_SMALL. */
int mxrtc_rtcp_finish(mxrtc_writer *w, size_t start);

#endif
