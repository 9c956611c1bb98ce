/*
 * parse.c: SDP text (RFC 8866 §5, §9 grammar) into the mxrtc_sdp model.
 *
 * One pass over the lines. Each line is bounded (max_line_len), copied into
 * one scratch buffer and tokenised there; nothing is read past the input's
 * length and the input need not be NUL-terminated. Every number goes through
 * a bounded decimal parser. Unknown attributes and line types are kept
 * verbatim (RFC 8866 §5: "a=" attributes not understood MUST be ignored, and
 * we also pass them back on a round trip).
 */
#include "sdp/sdp.h"

#include <string.h>

#include "base/alloc.h"

typedef struct parser {
    mxrtc_sdp *sdp;
    const mxrtc_sdp_limits *lim;
    mxrtc_sdp_media *media;     /* current section, NULL at session level */
    mxrtc_sdp_attrs *attrs;     /* attributes of the current level */
    uint32_t line;
    const char *reason;
    bool seen_o, seen_s, seen_t, seen_c;
    const char *raw;            /* the current line after "a=", untouched (in the input) */
    size_t raw_len;
    char *scratch;              /* max_line_len + 1 bytes */
} parser;

int mxrtc_sdp_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out) {
    uint64_t v = 0;
    if (!s || len == 0) return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (max - d) / 10) return -1;   /* v * 10 + d would exceed max */
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int num(const char *s, uint64_t max, uint64_t *out) {
    return s ? mxrtc_sdp_parse_uint(s, strlen(s), max, out) : -1;
}

/* Next space-separated token (NUL-terminated in place), or NULL. */
static char *tok(char **p) {
    char *s = *p;
    while (*s == ' ') s++;
    if (!*s) { *p = s; return NULL; }
    char *start = s;
    while (*s && *s != ' ') s++;
    if (*s) *s++ = '\0';
    *p = s;
    return start;
}

/* The rest of the line after leading spaces; NULL if empty. */
static char *rest(char **p) {
    char *s = *p;
    while (*s == ' ') s++;
    *p = s + strlen(s);
    return *s ? s : NULL;
}

static int fail(parser *ps, int err, const char *reason) {
    ps->reason = reason;
    return err;
}

/* Maps an add_* error: LIMIT/NO_MEMORY pass through, bad values are malformed. */
static int added(parser *ps, int err, const char *reason) {
    if (err == MXRTC_OK) return MXRTC_OK;
    if (err == MXRTC_ERR_INVALID_ARGUMENT) return fail(ps, MXRTC_ERR_MALFORMED, reason);
    return fail(ps, err, err == MXRTC_ERR_LIMIT ? "limit reached" : "out of memory");
}

static int set_once(parser *ps, const char **field, const char *v, const char *reason) {
    if (*field) return fail(ps, MXRTC_ERR_MALFORMED, reason);
    return added(ps, mxrtc_sdp_set_str(ps->sdp, field, v), reason);
}

/* Keeps the current attribute line as it came. */
static int verbatim(parser *ps, mxrtc_sdp_attrs *a) {
    /* The scratch line has been tokenised; restore it from the input. */
    memcpy(ps->scratch, ps->raw, ps->raw_len);
    ps->scratch[ps->raw_len] = '\0';
    return added(ps, mxrtc_sdp_add_unknown(ps->sdp, a, ps->scratch), "bad attribute");
}

/* RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/", at most 256 of them.
 * The lower bounds (4 and 22) bind the sender; we do not refuse a peer for them. */
static bool ice_chars(const char *v) {
    size_t n = 0;
    for (; v[n]; n++) {
        char c = v[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
            return false;
    }
    return n <= 256;
}

static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 8122 §5: fingerprint = 2UHEX *(":" 2UHEX) (lower case accepted too). */
static bool fingerprint_ok(const char *v) {
    size_t n = strlen(v);
    if (n < 2 || (n + 1) % 3 != 0) return false;
    for (size_t i = 0; i < n; i++) {
        if (i % 3 == 2) { if (v[i] != ':') return false; }
        else if (!is_hex(v[i])) return false;
    }
    return true;
}

static int parse_direction(const char *s, mxrtc_sdp_direction *d) {
    if (!strcmp(s, "sendrecv")) *d = MXRTC_SDP_DIR_SENDRECV;
    else if (!strcmp(s, "sendonly")) *d = MXRTC_SDP_DIR_SENDONLY;
    else if (!strcmp(s, "recvonly")) *d = MXRTC_SDP_DIR_RECVONLY;
    else if (!strcmp(s, "inactive")) *d = MXRTC_SDP_DIR_INACTIVE;
    else return -1;
    return 0;
}

static int flag(parser *ps, bool *f, const char *value, const char *reason) {
    if (value) return fail(ps, MXRTC_ERR_MALFORMED, reason);
    *f = true;
    return MXRTC_OK;
}

static int attr_group(parser *ps, mxrtc_sdp_attrs *a, char *v) {
    const char *mids[64];
    uint32_t n = 0;
    char *sem = tok(&v);
    if (!sem) return fail(ps, MXRTC_ERR_MALFORMED, "bad group");
    for (char *t; (t = tok(&v)) != NULL;) {
        if (n == sizeof mids / sizeof mids[0]) return fail(ps, MXRTC_ERR_LIMIT, "too many mids in group");
        mids[n++] = t;
    }
    return added(ps, mxrtc_sdp_add_group(ps->sdp, a, sem, mids, n), "bad group");
}

static int attr_rtpmap(parser *ps, mxrtc_sdp_attrs *a, char *v) {
    uint64_t pt, clock, ch = 0;
    char *pts = tok(&v), *enc = tok(&v);
    if (!pts || !enc || tok(&v) || num(pts, 127, &pt)) return fail(ps, MXRTC_ERR_MALFORMED, "bad rtpmap");
    char *slash = strchr(enc, '/');
    if (!slash) return fail(ps, MXRTC_ERR_MALFORMED, "bad rtpmap");
    *slash++ = '\0';
    char *chs = strchr(slash, '/');
    if (chs) *chs++ = '\0';
    if (!*enc || num(slash, UINT32_MAX, &clock) || clock == 0 ||
        (chs && (num(chs, UINT16_MAX, &ch) || ch == 0)))
        return fail(ps, MXRTC_ERR_MALFORMED, "bad rtpmap");
    if (mxrtc_sdp_find_rtpmap(a, (unsigned)pt)) return fail(ps, MXRTC_ERR_MALFORMED, "duplicate rtpmap");
    return added(ps, mxrtc_sdp_add_rtpmap(ps->sdp, a, (unsigned)pt, enc, (uint32_t)clock, (uint16_t)ch),
                 "bad rtpmap");
}

static int attr_fmtp(parser *ps, mxrtc_sdp_attrs *a, char *v) {
    uint64_t pt;
    char *pts = tok(&v);
    if (!pts) return fail(ps, MXRTC_ERR_MALFORMED, "bad fmtp");
    /* A non-RTP format's fmtp (not numeric) is kept as an unknown line. */
    if (pts[0] < '0' || pts[0] > '9') return verbatim(ps, a);
    char *params = rest(&v);
    if (num(pts, 127, &pt) || !params) return fail(ps, MXRTC_ERR_MALFORMED, "bad fmtp");
    if (mxrtc_sdp_find_fmtp(a, (unsigned)pt)) return fail(ps, MXRTC_ERR_MALFORMED, "duplicate fmtp");
    return added(ps, mxrtc_sdp_add_fmtp(ps->sdp, a, (unsigned)pt, params), "bad fmtp");
}

static int attr_rtcp_fb(parser *ps, mxrtc_sdp_attrs *a, char *v) {
    uint64_t pt = 0;
    char *pts = tok(&v), *type = tok(&v), *sub = rest(&v);
    if (!pts || !type) return fail(ps, MXRTC_ERR_MALFORMED, "bad rtcp-fb");
    bool star = !strcmp(pts, "*");
    if (!star && num(pts, 127, &pt)) return fail(ps, MXRTC_ERR_MALFORMED, "bad rtcp-fb");
    return added(ps, mxrtc_sdp_add_rtcp_fb(ps->sdp, a, star ? -1 : (int)pt, type, sub), "bad rtcp-fb");
}

static int attr_extmap(parser *ps, mxrtc_sdp_attrs *a, char *v) {
    uint64_t id;
    mxrtc_sdp_direction dir = MXRTC_SDP_DIR_NONE;
    char *ids = tok(&v), *uri = tok(&v), *attrs = rest(&v);
    if (!ids || !uri) return fail(ps, MXRTC_ERR_MALFORMED, "bad extmap");
    char *slash = strchr(ids, '/');
    if (slash) {
        *slash++ = '\0';
        if (parse_direction(slash, &dir)) return fail(ps, MXRTC_ERR_MALFORMED, "bad extmap direction");
    }
    /* RFC 8285 §5: 1-14 one-byte, up to 255 two-byte. */
    if (num(ids, 255, &id) || id == 0) return fail(ps, MXRTC_ERR_MALFORMED, "bad extmap id");
    return added(ps, mxrtc_sdp_add_extmap(ps->sdp, a, (unsigned)id, dir, uri, attrs), "bad extmap");
}

static int attr_ssrc(parser *ps, mxrtc_sdp_attrs *a, char *v) {
    uint64_t ssrc;
    char *ss = tok(&v), *attr = rest(&v);
    if (!ss || !attr || num(ss, UINT32_MAX, &ssrc)) return fail(ps, MXRTC_ERR_MALFORMED, "bad ssrc");
    char *val = strchr(attr, ':');
    if (val) *val++ = '\0';
    if (!*attr || strchr(attr, ' ')) return fail(ps, MXRTC_ERR_MALFORMED, "bad ssrc");
    return added(ps, mxrtc_sdp_add_ssrc(ps->sdp, a, (uint32_t)ssrc, attr, val), "bad ssrc");
}

static int attr_ssrc_group(parser *ps, mxrtc_sdp_attrs *a, char *v) {
    uint32_t ssrcs[64];
    uint32_t n = 0;
    uint64_t x;
    char *sem = tok(&v);
    if (!sem) return fail(ps, MXRTC_ERR_MALFORMED, "bad ssrc-group");
    for (char *t; (t = tok(&v)) != NULL;) {
        if (num(t, UINT32_MAX, &x)) return fail(ps, MXRTC_ERR_MALFORMED, "bad ssrc-group");
        if (n == sizeof ssrcs / sizeof ssrcs[0] || n >= ps->lim->max_ssrcs)
            return fail(ps, MXRTC_ERR_LIMIT, "too many ssrcs in group");
        ssrcs[n++] = (uint32_t)x;
    }
    if (n == 0) return fail(ps, MXRTC_ERR_MALFORMED, "bad ssrc-group");
    return added(ps, mxrtc_sdp_add_ssrc_group(ps->sdp, a, sem, ssrcs, n), "bad ssrc-group");
}

/* One "a=" line; line is the text after "a=" (modifiable). */
static int attribute(parser *ps, char *line) {
    mxrtc_sdp_attrs *a = ps->attrs;
    mxrtc_sdp *s = ps->sdp;
    if (++a->attr_lines > ps->lim->max_attrs) return fail(ps, MXRTC_ERR_LIMIT, "too many attributes");
    char *colon = strchr(line, ':');
    char *v = NULL;
    if (colon == line || !*line) return fail(ps, MXRTC_ERR_MALFORMED, "empty attribute name");
    if (colon) { *colon = '\0'; v = colon + 1; }
    const char *n = line;
    uint64_t x;

    if (!strcmp(n, "group")) return v ? attr_group(ps, a, v) : fail(ps, MXRTC_ERR_MALFORMED, "bad group");
    if (!strcmp(n, "msid-semantic")) {
        char *sem = v ? tok(&v) : NULL;
        if (!sem || a->msid_semantic) return fail(ps, MXRTC_ERR_MALFORMED, "bad msid-semantic");
        char *ids = rest(&v);
        int err = set_once(ps, &a->msid_semantic, sem, "bad msid-semantic");
        if (!err && ids) {
            size_t l = strlen(ids);
            while (l && ids[l - 1] == ' ') ids[--l] = '\0';
            err = set_once(ps, &a->msid_semantic_ids, ids, "bad msid-semantic");
        }
        return err;
    }
    if (!strcmp(n, "ice-ufrag") || !strcmp(n, "ice-pwd") || !strcmp(n, "mid")) {
        char *t = v ? tok(&v) : NULL;
        if (!t || tok(&v)) return fail(ps, MXRTC_ERR_MALFORMED, "bad value");
        const char **f = n[0] == 'm' ? &a->mid : n[4] == 'u' ? &a->ice_ufrag : &a->ice_pwd;
        if (n[0] != 'm' && !ice_chars(t)) return fail(ps, MXRTC_ERR_MALFORMED, "bad ice credentials");
        return set_once(ps, f, t, n[0] == 'm' ? "duplicate mid" : "duplicate ice credentials");
    }
    if (!strcmp(n, "ice-options")) {
        char *r = v ? rest(&v) : NULL;
        if (!r) return fail(ps, MXRTC_ERR_MALFORMED, "bad ice-options");
        return set_once(ps, &a->ice_options, r, "duplicate ice-options");
    }
    if (!strcmp(n, "ice-lite")) return flag(ps, &a->ice_lite, v, "bad ice-lite");
    if (!strcmp(n, "fingerprint")) {
        char *alg = v ? tok(&v) : NULL, *fp = v ? tok(&v) : NULL;
        if (!alg || !fp || tok(&v) || !fingerprint_ok(fp)) return fail(ps, MXRTC_ERR_MALFORMED, "bad fingerprint");
        return added(ps, mxrtc_sdp_add_fingerprint(s, a, alg, fp), "bad fingerprint");
    }
    if (!strcmp(n, "setup")) {
        if (a->setup != MXRTC_SDP_SETUP_NONE || !v) return fail(ps, MXRTC_ERR_MALFORMED, "bad setup");
        if (!strcmp(v, "actpass")) a->setup = MXRTC_SDP_SETUP_ACTPASS;
        else if (!strcmp(v, "active")) a->setup = MXRTC_SDP_SETUP_ACTIVE;
        else if (!strcmp(v, "passive")) a->setup = MXRTC_SDP_SETUP_PASSIVE;
        else if (!strcmp(v, "holdconn")) a->setup = MXRTC_SDP_SETUP_HOLDCONN;
        else return fail(ps, MXRTC_ERR_MALFORMED, "bad setup");
        return MXRTC_OK;
    }
    if (!strcmp(n, "msid")) {
        char *st = v ? tok(&v) : NULL, *tr = v ? tok(&v) : NULL;
        if (!st || tok(&v)) return fail(ps, MXRTC_ERR_MALFORMED, "bad msid");
        return added(ps, mxrtc_sdp_add_msid(s, a, st, tr), "bad msid");
    }
    mxrtc_sdp_direction d;
    if (!parse_direction(n, &d)) {
        if (v || a->direction != MXRTC_SDP_DIR_NONE) return fail(ps, MXRTC_ERR_MALFORMED, "bad direction");
        a->direction = d;
        return MXRTC_OK;
    }
    if (!strcmp(n, "rtcp-mux")) return flag(ps, &a->rtcp_mux, v, "bad rtcp-mux");
    if (!strcmp(n, "rtcp-mux-only")) return flag(ps, &a->rtcp_mux_only, v, "bad rtcp-mux-only");
    if (!strcmp(n, "rtcp-rsize")) return flag(ps, &a->rtcp_rsize, v, "bad rtcp-rsize");
    if (!strcmp(n, "extmap-allow-mixed")) return flag(ps, &a->extmap_allow_mixed, v, "bad extmap-allow-mixed");
    if (!strcmp(n, "end-of-candidates")) return flag(ps, &a->end_of_candidates, v, "bad end-of-candidates");
    if (!strcmp(n, "rtpmap")) return v ? attr_rtpmap(ps, a, v) : fail(ps, MXRTC_ERR_MALFORMED, "bad rtpmap");
    if (!strcmp(n, "fmtp")) return v ? attr_fmtp(ps, a, v) : fail(ps, MXRTC_ERR_MALFORMED, "bad fmtp");
    if (!strcmp(n, "rtcp-fb")) return v ? attr_rtcp_fb(ps, a, v) : fail(ps, MXRTC_ERR_MALFORMED, "bad rtcp-fb");
    if (!strcmp(n, "extmap")) return v ? attr_extmap(ps, a, v) : fail(ps, MXRTC_ERR_MALFORMED, "bad extmap");
    if (!strcmp(n, "ssrc")) return v ? attr_ssrc(ps, a, v) : fail(ps, MXRTC_ERR_MALFORMED, "bad ssrc");
    if (!strcmp(n, "ssrc-group")) return v ? attr_ssrc_group(ps, a, v) : fail(ps, MXRTC_ERR_MALFORMED, "bad ssrc-group");
    if (!strcmp(n, "candidate")) {
        /* RFC 8839 §5.1: the grammar belongs to ice/; we keep the text. */
        if (!v || !*v) return fail(ps, MXRTC_ERR_MALFORMED, "bad candidate");
        return added(ps, mxrtc_sdp_add_candidate(s, a, v), "bad candidate");
    }
    if (!strcmp(n, "sctp-port")) {
        /* RFC 8841 §5.1: 0..65535; 0 is not a usable port, so it is malformed. */
        if (a->sctp_port || num(v, UINT16_MAX, &x) || x == 0) return fail(ps, MXRTC_ERR_MALFORMED, "bad sctp-port");
        a->sctp_port = (uint16_t)x;
        return MXRTC_OK;
    }
    if (!strcmp(n, "max-message-size")) {
        if (a->has_max_message_size || num(v, UINT64_MAX, &x))
            return fail(ps, MXRTC_ERR_MALFORMED, "bad max-message-size");
        a->has_max_message_size = true;
        a->max_message_size = x;
        return MXRTC_OK;
    }
    return verbatim(ps, a);
}

static bool rtp_proto(const char *p) {
    return strstr(p, "RTP/AVP") || strstr(p, "RTP/SAVP");
}

static int media_line(parser *ps, char *v) {
    uint64_t port, count = 0;
    char *type = tok(&v), *ports = tok(&v), *proto = tok(&v);
    if (!type || !ports || !proto) return fail(ps, MXRTC_ERR_MALFORMED, "bad m= line");
    char *slash = strchr(ports, '/');
    if (slash) *slash++ = '\0';
    if (num(ports, UINT16_MAX, &port) || (slash && (num(slash, UINT16_MAX, &count) || count == 0)))
        return fail(ps, MXRTC_ERR_MALFORMED, "bad m= port");
    if (ps->sdp->media_count >= ps->lim->max_media) return fail(ps, MXRTC_ERR_LIMIT, "too many media sections");
    mxrtc_sdp_media *m;
    int err = mxrtc_sdp_add_media(ps->sdp, type, (uint16_t)port, proto, &m);
    if (err) return added(ps, err, "bad m= line");
    m->port_count = (uint16_t)count;
    bool rtp = rtp_proto(proto);
    for (char *f; (f = tok(&v)) != NULL;) {
        uint64_t pt;
        if (rtp && num(f, 127, &pt)) return fail(ps, MXRTC_ERR_MALFORMED, "bad payload type");
        if ((err = mxrtc_sdp_add_fmt(ps->sdp, m, f))) return added(ps, err, "bad m= line");
    }
    if (m->fmt_count == 0) return fail(ps, MXRTC_ERR_MALFORMED, "m= line without formats");
    ps->media = m;
    ps->attrs = &m->a;
    ps->seen_c = false;
    return MXRTC_OK;
}

static int conn_line(parser *ps, char *v) {
    mxrtc_sdp_conn *c = ps->media ? &ps->media->conn : &ps->sdp->conn;
    char *nt = tok(&v), *at = tok(&v), *addr = tok(&v);
    if (ps->seen_c || !nt || !at || !addr || tok(&v)) return fail(ps, MXRTC_ERR_MALFORMED, "bad c= line");
    ps->seen_c = true;
    int err;
    if ((err = mxrtc_sdp_set_str(ps->sdp, &c->nettype, nt)) || (err = mxrtc_sdp_set_str(ps->sdp, &c->addrtype, at)) ||
        (err = mxrtc_sdp_set_str(ps->sdp, &c->address, addr)))
        return added(ps, err, "bad c= line");
    return MXRTC_OK;
}

static int origin_line(parser *ps, char *v) {
    uint64_t id, ver;
    char *user = tok(&v), *ids = tok(&v), *vers = tok(&v), *nt = tok(&v), *at = tok(&v), *addr = tok(&v);
    if (ps->seen_o || !addr || tok(&v) || num(ids, UINT64_MAX, &id) || num(vers, UINT64_MAX, &ver))
        return fail(ps, MXRTC_ERR_MALFORMED, "bad o= line");
    ps->seen_o = true;
    mxrtc_sdp *s = ps->sdp;
    int err;
    if ((err = mxrtc_sdp_set_str(s, &s->origin_user, user)) || (err = mxrtc_sdp_set_str(s, &s->origin_nettype, nt)) ||
        (err = mxrtc_sdp_set_str(s, &s->origin_addrtype, at)) || (err = mxrtc_sdp_set_str(s, &s->origin_address, addr)))
        return added(ps, err, "bad o= line");
    s->session_id = id;
    s->session_version = ver;
    return MXRTC_OK;
}

static int line_of(parser *ps, char *l) {
    char type = l[0];
    char *v = l + 2;
    if (ps->line == 1) {
        if (type != 'v' || strcmp(v, "0")) return fail(ps, MXRTC_ERR_MALFORMED, "first line must be v=0");
        return MXRTC_OK;
    }
    switch (type) {
    case 'v': return fail(ps, MXRTC_ERR_MALFORMED, "repeated v= line");
    case 'o':
        if (ps->media) return fail(ps, MXRTC_ERR_MALFORMED, "o= inside a media section");
        return origin_line(ps, v);
    case 's':
        if (ps->media || ps->seen_s) return fail(ps, MXRTC_ERR_MALFORMED, "bad s= line");
        ps->seen_s = true;
        return added(ps, mxrtc_sdp_set_str(ps->sdp, &ps->sdp->name, v), "bad s= line");
    case 't': {
        uint64_t a, b;
        char *x = tok(&v), *y = tok(&v);
        if (ps->media || num(x, UINT64_MAX, &a) || num(y, UINT64_MAX, &b) || tok(&v))
            return fail(ps, MXRTC_ERR_MALFORMED, "bad t= line");
        ps->seen_t = true;
        return added(ps, mxrtc_sdp_add_time(ps->sdp, a, b), "bad t= line");
    }
    case 'm':
        if (!ps->seen_o || !ps->seen_s || !ps->seen_t)
            return fail(ps, MXRTC_ERR_MALFORMED, "m= before o=, s= and t=");
        return media_line(ps, v);
    case 'c': return conn_line(ps, v);
    case 'a': return attribute(ps, v);
    default:
        /* i u e p b r z k and letters RFC 8866 does not define: kept verbatim. */
        if (++ps->attrs->attr_lines > ps->lim->max_attrs) return fail(ps, MXRTC_ERR_LIMIT, "too many lines in section");
        return added(ps, mxrtc_sdp_add_extra(ps->sdp, ps->attrs, type, v), "bad line");
    }
}

int mxrtc_sdp_parse(mxrtc_sdp **out, const char *text, size_t len,
                    const mxrtc_allocator *alloc, const mxrtc_sdp_limits *limits,
                    mxrtc_sdp_error *err) {
    mxrtc_sdp_error dummy;
    if (!err) err = &dummy;
    err->line = 0;
    err->reason = NULL;
    if (!out || (!text && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    mxrtc_sdp_limits def;
    if (!limits) { mxrtc_sdp_limits_default(&def); limits = &def; }
    if (len > limits->max_size) { err->reason = "description too large"; return MXRTC_ERR_LIMIT; }

    parser ps;
    memset(&ps, 0, sizeof ps);
    int rc = mxrtc_sdp_new(&ps.sdp, alloc, limits);
    if (rc) return rc;
    ps.lim = &ps.sdp->limits_;
    ps.attrs = &ps.sdp->a;
    char *buf = mxrtc_malloc(alloc, (size_t)limits->max_line_len + 1);
    if (!buf) { mxrtc_sdp_free(ps.sdp); return MXRTC_ERR_NO_MEMORY; }
    ps.scratch = buf;

    size_t pos = 0;
    while (pos < len) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n && start[n - 1] == '\r') n--;   /* CRLF or LF */
        if (++ps.line > limits->max_lines) { rc = fail(&ps, MXRTC_ERR_LIMIT, "too many lines"); break; }
        if (n > limits->max_line_len) { rc = fail(&ps, MXRTC_ERR_LIMIT, "line too long"); break; }
        if (n == 0) {
            if (ps.line == 1) { rc = fail(&ps, MXRTC_ERR_MALFORMED, "first line must be v=0"); break; }
            continue;   /* tolerate blank lines (a trailing one is common) */
        }
        /* RFC 8866 §9: text is any byte but NUL, CR, LF; we also refuse other
         * controls except TAB, which no WebRTC peer sends. */
        bool bad = false;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)start[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) { bad = true; break; }
        }
        if (bad) { rc = fail(&ps, MXRTC_ERR_MALFORMED, "control character in line"); break; }
        if (n < 2 || start[1] != '=' || start[0] < 'a' || start[0] > 'z') {
            rc = fail(&ps, MXRTC_ERR_MALFORMED, "not a type=value line");
            break;
        }
        memcpy(buf, start, n);
        buf[n] = '\0';
        ps.raw = start + 2;
        ps.raw_len = n - 2;
        if ((rc = line_of(&ps, buf)) != MXRTC_OK) break;
    }
    if (rc == MXRTC_OK && ps.line == 0) rc = fail(&ps, MXRTC_ERR_MALFORMED, "empty description");
    if (rc == MXRTC_OK && (!ps.seen_o || !ps.seen_s || !ps.seen_t)) {
        rc = fail(&ps, MXRTC_ERR_MALFORMED, "missing o=, s= or t= line");
        ps.line = 0;
    }
    mxrtc_free(alloc, buf);
    if (rc != MXRTC_OK) {
        err->line = ps.line;
        err->reason = ps.reason;
        mxrtc_sdp_free(ps.sdp);
        return rc;
    }
    *out = ps.sdp;
    return MXRTC_OK;
}
