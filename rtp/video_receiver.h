/*
 * video_receiver.h: the VP8 receive stage between the network and the
 * decoder: a packet reorder buffer in front of the frame assembler
 * (rtp/rtp.h), complete frames out in decode order, keyframe waits, and
 * rate-limited keyframe requests (PLI, RFC 4585 §6.3.1).
 *
 * Sans-IO: packets are pushed with their arrival time; mxrtc_video_receiver_poll
 * is drained after every input (and at the deadline it returns) and hands out
 * frames to decode and PLIs to send. The owner decodes (codecs/ is not a
 * dependency of rtp/) and reports each result with
 * mxrtc_video_receiver_decoded, whose needs_keyframe argument is
 * codecs/codec.h's mxrtc_video_decoder_needs_keyframe().
 *
 * Memory: packet slots and the frame buffer are allocated in _new; nothing
 * per packet. One thread at a time.
 */
#ifndef MXRTC_RTP_VIDEO_RECEIVER_H
#define MXRTC_RTP_VIDEO_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"
#include "rtp/rtp.h"

typedef struct mxrtc_video_receiver_config {
    size_t size;                  /* sizeof(mxrtc_video_receiver_config), set by _init */
    size_t slots;                 /* packets held for reordering, 16..4096 (default 512) */
    size_t max_packet;            /* largest RTP payload kept, 64..9000 (default 1500) */
    size_t max_frame;             /* largest frame assembled, 1 KB..16 MB (default 1 MB) */
    uint32_t max_wait_ms;         /* how long a missing packet is waited for while later
                                     ones are there (reordering, NACK/RTX) before it is
                                     given up (default 150) */
    uint32_t pli_interval_ms;     /* at most one PLI per this interval (default 300) */
    uint32_t sender_ssrc;         /* ours, for the PLI */
} mxrtc_video_receiver_config;

void mxrtc_video_receiver_config_init(mxrtc_video_receiver_config *cfg);

typedef struct mxrtc_video_receiver_stats {
    uint64_t packets_received;
    uint64_t packets_duplicate;   /* already held or already passed */
    uint64_t packets_late;        /* arrived after the gap they filled was given up */
    uint64_t packets_given_up;    /* sequence numbers skipped after max_wait */
    uint64_t packets_malformed;   /* descriptor errors, oversized payloads */
    uint64_t frames_complete;     /* assembled */
    uint64_t frames_lost;         /* abandoned incomplete by the assembler */
    uint64_t frames_dropped;      /* complete but not decodable (waiting for a keyframe),
                                     or refused by the decoder */
    uint64_t frames_decoded;      /* reported decoded with a picture */
    uint64_t keyframes_decoded;
    uint64_t keyframe_requests;   /* reasons to ask (before rate limiting) */
    uint64_t plis_sent;
    uint64_t resets;              /* SSRC change or a jump beyond the slots */
    uint64_t freeze_count;        /* W3C webrtc-stats freeze definition */
    uint64_t total_freeze_us;
    uint64_t total_frames_duration_us;   /* between the first and last decoded frame */
} mxrtc_video_receiver_stats;

typedef enum mxrtc_video_receiver_event_type {
    MXRTC_VIDEO_RX_FRAME = 1,     /* out->frame is a complete frame to decode */
    MXRTC_VIDEO_RX_PLI = 2        /* send a PLI for out->media_ssrc now */
} mxrtc_video_receiver_event_type;

typedef struct mxrtc_video_receiver_event {
    mxrtc_video_receiver_event_type type;
    mxrtc_video_frame frame;        /* data valid until the next poll or push */
    uint32_t sender_ssrc, media_ssrc;
} mxrtc_video_receiver_event;

typedef struct mxrtc_video_receiver mxrtc_video_receiver;

/* MXRTC_ERR_INVALID_ARGUMENT for a bad config, MXRTC_ERR_NO_MEMORY. */
int mxrtc_video_receiver_new(mxrtc_video_receiver **out, const mxrtc_video_receiver_config *cfg,
                             const mxrtc_allocator *alloc);
void mxrtc_video_receiver_free(mxrtc_video_receiver *r);

/* Pushes a received RTP packet (payload copied; pkt borrowed for the call)
 * that arrived at `arrival`. A new SSRC restarts the stream (keyframe
 * needed). MXRTC_OK (also for duplicates and late packets, which are
 * counted), MXRTC_ERR_LIMIT for a payload above max_packet,
 * MXRTC_ERR_INVALID_ARGUMENT. */
int mxrtc_video_receiver_push(mxrtc_video_receiver *r, const mxrtc_rtp_packet *pkt,
                              mxrtc_time_us arrival);

/* The next output at `now`: MXRTC_OK with *ev set (a frame to decode, then
 * report it with mxrtc_video_receiver_decoded before the next poll; or a PLI
 * to send), or MXRTC_ERR_AGAIN with *deadline set to when to poll again if no
 * packet arrives before (UINT64_MAX: nothing pending). MXRTC_ERR_STATE if the
 * last frame handed out was not reported (the drain rule was broken),
 * MXRTC_ERR_INVALID_ARGUMENT. */
int mxrtc_video_receiver_poll(mxrtc_video_receiver *r, mxrtc_time_us now,
                              mxrtc_video_receiver_event *ev, mxrtc_time_us *deadline);

/* Reports the decode of the last frame handed out: got_picture when a picture
 * came out (counted as decoded and shown at `now`, for the freeze stats),
 * needs_keyframe when the decoder cannot continue without one (a keyframe
 * request follows). MXRTC_ERR_STATE if no frame is outstanding. */
int mxrtc_video_receiver_decoded(mxrtc_video_receiver *r, mxrtc_time_us now, bool got_picture,
                                 bool needs_keyframe);

/* Sets the PLI interval from the measured RTT: max(pli_interval_ms, rtt). */
void mxrtc_video_receiver_set_rtt(mxrtc_video_receiver *r, uint64_t rtt_us);

/* 1 while the receiver waits for a keyframe. */
int mxrtc_video_receiver_waiting_keyframe(const mxrtc_video_receiver *r);

void mxrtc_video_receiver_get_stats(const mxrtc_video_receiver *r,
                                    mxrtc_video_receiver_stats *out);

#endif /* MXRTC_RTP_VIDEO_RECEIVER_H */
