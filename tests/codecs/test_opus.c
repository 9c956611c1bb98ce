/*
 * test_opus.c: the Opus wrapper, checked on the decoded signal: tone
 * frequency and level through encode/decode (mono, stereo, 10 and 20 ms),
 * PLC, in-band FEC against PLC, DTX, run-time bitrate, malformed packets and
 * allocation failures.
 *
 * MXRTC_WRITE_SEEDS=DIR writes a few real packets as fuzz seeds to DIR.
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
#include "base/random.h"
#include "support/test_alloc.h"
#include "signal.h"

#define RATE 48000
#define MAX_PACKETS 200

typedef struct stream {
    uint8_t data[MAX_PACKETS][MXRTC_OPUS_MAX_PACKET];
    int len[MAX_PACKETS];
    size_t count;
    size_t frame;     /* samples per channel per packet */
} stream;

static stream *encode_all(const mxrtc_opus_encoder_config *cfg, const int16_t *pcm,
                          size_t samples) {
    mxrtc_opus_encoder *enc = NULL;
    assert_int_equal(mxrtc_opus_encoder_new(&enc, cfg, NULL), MXRTC_OK);
    stream *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->frame = mxrtc_opus_encoder_frame_samples(enc);
    assert_int_equal(s->frame, (size_t)(RATE / 1000 * cfg->frame_ms));
    for (size_t pos = 0; pos + s->frame <= samples; pos += s->frame) {
        assert_true(s->count < MAX_PACKETS);
        int n = mxrtc_opus_encode(enc, pcm + pos * (size_t)cfg->channels, s->data[s->count],
                                  sizeof s->data[s->count]);
        assert_true(n > 0);
        s->len[s->count++] = n;
    }
    mxrtc_opus_encoder_free(enc);
    return s;
}

/* Writes a fuzz_opus_decode seed: a flags byte, then [u16 length][packet]
 * for each packet given (see fuzz/fuzz_opus_decode.c). */
static void write_seed(const char *name, uint8_t flags, const uint8_t *const *pkts,
                       const size_t *lens, size_t count) {
    const char *dir = getenv("MXRTC_WRITE_SEEDS");
    if (!dir) return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputc(flags, f);
    for (size_t i = 0; i < count; i++) {
        fputc((int)(lens[i] >> 8), f);
        fputc((int)(lens[i] & 0xff), f);
        fwrite(pkts[i], 1, lens[i], f);
    }
    fclose(f);
}

static void write_stream_seed(const char *name, uint8_t flags, const stream *s, size_t first,
                              size_t count) {
    const uint8_t *pkts[8];
    size_t lens[8];
    for (size_t i = 0; i < count && i < 8; i++) {
        pkts[i] = s->data[first + i];
        lens[i] = (size_t)s->len[first + i];
    }
    write_seed(name, flags, pkts, lens, count < 8 ? count : 8);
}

/* Decodes every packet of s into out (channels interleaved). */
static size_t decode_all(const stream *s, int channels, int16_t *out) {
    mxrtc_opus_decoder_config dc;
    mxrtc_opus_decoder_config_init(&dc);
    dc.channels = channels;
    mxrtc_opus_decoder *dec = NULL;
    assert_int_equal(mxrtc_opus_decoder_new(&dec, &dc, NULL), MXRTC_OK);
    size_t pos = 0;
    for (size_t i = 0; i < s->count; i++) {
        int n = mxrtc_opus_decode(dec, s->data[i], (size_t)s->len[i],
                                  out + pos * (size_t)channels, MXRTC_OPUS_MAX_FRAME_SAMPLES);
        assert_int_equal(n, (int)s->frame);
        pos += (size_t)n;
    }
    mxrtc_opus_decoder_stats st;
    mxrtc_opus_decoder_get_stats(dec, &st);
    assert_int_equal(st.decoded_frames, s->count);
    assert_int_equal(st.decoded_samples, pos);
    assert_int_equal(st.concealed_frames, 0);
    mxrtc_opus_decoder_free(dec);
    return pos;
}

/* Encodes one second of a tone per channel and checks the decoded tone:
 * dominant frequency within 2%, level within 2 dB (skipping the first 100 ms,
 * where the codec ramps up), and waveform correlation after the codec delay. */
static void tone_roundtrip(int channels, int frame_ms, const double hz[2]) {
    int16_t *in = calloc(RATE * 2, sizeof *in);
    int16_t *out = calloc((RATE + MXRTC_OPUS_MAX_FRAME_SAMPLES) * 2, sizeof *out);
    assert_non_null(in);
    assert_non_null(out);
    for (int ch = 0; ch < channels; ch++) sig_sine(in, RATE, channels, ch, hz[ch], 10000.0, RATE, 0);

    mxrtc_opus_encoder_config cfg;
    mxrtc_opus_encoder_config_init(&cfg);
    cfg.channels = channels;
    cfg.frame_ms = frame_ms;
    stream *s = encode_all(&cfg, in, RATE);
    assert_int_equal(s->count, (size_t)(1000 / frame_ms));
    for (size_t i = 0; i < s->count; i++)
        assert_int_equal(mxrtc_opus_decoder_packet_samples(s->data[i], (size_t)s->len[i]), (int)s->frame);
    size_t got = decode_all(s, channels, out);
    assert_int_equal(got, (size_t)RATE);

    const size_t skip = RATE / 10, n = RATE - skip - 2000;
    for (int ch = 0; ch < channels; ch++) {
        double f = sig_peak_hz(out + skip * (size_t)channels, n, channels, ch, RATE, 100.0, 4000.0, 10.0);
        double rin = sig_rms(in + skip * (size_t)channels, n, channels, ch);
        double rout = sig_rms(out + skip * (size_t)channels, n, channels, ch);
        size_t lag = sig_best_lag(in + skip * (size_t)channels, out + skip * (size_t)channels,
                                  RATE / 4, channels, ch, 1500);
        double corr = sig_correlation(in + skip * (size_t)channels, out + skip * (size_t)channels,
                                      n, channels, ch, lag);
        print_message("opus %dch %dms ch%d: tone %.0f Hz -> peak %.1f Hz, rms %.0f -> %.0f, "
                      "delay %zu, corr %.3f, mid packet %d B\n",
                      channels, frame_ms, ch, hz[ch], f, rin, rout, lag, corr,
                      s->len[s->count / 2]);
        assert_true(fabs(f - hz[ch]) <= hz[ch] * 0.02);
        /* Within 2 dB; stereo at 64 kbit/s loses a little level to joint coding. */
        assert_true(rout > rin * 0.78 && rout < rin * 1.25);
        assert_true(corr > 0.85);
    }
    if (channels == 1 && frame_ms == 20 && hz[0] == 1000.0)
        write_stream_seed("tone_1000hz_mono_20ms", 0, s, 0, 4);
    if (channels == 2 && frame_ms == 20)
        write_stream_seed("tone_stereo_20ms", 1, s, 10, 3);
    if (channels == 1 && frame_ms == 10)
        write_stream_seed("tone_mono_10ms", 0, s, 10, 3);
    free(s);
    free(in);
    free(out);
}

static void mono_1000hz_20ms(void **state) {
    (void)state;
    const double hz[2] = {1000.0, 0};
    tone_roundtrip(1, 20, hz);
}

static void mono_440hz_20ms(void **state) {
    (void)state;
    const double hz[2] = {440.0, 0};
    tone_roundtrip(1, 20, hz);
}

static void mono_1000hz_10ms(void **state) {
    (void)state;
    const double hz[2] = {1000.0, 0};
    tone_roundtrip(1, 10, hz);
}

/* Different tones left and right: the channels must stay apart. */
static void stereo_1000_and_440hz(void **state) {
    (void)state;
    const double hz[2] = {1000.0, 440.0};
    tone_roundtrip(2, 20, hz);
    tone_roundtrip(2, 10, hz);
}

/* Every 5th packet lost: the decoder conceals it with PLC, the output keeps
 * its length and its tone, and the concealment is counted. */
static void plc_keeps_length_and_tone(void **state) {
    (void)state;
    int16_t *in = calloc(RATE, sizeof *in);
    int16_t *out = calloc(RATE + MXRTC_OPUS_MAX_FRAME_SAMPLES, sizeof *out);
    sig_sine(in, RATE, 1, 0, 1000.0, 10000.0, RATE, 0);
    mxrtc_opus_encoder_config cfg;
    mxrtc_opus_encoder_config_init(&cfg);
    stream *s = encode_all(&cfg, in, RATE);

    mxrtc_opus_decoder_config dc;
    mxrtc_opus_decoder_config_init(&dc);
    mxrtc_opus_decoder *dec = NULL;
    assert_int_equal(mxrtc_opus_decoder_new(&dec, &dc, NULL), MXRTC_OK);
    size_t pos = 0, lost = 0;
    for (size_t i = 0; i < s->count; i++) {
        int n;
        if (i % 5 == 4) {
            n = mxrtc_opus_decode_plc(dec, out + pos, s->frame);
            lost++;
        } else {
            n = mxrtc_opus_decode(dec, s->data[i], (size_t)s->len[i], out + pos,
                                  MXRTC_OPUS_MAX_FRAME_SAMPLES);
        }
        assert_int_equal(n, (int)s->frame);
        pos += (size_t)n;
    }
    assert_int_equal(pos, (size_t)RATE);
    mxrtc_opus_decoder_stats st;
    mxrtc_opus_decoder_get_stats(dec, &st);
    assert_int_equal(st.concealed_frames, lost);
    assert_int_equal(st.concealed_samples, lost * s->frame);
    assert_int_equal(st.decoded_frames, s->count - lost);
    double f = sig_peak_hz(out + RATE / 10, RATE / 2, 1, 0, RATE, 100.0, 4000.0, 10.0);
    double rout = sig_rms(out + RATE / 10, RATE / 2, 1, 0);
    print_message("opus plc: %zu of %zu lost, peak %.1f Hz, rms %.0f\n", lost, s->count, f, rout);
    assert_true(fabs(f - 1000.0) <= 20.0);
    assert_true(rout > 3000.0);

    /* RFC 6716 §3.1: a CELT-only packet (config 31 here) has no LBRR, so
     * "FEC" from it is concealment and is counted as such. */
    static const uint8_t celt_only[] = {0xF8, 0x00};
    assert_int_equal(mxrtc_opus_decode_fec(dec, celt_only, sizeof celt_only, out, s->frame),
                     (int)s->frame);
    mxrtc_opus_decoder_stats st2;
    mxrtc_opus_decoder_get_stats(dec, &st2);
    assert_int_equal(st2.concealed_frames, lost + 1);
    assert_int_equal(st2.fec_frames, 0);

    /* PLC durations must be whole 2.5 ms steps. */
    assert_int_equal(mxrtc_opus_decode_plc(dec, out, 100), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_opus_decode_plc(dec, out, 0), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_opus_decode_plc(dec, out, MXRTC_OPUS_MAX_FRAME_SAMPLES + 120),
                     MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_opus_decoder_free(dec);
    free(s);
    free(in);
    free(out);
}

/* A speech-like test signal: a new pitch and level every 20 ms frame (drawn
 * from a seeded generator), so that concealment, which extrapolates the
 * previous frame, cannot guess the lost one. Harmonics make it voiced. */
static void make_voiced_signal(int16_t *pcm, size_t samples, uint64_t seed) {
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, seed);
    double phase = 0.0;
    for (size_t pos = 0; pos < samples; pos += 960) {
        double f0 = 120.0 + (double)(mxrtc_seeded_random_next(&g) % 200);
        double amp = 3000.0 + (double)(mxrtc_seeded_random_next(&g) % 5000);
        for (size_t i = pos; i < pos + 960 && i < samples; i++) {
            phase += 2.0 * 3.14159265358979323846 * f0 / RATE;
            double v = amp * (sin(phase) + 0.5 * sin(2 * phase) + 0.3 * sin(3 * phase));
            pcm[i] = (int16_t)lrint(v);
        }
    }
}

/* FEC at 20% expected loss: packet N is lost, and its content is rebuilt
 * from packet N+1's LBRR data. The rebuilt frame must resemble the original
 * better than the PLC guess does. */
static void fec_beats_plc(void **state) {
    (void)state;
    const size_t total = RATE * 2;
    int16_t *in = calloc(total, sizeof *in);
    int16_t *clean = calloc(total + MXRTC_OPUS_MAX_FRAME_SAMPLES, sizeof *clean);
    int16_t *with_fec = calloc(total + MXRTC_OPUS_MAX_FRAME_SAMPLES, sizeof *with_fec);
    int16_t *with_plc = calloc(total + MXRTC_OPUS_MAX_FRAME_SAMPLES, sizeof *with_plc);
    make_voiced_signal(in, total, 42);
    mxrtc_opus_encoder_config cfg;
    mxrtc_opus_encoder_config_init(&cfg);
    cfg.expected_loss_pct = 20;
    cfg.bitrate_bps = 32000;
    stream *s = encode_all(&cfg, in, total);
    /* FEC lives in SILK frames (RFC 6716 §2.1.7): the voice application must
     * have picked SILK or hybrid for this signal. */
    for (size_t i = 5; i < s->count; i++) assert_true((s->data[i][0] >> 3) < 16);

    /* The codec delay, from a clean decode. */
    size_t n = decode_all(s, 1, clean);
    assert_int_equal(n, total);
    size_t lag = sig_best_lag(in + RATE / 4, clean + RATE / 4, RATE / 2, 1, 0, 1500);

    const size_t lost[] = {20, 35, 50, 65, 80};
    const size_t nlost = sizeof lost / sizeof lost[0];
    mxrtc_opus_decoder_config dc;
    mxrtc_opus_decoder_config_init(&dc);
    mxrtc_opus_decoder *df = NULL, *dp = NULL;
    assert_int_equal(mxrtc_opus_decoder_new(&df, &dc, NULL), MXRTC_OK);
    assert_int_equal(mxrtc_opus_decoder_new(&dp, &dc, NULL), MXRTC_OK);
    size_t k = 0;
    for (size_t i = 0; i < s->count; i++) {
        int16_t *of = with_fec + i * s->frame, *op = with_plc + i * s->frame;
        if (k < nlost && i == lost[k]) {
            assert_int_equal(mxrtc_opus_decode_fec(df, s->data[i + 1], (size_t)s->len[i + 1], of,
                                                   s->frame), (int)s->frame);
            assert_int_equal(mxrtc_opus_decode_plc(dp, op, s->frame), (int)s->frame);
            k++;
            continue;
        }
        assert_int_equal(mxrtc_opus_decode(df, s->data[i], (size_t)s->len[i], of, s->frame), (int)s->frame);
        assert_int_equal(mxrtc_opus_decode(dp, s->data[i], (size_t)s->len[i], op, s->frame), (int)s->frame);
    }
    mxrtc_opus_decoder_stats st;
    mxrtc_opus_decoder_get_stats(df, &st);
    assert_int_equal(st.fec_frames, nlost);
    assert_int_equal(st.fec_samples, nlost * s->frame);
    assert_int_equal(st.concealed_frames, 0);
    mxrtc_opus_decoder_get_stats(dp, &st);
    assert_int_equal(st.concealed_frames, nlost);

    /* Output at [N*frame, (N+1)*frame) holds input delayed by lag. */
    double sum_fec = 0.0, sum_plc = 0.0;
    for (k = 0; k < nlost; k++) {
        size_t start = lost[k] * s->frame;
        const int16_t *ref = in + start - lag;
        double cf = sig_correlation(ref, with_fec + start, s->frame, 1, 0, 0);
        double cp = sig_correlation(ref, with_plc + start, s->frame, 1, 0, 0);
        print_message("opus fec: frame %zu corr fec %.3f plc %.3f\n", lost[k], cf, cp);
        sum_fec += cf;
        sum_plc += cp;
    }
    print_message("opus fec: delay %zu, mean corr fec %.3f plc %.3f\n", lag, sum_fec / nlost,
                  sum_plc / nlost);
    assert_true(sum_fec / nlost > 0.5);
    assert_true(sum_fec > sum_plc + 0.2 * nlost);
    write_stream_seed("voiced_fec_20ms", 2, s, 19, 4);

    mxrtc_opus_decoder_free(df);
    mxrtc_opus_decoder_free(dp);
    free(s);
    free(in);
    free(clean);
    free(with_fec);
    free(with_plc);
}

/* Two seconds of digital silence: after libopus's hangover the encoder sends
 * DTX frames of at most 2 bytes; the decoder turns them into near silence. */
static void dtx_on_silence(void **state) {
    (void)state;
    int16_t *in = calloc(RATE * 2, sizeof *in);
    int16_t *out = calloc(RATE * 2 + MXRTC_OPUS_MAX_FRAME_SAMPLES, sizeof *out);
    mxrtc_opus_encoder_config cfg;
    mxrtc_opus_encoder_config_init(&cfg);
    mxrtc_opus_encoder *enc = NULL;
    assert_int_equal(mxrtc_opus_encoder_new(&enc, &cfg, NULL), MXRTC_OK);
    mxrtc_opus_decoder_config dc;
    mxrtc_opus_decoder_config_init(&dc);
    mxrtc_opus_decoder *dec = NULL;
    assert_int_equal(mxrtc_opus_decoder_new(&dec, &dc, NULL), MXRTC_OK);
    uint8_t pkt[MXRTC_OPUS_MAX_PACKET];
    size_t dtx = 0, bytes = 0, pos = 0, frames = 0, sent = 0;
    for (size_t i = 0; i + 960 <= (size_t)RATE * 2; i += 960) {
        int n = mxrtc_opus_encode(enc, in + i, pkt, sizeof pkt);
        assert_true(n > 0);
        frames++;
        bytes += (size_t)n;
        if (n <= MXRTC_OPUS_DTX_MAX_BYTES) {
            dtx++;
            assert_true(mxrtc_opus_encoder_in_dtx(enc));
            if (dtx == 5) {
                const uint8_t *p1[1] = {pkt};
                size_t l1[1] = {(size_t)n};
                write_seed("dtx_frame", 4, p1, l1, 1);
            }
            /* The sender skips DTX frames: the receiver sees a gap. */
            assert_int_equal(mxrtc_opus_decode_dtx_gap(dec, out + pos, 960), 960);
        } else {
            assert_int_equal(mxrtc_opus_decode(dec, pkt, (size_t)n, out + pos, 960), 960);
            sent++;
        }
        pos += 960;
    }
    print_message("opus dtx: %zu of %zu frames DTX, %zu sent, mean %.1f B\n", dtx, frames, sent,
                  (double)bytes / (double)frames);
    assert_true(dtx >= frames * 8 / 10);
    assert_true((double)bytes / (double)frames < 10.0);
    assert_true(sig_rms(out, pos, 1, 0) < 50.0);
    mxrtc_opus_decoder_stats st;
    mxrtc_opus_decoder_get_stats(dec, &st);
    assert_int_equal(st.dtx_samples, dtx * 960);
    assert_int_equal(st.concealed_samples, 0);
    /* A TOC-only packet (what a DTX frame is) decodes as DTX too. */
    uint8_t toc = pkt[0];
    assert_int_equal(mxrtc_opus_decode(dec, &toc, 1, out, 960), 960);
    mxrtc_opus_decoder_get_stats(dec, &st);
    assert_int_equal(st.dtx_samples, dtx * 960 + 960);
    mxrtc_opus_encoder_free(enc);
    mxrtc_opus_decoder_free(dec);
    free(in);
    free(out);
}

/* A rich signal (tones plus noise) encoded at 12 kbit/s, then at 64 kbit/s
 * after a run-time change: the packets grow accordingly. */
static void bitrate_change_takes_effect(void **state) {
    (void)state;
    const size_t total = RATE * 2;
    int16_t *in = calloc(total, sizeof *in);
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 7);
    for (size_t i = 0; i < total; i++) {
        double v = 4000.0 * sin(2 * 3.14159265358979323846 * 440.0 * (double)i / RATE) +
                   3000.0 * sin(2 * 3.14159265358979323846 * 3100.0 * (double)i / RATE) +
                   (double)(mxrtc_seeded_random_next(&g) % 4001) - 2000.0;
        in[i] = (int16_t)lrint(v);
    }
    mxrtc_opus_encoder_config cfg;
    mxrtc_opus_encoder_config_init(&cfg);
    cfg.bitrate_bps = 12000;
    mxrtc_opus_encoder *enc = NULL;
    assert_int_equal(mxrtc_opus_encoder_new(&enc, &cfg, NULL), MXRTC_OK);
    uint8_t pkt[MXRTC_OPUS_MAX_PACKET];
    double sum[2] = {0, 0};
    size_t cnt[2] = {0, 0};
    for (size_t f = 0; f < total / 960; f++) {
        if (f == total / 960 / 2)
            assert_int_equal(mxrtc_opus_encoder_set_bitrate(enc, 64000), MXRTC_OK);
        int n = mxrtc_opus_encode(enc, in + f * 960, pkt, sizeof pkt);
        assert_true(n > 0);
        size_t half = f < total / 960 / 2 ? 0 : 1;
        size_t within = half ? f - total / 960 / 2 : f;
        if (within >= 10) {   /* let the rate settle */
            sum[half] += n;
            cnt[half]++;
        }
    }
    double a = sum[0] / (double)cnt[0], b = sum[1] / (double)cnt[1];
    print_message("opus bitrate: 12 kbit/s mean %.1f B, 64 kbit/s mean %.1f B\n", a, b);
    /* 12 kbit/s is 30 B per 20 ms, 64 kbit/s is 160 B (VBR: roughly). */
    assert_true(a < 45.0);
    assert_true(b > 110.0);
    assert_int_equal(mxrtc_opus_encoder_set_bitrate(enc, 5000), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_opus_encoder_set_bitrate(enc, 600000), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_opus_encoder_set_complexity(enc, 5), MXRTC_OK);
    assert_int_equal(mxrtc_opus_encoder_set_complexity(enc, 11), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_opus_encoder_set_expected_loss(enc, 5), MXRTC_OK);
    assert_int_equal(mxrtc_opus_encoder_set_expected_loss(enc, 101), MXRTC_ERR_INVALID_ARGUMENT);
    assert_true(mxrtc_opus_encoder_lookahead(enc) > 0);
    mxrtc_opus_encoder_free(enc);
    free(in);
}

/* RFC 6716 §3.4 requirements broken on purpose: each is MXRTC_ERR_MALFORMED,
 * counted, and the decoder still decodes a good packet afterwards. Then
 * random bytes: any result but a crash is acceptable, and the only error is
 * MXRTC_ERR_MALFORMED. */
static void malformed_packets(void **state) {
    (void)state;
    mxrtc_opus_decoder_config dc;
    mxrtc_opus_decoder_config_init(&dc);
    mxrtc_opus_decoder *dec = NULL;
    assert_int_equal(mxrtc_opus_decoder_new(&dec, &dc, NULL), MXRTC_OK);
    int16_t *out = calloc(MXRTC_OPUS_MAX_FRAME_SAMPLES, sizeof *out);

    /* TOC 0xF8: config 31 (CELT FB 20 ms), mono, code 0. */
    static const uint8_t code3_zero_frames[] = {0xFB, 0x00};          /* [R5] M = 0 */
    static const uint8_t code3_too_long[] = {0xFB, 0x07, 0, 0};       /* 7 x 20 ms > 120 ms */
    static const uint8_t code1_odd[] = {0xF9, 1, 2, 3};               /* [R3] odd length */
    static const uint8_t code2_overrun[] = {0xFA, 200, 1, 2, 3};      /* [R4] first frame too long */
    static const uint8_t code2_no_len[] = {0xFA};                     /* [R4] no length byte */
    static const uint8_t code3_cbr_uneven[] = {0xFB, 0x03, 1, 2, 3, 4};  /* [R6] 4 bytes / 3 frames */
    const struct { const uint8_t *p; size_t n; } bad[] = {
        {code3_zero_frames, sizeof code3_zero_frames}, {code3_too_long, sizeof code3_too_long},
        {code1_odd, sizeof code1_odd}, {code2_overrun, sizeof code2_overrun},
        {code2_no_len, sizeof code2_no_len}, {code3_cbr_uneven, sizeof code3_cbr_uneven},
    };
    const size_t nbad = sizeof bad / sizeof bad[0];
    {
        const uint8_t *pk[6];
        size_t ln[6];
        for (size_t i = 0; i < nbad; i++) {
            pk[i] = bad[i].p;
            ln[i] = bad[i].n;
        }
        write_seed("malformed_rfc6716", 2, pk, ln, nbad);
    }
    for (size_t i = 0; i < nbad; i++) {
        assert_int_equal(mxrtc_opus_decode(dec, bad[i].p, bad[i].n, out, MXRTC_OPUS_MAX_FRAME_SAMPLES),
                         MXRTC_ERR_MALFORMED);
        assert_int_equal(mxrtc_opus_decoder_packet_samples(bad[i].p, bad[i].n), MXRTC_ERR_MALFORMED);
        assert_int_equal(mxrtc_opus_decode_fec(dec, bad[i].p, bad[i].n, out, 960), MXRTC_ERR_MALFORMED);
    }
    assert_int_equal(mxrtc_opus_decode(dec, code1_odd, 0, out, 960), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_opus_decode(dec, NULL, 0, out, 960), MXRTC_ERR_MALFORMED);
    mxrtc_opus_decoder_stats st;
    mxrtc_opus_decoder_get_stats(dec, &st);
    assert_int_equal(st.malformed_packets, 2 * nbad + 2);
    assert_int_equal(st.decoded_frames, 0);

    /* A good packet still decodes; a too-small output buffer is refused. */
    int16_t tone[960];
    sig_sine(tone, 960, 1, 0, 1000.0, 8000.0, RATE, 0);
    mxrtc_opus_encoder_config cfg;
    mxrtc_opus_encoder_config_init(&cfg);
    mxrtc_opus_encoder *enc = NULL;
    assert_int_equal(mxrtc_opus_encoder_new(&enc, &cfg, NULL), MXRTC_OK);
    uint8_t pkt[MXRTC_OPUS_MAX_PACKET];
    int n = mxrtc_opus_encode(enc, tone, pkt, sizeof pkt);
    assert_true(n > 0);
    assert_int_equal(mxrtc_opus_encode(enc, tone, pkt, 100), MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(mxrtc_opus_decode(dec, pkt, (size_t)n, out, 480), MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(mxrtc_opus_decode(dec, pkt, (size_t)n, out, 960), 960);

    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 99);
    uint8_t junk[400];
    size_t ok = 0, malformed = 0;
    for (int i = 0; i < 2000; i++) {
        size_t len = 1 + (size_t)(mxrtc_seeded_random_next(&g) % sizeof junk);
        for (size_t j = 0; j < len; j++) junk[j] = (uint8_t)mxrtc_seeded_random_next(&g);
        int r = mxrtc_opus_decode(dec, junk, len, out, MXRTC_OPUS_MAX_FRAME_SAMPLES);
        if (r >= 0) {
            assert_int_equal(r, mxrtc_opus_decoder_packet_samples(junk, len));
            ok++;
        } else {
            assert_int_equal(r, MXRTC_ERR_MALFORMED);
            malformed++;
        }
    }
    print_message("opus junk: %zu decoded, %zu malformed\n", ok, malformed);
    assert_true(malformed > 0);
    mxrtc_opus_encoder_free(enc);
    mxrtc_opus_decoder_free(dec);
    free(out);
}

static void bad_configs_and_alloc_failures(void **state) {
    (void)state;
    mxrtc_opus_encoder_config cfg;
    mxrtc_opus_encoder *enc = (mxrtc_opus_encoder *)&cfg;
    mxrtc_opus_encoder_config_init(&cfg);
    cfg.channels = 3;
    assert_int_equal(mxrtc_opus_encoder_new(&enc, &cfg, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    assert_null(enc);
    mxrtc_opus_encoder_config_init(&cfg);
    cfg.frame_ms = 40;
    assert_int_equal(mxrtc_opus_encoder_new(&enc, &cfg, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_opus_encoder_config_init(&cfg);
    cfg.complexity = 11;
    assert_int_equal(mxrtc_opus_encoder_new(&enc, &cfg, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_opus_encoder_config_init(&cfg);
    cfg.expected_loss_pct = -1;
    assert_int_equal(mxrtc_opus_encoder_new(&enc, &cfg, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_opus_encoder_config_init(&cfg);
    cfg.size = 4;
    assert_int_equal(mxrtc_opus_encoder_new(&enc, &cfg, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_opus_encoder_new(NULL, &cfg, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_opus_decoder_config dc;
    mxrtc_opus_decoder_config_init(&dc);
    dc.channels = 0;
    mxrtc_opus_decoder *dec = NULL;
    assert_int_equal(mxrtc_opus_decoder_new(&dec, &dc, NULL), MXRTC_ERR_INVALID_ARGUMENT);

    /* The whole state comes from the injected allocator, in one block. */
    test_alloc ta;
    test_alloc_init(&ta);
    mxrtc_opus_encoder_config_init(&cfg);
    test_alloc_fail_nth(&ta, 1);
    assert_int_equal(mxrtc_opus_encoder_new(&enc, &cfg, &ta.iface), MXRTC_ERR_NO_MEMORY);
    assert_int_equal(ta.live, 0);
    mxrtc_opus_decoder_config_init(&dc);
    test_alloc_fail_nth(&ta, 1);
    assert_int_equal(mxrtc_opus_decoder_new(&dec, &dc, &ta.iface), MXRTC_ERR_NO_MEMORY);
    assert_int_equal(ta.live, 0);
    test_alloc_fail_nth(&ta, 0);
    assert_int_equal(mxrtc_opus_encoder_new(&enc, &cfg, &ta.iface), MXRTC_OK);
    assert_int_equal(mxrtc_opus_decoder_new(&dec, &dc, &ta.iface), MXRTC_OK);
    assert_int_equal(ta.live, 2);
    /* No allocation per frame. */
    long before = ta.total;
    int16_t pcm[960] = {0};
    uint8_t pkt[MXRTC_OPUS_MAX_PACKET];
    for (int i = 0; i < 10; i++) {
        int n = mxrtc_opus_encode(enc, pcm, pkt, sizeof pkt);
        assert_true(n > 0);
        assert_true(mxrtc_opus_decode(dec, pkt, (size_t)n, pcm, 960) == 960);
    }
    assert_int_equal(ta.total, before);
    mxrtc_opus_encoder_free(enc);
    mxrtc_opus_decoder_free(dec);
    assert_int_equal(ta.live, 0);
    mxrtc_opus_encoder_free(NULL);
    mxrtc_opus_decoder_free(NULL);
}

/* A stereo stream into a mono decoder (libopus downmixes), and a reset. */
static void stereo_stream_to_mono_decoder(void **state) {
    (void)state;
    int16_t *in = calloc(RATE * 2, sizeof *in);
    int16_t *out = calloc(RATE + MXRTC_OPUS_MAX_FRAME_SAMPLES, sizeof *out);
    sig_sine(in, RATE, 2, 0, 1000.0, 8000.0, RATE, 0);
    sig_sine(in, RATE, 2, 1, 1000.0, 8000.0, RATE, 0);
    mxrtc_opus_encoder_config cfg;
    mxrtc_opus_encoder_config_init(&cfg);
    cfg.channels = 2;
    stream *s = encode_all(&cfg, in, RATE);
    size_t n = decode_all(s, 1, out);
    assert_int_equal(n, (size_t)RATE);
    double f = sig_peak_hz(out + RATE / 10, RATE / 2, 1, 0, RATE, 100.0, 4000.0, 10.0);
    assert_true(fabs(f - 1000.0) <= 20.0);
    free(s);
    free(in);
    free(out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mono_1000hz_20ms),
        cmocka_unit_test(mono_440hz_20ms),
        cmocka_unit_test(mono_1000hz_10ms),
        cmocka_unit_test(stereo_1000_and_440hz),
        cmocka_unit_test(stereo_stream_to_mono_decoder),
        cmocka_unit_test(plc_keeps_length_and_tone),
        cmocka_unit_test(fec_beats_plc),
        cmocka_unit_test(dtx_on_silence),
        cmocka_unit_test(bitrate_change_takes_effect),
        cmocka_unit_test(malformed_packets),
        cmocka_unit_test(bad_configs_and_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
