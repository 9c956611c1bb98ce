/* fake_engine.c: see fake_engine.h. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <time.h>

#include "fake_engine.h"

void fe_init(fake_engine *fe) {
    memset(fe, 0, sizeof *fe);
    pthread_mutex_init(&fe->mu, NULL);
    pthread_cond_init(&fe->cv, NULL);
}

void fe_destroy(fake_engine *fe) {
    pthread_cond_destroy(&fe->cv);
    pthread_mutex_destroy(&fe->mu);
}

void fe_lock(fake_engine *fe) {
    pthread_mutex_lock(&fe->mu);
}

void fe_unlock(fake_engine *fe) {
    pthread_cond_broadcast(&fe->cv);
    pthread_mutex_unlock(&fe->mu);
}

bool fe_wait(fake_engine *fe, bool (*pred)(fake_engine *fe)) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;                 /* hang guard, not a timing assertion */
    pthread_mutex_lock(&fe->mu);
    bool ok = pred(fe);
    while (!ok) {
        if (pthread_cond_timedwait(&fe->cv, &fe->mu, &until) != 0) {
            ok = pred(fe);
            break;
        }
        ok = pred(fe);
    }
    pthread_mutex_unlock(&fe->mu);
    return ok;
}

void fe_push(fake_engine *fe, const mxrtc_net_output *o, const uint8_t *data, size_t len, const char *name, int event) {
    if (fe->nout == FE_MAX_OUT || len > FE_MAX_DATA) return;
    fe_out *x = &fe->out[fe->nout++];
    memset(x, 0, sizeof *x);
    x->o = *o;
    if (data) memcpy(x->data, data, len);
    x->o.len = len;
    if (name) strncpy(x->name, name, sizeof x->name - 1);
    x->event = event;
}

static void after_free_check(fake_engine *fe) {
    fe_lock(fe);
    if (fe->freed) fe->calls_after_free++;
    fe_unlock(fe);
}

static int fe_datagram(void *user, mxrtc_time_us now, const mxrtc_addr *local, const mxrtc_addr *remote,
                       const uint8_t *data, size_t len) {
    fake_engine *fe = user;
    (void)now;
    after_free_check(fe);
    fe_lock(fe);
    fe->datagrams++;
    fe->last_local = *local;
    fe->last_remote = *remote;
    fe_unlock(fe);
    if (fe->echo) {
        mxrtc_net_output o;
        memset(&o, 0, sizeof o);
        o.kind = MXRTC_NET_OUT_DATAGRAM;
        o.from = *local;
        o.to = *remote;
        fe_push(fe, &o, data, len, NULL, 0);
    }
    return MXRTC_OK;
}

static int fe_stream(void *user, mxrtc_time_us now, const mxrtc_addr *server, const uint8_t *data, size_t len) {
    fake_engine *fe = user;
    (void)now;
    (void)server;
    after_free_check(fe);
    fe_lock(fe);
    if (fe->stream_rx_len + len <= sizeof fe->stream_rx) {
        memcpy(fe->stream_rx + fe->stream_rx_len, data, len);
        fe->stream_rx_len += len;
    }
    fe_unlock(fe);
    return MXRTC_OK;
}

static int fe_stream_closed(void *user, mxrtc_time_us now, const mxrtc_addr *server) {
    fake_engine *fe = user;
    (void)now;
    (void)server;
    after_free_check(fe);
    fe_lock(fe);
    fe->streams_closed++;
    fe_unlock(fe);
    return MXRTC_OK;
}

static int fe_timeout(void *user, mxrtc_time_us now) {
    fake_engine *fe = user;
    (void)now;
    after_free_check(fe);
    fe_lock(fe);
    fe->timeouts++;
    fe_unlock(fe);
    return MXRTC_OK;
}

static int fe_resolved(void *user, mxrtc_time_us now, const char *hostname, const mxrtc_addr *ip) {
    fake_engine *fe = user;
    (void)now;
    after_free_check(fe);
    fe_lock(fe);
    strncpy(fe->resolved_name, hostname, sizeof fe->resolved_name - 1);
    if (ip) {
        fe->resolves_ok++;
        fe->resolved_ip = *ip;
    } else {
        fe->resolves_failed++;
    }
    fe_unlock(fe);
    return MXRTC_OK;
}

static int fe_poll(void *user, mxrtc_time_us now, mxrtc_net_output *out) {
    fake_engine *fe = user;
    (void)now;
    after_free_check(fe);
    if (fe->nout == 0) {
        memset(out, 0, sizeof *out);
        out->kind = MXRTC_NET_OUT_DEADLINE;
        out->deadline = MXRTC_TIME_NEVER;
        return MXRTC_OK;
    }
    fe->last = fe->out[0];
    memmove(fe->out, fe->out + 1, (size_t)(fe->nout - 1) * sizeof fe->out[0]);
    fe->nout--;
    *out = fe->last.o;
    out->data = fe->last.data;
    out->hostname = fe->last.name;
    out->event = &fe->last.event;
    return MXRTC_OK;
}

mxrtc_net_engine fe_engine(fake_engine *fe) {
    mxrtc_net_engine e = {fe, fe_datagram, fe_stream, fe_stream_closed, fe_timeout, fe_resolved, fe_poll};
    return e;
}
