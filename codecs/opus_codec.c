/*
 * opus_codec.c: the Opus encoder and decoder (RFC 6716) over libopus.
 *
 * Settings follow what a WebRTC voice sender uses (see docs/codecs.md):
 * OPUS_APPLICATION_VOIP, in-band FEC with the expected loss rate, DTX, VBR.
 * The libopus states are placed in memory from the caller's allocator with
 * opus_encoder_get_size()/opus_encoder_init() (and the decoder equivalents),
 * so that allocation failures can be injected and accounted for; nothing is
 * allocated per frame.
 */
#include "codecs/codec.h"

#include <opus.h>

#include "base/alloc.h"

struct mxrtc_opus_encoder {
    mxrtc_allocator alloc;
    int has_alloc;
    int channels;
    size_t frame_samples;     /* per channel */
    OpusEncoder *st;          /* points into this block, after the struct */
};

struct mxrtc_opus_decoder {
    mxrtc_allocator alloc;
    int has_alloc;
    int channels;
    mxrtc_opus_decoder_stats stats;
    OpusDecoder *st;
};

/* libopus errors (opus_defines.h) to ours. */
static int map_opus_error(int err) {
    switch (err) {
    case OPUS_OK: return MXRTC_OK;
    case OPUS_BAD_ARG: return MXRTC_ERR_INVALID_ARGUMENT;
    case OPUS_BUFFER_TOO_SMALL: return MXRTC_ERR_BUFFER_TOO_SMALL;
    case OPUS_INVALID_PACKET: return MXRTC_ERR_MALFORMED;
    case OPUS_UNIMPLEMENTED: return MXRTC_ERR_UNSUPPORTED;
    case OPUS_INVALID_STATE: return MXRTC_ERR_STATE;
    case OPUS_ALLOC_FAIL: return MXRTC_ERR_NO_MEMORY;
    default: return MXRTC_ERR_INTERNAL;    /* OPUS_INTERNAL_ERROR and unknown codes */
    }
}

/* The state sits right after our struct, aligned for any type libopus keeps. */
static size_t state_offset(size_t head) {
    const size_t align = sizeof(max_align_t) > 16 ? sizeof(max_align_t) : 16;
    return (head + align - 1) / align * align;
}

static const mxrtc_allocator *alloc_of(int has, const mxrtc_allocator *a) {
    return has ? a : NULL;
}

/* ---- encoder ------------------------------------------------------------ */

void mxrtc_opus_encoder_config_init(mxrtc_opus_encoder_config *cfg) {
    if (!cfg) return;
    cfg->size = sizeof *cfg;
    cfg->channels = 1;
    cfg->frame_ms = 20;
    cfg->bitrate_bps = 0;          /* 0: 32 kbit/s per channel, chosen in _new */
    /* 9 of 10: near-best quality at a cost any desktop CPU pays easily for
     * one voice stream (libwebrtc's desktop default; it uses 5 on mobile). */
    cfg->complexity = 9;
    cfg->fec = 1;
    cfg->expected_loss_pct = 10;
    cfg->dtx = 1;
}

static int valid_bitrate(int bps) {
    return bps >= 6000 && bps <= 510000;    /* RFC 6716 §2.1.1: 6 kbit/s to 510 kbit/s */
}

static int enc_ctl_int(OpusEncoder *st, int request, int value) {
    return map_opus_error(opus_encoder_ctl(st, request, value));
}

int mxrtc_opus_encoder_new(mxrtc_opus_encoder **out, const mxrtc_opus_encoder_config *cfg,
                           const mxrtc_allocator *alloc) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!cfg || cfg->size < sizeof *cfg) return MXRTC_ERR_INVALID_ARGUMENT;
    if (cfg->channels != 1 && cfg->channels != 2) return MXRTC_ERR_INVALID_ARGUMENT;
    if (cfg->frame_ms != 10 && cfg->frame_ms != 20) return MXRTC_ERR_INVALID_ARGUMENT;
    int bitrate = cfg->bitrate_bps ? cfg->bitrate_bps : 32000 * cfg->channels;
    if (!valid_bitrate(bitrate)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (cfg->complexity < 0 || cfg->complexity > 10) return MXRTC_ERR_INVALID_ARGUMENT;
    if (cfg->expected_loss_pct < 0 || cfg->expected_loss_pct > 100)
        return MXRTC_ERR_INVALID_ARGUMENT;

    size_t off = state_offset(sizeof(mxrtc_opus_encoder));
    size_t st_size = (size_t)opus_encoder_get_size(cfg->channels);
    if (st_size == 0) return MXRTC_ERR_INTERNAL;
    mxrtc_opus_encoder *e = mxrtc_calloc(alloc, 1, off + st_size);
    if (!e) return MXRTC_ERR_NO_MEMORY;
    if (alloc) {
        e->alloc = *alloc;
        e->has_alloc = 1;
    }
    e->channels = cfg->channels;
    e->frame_samples = (size_t)(MXRTC_OPUS_RATE / 1000 * cfg->frame_ms);
    e->st = (OpusEncoder *)(void *)((uint8_t *)e + off);

    int rc = map_opus_error(
        opus_encoder_init(e->st, MXRTC_OPUS_RATE, cfg->channels, OPUS_APPLICATION_VOIP));
    if (rc == MXRTC_OK) rc = enc_ctl_int(e->st, OPUS_SET_BITRATE(bitrate));
    if (rc == MXRTC_OK) rc = enc_ctl_int(e->st, OPUS_SET_COMPLEXITY(cfg->complexity));
    /* RFC 7587 §3.3: in-band FEC is how Opus itself recovers single losses;
     * libopus sizes the LBRR data from the expected loss percentage. */
    if (rc == MXRTC_OK) rc = enc_ctl_int(e->st, OPUS_SET_INBAND_FEC(cfg->fec ? 1 : 0));
    if (rc == MXRTC_OK)
        rc = enc_ctl_int(e->st, OPUS_SET_PACKET_LOSS_PERC(cfg->expected_loss_pct));
    /* RFC 7587 §3.1.3: DTX lowers the rate during silence. */
    if (rc == MXRTC_OK) rc = enc_ctl_int(e->st, OPUS_SET_DTX(cfg->dtx ? 1 : 0));
    if (rc != MXRTC_OK) {
        mxrtc_free(alloc, e);
        return rc;
    }
    *out = e;
    return MXRTC_OK;
}

void mxrtc_opus_encoder_free(mxrtc_opus_encoder *e) {
    if (!e) return;
    mxrtc_allocator a = e->alloc;
    mxrtc_free(alloc_of(e->has_alloc, &a), e);
}

size_t mxrtc_opus_encoder_frame_samples(const mxrtc_opus_encoder *e) {
    return e ? e->frame_samples : 0;
}

int mxrtc_opus_encode(mxrtc_opus_encoder *e, const int16_t *pcm, uint8_t *out, size_t out_cap) {
    if (!e || !pcm || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    /* A single-frame packet never exceeds 1 + 1275 bytes (RFC 6716 §3.2.2);
     * with less room libopus may have to starve the frame, so refuse. */
    if (out_cap < 1276) return MXRTC_ERR_BUFFER_TOO_SMALL;
    opus_int32 cap = out_cap > MXRTC_OPUS_MAX_PACKET ? MXRTC_OPUS_MAX_PACKET : (opus_int32)out_cap;
    int n = opus_encode(e->st, pcm, (int)e->frame_samples, out, cap);
    if (n < 0) return map_opus_error(n);
    return n;
}

int mxrtc_opus_encoder_set_bitrate(mxrtc_opus_encoder *e, int bitrate_bps) {
    if (!e || !valid_bitrate(bitrate_bps)) return MXRTC_ERR_INVALID_ARGUMENT;
    return enc_ctl_int(e->st, OPUS_SET_BITRATE(bitrate_bps));
}

int mxrtc_opus_encoder_set_complexity(mxrtc_opus_encoder *e, int complexity) {
    if (!e || complexity < 0 || complexity > 10) return MXRTC_ERR_INVALID_ARGUMENT;
    return enc_ctl_int(e->st, OPUS_SET_COMPLEXITY(complexity));
}

int mxrtc_opus_encoder_set_expected_loss(mxrtc_opus_encoder *e, int loss_pct) {
    if (!e || loss_pct < 0 || loss_pct > 100) return MXRTC_ERR_INVALID_ARGUMENT;
    return enc_ctl_int(e->st, OPUS_SET_PACKET_LOSS_PERC(loss_pct));
}

int mxrtc_opus_encoder_in_dtx(const mxrtc_opus_encoder *e) {
    if (!e) return 0;
    opus_int32 v = 0;
    if (opus_encoder_ctl(e->st, OPUS_GET_IN_DTX(&v)) != OPUS_OK) return 0;
    return v ? 1 : 0;
}

int mxrtc_opus_encoder_lookahead(const mxrtc_opus_encoder *e) {
    if (!e) return 0;
    opus_int32 v = 0;
    if (opus_encoder_ctl(e->st, OPUS_GET_LOOKAHEAD(&v)) != OPUS_OK) return 0;
    return (int)v;
}

/* ---- decoder ------------------------------------------------------------ */

void mxrtc_opus_decoder_config_init(mxrtc_opus_decoder_config *cfg) {
    if (!cfg) return;
    cfg->size = sizeof *cfg;
    cfg->channels = 1;
}

int mxrtc_opus_decoder_new(mxrtc_opus_decoder **out, const mxrtc_opus_decoder_config *cfg,
                           const mxrtc_allocator *alloc) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!cfg || cfg->size < sizeof *cfg) return MXRTC_ERR_INVALID_ARGUMENT;
    if (cfg->channels != 1 && cfg->channels != 2) return MXRTC_ERR_INVALID_ARGUMENT;

    size_t off = state_offset(sizeof(mxrtc_opus_decoder));
    size_t st_size = (size_t)opus_decoder_get_size(cfg->channels);
    if (st_size == 0) return MXRTC_ERR_INTERNAL;
    mxrtc_opus_decoder *d = mxrtc_calloc(alloc, 1, off + st_size);
    if (!d) return MXRTC_ERR_NO_MEMORY;
    if (alloc) {
        d->alloc = *alloc;
        d->has_alloc = 1;
    }
    d->channels = cfg->channels;
    d->st = (OpusDecoder *)(void *)((uint8_t *)d + off);
    int rc = map_opus_error(opus_decoder_init(d->st, MXRTC_OPUS_RATE, cfg->channels));
    if (rc != MXRTC_OK) {
        mxrtc_free(alloc, d);
        return rc;
    }
    *out = d;
    return MXRTC_OK;
}

void mxrtc_opus_decoder_free(mxrtc_opus_decoder *d) {
    if (!d) return;
    mxrtc_allocator a = d->alloc;
    mxrtc_free(alloc_of(d->has_alloc, &a), d);
}

int mxrtc_opus_decoder_packet_samples(const uint8_t *packet, size_t len) {
    /* RFC 6716 §3.1: a packet has at least the TOC byte; §3.4 [R1]. */
    if (!packet || len == 0 || len > 0x7fffffff) return MXRTC_ERR_MALFORMED;
    /* opus_packet_parse checks the framing requirements of RFC 6716 §3.4
     * ([R2]..[R7]: frame lengths, counts, padding) without decoding. */
    const unsigned char *frames[48];
    opus_int16 sizes[48];
    int count = opus_packet_parse(packet, (opus_int32)len, NULL, frames, sizes, NULL);
    if (count <= 0) return MXRTC_ERR_MALFORMED;
    int n = count * opus_packet_get_samples_per_frame(packet, MXRTC_OPUS_RATE);
    /* [R5]: at most 120 ms of audio in one packet. */
    if (n <= 0 || n > MXRTC_OPUS_MAX_FRAME_SAMPLES) return MXRTC_ERR_MALFORMED;
    return n;
}

/* PLC and FEC durations: whole 2.5 ms steps (libopus requires it for decode
 * without data), up to the longest packet. */
static int valid_gap(size_t samples) {
    return samples > 0 && samples <= MXRTC_OPUS_MAX_FRAME_SAMPLES && samples % 120 == 0;
}

int mxrtc_opus_decode(mxrtc_opus_decoder *d, const uint8_t *packet, size_t len,
                      int16_t *pcm, size_t max_samples) {
    if (!d || !pcm) return MXRTC_ERR_INVALID_ARGUMENT;
    int n = mxrtc_opus_decoder_packet_samples(packet, len);
    if (n < 0) {
        d->stats.malformed_packets++;
        return n;
    }
    if ((size_t)n > max_samples) return MXRTC_ERR_BUFFER_TOO_SMALL;
    /* frame_size = n exactly: libopus then decodes the whole packet and we
     * never hand it more room than the caller's buffer has. */
    int got = opus_decode(d->st, packet, (opus_int32)len, pcm, n, 0);
    if (got < 0) {
        int rc = map_opus_error(got);
        if (rc == MXRTC_ERR_MALFORMED) d->stats.malformed_packets++;
        return rc;
    }
    d->stats.decoded_frames++;
    d->stats.decoded_samples += (uint64_t)got;
    /* A TOC-only packet is the encoder's DTX frame (libopus decodes a frame
     * of length 0 or 1 as a lost one: RFC 6716 §3.2.1 allows 0-byte frames,
     * "DTX or lost packet"). */
    if (len == 1) d->stats.dtx_samples += (uint64_t)got;
    return got;
}

static int decode_missing(mxrtc_opus_decoder *d, int16_t *pcm, size_t samples) {
    if (!d || !pcm || !valid_gap(samples)) return MXRTC_ERR_INVALID_ARGUMENT;
    int got = opus_decode(d->st, NULL, 0, pcm, (int)samples, 0);
    if (got < 0) return map_opus_error(got);
    return got;
}

int mxrtc_opus_decode_plc(mxrtc_opus_decoder *d, int16_t *pcm, size_t samples) {
    int got = decode_missing(d, pcm, samples);
    if (got < 0) return got;
    d->stats.concealed_frames++;
    d->stats.concealed_samples += (uint64_t)got;
    return got;
}

int mxrtc_opus_decode_dtx_gap(mxrtc_opus_decoder *d, int16_t *pcm, size_t samples) {
    int got = decode_missing(d, pcm, samples);
    if (got < 0) return got;
    d->stats.dtx_samples += (uint64_t)got;
    return got;
}

int mxrtc_opus_decode_fec(mxrtc_opus_decoder *d, const uint8_t *next, size_t len,
                          int16_t *pcm, size_t samples) {
    if (!d || !pcm || !valid_gap(samples)) return MXRTC_ERR_INVALID_ARGUMENT;
    int n = mxrtc_opus_decoder_packet_samples(next, len);
    if (n < 0) {
        d->stats.malformed_packets++;
        return n;
    }
    /* RFC 6716 §3.1 Table 2: configurations 16..31 are CELT-only, which has
     * no LBRR; only SILK-only and hybrid frames can carry it. */
    int config = next[0] >> 3;
    if (config >= 16) return mxrtc_opus_decode_plc(d, pcm, samples);
    int got = opus_decode(d->st, next, (opus_int32)len, pcm, (int)samples, 1);
    if (got < 0) {
        int rc = map_opus_error(got);
        if (rc == MXRTC_ERR_MALFORMED) d->stats.malformed_packets++;
        return rc;
    }
    d->stats.fec_frames++;
    d->stats.fec_samples += (uint64_t)got;
    return got;
}

void mxrtc_opus_decoder_reset(mxrtc_opus_decoder *d) {
    if (!d) return;
    (void)opus_decoder_ctl(d->st, OPUS_RESET_STATE);
}

void mxrtc_opus_decoder_get_stats(const mxrtc_opus_decoder *d, mxrtc_opus_decoder_stats *out) {
    if (!out) return;
    if (!d) {
        *out = (mxrtc_opus_decoder_stats){0};
        return;
    }
    *out = d->stats;
}

int mxrtc_opus_decoder_channels(const mxrtc_opus_decoder *d) {
    return d ? d->channels : 0;
}
