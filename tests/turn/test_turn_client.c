/*
 * The TURN client against a scripted in-memory server built with the STUN
 * codec, on a virtual clock: long-term authentication (401, 438), integrity
 * of responses, refresh timing, permissions, channels, Send/Data indications,
 * ChannelData over UDP and TCP, loss and timeouts, deallocation, the drain
 * rule, and allocation failures (leak-checked).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/random.h"
#include "stun/stun.h"
#include "stun/turn_client.h"
#include "stun/turn_framing.h"
#include "support/test_alloc.h"

#define SEC 1000000ull
#define USER "1700000000:alice"
#define PASS "c2VjcmV0LXBhc3N3b3Jk"
#define REALM "mxrtc.test"

/* ---- a scripted TURN server --------------------------------------------- */

typedef struct server {
    mxrtc_stun_key key;
    char nonce[32];
    int nonce_gen;
    uint32_t lifetime;            /* granted allocation lifetime */
    mxrtc_addr relayed, mapped;
    bool allocated;
    bool stream;                  /* TCP: pad ChannelData */
    int drop_requests;            /* drop this many requests silently */
    int stale_next;               /* answer the next N authenticated requests with 438 */
    bool corrupt_integrity;       /* sign success responses with a wrong key */
    int fail_permission_code;     /* answer CreatePermission with this error */
    /* counters */
    int allocates, refreshes, permissions, binds, sends, channel_data, unauthenticated_requests;
    uint32_t last_refresh_lifetime;
    uint16_t bound_channel;
    mxrtc_addr bound_peer;
    uint8_t last_payload[2048];
    size_t last_payload_len;
    mxrtc_addr last_peer;
    /* responses waiting for delivery to the client */
    uint8_t out[16][2048];
    size_t out_len[16];
    int nout;
} server;

static void server_init(server *s) {
    memset(s, 0, sizeof *s);
    mxrtc_stun_key_long_term(&s->key, MXRTC_STUN_PASSWORD_MD5, USER, strlen(USER), REALM, strlen(REALM), PASS,
                             strlen(PASS));
    snprintf(s->nonce, sizeof s->nonce, "nonce-%d", s->nonce_gen);
    s->lifetime = 600;
    mxrtc_addr_parse(&s->relayed, "203.0.113.10", 49152);
    mxrtc_addr_parse(&s->mapped, "198.51.100.20", 40000);
}

static void queue_out(server *s, const uint8_t *p, size_t n) {
    assert_true(s->nout < 16);
    memcpy(s->out[s->nout], p, n);
    s->out_len[s->nout++] = n;
}

/* with_realm: a 401/438 challenge (unsigned); otherwise the error answers an
 * authenticated request and is signed, as RFC 8489 §9.2.4 asks of servers. */
static void respond_error(server *s, const mxrtc_stun_msg *req, int code, bool with_realm) {
    uint8_t buf[512];
    mxrtc_stun_builder b;
    mxrtc_stun_build_begin(&b, buf, sizeof buf, req->method, MXRTC_STUN_ERROR, req->tid);
    mxrtc_stun_add_error(&b, code, "err");
    if (with_realm) {
        mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_REALM, REALM, strlen(REALM));
        mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_NONCE, s->nonce, strlen(s->nonce));
    } else {
        mxrtc_stun_add_integrity(&b, &s->key);
    }
    mxrtc_stun_add_fingerprint(&b);
    int n = mxrtc_stun_build_end(&b);
    assert_true(n > 0);
    queue_out(s, buf, (size_t)n);
}

static void server_input(server *s, const uint8_t *p, size_t n) {
    if (n >= 4 && (p[0] & 0xC0) == 0x40) {
        uint16_t ch;
        const uint8_t *d;
        size_t dl;
        /* Over a stream the client pads; the frame here is exactly one message. */
        assert_int_equal(mxrtc_channeldata_decode(p, n, &ch, &d, &dl), MXRTC_OK);
        if (s->stream) assert_int_equal(n % 4, 0);
        else assert_int_equal(n, 4 + dl);
        assert_int_equal(ch, s->bound_channel);
        s->channel_data++;
        memcpy(s->last_payload, d, dl);
        s->last_payload_len = dl;
        return;
    }
    mxrtc_stun_msg m;
    assert_int_equal(mxrtc_stun_decode(&m, p, n), MXRTC_OK);
    if (m.cls == MXRTC_STUN_INDICATION) {
        assert_int_equal(m.method, MXRTC_STUN_SEND);
        const uint8_t *d;
        size_t dl;
        assert_int_equal(mxrtc_stun_get_xor_addr(&m, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, &s->last_peer), MXRTC_OK);
        assert_int_equal(mxrtc_stun_get_data(&m, &d, &dl), MXRTC_OK);
        memcpy(s->last_payload, d, dl);
        s->last_payload_len = dl;
        s->sends++;
        return;
    }
    assert_int_equal(m.cls, MXRTC_STUN_REQUEST);
    assert_true(m.fingerprint >= 0);  /* our requests always carry one */
    if (s->drop_requests > 0) {
        s->drop_requests--;
        return;
    }
    /* Long-term authentication, RFC 8489 §9.2.4. */
    if (m.integrity < 0) {
        s->unauthenticated_requests++;
        respond_error(s, &m, 401, true);
        return;
    }
    const char *t;
    size_t tl;
    assert_int_equal(mxrtc_stun_get_text(&m, MXRTC_STUN_ATTR_USERNAME, &t, &tl), MXRTC_OK);
    if (mxrtc_stun_check_integrity(&m, &s->key) != MXRTC_OK) {
        respond_error(s, &m, 401, true);
        return;
    }
    assert_int_equal(mxrtc_stun_get_text(&m, MXRTC_STUN_ATTR_NONCE, &t, &tl), MXRTC_OK);
    if (s->stale_next > 0 || tl != strlen(s->nonce) || memcmp(t, s->nonce, tl) != 0) {
        if (s->stale_next > 0) {
            s->stale_next--;
            snprintf(s->nonce, sizeof s->nonce, "nonce-%d", ++s->nonce_gen);
        }
        respond_error(s, &m, 438, true);
        return;
    }
    uint8_t buf[512];
    mxrtc_stun_builder b;
    mxrtc_stun_build_begin(&b, buf, sizeof buf, m.method, MXRTC_STUN_SUCCESS, m.tid);
    switch (m.method) {
    case MXRTC_STUN_ALLOCATE: {
        const mxrtc_stun_attr *rt = mxrtc_stun_find(&m, MXRTC_STUN_ATTR_REQUESTED_TRANSPORT);
        assert_non_null(rt);
        assert_int_equal(rt->value[0], 17);
        s->allocates++;
        s->allocated = true;
        mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_RELAYED_ADDRESS, &s->relayed);
        mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &s->mapped);
        mxrtc_stun_add_u32(&b, MXRTC_STUN_ATTR_LIFETIME, s->lifetime);
        break;
    }
    case MXRTC_STUN_REFRESH: {
        uint32_t lt = 0;
        assert_int_equal(mxrtc_stun_get_u32(&m, MXRTC_STUN_ATTR_LIFETIME, &lt), MXRTC_OK);
        s->refreshes++;
        s->last_refresh_lifetime = lt;
        if (lt == 0) s->allocated = false;
        mxrtc_stun_add_u32(&b, MXRTC_STUN_ATTR_LIFETIME, lt ? s->lifetime : 0);
        break;
    }
    case MXRTC_STUN_CREATE_PERMISSION:
        s->permissions++;
        assert_int_equal(mxrtc_stun_get_xor_addr(&m, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, &s->last_peer), MXRTC_OK);
        if (s->fail_permission_code) {
            respond_error(s, &m, s->fail_permission_code, false);
            return;
        }
        break;
    case MXRTC_STUN_CHANNEL_BIND:
        s->binds++;
        assert_int_equal(mxrtc_stun_get_channel(&m, &s->bound_channel), MXRTC_OK);
        assert_int_equal(mxrtc_stun_get_xor_addr(&m, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, &s->bound_peer), MXRTC_OK);
        break;
    default:
        fail_msg("unexpected method %d", m.method);
    }
    mxrtc_stun_key wrong = s->key;
    wrong.bytes[0] ^= 0xFF;
    mxrtc_stun_add_integrity(&b, s->corrupt_integrity ? &wrong : &s->key);
    mxrtc_stun_add_fingerprint(&b);
    int n2 = mxrtc_stun_build_end(&b);
    assert_true(n2 > 0);
    queue_out(s, buf, (size_t)n2);
}

/* A Data indication from peer through the server to the client. */
static size_t server_data_indication(uint8_t *buf, size_t cap, const mxrtc_addr *peer, const char *text) {
    uint8_t tid[12] = {7};
    mxrtc_stun_builder b;
    mxrtc_stun_build_begin(&b, buf, cap, MXRTC_STUN_DATA, MXRTC_STUN_INDICATION, tid);
    mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, peer);
    mxrtc_stun_add(&b, MXRTC_STUN_ATTR_DATA, text, strlen(text));
    return (size_t)mxrtc_stun_build_end(&b);
}

/* ---- the harness -------------------------------------------------------- */

typedef struct event {
    mxrtc_turn_event_type type;
    int error, stun_code;
    uint16_t channel;
    mxrtc_addr peer, relayed;
    uint32_t lifetime;
    char data[256];
    size_t len;
} event;

typedef struct harness {
    test_alloc ta;
    mxrtc_seeded_random rng;
    mxrtc_turn_client *c;
    server s;
    mxrtc_time_us now;
    mxrtc_time_us deadline;
    event ev[64];
    int nev;
    int transmits;
    bool lose_responses;
} harness;

static void record_event(harness *h, const mxrtc_turn_output *out) {
    assert_true(h->nev < 64);
    event *e = &h->ev[h->nev++];
    memset(e, 0, sizeof *e);
    e->type = out->event;
    e->error = out->error;
    e->stun_code = out->stun_code;
    e->channel = out->channel;
    e->peer = out->peer;
    e->relayed = out->relayed;
    e->lifetime = out->lifetime_s;
    e->len = out->len < sizeof e->data ? out->len : sizeof e->data;
    if (out->len) memcpy(e->data, out->data, e->len);
}

/* Polls the client until its deadline: transmits go to the server, events
 * are recorded. */
static void drain_client(harness *h) {
    mxrtc_turn_output out;
    for (;;) {
        assert_int_equal(mxrtc_turn_client_poll(h->c, h->now, &out), MXRTC_OK);
        if (out.kind == MXRTC_TURN_OUT_DEADLINE) {
            h->deadline = out.deadline;
            return;
        }
        if (out.kind == MXRTC_TURN_OUT_TRANSMIT) {
            h->transmits++;
            server_input(&h->s, out.data, out.len);
        } else {
            record_event(h, &out);
        }
    }
}

/* Drains the client, delivers the server's answers (draining after each, as
 * the drain rule asks), and repeats until nothing moves. */
static void pump(harness *h) {
    for (int round = 0; round < 50; round++) {
        drain_client(h);
        if (h->s.nout == 0) return;
        /* Snapshot: draining makes the server write new answers. */
        static uint8_t answers[16][2048];
        size_t lens[16];
        int n = h->s.nout;
        for (int i = 0; i < n; i++) {
            memcpy(answers[i], h->s.out[i], h->s.out_len[i]);
            lens[i] = h->s.out_len[i];
        }
        h->s.nout = 0;
        for (int i = 0; i < n; i++) {
            if (h->lose_responses) continue;
            assert_int_equal(mxrtc_turn_client_handle_input(h->c, h->now, answers[i], lens[i]), MXRTC_OK);
            drain_client(h);
        }
    }
    fail_msg("pump did not settle");
}

/* Moves the virtual clock to t, waking the client at each deadline on the way. */
static void advance(harness *h, mxrtc_time_us t) {
    while (h->deadline <= t) {
        h->now = h->deadline;
        assert_int_equal(mxrtc_turn_client_handle_timeout(h->c, h->now), MXRTC_OK);
        pump(h);
    }
    h->now = t;
    assert_int_equal(mxrtc_turn_client_handle_timeout(h->c, h->now), MXRTC_OK);
    pump(h);
}

static const event *find_event(const harness *h, mxrtc_turn_event_type type) {
    for (int i = 0; i < h->nev; i++)
        if (h->ev[i].type == type) return &h->ev[i];
    return NULL;
}

static int count_events(const harness *h, mxrtc_turn_event_type type) {
    int n = 0;
    for (int i = 0; i < h->nev; i++) n += h->ev[i].type == type;
    return n;
}

static int setup_transport(void **state, mxrtc_turn_transport transport) {
    harness *h = calloc(1, sizeof *h);
    test_alloc_init(&h->ta);
    mxrtc_seeded_random_init(&h->rng, 1234);
    server_init(&h->s);
    h->s.stream = transport != MXRTC_TURN_UDP;
    h->now = 1000 * SEC;
    mxrtc_turn_config cfg;
    mxrtc_turn_config_init(&cfg);
    cfg.allocator = &h->ta.iface;
    cfg.random = mxrtc_seeded_random_source(&h->rng);
    cfg.transport = transport;
    cfg.username = USER;
    cfg.password = PASS;
    cfg.software = "mxrtc test";
    cfg.max_peers = 4;
    cfg.rx_queue_bytes = 8192;
    if (mxrtc_turn_client_new(&h->c, &cfg, h->now) != MXRTC_OK) return -1;
    *state = h;
    return 0;
}

static int setup(void **state) { return setup_transport(state, MXRTC_TURN_UDP); }
static int setup_tcp(void **state) { return setup_transport(state, MXRTC_TURN_TCP); }

static int teardown(void **state) {
    harness *h = *state;
    mxrtc_turn_client_free(h->c);
    int leaked = (int)h->ta.live;
    free(h);
    return leaked == 0 ? 0 : -1;
}

static void allocate(harness *h) {
    assert_int_equal(mxrtc_turn_client_allocate(h->c, h->now), MXRTC_OK);
    pump(h);
    const event *e = find_event(h, MXRTC_TURN_EV_ALLOCATED);
    assert_non_null(e);
    assert_true(mxrtc_addr_equal(&e->relayed, &h->s.relayed));
    assert_int_equal(e->lifetime, 600);
    assert_int_equal(mxrtc_turn_client_state(h->c), MXRTC_TURN_STATE_ALLOCATED);
}

/* ---- tests -------------------------------------------------------------- */

static void allocate_authenticates_after_401(void **state) {
    harness *h = *state;
    allocate(h);
    assert_int_equal(h->s.unauthenticated_requests, 1);  /* one 401 round trip */
    assert_int_equal(h->s.allocates, 1);
    mxrtc_addr relayed;
    assert_int_equal(mxrtc_turn_client_relayed_address(h->c, &relayed), MXRTC_OK);
    assert_true(mxrtc_addr_equal(&relayed, &h->s.relayed));
    /* Nothing else is due before the refresh, one minute before expiry. */
    assert_int_equal(h->deadline, h->now + 540 * SEC);
}

static void stale_nonce_is_retried(void **state) {
    harness *h = *state;
    h->s.stale_next = 1;  /* the authenticated Allocate gets 438 and a new nonce */
    allocate(h);
    assert_int_equal(h->s.allocates, 1);
    assert_null(find_event(h, MXRTC_TURN_EV_ALLOCATE_FAILED));
}

static void endless_stale_nonce_gives_up(void **state) {
    harness *h = *state;
    h->s.stale_next = 100;
    assert_int_equal(mxrtc_turn_client_allocate(h->c, h->now), MXRTC_OK);
    pump(h);
    const event *e = find_event(h, MXRTC_TURN_EV_ALLOCATE_FAILED);
    assert_non_null(e);
    assert_int_equal(e->stun_code, 438);
    assert_int_equal(e->error, MXRTC_ERR_REMOTE);
    assert_int_equal(mxrtc_turn_client_state(h->c), MXRTC_TURN_STATE_FAILED);
}

static void wrong_password_is_an_auth_error(void **state) {
    harness *h = *state;
    mxrtc_stun_key_long_term(&h->s.key, MXRTC_STUN_PASSWORD_MD5, USER, strlen(USER), REALM, strlen(REALM),
                             "other", 5);
    assert_int_equal(mxrtc_turn_client_allocate(h->c, h->now), MXRTC_OK);
    pump(h);
    const event *e = find_event(h, MXRTC_TURN_EV_ALLOCATE_FAILED);
    assert_non_null(e);
    assert_int_equal(e->error, MXRTC_ERR_AUTH);
    assert_int_equal(e->stun_code, 401);
    assert_int_equal(h->s.allocates, 0);
}

static void forged_response_is_dropped(void **state) {
    harness *h = *state;
    h->s.corrupt_integrity = true;
    assert_int_equal(mxrtc_turn_client_allocate(h->c, h->now), MXRTC_OK);
    pump(h);
    assert_null(find_event(h, MXRTC_TURN_EV_ALLOCATED));
    mxrtc_turn_stats st;
    mxrtc_turn_client_stats(h->c, &st);
    assert_true(st.unauthenticated >= 1);
    assert_int_equal(mxrtc_turn_client_state(h->c), MXRTC_TURN_STATE_ALLOCATING);
}

static void lost_requests_are_retransmitted_then_time_out(void **state) {
    harness *h = *state;
    h->s.drop_requests = 2;  /* first two transmissions vanish */
    assert_int_equal(mxrtc_turn_client_allocate(h->c, h->now), MXRTC_OK);
    pump(h);
    mxrtc_time_us start = h->now;
    advance(h, start + 2 * SEC);  /* retransmissions at +0.5 s and +1.5 s */
    assert_non_null(find_event(h, MXRTC_TURN_EV_ALLOCATED));

    /* A server that never answers: RFC 8489 §6.2.1, 39.5 s. */
    harness *h2 = h;
    mxrtc_turn_client_free(h2->c);
    h2->c = NULL;
    mxrtc_turn_config cfg;
    mxrtc_turn_config_init(&cfg);
    cfg.allocator = &h->ta.iface;
    cfg.random = mxrtc_seeded_random_source(&h->rng);
    cfg.username = USER;
    cfg.password = PASS;
    assert_int_equal(mxrtc_turn_client_new(&h->c, &cfg, h->now), MXRTC_OK);
    h->nev = 0;
    h->s.drop_requests = 1000;
    start = h->now;
    assert_int_equal(mxrtc_turn_client_allocate(h->c, h->now), MXRTC_OK);
    pump(h);
    advance(h, start + 39 * SEC);
    assert_null(find_event(h, MXRTC_TURN_EV_ALLOCATE_FAILED));
    advance(h, start + 40 * SEC);
    const event *e = find_event(h, MXRTC_TURN_EV_ALLOCATE_FAILED);
    assert_non_null(e);
    assert_int_equal(e->error, MXRTC_ERR_TIMEOUT);
}

static void refreshes_before_expiry_and_deallocates(void **state) {
    harness *h = *state;
    allocate(h);
    mxrtc_time_us t0 = h->now;
    advance(h, t0 + 539 * SEC);
    assert_int_equal(h->s.refreshes, 0);
    advance(h, t0 + 540 * SEC);
    assert_int_equal(h->s.refreshes, 1);
    assert_int_equal(h->s.last_refresh_lifetime, 600);
    assert_non_null(find_event(h, MXRTC_TURN_EV_REFRESHED));
    /* Kept alive over an hour: one refresh every 540 s. */
    advance(h, t0 + 3600 * SEC);
    assert_int_equal(h->s.refreshes, 6);
    assert_int_equal(mxrtc_turn_client_state(h->c), MXRTC_TURN_STATE_ALLOCATED);

    assert_int_equal(mxrtc_turn_client_deallocate(h->c, h->now), MXRTC_OK);
    pump(h);
    assert_int_equal(h->s.last_refresh_lifetime, 0);
    assert_false(h->s.allocated);
    assert_non_null(find_event(h, MXRTC_TURN_EV_DEALLOCATED));
    assert_int_equal(mxrtc_turn_client_state(h->c), MXRTC_TURN_STATE_CLOSED);
}

static void permission_send_and_data_indication(void **state) {
    harness *h = *state;
    allocate(h);
    mxrtc_addr peer;
    mxrtc_addr_parse(&peer, "192.0.2.77", 5000);
    const uint8_t hello[] = "hello";
    assert_int_equal(mxrtc_turn_client_send(h->c, h->now, &peer, hello, 5), MXRTC_ERR_NOT_FOUND);
    assert_int_equal(mxrtc_turn_client_permit(h->c, h->now, &peer), MXRTC_OK);
    pump(h);
    assert_int_equal(h->s.permissions, 1);
    assert_non_null(find_event(h, MXRTC_TURN_EV_PERMISSION_CREATED));

    assert_int_equal(mxrtc_turn_client_send(h->c, h->now, &peer, hello, 5), MXRTC_OK);
    pump(h);
    assert_int_equal(h->s.sends, 1);
    assert_int_equal(h->s.last_payload_len, 5);
    assert_memory_equal(h->s.last_payload, "hello", 5);
    assert_true(mxrtc_addr_equal(&h->s.last_peer, &peer));

    uint8_t ind[256];
    size_t n = server_data_indication(ind, sizeof ind, &peer, "back at you");
    assert_int_equal(mxrtc_turn_client_handle_input(h->c, h->now, ind, n), MXRTC_OK);
    pump(h);
    const event *e = find_event(h, MXRTC_TURN_EV_DATA);
    assert_non_null(e);
    assert_int_equal(e->len, 11);
    assert_memory_equal(e->data, "back at you", 11);
    assert_true(mxrtc_addr_equal(&e->peer, &peer));
    assert_int_equal(e->channel, 0);

    /* Permissions are refreshed every 4 minutes (they last 5). */
    mxrtc_time_us t0 = h->now;
    advance(h, t0 + 239 * SEC);
    assert_int_equal(h->s.permissions, 1);
    advance(h, t0 + 241 * SEC);
    assert_int_equal(h->s.permissions, 2);
    assert_int_equal(count_events(h, MXRTC_TURN_EV_PERMISSION_CREATED), 1);  /* reported once */
}

static void permission_failure_is_reported(void **state) {
    harness *h = *state;
    allocate(h);
    h->s.fail_permission_code = 403;
    mxrtc_addr peer;
    mxrtc_addr_parse(&peer, "192.0.2.1", 1);
    assert_int_equal(mxrtc_turn_client_permit(h->c, h->now, &peer), MXRTC_OK);
    pump(h);
    const event *e = find_event(h, MXRTC_TURN_EV_PERMISSION_FAILED);
    assert_non_null(e);
    assert_int_equal(e->stun_code, 403);
    assert_int_equal(e->error, MXRTC_ERR_AUTH);
}

static void channel_bind_and_channel_data(void **state) {
    harness *h = *state;
    allocate(h);
    mxrtc_addr peer;
    mxrtc_addr_parse(&peer, "2001:db8::9", 6000);
    uint16_t ch = 0;
    assert_int_equal(mxrtc_turn_client_bind_channel(h->c, h->now, &peer, &ch), MXRTC_OK);
    assert_int_equal(ch, 0x4000);
    pump(h);
    assert_int_equal(h->s.binds, 1);
    assert_int_equal(h->s.bound_channel, 0x4000);
    assert_true(mxrtc_addr_equal(&h->s.bound_peer, &peer));
    const event *e = find_event(h, MXRTC_TURN_EV_CHANNEL_BOUND);
    assert_non_null(e);
    assert_int_equal(e->channel, 0x4000);

    const uint8_t payload[7] = {1, 2, 3, 4, 5, 6, 7};
    assert_int_equal(mxrtc_turn_client_send(h->c, h->now, &peer, payload, 7), MXRTC_OK);
    pump(h);
    assert_int_equal(h->s.channel_data, 1);
    assert_int_equal(h->s.sends, 0);
    assert_memory_equal(h->s.last_payload, payload, 7);

    /* ChannelData from the server, with UDP padding the RFC allows. */
    uint8_t cd[16];
    int n = mxrtc_channeldata_encode(0x4000, (const uint8_t *)"pong!", 5, 1, cd, sizeof cd);
    assert_int_equal(n, 12);
    assert_int_equal(mxrtc_turn_client_handle_input(h->c, h->now, cd, (size_t)n), MXRTC_OK);
    pump(h);
    e = find_event(h, MXRTC_TURN_EV_DATA);
    assert_non_null(e);
    assert_int_equal(e->channel, 0x4000);
    assert_int_equal(e->len, 5);
    assert_memory_equal(e->data, "pong!", 5);

    /* An unbound channel number is dropped and counted. */
    n = mxrtc_channeldata_encode(0x4321, (const uint8_t *)"x", 1, 0, cd, sizeof cd);
    assert_int_equal(mxrtc_turn_client_handle_input(h->c, h->now, cd, (size_t)n), MXRTC_OK);
    pump(h);
    mxrtc_turn_stats st;
    mxrtc_turn_client_stats(h->c, &st);
    assert_int_equal(st.unknown_channel, 1);

    /* Bindings are refreshed every 9 minutes (they last 10). */
    mxrtc_time_us t0 = h->now;
    advance(h, t0 + 541 * SEC);
    assert_int_equal(h->s.binds, 2);
    assert_int_equal(count_events(h, MXRTC_TURN_EV_CHANNEL_BOUND), 1);
}

static void requests_made_while_allocating_wait(void **state) {
    harness *h = *state;
    h->s.drop_requests = 1;
    assert_int_equal(mxrtc_turn_client_allocate(h->c, h->now), MXRTC_OK);
    pump(h);
    mxrtc_addr peer;
    mxrtc_addr_parse(&peer, "192.0.2.5", 9);
    assert_int_equal(mxrtc_turn_client_permit(h->c, h->now, &peer), MXRTC_OK);
    pump(h);
    assert_int_equal(h->s.permissions, 0);
    advance(h, h->now + 1 * SEC);
    assert_non_null(find_event(h, MXRTC_TURN_EV_ALLOCATED));
    assert_int_equal(h->s.permissions, 1);
}

static void drain_rule_is_enforced(void **state) {
    harness *h = *state;
    assert_int_equal(mxrtc_turn_client_allocate(h->c, h->now), MXRTC_OK);
    /* not drained: a second input is refused */
    assert_int_equal(mxrtc_turn_client_handle_timeout(h->c, h->now), MXRTC_ERR_STATE);
    pump(h);
    assert_int_equal(mxrtc_turn_client_handle_timeout(h->c, h->now), MXRTC_OK);
    pump(h);
    assert_int_equal(mxrtc_turn_client_allocate(h->c, h->now), MXRTC_ERR_STATE);  /* not IDLE any more */
}

static void garbage_input_is_counted(void **state) {
    harness *h = *state;
    allocate(h);
    const uint8_t junk[] = {0x00, 0x01, 0x00, 0x04, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    assert_int_equal(mxrtc_turn_client_handle_input(h->c, h->now, junk, sizeof junk), MXRTC_OK);
    pump(h);
    assert_int_equal(mxrtc_turn_client_handle_input(h->c, h->now, junk, 3), MXRTC_OK);
    pump(h);
    mxrtc_turn_stats st;
    mxrtc_turn_client_stats(h->c, &st);
    assert_int_equal(st.malformed, 2);
    assert_int_equal(mxrtc_turn_client_state(h->c), MXRTC_TURN_STATE_ALLOCATED);
}

/* Over TCP one chunk can carry many frames, all of them queued by one input:
 * the 8 KiB receive queue must take what fits, drop and count the rest. */
static void receive_queue_is_bounded(void **state) {
    harness *h = *state;
    allocate(h);
    mxrtc_addr peer;
    mxrtc_addr_parse(&peer, "192.0.2.77", 5000);
    assert_int_equal(mxrtc_turn_client_bind_channel(h->c, h->now, &peer, NULL), MXRTC_OK);
    pump(h);
    assert_non_null(find_event(h, MXRTC_TURN_EV_CHANNEL_BOUND));
    static uint8_t chunk[20 * 1004];
    uint8_t payload[1000];
    memset(payload, 'z', sizeof payload);
    size_t off = 0;
    for (int i = 0; i < 20; i++) {
        int n = mxrtc_channeldata_encode(0x4000, payload, sizeof payload, 1, chunk + off, sizeof chunk - off);
        assert_int_equal(n, 1004);
        off += (size_t)n;
    }
    h->nev = 0;
    assert_int_equal(mxrtc_turn_client_handle_input(h->c, h->now, chunk, off), MXRTC_OK);
    pump(h);
    mxrtc_turn_stats st;
    mxrtc_turn_client_stats(h->c, &st);
    int delivered = count_events(h, MXRTC_TURN_EV_DATA);
    assert_int_equal(st.data_received, 20);
    assert_true(st.rx_dropped > 0);
    assert_true(delivered > 0);
    assert_int_equal((uint64_t)delivered + st.rx_dropped, 20);
    assert_int_equal(mxrtc_turn_client_state(h->c), MXRTC_TURN_STATE_ALLOCATED);
}

static void tcp_frames_channel_data_padded_and_reassembles(void **state) {
    harness *h = *state;
    /* Over TCP the server's responses arrive as one byte stream: deliver
     * them one byte at a time. */
    assert_int_equal(mxrtc_turn_client_allocate(h->c, h->now), MXRTC_OK);
    for (int round = 0; round < 4 && !find_event(h, MXRTC_TURN_EV_ALLOCATED); round++) {
        drain_client(h);
        /* Snapshot the server's answers: the client's replies make it write new ones. */
        static uint8_t stream[16 * 2048];
        size_t slen = 0;
        for (int i = 0; i < h->s.nout; i++) {
            memcpy(stream + slen, h->s.out[i], h->s.out_len[i]);
            slen += h->s.out_len[i];
        }
        h->s.nout = 0;
        for (size_t k = 0; k < slen; k++) {
            assert_int_equal(mxrtc_turn_client_handle_input(h->c, h->now, &stream[k], 1), MXRTC_OK);
            drain_client(h);
        }
    }
    assert_non_null(find_event(h, MXRTC_TURN_EV_ALLOCATED));
    mxrtc_addr peer;
    mxrtc_addr_parse(&peer, "192.0.2.9", 7);
    assert_int_equal(mxrtc_turn_client_bind_channel(h->c, h->now, &peer, NULL), MXRTC_OK);
    pump(h);
    assert_non_null(find_event(h, MXRTC_TURN_EV_CHANNEL_BOUND));
    assert_int_equal(mxrtc_turn_client_send(h->c, h->now, &peer, (const uint8_t *)"abcde", 5), MXRTC_OK);
    pump(h);  /* the server asserts the 4-byte padding */
    assert_int_equal(h->s.channel_data, 1);

    /* Two ChannelData frames and a Data indication in one TCP chunk. */
    uint8_t chunk[256];
    int a = mxrtc_channeldata_encode(0x4000, (const uint8_t *)"one", 3, 1, chunk, sizeof chunk);
    int b = mxrtc_channeldata_encode(0x4000, (const uint8_t *)"two!", 4, 1, chunk + a, sizeof chunk - (size_t)a);
    size_t c = server_data_indication(chunk + a + b, sizeof chunk - (size_t)(a + b), &peer, "three");
    h->nev = 0;
    assert_int_equal(mxrtc_turn_client_handle_input(h->c, h->now, chunk, (size_t)(a + b) + c), MXRTC_OK);
    pump(h);
    assert_int_equal(count_events(h, MXRTC_TURN_EV_DATA), 3);
    assert_int_equal(h->ev[0].len, 3);
    assert_int_equal(h->ev[1].len, 4);
    assert_memory_equal(h->ev[2].data, "three", 5);

    /* A stream that cannot be framed kills the transport. */
    const uint8_t bad[4] = {0xC0, 0, 0, 0};
    assert_int_equal(mxrtc_turn_client_handle_input(h->c, h->now, bad, 4), MXRTC_OK);
    pump(h);
    assert_non_null(find_event(h, MXRTC_TURN_EV_TRANSPORT_FAILED));
    assert_int_equal(mxrtc_turn_client_state(h->c), MXRTC_TURN_STATE_FAILED);
}

static void allocation_failures_leak_nothing(void **state) {
    (void)state;
    for (long n = 1; n < 40; n++) {
        test_alloc ta;
        test_alloc_init(&ta);
        test_alloc_fail_nth(&ta, n);
        mxrtc_turn_config cfg;
        mxrtc_turn_config_init(&cfg);
        cfg.allocator = &ta.iface;
        cfg.username = USER;
        cfg.password = PASS;
        cfg.software = "x";
        cfg.transport = (n & 1) ? MXRTC_TURN_TCP : MXRTC_TURN_UDP;
        mxrtc_turn_client *c = NULL;
        int rc = mxrtc_turn_client_new(&c, &cfg, 0);
        if (rc == MXRTC_OK) {
            assert_int_equal(ta.failures, 0);
            mxrtc_turn_client_free(c);
        } else {
            assert_int_equal(rc, MXRTC_ERR_NO_MEMORY);
            assert_null(c);
        }
        assert_int_equal(ta.live, 0);
    }
}

static void rejects_bad_config(void **state) {
    (void)state;
    mxrtc_turn_config cfg;
    mxrtc_turn_config_init(&cfg);
    mxrtc_turn_client *c = (mxrtc_turn_client *)1;
    assert_int_equal(mxrtc_turn_client_new(&c, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);
    assert_null(c);
    cfg.username = USER;
    cfg.password = PASS;
    cfg.size = 4;
    assert_int_equal(mxrtc_turn_client_new(&c, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_turn_client_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(allocate_authenticates_after_401, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_nonce_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(endless_stale_nonce_gives_up, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_password_is_an_auth_error, setup, teardown),
        cmocka_unit_test_setup_teardown(forged_response_is_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(lost_requests_are_retransmitted_then_time_out, setup, teardown),
        cmocka_unit_test_setup_teardown(refreshes_before_expiry_and_deallocates, setup, teardown),
        cmocka_unit_test_setup_teardown(permission_send_and_data_indication, setup, teardown),
        cmocka_unit_test_setup_teardown(permission_failure_is_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(channel_bind_and_channel_data, setup, teardown),
        cmocka_unit_test_setup_teardown(requests_made_while_allocating_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(drain_rule_is_enforced, setup, teardown),
        cmocka_unit_test_setup_teardown(garbage_input_is_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(receive_queue_is_bounded, setup_tcp, teardown),
        cmocka_unit_test_setup_teardown(tcp_frames_channel_data_padded_and_reassembles, setup_tcp, teardown),
        cmocka_unit_test(allocation_failures_leak_nothing),
        cmocka_unit_test(rejects_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
