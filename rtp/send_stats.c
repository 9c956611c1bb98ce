/*
 * send_stats.c: the sender's side of RTCP reports (RFC 3550 §6.4.1): SR
 * sender info with the NTP/RTP timestamp pair receivers use for lip-sync,
 * and the round-trip time from a report block's LSR and DLSR.
 */
#include "rtp/rtp.h"

void mxrtc_send_stats_init(mxrtc_send_stats *s, uint32_t ssrc, uint32_t clock_rate,
                           uint64_t ntp_offset_us) {
    memset(s, 0, sizeof *s);
    s->ssrc = ssrc;
    s->clock_rate = clock_rate;
    s->ntp_offset_us = ntp_offset_us;
}

void mxrtc_send_stats_on_sent(mxrtc_send_stats *s, uint32_t rtp_ts, mxrtc_time_us capture,
                              size_t payload_len) {
    s->packet_count++;
    /* §6.4.1: the octet count wraps modulo 2^32 like the packet count. */
    s->octet_count += (uint32_t)payload_len;
    s->have_ts = true;
    s->last_rtp_ts = rtp_ts;
    s->last_capture = capture;
}

int mxrtc_send_stats_sr(const mxrtc_send_stats *s, mxrtc_time_us now, mxrtc_rtcp_sr *sr) {
    if (!s || !sr) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!s->have_ts) return MXRTC_ERR_AGAIN;
    sr->ssrc = s->ssrc;
    sr->ntp = mxrtc_ntp_from_time(now, s->ntp_offset_us);
    /* §6.4.1: the RTP timestamp of the same instant as the NTP time, which
     * need not be that of any packet: extrapolate from the last one. */
    int64_t dt = now >= s->last_capture ? (int64_t)(now - s->last_capture)
                                        : -(int64_t)(s->last_capture - now);
    /* Clamp to ±2^40 us (12 days) so the product cannot overflow. */
    const int64_t lim = (int64_t)1 << 40;
    if (dt > lim) dt = lim;
    if (dt < -lim) dt = -lim;
    int64_t ticks = dt * (int64_t)s->clock_rate / 1000000;
    sr->rtp_ts = s->last_rtp_ts + (uint32_t)ticks;
    sr->packet_count = s->packet_count;
    sr->octet_count = s->octet_count;
    sr->rb_count = 0;
    return MXRTC_OK;
}

int mxrtc_send_stats_on_report_block(mxrtc_send_stats *s, const mxrtc_rtcp_report_block *rb,
                                     mxrtc_time_us now, uint64_t *rtt_us) {
    if (!s || !rb || !rtt_us) return MXRTC_ERR_INVALID_ARGUMENT;
    if (rb->ssrc != s->ssrc) return MXRTC_ERR_NOT_FOUND;
    if (rb->lsr == 0) return MXRTC_ERR_AGAIN;   /* §6.4.1: no SR received yet */
    uint32_t a = mxrtc_ntp_compact(mxrtc_ntp_from_time(now, s->ntp_offset_us));
    /* §6.4.1: RTT = A - LSR - DLSR in 1/65536 s, modulo 2^32. */
    int32_t units = (int32_t)(a - rb->lsr - rb->dlsr);
    if (units < 0) return MXRTC_ERR_MALFORMED;
    s->rtt_us = ((uint64_t)units * 1000000u + 32768) >> 16;
    s->have_rtt = true;
    *rtt_us = s->rtt_us;
    return MXRTC_OK;
}
