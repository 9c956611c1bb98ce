/*
 * simnet_turn.c: a small TURN server (RFC 8656, UDP) inside simnet, for
 * tests that need relayed candidates. One user, MD5 long-term credentials
 * (RFC 8489 §9.2), a fixed nonce; bounded tables; anything it does not
 * understand is dropped. Test support: clarity over completeness (no
 * EVEN-PORT, RESERVATION-TOKEN, DONT-FRAGMENT, IPv6 relaying of IPv4...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "stun/stun.h"
#include "support/simnet_internal.h"

#define MAX_ALLOCS 16
#define MAX_PEERS 16
#define NONCE "c2ltbmV0bm9uY2U"
#define LIFETIME_S 600

typedef struct alloc {
    bool used;
    mxrtc_addr client;          /* as the server sees it (after NAT) */
    mxrtc_addr relayed;
    mxrtc_time_us expires;
    mxrtc_addr perms[MAX_PEERS];
    size_t nperms;
    struct { uint16_t number; mxrtc_addr peer; } chans[MAX_PEERS];
    size_t nchans;
} alloc;

struct simnet_turn {
    mxrtc_addr addr;            /* control address (IP and port) */
    mxrtc_addr relay_ip;
    char user[64], realm[64];
    mxrtc_stun_key key;
    uint16_t next_port;
    alloc allocs[MAX_ALLOCS];
    uint64_t deallocations;     /* Refresh with LIFETIME 0 that deleted an allocation */
};

static bool ip_eq(const mxrtc_addr *a, const mxrtc_addr *b) {
    if (a->family != b->family) return false;
    return memcmp(a->ip, b->ip, a->family == MXRTC_AF_INET6 ? 16 : 4) == 0;
}

int simnet_add_turn_server(simnet *net, int realm, const mxrtc_addr *addr, const mxrtc_addr *relay_ip,
                           const char *user, const char *password, const char *realm_name) {
    struct simnet_turn *t = calloc(1, sizeof *t);
    if (!t) abort();
    t->addr = *addr;
    t->relay_ip = *relay_ip;
    t->relay_ip.port = 0;
    snprintf(t->user, sizeof t->user, "%s", user);
    snprintf(t->realm, sizeof t->realm, "%s", realm_name);
    if (mxrtc_stun_key_long_term(&t->key, MXRTC_STUN_PASSWORD_MD5, user, strlen(user), realm_name,
                                 strlen(realm_name), password, strlen(password)) != MXRTC_OK)
        abort();
    t->next_port = 50000;
    int h = simnet_add_host(net, "turn");
    simnet_host_add_interface(net, h, realm, addr);
    if (!ip_eq(addr, relay_ip)) simnet_host_add_interface(net, h, realm, relay_ip);
    simnet_host_set_turn(net, h, t);
    return h;
}

void simnet_turn_free(struct simnet_turn *t) {
    free(t);
}

void simnet_turn_counts(const struct simnet_turn *t, mxrtc_time_us now, size_t *live, uint64_t *deallocations) {
    for (size_t i = 0; i < MAX_ALLOCS; i++)
        if (t->allocs[i].used && now < t->allocs[i].expires) (*live)++;
    *deallocations += t->deallocations;
}

static alloc *find_alloc(struct simnet_turn *t, const mxrtc_addr *client, mxrtc_time_us now) {
    for (size_t i = 0; i < MAX_ALLOCS; i++) {
        alloc *a = &t->allocs[i];
        if (a->used && now >= a->expires) a->used = false;
        if (a->used && mxrtc_addr_equal(&a->client, client)) return a;
    }
    return NULL;
}

static bool permitted(const alloc *a, const mxrtc_addr *peer) {
    for (size_t i = 0; i < a->nperms; i++)
        if (ip_eq(&a->perms[i], peer)) return true;
    return false;
}

static void permit(alloc *a, const mxrtc_addr *peer) {
    if (permitted(a, peer) || a->nperms == MAX_PEERS) return;
    a->perms[a->nperms++] = *peer;
}

/* Sends a response: success or error, authenticated unless it is the 401. */
static void respond(simnet *net, int host_id, struct simnet_turn *t, const mxrtc_stun_msg *req,
                    const mxrtc_addr *client, mxrtc_time_us now, int code, const alloc *a,
                    uint32_t lifetime) {
    uint8_t buf[512];
    mxrtc_stun_builder b;
    mxrtc_stun_build_begin(&b, buf, sizeof buf, req->method, code ? MXRTC_STUN_ERROR : MXRTC_STUN_SUCCESS,
                           req->tid);
    if (code) {
        mxrtc_stun_add_error(&b, code, code == 401 ? "Unauthorized" : "Error");
        if (code == 401 || code == 438) {
            mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_REALM, t->realm, strlen(t->realm));
            mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_NONCE, NONCE, strlen(NONCE));
        }
    } else if (req->method == MXRTC_STUN_ALLOCATE && a) {
        mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_RELAYED_ADDRESS, &a->relayed);
        mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS, client);
        mxrtc_stun_add_u32(&b, MXRTC_STUN_ATTR_LIFETIME, lifetime);
    } else if (req->method == MXRTC_STUN_REFRESH) {
        mxrtc_stun_add_u32(&b, MXRTC_STUN_ATTR_LIFETIME, lifetime);
    }
    if (code != 401) mxrtc_stun_add_integrity(&b, &t->key);
    mxrtc_stun_add_fingerprint(&b);
    int n = mxrtc_stun_build_end(&b);
    if (n > 0) simnet_send(net, host_id, &t->addr, client, buf, (size_t)n, now);
}

static bool authentic(struct simnet_turn *t, const mxrtc_stun_msg *m) {
    const char *u;
    size_t ul;
    if (m->integrity < 0 || mxrtc_stun_get_text(m, MXRTC_STUN_ATTR_USERNAME, &u, &ul) != MXRTC_OK) return false;
    if (ul != strlen(t->user) || memcmp(u, t->user, ul) != 0) return false;
    return mxrtc_stun_check_integrity(m, &t->key) == MXRTC_OK;
}

static void on_request(simnet *net, int host_id, struct simnet_turn *t, const mxrtc_stun_msg *m,
                       const mxrtc_addr *client, mxrtc_time_us now) {
    if (!authentic(t, m)) {
        /* RFC 8489 §9.2.4: a request without (valid) credentials gets 401. */
        if (m->integrity >= 0) simnet_count_turn(net, false, true);
        respond(net, host_id, t, m, client, now, 401, NULL, 0);
        return;
    }
    alloc *a = find_alloc(t, client, now);
    switch (m->method) {
    case MXRTC_STUN_ALLOCATE:
        if (!a) {
            for (size_t i = 0; i < MAX_ALLOCS && !a; i++)
                if (!t->allocs[i].used) a = &t->allocs[i];
            if (!a) {
                respond(net, host_id, t, m, client, now, 486, NULL, 0);
                return;
            }
            memset(a, 0, sizeof *a);
            a->used = true;
            a->client = *client;
            a->relayed = t->relay_ip;
            a->relayed.port = t->next_port++;
        }
        a->expires = now + (mxrtc_time_us)LIFETIME_S * 1000000;
        respond(net, host_id, t, m, client, now, 0, a, LIFETIME_S);
        return;
    case MXRTC_STUN_REFRESH: {
        if (!a) {
            respond(net, host_id, t, m, client, now, 437, NULL, 0);
            return;
        }
        uint32_t lifetime = LIFETIME_S;
        if (mxrtc_stun_get_u32(m, MXRTC_STUN_ATTR_LIFETIME, &lifetime) == MXRTC_OK && lifetime == 0) {
            /* RFC 8656 §7.2: LIFETIME 0 deletes the allocation now. */
            a->used = false;
            t->deallocations++;
        } else
            a->expires = now + (mxrtc_time_us)LIFETIME_S * 1000000;
        respond(net, host_id, t, m, client, now, 0, a, lifetime ? LIFETIME_S : 0);
        return;
    }
    case MXRTC_STUN_CREATE_PERMISSION: {
        mxrtc_addr peer;
        if (!a || mxrtc_stun_get_xor_addr(m, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, &peer) != MXRTC_OK) {
            respond(net, host_id, t, m, client, now, a ? 400 : 437, NULL, 0);
            return;
        }
        /* Every XOR-PEER-ADDRESS (RFC 8656 §10.1) */
        for (size_t i = 0; i < m->nattrs; i++) {
            if (m->attrs[i].type != MXRTC_STUN_ATTR_XOR_PEER_ADDRESS) continue;
            mxrtc_stun_msg one = *m;
            one.attrs[0] = m->attrs[i];
            one.nattrs = 1;
            if (mxrtc_stun_get_xor_addr(&one, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, &peer) == MXRTC_OK) permit(a, &peer);
        }
        respond(net, host_id, t, m, client, now, 0, a, 0);
        return;
    }
    case MXRTC_STUN_CHANNEL_BIND: {
        mxrtc_addr peer;
        uint16_t ch;
        if (!a || mxrtc_stun_get_xor_addr(m, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, &peer) != MXRTC_OK ||
            mxrtc_stun_get_channel(m, &ch) != MXRTC_OK || ch < 0x4000 || ch > 0x4FFF) {
            respond(net, host_id, t, m, client, now, a ? 400 : 437, NULL, 0);
            return;
        }
        bool found = false;
        for (size_t i = 0; i < a->nchans; i++)
            if (a->chans[i].number == ch) found = true;
        if (!found && a->nchans < MAX_PEERS) {
            a->chans[a->nchans].number = ch;
            a->chans[a->nchans].peer = peer;
            a->nchans++;
        }
        permit(a, &peer);
        respond(net, host_id, t, m, client, now, 0, a, 0);
        return;
    }
    default:
        respond(net, host_id, t, m, client, now, 400, NULL, 0);
    }
}

/* From a client to its peer through the relayed address (§11, §12). */
static void relay_out(simnet *net, int host_id, alloc *a, const mxrtc_addr *peer, const uint8_t *data,
                      size_t len, mxrtc_time_us now) {
    if (!permitted(a, peer)) return;
    simnet_count_turn(net, true, false);
    simnet_send(net, host_id, &a->relayed, peer, data, len, now);
}

void simnet_turn_input(simnet *net, int host_id, struct simnet_turn *t, mxrtc_addr from, mxrtc_addr to,
                       const uint8_t *data, size_t len, mxrtc_time_us now) {
    if (to.port != t->addr.port || !ip_eq(&to, &t->addr)) {
        /* A peer writing to a relayed address. */
        for (size_t i = 0; i < MAX_ALLOCS; i++) {
            alloc *a = &t->allocs[i];
            if (!a->used || now >= a->expires || !mxrtc_addr_equal(&a->relayed, &to)) continue;
            if (!permitted(a, &from)) return; /* §9: no permission, dropped */
            simnet_count_turn(net, true, false);
            uint8_t buf[SIMNET_MAX_DATAGRAM + 64];
            for (size_t c = 0; c < a->nchans; c++) {
                if (!mxrtc_addr_equal(&a->chans[c].peer, &from) || len + 4 > sizeof buf) continue;
                /* §12.4 ChannelData: number, length, data (no padding on UDP). */
                mxrtc_store_u16(buf, a->chans[c].number);
                mxrtc_store_u16(buf + 2, (uint16_t)len);
                memcpy(buf + 4, data, len);
                simnet_send(net, host_id, &t->addr, &a->client, buf, len + 4, now);
                return;
            }
            /* §11.3 Data indication. */
            uint8_t tid[12] = {0};
            mxrtc_store_u32(tid, (uint32_t)now);
            mxrtc_stun_builder b;
            mxrtc_stun_build_begin(&b, buf, sizeof buf, MXRTC_STUN_DATA, MXRTC_STUN_INDICATION, tid);
            mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, &from);
            mxrtc_stun_add(&b, MXRTC_STUN_ATTR_DATA, data, len);
            int n = mxrtc_stun_build_end(&b);
            if (n > 0) simnet_send(net, host_id, &t->addr, &a->client, buf, (size_t)n, now);
            return;
        }
        return;
    }
    alloc *a = find_alloc(t, &from, now);
    if (len >= 4 && (data[0] & 0xC0) == 0x40) {
        /* ChannelData from the client. */
        uint16_t ch = mxrtc_load_u16(data), n = mxrtc_load_u16(data + 2);
        if (!a || (size_t)n + 4 > len) return;
        for (size_t c = 0; c < a->nchans; c++)
            if (a->chans[c].number == ch) relay_out(net, host_id, a, &a->chans[c].peer, data + 4, n, now);
        return;
    }
    mxrtc_stun_msg m;
    if (mxrtc_stun_decode(&m, data, len) != MXRTC_OK) return;
    if (m.cls == MXRTC_STUN_REQUEST) {
        on_request(net, host_id, t, &m, &from, now);
    } else if (m.cls == MXRTC_STUN_INDICATION && m.method == MXRTC_STUN_SEND && a) {
        mxrtc_addr peer;
        const uint8_t *d;
        size_t dl;
        if (mxrtc_stun_get_xor_addr(&m, MXRTC_STUN_ATTR_XOR_PEER_ADDRESS, &peer) == MXRTC_OK &&
            mxrtc_stun_get_data(&m, &d, &dl) == MXRTC_OK)
            relay_out(net, host_id, a, &peer, d, dl, now);
    }
}
