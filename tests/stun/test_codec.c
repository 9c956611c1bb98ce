/*
 * STUN codec behaviour beyond the RFC 5769 vectors: message type encoding,
 * every kind of bad input with its exact error, position rules, limits, and
 * the typed attributes ICE and TURN use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "stun/stun.h"
#include "stun/rfc5769.h"

static const uint8_t tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

static int build_simple(uint8_t *buf, size_t cap, uint16_t method, mxrtc_stun_class cls) {
    mxrtc_stun_builder b;
    mxrtc_stun_build_begin(&b, buf, cap, method, cls, tid);
    return mxrtc_stun_build_end(&b);
}

static void type_field_interleaves_class_bits(void **state) {
    (void)state;
    uint8_t buf[64];
    /* RFC 8489 §5: Binding request 0x0001, success 0x0101, error 0x0111;
     * RFC 8656: Allocate error 0x0113, ChannelBind success 0x0109, Data indication 0x0017. */
    struct { uint16_t method; mxrtc_stun_class cls; uint16_t type; } cases[] = {
        {MXRTC_STUN_BINDING, MXRTC_STUN_REQUEST, 0x0001}, {MXRTC_STUN_BINDING, MXRTC_STUN_SUCCESS, 0x0101},
        {MXRTC_STUN_BINDING, MXRTC_STUN_ERROR, 0x0111},   {MXRTC_STUN_ALLOCATE, MXRTC_STUN_ERROR, 0x0113},
        {MXRTC_STUN_CHANNEL_BIND, MXRTC_STUN_SUCCESS, 0x0109}, {MXRTC_STUN_DATA, MXRTC_STUN_INDICATION, 0x0017},
        {0x0FFF, MXRTC_STUN_ERROR, 0x3FFF},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(build_simple(buf, sizeof buf, cases[i].method, cases[i].cls), 20);
        assert_int_equal((buf[0] << 8) | buf[1], cases[i].type);
        mxrtc_stun_msg m;
        assert_int_equal(mxrtc_stun_decode(&m, buf, 20), MXRTC_OK);
        assert_int_equal(m.method, cases[i].method);
        assert_int_equal(m.cls, cases[i].cls);
    }
}

static void truncated_and_malformed_headers(void **state) {
    (void)state;
    mxrtc_stun_msg m;
    uint8_t buf[sizeof rfc5769_request];
    for (size_t n = 0; n < sizeof rfc5769_request; n++)
        assert_int_equal(mxrtc_stun_decode(&m, rfc5769_request, n), MXRTC_ERR_TRUNCATED);

    memcpy(buf, rfc5769_request, sizeof buf);
    buf[0] |= 0x80; /* top bits must be zero */
    assert_int_equal(mxrtc_stun_decode(&m, buf, sizeof buf), MXRTC_ERR_MALFORMED);
    memcpy(buf, rfc5769_request, sizeof buf);
    buf[4] ^= 1; /* magic cookie */
    assert_int_equal(mxrtc_stun_decode(&m, buf, sizeof buf), MXRTC_ERR_MALFORMED);
    memcpy(buf, rfc5769_request, sizeof buf);
    buf[3] = 0x57; /* length not a multiple of 4 */
    assert_int_equal(mxrtc_stun_decode(&m, buf, sizeof buf), MXRTC_ERR_MALFORMED);

    uint8_t longer[sizeof rfc5769_request + 4] = {0};
    memcpy(longer, rfc5769_request, sizeof rfc5769_request);
    assert_int_equal(mxrtc_stun_decode(&m, longer, sizeof longer), MXRTC_ERR_MALFORMED); /* trailing bytes */
}

static void attribute_overrunning_message_is_malformed(void **state) {
    (void)state;
    uint8_t buf[sizeof rfc5769_request];
    memcpy(buf, rfc5769_request, sizeof buf);
    buf[22] = 0x00; buf[23] = 0xF0; /* SOFTWARE claims 240 bytes */
    mxrtc_stun_msg m;
    assert_int_equal(mxrtc_stun_decode(&m, buf, sizeof buf), MXRTC_ERR_MALFORMED);
    /* An attribute header cut in half at the end of the message. */
    uint8_t cut[24];
    build_simple(cut, sizeof cut, MXRTC_STUN_BINDING, MXRTC_STUN_REQUEST);
    cut[3] = 4; cut[20] = 0x80; cut[21] = 0x22; cut[22] = 0; cut[23] = 4;
    assert_int_equal(mxrtc_stun_decode(&m, cut, sizeof cut), MXRTC_ERR_MALFORMED);
}

static void fingerprint_and_integrity_tampering(void **state) {
    (void)state;
    uint8_t buf[sizeof rfc5769_request_long_term];
    mxrtc_stun_msg m;
    memcpy(buf, rfc5769_request, sizeof rfc5769_request);
    buf[sizeof rfc5769_request - 1] ^= 0x01; /* fingerprint value */
    assert_int_equal(mxrtc_stun_decode(&m, buf, sizeof rfc5769_request), MXRTC_ERR_FINGERPRINT);
    memcpy(buf, rfc5769_request, sizeof rfc5769_request);
    buf[30] ^= 0x01; /* a SOFTWARE byte: fingerprint catches it first */
    assert_int_equal(mxrtc_stun_decode(&m, buf, sizeof rfc5769_request), MXRTC_ERR_FINGERPRINT);

    /* Without a fingerprint, a changed byte is caught by MESSAGE-INTEGRITY. */
    memcpy(buf, rfc5769_request_long_term, sizeof rfc5769_request_long_term);
    buf[50] ^= 0x01; /* inside NONCE */
    assert_int_equal(mxrtc_stun_decode(&m, buf, sizeof rfc5769_request_long_term), MXRTC_OK);
    mxrtc_stun_key key;
    mxrtc_stun_key_long_term(&key, MXRTC_STUN_PASSWORD_MD5, RFC5769_LT_USERNAME, strlen(RFC5769_LT_USERNAME),
                             RFC5769_LT_REALM, strlen(RFC5769_LT_REALM), RFC5769_LT_PASSWORD,
                             strlen(RFC5769_LT_PASSWORD));
    assert_int_equal(mxrtc_stun_check_integrity(&m, &key), MXRTC_ERR_INTEGRITY);

    /* No integrity attribute at all. */
    uint8_t plain[20];
    build_simple(plain, sizeof plain, MXRTC_STUN_BINDING, MXRTC_STUN_REQUEST);
    assert_int_equal(mxrtc_stun_decode(&m, plain, sizeof plain), MXRTC_OK);
    assert_int_equal(mxrtc_stun_check_integrity(&m, &key), MXRTC_ERR_NOT_FOUND);
}

static void attributes_after_integrity_are_ignored_after_fingerprint_refused(void **state) {
    (void)state;
    uint8_t buf[256];
    mxrtc_stun_key key;
    mxrtc_stun_key_short_term(&key, "pass", 4);
    mxrtc_stun_builder b;
    mxrtc_stun_build_begin(&b, buf, sizeof buf, MXRTC_STUN_BINDING, MXRTC_STUN_REQUEST, tid);
    mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_USERNAME, "a:b", 3);
    mxrtc_stun_add_integrity(&b, &key);
    int n = mxrtc_stun_build_end(&b);
    assert_true(n > 0);
    /* The builder refuses ordinary attributes after MESSAGE-INTEGRITY... */
    assert_int_equal(mxrtc_stun_add_u32(&b, MXRTC_STUN_ATTR_PRIORITY, 1), MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_true(mxrtc_stun_build_end(&b) < 0);
    /* ...and a decoder ignores one a peer appended (RFC 8489 §14.5). */
    uint8_t *p = buf + n;
    p[0] = 0x00; p[1] = 0x24; p[2] = 0; p[3] = 4; p[4] = p[5] = p[6] = p[7] = 0xAA;
    mxrtc_store_u16(buf + 2, (uint16_t)(n + 8 - 20));
    mxrtc_stun_msg m;
    assert_int_equal(mxrtc_stun_decode(&m, buf, (size_t)n + 8), MXRTC_OK);
    assert_null(mxrtc_stun_find(&m, MXRTC_STUN_ATTR_PRIORITY));
    /* Integrity still verifies: its length field covered only up to MI. */
    assert_int_equal(mxrtc_stun_check_integrity(&m, &key), MXRTC_OK);

    /* Anything after FINGERPRINT: malformed. */
    uint8_t fp[64];
    mxrtc_stun_build_begin(&b, fp, sizeof fp, MXRTC_STUN_BINDING, MXRTC_STUN_REQUEST, tid);
    mxrtc_stun_add_fingerprint(&b);
    n = mxrtc_stun_build_end(&b);
    p = fp + n;
    p[0] = 0x80; p[1] = 0x22; p[2] = 0; p[3] = 0;
    mxrtc_store_u16(fp + 2, (uint16_t)(n + 4 - 20));
    /* Changing the length breaks the CRC first... */
    assert_int_equal(mxrtc_stun_decode(&m, fp, (size_t)n + 4), MXRTC_ERR_FINGERPRINT);
    /* ...and with a CRC recomputed over the new header, the position rule refuses it. */
    mxrtc_store_u32(fp + n - 4, mxrtc_crc32(fp, (size_t)n - 8) ^ 0x5354554eu);
    assert_int_equal(mxrtc_stun_decode(&m, fp, (size_t)n + 4), MXRTC_ERR_MALFORMED);
}

static void unknown_required_attribute_yields_420(void **state) {
    (void)state;
    uint8_t buf[128], resp[128];
    mxrtc_stun_builder b;
    mxrtc_stun_build_begin(&b, buf, sizeof buf, MXRTC_STUN_BINDING, MXRTC_STUN_REQUEST, tid);
    mxrtc_stun_add_u32(&b, 0x7777, 1);             /* unknown, comprehension-required */
    mxrtc_stun_add_u32(&b, 0x7777, 2);             /* duplicate: reported once */
    mxrtc_stun_add_u32(&b, 0xC0DE, 3);             /* unknown, optional: ignored */
    int n = mxrtc_stun_build_end(&b);
    mxrtc_stun_msg m;
    assert_int_equal(mxrtc_stun_decode(&m, buf, (size_t)n), MXRTC_ERR_UNKNOWN_ATTRIBUTE);
    assert_int_equal(m.nunknown, 1);
    assert_int_equal(m.unknown[0], 0x7777);
    int rn = mxrtc_stun_build_unknown_attributes(&m, resp, sizeof resp);
    assert_true(rn > 0);
    mxrtc_stun_msg r;
    assert_int_equal(mxrtc_stun_decode(&r, resp, (size_t)rn), MXRTC_OK);
    assert_int_equal(r.cls, MXRTC_STUN_ERROR);
    assert_memory_equal(r.tid, tid, 12);
    int code;
    const char *reason;
    size_t rlen;
    assert_int_equal(mxrtc_stun_get_error(&r, &code, &reason, &rlen), MXRTC_OK);
    assert_int_equal(code, 420);
    uint16_t types[4];
    size_t nt;
    assert_int_equal(mxrtc_stun_get_unknown_attributes(&r, types, 4, &nt), MXRTC_OK);
    assert_int_equal(nt, 1);
    assert_int_equal(types[0], 0x7777);
}

static void too_many_attributes_is_a_limit(void **state) {
    (void)state;
    uint8_t buf[20 + 4 * (MXRTC_STUN_MAX_ATTRS + 1)];
    mxrtc_stun_builder b;
    mxrtc_stun_build_begin(&b, buf, sizeof buf, MXRTC_STUN_BINDING, MXRTC_STUN_INDICATION, tid);
    for (int i = 0; i <= MXRTC_STUN_MAX_ATTRS; i++) mxrtc_stun_add_flag(&b, 0x8050);
    int n = mxrtc_stun_build_end(&b);
    assert_int_equal(n, (int)sizeof buf);
    mxrtc_stun_msg m;
    assert_int_equal(mxrtc_stun_decode(&m, buf, (size_t)n), MXRTC_ERR_LIMIT);
}

static void typed_attributes_round_trip(void **state) {
    (void)state;
    uint8_t buf[512];
    mxrtc_addr peer6, relay4, mapped;
    mxrtc_addr_parse(&peer6, "2001:db8::5", 40000);
    mxrtc_addr_parse(&relay4, "203.0.113.7", 50000);
    mxrtc_addr_parse(&mapped, "198.51.100.1", 1);
    const uint8_t payload[5] = {'h', 'e', 'l', 'l', 'o'};
    mxrtc_stun_builder b;
    mxrtc_stun_build_begin(&b, buf, sizeof buf, MXRTC_STUN_ALLOCATE, MXRTC_STUN_ERROR, tid);
    mxrtc_stun_add_error(&b, 438, "Stale Nonce");
    mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, &peer6);
    mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_RELAYED_ADDRESS, &relay4);
    mxrtc_stun_add_addr(&b, MXRTC_STUN_ATTR_ALTERNATE_SERVER, &mapped);
    mxrtc_stun_add_channel(&b, 0x4001);
    mxrtc_stun_add_requested_transport(&b, 17);
    mxrtc_stun_add(&b, MXRTC_STUN_ATTR_DATA, payload, sizeof payload);
    uint8_t algs[] = {0, 2, 0, 0, 0, 1, 0, 0}; /* SHA-256, MD5 */
    mxrtc_stun_add(&b, MXRTC_STUN_ATTR_PASSWORD_ALGORITHMS, algs, sizeof algs);
    int n = mxrtc_stun_build_end(&b);
    assert_true(n > 0);

    mxrtc_stun_msg m;
    assert_int_equal(mxrtc_stun_decode(&m, buf, (size_t)n), MXRTC_OK);
    int code; const char *reason; size_t rlen;
    assert_int_equal(mxrtc_stun_get_error(&m, &code, &reason, &rlen), MXRTC_OK);
    assert_int_equal(code, 438);
    assert_int_equal(rlen, 11);
    assert_memory_equal(reason, "Stale Nonce", 11);
    mxrtc_addr a;
    assert_int_equal(mxrtc_stun_get_xor_addr(&m, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, &a), MXRTC_OK);
    assert_true(mxrtc_addr_equal(&a, &peer6));
    assert_int_equal(mxrtc_stun_get_xor_addr(&m, MXRTC_STUN_ATTR_XOR_RELAYED_ADDRESS, &a), MXRTC_OK);
    assert_true(mxrtc_addr_equal(&a, &relay4));
    assert_int_equal(mxrtc_stun_get_addr(&m, MXRTC_STUN_ATTR_ALTERNATE_SERVER, &a), MXRTC_OK);
    assert_true(mxrtc_addr_equal(&a, &mapped));
    uint16_t ch;
    assert_int_equal(mxrtc_stun_get_channel(&m, &ch), MXRTC_OK);
    assert_int_equal(ch, 0x4001);
    const uint8_t *d; size_t dl;
    assert_int_equal(mxrtc_stun_get_data(&m, &d, &dl), MXRTC_OK);
    assert_int_equal(dl, 5);
    assert_memory_equal(d, payload, 5);
    uint16_t got[4]; size_t ng;
    assert_int_equal(mxrtc_stun_get_password_algorithms(&m, got, 4, &ng), MXRTC_OK);
    assert_int_equal(ng, 2);
    assert_int_equal(got[0], MXRTC_STUN_PASSWORD_SHA256);
    assert_int_equal(got[1], MXRTC_STUN_PASSWORD_MD5);
    assert_int_equal(mxrtc_stun_get_u32(&m, MXRTC_STUN_ATTR_LIFETIME, &(uint32_t){0}), MXRTC_ERR_NOT_FOUND);
}

static void malformed_typed_values(void **state) {
    (void)state;
    uint8_t buf[128];
    mxrtc_stun_builder b;
    mxrtc_stun_build_begin(&b, buf, sizeof buf, MXRTC_STUN_BINDING, MXRTC_STUN_SUCCESS, tid);
    uint8_t bad_family[8] = {0, 3, 0, 1, 1, 2, 3, 4};
    mxrtc_stun_add(&b, MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS, bad_family, 8);
    uint8_t short_v6[8] = {0, 2, 0, 1, 1, 2, 3, 4};
    mxrtc_stun_add(&b, MXRTC_STUN_ATTR_MAPPED_ADDRESS, short_v6, 8);
    mxrtc_stun_add(&b, MXRTC_STUN_ATTR_PRIORITY, "abc", 3);
    uint8_t bad_error[4] = {0, 0, 7, 0}; /* class 7 */
    mxrtc_stun_add(&b, MXRTC_STUN_ATTR_ERROR_CODE, bad_error, 4);
    int n = mxrtc_stun_build_end(&b);
    mxrtc_stun_msg m;
    assert_int_equal(mxrtc_stun_decode(&m, buf, (size_t)n), MXRTC_OK);
    mxrtc_addr a;
    uint32_t v;
    int code;
    assert_int_equal(mxrtc_stun_get_xor_addr(&m, MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &a), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_stun_get_addr(&m, MXRTC_STUN_ATTR_MAPPED_ADDRESS, &a), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_stun_get_u32(&m, MXRTC_STUN_ATTR_PRIORITY, &v), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_stun_get_error(&m, &code, NULL, NULL), MXRTC_ERR_MALFORMED);
}

static void builder_reports_short_buffers(void **state) {
    (void)state;
    uint8_t buf[24];
    mxrtc_stun_builder b;
    assert_int_equal(mxrtc_stun_build_begin(&b, buf, 19, MXRTC_STUN_BINDING, MXRTC_STUN_REQUEST, tid),
                     MXRTC_ERR_BUFFER_TOO_SMALL);
    mxrtc_stun_build_begin(&b, buf, sizeof buf, MXRTC_STUN_BINDING, MXRTC_STUN_REQUEST, tid);
    assert_int_equal(mxrtc_stun_add_u32(&b, MXRTC_STUN_ATTR_PRIORITY, 1), MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(mxrtc_stun_build_end(&b), MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(mxrtc_stun_build_begin(&b, buf, sizeof buf, 0x1000, MXRTC_STUN_REQUEST, tid),
                     MXRTC_ERR_INVALID_ARGUMENT);
}

static void sha256_integrity_and_long_term_sha256_key(void **state) {
    (void)state;
    mxrtc_stun_key key;
    assert_int_equal(mxrtc_stun_key_long_term(&key, MXRTC_STUN_PASSWORD_SHA256, "user", 4, "realm", 5, "pw", 2),
                     MXRTC_OK);
    assert_int_equal(key.len, 32);
    assert_int_equal(mxrtc_stun_key_long_term(&key, 7, "u", 1, "r", 1, "p", 1), MXRTC_ERR_UNSUPPORTED);
    mxrtc_stun_key_long_term(&key, MXRTC_STUN_PASSWORD_SHA256, "user", 4, "realm", 5, "pw", 2);
    uint8_t buf[128];
    mxrtc_stun_builder b;
    mxrtc_stun_build_begin(&b, buf, sizeof buf, MXRTC_STUN_ALLOCATE, MXRTC_STUN_REQUEST, tid);
    mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_REALM, "realm", 5);
    mxrtc_stun_add_integrity_sha256(&b, &key);
    mxrtc_stun_add_fingerprint(&b);
    int n = mxrtc_stun_build_end(&b);
    mxrtc_stun_msg m;
    assert_int_equal(mxrtc_stun_decode(&m, buf, (size_t)n), MXRTC_OK);
    assert_true(m.integrity_sha256 >= 0);
    assert_int_equal(mxrtc_stun_check_integrity(&m, &key), MXRTC_OK);
    key.bytes[31] ^= 0x80;
    assert_int_equal(mxrtc_stun_check_integrity(&m, &key), MXRTC_ERR_INTEGRITY);
    mxrtc_stun_key_clear(&key);
    assert_int_equal(key.len, 0);

    uint8_t hash[32], again[32];
    assert_int_equal(mxrtc_stun_userhash(hash, "user", 4, "realm", 5), MXRTC_OK);
    mxrtc_stun_userhash(again, "user", 4, "realm", 5);
    assert_memory_equal(hash, again, 32);
    mxrtc_stun_userhash(again, "user", 4, "realm2", 6);
    assert_memory_not_equal(hash, again, 32);
}

static void recognises_stun(void **state) {
    (void)state;
    assert_true(mxrtc_stun_is_message(rfc5769_request, sizeof rfc5769_request));
    const uint8_t rtp[20] = {0x80, 0x60};
    assert_false(mxrtc_stun_is_message(rtp, sizeof rtp));
    assert_false(mxrtc_stun_is_message(rfc5769_request, 19));
    assert_string_equal(mxrtc_stun_attr_name(MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS), "XOR-MAPPED-ADDRESS");
    assert_string_equal(mxrtc_stun_method_name(MXRTC_STUN_CHANNEL_BIND), "ChannelBind");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(type_field_interleaves_class_bits),
        cmocka_unit_test(truncated_and_malformed_headers),
        cmocka_unit_test(attribute_overrunning_message_is_malformed),
        cmocka_unit_test(fingerprint_and_integrity_tampering),
        cmocka_unit_test(attributes_after_integrity_are_ignored_after_fingerprint_refused),
        cmocka_unit_test(unknown_required_attribute_yields_420),
        cmocka_unit_test(too_many_attributes_is_a_limit),
        cmocka_unit_test(typed_attributes_round_trip),
        cmocka_unit_test(malformed_typed_values),
        cmocka_unit_test(builder_reports_short_buffers),
        cmocka_unit_test(sha256_integrity_and_long_term_sha256_key),
        cmocka_unit_test(recognises_stun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
