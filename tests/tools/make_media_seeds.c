/*
 * make_media_seeds: writes the seed corpora of fuzz_wav, fuzz_y4m and
 * fuzz_ivf with the tools/media writers (so the seeds are what mxrtc itself
 * produces), plus a few hand-made variants the writers never emit.
 *
 *   make_media_seeds FUZZ_CORPUS_DIR     (writes into DIR/fuzz_wav/ etc.)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/media/media.h"

static char base[512];

static const char *at(const char *sub, const char *name) {
    static char p[1024];
    snprintf(p, sizeof p, "%s/%s/%s", base, sub, name);
    return p;
}

static void check(int rc, const char *what) {
    if (rc < 0) {
        fprintf(stderr, "make_media_seeds: %s: %s\n", what, mxrtc_strerror(rc));
        exit(1);
    }
}

static void raw(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) { fprintf(stderr, "cannot write %s\n", path); exit(1); }
}

static void wav(const char *name, unsigned ch, double hz, size_t frames) {
    int16_t pcm[2 * 480];
    mxrtc_tone t;
    check(mxrtc_tone_init(&t, hz, 48000, 0.5), "tone");
    mxrtc_wav_writer w;
    check(mxrtc_wav_writer_open(&w, at("fuzz_wav", name), ch), name);
    for (size_t done = 0; done < frames; done += 480) {
        size_t n = frames - done < 480 ? frames - done : 480;
        mxrtc_tone_fill(&t, pcm, n, ch);
        check(mxrtc_wav_writer_write(&w, pcm, n), name);
    }
    check(mxrtc_wav_writer_close(&w), name);
}

static void y4m(const char *name, unsigned w, unsigned h, unsigned frames, int moving) {
    mxrtc_y4m_file f;
    check(mxrtc_y4m_writer_open(&f, at("fuzz_y4m", name), w, h, 30, 1), name);
    uint8_t *pic = malloc(mxrtc_i420_size(w, h));
    const uint8_t rgb[3] = {200, 40, 60};
    for (unsigned i = 0; i < frames; i++) {
        check(mxrtc_pattern_fill(pic, w, h, rgb, i, moving), name);
        check(mxrtc_y4m_writer_write(&f, pic), name);
    }
    free(pic);
    check(mxrtc_y4m_close(&f), name);
}

static void ivf(const char *name, mxrtc_ivf_codec codec, unsigned frames) {
    mxrtc_ivf_info info = {.codec = codec, .width = 320, .height = 240, .rate = 30, .scale = 1};
    mxrtc_ivf_file f;
    check(mxrtc_ivf_writer_open(&f, at("fuzz_ivf", name), &info), name);
    /* A VP8 key frame starts with a 3-byte tag and the start code 9d 01 2a
     * (RFC 6386 §9.1); the rest is filler. */
    uint8_t frame[64];
    for (unsigned i = 0; i < frames; i++) {
        memset(frame, (int)i, sizeof frame);
        frame[0] = i == 0 ? 0x50 : 0x51;
        frame[1] = 0x02; frame[2] = 0x00;
        frame[3] = 0x9d; frame[4] = 0x01; frame[5] = 0x2a;
        check(mxrtc_ivf_writer_write(&f, frame, 16 + 8 * i, i), name);
    }
    check(mxrtc_ivf_close(&f), name);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: make_media_seeds FUZZ_CORPUS_DIR\n"); return 2; }
    snprintf(base, sizeof base, "%s", argv[1]);
    wav("mono_1000hz.wav", 1, 1000.0, 960);
    wav("stereo_660hz.wav", 2, 660.0, 480);
    wav("empty.wav", 1, 440.0, 0);
    /* WAVE_FORMAT_EXTENSIBLE with the PCM subformat and a LIST chunk first. */
    static const uint8_t ext[] = {
        'R', 'I', 'F', 'F', 80, 0, 0, 0, 'W', 'A', 'V', 'E',
        'L', 'I', 'S', 'T', 3, 0, 0, 0, 'a', 'b', 'c', 0,
        'f', 'm', 't', ' ', 40, 0, 0, 0, 0xfe, 0xff, 2, 0, 0x80, 0xbb, 0, 0, 0x00, 0xee, 2, 0, 4, 0, 16, 0,
        22, 0, 16, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
        'd', 'a', 't', 'a', 8, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    raw(at("fuzz_wav", "extensible_list.wav"), ext, sizeof ext);

    y4m("solid_64x48.y4m", 64, 48, 2, 0);
    y4m("moving_33x17.y4m", 33, 17, 3, 1);
    static const char tags[] = "YUV4MPEG2 W4 H2 F30000:1001 I? A0:0 C420paldv XCOMMENT=yes\nFRAME Ixyz\n"
                               "\x10\x20\x30\x40\x50\x60\x70\x80\x80\x80\x80\x80";
    raw(at("fuzz_y4m", "all_tags.y4m"), tags, sizeof tags - 1);

    ivf("vp8_4frames.ivf", MXRTC_IVF_VP8, 4);
    ivf("vp9_2frames.ivf", MXRTC_IVF_VP9, 2);
    return 0;
}
