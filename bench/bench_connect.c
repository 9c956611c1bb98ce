/*
 * bench_connect.c: section 1 of BENCHMARKS.md for mxrtc. Two peers in this
 * process, each on its own net/ runner (its own UDP sockets on this
 * machine's interfaces and its own I/O thread, as `mxrtc peer` runs one),
 * signalled in memory: the offer, the answer and every trickled candidate
 * are handed to the other runner as commands. Audio only (Opus), a 440 Hz
 * tone pushed every 10 ms by the runner's tick, as tools/peer_mode.c does.
 *
 * Per run: from just before mxrtc_peer_create_offer on the offerer to the
 * first SRTP packet the answerer decrypted, read from the answerer's
 * statistics right after the datagram that carried it was handled (the
 * engine's handle_datagram is wrapped: exact to the datagram, no polling).
 * Also the answerer's CONNECTED state (ICE + DTLS done) for reference.
 *
 *   bench_connect RUNS        prints `run i: connect_ms=...` and the median
 *
 * MXRTC_BENCH_LOG=1 prints both peers' debug log to stderr, each line with
 * the milliseconds since the offer (where the time goes).
 *
 * A timing on a shared machine: printed, never asserted.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mxrtc.h"
#include "net/clock.h"
#include "net/engine_peer.h"
#include "net/interfaces.h"
#include "net/runner.h"
#include "tools/media/media.h"

#define BC_SDP_MAX 65536
#define BC_RATE 48000
#define BC_FRAME 480     /* 10 ms */
#define BC_TICK_US 10000
#define BC_PENDING_MAX 64

typedef struct bc_side bc_side;

struct bc_side {
    int index;
    mxrtc_net_runner *runner;
    mxrtc_net_peer adapter;
    mxrtc_net_engine inner;          /* the peer engine the wrapper calls */
    mxrtc_peer *peer;
    mxrtc_tone tone;
    bc_side *other;
    /* Candidates that arrive before this side has the remote description
     * (guarded by `lock`, shared with the main thread). */
    pthread_mutex_t *lock;
    int remote_set;
    char *pending[BC_PENDING_MAX];
    int n_pending;
    /* I/O thread of this side only */
    mxrtc_time_us first_decrypted_us, connected_us;
};

typedef struct bc_run {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bc_side s[2];
    int done;                        /* answerer decrypted its first packet, or failed */
    int failed;
} bc_run;

static bc_run R;
static mxrtc_time_us g_t0;           /* the current run's offer time, for the log */

static void log_fn(void *user, mxrtc_log_level level, const char *module, const char *message) {
    (void)level;
    bc_side *s = user;
    fprintf(stderr, "[%s %8.2f ms] %s: %s\n", s->index ? "answerer" : "offerer",
            g_t0 ? (double)(mxrtc_net_now() - g_t0) / 1000.0 : 0.0, module, message);
}

/* ---- commands on a side's I/O thread ------------------------------------- */

typedef struct bc_cmd {
    bc_side *side;
    int kind;                        /* 0 candidate line (NULL: end), 1 offer, 2 answer, 3 set remote */
    char *line;                      /* candidate (owned) */
    mxrtc_sdp_type type;
    const char *sdp;
    char *out;
    size_t out_len;
    int rc;
} bc_cmd;

static void run_cmd(void *arg, mxrtc_time_us now) {
    bc_cmd *c = arg;
    if (now == MXRTC_TIME_NEVER) {
        if (c->kind == 0) {
            free(c->line);
            free(c);
        }
        return;
    }
    mxrtc_peer *p = c->side->peer;
    switch (c->kind) {
    case 0:
        mxrtc_peer_add_remote_candidate(p, now, "0", c->line);
        free(c->line);
        free(c);
        return;
    case 1:
        c->rc = mxrtc_peer_create_offer(p, now, c->out, BC_SDP_MAX, &c->out_len);
        if (c->rc == MXRTC_OK) c->rc = mxrtc_peer_set_local_description(p, now);
        break;
    case 2:
        c->rc = mxrtc_peer_create_answer(p, now, c->out, BC_SDP_MAX, &c->out_len);
        if (c->rc == MXRTC_OK) c->rc = mxrtc_peer_set_local_description(p, now);
        break;
    case 3:
        c->rc = mxrtc_peer_set_remote_description(p, now, c->type, c->sdp, strlen(c->sdp));
        break;
    default:
        break;
    }
}

/* Hands a candidate (NULL: end of candidates) to `to`, now or once it has
 * the remote description. Any thread. */
static void give_candidate(bc_side *to, const char *line) {
    char *copy = line ? strdup(line) : NULL;
    if (line && !copy) return;
    pthread_mutex_lock(to->lock);
    if (!to->remote_set) {
        if (to->n_pending < BC_PENDING_MAX) to->pending[to->n_pending++] = copy;
        else free(copy);
        pthread_mutex_unlock(to->lock);
        return;
    }
    pthread_mutex_unlock(to->lock);
    bc_cmd *c = calloc(1, sizeof *c);
    if (!c) {
        free(copy);
        return;
    }
    c->side = to;
    c->kind = 0;
    c->line = copy;
    if (mxrtc_net_runner_call(to->runner, run_cmd, c) != MXRTC_OK) {
        free(copy);
        free(c);
    }
}

static void remote_is_set(bc_side *s) {
    pthread_mutex_lock(s->lock);
    s->remote_set = 1;
    int n = s->n_pending;
    char *list[BC_PENDING_MAX];
    memcpy(list, s->pending, sizeof list);
    s->n_pending = 0;
    pthread_mutex_unlock(s->lock);
    for (int i = 0; i < n; i++) {
        give_candidate(s, list[i]);
        free(list[i]);
    }
}

/* ---- the runner's side ----------------------------------------------------- */

static void finish(int failed) {
    pthread_mutex_lock(&R.lock);
    if (!R.done) {
        R.done = 1;
        R.failed = failed;
        pthread_cond_signal(&R.cond);
    }
    pthread_mutex_unlock(&R.lock);
}

static void on_event(void *user, mxrtc_net_runner *r, const void *event) {
    (void)r;
    bc_side *s = user;
    const mxrtc_peer_output *o = event;
    switch (o->event) {
    case MXRTC_PEER_EV_LOCAL_CANDIDATE:
        give_candidate(s->other, o->text);
        break;
    case MXRTC_PEER_EV_GATHERING_DONE:
        give_candidate(s->other, NULL);
        break;
    case MXRTC_PEER_EV_STATE:
        if (o->state == MXRTC_PEER_STATE_CONNECTED && !s->connected_us) s->connected_us = mxrtc_net_now();
        if (o->state == MXRTC_PEER_STATE_FAILED) finish(1);
        break;
    default:
        break;
    }
}

/* The peer engine's handle_datagram, then: did that datagram carry the
 * answerer's first decrypted media packet? */
static int wrapped_datagram(void *user, mxrtc_time_us now, const mxrtc_addr *local, const mxrtc_addr *remote,
                            const uint8_t *data, size_t len) {
    bc_side *s = user;
    int rc = s->inner.handle_datagram(s->inner.user, now, local, remote, data, len);
    if (s->index == 1 && !s->first_decrypted_us) {
        mxrtc_peer_stats st;
        memset(&st, 0, sizeof st);
        st.size = sizeof st;
        if (mxrtc_peer_get_stats(s->peer, &st) == MXRTC_OK && st.audio_in.packets > 0) {
            s->first_decrypted_us = mxrtc_net_now();
            finish(0);
        }
    }
    return rc;
}
static int w_stream(void *u, mxrtc_time_us n, const mxrtc_addr *a, const uint8_t *d, size_t l) {
    bc_side *s = u;
    return s->inner.handle_stream(s->inner.user, n, a, d, l);
}
static int w_stream_closed(void *u, mxrtc_time_us n, const mxrtc_addr *a) {
    bc_side *s = u;
    return s->inner.stream_closed(s->inner.user, n, a);
}
static int w_timeout(void *u, mxrtc_time_us n) {
    bc_side *s = u;
    return s->inner.handle_timeout(s->inner.user, n);
}
static int w_resolved(void *u, mxrtc_time_us n, const char *h, const mxrtc_addr *ip) {
    bc_side *s = u;
    return s->inner.resolved(s->inner.user, n, h, ip);
}
static int w_poll(void *u, mxrtc_time_us n, mxrtc_net_output *out) {
    bc_side *s = u;
    return s->inner.poll(s->inner.user, n, out);
}

/* Every 10 ms: one 10 ms audio frame in (the drain rule: one input per call). */
static bool tick(void *user, mxrtc_peer *p, mxrtc_time_us now, int first) {
    bc_side *s = user;
    if (!first) return false;
    int16_t pcm[BC_FRAME];
    mxrtc_tone_fill(&s->tone, pcm, BC_FRAME, 1);
    mxrtc_peer_push_audio(p, now, pcm, BC_FRAME);
    return false;
}

static int side_new(bc_side *s, int index) {
    memset(s, 0, sizeof *s);
    s->index = index;
    s->lock = &R.lock;
    if (mxrtc_tone_init(&s->tone, index ? 660 : 440, BC_RATE, 0.3) != MXRTC_OK) return -1;
    mxrtc_net_runner_config rc;
    mxrtc_net_runner_config_init(&rc);
    s->inner = mxrtc_net_peer_engine(&s->adapter, NULL);
    rc.engine = (mxrtc_net_engine){s, wrapped_datagram, w_stream, w_stream_closed, w_timeout, w_resolved, w_poll};
    rc.on_event = on_event;
    rc.event_user = s;
    mxrtc_net_iface_options_init(&rc.ifaces);
    /* Every usable interface, as `mxrtc peer` binds; loopback only when
     * nothing else is up (a namespace with only lo). */
    mxrtc_net_iface list[MXRTC_NET_MAX_UDP];
    size_t nif = 0;
    int irc = mxrtc_net_interfaces(&rc.ifaces, list, MXRTC_NET_MAX_UDP, &nif);
    if ((irc == MXRTC_OK || irc == MXRTC_ERR_LIMIT) && nif == 0) rc.ifaces.include_loopback = true;
    int err = mxrtc_net_runner_new(&s->runner, &rc);
    if (err) {
        fprintf(stderr, "bench_connect: runner: %s\n", mxrtc_strerror(err));
        return -1;
    }
    const mxrtc_addr *locals;
    size_t nl;
    mxrtc_net_runner_local_addrs(s->runner, &locals, &nl);
    mxrtc_peer_config cfg;
    mxrtc_peer_config_init(&cfg);
    if (getenv("MXRTC_BENCH_LOG")) cfg.logger = (mxrtc_logger){log_fn, s, MXRTC_LOG_DEBUG};
    for (size_t i = 0; i < nl && cfg.interface_count < MXRTC_PEER_MAX_INTERFACES; i++)
        cfg.interfaces[cfg.interface_count++] = locals[i];
    cfg.audio = MXRTC_DIR_SENDRECV;
    cfg.video = MXRTC_DIR_NONE;
    err = mxrtc_peer_new(&s->peer, &cfg, mxrtc_net_now());
    if (err) {
        fprintf(stderr, "bench_connect: peer: %s\n", mxrtc_strerror(err));
        return -1;
    }
    s->adapter.peer = s->peer;
    mxrtc_net_peer_set_tick(&s->adapter, BC_TICK_US, tick, s);
    return 0;
}

static int one_run(double *connect_ms, double *connected_ms) {
    memset(&R, 0, sizeof R);
    pthread_mutex_init(&R.lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&R.cond, &ca);
    pthread_condattr_destroy(&ca);
    int ok = -1;
    char *offer = malloc(BC_SDP_MAX), *answer = malloc(BC_SDP_MAX);
    if (!offer || !answer || side_new(&R.s[0], 0) || side_new(&R.s[1], 1)) goto out;
    R.s[0].other = &R.s[1];
    R.s[1].other = &R.s[0];
    if (mxrtc_net_runner_start(R.s[0].runner) || mxrtc_net_runner_start(R.s[1].runner)) goto out;

    mxrtc_time_us t0 = mxrtc_net_now();
    g_t0 = t0;
    bc_cmd c = {.side = &R.s[0], .kind = 1, .out = offer};
    if (mxrtc_net_runner_call_wait(R.s[0].runner, run_cmd, &c) || c.rc) goto out;
    c = (bc_cmd){.side = &R.s[1], .kind = 3, .type = MXRTC_SDP_OFFER, .sdp = offer};
    if (mxrtc_net_runner_call_wait(R.s[1].runner, run_cmd, &c) || c.rc) goto out;
    remote_is_set(&R.s[1]);
    c = (bc_cmd){.side = &R.s[1], .kind = 2, .out = answer};
    if (mxrtc_net_runner_call_wait(R.s[1].runner, run_cmd, &c) || c.rc) goto out;
    c = (bc_cmd){.side = &R.s[0], .kind = 3, .type = MXRTC_SDP_ANSWER, .sdp = answer};
    if (mxrtc_net_runner_call_wait(R.s[0].runner, run_cmd, &c) || c.rc) goto out;
    remote_is_set(&R.s[0]);

    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += 15;
    pthread_mutex_lock(&R.lock);
    while (!R.done)
        if (pthread_cond_timedwait(&R.cond, &R.lock, &dl) == ETIMEDOUT) break;
    int good = R.done && !R.failed;
    pthread_mutex_unlock(&R.lock);
    /* Both threads stopped before their fields are read. */
    mxrtc_net_runner_stop(R.s[0].runner);
    mxrtc_net_runner_stop(R.s[1].runner);
    if (good && R.s[1].first_decrypted_us) {
        *connect_ms = (double)(R.s[1].first_decrypted_us - t0) / 1000.0;
        *connected_ms = R.s[1].connected_us ? (double)(R.s[1].connected_us - t0) / 1000.0 : -1;
        ok = 0;
    }
out:
    for (int i = 0; i < 2; i++) {
        mxrtc_net_runner_free(R.s[i].runner);
        mxrtc_peer_free(R.s[i].peer);
        for (int k = 0; k < R.s[i].n_pending; k++) free(R.s[i].pending[k]);
    }
    free(offer);
    free(answer);
    pthread_cond_destroy(&R.cond);
    pthread_mutex_destroy(&R.lock);
    return ok;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int runs = argc > 1 ? atoi(argv[1]) : 0;
    if (runs < 1 || runs > 1000) {
        fprintf(stderr, "usage: bench_connect RUNS\n");
        return 2;
    }
    double *v = calloc((size_t)runs, sizeof *v);
    if (!v) return 1;
    int ok = 0;
    for (int i = 0; i < runs; i++) {
        double ms = 0, conn = 0;
        if (one_run(&ms, &conn) == 0) {
            printf("run %d: connect_ms=%.2f connected_ms=%.2f\n", i + 1, ms, conn);
            v[ok++] = ms;
        } else {
            printf("run %d: failed\n", i + 1);
        }
        fflush(stdout);
    }
    if (ok) {
        qsort(v, (size_t)ok, sizeof *v, cmp_double);
        double med = ok % 2 ? v[ok / 2] : (v[ok / 2 - 1] + v[ok / 2]) / 2;
        printf("median connect_ms=%.2f runs=%d failed=%d\n", med, ok, runs - ok);
    } else {
        printf("median connect_ms=nan runs=0 failed=%d\n", runs);
    }
    free(v);
    return ok == runs ? 0 : 1;
}
