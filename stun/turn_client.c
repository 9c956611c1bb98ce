/*
 * turn_client.c: the TURN client state machine (RFC 8656) on the STUN codec.
 *
 * Tables are fixed at creation: transactions (one allocate/refresh, one per
 * permission, one per channel), permissions keyed by peer IP (§9: the port is
 * ignored), channels keyed by peer address. Outputs wait in two bounded
 * queues (bytes for the server, events for the caller).
 */
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/pktq.h"
#include "base/random.h"
#include "stun/ctrans.h"
#include "stun/stun.h"
#include "stun/tls_stream.h"
#include "stun/turn_client.h"
#include "stun/turn_framing.h"

#define TAG "turn"

/* RFC 8656 §9: permissions last 300 s; refresh a minute early.
 * §12: channel bindings last 600 s; refresh a minute early. */
#define PERMISSION_REFRESH_US (240ull * 1000000)
#define CHANNEL_REFRESH_US (540ull * 1000000)
/* §7.2: the server's default allocation lifetime. */
#define DEFAULT_LIFETIME_S 600u
/* 438 Stale Nonce retries per request, so a broken server cannot loop us. */
#define MAX_STALE_RETRIES 3
/* Requests are small: header, USERNAME (≤513), REALM, NONCE (≤763 each), MI, FINGERPRINT. */
#define REQ_MAX 2200
/* §7.1: REQUESTED-TRANSPORT carries the IANA protocol number, 17 = UDP. */
#define PROTO_UDP 17

typedef enum txn_kind { TXN_FREE = 0, TXN_ALLOCATE, TXN_REFRESH, TXN_PERMISSION, TXN_CHANNEL } txn_kind;

typedef struct txn {
    txn_kind kind;
    size_t index;                 /* permission or channel index */
    mxrtc_stun_ctrans ct;
    bool authenticated;           /* sent with MESSAGE-INTEGRITY */
    int stale_retries;
    uint32_t lifetime;            /* REFRESH: requested lifetime */
    size_t req_len;
    uint8_t req[REQ_MAX];
} txn;

typedef enum entry_state { ENTRY_FREE = 0, ENTRY_WANTED, ENTRY_PENDING, ENTRY_ACTIVE, ENTRY_FAILED } entry_state;

typedef struct permission {
    entry_state state;
    bool reported;
    mxrtc_addr peer;              /* the peer that asked first; port ignored */
    mxrtc_time_us refresh_at;
} permission;

typedef struct channel {
    entry_state state;
    bool reported;
    mxrtc_addr peer;
    uint16_t number;
    mxrtc_time_us refresh_at;
} channel;

/* What an event carries, stored in the event queue beside the data. */
typedef struct ev_meta {
    mxrtc_turn_event_type type;
    int error;
    int stun_code;
    uint16_t channel;
    uint32_t lifetime_s;
    mxrtc_addr peer;
    mxrtc_addr relayed;
    mxrtc_addr mapped;
} ev_meta;

struct mxrtc_turn_client {
    const mxrtc_allocator *alloc;
    mxrtc_random random;
    const mxrtc_logger *log;
    mxrtc_turn_transport transport;
    mxrtc_stun_ctrans_params ctrans_params;
    char *username;
    char *password;
    char *software;
    uint32_t lifetime_req;

    mxrtc_turn_state state;
    /* Long-term credential state (RFC 8489 §9.2). */
    bool have_key;
    mxrtc_stun_key key;
    uint16_t password_algorithm;      /* 0: MD5 without PASSWORD-ALGORITHM attributes */
    uint8_t password_algorithms[64];  /* the server's PASSWORD-ALGORITHMS value, echoed back */
    size_t password_algorithms_len;
    char realm[MXRTC_STUN_MAX_REALM + 1];
    size_t realm_len;
    char nonce[MXRTC_STUN_MAX_NONCE + 1];
    size_t nonce_len;

    mxrtc_addr relayed;
    mxrtc_addr mapped;
    mxrtc_time_us expires_at;
    mxrtc_time_us refresh_at;
    bool refresh_failed;

    size_t max_peers;
    txn *txns;                        /* 1 + 2 * max_peers */
    size_t ntxns;
    permission *perms;
    channel *chans;
    uint16_t next_channel;

    mxrtc_pktq txq;                   /* UDP/TCP: bytes for the server */
    mxrtc_pktq evq;
    bool tx_pop, ev_pop;              /* the entry returned by the last poll */
    bool drained;

    mxrtc_tls_stream *tls;
    mxrtc_stream_framer *framer;      /* TCP and TLS */
    uint8_t *scratch;                 /* TLS ciphertext out / plaintext in */
    size_t scratch_len;

    mxrtc_turn_stats stats;
};

/* ---- small helpers ------------------------------------------------------ */

static bool reliable(const mxrtc_turn_client *c) { return c->transport != MXRTC_TURN_UDP; }

static bool same_ip(const mxrtc_addr *a, const mxrtc_addr *b) {
    if (a->family != b->family) return false;
    return memcmp(a->ip, b->ip, a->family == MXRTC_AF_INET4 ? 4 : 16) == 0;
}

static void emit(mxrtc_turn_client *c, const ev_meta *m, const uint8_t *data, size_t len) {
    if (mxrtc_pktq_push(&c->evq, m, data, len, NULL, 0) != MXRTC_OK) {
        if (m->type == MXRTC_TURN_EV_DATA) c->stats.rx_dropped++;
        else MXRTC_LOGW(c->log, TAG, "event queue full, event %d lost", (int)m->type);
    }
}

static void emit_simple(mxrtc_turn_client *c, mxrtc_turn_event_type type, int error, int stun_code) {
    ev_meta m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.error = error;
    m.stun_code = stun_code;
    emit(c, &m, NULL, 0);
}

/* Bytes for the server: over TLS into the TLS stream, else into the queue. */
static int transmit(mxrtc_turn_client *c, const mxrtc_iov *iov, size_t n) {
    if (c->transport == MXRTC_TURN_TLS) {
        for (size_t i = 0; i < n; i++) {
            if (!iov[i].len) continue;
            int rc = mxrtc_tls_stream_write(c->tls, iov[i].data, iov[i].len);
            if (rc != MXRTC_OK) {
                c->stats.tx_dropped++;
                return rc == MXRTC_ERR_LIMIT ? MXRTC_ERR_LIMIT : rc;
            }
        }
        return MXRTC_OK;
    }
    int rc = mxrtc_pktq_pushv(&c->txq, NULL, iov, n);
    if (rc == MXRTC_ERR_LIMIT) c->stats.tx_dropped++;
    return rc;
}

/* ---- requests ----------------------------------------------------------- */

static txn *txn_new(mxrtc_turn_client *c, txn_kind kind, size_t index) {
    for (size_t i = 0; i < c->ntxns; i++) {
        if (c->txns[i].kind == TXN_FREE) {
            txn *t = &c->txns[i];
            t->kind = kind;
            t->index = index;
            t->stale_retries = 0;
            t->lifetime = 0;
            t->authenticated = false;
            return t;
        }
    }
    return NULL;
}

static txn *txn_find(mxrtc_turn_client *c, txn_kind kind, size_t index) {
    for (size_t i = 0; i < c->ntxns; i++)
        if (c->txns[i].kind == kind && (kind == TXN_ALLOCATE || kind == TXN_REFRESH || c->txns[i].index == index))
            return &c->txns[i];
    return NULL;
}

static void txn_free(txn *t) {
    mxrtc_wipe(t->req, t->req_len);
    t->kind = TXN_FREE;
    t->req_len = 0;
}

/* (Re)builds t's request with a fresh transaction id and starts its timer. */
static int txn_build_and_start(mxrtc_turn_client *c, txn *t, mxrtc_time_us now) {
    uint8_t tid[MXRTC_STUN_TID_SIZE];
    int rc = mxrtc_random_fill(&c->random, tid, sizeof tid);
    if (rc) return rc;
    uint16_t method;
    switch (t->kind) {
    case TXN_ALLOCATE: method = MXRTC_STUN_ALLOCATE; break;
    case TXN_REFRESH: method = MXRTC_STUN_REFRESH; break;
    case TXN_PERMISSION: method = MXRTC_STUN_CREATE_PERMISSION; break;
    case TXN_CHANNEL: method = MXRTC_STUN_CHANNEL_BIND; break;
    default: return MXRTC_ERR_INTERNAL;
    }
    mxrtc_stun_builder b;
    rc = mxrtc_stun_build_begin(&b, t->req, sizeof t->req, method, MXRTC_STUN_REQUEST, tid);
    if (rc) return rc;
    switch (t->kind) {
    case TXN_ALLOCATE:
        mxrtc_stun_add_requested_transport(&b, PROTO_UDP);
        if (c->lifetime_req) mxrtc_stun_add_u32(&b, MXRTC_STUN_ATTR_LIFETIME, c->lifetime_req);
        break;
    case TXN_REFRESH:
        mxrtc_stun_add_u32(&b, MXRTC_STUN_ATTR_LIFETIME, t->lifetime);
        break;
    case TXN_PERMISSION:
        mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, &c->perms[t->index].peer);
        break;
    case TXN_CHANNEL:
        mxrtc_stun_add_channel(&b, c->chans[t->index].number);
        mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, &c->chans[t->index].peer);
        break;
    default: break;
    }
    if (c->software) mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_SOFTWARE, c->software, strlen(c->software));
    t->authenticated = c->have_key;
    if (c->have_key) {
        /* RFC 8489 §9.2.4: USERNAME, REALM, NONCE, then MESSAGE-INTEGRITY. */
        mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_USERNAME, c->username, strlen(c->username));
        mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_REALM, c->realm, c->realm_len);
        mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_NONCE, c->nonce, c->nonce_len);
        if (c->password_algorithm) {
            uint8_t alg[4] = {(uint8_t)(c->password_algorithm >> 8), (uint8_t)c->password_algorithm, 0, 0};
            mxrtc_stun_add(&b, MXRTC_STUN_ATTR_PASSWORD_ALGORITHM, alg, 4);
            mxrtc_stun_add(&b, MXRTC_STUN_ATTR_PASSWORD_ALGORITHMS, c->password_algorithms,
                           c->password_algorithms_len);
        }
        mxrtc_stun_add_integrity(&b, &c->key);
    }
    mxrtc_stun_add_fingerprint(&b);
    rc = mxrtc_stun_build_end(&b);
    if (rc < 0) return rc;
    t->req_len = (size_t)rc;
    mxrtc_stun_ctrans_start(&t->ct, tid, &c->ctrans_params, now);
    return MXRTC_OK;
}

static int start_request(mxrtc_turn_client *c, txn_kind kind, size_t index, uint32_t lifetime,
                         mxrtc_time_us now) {
    txn *t = txn_new(c, kind, index);
    if (!t) return MXRTC_ERR_LIMIT;
    t->lifetime = lifetime;
    int rc = txn_build_and_start(c, t, now);
    if (rc) txn_free(t);
    return rc;
}

/* ---- lifecycle ---------------------------------------------------------- */

void mxrtc_turn_config_init(mxrtc_turn_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
}

void mxrtc_turn_client_free(mxrtc_turn_client *c) {
    if (!c) return;
    const mxrtc_allocator *a = c->alloc;
    if (c->txns)
        for (size_t i = 0; i < c->ntxns; i++) mxrtc_wipe(c->txns[i].req, c->txns[i].req_len);
    mxrtc_free(a, c->txns);
    mxrtc_free(a, c->perms);
    mxrtc_free(a, c->chans);
    mxrtc_pktq_free(&c->txq, a);
    mxrtc_pktq_free(&c->evq, a);
    mxrtc_tls_stream_free(c->tls);
    mxrtc_free(a, c->framer);
    mxrtc_free(a, c->scratch);
    if (c->password) mxrtc_wipe(c->password, strlen(c->password));
    mxrtc_free(a, c->password);
    mxrtc_free(a, c->username);
    mxrtc_free(a, c->software);
    mxrtc_stun_key_clear(&c->key);
    mxrtc_free(a, c);
}

int mxrtc_turn_client_new(mxrtc_turn_client **out, const mxrtc_turn_config *cfg, mxrtc_time_us now) {
    (void)now;
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!cfg || cfg->size < sizeof *cfg || !cfg->username || !cfg->password ||
        cfg->transport > MXRTC_TURN_TLS)
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (strlen(cfg->username) > MXRTC_STUN_MAX_USERNAME || strlen(cfg->password) > 1024)
        return MXRTC_ERR_INVALID_ARGUMENT;
    const mxrtc_allocator *a = cfg->allocator;
    mxrtc_turn_client *c = mxrtc_calloc(a, 1, sizeof *c);
    if (!c) return MXRTC_ERR_NO_MEMORY;
    c->alloc = a;
    c->random = cfg->random.fn ? cfg->random : mxrtc_random_os();
    c->log = cfg->logger;
    c->transport = cfg->transport;
    c->lifetime_req = cfg->lifetime_s;
    c->ctrans_params.rto_us = cfg->rto_us;
    c->ctrans_params.reliable = cfg->transport != MXRTC_TURN_UDP;
    c->max_peers = cfg->max_peers ? cfg->max_peers : 32;
    c->ntxns = 1 + 2 * c->max_peers;
    c->next_channel = MXRTC_TURN_CHANNEL_MIN;
    c->drained = true;
    int rc = MXRTC_ERR_NO_MEMORY;
    c->username = mxrtc_strdup(a, cfg->username, MXRTC_STUN_MAX_USERNAME);
    c->password = mxrtc_strdup(a, cfg->password, 1024);
    if (cfg->software) c->software = mxrtc_strdup(a, cfg->software, 128);
    c->txns = mxrtc_calloc(a, c->ntxns, sizeof *c->txns);
    c->perms = mxrtc_calloc(a, c->max_peers, sizeof *c->perms);
    c->chans = mxrtc_calloc(a, c->max_peers, sizeof *c->chans);
    if (!c->username || !c->password || (cfg->software && !c->software) || !c->txns || !c->perms || !c->chans)
        goto fail;
    rc = mxrtc_pktq_init(&c->evq, a, cfg->rx_queue_bytes ? cfg->rx_queue_bytes : 256 * 1024, sizeof(ev_meta));
    if (rc) goto fail;
    if (c->transport != MXRTC_TURN_TLS) {
        rc = mxrtc_pktq_init(&c->txq, a, cfg->tx_queue_bytes ? cfg->tx_queue_bytes : 256 * 1024, 0);
        if (rc) goto fail;
    }
    if (reliable(c)) {
        rc = MXRTC_ERR_NO_MEMORY;
        c->framer = mxrtc_malloc(a, sizeof *c->framer);
        if (!c->framer) goto fail;
        mxrtc_stream_framer_init(c->framer);
    }
    if (c->transport == MXRTC_TURN_TLS) {
        rc = MXRTC_ERR_NO_MEMORY;
        c->scratch_len = 16384 + 2048;
        c->scratch = mxrtc_malloc(a, c->scratch_len);
        if (!c->scratch) goto fail;
        mxrtc_tls_stream_config tc;
        mxrtc_tls_stream_config_init(&tc);
        tc.allocator = a;
        tc.random = c->random;
        tc.logger = c->log;
        tc.server_name = cfg->tls_server_name;
        tc.ca_pem = cfg->tls_ca_pem;
        tc.ca_pem_len = cfg->tls_ca_pem_len;
        tc.ca_file = cfg->tls_ca_file;
        tc.insecure_skip_verify = cfg->tls_insecure_skip_verify;
        rc = mxrtc_tls_stream_new(&c->tls, &tc);
        if (rc) goto fail;
    }
    *out = c;
    return MXRTC_OK;
fail:
    mxrtc_turn_client_free(c);
    return rc;
}

/* Inputs may only come once the previous outputs were drained (DESIGN.md).
 * A call that is refused (bad argument, wrong state) changes nothing, so only
 * accepted inputs mark the client as having outputs to drain (input_done). */
static int begin_input(const mxrtc_turn_client *c) {
    if (!c) return MXRTC_ERR_INVALID_ARGUMENT;
    return c->drained ? MXRTC_OK : MXRTC_ERR_STATE;
}

static int input_done(mxrtc_turn_client *c, int rc) {
    if (rc == MXRTC_OK) c->drained = false;
    return rc;
}

int mxrtc_turn_client_allocate(mxrtc_turn_client *c, mxrtc_time_us now) {
    int rc = begin_input(c);
    if (rc) return rc;
    if (c->state != MXRTC_TURN_STATE_IDLE) return MXRTC_ERR_STATE;
    rc = start_request(c, TXN_ALLOCATE, 0, 0, now);
    if (rc) return rc;
    c->state = MXRTC_TURN_STATE_ALLOCATING;
    return input_done(c, MXRTC_OK);
}

static int find_or_add_permission(mxrtc_turn_client *c, const mxrtc_addr *peer) {
    int free_slot = -1;
    for (size_t i = 0; i < c->max_peers; i++) {
        if (c->perms[i].state == ENTRY_FREE) {
            if (free_slot < 0) free_slot = (int)i;
        } else if (same_ip(&c->perms[i].peer, peer)) {
            if (c->perms[i].state == ENTRY_FAILED) c->perms[i].state = ENTRY_WANTED;  /* ask again */
            return (int)i;
        }
    }
    if (free_slot < 0) return MXRTC_ERR_LIMIT;
    permission *p = &c->perms[free_slot];
    memset(p, 0, sizeof *p);
    p->state = ENTRY_WANTED;
    p->peer = *peer;
    return free_slot;
}

static bool usable_peer(const mxrtc_addr *peer) {
    return peer && (peer->family == MXRTC_AF_INET4 || peer->family == MXRTC_AF_INET6);
}

int mxrtc_turn_client_permit(mxrtc_turn_client *c, mxrtc_time_us now, const mxrtc_addr *peer) {
    (void)now;
    if (!usable_peer(peer)) return MXRTC_ERR_INVALID_ARGUMENT;
    int rc = begin_input(c);
    if (rc) return rc;
    if (c->state != MXRTC_TURN_STATE_ALLOCATING && c->state != MXRTC_TURN_STATE_ALLOCATED) return MXRTC_ERR_STATE;
    rc = find_or_add_permission(c, peer);
    return input_done(c, rc < 0 ? rc : MXRTC_OK);
}

int mxrtc_turn_client_bind_channel(mxrtc_turn_client *c, mxrtc_time_us now, const mxrtc_addr *peer,
                                   uint16_t *number) {
    (void)now;
    if (!usable_peer(peer)) return MXRTC_ERR_INVALID_ARGUMENT;
    int rc = begin_input(c);
    if (rc) return rc;
    if (c->state != MXRTC_TURN_STATE_ALLOCATING && c->state != MXRTC_TURN_STATE_ALLOCATED) return MXRTC_ERR_STATE;
    int free_slot = -1;
    for (size_t i = 0; i < c->max_peers; i++) {
        if (c->chans[i].state == ENTRY_FREE) {
            if (free_slot < 0) free_slot = (int)i;
        } else if (mxrtc_addr_equal(&c->chans[i].peer, peer)) {
            if (c->chans[i].state == ENTRY_FAILED) c->chans[i].state = ENTRY_WANTED;
            if (number) *number = c->chans[i].number;
            return input_done(c, MXRTC_OK);
        }
    }
    if (free_slot < 0 || c->next_channel > MXRTC_TURN_CHANNEL_MAX) return MXRTC_ERR_LIMIT;
    /* A channel binding also needs a permission that outlives its 5 minutes (§12). */
    rc = find_or_add_permission(c, peer);
    if (rc < 0) return rc;
    channel *ch = &c->chans[free_slot];
    memset(ch, 0, sizeof *ch);
    ch->state = ENTRY_WANTED;
    ch->peer = *peer;
    ch->number = c->next_channel++;
    if (number) *number = ch->number;
    return input_done(c, MXRTC_OK);
}

int mxrtc_turn_client_deallocate(mxrtc_turn_client *c, mxrtc_time_us now) {
    int rc = begin_input(c);
    if (rc) return rc;
    if (c->state != MXRTC_TURN_STATE_ALLOCATED) return MXRTC_ERR_STATE;
    txn *t = txn_find(c, TXN_REFRESH, 0);
    if (t) txn_free(t);
    rc = start_request(c, TXN_REFRESH, 0, 0, now);   /* §7.2: LIFETIME 0 deletes it */
    if (rc) return rc;
    c->state = MXRTC_TURN_STATE_DEALLOCATING;
    return input_done(c, MXRTC_OK);
}

/* ---- data --------------------------------------------------------------- */

static const channel *bound_channel(const mxrtc_turn_client *c, const mxrtc_addr *peer) {
    for (size_t i = 0; i < c->max_peers; i++)
        if (c->chans[i].state == ENTRY_ACTIVE && mxrtc_addr_equal(&c->chans[i].peer, peer)) return &c->chans[i];
    return NULL;
}

static bool permitted(const mxrtc_turn_client *c, const mxrtc_addr *peer) {
    for (size_t i = 0; i < c->max_peers; i++)
        if (c->perms[i].state == ENTRY_ACTIVE && same_ip(&c->perms[i].peer, peer)) return true;
    return false;
}

int mxrtc_turn_client_send(mxrtc_turn_client *c, mxrtc_time_us now, const mxrtc_addr *peer,
                           const uint8_t *data, size_t len) {
    (void)now;
    if (!usable_peer(peer) || (!data && len) || len > 0xFFFF) return MXRTC_ERR_INVALID_ARGUMENT;
    int rc = begin_input(c);
    if (rc) return rc;
    if (c->state != MXRTC_TURN_STATE_ALLOCATED) return MXRTC_ERR_STATE;
    static const uint8_t zeros[4] = {0};
    const channel *ch = bound_channel(c, peer);
    if (ch) {
        /* §12.4 ChannelData; §12.5: padded to 4 over streams, not over UDP. */
        uint8_t hdr[4] = {(uint8_t)(ch->number >> 8), (uint8_t)ch->number, (uint8_t)(len >> 8), (uint8_t)len};
        size_t pad = reliable(c) ? (4u - (len & 3u)) & 3u : 0;
        mxrtc_iov iov[3] = {{hdr, 4}, {data, len}, {zeros, pad}};
        rc = transmit(c, iov, 3);
    } else {
        if (!permitted(c, peer)) return MXRTC_ERR_NOT_FOUND;
        /* §11: Send indication: XOR-PEER-ADDRESS and DATA; no integrity. The
         * header and attributes are built here, the payload is not copied twice. */
        uint8_t tid[MXRTC_STUN_TID_SIZE];
        rc = mxrtc_random_fill(&c->random, tid, sizeof tid);
        if (rc) return rc;
        uint8_t hdr[MXRTC_STUN_HEADER_SIZE + 24 + 4];
        mxrtc_stun_builder b;
        mxrtc_stun_build_begin(&b, hdr, sizeof hdr, MXRTC_STUN_SEND, MXRTC_STUN_INDICATION, tid);
        mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, peer);
        int hlen = mxrtc_stun_build_end(&b);
        if (hlen < 0) return hlen;
        size_t pad = (4u - (len & 3u)) & 3u;
        uint8_t *dh = hdr + hlen;
        mxrtc_store_u16(dh, MXRTC_STUN_ATTR_DATA);
        mxrtc_store_u16(dh + 2, (uint16_t)len);
        mxrtc_store_u16(hdr + 2, (uint16_t)((size_t)hlen + 4 + len + pad - MXRTC_STUN_HEADER_SIZE));
        mxrtc_iov iov[3] = {{hdr, (size_t)hlen + 4}, {data, len}, {zeros, pad}};
        rc = transmit(c, iov, 3);
    }
    if (rc == MXRTC_OK) c->stats.data_sent++;
    return input_done(c, rc);
}

/* ---- responses ---------------------------------------------------------- */

static void fail_allocation(mxrtc_turn_client *c, int error, int stun_code) {
    c->state = MXRTC_TURN_STATE_FAILED;
    emit_simple(c, MXRTC_TURN_EV_ALLOCATE_FAILED, error, stun_code);
}

static void on_allocated(mxrtc_turn_client *c, const mxrtc_stun_msg *m, mxrtc_time_us now) {
    uint32_t lifetime = 0;
    mxrtc_addr relayed;
    if (mxrtc_stun_get_xor_addr(m, MXRTC_STUN_ATTR_XOR_RELAYED_ADDRESS, &relayed) != MXRTC_OK ||
        mxrtc_stun_get_u32(m, MXRTC_STUN_ATTR_LIFETIME, &lifetime) != MXRTC_OK) {
        c->stats.malformed++;
        fail_allocation(c, MXRTC_ERR_MALFORMED, 0);
        return;
    }
    c->relayed = relayed;
    memset(&c->mapped, 0, sizeof c->mapped);
    (void)mxrtc_stun_get_xor_addr(m, MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &c->mapped);
    c->state = MXRTC_TURN_STATE_ALLOCATED;
    c->expires_at = now + (uint64_t)lifetime * 1000000;
    /* Refresh a minute before expiry, or at half-life for short lifetimes. */
    uint64_t lead = lifetime > 120 ? 60 : lifetime / 2;
    c->refresh_at = now + (uint64_t)(lifetime - lead) * 1000000;
    ev_meta ev;
    memset(&ev, 0, sizeof ev);
    ev.type = MXRTC_TURN_EV_ALLOCATED;
    ev.relayed = c->relayed;
    ev.mapped = c->mapped;
    ev.lifetime_s = lifetime;
    emit(c, &ev, NULL, 0);
    char abuf[MXRTC_ADDR_STRLEN];
    MXRTC_LOGI(c->log, TAG, "allocated relay %s for %u s",
               mxrtc_log_addr(c->log, MXRTC_LOG_INFO, &c->relayed, abuf), (unsigned)lifetime);
}

static void on_refreshed(mxrtc_turn_client *c, const txn *t, const mxrtc_stun_msg *m, mxrtc_time_us now) {
    if (t->lifetime == 0) {
        c->state = MXRTC_TURN_STATE_CLOSED;
        emit_simple(c, MXRTC_TURN_EV_DEALLOCATED, 0, 0);
        return;
    }
    uint32_t lifetime = t->lifetime;
    (void)mxrtc_stun_get_u32(m, MXRTC_STUN_ATTR_LIFETIME, &lifetime);
    c->expires_at = now + (uint64_t)lifetime * 1000000;
    uint64_t lead = lifetime > 120 ? 60 : lifetime / 2;
    c->refresh_at = now + (uint64_t)(lifetime - lead) * 1000000;
    ev_meta ev;
    memset(&ev, 0, sizeof ev);
    ev.type = MXRTC_TURN_EV_REFRESHED;
    ev.lifetime_s = lifetime;
    emit(c, &ev, NULL, 0);
}

/* A transaction ended in failure (error response or timeout). */
static void txn_failed(mxrtc_turn_client *c, txn *t, int error, int stun_code) {
    ev_meta ev;
    memset(&ev, 0, sizeof ev);
    ev.error = error;
    ev.stun_code = stun_code;
    switch (t->kind) {
    case TXN_ALLOCATE:
        fail_allocation(c, error, stun_code);
        break;
    case TXN_REFRESH:
        if (t->lifetime == 0) {            /* deallocation: the relay is gone either way */
            c->state = MXRTC_TURN_STATE_CLOSED;
            emit_simple(c, MXRTC_TURN_EV_DEALLOCATED, error, stun_code);
        } else {
            c->state = MXRTC_TURN_STATE_FAILED;
            emit_simple(c, MXRTC_TURN_EV_ALLOCATION_LOST, error, stun_code);
        }
        break;
    case TXN_PERMISSION:
        c->perms[t->index].state = ENTRY_FAILED;
        ev.type = MXRTC_TURN_EV_PERMISSION_FAILED;
        ev.peer = c->perms[t->index].peer;
        emit(c, &ev, NULL, 0);
        break;
    case TXN_CHANNEL:
        c->chans[t->index].state = ENTRY_FAILED;
        ev.type = MXRTC_TURN_EV_CHANNEL_FAILED;
        ev.peer = c->chans[t->index].peer;
        ev.channel = c->chans[t->index].number;
        emit(c, &ev, NULL, 0);
        break;
    default:
        break;
    }
    txn_free(t);
}

/* The long-term key (RFC 8489 §9.2.2) for the current realm and algorithm
 * (MD5 unless the server offered SHA-256 through PASSWORD-ALGORITHMS). */
static int derive_key(mxrtc_turn_client *c) {
    uint16_t alg = c->password_algorithm ? c->password_algorithm : MXRTC_STUN_PASSWORD_MD5;
    return mxrtc_stun_key_long_term(&c->key, alg, c->username, strlen(c->username), c->realm, c->realm_len,
                                    c->password, strlen(c->password));
}

/* 401 on the first unauthenticated request: learn REALM/NONCE and derive the
 * long-term key (RFC 8489 §9.2.3, §9.2.4). */
static int learn_credentials(mxrtc_turn_client *c, const mxrtc_stun_msg *m) {
    const char *realm, *nonce;
    size_t rlen, nlen;
    if (mxrtc_stun_get_text(m, MXRTC_STUN_ATTR_REALM, &realm, &rlen) != MXRTC_OK ||
        mxrtc_stun_get_text(m, MXRTC_STUN_ATTR_NONCE, &nonce, &nlen) != MXRTC_OK)
        return MXRTC_ERR_MALFORMED;
    memcpy(c->realm, realm, rlen);
    c->realm_len = rlen;
    memcpy(c->nonce, nonce, nlen);
    c->nonce_len = nlen;
    /* §9.2.4: a nonce starting with the cookie "obMatJos2" offers security
     * features; PASSWORD-ALGORITHMS lists what the server accepts. Prefer
     * SHA-256 when offered, else MD5 (the only choice for RFC 5389 servers
     * such as coturn without it). */
    c->password_algorithm = 0;
    c->password_algorithms_len = 0;
    uint16_t algs[8];
    size_t nalgs = 0;
    const mxrtc_stun_attr *pa = mxrtc_stun_find(m, MXRTC_STUN_ATTR_PASSWORD_ALGORITHMS);
    if (pa && mxrtc_stun_get_password_algorithms(m, algs, 8, &nalgs) == MXRTC_OK && nalgs > 0 &&
        pa->len <= sizeof c->password_algorithms) {
        uint16_t pick = 0;
        for (size_t i = 0; i < nalgs; i++)
            if (algs[i] == MXRTC_STUN_PASSWORD_SHA256) pick = MXRTC_STUN_PASSWORD_SHA256;
        for (size_t i = 0; i < nalgs && !pick; i++)
            if (algs[i] == MXRTC_STUN_PASSWORD_MD5) pick = MXRTC_STUN_PASSWORD_MD5;
        if (!pick) return MXRTC_ERR_UNSUPPORTED;
        c->password_algorithm = pick;
        memcpy(c->password_algorithms, pa->value, pa->len);
        c->password_algorithms_len = pa->len;
    }
    int rc = derive_key(c);
    if (rc) return rc;
    c->have_key = true;
    return MXRTC_OK;
}

static void on_response(mxrtc_turn_client *c, txn *t, const mxrtc_stun_msg *m, mxrtc_time_us now) {
    c->stats.responses_received++;
    if (m->cls == MXRTC_STUN_ERROR) {
        int code = 0;
        if (mxrtc_stun_get_error(m, &code, NULL, NULL) != MXRTC_OK) {
            c->stats.malformed++;
            txn_failed(c, t, MXRTC_ERR_MALFORMED, 0);
            return;
        }
        if (code == MXRTC_STUN_ERR_UNAUTHORIZED && !t->authenticated) {
            int rc = learn_credentials(c, m);
            if (rc == MXRTC_OK) rc = txn_build_and_start(c, t, now);
            if (rc) txn_failed(c, t, rc, code);
            return;
        }
        if (code == MXRTC_STUN_ERR_STALE_NONCE && t->stale_retries < MAX_STALE_RETRIES) {
            /* §9.2.5: take the new NONCE (and REALM) and try again. */
            const char *nonce, *realm;
            size_t nlen, rlen;
            if (mxrtc_stun_get_text(m, MXRTC_STUN_ATTR_NONCE, &nonce, &nlen) != MXRTC_OK) {
                txn_failed(c, t, MXRTC_ERR_MALFORMED, code);
                return;
            }
            memcpy(c->nonce, nonce, nlen);
            c->nonce_len = nlen;
            if (mxrtc_stun_get_text(m, MXRTC_STUN_ATTR_REALM, &realm, &rlen) == MXRTC_OK &&
                (rlen != c->realm_len || memcmp(realm, c->realm, rlen) != 0)) {
                /* A new realm changes the key. */
                memcpy(c->realm, realm, rlen);
                c->realm_len = rlen;
                int krc = derive_key(c);
                if (krc) {
                    txn_failed(c, t, krc, code);
                    return;
                }
            }
            t->stale_retries++;
            int rc = txn_build_and_start(c, t, now);
            if (rc) txn_failed(c, t, rc, code);
            return;
        }
        int err = (code == MXRTC_STUN_ERR_UNAUTHORIZED || code == MXRTC_STUN_ERR_WRONG_CREDENTIALS ||
                   code == MXRTC_STUN_ERR_FORBIDDEN)
                      ? MXRTC_ERR_AUTH
                      : MXRTC_ERR_REMOTE;
        MXRTC_LOGI(c->log, TAG, "%s failed: STUN error %d", mxrtc_stun_method_name(m->method), code);
        txn_failed(c, t, err, code);
        return;
    }
    switch (t->kind) {
    case TXN_ALLOCATE:
        on_allocated(c, m, now);
        break;
    case TXN_REFRESH:
        on_refreshed(c, t, m, now);
        break;
    case TXN_PERMISSION: {
        permission *p = &c->perms[t->index];
        p->state = ENTRY_ACTIVE;
        p->refresh_at = now + PERMISSION_REFRESH_US;
        if (!p->reported) {
            p->reported = true;
            ev_meta ev;
            memset(&ev, 0, sizeof ev);
            ev.type = MXRTC_TURN_EV_PERMISSION_CREATED;
            ev.peer = p->peer;
            emit(c, &ev, NULL, 0);
        }
        break;
    }
    case TXN_CHANNEL: {
        channel *ch = &c->chans[t->index];
        ch->state = ENTRY_ACTIVE;
        ch->refresh_at = now + CHANNEL_REFRESH_US;
        if (!ch->reported) {
            ch->reported = true;
            ev_meta ev;
            memset(&ev, 0, sizeof ev);
            ev.type = MXRTC_TURN_EV_CHANNEL_BOUND;
            ev.peer = ch->peer;
            ev.channel = ch->number;
            emit(c, &ev, NULL, 0);
        }
        break;
    }
    default:
        break;
    }
    txn_free(t);
}

static void on_stun(mxrtc_turn_client *c, const uint8_t *buf, size_t len, mxrtc_time_us now) {
    mxrtc_stun_msg m;
    int rc = mxrtc_stun_decode(&m, buf, len);
    if (rc != MXRTC_OK) {
        /* Unknown comprehension-required attributes in a response: discard (§6.3.3). */
        c->stats.malformed++;
        return;
    }
    if (m.cls == MXRTC_STUN_INDICATION) {
        if (m.method != MXRTC_STUN_DATA) return;
        /* §11.6: Data indication from a peer. */
        mxrtc_addr peer;
        const uint8_t *data;
        size_t dlen;
        if (mxrtc_stun_get_xor_addr(&m, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, &peer) != MXRTC_OK ||
            mxrtc_stun_get_data(&m, &data, &dlen) != MXRTC_OK) {
            c->stats.malformed++;
            return;
        }
        c->stats.data_received++;
        ev_meta ev;
        memset(&ev, 0, sizeof ev);
        ev.type = MXRTC_TURN_EV_DATA;
        ev.peer = peer;
        emit(c, &ev, data, dlen);
        return;
    }
    if (m.cls != MXRTC_STUN_SUCCESS && m.cls != MXRTC_STUN_ERROR) return;  /* requests: not a server */
    txn *t = NULL;
    for (size_t i = 0; i < c->ntxns; i++) {
        if (c->txns[i].kind != TXN_FREE && c->txns[i].ct.state == MXRTC_STUN_CTRANS_RUNNING &&
            memcmp(c->txns[i].ct.tid, m.tid, MXRTC_STUN_TID_SIZE) == 0) {
            t = &c->txns[i];
            break;
        }
    }
    if (!t) {
        c->stats.unmatched++;
        return;
    }
    /* RFC 8489 §9.2.5: a response to an authenticated request must carry a
     * valid MESSAGE-INTEGRITY, except the error responses that tell us the
     * credentials are wrong or stale (401, 438), which the server cannot sign. */
    if (t->authenticated) {
        int code = 0;
        bool unsigned_ok = m.cls == MXRTC_STUN_ERROR && mxrtc_stun_get_error(&m, &code, NULL, NULL) == MXRTC_OK &&
                           (code == MXRTC_STUN_ERR_UNAUTHORIZED || code == MXRTC_STUN_ERR_STALE_NONCE ||
                            code == MXRTC_STUN_ERR_BAD_REQUEST);
        if (!unsigned_ok && mxrtc_stun_check_integrity(&m, &c->key) != MXRTC_OK) {
            c->stats.unauthenticated++;
            return;
        }
    }
    mxrtc_stun_ctrans_match(&t->ct, &m);
    on_response(c, t, &m, now);
}

static void on_channeldata(mxrtc_turn_client *c, const uint8_t *buf, size_t len) {
    uint16_t number;
    const uint8_t *data;
    size_t dlen;
    if (mxrtc_channeldata_decode(buf, len, &number, &data, &dlen) != MXRTC_OK) {
        c->stats.malformed++;
        return;
    }
    for (size_t i = 0; i < c->max_peers; i++) {
        const channel *ch = &c->chans[i];
        if (ch->state != ENTRY_FREE && ch->state != ENTRY_WANTED && ch->number == number) {
            c->stats.data_received++;
            ev_meta ev;
            memset(&ev, 0, sizeof ev);
            ev.type = MXRTC_TURN_EV_DATA;
            ev.peer = ch->peer;
            ev.channel = number;
            emit(c, &ev, data, dlen);
            return;
        }
    }
    c->stats.unknown_channel++;
}

static void transport_failed(mxrtc_turn_client *c, int error) {
    if (c->state == MXRTC_TURN_STATE_FAILED || c->state == MXRTC_TURN_STATE_CLOSED) return;
    c->state = MXRTC_TURN_STATE_FAILED;
    for (size_t i = 0; i < c->ntxns; i++)
        if (c->txns[i].kind != TXN_FREE) txn_free(&c->txns[i]);
    emit_simple(c, MXRTC_TURN_EV_TRANSPORT_FAILED, error, 0);
}

/* Stream bytes (TCP plaintext or decrypted TLS) through the framer. */
static void on_stream_bytes(mxrtc_turn_client *c, const uint8_t *data, size_t len, mxrtc_time_us now) {
    while (len > 0) {
        size_t took = mxrtc_stream_framer_push(c->framer, data, len);
        data += took;
        len -= took;
        const uint8_t *frame;
        size_t flen;
        int is_cd, rc;
        bool any = false;
        while ((rc = mxrtc_stream_framer_next(c->framer, &frame, &flen, &is_cd)) == MXRTC_OK) {
            any = true;
            if (is_cd) on_channeldata(c, frame, flen);
            else on_stun(c, frame, flen, now);
        }
        if (rc != MXRTC_ERR_AGAIN) {
            c->stats.malformed++;
            transport_failed(c, MXRTC_ERR_MALFORMED);
            return;
        }
        if (took == 0 && !any) {  /* cannot happen with a correct framer: refuse to spin */
            transport_failed(c, MXRTC_ERR_INTERNAL);
            return;
        }
    }
}

int mxrtc_turn_client_handle_input(mxrtc_turn_client *c, mxrtc_time_us now, const uint8_t *data, size_t len) {
    if (!data && len) return MXRTC_ERR_INVALID_ARGUMENT;
    int rc = begin_input(c);
    if (rc) return rc;
    c->drained = false;
    if (c->state == MXRTC_TURN_STATE_FAILED && reliable(c)) return MXRTC_OK;  /* stream is dead */
    switch (c->transport) {
    case MXRTC_TURN_UDP:
        /* RFC 8656 §12: ChannelData starts with 0b01, STUN with 0b00. */
        if (len >= 1 && (data[0] & 0xC0) == 0x40) on_channeldata(c, data, len);
        else on_stun(c, data, len, now);
        break;
    case MXRTC_TURN_TCP:
        on_stream_bytes(c, data, len, now);
        break;
    case MXRTC_TURN_TLS:
        while (len > 0) {
            int took = mxrtc_tls_stream_handle_input(c->tls, data, len);
            if (took < 0) {
                transport_failed(c, took);
                return MXRTC_OK;
            }
            data += took;
            len -= (size_t)took;
            int n;
            while ((n = mxrtc_tls_stream_read(c->tls, c->scratch, c->scratch_len)) > 0)
                on_stream_bytes(c, c->scratch, (size_t)n, now);
            if (n != MXRTC_ERR_AGAIN) {
                transport_failed(c, n == MXRTC_ERR_CLOSED ? MXRTC_ERR_CLOSED : n);
                return MXRTC_OK;
            }
            if (took == 0) break;
        }
        break;
    }
    return MXRTC_OK;
}

int mxrtc_turn_client_handle_eof(mxrtc_turn_client *c, mxrtc_time_us now) {
    (void)now;
    int rc = begin_input(c);
    if (rc) return rc;
    if (!reliable(c)) return MXRTC_ERR_INVALID_ARGUMENT;
    c->drained = false;
    if (c->state == MXRTC_TURN_STATE_DEALLOCATING) {
        c->state = MXRTC_TURN_STATE_CLOSED;
        emit_simple(c, MXRTC_TURN_EV_DEALLOCATED, MXRTC_ERR_CLOSED, 0);
        return MXRTC_OK;
    }
    transport_failed(c, MXRTC_ERR_CLOSED);
    return MXRTC_OK;
}

/* ---- time --------------------------------------------------------------- */

/* Starts whatever requests are due: permissions and channels wanted or due
 * for refresh, and the allocation refresh. */
static void schedule(mxrtc_turn_client *c, mxrtc_time_us now) {
    if (c->state != MXRTC_TURN_STATE_ALLOCATED) return;
    if (now >= c->expires_at) {
        c->state = MXRTC_TURN_STATE_FAILED;
        emit_simple(c, MXRTC_TURN_EV_ALLOCATION_LOST, MXRTC_ERR_TIMEOUT, 0);
        return;
    }
    if (now >= c->refresh_at && !txn_find(c, TXN_REFRESH, 0)) {
        uint32_t lifetime = c->lifetime_req ? c->lifetime_req : DEFAULT_LIFETIME_S;
        if (start_request(c, TXN_REFRESH, 0, lifetime, now) == MXRTC_OK) c->refresh_at = MXRTC_TIME_NEVER;
    }
    for (size_t i = 0; i < c->max_peers; i++) {
        permission *p = &c->perms[i];
        if ((p->state == ENTRY_WANTED || (p->state == ENTRY_ACTIVE && now >= p->refresh_at)) &&
            !txn_find(c, TXN_PERMISSION, i)) {
            if (start_request(c, TXN_PERMISSION, i, 0, now) == MXRTC_OK) {
                if (p->state == ENTRY_WANTED) p->state = ENTRY_PENDING;
                p->refresh_at = MXRTC_TIME_NEVER;
            }
        }
        channel *ch = &c->chans[i];
        if ((ch->state == ENTRY_WANTED || (ch->state == ENTRY_ACTIVE && now >= ch->refresh_at)) &&
            !txn_find(c, TXN_CHANNEL, i)) {
            if (start_request(c, TXN_CHANNEL, i, 0, now) == MXRTC_OK) {
                if (ch->state == ENTRY_WANTED) ch->state = ENTRY_PENDING;
                ch->refresh_at = MXRTC_TIME_NEVER;
            }
        }
    }
}

/* Sends what the transaction timers ask for, and fails what timed out. */
static void run_timers(mxrtc_turn_client *c, mxrtc_time_us now) {
    for (size_t i = 0; i < c->ntxns; i++) {
        txn *t = &c->txns[i];
        if (t->kind == TXN_FREE) continue;
        switch (mxrtc_stun_ctrans_poll(&t->ct, now)) {
        case MXRTC_STUN_CTRANS_SEND: {
            mxrtc_iov iov = {t->req, t->req_len};
            if (transmit(c, &iov, 1) == MXRTC_OK) c->stats.requests_sent++;
            break;
        }
        case MXRTC_STUN_CTRANS_TIMEOUT:
            MXRTC_LOGI(c->log, TAG, "request timed out");
            txn_failed(c, t, MXRTC_ERR_TIMEOUT, 0);
            break;
        case MXRTC_STUN_CTRANS_WAIT:
            break;
        }
    }
}

int mxrtc_turn_client_handle_timeout(mxrtc_turn_client *c, mxrtc_time_us now) {
    (void)now;  /* timers and refreshes run in poll, which is given the time */
    return input_done(c, begin_input(c));
}

static mxrtc_time_us next_deadline(const mxrtc_turn_client *c) {
    mxrtc_time_us d = MXRTC_TIME_NEVER;
    for (size_t i = 0; i < c->ntxns; i++) {
        if (c->txns[i].kind == TXN_FREE) continue;
        mxrtc_time_us t = mxrtc_stun_ctrans_deadline(&c->txns[i].ct);
        if (t < d) d = t;
    }
    if (c->state == MXRTC_TURN_STATE_ALLOCATED) {
        if (c->refresh_at < d) d = c->refresh_at;
        if (c->expires_at < d) d = c->expires_at;
        for (size_t i = 0; i < c->max_peers; i++) {
            if (c->perms[i].state == ENTRY_ACTIVE && c->perms[i].refresh_at < d) d = c->perms[i].refresh_at;
            if (c->chans[i].state == ENTRY_ACTIVE && c->chans[i].refresh_at < d) d = c->chans[i].refresh_at;
        }
    }
    return d;
}

int mxrtc_turn_client_poll(mxrtc_turn_client *c, mxrtc_time_us now, mxrtc_turn_output *out) {
    if (!c || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (c->tx_pop) { mxrtc_pktq_pop(&c->txq); c->tx_pop = false; }
    if (c->ev_pop) { mxrtc_pktq_pop(&c->evq); c->ev_pop = false; }
    /* Every poll first lets time and state produce what is due. */
    schedule(c, now);
    run_timers(c, now);

    if (c->transport == MXRTC_TURN_TLS) {
        int n = mxrtc_tls_stream_pending_output(c->tls, c->scratch, c->scratch_len);
        if (n > 0) {
            out->kind = MXRTC_TURN_OUT_TRANSMIT;
            out->data = c->scratch;
            out->len = (size_t)n;
            return MXRTC_OK;
        }
    } else if (mxrtc_pktq_front(&c->txq, NULL, &out->data, &out->len) == MXRTC_OK) {
        out->kind = MXRTC_TURN_OUT_TRANSMIT;
        c->tx_pop = true;
        return MXRTC_OK;
    }
    ev_meta ev;
    if (mxrtc_pktq_front(&c->evq, &ev, &out->data, &out->len) == MXRTC_OK) {
        c->ev_pop = true;
        out->kind = MXRTC_TURN_OUT_EVENT;
        out->event = ev.type;
        out->error = ev.error;
        out->stun_code = ev.stun_code;
        out->peer = ev.peer;
        out->channel = ev.channel;
        out->relayed = ev.relayed;
        out->mapped = ev.mapped;
        out->lifetime_s = ev.lifetime_s;
        if (!out->len) out->data = NULL;
        return MXRTC_OK;
    }
    out->kind = MXRTC_TURN_OUT_DEADLINE;
    out->deadline = next_deadline(c);
    c->drained = true;
    return MXRTC_OK;
}

/* ---- queries ------------------------------------------------------------ */

mxrtc_turn_state mxrtc_turn_client_state(const mxrtc_turn_client *c) {
    return c ? c->state : MXRTC_TURN_STATE_FAILED;
}

void mxrtc_turn_client_stats(const mxrtc_turn_client *c, mxrtc_turn_stats *out) {
    if (c && out) *out = c->stats;
}

int mxrtc_turn_client_relayed_address(const mxrtc_turn_client *c, mxrtc_addr *out) {
    if (!c || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    if (c->state != MXRTC_TURN_STATE_ALLOCATED) return MXRTC_ERR_STATE;
    *out = c->relayed;
    return MXRTC_OK;
}
