#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "base/bytes.h"

static void reader_reads_big_endian(void **state) {
    (void)state;
    const uint8_t buf[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a};
    mxrtc_reader r;
    mxrtc_reader_init(&r, buf, sizeof buf);
    assert_int_equal(mxrtc_read_u8(&r), 0x01);
    assert_int_equal(mxrtc_read_u16(&r), 0x0203);
    assert_int_equal(mxrtc_read_u24(&r), 0x040506);
    assert_int_equal(mxrtc_read_u32(&r), 0x0708090a);
    assert_false(r.error);
    assert_int_equal(mxrtc_reader_remaining(&r), 0);
}

static void reader_past_end_is_sticky_and_reads_nothing(void **state) {
    (void)state;
    const uint8_t buf[] = {0xaa, 0xbb, 0xcc};
    mxrtc_reader r;
    mxrtc_reader_init(&r, buf, sizeof buf);
    assert_int_equal(mxrtc_read_u16(&r), 0xaabb);
    assert_int_equal(mxrtc_read_u32(&r), 0); /* only 1 byte left */
    assert_true(r.error);
    assert_int_equal(mxrtc_read_u8(&r), 0);  /* sticky: even though 1 byte remains */
    assert_null(mxrtc_read_ptr(&r, 1));
    assert_int_equal(mxrtc_reader_remaining(&r), 0);
}

static void reader_huge_length_does_not_wrap(void **state) {
    (void)state;
    const uint8_t buf[4] = {0};
    mxrtc_reader r;
    mxrtc_reader_init(&r, buf, sizeof buf);
    mxrtc_read_u8(&r);
    assert_null(mxrtc_read_ptr(&r, SIZE_MAX));
    assert_true(r.error);
}

static void sub_reader_is_bounded(void **state) {
    (void)state;
    const uint8_t buf[] = {1, 2, 3, 4, 5};
    mxrtc_reader r;
    mxrtc_reader_init(&r, buf, sizeof buf);
    mxrtc_reader sub = mxrtc_read_sub(&r, 2);
    assert_int_equal(mxrtc_read_u16(&sub), 0x0102);
    mxrtc_read_u8(&sub);
    assert_true(sub.error);
    assert_false(r.error);
    assert_int_equal(mxrtc_read_u8(&r), 3);
    mxrtc_reader bad = mxrtc_read_sub(&r, 10);
    assert_true(bad.error);
    assert_true(r.error);
}

static void writer_writes_and_refuses_overflow(void **state) {
    (void)state;
    uint8_t buf[7];
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, sizeof buf);
    mxrtc_write_u8(&w, 0x11);
    mxrtc_write_u16(&w, 0x2233);
    mxrtc_write_u32(&w, 0x44556677);
    assert_false(w.error);
    assert_int_equal(w.pos, 7);
    const uint8_t want[] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
    assert_memory_equal(buf, want, 7);
    mxrtc_write_u8(&w, 0x99);
    assert_true(w.error);
    assert_int_equal(w.pos, 7);
    assert_memory_equal(buf, want, 7);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reader_reads_big_endian),
        cmocka_unit_test(reader_past_end_is_sticky_and_reads_nothing),
        cmocka_unit_test(reader_huge_length_does_not_wrap),
        cmocka_unit_test(sub_reader_is_bounded),
        cmocka_unit_test(writer_writes_and_refuses_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
