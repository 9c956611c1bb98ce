/*
 * signal.h: test signals and measurements for audio and video codecs:
 * sine generation, Goertzel power and peak-frequency search, RMS and
 * correlation over interleaved int16 PCM; I420 pictures (solid colours and a
 * moving pattern), plane means and PSNR. Kept free of codec headers so that
 * it can move to tests/support and serve the rtp/ loop tests as well.
 */
#ifndef MXRTC_TEST_SIGNAL_H
#define MXRTC_TEST_SIGNAL_H

#include <stddef.h>
#include <stdint.h>

/* ---- audio (interleaved int16, `channels` samples per frame) ----------- */

/* Writes channel ch of n frames: amplitude * sin(2 pi hz (start + i) / rate). */
void sig_sine(int16_t *pcm, size_t n, int channels, int ch, double hz, double amplitude,
              double rate, uint64_t start);
/* Goertzel power of channel ch at hz over n frames, Hann-windowed and
 * normalised so that a full-scale sine at hz gives about amplitude^2 / 4. */
double sig_goertzel(const int16_t *pcm, size_t n, int channels, int ch, double hz, double rate);
/* The frequency in [lo, hi] Hz with the most Goertzel power: a scan every
 * `step` Hz refined to step/20 around the best bin. */
double sig_peak_hz(const int16_t *pcm, size_t n, int channels, int ch, double rate,
                   double lo, double hi, double step);
double sig_rms(const int16_t *pcm, size_t n, int channels, int ch);
/* Normalised cross-correlation of channel ch of a[0..n) and b[lag..lag+n). */
double sig_correlation(const int16_t *a, const int16_t *b, size_t n, int channels, int ch,
                       size_t lag);
/* The lag in [0, max_lag] maximising sig_correlation (codec delay search). */
size_t sig_best_lag(const int16_t *ref, const int16_t *out, size_t n, int channels, int ch,
                    size_t max_lag);

/* ---- video (I420) ------------------------------------------------------- */

typedef struct sig_picture {
    uint8_t *y, *u, *v;
    int stride_y, stride_u, stride_v;
    int width, height;
    uint8_t *mem;
} sig_picture;

/* Allocates a width x height picture (strides padded to 32); 0 on success. */
int sig_picture_alloc(sig_picture *p, int width, int height);
void sig_picture_free(sig_picture *p);
void sig_picture_fill(sig_picture *p, uint8_t y, uint8_t u, uint8_t v);
/* A diagonal luma gradient with a bright square that moves with `frame`,
 * and chroma gradients: content that needs motion vectors to code well. */
void sig_picture_pattern(sig_picture *p, int frame);
/* Mean of a plane of w x h bytes with the given stride. */
double sig_plane_mean(const uint8_t *plane, int stride, int w, int h);
/* Luma PSNR in dB between two planes of w x h (99 for identical). */
double sig_plane_psnr(const uint8_t *a, int stride_a, const uint8_t *b, int stride_b,
                      int w, int h);

#endif
