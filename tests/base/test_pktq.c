/*
 * The bounded packet queue against a reference model: a seeded random
 * sequence of pushes (of random sizes, some too large) and pops must give the
 * same entries in the same order as a plain array FIFO, refuse exactly when
 * there is no room, and never write outside its buffer (ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "base/pktq.h"
#include "base/random.h"
#include "support/test_alloc.h"

typedef struct { uint32_t id; } meta_t;

static void basic_fifo_and_segments(void **state) {
    (void)state;
    test_alloc ta;
    test_alloc_init(&ta);
    mxrtc_pktq q;
    assert_int_equal(mxrtc_pktq_init(&q, &ta.iface, 64, sizeof(meta_t)), MXRTC_OK);
    const uint8_t *d;
    size_t n;
    assert_int_equal(mxrtc_pktq_front(&q, NULL, &d, &n), MXRTC_ERR_AGAIN);
    meta_t m1 = {1}, m2 = {2}, out;
    assert_int_equal(mxrtc_pktq_push(&q, &m1, (const uint8_t *)"ab", 2, (const uint8_t *)"cde", 3), MXRTC_OK);
    assert_int_equal(mxrtc_pktq_push(&q, &m2, NULL, 0, NULL, 0), MXRTC_OK);
    assert_int_equal(mxrtc_pktq_front(&q, &out, &d, &n), MXRTC_OK);
    assert_int_equal(out.id, 1);
    assert_int_equal(n, 5);
    assert_memory_equal(d, "abcde", 5);
    mxrtc_pktq_pop(&q);
    assert_int_equal(mxrtc_pktq_front(&q, &out, &d, &n), MXRTC_OK);
    assert_int_equal(out.id, 2);
    assert_int_equal(n, 0);
    mxrtc_pktq_pop(&q);
    uint8_t big[100] = {0};
    assert_int_equal(mxrtc_pktq_push(&q, &m1, big, sizeof big, NULL, 0), MXRTC_ERR_LIMIT);
    assert_int_equal(q.dropped, 1);
    mxrtc_pktq_free(&q, &ta.iface);
    assert_int_equal(ta.live, 0);
}

static void matches_reference_model(void **state) {
    (void)state;
    enum { CAP = 256, REF = 4096 };
    mxrtc_pktq q;
    assert_int_equal(mxrtc_pktq_init(&q, NULL, CAP, sizeof(meta_t)), MXRTC_OK);
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 7);
    /* reference FIFO: ids and lengths */
    uint32_t ref_id[REF];
    size_t ref_len[REF];
    size_t rh = 0, rt = 0;
    uint32_t next_id = 0;
    size_t pushes_ok = 0, refused = 0;
    for (int step = 0; step < 20000; step++) {
        uint64_t r = mxrtc_seeded_random_next(&g);
        if ((r & 1) != 0 && rt < REF) {
            size_t len = (size_t)((r >> 8) % 90);
            uint8_t data[90];
            for (size_t i = 0; i < len; i++) data[i] = (uint8_t)(next_id + i);
            meta_t m = {next_id};
            size_t split = len ? (size_t)((r >> 20) % (len + 1)) : 0;
            int rc = mxrtc_pktq_push(&q, &m, data, split, data + split, len - split);
            if (rc == MXRTC_OK) {
                ref_id[rt] = next_id;
                ref_len[rt] = len;
                rt++;
                pushes_ok++;
            } else {
                assert_int_equal(rc, MXRTC_ERR_LIMIT);
                /* refused only when the queue holds enough to make it plausible */
                assert_true(rt > rh);
                refused++;
            }
            next_id++;
        } else if (rt > rh) {
            meta_t m;
            const uint8_t *d;
            size_t n;
            assert_int_equal(mxrtc_pktq_front(&q, &m, &d, &n), MXRTC_OK);
            assert_int_equal(m.id, ref_id[rh]);
            assert_int_equal(n, ref_len[rh]);
            for (size_t i = 0; i < n; i++) assert_int_equal(d[i], (uint8_t)(m.id + i));
            mxrtc_pktq_pop(&q);
            rh++;
            if (rh == rt) rh = rt = 0;
        }
        assert_int_equal(q.count, rt - rh);
    }
    assert_true(pushes_ok > 3000);
    assert_true(refused > 0); /* the bound was really exercised */
    mxrtc_pktq_free(&q, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(basic_fifo_and_segments),
        cmocka_unit_test(matches_reference_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
