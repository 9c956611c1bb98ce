/*
 * agent.c: the sans-IO ICE agent (RFC 8445), trickle (RFC 8838), consent
 * freshness (RFC 7675) and ICE restart (RFC 8445 §9). See agent.h for the
 * contract; section numbers below are RFC 8445 unless stated otherwise.
 *
 * Tables are allocated once at creation with the configured bounds; nothing
 * is allocated afterwards (no per-packet allocation, no growth an attacker
 * could drive).
 */
#include "ice/agent.h"

#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/random.h"
#include "stun/ctrans.h"
#include "stun/stun.h"
#include "stun/turn_client.h"

#define MOD "ice"
#define MSG_MAX 512            /* our checks: USERNAME <= 265 bytes + ~100 */
#define OUTQ 48
/* An output datagram: our STUN messages, TURN requests (up to ~2.2 KB with
 * long REALM/NONCE) and application data wrapped for the relay. */
#define OUT_MAX (MXRTC_ICE_SEND_MAX + 256)
#define CONSENT_TIDS 4
#define LUFRAG_LEN 8           /* §5.3: >= 24 bits of randomness; 48 here */
#define LPWD_LEN 24            /* §5.3: >= 128 bits; 144 here */
#define CRED_MAX 256           /* RFC 8839 §5.4 */
#define RTO_MIN 500000         /* §14.3: RTO >= 500 ms */
#define CHECK_RM 4             /* after a check's last transmission, wait 4 RTOs */
#define HOLD_MAX 8             /* application datagrams held until a pair is valid */
/* Teardown bound: how long mxrtc_ice_agent_close() waits for the answers
 * to its deallocations (RFC 8656 §7.2: a Refresh with LIFETIME 0). Over
 * UDP that is three transmissions (0, 0.5 s, 1.5 s with RTO 500 ms,
 * RFC 8489 §6.2.1); an unanswered allocation then simply expires on the
 * server. Browsers give up as quickly: closing must not hang a hang-up. */
#define CLOSE_BOUND 2000000
/* When the session's last datagrams (RTCP BYE, DTLS close_notify) went out
 * through our own relay just before close, the deallocation waits this
 * long: sent at once it can overtake them (UDP may reorder) and the server
 * would drop them with the allocation. Well within the bound. */
#define DEALLOC_HEADSTART 50000

typedef enum pstate { P_FROZEN, P_WAITING, P_INPROGRESS, P_SUCCEEDED, P_FAILED } pstate;

/* A request in flight: the timer is the codec's client transaction
 * (RFC 8489 §6.2.1); the bytes are kept here because retransmissions resend
 * exactly the same message. */
typedef struct txn {
    mxrtc_stun_ctrans ct;
    size_t len;
    uint8_t msg[MSG_MAX];
} txn;

static bool txn_running(const txn *t) {
    return t->ct.state == MXRTC_STUN_CTRANS_RUNNING;
}

static bool txn_is(const txn *t, const mxrtc_stun_msg *m) {
    return txn_running(t) && memcmp(t->ct.tid, m->tid, MXRTC_STUN_TID_SIZE) == 0;
}

typedef struct lcand {
    mxrtc_ice_candidate c;     /* c.addr is the transport address */
    mxrtc_addr base;           /* §5.1.1: where we send from */
    uint32_t local_pref;
    unsigned iface_index;
    bool relayed;
} lcand;

typedef struct rcand {
    mxrtc_ice_candidate c;
    bool usable;               /* c.addr is an IP (given or resolved) and not a duplicate */
    bool resolve_asked;
} rcand;

typedef struct pair {
    int l, r;
    uint64_t prio;
    pstate st;
    bool valid;
    bool nominating;           /* controlling: the next check carries USE-CANDIDATE */
    bool remote_nominated;     /* controlled: a request with USE-CANDIDATE arrived */
    bool txn_controlling;      /* our role when the current request was sent (§7.2.5.1) */
    bool txn_use_cand;
    mxrtc_time_us valid_at;    /* when its last check succeeded (§12.1 data before nomination) */
    uint64_t trig;             /* triggered-check queue order, 0 = not queued */
    txn t;
} pair;

typedef struct gtxn {
    int l;                     /* host candidate */
    int server;
    bool done;
    txn t;
} gtxn;

/* A TURN server the agent allocates on (RFC 8656 over UDP). */
/* Stream bytes for a TCP/TLS TURN server between two polls; the drain rule
 * empties it after every input, so this bounds one input's output. */
#define STREAM_BUF (64 * 1024)

typedef struct turn_srv {
    mxrtc_turn_client *c;
    mxrtc_turn_transport transport;
    uint8_t *sbuf;             /* TCP/TLS: bytes waiting for a STREAM_SEND output */
    size_t sfill;
    mxrtc_addr server;
    mxrtc_addr base;           /* our host address whose socket talks to the server */
    mxrtc_addr relayed;
    bool started, allocated, done;
    mxrtc_time_us deadline;
} turn_srv;

typedef struct outslot {
    mxrtc_ice_output o;
    uint8_t buf[OUT_MAX];
    mxrtc_ice_candidate cand;
    char host[MXRTC_ICE_HOSTNAME_MAX + 1];
} outslot;

typedef struct creds {
    char lufrag[LUFRAG_LEN + 1], lpwd[LPWD_LEN + 1];
    char rufrag[CRED_MAX + 1], rpwd[CRED_MAX + 1];
    bool have_remote;
    mxrtc_stun_key lkey, rkey;
} creds;

struct mxrtc_ice_agent {
    mxrtc_ice_config cfg;
    mxrtc_allocator alloc_copy;
    const mxrtc_allocator *alloc;
    creds cur, old;            /* old: before the last restart, while its pair lives */
    bool have_old;
    uint64_t tiebreaker;
    bool controlling;
    unsigned generation;

    lcand *lc;
    size_t nlc;
    rcand *rc;
    size_t nrc;
    pair *pairs;
    size_t np;
    gtxn *g;
    size_t ng;
    mxrtc_addr *servers;
    size_t nservers;
    turn_srv *turns;
    size_t nturns;
    mxrtc_time_us now;         /* time of the current input */

    bool gathering, gathering_done;
    bool remote_done;
    bool checks_done;          /* a pair is selected: no new checks (§8.1.2) */
    mxrtc_time_us next_check;  /* pacing (§6.1.4.2) */
    uint64_t trig_seq;
    mxrtc_time_us first_valid_at;
    unsigned prflx_seq;

    mxrtc_ice_state state;
    int selected;              /* pair index, -1 */
    struct {
        bool active, relayed, old_creds;
        mxrtc_addr local, remote;
        uint32_t prio;
    } sel;
    mxrtc_time_us consent_next, consent_last;
    uint8_t consent_tids[CONSENT_TIDS][MXRTC_STUN_TID_SIZE];
    unsigned consent_pos;
    uint64_t tid_counter;

    /* Application data sent before any pair was valid (a DTLS server
     * answering a ClientHello that beat our own check's response): held,
     * bounded, and sent once a pair is valid (§12.1). */
    struct {
        size_t len;
        uint8_t buf[MXRTC_ICE_SEND_MAX];
    } held[HOLD_MAX];
    unsigned nheld;

    outslot q[OUTQ];
    unsigned qhead, qlen;
    outslot cur_out;
    int stream_out;            /* turn index whose sbuf the last poll returned, -1 */
    bool must_drain;
    mxrtc_ice_stats stats;

    /* Teardown (mxrtc_ice_agent_close): only the TURN clients run. */
    bool closing, close_done;
    mxrtc_time_us close_deadline;
    mxrtc_time_us dealloc_at;  /* deallocations start then (DEALLOC_HEADSTART) */
};

/* ---- small helpers ----------------------------------------------------- */

static bool ip_equal(const mxrtc_addr *a, const mxrtc_addr *b) {
    if (a->family != b->family) return false;
    size_t n = a->family == MXRTC_AF_INET4 ? 4 : a->family == MXRTC_AF_INET6 ? 16 : 0;
    return n && memcmp(a->ip, b->ip, n) == 0;
}

static bool addr_eq(const mxrtc_addr *a, const mxrtc_addr *b) {
    return ip_equal(a, b) && a->port == b->port;
}

static size_t slen(const char *s, size_t max) {
    size_t n = 0;
    while (n < max && s[n]) n++;
    return n;
}

static void new_tid(mxrtc_ice_agent *a, uint8_t tid[MXRTC_STUN_TID_SIZE]) {
    if (mxrtc_random_fill(&a->cfg.random, tid, MXRTC_STUN_TID_SIZE) != MXRTC_OK)
        memset(tid, 0, MXRTC_STUN_TID_SIZE);
    /* Mixed with a counter so that ids stay distinct even from a bad source. */
    a->tid_counter++;
    for (int i = 0; i < 8; i++) tid[4 + i] ^= (uint8_t)(a->tid_counter >> (8 * i));
}

static int random_chars(mxrtc_ice_agent *a, char *out, size_t n) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t b[LPWD_LEN];
    if (n > sizeof b) return MXRTC_ERR_INTERNAL;
    int rc = mxrtc_random_fill(&a->cfg.random, b, n);
    if (rc != MXRTC_OK) return rc;
    for (size_t i = 0; i < n; i++) out[i] = alphabet[b[i] & 63];
    out[n] = '\0';
    mxrtc_wipe(b, sizeof b);
    return MXRTC_OK;
}

static int new_local_creds(mxrtc_ice_agent *a, creds *c) {
    int rc = random_chars(a, c->lufrag, LUFRAG_LEN);
    if (rc == MXRTC_OK) rc = random_chars(a, c->lpwd, LPWD_LEN);
    if (rc == MXRTC_OK) rc = mxrtc_stun_key_short_term(&c->lkey, c->lpwd, LPWD_LEN);
    return rc;
}

static void wipe_creds(creds *c) {
    mxrtc_wipe(c, sizeof *c);
}

/* ---- outputs ----------------------------------------------------------- */

static outslot *out_push(mxrtc_ice_agent *a) {
    if (a->qlen == OUTQ) return NULL;
    outslot *s = &a->q[(a->qhead + a->qlen++) % OUTQ];
    memset(&s->o, 0, sizeof s->o);
    return s;
}

static turn_srv *turn_for_relayed(mxrtc_ice_agent *a, const mxrtc_addr *relayed) {
    for (size_t i = 0; i < a->nturns; i++)
        if (a->turns[i].allocated && addr_eq(&a->turns[i].relayed, relayed)) return &a->turns[i];
    return NULL;
}

static void drain_turn(mxrtc_ice_agent *a, turn_srv *t);

static void out_send(mxrtc_ice_agent *a, const lcand *from, const mxrtc_addr *to,
                     const uint8_t *data, size_t len) {
    if (from->relayed) {
        turn_srv *t = turn_for_relayed(a, &from->c.addr);
        if (t) {
            /* Our own allocation: wrap it (Send indication or ChannelData).
             * Without an active permission the server would drop it anyway. */
            if (mxrtc_turn_client_send(t->c, a->now, to, data, len) != MXRTC_OK) a->stats.relay_dropped++;
            drain_turn(a, t);
            return;
        }
    }
    outslot *s = out_push(a);
    if (!s || len > OUT_MAX) {
        a->stats.dropped_outputs++;
        return;
    }
    s->o.kind = from->relayed ? MXRTC_ICE_OUT_SEND_RELAY : MXRTC_ICE_OUT_SEND;
    s->o.from = from->relayed ? from->c.addr : from->base;
    s->o.to = *to;
    memcpy(s->buf, data, len);
    s->o.len = len;
}

static void out_send_addr(mxrtc_ice_agent *a, bool relayed, const mxrtc_addr *from,
                          const mxrtc_addr *to, const uint8_t *data, size_t len) {
    lcand tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.relayed = relayed;
    tmp.c.addr = *from;
    tmp.base = *from;
    out_send(a, &tmp, to, data, len);
}

static outslot *out_event(mxrtc_ice_agent *a, mxrtc_ice_event ev) {
    outslot *s = out_push(a);
    if (!s) {
        /* Cannot happen while the drain rule holds: OUTQ exceeds what one
         * input can produce for the configured table sizes. */
        a->stats.dropped_outputs++;
        return NULL;
    }
    s->o.kind = MXRTC_ICE_OUT_EVENT;
    s->o.event = ev;
    return s;
}

static void set_state(mxrtc_ice_agent *a, mxrtc_ice_state st) {
    if (a->state == st) return;
    a->state = st;
    MXRTC_LOGD(&a->cfg.logger, MOD, "state %d", (int)st);
    outslot *s = out_event(a, MXRTC_ICE_EV_STATE);
    if (s) s->o.state = st;
}

/* ---- STUN messages ----------------------------------------------------- */

/* §7.2.2: a connectivity check (also used for consent, RFC 7675 §5.1). */
static size_t build_check(mxrtc_ice_agent *a, uint8_t *buf, const uint8_t *tid, const creds *c,
                          uint32_t prio, bool use_cand) {
    mxrtc_stun_builder b;
    char user[CRED_MAX + 1 + LUFRAG_LEN + 1];
    size_t ru = slen(c->rufrag, CRED_MAX), lu = slen(c->lufrag, LUFRAG_LEN);
    memcpy(user, c->rufrag, ru);
    user[ru] = ':';
    memcpy(user + ru + 1, c->lufrag, lu);
    mxrtc_stun_build_begin(&b, buf, MSG_MAX, MXRTC_STUN_BINDING, MXRTC_STUN_REQUEST, tid);
    mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_USERNAME, user, ru + 1 + lu);
    mxrtc_stun_add_u32(&b, MXRTC_STUN_ATTR_PRIORITY, prio);
    mxrtc_stun_add_u64(&b, a->controlling ? MXRTC_STUN_ATTR_ICE_CONTROLLING : MXRTC_STUN_ATTR_ICE_CONTROLLED,
                       a->tiebreaker);
    if (use_cand) mxrtc_stun_add_flag(&b, MXRTC_STUN_ATTR_USE_CANDIDATE);
    mxrtc_stun_add_integrity(&b, &c->rkey);
    mxrtc_stun_add_fingerprint(&b);
    int n = mxrtc_stun_build_end(&b);
    return n > 0 ? (size_t)n : 0;
}

/* §7.3.1: success (code 0) or error response, authenticated with our password. */
static size_t build_response(uint8_t *buf, const mxrtc_stun_msg *req, const mxrtc_addr *mapped,
                             int code, const mxrtc_stun_key *key) {
    mxrtc_stun_builder b;
    mxrtc_stun_build_begin(&b, buf, MSG_MAX, MXRTC_STUN_BINDING,
                           code ? MXRTC_STUN_ERROR : MXRTC_STUN_SUCCESS, req->tid);
    if (code) mxrtc_stun_add_error(&b, code, "Role Conflict");
    else mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS, mapped);
    mxrtc_stun_add_integrity(&b, key);
    mxrtc_stun_add_fingerprint(&b);
    int n = mxrtc_stun_build_end(&b);
    return n > 0 ? (size_t)n : 0;
}

/* ---- candidates and pairs ---------------------------------------------- */

static uint32_t pair_local_prio(const mxrtc_ice_agent *a, const pair *p) {
    return a->lc[p->l].c.priority;
}

static uint64_t compute_pair_prio(const mxrtc_ice_agent *a, const pair *p) {
    uint32_t l = pair_local_prio(a, p), r = a->rc[p->r].c.priority;
    return a->controlling ? mxrtc_ice_pair_priority(l, r) : mxrtc_ice_pair_priority(r, l);
}

static bool same_foundation(const mxrtc_ice_agent *a, const pair *x, const pair *y) {
    return strcmp(a->lc[x->l].c.foundation, a->lc[y->l].c.foundation) == 0 &&
           strcmp(a->rc[x->r].c.foundation, a->rc[y->r].c.foundation) == 0;
}

static bool pairable_local(const mxrtc_ice_agent *a, const lcand *l) {
    /* §6.1.2.4: server-reflexive candidates are replaced by their base,
     * which is already a host candidate: only host and relayed pair. */
    if (a->cfg.relay_only) return l->c.type == MXRTC_ICE_CAND_RELAY;
    return l->c.type == MXRTC_ICE_CAND_HOST || l->c.type == MXRTC_ICE_CAND_RELAY;
}

static int find_pair(const mxrtc_ice_agent *a, int l, int r) {
    for (size_t i = 0; i < a->np; i++)
        if (a->pairs[i].l == l && a->pairs[i].r == r) return (int)i;
    return -1;
}

/* §6.1.2.2 / RFC 8838 §10: a new pair is Waiting unless a pair of the same
 * foundation is already Waiting or In-Progress (then Frozen, to be thawed
 * when that one succeeds, §7.2.5.3.3). */
static int add_pair(mxrtc_ice_agent *a, int l, int r) {
    const lcand *lc = &a->lc[l];
    const rcand *rc = &a->rc[r];
    if (!pairable_local(a, lc) || !rc->usable || lc->c.addr.family != rc->c.addr.family) return -1;
    int existing = find_pair(a, l, r);
    if (existing >= 0) return existing;
    /* §6.1.2.4 pruning: same local base and remote address = redundant. */
    for (size_t i = 0; i < a->np; i++) {
        const pair *q = &a->pairs[i];
        const lcand *ql = &a->lc[q->l];
        if (ql->relayed == lc->relayed && addr_eq(&ql->base, &lc->base) &&
            addr_eq(&a->rc[q->r].c.addr, &rc->c.addr))
            return (int)i;
    }
    if (a->np >= a->cfg.max_pairs) {
        a->stats.limit_hits++;
        return -1;
    }
    pair *p = &a->pairs[a->np];
    memset(p, 0, sizeof *p);
    p->l = l;
    p->r = r;
    p->prio = compute_pair_prio(a, p);
    p->st = P_WAITING;
    for (size_t i = 0; i < a->np; i++) {
        const pair *q = &a->pairs[i];
        if ((q->st == P_WAITING || q->st == P_INPROGRESS) && same_foundation(a, p, q)) {
            p->st = P_FROZEN;
            break;
        }
    }
    if (lc->relayed) {
        /* RFC 8656 §9: the relay forwards only from permitted peers. */
        turn_srv *t = turn_for_relayed(a, &lc->c.addr);
        if (t && mxrtc_turn_client_permit(t->c, a->now, &rc->c.addr) == MXRTC_OK) drain_turn(a, t);
    }
    return (int)a->np++;
}

static void pair_remote(mxrtc_ice_agent *a, int r) {
    if (a->checks_done) return;
    for (size_t l = 0; l < a->nlc; l++) add_pair(a, (int)l, r);
}

static void pair_local(mxrtc_ice_agent *a, int l) {
    if (a->checks_done) return;
    for (size_t r = 0; r < a->nrc; r++) add_pair(a, l, (int)r);
}

static void emit_local(mxrtc_ice_agent *a, const lcand *l) {
    outslot *s = out_event(a, MXRTC_ICE_EV_LOCAL_CANDIDATE);
    if (!s) return;
    s->cand = l->c;
    s->o.candidate = &s->cand;
}

static int add_local(mxrtc_ice_agent *a, mxrtc_ice_cand_type type, const mxrtc_addr *addr,
                     const mxrtc_addr *base, const mxrtc_addr *server, uint32_t local_pref,
                     bool relayed) {
    for (size_t i = 0; i < a->nlc; i++)
        if (a->lc[i].c.type == type && addr_eq(&a->lc[i].c.addr, addr) &&
            addr_eq(&a->lc[i].base, base))
            return (int)i; /* §5.1.3: redundant */
    if (a->nlc >= a->cfg.max_local_candidates) {
        a->stats.limit_hits++;
        return MXRTC_ERR_LIMIT;
    }
    lcand *l = &a->lc[a->nlc];
    memset(l, 0, sizeof *l);
    mxrtc_ice_candidate_init(&l->c);
    l->c.type = (uint8_t)type;
    l->c.transport = MXRTC_ICE_TRANSPORT_UDP;
    l->c.addr = *addr;
    l->c.priority = mxrtc_ice_priority(mxrtc_ice_type_preference(type), local_pref, 1);
    mxrtc_ice_foundation(l->c.foundation, type, base, server, MXRTC_ICE_TRANSPORT_UDP);
    if (type != MXRTC_ICE_CAND_HOST) {
        l->c.has_related = true;
        l->c.related = *base;
    }
    l->base = *base;
    l->local_pref = local_pref;
    l->relayed = relayed;
    return (int)a->nlc++;
}

static void stamp_local(mxrtc_ice_agent *a, lcand *l) {
    memcpy(l->c.ufrag, a->cur.lufrag, LUFRAG_LEN + 1);
    l->c.generation = a->generation;
}

/* ---- selection and state ----------------------------------------------- */

/* Where application data goes (RFC 8445 §12.1): the selected pair once
 * there is one (or, during a restart, the previous one, §12.1 list); before
 * that "an ICE agent MAY send data on any valid pair": the valid pair of
 * highest priority, so DTLS can start one nomination round trip (and one
 * Ta of pacing) earlier. A pair whose last success is older than the
 * consent timeout (RFC 7675 §5.1) is not used. */
static bool data_path(const mxrtc_ice_agent *a, lcand *from, mxrtc_addr *to) {
    memset(from, 0, sizeof *from);
    if (a->sel.active) {
        from->relayed = a->sel.relayed;
        from->c.addr = a->sel.local;
        from->base = a->sel.local;
        *to = a->sel.remote;
        return true;
    }
    int best = -1;
    for (size_t i = 0; i < a->np; i++) {
        const pair *p = &a->pairs[i];
        if (!p->valid || a->now - p->valid_at >= a->cfg.consent_timeout) continue;
        if (best < 0 || p->prio > a->pairs[best].prio) best = (int)i;
    }
    if (best < 0) return false;
    *from = a->lc[a->pairs[best].l];
    *to = a->rc[a->pairs[best].r].c.addr;
    return true;
}

static void send_held(mxrtc_ice_agent *a) {
    if (!a->nheld) return;
    lcand from;
    mxrtc_addr to;
    if (!data_path(a, &from, &to)) return;
    for (unsigned i = 0; i < a->nheld; i++) out_send(a, &from, &to, a->held[i].buf, a->held[i].len);
    a->nheld = 0;
}

static void select_pair(mxrtc_ice_agent *a, int pi, mxrtc_time_us now) {
    pair *p = &a->pairs[pi];
    const lcand *l = &a->lc[p->l];
    a->selected = pi;
    a->checks_done = true;
    a->sel.active = true;
    a->sel.relayed = l->relayed;
    a->sel.local = l->relayed ? l->c.addr : l->base;
    a->sel.remote = a->rc[p->r].c.addr;
    a->sel.prio = mxrtc_ice_priority(MXRTC_ICE_TYPE_PREF_PRFLX, l->local_pref, 1);
    a->sel.old_creds = false;
    if (a->have_old) {
        wipe_creds(&a->old);
        a->have_old = false; /* §9: the restart is complete */
    }
    a->consent_last = now;
    a->consent_next = now + a->cfg.consent_interval;
    if (l->relayed) {
        /* RFC 8656 §12: a channel saves 32 bytes per media packet. */
        turn_srv *t = turn_for_relayed(a, &l->c.addr);
        if (t && mxrtc_turn_client_bind_channel(t->c, now, &a->sel.remote, NULL) == MXRTC_OK) drain_turn(a, t);
    }
    /* §8.1.2: once nominated, Waiting and Frozen pairs are no longer checked. */
    for (size_t i = 0; i < a->np; i++)
        if (a->pairs[i].st == P_WAITING || a->pairs[i].st == P_FROZEN) {
            a->pairs[i].st = P_FAILED;
            a->pairs[i].trig = 0;
        }
    outslot *s = out_event(a, MXRTC_ICE_EV_SELECTED_PAIR);
    if (s) {
        s->o.local = a->sel.local;
        s->o.remote = a->sel.remote;
        s->o.local_relayed = a->sel.relayed;
    }
    char b1[MXRTC_ADDR_STRLEN], b2[MXRTC_ADDR_STRLEN];
    MXRTC_LOGI(&a->cfg.logger, MOD, "selected %s -> %s",
               mxrtc_log_addr(&a->cfg.logger, MXRTC_LOG_INFO, &a->sel.local, b1),
               mxrtc_log_addr(&a->cfg.logger, MXRTC_LOG_INFO, &a->sel.remote, b2));
    set_state(a, MXRTC_ICE_STATE_CONNECTED);
}

static void update_state(mxrtc_ice_agent *a) {
    size_t pending = 0, failed = 0;
    for (size_t i = 0; i < a->np; i++) {
        if (a->pairs[i].st == P_FAILED) failed++;
        else if (a->pairs[i].st != P_SUCCEEDED || txn_running(&a->pairs[i].t)) pending++;
    }
    if (a->selected >= 0) {
        if (a->state == MXRTC_ICE_STATE_CONNECTED && pending == 0)
            set_state(a, MXRTC_ICE_STATE_COMPLETED);
        return;
    }
    if (a->sel.active) return; /* restart in progress: the old pair carries on */
    bool unresolved = false;
    for (size_t i = 0; i < a->nrc; i++)
        if (!a->rc[i].usable && a->rc[i].resolve_asked) unresolved = true;
    bool any_valid = false;
    for (size_t i = 0; i < a->np; i++) any_valid |= a->pairs[i].valid;
    /* Failed only when nothing more can come: the remote said
     * end-of-candidates (RFC 8838 §4.3), our gathering is over, no name is
     * being resolved, and every pair failed. */
    if (a->remote_done && a->gathering_done && !unresolved && pending == 0 && !any_valid &&
        failed == a->np && a->state != MXRTC_ICE_STATE_NEW) {
        a->nheld = 0;
        set_state(a, MXRTC_ICE_STATE_FAILED);
    }
    /* §12.1: a valid pair carries data before nomination: CONNECTED (as
     * W3C's RTCIceTransportState "connected": a usable pair, still
     * checking); COMPLETED follows the selection. */
    lcand from;
    mxrtc_addr to;
    if (a->state == MXRTC_ICE_STATE_CHECKING && data_path(a, &from, &to)) set_state(a, MXRTC_ICE_STATE_CONNECTED);
}

/* ---- sending checks ---------------------------------------------------- */

static mxrtc_time_us check_rto(const mxrtc_ice_agent *a) {
    /* §14.3: RTO = MAX(500 ms, Ta * (Num-Waiting + Num-In-Progress)). */
    uint64_t n = 0;
    for (size_t i = 0; i < a->np; i++)
        if (a->pairs[i].st == P_WAITING || a->pairs[i].st == P_INPROGRESS) n++;
    mxrtc_time_us rto = a->cfg.ta * n;
    return rto < RTO_MIN ? RTO_MIN : rto;
}

static void start_check(mxrtc_ice_agent *a, pair *p, mxrtc_time_us now) {
    const lcand *l = &a->lc[p->l];
    p->st = P_INPROGRESS;
    p->trig = 0;
    p->txn_controlling = a->controlling;
    p->txn_use_cand = a->controlling && p->nominating;
    uint8_t tid[MXRTC_STUN_TID_SIZE];
    new_tid(a, tid);
    /* §7.2.2: PRIORITY is what a peer-reflexive candidate learned from this
     * check would get: prflx type preference, our local preference. */
    uint32_t prio = mxrtc_ice_priority(MXRTC_ICE_TYPE_PREF_PRFLX, l->local_pref, 1);
    p->t.len = build_check(a, p->t.msg, tid, &a->cur, prio, p->txn_use_cand);
    if (p->t.len == 0) {
        p->st = P_FAILED;
        return;
    }
    mxrtc_stun_ctrans_params params = {.rto_us = (uint32_t)check_rto(a),
                                       .rc = a->cfg.max_check_transmits, .rm = CHECK_RM};
    mxrtc_stun_ctrans_start(&p->t.ct, tid, &params, now);
    (void)mxrtc_stun_ctrans_poll(&p->t.ct, now); /* the first transmission, now */
    a->stats.checks_sent++;
    MXRTC_LOGD(&a->cfg.logger, MOD, "check on pair %d%s", (int)(p - a->pairs), p->txn_use_cand ? " with USE-CANDIDATE" : "");
    out_send(a, l, &a->rc[p->r].c.addr, p->t.msg, p->t.len);
    if (a->state == MXRTC_ICE_STATE_NEW) set_state(a, MXRTC_ICE_STATE_CHECKING);
}

/* §6.1.4.2: one check per Ta: the triggered queue first, then the highest
 * priority Waiting pair, then thaw the highest priority Frozen one. */
static bool pick_and_check(mxrtc_ice_agent *a, mxrtc_time_us now) {
    if (!a->cur.have_remote) return false;
    int best = -1;
    for (size_t i = 0; i < a->np; i++) {
        const pair *p = &a->pairs[i];
        if (p->trig && !txn_running(&p->t) && (best < 0 || p->trig < a->pairs[best].trig)) best = (int)i;
    }
    if (best < 0 && !a->checks_done) {
        for (int want = P_WAITING; want >= P_FROZEN && best < 0; want--)
            for (size_t i = 0; i < a->np; i++) {
                const pair *p = &a->pairs[i];
                if ((int)p->st == want && !txn_running(&p->t) && (best < 0 || p->prio > a->pairs[best].prio))
                    best = (int)i;
            }
    }
    if (best < 0) return false;
    start_check(a, &a->pairs[best], now);
    return true;
}

static bool has_check_to_do(const mxrtc_ice_agent *a) {
    if (!a->cur.have_remote) return false;
    for (size_t i = 0; i < a->np; i++) {
        const pair *p = &a->pairs[i];
        if (txn_running(&p->t)) continue;
        if (p->trig) return true;
        if (!a->checks_done && (p->st == P_WAITING || p->st == P_FROZEN)) return true;
    }
    return false;
}

static void trigger(mxrtc_ice_agent *a, pair *p) {
    if (!p->trig) p->trig = ++a->trig_seq;
    if (p->st != P_INPROGRESS) p->st = P_WAITING;
}

/* ---- gathering --------------------------------------------------------- */

static void add_gather_txns(mxrtc_ice_agent *a, int l, mxrtc_time_us now) {
    for (size_t s = 0; s < a->nservers; s++) {
        if (a->servers[s].family != a->lc[l].base.family) continue;
        if (a->ng >= a->cfg.max_local_candidates * a->cfg.max_stun_servers) {
            a->stats.limit_hits++;
            return;
        }
        gtxn *g = &a->g[a->ng];
        memset(g, 0, sizeof *g);
        g->l = l;
        g->server = (int)s;
        uint8_t tid[MXRTC_STUN_TID_SIZE];
        new_tid(a, tid);
        mxrtc_stun_builder b;
        mxrtc_stun_build_begin(&b, g->t.msg, MSG_MAX, MXRTC_STUN_BINDING, MXRTC_STUN_REQUEST, tid);
        mxrtc_stun_add_fingerprint(&b);
        int n = mxrtc_stun_build_end(&b);
        if (n <= 0) continue;
        g->t.len = (size_t)n;
        /* §5.1.1.2: requests to servers are paced at Ta too. RFC 8489
         * defaults otherwise (39.5 s before giving up). */
        mxrtc_stun_ctrans_start(&g->t.ct, tid, NULL, now + a->cfg.ta * a->ng);
        a->ng++;
    }
}

static void check_gathering_done(mxrtc_ice_agent *a) {
    if (!a->gathering || a->gathering_done) return;
    for (size_t i = 0; i < a->ng; i++)
        if (!a->g[i].done) return;
    for (size_t i = 0; i < a->nturns; i++)
        if (!a->turns[i].done) return;
    a->gathering_done = true;
    out_event(a, MXRTC_ICE_EV_GATHERING_DONE);
}

/* ---- timers ------------------------------------------------------------ */

static void send_consent(mxrtc_ice_agent *a) {
    uint8_t *tid = a->consent_tids[a->consent_pos++ % CONSENT_TIDS];
    new_tid(a, tid);
    uint8_t msg[MSG_MAX];
    size_t n = build_check(a, msg, tid, a->sel.old_creds ? &a->old : &a->cur, a->sel.prio, false);
    if (n) out_send_addr(a, a->sel.relayed, &a->sel.local, &a->sel.remote, msg, n);
}

static mxrtc_time_us consent_jitter(mxrtc_ice_agent *a) {
    /* RFC 7675 §5.1: uniformly 0.8..1.2 times the interval. */
    uint32_t r = mxrtc_random_u32(&a->cfg.random, NULL);
    mxrtc_time_us base = a->cfg.consent_interval;
    return base * 8 / 10 + (base * 4 / 10) * (r % 1001) / 1000;
}

static void run_closing(mxrtc_ice_agent *a, mxrtc_time_us now);

static void run(mxrtc_ice_agent *a, mxrtc_time_us now) {
    if (a->closing) {
        run_closing(a, now);
        return;
    }
    /* Check transactions: retransmit or time out (§14.3, RFC 8489 §6.2.1). */
    for (size_t i = 0; i < a->np; i++) {
        pair *p = &a->pairs[i];
        mxrtc_stun_ctrans_action act = mxrtc_stun_ctrans_poll(&p->t.ct, now);
        if (act == MXRTC_STUN_CTRANS_TIMEOUT) {
            p->st = p->valid ? P_SUCCEEDED : P_FAILED;
            p->nominating = false;
        } else if (act == MXRTC_STUN_CTRANS_SEND) {
            out_send(a, &a->lc[p->l], &a->rc[p->r].c.addr, p->t.msg, p->t.len);
        }
    }
    /* Server-reflexive gathering. */
    for (size_t i = 0; i < a->ng; i++) {
        gtxn *g = &a->g[i];
        if (g->done) continue;
        mxrtc_stun_ctrans_action act = mxrtc_stun_ctrans_poll(&g->t.ct, now);
        if (act == MXRTC_STUN_CTRANS_TIMEOUT) g->done = true;
        else if (act == MXRTC_STUN_CTRANS_SEND)
            out_send(a, &a->lc[g->l], &a->servers[g->server], g->t.msg, g->t.len);
    }
    for (size_t i = 0; i < a->nturns; i++) {
        turn_srv *t = &a->turns[i];
        if (t->started && t->deadline <= now && mxrtc_turn_client_handle_timeout(t->c, now) == MXRTC_OK)
            drain_turn(a, t);
    }
    check_gathering_done(a);
    /* Regular nomination (§8.1.1) by the controlling agent, which "MAY
     * nominate as soon as it deems a valid pair good enough": at once when
     * no pair of higher priority than the best valid one can still succeed
     * (none Waiting, Frozen or In-Progress), otherwise nomination_delay
     * after the first valid pair, then the best valid pair. */
    if (a->controlling && a->selected < 0 && a->cur.have_remote) {
        bool nominating = false, better_pending = false;
        int best = -1;
        for (size_t i = 0; i < a->np; i++) {
            const pair *p = &a->pairs[i];
            nominating |= p->nominating;
            if (p->valid && (best < 0 || p->prio > a->pairs[best].prio)) best = (int)i;
        }
        for (size_t i = 0; best >= 0 && i < a->np; i++) {
            const pair *p = &a->pairs[i];
            if (p->prio > a->pairs[best].prio &&
                (p->st == P_WAITING || p->st == P_FROZEN || (txn_running(&p->t) && !p->valid)))
                better_pending = true;
        }
        if (!nominating && best >= 0 &&
            (!better_pending || now >= a->first_valid_at + a->cfg.nomination_delay)) {
            pair *p = &a->pairs[best];
            MXRTC_LOGD(&a->cfg.logger, MOD, "nominating pair %d (%s)", best, better_pending ? "nomination delay over" : "no better pair pending");
            p->nominating = true;
            mxrtc_stun_ctrans_cancel(&p->t.ct);
            trigger(a, p);
            p->st = P_WAITING;
        }
    }
    /* Pacing. */
    if (now >= a->next_check && pick_and_check(a, now)) a->next_check = now + a->cfg.ta;
    send_held(a);
    /* Consent freshness (RFC 7675 §5.1). */
    if (a->sel.active) {
        if (now - a->consent_last >= a->cfg.consent_timeout) {
            a->sel.active = false;
            a->selected = -1;
            out_event(a, MXRTC_ICE_EV_CONSENT_LOST);
            set_state(a, MXRTC_ICE_STATE_FAILED);
        } else {
            if (now >= a->consent_next) {
                send_consent(a);
                a->consent_next = now + consent_jitter(a);
            }
            if (now - a->consent_last >= a->cfg.disconnected_after &&
                (a->state == MXRTC_ICE_STATE_CONNECTED || a->state == MXRTC_ICE_STATE_COMPLETED))
                set_state(a, MXRTC_ICE_STATE_DISCONNECTED);
        }
    }
    update_state(a);
}

static mxrtc_time_us deadline(const mxrtc_ice_agent *a) {
    mxrtc_time_us d = MXRTC_TIME_NEVER;
#define MIN_D(t) do { mxrtc_time_us t_ = (t); if (t_ < d) d = t_; } while (0)
    if (a->closing) {
        /* Teardown: the TURN clients' timers, capped by the bound; nothing
         * once it is over (the caller's sign that it may stop). */
        if (a->close_done) return MXRTC_TIME_NEVER;
        for (size_t i = 0; i < a->nturns; i++)
            if (a->turns[i].started) MIN_D(a->turns[i].deadline);
        if (a->dealloc_at > a->now) MIN_D(a->dealloc_at);
        MIN_D(a->close_deadline);
        return d;
    }
    for (size_t i = 0; i < a->np; i++)
        MIN_D(mxrtc_stun_ctrans_deadline(&a->pairs[i].t.ct));
    for (size_t i = 0; i < a->ng; i++)
        if (!a->g[i].done) MIN_D(mxrtc_stun_ctrans_deadline(&a->g[i].t.ct));
    if (has_check_to_do(a)) MIN_D(a->next_check);
    for (size_t i = 0; i < a->nturns; i++)
        if (a->turns[i].started) MIN_D(a->turns[i].deadline);
    if (a->controlling && a->selected < 0 && a->first_valid_at) {
        bool nominating = false;
        for (size_t i = 0; i < a->np; i++) nominating |= a->pairs[i].nominating;
        if (!nominating) MIN_D(a->first_valid_at + a->cfg.nomination_delay);
    }
    if (a->sel.active) {
        MIN_D(a->consent_next);
        MIN_D(a->consent_last + a->cfg.consent_timeout);
        if (a->state == MXRTC_ICE_STATE_CONNECTED || a->state == MXRTC_ICE_STATE_COMPLETED)
            MIN_D(a->consent_last + a->cfg.disconnected_after);
    }
#undef MIN_D
    return d;
}

/* ---- the drain rule ---------------------------------------------------- */

/* The inputs that still work while the agent tears down (time, and what
 * the TURN servers send) until the teardown is over; every other input
 * after mxrtc_ice_agent_close() is MXRTC_ERR_CLOSED. */
static int begin_teardown_input(mxrtc_ice_agent *a, mxrtc_time_us now) {
    if (!a) return MXRTC_ERR_INVALID_ARGUMENT;
    if (a->close_done) return MXRTC_ERR_CLOSED;
    if (a->must_drain) return MXRTC_ERR_STATE;
    a->must_drain = true;
    if (now > a->now) a->now = now;
    return MXRTC_OK;
}

static int begin_input(mxrtc_ice_agent *a, mxrtc_time_us now) {
    if (a && a->closing) return MXRTC_ERR_CLOSED;
    return begin_teardown_input(a, now);
}

/* ---- public: life cycle ------------------------------------------------ */

void mxrtc_ice_config_init(mxrtc_ice_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
    cfg->random = mxrtc_random_os();
    cfg->ta = 50000;
    cfg->max_local_candidates = 16;
    cfg->max_remote_candidates = 64;
    cfg->max_pairs = 128;
    cfg->max_stun_servers = 4;
    cfg->max_check_transmits = 7;
    cfg->nomination_delay = 200000;
    cfg->consent_interval = 5000000;
    cfg->consent_timeout = 30000000;
    cfg->disconnected_after = 10000000;
}

int mxrtc_ice_agent_new(mxrtc_ice_agent **out, const mxrtc_ice_config *cfg, mxrtc_time_us now) {
    (void)now;
    if (!out || !cfg || cfg->size != sizeof *cfg) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (cfg->ta == 0 || !cfg->max_local_candidates || !cfg->max_remote_candidates || !cfg->max_pairs ||
        !cfg->max_check_transmits || !cfg->consent_interval || cfg->max_local_candidates > 1024 ||
        cfg->max_remote_candidates > 4096 || cfg->max_pairs > 65536 || cfg->max_stun_servers > 64)
        return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_ice_agent *a = mxrtc_calloc(cfg->alloc, 1, sizeof *a);
    if (!a) return MXRTC_ERR_NO_MEMORY;
    a->cfg = *cfg;
    if (cfg->alloc) {
        a->alloc_copy = *cfg->alloc;
        a->alloc = &a->alloc_copy;
    }
    a->cfg.alloc = a->alloc;
    if (!a->cfg.random.fn) a->cfg.random = mxrtc_random_os();
    a->selected = -1;
    a->stream_out = -1;
    a->controlling = cfg->controlling;
    a->lc = mxrtc_calloc(a->alloc, cfg->max_local_candidates, sizeof *a->lc);
    a->rc = mxrtc_calloc(a->alloc, cfg->max_remote_candidates, sizeof *a->rc);
    a->pairs = mxrtc_calloc(a->alloc, cfg->max_pairs, sizeof *a->pairs);
    size_t ng = cfg->max_local_candidates * (cfg->max_stun_servers ? cfg->max_stun_servers : 1);
    a->g = mxrtc_calloc(a->alloc, ng, sizeof *a->g);
    a->servers = cfg->max_stun_servers ? mxrtc_calloc(a->alloc, cfg->max_stun_servers, sizeof *a->servers)
                                       : NULL;
    a->turns = cfg->max_stun_servers ? mxrtc_calloc(a->alloc, cfg->max_stun_servers, sizeof *a->turns) : NULL;
    if (!a->lc || !a->rc || !a->pairs || !a->g || (cfg->max_stun_servers && (!a->servers || !a->turns))) {
        mxrtc_ice_agent_free(a);
        return MXRTC_ERR_NO_MEMORY;
    }
    int err = MXRTC_OK;
    a->tiebreaker = mxrtc_random_u64(&a->cfg.random, &err);
    if (err == MXRTC_OK) err = new_local_creds(a, &a->cur);
    if (err != MXRTC_OK) {
        mxrtc_ice_agent_free(a);
        return err;
    }
    *out = a;
    return MXRTC_OK;
}

void mxrtc_ice_agent_free(mxrtc_ice_agent *a) {
    if (!a) return;
    const mxrtc_allocator *al = a->alloc;
    mxrtc_free(al, a->lc);
    mxrtc_free(al, a->rc);
    mxrtc_free(al, a->pairs);
    mxrtc_free(al, a->g);
    mxrtc_free(al, a->servers);
    for (size_t i = 0; i < a->nturns; i++) {
        mxrtc_turn_client_free(a->turns[i].c);
        mxrtc_free(al, a->turns[i].sbuf);
    }
    mxrtc_free(al, a->turns);
    mxrtc_allocator copy = a->alloc_copy;
    mxrtc_wipe(a, sizeof *a); /* passwords and keys */
    mxrtc_free(al ? &copy : NULL, a);
}

void mxrtc_ice_agent_local_credentials(const mxrtc_ice_agent *a, const char **ufrag, const char **pwd) {
    if (ufrag) *ufrag = a->cur.lufrag;
    if (pwd) *pwd = a->cur.lpwd;
}

static bool valid_cred(const char *s, size_t *len) {
    if (!s) return false;
    size_t n = slen(s, CRED_MAX + 1);
    if (n == 0 || n > CRED_MAX) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == ':' || (unsigned char)s[i] >= 0x7f) return false;
    *len = n;
    return true;
}

int mxrtc_ice_agent_set_remote_credentials(mxrtc_ice_agent *a, const char *ufrag, const char *pwd) {
    size_t ul, pl;
    if (!a || !valid_cred(ufrag, &ul) || !valid_cred(pwd, &pl) || pl > MXRTC_STUN_KEY_MAX)
        return MXRTC_ERR_INVALID_ARGUMENT;
    memcpy(a->cur.rufrag, ufrag, ul + 1);
    memcpy(a->cur.rpwd, pwd, pl + 1);
    int rc = mxrtc_stun_key_short_term(&a->cur.rkey, pwd, pl);
    if (rc != MXRTC_OK) return rc;
    a->cur.have_remote = true;
    /* Remote candidates that carried another ufrag are stale (RFC 8838 §5.4). */
    return MXRTC_OK;
}

/* ---- public: local side ------------------------------------------------ */

int mxrtc_ice_agent_add_interface(mxrtc_ice_agent *a, const mxrtc_addr *addr, unsigned iface_index) {
    if (!a || !addr || (addr->family != MXRTC_AF_INET4 && addr->family != MXRTC_AF_INET6) ||
        addr->port == 0)
        return MXRTC_ERR_INVALID_ARGUMENT;
    unsigned addr_index = 0;
    for (size_t i = 0; i < a->nlc; i++) {
        if (a->lc[i].c.type != MXRTC_ICE_CAND_HOST) continue;
        if (addr_eq(&a->lc[i].base, addr)) return MXRTC_OK;
        if (a->lc[i].base.family == addr->family && a->lc[i].iface_index == iface_index) addr_index++;
    }
    uint32_t lp = mxrtc_ice_local_preference((mxrtc_family)addr->family, iface_index, addr_index);
    int l = add_local(a, MXRTC_ICE_CAND_HOST, addr, addr, NULL, lp, false);
    if (l < 0) return l;
    a->lc[l].iface_index = iface_index;
    stamp_local(a, &a->lc[l]);
    if (a->gathering) {
        /* Added after gathering started: announce, pair and gather on it
         * now. This produces outputs: the caller must poll. */
        emit_local(a, &a->lc[l]);
        pair_local(a, l);
        add_gather_txns(a, l, a->next_check);
        a->gathering_done = a->gathering_done && a->ng == 0;
        a->must_drain = true;
    }
    return MXRTC_OK;
}

int mxrtc_ice_agent_add_stun_server(mxrtc_ice_agent *a, const mxrtc_addr *server) {
    if (!a || !server || (server->family != MXRTC_AF_INET4 && server->family != MXRTC_AF_INET6) ||
        server->port == 0)
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (a->nservers >= a->cfg.max_stun_servers) {
        a->stats.limit_hits++;
        return MXRTC_ERR_LIMIT;
    }
    a->servers[a->nservers++] = *server;
    return MXRTC_OK;
}

int mxrtc_ice_agent_add_relayed_candidate(mxrtc_ice_agent *a, mxrtc_time_us now,
                                          const mxrtc_addr *relayed, const mxrtc_addr *server) {
    if (!a || !relayed || !server || relayed->family == MXRTC_AF_UNSPEC) return MXRTC_ERR_INVALID_ARGUMENT;
    int rc = begin_input(a, now);
    if (rc != MXRTC_OK) return rc;
    /* RFC 8445 §5.1.1.2: a relayed candidate is its own base. */
    uint32_t lp = mxrtc_ice_local_preference((mxrtc_family)relayed->family, 0, 0);
    int l = add_local(a, MXRTC_ICE_CAND_RELAY, relayed, relayed, server, lp, true);
    if (l < 0) return l;
    stamp_local(a, &a->lc[l]);
    a->lc[l].c.has_related = false;
    emit_local(a, &a->lc[l]);
    pair_local(a, l);
    run(a, now);
    return MXRTC_OK;
}

int mxrtc_ice_agent_gather(mxrtc_ice_agent *a, mxrtc_time_us now) {
    int rc = begin_input(a, now);
    if (rc != MXRTC_OK) return rc;
    a->gathering = true;
    a->gathering_done = false;
    a->ng = 0;
    size_t nhost = a->nlc;
    for (size_t i = 0; i < nhost; i++) {
        if (a->lc[i].c.type != MXRTC_ICE_CAND_HOST && a->lc[i].c.type != MXRTC_ICE_CAND_RELAY) continue;
        stamp_local(a, &a->lc[i]);
        /* Relay-only: host and srflx candidates are neither signalled nor
         * used (their addresses must not leak). */
        if (a->cfg.relay_only && a->lc[i].c.type == MXRTC_ICE_CAND_HOST) continue;
        emit_local(a, &a->lc[i]);
        if (a->lc[i].c.type == MXRTC_ICE_CAND_HOST) add_gather_txns(a, (int)i, now);
        pair_local(a, (int)i);
    }
    /* TURN allocations, from the best host address of each server's family
     * (host candidates are in the caller's preference order). */
    for (size_t i = 0; i < a->nturns; i++) {
        turn_srv *t = &a->turns[i];
        if (t->started) continue;
        int base = -1;
        for (size_t k = 0; k < a->nlc && base < 0; k++)
            if (a->lc[k].c.type == MXRTC_ICE_CAND_HOST && a->lc[k].base.family == t->server.family) base = (int)k;
        if (base < 0) {
            t->done = true;
            continue;
        }
        t->base = a->lc[base].base;
        t->started = true;
        if (mxrtc_turn_client_allocate(t->c, now) != MXRTC_OK) t->done = true;
        drain_turn(a, t);
    }
    run(a, now);
    return MXRTC_OK;
}

/* ---- public: remote side ----------------------------------------------- */

static bool duplicate_remote(const mxrtc_ice_agent *a, size_t self) {
    const rcand *r = &a->rc[self];
    for (size_t i = 0; i < a->nrc; i++) {
        if (i == self || !a->rc[i].usable) continue;
        if (addr_eq(&a->rc[i].c.addr, &r->c.addr)) return true;
    }
    return false;
}

static int add_remote(mxrtc_ice_agent *a, mxrtc_time_us now, const mxrtc_ice_candidate *c) {
    /* Quirks of real peers (issue 3): accepted and ignored. */
    if (c->component != 1 || c->transport != MXRTC_ICE_TRANSPORT_UDP || c->addr.port == 0 ||
        (c->ufrag[0] && a->cur.have_remote && strcmp(c->ufrag, a->cur.rufrag) != 0)) {
        a->stats.ignored_candidates++;
        return MXRTC_OK;
    }
    for (size_t i = 0; i < a->nrc; i++) {
        const mxrtc_ice_candidate *o = &a->rc[i].c;
        bool same = c->addr.family == MXRTC_AF_UNSPEC
                        ? (o->hostname[0] && strcmp(o->hostname, c->hostname) == 0 && o->addr.port == c->addr.port)
                        : addr_eq(&o->addr, &c->addr);
        if (same) {
            /* A signalled candidate replaces a peer-reflexive one learnt
             * from a check (§7.3.1.3): keep the table entry, take its
             * signalled priority and type. */
            if (a->rc[i].c.type == MXRTC_ICE_CAND_PRFLX && c->type != MXRTC_ICE_CAND_PRFLX) {
                bool usable = a->rc[i].usable;
                mxrtc_addr addr = a->rc[i].c.addr;
                a->rc[i].c = *c;
                a->rc[i].c.addr = addr;
                a->rc[i].usable = usable;
                for (size_t k = 0; k < a->np; k++)
                    if (a->pairs[k].r == (int)i) a->pairs[k].prio = compute_pair_prio(a, &a->pairs[k]);
                return MXRTC_OK;
            }
            a->stats.ignored_candidates++; /* BUNDLE duplicates (Firefox) */
            return MXRTC_OK;
        }
    }
    if (a->nrc >= a->cfg.max_remote_candidates) {
        a->stats.limit_hits++;
        return MXRTC_ERR_LIMIT;
    }
    rcand *r = &a->rc[a->nrc];
    memset(r, 0, sizeof *r);
    r->c = *c;
    size_t idx = a->nrc++;
    if (c->addr.family == MXRTC_AF_UNSPEC) {
        /* An mDNS (or other) name: ask the caller once per name. */
        bool asked = false;
        for (size_t i = 0; i < idx; i++)
            if (a->rc[i].resolve_asked && strcmp(a->rc[i].c.hostname, c->hostname) == 0) asked = true;
        r->resolve_asked = true;
        if (!asked) {
            outslot *s = out_event(a, MXRTC_ICE_EV_RESOLVE);
            if (s) {
                memcpy(s->host, c->hostname, sizeof s->host);
                s->o.hostname = s->host;
            }
        }
        return MXRTC_OK;
    }
    r->usable = true;
    pair_remote(a, (int)idx);
    (void)now;
    return MXRTC_OK;
}

int mxrtc_ice_agent_add_remote_candidate(mxrtc_ice_agent *a, mxrtc_time_us now,
                                         const mxrtc_ice_candidate *c) {
    if (!c) return MXRTC_ERR_INVALID_ARGUMENT;
    int rc = begin_input(a, now);
    if (rc != MXRTC_OK) return rc;
    rc = add_remote(a, now, c);
    run(a, now);
    return rc;
}

int mxrtc_ice_agent_add_remote_candidate_line(mxrtc_ice_agent *a, mxrtc_time_us now,
                                              const char *line, size_t len) {
    if (!a || !line) return MXRTC_ERR_INVALID_ARGUMENT;
    /* RFC 8838 §4.3: "a=end-of-candidates"; Matrix sends an empty candidate. */
    size_t n = len;
    while (n && (line[n - 1] == '\r' || line[n - 1] == '\n')) n--;
    const char *p = line;
    if (n >= 2 && p[0] == 'a' && p[1] == '=') { p += 2; n -= 2; }
    if (n == 0 || (n == 17 && memcmp(p, "end-of-candidates", 17) == 0))
        return mxrtc_ice_agent_remote_gathering_done(a, now);
    mxrtc_ice_candidate c;
    int rc = mxrtc_ice_candidate_parse(&c, line, len);
    if (rc == MXRTC_ERR_UNSUPPORTED) {
        /* A transport we do not speak (ssltcp...): ignore like TCP. */
        a->stats.ignored_candidates++;
        return MXRTC_OK;
    }
    if (rc != MXRTC_OK) return rc;
    return mxrtc_ice_agent_add_remote_candidate(a, now, &c);
}

int mxrtc_ice_agent_remote_gathering_done(mxrtc_ice_agent *a, mxrtc_time_us now) {
    int rc = begin_input(a, now);
    if (rc != MXRTC_OK) return rc;
    a->remote_done = true;
    run(a, now);
    return MXRTC_OK;
}

int mxrtc_ice_agent_resolved(mxrtc_ice_agent *a, mxrtc_time_us now, const char *hostname,
                             const mxrtc_addr *ip) {
    if (!hostname) return MXRTC_ERR_INVALID_ARGUMENT;
    int rc = begin_input(a, now);
    if (rc != MXRTC_OK) return rc;
    bool found = false;
    for (size_t i = 0; i < a->nrc; i++) {
        rcand *r = &a->rc[i];
        if (!r->resolve_asked || r->usable || strcmp(r->c.hostname, hostname) != 0) continue;
        found = true;
        r->resolve_asked = false;
        if (!ip || (ip->family != MXRTC_AF_INET4 && ip->family != MXRTC_AF_INET6)) continue;
        uint16_t port = r->c.addr.port;
        r->c.addr = *ip;
        r->c.addr.port = port;
        if (duplicate_remote(a, i)) {
            a->stats.ignored_candidates++;
            continue;
        }
        r->usable = true;
        pair_remote(a, (int)i);
    }
    run(a, now);
    return found ? MXRTC_OK : MXRTC_ERR_NOT_FOUND;
}

/* ---- public: datagrams ------------------------------------------------- */

static int find_local_for(const mxrtc_ice_agent *a, const mxrtc_addr *local) {
    for (size_t i = 0; i < a->nlc; i++) {
        const lcand *l = &a->lc[i];
        if (l->c.type == MXRTC_ICE_CAND_HOST && !l->relayed && !a->cfg.relay_only &&
            addr_eq(&l->base, local))
            return (int)i;
        if (l->relayed && addr_eq(&l->c.addr, local)) return (int)i;
    }
    return -1;
}

static void switch_role(mxrtc_ice_agent *a) {
    a->controlling = !a->controlling;
    a->stats.role_conflicts++;
    /* §7.3.1.1: pair priorities depend on the role. */
    for (size_t i = 0; i < a->np; i++) {
        a->pairs[i].prio = compute_pair_prio(a, &a->pairs[i]);
        a->pairs[i].nominating = false;
    }
    MXRTC_LOGD(&a->cfg.logger, MOD, "role switched to %s", a->controlling ? "controlling" : "controlled");
}

static void handle_request(mxrtc_ice_agent *a, mxrtc_time_us now, const mxrtc_addr *local,
                           const mxrtc_addr *remote, const mxrtc_stun_msg *m) {
    /* §7.3: USERNAME "our_ufrag:their_ufrag" and MESSAGE-INTEGRITY with our
     * password; anything else is dropped without an answer, so an attacker
     * gets nothing back (no amplification, no oracle). */
    const char *user;
    size_t ulen;
    if (mxrtc_stun_get_text(m, MXRTC_STUN_ATTR_USERNAME, &user, &ulen) != MXRTC_OK) goto reject;
    const creds *c = NULL;
    bool old = false;
    size_t lu = LUFRAG_LEN;
    if (ulen > lu && user[lu] == ':' && memcmp(user, a->cur.lufrag, lu) == 0) c = &a->cur;
    else if (a->have_old && ulen > lu && user[lu] == ':' && memcmp(user, a->old.lufrag, lu) == 0) {
        c = &a->old;
        old = true;
    }
    if (!c || mxrtc_stun_check_integrity(m, &c->lkey) != MXRTC_OK) goto reject;
    int li = find_local_for(a, local);
    if (li < 0) goto reject;
    a->stats.checks_received++;

    /* §7.3.1.1: role conflicts. */
    uint64_t theirs;
    bool they_controlling = mxrtc_stun_get_u64(m, MXRTC_STUN_ATTR_ICE_CONTROLLING, &theirs) == MXRTC_OK;
    bool they_controlled = !they_controlling &&
                           mxrtc_stun_get_u64(m, MXRTC_STUN_ATTR_ICE_CONTROLLED, &theirs) == MXRTC_OK;
    uint8_t buf[MSG_MAX];
    if ((a->controlling && they_controlling) || (!a->controlling && they_controlled)) {
        bool we_win = a->tiebreaker >= theirs;
        bool answer_487 = a->controlling ? we_win : !we_win;
        if (answer_487) {
            a->stats.role_conflicts++;
            size_t n = build_response(buf, m, remote, MXRTC_STUN_ERR_ROLE_CONFLICT, &c->lkey);
            if (n) out_send(a, &a->lc[li], remote, buf, n);
            return;
        }
        switch_role(a);
    }
    size_t n = build_response(buf, m, remote, 0, &c->lkey);
    if (n) out_send(a, &a->lc[li], remote, buf, n);
    if (old) return; /* the pre-restart session only needs answers */

    /* §7.3.1.3: an unknown source is a peer-reflexive remote candidate. */
    int ri = -1;
    for (size_t i = 0; i < a->nrc; i++)
        if (a->rc[i].usable && addr_eq(&a->rc[i].c.addr, remote)) ri = (int)i;
    if (ri < 0) {
        if (a->nrc >= a->cfg.max_remote_candidates) {
            a->stats.limit_hits++;
            return;
        }
        uint32_t prio = 0;
        if (mxrtc_stun_get_u32(m, MXRTC_STUN_ATTR_PRIORITY, &prio) != MXRTC_OK || prio == 0) return;
        rcand *r = &a->rc[a->nrc];
        memset(r, 0, sizeof *r);
        mxrtc_ice_candidate_init(&r->c);
        r->c.type = MXRTC_ICE_CAND_PRFLX;
        r->c.priority = prio;
        r->c.addr = *remote;
        /* §7.3.1.3: any unique foundation. */
        a->prflx_seq++;
        r->c.foundation[0] = 'p';
        for (unsigned v = a->prflx_seq, k = 1; k < 9; k++, v /= 10) r->c.foundation[k] = (char)('0' + v % 10);
        r->c.foundation[9] = '\0';
        r->usable = true;
        ri = (int)a->nrc++;
    }
    /* §7.3.1.4: triggered check on the pair. */
    int pi = find_pair(a, li, ri);
    if (pi < 0) {
        bool was_done = a->checks_done;
        a->checks_done = false; /* the controlling side may nominate a new pair */
        pi = add_pair(a, li, ri);
        a->checks_done = was_done;
        if (pi < 0) return;
    }
    pair *p = &a->pairs[pi];
    if (p->st != P_SUCCEEDED && p->st != P_INPROGRESS) trigger(a, p);
    /* §7.3.1.5: the controlled agent learns the nomination. */
    if (!a->controlling && mxrtc_stun_find(m, MXRTC_STUN_ATTR_USE_CANDIDATE)) {
        p->remote_nominated = true;
        if (p->valid && a->selected != pi) select_pair(a, pi, now);
    }
    return;
reject:
    a->stats.rejected++;
}

static void handle_response(mxrtc_ice_agent *a, mxrtc_time_us now, const mxrtc_addr *local,
                            const mxrtc_addr *remote, const mxrtc_stun_msg *m) {
    /* A check of ours? */
    for (size_t i = 0; i < a->np; i++) {
        pair *p = &a->pairs[i];
        if (!txn_is(&p->t, m)) continue;
        if (mxrtc_stun_check_integrity(m, &a->cur.rkey) != MXRTC_OK) break;
        a->stats.responses_received++;
        (void)mxrtc_stun_ctrans_match(&p->t.ct, m);
        const lcand *l = &a->lc[p->l];
        if (m->cls == MXRTC_STUN_ERROR) {
            int code = 0;
            mxrtc_stun_get_error(m, &code, NULL, NULL);
            if (code == MXRTC_STUN_ERR_ROLE_CONFLICT) {
                /* §7.2.5.1: take the role opposite to the one we sent, if
                 * we have not switched already, and retry the check. */
                if (a->controlling == p->txn_controlling) switch_role(a);
                trigger(a, p);
                p->st = P_WAITING;
            } else {
                p->st = p->valid ? P_SUCCEEDED : P_FAILED;
            }
            p->nominating = false;
            update_state(a);
            return;
        }
        /* §7.2.5.2.1: the response must come from where we sent and arrive
         * where we sent from. */
        const mxrtc_addr *want_local = l->relayed ? &l->c.addr : &l->base;
        if (!addr_eq(remote, &a->rc[p->r].c.addr) || !addr_eq(local, want_local)) {
            p->st = P_FAILED;
            p->nominating = false;
            return;
        }
        p->st = P_SUCCEEDED;
        p->valid = true;
        p->valid_at = now;
        MXRTC_LOGD(&a->cfg.logger, MOD, "pair %zu valid", i);
        if (!a->first_valid_at) a->first_valid_at = now;
        /* §7.2.5.3.3: thaw pairs of the same foundation. */
        for (size_t k = 0; k < a->np; k++)
            if (a->pairs[k].st == P_FROZEN && same_foundation(a, &a->pairs[k], p)) a->pairs[k].st = P_WAITING;
        if ((int)i == a->selected) a->consent_last = now;
        if (p->txn_use_cand && a->controlling && a->selected < 0) select_pair(a, (int)i, now);
        else if (!a->controlling && p->remote_nominated && a->selected != (int)i) select_pair(a, (int)i, now);
        p->nominating = false;
        return;
    }
    /* A consent check? */
    for (unsigned k = 0; k < CONSENT_TIDS; k++) {
        if (!a->sel.active || memcmp(a->consent_tids[k], m->tid, MXRTC_STUN_TID_SIZE) != 0) continue;
        const creds *c = a->sel.old_creds ? &a->old : &a->cur;
        if (m->cls != MXRTC_STUN_SUCCESS || mxrtc_stun_check_integrity(m, &c->rkey) != MXRTC_OK ||
            !addr_eq(remote, &a->sel.remote))
            break;
        a->stats.responses_received++;
        a->consent_last = now;
        if (a->state == MXRTC_ICE_STATE_DISCONNECTED)
            set_state(a, a->selected >= 0 ? MXRTC_ICE_STATE_COMPLETED : MXRTC_ICE_STATE_CONNECTED);
        return;
    }
    /* A STUN server's answer? */
    for (size_t i = 0; i < a->ng; i++) {
        gtxn *g = &a->g[i];
        if (g->done || !txn_is(&g->t, m)) continue;
        if (!addr_eq(remote, &a->servers[g->server])) break;
        g->done = true;
        (void)mxrtc_stun_ctrans_match(&g->t.ct, m);
        a->stats.responses_received++;
        mxrtc_addr mapped;
        if (m->cls != MXRTC_STUN_SUCCESS ||
            mxrtc_stun_get_xor_addr(m, MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped) != MXRTC_OK) {
            check_gathering_done(a);
            return;
        }
        const lcand *host = &a->lc[g->l];
        /* §5.1.3: a srflx equal to its base (no NAT) is redundant. */
        if (!addr_eq(&mapped, &host->base)) {
            size_t before = a->nlc;
            mxrtc_addr base = host->base;
            int l = add_local(a, MXRTC_ICE_CAND_SRFLX, &mapped, &base, &a->servers[g->server],
                              host->local_pref, false);
            if (l >= 0 && (size_t)l == before) {
                stamp_local(a, &a->lc[l]);
                emit_local(a, &a->lc[l]);
            }
        }
        check_gathering_done(a);
        return;
    }
    a->stats.rejected++;
}

/* One STUN datagram for the agent itself (from a socket, or unwrapped by
 * our TURN client). */
static void process_stun(mxrtc_ice_agent *a, mxrtc_time_us now, const mxrtc_addr *local,
                         const mxrtc_addr *remote, const uint8_t *data, size_t len) {
    mxrtc_stun_msg m;
    int rc = mxrtc_stun_decode(&m, data, len);
    if (rc != MXRTC_OK || m.method != MXRTC_STUN_BINDING) {
        /* Unknown comprehension-required attributes included: §7.3 checks
         * carry none, so such a message is not a peer's check. */
        a->stats.rejected++;
    } else if (m.cls == MXRTC_STUN_REQUEST) {
        handle_request(a, now, local, remote, &m);
    } else if (m.cls == MXRTC_STUN_SUCCESS || m.cls == MXRTC_STUN_ERROR) {
        handle_response(a, now, local, remote, &m);
    } else {
        /* Binding indications are keepalives (§11): nothing to do. */
    }
}

/* Everything our TURN client has to say, right after each of its inputs
 * (its own drain rule). */
static void drain_turn(mxrtc_ice_agent *a, turn_srv *t) {
    /* A check or response that came through the relay is handled after the
     * TURN client is drained: answering it is a new input to that client
     * (its drain rule). One datagram in gives at most one DATA event; the
     * stash holds two for safety, more are dropped and counted. */
    struct { mxrtc_addr peer; size_t len; uint8_t buf[MSG_MAX]; } stash[2];
    size_t nstash = 0;
    int new_relay = -1; /* paired after the drain too: pairing asks the client for permissions */
    for (int guard = 0; guard < 256; guard++) {
        mxrtc_turn_output o;
        if (mxrtc_turn_client_poll(t->c, a->now, &o) != MXRTC_OK) return;
        switch (o.kind) {
        case MXRTC_TURN_OUT_DEADLINE:
            t->deadline = o.deadline;
            if (new_relay >= 0) pair_local(a, new_relay);
            for (size_t i = 0; i < nstash; i++)
                process_stun(a, a->now, &t->relayed, &stash[i].peer, stash[i].buf, stash[i].len);
            return;
        case MXRTC_TURN_OUT_TRANSMIT: {
            if (t->transport != MXRTC_TURN_UDP) {
                if (o.len > STREAM_BUF - t->sfill) {
                    /* Cannot happen while the caller drains; losing stream
                     * bytes would desynchronise it, so the allocation ends. */
                    a->stats.dropped_outputs++;
                    t->allocated = false;
                    t->done = true;
                    break;
                }
                memcpy(t->sbuf + t->sfill, o.data, o.len);
                t->sfill += o.len;
                break;
            }
            outslot *s = out_push(a);
            if (!s || o.len > OUT_MAX) {
                a->stats.dropped_outputs++;
                break;
            }
            s->o.kind = MXRTC_ICE_OUT_SEND;
            s->o.from = t->base;
            s->o.to = t->server;
            memcpy(s->buf, o.data, o.len);
            s->o.len = o.len;
            break;
        }
        case MXRTC_TURN_OUT_EVENT:
            MXRTC_LOGD(&a->cfg.logger, MOD, "turn event %d (error %d, stun code %d)", (int)o.event, o.error,
                       o.stun_code);
            switch (o.event) {
            case MXRTC_TURN_EV_ALLOCATED: {
                t->allocated = true;
                t->done = true;
                t->relayed = o.relayed;
                if (a->closing) break;   /* run_closing releases it at once */
                /* RFC 8445 §5.1.1.2: the relayed candidate is its own base. */
                uint32_t lp = mxrtc_ice_local_preference((mxrtc_family)o.relayed.family, 0, 0);
                size_t before = a->nlc;
                int l = add_local(a, MXRTC_ICE_CAND_RELAY, &o.relayed, &o.relayed, &t->server, lp, true);
                if (l >= 0 && (size_t)l == before) {
                    stamp_local(a, &a->lc[l]);
                    /* Signal the mapped address as raddr, as browsers do. */
                    a->lc[l].c.has_related = !a->cfg.relay_only;
                    a->lc[l].c.related = o.mapped;
                    emit_local(a, &a->lc[l]);
                    new_relay = l;
                }
                break;
            }
            case MXRTC_TURN_EV_ALLOCATE_FAILED:
                t->done = true;
                break;
            case MXRTC_TURN_EV_ALLOCATION_LOST:
                t->allocated = false;
                break;
            case MXRTC_TURN_EV_DEALLOCATED:
                t->allocated = false;
                if (o.error == 0) a->stats.turn_deallocated++;   /* the server confirmed it */
                break;
            case MXRTC_TURN_EV_DATA:
                if (a->closing) break;   /* the session is over */
                if (mxrtc_stun_is_message(o.data, o.len)) {
                    if (nstash == 2 || o.len > MSG_MAX) {
                        a->stats.rejected++;
                        break;
                    }
                    stash[nstash].peer = o.peer;
                    stash[nstash].len = o.len;
                    memcpy(stash[nstash].buf, o.data, o.len);
                    nstash++;
                } else {
                    outslot *s = out_push(a);
                    if (!s || o.len > OUT_MAX) {
                        a->stats.dropped_outputs++;
                        break;
                    }
                    s->o.kind = MXRTC_ICE_OUT_RECEIVED;
                    s->o.from = o.peer;
                    s->o.to = t->relayed;
                    memcpy(s->buf, o.data, o.len);
                    s->o.len = o.len;
                }
                break;
            default:
                break;
            }
            break;
        }
    }
}

int mxrtc_ice_agent_handle_datagram(mxrtc_ice_agent *a, mxrtc_time_us now, const mxrtc_addr *local,
                                    const mxrtc_addr *remote, const uint8_t *data, size_t len) {
    if (!a || !local || !remote || (!data && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    /* From one of our TURN servers, on the socket we talk to it from:
     * the TURN client's (STUN responses, Data indications, ChannelData). */
    for (size_t i = 0; i < a->nturns; i++) {
        turn_srv *t = &a->turns[i];
        if (!t->started || t->transport != MXRTC_TURN_UDP || !addr_eq(remote, &t->server) ||
            !addr_eq(local, &t->base))
            continue;
        int rc = begin_teardown_input(a, now);
        if (rc != MXRTC_OK) return rc;
        if (mxrtc_turn_client_handle_input(t->c, now, data, len) == MXRTC_OK) drain_turn(a, t);
        run(a, now);
        return MXRTC_OK;
    }
    if (a->closing) return MXRTC_ERR_CLOSED;   /* only the TURN servers still talk to us */
    if (!mxrtc_stun_is_message(data, len)) return MXRTC_ERR_MALFORMED;
    int rc = begin_input(a, now);
    if (rc != MXRTC_OK) return rc;
    process_stun(a, now, local, remote, data, len);
    run(a, now);
    return MXRTC_OK;
}

int mxrtc_ice_agent_add_turn(mxrtc_ice_agent *a, const mxrtc_ice_turn_server *srv) {
    if (!a || !srv || !srv->username || !srv->password ||
        (srv->addr.family != MXRTC_AF_INET4 && srv->addr.family != MXRTC_AF_INET6) || srv->addr.port == 0 ||
        srv->transport > MXRTC_TURN_TLS)
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (a->nturns >= a->cfg.max_stun_servers) {
        a->stats.limit_hits++;
        return MXRTC_ERR_LIMIT;
    }
    mxrtc_turn_config tc;
    mxrtc_turn_config_init(&tc);
    tc.allocator = a->alloc;
    tc.random = a->cfg.random;
    tc.logger = &a->cfg.logger;
    tc.transport = srv->transport;
    tc.username = srv->username;
    tc.password = srv->password;
    tc.tls_server_name = srv->tls_server_name;
    tc.tls_ca_pem = srv->tls_ca_pem;
    tc.tls_ca_pem_len = srv->tls_ca_pem_len;
    tc.tls_ca_file = srv->tls_ca_file;
    tc.tls_insecure_skip_verify = srv->tls_insecure_skip_verify;
    turn_srv *t = &a->turns[a->nturns];
    memset(t, 0, sizeof *t);
    if (srv->transport != MXRTC_TURN_UDP) {
        t->sbuf = mxrtc_malloc(a->alloc, STREAM_BUF);
        if (!t->sbuf) return MXRTC_ERR_NO_MEMORY;
    }
    int rc = mxrtc_turn_client_new(&t->c, &tc, a->now);
    if (rc != MXRTC_OK) {
        mxrtc_free(a->alloc, t->sbuf);
        t->sbuf = NULL;
        return rc;
    }
    t->transport = srv->transport;
    t->server = srv->addr;
    t->deadline = MXRTC_TIME_NEVER;
    a->nturns++;
    return MXRTC_OK;
}

int mxrtc_ice_agent_add_turn_server(mxrtc_ice_agent *a, const mxrtc_addr *server, const char *username,
                                    const char *password) {
    if (!server) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_ice_turn_server srv;
    memset(&srv, 0, sizeof srv);
    srv.addr = *server;
    srv.transport = MXRTC_TURN_UDP;
    srv.username = username;
    srv.password = password;
    return mxrtc_ice_agent_add_turn(a, &srv);
}

static turn_srv *stream_turn(mxrtc_ice_agent *a, const mxrtc_addr *server) {
    for (size_t i = 0; i < a->nturns; i++)
        if (a->turns[i].transport != MXRTC_TURN_UDP && addr_eq(&a->turns[i].server, server)) return &a->turns[i];
    return NULL;
}

int mxrtc_ice_agent_handle_stream(mxrtc_ice_agent *a, mxrtc_time_us now, const mxrtc_addr *server,
                                  const uint8_t *data, size_t len) {
    if (!a || !server || (!data && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    turn_srv *t = stream_turn(a, server);
    if (!t) return MXRTC_ERR_NOT_FOUND;
    int rc = begin_teardown_input(a, now);
    if (rc != MXRTC_OK) return rc;
    if (t->started && mxrtc_turn_client_handle_input(t->c, now, data, len) == MXRTC_OK) drain_turn(a, t);
    run(a, now);
    return MXRTC_OK;
}

int mxrtc_ice_agent_stream_closed(mxrtc_ice_agent *a, mxrtc_time_us now, const mxrtc_addr *server) {
    if (!a || !server) return MXRTC_ERR_INVALID_ARGUMENT;
    turn_srv *t = stream_turn(a, server);
    if (!t) return MXRTC_ERR_NOT_FOUND;
    int rc = begin_teardown_input(a, now);
    if (rc != MXRTC_OK) return rc;
    if (t->started && mxrtc_turn_client_handle_eof(t->c, now) == MXRTC_OK) drain_turn(a, t);
    t->done = true;
    t->allocated = false;
    run(a, now);
    return MXRTC_OK;
}

int mxrtc_ice_agent_send(mxrtc_ice_agent *a, mxrtc_time_us now, const uint8_t *data, size_t len) {
    if (!a || (!data && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (len > MXRTC_ICE_SEND_MAX) return MXRTC_ERR_LIMIT;
    if (a->closing) return MXRTC_ERR_CLOSED;
    int rc = begin_input(a, now);
    if (rc != MXRTC_OK) return rc;
    lcand from;
    mxrtc_addr to;
    if (!data_path(a, &from, &to)) {
        /* No valid pair yet: hold it while checks can still produce one
         * (§12.1 allows data only on valid pairs); send_held() sends it. */
        if (!a->cur.have_remote || a->state == MXRTC_ICE_STATE_FAILED) return MXRTC_ERR_NOT_FOUND;
        if (a->nheld >= HOLD_MAX) return MXRTC_ERR_LIMIT;
        memcpy(a->held[a->nheld].buf, data, len);
        a->held[a->nheld++].len = len;
        return MXRTC_OK;
    }
    uint64_t dropped = a->stats.relay_dropped + a->stats.dropped_outputs;
    out_send(a, &from, &to, data, len);
    return a->stats.relay_dropped + a->stats.dropped_outputs > dropped ? MXRTC_ERR_LIMIT : MXRTC_OK;
}

int mxrtc_ice_agent_handle_timeout(mxrtc_ice_agent *a, mxrtc_time_us now) {
    int rc = begin_teardown_input(a, now);
    if (rc != MXRTC_OK) return rc;
    run(a, now);
    return MXRTC_OK;
}

/* ---- teardown ----------------------------------------------------------- */

/* While closing: the TURN clients' timers, a deallocation for every
 * allocation (also one that completes only now: the server holds a relay
 * for it), and the end of the teardown once no deallocation or allocation
 * is outstanding, or the bound has passed. */
static void run_closing(mxrtc_ice_agent *a, mxrtc_time_us now) {
    if (a->close_done) return;
    bool pending = false;
    for (size_t i = 0; i < a->nturns; i++) {
        turn_srv *t = &a->turns[i];
        if (!t->started) continue;
        if (t->deadline <= now && mxrtc_turn_client_handle_timeout(t->c, now) == MXRTC_OK) drain_turn(a, t);
        mxrtc_turn_state st = mxrtc_turn_client_state(t->c);
        if (st == MXRTC_TURN_STATE_ALLOCATED && t->allocated && now < a->dealloc_at) {
            pending = true;
        } else if (st == MXRTC_TURN_STATE_ALLOCATED && t->allocated) {
            /* RFC 8656 §7.2: Refresh with LIFETIME 0 deletes the allocation;
             * over TCP/TLS it goes on the stream, which the caller closes
             * only after the teardown. */
            if (mxrtc_turn_client_deallocate(t->c, now) == MXRTC_OK) {
                a->stats.turn_deallocations++;
                drain_turn(a, t);
            }
            st = mxrtc_turn_client_state(t->c);
        }
        if (st == MXRTC_TURN_STATE_ALLOCATING || st == MXRTC_TURN_STATE_DEALLOCATING) pending = true;
    }
    if (!pending || now >= a->close_deadline) {
        a->close_done = true;
        MXRTC_LOGD(&a->cfg.logger, MOD, "teardown over (%s)", pending ? "bound reached" : "all released");
    }
}

int mxrtc_ice_agent_close(mxrtc_ice_agent *a, mxrtc_time_us now) {
    if (!a) return MXRTC_ERR_INVALID_ARGUMENT;
    if (a->closing) return MXRTC_OK;
    int rc = begin_input(a, now);
    if (rc != MXRTC_OK) return rc;
    a->closing = true;
    a->close_deadline = a->now + CLOSE_BOUND;
    /* Was data going through one of our allocations (the selected pair,
     * or the valid pair used before nomination, §12.1)? */
    lcand from;
    mxrtc_addr to;
    bool via_relay = data_path(a, &from, &to) && from.relayed && turn_for_relayed(a, &from.c.addr);
    a->dealloc_at = via_relay ? a->now + DEALLOC_HEADSTART : a->now;
    /* No more checks, consent, nomination or held data: the session is over. */
    a->sel.active = false;
    a->nheld = 0;
    run_closing(a, a->now);
    return MXRTC_OK;
}

bool mxrtc_ice_agent_close_done(const mxrtc_ice_agent *a) {
    return a && a->close_done;
}

int mxrtc_ice_agent_restart(mxrtc_ice_agent *a, mxrtc_time_us now) {
    int rc = begin_input(a, now);
    if (rc != MXRTC_OK) return rc;
    creds fresh;
    memset(&fresh, 0, sizeof fresh);
    rc = new_local_creds(a, &fresh);
    if (rc != MXRTC_OK) {
        wipe_creds(&fresh);
        return rc;
    }
    /* §9: keep the old credentials while the selected pair is still the
     * one carrying media; consent checks on it go on with them. */
    if (a->sel.active) {
        if (!a->sel.old_creds) {
            wipe_creds(&a->old);
            a->old = a->cur;
            a->have_old = true;
            a->sel.old_creds = true;
        }
    }
    wipe_creds(&a->cur);
    a->cur = fresh;
    wipe_creds(&fresh);
    a->generation++;
    /* Forget the remote side and every pair; keep host and relayed
     * candidates (the sockets still exist), drop server-reflexive ones
     * (gathered again). */
    a->nrc = 0;
    a->np = 0;
    a->ng = 0;
    size_t keep = 0;
    for (size_t i = 0; i < a->nlc; i++)
        if (a->lc[i].c.type != MXRTC_ICE_CAND_SRFLX && a->lc[i].c.type != MXRTC_ICE_CAND_PRFLX)
            a->lc[keep++] = a->lc[i];
    a->nlc = keep;
    a->selected = -1;
    a->checks_done = false;
    a->remote_done = false;
    a->first_valid_at = 0;
    a->nheld = 0;
    a->next_check = now;
    if (!a->sel.active) set_state(a, MXRTC_ICE_STATE_NEW);
    a->must_drain = false;
    return mxrtc_ice_agent_gather(a, now);
}

/* ---- public: outputs and queries --------------------------------------- */

int mxrtc_ice_agent_poll(mxrtc_ice_agent *a, mxrtc_ice_output *out) {
    if (!a || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    if (a->stream_out >= 0) {
        a->turns[a->stream_out].sfill = 0; /* the caller has written them */
        a->stream_out = -1;
    }
    for (size_t i = 0; i < a->nturns; i++) {
        if (!a->turns[i].sfill) continue;
        memset(out, 0, sizeof *out);
        out->kind = MXRTC_ICE_OUT_STREAM_SEND;
        out->to = a->turns[i].server;
        out->data = a->turns[i].sbuf;
        out->len = a->turns[i].sfill;
        a->stream_out = (int)i;
        return MXRTC_OK;
    }
    if (a->qlen) {
        a->cur_out = a->q[a->qhead];
        a->qhead = (a->qhead + 1) % OUTQ;
        a->qlen--;
        *out = a->cur_out.o;
        if (out->kind == MXRTC_ICE_OUT_SEND || out->kind == MXRTC_ICE_OUT_SEND_RELAY ||
            out->kind == MXRTC_ICE_OUT_RECEIVED)
            out->data = a->cur_out.buf;
        if (out->event == MXRTC_ICE_EV_LOCAL_CANDIDATE && out->kind == MXRTC_ICE_OUT_EVENT)
            out->candidate = &a->cur_out.cand;
        if (out->event == MXRTC_ICE_EV_RESOLVE && out->kind == MXRTC_ICE_OUT_EVENT)
            out->hostname = a->cur_out.host;
        return MXRTC_OK;
    }
    memset(out, 0, sizeof *out);
    out->kind = MXRTC_ICE_OUT_DEADLINE;
    out->deadline = deadline(a);
    a->must_drain = false;
    return MXRTC_OK;
}

mxrtc_ice_state mxrtc_ice_agent_state(const mxrtc_ice_agent *a) {
    return a->state;
}

bool mxrtc_ice_agent_is_controlling(const mxrtc_ice_agent *a) {
    return a->controlling;
}

int mxrtc_ice_agent_selected(const mxrtc_ice_agent *a, mxrtc_addr *local, mxrtc_addr *remote) {
    if (!a->sel.active) return MXRTC_ERR_NOT_FOUND;
    if (local) *local = a->sel.local;
    if (remote) *remote = a->sel.remote;
    return MXRTC_OK;
}

const mxrtc_ice_stats *mxrtc_ice_agent_stats(const mxrtc_ice_agent *a) {
    return &a->stats;
}

/* ---- routing aids ---------------------------------------------------------- */

bool mxrtc_ice_agent_has_local_ufrag(const mxrtc_ice_agent *a, const char *ufrag, size_t len) {
    if (!a || !ufrag || len == 0) return false;
    if (strlen(a->cur.lufrag) == len && memcmp(a->cur.lufrag, ufrag, len) == 0) return true;
    return a->have_old && strlen(a->old.lufrag) == len && memcmp(a->old.lufrag, ufrag, len) == 0;
}

int mxrtc_ice_agent_remote_rank(const mxrtc_ice_agent *a, const mxrtc_addr *remote) {
    if (!a || !remote) return 0;
    if (a->sel.active && !a->sel.relayed && addr_eq(&a->sel.remote, remote)) return 4;
    for (size_t i = 0; i < a->nrc; i++)
        if (a->rc[i].usable && addr_eq(&a->rc[i].c.addr, remote)) return 3;
    for (size_t i = 0; i < a->nturns; i++)
        if (addr_eq(&a->turns[i].server, remote)) return 2;
    for (size_t i = 0; i < a->nservers; i++)
        if (addr_eq(&a->servers[i], remote)) return 1;
    return 0;
}
