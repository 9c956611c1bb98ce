/* Transport-wide CC feedback (draft-holmer-rmcat-transport-wide-cc-
 * extensions-01 §3.1): run-length and both status-vector chunk kinds, small
 * and large deltas, sequence wrap, both ways against hand-written bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "rtp/rtp.h"

/* base 65530, 14 packets, ref 2 (128 ms), fb count 5.
 * Arrivals (us after 128000): 0, 1000 .. 9000 (10 small), 7000 (-8 ticks,
 * large), lost, 107000 (+400 ticks, large), 108000 (small).
 * Chunks: run of 10 x "small" = 0x200a; 2-bit vector 2,0,2,1 = 0xe240. */
static const uint8_t vec[] = {
    0x8f, 0xcd, 0x00, 0x09,
    0x00, 0x00, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44,
    0xff, 0xfa, 0x00, 0x0e, 0x00, 0x00, 0x02, 0x05,
    0x20, 0x0a, 0xe2, 0x40,
    0x00, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,
    0xff, 0xf8, 0x01, 0x90, 0x04,
    0x00};

static const int64_t arrivals[] = {
    128000, 129000, 130000, 131000, 132000, 133000, 134000, 135000, 136000, 137000,
    135000, -1, 235000, 236000};

static void run_length_two_bit_vector_large_deltas(void **state) {
    (void)state;
    uint8_t buf[128];
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_rtcp_write_twcc(&w, 1, 0x11223344, 65530, 5, arrivals, 14), MXRTC_OK);
    assert_int_equal(w.pos, sizeof vec);
    assert_memory_equal(buf, vec, sizeof vec);

    mxrtc_rtcp_iter it;
    mxrtc_rtcp_header h;
    mxrtc_rtcp_iter_init(&it, vec, sizeof vec);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    mxrtc_twcc_packet pk[16];
    mxrtc_twcc_feedback fb = {.packets = pk, .packet_cap = 16};
    assert_int_equal(mxrtc_rtcp_parse_twcc(&h, &fb), MXRTC_OK);
    assert_int_equal(fb.sender_ssrc, 1);
    assert_int_equal(fb.media_ssrc, 0x11223344);
    assert_int_equal(fb.base_seq, 65530);
    assert_int_equal(fb.status_count, 14);
    assert_int_equal(fb.reference_time, 2);
    assert_int_equal(fb.fb_pkt_count, 5);
    assert_int_equal(fb.packet_count, 14);
    for (int i = 0; i < 14; i++) {
        assert_int_equal(pk[i].seq, (uint16_t)(65530 + i));
        if (arrivals[i] < 0) {
            assert_int_equal(pk[i].status, MXRTC_TWCC_NOT_RECEIVED);
        } else {
            assert_true(pk[i].arrival_us == arrivals[i]);
        }
    }
    assert_int_equal(pk[5].seq, 65535);
    assert_int_equal(pk[6].seq, 0);
    assert_int_equal(pk[9].status, MXRTC_TWCC_SMALL_DELTA);
    assert_int_equal(pk[10].status, MXRTC_TWCC_LARGE_DELTA);
    assert_int_equal(pk[10].delta_us, -2000);
    assert_int_equal(pk[12].status, MXRTC_TWCC_LARGE_DELTA);
    assert_int_equal(pk[12].delta_us, 100000);
    assert_int_equal(pk[13].delta_us, 1000);
}

static void one_bit_vector(void **state) {
    (void)state;
    /* 14 packets alternating received/lost: one 1-bit vector 10101010101010 */
    int64_t arr[14];
    for (int i = 0; i < 14; i++) arr[i] = (i % 2 == 0) ? 64000 + 500 * i : -1;
    const uint8_t want[] = {
        0x8f, 0xcd, 0x00, 0x07,
        0x00, 0x00, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44,
        0x00, 0x07, 0x00, 0x0e, 0x00, 0x00, 0x01, 0x00,
        0xaa, 0xaa,                           /* 1 0 10101010101010 */
        0x00, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,
        0x00, 0x00, 0x00};
    uint8_t buf[64];
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_rtcp_write_twcc(&w, 1, 0x11223344, 7, 0, arr, 14), MXRTC_OK);
    assert_int_equal(w.pos, sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    mxrtc_rtcp_iter it;
    mxrtc_rtcp_header h;
    mxrtc_rtcp_iter_init(&it, want, sizeof want);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    mxrtc_twcc_packet pk[14];
    mxrtc_twcc_feedback fb = {.packets = pk, .packet_cap = 14};
    assert_int_equal(mxrtc_rtcp_parse_twcc(&h, &fb), MXRTC_OK);
    for (int i = 0; i < 14; i++) {
        assert_int_equal(pk[i].status, i % 2 == 0 ? MXRTC_TWCC_SMALL_DELTA : MXRTC_TWCC_NOT_RECEIVED);
        if (i % 2 == 0) assert_true(pk[i].arrival_us == arr[i]);
    }
    /* cap below the status count */
    fb.packet_cap = 13;
    assert_int_equal(mxrtc_rtcp_parse_twcc(&h, &fb), MXRTC_ERR_LIMIT);
}

static void long_run_of_losses(void **state) {
    (void)state;
    /* 1 received, 9000 lost, 1 received: runs split at 8191 */
    static int64_t arr[9002];
    for (int i = 0; i < 9002; i++) arr[i] = -1;
    arr[0] = 1000000;
    arr[9001] = 1002000;
    uint8_t buf[128];
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_rtcp_write_twcc(&w, 1, 2, 0, 0, arr, 9002), MXRTC_OK);
    mxrtc_rtcp_iter it;
    mxrtc_rtcp_header h;
    mxrtc_rtcp_iter_init(&it, buf, w.pos);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    static mxrtc_twcc_packet pk[9002];
    mxrtc_twcc_feedback fb = {.packets = pk, .packet_cap = 9002};
    assert_int_equal(mxrtc_rtcp_parse_twcc(&h, &fb), MXRTC_OK);
    assert_int_equal(fb.packet_count, 9002);
    assert_true(pk[0].arrival_us == 1000000);
    assert_int_equal(pk[1].status, MXRTC_TWCC_NOT_RECEIVED);
    assert_int_equal(pk[9000].status, MXRTC_TWCC_NOT_RECEIVED);
    assert_true(pk[9001].arrival_us == 1002000);
    assert_true(w.pos < 40);   /* a few run-length chunks, not thousands of symbols */
}

/* Found by fuzz_rtcp: a one-bit vector must not be cut short before the
 * last chunk (it always stands for 14 symbols). 11 small, 1 lost, 1 large,
 * 1 small: the first 7 go to a two-bit vector, the rest to another. */
static void mixed_symbols_before_large_delta(void **state) {
    (void)state;
    int64_t arr[14];
    for (int i = 0; i < 11; i++) arr[i] = 64000 + 1000 * i;
    arr[11] = -1;
    arr[12] = 64000 + 10000 + 200000;
    arr[13] = 64000 + 10000 + 201000;
    uint8_t buf[64];
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_rtcp_write_twcc(&w, 1, 2, 0, 0, arr, 14), MXRTC_OK);
    const uint8_t chunks[] = {0xd5, 0x55, 0xd5, 0x49};
    assert_memory_equal(buf + 20, chunks, sizeof chunks);
    mxrtc_rtcp_iter it;
    mxrtc_rtcp_header h;
    mxrtc_rtcp_iter_init(&it, buf, w.pos);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    mxrtc_twcc_packet pk[14];
    mxrtc_twcc_feedback fb = {.packets = pk, .packet_cap = 14};
    assert_int_equal(mxrtc_rtcp_parse_twcc(&h, &fb), MXRTC_OK);
    for (int i = 0; i < 14; i++) {
        assert_int_equal(pk[i].status != MXRTC_TWCC_NOT_RECEIVED, arr[i] >= 0);
        if (arr[i] >= 0) assert_true(pk[i].arrival_us == arr[i]);
    }
    assert_int_equal(pk[12].status, MXRTC_TWCC_LARGE_DELTA);
}

static void builder_limits(void **state) {
    (void)state;
    uint8_t buf[64];
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, sizeof buf);
    const int64_t far[] = {0, 9000000};   /* 9 s: over 16 bits of 250 us */
    assert_int_equal(mxrtc_rtcp_write_twcc(&w, 1, 2, 0, 0, far, 2), MXRTC_ERR_LIMIT);
    assert_int_equal(w.pos, 0);
    const int64_t lost[] = {-1, -1};
    assert_int_equal(mxrtc_rtcp_write_twcc(&w, 1, 2, 0, 0, lost, 2), MXRTC_ERR_INVALID_ARGUMENT);
}

static void bad_feedback(void **state) {
    (void)state;
    mxrtc_rtcp_iter it;
    mxrtc_rtcp_header h;
    mxrtc_twcc_packet pk[16];
    mxrtc_twcc_feedback fb = {.packets = pk, .packet_cap = 16};
    uint8_t b[sizeof vec];

    /* deltas cut short: length field says 2 words less */
    memcpy(b, vec, sizeof b);
    b[3] = 0x07;
    mxrtc_rtcp_iter_init(&it, b, 32);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_twcc(&h, &fb), MXRTC_ERR_TRUNCATED);
    /* a 2-bit symbol 3 (reserved) */
    memcpy(b, vec, sizeof b);
    b[23] = 0xc0;                   /* 0xe2c0: symbols 2,0,2,3 */
    mxrtc_rtcp_iter_init(&it, b, sizeof b);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_twcc(&h, &fb), MXRTC_ERR_MALFORMED);
    /* run-length symbol 3 and run length 0 */
    memcpy(b, vec, sizeof b);
    b[20] = 0x60;
    mxrtc_rtcp_iter_init(&it, b, sizeof b);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_twcc(&h, &fb), MXRTC_ERR_MALFORMED);
    memcpy(b, vec, sizeof b);
    b[21] = 0x00;
    b[20] = 0x20;
    mxrtc_rtcp_iter_init(&it, b, sizeof b);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_twcc(&h, &fb), MXRTC_ERR_MALFORMED);
    /* status count 0 */
    memcpy(b, vec, sizeof b);
    b[14] = 0; b[15] = 0;
    mxrtc_rtcp_iter_init(&it, b, sizeof b);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_twcc(&h, &fb), MXRTC_ERR_MALFORMED);
    /* status count larger than the chunks: chunks run out */
    memcpy(b, vec, sizeof b);
    b[15] = 0xff;
    fb.packet_cap = 16;
    mxrtc_twcc_packet big[300];
    mxrtc_twcc_feedback fb2 = {.packets = big, .packet_cap = 300};
    mxrtc_rtcp_iter_init(&it, b, sizeof b);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_twcc(&h, &fb2), MXRTC_ERR_TRUNCATED);
    /* header itself short */
    const uint8_t tiny[] = {0x8f, 0xcd, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 1};
    mxrtc_rtcp_iter_init(&it, tiny, sizeof tiny);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_twcc(&h, &fb), MXRTC_ERR_TRUNCATED);
}


static size_t parse_fb(const uint8_t *buf, size_t len, mxrtc_twcc_feedback *fb) {
    mxrtc_rtcp_iter it;
    mxrtc_rtcp_header h;
    mxrtc_rtcp_iter_init(&it, buf, len);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_twcc(&h, fb), MXRTC_OK);
    return h.raw_len;
}

static void recorder_reports_every_packet_once(void **state) {
    (void)state;
    static mxrtc_twcc_recorder r;
    mxrtc_twcc_recorder_init(&r);
    uint8_t buf[1500];
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_twcc_recorder_write(&r, &w, 1, 2, 100), MXRTC_ERR_AGAIN);
    /* seqs 65533..6 (wrapping), 0 lost, 3 and 4 swapped */
    const uint16_t order[] = {65533, 65534, 65535, 1, 2, 4, 3, 5, 6};
    for (size_t i = 0; i < 9; i++)
        assert_int_equal(mxrtc_twcc_recorder_on_packet(&r, order[i], 200000 + 1000 * i), MXRTC_OK);
    assert_int_equal(mxrtc_twcc_recorder_write(&r, &w, 1, 2, 100), MXRTC_OK);
    assert_int_equal(mxrtc_twcc_recorder_write(&r, &w, 1, 2, 100), MXRTC_ERR_AGAIN);
    mxrtc_twcc_packet pk[16];
    mxrtc_twcc_feedback fb = {.packets = pk, .packet_cap = 16};
    parse_fb(buf, w.pos, &fb);
    assert_int_equal(fb.base_seq, 65533);
    assert_int_equal(fb.packet_count, 10);
    assert_int_equal(fb.fb_pkt_count, 0);
    const int64_t want[10] = {200000, 201000, 202000, -1, 203000, 204000, 206000, 205000, 207000, 208000};
    for (int i = 0; i < 10; i++) {
        if (want[i] < 0) assert_int_equal(pk[i].status, MXRTC_TWCC_NOT_RECEIVED);
        else assert_true(pk[i].arrival_us == want[i]);
    }
    /* a straggler of the reported range is too late; new ones go on */
    assert_int_equal(mxrtc_twcc_recorder_on_packet(&r, 0, 300000), MXRTC_ERR_AGAIN);
    assert_int_equal(mxrtc_twcc_recorder_on_packet(&r, 8, 301000), MXRTC_OK);
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_twcc_recorder_write(&r, &w, 1, 2, 100), MXRTC_OK);
    parse_fb(buf, w.pos, &fb);
    assert_int_equal(fb.base_seq, 7);
    assert_int_equal(fb.packet_count, 2);
    assert_int_equal(fb.fb_pkt_count, 1);
    assert_int_equal(pk[0].status, MXRTC_TWCC_NOT_RECEIVED);
    assert_true(pk[1].arrival_us == 301000);
}

static void recorder_splits_and_bounds(void **state) {
    (void)state;
    static mxrtc_twcc_recorder r;
    mxrtc_twcc_recorder_init(&r);
    uint8_t buf[4096];
    mxrtc_writer w;
    /* a 10 s pause between seq 2 and 3 cannot be one delta: two feedbacks */
    mxrtc_twcc_recorder_on_packet(&r, 1, 1000000);
    mxrtc_twcc_recorder_on_packet(&r, 2, 1001000);
    mxrtc_twcc_recorder_on_packet(&r, 3, 11001000);
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_twcc_recorder_write(&r, &w, 1, 2, 100), MXRTC_OK);
    assert_int_equal(mxrtc_twcc_recorder_write(&r, &w, 1, 2, 100), MXRTC_OK);
    assert_int_equal(mxrtc_twcc_recorder_write(&r, &w, 1, 2, 100), MXRTC_ERR_AGAIN);
    mxrtc_twcc_packet pk[16];
    mxrtc_twcc_feedback fb = {.packets = pk, .packet_cap = 16};
    size_t first = parse_fb(buf, w.pos, &fb);
    assert_int_equal(fb.packet_count, 2);
    parse_fb(buf + first, w.pos - first, &fb);
    assert_int_equal(fb.base_seq, 3);
    assert_true(pk[0].arrival_us == 11001000);
    /* max_packets splits a long range; the window bounds what is kept */
    mxrtc_twcc_recorder_init(&r);
    for (uint32_t i = 0; i < 5000; i++)
        mxrtc_twcc_recorder_on_packet(&r, (uint16_t)i, 1000 * (uint64_t)i);
    assert_true(r.dropped == 5000 - MXRTC_TWCC_HISTORY);
    static mxrtc_twcc_packet big[4096];
    mxrtc_twcc_feedback fb2 = {.packets = big, .packet_cap = 4096};
    size_t total = 0;
    uint16_t expect_base = 5000 - MXRTC_TWCC_HISTORY;
    for (;;) {
        mxrtc_writer_init(&w, buf, sizeof buf);
        int rc = mxrtc_twcc_recorder_write(&r, &w, 1, 2, 1000);
        if (rc == MXRTC_ERR_AGAIN) break;
        assert_int_equal(rc, MXRTC_OK);
        parse_fb(buf, w.pos, &fb2);
        assert_int_equal(fb2.base_seq, expect_base);
        assert_true(fb2.packet_count <= 1000);
        for (size_t i = 0; i < fb2.packet_count; i++) {
            assert_true(big[i].arrival_us == 1000 * (int64_t)(expect_base + i));
        }
        expect_base = (uint16_t)(expect_base + fb2.packet_count);
        total += fb2.packet_count;
    }
    assert_int_equal(total, MXRTC_TWCC_HISTORY);
    /* a buffer too small consumes nothing */
    mxrtc_twcc_recorder_on_packet(&r, 5000, 6000000);
    mxrtc_writer_init(&w, buf, 10);
    assert_int_equal(mxrtc_twcc_recorder_write(&r, &w, 1, 2, 100), MXRTC_ERR_BUFFER_TOO_SMALL);
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_twcc_recorder_write(&r, &w, 1, 2, 100), MXRTC_OK);
    parse_fb(buf, w.pos, &fb);
    assert_int_equal(fb.base_seq, 5000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_length_two_bit_vector_large_deltas),
        cmocka_unit_test(one_bit_vector),
        cmocka_unit_test(long_run_of_losses),
        cmocka_unit_test(mixed_symbols_before_large_delta),
        cmocka_unit_test(builder_limits),
        cmocka_unit_test(bad_feedback),
        cmocka_unit_test(recorder_reports_every_packet_once),
        cmocka_unit_test(recorder_splits_and_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
