/*
 * codec.h: the face of codecs/, thin wrappers around libopus and libvpx.
 *
 * The rest of mxrtc (rtp/ for the receive paths, peer/ for negotiation) sees
 * codecs only through this header: codec ids, what this build can do, an Opus
 * encoder/decoder working on interleaved 16-bit PCM at 48 kHz, and a VP8/VP9
 * encoder/decoder working on I420 frames. The wrappers do not read a clock or
 * start a thread (libvpx runs single-threaded here; see docs/codecs.md), and
 * they do not allocate per frame: every buffer is the caller's, and the only
 * allocations happen in _new (and, for video, on a resolution change).
 *
 * Objects are used by one thread at a time. _free accepts NULL.
 */
#ifndef MXRTC_CODECS_CODEC_H
#define MXRTC_CODECS_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include "mxrtc.h"

/* ---- codec ids ---------------------------------------------------------- */

/* Codecs mxrtc knows by name. H.264 and AV1 are listed so that SDP code can
 * name what a peer offers, but this build never includes them: their _new
 * returns MXRTC_ERR_UNSUPPORTED and mxrtc_codec_supported() returns 0. */
typedef enum mxrtc_codec_id {
    MXRTC_CODEC_NONE = 0,
    MXRTC_CODEC_OPUS = 1,
    MXRTC_CODEC_VP8 = 2,
    MXRTC_CODEC_VP9 = 3,
    MXRTC_CODEC_H264 = 4,
    MXRTC_CODEC_AV1 = 5
} mxrtc_codec_id;

/* Bits returned by mxrtc_codec_supported(). */
#define MXRTC_CODEC_CAN_ENCODE 1
#define MXRTC_CODEC_CAN_DECODE 2

/* What this build can do with codec id: MXRTC_CODEC_CAN_ENCODE |
 * MXRTC_CODEC_CAN_DECODE, or 0 if the codec is not built in (VP9 depends on
 * the libvpx found at build time; Debian's has it). Only codecs for which both
 * bits are set should be offered in SDP. */
int mxrtc_codec_supported(mxrtc_codec_id id);

/* The SDP encoding name (RFC 7587 "opus", RFC 7741 "VP8", RFC 9628 "VP9",
 * "H264", "AV1"); a static string, "" for an unknown id. */
const char *mxrtc_codec_name(mxrtc_codec_id id);

/* The RTP clock rate: 48000 for Opus (RFC 7587 §4.1), 90000 for video
 * (RFC 7741 §6.1); 0 for an unknown id. */
uint32_t mxrtc_codec_clock_rate(mxrtc_codec_id id);

/* ---- Opus --------------------------------------------------------------- */

/* RFC 6716 §2: Opus runs here at 48 kHz only (RFC 7587 §4.1 makes 48000 the
 * RTP clock whatever the internal bandwidth). */
#define MXRTC_OPUS_RATE 48000
/* Longest Opus packet duration, 120 ms (RFC 6716 §3.2.5), per channel. */
#define MXRTC_OPUS_MAX_FRAME_SAMPLES 5760
/* A packet buffer this large holds any packet the encoder writes: it codes one
 * frame per packet, and a frame is at most 1275 bytes after a 1-byte TOC
 * (RFC 6716 §3.2.1, §3.2.2). */
#define MXRTC_OPUS_MAX_PACKET 1500
/* The encoder emits packets of this many bytes or fewer while DTX is active
 * (libopus opus_encode() documentation: "If the return value is 2 bytes or
 * less, then the packet does not need to be transmitted (DTX)"). */
#define MXRTC_OPUS_DTX_MAX_BYTES 2

typedef struct mxrtc_opus_encoder mxrtc_opus_encoder;
typedef struct mxrtc_opus_decoder mxrtc_opus_decoder;

typedef struct mxrtc_opus_encoder_config {
    size_t size;              /* sizeof(mxrtc_opus_encoder_config), set by _init */
    int channels;             /* 1 or 2 (default 1) */
    int frame_ms;             /* 10 or 20 (default 20) */
    int bitrate_bps;          /* 6000..510000; 0 (the default) = 32000 per channel */
    int complexity;           /* 0..10 (default 9) */
    int fec;                  /* in-band FEC (LBRR, RFC 6716 §2.1.7), default 1 */
    int expected_loss_pct;    /* 0..100: sizes the FEC (default 10) */
    int dtx;                  /* discontinuous transmission, default 1 */
} mxrtc_opus_encoder_config;

/* Fills cfg with the defaults above. */
void mxrtc_opus_encoder_config_init(mxrtc_opus_encoder_config *cfg);

/* Creates an encoder (OPUS_APPLICATION_VOIP, 48 kHz). The libopus state lives
 * in memory from alloc (NULL = libc). MXRTC_ERR_INVALID_ARGUMENT for a bad
 * field, MXRTC_ERR_NO_MEMORY. */
int mxrtc_opus_encoder_new(mxrtc_opus_encoder **out, const mxrtc_opus_encoder_config *cfg,
                           const mxrtc_allocator *alloc);
void mxrtc_opus_encoder_free(mxrtc_opus_encoder *e);

/* Samples per channel in one input frame (480 for 10 ms, 960 for 20 ms). */
size_t mxrtc_opus_encoder_frame_samples(const mxrtc_opus_encoder *e);

/* Encodes one frame: pcm holds frame_samples * channels interleaved samples
 * (borrowed for the call). Writes the packet to out (caller's buffer of at
 * least 1276 bytes, the largest one-frame packet; MXRTC_OPUS_MAX_PACKET is
 * the usual size) and returns its length, or a negative error:
 * MXRTC_ERR_INVALID_ARGUMENT, MXRTC_ERR_BUFFER_TOO_SMALL (out_cap < 1276),
 * MXRTC_ERR_INTERNAL. A length <= MXRTC_OPUS_DTX_MAX_BYTES is a DTX frame:
 * the encoder found nothing worth sending, and the sender may skip it. */
int mxrtc_opus_encode(mxrtc_opus_encoder *e, const int16_t *pcm, uint8_t *out, size_t out_cap);

/* Run-time settings; they take effect from the next frame.
 * MXRTC_ERR_INVALID_ARGUMENT outside the ranges of the config fields. */
int mxrtc_opus_encoder_set_bitrate(mxrtc_opus_encoder *e, int bitrate_bps);
int mxrtc_opus_encoder_set_complexity(mxrtc_opus_encoder *e, int complexity);
int mxrtc_opus_encoder_set_expected_loss(mxrtc_opus_encoder *e, int loss_pct);
/* 1 if the last frame was encoded in DTX, 0 if not. */
int mxrtc_opus_encoder_in_dtx(const mxrtc_opus_encoder *e);
/* The encoder's lookahead in samples per channel (output lags input by it). */
int mxrtc_opus_encoder_lookahead(const mxrtc_opus_encoder *e);

typedef struct mxrtc_opus_decoder_config {
    size_t size;              /* sizeof(mxrtc_opus_decoder_config), set by _init */
    int channels;             /* output channels, 1 or 2 (default 1); any stream is
                                 down- or up-mixed to it by libopus */
} mxrtc_opus_decoder_config;

void mxrtc_opus_decoder_config_init(mxrtc_opus_decoder_config *cfg);

/* Counters for the stats of an audio stream (all in samples per channel,
 * except the frame counts). */
typedef struct mxrtc_opus_decoder_stats {
    uint64_t decoded_frames;      /* packets decoded with mxrtc_opus_decode */
    uint64_t decoded_samples;
    uint64_t concealed_frames;    /* PLC calls (mxrtc_opus_decode_plc) */
    uint64_t concealed_samples;
    uint64_t fec_frames;          /* frames rebuilt with mxrtc_opus_decode_fec */
    uint64_t fec_samples;
    uint64_t dtx_samples;         /* silence generated for DTX gaps and frames */
    uint64_t malformed_packets;   /* packets rejected as MXRTC_ERR_MALFORMED */
} mxrtc_opus_decoder_stats;

int mxrtc_opus_decoder_new(mxrtc_opus_decoder **out, const mxrtc_opus_decoder_config *cfg,
                           const mxrtc_allocator *alloc);
void mxrtc_opus_decoder_free(mxrtc_opus_decoder *d);

/* Decodes one packet (borrowed for the call) into pcm (caller's buffer of
 * max_samples samples per channel, interleaved). Returns the samples per
 * channel written, or MXRTC_ERR_MALFORMED (not a valid Opus packet, RFC 6716
 * §3.4; the decoder state is unchanged and it stays usable),
 * MXRTC_ERR_BUFFER_TOO_SMALL (the packet lasts longer than max_samples; size
 * it MXRTC_OPUS_MAX_FRAME_SAMPLES to be safe), MXRTC_ERR_INVALID_ARGUMENT.
 * A 1-byte packet (a DTX frame: TOC only, no frame data) is decoded by libopus
 * as a concealed frame fading into comfort noise; it counts as dtx_samples. */
int mxrtc_opus_decode(mxrtc_opus_decoder *d, const uint8_t *packet, size_t len,
                      int16_t *pcm, size_t max_samples);

/* Packet-loss concealment: produces `samples` samples per channel for a frame
 * that never arrived (libopus decode with no data). samples must be a multiple
 * of 2.5 ms (120) up to MXRTC_OPUS_MAX_FRAME_SAMPLES and should be exactly the
 * missing duration, which keeps the decoder in step for the next packet.
 * Returns samples or MXRTC_ERR_INVALID_ARGUMENT. */
int mxrtc_opus_decode_plc(mxrtc_opus_decoder *d, int16_t *pcm, size_t samples);

/* Forward error correction: rebuilds the frame lost just before `next` from
 * the low-bit-rate copy (LBRR) that `next` carries (RFC 6716 §2.1.7; libopus
 * decode_fec=1). samples is the lost frame's duration as for PLC. The caller
 * then decodes `next` itself with mxrtc_opus_decode. A CELT-only packet cannot
 * carry LBRR data, so it is concealed instead (counted as PLC); a SILK or
 * hybrid packet without LBRR data is concealed by libopus itself, which this
 * wrapper cannot tell apart (counted as FEC). Returns samples,
 * MXRTC_ERR_MALFORMED, MXRTC_ERR_INVALID_ARGUMENT. */
int mxrtc_opus_decode_fec(mxrtc_opus_decoder *d, const uint8_t *next, size_t len,
                          int16_t *pcm, size_t samples);

/* A DTX gap: the sender stopped sending because its input was silent (not a
 * loss). Produces `samples` samples per channel of the decoder's concealment,
 * which after a DTX frame is libopus's comfort noise fading to silence, so the
 * gap sounds like the sender's background rather than a hard cut. Counted as
 * dtx_samples, not as concealment. Same argument rules as PLC. */
int mxrtc_opus_decode_dtx_gap(mxrtc_opus_decoder *d, int16_t *pcm, size_t samples);

/* Forgets the stream (new SSRC): the next packet starts afresh. */
void mxrtc_opus_decoder_reset(mxrtc_opus_decoder *d);
void mxrtc_opus_decoder_get_stats(const mxrtc_opus_decoder *d, mxrtc_opus_decoder_stats *out);
int mxrtc_opus_decoder_channels(const mxrtc_opus_decoder *d);

/* Samples per channel in packet (all frames), MXRTC_ERR_MALFORMED if libopus
 * does not accept its framing (RFC 6716 §3.4). Does not need a decoder. The
 * decoder path checks with libopus itself; rtp/ has its own TOC parser
 * (mxrtc_opus_packet_samples in rtp/rtp.h) because it must not depend on
 * codecs/, and tests/codecs cross-check the two. */
int mxrtc_opus_decoder_packet_samples(const uint8_t *packet, size_t len);

/* ---- video (VP8, VP9) --------------------------------------------------- */

/* An I420 picture: 8-bit luma plane at full size, chroma planes at half size
 * rounded up ((width + 1) / 2 by (height + 1) / 2). Planes are borrowed: for
 * encoder input for the call only, for decoder output until the next decode
 * (or free) on that decoder. */
typedef struct mxrtc_i420 {
    const uint8_t *y, *u, *v;
    int stride_y, stride_u, stride_v;
    int width, height;
    mxrtc_time_us timestamp_us;   /* capture time (encoder), passed through (decoder) */
} mxrtc_i420;

/* Largest picture either side accepts (a decoder bound against streams that
 * declare huge sizes; also the encoder's). 4096x4096 covers 4K. */
#define MXRTC_VIDEO_MAX_DIMENSION 4096

typedef struct mxrtc_video_encoder mxrtc_video_encoder;
typedef struct mxrtc_video_decoder mxrtc_video_decoder;

typedef struct mxrtc_video_encoder_config {
    size_t size;                  /* sizeof(mxrtc_video_encoder_config), set by _init */
    mxrtc_codec_id codec;         /* MXRTC_CODEC_VP8 or MXRTC_CODEC_VP9 */
    int width, height;            /* first picture size; later sizes reinitialise */
    uint32_t bitrate_bps;         /* target (default 500000) */
    int max_fps;                  /* expected frame rate, 1..120 (default 30) */
    uint32_t keyframe_max_distance; /* frames between forced keyframes (default 3000,
                                       0 = only on demand) */
    int cpu_used;                 /* libvpx speed; 0 = the codec's default
                                     (VP8 -8: fixed speed 8; VP9 8) */
} mxrtc_video_encoder_config;

void mxrtc_video_encoder_config_init(mxrtc_video_encoder_config *cfg, mxrtc_codec_id codec);

/* Creates an encoder with real-time settings (docs/codecs.md).
 * MXRTC_ERR_UNSUPPORTED for a codec this build lacks, MXRTC_ERR_INVALID_ARGUMENT,
 * MXRTC_ERR_NO_MEMORY (including libvpx failing to allocate). */
int mxrtc_video_encoder_new(mxrtc_video_encoder **out, const mxrtc_video_encoder_config *cfg,
                            const mxrtc_allocator *alloc, const mxrtc_logger *log);
void mxrtc_video_encoder_free(mxrtc_video_encoder *e);

/* Changes the target bitrate from the next frame (vpx_codec_enc_config_set).
 * MXRTC_ERR_INVALID_ARGUMENT below 10 kbit/s or above 100 Mbit/s. */
int mxrtc_video_encoder_set_bitrate(mxrtc_video_encoder *e, uint32_t bitrate_bps);
/* Makes the next encoded frame a keyframe (on a PLI or FIR, RFC 4585 §6.3.1,
 * RFC 5104 §4.3.1). */
void mxrtc_video_encoder_request_keyframe(mxrtc_video_encoder *e);

typedef struct mxrtc_encoded_frame {
    size_t len;                   /* bytes written to the caller's buffer */
    size_t needed;                /* on MXRTC_ERR_BUFFER_TOO_SMALL: the size needed */
    int keyframe;                 /* 1 for a keyframe */
    int dropped;                  /* 1 if rate control dropped this picture (len 0) */
    int width, height;
    mxrtc_time_us timestamp_us;   /* the picture's capture time */
} mxrtc_encoded_frame;

/* Encodes one picture (borrowed for the call) into out (caller's buffer).
 * A picture of a new size reinitialises the encoder, and the frame is then a
 * keyframe. Returns MXRTC_OK with *info filled (info->dropped when rate
 * control skipped the picture), or MXRTC_ERR_INVALID_ARGUMENT (bad planes or
 * size), MXRTC_ERR_BUFFER_TOO_SMALL (info->needed says how much; the frame is
 * lost and the next one is made a keyframe), MXRTC_ERR_NO_MEMORY,
 * MXRTC_ERR_INTERNAL (libvpx failed). */
int mxrtc_video_encode(mxrtc_video_encoder *e, const mxrtc_i420 *pic, uint8_t *out,
                       size_t out_cap, mxrtc_encoded_frame *info);

typedef struct mxrtc_video_decoder_stats {
    uint64_t frames_decoded;
    uint64_t keyframes_decoded;
    uint64_t frames_dropped;      /* not shown: waiting for a keyframe, oversized
                                     (MXRTC_ERR_LIMIT) or not 4:2:0 (UNSUPPORTED) */
    uint64_t frames_corrupt;      /* rejected as MXRTC_ERR_MALFORMED */
} mxrtc_video_decoder_stats;

/* Creates a decoder (single-threaded). MXRTC_ERR_UNSUPPORTED for a codec this
 * build lacks, MXRTC_ERR_NO_MEMORY. */
int mxrtc_video_decoder_new(mxrtc_video_decoder **out, mxrtc_codec_id codec,
                            const mxrtc_allocator *alloc, const mxrtc_logger *log);
void mxrtc_video_decoder_free(mxrtc_video_decoder *d);

/* Decodes one complete encoded frame (borrowed for the call). On MXRTC_OK,
 * *got_frame says whether a picture came out; if so *pic points into the
 * decoder's memory until the next decode or free, with timestamp_us copied
 * from the argument. Errors:
 *  - MXRTC_ERR_MALFORMED: libvpx rejected the frame or marked it corrupt
 *    (truncated, damaged); nothing is output and the decoder now needs a
 *    keyframe.
 *  - MXRTC_ERR_STATE: the decoder needs a keyframe (at start, or after an
 *    error) and this frame is not one; it is dropped without decoding.
 *  - MXRTC_ERR_UNSUPPORTED: a valid stream this wrapper cannot output (VP9
 *    profiles 1-3: not 8-bit 4:2:0); the decoder needs a keyframe.
 *  - MXRTC_ERR_LIMIT: the frame declares a size above MXRTC_VIDEO_MAX_DIMENSION.
 *  - MXRTC_ERR_NO_MEMORY: libvpx could not allocate its frame buffers.
 *  - MXRTC_ERR_INVALID_ARGUMENT: NULL pointers (the stream state is untouched).
 * After any but the last, mxrtc_video_decoder_needs_keyframe() returns 1
 * until a keyframe decodes: the video receive path sends a PLI then. */
int mxrtc_video_decode(mxrtc_video_decoder *d, const uint8_t *data, size_t len,
                       mxrtc_time_us timestamp_us, mxrtc_i420 *pic, int *got_frame);

/* 1 if the decoder can continue only from a keyframe (initially, and after an
 * error), 0 if the next inter frame can be decoded. */
int mxrtc_video_decoder_needs_keyframe(const mxrtc_video_decoder *d);
void mxrtc_video_decoder_get_stats(const mxrtc_video_decoder *d, mxrtc_video_decoder_stats *out);

#endif /* MXRTC_CODECS_CODEC_H */
