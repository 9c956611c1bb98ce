/*
 * bench_pair.h: what the benchmarks share. A counting mxrtc_allocator (live,
 * peak and total bytes of one peer's own allocations) and two peers
 * connected in memory on a virtual clock: datagrams are handed from one to
 * the other directly (no loss, no delay), candidates trickled at once.
 * Benchmarks only: no cmocka, no assertions on timings.
 */
#ifndef MXRTC_BENCH_PAIR_H
#define MXRTC_BENCH_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"
#include "base/random.h"

typedef struct bench_counter {
    size_t live, peak, total, calls;
} bench_counter;

/* An allocator whose user is c; each block carries a 16-byte size prefix
 * that is not counted. */
mxrtc_allocator bench_counting_allocator(bench_counter *c);

typedef struct bench_pair {
    mxrtc_peer *p[2];
    mxrtc_seeded_random rnd[2];
    bench_counter mem[2];
    mxrtc_allocator alloc[2];
    mxrtc_addr addr[2];
    mxrtc_time_us now;
    mxrtc_time_us deadline[2];
    mxrtc_peer_state state[2];
    uint64_t delivered[2];     /* datagrams handed to side i */
    uint64_t video_frames[2];  /* decoded-frame events on side i */
} bench_pair;

/* Creates both peers (audio and video sendrecv, VP8 only) with counting
 * allocators. Returns 0 or an mxrtc error. */
int bench_pair_init(bench_pair *b, uint64_t seed);
/* Offer from side 0, answer from side 1, candidates trickled; runs the
 * virtual clock until both are CONNECTED (or `limit_us` passes). Returns 0
 * when connected. */
int bench_pair_connect(bench_pair *b, mxrtc_time_us limit_us);
/* Drains both sides and delivers everything until nothing is in flight. */
int bench_pair_pump(bench_pair *b);
/* Runs the clock to `until` (timeouts and deliveries). */
int bench_pair_run(bench_pair *b, mxrtc_time_us until);
void bench_pair_free(bench_pair *b);

#endif
