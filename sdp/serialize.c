/*
 * serialize.c: the mxrtc_sdp model back to SDP text (RFC 8866 §5 order of
 * lines), CRLF line endings.
 *
 * Every field of the model is written, each list in its model order, so
 * parse(serialize(x)) yields x again (the round-trip and fuzz tests rely on
 * that). Within a section attributes follow one fixed order close to the
 * browsers' (transport, mid, extmaps, direction, msid, codecs, ssrcs, data
 * channel, candidates), then the unknown attributes as they came.
 */
#include "sdp/sdp.h"

#include <string.h>

#include "base/alloc.h"

typedef struct out {
    char *buf;
    size_t cap, pos;     /* pos counts even past cap, to report the size needed */
    bool bad;            /* a missing required field */
} out;

static void put(out *o, const char *s, size_t n) {
    if (o->pos < o->cap && n) {
        size_t room = o->cap - o->pos;
        memcpy(o->buf + o->pos, s, n < room ? n : room);
    }
    o->pos += n;
}

static void puts_(out *o, const char *s) {
    if (!s) { o->bad = true; return; }
    size_t n = strlen(s);
    /* A field set by hand must not smuggle in a line break. */
    if (memchr(s, '\r', n) || memchr(s, '\n', n)) o->bad = true;
    put(o, s, n);
}

static void putu(out *o, uint64_t v) {
    char d[24];
    size_t n = 0;
    do { d[sizeof d - 1 - n++] = (char)('0' + v % 10); v /= 10; } while (v);
    put(o, d + sizeof d - n, n);
}

static void eol(out *o) { put(o, "\r\n", 2); }

static void attr_flag(out *o, bool f, const char *name) {
    if (!f) return;
    puts_(o, "a=");
    puts_(o, name);
    eol(o);
}

static void attr_str(out *o, const char *v, const char *name) {
    if (!v) return;
    puts_(o, "a=");
    puts_(o, name);
    puts_(o, ":");
    puts_(o, v);
    eol(o);
}

/* Extra lines whose type is (in == true) or is not (in == false) in set. */
static void extras(out *o, const mxrtc_sdp_attrs *a, const char *set, bool in) {
    for (uint32_t i = 0; i < a->extra_count; i++) {
        const mxrtc_sdp_line *l = &a->extra[i];
        if ((strchr(set, l->type) != NULL) != in) continue;
        put(o, &l->type, 1);
        put(o, "=", 1);
        puts_(o, l->text);
        eol(o);
    }
}

static void conn(out *o, const mxrtc_sdp_conn *c) {
    if (!c->nettype) return;
    puts_(o, "c=");
    puts_(o, c->nettype);
    put(o, " ", 1);
    puts_(o, c->addrtype);
    put(o, " ", 1);
    puts_(o, c->address);
    eol(o);
}

static void attrs(out *o, const mxrtc_sdp_attrs *a) {
    uint32_t i, j;
    for (i = 0; i < a->group_count; i++) {
        puts_(o, "a=group:");
        puts_(o, a->groups[i].semantics);
        for (j = 0; j < a->groups[i].count; j++) {
            put(o, " ", 1);
            puts_(o, a->groups[i].mids[j]);
        }
        eol(o);
    }
    attr_flag(o, a->extmap_allow_mixed, "extmap-allow-mixed");
    if (a->msid_semantic) {
        puts_(o, "a=msid-semantic:");
        puts_(o, a->msid_semantic);
        if (a->msid_semantic_ids) {
            put(o, " ", 1);
            puts_(o, a->msid_semantic_ids);
        }
        eol(o);
    }
    attr_flag(o, a->ice_lite, "ice-lite");
    attr_str(o, a->ice_ufrag, "ice-ufrag");
    attr_str(o, a->ice_pwd, "ice-pwd");
    attr_str(o, a->ice_options, "ice-options");
    for (i = 0; i < a->fingerprint_count; i++) {
        puts_(o, "a=fingerprint:");
        puts_(o, a->fingerprints[i].algorithm);
        put(o, " ", 1);
        puts_(o, a->fingerprints[i].value);
        eol(o);
    }
    if (a->setup != MXRTC_SDP_SETUP_NONE) attr_str(o, mxrtc_sdp_setup_name(a->setup), "setup");
    attr_str(o, a->mid, "mid");
    for (i = 0; i < a->extmap_count; i++) {
        const mxrtc_sdp_extmap *e = &a->extmaps[i];
        puts_(o, "a=extmap:");
        putu(o, e->id);
        if (e->direction != MXRTC_SDP_DIR_NONE) {
            put(o, "/", 1);
            puts_(o, mxrtc_sdp_direction_name(e->direction));
        }
        put(o, " ", 1);
        puts_(o, e->uri);
        if (e->attributes) {
            put(o, " ", 1);
            puts_(o, e->attributes);
        }
        eol(o);
    }
    if (a->direction != MXRTC_SDP_DIR_NONE) attr_flag(o, true, mxrtc_sdp_direction_name(a->direction));
    for (i = 0; i < a->msid_count; i++) {
        puts_(o, "a=msid:");
        puts_(o, a->msids[i].stream);
        if (a->msids[i].track) {
            put(o, " ", 1);
            puts_(o, a->msids[i].track);
        }
        eol(o);
    }
    attr_flag(o, a->rtcp_mux, "rtcp-mux");
    attr_flag(o, a->rtcp_mux_only, "rtcp-mux-only");
    attr_flag(o, a->rtcp_rsize, "rtcp-rsize");
    for (i = 0; i < a->rtpmap_count; i++) {
        const mxrtc_sdp_rtpmap *r = &a->rtpmaps[i];
        puts_(o, "a=rtpmap:");
        putu(o, r->pt);
        put(o, " ", 1);
        puts_(o, r->encoding);
        put(o, "/", 1);
        putu(o, r->clock);
        if (r->channels) {
            put(o, "/", 1);
            putu(o, r->channels);
        }
        eol(o);
    }
    for (i = 0; i < a->rtcp_fb_count; i++) {
        const mxrtc_sdp_rtcp_fb *f = &a->rtcp_fbs[i];
        puts_(o, "a=rtcp-fb:");
        if (f->pt < 0) put(o, "*", 1);
        else putu(o, (uint64_t)f->pt);
        put(o, " ", 1);
        puts_(o, f->type);
        if (f->subtype) {
            put(o, " ", 1);
            puts_(o, f->subtype);
        }
        eol(o);
    }
    for (i = 0; i < a->fmtp_count; i++) {
        puts_(o, "a=fmtp:");
        putu(o, a->fmtps[i].pt);
        put(o, " ", 1);
        puts_(o, a->fmtps[i].params);
        eol(o);
    }
    for (i = 0; i < a->ssrc_group_count; i++) {
        puts_(o, "a=ssrc-group:");
        puts_(o, a->ssrc_groups[i].semantics);
        for (j = 0; j < a->ssrc_groups[i].count; j++) {
            put(o, " ", 1);
            putu(o, a->ssrc_groups[i].ssrcs[j]);
        }
        eol(o);
    }
    for (i = 0; i < a->ssrc_count; i++) {
        puts_(o, "a=ssrc:");
        putu(o, a->ssrcs[i].ssrc);
        put(o, " ", 1);
        puts_(o, a->ssrcs[i].attribute);
        if (a->ssrcs[i].value) {
            put(o, ":", 1);
            puts_(o, a->ssrcs[i].value);
        }
        eol(o);
    }
    if (a->sctp_port) {
        puts_(o, "a=sctp-port:");
        putu(o, a->sctp_port);
        eol(o);
    }
    if (a->has_max_message_size) {
        puts_(o, "a=max-message-size:");
        putu(o, a->max_message_size);
        eol(o);
    }
    for (i = 0; i < a->candidate_count; i++) attr_str(o, a->candidates[i], "candidate");
    attr_flag(o, a->end_of_candidates, "end-of-candidates");
    for (i = 0; i < a->unknown_count; i++) {
        puts_(o, "a=");
        puts_(o, a->unknown[i]);
        eol(o);
    }
}

static void write_all(out *o, const mxrtc_sdp *s) {
    put(o, "v=0\r\no=", sizeof "v=0\r\no=" - 1);
    puts_(o, s->origin_user);
    put(o, " ", 1);
    putu(o, s->session_id);
    put(o, " ", 1);
    putu(o, s->session_version);
    put(o, " ", 1);
    puts_(o, s->origin_nettype);
    put(o, " ", 1);
    puts_(o, s->origin_addrtype);
    put(o, " ", 1);
    puts_(o, s->origin_address);
    eol(o);
    puts_(o, "s=");
    puts_(o, s->name);
    eol(o);
    /* RFC 8866 §5: i u e p, then c, b, then t (r), z, k, a. */
    extras(o, &s->a, "iuep", true);
    conn(o, &s->conn);
    extras(o, &s->a, "b", true);
    if (s->time_count == 0) put(o, "t=0 0\r\n", sizeof "t=0 0\r\n" - 1);
    for (uint32_t i = 0; i < s->time_count; i++) {
        puts_(o, "t=");
        putu(o, s->times[i].start);
        put(o, " ", 1);
        putu(o, s->times[i].stop);
        eol(o);
    }
    extras(o, &s->a, "iuepb", false);
    attrs(o, &s->a);
    for (uint32_t i = 0; i < s->media_count; i++) {
        const mxrtc_sdp_media *m = &s->media[i];
        puts_(o, "m=");
        puts_(o, m->type);
        put(o, " ", 1);
        putu(o, m->port);
        if (m->port_count) {
            put(o, "/", 1);
            putu(o, m->port_count);
        }
        put(o, " ", 1);
        puts_(o, m->proto);
        for (uint32_t j = 0; j < m->fmt_count; j++) {
            put(o, " ", 1);
            puts_(o, m->fmts[j]);
        }
        eol(o);
        extras(o, &m->a, "i", true);
        conn(o, &m->conn);
        extras(o, &m->a, "b", true);
        extras(o, &m->a, "ib", false);
        attrs(o, &m->a);
    }
}

int mxrtc_sdp_serialize(const mxrtc_sdp *sdp, char *buf, size_t cap, size_t *len_out) {
    if (!sdp || (!buf && cap)) return MXRTC_ERR_INVALID_ARGUMENT;
    out o = { buf, cap, 0, false };
    write_all(&o, sdp);
    if (o.bad) return MXRTC_ERR_INVALID_ARGUMENT;
    if (o.pos + 1 > cap) {
        if (len_out) *len_out = o.pos + 1;
        return MXRTC_ERR_BUFFER_TOO_SMALL;
    }
    buf[o.pos] = '\0';
    if (len_out) *len_out = o.pos;
    return MXRTC_OK;
}

int mxrtc_sdp_serialize_alloc(const mxrtc_sdp *sdp, const mxrtc_allocator *alloc,
                              char **outp, size_t *len_out) {
    size_t need = 0;
    if (!outp) return MXRTC_ERR_INVALID_ARGUMENT;
    *outp = NULL;
    int rc = mxrtc_sdp_serialize(sdp, NULL, 0, &need);
    if (rc != MXRTC_ERR_BUFFER_TOO_SMALL) return rc == MXRTC_OK ? MXRTC_ERR_INTERNAL : rc;
    char *b = mxrtc_malloc(alloc, need);
    if (!b) return MXRTC_ERR_NO_MEMORY;
    rc = mxrtc_sdp_serialize(sdp, b, need, len_out);
    if (rc) { mxrtc_free(alloc, b); return rc; }
    *outp = b;
    return MXRTC_OK;
}
