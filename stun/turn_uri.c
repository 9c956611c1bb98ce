/*
 * turn_uri.c: stun:/stuns:/turn:/turns: URIs (RFC 7064, RFC 7065) and
 * Synapse REST credentials. See turn_uri.h for the accepted grammar and the
 * error decisions.
 */
#include "stun/turn_uri.h"

#include <string.h>

#include "base/alloc.h"

static char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive compare of text[0..n) with the lowercase literal lit. */
static int ieq(const char *text, size_t n, const char *lit) {
    size_t l = strlen(lit);
    if (n != l) return 0;
    for (size_t i = 0; i < n; i++)
        if (lower(text[i]) != lit[i]) return 0;
    return 1;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* RFC 3986 §2.3 unreserved: the character set of RFC 7065's transport-ext. */
static int is_unreserved(char c) {
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* A DNS name (the subset of RFC 3986 reg-name that resolves): labels of
 * letters, digits, '-' and '_' (SRV-style names), 1-63 bytes (RFC 1035 §2.3.4),
 * separated by single dots; one trailing dot (the root) is allowed. */
static int valid_dns_name(const char *h, size_t n) {
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (c == '.') {
            if (label == 0) return 0;   /* empty label: leading dot or ".." */
            label = 0;
        } else if (is_alpha(c) || is_digit(c) || c == '-' || c == '_') {
            if (++label > 63) return 0;
        } else {
            return 0;
        }
    }
    return 1;
}

/* True when every byte is a digit or a dot: such a host must be an IPv4
 * address (RFC 3696 §2: a top-level domain is never all-numeric). */
static int looks_numeric(const char *h, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!is_digit(h[i]) && h[i] != '.') return 0;
    return 1;
}

static int parse_port(const char *p, size_t n, uint16_t *port) {
    if (n == 0 || n > 5) return MXRTC_ERR_MALFORMED;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i])) return MXRTC_ERR_MALFORMED;
        v = v * 10 + (uint32_t)(p[i] - '0');
    }
    if (v == 0 || v > 65535) return MXRTC_ERR_MALFORMED;
    *port = (uint16_t)v;
    return MXRTC_OK;
}

/* "transport=<value>" (the text after '?'), RFC 7065 §3.1. */
static int parse_query(mxrtc_turn_uri *u, const char *q, size_t n) {
    static const char key[] = "transport=";
    const size_t klen = sizeof key - 1;
    if (n < klen || !ieq(q, klen, key)) return MXRTC_ERR_MALFORMED;
    const char *v = q + klen;
    size_t vn = n - klen;
    if (vn == 0) return MXRTC_ERR_MALFORMED;          /* transport-ext is 1*unreserved */
    for (size_t i = 0; i < vn; i++)
        if (!is_unreserved(v[i])) return MXRTC_ERR_MALFORMED; /* '&', '?', '%'... */
    u->transport_explicit = 1;
    if (ieq(v, vn, "udp")) {
        /* turns: over UDP would be DTLS (RFC 7350), which we do not implement. */
        if (u->secure) return MXRTC_ERR_UNSUPPORTED;
        u->transport = MXRTC_URI_TRANSPORT_UDP;
    } else if (ieq(v, vn, "tcp")) {
        u->transport = MXRTC_URI_TRANSPORT_TCP;
    } else {
        return MXRTC_ERR_UNSUPPORTED;                  /* a valid transport-ext */
    }
    return MXRTC_OK;
}

static int parse(mxrtc_turn_uri *u, const char *text, size_t len) {
    const char *end = text + len;
    const char *colon = memchr(text, ':', len);
    if (!colon) return MXRTC_ERR_MALFORMED;
    size_t slen = (size_t)(colon - text);
    if (ieq(text, slen, "turn")) u->scheme = MXRTC_URI_TURN;
    else if (ieq(text, slen, "turns")) u->scheme = MXRTC_URI_TURNS;
    else if (ieq(text, slen, "stun")) u->scheme = MXRTC_URI_STUN;
    else if (ieq(text, slen, "stuns")) u->scheme = MXRTC_URI_STUNS;
    else return MXRTC_ERR_MALFORMED;
    u->secure = (u->scheme == MXRTC_URI_TURNS || u->scheme == MXRTC_URI_STUNS);
    /* RFC 7065 §3: TCP (over TLS) is the default for turns:, UDP for turn:;
     * RFC 7064 likewise for stuns:/stun:. */
    u->transport = u->secure ? MXRTC_URI_TRANSPORT_TCP : MXRTC_URI_TRANSPORT_UDP;
    u->port = u->secure ? MXRTC_STUNS_DEFAULT_PORT : MXRTC_STUN_DEFAULT_PORT;

    const char *p = colon + 1;
    /* Split off the query first: '?' appears in no valid host or port. */
    const char *q = memchr(p, '?', (size_t)(end - p));
    const char *hp_end = q ? q : end;

    const char *host, *host_end, *port_start = NULL;
    int bracketed = 0;
    if (p < hp_end && *p == '[') {
        /* RFC 3986 §3.2.2 IP-literal. */
        const char *rb = memchr(p, ']', (size_t)(hp_end - p));
        if (!rb) return MXRTC_ERR_MALFORMED;
        host = p + 1;
        host_end = rb;
        bracketed = 1;
        if (rb + 1 < hp_end) {
            if (rb[1] != ':') return MXRTC_ERR_MALFORMED;
            port_start = rb + 2;
        }
    } else {
        host = p;
        const char *pc = memchr(p, ':', (size_t)(hp_end - p));
        host_end = pc ? pc : hp_end;
        if (pc) port_start = pc + 1;
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0) return MXRTC_ERR_MALFORMED;
    if (hlen > MXRTC_TURN_HOST_MAX) return MXRTC_ERR_MALFORMED;

    if (port_start) {
        int r = parse_port(port_start, (size_t)(hp_end - port_start), &u->port);
        if (r != MXRTC_OK) return r;
        u->port_explicit = 1;
    }

    memcpy(u->host, host, hlen);
    u->host[hlen] = '\0';
    u->host_len = hlen;
    if (bracketed) {
        /* Only IPv6 (no zone id, no IPvFuture) inside brackets. The copy is
         * NUL-terminated, so an embedded NUL would end it early: reject. */
        if (memchr(host, '\0', hlen) || memchr(host, '%', hlen))
            return MXRTC_ERR_MALFORMED;
        if (mxrtc_addr_parse(&u->addr, u->host, u->port) != MXRTC_OK ||
            u->addr.family != MXRTC_AF_INET6)
            return MXRTC_ERR_MALFORMED;
        u->host_is_ip = 1;
    } else if (looks_numeric(host, hlen)) {
        if (mxrtc_addr_parse(&u->addr, u->host, u->port) != MXRTC_OK ||
            u->addr.family != MXRTC_AF_INET4)
            return MXRTC_ERR_MALFORMED;
        u->host_is_ip = 1;
    } else if (!valid_dns_name(host, hlen)) {
        return MXRTC_ERR_MALFORMED;
    }

    if (q) {
        if (!mxrtc_turn_uri_is_turn(u)) return MXRTC_ERR_MALFORMED; /* RFC 7064: no query */
        return parse_query(u, q + 1, (size_t)(end - q - 1));
    }
    return MXRTC_OK;
}

int mxrtc_turn_uri_parse(mxrtc_turn_uri *out, const char *text, size_t len) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (!text) return MXRTC_ERR_INVALID_ARGUMENT;
    if (len > MXRTC_TURN_URI_MAX_LEN) return MXRTC_ERR_LIMIT;
    int r = parse(out, text, len);
    if (r != MXRTC_OK) memset(out, 0, sizeof *out);
    return r;
}

int mxrtc_turn_uri_is_turn(const mxrtc_turn_uri *u) {
    return u && (u->scheme == MXRTC_URI_TURN || u->scheme == MXRTC_URI_TURNS);
}

/* No C0 controls or DEL (RFC 8265 §4.2 OpaqueString disallows controls);
 * bytes >= 0x80 (UTF-8) pass untouched: the server compares bytes. */
static int printable(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) return 0;
    }
    return 1;
}

int mxrtc_turn_credentials_from_rest(mxrtc_turn_credentials *out,
                                     const char *username, size_t username_len,
                                     const char *password, size_t password_len) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_wipe(out, sizeof *out);
    if (!username || !password || username_len == 0 || password_len == 0)
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (username_len > MXRTC_TURN_USERNAME_MAX || password_len > MXRTC_TURN_PASSWORD_MAX)
        return MXRTC_ERR_LIMIT;
    if (!printable(username, username_len) || !printable(password, password_len))
        return MXRTC_ERR_INVALID_ARGUMENT;
    memcpy(out->username, username, username_len);
    out->username[username_len] = '\0';
    out->username_len = username_len;
    memcpy(out->password, password, password_len);
    out->password[password_len] = '\0';
    out->password_len = password_len;

    /* The TURN REST API username is "<expiry>:<user>" (coturn's default
     * separator ':'); Synapse builds it as "%d:%s" % (expiry, user_id). */
    uint64_t v = 0;
    size_t i = 0;
    while (i < username_len && i < 19 && is_digit(username[i])) {
        v = v * 10 + (uint64_t)(username[i] - '0');
        i++;
    }
    if (i > 0 && i < username_len && username[i] == ':') out->expiry_unix = v;
    return MXRTC_OK;
}

void mxrtc_turn_credentials_wipe(mxrtc_turn_credentials *c) {
    if (c) mxrtc_wipe(c, sizeof *c);
}
