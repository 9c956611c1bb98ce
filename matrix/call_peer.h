/*
 * call_peer.h: what the Matrix call layer needs from the media side (the
 * peer connection, peer/), kept to the minimum so that peer/ can implement
 * it and tests can fake it.
 *
 * Each call gets its own peer from the factory (open) and closes it when
 * the call ends. Every operation is synchronous: the layer is sans-IO and
 * so is the peer. SDP text is written into a caller's buffer of `cap` bytes
 * (MXRTC_MX_SDP_MAX + 1); a peer returns MXRTC_ERR_BUFFER_TOO_SMALL if its
 * SDP does not fit. Any error makes the call end (user_media_failed for
 * offers/answers we could not create, unknown_error otherwise).
 *
 * The other direction (ICE candidates gathered, gathering done, connected,
 * disconnected, failed) is fed by the host into the call manager with
 * mxrtc_call_manager_peer_*(): see call_manager.h.
 */
#ifndef MXRTC_MATRIX_CALL_PEER_H
#define MXRTC_MATRIX_CALL_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include "mxrtc.h"
#include "matrix/events.h"

/* What we want to send, for an offer or an answer. */
typedef struct mxrtc_call_media {
    bool audio;          /* always true for Matrix 1:1 calls */
    bool video;          /* send (and receive) video */
    bool hold;           /* we hold the call: our sections sendonly/inactive (RFC 3264 §8.4) */
    bool ice_restart;    /* offer only: new ICE credentials (RFC 8445 §9) */
} mxrtc_call_media;

typedef struct mxrtc_call_peer_ops {
    /* Our offer: the first one (invite) or a renegotiation (hold/resume,
     * video on/off, ICE restart). */
    int (*create_offer)(void *peer, const mxrtc_call_media *want, char *sdp, size_t cap, size_t *len);
    /* Applies a remote offer (invite or negotiate) and writes our answer.
     * It may come while an offer of ours is pending (crossing negotiate
     * offers, where we are the polite side): the peer then rolls its own
     * offer back first (RFC 8829 §5.7: implicit rollback). */
    int (*create_answer)(void *peer, const char *remote_offer, const mxrtc_call_media *want,
                         char *sdp, size_t cap, size_t *len);
    /* Applies the remote answer to our last offer. */
    int (*set_remote_answer)(void *peer, const char *remote_answer);
    /* Remote candidates from m.call.candidates (count may be 0 when only
     * end_of_candidates is signalled). */
    int (*add_remote_candidates)(void *peer, const mxrtc_mx_candidate *c, size_t count,
                                 bool end_of_candidates);
    /* Optional (NULL allowed): stop or resume sending audio/video (mute). */
    int (*set_mute)(void *peer, bool audio_muted, bool video_muted);
    /* The call is over: release the peer. Called exactly once per open. */
    void (*close)(void *peer);
} mxrtc_call_peer_ops;

typedef struct mxrtc_call_peer_factory {
    const mxrtc_call_peer_ops *ops;
    void *user;
    /* A new peer for call_id; *peer_out is the pointer passed to the ops. */
    int (*open)(void *user, const char *call_id, bool outgoing, void **peer_out);
} mxrtc_call_peer_factory;

#endif
