/*
 * agent.h: the sans-IO ICE agent (RFC 8445) with trickle (RFC 8838),
 * consent freshness (RFC 7675), ICE restart (RFC 8445 §9) and remote mDNS
 * names resolved through the caller (RFC 8445 §5.1 with draft-ietf-mmusic-
 * mdns-ice-candidates behaviour).
 *
 * One component (rtcp-mux is always on), UDP only. The agent never touches a
 * socket or clock: the caller
 *  - lists local interface addresses (with the port of the UDP socket it bound
 *    there) and STUN servers, then calls mxrtc_ice_agent_gather();
 *  - passes in every STUN datagram received on those sockets (RFC 7983
 *    demultiplexing is the caller's: bytes 0..3 of the first octet), remote
 *    candidates as they trickle in, and the time;
 *  - after EVERY input, calls mxrtc_ice_agent_poll() until it returns a
 *    MXRTC_ICE_OUT_DEADLINE, sending each datagram and handling each event.
 *    An input while outputs are still waiting is refused with
 *    MXRTC_ERR_STATE (the drain rule; DESIGN.md).
 *
 * Relayed candidates come from the TURN client (stun/, not yet written):
 * mxrtc_ice_agent_add_relayed_candidate() adds one, checks on it come out as
 * MXRTC_ICE_OUT_SEND_RELAY (send `data` to `to` through the allocation whose
 * relayed address is `from`), and datagrams the TURN client unwraps are fed
 * back with `local` = the relayed address.
 */
#ifndef MXRTC_ICE_AGENT_H
#define MXRTC_ICE_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ice/candidate.h"
#include "stun/turn_client.h"
#include "mxrtc.h"

typedef struct mxrtc_ice_agent mxrtc_ice_agent;

typedef enum mxrtc_ice_state {
    MXRTC_ICE_STATE_NEW = 0,
    MXRTC_ICE_STATE_CHECKING = 1,
    MXRTC_ICE_STATE_CONNECTED = 2,    /* a pair carries data: a valid pair before nomination
                                         (RFC 8445 §12.1), then the selected pair */
    MXRTC_ICE_STATE_COMPLETED = 3,    /* selected, and no checks left to run */
    MXRTC_ICE_STATE_FAILED = 4,       /* no pair works, or consent lost (RFC 7675) */
    MXRTC_ICE_STATE_DISCONNECTED = 5  /* consent checks unanswered for a while */
} mxrtc_ice_state;

typedef struct mxrtc_ice_config {
    size_t size;                      /* sizeof(mxrtc_ice_config), set by _init */
    const mxrtc_allocator *alloc;     /* NULL: C library */
    mxrtc_random random;              /* credentials, tie-breaker, transaction ids */
    mxrtc_logger logger;
    bool controlling;                 /* initial role (RFC 8445 §6.1.1) */
    mxrtc_time_us ta;                 /* pacing (§14.2), default 50 ms */
    size_t max_local_candidates;      /* default 16 */
    size_t max_remote_candidates;     /* default 64 */
    size_t max_pairs;                 /* default 128 */
    size_t max_stun_servers;          /* default 4 */
    unsigned max_check_transmits;     /* per check (RFC 8489 Rc), default 7 */
    mxrtc_time_us nomination_delay;   /* controlling: the best valid pair is nominated
                                         at once unless a pair of higher priority is
                                         still Waiting/Frozen/In-Progress; then wait
                                         this long after the first valid pair for it,
                                         default 200 ms */
    mxrtc_time_us consent_interval;   /* RFC 7675 §5.1: 5 s (randomised 0.8..1.2) */
    mxrtc_time_us consent_timeout;    /* RFC 7675 §5.1: 30 s */
    mxrtc_time_us disconnected_after; /* no consent response for this: DISCONNECTED, default 10 s */
    bool relay_only;                  /* use and signal relayed candidates only
                                         (WebRTC iceTransportPolicy "relay") */
} mxrtc_ice_config;

/* Fills cfg with the defaults (OS randomness, not controlling). */
void mxrtc_ice_config_init(mxrtc_ice_config *cfg);

typedef enum mxrtc_ice_output_kind {
    MXRTC_ICE_OUT_DEADLINE = 0,       /* nothing more now; call handle_timeout at `deadline` */
    MXRTC_ICE_OUT_SEND = 1,           /* send data from local base `from` to `to` */
    MXRTC_ICE_OUT_SEND_RELAY = 2,     /* send data to `to` through the caller's relay whose
                                         address is `from` (add_relayed_candidate) */
    MXRTC_ICE_OUT_EVENT = 3,
    MXRTC_ICE_OUT_RECEIVED = 4,       /* non-STUN data from `from` (a peer) arrived through
                                         the agent's TURN allocation `to`: hand it to
                                         DTLS/SRTP as if received from `from` */
    MXRTC_ICE_OUT_STREAM_SEND = 5     /* write data to the TCP connection to the TURN server
                                         `to` (TCP or TLS transport), opening it first if
                                         there is none; for TLS the bytes are already
                                         ciphertext (the agent runs TLS) */
} mxrtc_ice_output_kind;

typedef enum mxrtc_ice_event {
    MXRTC_ICE_EV_LOCAL_CANDIDATE = 1, /* `candidate` is new: signal it (trickle) */
    MXRTC_ICE_EV_GATHERING_DONE = 2,  /* signal end-of-candidates */
    MXRTC_ICE_EV_STATE = 3,           /* `state` is the new state */
    MXRTC_ICE_EV_SELECTED_PAIR = 4,   /* `local`/`remote`: send media there now */
    MXRTC_ICE_EV_RESOLVE = 5,         /* resolve `hostname`; answer with mxrtc_ice_agent_resolved() */
    MXRTC_ICE_EV_CONSENT_LOST = 6     /* RFC 7675 §5.1: 30 s without a consent response */
} mxrtc_ice_event;

/* One output. Pointers (data, candidate, hostname) are valid until the next
 * call on the agent. */
typedef struct mxrtc_ice_output {
    mxrtc_ice_output_kind kind;
    mxrtc_time_us deadline;           /* DEADLINE: MXRTC_TIME_NEVER if none */
    mxrtc_addr from, to;              /* SEND, SEND_RELAY */
    const uint8_t *data;
    size_t len;
    mxrtc_ice_event event;            /* EVENT */
    mxrtc_ice_state state;            /* EV_STATE */
    const mxrtc_ice_candidate *candidate; /* EV_LOCAL_CANDIDATE */
    mxrtc_addr local, remote;         /* EV_SELECTED_PAIR: local base (or relayed address) and remote */
    bool local_relayed;               /* EV_SELECTED_PAIR: send through the relay */
    const char *hostname;             /* EV_RESOLVE */
} mxrtc_ice_output;

typedef struct mxrtc_ice_stats {
    uint64_t checks_sent, checks_received, responses_received;
    uint64_t rejected;                /* STUN dropped: bad integrity, unknown ufrag, not ours */
    uint64_t role_conflicts;          /* 487 sent or received, or role switched */
    uint64_t ignored_candidates;      /* component != 1, TCP, duplicates, stale ufrag, bad port */
    uint64_t limit_hits;              /* candidates or pairs refused by a bound */
    uint64_t dropped_outputs;         /* datagrams dropped because the output queue was full */
    uint64_t relay_dropped;           /* sends through our TURN allocation refused (no permission yet) */
    uint64_t turn_deallocations;      /* Refresh(LIFETIME 0) started by mxrtc_ice_agent_close */
    uint64_t turn_deallocated;        /* ... of which the server confirmed (success response) */
} mxrtc_ice_stats;

/* Creates an agent with fresh local credentials and tie-breaker.
 * MXRTC_ERR_INVALID_ARGUMENT (NULL, bad size or limits), MXRTC_ERR_NO_MEMORY,
 * or the random source's error. */
int mxrtc_ice_agent_new(mxrtc_ice_agent **out, const mxrtc_ice_config *cfg, mxrtc_time_us now);
/* Frees the agent, wiping passwords. NULL is fine. */
void mxrtc_ice_agent_free(mxrtc_ice_agent *a);

/* The current local ufrag and password (NUL-terminated, valid until the next
 * restart or free). */
void mxrtc_ice_agent_local_credentials(const mxrtc_ice_agent *a, const char **ufrag, const char **pwd);
/* Sets the remote ufrag/pwd (from the SDP). Checks wait until they are known.
 * MXRTC_ERR_INVALID_ARGUMENT for empty or over-long (> 256) values. */
int mxrtc_ice_agent_set_remote_credentials(mxrtc_ice_agent *a, const char *ufrag, const char *pwd);

/* Adds a local address (IP and the port of the caller's UDP socket there) as
 * a host candidate; iface_index orders interfaces by preference (0 best) for
 * the local preference (mxrtc_ice_local_preference). Before or after
 * gathering. MXRTC_ERR_LIMIT when the local table is full,
 * MXRTC_ERR_INVALID_ARGUMENT for a non-IP address or port 0. */
int mxrtc_ice_agent_add_interface(mxrtc_ice_agent *a, const mxrtc_addr *addr, unsigned iface_index);
/* Adds a STUN server for server-reflexive candidates (RFC 8445 §5.1.1.2).
 * MXRTC_ERR_LIMIT beyond max_stun_servers. */
int mxrtc_ice_agent_add_stun_server(mxrtc_ice_agent *a, const mxrtc_addr *server);
/* Adds a TURN server (RFC 8656, UDP transport) with long-term credentials
 * (copied into the TURN client, wiped with it). At gathering the agent
 * allocates a relayed candidate on it from its best host address of the
 * server's family (the caller's socket there carries the TURN traffic:
 * SEND outputs to the server, and datagrams from the server are fed to
 * mxrtc_ice_agent_handle_datagram like any other, ChannelData included).
 * The agent installs permissions for remote candidates and a channel for
 * the selected pair itself. MXRTC_ERR_LIMIT beyond max_stun_servers TURN
 * servers, MXRTC_ERR_INVALID_ARGUMENT, MXRTC_ERR_NO_MEMORY. */
int mxrtc_ice_agent_add_turn_server(mxrtc_ice_agent *a, const mxrtc_addr *server, const char *username,
                                    const char *password);

/* The same over any transport (RFC 8656 §3.1: TCP, or TLS for turns:). Over
 * TCP/TLS the TURN traffic comes out as MXRTC_ICE_OUT_STREAM_SEND and what
 * the connection delivers goes to mxrtc_ice_agent_handle_stream(); the
 * relayed candidate is still UDP on the relay side. Strings are copied
 * (the password wiped with the agent); for TLS see stun/tls_stream.h. */
typedef struct mxrtc_ice_turn_server {
    mxrtc_addr addr;
    mxrtc_turn_transport transport;
    const char *username;
    const char *password;
    const char *tls_server_name;      /* TLS: SNI and the name to verify */
    const uint8_t *tls_ca_pem;        /* TLS: trusted CA (PEM), or ... */
    size_t tls_ca_pem_len;
    const char *tls_ca_file;          /* ... a CA file */
    int tls_insecure_skip_verify;     /* tests only */
} mxrtc_ice_turn_server;
int mxrtc_ice_agent_add_turn(mxrtc_ice_agent *a, const mxrtc_ice_turn_server *srv);
/* Bytes the TCP/TLS connection to TURN server `server` delivered (any
 * chunking). MXRTC_ERR_NOT_FOUND if no stream TURN server has that address. */
int mxrtc_ice_agent_handle_stream(mxrtc_ice_agent *a, mxrtc_time_us now, const mxrtc_addr *server,
                                  const uint8_t *data, size_t len);
/* That connection closed (or could not be opened): its allocation is gone. */
int mxrtc_ice_agent_stream_closed(mxrtc_ice_agent *a, mxrtc_time_us now, const mxrtc_addr *server);
/* Sends application data (DTLS, SRTP) on the selected pair or, before one
 * is selected, on the valid pair of highest priority (RFC 8445 §12.1): a
 * SEND output (or SEND_RELAY for an external relay) or, for a pair on the
 * agent's own TURN allocation, the wrapped datagram to the TURN server.
 * While checks are running and no pair is valid yet, up to 8 datagrams are
 * held and sent once one is. An input: drain afterwards.
 * MXRTC_ERR_NOT_FOUND with nowhere to send (no remote credentials, or
 * FAILED), MXRTC_ERR_LIMIT for data over MXRTC_ICE_SEND_MAX bytes, a full
 * hold or a full TURN queue. */
#define MXRTC_ICE_SEND_MAX 2048
int mxrtc_ice_agent_send(mxrtc_ice_agent *a, mxrtc_time_us now, const uint8_t *data, size_t len);

/* Adds a relayed candidate allocated by a TURN client the caller runs: relayed is its
 * address on the relay (also its base, RFC 8445 §5.1.1.2), server the TURN
 * server's address (for the foundation). Emits it as a local candidate. */
int mxrtc_ice_agent_add_relayed_candidate(mxrtc_ice_agent *a, mxrtc_time_us now,
                                          const mxrtc_addr *relayed, const mxrtc_addr *server);
/* Starts gathering: host candidates are emitted, Binding requests go to the
 * STUN servers; GATHERING_DONE follows when every request has an answer or
 * timed out. Checks may start before (trickle). */
int mxrtc_ice_agent_gather(mxrtc_ice_agent *a, mxrtc_time_us now);

/* A remote candidate (trickle: at any time). Candidates the agent cannot use
 * are ignored and counted, not refused: component other than 1 (RTCP),
 * TCP, port 0, duplicates, a ufrag other than the current remote one. A
 * host name is handed out in an EV_RESOLVE event. MXRTC_ERR_LIMIT when the
 * remote table is full. */
int mxrtc_ice_agent_add_remote_candidate(mxrtc_ice_agent *a, mxrtc_time_us now,
                                         const mxrtc_ice_candidate *c);
/* The same from an attribute line ("candidate:..." with or without "a=");
 * an empty line or "end-of-candidates" means end-of-candidates. Parse
 * errors are returned (MXRTC_ERR_MALFORMED...), the agent is unaffected. */
int mxrtc_ice_agent_add_remote_candidate_line(mxrtc_ice_agent *a, mxrtc_time_us now,
                                              const char *line, size_t len);
/* RFC 8838 §4.3: the remote has sent all its candidates. */
int mxrtc_ice_agent_remote_gathering_done(mxrtc_ice_agent *a, mxrtc_time_us now);
/* The answer to an EV_RESOLVE: ip (port ignored) or NULL if it failed. */
int mxrtc_ice_agent_resolved(mxrtc_ice_agent *a, mxrtc_time_us now, const char *hostname,
                             const mxrtc_addr *ip);

/* A received STUN datagram: local is the address it arrived on (a host
 * candidate's base, or a relayed address), remote its source.
 * MXRTC_OK when consumed (also when dropped as invalid: see stats),
 * MXRTC_ERR_MALFORMED if it is not STUN at all (not the agent's). */
int mxrtc_ice_agent_handle_datagram(mxrtc_ice_agent *a, mxrtc_time_us now, const mxrtc_addr *local,
                                    const mxrtc_addr *remote, const uint8_t *data, size_t len);
/* The clock reached a deadline (calling it early is harmless). */
int mxrtc_ice_agent_handle_timeout(mxrtc_ice_agent *a, mxrtc_time_us now);

/* ICE restart (RFC 8445 §9): new local credentials, remote candidates and
 * credentials forgotten (set the new ones), gathering starts again. The
 * selected pair stays selected and keeps its consent checks (with the old
 * credentials) until a new pair is selected. */
int mxrtc_ice_agent_restart(mxrtc_ice_agent *a, mxrtc_time_us now);

/* Ends the session (the peer connection closed): no more checks, consent
 * or candidates, and every TURN allocation (UDP, TCP, TLS) is released
 * with a Refresh of LIFETIME 0 (RFC 8656 §7.2), also one whose Allocate
 * succeeds only during the teardown. An input: drain afterwards. The
 * caller keeps feeding handle_timeout, and the TURN servers' datagrams and
 * stream bytes (handle_datagram / handle_stream / stream_closed), until
 * mxrtc_ice_agent_close_done(): every deallocation answered (or failed), or
 * 2 s passed (then the server lets the allocation expire). From then on
 * the poll deadline is MXRTC_TIME_NEVER; close the TCP/TLS connections to
 * the TURN servers then, not before (the Refresh travels on them). Other
 * inputs after close, and every input after the teardown, give
 * MXRTC_ERR_CLOSED (a non-TURN datagram included). A second close is
 * MXRTC_OK and does nothing. */
int mxrtc_ice_agent_close(mxrtc_ice_agent *a, mxrtc_time_us now);
/* The teardown started by mxrtc_ice_agent_close is over. */
bool mxrtc_ice_agent_close_done(const mxrtc_ice_agent *a);

/* Next output; see mxrtc_ice_output. Always MXRTC_OK for a valid agent. */
int mxrtc_ice_agent_poll(mxrtc_ice_agent *a, mxrtc_ice_output *out);

mxrtc_ice_state mxrtc_ice_agent_state(const mxrtc_ice_agent *a);
bool mxrtc_ice_agent_is_controlling(const mxrtc_ice_agent *a);
/* The selected pair's local base and remote address; MXRTC_ERR_NOT_FOUND if none. */
int mxrtc_ice_agent_selected(const mxrtc_ice_agent *a, mxrtc_addr *local, mxrtc_addr *remote);
const mxrtc_ice_stats *mxrtc_ice_agent_stats(const mxrtc_ice_agent *a);

/* ---- routing aids: hosts that share one set of sockets between agents --- */

/* True if ufrag[0..len) is our current local ufrag, or the one before the
 * last restart while its pair lives (RFC 8445 §9: both are in use then).
 * A binding request's USERNAME starts with the receiver's ufrag (§7.2.2). */
bool mxrtc_ice_agent_has_local_ufrag(const mxrtc_ice_agent *a, const char *ufrag, size_t len);

/* How well `remote` is known to the agent: 4 the selected pair's remote,
 * 3 a remote candidate (given, resolved or peer-reflexive), 2 one of our
 * TURN servers, 1 one of our STUN servers, 0 unknown. */
int mxrtc_ice_agent_remote_rank(const mxrtc_ice_agent *a, const mxrtc_addr *remote);

#endif
