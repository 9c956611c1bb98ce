/*
 * simnet.h: a deterministic simulated network for sans-IO tests.
 *
 * Nothing here touches a socket or a clock: the test owns a virtual clock,
 * hands every datagram its objects emit to simnet_send(), and feeds back what
 * simnet_pop() (or simnet_deliver()) returns once the clock has reached its
 * delivery time. All randomness (loss, jitter, reordering, duplication, NAT
 * port choice) comes from one mxrtc_seeded_random, so a seed replays exactly.
 *
 * Topology:
 *  - Realms are address spaces. Realm 0 (SIMNET_WAN) is the public internet.
 *    Every NAT joins an inside realm (its LAN, created with the NAT) to an
 *    outside realm (the WAN or another NAT's LAN, so NATs can nest).
 *  - Hosts have interfaces: one IP (v4 or v6) in one realm each. A host may
 *    have several (dual stack, a LAN and a public IPv6, two LANs). Ports are
 *    not bound: any datagram to an interface IP reaches its host.
 *  - Each interface has a link (delay, jitter, loss, duplication, reordering)
 *    applied to what it sends and to what it receives, so the path A->B
 *    costs A's link plus B's link. Setting loss to 1 cuts a host off.
 *  - NATs (RFC 4787 terms; the RFC 3489 names in brackets) map and filter:
 *      FULL_CONE        endpoint-independent mapping and filtering
 *      RESTRICTED       EIM, address-dependent filtering    [restricted cone]
 *      PORT_RESTRICTED  EIM, address+port-dependent filter  [port-restricted]
 *      SYMMETRIC        address+port-dependent mapping and filtering: a new
 *                       external port for every destination
 *    Mappings expire after the NAT's timeout without outbound traffic
 *    (RFC 4787 REQ-6: inbound packets do not refresh). No hairpinning: a
 *    packet from a LAN to its own NAT's public address is dropped.
 *  - A STUN server (simnet_add_stun_server) is an interface whose Binding
 *    requests are answered inside simnet with XOR-MAPPED-ADDRESS (RFC 8489
 *    §14.2) set to the source address as it arrived, i.e. after NAT.
 *
 * Test-support code: it allocates freely and aborts on misuse of the API.
 */
#ifndef MXRTC_TEST_SIMNET_H
#define MXRTC_TEST_SIMNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"

#define SIMNET_WAN 0
/* Largest datagram carried (bigger ones are dropped and counted). */
#define SIMNET_MAX_DATAGRAM 2048
/* Datagrams in flight at once (more are dropped and counted). */
#define SIMNET_MAX_IN_FLIGHT 4096

typedef struct simnet simnet;

typedef enum simnet_nat_type {
    SIMNET_NAT_FULL_CONE = 0,
    SIMNET_NAT_RESTRICTED = 1,
    SIMNET_NAT_PORT_RESTRICTED = 2,
    SIMNET_NAT_SYMMETRIC = 3
} simnet_nat_type;

typedef struct simnet_link {
    mxrtc_time_us delay;       /* one-way, per traversal of this link */
    mxrtc_time_us jitter;      /* uniform extra delay in [0, jitter] */
    double loss;               /* probability a datagram is dropped */
    double duplicate;          /* probability a datagram is delivered twice */
    double reorder;            /* probability a datagram is held back ... */
    mxrtc_time_us reorder_delay; /* ... by this much more */
} simnet_link;

/* A datagram arriving at a host. data is owned by simnet and valid until the
 * next simnet_pop()/simnet_deliver()/simnet_free(). */
typedef struct simnet_packet {
    int host;                  /* the receiving host */
    mxrtc_addr from;           /* source as the receiver sees it (after NAT) */
    mxrtc_addr to;             /* the receiver's own address and port */
    mxrtc_time_us at;          /* delivery time */
    const uint8_t *data;
    size_t len;
} simnet_packet;

typedef struct simnet_stats {
    uint64_t sent, delivered;
    uint64_t lost;             /* dropped by a link's loss probability */
    uint64_t filtered;         /* dropped by NAT filtering or an expired mapping */
    uint64_t no_route;         /* no host or NAT owns the destination */
    uint64_t duplicated, reordered;
    uint64_t overflow;         /* too big, or too many in flight */
    uint64_t stun_answered;    /* Binding requests answered by STUN servers */
} simnet_stats;

simnet *simnet_new(uint64_t seed);
void simnet_free(simnet *net);

/* Adds a NAT between `outside` (a realm) and a new inside realm, returned in
 * *inside_realm. public_ip is its external IP (port ignored), reachable in
 * `outside`. A mapping (and its filter permissions) lives mapping_timeout
 * after the last outbound datagram through it; 0 means it never expires.
 * Returns the NAT id (>= 0). */
int simnet_add_nat(simnet *net, simnet_nat_type type, int outside, const mxrtc_addr *public_ip,
                   mxrtc_time_us mapping_timeout, int *inside_realm);

/* Adds a host with no interfaces; returns its id (>= 0). */
int simnet_add_host(simnet *net, const char *name);
/* Gives host an interface with IP ip (port ignored) in realm, with a default
 * (perfect) link. An IP must be unique within its realm. */
void simnet_host_add_interface(simnet *net, int host, int realm, const mxrtc_addr *ip);
/* Sets the link of the interface that owns ip (in any realm of host). */
void simnet_set_link(simnet *net, int host, const mxrtc_addr *ip, const simnet_link *link);
/* Sets the link of every interface of host (handy to cut a host off). */
void simnet_set_host_link(simnet *net, int host, const simnet_link *link);

/* Adds a host named "stun" with one interface at addr (IP and port) in
 * realm whose STUN Binding requests are answered. Returns the host id. */
int simnet_add_stun_server(simnet *net, int realm, const mxrtc_addr *addr);

/* Adds a host named "turn" running a TURN server (RFC 8656) over UDP at
 * addr (IP and port) in realm, relaying from relay_ip (port ignored; may be
 * addr's IP: relayed ports are allocated from 50000 up). One long-term user
 * (RFC 8489 §9.2, MD5 key) in realm_name. It answers Allocate (401 with
 * REALM/NONCE first), Refresh, CreatePermission and ChannelBind, relays Send
 * indications and ChannelData to permitted peers, and delivers what
 * permitted peers send to the relayed address as Data indications or
 * ChannelData. Built on stun/ (unlike the STUN server). Returns the host id. */
int simnet_add_turn_server(simnet *net, int realm, const mxrtc_addr *addr, const mxrtc_addr *relay_ip,
                           const char *user, const char *password, const char *realm_name);
/* TURN datagrams relayed (both directions) and requests refused for bad
 * credentials, for tests that must prove the relay carried the traffic. */
uint64_t simnet_turn_relayed(const simnet *net);
uint64_t simnet_turn_auth_failures(const simnet *net);
/* Allocations alive at now on every TURN server, and allocations deleted by
 * a Refresh with LIFETIME 0 (RFC 8656 §7.2), for deallocation tests. */
size_t simnet_turn_live_allocations(const simnet *net, mxrtc_time_us now);
uint64_t simnet_turn_deallocations(const simnet *net);

/* Host `host` sends a datagram from `from` (one of its interface IPs, with
 * the sender's port) to `to` at time now. Routing, NAT mapping and filtering are
 * decided now; the datagram (if not dropped) is queued for its delivery time.
 * Returns true if it was queued (false: dropped, see stats). data is copied. */
bool simnet_send(simnet *net, int host, const mxrtc_addr *from, const mxrtc_addr *to,
                 const uint8_t *data, size_t len, mxrtc_time_us now);

/* The earliest delivery time in flight, or MXRTC_TIME_NEVER. */
mxrtc_time_us simnet_next_delivery_time(const simnet *net);

/* Takes the next datagram due at or before now (earliest first; FIFO among
 * equal times) into *out. Returns false when none is due. Datagrams to a
 * STUN server are answered internally and never returned. */
bool simnet_pop(simnet *net, mxrtc_time_us now, simnet_packet *out);

/* Calls cb for every datagram due at or before now, including ones sent by
 * cb itself that become due by now. Returns how many were delivered. */
typedef void (*simnet_deliver_fn)(void *user, const simnet_packet *pkt);
size_t simnet_deliver(simnet *net, mxrtc_time_us now, simnet_deliver_fn cb, void *user);

/* The external address the NAT currently maps (internal, remote) to, for
 * tests that check mapping behaviour: false if there is no live mapping. */
bool simnet_nat_mapping(const simnet *net, int nat, const mxrtc_addr *internal,
                        const mxrtc_addr *remote, mxrtc_time_us now, mxrtc_addr *external);

const simnet_stats *simnet_get_stats(const simnet *net);
/* A uniform double in [0, 1) from the network's generator (for tests that
 * want to make random choices from the same seed). */
double simnet_random(simnet *net);

#endif
