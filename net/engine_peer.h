/*
 * engine_peer.h: the peer connection (mxrtc_peer, include/mxrtc.h) as a
 * runner engine (net/engine.h).
 *
 * Mapping: DATAGRAM -> DATAGRAM; STREAM -> STREAM; the EV_RESOLVE event ->
 * RESOLVE (the runner's mDNS resolver answers through resolved(), which
 * becomes mxrtc_peer_resolved); every other event -> EVENT whose `event` is
 * a `const mxrtc_peer_output *` (valid for the event callback only).
 *
 * An optional tick: a host function called on the I/O thread every
 * `period` of the monotonic clock, from poll(), at a moment when the peer
 * is fully drained, so it may feed the peer inputs (push_audio,
 * push_video...) whose outputs the runner then drains as usual. This is how
 * a host paces real-time media on the runner's thread without sleeping.
 */
#ifndef MXRTC_NET_ENGINE_PEER_H
#define MXRTC_NET_ENGINE_PEER_H

#include <stdbool.h>

#include "mxrtc.h"
#include "net/engine.h"

/* Called on the I/O thread with the peer drained. `first` is 1 for a new
 * period, 0 for a repeat. The host feeds the peer at most ONE input per call
 * (the drain rule) and returns true to be called again (first = 0) as soon
 * as that input's outputs are drained, false when done for this period. */
typedef bool (*mxrtc_net_peer_tick_fn)(void *user, mxrtc_peer *p, mxrtc_time_us now, int first);

typedef struct mxrtc_net_peer {
    mxrtc_peer *peer;                 /* borrowed: the caller frees it */
    mxrtc_peer_output out;            /* the last output, for EVENT pointers */
    mxrtc_net_peer_tick_fn tick;      /* NULL: none */
    void *tick_user;
    mxrtc_time_us tick_period;        /* microseconds; 0: no tick */
    mxrtc_time_us next_tick;          /* 0: not started (first poll starts it) */
    bool again;                       /* the tick asked to be called once drained */
    uint64_t ticks, ticks_late;       /* run, and run more than a period late */
} mxrtc_net_peer;

/* Prepares the adapter around peer (borrowed) and returns the engine table
 * whose user pointer is a. a must outlive the runner that uses it. */
mxrtc_net_engine mxrtc_net_peer_engine(mxrtc_net_peer *a, mxrtc_peer *peer);

/* Sets the tick (before the runner starts, or from the I/O thread).
 * period 0 or fn NULL stops it. */
void mxrtc_net_peer_set_tick(mxrtc_net_peer *a, mxrtc_time_us period, mxrtc_net_peer_tick_fn fn,
                             void *user);

#endif
