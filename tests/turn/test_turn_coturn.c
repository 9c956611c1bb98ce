/*
 * The TURN client against a real coturn on 127.0.0.1 (the `coturn` CTest
 * fixture, tests/turn/coturn.sh): allocations over UDP, TCP and TLS, data
 * relayed between two allocations both ways (Send/Data indications and
 * ChannelData), REST credentials as Synapse hands them out, a wrong password,
 * refreshes of the allocation, permission and channel, and deallocation.
 *
 * Refreshes normally come minutes apart; the client's clock is moved ahead
 * (clock_offset) so that they happen now, against the real server.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include "net/turn_socket.h"
#include "turn/coturn_env.h"

static coturn_env env;

typedef struct peer_log {
    int allocated, failed, refreshed, perms, channels, deallocated, lost, transport_failed;
    int last_error, last_stun_code;
    mxrtc_addr relayed;
    uint16_t channel;
    int data_count;
    char data[256];
    size_t data_len;
    mxrtc_addr data_peer;
    uint16_t data_channel;
} peer_log;

static void on_event(void *user, const mxrtc_turn_output *ev) {
    peer_log *l = user;
    switch (ev->event) {
    case MXRTC_TURN_EV_ALLOCATED: l->allocated++; l->relayed = ev->relayed; break;
    case MXRTC_TURN_EV_ALLOCATE_FAILED: l->failed++; l->last_error = ev->error; l->last_stun_code = ev->stun_code; break;
    case MXRTC_TURN_EV_REFRESHED: l->refreshed++; break;
    case MXRTC_TURN_EV_PERMISSION_CREATED: l->perms++; break;
    case MXRTC_TURN_EV_CHANNEL_BOUND: l->channels++; l->channel = ev->channel; break;
    case MXRTC_TURN_EV_DEALLOCATED: l->deallocated++; break;
    case MXRTC_TURN_EV_ALLOCATION_LOST: l->lost++; break;
    case MXRTC_TURN_EV_TRANSPORT_FAILED: l->transport_failed++; l->last_error = ev->error; break;
    case MXRTC_TURN_EV_DATA:
        l->data_count++;
        l->data_len = ev->len < sizeof l->data ? ev->len : sizeof l->data;
        memcpy(l->data, ev->data, l->data_len);
        l->data_peer = ev->peer;
        l->data_channel = ev->channel;
        break;
    default:
        l->last_error = ev->error;
        l->last_stun_code = ev->stun_code;
        break;
    }
}

/* Steps the sockets until *counter reaches want, for at most 10 s of real time. */
static void wait_for(mxrtc_net_turn **ts, size_t n, const int *counter, int want) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (*counter < want) {
        assert_int_equal(mxrtc_net_turn_step(ts, n, 100), MXRTC_OK);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 10) fail_msg("timed out waiting for a TURN event");
    }
}

static void open_client(mxrtc_net_turn *t, peer_log *log, mxrtc_turn_transport tr, const char *user,
                        const char *pass, uint16_t port) {
    mxrtc_addr server;
    assert_int_equal(mxrtc_addr_parse(&server, env.host, port), MXRTC_OK);
    mxrtc_turn_config cfg;
    mxrtc_turn_config_init(&cfg);
    cfg.transport = tr;
    cfg.username = user;
    cfg.password = pass;
    cfg.software = "mxrtc tests";
    if (tr == MXRTC_TURN_TLS) {
        cfg.tls_server_name = env.tls_name;
        cfg.tls_ca_file = env.ca;
    }
    memset(log, 0, sizeof *log);
    assert_int_equal(mxrtc_net_turn_open(t, &server, &cfg, on_event, log), MXRTC_OK);
}

static void allocate(mxrtc_net_turn *t, peer_log *log) {
    assert_int_equal(mxrtc_turn_client_allocate(t->client, mxrtc_net_turn_now(t)), MXRTC_OK);
    assert_int_equal(mxrtc_net_turn_flush(t), MXRTC_OK);
    mxrtc_net_turn *ts[1] = {t};
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!log->allocated && !log->failed) {
        assert_int_equal(mxrtc_net_turn_step(ts, 1, 100), MXRTC_OK);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 10) fail_msg("allocation timed out");
    }
}

/* A relays to B and back: A binds a channel to B's relay, B only permits A. */
static void relay_between(mxrtc_turn_transport ta, mxrtc_turn_transport tb) {
    mxrtc_net_turn a, b;
    peer_log la, lb;
    uint16_t port_a = ta == MXRTC_TURN_TLS ? env.lt_tls_port : env.lt_port;
    uint16_t port_b = tb == MXRTC_TURN_TLS ? env.lt_tls_port : env.lt_port;
    open_client(&a, &la, ta, env.lt_user, env.lt_password, port_a);
    open_client(&b, &lb, tb, env.lt_user, env.lt_password, port_b);
    allocate(&a, &la);
    allocate(&b, &lb);
    assert_int_equal(la.allocated, 1);
    assert_int_equal(lb.allocated, 1);
    assert_false(mxrtc_addr_equal(&la.relayed, &lb.relayed));

    mxrtc_net_turn *both[2] = {&a, &b};
    uint16_t ch = 0;
    assert_int_equal(mxrtc_turn_client_bind_channel(a.client, mxrtc_net_turn_now(&a), &lb.relayed, &ch), MXRTC_OK);
    mxrtc_net_turn_flush(&a);
    assert_int_equal(mxrtc_turn_client_permit(b.client, mxrtc_net_turn_now(&b), &la.relayed), MXRTC_OK);
    mxrtc_net_turn_flush(&b);
    wait_for(both, 2, &la.channels, 1);
    wait_for(both, 2, &lb.perms, 1);
    assert_int_equal(la.channel, ch);

    /* A → B: ChannelData to the server, a Data indication to B. */
    const char *ping = "ping through coturn";
    assert_int_equal(mxrtc_turn_client_send(a.client, mxrtc_net_turn_now(&a), &lb.relayed,
                                            (const uint8_t *)ping, strlen(ping)), MXRTC_OK);
    mxrtc_net_turn_flush(&a);
    wait_for(both, 2, &lb.data_count, 1);
    assert_int_equal(lb.data_len, strlen(ping));
    assert_memory_equal(lb.data, ping, lb.data_len);
    assert_true(mxrtc_addr_equal(&lb.data_peer, &la.relayed));
    assert_int_equal(lb.data_channel, 0);

    /* B → A: a Send indication; coturn uses A's channel to deliver it. */
    const char *pong = "pong, 21 bytes long!!";
    assert_int_equal(mxrtc_turn_client_send(b.client, mxrtc_net_turn_now(&b), &la.relayed,
                                            (const uint8_t *)pong, strlen(pong)), MXRTC_OK);
    mxrtc_net_turn_flush(&b);
    wait_for(both, 2, &la.data_count, 1);
    assert_int_equal(la.data_len, strlen(pong));
    assert_memory_equal(la.data, pong, la.data_len);
    assert_true(mxrtc_addr_equal(&la.data_peer, &lb.relayed));
    assert_int_equal(la.data_channel, ch);

    /* Deallocate both. */
    assert_int_equal(mxrtc_turn_client_deallocate(a.client, mxrtc_net_turn_now(&a)), MXRTC_OK);
    mxrtc_net_turn_flush(&a);
    assert_int_equal(mxrtc_turn_client_deallocate(b.client, mxrtc_net_turn_now(&b)), MXRTC_OK);
    mxrtc_net_turn_flush(&b);
    wait_for(both, 2, &la.deallocated, 1);
    wait_for(both, 2, &lb.deallocated, 1);
    assert_int_equal(mxrtc_turn_client_state(a.client), MXRTC_TURN_STATE_CLOSED);
    assert_int_equal(la.failed + lb.failed + la.lost + lb.lost + la.transport_failed + lb.transport_failed, 0);
    mxrtc_net_turn_close(&a);
    mxrtc_net_turn_close(&b);
}

static void udp_to_udp(void **state) { (void)state; relay_between(MXRTC_TURN_UDP, MXRTC_TURN_UDP); }
static void tcp_to_udp(void **state) { (void)state; relay_between(MXRTC_TURN_TCP, MXRTC_TURN_UDP); }
static void tls_to_tcp(void **state) { (void)state; relay_between(MXRTC_TURN_TLS, MXRTC_TURN_TCP); }

/* Synapse's /voip/turnServer: username "<expiry>:<user>", password
 * base64(HMAC-SHA1(shared secret, username)). */
static void rest_credentials(void **state) {
    (void)state;
    char user[64];
    snprintf(user, sizeof user, "%ld:@alice:mxrtc.test", (long)time(NULL) + 3600);
    uint8_t mac[20];
    assert_int_equal(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), (const uint8_t *)env.rest_secret,
                                     strlen(env.rest_secret), (const uint8_t *)user, strlen(user), mac), 0);
    unsigned char pass[64];
    size_t plen;
    assert_int_equal(mbedtls_base64_encode(pass, sizeof pass, &plen, mac, sizeof mac), 0);
    mxrtc_net_turn t;
    peer_log l;
    open_client(&t, &l, MXRTC_TURN_UDP, user, (const char *)pass, env.rest_port);
    allocate(&t, &l);
    assert_int_equal(l.allocated, 1);

    /* An expired REST username is refused with an authentication error. */
    mxrtc_net_turn t2;
    peer_log l2;
    char old[64];
    snprintf(old, sizeof old, "%ld:@alice:mxrtc.test", (long)time(NULL) - 60);
    mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), (const uint8_t *)env.rest_secret,
                    strlen(env.rest_secret), (const uint8_t *)old, strlen(old), mac);
    mbedtls_base64_encode(pass, sizeof pass, &plen, mac, sizeof mac);
    open_client(&t2, &l2, MXRTC_TURN_UDP, old, (const char *)pass, env.rest_port);
    allocate(&t2, &l2);
    assert_int_equal(l2.failed, 1);
    assert_int_equal(l2.last_error, MXRTC_ERR_AUTH);
    mxrtc_net_turn_close(&t);
    mxrtc_net_turn_close(&t2);
}

static void wrong_password(void **state) {
    (void)state;
    mxrtc_net_turn t;
    peer_log l;
    open_client(&t, &l, MXRTC_TURN_UDP, env.lt_user, "not-the-password", env.lt_port);
    allocate(&t, &l);
    assert_int_equal(l.allocated, 0);
    assert_int_equal(l.failed, 1);
    assert_int_equal(l.last_error, MXRTC_ERR_AUTH);
    assert_int_equal(l.last_stun_code, 401);
    mxrtc_net_turn_close(&t);
}

static void refreshes_against_the_real_server(void **state) {
    (void)state;
    mxrtc_net_turn t;
    peer_log l;
    open_client(&t, &l, MXRTC_TURN_UDP, env.lt_user, env.lt_password, env.lt_port);
    allocate(&t, &l);
    assert_int_equal(l.allocated, 1);
    mxrtc_addr peer;
    mxrtc_addr_parse(&peer, "127.0.0.1", 9);
    assert_int_equal(mxrtc_turn_client_bind_channel(t.client, mxrtc_net_turn_now(&t), &peer, NULL), MXRTC_OK);
    mxrtc_net_turn_flush(&t);
    mxrtc_net_turn *one[1] = {&t};
    wait_for(one, 1, &l.channels, 1);
    wait_for(one, 1, &l.perms, 1);
    mxrtc_turn_stats before, after;
    mxrtc_turn_client_stats(t.client, &before);
    /* Ten minutes later for the client: the allocation (refreshed at 540 s of
     * 600), the permission (240 s) and the channel (540 s) are all due. */
    t.clock_offset = 541ull * 1000000;
    mxrtc_turn_client_handle_timeout(t.client, mxrtc_net_turn_now(&t));
    mxrtc_net_turn_flush(&t);
    wait_for(one, 1, &l.refreshed, 1);
    /* refresh + permission + channel bind, each answered with success */
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        mxrtc_turn_client_stats(t.client, &after);
        if (after.responses_received >= before.responses_received + 3) break;
        assert_int_equal(mxrtc_net_turn_step(one, 1, 100), MXRTC_OK);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 10) fail_msg("refreshes were not all answered");
    }
    assert_int_equal(after.requests_sent, before.requests_sent + 3);
    assert_int_equal(mxrtc_turn_client_state(t.client), MXRTC_TURN_STATE_ALLOCATED);
    assert_int_equal(l.lost + l.failed, 0);
    assert_int_equal(after.unauthenticated, 0);
    mxrtc_net_turn_close(&t);
}

static int load_env(void **state) {
    (void)state;
    return coturn_env_load(&env);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(udp_to_udp),
        cmocka_unit_test(tcp_to_udp),
        cmocka_unit_test(tls_to_tcp),
        cmocka_unit_test(rest_credentials),
        cmocka_unit_test(wrong_password),
        cmocka_unit_test(refreshes_against_the_real_server),
    };
    return cmocka_run_group_tests(tests, load_env, NULL);
}
