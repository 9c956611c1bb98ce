/*
 * pktq.h: a bounded FIFO of variable-length packets in one buffer allocated at
 * creation, so that queueing a packet on the hot path never allocates and a
 * peer can never make the queue grow: a push that does not fit is refused
 * (MXRTC_ERR_LIMIT) and counted.
 *
 * Each entry carries a fixed-size metadata blob (an address, a kind...) chosen
 * at init, and its bytes, given as up to two segments (a header and a
 * payload) so callers need not copy them together first.
 */
#ifndef MXRTC_BASE_PKTQ_H
#define MXRTC_BASE_PKTQ_H

#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"

typedef struct mxrtc_pktq {
    uint8_t *buf;
    size_t cap;
    size_t meta_size;
    size_t head;        /* next entry to read */
    size_t tail;        /* where the next entry is written */
    size_t count;       /* entries queued */
    uint64_t dropped;   /* pushes refused for lack of room */
} mxrtc_pktq;

/* Allocates cap bytes (rounded up to 4). MXRTC_ERR_NO_MEMORY. */
int mxrtc_pktq_init(mxrtc_pktq *q, const mxrtc_allocator *a, size_t cap, size_t meta_size);
void mxrtc_pktq_free(mxrtc_pktq *q, const mxrtc_allocator *a);
/* One piece of an entry's bytes. */
typedef struct mxrtc_iov {
    const uint8_t *data;
    size_t len;
} mxrtc_iov;

/* Queues meta (meta_size bytes) and the concatenation of n segments.
 * MXRTC_ERR_LIMIT (and dropped++) when it does not fit. */
int mxrtc_pktq_pushv(mxrtc_pktq *q, const void *meta, const mxrtc_iov *iov, size_t n);
/* The same with two segments seg1 ‖ seg2 (either may be empty). */
int mxrtc_pktq_push(mxrtc_pktq *q, const void *meta, const uint8_t *seg1, size_t len1,
                    const uint8_t *seg2, size_t len2);
/* The oldest entry, in place (valid until the next push or pop):
 * MXRTC_OK, or MXRTC_ERR_AGAIN when empty. meta_out may be NULL. */
int mxrtc_pktq_front(const mxrtc_pktq *q, void *meta_out, const uint8_t **data, size_t *len);
/* Drops the oldest entry (no-op when empty). */
void mxrtc_pktq_pop(mxrtc_pktq *q);
/* Drops everything. */
void mxrtc_pktq_clear(mxrtc_pktq *q);

#endif
