/* engine_ice.c: the ICE agent behind the runner's engine table. */
#include <string.h>

#include "net/engine_ice.h"

static int ice_datagram(void *user, mxrtc_time_us now, const mxrtc_addr *local, const mxrtc_addr *remote,
                        const uint8_t *data, size_t len) {
    mxrtc_net_ice *a = user;
    int rc = mxrtc_ice_agent_handle_datagram(a->agent, now, local, remote, data, len);
    if (rc != MXRTC_ERR_MALFORMED) return rc;
    /* Not STUN: application data (DTLS/SRTP) on a direct pair, RFC 7983 §7
     * demultiplexing is the host's. One slot is enough: the runner drains
     * (and so delivers it) before the next input. */
    if (len > sizeof a->rx_buf) {
        a->rx_dropped++;
        return MXRTC_ERR_LIMIT;
    }
    memcpy(a->rx_buf, data, len);
    memset(&a->rx, 0, sizeof a->rx);
    a->rx.kind = MXRTC_ICE_OUT_RECEIVED;
    a->rx.from = *remote;
    a->rx.to = *local;
    a->rx.data = a->rx_buf;
    a->rx.len = len;
    a->rx_pending = true;
    return MXRTC_OK;
}

static int ice_stream(void *user, mxrtc_time_us now, const mxrtc_addr *server, const uint8_t *data, size_t len) {
    mxrtc_net_ice *a = user;
    return mxrtc_ice_agent_handle_stream(a->agent, now, server, data, len);
}

static int ice_stream_closed(void *user, mxrtc_time_us now, const mxrtc_addr *server) {
    mxrtc_net_ice *a = user;
    return mxrtc_ice_agent_stream_closed(a->agent, now, server);
}

static int ice_timeout(void *user, mxrtc_time_us now) {
    mxrtc_net_ice *a = user;
    return mxrtc_ice_agent_handle_timeout(a->agent, now);
}

static int ice_resolved(void *user, mxrtc_time_us now, const char *hostname, const mxrtc_addr *ip) {
    mxrtc_net_ice *a = user;
    return mxrtc_ice_agent_resolved(a->agent, now, hostname, ip);
}

static int ice_poll(void *user, mxrtc_time_us now, mxrtc_net_output *out) {
    mxrtc_net_ice *a = user;
    (void)now;
    memset(out, 0, sizeof *out);
    if (a->rx_pending) {
        a->rx_pending = false;
        out->kind = MXRTC_NET_OUT_EVENT;
        out->event = &a->rx;
        return MXRTC_OK;
    }
    int rc = mxrtc_ice_agent_poll(a->agent, &a->out);
    if (rc) return rc;
    const mxrtc_ice_output *o = &a->out;
    switch (o->kind) {
    case MXRTC_ICE_OUT_DEADLINE:
        out->kind = MXRTC_NET_OUT_DEADLINE;
        out->deadline = o->deadline;
        break;
    case MXRTC_ICE_OUT_SEND:
        out->kind = MXRTC_NET_OUT_DATAGRAM;
        out->from = o->from;
        out->to = o->to;
        out->data = o->data;
        out->len = o->len;
        break;
    case MXRTC_ICE_OUT_STREAM_SEND:
        out->kind = MXRTC_NET_OUT_STREAM;
        out->to = o->to;
        out->data = o->data;
        out->len = o->len;
        break;
    case MXRTC_ICE_OUT_EVENT:
        if (o->event == MXRTC_ICE_EV_RESOLVE) {
            out->kind = MXRTC_NET_OUT_RESOLVE;
            out->hostname = o->hostname;
        } else {
            out->kind = MXRTC_NET_OUT_EVENT;
            out->event = o;
        }
        break;
    default:  /* RECEIVED, SEND_RELAY: the host's */
        out->kind = MXRTC_NET_OUT_EVENT;
        out->event = o;
        break;
    }
    return MXRTC_OK;
}

mxrtc_net_engine mxrtc_net_ice_engine(mxrtc_net_ice *a, mxrtc_ice_agent *agent) {
    memset(a, 0, sizeof *a);
    a->agent = agent;
    mxrtc_net_engine e = {a, ice_datagram, ice_stream, ice_stream_closed, ice_timeout, ice_resolved, ice_poll};
    return e;
}
