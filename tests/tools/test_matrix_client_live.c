/*
 * The Matrix client against a real Synapse on 127.0.0.1 (the `synapse` CTest
 * fixture, tests/synapse/synapse.sh, with TURN = the coturn fixture's `rest`
 * instance): password login for alice and bob, whoami with a stored token, a
 * room created by alice with bob invited, bob seeing the invite in /sync and
 * joining, alice sending an m.call.invite-shaped event that bob receives
 * through /sync with its content intact, and /voip/turnServer credentials
 * that coturn accepts for an allocation.
 *
 * Real network on loopback: waits are bounded (sync long-polls of at most
 * 5 s, at most 12 of them); nothing is timed.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "net/turn_socket.h"
#include "stun/turn_uri.h"
#include "tools/matrix_client/matrix_client.h"
#include "turn/coturn_env.h"

typedef struct synapse_env {
    char url[256];
    char alice[128], alice_pw[128], alice_token[256];
    char bob[128], bob_pw[128];
    int turn;
} synapse_env;

static synapse_env env;
static coturn_env cenv;
static mxrtc_mxc_http http_a, http_b;
static mxrtc_mxc *alice, *bob;
static char room[MXRTC_MXC_ID_MAX];
static char bob_since[MXRTC_MXC_TOKEN_MAX];

static int env_get(const char *path, const char *key, char *dst, size_t cap) {
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[1024];
    size_t klen = strlen(key);
    int found = -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, "export ", 7) == 0 && strncmp(line + 7, key, klen) == 0 && line[7 + klen] == '=') {
            const char *v = line + 8 + klen;
            if (strlen(v) < cap && *v) {
                memcpy(dst, v, strlen(v) + 1);
                found = 0;
            }
        }
    }
    fclose(f);
    return found;
}

static int setup(void **state) {
    (void)state;
    const char *path = getenv("MXRTC_SYNAPSE_ENV");
    if (!path) {
        fprintf(stderr, "MXRTC_SYNAPSE_ENV is not set (run through ctest, fixture synapse)\n");
        return -1;
    }
    char turn[8] = "0";
    if (env_get(path, "MXRTC_SYNAPSE_URL", env.url, sizeof env.url) ||
        env_get(path, "MXRTC_SYNAPSE_ALICE_USER", env.alice, sizeof env.alice) ||
        env_get(path, "MXRTC_SYNAPSE_ALICE_PASSWORD", env.alice_pw, sizeof env.alice_pw) ||
        env_get(path, "MXRTC_SYNAPSE_ALICE_TOKEN", env.alice_token, sizeof env.alice_token) ||
        env_get(path, "MXRTC_SYNAPSE_BOB_USER", env.bob, sizeof env.bob) ||
        env_get(path, "MXRTC_SYNAPSE_BOB_PASSWORD", env.bob_pw, sizeof env.bob_pw) ||
        env_get(path, "MXRTC_SYNAPSE_TURN", turn, sizeof turn)) {
        fprintf(stderr, "%s: missing fields (did tests/synapse/synapse.sh start run?)\n", path);
        return -1;
    }
    env.turn = turn[0] == '1';
    if (coturn_env_load(&cenv) != 0)
        return -1;
    if (mxrtc_mxc_http_curl_new(&http_a) != MXRTC_OK || mxrtc_mxc_http_curl_new(&http_b) != MXRTC_OK)
        return -1;
    mxrtc_mxc_config ca = {.homeserver = env.url, .http = http_a, .max_retries = 3, .backoff_ms = 200};
    mxrtc_mxc_config cb = {.homeserver = env.url, .http = http_b, .max_retries = 3, .backoff_ms = 200};
    if (mxrtc_mxc_new(&ca, &alice) != MXRTC_OK || mxrtc_mxc_new(&cb, &bob) != MXRTC_OK)
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    mxrtc_mxc_free(alice);
    mxrtc_mxc_free(bob);
    mxrtc_mxc_http_curl_free(&http_a);
    mxrtc_mxc_http_curl_free(&http_b);
    return 0;
}

/* m.login.password with the localpart and with the full user id; a wrong
 * password is MXRTC_ERR_AUTH. */
static void login(void **state) {
    (void)state;
    assert_int_equal(mxrtc_mxc_login_password(alice, "alice", env.alice_pw), MXRTC_OK);
    assert_string_equal(mxrtc_mxc_user_id(alice), env.alice);
    assert_true(mxrtc_mxc_device_id(alice)[0] != 0);
    assert_int_equal(mxrtc_mxc_login_password(bob, env.bob, env.bob_pw), MXRTC_OK);
    assert_string_equal(mxrtc_mxc_user_id(bob), env.bob);

    mxrtc_mxc *x;
    mxrtc_mxc_http h;
    assert_int_equal(mxrtc_mxc_http_curl_new(&h), MXRTC_OK);
    mxrtc_mxc_config cfg = {.homeserver = env.url, .http = h, .max_retries = 1};
    assert_int_equal(mxrtc_mxc_new(&cfg, &x), MXRTC_OK);
    assert_int_equal(mxrtc_mxc_login_password(x, "alice", "not-the-password"), MXRTC_ERR_AUTH);
    assert_string_equal(mxrtc_mxc_user_id(x), "");
    /* An access token instead of a password: whoami names the user. */
    assert_int_equal(mxrtc_mxc_set_token(x, env.alice_token), MXRTC_OK);
    assert_int_equal(mxrtc_mxc_whoami(x), MXRTC_OK);
    assert_string_equal(mxrtc_mxc_user_id(x), env.alice);
    /* A made-up token is refused. */
    assert_int_equal(mxrtc_mxc_set_token(x, "syt_not_a_real_token"), MXRTC_OK);
    assert_int_equal(mxrtc_mxc_whoami(x), MXRTC_ERR_AUTH);
    mxrtc_mxc_free(x);
    mxrtc_mxc_http_curl_free(&h);
}

static int has_invite(const mxrtc_mxc_sync *s, const char *room_id) {
    for (size_t i = 0; i < s->n_invited; i++)
        if (strcmp(s->invited_rooms[i], room_id) == 0)
            return 1;
    return 0;
}

/* Alice creates an unencrypted room inviting bob; bob sees the invite in
 * /sync and joins. */
static void room_invite_join(void **state) {
    (void)state;
    const char *inv[] = {env.bob};
    assert_int_equal(mxrtc_mxc_create_room(alice, inv, 1, room), MXRTC_OK);
    assert_true(room[0] == '!');
    int seen = 0;
    const char *since = NULL;
    for (int i = 0; i < 12 && !seen; i++) {
        mxrtc_mxc_sync s;
        assert_int_equal(mxrtc_mxc_sync_poll(bob, since, i ? 5000 : 0, &s), MXRTC_OK);
        seen = has_invite(&s, room);
        snprintf(bob_since, sizeof bob_since, "%s", s.next_batch);
        since = bob_since;
        mxrtc_mxc_sync_clear(&s);
    }
    assert_true(seen);
    assert_int_equal(mxrtc_mxc_join(bob, room), MXRTC_OK);
}

/* Alice sends an m.call.invite; bob's /sync returns it with the content. */
static void call_invite_through_sync(void **state) {
    (void)state;
    assert_true(room[0] == '!');
    char content[1024];
    snprintf(content, sizeof content,
             "{\"call_id\":\"mxrtc-live-1\",\"party_id\":\"%s\",\"version\":\"1\",\"lifetime\":60000,"
             "\"invitee\":\"%s\",\"offer\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- 42 1 IN IP4 127.0.0.1\\r\\n"
             "s=-\\r\\nt=0 0\\r\\n\"},\"sdp_stream_metadata\":{\"s1\":{\"purpose\":\"m.usermedia\"}}}",
             mxrtc_mxc_device_id(alice), env.bob);
    char event_id[MXRTC_MXC_ID_MAX];
    assert_int_equal(mxrtc_mxc_send_event(alice, room, "m.call.invite", content, event_id), MXRTC_OK);
    assert_true(event_id[0] == '$');

    int found = 0, saw_join = 0;
    for (int i = 0; i < 12 && !found; i++) {
        mxrtc_mxc_sync s;
        assert_int_equal(mxrtc_mxc_sync_poll(bob, bob_since, 5000, &s), MXRTC_OK);
        for (size_t k = 0; k < s.n_events; k++) {
            const mxrtc_mxc_event *e = &s.events[k];
            assert_string_equal(e->room_id, room);
            if (strcmp(e->type, "m.room.member") == 0 && e->state_key && strcmp(e->state_key, env.bob) == 0)
                saw_join = 1;
            if (strcmp(e->type, "m.call.invite") != 0)
                continue;
            found = 1;
            assert_string_equal(e->event_id, event_id);
            assert_string_equal(e->sender, env.alice);
            assert_true(e->origin_server_ts > 0);
            cJSON *j = cJSON_Parse(e->content_json);
            assert_non_null(j);
            const cJSON *cid = cJSON_GetObjectItemCaseSensitive(j, "call_id");
            const cJSON *offer = cJSON_GetObjectItemCaseSensitive(j, "offer");
            const cJSON *sdp = cJSON_GetObjectItemCaseSensitive(offer, "sdp");
            const cJSON *life = cJSON_GetObjectItemCaseSensitive(j, "lifetime");
            const cJSON *invitee = cJSON_GetObjectItemCaseSensitive(j, "invitee");
            assert_true(cJSON_IsString(cid) && cJSON_IsString(sdp) && cJSON_IsNumber(life) && cJSON_IsString(invitee));
            assert_string_equal(cid->valuestring, "mxrtc-live-1");
            assert_string_equal(sdp->valuestring, "v=0\r\no=- 42 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
            assert_int_equal((int)life->valuedouble, 60000);
            assert_string_equal(invitee->valuestring, env.bob);
            cJSON_Delete(j);
        }
        snprintf(bob_since, sizeof bob_since, "%s", s.next_batch);
        mxrtc_mxc_sync_clear(&s);
    }
    assert_true(found);
    assert_true(saw_join);   /* membership passes the filter too */
}

static void on_turn(void *user, const mxrtc_turn_output *ev) {
    int *st = user;
    if (ev->event == MXRTC_TURN_EV_ALLOCATED)
        *st = 1;
    else if (ev->event == MXRTC_TURN_EV_ALLOCATE_FAILED || ev->event == MXRTC_TURN_EV_TRANSPORT_FAILED)
        *st = -1;
}

/* /voip/turnServer hands out REST credentials for the coturn fixture's
 * `rest` instance, and coturn grants an allocation with them (UDP and TCP). */
static void turn_server_allocates(void **state) {
    (void)state;
    assert_true(env.turn);
    mxrtc_mxc_turn t;
    assert_int_equal(mxrtc_mxc_turn_server(bob, &t), MXRTC_OK);
    assert_true(t.n_uris >= 2);
    assert_true(t.ttl_s > 0);
    assert_non_null(strstr(t.username, env.bob));
    int allocated = 0;
    for (size_t i = 0; i < t.n_uris; i++) {
        mxrtc_turn_uri u;
        assert_int_equal(mxrtc_turn_uri_parse(&u, t.uris[i], strlen(t.uris[i])), MXRTC_OK);
        assert_true(u.host_is_ip);
        assert_int_equal(u.port, cenv.rest_port);
        mxrtc_turn_config cfg;
        mxrtc_turn_config_init(&cfg);
        cfg.transport = u.transport == MXRTC_URI_TRANSPORT_TCP ? MXRTC_TURN_TCP : MXRTC_TURN_UDP;
        cfg.username = t.username;
        cfg.password = t.password;
        cfg.software = "mxrtc tests";
        mxrtc_net_turn nt;
        int st = 0;
        assert_int_equal(mxrtc_net_turn_open(&nt, &u.addr, &cfg, on_turn, &st), MXRTC_OK);
        assert_int_equal(mxrtc_turn_client_allocate(nt.client, mxrtc_net_turn_now(&nt)), MXRTC_OK);
        assert_int_equal(mxrtc_net_turn_flush(&nt), MXRTC_OK);
        mxrtc_net_turn *ts[1] = {&nt};
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        while (st == 0) {
            assert_int_equal(mxrtc_net_turn_step(ts, 1, 100), MXRTC_OK);
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - start.tv_sec > 10)
                fail_msg("allocation timed out");
        }
        assert_int_equal(st, 1);
        allocated++;
        mxrtc_turn_client_deallocate(nt.client, mxrtc_net_turn_now(&nt));
        mxrtc_net_turn_flush(&nt);
        mxrtc_net_turn_close(&nt);
    }
    assert_int_equal(allocated, (int)t.n_uris);
    mxrtc_mxc_turn_clear(&t);
}

/* The curl transport: nothing listening is MXRTC_ERR_IO after the bounded
 * retries (port 1 on loopback: reserved, never a test server). */
static void connection_refused(void **state) {
    (void)state;
    mxrtc_mxc_http h;
    assert_int_equal(mxrtc_mxc_http_curl_new(&h), MXRTC_OK);
    mxrtc_mxc_config cfg = {.homeserver = "http://127.0.0.1:1", .http = h, .max_retries = 2,
                            .backoff_ms = 1, .backoff_max_ms = 2};
    mxrtc_mxc *x;
    assert_int_equal(mxrtc_mxc_new(&cfg, &x), MXRTC_OK);
    assert_int_equal(mxrtc_mxc_set_token(x, "syt_unused"), MXRTC_OK);
    assert_int_equal(mxrtc_mxc_whoami(x), MXRTC_ERR_IO);
    mxrtc_mxc_free(x);
    mxrtc_mxc_http_curl_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connection_refused),
        cmocka_unit_test(login),
        cmocka_unit_test(room_invite_join),
        cmocka_unit_test(call_invite_through_sync),
        cmocka_unit_test(turn_server_allocates),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
