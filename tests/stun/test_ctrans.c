/* Client transaction timers on a virtual clock (RFC 8489 §6.2.1, §6.2.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "stun/ctrans.h"

static const uint8_t tid[12] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2};

/* Runs the transaction to its end with a clock that jumps from deadline to
 * deadline, recording when it sent and when it timed out. */
static size_t run(mxrtc_stun_ctrans *t, mxrtc_time_us *sends, size_t max, mxrtc_time_us *timeout_at) {
    size_t n = 0;
    mxrtc_time_us now = 0;
    for (int guard = 0; guard < 100; guard++) {
        mxrtc_stun_ctrans_action a = mxrtc_stun_ctrans_poll(t, now);
        if (a == MXRTC_STUN_CTRANS_SEND) {
            if (n < max) sends[n] = now;
            n++;
            continue;
        }
        if (a == MXRTC_STUN_CTRANS_TIMEOUT) {
            *timeout_at = now;
            return n;
        }
        now = mxrtc_stun_ctrans_deadline(t);
    }
    fail_msg("transaction never ended");
    return n;
}

static void udp_schedule_is_rfc8489_example(void **state) {
    (void)state;
    /* §6.2.1: "requests would be sent at times 0 ms, 500 ms, 1500 ms, 3500 ms,
     * 7500 ms, 15500 ms, and 31500 ms ... the client considers the transaction
     * to have failed at 39500 ms". */
    mxrtc_stun_ctrans t;
    mxrtc_stun_ctrans_start(&t, tid, NULL, 0);
    mxrtc_time_us sends[8], timeout_at = 0;
    size_t n = run(&t, sends, 8, &timeout_at);
    const mxrtc_time_us want[] = {0, 500000, 1500000, 3500000, 7500000, 15500000, 31500000};
    assert_int_equal(n, 7);
    assert_memory_equal(sends, want, sizeof want);
    assert_int_equal(timeout_at, 39500000);
    assert_int_equal(t.state, MXRTC_STUN_CTRANS_TIMED_OUT);
    assert_int_equal(mxrtc_stun_ctrans_poll(&t, 50000000), MXRTC_STUN_CTRANS_WAIT); /* reported once */
}

static void reliable_sends_once_and_waits_ti(void **state) {
    (void)state;
    mxrtc_stun_ctrans_params p = {.reliable = true};
    mxrtc_stun_ctrans t;
    mxrtc_stun_ctrans_start(&t, tid, &p, 1000);
    assert_int_equal(mxrtc_stun_ctrans_poll(&t, 1000), MXRTC_STUN_CTRANS_SEND);
    assert_int_equal(mxrtc_stun_ctrans_poll(&t, 2000), MXRTC_STUN_CTRANS_WAIT);
    assert_int_equal(mxrtc_stun_ctrans_deadline(&t), 1000 + MXRTC_STUN_TI_US);
    assert_int_equal(mxrtc_stun_ctrans_poll(&t, 1000 + MXRTC_STUN_TI_US), MXRTC_STUN_CTRANS_TIMEOUT);
}

static void custom_rto_and_count(void **state) {
    (void)state;
    mxrtc_stun_ctrans_params p = {.rto_us = 100000, .rc = 3, .rm = 2};
    mxrtc_stun_ctrans t;
    mxrtc_stun_ctrans_start(&t, tid, &p, 0);
    mxrtc_time_us sends[4], timeout_at = 0;
    size_t n = run(&t, sends, 4, &timeout_at);
    assert_int_equal(n, 3);
    assert_int_equal(sends[1], 100000);
    assert_int_equal(sends[2], 300000);
    assert_int_equal(timeout_at, 500000);
}

static void response_matches_by_transaction_id_only_once(void **state) {
    (void)state;
    mxrtc_stun_ctrans t;
    mxrtc_stun_ctrans_start(&t, tid, NULL, 0);
    assert_int_equal(mxrtc_stun_ctrans_poll(&t, 0), MXRTC_STUN_CTRANS_SEND);
    mxrtc_stun_msg m;
    memset(&m, 0, sizeof m);
    memcpy(m.tid, tid, 12);
    m.cls = MXRTC_STUN_INDICATION;
    assert_false(mxrtc_stun_ctrans_match(&t, &m));
    m.cls = MXRTC_STUN_SUCCESS;
    m.tid[11] ^= 1;
    assert_false(mxrtc_stun_ctrans_match(&t, &m));
    m.tid[11] ^= 1;
    assert_true(mxrtc_stun_ctrans_match(&t, &m));
    assert_false(mxrtc_stun_ctrans_match(&t, &m)); /* a duplicate response */
    assert_int_equal(mxrtc_stun_ctrans_poll(&t, 100000000), MXRTC_STUN_CTRANS_WAIT);
    assert_int_equal(mxrtc_stun_ctrans_deadline(&t), MXRTC_TIME_NEVER);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(udp_schedule_is_rfc8489_example),
        cmocka_unit_test(reliable_sends_once_and_waits_ti),
        cmocka_unit_test(custom_rto_and_count),
        cmocka_unit_test(response_matches_by_transaction_id_only_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
