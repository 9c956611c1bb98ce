/*
 * turn_servers.h: the host's GET /_matrix/client/v3/voip/turnServer answer
 * (spec client-server API "Voice over IP: TURN server"), turned into URIs
 * and REST credentials for the peer, and when to fetch it again.
 *
 * The answer is {"username", "password", "uris": [...], "ttl"}; Synapse
 * answers `{}` when it has no TURN configured, and any field may be missing:
 * that means "no TURN" (STUN-only URIs are still kept). A URI that does not
 * parse (stun/turn_uri.h) or that we cannot speak is skipped and counted,
 * not fatal: one odd entry must not cost the call its relay. Wrong JSON
 * types are MXRTC_ERR_MALFORMED.
 */
#ifndef MXRTC_MATRIX_TURN_SERVERS_H
#define MXRTC_MATRIX_TURN_SERVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mxrtc.h"
#include "stun/turn_uri.h"

#define MXRTC_TURN_SERVERS_MAX 8          /* URIs kept */
#define MXRTC_TURN_SERVERS_JSON_MAX 65536 /* bytes of answer accepted */
/* Fetch again this long after an answer without a ttl (or with TURN absent). */
#define MXRTC_TURN_SERVERS_DEFAULT_REFRESH_S 3600

typedef struct mxrtc_turn_servers {
    mxrtc_turn_uri uris[MXRTC_TURN_SERVERS_MAX];
    uint32_t uri_count;
    uint32_t skipped;                 /* URIs dropped: invalid, unsupported, over the bound */
    bool has_credentials;             /* username and password both present and valid */
    mxrtc_turn_credentials credentials;
    uint32_t ttl_s;                   /* as given, 0 if absent */
    mxrtc_time_us refresh_at;         /* when to fetch again (caller's clock) */
} mxrtc_turn_servers;

/* Parses json[0..len) received at `now`. refresh_at is before the ttl runs
 * out: at 80% of it, and at least 30 s early when the ttl allows (so a
 * fetch that takes time still lands before the credentials expire).
 * Errors: MXRTC_ERR_INVALID_ARGUMENT, MXRTC_ERR_LIMIT (too long),
 * MXRTC_ERR_MALFORMED (not JSON, not an object, a field of the wrong type).
 * *out is zeroed (and wiped) on failure; *reason is a static text.
 * Call mxrtc_turn_servers_wipe() when done (it holds a password). */
int mxrtc_turn_servers_parse(mxrtc_turn_servers *out, const char *json, size_t len, mxrtc_time_us now,
                             const char **reason);

/* The turn:/turns: URIs usable: those we have credentials for. */
bool mxrtc_turn_servers_has_turn(const mxrtc_turn_servers *s);

void mxrtc_turn_servers_wipe(mxrtc_turn_servers *s);

#endif
