/* tools/media signals: the tone generator and detector find each other's
 * frequency; the colour pattern and its mean colour agree. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/random.h"
#include "tools/media/media.h"

#define RATE 48000u

static void detects_generated_tones(void **state) {
    (void)state;
    static int16_t pcm[2 * RATE];
    const double freqs[] = {100.0, 440.0, 660.0, 997.3, 1000.0, 3150.5, 12000.0};
    for (size_t i = 0; i < sizeof freqs / sizeof freqs[0]; i++) {
        for (unsigned ch = 1; ch <= 2; ch++) {
            mxrtc_tone t;
            assert_int_equal(mxrtc_tone_init(&t, freqs[i], RATE, 0.5), MXRTC_OK);
            mxrtc_tone_fill(&t, pcm, RATE / 2, ch);   /* half a second: a 16384-point FFT */
            double hz = 0, rms = 0;
            assert_int_equal(mxrtc_tone_detect(pcm, RATE / 2, ch, RATE, 50, 20000, &hz, &rms), MXRTC_OK);
            /* Within 0.05% (the interop tolerance is 2%); 0.5/sqrt(2) RMS. */
            assert_true(fabs(hz - freqs[i]) <= 0.0005 * freqs[i]);
            assert_true(fabs(rms - 0.5 / sqrt(2.0)) < 0.01);
        }
    }
}

static void tone_in_noise_and_a_weaker_second_tone(void **state) {
    (void)state;
    static int16_t a[RATE / 2], b[RATE / 2];
    mxrtc_tone t1, t2;
    assert_int_equal(mxrtc_tone_init(&t1, 1000.0, RATE, 0.4), MXRTC_OK);
    assert_int_equal(mxrtc_tone_init(&t2, 660.0, RATE, 0.1), MXRTC_OK);
    mxrtc_tone_fill(&t1, a, RATE / 2, 1);
    mxrtc_tone_fill(&t2, b, RATE / 2, 1);
    mxrtc_seeded_random rnd;
    mxrtc_seeded_random_init(&rnd, 42);
    for (size_t i = 0; i < RATE / 2; i++) {
        int noise = (int)(mxrtc_seeded_random_next(&rnd) % 4001) - 2000;    /* about -30 dB */
        a[i] = (int16_t)(a[i] + b[i] + noise);
    }
    double hz = 0;
    assert_int_equal(mxrtc_tone_detect(a, RATE / 2, 1, RATE, 50, 20000, &hz, NULL), MXRTC_OK);
    assert_true(fabs(hz - 1000.0) < 1.0);
    /* Limited to a band around the weaker tone, it finds that one. */
    assert_int_equal(mxrtc_tone_detect(a, RATE / 2, 1, RATE, 500, 800, &hz, NULL), MXRTC_OK);
    assert_true(fabs(hz - 660.0) < 1.0);
}

static void silence_and_bad_arguments(void **state) {
    (void)state;
    static int16_t z[4096];
    memset(z, 0, sizeof z);
    double hz = 0, rms = 1;
    assert_int_equal(mxrtc_tone_detect(z, 4096, 1, RATE, 50, 20000, &hz, &rms), MXRTC_ERR_NOT_FOUND);
    assert_true(rms == 0.0);
    assert_int_equal(mxrtc_tone_detect(z, 255, 1, RATE, 50, 20000, &hz, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_tone_detect(z, 4096, 0, RATE, 50, 20000, &hz, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_tone_detect(z, 4096, 1, RATE, 500, 400, &hz, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_tone_detect(z, 4096, 1, RATE, 30000, 40000, &hz, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_tone t;
    assert_int_equal(mxrtc_tone_init(&t, 24000.0, RATE, 0.5), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_tone_init(&t, 0.0, RATE, 0.5), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_tone_init(&t, 440.0, RATE, 1.5), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_tone_init(&t, NAN, RATE, 0.5), MXRTC_ERR_INVALID_ARGUMENT);
}

static void full_scale_tone_does_not_wrap(void **state) {
    (void)state;
    int16_t pcm[480];
    mxrtc_tone t;
    assert_int_equal(mxrtc_tone_init(&t, 100.0, RATE, 1.0), MXRTC_OK);
    mxrtc_tone_fill(&t, pcm, 480, 1);
    int16_t lo = 0, hi = 0;
    for (int i = 0; i < 480; i++) { if (pcm[i] < lo) lo = pcm[i]; if (pcm[i] > hi) hi = pcm[i]; }
    assert_int_equal(hi, 32767);
    assert_int_equal(lo, -32767);
}

static void colours_survive_i420(void **state) {
    (void)state;
    const uint8_t colours[][3] = {{200, 40, 60}, {40, 110, 210}, {255, 0, 0}, {0, 0, 0}, {255, 255, 255},
                                  {128, 128, 128}};
    const unsigned w = 64, h = 48;
    uint8_t *pic = malloc(mxrtc_i420_size(w, h));
    assert_non_null(pic);
    for (size_t i = 0; i < sizeof colours / sizeof colours[0]; i++) {
        assert_int_equal(mxrtc_pattern_fill(pic, w, h, colours[i], 0, 0), MXRTC_OK);
        uint8_t back[3];
        assert_int_equal(mxrtc_i420_mean_rgb(pic, w, h, back), MXRTC_OK);
        /* 8-bit YUV quantisation: within 2 steps per channel. */
        for (int c = 0; c < 3; c++) assert_true(abs((int)back[c] - (int)colours[i][c]) <= 2);
        /* Studio range: Y 16..235. */
        assert_true(pic[0] >= 16 && pic[0] <= 235);
    }
    free(pic);
}

/* The planes Chromium's canvas capture produced for (200,40,60), measured in
 * an interop call (BT.709 full range, tagged with the color-space RTP
 * extension): Y 75, U 119, V 207. Read as BT.709 full range they give the
 * colour back; read as BT.601 limited range they are 32 off in green. */
static void colour_space_conversion(void **state) {
    (void)state;
    const unsigned w = 16, h = 16;
    uint8_t pic[16 * 16 * 3 / 2];
    memset(pic, 75, (size_t)w * h);
    memset(pic + w * h, 119, w * h / 4);
    memset(pic + w * h + w * h / 4, 207, w * h / 4);
    uint8_t rgb[3];
    assert_int_equal(mxrtc_i420_mean_rgb_cs(pic, w, h, 1, 1, rgb), MXRTC_OK);
    const uint8_t want[3] = {200, 40, 60};
    for (int c = 0; c < 3; c++) assert_true(abs((int)rgb[c] - (int)want[c]) <= 2);
    assert_int_equal(mxrtc_i420_mean_rgb(pic, w, h, rgb), MXRTC_OK);
    assert_true(abs((int)rgb[1] - 40) > 20);
    /* BT.601 limited through the _cs function equals the plain one. */
    uint8_t a[3], b[3];
    assert_int_equal(mxrtc_pattern_fill(pic, w, h, want, 0, 0), MXRTC_OK);
    assert_int_equal(mxrtc_i420_mean_rgb(pic, w, h, a), MXRTC_OK);
    assert_int_equal(mxrtc_i420_mean_rgb_cs(pic, w, h, 6, 0, b), MXRTC_OK);
    for (int c = 0; c < 3; c++) assert_true(abs((int)a[c] - (int)b[c]) <= 1);
    assert_int_equal(mxrtc_i420_mean_rgb_cs(pic, 0, h, 1, 1, b), MXRTC_ERR_INVALID_ARGUMENT);
}

static void moving_bar_moves(void **state) {
    (void)state;
    const unsigned w = 120, h = 20;
    size_t n = mxrtc_i420_size(w, h);
    uint8_t *a = malloc(n), *b = malloc(n);
    assert_non_null(a);
    assert_non_null(b);
    const uint8_t black[3] = {0, 0, 0};
    assert_int_equal(mxrtc_pattern_fill(a, w, h, black, 0, 1), MXRTC_OK);
    assert_int_equal(mxrtc_pattern_fill(b, w, h, black, 1, 1), MXRTC_OK);
    assert_int_equal(a[0], 235);          /* the bar starts at the left edge */
    assert_int_equal(a[w / 8], 16);       /* and is w/8 wide */
    assert_int_equal(b[0], 16);           /* one frame later it has moved by w/60 */
    assert_int_equal(b[2], 235);
    assert_memory_not_equal(a, b, n);
    assert_int_equal(mxrtc_pattern_fill(a, 0, h, black, 0, 1), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_i420_mean_rgb(a, w, 9000, (uint8_t[3]){0}), MXRTC_ERR_INVALID_ARGUMENT);
    free(a);
    free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(detects_generated_tones),
        cmocka_unit_test(tone_in_noise_and_a_weaker_second_tone),
        cmocka_unit_test(silence_and_bad_arguments),
        cmocka_unit_test(full_scale_tone_does_not_wrap),
        cmocka_unit_test(colours_survive_i420),
        cmocka_unit_test(moving_bar_moves),
        cmocka_unit_test(colour_space_conversion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
