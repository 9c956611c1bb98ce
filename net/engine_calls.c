/* engine_calls.c: mxrtc_calls behind the runner's engine table (engine_calls.h). */
#include <string.h>

#include "net/engine_calls.h"
#include "net/tick.h"

static int calls_datagram(void *user, mxrtc_time_us now, const mxrtc_addr *local, const mxrtc_addr *remote,
                          const uint8_t *data, size_t len) {
    mxrtc_net_calls *a = user;
    return mxrtc_calls_handle_datagram(a->calls, now, local, remote, data, len);
}

static mxrtc_net_calls_stream *stream_of(mxrtc_net_calls *a, const mxrtc_addr *server) {
    for (size_t i = 0; i < MXRTC_NET_CALLS_STREAMS; i++)
        if (a->streams[i].used && mxrtc_addr_equal(&a->streams[i].server, server)) return &a->streams[i];
    return NULL;
}

static int calls_stream(void *user, mxrtc_time_us now, const mxrtc_addr *server, const uint8_t *data, size_t len) {
    mxrtc_net_calls *a = user;
    mxrtc_net_calls_stream *s = stream_of(a, server);
    if (!s) {
        a->unknown_streams++;
        return MXRTC_ERR_NOT_FOUND;
    }
    return mxrtc_calls_handle_stream(a->calls, now, s->call_id, server, data, len, 0);
}

static int calls_stream_closed(void *user, mxrtc_time_us now, const mxrtc_addr *server) {
    mxrtc_net_calls *a = user;
    mxrtc_net_calls_stream *s = stream_of(a, server);
    if (!s) return MXRTC_ERR_NOT_FOUND;
    s->used = false;
    return mxrtc_calls_handle_stream(a->calls, now, s->call_id, server, NULL, 0, 1);
}

static int calls_timeout(void *user, mxrtc_time_us now) {
    mxrtc_net_calls *a = user;
    return mxrtc_calls_handle_timeout(a->calls, now);
}

/* The runner's mDNS answer: back to the call that asked. */
static int calls_resolved(void *user, mxrtc_time_us now, const char *hostname, const mxrtc_addr *ip) {
    mxrtc_net_calls *a = user;
    for (size_t i = 0; i < MXRTC_NET_CALLS_RESOLVES; i++) {
        mxrtc_net_calls_resolve *r = &a->resolves[i];
        if (!r->used || !r->has_call || strcmp(r->name, hostname) != 0) continue;
        r->used = false;
        return mxrtc_calls_resolved(a->calls, now, r->call_id, hostname, ip);
    }
    return MXRTC_ERR_NOT_FOUND;
}

static mxrtc_net_calls_resolve *free_resolve(mxrtc_net_calls *a) {
    for (size_t i = 0; i < MXRTC_NET_CALLS_RESOLVES; i++)
        if (!a->resolves[i].used) return &a->resolves[i];
    return NULL;
}

/* A TURN host name: a job on its own thread. */
static void start_job(mxrtc_net_calls *a, const char *name) {
    mxrtc_net_calls_resolve *r = free_resolve(a);
    if (!r || strlen(name) > MXRTC_NET_HOST_NAME_MAX || mxrtc_net_host_job_start(&r->job, name) != MXRTC_OK) {
        a->resolves_dropped++;
        return;
    }
    r->used = true;
    r->has_call = false;
    memcpy(r->name, name, strlen(name) + 1);
}

/* With the object drained: one finished job's answer is fed (an input).
 * *pending is set when a job still runs. */
static bool feed_job(mxrtc_net_calls *a, mxrtc_time_us now, bool *pending) {
    *pending = false;
    for (size_t i = 0; i < MXRTC_NET_CALLS_RESOLVES; i++) {
        mxrtc_net_calls_resolve *r = &a->resolves[i];
        if (!r->used || r->has_call) continue;
        bool ok = false;
        mxrtc_addr ip;
        if (!mxrtc_net_host_job_done(r->job, &ok, &ip)) {
            *pending = true;
            continue;
        }
        (void)mxrtc_calls_resolved(a->calls, now, NULL, r->name, ok ? &ip : NULL);
        mxrtc_net_host_job_release(r->job);
        r->job = NULL;
        r->used = false;
        return true;
    }
    return false;
}

static bool remember_stream(mxrtc_net_calls *a, const mxrtc_calls_output *o) {
    if (!o->call_id) return false;
    mxrtc_net_calls_stream *s = stream_of(a, &o->to);
    if (!s)
        for (size_t i = 0; i < MXRTC_NET_CALLS_STREAMS && !s; i++)
            if (!a->streams[i].used) s = &a->streams[i];
    if (!s) return false;
    size_t n = strlen(o->call_id);
    if (n > MXRTC_CALL_ID_MAX) return false;
    s->used = true;
    s->server = o->to;
    memcpy(s->call_id, o->call_id, n + 1);
    return true;
}

static int calls_poll(void *user, mxrtc_time_us now, mxrtc_net_output *out) {
    mxrtc_net_calls *a = user;
    memset(out, 0, sizeof *out);
    bool jobs = false;
    for (;;) {
        int rc = mxrtc_calls_poll(a->calls, now, &a->out);
        if (rc) return rc;
        const mxrtc_calls_output *o = &a->out;
        if (o->kind == MXRTC_CALLS_OUT_RESOLVE && !o->call_id) {
            start_job(a, o->text);
            continue;
        }
        if (o->kind != MXRTC_CALLS_OUT_DEADLINE) break;
        /* Drained: a finished name may be fed, then the tick, one input each. */
        if (feed_job(a, now, &jobs)) continue;
        if (!a->tick || !a->tick_period) break;
        int first = mxrtc_net_tick_due(now, a->tick_period, &a->next_tick, a->again, &a->ticks, &a->ticks_late);
        if (first < 0) break;
        a->again = a->tick(a->tick_user, a->calls, now, first);
    }
    const mxrtc_calls_output *o = &a->out;
    switch (o->kind) {
    case MXRTC_CALLS_OUT_DEADLINE:
        out->kind = MXRTC_NET_OUT_DEADLINE;
        out->deadline = o->deadline;
        out->deadline = mxrtc_net_tick_deadline(out->deadline, a->tick && a->tick_period, a->next_tick);
        if (jobs && now + MXRTC_NET_CALLS_JOB_POLL < out->deadline) out->deadline = now + MXRTC_NET_CALLS_JOB_POLL;
        break;
    case MXRTC_CALLS_OUT_DATAGRAM:
        out->kind = MXRTC_NET_OUT_DATAGRAM;
        out->from = o->from;
        out->to = o->to;
        out->data = o->data;
        out->len = o->len;
        break;
    case MXRTC_CALLS_OUT_STREAM:
        if (!remember_stream(a, o)) a->unknown_streams++;
        out->kind = MXRTC_NET_OUT_STREAM;
        out->to = o->to;
        out->data = o->data;
        out->len = o->len;
        break;
    case MXRTC_CALLS_OUT_RESOLVE: {
        mxrtc_net_calls_resolve *r = free_resolve(a);
        size_t n = strlen(o->text), m = strlen(o->call_id);
        if (r && n <= MXRTC_NET_HOST_NAME_MAX && m <= MXRTC_CALL_ID_MAX) {
            r->used = true;
            r->has_call = true;
            memcpy(r->name, o->text, n + 1);
            memcpy(r->call_id, o->call_id, m + 1);
        } else {
            a->resolves_dropped++;
        }
        out->kind = MXRTC_NET_OUT_RESOLVE;
        out->hostname = o->text;
        break;
    }
    default:
        out->kind = MXRTC_NET_OUT_EVENT;
        out->event = o;
        break;
    }
    return MXRTC_OK;
}

mxrtc_net_engine mxrtc_net_calls_engine(mxrtc_net_calls *a, mxrtc_calls *calls) {
    memset(a, 0, sizeof *a);
    a->calls = calls;
    mxrtc_net_engine e = {a, calls_datagram, calls_stream, calls_stream_closed, calls_timeout, calls_resolved,
                          calls_poll};
    return e;
}

void mxrtc_net_calls_set_tick(mxrtc_net_calls *a, mxrtc_time_us period, mxrtc_net_calls_tick_fn fn, void *user) {
    a->tick = fn;
    a->tick_user = user;
    a->tick_period = fn ? period : 0;
    a->next_tick = 0;
    a->again = false;
}

void mxrtc_net_calls_cleanup(mxrtc_net_calls *a) {
    for (size_t i = 0; i < MXRTC_NET_CALLS_RESOLVES; i++) {
        mxrtc_net_calls_resolve *r = &a->resolves[i];
        if (r->used && !r->has_call) mxrtc_net_host_job_release(r->job);
        r->job = NULL;
        r->used = false;
    }
}
