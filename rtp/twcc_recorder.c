/*
 * twcc_recorder.c: the receiver's half of transport-wide congestion control
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1): arrival times
 * per transport-wide sequence number, kept in a bounded window, reported in
 * feedback packets built by rtcp_twcc.c.
 */
#include "rtp/rtp.h"
#include "rtp/rtcp_write.h"

#define WIN MXRTC_TWCC_HISTORY

static size_t slot(int64_t u) {
    return (size_t)((uint64_t)u % WIN);
}

void mxrtc_twcc_recorder_init(mxrtc_twcc_recorder *r) {
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < WIN; i++) r->arrival[i] = -1;
}

int mxrtc_twcc_recorder_on_packet(mxrtc_twcc_recorder *r, uint16_t seq, mxrtc_time_us arrival) {
    if (!r || arrival > (mxrtc_time_us)INT64_MAX) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!r->started) {
        r->started = true;
        r->next = r->max = seq;
        r->arrival[slot(seq)] = (int64_t)arrival;
        return MXRTC_OK;
    }
    /* Unwrap against the highest seq seen (16-bit serial arithmetic). */
    int64_t u = r->max + (int16_t)(uint16_t)(seq - (uint16_t)r->max);
    if (u < r->next) return MXRTC_ERR_AGAIN;        /* already reported */
    if (u > r->max) {
        /* Mark the new ones (skipped, and u's own slot, which still holds
         * the seq one window back) not received; a jump past the window
         * clears it all. */
        int64_t from = r->max + 1;
        if (u - from >= WIN) from = u - WIN + 1;
        for (int64_t k = from; k <= u; k++) r->arrival[slot(k)] = -1;
        r->max = u;
        if (r->max - r->next + 1 > WIN) {
            int64_t new_next = r->max - WIN + 1;
            r->dropped += (uint64_t)(new_next - r->next);
            r->next = new_next;
        }
    }
    int64_t *a = &r->arrival[slot(u)];
    if (*a < 0) *a = (int64_t)arrival;               /* a duplicate keeps the first */
    return MXRTC_OK;
}

int mxrtc_twcc_recorder_write(mxrtc_twcc_recorder *r, mxrtc_writer *w, uint32_t sender_ssrc,
                              uint32_t media_ssrc, size_t max_packets) {
    if (!r || !w) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!r->started || r->next > r->max) return MXRTC_ERR_AGAIN;
    size_t pending = (size_t)(r->max - r->next + 1);
    size_t count = pending;
    if (max_packets == 0) max_packets = 1;
    if (count > max_packets) count = max_packets;
    /* The feedback needs one received packet for its reference time. */
    size_t first = 0;
    while (first < pending && r->arrival[slot(r->next + (int64_t)first)] < 0) first++;
    if (first >= count) count = first + 1;          /* max is always received */
    size_t fit = 0;
    int rc = mxrtc_twcc_write_ring(w, sender_ssrc, media_ssrc, (uint16_t)r->next, r->fb_count,
                                   r->arrival, WIN, slot(r->next), count, &fit);
    if (rc == MXRTC_ERR_LIMIT) {
        /* A delta over 16 bits of 250 us: end this feedback before it; the
         * next one starts with a new reference time. fit > first here. */
        count = fit;
        rc = mxrtc_twcc_write_ring(w, sender_ssrc, media_ssrc, (uint16_t)r->next, r->fb_count,
                                   r->arrival, WIN, slot(r->next), count, NULL);
    }
    if (rc != MXRTC_OK) return rc;
    r->next += (int64_t)count;
    r->fb_count++;
    return MXRTC_OK;
}
