/* test_turn_uri.c: stun:/stuns:/turn:/turns: URIs (RFC 7064, RFC 7065) and
 * Synapse REST credentials. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mxrtc.h"
#include "stun/turn_uri.h"

static int parse(mxrtc_turn_uri *u, const char *s) {
    return mxrtc_turn_uri_parse(u, s, strlen(s));
}

static void synapse_forms(void **state) {
    (void)state;
    mxrtc_turn_uri u;
    assert_int_equal(parse(&u, "turn:turn.example.org:3478?transport=udp"), MXRTC_OK);
    assert_int_equal(u.scheme, MXRTC_URI_TURN);
    assert_int_equal(u.secure, 0);
    assert_string_equal(u.host, "turn.example.org");
    assert_int_equal(u.host_len, 16);
    assert_int_equal(u.port, 3478);
    assert_int_equal(u.port_explicit, 1);
    assert_int_equal(u.transport, MXRTC_URI_TRANSPORT_UDP);
    assert_int_equal(u.transport_explicit, 1);
    assert_int_equal(u.host_is_ip, 0);
    assert_int_equal(u.addr.family, MXRTC_AF_UNSPEC);

    assert_int_equal(parse(&u, "turns:turn.example.org:5349?transport=tcp"), MXRTC_OK);
    assert_int_equal(u.scheme, MXRTC_URI_TURNS);
    assert_int_equal(u.secure, 1);
    assert_int_equal(u.port, 5349);
    assert_int_equal(u.transport, MXRTC_URI_TRANSPORT_TCP);

    assert_int_equal(parse(&u, "turn:[2001:db8::1]?transport=tcp"), MXRTC_OK);
    assert_string_equal(u.host, "2001:db8::1");
    assert_int_equal(u.host_is_ip, 1);
    assert_int_equal(u.port, 3478);
    assert_int_equal(u.port_explicit, 0);
    assert_int_equal(u.transport, MXRTC_URI_TRANSPORT_TCP);
    assert_int_equal(u.addr.family, MXRTC_AF_INET6);
    assert_int_equal(u.addr.port, 3478);
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    assert_memory_equal(u.addr.ip, v6, 16);
}

static void defaults_per_scheme(void **state) {
    (void)state;
    mxrtc_turn_uri u;
    assert_int_equal(parse(&u, "turn:example.org"), MXRTC_OK);
    assert_int_equal(u.port, 3478);
    assert_int_equal(u.transport, MXRTC_URI_TRANSPORT_UDP);
    assert_int_equal(u.transport_explicit, 0);
    assert_true(mxrtc_turn_uri_is_turn(&u));

    assert_int_equal(parse(&u, "turns:example.org"), MXRTC_OK);
    assert_int_equal(u.port, 5349);
    assert_int_equal(u.transport, MXRTC_URI_TRANSPORT_TCP);

    assert_int_equal(parse(&u, "stun:stun.example.org"), MXRTC_OK);
    assert_int_equal(u.scheme, MXRTC_URI_STUN);
    assert_int_equal(u.port, 3478);
    assert_int_equal(u.transport, MXRTC_URI_TRANSPORT_UDP);
    assert_false(mxrtc_turn_uri_is_turn(&u));

    assert_int_equal(parse(&u, "stuns:stun.example.org:443"), MXRTC_OK);
    assert_int_equal(u.scheme, MXRTC_URI_STUNS);
    assert_int_equal(u.secure, 1);
    assert_int_equal(u.port, 443);
    assert_int_equal(u.transport, MXRTC_URI_TRANSPORT_TCP);

    assert_int_equal(parse(&u, "turn:example.org?transport=tcp"), MXRTC_OK);
    assert_int_equal(u.transport, MXRTC_URI_TRANSPORT_TCP);
    assert_int_equal(u.port, 3478);
}

static void ip_literals(void **state) {
    (void)state;
    mxrtc_turn_uri u;
    assert_int_equal(parse(&u, "turn:192.0.2.7:3479"), MXRTC_OK);
    assert_int_equal(u.host_is_ip, 1);
    assert_int_equal(u.addr.family, MXRTC_AF_INET4);
    assert_int_equal(u.addr.port, 3479);
    static const uint8_t v4[4] = {192, 0, 2, 7};
    assert_memory_equal(u.addr.ip, v4, 4);

    assert_int_equal(parse(&u, "turns:[::1]:5350"), MXRTC_OK);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.addr.family, MXRTC_AF_INET6);
    assert_int_equal(u.port, 5350);
    assert_int_equal(u.addr.port, 5350);

    assert_int_equal(parse(&u, "turn:[::1]:3480?transport=tcp"), MXRTC_OK);
    assert_int_equal(u.port, 3480);
    assert_int_equal(u.addr.port, 3480);
    assert_int_equal(u.transport, MXRTC_URI_TRANSPORT_TCP);

    assert_int_equal(parse(&u, "turns:[2001:db8::1]"), MXRTC_OK);
    assert_int_equal(u.port, 5349);
    assert_int_equal(u.addr.port, 5349);

    /* Brackets hold IPv6 only; an IPv4 in them, a zone id, IPvFuture: no. */
    assert_int_equal(parse(&u, "turn:[192.0.2.1]"), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse(&u, "turn:[fe80::1%25eth0]"), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse(&u, "turn:[v1.x]"), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse(&u, "turn:[::1"), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse(&u, "turn:[::1]x"), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse(&u, "turn:[]"), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse(&u, "turn:2001:db8::1"), MXRTC_ERR_MALFORMED); /* unbracketed */
    assert_int_equal(parse(&u, "turn:1.2.3.256"), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse(&u, "turn:1.2.3"), MXRTC_ERR_MALFORMED);
}

static void scheme_and_transport_case_insensitive(void **state) {
    (void)state;
    mxrtc_turn_uri u;
    assert_int_equal(parse(&u, "TURN:example.org"), MXRTC_OK);
    assert_int_equal(u.scheme, MXRTC_URI_TURN);
    assert_int_equal(parse(&u, "TuRnS:example.org?TRANSPORT=TCP"), MXRTC_OK);
    assert_int_equal(u.scheme, MXRTC_URI_TURNS);
    assert_int_equal(u.transport, MXRTC_URI_TRANSPORT_TCP);
    assert_int_equal(parse(&u, "STUN:Example.ORG"), MXRTC_OK);
    assert_string_equal(u.host, "Example.ORG");   /* kept as written */
}

static void bad_ports(void **state) {
    (void)state;
    mxrtc_turn_uri u;
    const char *bad[] = {"turn:h.example:0", "turn:h.example:65536", "turn:h.example:99999",
                         "turn:h.example:123456", "turn:h.example:34a", "turn:h.example:-1",
                         "turn:h.example:", "turn:h.example: 3478", "turn:[::1]:",
                         "turn:[::1]:0", "turn:h.example:3478:1", "turn:h.example:+80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(&u, bad[i]), MXRTC_ERR_MALFORMED);
        assert_int_equal(u.port, 0);   /* zeroed on failure */
    }
    assert_int_equal(parse(&u, "turn:h.example:65535"), MXRTC_OK);
    assert_int_equal(u.port, 65535);
    assert_int_equal(parse(&u, "turn:h.example:1"), MXRTC_OK);
    assert_int_equal(u.port, 1);
    assert_int_equal(parse(&u, "turn:h.example:03478"), MXRTC_OK);
    assert_int_equal(u.port, 3478);
}

static void bad_schemes_and_hosts(void **state) {
    (void)state;
    mxrtc_turn_uri u;
    const char *bad[] = {"http:example.org", "tur:example.org", "turnss:example.org",
                         ":example.org", "example.org", "turn", "turn:", "turn:?transport=udp",
                         "turn::3478", "turn://example.org", "turn:user@example.org",
                         "turn:exa mple.org", "turn:ex%41mple.org", "turn:.example.org",
                         "turn:example..org", "turn:example.org/", "turn:exa!mple.org",
                         "turn:-x.example\x01", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse(&u, bad[i]), MXRTC_ERR_MALFORMED);
    /* An embedded NUL is inside len: malformed, not a shorter URI. */
    assert_int_equal(mxrtc_turn_uri_parse(&u, "turn:a\0b", 8), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_turn_uri_parse(&u, "turn:[::1\0]", 11), MXRTC_ERR_MALFORMED);
    /* A trailing root dot and SRV-style underscores are DNS names. */
    assert_int_equal(parse(&u, "turn:example.org."), MXRTC_OK);
    assert_int_equal(parse(&u, "turn:_turn.example.org"), MXRTC_OK);
    assert_int_equal(mxrtc_turn_uri_parse(NULL, "turn:a", 6), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_turn_uri_parse(&u, NULL, 6), MXRTC_ERR_INVALID_ARGUMENT);
}

static void transports_and_queries(void **state) {
    (void)state;
    mxrtc_turn_uri u;
    /* Well-formed transport-ext we do not implement. */
    assert_int_equal(parse(&u, "turn:example.org?transport=sctp"), MXRTC_ERR_UNSUPPORTED);
    assert_int_equal(parse(&u, "turn:example.org?transport=tls"), MXRTC_ERR_UNSUPPORTED);
    /* turns: over UDP is TURN over DTLS (RFC 7350). */
    assert_int_equal(parse(&u, "turns:example.org?transport=udp"), MXRTC_ERR_UNSUPPORTED);
    /* Outside the grammar. */
    const char *bad[] = {"turn:example.org?transport=", "turn:example.org?", "turn:example.org?foo=bar",
                         "turn:example.org?transport=udp&x=1", "turn:example.org?transport",
                         "turn:example.org?transport=u%64p", "turn:example.org?transport=udp?",
                         "stun:example.org?transport=udp", "stuns:example.org?transport=tcp",
                         "turn:example.org?transport=udp#frag"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse(&u, bad[i]), MXRTC_ERR_MALFORMED);
}

static void length_bounds(void **state) {
    (void)state;
    mxrtc_turn_uri u;
    char text[MXRTC_TURN_URI_MAX_LEN + 64];
    /* Host of exactly 253 bytes (labels of 63 + dots): accepted. */
    char host[300];
    size_t n = 0;
    while (n < MXRTC_TURN_HOST_MAX) {
        host[n] = ((n + 1) % 64 == 0) ? '.' : 'a';
        n++;
    }
    host[n] = '\0';
    snprintf(text, sizeof text, "turn:%s:3478", host);
    assert_int_equal(parse(&u, text), MXRTC_OK);
    assert_int_equal(u.host_len, MXRTC_TURN_HOST_MAX);
    assert_int_equal(strlen(u.host), MXRTC_TURN_HOST_MAX);
    /* 254: too long. */
    snprintf(text, sizeof text, "turn:%sa:3478", host);
    assert_int_equal(parse(&u, text), MXRTC_ERR_MALFORMED);
    /* A 64-byte label: too long (RFC 1035). */
    memset(host, 'b', 64);
    host[64] = '\0';
    snprintf(text, sizeof text, "turn:%s.org", host);
    assert_int_equal(parse(&u, text), MXRTC_ERR_MALFORMED);
    host[63] = '\0';
    snprintf(text, sizeof text, "turn:%s.org", host);
    assert_int_equal(parse(&u, text), MXRTC_OK);
    /* Whole text over our bound. */
    memset(text, 'a', sizeof text);
    memcpy(text, "turn:", 5);
    assert_int_equal(mxrtc_turn_uri_parse(&u, text, MXRTC_TURN_URI_MAX_LEN + 1), MXRTC_ERR_LIMIT);
}

static void rest_credentials(void **state) {
    (void)state;
    mxrtc_turn_credentials c;
    const char *user = "1700000000:@alice:example.org";
    const char *pass = "JlKfBy1QwLrO20385QyAtEyIv0=";
    assert_int_equal(mxrtc_turn_credentials_from_rest(&c, user, strlen(user), pass, strlen(pass)),
                     MXRTC_OK);
    assert_string_equal(c.username, user);      /* used as given */
    assert_string_equal(c.password, pass);      /* NOT base64-decoded */
    assert_int_equal(c.username_len, strlen(user));
    assert_int_equal(c.password_len, strlen(pass));
    assert_true(c.expiry_unix == 1700000000u);
    mxrtc_turn_credentials_wipe(&c);
    assert_int_equal(c.password[0], 0);
    assert_int_equal(c.password_len, 0);

    /* A plain long-term user (no expiry prefix). */
    assert_int_equal(mxrtc_turn_credentials_from_rest(&c, "alice", 5, "secret-pass", 11), MXRTC_OK);
    assert_true(c.expiry_unix == 0);
    assert_int_equal(mxrtc_turn_credentials_from_rest(&c, "12345", 5, "p", 1), MXRTC_OK);
    assert_true(c.expiry_unix == 0);

    /* Missing, empty, controls, too long. */
    assert_int_equal(mxrtc_turn_credentials_from_rest(&c, NULL, 0, "p", 1), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_turn_credentials_from_rest(&c, "u", 1, NULL, 0), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_turn_credentials_from_rest(&c, "", 0, "p", 1), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_turn_credentials_from_rest(&c, "u", 1, "", 0), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_turn_credentials_from_rest(&c, "u\n", 2, "p", 1), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_turn_credentials_from_rest(&c, "u", 1, "p\0q", 3), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(c.username_len, 0);
    char big[MXRTC_TURN_USERNAME_MAX + 2];
    memset(big, 'x', sizeof big);
    assert_int_equal(mxrtc_turn_credentials_from_rest(&c, big, MXRTC_TURN_USERNAME_MAX, "p", 1), MXRTC_OK);
    assert_int_equal(mxrtc_turn_credentials_from_rest(&c, big, MXRTC_TURN_USERNAME_MAX + 1, "p", 1),
                     MXRTC_ERR_LIMIT);
    assert_int_equal(mxrtc_turn_credentials_from_rest(&c, "u", 1, big, MXRTC_TURN_PASSWORD_MAX + 1),
                     MXRTC_ERR_LIMIT);
    mxrtc_turn_credentials_wipe(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(synapse_forms),
        cmocka_unit_test(defaults_per_scheme),
        cmocka_unit_test(ip_literals),
        cmocka_unit_test(scheme_and_transport_case_insensitive),
        cmocka_unit_test(bad_ports),
        cmocka_unit_test(bad_schemes_and_hosts),
        cmocka_unit_test(transports_and_queries),
        cmocka_unit_test(length_bounds),
        cmocka_unit_test(rest_credentials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
