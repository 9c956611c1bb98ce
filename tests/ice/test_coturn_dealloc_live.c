/*
 * test_coturn_dealloc_live.c: mxrtc_ice_agent_close() releases the agent's
 * TURN allocation on a real coturn (the `coturn` CTest fixture,
 * tests/turn/coturn.sh, lt-cred-mech instance).
 *
 * What is checked, and how:
 *  - UDP: the lt instance has 40 relay ports (min-port 49160..max-port
 *    49199). One agent after another allocates, closes, and is fed until its
 *    teardown is over, 2 x 40 times, in 4 batches of 20 with a 1.5 s pause
 *    between batches: coturn answers a Refresh(LIFETIME 0) at once but
 *    deletes the allocation (and frees its port) 1 s later (its
 *    refresh_relay_connection clamps the lifetime to >= 1 s). Without the
 *    deallocation coturn keeps every relay port for the allocation's
 *    lifetime (600 s) and an Allocate of the third batch fails (508
 *    Insufficient Capacity; the bug this test was written for), so 80
 *    successes mean coturn freed the ports. Each teardown must
 *    also end with the server's success response to the Refresh(LIFETIME 0)
 *    (stats.turn_deallocated), not with the 2 s bound.
 *  - TCP and TLS: coturn frees an allocation when its control connection
 *    closes anyway, so a quota loop would prove nothing there; instead each
 *    agent must get coturn's success response to the Refresh(LIFETIME 0)
 *    sent on the stream before the test closes the connection.
 * Allocations other tests leaked on the same instance (up to 39) do not
 * matter: only one of ours is alive at a time.
 *
 * Real sockets need real time: CLOCK_MONOTONIC, and only a hang guard.
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

#define RELAY_PORTS 40              /* tests/turn/coturn.sh: lt instance 49160..49199 */
#define BATCH 20
#define COTURN_DELETE_DELAY_MS 1500 /* coturn deletes a released allocation 1 s later */
#define GUARD_US (10 * 1000000ULL)  /* per allocation: hang guard */

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
    int fd, tcp;
    mxrtc_addr addr, turn;
    mxrtc_time_us deadline;
    bool relayed, gathering_done;
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

static void to_sockaddr(const mxrtc_addr *a, struct sockaddr_in *sa) {
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    memcpy(&sa->sin_addr, a->ip, 4);
    sa->sin_port = htons(a->port);
}

static void drain(side *s) {
    for (;;) {
        mxrtc_ice_output o;
        assert_int_equal(mxrtc_ice_agent_poll(s->agent, &o), MXRTC_OK);
        struct sockaddr_in sa;
        switch (o.kind) {
        case MXRTC_ICE_OUT_DEADLINE:
            s->deadline = o.deadline;
            return;
        case MXRTC_ICE_OUT_SEND:
            to_sockaddr(&o.to, &sa);
            (void)sendto(s->fd, o.data, o.len, 0, (struct sockaddr *)&sa, sizeof sa);
            break;
        case MXRTC_ICE_OUT_STREAM_SEND:
            assert_true(mxrtc_addr_equal(&o.to, &s->turn));
            if (s->tcp < 0) {
                s->tcp = socket(AF_INET, SOCK_STREAM, 0);
                assert_true(s->tcp >= 0);
                to_sockaddr(&o.to, &sa);
                assert_int_equal(connect(s->tcp, (struct sockaddr *)&sa, sizeof sa), 0);
            }
            for (size_t off = 0; off < o.len;) {
                ssize_t w = send(s->tcp, o.data + off, o.len - off, MSG_NOSIGNAL);
                assert_true(w > 0);
                off += (size_t)w;
            }
            break;
        case MXRTC_ICE_OUT_EVENT:
            if (o.event == MXRTC_ICE_EV_LOCAL_CANDIDATE && o.candidate->type == MXRTC_ICE_CAND_RELAY)
                s->relayed = true;
            if (o.event == MXRTC_ICE_EV_GATHERING_DONE) s->gathering_done = true;
            break;
        default:
            break;
        }
    }
}

/* The host loop: the UDP socket, the TURN stream, the timers, until stop. */
static void pump(side *s, bool (*stop)(side *s), mxrtc_time_us guard_until) {
    while (!stop(s)) {
        mxrtc_time_us now = mono_now();
        if (now >= guard_until) fail_msg("hang guard");
        struct pollfd pfd[2] = {{s->fd, POLLIN, 0}, {s->tcp, POLLIN, 0}};
        int wait_ms = s->deadline <= now ? 0 : (int)((s->deadline - now) / 1000 + 1);
        if (wait_ms > 50) wait_ms = 50;
        (void)poll(pfd, s->tcp >= 0 ? 2 : 1, wait_ms);
        now = mono_now();
        if (pfd[0].revents & POLLIN) {
            uint8_t buf[4096];
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(s->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
            if (n > 0) {
                mxrtc_addr remote;
                uint8_t ip[4];
                memcpy(ip, &from.sin_addr, 4);
                mxrtc_addr_set_ipv4(&remote, ip, ntohs(from.sin_port));
                if (mxrtc_ice_agent_handle_datagram(s->agent, now, &s->addr, &remote, buf, (size_t)n) == MXRTC_OK)
                    drain(s);
            }
        }
        if (s->tcp >= 0 && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            uint8_t buf[8192];
            ssize_t n = recv(s->tcp, buf, sizeof buf, 0);
            int rc = n > 0 ? mxrtc_ice_agent_handle_stream(s->agent, now, &s->turn, buf, (size_t)n)
                           : mxrtc_ice_agent_stream_closed(s->agent, now, &s->turn);
            if (n <= 0) {
                close(s->tcp);
                s->tcp = -1;
            }
            if (rc == MXRTC_OK) drain(s);
        }
        if (s->deadline <= now && mxrtc_ice_agent_handle_timeout(s->agent, now) == MXRTC_OK) drain(s);
    }
}

static bool gathered(side *s) { return s->gathering_done; }
static bool torn_down(side *s) { return mxrtc_ice_agent_close_done(s->agent); }

/* One agent: allocate on coturn, close, feed until the teardown is over.
 * false (everything freed) when coturn gave no relay. */
static bool allocate_and_close(mxrtc_turn_transport transport, uint64_t seed) {
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, seed);
    side s;
    memset(&s, 0, sizeof s);
    s.tcp = -1;
    assert_int_equal(mxrtc_addr_parse(&s.turn, env.host, transport == MXRTC_TURN_TLS ? env.lt_tls_port : env.lt_port),
                     MXRTC_OK);
    mxrtc_ice_config cfg;
    mxrtc_ice_config_init(&cfg);
    cfg.random = mxrtc_seeded_random_source(&g);
    assert_int_equal(mxrtc_ice_agent_new(&s.agent, &cfg, mono_now()), MXRTC_OK);
    s.fd = udp_socket(&s.addr);
    assert_int_equal(mxrtc_ice_agent_add_interface(s.agent, &s.addr, 0), MXRTC_OK);
    mxrtc_ice_turn_server ts;
    memset(&ts, 0, sizeof ts);
    ts.addr = s.turn;
    ts.transport = transport;
    ts.username = env.lt_user;
    ts.password = env.lt_password;
    ts.tls_server_name = env.tls_name;
    ts.tls_ca_file = env.ca;
    assert_int_equal(mxrtc_ice_agent_add_turn(s.agent, &ts), MXRTC_OK);
    assert_int_equal(mxrtc_ice_agent_gather(s.agent, mono_now()), MXRTC_OK);
    drain(&s);
    pump(&s, gathered, mono_now() + GUARD_US);
    if (!s.relayed) {
        if (s.tcp >= 0) close(s.tcp);
        close(s.fd);
        mxrtc_ice_agent_free(s.agent);
        return false;
    }

    assert_int_equal(mxrtc_ice_agent_close(s.agent, mono_now()), MXRTC_OK);
    drain(&s);
    assert_int_equal(mxrtc_ice_agent_stats(s.agent)->turn_deallocations, 1);
    pump(&s, torn_down, mono_now() + GUARD_US);
    /* coturn answered the Refresh(LIFETIME 0) with success. */
    assert_int_equal(mxrtc_ice_agent_stats(s.agent)->turn_deallocated, 1);
    assert_int_equal(s.deadline, MXRTC_TIME_NEVER);
    /* TCP/TLS: the connection was still open for it, and is closed now. */
    assert_true(transport == MXRTC_TURN_UDP || s.tcp >= 0);
    if (s.tcp >= 0) close(s.tcp);
    close(s.fd);
    mxrtc_ice_agent_free(s.agent);
    return true;
}

/* The fixture's coturn is shared with the other tests of the suite, which
 * may hold a few of its relay ports while this runs: a refused allocation
 * is tried again after coturn's delete delay, a few times. Ports that are
 * never released (no deallocation) stay taken for the allocation's
 * lifetime, 10 minutes, so without deallocation the loop still fails. */
#define UDP_RETRIES 6

static void udp_twice_the_port_quota(void **state) {
    (void)state;
    for (int n = 0; n < 2 * RELAY_PORTS; n++) {
        int tries = 0;
        while (!allocate_and_close(MXRTC_TURN_UDP, 900 + (uint64_t)n + 1000u * (uint64_t)tries)) {
            if (++tries > UDP_RETRIES) fail_msg("allocation %d failed %d times: relay ports not released?", n, tries);
            (void)poll(NULL, 0, COTURN_DELETE_DELAY_MS);
        }
        if (n % BATCH == BATCH - 1) (void)poll(NULL, 0, COTURN_DELETE_DELAY_MS);
    }
}

static void tcp_refresh_zero_on_the_stream(void **state) {
    (void)state;
    for (int n = 0; n < 3; n++) assert_true(allocate_and_close(MXRTC_TURN_TCP, 1000 + (uint64_t)n));
}

static void tls_refresh_zero_on_the_stream(void **state) {
    (void)state;
    for (int n = 0; n < 3; n++) assert_true(allocate_and_close(MXRTC_TURN_TLS, 1100 + (uint64_t)n));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(udp_twice_the_port_quota),
        cmocka_unit_test(tcp_refresh_zero_on_the_stream),
        cmocka_unit_test(tls_refresh_zero_on_the_stream),
    };
    return cmocka_run_group_tests(tests, load_env, NULL);
}
