#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/random.h"
#include "support/test_alloc.h"

static void every_error_has_its_own_text(void **state) {
    (void)state;
    for (int e = MXRTC_ERR_INVALID_ARGUMENT; e > MXRTC_ERR_UNKNOWN; e--) {
        const char *s = mxrtc_strerror(e);
        assert_non_null(s);
        assert_string_not_equal(s, "unknown error");
        for (int f = e - 1; f > MXRTC_ERR_UNKNOWN; f--) assert_string_not_equal(s, mxrtc_strerror(f));
    }
    assert_string_equal(mxrtc_strerror(-9999), "unknown error");
    assert_true(mxrtc_error_is_fatal(MXRTC_ERR_NO_MEMORY));
    assert_false(mxrtc_error_is_fatal(MXRTC_ERR_MALFORMED));
}

static void version_matches_header(void **state) {
    (void)state;
    assert_int_equal(mxrtc_version(), MXRTC_VERSION_NUM);
    assert_string_equal(mxrtc_version_string(), "0.1.0");
}

static void seeded_random_repeats(void **state) {
    (void)state;
    mxrtc_seeded_random g1, g2;
    mxrtc_seeded_random_init(&g1, 42);
    mxrtc_seeded_random_init(&g2, 42);
    mxrtc_random r1 = mxrtc_seeded_random_source(&g1), r2 = mxrtc_seeded_random_source(&g2);
    uint8_t a[37], b[37];
    assert_int_equal(mxrtc_random_fill(&r1, a, sizeof a), MXRTC_OK);
    assert_int_equal(mxrtc_random_fill(&r2, b, sizeof b), MXRTC_OK);
    assert_memory_equal(a, b, sizeof a);
    mxrtc_seeded_random_init(&g2, 43);
    assert_int_equal(mxrtc_random_fill(&r2, b, sizeof b), MXRTC_OK);
    assert_memory_not_equal(a, b, sizeof a);
}

static void os_random_fills(void **state) {
    (void)state;
    uint8_t a[32] = {0}, b[32] = {0};
    assert_int_equal(mxrtc_random_fill(NULL, a, sizeof a), MXRTC_OK);
    assert_int_equal(mxrtc_random_fill(NULL, b, sizeof b), MXRTC_OK);
    assert_memory_not_equal(a, b, sizeof a); /* 2^-256 chance of a false failure */
}

static void allocator_is_used_and_failures_reported(void **state) {
    (void)state;
    test_alloc ta;
    test_alloc_init(&ta);
    char *s = mxrtc_strdup(&ta.iface, "hello", 16);
    assert_string_equal(s, "hello");
    assert_int_equal(ta.live, 1);
    mxrtc_free(&ta.iface, s);
    assert_int_equal(ta.live, 0);
    assert_null(mxrtc_strdup(&ta.iface, "too long", 3));
    test_alloc_fail_nth(&ta, 1);
    assert_null(mxrtc_malloc(&ta.iface, 8));
    assert_int_equal(ta.failures, 1);
    assert_null(mxrtc_calloc(&ta.iface, SIZE_MAX / 2, 4)); /* overflow caught before allocating */
}

typedef struct { int calls; mxrtc_log_level level; char module[16]; char line[64]; } log_capture;

static void capture(void *user, mxrtc_log_level level, const char *module, const char *message) {
    log_capture *c = user;
    c->calls++;
    c->level = level;
    snprintf(c->module, sizeof c->module, "%s", module);
    snprintf(c->line, sizeof c->line, "%s", message);
}

static void logging_respects_level_and_redacts(void **state) {
    (void)state;
    log_capture c = {0};
    mxrtc_logger lg = {capture, &c, MXRTC_LOG_INFO};
    MXRTC_LOGD(&lg, "stun", "hidden %d", 1);
    assert_int_equal(c.calls, 0);
    MXRTC_LOGI(&lg, "stun", "shown %d", 2);
    assert_int_equal(c.calls, 1);
    assert_string_equal(c.module, "stun");
    assert_string_equal(c.line, "shown 2");
    mxrtc_addr a;
    mxrtc_addr_parse(&a, "192.0.2.9", 99);
    char buf[MXRTC_ADDR_STRLEN];
    assert_string_equal(mxrtc_log_addr(&lg, MXRTC_LOG_INFO, &a, buf), "<v4 addr>");
    assert_string_equal(mxrtc_log_addr(&lg, MXRTC_LOG_DEBUG, &a, buf), "192.0.2.9:99");
}

static void wipe_zeroes(void **state) {
    (void)state;
    uint8_t key[16];
    memset(key, 0xab, sizeof key);
    mxrtc_wipe(key, sizeof key);
    for (size_t i = 0; i < sizeof key; i++) assert_int_equal(key[i], 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_error_has_its_own_text),
        cmocka_unit_test(version_matches_header),
        cmocka_unit_test(seeded_random_repeats),
        cmocka_unit_test(os_random_fills),
        cmocka_unit_test(allocator_is_used_and_failures_reported),
        cmocka_unit_test(logging_respects_level_and_redacts),
        cmocka_unit_test(wipe_zeroes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
