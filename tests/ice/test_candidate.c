/*
 * test_candidate.c: the RFC 8839 §5.1 candidate attribute, on lines written
 * the way Chrome, Firefox, coturn-relayed Chrome and Matrix clients send them,
 * plus hostile ones; and priorities/foundations (RFC 8445 §5.1.2, §6.1.2.3)
 * against numbers computed by hand from the formulas.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ice/candidate.h"

static int parse(mxrtc_ice_candidate *c, const char *line) {
    return mxrtc_ice_candidate_parse(c, line, strlen(line));
}

static void ip_is(const mxrtc_addr *a, const char *ip, uint16_t port) {
    mxrtc_addr want;
    assert_int_equal(mxrtc_addr_parse(&want, ip, port), MXRTC_OK);
    assert_true(mxrtc_addr_equal(a, &want));
}

static void chrome_srflx_with_extensions(void **state) {
    (void)state;
    mxrtc_ice_candidate c;
    assert_int_equal(parse(&c, "candidate:842163049 1 udp 1677729535 203.0.113.7 50123 typ srflx "
                               "raddr 0.0.0.0 rport 0 generation 0 ufrag 9Qbn network-id 1 "
                               "network-cost 10"),
                     MXRTC_OK);
    assert_string_equal(c.foundation, "842163049");
    assert_int_equal(c.component, 1);
    assert_int_equal(c.transport, MXRTC_ICE_TRANSPORT_UDP);
    assert_int_equal(c.priority, 1677729535u);
    ip_is(&c.addr, "203.0.113.7", 50123);
    assert_int_equal(c.type, MXRTC_ICE_CAND_SRFLX);
    assert_true(c.has_related);
    ip_is(&c.related, "0.0.0.0", 0);
    assert_int_equal(c.generation, 0);
    assert_string_equal(c.ufrag, "9Qbn");
    assert_int_equal(c.network_id, 1);
    assert_int_equal(c.network_cost, 10);
    assert_int_equal(c.unknown_extensions, 0);
    assert_false(c.is_mdns);
}

static void chrome_mdns_host(void **state) {
    (void)state;
    mxrtc_ice_candidate c;
    assert_int_equal(parse(&c, "a=candidate:3442447574 1 udp 2122260223 "
                               "4b8a6d2c-0d6c-4b3b-9d2f-2b1d5e1f0a11.local 54321 typ host "
                               "generation 0 ufrag abcd network-id 1\r\n"),
                     MXRTC_OK);
    assert_int_equal(c.addr.family, MXRTC_AF_UNSPEC);
    assert_int_equal(c.addr.port, 54321);
    assert_string_equal(c.hostname, "4b8a6d2c-0d6c-4b3b-9d2f-2b1d5e1f0a11.local");
    assert_true(c.is_mdns);
    assert_int_equal(c.type, MXRTC_ICE_CAND_HOST);
    /* An FQDN that is not mDNS is kept as a name too. */
    assert_int_equal(parse(&c, "candidate:1 1 udp 1 turn.example.org 3478 typ host"), MXRTC_OK);
    assert_string_equal(c.hostname, "turn.example.org");
    assert_false(c.is_mdns);
    /* Chrome hides the srflx base behind a .local raddr: accepted, no related. */
    assert_int_equal(parse(&c, "candidate:2 1 udp 1677729535 203.0.113.7 50123 typ srflx raddr "
                               "4b8a6d2c-0d6c-4b3b-9d2f-2b1d5e1f0a11.local rport 54321"),
                     MXRTC_OK);
    assert_false(c.has_related);
}

static void firefox_quirks(void **state) {
    (void)state;
    mxrtc_ice_candidate c;
    /* Upper-case UDP, no extensions. */
    assert_int_equal(parse(&c, "candidate:0 1 UDP 2122252543 198.51.100.4 60001 typ host"), MXRTC_OK);
    assert_int_equal(c.transport, MXRTC_ICE_TRANSPORT_UDP);
    assert_int_equal(c.generation, -1);
    assert_int_equal(c.network_cost, -1);
    assert_string_equal(c.ufrag, "");
    /* RTCP component 2. */
    assert_int_equal(parse(&c, "candidate:0 2 UDP 2122252542 198.51.100.4 60002 typ host"), MXRTC_OK);
    assert_int_equal(c.component, 2);
    /* TCP active with the discard port 9 (RFC 6544 §4.5). */
    assert_int_equal(parse(&c, "candidate:1 1 TCP 2105524479 198.51.100.4 9 typ host tcptype active"),
                     MXRTC_OK);
    assert_int_equal(c.transport, MXRTC_ICE_TRANSPORT_TCP);
    assert_int_equal(c.tcptype, MXRTC_ICE_TCPTYPE_ACTIVE);
    assert_int_equal(c.addr.port, 9);
    assert_int_equal(parse(&c, "candidate:1 1 tcp 2105524479 198.51.100.4 9 typ host tcptype so"), MXRTC_OK);
    assert_int_equal(c.tcptype, MXRTC_ICE_TCPTYPE_SO);
}

static void relay_ipv6_and_unknown_extensions(void **state) {
    (void)state;
    mxrtc_ice_candidate c;
    assert_int_equal(parse(&c, "candidate:1234 1 udp 41885695 203.0.113.50 49152 typ relay "
                               "raddr 198.51.100.4 rport 60001 generation 0"),
                     MXRTC_OK);
    assert_int_equal(c.type, MXRTC_ICE_CAND_RELAY);
    ip_is(&c.related, "198.51.100.4", 60001);
    assert_int_equal(parse(&c, "candidate:2 1 udp 2122262783 2001:db8::5 50000 typ host generation 0"),
                     MXRTC_OK);
    ip_is(&c.addr, "2001:db8::5", 50000);
    assert_int_equal(parse(&c, "candidate:2 1 udp 2122262783 [2001:db8::5] 50000 typ host"), MXRTC_OK);
    ip_is(&c.addr, "2001:db8::5", 50000);
    /* Unknown pairs are skipped and counted (RFC 8839 §5.1). */
    assert_int_equal(parse(&c, "candidate:3 1 udp 5 192.0.2.9 1 typ prflx x-foo bar x-baz 1"), MXRTC_OK);
    assert_int_equal(c.type, MXRTC_ICE_CAND_PRFLX);
    assert_int_equal(c.unknown_extensions, 2);
    /* Bare value without "candidate:" and a NUL inside the given length. */
    const char bare[] = "9 1 udp 7 192.0.2.9 2 typ host\0garbage";
    assert_int_equal(mxrtc_ice_candidate_parse(&c, bare, sizeof bare - 1), MXRTC_OK);
    assert_int_equal(c.priority, 7);
}

static void rejects_hostile_lines(void **state) {
    (void)state;
    mxrtc_ice_candidate c;
    static const char *const malformed[] = {
        "",
        "candidate:",
        "candidate:1 1 udp 0 192.0.2.1 1 typ host",              /* priority 0 */
        "candidate:1 1 udp 4294967296 192.0.2.1 1 typ host",     /* priority > 32 bits */
        "candidate:1 1 udp 99999999999 192.0.2.1 1 typ host",    /* 11 digits */
        "candidate:1 1 udp 1 192.0.2.1 65536 typ host",          /* port */
        "candidate:1 1 udp 1 192.0.2.1 -1 typ host",
        "candidate:1 0 udp 1 192.0.2.1 1 typ host",              /* component 0 */
        "candidate:1 257 udp 1 192.0.2.1 1 typ host",            /* component > 256 */
        "candidate:123456789012345678901234567890123 1 udp 1 192.0.2.1 1 typ host", /* 33 chars */
        "candidate:ab-c 1 udp 1 192.0.2.1 1 typ host",           /* not an ice-char */
        "candidate:1 1 udp 1 192.0.2.1 1 host",                  /* no "typ" */
        "candidate:1 1 udp 1 192.0.2.1 1 typ bogus",
        "candidate:1 1 udp 1 192.0.2.1 1",
        "candidate:1 1 udp 1 192.0.2.1 1 typ srflx raddr 192.0.2.2",   /* raddr without rport */
        "candidate:1 1 udp 1 192.0.2.1 1 typ srflx rport 5",           /* rport without raddr */
        "candidate:1 1 udp 1 192.0.2.1 1 typ host tcptype active",     /* tcptype on UDP */
        "candidate:1 1 tcp 1 192.0.2.1 1 typ host tcptype sideways",
        "candidate:1 1 udp 1 192.0.2.1 1 typ host generation",         /* name without value */
        "candidate:1 1 udp 1 192.0.2.1 1 typ host generation x",
        "candidate:1 1 udp 1 1.2.3 1 typ host",                        /* digits: not a name */
        "candidate:1 1 udp 1 bad!name.local 1 typ host",
        "candidate:1 1 udp 1 .local 1 typ host",
        "candidate:1 1 udp 1 a..local 1 typ host",
        "candidate:1 1 udp 1 192.0.2.1 1 typ host ufrag a-b",
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        int rc = parse(&c, malformed[i]);
        if (rc != MXRTC_ERR_MALFORMED) fail_msg("line %zu \"%s\": %d", i, malformed[i], rc);
    }
    assert_int_equal(parse(&c, "candidate:1 1 sctp 1 192.0.2.1 1 typ host"), MXRTC_ERR_UNSUPPORTED);
    /* Seventeen extension pairs: over the bound. */
    char line[MXRTC_ICE_CANDIDATE_LINE_MAX + 64];
    int n = snprintf(line, sizeof line, "candidate:1 1 udp 1 192.0.2.1 1 typ host");
    for (int i = 0; i < MXRTC_ICE_CANDIDATE_EXT_MAX + 1; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, " x%d 1", i);
    assert_int_equal(parse(&c, line), MXRTC_ERR_LIMIT);
    /* A line over the length bound. */
    memset(line, 'a', sizeof line);
    line[sizeof line - 1] = '\0';
    assert_int_equal(parse(&c, line), MXRTC_ERR_LIMIT);
    assert_int_equal(mxrtc_ice_candidate_parse(NULL, "x", 1), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_ice_candidate_parse(&c, NULL, 1), MXRTC_ERR_INVALID_ARGUMENT);
}

static void format_round_trips(void **state) {
    (void)state;
    static const char *const lines[] = {
        "candidate:842163049 1 udp 1677729535 203.0.113.7 50123 typ srflx raddr 0.0.0.0 rport 0 "
        "generation 0 ufrag 9Qbn network-id 1 network-cost 10",
        "candidate:3442447574 1 udp 2122260223 4b8a6d2c-0d6c-4b3b-9d2f-2b1d5e1f0a11.local 54321 typ host",
        "candidate:1 1 tcp 2105524479 198.51.100.4 9 typ host tcptype active",
        "candidate:2 1 udp 2122262783 2001:db8::5 50000 typ host generation 0",
        "candidate:a+/B 256 udp 1 192.0.2.1 1 typ relay raddr 192.0.2.2 rport 3",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        mxrtc_ice_candidate c, d;
        char buf[MXRTC_ICE_CANDIDATE_LINE_MAX];
        assert_int_equal(parse(&c, lines[i]), MXRTC_OK);
        int n = mxrtc_ice_candidate_format(&c, buf, sizeof buf);
        assert_int_equal(n, (int)strlen(lines[i]));
        assert_string_equal(buf, lines[i]);
        assert_int_equal(parse(&d, buf), MXRTC_OK);
        assert_memory_equal(&c, &d, sizeof c);
        assert_int_equal(mxrtc_ice_candidate_format(&c, buf, (size_t)n), MXRTC_ERR_BUFFER_TOO_SMALL);
    }
    mxrtc_ice_candidate e;
    char buf[256];
    mxrtc_ice_candidate_init(&e);
    assert_int_equal(mxrtc_ice_candidate_format(&e, buf, sizeof buf), MXRTC_ERR_INVALID_ARGUMENT);
}

/* RFC 8445 §5.1.2.1 by hand: 2^24*type + 2^8*local + (256 - component). */
static void candidate_priorities(void **state) {
    (void)state;
    /* host, local 65535, component 1: 126*16777216 + 65535*256 + 255 */
    assert_int_equal(mxrtc_ice_priority(126, 65535, 1), 2130706431u);
    /* srflx: 100*16777216 + 65535*256 + 255 = 1677721600 + 16776960 + 255 */
    assert_int_equal(mxrtc_ice_priority(100, 65535, 1), 1694498815u);
    /* prflx: 110*16777216 + 16777215 */
    assert_int_equal(mxrtc_ice_priority(110, 65535, 1), 1862270975u);
    /* relay: 0 + 16777215 */
    assert_int_equal(mxrtc_ice_priority(0, 65535, 1), 16777215u);
    /* component 2 is one lower. */
    assert_int_equal(mxrtc_ice_priority(126, 65535, 2), 2130706430u);
    assert_int_equal(mxrtc_ice_type_preference(MXRTC_ICE_CAND_HOST), 126);
    assert_int_equal(mxrtc_ice_type_preference(MXRTC_ICE_CAND_PRFLX), 110);
    assert_int_equal(mxrtc_ice_type_preference(MXRTC_ICE_CAND_SRFLX), 100);
    assert_int_equal(mxrtc_ice_type_preference(MXRTC_ICE_CAND_RELAY), 0);
    /* Local preferences (RFC 8421 interleaving): IPv6 iface0 65535, IPv4
     * iface0 65534, IPv6 iface1 65279, IPv4 iface1 65278, second IPv6 on
     * iface0 65533. */
    assert_int_equal(mxrtc_ice_local_preference(MXRTC_AF_INET6, 0, 0), 65535);
    assert_int_equal(mxrtc_ice_local_preference(MXRTC_AF_INET4, 0, 0), 65534);
    assert_int_equal(mxrtc_ice_local_preference(MXRTC_AF_INET6, 1, 0), 65279);
    assert_int_equal(mxrtc_ice_local_preference(MXRTC_AF_INET4, 1, 0), 65278);
    assert_int_equal(mxrtc_ice_local_preference(MXRTC_AF_INET6, 0, 1), 65533);
    /* host IPv4 iface0: 2113929216 + 65534*256 + 255 */
    assert_int_equal(mxrtc_ice_priority(126, mxrtc_ice_local_preference(MXRTC_AF_INET4, 0, 0), 1),
                     2130706175u);
    /* host IPv6 iface1 addr1: 2113929216 + 65277*256 + 255 */
    assert_int_equal(mxrtc_ice_priority(126, mxrtc_ice_local_preference(MXRTC_AF_INET6, 1, 1), 1),
                     2130640383u);
    /* Out-of-range inputs are clamped, never overflow. */
    assert_int_equal(mxrtc_ice_priority(500, 999999, 0), 2130706431u);
}

/* RFC 8445 §6.1.2.3 by hand: 2^32*MIN(G,D) + 2*MAX(G,D) + (G>D?1:0). */
static void pair_priorities(void **state) {
    (void)state;
    /* G host 2130706431, D srflx 1694498815:
     * 1694498815*4294967296 + 2*2130706431 + 1 */
    assert_true(mxrtc_ice_pair_priority(2130706431u, 1694498815u) == 7277816997797167103ULL);
    /* Swapped roles: same MIN/MAX, G < D so no +1. */
    assert_true(mxrtc_ice_pair_priority(1694498815u, 2130706431u) == 7277816997797167102ULL);
    /* Equal: 5*2^32 + 2*5 + 0 */
    assert_true(mxrtc_ice_pair_priority(5, 5) == 21474836490ULL);
    /* The largest value does not overflow: (2^32-1)*2^32 + 2*(2^32-1) */
    assert_true(mxrtc_ice_pair_priority(UINT32_MAX, UINT32_MAX) ==
                (uint64_t)UINT32_MAX * 4294967296ULL + 2ULL * UINT32_MAX);
}

static void foundations(void **state) {
    (void)state;
    mxrtc_addr a, a_other_port, b, s1, s2;
    mxrtc_addr_parse(&a, "192.0.2.1", 1000);
    mxrtc_addr_parse(&a_other_port, "192.0.2.1", 2000);
    mxrtc_addr_parse(&b, "192.0.2.2", 1000);
    mxrtc_addr_parse(&s1, "203.0.113.1", 3478);
    mxrtc_addr_parse(&s2, "203.0.113.2", 3478);
    char f1[MXRTC_ICE_FOUNDATION_MAX + 1], f2[MXRTC_ICE_FOUNDATION_MAX + 1];
    /* Same type, base IP, server and transport: same (ports do not count). */
    mxrtc_ice_foundation(f1, MXRTC_ICE_CAND_SRFLX, &a, &s1, MXRTC_ICE_TRANSPORT_UDP);
    mxrtc_ice_foundation(f2, MXRTC_ICE_CAND_SRFLX, &a_other_port, &s1, MXRTC_ICE_TRANSPORT_UDP);
    assert_string_equal(f1, f2);
    mxrtc_ice_candidate c;
    char line[128];
    snprintf(line, sizeof line, "candidate:%s 1 udp 1 192.0.2.1 1 typ host", f1);
    assert_int_equal(parse(&c, line), MXRTC_OK); /* a valid foundation token */
    /* Each input changes it. */
    mxrtc_ice_foundation(f2, MXRTC_ICE_CAND_SRFLX, &a, &s2, MXRTC_ICE_TRANSPORT_UDP);
    assert_string_not_equal(f1, f2);
    mxrtc_ice_foundation(f2, MXRTC_ICE_CAND_SRFLX, &b, &s1, MXRTC_ICE_TRANSPORT_UDP);
    assert_string_not_equal(f1, f2);
    mxrtc_ice_foundation(f2, MXRTC_ICE_CAND_RELAY, &a, &s1, MXRTC_ICE_TRANSPORT_UDP);
    assert_string_not_equal(f1, f2);
    mxrtc_ice_foundation(f2, MXRTC_ICE_CAND_SRFLX, &a, &s1, MXRTC_ICE_TRANSPORT_TCP);
    assert_string_not_equal(f1, f2);
    /* Host candidates ignore the server argument. */
    mxrtc_ice_foundation(f1, MXRTC_ICE_CAND_HOST, &a, &s1, MXRTC_ICE_TRANSPORT_UDP);
    mxrtc_ice_foundation(f2, MXRTC_ICE_CAND_HOST, &a, NULL, MXRTC_ICE_TRANSPORT_UDP);
    assert_string_equal(f1, f2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chrome_srflx_with_extensions),
        cmocka_unit_test(chrome_mdns_host),
        cmocka_unit_test(firefox_quirks),
        cmocka_unit_test(relay_ipv6_and_unknown_extensions),
        cmocka_unit_test(rejects_hostile_lines),
        cmocka_unit_test(format_round_trips),
        cmocka_unit_test(candidate_priorities),
        cmocka_unit_test(pair_priorities),
        cmocka_unit_test(foundations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
