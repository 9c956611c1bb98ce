/*
 * test_mdns_multicast.c: the runner's mDNS query really going to
 * 224.0.0.251:5353 and being answered by unicast (RFC 6762 §5.4, §6.7), with
 * the runner's default destinations (nothing injected).
 *
 * Multicast must never leave the machine (TESTING.md), so this only runs
 * inside a fresh network namespace with just `lo` (netns.sh: `unshare -n`,
 * root only, exit 77 = skipped otherwise). Run directly, outside such a
 * namespace, it skips.
 */
#define _GNU_SOURCE
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
#include <unistd.h>

#include "fake_engine.h"
#include "net/mdns.h"
#include "net/runner.h"

static void cmd_resolve(void *arg, mxrtc_time_us now) {
    fake_engine *fe = arg;
    if (now == MXRTC_TIME_NEVER) return;
    mxrtc_net_output o;
    memset(&o, 0, sizeof o);
    o.kind = MXRTC_NET_OUT_RESOLVE;
    fe_push(fe, &o, NULL, 0, "5e6f7a8b-1c2d-4e3f-9a8b-7c6d5e4f3a2b.local", 0);
}

static bool resolved(fake_engine *fe) {
    return fe->resolves_ok == 1;
}

static void multicast_query_unicast_answer(void **state) {
    (void)state;
    const char *ns = getenv("MXRTC_IN_NETNS");
    if (!ns || strcmp(ns, "1") != 0) {
        skip();
        return;
    }
    /* The responder: port 5353, member of 224.0.0.251 on lo. */
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    int one = 1;
    assert_int_equal(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(MXRTC_MDNS_PORT);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    struct ip_mreq mr;
    memset(&mr, 0, sizeof mr);
    mr.imr_multiaddr.s_addr = inet_addr("224.0.0.251");
    mr.imr_interface.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr), 0);

    fake_engine fe;
    fe_init(&fe);
    mxrtc_net_runner_config cfg;
    mxrtc_net_runner_config_init(&cfg);          /* default destinations: the groups */
    cfg.engine = fe_engine(&fe);
    mxrtc_addr lo;
    assert_int_equal(mxrtc_addr_parse(&lo, "127.0.0.1", 0), MXRTC_OK);
    cfg.local_addrs = &lo;
    cfg.n_local_addrs = 1;
    mxrtc_net_runner *r;
    assert_int_equal(mxrtc_net_runner_new(&r, &cfg), MXRTC_OK);
    assert_int_equal(mxrtc_net_runner_start(r), MXRTC_OK);
    assert_int_equal(mxrtc_net_runner_call(r, cmd_resolve, &fe), MXRTC_OK);

    uint8_t q[512], want[512];
    struct pollfd p = {s, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 10000), 1);      /* hang guard */
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t qn = recvfrom(s, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
    int wn = mxrtc_mdns_build_query("5e6f7a8b-1c2d-4e3f-9a8b-7c6d5e4f3a2b.local", want, sizeof want);
    assert_int_equal(qn, wn);
    assert_memory_equal(q, want, (size_t)wn);
    assert_true(ntohs(from.sin_port) != MXRTC_MDNS_PORT);   /* a one-shot querier's port */
    /* QU bit: answer by unicast to the querier (RFC 6762 §5.4). */
    uint8_t a[512];
    memcpy(a, q, 12 + 1 + 36 + 1 + 5 + 1 + 4);
    size_t n = 12 + 1 + 36 + 1 + 5 + 1 + 4;
    a[2] = 0x84;
    a[5] = 1;
    a[7] = 1;
    const uint8_t rec[] = {0xc0, 0x0c, 0x00, 0x01, 0x80, 0x01, 0, 0, 0, 120, 0, 4, 127, 0, 0, 42};
    memcpy(a + n, rec, sizeof rec);
    n += sizeof rec;
    assert_int_equal(sendto(s, a, n, 0, (struct sockaddr *)&from, fl), (ssize_t)n);
    assert_true(fe_wait(&fe, resolved));
    fe_lock(&fe);
    assert_int_equal(fe.resolved_ip.ip[3], 42);
    fe_unlock(&fe);
    mxrtc_net_runner_free(r);
    fe_destroy(&fe);
    close(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(multicast_query_unicast_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
