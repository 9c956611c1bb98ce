/*
 * agent_harness.h: two ICE agents on a simnet with a virtual clock and a
 * signalling channel between them (candidates, end-of-candidates, mDNS
 * answers), for the agent tests and nothing else.
 */
#ifndef MXRTC_TEST_ICE_AGENT_HARNESS_H
#define MXRTC_TEST_ICE_AGENT_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/random.h"
#include "ice/agent.h"
#include "support/simnet.h"

#define H_MAX_ADDRS 4
#define H_MAX_SIG 256
#define H_MAX_NAMES 8

typedef struct h_peer {
    mxrtc_ice_agent *agent;
    int host;                          /* simnet host */
    mxrtc_addr addrs[H_MAX_ADDRS];     /* local sockets (IP + port) */
    int naddrs;
    /* A simulated relay: datagrams for relayed go out from relay_host. */
    int relay_host;
    mxrtc_addr relayed;
    bool has_relay;
    mxrtc_time_us deadline;
    bool trickle;                      /* forward our candidates to the other side */
    bool mdns;                         /* send host candidates as <name>.local */
    /* what happened */
    int selected_events, consent_lost, gathering_done, resolves, local_candidates;
    int received;                      /* application data (non-STUN) delivered */
    size_t received_len;
    int state_counts[8];
    mxrtc_ice_state state;
    mxrtc_addr sel_local, sel_remote;
    mxrtc_time_us sel_at;              /* virtual time of the last SELECTED_PAIR event */
    mxrtc_time_us connected_at;        /* ... of the first CONNECTED state */
} h_peer;

typedef struct h_sig {
    mxrtc_time_us at;
    int to;                            /* peer index */
    int kind;                          /* 0 candidate line, 1 end-of-candidates, 2 resolved */
    char line[MXRTC_ICE_CANDIDATE_LINE_MAX];
    mxrtc_addr ip;
} h_sig;

typedef struct h_world {
    simnet *net;
    mxrtc_seeded_random rng[2];
    h_peer p[2];
    h_sig sig[H_MAX_SIG];
    int nsig;
    mxrtc_time_us now;
    mxrtc_time_us sig_delay;           /* signalling latency */
    struct { char name[64]; mxrtc_addr ip; } names[H_MAX_NAMES];
    int nnames;
    long iterations;
} h_world;

/* A world with a fresh simnet (seed) and two agents configured with cfg
 * (controlling flags set per peer: 0 controlling, 1 controlled, unless
 * both_controlling). Hosts and interfaces are added by the test, then
 * h_start(). */
void h_init(h_world *w, uint64_t seed, bool both_controlling);
void h_free(h_world *w);
/* Registers a local socket address (interface IP + port) on peer i; the IP
 * must be an interface of its simnet host. */
void h_add_addr(h_world *w, int i, const mxrtc_addr *a, unsigned iface_index);
/* Exchanges credentials and starts gathering on both. */
void h_start(h_world *w);
/* Runs the clock until `until` or until stop(w) is true. Fails the test if
 * an agent busy-loops (deadline not moving). */
void h_run(h_world *w, mxrtc_time_us until, bool (*stop)(h_world *w));
/* Drains peer i (used after direct inputs). */
void h_drain(h_world *w, int i);
/* Queue a line to peer i through signalling. */
void h_signal_line(h_world *w, int i, const char *line);

bool h_both_selected(h_world *w);

#endif
