/*
 * calls.c: mxrtc_calls (include/mxrtc.h, "Matrix 1:1 calls"): the call
 * manager and its real peers behind one sans-IO object with one poll().
 * See calls_internal.h for the structure, docs/nheko.md for hosts.
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "matrix/calls_internal.h"

#define MOD "calls"

/* ---- names ---------------------------------------------------------------- */

const char *mxrtc_call_end_reason_name(mxrtc_call_end_reason r) {
    switch (r) {
    case MXRTC_CALL_END_ICE_FAILED: return "ice_failed";
    case MXRTC_CALL_END_ICE_TIMEOUT: return "ice_timeout";
    case MXRTC_CALL_END_INVITE_TIMEOUT: return "invite_timeout";
    case MXRTC_CALL_END_USER_HANGUP: return "user_hangup";
    case MXRTC_CALL_END_USER_MEDIA_FAILED: return "user_media_failed";
    case MXRTC_CALL_END_USER_BUSY: return "user_busy";
    case MXRTC_CALL_END_UNKNOWN_ERROR: return "unknown_error";
    case MXRTC_CALL_END_REPLACED: return "replaced";
    case MXRTC_CALL_END_REJECTED: return "rejected";
    case MXRTC_CALL_END_ANSWERED_ELSEWHERE: return "answered_elsewhere";
    case MXRTC_CALL_END_REJECTED_ELSEWHERE: return "rejected_elsewhere";
    case MXRTC_CALL_END_PEER_LEFT: return "peer_left";
    default: return "none";
    }
}

/* The call layer's reasons are the public ones, value for value. */
static mxrtc_call_end_reason public_reason(mxrtc_mx_reason r) {
    switch (r) {
    case MXRTC_MX_REASON_ICE_FAILED: return MXRTC_CALL_END_ICE_FAILED;
    case MXRTC_MX_REASON_ICE_TIMEOUT: return MXRTC_CALL_END_ICE_TIMEOUT;
    case MXRTC_MX_REASON_INVITE_TIMEOUT: return MXRTC_CALL_END_INVITE_TIMEOUT;
    case MXRTC_MX_REASON_USER_HANGUP: return MXRTC_CALL_END_USER_HANGUP;
    case MXRTC_MX_REASON_USER_MEDIA_FAILED: return MXRTC_CALL_END_USER_MEDIA_FAILED;
    case MXRTC_MX_REASON_USER_BUSY: return MXRTC_CALL_END_USER_BUSY;
    case MXRTC_MX_REASON_UNKNOWN_ERROR: return MXRTC_CALL_END_UNKNOWN_ERROR;
    case MXRTC_MX_REASON_REPLACED: return MXRTC_CALL_END_REPLACED;
    case MXRTC_MX_REASON_REJECTED: return MXRTC_CALL_END_REJECTED;
    case MXRTC_MX_REASON_ANSWERED_ELSEWHERE: return MXRTC_CALL_END_ANSWERED_ELSEWHERE;
    case MXRTC_MX_REASON_REJECTED_ELSEWHERE: return MXRTC_CALL_END_REJECTED_ELSEWHERE;
    case MXRTC_MX_REASON_PEER_LEFT: return MXRTC_CALL_END_PEER_LEFT;
    default: return MXRTC_CALL_END_NONE;
    }
}

/* ---- life ------------------------------------------------------------------ */

void mxrtc_calls_config_init(mxrtc_calls_config *cfg) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
    cfg->random = mxrtc_random_os();
}

static bool id_ok(const char *s) {
    if (!s || !s[0]) return false;
    size_t n = 0;
    while (s[n] && n <= MXRTC_CALL_ID_MAX) n++;
    return n <= MXRTC_CALL_ID_MAX;
}

/* The host's template with its TURN strings copied (they must outlive
 * every peer created from it, and the host's need not). */
static int copy_base(mxrtc_calls *c, const mxrtc_peer_config *p) {
    if (p) {
        if (p->size != sizeof *p || p->interface_count > MXRTC_PEER_MAX_INTERFACES ||
            p->stun_server_count > MXRTC_PEER_MAX_SERVERS || p->turn_server_count > MXRTC_PEER_MAX_SERVERS)
            return MXRTC_ERR_INVALID_ARGUMENT;
        c->base = *p;
    } else {
        mxrtc_peer_config_init(&c->base);
    }
    c->base.allocator = c->alloc;
    c->base.random = c->random;
    if (!c->base.logger.fn) c->base.logger = c->logger;
    for (size_t i = 0; i < c->base.turn_server_count; i++) {
        mxrtc_peer_turn_server *s = &c->base.turn_servers[i];
        const char *src[4] = {s->username, s->password, s->tls_server_name, s->tls_ca_file};
        const char **dst[4] = {&s->username, &s->password, &s->tls_server_name, &s->tls_ca_file};
        for (int k = 0; k < 4; k++) {
            if (!src[k]) continue;
            c->base_strings[i][k] = mxrtc_strdup(c->alloc, src[k], 4096);
            if (!c->base_strings[i][k]) return MXRTC_ERR_NO_MEMORY;
            *dst[k] = c->base_strings[i][k];
        }
    }
    return MXRTC_OK;
}

int mxrtc_calls_new(mxrtc_calls **out, const mxrtc_calls_config *cfg, mxrtc_time_us now) {
    (void)now;
    if (!out || !cfg || cfg->size != sizeof *cfg || !id_ok(cfg->user_id) || !id_ok(cfg->device_id))
        return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    mxrtc_calls *c = mxrtc_calloc(cfg->allocator, 1, sizeof *c);
    if (!c) return MXRTC_ERR_NO_MEMORY;
    c->alloc = cfg->allocator;
    c->logger = cfg->logger;
    c->random = cfg->random.fn ? cfg->random : mxrtc_random_os();
    c->refresh_at = MXRTC_TIME_NEVER;
    c->cm_deadline = MXRTC_TIME_NEVER;
    for (size_t k = 0; k < MXRTC_PA_MAX_PEERS; k++) c->peer_deadline[k] = MXRTC_TIME_NEVER;
    c->drained = true;
    int rc = copy_base(c, cfg->peer);
    if (rc == MXRTC_OK && cfg->tls_ca_file && !(c->tls_ca_file = mxrtc_strdup(c->alloc, cfg->tls_ca_file, 4096)))
        rc = MXRTC_ERR_NO_MEMORY;
    if (rc == MXRTC_OK) rc = mxrtc_peer_adapter_factory_new(&c->pf, &c->base);
    if (rc == MXRTC_OK) {
        mxrtc_calls_turn_rebuild(c);
        mxrtc_call_manager_config mc;
        mxrtc_call_manager_config_init(&mc);
        mc.allocator = c->alloc;
        mc.random = c->random;
        mc.logger = &c->logger;
        mc.user_id = cfg->user_id;
        mc.party_id = cfg->device_id;
        mc.peer = mxrtc_peer_adapter_factory_get(c->pf);
        /* The adapter holds at most MXRTC_PA_MAX_PEERS peers. */
        mc.max_calls = cfg->max_calls && cfg->max_calls < MXRTC_PA_MAX_PEERS ? cfg->max_calls : MXRTC_PA_MAX_PEERS;
        mc.invite_lifetime_ms = cfg->invite_lifetime_ms;
        mc.candidate_delay_ms = cfg->candidate_delay_ms;
        mc.ice_disconnect_timeout_ms = cfg->ice_disconnect_timeout_ms;
        mc.ice_restart_delay_ms = cfg->ice_restart_delay_ms;
        rc = mxrtc_call_manager_new(&c->cm, &mc);
    }
    if (rc != MXRTC_OK) {
        mxrtc_calls_free(c);
        return rc;
    }
    *out = c;
    return MXRTC_OK;
}

void mxrtc_calls_free(mxrtc_calls *c) {
    if (!c) return;
    /* The manager closes its peers through the factory: free it first. */
    mxrtc_call_manager_free(c->cm);
    mxrtc_peer_adapter_factory_free(c->pf);
    mxrtc_turn_servers_wipe(&c->turn);
    mxrtc_free(c->alloc, c->tls_ca_file);
    for (size_t i = 0; i < MXRTC_PEER_MAX_SERVERS; i++)
        for (int k = 0; k < 4; k++) {
            char *s = c->base_strings[i][k];
            if (!s) continue;
            mxrtc_wipe(s, strlen(s));
            mxrtc_free(c->alloc, s);
        }
    const mxrtc_allocator *alloc = c->alloc;
    mxrtc_wipe(c, sizeof *c);
    mxrtc_free(alloc, c);
}

/* ---- the drain rule ------------------------------------------------------ */

/* Every input starts here: outputs waiting refuse it (DESIGN.md). */
static int input_begin(mxrtc_calls *c, mxrtc_time_us now) {
    if (!c) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!c->drained) return MXRTC_ERR_STATE;
    c->drained = false;
    mxrtc_peer_adapter_factory_set_time(c->pf, now);
    return MXRTC_OK;
}

static mxrtc_peer_adapter *live_adapter(mxrtc_calls *c, const char *call_id) {
    if (!call_id) return NULL;
    mxrtc_peer_adapter *a = mxrtc_peer_adapter_find(c->pf, call_id);
    return a && !mxrtc_peer_adapter_closed(a) ? a : NULL;
}

/* ---- signalling inputs -------------------------------------------------- */

/* m.room.member: the spec's membership values; leave (including kicks)
 * and ban end calls with that member (VoIP module: a call whose peer left
 * the room is over). */
static int member_event(mxrtc_calls *c, mxrtc_time_us now, const mxrtc_room_event *ev, const char **why) {
    if (!ev->state_key || !ev->room_id) {
        c->ctr.events_ignored++;
        return MXRTC_OK;
    }
    if (ev->content_len > 65536) {
        if (why) *why = "m.room.member content larger than 64 KiB";
        c->ctr.events_rejected++;
        return MXRTC_ERR_LIMIT;
    }
    cJSON *j = cJSON_ParseWithLength(ev->content, ev->content_len);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(j, "membership");
    if (!cJSON_IsObject(j) || !cJSON_IsString(ms)) {
        cJSON_Delete(j);
        if (why) *why = "m.room.member content without a membership string";
        c->ctr.events_rejected++;
        return MXRTC_ERR_MALFORMED;
    }
    bool gone = strcmp(ms->valuestring, "leave") == 0 || strcmp(ms->valuestring, "ban") == 0;
    cJSON_Delete(j);
    if (!gone) {
        c->ctr.events_ignored++;
        return MXRTC_OK;
    }
    int rc = input_begin(c, now);
    if (rc != MXRTC_OK) return rc;
    return mxrtc_call_manager_member_left(c->cm, now, ev->room_id, ev->state_key);
}

int mxrtc_calls_feed_event(mxrtc_calls *c, mxrtc_time_us now, const mxrtc_room_event *ev, const char **why) {
    if (why) *why = NULL;
    if (!c || !ev || !ev->type || (!ev->content && ev->content_len)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!c->drained) return MXRTC_ERR_STATE;
    if (strcmp(ev->type, "m.room.member") == 0) return member_event(c, now, ev, why);
    if (strncmp(ev->type, "m.call.", 7) != 0) {
        c->ctr.events_ignored++;
        return MXRTC_OK;
    }
    mxrtc_mx_room_event e = {ev->room_id, ev->sender, ev->type, ev->content ? ev->content : "",
                             ev->content_len, ev->age_ms, ev->received_at};
    int rc = input_begin(c, now);
    if (rc != MXRTC_OK) return rc;
    uint64_t ignored = mxrtc_call_manager_events_ignored(c->cm);
    rc = mxrtc_call_manager_feed(c->cm, now, &e, why);
    c->ctr.events_ignored += mxrtc_call_manager_events_ignored(c->cm) - ignored;
    if (rc == MXRTC_ERR_MALFORMED || rc == MXRTC_ERR_LIMIT || rc == MXRTC_ERR_INVALID_ARGUMENT)
        c->ctr.events_rejected++;
    return rc;
}

int mxrtc_calls_set_turn_servers(mxrtc_calls *c, mxrtc_time_us now, const char *json, size_t len) {
    if (!c || (!json && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!c->drained) return MXRTC_ERR_STATE;
    mxrtc_turn_servers *t = mxrtc_calloc(c->alloc, 1, sizeof *t);
    if (!t) return MXRTC_ERR_NO_MEMORY;
    const char *why = NULL;
    int rc = mxrtc_turn_servers_parse(t, json ? json : "", len, now, &why);
    if (rc != MXRTC_OK) {
        MXRTC_LOGW(&c->logger, MOD, "turnServer answer refused (%s); the previous servers stay",
                   why ? why : mxrtc_strerror(rc));
        mxrtc_free(c->alloc, t);
        return rc;
    }
    rc = input_begin(c, now);
    if (rc == MXRTC_OK) {
        if (t->skipped) MXRTC_LOGI(&c->logger, MOD, "turnServer: %u URIs skipped", (unsigned)t->skipped);
        mxrtc_calls_turn_set(c, t);
        c->refresh_at = c->turn.refresh_at;
    }
    mxrtc_turn_servers_wipe(t);
    mxrtc_free(c->alloc, t);
    return rc;
}

/* ---- user actions ---------------------------------------------------------- */

int mxrtc_calls_place(mxrtc_calls *c, mxrtc_time_us now, const char *room_id, const char *invitee, int video,
                      char *call_id_out, size_t cap) {
    if (!c || !id_ok(room_id) || (invitee && !id_ok(invitee)) || !call_id_out || cap < 64)
        return MXRTC_ERR_INVALID_ARGUMENT;
    int rc = input_begin(c, now);
    if (rc != MXRTC_OK) return rc;
    return mxrtc_call_manager_place(c->cm, now, room_id, invitee, video != 0, call_id_out, cap);
}

/* The common start of an action on one call. */
static int action(mxrtc_calls *c, mxrtc_time_us now, const char *call_id) {
    if (!c || !call_id) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!c->drained) return MXRTC_ERR_STATE;
    if (mxrtc_call_manager_call_state(c->cm, call_id) == MXRTC_CALL_STATE_NONE) return MXRTC_ERR_NOT_FOUND;
    return input_begin(c, now);
}

int mxrtc_calls_answer(mxrtc_calls *c, mxrtc_time_us now, const char *call_id, int video) {
    int rc = action(c, now, call_id);
    return rc ? rc : mxrtc_call_manager_answer(c->cm, now, call_id, video != 0);
}

int mxrtc_calls_reject(mxrtc_calls *c, mxrtc_time_us now, const char *call_id) {
    int rc = action(c, now, call_id);
    return rc ? rc : mxrtc_call_manager_reject(c->cm, now, call_id);
}

int mxrtc_calls_hangup(mxrtc_calls *c, mxrtc_time_us now, const char *call_id) {
    int rc = action(c, now, call_id);
    return rc ? rc : mxrtc_call_manager_hangup(c->cm, now, call_id, MXRTC_MX_REASON_USER_HANGUP);
}

int mxrtc_calls_hangup_reason(mxrtc_calls *c, mxrtc_time_us now, const char *call_id,
                              mxrtc_call_end_reason reason) {
    mxrtc_mx_reason r;
    switch (reason) {   /* the reasons the spec lets a client send */
    case MXRTC_CALL_END_ICE_FAILED: r = MXRTC_MX_REASON_ICE_FAILED; break;
    case MXRTC_CALL_END_ICE_TIMEOUT: r = MXRTC_MX_REASON_ICE_TIMEOUT; break;
    case MXRTC_CALL_END_INVITE_TIMEOUT: r = MXRTC_MX_REASON_INVITE_TIMEOUT; break;
    case MXRTC_CALL_END_USER_HANGUP: r = MXRTC_MX_REASON_USER_HANGUP; break;
    case MXRTC_CALL_END_USER_MEDIA_FAILED: r = MXRTC_MX_REASON_USER_MEDIA_FAILED; break;
    case MXRTC_CALL_END_USER_BUSY: r = MXRTC_MX_REASON_USER_BUSY; break;
    case MXRTC_CALL_END_UNKNOWN_ERROR: r = MXRTC_MX_REASON_UNKNOWN_ERROR; break;
    default: return MXRTC_ERR_INVALID_ARGUMENT;
    }
    int rc = action(c, now, call_id);
    return rc ? rc : mxrtc_call_manager_hangup(c->cm, now, call_id, r);
}

int mxrtc_calls_set_mute(mxrtc_calls *c, mxrtc_time_us now, const char *call_id, int audio_muted,
                         int video_muted) {
    int rc = action(c, now, call_id);
    return rc ? rc : mxrtc_call_manager_set_mute(c->cm, now, call_id, audio_muted != 0, video_muted != 0);
}

int mxrtc_calls_set_hold(mxrtc_calls *c, mxrtc_time_us now, const char *call_id, int hold) {
    int rc = action(c, now, call_id);
    return rc ? rc : mxrtc_call_manager_set_hold(c->cm, now, call_id, hold != 0);
}

int mxrtc_calls_set_video(mxrtc_calls *c, mxrtc_time_us now, const char *call_id, int video) {
    int rc = action(c, now, call_id);
    return rc ? rc : mxrtc_call_manager_set_video(c->cm, now, call_id, video != 0);
}

/* ---- network inputs ---------------------------------------------------------- */

int mxrtc_calls_handle_datagram(mxrtc_calls *c, mxrtc_time_us now, const mxrtc_addr *local,
                                const mxrtc_addr *remote, const uint8_t *data, size_t len) {
    if (!c || !local || !remote || (!data && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    int rc = input_begin(c, now);
    if (rc != MXRTC_OK) return rc;
    mxrtc_peer_adapter *t[MXRTC_PA_MAX_PEERS];
    size_t n = len ? mxrtc_calls_route(c, remote, data, len, t) : 0;
    size_t nlive = n;
    n = len ? mxrtc_calls_route_closing(c, remote, data, len, t, n) : 0;
    if (n == 0) {
        c->ctr.datagrams_unrouted++;
        return MXRTC_OK;
    }
    for (size_t i = 0; i < n; i++) {
        int r = mxrtc_peer_handle_datagram(mxrtc_peer_adapter_peer(t[i]), now, local, remote, data, len);
        /* An ended call's peer refuses what is not its teardown's. */
        if (r == MXRTC_ERR_CLOSED && (i >= nlive || mxrtc_peer_adapter_closed(t[i]))) r = MXRTC_OK;
        if (r != MXRTC_OK && rc == MXRTC_OK) rc = r;
    }
    return rc;
}

int mxrtc_calls_handle_stream(mxrtc_calls *c, mxrtc_time_us now, const char *call_id, const mxrtc_addr *server,
                              const uint8_t *data, size_t len, int closed) {
    if (!c || !call_id || !server || (!data && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!c->drained) return MXRTC_ERR_STATE;
    /* An ended call's peer still reads its TURN TCP/TLS connections while
     * it releases its allocations (mxrtc_peer_close). */
    mxrtc_peer_adapter *a = live_adapter(c, call_id);
    if (!a) a = mxrtc_peer_adapter_find(c->pf, call_id);
    if (!a) return MXRTC_ERR_NOT_FOUND;
    int rc = input_begin(c, now);
    if (rc != MXRTC_OK) return rc;
    return mxrtc_peer_handle_stream(mxrtc_peer_adapter_peer(a), now, server, data, len, closed);
}

int mxrtc_calls_resolved(mxrtc_calls *c, mxrtc_time_us now, const char *call_id, const char *hostname,
                         const mxrtc_addr *ip) {
    if (!c || !hostname) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!c->drained) return MXRTC_ERR_STATE;
    if (!call_id) {
        int rc = input_begin(c, now);
        return rc ? rc : mxrtc_calls_turn_resolved(c, hostname, ip);
    }
    mxrtc_peer_adapter *a = live_adapter(c, call_id);
    if (!a) return MXRTC_ERR_NOT_FOUND;
    int rc = input_begin(c, now);
    return rc ? rc : mxrtc_peer_resolved(mxrtc_peer_adapter_peer(a), now, hostname, ip);
}

/* Timers: the call manager's first (its ops may touch a peer, which must
 * be drained then), then every peer's that is due, the closed ones too
 * while they release their TURN allocations (mxrtc_peer_close: the
 * Refresh(0) retransmissions and the teardown's bound). */
int mxrtc_calls_handle_timeout(mxrtc_calls *c, mxrtc_time_us now) {
    int rc = input_begin(c, now);
    if (rc != MXRTC_OK) return rc;
    if (c->cm_deadline <= now) rc = mxrtc_call_manager_handle_timeout(c->cm, now);
    for (size_t k = 0; k < MXRTC_PA_MAX_PEERS; k++) {
        mxrtc_peer_adapter *a = mxrtc_peer_adapter_at(c->pf, k);
        if (!a || mxrtc_peer_adapter_teardown_done(a) || c->peer_deadline[k] > now) continue;
        int r = mxrtc_peer_handle_timeout(mxrtc_peer_adapter_peer(a), now);
        if (r == MXRTC_ERR_CLOSED && mxrtc_peer_adapter_closed(a)) r = MXRTC_OK;
        if (r != MXRTC_OK && rc == MXRTC_OK) rc = r;
    }
    return rc;
}

/* ---- media ---------------------------------------------------------------- */

int mxrtc_calls_push_audio(mxrtc_calls *c, mxrtc_time_us now, const char *call_id, const int16_t *pcm,
                           size_t samples) {
    if (!c || !call_id || !pcm) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!c->drained) return MXRTC_ERR_STATE;
    mxrtc_peer_adapter *a = live_adapter(c, call_id);
    if (!a) return MXRTC_ERR_NOT_FOUND;
    int rc = input_begin(c, now);
    return rc ? rc : mxrtc_peer_adapter_push_audio(a, now, pcm, samples);
}

int mxrtc_calls_pull_audio(mxrtc_calls *c, mxrtc_time_us now, const char *call_id, int16_t *pcm,
                           size_t samples) {
    if (!c || !call_id || !pcm) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_peer_adapter *a = live_adapter(c, call_id);
    if (!a) {
        memset(pcm, 0, samples * sizeof *pcm);
        return MXRTC_ERR_NOT_FOUND;
    }
    return mxrtc_peer_pull_audio(mxrtc_peer_adapter_peer(a), now, pcm, samples);
}

int mxrtc_calls_push_video(mxrtc_calls *c, mxrtc_time_us now, const char *call_id, const mxrtc_picture *pic) {
    if (!c || !call_id || !pic) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!c->drained) return MXRTC_ERR_STATE;
    mxrtc_peer_adapter *a = live_adapter(c, call_id);
    if (!a) return MXRTC_ERR_NOT_FOUND;
    int rc = input_begin(c, now);
    return rc ? rc : mxrtc_peer_adapter_push_video(a, now, pic);
}

/* ---- outputs ---------------------------------------------------------------- */

static bool map_cm(mxrtc_calls *c, mxrtc_calls_output *out) {
    const mxrtc_cm_output *o = &c->cm_out;
    out->call_id = o->call_id;
    out->room_id = o->room_id;
    switch (o->kind) {
    case MXRTC_CM_OUT_SEND:
        out->kind = MXRTC_CALLS_OUT_SEND_EVENT;
        out->type = o->type;
        out->content = o->content;
        out->content_len = o->content_len;
        return true;
    case MXRTC_CM_OUT_INCOMING:
        out->kind = MXRTC_CALLS_OUT_INCOMING;
        out->sender = o->sender;
        out->video = o->video;
        return true;
    case MXRTC_CM_OUT_STATE:
        out->kind = MXRTC_CALLS_OUT_STATE;
        out->state = o->state;
        if (o->state == MXRTC_CALL_STATE_ENDED) {
            out->end_reason = public_reason(o->reason);
            out->remote_ended = o->remote_ended;
            out->replaced_by = o->replaced_by;
        }
        return true;
    case MXRTC_CM_OUT_REMOTE_MEDIA:
        out->kind = MXRTC_CALLS_OUT_REMOTE_MEDIA;
        out->remote_audio_muted = o->remote_audio_muted;
        out->remote_video_muted = o->remote_video_muted;
        return true;
    case MXRTC_CM_OUT_HOLD:
        out->kind = MXRTC_CALLS_OUT_HOLD;
        out->local_hold = o->local_hold;
        out->remote_hold = o->remote_hold;
        return true;
    default:
        return false;
    }
}

/* One peer output for the host, or false when it is consumed here: the
 * signalling events go to the call manager through report() (the adapter
 * copied them), stats, tracks and key-frame requests are not exposed. */
static bool map_peer(mxrtc_calls *c, mxrtc_peer_adapter *a, mxrtc_calls_output *out) {
    const mxrtc_peer_output *o = &c->peer_out;
    out->call_id = mxrtc_peer_adapter_call_id(a);
    switch (o->kind) {
    case MXRTC_PEER_OUT_DATAGRAM:
    case MXRTC_PEER_OUT_STREAM:
        out->kind = o->kind == MXRTC_PEER_OUT_DATAGRAM ? MXRTC_CALLS_OUT_DATAGRAM : MXRTC_CALLS_OUT_STREAM;
        out->from = o->from;
        out->to = o->to;
        out->data = o->data;
        out->len = o->len;
        return true;
    case MXRTC_PEER_OUT_EVENT:
        if (o->event == MXRTC_PEER_EV_RESOLVE && o->text && !mxrtc_peer_adapter_closed(a)) {
            out->kind = MXRTC_CALLS_OUT_RESOLVE;
            out->text = o->text;
            return true;
        }
        if (o->event == MXRTC_PEER_EV_VIDEO_FRAME && !mxrtc_peer_adapter_closed(a)) {
            out->kind = MXRTC_CALLS_OUT_VIDEO_FRAME;
            out->picture = o->picture;
            return true;
        }
        return false;
    default:
        return false;
    }
}

int mxrtc_calls_poll(mxrtc_calls *c, mxrtc_time_us now, mxrtc_calls_output *out) {
    if (!c || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    mxrtc_peer_adapter_factory_set_time(c->pf, now);
    for (;;) {
        /* 1. The call manager's outputs. */
        int rc = mxrtc_call_manager_poll(c->cm, now, &c->cm_out);
        if (rc != MXRTC_OK) return rc;
        if (c->cm_out.kind != MXRTC_CM_OUT_DEADLINE) {
            if (map_cm(c, out)) return MXRTC_OK;
            continue;
        }
        c->cm_deadline = c->cm_out.deadline;

        /* 2. Our own: TURN host names to resolve, the refresh. */
        const char *name = mxrtc_calls_turn_next_name(c);
        if (name) {
            out->kind = MXRTC_CALLS_OUT_RESOLVE;
            out->text = name;
            return MXRTC_OK;
        }
        if (c->refresh_at <= now) {
            c->refresh_at = MXRTC_TIME_NEVER;
            out->kind = MXRTC_CALLS_OUT_TURN_REFRESH;
            return MXRTC_OK;
        }

        /* 3. Every peer, to its deadline (all of them before the call
         * manager hears anything: its ops need drained peers). */
        for (size_t k = 0; k < MXRTC_PA_MAX_PEERS; k++) {
            mxrtc_peer_adapter *a = mxrtc_peer_adapter_at(c->pf, k);
            if (!a) {
                c->peer_deadline[k] = MXRTC_TIME_NEVER;
                continue;
            }
            for (;;) {
                rc = mxrtc_peer_adapter_poll(a, now, &c->peer_out);
                if (rc != MXRTC_OK) return rc;
                if (c->peer_out.kind == MXRTC_PEER_OUT_DEADLINE) {
                    /* A closed peer's own: NEVER once its teardown is over. */
                    c->peer_deadline[k] = c->peer_out.deadline;
                    break;
                }
                if (map_peer(c, a, out)) return MXRTC_OK;
            }
        }

        /* 4. One signalling event of a peer to the call manager, then
         * start again (it may have outputs, and touched peers). */
        bool reported = false;
        for (size_t k = 0; k < MXRTC_PA_MAX_PEERS && !reported; k++) {
            mxrtc_peer_adapter *a = mxrtc_peer_adapter_at(c->pf, k);
            if (!a) continue;
            rc = mxrtc_peer_adapter_report(a, c->cm, now);
            if (rc == MXRTC_ERR_AGAIN) continue;
            if (rc != MXRTC_OK)
                MXRTC_LOGD(&c->logger, MOD, "peer event refused by the call layer: %s", mxrtc_strerror(rc));
            reported = true;
        }
        if (reported) continue;

        /* 5. Quiet: the earliest deadline. */
        mxrtc_time_us t = c->cm_deadline;
        if (c->refresh_at < t) t = c->refresh_at;
        for (size_t k = 0; k < MXRTC_PA_MAX_PEERS; k++)
            if (c->peer_deadline[k] < t) t = c->peer_deadline[k];
        out->kind = MXRTC_CALLS_OUT_DEADLINE;
        out->deadline = t;
        c->drained = true;
        return MXRTC_OK;
    }
}

/* ---- queries -------------------------------------------------------------- */

mxrtc_call_state mxrtc_calls_state(const mxrtc_calls *c, const char *call_id) {
    return c ? mxrtc_call_manager_call_state(c->cm, call_id) : MXRTC_CALL_STATE_NONE;
}

int mxrtc_calls_get_stats(const mxrtc_calls *c, const char *call_id, mxrtc_peer_stats *st) {
    if (!c || !call_id || !st) return MXRTC_ERR_INVALID_ARGUMENT;
    /* A closed peer keeps its slot (and its statistics) until a new call
     * needs the slot. */
    mxrtc_peer_adapter *a = mxrtc_peer_adapter_find(c->pf, call_id);
    if (!a) return MXRTC_ERR_NOT_FOUND;
    return mxrtc_peer_get_stats(mxrtc_peer_adapter_peer(a), st);
}

int mxrtc_calls_video_colour_space(const mxrtc_calls *c, const char *call_id, uint8_t out[4]) {
    if (!c || !call_id || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_peer_adapter *a = mxrtc_peer_adapter_find(c->pf, call_id);
    if (!a) return MXRTC_ERR_NOT_FOUND;
    return mxrtc_peer_video_colour_space(mxrtc_peer_adapter_peer(a), out);
}

int mxrtc_calls_get_counters(const mxrtc_calls *c, mxrtc_calls_counters *out) {
    if (!c || !out || out->size != sizeof *out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = c->ctr;
    out->size = sizeof *out;
    uint64_t dropped = 0;
    for (size_t k = 0; k < MXRTC_PA_MAX_PEERS; k++) {
        mxrtc_peer_adapter *a = mxrtc_peer_adapter_at(c->pf, k);
        if (!a) continue;
        mxrtc_peer_adapter_counters pc;
        mxrtc_peer_adapter_get_counters(a, &pc);
        dropped += pc.dropped_datagrams;
    }
    out->outputs_dropped += dropped;
    return MXRTC_OK;
}
