/*
 * peer_mode.c: `mxrtc peer`, one side of a call driven by JSON-lines
 * signalling on stdin/stdout (docs/interop.md, "The signalling protocol"):
 * offer/answer/candidate/end-of-candidates/bye in and out, `ready` once,
 * `result` when the media checks are done. Diagnostics and live stats go to
 * stderr only; credentials are never printed.
 *
 * Threads: the main thread reads stdin and hands every signalling step to
 * the runner's I/O thread (mxrtc_net_runner_call_wait: one peer input per
 * command, the runner drains after each). Media is paced on the I/O thread
 * by the peer engine's tick (net/engine_peer.h): every 10 ms one audio
 * frame is pushed and 10 ms of playout pulled, every 1/30 s a picture
 * pushed; the clock is the runner's monotonic clock, nothing sleeps.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mxrtc.h"
#include "net/clock.h"
#include "net/engine_peer.h"
#include "net/interfaces.h"
#include "net/runner.h"
#include "codecs/codec.h"
#include "peer/peer.h"
#include "stun/turn_uri.h"
#include "tools/media/media.h"
#include "tools/media_session.h"
#include "tools/peer_mode.h"
#include "tools/teardown_wait.h"

#define PM_SDP_MAX 65536

typedef struct pm_opts {
    bool offer, answer, renegotiate, relay_only, hangup, mdns_off;
    mxrtc_ms_opts media;
    const char *turn, *turn_user, *turn_pass;
    const char *name;
    double timeout_s;
} pm_opts;

typedef struct pm {
    pm_opts o;
    mxrtc_net_runner *runner;
    mxrtc_net_peer adapter;
    mxrtc_peer *peer;
    pthread_mutex_t out_lock;        /* stdout and stderr lines */
    int wake[2];                     /* I/O thread -> main: something to do */
    volatile sig_atomic_t stop_signal;

    /* ---- I/O thread only below ---- */
    mxrtc_time_us start_us, next_stats_us;
    mxrtc_media_session ms;          /* sources, sinks, measurements */
    int tick_step;                   /* 0: audio, 1: video, 2: done */
    bool result_written;
    bool video_started;              /* renegotiation offer made */
    int reneg_step;                  /* 0: none, 1: create offer, 2: set local */
    mxrtc_peer_state state;
    bool want_exit;                  /* --hangup: done; main thread hangs up */
} pm;

static pm g;

/* ---- output ------------------------------------------------------------- */

static void emit(cJSON *j) {
    char *s = cJSON_PrintUnformatted(j);
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

static void emit_type(const char *type) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", type);
    emit(j);
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&g.out_lock);
    fprintf(stderr, "[%s] ", g.o.name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&g.out_lock);
    va_end(ap);
}

static void wake_main(void) {
    char c = 1;
    ssize_t n = write(g.wake[1], &c, 1);
    (void)n;
}

static const char *state_name(mxrtc_peer_state s) {
    static const char *n[] = {"new", "connecting", "connected", "disconnected", "failed", "closed"};
    return (unsigned)s < 6 ? n[s] : "?";
}

/* ---- media (I/O thread): tools/media_session.h ---------------------------- */

static void ms_log(void *user, const char *line) {
    (void)user;
    diag("%s", line);
}

static void write_result(void) {
    mxrtc_peer_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    mxrtc_peer_get_stats(g.peer, &st);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", "result");
    if (g.o.media.audio_hz > 0) {
        cJSON_AddNumberToObject(j, "audio_hz", round(g.ms.audio_hz * 100) / 100);
        cJSON_AddNumberToObject(j, "first_audio_ms", (double)g.ms.first_audio_ms);
    }
    if (g.o.media.have_rgb) {
        int rgb[3] = {g.ms.video_rgb[0], g.ms.video_rgb[1], g.ms.video_rgb[2]};
        cJSON_AddItemToObject(j, "video_rgb", cJSON_CreateIntArray(rgb, 3));
        cJSON_AddNumberToObject(j, "frames_decoded", (double)st.video_in.frames);
    }
    cJSON_AddNumberToObject(j, "packets_received", (double)(st.audio_in.packets + st.video_in.packets));
    cJSON_AddNumberToObject(j, "audio_packets_received", (double)st.audio_in.packets);
    cJSON_AddNumberToObject(j, "video_packets_received", (double)st.video_in.packets);
    cJSON_AddNumberToObject(j, "packets_sent", (double)(st.audio_out.packets + st.video_out.packets));
    cJSON_AddNumberToObject(j, "bytes_received", (double)(st.audio_in.bytes + st.video_in.bytes));
    emit(j);
    g.result_written = true;
    diag("result written");
    if (g.o.hangup) {
        g.want_exit = true;
        wake_main();
    }
}

static void check_done(void) {
    if (g.result_written) return;
    bool audio_ok = g.o.media.audio_hz <= 0 || g.ms.audio_done;
    bool video_ok = !g.o.media.have_rgb || g.ms.video_done;
    if (audio_ok && video_ok) write_result();
}

static void push_video(mxrtc_time_us now) {
    if (g.ms.ivf_in_open) {
        /* Encoded frames: wait for the connection (frames pushed before it
         * are dropped, and the keyframe with them). */
        if (g.state != MXRTC_PEER_STATE_CONNECTED) return;
        const uint8_t *data;
        uint32_t size = 0;
        int key = 0;
        if (mxrtc_ms_next_encoded(&g.ms, &data, &size, &key))
            mxrtc_peer_push_encoded(g.peer, now, MXRTC_MEDIA_VIDEO, data, size, now, key);
        return;
    }
    mxrtc_picture pic;
    if (mxrtc_ms_next_picture(&g.ms, now, &pic)) mxrtc_peer_push_video(g.peer, now, &pic);
}

static bool tick(void *user, mxrtc_peer *p, mxrtc_time_us now, int first) {
    (void)user;
    (void)p;
    if (first) g.tick_step = 0;
    switch (g.tick_step++) {
    case 0: {
        int16_t pcm[MXRTC_MS_FRAME];
        mxrtc_ms_next_audio(&g.ms, pcm);
        mxrtc_peer_push_audio(g.peer, now, pcm, MXRTC_MS_FRAME);
        if (mxrtc_peer_pull_audio(g.peer, now, pcm, MXRTC_MS_FRAME) == MXRTC_OK) {
            mxrtc_ms_playout(&g.ms, now, pcm, MXRTC_MS_FRAME);
            if (g.ms.audio_done) check_done();
        }
        mxrtc_peer_stats st;
        memset(&st, 0, sizeof st);
        st.size = sizeof st;
        if (now >= g.next_stats_us && mxrtc_peer_get_stats(g.peer, &st) == MXRTC_OK)
            mxrtc_ms_stats(&g.ms, now, state_name(st.state), &st, &g.next_stats_us);
        mxrtc_ms_tick(&g.ms, now);
        if (g.ms.video_done) check_done();
        return true;
    }
    case 1:
        if (mxrtc_ms_sends_video(&g.ms) && mxrtc_ms_video_due(&g.ms, now)) push_video(now);
        return true;
    case 2:
        /* Renegotiation (--renegotiate, offerer): add video once audio is heard. */
        if (g.o.renegotiate && !g.video_started && g.ms.first_audio_us && g.state == MXRTC_PEER_STATE_CONNECTED) {
            g.video_started = true;
            g.reneg_step = 1;
            wake_main();
        }
        return false;
    default:
        return false;
    }
}

static void on_video_frame(const mxrtc_picture *pic, mxrtc_time_us now) {
    uint8_t cs[4];
    bool have_cs = mxrtc_peer_video_colour_space(g.peer, cs) == MXRTC_OK;
    mxrtc_ms_video_frame(&g.ms, now, pic, have_cs ? cs : NULL);
}

static void on_event(void *user, mxrtc_net_runner *r, const void *event) {
    (void)user;
    (void)r;
    const mxrtc_peer_output *o = event;
    mxrtc_time_us now = mxrtc_net_now();
    switch (o->event) {
    case MXRTC_PEER_EV_LOCAL_CANDIDATE: {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "type", "candidate");
        cJSON_AddStringToObject(j, "candidate", o->text ? o->text : "");
        cJSON_AddStringToObject(j, "sdpMid", o->mid ? o->mid : "0");
        cJSON_AddNumberToObject(j, "sdpMLineIndex", 0);
        emit(j);
        break;
    }
    case MXRTC_PEER_EV_GATHERING_DONE:
        emit_type("end-of-candidates");
        break;
    case MXRTC_PEER_EV_STATE:
        g.state = o->state;
        diag("state %s", state_name(o->state));
        break;
    case MXRTC_PEER_EV_DTLS_STATE:
        diag("dtls state %d", (int)o->dtls_state);
        break;
    case MXRTC_PEER_EV_REMOTE_TRACK:
        diag("remote %s track on mid %s", o->media == MXRTC_MEDIA_AUDIO ? "audio" : "video", o->mid ? o->mid : "-");
        break;
    case MXRTC_PEER_EV_VIDEO_FRAME:
        on_video_frame(&o->picture, now);
        break;
    default:
        break;
    }
}

/* ---- commands (run on the I/O thread) -------------------------------------- */

typedef struct pm_cmd {
    int kind;
    mxrtc_sdp_type type;
    const char *sdp;
    size_t len;
    const char *mid, *line;
    char *out;                       /* create: the SDP text */
    size_t out_len;
    int rc;
} pm_cmd;

enum { CMD_CREATE_OFFER, CMD_CREATE_ANSWER, CMD_SET_LOCAL, CMD_SET_REMOTE, CMD_CANDIDATE, CMD_CLOSE,
       CMD_NOOP, CMD_VIDEO_ON };

static void run_cmd(void *arg, mxrtc_time_us now) {
    pm_cmd *c = arg;
    if (now == MXRTC_TIME_NEVER) {
        c->rc = MXRTC_ERR_CLOSED;
        return;
    }
    switch (c->kind) {
    case CMD_VIDEO_ON:
        c->rc = mxrtc_peer_set_direction(g.peer, MXRTC_MEDIA_VIDEO, MXRTC_DIR_SENDRECV);
        if (c->rc == MXRTC_OK) c->rc = mxrtc_peer_create_offer(g.peer, now, c->out, PM_SDP_MAX, &c->out_len);
        break;
    case CMD_CREATE_OFFER:
        g.ms.ref_us = g.ms.ref_us ? g.ms.ref_us : now;
        c->rc = mxrtc_peer_create_offer(g.peer, now, c->out, PM_SDP_MAX, &c->out_len);
        break;
    case CMD_CREATE_ANSWER:
        c->rc = mxrtc_peer_create_answer(g.peer, now, c->out, PM_SDP_MAX, &c->out_len);
        break;
    case CMD_SET_LOCAL:
        c->rc = mxrtc_peer_set_local_description(g.peer, now);
        break;
    case CMD_SET_REMOTE:
        if (c->type == MXRTC_SDP_OFFER && !g.ms.ref_us) g.ms.ref_us = now;
        c->rc = mxrtc_peer_set_remote_description(g.peer, now, c->type, c->sdp, c->len);
        break;
    case CMD_CANDIDATE:
        c->rc = mxrtc_peer_add_remote_candidate(g.peer, now, c->mid, c->line);
        break;
    case CMD_CLOSE:
        c->rc = mxrtc_peer_close(g.peer, now);
        break;
    default:
        c->rc = MXRTC_OK;
        break;
    }
}

/* On the I/O thread: does the closed peer still release its TURN
 * allocations? (0 at once when it had none.) */
static bool peer_closing(void *user, mxrtc_time_us now) {
    (void)user;
    (void)now;
    mxrtc_peer_stats st = {.size = sizeof st};
    return mxrtc_peer_get_stats(g.peer, &st) == MXRTC_OK && st.closing;
}

static int call(pm_cmd *c) {
    int rc = mxrtc_net_runner_call_wait(g.runner, run_cmd, c);
    return rc ? rc : c->rc;
}

static int send_description(int create_kind, const char *type) {
    pm_cmd c = {.kind = create_kind};
    c.out = malloc(PM_SDP_MAX);
    if (!c.out) return MXRTC_ERR_NO_MEMORY;
    int rc = call(&c);
    if (rc == MXRTC_OK) {
        pm_cmd l = {.kind = CMD_SET_LOCAL};
        rc = call(&l);
    }
    if (rc == MXRTC_OK) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "type", type);
        cJSON_AddStringToObject(j, "sdp", c.out);
        emit(j);
    } else {
        diag("%s failed: %s", type, mxrtc_strerror(rc));
    }
    free(c.out);
    return rc;
}

static void handle_line(const char *line, bool *bye) {
    cJSON *j = cJSON_Parse(line);
    if (!j || !cJSON_IsObject(j)) {
        diag("malformed line ignored");
        cJSON_Delete(j);
        return;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
    const char *type = cJSON_IsString(t) ? t->valuestring : "";
    if (!strcmp(type, "offer") || !strcmp(type, "answer")) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "sdp");
        if (!cJSON_IsString(s)) {
            diag("%s without sdp ignored", type);
        } else {
            bool offer = !strcmp(type, "offer");
            pm_cmd c = {.kind = CMD_SET_REMOTE, .type = offer ? MXRTC_SDP_OFFER : MXRTC_SDP_ANSWER,
                        .sdp = s->valuestring, .len = strlen(s->valuestring)};
            int rc = call(&c);
            if (rc) diag("remote %s refused: %s", type, mxrtc_strerror(rc));
            else if (offer) send_description(CMD_CREATE_ANSWER, "answer");
        }
    } else if (!strcmp(type, "candidate")) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "candidate");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "sdpMid");
        if (cJSON_IsString(s)) {
            pm_cmd c = {.kind = CMD_CANDIDATE, .line = s->valuestring, .mid = cJSON_IsString(m) ? m->valuestring : NULL};
            int rc = call(&c);
            if (rc) diag("candidate refused: %s", mxrtc_strerror(rc));
        }
    } else if (!strcmp(type, "end-of-candidates")) {
        pm_cmd c = {.kind = CMD_CANDIDATE, .line = NULL};
        call(&c);
    } else if (!strcmp(type, "bye")) {
        diag("bye received");
        *bye = true;
    }
    cJSON_Delete(j);
}

/* ---- set-up ------------------------------------------------------------------ */

static void usage_peer(void) {
    fprintf(stderr,
            "usage: mxrtc peer --offer|--answer [--audio-hz N] [--video-rgb R,G,B]\n"
            "                  [--audio-file WAV] [--video-file Y4M|IVF] [--record-audio WAV]\n"
            "                  [--record-video Y4M|IVF] [--renegotiate] [--relay-only]\n"
            "                  [--turn URI --turn-user U --turn-pass P] [--mdns on|off]\n"
            "                  [--video-size WxH] [--hangup] [--timeout S] [--name X]\n");
}

static int parse_opts(int argc, char **argv, pm_opts *o) {
    memset(o, 0, sizeof *o);
    o->name = "mxrtc";
    o->timeout_s = 60;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int m = mxrtc_ms_parse_opt(&o->media, "mxrtc peer", argc, argv, &i);
        if (m < 0) return -1;
        if (m > 0) continue;
#define VAL() (i + 1 < argc ? argv[++i] : NULL)
        const char *v = NULL;
        if (!strcmp(a, "--offer")) o->offer = true;
        else if (!strcmp(a, "--answer")) o->answer = true;
        else if (!strcmp(a, "--renegotiate")) o->renegotiate = true;
        else if (!strcmp(a, "--relay-only")) o->relay_only = true;
        else if (!strcmp(a, "--hangup")) o->hangup = true;
        else if (!strcmp(a, "--turn") && (v = VAL())) o->turn = v;
        else if (!strcmp(a, "--turn-user") && (v = VAL())) o->turn_user = v;
        else if (!strcmp(a, "--turn-pass") && (v = VAL())) o->turn_pass = v;
        else if (!strcmp(a, "--mdns") && (v = VAL())) o->mdns_off = !strcmp(v, "off");
        else if (!strcmp(a, "--timeout") && (v = VAL())) o->timeout_s = atof(v);
        else if (!strcmp(a, "--name") && (v = VAL())) o->name = v;
        else {
            fprintf(stderr, "mxrtc peer: unknown option or missing value: %s\n", a);
            return -1;
        }
#undef VAL
    }
    if (o->offer == o->answer) {
        fprintf(stderr, "mxrtc peer: exactly one of --offer/--answer\n");
        return -1;
    }
    if (mxrtc_ms_check_opts(&o->media, "mxrtc peer") != 0) return -1;
    if (o->relay_only && !o->turn) {
        fprintf(stderr, "mxrtc peer: --relay-only needs --turn\n");
        return -1;
    }
    return 0;
}

static int setup_turn(mxrtc_peer_config *cfg) {
    mxrtc_turn_uri u;
    if (mxrtc_turn_uri_parse(&u, g.o.turn, strlen(g.o.turn)) != MXRTC_OK || !mxrtc_turn_uri_is_turn(&u)) {
        diag("--turn: not a turn: URI");
        return -1;
    }
    mxrtc_addr a;
    if (u.host_is_ip) {
        a = u.addr;
    } else {
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        if (getaddrinfo(u.host, NULL, &hints, &res) != 0 || !res) {
            diag("--turn: cannot resolve the host");
            return -1;
        }
        char ip[64];
        getnameinfo(res->ai_addr, res->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST);
        freeaddrinfo(res);
        if (mxrtc_addr_parse(&a, ip, u.port) != MXRTC_OK) return -1;
    }
    mxrtc_peer_turn_server *t = &cfg->turn_servers[0];
    t->addr = a;
    t->proto = u.secure ? MXRTC_TURN_PROTO_TLS
                        : (u.transport == MXRTC_URI_TRANSPORT_TCP ? MXRTC_TURN_PROTO_TCP : MXRTC_TURN_PROTO_UDP);
    t->username = g.o.turn_user ? g.o.turn_user : "";
    t->password = g.o.turn_pass ? g.o.turn_pass : "";
    t->tls_server_name = u.host_is_ip ? NULL : u.host;
    cfg->turn_server_count = 1;
    cfg->relay_only = g.o.relay_only;
    diag("TURN server over %s (credentials not shown)", t->proto == MXRTC_TURN_PROTO_UDP ? "UDP" : "TCP/TLS");
    return 0;
}

static void on_signal(int sig) {
    (void)sig;
    g.stop_signal = 1;
    char c = 2;
    ssize_t n = write(g.wake[1], &c, 1);
    (void)n;
}

static void log_fn(void *user, mxrtc_log_level level, const char *module, const char *message) {
    (void)user;
    diag("%s %s: %s", level <= MXRTC_LOG_WARN ? "warn" : "info", module, message);
}

int mxrtc_peer_mode(int argc, char **argv) {
    memset(&g, 0, sizeof g);
    if (parse_opts(argc, argv, &g.o) != 0) {
        usage_peer();
        return 2;
    }
    pthread_mutex_init(&g.out_lock, NULL);
    if (pipe(g.wake) != 0) return 1;
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int status = 1;
    g.ms.measure_audio = g.o.media.audio_hz > 0;
    g.ms.measure_video = g.o.media.have_rgb;
    if (mxrtc_ms_open(&g.ms, &g.o.media, ms_log, NULL, mxrtc_net_now()) != 0) goto out;

    /* Interfaces: every usable one; loopback only when nothing else is up
     * (a namespace with only lo). */
    mxrtc_net_iface_options io;
    mxrtc_net_iface_options_init(&io);
    mxrtc_net_iface list[MXRTC_NET_MAX_UDP];
    size_t nif = 0;
    int irc = mxrtc_net_interfaces(&io, list, MXRTC_NET_MAX_UDP, &nif);
    if ((irc == MXRTC_OK || irc == MXRTC_ERR_LIMIT) && nif == 0) io.include_loopback = true;

    mxrtc_net_runner_config rc;
    mxrtc_net_runner_config_init(&rc);
    rc.engine = mxrtc_net_peer_engine(&g.adapter, NULL);
    rc.on_event = on_event;
    rc.ifaces = io;
    mxrtc_logger lg = {log_fn, NULL, MXRTC_LOG_WARN};
    if (getenv("MXRTC_PEER_DEBUG")) lg.max_level = MXRTC_LOG_DEBUG;
    rc.logger = lg;
    int err = mxrtc_net_runner_new(&g.runner, &rc);
    if (err) {
        diag("runner: %s", mxrtc_strerror(err));
        goto out;
    }
    const mxrtc_addr *locals;
    size_t nl;
    mxrtc_net_runner_local_addrs(g.runner, &locals, &nl);

    mxrtc_peer_config cfg;
    mxrtc_peer_config_init(&cfg);
    cfg.logger = lg;
    for (size_t i = 0; i < nl && cfg.interface_count < MXRTC_PEER_MAX_INTERFACES; i++)
        cfg.interfaces[cfg.interface_count++] = locals[i];
    diag("%zu local address(es)", cfg.interface_count);
    cfg.audio = MXRTC_DIR_SENDRECV;
    cfg.video = mxrtc_ms_sends_video(&g.ms) && !g.o.renegotiate ? MXRTC_DIR_SENDRECV : MXRTC_DIR_NONE;
    if (g.o.answer && mxrtc_ms_sends_video(&g.ms)) cfg.video = MXRTC_DIR_SENDRECV;
    if (g.o.turn && setup_turn(&cfg) != 0) goto out;
    g.start_us = mxrtc_net_now();
    err = mxrtc_peer_new(&g.peer, &cfg, g.start_us);
    if (err) {
        diag("peer: %s", mxrtc_strerror(err));
        goto out;
    }
    g.adapter.peer = g.peer;
    mxrtc_net_peer_set_tick(&g.adapter, MXRTC_MS_TICK_US, tick, NULL);
    if ((err = mxrtc_net_runner_start(g.runner)) != MXRTC_OK) {
        diag("runner start: %s", mxrtc_strerror(err));
        goto out;
    }
    emit_type("ready");
    if (g.o.offer && send_description(CMD_CREATE_OFFER, "offer") != MXRTC_OK) goto out;

    /* Signalling loop: stdin lines, wake-ups from the I/O thread, signals. */
    char *buf = NULL;
    size_t blen = 0, bcap = 0;
    bool bye = false, eof = false, timed_out = false;
    mxrtc_time_us deadline = g.start_us + (mxrtc_time_us)(g.o.timeout_s * 1e6) + 30000000;
    while (!bye && !eof && !g.stop_signal) {
        struct pollfd fds[2] = {{0, POLLIN, 0}, {g.wake[0], POLLIN, 0}};
        int n = poll(fds, 2, 200);
        if (n < 0 && errno != EINTR) break;
        if (mxrtc_net_now() > deadline && !g.result_written) {
            diag("timed out without a result");
            timed_out = true;
            break;
        }
        if (fds[1].revents & POLLIN) {
            char tmp[16];
            ssize_t r = read(g.wake[0], tmp, sizeof tmp);
            (void)r;
        }
        /* Read flags the I/O thread set (reneg_step, want_exit) through a
         * no-op command: it orders our view after the thread's writes. */
        pm_cmd nop = {.kind = CMD_NOOP};
        if (fds[1].revents & POLLIN) call(&nop);
        if (g.reneg_step == 1) {
            g.reneg_step = 0;
            diag("adding video: renegotiating");
            send_description(CMD_VIDEO_ON, "offer");
        }
        if (g.want_exit) {
            emit_type("bye");
            break;
        }
        if (fds[0].revents & (POLLIN | POLLHUP)) {
            if (bcap - blen < 4096) {
                size_t nc = bcap ? bcap * 2 : 65536;
                if (nc > (1u << 22)) {
                    diag("signalling line too long: dropped");
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
                if (r == 0) eof = true;
                else if (errno != EINTR) eof = true;
            } else {
                blen += (size_t)r;
            }
            char *start = buf, *nlp;
            while (!bye && (nlp = memchr(start, '\n', (size_t)(buf + blen - start)))) {
                *nlp = '\0';
                if (nlp > start) handle_line(start, &bye);
                start = nlp + 1;
            }
            blen = (size_t)(buf + blen - start);
            memmove(buf, start, blen);
        }
    }
    free(buf);
    if (eof) diag("stdin closed: hanging up");
    if (g.stop_signal) diag("signal: hanging up");
    /* Clean hang-up: RTCP BYE and close_notify, drained by the runner. */
    pm_cmd c = {.kind = CMD_CLOSE};
    call(&c);
    pm_cmd nop = {.kind = CMD_NOOP};
    call(&nop);
    /* Then the Refresh(0) of every TURN allocation, answered (RFC 8656
     * §7.2), before the runner's sockets and TCP connections go. */
    if (!mxrtc_tool_wait_teardown(g.runner, peer_closing, NULL, MXRTC_TOOL_TEARDOWN_WAIT_US))
        diag("TURN allocations not all released before exiting");
    status = timed_out ? 1 : 0;
out:
    mxrtc_net_runner_free(g.runner);
    mxrtc_peer_free(g.peer);
    mxrtc_ms_close(&g.ms);
    close(g.wake[0]);
    close(g.wake[1]);
    return status;
}
