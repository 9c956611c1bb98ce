/*
 * call_manager.h: the Matrix 1:1 call layer of one account device (sans-IO).
 * The face of matrix/.
 *
 * The host feeds every m.call.* event of its rooms (decrypted), in timeline
 * order, with the room, sender, and the event's age; the peer's events
 * (local ICE candidates, gathering done, connected/disconnected/failed);
 * the room members leaving; and the user's actions. After every input it
 * drains mxrtc_call_manager_poll() until it returns a deadline: events to
 * send (room, type, content JSON), incoming calls, call state changes,
 * remote mute/hold changes; then it calls mxrtc_call_manager_handle_timeout()
 * at that deadline. An input while outputs wait is MXRTC_ERR_STATE (the
 * drain rule of DESIGN.md).
 *
 * Routing (spec VoIP module, MSC2746): by call_id, then by (sender,
 * party_id) once the opponent is chosen; our own echo (our user and
 * party_id) is ignored; another of our devices answering or rejecting a
 * call that rings here stops the ringing; an invite rings only if its
 * invitee is us or absent; glare is settled by the lesser call_id.
 *
 * Thread rule: one thread at a time.
 */
#ifndef MXRTC_MATRIX_CALL_MANAGER_H
#define MXRTC_MATRIX_CALL_MANAGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mxrtc.h"
#include "matrix/call_peer.h"
#include "matrix/events.h"

typedef struct mxrtc_call_manager mxrtc_call_manager;

typedef struct mxrtc_call_manager_config {
    size_t size;                         /* sizeof, set by _init */
    const mxrtc_allocator *allocator;
    mxrtc_random random;                 /* call ids; fn NULL = the OS */
    const mxrtc_logger *logger;
    const char *user_id;                 /* "@me:example.org" (required, copied) */
    const char *party_id;                /* our party id, e.g. the device id (required, copied) */
    mxrtc_call_peer_factory peer;        /* required */
    uint32_t max_calls;                  /* calls tracked at once, ended ones included; 0 = 8 */
    uint32_t invite_lifetime_ms;         /* lifetime of our invites; 0 = 60000 */
    uint32_t candidate_delay_ms;         /* batch local candidates this long; 0 = 200 */
    uint32_t ice_disconnect_timeout_ms;  /* disconnected this long = ice_timeout; 0 = 30000 */
    /* Disconnected this long: we restart ICE (m.call.negotiate), as Element
     * does after 2 s; 0 = 2000, UINT32_MAX = never. */
    uint32_t ice_restart_delay_ms;
} mxrtc_call_manager_config;

void mxrtc_call_manager_config_init(mxrtc_call_manager_config *cfg);

/* mxrtc_call_state and mxrtc_call_state_name(): include/mxrtc.h. */

typedef enum mxrtc_cm_output_kind {
    MXRTC_CM_OUT_DEADLINE = 0,   /* nothing more; call handle_timeout at `deadline` */
    MXRTC_CM_OUT_SEND,           /* send an event: room_id, type, content/content_len */
    MXRTC_CM_OUT_INCOMING,       /* a call rings: call_id, room_id, sender, video */
    MXRTC_CM_OUT_STATE,          /* call_id's state changed: state, reason (ENDED), remote_ended */
    MXRTC_CM_OUT_REMOTE_MEDIA,   /* the peer's metadata changed: remote_audio_muted, remote_video_muted */
    MXRTC_CM_OUT_HOLD            /* hold changed: local_hold, remote_hold */
} mxrtc_cm_output_kind;

/* One output; every pointer is valid until the next call on the manager. */
typedef struct mxrtc_cm_output {
    mxrtc_cm_output_kind kind;
    mxrtc_time_us deadline;       /* DEADLINE: MXRTC_TIME_NEVER when nothing is scheduled */
    const char *room_id;
    const char *call_id;
    const char *type;             /* SEND: "m.call.invite"... */
    const char *content;          /* SEND: JSON object, NUL-terminated */
    size_t content_len;
    const char *sender;           /* INCOMING: the caller's user id */
    bool video;                   /* INCOMING: the offer has video */
    mxrtc_call_state state;       /* STATE */
    mxrtc_mx_reason reason;       /* STATE ENDED: why */
    bool remote_ended;            /* STATE ENDED: the other side ended it */
    const char *replaced_by;      /* STATE ENDED with REPLACED: the call that replaces it */
    bool remote_audio_muted, remote_video_muted;   /* REMOTE_MEDIA */
    bool local_hold, remote_hold;                  /* HOLD */
} mxrtc_cm_output;

/* Creates a manager. MXRTC_ERR_INVALID_ARGUMENT (missing user/party/peer
 * factory, ids longer than 255 bytes), MXRTC_ERR_NO_MEMORY. */
int mxrtc_call_manager_new(mxrtc_call_manager **out, const mxrtc_call_manager_config *cfg);
/* Closes every peer and frees; NULL is fine. Sends nothing. */
void mxrtc_call_manager_free(mxrtc_call_manager *m);

/* An event from the room timeline. */
typedef struct mxrtc_mx_room_event {
    const char *room_id;
    const char *sender;
    const char *type;             /* event type */
    const char *content;          /* its content JSON (borrowed for the call) */
    size_t content_len;
    /* The event's age in ms ("unsigned.age") as it was when the host
     * received it at `received_at` on the caller's clock; the age now is
     * age_ms + (now - received_at). UINT64_MAX: unknown (treated as 0). */
    uint64_t age_ms;
    mxrtc_time_us received_at;    /* 0: now */
} mxrtc_mx_room_event;

#define MXRTC_MX_AGE_UNKNOWN UINT64_MAX

/* Feeds one room event. Returns MXRTC_OK when it was used or deliberately
 * ignored (not a call event, our echo, not for us, expired, stale...),
 * MXRTC_ERR_MALFORMED / MXRTC_ERR_LIMIT when the content is invalid
 * (*reason, if reason is not NULL, says why; nothing changed),
 * MXRTC_ERR_LIMIT when no call slot is free for a new call, the peer
 * factory's error when it cannot open a peer for an incoming call,
 * MXRTC_ERR_STATE when outputs were not drained. */
int mxrtc_call_manager_feed(mxrtc_call_manager *m, mxrtc_time_us now, const mxrtc_mx_room_event *ev,
                            const char **reason);

/* A member left room_id (m.room.member leave/ban): calls with them end
 * (hangup sent, reason PEER_LEFT). */
int mxrtc_call_manager_member_left(mxrtc_call_manager *m, mxrtc_time_us now, const char *room_id,
                                   const char *user_id);

/* ---- user actions (MXRTC_ERR_NOT_FOUND for an unknown call_id,
 * MXRTC_ERR_STATE when the call's state does not allow it or outputs wait) */

/* Places a call: invitee NULL = anyone in the room (the spec allows it; set
 * it in rooms with more than two members). The new call_id (NUL-terminated)
 * is written to call_id_out (at least 64 bytes). */
int mxrtc_call_manager_place(mxrtc_call_manager *m, mxrtc_time_us now, const char *room_id,
                             const char *invitee, bool video, char *call_id_out, size_t cap);
/* Answers a ringing call. */
int mxrtc_call_manager_answer(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id, bool video);
/* Rejects a ringing call: m.call.reject, or m.call.hangup to a version 0 peer. */
int mxrtc_call_manager_reject(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id);
/* Hangs up (any state but ENDED) with a reason (NONE = user_hangup). */
int mxrtc_call_manager_hangup(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id,
                              mxrtc_mx_reason reason);
/* Mutes/unmutes our audio or video: sdp_stream_metadata_changed. */
int mxrtc_call_manager_set_mute(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id,
                                bool audio_muted, bool video_muted);
/* Holds/resumes (m.call.negotiate with a sendonly/inactive offer).
 * MXRTC_ERR_UNSUPPORTED with a version 0 peer (no negotiate). */
int mxrtc_call_manager_set_hold(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id, bool hold);
/* Turns our video on/off (m.call.negotiate). Same errors as set_hold. */
int mxrtc_call_manager_set_video(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id, bool video);
/* Restarts ICE (m.call.negotiate with new credentials). Same errors. */
int mxrtc_call_manager_restart_ice(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id);

/* ---- what the peer connection reports (fed by the host) ---------------- */

/* A local candidate: text "candidate:..." (RFC 8839 §5.1), its mid and
 * m-line index (-1 unknown; one of the two is required, as for
 * RTCIceCandidate). Batched into m.call.candidates.
 * MXRTC_ERR_INVALID_ARGUMENT for an empty, overlong or control-character
 * candidate, or neither mid nor index. */
int mxrtc_call_manager_peer_candidate(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id,
                                      const char *candidate, const char *sdp_mid, int sdp_mline_index);
/* Gathering finished: end-of-candidates goes with the next batch. */
int mxrtc_call_manager_peer_gathering_done(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id);

typedef enum mxrtc_call_peer_state {
    MXRTC_CALL_PEER_CONNECTED = 1,
    MXRTC_CALL_PEER_DISCONNECTED,   /* may recover; ice_timeout after the configured time */
    MXRTC_CALL_PEER_FAILED          /* ICE failed: hangup ice_failed */
} mxrtc_call_peer_state;

int mxrtc_call_manager_peer_state(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id,
                                  mxrtc_call_peer_state state);

/* Time has passed. */
int mxrtc_call_manager_handle_timeout(mxrtc_call_manager *m, mxrtc_time_us now);
/* The next output. MXRTC_OK. */
int mxrtc_call_manager_poll(mxrtc_call_manager *m, mxrtc_time_us now, mxrtc_cm_output *out);

/* The state of call_id (NONE if unknown). */
mxrtc_call_state mxrtc_call_manager_call_state(const mxrtc_call_manager *m, const char *call_id);

/* Events feed() returned MXRTC_OK for without using them: not a call
 * event, our own echo, for another user, a repeat, expired, or for a call
 * we do not know (candidates kept for a later invite are not counted). */
uint64_t mxrtc_call_manager_events_ignored(const mxrtc_call_manager *m);

#endif
