/*
 * test_runner.c: the runner around a scripted engine, on real loopback
 * sockets: datagrams in and out with the right local address, the command
 * queue (bounded, from several threads, call_wait refusing to wait for
 * itself), TCP to a "TURN server" opened on first use, failed connections,
 * mDNS resolution against a responder the test runs on 127.0.0.1 (the
 * runner's query destination is injected: nothing reaches the LAN), a
 * resolution that times out, and shutdown from inside the event callback.
 * Every wait is bounded by a hang guard; nothing sleeps.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_engine.h"
#include "support/test_alloc.h"
#include "net/mdns.h"
#include "net/runner.h"

static mxrtc_addr loop4(uint16_t port) {
    mxrtc_addr a;
    static const uint8_t ip[4] = {127, 0, 0, 1};
    mxrtc_addr_set_ipv4(&a, ip, port);
    return a;
}

static int test_udp(mxrtc_addr *bound) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    *bound = loop4(ntohs(sa.sin_port));
    return fd;
}

static void to_sin(const mxrtc_addr *a, struct sockaddr_in *sa) {
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    memcpy(&sa->sin_addr, a->ip, 4);
    sa->sin_port = htons(a->port);
}

/* recv with a hang guard (poll, 10 s). Returns the length, -1 on timeout. */
static ssize_t recv_guarded(int fd, uint8_t *buf, size_t cap, struct sockaddr_in *from) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 10000) != 1) return -1;
    socklen_t sl = sizeof *from;
    return recvfrom(fd, buf, cap, 0, (struct sockaddr *)from, &sl);
}

static void cmd_count(void *arg, mxrtc_time_us now) {
    fake_engine *fe = arg;
    if (now == MXRTC_TIME_NEVER) return;
    fe->counter++;                          /* I/O thread only */
}

typedef struct ctx {
    fake_engine fe;
    mxrtc_net_runner *r;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int events, closed;
    bool free_in_callback;
    int call_after_free_rc;
    pthread_t closed_on;
} ctx;

static void on_event(void *user, mxrtc_net_runner *r, const void *event) {
    ctx *c = user;
    int ev = *(const int *)event;
    if (c->free_in_callback && ev == 99) {
        mxrtc_net_runner_free(r);
        /* Still inside the callback: r is valid, but closing. */
        c->call_after_free_rc = mxrtc_net_runner_call(r, cmd_count, &c->fe);
        fe_lock(&c->fe);
        c->fe.freed = true;
        fe_unlock(&c->fe);
    }
    pthread_mutex_lock(&c->mu);
    c->events++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void on_closed(void *user) {
    ctx *c = user;
    pthread_mutex_lock(&c->mu);
    c->closed++;
    c->closed_on = pthread_self();
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void ctx_new(ctx *c, mxrtc_net_runner_config *cfg_out) {
    memset(c, 0, sizeof *c);
    fe_init(&c->fe);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    mxrtc_net_runner_config_init(cfg_out);
    cfg_out->engine = fe_engine(&c->fe);
    cfg_out->on_event = on_event;
    cfg_out->event_user = c;
    cfg_out->on_closed = on_closed;
    cfg_out->closed_user = c;
}

static void ctx_start(ctx *c, mxrtc_net_runner_config *cfg) {
    static mxrtc_addr lo;
    lo = loop4(0);
    if (!cfg->local_addrs) {
        cfg->local_addrs = &lo;
        cfg->n_local_addrs = 1;
    }
    assert_int_equal(mxrtc_net_runner_new(&c->r, cfg), MXRTC_OK);
    assert_int_equal(mxrtc_net_runner_start(c->r), MXRTC_OK);
    assert_int_equal(mxrtc_net_runner_start(c->r), MXRTC_ERR_STATE);
}

static void ctx_free(ctx *c) {
    if (c->r) mxrtc_net_runner_free(c->r);
    c->r = NULL;
    assert_int_equal(c->closed, 1);
    fe_destroy(&c->fe);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

/* ---- datagrams -------------------------------------------------------- */

static void echo_datagram(void **state) {
    (void)state;
    ctx c;
    mxrtc_net_runner_config cfg;
    ctx_new(&c, &cfg);
    c.fe.echo = true;
    ctx_start(&c, &cfg);
    const mxrtc_addr *locals;
    size_t n;
    mxrtc_net_runner_local_addrs(c.r, &locals, &n);
    assert_int_equal(n, 1);
    assert_true(locals[0].port != 0);        /* an ephemeral port was bound */

    mxrtc_addr me;
    int fd = test_udp(&me);
    struct sockaddr_in to, from;
    to_sin(&locals[0], &to);
    for (int i = 0; i < 3; i++) {
        uint8_t msg[8] = {'p', 'i', 'n', 'g', (uint8_t)i};
        assert_int_equal(sendto(fd, msg, sizeof msg, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)sizeof msg);
        uint8_t buf[64];
        assert_int_equal(recv_guarded(fd, buf, sizeof buf, &from), (ssize_t)sizeof msg);
        assert_memory_equal(buf, msg, sizeof msg);
        /* The answer came from the runner's socket, not another one. */
        assert_int_equal(ntohs(from.sin_port), locals[0].port);
    }
    fe_lock(&c.fe);
    assert_int_equal(c.fe.datagrams, 3);
    assert_true(mxrtc_addr_equal(&c.fe.last_local, &locals[0]));
    assert_true(mxrtc_addr_equal(&c.fe.last_remote, &me));
    fe_unlock(&c.fe);
    close(fd);
    ctx_free(&c);
}

/* ---- command queue ---------------------------------------------------- */

typedef struct reader {
    fake_engine *fe;
    long value;
    mxrtc_net_runner *r;
    int wait_rc;
    mxrtc_net_runner_stats stats;
} reader;

static void cmd_read(void *arg, mxrtc_time_us now) {
    reader *rd = arg;
    (void)now;
    rd->value = rd->fe->counter;
    if (rd->r) {
        /* Waiting for itself would deadlock: refused. */
        rd->wait_rc = mxrtc_net_runner_call_wait(rd->r, cmd_count, rd->fe);
        mxrtc_net_runner_stats_get(rd->r, &rd->stats);
    }
}

typedef struct hammer {
    mxrtc_net_runner *r;
    fake_engine *fe;
    int done, limited;
} hammer;

#define PER_THREAD 300

static void *hammer_main(void *p) {
    hammer *h = p;
    for (int i = 0; i < PER_THREAD; i++) {
        int rc = mxrtc_net_runner_call(h->r, cmd_count, h->fe);
        if (rc == MXRTC_ERR_LIMIT) {
            /* The queue is full: the waiting form gets through. */
            h->limited++;
            rc = mxrtc_net_runner_call_wait(h->r, cmd_count, h->fe);
        }
        if (rc == MXRTC_OK) h->done++;
    }
    return NULL;
}

static void command_queue_threads(void **state) {
    (void)state;
    ctx c;
    mxrtc_net_runner_config cfg;
    ctx_new(&c, &cfg);
    cfg.max_commands = 8;                  /* small, so that it fills */
    ctx_start(&c, &cfg);
    hammer h[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        h[i] = (hammer){c.r, &c.fe, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    reader rd = {&c.fe, 0, c.r, 0, {0}};
    assert_int_equal(mxrtc_net_runner_call_wait(c.r, cmd_read, &rd), MXRTC_OK);
    for (int i = 0; i < 4; i++) assert_int_equal(h[i].done, PER_THREAD);
    assert_int_equal(rd.value, 4 * PER_THREAD);
    assert_int_equal(rd.wait_rc, MXRTC_ERR_STATE);
    assert_true(rd.stats.commands_run >= 4 * PER_THREAD);
    ctx_free(&c);
}

static void command_queue_bound(void **state) {
    (void)state;
    ctx c;
    mxrtc_net_runner_config cfg;
    ctx_new(&c, &cfg);
    cfg.max_commands = 4;
    mxrtc_addr lo = loop4(0);
    cfg.local_addrs = &lo;
    cfg.n_local_addrs = 1;
    assert_int_equal(mxrtc_net_runner_new(&c.r, &cfg), MXRTC_OK);
    /* Before start the queue fills and refuses the fifth. */
    for (int i = 0; i < 4; i++) assert_int_equal(mxrtc_net_runner_call(c.r, cmd_count, &c.fe), MXRTC_OK);
    assert_int_equal(mxrtc_net_runner_call(c.r, cmd_count, &c.fe), MXRTC_ERR_LIMIT);
    assert_int_equal(mxrtc_net_runner_call(c.r, NULL, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_net_runner_start(c.r), MXRTC_OK);
    reader rd = {&c.fe, 0, NULL, 0, {0}};
    assert_int_equal(mxrtc_net_runner_call_wait(c.r, cmd_read, &rd), MXRTC_OK);
    assert_int_equal(rd.value, 4);          /* the queued four ran at start */
    ctx_free(&c);
}

/* Commands still queued at free are cancelled: called once with NEVER. */
typedef struct owned {
    int ran, cancelled;
} owned;

static void cmd_owned(void *arg, mxrtc_time_us now) {
    owned *o = arg;
    if (now == MXRTC_TIME_NEVER) o->cancelled++;
    else o->ran++;
}

static void free_cancels_queued(void **state) {
    (void)state;
    ctx c;
    mxrtc_net_runner_config cfg;
    ctx_new(&c, &cfg);
    mxrtc_addr lo = loop4(0);
    cfg.local_addrs = &lo;
    cfg.n_local_addrs = 1;
    assert_int_equal(mxrtc_net_runner_new(&c.r, &cfg), MXRTC_OK);
    owned o = {0, 0};
    for (int i = 0; i < 3; i++) assert_int_equal(mxrtc_net_runner_call(c.r, cmd_owned, &o), MXRTC_OK);
    ctx_free(&c);                             /* never started */
    assert_int_equal(o.ran, 0);
    assert_int_equal(o.cancelled, 3);
}

/* ---- shutdown from inside the event callback --------------------------- */

static void cmd_emit(void *arg, mxrtc_time_us now) {
    fake_engine *fe = arg;
    if (now == MXRTC_TIME_NEVER) return;
    mxrtc_net_output o;
    memset(&o, 0, sizeof o);
    o.kind = MXRTC_NET_OUT_EVENT;
    fe_push(fe, &o, NULL, 0, NULL, 99);
    /* More output after it: the runner must not poll for it once freed. */
    o.kind = MXRTC_NET_OUT_EVENT;
    fe_push(fe, &o, NULL, 0, NULL, 100);
}

static bool is_closed(ctx *c) {
    pthread_mutex_lock(&c->mu);
    bool v = c->closed > 0;
    pthread_mutex_unlock(&c->mu);
    return v;
}

static void free_from_event_callback(void **state) {
    (void)state;
    ctx c;
    mxrtc_net_runner_config cfg;
    ctx_new(&c, &cfg);
    c.free_in_callback = true;
    ctx_start(&c, &cfg);
    assert_int_equal(mxrtc_net_runner_call(c.r, cmd_emit, &c.fe), MXRTC_OK);
    /* Wait (bounded) for on_closed, which the I/O thread calls last. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&c.mu);
    while (c.closed == 0)
        if (pthread_cond_timedwait(&c.cv, &c.mu, &until) != 0) break;
    int closed = c.closed, events = c.events;
    bool on_io = !pthread_equal(c.closed_on, pthread_self());
    pthread_mutex_unlock(&c.mu);
    assert_int_equal(closed, 1);
    assert_true(on_io);                       /* closed by the I/O thread itself */
    assert_int_equal(events, 1);              /* event 100 was never polled */
    assert_int_equal(c.call_after_free_rc, MXRTC_ERR_CLOSED);
    assert_true(is_closed(&c));
    fe_lock(&c.fe);
    assert_int_equal(c.fe.calls_after_free, 0);
    fe_unlock(&c.fe);
    c.r = NULL;                               /* already gone */
    ctx_free(&c);
}

static void cmd_stats(void *arg, mxrtc_time_us now) {
    reader *rd = arg;
    if (now == MXRTC_TIME_NEVER) return;
    mxrtc_net_runner_stats_get(rd->r, &rd->stats);
}

/* ---- TCP to a TURN server --------------------------------------------- */

static void cmd_stream(void *arg, mxrtc_time_us now) {
    fake_engine *fe = arg;
    if (now == MXRTC_TIME_NEVER) return;
    mxrtc_net_output o;
    memset(&o, 0, sizeof o);
    o.kind = MXRTC_NET_OUT_STREAM;
    o.to = fe->stream_to;
    fe_push(fe, &o, (const uint8_t *)"hello", 5, NULL, 0);
}

static bool got_world(fake_engine *fe) {
    return fe->stream_rx_len == 5 && memcmp(fe->stream_rx, "world", 5) == 0;
}

static bool one_closed(fake_engine *fe) {
    return fe->streams_closed == 1;
}

static void stream_to_server(void **state) {
    (void)state;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(ls >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(ls, 1), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);

    ctx c;
    mxrtc_net_runner_config cfg;
    ctx_new(&c, &cfg);
    c.fe.stream_to = loop4(ntohs(sa.sin_port));
    ctx_start(&c, &cfg);
    assert_int_equal(mxrtc_net_runner_call(c.r, cmd_stream, &c.fe), MXRTC_OK);
    struct pollfd p = {ls, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 10000), 1);
    int s = accept(ls, NULL, NULL);
    assert_true(s >= 0);
    char buf[16];
    size_t got = 0;
    while (got < 5) {
        struct pollfd q = {s, POLLIN, 0};
        assert_int_equal(poll(&q, 1, 10000), 1);
        ssize_t n = recv(s, buf + got, sizeof buf - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_memory_equal(buf, "hello", 5);
    /* A second write reuses the connection: no second accept needed. */
    assert_int_equal(mxrtc_net_runner_call(c.r, cmd_stream, &c.fe), MXRTC_OK);
    got = 0;
    while (got < 5) {
        struct pollfd q = {s, POLLIN, 0};
        assert_int_equal(poll(&q, 1, 10000), 1);
        ssize_t n = recv(s, buf + got, sizeof buf - got, 0);
        assert_true(n > 0);
        got += (size_t)n;
    }
    assert_int_equal(send(s, "world", 5, 0), 5);
    assert_true(fe_wait(&c.fe, got_world));
    /* The server hangs up: the engine hears it. */
    close(s);
    assert_true(fe_wait(&c.fe, one_closed));
    close(ls);
    reader rd = {&c.fe, 0, c.r, 0, {0}};
    assert_int_equal(mxrtc_net_runner_call_wait(c.r, cmd_stats, &rd), MXRTC_OK);
    assert_int_equal(rd.stats.streams_opened, 1);
    assert_int_equal(rd.stats.stream_bytes_sent, 10);
    assert_int_equal(rd.stats.stream_bytes_received, 5);
    ctx_free(&c);
}

static void cmd_stream_big(void *arg, mxrtc_time_us now) {
    fake_engine *fe = arg;
    if (now == MXRTC_TIME_NEVER) return;
    mxrtc_net_output o;
    memset(&o, 0, sizeof o);
    o.kind = MXRTC_NET_OUT_STREAM;
    o.to = fe->stream_to;
    uint8_t big[100];
    memset(big, 0x17, sizeof big);
    fe_push(fe, &o, big, sizeof big, NULL, 0);
}

/* More unsent bytes than the bound (here while the connection is still
 * being opened): the connection is dropped and the engine told, nothing
 * grows. */
static void stream_overflow(void **state) {
    (void)state;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(ls, 1), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
    ctx c;
    mxrtc_net_runner_config cfg;
    ctx_new(&c, &cfg);
    cfg.stream_buffer_max = 16;
    c.fe.stream_to = loop4(ntohs(sa.sin_port));
    ctx_start(&c, &cfg);
    assert_int_equal(mxrtc_net_runner_call(c.r, cmd_stream_big, &c.fe), MXRTC_OK);
    assert_true(fe_wait(&c.fe, one_closed));
    reader rd = {&c.fe, 0, c.r, 0, {0}};
    assert_int_equal(mxrtc_net_runner_call_wait(c.r, cmd_stats, &rd), MXRTC_OK);
    assert_int_equal(rd.stats.stream_overflows, 1);
    assert_int_equal(rd.stats.streams_opened, 1);
    assert_int_equal(rd.stats.streams_closed, 1);
    close(ls);
    ctx_free(&c);
}

static void stream_refused(void **state) {
    (void)state;
    /* A port nobody listens on (bound, then closed without listen). */
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
    ctx c;
    mxrtc_net_runner_config cfg;
    ctx_new(&c, &cfg);
    c.fe.stream_to = loop4(ntohs(sa.sin_port));
    ctx_start(&c, &cfg);
    assert_int_equal(mxrtc_net_runner_call(c.r, cmd_stream, &c.fe), MXRTC_OK);
    assert_true(fe_wait(&c.fe, one_closed));
    close(ls);
    ctx_free(&c);
}

/* ---- mDNS ------------------------------------------------------------- */

typedef struct resolve_arg {
    fake_engine *fe;
    const char *name;
} resolve_arg;

static void cmd_resolve(void *arg, mxrtc_time_us now) {
    resolve_arg *a = arg;
    if (now == MXRTC_TIME_NEVER) return;
    mxrtc_net_output o;
    memset(&o, 0, sizeof o);
    o.kind = MXRTC_NET_OUT_RESOLVE;
    fe_push(a->fe, &o, NULL, 0, a->name, 0);
}

static bool one_resolved(fake_engine *fe) {
    return fe->resolves_ok == 1;
}
static bool two_resolved(fake_engine *fe) {
    return fe->resolves_ok == 2;
}
static bool one_failed(fake_engine *fe) {
    return fe->resolves_failed == 1;
}

static void mdns_resolve_loopback(void **state) {
    (void)state;
    const char *name = "0c1d2e3f-4a5b-4c6d-8e9f-a0b1c2d3e4f5.local";
    mxrtc_addr resp_addr;
    int resp = test_udp(&resp_addr);          /* the test plays the responder */
    ctx c;
    mxrtc_net_runner_config cfg;
    ctx_new(&c, &cfg);
    cfg.mdns_dest[0] = resp_addr;             /* injected: no multicast, no LAN */
    cfg.n_mdns_dest = 1;
    cfg.mdns_timeout = 300000;
    ctx_start(&c, &cfg);

    resolve_arg ra = {&c.fe, name};
    assert_int_equal(mxrtc_net_runner_call(c.r, cmd_resolve, &ra), MXRTC_OK);
    uint8_t q[512], want[512];
    struct sockaddr_in from;
    ssize_t qn = recv_guarded(resp, q, sizeof q, &from);
    int wn = mxrtc_mdns_build_query(name, want, sizeof want);
    assert_int_equal(qn, wn);
    assert_memory_equal(q, want, (size_t)wn);
    /* Answer by unicast to the querier's port (RFC 6762 §6.7), A only,
     * with the question repeated and the answer name compressed. */
    uint8_t r[512];
    size_t rn = 0;
    memcpy(r, q, (size_t)qn);
    /* The responder spells the name in upper case (names compare without
     * case, RFC 6762 §16): the engine must still get its own spelling. */
    for (size_t i = 13; i < 13 + 36; i++)
        if (r[i] >= 'a' && r[i] <= 'z') r[i] = (uint8_t)(r[i] - 'a' + 'A');
    r[2] = 0x84;                              /* QR, AA */
    r[5] = 1;                                 /* one question: keep the A one */
    r[7] = 1;                                 /* one answer */
    rn = 12 + 1 + 36 + 1 + 5 + 1 + 4;
    const uint8_t ans[] = {0xc0, 0x0c, 0x00, 0x01, 0x80, 0x01, 0, 0, 0, 120, 0, 4, 198, 51, 100, 7};
    memcpy(r + rn, ans, sizeof ans);
    rn += sizeof ans;
    assert_int_equal(sendto(resp, r, rn, 0, (struct sockaddr *)&from, sizeof from), (ssize_t)rn);
    assert_true(fe_wait(&c.fe, one_resolved));
    fe_lock(&c.fe);
    assert_string_equal(c.fe.resolved_name, name);
    static const uint8_t ip[4] = {198, 51, 100, 7};
    assert_int_equal(c.fe.resolved_ip.family, MXRTC_AF_INET4);
    assert_memory_equal(c.fe.resolved_ip.ip, ip, 4);
    fe_unlock(&c.fe);

    /* Asked again: answered from the cache, no second query. */
    assert_int_equal(mxrtc_net_runner_call(c.r, cmd_resolve, &ra), MXRTC_OK);
    assert_true(fe_wait(&c.fe, two_resolved));
    reader rd = {&c.fe, 0, c.r, 0, {0}};
    assert_int_equal(mxrtc_net_runner_call_wait(c.r, cmd_stats, &rd), MXRTC_OK);
    assert_int_equal(rd.stats.mdns_queries, 1);
    assert_int_equal(rd.stats.mdns_answers, 1);

    /* A name nobody answers: "failed" once the timeout passes. */
    resolve_arg rb = {&c.fe, "nobody-home.local"};
    assert_int_equal(mxrtc_net_runner_call(c.r, cmd_resolve, &rb), MXRTC_OK);
    assert_true(recv_guarded(resp, q, sizeof q, &from) > 0);   /* it was asked */
    assert_true(recv_guarded(resp, q, sizeof q, &from) > 0);   /* and asked once more (§5.1) */
    assert_true(fe_wait(&c.fe, one_failed));
    fe_lock(&c.fe);
    assert_string_equal(c.fe.resolved_name, "nobody-home.local");
    fe_unlock(&c.fe);
    close(resp);
    ctx_free(&c);
}

/* Every allocation failure in mxrtc_net_runner_new() leaves nothing behind;
 * bad configurations are refused before anything is opened. */
static void new_failures(void **state) {
    (void)state;
    fake_engine fe;
    fe_init(&fe);
    test_alloc ta;
    test_alloc_init(&ta);
    mxrtc_net_runner_config cfg;
    mxrtc_net_runner_config_init(&cfg);
    cfg.engine = fe_engine(&fe);
    cfg.alloc = &ta.iface;
    mxrtc_addr lo = loop4(0);
    cfg.local_addrs = &lo;
    cfg.n_local_addrs = 1;
    mxrtc_net_runner *r = NULL;
    for (long k = 1; k <= 2; k++) {
        test_alloc_fail_nth(&ta, k);
        assert_int_equal(mxrtc_net_runner_new(&r, &cfg), MXRTC_ERR_NO_MEMORY);
        assert_null(r);
        assert_int_equal(ta.live, 0);
    }
    test_alloc_fail_nth(&ta, 0);
    assert_int_equal(mxrtc_net_runner_new(&r, &cfg), MXRTC_OK);
    mxrtc_net_runner_free(r);
    assert_int_equal(ta.live, 0);
    mxrtc_net_runner_free(NULL);

    mxrtc_net_runner_config bad = cfg;
    bad.size = 3;
    assert_int_equal(mxrtc_net_runner_new(&r, &bad), MXRTC_ERR_INVALID_ARGUMENT);
    bad = cfg;
    bad.engine.poll = NULL;
    assert_int_equal(mxrtc_net_runner_new(&r, &bad), MXRTC_ERR_INVALID_ARGUMENT);
    bad = cfg;
    bad.n_local_addrs = MXRTC_NET_MAX_UDP + 1;
    assert_int_equal(mxrtc_net_runner_new(&r, &bad), MXRTC_ERR_LIMIT);
    /* An address nobody can bind (TEST-NET-1 is not ours): no socket at all. */
    bad = cfg;
    mxrtc_addr foreign;
    assert_int_equal(mxrtc_addr_parse(&foreign, "192.0.2.1", 0), MXRTC_OK);
    bad.local_addrs = &foreign;
    assert_int_equal(mxrtc_net_runner_new(&r, &bad), MXRTC_ERR_IO);
    assert_int_equal(ta.live, 0);
    assert_int_equal(mxrtc_net_runner_stop(NULL), MXRTC_ERR_INVALID_ARGUMENT);
    fe_destroy(&fe);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_failures),
        cmocka_unit_test(echo_datagram),
        cmocka_unit_test(command_queue_threads),
        cmocka_unit_test(command_queue_bound),
        cmocka_unit_test(free_cancels_queued),
        cmocka_unit_test(free_from_event_callback),
        cmocka_unit_test(stream_to_server),
        cmocka_unit_test(stream_refused),
        cmocka_unit_test(stream_overflow),
        cmocka_unit_test(mdns_resolve_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
