/*
 * mdns.h: resolving the ".local" names of mDNS ICE candidates (RFC 6762).
 *
 * Wire format (mdns.c): a one-shot multicast query (RFC 6762 §5.1) for A and
 * AAAA with the QU bit (§5.4) set so that responders may answer by unicast,
 * and a bounded parser for responses (RFC 1035 §4 with §4.1.4 compression:
 * pointers must point backwards, so loops are impossible, and hops are
 * counted anyway). Pure functions, no sockets: the runner owns those.
 *
 * Resolver state (mdns_cache.c): a bounded cache of answers (kept for their
 * TTL) and a bounded table of names being asked, each with a deadline.
 */
#ifndef MXRTC_NET_MDNS_H
#define MXRTC_NET_MDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"

#define MXRTC_MDNS_PORT 5353                 /* RFC 6762 §3 */
#define MXRTC_MDNS_NAME_MAX 255              /* RFC 1035 §3.1, presentation without the root dot */
#define MXRTC_MDNS_QUERY_MAX 512             /* RFC 1035 §2.3.4 */
#define MXRTC_MDNS_CACHE_MAX 32
#define MXRTC_MDNS_PENDING_MAX 16
#define MXRTC_MDNS_TYPE_A 1                  /* RFC 1035 §3.2.2 */
#define MXRTC_MDNS_TYPE_AAAA 28              /* RFC 3596 §2.1 */

/* 224.0.0.251:5353 and [ff02::fb]:5353 (RFC 6762 §3). */
void mxrtc_mdns_group_v4(mxrtc_addr *a);
void mxrtc_mdns_group_v6(mxrtc_addr *a);

/* Writes a query for name ("abc.local", a trailing dot allowed) asking A and
 * AAAA, QU bit set, ID 0 (RFC 6762 §18.1). Returns the length, or
 * MXRTC_ERR_INVALID_ARGUMENT (not a ".local" name, an empty or > 63 byte
 * label, > 255 bytes), MXRTC_ERR_BUFFER_TOO_SMALL. */
int mxrtc_mdns_build_query(const char *name, uint8_t *buf, size_t cap);

/* One address record from a response. */
typedef struct mxrtc_mdns_record {
    char name[MXRTC_MDNS_NAME_MAX + 1];      /* dotted, no trailing dot, as sent */
    mxrtc_addr ip;                            /* port 0 */
    uint32_t ttl;                             /* seconds */
} mxrtc_mdns_record;

/* Parses a DNS response and collects its A and AAAA records (answer,
 * authority and additional sections) into recs[max]; *count says how many
 * were written (the rest are skipped: bounded). Other record types are
 * skipped. Errors: MXRTC_ERR_TRUNCATED (a length or count runs past the
 * end), MXRTC_ERR_MALFORMED (a forward or looping compression pointer, a
 * reserved label type, a name over 255 bytes, an A/AAAA record of the wrong
 * size), MXRTC_ERR_UNSUPPORTED (not a response, or opcode/rcode not zero:
 * RFC 6762 §18.2, §18.3, §18.11 say ignore it). */
int mxrtc_mdns_parse_response(const uint8_t *msg, size_t len, mxrtc_mdns_record *recs, size_t max,
                              size_t *count);

/* Case-insensitive DNS name equality (RFC 6762 §16), ignoring one trailing dot. */
bool mxrtc_mdns_name_equal(const char *a, const char *b);

/* ---- resolver state ------------------------------------------------------ */

typedef struct mxrtc_mdns_cache_entry {
    char name[MXRTC_MDNS_NAME_MAX + 1];
    mxrtc_addr ip;
    mxrtc_time_us expires;
    bool used;
} mxrtc_mdns_cache_entry;

typedef struct mxrtc_mdns_pending {
    char name[MXRTC_MDNS_NAME_MAX + 1];
    mxrtc_time_us deadline;                   /* give up (answer "failed") then */
    mxrtc_time_us resend_at;                  /* the one retransmission, NEVER once sent */
    bool used;
} mxrtc_mdns_pending;

typedef struct mxrtc_mdns_resolver {
    mxrtc_mdns_cache_entry cache[MXRTC_MDNS_CACHE_MAX];
    mxrtc_mdns_pending pending[MXRTC_MDNS_PENDING_MAX];
    mxrtc_time_us timeout;                    /* per query */
    uint64_t limit_hits;                      /* queries refused: pending table full */
} mxrtc_mdns_resolver;

/* timeout: how long to wait for an answer (0: 3 s). */
void mxrtc_mdns_resolver_init(mxrtc_mdns_resolver *r, mxrtc_time_us timeout);
/* A cached, unexpired answer for name: MXRTC_OK with *ip, else MXRTC_ERR_NOT_FOUND. */
int mxrtc_mdns_cache_lookup(mxrtc_mdns_resolver *r, mxrtc_time_us now, const char *name, mxrtc_addr *ip);
/* Remembers an answer for ttl seconds (at most one hour); the oldest entry
 * makes room when the cache is full. */
void mxrtc_mdns_cache_store(mxrtc_mdns_resolver *r, mxrtc_time_us now, const char *name, const mxrtc_addr *ip,
                            uint32_t ttl);
/* Starts waiting for name: MXRTC_OK (send a query now), MXRTC_ERR_AGAIN
 * (already asked: wait), MXRTC_ERR_LIMIT (table full: answer "failed"),
 * MXRTC_ERR_INVALID_ARGUMENT (too long). */
int mxrtc_mdns_pending_add(mxrtc_mdns_resolver *r, mxrtc_time_us now, const char *name);
/* Takes name out of the table; true if it was waiting. asked (may be NULL)
 * gets the name as it was asked (an answer may differ in case, §16). */
bool mxrtc_mdns_pending_take(mxrtc_mdns_resolver *r, const char *name, char asked[MXRTC_MDNS_NAME_MAX + 1]);
/* Takes one name whose deadline passed into out; false if none. */
bool mxrtc_mdns_pending_expired(mxrtc_mdns_resolver *r, mxrtc_time_us now, char out[MXRTC_MDNS_NAME_MAX + 1]);
/* Takes one name whose single retransmission is due (RFC 6762 §5.1: a
 * one-shot querier may repeat its query; we do once, after half the timeout
 * but no more than 1 s) into out; false if none. */
bool mxrtc_mdns_pending_resend(mxrtc_mdns_resolver *r, mxrtc_time_us now, char out[MXRTC_MDNS_NAME_MAX + 1]);
/* The earliest pending deadline or retransmission, MXRTC_TIME_NEVER if none. */
mxrtc_time_us mxrtc_mdns_next_deadline(const mxrtc_mdns_resolver *r);

#endif
