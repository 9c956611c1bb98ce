/*
 * test_interfaces.c: which local addresses the runner would bind: the
 * default policy on synthetic entries (loopback, link-local, deprecated and
 * temporary IPv6 left out unless asked), and the real list from the OS with
 * loopback allowed and a filter keeping 127.0.0.1 only (what the runner
 * tests use to stay off the real interfaces).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "net/interfaces.h"

static mxrtc_net_iface make(const char *ip) {
    mxrtc_net_iface i;
    memset(&i, 0, sizeof i);
    assert_int_equal(mxrtc_addr_parse(&i.addr, ip, 0), MXRTC_OK);
    return i;
}

static void default_policy(void **state) {
    (void)state;
    mxrtc_net_iface_options o;
    mxrtc_net_iface_options_init(&o);
    mxrtc_net_iface v4 = make("192.0.2.10"), v6 = make("2001:db8::10");
    assert_true(mxrtc_net_iface_wanted(&o, &v4));
    assert_true(mxrtc_net_iface_wanted(&o, &v6));
    o.ipv6 = false;
    assert_false(mxrtc_net_iface_wanted(&o, &v6));
    assert_true(mxrtc_net_iface_wanted(&o, &v4));
    o.ipv6 = true;
    o.ipv4 = false;
    assert_false(mxrtc_net_iface_wanted(&o, &v4));
    o.ipv4 = true;

    mxrtc_net_iface lo = make("127.0.0.1");
    lo.loopback = true;
    assert_false(mxrtc_net_iface_wanted(&o, &lo));
    o.include_loopback = true;
    assert_true(mxrtc_net_iface_wanted(&o, &lo));

    mxrtc_net_iface ll = make("fe80::1");
    ll.link_local = true;
    assert_false(mxrtc_net_iface_wanted(&o, &ll));
    o.include_link_local = true;
    assert_true(mxrtc_net_iface_wanted(&o, &ll));

    mxrtc_net_iface dep = make("2001:db8::20"), tmp = make("2001:db8::21");
    dep.deprecated = true;
    tmp.temporary = true;
    assert_false(mxrtc_net_iface_wanted(&o, &dep));
    assert_false(mxrtc_net_iface_wanted(&o, &tmp));
    o.include_deprecated = true;
    assert_true(mxrtc_net_iface_wanted(&o, &dep));
    assert_true(mxrtc_net_iface_wanted(&o, &tmp));
}

typedef struct seen {
    int loopbacks, link_locals, calls;
} seen;

static bool record(void *user, const mxrtc_net_iface *i) {
    seen *s = user;
    s->calls++;
    if (i->loopback) s->loopbacks++;
    if (i->link_local) s->link_locals++;
    return i->loopback && i->addr.family == MXRTC_AF_INET4;
}

static void os_list(void **state) {
    (void)state;
    mxrtc_net_iface_options o;
    mxrtc_net_iface_options_init(&o);
    seen s = {0, 0, 0};
    o.filter = record;
    o.filter_user = &s;
    mxrtc_net_iface out[16];
    size_t n = 99;
    /* Default: the filter never even sees loopback or link-local. */
    assert_int_equal(mxrtc_net_interfaces(&o, out, 16, &n), MXRTC_OK);
    assert_int_equal(n, 0);                    /* and it kept nothing */
    assert_int_equal(s.loopbacks, 0);
    assert_int_equal(s.link_locals, 0);

    o.include_loopback = true;
    assert_int_equal(mxrtc_net_interfaces(&o, out, 16, &n), MXRTC_OK);
    assert_true(n >= 1);
    assert_true(s.loopbacks >= 1);
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        assert_true(out[i].loopback);
        assert_int_equal(out[i].addr.port, 0);
        assert_true(out[i].name[0] != 0);
        if (out[i].addr.ip[0] == 127 && out[i].addr.ip[3] == 1) found = true;
    }
    assert_true(found);
    /* No room: MXRTC_ERR_LIMIT with what fitted. */
    assert_int_equal(mxrtc_net_interfaces(&o, NULL, 0, &n), MXRTC_ERR_LIMIT);
    assert_int_equal(n, 0);
    assert_int_equal(mxrtc_net_interfaces(&o, NULL, 4, &n), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_net_interfaces(NULL, out, 4, &n), MXRTC_ERR_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_policy),
        cmocka_unit_test(os_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
