/*
 * runner.c: one I/O thread driving a sans-IO engine over real sockets.
 * See runner.h for the contract; platform.h for every OS call.
 */
#include <limits.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "net/clock.h"
#include "net/mdns.h"
#include "net/platform.h"
#include "net/runner.h"

#define LOGTAG "net"
#define DEFAULT_MAX_COMMANDS 64
#define DEFAULT_STREAM_BUFFER (256u * 1024u)
#define RX_BUF 65536                  /* the largest UDP payload */
#define RX_BURST 64                   /* datagrams read per socket per wakeup */
#define MAX_DEFERRED 32
#define POLL_MAX (1 + MXRTC_NET_MAX_UDP + MXRTC_NET_MAX_STREAMS + MXRTC_NET_MAX_MDNS_DEST)

typedef struct udp_sock {
    mxrtc_net_sock s;
    mxrtc_addr local;
} udp_sock;

typedef struct stream_conn {
    bool used, connecting;
    mxrtc_net_sock s;
    mxrtc_addr server;
    uint8_t *buf;                     /* bytes not yet written */
    size_t len, cap;
} stream_conn;

typedef struct command {
    mxrtc_net_call_fn fn;
    void *arg;
    int *status;                      /* call_wait: 1 when run, -1 when dropped */
} command;

/* Inputs that arise while draining (a cached mDNS answer, a connection that
 * failed to open) are fed after the drain: the drain rule forbids feeding
 * the engine between two of its outputs. */
typedef struct deferred {
    enum { DEF_RESOLVED, DEF_STREAM_CLOSED } kind;
    bool ok;
    mxrtc_addr addr;
    char name[MXRTC_MDNS_NAME_MAX + 1];
} deferred;

struct mxrtc_net_runner {
    mxrtc_net_runner_config cfg;
    const mxrtc_allocator *alloc;
    udp_sock udp[MXRTC_NET_MAX_UDP];
    mxrtc_addr local[MXRTC_NET_MAX_UDP];
    size_t n_udp;
    stream_conn streams[MXRTC_NET_MAX_STREAMS];
    mxrtc_net_sock mdns_sock[MXRTC_NET_MAX_MDNS_DEST];
    mxrtc_mdns_resolver mdns;
    deferred def[MAX_DEFERRED];
    size_t n_def;
    mxrtc_time_us deadline;
    mxrtc_net_runner_stats stats;

    mxrtc_net_wakeup wake;
    mxrtc_net_mutex mu;
    mxrtc_net_cond cv;
    command *queue;                   /* ring of cfg.max_commands, under mu */
    size_t q_head, q_count;
    bool closing;                     /* under mu */
    uint64_t commands_refused;        /* under mu */

    mxrtc_net_thread thread;
    bool started;
    bool stopped;                     /* mxrtc_net_runner_stop() joined the thread */
    bool self_free;                   /* free() was called on the I/O thread */
    uint8_t rx[RX_BUF];
};

void mxrtc_net_runner_config_init(mxrtc_net_runner_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
    mxrtc_net_iface_options_init(&cfg->ifaces);
    cfg->max_commands = DEFAULT_MAX_COMMANDS;
    cfg->stream_buffer_max = DEFAULT_STREAM_BUFFER;
    mxrtc_mdns_group_v4(&cfg->mdns_dest[0]);
    mxrtc_mdns_group_v6(&cfg->mdns_dest[1]);
    cfg->n_mdns_dest = 2;
}

static void bind_one(mxrtc_net_runner *r, const mxrtc_addr *a) {
    char buf[MXRTC_ADDR_STRLEN];
    udp_sock *u = &r->udp[r->n_udp];
    if (mxrtc_net_udp_open(a, &u->s, &u->local) != MXRTC_OK) {
        MXRTC_LOGW(&r->cfg.logger, LOGTAG, "cannot bind UDP on %s",
                   mxrtc_log_addr(&r->cfg.logger, MXRTC_LOG_WARN, a, buf));
        return;
    }
    r->local[r->n_udp] = u->local;
    r->n_udp++;
    MXRTC_LOGD(&r->cfg.logger, LOGTAG, "UDP bound on %s",
               mxrtc_log_addr(&r->cfg.logger, MXRTC_LOG_DEBUG, &u->local, buf));
}

static void close_all(mxrtc_net_runner *r) {
    for (size_t i = 0; i < r->n_udp; i++) mxrtc_net_sock_close(r->udp[i].s);
    r->n_udp = 0;
    for (size_t i = 0; i < MXRTC_NET_MAX_STREAMS; i++) {
        stream_conn *c = &r->streams[i];
        if (!c->used) continue;
        mxrtc_net_sock_close(c->s);
        mxrtc_free(r->alloc, c->buf);
        c->used = false;
    }
    for (size_t i = 0; i < MXRTC_NET_MAX_MDNS_DEST; i++) {
        mxrtc_net_sock_close(r->mdns_sock[i]);
        r->mdns_sock[i] = MXRTC_NET_SOCK_INVALID;
    }
}

static void destroy(mxrtc_net_runner *r) {
    void (*on_closed)(void *) = r->cfg.on_closed;
    void *closed_user = r->cfg.closed_user;
    close_all(r);
    mxrtc_net_wakeup_close(&r->wake);
    mxrtc_net_cond_destroy(&r->cv);
    mxrtc_net_mutex_destroy(&r->mu);
    const mxrtc_allocator *alloc = r->alloc;
    mxrtc_free(alloc, r->queue);
    mxrtc_free(alloc, r);
    if (on_closed) on_closed(closed_user);
}

int mxrtc_net_runner_new(mxrtc_net_runner **out, const mxrtc_net_runner_config *cfg) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!cfg || cfg->size != sizeof *cfg) return MXRTC_ERR_INVALID_ARGUMENT;
    const mxrtc_net_engine *e = &cfg->engine;
    if (!e->handle_datagram || !e->handle_stream || !e->stream_closed || !e->handle_timeout || !e->resolved ||
        !e->poll || cfg->max_commands == 0 || cfg->n_mdns_dest > MXRTC_NET_MAX_MDNS_DEST)
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (cfg->local_addrs && cfg->n_local_addrs > MXRTC_NET_MAX_UDP) return MXRTC_ERR_LIMIT;
    mxrtc_net_runner *r = mxrtc_calloc(cfg->alloc, 1, sizeof *r);
    if (!r) return MXRTC_ERR_NO_MEMORY;
    r->cfg = *cfg;
    r->cfg.local_addrs = NULL;        /* borrowed for this call only */
    r->alloc = cfg->alloc;
    for (size_t i = 0; i < MXRTC_NET_MAX_MDNS_DEST; i++) r->mdns_sock[i] = MXRTC_NET_SOCK_INVALID;
    r->deadline = MXRTC_TIME_NEVER;
    mxrtc_mdns_resolver_init(&r->mdns, cfg->mdns_timeout);
    r->queue = mxrtc_calloc(cfg->alloc, cfg->max_commands, sizeof *r->queue);
    if (!r->queue) {
        mxrtc_free(cfg->alloc, r);
        return MXRTC_ERR_NO_MEMORY;
    }
    if (mxrtc_net_mutex_init(&r->mu) != MXRTC_OK) {
        mxrtc_free(cfg->alloc, r->queue);
        mxrtc_free(cfg->alloc, r);
        return MXRTC_ERR_IO;
    }
    if (mxrtc_net_cond_init(&r->cv) != MXRTC_OK) {
        mxrtc_net_mutex_destroy(&r->mu);
        mxrtc_free(cfg->alloc, r->queue);
        mxrtc_free(cfg->alloc, r);
        return MXRTC_ERR_IO;
    }
    if (mxrtc_net_wakeup_open(&r->wake) != MXRTC_OK) {
        r->wake.rfd = r->wake.wfd = -1;
        r->cfg.on_closed = NULL;
        destroy(r);
        return MXRTC_ERR_IO;
    }
    if (cfg->local_addrs) {
        for (size_t i = 0; i < cfg->n_local_addrs; i++) bind_one(r, &cfg->local_addrs[i]);
    } else {
        mxrtc_net_iface ifs[MXRTC_NET_MAX_UDP];
        size_t n = 0;
        int rc = mxrtc_net_interfaces(&cfg->ifaces, ifs, MXRTC_NET_MAX_UDP, &n);
        if (rc == MXRTC_ERR_LIMIT)
            MXRTC_LOGW(&r->cfg.logger, LOGTAG, "more than %d usable addresses: the first are used",
                       MXRTC_NET_MAX_UDP);
        for (size_t i = 0; i < n; i++) bind_one(r, &ifs[i].addr);
    }
    if (r->n_udp == 0) {
        r->cfg.on_closed = NULL;
        destroy(r);
        return MXRTC_ERR_IO;
    }
    *out = r;
    return MXRTC_OK;
}

void mxrtc_net_runner_local_addrs(const mxrtc_net_runner *r, const mxrtc_addr **addrs, size_t *n) {
    *addrs = r->local;
    *n = r->n_udp;
}

void mxrtc_net_runner_stats_get(mxrtc_net_runner *r, mxrtc_net_runner_stats *out) {
    *out = r->stats;
    mxrtc_net_mutex_lock(&r->mu);
    out->commands_refused = r->commands_refused;
    mxrtc_net_mutex_unlock(&r->mu);
}

bool mxrtc_net_runner_on_io_thread(const mxrtc_net_runner *r) {
    return r->started && mxrtc_net_thread_is_self(&r->thread);
}

/* ---- engine inputs and the drain ----------------------------------------- */

static void defer(mxrtc_net_runner *r, const deferred *d) {
    if (r->n_def == MAX_DEFERRED) {
        /* Cannot happen with the table sizes (pending mDNS + streams), but
         * stay bounded anyway. */
        MXRTC_LOGE(&r->cfg.logger, LOGTAG, "deferred input dropped");
        return;
    }
    r->def[r->n_def++] = *d;
}

static void note(mxrtc_net_runner *r, int rc, const char *what) {
    if (rc == MXRTC_OK) return;
    r->stats.engine_errors++;
    MXRTC_LOGD(&r->cfg.logger, LOGTAG, "engine %s: %s", what, mxrtc_strerror(rc));
}

static void send_datagram(mxrtc_net_runner *r, const mxrtc_net_output *o) {
    for (size_t i = 0; i < r->n_udp; i++) {
        if (!mxrtc_addr_equal(&r->udp[i].local, &o->from)) continue;
        if (mxrtc_net_udp_send(r->udp[i].s, &o->to, o->data, o->len) == MXRTC_OK) r->stats.datagrams_sent++;
        else r->stats.send_errors++;
        return;
    }
    r->stats.no_socket++;
}

static stream_conn *find_stream(mxrtc_net_runner *r, const mxrtc_addr *server) {
    for (size_t i = 0; i < MXRTC_NET_MAX_STREAMS; i++)
        if (r->streams[i].used && mxrtc_addr_equal(&r->streams[i].server, server)) return &r->streams[i];
    return NULL;
}

static void stream_drop(mxrtc_net_runner *r, stream_conn *c) {
    deferred d;
    memset(&d, 0, sizeof d);
    d.kind = DEF_STREAM_CLOSED;
    d.addr = c->server;
    mxrtc_net_sock_close(c->s);
    mxrtc_free(r->alloc, c->buf);
    memset(c, 0, sizeof *c);
    c->s = MXRTC_NET_SOCK_INVALID;
    r->stats.streams_closed++;
    defer(r, &d);
}

/* Appends to the unsent buffer, bounded by stream_buffer_max. */
static bool stream_buffer(mxrtc_net_runner *r, stream_conn *c, const uint8_t *p, size_t n) {
    if (n > r->cfg.stream_buffer_max - c->len) return false;
    if (c->len + n > c->cap) {
        size_t cap = c->cap ? c->cap : 4096;
        while (cap < c->len + n) cap *= 2;
        if (cap > r->cfg.stream_buffer_max) cap = r->cfg.stream_buffer_max;
        uint8_t *nb = mxrtc_realloc(r->alloc, c->buf, cap);
        if (!nb) return false;
        c->buf = nb;
        c->cap = cap;
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    return true;
}

/* Writes what the buffer holds; false if the connection broke. */
static bool stream_flush(mxrtc_net_runner *r, stream_conn *c) {
    while (c->len > 0) {
        size_t w = 0;
        int rc = mxrtc_net_stream_send(c->s, c->buf, c->len, &w);
        if (rc == MXRTC_ERR_AGAIN) return true;
        if (rc != MXRTC_OK) {
            r->stats.send_errors++;
            return false;
        }
        r->stats.stream_bytes_sent += w;
        memmove(c->buf, c->buf + w, c->len - w);
        c->len -= w;
    }
    return true;
}

static void send_stream(mxrtc_net_runner *r, const mxrtc_net_output *o) {
    stream_conn *c = find_stream(r, &o->to);
    if (!c) {
        for (size_t i = 0; i < MXRTC_NET_MAX_STREAMS && !c; i++)
            if (!r->streams[i].used) c = &r->streams[i];
        deferred d;
        memset(&d, 0, sizeof d);
        d.kind = DEF_STREAM_CLOSED;
        d.addr = o->to;
        if (!c) {
            MXRTC_LOGW(&r->cfg.logger, LOGTAG, "no room for another TURN connection");
            defer(r, &d);
            return;
        }
        if (mxrtc_net_tcp_connect(&o->to, &c->s) != MXRTC_OK) {
            r->stats.send_errors++;
            defer(r, &d);
            return;
        }
        c->used = true;
        c->connecting = true;
        c->server = o->to;
        r->stats.streams_opened++;
    }
    if (c->connecting || c->len > 0) {
        if (!stream_buffer(r, c, o->data, o->len)) {
            r->stats.stream_overflows++;
            stream_drop(r, c);
        }
        return;
    }
    size_t w = 0;
    int rc = mxrtc_net_stream_send(c->s, o->data, o->len, &w);
    if (rc != MXRTC_OK && rc != MXRTC_ERR_AGAIN) {
        r->stats.send_errors++;
        stream_drop(r, c);
        return;
    }
    r->stats.stream_bytes_sent += w;
    if (w < o->len && !stream_buffer(r, c, o->data + w, o->len - w)) {
        r->stats.stream_overflows++;
        stream_drop(r, c);
    }
}

static void defer_resolved(mxrtc_net_runner *r, const char *name, const mxrtc_addr *ip) {
    deferred d;
    memset(&d, 0, sizeof d);
    d.kind = DEF_RESOLVED;
    size_t n = strlen(name);
    if (n > MXRTC_MDNS_NAME_MAX) n = MXRTC_MDNS_NAME_MAX;
    memcpy(d.name, name, n);
    if (ip) {
        d.ok = true;
        d.addr = *ip;
    }
    defer(r, &d);
}

/* Sends the query for name to every destination; false if none took it. */
static bool send_query(mxrtc_net_runner *r, const char *name) {
    uint8_t q[MXRTC_MDNS_QUERY_MAX];
    int qlen = mxrtc_mdns_build_query(name, q, sizeof q);
    if (qlen < 0) return false;
    bool sent = false;
    for (size_t i = 0; i < r->cfg.n_mdns_dest; i++) {
        const mxrtc_addr *dst = &r->cfg.mdns_dest[i];
        if (r->mdns_sock[i] == MXRTC_NET_SOCK_INVALID) {
            /* From an ephemeral port: a one-shot query (RFC 6762 §5.1);
             * responders answer such queries by unicast to it (§6.7). */
            mxrtc_addr any, bound;
            memset(&any, 0, sizeof any);
            any.family = dst->family;
            if (mxrtc_net_udp_open(&any, &r->mdns_sock[i], &bound) != MXRTC_OK) continue;
            mxrtc_net_udp_multicast_prepare(r->mdns_sock[i], dst->family);
        }
        if (mxrtc_net_udp_send(r->mdns_sock[i], dst, q, (size_t)qlen) == MXRTC_OK) sent = true;
    }
    return sent;
}

static void start_resolve(mxrtc_net_runner *r, mxrtc_time_us now, const char *name) {
    mxrtc_addr ip;
    if (mxrtc_mdns_cache_lookup(&r->mdns, now, name, &ip) == MXRTC_OK) {
        defer_resolved(r, name, &ip);
        return;
    }
    uint8_t q[MXRTC_MDNS_QUERY_MAX];
    if (mxrtc_mdns_build_query(name, q, sizeof q) < 0) {   /* not a .local name */
        r->stats.mdns_failures++;
        defer_resolved(r, name, NULL);
        return;
    }
    int rc = mxrtc_mdns_pending_add(&r->mdns, now, name);
    if (rc == MXRTC_ERR_AGAIN) return;     /* already asked: one answer serves both */
    if (rc != MXRTC_OK || !send_query(r, name)) {
        mxrtc_mdns_pending_take(&r->mdns, name, NULL);
        r->stats.mdns_failures++;
        defer_resolved(r, name, NULL);
        return;
    }
    r->stats.mdns_queries++;
}

/* Polls the engine until its deadline. false: the runner was freed from the
 * event callback and must not be touched (beyond tearing itself down). */
static bool drain(mxrtc_net_runner *r, mxrtc_time_us now) {
    for (;;) {
        mxrtc_net_output o;
        int rc = r->cfg.engine.poll(r->cfg.engine.user, now, &o);
        if (rc != MXRTC_OK) {
            note(r, rc, "poll");
            r->deadline = MXRTC_TIME_NEVER;
            return true;
        }
        switch (o.kind) {
        case MXRTC_NET_OUT_DEADLINE:
            r->deadline = o.deadline;
            return true;
        case MXRTC_NET_OUT_DATAGRAM:
            send_datagram(r, &o);
            break;
        case MXRTC_NET_OUT_STREAM:
            send_stream(r, &o);
            break;
        case MXRTC_NET_OUT_RESOLVE:
            if (o.hostname) start_resolve(r, now, o.hostname);
            break;
        case MXRTC_NET_OUT_EVENT:
            if (r->cfg.on_event) r->cfg.on_event(r->cfg.event_user, r, o.event);
            if (r->self_free) return false;
            break;
        default:
            note(r, MXRTC_ERR_INTERNAL, "output kind");
            break;
        }
    }
}

/* Drains, then feeds what the drain deferred (and drains again). */
static bool settle(mxrtc_net_runner *r, mxrtc_time_us now) {
    if (!drain(r, now)) return false;
    while (r->n_def > 0) {
        deferred d = r->def[0];
        memmove(r->def, r->def + 1, (r->n_def - 1) * sizeof *r->def);
        r->n_def--;
        int rc;
        if (d.kind == DEF_RESOLVED)
            rc = r->cfg.engine.resolved(r->cfg.engine.user, now, d.name, d.ok ? &d.addr : NULL);
        else
            rc = r->cfg.engine.stream_closed(r->cfg.engine.user, now, &d.addr);
        note(r, rc, d.kind == DEF_RESOLVED ? "resolved" : "stream_closed");
        if (!drain(r, now)) return false;
    }
    return true;
}

/* ---- the I/O thread ----------------------------------------------------- */

static bool run_commands(mxrtc_net_runner *r) {
    for (size_t budget = r->cfg.max_commands; budget > 0; budget--) {
        mxrtc_net_mutex_lock(&r->mu);
        if (r->q_count == 0) {
            mxrtc_net_mutex_unlock(&r->mu);
            break;
        }
        command c = r->queue[r->q_head];
        r->q_head = (r->q_head + 1) % r->cfg.max_commands;
        r->q_count--;
        mxrtc_net_cond_broadcast(&r->cv);   /* room for a waiting call_wait */
        mxrtc_net_mutex_unlock(&r->mu);
        mxrtc_time_us now = mxrtc_net_now();
        c.fn(c.arg, now);
        r->stats.commands_run++;
        if (c.status) {
            mxrtc_net_mutex_lock(&r->mu);
            *c.status = 1;
            mxrtc_net_cond_broadcast(&r->cv);
            mxrtc_net_mutex_unlock(&r->mu);
        }
        if (r->self_free || !settle(r, now)) return false;
    }
    return true;
}

static void on_udp(mxrtc_net_runner *r, udp_sock *u, bool *alive) {
    for (int i = 0; i < RX_BURST && *alive; i++) {
        size_t n = 0;
        mxrtc_addr from;
        if (mxrtc_net_udp_recv(u->s, r->rx, sizeof r->rx, &n, &from) != MXRTC_OK) return;
        r->stats.datagrams_received++;
        mxrtc_time_us now = mxrtc_net_now();
        note(r, r->cfg.engine.handle_datagram(r->cfg.engine.user, now, &u->local, &from, r->rx, n), "datagram");
        *alive = settle(r, now);
    }
}

static void on_stream(mxrtc_net_runner *r, stream_conn *c, const mxrtc_net_pollent *pe, bool *alive) {
    mxrtc_time_us now = mxrtc_net_now();
    if (c->connecting) {
        if (!pe->writable && !pe->failed && !pe->readable) return;
        if (mxrtc_net_tcp_connect_result(c->s) != MXRTC_OK) {
            MXRTC_LOGI(&r->cfg.logger, LOGTAG, "TURN connection failed");
            stream_drop(r, c);
            *alive = settle(r, now);
            return;
        }
        c->connecting = false;
    }
    if (c->len > 0 && !stream_flush(r, c)) {
        stream_drop(r, c);
        *alive = settle(r, now);
        return;
    }
    if (!pe->readable && !pe->failed) return;
    size_t n = 0;
    int rc = mxrtc_net_stream_recv(c->s, r->rx, sizeof r->rx, &n);
    if (rc == MXRTC_ERR_AGAIN) return;
    if (rc != MXRTC_OK) {
        stream_drop(r, c);
        *alive = settle(r, now);
        return;
    }
    r->stats.stream_bytes_received += n;
    note(r, r->cfg.engine.handle_stream(r->cfg.engine.user, now, &c->server, r->rx, n), "stream");
    *alive = settle(r, now);
}

static void on_mdns(mxrtc_net_runner *r, mxrtc_net_sock s, bool *alive) {
    for (int i = 0; i < RX_BURST && *alive; i++) {
        size_t n = 0;
        mxrtc_addr from;
        if (mxrtc_net_udp_recv(s, r->rx, sizeof r->rx, &n, &from) != MXRTC_OK) return;
        mxrtc_mdns_record recs[8];
        size_t count = 0;
        if (mxrtc_mdns_parse_response(r->rx, n, recs, 8, &count) != MXRTC_OK) continue;
        mxrtc_time_us now = mxrtc_net_now();
        for (size_t k = 0; k < count; k++) {
            /* Only names we asked for: an unsolicited answer cannot plant
             * an address in the cache. */
            char asked[MXRTC_MDNS_NAME_MAX + 1];
            if (!mxrtc_mdns_pending_take(&r->mdns, recs[k].name, asked)) continue;
            mxrtc_mdns_cache_store(&r->mdns, now, asked, &recs[k].ip, recs[k].ttl);
            r->stats.mdns_answers++;
            defer_resolved(r, asked, &recs[k].ip);   /* the engine's spelling */
        }
        *alive = settle(r, now);
    }
}

static int wait_ms(mxrtc_time_us now, mxrtc_time_us next) {
    if (next == MXRTC_TIME_NEVER) return -1;
    if (next <= now) return 0;
    mxrtc_time_us ms = (next - now + 999) / 1000;   /* round up: never wake early */
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Commands that will never run: each is called once with MXRTC_TIME_NEVER to
 * release its argument, and its waiter (if any) is told. No new command can
 * arrive: closing is set first, under the lock. */
static void cancel_commands(mxrtc_net_runner *r) {
    mxrtc_net_mutex_lock(&r->mu);
    r->closing = true;
    while (r->q_count > 0) {
        command c = r->queue[r->q_head];
        r->q_head = (r->q_head + 1) % r->cfg.max_commands;
        r->q_count--;
        mxrtc_net_mutex_unlock(&r->mu);
        c.fn(c.arg, MXRTC_TIME_NEVER);
        mxrtc_net_mutex_lock(&r->mu);
        if (c.status) *c.status = -1;
    }
    mxrtc_net_cond_broadcast(&r->cv);
    mxrtc_net_mutex_unlock(&r->mu);
}

static void io_main(void *arg) {
    mxrtc_net_runner *r = arg;
    bool alive = settle(r, mxrtc_net_now());
    while (alive) {
        mxrtc_net_mutex_lock(&r->mu);
        bool closing = r->closing;
        mxrtc_net_mutex_unlock(&r->mu);
        if (closing) break;

        mxrtc_net_pollent pe[POLL_MAX];
        stream_conn *pc[MXRTC_NET_MAX_STREAMS];
        size_t n = 0, first_udp, first_stream, first_mdns, ns = 0;
        memset(pe, 0, sizeof pe);
        pe[n++].sock = mxrtc_net_wakeup_sock(&r->wake);
        first_udp = n;
        for (size_t i = 0; i < r->n_udp; i++) pe[n++].sock = r->udp[i].s;
        first_stream = n;
        for (size_t i = 0; i < MXRTC_NET_MAX_STREAMS; i++) {
            stream_conn *c = &r->streams[i];
            if (!c->used) continue;
            pe[n].sock = c->s;
            pe[n].want_write = c->connecting || c->len > 0;
            pc[ns++] = c;
            n++;
        }
        first_mdns = n;
        size_t mdns_idx[MXRTC_NET_MAX_MDNS_DEST], nm = 0;
        for (size_t i = 0; i < MXRTC_NET_MAX_MDNS_DEST; i++) {
            if (r->mdns_sock[i] == MXRTC_NET_SOCK_INVALID) continue;
            mdns_idx[nm++] = i;
            pe[n++].sock = r->mdns_sock[i];
        }
        mxrtc_time_us now = mxrtc_net_now();
        mxrtc_time_us next = r->deadline;
        mxrtc_time_us md = mxrtc_mdns_next_deadline(&r->mdns);
        if (md < next) next = md;
        if (mxrtc_net_poll(pe, n, wait_ms(now, next)) != MXRTC_OK) {
            MXRTC_LOGE(&r->cfg.logger, LOGTAG, "poll failed");
            break;
        }
        if (pe[0].readable) {
            mxrtc_net_wakeup_drain(&r->wake);
            alive = run_commands(r);
        }
        for (size_t i = 0; i < r->n_udp && alive; i++)
            if (pe[first_udp + i].readable || pe[first_udp + i].failed) on_udp(r, &r->udp[i], &alive);
        for (size_t i = 0; i < ns && alive; i++)
            if (pc[i]->used && pc[i]->s == pe[first_stream + i].sock) on_stream(r, pc[i], &pe[first_stream + i], &alive);
        for (size_t i = 0; i < nm && alive; i++)
            if (pe[first_mdns + i].readable) on_mdns(r, r->mdns_sock[mdns_idx[i]], &alive);
        if (!alive) break;
        now = mxrtc_net_now();
        char name[MXRTC_MDNS_NAME_MAX + 1];
        while (mxrtc_mdns_pending_resend(&r->mdns, now, name))
            if (send_query(r, name)) r->stats.mdns_retransmits++;
        while (mxrtc_mdns_pending_expired(&r->mdns, now, name)) {
            r->stats.mdns_failures++;
            defer_resolved(r, name, NULL);
        }
        if (r->deadline != MXRTC_TIME_NEVER && now >= r->deadline) {
            r->deadline = MXRTC_TIME_NEVER;
            note(r, r->cfg.engine.handle_timeout(r->cfg.engine.user, now), "timeout");
        }
        alive = settle(r, now);
    }
    cancel_commands(r);
    if (r->self_free) {
        /* mxrtc_net_runner_free() was called on this thread: nobody will
         * join it, so it detaches and takes the runner down itself. */
        mxrtc_net_thread_detach_self();
        destroy(r);
    }
}

int mxrtc_net_runner_start(mxrtc_net_runner *r) {
    if (!r) return MXRTC_ERR_INVALID_ARGUMENT;
    if (r->started) return MXRTC_ERR_STATE;
    /* Set first: the thread may deliver events (and the host ask
     * mxrtc_net_runner_on_io_thread) before pthread_create returns. */
    r->started = true;
    if (mxrtc_net_thread_start(&r->thread, io_main, r) != MXRTC_OK) {
        r->started = false;
        return MXRTC_ERR_IO;
    }
    return MXRTC_OK;
}

static int enqueue(mxrtc_net_runner *r, mxrtc_net_call_fn fn, void *arg, int *status) {
    mxrtc_net_mutex_lock(&r->mu);
    if (r->closing) {
        mxrtc_net_mutex_unlock(&r->mu);
        return MXRTC_ERR_CLOSED;
    }
    /* call_wait blocks anyway: it waits for room rather than failing. */
    while (status && r->q_count == r->cfg.max_commands && !r->closing) mxrtc_net_cond_wait(&r->cv, &r->mu);
    if (r->closing) {
        mxrtc_net_mutex_unlock(&r->mu);
        return MXRTC_ERR_CLOSED;
    }
    if (r->q_count == r->cfg.max_commands) {
        r->commands_refused++;
        mxrtc_net_mutex_unlock(&r->mu);
        return MXRTC_ERR_LIMIT;
    }
    command *c = &r->queue[(r->q_head + r->q_count) % r->cfg.max_commands];
    c->fn = fn;
    c->arg = arg;
    c->status = status;
    r->q_count++;
    mxrtc_net_mutex_unlock(&r->mu);
    mxrtc_net_wakeup_signal(&r->wake);
    return MXRTC_OK;
}

int mxrtc_net_runner_call(mxrtc_net_runner *r, mxrtc_net_call_fn fn, void *arg) {
    if (!r || !fn) return MXRTC_ERR_INVALID_ARGUMENT;
    return enqueue(r, fn, arg, NULL);
}

int mxrtc_net_runner_call_wait(mxrtc_net_runner *r, mxrtc_net_call_fn fn, void *arg) {
    if (!r || !fn) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!r->started) {
        fn(arg, mxrtc_net_now());
        return MXRTC_OK;
    }
    if (mxrtc_net_runner_on_io_thread(r)) return MXRTC_ERR_STATE;
    int status = 0;
    int rc = enqueue(r, fn, arg, &status);
    if (rc) return rc;
    mxrtc_net_mutex_lock(&r->mu);
    while (status == 0) mxrtc_net_cond_wait(&r->cv, &r->mu);
    mxrtc_net_mutex_unlock(&r->mu);
    return status > 0 ? MXRTC_OK : MXRTC_ERR_CLOSED;
}

int mxrtc_net_runner_stop(mxrtc_net_runner *r) {
    if (!r) return MXRTC_ERR_INVALID_ARGUMENT;
    if (r->started && !r->stopped) {
        if (mxrtc_net_thread_is_self(&r->thread)) return MXRTC_ERR_STATE;
        mxrtc_net_mutex_lock(&r->mu);
        r->closing = true;
        mxrtc_net_mutex_unlock(&r->mu);
        mxrtc_net_wakeup_signal(&r->wake);
        mxrtc_net_thread_join(&r->thread);
        r->stopped = true;
    }
    cancel_commands(r);
    return MXRTC_OK;
}

void mxrtc_net_runner_free(mxrtc_net_runner *r) {
    if (!r) return;
    if (!r->started || r->stopped) {
        cancel_commands(r);
        destroy(r);
        return;
    }
    if (mxrtc_net_thread_is_self(&r->thread)) {
        /* Pion's lesson (STYLE.md): Close() from a callback must not wait
         * for the thread it runs on. Mark it; the loop unwinds. */
        mxrtc_net_mutex_lock(&r->mu);
        r->closing = true;            /* other threads' calls now fail */
        mxrtc_net_mutex_unlock(&r->mu);
        r->self_free = true;
        return;
    }
    mxrtc_net_mutex_lock(&r->mu);
    r->closing = true;
    mxrtc_net_mutex_unlock(&r->mu);
    mxrtc_net_wakeup_signal(&r->wake);
    mxrtc_net_thread_join(&r->thread);
    destroy(r);
}
