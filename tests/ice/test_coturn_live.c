/*
 * test_coturn_live.c: two ICE agents on real UDP sockets on 127.0.0.1 and a
 * real coturn (the `coturn` CTest fixture, tests/turn/coturn.sh,
 * lt-cred-mech instance). Agent A runs the relay-only policy with the TURN
 * server, so the only pair that can work goes through a coturn allocation:
 * A's relayed candidate <-> B's host candidate. The test checks that both
 * agents select it and that application data crosses it both ways (A
 * receives through the relay as MXRTC_ICE_OUT_RECEIVED, B directly).
 *
 * Real sockets need real time: the clock is CLOCK_MONOTONIC, and the only
 * bound is a hang guard (no timing assertions).
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../turn/coturn_env.h"
#include "base/random.h"
#include "ice/agent.h"

#define GUARD_US (20 * 1000000ULL) /* give up after 20 s (hang guard) */

static coturn_env env;

static int load_env(void **state) {
    (void)state;
    return coturn_env_load(&env);
}

static mxrtc_time_us mono_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (mxrtc_time_us)ts.tv_sec * 1000000u + (mxrtc_time_us)ts.tv_nsec / 1000u;
}

typedef struct side {
    mxrtc_ice_agent *agent;
    int fd;
    int tcp;                    /* connection to the TURN server (TCP/TLS), -1 */
    mxrtc_addr turn;
    mxrtc_addr addr;
    mxrtc_time_us deadline;
    int selected, received;
    mxrtc_addr sel_local, sel_remote;
    char cands[8][MXRTC_ICE_CANDIDATE_LINE_MAX];
    int ncands;
    bool done;
} side;

static int udp_socket(mxrtc_addr *out) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    uint8_t ip[4] = {127, 0, 0, 1};
    mxrtc_addr_set_ipv4(out, ip, ntohs(sa.sin_port));
    return fd;
}

static void send_to(int fd, const mxrtc_addr *to, const uint8_t *data, size_t len) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    memcpy(&sa.sin_addr, to->ip, 4);
    sa.sin_port = htons(to->port);
    (void)sendto(fd, data, len, 0, (struct sockaddr *)&sa, sizeof sa);
}

static void drain(side *s) {
    for (;;) {
        mxrtc_ice_output o;
        assert_int_equal(mxrtc_ice_agent_poll(s->agent, &o), MXRTC_OK);
        switch (o.kind) {
        case MXRTC_ICE_OUT_DEADLINE:
            s->deadline = o.deadline;
            return;
        case MXRTC_ICE_OUT_SEND:
            assert_true(mxrtc_addr_equal(&o.from, &s->addr));
            send_to(s->fd, &o.to, o.data, o.len);
            break;
        case MXRTC_ICE_OUT_SEND_RELAY:
            fail_msg("no external relay in this test");
            break;
        case MXRTC_ICE_OUT_STREAM_SEND: {
            assert_true(mxrtc_addr_equal(&o.to, &s->turn));
            if (s->tcp < 0) {
                /* Opened on first use, as the contract says. */
                s->tcp = socket(AF_INET, SOCK_STREAM, 0);
                assert_true(s->tcp >= 0);
                struct sockaddr_in sa;
                memset(&sa, 0, sizeof sa);
                sa.sin_family = AF_INET;
                memcpy(&sa.sin_addr, o.to.ip, 4);
                sa.sin_port = htons(o.to.port);
                assert_int_equal(connect(s->tcp, (struct sockaddr *)&sa, sizeof sa), 0);
            }
            size_t off = 0;
            while (off < o.len) {
                ssize_t w = send(s->tcp, o.data + off, o.len - off, MSG_NOSIGNAL);
                assert_true(w > 0);
                off += (size_t)w;
            }
            break;
        }
        case MXRTC_ICE_OUT_RECEIVED:
            s->received++;
            break;
        case MXRTC_ICE_OUT_EVENT:
            if (o.event == MXRTC_ICE_EV_LOCAL_CANDIDATE && s->ncands < 8) {
                assert_true(mxrtc_ice_candidate_format(o.candidate, s->cands[s->ncands], MXRTC_ICE_CANDIDATE_LINE_MAX) > 0);
                s->ncands++;
            } else if (o.event == MXRTC_ICE_EV_GATHERING_DONE) {
                s->done = true;
            } else if (o.event == MXRTC_ICE_EV_SELECTED_PAIR) {
                s->selected++;
                s->sel_local = o.local;
                s->sel_remote = o.remote;
            }
            break;
        }
    }
}

static void pump(side sd[2], int sent_cands[2], bool (*stop)(side sd[2]), mxrtc_time_us guard_until) {
    while (!stop(sd)) {
        mxrtc_time_us now = mono_now();
        if (now >= guard_until) {
            for (int i = 0; i < 2; i++) {
                const mxrtc_ice_stats *st = mxrtc_ice_agent_stats(sd[i].agent);
                fprintf(stderr, "side %d: %d candidates (%s), selected %d, received %d, state %d, checks %llu/%llu, responses %llu, rejected %llu, relay_dropped %llu\n",
                        i, sd[i].ncands, sd[i].ncands ? sd[i].cands[0] : "-", sd[i].selected, sd[i].received,
                        (int)mxrtc_ice_agent_state(sd[i].agent), (unsigned long long)st->checks_sent,
                        (unsigned long long)st->checks_received, (unsigned long long)st->responses_received,
                        (unsigned long long)st->rejected, (unsigned long long)st->relay_dropped);
            }
            fail_msg("hang guard: nothing happened for %llu s", (unsigned long long)(GUARD_US / 1000000));
        }
        /* Trickle candidates as they appear (signalling is instant here). */
        for (int i = 0; i < 2; i++)
            while (sent_cands[i] < sd[i].ncands) {
                const char *line = sd[i].cands[sent_cands[i]++];
                assert_int_equal(mxrtc_ice_agent_add_remote_candidate_line(sd[1 - i].agent, now, line, strlen(line)),
                                 MXRTC_OK);
                drain(&sd[1 - i]);
            }
        struct pollfd pfd[3] = {{sd[0].fd, POLLIN, 0}, {sd[1].fd, POLLIN, 0}, {sd[0].tcp, POLLIN, 0}};
        mxrtc_time_us next = sd[0].deadline < sd[1].deadline ? sd[0].deadline : sd[1].deadline;
        int wait_ms = next <= now ? 0 : (int)((next - now) / 1000 + 1);
        if (wait_ms > 50) wait_ms = 50;
        (void)poll(pfd, sd[0].tcp >= 0 ? 3 : 2, wait_ms);
        now = mono_now();
        if (sd[0].tcp >= 0 && (pfd[2].revents & (POLLIN | POLLHUP | POLLERR))) {
            uint8_t buf[8192];
            ssize_t n = recv(sd[0].tcp, buf, sizeof buf, 0);
            if (n > 0) {
                assert_int_equal(mxrtc_ice_agent_handle_stream(sd[0].agent, now, &sd[0].turn, buf, (size_t)n), MXRTC_OK);
            } else {
                assert_int_equal(mxrtc_ice_agent_stream_closed(sd[0].agent, now, &sd[0].turn), MXRTC_OK);
                close(sd[0].tcp);
                sd[0].tcp = -1;
            }
            drain(&sd[0]);
        }
        for (int i = 0; i < 2; i++) {
            if (pfd[i].revents & POLLIN) {
                uint8_t buf[4096];
                struct sockaddr_in from;
                socklen_t fl = sizeof from;
                ssize_t n = recvfrom(sd[i].fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
                if (n > 0) {
                    mxrtc_addr remote;
                    uint8_t ip[4];
                    memcpy(ip, &from.sin_addr, 4);
                    mxrtc_addr_set_ipv4(&remote, ip, ntohs(from.sin_port));
                    int rc = mxrtc_ice_agent_handle_datagram(sd[i].agent, now, &sd[i].addr, &remote, buf, (size_t)n);
                    if (rc == MXRTC_ERR_MALFORMED) sd[i].received++; /* application data, direct */
                    else assert_int_equal(rc, MXRTC_OK);
                    drain(&sd[i]);
                }
            }
            if (sd[i].deadline <= now) {
                assert_int_equal(mxrtc_ice_agent_handle_timeout(sd[i].agent, now), MXRTC_OK);
                drain(&sd[i]);
            }
        }
    }
}

static bool both_selected(side sd[2]) {
    return sd[0].selected && sd[1].selected;
}

static bool both_received(side sd[2]) {
    return sd[0].received && sd[1].received;
}

static void log_line(void *user, mxrtc_log_level level, const char *module, const char *message) {
    (void)user;
    fprintf(stderr, "[%d %s] %s\n", (int)level, module, message);
}

static void relay_through_coturn(mxrtc_turn_transport transport) {
    mxrtc_seeded_random g[2];
    side sd[2];
    memset(sd, 0, sizeof sd);
    mxrtc_addr turn;
    assert_int_equal(mxrtc_addr_parse(&turn, env.host, transport == MXRTC_TURN_TLS ? env.lt_tls_port : env.lt_port),
                     MXRTC_OK);
    sd[0].tcp = sd[1].tcp = -1;
    sd[0].turn = turn;
    for (int i = 0; i < 2; i++) {
        mxrtc_seeded_random_init(&g[i], 500 + (uint64_t)i);
        mxrtc_ice_config cfg;
        mxrtc_ice_config_init(&cfg);
        cfg.random = mxrtc_seeded_random_source(&g[i]);
        cfg.controlling = i == 0;
        cfg.relay_only = i == 0;
        if (getenv("HDEBUG")) {
            cfg.logger.fn = log_line;
            cfg.logger.max_level = MXRTC_LOG_TRACE;
        }
        assert_int_equal(mxrtc_ice_agent_new(&sd[i].agent, &cfg, mono_now()), MXRTC_OK);
        sd[i].fd = udp_socket(&sd[i].addr);
        assert_int_equal(mxrtc_ice_agent_add_interface(sd[i].agent, &sd[i].addr, 0), MXRTC_OK);
    }
    mxrtc_ice_turn_server ts;
    memset(&ts, 0, sizeof ts);
    ts.addr = turn;
    ts.transport = transport;
    ts.username = env.lt_user;
    ts.password = env.lt_password;
    ts.tls_server_name = env.tls_name;  /* TLS: verified against the fixture's CA */
    ts.tls_ca_file = env.ca;
    assert_int_equal(mxrtc_ice_agent_add_turn(sd[0].agent, &ts), MXRTC_OK);
    const char *u[2], *p[2];
    for (int i = 0; i < 2; i++) mxrtc_ice_agent_local_credentials(sd[i].agent, &u[i], &p[i]);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mxrtc_ice_agent_set_remote_credentials(sd[i].agent, u[1 - i], p[1 - i]), MXRTC_OK);
        assert_int_equal(mxrtc_ice_agent_gather(sd[i].agent, mono_now()), MXRTC_OK);
        drain(&sd[i]);
    }
    int sent[2] = {0, 0};
    mxrtc_time_us guard = mono_now() + GUARD_US;
    pump(sd, sent, both_selected, guard);
    /* A's only candidate is the coturn allocation on 127.0.0.1, not its socket. */
    assert_int_equal(sd[0].ncands, 1);
    assert_non_null(strstr(sd[0].cands[0], "typ relay"));
    assert_false(mxrtc_addr_equal(&sd[0].sel_local, &sd[0].addr));
    assert_true(mxrtc_addr_equal(&sd[0].sel_remote, &sd[1].addr));
    assert_true(mxrtc_addr_equal(&sd[1].sel_remote, &sd[0].sel_local));
    /* Application data both ways over the relay. */
    uint8_t rtp[160] = {0x80, 0x6f};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mxrtc_ice_agent_send(sd[i].agent, mono_now(), rtp, sizeof rtp), MXRTC_OK);
        drain(&sd[i]);
    }
    pump(sd, sent, both_received, mono_now() + GUARD_US);
    /* Over TCP/TLS the relay traffic really used the stream. */
    assert_true(transport == MXRTC_TURN_UDP || sd[0].tcp >= 0);
    for (int i = 0; i < 2; i++) {
        close(sd[i].fd);
        if (sd[i].tcp >= 0) close(sd[i].tcp);
        mxrtc_ice_agent_free(sd[i].agent);
    }
}

static void relay_udp(void **state) {
    (void)state;
    relay_through_coturn(MXRTC_TURN_UDP);
}

static void relay_tcp(void **state) {
    (void)state;
    relay_through_coturn(MXRTC_TURN_TCP);
}

static void relay_tls(void **state) {
    (void)state;
    relay_through_coturn(MXRTC_TURN_TLS);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(relay_udp),
        cmocka_unit_test(relay_tcp),
        cmocka_unit_test(relay_tls),
    };
    return cmocka_run_group_tests(tests, load_env, NULL);
}
