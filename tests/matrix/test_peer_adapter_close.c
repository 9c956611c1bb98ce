/*
 * test_peer_adapter_close.c: the call layer closes a peer (op close) that
 * holds a TURN allocation on the simnet TURN server. The adapter keeps the
 * closed peer in its slot while the peer releases the allocation (Refresh
 * with LIFETIME 0, mxrtc_peer_close in mxrtc.h); the host, polling the
 * adapter and feeding the peer, sends the deallocation and the server frees
 * the relay; mxrtc_peer_adapter_teardown_done then says so. And when every
 * slot is taken, a new call still gets the slot of a closed peer whose
 * teardown has not finished (it is cut: its relay expires on the server).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/random.h"
#include "matrix/peer_adapter.h"
#include "support/simnet.h"

typedef struct world {
    simnet *net;
    int host;
    mxrtc_addr iface, turn;
    mxrtc_time_us now;
    mxrtc_seeded_random rnd;
    mxrtc_peer_adapter_factory *f;
    mxrtc_call_peer_factory cpf;
} world;

static void world_init(world *w, uint64_t seed) {
    memset(w, 0, sizeof *w);
    w->net = simnet_new(seed);
    w->now = 1000000;
    assert_int_equal(mxrtc_addr_parse(&w->turn, "203.0.113.50", 3478), MXRTC_OK);
    simnet_add_turn_server(w->net, SIMNET_WAN, &w->turn, &w->turn, "user", "pass", "mxrtc.test");
    assert_int_equal(mxrtc_addr_parse(&w->iface, "198.51.100.1", 5000), MXRTC_OK);
    w->host = simnet_add_host(w->net, "alice");
    simnet_host_add_interface(w->net, w->host, SIMNET_WAN, &w->iface);
    mxrtc_seeded_random_init(&w->rnd, seed);
    mxrtc_peer_config pc;
    mxrtc_peer_config_init(&pc);
    pc.random = mxrtc_seeded_random_source(&w->rnd);
    pc.interfaces[0] = w->iface;
    pc.interface_count = 1;
    pc.turn_servers[0].addr = w->turn;
    pc.turn_servers[0].proto = MXRTC_TURN_PROTO_UDP;
    pc.turn_servers[0].username = "user";
    pc.turn_servers[0].password = "pass";
    pc.turn_server_count = 1;
    assert_int_equal(mxrtc_peer_adapter_factory_new(&w->f, &pc), MXRTC_OK);
    mxrtc_peer_adapter_factory_set_time(w->f, w->now);
    w->cpf = mxrtc_peer_adapter_factory_get(w->f);
}

static void world_free(world *w) {
    mxrtc_peer_adapter_factory_free(w->f);
    simnet_free(w->net);
}

/* The host: drains every adapter (datagrams to simnet), feeds the peers
 * (closed ones included: the TURN answers still count) and their timers,
 * until `until` or stop(a). */
static void run(world *w, mxrtc_time_us until, mxrtc_peer_adapter *watch, bool (*stop)(mxrtc_peer_adapter *a)) {
    mxrtc_time_us deadline[MXRTC_PA_MAX_PEERS];
    for (int k = 0; k < MXRTC_PA_MAX_PEERS; k++) deadline[k] = MXRTC_TIME_NEVER;
    for (int guard = 0; guard < 100000; guard++) {
        for (size_t k = 0; k < MXRTC_PA_MAX_PEERS; k++) {
            mxrtc_peer_adapter *a = mxrtc_peer_adapter_at(w->f, k);
            if (!a) continue;
            if (deadline[k] <= w->now) {
                int rc = mxrtc_peer_handle_timeout(mxrtc_peer_adapter_peer(a), w->now);
                assert_true(rc == MXRTC_OK || (rc == MXRTC_ERR_CLOSED && mxrtc_peer_adapter_closed(a)));
            }
            for (;;) {
                mxrtc_peer_output o;
                assert_int_equal(mxrtc_peer_adapter_poll(a, w->now, &o), MXRTC_OK);
                if (o.kind == MXRTC_PEER_OUT_DEADLINE) {
                    deadline[k] = o.deadline;
                    break;
                }
                if (o.kind == MXRTC_PEER_OUT_DATAGRAM) simnet_send(w->net, w->host, &o.from, &o.to, o.data, o.len, w->now);
            }
        }
        if (stop && stop(watch)) return;
        simnet_packet pkt;
        while (simnet_pop(w->net, w->now, &pkt)) {
            for (size_t k = 0; k < MXRTC_PA_MAX_PEERS; k++) {
                mxrtc_peer_adapter *a = mxrtc_peer_adapter_at(w->f, k);
                if (!a) continue;
                int rc = mxrtc_peer_handle_datagram(mxrtc_peer_adapter_peer(a), w->now, &pkt.to, &pkt.from, pkt.data,
                                                    pkt.len);
                assert_true(rc == MXRTC_OK || (rc == MXRTC_ERR_CLOSED && mxrtc_peer_adapter_closed(a)));
                mxrtc_peer_output o;
                do {
                    assert_int_equal(mxrtc_peer_adapter_poll(a, w->now, &o), MXRTC_OK);
                    if (o.kind == MXRTC_PEER_OUT_DATAGRAM)
                        simnet_send(w->net, w->host, &o.from, &o.to, o.data, o.len, w->now);
                } while (o.kind != MXRTC_PEER_OUT_DEADLINE);
                deadline[k] = o.deadline;
            }
        }
        if (stop && stop(watch)) return;
        mxrtc_time_us next = simnet_next_delivery_time(w->net);
        for (int k = 0; k < MXRTC_PA_MAX_PEERS; k++)
            if (deadline[k] < next) next = deadline[k];
        if (next > until) {
            w->now = until;
            return;
        }
        if (next > w->now) w->now = next;
        mxrtc_peer_adapter_factory_set_time(w->f, w->now);
    }
    fail_msg("host loop did not settle");
}

static bool done(mxrtc_peer_adapter *a) { return mxrtc_peer_adapter_teardown_done(a); }

/* Opens call_id and makes our offer: gathering (and the Allocate) starts. */
static mxrtc_peer_adapter *open_and_offer(world *w, const char *call_id) {
    void *p = NULL;
    assert_int_equal(w->cpf.open(w->cpf.user, call_id, true, &p), MXRTC_OK);
    static char sdp[MXRTC_MX_SDP_MAX + 1];
    size_t len = 0;
    mxrtc_call_media want = {true, false, false, false};
    assert_int_equal(w->cpf.ops->create_offer(p, &want, sdp, sizeof sdp, &len), MXRTC_OK);
    return p;
}

static void closed_peer_kept_until_relay_released(void **state) {
    (void)state;
    world w;
    world_init(&w, 31);
    mxrtc_peer_adapter *a = open_and_offer(&w, "c1");
    run(&w, w.now + 3000000, NULL, NULL);
    assert_int_equal(simnet_turn_live_allocations(w.net, w.now), 1);

    w.cpf.ops->close(a);
    assert_true(mxrtc_peer_adapter_closed(a));
    assert_false(mxrtc_peer_adapter_teardown_done(a));   /* the Refresh(0) is queued, not sent */
    mxrtc_time_us t0 = w.now;
    run(&w, w.now + 10000000, a, done);
    assert_true(mxrtc_peer_adapter_teardown_done(a));
    assert_true(w.now < t0 + 2000000);
    assert_int_equal(simnet_turn_deallocations(w.net), 1);
    assert_int_equal(simnet_turn_live_allocations(w.net, w.now), 0);
    /* Still findable (stats) until a new call needs the slot. */
    assert_ptr_equal(mxrtc_peer_adapter_find(w.f, "c1"), a);
    world_free(&w);
}

static void full_table_cuts_an_unfinished_teardown(void **state) {
    (void)state;
    world w;
    world_init(&w, 32);
    mxrtc_peer_adapter *a = open_and_offer(&w, "c0");
    run(&w, w.now + 3000000, NULL, NULL);
    w.cpf.ops->close(a);
    assert_false(mxrtc_peer_adapter_teardown_done(a));
    /* Seven more calls fill the free slots; the closed one keeps its own. */
    char id[16];
    for (int k = 1; k < MXRTC_PA_MAX_PEERS; k++) {
        void *p = NULL;
        snprintf(id, sizeof id, "c%d", k);
        assert_int_equal(w.cpf.open(w.cpf.user, id, true, &p), MXRTC_OK);
    }
    assert_ptr_equal(mxrtc_peer_adapter_find(w.f, "c0"), a);
    /* The ninth gets the closed peer's slot rather than MXRTC_ERR_LIMIT. */
    void *p = NULL;
    assert_int_equal(w.cpf.open(w.cpf.user, "c8", true, &p), MXRTC_OK);
    assert_null(mxrtc_peer_adapter_find(w.f, "c0"));
    /* Only open calls now: a tenth is refused. */
    assert_int_equal(w.cpf.open(w.cpf.user, "c9", true, &p), MXRTC_ERR_LIMIT);
    world_free(&w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(closed_peer_kept_until_relay_released),
        cmocka_unit_test(full_table_cuts_an_unfinished_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
