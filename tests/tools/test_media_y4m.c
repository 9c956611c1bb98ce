/* tools/media Y4M: header tags, file round trips, bad input with exact errors. */
#include "media_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tools/media/media.h"

static int parse(const char *s, mxrtc_y4m_info *info) {
    return mxrtc_y4m_parse_header((const uint8_t *)s, strlen(s), info);
}

static void header_with_every_tag(void **state) {
    (void)state;
    mxrtc_y4m_info info;
    assert_int_equal(parse("YUV4MPEG2 W640 H480 F30000:1001 Ip A1:1 C420jpeg XYSCSS=420JPEG\nFRAME\n", &info),
                     MXRTC_OK);
    assert_int_equal(info.width, 640);
    assert_int_equal(info.height, 480);
    assert_int_equal(info.fps_num, 30000);
    assert_int_equal(info.fps_den, 1001);
    assert_int_equal(info.par_num, 1);
    assert_int_equal(info.par_den, 1);
    assert_int_equal(info.header_len, strlen("YUV4MPEG2 W640 H480 F30000:1001 Ip A1:1 C420jpeg XYSCSS=420JPEG\n"));
    assert_int_equal(info.frame_bytes, 640 * 480 * 3 / 2);
    /* Defaults, and odd sizes round the chroma planes up. */
    assert_int_equal(parse("YUV4MPEG2 H3 W5\n", &info), MXRTC_OK);
    assert_int_equal(info.fps_num, 30);
    assert_int_equal(info.fps_den, 1);
    assert_int_equal(info.frame_bytes, 15 + 2 * 3 * 2);
    assert_int_equal(parse("YUV4MPEG2 W2 H2 C420 I?\n", &info), MXRTC_OK);
    assert_int_equal(parse("YUV4MPEG2 W2 H2 C420paldv\n", &info), MXRTC_OK);
    assert_int_equal(parse("YUV4MPEG2 W2 H2 C420mpeg2\n", &info), MXRTC_OK);
}

static void bad_headers(void **state) {
    (void)state;
    mxrtc_y4m_info info;
    assert_int_equal(parse("YUV4MPEG2 W640 H480 C422\n", &info), MXRTC_ERR_UNSUPPORTED);
    assert_int_equal(parse("YUV4MPEG2 W640 H480 C420p10\n", &info), MXRTC_ERR_UNSUPPORTED);
    assert_int_equal(parse("YUV4MPEG2 W640 H480 Cmono\n", &info), MXRTC_ERR_UNSUPPORTED);
    assert_int_equal(parse("YUV4MPEG2 W640 H480 It\n", &info), MXRTC_ERR_UNSUPPORTED);
    assert_int_equal(parse("YUV4MPEG2 W640 H480 Ix\n", &info), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse("YUV4MPEG2 W640\n", &info), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse("YUV4MPEG2 W0 H480\n", &info), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse("YUV4MPEG2 W64x H480\n", &info), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse("YUV4MPEG2 W H480\n", &info), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse("YUV4MPEG2 W64 H48 F30\n", &info), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse("YUV4MPEG2 W64 H48 F30:0\n", &info), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse("YUV4MPEG2 W64 H48 Z1\n", &info), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse("YUV4MPEG2 W99999999999 H480\n", &info), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse("YUV4MPEG2 W8193 H480\n", &info), MXRTC_ERR_LIMIT);
    assert_int_equal(parse("YUV4MPEG3 W64 H48\n", &info), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse("YUV4MPEG2W64 H48\n", &info), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse("RIFF", &info), MXRTC_ERR_MALFORMED);
    /* Every prefix of a good header without its newline is truncated. */
    const char *good = "YUV4MPEG2 W64 H48 F25:1\n";
    for (size_t n = 0; n < strlen(good); n++)
        assert_int_equal(mxrtc_y4m_parse_header((const uint8_t *)good, n, &info), MXRTC_ERR_TRUNCATED);
    /* A line longer than the bound is refused, not searched forever. */
    char longline[400];
    memset(longline, ' ', sizeof longline);
    memcpy(longline, "YUV4MPEG2 W64 H48", 17);
    assert_int_equal(mxrtc_y4m_parse_header((const uint8_t *)longline, sizeof longline, &info), MXRTC_ERR_MALFORMED);
}

static void frame_headers(void **state) {
    (void)state;
    size_t hl = 0;
    assert_int_equal(mxrtc_y4m_parse_frame_header((const uint8_t *)"FRAME\nxyz", 9, &hl), MXRTC_OK);
    assert_int_equal(hl, 6);
    assert_int_equal(mxrtc_y4m_parse_frame_header((const uint8_t *)"FRAME Ixyz\n", 11, &hl), MXRTC_OK);
    assert_int_equal(hl, 11);
    assert_int_equal(mxrtc_y4m_parse_frame_header((const uint8_t *)"FRAM", 4, &hl), MXRTC_ERR_TRUNCATED);
    assert_int_equal(mxrtc_y4m_parse_frame_header((const uint8_t *)"FRAMEX\n", 7, &hl), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_y4m_parse_frame_header((const uint8_t *)"FRAMF\n", 6, &hl), MXRTC_ERR_MALFORMED);
}

static void file_round_trip(void **state) {
    (void)state;
    char path[256];
    media_tmp_path(path, sizeof path, ".y4m");
    const unsigned w = 33, h = 17;   /* odd: chroma rounds up */
    size_t n = mxrtc_i420_size(w, h);
    uint8_t *frames = malloc(3 * n), *back = malloc(n);
    assert_non_null(frames);
    assert_non_null(back);
    mxrtc_y4m_file f;
    assert_int_equal(mxrtc_y4m_writer_open(&f, path, w, h, 30, 1), MXRTC_OK);
    const uint8_t rgb[3] = {200, 40, 60};
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(mxrtc_pattern_fill(frames + i * n, w, h, rgb, i, 1), MXRTC_OK);
        assert_int_equal(mxrtc_y4m_writer_write(&f, frames + i * n), MXRTC_OK);
    }
    assert_int_equal(mxrtc_y4m_close(&f), MXRTC_OK);

    assert_int_equal(mxrtc_y4m_reader_open(&f, path), MXRTC_OK);
    assert_int_equal(f.info.width, w);
    assert_int_equal(f.info.height, h);
    assert_int_equal(f.info.frame_bytes, n);
    assert_int_equal(mxrtc_y4m_reader_read(&f, back, n - 1), MXRTC_ERR_BUFFER_TOO_SMALL);
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(mxrtc_y4m_reader_read(&f, back, n), 1);
        assert_memory_equal(back, frames + i * n, n);
    }
    assert_int_equal(mxrtc_y4m_reader_read(&f, back, n), 0);
    assert_int_equal(mxrtc_y4m_close(&f), MXRTC_OK);

    /* Cut inside the last frame: truncated. */
    uint8_t *all = malloc(4 * n + 256);
    assert_non_null(all);
    long len = media_read_file(path, all, 4 * n + 256);
    assert_true(len > 10);
    assert_int_equal(media_write_file(path, all, (size_t)len - 10), 0);
    assert_int_equal(mxrtc_y4m_reader_open(&f, path), MXRTC_OK);
    assert_int_equal(mxrtc_y4m_reader_read(&f, back, n), 1);
    assert_int_equal(mxrtc_y4m_reader_read(&f, back, n), 1);
    assert_int_equal(mxrtc_y4m_reader_read(&f, back, n), MXRTC_ERR_TRUNCATED);
    mxrtc_y4m_close(&f);
    /* Garbage where a frame header should be: malformed. */
    memcpy(all + f.info.header_len, "FRAMX", 5);
    assert_int_equal(media_write_file(path, all, (size_t)len), 0);
    assert_int_equal(mxrtc_y4m_reader_open(&f, path), MXRTC_OK);
    assert_int_equal(mxrtc_y4m_reader_read(&f, back, n), MXRTC_ERR_MALFORMED);
    mxrtc_y4m_close(&f);
    unlink(path);
    free(all);
    free(frames);
    free(back);
}

static void writer_arguments(void **state) {
    (void)state;
    char h[16];
    assert_int_equal(mxrtc_y4m_write_header(h, sizeof h, 64, 48, 30, 1), MXRTC_ERR_BUFFER_TOO_SMALL);
    char big[128];
    assert_int_equal(mxrtc_y4m_write_header(big, sizeof big, 0, 48, 30, 1), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_y4m_write_header(big, sizeof big, 64, 48, 0, 1), MXRTC_ERR_INVALID_ARGUMENT);
    int n = mxrtc_y4m_write_header(big, sizeof big, 64, 48, 30, 1);
    assert_int_equal(n, (int)strlen("YUV4MPEG2 W64 H48 F30:1 Ip A1:1 C420jpeg\n"));
    assert_string_equal(big, "YUV4MPEG2 W64 H48 F30:1 Ip A1:1 C420jpeg\n");
    mxrtc_y4m_file f;
    assert_int_equal(mxrtc_y4m_reader_open(&f, "/nonexistent/x.y4m"), MXRTC_ERR_IO);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_with_every_tag),
        cmocka_unit_test(bad_headers),
        cmocka_unit_test(frame_headers),
        cmocka_unit_test(file_round_trip),
        cmocka_unit_test(writer_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
