/*
 * bench_pair.c: two mxrtc peers connected in memory (see bench_pair.h).
 * The host's work is done here the way tools/ does it on real sockets:
 * drain a peer after every input, carry each datagram to the other peer,
 * trickle candidates, call handle_timeout at the deadline.
 */
#include "bench_pair.h"

#include <stdlib.h>
#include <string.h>

/* ---- counting allocator ---------------------------------------------- */

#define PREFIX 16   /* keeps max_align_t alignment on x86-64 */

static void *c_malloc(void *user, size_t size) {
    bench_counter *c = user;
    unsigned char *b = malloc(size + PREFIX);
    if (!b) return NULL;
    memcpy(b, &size, sizeof size);
    c->live += size;
    c->total += size;
    c->calls++;
    if (c->live > c->peak) c->peak = c->live;
    return b + PREFIX;
}

static void c_free(void *user, void *ptr) {
    if (!ptr) return;
    bench_counter *c = user;
    unsigned char *b = (unsigned char *)ptr - PREFIX;
    size_t size;
    memcpy(&size, b, sizeof size);
    c->live -= size;
    free(b);
}

static void *c_realloc(void *user, void *ptr, size_t size) {
    if (!ptr) return c_malloc(user, size);
    bench_counter *c = user;
    unsigned char *b = (unsigned char *)ptr - PREFIX;
    size_t old;
    memcpy(&old, b, sizeof old);
    unsigned char *nb = realloc(b, size + PREFIX);
    if (!nb) return NULL;
    memcpy(nb, &size, sizeof size);
    c->live = c->live - old + size;
    if (size > old) c->total += size - old;
    c->calls++;
    if (c->live > c->peak) c->peak = c->live;
    return nb + PREFIX;
}

mxrtc_allocator bench_counting_allocator(bench_counter *c) {
    mxrtc_allocator a = { c_malloc, c_realloc, c_free, c };
    return a;
}

/* ---- datagrams in flight ---------------------------------------------- */

#define QCAP 1024   /* datagrams in flight; a 50-packet frame and its RTCP fit */
#define DMAX 1500

typedef struct dgram {
    int to;                 /* side that receives it */
    mxrtc_addr from, dst;
    uint16_t len;
    uint8_t data[DMAX];
} dgram;

static dgram *g_q;
static size_t g_head, g_count;

static int enqueue(int to, const mxrtc_peer_output *o) {
    if (o->len > DMAX || g_count == QCAP) return 0;   /* dropped, as a full socket would */
    dgram *d = &g_q[(g_head + g_count) % QCAP];
    d->to = to;
    d->from = o->from;
    d->dst = o->to;
    d->len = (uint16_t)o->len;
    memcpy(d->data, o->data, o->len);
    g_count++;
    return 1;
}

/* Candidates are trickled once the other side has a remote description. */
static char g_cands[2][32][1100];
static int g_ncands[2];
static int g_remote_set[2];

static int drain(bench_pair *b, int i) {
    mxrtc_peer_output o;
    for (;;) {
        int rc = mxrtc_peer_poll(b->p[i], b->now, &o);
        if (rc) return rc;
        switch (o.kind) {
        case MXRTC_PEER_OUT_DEADLINE:
            b->deadline[i] = o.deadline;
            return 0;
        case MXRTC_PEER_OUT_DATAGRAM:
            enqueue(1 - i, &o);
            break;
        case MXRTC_PEER_OUT_STREAM:
            break;
        case MXRTC_PEER_OUT_EVENT:
            if (o.event == MXRTC_PEER_EV_LOCAL_CANDIDATE && g_ncands[1 - i] < 32) {
                strncpy(g_cands[1 - i][g_ncands[1 - i]], o.text, 1099);
                g_ncands[1 - i]++;
            } else if (o.event == MXRTC_PEER_EV_STATE) {
                b->state[i] = o.state;
            } else if (o.event == MXRTC_PEER_EV_VIDEO_FRAME) {
                b->video_frames[i]++;
            }
            break;
        }
    }
}

static int trickle(bench_pair *b) {
    for (int i = 0; i < 2; i++) {
        if (!g_remote_set[i]) continue;
        for (int k = 0; k < g_ncands[i]; k++) {
            int rc = mxrtc_peer_add_remote_candidate(b->p[i], b->now, NULL, g_cands[i][k]);
            if (rc) return rc;
            if ((rc = drain(b, i))) return rc;
        }
        g_ncands[i] = 0;
    }
    return 0;
}

int bench_pair_pump(bench_pair *b) {
    int rc;
    for (int i = 0; i < 2; i++)
        if ((rc = drain(b, i))) return rc;
    while (g_count || g_ncands[0] || g_ncands[1]) {
        if ((rc = trickle(b))) return rc;
        while (g_count) {
            dgram *d = &g_q[g_head];
            g_head = (g_head + 1) % QCAP;
            g_count--;
            b->delivered[d->to]++;
            /* The receiver sees it on its socket address (dst) from `from`. */
            rc = mxrtc_peer_handle_datagram(b->p[d->to], b->now, &d->dst, &d->from, d->data, d->len);
            if (rc) return rc;
            if ((rc = drain(b, d->to))) return rc;
        }
    }
    return 0;
}

int bench_pair_run(bench_pair *b, mxrtc_time_us until) {
    for (;;) {
        int rc = bench_pair_pump(b);
        if (rc) return rc;
        mxrtc_time_us next = b->deadline[0] < b->deadline[1] ? b->deadline[0] : b->deadline[1];
        if (next > until) {
            b->now = until;
            return 0;
        }
        if (next > b->now) b->now = next;
        for (int i = 0; i < 2; i++) {
            if (b->deadline[i] <= b->now) {
                if ((rc = mxrtc_peer_handle_timeout(b->p[i], b->now))) return rc;
                if ((rc = drain(b, i))) return rc;
            }
        }
    }
}

int bench_pair_init(bench_pair *b, uint64_t seed) {
    memset(b, 0, sizeof *b);
    if (!g_q && !(g_q = malloc(sizeof(dgram) * QCAP))) return MXRTC_ERR_NO_MEMORY;
    g_head = g_count = 0;
    memset(g_ncands, 0, sizeof g_ncands);
    memset(g_remote_set, 0, sizeof g_remote_set);
    b->now = 1000000;
    for (int i = 0; i < 2; i++) {
        const uint8_t ip[4] = { 10, 0, 0, (uint8_t)(1 + i) };
        mxrtc_addr_set_ipv4(&b->addr[i], ip, 5000);
        mxrtc_seeded_random_init(&b->rnd[i], seed + (uint64_t)i);
        b->alloc[i] = bench_counting_allocator(&b->mem[i]);
        mxrtc_peer_config cfg;
        mxrtc_peer_config_init(&cfg);
        cfg.allocator = &b->alloc[i];
        cfg.random = mxrtc_seeded_random_source(&b->rnd[i]);
        cfg.interfaces[0] = b->addr[i];
        cfg.interface_count = 1;
        cfg.audio = MXRTC_DIR_SENDRECV;
        cfg.video = MXRTC_DIR_SENDRECV;
        cfg.vp9 = 0;
        int rc = mxrtc_peer_new(&b->p[i], &cfg, b->now);
        if (rc) return rc;
        b->deadline[i] = MXRTC_TIME_NEVER;
    }
    return 0;
}

int bench_pair_connect(bench_pair *b, mxrtc_time_us limit_us) {
    static char sdp[2][16384];
    size_t len[2];
    int rc;
    if ((rc = mxrtc_peer_create_offer(b->p[0], b->now, sdp[0], sizeof sdp[0], &len[0]))) return rc;
    if ((rc = mxrtc_peer_set_local_description(b->p[0], b->now)) || (rc = drain(b, 0))) return rc;
    if ((rc = mxrtc_peer_set_remote_description(b->p[1], b->now, MXRTC_SDP_OFFER, sdp[0], len[0])))
        return rc;
    if ((rc = drain(b, 1))) return rc;
    g_remote_set[1] = 1;
    if ((rc = mxrtc_peer_create_answer(b->p[1], b->now, sdp[1], sizeof sdp[1], &len[1]))) return rc;
    if ((rc = mxrtc_peer_set_local_description(b->p[1], b->now)) || (rc = drain(b, 1))) return rc;
    if ((rc = mxrtc_peer_set_remote_description(b->p[0], b->now, MXRTC_SDP_ANSWER, sdp[1], len[1])))
        return rc;
    if ((rc = drain(b, 0))) return rc;
    g_remote_set[0] = 1;
    mxrtc_time_us end = b->now + limit_us;
    while (b->now < end) {
        if (b->state[0] == MXRTC_PEER_STATE_CONNECTED && b->state[1] == MXRTC_PEER_STATE_CONNECTED)
            return 0;
        mxrtc_time_us step = b->now + 1000;
        if ((rc = bench_pair_run(b, step))) return rc;
    }
    return MXRTC_ERR_TIMEOUT;
}

void bench_pair_free(bench_pair *b) {
    for (int i = 0; i < 2; i++) mxrtc_peer_free(b->p[i]);
    b->p[0] = b->p[1] = NULL;
}
