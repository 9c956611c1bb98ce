/*
 * The call manager driving real mxrtc peers through matrix/peer_adapter:
 * two devices on tests/support/simnet with a virtual clock, m.call.* events
 * carried by a fake homeserver (every event reaches every device, echo
 * included, as in test_call_manager.c). Media content is checked: each side
 * hears the other's tone (tests/codecs/signal.c).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "base/random.h"
#include "matrix/call_manager.h"
#include "matrix/peer_adapter.h"
#include "signal.h"
#include "support/simnet.h"

#define ROOM "!room:example.org"
#define MAX_LOG 256
#define REC_SAMPLES (48000 * 30)

typedef struct logged {
    mxrtc_cm_output_kind kind;
    char call_id[80];
    char type[64];
    char *content;
    mxrtc_call_state state;
    mxrtc_mx_reason reason;
    bool remote_ended, lh, rh, ram;
} logged;

typedef struct device {
    const char *user, *party;
    mxrtc_call_manager *m;
    mxrtc_peer_adapter_factory *pf;
    mxrtc_seeded_random rnd, peer_rnd;
    int host;
    mxrtc_addr ifs[2];
    mxrtc_time_us cm_deadline;
    mxrtc_time_us peer_deadline[MXRTC_PA_MAX_PEERS];
    logged log[MAX_LOG];
    int nlog;
    double tone_hz;
    uint64_t tone_pos;
    int16_t *rec;
    size_t rec_len;
    mxrtc_peer_state pstate;
    /* video: a solid colour sent at 25 frames/s, the last decoded one */
    bool send_video;
    uint8_t colour[3];
    sig_picture pic;
    uint64_t frames;
    double last_y, last_u, last_v;
} device;

typedef struct pending {
    char sender[64], type[64];
    char *content;
} pending;

typedef struct world {
    simnet *net;
    device dev[2];
    pending q[512];
    int qh, qn;
    mxrtc_time_us now, next_media;
    uint64_t ticks;
    bool hold_delivery;   /* queue events without delivering (crossing offers) */
} world;

static void cm_drain(world *w, int i) {
    device *d = &w->dev[i];
    for (int guard = 0; guard < 10000; guard++) {
        mxrtc_cm_output o;
        assert_int_equal(mxrtc_call_manager_poll(d->m, w->now, &o), MXRTC_OK);
        if (o.kind == MXRTC_CM_OUT_DEADLINE) {
            d->cm_deadline = o.deadline;
            return;
        }
        assert_true(d->nlog < MAX_LOG);
        logged *l = &d->log[d->nlog++];
        memset(l, 0, sizeof *l);
        l->kind = o.kind;
        snprintf(l->call_id, sizeof l->call_id, "%s", o.call_id ? o.call_id : "");
        l->state = o.state;
        l->reason = o.reason;
        l->remote_ended = o.remote_ended;
        l->lh = o.local_hold;
        l->rh = o.remote_hold;
        l->ram = o.remote_audio_muted;
        if (o.kind == MXRTC_CM_OUT_SEND) {
            snprintf(l->type, sizeof l->type, "%s", o.type);
            l->content = strdup(o.content);
            assert_true(w->qn < 512);
            pending *p = &w->q[(w->qh + w->qn++) % 512];
            snprintf(p->sender, sizeof p->sender, "%s", d->user);
            snprintf(p->type, sizeof p->type, "%s", o.type);
            p->content = strdup(o.content);
        }
    }
    fail_msg("call manager %d never reached its deadline", i);
}

/* The host's peer drain: datagrams to simnet, signalling events reported
 * to the call manager (drained after each). */
static void peers_drain(world *w, int i) {
    device *d = &w->dev[i];
    for (size_t k = 0; k < MXRTC_PA_MAX_PEERS; k++) {
        mxrtc_peer_adapter *a = mxrtc_peer_adapter_at(d->pf, k);
        if (!a) continue;
        for (int guard = 0;; guard++) {
            assert_true(guard < 100000);
            mxrtc_peer_output o;
            assert_int_equal(mxrtc_peer_adapter_poll(a, w->now, &o), MXRTC_OK);
            if (o.kind == MXRTC_PEER_OUT_DEADLINE) {
                d->peer_deadline[k] = o.deadline;
                break;
            }
            if (o.kind == MXRTC_PEER_OUT_DATAGRAM)
                simnet_send(w->net, d->host, &o.from, &o.to, o.data, o.len, w->now);
            else if (o.kind == MXRTC_PEER_OUT_EVENT && o.event == MXRTC_PEER_EV_STATE && !mxrtc_peer_adapter_closed(a))
                d->pstate = o.state;
            else if (o.kind == MXRTC_PEER_OUT_EVENT && o.event == MXRTC_PEER_EV_VIDEO_FRAME) {
                const mxrtc_picture *pic = &o.picture;
                d->frames++;
                d->last_y = sig_plane_mean(pic->y, pic->stride_y, pic->width, pic->height);
                d->last_u = sig_plane_mean(pic->u, pic->stride_u, (pic->width + 1) / 2, (pic->height + 1) / 2);
                d->last_v = sig_plane_mean(pic->v, pic->stride_v, (pic->width + 1) / 2, (pic->height + 1) / 2);
            }
        }
        int rc;
        while ((rc = mxrtc_peer_adapter_report(a, d->m, w->now)) != MXRTC_ERR_AGAIN) {
            assert_int_equal(rc, MXRTC_OK);
            cm_drain(w, i);
        }
    }
}

static void after_input(world *w, int i) {
    cm_drain(w, i);
    peers_drain(w, i);
}

static void deliver(world *w) {
    while (w->qn && !w->hold_delivery) {
        pending p = w->q[w->qh];
        w->qh = (w->qh + 1) % 512;
        w->qn--;
        for (int i = 0; i < 2; i++) {
            device *d = &w->dev[i];
            mxrtc_mx_room_event e = {ROOM, p.sender, p.type, p.content, strlen(p.content), 0, 0};
            const char *why = NULL;
            mxrtc_peer_adapter_factory_set_time(d->pf, w->now);
            int rc = mxrtc_call_manager_feed(d->m, w->now, &e, &why);
            if (rc != MXRTC_OK) fail_msg("feed %s to %s: %d (%s)", p.type, d->user, rc, why ? why : "");
            after_input(w, i);
        }
        free(p.content);
    }
}

static mxrtc_peer_adapter *open_adapter(device *d) {
    for (size_t k = 0; k < MXRTC_PA_MAX_PEERS; k++) {
        mxrtc_peer_adapter *a = mxrtc_peer_adapter_at(d->pf, k);
        if (a && !mxrtc_peer_adapter_closed(a)) return a;
    }
    return NULL;
}

static void media_tick(world *w) {
    uint64_t ticks = ++w->ticks;
    for (int i = 0; i < 2; i++) {
        device *d = &w->dev[i];
        mxrtc_peer_adapter *a = open_adapter(d);
        if (!a) continue;
        int16_t pcm[480];
        sig_sine(pcm, 480, 1, 0, d->tone_hz, 8000, 48000, d->tone_pos);
        d->tone_pos += 480;
        assert_int_equal(mxrtc_peer_adapter_push_audio(a, w->now, pcm, 480), MXRTC_OK);
        peers_drain(w, i);
        if (d->rec_len + 480 <= REC_SAMPLES) {
            assert_int_equal(mxrtc_peer_pull_audio(mxrtc_peer_adapter_peer(a), w->now, d->rec + d->rec_len, 480),
                             MXRTC_OK);
            d->rec_len += 480;
        }
        if (d->send_video && ticks % 4 == 0) {
            sig_picture_fill(&d->pic, d->colour[0], d->colour[1], d->colour[2]);
            mxrtc_picture pic = {d->pic.y, d->pic.u, d->pic.v, d->pic.stride_y, d->pic.stride_u,
                                 d->pic.stride_v, d->pic.width, d->pic.height, w->now};
            assert_int_equal(mxrtc_peer_adapter_push_video(a, w->now, &pic), MXRTC_OK);
            peers_drain(w, i);
        }
    }
}

static int dev_of_host(world *w, int host) {
    for (int i = 0; i < 2; i++)
        if (w->dev[i].host == host) return i;
    return -1;
}

/* Runs the clock to `until`: datagrams, peer and call manager timers,
 * Matrix events, media every 10 ms. */
static void run(world *w, mxrtc_time_us until) {
    while (w->now < until) {
        simnet_packet pkt;
        while (simnet_pop(w->net, w->now, &pkt)) {
            int i = dev_of_host(w, pkt.host);
            if (i < 0) continue;
            mxrtc_peer_adapter *a = open_adapter(&w->dev[i]);
            if (!a) continue;   /* the host closed its sockets */
            assert_int_equal(mxrtc_peer_handle_datagram(mxrtc_peer_adapter_peer(a), w->now, &pkt.to, &pkt.from,
                                                        pkt.data, pkt.len), MXRTC_OK);
            peers_drain(w, i);
            deliver(w);
        }
        for (int i = 0; i < 2; i++) {
            device *d = &w->dev[i];
            for (size_t k = 0; k < MXRTC_PA_MAX_PEERS; k++) {
                mxrtc_peer_adapter *a = mxrtc_peer_adapter_at(d->pf, k);
                if (!a || mxrtc_peer_adapter_closed(a) || d->peer_deadline[k] > w->now) continue;
                assert_int_equal(mxrtc_peer_handle_timeout(mxrtc_peer_adapter_peer(a), w->now), MXRTC_OK);
                peers_drain(w, i);
            }
            if (d->cm_deadline <= w->now) {
                mxrtc_peer_adapter_factory_set_time(d->pf, w->now);
                assert_int_equal(mxrtc_call_manager_handle_timeout(d->m, w->now), MXRTC_OK);
                after_input(w, i);
            }
        }
        deliver(w);
        if (w->next_media <= w->now) {
            media_tick(w);
            w->next_media += 10000;
        }
        mxrtc_time_us next = w->next_media, t = simnet_next_delivery_time(w->net);
        if (t < next) next = t;
        for (int i = 0; i < 2; i++) {
            device *d = &w->dev[i];
            if (d->cm_deadline < next) next = d->cm_deadline;
            for (size_t k = 0; k < MXRTC_PA_MAX_PEERS; k++) {
                mxrtc_peer_adapter *a = mxrtc_peer_adapter_at(d->pf, k);
                if (a && !mxrtc_peer_adapter_closed(a) && d->peer_deadline[k] < next) next = d->peer_deadline[k];
            }
        }
        if (next <= w->now) next = w->now + 1;
        if (next > until) next = until;
        w->now = next;
    }
}

static void device_init(world *w, int i, const char *user, const char *party, const char *ip1, const char *ip2,
                        double tone) {
    device *d = &w->dev[i];
    memset(d, 0, sizeof *d);
    d->user = user;
    d->party = party;
    d->tone_hz = tone;
    mxrtc_seeded_random_init(&d->rnd, 10 + (uint64_t)i);
    mxrtc_seeded_random_init(&d->peer_rnd, 1000 + (uint64_t)i);
    d->host = simnet_add_host(w->net, i ? "bob" : "alice");
    assert_int_equal(mxrtc_addr_parse(&d->ifs[0], ip1, 5000), MXRTC_OK);
    assert_int_equal(mxrtc_addr_parse(&d->ifs[1], ip2, 5002), MXRTC_OK);
    simnet_host_add_interface(w->net, d->host, SIMNET_WAN, &d->ifs[0]);
    simnet_host_add_interface(w->net, d->host, SIMNET_WAN, &d->ifs[1]);
    simnet_link l = {.delay = 20000, .jitter = 2000};
    simnet_set_host_link(w->net, d->host, &l);

    mxrtc_peer_config pc;
    mxrtc_peer_config_init(&pc);
    pc.random = mxrtc_seeded_random_source(&d->peer_rnd);
    pc.interfaces[0] = d->ifs[0];
    pc.interfaces[1] = d->ifs[1];
    pc.interface_count = 2;
    pc.video_bitrate_bps = 300000;
    assert_int_equal(mxrtc_peer_adapter_factory_new(&d->pf, &pc), MXRTC_OK);

    mxrtc_call_manager_config cfg;
    mxrtc_call_manager_config_init(&cfg);
    cfg.user_id = user;
    cfg.party_id = party;
    cfg.random = mxrtc_seeded_random_source(&d->rnd);
    cfg.peer = mxrtc_peer_adapter_factory_get(d->pf);
    assert_int_equal(mxrtc_call_manager_new(&d->m, &cfg), MXRTC_OK);
    d->cm_deadline = MXRTC_TIME_NEVER;
    for (size_t k = 0; k < MXRTC_PA_MAX_PEERS; k++) d->peer_deadline[k] = MXRTC_TIME_NEVER;
    d->rec = calloc(REC_SAMPLES, sizeof(int16_t));
    assert_non_null(d->rec);
    assert_int_equal(sig_picture_alloc(&d->pic, 160, 120), 0);
}

static world *world_new(uint64_t seed) {
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->net = simnet_new(seed);
    w->now = 1000000;
    w->next_media = w->now;
    device_init(w, 0, "@alice:example.org", "ALICEDEV", "192.0.2.1", "192.0.2.11", 1000.0);
    device_init(w, 1, "@bob:example.org", "BOBDEV", "192.0.2.2", "192.0.2.12", 440.0);
    return w;
}

static void world_free(world *w) {
    for (int i = 0; i < 2; i++) {
        device *d = &w->dev[i];
        mxrtc_call_manager_free(d->m);
        mxrtc_peer_adapter_factory_free(d->pf);
        for (int k = 0; k < d->nlog; k++) free(d->log[k].content);
        free(d->rec);
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

static const logged *last_kind(const device *d, mxrtc_cm_output_kind kind, const char *call_id) {
    const logged *r = NULL;
    for (int k = 0; k < d->nlog; k++)
        if (d->log[k].kind == kind && strcmp(d->log[k].call_id, call_id) == 0) r = &d->log[k];
    return r;
}

/* The peak frequency of the last `ms` of d's playout, and its RMS. */
static double peak(const device *d, int ms, double *rms) {
    size_t n = (size_t)ms * 48;
    assert_true(n <= d->rec_len);
    const int16_t *pcm = d->rec + d->rec_len - n;
    if (rms) *rms = sig_rms(pcm, n, 1, 0);
    return sig_peak_hz(pcm, n, 1, 0, 48000, 100, 4000, 10);
}

static void hears(const device *d, double hz) {
    double rms = 0, f = peak(d, 1000, &rms);
    if (f < hz * 0.98 || f > hz * 1.02 || rms < 300)
        fail_msg("%s hears %.1f Hz (rms %.0f), expected %.0f Hz", d->user, f, rms, hz);
    print_message("%s hears %.1f Hz (rms %.0f)\n", d->user, f, rms);
}

/* The msid stream id of the SDP inside an invite/answer/negotiate content
 * is a key of its sdp_stream_metadata (Element ignores streams otherwise). */
static void msid_matches_metadata(const char *content, const char *sdp_key) {
    cJSON *j = cJSON_Parse(content);
    assert_non_null(j);
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, sdp_key);
    const cJSON *sdp = cJSON_GetObjectItemCaseSensitive(desc, "sdp");
    assert_true(cJSON_IsString(sdp));
    const char *m = strstr(sdp->valuestring, "a=msid:");
    assert_non_null(m);
    m += 7;
    char stream[256];
    size_t n = strcspn(m, " \r\n");
    assert_true(n > 0 && n < sizeof stream);
    memcpy(stream, m, n);
    stream[n] = 0;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(j, "sdp_stream_metadata");
    assert_true(cJSON_IsObject(md));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(md, stream));
    assert_int_equal(cJSON_GetArraySize(md), 1);
    cJSON_Delete(j);
}

/* ---- the adapter alone ---------------------------------------------------- */

static void adapter_ops(void **state) {
    (void)state;
    mxrtc_peer_adapter_factory *f = NULL;
    mxrtc_peer_config pc;
    mxrtc_peer_config_init(&pc);
    assert_int_equal(mxrtc_peer_adapter_factory_new(NULL, &pc), MXRTC_ERR_INVALID_ARGUMENT);
    pc.size = 1;
    assert_int_equal(mxrtc_peer_adapter_factory_new(&f, &pc), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_seeded_random rnd;
    mxrtc_seeded_random_init(&rnd, 7);
    mxrtc_peer_config_init(&pc);
    pc.random = mxrtc_seeded_random_source(&rnd);
    assert_int_equal(mxrtc_addr_parse(&pc.interfaces[0], "192.0.2.1", 5000), MXRTC_OK);
    pc.interface_count = 1;
    assert_int_equal(mxrtc_peer_adapter_factory_new(&f, &pc), MXRTC_OK);
    mxrtc_peer_adapter_factory_set_time(f, 1000000);
    mxrtc_call_peer_factory cpf = mxrtc_peer_adapter_factory_get(f);
    void *p = NULL;
    assert_int_equal(cpf.open(cpf.user, "c1", true, &p), MXRTC_OK);
    assert_ptr_equal(mxrtc_peer_adapter_find(f, "c1"), p);
    assert_null(mxrtc_peer_adapter_find(f, "c2"));
    static char sdp[MXRTC_MX_SDP_MAX + 1];
    size_t len = 0;
    /* a held offer: audio sendonly (RFC 3264 §8.4), no video section */
    mxrtc_call_media want = {true, false, true, false};
    assert_int_equal(cpf.ops->create_offer(p, &want, sdp, sizeof sdp, &len), MXRTC_OK);
    assert_int_equal(strlen(sdp), len);
    assert_non_null(strstr(sdp, "a=sendonly"));
    assert_null(strstr(sdp, "m=video"));
    assert_non_null(strstr(sdp, "a=msid:"));
    /* the peer refuses a remote offer while ours is pending (no rollback) */
    assert_int_equal(cpf.ops->create_answer(p, sdp, &want, sdp, sizeof sdp, &len), MXRTC_ERR_STATE);
    /* gathering started with set_local_description, inside the op: the
     * host candidate and gathering done wait in the signal queue */
    mxrtc_peer_adapter *a = p;
    mxrtc_peer_adapter_counters ctr;
    mxrtc_peer_adapter_get_counters(a, &ctr);
    assert_int_equal(ctr.signals_waiting, 2);
    /* a second peer answers through the ops; the first takes the answer */
    void *q = NULL;
    assert_int_equal(cpf.open(cpf.user, "c1", false, &q), MXRTC_OK);
    static char answer[MXRTC_MX_SDP_MAX + 1];
    mxrtc_call_media plain = {true, false, false, false};
    assert_int_equal(cpf.ops->create_answer(q, sdp, &plain, answer, sizeof answer, &len), MXRTC_OK);
    assert_non_null(strstr(answer, "a=recvonly"));   /* the answer to a sendonly offer */
    assert_int_equal(cpf.ops->set_remote_answer(p, answer), MXRTC_OK);
    assert_int_equal(cpf.ops->set_remote_answer(p, answer), MXRTC_ERR_STATE);   /* no offer pending */
    /* a malformed remote candidate is skipped and counted, not fatal */
    mxrtc_mx_candidate c;
    memset(&c, 0, sizeof c);
    snprintf(c.candidate, sizeof c.candidate, "candidate:garbage");
    c.sdp_mline_index = 0;
    assert_int_equal(cpf.ops->add_remote_candidates(q, &c, 1, true), MXRTC_OK);
    mxrtc_peer_adapter_get_counters(q, &ctr);
    assert_int_equal(ctr.bad_remote_candidates, 1);
    cpf.ops->close(q);
    assert_int_equal(cpf.ops->set_mute(p, true, false), MXRTC_OK);
    mxrtc_peer_adapter_get_counters(a, &ctr);
    assert_true(ctr.audio_muted);
    cpf.ops->close(p);
    assert_true(mxrtc_peer_adapter_closed(a));
    assert_int_equal(mxrtc_peer_adapter_report(a, NULL, 0), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_peer_adapter_factory_free(f);
}

/* ---- a voice call end to end ---------------------------------------------- */

static void voice_call_hold_hangup(void **state) {
    (void)state;
    world *w = world_new(42);
    device *a = &w->dev[0], *b = &w->dev[1];
    char id[64];
    mxrtc_peer_adapter_factory_set_time(a->pf, w->now);
    assert_int_equal(mxrtc_call_manager_place(a->m, w->now, ROOM, "@bob:example.org", false, id, sizeof id), MXRTC_OK);
    after_input(w, 0);
    deliver(w);
    assert_int_equal(mxrtc_call_manager_call_state(b->m, id), MXRTC_CALL_STATE_RINGING);
    const logged *inv = find_log(a, MXRTC_CM_OUT_SEND, "m.call.invite", 0);
    assert_non_null(inv);
    msid_matches_metadata(inv->content, "offer");
    run(w, w->now + 500000);   /* ring half a second */
    mxrtc_peer_adapter_factory_set_time(b->pf, w->now);
    assert_int_equal(mxrtc_call_manager_answer(b->m, w->now, id, false), MXRTC_OK);
    after_input(w, 1);
    deliver(w);
    const logged *ans = find_log(b, MXRTC_CM_OUT_SEND, "m.call.answer", 0);
    assert_non_null(ans);
    msid_matches_metadata(ans->content, "answer");

    run(w, w->now + 4000000);
    assert_int_equal(mxrtc_call_manager_call_state(a->m, id), MXRTC_CALL_STATE_CONNECTED);
    assert_int_equal(mxrtc_call_manager_call_state(b->m, id), MXRTC_CALL_STATE_CONNECTED);
    /* candidates went batched: both host candidates in one event with the
     * end-of-candidates marker */
    for (int i = 0; i < 2; i++) {
        const logged *cl = find_log(&w->dev[i], MXRTC_CM_OUT_SEND, "m.call.candidates", 0);
        assert_non_null(cl);
        int n = 0;
        for (const char *s = cl->content; (s = strstr(s, "\"candidate:")) != NULL; s++) n++;
        assert_true(n >= 2);
        assert_true(count_log(&w->dev[i], MXRTC_CM_OUT_SEND, "m.call.candidates") <= 2);
        int eoc = 0;
        for (int k = 0; k < count_log(&w->dev[i], MXRTC_CM_OUT_SEND, "m.call.candidates"); k++)
            if (strstr(find_log(&w->dev[i], MXRTC_CM_OUT_SEND, "m.call.candidates", k)->content,
                       "{\"candidate\":\"\"}"))
                eoc++;
        assert_int_equal(eoc, 1);
    }
    hears(a, 440.0);
    hears(b, 1000.0);

    /* hold: alice's m.call.negotiate offer is sendonly, Bob answers
     * recvonly and stops sending: Alice hears silence, Bob still hears her */
    mxrtc_peer_adapter_factory_set_time(a->pf, w->now);
    assert_int_equal(mxrtc_call_manager_set_hold(a->m, w->now, id, true), MXRTC_OK);
    after_input(w, 0);
    deliver(w);
    assert_int_equal(count_log(a, MXRTC_CM_OUT_SEND, "m.call.negotiate"), 1);
    assert_int_equal(count_log(b, MXRTC_CM_OUT_SEND, "m.call.negotiate"), 1);
    const logged *hb = last_kind(b, MXRTC_CM_OUT_HOLD, id);
    assert_non_null(hb);
    assert_true(hb->rh);
    const logged *ha = last_kind(a, MXRTC_CM_OUT_HOLD, id);
    assert_non_null(ha);
    assert_true(ha->lh);
    run(w, w->now + 2000000);
    double rms = 0;
    (void)peak(a, 1000, &rms);
    if (rms > 100) fail_msg("alice still hears bob on hold (rms %.0f)", rms);
    print_message("on hold, alice's playout rms %.0f\n", rms);
    hears(b, 1000.0);
    assert_int_equal(mxrtc_call_manager_call_state(a->m, id), MXRTC_CALL_STATE_CONNECTED);

    /* resume */
    mxrtc_peer_adapter_factory_set_time(a->pf, w->now);
    assert_int_equal(mxrtc_call_manager_set_hold(a->m, w->now, id, false), MXRTC_OK);
    after_input(w, 0);
    deliver(w);
    assert_int_equal(count_log(a, MXRTC_CM_OUT_SEND, "m.call.negotiate"), 2);
    hb = last_kind(b, MXRTC_CM_OUT_HOLD, id);
    assert_false(hb->rh);
    run(w, w->now + 2000000);
    hears(a, 440.0);
    hears(b, 1000.0);

    /* hangup by alice: both end with user_hangup, Bob's remote_ended */
    mxrtc_peer_adapter_factory_set_time(a->pf, w->now);
    assert_int_equal(mxrtc_call_manager_hangup(a->m, w->now, id, MXRTC_MX_REASON_NONE), MXRTC_OK);
    after_input(w, 0);
    deliver(w);
    run(w, w->now + 500000);
    const logged *ea = last_kind(a, MXRTC_CM_OUT_STATE, id), *eb = last_kind(b, MXRTC_CM_OUT_STATE, id);
    assert_int_equal(ea->state, MXRTC_CALL_STATE_ENDED);
    assert_int_equal(eb->state, MXRTC_CALL_STATE_ENDED);
    assert_int_equal(ea->reason, MXRTC_MX_REASON_USER_HANGUP);
    assert_int_equal(eb->reason, MXRTC_MX_REASON_USER_HANGUP);
    assert_false(ea->remote_ended);
    assert_true(eb->remote_ended);
    assert_true(mxrtc_peer_adapter_closed(mxrtc_peer_adapter_find(a->pf, id)));
    assert_true(mxrtc_peer_adapter_closed(mxrtc_peer_adapter_find(b->pf, id)));
    world_free(w);
}

/* Sets the clock of d's adapters for a user action and checks its result. */
static void act(world *w, int i, int rc) {
    assert_int_equal(rc, MXRTC_OK);
    after_input(w, i);
    deliver(w);
}

#define ACT(w, i, call) \
    do { \
        mxrtc_peer_adapter_factory_set_time((w)->dev[i].pf, (w)->now); \
        act(w, i, call); \
    } while (0)

static void sees_colour(const device *d, const uint8_t c[3]) {
    if (d->frames == 0) fail_msg("%s decoded no video", d->user);
    if (d->last_y < c[0] - 8 || d->last_y > c[0] + 8 || d->last_u < c[1] - 8 || d->last_u > c[1] + 8 ||
        d->last_v < c[2] - 8 || d->last_v > c[2] + 8)
        fail_msg("%s sees Y %.0f U %.0f V %.0f, expected %d %d %d", d->user, d->last_y, d->last_u, d->last_v,
                 c[0], c[1], c[2]);
    print_message("%s sees Y %.0f U %.0f V %.0f after %llu frames\n", d->user, d->last_y, d->last_u, d->last_v,
                  (unsigned long long)d->frames);
}

/* A video call: colours both ways; then Bob mutes his microphone
 * (sdp_stream_metadata_changed only): Alice is told and hears silence;
 * then Bob hangs up with a reason. */
static void video_call_mute(void **state) {
    (void)state;
    world *w = world_new(7);
    device *a = &w->dev[0], *b = &w->dev[1];
    const uint8_t red[3] = {81, 90, 240}, blue[3] = {41, 240, 110};
    a->send_video = b->send_video = true;
    memcpy(a->colour, red, 3);
    memcpy(b->colour, blue, 3);
    char id[64];
    mxrtc_peer_adapter_factory_set_time(a->pf, w->now);
    assert_int_equal(mxrtc_call_manager_place(a->m, w->now, ROOM, "@bob:example.org", true, id, sizeof id), MXRTC_OK);
    after_input(w, 0);
    deliver(w);
    const logged *inc = find_log(b, MXRTC_CM_OUT_INCOMING, NULL, 0);
    assert_non_null(inc);
    run(w, w->now + 300000);
    ACT(w, 1, mxrtc_call_manager_answer(b->m, w->now, id, true));
    const logged *inv = find_log(a, MXRTC_CM_OUT_SEND, "m.call.invite", 0);
    assert_non_null(strstr(inv->content, "m=video"));
    msid_matches_metadata(inv->content, "offer");
    msid_matches_metadata(find_log(b, MXRTC_CM_OUT_SEND, "m.call.answer", 0)->content, "answer");
    run(w, w->now + 5000000);
    assert_int_equal(mxrtc_call_manager_call_state(a->m, id), MXRTC_CALL_STATE_CONNECTED);
    assert_int_equal(mxrtc_call_manager_call_state(b->m, id), MXRTC_CALL_STATE_CONNECTED);
    hears(a, 440.0);
    hears(b, 1000.0);
    sees_colour(a, blue);
    sees_colour(b, red);

    ACT(w, 1, mxrtc_call_manager_set_mute(b->m, w->now, id, true, false));
    assert_int_equal(count_log(b, MXRTC_CM_OUT_SEND, "m.call.sdp_stream_metadata_changed"), 1);
    const logged *rm = last_kind(a, MXRTC_CM_OUT_REMOTE_MEDIA, id);
    assert_non_null(rm);
    assert_true(rm->ram);
    assert_int_equal(count_log(a, MXRTC_CM_OUT_SEND, "m.call.negotiate"), 0);   /* no renegotiation */
    run(w, w->now + 1500000);
    double rms = 0;
    (void)peak(a, 1000, &rms);
    if (rms > 100) fail_msg("alice hears bob's muted microphone (rms %.0f)", rms);
    print_message("bob muted: alice's playout rms %.0f\n", rms);
    hears(b, 1000.0);
    uint64_t frames = a->frames;
    ACT(w, 1, mxrtc_call_manager_set_mute(b->m, w->now, id, false, false));
    run(w, w->now + 1500000);
    assert_false(last_kind(a, MXRTC_CM_OUT_REMOTE_MEDIA, id)->ram);
    hears(a, 440.0);
    assert_true(a->frames > frames + 20);   /* video went on throughout */
    sees_colour(a, blue);

    ACT(w, 1, mxrtc_call_manager_hangup(b->m, w->now, id, MXRTC_MX_REASON_USER_MEDIA_FAILED));
    run(w, w->now + 300000);
    const logged *ea = last_kind(a, MXRTC_CM_OUT_STATE, id), *eb = last_kind(b, MXRTC_CM_OUT_STATE, id);
    assert_int_equal(ea->state, MXRTC_CALL_STATE_ENDED);
    assert_int_equal(eb->state, MXRTC_CALL_STATE_ENDED);
    assert_int_equal(ea->reason, MXRTC_MX_REASON_USER_MEDIA_FAILED);
    assert_int_equal(eb->reason, MXRTC_MX_REASON_USER_MEDIA_FAILED);
    assert_true(ea->remote_ended);
    assert_false(eb->remote_ended);
    world_free(w);
}

/* Both place a call at once (the invites cross on the homeserver): the
 * lesser call_id wins on both sides, the other is replaced, and media
 * flows in the surviving call. */
static void glare_media(void **state) {
    (void)state;
    for (uint64_t seed = 1; seed <= 2; seed++) {
        world *w = world_new(seed);
        device *a = &w->dev[0], *b = &w->dev[1];
        char ida[64], idb[64];
        mxrtc_peer_adapter_factory_set_time(a->pf, w->now);
        mxrtc_peer_adapter_factory_set_time(b->pf, w->now);
        if (seed == 2) {   /* other call ids: the other side wins */
            mxrtc_seeded_random_init(&a->rnd, 99);
        }
        assert_int_equal(mxrtc_call_manager_place(a->m, w->now, ROOM, "@bob:example.org", false, ida, 64), MXRTC_OK);
        cm_drain(w, 0);
        assert_int_equal(mxrtc_call_manager_place(b->m, w->now, ROOM, NULL, false, idb, 64), MXRTC_OK);
        cm_drain(w, 1);
        peers_drain(w, 0);
        peers_drain(w, 1);
        deliver(w);
        const char *win = strcmp(ida, idb) < 0 ? ida : idb;
        const char *lose = win == ida ? idb : ida;
        print_message("glare: %s wins over %s\n", win == ida ? "alice" : "bob", win == ida ? "bob" : "alice");
        run(w, w->now + 4000000);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(mxrtc_call_manager_call_state(w->dev[i].m, win), MXRTC_CALL_STATE_CONNECTED);
            assert_int_not_equal(mxrtc_call_manager_call_state(w->dev[i].m, lose), MXRTC_CALL_STATE_CONNECTED);
            assert_int_equal(count_log(&w->dev[i], MXRTC_CM_OUT_INCOMING, NULL), 0);
            const mxrtc_peer_adapter *pa = mxrtc_peer_adapter_find(w->dev[i].pf, lose);
            assert_true(pa == NULL || mxrtc_peer_adapter_closed(pa));
        }
        device *loser = lose == ida ? a : b;
        const logged *s = last_kind(loser, MXRTC_CM_OUT_STATE, lose);
        assert_non_null(s);
        assert_int_equal(s->reason, MXRTC_MX_REASON_REPLACED);
        hears(a, 440.0);
        hears(b, 1000.0);
        world_free(w);
    }
}

/* The ufrag of the SDP in a negotiate content. */
static void ufrag_of(const char *content, char *out, size_t cap) {
    const char *u = strstr(content, "a=ice-ufrag:");
    assert_non_null(u);
    u += 12;
    size_t n = strcspn(u, "\\\r\n");
    assert_true(n > 0 && n < cap);
    memcpy(out, u, n);
    out[n] = 0;
}

/* Renegotiations on a live voice call: Alice turns her video on (Bob, who
 * answered voice only, receives it), restarts ICE by hand (new ufrag, the
 * call goes on), then her network goes away for 13 s: the peers report
 * disconnected, the call layer restarts ICE after 2 s, and the call
 * recovers when the network returns. */
static void renegotiations(void **state) {
    (void)state;
    world *w = world_new(11);
    device *a = &w->dev[0], *b = &w->dev[1];
    const uint8_t green[3] = {145, 54, 34};
    char id[64];
    mxrtc_peer_adapter_factory_set_time(a->pf, w->now);
    assert_int_equal(mxrtc_call_manager_place(a->m, w->now, ROOM, "@bob:example.org", false, id, sizeof id), MXRTC_OK);
    after_input(w, 0);
    deliver(w);
    ACT(w, 1, mxrtc_call_manager_answer(b->m, w->now, id, false));
    run(w, w->now + 3000000);
    assert_int_equal(mxrtc_call_manager_call_state(a->m, id), MXRTC_CALL_STATE_CONNECTED);
    assert_int_equal(b->frames, 0);

    /* video on */
    a->send_video = true;
    memcpy(a->colour, green, 3);
    ACT(w, 0, mxrtc_call_manager_set_video(a->m, w->now, id, true));
    const logged *n1 = find_log(a, MXRTC_CM_OUT_SEND, "m.call.negotiate", 0);
    assert_non_null(n1);
    assert_non_null(strstr(n1->content, "m=video"));
    msid_matches_metadata(n1->content, "description");
    run(w, w->now + 3000000);
    sees_colour(b, green);
    hears(b, 1000.0);
    hears(a, 440.0);

    /* ICE restart by hand: a new ufrag, DTLS and media go on */
    char u1[64], u2[64];
    ufrag_of(find_log(a, MXRTC_CM_OUT_SEND, "m.call.invite", 0)->content, u1, sizeof u1);
    ACT(w, 0, mxrtc_call_manager_restart_ice(a->m, w->now, id));
    const logged *n2 = find_log(a, MXRTC_CM_OUT_SEND, "m.call.negotiate", 1);
    assert_non_null(n2);
    ufrag_of(n2->content, u2, sizeof u2);
    assert_string_not_equal(u1, u2);
    uint64_t frames = b->frames;
    run(w, w->now + 3000000);
    assert_int_equal(mxrtc_call_manager_call_state(a->m, id), MXRTC_CALL_STATE_CONNECTED);
    hears(b, 1000.0);
    hears(a, 440.0);
    assert_true(b->frames > frames + 20);

    /* a 13 s network blip on Alice's side (the ICE agent calls it
     * disconnected after 10 s without consent answers, RFC 7675) */
    int negotiates = count_log(a, MXRTC_CM_OUT_SEND, "m.call.negotiate") + count_log(b, MXRTC_CM_OUT_SEND, "m.call.negotiate");
    simnet_link cut = {.loss = 1.0}, ok = {.delay = 20000, .jitter = 2000};
    simnet_set_host_link(w->net, a->host, &cut);
    run(w, w->now + 13000000);
    assert_int_equal(a->pstate, MXRTC_PEER_STATE_DISCONNECTED);
    simnet_set_host_link(w->net, a->host, &ok);
    run(w, w->now + 8000000);
    int negotiates2 = count_log(a, MXRTC_CM_OUT_SEND, "m.call.negotiate") + count_log(b, MXRTC_CM_OUT_SEND, "m.call.negotiate");
    print_message("blip: %d negotiate events, states alice %s bob %s\n", negotiates2 - negotiates,
                  mxrtc_call_state_name(mxrtc_call_manager_call_state(a->m, id)),
                  mxrtc_call_state_name(mxrtc_call_manager_call_state(b->m, id)));
    assert_true(negotiates2 > negotiates);   /* the call layer restarted ICE */
    assert_int_equal(mxrtc_call_manager_call_state(a->m, id), MXRTC_CALL_STATE_CONNECTED);
    assert_int_equal(mxrtc_call_manager_call_state(b->m, id), MXRTC_CALL_STATE_CONNECTED);
    hears(b, 1000.0);
    hears(a, 440.0);
    ACT(w, 0, mxrtc_call_manager_hangup(a->m, w->now, id, MXRTC_MX_REASON_NONE));
    assert_int_equal(last_kind(b, MXRTC_CM_OUT_STATE, id)->state, MXRTC_CALL_STATE_ENDED);
    world_free(w);
}

/* Negotiate offers cross (Alice holds while Bob turns his video on): the
 * callee (Bob) is polite, his offer gives way (it was created, not applied
 * to his peer) and is sent again once Alice's is answered; the real peers
 * follow, media goes on, and after Alice resumes Bob's video arrives. */
static void crossing_negotiate(void **state) {
    (void)state;
    world *w = world_new(5);
    device *a = &w->dev[0], *b = &w->dev[1];
    const uint8_t blue[3] = {41, 240, 110};
    char id[64];
    mxrtc_peer_adapter_factory_set_time(a->pf, w->now);
    assert_int_equal(mxrtc_call_manager_place(a->m, w->now, ROOM, "@bob:example.org", false, id, sizeof id), MXRTC_OK);
    after_input(w, 0);
    deliver(w);
    ACT(w, 1, mxrtc_call_manager_answer(b->m, w->now, id, false));
    run(w, w->now + 3000000);
    assert_int_equal(mxrtc_call_manager_call_state(b->m, id), MXRTC_CALL_STATE_CONNECTED);

    w->hold_delivery = true;
    ACT(w, 0, mxrtc_call_manager_set_hold(a->m, w->now, id, true));
    b->send_video = true;
    memcpy(b->colour, blue, 3);
    ACT(w, 1, mxrtc_call_manager_set_video(b->m, w->now, id, true));
    w->hold_delivery = false;
    deliver(w);
    assert_int_equal(count_log(b, MXRTC_CM_OUT_SEND, "m.call.negotiate"), 3);   /* offer, answer, offer again */
    assert_int_equal(count_log(a, MXRTC_CM_OUT_SEND, "m.call.negotiate"), 2);   /* offer, answer */
    assert_true(last_kind(b, MXRTC_CM_OUT_HOLD, id)->rh);
    run(w, w->now + 2000000);
    assert_int_equal(mxrtc_call_manager_call_state(a->m, id), MXRTC_CALL_STATE_CONNECTED);
    assert_int_equal(mxrtc_call_manager_call_state(b->m, id), MXRTC_CALL_STATE_CONNECTED);
    hears(b, 1000.0);
    double rms = 0;
    (void)peak(a, 1000, &rms);
    if (rms > 100) fail_msg("alice hears bob while holding (rms %.0f)", rms);

    ACT(w, 0, mxrtc_call_manager_set_hold(a->m, w->now, id, false));
    run(w, w->now + 3000000);
    hears(a, 440.0);
    hears(b, 1000.0);
    sees_colour(a, blue);
    world_free(w);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adapter_ops),
        cmocka_unit_test(voice_call_hold_hangup),
        cmocka_unit_test(video_call_mute),
        cmocka_unit_test(glare_media),
        cmocka_unit_test(renegotiations),
        cmocka_unit_test(crossing_negotiate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
