/*
 * call_manager.c: routing of m.call.* events to calls, glare, multi-device,
 * the output queue and the drain rule (see call_manager.h).
 */
#include "matrix/call_manager.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/random.h"
#include "matrix/call.h"

#define OUT_QUEUE 64
#define TOMBSTONES 32
/* Candidates for a call whose invite we have not seen yet (matrix-js-sdk
 * keeps them too: an invite that needed decryption or came in a later
 * sync batch): a few calls' worth, the oldest dropped first. */
#define STASH 4
#define STASH_CANDS 16

typedef struct stash_entry {
    bool used, eoc;
    uint64_t seq;
    char room_id[MXRTC_MX_ID_MAX + 1];
    char call_id[MXRTC_MX_ID_MAX + 1];
    char sender[MXRTC_MX_ID_MAX + 1];
    char party[MXRTC_MX_ID_MAX + 1];
    mxrtc_mx_candidate c[STASH_CANDS];
    uint32_t n;
} stash_entry;

typedef struct out_item {
    mxrtc_cm_output_kind kind;
    char room_id[MXRTC_MX_ID_MAX + 1];
    char call_id[MXRTC_MX_ID_MAX + 1];
    char sender[MXRTC_MX_ID_MAX + 1];
    char replaced_by[MXRTC_MX_ID_MAX + 1];
    const char *type;
    char *content;
    size_t content_len;
    mxrtc_call_state state;
    mxrtc_mx_reason reason;
    bool remote_ended, video, ram, rvm, lh, rh;
} out_item;

struct mxrtc_call_manager {
    const mxrtc_allocator *alloc;
    mxrtc_random random;
    const mxrtc_logger *log;
    char user_id[MXRTC_MX_ID_MAX + 1];
    char party_id[MXRTC_MX_ID_MAX + 1];
    mxrtc_call_peer_factory peer;
    uint32_t lifetime_ms, cand_delay_ms, ice_timeout_ms, ice_restart_ms;

    mxrtc_call *calls;
    uint32_t max_calls;
    uint64_t seq;

    char tomb[TOMBSTONES][MXRTC_MX_ID_MAX + 1];   /* call ids ended before we saw their invite */
    uint32_t tomb_next;

    out_item *q;
    uint32_t q_head, q_count;
    out_item cur;                 /* the output handed out by the last poll */
    bool drained;

    stash_entry *stash;           /* STASH entries */
    uint64_t stash_seq;
    uint64_t stash_dropped;

    mxrtc_mx_event *scratch;      /* the event being parsed (too big for the stack) */
    uint64_t ignored;             /* events fed and deliberately ignored */
    char *sdp;                    /* MXRTC_MX_SDP_MAX + 1: SDP the peer writes */
};

void mxrtc_call_manager_config_init(mxrtc_call_manager_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
}

const char *mxrtc_call_state_name(mxrtc_call_state s) {
    switch (s) {
    case MXRTC_CALL_STATE_INVITE_SENT: return "invite_sent";
    case MXRTC_CALL_STATE_RINGING: return "ringing";
    case MXRTC_CALL_STATE_CONNECTING: return "connecting";
    case MXRTC_CALL_STATE_CONNECTED: return "connected";
    case MXRTC_CALL_STATE_ENDED: return "ended";
    default: return "none";
    }
}

/* ---- accessors for call.c ---------------------------------------------------- */

const char *mxrtc_cm_party_id(const mxrtc_call_manager *m) { return m->party_id; }
char *mxrtc_cm_sdp_buffer(mxrtc_call_manager *m) { return m->sdp; }
const mxrtc_call_peer_ops *mxrtc_cm_peer_ops(const mxrtc_call_manager *m) { return m->peer.ops; }
const mxrtc_allocator *mxrtc_cm_allocator(const mxrtc_call_manager *m) { return m->alloc; }
uint32_t mxrtc_cm_lifetime_ms(const mxrtc_call_manager *m) { return m->lifetime_ms; }
uint32_t mxrtc_cm_candidate_delay_ms(const mxrtc_call_manager *m) { return m->cand_delay_ms; }
uint32_t mxrtc_cm_ice_timeout_ms(const mxrtc_call_manager *m) { return m->ice_timeout_ms; }
uint32_t mxrtc_cm_ice_restart_delay_ms(const mxrtc_call_manager *m) { return m->ice_restart_ms; }

/* ---- output queue ------------------------------------------------------------ */

static out_item *push(mxrtc_call_manager *m, mxrtc_cm_output_kind kind, const char *room,
                      const char *call_id) {
    if (m->q_count >= OUT_QUEUE) return NULL;
    out_item *it = &m->q[(m->q_head + m->q_count) % OUT_QUEUE];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    snprintf(it->room_id, sizeof it->room_id, "%s", room);
    snprintf(it->call_id, sizeof it->call_id, "%s", call_id);
    m->q_count++;
    return it;
}

static int send_in_room(mxrtc_call_manager *m, const char *room, const mxrtc_mx_outgoing *ev) {
    char *json = NULL;
    size_t len = 0;
    int rc = mxrtc_mx_event_serialize(ev, m->alloc, &json, &len);
    if (rc != MXRTC_OK) return rc;
    out_item *it = push(m, MXRTC_CM_OUT_SEND, room, ev->call_id);
    if (!it) {
        mxrtc_free(m->alloc, json);
        return MXRTC_ERR_LIMIT;
    }
    it->type = mxrtc_mx_type_name(ev->type);
    it->content = json;
    it->content_len = len;
    return MXRTC_OK;
}

int mxrtc_cm_emit_send(mxrtc_call_manager *m, const mxrtc_call *c, const mxrtc_mx_outgoing *ev) {
    return send_in_room(m, c->room_id, ev);
}

int mxrtc_cm_emit_state(mxrtc_call_manager *m, const mxrtc_call *c, bool remote_ended,
                        const char *replaced_by) {
    out_item *it = push(m, MXRTC_CM_OUT_STATE, c->room_id, c->call_id);
    if (!it) return MXRTC_ERR_LIMIT;
    it->state = c->state;
    it->reason = c->state == MXRTC_CALL_STATE_ENDED ? c->end_reason : MXRTC_MX_REASON_NONE;
    it->remote_ended = remote_ended;
    if (replaced_by) snprintf(it->replaced_by, sizeof it->replaced_by, "%s", replaced_by);
    return MXRTC_OK;
}

int mxrtc_cm_emit_incoming(mxrtc_call_manager *m, const mxrtc_call *c) {
    out_item *it = push(m, MXRTC_CM_OUT_INCOMING, c->room_id, c->call_id);
    if (!it) return MXRTC_ERR_LIMIT;
    snprintf(it->sender, sizeof it->sender, "%s", c->opponent_user);
    it->video = c->offer_has_video;
    return MXRTC_OK;
}

int mxrtc_cm_emit_remote_media(mxrtc_call_manager *m, const mxrtc_call *c) {
    out_item *it = push(m, MXRTC_CM_OUT_REMOTE_MEDIA, c->room_id, c->call_id);
    if (!it) return MXRTC_ERR_LIMIT;
    it->ram = c->remote_audio_muted;
    it->rvm = c->remote_video_muted;
    return MXRTC_OK;
}

int mxrtc_cm_emit_hold(mxrtc_call_manager *m, const mxrtc_call *c) {
    out_item *it = push(m, MXRTC_CM_OUT_HOLD, c->room_id, c->call_id);
    if (!it) return MXRTC_ERR_LIMIT;
    it->lh = c->local_hold;
    it->rh = c->remote_hold;
    return MXRTC_OK;
}

/* ---- life cycle ---------------------------------------------------------------- */

static bool id_ok(const char *s) {
    if (!s) return false;
    size_t n = strlen(s);
    return n > 0 && n <= MXRTC_MX_ID_MAX;
}

int mxrtc_call_manager_new(mxrtc_call_manager **out, const mxrtc_call_manager_config *cfg) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!cfg || cfg->size < sizeof *cfg || !id_ok(cfg->user_id) || !id_ok(cfg->party_id) ||
        !cfg->peer.open || !cfg->peer.ops || !cfg->peer.ops->create_offer || !cfg->peer.ops->create_answer ||
        !cfg->peer.ops->set_remote_answer || !cfg->peer.ops->add_remote_candidates || !cfg->peer.ops->close)
        return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_call_manager *m = mxrtc_calloc(cfg->allocator, 1, sizeof *m);
    if (!m) return MXRTC_ERR_NO_MEMORY;
    m->alloc = cfg->allocator;
    m->random = cfg->random;
    m->log = cfg->logger;
    snprintf(m->user_id, sizeof m->user_id, "%s", cfg->user_id);
    snprintf(m->party_id, sizeof m->party_id, "%s", cfg->party_id);
    m->peer = cfg->peer;
    m->max_calls = cfg->max_calls ? cfg->max_calls : 8;
    m->lifetime_ms = cfg->invite_lifetime_ms ? cfg->invite_lifetime_ms : MXRTC_MX_DEFAULT_LIFETIME_MS;
    m->cand_delay_ms = cfg->candidate_delay_ms ? cfg->candidate_delay_ms : 200;
    m->ice_timeout_ms = cfg->ice_disconnect_timeout_ms ? cfg->ice_disconnect_timeout_ms : 30000;
    m->ice_restart_ms = cfg->ice_restart_delay_ms ? cfg->ice_restart_delay_ms : 2000;
    m->drained = true;
    m->calls = mxrtc_calloc(m->alloc, m->max_calls, sizeof *m->calls);
    m->q = mxrtc_calloc(m->alloc, OUT_QUEUE, sizeof *m->q);
    m->scratch = mxrtc_malloc(m->alloc, sizeof *m->scratch);
    m->sdp = mxrtc_malloc(m->alloc, MXRTC_MX_SDP_MAX + 1);
    m->stash = mxrtc_calloc(m->alloc, STASH, sizeof *m->stash);
    if (!m->calls || !m->q || !m->scratch || !m->sdp || !m->stash) {
        mxrtc_call_manager_free(m);
        return MXRTC_ERR_NO_MEMORY;
    }
    *out = m;
    return MXRTC_OK;
}

void mxrtc_call_manager_free(mxrtc_call_manager *m) {
    if (!m) return;
    for (uint32_t i = 0; m->calls && i < m->max_calls; i++)
        if (m->calls[i].used) mxrtc_call_release(m, &m->calls[i]);
    for (uint32_t i = 0; m->q && i < m->q_count; i++)
        mxrtc_free(m->alloc, m->q[(m->q_head + i) % OUT_QUEUE].content);
    mxrtc_free(m->alloc, m->cur.content);
    mxrtc_free(m->alloc, m->calls);
    mxrtc_free(m->alloc, m->q);
    mxrtc_free(m->alloc, m->scratch);
    mxrtc_free(m->alloc, m->sdp);
    mxrtc_free(m->alloc, m->stash);
    mxrtc_free(m->alloc, m);
}

/* ---- helpers -------------------------------------------------------------------- */

static int input_begin(mxrtc_call_manager *m) {
    if (!m) return MXRTC_ERR_INVALID_ARGUMENT;
    return m->drained ? MXRTC_OK : MXRTC_ERR_STATE;
}

static mxrtc_call *find_call(mxrtc_call_manager *m, const char *call_id) {
    if (!call_id) return NULL;
    for (uint32_t i = 0; i < m->max_calls; i++)
        if (m->calls[i].used && strcmp(m->calls[i].call_id, call_id) == 0) return &m->calls[i];
    return NULL;
}

static bool is_tombstoned(const mxrtc_call_manager *m, const char *call_id) {
    for (uint32_t i = 0; i < TOMBSTONES; i++)
        if (m->tomb[i][0] && strcmp(m->tomb[i], call_id) == 0) return true;
    return false;
}

static void tombstone(mxrtc_call_manager *m, const char *call_id) {
    if (is_tombstoned(m, call_id)) return;
    snprintf(m->tomb[m->tomb_next], sizeof m->tomb[0], "%s", call_id);
    m->tomb_next = (m->tomb_next + 1) % TOMBSTONES;
}

/* A free slot, else the oldest ended call's (remembered as a tombstone so
 * its late events stay ignored); NULL when every slot holds a live call. */
static mxrtc_call *new_slot(mxrtc_call_manager *m, const char *room, const char *call_id, bool outgoing) {
    mxrtc_call *best = NULL;
    for (uint32_t i = 0; i < m->max_calls; i++) {
        mxrtc_call *c = &m->calls[i];
        if (!c->used) { best = c; break; }
        if (!mxrtc_call_active(c) && (!best || c->seq < best->seq)) best = c;
    }
    if (!best) return NULL;
    if (best->used) {
        tombstone(m, best->call_id);
        mxrtc_call_release(m, best);
    }
    memset(best, 0, sizeof *best);
    best->used = true;
    best->seq = ++m->seq;
    best->outgoing = outgoing;
    snprintf(best->room_id, sizeof best->room_id, "%s", room);
    snprintf(best->call_id, sizeof best->call_id, "%s", call_id);
    best->invite_expiry = best->cand_flush_at = best->ice_deadline = best->ice_restart_at = MXRTC_TIME_NEVER;
    return best;
}

static void drop_slot(mxrtc_call_manager *m, mxrtc_call *c) {
    mxrtc_call_release(m, c);
    memset(c, 0, sizeof *c);
}

static int open_peer(mxrtc_call_manager *m, mxrtc_call *c) {
    void *p = NULL;
    int rc = m->peer.open(m->peer.user, c->call_id, c->outgoing, &p);
    if (rc != MXRTC_OK) return rc;
    if (!p) return MXRTC_ERR_INTERNAL;
    c->peer = p;
    return MXRTC_OK;
}

static void stash_add(mxrtc_call_manager *m, const char *room, const char *sender, const mxrtc_mx_event *ev) {
    stash_entry *e = NULL;
    for (uint32_t i = 0; i < STASH && !e; i++) {
        stash_entry *s = &m->stash[i];
        if (s->used && strcmp(s->call_id, ev->call_id) == 0 && strcmp(s->room_id, room) == 0 &&
            strcmp(s->sender, sender) == 0 && strcmp(s->party, ev->party_id) == 0)
            e = s;
    }
    if (!e) {
        for (uint32_t i = 0; i < STASH; i++) {
            stash_entry *s = &m->stash[i];
            if (!e || !s->used || (e->used && s->seq < e->seq)) e = s;
            if (!s->used) break;
        }
        if (e->used) m->stash_dropped += e->n;
        memset(e, 0, sizeof *e);
        e->used = true;
        e->seq = ++m->stash_seq;
        snprintf(e->room_id, sizeof e->room_id, "%s", room);
        snprintf(e->call_id, sizeof e->call_id, "%s", ev->call_id);
        snprintf(e->sender, sizeof e->sender, "%s", sender);
        snprintf(e->party, sizeof e->party, "%s", ev->party_id);
    }
    for (uint32_t i = 0; i < ev->candidate_count; i++) {
        if (e->n >= STASH_CANDS) {
            m->stash_dropped++;
            continue;
        }
        e->c[e->n++] = ev->candidates[i];
    }
    if (ev->end_of_candidates) e->eoc = true;
}

/* The invite came: the caller's stashed candidates join the call; anyone
 * else's for that call_id are dropped. */
static void stash_take(mxrtc_call_manager *m, mxrtc_call *c) {
    for (uint32_t i = 0; i < STASH; i++) {
        stash_entry *s = &m->stash[i];
        if (!s->used || strcmp(s->call_id, c->call_id) != 0) continue;
        if (strcmp(s->room_id, c->room_id) == 0 && strcmp(s->sender, c->opponent_user) == 0 &&
            strcmp(s->party, c->opponent_has_party ? c->opponent_party : "") == 0)
            (void)mxrtc_call_early_candidates(m, c, s->sender, s->party, s->c, s->n, s->eoc);
        memset(s, 0, sizeof *s);
    }
}

/* Our outgoing call in room still waiting for an answer, to the sender (or
 * to anyone): the spec's glare case. */
static mxrtc_call *glare_partner(mxrtc_call_manager *m, const char *room, const char *sender) {
    for (uint32_t i = 0; i < m->max_calls; i++) {
        mxrtc_call *c = &m->calls[i];
        if (!mxrtc_call_active(c) || !c->outgoing || c->state != MXRTC_CALL_STATE_INVITE_SENT ||
            c->opponent_chosen || strcmp(c->room_id, room) != 0)
            continue;
        if (!c->invitee[0] || strcmp(c->invitee, sender) == 0) return c;
    }
    return NULL;
}

/* The invite's age now, in microseconds (spec: clients discard an invite
 * whose age exceeds its lifetime; the age comes from unsigned.age). */
static mxrtc_time_us age_now(const mxrtc_mx_room_event *e, mxrtc_time_us now) {
    mxrtc_time_us age = 0;
    if (e->age_ms != MXRTC_MX_AGE_UNKNOWN)
        age = e->age_ms > UINT64_MAX / 2000 ? UINT64_MAX / 2 : e->age_ms * 1000;
    if (e->received_at && now > e->received_at) {
        mxrtc_time_us d = now - e->received_at;
        age = d > UINT64_MAX / 2 - age ? UINT64_MAX / 2 : age + d;
    }
    return age;
}

static int on_invite(mxrtc_call_manager *m, mxrtc_time_us now, const mxrtc_mx_room_event *e,
                     const mxrtc_mx_event *ev, bool own) {
    if (own || (ev->has_invitee && strcmp(ev->invitee, m->user_id) != 0) ||   /* ours elsewhere; not for us */
        find_call(m, ev->call_id) || is_tombstoned(m, ev->call_id)) {        /* repeat or stale */
        m->ignored++;
        return MXRTC_OK;
    }
    mxrtc_time_us age = age_now(e, now);
    mxrtc_time_us life = ev->lifetime_ms > UINT64_MAX / 2000 ? UINT64_MAX / 2 : ev->lifetime_ms * 1000;
    if (age >= life) {
        MXRTC_LOGD(m->log, "matrix", "invite expired before it reached us; ignored");
        m->ignored++;
        return MXRTC_OK;
    }
    mxrtc_time_us left = life - age;
    mxrtc_time_us expiry = left > MXRTC_TIME_NEVER - now ? MXRTC_TIME_NEVER : now + left;

    mxrtc_call *mine = glare_partner(m, e->room_id, e->sender);
    bool incoming_wins = mine && strcmp(ev->call_id, mine->call_id) < 0;
    if (mine && !incoming_wins) {
        /* Glare, ours is the lesser call_id: abort theirs (Element sends
         * hangup "replaced" for it) and keep waiting for our answer. */
        mxrtc_mx_outgoing o;
        memset(&o, 0, sizeof o);
        o.type = MXRTC_MX_HANGUP;
        o.call_id = ev->call_id;
        o.party_id = m->party_id;
        o.reason = MXRTC_MX_REASON_REPLACED;
        tombstone(m, ev->call_id);
        return send_in_room(m, e->room_id, &o);
    }
    mxrtc_call *c = new_slot(m, e->room_id, ev->call_id, false);
    if (!c) return MXRTC_ERR_LIMIT;
    int rc = open_peer(m, c);
    if (rc != MXRTC_OK) {
        drop_slot(m, c);
        return rc;
    }
    rc = mxrtc_call_start_incoming(m, c, now, e->sender, ev, expiry, !incoming_wins);
    if (rc != MXRTC_OK) {
        drop_slot(m, c);
        return rc;
    }
    stash_take(m, c);
    if (incoming_wins) {
        /* Glare, theirs is the lesser: our call gives way and theirs is
         * answered on the user's behalf, with our call's media. */
        bool video = mine->want_video;
        (void)mxrtc_call_hangup(m, mine, now, MXRTC_MX_REASON_REPLACED, true, c->call_id);
        c->audio_muted = mine->audio_muted;
        c->video_muted = mine->video_muted;
        rc = mxrtc_call_answer(m, c, now, video);
    }
    return rc;
}

/* ---- inputs ------------------------------------------------------------------- */

int mxrtc_call_manager_feed(mxrtc_call_manager *m, mxrtc_time_us now, const mxrtc_mx_room_event *e,
                            const char **reason) {
    if (reason) *reason = NULL;
    int rc = input_begin(m);
    if (rc != MXRTC_OK) return rc;
    if (!e || !id_ok(e->room_id) || !id_ok(e->sender) || !e->type || !e->content)
        return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_mx_type t = mxrtc_mx_type_from_name(e->type);
    if (t == MXRTC_MX_NONE) {
        m->ignored++;
        return MXRTC_OK;
    }
    mxrtc_mx_event *ev = m->scratch;
    const char *why = NULL;
    rc = mxrtc_mx_event_parse(ev, t, e->content, e->content_len, &why);
    if (rc != MXRTC_OK) {
        if (reason) *reason = why;
        MXRTC_LOGD(m->log, "matrix", "%s rejected: %s", e->type, why ? why : "?");
        return rc;
    }
    m->drained = false;
    bool own = strcmp(e->sender, m->user_id) == 0;
    /* Our own echo: the homeserver hands back what we sent. */
    if (own && ev->has_party_id && strcmp(ev->party_id, m->party_id) == 0) {
        m->ignored++;
        return MXRTC_OK;
    }

    if (t == MXRTC_MX_INVITE) return on_invite(m, now, e, ev, own);
    mxrtc_call *c = find_call(m, ev->call_id);
    if (!c || strcmp(c->room_id, e->room_id) != 0) {
        /* A hangup or reject before its invite (history replay): remember
         * it so that the invite, if it comes, does not ring. Candidates
         * before their invite are kept for it (a few, bounded). */
        if (!c && (t == MXRTC_MX_HANGUP || t == MXRTC_MX_REJECT)) tombstone(m, ev->call_id);
        if (!c && t == MXRTC_MX_CANDIDATES && !own && !is_tombstoned(m, ev->call_id))
            stash_add(m, e->room_id, e->sender, ev);
        else m->ignored++;
        return MXRTC_OK;
    }
    return mxrtc_call_on_event(m, c, now, e->sender, own, ev);
}

int mxrtc_call_manager_member_left(mxrtc_call_manager *m, mxrtc_time_us now, const char *room_id,
                                   const char *user_id) {
    int rc = input_begin(m);
    if (rc != MXRTC_OK) return rc;
    if (!room_id || !user_id) return MXRTC_ERR_INVALID_ARGUMENT;
    m->drained = false;
    for (uint32_t i = 0; i < m->max_calls; i++) {
        mxrtc_call *c = &m->calls[i];
        if (!mxrtc_call_active(c) || strcmp(c->room_id, room_id) != 0) continue;
        bool theirs = c->opponent_chosen ? strcmp(c->opponent_user, user_id) == 0
                                         : (c->invitee[0] && strcmp(c->invitee, user_id) == 0);
        if (theirs) (void)mxrtc_call_hangup(m, c, now, MXRTC_MX_REASON_PEER_LEFT, true, NULL);
    }
    return MXRTC_OK;
}

static int action_call(mxrtc_call_manager *m, const char *call_id, mxrtc_call **out) {
    int rc = input_begin(m);
    if (rc != MXRTC_OK) return rc;
    mxrtc_call *c = find_call(m, call_id);
    if (!c) return MXRTC_ERR_NOT_FOUND;
    *out = c;
    return MXRTC_OK;
}

int mxrtc_call_manager_place(mxrtc_call_manager *m, mxrtc_time_us now, const char *room_id,
                             const char *invitee, bool video, char *call_id_out, size_t cap) {
    int rc = input_begin(m);
    if (rc != MXRTC_OK) return rc;
    if (!id_ok(room_id) || (invitee && !id_ok(invitee)) || !call_id_out) return MXRTC_ERR_INVALID_ARGUMENT;
    if (cap < 64) return MXRTC_ERR_BUFFER_TOO_SMALL;
    uint8_t r[16];
    rc = mxrtc_random_fill(&m->random, r, sizeof r);
    if (rc != MXRTC_OK) return rc;
    char id[40];
    static const char hex[] = "0123456789abcdef";
    id[0] = 'c';
    for (size_t i = 0; i < sizeof r; i++) {
        id[1 + 2 * i] = hex[r[i] >> 4];
        id[2 + 2 * i] = hex[r[i] & 15];
    }
    id[33] = 0;
    mxrtc_call *c = new_slot(m, room_id, id, true);
    if (!c) return MXRTC_ERR_LIMIT;
    if (invitee) snprintf(c->invitee, sizeof c->invitee, "%s", invitee);
    c->want_video = video;
    rc = open_peer(m, c);
    if (rc == MXRTC_OK) {
        m->drained = false;
        rc = mxrtc_call_start_outgoing(m, c, now);
    }
    if (rc != MXRTC_OK) {
        drop_slot(m, c);
        return rc;
    }
    snprintf(call_id_out, cap, "%s", id);
    return MXRTC_OK;
}

int mxrtc_call_manager_answer(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id, bool video) {
    mxrtc_call *c;
    int rc = action_call(m, call_id, &c);
    if (rc != MXRTC_OK) return rc;
    if (c->state != MXRTC_CALL_STATE_RINGING) return MXRTC_ERR_STATE;
    m->drained = false;
    return mxrtc_call_answer(m, c, now, video);
}

int mxrtc_call_manager_reject(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id) {
    mxrtc_call *c;
    int rc = action_call(m, call_id, &c);
    if (rc != MXRTC_OK) return rc;
    if (c->state != MXRTC_CALL_STATE_RINGING) return MXRTC_ERR_STATE;
    m->drained = false;
    return mxrtc_call_reject(m, c, now);
}

int mxrtc_call_manager_hangup(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id,
                              mxrtc_mx_reason reason) {
    mxrtc_call *c;
    int rc = action_call(m, call_id, &c);
    if (rc != MXRTC_OK) return rc;
    if (!mxrtc_call_active(c)) return MXRTC_ERR_STATE;
    m->drained = false;
    /* Hanging up a call that rings here is declining it. */
    if (c->state == MXRTC_CALL_STATE_RINGING) return mxrtc_call_reject(m, c, now);
    return mxrtc_call_hangup(m, c, now, reason, true, NULL);
}

int mxrtc_call_manager_set_mute(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id,
                                bool audio_muted, bool video_muted) {
    mxrtc_call *c;
    int rc = action_call(m, call_id, &c);
    if (rc != MXRTC_OK) return rc;
    if (!mxrtc_call_active(c)) return MXRTC_ERR_STATE;
    m->drained = false;
    return mxrtc_call_set_mute(m, c, now, audio_muted, video_muted);
}

static int renegotiate(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id, int hold,
                       int video, bool restart) {
    mxrtc_call *c;
    int rc = action_call(m, call_id, &c);
    if (rc != MXRTC_OK) return rc;
    if (c->state != MXRTC_CALL_STATE_CONNECTING && c->state != MXRTC_CALL_STATE_CONNECTED)
        return MXRTC_ERR_STATE;
    if (c->opponent_version == 0) return MXRTC_ERR_UNSUPPORTED;
    if (c->making_offer) return MXRTC_ERR_STATE;
    m->drained = false;
    return mxrtc_call_renegotiate(m, c, now, hold < 0 ? c->local_hold : hold != 0,
                                  video < 0 ? c->want_video : video != 0, restart);
}

int mxrtc_call_manager_set_hold(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id, bool hold) {
    return renegotiate(m, now, call_id, hold ? 1 : 0, -1, false);
}

int mxrtc_call_manager_set_video(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id, bool video) {
    return renegotiate(m, now, call_id, -1, video ? 1 : 0, false);
}

int mxrtc_call_manager_restart_ice(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id) {
    return renegotiate(m, now, call_id, -1, -1, true);
}

int mxrtc_call_manager_peer_candidate(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id,
                                      const char *candidate, const char *sdp_mid, int sdp_mline_index) {
    mxrtc_call *c;
    int rc = action_call(m, call_id, &c);
    if (rc != MXRTC_OK) return rc;
    /* What we send must pass the checks we apply to what we receive:
     * a mid or an m-line index, no control characters. */
    if (!candidate || !candidate[0] || strlen(candidate) > MXRTC_MX_CANDIDATE_MAX ||
        (sdp_mid && (!sdp_mid[0] || strlen(sdp_mid) > MXRTC_MX_MID_MAX)) || sdp_mline_index > 65535 ||
        (!sdp_mid && sdp_mline_index < 0))
        return MXRTC_ERR_INVALID_ARGUMENT;
    for (const char *p = candidate; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) return MXRTC_ERR_INVALID_ARGUMENT;
    for (const char *p = sdp_mid; p && *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!mxrtc_call_active(c)) return MXRTC_ERR_STATE;
    mxrtc_mx_candidate cand;
    memset(&cand, 0, sizeof cand);
    snprintf(cand.candidate, sizeof cand.candidate, "%s", candidate);
    if (sdp_mid) {
        snprintf(cand.sdp_mid, sizeof cand.sdp_mid, "%s", sdp_mid);
        cand.has_mid = true;
    }
    cand.sdp_mline_index = sdp_mline_index < 0 ? -1 : sdp_mline_index;
    m->drained = false;
    return mxrtc_call_local_candidate(m, c, now, &cand);
}

int mxrtc_call_manager_peer_gathering_done(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id) {
    mxrtc_call *c;
    int rc = action_call(m, call_id, &c);
    if (rc != MXRTC_OK) return rc;
    if (!mxrtc_call_active(c)) return MXRTC_ERR_STATE;
    m->drained = false;
    return mxrtc_call_gathering_done(m, c, now);
}

int mxrtc_call_manager_peer_state(mxrtc_call_manager *m, mxrtc_time_us now, const char *call_id,
                                  mxrtc_call_peer_state state) {
    mxrtc_call *c;
    int rc = action_call(m, call_id, &c);
    if (rc != MXRTC_OK) return rc;
    if (!mxrtc_call_active(c)) return MXRTC_ERR_STATE;
    m->drained = false;
    return mxrtc_call_on_peer_state(m, c, now, state);
}

int mxrtc_call_manager_handle_timeout(mxrtc_call_manager *m, mxrtc_time_us now) {
    int rc = input_begin(m);
    if (rc != MXRTC_OK) return rc;
    m->drained = false;
    for (uint32_t i = 0; i < m->max_calls; i++) {
        mxrtc_call *c = &m->calls[i];
        /* Each pass settles one timer; a call has three. */
        for (int k = 0; k < 4 && mxrtc_call_next_deadline(c) <= now; k++) {
            int r = mxrtc_call_timeout(m, c, now);
            if (r != MXRTC_OK && rc == MXRTC_OK) rc = r;
        }
    }
    return rc;
}

int mxrtc_call_manager_poll(mxrtc_call_manager *m, mxrtc_time_us now, mxrtc_cm_output *out) {
    (void)now;
    if (!m || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_free(m->alloc, m->cur.content);
    m->cur.content = NULL;
    memset(out, 0, sizeof *out);
    if (m->q_count == 0) {
        mxrtc_time_us t = MXRTC_TIME_NEVER;
        for (uint32_t i = 0; i < m->max_calls; i++) {
            mxrtc_time_us d = mxrtc_call_next_deadline(&m->calls[i]);
            if (d < t) t = d;
        }
        out->kind = MXRTC_CM_OUT_DEADLINE;
        out->deadline = t;
        m->drained = true;
        return MXRTC_OK;
    }
    m->cur = m->q[m->q_head];
    m->q[m->q_head].content = NULL;
    m->q_head = (m->q_head + 1) % OUT_QUEUE;
    m->q_count--;
    const out_item *it = &m->cur;
    out->kind = it->kind;
    out->deadline = MXRTC_TIME_NEVER;
    out->room_id = it->room_id;
    out->call_id = it->call_id;
    out->type = it->type;
    out->content = it->content;
    out->content_len = it->content_len;
    out->sender = it->sender;
    out->video = it->video;
    out->state = it->state;
    out->reason = it->reason;
    out->remote_ended = it->remote_ended;
    out->replaced_by = it->replaced_by[0] ? it->replaced_by : NULL;
    out->remote_audio_muted = it->ram;
    out->remote_video_muted = it->rvm;
    out->local_hold = it->lh;
    out->remote_hold = it->rh;
    return MXRTC_OK;
}

mxrtc_call_state mxrtc_call_manager_call_state(const mxrtc_call_manager *m, const char *call_id) {
    if (!m || !call_id) return MXRTC_CALL_STATE_NONE;
    for (uint32_t i = 0; i < m->max_calls; i++)
        if (m->calls[i].used && strcmp(m->calls[i].call_id, call_id) == 0) return m->calls[i].state;
    return MXRTC_CALL_STATE_NONE;
}

uint64_t mxrtc_call_manager_events_ignored(const mxrtc_call_manager *m) { return m ? m->ignored : 0; }
