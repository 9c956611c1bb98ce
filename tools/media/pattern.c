/*
 * pattern.c: test pictures in I420 and the mean colour of a received one.
 * Colours convert with ITU-R BT.601 in limited ("studio") range, the matrix
 * browsers use for a canvas captured to a video track, so a colour sent by
 * one side and averaged by the other comes back within a few steps.
 */
#include <math.h>
#include <string.h>

#include "tools/media/media.h"

static uint8_t clamp_u8(double v) {
    if (v < 0.0) return 0;
    if (v > 255.0) return 255;
    return (uint8_t)lrint(v);
}

/* BT.601 (Rec. 601 §2.5) limited range: Y in 16..235, Cb/Cr in 16..240. */
static void rgb_to_yuv(const uint8_t rgb[3], uint8_t *y, uint8_t *u, uint8_t *v) {
    double r = rgb[0], g = rgb[1], b = rgb[2];
    *y = clamp_u8(16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0);
    *u = clamp_u8(128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0);
    *v = clamp_u8(128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0);
}

int mxrtc_pattern_fill(uint8_t *i420, unsigned width, unsigned height, const uint8_t rgb[3],
                       unsigned frame_index, int moving) {
    if (!i420 || !rgb || !mxrtc_i420_size(width, height)) return MXRTC_ERR_INVALID_ARGUMENT;
    uint8_t y, u, v;
    rgb_to_yuv(rgb, &y, &u, &v);
    size_t cw = (width + 1u) / 2u, ch = (height + 1u) / 2u;
    uint8_t *yp = i420, *up = i420 + (size_t)width * height, *vp = up + cw * ch;
    memset(yp, y, (size_t)width * height);
    memset(up, u, cw * ch);
    memset(vp, v, cw * ch);
    if (moving) {
        /* A white bar (Y 235, neutral chroma) an eighth of the width wide,
         * moving right by 1/60 of the width per frame: crossing once per
         * 2 s at 30 fps. */
        unsigned bar = width / 8u ? width / 8u : 1u;
        unsigned step = width / 60u ? width / 60u : 1u;
        unsigned x0 = (unsigned)(((uint64_t)frame_index * step) % width);
        for (unsigned row = 0; row < height; row++)
            for (unsigned i = 0; i < bar; i++) yp[(size_t)row * width + (x0 + i) % width] = 235;
        for (unsigned row = 0; row < ch; row++)
            for (unsigned i = 0; i < (bar + 1u) / 2u; i++) {
                size_t x = ((x0 / 2u) + i) % cw;
                up[(size_t)row * cw + x] = 128;
                vp[(size_t)row * cw + x] = 128;
            }
    }
    return MXRTC_OK;
}

static double plane_mean(const uint8_t *p, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return (double)s / (double)n;
}

int mxrtc_i420_mean_rgb(const uint8_t *i420, unsigned width, unsigned height, uint8_t rgb[3]) {
    if (!i420 || !rgb || !mxrtc_i420_size(width, height)) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t cw = (width + 1u) / 2u, ch = (height + 1u) / 2u;
    /* The conversion is linear, so the mean of the planes converts to the
     * mean colour (up to clipping at the range ends). */
    double y = plane_mean(i420, (size_t)width * height) - 16.0;
    double u = plane_mean(i420 + (size_t)width * height, cw * ch) - 128.0;
    double v = plane_mean(i420 + (size_t)width * height + cw * ch, cw * ch) - 128.0;
    rgb[0] = clamp_u8(1.164383 * y + 1.596027 * v);
    rgb[1] = clamp_u8(1.164383 * y - 0.391762 * u - 0.812968 * v);
    rgb[2] = clamp_u8(1.164383 * y + 2.017232 * u);
    return MXRTC_OK;
}

int mxrtc_i420_mean_rgb_cs(const uint8_t *i420, unsigned width, unsigned height, int matrix, int full_range,
                           uint8_t rgb[3]) {
    if (!i420 || !rgb || !mxrtc_i420_size(width, height)) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t cw = (width + 1u) / 2u, ch = (height + 1u) / 2u;
    double y = plane_mean(i420, (size_t)width * height);
    double u = plane_mean(i420 + (size_t)width * height, cw * ch) - 128.0;
    double v = plane_mean(i420 + (size_t)width * height + cw * ch, cw * ch) - 128.0;
    if (!full_range) {
        /* Limited range: Y in 16..235, chroma in 16..240 (BT.601/709). */
        y = (y - 16.0) * (255.0 / 219.0);
        u *= 255.0 / 224.0;
        v *= 255.0 / 224.0;
    }
    /* H.273 MatrixCoefficients 1 is BT.709 (Kr 0.2126, Kb 0.0722); everything
     * else is taken as BT.601 (Kr 0.299, Kb 0.114). */
    double kr = matrix == 1 ? 0.2126 : 0.299, kb = matrix == 1 ? 0.0722 : 0.114, kg = 1.0 - kr - kb;
    double r = y + 2.0 * (1.0 - kr) * v;
    double b = y + 2.0 * (1.0 - kb) * u;
    double g = (y - kr * r - kb * b) / kg;
    rgb[0] = clamp_u8(r);
    rgb[1] = clamp_u8(g);
    rgb[2] = clamp_u8(b);
    return MXRTC_OK;
}
