/*
 * test_fingerprint.c: a=fingerprint values (RFC 8122 §5) parsed and
 * formatted both ways, and the certificate's own fingerprint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "dtls/dtls.h"

static void parse_and_format(void **state) {
    (void)state;
    static const char sha1[] = "sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB";
    mxrtc_dtls_fingerprint fp;
    assert_int_equal(mxrtc_dtls_fingerprint_parse(&fp, sha1, strlen(sha1)), MXRTC_OK);
    assert_int_equal(fp.hash, MXRTC_DTLS_HASH_SHA1);
    assert_int_equal(fp.len, 20);
    assert_int_equal(fp.value[0], 0x4a);
    assert_int_equal(fp.value[19], 0xab);
    char out[MXRTC_DTLS_FINGERPRINT_STRLEN];
    assert_int_equal(mxrtc_dtls_fingerprint_format(&fp, out, sizeof out), (int)strlen(sha1));
    assert_string_equal(out, sha1);
    /* Upper-case name, lower-case hex, CRLF and spaces around (SDP lines). */
    static const char mixed[] = "  SHA-1 4a:ad:b9:b1:3f:82:18:3b:54:02:12:df:3e:5d:49:6b:19:e5:7c:ab\r\n";
    mxrtc_dtls_fingerprint fp2;
    assert_int_equal(mxrtc_dtls_fingerprint_parse(&fp2, mixed, strlen(mixed)), MXRTC_OK);
    assert_true(mxrtc_dtls_fingerprint_equal(&fp, &fp2));
    /* Too small a buffer. */
    assert_int_equal(mxrtc_dtls_fingerprint_format(&fp, out, strlen(sha1)), MXRTC_ERR_BUFFER_TOO_SMALL);
}

static void bad_values(void **state) {
    (void)state;
    mxrtc_dtls_fingerprint fp;
#define P(s) mxrtc_dtls_fingerprint_parse(&fp, s, strlen(s))
    assert_int_equal(P("md5 0C:1D:2E:3F:40:51:62:73:84:95:A6:B7:C8:D9:EA:FB"), MXRTC_ERR_UNSUPPORTED);
    assert_int_equal(P("sha-224 00"), MXRTC_ERR_UNSUPPORTED);
    assert_int_equal(P("sha-1 4A:AD"), MXRTC_ERR_MALFORMED); /* too short */
    assert_int_equal(P("sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:00"), MXRTC_ERR_MALFORMED);
    assert_int_equal(P("sha-1 4A-AD-B9-B1-3F-82-18-3B-54-02-12-DF-3E-5D-49-6B-19-E5-7C-AB"), MXRTC_ERR_MALFORMED);
    assert_int_equal(P("sha-1 4G:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB"), MXRTC_ERR_MALFORMED);
    assert_int_equal(P("sha-1"), MXRTC_ERR_MALFORMED);
    assert_int_equal(P(""), MXRTC_ERR_MALFORMED);
    assert_int_equal(P("sh@1 00"), MXRTC_ERR_MALFORMED);
    assert_int_equal(fp.hash, 0);
#undef P
}

static void certificate_fingerprint_is_sha256_of_der(void **state) {
    (void)state;
    mxrtc_dtls_cert *c;
    assert_int_equal(mxrtc_dtls_cert_new(&c, NULL, NULL), MXRTC_OK);
    size_t len;
    const uint8_t *der = mxrtc_dtls_cert_der(c, &len);
    assert_true(len > 200 && len < 1024);
    uint8_t h[32];
#if MBEDTLS_VERSION_MAJOR >= 3
    assert_int_equal(mbedtls_sha256(der, len, h, 0), 0);
#else
    assert_int_equal(mbedtls_sha256_ret(der, len, h, 0), 0);
#endif
    const char *text = mxrtc_dtls_cert_fingerprint(c);
    assert_int_equal(strncmp(text, "sha-256 ", 8), 0);
    assert_int_equal(strlen(text), 8 + 32 * 3 - 1);
    mxrtc_dtls_fingerprint fp;
    assert_int_equal(mxrtc_dtls_fingerprint_parse(&fp, text, strlen(text)), MXRTC_OK);
    assert_memory_equal(fp.value, h, 32);
    assert_true(mxrtc_dtls_fingerprint_equal(&fp, mxrtc_dtls_cert_fingerprint_raw(c)));
    /* Two certificates differ. */
    mxrtc_dtls_cert *c2;
    assert_int_equal(mxrtc_dtls_cert_new(&c2, NULL, NULL), MXRTC_OK);
    assert_false(mxrtc_dtls_fingerprint_equal(mxrtc_dtls_cert_fingerprint_raw(c), mxrtc_dtls_cert_fingerprint_raw(c2)));
    mxrtc_dtls_cert_free(c);
    mxrtc_dtls_cert_free(c2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_and_format),
        cmocka_unit_test(bad_values),
        cmocka_unit_test(certificate_fingerprint_is_sha256_of_der),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
