/* tools/media IVF: header fields, file round trips, bounds on frame sizes. */
#include "media_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tools/media/media.h"

static void header_round_trip(void **state) {
    (void)state;
    mxrtc_ivf_info in = {.codec = MXRTC_IVF_VP9, .width = 1280, .height = 720, .rate = 90000, .scale = 1,
                         .frame_count = 7};
    uint8_t h[MXRTC_IVF_HEADER_LEN];
    assert_int_equal(mxrtc_ivf_write_header(h, &in), MXRTC_OK);
    assert_memory_equal(h, "DKIF\0\0\x20\0VP90", 12);
    mxrtc_ivf_info out;
    assert_int_equal(mxrtc_ivf_parse_header(h, sizeof h, &out), MXRTC_OK);
    assert_int_equal(out.codec, MXRTC_IVF_VP9);
    assert_int_equal(out.width, 1280);
    assert_int_equal(out.height, 720);
    assert_int_equal(out.rate, 90000);
    assert_int_equal(out.scale, 1);
    assert_int_equal(out.frame_count, 7);
}

static void bad_headers(void **state) {
    (void)state;
    mxrtc_ivf_info in = {.codec = MXRTC_IVF_VP8, .width = 64, .height = 48, .rate = 30, .scale = 1};
    uint8_t h[MXRTC_IVF_HEADER_LEN], b[MXRTC_IVF_HEADER_LEN];
    mxrtc_ivf_info out;
    assert_int_equal(mxrtc_ivf_write_header(h, &in), MXRTC_OK);
    for (size_t n = 0; n < sizeof h; n++) assert_int_equal(mxrtc_ivf_parse_header(h, n, &out), MXRTC_ERR_TRUNCATED);
    memcpy(b, h, sizeof b); b[0] = 'R';
    assert_int_equal(mxrtc_ivf_parse_header(b, sizeof b, &out), MXRTC_ERR_MALFORMED);
    memcpy(b, h, sizeof b); b[4] = 1;                   /* version 1 */
    assert_int_equal(mxrtc_ivf_parse_header(b, sizeof b, &out), MXRTC_ERR_MALFORMED);
    memcpy(b, h, sizeof b); b[6] = 12;                  /* header length 12 */
    assert_int_equal(mxrtc_ivf_parse_header(b, sizeof b, &out), MXRTC_ERR_MALFORMED);
    memcpy(b, h, sizeof b); memset(b + 16, 0, 4);       /* rate 0 */
    assert_int_equal(mxrtc_ivf_parse_header(b, sizeof b, &out), MXRTC_ERR_MALFORMED);
    memcpy(b, h, sizeof b); memcpy(b + 8, "AV01", 4);
    assert_int_equal(mxrtc_ivf_parse_header(b, sizeof b, &out), MXRTC_ERR_UNSUPPORTED);
    memcpy(b, h, sizeof b); memcpy(b + 8, "H264", 4);
    assert_int_equal(mxrtc_ivf_parse_header(b, sizeof b, &out), MXRTC_ERR_UNSUPPORTED);

    in.codec = (mxrtc_ivf_codec)7;
    assert_int_equal(mxrtc_ivf_write_header(h, &in), MXRTC_ERR_INVALID_ARGUMENT);
    in.codec = MXRTC_IVF_VP8;
    in.width = 70000;
    assert_int_equal(mxrtc_ivf_write_header(h, &in), MXRTC_ERR_INVALID_ARGUMENT);
}

static void frame_headers(void **state) {
    (void)state;
    uint32_t size;
    uint64_t pts;
    const uint8_t ok[12] = {0x10, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    assert_int_equal(mxrtc_ivf_parse_frame_header(ok, sizeof ok, &size, &pts), MXRTC_OK);
    assert_int_equal(size, 16);
    assert_true(pts == 0x0807060504030201ull);
    assert_int_equal(mxrtc_ivf_parse_frame_header(ok, 11, &size, &pts), MXRTC_ERR_TRUNCATED);
    const uint8_t zero[12] = {0};
    assert_int_equal(mxrtc_ivf_parse_frame_header(zero, sizeof zero, &size, &pts), MXRTC_ERR_MALFORMED);
    /* One byte over the bound, and 4 GiB: refused before any read. */
    uint8_t big[12] = {0};
    uint32_t over = MXRTC_IVF_MAX_FRAME + 1;
    big[0] = (uint8_t)over; big[1] = (uint8_t)(over >> 8); big[2] = (uint8_t)(over >> 16); big[3] = (uint8_t)(over >> 24);
    assert_int_equal(mxrtc_ivf_parse_frame_header(big, sizeof big, &size, &pts), MXRTC_ERR_LIMIT);
    memset(big, 0xff, 4);
    assert_int_equal(mxrtc_ivf_parse_frame_header(big, sizeof big, &size, &pts), MXRTC_ERR_LIMIT);
}

static void file_round_trip(void **state) {
    (void)state;
    char path[256];
    media_tmp_path(path, sizeof path, ".ivf");
    mxrtc_ivf_info in = {.codec = MXRTC_IVF_VP8, .width = 320, .height = 240, .rate = 30, .scale = 1};
    mxrtc_ivf_file f;
    assert_int_equal(mxrtc_ivf_writer_open(&f, path, &in), MXRTC_OK);
    uint8_t frame[300];
    for (unsigned i = 0; i < sizeof frame; i++) frame[i] = (uint8_t)(i * 7);
    for (unsigned i = 0; i < 5; i++) assert_int_equal(mxrtc_ivf_writer_write(&f, frame, 100 + 50 * i, i * 3000u), MXRTC_OK);
    assert_int_equal(mxrtc_ivf_writer_write(&f, frame, 0, 0), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_ivf_writer_write(&f, frame, MXRTC_IVF_MAX_FRAME + 1u, 0), MXRTC_ERR_LIMIT);
    assert_int_equal(mxrtc_ivf_close(&f), MXRTC_OK);

    assert_int_equal(mxrtc_ivf_reader_open(&f, path), MXRTC_OK);
    assert_int_equal(f.info.codec, MXRTC_IVF_VP8);
    assert_int_equal(f.info.frame_count, 5);   /* patched in by close */
    uint8_t back[300];
    uint32_t size;
    uint64_t pts;
    assert_int_equal(mxrtc_ivf_reader_read(&f, back, 50, &size, &pts), MXRTC_ERR_BUFFER_TOO_SMALL);
    mxrtc_ivf_close(&f);
    assert_int_equal(mxrtc_ivf_reader_open(&f, path), MXRTC_OK);
    for (unsigned i = 0; i < 5; i++) {
        assert_int_equal(mxrtc_ivf_reader_read(&f, back, sizeof back, &size, &pts), 1);
        assert_int_equal(size, 100 + 50 * i);
        assert_true(pts == i * 3000u);
        assert_memory_equal(back, frame, size);
    }
    assert_int_equal(mxrtc_ivf_reader_read(&f, back, sizeof back, &size, &pts), 0);
    assert_int_equal(mxrtc_ivf_close(&f), MXRTC_OK);

    /* The file cut inside the last frame, then inside its header. */
    uint8_t all[2048];
    long len = media_read_file(path, all, sizeof all);
    assert_int_equal(len, 32 + 5 * 12 + 100 + 150 + 200 + 250 + 300);
    assert_int_equal(media_write_file(path, all, (size_t)len - 1), 0);
    assert_int_equal(mxrtc_ivf_reader_open(&f, path), MXRTC_OK);
    for (unsigned i = 0; i < 4; i++) assert_int_equal(mxrtc_ivf_reader_read(&f, back, sizeof back, &size, &pts), 1);
    assert_int_equal(mxrtc_ivf_reader_read(&f, back, sizeof back, &size, &pts), MXRTC_ERR_TRUNCATED);
    mxrtc_ivf_close(&f);
    assert_int_equal(media_write_file(path, all, (size_t)len - 300 - 5), 0);
    assert_int_equal(mxrtc_ivf_reader_open(&f, path), MXRTC_OK);
    for (unsigned i = 0; i < 4; i++) assert_int_equal(mxrtc_ivf_reader_read(&f, back, sizeof back, &size, &pts), 1);
    assert_int_equal(mxrtc_ivf_reader_read(&f, back, sizeof back, &size, &pts), MXRTC_ERR_TRUNCATED);
    mxrtc_ivf_close(&f);
    assert_int_equal(media_write_file(path, all, 20), 0);
    assert_int_equal(mxrtc_ivf_reader_open(&f, path), MXRTC_ERR_TRUNCATED);
    unlink(path);
    assert_int_equal(mxrtc_ivf_reader_open(&f, path), MXRTC_ERR_IO);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_round_trip),
        cmocka_unit_test(bad_headers),
        cmocka_unit_test(frame_headers),
        cmocka_unit_test(file_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
