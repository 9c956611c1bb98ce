/*
 * peer_adapter.h: the call layer's media side (call_peer.h) on top of the
 * public peer connection (mxrtc_peer, include/mxrtc.h), plus the glue that
 * turns the peer's polled events into the call manager's peer_* inputs.
 *
 * Two drain rules meet here. The call manager calls the ops from inside its
 * own inputs (feed, answer, set_hold...), where the host may not feed it
 * anything else; the peer, for its part, must be drained after each of its
 * inputs. So every op drains the peer at once into the adapter: datagrams
 * are copied into a bounded queue (the host sends them later), local
 * candidates, gathering done and connection state changes into a bounded
 * "signal" queue. The host then, with the call manager drained:
 *   - sends the queued datagrams and drains the peer after its own inputs
 *     with mxrtc_peer_adapter_poll() (it returns the queued datagrams first,
 *     then the peer's own outputs, and copies the signalling events it sees
 *     into the signal queue);
 *   - calls mxrtc_peer_adapter_report() until MXRTC_ERR_AGAIN, draining the
 *     call manager after each successful report.
 *
 * Mute: sdp_stream_metadata only (no renegotiation, as Element); the media
 * side sends silence while audio is muted (the RTP stream and the remote
 * jitter buffer stay alive, as a browser's disabled track) and drops pictures
 * while video is muted: use mxrtc_peer_adapter_push_audio/_video.
 *
 * The time: the ops carry none, so the host sets the factory's clock with
 * mxrtc_peer_adapter_factory_set_time() before every call manager input.
 * One thread at a time.
 */
#ifndef MXRTC_MATRIX_PEER_ADAPTER_H
#define MXRTC_MATRIX_PEER_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mxrtc.h"
#include "matrix/call_manager.h"
#include "matrix/call_peer.h"

#define MXRTC_PA_MAX_PEERS 8          /* peers alive at once (closed ones count until drained) */
#define MXRTC_PA_DGRAM_QUEUE 64       /* datagrams queued by ops; more are dropped (UDP) */
#define MXRTC_PA_DGRAM_MAX 1500
#define MXRTC_PA_SIGNAL_QUEUE 64      /* candidates/state changes waiting for report() */

typedef struct mxrtc_peer_adapter mxrtc_peer_adapter;
typedef struct mxrtc_peer_adapter_factory mxrtc_peer_adapter_factory;

/* cfg is the template of every peer (copied, strings included: they must
 * outlive the factory). Its audio/video directions are overridden per
 * offer/answer. MXRTC_ERR_INVALID_ARGUMENT, MXRTC_ERR_NO_MEMORY. */
int mxrtc_peer_adapter_factory_new(mxrtc_peer_adapter_factory **out, const mxrtc_peer_config *cfg);
/* Frees every peer (sends nothing). NULL is fine. */
void mxrtc_peer_adapter_factory_free(mxrtc_peer_adapter_factory *f);
/* What mxrtc_call_manager_config.peer takes. */
mxrtc_call_peer_factory mxrtc_peer_adapter_factory_get(mxrtc_peer_adapter_factory *f);
/* Replaces the template of peers opened from now on (copied; its strings
 * must outlive the factory or the next call; the allocator stays). */
void mxrtc_peer_adapter_factory_set_template(mxrtc_peer_adapter_factory *f, const mxrtc_peer_config *cfg);
/* The clock the next ops run at. */
void mxrtc_peer_adapter_factory_set_time(mxrtc_peer_adapter_factory *f, mxrtc_time_us now);
/* The adapter of call_id (the newest open one, or a closed one still
 * draining), or NULL. */
mxrtc_peer_adapter *mxrtc_peer_adapter_find(mxrtc_peer_adapter_factory *f, const char *call_id);
/* The i-th slot (0..MXRTC_PA_MAX_PEERS-1), NULL when empty: for host loops. */
mxrtc_peer_adapter *mxrtc_peer_adapter_at(mxrtc_peer_adapter_factory *f, size_t i);

/* The peer connection (feed datagrams and timeouts to it, then drain with
 * mxrtc_peer_adapter_poll, never mxrtc_peer_poll). */
mxrtc_peer *mxrtc_peer_adapter_peer(mxrtc_peer_adapter *a);
const char *mxrtc_peer_adapter_call_id(const mxrtc_peer_adapter *a);
/* The call manager closed it: the host only sends what is queued. */
bool mxrtc_peer_adapter_closed(const mxrtc_peer_adapter *a);

/* The queued datagrams and TURN stream bytes (STREAM outputs), then
 * mxrtc_peer_poll(). Signalling events are also copied for report(). */
int mxrtc_peer_adapter_poll(mxrtc_peer_adapter *a, mxrtc_time_us now, mxrtc_peer_output *out);
/* Feeds the oldest queued signalling event to cm (peer_candidate,
 * peer_gathering_done, peer_state): its result, or MXRTC_ERR_AGAIN when
 * none waits. Drain cm after MXRTC_OK. A closed adapter reports nothing. */
int mxrtc_peer_adapter_report(mxrtc_peer_adapter *a, mxrtc_call_manager *cm, mxrtc_time_us now);

/* Media with the mute rule above. Inputs of the peer: drain afterwards. */
int mxrtc_peer_adapter_push_audio(mxrtc_peer_adapter *a, mxrtc_time_us now, const int16_t *pcm, size_t samples);
int mxrtc_peer_adapter_push_video(mxrtc_peer_adapter *a, mxrtc_time_us now, const mxrtc_picture *pic);

typedef struct mxrtc_peer_adapter_counters {
    uint64_t dropped_datagrams;   /* queue full during an op */
    uint64_t dropped_events;      /* signal queue full, or media events seen during an op */
    uint64_t bad_remote_candidates; /* m.call.candidates lines the peer refused (skipped) */
    bool audio_muted, video_muted;
    size_t signals_waiting;       /* queued for report() */
} mxrtc_peer_adapter_counters;

void mxrtc_peer_adapter_get_counters(const mxrtc_peer_adapter *a, mxrtc_peer_adapter_counters *c);

#endif
