/*
 * engine_calls.h: the Matrix calls object (mxrtc_calls, include/mxrtc.h) as
 * a runner engine (net/engine.h), as net/engine_peer.h is for one peer.
 *
 * Mapping: DATAGRAM -> DATAGRAM; STREAM -> STREAM (the runner keys TCP
 * connections by server address only, so the adapter remembers which call
 * wrote to each server and hands the bytes and the close back to it);
 * RESOLVE of a call (an mDNS .local name) -> RESOLVE (the runner's mDNS
 * resolver answers through resolved(), given back to that call); RESOLVE
 * with call_id NULL (a TURN server's host name from /voip/turnServer) is
 * resolved here with the system resolver on a detached thread
 * (net/host_resolve.h): the I/O thread never blocks, it looks at the job
 * every 20 ms. Every other output -> EVENT whose `event` is a
 * `const mxrtc_calls_output *` (valid for the event callback only):
 * SEND_EVENT, INCOMING, STATE, REMOTE_MEDIA, HOLD, VIDEO_FRAME, TURN_REFRESH.
 *
 * An ended call: its peer releases its TURN allocations (mxrtc_peer_close,
 * at most 2 s); this adapter keeps handing it its timeouts and what its TURN
 * servers send, the stream bytes included (the server stays mapped to the
 * ended call until another call writes to it). The host keeps the runner
 * running until mxrtc_calls_get_stats says closing 0 for that call (the
 * tools: tools/teardown_wait.h) before freeing it, which closes the TURN
 * TCP/TLS connections.
 *
 * An optional tick as in engine_peer.h: called on the I/O thread every
 * `period` with the object drained, so the host may feed ONE input per call
 * (push_audio/push_video for a call...) and return true to be called again
 * once that input's outputs are drained. Other inputs (feed_event, place,
 * answer, set_turn_servers...) go through mxrtc_net_runner_call().
 */
#ifndef MXRTC_NET_ENGINE_CALLS_H
#define MXRTC_NET_ENGINE_CALLS_H

#include <stdbool.h>

#include "mxrtc.h"
#include "net/engine.h"
#include "net/host_resolve.h"

typedef bool (*mxrtc_net_calls_tick_fn)(void *user, mxrtc_calls *c, mxrtc_time_us now, int first);

#define MXRTC_NET_CALLS_STREAMS 8     /* TURN TCP/TLS servers remembered */
#define MXRTC_NET_CALLS_RESOLVES 8    /* names being resolved at once */
#define MXRTC_NET_CALLS_JOB_POLL 20000 /* how often a host-name job is looked at (us) */

typedef struct mxrtc_net_calls_stream {
    bool used;
    mxrtc_addr server;
    char call_id[MXRTC_CALL_ID_MAX + 1];
} mxrtc_net_calls_stream;

typedef struct mxrtc_net_calls_resolve {
    bool used;
    char name[MXRTC_NET_HOST_NAME_MAX + 1];
    bool has_call;                    /* false: a TURN host name (job) */
    char call_id[MXRTC_CALL_ID_MAX + 1];
    mxrtc_net_host_job *job;
} mxrtc_net_calls_resolve;

typedef struct mxrtc_net_calls {
    mxrtc_calls *calls;               /* borrowed: the caller frees it */
    mxrtc_calls_output out;           /* the last output, for EVENT pointers */
    mxrtc_net_calls_tick_fn tick;     /* NULL: none */
    void *tick_user;
    mxrtc_time_us tick_period;
    mxrtc_time_us next_tick;          /* 0: not started */
    bool again;
    uint64_t ticks, ticks_late;
    mxrtc_net_calls_stream streams[MXRTC_NET_CALLS_STREAMS];
    mxrtc_net_calls_resolve resolves[MXRTC_NET_CALLS_RESOLVES];
    uint64_t unknown_streams;         /* stream bytes for a server no call wrote to */
    uint64_t resolves_dropped;        /* names not asked: table full, thread refused */
} mxrtc_net_calls;

/* Prepares the adapter around calls (borrowed) and returns the engine
 * table whose user pointer is a. a must outlive the runner that uses it. */
mxrtc_net_engine mxrtc_net_calls_engine(mxrtc_net_calls *a, mxrtc_calls *calls);

/* Sets the tick (before the runner starts, or from the I/O thread).
 * period 0 or fn NULL stops it. */
void mxrtc_net_calls_set_tick(mxrtc_net_calls *a, mxrtc_time_us period, mxrtc_net_calls_tick_fn fn, void *user);

/* Gives up on host-name jobs still running. Call it once the runner is
 * stopped or freed (the engine is not called any more). */
void mxrtc_net_calls_cleanup(mxrtc_net_calls *a);

#endif
