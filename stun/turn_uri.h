/*
 * turn_uri.h: stun:/stuns: (RFC 7064) and turn:/turns: (RFC 7065) URIs, and
 * the REST credentials Synapse's /voip/turnServer hands out.
 *
 * Parsing never allocates: the result holds a bounded copy of the host. The
 * grammar (RFC 7065 §3.1, RFC 7064 §3.1):
 *
 *   turnURI = ("turn" / "turns") ":" host [":" port] ["?transport=" transport]
 *   stunURI = ("stun" / "stuns") ":" host [":" port]
 *
 * Decisions (see docs/turn.md):
 *  - the scheme and the transport value are case-insensitive (ABNF literals);
 *  - host is an IPv4 address, a bracketed IPv6 literal ("[2001:db8::1]", no
 *    zone id), or a DNS name (letters, digits, '-', '_', '.', labels of 1-63
 *    bytes, at most 253 bytes). RFC 3986's wider reg-name (percent-encoding,
 *    sub-delims) and userinfo ("user@") are MXRTC_ERR_MALFORMED: no
 *    resolvable TURN server has such a name;
 *  - a name that looks like a dotted quad but is not a valid one
 *    ("1.2.3.256") is MXRTC_ERR_MALFORMED (RFC 3696 §2: no all-numeric TLD);
 *  - port: 1 to 5 decimal digits, value 1-65535; "host:" with an empty port,
 *    port 0 and anything larger are MXRTC_ERR_MALFORMED;
 *  - "?transport=udp|tcp" only; any other query, an empty value, or a query
 *    on stun:/stuns: (their grammar has none) is MXRTC_ERR_MALFORMED;
 *  - a syntactically valid transport-ext other than udp/tcp ("sctp"), and
 *    "turns:...?transport=udp" (TURN over DTLS, RFC 7350), are
 *    MXRTC_ERR_UNSUPPORTED: well-formed, but not something this stack speaks.
 */
#ifndef MXRTC_STUN_TURN_URI_H
#define MXRTC_STUN_TURN_URI_H

#include <stddef.h>
#include <stdint.h>
#include "mxrtc.h"

/* RFC 8489 §6 / RFC 8656 §3: default ports for plain and TLS transports. */
#define MXRTC_STUN_DEFAULT_PORT 3478
#define MXRTC_STUNS_DEFAULT_PORT 5349

/* Longest URI text accepted (our bound; longer is MXRTC_ERR_LIMIT). */
#define MXRTC_TURN_URI_MAX_LEN 1024
/* RFC 1035 §2.3.4: a name is at most 253 text bytes (255 octets on the wire). */
#define MXRTC_TURN_HOST_MAX 253

typedef enum mxrtc_uri_scheme {
    MXRTC_URI_STUN = 1,
    MXRTC_URI_STUNS = 2,
    MXRTC_URI_TURN = 3,
    MXRTC_URI_TURNS = 4
} mxrtc_uri_scheme;

typedef enum mxrtc_uri_transport {
    MXRTC_URI_TRANSPORT_UDP = 1,
    MXRTC_URI_TRANSPORT_TCP = 2  /* over TLS for turns:/stuns: */
} mxrtc_uri_transport;

typedef struct mxrtc_turn_uri {
    mxrtc_uri_scheme scheme;
    int secure;                     /* 1 for stuns:/turns: (TLS), else 0 */
    mxrtc_uri_transport transport;  /* explicit, or the scheme's default */
    int transport_explicit;         /* 1 if "?transport=" was given */
    uint16_t port;                  /* explicit, or 3478 / 5349 */
    int port_explicit;              /* 1 if ":port" was given */
    /* The host as written, without IPv6 brackets, NUL-terminated: a DNS name
     * to resolve, or the IP literal's text. */
    char host[MXRTC_TURN_HOST_MAX + 1];
    size_t host_len;
    int host_is_ip;                 /* 1 if host is an IPv4/IPv6 literal */
    mxrtc_addr addr;                /* host_is_ip: the address with port; else zeroed */
} mxrtc_turn_uri;

/* Parses text[0..len) (no NUL needed; an embedded NUL is malformed) into *out.
 * Returns MXRTC_OK; MXRTC_ERR_INVALID_ARGUMENT for NULL pointers;
 * MXRTC_ERR_LIMIT if len > MXRTC_TURN_URI_MAX_LEN; MXRTC_ERR_MALFORMED for
 * text outside the grammar above (unknown scheme, empty or overlong host, bad
 * port, unknown query); MXRTC_ERR_UNSUPPORTED for a well-formed transport we
 * do not implement. *out is zeroed on failure. */
int mxrtc_turn_uri_parse(mxrtc_turn_uri *out, const char *text, size_t len);

/* 1 for turn:/turns:, 0 for stun:/stuns:. */
int mxrtc_turn_uri_is_turn(const mxrtc_turn_uri *u);

/* RFC 8489 §14.3: USERNAME is less than 513 bytes. */
#define MXRTC_TURN_USERNAME_MAX 512
/* Our bound on a long-term password (RFC 8489 sets none); a Synapse password
 * is 28 base64 characters (HMAC-SHA1). */
#define MXRTC_TURN_PASSWORD_MAX 512

/* Long-term credentials (RFC 8489 §9.2) ready for the TURN client. */
typedef struct mxrtc_turn_credentials {
    char username[MXRTC_TURN_USERNAME_MAX + 1];
    size_t username_len;
    char password[MXRTC_TURN_PASSWORD_MAX + 1];
    size_t password_len;
    /* The "<unix expiry>" prefix of a REST username ("1700000000:@u:hs"),
     * in seconds, or 0 when the username has no such prefix. Informational
     * only: the server decides; a host may re-fetch credentials before it. */
    uint64_t expiry_unix;
} mxrtc_turn_credentials;

/* Takes the "username" and "password" of Synapse's /voip/turnServer answer
 * (the TURN REST API, draft-uberti-behave-turn-rest): they ARE ordinary
 * long-term credentials. The username "expiry:user" and the password (the
 * base64 text of HMAC-SHA1(secret, username)) are used byte for byte as
 * given: nothing is decoded, hashed or re-encoded here; the server checks
 * them. This only checks presence and bounds, rejects control characters
 * (RFC 8265 OpaqueString has none), copies both into *out and extracts
 * expiry_unix.
 * Returns MXRTC_OK; MXRTC_ERR_INVALID_ARGUMENT for NULL or empty strings or
 * control characters; MXRTC_ERR_LIMIT if a string exceeds its bound.
 * Call mxrtc_turn_credentials_wipe() when done: *out holds a password. */
int mxrtc_turn_credentials_from_rest(mxrtc_turn_credentials *out,
                                     const char *username, size_t username_len,
                                     const char *password, size_t password_len);

/* Overwrites *c (password included) with zeros. NULL is fine. */
void mxrtc_turn_credentials_wipe(mxrtc_turn_credentials *c);

#endif
