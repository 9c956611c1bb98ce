/*
 * peer_harness.h: two mxrtc peers on the simulated network with a virtual
 * clock. The harness does the host's work: it drains each peer after every
 * input, carries datagrams through simnet, trickles candidates to the other
 * side, pushes a tone (and a solid-colour picture) and pulls playout.
 */
#ifndef MXRTC_TEST_PEER_HARNESS_H
#define MXRTC_TEST_PEER_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mxrtc.h"
#include "base/random.h"
#include "support/simnet.h"
#include "signal.h"

#define H_MAX_CANDS 32
#define H_REC_SAMPLES (48000 * 30)

typedef struct h_side {
    mxrtc_peer *p;
    mxrtc_seeded_random rnd;
    int host;
    mxrtc_addr addr;          /* the interface address with the socket port */
    mxrtc_time_us deadline;
    /* candidates the other side emitted, not yet given to us */
    char cands[H_MAX_CANDS][1100];
    int ncands;
    bool remote_set;          /* we have a remote description: trickle now */
    /* what we saw */
    mxrtc_peer_state state;
    mxrtc_dtls_state dtls_state;
    int remote_tracks[3];     /* by mxrtc_media_kind */
    int gathering_done;
    int local_candidates;
    uint64_t video_frames;
    double last_y, last_u, last_v;
    int last_w, last_h;
    int keyframe_requests;
    int stats_events;
    /* media */
    double tone_hz;           /* 0: no audio pushed */
    uint64_t tone_pos;
    int16_t *rec;             /* pulled playout */
    size_t rec_len;
    bool send_video;
    uint8_t colour[3];
    sig_picture pic;
    /* push_encoded mode: the test encodes (20 ms Opus, VP8) itself */
    bool encoded;
    struct mxrtc_opus_encoder *oenc;
    struct mxrtc_video_encoder *venc;
    int16_t pcm20[960];
    size_t pcm20_len;
    uint8_t *vbuf;
} h_side;

typedef struct harness {
    simnet *net;
    mxrtc_time_us now;
    h_side s[2];
    mxrtc_time_us next_media;
    uint64_t ticks;
    /* Seed recording for fuzz_peer_datagram: datagrams delivered to side 1
     * as [u32 delay_us][u16 len][bytes] records (NULL: off). */
    FILE *dump;
    /* Optional: edits the offer in transit (as a signalling server could);
     * returns the new length. */
    size_t (*munge_offer)(char *sdp, size_t cap);
    bool withhold[2];         /* never give side i the other's candidates */
    bool early_trickle;       /* give the answerer the offerer's candidates before the offer */
    mxrtc_time_us answer_delay; /* run the clock this long before the offerer gets the answer */
    mxrtc_time_us dump_last;
    int dump_count;
} harness;

/* Creates the network (two hosts on the WAN unless nat is set: then each
 * behind its own port-restricted NAT with a STUN server on the WAN) and two
 * peers with cfg defaults adjusted by the given directions. */
void h_init(harness *h, uint64_t seed, bool nat, mxrtc_direction audio, mxrtc_direction video);
/* The same with a simnet TURN server (UDP) on the WAN that both peers must
 * use (relay_only), each peer behind its own NAT. */
void h_init_relay(harness *h, uint64_t seed);
void h_free(harness *h);
/* Drains side i, acting on every output; asserts the drain rule holds. */
void h_drain(harness *h, int i);
/* offerer creates an offer, both apply, the other answers. Returns 0. */
void h_negotiate(harness *h, int offerer, char *offer_out, size_t offer_cap, char *answer_out,
                 size_t answer_cap);
/* Runs the clock to `until`, delivering datagrams, timeouts and media. */
void h_run(harness *h, mxrtc_time_us until);
/* Peak frequency and RMS of the last `ms` of side i's recording. */
double h_peak(const h_side *s, int ms, double *rms);

#endif
