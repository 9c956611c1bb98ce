/*
 * fuzz_jitter_buffer.c: the Opus jitter buffer (rtp/jitter_audio.h) fed
 * random packets and pulls on a synthetic clock.
 *
 * Input: one flags byte (bit 0: stereo; bit 1: the real Opus decoder from
 * codecs/ instead of a checking fake), then operations:
 *   0x00..0x7F  push: bit 0 switches SSRC, bit 1 adds 2^30 to the timestamp;
 *               then int8 sequence delta, int16 (big-endian) timestamp delta,
 *               int8 arrival offset in ms from now, u8 length, payload bytes
 *   0x80..0xFF  pull (op & 15) + 1 times, 10 ms apart
 * The fake decoder aborts when the jitter buffer breaks the interface
 * contract (sizes not multiples of 2.5 ms, above 120 ms, or a packet larger
 * than the room given); after each pull the stats must stay consistent.
 * Seeds: packet sequences of tests/rtp_receive (MXRTC_WRITE_SEEDS=DIR).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "codecs/codec.h"
#include "rtp/jitter_audio.h"
#include "rtp/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fake_channels;

static int fake_decode(void *c, const uint8_t *p, size_t l, int16_t *pcm, size_t max) {
    (void)c;
    int n = mxrtc_opus_packet_samples(p, l);
    if (n <= 0) abort();                      /* the buffer validated it on push */
    if ((size_t)n > max) abort();
    if (l > 1 && p[1] == 0xEE) return MXRTC_ERR_MALFORMED;   /* a decoder refusing */
    for (size_t i = 0; i < (size_t)n * (size_t)fake_channels; i++) pcm[i] = (int16_t)(i * 7);
    return n;
}

static void check_size(size_t n) {
    if (n == 0 || n % 120 || n > MXRTC_AUDIO_JB_MAX_FRAME) abort();
}

static int fake_plc(void *c, int16_t *pcm, size_t n) {
    (void)c;
    check_size(n);
    memset(pcm, 0, n * (size_t)fake_channels * sizeof *pcm);
    return (int)n;
}

static int fake_fec(void *c, const uint8_t *p, size_t l, int16_t *pcm, size_t n) {
    check_size(n);
    if (mxrtc_opus_packet_samples(p, l) <= 0) abort();
    return fake_plc(c, pcm, n);
}

static int r_decode(void *c, const uint8_t *p, size_t l, int16_t *pcm, size_t max) {
    return mxrtc_opus_decode(c, p, l, pcm, max);
}
static int r_plc(void *c, int16_t *pcm, size_t n) { return mxrtc_opus_decode_plc(c, pcm, n); }
static int r_fec(void *c, const uint8_t *p, size_t l, int16_t *pcm, size_t n) {
    return mxrtc_opus_decode_fec(c, p, l, pcm, n);
}
static int r_dtx(void *c, int16_t *pcm, size_t n) { return mxrtc_opus_decode_dtx_gap(c, pcm, n); }
static void r_reset(void *c) { mxrtc_opus_decoder_reset(c); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    mxrtc_reader r;
    mxrtc_reader_init(&r, data, size);
    uint8_t flags = mxrtc_read_u8(&r);
    fake_channels = (flags & 1) ? 2 : 1;
    mxrtc_opus_decoder *od = NULL;
    mxrtc_audio_decoder_iface di = {NULL, fake_decode, fake_plc, fake_fec, NULL, NULL};
    if (flags & 2) {
        mxrtc_opus_decoder_config dc;
        mxrtc_opus_decoder_config_init(&dc);
        dc.channels = fake_channels;
        if (mxrtc_opus_decoder_new(&od, &dc, NULL) != MXRTC_OK) return 0;
        mxrtc_audio_decoder_iface real = {od, r_decode, r_plc, r_fec, r_dtx, r_reset};
        di = real;
    }
    mxrtc_audio_jb_config cfg;
    mxrtc_audio_jb_config_init(&cfg);
    cfg.channels = fake_channels;
    cfg.slots = 16;
    mxrtc_audio_jb *jb = NULL;
    if (mxrtc_audio_jb_new(&jb, &cfg, &di, NULL) != MXRTC_OK) abort();

    static int16_t pcm[MXRTC_AUDIO_JB_PULL_SAMPLES * 2];
    uint64_t now = 1000000;
    uint16_t seq = 0;
    uint32_t ts = 0, ssrc = 1;
    uint64_t pulls = 0;
    while (mxrtc_reader_remaining(&r) > 0) {
        uint8_t op = mxrtc_read_u8(&r);
        if (op & 0x80) {
            if (pulls > 3000) break;   /* 30 s of playout is plenty per input */
            for (int i = 0; i <= (op & 15); i++) {
                if (mxrtc_audio_jb_pull(jb, now, pcm) != MXRTC_OK) abort();
                pulls++;
                now += 10000;
                mxrtc_audio_jb_stats st;
                mxrtc_audio_jb_get_stats(jb, &st);
                if (st.total_samples != pulls * MXRTC_AUDIO_JB_PULL_SAMPLES) abort();
                if (st.concealed_samples > st.total_samples + st.accelerate_samples + 20000) abort();
                if (st.packets_decoded > st.packets_received) abort();
            }
            continue;
        }
        int8_t dseq = (int8_t)mxrtc_read_u8(&r);
        int16_t dts = (int16_t)mxrtc_read_u16(&r);
        int8_t darr = (int8_t)mxrtc_read_u8(&r);
        uint8_t len = mxrtc_read_u8(&r);
        const uint8_t *payload = mxrtc_read_ptr(&r, len);
        if (r.error) break;
        if (op & 1) ssrc = ssrc == 1 ? 2 : 1;
        if (op & 2) ts += 0x40000000u;
        seq = (uint16_t)(seq + dseq);
        ts += (uint32_t)(int32_t)dts;
        mxrtc_rtp_packet p;
        memset(&p, 0, sizeof p);
        p.ssrc = ssrc;
        p.seq = seq;
        p.ts = ts;
        p.pt = 111;
        p.payload = payload;
        p.payload_len = len;
        uint64_t arrival = now + (int64_t)darr * 1000;
        mxrtc_audio_jb_verdict v;
        int rc = mxrtc_audio_jb_push(jb, &p, arrival, &v);
        if (rc != MXRTC_OK && rc != MXRTC_ERR_MALFORMED && rc != MXRTC_ERR_TRUNCATED &&
            rc != MXRTC_ERR_LIMIT)
            abort();
        if (rc == MXRTC_OK && v > MXRTC_AUDIO_JB_DROPPED) abort();
    }
    mxrtc_audio_jb_free(jb);
    mxrtc_opus_decoder_free(od);
    return 0;
}
