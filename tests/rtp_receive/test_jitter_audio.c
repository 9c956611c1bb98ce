/*
 * test_jitter_audio.c: the Opus jitter buffer in a closed loop:
 * encoder (codecs/) -> RTP packetizer -> seeded network model (loss,
 * +-40 ms jitter, reordering) -> jitter buffer -> Opus decoder, on a virtual
 * clock, with the played signal checked (tone frequency and level per
 * second), not just counted. Also: clock drift both ways over 60 s, DTX,
 * SSRC change, duplicates, reordering, sequence/timestamp wrap, a
 * timestamp jump, a late packet, LBRR detection, bad input and allocation
 * failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "codecs/codec.h"
#include "rtp/jitter_audio.h"
#include "rtp/rtp.h"
#include "support/test_alloc.h"
#include "signal.h"
#include "netsim.h"

#define RATE 48000
#define PULL MXRTC_AUDIO_JB_PULL_SAMPLES
#define AMP 8000.0
#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- the decoder behind the jitter buffer's interface ------------------- */

static int ad_decode(void *c, const uint8_t *p, size_t l, int16_t *pcm, size_t max) {
    return mxrtc_opus_decode(c, p, l, pcm, max);
}
static int ad_plc(void *c, int16_t *pcm, size_t n) { return mxrtc_opus_decode_plc(c, pcm, n); }
static int ad_fec(void *c, const uint8_t *p, size_t l, int16_t *pcm, size_t n) {
    return mxrtc_opus_decode_fec(c, p, l, pcm, n);
}
static int ad_dtx(void *c, int16_t *pcm, size_t n) { return mxrtc_opus_decode_dtx_gap(c, pcm, n); }
static void ad_reset(void *c) { mxrtc_opus_decoder_reset(c); }

static mxrtc_audio_decoder_iface opus_iface(mxrtc_opus_decoder *d) {
    mxrtc_audio_decoder_iface i = {d, ad_decode, ad_plc, ad_fec, ad_dtx, ad_reset};
    return i;
}

/* ---- a scenario ------------------------------------------------------- */

typedef struct scenario {
    uint64_t seed;
    double loss;
    uint64_t base_us, jitter_us;
    uint64_t dup_extra_us;     /* every packet delivered again this much later */
    double seconds;
    double drift;              /* sender clock rate / receiver's (1.001: 0.1 % fast) */
    int frame_ms;
    double tone_hz, tone2_hz;  /* tone2 after the SSRC switch */
    double on_s, off_s;        /* tone bursts (DTX); 0: always on */
    uint16_t seq0;
    uint32_t ts0;
    double switch_at_s;        /* SSRC change; 0: none */
    double jump_at_s;          /* timestamp jump of +2^30; 0: none */
    long late_index;           /* this packet is delayed by late_extra_us; -1: none */
    uint64_t late_extra_us;
    int expected_loss_pct;
    int complexity;
    int dtx;
    double am_hz;              /* amplitude modulation of the tone (0: steady) */
    int bitrate;               /* 0: the codec default (32 kbit/s) */
    int channels;              /* decoder and jitter buffer output (the stream is mono) */
    const char *seed_name;     /* with MXRTC_WRITE_SEEDS=DIR: the first 2 s as a
                                  fuzz_jitter_buffer seed DIR/<seed_name> */
} scenario;

/* Records pushes and pulls in fuzz/fuzz_jitter_buffer.c's input format. */
typedef struct seed_rec {
    uint8_t buf[24000];
    size_t len;
    bool on, full;
    uint16_t seq;
    uint32_t ts, ssrc;
} seed_rec;

static void seed_put(seed_rec *sr, const uint8_t *b, size_t n) {
    if (sr->full || sr->len + n > sizeof sr->buf) {
        sr->full = true;
        return;
    }
    memcpy(sr->buf + sr->len, b, n);
    sr->len += n;
}

static void seed_push(seed_rec *sr, const mxrtc_rtp_packet *p, uint64_t at, uint64_t now) {
    if (!sr->on || p->payload_len > 255) return;
    int32_t dts = (int32_t)(p->ts - sr->ts);
    uint8_t op = 0;
    if (p->ssrc != sr->ssrc && sr->ssrc) op |= 1;
    if (dts > 32767 || dts < -32768) {
        op |= 2;
        dts = (int32_t)(p->ts - sr->ts - 0x40000000u);
        if (dts > 32767 || dts < -32768) return;
    }
    int dseq = (int16_t)(uint16_t)(p->seq - sr->seq);
    if (dseq > 127 || dseq < -128) return;
    int64_t darr = ((int64_t)at - (int64_t)now) / 1000;
    if (darr < -128) darr = -128;
    uint8_t h[6] = {op, (uint8_t)(int8_t)dseq, (uint8_t)((uint32_t)dts >> 8), (uint8_t)dts,
                    (uint8_t)(int8_t)darr, (uint8_t)p->payload_len};
    seed_put(sr, h, sizeof h);
    seed_put(sr, p->payload, p->payload_len);
    sr->seq = p->seq;
    sr->ts = p->ts;
    sr->ssrc = p->ssrc;
}

static void seed_write(const seed_rec *sr, const char *name) {
    const char *dir = getenv("MXRTC_WRITE_SEEDS");
    if (!dir || !name) return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(sr->buf, 1, sr->len, f);
    fclose(f);
}

typedef struct result {
    mxrtc_audio_jb_stats st;
    int16_t *out;
    size_t out_len;            /* samples */
    uint32_t delay_ms[128];    /* current delay sampled every second */
    uint32_t buffered_ms[128];
    uint32_t target_ms[128];
    uint64_t accel[128], expand[128];
    size_t seconds;
    uint64_t toc_silk, toc_celt;
    int late_next_lbrr;        /* the packet after late_index carries LBRR */
    int lr_diff;               /* stereo: largest left/right difference */
    netsim net;
} result;

static void scenario_init(scenario *s) {
    memset(s, 0, sizeof *s);
    s->seed = 1;
    s->base_us = 60000;
    s->jitter_us = 40000;
    s->seconds = 10;
    s->drift = 1.0;
    s->frame_ms = 20;
    s->tone_hz = 1000;
    s->tone2_hz = 700;
    s->seq0 = 1000;
    s->ts0 = 123456;
    s->late_index = -1;
    s->expected_loss_pct = 10;
    /* libopus's signal analysis (complexity >= 7) classifies a pure tone as
     * music and codes it CELT-only, which carries no in-band FEC (RFC 6716
     * §2.1.7: LBRR is a SILK feature). At complexity 5 (libwebrtc's mobile
     * setting) the analysis is off and VOIP mode codes the tone in hybrid
     * mode as it would speech, so the FEC path is exercised. */
    s->complexity = 5;
    /* DTX off as in browsers by default (usedtx=0, RFC 7587 §6.1); SILK's
     * VAD would take a steady tone for background noise. The DTX test
     * turns it on. */
    s->dtx = 0;
    /* A 1000 Hz tone with a 4 Hz (syllable-rate) envelope between 50 % and
     * 100 %: SILK's VAD takes a perfectly steady tone for background noise
     * and then codes no LBRR (FEC) for it, which speech would get. */
    s->am_hz = 4;
    s->channels = 1;
}

static mxrtc_opus_encoder *new_encoder(const scenario *s) {
    mxrtc_opus_encoder_config ec;
    mxrtc_opus_encoder_config_init(&ec);
    ec.frame_ms = s->frame_ms;
    ec.expected_loss_pct = s->expected_loss_pct;
    ec.complexity = s->complexity;
    ec.dtx = s->dtx;
    ec.bitrate_bps = s->bitrate;
    mxrtc_opus_encoder *enc = NULL;
    assert_int_equal(mxrtc_opus_encoder_new(&enc, &ec, NULL), MXRTC_OK);
    return enc;
}

static void run(const scenario *s, result *res) {
    memset(res, 0, sizeof *res);
    netsim_init(&res->net, s->seed, s->loss, s->base_us, s->jitter_us);
    netsim *net = &res->net;
    mxrtc_opus_encoder *enc = new_encoder(s);
    mxrtc_opus_decoder *dec = NULL;
    mxrtc_opus_decoder_config dc;
    mxrtc_opus_decoder_config_init(&dc);
    dc.channels = s->channels;
    assert_int_equal(mxrtc_opus_decoder_new(&dec, &dc, NULL), MXRTC_OK);
    mxrtc_audio_decoder_iface di = opus_iface(dec);
    mxrtc_audio_jb *jb = NULL;
    mxrtc_audio_jb_config jc;
    mxrtc_audio_jb_config_init(&jc);
    jc.channels = s->channels;
    assert_int_equal(mxrtc_audio_jb_new(&jb, &jc, &di, NULL), MXRTC_OK);

    const uint64_t end_us = (uint64_t)(s->seconds * 1e6);
    const size_t frame = (size_t)(RATE / 1000 * s->frame_ms);
    res->out = calloc(end_us / 10000 * PULL + PULL, sizeof *res->out);
    assert_non_null(res->out);
    int16_t pcm[960 * 6], play[PULL * 2];
    uint8_t pkt[1500], opus[MXRTC_OPUS_MAX_PACKET], rx[1500];

    uint32_t ssrc = 0x11223344;
    uint16_t seq = s->seq0;
    uint32_t ts = s->ts0;
    uint64_t k = 0;                 /* frames produced by the sender */
    bool switched = false, jumped = false;
    long pkt_index = 0;
    static seed_rec sr;
    memset(&sr, 0, sizeof sr);
    sr.on = getenv("MXRTC_WRITE_SEEDS") && s->seed_name;
    sr.ssrc = 0x11223344;
    sr.seq = s->seq0;
    sr.ts = s->ts0;
    uint8_t flags = 0;
    seed_put(&sr, &flags, 1);
    for (uint64_t now = 0; now < end_us; now += 1000) {
        /* The sender's clock runs drift times as fast: frame k leaves at
         * k * frame_ms / drift of receiver time. */
        while ((double)k * s->frame_ms * 1000.0 / s->drift <= (double)now) {
            double t_send = (double)k * s->frame_ms / 1000.0;    /* sender seconds */
            if (s->switch_at_s > 0 && !switched && t_send >= s->switch_at_s) {
                switched = true;
                ssrc = 0x55667788;
                seq = (uint16_t)(seq + 100);
                ts += 0x40000000u;
                mxrtc_opus_encoder_free(enc);
                enc = new_encoder(s);
            }
            if (s->jump_at_s > 0 && !jumped && t_send >= s->jump_at_s) {
                jumped = true;
                ts += 0x40000000u;
            }
            double hz = switched ? s->tone2_hz : s->tone_hz;
            double amp = AMP;
            if (s->on_s > 0 && fmod(t_send, s->on_s + s->off_s) >= s->on_s) amp = 0;
            sig_sine(pcm, frame, 1, 0, hz, amp, RATE, k * frame);
            if (s->am_hz > 0) {
                for (size_t i = 0; i < frame; i++) {
                    double t = (double)(k * frame + i) / RATE;
                    pcm[i] = (int16_t)(pcm[i] * (0.75 + 0.25 * sin(2 * M_PI * s->am_hz * t)));
                }
            }
            int n = mxrtc_opus_encode(enc, pcm, opus, sizeof opus);
            assert_true(n > 0);
            if (n > MXRTC_OPUS_DTX_MAX_BYTES) {   /* DTX frames are not sent */
                if ((opus[0] >> 3) < 16) res->toc_silk++;
                else res->toc_celt++;
                mxrtc_rtp_packet h;
                memset(&h, 0, sizeof h);
                h.pt = 111;
                h.seq = seq++;
                h.ts = ts;
                h.ssrc = ssrc;
                int len = mxrtc_opus_packetize(&h, opus, (size_t)n, MXRTC_RTP_DEFAULT_MTU, pkt,
                                               sizeof pkt);
                assert_true(len > 0);
                if (pkt_index == s->late_index) {
                    net->sent++;
                    netsim_enqueue(net, now + s->base_us + s->late_extra_us, pkt, (size_t)len);
                } else {
                    netsim_send(net, now, pkt, (size_t)len);
                }
                if (pkt_index == s->late_index + 1)
                    res->late_next_lbrr = mxrtc_opus_packet_has_lbrr(opus, (size_t)n);
                if (s->dup_extra_us)
                    netsim_enqueue(net, now + s->base_us + s->dup_extra_us, pkt, (size_t)len);
                pkt_index++;
            }
            ts += (uint32_t)frame;
            k++;
        }
        uint64_t at;
        size_t len;
        while ((len = netsim_recv(net, now, rx, &at)) > 0) {
            mxrtc_rtp_packet p;
            assert_int_equal(mxrtc_rtp_parse(&p, rx, len), MXRTC_OK);
            assert_int_equal(mxrtc_audio_jb_push(jb, &p, at, NULL), MXRTC_OK);
            if (now < 2500000) seed_push(&sr, &p, at, now);
        }
        if (now % 10000 == 0) {
            assert_int_equal(mxrtc_audio_jb_pull(jb, now, play), MXRTC_OK);
            if (sr.on && now < 2500000) {
                uint8_t op = 0x80;
                seed_put(&sr, &op, 1);
            }
            for (size_t i = 0; i < PULL; i++) {
                res->out[res->out_len + i] = play[i * (size_t)s->channels];
                if (s->channels == 2) {
                    int d = abs(play[2 * i] - play[2 * i + 1]);
                    if (d > res->lr_diff) res->lr_diff = d;
                }
            }
            res->out_len += PULL;
            if (now % 1000000 == 0 && res->seconds < 128) {
                mxrtc_audio_jb_stats st;
                mxrtc_audio_jb_get_stats(jb, &st);
                res->delay_ms[res->seconds] = st.current_delay_ms;
                res->buffered_ms[res->seconds] = st.buffered_ms;
                res->target_ms[res->seconds] = st.target_delay_ms;
                res->accel[res->seconds] = st.accelerate_samples;
                res->expand[res->seconds] = st.expand_samples;
                res->seconds++;
            }
        }
    }
    mxrtc_audio_jb_get_stats(jb, &res->st);
    if (sr.on) seed_write(&sr, s->seed_name);
    mxrtc_audio_jb_free(jb);
    mxrtc_opus_decoder_free(dec);
    mxrtc_opus_encoder_free(enc);
}

static double concealed_ratio(const result *r) {
    uint64_t played = r->st.total_samples - r->st.silence_samples;
    return played ? (double)r->st.concealed_samples / (double)played : 1.0;
}

static void print_result(const char *name, const result *r) {
    printf("# %-14s sent %llu lost(net) %llu reordered %llu | decoded %llu concealed %.2f%% "
           "(%llu events) fec %llu late %llu dup %llu underruns %llu dtx %.2fs "
           "accel %llu expand %llu | delay %u ms target %u jitter %u buffered %u | "
           "silk/hybrid %llu celt %llu\n",
           name, (unsigned long long)r->net.sent, (unsigned long long)r->net.lost,
           (unsigned long long)r->net.reordered, (unsigned long long)r->st.packets_decoded,
           100.0 * concealed_ratio(r), (unsigned long long)r->st.concealment_events,
           (unsigned long long)r->st.fec_frames, (unsigned long long)r->st.late_drops,
           (unsigned long long)r->st.duplicates, (unsigned long long)r->st.underruns,
           (double)r->st.dtx_samples / RATE, (unsigned long long)r->st.accelerate_samples,
           (unsigned long long)r->st.expand_samples, r->st.current_delay_ms,
           r->st.target_delay_ms, r->st.jitter_ms, r->st.buffered_ms,
           (unsigned long long)r->toc_silk, (unsigned long long)r->toc_celt);
}

/* Peak frequency of n samples in [lo, hi] Hz: Hann-windowed Goertzel
 * power on a 25 Hz grid, refined on a 1 Hz grid around the best bin.
 * (signal.h's sig_peak_hz recomputes its window per bin, too slow for 60 s
 * under ASan.) */
#define PEAK_N (RATE / 2)
static double tone_peak(const int16_t *pcm, double lo, double hi) {
    static float win[PEAK_N];
    static int have_win;
    if (!have_win) {
        for (size_t i = 0; i < PEAK_N; i++)
            win[i] = (float)(0.5 - 0.5 * cos(2 * M_PI * (double)i / (PEAK_N - 1)));
        have_win = 1;
    }
    double best_hz = lo, best_p = -1;
    for (int pass = 0; pass < 2; pass++) {
        double step = pass ? 1.0 : 25.0;
        double a = pass ? best_hz - 25 : lo, b = pass ? best_hz + 25 : hi;
        for (double hz = a; hz <= b; hz += step) {
            double coeff = 2 * cos(2 * M_PI * hz / RATE);
            double s1 = 0, s2 = 0;
            for (size_t i = 0; i < PEAK_N; i++) {
                double s0 = win[i] * pcm[i] + coeff * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            double pw = s1 * s1 + s2 * s2 - coeff * s1 * s2;
            if (pw > best_p) {
                best_p = pw;
                best_hz = hz;
            }
        }
    }
    return best_hz;
}

/* The tone is there, at hz within 2 %, at a sane level, in every whole
 * second of [from_s, to_s) (the first half of each second is analysed). */
static void check_tone(const result *r, double from_s, double to_s, double hz) {
    for (double t = from_s; t + 1.0 <= to_s + 1e-9; t += 1.0) {
        size_t at = (size_t)(t * RATE);
        assert_true(at + RATE <= r->out_len);
        double f = tone_peak(r->out + at, 200.0, 4000.0);
        double rms = sig_rms(r->out + at, RATE, 1, 0);
        if (fabs(f - hz) > hz * 0.02 || rms < 0.5 * AMP / sqrt(2.0))
            printf("# second %.0f: peak %.1f Hz rms %.0f\n", t, f, rms);
        assert_true(fabs(f - hz) <= hz * 0.02);
        assert_true(rms >= 0.5 * AMP / sqrt(2.0));
    }
}

/* ---- loss and jitter ---------------------------------------------------- */

/* The concealed-sample bound. A jitter buffer without FEC conceals every
 * lost frame (ratio = p, the network loss), and one that also loses
 * packets to jitter (late drops, underruns) sits above p. Here a lost frame
 * is rebuilt from the next packet's LBRR when libopus coded one (it does for
 * voice-active frames above a rate threshold that rises with the expected
 * loss), and the target delay covers the +-40 ms jitter, so the ratio must
 * stay below 0.9 p: FEC recovers a share of the losses and the buffer adds
 * (almost) none of its own. Measured: see docs/jitter.md. */
static void loss_case(double loss, const char *name) {
    scenario s;
    scenario_init(&s);
    s.loss = loss;
    s.seed = (uint64_t)(loss * 1000) + 7;
    /* the sender's FEC setting follows the loss it is told about (RTCP),
     * never below the codec's default of 10 % */
    s.expected_loss_pct = loss > 0.10 ? (int)(loss * 100 + 0.5) : 10;
    s.seed_name = loss > 0.15 ? "loss20" : loss > 0.07 ? "loss10" : "loss5";
    result r;
    run(&s, &r);
    print_result(name, &r);
    check_tone(&r, 1.0, s.seconds, 1000.0);
    double ratio = concealed_ratio(&r);
    assert_true(ratio < 0.9 * loss);
    assert_true(r.st.fec_frames > 0);
    /* the delay follows the +-40 ms jitter: 80 ms spread plus the margin */
    assert_true(r.st.target_delay_ms >= 80 && r.st.target_delay_ms <= 140);
    free(r.out);
}

static void loss_5(void **state) { (void)state; loss_case(0.05, "loss 5%"); }
static void loss_10(void **state) { (void)state; loss_case(0.10, "loss 10%"); }
static void loss_20(void **state) { (void)state; loss_case(0.20, "loss 20%"); }

/* Stereo output of a mono stream (libopus upmixes): the same path with
 * interleaved pairs, through loss, FEC, PLC and time stretching. */
static void stereo_output(void **state) {
    (void)state;
    scenario s;
    scenario_init(&s);
    s.channels = 2;
    s.loss = 0.10;
    s.seconds = 6;
    s.seed = 5;
    result r;
    run(&s, &r);
    print_result("stereo 10%", &r);
    check_tone(&r, 1.0, s.seconds, 1000.0);
    assert_true(concealed_ratio(&r) < 0.9 * s.loss);
    assert_true(r.st.accelerate_samples + r.st.expand_samples > 0);
    assert_true(r.lr_diff <= 1);   /* libopus rounds each channel on its own */
    free(r.out);
}

/* ---- clock drift ---------------------------------------------------------- */

static void drift_case(double drift, const char *name) {
    scenario s;
    scenario_init(&s);
    s.seconds = 60;
    s.drift = drift;
    s.seed = 99;
    result r;
    run(&s, &r);
    print_result(name, &r);
    printf("# %s delay per 5 s:", name);
    for (size_t i = 0; i < r.seconds; i += 5) printf(" %u", r.delay_ms[i]);
    printf("\n");
    check_tone(&r, 1.0, s.seconds, 1000.0);
    /* 0.1 % of 60 s is 60 ms of audio (2880 samples) to remove or add: had
     * the buffer not absorbed it, the delay would have grown/shrunk by that. */
    /* From second 5 on (start-up settled), 55 s of drift: 2640 samples. */
    int64_t net = (int64_t)(r.accel[59] - r.accel[5]) - (int64_t)(r.expand[59] - r.expand[5]);
    double want = (drift - 1.0) * 54 * RATE;
    printf("# %s net stretch %lld samples over 5..59 s (drift %.0f)\n", name, (long long)net, want);
    if (drift > 1) assert_true(net >= 0.5 * want && net <= 1.8 * want);
    else assert_true(net <= 0.5 * want && net >= 1.8 * want);
    /* Bounded: after the first 5 s the delay stays within the target band
     * (target + max(10 ms, target / 8), plus one stretch step), and the
     * last 20 s are no higher on average than the 20 s before. */
    double early = 0, late = 0;
    for (size_t i = 5; i < r.seconds; i++) {
        assert_true(r.delay_ms[i] <= r.target_ms[i] + r.target_ms[i] / 8 + 10 + 20);
        assert_true(r.buffered_ms[i] <= 250);
        if (i >= 20 && i < 40) early += r.delay_ms[i];
        if (i >= 40 && i < 60) late += r.delay_ms[i];
    }
    assert_true(late / 20 <= early / 20 + 15);
    assert_true(concealed_ratio(&r) < 0.01);
    free(r.out);
}

static void drift_sender_fast(void **state) { (void)state; drift_case(1.001, "drift +0.1%"); }
static void drift_sender_slow(void **state) { (void)state; drift_case(0.999, "drift -0.1%"); }

/* ---- DTX ---------------------------------------------------------------- */

static void dtx_is_not_loss(void **state) {
    (void)state;
    scenario s;
    scenario_init(&s);
    s.seconds = 8.6;              /* ends in a tone burst: the last silence is resolved */
    s.dtx = 1;
    s.seed_name = "dtx";
    s.complexity = 9;             /* CELT for the tone, DTX only in the silences */
    s.on_s = 1.0;
    s.off_s = 1.0;
    result r;
    run(&s, &r);
    print_result("dtx", &r);
    /* Silence gaps of about a second each: DTX, not loss nor underrun. */
    assert_true(r.st.dtx_samples > 2 * RATE);
    assert_int_equal(r.st.packets_lost, 0);
    assert_int_equal(r.st.underruns, 0);
    assert_true(concealed_ratio(&r) < 0.005);
    /* The tone bursts play; the silences are silent. The delay is ~100 ms,
     * so sender second [2k, 2k+1) plays within [2k+0.1, 2k+1.1). */
    for (int b = 0; b < 4; b++) {
        size_t on = (size_t)((2.0 * b + 0.3) * RATE), off = (size_t)((2.0 * b + 1.4) * RATE);
        double f = tone_peak(r.out + on, 200.0, 4000.0);
        assert_true(fabs(f - 1000.0) <= 20.0);
        assert_true(sig_rms(r.out + on, RATE / 2, 1, 0) > 0.5 * AMP / sqrt(2.0));
        if (b < 3) assert_true(sig_rms(r.out + off, RATE / 2, 1, 0) < 100.0);
    }
    free(r.out);
}

/* ---- stream changes ------------------------------------------------------ */

static void ssrc_change_restarts(void **state) {
    (void)state;
    scenario s;
    scenario_init(&s);
    s.seconds = 5;
    s.switch_at_s = 1.5;
    s.seed_name = "ssrc";
    result r;
    run(&s, &r);
    print_result("ssrc change", &r);
    assert_int_equal(r.st.ssrc_changes, 1);
    assert_int_equal(r.st.ssrc, 0x55667788);
    assert_true(r.net.reordered > 0);    /* old packets did arrive after new ones */
    check_tone(&r, 0.5, 1.5, 1000.0);
    check_tone(&r, 2.5, 5.0, 700.0);
    assert_true(concealed_ratio(&r) < 0.01);
    free(r.out);
}

static void wraps_are_seamless(void **state) {
    (void)state;
    scenario s;
    scenario_init(&s);
    s.seconds = 5;
    s.seq0 = 65500;                       /* wraps after 36 packets */
    s.ts0 = 0xFFFFFFFFu - RATE;           /* wraps after 1 s */
    s.seed_name = "wrap";
    result r;
    run(&s, &r);
    print_result("wrap", &r);
    assert_int_equal(r.st.packets_lost, 0);
    assert_int_equal(r.st.timestamp_jumps, 0);
    assert_int_equal(r.st.ssrc_changes, 0);
    assert_true(concealed_ratio(&r) < 0.005);
    check_tone(&r, 1.0, 5.0, 1000.0);
    free(r.out);
}

static void timestamp_jump_resyncs(void **state) {
    (void)state;
    scenario s;
    scenario_init(&s);
    s.seconds = 6;
    s.jump_at_s = 1.5;
    s.seed_name = "tsjump";
    result r;
    run(&s, &r);
    print_result("ts jump", &r);
    assert_int_equal(r.st.timestamp_jumps, 1);
    check_tone(&r, 0.5, 1.5, 1000.0);
    check_tone(&r, 2.5, 6.0, 1000.0);
    free(r.out);
}

/* ---- duplicates, reordering, lateness ----------------------------------- */

static void duplicates_change_nothing(void **state) {
    (void)state;
    scenario s;
    scenario_init(&s);
    s.seconds = 4;
    result clean, dup;
    run(&s, &clean);
    s.dup_extra_us = 150000;     /* every packet again, 150 ms behind its original */
    s.seed_name = "duplicates";
    run(&s, &dup);
    print_result("duplicates", &dup);
    assert_true(dup.st.duplicates + 10 >= dup.net.delivered / 2);
    assert_int_equal(clean.st.duplicates, 0);
    /* Same audio sample for sample: duplicates neither play twice nor
     * disturb the delay estimate. */
    assert_int_equal(clean.out_len, dup.out_len);
    assert_memory_equal(clean.out, dup.out, clean.out_len * sizeof *clean.out);
    free(clean.out);
    free(dup.out);
}

static void reordering_is_absorbed(void **state) {
    (void)state;
    scenario s;
    scenario_init(&s);
    s.seconds = 5;
    s.frame_ms = 10;             /* 10 ms packets under +-40 ms jitter: heavy reordering */
    s.seed_name = "reorder10ms";
    result r;
    run(&s, &r);
    print_result("reorder", &r);
    assert_true(r.net.reordered > 100);
    assert_int_equal(r.st.packets_lost, 0);
    assert_true(r.st.late_drops <= 2);
    assert_true(concealed_ratio(&r) < 0.01);
    check_tone(&r, 1.0, 5.0, 1000.0);
    free(r.out);
}

static void late_packet_dropped_and_fec(void **state) {
    (void)state;
    scenario s;
    scenario_init(&s);
    s.seconds = 3;
    s.jitter_us = 0;
    s.late_index = 100;          /* 2 s in */
    s.late_extra_us = 400000;
    result r;
    run(&s, &r);
    print_result("late packet", &r);
    assert_int_equal(r.st.late_drops, 1);
    assert_int_equal(r.st.packets_lost, 1);
    /* Its successor was there in time: the frame is rebuilt from FEC when
     * the successor carries LBRR, else concealed for exactly one frame. */
    printf("# late packet: successor has LBRR: %d\n", r.late_next_lbrr);
    if (r.late_next_lbrr == 1) {
        assert_int_equal(r.st.fec_frames, 1);
        assert_int_equal(r.st.concealed_samples, 0);
    } else {
        assert_int_equal(r.st.fec_frames, 0);
        assert_int_equal(r.st.concealed_samples, 960);
    }
    free(r.out);
}

/* ---- LBRR detection against the encoder's FEC setting -------------------- */

static void lbrr_detection(void **state) {
    (void)state;
    int16_t pcm[960];
    uint8_t pkt[MXRTC_OPUS_MAX_PACKET];
    for (int fec = 0; fec <= 1; fec++) {
        mxrtc_opus_encoder_config ec;
        mxrtc_opus_encoder_config_init(&ec);
        ec.fec = fec;
        ec.expected_loss_pct = 20;
        ec.bitrate_bps = 28000;      /* SILK/hybrid, above libopus's LBRR rate threshold */
        ec.dtx = 0;
        ec.complexity = 5;
        mxrtc_opus_encoder *enc = NULL;
        assert_int_equal(mxrtc_opus_encoder_new(&enc, &ec, NULL), MXRTC_OK);
        int with = 0, silk = 0;
        for (int k = 0; k < 50; k++) {
            /* a voiced-like signal: 200 Hz with harmonics, changing level */
            for (int i = 0; i < 960; i++) {
                double t = (double)(k * 960 + i) / RATE;
                pcm[i] = (int16_t)((3000 + 2000 * sin(6.28 * 3 * t)) *
                                   (sin(6.28 * 200 * t) + 0.5 * sin(6.28 * 400 * t)));
            }
            int n = mxrtc_opus_encode(enc, pcm, pkt, sizeof pkt);
            assert_true(n > 2);
            if ((pkt[0] >> 3) < 16) silk++;
            int h = mxrtc_opus_packet_has_lbrr(pkt, (size_t)n);
            assert_true(h == 0 || h == 1);
            with += h;
        }
        mxrtc_opus_encoder_free(enc);
        printf("# lbrr fec=%d: %d of 50 packets SILK/hybrid, %d with LBRR\n", fec, silk, with);
        assert_true(silk >= 45);
        if (fec) assert_true(with >= 20);   /* LBRR only follows voice-active frames */
        else assert_int_equal(with, 0);
    }
    /* CELT-only TOC (config 31), and malformed input */
    const uint8_t celt[] = {0xF8, 0xFF, 0xFE, 0x01};
    assert_int_equal(mxrtc_opus_packet_has_lbrr(celt, sizeof celt), 0);
    assert_true(mxrtc_opus_packet_has_lbrr(celt, 0) < 0);
}

/* ---- bad input, bounds, allocation failures --------------------------- */

static int fake_decode(void *c, const uint8_t *p, size_t l, int16_t *pcm, size_t max) {
    (void)c;
    int n = mxrtc_opus_packet_samples(p, l);
    if (n < 0 || (size_t)n > max) return MXRTC_ERR_MALFORMED;
    memset(pcm, 0, (size_t)n * sizeof *pcm);
    return n;
}
static int fake_plc(void *c, int16_t *pcm, size_t n) {
    (void)c;
    memset(pcm, 0, n * sizeof *pcm);
    return (int)n;
}

static void bad_input_and_bounds(void **state) {
    (void)state;
    mxrtc_audio_decoder_iface di = {NULL, fake_decode, fake_plc, NULL, NULL, NULL};
    mxrtc_audio_jb_config cfg;
    mxrtc_audio_jb_config_init(&cfg);
    mxrtc_audio_jb *jb = NULL;
    cfg.channels = 3;
    assert_int_equal(mxrtc_audio_jb_new(&jb, &cfg, &di, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_audio_jb_config_init(&cfg);
    cfg.min_delay_ms = 500;
    cfg.max_delay_ms = 100;
    assert_int_equal(mxrtc_audio_jb_new(&jb, &cfg, &di, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_audio_decoder_iface nodec = {NULL, NULL, fake_plc, NULL, NULL, NULL};
    assert_int_equal(mxrtc_audio_jb_new(&jb, NULL, &nodec, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_audio_jb_config_init(&cfg);
    cfg.slots = 8;
    assert_int_equal(mxrtc_audio_jb_new(&jb, &cfg, &di, NULL), MXRTC_OK);

    uint8_t payload[2000] = {0x08 /* SILK NB 20 ms, code 0 */};
    mxrtc_rtp_packet p;
    memset(&p, 0, sizeof p);
    p.ssrc = 1;
    p.payload = payload;
    p.payload_len = 0;
    mxrtc_audio_jb_verdict v;
    assert_int_equal(mxrtc_audio_jb_push(jb, &p, 0, &v), MXRTC_ERR_TRUNCATED);
    p.payload_len = 1600;
    assert_int_equal(mxrtc_audio_jb_push(jb, &p, 0, &v), MXRTC_ERR_LIMIT);
    payload[0] = 0x0B;            /* code 3 */
    p.payload_len = 1;
    assert_true(mxrtc_audio_jb_push(jb, &p, 0, &v) < 0);
    assert_int_equal(mxrtc_audio_jb_push(NULL, &p, 0, &v), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_audio_jb_pull(jb, 0, NULL), MXRTC_ERR_INVALID_ARGUMENT);

    /* 100 packets at once into 8 slots: bounded, the overflow counted, the
     * newest kept; pulling then plays without trouble. */
    payload[0] = 0x08;
    p.payload_len = 20;
    for (int i = 0; i < 100; i++) {
        p.seq = (uint16_t)i;
        p.ts = (uint32_t)i * 960;
        assert_int_equal(mxrtc_audio_jb_push(jb, &p, 1000, &v), MXRTC_OK);
    }
    mxrtc_audio_jb_stats st;
    mxrtc_audio_jb_get_stats(jb, &st);
    assert_int_equal(st.overflow_drops, 92);
    assert_int_equal(st.malformed, 3);
    int16_t pcm[PULL];
    for (int i = 0; i < 100; i++) assert_int_equal(mxrtc_audio_jb_pull(jb, 1000 + i * 10000u, pcm), MXRTC_OK);
    mxrtc_audio_jb_get_stats(jb, &st);
    assert_int_equal(st.total_samples, 100 * PULL);
    assert_int_equal(st.packets_decoded, 8);
    /* a duplicate of a packet still held */
    p.seq = 99;
    p.ts = 99 * 960;
    assert_int_equal(mxrtc_audio_jb_push(jb, &p, 500000, &v), MXRTC_OK);
    assert_int_equal(v, MXRTC_AUDIO_JB_DUPLICATE);
    mxrtc_audio_jb_free(jb);
    mxrtc_audio_jb_free(NULL);
}

static void alloc_failures(void **state) {
    (void)state;
    mxrtc_audio_decoder_iface di = {NULL, fake_decode, fake_plc, NULL, NULL, NULL};
    test_alloc ta;
    test_alloc_init(&ta);
    int ok = 0;
    for (long n = 1; n < 20 && !ok; n++) {
        test_alloc_fail_nth(&ta, n);
        mxrtc_audio_jb *jb = NULL;
        int rc = mxrtc_audio_jb_new(&jb, NULL, &di, &ta.iface);
        if (rc == MXRTC_OK) {
            ok = 1;
            mxrtc_audio_jb_free(jb);
        } else {
            assert_int_equal(rc, MXRTC_ERR_NO_MEMORY);
            assert_null(jb);
        }
        assert_int_equal(ta.live, 0);
    }
    assert_true(ok);

    /* nothing is allocated after _new, whatever comes in */
    test_alloc_fail_nth(&ta, 0);
    mxrtc_audio_jb *jb = NULL;
    assert_int_equal(mxrtc_audio_jb_new(&jb, NULL, &di, &ta.iface), MXRTC_OK);
    long after_new = ta.total;
    uint8_t payload[40] = {0x08};
    mxrtc_rtp_packet p;
    memset(&p, 0, sizeof p);
    p.payload = payload;
    p.payload_len = sizeof payload;
    int16_t pcm[PULL];
    for (int i = 0; i < 500; i++) {
        p.seq = (uint16_t)(i * 7 % 500);
        p.ts = (uint32_t)p.seq * 960;
        p.ssrc = i < 250 ? 1 : 2;
        (void)mxrtc_audio_jb_push(jb, &p, (uint64_t)i * 20000, NULL);
        assert_int_equal(mxrtc_audio_jb_pull(jb, (uint64_t)i * 20000, pcm), MXRTC_OK);
    }
    assert_int_equal(ta.total, after_new);
    mxrtc_audio_jb_free(jb);
    assert_int_equal(ta.live, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loss_5),
        cmocka_unit_test(loss_10),
        cmocka_unit_test(loss_20),
        cmocka_unit_test(stereo_output),
        cmocka_unit_test(drift_sender_fast),
        cmocka_unit_test(drift_sender_slow),
        cmocka_unit_test(dtx_is_not_loss),
        cmocka_unit_test(ssrc_change_restarts),
        cmocka_unit_test(wraps_are_seamless),
        cmocka_unit_test(timestamp_jump_resyncs),
        cmocka_unit_test(duplicates_change_nothing),
        cmocka_unit_test(reordering_is_absorbed),
        cmocka_unit_test(late_packet_dropped_and_fec),
        cmocka_unit_test(lbrr_detection),
        cmocka_unit_test(bad_input_and_bounds),
        cmocka_unit_test(alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
