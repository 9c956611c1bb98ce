/*
 * receive_stats.c: per-SSRC receive statistics of RFC 3550 Appendix A:
 * sequence validation with probation and wrap-around (A.1), expected and
 * lost counts with the interval fraction (A.3), interarrival jitter (A.8),
 * and the last SR's data for LSR/DLSR (§6.4.1) and lip-sync (§6.4.1 NTP/RTP
 * pair).
 */
#include "rtp/rtp.h"

#define SEQ_MOD (1u << 16)
#define MAX_DROPOUT 3000   /* A.1 */
#define MAX_MISORDER 100   /* A.1 */
#define MIN_SEQUENTIAL 2   /* A.1 */

uint64_t mxrtc_ntp_from_time(mxrtc_time_us now, uint64_t ntp_offset_us) {
    uint64_t us = now + ntp_offset_us;
    uint64_t secs = us / 1000000u;
    uint64_t frac = ((us % 1000000u) << 32) / 1000000u;
    return secs << 32 | frac;
}

void mxrtc_receive_stats_init(mxrtc_receive_stats *s, uint32_t ssrc, uint32_t clock_rate) {
    memset(s, 0, sizeof *s);
    s->ssrc = ssrc;
    s->clock_rate = clock_rate;
    s->min_sequential = MIN_SEQUENTIAL;
}

static void init_seq(mxrtc_receive_stats *s, uint16_t seq) {
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = SEQ_MOD + 1;   /* so seq == bad_seq is false */
    s->cycles = 0;
    s->received = 0;
    s->received_prior = 0;
    s->expected_prior = 0;
    s->have_transit = false;
}

/* A.1 update_seq: 1 if the packet counts, 0 if not (probation, bad jump). */
static int update_seq(mxrtc_receive_stats *s, uint16_t seq, bool *advanced) {
    uint16_t udelta = (uint16_t)(seq - s->max_seq);
    *advanced = false;
    if (s->probation) {
        /* A source is valid once min_sequential packets came in order. */
        if (seq == (uint16_t)(s->max_seq + 1)) {
            s->probation--;
            s->max_seq = seq;
            if (s->probation == 0) {
                init_seq(s, seq);
                s->received++;
                *advanced = true;
                return 1;
            }
        } else {
            s->probation = s->min_sequential - 1u;
            s->max_seq = seq;
        }
        return 0;
    }
    if (udelta < MAX_DROPOUT) {
        if (seq < s->max_seq) s->cycles += SEQ_MOD;   /* wrapped */
        s->max_seq = seq;
        *advanced = udelta != 0;
    } else if (udelta <= SEQ_MOD - MAX_MISORDER) {
        /* A very large jump: restart if the next packet follows it (the
         * source restarted), else drop it. */
        if (seq == s->bad_seq) {
            init_seq(s, seq);
            *advanced = true;
        } else {
            s->bad_seq = (seq + 1u) & (SEQ_MOD - 1);
            return 0;
        }
    }
    /* else: duplicate or reordered packet; A.1 counts it as received. */
    s->received++;
    return 1;
}

int mxrtc_receive_stats_update(mxrtc_receive_stats *s, uint16_t seq, uint32_t rtp_ts,
                               size_t payload_len, mxrtc_time_us arrival) {
    if (!s) return MXRTC_ERR_INVALID_ARGUMENT;
    s->packets_total++;
    s->bytes_total += payload_len;
    bool advanced;
    if (!s->started) {
        s->started = true;
        init_seq(s, seq);
        if (s->min_sequential > 1) {
            /* A.1: the first packet opens the probation */
            s->max_seq = (uint16_t)(seq - 1);
            s->probation = s->min_sequential;
            (void)update_seq(s, seq, &advanced);
            return MXRTC_ERR_AGAIN;
        }
        s->probation = 0;       /* no probation: the source is valid at once */
        s->received = 1;
        advanced = true;
    } else {
        bool on_probation = s->probation > 0;
        if (!update_seq(s, seq, &advanced))
            return on_probation ? MXRTC_ERR_AGAIN : MXRTC_ERR_MALFORMED;
    }
    if (advanced && s->clock_rate) {
        /* A.8: transit time in timestamp units; its difference between
         * consecutive packets feeds a 1/16 gain filter (jitter kept x16). */
        uint32_t arrival_ts = (uint32_t)(arrival * s->clock_rate / 1000000u);
        int64_t transit = (int32_t)(arrival_ts - rtp_ts);
        if (s->have_transit) {
            int64_t d = transit - s->transit;
            if (d < 0) d = -d;
            if (d > INT32_MAX) d = INT32_MAX;
            s->jitter_q4 += (uint32_t)d - ((s->jitter_q4 + 8) >> 4);
        }
        s->transit = transit;
        s->have_transit = true;
    }
    return MXRTC_OK;
}

void mxrtc_receive_stats_on_sr(mxrtc_receive_stats *s, const mxrtc_rtcp_sr *sr,
                               mxrtc_time_us arrival) {
    if (!s || !sr) return;
    s->have_sr = true;
    s->sr_ntp = sr->ntp;
    s->sr_rtp_ts = sr->rtp_ts;
    s->sr_arrival = arrival;
}

uint32_t mxrtc_receive_stats_ext_max(const mxrtc_receive_stats *s) {
    return s->cycles + s->max_seq;
}

int mxrtc_receive_stats_report(mxrtc_receive_stats *s, mxrtc_time_us now,
                               mxrtc_rtcp_report_block *rb) {
    if (!s || !rb) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!s->started || s->probation) return MXRTC_ERR_AGAIN;
    /* A.3 */
    uint32_t ext_max = mxrtc_receive_stats_ext_max(s);
    int64_t expected = (int64_t)ext_max - s->base_seq + 1;
    int64_t lost = expected - s->received;
    if (lost > 0x7fffff) lost = 0x7fffff;
    if (lost < -0x800000) lost = -0x800000;
    int64_t expected_interval = expected - s->expected_prior;
    s->expected_prior = (uint32_t)expected;
    int64_t received_interval = (int64_t)s->received - s->received_prior;
    s->received_prior = s->received;
    int64_t lost_interval = expected_interval - received_interval;
    rb->ssrc = s->ssrc;
    rb->fraction_lost = (expected_interval <= 0 || lost_interval <= 0)
                            ? 0 : (uint8_t)((lost_interval << 8) / expected_interval);
    rb->cumulative_lost = (int32_t)lost;
    rb->ext_highest_seq = ext_max;
    rb->jitter = s->jitter_q4 >> 4;
    if (s->have_sr) {
        rb->lsr = mxrtc_ntp_compact(s->sr_ntp);
        /* DLSR in 1/65536 s since that SR arrived (§6.4.1). */
        uint64_t d = now > s->sr_arrival ? now - s->sr_arrival : 0;
        rb->dlsr = (uint32_t)((d << 16) / 1000000u);
    } else {
        rb->lsr = 0;
        rb->dlsr = 0;
    }
    return MXRTC_OK;
}

int mxrtc_receive_stats_ntp_for_ts(const mxrtc_receive_stats *s, uint32_t rtp_ts,
                                   uint64_t *ntp) {
    if (!s || !ntp || !s->clock_rate) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!s->have_sr) return MXRTC_ERR_AGAIN;
    int64_t ticks = (int32_t)(rtp_ts - s->sr_rtp_ts);
    bool neg = ticks < 0;
    uint64_t a = (uint64_t)(neg ? -ticks : ticks);
    uint64_t delta = (a / s->clock_rate) << 32 | (((a % s->clock_rate) << 32) / s->clock_rate);
    *ntp = neg ? s->sr_ntp - delta : s->sr_ntp + delta;
    return MXRTC_OK;
}
