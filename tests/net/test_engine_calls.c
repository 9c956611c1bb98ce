/*
 * test_engine_calls.c: two mxrtc_calls objects (alice's and bob's device),
 * each behind net/engine_calls.h on its own runner (own I/O thread and
 * sockets) on 127.0.0.1, complete a Matrix voice call. The room is in
 * memory: every SEND_EVENT output is handed, as a runner command, to BOTH
 * runners (the echo to the sender included, as a homeserver does). Media
 * is paced by the adapter's tick: every 10 ms one frame of a tone is pushed
 * for the call (alice 1000 Hz, bob 660 Hz) and 10 ms of playout pulled;
 * each side must find the OTHER side's tone within 2 %. Then alice hangs
 * up: both see the call end (user_hangup; remote_ended on bob's side).
 *
 * Real sockets need real time: every wait has a 20 s hang guard and no
 * timing is asserted.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <time.h>

#include "base/random.h"
#include "net/clock.h"
#include "net/engine_calls.h"
#include "net/runner.h"
#include "tools/media/media.h"

#define ROOM "!room:127.0.0.1"
#define RX_FRAMES 16384

typedef struct world world;

typedef struct side {
    world *w;
    int index;
    const char *user;
    mxrtc_calls *calls;
    mxrtc_net_calls adapter;
    mxrtc_net_runner *r;
    mxrtc_seeded_random rng;
    mxrtc_tone tone;
    /* I/O thread only */
    char media_call[MXRTC_CALL_ID_MAX + 1];
    mxrtc_time_us first_audio;
    int16_t rx[RX_FRAMES];
    size_t rx_n;
    /* under w->mu */
    char incoming[MXRTC_CALL_ID_MAX + 1];
    bool done, connected, ended;
    mxrtc_call_end_reason reason;
    int remote_ended;
    int push_errors, feed_errors, wrong_thread;
} side;

struct world {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    side s[2];
};

typedef struct room_msg {
    side *to;
    char sender[64], type[64];
    char *content;
} room_msg;

static bool only_loopback_v4(void *user, const mxrtc_net_iface *i) {
    (void)user;
    return i->loopback && i->addr.family == MXRTC_AF_INET4 && i->addr.ip[0] == 127;
}

static void cmd_feed(void *arg, mxrtc_time_us now) {
    room_msg *m = arg;
    if (now != MXRTC_TIME_NEVER) {
        mxrtc_room_event e = {ROOM, m->sender, m->type, NULL, m->content, strlen(m->content), MXRTC_AGE_UNKNOWN, 0};
        if (mxrtc_calls_feed_event(m->to->calls, now, &e, NULL) != MXRTC_OK) {
            pthread_mutex_lock(&m->to->w->mu);
            m->to->feed_errors++;
            pthread_mutex_unlock(&m->to->w->mu);
        }
    }
    free(m->content);
    free(m);
}

/* The fake homeserver: the event goes to both devices. */
static void post(side *from, const mxrtc_calls_output *o) {
    for (int i = 0; i < 2; i++) {
        room_msg *m = calloc(1, sizeof *m);
        if (!m) return;
        m->to = &from->w->s[i];
        snprintf(m->sender, sizeof m->sender, "%s", from->user);
        snprintf(m->type, sizeof m->type, "%s", o->type);
        m->content = strdup(o->content);
        int rc = mxrtc_net_runner_call(m->to->r, cmd_feed, m);
        if (rc == MXRTC_ERR_LIMIT && m->to->r != from->r) rc = mxrtc_net_runner_call_wait(m->to->r, cmd_feed, m);
        if (rc != MXRTC_OK) {
            free(m->content);
            free(m);
        }
    }
}

static void on_event(void *user, mxrtc_net_runner *r, const void *event) {
    side *s = user;
    const mxrtc_calls_output *o = event;
    if (!mxrtc_net_runner_on_io_thread(r) || r != s->r) {
        pthread_mutex_lock(&s->w->mu);
        s->wrong_thread++;
        pthread_mutex_unlock(&s->w->mu);
    }
    if (o->kind == MXRTC_CALLS_OUT_SEND_EVENT) {
        post(s, o);
        return;
    }
    pthread_mutex_lock(&s->w->mu);
    if (o->kind == MXRTC_CALLS_OUT_INCOMING) snprintf(s->incoming, sizeof s->incoming, "%s", o->call_id);
    if (o->kind == MXRTC_CALLS_OUT_STATE) {
        if (o->state == MXRTC_CALL_STATE_CONNECTING) snprintf(s->media_call, sizeof s->media_call, "%s", o->call_id);
        if (o->state == MXRTC_CALL_STATE_CONNECTED) s->connected = true;
        if (o->state == MXRTC_CALL_STATE_ENDED) {
            s->ended = true;
            s->reason = o->end_reason;
            s->remote_ended = o->remote_ended;
            s->media_call[0] = 0;
        }
    }
    pthread_cond_broadcast(&s->w->cv);
    pthread_mutex_unlock(&s->w->mu);
}

static bool tick(void *user, mxrtc_calls *c, mxrtc_time_us now, int first) {
    side *s = user;
    if (!first || !s->media_call[0]) return false;
    int16_t pcm[480];
    mxrtc_tone_fill(&s->tone, pcm, 480, 1);
    int rc = mxrtc_calls_push_audio(c, now, s->media_call, pcm, 480);
    if (mxrtc_calls_pull_audio(c, now, s->media_call, pcm, 480) == MXRTC_OK && s->rx_n < RX_FRAMES) {
        double e = 0;
        for (int i = 0; i < 480; i++) e += (double)pcm[i] * pcm[i];
        if (!s->first_audio && sqrt(e / 480) > 328) s->first_audio = now;
        if (s->first_audio && now > s->first_audio + 300000) {
            size_t n = RX_FRAMES - s->rx_n < 480 ? RX_FRAMES - s->rx_n : 480;
            memcpy(s->rx + s->rx_n, pcm, n * sizeof pcm[0]);
            s->rx_n += n;
        }
    }
    pthread_mutex_lock(&s->w->mu);
    if (rc == MXRTC_ERR_STATE) s->push_errors++;
    if (s->rx_n == RX_FRAMES && !s->done) {
        s->done = true;
        pthread_cond_broadcast(&s->w->cv);
    }
    pthread_mutex_unlock(&s->w->mu);
    return false;
}

/* ---- user actions as runner commands ---- */

typedef struct act_cmd {
    side *s;
    int op;                 /* 0 place, 1 answer, 2 hangup */
    char call_id[MXRTC_CALL_ID_MAX + 1];
    int rc;
} act_cmd;

static void cmd_act(void *arg, mxrtc_time_us now) {
    act_cmd *c = arg;
    if (now == MXRTC_TIME_NEVER) {
        c->rc = MXRTC_ERR_CLOSED;
        return;
    }
    if (c->op == 0) c->rc = mxrtc_calls_place(c->s->calls, now, ROOM, NULL, 0, c->call_id, sizeof c->call_id);
    else if (c->op == 1) c->rc = mxrtc_calls_answer(c->s->calls, now, c->call_id, 0);
    else c->rc = mxrtc_calls_hangup(c->s->calls, now, c->call_id);
}

static void act(side *s, int op, char *call_id) {
    act_cmd c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.op = op;
    c.rc = -1;
    if (op) snprintf(c.call_id, sizeof c.call_id, "%s", call_id);
    assert_int_equal(mxrtc_net_runner_call_wait(s->r, cmd_act, &c), MXRTC_OK);
    assert_int_equal(c.rc, MXRTC_OK);
    if (op == 0) strcpy(call_id, c.call_id);
}

static bool wait_for(world *w, bool (*pred)(world *)) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&w->mu);
    bool ok = pred(w);
    while (!ok && pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0) ok = pred(w);
    pthread_mutex_unlock(&w->mu);
    return ok;
}

static bool bob_rings(world *w) { return w->s[1].incoming[0] != 0; }
static bool both_done(world *w) { return w->s[0].done && w->s[1].done; }
static bool both_ended(world *w) { return w->s[0].ended && w->s[1].ended; }

static void test_voice_call(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    const double hz[2] = {1000.0, 660.0};
    const char *users[2] = {"@alice:127.0.0.1", "@bob:127.0.0.1"};
    for (int i = 0; i < 2; i++) {
        side *s = &w->s[i];
        s->w = w;
        s->index = i;
        s->user = users[i];
        mxrtc_seeded_random_init(&s->rng, 700 + (uint64_t)i);
        assert_int_equal(mxrtc_tone_init(&s->tone, hz[i], 48000, 0.3), MXRTC_OK);
        mxrtc_net_runner_config rc;
        mxrtc_net_runner_config_init(&rc);
        rc.engine = mxrtc_net_calls_engine(&s->adapter, NULL);   /* the object needs our ports first */
        rc.on_event = on_event;
        rc.event_user = s;
        rc.ifaces.include_loopback = true;
        rc.ifaces.filter = only_loopback_v4;
        rc.n_mdns_dest = 0;
        assert_int_equal(mxrtc_net_runner_new(&s->r, &rc), MXRTC_OK);
        const mxrtc_addr *locals;
        size_t n;
        mxrtc_net_runner_local_addrs(s->r, &locals, &n);
        assert_true(n >= 1);
        mxrtc_peer_config pc;
        mxrtc_peer_config_init(&pc);
        pc.interfaces[0] = locals[0];
        pc.interface_count = 1;
        mxrtc_calls_config cfg;
        mxrtc_calls_config_init(&cfg);
        cfg.user_id = users[i];
        cfg.device_id = i ? "BOBDEV" : "ALICEDEV";
        cfg.random = mxrtc_seeded_random_source(&s->rng);
        cfg.peer = &pc;
        assert_int_equal(mxrtc_calls_new(&s->calls, &cfg, mxrtc_net_now()), MXRTC_OK);
        s->adapter.calls = s->calls;
        mxrtc_net_calls_set_tick(&s->adapter, 10000, tick, s);
    }
    for (int i = 0; i < 2; i++) assert_int_equal(mxrtc_net_runner_start(w->s[i].r), MXRTC_OK);

    char id[MXRTC_CALL_ID_MAX + 1];
    act(&w->s[0], 0, id);
    assert_true(wait_for(w, bob_rings));
    pthread_mutex_lock(&w->mu);
    assert_string_equal(w->s[1].incoming, id);
    pthread_mutex_unlock(&w->mu);
    act(&w->s[1], 1, id);
    assert_true(wait_for(w, both_done));
    act(&w->s[0], 2, id);
    assert_true(wait_for(w, both_ended));
    for (int i = 0; i < 2; i++) assert_int_equal(mxrtc_net_runner_stop(w->s[i].r), MXRTC_OK);
    for (int i = 0; i < 2; i++) {
        side *s = &w->s[i];
        double got = 0, rms = 0;
        assert_int_equal(mxrtc_tone_detect(s->rx, s->rx_n, 1, 48000, 50, 20000, &got, &rms), MXRTC_OK);
        double want = hz[1 - i];
        assert_true(fabs(got - want) < want * 0.02);
        assert_true(rms > 0.05);
        assert_true(s->connected);
        assert_int_equal(s->reason, MXRTC_CALL_END_USER_HANGUP);
        assert_int_equal(s->remote_ended, i == 1);
        assert_int_equal(s->push_errors, 0);
        assert_int_equal(s->feed_errors, 0);
        assert_int_equal(s->wrong_thread, 0);
        assert_true(s->adapter.ticks > 50);
    }
    for (int i = 0; i < 2; i++) {
        mxrtc_net_runner_free(w->s[i].r);
        mxrtc_net_calls_cleanup(&w->s[i].adapter);
        mxrtc_calls_free(w->s[i].calls);
    }
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

/* A TURN host name from /voip/turnServer is resolved by the adapter itself
 * (system resolver on its own thread): "localhost" resolves without the
 * network. The answer reaches the object (no RESOLVE reaches the runner). */
static void test_turn_host_name(void **state) {
    (void)state;
    side *s = calloc(1, sizeof *s);
    assert_non_null(s);
    mxrtc_calls_config cfg;
    mxrtc_calls_config_init(&cfg);
    cfg.user_id = "@alice:127.0.0.1";
    cfg.device_id = "ALICEDEV";
    assert_int_equal(mxrtc_calls_new(&s->calls, &cfg, 1), MXRTC_OK);
    mxrtc_net_engine e = mxrtc_net_calls_engine(&s->adapter, s->calls);
    static const char rest[] = "{\"username\":\"1:@alice:x\",\"password\":\"pw\",\"uris\":[\"turn:localhost:3478\"]}";
    mxrtc_time_us now = mxrtc_net_now();
    assert_int_equal(mxrtc_calls_set_turn_servers(s->calls, now, rest, strlen(rest)), MXRTC_OK);
    mxrtc_net_output o;
    assert_int_equal(e.poll(e.user, now, &o), MXRTC_OK);
    assert_int_equal(o.kind, MXRTC_NET_OUT_DEADLINE);
    /* The name went to a job (it may already be answered: localhost is
     * quick), never to the runner (no RESOLVE output). */
    assert_string_equal(s->adapter.resolves[0].name, "localhost");
    /* The job finishes on its own thread; the adapter looks every 20 ms. */
    for (int k = 0; k < 1000 && s->adapter.resolves[0].used; k++) {
        struct timespec ts = {0, 20000000};
        nanosleep(&ts, NULL);
        now = mxrtc_net_now();
        assert_int_equal(e.poll(e.user, now, &o), MXRTC_OK);
        assert_int_equal(o.kind, MXRTC_NET_OUT_DEADLINE);
    }
    assert_false(s->adapter.resolves[0].used);
    assert_int_equal(s->adapter.resolves_dropped, 0);
    /* Answered: the object does not know the name any more. */
    assert_int_equal(mxrtc_calls_resolved(s->calls, now, NULL, "localhost", NULL), MXRTC_ERR_NOT_FOUND);
    mxrtc_net_calls_cleanup(&s->adapter);
    mxrtc_calls_free(s->calls);
    free(s);
}

/* TURN over TCP: the runner keys connections by server only; the adapter
 * remembers which call wrote to the server and hands the bytes and the
 * close back to that call. No runner: the engine table is driven here. */
static void test_turn_stream_routing(void **state) {
    (void)state;
    mxrtc_seeded_random rng;
    mxrtc_seeded_random_init(&rng, 5);
    mxrtc_peer_config pc;
    mxrtc_peer_config_init(&pc);
    assert_int_equal(mxrtc_addr_parse(&pc.interfaces[0], "127.0.0.1", 40000), MXRTC_OK);
    pc.interface_count = 1;
    mxrtc_calls_config cfg;
    mxrtc_calls_config_init(&cfg);
    cfg.user_id = "@alice:127.0.0.1";
    cfg.device_id = "ALICEDEV";
    cfg.random = mxrtc_seeded_random_source(&rng);
    cfg.peer = &pc;
    mxrtc_calls *calls = NULL;
    assert_int_equal(mxrtc_calls_new(&calls, &cfg, 1000), MXRTC_OK);
    mxrtc_net_calls a;
    mxrtc_net_engine e = mxrtc_net_calls_engine(&a, calls);
    mxrtc_net_output o;
    static const char rest[] = "{\"username\":\"1:@alice:x\",\"password\":\"pw\","
                               "\"uris\":[\"turn:127.0.0.1:3478?transport=tcp\"]}";
    assert_int_equal(mxrtc_calls_set_turn_servers(calls, 1000, rest, strlen(rest)), MXRTC_OK);
    do assert_int_equal(e.poll(e.user, 1000, &o), MXRTC_OK);
    while (o.kind != MXRTC_NET_OUT_DEADLINE);
    char id[MXRTC_CALL_ID_MAX + 1];
    assert_int_equal(mxrtc_calls_place(calls, 1000, ROOM, NULL, 0, id, sizeof id), MXRTC_OK);
    mxrtc_addr server;
    assert_int_equal(mxrtc_addr_parse(&server, "127.0.0.1", 3478), MXRTC_OK);
    size_t stream_bytes = 0;
    do {
        assert_int_equal(e.poll(e.user, 1000, &o), MXRTC_OK);
        if (o.kind == MXRTC_NET_OUT_STREAM) {
            assert_true(mxrtc_addr_equal(&o.to, &server));
            stream_bytes += o.len;
        }
    } while (o.kind != MXRTC_NET_OUT_DEADLINE);
    assert_true(stream_bytes >= 20);   /* the Allocate request, framed (RFC 8656 §7) */
    /* Bytes from the server reach the call that wrote there (a partial
     * frame: nothing to answer yet). */
    static const uint8_t partial[] = {0x01, 0x13};
    assert_int_equal(e.handle_stream(e.user, 2000, &server, partial, sizeof partial), MXRTC_OK);
    do assert_int_equal(e.poll(e.user, 2000, &o), MXRTC_OK);
    while (o.kind != MXRTC_NET_OUT_DEADLINE);
    mxrtc_addr other;
    assert_int_equal(mxrtc_addr_parse(&other, "127.0.0.1", 3479), MXRTC_OK);
    assert_int_equal(e.handle_stream(e.user, 2000, &other, partial, sizeof partial), MXRTC_ERR_NOT_FOUND);
    assert_int_equal(a.unknown_streams, 1);
    assert_int_equal(e.stream_closed(e.user, 3000, &server), MXRTC_OK);
    do assert_int_equal(e.poll(e.user, 3000, &o), MXRTC_OK);
    while (o.kind != MXRTC_NET_OUT_DEADLINE);
    assert_int_equal(e.stream_closed(e.user, 3000, &server), MXRTC_ERR_NOT_FOUND);   /* forgotten */
    mxrtc_net_calls_cleanup(&a);
    mxrtc_calls_free(calls);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_voice_call),
        cmocka_unit_test(test_turn_host_name),
        cmocka_unit_test(test_turn_stream_routing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
