/*
 * client.c: the Matrix client-server API calls (spec v1.19, /_matrix/client/v3)
 * over the mxrtc_mxc_http interface, with retries.
 *
 * Retries: a 429 M_LIMIT_EXCEEDED waits Retry-After / retry_after_ms (spec
 * "Rate limiting", capped by backoff_max_ms) and is retried for every request, since the server
 * did not act on it; 5xx answers and transport failures are retried with
 * exponential backoff only for idempotent requests (GET, PUT with a
 * transaction id, join), so a retry never creates a second room.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "base/alloc.h"
#include "base/log.h"
#include "tools/matrix_client/matrix_client.h"

#define MOD "mxc"
#define URL_MAX 4096

struct mxrtc_mxc {
    char homeserver[MXRTC_MXC_ID_MAX];
    mxrtc_mxc_http http;
    const mxrtc_logger *lg;
    uint32_t max_retries, backoff_ms, backoff_max_ms;
    char token[MXRTC_MXC_TOKEN_MAX];
    char user_id[MXRTC_MXC_ID_MAX];
    char device_id[MXRTC_MXC_ID_MAX];
    char txn_prefix[48];
    uint64_t txn_counter;
};

int mxrtc_mxc_new(const mxrtc_mxc_config *cfg, mxrtc_mxc **out) {
    if (!cfg || !out || !cfg->homeserver || !cfg->http.perform || !cfg->http.sleep_ms)
        return MXRTC_ERR_INVALID_ARGUMENT;
    size_t n = strlen(cfg->homeserver);
    while (n && cfg->homeserver[n - 1] == '/')
        n--;
    if (n == 0 || n >= MXRTC_MXC_ID_MAX ||
        (strncmp(cfg->homeserver, "http://", 7) != 0 && strncmp(cfg->homeserver, "https://", 8) != 0))
        return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_mxc *c = calloc(1, sizeof *c);
    if (!c)
        return MXRTC_ERR_NO_MEMORY;
    memcpy(c->homeserver, cfg->homeserver, n);
    c->http = cfg->http;
    c->lg = cfg->logger;
    c->max_retries = cfg->max_retries ? cfg->max_retries : 5;
    c->backoff_ms = cfg->backoff_ms ? cfg->backoff_ms : 500;
    c->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : 30000;
    /* Transaction ids are scoped to the access token (spec "Transaction
     * identifiers"), which outlives this process: the prefix makes a new run's
     * ids differ from an earlier run's with the same token. */
    /* The object count keeps the prefixes of two clients made in the same
     * second by one process apart (mxrtc_mxc_share_session). */
    static unsigned objects;
    unsigned serial = __atomic_fetch_add(&objects, 1, __ATOMIC_RELAXED);
    snprintf(c->txn_prefix, sizeof c->txn_prefix, "mxrtc%lld.%ld.%u", (long long)time(NULL), (long)getpid(), serial);
    *out = c;
    return MXRTC_OK;
}

void mxrtc_mxc_free(mxrtc_mxc *c) {
    if (!c)
        return;
    mxrtc_wipe(c, sizeof *c);
    free(c);
}

static int copy_bounded(char *dst, size_t cap, const char *src) {
    size_t n = strlen(src);
    if (n >= cap)
        return MXRTC_ERR_LIMIT;
    memcpy(dst, src, n + 1);
    return MXRTC_OK;
}

int mxrtc_mxc_set_token(mxrtc_mxc *c, const char *access_token) {
    if (!c || !access_token || !*access_token)
        return MXRTC_ERR_INVALID_ARGUMENT;
    return copy_bounded(c->token, sizeof c->token, access_token);
}

int mxrtc_mxc_share_session(mxrtc_mxc *dst, const mxrtc_mxc *src) {
    if (!dst || !src || dst == src)
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (!src->token[0])
        return MXRTC_ERR_STATE;
    memcpy(dst->token, src->token, sizeof dst->token);
    memcpy(dst->user_id, src->user_id, sizeof dst->user_id);
    memcpy(dst->device_id, src->device_id, sizeof dst->device_id);
    return MXRTC_OK;
}

const char *mxrtc_mxc_user_id(const mxrtc_mxc *c) { return c ? c->user_id : ""; }
const char *mxrtc_mxc_device_id(const mxrtc_mxc *c) { return c ? c->device_id : ""; }

/* Percent-encodes one path segment or query value (RFC 3986 §2.3: only
 * unreserved characters pass). */
static int append_escaped(char *url, size_t cap, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(url);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        int plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                    ch == '-' || ch == '.' || ch == '_' || ch == '~';
        if (n + (plain ? 1 : 3) >= cap)
            return MXRTC_ERR_LIMIT;
        if (plain) {
            url[n++] = (char)ch;
        } else {
            url[n++] = '%';
            url[n++] = hex[ch >> 4];
            url[n++] = hex[ch & 15];
        }
    }
    url[n] = 0;
    return MXRTC_OK;
}

static int append_raw(char *url, size_t cap, const char *s) {
    size_t n = strlen(url), m = strlen(s);
    if (n + m >= cap)
        return MXRTC_ERR_LIMIT;
    memcpy(url + n, s, m + 1);
    return MXRTC_OK;
}

/* Builds base + "/_matrix/client/v3" + parts: parts alternate raw text and
 * escaped values, NULL-terminated: raw, value, raw, value, ... */
static int build_url(const mxrtc_mxc *c, char url[URL_MAX], const char *const *parts) {
    url[0] = 0;
    int rc = append_raw(url, URL_MAX, c->homeserver);
    if (rc == MXRTC_OK)
        rc = append_raw(url, URL_MAX, "/_matrix/client/v3");
    for (size_t i = 0; rc == MXRTC_OK && parts[i]; i++)
        rc = (i % 2 == 0) ? append_raw(url, URL_MAX, parts[i]) : append_escaped(url, URL_MAX, parts[i]);
    return rc;
}

static void resp_free(mxrtc_mxc_http_response *r) {
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

/* How long a 429 asks us to wait, or -1. Spec v1.19 "Rate limiting": the
 * Retry-After header (seconds) is preferred; retry_after_ms in the body is its
 * deprecated form, still sent by Synapse. */
static int64_t retry_after(const mxrtc_mxc_http_response *r) {
    if (r->has_retry_after)
        return (int64_t)r->retry_after_s * 1000;
    if (!r->body)
        return -1;
    cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
    int64_t v = -1;
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, "retry_after_ms");
    if (cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble < 86400000.0)
        v = (int64_t)it->valuedouble;
    cJSON_Delete(j);
    return v;
}

/* Logs the errcode of an error body (the server's words, no secrets). */
static void log_error(const mxrtc_mxc *c, const char *what, const mxrtc_mxc_http_response *r) {
    if (!mxrtc_log_enabled(c->lg, MXRTC_LOG_WARN))
        return;
    cJSON *j = r->body ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "errcode");
    MXRTC_LOGW(c->lg, MOD, "%s: HTTP %ld %.64s", what, r->status,
               cJSON_IsString(e) && e->valuestring ? e->valuestring : "");
    cJSON_Delete(j);
}

/* One API call with retries. On MXRTC_OK *json is the parsed object body of a
 * 2xx answer (caller deletes). what: a log label without secrets. */
static int call_raw(mxrtc_mxc *c, const char *what, const char *method, const char *url, const char *body,
                    int auth, int idempotent, long timeout_ms, cJSON **json, mxrtc_mxc_http_response *raw) {
    mxrtc_mxc_http_request req = {
        .method = method, .url = url, .body = body, .body_len = body ? strlen(body) : 0,
        .access_token = auth && c->token[0] ? c->token : NULL, .timeout_ms = timeout_ms,
    };
    mxrtc_mxc_http_response r;
    uint32_t backoff = c->backoff_ms;
    *json = NULL;
    for (uint32_t attempt = 0;; attempt++) {
        memset(&r, 0, sizeof r);
        int rc = c->http.perform(c->http.ctx, &req, &r);
        int last = attempt >= c->max_retries;
        int64_t wait = -1;
        if (rc == MXRTC_ERR_IO || rc == MXRTC_ERR_TIMEOUT) {
            MXRTC_LOGW(c->lg, MOD, "%s: no response (%s)", what, mxrtc_strerror(rc));
            if (!idempotent || last) {
                resp_free(&r);
                return rc;
            }
            wait = backoff;
        } else if (rc != MXRTC_OK) {
            resp_free(&r);
            return rc;
        } else if (r.status == 429) {
            log_error(c, what, &r);
            if (last) {
                resp_free(&r);
                return MXRTC_ERR_REMOTE;
            }
            wait = retry_after(&r);
            if (wait < 0)
                wait = backoff;
        } else if (r.status >= 500 && r.status <= 599) {
            log_error(c, what, &r);
            if (!idempotent || last) {
                resp_free(&r);
                return MXRTC_ERR_REMOTE;
            }
            wait = backoff;
        } else {
            break;
        }
        resp_free(&r);
        if (wait > c->backoff_max_ms)
            wait = c->backoff_max_ms;
        MXRTC_LOGI(c->lg, MOD, "%s: retry %u in %lld ms", what, attempt + 1, (long long)wait);
        c->http.sleep_ms(c->http.ctx, (uint32_t)wait);
        backoff = backoff > c->backoff_max_ms / 2 ? c->backoff_max_ms : backoff * 2;
    }
    if (r.status < 200 || r.status > 299) {
        log_error(c, what, &r);
        int rc = (r.status == 401 || r.status == 403) ? MXRTC_ERR_AUTH : MXRTC_ERR_REMOTE;
        resp_free(&r);
        return rc;
    }
    if (r.body_len > MXRTC_MXC_MAX_BODY) {
        resp_free(&r);
        return MXRTC_ERR_LIMIT;
    }
    if (raw) {   /* the caller parses the body itself */
        *raw = r;
        return MXRTC_OK;
    }
    cJSON *j = r.body ? cJSON_ParseWithLength(r.body, r.body_len) : NULL;
    if (r.body)
        mxrtc_wipe(r.body, r.body_len);   /* login and turnServer bodies hold secrets */
    resp_free(&r);
    if (!cJSON_IsObject(j)) {
        MXRTC_LOGW(c->lg, MOD, "%s: response is not a JSON object", what);
        cJSON_Delete(j);
        return MXRTC_ERR_MALFORMED;
    }
    MXRTC_LOGD(c->lg, MOD, "%s: ok", what);
    *json = j;
    return MXRTC_OK;
}

static int call(mxrtc_mxc *c, const char *what, const char *method, const char *url, const char *body,
                int auth, int idempotent, long timeout_ms, cJSON **json) {
    return call_raw(c, what, method, url, body, auth, idempotent, timeout_ms, json, NULL);
}

/* Copies a required string member into dst. */
static int take_str(const cJSON *j, const char *name, char *dst, size_t cap) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(j, name);
    if (!cJSON_IsString(it) || !it->valuestring || !it->valuestring[0])
        return MXRTC_ERR_MALFORMED;
    return copy_bounded(dst, cap, it->valuestring);
}

int mxrtc_mxc_login_password(mxrtc_mxc *c, const char *user, const char *password) {
    if (!c || !user || !*user || !password)
        return MXRTC_ERR_INVALID_ARGUMENT;
    char url[URL_MAX];
    const char *parts[] = {"/login", NULL};
    int rc = build_url(c, url, parts);
    if (rc != MXRTC_OK)
        return rc;
    cJSON *req = cJSON_CreateObject();
    cJSON *id = cJSON_AddObjectToObject(req, "identifier");
    if (!req || !id || !cJSON_AddStringToObject(req, "type", "m.login.password") ||
        !cJSON_AddStringToObject(id, "type", "m.id.user") || !cJSON_AddStringToObject(id, "user", user) ||
        !cJSON_AddStringToObject(req, "password", password) ||
        !cJSON_AddStringToObject(req, "initial_device_display_name", "mxrtc")) {
        cJSON_Delete(req);
        return MXRTC_ERR_NO_MEMORY;
    }
    char *body = cJSON_PrintUnformatted(req);
    cJSON *pw = cJSON_GetObjectItemCaseSensitive(req, "password");
    if (cJSON_IsString(pw) && pw->valuestring)
        mxrtc_wipe(pw->valuestring, strlen(pw->valuestring));
    cJSON_Delete(req);
    if (!body)
        return MXRTC_ERR_NO_MEMORY;
    cJSON *j;
    rc = call(c, "login", "POST", url, body, 0, 0, 30000, &j);
    mxrtc_wipe(body, strlen(body));
    cJSON_free(body);
    if (rc != MXRTC_OK)
        return rc;
    char token[MXRTC_MXC_TOKEN_MAX];
    if ((rc = take_str(j, "access_token", token, sizeof token)) == MXRTC_OK &&
        (rc = take_str(j, "user_id", c->user_id, sizeof c->user_id)) == MXRTC_OK) {
        memcpy(c->token, token, sizeof token);
        if (take_str(j, "device_id", c->device_id, sizeof c->device_id) != MXRTC_OK)
            c->device_id[0] = 0;
    }
    mxrtc_wipe(token, sizeof token);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "access_token");
    if (cJSON_IsString(t) && t->valuestring)
        mxrtc_wipe(t->valuestring, strlen(t->valuestring));
    cJSON_Delete(j);
    if (rc == MXRTC_OK)
        MXRTC_LOGI(c->lg, MOD, "logged in (device %s)", c->device_id);
    return rc;
}

int mxrtc_mxc_whoami(mxrtc_mxc *c) {
    if (!c || !c->token[0])
        return MXRTC_ERR_STATE;
    char url[URL_MAX];
    const char *parts[] = {"/account/whoami", NULL};
    int rc = build_url(c, url, parts);
    cJSON *j;
    if (rc != MXRTC_OK || (rc = call(c, "whoami", "GET", url, NULL, 1, 1, 30000, &j)) != MXRTC_OK)
        return rc;
    rc = take_str(j, "user_id", c->user_id, sizeof c->user_id);
    if (rc == MXRTC_OK && cJSON_GetObjectItemCaseSensitive(j, "device_id") &&
        take_str(j, "device_id", c->device_id, sizeof c->device_id) != MXRTC_OK)
        rc = MXRTC_ERR_MALFORMED;
    cJSON_Delete(j);
    return rc;
}

int mxrtc_mxc_create_room(mxrtc_mxc *c, const char *const *invite, size_t n_invite,
                          char room_id_out[MXRTC_MXC_ID_MAX]) {
    if (!c || !room_id_out || (n_invite && !invite))
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (!c->token[0])
        return MXRTC_ERR_STATE;
    char url[URL_MAX];
    const char *parts[] = {"/createRoom", NULL};
    int rc = build_url(c, url, parts);
    if (rc != MXRTC_OK)
        return rc;
    /* private_chat: invite-only, no m.room.encryption in initial_state, so
     * the call events travel in clear (the call layer reads them). */
    cJSON *req = cJSON_CreateObject();
    cJSON *inv = cJSON_AddArrayToObject(req, "invite");
    if (!req || !inv || !cJSON_AddStringToObject(req, "preset", "private_chat") ||
        !cJSON_AddStringToObject(req, "name", "mxrtc test") || !cJSON_AddBoolToObject(req, "is_direct", 1)) {
        cJSON_Delete(req);
        return MXRTC_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < n_invite; i++) {
        cJSON *s = invite[i] ? cJSON_CreateString(invite[i]) : NULL;
        if (!s || !cJSON_AddItemToArray(inv, s)) {
            cJSON_Delete(s);
            cJSON_Delete(req);
            return invite[i] ? MXRTC_ERR_NO_MEMORY : MXRTC_ERR_INVALID_ARGUMENT;
        }
    }
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (!body)
        return MXRTC_ERR_NO_MEMORY;
    cJSON *j;
    rc = call(c, "createRoom", "POST", url, body, 1, 0, 30000, &j);
    cJSON_free(body);
    if (rc != MXRTC_OK)
        return rc;
    rc = take_str(j, "room_id", room_id_out, MXRTC_MXC_ID_MAX);
    cJSON_Delete(j);
    return rc;
}

int mxrtc_mxc_join(mxrtc_mxc *c, const char *room) {
    if (!c || !room || !*room)
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (!c->token[0])
        return MXRTC_ERR_STATE;
    char url[URL_MAX];
    const char *parts[] = {"/join/", room, NULL};
    int rc = build_url(c, url, parts);
    cJSON *j;
    if (rc != MXRTC_OK || (rc = call(c, "join", "POST", url, "{}", 1, 1, 30000, &j)) != MXRTC_OK)
        return rc;
    char id[MXRTC_MXC_ID_MAX];
    rc = take_str(j, "room_id", id, sizeof id);
    cJSON_Delete(j);
    return rc;
}

int mxrtc_mxc_invite(mxrtc_mxc *c, const char *room_id, const char *user_id) {
    if (!c || !room_id || !*room_id || !user_id || !*user_id)
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (!c->token[0])
        return MXRTC_ERR_STATE;
    char url[URL_MAX];
    const char *parts[] = {"/rooms/", room_id, "/invite", NULL};
    int rc = build_url(c, url, parts);
    if (rc != MXRTC_OK)
        return rc;
    cJSON *req = cJSON_CreateObject();
    if (!req || !cJSON_AddStringToObject(req, "user_id", user_id)) {
        cJSON_Delete(req);
        return MXRTC_ERR_NO_MEMORY;
    }
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (!body)
        return MXRTC_ERR_NO_MEMORY;
    cJSON *j;
    rc = call(c, "invite", "POST", url, body, 1, 0, 30000, &j);
    cJSON_free(body);
    cJSON_Delete(j);
    return rc;
}

int mxrtc_mxc_send_event(mxrtc_mxc *c, const char *room_id, const char *type,
                         const char *content_json, char event_id_out[MXRTC_MXC_ID_MAX]) {
    if (!c || !room_id || !*room_id || !type || !*type || !content_json)
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (!c->token[0])
        return MXRTC_ERR_STATE;
    /* The content must be a JSON object (spec: event content). */
    cJSON *check = cJSON_Parse(content_json);
    int is_obj = cJSON_IsObject(check);
    cJSON_Delete(check);
    if (!is_obj)
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (strlen(content_json) > MXRTC_MXC_MAX_CONTENT)
        return MXRTC_ERR_LIMIT;
    char txn[96];
    snprintf(txn, sizeof txn, "%s.%llu", c->txn_prefix, (unsigned long long)++c->txn_counter);
    char url[URL_MAX];
    const char *parts[] = {"/rooms/", room_id, "/send/", type, "/", txn, NULL};
    int rc = build_url(c, url, parts);
    cJSON *j;
    if (rc != MXRTC_OK || (rc = call(c, type, "PUT", url, content_json, 1, 1, 30000, &j)) != MXRTC_OK)
        return rc;
    char id[MXRTC_MXC_ID_MAX];
    rc = take_str(j, "event_id", id, sizeof id);
    cJSON_Delete(j);
    if (rc == MXRTC_OK && event_id_out)
        memcpy(event_id_out, id, sizeof id);
    return rc;
}

/* Keeps call signalling and membership; drops what a call tool never reads. */
static const char sync_filter[] =
    "{\"presence\":{\"types\":[]},\"account_data\":{\"types\":[]},"
    "\"room\":{\"timeline\":{\"types\":[\"m.call.*\",\"m.room.member\"],\"limit\":100},"
    "\"state\":{\"types\":[]},\"ephemeral\":{\"types\":[]},\"account_data\":{\"types\":[]}}}";

int mxrtc_mxc_sync_poll(mxrtc_mxc *c, const char *since, uint32_t timeout_ms, mxrtc_mxc_sync *out) {
    if (!c || !out)
        return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (!c->token[0])
        return MXRTC_ERR_STATE;
    char tmo[24];
    snprintf(tmo, sizeof tmo, "%u", timeout_ms);
    char url[URL_MAX];
    const char *parts_since[] = {"/sync?timeout=", tmo, "&filter=", sync_filter, "&since=", since, NULL};
    const char *parts_first[] = {"/sync?timeout=", tmo, "&filter=", sync_filter, NULL};
    int rc = build_url(c, url, since ? parts_since : parts_first);
    if (rc != MXRTC_OK)
        return rc;
    /* The long poll plus slack for the server to answer. */
    long limit = (long)timeout_ms + 30000;
    cJSON *unused = NULL;
    mxrtc_mxc_http_response r = {0};
    if ((rc = call_raw(c, "sync", "GET", url, NULL, 1, 1, limit, &unused, &r)) != MXRTC_OK)
        return rc;
    rc = mxrtc_mxc_sync_parse(r.body ? r.body : "", r.body ? r.body_len : 0, out);
    if (rc != MXRTC_OK)
        MXRTC_LOGW(c->lg, MOD, "sync: bad response (%s)", mxrtc_strerror(rc));
    resp_free(&r);
    if (rc == MXRTC_OK)
        MXRTC_LOGD(c->lg, MOD, "sync: %zu events, %zu invites, next %s", out->n_events, out->n_invited, out->next_batch);
    return rc;
}

int mxrtc_mxc_turn_server(mxrtc_mxc *c, mxrtc_mxc_turn *out) {
    if (!c || !out)
        return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (!c->token[0])
        return MXRTC_ERR_STATE;
    char url[URL_MAX];
    const char *parts[] = {"/voip/turnServer", NULL};
    int rc = build_url(c, url, parts);
    cJSON *j;
    if (rc != MXRTC_OK || (rc = call(c, "turnServer", "GET", url, NULL, 1, 1, 30000, &j)) != MXRTC_OK)
        return rc;
    char *text = cJSON_PrintUnformatted(j);
    const cJSON *pw = cJSON_GetObjectItemCaseSensitive(j, "password");
    if (cJSON_IsString(pw) && pw->valuestring)
        mxrtc_wipe(pw->valuestring, strlen(pw->valuestring));
    cJSON_Delete(j);
    if (!text)
        return MXRTC_ERR_NO_MEMORY;
    rc = mxrtc_mxc_turn_parse(text, strlen(text), out);
    mxrtc_wipe(text, strlen(text));
    cJSON_free(text);
    return rc;
}
