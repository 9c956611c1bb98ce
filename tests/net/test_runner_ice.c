/*
 * test_runner_ice.c: two ICE agents, each driven by its own runner (its own
 * I/O thread and sockets) on the loopback interface, chosen through the
 * interface list with loopback allowed and everything else filtered out,
 * so nothing leaves the machine. The test is the signalling channel: a
 * runner's event callback forwards each local candidate (and
 * end-of-candidates) to the other runner's command queue. Both sides must
 * select a pair and receive application data sent with
 * mxrtc_ice_agent_send() through a command.
 *
 * Built twice: net_runner_ice (host candidates), and with NET_TEST_TURN
 * net_runner_turn, where agent A is relay-only with the coturn fixture's
 * server reached over TCP (the runner opens the connection when the agent
 * first writes to it) and the only possible pair runs through coturn.
 *
 * Real sockets need real time: every wait has a 20 s hang guard and no
 * timing is asserted.
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
#include <time.h>
#include <unistd.h>

#include "base/random.h"
#include "ice/agent.h"
#include "net/clock.h"
#include "net/engine_ice.h"
#include "net/mdns.h"
#include "net/runner.h"
#ifdef NET_TEST_TURN
#include "../turn/coturn_env.h"
static coturn_env env;
#endif

#define MAX_CANDS 16

typedef struct world world;

typedef struct cand_msg {
    struct side *to;
    char line[MXRTC_ICE_CANDIDATE_LINE_MAX];
    bool end;                           /* end-of-candidates instead of a line */
} cand_msg;

typedef struct side {
    world *w;
    int index;
    struct side *peer;
    mxrtc_ice_agent *agent;
    mxrtc_net_ice adapter;
    mxrtc_net_runner *r;
    mxrtc_seeded_random rng;
    cand_msg msgs[MAX_CANDS + 1];       /* written by this side's I/O thread, once each */
    int nmsgs;
    /* under w->mu */
    int selected, received, relay_cands, host_cands, add_errors, wrong_thread;
    bool gathered;
    mxrtc_addr sel_local, sel_remote;
    uint8_t rx[64];
    size_t rx_len;
} side;

struct world {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    side s[2];
    bool mdns;                          /* B hides its host address behind MDNS_NAME */
    mxrtc_addr responder;               /* A's mDNS queries go here (the test) */
};

#define MDNS_NAME "3f9d2c1b-7e6a-4d5c-8b4a-1e2f3a4b5c6d.local"

static void cmd_add_candidate(void *arg, mxrtc_time_us now) {
    cand_msg *m = arg;
    if (now == MXRTC_TIME_NEVER) return;   /* cancelled: the slot is static */
    int rc = m->end ? mxrtc_ice_agent_remote_gathering_done(m->to->agent, now)
                    : mxrtc_ice_agent_add_remote_candidate_line(m->to->agent, now, m->line, strlen(m->line));
    if (rc != MXRTC_OK) {
        pthread_mutex_lock(&m->to->w->mu);
        m->to->add_errors++;
        pthread_mutex_unlock(&m->to->w->mu);
    }
}

static void forward(side *s, const mxrtc_ice_candidate *c) {
    if (s->nmsgs == MAX_CANDS + 1) return;
    cand_msg *m = &s->msgs[s->nmsgs++];
    m->to = s->peer;
    m->end = c == NULL;
    mxrtc_ice_candidate hidden;
    if (c && s->w->mdns && s->index == 1 && c->type == MXRTC_ICE_CAND_HOST) {
        /* As browsers do (draft-ietf-mmusic-mdns-ice-candidates): the
         * address stays private, a .local name is signalled instead. */
        hidden = *c;
        snprintf(hidden.hostname, sizeof hidden.hostname, "%s", MDNS_NAME);
        hidden.is_mdns = true;
        uint16_t port = hidden.addr.port;
        memset(&hidden.addr, 0, sizeof hidden.addr);
        hidden.addr.port = port;
        c = &hidden;
    }
    if (c && mxrtc_ice_candidate_format(c, m->line, sizeof m->line) <= 0) {
        pthread_mutex_lock(&s->w->mu);
        s->add_errors++;                   /* checked by the test thread */
        pthread_mutex_unlock(&s->w->mu);
        return;
    }
    /* The peer's runner may be busy: a full queue is retried by waiting. */
    int rc = mxrtc_net_runner_call(s->peer->r, cmd_add_candidate, m);
    if (rc == MXRTC_ERR_LIMIT) rc = mxrtc_net_runner_call_wait(s->peer->r, cmd_add_candidate, m);
    (void)rc;  /* CLOSED at teardown is fine */
}

static void on_event(void *user, mxrtc_net_runner *r, const void *event) {
    side *s = user;
    const mxrtc_ice_output *o = event;
    /* No cmocka assertion here: this is the I/O thread. Record, check later. */
    bool io = mxrtc_net_runner_on_io_thread(r) && r == s->r;
    if (!io) {
        pthread_mutex_lock(&s->w->mu);
        s->wrong_thread++;
        pthread_mutex_unlock(&s->w->mu);
    }
    if (o->kind == MXRTC_ICE_OUT_EVENT && o->event == MXRTC_ICE_EV_LOCAL_CANDIDATE) {
        pthread_mutex_lock(&s->w->mu);
        if (o->candidate->type == MXRTC_ICE_CAND_RELAY) s->relay_cands++;
        if (o->candidate->type == MXRTC_ICE_CAND_HOST) s->host_cands++;
        pthread_mutex_unlock(&s->w->mu);
        forward(s, o->candidate);
        return;
    }
    pthread_mutex_lock(&s->w->mu);
    if (o->kind == MXRTC_ICE_OUT_EVENT && o->event == MXRTC_ICE_EV_GATHERING_DONE) {
        s->gathered = true;
    } else if (o->kind == MXRTC_ICE_OUT_EVENT && o->event == MXRTC_ICE_EV_SELECTED_PAIR) {
        s->selected++;
        s->sel_local = o->local;
        s->sel_remote = o->remote;
    } else if (o->kind == MXRTC_ICE_OUT_RECEIVED && o->len <= sizeof s->rx) {
        s->received++;
        memcpy(s->rx, o->data, o->len);
        s->rx_len = o->len;
    }
    pthread_cond_broadcast(&s->w->cv);
    pthread_mutex_unlock(&s->w->mu);
    if (o->kind == MXRTC_ICE_OUT_EVENT && o->event == MXRTC_ICE_EV_GATHERING_DONE) forward(s, NULL);
}

static bool wait_for(world *w, bool (*pred)(world *w)) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;                  /* hang guard */
    pthread_mutex_lock(&w->mu);
    bool ok = pred(w);
    while (!ok && pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0) ok = pred(w);
    ok = pred(w);
    pthread_mutex_unlock(&w->mu);
    return ok;
}

static bool both_selected(world *w) {
    return w->s[0].selected > 0 && w->s[1].selected > 0;
}

static bool both_received(world *w) {
    return w->s[0].received > 0 && w->s[1].received > 0;
}

static bool only_loopback_v4(void *user, const mxrtc_net_iface *i) {
    (void)user;
    return i->loopback && i->addr.family == MXRTC_AF_INET4 && i->addr.ip[0] == 127;
}

typedef struct send_arg {
    side *s;
    uint8_t data[32];
    int rc;
} send_arg;

static void cmd_send(void *arg, mxrtc_time_us now) {
    send_arg *a = arg;
    if (now == MXRTC_TIME_NEVER) return;
    a->rc = mxrtc_ice_agent_send(a->s->agent, now, a->data, sizeof a->data);
}

typedef struct stats_arg {
    side *s;
    mxrtc_net_runner_stats st;
    mxrtc_ice_state state;
} stats_arg;

static void cmd_stats(void *arg, mxrtc_time_us now) {
    stats_arg *a = arg;
    if (now == MXRTC_TIME_NEVER) return;
    mxrtc_net_runner_stats_get(a->s->r, &a->st);
    a->state = mxrtc_ice_agent_state(a->s->agent);
}

/* The test answers A's mDNS query for MDNS_NAME with B's address. */
static void answer_mdns(int fd, const mxrtc_addr *ip) {
    struct pollfd p = {fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 20000), 1);         /* hang guard */
    uint8_t q[512], want[512];
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t qn = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
    int wn = mxrtc_mdns_build_query(MDNS_NAME, want, sizeof want);
    assert_int_equal(qn, wn);
    assert_memory_equal(q, want, (size_t)wn);
    /* Header, then the answer named by a pointer to the question's name. */
    uint8_t a[512];
    size_t n = 12 + strlen(MDNS_NAME) + 2 + 4;
    memcpy(a, q, n);
    a[2] = 0x84;
    a[5] = 1;
    a[7] = 1;
    const uint8_t rec[] = {0xc0, 0x0c, 0x00, 0x01, 0x80, 0x01, 0, 0, 0, 120, 0, 4};
    memcpy(a + n, rec, sizeof rec);
    n += sizeof rec;
    memcpy(a + n, ip->ip, 4);
    n += 4;
    assert_int_equal(sendto(fd, a, n, 0, (struct sockaddr *)&from, fl), (ssize_t)n);
}

static void connect_and_talk(bool relay, int transport, bool mdns) {
    (void)transport;                      /* used with NET_TEST_TURN only */
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    int responder = -1;
    if (mdns) {
        responder = socket(AF_INET, SOCK_DGRAM, 0);
        assert_true(responder >= 0);
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(responder, (struct sockaddr *)&sa, sizeof sa), 0);
        socklen_t sl = sizeof sa;
        assert_int_equal(getsockname(responder, (struct sockaddr *)&sa, &sl), 0);
        uint8_t lo[4] = {127, 0, 0, 1};
        mxrtc_addr_set_ipv4(&w->responder, lo, ntohs(sa.sin_port));
        w->mdns = true;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    for (int i = 0; i < 2; i++) {
        side *s = &w->s[i];
        s->w = w;
        s->index = i;
        s->peer = &w->s[1 - i];
        mxrtc_seeded_random_init(&s->rng, 700 + (uint64_t)i);
        mxrtc_ice_config cfg;
        mxrtc_ice_config_init(&cfg);
        cfg.random = mxrtc_seeded_random_source(&s->rng);
        cfg.controlling = i == 0;
        cfg.relay_only = relay && i == 0;
        assert_int_equal(mxrtc_ice_agent_new(&s->agent, &cfg, mxrtc_net_now()), MXRTC_OK);

        mxrtc_net_runner_config rc;
        mxrtc_net_runner_config_init(&rc);
        rc.engine = mxrtc_net_ice_engine(&s->adapter, s->agent);
        rc.on_event = on_event;
        rc.event_user = s;
        rc.ifaces.include_loopback = true;          /* tests only */
        rc.ifaces.filter = only_loopback_v4;        /* and nothing else: no LAN */
        rc.n_mdns_dest = 0;
        if (w->mdns && i == 0) {
            rc.mdns_dest[0] = w->responder;     /* injected: never the LAN */
            rc.n_mdns_dest = 1;
        }
        assert_int_equal(mxrtc_net_runner_new(&s->r, &rc), MXRTC_OK);
        const mxrtc_addr *locals;
        size_t n;
        mxrtc_net_runner_local_addrs(s->r, &locals, &n);
        assert_true(n >= 1);
        /* Before start the engine is still ours to configure. */
        for (size_t k = 0; k < n; k++)
            assert_int_equal(mxrtc_ice_agent_add_interface(s->agent, &locals[k], (unsigned)k), MXRTC_OK);
    }
#ifdef NET_TEST_TURN
    mxrtc_ice_turn_server ts;
    memset(&ts, 0, sizeof ts);
    ts.transport = (mxrtc_turn_transport)transport;
    assert_int_equal(mxrtc_addr_parse(&ts.addr, env.host, ts.transport == MXRTC_TURN_TLS ? env.lt_tls_port : env.lt_port),
                     MXRTC_OK);
    ts.username = env.lt_user;
    ts.password = env.lt_password;
    ts.tls_server_name = env.tls_name;     /* TLS: the agent runs it, verified against the fixture's CA */
    ts.tls_ca_file = env.ca;
    assert_int_equal(mxrtc_ice_agent_add_turn(w->s[0].agent, &ts), MXRTC_OK);
#endif
    const char *u[2], *p[2];
    for (int i = 0; i < 2; i++) mxrtc_ice_agent_local_credentials(w->s[i].agent, &u[i], &p[i]);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mxrtc_ice_agent_set_remote_credentials(w->s[i].agent, u[1 - i], p[1 - i]), MXRTC_OK);
        assert_int_equal(mxrtc_ice_agent_gather(w->s[i].agent, mxrtc_net_now()), MXRTC_OK);
    }
    /* The threads start draining what gather() queued. */
    for (int i = 0; i < 2; i++) assert_int_equal(mxrtc_net_runner_start(w->s[i].r), MXRTC_OK);
    if (mdns) {
        const mxrtc_addr *b;
        size_t nb;
        mxrtc_net_runner_local_addrs(w->s[1].r, &b, &nb);
        answer_mdns(responder, &b[0]);
    }

    assert_true(wait_for(w, both_selected));
    pthread_mutex_lock(&w->mu);
    assert_true(mxrtc_addr_equal(&w->s[0].sel_remote, &w->s[1].sel_local) || relay);
    if (relay) {
        /* A offered only its coturn allocation; B talks to that address. */
        assert_int_equal(w->s[0].host_cands, 0);
        assert_true(w->s[0].relay_cands >= 1);
        assert_true(mxrtc_addr_equal(&w->s[1].sel_remote, &w->s[0].sel_local));
    }
    pthread_mutex_unlock(&w->mu);

    send_arg sa[2];
    for (int i = 0; i < 2; i++) {
        sa[i].s = &w->s[i];
        memset(sa[i].data, 0, sizeof sa[i].data);
        sa[i].data[0] = 0x80;              /* RTP-looking: not STUN (RFC 7983) */
        sa[i].data[1] = (uint8_t)(0x10 + i);
        memcpy(sa[i].data + 12, i ? "from B" : "from A", 6);
        sa[i].rc = -1000;
        assert_int_equal(mxrtc_net_runner_call_wait(w->s[i].r, cmd_send, &sa[i]), MXRTC_OK);
        assert_int_equal(sa[i].rc, MXRTC_OK);
    }
    assert_true(wait_for(w, both_received));
    pthread_mutex_lock(&w->mu);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w->s[i].rx_len, sizeof sa[1 - i].data);
        assert_memory_equal(w->s[i].rx, sa[1 - i].data, sizeof sa[1 - i].data);
        assert_int_equal(w->s[i].add_errors, 0);
        assert_int_equal(w->s[i].wrong_thread, 0);
    }
    pthread_mutex_unlock(&w->mu);

    stats_arg st[2];
    for (int i = 0; i < 2; i++) {
        st[i].s = &w->s[i];
        assert_int_equal(mxrtc_net_runner_call_wait(w->s[i].r, cmd_stats, &st[i]), MXRTC_OK);
        assert_true(st[i].state == MXRTC_ICE_STATE_CONNECTED || st[i].state == MXRTC_ICE_STATE_COMPLETED);
        if (relay && i == 0)
            assert_int_equal(st[i].st.datagrams_sent, 0);   /* relay-only over TCP: no UDP at all */
        else
            assert_true(st[i].st.datagrams_sent > 0);
        assert_int_equal(st[i].st.no_socket, 0);
    }
    if (mdns) {
        /* A asked once and fed the answer back to its agent. */
        assert_int_equal(st[0].st.mdns_queries, 1);
        assert_int_equal(st[0].st.mdns_answers, 1);
        assert_int_equal(st[0].st.mdns_failures, 0);
    }
    if (relay) {
        /* The TURN traffic really went over the TCP connection. */
        assert_int_equal(st[0].st.streams_opened, 1);
        assert_true(st[0].st.stream_bytes_sent > 0 && st[0].st.stream_bytes_received > 0);
    }
    /* The runners call into each other: stop both, then free. */
    for (int i = 0; i < 2; i++) assert_int_equal(mxrtc_net_runner_stop(w->s[i].r), MXRTC_OK);
    assert_int_equal(mxrtc_net_runner_call(w->s[0].r, cmd_send, &sa[0]), MXRTC_ERR_CLOSED);
    for (int i = 0; i < 2; i++) {
        mxrtc_net_runner_free(w->s[i].r);
        mxrtc_ice_agent_free(w->s[i].agent);
    }
    if (responder >= 0) close(responder);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

#ifdef NET_TEST_TURN
static int load_env(void **state) {
    (void)state;
    return coturn_env_load(&env);
}

static void relay_over_tcp(void **state) {
    (void)state;
    connect_and_talk(true, MXRTC_TURN_TCP, false);
}

/* turns: the runner still only carries TCP bytes; TLS is the agent's. */
static void relay_over_tls(void **state) {
    (void)state;
    connect_and_talk(true, MXRTC_TURN_TLS, false);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relay_over_tcp),
        cmocka_unit_test(relay_over_tls),
    };
    return cmocka_run_group_tests(tests, load_env, NULL);
}
#else
static void host_pair_loopback(void **state) {
    (void)state;
    connect_and_talk(false, 0, false);
}

/* B's host candidate arrives as an mDNS name: A's agent asks, the runner
 * queries (at the test's socket), the answer goes back into the agent and
 * the pair to B's real address connects. */
static void host_pair_mdns_candidate(void **state) {
    (void)state;
    connect_and_talk(false, 0, true);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(host_pair_loopback),
        cmocka_unit_test(host_pair_mdns_candidate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
#endif
