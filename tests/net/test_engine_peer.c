/*
 * test_engine_peer.c: two mxrtc peers, each behind net/engine_peer.h on its
 * own runner (own I/O thread and sockets) on 127.0.0.1, hold an audio call.
 * The test thread is the signalling channel for the offer and answer (each
 * step one runner command: the runner drains after it); the event
 * callbacks forward trickled candidates to the other runner. Media is paced
 * by the adapter's tick on each I/O thread: every 10 ms one frame of a
 * tone is pushed (A 1000 Hz, B 660 Hz) and 10 ms of playout pulled. Each
 * side must then find the OTHER side's tone in what it pulled, within 2 %.
 * Also checked: the tick's drain rule (a push refused with
 * MXRTC_ERR_STATE would be counted), and a clean close on both sides.
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
#include "net/engine_peer.h"
#include "net/runner.h"
#include "tools/media/media.h"

#define MAX_MSGS 32
#define RX_FRAMES 16384           /* analysed after the first audio settles */
#define SDP_CAP 16384

typedef struct world world;

typedef struct cand_msg {
    struct side *to;
    char line[512];
    char mid[16];
    bool end;
} cand_msg;

typedef struct side {
    world *w;
    int index;
    struct side *other;
    mxrtc_peer *peer;
    mxrtc_net_peer adapter;
    mxrtc_net_runner *r;
    mxrtc_seeded_random rng;
    mxrtc_tone tone;
    cand_msg msgs[MAX_MSGS];           /* this side's I/O thread writes each once */
    int nmsgs;
    /* I/O thread only */
    mxrtc_time_us first_audio;
    int16_t rx[RX_FRAMES];
    size_t rx_n;
    /* under w->mu */
    bool done, connected, closed;
    int push_errors, add_errors, wrong_thread;
} side;

struct world {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    side s[2];
};

static bool only_loopback_v4(void *user, const mxrtc_net_iface *i) {
    (void)user;
    return i->loopback && i->addr.family == MXRTC_AF_INET4 && i->addr.ip[0] == 127;
}

static void cmd_add_candidate(void *arg, mxrtc_time_us now) {
    cand_msg *m = arg;
    if (now == MXRTC_TIME_NEVER) return;
    int rc = mxrtc_peer_add_remote_candidate(m->to->peer, now, m->mid[0] ? m->mid : NULL, m->end ? NULL : m->line);
    if (rc != MXRTC_OK) {
        pthread_mutex_lock(&m->to->w->mu);
        m->to->add_errors++;
        pthread_mutex_unlock(&m->to->w->mu);
    }
}

static void forward(side *s, const char *line, const char *mid) {
    if (s->nmsgs == MAX_MSGS) return;
    cand_msg *m = &s->msgs[s->nmsgs++];
    m->to = s->other;
    m->end = line == NULL;
    snprintf(m->line, sizeof m->line, "%s", line ? line : "");
    snprintf(m->mid, sizeof m->mid, "%s", mid ? mid : "");
    int rc = mxrtc_net_runner_call(s->other->r, cmd_add_candidate, m);
    if (rc == MXRTC_ERR_LIMIT) rc = mxrtc_net_runner_call_wait(s->other->r, cmd_add_candidate, m);
    (void)rc;  /* CLOSED at teardown is fine */
}

static void on_event(void *user, mxrtc_net_runner *r, const void *event) {
    side *s = user;
    const mxrtc_peer_output *o = event;
    /* No cmocka assertion on the I/O thread: record, check later. */
    if (!mxrtc_net_runner_on_io_thread(r) || r != s->r) {
        pthread_mutex_lock(&s->w->mu);
        s->wrong_thread++;
        pthread_mutex_unlock(&s->w->mu);
    }
    if (o->kind != MXRTC_PEER_OUT_EVENT) return;
    if (o->event == MXRTC_PEER_EV_LOCAL_CANDIDATE) forward(s, o->text, o->mid);
    else if (o->event == MXRTC_PEER_EV_GATHERING_DONE) forward(s, NULL, NULL);
    else if (o->event == MXRTC_PEER_EV_STATE) {
        pthread_mutex_lock(&s->w->mu);
        if (o->state == MXRTC_PEER_STATE_CONNECTED) s->connected = true;
        if (o->state == MXRTC_PEER_STATE_CLOSED) s->closed = true;
        pthread_cond_broadcast(&s->w->cv);
        pthread_mutex_unlock(&s->w->mu);
    }
}

/* The media clock: one input per call (the push), then the playout pull
 * (not an input). */
static bool tick(void *user, mxrtc_peer *p, mxrtc_time_us now, int first) {
    side *s = user;
    if (!first) return false;
    int16_t pcm[480];
    mxrtc_tone_fill(&s->tone, pcm, 480, 1);
    int rc = mxrtc_peer_push_audio(p, now, pcm, 480);
    if (mxrtc_peer_pull_audio(p, now, pcm, 480) == MXRTC_OK && s->rx_n < RX_FRAMES) {
        double e = 0;
        for (int i = 0; i < 480; i++) e += (double)pcm[i] * pcm[i];
        if (!s->first_audio && sqrt(e / 480) > 328) s->first_audio = now;
        /* Skip the first 300 ms: the decoder ramps up. */
        if (s->first_audio && now > s->first_audio + 300000) {
            size_t n = RX_FRAMES - s->rx_n < 480 ? RX_FRAMES - s->rx_n : 480;
            memcpy(s->rx + s->rx_n, pcm, n * sizeof pcm[0]);
            s->rx_n += n;
        }
    }
    pthread_mutex_lock(&s->w->mu);
    if (rc == MXRTC_ERR_STATE) s->push_errors++;   /* the drain rule was broken */
    if (s->rx_n == RX_FRAMES && !s->done) {
        s->done = true;
        pthread_cond_broadcast(&s->w->cv);
    }
    pthread_mutex_unlock(&s->w->mu);
    return false;
}

/* ---- signalling commands ---- */

typedef struct sig_cmd {
    side *s;
    int op;                            /* 0 offer, 1 answer, 2 set local, 3 remote offer, 4 remote answer, 5 close */
    char *sdp;
    size_t len;
    int rc;
} sig_cmd;

static void cmd_sig(void *arg, mxrtc_time_us now) {
    sig_cmd *c = arg;
    if (now == MXRTC_TIME_NEVER) {
        c->rc = MXRTC_ERR_CLOSED;
        return;
    }
    mxrtc_peer *p = c->s->peer;
    switch (c->op) {
    case 0: c->rc = mxrtc_peer_create_offer(p, now, c->sdp, SDP_CAP, &c->len); break;
    case 1: c->rc = mxrtc_peer_create_answer(p, now, c->sdp, SDP_CAP, &c->len); break;
    case 2: c->rc = mxrtc_peer_set_local_description(p, now); break;
    case 3: c->rc = mxrtc_peer_set_remote_description(p, now, MXRTC_SDP_OFFER, c->sdp, c->len); break;
    case 4: c->rc = mxrtc_peer_set_remote_description(p, now, MXRTC_SDP_ANSWER, c->sdp, c->len); break;
    default: c->rc = mxrtc_peer_close(p, now); break;
    }
}

static void sig(side *s, int op, char *sdp, size_t *len) {
    sig_cmd c = {s, op, sdp, len ? *len : 0, -1};
    assert_int_equal(mxrtc_net_runner_call_wait(s->r, cmd_sig, &c), MXRTC_OK);
    /* Closing a peer the other side's close_notify already closed is CLOSED. */
    if (op == 5 && c.rc == MXRTC_ERR_CLOSED) c.rc = MXRTC_OK;
    assert_int_equal(c.rc, MXRTC_OK);
    if (len) *len = c.len;
}

static bool wait_for(world *w, bool (*pred)(world *)) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;                  /* hang guard */
    pthread_mutex_lock(&w->mu);
    bool ok = pred(w);
    while (!ok && pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0) ok = pred(w);
    pthread_mutex_unlock(&w->mu);
    return ok;
}

static bool both_done(world *w) {
    return w->s[0].done && w->s[1].done;
}

static bool both_closed(world *w) {
    return w->s[0].closed && w->s[1].closed;
}

static void test_audio_call(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    const double hz[2] = {1000.0, 660.0};
    for (int i = 0; i < 2; i++) {
        side *s = &w->s[i];
        s->w = w;
        s->index = i;
        s->other = &w->s[1 - i];
        mxrtc_seeded_random_init(&s->rng, 900 + (uint64_t)i);
        assert_int_equal(mxrtc_tone_init(&s->tone, hz[i], 48000, 0.3), MXRTC_OK);
        mxrtc_net_runner_config rc;
        mxrtc_net_runner_config_init(&rc);
        rc.engine = mxrtc_net_peer_engine(&s->adapter, NULL);  /* the peer needs our ports first */
        rc.on_event = on_event;
        rc.event_user = s;
        rc.ifaces.include_loopback = true;          /* tests only */
        rc.ifaces.filter = only_loopback_v4;        /* and nothing else: no LAN */
        rc.n_mdns_dest = 0;
        assert_int_equal(mxrtc_net_runner_new(&s->r, &rc), MXRTC_OK);
        const mxrtc_addr *locals;
        size_t n;
        mxrtc_net_runner_local_addrs(s->r, &locals, &n);
        assert_true(n >= 1);
        mxrtc_peer_config cfg;
        mxrtc_peer_config_init(&cfg);
        cfg.random = mxrtc_seeded_random_source(&s->rng);
        cfg.interfaces[0] = locals[0];
        cfg.interface_count = 1;
        assert_int_equal(mxrtc_peer_new(&s->peer, &cfg, mxrtc_net_now()), MXRTC_OK);
        s->adapter.peer = s->peer;
        mxrtc_net_peer_set_tick(&s->adapter, 10000, tick, s);
    }
    for (int i = 0; i < 2; i++) assert_int_equal(mxrtc_net_runner_start(w->s[i].r), MXRTC_OK);

    char *offer = malloc(SDP_CAP), *answer = malloc(SDP_CAP);
    assert_non_null(offer);
    assert_non_null(answer);
    size_t olen = 0, alen = 0;
    sig(&w->s[0], 0, offer, &olen);
    sig(&w->s[0], 2, NULL, NULL);
    sig(&w->s[1], 3, offer, &olen);
    sig(&w->s[1], 1, answer, &alen);
    sig(&w->s[1], 2, NULL, NULL);
    sig(&w->s[0], 4, answer, &alen);

    assert_true(wait_for(w, both_done));
    /* Stop the media, then measure (the buffers are the I/O threads'). */
    for (int i = 0; i < 2; i++) sig(&w->s[i], 5, NULL, NULL);
    assert_true(wait_for(w, both_closed));
    for (int i = 0; i < 2; i++) assert_int_equal(mxrtc_net_runner_stop(w->s[i].r), MXRTC_OK);
    for (int i = 0; i < 2; i++) {
        side *s = &w->s[i];
        double got = 0, rms = 0;
        assert_int_equal(mxrtc_tone_detect(s->rx, s->rx_n, 1, 48000, 50, 20000, &got, &rms), MXRTC_OK);
        double want = hz[1 - i];
        assert_true(fabs(got - want) < want * 0.02);
        assert_true(rms > 0.05);
        assert_true(s->connected);
        assert_int_equal(s->push_errors, 0);
        assert_int_equal(s->add_errors, 0);
        assert_int_equal(s->wrong_thread, 0);
        assert_true(s->adapter.ticks > 50);
        mxrtc_peer_stats st;
        memset(&st, 0, sizeof st);
        st.size = sizeof st;
        assert_int_equal(mxrtc_peer_get_stats(s->peer, &st), MXRTC_OK);
        assert_true(st.audio_in.packets > 0);
        assert_true(st.audio_out.packets > 0);
    }
    for (int i = 0; i < 2; i++) {
        mxrtc_net_runner_free(w->s[i].r);
        mxrtc_peer_free(w->s[i].peer);
    }
    free(offer);
    free(answer);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audio_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
