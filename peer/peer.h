/*
 * peer.h: the inside of the sans-IO peer connection (the public face is the
 * mxrtc_peer_* part of include/mxrtc.h). Shared by the files of peer/:
 *   peer.c       life cycle, the output queue and drain rule, the inputs,
 *                ICE and DTLS pumping, connection state
 *   negotiate.c  JSEP: offers, answers, applying descriptions
 *   media_send.c local tracks: Opus/VP8/VP9 encoding, packetizing, SRTP, RTX
 *   media_recv.c remote tracks: SRTP unprotect, demux by SSRC/PT/mid,
 *                decoding, NACK and PLI generation, playout FIFO
 *   rtcp.c       RTCP SR/RR/SDES/BYE, feedback (NACK, PLI) in and out
 */
#ifndef MXRTC_PEER_PEER_H
#define MXRTC_PEER_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"
#include "base/pktq.h"
#include "codecs/codec.h"
#include "dtls/dtls.h"
#include "ice/agent.h"
#include "rtp/rtp.h"
#include "sdp/sdp.h"

/* Bounds. */
#define PEER_OUTQ_BYTES (1024 * 1024)    /* queued outputs (datagrams, events) */
#define PEER_RXQ_BYTES (64 * 1024)       /* data ICE relayed to us, awaiting processing */
#define PEER_EARLY_DTLS_BYTES (8 * 1024) /* DTLS records before our endpoint exists: a
                                            ClientHello (two ~1.4 KB fragments from a browser)
                                            and its retransmissions */
#define PEER_PKT_MAX 1500                /* largest datagram we build or accept as media */
#define PEER_MTU 1200                    /* RTP packets we send (RFC 8085 §3.2 safe size) */
#define PEER_VIDEO_FRAME_MAX (1024 * 1024) /* encoded frame, both ways */
#define PEER_AUDIO_FRAME 960             /* 20 ms at 48 kHz: what we encode */
#define PEER_RTCP_INTERVAL 500000        /* RFC 3550 §6.2 is 5 s; WebRTC sends ~1/s; 0.5 s here */
#define PEER_PLI_INTERVAL 300000         /* at most one PLI per 300 ms */
#define PEER_MID_MAX 32
#define PEER_EARLY_CANDS 16              /* candidates kept before the remote offer */
#define PEER_LOCAL_CANDS 16              /* local candidates kept for mxrtc_peer_local_description */
#define PEER_REORDER 128                 /* video packets held for reordering */
#define PEER_REORDER_WAIT 300000         /* wait for a missing packet (NACK/RTX) before the RTT is known */

typedef struct peer_outmeta {
    uint8_t kind;            /* mxrtc_peer_output_kind */
    uint8_t event;           /* mxrtc_peer_event */
    uint8_t state, dtls_state, media;
    mxrtc_addr from, to;
    char mid[PEER_MID_MAX];
    mxrtc_picture picture;
} peer_outmeta;

/* A negotiated media section and what flows on it. */
typedef struct peer_section {
    bool active;             /* accepted, not port 0 */
    char mid[PEER_MID_MAX];
    mxrtc_codec_id codec;    /* what we send (first codec of the answer) */
    uint8_t pt;              /* its payload type */
    int16_t rtx_pt;          /* -1: none */
    uint8_t pts[16];         /* every codec pt we accept on receive ... */
    mxrtc_codec_id pt_codec[16];
    int16_t pt_rtx[16];      /* ... and its RTX pt (-1 none) */
    unsigned pt_count;
    uint8_t mid_ext;         /* a=extmap id of sdes:mid, 0 none */
    uint8_t colour_ext;      /* a=extmap id of webrtc color-space, 0 none */
    bool send, recv;         /* our side of the direction */
    uint32_t remote_ssrc, remote_rtx_ssrc; /* signalled, 0 if not */
} peer_section;

typedef struct peer_tx {
    uint32_t ssrc, rtx_ssrc;
    uint16_t seq;
    uint32_t ts_base;
    bool have_first;
    mxrtc_time_us first_capture;
    mxrtc_send_stats stats;
    uint64_t packets, bytes, frames, nacks, retransmitted, plis;
    int64_t remote_lost;
    uint32_t remote_jitter;
    mxrtc_rtx_history *rtx;  /* video only */
    uint16_t picture_id;
} peer_tx;

typedef struct peer_rx {
    bool started;
    uint32_t ssrc;
    mxrtc_codec_id codec;
    mxrtc_receive_stats stats;
    uint64_t packets, bytes, frames, nacks, plis, concealed;
    uint16_t next_seq;
    bool have_seq;
    bool track_announced;
    char announced_mid[PEER_MID_MAX];
} peer_rx;

struct mxrtc_peer {
    mxrtc_allocator alloc_copy;
    const mxrtc_allocator *alloc;
    mxrtc_random random;
    mxrtc_logger logger;
    mxrtc_peer_config cfg;
    char *turn_strings[MXRTC_PEER_MAX_SERVERS][4]; /* user, pass, sni, ca */

    mxrtc_dtls_cert *cert;
    char fp_alg[16];
    char fp_value[MXRTC_DTLS_FINGERPRINT_STRLEN];

    /* ICE */
    mxrtc_ice_agent *ice;
    mxrtc_ice_state ice_state;
    bool gathering;
    bool restart_wanted;
    mxrtc_time_us ice_deadline;

    /* DTLS and SRTP */
    mxrtc_dtls *dtls;
    mxrtc_dtls_role role;
    bool role_known;
    mxrtc_dtls_fingerprint remote_fp;
    mxrtc_dtls_state dtls_state;
    mxrtc_time_us dtls_deadline;
    mxrtc_srtp *srtp;

    /* signalling */
    mxrtc_sdp *local, *remote;           /* current descriptions */
    mxrtc_sdp *created;                  /* made by create_*, not yet set */
    mxrtc_sdp_type created_type;
    mxrtc_sdp *pending_remote_offer;     /* set_remote(offer) until our answer is set */
    mxrtc_sdp *pending_local_offer;      /* set_local(offer) until the remote answer */
    uint64_t session_id;
    char cname[20], stream_id[40], audio_track[40], video_track[40];
    char local_mid[PEER_MID_MAX];        /* first bundled mid, for local candidates */
    bool negotiated;

    peer_section audio_sec, video_sec;

    /* local tracks */
    peer_tx atx, vtx;
    mxrtc_opus_encoder *opus_enc;
    int16_t pcm_acc[PEER_AUDIO_FRAME];
    size_t pcm_acc_len;
    mxrtc_time_us pcm_acc_start;
    uint64_t audio_samples_sent;
    mxrtc_video_encoder *venc;
    mxrtc_codec_id venc_codec;
    uint8_t *venc_buf;       /* PEER_VIDEO_FRAME_MAX */

    /* remote tracks */
    peer_rx arx, vrx;
    mxrtc_opus_decoder *opus_dec;
    int16_t *fifo;           /* playout FIFO (ring), fifo_cap samples */
    size_t fifo_cap, fifo_head, fifo_len;
    mxrtc_video_decoder *vdec;
    mxrtc_codec_id vdec_codec;
    uint8_t *vasm_buf;       /* PEER_VIDEO_FRAME_MAX */
    mxrtc_frame_assembler vasm;
    mxrtc_nack_gen nack;
    /* Reordering ahead of the assembler, so that late and retransmitted
     * packets still complete their frame: plain RTP by seq modulo the ring. */
    struct peer_slot {
        bool used;
        uint16_t seq;
        uint16_t len;
        mxrtc_codec_id codec;
    } vslot[PEER_REORDER];
    uint8_t *vslot_data;     /* PEER_REORDER x PEER_PKT_MAX */
    bool have_vnext;
    uint16_t vnext;          /* next seq to hand to the assembler */
    mxrtc_time_us vgap_since; /* MXRTC_TIME_NEVER: not waiting for a gap */
    bool frame_pending;      /* a decoded picture to announce at the end of the input */
    mxrtc_picture frame_pic;
    uint8_t video_colour[4];     /* last color-space extension received (primaries, transfer, matrix, range) */
    bool have_video_colour;
    bool pli_due;
    mxrtc_time_us last_pli;

    /* RTCP */
    mxrtc_time_us next_rtcp;

    /* outputs */
    mxrtc_pktq outq;
    bool front_held;         /* the front entry was returned by the last poll */
    mxrtc_pktq rxq;          /* ICE RECEIVED data waiting to be processed */
    mxrtc_pktq early_dtls;   /* DTLS that came before our DTLS endpoint (allocated on first use) */
    bool dtls_start_due;

    char out_mid[PEER_MID_MAX];          /* the mid of the output returned last */
    /* Remote candidates trickled before there is an ICE agent (before the
     * remote offer), replayed when it is made; "" is end-of-candidates. */
    char early_cands[PEER_EARLY_CANDS][MXRTC_ICE_CANDIDATE_LINE_MAX + 1];
    unsigned early_count;
    /* Our candidates of the current ICE generation, as signalled, for
     * mxrtc_peer_local_description (RFC 8839 §5.1); cleared by a restart.
     * Beyond the bound they are only trickled (counted). */
    char local_cands[PEER_LOCAL_CANDS][MXRTC_ICE_CANDIDATE_LINE_MAX];
    unsigned local_cand_count;
    uint64_t local_cands_unlisted;
    bool remote_creds;       /* a remote description has been applied to ICE */

    mxrtc_peer_state state;
    bool closed;

    uint64_t garbage, srtp_failures, dropped_outputs;
    uint8_t buf[PEER_PKT_MAX + 64];     /* scratch for one packet */
    uint8_t buf2[PEER_PKT_MAX + 64];
};

/* peer.c */
/* The drain rule and closed check for an input: MXRTC_OK, MXRTC_ERR_STATE,
 * MXRTC_ERR_CLOSED, MXRTC_ERR_INVALID_ARGUMENT. */
int mxrtc_peer_input_check(const mxrtc_peer *p);
/* After an input: starts DTLS when due and processes data ICE relayed. */
void mxrtc_peer_settle(mxrtc_peer *p, mxrtc_time_us now);
void mxrtc_peer_emit(mxrtc_peer *p, const peer_outmeta *m, const uint8_t *data, size_t len);
void mxrtc_peer_emit_event(mxrtc_peer *p, mxrtc_peer_event ev);
/* Sends application bytes (DTLS, SRTP) on the selected pair and drains ICE. */
int mxrtc_peer_ice_send(mxrtc_peer *p, mxrtc_time_us now, const uint8_t *data, size_t len);
void mxrtc_peer_pump_ice(mxrtc_peer *p, mxrtc_time_us now);
void mxrtc_peer_pump_dtls(mxrtc_peer *p, mxrtc_time_us now);
void mxrtc_peer_update_state(mxrtc_peer *p);
/* Closes the ICE agent, which releases its TURN allocations (once; after
 * the peer is marked closed). */
void mxrtc_peer_start_teardown(mxrtc_peer *p, mxrtc_time_us now);
/* Creates the DTLS endpoint once the role and fingerprint are known (and,
 * for a client, ICE is connected). */
void mxrtc_peer_maybe_start_dtls(mxrtc_peer *p, mxrtc_time_us now);

/* negotiate.c */
int mxrtc_peer_ensure_ice(mxrtc_peer *p, mxrtc_time_us now, bool controlling);

/* media_send.c */
int mxrtc_peer_send_rtp(mxrtc_peer *p, mxrtc_time_us now, peer_tx *tx, uint8_t *pkt, size_t len,
                        bool keep_for_rtx);
void mxrtc_peer_media_free(mxrtc_peer *p);

/* media_recv.c */
void mxrtc_peer_on_rtp(mxrtc_peer *p, mxrtc_time_us now, uint8_t *data, size_t len);
void mxrtc_peer_on_rtcp(mxrtc_peer *p, mxrtc_time_us now, uint8_t *data, size_t len);
mxrtc_time_us mxrtc_peer_media_deadline(const mxrtc_peer *p);
/* Gives up on missing video packets that waited long enough. */
void mxrtc_peer_video_timer(mxrtc_peer *p, mxrtc_time_us now);

/* rtcp.c */
void mxrtc_peer_rtcp_timer(mxrtc_peer *p, mxrtc_time_us now);
/* Sends RR + PLI and/or NACK for the video stream. */
void mxrtc_peer_send_feedback(mxrtc_peer *p, mxrtc_time_us now, bool pli, const uint16_t *seqs,
                              size_t nseq);
void mxrtc_peer_send_bye(mxrtc_peer *p, mxrtc_time_us now);
void mxrtc_peer_handle_rtcp(mxrtc_peer *p, mxrtc_time_us now, const uint8_t *data, size_t len);

/* mxrtc_peer_video_colour_space(): include/mxrtc.h. */

/* Internal routing aids for hosts whose calls share sockets (matrix/calls):
 * the ICE agent's mxrtc_ice_agent_has_local_ufrag / _remote_rank, false / 0
 * before the agent exists or after close. */
bool mxrtc_peer_has_local_ufrag(const mxrtc_peer *p, const char *ufrag, size_t len);
int mxrtc_peer_remote_rank(const mxrtc_peer *p, const mxrtc_addr *remote);
/* remote is one of the TURN servers of a closed peer whose teardown still
 * runs (mxrtc_peer_close: it still takes their STUN and ChannelData). */
bool mxrtc_peer_tearing_down_with(const mxrtc_peer *p, const mxrtc_addr *remote);
/* ssrc is one of the remote's (signalled or received) or one of ours (RTCP
 * reports about our streams). */
bool mxrtc_peer_knows_ssrc(const mxrtc_peer *p, uint32_t ssrc);
bool mxrtc_peer_dtls_connected(const mxrtc_peer *p);

#endif
