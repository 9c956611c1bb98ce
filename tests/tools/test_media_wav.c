/* tools/media WAV: round trips through files, and every kind of bad header
 * with the exact error. */
#include "media_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tools/media/media.h"

/* A canonical mono header for n data bytes, then n bytes of samples. */
static size_t make_wav(uint8_t *buf, unsigned channels, uint32_t n) {
    assert_int_equal(mxrtc_wav_write_header(buf, channels, n), MXRTC_OK);
    for (uint32_t i = 0; i < n; i++) buf[MXRTC_WAV_HEADER_LEN + i] = (uint8_t)i;
    return MXRTC_WAV_HEADER_LEN + n;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

static void header_parses_back(void **state) {
    (void)state;
    uint8_t buf[MXRTC_WAV_HEADER_LEN + 8];
    size_t len = make_wav(buf, 2, 8);
    mxrtc_wav_info info;
    assert_int_equal(mxrtc_wav_parse(buf, len, &info), MXRTC_OK);
    assert_int_equal(info.channels, 2);
    assert_int_equal(info.sample_rate, 48000);
    assert_int_equal(info.data_offset, 44);
    assert_int_equal(info.data_bytes, 8);
    assert_int_equal(info.data_avail, 8);
    /* A header prefix is enough: the data may lie beyond the buffer. */
    assert_int_equal(mxrtc_wav_parse(buf, 46, &info), MXRTC_OK);
    assert_int_equal(info.data_bytes, 8);
    assert_int_equal(info.data_avail, 2);
}

static void file_round_trip_mono_and_stereo(void **state) {
    (void)state;
    for (unsigned ch = 1; ch <= 2; ch++) {
        char path[256];
        media_tmp_path(path, sizeof path, ".wav");
        int16_t pcm[2 * 1000], back[2 * 1000];
        mxrtc_tone t;
        assert_int_equal(mxrtc_tone_init(&t, 440.0, 48000, 0.8), MXRTC_OK);
        mxrtc_tone_fill(&t, pcm, 1000, ch);
        pcm[0] = -32768;   /* the extremes survive the little-endian trip */
        pcm[1] = 32767;
        mxrtc_wav_writer w;
        assert_int_equal(mxrtc_wav_writer_open(&w, path, ch), MXRTC_OK);
        assert_int_equal(mxrtc_wav_writer_write(&w, pcm, 600), MXRTC_OK);
        assert_int_equal(mxrtc_wav_writer_write(&w, pcm + 600 * ch, 400), MXRTC_OK);
        assert_int_equal(mxrtc_wav_writer_close(&w), MXRTC_OK);

        mxrtc_wav_reader r;
        assert_int_equal(mxrtc_wav_reader_open(&r, path), MXRTC_OK);
        assert_int_equal(r.info.channels, ch);
        assert_int_equal(r.info.data_bytes, 1000u * ch * 2u);
        assert_int_equal(mxrtc_wav_reader_read(&r, back, 700), 700);
        assert_int_equal(mxrtc_wav_reader_read(&r, back + 700 * ch, 700), 300);
        assert_int_equal(mxrtc_wav_reader_read(&r, back, 10), 0);
        mxrtc_wav_reader_close(&r);
        assert_memory_equal(pcm, back, 1000u * ch * sizeof pcm[0]);
        unlink(path);
    }
}

static void streaming_size_reads_to_end_of_file(void **state) {
    (void)state;
    uint8_t buf[MXRTC_WAV_HEADER_LEN + 10];
    make_wav(buf, 1, 10);
    put32(buf + 40, 0xFFFFFFFFu);    /* what a pipe writer leaves */
    char path[256];
    media_tmp_path(path, sizeof path, ".wav");
    assert_int_equal(media_write_file(path, buf, 44 + 9), 0);   /* an odd tail byte too */
    mxrtc_wav_reader r;
    assert_int_equal(mxrtc_wav_reader_open(&r, path), MXRTC_OK);
    int16_t s[16];
    assert_int_equal(mxrtc_wav_reader_read(&r, s, 16), 4);
    assert_int_equal(s[0], 0x0100);
    mxrtc_wav_reader_close(&r);
    unlink(path);
}

static void skips_other_chunks_with_padding(void **state) {
    (void)state;
    /* RIFF WAVE, "LIST" of odd size 3 (+1 pad), fmt, "fact", data. */
    uint8_t buf[128];
    uint8_t canon[MXRTC_WAV_HEADER_LEN];
    mxrtc_wav_write_header(canon, 1, 4);
    size_t o = 0;
    memcpy(buf, "RIFF\0\0\0\0WAVE", 12);
    o = 12;
    memcpy(buf + o, "LIST", 4); put32(buf + o + 4, 3); memcpy(buf + o + 8, "abc\0", 4); o += 12;
    memcpy(buf + o, canon + 12, 24); o += 24;     /* the fmt chunk */
    memcpy(buf + o, "fact", 4); put32(buf + o + 4, 4); put32(buf + o + 8, 2); o += 12;
    memcpy(buf + o, "data", 4); put32(buf + o + 4, 4); o += 8;
    memset(buf + o, 7, 4); o += 4;
    mxrtc_wav_info info;
    assert_int_equal(mxrtc_wav_parse(buf, o, &info), MXRTC_OK);
    assert_int_equal(info.data_offset, o - 4);
    assert_int_equal(info.data_avail, 4);
}

static void extensible_pcm_is_accepted(void **state) {
    (void)state;
    uint8_t buf[80];
    memcpy(buf, "RIFF\0\0\0\0WAVEfmt ", 16);
    put32(buf + 16, 40);
    put16(buf + 20, 0xFFFE); put16(buf + 22, 2); put32(buf + 24, 48000); put32(buf + 28, 192000);
    put16(buf + 32, 4); put16(buf + 34, 16); put16(buf + 36, 22); put16(buf + 38, 16); put32(buf + 40, 3);
    static const uint8_t sub[16] = {1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71};
    memcpy(buf + 44, sub, 16);
    memcpy(buf + 60, "data", 4); put32(buf + 64, 0);
    mxrtc_wav_info info;
    assert_int_equal(mxrtc_wav_parse(buf, 68, &info), MXRTC_OK);
    assert_int_equal(info.channels, 2);
    buf[44] = 3;   /* IEEE float subformat */
    assert_int_equal(mxrtc_wav_parse(buf, 68, &info), MXRTC_ERR_UNSUPPORTED);
}

static void unsupported_formats(void **state) {
    (void)state;
    uint8_t buf[MXRTC_WAV_HEADER_LEN];
    mxrtc_wav_info info;
    make_wav(buf, 1, 0);
    put16(buf + 20, 3);                      /* IEEE float */
    assert_int_equal(mxrtc_wav_parse(buf, sizeof buf, &info), MXRTC_ERR_UNSUPPORTED);
    make_wav(buf, 1, 0);
    put32(buf + 24, 44100); put32(buf + 28, 88200);
    assert_int_equal(mxrtc_wav_parse(buf, sizeof buf, &info), MXRTC_ERR_UNSUPPORTED);
    make_wav(buf, 1, 0);
    put16(buf + 34, 24); put16(buf + 32, 3); put32(buf + 28, 144000);
    assert_int_equal(mxrtc_wav_parse(buf, sizeof buf, &info), MXRTC_ERR_UNSUPPORTED);
    make_wav(buf, 1, 0);
    put16(buf + 22, 6); put16(buf + 32, 12); put32(buf + 28, 576000);
    assert_int_equal(mxrtc_wav_parse(buf, sizeof buf, &info), MXRTC_ERR_UNSUPPORTED);
}

static void malformed_headers(void **state) {
    (void)state;
    uint8_t buf[MXRTC_WAV_HEADER_LEN];
    mxrtc_wav_info info;
    make_wav(buf, 1, 0);
    buf[0] = 'X';
    assert_int_equal(mxrtc_wav_parse(buf, sizeof buf, &info), MXRTC_ERR_MALFORMED);
    make_wav(buf, 1, 0);
    memcpy(buf + 8, "AVI ", 4);
    assert_int_equal(mxrtc_wav_parse(buf, sizeof buf, &info), MXRTC_ERR_MALFORMED);
    make_wav(buf, 1, 0);
    put16(buf + 32, 4);                      /* block align for stereo on a mono file */
    assert_int_equal(mxrtc_wav_parse(buf, sizeof buf, &info), MXRTC_ERR_MALFORMED);
    make_wav(buf, 1, 0);
    put32(buf + 28, 1);                      /* byte rate */
    assert_int_equal(mxrtc_wav_parse(buf, sizeof buf, &info), MXRTC_ERR_MALFORMED);
    make_wav(buf, 1, 0);
    put32(buf + 16, 14);                     /* fmt too short */
    assert_int_equal(mxrtc_wav_parse(buf, sizeof buf, &info), MXRTC_ERR_MALFORMED);
    make_wav(buf, 1, 0);
    put16(buf + 22, 0);                      /* no channels */
    assert_int_equal(mxrtc_wav_parse(buf, sizeof buf, &info), MXRTC_ERR_MALFORMED);
    /* data before fmt */
    uint8_t d[20];
    memcpy(d, "RIFF\0\0\0\0WAVEdata\0\0\0\0", 20);
    assert_int_equal(mxrtc_wav_parse(d, sizeof d, &info), MXRTC_ERR_MALFORMED);
}

static void truncated_headers(void **state) {
    (void)state;
    uint8_t buf[MXRTC_WAV_HEADER_LEN];
    mxrtc_wav_info info;
    make_wav(buf, 2, 0);
    /* Every prefix short of the data chunk header is truncated, never more. */
    for (size_t n = 0; n < MXRTC_WAV_HEADER_LEN; n++)
        assert_int_equal(mxrtc_wav_parse(buf, n, &info), MXRTC_ERR_TRUNCATED);
    assert_int_equal(mxrtc_wav_parse(buf, MXRTC_WAV_HEADER_LEN, &info), MXRTC_OK);
    /* A chunk declaring 4 GiB: truncated, no read past the buffer. */
    uint8_t big[28];
    memcpy(big, "RIFF\0\0\0\0WAVEJUNK\xff\xff\xff\xff", 20);
    assert_int_equal(mxrtc_wav_parse(big, sizeof big, &info), MXRTC_ERR_TRUNCATED);
}

static void chunk_walk_is_bounded(void **state) {
    (void)state;
    /* 100 empty chunks before fmt: more than MXRTC_WAV_MAX_CHUNKS. */
    static uint8_t buf[12 + 100 * 8 + 44];
    memcpy(buf, "RIFF\0\0\0\0WAVE", 12);
    for (int i = 0; i < 100; i++) { memcpy(buf + 12 + 8 * i, "JUNK", 4); put32(buf + 16 + 8 * i, 0); }
    uint8_t canon[MXRTC_WAV_HEADER_LEN];
    mxrtc_wav_write_header(canon, 1, 0);
    memcpy(buf + 12 + 800, canon + 12, 32);
    mxrtc_wav_info info;
    assert_int_equal(mxrtc_wav_parse(buf, 12 + 800 + 32, &info), MXRTC_ERR_LIMIT);
}

static void bad_arguments_and_missing_file(void **state) {
    (void)state;
    uint8_t h[MXRTC_WAV_HEADER_LEN];
    assert_int_equal(mxrtc_wav_write_header(h, 3, 0), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_wav_write_header(h, 1, UINT32_MAX), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_wav_reader r;
    assert_int_equal(mxrtc_wav_reader_open(&r, "/nonexistent/x.wav"), MXRTC_ERR_IO);
    mxrtc_wav_writer w;
    assert_int_equal(mxrtc_wav_writer_open(&w, "/tmp/x.wav", 0), MXRTC_ERR_INVALID_ARGUMENT);
    char path[256];
    media_tmp_path(path, sizeof path, ".wav");
    assert_int_equal(media_write_file(path, "RIFF", 4), 0);
    assert_int_equal(mxrtc_wav_reader_open(&r, path), MXRTC_ERR_TRUNCATED);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_parses_back),
        cmocka_unit_test(file_round_trip_mono_and_stereo),
        cmocka_unit_test(streaming_size_reads_to_end_of_file),
        cmocka_unit_test(skips_other_chunks_with_padding),
        cmocka_unit_test(extensible_pcm_is_accepted),
        cmocka_unit_test(unsupported_formats),
        cmocka_unit_test(malformed_headers),
        cmocka_unit_test(truncated_headers),
        cmocka_unit_test(chunk_walk_is_bounded),
        cmocka_unit_test(bad_arguments_and_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
