/*
 * engine.h: the small interface the runner (net/runner.h) drives. Any sans-IO
 * object with the transport shape of the ICE agent (datagrams between local
 * and remote addresses, byte streams to TURN servers, mDNS names to resolve,
 * events and a deadline) plugs in through a table of function pointers and a
 * user pointer. Adapters: net/engine_ice.h (the ICE agent); the peer
 * connection gets its own when it lands.
 *
 * Thread rule: the runner calls these only from its I/O thread (or from the
 * thread that owns the runner before mxrtc_net_runner_start()), never two at
 * once. The drain rule (DESIGN.md) is the runner's: after every input it calls
 * poll until a DEADLINE comes back.
 */
#ifndef MXRTC_NET_ENGINE_H
#define MXRTC_NET_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"

typedef enum mxrtc_net_output_kind {
    MXRTC_NET_OUT_DEADLINE = 0,  /* nothing more now: call handle_timeout at `deadline` */
    MXRTC_NET_OUT_DATAGRAM = 1,  /* send data (UDP) from local address `from` to `to` */
    MXRTC_NET_OUT_STREAM = 2,    /* write data to the TCP connection to TURN server `to`,
                                    opening it first if there is none (TLS, if any, is
                                    already inside the bytes: the engine runs it) */
    MXRTC_NET_OUT_RESOLVE = 3,   /* resolve `hostname` (an mDNS ".local" name); answer
                                    with resolved() */
    MXRTC_NET_OUT_EVENT = 4      /* hand `event` to the host; opaque to the runner */
} mxrtc_net_output_kind;

/* One output. Pointers (data, hostname, event) are owned by the engine and
 * valid until its next call (the runner uses them before calling again). */
typedef struct mxrtc_net_output {
    mxrtc_net_output_kind kind;
    mxrtc_time_us deadline;      /* DEADLINE: MXRTC_TIME_NEVER if none */
    mxrtc_addr from, to;         /* DATAGRAM: from/to; STREAM: to (the server) */
    const uint8_t *data;         /* DATAGRAM, STREAM */
    size_t len;
    const char *hostname;        /* RESOLVE: NUL-terminated */
    const void *event;           /* EVENT: the engine's own event type */
} mxrtc_net_output;

typedef struct mxrtc_net_engine {
    void *user;
    /* A datagram arrived on the socket bound to `local` from `remote`.
     * Borrowed bytes. Errors are logged and counted by the runner. */
    int (*handle_datagram)(void *user, mxrtc_time_us now, const mxrtc_addr *local,
                           const mxrtc_addr *remote, const uint8_t *data, size_t len);
    /* Bytes the TCP connection to `server` delivered (any chunking). */
    int (*handle_stream)(void *user, mxrtc_time_us now, const mxrtc_addr *server,
                         const uint8_t *data, size_t len);
    /* That connection closed, failed to connect, or overflowed its buffer. */
    int (*stream_closed)(void *user, mxrtc_time_us now, const mxrtc_addr *server);
    /* The clock reached the deadline (early calls are harmless). */
    int (*handle_timeout)(void *user, mxrtc_time_us now);
    /* The answer to a RESOLVE: ip (port 0) or NULL when resolution failed. */
    int (*resolved)(void *user, mxrtc_time_us now, const char *hostname, const mxrtc_addr *ip);
    /* The next output (see mxrtc_net_output). A negative return is an engine
     * failure: the runner logs it and treats it as "no deadline". */
    int (*poll)(void *user, mxrtc_time_us now, mxrtc_net_output *out);
} mxrtc_net_engine;

#endif
