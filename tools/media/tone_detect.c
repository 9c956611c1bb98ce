/*
 * tone_detect.c: the dominant frequency of a block of PCM, for the result
 * line of `mxrtc peer` ("audio_hz"): a Hann-windowed FFT, the strongest bin
 * and a parabolic fit through the log magnitudes of it and its two
 * neighbours, which puts the estimate within a few hundredths of a bin for a
 * clean tone (the Hann main lobe is close to a Gaussian, for which the fit
 * on log magnitudes is exact).
 */
#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "tools/media/media.h"

#define DETECT_MIN_N 256u
#define DETECT_MAX_N 65536u
#define DETECT_SILENCE_RMS 1e-4

/* In-place iterative radix-2 FFT of n (a power of two) complex values. */
static void fft(double *re, double *im, size_t n) {
    for (size_t i = 1, j = 0; i < n; i++) {
        size_t bit = n >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i]; re[i] = re[j]; re[j] = t;
            t = im[i]; im[i] = im[j]; im[j] = t;
        }
    }
    const double pi = 3.141592653589793;
    for (size_t len = 2; len <= n; len <<= 1) {
        double ang = -2.0 * pi / (double)len;
        for (size_t k = 0; k < len / 2; k++) {
            double wr = cos(ang * (double)k), wi = sin(ang * (double)k);
            for (size_t i = k; i < n; i += len) {
                size_t j = i + len / 2;
                double xr = re[j] * wr - im[j] * wi;
                double xi = re[j] * wi + im[j] * wr;
                re[j] = re[i] - xr;
                im[j] = im[i] - xi;
                re[i] += xr;
                im[i] += xi;
            }
        }
    }
}

int mxrtc_tone_detect(const int16_t *pcm, size_t frames, unsigned channels, unsigned sample_rate,
                      double min_hz, double max_hz, double *hz, double *rms) {
    if (!pcm || !hz || channels == 0 || sample_rate == 0 || frames < DETECT_MIN_N || !(min_hz >= 0.0) ||
        !(max_hz > min_hz))
        return MXRTC_ERR_INVALID_ARGUMENT;
    size_t n = DETECT_MIN_N;
    while (n * 2 <= frames && n * 2 <= DETECT_MAX_N) n *= 2;
    double bin = (double)sample_rate / (double)n;
    size_t kmin = (size_t)ceil(min_hz / bin), kmax = (size_t)floor(max_hz / bin);
    if (kmin < 1) kmin = 1;
    if (kmax > n / 2 - 2) kmax = n / 2 - 2;
    if (kmin > kmax) return MXRTC_ERR_INVALID_ARGUMENT;

    double *re = mxrtc_calloc(NULL, 2 * n, sizeof *re);
    if (!re) return MXRTC_ERR_NO_MEMORY;
    double *im = re + n;
    const int16_t *start = pcm + (frames - n) * channels;   /* the most recent block */
    const double pi = 3.141592653589793;
    double energy = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = start[i * channels] / 32768.0;
        energy += x * x;
        re[i] = x * (0.5 - 0.5 * cos(2.0 * pi * (double)i / (double)n));
    }
    double level = sqrt(energy / (double)n);
    if (rms) *rms = level;
    if (level < DETECT_SILENCE_RMS) {
        mxrtc_free(NULL, re);
        return MXRTC_ERR_NOT_FOUND;
    }
    fft(re, im, n);
    size_t best = kmin;
    double best_mag = -1.0;
    for (size_t k = kmin; k <= kmax; k++) {
        double m = re[k] * re[k] + im[k] * im[k];
        if (m > best_mag) { best_mag = m; best = k; }
    }
    /* Log of the squared magnitude: the fit is the same up to a factor 2
     * in both numerator and denominator. */
    double a = log(re[best - 1] * re[best - 1] + im[best - 1] * im[best - 1] + 1e-300);
    double b = log(best_mag + 1e-300);
    double c = log(re[best + 1] * re[best + 1] + im[best + 1] * im[best + 1] + 1e-300);
    double den = a - 2.0 * b + c;
    double delta = den < 0.0 ? 0.5 * (a - c) / den : 0.0;
    if (delta > 0.5) delta = 0.5;
    if (delta < -0.5) delta = -0.5;
    *hz = ((double)best + delta) * bin;
    mxrtc_free(NULL, re);
    return MXRTC_OK;
}
