/*
 * test_agent.c: two ICE agents (RFC 8445) on the simulated network with a
 * virtual clock: same host, IPv6, every NAT type on one and on both sides
 * (symmetric on both sides must fail without a relay: that is the expected
 * outcome), the same through a simulated relay, 20% loss on the checks, a
 * role conflict, consent loss (RFC 7675), an ICE restart mid-call, trickled
 * candidates after checks started, mDNS names, Firefox-style quirk
 * candidates, and the agent's defences (drain rule, unauthenticated STUN,
 * bounds, allocation failures).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "agent_harness.h"
#include "base/random.h"
#include "stun/stun.h"
#include "support/test_alloc.h"

#define SEC 1000000ULL

static mxrtc_addr A(const char *ip, uint16_t port) {
    mxrtc_addr a;
    assert_int_equal(mxrtc_addr_parse(&a, ip, port), MXRTC_OK);
    return a;
}

/* Puts peer i on a host with one interface ip in realm, socket port. */
static void place(h_world *w, int i, int realm, const char *ip, uint16_t port) {
    w->p[i].host = simnet_add_host(w->net, i ? "b" : "a");
    mxrtc_addr a = A(ip, port);
    simnet_host_add_interface(w->net, w->p[i].host, realm, &a);
    h_add_addr(w, i, &a, 0);
}

static void expect_connected(h_world *w) {
    assert_true(h_both_selected(w));
    for (int i = 0; i < 2; i++) {
        mxrtc_ice_state st = mxrtc_ice_agent_state(w->p[i].agent);
        assert_true(st == MXRTC_ICE_STATE_CONNECTED || st == MXRTC_ICE_STATE_COMPLETED);
        mxrtc_addr l, r;
        assert_int_equal(mxrtc_ice_agent_selected(w->p[i].agent, &l, &r), MXRTC_OK);
    }
    /* Exactly one side controls. */
    assert_true(mxrtc_ice_agent_is_controlling(w->p[0].agent) != mxrtc_ice_agent_is_controlling(w->p[1].agent));
    /* Each side sends to where the other one receives (through NATs the
     * remote seen is a mapping, so only check the IP family matches). */
    assert_int_equal(w->p[0].sel_local.family, w->p[1].sel_local.family);
}

static void same_host(void **state) {
    (void)state;
    h_world w;
    h_init(&w, 1, false);
    w.p[0].host = w.p[1].host = simnet_add_host(w.net, "ab");
    mxrtc_addr ip = A("192.0.2.10", 0), a = A("192.0.2.10", 5000), b = A("192.0.2.10", 6000);
    simnet_host_add_interface(w.net, w.p[0].host, SIMNET_WAN, &ip);
    h_add_addr(&w, 0, &a, 0);
    h_add_addr(&w, 1, &b, 0);
    h_start(&w);
    h_run(&w, 10 * SEC, h_both_selected);
    expect_connected(&w);
    assert_true(mxrtc_addr_equal(&w.p[0].sel_local, &a));
    assert_true(mxrtc_addr_equal(&w.p[0].sel_remote, &b));
    assert_true(mxrtc_addr_equal(&w.p[1].sel_local, &b));
    assert_true(mxrtc_addr_equal(&w.p[1].sel_remote, &a));
    /* Both gathered (no STUN servers: done at once) and went through CHECKING. */
    assert_int_equal(w.p[0].gathering_done, 1);
    assert_true(w.p[0].state_counts[MXRTC_ICE_STATE_CHECKING] == 1);
    /* Let it settle: COMPLETED, then consent keeps it alive for a minute. */
    h_run(&w, 70 * SEC, NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mxrtc_ice_agent_state(w.p[i].agent), MXRTC_ICE_STATE_COMPLETED);
        assert_int_equal(w.p[i].consent_lost, 0);
        assert_int_equal(w.p[i].selected_events, 1);
    }
    h_free(&w);
}

static void ipv6_dual_stack_prefers_v6(void **state) {
    (void)state;
    h_world w;
    h_init(&w, 2, false);
    for (int i = 0; i < 2; i++) {
        w.p[i].host = simnet_add_host(w.net, i ? "b" : "a");
        mxrtc_addr v6 = A(i ? "2001:db8::2" : "2001:db8::1", 0), v4 = A(i ? "198.51.100.2" : "198.51.100.1", 0);
        simnet_host_add_interface(w.net, w.p[i].host, SIMNET_WAN, &v6);
        simnet_host_add_interface(w.net, w.p[i].host, SIMNET_WAN, &v4);
        v6.port = 5000;
        v4.port = 5000;
        h_add_addr(&w, i, &v4, 0);
        h_add_addr(&w, i, &v6, 0);
    }
    h_start(&w);
    h_run(&w, 10 * SEC, h_both_selected);
    expect_connected(&w);
    /* RFC 8421: IPv6 host pairs rank above IPv4 ones and win. */
    assert_int_equal(w.p[0].sel_local.family, MXRTC_AF_INET6);
    assert_int_equal(w.p[1].sel_remote.family, MXRTC_AF_INET6);
    h_free(&w);
}

/* Both peers dual-stack; each IPv4 interface has a 5 ms link, each IPv6
 * one v6_delay (one way per link, so a v6 round trip is 4 * v6_delay). The
 * IPv6 pair has the higher priority (RFC 8421); its candidates are
 * signalled first, so it is checked first (at t0, when the candidates
 * arrive after the signalling delay) and the IPv4 pair Ta later. */
static void dual_stack_world(h_world *w, uint64_t seed, mxrtc_time_us v6_delay) {
    h_init(w, seed, false);
    for (int i = 0; i < 2; i++) {
        w->p[i].host = simnet_add_host(w->net, i ? "b" : "a");
        mxrtc_addr v6 = A(i ? "2001:db8::2" : "2001:db8::1", 0), v4 = A(i ? "198.51.100.2" : "198.51.100.1", 0);
        simnet_host_add_interface(w->net, w->p[i].host, SIMNET_WAN, &v6);
        simnet_host_add_interface(w->net, w->p[i].host, SIMNET_WAN, &v4);
        simnet_link l4 = {.delay = 5000}, l6 = {.delay = v6_delay};
        simnet_set_link(w->net, w->p[i].host, &v4, &l4);
        simnet_set_link(w->net, w->p[i].host, &v6, &l6);
        v6.port = 5000;
        v4.port = 5000;
        /* IPv6 first: its candidate is signalled (and paired) first. */
        h_add_addr(w, i, &v6, 0);
        h_add_addr(w, i, &v4, 0);
    }
}

static void exchange_data(h_world *w);

static bool controlling_selected(h_world *w) {
    return w->p[0].selected_events > 0;
}

/* RFC 8445 §8.1.1: the controlling agent nominates the best pair as soon as
 * it is valid when no pair of higher priority can still succeed: here the
 * IPv6 pair (checked first) succeeds while the IPv4 pair is still Waiting,
 * so the nomination check takes the next Ta slot (50 ms) instead of
 * waiting for the IPv4 check and then one more Ta (which made it 100 ms). */
static void nominates_at_once_when_best_pair_valid(void **state) {
    (void)state;
    h_world w;
    dual_stack_world(&w, 21, 5000);
    h_start(&w);
    h_run(&w, 10 * SEC, controlling_selected);
    assert_int_equal(w.p[0].sel_local.family, MXRTC_AF_INET6);
    /* IPv6 check at t0, valid at t0 + 20 ms with the IPv4 pair still
     * Waiting: nominated then; the nomination check takes the next pacing
     * slot, t0 + Ta, and is answered 20 ms later. (Waiting for the IPv4
     * check too, as before, made it t0 + 2 Ta + 20 ms.) */
    assert_true(w.p[0].sel_at <= w.sig_delay + 50000 + 20000);
    h_run(&w, 10 * SEC, h_both_selected);
    expect_connected(&w);
    assert_int_equal(w.p[1].sel_local.family, MXRTC_AF_INET6);
    h_free(&w);
}

/* The IPv6 pair (higher priority) is slow: 400 ms round trip. The IPv4
 * pair is valid at ~70 ms while the IPv6 check is In-Progress: no
 * nomination until nomination_delay (200 ms) after that; then the valid
 * IPv4 pair is nominated. Meanwhile (§12.1) both sides already send data
 * on the valid IPv4 pair: CONNECTED, and mxrtc_ice_agent_send() works. */
static void waits_for_better_pair_in_progress(void **state) {
    (void)state;
    h_world w;
    dual_stack_world(&w, 22, 100000);
    h_start(&w);
    mxrtc_ice_config def;
    mxrtc_ice_config_init(&def);
    /* IPv6 check at t0 = the signalling delay (answered at t0 + 400 ms),
     * IPv4 at t0 + Ta, valid 20 ms later. */
    mxrtc_time_us t0 = w.sig_delay;
    h_run(&w, t0 + 200000, NULL);
    assert_int_equal(w.p[0].selected_events, 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w.p[i].state, MXRTC_ICE_STATE_CONNECTED);
        assert_true(w.p[i].connected_at > t0 && w.p[i].connected_at <= t0 + 50000 + 20000);
    }
    /* §12.1: data on the valid (IPv4) pair before nomination. */
    exchange_data(&w);
    assert_int_equal(w.p[0].selected_events, 1);
    h_run(&w, 10 * SEC, h_both_selected);
    assert_int_equal(w.p[0].sel_local.family, MXRTC_AF_INET4);
    assert_int_equal(w.p[1].sel_local.family, MXRTC_AF_INET4);
    assert_true(w.p[0].sel_at >= w.p[0].connected_at + def.nomination_delay);
    h_free(&w);
}

/* The same with a 100 ms IPv6 round trip: the better pair succeeds during
 * the wait and is nominated at once, well before the delay runs out. */
static void better_pair_succeeding_in_the_wait_wins(void **state) {
    (void)state;
    h_world w;
    dual_stack_world(&w, 23, 25000);
    h_start(&w);
    h_run(&w, 10 * SEC, h_both_selected);
    expect_connected(&w);
    assert_int_equal(w.p[0].sel_local.family, MXRTC_AF_INET6);
    assert_int_equal(w.p[1].sel_local.family, MXRTC_AF_INET6);
    mxrtc_ice_config def;
    mxrtc_ice_config_init(&def);
    assert_true(w.p[0].sel_at < w.p[0].connected_at + def.nomination_delay);
    h_free(&w);
}

/* Data handed to the agent before any pair is valid (a DTLS server's answer
 * to a ClientHello that beat our own check's response) is held, not
 * dropped, and leaves as soon as a pair is valid (§12.1). */
static void data_before_valid_pair_is_held(void **state) {
    (void)state;
    h_world w;
    dual_stack_world(&w, 24, 5000);
    h_start(&w);
    uint8_t rtp[200] = {0x80, 0x6f};
    assert_int_equal(mxrtc_ice_agent_send(w.p[1].agent, w.now, rtp, sizeof rtp), MXRTC_OK);
    h_drain(&w, 1);
    assert_int_equal(w.p[0].received, 0);
    h_run(&w, SEC, NULL);
    assert_int_equal(w.p[0].received, 1);
    assert_int_equal(w.p[0].received_len, sizeof rtp);
    h_free(&w);
}

/* Peer 0 behind nat0 (or public), peer 1 behind nat1 (or public); a STUN
 * server on the WAN. Returns the world after running up to 60 s. */
#define TURN0 1       /* peer 0 allocates on the simnet TURN server */
#define TURN1 2       /* peer 1 too */
#define TURN_BADPW 4  /* ... with the wrong password */
#define RELAY_ONLY0 8 /* peer 0: relay-only policy */
#define TURN_SLOW 16  /* 300 ms to the TURN server: remote candidates arrive before the allocation */

static void nat_world_t(h_world *w, uint64_t seed, int t0, int t1, bool relay1, int turn) {
    h_init(w, seed, false);
    if (turn) {
        mxrtc_addr ts = A("203.0.113.50", 3478), relay = A("203.0.113.51", 0);
        int th = simnet_add_turn_server(w->net, SIMNET_WAN, &ts, &relay, "alice", "s3cret", "example.org");
        if (turn & TURN_SLOW) {
            simnet_link slow = {.delay = 300000};
            simnet_set_host_link(w->net, th, &slow);
        }
        if (turn & RELAY_ONLY0) {
            /* Recreate peer 0's agent with the relay-only policy. */
            mxrtc_ice_agent_free(w->p[0].agent);
            mxrtc_ice_config cfg;
            mxrtc_ice_config_init(&cfg);
            cfg.random = mxrtc_seeded_random_source(&w->rng[0]);
            cfg.controlling = true;
            cfg.relay_only = true;
            assert_int_equal(mxrtc_ice_agent_new(&w->p[0].agent, &cfg, 0), MXRTC_OK);
        }
        for (int i = 0; i < 2; i++)
            if (turn & (i ? TURN1 : TURN0))
                assert_int_equal(mxrtc_ice_agent_add_turn_server(w->p[i].agent, &ts, "alice",
                                                                 (turn & TURN_BADPW) ? "wrong" : "s3cret"),
                                 MXRTC_OK);
    }
    mxrtc_addr stun = A("203.0.113.100", 3478);
    simnet_add_stun_server(w->net, SIMNET_WAN, &stun);
    const char *pub[2] = {"203.0.113.1", "203.0.113.2"};
    const char *wanip[2] = {"198.51.100.1", "198.51.100.2"};
    int types[2] = {t0, t1};
    for (int i = 0; i < 2; i++) {
        if (types[i] < 0) {
            place(w, i, SIMNET_WAN, wanip[i], 5000);
        } else {
            mxrtc_addr pip = A(pub[i], 0);
            int lan;
            simnet_add_nat(w->net, (simnet_nat_type)types[i], SIMNET_WAN, &pip, 30 * SEC, &lan);
            /* Same private address on both LANs, as in real life. */
            place(w, i, lan, "10.0.0.2", 5000);
        }
        assert_int_equal(mxrtc_ice_agent_add_stun_server(w->p[i].agent, &stun), MXRTC_OK);
    }
    if (relay1) {
        /* A relay on the WAN for peer 1 (standing in for a TURN allocation:
         * datagrams to the relayed address reach peer 1, peer 1 sends from
         * it; no TURN protocol involved). */
        h_peer *p = &w->p[1];
        p->relay_host = simnet_add_host(w->net, "relay");
        p->relayed = A("203.0.113.200", 40000);
        simnet_host_add_interface(w->net, p->relay_host, SIMNET_WAN, &p->relayed);
        p->has_relay = true;
        mxrtc_addr server = A("203.0.113.200", 3478);
        assert_int_equal(mxrtc_ice_agent_add_relayed_candidate(p->agent, 0, &p->relayed, &server), MXRTC_OK);
        h_drain(w, 1);
    }
    h_start(w);
    h_run(w, 60 * SEC, h_both_selected);
}

static void nat_world(h_world *w, uint64_t seed, int t0, int t1, bool relay1) {
    nat_world_t(w, seed, t0, t1, relay1, 0);
}

static const char *const nat_names[] = {"full cone", "restricted", "port restricted", "symmetric"};

static void nat_one_side(void **state) {
    (void)state;
    for (int t = 0; t < 4; t++) {
        for (int side = 0; side < 2; side++) {
            h_world w;
            nat_world(&w, 10 + (uint64_t)t, side == 0 ? t : -1, side == 1 ? t : -1, false);
            if (!h_both_selected(&w)) fail_msg("%s NAT on side %d did not connect", nat_names[t], side);
            expect_connected(&w);
            /* The NATed side's peer sees it at its NAT's public address. */
            const mxrtc_addr *seen = &w.p[1 - side].sel_remote;
            mxrtc_addr pub = A(side ? "203.0.113.2" : "203.0.113.1", seen->port);
            assert_true(mxrtc_addr_equal(seen, &pub));
            /* The NATed side learnt a server-reflexive candidate. */
            assert_true(w.p[side].local_candidates >= 2);
            h_free(&w);
        }
    }
}

static bool both_done(h_world *w) {
    for (int i = 0; i < 2; i++) {
        mxrtc_ice_state st = w->p[i].state;
        if (st != MXRTC_ICE_STATE_FAILED && !w->p[i].selected_events) return false;
    }
    return true;
}

static void nat_both_sides(void **state) {
    (void)state;
    for (int t = 0; t < 4; t++) {
        h_world w;
        nat_world(&w, 20 + (uint64_t)t, t, t, false);
        h_run(&w, 120 * SEC, both_done);
        if (t == SIMNET_NAT_SYMMETRIC) {
            /* EXPECTED FAILURE: two symmetric NATs cannot be traversed
             * without a relay (RFC 5128 §3.3.5): each side's srflx port is
             * useless to the other. Both agents must say FAILED. */
            assert_false(w.p[0].selected_events || w.p[1].selected_events);
            assert_int_equal(mxrtc_ice_agent_state(w.p[0].agent), MXRTC_ICE_STATE_FAILED);
            assert_int_equal(mxrtc_ice_agent_state(w.p[1].agent), MXRTC_ICE_STATE_FAILED);
        } else {
            if (!h_both_selected(&w)) fail_msg("%s NAT on both sides did not connect", nat_names[t]);
            expect_connected(&w);
        }
        h_free(&w);
    }
    /* Symmetric against port-restricted fails too (the classic table). */
    h_world w;
    nat_world(&w, 30, SIMNET_NAT_SYMMETRIC, SIMNET_NAT_PORT_RESTRICTED, false);
    h_run(&w, 120 * SEC, both_done);
    assert_int_equal(mxrtc_ice_agent_state(w.p[0].agent), MXRTC_ICE_STATE_FAILED);
    h_free(&w);
    /* Symmetric against restricted cone works (address-only filter). */
    nat_world(&w, 31, SIMNET_NAT_SYMMETRIC, SIMNET_NAT_RESTRICTED, false);
    expect_connected(&w);
    h_free(&w);
}

static void symmetric_both_sides_via_relay(void **state) {
    (void)state;
    h_world w;
    nat_world(&w, 40, SIMNET_NAT_SYMMETRIC, SIMNET_NAT_SYMMETRIC, true);
    expect_connected(&w);
    /* The only working path uses peer 1's relayed candidate. */
    assert_true(mxrtc_addr_equal(&w.p[1].sel_local, &w.p[1].relayed));
    assert_true(mxrtc_addr_equal(&w.p[0].sel_remote, &w.p[1].relayed));
    h_free(&w);
}

/* Sends application data both ways on the selected pair; returns what
 * arrived on each side. */
static void exchange_data(h_world *w) {
    uint8_t rtp[200] = {0x80, 0x6f};
    int before[2] = {w->p[0].received, w->p[1].received};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mxrtc_ice_agent_send(w->p[i].agent, w->now, rtp, sizeof rtp), MXRTC_OK);
        h_drain(w, i);
    }
    h_run(w, w->now + SEC, NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w->p[i].received, before[i] + 1);
        assert_int_equal(w->p[i].received_len, sizeof rtp);
    }
}

static void symmetric_both_sides_via_turn(void **state) {
    (void)state;
    h_world w;
    nat_world_t(&w, 41, SIMNET_NAT_SYMMETRIC, SIMNET_NAT_SYMMETRIC, false, TURN0 | TURN1);
    h_run(&w, 60 * SEC, h_both_selected);
    expect_connected(&w);
    /* The path runs through the TURN server's relayed addresses. */
    mxrtc_addr relay_ip = A("203.0.113.51", 0);
    bool relayed0 = w.p[0].sel_local.family == MXRTC_AF_INET4 && memcmp(w.p[0].sel_local.ip, relay_ip.ip, 4) == 0;
    bool relayed1 = w.p[1].sel_local.family == MXRTC_AF_INET4 && memcmp(w.p[1].sel_local.ip, relay_ip.ip, 4) == 0;
    assert_true(relayed0 || relayed1);
    assert_true(simnet_turn_relayed(w.net) > 0);
    /* Media flows both ways (ChannelData on the selected pair). */
    exchange_data(&w);
    /* And stays up: consent over the relay, allocation refreshes. */
    h_run(&w, w.now + 120 * SEC, NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w.p[i].consent_lost, 0);
        assert_int_equal(mxrtc_ice_agent_state(w.p[i].agent), MXRTC_ICE_STATE_COMPLETED);
    }
    exchange_data(&w);
    h_free(&w);
}

static void every_nat_pair_with_turn(void **state) {
    (void)state;
    /* With TURN on both sides every combination connects, including those
     * that fail without it (symmetric against symmetric or port-restricted). */
    for (int t0 = 0; t0 < 4; t0++)
        for (int t1 = 0; t1 < 4; t1++) {
            h_world w;
            nat_world_t(&w, 200 + (uint64_t)(t0 * 4 + t1), t0, t1, false, TURN0 | TURN1);
            if (!h_both_selected(&w)) fail_msg("%s / %s with TURN did not connect", nat_names[t0], nat_names[t1]);
            expect_connected(&w);
            exchange_data(&w);
            h_free(&w);
        }
}

static void relay_only_policy(void **state) {
    (void)state;
    h_world w;
    nat_world_t(&w, 42, -1, -1, false, TURN0 | RELAY_ONLY0 | TURN_SLOW);
    h_run(&w, 60 * SEC, h_both_selected);
    expect_connected(&w);
    /* Peer 0 signalled only its relayed candidate and uses it. */
    assert_int_equal(w.p[0].local_candidates, 1);
    mxrtc_addr relay_ip = A("203.0.113.51", 0);
    assert_memory_equal(w.p[0].sel_local.ip, relay_ip.ip, 4);
    assert_memory_equal(w.p[1].sel_remote.ip, relay_ip.ip, 4);
    exchange_data(&w);
    h_free(&w);
}

static void turn_wrong_password_fails_cleanly(void **state) {
    (void)state;
    h_world w;
    nat_world_t(&w, 43, SIMNET_NAT_SYMMETRIC, SIMNET_NAT_SYMMETRIC, false, TURN0 | TURN1 | TURN_BADPW);
    h_run(&w, 120 * SEC, both_done);
    assert_true(simnet_turn_auth_failures(w.net) > 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w.p[i].gathering_done, 1);
        assert_int_equal(mxrtc_ice_agent_state(w.p[i].agent), MXRTC_ICE_STATE_FAILED);
    }
    h_free(&w);
}

static void loss_on_checks(void **state) {
    (void)state;
    for (uint64_t seed = 50; seed < 55; seed++) {
        h_world w;
        h_init(&w, seed, false);
        place(&w, 0, SIMNET_WAN, "198.51.100.1", 5000);
        place(&w, 1, SIMNET_WAN, "198.51.100.2", 5000);
        simnet_link l = {.delay = 20000, .jitter = 10000, .loss = 0.2};
        simnet_set_host_link(w.net, w.p[0].host, &l);
        simnet_set_host_link(w.net, w.p[1].host, &l);
        h_start(&w);
        h_run(&w, 60 * SEC, h_both_selected);
        expect_connected(&w);
        assert_true(simnet_get_stats(w.net)->lost > 0); /* loss really happened */
        h_free(&w);
    }
}

static void role_conflict_resolves(void **state) {
    (void)state;
    h_world w;
    h_init(&w, 60, true); /* both start controlling */
    place(&w, 0, SIMNET_WAN, "198.51.100.1", 5000);
    place(&w, 1, SIMNET_WAN, "198.51.100.2", 5000);
    assert_true(mxrtc_ice_agent_is_controlling(w.p[0].agent));
    assert_true(mxrtc_ice_agent_is_controlling(w.p[1].agent));
    h_start(&w);
    h_run(&w, 30 * SEC, h_both_selected);
    expect_connected(&w); /* includes: exactly one controlling now */
    assert_true(mxrtc_ice_agent_stats(w.p[0].agent)->role_conflicts +
                mxrtc_ice_agent_stats(w.p[1].agent)->role_conflicts > 0);
    h_free(&w);
}

static void consent_loss_fails_after_30s(void **state) {
    (void)state;
    h_world w;
    h_init(&w, 70, false);
    place(&w, 0, SIMNET_WAN, "198.51.100.1", 5000);
    place(&w, 1, SIMNET_WAN, "198.51.100.2", 5000);
    h_start(&w);
    h_run(&w, 10 * SEC, h_both_selected);
    expect_connected(&w);
    h_run(&w, w.now + 20 * SEC, NULL); /* consent keeps it up */
    assert_int_equal(w.p[0].consent_lost, 0);
    mxrtc_time_us cut = w.now;
    simnet_link dead = {.loss = 1.0};
    simnet_set_host_link(w.net, w.p[1].host, &dead);
    /* Up to 29 s after the cut: at most DISCONNECTED, never failed. The last
     * response can predate the cut by one consent interval (<= 6 s). */
    h_run(&w, cut + 23 * SEC, NULL);
    assert_int_equal(w.p[0].consent_lost, 0);
    assert_int_equal(mxrtc_ice_agent_state(w.p[0].agent), MXRTC_ICE_STATE_DISCONNECTED);
    h_run(&w, cut + 40 * SEC, NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(w.p[i].consent_lost, 1);
        assert_int_equal(mxrtc_ice_agent_state(w.p[i].agent), MXRTC_ICE_STATE_FAILED);
        assert_int_equal(mxrtc_ice_agent_selected(w.p[i].agent, NULL, NULL), MXRTC_ERR_NOT_FOUND);
    }
    h_free(&w);
}

static void ice_restart_selects_new_pair(void **state) {
    (void)state;
    h_world w;
    h_init(&w, 80, false);
    place(&w, 0, SIMNET_WAN, "198.51.100.1", 5000);
    place(&w, 1, SIMNET_WAN, "198.51.100.2", 5000);
    h_start(&w);
    h_run(&w, 10 * SEC, h_both_selected);
    expect_connected(&w);
    mxrtc_addr old_local = w.p[0].sel_local;
    const char *old_ufrag;
    mxrtc_ice_agent_local_credentials(w.p[0].agent, &old_ufrag, NULL);
    char old_u[16];
    snprintf(old_u, sizeof old_u, "%s", old_ufrag);
    /* Peer 0 moves to a new network: a second interface appears and the
     * first one will die soon after. Both sides restart (new offer/answer). */
    mxrtc_addr ip2 = A("198.51.100.11", 0), a2 = A("198.51.100.11", 5002);
    simnet_host_add_interface(w.net, w.p[0].host, SIMNET_WAN, &ip2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mxrtc_ice_agent_restart(w.p[i].agent, w.now), MXRTC_OK);
        h_drain(&w, i);
    }
    const char *new_ufrag;
    mxrtc_ice_agent_local_credentials(w.p[0].agent, &new_ufrag, NULL);
    assert_string_not_equal(old_u, new_ufrag);
    /* The old pair still carries media until a new one is chosen. */
    for (int i = 0; i < 2; i++) assert_int_equal(mxrtc_ice_agent_selected(w.p[i].agent, NULL, NULL), MXRTC_OK);
    w.p[0].addrs[w.p[0].naddrs++] = a2;
    assert_int_equal(mxrtc_ice_agent_add_interface(w.p[0].agent, &a2, 0), MXRTC_OK);
    h_drain(&w, 0);
    simnet_link dead = {.loss = 1.0};
    mxrtc_addr ip1 = A("198.51.100.1", 0);
    simnet_set_link(w.net, w.p[0].host, &ip1, &dead);
    /* New credentials over signalling. */
    const char *u[2], *pw[2];
    for (int i = 0; i < 2; i++) mxrtc_ice_agent_local_credentials(w.p[i].agent, &u[i], &pw[i]);
    for (int i = 0; i < 2; i++)
        assert_int_equal(mxrtc_ice_agent_set_remote_credentials(w.p[i].agent, u[1 - i], pw[1 - i]), MXRTC_OK);
    int before0 = w.p[0].selected_events, before1 = w.p[1].selected_events;
    h_run(&w, w.now + 20 * SEC, NULL);
    assert_int_equal(w.p[0].selected_events, before0 + 1);
    assert_int_equal(w.p[1].selected_events, before1 + 1);
    assert_false(mxrtc_addr_equal(&w.p[0].sel_local, &old_local));
    assert_true(mxrtc_addr_equal(&w.p[0].sel_local, &a2));
    expect_connected(&w);
    assert_int_equal(w.p[0].consent_lost, 0);
    h_free(&w);
}

static void trickle_after_checks_started(void **state) {
    (void)state;
    h_world w;
    h_init(&w, 90, false);
    /* Peer 1 behind a port-restricted NAT; candidates are held back and
     * trickled by hand: peer 1's unreachable host candidate first (peer 0
     * starts checking it), then three seconds later peer 1's srflx
     * candidate and peer 0's host candidate. */
    mxrtc_addr stun = A("203.0.113.100", 3478);
    simnet_add_stun_server(w.net, SIMNET_WAN, &stun);
    place(&w, 0, SIMNET_WAN, "198.51.100.1", 5000);
    mxrtc_addr pip = A("203.0.113.2", 0);
    int lan;
    simnet_add_nat(w.net, SIMNET_NAT_PORT_RESTRICTED, SIMNET_WAN, &pip, 30 * SEC, &lan);
    place(&w, 1, lan, "10.0.0.2", 5000);
    assert_int_equal(mxrtc_ice_agent_add_stun_server(w.p[1].agent, &stun), MXRTC_OK);
    w.p[0].trickle = false;
    w.p[1].trickle = false;
    h_start(&w);
    h_signal_line(&w, 0, "candidate:1 1 udp 2130706431 10.0.0.2 5000 typ host");
    h_run(&w, 3 * SEC, NULL);
    assert_true(mxrtc_ice_agent_stats(w.p[0].agent)->checks_sent > 0);
    assert_int_equal(w.p[0].selected_events, 0);
    /* Now the srflx candidate (peer 1 learnt it from the STUN server). */
    assert_true(w.p[1].local_candidates >= 2);
    mxrtc_addr mapped;
    /* Its mapping: the NAT's public address with the port it gave 10.0.0.2:5000. */
    int nat = 0;
    mxrtc_addr inner = A("10.0.0.2", 5000);
    assert_true(simnet_nat_mapping(w.net, nat, &inner, &stun, w.now, &mapped));
    mxrtc_ice_candidate c;
    mxrtc_ice_candidate_init(&c);
    snprintf(c.foundation, sizeof c.foundation, "2");
    c.type = MXRTC_ICE_CAND_SRFLX;
    c.priority = 1694498815;
    c.addr = mapped;
    char line[MXRTC_ICE_CANDIDATE_LINE_MAX];
    assert_true(mxrtc_ice_candidate_format(&c, line, sizeof line) > 0);
    h_signal_line(&w, 0, line);
    h_signal_line(&w, 0, "a=end-of-candidates");
    /* And peer 0's candidate reaches peer 1 only now. */
    h_signal_line(&w, 1, "candidate:1 1 udp 2130706431 198.51.100.1 5000 typ host");
    h_run(&w, 30 * SEC, h_both_selected);
    expect_connected(&w);
    h_free(&w);
}

static void mdns_names_resolved_through_hook(void **state) {
    (void)state;
    h_world w;
    h_init(&w, 100, false);
    place(&w, 0, SIMNET_WAN, "198.51.100.1", 5000);
    place(&w, 1, SIMNET_WAN, "198.51.100.2", 5000);
    w.p[1].mdns = true; /* peer 1 hides its host candidates behind .local */
    h_start(&w);
    h_run(&w, 20 * SEC, h_both_selected);
    expect_connected(&w);
    assert_int_equal(w.p[0].resolves, 1);
    assert_true(mxrtc_addr_equal(&w.p[0].sel_remote, &w.p[1].addrs[0]));
    /* An answer for a name nobody asked about. */
    mxrtc_addr ip = A("192.0.2.1", 0);
    assert_int_equal(mxrtc_ice_agent_resolved(w.p[0].agent, w.now, "nobody.local", &ip), MXRTC_ERR_NOT_FOUND);
    h_drain(&w, 0);
    h_free(&w);
}

static void firefox_quirks_ignored(void **state) {
    (void)state;
    h_world w;
    h_init(&w, 110, false);
    place(&w, 0, SIMNET_WAN, "198.51.100.1", 5000);
    place(&w, 1, SIMNET_WAN, "198.51.100.2", 5000);
    h_start(&w);
    /* What Firefox trickles besides the real candidate: RTCP component 2,
     * TCP active on port 9, the same candidate again for another m-section
     * (BUNDLE), an ssltcp one, and a candidate with a stale ufrag. */
    static const char *const quirks[] = {
        "candidate:0 2 UDP 2122252542 198.51.100.2 5001 typ host",
        "candidate:1 1 TCP 2105524479 198.51.100.2 9 typ host tcptype active",
        "candidate:1 2 TCP 2105524478 198.51.100.2 9 typ host tcptype active",
        "candidate:0 1 UDP 2122252543 198.51.100.2 5000 typ host",
        "candidate:0 1 UDP 2122252543 198.51.100.2 5000 typ host",
        "candidate:2 1 ssltcp 1 198.51.100.2 443 typ host",
        "candidate:3 1 udp 5 198.51.100.99 1 typ host ufrag zzzzzz",
    };
    for (size_t k = 0; k < sizeof quirks / sizeof quirks[0]; k++) h_signal_line(&w, 0, quirks[k]);
    h_run(&w, 20 * SEC, h_both_selected);
    expect_connected(&w);
    assert_true(mxrtc_addr_equal(&w.p[0].sel_remote, &w.p[1].addrs[0]));
    /* 2 + 2 TCP/RTCP + 3 duplicates of the real one (it also trickled) +
     * ssltcp + stale ufrag. */
    assert_true(mxrtc_ice_agent_stats(w.p[0].agent)->ignored_candidates >= 7);
    /* A malformed line is refused with its parse error and harms nothing. */
    assert_int_equal(mxrtc_ice_agent_add_remote_candidate_line(w.p[0].agent, w.now, "candidate:x", 11),
                     MXRTC_ERR_MALFORMED);
    h_drain(&w, 0);
    h_run(&w, w.now + 10 * SEC, NULL);
    expect_connected(&w);
    h_free(&w);
}

/* ---- defences --------------------------------------------------------- */

static mxrtc_ice_agent *lone_agent(mxrtc_seeded_random *g, const mxrtc_allocator *al) {
    mxrtc_ice_config cfg;
    mxrtc_ice_config_init(&cfg);
    cfg.random = mxrtc_seeded_random_source(g);
    cfg.alloc = al;
    cfg.max_remote_candidates = 4;
    mxrtc_ice_agent *a = NULL;
    if (mxrtc_ice_agent_new(&a, &cfg, 0) != MXRTC_OK) return NULL;
    return a;
}

static mxrtc_time_us drain_one(mxrtc_ice_agent *a, int *sends) {
    mxrtc_ice_output o;
    for (;;) {
        assert_int_equal(mxrtc_ice_agent_poll(a, &o), MXRTC_OK);
        if (o.kind == MXRTC_ICE_OUT_DEADLINE) return o.deadline;
        if (sends && (o.kind == MXRTC_ICE_OUT_SEND || o.kind == MXRTC_ICE_OUT_SEND_RELAY)) (*sends)++;
    }
}

static void drain_rule_enforced(void **state) {
    (void)state;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 1);
    mxrtc_ice_agent *a = lone_agent(&g, NULL);
    mxrtc_addr l = A("198.51.100.1", 5000);
    assert_int_equal(mxrtc_ice_agent_add_interface(a, &l, 0), MXRTC_OK);
    assert_int_equal(mxrtc_ice_agent_gather(a, 0), MXRTC_OK);
    /* Outputs are waiting (a local candidate): another input is misuse. */
    assert_int_equal(mxrtc_ice_agent_handle_timeout(a, 1), MXRTC_ERR_STATE);
    assert_int_equal(mxrtc_ice_agent_add_remote_candidate_line(a, 1, "candidate:1 1 udp 1 192.0.2.1 1 typ host", 40),
                     MXRTC_ERR_STATE);
    drain_one(a, NULL);
    assert_int_equal(mxrtc_ice_agent_handle_timeout(a, 1), MXRTC_OK);
    drain_one(a, NULL);
    mxrtc_ice_agent_free(a);
    mxrtc_ice_agent_free(NULL);
}

static void unauthenticated_stun_is_not_answered(void **state) {
    (void)state;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 2);
    mxrtc_ice_agent *a = lone_agent(&g, NULL);
    mxrtc_addr l = A("198.51.100.1", 5000), r = A("192.0.2.66", 1234);
    assert_int_equal(mxrtc_ice_agent_add_interface(a, &l, 0), MXRTC_OK);
    assert_int_equal(mxrtc_ice_agent_gather(a, 0), MXRTC_OK);
    drain_one(a, NULL);
    const char *ufrag, *pwd;
    mxrtc_ice_agent_local_credentials(a, &ufrag, &pwd);
    uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, buf[256];
    char user[64];
    snprintf(user, sizeof user, "%s:peer", ufrag);
    mxrtc_stun_key good, bad;
    mxrtc_stun_key_short_term(&good, pwd, strlen(pwd));
    mxrtc_stun_key_short_term(&bad, "wrongwrongwrongwrongwrong", 25);
    struct { const char *user; const mxrtc_stun_key *key; bool ok; } cases[] = {
        {"nobody:peer", &good, false}, /* unknown ufrag */
        {user, &bad, false},           /* wrong password */
        {user, NULL, false},           /* no integrity at all */
        {user, &good, true},
    };
    for (size_t k = 0; k < 4; k++) {
        mxrtc_stun_builder b;
        mxrtc_stun_build_begin(&b, buf, sizeof buf, MXRTC_STUN_BINDING, MXRTC_STUN_REQUEST, tid);
        mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_USERNAME, cases[k].user, strlen(cases[k].user));
        mxrtc_stun_add_u32(&b, MXRTC_STUN_ATTR_PRIORITY, 1862270975u);
        mxrtc_stun_add_u64(&b, MXRTC_STUN_ATTR_ICE_CONTROLLING, 42);
        if (cases[k].key) mxrtc_stun_add_integrity(&b, cases[k].key);
        mxrtc_stun_add_fingerprint(&b);
        int n = mxrtc_stun_build_end(&b);
        assert_true(n > 0);
        assert_int_equal(mxrtc_ice_agent_handle_datagram(a, 1, &l, &r, buf, (size_t)n), MXRTC_OK);
        int sends = 0;
        drain_one(a, &sends);
        /* Bad ones: nothing sent back. The good one: a response (and no
         * check yet: the remote credentials are unknown). */
        assert_int_equal(sends, cases[k].ok ? 1 : 0);
    }
    assert_int_equal(mxrtc_ice_agent_stats(a)->rejected, 3);
    /* Not STUN at all: not the agent's. */
    uint8_t rtp[12] = {0x80, 0x60};
    assert_int_equal(mxrtc_ice_agent_handle_datagram(a, 2, &l, &r, rtp, sizeof rtp), MXRTC_ERR_MALFORMED);
    mxrtc_ice_agent_free(a);
}

static void bounded_tables(void **state) {
    (void)state;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 3);
    mxrtc_ice_agent *a = lone_agent(&g, NULL); /* max 4 remote candidates */
    mxrtc_addr l = A("198.51.100.1", 5000);
    assert_int_equal(mxrtc_ice_agent_add_interface(a, &l, 0), MXRTC_OK);
    int rc = MXRTC_OK;
    for (int k = 0; k < 10; k++) {
        char line[128];
        int n = snprintf(line, sizeof line, "candidate:%d 1 udp 100 192.0.2.%d 1000 typ host", k, k + 1);
        rc = mxrtc_ice_agent_add_remote_candidate_line(a, 0, line, (size_t)n);
        drain_one(a, NULL);
        if (k < 4) assert_int_equal(rc, MXRTC_OK);
        else assert_int_equal(rc, MXRTC_ERR_LIMIT);
    }
    assert_int_equal(mxrtc_ice_agent_stats(a)->limit_hits, 6);
    /* Over-long credentials are refused. */
    char longpwd[300];
    memset(longpwd, 'a', sizeof longpwd - 1);
    longpwd[sizeof longpwd - 1] = '\0';
    assert_int_equal(mxrtc_ice_agent_set_remote_credentials(a, "abcd", longpwd), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_ice_agent_set_remote_credentials(a, "", "x"), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_ice_agent_free(a);
    /* Bad configurations. */
    mxrtc_ice_config cfg;
    mxrtc_ice_config_init(&cfg);
    cfg.max_pairs = 0;
    mxrtc_ice_agent *b = NULL;
    assert_int_equal(mxrtc_ice_agent_new(&b, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);
    cfg.max_pairs = 8;
    cfg.size = 3;
    assert_int_equal(mxrtc_ice_agent_new(&b, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);
}

static void allocation_failures_leak_nothing(void **state) {
    (void)state;
    test_alloc ta;
    test_alloc_init(&ta);
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 4);
    int failures = 0;
    for (long n = 1; n < 20; n++) {
        test_alloc_fail_nth(&ta, n);
        mxrtc_ice_agent *a = lone_agent(&g, &ta.iface);
        if (!a) {
            failures++;
            assert_int_equal(ta.live, 0);
            continue;
        }
        mxrtc_ice_agent_free(a);
        assert_int_equal(ta.live, 0);
    }
    assert_true(failures >= 5); /* the agent and its five tables */
    /* And with TURN clients (UDP and TCP) added, gathering started and the
     * agent freed mid-allocation. */
    failures = 0;
    for (long n = 1; n < 40; n++) {
        test_alloc_fail_nth(&ta, n);
        mxrtc_ice_agent *a = lone_agent(&g, &ta.iface);
        if (!a) {
            failures++;
            assert_int_equal(ta.live, 0);
            continue;
        }
        mxrtc_addr l = A("198.51.100.1", 5000), ts = A("203.0.113.50", 3478);
        assert_int_equal(mxrtc_ice_agent_add_interface(a, &l, 0), MXRTC_OK);
        int rc1 = mxrtc_ice_agent_add_turn_server(a, &ts, "alice", "s3cret");
        mxrtc_ice_turn_server tcp;
        memset(&tcp, 0, sizeof tcp);
        tcp.addr = ts;
        tcp.transport = MXRTC_TURN_TCP;
        tcp.username = "alice";
        tcp.password = "s3cret";
        int rc2 = mxrtc_ice_agent_add_turn(a, &tcp);
        if (rc1 != MXRTC_OK || rc2 != MXRTC_OK) {
            failures++;
            assert_true(rc1 == MXRTC_OK || rc1 == MXRTC_ERR_NO_MEMORY);
            assert_true(rc2 == MXRTC_OK || rc2 == MXRTC_ERR_NO_MEMORY);
        }
        assert_int_equal(mxrtc_ice_agent_gather(a, 0), MXRTC_OK);
        int sends = 0;
        drain_one(a, &sends);
        mxrtc_ice_agent_free(a);
        assert_int_equal(ta.live, 0);
    }
    assert_true(failures >= 8);
    test_alloc_fail_nth(&ta, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_host),
        cmocka_unit_test(ipv6_dual_stack_prefers_v6),
        cmocka_unit_test(nat_one_side),
        cmocka_unit_test(nat_both_sides),
        cmocka_unit_test(symmetric_both_sides_via_relay),
        cmocka_unit_test(symmetric_both_sides_via_turn),
        cmocka_unit_test(every_nat_pair_with_turn),
        cmocka_unit_test(relay_only_policy),
        cmocka_unit_test(turn_wrong_password_fails_cleanly),
        cmocka_unit_test(loss_on_checks),
        cmocka_unit_test(role_conflict_resolves),
        cmocka_unit_test(consent_loss_fails_after_30s),
        cmocka_unit_test(ice_restart_selects_new_pair),
        cmocka_unit_test(trickle_after_checks_started),
        cmocka_unit_test(mdns_names_resolved_through_hook),
        cmocka_unit_test(firefox_quirks_ignored),
        cmocka_unit_test(drain_rule_enforced),
        cmocka_unit_test(unauthenticated_stun_is_not_answered),
        cmocka_unit_test(bounded_tables),
        cmocka_unit_test(allocation_failures_leak_nothing),
        cmocka_unit_test(nominates_at_once_when_best_pair_valid),
        cmocka_unit_test(waits_for_better_pair_in_progress),
        cmocka_unit_test(better_pair_succeeding_in_the_wait_wins),
        cmocka_unit_test(data_before_valid_pair_is_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
