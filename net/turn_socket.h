/*
 * turn_socket.h: a TURN client on a real socket (UDP, or TCP for TCP and
 * TLS), driven by the monotonic clock. It is the smallest runner: it owns the
 * socket, feeds the sans-IO mxrtc_turn_client, sends what it produces and
 * hands its events to a callback (called on the caller's thread, no lock
 * held). Used by the `mxrtc turn-demo` command and the live coturn tests.
 * POSIX sockets; the platform calls stay in this file.
 */
#ifndef MXRTC_NET_TURN_SOCKET_H
#define MXRTC_NET_TURN_SOCKET_H

#include <stddef.h>

#include "mxrtc.h"
#include "stun/turn_client.h"

typedef void (*mxrtc_net_turn_event_fn)(void *user, const mxrtc_turn_output *event);

typedef struct mxrtc_net_turn {
    mxrtc_turn_client *client;
    int fd;
    mxrtc_turn_transport transport;
    /* Added to the monotonic clock before it reaches the client: a test can
     * jump the client minutes ahead to see refreshes against a real server. */
    mxrtc_time_us clock_offset;
    mxrtc_time_us deadline;
    mxrtc_net_turn_event_fn on_event;
    void *user;
    int error;       /* first socket error (MXRTC_ERR_IO / MXRTC_ERR_CLOSED), 0 if none */
} mxrtc_net_turn;

/* Connects a socket to server (TCP for TCP/TLS) and creates the client.
 * MXRTC_ERR_IO if the socket cannot be opened or connected, or the client's
 * creation error. */
int mxrtc_net_turn_open(mxrtc_net_turn *t, const mxrtc_addr *server, const mxrtc_turn_config *cfg,
                        mxrtc_net_turn_event_fn on_event, void *user);
/* Closes the socket and frees the client (no deallocation: do that first). */
void mxrtc_net_turn_close(mxrtc_net_turn *t);
/* The client's clock: monotonic time plus clock_offset. */
mxrtc_time_us mxrtc_net_turn_now(const mxrtc_net_turn *t);
/* Drains the client's outputs: sends, events, then records the deadline.
 * Call after every call into t->client. */
int mxrtc_net_turn_flush(mxrtc_net_turn *t);
/* Waits up to max_wait_ms for input on any of the n sockets or the earliest
 * client deadline, feeds what arrived and what is due, and flushes. */
int mxrtc_net_turn_step(mxrtc_net_turn **ts, size_t n, int max_wait_ms);

#endif
