/*
 * test_engine_ice.c: the ICE agent behind the engine table, without any
 * socket: application data (not STUN) becomes a RECEIVED event holding a
 * copy, an oversized one is refused and counted, the agent's own outputs
 * map to DATAGRAM / RESOLVE / EVENT, and the drain ends on a DEADLINE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "base/random.h"
#include "net/engine_ice.h"

static void drain_until_deadline(mxrtc_net_engine *e, int *datagrams, int *events, int *resolves,
                                 const char **hostname) {
    for (int guard = 0; guard < 1000; guard++) {
        mxrtc_net_output o;
        assert_int_equal(e->poll(e->user, 0, &o), MXRTC_OK);
        switch (o.kind) {
        case MXRTC_NET_OUT_DEADLINE: return;
        case MXRTC_NET_OUT_DATAGRAM: (*datagrams)++; break;
        case MXRTC_NET_OUT_EVENT: (*events)++; break;
        case MXRTC_NET_OUT_RESOLVE: (*resolves)++; *hostname = o.hostname; break;
        default: fail_msg("unexpected output %d", (int)o.kind);
        }
    }
    fail_msg("no deadline");
}

static void adapter_maps_outputs(void **state) {
    (void)state;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 42);
    mxrtc_ice_config cfg;
    mxrtc_ice_config_init(&cfg);
    cfg.random = mxrtc_seeded_random_source(&g);
    mxrtc_ice_agent *agent;
    assert_int_equal(mxrtc_ice_agent_new(&agent, &cfg, 0), MXRTC_OK);
    mxrtc_net_ice ad;
    mxrtc_net_engine e = mxrtc_net_ice_engine(&ad, agent);
    assert_ptr_equal(e.user, &ad);

    mxrtc_addr local, remote;
    assert_int_equal(mxrtc_addr_parse(&local, "192.0.2.1", 4000), MXRTC_OK);
    assert_int_equal(mxrtc_addr_parse(&remote, "192.0.2.2", 5000), MXRTC_OK);
    assert_int_equal(mxrtc_ice_agent_add_interface(agent, &local, 0), MXRTC_OK);
    assert_int_equal(mxrtc_ice_agent_set_remote_credentials(agent, "abcd", "0123456789abcdefghijkl"), MXRTC_OK);
    assert_int_equal(mxrtc_ice_agent_gather(agent, 0), MXRTC_OK);
    int dg = 0, ev = 0, rs = 0;
    const char *host = NULL;
    drain_until_deadline(&e, &dg, &ev, &rs, &host);
    assert_true(ev >= 1);                 /* the host candidate (and gathering done) */

    /* A remote mDNS candidate: the agent's EV_RESOLVE becomes RESOLVE. */
    const char *line = "candidate:1 1 udp 2122260223 0a1b2c3d-1111-4222-8333-444455556666.local 5000 typ host";
    assert_int_equal(mxrtc_ice_agent_add_remote_candidate_line(agent, 0, line, strlen(line)), MXRTC_OK);
    dg = ev = rs = 0;
    drain_until_deadline(&e, &dg, &ev, &rs, &host);
    assert_int_equal(rs, 1);
    assert_string_equal(host, "0a1b2c3d-1111-4222-8333-444455556666.local");
    assert_int_equal(e.resolved(e.user, 0, "0a1b2c3d-1111-4222-8333-444455556666.local", &remote), MXRTC_OK);
    dg = ev = rs = 0;
    drain_until_deadline(&e, &dg, &ev, &rs, &host);
    assert_true(dg >= 1);                 /* a connectivity check towards it */

    /* Application data: a RECEIVED event with a copy. */
    uint8_t rtp[100];
    memset(rtp, 0xab, sizeof rtp);
    rtp[0] = 0x80;
    assert_int_equal(e.handle_datagram(e.user, 1, &local, &remote, rtp, sizeof rtp), MXRTC_OK);
    memset(rtp, 0, sizeof rtp);           /* the copy must not depend on our buffer */
    mxrtc_net_output o;
    assert_int_equal(e.poll(e.user, 1, &o), MXRTC_OK);
    assert_int_equal(o.kind, MXRTC_NET_OUT_EVENT);
    const mxrtc_ice_output *io = o.event;
    assert_int_equal(io->kind, MXRTC_ICE_OUT_RECEIVED);
    assert_int_equal(io->len, 100);
    assert_int_equal(io->data[0], 0x80);
    assert_int_equal(io->data[99], 0xab);
    assert_true(mxrtc_addr_equal(&io->from, &remote));
    assert_true(mxrtc_addr_equal(&io->to, &local));
    dg = ev = rs = 0;
    drain_until_deadline(&e, &dg, &ev, &rs, &host);

    /* Too long to copy: refused and counted, no event. */
    static uint8_t big[MXRTC_NET_ICE_RX_MAX + 1];
    big[0] = 0x80;
    assert_int_equal(e.handle_datagram(e.user, 2, &local, &remote, big, sizeof big), MXRTC_ERR_LIMIT);
    assert_int_equal(ad.rx_dropped, 1);
    dg = ev = rs = 0;
    drain_until_deadline(&e, &dg, &ev, &rs, &host);
    assert_int_equal(ev, 0);
    mxrtc_ice_agent_free(agent);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adapter_maps_outputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
