/*
 * The Matrix client (tools/matrix_client/) against canned HTTP answers: 429
 * with retry_after_ms, 5xx with exponential backoff (and no retry where a
 * retry could act twice), malformed JSON, a /sync with an m.call.invite in
 * the timeline, /voip/turnServer shapes, and no secret in the log.
 * No server, no sleeping: the fake transport records the waits.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tools/matrix_client/matrix_client.h"

#define MAXQ 16

typedef struct canned {
    long status;
    const char *body;
    int rc;   /* transport result; MXRTC_OK normally */
    int has_retry_after;
    uint32_t retry_after_s;
} canned;

typedef struct fake {
    canned answers[MAXQ];
    size_t n_answers, next;
    char urls[MAXQ][4096];
    char methods[MAXQ][8];
    char bodies[MAXQ][1024];
    int had_token[MAXQ];
    char tokens[MAXQ][128];
    size_t n_requests;
    uint32_t sleeps[MAXQ];
    size_t n_sleeps;
    char log[8192];
} fake;

static int fake_perform(void *ctx, const mxrtc_mxc_http_request *req, mxrtc_mxc_http_response *resp) {
    fake *f = ctx;
    assert_true(f->n_requests < MAXQ);
    size_t i = f->n_requests++;
    snprintf(f->urls[i], sizeof f->urls[i], "%s", req->url);
    snprintf(f->methods[i], sizeof f->methods[i], "%s", req->method);
    snprintf(f->bodies[i], sizeof f->bodies[i], "%.*s", (int)req->body_len, req->body ? req->body : "");
    f->had_token[i] = req->access_token != NULL;
    snprintf(f->tokens[i], sizeof f->tokens[i], "%s", req->access_token ? req->access_token : "");
    assert_true(f->next < f->n_answers);
    const canned *a = &f->answers[f->next++];
    if (a->rc != MXRTC_OK)
        return a->rc;
    resp->status = a->status;
    resp->has_retry_after = a->has_retry_after;
    resp->retry_after_s = a->retry_after_s;
    size_t n = strlen(a->body);
    resp->body = malloc(n + 1);
    assert_non_null(resp->body);
    memcpy(resp->body, a->body, n + 1);
    resp->body_len = n;
    return MXRTC_OK;
}

static void fake_sleep(void *ctx, uint32_t ms) {
    fake *f = ctx;
    assert_true(f->n_sleeps < MAXQ);
    f->sleeps[f->n_sleeps++] = ms;
}

static void on_log(void *user, mxrtc_log_level level, const char *module, const char *line) {
    fake *f = user;
    (void)level;
    size_t n = strlen(f->log);
    snprintf(f->log + n, sizeof f->log - n, "[%s] %s\n", module, line);
}

static mxrtc_logger logger;

static mxrtc_mxc *make(fake *f, uint32_t retries, uint32_t backoff, uint32_t cap) {
    memset(f, 0, sizeof *f);
    logger.fn = on_log;
    logger.user = f;
    logger.max_level = MXRTC_LOG_TRACE;
    mxrtc_mxc_config cfg = {
        .homeserver = "http://127.0.0.1:8008/",
        .http = {.perform = fake_perform, .sleep_ms = fake_sleep, .ctx = f},
        .logger = &logger,
        .max_retries = retries,
        .backoff_ms = backoff,
        .backoff_max_ms = cap,
    };
    mxrtc_mxc *c = NULL;
    assert_int_equal(mxrtc_mxc_new(&cfg, &c), MXRTC_OK);
    return c;
}

static void answer(fake *f, long status, const char *body) {
    f->answers[f->n_answers++] = (canned){.status = status, .body = body, .rc = MXRTC_OK};
}

static void answer_rc(fake *f, int rc) {
    f->answers[f->n_answers++] = (canned){.rc = rc, .body = ""};
}

static const char *TOKEN = "syt_secret_token_value";

/* 429 M_LIMIT_EXCEEDED: waits exactly retry_after_ms, resends the same
 * transaction id, and returns the event id of the accepted retry. */
static void send_429_retry_after(void **state) {
    (void)state;
    fake f;
    mxrtc_mxc *c = make(&f, 3, 100, 30000);
    assert_int_equal(mxrtc_mxc_set_token(c, TOKEN), MXRTC_OK);
    answer(&f, 429, "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"error\":\"Too many requests\",\"retry_after_ms\":1234}");
    answer(&f, 200, "{\"event_id\":\"$ev1\"}");
    char id[MXRTC_MXC_ID_MAX];
    assert_int_equal(mxrtc_mxc_send_event(c, "!room:mxrtc.test", "m.call.invite", "{\"call_id\":\"c1\"}", id),
                     MXRTC_OK);
    assert_string_equal(id, "$ev1");
    assert_int_equal(f.n_requests, 2);
    assert_int_equal(f.n_sleeps, 1);
    assert_int_equal(f.sleeps[0], 1234);
    assert_string_equal(f.methods[0], "PUT");
    /* Same URL both times: the transaction id is kept across the retry. */
    assert_string_equal(f.urls[0], f.urls[1]);
    assert_non_null(strstr(f.urls[0], "/_matrix/client/v3/rooms/%21room%3Amxrtc.test/send/m.call.invite/mxrtc"));
    assert_string_equal(f.bodies[0], "{\"call_id\":\"c1\"}");
    assert_true(f.had_token[0]);
    assert_string_equal(f.tokens[0], TOKEN);

    /* A second event gets a different transaction id. */
    answer(&f, 200, "{\"event_id\":\"$ev2\"}");
    assert_int_equal(mxrtc_mxc_send_event(c, "!room:mxrtc.test", "m.call.hangup", "{}", NULL), MXRTC_OK);
    char *t0 = strrchr(f.urls[0], '/'), *t2 = strrchr(f.urls[2], '/');
    assert_string_not_equal(t0, t2);
    /* The token never reaches the log. */
    assert_null(strstr(f.log, TOKEN));
    mxrtc_mxc_free(c);
}

/* retry_after_ms larger than the cap waits the cap; a 429 without it waits
 * the backoff; 429s past max_retries are MXRTC_ERR_REMOTE. */
static void send_429_capped_and_exhausted(void **state) {
    (void)state;
    fake f;
    mxrtc_mxc *c = make(&f, 2, 250, 5000);
    mxrtc_mxc_set_token(c, TOKEN);
    answer(&f, 429, "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":999999}");
    answer(&f, 429, "{\"errcode\":\"M_LIMIT_EXCEEDED\"}");
    answer(&f, 429, "not json at all");
    assert_int_equal(mxrtc_mxc_send_event(c, "!r:x", "m.call.answer", "{}", NULL), MXRTC_ERR_REMOTE);
    assert_int_equal(f.n_requests, 3);
    assert_int_equal(f.n_sleeps, 2);
    assert_int_equal(f.sleeps[0], 5000);
    assert_int_equal(f.sleeps[1], 500);   /* the backoff, doubled after the first wait */
    mxrtc_mxc_free(c);
}

/* The Retry-After header wins over the body's deprecated retry_after_ms. */
static void send_429_retry_after_header(void **state) {
    (void)state;
    fake f;
    mxrtc_mxc *c = make(&f, 3, 100, 30000);
    mxrtc_mxc_set_token(c, TOKEN);
    f.answers[f.n_answers++] = (canned){.status = 429, .rc = MXRTC_OK, .has_retry_after = 1, .retry_after_s = 2,
                                        .body = "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":1999}"};
    f.answers[f.n_answers++] = (canned){.status = 429, .rc = MXRTC_OK, .has_retry_after = 1, .retry_after_s = 0,
                                        .body = "{\"errcode\":\"M_LIMIT_EXCEEDED\"}"};
    answer(&f, 200, "{\"event_id\":\"$h\"}");
    assert_int_equal(mxrtc_mxc_send_event(c, "!r:x", "m.call.select_answer", "{}", NULL), MXRTC_OK);
    assert_int_equal(f.n_sleeps, 2);
    assert_int_equal(f.sleeps[0], 2000);
    assert_int_equal(f.sleeps[1], 0);
    mxrtc_mxc_free(c);
}

/* 5xx and transport failures back off 100, 200, 400, ... capped. */
static void send_5xx_backoff(void **state) {
    (void)state;
    fake f;
    mxrtc_mxc *c = make(&f, 5, 100, 300);
    mxrtc_mxc_set_token(c, TOKEN);
    answer(&f, 502, "<html>bad gateway</html>");
    answer(&f, 503, "{\"errcode\":\"M_UNKNOWN\"}");
    answer_rc(&f, MXRTC_ERR_IO);
    answer(&f, 500, "");
    answer(&f, 200, "{\"event_id\":\"$ok\"}");
    char id[MXRTC_MXC_ID_MAX];
    assert_int_equal(mxrtc_mxc_send_event(c, "!r:x", "m.call.candidates", "{\"candidates\":[]}", id), MXRTC_OK);
    assert_string_equal(id, "$ok");
    assert_int_equal(f.n_requests, 5);
    assert_int_equal(f.n_sleeps, 4);
    assert_int_equal(f.sleeps[0], 100);
    assert_int_equal(f.sleeps[1], 200);
    assert_int_equal(f.sleeps[2], 300);
    assert_int_equal(f.sleeps[3], 300);

    /* Exhausted: max_retries + 1 attempts, then MXRTC_ERR_REMOTE. */
    fake g;
    mxrtc_mxc *d = make(&g, 2, 10, 1000);
    mxrtc_mxc_set_token(d, TOKEN);
    answer(&g, 500, "{}");
    answer(&g, 500, "{}");
    answer(&g, 500, "{}");
    assert_int_equal(mxrtc_mxc_send_event(d, "!r:x", "m.call.answer", "{}", NULL), MXRTC_ERR_REMOTE);
    assert_int_equal(g.n_requests, 3);
    assert_int_equal(g.n_sleeps, 2);
    mxrtc_mxc_free(c);
    mxrtc_mxc_free(d);
}

/* createRoom is not idempotent: a 5xx is not retried (it may have made the
 * room), a 429 is (the server did nothing). */
static void create_room_no_5xx_retry(void **state) {
    (void)state;
    fake f;
    mxrtc_mxc *c = make(&f, 5, 100, 1000);
    mxrtc_mxc_set_token(c, TOKEN);
    answer(&f, 500, "{}");
    char room[MXRTC_MXC_ID_MAX];
    const char *inv[] = {"@bob:mxrtc.test"};
    assert_int_equal(mxrtc_mxc_create_room(c, inv, 1, room), MXRTC_ERR_REMOTE);
    assert_int_equal(f.n_requests, 1);
    assert_int_equal(f.n_sleeps, 0);

    answer(&f, 429, "{\"errcode\":\"M_LIMIT_EXCEEDED\",\"retry_after_ms\":7}");
    answer(&f, 200, "{\"room_id\":\"!new:mxrtc.test\"}");
    assert_int_equal(mxrtc_mxc_create_room(c, inv, 1, room), MXRTC_OK);
    assert_string_equal(room, "!new:mxrtc.test");
    assert_int_equal(f.sleeps[0], 7);
    assert_non_null(strstr(f.bodies[1], "\"invite\":[\"@bob:mxrtc.test\"]"));
    assert_non_null(strstr(f.bodies[1], "\"preset\":\"private_chat\""));
    assert_null(strstr(f.bodies[1], "m.room.encryption"));
    mxrtc_mxc_free(c);
}

/* Login: the password goes in the body only, the token comes back and is
 * used afterwards; neither is logged. 403 is MXRTC_ERR_AUTH. */
static void login_and_secrets(void **state) {
    (void)state;
    fake f;
    mxrtc_mxc *c = make(&f, 2, 10, 100);
    answer(&f, 403, "{\"errcode\":\"M_FORBIDDEN\",\"error\":\"Invalid username or password\"}");
    assert_int_equal(mxrtc_mxc_login_password(c, "alice", "hunter2-password"), MXRTC_ERR_AUTH);
    assert_int_equal(f.n_requests, 1);
    assert_false(f.had_token[0]);
    assert_non_null(strstr(f.bodies[0], "\"type\":\"m.login.password\""));
    assert_non_null(strstr(f.bodies[0], "\"user\":\"alice\""));
    assert_non_null(strstr(f.bodies[0], "\"password\":\"hunter2-password\""));
    assert_non_null(strstr(f.log, "M_FORBIDDEN"));

    answer(&f, 200, "{\"user_id\":\"@alice:mxrtc.test\",\"access_token\":\"syt_fresh_token\","
                    "\"device_id\":\"DEV1\",\"home_server\":\"mxrtc.test\"}");
    assert_int_equal(mxrtc_mxc_login_password(c, "alice", "hunter2-password"), MXRTC_OK);
    assert_string_equal(mxrtc_mxc_user_id(c), "@alice:mxrtc.test");
    assert_string_equal(mxrtc_mxc_device_id(c), "DEV1");
    answer(&f, 200, "{\"user_id\":\"@alice:mxrtc.test\",\"device_id\":\"DEV1\"}");
    assert_int_equal(mxrtc_mxc_whoami(c), MXRTC_OK);
    assert_string_equal(f.tokens[2], "syt_fresh_token");
    assert_non_null(strstr(f.urls[2], "/_matrix/client/v3/account/whoami"));
    assert_null(strstr(f.log, "hunter2"));
    assert_null(strstr(f.log, "syt_fresh_token"));
    mxrtc_mxc_free(c);
}

/* Malformed answers are errors, not crashes, and change nothing. */
static void malformed_json(void **state) {
    (void)state;
    fake f;
    mxrtc_mxc *c = make(&f, 1, 10, 100);
    answer(&f, 200, "{\"user_id\":\"@alice:mxrtc.test\",\"access_token\":");
    assert_int_equal(mxrtc_mxc_login_password(c, "alice", "pw"), MXRTC_ERR_MALFORMED);
    answer(&f, 200, "{\"user_id\":42,\"access_token\":\"t\"}");
    assert_int_equal(mxrtc_mxc_login_password(c, "alice", "pw"), MXRTC_ERR_MALFORMED);
    answer(&f, 200, "[\"not\",\"an\",\"object\"]");
    assert_int_equal(mxrtc_mxc_login_password(c, "alice", "pw"), MXRTC_ERR_MALFORMED);
    answer(&f, 200, "{\"access_token\":\"t\"}");
    assert_int_equal(mxrtc_mxc_login_password(c, "alice", "pw"), MXRTC_ERR_MALFORMED);
    assert_string_equal(mxrtc_mxc_user_id(c), "");
    /* Not logged in: calls that need a token refuse. */
    mxrtc_mxc_sync s;
    assert_int_equal(mxrtc_mxc_sync_poll(c, NULL, 0, &s), MXRTC_ERR_STATE);

    mxrtc_mxc_set_token(c, TOKEN);
    answer(&f, 200, "{\"event_id\":7}");
    assert_int_equal(mxrtc_mxc_send_event(c, "!r:x", "m.call.hangup", "{}", NULL), MXRTC_ERR_MALFORMED);
    answer(&f, 200, "{\"next_batch\":\"s1\",\"rooms\":{\"join\":{\"!r:x\":{\"timeline\":{\"events\":"
                    "[{\"type\":\"m.call.invite\",\"sender\":\"@a:x\",\"event_id\":\"$e\",\"content\":\"str\"}]}}}}}");
    assert_int_equal(mxrtc_mxc_sync_poll(c, "s0", 1000, &s), MXRTC_ERR_MALFORMED);
    assert_int_equal(s.n_events, 0);
    assert_null(s.next_batch);
    /* Content that is not an object is refused before sending. */
    assert_int_equal(mxrtc_mxc_send_event(c, "!r:x", "m.call.hangup", "[1]", NULL), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_mxc_send_event(c, "!r:x", "m.call.hangup", "{oops", NULL), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_mxc_free(c);
}

static const char SYNC_WITH_INVITE[] =
    "{\"next_batch\":\"s72594_4483_1934\",\"account_data\":{\"events\":[]},"
    "\"rooms\":{\"join\":{\"!call:mxrtc.test\":{\"timeline\":{\"limited\":false,\"prev_batch\":\"p1\",\"events\":["
    "{\"type\":\"m.room.member\",\"sender\":\"@bob:mxrtc.test\",\"state_key\":\"@bob:mxrtc.test\","
    "\"event_id\":\"$m1\",\"origin_server_ts\":1700000000000,\"content\":{\"membership\":\"join\"}},"
    "{\"type\":\"m.room.message\",\"sender\":\"@alice:mxrtc.test\",\"event_id\":\"$x\",\"content\":{\"body\":\"hi\"}},"
    "{\"type\":\"m.call.invite\",\"sender\":\"@alice:mxrtc.test\",\"event_id\":\"$inv\","
    "\"origin_server_ts\":1700000001000,\"unsigned\":{\"age\":1500},"
    "\"content\":{\"call_id\":\"1700000001abc\",\"party_id\":\"ALICEDEV\",\"version\":\"1\",\"lifetime\":60000,"
    "\"invitee\":\"@bob:mxrtc.test\",\"offer\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- 1 1 IN IP4 0.0.0.0\\r\\n\"}}}"
    "]}}},\"invite\":{\"!other:mxrtc.test\":{\"invite_state\":{\"events\":[]}}}}}";

/* A /sync carrying an m.call.invite: the filter and the since token go out
 * escaped in the query; the invite comes back with its content. */
static void sync_with_call_invite(void **state) {
    (void)state;
    fake f;
    mxrtc_mxc *c = make(&f, 1, 10, 100);
    mxrtc_mxc_set_token(c, TOKEN);
    answer(&f, 200, SYNC_WITH_INVITE);
    mxrtc_mxc_sync s;
    assert_int_equal(mxrtc_mxc_sync_poll(c, "s1&x=y", 30000, &s), MXRTC_OK);
    assert_non_null(strstr(f.urls[0], "/_matrix/client/v3/sync?timeout=30000&filter=%7B"));
    assert_non_null(strstr(f.urls[0], "m.call.%2A"));
    assert_non_null(strstr(f.urls[0], "&since=s1%26x%3Dy"));
    assert_string_equal(s.next_batch, "s72594_4483_1934");
    assert_int_equal(s.n_events, 2);   /* the m.room.message is not kept */
    assert_string_equal(s.events[0].type, "m.room.member");
    assert_string_equal(s.events[0].state_key, "@bob:mxrtc.test");
    assert_int_equal(s.events[0].age_ms, -1);
    const mxrtc_mxc_event *e = &s.events[1];
    assert_string_equal(e->room_id, "!call:mxrtc.test");
    assert_string_equal(e->type, "m.call.invite");
    assert_string_equal(e->sender, "@alice:mxrtc.test");
    assert_string_equal(e->event_id, "$inv");
    assert_null(e->state_key);
    assert_int_equal(e->origin_server_ts, 1700000001000LL);
    assert_int_equal(e->age_ms, 1500);
    assert_non_null(strstr(e->content_json, "\"call_id\":\"1700000001abc\""));
    assert_non_null(strstr(e->content_json, "\"sdp\":\"v=0\\r\\no=- 1 1 IN IP4 0.0.0.0\\r\\n\""));
    assert_int_equal(s.n_invited, 1);
    assert_string_equal(s.invited_rooms[0], "!other:mxrtc.test");
    mxrtc_mxc_sync_clear(&s);
    mxrtc_mxc_free(c);
}

/* The sync parser's edge cases directly. */
static void sync_parse_edges(void **state) {
    (void)state;
    mxrtc_mxc_sync s;
    assert_int_equal(mxrtc_mxc_sync_parse("{\"next_batch\":\"a\"}", 18, &s), MXRTC_OK);
    assert_int_equal(s.n_events, 0);
    mxrtc_mxc_sync_clear(&s);
    const char *bad[] = {
        "", "{}", "{\"next_batch\":1}", "{\"next_batch\":\"a\",\"rooms\":[]}",
        "{\"next_batch\":\"a\",\"rooms\":{\"join\":{\"!r\":{\"timeline\":{\"events\":{}}}}}}",
        "{\"next_batch\":\"a\",\"rooms\":{\"join\":{\"!r\":{\"timeline\":{\"events\":[3]}}}}}",
        "{\"next_batch\":\"a\",\"rooms\":{\"join\":{\"!r\":{\"timeline\":{\"events\":[{\"type\":\"m.call.x\","
        "\"sender\":\"@a\",\"event_id\":\"$e\",\"content\":{},\"origin_server_ts\":\"late\"}]}}}}}",
        "{\"next_batch\":\"a\",\"rooms\":{\"join\":{\"!r\":{\"timeline\":{\"events\":[{\"type\":\"m.call.x\","
        "\"sender\":\"@a\",\"event_id\":\"$e\",\"content\":{},\"unsigned\":{\"age\":1.5}}]}}}}}",
        "{\"next_batch\":\"a\",\"rooms\":{\"join\":{\"!r\":{\"timeline\":{\"events\":[{\"type\":\"m.call.x\","
        "\"event_id\":\"$e\",\"content\":{}}]}}}}}",
        "{\"next_batch\":\"a\",\"rooms\":{\"invite\":{\"!r\":5}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(mxrtc_mxc_sync_parse(bad[i], strlen(bad[i]), &s), MXRTC_ERR_MALFORMED);
        assert_null(s.events);
    }
    /* Bounded: the body size and the number of events kept. */
    assert_int_equal(mxrtc_mxc_sync_parse("{}", MXRTC_MXC_MAX_BODY + 1, &s), MXRTC_ERR_LIMIT);
    size_t cap = 128 * (MXRTC_MXC_MAX_EVENTS + 10) + 256, n = 0;
    char *big = malloc(cap);
    assert_non_null(big);
    n += (size_t)snprintf(big + n, cap - n, "{\"next_batch\":\"b\",\"rooms\":{\"join\":{\"!r\":{\"timeline\":{\"events\":[");
    for (int i = 0; i < MXRTC_MXC_MAX_EVENTS + 10; i++)
        n += (size_t)snprintf(big + n, cap - n, "%s{\"type\":\"m.call.x\",\"sender\":\"@a\",\"event_id\":\"$%d\",\"content\":{}}",
                              i ? "," : "", i);
    n += (size_t)snprintf(big + n, cap - n, "]}}}}}");
    assert_true(n < cap);
    assert_int_equal(mxrtc_mxc_sync_parse(big, n, &s), MXRTC_OK);
    assert_int_equal(s.n_events, MXRTC_MXC_MAX_EVENTS);
    assert_int_equal(s.dropped, 10);
    mxrtc_mxc_sync_clear(&s);
    free(big);
}

/* /voip/turnServer: {} is "no TURN"; a full answer is taken; wrong types are
 * MXRTC_ERR_MALFORMED; the password is not logged. */
static void turn_server(void **state) {
    (void)state;
    fake f;
    mxrtc_mxc *c = make(&f, 1, 10, 100);
    mxrtc_mxc_set_token(c, TOKEN);
    mxrtc_mxc_turn t;
    answer(&f, 200, "{}");
    assert_int_equal(mxrtc_mxc_turn_server(c, &t), MXRTC_OK);
    assert_int_equal(t.n_uris, 0);
    answer(&f, 200, "{\"username\":\"1700003600:@alice:mxrtc.test\",\"password\":\"c2VjcmV0LXR1cm4=\","
                    "\"ttl\":3600,\"uris\":[\"turn:127.0.0.1:3483?transport=udp\",\"turn:127.0.0.1:3483?transport=tcp\"]}");
    assert_int_equal(mxrtc_mxc_turn_server(c, &t), MXRTC_OK);
    assert_non_null(strstr(f.urls[1], "/_matrix/client/v3/voip/turnServer"));
    assert_int_equal(t.n_uris, 2);
    assert_string_equal(t.uris[1], "turn:127.0.0.1:3483?transport=tcp");
    assert_string_equal(t.username, "1700003600:@alice:mxrtc.test");
    assert_string_equal(t.password, "c2VjcmV0LXR1cm4=");
    assert_int_equal(t.ttl_s, 3600);
    mxrtc_mxc_turn_clear(&t);
    assert_int_equal(t.password[0], 0);
    answer(&f, 200, "{\"username\":\"u\",\"password\":\"p\",\"ttl\":\"3600\",\"uris\":[]}");
    assert_int_equal(mxrtc_mxc_turn_server(c, &t), MXRTC_ERR_MALFORMED);
    answer(&f, 200, "{\"username\":\"u\",\"password\":\"p\",\"ttl\":60,\"uris\":[7]}");
    assert_int_equal(mxrtc_mxc_turn_server(c, &t), MXRTC_ERR_MALFORMED);
    answer(&f, 200, "{\"username\":\"u\",\"ttl\":60,\"uris\":[]}");
    assert_int_equal(mxrtc_mxc_turn_server(c, &t), MXRTC_ERR_MALFORMED);
    assert_null(strstr(f.log, "c2VjcmV0LXR1cm4="));
    mxrtc_mxc_free(c);
}

/* Joins escape the room id or alias as one path segment. */
static void join_escapes(void **state) {
    (void)state;
    fake f;
    mxrtc_mxc *c = make(&f, 1, 10, 100);
    mxrtc_mxc_set_token(c, TOKEN);
    answer(&f, 200, "{\"room_id\":\"!abc:mxrtc.test\"}");
    assert_int_equal(mxrtc_mxc_join(c, "#calls/room:mxrtc.test"), MXRTC_OK);
    assert_string_equal(f.urls[0], "http://127.0.0.1:8008/_matrix/client/v3/join/%23calls%2Froom%3Amxrtc.test");
    assert_string_equal(f.methods[0], "POST");
    mxrtc_mxc_free(c);
    /* Bad configuration. */
    mxrtc_mxc_config cfg = {.homeserver = "ftp://x", .http = {.perform = fake_perform, .sleep_ms = fake_sleep}};
    assert_int_equal(mxrtc_mxc_new(&cfg, &c), MXRTC_ERR_INVALID_ARGUMENT);
}

/* mxrtc_mxc_call_info_parse: ids, the SDP of invite/answer/negotiate, the
 * first ufrag at a line start; wrong types and oversize fields left empty. */
static void call_info(void **state) {
    (void)state;
    mxrtc_mxc_call_info ci;
    const char *inv = "{\"call_id\":\"c1\",\"party_id\":\"DEV\",\"version\":\"1\",\"lifetime\":60000,"
                      "\"offer\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\nx=a=ice-ufrag:no\\r\\n"
                      "a=ice-ufrag:UF1\\r\\na=ice-pwd:p\\r\\na=ice-ufrag:UF2\\r\\n\"}}";
    assert_int_equal(mxrtc_mxc_call_info_parse(inv, strlen(inv), &ci), MXRTC_OK);
    assert_string_equal(ci.call_id, "c1");
    assert_string_equal(ci.party_id, "DEV");
    assert_string_equal(ci.sdp_type, "offer");
    assert_string_equal(ci.ice_ufrag, "UF1");

    const char *neg = "{\"call_id\":\"c1\",\"description\":{\"type\":\"answer\",\"sdp\":\"a=ice-ufrag:Z\"}}";
    assert_int_equal(mxrtc_mxc_call_info_parse(neg, strlen(neg), &ci), MXRTC_OK);
    assert_string_equal(ci.sdp_type, "answer");
    assert_string_equal(ci.ice_ufrag, "Z");
    assert_string_equal(ci.party_id, "");

    const char *bad = "{\"call_id\":5,\"party_id\":[],\"answer\":{\"type\":1,\"sdp\":\"a=ice-ufrag:\\r\\n\"}}";
    assert_int_equal(mxrtc_mxc_call_info_parse(bad, strlen(bad), &ci), MXRTC_OK);
    assert_string_equal(ci.call_id, "");
    assert_string_equal(ci.party_id, "");
    assert_string_equal(ci.sdp_type, "");
    assert_string_equal(ci.ice_ufrag, "");

    /* Only len bytes are read: the object is cut short here. */
    assert_int_equal(mxrtc_mxc_call_info_parse(inv, 10, &ci), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_mxc_call_info_parse("[1]", 3, &ci), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_mxc_call_info_parse("{}", MXRTC_MXC_MAX_CONTENT + 1, &ci), MXRTC_ERR_LIMIT);

    char big[600];
    memset(big, 'x', sizeof big);
    char json[800];
    snprintf(json, sizeof json, "{\"call_id\":\"%.*s\"}", (int)sizeof big, big);
    assert_int_equal(mxrtc_mxc_call_info_parse(json, strlen(json), &ci), MXRTC_OK);
    assert_string_equal(ci.call_id, "");
}

/* One timeline event of the history sync below: type, sender, call_id, party_id. */
#define HEV(type, sender, id, party, i)                                                                   \
    "{\"type\":\"" type "\",\"sender\":\"" sender "\",\"event_id\":\"$e" i "\",\"content\":{\"call_id\":\"" id \
    "\",\"party_id\":\"" party "\",\"version\":\"1\"}}"

/* mxrtc_mxc_sync_finished_calls: a call whose invite and end (a hangup or
 * reject from anyone, an answer from this very device) are both in the
 * batch is marked, all its events; calls that still ring, calls answered by
 * another device and calls whose invite came in an earlier batch are not. */
static void finished_calls(void **state) {
    (void)state;
    static const char sync[] =
        "{\"next_batch\":\"n\",\"rooms\":{\"join\":{\"!r:mxrtc.test\":{\"timeline\":{\"events\":["
        "{\"type\":\"m.room.member\",\"sender\":\"@bob:t\",\"state_key\":\"@bob:t\",\"event_id\":\"$m\","
        "\"content\":{\"membership\":\"join\"}},"                                   /* 0 kept */
        HEV("m.call.invite", "@alice:t", "A", "AD", "1") ","                      /* 1 A: hung up */
        HEV("m.call.candidates", "@alice:t", "A", "AD", "2") ","                  /* 2 */
        HEV("m.call.invite", "@alice:t", "B", "AD", "3") ","                      /* 3 B: we answered */
        HEV("m.call.answer", "@bob:t", "B", "DEV", "4") ","                       /* 4 */
        HEV("m.call.invite", "@alice:t", "C", "AD", "5") ","                      /* 5 C: another device */
        HEV("m.call.answer", "@bob:t", "C", "OTHER", "6") ","                     /* 6 */
        HEV("m.call.invite", "@alice:t", "D", "AD", "7") ","                      /* 7 D: rings */
        HEV("m.call.hangup", "@alice:t", "E", "AD", "8") ","                      /* 8 E: invite earlier */
        HEV("m.call.hangup", "@alice:t", "A", "AD", "9") ","                      /* 9 */
        HEV("m.call.invite", "@alice:t", "F", "AD", "10") ","                     /* 10 F: rejected */
        HEV("m.call.reject", "@bob:t", "F", "OTHER", "11")                        /* 11 */
        "]}}}}}";
    mxrtc_mxc_sync s;
    assert_int_equal(mxrtc_mxc_sync_parse(sync, strlen(sync), &s), MXRTC_OK);
    assert_int_equal(s.n_events, 12);
    bool skip[12] = {false};
    assert_int_equal(mxrtc_mxc_sync_finished_calls(&s, "@bob:t", "DEV", skip), 7);
    static const bool want[12] = {false, true, true, true, true, false, false, false, false, true, true, true};
    for (size_t i = 0; i < 12; i++) assert_int_equal(skip[i], want[i]);
    /* Another device of ours: its answer to B does not end B here. */
    memset(skip, 0, sizeof skip);
    assert_int_equal(mxrtc_mxc_sync_finished_calls(&s, "@bob:t", "ELSE", skip), 5);
    assert_false(skip[3]);
    assert_false(skip[4]);
    mxrtc_mxc_sync_clear(&s);
    mxrtc_mxc_sync empty = {0};
    assert_int_equal(mxrtc_mxc_sync_finished_calls(&empty, "@bob:t", "DEV", NULL), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(send_429_retry_after),
        cmocka_unit_test(send_429_capped_and_exhausted),
        cmocka_unit_test(send_429_retry_after_header),
        cmocka_unit_test(send_5xx_backoff),
        cmocka_unit_test(create_room_no_5xx_retry),
        cmocka_unit_test(login_and_secrets),
        cmocka_unit_test(malformed_json),
        cmocka_unit_test(sync_with_call_invite),
        cmocka_unit_test(sync_parse_edges),
        cmocka_unit_test(turn_server),
        cmocka_unit_test(join_escapes),
        cmocka_unit_test(call_info),
        cmocka_unit_test(finished_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
