/*
 * nack.c: receive-side NACK generation (RFC 4585 §6.2.1 generic NACK,
 * RFC 4588 §3 for what retransmission can and cannot repair). Missing
 * sequence numbers wait out reordering before the first request, are asked
 * for again at most once per RTT, and are given up after a number of tries
 * or an age, when only a key frame helps. The list is bounded.
 */
#include "rtp/rtp.h"

void mxrtc_nack_config_init(mxrtc_nack_config *cfg) {
    cfg->max_list = 256;
    cfg->max_gap = 1000;
    cfg->reorder_wait = 10000;
    cfg->reorder_packets = 3;
    cfg->max_retries = 10;
    cfg->max_age = 1000000;
    cfg->default_rtt = 100000;
}

void mxrtc_nack_init(mxrtc_nack_gen *g, const mxrtc_nack_config *cfg) {
    memset(g, 0, sizeof *g);
    if (cfg) g->cfg = *cfg;
    else mxrtc_nack_config_init(&g->cfg);
    if (g->cfg.max_list == 0 || g->cfg.max_list > MXRTC_NACK_MAX_LIST)
        g->cfg.max_list = MXRTC_NACK_MAX_LIST;
    if (g->cfg.max_gap == 0 || g->cfg.max_gap > 0x7fff) g->cfg.max_gap = 0x7fff;
    if (g->cfg.max_retries == 0) g->cfg.max_retries = 1;
    if (g->cfg.default_rtt == 0) g->cfg.default_rtt = 100000;
}

void mxrtc_nack_set_rtt(mxrtc_nack_gen *g, mxrtc_time_us rtt) {
    g->rtt = rtt;
}

static mxrtc_time_us elapsed(mxrtc_time_us now, mxrtc_time_us then) {
    return now > then ? now - then : 0;
}

static void restart(mxrtc_nack_gen *g, uint16_t seq) {
    g->overflowed += g->count;
    g->count = 0;
    g->newest = seq;
}

int mxrtc_nack_on_packet(mxrtc_nack_gen *g, uint16_t seq, mxrtc_time_us now) {
    if (!g) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!g->started) {
        g->started = true;
        g->newest = seq;
        return MXRTC_OK;
    }
    int32_t diff = (int16_t)(uint16_t)(seq - g->newest);
    if (diff == 0) return MXRTC_OK;                        /* duplicate */
    if (diff < 0) {
        if ((uint32_t)-diff > g->cfg.max_gap) {
            /* Far in the past: a stray, or the sender jumped. Two in a row
             * mean a jump (the RFC 3550 A.1 bad_seq idea). */
            if (g->bad_seq_valid && seq == g->bad_seq) {
                restart(g, seq);
                g->bad_seq_valid = false;
                return MXRTC_ERR_LIMIT;
            }
            g->bad_seq = (uint16_t)(seq + 1);
            g->bad_seq_valid = true;
            return MXRTC_OK;
        }
        /* A late packet: reordered, or recovered through RTX. */
        for (size_t i = 0; i < g->count; i++) {
            if (g->list[i].seq == seq) {
                memmove(&g->list[i], &g->list[i + 1], (g->count - i - 1) * sizeof g->list[0]);
                g->count--;
                g->recovered++;
                break;
            }
        }
        return MXRTC_OK;
    }
    g->bad_seq_valid = false;
    uint32_t missing = (uint32_t)diff - 1;
    if (missing > g->cfg.max_gap) {
        g->overflowed += missing;
        restart(g, seq);
        return MXRTC_ERR_LIMIT;
    }
    int rc = MXRTC_OK;
    /* Only the newest max_list of a long gap can be tracked. */
    uint32_t add = missing;
    if (add > g->cfg.max_list) {
        g->overflowed += add - g->cfg.max_list;
        add = (uint32_t)g->cfg.max_list;
        rc = MXRTC_ERR_LIMIT;
    }
    if (g->count + add > g->cfg.max_list) {
        size_t drop = g->count + add - g->cfg.max_list;
        memmove(&g->list[0], &g->list[drop], (g->count - drop) * sizeof g->list[0]);
        g->count -= drop;
        g->overflowed += drop;
        rc = MXRTC_ERR_LIMIT;
    }
    for (uint32_t i = 0; i < add; i++) {
        mxrtc_nack_entry *e = &g->list[g->count++];
        e->seq = (uint16_t)(seq - add + i);
        e->tries = 0;
        e->first_seen = now;
        e->last_sent = 0;
    }
    g->newest = seq;
    return rc;
}

static mxrtc_time_us rtt_of(const mxrtc_nack_gen *g) {
    return g->rtt ? g->rtt : g->cfg.default_rtt;
}

int mxrtc_nack_poll(mxrtc_nack_gen *g, mxrtc_time_us now, uint16_t *seqs, size_t cap,
                    size_t *count, bool *gave_up) {
    if (!g || !count || (!seqs && cap)) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_time_us rtt = rtt_of(g);
    size_t n = 0, keep = 0;
    bool dropped = false;
    for (size_t i = 0; i < g->count; i++) {
        mxrtc_nack_entry e = g->list[i];
        bool exhausted = e.tries >= g->cfg.max_retries && elapsed(now, e.last_sent) >= rtt;
        if (exhausted || elapsed(now, e.first_seen) > g->cfg.max_age) {
            g->given_up++;
            dropped = true;
            continue;
        }
        bool due;
        if (e.tries == 0)
            due = elapsed(now, e.first_seen) >= g->cfg.reorder_wait ||
                  (uint16_t)(g->newest - e.seq) >= g->cfg.reorder_packets;
        else
            due = e.tries < g->cfg.max_retries && elapsed(now, e.last_sent) >= rtt;
        if (due && n < cap) {
            seqs[n++] = e.seq;
            e.tries++;
            e.last_sent = now;
            g->nacks_sent++;
        }
        g->list[keep++] = e;
    }
    g->count = keep;
    *count = n;
    if (gave_up) *gave_up = dropped;
    return MXRTC_OK;
}

mxrtc_time_us mxrtc_nack_deadline(const mxrtc_nack_gen *g) {
    if (!g || g->count == 0) return MXRTC_TIME_NEVER;
    mxrtc_time_us rtt = rtt_of(g), best = MXRTC_TIME_NEVER;
    for (size_t i = 0; i < g->count; i++) {
        const mxrtc_nack_entry *e = &g->list[i];
        mxrtc_time_us t;
        if (e->tries == 0)
            t = (uint16_t)(g->newest - e->seq) >= g->cfg.reorder_packets
                    ? e->first_seen : e->first_seen + g->cfg.reorder_wait;
        else
            t = e->last_sent + rtt;
        mxrtc_time_us expiry = e->first_seen + g->cfg.max_age + 1;
        if (expiry < t) t = expiry;
        if (t < best) best = t;
    }
    return best;
}
