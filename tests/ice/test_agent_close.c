/*
 * test_agent_close.c: mxrtc_ice_agent_close() releases the agent's TURN
 * allocations (RFC 8656 §7.2: Refresh with LIFETIME 0), bounded in time,
 * on the simulated network with its TURN server and a virtual clock:
 *  - two agents connected through their UDP relays: closing one sends the
 *    deallocation, the server frees exactly that allocation, the teardown
 *    ends when the answer arrives; then the other;
 *  - the TURN server unreachable after the call: the teardown still ends
 *    within the 2 s bound (and the server keeps the allocation, which then
 *    expires on its own);
 *  - closed while the Allocate is still in flight: the allocation the server
 *    makes anyway is released as soon as it is known;
 *  - inputs after close are refused with MXRTC_ERR_CLOSED.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "agent_harness.h"
#include "base/random.h"

#define SEC 1000000ULL
#define BOUND (2 * SEC) /* the agent's teardown bound (ice/agent.c CLOSE_BOUND) */

static mxrtc_addr A(const char *ip, uint16_t port) {
    mxrtc_addr a;
    assert_int_equal(mxrtc_addr_parse(&a, ip, port), MXRTC_OK);
    return a;
}

static int turn_host;

/* Two agents on public addresses, both with the simnet TURN server; the
 * TURN server's link gets `turn_link`. Not started. */
static void world(h_world *w, uint64_t seed, const simnet_link *turn_link) {
    h_init(w, seed, false);
    mxrtc_addr ts = A("203.0.113.50", 3478), relay = A("203.0.113.51", 0);
    turn_host = simnet_add_turn_server(w->net, SIMNET_WAN, &ts, &relay, "alice", "s3cret", "example.org");
    if (turn_link) simnet_set_host_link(w->net, turn_host, turn_link);
    const char *ip[2] = {"198.51.100.1", "198.51.100.2"};
    for (int i = 0; i < 2; i++) {
        w->p[i].host = simnet_add_host(w->net, i ? "b" : "a");
        mxrtc_addr a = A(ip[i], 5000);
        simnet_host_add_interface(w->net, w->p[i].host, SIMNET_WAN, &a);
        h_add_addr(w, i, &a, 0);
        assert_int_equal(mxrtc_ice_agent_add_turn_server(w->p[i].agent, &ts, "alice", "s3cret"), MXRTC_OK);
    }
}

static bool both_relayed(h_world *w) {
    return w->p[0].gathering_done && w->p[1].gathering_done && h_both_selected(w);
}

/* The host loop after close: datagrams for a closed agent may be refused
 * (MXRTC_ERR_CLOSED: not from its TURN server, or after the teardown), the
 * rest as h_run. Runs until every agent in `closing` is done, or until. */
static void run_closing(h_world *w, const bool closing[2], mxrtc_time_us until) {
    for (int guard = 0; guard < 100000; guard++) {
        simnet_packet pkt;
        while (simnet_pop(w->net, w->now, &pkt)) {
            for (int i = 0; i < 2; i++) {
                if (pkt.host != w->p[i].host || !mxrtc_addr_equal(&pkt.to, &w->p[i].addrs[0])) continue;
                int rc = mxrtc_ice_agent_handle_datagram(w->p[i].agent, w->now, &pkt.to, &pkt.from, pkt.data,
                                                         pkt.len);
                if (rc == MXRTC_OK) h_drain(w, i);
                else if (closing[i]) assert_int_equal(rc, MXRTC_ERR_CLOSED);
                else assert_int_equal(rc, MXRTC_ERR_MALFORMED);   /* app data */
            }
        }
        bool all_done = true;
        for (int i = 0; i < 2; i++) {
            if (w->p[i].deadline <= w->now) {
                int rc = mxrtc_ice_agent_handle_timeout(w->p[i].agent, w->now);
                if (rc == MXRTC_OK) h_drain(w, i);
                else assert_int_equal(rc, MXRTC_ERR_CLOSED);
            }
            if (closing[i] && !mxrtc_ice_agent_close_done(w->p[i].agent)) all_done = false;
        }
        if (all_done) return;
        mxrtc_time_us next = simnet_next_delivery_time(w->net);
        for (int i = 0; i < 2; i++)
            if (w->p[i].deadline < next) next = w->p[i].deadline;
        if (next > until) {
            w->now = until;
            return;
        }
        if (next > w->now) w->now = next;
    }
    fail_msg("teardown loop did not settle");
}

static void close_agent(h_world *w, int i) {
    assert_int_equal(mxrtc_ice_agent_close(w->p[i].agent, w->now), MXRTC_OK);
    h_drain(w, i);
}

static void close_releases_udp_relays(void **state) {
    (void)state;
    h_world w;
    world(&w, 71, NULL);
    h_start(&w);
    h_run(&w, 60 * SEC, both_relayed);
    assert_true(both_relayed(&w));
    /* Both agents hold an allocation (with permissions for the other side). */
    assert_int_equal(simnet_turn_live_allocations(w.net, w.now), 2);
    assert_int_equal(simnet_turn_deallocations(w.net), 0);

    mxrtc_time_us t0 = w.now;
    close_agent(&w, 0);
    assert_int_equal(mxrtc_ice_agent_stats(w.p[0].agent)->turn_deallocations, 1);
    assert_false(mxrtc_ice_agent_close_done(w.p[0].agent));
    assert_true(w.p[0].deadline <= t0 + BOUND);
    bool closing[2] = {true, false};
    run_closing(&w, closing, t0 + 10 * SEC);
    /* Answered (no loss): done well before the bound, and the server freed
     * exactly peer 0's allocation. */
    assert_true(mxrtc_ice_agent_close_done(w.p[0].agent));
    assert_true(w.now < t0 + BOUND);
    assert_int_equal(w.p[0].deadline, MXRTC_TIME_NEVER);
    assert_int_equal(simnet_turn_deallocations(w.net), 1);
    assert_int_equal(simnet_turn_live_allocations(w.net, w.now), 1);
    assert_int_equal(mxrtc_ice_agent_stats(w.p[0].agent)->turn_deallocated, 1);
    /* After the teardown every input is refused. */
    assert_int_equal(mxrtc_ice_agent_handle_timeout(w.p[0].agent, w.now), MXRTC_ERR_CLOSED);

    close_agent(&w, 1);
    closing[1] = true;
    run_closing(&w, closing, w.now + 10 * SEC);
    assert_true(mxrtc_ice_agent_close_done(w.p[1].agent));
    assert_int_equal(simnet_turn_deallocations(w.net), 2);
    assert_int_equal(simnet_turn_live_allocations(w.net, w.now), 0);
    h_free(&w);
}

static void lost_answers_are_bounded(void **state) {
    (void)state;
    h_world w;
    world(&w, 72, NULL);
    h_start(&w);
    h_run(&w, 60 * SEC, both_relayed);
    assert_true(both_relayed(&w));
    /* The TURN server drops everything from now on. */
    simnet_link dead = {.loss = 1.0};
    simnet_set_host_link(w.net, turn_host, &dead);
    uint64_t lost_before = simnet_get_stats(w.net)->lost;
    mxrtc_time_us t0 = w.now;
    close_agent(&w, 0);
    close_agent(&w, 1);
    bool closing[2] = {true, true};
    run_closing(&w, closing, t0 + 60 * SEC);
    for (int i = 0; i < 2; i++) {
        assert_true(mxrtc_ice_agent_close_done(w.p[i].agent));
        assert_int_equal(w.p[i].deadline, MXRTC_TIME_NEVER);
    }
    /* Given up at the bound, not at the TURN client's own 39.5 s timeout. */
    assert_int_equal(w.now, t0 + BOUND);
    /* Requests were sent (and retransmitted) but lost: the server still has
     * both allocations, which expire on their own. */
    assert_true(simnet_get_stats(w.net)->lost - lost_before >= 4);
    assert_int_equal(simnet_turn_deallocations(w.net), 0);
    assert_int_equal(simnet_turn_live_allocations(w.net, w.now), 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mxrtc_ice_agent_stats(w.p[i].agent)->turn_deallocations, 1);
        assert_int_equal(mxrtc_ice_agent_stats(w.p[i].agent)->turn_deallocated, 0);
    }
    h_free(&w);
}

static void close_while_allocating_releases_late_allocation(void **state) {
    (void)state;
    h_world w;
    /* 150 ms each way to the TURN server: the 401 round trip and the
     * authenticated Allocate take 0.6 s. */
    simnet_link slow = {.delay = 150000};
    world(&w, 73, &slow);
    h_start(&w);
    /* Close peer 0 at once, before its Allocate is answered. */
    close_agent(&w, 0);
    assert_int_equal(mxrtc_ice_agent_stats(w.p[0].agent)->turn_deallocations, 0);
    int cands = w.p[0].local_candidates;
    bool closing[2] = {true, false};
    run_closing(&w, closing, 10 * SEC);
    assert_true(mxrtc_ice_agent_close_done(w.p[0].agent));
    assert_true(w.now < BOUND);
    /* The late allocation was released, and never signalled. */
    assert_int_equal(mxrtc_ice_agent_stats(w.p[0].agent)->turn_deallocations, 1);
    assert_int_equal(w.p[0].local_candidates, cands);
    assert_int_equal(simnet_turn_deallocations(w.net), 1);
    h_free(&w);
}

static void inputs_after_close_refused(void **state) {
    (void)state;
    h_world w;
    world(&w, 74, NULL);
    h_start(&w);
    close_agent(&w, 0);
    mxrtc_ice_agent *a = w.p[0].agent;
    /* A second close is harmless. */
    assert_int_equal(mxrtc_ice_agent_close(a, w.now), MXRTC_OK);
    h_drain(&w, 0);
    const char *line = "candidate:1 1 udp 2130706431 198.51.100.2 5000 typ host";
    assert_int_equal(mxrtc_ice_agent_add_remote_candidate_line(a, w.now, line, strlen(line)), MXRTC_ERR_CLOSED);
    assert_int_equal(mxrtc_ice_agent_restart(a, w.now), MXRTC_ERR_CLOSED);
    uint8_t rtp[12] = {0x80};
    assert_int_equal(mxrtc_ice_agent_send(a, w.now, rtp, sizeof rtp), MXRTC_ERR_CLOSED);
    /* A STUN message from anyone but the TURN server. */
    uint8_t stun[20] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42};
    mxrtc_addr from = A("198.51.100.2", 5000);
    assert_int_equal(mxrtc_ice_agent_handle_datagram(a, w.now, &w.p[0].addrs[0], &from, stun, sizeof stun),
                     MXRTC_ERR_CLOSED);
    bool closing[2] = {true, false};
    run_closing(&w, closing, 10 * SEC);
    assert_true(mxrtc_ice_agent_close_done(a));
    h_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(close_releases_udp_relays),
        cmocka_unit_test(lost_answers_are_bounded),
        cmocka_unit_test(close_while_allocating_releases_late_allocation),
        cmocka_unit_test(inputs_after_close_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
