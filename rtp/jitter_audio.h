/*
 * jitter_audio.h: the adaptive audio jitter buffer for Opus (48 kHz).
 *
 * Received RTP packets are pushed with their arrival time on the caller's
 * clock; the host pulls 10 ms of PCM (480 samples per channel) at its
 * device's pace. The buffer orders packets, drops duplicates and late ones,
 * tells DTX silence (timestamp gap, no sequence gap) from loss, conceals loss
 * with the decoder's PLC or rebuilds it from the next packet's in-band FEC,
 * adapts its delay to the measured jitter, and absorbs clock drift by time
 * stretching (docs/jitter.md).
 *
 * rtp/ does not depend on codecs/: the decoder is reached through the
 * function pointers of mxrtc_audio_decoder_iface, which the owner wires to
 * codecs/codec.h's Opus decoder (tests do, peer/ will).
 *
 * Memory: a fixed number of packet slots and one PCM queue, allocated in
 * _new; nothing is allocated per packet or per pull. One thread at a time.
 */
#ifndef MXRTC_RTP_JITTER_AUDIO_H
#define MXRTC_RTP_JITTER_AUDIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"
#include "rtp/rtp.h"

/* Samples per channel handed out by each pull: 10 ms at 48 kHz. */
#define MXRTC_AUDIO_JB_PULL_SAMPLES 480
/* Longest Opus packet, 120 ms (RFC 6716 §3.2.5), per channel. */
#define MXRTC_AUDIO_JB_MAX_FRAME 5760

/* The decoder as the jitter buffer sees it. Every pcm buffer is interleaved
 * int16 with `channels` channels (the jitter buffer's config). Each function
 * returns the samples per channel written or a negative mxrtc_error.
 *  - decode: one Opus packet (borrowed for the call), at most max_samples.
 *  - plc: conceal `samples` lost samples (a multiple of 120, at most 5760).
 *  - fec: rebuild the `samples` just before packet `next` from its in-band
 *    FEC (RFC 6716 §2.1.7); same size rules as plc. The jitter buffer then
 *    decodes `next` itself with decode.
 *  - dtx: optional (NULL: silence): `samples` of comfort noise for a DTX gap.
 *  - reset: optional: forget the stream (SSRC change, timestamp jump).
 * These map one to one onto mxrtc_opus_decode, _decode_plc, _decode_fec,
 * _decode_dtx_gap and _decoder_reset in codecs/codec.h. */
typedef struct mxrtc_audio_decoder_iface {
    void *ctx;
    int (*decode)(void *ctx, const uint8_t *packet, size_t len, int16_t *pcm, size_t max_samples);
    int (*plc)(void *ctx, int16_t *pcm, size_t samples);
    int (*fec)(void *ctx, const uint8_t *next, size_t len, int16_t *pcm, size_t samples);
    int (*dtx)(void *ctx, int16_t *pcm, size_t samples);
    void (*reset)(void *ctx);
} mxrtc_audio_decoder_iface;

typedef struct mxrtc_audio_jb_config {
    size_t size;              /* sizeof(mxrtc_audio_jb_config), set by _init */
    int channels;             /* 1 or 2 (default 1) */
    size_t slots;             /* packet slots, 8..1024 (default 64: 1.28 s of 20 ms packets) */
    size_t max_packet;        /* largest payload kept, 16..4000 bytes (default 1500) */
    uint32_t min_delay_ms;    /* lower bound of the target delay (default 20) */
    uint32_t max_delay_ms;    /* upper bound of the target delay (default 400) */
    uint32_t start_delay_ms;  /* target before enough packets were measured (default 80) */
    uint32_t margin_ms;       /* added to the measured jitter quantile (default 20: one
                                 20 ms frame, so the packet after a loss is usually there
                                 in time for FEC) */
    uint32_t window_ms;       /* delay measurement window (default 2000) */
    uint32_t quantile_pct;    /* jitter quantile covered, 50..100 (default 97) */
} mxrtc_audio_jb_config;

void mxrtc_audio_jb_config_init(mxrtc_audio_jb_config *cfg);

/* Counters (samples are per channel at 48 kHz). Concealed samples are those
 * made by PLC (loss, late packets, underruns); DTX gaps, FEC-rebuilt frames
 * and time-stretch insertions are counted apart. */
typedef struct mxrtc_audio_jb_stats {
    uint64_t packets_received;    /* pushes that carried a packet of this stream */
    uint64_t packets_decoded;
    uint64_t packets_lost;        /* sequence numbers never decoded (gaps seen at playout) */
    uint64_t duplicates;          /* dropped: same sequence number seen before */
    uint64_t late_drops;          /* dropped: arrived after its playout time */
    uint64_t overflow_drops;      /* dropped: every slot busy (oldest packet evicted) */
    uint64_t malformed;           /* payloads that are not Opus, or that the decoder refused */
    uint64_t total_samples;       /* samples handed to the host */
    uint64_t decoded_samples;
    uint64_t concealed_samples;   /* PLC */
    uint64_t concealment_events;  /* runs of consecutive concealment */
    uint64_t fec_frames;          /* frames rebuilt from the next packet's LBRR */
    uint64_t fec_samples;
    uint64_t dtx_samples;         /* silence / comfort noise for DTX gaps */
    uint64_t silence_samples;     /* before the first packet plays, and after a reset */
    uint64_t underruns;           /* pulls that found the buffer empty (not DTX) */
    uint64_t accelerate_samples;  /* removed by time compression */
    uint64_t expand_samples;      /* inserted by time expansion */
    uint64_t ssrc_changes;
    uint64_t timestamp_jumps;     /* resyncs on a timestamp discontinuity */
    uint32_t ssrc;
    uint32_t current_delay_ms;    /* playout delay of the earliest-arriving packet timing */
    uint32_t target_delay_ms;
    uint32_t buffered_ms;         /* audio held: newest packet end minus playout point */
    uint32_t jitter_ms;           /* the measured quantile of relative delay */
} mxrtc_audio_jb_stats;

/* What happened to a pushed packet. */
typedef enum mxrtc_audio_jb_verdict {
    MXRTC_AUDIO_JB_STORED = 0,
    MXRTC_AUDIO_JB_DUPLICATE,
    MXRTC_AUDIO_JB_LATE,
    MXRTC_AUDIO_JB_JUMP_PENDING,  /* a timestamp discontinuity; held until confirmed */
    MXRTC_AUDIO_JB_RESYNC,        /* SSRC change or confirmed timestamp jump: restarted */
    MXRTC_AUDIO_JB_DROPPED        /* malformed or too large (see the return code) */
} mxrtc_audio_jb_verdict;

typedef struct mxrtc_audio_jb mxrtc_audio_jb;

/* Creates a jitter buffer pulling through dec (copied; dec->ctx must outlive
 * the buffer; decode and plc are required, fec falls back to plc when NULL).
 * MXRTC_ERR_INVALID_ARGUMENT for a bad config field or missing function,
 * MXRTC_ERR_NO_MEMORY. */
int mxrtc_audio_jb_new(mxrtc_audio_jb **out, const mxrtc_audio_jb_config *cfg,
                       const mxrtc_audio_decoder_iface *dec, const mxrtc_allocator *alloc);
void mxrtc_audio_jb_free(mxrtc_audio_jb *jb);

/* Pushes a received RTP packet (parsed; its payload is copied, so pkt is
 * borrowed for the call only) that arrived at `arrival` (caller's clock).
 * A new SSRC restarts the stream. Returns MXRTC_OK when the packet was
 * handled (stored or deliberately dropped: *verdict says which; verdict may
 * be NULL), MXRTC_ERR_MALFORMED for a payload that is not an Opus packet,
 * MXRTC_ERR_LIMIT for a payload above max_packet, MXRTC_ERR_INVALID_ARGUMENT. */
int mxrtc_audio_jb_push(mxrtc_audio_jb *jb, const mxrtc_rtp_packet *pkt, mxrtc_time_us arrival,
                        mxrtc_audio_jb_verdict *verdict);

/* Writes the next 10 ms of playout, MXRTC_AUDIO_JB_PULL_SAMPLES samples per
 * channel interleaved, into pcm (caller's buffer). `now` is the caller's
 * clock at the pull (the same clock as the arrival times). Silence before
 * the first packet is due. Returns MXRTC_OK or MXRTC_ERR_INVALID_ARGUMENT. */
int mxrtc_audio_jb_pull(mxrtc_audio_jb *jb, mxrtc_time_us now, int16_t *pcm);

void mxrtc_audio_jb_get_stats(const mxrtc_audio_jb *jb, mxrtc_audio_jb_stats *out);

/* 1 if the next Opus packet `data` carries in-band FEC (LBRR) for the frame
 * before it: a SILK or hybrid packet whose first frame has the LBRR flag set
 * (RFC 6716 §4.2.3, §4.2.4); 0 if not (CELT-only, no flag, or a framing this
 * check does not read), or MXRTC_ERR_MALFORMED / MXRTC_ERR_TRUNCATED. */
int mxrtc_opus_packet_has_lbrr(const uint8_t *data, size_t len);

#endif /* MXRTC_RTP_JITTER_AUDIO_H */
