/*
 * RFC 5769 test vectors, both ways: encoding reproduces the bytes exactly and
 * decoding recovers every field and verifies integrity and fingerprint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "stun/stun.h"
#include "stun/rfc5769.h"

static void assert_text(const mxrtc_stun_msg *m, uint16_t type, const char *want) {
    const char *t;
    size_t n;
    assert_int_equal(mxrtc_stun_get_text(m, type, &t, &n), MXRTC_OK);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(t, want, n);
}

static void sample_request_decodes(void **state) {
    (void)state;
    mxrtc_stun_msg m;
    assert_int_equal(mxrtc_stun_decode(&m, rfc5769_request, sizeof rfc5769_request), MXRTC_OK);
    assert_int_equal(m.method, MXRTC_STUN_BINDING);
    assert_int_equal(m.cls, MXRTC_STUN_REQUEST);
    assert_memory_equal(m.tid, rfc5769_tid, 12);
    assert_true(m.fingerprint >= 0);
    assert_text(&m, MXRTC_STUN_ATTR_SOFTWARE, "STUN test client");
    assert_text(&m, MXRTC_STUN_ATTR_USERNAME, RFC5769_USERNAME);
    uint32_t prio;
    assert_int_equal(mxrtc_stun_get_u32(&m, MXRTC_STUN_ATTR_PRIORITY, &prio), MXRTC_OK);
    assert_int_equal(prio, 0x6e0001ff);
    uint64_t tie;
    assert_int_equal(mxrtc_stun_get_u64(&m, MXRTC_STUN_ATTR_ICE_CONTROLLED, &tie), MXRTC_OK);
    assert_true(tie == 0x932ff9b151263b36ULL);
    mxrtc_stun_key key;
    assert_int_equal(mxrtc_stun_key_short_term(&key, RFC5769_PASSWORD, strlen(RFC5769_PASSWORD)), MXRTC_OK);
    assert_int_equal(mxrtc_stun_check_integrity(&m, &key), MXRTC_OK);
    key.bytes[0] ^= 1;
    assert_int_equal(mxrtc_stun_check_integrity(&m, &key), MXRTC_ERR_INTEGRITY);
}

static void sample_request_encodes(void **state) {
    (void)state;
    uint8_t buf[256];
    mxrtc_stun_builder b;
    mxrtc_stun_key key;
    mxrtc_stun_key_short_term(&key, RFC5769_PASSWORD, strlen(RFC5769_PASSWORD));
    assert_int_equal(mxrtc_stun_build_begin(&b, buf, sizeof buf, MXRTC_STUN_BINDING, MXRTC_STUN_REQUEST,
                                            rfc5769_tid), MXRTC_OK);
    b.pad_byte = 0x20; /* the RFC's vectors pad with spaces */
    mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_SOFTWARE, "STUN test client", 16);
    mxrtc_stun_add_u32(&b, MXRTC_STUN_ATTR_PRIORITY, 0x6e0001ff);
    mxrtc_stun_add_u64(&b, MXRTC_STUN_ATTR_ICE_CONTROLLED, 0x932ff9b151263b36ULL);
    mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_USERNAME, RFC5769_USERNAME, strlen(RFC5769_USERNAME));
    assert_int_equal(mxrtc_stun_add_integrity(&b, &key), MXRTC_OK);
    assert_int_equal(mxrtc_stun_add_fingerprint(&b), MXRTC_OK);
    int n = mxrtc_stun_build_end(&b);
    assert_int_equal(n, sizeof rfc5769_request);
    assert_memory_equal(buf, rfc5769_request, sizeof rfc5769_request);
}

static void response(const uint8_t *vec, size_t len, const char *ip) {
    mxrtc_addr want;
    assert_int_equal(mxrtc_addr_parse(&want, ip, 32853), MXRTC_OK);
    mxrtc_stun_key key;
    mxrtc_stun_key_short_term(&key, RFC5769_PASSWORD, strlen(RFC5769_PASSWORD));

    mxrtc_stun_msg m;
    assert_int_equal(mxrtc_stun_decode(&m, vec, len), MXRTC_OK);
    assert_int_equal(m.cls, MXRTC_STUN_SUCCESS);
    assert_int_equal(m.method, MXRTC_STUN_BINDING);
    assert_text(&m, MXRTC_STUN_ATTR_SOFTWARE, "test vector");
    mxrtc_addr got;
    assert_int_equal(mxrtc_stun_get_xor_addr(&m, MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &got), MXRTC_OK);
    assert_true(mxrtc_addr_equal(&got, &want));
    assert_int_equal(mxrtc_stun_check_integrity(&m, &key), MXRTC_OK);

    uint8_t buf[256];
    mxrtc_stun_builder b;
    mxrtc_stun_build_begin(&b, buf, sizeof buf, MXRTC_STUN_BINDING, MXRTC_STUN_SUCCESS, rfc5769_tid);
    b.pad_byte = 0x20;
    mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_SOFTWARE, "test vector", 11);
    mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &want);
    mxrtc_stun_add_integrity(&b, &key);
    mxrtc_stun_add_fingerprint(&b);
    int n = mxrtc_stun_build_end(&b);
    assert_int_equal(n, (int)len);
    assert_memory_equal(buf, vec, len);
}

static void sample_ipv4_response(void **state) {
    (void)state;
    response(rfc5769_response_v4, sizeof rfc5769_response_v4, "192.0.2.1");
}

static void sample_ipv6_response(void **state) {
    (void)state;
    response(rfc5769_response_v6, sizeof rfc5769_response_v6, "2001:db8:1234:5678:11:2233:4455:6677");
}

static void long_term_request(void **state) {
    (void)state;
    mxrtc_stun_key key;
    assert_int_equal(mxrtc_stun_key_long_term(&key, MXRTC_STUN_PASSWORD_MD5,
                                              RFC5769_LT_USERNAME, strlen(RFC5769_LT_USERNAME),
                                              RFC5769_LT_REALM, strlen(RFC5769_LT_REALM),
                                              RFC5769_LT_PASSWORD, strlen(RFC5769_LT_PASSWORD)), MXRTC_OK);
    assert_int_equal(key.len, 16);

    mxrtc_stun_msg m;
    assert_int_equal(mxrtc_stun_decode(&m, rfc5769_request_long_term, sizeof rfc5769_request_long_term),
                     MXRTC_OK);
    assert_int_equal(m.fingerprint, -1);
    assert_text(&m, MXRTC_STUN_ATTR_USERNAME, RFC5769_LT_USERNAME);
    assert_text(&m, MXRTC_STUN_ATTR_NONCE, RFC5769_LT_NONCE);
    assert_text(&m, MXRTC_STUN_ATTR_REALM, RFC5769_LT_REALM);
    assert_int_equal(mxrtc_stun_check_integrity(&m, &key), MXRTC_OK);

    uint8_t buf[256];
    mxrtc_stun_builder b;
    mxrtc_stun_build_begin(&b, buf, sizeof buf, MXRTC_STUN_BINDING, MXRTC_STUN_REQUEST, rfc5769_tid_long_term);
    mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_USERNAME, RFC5769_LT_USERNAME, strlen(RFC5769_LT_USERNAME));
    mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_NONCE, RFC5769_LT_NONCE, strlen(RFC5769_LT_NONCE));
    mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_REALM, RFC5769_LT_REALM, strlen(RFC5769_LT_REALM));
    mxrtc_stun_add_integrity(&b, &key);
    int n = mxrtc_stun_build_end(&b);
    assert_int_equal(n, sizeof rfc5769_request_long_term);
    assert_memory_equal(buf, rfc5769_request_long_term, sizeof rfc5769_request_long_term);
}

/* CRC-32 check value for "123456789" (ITU-T V.42 / IEEE 802.3). */
static void crc32_check_value(void **state) {
    (void)state;
    assert_int_equal(mxrtc_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_request_decodes),
        cmocka_unit_test(sample_request_encodes),
        cmocka_unit_test(sample_ipv4_response),
        cmocka_unit_test(sample_ipv6_response),
        cmocka_unit_test(long_term_request),
        cmocka_unit_test(crc32_check_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
