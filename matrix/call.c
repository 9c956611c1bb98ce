/*
 * call.c: one call's state machine (see call.h). References are to the
 * Matrix spec's VoIP module (v1.19) and MSC2746, which it came from.
 */
#include "matrix/call.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "sdp/sdp.h"

static mxrtc_time_us ms_to_us(uint64_t ms) {
    return ms > UINT64_MAX / 1000 ? MXRTC_TIME_NEVER : ms * 1000;
}

static mxrtc_time_us add_time(mxrtc_time_us now, uint64_t ms) {
    mxrtc_time_us d = ms_to_us(ms);
    return d > MXRTC_TIME_NEVER - now ? MXRTC_TIME_NEVER : now + d;
}

bool mxrtc_call_active(const mxrtc_call *c) {
    return c->used && c->state != MXRTC_CALL_STATE_NONE && c->state != MXRTC_CALL_STATE_ENDED;
}

static bool in_call(const mxrtc_call *c) {
    return c->state == MXRTC_CALL_STATE_CONNECTING || c->state == MXRTC_CALL_STATE_CONNECTED;
}

/* ---- SDP facts we need ----------------------------------------------------- */

typedef struct sdp_facts {
    bool parsed;
    bool video;          /* a video section with a port */
    bool all_held;       /* every active audio/video section is sendonly or inactive */
    char streams[MXRTC_CALL_STREAMS][MXRTC_MX_ID_MAX + 1];
    uint32_t stream_count;
} sdp_facts;

static void add_stream(sdp_facts *f, const char *sid, size_t len) {
    if (len == 0 || len > MXRTC_MX_ID_MAX || (len == 1 && sid[0] == '-')) return;   /* "-": no stream */
    for (uint32_t i = 0; i < f->stream_count; i++)
        if (strlen(f->streams[i]) == len && memcmp(f->streams[i], sid, len) == 0) return;
    if (f->stream_count >= MXRTC_CALL_STREAMS) return;
    memcpy(f->streams[f->stream_count], sid, len);
    f->streams[f->stream_count][len] = 0;
    f->stream_count++;
}

/* Reads the msid stream ids (RFC 8830 §2; a=ssrc msid of RFC 5576 for
 * older SDP) and the directions. Element matches sdp_stream_metadata keys
 * against these stream ids and ignores streams it has no metadata for. */
static void read_sdp(const mxrtc_allocator *a, const char *text, size_t len, sdp_facts *f) {
    memset(f, 0, sizeof *f);
    mxrtc_sdp *sdp = NULL;
    if (mxrtc_sdp_parse(&sdp, text, len, a, NULL, NULL) != MXRTC_OK) return;
    f->parsed = true;
    bool any = false, held = true;
    for (uint32_t i = 0; i < sdp->media_count; i++) {
        const mxrtc_sdp_media *md = &sdp->media[i];
        if (!md->type || md->port == 0) continue;
        bool av = strcmp(md->type, "audio") == 0 || strcmp(md->type, "video") == 0;
        if (!av) continue;
        any = true;
        if (strcmp(md->type, "video") == 0) f->video = true;
        mxrtc_sdp_direction d = mxrtc_sdp_media_direction(sdp, md);
        if (d == MXRTC_SDP_DIR_SENDRECV || d == MXRTC_SDP_DIR_RECVONLY) held = false;
        for (uint32_t k = 0; k < md->a.msid_count; k++)
            if (md->a.msids[k].stream) add_stream(f, md->a.msids[k].stream, strlen(md->a.msids[k].stream));
        for (uint32_t k = 0; md->a.msid_count == 0 && k < md->a.ssrc_count; k++) {
            const mxrtc_sdp_ssrc *s = &md->a.ssrcs[k];
            if (s->attribute && s->value && strcmp(s->attribute, "msid") == 0)
                add_stream(f, s->value, strcspn(s->value, " "));
        }
    }
    f->all_held = any && held;
    mxrtc_sdp_free(sdp);
}

static void take_streams(mxrtc_call *c, const sdp_facts *f) {
    if (f->stream_count == 0) return;   /* keep what we knew */
    memcpy(c->streams, f->streams, sizeof c->streams);
    c->stream_count = f->stream_count;
}

static void local_metadata(const mxrtc_call *c, mxrtc_mx_metadata *md) {
    memset(md, 0, sizeof *md);
    if (c->stream_count == 0) return;
    md->present = true;
    /* Our streams are all camera/microphone ones (no screenshare yet). */
    for (uint32_t i = 0; i < c->stream_count && i < MXRTC_MX_STREAMS_MAX; i++) {
        mxrtc_mx_stream *s = &md->streams[md->count++];
        memcpy(s->id, c->streams[i], sizeof s->id);
        s->purpose = MXRTC_MX_PURPOSE_USERMEDIA;
        s->audio_muted = c->audio_muted;
        /* Element reports a feed without video tracks as video-muted. */
        s->video_muted = c->video_muted || !c->want_video;
    }
}

static void out_init(const mxrtc_call_manager *m, const mxrtc_call *c, mxrtc_mx_outgoing *o,
                     mxrtc_mx_type type) {
    memset(o, 0, sizeof *o);
    o->type = type;
    o->call_id = c->call_id;
    o->party_id = mxrtc_cm_party_id(m);
}

/* Takes the remote metadata's user-media stream (MSC3077: purposes
 * m.usermedia and m.screenshare; the mute flags of the camera/microphone
 * stream are what a 1:1 call shows). */
static void apply_remote_metadata(mxrtc_call_manager *m, mxrtc_call *c, const mxrtc_mx_metadata *md) {
    if (!md->present || md->count == 0) return;
    const mxrtc_mx_stream *s = &md->streams[0];
    for (uint32_t i = 0; i < md->count; i++)
        if (md->streams[i].purpose == MXRTC_MX_PURPOSE_USERMEDIA) {
            s = &md->streams[i];
            break;
        }
    if (s->audio_muted == c->remote_audio_muted && s->video_muted == c->remote_video_muted) return;
    c->remote_audio_muted = s->audio_muted;
    c->remote_video_muted = s->video_muted;
    (void)mxrtc_cm_emit_remote_media(m, c);
}

static void set_state(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_call_state s) {
    if (c->state == s) return;
    c->state = s;
    (void)mxrtc_cm_emit_state(m, c, false, NULL);
}

static void close_peer(mxrtc_call_manager *m, mxrtc_call *c) {
    if (c->peer) {
        const mxrtc_call_peer_ops *ops = mxrtc_cm_peer_ops(m);
        if (ops && ops->close) ops->close(c->peer);
        c->peer = NULL;
    }
}

void mxrtc_call_release(mxrtc_call_manager *m, mxrtc_call *c) {
    close_peer(m, c);
    mxrtc_free(mxrtc_cm_allocator(m), c->remote);
    c->remote = NULL;
    c->remote_count = 0;
    mxrtc_free(mxrtc_cm_allocator(m), c->remote_offer);
    c->remote_offer = NULL;
}

void mxrtc_call_end(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_mx_reason reason, bool remote_ended,
                    const char *replaced_by) {
    if (c->state == MXRTC_CALL_STATE_ENDED) return;
    c->state = MXRTC_CALL_STATE_ENDED;
    c->end_reason = reason;
    c->invite_expiry = c->cand_flush_at = c->ice_deadline = c->ice_restart_at = MXRTC_TIME_NEVER;
    c->local_count = 0;
    c->local_eoc = false;
    mxrtc_call_release(m, c);
    (void)mxrtc_cm_emit_state(m, c, remote_ended, replaced_by);
}

static int flush_buffered(mxrtc_call_manager *m, mxrtc_call *c);

/* ---- sending ----------------------------------------------------------------- */

static int send_candidates(mxrtc_call_manager *m, mxrtc_call *c) {
    c->cand_flush_at = MXRTC_TIME_NEVER;
    if (c->local_count == 0 && !c->local_eoc) return MXRTC_OK;
    mxrtc_mx_outgoing o;
    out_init(m, c, &o, MXRTC_MX_CANDIDATES);
    o.candidates = c->local;
    o.candidate_count = c->local_count;
    o.end_of_candidates = c->local_eoc;
    int rc = mxrtc_cm_emit_send(m, c, &o);
    c->local_count = 0;
    c->local_eoc = false;
    return rc;
}

static void schedule_candidates(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now) {
    /* Held until the invite or answer is out (the spec has candidates
     * follow them), then batched: Element waits 500-2000 ms; a short delay
     * collects the host and server-reflexive candidates of one gathering
     * pass into one event and keeps us under homeserver rate limits. */
    if (!c->invite_or_answer_sent) return;
    if (c->cand_flush_at == MXRTC_TIME_NEVER)
        c->cand_flush_at = add_time(now, mxrtc_cm_candidate_delay_ms(m));
}

int mxrtc_call_hangup(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now, mxrtc_mx_reason reason,
                      bool send, const char *replaced_by) {
    (void)now;
    if (!mxrtc_call_active(c)) return MXRTC_ERR_STATE;
    if (reason == MXRTC_MX_REASON_NONE) reason = MXRTC_MX_REASON_USER_HANGUP;
    int rc = MXRTC_OK;
    if (send) {
        mxrtc_mx_outgoing o;
        out_init(m, c, &o, MXRTC_MX_HANGUP);
        o.reason = reason;
        /* A version 0 peer knows no reasons: Element leaves user_hangup out. */
        if (c->opponent_chosen && c->opponent_version == 0 && reason == MXRTC_MX_REASON_USER_HANGUP)
            o.reason = MXRTC_MX_REASON_NONE;
        rc = mxrtc_cm_emit_send(m, c, &o);
    }
    mxrtc_call_end(m, c, reason, false, replaced_by);
    return rc;
}

static int peer_failed(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now, mxrtc_mx_reason r) {
    return mxrtc_call_hangup(m, c, now, r, true, NULL);
}

/* Our own SDP, just written by the peer into sdp[0..len): terminate it and
 * take its msid stream ids, which become the sdp_stream_metadata keys. */
static void adopt_local_sdp(mxrtc_call_manager *m, mxrtc_call *c, char *sdp, size_t len) {
    sdp[len] = 0;
    sdp_facts f;
    read_sdp(mxrtc_cm_allocator(m), sdp, len, &f);
    take_streams(c, &f);
}

/* m.call.negotiate carrying our SDP (an offer or an answer) and the stream
 * metadata keyed by its msid ids. */
static int send_negotiate(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_mx_sdp_type sdp_type, const char *sdp) {
    mxrtc_mx_metadata md;
    local_metadata(c, &md);
    mxrtc_mx_outgoing o;
    out_init(m, c, &o, MXRTC_MX_NEGOTIATE);
    o.lifetime_ms = mxrtc_cm_lifetime_ms(m);
    o.sdp_type = sdp_type;
    o.sdp = sdp;
    o.metadata = md.present ? &md : NULL;
    return mxrtc_cm_emit_send(m, c, &o);
}

int mxrtc_call_start_outgoing(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now) {
    const mxrtc_call_peer_ops *ops = mxrtc_cm_peer_ops(m);
    char *sdp = mxrtc_cm_sdp_buffer(m);
    size_t len = 0;
    mxrtc_call_media want = {true, c->want_video, false, false};
    int rc = ops->create_offer(c->peer, &want, sdp, MXRTC_MX_SDP_MAX + 1, &len);
    if (rc != MXRTC_OK || len == 0 || len > MXRTC_MX_SDP_MAX) return rc != MXRTC_OK ? rc : MXRTC_ERR_INTERNAL;
    adopt_local_sdp(m, c, sdp, len);
    mxrtc_mx_metadata md;
    local_metadata(c, &md);
    mxrtc_mx_outgoing o;
    out_init(m, c, &o, MXRTC_MX_INVITE);
    o.lifetime_ms = mxrtc_cm_lifetime_ms(m);
    o.invitee = c->invitee[0] ? c->invitee : NULL;
    o.sdp = sdp;
    o.metadata = md.present ? &md : NULL;
    rc = mxrtc_cm_emit_send(m, c, &o);
    if (rc != MXRTC_OK) return rc;
    c->invite_or_answer_sent = true;
    c->invite_expiry = add_time(now, mxrtc_cm_lifetime_ms(m));
    set_state(m, c, MXRTC_CALL_STATE_INVITE_SENT);
    return MXRTC_OK;
}

int mxrtc_call_start_incoming(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now,
                              const char *sender, const mxrtc_mx_event *inv, mxrtc_time_us expiry,
                              bool ring) {
    (void)now;
    c->outgoing = false;
    c->opponent_chosen = true;
    snprintf(c->opponent_user, sizeof c->opponent_user, "%s", sender);
    memcpy(c->opponent_party, inv->party_id, sizeof c->opponent_party);
    c->opponent_has_party = inv->has_party_id;
    c->opponent_version = inv->version;
    c->remote_offer = mxrtc_malloc(mxrtc_cm_allocator(m), inv->sdp_len + 1);
    if (!c->remote_offer) return MXRTC_ERR_NO_MEMORY;
    memcpy(c->remote_offer, inv->sdp, inv->sdp_len + 1);
    sdp_facts f;
    read_sdp(mxrtc_cm_allocator(m), inv->sdp, inv->sdp_len, &f);
    c->offer_has_video = f.video;
    c->remote_hold = false;
    c->invite_expiry = expiry;
    c->state = MXRTC_CALL_STATE_RINGING;
    if (ring) (void)mxrtc_cm_emit_incoming(m, c);
    (void)mxrtc_cm_emit_state(m, c, false, NULL);
    apply_remote_metadata(m, c, &inv->metadata);
    return MXRTC_OK;
}

int mxrtc_call_answer(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now, bool video) {
    if (c->state != MXRTC_CALL_STATE_RINGING || !c->remote_offer) return MXRTC_ERR_STATE;
    const mxrtc_call_peer_ops *ops = mxrtc_cm_peer_ops(m);
    char *sdp = mxrtc_cm_sdp_buffer(m);
    size_t len = 0;
    c->want_video = video;
    mxrtc_call_media want = {true, video, false, false};
    int rc = ops->create_answer(c->peer, c->remote_offer, &want, sdp, MXRTC_MX_SDP_MAX + 1, &len);
    if (rc != MXRTC_OK || len == 0 || len > MXRTC_MX_SDP_MAX) {
        (void)peer_failed(m, c, now, MXRTC_MX_REASON_USER_MEDIA_FAILED);
        return rc != MXRTC_OK ? rc : MXRTC_ERR_INTERNAL;
    }
    adopt_local_sdp(m, c, sdp, len);
    mxrtc_mx_metadata md;
    local_metadata(c, &md);
    mxrtc_mx_outgoing o;
    out_init(m, c, &o, MXRTC_MX_ANSWER);
    o.sdp = sdp;
    o.metadata = md.present ? &md : NULL;
    rc = mxrtc_cm_emit_send(m, c, &o);
    mxrtc_free(mxrtc_cm_allocator(m), c->remote_offer);
    c->remote_offer = NULL;
    c->invite_or_answer_sent = true;
    c->invite_expiry = MXRTC_TIME_NEVER;
    set_state(m, c, MXRTC_CALL_STATE_CONNECTING);
    if (c->local_count || c->local_eoc) schedule_candidates(m, c, now);
    if (flush_buffered(m, c) != MXRTC_OK) {
        (void)peer_failed(m, c, now, MXRTC_MX_REASON_UNKNOWN_ERROR);
        return rc;
    }
    return rc;
}

int mxrtc_call_reject(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now) {
    (void)now;
    if (c->state != MXRTC_CALL_STATE_RINGING) return MXRTC_ERR_STATE;
    mxrtc_mx_outgoing o;
    /* Spec: m.call.reject (version 1); a version 0 caller only knows hangup. */
    out_init(m, c, &o, c->opponent_version == 0 ? MXRTC_MX_HANGUP : MXRTC_MX_REJECT);
    int rc = mxrtc_cm_emit_send(m, c, &o);
    mxrtc_call_end(m, c, MXRTC_MX_REASON_REJECTED, false, NULL);
    return rc;
}

int mxrtc_call_set_mute(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now, bool audio, bool video) {
    (void)now;
    if (!mxrtc_call_active(c)) return MXRTC_ERR_STATE;
    if (c->audio_muted == audio && c->video_muted == video) return MXRTC_OK;
    c->audio_muted = audio;
    c->video_muted = video;
    const mxrtc_call_peer_ops *ops = mxrtc_cm_peer_ops(m);
    if (c->peer && ops->set_mute) {
        int rc = ops->set_mute(c->peer, audio, video);
        if (rc != MXRTC_OK) return rc;
    }
    /* Before the invite or answer goes out the flags ride with it. */
    if (!c->invite_or_answer_sent || c->stream_count == 0) return MXRTC_OK;
    mxrtc_mx_metadata md;
    local_metadata(c, &md);
    mxrtc_mx_outgoing o;
    out_init(m, c, &o, MXRTC_MX_METADATA_CHANGED);
    o.metadata = &md;
    return mxrtc_cm_emit_send(m, c, &o);
}

int mxrtc_call_renegotiate(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now,
                           bool hold, bool video, bool ice_restart) {
    (void)now;
    if (!in_call(c)) return MXRTC_ERR_STATE;
    if (c->opponent_version == 0) return MXRTC_ERR_UNSUPPORTED;   /* no m.call.negotiate in v0 */
    if (c->making_offer) return MXRTC_ERR_STATE;                  /* one offer at a time */
    const mxrtc_call_peer_ops *ops = mxrtc_cm_peer_ops(m);
    char *sdp = mxrtc_cm_sdp_buffer(m);
    size_t len = 0;
    mxrtc_call_media want = {true, video, hold, ice_restart};
    int rc = ops->create_offer(c->peer, &want, sdp, MXRTC_MX_SDP_MAX + 1, &len);
    if (rc != MXRTC_OK || len == 0 || len > MXRTC_MX_SDP_MAX) return rc != MXRTC_OK ? rc : MXRTC_ERR_INTERNAL;
    adopt_local_sdp(m, c, sdp, len);
    bool hold_changed = c->local_hold != hold;
    c->local_hold = hold;
    c->want_video = video;
    if (ice_restart) {
        /* New gathering: the old batch and end-of-candidates are stale. */
        c->local_count = 0;
        c->local_eoc = false;
        c->cand_flush_at = MXRTC_TIME_NEVER;
    }
    rc = send_negotiate(m, c, MXRTC_MX_SDP_OFFER, sdp);
    c->making_offer = true;
    if (hold_changed) (void)mxrtc_cm_emit_hold(m, c);
    return rc;
}

/* ---- receiving -------------------------------------------------------------- */

static bool from_opponent(const mxrtc_call *c, const char *sender, const mxrtc_mx_event *ev) {
    if (!c->opponent_chosen || strcmp(sender, c->opponent_user) != 0) return false;
    if (!c->opponent_has_party) return !ev->has_party_id;
    return ev->has_party_id && strcmp(ev->party_id, c->opponent_party) == 0;
}

/* An invitee-less call may be answered by anyone; else only the invitee. */
static bool may_answer(const mxrtc_call *c, const char *sender) {
    return !c->invitee[0] || strcmp(c->invitee, sender) == 0;
}

static int buffer_list(mxrtc_call_manager *m, mxrtc_call *c, const char *sender, const char *party,
                       const mxrtc_mx_candidate *cands, uint32_t count, bool eoc) {
    if (!c->remote) {
        c->remote = mxrtc_calloc(mxrtc_cm_allocator(m), MXRTC_CALL_REMOTE_BUFFER, sizeof *c->remote);
        if (!c->remote) return MXRTC_ERR_NO_MEMORY;
    }
    uint32_t need = count + (eoc ? 1 : 0);
    if (need > MXRTC_CALL_REMOTE_BUFFER - c->remote_count) {
        c->remote_dropped += need;
        return MXRTC_ERR_LIMIT;
    }
    for (uint32_t i = 0; i < need; i++) {
        mxrtc_call_buffered *b = &c->remote[c->remote_count++];
        snprintf(b->sender, sizeof b->sender, "%s", sender);
        snprintf(b->party, sizeof b->party, "%s", party);
        b->eoc = i >= count;
        if (!b->eoc) b->c = cands[i];
    }
    return MXRTC_OK;
}

static int buffer_candidates(mxrtc_call_manager *m, mxrtc_call *c, const char *sender,
                             const mxrtc_mx_event *ev) {
    return buffer_list(m, c, sender, ev->party_id, ev->candidates, ev->candidate_count, ev->end_of_candidates);
}

int mxrtc_call_early_candidates(mxrtc_call_manager *m, mxrtc_call *c, const char *sender, const char *party,
                                const mxrtc_mx_candidate *cands, uint32_t count, bool eoc) {
    if (c->state != MXRTC_CALL_STATE_RINGING) return MXRTC_ERR_STATE;
    return buffer_list(m, c, sender, party, cands, count, eoc);
}

/* The opponent is chosen: their buffered candidates go to the peer in
 * order, everyone else's are dropped. */
static int flush_buffered(mxrtc_call_manager *m, mxrtc_call *c) {
    const mxrtc_call_peer_ops *ops = mxrtc_cm_peer_ops(m);
    int rc = MXRTC_OK;
    for (uint32_t i = 0; c->remote && i < c->remote_count && rc == MXRTC_OK; i++) {
        const mxrtc_call_buffered *b = &c->remote[i];
        if (strcmp(b->sender, c->opponent_user) != 0) continue;
        if (c->opponent_has_party && strcmp(b->party, c->opponent_party) != 0) continue;
        rc = b->eoc ? ops->add_remote_candidates(c->peer, NULL, 0, true)
                    : ops->add_remote_candidates(c->peer, &b->c, 1, false);
    }
    mxrtc_free(mxrtc_cm_allocator(m), c->remote);
    c->remote = NULL;
    c->remote_count = 0;
    return rc;
}

static int on_answer(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now, const char *sender,
                     bool own, const mxrtc_mx_event *ev) {
    if (own) {
        /* Another of our devices answered a call that rings here. */
        if (c->state == MXRTC_CALL_STATE_RINGING)
            mxrtc_call_end(m, c, MXRTC_MX_REASON_ANSWERED_ELSEWHERE, true, NULL);
        return MXRTC_OK;
    }
    /* Spec: the caller takes the first answer (or reject) and ignores the rest. */
    if (!c->outgoing || c->state != MXRTC_CALL_STATE_INVITE_SENT || c->opponent_chosen) return MXRTC_OK;
    if (!may_answer(c, sender)) return MXRTC_OK;
    c->opponent_chosen = true;
    snprintf(c->opponent_user, sizeof c->opponent_user, "%s", sender);
    memcpy(c->opponent_party, ev->party_id, sizeof c->opponent_party);
    c->opponent_has_party = ev->has_party_id;
    c->opponent_version = ev->version;
    c->invite_expiry = MXRTC_TIME_NEVER;
    const mxrtc_call_peer_ops *ops = mxrtc_cm_peer_ops(m);
    int rc = ops->set_remote_answer(c->peer, ev->sdp);
    if (rc != MXRTC_OK) return peer_failed(m, c, now, MXRTC_MX_REASON_UNKNOWN_ERROR);
    if (c->opponent_has_party) {
        /* Tell the callee's other devices whose answer won (spec: m.call.select_answer). */
        mxrtc_mx_outgoing o;
        out_init(m, c, &o, MXRTC_MX_SELECT_ANSWER);
        o.selected_party_id = c->opponent_party;
        (void)mxrtc_cm_emit_send(m, c, &o);
    }
    set_state(m, c, MXRTC_CALL_STATE_CONNECTING);
    apply_remote_metadata(m, c, &ev->metadata);
    rc = flush_buffered(m, c);
    if (rc != MXRTC_OK) return peer_failed(m, c, now, MXRTC_MX_REASON_UNKNOWN_ERROR);
    return MXRTC_OK;
}

static int on_negotiate(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now, const mxrtc_mx_event *ev) {
    const mxrtc_call_peer_ops *ops = mxrtc_cm_peer_ops(m);
    apply_remote_metadata(m, c, &ev->metadata);
    if (ev->sdp_type == MXRTC_MX_SDP_ANSWER) {
        if (!c->making_offer) return MXRTC_OK;   /* not ours to take */
        c->making_offer = false;
        int rc = ops->set_remote_answer(c->peer, ev->sdp);
        if (rc != MXRTC_OK) return peer_failed(m, c, now, MXRTC_MX_REASON_UNKNOWN_ERROR);
        return MXRTC_OK;
    }
    bool reoffer = false;
    if (c->making_offer) {
        /* Offers crossed (W3C "perfect negotiation", as Element does it):
         * the callee is polite and yields, the caller ignores theirs. The
         * yielding side offers its change again once the caller's offer is
         * answered, as negotiationneeded would make a browser do. */
        if (c->outgoing) return MXRTC_OK;
        c->making_offer = false;
        reoffer = true;
    }
    char *sdp = mxrtc_cm_sdp_buffer(m);
    size_t len = 0;
    mxrtc_call_media want = {true, c->want_video, c->local_hold, false};
    int rc = ops->create_answer(c->peer, ev->sdp, &want, sdp, MXRTC_MX_SDP_MAX + 1, &len);
    if (rc != MXRTC_OK || len == 0 || len > MXRTC_MX_SDP_MAX)
        return peer_failed(m, c, now, MXRTC_MX_REASON_UNKNOWN_ERROR);
    adopt_local_sdp(m, c, sdp, len);
    rc = send_negotiate(m, c, MXRTC_MX_SDP_ANSWER, sdp);
    /* Remote hold: every section of their offer sendonly or inactive. */
    sdp_facts rf;
    read_sdp(mxrtc_cm_allocator(m), ev->sdp, ev->sdp_len, &rf);
    if (rf.parsed && rf.all_held != c->remote_hold) {
        c->remote_hold = rf.all_held;
        (void)mxrtc_cm_emit_hold(m, c);
    }
    if (rc == MXRTC_OK && reoffer)
        rc = mxrtc_call_renegotiate(m, c, now, c->local_hold, c->want_video, false);
    return rc;
}

int mxrtc_call_on_event(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now, const char *sender,
                        bool own, const mxrtc_mx_event *ev) {
    if (!mxrtc_call_active(c)) return MXRTC_OK;   /* late events for an ended call */
    const mxrtc_call_peer_ops *ops = mxrtc_cm_peer_ops(m);
    switch (ev->type) {
    case MXRTC_MX_ANSWER:
        return on_answer(m, c, now, sender, own, ev);
    case MXRTC_MX_REJECT:
        if (own) {
            if (c->state == MXRTC_CALL_STATE_RINGING)
                mxrtc_call_end(m, c, MXRTC_MX_REASON_REJECTED_ELSEWHERE, true, NULL);
        } else if (c->outgoing && c->state == MXRTC_CALL_STATE_INVITE_SENT && !c->opponent_chosen &&
                   may_answer(c, sender)) {
            mxrtc_call_end(m, c, MXRTC_MX_REASON_REJECTED, true, NULL);
        }
        return MXRTC_OK;
    case MXRTC_MX_HANGUP:
        if (own) {
            /* A version 0 device of ours declining with a hangup. */
            if (c->state == MXRTC_CALL_STATE_RINGING)
                mxrtc_call_end(m, c, MXRTC_MX_REASON_REJECTED_ELSEWHERE, true, NULL);
        } else if (from_opponent(c, sender, ev)) {
            mxrtc_call_end(m, c, ev->reason, true, NULL);
        } else if (c->outgoing && c->state == MXRTC_CALL_STATE_INVITE_SENT && !c->opponent_chosen &&
                   may_answer(c, sender)) {
            /* Version 0 decline (spec: hangup before an answer). */
            mxrtc_call_end(m, c, ev->reason, true, NULL);
        }
        return MXRTC_OK;
    case MXRTC_MX_SELECT_ANSWER:
        /* From the caller: if it picked someone else's answer, we are out. */
        if (!c->outgoing && from_opponent(c, sender, ev) &&
            strcmp(ev->selected_party_id, mxrtc_cm_party_id(m)) != 0)
            mxrtc_call_end(m, c, MXRTC_MX_REASON_ANSWERED_ELSEWHERE, true, NULL);
        return MXRTC_OK;
    case MXRTC_MX_CANDIDATES:
        if (own) return MXRTC_OK;
        if (!c->opponent_chosen) return buffer_candidates(m, c, sender, ev);
        if (!from_opponent(c, sender, ev)) return MXRTC_OK;
        /* Ringing: the offer reaches the peer only with our answer, and a
         * candidate needs its remote description first (RFC 8829 §4.1.17),
         * so the caller's candidates wait for the answer. */
        if (c->state == MXRTC_CALL_STATE_RINGING) return buffer_candidates(m, c, sender, ev);
        if (ops->add_remote_candidates(c->peer, ev->candidates, ev->candidate_count,
                                       ev->end_of_candidates) != MXRTC_OK)
            return peer_failed(m, c, now, MXRTC_MX_REASON_UNKNOWN_ERROR);
        return MXRTC_OK;
    case MXRTC_MX_NEGOTIATE:
        if (own || !in_call(c) || !from_opponent(c, sender, ev)) return MXRTC_OK;
        return on_negotiate(m, c, now, ev);
    case MXRTC_MX_METADATA_CHANGED:
        if (!own && from_opponent(c, sender, ev)) apply_remote_metadata(m, c, &ev->metadata);
        return MXRTC_OK;
    default:
        return MXRTC_OK;
    }
}

/* ---- peer events and timers ---------------------------------------------- */

int mxrtc_call_local_candidate(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now,
                               const mxrtc_mx_candidate *cand) {
    if (!mxrtc_call_active(c)) return MXRTC_ERR_STATE;
    if (c->local_count >= MXRTC_MX_CANDIDATES_MAX) {
        if (!c->invite_or_answer_sent) return MXRTC_ERR_LIMIT;
        int rc = send_candidates(m, c);
        if (rc != MXRTC_OK) return rc;
    }
    c->local[c->local_count++] = *cand;
    schedule_candidates(m, c, now);
    return MXRTC_OK;
}

int mxrtc_call_gathering_done(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now) {
    if (!mxrtc_call_active(c)) return MXRTC_ERR_STATE;
    c->local_eoc = true;
    schedule_candidates(m, c, now);
    return MXRTC_OK;
}

int mxrtc_call_on_peer_state(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now,
                          mxrtc_call_peer_state st) {
    if (!mxrtc_call_active(c)) return MXRTC_ERR_STATE;
    switch (st) {
    case MXRTC_CALL_PEER_CONNECTED:
        c->ice_deadline = c->ice_restart_at = MXRTC_TIME_NEVER;
        if (c->state == MXRTC_CALL_STATE_CONNECTING) set_state(m, c, MXRTC_CALL_STATE_CONNECTED);
        return MXRTC_OK;
    case MXRTC_CALL_PEER_DISCONNECTED:
        /* ICE may recover by itself (RFC 8445 consent, or an ICE restart);
         * only a disconnection that lasts becomes ice_timeout. */
        if (c->ice_deadline == MXRTC_TIME_NEVER) {
            c->ice_deadline = add_time(now, mxrtc_cm_ice_timeout_ms(m));
            if (mxrtc_cm_ice_restart_delay_ms(m) != UINT32_MAX)
                c->ice_restart_at = add_time(now, mxrtc_cm_ice_restart_delay_ms(m));
        }
        return MXRTC_OK;
    case MXRTC_CALL_PEER_FAILED:
        return mxrtc_call_hangup(m, c, now, MXRTC_MX_REASON_ICE_FAILED, true, NULL);
    default:
        return MXRTC_ERR_INVALID_ARGUMENT;
    }
}

int mxrtc_call_timeout(mxrtc_call_manager *m, mxrtc_call *c, mxrtc_time_us now) {
    if (!mxrtc_call_active(c)) return MXRTC_OK;
    if (now >= c->invite_expiry) {
        if (c->state == MXRTC_CALL_STATE_INVITE_SENT)
            return mxrtc_call_hangup(m, c, now, MXRTC_MX_REASON_INVITE_TIMEOUT, true, NULL);
        /* Ringing past the invite's lifetime: the spec says stop showing it;
         * the caller sends its own invite_timeout hangup. */
        mxrtc_call_end(m, c, MXRTC_MX_REASON_INVITE_TIMEOUT, false, NULL);
        return MXRTC_OK;
    }
    if (now >= c->ice_deadline) return mxrtc_call_hangup(m, c, now, MXRTC_MX_REASON_ICE_TIMEOUT, true, NULL);
    if (now >= c->ice_restart_at) {
        /* Still disconnected: try new candidate pairs (RFC 8445 §9) before
         * giving up, as Element does. Not possible with a version 0 peer or
         * while an offer of ours is pending; the ice_timeout still runs. */
        c->ice_restart_at = MXRTC_TIME_NEVER;
        if (in_call(c) && c->opponent_version >= 1 && !c->making_offer)
            (void)mxrtc_call_renegotiate(m, c, now, c->local_hold, c->want_video, true);
        return MXRTC_OK;
    }
    if (now >= c->cand_flush_at) return send_candidates(m, c);
    return MXRTC_OK;
}

mxrtc_time_us mxrtc_call_next_deadline(const mxrtc_call *c) {
    if (!mxrtc_call_active(c)) return MXRTC_TIME_NEVER;
    mxrtc_time_us t = c->invite_expiry;
    if (c->cand_flush_at < t) t = c->cand_flush_at;
    if (c->ice_deadline < t) t = c->ice_deadline;
    if (c->ice_restart_at < t) t = c->ice_restart_at;
    return t;
}
