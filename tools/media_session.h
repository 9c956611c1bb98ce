/*
 * media_session.h: the media side of one call of the `mxrtc` command, shared
 * by `mxrtc peer` (tools/peer_mode.c) and `mxrtc call`/`mxrtc answer`
 * (tools/call_mode.c): the media options, what is sent (a sine tone or a
 * WAV file; a solid colour / test pattern, a Y4M file or, peer mode only, an
 * IVF file), what is done with what is received (recorded to WAV, Y4M or
 * IVF; measured: first audio above -40 dBFS, the tone's frequency, the
 * colour of the pictures) and the once-per-second stats line.
 *
 * The session has no thread and no clock of its own: the host calls it from
 * the thread that drives the peer (the runner's I/O thread), with the
 * runner's monotonic time. It is told about received media and hands out
 * media to send; it never calls the peer itself.
 */
#ifndef MXRTC_TOOLS_MEDIA_SESSION_H
#define MXRTC_TOOLS_MEDIA_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"
#include "codecs/codec.h"
#include "tools/media/media.h"

#define MXRTC_MS_RATE 48000
#define MXRTC_MS_FRAME 480                   /* 10 ms of mono 48 kHz */
#define MXRTC_MS_TICK_US 10000
#define MXRTC_MS_VIDEO_W 320
#define MXRTC_MS_VIDEO_H 240
#define MXRTC_MS_VIDEO_PERIOD_US 33333       /* 30 fps */
#define MXRTC_MS_DETECT_FRAMES 32768         /* ~0.68 s of received tone analysed */
#define MXRTC_MS_SETTLE_US 500000            /* the first 0.5 s after first audio skipped */
#define MXRTC_MS_COLOUR_AFTER_US 1500000     /* colour taken 1.5 s after the first frame */
#define MXRTC_MS_AUDIO_THRESHOLD 328         /* -40 dBFS RMS of int16 full scale */

/* The media options common to both modes. */
typedef struct mxrtc_ms_opts {
    double audio_hz;                 /* tone to send; 0: none (silence) */
    bool have_rgb;                   /* --video-rgb given */
    uint8_t rgb[3];
    const char *audio_file, *video_file, *record_audio, *record_video;
    unsigned video_w, video_h;       /* --video-size of the generated picture; 0: 320x240 */
} mxrtc_ms_opts;

/* Parses argv[*i] (and its value) if it is a media option: --audio-hz,
 * --video-rgb, --audio-file, --video-file, --record-audio, --record-video,
 * --video-size.
 * 1: consumed (*i moved past the value), 0: not a media option, -1: a bad
 * value (said on stderr with `prog`). */
int mxrtc_ms_parse_opt(mxrtc_ms_opts *o, const char *prog, int argc, char **argv, int *i);
/* Checks the parsed options together (ranges, file extensions); 0 or -1
 * (said on stderr). */
int mxrtc_ms_check_opts(const mxrtc_ms_opts *o, const char *prog);
/* True if path ends in ".ivf". */
bool mxrtc_ms_is_ivf(const char *path);

/* A diagnostic line (no newline) for the host to print. */
typedef void (*mxrtc_ms_log_fn)(void *user, const char *line);

typedef struct mxrtc_media_session {
    mxrtc_ms_opts o;
    mxrtc_ms_log_fn log;
    void *log_user;
    bool measure_audio;              /* run the tone detector (peer: only with --audio-hz) */
    bool measure_video;              /* take the colour (peer: only with --video-rgb) */

    /* sources */
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
    mxrtc_time_us next_video_us;

    /* sinks */
    mxrtc_wav_writer wav_out;
    bool wav_out_open;
    mxrtc_y4m_file y4m_out;
    bool y4m_out_open;
    mxrtc_ivf_file ivf_out;          /* --record-video *.ivf: decoded pictures re-encoded */
    bool ivf_out_open;
    mxrtc_video_encoder *rec_enc;
    uint8_t *rec_buf;
    mxrtc_time_us rec_t0;

    /* measurements (read them on the same thread) */
    mxrtc_time_us ref_us;            /* the offer/invite, sent or received; 0: not yet */
    int16_t *rx_pcm;
    size_t rx_n;
    mxrtc_time_us first_audio_us;    /* 0: none yet */
    long first_audio_ms;             /* from ref_us; -1 if ref_us was unset */
    mxrtc_time_us last_loud_us;      /* the last 10 ms above the threshold; 0: none */
    bool audio_done;
    double audio_hz;
    uint64_t frames_decoded;
    mxrtc_time_us first_frame_us;
    bool video_done;
    bool have_video_rgb;
    uint8_t video_rgb[3];
    uint8_t *rx_pic;                 /* packed copy of a received picture */
    size_t rx_pic_cap;

    /* stats line */
    mxrtc_time_us start_us;
    uint64_t last_bytes_in, last_bytes_out;
} mxrtc_media_session;

/* Opens the sources and sinks of o (copied; the strings are borrowed and
 * must outlive the session). 0, or -1 after logging why. */
int mxrtc_ms_open(mxrtc_media_session *s, const mxrtc_ms_opts *o, mxrtc_ms_log_fn log, void *log_user,
                  mxrtc_time_us now);
/* Closes the files (finishing their headers) and frees. Safe on a zeroed
 * or half-opened session. */
void mxrtc_ms_close(mxrtc_media_session *s);

/* The next 10 ms to send (file, tone, or silence). */
void mxrtc_ms_next_audio(mxrtc_media_session *s, int16_t pcm[MXRTC_MS_FRAME]);
/* True if the session sends video (a colour, a Y4M or an IVF file). */
bool mxrtc_ms_sends_video(const mxrtc_media_session *s);
/* True once per 1/30 s (the pacing of pictures; skips ahead after a stall). */
bool mxrtc_ms_video_due(mxrtc_media_session *s, mxrtc_time_us now);
/* The next raw picture (the --video-rgb colour, a Y4M frame, or without
 * either a test pattern: grey with a moving bar; false at a read error or
 * with an IVF source). The planes stay valid until the next call. */
bool mxrtc_ms_next_picture(mxrtc_media_session *s, mxrtc_time_us now, mxrtc_picture *pic);
/* The next encoded frame of an IVF source, looping at the end: true with
 * *data, *size and *key; false with no IVF source or a read error. */
bool mxrtc_ms_next_encoded(mxrtc_media_session *s, const uint8_t **data, uint32_t *size, int *key);

/* 10 ms of playout: recorded, first audio, tone measurement. */
void mxrtc_ms_playout(mxrtc_media_session *s, mxrtc_time_us now, const int16_t *pcm, size_t n);
/* A decoded picture: counted, colour taken (in the colour space cs
 * (mxrtc_peer_video_colour_space's 4 bytes) if not NULL, else BT.601
 * limited range), recorded. */
void mxrtc_ms_video_frame(mxrtc_media_session *s, mxrtc_time_us now, const mxrtc_picture *pic,
                          const uint8_t *cs);
/* Once per tick: marks the colour final 1.5 s after the first frame. */
void mxrtc_ms_tick(mxrtc_media_session *s, mxrtc_time_us now);
/* Audio above -40 dBFS was heard at or after t. */
bool mxrtc_ms_loud_since(const mxrtc_media_session *s, mxrtc_time_us t);

/* Logs the stats line for st (state given by name) if a second has passed
 * since the last one; returns true if it did. */
bool mxrtc_ms_stats(mxrtc_media_session *s, mxrtc_time_us now, const char *state, const mxrtc_peer_stats *st,
                    mxrtc_time_us *next_stats_us);

#endif
