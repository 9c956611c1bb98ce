/*
 * netsim.h: a small seeded network model for the receive-path tests:
 * independent random loss, a base delay with uniform jitter (which reorders
 * packets sent closer together than the jitter spread), optional duplicates.
 * Packets are delivered in arrival order on a virtual clock (microseconds).
 */
#ifndef MXRTC_TEST_NETSIM_H
#define MXRTC_TEST_NETSIM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/random.h"

#define NETSIM_MAX 1024
#define NETSIM_MTU 1500

typedef struct netsim_pkt {
    uint64_t at;        /* delivery time */
    uint64_t order;     /* send order, to keep equal times stable */
    size_t len;
    uint8_t data[NETSIM_MTU];
} netsim_pkt;

typedef struct netsim {
    mxrtc_seeded_random rng;
    double loss;             /* probability 0..1 */
    double dup;              /* probability a packet is also delivered a second time */
    uint64_t base_us;        /* mean one-way delay */
    uint64_t jitter_us;      /* delay uniform in [base - jitter, base + jitter] */
    netsim_pkt q[NETSIM_MAX];
    size_t count;
    uint64_t sent, lost, delivered, reordered, duplicated;
    uint64_t order;
    uint64_t last_sent_order_delivered;
} netsim;

static inline void netsim_init(netsim *n, uint64_t seed, double loss, uint64_t base_us,
                               uint64_t jitter_us) {
    memset(n, 0, sizeof *n);
    mxrtc_seeded_random_init(&n->rng, seed);
    n->loss = loss;
    n->base_us = base_us;
    n->jitter_us = jitter_us;
}

static inline double netsim_uniform(netsim *n) {
    return (double)(mxrtc_seeded_random_next(&n->rng) >> 11) / 9007199254740992.0;
}

static inline void netsim_enqueue(netsim *n, uint64_t at, const uint8_t *data, size_t len) {
    if (n->count == NETSIM_MAX || len > NETSIM_MTU) return;
    netsim_pkt *p = &n->q[n->count++];
    p->at = at;
    p->order = n->order++;
    p->len = len;
    memcpy(p->data, data, len);
}

static inline uint64_t netsim_delay(netsim *n) {
    double j = (netsim_uniform(n) * 2.0 - 1.0) * (double)n->jitter_us;
    double d = (double)n->base_us + j;
    return d < 0 ? 0 : (uint64_t)d;
}

/* Sends a packet at time now through the model. */
static inline void netsim_send(netsim *n, uint64_t now, const uint8_t *data, size_t len) {
    n->sent++;
    if (netsim_uniform(n) < n->loss) {
        n->lost++;
        return;
    }
    netsim_enqueue(n, now + netsim_delay(n), data, len);
    if (n->dup > 0 && netsim_uniform(n) < n->dup) {
        n->duplicated++;
        netsim_enqueue(n, now + netsim_delay(n) + 5000, data, len);
    }
}

/* Takes the next packet due at or before now (earliest first); 0 if none. */
static inline size_t netsim_recv(netsim *n, uint64_t now, uint8_t *out, uint64_t *at) {
    size_t best = NETSIM_MAX;
    for (size_t i = 0; i < n->count; i++) {
        if (n->q[i].at > now) continue;
        if (best == NETSIM_MAX || n->q[i].at < n->q[best].at ||
            (n->q[i].at == n->q[best].at && n->q[i].order < n->q[best].order))
            best = i;
    }
    if (best == NETSIM_MAX) return 0;
    netsim_pkt *p = &n->q[best];
    size_t len = p->len;
    memcpy(out, p->data, len);
    *at = p->at;
    if (p->order < n->last_sent_order_delivered) n->reordered++;
    else n->last_sent_order_delivered = p->order;
    n->delivered++;
    n->q[best] = n->q[--n->count];
    return len;
}

#endif
