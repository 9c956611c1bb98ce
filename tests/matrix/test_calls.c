/*
 * mxrtc_calls (include/mxrtc.h, "Matrix 1:1 calls") through its public API
 * only: two account devices (alice, bob) on tests/support/simnet with a
 * virtual clock, their SEND_EVENT outputs delivered by a tiny fake room to
 * both sides, the echo to the sender included (as a homeserver does).
 * Media content is checked: each side hears the other's tone per call
 * (tests/codecs/signal.c), video colours arrive both ways.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mxrtc.h"
#include "signal.h"
#include "support/simnet.h"
#include "support/test_alloc.h"

#define ROOM "!room:example.org"
#define ROOM2 "!other:example.org"
#define MAX_LOG 512
#define MAX_CALLS 2
#define REC_SAMPLES (48000 * 20)

/* The test's own deterministic random source (xorshift64*): the public
 * API takes any mxrtc_random. */
typedef struct rnd { uint64_t s; } rnd;
static int rnd_fill(void *user, uint8_t *buf, size_t len) {
    rnd *r = user;
    for (size_t i = 0; i < len; i++) {
        r->s ^= r->s >> 12;
        r->s ^= r->s << 25;
        r->s ^= r->s >> 27;
        buf[i] = (uint8_t)((r->s * 2685821657736338717ull) >> 56);
    }
    return MXRTC_OK;
}

typedef struct logged {
    mxrtc_calls_output_kind kind;
    char call_id[80], room[64], type[64];
    mxrtc_call_state state;
    mxrtc_call_end_reason reason;
    int remote_ended, lh, rh, ram, rvm, video;
} logged;

typedef struct media {
    char call_id[80];
    double tone_hz;
    uint64_t tone_pos;
    int16_t *rec;
    size_t rec_len;
    uint64_t frames;
    double last_y, last_u, last_v;
} media;

typedef struct device {
    const char *user, *dev_id;
    mxrtc_calls *c;
    rnd r;
    int host;
    mxrtc_addr ifs[2];
    mxrtc_time_us deadline;
    logged log[MAX_LOG];
    int nlog;
    media m[MAX_CALLS];
    double tone_base;
    bool send_video;
    uint8_t colour[3];
    sig_picture pic;
    uint64_t refreshes, streams;
    int drop_refresh;                /* TURN Refresh requests still to lose on the way out */
    char resolve[8][256];
    int nresolve;
    mxrtc_peer_config pc;
} device;

typedef struct pending {
    char room[64], sender[64], type[64];
    char *content;
} pending;

typedef struct world {
    simnet *net;
    device dev[2];
    pending q[512];
    int qh, qn;
    mxrtc_time_us now, next_media;
    uint64_t ticks;
    bool hold_delivery;
} world;

static media *media_of(device *d, const char *call_id, bool create) {
    for (int k = 0; k < MAX_CALLS; k++)
        if (strcmp(d->m[k].call_id, call_id) == 0) return &d->m[k];
    if (!create) return NULL;
    for (int k = 0; k < MAX_CALLS; k++)
        if (!d->m[k].call_id[0]) {
            snprintf(d->m[k].call_id, sizeof d->m[k].call_id, "%s", call_id);
            d->m[k].tone_hz = d->tone_base + 500.0 * k;
            return &d->m[k];
        }
    return NULL;
}

static void drain(world *w, int i) {
    device *d = &w->dev[i];
    for (int guard = 0; guard < 100000; guard++) {
        mxrtc_calls_output o;
        assert_int_equal(mxrtc_calls_poll(d->c, w->now, &o), MXRTC_OK);
        switch (o.kind) {
        case MXRTC_CALLS_OUT_DEADLINE:
            d->deadline = o.deadline;
            return;
        case MXRTC_CALLS_OUT_DATAGRAM:
            assert_non_null(o.call_id);
            /* A TURN Refresh request (RFC 8656 §7.2: method 0x004, class
             * request) lost, for the retransmission tests. */
            if (d->drop_refresh > 0 && o.len >= 20 && o.data[0] == 0x00 && o.data[1] == 0x04) {
                d->drop_refresh--;
                continue;
            }
            simnet_send(w->net, d->host, &o.from, &o.to, o.data, o.len, w->now);
            continue;
        case MXRTC_CALLS_OUT_STREAM:
            d->streams++;
            continue;
        case MXRTC_CALLS_OUT_VIDEO_FRAME: {
            media *m = media_of(d, o.call_id, false);
            assert_non_null(m);
            const mxrtc_picture *pic = &o.picture;
            m->frames++;
            m->last_y = sig_plane_mean(pic->y, pic->stride_y, pic->width, pic->height);
            m->last_u = sig_plane_mean(pic->u, pic->stride_u, (pic->width + 1) / 2, (pic->height + 1) / 2);
            m->last_v = sig_plane_mean(pic->v, pic->stride_v, (pic->width + 1) / 2, (pic->height + 1) / 2);
            continue;
        }
        case MXRTC_CALLS_OUT_TURN_REFRESH:
            d->refreshes++;
            continue;
        case MXRTC_CALLS_OUT_RESOLVE:
            if (!o.call_id && d->nresolve < 8) snprintf(d->resolve[d->nresolve++], 256, "%s", o.text);
            continue;
        default:
            break;
        }
        assert_true(d->nlog < MAX_LOG);
        logged *l = &d->log[d->nlog++];
        memset(l, 0, sizeof *l);
        l->kind = o.kind;
        snprintf(l->call_id, sizeof l->call_id, "%s", o.call_id ? o.call_id : "");
        snprintf(l->room, sizeof l->room, "%s", o.room_id ? o.room_id : "");
        l->state = o.state;
        l->reason = o.end_reason;
        l->remote_ended = o.remote_ended;
        l->lh = o.local_hold;
        l->rh = o.remote_hold;
        l->ram = o.remote_audio_muted;
        l->rvm = o.remote_video_muted;
        l->video = o.video;
        if (o.kind == MXRTC_CALLS_OUT_SEND_EVENT) {
            snprintf(l->type, sizeof l->type, "%s", o.type);
            assert_int_equal(strlen(o.content), o.content_len);
            assert_true(w->qn < 512);
            pending *p = &w->q[(w->qh + w->qn++) % 512];
            snprintf(p->room, sizeof p->room, "%s", o.room_id);
            snprintf(p->sender, sizeof p->sender, "%s", d->user);
            snprintf(p->type, sizeof p->type, "%s", o.type);
            p->content = strdup(o.content);
        }
        if (o.kind == MXRTC_CALLS_OUT_STATE && o.state == MXRTC_CALL_STATE_CONNECTING)
            (void)media_of(d, o.call_id, true);
    }
    fail_msg("device %d never reached its deadline", i);
}

static void deliver(world *w) {
    while (w->qn && !w->hold_delivery) {
        pending p = w->q[w->qh];
        w->qh = (w->qh + 1) % 512;
        w->qn--;
        for (int i = 0; i < 2; i++) {
            device *d = &w->dev[i];
            mxrtc_room_event e = {p.room, p.sender, p.type, NULL, p.content, strlen(p.content),
                                  MXRTC_AGE_UNKNOWN, 0};
            const char *why = NULL;
            int rc = mxrtc_calls_feed_event(d->c, w->now, &e, &why);
            if (rc != MXRTC_OK) fail_msg("feed %s to %s: %d (%s)", p.type, d->user, rc, why ? why : "");
            drain(w, i);
        }
        free(p.content);
    }
}

static void media_tick(world *w) {
    uint64_t ticks = ++w->ticks;
    for (int i = 0; i < 2; i++) {
        device *d = &w->dev[i];
        for (int k = 0; k < MAX_CALLS; k++) {
            media *m = &d->m[k];
            if (!m->call_id[0]) continue;
            mxrtc_call_state s = mxrtc_calls_state(d->c, m->call_id);
            if (s != MXRTC_CALL_STATE_CONNECTING && s != MXRTC_CALL_STATE_CONNECTED) continue;
            int16_t pcm[480];
            sig_sine(pcm, 480, 1, 0, m->tone_hz, 8000, 48000, m->tone_pos);
            m->tone_pos += 480;
            assert_int_equal(mxrtc_calls_push_audio(d->c, w->now, m->call_id, pcm, 480), MXRTC_OK);
            drain(w, i);
            if (m->rec_len + 480 <= REC_SAMPLES) {
                assert_int_equal(mxrtc_calls_pull_audio(d->c, w->now, m->call_id, m->rec + m->rec_len, 480),
                                 MXRTC_OK);
                m->rec_len += 480;
            }
            if (d->send_video && ticks % 4 == 0) {
                sig_picture_fill(&d->pic, d->colour[0], d->colour[1], d->colour[2]);
                mxrtc_picture pic = {d->pic.y, d->pic.u, d->pic.v, d->pic.stride_y, d->pic.stride_u,
                                     d->pic.stride_v, d->pic.width, d->pic.height, w->now};
                assert_int_equal(mxrtc_calls_push_video(d->c, w->now, m->call_id, &pic), MXRTC_OK);
                drain(w, i);
            }
        }
    }
}

static int dev_of_host(world *w, int host) {
    for (int i = 0; i < 2; i++)
        if (w->dev[i].host == host) return i;
    return -1;
}

static void run(world *w, mxrtc_time_us until) {
    while (w->now < until) {
        simnet_packet pkt;
        while (simnet_pop(w->net, w->now, &pkt)) {
            int i = dev_of_host(w, pkt.host);
            if (i < 0) continue;
            assert_int_equal(mxrtc_calls_handle_datagram(w->dev[i].c, w->now, &pkt.to, &pkt.from, pkt.data, pkt.len),
                             MXRTC_OK);
            drain(w, i);
            deliver(w);
        }
        for (int i = 0; i < 2; i++) {
            if (w->dev[i].deadline > w->now) continue;
            assert_int_equal(mxrtc_calls_handle_timeout(w->dev[i].c, w->now), MXRTC_OK);
            drain(w, i);
        }
        deliver(w);
        if (w->next_media <= w->now) {
            media_tick(w);
            w->next_media += 10000;
        }
        mxrtc_time_us next = w->next_media, t = simnet_next_delivery_time(w->net);
        if (t < next) next = t;
        for (int i = 0; i < 2; i++)
            if (w->dev[i].deadline < next) next = w->dev[i].deadline;
        if (next <= w->now) next = w->now + 1;
        if (next > until) next = until;
        w->now = next;
    }
}

static void run_ms(world *w, uint64_t ms) { run(w, w->now + ms * 1000); }

static void device_init(world *w, int i, const char *user, const char *dev_id, const char *ip1, const char *ip2,
                        double tone, uint64_t seed) {
    device *d = &w->dev[i];
    memset(d, 0, sizeof *d);
    d->user = user;
    d->dev_id = dev_id;
    d->tone_base = tone;
    d->r.s = seed * 0x9E3779B97F4A7C15ull + 1;
    d->host = simnet_add_host(w->net, i ? "bob" : "alice");
    assert_int_equal(mxrtc_addr_parse(&d->ifs[0], ip1, 5000), MXRTC_OK);
    assert_int_equal(mxrtc_addr_parse(&d->ifs[1], ip2, 5002), MXRTC_OK);
    simnet_host_add_interface(w->net, d->host, SIMNET_WAN, &d->ifs[0]);
    simnet_host_add_interface(w->net, d->host, SIMNET_WAN, &d->ifs[1]);
    simnet_link l = {.delay = 20000, .jitter = 2000};
    simnet_set_host_link(w->net, d->host, &l);

    mxrtc_peer_config_init(&d->pc);
    d->pc.interfaces[0] = d->ifs[0];
    d->pc.interfaces[1] = d->ifs[1];
    d->pc.interface_count = 2;
    d->pc.video_bitrate_bps = 300000;
    for (int k = 0; k < MAX_CALLS; k++) {
        d->m[k].rec = calloc(REC_SAMPLES, sizeof(int16_t));
        assert_non_null(d->m[k].rec);
    }
    assert_int_equal(sig_picture_alloc(&d->pic, 160, 120), 0);
    d->deadline = MXRTC_TIME_NEVER;
}

static void device_start(world *w, int i) {
    device *d = &w->dev[i];
    mxrtc_calls_config cfg;
    mxrtc_calls_config_init(&cfg);
    cfg.user_id = d->user;
    cfg.device_id = d->dev_id;
    cfg.random.fn = rnd_fill;
    cfg.random.user = &d->r;
    cfg.peer = &d->pc;
    assert_int_equal(mxrtc_calls_new(&d->c, &cfg, w->now), MXRTC_OK);
    drain(w, i);
}

/* A world whose devices are not created yet (tests that tune d->pc). */
static world *world_new_unstarted(uint64_t seed) {
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->net = simnet_new(seed);
    w->now = 1000000;
    w->next_media = w->now;
    device_init(w, 0, "@alice:example.org", "ALICEDEV", "192.0.2.1", "192.0.2.11", 1000.0, seed * 2 + 1);
    device_init(w, 1, "@bob:example.org", "BOBDEV", "192.0.2.2", "192.0.2.12", 440.0, seed * 2 + 2);
    return w;
}

static world *world_new(uint64_t seed) {
    world *w = world_new_unstarted(seed);
    device_start(w, 0);
    device_start(w, 1);
    return w;
}

static void world_free(world *w) {
    for (int i = 0; i < 2; i++) {
        device *d = &w->dev[i];
        mxrtc_calls_free(d->c);
        for (int k = 0; k < MAX_CALLS; k++) free(d->m[k].rec);
        sig_picture_free(&d->pic);
    }
    while (w->qn) {
        free(w->q[w->qh].content);
        w->qh = (w->qh + 1) % 512;
        w->qn--;
    }
    simnet_free(w->net);
    free(w);
}

static const logged *find_log(const device *d, mxrtc_calls_output_kind kind, const char *type, int nth) {
    for (int k = 0; k < d->nlog; k++) {
        const logged *l = &d->log[k];
        if (l->kind != kind || (type && strcmp(l->type, type) != 0)) continue;
        if (nth-- == 0) return l;
    }
    return NULL;
}

static int count_log(const device *d, mxrtc_calls_output_kind kind, const char *type) {
    int n = 0;
    for (int k = 0; k < d->nlog; k++)
        if (d->log[k].kind == kind && (!type || strcmp(d->log[k].type, type) == 0)) n++;
    return n;
}

static const logged *last_kind(const device *d, mxrtc_calls_output_kind kind, const char *call_id) {
    const logged *r = NULL;
    for (int k = 0; k < d->nlog; k++)
        if (d->log[k].kind == kind && strcmp(d->log[k].call_id, call_id) == 0) r = &d->log[k];
    return r;
}

static double peak(const media *m, int ms, double *rms) {
    size_t n = (size_t)ms * 48;
    assert_true(n <= m->rec_len);
    const int16_t *pcm = m->rec + m->rec_len - n;
    if (rms) *rms = sig_rms(pcm, n, 1, 0);
    return sig_peak_hz(pcm, n, 1, 0, 48000, 100, 4000, 10);
}

static void hears(device *d, const char *call_id, double hz) {
    media *m = media_of(d, call_id, false);
    assert_non_null(m);
    double rms = 0, f = peak(m, 1000, &rms);
    if (f < hz * 0.98 || f > hz * 1.02 || rms < 300)
        fail_msg("%s hears %.1f Hz (rms %.0f) on %s, expected %.0f Hz", d->user, f, rms, call_id, hz);
}

static void silent(device *d, const char *call_id) {
    media *m = media_of(d, call_id, false);
    assert_non_null(m);
    double rms = 0;
    (void)peak(m, 500, &rms);
    if (rms > 50) fail_msg("%s hears rms %.0f on %s, expected silence", d->user, rms, call_id);
}

/* alice places a call in ROOM, bob sees it ring; returns the call id. */
static void place_and_ring(world *w, bool video, char *id) {
    device *a = &w->dev[0], *b = &w->dev[1];
    assert_int_equal(mxrtc_calls_place(a->c, w->now, ROOM, NULL, video, id, 128), MXRTC_OK);
    drain(w, 0);
    assert_int_equal(mxrtc_calls_state(a->c, id), MXRTC_CALL_STATE_INVITE_SENT);
    const logged *inv = find_log(a, MXRTC_CALLS_OUT_SEND_EVENT, "m.call.invite", 0);
    assert_non_null(inv);
    assert_string_equal(inv->room, ROOM);
    run_ms(w, 300);
    const logged *inc = last_kind(b, MXRTC_CALLS_OUT_INCOMING, id);
    assert_non_null(inc);
    assert_string_equal(inc->room, ROOM);
    assert_int_equal(inc->video, video);
    assert_int_equal(mxrtc_calls_state(b->c, id), MXRTC_CALL_STATE_RINGING);
}

static void answer_and_connect(world *w, const char *id, bool video) {
    device *a = &w->dev[0], *b = &w->dev[1];
    assert_int_equal(mxrtc_calls_answer(b->c, w->now, id, video), MXRTC_OK);
    drain(w, 1);
    run_ms(w, 3000);
    assert_int_equal(mxrtc_calls_state(a->c, id), MXRTC_CALL_STATE_CONNECTED);
    assert_int_equal(mxrtc_calls_state(b->c, id), MXRTC_CALL_STATE_CONNECTED);
}

static void ended(device *d, const char *id, mxrtc_call_end_reason r, int remote_ended) {
    const logged *l = last_kind(d, MXRTC_CALLS_OUT_STATE, id);
    assert_non_null(l);
    if (l->state != MXRTC_CALL_STATE_ENDED || l->reason != r || l->remote_ended != remote_ended)
        fail_msg("%s: %s %s remote_ended %d, expected ended %s %d", d->user, mxrtc_call_state_name(l->state),
                 mxrtc_call_end_reason_name(l->reason), l->remote_ended, mxrtc_call_end_reason_name(r),
                 remote_ended);
    assert_int_equal(mxrtc_calls_state(d->c, id), MXRTC_CALL_STATE_ENDED);
}

/* ---- tests ------------------------------------------------------------------ */

static void names(void **state) {
    (void)state;
    assert_string_equal(mxrtc_call_end_reason_name(MXRTC_CALL_END_ICE_FAILED), "ice_failed");
    assert_string_equal(mxrtc_call_end_reason_name(MXRTC_CALL_END_PEER_LEFT), "peer_left");
    assert_string_equal(mxrtc_call_end_reason_name(MXRTC_CALL_END_REJECTED_ELSEWHERE), "rejected_elsewhere");
    assert_string_equal(mxrtc_call_end_reason_name((mxrtc_call_end_reason)99), "none");
    assert_string_equal(mxrtc_call_state_name(MXRTC_CALL_STATE_CONNECTED), "connected");
}

static void config_errors(void **state) {
    (void)state;
    mxrtc_calls *c = NULL;
    mxrtc_calls_config cfg;
    mxrtc_calls_config_init(&cfg);
    assert_int_equal(mxrtc_calls_new(&c, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);   /* no user */
    cfg.user_id = "@a:b";
    assert_int_equal(mxrtc_calls_new(&c, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);   /* no device */
    cfg.device_id = "DEV";
    mxrtc_peer_config pc;
    mxrtc_peer_config_init(&pc);
    pc.size = 3;
    cfg.peer = &pc;
    assert_int_equal(mxrtc_calls_new(&c, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);
    cfg.peer = NULL;
    cfg.size = 1;
    assert_int_equal(mxrtc_calls_new(&c, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);
    cfg.size = sizeof cfg;
    assert_int_equal(mxrtc_calls_new(&c, &cfg, 0), MXRTC_OK);
    mxrtc_calls_output o;
    assert_int_equal(mxrtc_calls_poll(c, 0, &o), MXRTC_OK);
    assert_int_equal(o.kind, MXRTC_CALLS_OUT_DEADLINE);
    assert_int_equal(o.deadline, MXRTC_TIME_NEVER);
    assert_int_equal(mxrtc_calls_answer(c, 0, "nope", 0), MXRTC_ERR_NOT_FOUND);
    assert_int_equal(mxrtc_calls_state(c, "nope"), MXRTC_CALL_STATE_NONE);
    mxrtc_peer_stats st = {.size = sizeof st};
    assert_int_equal(mxrtc_calls_get_stats(c, "nope", &st), MXRTC_ERR_NOT_FOUND);
    int16_t pcm[480];
    pcm[0] = 5;
    assert_int_equal(mxrtc_calls_pull_audio(c, 0, "nope", pcm, 480), MXRTC_ERR_NOT_FOUND);
    assert_int_equal(pcm[0], 0);
    mxrtc_calls_counters ct = {.size = 1};
    assert_int_equal(mxrtc_calls_get_counters(c, &ct), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_calls_free(c);
    mxrtc_calls_free(NULL);
}

/* A voice call, tones both ways, hung up by the callee (caller sees the
 * remote hang-up) or by the caller. */
static void voice_call(bool callee_hangs_up) {
    world *w = world_new(callee_hangs_up ? 1 : 2);
    device *a = &w->dev[0], *b = &w->dev[1];
    char id[128];
    place_and_ring(w, false, id);
    answer_and_connect(w, id, false);
    run_ms(w, 2000);
    hears(a, id, 440.0);
    hears(b, id, 1000.0);
    mxrtc_peer_stats st = {.size = sizeof st};
    assert_int_equal(mxrtc_calls_get_stats(a->c, id, &st), MXRTC_OK);
    assert_true(st.audio_in.packets > 100);
    device *ender = callee_hangs_up ? b : a, *other = callee_hangs_up ? a : b;
    assert_int_equal(mxrtc_calls_hangup(ender->c, w->now, id), MXRTC_OK);
    drain(w, callee_hangs_up ? 1 : 0);
    run_ms(w, 500);
    ended(ender, id, MXRTC_CALL_END_USER_HANGUP, 0);
    ended(other, id, MXRTC_CALL_END_USER_HANGUP, 1);
    assert_int_equal(mxrtc_calls_hangup_reason(ender->c, w->now, id, MXRTC_CALL_END_INVITE_TIMEOUT), MXRTC_ERR_STATE);
    assert_int_equal(mxrtc_calls_hangup(ender->c, w->now, id), MXRTC_ERR_STATE);
    /* Statistics stay readable after the end. */
    assert_int_equal(mxrtc_calls_get_stats(a->c, id, &st), MXRTC_OK);
    mxrtc_calls_counters ct = {.size = sizeof ct};
    assert_int_equal(mxrtc_calls_get_counters(a->c, &ct), MXRTC_OK);
    assert_int_equal(ct.events_rejected, 0);
    assert_true(ct.events_ignored > 0);   /* our own echoes */
    world_free(w);
}

static void voice_callee_hangs_up(void **state) { (void)state; voice_call(true); }
static void voice_caller_hangs_up(void **state) { (void)state; voice_call(false); }

/* colour is Y, U, V (the picture is filled with it). */
static void sees_colour(const device *d, const media *m, const uint8_t c[3]) {
    if (m->frames == 0) fail_msg("%s decoded no video", d->user);
    if (m->last_y < c[0] - 8 || m->last_y > c[0] + 8 || m->last_u < c[1] - 8 || m->last_u > c[1] + 8 ||
        m->last_v < c[2] - 8 || m->last_v > c[2] + 8)
        fail_msg("%s sees Y %.0f U %.0f V %.0f, expected %d %d %d", d->user, m->last_y, m->last_u, m->last_v, c[0],
                 c[1], c[2]);
}

static void video_call(void **state) {
    (void)state;
    world *w = world_new(3);
    device *a = &w->dev[0], *b = &w->dev[1];
    a->send_video = b->send_video = true;
    a->colour[0] = 81, a->colour[1] = 90, a->colour[2] = 240;   /* blue */
    b->colour[0] = 145, b->colour[1] = 54, b->colour[2] = 34;   /* green */
    char id[128];
    place_and_ring(w, true, id);
    answer_and_connect(w, id, true);
    run_ms(w, 3000);
    media *ma = media_of(a, id, false), *mb = media_of(b, id, false);
    assert_true(ma->frames > 10 && mb->frames > 10);
    sees_colour(a, ma, b->colour);
    sees_colour(b, mb, a->colour);
    /* mxrtc's sender does not tag its colour space (the pictures are BT.601
     * limited range, the untagged default): nothing to report. */
    uint8_t cs[4];
    assert_int_equal(mxrtc_calls_video_colour_space(a->c, id, cs), MXRTC_ERR_NOT_FOUND);
    assert_int_equal(mxrtc_calls_video_colour_space(a->c, "no-such-call", cs), MXRTC_ERR_NOT_FOUND);
    assert_int_equal(mxrtc_calls_video_colour_space(NULL, id, cs), MXRTC_ERR_INVALID_ARGUMENT);
    hears(a, id, 440.0);
    hears(b, id, 1000.0);
    assert_int_equal(mxrtc_calls_hangup(a->c, w->now, id), MXRTC_OK);
    drain(w, 0);
    run_ms(w, 500);
    ended(b, id, MXRTC_CALL_END_USER_HANGUP, 1);
    world_free(w);
}

/* The caller gives up before an answer, with a reason: both sides see it. */
static void hangup_reason(void **state) {
    (void)state;
    world *w = world_new(16);
    device *a = &w->dev[0], *b = &w->dev[1];
    char id[128];
    place_and_ring(w, false, id);
    assert_int_equal(mxrtc_calls_hangup_reason(a->c, w->now, id, MXRTC_CALL_END_REPLACED), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_calls_hangup_reason(a->c, w->now, id, MXRTC_CALL_END_INVITE_TIMEOUT), MXRTC_OK);
    drain(w, 0);
    run_ms(w, 500);
    ended(a, id, MXRTC_CALL_END_INVITE_TIMEOUT, 0);
    ended(b, id, MXRTC_CALL_END_INVITE_TIMEOUT, 1);
    world_free(w);
}

/* An invite whose age (unsigned.age plus the time since the host received
 * it) is past its lifetime does not ring: history after a restart. */
static void expired_invite(void **state) {
    (void)state;
    world *w = world_new(17);
    device *a = &w->dev[0], *b = &w->dev[1];
    char id[128];
    w->hold_delivery = true;
    assert_int_equal(mxrtc_calls_place(a->c, w->now, ROOM, NULL, 0, id, sizeof id), MXRTC_OK);
    drain(w, 0);
    assert_true(w->qn >= 1);
    pending *p = &w->q[w->qh];
    assert_string_equal(p->type, "m.call.invite");
    /* received 0.5 s ago with an age of 59.6 s: 60.1 s > the 60 s lifetime */
    mxrtc_room_event e = {ROOM, p->sender, p->type, NULL, p->content, strlen(p->content), 59600,
                          w->now - 500000};
    assert_int_equal(mxrtc_calls_feed_event(b->c, w->now, &e, NULL), MXRTC_OK);
    drain(w, 1);
    assert_null(last_kind(b, MXRTC_CALLS_OUT_INCOMING, id));
    assert_int_equal(mxrtc_calls_state(b->c, id), MXRTC_CALL_STATE_NONE);
    mxrtc_calls_counters ct = {.size = sizeof ct};
    assert_int_equal(mxrtc_calls_get_counters(b->c, &ct), MXRTC_OK);
    assert_int_equal(ct.events_ignored, 1);
    /* the same invite 20.5 s old rings */
    e.age_ms = 20000;
    assert_int_equal(mxrtc_calls_feed_event(b->c, w->now, &e, NULL), MXRTC_OK);
    drain(w, 1);
    assert_non_null(last_kind(b, MXRTC_CALLS_OUT_INCOMING, id));
    world_free(w);
}

static void reject(void **state) {
    (void)state;
    world *w = world_new(4);
    device *a = &w->dev[0], *b = &w->dev[1];
    char id[128];
    place_and_ring(w, false, id);
    assert_int_equal(mxrtc_calls_reject(b->c, w->now, id), MXRTC_OK);
    drain(w, 1);
    assert_non_null(find_log(b, MXRTC_CALLS_OUT_SEND_EVENT, "m.call.reject", 0));
    run_ms(w, 500);
    ended(a, id, MXRTC_CALL_END_REJECTED, 1);
    assert_int_equal(mxrtc_calls_state(b->c, id), MXRTC_CALL_STATE_ENDED);
    assert_int_equal(mxrtc_calls_answer(b->c, w->now, id, 0), MXRTC_ERR_STATE);
    world_free(w);
}

/* Both place a call at once (neither invite delivered yet): the lesser
 * call_id survives on both sides and connects with media. */
static void glare(void **state) {
    (void)state;
    for (uint64_t seed = 5; seed < 8; seed++) {
        world *w = world_new(seed);
        device *a = &w->dev[0], *b = &w->dev[1];
        char ida[128], idb[128];
        w->hold_delivery = true;
        assert_int_equal(mxrtc_calls_place(a->c, w->now, ROOM, NULL, 0, ida, sizeof ida), MXRTC_OK);
        drain(w, 0);
        assert_int_equal(mxrtc_calls_place(b->c, w->now, ROOM, NULL, 0, idb, sizeof idb), MXRTC_OK);
        drain(w, 1);
        w->hold_delivery = false;
        run_ms(w, 4000);
        const char *win = strcmp(ida, idb) < 0 ? ida : idb, *lose = win == ida ? idb : ida;
        for (int i = 0; i < 2; i++) {
            assert_int_equal(mxrtc_calls_state(w->dev[i].c, win), MXRTC_CALL_STATE_CONNECTED);
            mxrtc_call_state s = mxrtc_calls_state(w->dev[i].c, lose);
            assert_true(s == MXRTC_CALL_STATE_ENDED || s == MXRTC_CALL_STATE_NONE);
        }
        hears(a, win, 440.0);
        hears(b, win, 1000.0);
        world_free(w);
    }
}

static void hold_resume(void **state) {
    (void)state;
    world *w = world_new(8);
    device *a = &w->dev[0], *b = &w->dev[1];
    char id[128];
    place_and_ring(w, false, id);
    answer_and_connect(w, id, false);
    run_ms(w, 1000);
    assert_int_equal(mxrtc_calls_set_hold(a->c, w->now, id, 1), MXRTC_OK);
    drain(w, 0);
    run_ms(w, 2000);
    const logged *h = last_kind(a, MXRTC_CALLS_OUT_HOLD, id);
    assert_non_null(h);
    assert_true(h->lh && !h->rh);
    h = last_kind(b, MXRTC_CALLS_OUT_HOLD, id);
    assert_non_null(h);
    assert_true(!h->lh && h->rh);
    /* alice holds: she sends (sendonly) but bob does not send to her. */
    silent(a, id);
    assert_int_equal(mxrtc_calls_set_hold(a->c, w->now, id, 0), MXRTC_OK);
    drain(w, 0);
    run_ms(w, 2000);
    h = last_kind(b, MXRTC_CALLS_OUT_HOLD, id);
    assert_true(!h->lh && !h->rh);
    hears(a, id, 440.0);
    hears(b, id, 1000.0);
    assert_int_equal(mxrtc_calls_state(a->c, id), MXRTC_CALL_STATE_CONNECTED);
    world_free(w);
}

static void mute(void **state) {
    (void)state;
    world *w = world_new(9);
    device *a = &w->dev[0], *b = &w->dev[1];
    char id[128];
    place_and_ring(w, false, id);
    answer_and_connect(w, id, false);
    run_ms(w, 1000);
    assert_int_equal(mxrtc_calls_set_mute(a->c, w->now, id, 1, 0), MXRTC_OK);
    drain(w, 0);
    run_ms(w, 1500);
    const logged *m = last_kind(b, MXRTC_CALLS_OUT_REMOTE_MEDIA, id);
    assert_non_null(m);
    assert_true(m->ram && m->rvm);   /* a voice call: no video, shown as muted (as Element) */
    silent(b, id);
    hears(a, id, 440.0);
    assert_int_equal(mxrtc_calls_set_mute(a->c, w->now, id, 0, 0), MXRTC_OK);
    drain(w, 0);
    run_ms(w, 1500);
    m = last_kind(b, MXRTC_CALLS_OUT_REMOTE_MEDIA, id);
    assert_true(!m->ram);
    hears(b, id, 1000.0);
    world_free(w);
}

/* Two calls at once between the same devices (two rooms): each call's
 * datagrams reach its own peer (distinct tones per call). */
static void two_calls(void **state) {
    (void)state;
    world *w = world_new(10);
    device *a = &w->dev[0], *b = &w->dev[1];
    char id1[128], id2[128];
    assert_int_equal(mxrtc_calls_place(a->c, w->now, ROOM, NULL, 0, id1, sizeof id1), MXRTC_OK);
    drain(w, 0);
    run_ms(w, 300);
    assert_int_equal(mxrtc_calls_answer(b->c, w->now, id1, 0), MXRTC_OK);
    drain(w, 1);
    run_ms(w, 2000);
    assert_int_equal(mxrtc_calls_place(a->c, w->now, ROOM2, NULL, 0, id2, sizeof id2), MXRTC_OK);
    drain(w, 0);
    run_ms(w, 300);
    assert_non_null(last_kind(b, MXRTC_CALLS_OUT_INCOMING, id2));
    assert_int_equal(mxrtc_calls_answer(b->c, w->now, id2, 0), MXRTC_OK);
    drain(w, 1);
    run_ms(w, 3000);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mxrtc_calls_state(w->dev[i].c, id1), MXRTC_CALL_STATE_CONNECTED);
        assert_int_equal(mxrtc_calls_state(w->dev[i].c, id2), MXRTC_CALL_STATE_CONNECTED);
    }
    /* alice's tone is 1000 Hz on her first call, 1500 Hz on her second;
     * bob's 440 and 940. */
    hears(b, id1, 1000.0);
    hears(b, id2, 1500.0);
    hears(a, id1, 440.0);
    hears(a, id2, 940.0);
    assert_int_equal(mxrtc_calls_hangup(a->c, w->now, id1), MXRTC_OK);
    drain(w, 0);
    run_ms(w, 1500);
    ended(b, id1, MXRTC_CALL_END_USER_HANGUP, 1);
    assert_int_equal(mxrtc_calls_state(b->c, id2), MXRTC_CALL_STATE_CONNECTED);
    hears(b, id2, 1500.0);
    world_free(w);
}

/* A 13 s network blip on alice's side during two calls: the call layer
 * restarts ICE (m.call.negotiate with new credentials) on both; the
 * checks with the new ufrags find their calls; media comes back on each
 * call with its own tone. */
static void blip_ice_restart(void **state) {
    (void)state;
    world *w = world_new(15);
    device *a = &w->dev[0], *b = &w->dev[1];
    char id1[128], id2[128];
    /* One after the other: two DTLS handshakes between the same two
     * hosts at the same moment cannot be told apart (docs/matrix.md). */
    for (int k = 0; k < 2; k++) {
        char *id = k ? id2 : id1;
        assert_int_equal(mxrtc_calls_place(a->c, w->now, k ? ROOM2 : ROOM, NULL, 0, id, 128), MXRTC_OK);
        drain(w, 0);
        run_ms(w, 300);
        assert_int_equal(mxrtc_calls_answer(b->c, w->now, id, 0), MXRTC_OK);
        drain(w, 1);
        run_ms(w, 3000);
    }
    int negotiates = count_log(a, MXRTC_CALLS_OUT_SEND_EVENT, "m.call.negotiate") +
                     count_log(b, MXRTC_CALLS_OUT_SEND_EVENT, "m.call.negotiate");
    simnet_link cut = {.loss = 1.0}, ok = {.delay = 20000, .jitter = 2000};
    simnet_set_host_link(w->net, a->host, &cut);
    run_ms(w, 13000);
    simnet_set_host_link(w->net, a->host, &ok);
    run_ms(w, 8000);
    int negotiates2 = count_log(a, MXRTC_CALLS_OUT_SEND_EVENT, "m.call.negotiate") +
                      count_log(b, MXRTC_CALLS_OUT_SEND_EVENT, "m.call.negotiate");
    assert_true(negotiates2 >= negotiates + 2);   /* both calls restarted ICE */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mxrtc_calls_state(w->dev[i].c, id1), MXRTC_CALL_STATE_CONNECTED);
        assert_int_equal(mxrtc_calls_state(w->dev[i].c, id2), MXRTC_CALL_STATE_CONNECTED);
    }
    hears(b, id1, 1000.0);
    hears(b, id2, 1500.0);
    hears(a, id1, 440.0);
    hears(a, id2, 940.0);
    world_free(w);
}

static void bad_events(void **state) {
    (void)state;
    world *w = world_new(11);
    device *b = &w->dev[1];
    char id[128];
    place_and_ring(w, false, id);
    int before = b->nlog;
    const char *why = NULL;
    static const char *bad[] = {
        "{", "[]", "{\"call_id\":5,\"version\":1,\"party_id\":\"X\"}",
        "{\"call_id\":\"c\",\"version\":\"1\",\"party_id\":\"X\",\"answer\":{\"type\":\"answer\"}}",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        mxrtc_room_event e = {ROOM, "@alice:example.org", "m.call.answer", NULL, bad[k], strlen(bad[k]), 0, 0};
        int rc = mxrtc_calls_feed_event(b->c, w->now, &e, &why);
        assert_true(rc == MXRTC_ERR_MALFORMED || rc == MXRTC_ERR_LIMIT);
        assert_non_null(why);
        drain(w, 1);
    }
    mxrtc_room_event m = {ROOM, "@alice:example.org", "m.room.member", "@alice:example.org", "{\"membership\":7}",
                          16, 0, 0};
    assert_int_equal(mxrtc_calls_feed_event(b->c, w->now, &m, &why), MXRTC_ERR_MALFORMED);
    drain(w, 1);
    /* Not call events: ignored. */
    mxrtc_room_event t = {ROOM, "@alice:example.org", "m.room.message", NULL, "{}", 2, 0, 0};
    assert_int_equal(mxrtc_calls_feed_event(b->c, w->now, &t, &why), MXRTC_OK);
    drain(w, 1);
    assert_int_equal(b->nlog, before);
    assert_int_equal(mxrtc_calls_state(b->c, id), MXRTC_CALL_STATE_RINGING);
    mxrtc_calls_counters ct = {.size = sizeof ct};
    assert_int_equal(mxrtc_calls_get_counters(b->c, &ct), MXRTC_OK);
    assert_int_equal(ct.events_rejected, 5);
    assert_true(ct.events_ignored >= 1);
    /* alice leaves the room: the ringing call ends (peer_left). */
    mxrtc_room_event leave = {ROOM, "@alice:example.org", "m.room.member", "@alice:example.org",
                              "{\"membership\":\"leave\"}", 22, 0, 0};
    assert_int_equal(mxrtc_calls_feed_event(b->c, w->now, &leave, &why), MXRTC_OK);
    drain(w, 1);
    ended(b, id, MXRTC_CALL_END_PEER_LEFT, 0);
    world_free(w);
}

static void drain_rule(void **state) {
    (void)state;
    world *w = world_new(12);
    device *a = &w->dev[0];
    char id[128];
    assert_int_equal(mxrtc_calls_place(a->c, w->now, ROOM, NULL, 0, id, sizeof id), MXRTC_OK);
    /* Not drained: every input is refused, and nothing changes. */
    char id2[128];
    int16_t pcm[480] = {0};
    mxrtc_room_event e = {ROOM, "@bob:example.org", "m.call.hangup", NULL, "{}", 2, 0, 0};
    assert_int_equal(mxrtc_calls_place(a->c, w->now, ROOM2, NULL, 0, id2, sizeof id2), MXRTC_ERR_STATE);
    assert_int_equal(mxrtc_calls_hangup(a->c, w->now, id), MXRTC_ERR_STATE);
    assert_int_equal(mxrtc_calls_handle_timeout(a->c, w->now), MXRTC_ERR_STATE);
    assert_int_equal(mxrtc_calls_feed_event(a->c, w->now, &e, NULL), MXRTC_ERR_STATE);
    assert_int_equal(mxrtc_calls_set_turn_servers(a->c, w->now, "{}", 2), MXRTC_ERR_STATE);
    assert_int_equal(mxrtc_calls_push_audio(a->c, w->now, id, pcm, 480), MXRTC_ERR_STATE);
    assert_int_equal(mxrtc_calls_handle_datagram(a->c, w->now, &a->ifs[0], &w->dev[1].ifs[0], (const uint8_t *)"x",
                                                 1), MXRTC_ERR_STATE);
    assert_int_equal(mxrtc_calls_state(a->c, id), MXRTC_CALL_STATE_INVITE_SENT);
    drain(w, 0);
    assert_int_equal(count_log(a, MXRTC_CALLS_OUT_SEND_EVENT, "m.call.invite"), 1);
    assert_int_equal(mxrtc_calls_hangup(a->c, w->now, id), MXRTC_OK);
    drain(w, 0);
    /* A datagram nobody claims is counted. */
    mxrtc_addr stranger;
    assert_int_equal(mxrtc_addr_parse(&stranger, "198.51.100.9", 9), MXRTC_OK);
    assert_int_equal(mxrtc_calls_handle_datagram(a->c, w->now, &a->ifs[0], &stranger, (const uint8_t *)"\x80xyz", 4),
                     MXRTC_OK);
    drain(w, 0);
    mxrtc_calls_counters ct = {.size = sizeof ct};
    assert_int_equal(mxrtc_calls_get_counters(a->c, &ct), MXRTC_OK);
    assert_int_equal(ct.datagrams_unrouted, 1);
    world_free(w);
}

/* /voip/turnServer answers: {}, malformed (kept), a REST answer whose TURN
 * server carries a relay-only call, the refresh at 80% of the ttl. */
static void turn_servers(void **state) {
    (void)state;
    world *w = world_new_unstarted(13);
    mxrtc_addr turn_addr, relay_ip;
    assert_int_equal(mxrtc_addr_parse(&turn_addr, "203.0.113.5", 3478), MXRTC_OK);
    assert_int_equal(mxrtc_addr_parse(&relay_ip, "203.0.113.5", 0), MXRTC_OK);
    simnet_add_turn_server(w->net, SIMNET_WAN, &turn_addr, &relay_ip, "1700000000:@alice:example.org",
                           "c2VjcmV0cGFzc3dvcmQ=", "example.org");
    w->dev[0].pc.relay_only = 1;
    device_start(w, 0);
    device_start(w, 1);
    device *a = &w->dev[0];
    assert_int_equal(mxrtc_calls_set_turn_servers(a->c, w->now, "{}", 2), MXRTC_OK);
    drain(w, 0);
    assert_int_equal(a->refreshes, 0);
    static const char rest[] = "{\"username\":\"1700000000:@alice:example.org\",\"password\":\"c2VjcmV0cGFzc3dvcmQ=\","
                               "\"uris\":[\"turn:203.0.113.5:3478?transport=udp\",\"turn:[2001:db8::1]\"],\"ttl\":100}";
    mxrtc_time_us t0 = w->now;
    assert_int_equal(mxrtc_calls_set_turn_servers(a->c, w->now, rest, strlen(rest)), MXRTC_OK);
    drain(w, 0);
    assert_int_equal(mxrtc_calls_set_turn_servers(a->c, w->now, "{\"uris\":", 8), MXRTC_ERR_MALFORMED);
    drain(w, 0);
    assert_int_equal(mxrtc_calls_set_turn_servers(a->c, w->now, "{\"uris\":3}", 10), MXRTC_ERR_MALFORMED);
    drain(w, 0);
    /* The deadline is the refresh: 100 s ttl, fetched again after 70 s. */
    assert_int_equal(a->deadline, t0 + 70000000);
    char id[128];
    place_and_ring(w, false, id);
    answer_and_connect(w, id, false);
    run_ms(w, 1500);
    hears(&w->dev[1], id, 1000.0);
    hears(a, id, 440.0);
    assert_true(simnet_turn_relayed(w->net) > 100);
    assert_int_equal(simnet_turn_auth_failures(w->net), 0);
    assert_int_equal(mxrtc_calls_hangup(a->c, w->now, id), MXRTC_OK);
    drain(w, 0);
    run(w, t0 + 69000000);
    assert_int_equal(a->refreshes, 0);
    run(w, t0 + 70000001);
    assert_int_equal(a->refreshes, 1);
    run(w, t0 + 200000000);
    assert_int_equal(a->refreshes, 1);   /* once per answer */
    world_free(w);
}

/* A relay-only call on both sides through one TURN server, hung up: both
 * peers release their allocations (Refresh LIFETIME 0, RFC 8656 §7.2)
 * while ended, the calls layer feeding them their timeouts and the
 * server's answers, within the 2 s teardown; with the first Refresh(0) of
 * each side lost, its retransmission does it. */
static void turn_teardown(bool lose_first) {
    world *w = world_new_unstarted(lose_first ? 16 : 15);
    mxrtc_addr turn_addr, relay_ip;
    assert_int_equal(mxrtc_addr_parse(&turn_addr, "203.0.113.5", 3478), MXRTC_OK);
    assert_int_equal(mxrtc_addr_parse(&relay_ip, "203.0.113.5", 0), MXRTC_OK);
    simnet_add_turn_server(w->net, SIMNET_WAN, &turn_addr, &relay_ip, "1700000000:@alice:example.org",
                           "c2VjcmV0cGFzc3dvcmQ=", "example.org");
    static const char rest[] = "{\"username\":\"1700000000:@alice:example.org\",\"password\":\"c2VjcmV0cGFzc3dvcmQ=\","
                               "\"uris\":[\"turn:203.0.113.5:3478?transport=udp\"],\"ttl\":86400}";
    for (int i = 0; i < 2; i++) {
        w->dev[i].pc.relay_only = 1;
        device_start(w, i);
        assert_int_equal(mxrtc_calls_set_turn_servers(w->dev[i].c, w->now, rest, strlen(rest)), MXRTC_OK);
        drain(w, i);
    }
    char id[128];
    place_and_ring(w, false, id);
    answer_and_connect(w, id, false);
    run_ms(w, 1500);
    hears(&w->dev[1], id, 1000.0);
    hears(&w->dev[0], id, 440.0);
    assert_true(simnet_turn_relayed(w->net) > 100);
    size_t live = simnet_turn_live_allocations(w->net, w->now);
    assert_true(live >= 2);
    assert_int_equal(simnet_turn_deallocations(w->net), 0);
    if (lose_first) w->dev[0].drop_refresh = w->dev[1].drop_refresh = 1;
    mxrtc_time_us t0 = w->now;
    assert_int_equal(mxrtc_calls_hangup(w->dev[0].c, w->now, id), MXRTC_OK);
    drain(w, 0);
    run_ms(w, 2500);
    ended(&w->dev[0], id, MXRTC_CALL_END_USER_HANGUP, 0);
    ended(&w->dev[1], id, MXRTC_CALL_END_USER_HANGUP, 1);
    if (lose_first) {
        assert_int_equal(w->dev[0].drop_refresh, 0);
        assert_int_equal(w->dev[1].drop_refresh, 0);
    }
    /* Every allocation freed on the server by its Refresh(0), none left to
     * expire, and both teardowns over (deadlines NEVER, closing 0). */
    assert_int_equal(simnet_turn_live_allocations(w->net, w->now), 0);
    assert_int_equal(simnet_turn_deallocations(w->net), live);
    for (int i = 0; i < 2; i++) {
        mxrtc_peer_stats st;
        memset(&st, 0, sizeof st);
        st.size = sizeof st;
        assert_int_equal(mxrtc_calls_get_stats(w->dev[i].c, id, &st), MXRTC_OK);
        assert_int_equal(st.closing, 0);
        assert_true(w->dev[i].deadline > t0 + 1000000000);
    }
    world_free(w);
}

static void turn_teardown_after_hangup(void **state) { (void)state; turn_teardown(false); }
static void turn_teardown_refresh_lost(void **state) { (void)state; turn_teardown(true); }

/* A TURN URI with a host name: RESOLVE (call_id NULL), then resolved(). */
static void turn_host_name(void **state) {
    (void)state;
    world *w = world_new_unstarted(14);
    mxrtc_addr turn_addr, relay_ip, ip;
    assert_int_equal(mxrtc_addr_parse(&turn_addr, "203.0.113.5", 3478), MXRTC_OK);
    assert_int_equal(mxrtc_addr_parse(&relay_ip, "203.0.113.5", 0), MXRTC_OK);
    simnet_add_turn_server(w->net, SIMNET_WAN, &turn_addr, &relay_ip, "1:@bob:example.org", "pw", "example.org");
    w->dev[1].pc.relay_only = 1;
    device_start(w, 0);
    device_start(w, 1);
    device *b = &w->dev[1];
    static const char rest[] = "{\"username\":\"1:@bob:example.org\",\"password\":\"pw\","
                               "\"uris\":[\"turn:turn.example.org?transport=udp\",\"turn:turn.example.org:3478\"]}";
    assert_int_equal(mxrtc_calls_set_turn_servers(b->c, w->now, rest, strlen(rest)), MXRTC_OK);
    drain(w, 1);
    assert_int_equal(b->nresolve, 1);   /* one name, asked once */
    assert_string_equal(b->resolve[0], "turn.example.org");
    assert_int_equal(mxrtc_calls_resolved(b->c, w->now, NULL, "unknown.example.org", &turn_addr), MXRTC_ERR_NOT_FOUND);
    drain(w, 1);
    assert_int_equal(mxrtc_addr_parse(&ip, "203.0.113.5", 0), MXRTC_OK);
    assert_int_equal(mxrtc_calls_resolved(b->c, w->now, NULL, "turn.example.org", &ip), MXRTC_OK);
    drain(w, 1);
    char id[128];
    place_and_ring(w, false, id);
    answer_and_connect(w, id, false);
    run_ms(w, 1500);
    hears(b, id, 1000.0);
    assert_true(simnet_turn_relayed(w->net) > 100);
    /* turns: without a CA file (mxrtc_calls_config.tls_ca_file) is skipped:
     * no RESOLVE, and calls still work (without that relay). */
    static const char tls[] = "{\"username\":\"1:@bob:example.org\",\"password\":\"pw\","
                              "\"uris\":[\"turns:tls.example.org\"]}";
    assert_int_equal(mxrtc_calls_set_turn_servers(w->dev[0].c, w->now, tls, strlen(tls)), MXRTC_OK);
    drain(w, 0);
    assert_int_equal(w->dev[0].nresolve, 0);
    assert_int_equal(mxrtc_calls_resolved(w->dev[0].c, w->now, NULL, "tls.example.org", &ip), MXRTC_ERR_NOT_FOUND);
    drain(w, 0);
    world_free(w);
}

/* Every allocation of creating the object, placing a call (its peer) and
 * draining fails in turn: errors come back, nothing leaks. */
static void alloc_failures(void **state) {
    (void)state;
    bool completed = false;
    for (long n = 1; n < 20000 && !completed; n++) {
        test_alloc ta;
        test_alloc_init(&ta);
        test_alloc_fail_nth(&ta, n);
        rnd r = {n};
        mxrtc_peer_config pc;
        mxrtc_peer_config_init(&pc);
        assert_int_equal(mxrtc_addr_parse(&pc.interfaces[0], "192.0.2.1", 5000), MXRTC_OK);
        pc.interface_count = 1;
        mxrtc_calls_config cfg;
        mxrtc_calls_config_init(&cfg);
        cfg.allocator = &ta.iface;
        cfg.user_id = "@a:x";
        cfg.device_id = "D";
        cfg.random.fn = rnd_fill;
        cfg.random.user = &r;
        cfg.peer = &pc;
        cfg.tls_ca_file = "/ca.pem";
        mxrtc_calls *c = NULL;
        int rc = mxrtc_calls_new(&c, &cfg, 1);
        if (rc != MXRTC_OK) {
            assert_int_equal(rc, MXRTC_ERR_NO_MEMORY);
            assert_int_equal(ta.live, 0);
            continue;
        }
        static const char rest[] = "{\"username\":\"1:@a:x\",\"password\":\"pw\",\"uris\":[\"turn:192.0.2.9\"]}";
        (void)mxrtc_calls_set_turn_servers(c, 1, rest, strlen(rest));
        mxrtc_calls_output o;
        do assert_int_equal(mxrtc_calls_poll(c, 1, &o), MXRTC_OK);
        while (o.kind != MXRTC_CALLS_OUT_DEADLINE);
        char id[128];
        (void)mxrtc_calls_place(c, 1, ROOM, NULL, 0, id, sizeof id);
        do assert_int_equal(mxrtc_calls_poll(c, 1, &o), MXRTC_OK);
        while (o.kind != MXRTC_CALLS_OUT_DEADLINE);
        completed = ta.failures == 0;
        mxrtc_calls_free(c);
        assert_int_equal(ta.live, 0);
    }
    assert_true(completed);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names),
        cmocka_unit_test(config_errors),
        cmocka_unit_test(alloc_failures),
        cmocka_unit_test(voice_callee_hangs_up),
        cmocka_unit_test(voice_caller_hangs_up),
        cmocka_unit_test(video_call),
        cmocka_unit_test(reject),
        cmocka_unit_test(hangup_reason),
        cmocka_unit_test(expired_invite),
        cmocka_unit_test(glare),
        cmocka_unit_test(hold_resume),
        cmocka_unit_test(mute),
        cmocka_unit_test(two_calls),
        cmocka_unit_test(blip_ice_restart),
        cmocka_unit_test(bad_events),
        cmocka_unit_test(drain_rule),
        cmocka_unit_test(turn_servers),
        cmocka_unit_test(turn_host_name),
        cmocka_unit_test(turn_teardown_after_hangup),
        cmocka_unit_test(turn_teardown_refresh_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
