/*
 * candidate.c: the candidate attribute (RFC 8839 §5.1) in and out.
 *
 *   candidate-attribute = "candidate" ":" foundation SP component-id SP
 *                         transport SP priority SP connection-address SP
 *                         port SP cand-type [SP rel-addr] [SP rel-port]
 *                         *(SP cand-extension)
 *
 * Parsing is done on (pointer, length) tokens over the caller's text; nothing
 * is copied until a field is validated and nothing is allocated.
 */
#include "ice/candidate.h"

#include <stdio.h>
#include <string.h>

typedef struct tok {
    const char *p;
    size_t n;
} tok;

typedef struct scanner {
    const char *p;
    size_t n;
    size_t pos;
} scanner;

/* The next space-separated token; RFC 8839 uses single SP, but a peer that
 * sends two spaces or a tab has not changed the meaning, so runs of blanks
 * separate tokens. Returns false at the end. */
static bool next_tok(scanner *s, tok *t) {
    while (s->pos < s->n && (s->p[s->pos] == ' ' || s->p[s->pos] == '\t')) s->pos++;
    if (s->pos >= s->n) return false;
    size_t start = s->pos;
    while (s->pos < s->n && s->p[s->pos] != ' ' && s->p[s->pos] != '\t') s->pos++;
    t->p = s->p + start;
    t->n = s->pos - start;
    return true;
}

static char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool tok_ieq(const tok *t, const char *lit) {
    size_t n = strlen(lit);
    if (t->n != n) return false;
    for (size_t i = 0; i < n; i++)
        if (lower(t->p[i]) != lit[i]) return false;
    return true;
}

/* Decimal digits only, at most `maxdig` of them, value <= max. */
static bool tok_uint(const tok *t, size_t maxdig, uint64_t max, uint64_t *out) {
    if (t->n == 0 || t->n > maxdig) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < t->n; i++) {
        char c = t->p[i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (uint64_t)(c - '0');
    }
    if (v > max) return false;
    *out = v;
    return true;
}

/* RFC 8839 §5.1: ice-char = ALPHA / DIGIT / "+" / "/". */
static bool is_ice_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

static bool is_ice_chars(const tok *t, size_t min, size_t max) {
    if (t->n < min || t->n > max) return false;
    for (size_t i = 0; i < t->n; i++)
        if (!is_ice_char(t->p[i])) return false;
    return true;
}

/* RFC 8839 §5.1: an FQDN (RFC 1034 letters, digits, hyphens, dots). We also
 * accept "_" which appears in some private names; anything else is refused
 * so that a host name can be logged and handed to a resolver safely. */
static bool is_hostname(const tok *t) {
    if (t->n == 0 || t->n > MXRTC_ICE_HOSTNAME_MAX) return false;
    if (t->p[0] == '.' || t->p[0] == '-') return false;
    bool alpha = false;
    size_t label = 0;
    for (size_t i = 0; i < t->n; i++) {
        char c = t->p[i];
        if (c == '.') {
            if (label == 0) return false; /* empty label */
            label = 0;
            continue;
        }
        if (++label > 63) return false; /* RFC 1035 §2.3.4 */
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '_') alpha = true;
        else if (!(c >= '0' && c <= '9')) return false;
    }
    /* All digits and dots would be a malformed IPv4 literal, not a name. */
    return alpha;
}

static bool ends_with_local(const tok *t) {
    static const char suffix[] = ".local";
    size_t n = sizeof suffix - 1;
    if (t->n <= n) return false;
    tok tail = {t->p + t->n - n, n};
    return tok_ieq(&tail, suffix);
}

/* An IP literal token (IPv6 optionally in brackets) into a. */
static bool tok_ip(const tok *t, mxrtc_addr *a) {
    char buf[64];
    const char *p = t->p;
    size_t n = t->n;
    if (n >= 2 && p[0] == '[' && p[n - 1] == ']') {
        p++;
        n -= 2;
    }
    if (n == 0 || n >= sizeof buf) return false;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return mxrtc_addr_parse(a, buf, 0) == MXRTC_OK;
}

static size_t bounded_len(const char *s, size_t max) {
    size_t n = 0;
    while (n < max && s[n]) n++;
    return n;
}

/* Clears the whole field first so a repeated extension leaves no stale tail. */
static void copy_tok(char *dst, size_t cap, const tok *t) {
    memset(dst, 0, cap);
    memcpy(dst, t->p, t->n);
    dst[t->n] = '\0';
}

void mxrtc_ice_candidate_init(mxrtc_ice_candidate *c) {
    memset(c, 0, sizeof *c);
    c->component = 1;
    c->generation = -1;
    c->network_id = -1;
    c->network_cost = -1;
}

const char *mxrtc_ice_cand_type_name(mxrtc_ice_cand_type t) {
    switch (t) {
    case MXRTC_ICE_CAND_HOST: return "host";
    case MXRTC_ICE_CAND_SRFLX: return "srflx";
    case MXRTC_ICE_CAND_PRFLX: return "prflx";
    case MXRTC_ICE_CAND_RELAY: return "relay";
    }
    return "unknown";
}

/* Known extension pairs. Unknown ones are counted and skipped (RFC 8839 §5.1:
 * "MUST ignore" unknown extensions). */
static int parse_extension(mxrtc_ice_candidate *c, const tok *name, const tok *value) {
    uint64_t v;
    if (tok_ieq(name, "tcptype")) {
        if (tok_ieq(value, "active")) c->tcptype = MXRTC_ICE_TCPTYPE_ACTIVE;
        else if (tok_ieq(value, "passive")) c->tcptype = MXRTC_ICE_TCPTYPE_PASSIVE;
        else if (tok_ieq(value, "so")) c->tcptype = MXRTC_ICE_TCPTYPE_SO;
        else return MXRTC_ERR_MALFORMED;
    } else if (tok_ieq(name, "generation")) {
        if (!tok_uint(value, 10, UINT32_MAX, &v)) return MXRTC_ERR_MALFORMED;
        c->generation = (int64_t)v;
    } else if (tok_ieq(name, "network-id")) {
        if (!tok_uint(value, 10, UINT32_MAX, &v)) return MXRTC_ERR_MALFORMED;
        c->network_id = (int64_t)v;
    } else if (tok_ieq(name, "network-cost")) {
        if (!tok_uint(value, 10, UINT32_MAX, &v)) return MXRTC_ERR_MALFORMED;
        c->network_cost = (int64_t)v;
    } else if (tok_ieq(name, "ufrag")) {
        /* RFC 8839 §5.4 bounds ice-ufrag to 4..256; some stacks use fewer
         * characters, so only the upper bound and the alphabet are enforced. */
        if (!is_ice_chars(value, 1, MXRTC_ICE_UFRAG_MAX)) return MXRTC_ERR_MALFORMED;
        copy_tok(c->ufrag, sizeof c->ufrag, value);
    } else {
        if (c->unknown_extensions < UINT8_MAX) c->unknown_extensions++;
    }
    return MXRTC_OK;
}

int mxrtc_ice_candidate_parse(mxrtc_ice_candidate *out, const char *text, size_t len) {
    if (!out || !text) return MXRTC_ERR_INVALID_ARGUMENT;
    const char *nul = memchr(text, '\0', len);
    if (nul) len = (size_t)(nul - text);
    if (len > MXRTC_ICE_CANDIDATE_LINE_MAX) return MXRTC_ERR_LIMIT;
    while (len > 0 && (text[len - 1] == '\r' || text[len - 1] == '\n')) len--;
    /* Optional "a=" (a whole SDP line) and "candidate:" (the attribute). */
    if (len >= 2 && text[0] == 'a' && text[1] == '=') {
        text += 2;
        len -= 2;
    }
    static const char prefix[] = "candidate:";
    size_t pl = sizeof prefix - 1;
    if (len >= pl) {
        tok head = {text, pl};
        if (tok_ieq(&head, prefix)) {
            text += pl;
            len -= pl;
        }
    }

    mxrtc_ice_candidate c;
    mxrtc_ice_candidate_init(&c);
    scanner s = {text, len, 0};
    tok t;
    uint64_t v;

    /* foundation */
    if (!next_tok(&s, &t) || !is_ice_chars(&t, 1, MXRTC_ICE_FOUNDATION_MAX)) return MXRTC_ERR_MALFORMED;
    copy_tok(c.foundation, sizeof c.foundation, &t);
    /* component-id = 1*3DIGIT, 1..256 (RFC 8445 §5.1.1: 1 to 256) */
    if (!next_tok(&s, &t) || !tok_uint(&t, 3, 256, &v) || v == 0) return MXRTC_ERR_MALFORMED;
    c.component = (uint16_t)v;
    /* transport: "UDP" / transport-extension; TCP from RFC 6544. Any case:
     * Chrome writes "udp", RFC examples "UDP". */
    if (!next_tok(&s, &t)) return MXRTC_ERR_MALFORMED;
    if (tok_ieq(&t, "udp")) c.transport = MXRTC_ICE_TRANSPORT_UDP;
    else if (tok_ieq(&t, "tcp")) c.transport = MXRTC_ICE_TRANSPORT_TCP;
    else return MXRTC_ERR_UNSUPPORTED; /* e.g. "ssltcp" or DTLS-SCTP extensions */
    /* priority = 1*10DIGIT; RFC 8445 §5.1.2 says 1..2^31-1, but a 32-bit
     * value is harmless and some stacks exceed 2^31 for relay-over-TLS. */
    if (!next_tok(&s, &t) || !tok_uint(&t, 10, UINT32_MAX, &v) || v == 0) return MXRTC_ERR_MALFORMED;
    c.priority = (uint32_t)v;
    /* connection-address: IPv4, IPv6 or FQDN */
    if (!next_tok(&s, &t)) return MXRTC_ERR_MALFORMED;
    tok addr_tok = t;
    /* port */
    if (!next_tok(&s, &t) || !tok_uint(&t, 5, 65535, &v)) return MXRTC_ERR_MALFORMED;
    uint16_t port = (uint16_t)v;
    if (tok_ip(&addr_tok, &c.addr)) {
        c.addr.port = port;
    } else if (is_hostname(&addr_tok)) {
        memset(&c.addr, 0, sizeof c.addr);
        c.addr.family = MXRTC_AF_UNSPEC;
        c.addr.port = port;
        copy_tok(c.hostname, sizeof c.hostname, &addr_tok);
        c.is_mdns = ends_with_local(&addr_tok);
    } else {
        return MXRTC_ERR_MALFORMED;
    }
    /* "typ" cand-type */
    if (!next_tok(&s, &t) || !tok_ieq(&t, "typ")) return MXRTC_ERR_MALFORMED;
    if (!next_tok(&s, &t)) return MXRTC_ERR_MALFORMED;
    if (tok_ieq(&t, "host")) c.type = MXRTC_ICE_CAND_HOST;
    else if (tok_ieq(&t, "srflx")) c.type = MXRTC_ICE_CAND_SRFLX;
    else if (tok_ieq(&t, "prflx")) c.type = MXRTC_ICE_CAND_PRFLX;
    else if (tok_ieq(&t, "relay")) c.type = MXRTC_ICE_CAND_RELAY;
    else return MXRTC_ERR_MALFORMED;

    /* Then name/value pairs: raddr, rport and extensions. raddr/rport are
     * grammatically positional, but treating them as pairs is equivalent for
     * every valid line and also accepts stacks that put them later. */
    bool have_raddr = false, have_rport = false, raddr_ip = false;
    mxrtc_addr raddr;
    memset(&raddr, 0, sizeof raddr);
    uint16_t rport = 0;
    unsigned pairs = 0;
    while (next_tok(&s, &t)) {
        tok name = t, value;
        if (!next_tok(&s, &value)) return MXRTC_ERR_MALFORMED; /* name without a value */
        if (++pairs > MXRTC_ICE_CANDIDATE_EXT_MAX) return MXRTC_ERR_LIMIT;
        if (tok_ieq(&name, "raddr")) {
            if (have_raddr) return MXRTC_ERR_MALFORMED;
            have_raddr = true;
            /* Chrome with mDNS hides the base: "raddr 0.0.0.0" or a .local
             * name. An FQDN related address is valid but useless to us. */
            if (tok_ip(&value, &raddr)) raddr_ip = true;
            else if (!is_hostname(&value)) return MXRTC_ERR_MALFORMED;
        } else if (tok_ieq(&name, "rport")) {
            if (have_rport || !tok_uint(&value, 5, 65535, &v)) return MXRTC_ERR_MALFORMED;
            have_rport = true;
            rport = (uint16_t)v;
        } else {
            int rc = parse_extension(&c, &name, &value);
            if (rc != MXRTC_OK) return rc;
        }
    }
    if (have_raddr != have_rport) return MXRTC_ERR_MALFORMED; /* §5.1: both or neither */
    if (raddr_ip) {
        c.has_related = true;
        c.related = raddr;
        c.related.port = rport;
    }
    if (c.tcptype != MXRTC_ICE_TCPTYPE_NONE && c.transport != MXRTC_ICE_TRANSPORT_TCP)
        return MXRTC_ERR_MALFORMED;
    *out = c;
    return MXRTC_OK;
}

int mxrtc_ice_candidate_format(const mxrtc_ice_candidate *c, char *buf, size_t len) {
    if (!c || !buf) return MXRTC_ERR_INVALID_ARGUMENT;
    tok f = {c->foundation, bounded_len(c->foundation, sizeof c->foundation)};
    if (!is_ice_chars(&f, 1, MXRTC_ICE_FOUNDATION_MAX)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (c->component < 1 || c->component > 256 || c->type > MXRTC_ICE_CAND_RELAY ||
        c->transport > MXRTC_ICE_TRANSPORT_TCP || c->tcptype > MXRTC_ICE_TCPTYPE_SO)
        return MXRTC_ERR_INVALID_ARGUMENT;
    char ip[MXRTC_ADDR_STRLEN];
    if (c->addr.family == MXRTC_AF_UNSPEC) {
        tok h = {c->hostname, bounded_len(c->hostname, sizeof c->hostname)};
        if (!is_hostname(&h)) return MXRTC_ERR_INVALID_ARGUMENT;
    } else if (mxrtc_addr_format_ip(&c->addr, ip, sizeof ip) < 0) {
        return MXRTC_ERR_INVALID_ARGUMENT;
    }
    char tmp[MXRTC_ICE_CANDIDATE_LINE_MAX + 1];
    size_t pos = 0;
#define APPEND(...)                                                            \
    do {                                                                       \
        int n_ = snprintf(tmp + pos, sizeof tmp - pos, __VA_ARGS__);           \
        if (n_ < 0 || (size_t)n_ >= sizeof tmp - pos) return MXRTC_ERR_BUFFER_TOO_SMALL; \
        pos += (size_t)n_;                                                     \
    } while (0)
    APPEND("candidate:%s %u %s %lu %s %u typ %s", c->foundation, (unsigned)c->component,
           c->transport == MXRTC_ICE_TRANSPORT_TCP ? "tcp" : "udp", (unsigned long)c->priority,
           c->addr.family == MXRTC_AF_UNSPEC ? c->hostname : ip, (unsigned)c->addr.port,
           mxrtc_ice_cand_type_name((mxrtc_ice_cand_type)c->type));
    if (c->has_related) {
        char rip[MXRTC_ADDR_STRLEN];
        if (mxrtc_addr_format_ip(&c->related, rip, sizeof rip) < 0) return MXRTC_ERR_INVALID_ARGUMENT;
        APPEND(" raddr %s rport %u", rip, (unsigned)c->related.port);
    }
    static const char *const tcptypes[] = {"", "active", "passive", "so"};
    if (c->tcptype != MXRTC_ICE_TCPTYPE_NONE) APPEND(" tcptype %s", tcptypes[c->tcptype]);
    if (c->generation >= 0) APPEND(" generation %lld", (long long)c->generation);
    if (c->ufrag[0]) {
        tok u = {c->ufrag, bounded_len(c->ufrag, sizeof c->ufrag)};
        if (!is_ice_chars(&u, 1, MXRTC_ICE_UFRAG_MAX)) return MXRTC_ERR_INVALID_ARGUMENT;
        APPEND(" ufrag %s", c->ufrag);
    }
    if (c->network_id >= 0) APPEND(" network-id %lld", (long long)c->network_id);
    if (c->network_cost >= 0) APPEND(" network-cost %lld", (long long)c->network_cost);
#undef APPEND
    if (pos + 1 > len) return MXRTC_ERR_BUFFER_TOO_SMALL;
    memcpy(buf, tmp, pos + 1);
    return (int)pos;
}
