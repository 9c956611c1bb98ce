/*
 * simnet.c: the simulated network of simnet.h. Test support: clarity over
 * speed (linear scans over small tables), abort() on API misuse.
 */
#include "support/simnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/random.h"

typedef struct perm {
    mxrtc_addr remote;          /* IP and port the inside host sent to */
    mxrtc_time_us last;
} perm;

typedef struct mapping {
    mxrtc_addr internal;        /* inside IP:port */
    mxrtc_addr remote;          /* destination (symmetric NAT key only) */
    uint16_t external_port;
    mxrtc_time_us last_out;
    perm *perms;
    size_t nperms, capperms;
} mapping;

typedef struct nat {
    simnet_nat_type type;
    int outside, inside;
    mxrtc_addr public_ip;
    mxrtc_time_us timeout;
    mapping *maps;
    size_t nmaps, capmaps;
    uint32_t next_port;
} nat;

typedef struct iface {
    int realm;
    mxrtc_addr ip;
    simnet_link link;
} iface;

typedef struct host {
    char name[32];
    iface *ifs;
    size_t nifs;
    bool stun;
    uint16_t stun_port;
    struct simnet_turn *turn;
} host;

typedef struct flight {
    int host;
    mxrtc_addr from, to;
    mxrtc_time_us at;
    uint64_t seq;
    uint8_t *data;
    size_t len;
} flight;

struct simnet {
    mxrtc_seeded_random rng;
    int nrealms;
    nat *nats;
    int nnats;
    host *hosts;
    int nhosts;
    flight *fl;
    size_t nfl;
    uint64_t seq;
    uint8_t *popped;            /* data of the last popped packet */
    simnet_stats stats;
    uint64_t turn_relayed, turn_auth_failures;
};

#include "support/simnet_internal.h"


static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) abort();
    return q;
}

static bool ip_equal(const mxrtc_addr *a, const mxrtc_addr *b) {
    if (a->family != b->family) return false;
    size_t n = a->family == MXRTC_AF_INET4 ? 4 : a->family == MXRTC_AF_INET6 ? 16 : 0;
    return n && memcmp(a->ip, b->ip, n) == 0;
}

double simnet_random(simnet *net) {
    return (double)(mxrtc_seeded_random_next(&net->rng) >> 11) * (1.0 / 9007199254740992.0);
}

simnet *simnet_new(uint64_t seed) {
    simnet *net = calloc(1, sizeof *net);
    if (!net) abort();
    mxrtc_seeded_random_init(&net->rng, seed);
    net->nrealms = 1; /* SIMNET_WAN */
    net->fl = xrealloc(NULL, SIMNET_MAX_IN_FLIGHT * sizeof *net->fl);
    return net;
}

void simnet_free(simnet *net) {
    if (!net) return;
    for (int i = 0; i < net->nnats; i++) {
        for (size_t m = 0; m < net->nats[i].nmaps; m++) free(net->nats[i].maps[m].perms);
        free(net->nats[i].maps);
    }
    free(net->nats);
    for (int i = 0; i < net->nhosts; i++) {
        free(net->hosts[i].ifs);
        simnet_turn_free(net->hosts[i].turn);
    }
    free(net->hosts);
    for (size_t i = 0; i < net->nfl; i++) free(net->fl[i].data);
    free(net->fl);
    free(net->popped);
    free(net);
}

int simnet_add_nat(simnet *net, simnet_nat_type type, int outside, const mxrtc_addr *public_ip,
                   mxrtc_time_us mapping_timeout, int *inside_realm) {
    if (outside < 0 || outside >= net->nrealms) abort();
    net->nats = xrealloc(net->nats, (size_t)(net->nnats + 1) * sizeof *net->nats);
    nat *n = &net->nats[net->nnats];
    memset(n, 0, sizeof *n);
    n->type = type;
    n->outside = outside;
    n->inside = net->nrealms++;
    n->public_ip = *public_ip;
    n->public_ip.port = 0;
    n->timeout = mapping_timeout;
    /* External ports start at a seed-dependent point in the dynamic range. */
    n->next_port = 49152 + (uint32_t)(mxrtc_seeded_random_next(&net->rng) % 8192);
    if (inside_realm) *inside_realm = n->inside;
    return net->nnats++;
}

int simnet_add_host(simnet *net, const char *name) {
    net->hosts = xrealloc(net->hosts, (size_t)(net->nhosts + 1) * sizeof *net->hosts);
    host *h = &net->hosts[net->nhosts];
    memset(h, 0, sizeof *h);
    snprintf(h->name, sizeof h->name, "%s", name ? name : "host");
    return net->nhosts++;
}

static iface *find_iface(simnet *net, int realm, const mxrtc_addr *ip, int *host_out) {
    for (int h = 0; h < net->nhosts; h++)
        for (size_t i = 0; i < net->hosts[h].nifs; i++) {
            iface *f = &net->hosts[h].ifs[i];
            if (f->realm == realm && ip_equal(&f->ip, ip)) {
                if (host_out) *host_out = h;
                return f;
            }
        }
    return NULL;
}

void simnet_host_add_interface(simnet *net, int host_id, int realm, const mxrtc_addr *ip) {
    if (host_id < 0 || host_id >= net->nhosts || realm < 0 || realm >= net->nrealms) abort();
    if (find_iface(net, realm, ip, NULL)) abort(); /* duplicate IP in a realm */
    host *h = &net->hosts[host_id];
    h->ifs = xrealloc(h->ifs, (h->nifs + 1) * sizeof *h->ifs);
    iface *f = &h->ifs[h->nifs++];
    memset(f, 0, sizeof *f);
    f->realm = realm;
    f->ip = *ip;
    f->ip.port = 0;
}

void simnet_set_link(simnet *net, int host_id, const mxrtc_addr *ip, const simnet_link *link) {
    if (host_id < 0 || host_id >= net->nhosts) abort();
    host *h = &net->hosts[host_id];
    for (size_t i = 0; i < h->nifs; i++)
        if (ip_equal(&h->ifs[i].ip, ip)) {
            h->ifs[i].link = *link;
            return;
        }
    abort();
}

void simnet_set_host_link(simnet *net, int host_id, const simnet_link *link) {
    if (host_id < 0 || host_id >= net->nhosts) abort();
    host *h = &net->hosts[host_id];
    for (size_t i = 0; i < h->nifs; i++) h->ifs[i].link = *link;
}

int simnet_add_stun_server(simnet *net, int realm, const mxrtc_addr *addr) {
    int h = simnet_add_host(net, "stun");
    simnet_host_add_interface(net, h, realm, addr);
    net->hosts[h].stun = true;
    net->hosts[h].stun_port = addr->port;
    return h;
}

/* ---- NAT -------------------------------------------------------------- */

static bool alive(const nat *n, mxrtc_time_us last, mxrtc_time_us now) {
    return n->timeout == 0 || now < last + n->timeout;
}

/* RFC 4787 §4.1: endpoint-independent mapping reuses one external port for
 * an internal address; address-and-port-dependent (symmetric) mapping keys
 * it by the destination too. */
static mapping *nat_outbound(simnet *net, nat *n, const mxrtc_addr *internal,
                             const mxrtc_addr *remote, mxrtc_time_us now) {
    mapping *m = NULL;
    for (size_t i = 0; i < n->nmaps; i++) {
        mapping *c = &n->maps[i];
        if (!mxrtc_addr_equal(&c->internal, internal) || !alive(n, c->last_out, now)) continue;
        if (n->type == SIMNET_NAT_SYMMETRIC && !mxrtc_addr_equal(&c->remote, remote)) continue;
        m = c;
        break;
    }
    if (!m) {
        /* Reuse an expired slot, else grow. A fresh mapping always gets a
         * fresh external port, as most NATs do after expiry. */
        for (size_t i = 0; i < n->nmaps && !m; i++)
            if (!alive(n, n->maps[i].last_out, now)) m = &n->maps[i];
        if (!m) {
            if (n->nmaps == n->capmaps) {
                n->capmaps = n->capmaps ? n->capmaps * 2 : 8;
                n->maps = xrealloc(n->maps, n->capmaps * sizeof *n->maps);
            }
            m = &n->maps[n->nmaps++];
            memset(m, 0, sizeof *m);
        }
        m->internal = *internal;
        m->remote = *remote;
        /* Symmetric NATs often step ports unpredictably: skip 1..4. */
        uint32_t step = n->type == SIMNET_NAT_SYMMETRIC
                            ? 1 + (uint32_t)(mxrtc_seeded_random_next(&net->rng) % 4) : 1;
        m->external_port = (uint16_t)n->next_port;
        n->next_port += step;
        if (n->next_port > 65535) n->next_port = 49152;
        m->nperms = 0;
    }
    m->last_out = now;
    for (size_t i = 0; i < m->nperms; i++)
        if (mxrtc_addr_equal(&m->perms[i].remote, remote)) {
            m->perms[i].last = now;
            return m;
        }
    if (m->nperms == m->capperms) {
        m->capperms = m->capperms ? m->capperms * 2 : 4;
        m->perms = xrealloc(m->perms, m->capperms * sizeof *m->perms);
    }
    m->perms[m->nperms].remote = *remote;
    m->perms[m->nperms].last = now;
    m->nperms++;
    return m;
}

/* RFC 4787 §5: filtering of an inbound datagram from src to external port. */
static mapping *nat_inbound(nat *n, const mxrtc_addr *src, uint16_t port, mxrtc_time_us now) {
    for (size_t i = 0; i < n->nmaps; i++) {
        mapping *m = &n->maps[i];
        if (m->external_port != port || !alive(n, m->last_out, now)) continue;
        if (n->type == SIMNET_NAT_FULL_CONE) return m;
        for (size_t p = 0; p < m->nperms; p++) {
            const perm *pe = &m->perms[p];
            if (!alive(n, pe->last, now)) continue;
            if (n->type == SIMNET_NAT_RESTRICTED ? ip_equal(&pe->remote, src)
                                                 : mxrtc_addr_equal(&pe->remote, src))
                return m;
        }
        return NULL;
    }
    return NULL;
}

bool simnet_nat_mapping(const simnet *net, int nat_id, const mxrtc_addr *internal,
                        const mxrtc_addr *remote, mxrtc_time_us now, mxrtc_addr *external) {
    if (nat_id < 0 || nat_id >= net->nnats) abort();
    const nat *n = &net->nats[nat_id];
    for (size_t i = 0; i < n->nmaps; i++) {
        const mapping *m = &n->maps[i];
        if (!mxrtc_addr_equal(&m->internal, internal) || !alive(n, m->last_out, now)) continue;
        if (n->type == SIMNET_NAT_SYMMETRIC && !mxrtc_addr_equal(&m->remote, remote)) continue;
        *external = n->public_ip;
        external->port = m->external_port;
        return true;
    }
    return false;
}

/* ---- links and the queue ---------------------------------------------- */

/* One traversal of a link: false if lost; adds delay; may ask for a copy. */
static bool traverse(simnet *net, const simnet_link *l, mxrtc_time_us *delay, int *copies) {
    if (l->loss > 0 && simnet_random(net) < l->loss) return false;
    *delay += l->delay;
    if (l->jitter) *delay += mxrtc_seeded_random_next(&net->rng) % (l->jitter + 1);
    if (l->reorder > 0 && simnet_random(net) < l->reorder) {
        *delay += l->reorder_delay;
        net->stats.reordered++;
    }
    if (l->duplicate > 0 && simnet_random(net) < l->duplicate) (*copies)++;
    return true;
}

static bool enqueue(simnet *net, int host_id, const mxrtc_addr *from, const mxrtc_addr *to,
                    const uint8_t *data, size_t len, mxrtc_time_us at) {
    if (net->nfl >= SIMNET_MAX_IN_FLIGHT) {
        net->stats.overflow++;
        return false;
    }
    flight *f = &net->fl[net->nfl++];
    f->host = host_id;
    f->from = *from;
    f->to = *to;
    f->at = at;
    f->seq = net->seq++;
    f->data = xrealloc(NULL, len);
    if (len) memcpy(f->data, data, len);
    f->len = len;
    return true;
}

bool simnet_send(simnet *net, int host_id, const mxrtc_addr *from, const mxrtc_addr *to,
                 const uint8_t *data, size_t len, mxrtc_time_us now) {
    if (host_id < 0 || host_id >= net->nhosts) abort();
    net->stats.sent++;
    if (len > SIMNET_MAX_DATAGRAM) {
        net->stats.overflow++;
        return false;
    }
    host *h = &net->hosts[host_id];
    iface *src_if = NULL;
    for (size_t i = 0; i < h->nifs && !src_if; i++)
        if (ip_equal(&h->ifs[i].ip, from)) src_if = &h->ifs[i];
    if (!src_if) abort(); /* sending from an address the host does not have */

    mxrtc_addr src = *from, dst = *to;
    int realm = src_if->realm;
    int dst_host = -1;
    iface *dst_if = NULL;
    /* Walk realms: deliver locally, enter a NAT from outside, or leave
     * through this realm's NAT. Nesting is bounded by the NAT count. */
    for (int hop = 0; hop <= net->nnats && !dst_if; hop++) {
        dst_if = find_iface(net, realm, &dst, &dst_host);
        if (dst_if) break;
        nat *in = NULL, *up = NULL;
        for (int i = 0; i < net->nnats; i++) {
            if (net->nats[i].outside == realm && ip_equal(&net->nats[i].public_ip, &dst)) in = &net->nats[i];
            if (net->nats[i].inside == realm) up = &net->nats[i];
        }
        if (in) {
            mapping *m = nat_inbound(in, &src, dst.port, now);
            if (!m) {
                net->stats.filtered++;
                return false;
            }
            dst = m->internal;
            realm = in->inside;
            continue;
        }
        if (up && up->public_ip.family == dst.family && !ip_equal(&up->public_ip, &dst)) {
            mapping *m = nat_outbound(net, up, &src, &dst, now);
            src = up->public_ip;
            src.port = m->external_port;
            realm = up->outside;
            continue;
        }
        break;
    }
    if (!dst_if) {
        net->stats.no_route++;
        return false;
    }
    mxrtc_time_us delay = 0;
    int copies = 1;
    if (!traverse(net, &src_if->link, &delay, &copies) || !traverse(net, &dst_if->link, &delay, &copies)) {
        net->stats.lost++;
        return false;
    }
    bool ok = false;
    for (int c = 0; c < copies; c++) {
        if (c > 0) net->stats.duplicated++;
        ok |= enqueue(net, dst_host, &src, &dst, data, len, now + delay + (mxrtc_time_us)c);
    }
    return ok;
}

mxrtc_time_us simnet_next_delivery_time(const simnet *net) {
    mxrtc_time_us t = MXRTC_TIME_NEVER;
    for (size_t i = 0; i < net->nfl; i++)
        if (net->fl[i].at < t) t = net->fl[i].at;
    return t;
}

/* RFC 8489 §6/§14.2: answer a Binding request with a success response
 * carrying XOR-MAPPED-ADDRESS. Written with the byte cursors directly, not
 * the stun/ codec, so that the simulated server is an independent check of
 * the client side. Anything but a well-formed Binding request is ignored. */
static void stun_answer(simnet *net, int host_id, const flight *f) {
    mxrtc_reader r;
    mxrtc_reader_init(&r, f->data, f->len);
    uint16_t type = mxrtc_read_u16(&r);
    uint16_t alen = mxrtc_read_u16(&r);
    uint32_t cookie = mxrtc_read_u32(&r);
    const uint8_t *tid = mxrtc_read_ptr(&r, 12);
    if (r.error || type != 0x0001 || cookie != 0x2112A442u || (alen & 3) ||
        mxrtc_reader_remaining(&r) != alen)
        return;
    uint8_t out[64];
    mxrtc_writer w;
    mxrtc_writer_init(&w, out, sizeof out);
    bool v6 = f->from.family == MXRTC_AF_INET6;
    uint16_t xlen = v6 ? 20 : 8;
    mxrtc_write_u16(&w, 0x0101);             /* Binding success response */
    mxrtc_write_u16(&w, (uint16_t)(4 + xlen));
    mxrtc_write_u32(&w, 0x2112A442u);
    mxrtc_write_bytes(&w, tid, 12);
    mxrtc_write_u16(&w, 0x0020);             /* XOR-MAPPED-ADDRESS */
    mxrtc_write_u16(&w, xlen);
    mxrtc_write_u8(&w, 0);
    mxrtc_write_u8(&w, v6 ? 0x02 : 0x01);
    mxrtc_write_u16(&w, (uint16_t)(f->from.port ^ 0x2112));
    static const uint8_t cookie_b[4] = {0x21, 0x12, 0xA4, 0x42};
    for (int i = 0; i < (v6 ? 16 : 4); i++)
        mxrtc_write_u8(&w, (uint8_t)(f->from.ip[i] ^ (i < 4 ? cookie_b[i] : tid[i - 4])));
    if (w.error) return;
    net->stats.stun_answered++;
    simnet_send(net, host_id, &f->to, &f->from, out, w.pos, f->at);
}

bool simnet_pop(simnet *net, mxrtc_time_us now, simnet_packet *out) {
    for (;;) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < net->nfl; i++) {
            const flight *f = &net->fl[i];
            if (f->at > now) continue;
            if (best == SIZE_MAX || f->at < net->fl[best].at ||
                (f->at == net->fl[best].at && f->seq < net->fl[best].seq))
                best = i;
        }
        if (best == SIZE_MAX) return false;
        flight f = net->fl[best];
        net->fl[best] = net->fl[--net->nfl];
        free(net->popped);
        net->popped = f.data;
        host *h = &net->hosts[f.host];
        if (h->turn) {
            simnet_turn_input(net, f.host, h->turn, f.from, f.to, f.data, f.len, f.at);
            continue;
        }
        if (h->stun && f.to.port == h->stun_port) {
            stun_answer(net, f.host, &f);
            continue;
        }
        net->stats.delivered++;
        out->host = f.host;
        out->from = f.from;
        out->to = f.to;
        out->at = f.at;
        out->data = f.data;
        out->len = f.len;
        return true;
    }
}

size_t simnet_deliver(simnet *net, mxrtc_time_us now, simnet_deliver_fn cb, void *user) {
    size_t n = 0;
    simnet_packet p;
    while (simnet_pop(net, now, &p)) {
        cb(user, &p);
        n++;
    }
    return n;
}

const simnet_stats *simnet_get_stats(const simnet *net) {
    return &net->stats;
}

/* Glue for simnet_turn.c. */
void simnet_host_set_turn(simnet *net, int host_id, struct simnet_turn *t) {
    net->hosts[host_id].turn = t;
}

void simnet_count_turn(simnet *net, bool relayed, bool auth_failure) {
    if (relayed) net->turn_relayed++;
    if (auth_failure) net->turn_auth_failures++;
}

uint64_t simnet_turn_relayed(const simnet *net) {
    return net->turn_relayed;
}

uint64_t simnet_turn_auth_failures(const simnet *net) {
    return net->turn_auth_failures;
}

size_t simnet_turn_live_allocations(const simnet *net, mxrtc_time_us now) {
    size_t live = 0;
    uint64_t dealloc = 0;
    for (int i = 0; i < net->nhosts; i++)
        if (net->hosts[i].turn) simnet_turn_counts(net->hosts[i].turn, now, &live, &dealloc);
    return live;
}

uint64_t simnet_turn_deallocations(const simnet *net) {
    size_t live = 0;
    uint64_t dealloc = 0;
    for (int i = 0; i < net->nhosts; i++)
        if (net->hosts[i].turn) simnet_turn_counts(net->hosts[i].turn, 0, &live, &dealloc);
    return dealloc;
}
