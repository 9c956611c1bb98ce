#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "mxrtc.h"

static void roundtrip(const char *in, uint16_t port, const char *want) {
    mxrtc_addr a;
    char buf[MXRTC_ADDR_STRLEN];
    assert_int_equal(mxrtc_addr_parse(&a, in, port), MXRTC_OK);
    int n = mxrtc_addr_format(&a, buf, sizeof buf);
    assert_true(n > 0);
    assert_string_equal(buf, want);
}

static void ipv4_parse_and_format(void **state) {
    (void)state;
    roundtrip("192.0.2.1", 3478, "192.0.2.1:3478");
    roundtrip("0.0.0.0", 0, "0.0.0.0:0");
    roundtrip("255.255.255.255", 65535, "255.255.255.255:65535");
}

static void ipv6_is_canonical_rfc5952(void **state) {
    (void)state;
    roundtrip("2001:db8:0:0:0:0:2:1", 1, "[2001:db8::2:1]:1");
    roundtrip("2001:DB8::1", 2, "[2001:db8::1]:2");
    roundtrip("::1", 3, "[::1]:3");
    roundtrip("::", 4, "[::]:4");
    roundtrip("2001:db8:0:1:1:1:1:1", 5, "[2001:db8:0:1:1:1:1:1]:5"); /* single 0 not compressed */
    roundtrip("2001:0:0:1:0:0:0:1", 6, "[2001:0:0:1::1]:6");           /* longest run wins */
    roundtrip("::ffff:192.0.2.5", 7, "[::ffff:192.0.2.5]:7");
    roundtrip("fe80::1%3", 8, "[fe80::1%3]:8");
    roundtrip("1:2:3:4:5:6:7::", 9, "[1:2:3:4:5:6:7:0]:9");
}

static void rejects_non_literals(void **state) {
    (void)state;
    const char *bad[] = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ",
                         "example.org", ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9",
                         ":1::", "1:", "fe80::1%", "fe80::1%x", "g::1", "[::1]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mxrtc_addr a;
        assert_int_equal(mxrtc_addr_parse(&a, bad[i], 1), MXRTC_ERR_MALFORMED);
    }
}

static void equal_and_short_buffer(void **state) {
    (void)state;
    mxrtc_addr a, b;
    assert_int_equal(mxrtc_addr_parse(&a, "10.0.0.1", 5), MXRTC_OK);
    assert_int_equal(mxrtc_addr_parse(&b, "10.0.0.1", 5), MXRTC_OK);
    assert_true(mxrtc_addr_equal(&a, &b));
    b.port = 6;
    assert_false(mxrtc_addr_equal(&a, &b));
    char small[8];
    assert_int_equal(mxrtc_addr_format(&a, small, sizeof small), MXRTC_ERR_BUFFER_TOO_SMALL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_parse_and_format),
        cmocka_unit_test(ipv6_is_canonical_rfc5952),
        cmocka_unit_test(rejects_non_literals),
        cmocka_unit_test(equal_and_short_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
