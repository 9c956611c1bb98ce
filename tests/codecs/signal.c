#include "signal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

void sig_sine(int16_t *pcm, size_t n, int channels, int ch, double hz, double amplitude,
              double rate, uint64_t start) {
    for (size_t i = 0; i < n; i++) {
        double v = amplitude * sin(2.0 * M_PI * hz * (double)(start + i) / rate);
        if (v > 32767.0) v = 32767.0;
        if (v < -32768.0) v = -32768.0;
        pcm[i * (size_t)channels + (size_t)ch] = (int16_t)lrint(v);
    }
}

double sig_goertzel(const int16_t *pcm, size_t n, int channels, int ch, double hz, double rate) {
    if (n < 2) return 0.0;
    double w = 2.0 * M_PI * hz / rate;
    double coeff = 2.0 * cos(w);
    double s1 = 0.0, s2 = 0.0, wsum = 0.0;
    for (size_t i = 0; i < n; i++) {
        double win = 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)(n - 1));
        wsum += win;
        double s0 = win * pcm[i * (size_t)channels + (size_t)ch] + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double re = s1 - s2 * cos(w);
    double im = s2 * sin(w);
    /* |X|^2 of a windowed sine of amplitude A is (A wsum / 2)^2. */
    double norm = wsum / 2.0;
    return (re * re + im * im) / (norm * norm) / 4.0;
}

double sig_peak_hz(const int16_t *pcm, size_t n, int channels, int ch, double rate,
                   double lo, double hi, double step) {
    double best = lo, best_p = -1.0;
    for (double f = lo; f <= hi; f += step) {
        double p = sig_goertzel(pcm, n, channels, ch, f, rate);
        if (p > best_p) {
            best_p = p;
            best = f;
        }
    }
    double center = best;
    for (double f = center - step; f <= center + step; f += step / 20.0) {
        double p = sig_goertzel(pcm, n, channels, ch, f, rate);
        if (p > best_p) {
            best_p = p;
            best = f;
        }
    }
    return best;
}

double sig_rms(const int16_t *pcm, size_t n, int channels, int ch) {
    if (n == 0) return 0.0;
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        double v = pcm[i * (size_t)channels + (size_t)ch];
        acc += v * v;
    }
    return sqrt(acc / (double)n);
}

double sig_correlation(const int16_t *a, const int16_t *b, size_t n, int channels, int ch,
                       size_t lag) {
    double ab = 0.0, aa = 0.0, bb = 0.0;
    for (size_t i = 0; i < n; i++) {
        double x = a[i * (size_t)channels + (size_t)ch];
        double y = b[(i + lag) * (size_t)channels + (size_t)ch];
        ab += x * y;
        aa += x * x;
        bb += y * y;
    }
    if (aa <= 0.0 || bb <= 0.0) return 0.0;
    return ab / sqrt(aa * bb);
}

size_t sig_best_lag(const int16_t *ref, const int16_t *out, size_t n, int channels, int ch,
                    size_t max_lag) {
    size_t best = 0;
    double best_c = -2.0;
    for (size_t lag = 0; lag <= max_lag; lag++) {
        double c = sig_correlation(ref, out, n, channels, ch, lag);
        if (c > best_c) {
            best_c = c;
            best = lag;
        }
    }
    return best;
}

int sig_picture_alloc(sig_picture *p, int width, int height) {
    memset(p, 0, sizeof *p);
    int cw = (width + 1) / 2, chh = (height + 1) / 2;
    p->width = width;
    p->height = height;
    p->stride_y = (width + 31) / 32 * 32;
    p->stride_u = p->stride_v = (cw + 31) / 32 * 32;
    size_t ysz = (size_t)p->stride_y * (size_t)height;
    size_t csz = (size_t)p->stride_u * (size_t)chh;
    p->mem = malloc(ysz + 2 * csz);
    if (!p->mem) return -1;
    p->y = p->mem;
    p->u = p->mem + ysz;
    p->v = p->mem + ysz + csz;
    return 0;
}

void sig_picture_free(sig_picture *p) {
    free(p->mem);
    memset(p, 0, sizeof *p);
}

void sig_picture_fill(sig_picture *p, uint8_t y, uint8_t u, uint8_t v) {
    int cw = (p->width + 1) / 2, chh = (p->height + 1) / 2;
    for (int r = 0; r < p->height; r++) memset(p->y + (size_t)r * (size_t)p->stride_y, y, (size_t)p->width);
    for (int r = 0; r < chh; r++) {
        memset(p->u + (size_t)r * (size_t)p->stride_u, u, (size_t)cw);
        memset(p->v + (size_t)r * (size_t)p->stride_v, v, (size_t)cw);
    }
}

void sig_picture_pattern(sig_picture *p, int frame) {
    int cw = (p->width + 1) / 2, chh = (p->height + 1) / 2;
    int sq = p->height / 4;
    int sx = (frame * 6) % (p->width - sq > 0 ? p->width - sq : 1);
    int sy = (frame * 3) % (p->height - sq > 0 ? p->height - sq : 1);
    for (int r = 0; r < p->height; r++) {
        uint8_t *row = p->y + (size_t)r * (size_t)p->stride_y;
        for (int c = 0; c < p->width; c++) {
            int v = 40 + ((c + r + frame * 2) % 128);
            if (c >= sx && c < sx + sq && r >= sy && r < sy + sq) v = 235;
            row[c] = (uint8_t)v;
        }
    }
    for (int r = 0; r < chh; r++) {
        for (int c = 0; c < cw; c++) {
            p->u[(size_t)r * (size_t)p->stride_u + (size_t)c] = (uint8_t)(96 + (c * 64) / (cw ? cw : 1));
            p->v[(size_t)r * (size_t)p->stride_v + (size_t)c] = (uint8_t)(96 + (r * 64) / (chh ? chh : 1));
        }
    }
}

double sig_plane_mean(const uint8_t *plane, int stride, int w, int h) {
    double acc = 0.0;
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) acc += plane[(size_t)r * (size_t)stride + (size_t)c];
    return (w > 0 && h > 0) ? acc / ((double)w * (double)h) : 0.0;
}

double sig_plane_psnr(const uint8_t *a, int stride_a, const uint8_t *b, int stride_b,
                      int w, int h) {
    double se = 0.0;
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++) {
            double d = (double)a[(size_t)r * (size_t)stride_a + (size_t)c] -
                       (double)b[(size_t)r * (size_t)stride_b + (size_t)c];
            se += d * d;
        }
    double mse = se / ((double)w * (double)h);
    if (mse <= 1e-10) return 99.0;
    return 10.0 * log10(255.0 * 255.0 / mse);
}
