/* engine_peer.c: the peer connection behind the runner's engine table. */
#include <string.h>

#include "net/engine_peer.h"
#include "net/tick.h"

static int peer_datagram(void *user, mxrtc_time_us now, const mxrtc_addr *local, const mxrtc_addr *remote,
                         const uint8_t *data, size_t len) {
    mxrtc_net_peer *a = user;
    return mxrtc_peer_handle_datagram(a->peer, now, local, remote, data, len);
}

static int peer_stream(void *user, mxrtc_time_us now, const mxrtc_addr *server, const uint8_t *data,
                       size_t len) {
    mxrtc_net_peer *a = user;
    return mxrtc_peer_handle_stream(a->peer, now, server, data, len, 0);
}

static int peer_stream_closed(void *user, mxrtc_time_us now, const mxrtc_addr *server) {
    mxrtc_net_peer *a = user;
    return mxrtc_peer_handle_stream(a->peer, now, server, NULL, 0, 1);
}

static int peer_timeout(void *user, mxrtc_time_us now) {
    mxrtc_net_peer *a = user;
    return mxrtc_peer_handle_timeout(a->peer, now);
}

static int peer_resolved(void *user, mxrtc_time_us now, const char *hostname, const mxrtc_addr *ip) {
    mxrtc_net_peer *a = user;
    return mxrtc_peer_resolved(a->peer, now, hostname, ip);
}

static int peer_poll(void *user, mxrtc_time_us now, mxrtc_net_output *out) {
    mxrtc_net_peer *a = user;
    memset(out, 0, sizeof *out);
    for (;;) {
        int rc = mxrtc_peer_poll(a->peer, now, &a->out);
        if (rc) return rc;
        const mxrtc_peer_output *o = &a->out;
        if (o->kind != MXRTC_PEER_OUT_DEADLINE || !a->tick || !a->tick_period) break;
        /* Drained: the tick may feed one input now (the drain rule holds). */
        int first = mxrtc_net_tick_due(now, a->tick_period, &a->next_tick, a->again, &a->ticks, &a->ticks_late);
        if (first < 0) break;
        a->again = a->tick(a->tick_user, a->peer, now, first);
    }
    const mxrtc_peer_output *o = &a->out;
    switch (o->kind) {
    case MXRTC_PEER_OUT_DEADLINE:
        out->kind = MXRTC_NET_OUT_DEADLINE;
        out->deadline = o->deadline;
        out->deadline = mxrtc_net_tick_deadline(out->deadline, a->tick && a->tick_period, a->next_tick);
        break;
    case MXRTC_PEER_OUT_DATAGRAM:
        out->kind = MXRTC_NET_OUT_DATAGRAM;
        out->from = o->from;
        out->to = o->to;
        out->data = o->data;
        out->len = o->len;
        break;
    case MXRTC_PEER_OUT_STREAM:
        out->kind = MXRTC_NET_OUT_STREAM;
        out->to = o->to;
        out->data = o->data;
        out->len = o->len;
        break;
    default:
        if (o->event == MXRTC_PEER_EV_RESOLVE) {
            out->kind = MXRTC_NET_OUT_RESOLVE;
            out->hostname = o->text;
        } else {
            out->kind = MXRTC_NET_OUT_EVENT;
            out->event = o;
        }
        break;
    }
    return MXRTC_OK;
}

mxrtc_net_engine mxrtc_net_peer_engine(mxrtc_net_peer *a, mxrtc_peer *peer) {
    memset(a, 0, sizeof *a);
    a->peer = peer;
    mxrtc_net_engine e = {a, peer_datagram, peer_stream, peer_stream_closed, peer_timeout, peer_resolved,
                          peer_poll};
    return e;
}

void mxrtc_net_peer_set_tick(mxrtc_net_peer *a, mxrtc_time_us period, mxrtc_net_peer_tick_fn fn, void *user) {
    a->tick = fn;
    a->tick_user = user;
    a->tick_period = fn ? period : 0;
    a->next_tick = 0;
    a->again = false;
}
