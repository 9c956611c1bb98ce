/*
 * call_mode.c: `mxrtc call ROOM` and `mxrtc answer [ROOM]`: the mxrtc
 * command as a Matrix client placing or answering one 1:1 call (Matrix spec
 * v1.19 "Voice over IP"), with the media of `mxrtc peer`
 * (tools/media_session.h). The command-line contract: docs/call_tool.md.
 *
 * Threads (each Matrix client object belongs to one thread; matrix_client.h
 * is blocking and not thread-safe):
 *  - the runner's I/O thread drives mxrtc_calls through net/engine_calls.h;
 *    its media tick (every 10 ms) pushes 10 ms of tone/file audio, pulls
 *    10 ms of playout and pushes a picture every 1/30 s. Everything that
 *    touches mxrtc_calls runs there (other threads queue a command with
 *    mxrtc_net_runner_call_wait);
 *  - the sync thread long-polls /sync and hands every event to the I/O
 *    thread as a mxrtc_room_event with its age and the time it arrived,
 *    then one "batch done" command: only then are the calls that still
 *    ring printed ("incoming") and answered, so that an invite followed by
 *    its hangup in the same batch (history) is neither; it also joins the
 *    rooms it is invited to (below);
 *  - the send thread sends the SEND_EVENT outputs in the order they came
 *    out (a bounded queue: the invite must precede its candidates), with
 *    transaction ids and retries (mxrtc_mxc_send_event);
 *  - the main thread: options, login, /voip/turnServer (at start and on
 *    TURN_REFRESH), the first sync, the `ready` line, stdin commands,
 *    timers (--duration, --timeout, --drop-network-*) and signals.
 *
 * Decisions:
 *  - History: the events of the first sync's timeline are fed like any
 *    other, with their age (mxrtc_calls expires invites whose lifetime minus
 *    age has run out), except those of calls that begin and end within the
 *    batch (mxrtc_mxc_sync_finished_calls: mxrtc_calls would take this
 *    device's own old hangup or answer for an echo and let the call ring
 *    again), so only a call that still rings is seen.
 *  - Rooms: `answer ROOM` and `call ROOM` join ROOM first (a no-op when
 *    joined; needed when invited). `answer` without ROOM also joins every
 *    room it is invited to while it runs, and answers a call in any joined
 *    room (the first that rings).
 *  - One call: the first call placed or answered is the call of the run;
 *    other incoming calls are reported ("incoming") but left ringing. A
 *    glare replacement (end reason "replaced") follows the new call_id.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mxrtc.h"
#include "base/alloc.h"
#include "peer/peer.h"
#include "net/clock.h"
#include "net/engine_calls.h"
#include "net/interfaces.h"
#include "net/runner.h"
#include "tools/call_mode.h"
#include "tools/event_sender.h"
#include "tools/matrix_client/matrix_client.h"
#include "tools/media_session.h"
#include "tools/teardown_wait.h"

#define CM_SYNC_TIMEOUT_MS 2000      /* long poll; also how long exiting may wait for it */
#define CM_SENDQ 256                 /* events waiting to be sent (tools/event_sender.h) */
#define CM_SEND_FLUSH_US 15000000    /* at exit: wait this long for the queue to empty */
#define CM_UFRAG_MAX MXRTC_MXC_ID_MAX

typedef struct cm_opts {
    bool placing;
    const char *room;
    const char *homeserver, *user;
    mxrtc_ms_opts media;
    bool video, reject, no_answer, relay_only, json, commands;
    double duration_s, timeout_s, drop_at_s, drop_for_s;
    bool drop;
    uint32_t invite_lifetime_ms;
} cm_opts;

/* A call that rang while a /sync batch was fed: decided once it is all in. */
#define CM_PENDING 8
typedef struct cm_incoming {
    char call_id[MXRTC_CALL_ID_MAX + 1];
    char room_id[MXRTC_MXC_ID_MAX], sender[MXRTC_MXC_ID_MAX];
    bool video;
    mxrtc_time_us at;
} cm_incoming;

typedef struct cm {
    cm_opts o;
    pthread_mutex_t out_lock;        /* stdout and stderr lines */
    int wake[2];                     /* anything -> main: look at the flags */
    volatile sig_atomic_t stop_signal;
    mxrtc_net_runner *runner;
    mxrtc_net_calls adapter;
    mxrtc_net_engine inner;          /* the calls engine, wrapped for --drop-network */
    mxrtc_calls *calls;
    mxrtc_mxc *mxc_main, *mxc_sync, *mxc_send;
    mxrtc_mxc_http http_main, http_sync, http_send;
    mxrtc_logger lg;
    char user_id[MXRTC_MXC_ID_MAX], device_id[MXRTC_MXC_ID_MAX];

    /* ---- shared state: st_lock ---- */
    pthread_mutex_t st_lock;
    char call_id[MXRTC_CALL_ID_MAX + 1]; /* the call of the run; "" none yet */
    mxrtc_call_state state;
    bool ended, remote_ended;
    mxrtc_call_end_reason end_reason;
    bool turn_refresh;               /* TURN_REFRESH seen */
    bool threads_stop;
    bool hangup_sent;                /* an m.call.hangup/reject went out */
    mxrtc_time_us start_us, ref_us, connected_us;

    mxrtc_event_sender *sender;      /* SEND_EVENT outputs, in order (its own thread) */

    /* ---- I/O thread only ---- */
    mxrtc_media_session ms;
    int tick_step;
    mxrtc_time_us next_stats_us;
    mxrtc_peer_stats last_stats;     /* kept: the peer goes away when the call ends */
    bool have_stats;
    cm_incoming pending[CM_PENDING]; /* calls that rang during this /sync batch */
    size_t n_pending;
    bool held, ever_held;
    mxrtc_time_us hold_end_us;
    char local_ufrag[CM_UFRAG_MAX], remote_ufrag[CM_UFRAG_MAX];
    char invite_id[MXRTC_CALL_ID_MAX + 1], invite_ufrag[CM_UFRAG_MAX]; /* the last invite fed */
    mxrtc_time_us restart_us;        /* last ICE restart seen; 0 none */
    bool dropping;
    uint64_t dropped_datagrams;
} cm;

static cm g;

/* ---- output ------------------------------------------------------------------ */

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&g.out_lock);
    fprintf(stderr, "[%s] ", g.o.placing ? "call" : "answer");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&g.out_lock);
    va_end(ap);
}

/* One line on stdout: the JSON object with --json, else "type key=value...". */
static void emit(cJSON *j) {
    char *s = NULL;
    if (g.o.json) {
        s = cJSON_PrintUnformatted(j);
    } else {
        size_t cap = 1024, n = 0;
        s = malloc(cap);
        if (s) s[0] = 0;
        for (const cJSON *it = j->child; s && it; it = it->next) {
            char *v = cJSON_IsString(it) ? NULL : cJSON_PrintUnformatted(it);
            const char *val = cJSON_IsString(it) ? it->valuestring : v ? v : "";
            int k = !strcmp(it->string, "type") ? snprintf(s + n, cap - n, "%s", val)
                                                 : snprintf(s + n, cap - n, " %s=%s", it->string, val);
            if (k > 0) n = (size_t)k < cap - n ? n + (size_t)k : cap - 1;
            free(v);
        }
    }
    if (s) {
        pthread_mutex_lock(&g.out_lock);
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        pthread_mutex_unlock(&g.out_lock);
        free(s);
    }
    cJSON_Delete(j);
}

static cJSON *event_obj(const char *type, const char *call_id) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", type);
    if (call_id) cJSON_AddStringToObject(j, "call_id", call_id);
    return j;
}

static void wake_main(void) {
    char c = 1;
    ssize_t n = write(g.wake[1], &c, 1);
    (void)n;
}

static void log_fn(void *user, mxrtc_log_level level, const char *module, const char *message) {
    (void)user;
    diag("%s %s: %s", level <= MXRTC_LOG_WARN ? "warn" : "info", module, message);
}

static void ms_log(void *user, const char *line) {
    (void)user;
    diag("%s", line);
}

/* ---- sending (tools/event_sender.h) ----------------------------------------------- */

/* After each event, on the sender's thread: `invite_sent` once the invite
 * is in the room; a hangup or reject that went out is noted. */
static void on_sent(void *user, const char *room_id, const char *type, const char *content, int rc) {
    (void)user;
    if (rc != MXRTC_OK) {
        diag("sending %s failed: %s", type, mxrtc_strerror(rc));
    } else {
        diag("sent %s", type);
        if (!strcmp(type, "m.call.invite")) {
            mxrtc_mxc_call_info ci;
            cJSON *j = event_obj("invite_sent", NULL);
            if (mxrtc_mxc_call_info_parse(content, strlen(content), &ci) == MXRTC_OK)
                cJSON_AddStringToObject(j, "call_id", ci.call_id);
            cJSON_AddStringToObject(j, "room_id", room_id);
            emit(j);
        }
        if (!strcmp(type, "m.call.hangup") || !strcmp(type, "m.call.reject")) {
            pthread_mutex_lock(&g.st_lock);
            g.hangup_sent = true;
            pthread_mutex_unlock(&g.st_lock);
        }
    }
    wake_main();
}

static bool is_our_call(const char *call_id) {
    pthread_mutex_lock(&g.st_lock);
    bool ours = call_id && g.call_id[0] && !strcmp(call_id, g.call_id);
    pthread_mutex_unlock(&g.st_lock);
    return ours;
}

/* ---- ICE restarts: seen as a new ice-ufrag (RFC 8839 §5.4) in an SDP ------------ */

/* An SDP of our call went out (local) or came in (from sender; our own
 * echoes are skipped): an m.call.negotiate offer with a ufrag other than
 * that side's last one is an ICE restart (its answer brings the other
 * side's new ufrag: one restart, one line). I/O thread. */
static void watch_ufrag(const char *type, const char *sender, const char *content, size_t len, bool local,
                        mxrtc_time_us now) {
    if (strcmp(type, "m.call.invite") && strcmp(type, "m.call.answer") && strcmp(type, "m.call.negotiate"))
        return;
    mxrtc_mxc_call_info ci;
    if (mxrtc_mxc_call_info_parse(content, len, &ci) != MXRTC_OK || !ci.call_id[0] || !ci.ice_ufrag[0]) return;
    if (!local && sender && !strcmp(sender, g.user_id) && !strcmp(ci.party_id, g.device_id))
        return; /* our own event coming back through /sync */
    /* An invite is fed before its call is ours (INCOMING comes after it). */
    if (!local && !strcmp(type, "m.call.invite")) {
        snprintf(g.invite_id, sizeof g.invite_id, "%s", ci.call_id);
        snprintf(g.invite_ufrag, sizeof g.invite_ufrag, "%s", ci.ice_ufrag);
    }
    if (!is_our_call(ci.call_id)) return;
    char *known = local ? g.local_ufrag : g.remote_ufrag;
    if (known[0] && strcmp(known, ci.ice_ufrag) && !strcmp(type, "m.call.negotiate") &&
        !strcmp(ci.sdp_type, "offer")) {
        g.restart_us = now;
        diag("ICE restart (%s)", local ? "ours" : "theirs");
        emit(event_obj("ice_restart", ci.call_id));
    }
    snprintf(known, CM_UFRAG_MAX, "%s", ci.ice_ufrag);
}

/* ---- calls outputs (I/O thread) ------------------------------------------------------ */


static void on_state(const mxrtc_calls_output *o, mxrtc_time_us now) {
    if (!is_our_call(o->call_id)) return;
    if (o->state == MXRTC_CALL_STATE_ENDED && o->end_reason == MXRTC_CALL_END_REPLACED && o->replaced_by) {
        /* Glare (spec "Glare"): the call goes on under the other call_id. */
        diag("call replaced by %s", o->replaced_by);
        pthread_mutex_lock(&g.st_lock);
        snprintf(g.call_id, sizeof g.call_id, "%s", o->replaced_by);
        pthread_mutex_unlock(&g.st_lock);
        g.local_ufrag[0] = g.remote_ufrag[0] = 0;
        return;
    }
    diag("state %s", mxrtc_call_state_name(o->state));
    pthread_mutex_lock(&g.st_lock);
    g.state = o->state;
    if (o->state == MXRTC_CALL_STATE_CONNECTED && !g.connected_us) g.connected_us = now;
    if (o->state == MXRTC_CALL_STATE_ENDED) {
        g.ended = true;
        g.end_reason = o->end_reason;
        g.remote_ended = o->remote_ended != 0;
    }
    pthread_mutex_unlock(&g.st_lock);
    if (o->state == MXRTC_CALL_STATE_CONNECTING || o->state == MXRTC_CALL_STATE_CONNECTED ||
        o->state == MXRTC_CALL_STATE_ENDED) {
        cJSON *j = event_obj("state", o->call_id);
        cJSON_AddStringToObject(j, "state", mxrtc_call_state_name(o->state));
        if (o->state == MXRTC_CALL_STATE_ENDED) {
            cJSON_AddStringToObject(j, "reason", mxrtc_call_end_reason_name(o->end_reason));
            cJSON_AddBoolToObject(j, "remote_ended", o->remote_ended != 0);
        }
        emit(j);
    }
    if (o->state == MXRTC_CALL_STATE_ENDED) wake_main();
}

/* INCOMING: noted; whether it is printed and answered is decided at the
 * end of the batch (batch_done), when a hangup later in it has been seen. */
static void on_incoming(const mxrtc_calls_output *o, mxrtc_time_us now) {
    if (g.o.room && o->room_id && strcmp(g.o.room, o->room_id)) {
        diag("a call rings in another room: ignored");
        return;
    }
    if (g.n_pending == CM_PENDING) {
        diag("too many calls ring at once: one ignored");
        return;
    }
    cm_incoming *p = &g.pending[g.n_pending++];
    snprintf(p->call_id, sizeof p->call_id, "%s", o->call_id ? o->call_id : "");
    snprintf(p->room_id, sizeof p->room_id, "%s", o->room_id ? o->room_id : "");
    snprintf(p->sender, sizeof p->sender, "%s", o->sender ? o->sender : "");
    p->video = o->video != 0;
    p->at = now;
}

/* The batch is in: the calls that still ring are printed, and the first
 * becomes the run's call (answer mode) and is answered or rejected. At most
 * one input. I/O thread. */
static int batch_done(mxrtc_time_us now) {
    int rc = MXRTC_OK;
    for (size_t i = 0; i < g.n_pending; i++) {
        const cm_incoming *p = &g.pending[i];
        if (mxrtc_calls_state(g.calls, p->call_id) != MXRTC_CALL_STATE_RINGING) continue;
        cJSON *j = event_obj("incoming", p->call_id);
        cJSON_AddStringToObject(j, "room_id", p->room_id);
        cJSON_AddStringToObject(j, "sender", p->sender);
        cJSON_AddBoolToObject(j, "video", p->video);
        emit(j);
        pthread_mutex_lock(&g.st_lock);
        bool take = !g.o.placing && !g.call_id[0];
        if (take) {
            snprintf(g.call_id, sizeof g.call_id, "%s", p->call_id);
            g.state = MXRTC_CALL_STATE_RINGING;
            g.ref_us = p->at;
        }
        pthread_mutex_unlock(&g.st_lock);
        if (!take) continue;
        if (!strcmp(g.invite_id, p->call_id)) snprintf(g.remote_ufrag, sizeof g.remote_ufrag, "%s", g.invite_ufrag);
        g.ms.ref_us = p->at;
        if (g.o.reject) {
            diag("rejecting");
            rc = mxrtc_calls_reject(g.calls, now, p->call_id);
        } else if (!g.o.no_answer) {
            diag("answering%s", g.o.video ? " with video" : "");
            rc = mxrtc_calls_answer(g.calls, now, p->call_id, g.o.video);
        }
    }
    g.n_pending = 0;
    return rc;
}

static void on_hold(const mxrtc_calls_output *o, mxrtc_time_us now) {
    bool held = o->local_hold || o->remote_hold;
    if (held) g.ever_held = true;
    if (g.held && !held) g.hold_end_us = now;
    g.held = held;
    cJSON *j = event_obj("hold", o->call_id);
    cJSON_AddBoolToObject(j, "local_hold", o->local_hold != 0);
    cJSON_AddBoolToObject(j, "remote_hold", o->remote_hold != 0);
    emit(j);
}

static void on_event(void *user, mxrtc_net_runner *r, const void *event) {
    (void)user;
    (void)r;
    const mxrtc_calls_output *o = event;
    mxrtc_time_us now = mxrtc_net_now();
    switch (o->kind) {
    case MXRTC_CALLS_OUT_SEND_EVENT:
        watch_ufrag(o->type, NULL, o->content, o->content_len, true, now);
        if (mxrtc_event_sender_push(g.sender, o->room_id, o->type, o->content, o->content_len) != MXRTC_OK)
            diag("send queue full or out of memory: %s dropped", o->type);
        break;
    case MXRTC_CALLS_OUT_INCOMING:
        on_incoming(o, now);
        break;
    case MXRTC_CALLS_OUT_STATE:
        on_state(o, now);
        break;
    case MXRTC_CALLS_OUT_REMOTE_MEDIA: {
        if (!is_our_call(o->call_id)) break;
        cJSON *j = event_obj("remote_media", o->call_id);
        cJSON_AddBoolToObject(j, "audio_muted", o->remote_audio_muted != 0);
        cJSON_AddBoolToObject(j, "video_muted", o->remote_video_muted != 0);
        emit(j);
        break;
    }
    case MXRTC_CALLS_OUT_HOLD:
        if (is_our_call(o->call_id)) on_hold(o, now);
        break;
    case MXRTC_CALLS_OUT_VIDEO_FRAME:
        if (is_our_call(o->call_id)) {
            uint8_t cs[4];
            bool have_cs = mxrtc_calls_video_colour_space(g.calls, o->call_id, cs) == MXRTC_OK;
            mxrtc_ms_video_frame(&g.ms, now, &o->picture, have_cs ? cs : NULL);
        }
        break;
    case MXRTC_CALLS_OUT_TURN_REFRESH:
        pthread_mutex_lock(&g.st_lock);
        g.turn_refresh = true;
        pthread_mutex_unlock(&g.st_lock);
        wake_main();
        break;
    default:
        break;
    }
}

/* ---- the media tick (I/O thread, calls drained, one input per step) ------------- */

static bool tick(void *user, mxrtc_calls *c, mxrtc_time_us now, int first) {
    (void)user;
    if (first) g.tick_step = 0;
    pthread_mutex_lock(&g.st_lock);
    char id[MXRTC_CALL_ID_MAX + 1];
    snprintf(id, sizeof id, "%s", g.call_id);
    bool live = id[0] && !g.ended && (g.state == MXRTC_CALL_STATE_CONNECTING || g.state == MXRTC_CALL_STATE_CONNECTED);
    pthread_mutex_unlock(&g.st_lock);
    if (!live) return false;
    switch (g.tick_step++) {
    case 0: {
        int16_t pcm[MXRTC_MS_FRAME];
        mxrtc_ms_next_audio(&g.ms, pcm);
        mxrtc_calls_push_audio(c, now, id, pcm, MXRTC_MS_FRAME);
        return true;
    }
    case 1: {
        int16_t pcm[MXRTC_MS_FRAME];
        if (mxrtc_calls_pull_audio(c, now, id, pcm, MXRTC_MS_FRAME) == MXRTC_OK)
            mxrtc_ms_playout(&g.ms, now, pcm, MXRTC_MS_FRAME);
        mxrtc_ms_tick(&g.ms, now);
        mxrtc_peer_stats st;
        memset(&st, 0, sizeof st);
        st.size = sizeof st;
        if (mxrtc_calls_get_stats(c, id, &st) == MXRTC_OK) {
            g.last_stats = st;
            g.have_stats = true;
            mxrtc_ms_stats(&g.ms, now, mxrtc_call_state_name(g.state), &st, &g.next_stats_us);
        }
        /* No input in this step: go on with the video. */
        if (mxrtc_ms_video_due(&g.ms, now)) {
            mxrtc_picture pic;
            if (mxrtc_ms_next_picture(&g.ms, now, &pic)) mxrtc_calls_push_video(c, now, id, &pic);
        }
        return false;
    }
    default:
        return false;
    }
}

/* ---- --drop-network: the calls engine wrapped, datagrams dropped both ways ------- */

static int drop_datagram(void *user, mxrtc_time_us now, const mxrtc_addr *local, const mxrtc_addr *remote,
                         const uint8_t *data, size_t len) {
    (void)user;
    if (g.dropping) {
        g.dropped_datagrams++;
        return MXRTC_OK;
    }
    return g.inner.handle_datagram(g.inner.user, now, local, remote, data, len);
}
static int drop_stream(void *user, mxrtc_time_us now, const mxrtc_addr *server, const uint8_t *data, size_t len) {
    (void)user;
    return g.inner.handle_stream(g.inner.user, now, server, data, len);
}
static int drop_stream_closed(void *user, mxrtc_time_us now, const mxrtc_addr *server) {
    (void)user;
    return g.inner.stream_closed(g.inner.user, now, server);
}
static int drop_timeout(void *user, mxrtc_time_us now) {
    (void)user;
    return g.inner.handle_timeout(g.inner.user, now);
}
static int drop_resolved(void *user, mxrtc_time_us now, const char *hostname, const mxrtc_addr *ip) {
    (void)user;
    return g.inner.resolved(g.inner.user, now, hostname, ip);
}
static int drop_poll(void *user, mxrtc_time_us now, mxrtc_net_output *out) {
    (void)user;
    for (;;) {
        int rc = g.inner.poll(g.inner.user, now, out);
        if (rc || out->kind != MXRTC_NET_OUT_DATAGRAM || !g.dropping) return rc;
        g.dropped_datagrams++;
    }
}

/* ---- commands to the I/O thread ------------------------------------------------------ */

enum { C_NOOP, C_FEED, C_BATCH_DONE, C_TURN, C_PLACE, C_ANSWER, C_REJECT, C_HANGUP, C_HOLD, C_MUTE, C_VIDEO,
       C_DROP };

typedef struct cm_cmd {
    int kind;
    const mxrtc_room_event *ev;
    const char *json;
    size_t len;
    int a, b;
    int rc;
} cm_cmd;

static void run_cmd(void *arg, mxrtc_time_us now) {
    cm_cmd *c = arg;
    if (now == MXRTC_TIME_NEVER) {
        c->rc = MXRTC_ERR_CLOSED;
        return;
    }
    pthread_mutex_lock(&g.st_lock);
    char id[MXRTC_CALL_ID_MAX + 1];
    snprintf(id, sizeof id, "%s", g.call_id);
    pthread_mutex_unlock(&g.st_lock);
    const char *why = NULL;
    switch (c->kind) {
    case C_FEED:
        watch_ufrag(c->ev->type, c->ev->sender, c->ev->content, c->ev->content_len, false, now);
        c->rc = mxrtc_calls_feed_event(g.calls, now, c->ev, &why);
        if (c->rc != MXRTC_OK)
            diag("%s from %s refused: %s%s%s", c->ev->type, c->ev->sender, mxrtc_strerror(c->rc), why ? ": " : "",
                 why ? why : "");
        break;
    case C_BATCH_DONE:
        c->rc = batch_done(now);
        break;
    case C_TURN:
        c->rc = mxrtc_calls_set_turn_servers(g.calls, now, c->json, c->len);
        break;
    case C_PLACE: {
        char out[MXRTC_CALL_ID_MAX + 1];
        c->rc = mxrtc_calls_place(g.calls, now, g.o.room, NULL, g.o.video, out, sizeof out);
        if (c->rc == MXRTC_OK) {
            pthread_mutex_lock(&g.st_lock);
            snprintf(g.call_id, sizeof g.call_id, "%s", out);
            g.state = MXRTC_CALL_STATE_INVITE_SENT;
            g.ref_us = now;
            pthread_mutex_unlock(&g.st_lock);
            g.ms.ref_us = now;
        }
        break;
    }
    case C_ANSWER:
        c->rc = id[0] ? mxrtc_calls_answer(g.calls, now, id, g.o.video) : MXRTC_ERR_NOT_FOUND;
        break;
    case C_REJECT:
        c->rc = id[0] ? mxrtc_calls_reject(g.calls, now, id) : MXRTC_ERR_NOT_FOUND;
        break;
    case C_HANGUP:
        c->rc = id[0] ? mxrtc_calls_hangup(g.calls, now, id) : MXRTC_ERR_NOT_FOUND;
        break;
    case C_HOLD:
        c->rc = id[0] ? mxrtc_calls_set_hold(g.calls, now, id, c->a) : MXRTC_ERR_NOT_FOUND;
        break;
    case C_MUTE:
        c->rc = id[0] ? mxrtc_calls_set_mute(g.calls, now, id, c->a, c->b) : MXRTC_ERR_NOT_FOUND;
        break;
    case C_VIDEO:
        c->rc = id[0] ? mxrtc_calls_set_video(g.calls, now, id, c->a) : MXRTC_ERR_NOT_FOUND;
        break;
    case C_DROP:
        g.dropping = c->a != 0;
        diag("network %s (%llu datagrams dropped so far)", g.dropping ? "dropped" : "back",
             (unsigned long long)g.dropped_datagrams);
        c->rc = MXRTC_OK;
        break;
    default:
        c->rc = MXRTC_OK;
        break;
    }
}

static int io_call(cm_cmd *c) {
    int rc = mxrtc_net_runner_call_wait(g.runner, run_cmd, c);
    return rc ? rc : c->rc;
}

static int io_simple(int kind, int a, int b) {
    cm_cmd c = {.kind = kind, .a = a, .b = b};
    return io_call(&c);
}

/* ---- Matrix: TURN, sync ------------------------------------------------------------------- */

/* GET /voip/turnServer on the main client and hands it to mxrtc_calls as
 * JSON. *n_uris gets the number of URIs. The credentials are wiped. */
static int fetch_turn(size_t *n_uris) {
    mxrtc_mxc_turn t;
    memset(&t, 0, sizeof t);
    int rc = mxrtc_mxc_turn_server(g.mxc_main, &t);
    if (rc != MXRTC_OK) {
        diag("/voip/turnServer: %s", mxrtc_strerror(rc));
        return rc;
    }
    *n_uris = t.n_uris;
    cJSON *j = cJSON_CreateObject();
    if (t.n_uris) {
        cJSON_AddStringToObject(j, "username", t.username);
        cJSON_AddStringToObject(j, "password", t.password);
        cJSON *uris = cJSON_AddArrayToObject(j, "uris");
        for (size_t i = 0; i < t.n_uris; i++) cJSON_AddItemToArray(uris, cJSON_CreateString(t.uris[i]));
        cJSON_AddNumberToObject(j, "ttl", t.ttl_s);
    }
    mxrtc_mxc_turn_clear(&t);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!s) return MXRTC_ERR_NO_MEMORY;
    cm_cmd c = {.kind = C_TURN, .json = s, .len = strlen(s)};
    rc = io_call(&c);
    mxrtc_wipe(s, strlen(s));
    free(s);
    diag("TURN: %zu URI(s) from /voip/turnServer%s", *n_uris, rc ? " refused" : "");
    return rc;
}

/* Joins the rooms of the sync we are invited to, if we should (see the top). */
static void join_invites(mxrtc_mxc *mxc, const mxrtc_mxc_sync *s) {
    for (size_t i = 0; i < s->n_invited; i++) {
        const char *r = s->invited_rooms[i];
        if (g.o.room ? strcmp(r, g.o.room) != 0 : g.o.placing) continue;
        int rc = mxrtc_mxc_join(mxc, r);
        diag("invited to %s: join %s", r, rc ? mxrtc_strerror(rc) : "done");
    }
}

/* Feeds the events of s to the I/O thread (but those of finished calls),
 * then the end of the batch. */
static void feed_sync(const mxrtc_mxc_sync *s, mxrtc_time_us received_at) {
    /* Calls that begin and end within the batch (history) are not fed:
     * mxrtc_calls would take this device's own old hangup or answer for
     * an echo and let the call ring again, and each call fed takes one of
     * its slots. */
    bool *skip = calloc(s->n_events ? s->n_events : 1, sizeof *skip);
    if (skip && mxrtc_mxc_sync_finished_calls(s, g.user_id, g.device_id, skip) < 0) {
        free(skip);
        skip = NULL;
    }
    size_t skipped = 0;
    for (size_t i = 0; i < s->n_events; i++) {
        if (skip && skip[i]) {
            skipped++;
            continue;
        }
        const mxrtc_mxc_event *e = &s->events[i];
        mxrtc_room_event ev = {e->room_id, e->sender, e->type, e->state_key, e->content_json,
                               strlen(e->content_json), e->age_ms >= 0 ? (uint64_t)e->age_ms : MXRTC_AGE_UNKNOWN,
                               received_at};
        cm_cmd c = {.kind = C_FEED, .ev = &ev};
        int rc = mxrtc_net_runner_call_wait(g.runner, run_cmd, &c);
        if (rc == MXRTC_ERR_CLOSED) break;
    }
    free(skip);
    if (skipped) diag("sync: %zu events of calls that began and ended in this batch left out", skipped);
    if (s->dropped) diag("sync: %zu events over the bound dropped", s->dropped);
    io_simple(C_BATCH_DONE, 0, 0);
}

static bool threads_stopping(void) {
    pthread_mutex_lock(&g.st_lock);
    bool s = g.threads_stop;
    pthread_mutex_unlock(&g.st_lock);
    return s;
}

static char *g_since;                /* the sync thread's since token */

static void *sync_thread(void *arg) {
    (void)arg;
    unsigned failures = 0;
    while (!threads_stopping()) {
        mxrtc_mxc_sync s;
        int rc = mxrtc_mxc_sync_poll(g.mxc_sync, g_since, CM_SYNC_TIMEOUT_MS, &s);
        if (rc != MXRTC_OK) {
            diag("sync: %s", mxrtc_strerror(rc));
            if (++failures > 5) {
                diag("sync keeps failing: giving up");
                pthread_mutex_lock(&g.st_lock);
                g.threads_stop = true;
                pthread_mutex_unlock(&g.st_lock);
                wake_main();
                break;
            }
            /* Back off a second (bounded by the failure count above). */
            struct timespec ts = {1, 0};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
            }
            continue;
        }
        failures = 0;
        mxrtc_time_us at = mxrtc_net_now();
        free(g_since);
        g_since = s.next_batch ? strdup(s.next_batch) : NULL;
        join_invites(g.mxc_sync, &s);
        feed_sync(&s, at);
        mxrtc_mxc_sync_clear(&s);
    }
    return NULL;
}

/* ---- stdin commands ------------------------------------------------------------------------ */

/* Runs one command line. MXRTC_ERR_STATE is returned as is (the caller
 * may retry); other outcomes are logged. */
static int handle_command(const char *line) {
    cJSON *j = cJSON_Parse(line);
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(j, "cmd");
    if (!cJSON_IsString(cmd)) {
        diag("command without \"cmd\" ignored");
        cJSON_Delete(j);
        return MXRTC_ERR_MALFORMED;
    }
    const char *k = cmd->valuestring;
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(j, "on");
    const cJSON *au = cJSON_GetObjectItemCaseSensitive(j, "audio");
    const cJSON *vi = cJSON_GetObjectItemCaseSensitive(j, "video");
    int rc;
    if (!strcmp(k, "hangup")) rc = io_simple(C_HANGUP, 0, 0);
    else if (!strcmp(k, "hold")) rc = io_simple(C_HOLD, cJSON_IsTrue(on), 0);
    else if (!strcmp(k, "mute")) rc = io_simple(C_MUTE, cJSON_IsTrue(au), cJSON_IsTrue(vi));
    else if (!strcmp(k, "video")) rc = io_simple(C_VIDEO, cJSON_IsTrue(on), 0);
    else if (!strcmp(k, "answer")) rc = io_simple(C_ANSWER, 0, 0);
    else if (!strcmp(k, "reject")) rc = io_simple(C_REJECT, 0, 0);
    else rc = MXRTC_ERR_UNSUPPORTED;
    if (rc != MXRTC_ERR_STATE) diag("command %s: %s", k, rc ? mxrtc_strerror(rc) : "done");
    cJSON_Delete(j);
    return rc;
}

/* Commands wait here in order. One refused with MXRTC_ERR_STATE (a hold
 * while the previous m.call.negotiate is unanswered, an answer before the
 * call rings...) is tried again every loop turn for CM_CMD_RETRY_US, as a
 * user would press the button again; then it is dropped with its error. */
#define CM_CMDQ 16
#define CM_CMD_RETRY_US 5000000
static char *cmdq[CM_CMDQ];
static size_t cmdq_head, cmdq_n;
static mxrtc_time_us cmdq_first_try;

static void cmdq_push(const char *line) {
    if (cmdq_n == CM_CMDQ) {
        diag("too many commands waiting: one dropped");
        return;
    }
    char *d = strdup(line);
    if (d) cmdq[(cmdq_head + cmdq_n++) % CM_CMDQ] = d;
}

static void cmdq_run(mxrtc_time_us now) {
    while (cmdq_n) {
        if (!cmdq_first_try) cmdq_first_try = now;
        int rc = handle_command(cmdq[cmdq_head]);
        if (rc == MXRTC_ERR_STATE && now < cmdq_first_try + CM_CMD_RETRY_US) return;
        if (rc == MXRTC_ERR_STATE) diag("command %s: %s", cmdq[cmdq_head], mxrtc_strerror(rc));
        free(cmdq[cmdq_head]);
        cmdq_head = (cmdq_head + 1) % CM_CMDQ;
        cmdq_n--;
        cmdq_first_try = 0;
    }
}

static void cmdq_clear(void) {
    while (cmdq_n) {
        free(cmdq[cmdq_head]);
        cmdq_head = (cmdq_head + 1) % CM_CMDQ;
        cmdq_n--;
    }
    cmdq_head = 0;
    cmdq_first_try = 0;
}

/* ---- options ------------------------------------------------------------------------------- */

void mxrtc_call_mode_usage(void) {
    fprintf(stderr,
            "usage: mxrtc call ROOM [options]       place a call in ROOM (!id:server) until it ends\n"
            "       mxrtc answer [ROOM] [options]   answer a call (in ROOM, or any joined room;\n"
            "                                       without ROOM, rooms we are invited to are joined)\n"
            "account: --homeserver URL (MXRTC_HOMESERVER)  --user USER (MXRTC_USER)\n"
            "         password in MXRTC_PASSWORD or a token in MXRTC_ACCESS_TOKEN (environment only)\n"
            "media:   --video  --audio-hz N  --audio-file WAV  --video-rgb R,G,B  --video-file Y4M\n"
            "         --record-audio WAV  --record-video Y4M|IVF\n"
            "call:    --duration S  --timeout S  --invite-lifetime MS  --reject  --no-answer\n"
            "         --relay-only  --json  --commands  --drop-network-at S --drop-network-for S\n"
            "see docs/call_tool.md\n");
}

static int parse_num(const char *prog, const char *opt, const char *v, double lo, double hi, double *out) {
    char *end = NULL;
    double d = v ? strtod(v, &end) : 0;
    if (!v || end == v || *end || !(d >= lo && d <= hi)) {
        fprintf(stderr, "%s: %s wants a number in %g..%g\n", prog, opt, lo, hi);
        return -1;
    }
    *out = d;
    return 0;
}

static int parse_opts(int argc, char **argv, cm_opts *o) {
    const char *prog = o->placing ? "mxrtc call" : "mxrtc answer";
    o->media.audio_hz = 440;
    o->invite_lifetime_ms = 60000;
    o->homeserver = getenv("MXRTC_HOMESERVER");
    o->user = getenv("MXRTC_USER");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int m = mxrtc_ms_parse_opt(&o->media, prog, argc, argv, &i);
        if (m < 0) return -1;
        if (m > 0) continue;
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d;
        if (a[0] != '-' && !o->room) o->room = a;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) return -1;
        else if (!strcmp(a, "--video")) o->video = true;
        else if (!strcmp(a, "--reject")) o->reject = true;
        else if (!strcmp(a, "--no-answer")) o->no_answer = true;
        else if (!strcmp(a, "--relay-only")) o->relay_only = true;
        else if (!strcmp(a, "--json")) o->json = true;
        else if (!strcmp(a, "--commands")) o->commands = true;
        else if (!strcmp(a, "--homeserver") && v) o->homeserver = argv[++i];
        else if (!strcmp(a, "--user") && v) o->user = argv[++i];
        else if (!strcmp(a, "--duration")) {
            if (parse_num(prog, a, v, 0, 86400, &o->duration_s)) return -1;
            i++;
        } else if (!strcmp(a, "--timeout")) {
            if (parse_num(prog, a, v, 0, 86400, &o->timeout_s)) return -1;
            i++;
        } else if (!strcmp(a, "--invite-lifetime")) {
            if (parse_num(prog, a, v, 1000, 3600000, &d)) return -1;
            o->invite_lifetime_ms = (uint32_t)d;
            i++;
        } else if (!strcmp(a, "--drop-network-at")) {
            if (parse_num(prog, a, v, 0, 86400, &o->drop_at_s)) return -1;
            o->drop = true;
            i++;
        } else if (!strcmp(a, "--drop-network-for")) {
            if (parse_num(prog, a, v, 0, 86400, &o->drop_for_s)) return -1;
            i++;
        } else {
            fprintf(stderr, "%s: unknown option, extra argument or missing value: %s\n", prog, a);
            return -1;
        }
    }
    if (mxrtc_ms_check_opts(&o->media, prog) != 0) return -1;
    if (o->media.video_file && mxrtc_ms_is_ivf(o->media.video_file)) {
        /* mxrtc_calls takes raw pictures only (no push_encoded). */
        fprintf(stderr, "%s: --video-file wants a .y4m file here (IVF input is `mxrtc peer` only)\n", prog);
        return -1;
    }
    if (o->placing && !o->room) {
        fprintf(stderr, "%s: ROOM missing\n", prog);
        return -1;
    }
    if (o->room && o->room[0] != '!') {
        fprintf(stderr, "%s: ROOM must be a room id (!x:server)\n", prog);
        return -1;
    }
    if (!o->homeserver || !*o->homeserver || !o->user || !*o->user) {
        fprintf(stderr, "%s: --homeserver and --user (or MXRTC_HOMESERVER, MXRTC_USER) are needed\n", prog);
        return -1;
    }
    if (o->reject && o->no_answer) {
        fprintf(stderr, "%s: --reject and --no-answer exclude each other\n", prog);
        return -1;
    }
    if ((o->reject || o->no_answer) && o->placing) {
        fprintf(stderr, "%s: --reject and --no-answer are for `mxrtc answer`\n", prog);
        return -1;
    }
    if (o->drop && o->drop_for_s <= 0) {
        fprintf(stderr, "%s: --drop-network-at needs --drop-network-for\n", prog);
        return -1;
    }
    return 0;
}

/* ---- set-up and the main loop ------------------------------------------------------------- */

static void on_signal(int sig) {
    (void)sig;
    g.stop_signal = 1;
    char c = 2;
    ssize_t n = write(g.wake[1], &c, 1);
    (void)n;
}

static int new_client(mxrtc_mxc **out, mxrtc_mxc_http *http) {
    int rc = mxrtc_mxc_http_curl_new(http);
    if (rc) return rc;
    mxrtc_mxc_config mc = {.homeserver = g.o.homeserver, .http = *http, .logger = &g.lg};
    return mxrtc_mxc_new(&mc, out);
}

/* Logs in the main client (password or token) and gives the session to the others. */
static int login(void) {
    const char *password = getenv("MXRTC_PASSWORD"), *token = getenv("MXRTC_ACCESS_TOKEN");
    int rc;
    if (token && *token) {
        rc = mxrtc_mxc_set_token(g.mxc_main, token);
        if (rc == MXRTC_OK) rc = mxrtc_mxc_whoami(g.mxc_main);
    } else if (password && *password) {
        rc = mxrtc_mxc_login_password(g.mxc_main, g.o.user, password);
    } else {
        diag("no credentials: set MXRTC_PASSWORD or MXRTC_ACCESS_TOKEN");
        return MXRTC_ERR_AUTH;
    }
    if (rc != MXRTC_OK) {
        diag("login as %s failed: %s", g.o.user, mxrtc_strerror(rc));
        return rc;
    }
    snprintf(g.user_id, sizeof g.user_id, "%s", mxrtc_mxc_user_id(g.mxc_main));
    snprintf(g.device_id, sizeof g.device_id, "%s", mxrtc_mxc_device_id(g.mxc_main));
    if (!g.device_id[0]) {
        diag("the homeserver named no device id for this token");
        return MXRTC_ERR_MALFORMED;
    }
    if ((rc = mxrtc_mxc_share_session(g.mxc_sync, g.mxc_main)) != MXRTC_OK ||
        (rc = mxrtc_mxc_share_session(g.mxc_send, g.mxc_main)) != MXRTC_OK)
        return rc;
    diag("logged in as %s, device %s", g.user_id, g.device_id);
    return MXRTC_OK;
}

static bool exit_ok(mxrtc_call_end_reason r) {
    switch (r) {
    case MXRTC_CALL_END_USER_HANGUP:
    case MXRTC_CALL_END_REJECTED:
    case MXRTC_CALL_END_USER_BUSY:
    case MXRTC_CALL_END_ANSWERED_ELSEWHERE:
    case MXRTC_CALL_END_REJECTED_ELSEWHERE:
    case MXRTC_CALL_END_PEER_LEFT:
        return true;
    default:
        return false;
    }
}

/* The result line (on the I/O thread: it reads the media session). */
/* On the I/O thread: does the call's peer (ended) still release its TURN
 * allocations? mxrtc_calls_get_stats reads a closed peer too. */
static bool call_closing(void *user, mxrtc_time_us now) {
    (void)user;
    (void)now;
    mxrtc_peer_stats st = {.size = sizeof st};
    pthread_mutex_lock(&g.st_lock);
    char id[MXRTC_CALL_ID_MAX + 1];
    memcpy(id, g.call_id, sizeof id);
    pthread_mutex_unlock(&g.st_lock);
    return id[0] && mxrtc_calls_get_stats(g.calls, id, &st) == MXRTC_OK && st.closing;
}

static void result_cmd(void *arg, mxrtc_time_us now) {
    (void)now;
    (void)arg;
    pthread_mutex_lock(&g.st_lock);
    cJSON *j = event_obj("result", g.call_id[0] ? g.call_id : NULL);
    if (!g.call_id[0]) cJSON_AddNullToObject(j, "call_id");
    if (g.ended) cJSON_AddStringToObject(j, "end_reason", mxrtc_call_end_reason_name(g.end_reason));
    else cJSON_AddNullToObject(j, "end_reason");
    cJSON_AddBoolToObject(j, "remote_ended", g.ended && g.remote_ended);
    mxrtc_time_us ref = g.ref_us, connected = g.connected_us;
    pthread_mutex_unlock(&g.st_lock);
    if (g.ms.audio_done) cJSON_AddNumberToObject(j, "audio_hz", round(g.ms.audio_hz * 100) / 100);
    else cJSON_AddNullToObject(j, "audio_hz");
    if (g.ms.have_video_rgb) {
        int rgb[3] = {g.ms.video_rgb[0], g.ms.video_rgb[1], g.ms.video_rgb[2]};
        cJSON_AddItemToObject(j, "video_rgb", cJSON_CreateIntArray(rgb, 3));
    } else {
        cJSON_AddNullToObject(j, "video_rgb");
    }
    if (g.ms.first_audio_us && g.ms.first_audio_ms >= 0) cJSON_AddNumberToObject(j, "first_audio_ms", (double)g.ms.first_audio_ms);
    else cJSON_AddNullToObject(j, "first_audio_ms");
    if (connected && ref) cJSON_AddNumberToObject(j, "connect_ms", (double)((connected - ref) / 1000));
    else cJSON_AddNullToObject(j, "connect_ms");
    cJSON_AddNumberToObject(j, "packets_received",
                            g.have_stats ? (double)(g.last_stats.audio_in.packets + g.last_stats.video_in.packets) : 0);
    cJSON_AddNumberToObject(j, "frames_decoded", (double)g.ms.frames_decoded);
    if (g.ever_held) cJSON_AddBoolToObject(j, "audio_after_resume", g.hold_end_us && mxrtc_ms_loud_since(&g.ms, g.hold_end_us));
    if (g.restart_us) cJSON_AddBoolToObject(j, "audio_after_restart", mxrtc_ms_loud_since(&g.ms, g.restart_us));
    emit(j);
}

int mxrtc_call_mode(int placing, int argc, char **argv) {
    memset(&g, 0, sizeof g);
    g.o.placing = placing != 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            mxrtc_call_mode_usage();
            return 0;
        }
    }
    if (parse_opts(argc, argv, &g.o) != 0) {
        mxrtc_call_mode_usage();
        return 2;
    }
    pthread_mutex_init(&g.out_lock, NULL);
    pthread_mutex_init(&g.st_lock, NULL);
    if (pipe(g.wake) != 0) return 1;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    mxrtc_logger lg = {log_fn, NULL, MXRTC_LOG_WARN};
    if (getenv("MXRTC_CALL_DEBUG")) lg.max_level = MXRTC_LOG_DEBUG;
    g.lg = lg;

    int status = 1;
    bool sync_started = false, runner_started = false;
    pthread_t sync_tid;
    g.start_us = mxrtc_net_now();
    g.ms.measure_audio = true;
    g.ms.measure_video = true;
    if (mxrtc_ms_open(&g.ms, &g.o.media, ms_log, NULL, g.start_us) != 0) goto out;

    /* Three clients, one per thread, created here (curl's global set-up is
     * not thread-safe). */
    if (new_client(&g.mxc_main, &g.http_main) || new_client(&g.mxc_sync, &g.http_sync) ||
        new_client(&g.mxc_send, &g.http_send)) {
        diag("cannot set up the HTTP client (bad --homeserver?)");
        goto out;
    }
    if (login() != MXRTC_OK || g.stop_signal) goto out;

    /* The runner: UDP sockets on every usable interface (loopback only when
     * nothing else is up), the calls engine, the media tick. */
    mxrtc_net_iface_options io;
    mxrtc_net_iface_options_init(&io);
    mxrtc_net_iface list[MXRTC_NET_MAX_UDP];
    size_t nif = 0;
    int irc = mxrtc_net_interfaces(&io, list, MXRTC_NET_MAX_UDP, &nif);
    if ((irc == MXRTC_OK || irc == MXRTC_ERR_LIMIT) && nif == 0) io.include_loopback = true;
    mxrtc_net_runner_config rc;
    mxrtc_net_runner_config_init(&rc);
    g.inner = mxrtc_net_calls_engine(&g.adapter, NULL);
    rc.engine = g.inner;
    if (g.o.drop) {
        mxrtc_net_engine w = {NULL, drop_datagram, drop_stream, drop_stream_closed, drop_timeout, drop_resolved,
                              drop_poll};
        rc.engine = w;
    }
    rc.on_event = on_event;
    rc.ifaces = io;
    rc.logger = lg;
    rc.max_commands = 256;
    int err = mxrtc_net_runner_new(&g.runner, &rc);
    if (err) {
        diag("runner: %s", mxrtc_strerror(err));
        goto out;
    }
    const mxrtc_addr *locals;
    size_t nl;
    mxrtc_net_runner_local_addrs(g.runner, &locals, &nl);
    mxrtc_peer_config pc;
    mxrtc_peer_config_init(&pc);
    pc.logger = lg;
    for (size_t i = 0; i < nl && pc.interface_count < MXRTC_PEER_MAX_INTERFACES; i++)
        pc.interfaces[pc.interface_count++] = locals[i];
    pc.relay_only = g.o.relay_only;
    mxrtc_calls_config cc;
    mxrtc_calls_config_init(&cc);
    cc.random = mxrtc_random_os();
    cc.logger = lg;
    cc.user_id = g.user_id;
    cc.device_id = g.device_id;
    cc.peer = &pc;
    /* --timeout on the caller: the invite lives no longer than that, so that
     * an unanswered call ends as invite_timeout (spec: the caller hangs up
     * with that reason when the lifetime runs out). */
    cc.invite_lifetime_ms = g.o.invite_lifetime_ms;
    if (g.o.placing && g.o.timeout_s > 0 && g.o.timeout_s * 1000 < cc.invite_lifetime_ms)
        cc.invite_lifetime_ms = (uint32_t)(g.o.timeout_s * 1000);
    if ((err = mxrtc_calls_new(&g.calls, &cc, mxrtc_net_now())) != MXRTC_OK) {
        diag("calls: %s", mxrtc_strerror(err));
        goto out;
    }
    g.adapter.calls = g.calls; /* the engine's user pointer is the adapter */
    mxrtc_net_calls_set_tick(&g.adapter, MXRTC_MS_TICK_US, tick, NULL);
    diag("%zu local address(es)", pc.interface_count);
    if ((err = mxrtc_net_runner_start(g.runner)) != MXRTC_OK) {
        diag("runner start: %s", mxrtc_strerror(err));
        goto out;
    }
    runner_started = true;
    if ((err = mxrtc_event_sender_start(&g.sender, g.mxc_send, CM_SENDQ, on_sent, NULL)) != MXRTC_OK) {
        diag("sender: %s", mxrtc_strerror(err));
        goto out;
    }

    /* TURN from the homeserver (spec "TURN server"): before the first call. */
    size_t n_uris = 0;
    if (fetch_turn(&n_uris) != MXRTC_OK && g.o.relay_only) goto out;
    if (g.o.relay_only && n_uris == 0) {
        diag("--relay-only: the homeserver hands out no TURN server");
        goto out;
    }
    if (g.o.room) {
        int jr = mxrtc_mxc_join(g.mxc_main, g.o.room);
        if (jr != MXRTC_OK) {
            diag("joining %s: %s", g.o.room, mxrtc_strerror(jr));
            goto out;
        }
    }

    /* The first sync: `ready` once it answered, then its events (history,
     * see the top of the file). */
    {
        /* Synapse keeps each /sync answer for 2 minutes under (user, device,
         * filter, since, timeout) and hands it out again for the same
         * request: a run soon after another with the same access token
         * would get that run's stale first sync, and then replay everything
         * since. A first sync does not wait, whatever its timeout, so a
         * per-run timeout value keeps the request a new one. */
        uint32_t first_timeout = 1 + (uint32_t)((mxrtc_net_now() / 1000) % 9973);
        mxrtc_mxc_sync s;
        int sr = mxrtc_mxc_sync_poll(g.mxc_sync, NULL, first_timeout, &s);
        if (sr != MXRTC_OK) {
            diag("first sync: %s", mxrtc_strerror(sr));
            goto out;
        }
        mxrtc_time_us at = mxrtc_net_now();
        g_since = s.next_batch ? strdup(s.next_batch) : NULL;
        cJSON *j = event_obj("ready", NULL);
        cJSON_AddStringToObject(j, "user_id", g.user_id);
        cJSON_AddStringToObject(j, "device_id", g.device_id);
        emit(j);
        join_invites(g.mxc_sync, &s);
        feed_sync(&s, at);
        mxrtc_mxc_sync_clear(&s);
    }
    if (pthread_create(&sync_tid, NULL, sync_thread, NULL) != 0) goto out;
    sync_started = true;
    if (g.stop_signal) {
        diag("signal before the call: leaving");
        goto out;
    }
    if (g.o.placing) {
        int pr = io_simple(C_PLACE, 0, 0);
        if (pr != MXRTC_OK) {
            diag("placing the call: %s", mxrtc_strerror(pr));
            goto out;
        }
        diag("calling in %s%s", g.o.room, g.o.video ? " with video" : "");
    }

    /* The main loop: stdin commands, wake-ups, timers, signals. */
    char *buf = NULL;
    size_t blen = 0, bcap = 0;
    bool eof = !g.o.commands, hung_up = false, timed_out = false, drop_started = false, drop_ended = false;
    mxrtc_time_us hangup_at = 0;
    for (;;) {
        struct pollfd fds[2] = {{g.wake[0], POLLIN, 0}, {eof ? -1 : 0, POLLIN, 0}};
        int n = poll(fds, 2, 100);
        if (n < 0 && errno != EINTR) break;
        if (fds[0].revents & POLLIN) {
            char tmp[64];
            ssize_t r = read(g.wake[0], tmp, sizeof tmp);
            (void)r;
        }
        mxrtc_time_us now = mxrtc_net_now();
        pthread_mutex_lock(&g.st_lock);
        bool ended = g.ended, refresh = g.turn_refresh, stop = g.threads_stop, have_call = g.call_id[0] != 0;
        mxrtc_time_us connected = g.connected_us, ref = g.ref_us;
        mxrtc_call_state state = g.state;
        g.turn_refresh = false;
        pthread_mutex_unlock(&g.st_lock);
        if (ended) break;
        if (stop) {
            diag("the homeserver is gone");
            break;
        }
        if (refresh) fetch_turn(&n_uris);
        if (g.stop_signal && !hung_up) {
            diag("signal: hanging up");
            hung_up = true;
            hangup_at = now;
            if (!have_call || io_simple(C_HANGUP, 0, 0) != MXRTC_OK) break;
        }
        if (hung_up && now > hangup_at + 10000000) {
            diag("no end after the hangup: leaving");
            break;
        }
        /* An unanswered invite of ours expires by itself (invite_timeout,
         * its lifetime was cut to --timeout from the moment it was placed):
         * wait for that, with a margin, before hanging up by hand. */
        mxrtc_time_us tmo_from = g.start_us, tmo_grace = 0;
        if (g.o.placing && state == MXRTC_CALL_STATE_INVITE_SENT && ref) tmo_from = ref, tmo_grace = 2000000;
        if (g.o.timeout_s > 0 && !connected && !timed_out &&
            now > tmo_from + (mxrtc_time_us)(g.o.timeout_s * 1e6) + tmo_grace) {
            diag("not connected after %.1f s: giving up", g.o.timeout_s);
            timed_out = true;
            hung_up = true;
            hangup_at = now;
            if (!have_call || io_simple(C_HANGUP, 0, 0) != MXRTC_OK) break;
        }
        if (connected && g.o.duration_s > 0 && !hung_up && now >= connected + (mxrtc_time_us)(g.o.duration_s * 1e6)) {
            diag("--duration reached: hanging up");
            hung_up = true;
            hangup_at = now;
            if (io_simple(C_HANGUP, 0, 0) != MXRTC_OK) break;
        }
        if (connected && g.o.drop) {
            mxrtc_time_us t0 = connected + (mxrtc_time_us)(g.o.drop_at_s * 1e6);
            mxrtc_time_us t1 = t0 + (mxrtc_time_us)(g.o.drop_for_s * 1e6);
            if (!drop_started && now >= t0) {
                drop_started = true;
                io_simple(C_DROP, 1, 0);
            }
            if (drop_started && !drop_ended && now >= t1) {
                drop_ended = true;
                io_simple(C_DROP, 0, 0);
            }
        }
        if (!eof && (fds[1].revents & (POLLIN | POLLHUP))) {
            if (bcap - blen < 4096) {
                size_t nc = bcap ? bcap * 2 : 16384;
                if (nc > (1u << 20)) {
                    diag("command line too long: dropped");
                    blen = 0;
                    nc = bcap;
                }
                char *nb = realloc(buf, nc);
                if (!nb) break;
                buf = nb;
                bcap = nc;
            }
            ssize_t r = read(0, buf + blen, bcap - blen - 1);
            if (r <= 0) {
                if (r == 0 || errno != EINTR) eof = true;
            } else {
                blen += (size_t)r;
            }
            char *start = buf, *nlp;
            while ((nlp = memchr(start, '\n', (size_t)(buf + blen - start)))) {
                *nlp = '\0';
                if (nlp > start) cmdq_push(start);
                start = nlp + 1;
            }
            blen = (size_t)(buf + blen - start);
            memmove(buf, start, blen);
        }
        cmdq_run(now);
    }
    free(buf);
    cmdq_clear();

    /* Let the hangup/reject (and everything before it) reach the server. */
    if (!mxrtc_event_sender_flush(g.sender, mxrtc_net_now() + CM_SEND_FLUSH_US))
        diag("some events were not sent before exiting");
    pthread_mutex_lock(&g.st_lock);
    bool ended = g.ended, ended_here = g.ended && !g.remote_ended, hangup_sent = g.hangup_sent;
    mxrtc_call_end_reason why = g.end_reason;
    pthread_mutex_unlock(&g.st_lock);
    if (ended_here && !hangup_sent) diag("our hangup did not reach the homeserver");
    mxrtc_event_sender_counts sc;
    mxrtc_event_sender_get_counts(g.sender, &sc);
    diag("%llu events to send, %llu gone out (or failed)", (unsigned long long)sc.queued,
         (unsigned long long)sc.done);
    if (sc.dropped) diag("%llu events were never sent (queue full)", (unsigned long long)sc.dropped);
    /* The ended call's peer releases its TURN allocations (Refresh(0),
     * RFC 8656 §7.2) while the runner still runs: wait for it. */
    if (runner_started && !mxrtc_tool_wait_teardown(g.runner, call_closing, NULL, MXRTC_TOOL_TEARDOWN_WAIT_US))
        diag("TURN allocations not all released before exiting");
    status = ended && !timed_out && exit_ok(why) ? 0 : 1;
out:
    /* The result, once, on the I/O thread if it runs (it owns the session). */
    if (!runner_started) result_cmd(NULL, 0);
    else mxrtc_net_runner_call_wait(g.runner, result_cmd, NULL);
    pthread_mutex_lock(&g.st_lock);
    g.threads_stop = true;
    pthread_mutex_unlock(&g.st_lock);
    if (sync_started) pthread_join(sync_tid, NULL);
    /* The runner first (no more events to send), then the sender. */
    mxrtc_net_runner_free(g.runner);
    mxrtc_net_calls_cleanup(&g.adapter);
    mxrtc_event_sender_stop(g.sender);
    mxrtc_calls_free(g.calls);
    mxrtc_ms_close(&g.ms);
    mxrtc_mxc_free(g.mxc_main);
    mxrtc_mxc_free(g.mxc_sync);
    mxrtc_mxc_free(g.mxc_send);
    if (g.http_main.perform) mxrtc_mxc_http_curl_free(&g.http_main);
    if (g.http_sync.perform) mxrtc_mxc_http_curl_free(&g.http_sync);
    if (g.http_send.perform) mxrtc_mxc_http_curl_free(&g.http_send);
    free(g_since);
    g_since = NULL;
    close(g.wake[0]);
    close(g.wake[1]);
    return status;
}
