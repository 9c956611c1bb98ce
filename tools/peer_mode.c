/*
 * peer_mode.c: `mxrtc peer`, one side of a call driven by JSON-lines
 * signalling on stdin/stdout (docs/interop.md, "The signalling protocol"):
 * offer/answer/candidate/end-of-candidates/bye in and out, `ready` once,
 * `result` when the media checks are done. Diagnostics and live stats go to
 * stderr only; credentials are never printed.
 *
 * Threads: the main thread reads stdin and hands every signalling step to
 * the runner's I/O thread (mxrtc_net_runner_call_wait: one peer input per
 * command, the runner drains after each). Media is paced on the I/O thread
 * by the peer engine's tick (net/engine_peer.h): every 10 ms one audio
 * frame is pushed and 10 ms of playout pulled, every 1/30 s a picture
 * pushed; the clock is the runner's monotonic clock, nothing sleeps.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mxrtc.h"
#include "net/clock.h"
#include "net/engine_peer.h"
#include "net/interfaces.h"
#include "net/runner.h"
#include "codecs/codec.h"
#include "peer/peer.h"
#include "stun/turn_uri.h"
#include "tools/media/media.h"
#include "tools/peer_mode.h"

#define PM_RATE 48000
#define PM_FRAME 480                 /* 10 ms */
#define PM_TICK_US 10000
#define PM_VIDEO_W 320
#define PM_VIDEO_H 240
#define PM_VIDEO_PERIOD_US 33333
#define PM_DETECT_FRAMES 32768       /* ~0.68 s of received tone analysed */
#define PM_SETTLE_US 500000          /* skip the first 0.5 s after first audio */
#define PM_COLOUR_AFTER_US 1500000   /* colour measured 1.5 s after the first frame */
#define PM_SDP_MAX 65536
#define PM_AUDIO_THRESHOLD 328       /* -40 dBFS RMS of int16 full scale */

typedef struct pm_opts {
    bool offer, answer, renegotiate, relay_only, hangup, mdns_off;
    double audio_hz;
    bool have_rgb;
    uint8_t rgb[3];
    const char *turn, *turn_user, *turn_pass;
    const char *audio_file, *video_file, *record_audio, *record_video;
    const char *name;
    double timeout_s;
    unsigned video_w, video_h;       /* --video-size: the generated picture's size */
} pm_opts;

typedef struct pm {
    pm_opts o;
    mxrtc_net_runner *runner;
    mxrtc_net_peer adapter;
    mxrtc_peer *peer;
    pthread_mutex_t out_lock;        /* stdout and stderr lines */
    int wake[2];                     /* I/O thread -> main: something to do */
    volatile sig_atomic_t stop_signal;

    /* ---- I/O thread only below ---- */
    mxrtc_time_us start_us, offer_us, next_video_us, next_stats_us;
    mxrtc_tone tone;
    mxrtc_wav_reader wav_in;
    bool wav_in_open;
    mxrtc_y4m_file y4m_in;
    bool y4m_in_open;
    mxrtc_ivf_file ivf_in;
    bool ivf_in_open;
    uint8_t *ivf_buf;
    uint8_t *picture;                /* I420 to send */
    unsigned pic_w, pic_h;
    unsigned frame_index;
    int tick_step;                   /* 0: audio, 1: video, 2: done */
    mxrtc_wav_writer wav_out;
    bool wav_out_open;
    mxrtc_y4m_file y4m_out;
    bool y4m_out_open;
    mxrtc_ivf_file ivf_out;          /* --record-video *.ivf: decoded pictures re-encoded */
    bool ivf_out_open;
    mxrtc_video_encoder *rec_enc;
    uint8_t *rec_buf;
    mxrtc_time_us rec_t0;
    /* measurements */
    int16_t *rx_pcm;                 /* PM_DETECT_FRAMES after the settle time */
    size_t rx_n;
    mxrtc_time_us first_audio_us;    /* 0: not yet */
    long first_audio_ms;
    bool audio_done;
    double audio_hz;
    uint64_t frames_decoded;
    mxrtc_time_us first_frame_us;
    bool video_done;
    uint8_t video_rgb[3];
    uint8_t *rx_pic;                 /* packed copy of a received picture */
    size_t rx_pic_cap;
    bool result_written;
    bool video_started;              /* renegotiation offer made */
    int reneg_step;                  /* 0: none, 1: create offer, 2: set local */
    uint64_t last_bytes_in, last_bytes_out;
    mxrtc_peer_state state;
    bool want_exit;                  /* --hangup: done; main thread hangs up */
} pm;

static pm g;

/* ---- output ------------------------------------------------------------- */

static void emit(cJSON *j) {
    char *s = cJSON_PrintUnformatted(j);
    if (s) {
        pthread_mutex_lock(&g.out_lock);
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        pthread_mutex_unlock(&g.out_lock);
        free(s);
    }
    cJSON_Delete(j);
}

static void emit_type(const char *type) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", type);
    emit(j);
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&g.out_lock);
    fprintf(stderr, "[%s] ", g.o.name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&g.out_lock);
    va_end(ap);
}

static void wake_main(void) {
    char c = 1;
    ssize_t n = write(g.wake[1], &c, 1);
    (void)n;
}

static const char *state_name(mxrtc_peer_state s) {
    static const char *n[] = {"new", "connecting", "connected", "disconnected", "failed", "closed"};
    return (unsigned)s < 6 ? n[s] : "?";
}

/* ---- media (I/O thread) --------------------------------------------------- */

static void write_result(void) {
    mxrtc_peer_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    mxrtc_peer_get_stats(g.peer, &st);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", "result");
    if (g.o.audio_hz > 0) {
        cJSON_AddNumberToObject(j, "audio_hz", round(g.audio_hz * 100) / 100);
        cJSON_AddNumberToObject(j, "first_audio_ms", (double)g.first_audio_ms);
    }
    if (g.o.have_rgb) {
        int rgb[3] = {g.video_rgb[0], g.video_rgb[1], g.video_rgb[2]};
        cJSON_AddItemToObject(j, "video_rgb", cJSON_CreateIntArray(rgb, 3));
        cJSON_AddNumberToObject(j, "frames_decoded", (double)st.video_in.frames);
    }
    cJSON_AddNumberToObject(j, "packets_received", (double)(st.audio_in.packets + st.video_in.packets));
    cJSON_AddNumberToObject(j, "audio_packets_received", (double)st.audio_in.packets);
    cJSON_AddNumberToObject(j, "video_packets_received", (double)st.video_in.packets);
    cJSON_AddNumberToObject(j, "packets_sent", (double)(st.audio_out.packets + st.video_out.packets));
    cJSON_AddNumberToObject(j, "bytes_received", (double)(st.audio_in.bytes + st.video_in.bytes));
    emit(j);
    g.result_written = true;
    diag("result written");
    if (g.o.hangup) {
        g.want_exit = true;
        wake_main();
    }
}

static void check_done(void) {
    if (g.result_written) return;
    bool audio_ok = g.o.audio_hz <= 0 || g.audio_done;
    bool video_ok = !g.o.have_rgb || g.video_done;
    if (audio_ok && video_ok) write_result();
}

/* Playout: 10 ms pulled per tick, recorded, and measured. */
static void take_playout(mxrtc_time_us now) {
    int16_t pcm[PM_FRAME];
    if (mxrtc_peer_pull_audio(g.peer, now, pcm, PM_FRAME) != MXRTC_OK) return;
    if (g.wav_out_open) mxrtc_wav_writer_write(&g.wav_out, pcm, PM_FRAME);
    if (!g.first_audio_us) {
        double sum = 0;
        for (size_t i = 0; i < PM_FRAME; i++) sum += (double)pcm[i] * pcm[i];
        if (sqrt(sum / PM_FRAME) >= PM_AUDIO_THRESHOLD) {
            g.first_audio_us = now;
            g.first_audio_ms = g.offer_us ? (long)((now - g.offer_us) / 1000) : -1;
            diag("first audio %ld ms after the offer", g.first_audio_ms);
        }
        return;
    }
    if (g.audio_done || now < g.first_audio_us + PM_SETTLE_US || g.o.audio_hz <= 0) return;
    size_t n = PM_DETECT_FRAMES - g.rx_n < PM_FRAME ? PM_DETECT_FRAMES - g.rx_n : PM_FRAME;
    memcpy(g.rx_pcm + g.rx_n, pcm, n * sizeof pcm[0]);
    g.rx_n += n;
    if (g.rx_n < PM_DETECT_FRAMES) return;
    double hz = 0, rms = 0;
    int rc = mxrtc_tone_detect(g.rx_pcm, g.rx_n, 1, PM_RATE, 50, 20000, &hz, &rms);
    if (rc != MXRTC_OK) {
        diag("tone detection: %s; measuring again", mxrtc_strerror(rc));
        g.rx_n = 0;
        return;
    }
    g.audio_hz = hz;
    g.audio_done = true;
    diag("received tone %.2f Hz (rms %.3f)", hz, rms);
    check_done();
}

static void next_audio_frame(int16_t *pcm) {
    if (g.wav_in_open) {
        int16_t buf[PM_FRAME * 2];
        int n = mxrtc_wav_reader_read(&g.wav_in, buf, PM_FRAME);
        if (n < 0) n = 0;
        unsigned ch = g.wav_in.info.channels;
        for (int i = 0; i < PM_FRAME; i++) pcm[i] = i < n ? buf[(size_t)i * ch] : 0;
        return;
    }
    if (g.o.audio_hz > 0) {
        mxrtc_tone_fill(&g.tone, pcm, PM_FRAME, 1);
        return;
    }
    memset(pcm, 0, PM_FRAME * sizeof pcm[0]);
}

static bool sends_video(void) {
    return g.o.have_rgb || g.y4m_in_open || g.ivf_in_open;
}

static void push_video(mxrtc_time_us now) {
    if (g.ivf_in_open) {
        /* Encoded frames: wait for the connection (frames pushed before it
         * are dropped, and the keyframe with them), loop at the end of the
         * file so that its first keyframe comes round again. */
        if (g.state != MXRTC_PEER_STATE_CONNECTED) return;
        uint32_t size = 0;
        uint64_t pts = 0;
        int rc = mxrtc_ivf_reader_read(&g.ivf_in, g.ivf_buf, MXRTC_IVF_MAX_FRAME, &size, &pts);
        if (rc == 0) {
            mxrtc_ivf_close(&g.ivf_in);
            g.ivf_in_open = mxrtc_ivf_reader_open(&g.ivf_in, g.o.video_file) == MXRTC_OK;
            if (g.ivf_in_open) rc = mxrtc_ivf_reader_read(&g.ivf_in, g.ivf_buf, MXRTC_IVF_MAX_FRAME, &size, &pts);
        }
        if (rc != 1) return;
        /* VP8 (RFC 6386 §9.1): bit 0 of the first byte is 0 on a keyframe;
         * VP9 (profile 0-2 uncompressed header): show_existing 0, frame_type 0. */
        int key = g.ivf_in.info.codec == MXRTC_IVF_VP8 ? !(g.ivf_buf[0] & 1) : !(g.ivf_buf[0] & 0x04);
        mxrtc_peer_push_encoded(g.peer, now, MXRTC_MEDIA_VIDEO, g.ivf_buf, size, now, key);
        return;
    }
    if (g.y4m_in_open) {
        size_t fb = mxrtc_i420_size(g.pic_w, g.pic_h);
        int rc = mxrtc_y4m_reader_read(&g.y4m_in, g.picture, fb);
        if (rc == 0) {  /* loop at the end of the file */
            mxrtc_y4m_close(&g.y4m_in);
            g.y4m_in_open = mxrtc_y4m_reader_open(&g.y4m_in, g.o.video_file) == MXRTC_OK;
            if (g.y4m_in_open) rc = mxrtc_y4m_reader_read(&g.y4m_in, g.picture, fb);
        }
        if (rc != 1) return;
    } else {
        mxrtc_pattern_fill(g.picture, g.pic_w, g.pic_h, g.o.rgb, g.frame_index, 0);
    }
    g.frame_index++;
    size_t ys = (size_t)g.pic_w * g.pic_h;
    unsigned cw = (g.pic_w + 1) / 2, ch = (g.pic_h + 1) / 2;
    mxrtc_picture pic = {g.picture, g.picture + ys, g.picture + ys + (size_t)cw * ch,
                         (int)g.pic_w, (int)cw, (int)cw, (int)g.pic_w, (int)g.pic_h, now};
    mxrtc_peer_push_video(g.peer, now, &pic);
}

static void print_stats(mxrtc_time_us now) {
    mxrtc_peer_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    if (mxrtc_peer_get_stats(g.peer, &st) != MXRTC_OK) return;
    uint64_t in = st.audio_in.bytes + st.video_in.bytes, out = st.audio_out.bytes + st.video_out.bytes;
    uint64_t rtt = st.audio_out.rtt_us ? st.audio_out.rtt_us : st.video_out.rtt_us;
    diag("%6.1f s %s rtt %.1f ms in %.0f kbit/s out %.0f kbit/s lost %lld pkts in a%llu/v%llu frames %llu",
         (now - g.start_us) / 1e6, state_name(st.state), rtt / 1000.0, (in - g.last_bytes_in) * 8 / 1000.0,
         (out - g.last_bytes_out) * 8 / 1000.0, (long long)(st.audio_in.packets_lost + st.video_in.packets_lost),
         (unsigned long long)st.audio_in.packets, (unsigned long long)st.video_in.packets,
         (unsigned long long)st.video_in.frames);
    g.last_bytes_in = in;
    g.last_bytes_out = out;
}

static bool tick(void *user, mxrtc_peer *p, mxrtc_time_us now, int first) {
    (void)user;
    (void)p;
    if (first) g.tick_step = 0;
    switch (g.tick_step++) {
    case 0: {
        int16_t pcm[PM_FRAME];
        next_audio_frame(pcm);
        mxrtc_peer_push_audio(g.peer, now, pcm, PM_FRAME);
        take_playout(now);
        if (now >= g.next_stats_us) {
            print_stats(now);
            g.next_stats_us = now + 1000000;
        }
        if (g.o.have_rgb && g.frames_decoded && !g.video_done && now >= g.first_frame_us + PM_COLOUR_AFTER_US)
            g.video_done = true;  /* the colour of the last frame is already measured */
        if (g.video_done) check_done();
        return true;
    }
    case 1:
        if (sends_video() && now >= g.next_video_us) {
            g.next_video_us = g.next_video_us ? g.next_video_us + PM_VIDEO_PERIOD_US : now;
            if (now > g.next_video_us + 5 * PM_VIDEO_PERIOD_US) g.next_video_us = now;
            push_video(now);
        }
        return true;
    case 2:
        /* Renegotiation (--renegotiate, offerer): add video once audio is heard. */
        if (g.o.renegotiate && !g.video_started && g.first_audio_us && g.state == MXRTC_PEER_STATE_CONNECTED) {
            g.video_started = true;
            g.reneg_step = 1;
            wake_main();
        }
        return false;
    default:
        return false;
    }
}

static bool is_ivf(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && !strcmp(path + n - 4, ".ivf");
}

#define PM_REC_BUF (1024 * 1024)

/* IVF recording: the peer hands out decoded pictures, not the received
 * bitstream, so they are encoded again (VP8, 2 Mbit/s, keyframe every 2 s);
 * the file has the first picture's size (others are skipped). */
static void record_ivf(const mxrtc_picture *pic, unsigned w, unsigned h, mxrtc_time_us now) {
    if (!g.ivf_out_open) {
        if (g.rec_buf) return;  /* failed before */
        g.rec_buf = malloc(PM_REC_BUF);
        mxrtc_video_encoder_config ec;
        mxrtc_video_encoder_config_init(&ec, MXRTC_CODEC_VP8);
        ec.width = (int)w;
        ec.height = (int)h;
        ec.bitrate_bps = 2000000;
        ec.keyframe_max_distance = 60;
        mxrtc_ivf_info info = {MXRTC_IVF_VP8, w, h, 1000, 1, 0};
        if (!g.rec_buf || mxrtc_video_encoder_new(&g.rec_enc, &ec, NULL, NULL) != MXRTC_OK ||
            mxrtc_ivf_writer_open(&g.ivf_out, g.o.record_video, &info) != MXRTC_OK) {
            diag("--record-video: cannot start the IVF recording");
            return;
        }
        g.ivf_out_open = true;
        g.rec_t0 = now;
    }
    if (g.ivf_out.info.width != w || g.ivf_out.info.height != h) return;
    mxrtc_i420 in = {pic->y, pic->u, pic->v, pic->stride_y, pic->stride_u, pic->stride_v, pic->width, pic->height, now};
    mxrtc_encoded_frame ef;
    memset(&ef, 0, sizeof ef);
    if (mxrtc_video_encode(g.rec_enc, &in, g.rec_buf, PM_REC_BUF, &ef) == MXRTC_OK && ef.len)
        mxrtc_ivf_writer_write(&g.ivf_out, g.rec_buf, ef.len, (now - g.rec_t0) / 1000);
}

static void on_video_frame(const mxrtc_picture *pic, mxrtc_time_us now) {
    g.frames_decoded++;
    if (!g.first_frame_us) {
        g.first_frame_us = now;
        diag("first video frame %dx%d", pic->width, pic->height);
    }
    if (pic->width <= 0 || pic->height <= 0 || pic->width > 4096 || pic->height > 4096) return;
    unsigned w = (unsigned)pic->width, h = (unsigned)pic->height;
    size_t need = mxrtc_i420_size(w, h);
    if (need > g.rx_pic_cap) {
        uint8_t *b = realloc(g.rx_pic, need);
        if (!b) return;
        g.rx_pic = b;
        g.rx_pic_cap = need;
    }
    unsigned cw = (w + 1) / 2, chh = (h + 1) / 2;
    uint8_t *d = g.rx_pic;
    for (unsigned y = 0; y < h; y++) memcpy(d + (size_t)y * w, pic->y + (size_t)y * pic->stride_y, w);
    d += (size_t)w * h;
    for (unsigned y = 0; y < chh; y++) memcpy(d + (size_t)y * cw, pic->u + (size_t)y * pic->stride_u, cw);
    d += (size_t)cw * chh;
    for (unsigned y = 0; y < chh; y++) memcpy(d + (size_t)y * cw, pic->v + (size_t)y * pic->stride_v, cw);
    if (!g.video_done) {
        /* In the colour space the sender signalled (Chromium: BT.709 full
         * range), else BT.601 limited range. */
        uint8_t cs[4];
        if (mxrtc_peer_video_colour_space(g.peer, cs) == MXRTC_OK)
            mxrtc_i420_mean_rgb_cs(g.rx_pic, w, h, cs[2], (cs[3] >> 4) == 2, g.video_rgb);
        else
            mxrtc_i420_mean_rgb(g.rx_pic, w, h, g.video_rgb);
    }
    if (g.o.record_video && is_ivf(g.o.record_video)) {
        record_ivf(pic, w, h, now);
    } else if (g.o.record_video) {
        if (!g.y4m_out_open && mxrtc_y4m_writer_open(&g.y4m_out, g.o.record_video, w, h, 30, 1) == MXRTC_OK)
            g.y4m_out_open = true;
        if (g.y4m_out_open && g.y4m_out.info.width == w && g.y4m_out.info.height == h)
            mxrtc_y4m_writer_write(&g.y4m_out, g.rx_pic);
    }
}

static void on_event(void *user, mxrtc_net_runner *r, const void *event) {
    (void)user;
    (void)r;
    const mxrtc_peer_output *o = event;
    mxrtc_time_us now = mxrtc_net_now();
    switch (o->event) {
    case MXRTC_PEER_EV_LOCAL_CANDIDATE: {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "type", "candidate");
        cJSON_AddStringToObject(j, "candidate", o->text ? o->text : "");
        cJSON_AddStringToObject(j, "sdpMid", o->mid ? o->mid : "0");
        cJSON_AddNumberToObject(j, "sdpMLineIndex", 0);
        emit(j);
        break;
    }
    case MXRTC_PEER_EV_GATHERING_DONE:
        emit_type("end-of-candidates");
        break;
    case MXRTC_PEER_EV_STATE:
        g.state = o->state;
        diag("state %s", state_name(o->state));
        break;
    case MXRTC_PEER_EV_DTLS_STATE:
        diag("dtls state %d", (int)o->dtls_state);
        break;
    case MXRTC_PEER_EV_REMOTE_TRACK:
        diag("remote %s track on mid %s", o->media == MXRTC_MEDIA_AUDIO ? "audio" : "video", o->mid ? o->mid : "-");
        break;
    case MXRTC_PEER_EV_VIDEO_FRAME:
        on_video_frame(&o->picture, now);
        break;
    default:
        break;
    }
}

/* ---- commands (run on the I/O thread) -------------------------------------- */

typedef struct pm_cmd {
    int kind;
    mxrtc_sdp_type type;
    const char *sdp;
    size_t len;
    const char *mid, *line;
    char *out;                       /* create: the SDP text */
    size_t out_len;
    int rc;
} pm_cmd;

enum { CMD_CREATE_OFFER, CMD_CREATE_ANSWER, CMD_SET_LOCAL, CMD_SET_REMOTE, CMD_CANDIDATE, CMD_CLOSE,
       CMD_NOOP, CMD_VIDEO_ON };

static void run_cmd(void *arg, mxrtc_time_us now) {
    pm_cmd *c = arg;
    if (now == MXRTC_TIME_NEVER) {
        c->rc = MXRTC_ERR_CLOSED;
        return;
    }
    switch (c->kind) {
    case CMD_VIDEO_ON:
        c->rc = mxrtc_peer_set_direction(g.peer, MXRTC_MEDIA_VIDEO, MXRTC_DIR_SENDRECV);
        if (c->rc == MXRTC_OK) c->rc = mxrtc_peer_create_offer(g.peer, now, c->out, PM_SDP_MAX, &c->out_len);
        break;
    case CMD_CREATE_OFFER:
        g.offer_us = g.offer_us ? g.offer_us : now;
        c->rc = mxrtc_peer_create_offer(g.peer, now, c->out, PM_SDP_MAX, &c->out_len);
        break;
    case CMD_CREATE_ANSWER:
        c->rc = mxrtc_peer_create_answer(g.peer, now, c->out, PM_SDP_MAX, &c->out_len);
        break;
    case CMD_SET_LOCAL:
        c->rc = mxrtc_peer_set_local_description(g.peer, now);
        break;
    case CMD_SET_REMOTE:
        if (c->type == MXRTC_SDP_OFFER && !g.offer_us) g.offer_us = now;
        c->rc = mxrtc_peer_set_remote_description(g.peer, now, c->type, c->sdp, c->len);
        break;
    case CMD_CANDIDATE:
        c->rc = mxrtc_peer_add_remote_candidate(g.peer, now, c->mid, c->line);
        break;
    case CMD_CLOSE:
        c->rc = mxrtc_peer_close(g.peer, now);
        break;
    default:
        c->rc = MXRTC_OK;
        break;
    }
}

static int call(pm_cmd *c) {
    int rc = mxrtc_net_runner_call_wait(g.runner, run_cmd, c);
    return rc ? rc : c->rc;
}

static int send_description(int create_kind, const char *type) {
    pm_cmd c = {.kind = create_kind};
    c.out = malloc(PM_SDP_MAX);
    if (!c.out) return MXRTC_ERR_NO_MEMORY;
    int rc = call(&c);
    if (rc == MXRTC_OK) {
        pm_cmd l = {.kind = CMD_SET_LOCAL};
        rc = call(&l);
    }
    if (rc == MXRTC_OK) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "type", type);
        cJSON_AddStringToObject(j, "sdp", c.out);
        emit(j);
    } else {
        diag("%s failed: %s", type, mxrtc_strerror(rc));
    }
    free(c.out);
    return rc;
}

static void handle_line(const char *line, bool *bye) {
    cJSON *j = cJSON_Parse(line);
    if (!j || !cJSON_IsObject(j)) {
        diag("malformed line ignored");
        cJSON_Delete(j);
        return;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
    const char *type = cJSON_IsString(t) ? t->valuestring : "";
    if (!strcmp(type, "offer") || !strcmp(type, "answer")) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "sdp");
        if (!cJSON_IsString(s)) {
            diag("%s without sdp ignored", type);
        } else {
            bool offer = !strcmp(type, "offer");
            pm_cmd c = {.kind = CMD_SET_REMOTE, .type = offer ? MXRTC_SDP_OFFER : MXRTC_SDP_ANSWER,
                        .sdp = s->valuestring, .len = strlen(s->valuestring)};
            int rc = call(&c);
            if (rc) diag("remote %s refused: %s", type, mxrtc_strerror(rc));
            else if (offer) send_description(CMD_CREATE_ANSWER, "answer");
        }
    } else if (!strcmp(type, "candidate")) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "candidate");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "sdpMid");
        if (cJSON_IsString(s)) {
            pm_cmd c = {.kind = CMD_CANDIDATE, .line = s->valuestring, .mid = cJSON_IsString(m) ? m->valuestring : NULL};
            int rc = call(&c);
            if (rc) diag("candidate refused: %s", mxrtc_strerror(rc));
        }
    } else if (!strcmp(type, "end-of-candidates")) {
        pm_cmd c = {.kind = CMD_CANDIDATE, .line = NULL};
        call(&c);
    } else if (!strcmp(type, "bye")) {
        diag("bye received");
        *bye = true;
    }
    cJSON_Delete(j);
}

/* ---- set-up ------------------------------------------------------------------ */

static void usage_peer(void) {
    fprintf(stderr,
            "usage: mxrtc peer --offer|--answer [--audio-hz N] [--video-rgb R,G,B]\n"
            "                  [--audio-file WAV] [--video-file Y4M|IVF] [--record-audio WAV]\n"
            "                  [--record-video Y4M|IVF] [--renegotiate] [--relay-only]\n"
            "                  [--turn URI --turn-user U --turn-pass P] [--mdns on|off]\n"
            "                  [--video-size WxH] [--hangup] [--timeout S] [--name X]\n");
}

static int parse_opts(int argc, char **argv, pm_opts *o) {
    memset(o, 0, sizeof *o);
    o->name = "mxrtc";
    o->timeout_s = 60;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
#define VAL() (i + 1 < argc ? argv[++i] : NULL)
        const char *v = NULL;
        if (!strcmp(a, "--offer")) o->offer = true;
        else if (!strcmp(a, "--answer")) o->answer = true;
        else if (!strcmp(a, "--renegotiate")) o->renegotiate = true;
        else if (!strcmp(a, "--relay-only")) o->relay_only = true;
        else if (!strcmp(a, "--hangup")) o->hangup = true;
        else if (!strcmp(a, "--audio-hz") && (v = VAL())) o->audio_hz = atof(v);
        else if (!strcmp(a, "--video-rgb") && (v = VAL())) {
            int r, gg, b;
            if (sscanf(v, "%d,%d,%d", &r, &gg, &b) != 3 || r < 0 || r > 255 || gg < 0 || gg > 255 || b < 0 ||
                b > 255) {
                fprintf(stderr, "mxrtc peer: --video-rgb wants R,G,B in 0..255\n");
                return -1;
            }
            o->rgb[0] = (uint8_t)r, o->rgb[1] = (uint8_t)gg, o->rgb[2] = (uint8_t)b;
            o->have_rgb = true;
        } else if (!strcmp(a, "--turn") && (v = VAL())) o->turn = v;
        else if (!strcmp(a, "--turn-user") && (v = VAL())) o->turn_user = v;
        else if (!strcmp(a, "--turn-pass") && (v = VAL())) o->turn_pass = v;
        else if (!strcmp(a, "--mdns") && (v = VAL())) o->mdns_off = !strcmp(v, "off");
        else if (!strcmp(a, "--audio-file") && (v = VAL())) o->audio_file = v;
        else if (!strcmp(a, "--video-file") && (v = VAL())) o->video_file = v;
        else if (!strcmp(a, "--record-audio") && (v = VAL())) o->record_audio = v;
        else if (!strcmp(a, "--record-video") && (v = VAL())) o->record_video = v;
        else if (!strcmp(a, "--timeout") && (v = VAL())) o->timeout_s = atof(v);
        else if (!strcmp(a, "--video-size") && (v = VAL())) {
            /* Even sizes only: the I420 picture's chroma planes are half size. */
            if (sscanf(v, "%ux%u", &o->video_w, &o->video_h) != 2 || o->video_w < 16 || o->video_h < 16 ||
                o->video_w > 1920 || o->video_h > 1088 || ((o->video_w | o->video_h) & 1u)) {
                fprintf(stderr, "mxrtc peer: --video-size wants WxH, even, 16x16 to 1920x1088\n");
                return -1;
            }
        }
        else if (!strcmp(a, "--name") && (v = VAL())) o->name = v;
        else {
            fprintf(stderr, "mxrtc peer: unknown option or missing value: %s\n", a);
            return -1;
        }
#undef VAL
    }
    if (o->offer == o->answer) {
        fprintf(stderr, "mxrtc peer: exactly one of --offer/--answer\n");
        return -1;
    }
    if (o->audio_hz < 0 || o->audio_hz >= 24000) {
        fprintf(stderr, "mxrtc peer: --audio-hz out of range\n");
        return -1;
    }
    if (o->relay_only && !o->turn) {
        fprintf(stderr, "mxrtc peer: --relay-only needs --turn\n");
        return -1;
    }
    if (o->record_video) {
        size_t n = strlen(o->record_video);
        if (n < 4 || (strcmp(o->record_video + n - 4, ".y4m") && strcmp(o->record_video + n - 4, ".ivf"))) {
            fprintf(stderr, "mxrtc peer: --record-video wants a .y4m or .ivf file\n");
            return -1;
        }
    }
    return 0;
}

static int setup_turn(mxrtc_peer_config *cfg) {
    mxrtc_turn_uri u;
    if (mxrtc_turn_uri_parse(&u, g.o.turn, strlen(g.o.turn)) != MXRTC_OK || !mxrtc_turn_uri_is_turn(&u)) {
        diag("--turn: not a turn: URI");
        return -1;
    }
    mxrtc_addr a;
    if (u.host_is_ip) {
        a = u.addr;
    } else {
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        if (getaddrinfo(u.host, NULL, &hints, &res) != 0 || !res) {
            diag("--turn: cannot resolve the host");
            return -1;
        }
        char ip[64];
        getnameinfo(res->ai_addr, res->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST);
        freeaddrinfo(res);
        if (mxrtc_addr_parse(&a, ip, u.port) != MXRTC_OK) return -1;
    }
    mxrtc_peer_turn_server *t = &cfg->turn_servers[0];
    t->addr = a;
    t->proto = u.secure ? MXRTC_TURN_PROTO_TLS
                        : (u.transport == MXRTC_URI_TRANSPORT_TCP ? MXRTC_TURN_PROTO_TCP : MXRTC_TURN_PROTO_UDP);
    t->username = g.o.turn_user ? g.o.turn_user : "";
    t->password = g.o.turn_pass ? g.o.turn_pass : "";
    t->tls_server_name = u.host_is_ip ? NULL : u.host;
    cfg->turn_server_count = 1;
    cfg->relay_only = g.o.relay_only;
    diag("TURN server over %s (credentials not shown)", t->proto == MXRTC_TURN_PROTO_UDP ? "UDP" : "TCP/TLS");
    return 0;
}

static int open_media(void) {
    if (g.o.audio_hz > 0 && mxrtc_tone_init(&g.tone, g.o.audio_hz, PM_RATE, 0.3) != MXRTC_OK) return -1;
    if (g.o.audio_file) {
        int rc = mxrtc_wav_reader_open(&g.wav_in, g.o.audio_file);
        if (rc) {
            diag("--audio-file: %s", mxrtc_strerror(rc));
            return -1;
        }
        g.wav_in_open = true;
    }
    g.pic_w = g.o.video_w ? g.o.video_w : PM_VIDEO_W;
    g.pic_h = g.o.video_h ? g.o.video_h : PM_VIDEO_H;
    if (g.o.video_file) {
        size_t n = strlen(g.o.video_file);
        if (n >= 4 && !strcmp(g.o.video_file + n - 4, ".ivf")) {
            int rc = mxrtc_ivf_reader_open(&g.ivf_in, g.o.video_file);
            if (rc) {
                diag("--video-file: %s", mxrtc_strerror(rc));
                return -1;
            }
            g.ivf_in_open = true;
            g.ivf_buf = malloc(MXRTC_IVF_MAX_FRAME);
            if (!g.ivf_buf) return -1;
        } else {
            int rc = mxrtc_y4m_reader_open(&g.y4m_in, g.o.video_file);
            if (rc) {
                diag("--video-file: %s", mxrtc_strerror(rc));
                return -1;
            }
            g.y4m_in_open = true;
            g.pic_w = g.y4m_in.info.width;
            g.pic_h = g.y4m_in.info.height;
        }
    }
    g.picture = malloc(mxrtc_i420_size(g.pic_w, g.pic_h));
    g.rx_pcm = malloc(PM_DETECT_FRAMES * sizeof(int16_t));
    if (!g.picture || !g.rx_pcm) return -1;
    if (g.o.record_audio) {
        int rc = mxrtc_wav_writer_open(&g.wav_out, g.o.record_audio, 1);
        if (rc) {
            diag("--record-audio: %s", mxrtc_strerror(rc));
            return -1;
        }
        g.wav_out_open = true;
    }
    return 0;
}

static void close_media(void) {
    if (g.wav_in_open) mxrtc_wav_reader_close(&g.wav_in);
    if (g.y4m_in_open) mxrtc_y4m_close(&g.y4m_in);
    if (g.ivf_in_open) mxrtc_ivf_close(&g.ivf_in);
    if (g.wav_out_open) mxrtc_wav_writer_close(&g.wav_out);
    if (g.y4m_out_open) mxrtc_y4m_close(&g.y4m_out);
    if (g.ivf_out_open) mxrtc_ivf_close(&g.ivf_out);
    mxrtc_video_encoder_free(g.rec_enc);
    free(g.rec_buf);
    free(g.ivf_buf);
    free(g.picture);
    free(g.rx_pcm);
    free(g.rx_pic);
}

static void on_signal(int sig) {
    (void)sig;
    g.stop_signal = 1;
    char c = 2;
    ssize_t n = write(g.wake[1], &c, 1);
    (void)n;
}

static void log_fn(void *user, mxrtc_log_level level, const char *module, const char *message) {
    (void)user;
    diag("%s %s: %s", level <= MXRTC_LOG_WARN ? "warn" : "info", module, message);
}

int mxrtc_peer_mode(int argc, char **argv) {
    memset(&g, 0, sizeof g);
    if (parse_opts(argc, argv, &g.o) != 0) {
        usage_peer();
        return 2;
    }
    pthread_mutex_init(&g.out_lock, NULL);
    if (pipe(g.wake) != 0) return 1;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int status = 1;
    if (open_media() != 0) goto out;

    /* Interfaces: every usable one; loopback only when nothing else is up
     * (a namespace with only lo). */
    mxrtc_net_iface_options io;
    mxrtc_net_iface_options_init(&io);
    mxrtc_net_iface list[MXRTC_NET_MAX_UDP];
    size_t nif = 0;
    int irc = mxrtc_net_interfaces(&io, list, MXRTC_NET_MAX_UDP, &nif);
    if ((irc == MXRTC_OK || irc == MXRTC_ERR_LIMIT) && nif == 0) io.include_loopback = true;

    mxrtc_net_runner_config rc;
    mxrtc_net_runner_config_init(&rc);
    rc.engine = mxrtc_net_peer_engine(&g.adapter, NULL);
    rc.on_event = on_event;
    rc.ifaces = io;
    mxrtc_logger lg = {log_fn, NULL, MXRTC_LOG_WARN};
    if (getenv("MXRTC_PEER_DEBUG")) lg.max_level = MXRTC_LOG_DEBUG;
    rc.logger = lg;
    int err = mxrtc_net_runner_new(&g.runner, &rc);
    if (err) {
        diag("runner: %s", mxrtc_strerror(err));
        goto out;
    }
    const mxrtc_addr *locals;
    size_t nl;
    mxrtc_net_runner_local_addrs(g.runner, &locals, &nl);

    mxrtc_peer_config cfg;
    mxrtc_peer_config_init(&cfg);
    cfg.logger = lg;
    for (size_t i = 0; i < nl && cfg.interface_count < MXRTC_PEER_MAX_INTERFACES; i++)
        cfg.interfaces[cfg.interface_count++] = locals[i];
    diag("%zu local address(es)", cfg.interface_count);
    cfg.audio = MXRTC_DIR_SENDRECV;
    cfg.video = sends_video() && !g.o.renegotiate ? MXRTC_DIR_SENDRECV : MXRTC_DIR_NONE;
    if (g.o.answer && sends_video()) cfg.video = MXRTC_DIR_SENDRECV;
    if (g.o.turn && setup_turn(&cfg) != 0) goto out;
    g.start_us = mxrtc_net_now();
    err = mxrtc_peer_new(&g.peer, &cfg, g.start_us);
    if (err) {
        diag("peer: %s", mxrtc_strerror(err));
        goto out;
    }
    g.adapter.peer = g.peer;
    mxrtc_net_peer_set_tick(&g.adapter, PM_TICK_US, tick, NULL);
    if ((err = mxrtc_net_runner_start(g.runner)) != MXRTC_OK) {
        diag("runner start: %s", mxrtc_strerror(err));
        goto out;
    }
    emit_type("ready");
    if (g.o.offer && send_description(CMD_CREATE_OFFER, "offer") != MXRTC_OK) goto out;

    /* Signalling loop: stdin lines, wake-ups from the I/O thread, signals. */
    char *buf = NULL;
    size_t blen = 0, bcap = 0;
    bool bye = false, eof = false, timed_out = false;
    mxrtc_time_us deadline = g.start_us + (mxrtc_time_us)(g.o.timeout_s * 1e6) + 30000000;
    while (!bye && !eof && !g.stop_signal) {
        struct pollfd fds[2] = {{0, POLLIN, 0}, {g.wake[0], POLLIN, 0}};
        int n = poll(fds, 2, 200);
        if (n < 0 && errno != EINTR) break;
        if (mxrtc_net_now() > deadline && !g.result_written) {
            diag("timed out without a result");
            timed_out = true;
            break;
        }
        if (fds[1].revents & POLLIN) {
            char tmp[16];
            ssize_t r = read(g.wake[0], tmp, sizeof tmp);
            (void)r;
        }
        /* Read flags the I/O thread set (reneg_step, want_exit) through a
         * no-op command: it orders our view after the thread's writes. */
        pm_cmd nop = {.kind = CMD_NOOP};
        if (fds[1].revents & POLLIN) call(&nop);
        if (g.reneg_step == 1) {
            g.reneg_step = 0;
            diag("adding video: renegotiating");
            send_description(CMD_VIDEO_ON, "offer");
        }
        if (g.want_exit) {
            emit_type("bye");
            break;
        }
        if (fds[0].revents & (POLLIN | POLLHUP)) {
            if (bcap - blen < 4096) {
                size_t nc = bcap ? bcap * 2 : 65536;
                if (nc > (1u << 22)) {
                    diag("signalling line too long: dropped");
                    blen = 0;
                    nc = bcap;
                }
                char *nb = realloc(buf, nc);
                if (!nb) break;
                buf = nb;
                bcap = nc;
            }
            ssize_t r = read(0, buf + blen, bcap - blen - 1);
            if (r <= 0) {
                if (r == 0) eof = true;
                else if (errno != EINTR) eof = true;
            } else {
                blen += (size_t)r;
            }
            char *start = buf, *nlp;
            while (!bye && (nlp = memchr(start, '\n', (size_t)(buf + blen - start)))) {
                *nlp = '\0';
                if (nlp > start) handle_line(start, &bye);
                start = nlp + 1;
            }
            blen = (size_t)(buf + blen - start);
            memmove(buf, start, blen);
        }
    }
    free(buf);
    if (eof) diag("stdin closed: hanging up");
    if (g.stop_signal) diag("signal: hanging up");
    /* Clean hang-up: RTCP BYE and close_notify, drained by the runner. */
    pm_cmd c = {.kind = CMD_CLOSE};
    call(&c);
    pm_cmd nop = {.kind = CMD_NOOP};
    call(&nop);
    status = timed_out ? 1 : 0;
out:
    mxrtc_net_runner_free(g.runner);
    mxrtc_peer_free(g.peer);
    close_media();
    close(g.wake[0]);
    close(g.wake[1]);
    return status;
}
