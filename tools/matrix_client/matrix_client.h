/*
 * matrix_client.h: a small Matrix client-server API client for the `mxrtc`
 * command (Matrix spec v1.19, client-server API): password login or an
 * access token, whoami, /sync long-polling with a since token and a filter
 * that keeps m.call.* and membership events, joining and creating rooms,
 * sending events with transaction ids (retrying 429 and 5xx), and
 * /voip/turnServer.
 *
 * The HTTP layer is the small mxrtc_mxc_http interface below: libcurl in the
 * tool (http_curl.c), canned answers in the unit tests. Every response is
 * validated field by field; a malformed one is MXRTC_ERR_MALFORMED, never a
 * crash. Access tokens and passwords are never logged or printed.
 * Blocking, one thread; not thread-safe.
 */
#ifndef MXRTC_TOOLS_MATRIX_CLIENT_H
#define MXRTC_TOOLS_MATRIX_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"

/* Bounds: a response body, one event's content, one sync's events, ids. */
#define MXRTC_MXC_MAX_BODY (8u * 1024u * 1024u)
#define MXRTC_MXC_MAX_CONTENT (64u * 1024u)
#define MXRTC_MXC_MAX_EVENTS 512
#define MXRTC_MXC_MAX_INVITES 64
#define MXRTC_MXC_ID_MAX 256
#define MXRTC_MXC_TOKEN_MAX 512
#define MXRTC_MXC_TURN_URIS 8

/* ---- the HTTP interface --------------------------------------------------- */

typedef struct mxrtc_mxc_http_request {
    const char *method;        /* "GET", "POST", "PUT" */
    const char *url;           /* absolute */
    const char *body;          /* JSON or NULL */
    size_t body_len;
    const char *access_token;  /* sent as "Authorization: Bearer ..."; NULL for none */
    long timeout_ms;           /* whole request */
} mxrtc_mxc_http_request;

typedef struct mxrtc_mxc_http_response {
    long status;               /* HTTP status; 0 if no response */
    char *body;                /* malloc'd by the transport, NUL-terminated; freed by the client */
    size_t body_len;
    /* A Retry-After header in seconds (RFC 9110 §10.2.3; the HTTP-date form
     * is ignored): has_retry_after is 0 when there was none. */
    int has_retry_after;
    uint32_t retry_after_s;
} mxrtc_mxc_http_response;

typedef struct mxrtc_mxc_http {
    /* Performs one request. MXRTC_OK with a status (any, 4xx/5xx included),
     * MXRTC_ERR_IO / MXRTC_ERR_TIMEOUT if no response came, MXRTC_ERR_LIMIT if
     * the body exceeded MXRTC_MXC_MAX_BODY. */
    int (*perform)(void *ctx, const mxrtc_mxc_http_request *req, mxrtc_mxc_http_response *resp);
    /* Waits ms milliseconds (retry backoff); tests record instead of waiting. */
    void (*sleep_ms)(void *ctx, uint32_t ms);
    void *ctx;
} mxrtc_mxc_http;

/* libcurl transport (http_curl.c). Returns MXRTC_ERR_NO_MEMORY / MXRTC_ERR_IO
 * if curl cannot be set up; free with mxrtc_mxc_http_curl_free. */
int mxrtc_mxc_http_curl_new(mxrtc_mxc_http *out);
void mxrtc_mxc_http_curl_free(mxrtc_mxc_http *http);

/* ---- the client ----------------------------------------------------------- */

typedef struct mxrtc_mxc mxrtc_mxc;

typedef struct mxrtc_mxc_config {
    const char *homeserver;    /* "http://127.0.0.1:8008" (no trailing path) */
    mxrtc_mxc_http http;
    const mxrtc_logger *logger; /* NULL: silent */
    uint32_t max_retries;      /* 429/5xx retries per request; 0 = default 5 */
    uint32_t backoff_ms;       /* first 5xx backoff, doubled each time; 0 = default 500 */
    uint32_t backoff_max_ms;   /* cap on one wait (also on retry_after_ms); 0 = default 30000 */
} mxrtc_mxc_config;

/* Creates a client (nothing is sent). MXRTC_ERR_INVALID_ARGUMENT, NO_MEMORY. */
int mxrtc_mxc_new(const mxrtc_mxc_config *cfg, mxrtc_mxc **out);
/* Wipes the token and frees. NULL is fine. */
void mxrtc_mxc_free(mxrtc_mxc *c);

/* Uses an existing access token (copied; wiped on free). The user id is
 * learnt with mxrtc_mxc_whoami. */
int mxrtc_mxc_set_token(mxrtc_mxc *c, const char *access_token);
/* Gives dst the session of src (access token, user id, device id), for a
 * second client object on another thread (each object is single-threaded;
 * the token is copied without passing through the caller). Transaction ids
 * stay distinct per object. MXRTC_ERR_STATE if src is not logged in. */
int mxrtc_mxc_share_session(mxrtc_mxc *dst, const mxrtc_mxc *src);
/* m.login.password with a user id or localpart. On success the client holds
 * the token, user id and device id. MXRTC_ERR_AUTH on 403, MXRTC_ERR_REMOTE on
 * another error status, MXRTC_ERR_MALFORMED on a bad body. */
int mxrtc_mxc_login_password(mxrtc_mxc *c, const char *user, const char *password);
/* GET /account/whoami: fills the user id (and device id if given). */
int mxrtc_mxc_whoami(mxrtc_mxc *c);
const char *mxrtc_mxc_user_id(const mxrtc_mxc *c);   /* "" before login/whoami */
const char *mxrtc_mxc_device_id(const mxrtc_mxc *c); /* "" if unknown */

/* POST /createRoom: a private, unencrypted room (no m.room.encryption) with
 * optional invitees; room_id_out gets the id. */
int mxrtc_mxc_create_room(mxrtc_mxc *c, const char *const *invite, size_t n_invite,
                          char room_id_out[MXRTC_MXC_ID_MAX]);
/* POST /join/{roomIdOrAlias}. */
int mxrtc_mxc_join(mxrtc_mxc *c, const char *room);
/* POST /rooms/{id}/invite. */
int mxrtc_mxc_invite(mxrtc_mxc *c, const char *room_id, const char *user_id);

/* PUT /rooms/{id}/send/{type}/{txnId} with content_json (an object). The
 * transaction id is fresh per call and reused across retries, so a retried
 * request is idempotent. Retries 429 (after the Retry-After header, else the
 * body's retry_after_ms, capped) and 5xx
 * and transport errors (exponential backoff) up to max_retries.
 * event_id_out may be NULL. */
int mxrtc_mxc_send_event(mxrtc_mxc *c, const char *room_id, const char *type,
                         const char *content_json, char event_id_out[MXRTC_MXC_ID_MAX]);

/* ---- /sync ---------------------------------------------------------------- */

/* One event that the filter kept: an m.call.* or m.room.member timeline
 * event of a joined room. Strings are owned by the sync result. */
typedef struct mxrtc_mxc_event {
    const char *room_id;
    const char *type;
    const char *sender;
    const char *event_id;
    const char *state_key;     /* NULL if not a state event */
    char *content_json;        /* the content object, re-serialised compactly */
    int64_t origin_server_ts;  /* -1 if absent */
    int64_t age_ms;            /* unsigned.age, -1 if absent */
} mxrtc_mxc_event;

typedef struct mxrtc_mxc_sync {
    char *next_batch;
    mxrtc_mxc_event *events;   /* in timeline order, room by room */
    size_t n_events;
    char **invited_rooms;      /* rooms we are invited to */
    size_t n_invited;
    size_t dropped;            /* events past MXRTC_MXC_MAX_EVENTS */
} mxrtc_mxc_sync;

/* Parses a /sync response body (len bytes, need not be NUL-terminated).
 * Keeps rooms.join.*.timeline.events of type m.call.* or m.room.member and
 * the ids of rooms.invite. Every field that is used is type-checked: an event
 * missing type/sender/content, or with a wrong type, is MXRTC_ERR_MALFORMED
 * for the whole response, as is invalid JSON or a missing next_batch.
 * MXRTC_ERR_LIMIT if len > MXRTC_MXC_MAX_BODY or a content is larger than
 * MXRTC_MXC_MAX_CONTENT. On error *out is left empty. */
int mxrtc_mxc_sync_parse(const char *body, size_t len, mxrtc_mxc_sync *out);
void mxrtc_mxc_sync_clear(mxrtc_mxc_sync *s);

/* GET /sync?since=...&timeout=...&filter=... (since NULL for the first
 * sync). The filter keeps m.call.* and m.room.member in timelines, drops
 * presence and account data. timeout_ms is the server's long-poll time. */
int mxrtc_mxc_sync_poll(mxrtc_mxc *c, const char *since, uint32_t timeout_ms, mxrtc_mxc_sync *out);

/* ---- m.call.* content, as the call tool reads it --------------------------- */

/* The few fields of an m.call.* event's content that `mxrtc call`/`answer`
 * look at themselves (mxrtc_calls reads the rest): the call and party ids,
 * and of the SDP in "offer" (m.call.invite), "answer" (m.call.answer) or
 * "description" (m.call.negotiate) its type and first a=ice-ufrag (RFC 8839
 * §5.4), to see ICE restarts. */
typedef struct mxrtc_mxc_call_info {
    char call_id[MXRTC_MXC_ID_MAX];    /* "" if absent, not a string or too long */
    char party_id[MXRTC_MXC_ID_MAX];   /* the same */
    char sdp_type[16];                 /* "offer", "answer" (as sent; "" if none) */
    char ice_ufrag[MXRTC_MXC_ID_MAX];  /* "" if none or too long */
} mxrtc_mxc_call_info;

/* Parses content (len bytes, need not be NUL-terminated). MXRTC_OK (fields
 * missing or of the wrong type are left ""), MXRTC_ERR_MALFORMED when it is
 * not a JSON object, MXRTC_ERR_LIMIT when len > MXRTC_MXC_MAX_CONTENT. */
int mxrtc_mxc_call_info_parse(const char *content, size_t len, mxrtc_mxc_call_info *out);

/* Calls that begin and end within one /sync answer (history, mostly): the
 * answer holds the call's m.call.invite and also its end, an m.call.hangup
 * or m.call.reject from anyone, or an m.call.answer / m.call.select_answer
 * sent by the device (user_id, device_id) itself, an earlier run of it.
 * skip (s->n_events entries, set by the caller to false) gets true for every
 * m.call.* event of such a call. Returns how many were marked, or
 * MXRTC_ERR_NO_MEMORY (nothing marked). */
int mxrtc_mxc_sync_finished_calls(const mxrtc_mxc_sync *s, const char *user_id, const char *device_id,
                                  bool *skip);

/* ---- /voip/turnServer ----------------------------------------------------- */

typedef struct mxrtc_mxc_turn {
    char username[MXRTC_MXC_TOKEN_MAX];
    char password[MXRTC_MXC_TOKEN_MAX];  /* wipe with mxrtc_mxc_turn_clear */
    char uris[MXRTC_MXC_TURN_URIS][MXRTC_MXC_ID_MAX];
    size_t n_uris;
    uint32_t ttl_s;
} mxrtc_mxc_turn;

/* Parses a /voip/turnServer body. {} (no TURN configured) gives n_uris 0 and
 * MXRTC_OK. Present fields of the wrong type are MXRTC_ERR_MALFORMED; URIs past
 * MXRTC_MXC_TURN_URIS are ignored. */
int mxrtc_mxc_turn_parse(const char *body, size_t len, mxrtc_mxc_turn *out);
/* GET /voip/turnServer. */
int mxrtc_mxc_turn_server(mxrtc_mxc *c, mxrtc_mxc_turn *out);
void mxrtc_mxc_turn_clear(mxrtc_mxc_turn *t);

#endif
