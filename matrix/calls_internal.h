/*
 * calls_internal.h: the mxrtc_calls object (include/mxrtc.h, "Matrix 1:1
 * calls") shared by its files:
 *   calls.c        the object, its inputs and the merged poll();
 *   calls_route.c  which call a datagram received on the shared sockets
 *                  belongs to;
 *   calls_turn.c   the /voip/turnServer answer turned into the peer
 *                  template of new calls (host names resolved by the host).
 *
 * Structure: one call manager (call_manager.h) whose peers are real
 * mxrtc_peer objects behind the peer adapter (peer_adapter.h). The
 * mxrtc_calls poll() is the host loop of tests/matrix/test_call_real_peer.c
 * packaged: drain the call manager, then every peer, then feed the peers'
 * signalling events (candidates, gathering done, connection state) to the
 * call manager one at a time, and start again until everything is quiet.
 */
#ifndef MXRTC_MATRIX_CALLS_INTERNAL_H
#define MXRTC_MATRIX_CALLS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"
#include "matrix/call_manager.h"
#include "matrix/peer_adapter.h"
#include "matrix/turn_servers.h"
#include "stun/stun.h"

/* Where a TURN/STUN URI with a host name stands (calls_turn.c). */
typedef enum calls_name_state {
    CALLS_NAME_NONE = 0,      /* an IP literal, or no URI in this slot */
    CALLS_NAME_TO_ASK,        /* a RESOLVE output is due */
    CALLS_NAME_ASKED,         /* waiting for mxrtc_calls_resolved() */
    CALLS_NAME_RESOLVED,      /* name_ip holds the address (with the URI's port) */
    CALLS_NAME_FAILED         /* unresolvable: the URI is not used */
} calls_name_state;

struct mxrtc_calls {
    const mxrtc_allocator *alloc;
    mxrtc_logger logger;
    mxrtc_random random;

    /* The host's peer template (strings copied into base_strings) and the
     * template in use: the TURN answer's servers, then the host's. */
    mxrtc_peer_config base;
    char *base_strings[MXRTC_PEER_MAX_SERVERS][4];   /* user, pass, sni, ca */
    mxrtc_peer_config tmpl;
    char *tls_ca_file;                               /* for turns: URIs; NULL: they are skipped */

    mxrtc_turn_servers turn;                         /* the last answer (holds a password) */
    calls_name_state name_state[MXRTC_TURN_SERVERS_MAX];
    mxrtc_addr name_ip[MXRTC_TURN_SERVERS_MAX];
    mxrtc_time_us refresh_at;                        /* TURN_REFRESH due; NEVER once given */

    mxrtc_peer_adapter_factory *pf;
    mxrtc_call_manager *cm;

    bool drained;                                    /* the last poll returned DEADLINE */
    mxrtc_time_us cm_deadline;
    mxrtc_time_us peer_deadline[MXRTC_PA_MAX_PEERS];
    mxrtc_cm_output cm_out;                          /* the output being handed out */
    mxrtc_peer_output peer_out;
    mxrtc_stun_msg stun;                             /* scratch for routing */
    mxrtc_calls_counters ctr;
};

/* calls_turn.c */

/* Takes a parsed answer (moved into c->turn; the old one is wiped), marks
 * its host names to be resolved, rebuilds the template. */
void mxrtc_calls_turn_set(mxrtc_calls *c, mxrtc_turn_servers *parsed);
/* The next host name to resolve (its state becomes ASKED), or NULL. */
const char *mxrtc_calls_turn_next_name(mxrtc_calls *c);
/* The host's answer for a host name: MXRTC_OK when a URI waited for it,
 * MXRTC_ERR_NOT_FOUND otherwise. The template is rebuilt. */
int mxrtc_calls_turn_resolved(mxrtc_calls *c, const char *hostname, const mxrtc_addr *ip);
/* c->tmpl from c->base and c->turn, given to the peer factory. */
void mxrtc_calls_turn_rebuild(mxrtc_calls *c);

/* calls_route.c */

/* The live (not closed) peers a datagram from `remote` is for: written to
 * targets (room for MXRTC_PA_MAX_PEERS), their number returned (0: no call
 * claims it). See calls_route.c for the rules. */
size_t mxrtc_calls_route(mxrtc_calls *c, const mxrtc_addr *remote, const uint8_t *data, size_t len,
                         mxrtc_peer_adapter **targets);
/* The closed peers still releasing their TURN allocations (mxrtc_peer_close)
 * that a datagram from `remote` is for: STUN or ChannelData from one of
 * their TURN servers. Appended to targets[0..n) (room for
 * MXRTC_PA_MAX_PEERS), skipping those already there; the new count. */
size_t mxrtc_calls_route_closing(mxrtc_calls *c, const mxrtc_addr *remote, const uint8_t *data, size_t len,
                                 mxrtc_peer_adapter **targets, size_t n);

#endif
