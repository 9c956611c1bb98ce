/*
 * query.c: reading helpers over a parsed description (look-ups by payload
 * type and mid, fmtp parameters, ICE options, effective direction).
 */
#include "sdp/sdp.h"

#include <string.h>

const mxrtc_sdp_rtpmap *mxrtc_sdp_find_rtpmap(const mxrtc_sdp_attrs *a, unsigned pt) {
    for (uint32_t i = 0; a && i < a->rtpmap_count; i++)
        if (a->rtpmaps[i].pt == pt) return &a->rtpmaps[i];
    return NULL;
}

const mxrtc_sdp_fmtp *mxrtc_sdp_find_fmtp(const mxrtc_sdp_attrs *a, unsigned pt) {
    for (uint32_t i = 0; a && i < a->fmtp_count; i++)
        if (a->fmtps[i].pt == pt) return &a->fmtps[i];
    return NULL;
}

static char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool ieq(const char *a, size_t an, const char *b) {
    size_t bn = strlen(b);
    if (an != bn) return false;
    for (size_t i = 0; i < an; i++)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

/* Finds key's value span in "k1=v1;k2=v2" (RFC 8866 §6.15 leaves the format
 * to each codec; the RTP payload formats we meet all use this one). */
static int fmtp_find(const char *params, const char *key, const char **vp, size_t *vn) {
    if (!params || !key) return MXRTC_ERR_INVALID_ARGUMENT;
    const char *p = params;
    while (*p) {
        while (*p == ' ' || *p == ';') p++;
        const char *k = p;
        while (*p && *p != '=' && *p != ';') p++;
        size_t kn = (size_t)(p - k);
        while (kn && k[kn - 1] == ' ') kn--;
        const char *v = NULL;
        size_t n = 0;
        if (*p == '=') {
            v = ++p;
            while (*p && *p != ';') p++;
            n = (size_t)(p - v);
            while (n && v[n - 1] == ' ') n--;
            while (n && *v == ' ') { v++; n--; }
        }
        if (kn && v && ieq(k, kn, key)) {
            *vp = v;
            *vn = n;
            return MXRTC_OK;
        }
    }
    return MXRTC_ERR_NOT_FOUND;
}

int mxrtc_sdp_fmtp_get(const char *params, const char *key, char *buf, size_t cap) {
    const char *v;
    size_t n;
    int rc = fmtp_find(params, key, &v, &n);
    if (rc) return rc;
    if (!buf || cap < n + 1) return MXRTC_ERR_BUFFER_TOO_SMALL;
    memcpy(buf, v, n);
    buf[n] = '\0';
    return MXRTC_OK;
}

int mxrtc_sdp_fmtp_get_uint(const char *params, const char *key, uint64_t max, uint64_t *out) {
    const char *v;
    size_t n;
    int rc = fmtp_find(params, key, &v, &n);
    if (rc) return rc;
    if (!out || mxrtc_sdp_parse_uint(v, n, max, out)) return MXRTC_ERR_MALFORMED;
    return MXRTC_OK;
}

int mxrtc_sdp_has_ice_option(const mxrtc_sdp_attrs *a, const char *token) {
    if (!a || !a->ice_options || !token) return 0;
    size_t tn = strlen(token);
    const char *p = a->ice_options;
    while (*p) {
        while (*p == ' ') p++;
        const char *t = p;
        while (*p && *p != ' ') p++;
        if ((size_t)(p - t) == tn && tn && !memcmp(t, token, tn)) return 1;
    }
    return 0;
}

mxrtc_sdp_direction mxrtc_sdp_media_direction(const mxrtc_sdp *sdp, const mxrtc_sdp_media *m) {
    if (m && m->a.direction != MXRTC_SDP_DIR_NONE) return m->a.direction;
    if (sdp && sdp->a.direction != MXRTC_SDP_DIR_NONE) return sdp->a.direction;
    return MXRTC_SDP_DIR_SENDRECV;   /* RFC 3264 §5.1 */
}

void mxrtc_sdp_media_transport(const mxrtc_sdp *sdp, const mxrtc_sdp_media *m, mxrtc_sdp_transport *out) {
    const mxrtc_sdp_attrs *a = m ? &m->a : NULL, *s = sdp ? &sdp->a : NULL;
    memset(out, 0, sizeof *out);
    out->ice_ufrag = a && a->ice_ufrag ? a->ice_ufrag : s ? s->ice_ufrag : NULL;
    out->ice_pwd = a && a->ice_pwd ? a->ice_pwd : s ? s->ice_pwd : NULL;
    out->ice_options = a && a->ice_options ? a->ice_options : s ? s->ice_options : NULL;
    out->ice_lite = s && s->ice_lite;
    const mxrtc_sdp_attrs *fp = a && a->fingerprint_count ? a : s;
    if (fp) {
        out->fingerprints = fp->fingerprints;
        out->fingerprint_count = fp->fingerprint_count;
    }
    out->setup = a && a->setup != MXRTC_SDP_SETUP_NONE ? a->setup : s ? s->setup : MXRTC_SDP_SETUP_NONE;
}

const mxrtc_sdp_group *mxrtc_sdp_find_group(const mxrtc_sdp *sdp, const char *semantics) {
    for (uint32_t i = 0; sdp && semantics && i < sdp->a.group_count; i++)
        if (!strcmp(sdp->a.groups[i].semantics, semantics)) return &sdp->a.groups[i];
    return NULL;
}

const mxrtc_sdp_media *mxrtc_sdp_find_mid(const mxrtc_sdp *sdp, const char *mid) {
    for (uint32_t i = 0; sdp && mid && i < sdp->media_count; i++)
        if (sdp->media[i].a.mid && !strcmp(sdp->media[i].a.mid, mid)) return &sdp->media[i];
    return NULL;
}

const char *mxrtc_sdp_direction_name(mxrtc_sdp_direction d) {
    switch (d) {
    case MXRTC_SDP_DIR_SENDRECV: return "sendrecv";
    case MXRTC_SDP_DIR_SENDONLY: return "sendonly";
    case MXRTC_SDP_DIR_RECVONLY: return "recvonly";
    case MXRTC_SDP_DIR_INACTIVE: return "inactive";
    default: return "";
    }
}

const char *mxrtc_sdp_setup_name(mxrtc_sdp_setup s) {
    switch (s) {
    case MXRTC_SDP_SETUP_ACTPASS: return "actpass";
    case MXRTC_SDP_SETUP_ACTIVE: return "active";
    case MXRTC_SDP_SETUP_PASSIVE: return "passive";
    case MXRTC_SDP_SETUP_HOLDCONN: return "holdconn";
    default: return "";
    }
}
