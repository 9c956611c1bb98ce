/*
 * peer_adapter.c: call_peer.h on mxrtc_peer. See peer_adapter.h for the
 * queues and the drain rules, docs/matrix.md for the mapping.
 */
#include "matrix/peer_adapter.h"

#include <string.h>

#include "base/alloc.h"

typedef struct pa_dgram {
    bool stream;             /* bytes for the TCP/TLS connection to TURN server `to` */
    mxrtc_addr from, to;
    size_t len;
    uint8_t data[MXRTC_PA_DGRAM_MAX];
} pa_dgram;

typedef enum pa_sig_kind { PA_SIG_CANDIDATE = 1, PA_SIG_GATHERING_DONE, PA_SIG_STATE } pa_sig_kind;

typedef struct pa_signal {
    pa_sig_kind kind;
    mxrtc_call_peer_state state;
    char mid[MXRTC_MX_MID_MAX + 1];
    char text[MXRTC_MX_CANDIDATE_MAX + 1];
} pa_signal;

struct mxrtc_peer_adapter {
    mxrtc_peer_adapter_factory *f;
    mxrtc_peer *peer;
    char call_id[MXRTC_MX_ID_MAX + 1];
    bool closed;
    bool had_video;          /* a video section exists in the session */
    bool applied_once;       /* a local description was applied: ICE runs */
    bool offer_unapplied;    /* our renegotiation offer is created, not yet applied */
    pa_dgram dq[MXRTC_PA_DGRAM_QUEUE];
    size_t dq_head, dq_count;
    pa_signal sq[MXRTC_PA_SIGNAL_QUEUE];
    size_t sq_head, sq_count;
    mxrtc_peer_adapter_counters ctr;
    int16_t silence[960];
};

struct mxrtc_peer_adapter_factory {
    mxrtc_peer_config cfg;
    mxrtc_time_us now;
    mxrtc_peer_adapter *slots[MXRTC_PA_MAX_PEERS];
};

static const mxrtc_allocator *alloc_of(const mxrtc_peer_adapter_factory *f) { return f->cfg.allocator; }

static void push_signal(mxrtc_peer_adapter *a, const pa_signal *s) {
    if (a->sq_count == MXRTC_PA_SIGNAL_QUEUE) {
        a->ctr.dropped_events++;
        return;
    }
    a->sq[(a->sq_head + a->sq_count++) % MXRTC_PA_SIGNAL_QUEUE] = *s;
}

/* Copies the events the call layer needs into the signal queue. */
static void note_event(mxrtc_peer_adapter *a, const mxrtc_peer_output *o) {
    pa_signal s;
    memset(&s, 0, sizeof s);
    switch (o->event) {
    case MXRTC_PEER_EV_LOCAL_CANDIDATE: {
        if (!o->text) return;
        size_t n = strlen(o->text), m = o->mid ? strlen(o->mid) : 0;
        if (n > MXRTC_MX_CANDIDATE_MAX || m > MXRTC_MX_MID_MAX) {
            a->ctr.dropped_events++;
            return;
        }
        s.kind = PA_SIG_CANDIDATE;
        memcpy(s.text, o->text, n);
        if (m) memcpy(s.mid, o->mid, m);
        break;
    }
    case MXRTC_PEER_EV_GATHERING_DONE:
        s.kind = PA_SIG_GATHERING_DONE;
        break;
    case MXRTC_PEER_EV_STATE:
        s.kind = PA_SIG_STATE;
        if (o->state == MXRTC_PEER_STATE_CONNECTED) s.state = MXRTC_CALL_PEER_CONNECTED;
        else if (o->state == MXRTC_PEER_STATE_DISCONNECTED) s.state = MXRTC_CALL_PEER_DISCONNECTED;
        else if (o->state == MXRTC_PEER_STATE_FAILED) s.state = MXRTC_CALL_PEER_FAILED;
        else return;   /* NEW, CONNECTING, CLOSED: nothing for the call layer */
        break;
    default:
        return;
    }
    push_signal(a, &s);
}

/* The peer's drain rule, inside an op: everything goes to the queues. Media
 * events (frames, stats) cannot wait (their pointers die with the next
 * poll) and are counted as dropped; an SDP input does not decode media. */
static void drain_into_queues(mxrtc_peer_adapter *a) {
    mxrtc_time_us now = a->f->now;
    for (;;) {
        mxrtc_peer_output o;
        if (mxrtc_peer_poll(a->peer, now, &o) != MXRTC_OK || o.kind == MXRTC_PEER_OUT_DEADLINE) return;
        if (o.kind == MXRTC_PEER_OUT_DATAGRAM) {
            if (a->dq_count == MXRTC_PA_DGRAM_QUEUE || o.len > MXRTC_PA_DGRAM_MAX) {
                a->ctr.dropped_datagrams++;
                continue;
            }
            pa_dgram *d = &a->dq[(a->dq_head + a->dq_count++) % MXRTC_PA_DGRAM_QUEUE];
            d->stream = false;
            d->from = o.from;
            d->to = o.to;
            d->len = o.len;
            memcpy(d->data, o.data, o.len);
        } else if (o.kind == MXRTC_PEER_OUT_EVENT) {
            if (o.event == MXRTC_PEER_EV_LOCAL_CANDIDATE || o.event == MXRTC_PEER_EV_GATHERING_DONE ||
                o.event == MXRTC_PEER_EV_STATE)
                note_event(a, &o);
            else if (o.event != MXRTC_PEER_EV_DTLS_STATE && o.event != MXRTC_PEER_EV_REMOTE_TRACK)
                a->ctr.dropped_events++;
        } else if (o.kind == MXRTC_PEER_OUT_STREAM) {
            /* TCP/TLS TURN bytes (a stream may be cut anywhere): queued in
             * slices; a full queue breaks that connection, counted. */
            for (size_t off = 0; off < o.len;) {
                if (a->dq_count == MXRTC_PA_DGRAM_QUEUE) {
                    a->ctr.dropped_datagrams++;
                    break;
                }
                size_t n = o.len - off < MXRTC_PA_DGRAM_MAX ? o.len - off : MXRTC_PA_DGRAM_MAX;
                pa_dgram *d = &a->dq[(a->dq_head + a->dq_count++) % MXRTC_PA_DGRAM_QUEUE];
                d->stream = true;
                d->from = o.from;
                d->to = o.to;
                d->len = n;
                memcpy(d->data, o.data + off, n);
                off += n;
            }
        }
    }
}

/* Directions for what the call layer wants (RFC 3264 §8.4: hold is
 * sendonly; the peer answers a remote sendonly with recvonly itself).
 * Video off: no section while the session never had one; once it has,
 * our offers keep it recvonly (we stop sending, the other side may go on;
 * inactive while we hold), and our answers take the remote's section
 * receive-only (NONE). */
static int set_directions(mxrtc_peer_adapter *a, const mxrtc_call_media *want, bool answer) {
    mxrtc_direction send = want->hold ? MXRTC_DIR_SENDONLY : MXRTC_DIR_SENDRECV;
    int rc = mxrtc_peer_set_direction(a->peer, MXRTC_MEDIA_AUDIO, send);
    if (rc) return rc;
    mxrtc_direction v = send;
    if (!want->video) {
        if (answer || !a->had_video) v = MXRTC_DIR_NONE;
        else v = want->hold ? MXRTC_DIR_INACTIVE : MXRTC_DIR_RECVONLY;
    }
    if (want->video) a->had_video = true;
    return mxrtc_peer_set_direction(a->peer, MXRTC_MEDIA_VIDEO, v);
}

/* The first offer is applied at once: it starts ICE gathering, whose
 * candidates trickle while the invite rings. A renegotiation offer (hold,
 * video, ICE restart) is only created, and applied when its answer comes:
 * the peer has no rollback in its ABI, and an offer not yet applied is
 * what lets a crossing remote offer through (RFC 8829 §5.7 implicit
 * rollback, where the call layer is the polite side). */
static int op_create_offer(void *peer, const mxrtc_call_media *want, char *sdp, size_t cap, size_t *len) {
    mxrtc_peer_adapter *a = peer;
    int rc = set_directions(a, want, false);
    if (rc) return rc;
    if (want->ice_restart && (rc = mxrtc_peer_restart_ice(a->peer))) return rc;
    rc = mxrtc_peer_create_offer(a->peer, a->f->now, sdp, cap, len);
    drain_into_queues(a);
    if (rc) return rc;
    if (a->applied_once) {
        a->offer_unapplied = true;
        return MXRTC_OK;
    }
    rc = mxrtc_peer_set_local_description(a->peer, a->f->now);
    drain_into_queues(a);
    if (rc == MXRTC_OK) a->applied_once = true;
    return rc;
}

/* A remote offer while our offer is pending: if ours is only created (a
 * renegotiation), the remote offer replaces it (our created offer is
 * forgotten with the next create). If ours was applied (the first offer;
 * crossing invites use two peers, so this needs a remote offer on a call
 * we offered and that was never answered) the peer refuses it with
 * MXRTC_ERR_STATE and the call layer ends the call (unknown_error). */
static int op_create_answer(void *peer, const char *remote, const mxrtc_call_media *want, char *sdp, size_t cap,
                            size_t *len) {
    mxrtc_peer_adapter *a = peer;
    if (strstr(remote, "m=video")) a->had_video = true;
    int rc = set_directions(a, want, true);
    if (rc) return rc;
    rc = mxrtc_peer_set_remote_description(a->peer, a->f->now, MXRTC_SDP_OFFER, remote, strlen(remote));
    drain_into_queues(a);
    if (rc) return rc;
    a->offer_unapplied = false;
    rc = mxrtc_peer_create_answer(a->peer, a->f->now, sdp, cap, len);
    drain_into_queues(a);
    if (rc) return rc;
    rc = mxrtc_peer_set_local_description(a->peer, a->f->now);
    drain_into_queues(a);
    if (rc == MXRTC_OK) a->applied_once = true;
    return rc;
}

static int op_set_remote_answer(void *peer, const char *remote) {
    mxrtc_peer_adapter *a = peer;
    if (a->offer_unapplied) {
        a->offer_unapplied = false;
        int rc = mxrtc_peer_set_local_description(a->peer, a->f->now);
        drain_into_queues(a);
        if (rc) return rc;
    }
    int rc = mxrtc_peer_set_remote_description(a->peer, a->f->now, MXRTC_SDP_ANSWER, remote, strlen(remote));
    drain_into_queues(a);
    return rc;
}

/* A candidate the peer cannot parse or keep is skipped (counted): one bad
 * line from the other side must not end the call. */
static int op_add_candidates(void *peer, const mxrtc_mx_candidate *c, size_t count, bool eoc) {
    mxrtc_peer_adapter *a = peer;
    for (size_t i = 0; i < count; i++) {
        int rc = mxrtc_peer_add_remote_candidate(a->peer, a->f->now, c[i].has_mid ? c[i].sdp_mid : NULL,
                                                 c[i].candidate);
        drain_into_queues(a);
        if (rc == MXRTC_ERR_MALFORMED || rc == MXRTC_ERR_LIMIT) a->ctr.bad_remote_candidates++;
        else if (rc) return rc;
    }
    if (eoc) {
        int rc = mxrtc_peer_add_remote_candidate(a->peer, a->f->now, NULL, NULL);
        drain_into_queues(a);
        if (rc && rc != MXRTC_ERR_LIMIT) return rc;
    }
    return MXRTC_OK;
}

static int op_set_mute(void *peer, bool audio_muted, bool video_muted) {
    mxrtc_peer_adapter *a = peer;
    a->ctr.audio_muted = audio_muted;
    a->ctr.video_muted = video_muted;
    return MXRTC_OK;
}

/* The call is over: RTCP BYE and close_notify are queued for the host; the
 * slot is reused once they are sent. */
static void op_close(void *peer) {
    mxrtc_peer_adapter *a = peer;
    a->closed = true;
    (void)mxrtc_peer_close(a->peer, a->f->now);
    drain_into_queues(a);
    a->sq_count = 0;
}

static const mxrtc_call_peer_ops pa_ops = {op_create_offer, op_create_answer, op_set_remote_answer,
                                           op_add_candidates, op_set_mute, op_close};

static void adapter_free(mxrtc_peer_adapter_factory *f, mxrtc_peer_adapter *a) {
    if (!a) return;
    mxrtc_peer_free(a->peer);
    mxrtc_free(alloc_of(f), a);
}

static int op_open(void *user, const char *call_id, bool outgoing, void **out) {
    (void)outgoing;
    mxrtc_peer_adapter_factory *f = user;
    size_t idlen = strlen(call_id);
    if (idlen > MXRTC_MX_ID_MAX) return MXRTC_ERR_INVALID_ARGUMENT;
    int slot = -1;
    for (int i = 0; i < MXRTC_PA_MAX_PEERS && slot < 0; i++)
        if (!f->slots[i]) slot = i;
    /* Reuse a closed peer's slot once its last datagrams went out. */
    for (int i = 0; i < MXRTC_PA_MAX_PEERS && slot < 0; i++)
        if (f->slots[i]->closed && f->slots[i]->dq_count == 0) {
            adapter_free(f, f->slots[i]);
            f->slots[i] = NULL;
            slot = i;
        }
    if (slot < 0) return MXRTC_ERR_LIMIT;
    mxrtc_peer_adapter *a = mxrtc_calloc(alloc_of(f), 1, sizeof *a);
    if (!a) return MXRTC_ERR_NO_MEMORY;
    a->f = f;
    memcpy(a->call_id, call_id, idlen + 1);
    int rc = mxrtc_peer_new(&a->peer, &f->cfg, f->now);
    if (rc) {
        mxrtc_free(alloc_of(f), a);
        return rc;
    }
    drain_into_queues(a);
    f->slots[slot] = a;
    *out = a;
    return MXRTC_OK;
}

int mxrtc_peer_adapter_factory_new(mxrtc_peer_adapter_factory **out, const mxrtc_peer_config *cfg) {
    if (!out || !cfg || cfg->size != sizeof *cfg) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_peer_adapter_factory *f = mxrtc_calloc(cfg->allocator, 1, sizeof *f);
    if (!f) return MXRTC_ERR_NO_MEMORY;
    f->cfg = *cfg;
    *out = f;
    return MXRTC_OK;
}

void mxrtc_peer_adapter_factory_free(mxrtc_peer_adapter_factory *f) {
    if (!f) return;
    for (int i = 0; i < MXRTC_PA_MAX_PEERS; i++) adapter_free(f, f->slots[i]);
    mxrtc_free(alloc_of(f), f);
}

mxrtc_call_peer_factory mxrtc_peer_adapter_factory_get(mxrtc_peer_adapter_factory *f) {
    mxrtc_call_peer_factory pf = {&pa_ops, f, op_open};
    return pf;
}

void mxrtc_peer_adapter_factory_set_template(mxrtc_peer_adapter_factory *f, const mxrtc_peer_config *cfg) {
    const mxrtc_allocator *keep = f->cfg.allocator;
    f->cfg = *cfg;
    f->cfg.allocator = keep;
}

void mxrtc_peer_adapter_factory_set_time(mxrtc_peer_adapter_factory *f, mxrtc_time_us now) { f->now = now; }

mxrtc_peer_adapter *mxrtc_peer_adapter_find(mxrtc_peer_adapter_factory *f, const char *call_id) {
    mxrtc_peer_adapter *best = NULL;
    for (int i = 0; i < MXRTC_PA_MAX_PEERS; i++) {
        mxrtc_peer_adapter *a = f->slots[i];
        if (!a || strcmp(a->call_id, call_id) != 0) continue;
        if (!best || (best->closed && !a->closed)) best = a;
    }
    return best;
}

mxrtc_peer_adapter *mxrtc_peer_adapter_at(mxrtc_peer_adapter_factory *f, size_t i) {
    return i < MXRTC_PA_MAX_PEERS ? f->slots[i] : NULL;
}

mxrtc_peer *mxrtc_peer_adapter_peer(mxrtc_peer_adapter *a) { return a->peer; }
const char *mxrtc_peer_adapter_call_id(const mxrtc_peer_adapter *a) { return a->call_id; }
bool mxrtc_peer_adapter_closed(const mxrtc_peer_adapter *a) { return a->closed; }

int mxrtc_peer_adapter_poll(mxrtc_peer_adapter *a, mxrtc_time_us now, mxrtc_peer_output *out) {
    if (!a || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    if (a->dq_count) {
        const pa_dgram *d = &a->dq[a->dq_head];
        a->dq_head = (a->dq_head + 1) % MXRTC_PA_DGRAM_QUEUE;
        a->dq_count--;
        memset(out, 0, sizeof *out);
        out->kind = d->stream ? MXRTC_PEER_OUT_STREAM : MXRTC_PEER_OUT_DATAGRAM;
        out->from = d->from;
        out->to = d->to;
        out->data = d->data;   /* the slot is only rewritten by a later op */
        out->len = d->len;
        return MXRTC_OK;
    }
    int rc = mxrtc_peer_poll(a->peer, now, out);
    if (rc == MXRTC_OK && out->kind == MXRTC_PEER_OUT_EVENT && !a->closed) note_event(a, out);
    return rc;
}

int mxrtc_peer_adapter_report(mxrtc_peer_adapter *a, mxrtc_call_manager *cm, mxrtc_time_us now) {
    if (!a || !cm) return MXRTC_ERR_INVALID_ARGUMENT;
    if (a->closed || a->sq_count == 0) return MXRTC_ERR_AGAIN;
    pa_signal s = a->sq[a->sq_head];
    a->sq_head = (a->sq_head + 1) % MXRTC_PA_SIGNAL_QUEUE;
    a->sq_count--;
    a->f->now = now;
    switch (s.kind) {
    case PA_SIG_CANDIDATE:
        /* Everything is bundled on one transport: mid given, index unknown. */
        return mxrtc_call_manager_peer_candidate(cm, now, a->call_id, s.text, s.mid[0] ? s.mid : NULL,
                                                 s.mid[0] ? -1 : 0);
    case PA_SIG_GATHERING_DONE:
        return mxrtc_call_manager_peer_gathering_done(cm, now, a->call_id);
    case PA_SIG_STATE:
        return mxrtc_call_manager_peer_state(cm, now, a->call_id, s.state);
    }
    return MXRTC_ERR_INTERNAL;
}

int mxrtc_peer_adapter_push_audio(mxrtc_peer_adapter *a, mxrtc_time_us now, const int16_t *pcm, size_t samples) {
    if (!a || !pcm) return MXRTC_ERR_INVALID_ARGUMENT;
    if (a->ctr.audio_muted && samples <= 960) pcm = a->silence;
    return mxrtc_peer_push_audio(a->peer, now, pcm, samples);
}

int mxrtc_peer_adapter_push_video(mxrtc_peer_adapter *a, mxrtc_time_us now, const mxrtc_picture *pic) {
    if (!a || !pic) return MXRTC_ERR_INVALID_ARGUMENT;
    if (a->ctr.video_muted) return MXRTC_OK;
    return mxrtc_peer_push_video(a->peer, now, pic);
}

void mxrtc_peer_adapter_get_counters(const mxrtc_peer_adapter *a, mxrtc_peer_adapter_counters *c) {
    if (!a || !c) return;
    *c = a->ctr;
    c->signals_waiting = a->sq_count;
}
