/*
 * media_session.c: the media sources, sinks and measurements of one call of
 * the `mxrtc` command (tools/media_session.h), shared by `mxrtc peer` and
 * `mxrtc call`/`mxrtc answer`.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codecs/codec.h"
#include "tools/media_session.h"

#define MS_REC_BUF (1024 * 1024)

static void ms_log(mxrtc_media_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ms_log(mxrtc_media_session *s, const char *fmt, ...) {
    if (!s->log) return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->log(s->log_user, line);
}

/* ---- options ------------------------------------------------------------- */

bool mxrtc_ms_is_ivf(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && !strcmp(path + n - 4, ".ivf");
}

int mxrtc_ms_parse_opt(mxrtc_ms_opts *o, const char *prog, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    static const char *const with_value[] = {"--audio-hz", "--video-rgb", "--audio-file",
                                             "--video-file", "--record-audio", "--record-video",
                                             "--video-size"};
    size_t k = 0;
    while (k < sizeof with_value / sizeof with_value[0] && strcmp(a, with_value[k])) k++;
    if (k == sizeof with_value / sizeof with_value[0]) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", prog, a);
        return -1;
    }
    const char *v = argv[++*i];
    switch (k) {
    case 0: {
        char *end = NULL;
        o->audio_hz = strtod(v, &end);
        if (end == v || *end) {
            fprintf(stderr, "%s: --audio-hz wants a number\n", prog);
            return -1;
        }
        break;
    }
    case 1: {
        int r, g, b;
        char tail;
        if (sscanf(v, "%d,%d,%d%c", &r, &g, &b, &tail) != 3 || r < 0 || r > 255 || g < 0 || g > 255 || b < 0 ||
            b > 255) {
            fprintf(stderr, "%s: --video-rgb wants R,G,B in 0..255\n", prog);
            return -1;
        }
        o->rgb[0] = (uint8_t)r, o->rgb[1] = (uint8_t)g, o->rgb[2] = (uint8_t)b;
        o->have_rgb = true;
        break;
    }
    case 2: o->audio_file = v; break;
    case 3: o->video_file = v; break;
    case 4: o->record_audio = v; break;
    case 5: o->record_video = v; break;
    default: {
        /* Even sizes only: the I420 picture's chroma planes are half size. */
        unsigned w, h;
        char tail;
        if (sscanf(v, "%ux%u%c", &w, &h, &tail) != 2 || w < 16 || h < 16 || w > 1920 || h > 1088 ||
            ((w | h) & 1u)) {
            fprintf(stderr, "%s: --video-size wants WxH, even, 16x16 to 1920x1088\n", prog);
            return -1;
        }
        o->video_w = w, o->video_h = h;
        break;
    }
    }
    return 1;
}

int mxrtc_ms_check_opts(const mxrtc_ms_opts *o, const char *prog) {
    if (o->audio_hz < 0 || o->audio_hz >= MXRTC_MS_RATE / 2) {
        fprintf(stderr, "%s: --audio-hz out of range\n", prog);
        return -1;
    }
    if (o->record_video) {
        size_t n = strlen(o->record_video);
        if (n < 4 || (strcmp(o->record_video + n - 4, ".y4m") && strcmp(o->record_video + n - 4, ".ivf"))) {
            fprintf(stderr, "%s: --record-video wants a .y4m or .ivf file\n", prog);
            return -1;
        }
    }
    return 0;
}

/* ---- open / close ---------------------------------------------------------- */

int mxrtc_ms_open(mxrtc_media_session *s, const mxrtc_ms_opts *o, mxrtc_ms_log_fn log, void *log_user,
                  mxrtc_time_us now) {
    s->o = *o;
    s->log = log;
    s->log_user = log_user;
    s->start_us = now;
    if (o->audio_hz > 0 && mxrtc_tone_init(&s->tone, o->audio_hz, MXRTC_MS_RATE, 0.3) != MXRTC_OK) return -1;
    if (o->audio_file) {
        int rc = mxrtc_wav_reader_open(&s->wav_in, o->audio_file);
        if (rc) {
            ms_log(s, "--audio-file: %s", mxrtc_strerror(rc));
            return -1;
        }
        s->wav_in_open = true;
    }
    s->pic_w = o->video_w ? o->video_w : MXRTC_MS_VIDEO_W;
    s->pic_h = o->video_h ? o->video_h : MXRTC_MS_VIDEO_H;
    if (o->video_file) {
        if (mxrtc_ms_is_ivf(o->video_file)) {
            int rc = mxrtc_ivf_reader_open(&s->ivf_in, o->video_file);
            if (rc) {
                ms_log(s, "--video-file: %s", mxrtc_strerror(rc));
                return -1;
            }
            s->ivf_in_open = true;
            s->ivf_buf = malloc(MXRTC_IVF_MAX_FRAME);
            if (!s->ivf_buf) return -1;
        } else {
            int rc = mxrtc_y4m_reader_open(&s->y4m_in, o->video_file);
            if (rc) {
                ms_log(s, "--video-file: %s", mxrtc_strerror(rc));
                return -1;
            }
            s->y4m_in_open = true;
            s->pic_w = s->y4m_in.info.width;
            s->pic_h = s->y4m_in.info.height;
        }
    }
    s->picture = malloc(mxrtc_i420_size(s->pic_w, s->pic_h));
    s->rx_pcm = malloc(MXRTC_MS_DETECT_FRAMES * sizeof(int16_t));
    if (!s->picture || !s->rx_pcm) return -1;
    if (o->record_audio) {
        int rc = mxrtc_wav_writer_open(&s->wav_out, o->record_audio, 1);
        if (rc) {
            ms_log(s, "--record-audio: %s", mxrtc_strerror(rc));
            return -1;
        }
        s->wav_out_open = true;
    }
    return 0;
}

void mxrtc_ms_close(mxrtc_media_session *s) {
    if (s->wav_in_open) mxrtc_wav_reader_close(&s->wav_in);
    if (s->y4m_in_open) mxrtc_y4m_close(&s->y4m_in);
    if (s->ivf_in_open) mxrtc_ivf_close(&s->ivf_in);
    if (s->wav_out_open) mxrtc_wav_writer_close(&s->wav_out);
    if (s->y4m_out_open) mxrtc_y4m_close(&s->y4m_out);
    if (s->ivf_out_open) mxrtc_ivf_close(&s->ivf_out);
    s->wav_in_open = s->y4m_in_open = s->ivf_in_open = false;
    s->wav_out_open = s->y4m_out_open = s->ivf_out_open = false;
    mxrtc_video_encoder_free(s->rec_enc);
    free(s->rec_buf);
    free(s->ivf_buf);
    free(s->picture);
    free(s->rx_pcm);
    free(s->rx_pic);
    s->rec_enc = NULL;
    s->rec_buf = s->ivf_buf = s->picture = s->rx_pic = NULL;
    s->rx_pcm = NULL;
}

/* ---- sources ----------------------------------------------------------------- */

void mxrtc_ms_next_audio(mxrtc_media_session *s, int16_t pcm[MXRTC_MS_FRAME]) {
    if (s->wav_in_open) {
        int16_t buf[MXRTC_MS_FRAME * 2];
        int n = mxrtc_wav_reader_read(&s->wav_in, buf, MXRTC_MS_FRAME);
        if (n < 0) n = 0;
        unsigned ch = s->wav_in.info.channels;
        for (int i = 0; i < MXRTC_MS_FRAME; i++) pcm[i] = i < n ? buf[(size_t)i * ch] : 0;
        return;
    }
    if (s->o.audio_hz > 0) {
        mxrtc_tone_fill(&s->tone, pcm, MXRTC_MS_FRAME, 1);
        return;
    }
    memset(pcm, 0, MXRTC_MS_FRAME * sizeof pcm[0]);
}

bool mxrtc_ms_sends_video(const mxrtc_media_session *s) {
    return s->o.have_rgb || s->y4m_in_open || s->ivf_in_open;
}

bool mxrtc_ms_video_due(mxrtc_media_session *s, mxrtc_time_us now) {
    if (now < s->next_video_us) return false;
    s->next_video_us = s->next_video_us ? s->next_video_us + MXRTC_MS_VIDEO_PERIOD_US : now;
    if (now > s->next_video_us + 5 * MXRTC_MS_VIDEO_PERIOD_US) s->next_video_us = now;
    return true;
}

bool mxrtc_ms_next_picture(mxrtc_media_session *s, mxrtc_time_us now, mxrtc_picture *pic) {
    if (s->ivf_in_open) return false;
    if (s->y4m_in_open) {
        size_t fb = mxrtc_i420_size(s->pic_w, s->pic_h);
        int rc = mxrtc_y4m_reader_read(&s->y4m_in, s->picture, fb);
        if (rc == 0) { /* loop at the end of the file */
            mxrtc_y4m_close(&s->y4m_in);
            s->y4m_in_open = mxrtc_y4m_reader_open(&s->y4m_in, s->o.video_file) == MXRTC_OK;
            if (s->y4m_in_open) rc = mxrtc_y4m_reader_read(&s->y4m_in, s->picture, fb);
        }
        if (rc != 1) return false;
    } else {
        /* --video-rgb: that colour, solid; else the test pattern (mid grey,
         * a moving white bar). */
        static const uint8_t grey[3] = {128, 128, 128};
        mxrtc_pattern_fill(s->picture, s->pic_w, s->pic_h, s->o.have_rgb ? s->o.rgb : grey, s->frame_index,
                           !s->o.have_rgb);
    }
    s->frame_index++;
    size_t ys = (size_t)s->pic_w * s->pic_h;
    unsigned cw = (s->pic_w + 1) / 2, ch = (s->pic_h + 1) / 2;
    mxrtc_picture p = {s->picture, s->picture + ys, s->picture + ys + (size_t)cw * ch,
                       (int)s->pic_w, (int)cw, (int)cw, (int)s->pic_w, (int)s->pic_h, now};
    *pic = p;
    return true;
}

bool mxrtc_ms_next_encoded(mxrtc_media_session *s, const uint8_t **data, uint32_t *size, int *key) {
    if (!s->ivf_in_open) return false;
    uint64_t pts = 0;
    int rc = mxrtc_ivf_reader_read(&s->ivf_in, s->ivf_buf, MXRTC_IVF_MAX_FRAME, size, &pts);
    if (rc == 0) { /* loop, so that the first keyframe comes round again */
        mxrtc_ivf_close(&s->ivf_in);
        s->ivf_in_open = mxrtc_ivf_reader_open(&s->ivf_in, s->o.video_file) == MXRTC_OK;
        if (s->ivf_in_open) rc = mxrtc_ivf_reader_read(&s->ivf_in, s->ivf_buf, MXRTC_IVF_MAX_FRAME, size, &pts);
    }
    if (rc != 1) return false;
    /* VP8 (RFC 6386 §9.1): bit 0 of the first byte is 0 on a keyframe;
     * VP9 (profile 0-2 uncompressed header): show_existing 0, frame_type 0. */
    *key = s->ivf_in.info.codec == MXRTC_IVF_VP8 ? !(s->ivf_buf[0] & 1) : !(s->ivf_buf[0] & 0x04);
    *data = s->ivf_buf;
    return true;
}

/* ---- sinks and measurements ------------------------------------------------------ */

void mxrtc_ms_playout(mxrtc_media_session *s, mxrtc_time_us now, const int16_t *pcm, size_t n) {
    if (s->wav_out_open) mxrtc_wav_writer_write(&s->wav_out, pcm, n);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += (double)pcm[i] * pcm[i];
    bool loud = n && sqrt(sum / (double)n) >= MXRTC_MS_AUDIO_THRESHOLD;
    if (loud) s->last_loud_us = now;
    if (!s->first_audio_us) {
        if (loud) {
            s->first_audio_us = now;
            s->first_audio_ms = s->ref_us ? (long)((now - s->ref_us) / 1000) : -1;
            ms_log(s, "first audio %ld ms after the offer", s->first_audio_ms);
        }
        return;
    }
    if (s->audio_done || !s->measure_audio || now < s->first_audio_us + MXRTC_MS_SETTLE_US) return;
    size_t k = MXRTC_MS_DETECT_FRAMES - s->rx_n < n ? MXRTC_MS_DETECT_FRAMES - s->rx_n : n;
    memcpy(s->rx_pcm + s->rx_n, pcm, k * sizeof pcm[0]);
    s->rx_n += k;
    if (s->rx_n < MXRTC_MS_DETECT_FRAMES) return;
    double hz = 0, rms = 0;
    int rc = mxrtc_tone_detect(s->rx_pcm, s->rx_n, 1, MXRTC_MS_RATE, 50, 20000, &hz, &rms);
    if (rc != MXRTC_OK) {
        ms_log(s, "tone detection: %s; measuring again", mxrtc_strerror(rc));
        s->rx_n = 0;
        return;
    }
    s->audio_hz = hz;
    s->audio_done = true;
    ms_log(s, "received tone %.2f Hz (rms %.3f)", hz, rms);
}

bool mxrtc_ms_loud_since(const mxrtc_media_session *s, mxrtc_time_us t) {
    return s->last_loud_us && s->last_loud_us >= t;
}

/* IVF recording: the peer hands out decoded pictures, not the received
 * bitstream, so they are encoded again (VP8, 2 Mbit/s, keyframe every 2 s);
 * the file has the first picture's size (others are skipped). */
static void record_ivf(mxrtc_media_session *s, const mxrtc_picture *pic, unsigned w, unsigned h,
                       mxrtc_time_us now) {
    if (!s->ivf_out_open) {
        if (s->rec_buf) return; /* failed before */
        s->rec_buf = malloc(MS_REC_BUF);
        mxrtc_video_encoder_config ec;
        mxrtc_video_encoder_config_init(&ec, MXRTC_CODEC_VP8);
        ec.width = (int)w;
        ec.height = (int)h;
        ec.bitrate_bps = 2000000;
        ec.keyframe_max_distance = 60;
        mxrtc_ivf_info info = {MXRTC_IVF_VP8, w, h, 1000, 1, 0};
        if (!s->rec_buf || mxrtc_video_encoder_new(&s->rec_enc, &ec, NULL, NULL) != MXRTC_OK ||
            mxrtc_ivf_writer_open(&s->ivf_out, s->o.record_video, &info) != MXRTC_OK) {
            ms_log(s, "--record-video: cannot start the IVF recording");
            return;
        }
        s->ivf_out_open = true;
        s->rec_t0 = now;
    }
    if (s->ivf_out.info.width != w || s->ivf_out.info.height != h) return;
    mxrtc_i420 in = {pic->y, pic->u, pic->v, pic->stride_y, pic->stride_u, pic->stride_v, pic->width, pic->height, now};
    mxrtc_encoded_frame ef;
    memset(&ef, 0, sizeof ef);
    if (mxrtc_video_encode(s->rec_enc, &in, s->rec_buf, MS_REC_BUF, &ef) == MXRTC_OK && ef.len)
        mxrtc_ivf_writer_write(&s->ivf_out, s->rec_buf, ef.len, (now - s->rec_t0) / 1000);
}

void mxrtc_ms_video_frame(mxrtc_media_session *s, mxrtc_time_us now, const mxrtc_picture *pic,
                          const uint8_t *cs) {
    s->frames_decoded++;
    if (!s->first_frame_us) {
        s->first_frame_us = now;
        ms_log(s, "first video frame %dx%d", pic->width, pic->height);
    }
    if (pic->width <= 0 || pic->height <= 0 || pic->width > 4096 || pic->height > 4096) return;
    unsigned w = (unsigned)pic->width, h = (unsigned)pic->height;
    size_t need = mxrtc_i420_size(w, h);
    if (need > s->rx_pic_cap) {
        uint8_t *b = realloc(s->rx_pic, need);
        if (!b) return;
        s->rx_pic = b;
        s->rx_pic_cap = need;
    }
    unsigned cw = (w + 1) / 2, chh = (h + 1) / 2;
    uint8_t *d = s->rx_pic;
    for (unsigned y = 0; y < h; y++) memcpy(d + (size_t)y * w, pic->y + (size_t)y * pic->stride_y, w);
    d += (size_t)w * h;
    for (unsigned y = 0; y < chh; y++) memcpy(d + (size_t)y * cw, pic->u + (size_t)y * pic->stride_u, cw);
    d += (size_t)cw * chh;
    for (unsigned y = 0; y < chh; y++) memcpy(d + (size_t)y * cw, pic->v + (size_t)y * pic->stride_v, cw);
    if (s->measure_video && !s->video_done) {
        /* In the colour space the sender signalled (Chromium: BT.709 full
         * range), else BT.601 limited range. */
        if (cs)
            mxrtc_i420_mean_rgb_cs(s->rx_pic, w, h, cs[2], (cs[3] >> 4) == 2, s->video_rgb);
        else
            mxrtc_i420_mean_rgb(s->rx_pic, w, h, s->video_rgb);
        s->have_video_rgb = true;
    }
    if (s->o.record_video && mxrtc_ms_is_ivf(s->o.record_video)) {
        record_ivf(s, pic, w, h, now);
    } else if (s->o.record_video) {
        if (!s->y4m_out_open && mxrtc_y4m_writer_open(&s->y4m_out, s->o.record_video, w, h, 30, 1) == MXRTC_OK)
            s->y4m_out_open = true;
        if (s->y4m_out_open && s->y4m_out.info.width == w && s->y4m_out.info.height == h)
            mxrtc_y4m_writer_write(&s->y4m_out, s->rx_pic);
    }
}

void mxrtc_ms_tick(mxrtc_media_session *s, mxrtc_time_us now) {
    /* The colour of the last frame is already measured: freeze it. */
    if (s->measure_video && s->frames_decoded && !s->video_done && now >= s->first_frame_us + MXRTC_MS_COLOUR_AFTER_US)
        s->video_done = true;
}

bool mxrtc_ms_stats(mxrtc_media_session *s, mxrtc_time_us now, const char *state, const mxrtc_peer_stats *st,
                    mxrtc_time_us *next_stats_us) {
    if (now < *next_stats_us) return false;
    *next_stats_us = now + 1000000;
    uint64_t in = st->audio_in.bytes + st->video_in.bytes, out = st->audio_out.bytes + st->video_out.bytes;
    uint64_t rtt = st->audio_out.rtt_us ? st->audio_out.rtt_us : st->video_out.rtt_us;
    ms_log(s, "%6.1f s %s rtt %.1f ms in %.0f kbit/s out %.0f kbit/s lost %lld pkts in a%llu/v%llu frames %llu",
           (now - s->start_us) / 1e6, state, rtt / 1000.0, (in - s->last_bytes_in) * 8 / 1000.0,
           (out - s->last_bytes_out) * 8 / 1000.0, (long long)(st->audio_in.packets_lost + st->video_in.packets_lost),
           (unsigned long long)st->audio_in.packets, (unsigned long long)st->video_in.packets,
           (unsigned long long)st->video_in.frames);
    s->last_bytes_in = in;
    s->last_bytes_out = out;
    return true;
}
