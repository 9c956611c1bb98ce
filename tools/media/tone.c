/*
 * tone.c: a sine-tone generator, the audio source of `mxrtc peer --tone`
 * and of the interop tests (the receiving side finds its frequency again).
 */
#include <math.h>

#include "tools/media/media.h"

int mxrtc_tone_init(mxrtc_tone *t, double hz, unsigned sample_rate, double amplitude) {
    if (!t || sample_rate == 0 || !(hz > 0.0) || !(hz < sample_rate / 2.0) || !(amplitude >= 0.0) ||
        !(amplitude <= 1.0))
        return MXRTC_ERR_INVALID_ARGUMENT;
    t->phase = 0.0;
    t->step = hz / sample_rate;
    t->amplitude = amplitude;
    return MXRTC_OK;
}

void mxrtc_tone_fill(mxrtc_tone *t, int16_t *pcm, size_t frames, unsigned channels) {
    const double two_pi = 6.283185307179586;
    for (size_t i = 0; i < frames; i++) {
        /* 32767, not 32768: a full-scale positive peak must not wrap. */
        double v = t->amplitude * 32767.0 * sin(two_pi * t->phase);
        int16_t s = (int16_t)lrint(v);
        for (unsigned c = 0; c < channels; c++) pcm[i * channels + c] = s;
        /* The phase is kept in [0, 1) so precision does not decay over a long call. */
        t->phase += t->step;
        if (t->phase >= 1.0) t->phase -= 1.0;
    }
}
