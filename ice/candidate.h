/*
 * candidate.h: ICE candidates: the SDP candidate attribute (RFC 8839 §5.1)
 * parsed and serialised, candidate priorities (RFC 8445 §5.1.2, RFC 8421 for
 * dual stack), pair priorities (RFC 8445 §6.1.2.3) and foundations
 * (RFC 8445 §5.1.1.3).
 *
 * Everything here works on caller-owned structs: no allocation, bounded
 * lengths, and remote text is never trusted (a line longer than
 * MXRTC_ICE_CANDIDATE_LINE_MAX, a field out of range or too many extension
 * pairs is MXRTC_ERR_MALFORMED or MXRTC_ERR_LIMIT, never a crash).
 */
#ifndef MXRTC_ICE_CANDIDATE_H
#define MXRTC_ICE_CANDIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"

/* RFC 8839 §5.1: foundation = 1*32 ice-char. */
#define MXRTC_ICE_FOUNDATION_MAX 32
/* RFC 1035 §2.3.4: a name is at most 253 characters in text form. */
#define MXRTC_ICE_HOSTNAME_MAX 253
/* RFC 8839 §5.4: ice-ufrag is 4..256 ice-chars. */
#define MXRTC_ICE_UFRAG_MAX 256
/* Longest candidate line we accept (with "a=" and a trailing CRLF). Real
 * lines are < 200 characters; the bound keeps a hostile peer from making us
 * walk megabytes. */
#define MXRTC_ICE_CANDIDATE_LINE_MAX 1024
/* Extension pairs (known and unknown) per line before the line is refused. */
#define MXRTC_ICE_CANDIDATE_EXT_MAX 16

typedef enum mxrtc_ice_cand_type {
    MXRTC_ICE_CAND_HOST = 0,
    MXRTC_ICE_CAND_SRFLX = 1,
    MXRTC_ICE_CAND_PRFLX = 2,
    MXRTC_ICE_CAND_RELAY = 3
} mxrtc_ice_cand_type;

typedef enum mxrtc_ice_transport {
    MXRTC_ICE_TRANSPORT_UDP = 0,
    MXRTC_ICE_TRANSPORT_TCP = 1
} mxrtc_ice_transport;

/* RFC 6544 §4.5: the tcptype extension of TCP candidates. */
typedef enum mxrtc_ice_tcptype {
    MXRTC_ICE_TCPTYPE_NONE = 0,
    MXRTC_ICE_TCPTYPE_ACTIVE = 1,
    MXRTC_ICE_TCPTYPE_PASSIVE = 2,
    MXRTC_ICE_TCPTYPE_SO = 3
} mxrtc_ice_tcptype;

/* One candidate as signalled. Fields that were absent are marked: has_related
 * false, generation/network_id/network_cost -1, ufrag "". */
typedef struct mxrtc_ice_candidate {
    char foundation[MXRTC_ICE_FOUNDATION_MAX + 1];
    uint16_t component;          /* 1..256; WebRTC with rtcp-mux uses 1 only */
    uint8_t transport;           /* mxrtc_ice_transport */
    uint8_t type;                /* mxrtc_ice_cand_type */
    uint32_t priority;
    /* The connection address: an IP (addr.family 4 or 6, addr.port = port),
     * or a host name (addr.family UNSPEC, hostname non-empty, addr.port =
     * port) kept for later resolution, typically an mDNS "<uuid>.local". */
    mxrtc_addr addr;
    char hostname[MXRTC_ICE_HOSTNAME_MAX + 1];
    bool is_mdns;                /* hostname ends in ".local" (RFC 6762) */
    bool has_related;            /* raddr/rport present and raddr an IP */
    mxrtc_addr related;
    uint8_t tcptype;             /* mxrtc_ice_tcptype */
    int64_t generation;          /* -1 when absent */
    int64_t network_id;          /* -1 when absent */
    int64_t network_cost;        /* -1 when absent */
    char ufrag[MXRTC_ICE_UFRAG_MAX + 1];
    uint8_t unknown_extensions;  /* how many unknown pairs were skipped */
} mxrtc_ice_candidate;

/* Parses one candidate attribute, with or without a leading "a=" and with or
 * without "candidate:" (Matrix m.call.candidates carry "candidate:..."; some
 * stacks pass the bare value). A trailing CR/LF is ignored. text need not be
 * NUL-terminated (len bytes are read; a NUL inside ends it early).
 * Errors: MXRTC_ERR_INVALID_ARGUMENT (NULL), MXRTC_ERR_MALFORMED (grammar or a
 * value out of range), MXRTC_ERR_UNSUPPORTED (a transport other than UDP
 * or TCP, e.g. "ssltcp"), MXRTC_ERR_LIMIT (line longer than
 * MXRTC_ICE_CANDIDATE_LINE_MAX or more than MXRTC_ICE_CANDIDATE_EXT_MAX
 * extension pairs). *out is fully written on success, unspecified on error. */
int mxrtc_ice_candidate_parse(mxrtc_ice_candidate *out, const char *text, size_t len);

/* Writes "candidate:..." (no "a=", no CRLF) with a terminating NUL into buf.
 * Returns the length without the NUL, or MXRTC_ERR_BUFFER_TOO_SMALL
 * (MXRTC_ICE_CANDIDATE_LINE_MAX always suffices), or
 * MXRTC_ERR_INVALID_ARGUMENT for a candidate that cannot be written (no
 * address, bad foundation). */
int mxrtc_ice_candidate_format(const mxrtc_ice_candidate *c, char *buf, size_t len);

/* Sets *c to an empty candidate (absent optional fields marked absent). */
void mxrtc_ice_candidate_init(mxrtc_ice_candidate *c);

/* "host", "srflx", "prflx", "relay" (static strings). */
const char *mxrtc_ice_cand_type_name(mxrtc_ice_cand_type t);

/* ---- priorities (RFC 8445 §5.1.2) ---------------------------------------- */

/* RFC 8445 §5.1.2.2 recommended type preferences. */
#define MXRTC_ICE_TYPE_PREF_HOST 126
#define MXRTC_ICE_TYPE_PREF_PRFLX 110
#define MXRTC_ICE_TYPE_PREF_SRFLX 100
#define MXRTC_ICE_TYPE_PREF_RELAY 0

/* The recommended type preference for t. */
uint32_t mxrtc_ice_type_preference(mxrtc_ice_cand_type t);

/* RFC 8445 §5.1.2.1: priority = 2^24 * type_pref + 2^8 * local_pref +
 * (256 - component). type_pref 0..126, local_pref 0..65535, component
 * 1..256 (values outside are clamped). */
uint32_t mxrtc_ice_priority(uint32_t type_pref, uint32_t local_pref, uint32_t component);

/* A local preference for a base address (RFC 8445 §5.1.2.1, RFC 8421 §4).
 * Interfaces come in the caller's order of preference (iface_index 0 best);
 * within an interface, IPv6 ranks just above IPv4 so that the two families
 * interleave across interfaces instead of every IPv6 address beating every
 * IPv4 one (RFC 8421 §4: favour IPv6, but do not starve IPv4). addr_index
 * separates several addresses of one family on one interface.
 *   local_pref = 65535 - 256 * min(iface_index, 255)
 *                      - 2 * min(addr_index, 63) - (IPv4 ? 1 : 0)
 * so every (interface, address, family) triple gets a distinct value, which
 * RFC 8445 §5.1.2.1 requires among candidates of one component. */
uint32_t mxrtc_ice_local_preference(mxrtc_family family, unsigned iface_index,
                                    unsigned addr_index);

/* RFC 8445 §6.1.2.3: pair priority = 2^32 * MIN(G, D) + 2 * MAX(G, D) +
 * (G > D ? 1 : 0), with G the controlling agent's candidate priority and D
 * the controlled agent's. */
uint64_t mxrtc_ice_pair_priority(uint32_t controlling_prio, uint32_t controlled_prio);

/* RFC 8445 §5.1.1.3: candidates share a foundation when they have the same
 * type, base IP address, STUN/TURN server IP (for srflx/relay; NULL
 * otherwise) and transport. Writes a foundation (1..8 hex characters, a
 * valid ice-char string) derived from exactly those inputs into
 * out[MXRTC_ICE_FOUNDATION_MAX + 1]. Equal inputs give equal foundations;
 * different inputs give different ones except for a 32-bit hash collision,
 * which only makes two candidates share a frozen group (harmless). */
void mxrtc_ice_foundation(char out[MXRTC_ICE_FOUNDATION_MAX + 1], mxrtc_ice_cand_type type,
                          const mxrtc_addr *base_ip, const mxrtc_addr *server_ip,
                          mxrtc_ice_transport transport);

#endif
