/*
 * jsep.c: offers and answers (RFC 8829 JSEP §5.2, §5.3; RFC 3264 §5, §6).
 *
 * What we support, and therefore offer and accept: Opus (RFC 7587), VP8
 * (RFC 7741) and, when built, VP9 with profile 0, each video codec with RTX
 * (RFC 4588); the feedback and header extensions the rtp/ module implements;
 * BUNDLE (RFC 8843) with rtcp-mux; data channels over SCTP (RFC 8841) when
 * enabled. Answers keep the offerer's payload type numbers and extension ids,
 * as browsers do, so packets can be matched without translation.
 */
#include "sdp/sdp.h"

#include <stdio.h>
#include <string.h>

#define TRY(x) do { int rc_ = (x); if (rc_ != MXRTC_OK) return rc_; } while (0)

static const char PROTO_RTP[] = "UDP/TLS/RTP/SAVPF";          /* RFC 5764 §8 */
static const char PROTO_SCTP[] = "UDP/DTLS/SCTP";             /* RFC 8841 §4.1 */
static const char FMT_DATACHANNEL[] = "webrtc-datachannel";

/* Header extensions we implement, with the ids we offer (the same URI keeps
 * the same id in every bundled section, RFC 8843 §9.1). */
typedef struct ext_def {
    const char *uri;
    unsigned id;
    bool audio, video;
} ext_def;

static const ext_def EXTS[] = {
    { "urn:ietf:params:rtp-hdrext:ssrc-audio-level", 1, true, false },                 /* RFC 6464 */
    { "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time", 2, true, true },
    { "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", 3, true, true },
    { "urn:ietf:params:rtp-hdrext:sdes:mid", 4, true, true },                           /* RFC 8843 §15.1 */
    /* Received only: the sender's colour space (matrix, range). Chromium
     * captures a canvas as BT.709 full range and says so here; without it
     * a receiver assumes BT.601 limited range and shifts the colours. */
    { "http://www.webrtc.org/experiments/rtp-hdrext/color-space", 8, false, true },
};

/* RTCP feedback we implement (RFC 4585 nack, pli; RFC 5104 fir; REMB; TWCC). */
typedef struct fb_def {
    const char *type, *subtype;
    bool audio, video;
} fb_def;

static const fb_def FBS[] = {
    { "goog-remb", NULL, false, true },
    { "transport-cc", NULL, true, true },
    { "ccm", "fir", false, true },
    { "nack", NULL, false, true },
    { "nack", "pli", false, true },
};

static bool ieq(const char *a, const char *b) {
    if (!a || !b) return false;
    for (; *a && *b; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z') x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (char)(y - 'A' + 'a');
        if (x != y) return false;
    }
    return *a == *b;
}

static bool streq(const char *a, const char *b) {
    if (!a || !b) return a == b;
    return !strcmp(a, b);
}

static int check_local(const mxrtc_jsep_local *l) {
    if (!l || !l->ice_ufrag || !l->ice_pwd || !l->fingerprint_alg || !l->fingerprint)
        return MXRTC_ERR_INVALID_ARGUMENT;
    /* RFC 8839 §5.4: ufrag 4..256 and pwd 22..256 characters. */
    size_t u = strlen(l->ice_ufrag), p = strlen(l->ice_pwd);
    if (u < 4 || u > 256 || p < 22 || p > 256) return MXRTC_ERR_INVALID_ARGUMENT;
    return MXRTC_OK;
}

static int transport(mxrtc_sdp *s, mxrtc_sdp_attrs *a, const mxrtc_jsep_local *l, mxrtc_sdp_setup setup) {
    a->fingerprint_count = 0;
    a->candidate_count = 0;
    a->end_of_candidates = false;
    TRY(mxrtc_sdp_set_str(s, &a->ice_ufrag, l->ice_ufrag));
    TRY(mxrtc_sdp_set_str(s, &a->ice_pwd, l->ice_pwd));
    TRY(mxrtc_sdp_set_str(s, &a->ice_options, "trickle"));   /* RFC 8838 §4.1.1 */
    TRY(mxrtc_sdp_add_fingerprint(s, a, l->fingerprint_alg, l->fingerprint));
    a->setup = setup;
    return MXRTC_OK;
}

/* a=msid and a=ssrc lines for the track we send (RFC 8830 §2, RFC 5576). */
static int sending(mxrtc_sdp *s, mxrtc_sdp_attrs *a, const mxrtc_jsep_local *l, const char *track,
                   uint32_t ssrc, uint32_t rtx_ssrc) {
    char msid[600];
    const char *stream = l->stream_id ? l->stream_id : "-";
    a->msid_count = 0;
    a->ssrc_count = 0;
    a->ssrc_group_count = 0;
    TRY(mxrtc_sdp_add_msid(s, a, stream, track));
    if (!l->cname || !ssrc) return MXRTC_OK;
    int n = snprintf(msid, sizeof msid, "%s %s", stream, track ? track : "-");
    if (n < 0 || (size_t)n >= sizeof msid) return MXRTC_ERR_INVALID_ARGUMENT;
    if (rtx_ssrc) {
        uint32_t fid[2] = { ssrc, rtx_ssrc };   /* RFC 4588 §8.3 FID */
        TRY(mxrtc_sdp_add_ssrc_group(s, a, "FID", fid, 2));
    }
    uint32_t list[2] = { ssrc, rtx_ssrc };
    for (int i = 0; i < (rtx_ssrc ? 2 : 1); i++) {
        TRY(mxrtc_sdp_add_ssrc(s, a, list[i], "cname", l->cname));
        TRY(mxrtc_sdp_add_ssrc(s, a, list[i], "msid", msid));
    }
    return MXRTC_OK;
}

static mxrtc_sdp_direction dir_of(bool send, bool recv) {
    if (send && recv) return MXRTC_SDP_DIR_SENDRECV;
    if (send) return MXRTC_SDP_DIR_SENDONLY;
    if (recv) return MXRTC_SDP_DIR_RECVONLY;
    return MXRTC_SDP_DIR_INACTIVE;
}

static int session(mxrtc_sdp *s, const mxrtc_jsep_local *l, const mxrtc_sdp *previous) {
    uint64_t id = l->session_id & 0x7fffffffffffffffULL, ver = 1;   /* RFC 8829 §5.2.1: < 2^63 */
    if (previous) {
        id = previous->session_id;
        ver = previous->session_version + 1;   /* RFC 3264 §8: incremented on change */
    }
    TRY(mxrtc_sdp_set_origin(s, "-", id, ver, "127.0.0.1"));
    TRY(mxrtc_sdp_set_name(s, "-"));
    TRY(mxrtc_sdp_add_time(s, 0, 0));
    TRY(mxrtc_sdp_set_str(s, &s->a.msid_semantic, "WMS"));
    return MXRTC_OK;
}

static int media_common(mxrtc_sdp *s, mxrtc_sdp_media *m, const char *mid) {
    TRY(mxrtc_sdp_set_conn(s, &m->conn, "IP4", "0.0.0.0"));   /* RFC 8829 §5.2.1: dummy c= */
    if (mid) TRY(mxrtc_sdp_set_str(s, &m->a.mid, mid));
    return MXRTC_OK;
}

static int add_pt(mxrtc_sdp *s, mxrtc_sdp_media *m, unsigned pt) {
    char b[8];
    snprintf(b, sizeof b, "%u", pt);
    return mxrtc_sdp_add_fmt(s, m, b);
}

static int offer_fbs(mxrtc_sdp *s, mxrtc_sdp_attrs *a, unsigned pt, bool video) {
    for (size_t i = 0; i < sizeof FBS / sizeof FBS[0]; i++)
        if (video ? FBS[i].video : FBS[i].audio)
            TRY(mxrtc_sdp_add_rtcp_fb(s, a, (int)pt, FBS[i].type, FBS[i].subtype));
    return MXRTC_OK;
}

static int offer_exts(mxrtc_sdp *s, mxrtc_sdp_attrs *a, bool video) {
    for (size_t i = 0; i < sizeof EXTS / sizeof EXTS[0]; i++)
        if (video ? EXTS[i].video : EXTS[i].audio)
            TRY(mxrtc_sdp_add_extmap(s, a, EXTS[i].id, MXRTC_SDP_DIR_NONE, EXTS[i].uri, NULL));
    return MXRTC_OK;
}

/* Our own media section of one kind, as a first offer carries it. */
static int new_section(mxrtc_sdp *s, const mxrtc_jsep_local *l, const char *kind, const char *mid) {
    mxrtc_sdp_media *m;
    bool video = !strcmp(kind, "video"), data = !strcmp(kind, "application");
    TRY(mxrtc_sdp_add_media(s, kind, 9, data ? PROTO_SCTP : PROTO_RTP, &m));   /* port 9: RFC 8829 §5.2.1 */
    if (data) {
        TRY(mxrtc_sdp_add_fmt(s, m, FMT_DATACHANNEL));
        TRY(media_common(s, m, mid));
        m->a.sctp_port = l->sctp_port ? l->sctp_port : 5000;
        m->a.has_max_message_size = true;
        m->a.max_message_size = l->max_message_size ? l->max_message_size : 262144;
        return transport(s, &m->a, l, MXRTC_SDP_SETUP_ACTPASS);
    }
    TRY(media_common(s, m, mid));
    TRY(transport(s, &m->a, l, MXRTC_SDP_SETUP_ACTPASS));
    TRY(offer_exts(s, &m->a, video));
    m->a.rtcp_mux = true;
    m->a.rtcp_rsize = true;
    if (!video) {
        TRY(add_pt(s, m, MXRTC_JSEP_PT_OPUS));
        TRY(mxrtc_sdp_add_rtpmap(s, &m->a, MXRTC_JSEP_PT_OPUS, "opus", 48000, 2));   /* RFC 7587 §7 */
        TRY(offer_fbs(s, &m->a, MXRTC_JSEP_PT_OPUS, false));
        TRY(mxrtc_sdp_add_fmtp(s, &m->a, MXRTC_JSEP_PT_OPUS, "minptime=10;useinbandfec=1"));
        m->a.direction = dir_of(l->audio_send, l->audio_recv);
        if (l->audio_send) TRY(sending(s, &m->a, l, l->audio_track_id, l->audio_ssrc, 0));
        return MXRTC_OK;
    }
    TRY(add_pt(s, m, MXRTC_JSEP_PT_VP8));
    TRY(add_pt(s, m, MXRTC_JSEP_PT_VP8_RTX));
    if (l->vp9) {
        TRY(add_pt(s, m, MXRTC_JSEP_PT_VP9));
        TRY(add_pt(s, m, MXRTC_JSEP_PT_VP9_RTX));
    }
    TRY(mxrtc_sdp_add_rtpmap(s, &m->a, MXRTC_JSEP_PT_VP8, "VP8", 90000, 0));
    TRY(mxrtc_sdp_add_rtpmap(s, &m->a, MXRTC_JSEP_PT_VP8_RTX, "rtx", 90000, 0));
    if (l->vp9) {
        TRY(mxrtc_sdp_add_rtpmap(s, &m->a, MXRTC_JSEP_PT_VP9, "VP9", 90000, 0));
        TRY(mxrtc_sdp_add_rtpmap(s, &m->a, MXRTC_JSEP_PT_VP9_RTX, "rtx", 90000, 0));
    }
    TRY(offer_fbs(s, &m->a, MXRTC_JSEP_PT_VP8, true));
    if (l->vp9) TRY(offer_fbs(s, &m->a, MXRTC_JSEP_PT_VP9, true));
    TRY(mxrtc_sdp_add_fmtp(s, &m->a, MXRTC_JSEP_PT_VP8_RTX, "apt=96"));   /* RFC 4588 §8.1 */
    if (l->vp9) {
        TRY(mxrtc_sdp_add_fmtp(s, &m->a, MXRTC_JSEP_PT_VP9, "profile-id=0"));
        TRY(mxrtc_sdp_add_fmtp(s, &m->a, MXRTC_JSEP_PT_VP9_RTX, "apt=98"));
    }
    m->a.direction = dir_of(l->video_send, l->video_recv);
    if (l->video_send) TRY(sending(s, &m->a, l, l->video_track_id, l->video_ssrc, l->video_rtx_ssrc));
    return MXRTC_OK;
}

static bool wants(const mxrtc_jsep_local *l, const char *kind) {
    if (!strcmp(kind, "audio")) return l->audio;
    if (!strcmp(kind, "video")) return l->video;
    if (!strcmp(kind, "application")) return l->data;
    return false;
}

static int bundle(mxrtc_sdp *s, const mxrtc_sdp *offer) {
    const char *mids[64];
    uint32_t n = 0;
    const mxrtc_sdp_group *og = offer ? mxrtc_sdp_find_group(offer, "BUNDLE") : NULL;
    if (offer && !og) return MXRTC_OK;
    if (og) {
        /* RFC 8843 §7.3: the answer's group holds the offered mids we accepted. */
        for (uint32_t i = 0; i < og->count && n < 64; i++) {
            const mxrtc_sdp_media *m = mxrtc_sdp_find_mid(s, og->mids[i]);
            if (m && m->port != 0) mids[n++] = m->a.mid;
        }
    } else {
        for (uint32_t i = 0; i < s->media_count && n < 64; i++)
            if (s->media[i].port != 0 && s->media[i].a.mid) mids[n++] = s->media[i].a.mid;
    }
    if (n == 0) return MXRTC_OK;
    return mxrtc_sdp_add_group(s, &s->a, "BUNDLE", mids, n);
}

int mxrtc_jsep_create_offer(mxrtc_sdp **out, const mxrtc_jsep_local *l, const mxrtc_sdp *previous,
                            const mxrtc_allocator *alloc) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    TRY(check_local(l));
    mxrtc_sdp *s;
    TRY(mxrtc_sdp_new(&s, alloc, previous ? &previous->limits_ : NULL));
    int rc = session(s, l, previous);
    bool have_audio = false, have_video = false, have_data = false;
    /* RFC 8829 §5.2.2: existing sections keep their place, mid and codecs. */
    for (uint32_t i = 0; rc == MXRTC_OK && previous && i < previous->media_count; i++) {
        const mxrtc_sdp_media *pm = &previous->media[i];
        mxrtc_sdp_media *m;
        if ((rc = mxrtc_sdp_copy_media(s, pm, &m))) break;
        if (pm->port == 0) continue;   /* stays rejected */
        bool audio = !strcmp(pm->type, "audio"), video = !strcmp(pm->type, "video");
        bool first = (audio && !have_audio) || (video && !have_video) ||
                     (!audio && !video && !have_data);
        have_audio |= audio;
        have_video |= video;
        have_data |= !audio && !video;
        m->port = 9;
        if ((rc = transport(s, &m->a, l, MXRTC_SDP_SETUP_ACTPASS))) break;
        if (!audio && !video) continue;
        bool send = first && (audio ? l->audio_send : l->video_send) && wants(l, pm->type);
        bool recv = (audio ? l->audio_recv : l->video_recv) && wants(l, pm->type);
        m->a.direction = dir_of(send, recv);
        m->a.msid_count = m->a.ssrc_count = m->a.ssrc_group_count = 0;
        if (send)
            rc = audio ? sending(s, &m->a, l, l->audio_track_id, l->audio_ssrc, 0)
                       : sending(s, &m->a, l, l->video_track_id, l->video_ssrc, l->video_rtx_ssrc);
    }
    const char *kinds[3] = { "audio", "video", "application" };
    bool have[3] = { have_audio, have_video, have_data };
    for (int k = 0; rc == MXRTC_OK && k < 3; k++) {
        if (have[k] || !wants(l, kinds[k])) continue;
        /* The smallest number not yet used as a mid. */
        char mid[16];
        for (unsigned n = 0;; n++) {
            snprintf(mid, sizeof mid, "%u", n);
            if (!mxrtc_sdp_find_mid(s, mid)) break;
        }
        rc = new_section(s, l, kinds[k], mid);
    }
    if (rc == MXRTC_OK) rc = bundle(s, NULL);
    if (rc) { mxrtc_sdp_free(s); return rc; }
    *out = s;
    return MXRTC_OK;
}

/* ---- answer --------------------------------------------------------------- */

static bool is_rtp_proto(const char *p) {
    return !strcmp(p, "UDP/TLS/RTP/SAVPF") || !strcmp(p, "RTP/SAVPF") || !strcmp(p, "TCP/TLS/RTP/SAVPF");
}

static bool pt_of(const char *fmt, unsigned *pt) {
    uint64_t v;
    if (mxrtc_sdp_parse_uint(fmt, strlen(fmt), 127, &v)) return false;
    *pt = (unsigned)v;
    return true;
}

static int reject(mxrtc_sdp *s, const mxrtc_sdp_media *om) {
    mxrtc_sdp_media *m;
    /* RFC 3264 §6: port zero, same formats as offered; JSEP keeps the mid. */
    TRY(mxrtc_sdp_add_media(s, om->type, 0, om->proto, &m));
    for (uint32_t i = 0; i < om->fmt_count; i++) TRY(mxrtc_sdp_add_fmt(s, m, om->fmts[i]));
    return media_common(s, m, om->a.mid);
}

static bool fb_supported(const mxrtc_sdp_rtcp_fb *f, bool video) {
    for (size_t i = 0; i < sizeof FBS / sizeof FBS[0]; i++)
        if ((video ? FBS[i].video : FBS[i].audio) && streq(f->type, FBS[i].type) && streq(f->subtype, FBS[i].subtype))
            return true;
    return false;
}

static const ext_def *ext_supported(const char *uri, bool video) {
    for (size_t i = 0; i < sizeof EXTS / sizeof EXTS[0]; i++)
        if ((video ? EXTS[i].video : EXTS[i].audio) && !strcmp(uri, EXTS[i].uri)) return &EXTS[i];
    return NULL;
}

static mxrtc_sdp_direction complement(mxrtc_sdp_direction d) {
    if (d == MXRTC_SDP_DIR_SENDONLY) return MXRTC_SDP_DIR_RECVONLY;
    if (d == MXRTC_SDP_DIR_RECVONLY) return MXRTC_SDP_DIR_SENDONLY;
    return d;
}

/* RFC 3264 §6.1: the answer's direction given the offer's and ours. */
static mxrtc_sdp_direction answer_dir(mxrtc_sdp_direction offered, bool send, bool recv) {
    switch (offered) {
    case MXRTC_SDP_DIR_SENDONLY: return recv ? MXRTC_SDP_DIR_RECVONLY : MXRTC_SDP_DIR_INACTIVE;
    case MXRTC_SDP_DIR_RECVONLY: return send ? MXRTC_SDP_DIR_SENDONLY : MXRTC_SDP_DIR_INACTIVE;
    case MXRTC_SDP_DIR_INACTIVE: return MXRTC_SDP_DIR_INACTIVE;
    default: return dir_of(send, recv);
    }
}

static bool is_codec(const mxrtc_sdp_attrs *a, unsigned pt, bool video, const mxrtc_jsep_local *l) {
    const mxrtc_sdp_rtpmap *r = mxrtc_sdp_find_rtpmap(a, pt);
    if (!r) return false;
    if (!video) return ieq(r->encoding, "opus") && r->clock == 48000 && r->channels == 2;   /* RFC 7587 §7 */
    if (r->clock != 90000) return false;
    if (ieq(r->encoding, "VP8")) return true;
    if (l->vp9 && ieq(r->encoding, "VP9")) {
        /* Only profile 0 (8-bit 4:2:0), which is what libvpx gives us by default. */
        const mxrtc_sdp_fmtp *f = mxrtc_sdp_find_fmtp(a, pt);
        uint64_t prof = 0;
        int rc = f ? mxrtc_sdp_fmtp_get_uint(f->params, "profile-id", 255, &prof) : MXRTC_ERR_NOT_FOUND;
        return rc == MXRTC_ERR_NOT_FOUND || (rc == MXRTC_OK && prof == 0);
    }
    return false;
}

/* The pt an RTX format repairs (RFC 4588 §8.1 apt), or -1. */
static int rtx_apt(const mxrtc_sdp_attrs *a, unsigned pt) {
    const mxrtc_sdp_rtpmap *r = mxrtc_sdp_find_rtpmap(a, pt);
    const mxrtc_sdp_fmtp *f = mxrtc_sdp_find_fmtp(a, pt);
    uint64_t apt;
    if (!r || !f || !ieq(r->encoding, "rtx")) return -1;
    if (mxrtc_sdp_fmtp_get_uint(f->params, "apt", 127, &apt)) return -1;
    return (int)apt;
}

static bool listed(const unsigned *list, uint32_t n, unsigned pt) {
    for (uint32_t i = 0; i < n; i++)
        if (list[i] == pt) return true;
    return false;
}

static int answer_rtp(mxrtc_sdp *s, const mxrtc_sdp *offer, const mxrtc_sdp_media *om,
                      const mxrtc_jsep_local *l, bool first, mxrtc_sdp_setup setup, bool *accepted) {
    const mxrtc_sdp_attrs *oa = &om->a;
    bool video = !strcmp(om->type, "video");
    unsigned kept[128];
    uint32_t nk = 0;
    *accepted = false;
    /* A format listed twice on the m= line is kept once. */
    for (uint32_t i = 0; i < om->fmt_count && nk < 128; i++) {
        unsigned pt;
        if (pt_of(om->fmts[i], &pt) && !listed(kept, nk, pt) && is_codec(oa, pt, video, l)) kept[nk++] = pt;
    }
    uint32_t ncodec = nk;
    /* RFC 8829 §4.1.1 rtcpMuxPolicy "require" (the browsers' default, and
     * all our transport does): a section without rtcp-mux is rejected. */
    if (ncodec == 0 || !(oa->rtcp_mux || offer->a.rtcp_mux)) return reject(s, om);
    if (video) {
        for (uint32_t i = 0; i < om->fmt_count && nk < 128; i++) {
            unsigned pt;
            int apt;
            if (!pt_of(om->fmts[i], &pt) || listed(kept, nk, pt) || (apt = rtx_apt(oa, pt)) < 0) continue;
            if (listed(kept, ncodec, (unsigned)apt)) kept[nk++] = pt;
        }
    }
    mxrtc_sdp_media *m;
    TRY(mxrtc_sdp_add_media(s, om->type, 9, om->proto, &m));
    *accepted = true;
    /* The m= line lists kept formats in the offer's order, each once. */
    bool added[128] = { false };
    for (uint32_t i = 0; i < om->fmt_count; i++) {
        unsigned pt;
        if (!pt_of(om->fmts[i], &pt) || added[pt] || !listed(kept, nk, pt)) continue;
        added[pt] = true;
        TRY(add_pt(s, m, pt));
    }
    TRY(media_common(s, m, oa->mid));
    TRY(transport(s, &m->a, l, setup));
    /* Header extensions: the offerer's ids, those we implement (RFC 8285 §7). */
    for (int level = 0; level < 2; level++) {
        const mxrtc_sdp_attrs *src = level ? &offer->a : oa;
        for (uint32_t i = 0; i < src->extmap_count; i++) {
            const mxrtc_sdp_extmap *e = &src->extmaps[i];
            bool dup = false;
            for (uint32_t j = 0; j < m->a.extmap_count; j++) dup |= m->a.extmaps[j].id == e->id;
            if (dup || !ext_supported(e->uri, video)) continue;
            TRY(mxrtc_sdp_add_extmap(s, &m->a, e->id, complement(e->direction), e->uri, NULL));
        }
    }
    bool want = wants(l, om->type);
    bool send = first && want && (video ? l->video_send : l->audio_send);
    bool recv = want && (video ? l->video_recv : l->audio_recv);
    m->a.direction = answer_dir(mxrtc_sdp_media_direction(offer, om), send, recv);
    /* RFC 8829 §5.3.1 (and §5.2.2: an msid stays the same for the life of
     * the transceiver): a=msid and a=ssrc for a section we have a track for,
     * whatever direction the offer leaves us. Chromium does the same (its
     * transceiver's own direction decides, not the negotiated one), and it
     * depends on it: when a remote answer for a section it sends on lacks
     * a=ssrc (our recvonly answer to its hold offer), it drops its receive
     * stream for our SSRC and does not recreate it when a later answer
     * (the resume) lists the SSRC again. */
    if (send) {
        if (video) TRY(sending(s, &m->a, l, l->video_track_id, l->video_ssrc, l->video_rtx_ssrc));
        else TRY(sending(s, &m->a, l, l->audio_track_id, l->audio_ssrc, 0));
    }
    m->a.rtcp_mux = oa->rtcp_mux || offer->a.rtcp_mux;
    m->a.rtcp_rsize = oa->rtcp_rsize || offer->a.rtcp_rsize;
    m->a.extmap_allow_mixed = oa->extmap_allow_mixed;
    for (uint32_t k = 0; k < nk; k++) {
        const mxrtc_sdp_rtpmap *r = mxrtc_sdp_find_rtpmap(oa, kept[k]);
        bool rtx = k >= ncodec;
        if (!video) TRY(mxrtc_sdp_add_rtpmap(s, &m->a, kept[k], "opus", 48000, 2));
        else TRY(mxrtc_sdp_add_rtpmap(s, &m->a, kept[k], r->encoding, r->clock, r->channels));
        if (rtx) continue;
        for (uint32_t i = 0; i < oa->rtcp_fb_count; i++) {
            const mxrtc_sdp_rtcp_fb *f = &oa->rtcp_fbs[i];
            if ((f->pt == (int)kept[k]) && fb_supported(f, video))
                TRY(mxrtc_sdp_add_rtcp_fb(s, &m->a, f->pt, f->type, f->subtype));
        }
    }
    for (uint32_t i = 0; i < oa->rtcp_fb_count; i++)
        if (oa->rtcp_fbs[i].pt < 0 && fb_supported(&oa->rtcp_fbs[i], video))
            TRY(mxrtc_sdp_add_rtcp_fb(s, &m->a, -1, oa->rtcp_fbs[i].type, oa->rtcp_fbs[i].subtype));
    for (uint32_t k = 0; k < nk; k++) {
        if (!video) {
            /* What we want to receive (RFC 7587 §6.1). */
            TRY(mxrtc_sdp_add_fmtp(s, &m->a, kept[k], "minptime=10;useinbandfec=1"));
            continue;
        }
        const mxrtc_sdp_fmtp *f = mxrtc_sdp_find_fmtp(oa, kept[k]);
        const mxrtc_sdp_rtpmap *r = mxrtc_sdp_find_rtpmap(oa, kept[k]);
        if (f && !ieq(r->encoding, "VP8")) TRY(mxrtc_sdp_add_fmtp(s, &m->a, kept[k], f->params));
    }
    return MXRTC_OK;
}

static int answer_data(mxrtc_sdp *s, const mxrtc_sdp_media *om, const mxrtc_jsep_local *l,
                       mxrtc_sdp_setup setup) {
    mxrtc_sdp_media *m;
    TRY(mxrtc_sdp_add_media(s, om->type, 9, om->proto, &m));
    TRY(mxrtc_sdp_add_fmt(s, m, FMT_DATACHANNEL));
    TRY(media_common(s, m, om->a.mid));
    TRY(transport(s, &m->a, l, setup));
    m->a.sctp_port = l->sctp_port ? l->sctp_port : 5000;
    m->a.has_max_message_size = true;
    m->a.max_message_size = l->max_message_size ? l->max_message_size : 262144;
    return MXRTC_OK;
}

static bool has_unknown(const mxrtc_sdp_attrs *a, const char *name) {
    for (uint32_t i = 0; i < a->unknown_count; i++)
        if (!strcmp(a->unknown[i], name)) return true;
    return false;
}

static bool in_bundle(const mxrtc_sdp *offer, const char *mid) {
    const mxrtc_sdp_group *g = mxrtc_sdp_find_group(offer, "BUNDLE");
    for (uint32_t i = 0; g && mid && i < g->count; i++)
        if (!strcmp(g->mids[i], mid)) return true;
    return false;
}

/* The answer's a=setup for an offered one. */
static int answer_setup(mxrtc_sdp_setup offered, mxrtc_sdp_setup established, mxrtc_sdp_setup *out) {
    if (offered == MXRTC_SDP_SETUP_NONE) offered = MXRTC_SDP_SETUP_ACTIVE;   /* RFC 4145 §4: absent = active */
    if (established == MXRTC_SDP_SETUP_ACTIVE || established == MXRTC_SDP_SETUP_PASSIVE) {
        /* RFC 8842 §5.3, RFC 8829 §5.3.2: within an established DTLS
         * association the answer keeps our role (a subsequent actpass offer,
         * as Chromium sends for hold or an ICE restart, does not reopen it).
         * An offer that takes our role for itself asks for a new association. */
        if (offered == established) return MXRTC_ERR_UNSUPPORTED;
        *out = established;
        return MXRTC_OK;
    }
    /* RFC 8842 §5.3: actpass or passive -> we are the DTLS client (active),
     * which avoids being the server for fragmented ClientHellos. */
    *out = offered == MXRTC_SDP_SETUP_ACTIVE ? MXRTC_SDP_SETUP_PASSIVE
         : offered == MXRTC_SDP_SETUP_HOLDCONN ? MXRTC_SDP_SETUP_HOLDCONN
         : MXRTC_SDP_SETUP_ACTIVE;
    return MXRTC_OK;
}

int mxrtc_jsep_create_answer(mxrtc_sdp **out, const mxrtc_sdp *offer, const mxrtc_jsep_local *l,
                             const mxrtc_sdp *previous, const mxrtc_allocator *alloc) {
    if (!out || !offer) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    TRY(check_local(l));
    if (offer->media_count == 0) return MXRTC_ERR_MALFORMED;
    mxrtc_sdp *s;
    TRY(mxrtc_sdp_new(&s, alloc, &offer->limits_));
    int rc = session(s, l, previous);
    s->a.extmap_allow_mixed = offer->a.extmap_allow_mixed;   /* RFC 8285 §6 */
    bool have_audio = false, have_video = false, have_data = false;
    for (uint32_t i = 0; rc == MXRTC_OK && i < offer->media_count; i++) {
        const mxrtc_sdp_media *om = &offer->media[i];
        mxrtc_sdp_setup os = om->a.setup != MXRTC_SDP_SETUP_NONE ? om->a.setup : offer->a.setup;
        mxrtc_sdp_setup setup;
        rc = answer_setup(os, l->dtls_setup, &setup);
        if (rc) break;
        bool bundle_only = om->port == 0 && has_unknown(&om->a, "bundle-only") && in_bundle(offer, om->a.mid);
        bool audio = !strcmp(om->type, "audio"), video = !strcmp(om->type, "video");
        bool app = !strcmp(om->type, "application");
        bool accepted = false;
        if ((om->port == 0 && !bundle_only) || !wants(l, om->type)) {
            rc = reject(s, om);
        } else if ((audio || video) && is_rtp_proto(om->proto)) {
            bool first = audio ? !have_audio : !have_video;
            rc = answer_rtp(s, offer, om, l, first, setup, &accepted);
            if (accepted) { have_audio |= audio; have_video |= video; }
        } else if (app && !have_data && !strcmp(om->proto, PROTO_SCTP) && om->fmt_count == 1 &&
                   !strcmp(om->fmts[0], FMT_DATACHANNEL)) {
            rc = answer_data(s, om, l, setup);
            have_data = true;
        } else {
            rc = reject(s, om);
        }
    }
    if (rc == MXRTC_OK) rc = bundle(s, offer);
    if (rc) { mxrtc_sdp_free(s); return rc; }
    *out = s;
    return MXRTC_OK;
}
