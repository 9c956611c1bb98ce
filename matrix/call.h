/*
 * call.h: one Matrix 1:1 call, the state machine of the spec's VoIP module
 * (internal to matrix/: the manager routes events and user actions here;
 * the face of the module is call_manager.h).
 *
 * States: INVITE_SENT (outgoing) or RINGING (incoming) → CONNECTING (answer
 * sent or chosen) → CONNECTED (the peer says so) → ENDED; hold is a pair of
 * flags beside the state (local_hold, remote_hold). Timers, all on the
 * caller's clock: invite expiry (ours: lifetime; theirs: lifetime minus the
 * event's age), the candidate batch delay, and the ICE disconnection timeout.
 */
#ifndef MXRTC_MATRIX_CALL_H
#define MXRTC_MATRIX_CALL_H

#include <stdbool.h>
#include <stdint.h>
#include "mxrtc.h"
#include "matrix/call_manager.h"
#include "matrix/events.h"

/* Remote candidates held until the opponent is chosen (an outgoing call
 * before the answer: several devices may answer). */
#define MXRTC_CALL_REMOTE_BUFFER 64
/* msid streams of our own SDP described in sdp_stream_metadata. */
#define MXRTC_CALL_STREAMS 4

typedef struct mxrtc_call_buffered {
    char sender[MXRTC_MX_ID_MAX + 1];
    char party[MXRTC_MX_ID_MAX + 1];
    bool eoc;                      /* an end-of-candidates marker, c unused */
    mxrtc_mx_candidate c;
} mxrtc_call_buffered;

typedef struct mxrtc_call {
    bool used;
    uint64_t seq;                  /* creation order: the oldest ended call is reused first */
    char room_id[MXRTC_MX_ID_MAX + 1];
    char call_id[MXRTC_MX_ID_MAX + 1];
    bool outgoing;
    mxrtc_call_state state;
    mxrtc_mx_reason end_reason;

    char invitee[MXRTC_MX_ID_MAX + 1];     /* outgoing: whom we called ("" = anyone) */
    /* The opponent: the caller for an incoming call, the chosen answerer
     * for an outgoing one. */
    bool opponent_chosen;
    char opponent_user[MXRTC_MX_ID_MAX + 1];
    char opponent_party[MXRTC_MX_ID_MAX + 1];
    bool opponent_has_party;               /* false for a version 0 opponent */
    uint32_t opponent_version;

    bool want_video;
    bool offer_has_video;                  /* incoming: the invite offers video */
    bool audio_muted, video_muted;
    bool local_hold, remote_hold;
    bool making_offer;                     /* our negotiate offer waits for its answer */
    bool invite_or_answer_sent;
    bool remote_audio_muted, remote_video_muted;

    mxrtc_time_us invite_expiry;           /* INVITE_SENT / RINGING; NEVER otherwise */
    mxrtc_time_us cand_flush_at;           /* NEVER when nothing waits */
    mxrtc_time_us ice_deadline;            /* disconnected: ice_timeout at; NEVER otherwise */
    mxrtc_time_us ice_restart_at;          /* disconnected: our ICE restart at; NEVER otherwise */

    /* Local candidates waiting for their batch. */
    mxrtc_mx_candidate local[MXRTC_MX_CANDIDATES_MAX];
    uint32_t local_count;
    bool local_eoc;

    mxrtc_call_buffered *remote;           /* MXRTC_CALL_REMOTE_BUFFER entries, allocated lazily */
    uint32_t remote_count;
    uint64_t remote_dropped;

    char *remote_offer;                    /* RINGING: the invite's SDP until we answer */
    char streams[MXRTC_CALL_STREAMS][MXRTC_MX_ID_MAX + 1];  /* msid stream ids of our last SDP */
    uint32_t stream_count;
    void *peer;                            /* from the factory; NULL once closed */
} mxrtc_call;

/* The manager's side the call uses (implemented in call_manager.c). */
int mxrtc_cm_emit_send(mxrtc_call_manager *m, const mxrtc_call *c, const mxrtc_mx_outgoing *ev);
int mxrtc_cm_emit_state(mxrtc_call_manager *m, const mxrtc_call *c, bool remote_ended,
                        const char *replaced_by);
int mxrtc_cm_emit_incoming(mxrtc_call_manager *m, const mxrtc_call *c);
int mxrtc_cm_emit_remote_media(mxrtc_call_manager *m, const mxrtc_call *c);
int mxrtc_cm_emit_hold(mxrtc_call_manager *m, const mxrtc_call *c);
const char *mxrtc_cm_party_id(const mxrtc_call_manager *m);
char *mxrtc_cm_sdp_buffer(mxrtc_call_manager *m);      /* MXRTC_MX_SDP_MAX + 1 bytes */
const mxrtc_call_peer_ops *mxrtc_cm_peer_ops(const mxrtc_call_manager *m);
const mxrtc_allocator *mxrtc_cm_allocator(const mxrtc_call_manager *m);
uint32_t mxrtc_cm_lifetime_ms(const mxrtc_call_manager *m);
uint32_t mxrtc_cm_candidate_delay_ms(const mxrtc_call_manager *m);
uint32_t mxrtc_cm_ice_timeout_ms(const mxrtc_call_manager *m);
uint32_t mxrtc_cm_ice_restart_delay_ms(const mxrtc_call_manager *m);

/* ---- the call's own operations (call.c) ---------------------------------- */

/* Outgoing: creates the offer and sends the invite. */
int mxrtc_call_start_outgoing(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now);
/* Incoming: takes the invite (already validated and routed), rings. */
int mxrtc_call_start_incoming(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now,
                              const char *sender, const mxrtc_mx_event *inv, mxrtc_time_us expiry,
                              bool ring);
int mxrtc_call_answer(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now, bool video);
int mxrtc_call_reject(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now);
/* Sends a hangup (unless send is false) and ends the call. */
int mxrtc_call_hangup(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now, mxrtc_mx_reason reason,
                      bool send, const char *replaced_by);
/* Ends without sending anything. */
void mxrtc_call_end(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_mx_reason reason, bool remote_ended,
                    const char *replaced_by);
int mxrtc_call_set_mute(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now, bool audio, bool video);
/* Renegotiation with an offer of ours (hold, video, ICE restart). */
int mxrtc_call_renegotiate(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now,
                           bool hold, bool video, bool ice_restart);

/* A routed event from sender/party (not our echo). */
int mxrtc_call_on_event(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now, const char *sender,
                        bool from_own_user, const mxrtc_mx_event *ev);

/* Candidates that came before the invite (kept by the manager): held
 * like those that come while ringing. MXRTC_ERR_STATE unless RINGING. */
int mxrtc_call_early_candidates(mxrtc_call_manager *m, mxrtc_call *c, const char *sender, const char *party,
                                const mxrtc_mx_candidate *cands, uint32_t count, bool eoc);

int mxrtc_call_local_candidate(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now,
                               const mxrtc_mx_candidate *cand);
int mxrtc_call_gathering_done(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now);
int mxrtc_call_on_peer_state(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now,
                          mxrtc_call_peer_state st);
/* Runs due timers. */
int mxrtc_call_timeout(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now);
/* The earliest timer of the call, MXRTC_TIME_NEVER if none. */
mxrtc_time_us mxrtc_call_next_deadline(const mxrtc_call *c);
/* True if the call is live (not NONE/ENDED). */
bool mxrtc_call_active(const mxrtc_call *c);
/* Frees what the call holds (peer closed, buffers). */
void mxrtc_call_release(mxrtc_call_manager *m, mxrtc_call *c);

#endif
