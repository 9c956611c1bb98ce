/*
 * The call manager against the spec's VoIP module: two (or three) managers
 * talk through a fake homeserver (every event sent is delivered to every
 * device in the room, the sender's own echo included) with fake peers that
 * record what they are asked and answer with canned SDP, on a virtual
 * clock. Also events injected by hand, shaped as Element sends them, for
 * version 0 peers, glare both ways, expiry from the event's age,
 * multi-device and invitee filtering.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/random.h"
#include "matrix/call_manager.h"
#include "support/test_alloc.h"

#define ROOM "!room:example.org"
#define MAX_DEV 3
#define MAX_PEERS 16
#define MAX_LOG 64

/* ---- fake peer ----------------------------------------------------------- */

typedef struct fake_peer {
    char call_id[300];
    char tag;                 /* stream ids are "stream-<tag>" */
    int offers, answers, remote_answers, closes, mutes;
    int candidates_added, eoc;
    char first_candidate[600];
    mxrtc_call_media last_want;
    char last_remote[1024];
    int fail_answer;
} fake_peer;

typedef struct fake_factory {
    fake_peer peers[MAX_PEERS];
    int count;
    char tag;
    int fail_open;
} fake_factory;

static int write_sdp(fake_peer *p, const mxrtc_call_media *want, const char *remote, char *sdp, size_t cap,
                     size_t *len) {
    const char *dir = want->hold ? "sendonly" : "sendrecv";
    if (remote && strstr(remote, "a=sendonly")) dir = want->hold ? "inactive" : "recvonly";
    int n = snprintf(sdp, cap,
                     "v=0\r\no=- 42 %d IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                     "a=msid-semantic: WMS stream-%c\r\n"
                     "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=%s\r\n"
                     "a=ice-ufrag:%s\r\na=msid:stream-%c audio-%c\r\na=rtpmap:111 opus/48000/2\r\n%s",
                     p->offers + p->answers + 1, p->tag, dir, want->ice_restart ? "restart" : "ufrag",
                     p->tag, p->tag,
                     want->video ? "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\n"
                                   "a=msid:stream-x video-x\r\na=rtpmap:96 VP8/90000\r\n" : "");
    if (n < 0 || (size_t)n >= cap) return MXRTC_ERR_BUFFER_TOO_SMALL;
    *len = (size_t)n;
    return MXRTC_OK;
}

static int fp_offer(void *peer, const mxrtc_call_media *want, char *sdp, size_t cap, size_t *len) {
    fake_peer *p = peer;
    p->last_want = *want;
    int rc = write_sdp(p, want, NULL, sdp, cap, len);
    p->offers++;
    return rc;
}

static int fp_answer(void *peer, const char *remote, const mxrtc_call_media *want, char *sdp, size_t cap,
                     size_t *len) {
    fake_peer *p = peer;
    if (p->fail_answer) return MXRTC_ERR_MALFORMED;
    p->last_want = *want;
    snprintf(p->last_remote, sizeof p->last_remote, "%s", remote);
    int rc = write_sdp(p, want, remote, sdp, cap, len);
    p->answers++;
    return rc;
}

static int fp_set_answer(void *peer, const char *remote) {
    fake_peer *p = peer;
    snprintf(p->last_remote, sizeof p->last_remote, "%s", remote);
    p->remote_answers++;
    return MXRTC_OK;
}

static int fp_add(void *peer, const mxrtc_mx_candidate *c, size_t n, bool eoc) {
    fake_peer *p = peer;
    if (n && !p->first_candidate[0]) snprintf(p->first_candidate, sizeof p->first_candidate, "%s", c[0].candidate);
    p->candidates_added += (int)n;
    if (eoc) p->eoc++;
    return MXRTC_OK;
}

static int fp_mute(void *peer, bool a, bool v) {
    (void)a;
    (void)v;
    ((fake_peer *)peer)->mutes++;
    return MXRTC_OK;
}

static void fp_close(void *peer) { ((fake_peer *)peer)->closes++; }

static const mxrtc_call_peer_ops fake_ops = {fp_offer, fp_answer, fp_set_answer, fp_add, fp_mute, fp_close};

static int fp_open(void *user, const char *call_id, bool outgoing, void **out) {
    (void)outgoing;
    fake_factory *f = user;
    if (f->fail_open || f->count >= MAX_PEERS) return MXRTC_ERR_NO_MEMORY;
    fake_peer *p = &f->peers[f->count++];
    memset(p, 0, sizeof *p);
    snprintf(p->call_id, sizeof p->call_id, "%s", call_id);
    p->tag = f->tag;
    *out = p;
    return MXRTC_OK;
}

static fake_peer *peer_for(fake_factory *f, const char *call_id) {
    for (int i = f->count - 1; i >= 0; i--)
        if (strcmp(f->peers[i].call_id, call_id) == 0) return &f->peers[i];
    return NULL;
}

/* ---- devices, fake homeserver and clock --------------------------------- */

typedef struct logged {
    mxrtc_cm_output_kind kind;
    char call_id[300];
    char type[64];
    char *content;
    mxrtc_call_state state;
    mxrtc_mx_reason reason;
    bool remote_ended, video, ram, rvm, lh, rh;
    char replaced_by[300];
} logged;

typedef struct device {
    const char *user, *party;
    mxrtc_call_manager *m;
    fake_factory f;
    mxrtc_seeded_random rnd;
    mxrtc_time_us deadline;
    logged log[MAX_LOG];
    int nlog;
    bool in_room;
} device;

typedef struct pending {
    char sender[64];
    char type[64];
    char *content;
} pending;

typedef struct world {
    device dev[MAX_DEV];
    int ndev;
    pending q[256];
    int qh, qn;
    mxrtc_time_us now;
    int delivered;
    bool hold_delivery;     /* queue events without delivering (crossing invites) */
} world;

static void device_init(world *w, int i, const char *user, const char *party, char tag, uint64_t seed) {
    device *d = &w->dev[i];
    memset(d, 0, sizeof *d);
    d->user = user;
    d->party = party;
    d->f.tag = tag;
    d->in_room = true;
    mxrtc_seeded_random_init(&d->rnd, seed);
    mxrtc_call_manager_config cfg;
    mxrtc_call_manager_config_init(&cfg);
    cfg.user_id = user;
    cfg.party_id = party;
    cfg.random = mxrtc_seeded_random_source(&d->rnd);
    cfg.peer.ops = &fake_ops;
    cfg.peer.user = &d->f;
    cfg.peer.open = fp_open;
    assert_int_equal(mxrtc_call_manager_new(&d->m, &cfg), MXRTC_OK);
    d->deadline = MXRTC_TIME_NEVER;
    if (i >= w->ndev) w->ndev = i + 1;
}

static void world_free(world *w) {
    for (int i = 0; i < w->ndev; i++) {
        mxrtc_call_manager_free(w->dev[i].m);
        for (int k = 0; k < w->dev[i].nlog; k++) free(w->dev[i].log[k].content);
    }
    while (w->qn) {
        free(w->q[w->qh].content);
        w->qh = (w->qh + 1) % 256;
        w->qn--;
    }
}

/* Polls one device until its deadline; sends go to the homeserver queue. */
static void drain(world *w, int i) {
    device *d = &w->dev[i];
    for (int guard = 0; guard < 1000; guard++) {
        mxrtc_cm_output o;
        assert_int_equal(mxrtc_call_manager_poll(d->m, w->now, &o), MXRTC_OK);
        if (o.kind == MXRTC_CM_OUT_DEADLINE) {
            d->deadline = o.deadline;
            return;
        }
        assert_true(d->nlog < MAX_LOG);
        logged *l = &d->log[d->nlog++];
        memset(l, 0, sizeof *l);
        l->kind = o.kind;
        snprintf(l->call_id, sizeof l->call_id, "%s", o.call_id);
        l->state = o.state;
        l->reason = o.reason;
        l->remote_ended = o.remote_ended;
        l->video = o.video;
        l->ram = o.remote_audio_muted;
        l->rvm = o.remote_video_muted;
        l->lh = o.local_hold;
        l->rh = o.remote_hold;
        if (o.replaced_by) snprintf(l->replaced_by, sizeof l->replaced_by, "%s", o.replaced_by);
        if (o.kind == MXRTC_CM_OUT_SEND) {
            assert_string_equal(o.room_id, ROOM);
            snprintf(l->type, sizeof l->type, "%s", o.type);
            l->content = strdup(o.content);
            assert_true(w->qn < 256);
            pending *p = &w->q[(w->qh + w->qn++) % 256];
            snprintf(p->sender, sizeof p->sender, "%s", d->user);
            snprintf(p->type, sizeof p->type, "%s", o.type);
            p->content = strdup(o.content);
        }
    }
    fail_msg("device %d never reached its deadline", i);
}

static void feed_one(world *w, int i, const char *sender, const char *type, const char *content,
                     uint64_t age_ms, int expect) {
    device *d = &w->dev[i];
    mxrtc_mx_room_event e = {ROOM, sender, type, content, strlen(content), age_ms, 0};
    const char *why = NULL;
    int rc = mxrtc_call_manager_feed(d->m, w->now, &e, &why);
    if (rc != expect) fail_msg("feed %s to %s: %d (%s)", type, d->user, rc, why ? why : "");
    drain(w, i);
}

/* Delivers queued events to every device in the room, in order, until quiet. */
static void deliver(world *w) {
    while (w->qn && !w->hold_delivery) {
        pending p = w->q[w->qh];
        w->qh = (w->qh + 1) % 256;
        w->qn--;
        for (int i = 0; i < w->ndev; i++)
            if (w->dev[i].in_room) feed_one(w, i, p.sender, p.type, p.content, 0, MXRTC_OK);
        w->delivered++;
        free(p.content);
    }
}

/* Runs the clock to t, firing every device's timers on the way. */
static void advance(world *w, mxrtc_time_us t) {
    for (;;) {
        int next = -1;
        for (int i = 0; i < w->ndev; i++)
            if (w->dev[i].deadline <= t && (next < 0 || w->dev[i].deadline < w->dev[next].deadline)) next = i;
        if (next < 0) break;
        if (w->dev[next].deadline > w->now) w->now = w->dev[next].deadline;
        assert_int_equal(mxrtc_call_manager_handle_timeout(w->dev[next].m, w->now), MXRTC_OK);
        drain(w, next);
        deliver(w);
    }
    if (t > w->now) w->now = t;
}

static const logged *find_log(const device *d, mxrtc_cm_output_kind kind, const char *type, int nth) {
    for (int k = 0; k < d->nlog; k++) {
        const logged *l = &d->log[k];
        if (l->kind != kind || (type && strcmp(l->type, type) != 0)) continue;
        if (nth-- == 0) return l;
    }
    return NULL;
}

static int count_log(const device *d, mxrtc_cm_output_kind kind, const char *type) {
    int n = 0;
    for (int k = 0; k < d->nlog; k++)
        if (d->log[k].kind == kind && (!type || strcmp(d->log[k].type, type) == 0)) n++;
    return n;
}

static const logged *last_state(const device *d, const char *call_id) {
    const logged *r = NULL;
    for (int k = 0; k < d->nlog; k++)
        if (d->log[k].kind == MXRTC_CM_OUT_STATE && strcmp(d->log[k].call_id, call_id) == 0) r = &d->log[k];
    return r;
}

static void place(world *w, int i, const char *invitee, bool video, char *id) {
    assert_int_equal(mxrtc_call_manager_place(w->dev[i].m, w->now, ROOM, invitee, video, id, 64), MXRTC_OK);
    drain(w, i);
}

static void act(world *w, int i, int rc) {
    assert_int_equal(rc, MXRTC_OK);
    drain(w, i);
    deliver(w);
}

/* Alice (0) calls Bob (1); returns with both CONNECTING. */
static void setup_call(world *w, char *id, bool video) {
    device_init(w, 0, "@alice:example.org", "ALICEDEV", 'a', 1);
    device_init(w, 1, "@bob:example.org", "BOBDEV", 'b', 2);
    place(w, 0, "@bob:example.org", video, id);
    deliver(w);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[1].m, id), MXRTC_CALL_STATE_RINGING);
    act(w, 1, mxrtc_call_manager_answer(w->dev[1].m, w->now, id, video));
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, id), MXRTC_CALL_STATE_CONNECTING);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[1].m, id), MXRTC_CALL_STATE_CONNECTING);
}

static void connect_both(world *w, const char *id) {
    act(w, 0, mxrtc_call_manager_peer_state(w->dev[0].m, w->now, id, MXRTC_CALL_PEER_CONNECTED));
    act(w, 1, mxrtc_call_manager_peer_state(w->dev[1].m, w->now, id, MXRTC_CALL_PEER_CONNECTED));
}

/* ---- tests ---------------------------------------------------------------- */

/* The whole call through the fake homeserver: invite, ring, answer,
 * select_answer, batched candidates with end-of-candidates, connected,
 * hangup; echoes of our own events are ignored on the way. */
static void full_call_and_hangup(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    char id[64];
    w->now = 1000000;
    setup_call(w, id, false);
    device *a = &w->dev[0], *b = &w->dev[1];
    /* Bob was told of the call with the caller's id; audio only */
    const logged *inc = find_log(b, MXRTC_CM_OUT_INCOMING, NULL, 0);
    assert_non_null(inc);
    assert_string_equal(inc->call_id, id);
    assert_false(inc->video);
    /* the invite carries version "1", our party_id, invitee, lifetime, and
     * metadata keyed by the msid stream id of our SDP */
    const logged *inv = find_log(a, MXRTC_CM_OUT_SEND, "m.call.invite", 0);
    assert_non_null(inv);
    assert_non_null(strstr(inv->content, "\"version\":\"1\""));
    assert_non_null(strstr(inv->content, "\"party_id\":\"ALICEDEV\""));
    assert_non_null(strstr(inv->content, "\"invitee\":\"@bob:example.org\""));
    assert_non_null(strstr(inv->content, "\"lifetime\":60000"));
    assert_non_null(strstr(inv->content, "\"sdp_stream_metadata\":{\"stream-a\":{\"purpose\":\"m.usermedia\""));
    /* Alice chose Bob's answer and said so */
    const logged *sel = find_log(a, MXRTC_CM_OUT_SEND, "m.call.select_answer", 0);
    assert_non_null(sel);
    assert_non_null(strstr(sel->content, "\"selected_party_id\":\"BOBDEV\""));
    fake_peer *pa = peer_for(&a->f, id), *pb = peer_for(&b->f, id);
    assert_int_equal(pa->offers, 1);
    assert_int_equal(pa->remote_answers, 1);
    assert_non_null(strstr(pa->last_remote, "stream-b"));
    assert_int_equal(pb->answers, 1);
    assert_non_null(strstr(pb->last_remote, "stream-a"));

    /* candidates: two gathered quickly, then done; one batch after 200 ms */
    act(w, 0, mxrtc_call_manager_peer_candidate(a->m, w->now, id, "candidate:1 1 udp 2122260223 198.51.100.1 5000 typ host", "0", 0));
    assert_int_equal(a->deadline, w->now + 200000);
    act(w, 0, mxrtc_call_manager_peer_candidate(a->m, w->now + 10, id, "candidate:2 1 udp 1686052607 203.0.113.9 6000 typ srflx raddr 198.51.100.1 rport 5000", "0", 0));
    act(w, 0, mxrtc_call_manager_peer_gathering_done(a->m, w->now, id));
    assert_int_equal(count_log(a, MXRTC_CM_OUT_SEND, "m.call.candidates"), 0);
    advance(w, w->now + 199999);
    assert_int_equal(count_log(a, MXRTC_CM_OUT_SEND, "m.call.candidates"), 0);
    advance(w, w->now + 1);
    assert_int_equal(count_log(a, MXRTC_CM_OUT_SEND, "m.call.candidates"), 1);
    const logged *cl = find_log(a, MXRTC_CM_OUT_SEND, "m.call.candidates", 0);
    assert_non_null(strstr(cl->content, "{\"candidate\":\"\"}"));
    assert_int_equal(pb->candidates_added, 2);
    assert_string_equal(pb->first_candidate, "candidate:1 1 udp 2122260223 198.51.100.1 5000 typ host");
    assert_int_equal(pb->eoc, 1);
    assert_int_equal(pa->candidates_added, 0);   /* its own echo was not applied */

    connect_both(w, id);
    assert_int_equal(mxrtc_call_manager_call_state(a->m, id), MXRTC_CALL_STATE_CONNECTED);
    assert_int_equal(mxrtc_call_manager_call_state(b->m, id), MXRTC_CALL_STATE_CONNECTED);

    act(w, 0, mxrtc_call_manager_hangup(a->m, w->now, id, MXRTC_MX_REASON_NONE));
    const logged *hb = last_state(b, id);
    assert_int_equal(hb->state, MXRTC_CALL_STATE_ENDED);
    assert_int_equal(hb->reason, MXRTC_MX_REASON_USER_HANGUP);
    assert_true(hb->remote_ended);
    const logged *ha = last_state(a, id);
    assert_int_equal(ha->state, MXRTC_CALL_STATE_ENDED);
    assert_false(ha->remote_ended);
    assert_int_equal(pa->closes, 1);
    assert_int_equal(pb->closes, 1);
    /* nothing after the end: a second hangup is refused */
    assert_int_equal(mxrtc_call_manager_hangup(a->m, w->now, id, MXRTC_MX_REASON_NONE), MXRTC_ERR_STATE);
    assert_int_equal(a->deadline, MXRTC_TIME_NEVER);
    world_free(w);
    free(w);
}

static void reject_v1(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    device_init(w, 0, "@alice:example.org", "ALICEDEV", 'a', 1);
    device_init(w, 1, "@bob:example.org", "BOBDEV", 'b', 2);
    char id[64];
    place(w, 0, NULL, true, id);
    deliver(w);
    assert_true(find_log(&w->dev[1], MXRTC_CM_OUT_INCOMING, NULL, 0)->video);
    act(w, 1, mxrtc_call_manager_reject(w->dev[1].m, w->now, id));
    assert_int_equal(count_log(&w->dev[1], MXRTC_CM_OUT_SEND, "m.call.reject"), 1);
    const logged *s = last_state(&w->dev[0], id);
    assert_int_equal(s->reason, MXRTC_MX_REASON_REJECTED);
    assert_true(s->remote_ended);
    assert_int_equal(last_state(&w->dev[1], id)->reason, MXRTC_MX_REASON_REJECTED);
    world_free(w);
    free(w);
}

#define V0_INVITE "{\"call_id\":\"legacy1\",\"version\":0,\"lifetime\":60000,\"offer\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- 1 1 IN IP4 0.0.0.0\\r\\ns=-\\r\\nt=0 0\\r\\nm=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\na=sendrecv\\r\\n\"}}"

/* A version 0 caller: no party_id anywhere; declining is a hangup without
 * reason; its hangup (no reason) ends our call. */
static void v0_peer(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    device_init(w, 1, "@bob:example.org", "BOBDEV", 'b', 2);
    w->dev[0].m = NULL;
    w->ndev = 2;
    w->dev[0].deadline = MXRTC_TIME_NEVER;
    /* device 0 is absent: events are injected by hand */
    w->dev[0].in_room = false;
    feed_one(w, 1, "@old:example.org", "m.call.invite", V0_INVITE, 0, MXRTC_OK);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[1].m, "legacy1"), MXRTC_CALL_STATE_RINGING);
    assert_int_equal(mxrtc_call_manager_reject(w->dev[1].m, w->now, "legacy1"), MXRTC_OK);
    drain(w, 1);
    const logged *h = find_log(&w->dev[1], MXRTC_CM_OUT_SEND, "m.call.hangup", 0);
    assert_non_null(h);
    assert_null(strstr(h->content, "reason"));
    assert_int_equal(count_log(&w->dev[1], MXRTC_CM_OUT_SEND, "m.call.reject"), 0);

    /* second v0 call answered, then hung up by the v0 side; no negotiate */
    feed_one(w, 1, "@old:example.org", "m.call.invite",
             "{\"call_id\":\"legacy2\",\"version\":0,\"lifetime\":60000,\"offer\":{\"type\":\"offer\",\"sdp\":\"v=0\"}}",
             0, MXRTC_OK);
    assert_int_equal(mxrtc_call_manager_answer(w->dev[1].m, w->now, "legacy2", false), MXRTC_OK);
    drain(w, 1);
    assert_int_equal(mxrtc_call_manager_set_hold(w->dev[1].m, w->now, "legacy2", true), MXRTC_ERR_UNSUPPORTED);
    /* a hangup from someone else in the room is not the opponent's */
    feed_one(w, 1, "@mallory:example.org", "m.call.hangup", "{\"call_id\":\"legacy2\",\"version\":0}", 0, MXRTC_OK);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[1].m, "legacy2"), MXRTC_CALL_STATE_CONNECTING);
    feed_one(w, 1, "@old:example.org", "m.call.hangup", "{\"call_id\":\"legacy2\",\"version\":0}", 0, MXRTC_OK);
    const logged *s = last_state(&w->dev[1], "legacy2");
    assert_int_equal(s->reason, MXRTC_MX_REASON_USER_HANGUP);
    assert_true(s->remote_ended);
    world_free(w);
    free(w);
}

/* Crossing invites, both ways: each side detects glare; the call with the
 * lesser call_id survives on both and is answered automatically. */
static void glare_through_homeserver(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        world *w = calloc(1, sizeof *w);
        device_init(w, 0, "@alice:example.org", "ALICEDEV", 'a', seed);
        device_init(w, 1, "@bob:example.org", "BOBDEV", 'b', seed * 977);
        char ida[64], idb[64];
        w->hold_delivery = true;
        place(w, 0, "@bob:example.org", false, ida);
        place(w, 1, NULL, false, idb);   /* Bob set no invitee, as Element Web may */
        w->hold_delivery = false;
        deliver(w);
        const char *win = strcmp(ida, idb) < 0 ? ida : idb;
        const char *lose = win == ida ? idb : ida;
        for (int i = 0; i < 2; i++) {
            mxrtc_call_state s = mxrtc_call_manager_call_state(w->dev[i].m, win);
            if (s != MXRTC_CALL_STATE_CONNECTING) fail_msg("seed %d dev %d: winner in %s", (int)seed, i, mxrtc_call_state_name(s));
            assert_int_not_equal(mxrtc_call_manager_call_state(w->dev[i].m, lose), MXRTC_CALL_STATE_INVITE_SENT);
            assert_int_equal(count_log(&w->dev[i], MXRTC_CM_OUT_INCOMING, NULL), 0);  /* nothing rang */
        }
        int loser_dev = lose == ida ? 0 : 1;
        const logged *s = last_state(&w->dev[loser_dev], lose);
        assert_int_equal(s->reason, MXRTC_MX_REASON_REPLACED);
        assert_string_equal(s->replaced_by, win);
        world_free(w);
        free(w);
    }
}

static char *invite_json(const char *call_id, const char *party, const char *invitee, unsigned lifetime) {
    char *j = malloc(1024);
    snprintf(j, 1024,
             "{\"call_id\":\"%s\",\"party_id\":\"%s\",\"version\":\"1\",\"lifetime\":%u,%s%s%s"
             "\"offer\":{\"type\":\"offer\",\"sdp\":\"v=0\\r\\no=- 1 1 IN IP4 0.0.0.0\\r\\ns=-\\r\\nt=0 0\\r\\n"
             "m=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\na=msid:ES1 t1\\r\\n\"},"
             "\"sdp_stream_metadata\":{\"ES1\":{\"purpose\":\"m.usermedia\",\"audio_muted\":false,\"video_muted\":true}}}",
             call_id, party, lifetime, invitee ? "\"invitee\":\"" : "", invitee ? invitee : "",
             invitee ? "\"," : "");
    return j;
}

/* Glare decided by hand, both outcomes on one device. */
static void glare_both_ways(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    device_init(w, 0, "@alice:example.org", "ALICEDEV", 'a', 5);
    w->dev[1].in_room = false;
    char id[64];
    place(w, 0, "@bob:example.org", false, id);   /* "c" + hex */
    /* incoming "d..." > "c...": ours wins; theirs gets hangup "replaced" */
    char *j = invite_json("dzzz", "BOBDEV", "@alice:example.org", 60000);
    feed_one(w, 0, "@bob:example.org", "m.call.invite", j, 0, MXRTC_OK);
    free(j);
    const logged *h = find_log(&w->dev[0], MXRTC_CM_OUT_SEND, "m.call.hangup", 0);
    assert_non_null(h);
    assert_non_null(strstr(h->content, "\"call_id\":\"dzzz\""));
    assert_non_null(strstr(h->content, "\"reason\":\"replaced\""));
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, id), MXRTC_CALL_STATE_INVITE_SENT);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, "dzzz"), MXRTC_CALL_STATE_NONE);
    /* incoming "a..." < "c...", no invitee: theirs wins and is answered */
    j = invite_json("aaaa", "BOBDEV", NULL, 60000);
    feed_one(w, 0, "@bob:example.org", "m.call.invite", j, 0, MXRTC_OK);
    free(j);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, "aaaa"), MXRTC_CALL_STATE_CONNECTING);
    assert_int_equal(last_state(&w->dev[0], id)->reason, MXRTC_MX_REASON_REPLACED);
    assert_non_null(find_log(&w->dev[0], MXRTC_CM_OUT_SEND, "m.call.answer", 0));
    /* an invite from a third user in the room is not glare: it rings */
    j = invite_json("0000", "CAROLDEV", NULL, 60000);
    feed_one(w, 0, "@carol:example.org", "m.call.invite", j, 0, MXRTC_OK);
    free(j);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, "0000"), MXRTC_CALL_STATE_RINGING);
    world_free(w);
    free(w);
}

/* Bob has two devices: both ring; one answers; the other stops ringing
 * (answered elsewhere) and the winner keeps the call after select_answer. */
static void multi_device_answered_elsewhere(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    device_init(w, 0, "@alice:example.org", "ALICEDEV", 'a', 1);
    device_init(w, 1, "@bob:example.org", "BOBPHONE", 'b', 2);
    device_init(w, 2, "@bob:example.org", "BOBLAPTOP", 'c', 3);
    char id[64];
    place(w, 0, "@bob:example.org", false, id);
    deliver(w);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[1].m, id), MXRTC_CALL_STATE_RINGING);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[2].m, id), MXRTC_CALL_STATE_RINGING);
    act(w, 2, mxrtc_call_manager_answer(w->dev[2].m, w->now, id, false));
    const logged *s = last_state(&w->dev[1], id);
    assert_int_equal(s->state, MXRTC_CALL_STATE_ENDED);
    assert_int_equal(s->reason, MXRTC_MX_REASON_ANSWERED_ELSEWHERE);
    assert_int_equal(count_log(&w->dev[1], MXRTC_CM_OUT_SEND, NULL), 0);   /* it sent nothing */
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[2].m, id), MXRTC_CALL_STATE_CONNECTING);
    assert_non_null(strstr(find_log(&w->dev[0], MXRTC_CM_OUT_SEND, "m.call.select_answer", 0)->content,
                           "BOBLAPTOP"));
    /* rejected elsewhere: a new call, the laptop rejects, the phone stops */
    char id2[64];
    place(w, 0, "@bob:example.org", false, id2);
    deliver(w);
    act(w, 2, mxrtc_call_manager_reject(w->dev[2].m, w->now, id2));
    assert_int_equal(last_state(&w->dev[1], id2)->reason, MXRTC_MX_REASON_REJECTED_ELSEWHERE);
    assert_int_equal(last_state(&w->dev[0], id2)->reason, MXRTC_MX_REASON_REJECTED);
    world_free(w);
    free(w);
}

/* Two callees answer an invitee-less call; the caller selects the first;
 * the second learns from select_answer that it lost. */
static void select_answer_someone_else(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    device_init(w, 0, "@alice:example.org", "ALICEDEV", 'a', 1);
    device_init(w, 1, "@bob:example.org", "BOBDEV", 'b', 2);
    device_init(w, 2, "@carol:example.org", "CAROLDEV", 'c', 3);
    char id[64];
    place(w, 0, NULL, false, id);
    deliver(w);
    w->hold_delivery = true;
    assert_int_equal(mxrtc_call_manager_answer(w->dev[1].m, w->now, id, false), MXRTC_OK);
    drain(w, 1);
    assert_int_equal(mxrtc_call_manager_answer(w->dev[2].m, w->now, id, false), MXRTC_OK);
    drain(w, 2);
    w->hold_delivery = false;
    deliver(w);
    assert_non_null(strstr(find_log(&w->dev[0], MXRTC_CM_OUT_SEND, "m.call.select_answer", 0)->content,
                           "\"selected_party_id\":\"BOBDEV\""));
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[1].m, id), MXRTC_CALL_STATE_CONNECTING);
    const logged *s = last_state(&w->dev[2], id);
    assert_int_equal(s->reason, MXRTC_MX_REASON_ANSWERED_ELSEWHERE);
    assert_true(s->remote_ended);
    assert_int_equal(peer_for(&w->dev[0].f, id)->remote_answers, 1);   /* Carol's answer ignored */
    world_free(w);
    free(w);
}

static void invitee_filtering(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    device_init(w, 0, "@bob:example.org", "BOBDEV", 'b', 1);
    char *j = invite_json("forcarol", "ALICEDEV", "@carol:example.org", 60000);
    feed_one(w, 0, "@alice:example.org", "m.call.invite", j, 0, MXRTC_OK);
    free(j);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, "forcarol"), MXRTC_CALL_STATE_NONE);
    assert_int_equal(w->dev[0].nlog, 0);
    j = invite_json("forbob", "ALICEDEV", "@bob:example.org", 60000);
    feed_one(w, 0, "@alice:example.org", "m.call.invite", j, 0, MXRTC_OK);
    free(j);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, "forbob"), MXRTC_CALL_STATE_RINGING);
    j = invite_json("foranyone", "ALICEDEV", NULL, 60000);
    feed_one(w, 0, "@alice:example.org", "m.call.invite", j, 0, MXRTC_OK);
    free(j);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, "foranyone"), MXRTC_CALL_STATE_RINGING);
    /* the remote metadata of the invite is reported */
    const logged *rm = find_log(&w->dev[0], MXRTC_CM_OUT_REMOTE_MEDIA, NULL, 0);
    assert_non_null(rm);
    assert_true(rm->rvm);
    /* our own invite echo (same user and party) never rings; nor does an
     * invite from another of our devices */
    j = invite_json("mine", "BOBDEV", NULL, 60000);
    feed_one(w, 0, "@bob:example.org", "m.call.invite", j, 0, MXRTC_OK);
    free(j);
    j = invite_json("mine2", "BOBPHONE", NULL, 60000);
    feed_one(w, 0, "@bob:example.org", "m.call.invite", j, 0, MXRTC_OK);
    free(j);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, "mine"), MXRTC_CALL_STATE_NONE);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, "mine2"), MXRTC_CALL_STATE_NONE);
    world_free(w);
    free(w);
}

/* Expiry from the event's age and lifetime (spec: discard when age >
 * lifetime), for incoming invites, and invite_timeout for ours. */
static void invite_expiry_with_age(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    w->now = 50000000;
    device_init(w, 0, "@bob:example.org", "BOBDEV", 'b', 1);
    char *j = invite_json("old", "ALICEDEV", NULL, 60000);
    feed_one(w, 0, "@alice:example.org", "m.call.invite", j, 61000, MXRTC_OK);
    free(j);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, "old"), MXRTC_CALL_STATE_NONE);
    /* received 20 s ago with age 39.5 s: 59.5 s old now, rings 0.5 s */
    j = invite_json("aged", "ALICEDEV", NULL, 60000);
    mxrtc_mx_room_event e = {ROOM, "@alice:example.org", "m.call.invite", j, strlen(j), 39500, w->now - 20000000};
    assert_int_equal(mxrtc_call_manager_feed(w->dev[0].m, w->now, &e, NULL), MXRTC_OK);
    free(j);
    drain(w, 0);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, "aged"), MXRTC_CALL_STATE_RINGING);
    assert_int_equal(w->dev[0].deadline, w->now + 500000);
    advance(w, w->now + 499999);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, "aged"), MXRTC_CALL_STATE_RINGING);
    advance(w, w->now + 1);
    const logged *s = last_state(&w->dev[0], "aged");
    assert_int_equal(s->reason, MXRTC_MX_REASON_INVITE_TIMEOUT);
    assert_int_equal(count_log(&w->dev[0], MXRTC_CM_OUT_SEND, NULL), 0);  /* the caller says it */
    /* answering after expiry is refused */
    assert_int_equal(mxrtc_call_manager_answer(w->dev[0].m, w->now, "aged", false), MXRTC_ERR_STATE);

    /* ours: no answer within 60 s → hangup invite_timeout */
    char id[64];
    place(w, 0, "@alice:example.org", false, id);
    mxrtc_time_us placed = w->now;
    assert_int_equal(w->dev[0].deadline, placed + 60000000);
    advance(w, placed + 60000000);
    const logged *h = find_log(&w->dev[0], MXRTC_CM_OUT_SEND, "m.call.hangup", 0);
    assert_non_null(h);
    assert_non_null(strstr(h->content, "\"reason\":\"invite_timeout\""));
    assert_int_equal(last_state(&w->dev[0], id)->reason, MXRTC_MX_REASON_INVITE_TIMEOUT);
    world_free(w);
    free(w);
}

#define CANDS(party, n) \
    "{\"call_id\":\"%s\",\"party_id\":\"" party "\",\"version\":\"1\",\"candidates\":[" \
    "{\"candidate\":\"candidate:" n " 1 udp 1 198.51.100." n " 5000 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}]}"

/* Candidates from two answering devices arrive before any answer: only the
 * chosen one's reach the peer, in order, once its answer is taken. */
static void candidates_before_answer(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    device_init(w, 0, "@alice:example.org", "ALICEDEV", 'a', 1);
    char id[64], j[1024];
    place(w, 0, "@bob:example.org", false, id);
    snprintf(j, sizeof j, CANDS("PHONE", "1"), id);
    feed_one(w, 0, "@bob:example.org", "m.call.candidates", j, 0, MXRTC_OK);
    snprintf(j, sizeof j, CANDS("LAPTOP", "2"), id);
    feed_one(w, 0, "@bob:example.org", "m.call.candidates", j, 0, MXRTC_OK);
    snprintf(j, sizeof j, CANDS("PHONE", "3"), id);
    feed_one(w, 0, "@bob:example.org", "m.call.candidates", j, 0, MXRTC_OK);
    /* from someone who was not invited: dropped at once when chosen */
    snprintf(j, sizeof j, CANDS("MALLORY", "4"), id);
    feed_one(w, 0, "@mallory:example.org", "m.call.candidates", j, 0, MXRTC_OK);
    fake_peer *p = peer_for(&w->dev[0].f, id);
    assert_int_equal(p->candidates_added, 0);
    snprintf(j, sizeof j,
             "{\"call_id\":\"%s\",\"party_id\":\"PHONE\",\"version\":\"1\",\"answer\":{\"type\":\"answer\",\"sdp\":\"v=0\"}}",
             id);
    /* an answer from Mallory (not the invitee) is ignored */
    feed_one(w, 0, "@mallory:example.org", "m.call.answer", j, 0, MXRTC_OK);
    assert_int_equal(p->remote_answers, 0);
    feed_one(w, 0, "@bob:example.org", "m.call.answer", j, 0, MXRTC_OK);
    assert_int_equal(p->remote_answers, 1);
    assert_int_equal(p->candidates_added, 2);
    assert_string_equal(p->first_candidate, "candidate:1 1 udp 1 198.51.100.1 5000 typ host");
    /* later candidates from the loser are ignored, the winner's applied */
    snprintf(j, sizeof j, CANDS("LAPTOP", "5"), id);
    feed_one(w, 0, "@bob:example.org", "m.call.candidates", j, 0, MXRTC_OK);
    assert_int_equal(p->candidates_added, 2);
    snprintf(j, sizeof j, CANDS("PHONE", "6"), id);
    feed_one(w, 0, "@bob:example.org", "m.call.candidates", j, 0, MXRTC_OK);
    assert_int_equal(p->candidates_added, 3);
    world_free(w);
    free(w);
}

/* The caller's candidates arrive while we ring (Element sends them right
 * after the invite): they reach the peer after our answer, not before. */
static void candidates_while_ringing(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    device_init(w, 0, "@bob:example.org", "BOBDEV", 'b', 1);
    char *inv = invite_json("ring1", "ALICEDEV", "@bob:example.org", 60000);
    feed_one(w, 0, "@alice:example.org", "m.call.invite", inv, 0, MXRTC_OK);
    free(inv);
    char j[1024];
    snprintf(j, sizeof j, CANDS("ALICEDEV", "7"), "ring1");
    feed_one(w, 0, "@alice:example.org", "m.call.candidates", j, 0, MXRTC_OK);
    snprintf(j, sizeof j, CANDS("OTHERDEV", "8"), "ring1");   /* not the caller's party */
    feed_one(w, 0, "@alice:example.org", "m.call.candidates", j, 0, MXRTC_OK);
    fake_peer *p = peer_for(&w->dev[0].f, "ring1");
    assert_int_equal(p->candidates_added, 0);
    assert_int_equal(mxrtc_call_manager_answer(w->dev[0].m, w->now, "ring1", false), MXRTC_OK);
    drain(w, 0);
    assert_int_equal(p->answers, 1);
    assert_int_equal(p->candidates_added, 1);
    assert_string_equal(p->first_candidate, "candidate:7 1 udp 1 198.51.100.7 5000 typ host");
    snprintf(j, sizeof j, CANDS("ALICEDEV", "9"), "ring1");
    feed_one(w, 0, "@alice:example.org", "m.call.candidates", j, 0, MXRTC_OK);
    assert_int_equal(p->candidates_added, 2);
    world_free(w);
    free(w);
}

/* Candidates that arrive before their invite are kept for it (only the
 * caller's), and reach the peer with our answer. */
static void candidates_before_invite(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    device_init(w, 0, "@bob:example.org", "BOBDEV", 'b', 1);
    char j[1024];
    snprintf(j, sizeof j, CANDS("ALICEDEV", "3"), "early1");
    feed_one(w, 0, "@alice:example.org", "m.call.candidates", j, 0, MXRTC_OK);
    snprintf(j, sizeof j, CANDS("MALLORYDEV", "4"), "early1");
    feed_one(w, 0, "@mallory:example.org", "m.call.candidates", j, 0, MXRTC_OK);
    /* more calls than the stash holds: the oldest entries go first */
    for (int i = 0; i < 6; i++) {
        char other[16];
        snprintf(other, sizeof other, "noise%d", i);
        snprintf(j, sizeof j, CANDS("ALICEDEV", "5"), other);
        feed_one(w, 0, "@alice:example.org", "m.call.candidates", j, 0, MXRTC_OK);
    }
    snprintf(j, sizeof j, CANDS("ALICEDEV", "6"), "early2");
    feed_one(w, 0, "@alice:example.org", "m.call.candidates", j, 0, MXRTC_OK);
    snprintf(j, sizeof j, CANDS("MALLORYDEV", "7"), "early2");   /* not the caller: dropped */
    feed_one(w, 0, "@mallory:example.org", "m.call.candidates", j, 0, MXRTC_OK);
    char *inv = invite_json("early2", "ALICEDEV", NULL, 60000);
    feed_one(w, 0, "@alice:example.org", "m.call.invite", inv, 0, MXRTC_OK);
    free(inv);
    fake_peer *p = peer_for(&w->dev[0].f, "early2");
    assert_int_equal(p->candidates_added, 0);
    assert_int_equal(mxrtc_call_manager_answer(w->dev[0].m, w->now, "early2", false), MXRTC_OK);
    drain(w, 0);
    assert_int_equal(p->candidates_added, 1);
    assert_string_equal(p->first_candidate, "candidate:6 1 udp 1 198.51.100.6 5000 typ host");
    /* early1's entries were pushed out by the noise: nothing arrives for it */
    inv = invite_json("early1", "ALICEDEV", NULL, 60000);
    feed_one(w, 0, "@alice:example.org", "m.call.invite", inv, 0, MXRTC_OK);
    free(inv);
    assert_int_equal(mxrtc_call_manager_answer(w->dev[0].m, w->now, "early1", false), MXRTC_OK);
    drain(w, 0);
    assert_int_equal(peer_for(&w->dev[0].f, "early1")->candidates_added, 0);
    world_free(w);
    free(w);
}

/* Hold and resume by m.call.negotiate both ways; video added the same way;
 * an ICE restart offers new credentials. */
static void hold_resume_negotiate(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    char id[64];
    setup_call(w, id, false);
    connect_both(w, id);
    device *a = &w->dev[0], *b = &w->dev[1];
    fake_peer *pa = peer_for(&a->f, id), *pb = peer_for(&b->f, id);
    act(w, 0, mxrtc_call_manager_set_hold(a->m, w->now, id, true));
    const logged *n = find_log(a, MXRTC_CM_OUT_SEND, "m.call.negotiate", 0);
    assert_non_null(strstr(n->content, "\"type\":\"offer\""));
    assert_non_null(strstr(n->content, "a=sendonly"));
    assert_true(pa->last_want.hold);
    /* Bob answered with a negotiate answer, Alice applied it */
    const logged *nb = find_log(b, MXRTC_CM_OUT_SEND, "m.call.negotiate", 0);
    assert_non_null(nb);
    assert_non_null(strstr(nb->content, "\"type\":\"answer\""));
    assert_int_equal(pa->remote_answers, 2);
    const logged *hb = find_log(b, MXRTC_CM_OUT_HOLD, NULL, 0);
    assert_true(hb->rh);
    assert_false(hb->lh);
    const logged *ha = find_log(a, MXRTC_CM_OUT_HOLD, NULL, 0);
    assert_true(ha->lh);
    /* resume */
    act(w, 0, mxrtc_call_manager_set_hold(a->m, w->now, id, false));
    const logged *hb2 = find_log(b, MXRTC_CM_OUT_HOLD, NULL, 1);
    assert_false(hb2->rh);
    /* Bob adds video */
    act(w, 1, mxrtc_call_manager_set_video(b->m, w->now, id, true));
    assert_true(pb->last_want.video);
    assert_int_equal(pb->remote_answers, 1);
    assert_int_equal(pa->answers, 1);   /* Alice answered Bob's offer */
    /* ICE restart from Alice */
    act(w, 0, mxrtc_call_manager_restart_ice(a->m, w->now, id));
    assert_true(pa->last_want.ice_restart);
    assert_non_null(strstr(find_log(a, MXRTC_CM_OUT_SEND, "m.call.negotiate", 3)->content, "ice-ufrag:restart"));
    assert_int_equal(mxrtc_call_manager_call_state(a->m, id), MXRTC_CALL_STATE_CONNECTED);
    world_free(w);
    free(w);
}

/* Negotiate offers cross: the caller (impolite) ignores the callee's, the
 * callee yields, answers, and then offers its own change again. */
static void crossing_negotiate_offers(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    char id[64];
    setup_call(w, id, false);
    connect_both(w, id);
    device *a = &w->dev[0], *b = &w->dev[1];
    w->hold_delivery = true;
    assert_int_equal(mxrtc_call_manager_set_hold(a->m, w->now, id, true), MXRTC_OK);
    drain(w, 0);
    assert_int_equal(mxrtc_call_manager_set_video(b->m, w->now, id, true), MXRTC_OK);
    drain(w, 1);
    w->hold_delivery = false;
    deliver(w);
    fake_peer *pa = peer_for(&a->f, id), *pb = peer_for(&b->f, id);
    /* Alice's hold went through; Bob's video offer was re-sent and answered */
    assert_int_equal(count_log(b, MXRTC_CM_OUT_SEND, "m.call.negotiate"), 3);  /* offer, answer, offer again */
    assert_int_equal(pa->remote_answers, 2);          /* the first answer, then Bob's negotiate answer */
    assert_int_equal(pb->remote_answers, 1);          /* Alice answered the re-sent offer */
    assert_int_equal(pb->answers, 2);                 /* the invite, and Alice's hold offer */
    assert_int_equal(pa->answers, 1);                 /* Bob's second offer */
    assert_true(pa->last_want.hold);                  /* Alice answered as holder */
    assert_true(find_log(b, MXRTC_CM_OUT_HOLD, NULL, 0)->rh);
    /* and nobody waits for an answer any more: a new change goes through */
    act(w, 1, mxrtc_call_manager_set_video(b->m, w->now, id, false));
    assert_int_equal(pb->remote_answers, 2);
    assert_false(pb->last_want.video);
    world_free(w);
    free(w);
}

/* Mute: metadata_changed with the key of our SDP's stream id; the other
 * side reports the remote mute state. */
static void mute_metadata(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    char id[64];
    setup_call(w, id, true);
    act(w, 0, mxrtc_call_manager_set_mute(w->dev[0].m, w->now, id, true, false));
    const logged *m = find_log(&w->dev[0], MXRTC_CM_OUT_SEND, "m.call.sdp_stream_metadata_changed", 0);
    assert_non_null(m);
    assert_non_null(strstr(m->content, "\"stream-a\":{\"purpose\":\"m.usermedia\",\"audio_muted\":true,\"video_muted\":false}"));
    /* every msid stream of our SDP has its entry (the video track is in "stream-x") */
    assert_non_null(strstr(m->content, "\"stream-x\":{\"purpose\":\"m.usermedia\""));
    assert_int_equal(peer_for(&w->dev[0].f, id)->mutes, 1);
    int k = count_log(&w->dev[1], MXRTC_CM_OUT_REMOTE_MEDIA, NULL);
    const logged *rm = find_log(&w->dev[1], MXRTC_CM_OUT_REMOTE_MEDIA, NULL, k - 1);
    assert_true(rm->ram);
    assert_false(rm->rvm);
    /* the same mute again sends nothing */
    act(w, 0, mxrtc_call_manager_set_mute(w->dev[0].m, w->now, id, true, false));
    assert_int_equal(count_log(&w->dev[0], MXRTC_CM_OUT_SEND, "m.call.sdp_stream_metadata_changed"), 1);
    /* Element's prefixed event name is understood too */
    char j[512];
    snprintf(j, sizeof j,
             "{\"call_id\":\"%s\",\"party_id\":\"BOBDEV\",\"version\":\"1\",\"org.matrix.msc3077.sdp_stream_metadata\":"
             "{\"stream-b\":{\"purpose\":\"m.usermedia\",\"audio_muted\":false,\"video_muted\":true}}}", id);
    feed_one(w, 0, "@bob:example.org", "org.matrix.call.sdp_stream_metadata_changed", j, 0, MXRTC_OK);
    k = count_log(&w->dev[0], MXRTC_CM_OUT_REMOTE_MEDIA, NULL);
    rm = find_log(&w->dev[0], MXRTC_CM_OUT_REMOTE_MEDIA, NULL, k - 1);
    assert_true(rm->rvm);
    world_free(w);
    free(w);
}

/* ICE failure → ice_failed; a disconnection that lasts → ice_timeout; one
 * that recovers → nothing. */
static void ice_failures(void **state) {
    (void)state;
    for (int variant = 0; variant < 3; variant++) {
        world *w = calloc(1, sizeof *w);
        char id[64];
        setup_call(w, id, false);
        connect_both(w, id);
        device *a = &w->dev[0];
        if (variant == 0) {
            act(w, 0, mxrtc_call_manager_peer_state(a->m, w->now, id, MXRTC_CALL_PEER_FAILED));
            assert_non_null(strstr(find_log(a, MXRTC_CM_OUT_SEND, "m.call.hangup", 0)->content, "ice_failed"));
            assert_int_equal(last_state(&w->dev[1], id)->reason, MXRTC_MX_REASON_ICE_FAILED);
        } else {
            act(w, 0, mxrtc_call_manager_peer_state(a->m, w->now, id, MXRTC_CALL_PEER_DISCONNECTED));
            mxrtc_time_us t0 = w->now;
            /* first an ICE restart after 2 s, as Element does */
            assert_int_equal(a->deadline, t0 + 2000000);
            advance(w, t0 + 2000000);
            assert_true(peer_for(&a->f, id)->last_want.ice_restart);
            assert_int_equal(count_log(a, MXRTC_CM_OUT_SEND, "m.call.negotiate"), 1);
            assert_int_equal(peer_for(&a->f, id)->remote_answers, 2);   /* Bob answered it */
            assert_int_equal(a->deadline, t0 + 30000000);
            if (variant == 2) {
                advance(w, t0 + 10000000);
                act(w, 0, mxrtc_call_manager_peer_state(a->m, w->now, id, MXRTC_CALL_PEER_CONNECTED));
                advance(w, t0 + 120000000);
                assert_int_equal(mxrtc_call_manager_call_state(a->m, id), MXRTC_CALL_STATE_CONNECTED);
            } else {
                advance(w, t0 + 30000000);
                assert_non_null(strstr(find_log(a, MXRTC_CM_OUT_SEND, "m.call.hangup", 0)->content, "ice_timeout"));
                assert_int_equal(last_state(&w->dev[1], id)->reason, MXRTC_MX_REASON_ICE_TIMEOUT);
            }
        }
        world_free(w);
        free(w);
    }
}

static void peer_left_room(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    char id[64];
    setup_call(w, id, false);
    w->dev[1].in_room = false;
    act(w, 0, mxrtc_call_manager_member_left(w->dev[0].m, w->now, ROOM, "@bob:example.org"));
    assert_non_null(find_log(&w->dev[0], MXRTC_CM_OUT_SEND, "m.call.hangup", 0));
    assert_int_equal(last_state(&w->dev[0], id)->reason, MXRTC_MX_REASON_PEER_LEFT);
    world_free(w);
    free(w);
}

/* A malformed or hostile event is refused with its error and changes
 * nothing; the drain rule is enforced; unknown calls are NOT_FOUND. */
static void malformed_changes_nothing(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    device_init(w, 0, "@alice:example.org", "ALICEDEV", 'a', 1);
    char id[64], j[512];
    place(w, 0, "@bob:example.org", false, id);
    int before = w->dev[0].nlog;
    snprintf(j, sizeof j, "{\"call_id\":\"%s\",\"party_id\":\"B\",\"version\":\"1\",\"answer\":{\"type\":\"offer\",\"sdp\":\"v=0\"}}", id);
    mxrtc_mx_room_event e = {ROOM, "@bob:example.org", "m.call.answer", j, strlen(j), 0, 0};
    const char *why = NULL;
    assert_int_equal(mxrtc_call_manager_feed(w->dev[0].m, w->now, &e, &why), MXRTC_ERR_MALFORMED);
    assert_string_equal(why, "description type not allowed for this event");
    /* nothing to drain, state unchanged, and it may be fed again at once */
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, id), MXRTC_CALL_STATE_INVITE_SENT);
    e.content = "{\"call_id\":1}";
    e.content_len = strlen(e.content);
    assert_int_equal(mxrtc_call_manager_feed(w->dev[0].m, w->now, &e, &why), MXRTC_ERR_MALFORMED);
    drain(w, 0);
    assert_int_equal(w->dev[0].nlog, before);
    assert_int_equal(peer_for(&w->dev[0].f, id)->remote_answers, 0);
    /* drain rule */
    e.type = "m.room.message";
    assert_int_equal(mxrtc_call_manager_feed(w->dev[0].m, w->now, &e, NULL), MXRTC_OK);
    e.type = "m.call.hangup";
    e.content = "{\"call_id\":\"x\",\"version\":0}";
    e.content_len = strlen(e.content);
    assert_int_equal(mxrtc_call_manager_feed(w->dev[0].m, w->now, &e, NULL), MXRTC_OK);
    assert_int_equal(mxrtc_call_manager_feed(w->dev[0].m, w->now, &e, NULL), MXRTC_ERR_STATE);
    assert_int_equal(mxrtc_call_manager_hangup(w->dev[0].m, w->now, id, 0), MXRTC_ERR_STATE);
    drain(w, 0);
    assert_int_equal(mxrtc_call_manager_answer(w->dev[0].m, w->now, "nope", false), MXRTC_ERR_NOT_FOUND);
    /* a local candidate we could not send validly is refused */
    assert_int_equal(mxrtc_call_manager_peer_candidate(w->dev[0].m, w->now, id, "candidate:1 1 udp 1 198.51.100.1 9 typ host",
                                                       NULL, -1), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_call_manager_peer_candidate(w->dev[0].m, w->now, id, "candidate:1\r\na=x", "0", 0),
                     MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_call_manager_peer_candidate(w->dev[0].m, w->now, id, "", "0", 0), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_call_manager_answer(w->dev[0].m, w->now, id, false), MXRTC_ERR_STATE);
    /* a hangup seen before its invite keeps the invite from ringing */
    char *inv = invite_json("x", "BOBDEV", NULL, 60000);
    feed_one(w, 0, "@bob:example.org", "m.call.invite", inv, 0, MXRTC_OK);
    free(inv);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, "x"), MXRTC_CALL_STATE_NONE);
    world_free(w);
    free(w);
}

/* Every call slot taken by live calls: a new invite is refused (LIMIT);
 * an ended call's slot is reused. */
static void call_table_bound(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    device_init(w, 0, "@bob:example.org", "BOBDEV", 'b', 1);
    char name[16];
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "call%d", i);
        char *j = invite_json(name, "ALICEDEV", NULL, 60000);
        feed_one(w, 0, "@alice:example.org", "m.call.invite", j, 0, MXRTC_OK);
        free(j);
    }
    char *j = invite_json("call8", "ALICEDEV", NULL, 60000);
    feed_one(w, 0, "@alice:example.org", "m.call.invite", j, 0, MXRTC_ERR_LIMIT);
    assert_int_equal(mxrtc_call_manager_reject(w->dev[0].m, w->now, "call0"), MXRTC_OK);
    drain(w, 0);
    feed_one(w, 0, "@alice:example.org", "m.call.invite", j, 0, MXRTC_OK);
    free(j);
    assert_int_equal(mxrtc_call_manager_call_state(w->dev[0].m, "call8"), MXRTC_CALL_STATE_RINGING);
    world_free(w);
    free(w);
}

/* Each hangup reason we send goes out under its spec name. */
static void hangup_reason_names(void **state) {
    (void)state;
    struct { mxrtc_mx_reason r; const char *text; } cases[] = {
        {MXRTC_MX_REASON_USER_HANGUP, "user_hangup"}, {MXRTC_MX_REASON_USER_BUSY, "user_busy"},
        {MXRTC_MX_REASON_USER_MEDIA_FAILED, "user_media_failed"}, {MXRTC_MX_REASON_UNKNOWN_ERROR, "unknown_error"},
        {MXRTC_MX_REASON_ICE_FAILED, "ice_failed"}, {MXRTC_MX_REASON_ICE_TIMEOUT, "ice_timeout"},
        {MXRTC_MX_REASON_INVITE_TIMEOUT, "invite_timeout"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        world *w = calloc(1, sizeof *w);
        char id[64], want[64];
        setup_call(w, id, false);
        act(w, 1, mxrtc_call_manager_hangup(w->dev[1].m, w->now, id, cases[i].r));
        snprintf(want, sizeof want, "\"reason\":\"%s\"", cases[i].text);
        assert_non_null(strstr(find_log(&w->dev[1], MXRTC_CM_OUT_SEND, "m.call.hangup", 0)->content, want));
        const logged *s = last_state(&w->dev[0], id);
        assert_int_equal(s->reason, cases[i].r);
        assert_true(s->remote_ended);
        world_free(w);
        free(w);
    }
}

/* Host mistakes are INVALID_ARGUMENT, not a crash. */
static void feed_arguments(void **state) {
    (void)state;
    world *w = calloc(1, sizeof *w);
    device_init(w, 0, "@bob:example.org", "BOBDEV", 'b', 1);
    char longid[300];
    memset(longid, 'r', 299);
    longid[299] = 0;
    mxrtc_mx_room_event e = {longid, "@a:x", "m.call.reject", "{}", 2, 0, 0};
    assert_int_equal(mxrtc_call_manager_feed(w->dev[0].m, 0, &e, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    e.room_id = ROOM;
    e.sender = NULL;
    assert_int_equal(mxrtc_call_manager_feed(w->dev[0].m, 0, &e, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    e.sender = "@a:x";
    e.content = NULL;
    assert_int_equal(mxrtc_call_manager_feed(w->dev[0].m, 0, &e, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_call_manager_feed(w->dev[0].m, 0, NULL, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    char id[64];
    assert_int_equal(mxrtc_call_manager_place(w->dev[0].m, 0, ROOM, NULL, false, id, 10), MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(mxrtc_call_manager_place(w->dev[0].m, 0, longid, NULL, false, id, 64), MXRTC_ERR_INVALID_ARGUMENT);
    drain(w, 0);
    assert_int_equal(w->dev[0].nlog, 0);
    world_free(w);
    free(w);
}

static void alloc_failures(void **state) {
    (void)state;
    fake_factory f;
    memset(&f, 0, sizeof f);
    for (long n = 1; n < 20; n++) {
        test_alloc ta;
        test_alloc_init(&ta);
        test_alloc_fail_nth(&ta, n);
        mxrtc_call_manager_config cfg;
        mxrtc_call_manager_config_init(&cfg);
        cfg.allocator = &ta.iface;
        cfg.user_id = "@a:b";
        cfg.party_id = "P";
        cfg.peer.ops = &fake_ops;
        cfg.peer.user = &f;
        cfg.peer.open = fp_open;
        mxrtc_call_manager *m = NULL;
        int rc = mxrtc_call_manager_new(&m, &cfg);
        if (rc == MXRTC_OK) {
            char id[64];
            f.count = 0;
            rc = mxrtc_call_manager_place(m, 0, ROOM, NULL, false, id, sizeof id);
            assert_true(rc == MXRTC_OK || rc == MXRTC_ERR_NO_MEMORY);
            mxrtc_cm_output o;
            do assert_int_equal(mxrtc_call_manager_poll(m, 0, &o), MXRTC_OK);
            while (o.kind != MXRTC_CM_OUT_DEADLINE);
            mxrtc_call_manager_free(m);
        } else {
            assert_int_equal(rc, MXRTC_ERR_NO_MEMORY);
        }
        assert_int_equal(ta.live, 0);
    }
    mxrtc_call_manager_config cfg;
    mxrtc_call_manager_config_init(&cfg);
    mxrtc_call_manager *m = NULL;
    assert_int_equal(mxrtc_call_manager_new(&m, &cfg), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_call_manager_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_call_and_hangup),
        cmocka_unit_test(reject_v1),
        cmocka_unit_test(v0_peer),
        cmocka_unit_test(glare_through_homeserver),
        cmocka_unit_test(glare_both_ways),
        cmocka_unit_test(multi_device_answered_elsewhere),
        cmocka_unit_test(select_answer_someone_else),
        cmocka_unit_test(invitee_filtering),
        cmocka_unit_test(invite_expiry_with_age),
        cmocka_unit_test(candidates_before_answer),
        cmocka_unit_test(candidates_while_ringing),
        cmocka_unit_test(candidates_before_invite),
        cmocka_unit_test(hold_resume_negotiate),
        cmocka_unit_test(crossing_negotiate_offers),
        cmocka_unit_test(mute_metadata),
        cmocka_unit_test(ice_failures),
        cmocka_unit_test(peer_left_room),
        cmocka_unit_test(malformed_changes_nothing),
        cmocka_unit_test(call_table_bound),
        cmocka_unit_test(hangup_reason_names),
        cmocka_unit_test(feed_arguments),
        cmocka_unit_test(alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
