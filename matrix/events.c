/*
 * events.c: m.call.* contents parsed and validated with cJSON (see events.h
 * for the rules), and serialised for sending.
 */
#include "matrix/events.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "base/alloc.h"

/* MSC3077's unstable key, still sent by Element releases before the stable
 * name landed in the spec; we read both and send both. */
#define META_KEY "sdp_stream_metadata"
#define META_KEY_UNSTABLE "org.matrix.msc3077.sdp_stream_metadata"

static const struct { const char *name; mxrtc_mx_type type; } type_names[] = {
    {"m.call.invite", MXRTC_MX_INVITE},
    {"m.call.candidates", MXRTC_MX_CANDIDATES},
    {"m.call.answer", MXRTC_MX_ANSWER},
    {"m.call.select_answer", MXRTC_MX_SELECT_ANSWER},
    {"m.call.reject", MXRTC_MX_REJECT},
    {"m.call.negotiate", MXRTC_MX_NEGOTIATE},
    {"m.call.hangup", MXRTC_MX_HANGUP},
    {"m.call.sdp_stream_metadata_changed", MXRTC_MX_METADATA_CHANGED},
    /* matrix-js-sdk's prefixed name for the same event (it sends and reads both) */
    {"org.matrix.call.sdp_stream_metadata_changed", MXRTC_MX_METADATA_CHANGED},
};

mxrtc_mx_type mxrtc_mx_type_from_name(const char *name) {
    if (!name) return MXRTC_MX_NONE;
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (strcmp(name, type_names[i].name) == 0) return type_names[i].type;
    return MXRTC_MX_NONE;
}

const char *mxrtc_mx_type_name(mxrtc_mx_type t) {
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (type_names[i].type == t) return type_names[i].name;
    return "";
}

static const struct { const char *name; mxrtc_mx_reason r; } reason_names[] = {
    {"ice_failed", MXRTC_MX_REASON_ICE_FAILED},
    {"ice_timeout", MXRTC_MX_REASON_ICE_TIMEOUT},
    {"invite_timeout", MXRTC_MX_REASON_INVITE_TIMEOUT},
    {"user_hangup", MXRTC_MX_REASON_USER_HANGUP},
    {"user_media_failed", MXRTC_MX_REASON_USER_MEDIA_FAILED},
    {"user_busy", MXRTC_MX_REASON_USER_BUSY},
    {"unknown_error", MXRTC_MX_REASON_UNKNOWN_ERROR},
    {"replaced", MXRTC_MX_REASON_REPLACED},
};

const char *mxrtc_mx_reason_name(mxrtc_mx_reason r) {
    if (r == MXRTC_MX_REASON_PEER_LEFT) return "user_hangup";
    for (size_t i = 0; i < sizeof reason_names / sizeof reason_names[0]; i++)
        if (reason_names[i].r == r) return reason_names[i].name;
    return "unknown_error";
}

mxrtc_mx_reason mxrtc_mx_reason_from_name(const char *s) {
    for (size_t i = 0; s && i < sizeof reason_names / sizeof reason_names[0]; i++)
        if (strcmp(s, reason_names[i].name) == 0) return reason_names[i].r;
    return MXRTC_MX_REASON_UNKNOWN_ERROR;
}

/* ---- parsing helpers ------------------------------------------------------ */

typedef struct pctx {
    const char *reason;
    int err;
} pctx;

static int fail(pctx *p, int err, const char *why) {
    if (!p->err) {
        p->err = err;
        p->reason = why;
    }
    return err;
}

static const cJSON *field(const cJSON *obj, const char *name) {
    return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* Printable ASCII, 1..max bytes: VoIP IDs (spec: 1-255 characters). */
static int copy_id(pctx *p, char *dst, const cJSON *v, const char *what_missing,
                   const char *what_bad) {
    if (!v) return fail(p, MXRTC_ERR_MALFORMED, what_missing);
    if (!cJSON_IsString(v) || !v->valuestring) return fail(p, MXRTC_ERR_MALFORMED, what_bad);
    size_t n = strlen(v->valuestring);
    if (n == 0) return fail(p, MXRTC_ERR_MALFORMED, what_bad);
    if (n > MXRTC_MX_ID_MAX) return fail(p, MXRTC_ERR_LIMIT, what_bad);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v->valuestring[i];
        if (c < 0x21 || c > 0x7e) return fail(p, MXRTC_ERR_MALFORMED, what_bad);
    }
    memcpy(dst, v->valuestring, n + 1);
    return MXRTC_OK;
}

/* A JSON integer in [0, max] (cJSON keeps numbers as doubles). */
static int get_uint(const cJSON *v, double max, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return -1;
    double d = v->valuedouble;
    if (!(d >= 0.0) || d > max || floor(d) != d) return -1;
    *out = (uint64_t)d;
    return 0;
}

#define JSON_INT_MAX 9007199254740992.0   /* 2^53: integers JSON keeps exactly */

static int parse_version(pctx *p, mxrtc_mx_event *ev, const cJSON *root) {
    const cJSON *v = field(root, "version");
    if (!v) return fail(p, MXRTC_ERR_MALFORMED, "version missing");
    if (cJSON_IsNumber(v)) {
        uint64_t n;
        if (get_uint(v, JSON_INT_MAX, &n) != 0)
            return fail(p, MXRTC_ERR_MALFORMED, "version is not a non-negative integer");
        ev->version = n == 0 ? 0 : 1;
        ev->version_known = n <= 1;
        return MXRTC_OK;
    }
    if (!cJSON_IsString(v) || !v->valuestring) return fail(p, MXRTC_ERR_MALFORMED, "version is not a string");
    size_t n = strlen(v->valuestring);
    if (n == 0 || n > 64) return fail(p, MXRTC_ERR_MALFORMED, "version string empty or too long");
    if (strcmp(v->valuestring, "0") == 0) {
        ev->version = 0;
        ev->version_known = true;
    } else {
        /* "1", or an experimental version (spec: a string so that
         * non-integer versions can exist): understood as version 1. */
        ev->version = 1;
        ev->version_known = strcmp(v->valuestring, "1") == 0;
    }
    return MXRTC_OK;
}

static int parse_sdp(pctx *p, mxrtc_mx_event *ev, const cJSON *desc, const char *name,
                     bool offer_ok, bool answer_ok) {
    (void)name;
    if (!desc) return fail(p, MXRTC_ERR_MALFORMED, "session description missing");
    if (!cJSON_IsObject(desc)) return fail(p, MXRTC_ERR_MALFORMED, "session description is not an object");
    const cJSON *t = field(desc, "type");
    if (!cJSON_IsString(t) || !t->valuestring) return fail(p, MXRTC_ERR_MALFORMED, "description type missing");
    if (offer_ok && strcmp(t->valuestring, "offer") == 0) ev->sdp_type = MXRTC_MX_SDP_OFFER;
    else if (answer_ok && strcmp(t->valuestring, "answer") == 0) ev->sdp_type = MXRTC_MX_SDP_ANSWER;
    else return fail(p, MXRTC_ERR_MALFORMED, "description type not allowed for this event");
    const cJSON *s = field(desc, "sdp");
    if (!cJSON_IsString(s) || !s->valuestring) return fail(p, MXRTC_ERR_MALFORMED, "sdp missing or not a string");
    size_t n = strlen(s->valuestring);
    if (n == 0) return fail(p, MXRTC_ERR_MALFORMED, "sdp empty");
    if (n > MXRTC_MX_SDP_MAX) return fail(p, MXRTC_ERR_LIMIT, "sdp longer than 64 KiB");
    memcpy(ev->sdp, s->valuestring, n + 1);
    ev->sdp_len = n;
    return MXRTC_OK;
}

static int parse_lifetime(pctx *p, mxrtc_mx_event *ev, const cJSON *root) {
    const cJSON *v = field(root, "lifetime");
    if (!v) return fail(p, MXRTC_ERR_MALFORMED, "lifetime missing");
    if (get_uint(v, JSON_INT_MAX, &ev->lifetime_ms) != 0)
        return fail(p, MXRTC_ERR_MALFORMED, "lifetime is not a non-negative integer");
    ev->has_lifetime = true;
    return MXRTC_OK;
}

static int parse_metadata(pctx *p, mxrtc_mx_event *ev, const cJSON *root, bool required) {
    const cJSON *m = field(root, META_KEY);
    if (!m) m = field(root, META_KEY_UNSTABLE);
    if (!m) return required ? fail(p, MXRTC_ERR_MALFORMED, "sdp_stream_metadata missing") : MXRTC_OK;
    if (!cJSON_IsObject(m)) return fail(p, MXRTC_ERR_MALFORMED, "sdp_stream_metadata is not an object");
    const cJSON *s;
    cJSON_ArrayForEach(s, m) {
        if (ev->metadata.count >= MXRTC_MX_STREAMS_MAX)
            return fail(p, MXRTC_ERR_LIMIT, "too many streams in sdp_stream_metadata");
        mxrtc_mx_stream *st = &ev->metadata.streams[ev->metadata.count];
        if (!s->string) return fail(p, MXRTC_ERR_MALFORMED, "stream id missing");
        size_t n = strlen(s->string);
        if (n == 0) return fail(p, MXRTC_ERR_MALFORMED, "empty stream id");
        if (n > MXRTC_MX_ID_MAX) return fail(p, MXRTC_ERR_LIMIT, "stream id longer than 255 bytes");
        memcpy(st->id, s->string, n + 1);
        if (!cJSON_IsObject(s)) return fail(p, MXRTC_ERR_MALFORMED, "stream metadata is not an object");
        const cJSON *pu = field(s, "purpose");
        if (!cJSON_IsString(pu) || !pu->valuestring)
            return fail(p, MXRTC_ERR_MALFORMED, "stream purpose missing or not a string");
        if (strcmp(pu->valuestring, "m.usermedia") == 0) st->purpose = MXRTC_MX_PURPOSE_USERMEDIA;
        else if (strcmp(pu->valuestring, "m.screenshare") == 0) st->purpose = MXRTC_MX_PURPOSE_SCREENSHARE;
        else st->purpose = MXRTC_MX_PURPOSE_OTHER;
        const cJSON *am = field(s, "audio_muted"), *vm = field(s, "video_muted");
        if (am && !cJSON_IsBool(am)) return fail(p, MXRTC_ERR_MALFORMED, "audio_muted is not a boolean");
        if (vm && !cJSON_IsBool(vm)) return fail(p, MXRTC_ERR_MALFORMED, "video_muted is not a boolean");
        st->audio_muted = am && cJSON_IsTrue(am);
        st->video_muted = vm && cJSON_IsTrue(vm);
        ev->metadata.count++;
    }
    ev->metadata.present = true;
    return MXRTC_OK;
}

static int parse_candidates(pctx *p, mxrtc_mx_event *ev, const cJSON *root) {
    const cJSON *arr = field(root, "candidates");
    if (!arr) return fail(p, MXRTC_ERR_MALFORMED, "candidates missing");
    if (!cJSON_IsArray(arr)) return fail(p, MXRTC_ERR_MALFORMED, "candidates is not an array");
    if (cJSON_GetArraySize(arr) > MXRTC_MX_CANDIDATES_MAX + 1)
        return fail(p, MXRTC_ERR_LIMIT, "too many candidates in one event");
    const cJSON *c;
    cJSON_ArrayForEach(c, arr) {
        if (!cJSON_IsObject(c)) return fail(p, MXRTC_ERR_MALFORMED, "candidate is not an object");
        const cJSON *s = field(c, "candidate");
        if (!cJSON_IsString(s) || !s->valuestring)
            return fail(p, MXRTC_ERR_MALFORMED, "candidate string missing");
        size_t n = strlen(s->valuestring);
        if (n == 0) {
            /* MSC2746: an empty candidate signals the end of candidates. */
            ev->end_of_candidates = true;
            continue;
        }
        if (ev->end_of_candidates)
            return fail(p, MXRTC_ERR_MALFORMED, "candidate after end-of-candidates");
        if (ev->candidate_count >= MXRTC_MX_CANDIDATES_MAX)
            return fail(p, MXRTC_ERR_LIMIT, "too many candidates in one event");
        if (n > MXRTC_MX_CANDIDATE_MAX) return fail(p, MXRTC_ERR_LIMIT, "candidate longer than 512 bytes");
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)s->valuestring[i];
            if (ch < 0x20 || ch == 0x7f) return fail(p, MXRTC_ERR_MALFORMED, "control character in candidate");
        }
        mxrtc_mx_candidate *out = &ev->candidates[ev->candidate_count];
        memcpy(out->candidate, s->valuestring, n + 1);
        out->sdp_mline_index = -1;
        const cJSON *mid = field(c, "sdpMid");
        if (mid && !cJSON_IsNull(mid)) {
            if (!cJSON_IsString(mid) || !mid->valuestring)
                return fail(p, MXRTC_ERR_MALFORMED, "sdpMid is not a string");
            size_t m = strlen(mid->valuestring);
            if (m > MXRTC_MX_MID_MAX) return fail(p, MXRTC_ERR_LIMIT, "sdpMid longer than 64 bytes");
            for (size_t i = 0; i < m; i++) {
                unsigned char ch = (unsigned char)mid->valuestring[i];
                if (ch < 0x21 || ch > 0x7e) return fail(p, MXRTC_ERR_MALFORMED, "bad character in sdpMid");
            }
            memcpy(out->sdp_mid, mid->valuestring, m + 1);
            out->has_mid = true;
        }
        const cJSON *idx = field(c, "sdpMLineIndex");
        if (idx && !cJSON_IsNull(idx)) {
            uint64_t v;
            if (get_uint(idx, 65535.0, &v) != 0)
                return fail(p, MXRTC_ERR_MALFORMED, "sdpMLineIndex is not an integer 0..65535");
            out->sdp_mline_index = (int32_t)v;
        }
        /* W3C addIceCandidate: a candidate needs sdpMid or sdpMLineIndex. */
        if (!out->has_mid && out->sdp_mline_index < 0)
            return fail(p, MXRTC_ERR_MALFORMED, "candidate without sdpMid or sdpMLineIndex");
        ev->candidate_count++;
    }
    return MXRTC_OK;
}

static int parse_body(pctx *p, mxrtc_mx_event *ev, const cJSON *root) {
    if (copy_id(p, ev->call_id, field(root, "call_id"), "call_id missing", "call_id invalid")) return p->err;
    if (parse_version(p, ev, root)) return p->err;
    const cJSON *party = field(root, "party_id");
    if (ev->version >= 1) {
        if (copy_id(p, ev->party_id, party, "party_id missing in a version 1 event", "party_id invalid"))
            return p->err;
        ev->has_party_id = true;
    }
    /* version 0: party_id ignored even if present (as Element does), so
     * that a peer mixing versions is treated consistently. */

    switch (ev->type) {
    case MXRTC_MX_INVITE: {
        if (parse_lifetime(p, ev, root)) return p->err;
        if (parse_sdp(p, ev, field(root, "offer"), "offer", true, false)) return p->err;
        const cJSON *inv = field(root, "invitee");
        if (inv && !cJSON_IsNull(inv)) {
            if (copy_id(p, ev->invitee, inv, "invitee missing", "invitee invalid")) return p->err;
            if (ev->invitee[0] != '@') return fail(p, MXRTC_ERR_MALFORMED, "invitee is not a user ID");
            ev->has_invitee = true;
        }
        return parse_metadata(p, ev, root, false);
    }
    case MXRTC_MX_ANSWER:
        if (parse_sdp(p, ev, field(root, "answer"), "answer", false, true)) return p->err;
        return parse_metadata(p, ev, root, false);
    case MXRTC_MX_NEGOTIATE:
        if (parse_lifetime(p, ev, root)) return p->err;
        if (parse_sdp(p, ev, field(root, "description"), "description", true, true)) return p->err;
        return parse_metadata(p, ev, root, false);
    case MXRTC_MX_CANDIDATES:
        return parse_candidates(p, ev, root);
    case MXRTC_MX_SELECT_ANSWER:
        return copy_id(p, ev->selected_party_id, field(root, "selected_party_id"),
                       "selected_party_id missing", "selected_party_id invalid");
    case MXRTC_MX_REJECT:
        return MXRTC_OK;
    case MXRTC_MX_HANGUP: {
        const cJSON *r = field(root, "reason");
        ev->reason = MXRTC_MX_REASON_USER_HANGUP;
        if (r && !cJSON_IsNull(r)) {
            if (!cJSON_IsString(r) || !r->valuestring)
                return fail(p, MXRTC_ERR_MALFORMED, "hangup reason is not a string");
            size_t n = strlen(r->valuestring);
            if (n > MXRTC_MX_REASON_TEXT_MAX) n = MXRTC_MX_REASON_TEXT_MAX;
            memcpy(ev->reason_text, r->valuestring, n);
            ev->reason_text[n] = 0;
            ev->reason = mxrtc_mx_reason_from_name(r->valuestring);
            ev->has_reason = true;
        }
        return MXRTC_OK;
    }
    case MXRTC_MX_METADATA_CHANGED:
        return parse_metadata(p, ev, root, true);
    default:
        return fail(p, MXRTC_ERR_INVALID_ARGUMENT, "not a call event type");
    }
}

int mxrtc_mx_event_parse(mxrtc_mx_event *out, mxrtc_mx_type type, const char *json, size_t len,
                         const char **reason) {
    if (reason) *reason = "invalid argument";
    if (!out || !json || type <= MXRTC_MX_NONE || type > MXRTC_MX_METADATA_CHANGED)
        return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    out->type = type;
    pctx p = {NULL, 0};
    if (len > MXRTC_MX_CONTENT_MAX) {
        if (reason) *reason = "event content larger than 256 KiB";
        return MXRTC_ERR_LIMIT;
    }
    /* An embedded NUL would let cJSON stop early and accept a prefix. */
    if (memchr(json, 0, len)) {
        if (reason) *reason = "NUL byte in event content";
        return MXRTC_ERR_MALFORMED;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        if (reason) *reason = "content is not valid JSON";
        return MXRTC_ERR_MALFORMED;
    }
    int rc;
    /* cJSON stops after the first value: reject trailing garbage. */
    while (end && end < json + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')) end++;
    if (end && end != json + len) rc = fail(&p, MXRTC_ERR_MALFORMED, "trailing data after the JSON object");
    else if (!cJSON_IsObject(root)) rc = fail(&p, MXRTC_ERR_MALFORMED, "content is not a JSON object");
    else rc = parse_body(&p, out, root);
    cJSON_Delete(root);
    if (rc != MXRTC_OK) {
        memset(out, 0, sizeof *out);
        out->type = type;
        if (reason) *reason = p.reason ? p.reason : "invalid event";
        return rc;
    }
    if (reason) *reason = NULL;
    return MXRTC_OK;
}

/* ---- serialising ---------------------------------------------------------- */

static cJSON *metadata_json(const mxrtc_mx_metadata *m) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    for (uint32_t i = 0; i < m->count && i < MXRTC_MX_STREAMS_MAX; i++) {
        const mxrtc_mx_stream *s = &m->streams[i];
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToObject(o, s->id, e)) {
            cJSON_Delete(e);
            cJSON_Delete(o);
            return NULL;
        }
        const char *pur = s->purpose == MXRTC_MX_PURPOSE_SCREENSHARE ? "m.screenshare" : "m.usermedia";
        if (!cJSON_AddStringToObject(e, "purpose", pur) ||
            !cJSON_AddBoolToObject(e, "audio_muted", s->audio_muted) ||
            !cJSON_AddBoolToObject(e, "video_muted", s->video_muted)) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

static bool add_desc(cJSON *root, const char *key, const char *type, const char *sdp) {
    cJSON *d = cJSON_AddObjectToObject(root, key);
    return d && cJSON_AddStringToObject(d, "type", type) && cJSON_AddStringToObject(d, "sdp", sdp);
}

int mxrtc_mx_event_serialize(const mxrtc_mx_outgoing *ev, const mxrtc_allocator *alloc,
                             char **out, size_t *len_out) {
    if (!ev || !out || !ev->call_id || !ev->party_id) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    bool needs_sdp = ev->type == MXRTC_MX_INVITE || ev->type == MXRTC_MX_ANSWER || ev->type == MXRTC_MX_NEGOTIATE;
    if (needs_sdp && !ev->sdp) return MXRTC_ERR_INVALID_ARGUMENT;
    if (ev->type == MXRTC_MX_SELECT_ANSWER && !ev->selected_party_id) return MXRTC_ERR_INVALID_ARGUMENT;
    if (ev->type == MXRTC_MX_METADATA_CHANGED && !ev->metadata) return MXRTC_ERR_INVALID_ARGUMENT;
    if (ev->type == MXRTC_MX_NEGOTIATE && ev->sdp_type == MXRTC_MX_SDP_NONE) return MXRTC_ERR_INVALID_ARGUMENT;
    if (ev->type <= MXRTC_MX_NONE || ev->type > MXRTC_MX_METADATA_CHANGED) return MXRTC_ERR_INVALID_ARGUMENT;

    cJSON *root = cJSON_CreateObject();
    bool ok = root && cJSON_AddStringToObject(root, "call_id", ev->call_id) &&
              cJSON_AddStringToObject(root, "party_id", ev->party_id) &&
              cJSON_AddStringToObject(root, "version", "1");
    switch (ev->type) {
    case MXRTC_MX_INVITE:
        ok = ok && cJSON_AddNumberToObject(root, "lifetime", (double)ev->lifetime_ms) &&
             add_desc(root, "offer", "offer", ev->sdp);
        if (ok && ev->invitee) ok = cJSON_AddStringToObject(root, "invitee", ev->invitee) != NULL;
        break;
    case MXRTC_MX_ANSWER:
        ok = ok && add_desc(root, "answer", "answer", ev->sdp);
        break;
    case MXRTC_MX_NEGOTIATE:
        ok = ok && cJSON_AddNumberToObject(root, "lifetime", (double)ev->lifetime_ms) &&
             add_desc(root, "description", ev->sdp_type == MXRTC_MX_SDP_OFFER ? "offer" : "answer", ev->sdp);
        break;
    case MXRTC_MX_CANDIDATES: {
        cJSON *arr = ok ? cJSON_AddArrayToObject(root, "candidates") : NULL;
        ok = arr != NULL;
        for (uint32_t i = 0; ok && i < ev->candidate_count; i++) {
            const mxrtc_mx_candidate *c = &ev->candidates[i];
            cJSON *o = cJSON_CreateObject();
            ok = o && cJSON_AddItemToArray(arr, o) && cJSON_AddStringToObject(o, "candidate", c->candidate);
            if (ok && c->has_mid) ok = cJSON_AddStringToObject(o, "sdpMid", c->sdp_mid) != NULL;
            if (ok && c->sdp_mline_index >= 0)
                ok = cJSON_AddNumberToObject(o, "sdpMLineIndex", c->sdp_mline_index) != NULL;
        }
        if (ok && ev->end_of_candidates) {
            /* As Element sends it: a candidate object with an empty string. */
            cJSON *o = cJSON_CreateObject();
            ok = o && cJSON_AddItemToArray(arr, o) && cJSON_AddStringToObject(o, "candidate", "");
        }
        break;
    }
    case MXRTC_MX_SELECT_ANSWER:
        ok = ok && cJSON_AddStringToObject(root, "selected_party_id", ev->selected_party_id);
        break;
    case MXRTC_MX_HANGUP:
        if (ok && ev->reason != MXRTC_MX_REASON_NONE)
            ok = cJSON_AddStringToObject(root, "reason", mxrtc_mx_reason_name(ev->reason)) != NULL;
        break;
    default:
        break;
    }
    if (ok && ev->metadata && ev->type != MXRTC_MX_CANDIDATES && ev->type != MXRTC_MX_HANGUP &&
        ev->type != MXRTC_MX_REJECT && ev->type != MXRTC_MX_SELECT_ANSWER) {
        cJSON *m1 = metadata_json(ev->metadata);
        ok = m1 && cJSON_AddItemToObject(root, META_KEY, m1);
        if (!ok) cJSON_Delete(m1);
        cJSON *m2 = ok ? metadata_json(ev->metadata) : NULL;
        ok = ok && m2 && cJSON_AddItemToObject(root, META_KEY_UNSTABLE, m2);
        if (!ok) cJSON_Delete(m2);
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) return MXRTC_ERR_NO_MEMORY;
    size_t n = strlen(text);
    char *copy = mxrtc_malloc(alloc, n + 1);
    if (copy) memcpy(copy, text, n + 1);
    cJSON_free(text);
    if (!copy) return MXRTC_ERR_NO_MEMORY;
    *out = copy;
    if (len_out) *len_out = n;
    return MXRTC_OK;
}
