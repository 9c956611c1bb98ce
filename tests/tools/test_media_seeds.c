/* The committed fuzz seeds of fuzz_wav, fuzz_y4m and fuzz_ivf are valid
 * files (so the fuzzers start from inputs that reach past the headers) and
 * read back through the file readers to their last frame. */
#include "media_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tools/media/media.h"

static const char *seed(const char *sub, const char *name) {
    static char p[1024];
    snprintf(p, sizeof p, "%s/fuzz/corpus/%s/%s", MXRTC_SOURCE_DIR, sub, name);
    return p;
}

static void wav_seeds(void **state) {
    (void)state;
    const struct { const char *name; unsigned ch; int frames; } s[] = {
        {"mono_1000hz.wav", 1, 960}, {"stereo_660hz.wav", 2, 480}, {"empty.wav", 1, 0}, {"extensible_list.wav", 2, 2}};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        mxrtc_wav_reader r;
        assert_int_equal(mxrtc_wav_reader_open(&r, seed("fuzz_wav", s[i].name)), MXRTC_OK);
        assert_int_equal(r.info.channels, s[i].ch);
        int16_t pcm[2 * 1024];
        assert_int_equal(mxrtc_wav_reader_read(&r, pcm, 1024), s[i].frames);
        if (i == 0) {
            double hz = 0;
            assert_int_equal(mxrtc_tone_detect(pcm, 960, 1, 48000, 50, 20000, &hz, NULL), MXRTC_OK);
            assert_true(hz > 990.0 && hz < 1010.0);   /* 512-point FFT: 94 Hz bins */
        }
        mxrtc_wav_reader_close(&r);
    }
}

static void y4m_seeds(void **state) {
    (void)state;
    const struct { const char *name; int frames; } s[] = {
        {"solid_64x48.y4m", 2}, {"moving_33x17.y4m", 3}, {"all_tags.y4m", 1}};
    uint8_t pic[64 * 48 * 3 / 2];
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        mxrtc_y4m_file f;
        assert_int_equal(mxrtc_y4m_reader_open(&f, seed("fuzz_y4m", s[i].name)), MXRTC_OK);
        for (int k = 0; k < s[i].frames; k++) assert_int_equal(mxrtc_y4m_reader_read(&f, pic, sizeof pic), 1);
        assert_int_equal(mxrtc_y4m_reader_read(&f, pic, sizeof pic), 0);
        mxrtc_y4m_close(&f);
    }
}

static void ivf_seeds(void **state) {
    (void)state;
    const struct { const char *name; int frames; mxrtc_ivf_codec codec; } s[] = {
        {"vp8_4frames.ivf", 4, MXRTC_IVF_VP8}, {"vp9_2frames.ivf", 2, MXRTC_IVF_VP9}};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        mxrtc_ivf_file f;
        assert_int_equal(mxrtc_ivf_reader_open(&f, seed("fuzz_ivf", s[i].name)), MXRTC_OK);
        assert_int_equal(f.info.codec, s[i].codec);
        assert_int_equal(f.info.frame_count, (uint32_t)s[i].frames);
        uint8_t buf[256];
        uint32_t size;
        uint64_t pts;
        for (int k = 0; k < s[i].frames; k++) assert_int_equal(mxrtc_ivf_reader_read(&f, buf, sizeof buf, &size, &pts), 1);
        assert_int_equal(mxrtc_ivf_reader_read(&f, buf, sizeof buf, &size, &pts), 0);
        mxrtc_ivf_close(&f);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wav_seeds),
        cmocka_unit_test(y4m_seeds),
        cmocka_unit_test(ivf_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
