/*
 * model.c: the session description's arena, its bounded arrays and the
 * building functions.
 *
 * A description is not a per-packet object, so it owns a small chunked arena:
 * every string and array of it lives there, nothing is freed until the whole
 * description is, and the arena's total is capped by limits.max_memory so a
 * hostile description cannot grow memory without bound. Arrays double inside
 * the arena (the old copy is abandoned: at most half the array memory is
 * waste, and every array has a count limit).
 */
#include "sdp/sdp.h"

#include <stdalign.h>
#include <string.h>

#include "base/alloc.h"

enum { CAP_FP, CAP_GROUP, CAP_MSID, CAP_RTPMAP, CAP_FMTP, CAP_FB, CAP_EXTMAP, CAP_SSRC,
       CAP_SSRC_GROUP, CAP_CAND, CAP_UNKNOWN, CAP_EXTRA };

typedef struct chunk {
    struct chunk *next;
    size_t size, used;
    alignas(max_align_t) unsigned char data[];
} chunk;

#define CHUNK_MIN 4096

void mxrtc_sdp_limits_default(mxrtc_sdp_limits *l) {
    l->max_size = 64 * 1024;
    l->max_memory = 1024 * 1024;
    l->max_lines = 4096;
    l->max_line_len = 4096;
    l->max_media = 16;
    l->max_attrs = 512;
    l->max_payload_types = 128;
    l->max_extmaps = 32;
    l->max_ssrcs = 64;
}

int mxrtc_sdp_new(mxrtc_sdp **out, const mxrtc_allocator *alloc, const mxrtc_sdp_limits *limits) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    mxrtc_sdp *s = mxrtc_calloc(alloc, 1, sizeof *s);
    if (!s) return MXRTC_ERR_NO_MEMORY;
    s->alloc_ = alloc;
    if (limits) s->limits_ = *limits;
    else mxrtc_sdp_limits_default(&s->limits_);
    *out = s;
    return MXRTC_OK;
}

void mxrtc_sdp_free(mxrtc_sdp *sdp) {
    if (!sdp) return;
    chunk *c = sdp->chunks_;
    while (c) {
        chunk *n = c->next;
        mxrtc_free(sdp->alloc_, c);
        c = n;
    }
    mxrtc_free(sdp->alloc_, sdp);
}

/* Returns zeroed memory from the arena, or NULL with *err set. */
static void *arena_alloc(mxrtc_sdp *s, size_t n, int *err) {
    const size_t align = alignof(max_align_t);
    if (n == 0) n = 1;
    if (n > s->limits_.max_memory) { *err = MXRTC_ERR_LIMIT; return NULL; }
    n = (n + align - 1) & ~(align - 1);
    if (s->used_ + n > s->limits_.max_memory) { *err = MXRTC_ERR_LIMIT; return NULL; }
    chunk *c = s->chunks_;
    if (!c || c->size - c->used < n) {
        size_t size = n > CHUNK_MIN ? n : CHUNK_MIN;
        c = mxrtc_malloc(s->alloc_, sizeof(chunk) + size);
        if (!c) { *err = MXRTC_ERR_NO_MEMORY; return NULL; }
        c->size = size;
        c->used = 0;
        c->next = s->chunks_;
        s->chunks_ = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    s->used_ += n;
    memset(p, 0, n);
    return p;
}

static const char *arena_strdup(mxrtc_sdp *s, const char *p, size_t len, int *err) {
    char *d = arena_alloc(s, len + 1, err);
    if (!d) return NULL;
    if (len) memcpy(d, p, len);
    d[len] = '\0';
    return d;
}

const char *mxrtc_sdp_strdup(mxrtc_sdp *sdp, const char *s, size_t len) {
    int err = 0;
    if (!sdp || (!s && len)) return NULL;
    return arena_strdup(sdp, s ? s : "", len, &err);
}

/* Appends one zeroed element to a bounded array, doubling it in the arena. */
static void *push(mxrtc_sdp *s, void **arr, uint32_t *count, uint32_t *cap, size_t elsz,
                  uint32_t limit, int *err) {
    if (*count >= limit) { *err = MXRTC_ERR_LIMIT; return NULL; }
    if (*count == *cap) {
        uint32_t nc = *cap ? *cap * 2 : 4;
        if (nc > limit) nc = limit;
        void *na = arena_alloc(s, (size_t)nc * elsz, err);
        if (!na) return NULL;
        if (*count) memcpy(na, *arr, (size_t)*count * elsz);
        *arr = na;
        *cap = nc;
    }
    unsigned char *e = (unsigned char *)*arr + (size_t)(*count)++ * elsz;
    memset(e, 0, elsz);
    return e;
}

#define PUSH(s, a, field, countf, capi, limit, err) \
    push((s), (void **)&(a)->field, &(a)->countf, &(a)->cap_[capi], sizeof *(a)->field, (limit), (err))

/* A copy of a NUL-terminated string in the arena (NULL stays NULL). */
static const char *dup0(mxrtc_sdp *s, const char *str, int *err) {
    if (!str) return NULL;
    return arena_strdup(s, str, strlen(str), err);
}

static int bad_text(const char *s) {
    /* A value that would break the line structure on output. */
    if (!s) return 0;
    for (; *s; s++)
        if (*s == '\r' || *s == '\n') return 1;
    return 0;
}

int mxrtc_sdp_set_str(mxrtc_sdp *sdp, const char **field, const char *s) {
    int err = MXRTC_OK;
    if (!sdp || !field || bad_text(s)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!s) { *field = NULL; return MXRTC_OK; }
    const char *d = dup0(sdp, s, &err);
    if (!d) return err;
    *field = d;
    return MXRTC_OK;
}

int mxrtc_sdp_set_origin(mxrtc_sdp *sdp, const char *user, uint64_t id, uint64_t version,
                         const char *address) {
    int err;
    if (!sdp) return MXRTC_ERR_INVALID_ARGUMENT;
    if ((err = mxrtc_sdp_set_str(sdp, &sdp->origin_user, user ? user : "-")) ||
        (err = mxrtc_sdp_set_str(sdp, &sdp->origin_nettype, "IN")) ||
        (err = mxrtc_sdp_set_str(sdp, &sdp->origin_addrtype, "IP4")) ||
        (err = mxrtc_sdp_set_str(sdp, &sdp->origin_address, address ? address : "127.0.0.1")))
        return err;
    sdp->session_id = id;
    sdp->session_version = version;
    return MXRTC_OK;
}

int mxrtc_sdp_set_name(mxrtc_sdp *sdp, const char *name) {
    if (!sdp) return MXRTC_ERR_INVALID_ARGUMENT;
    return mxrtc_sdp_set_str(sdp, &sdp->name, name ? name : "-");
}

int mxrtc_sdp_add_time(mxrtc_sdp *sdp, uint64_t start, uint64_t stop) {
    int err = MXRTC_OK;
    if (!sdp) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_sdp_time *t = push(sdp, (void **)&sdp->times, &sdp->time_count, &sdp->cap_times_,
                             sizeof *t, sdp->limits_.max_attrs, &err);
    if (!t) return err;
    t->start = start;
    t->stop = stop;
    return MXRTC_OK;
}

int mxrtc_sdp_add_media(mxrtc_sdp *sdp, const char *type, uint16_t port, const char *proto,
                        mxrtc_sdp_media **out) {
    int err = MXRTC_OK;
    if (!sdp || !type || !proto || bad_text(type) || bad_text(proto)) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_sdp_media *m = push(sdp, (void **)&sdp->media, &sdp->media_count, &sdp->cap_media_,
                              sizeof *m, sdp->limits_.max_media, &err);
    if (!m) return err;
    m->port = port;
    if (!(m->type = dup0(sdp, type, &err)) || !(m->proto = dup0(sdp, proto, &err))) {
        sdp->media_count--;
        return err;
    }
    if (out) *out = m;
    return MXRTC_OK;
}

int mxrtc_sdp_add_fmt(mxrtc_sdp *sdp, mxrtc_sdp_media *m, const char *fmt) {
    int err = MXRTC_OK;
    if (!sdp || !m || !fmt || !*fmt || bad_text(fmt) || strchr(fmt, ' ')) return MXRTC_ERR_INVALID_ARGUMENT;
    const char **f = push(sdp, (void **)&m->fmts, &m->fmt_count, &m->cap_fmts_, sizeof *f,
                          sdp->limits_.max_payload_types, &err);
    if (!f) return err;
    if (!(*f = dup0(sdp, fmt, &err))) { m->fmt_count--; return err; }
    return MXRTC_OK;
}

int mxrtc_sdp_set_conn(mxrtc_sdp *sdp, mxrtc_sdp_conn *c, const char *addrtype, const char *address) {
    int err;
    if (!sdp || !c || !addrtype || !address) return MXRTC_ERR_INVALID_ARGUMENT;
    if ((err = mxrtc_sdp_set_str(sdp, &c->nettype, "IN")) ||
        (err = mxrtc_sdp_set_str(sdp, &c->addrtype, addrtype)) ||
        (err = mxrtc_sdp_set_str(sdp, &c->address, address)))
        return err;
    return MXRTC_OK;
}

int mxrtc_sdp_add_fingerprint(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, const char *alg, const char *value) {
    int err = MXRTC_OK;
    if (!sdp || !a || !alg || !value || bad_text(alg) || bad_text(value)) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_sdp_fingerprint *f = PUSH(sdp, a, fingerprints, fingerprint_count, CAP_FP,
                                    sdp->limits_.max_attrs, &err);
    if (!f) return err;
    if (!(f->algorithm = dup0(sdp, alg, &err)) || !(f->value = dup0(sdp, value, &err))) {
        a->fingerprint_count--;
        return err;
    }
    return MXRTC_OK;
}

int mxrtc_sdp_add_group(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, const char *semantics,
                        const char *const *mids, uint32_t count) {
    int err = MXRTC_OK;
    if (!sdp || !a || !semantics || bad_text(semantics) || (count && !mids)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (count > sdp->limits_.max_attrs) return MXRTC_ERR_LIMIT;
    for (uint32_t i = 0; i < count; i++)
        if (!mids[i] || !*mids[i] || bad_text(mids[i])) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_sdp_group *g = PUSH(sdp, a, groups, group_count, CAP_GROUP, sdp->limits_.max_attrs, &err);
    if (!g) return err;
    if (!(g->semantics = dup0(sdp, semantics, &err))) goto fail;
    if (count) {
        g->mids = arena_alloc(sdp, count * sizeof *g->mids, &err);
        if (!g->mids) goto fail;
        for (uint32_t i = 0; i < count; i++)
            if (!(g->mids[i] = dup0(sdp, mids[i], &err))) goto fail;
    }
    g->count = count;
    return MXRTC_OK;
fail:
    a->group_count--;
    return err;
}

int mxrtc_sdp_add_msid(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, const char *stream, const char *track) {
    int err = MXRTC_OK;
    if (!sdp || !a || !stream || bad_text(stream) || bad_text(track)) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_sdp_msid *m = PUSH(sdp, a, msids, msid_count, CAP_MSID, sdp->limits_.max_attrs, &err);
    if (!m) return err;
    if (!(m->stream = dup0(sdp, stream, &err)) || (track && !(m->track = dup0(sdp, track, &err)))) {
        a->msid_count--;
        return err;
    }
    return MXRTC_OK;
}

int mxrtc_sdp_add_rtpmap(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, unsigned pt, const char *encoding,
                         uint32_t clock, uint16_t channels) {
    int err = MXRTC_OK;
    if (!sdp || !a || pt > 127 || !encoding || !*encoding || bad_text(encoding) || clock == 0)
        return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_sdp_rtpmap *r = PUSH(sdp, a, rtpmaps, rtpmap_count, CAP_RTPMAP,
                               sdp->limits_.max_payload_types, &err);
    if (!r) return err;
    r->pt = (uint8_t)pt;
    r->clock = clock;
    r->channels = channels;
    if (!(r->encoding = dup0(sdp, encoding, &err))) { a->rtpmap_count--; return err; }
    return MXRTC_OK;
}

int mxrtc_sdp_add_fmtp(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, unsigned pt, const char *params) {
    int err = MXRTC_OK;
    if (!sdp || !a || pt > 127 || !params || bad_text(params)) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_sdp_fmtp *f = PUSH(sdp, a, fmtps, fmtp_count, CAP_FMTP, sdp->limits_.max_payload_types, &err);
    if (!f) return err;
    f->pt = (uint8_t)pt;
    if (!(f->params = dup0(sdp, params, &err))) { a->fmtp_count--; return err; }
    return MXRTC_OK;
}

int mxrtc_sdp_add_rtcp_fb(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, int pt, const char *type,
                          const char *subtype) {
    int err = MXRTC_OK;
    if (!sdp || !a || pt < -1 || pt > 127 || !type || !*type || bad_text(type) || bad_text(subtype))
        return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_sdp_rtcp_fb *f = PUSH(sdp, a, rtcp_fbs, rtcp_fb_count, CAP_FB, sdp->limits_.max_attrs, &err);
    if (!f) return err;
    f->pt = (int16_t)pt;
    if (!(f->type = dup0(sdp, type, &err)) || (subtype && !(f->subtype = dup0(sdp, subtype, &err)))) {
        a->rtcp_fb_count--;
        return err;
    }
    return MXRTC_OK;
}

int mxrtc_sdp_add_extmap(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, unsigned id, mxrtc_sdp_direction dir,
                         const char *uri, const char *attributes) {
    int err = MXRTC_OK;
    /* RFC 8285 §5: ids 1-14 (one-byte) and 1-255 (two-byte) are usable. */
    if (!sdp || !a || id < 1 || id > 255 || !uri || !*uri || bad_text(uri) || bad_text(attributes) ||
        dir > MXRTC_SDP_DIR_INACTIVE)
        return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_sdp_extmap *e = PUSH(sdp, a, extmaps, extmap_count, CAP_EXTMAP, sdp->limits_.max_extmaps, &err);
    if (!e) return err;
    e->id = (uint16_t)id;
    e->direction = dir;
    if (!(e->uri = dup0(sdp, uri, &err)) || (attributes && !(e->attributes = dup0(sdp, attributes, &err)))) {
        a->extmap_count--;
        return err;
    }
    return MXRTC_OK;
}

int mxrtc_sdp_add_ssrc(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, uint32_t ssrc, const char *attribute,
                       const char *value) {
    int err = MXRTC_OK;
    if (!sdp || !a || !attribute || !*attribute || bad_text(attribute) || bad_text(value))
        return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_sdp_ssrc *x = PUSH(sdp, a, ssrcs, ssrc_count, CAP_SSRC, sdp->limits_.max_ssrcs, &err);
    if (!x) return err;
    x->ssrc = ssrc;
    if (!(x->attribute = dup0(sdp, attribute, &err)) || (value && !(x->value = dup0(sdp, value, &err)))) {
        a->ssrc_count--;
        return err;
    }
    return MXRTC_OK;
}

int mxrtc_sdp_add_ssrc_group(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, const char *semantics,
                             const uint32_t *ssrcs, uint32_t count) {
    int err = MXRTC_OK;
    if (!sdp || !a || !semantics || !*semantics || bad_text(semantics) || (count && !ssrcs))
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (count > sdp->limits_.max_ssrcs) return MXRTC_ERR_LIMIT;
    mxrtc_sdp_ssrc_group *g = PUSH(sdp, a, ssrc_groups, ssrc_group_count, CAP_SSRC_GROUP,
                                   sdp->limits_.max_ssrcs, &err);
    if (!g) return err;
    if (!(g->semantics = dup0(sdp, semantics, &err))) goto fail;
    if (count) {
        g->ssrcs = arena_alloc(sdp, count * sizeof *g->ssrcs, &err);
        if (!g->ssrcs) goto fail;
        memcpy(g->ssrcs, ssrcs, count * sizeof *ssrcs);
    }
    g->count = count;
    return MXRTC_OK;
fail:
    a->ssrc_group_count--;
    return err;
}

static int add_text(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, const char ***arr, uint32_t *count, int capi,
                    const char *text) {
    int err = MXRTC_OK;
    if (!sdp || !a || !text || !*text || bad_text(text)) return MXRTC_ERR_INVALID_ARGUMENT;
    const char **t = push(sdp, (void **)arr, count, &a->cap_[capi], sizeof *t, sdp->limits_.max_attrs, &err);
    if (!t) return err;
    if (!(*t = dup0(sdp, text, &err))) { (*count)--; return err; }
    return MXRTC_OK;
}

int mxrtc_sdp_add_candidate(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, const char *text) {
    if (!a) return MXRTC_ERR_INVALID_ARGUMENT;
    return add_text(sdp, a, &a->candidates, &a->candidate_count, CAP_CAND, text);
}

int mxrtc_sdp_add_unknown(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, const char *text) {
    if (!a) return MXRTC_ERR_INVALID_ARGUMENT;
    return add_text(sdp, a, &a->unknown, &a->unknown_count, CAP_UNKNOWN, text);
}

int mxrtc_sdp_add_extra(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, char type, const char *text) {
    int err = MXRTC_OK;
    if (!sdp || !a || !text || bad_text(text) || type < 'a' || type > 'z') return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_sdp_line *l = PUSH(sdp, a, extra, extra_count, CAP_EXTRA, sdp->limits_.max_attrs, &err);
    if (!l) return err;
    l->type = type;
    if (!(l->text = dup0(sdp, text, &err))) { a->extra_count--; return err; }
    return MXRTC_OK;
}

/* Copies every field of an attribute block through the add functions. */
static int copy_attrs(mxrtc_sdp *s, mxrtc_sdp_attrs *d, const mxrtc_sdp_attrs *a) {
    int err;
    uint32_t i;
    if ((err = mxrtc_sdp_set_str(s, &d->mid, a->mid)) ||
        (err = mxrtc_sdp_set_str(s, &d->ice_ufrag, a->ice_ufrag)) ||
        (err = mxrtc_sdp_set_str(s, &d->ice_pwd, a->ice_pwd)) ||
        (err = mxrtc_sdp_set_str(s, &d->ice_options, a->ice_options)) ||
        (err = mxrtc_sdp_set_str(s, &d->msid_semantic, a->msid_semantic)) ||
        (err = mxrtc_sdp_set_str(s, &d->msid_semantic_ids, a->msid_semantic_ids)))
        return err;
    d->direction = a->direction;
    d->ice_lite = a->ice_lite;
    d->setup = a->setup;
    d->rtcp_mux = a->rtcp_mux;
    d->rtcp_mux_only = a->rtcp_mux_only;
    d->rtcp_rsize = a->rtcp_rsize;
    d->extmap_allow_mixed = a->extmap_allow_mixed;
    d->end_of_candidates = a->end_of_candidates;
    d->sctp_port = a->sctp_port;
    d->has_max_message_size = a->has_max_message_size;
    d->max_message_size = a->max_message_size;
    d->attr_lines = a->attr_lines;
    for (i = 0; i < a->fingerprint_count; i++)
        if ((err = mxrtc_sdp_add_fingerprint(s, d, a->fingerprints[i].algorithm, a->fingerprints[i].value))) return err;
    for (i = 0; i < a->group_count; i++)
        if ((err = mxrtc_sdp_add_group(s, d, a->groups[i].semantics, a->groups[i].mids, a->groups[i].count))) return err;
    for (i = 0; i < a->msid_count; i++)
        if ((err = mxrtc_sdp_add_msid(s, d, a->msids[i].stream, a->msids[i].track))) return err;
    for (i = 0; i < a->rtpmap_count; i++) {
        const mxrtc_sdp_rtpmap *r = &a->rtpmaps[i];
        if ((err = mxrtc_sdp_add_rtpmap(s, d, r->pt, r->encoding, r->clock, r->channels))) return err;
    }
    for (i = 0; i < a->fmtp_count; i++)
        if ((err = mxrtc_sdp_add_fmtp(s, d, a->fmtps[i].pt, a->fmtps[i].params))) return err;
    for (i = 0; i < a->rtcp_fb_count; i++) {
        const mxrtc_sdp_rtcp_fb *f = &a->rtcp_fbs[i];
        if ((err = mxrtc_sdp_add_rtcp_fb(s, d, f->pt, f->type, f->subtype))) return err;
    }
    for (i = 0; i < a->extmap_count; i++) {
        const mxrtc_sdp_extmap *e = &a->extmaps[i];
        if ((err = mxrtc_sdp_add_extmap(s, d, e->id, e->direction, e->uri, e->attributes))) return err;
    }
    for (i = 0; i < a->ssrc_count; i++) {
        const mxrtc_sdp_ssrc *x = &a->ssrcs[i];
        if ((err = mxrtc_sdp_add_ssrc(s, d, x->ssrc, x->attribute, x->value))) return err;
    }
    for (i = 0; i < a->ssrc_group_count; i++) {
        const mxrtc_sdp_ssrc_group *g = &a->ssrc_groups[i];
        if ((err = mxrtc_sdp_add_ssrc_group(s, d, g->semantics, g->ssrcs, g->count))) return err;
    }
    for (i = 0; i < a->candidate_count; i++)
        if ((err = mxrtc_sdp_add_candidate(s, d, a->candidates[i]))) return err;
    for (i = 0; i < a->unknown_count; i++)
        if ((err = mxrtc_sdp_add_unknown(s, d, a->unknown[i]))) return err;
    for (i = 0; i < a->extra_count; i++)
        if ((err = mxrtc_sdp_add_extra(s, d, a->extra[i].type, a->extra[i].text))) return err;
    return MXRTC_OK;
}

int mxrtc_sdp_copy_media(mxrtc_sdp *sdp, const mxrtc_sdp_media *src, mxrtc_sdp_media **out) {
    mxrtc_sdp_media *m;
    int err;
    if (!sdp || !src) return MXRTC_ERR_INVALID_ARGUMENT;
    if ((err = mxrtc_sdp_add_media(sdp, src->type, src->port, src->proto, &m))) return err;
    m->port_count = src->port_count;
    for (uint32_t i = 0; i < src->fmt_count; i++)
        if ((err = mxrtc_sdp_add_fmt(sdp, m, src->fmts[i]))) return err;
    if (src->conn.nettype) {
        if ((err = mxrtc_sdp_set_str(sdp, &m->conn.nettype, src->conn.nettype)) ||
            (err = mxrtc_sdp_set_str(sdp, &m->conn.addrtype, src->conn.addrtype)) ||
            (err = mxrtc_sdp_set_str(sdp, &m->conn.address, src->conn.address)))
            return err;
    }
    if ((err = copy_attrs(sdp, &m->a, &src->a))) return err;
    if (out) *out = m;
    return MXRTC_OK;
}
