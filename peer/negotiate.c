/*
 * negotiate.c: JSEP for the peer (RFC 8829): offers and answers built with
 * sdp/jsep, the descriptions applied to ICE (credentials, candidates,
 * restart), DTLS (role from a=setup, RFC 8842 §5; fingerprint, RFC 8122)
 * and the media sections (codecs, payload types, RTX, mid extension,
 * directions, remote SSRCs).
 */
#include <stdio.h>
#include <string.h>

#include "peer/peer.h"
#include "base/alloc.h"
#include "base/log.h"

static const char MID_URI[] = "urn:ietf:params:rtp-hdrext:sdes:mid";   /* RFC 8843 §15.1 */
static const char COLOUR_URI[] = "http://www.webrtc.org/experiments/rtp-hdrext/color-space";

int mxrtc_peer_ensure_ice(mxrtc_peer *p, mxrtc_time_us now, bool controlling) {
    if (p->ice) return MXRTC_OK;
    mxrtc_ice_config c;
    mxrtc_ice_config_init(&c);
    c.alloc = p->alloc;
    c.random = p->random;
    c.logger = p->logger;
    /* RFC 8445 §6.1.1 with JSEP: the offerer is controlling. */
    c.controlling = controlling;
    c.relay_only = p->cfg.relay_only != 0;
    int rc = mxrtc_ice_agent_new(&p->ice, &c, now);
    if (rc) {
        p->ice = NULL;
        return rc;
    }
    for (size_t i = 0; i < p->cfg.interface_count && rc == MXRTC_OK; i++)
        rc = mxrtc_ice_agent_add_interface(p->ice, &p->cfg.interfaces[i], (unsigned)i);
    for (size_t i = 0; i < p->cfg.stun_server_count && rc == MXRTC_OK; i++)
        rc = mxrtc_ice_agent_add_stun_server(p->ice, &p->cfg.stun_servers[i]);
    for (size_t i = 0; i < p->cfg.turn_server_count && rc == MXRTC_OK; i++) {
        const mxrtc_peer_turn_server *t = &p->cfg.turn_servers[i];
        mxrtc_ice_turn_server s;
        memset(&s, 0, sizeof s);
        s.addr = t->addr;
        s.transport = t->proto == MXRTC_TURN_PROTO_TLS ? MXRTC_TURN_TLS
                    : t->proto == MXRTC_TURN_PROTO_TCP ? MXRTC_TURN_TCP : MXRTC_TURN_UDP;
        s.username = p->turn_strings[i][0] ? p->turn_strings[i][0] : "";
        s.password = p->turn_strings[i][1] ? p->turn_strings[i][1] : "";
        s.tls_server_name = p->turn_strings[i][2];
        s.tls_ca_file = p->turn_strings[i][3];
        rc = mxrtc_ice_agent_add_turn(p->ice, &s);
    }
    if (rc) {
        mxrtc_ice_agent_free(p->ice);
        p->ice = NULL;
        return rc;
    }
    p->ice_state = MXRTC_ICE_STATE_NEW;
    mxrtc_peer_pump_ice(p, now);
    return MXRTC_OK;
}

/* Candidates that came before the remote description (trickle can overtake
 * the offer on the signalling path). */
static void replay_early_candidates(mxrtc_peer *p, mxrtc_time_us now) {
    for (unsigned i = 0; i < p->early_count; i++) {
        const char *l = p->early_cands[i];
        if (l[0]) mxrtc_ice_agent_add_remote_candidate_line(p->ice, now, l, strlen(l));
        else mxrtc_ice_agent_remote_gathering_done(p->ice, now);
        mxrtc_peer_pump_ice(p, now);
    }
    p->early_count = 0;
}

static bool dir_send(mxrtc_direction d) { return d == MXRTC_DIR_SENDONLY || d == MXRTC_DIR_SENDRECV; }
static bool dir_recv(mxrtc_direction d) { return d == MXRTC_DIR_RECVONLY || d == MXRTC_DIR_SENDRECV; }

static void build_local(mxrtc_peer *p, mxrtc_jsep_local *l, bool answer) {
    memset(l, 0, sizeof *l);
    mxrtc_ice_agent_local_credentials(p->ice, &l->ice_ufrag, &l->ice_pwd);
    l->fingerprint_alg = p->fp_alg;
    l->fingerprint = p->fp_value;
    l->session_id = p->session_id;
    l->cname = p->cname;
    l->stream_id = p->stream_id;
    if (p->role_known)
        l->dtls_setup = p->role == MXRTC_DTLS_ROLE_CLIENT ? MXRTC_SDP_SETUP_ACTIVE : MXRTC_SDP_SETUP_PASSIVE;
    mxrtc_direction a = p->cfg.audio, v = p->cfg.video;
    /* An answer accepts what the remote offers; NONE then means receive only. */
    l->audio = answer || a != MXRTC_DIR_NONE;
    l->audio_send = dir_send(a);
    l->audio_recv = a == MXRTC_DIR_NONE ? answer : dir_recv(a);
    l->audio_track_id = p->audio_track;
    l->audio_ssrc = p->atx.ssrc;
    l->video = answer || v != MXRTC_DIR_NONE;
    l->video_send = dir_send(v);
    l->video_recv = v == MXRTC_DIR_NONE ? answer : dir_recv(v);
    l->vp9 = p->cfg.vp9 && mxrtc_codec_supported(MXRTC_CODEC_VP9) ==
                               (MXRTC_CODEC_CAN_ENCODE | MXRTC_CODEC_CAN_DECODE);
    l->video_track_id = p->video_track;
    l->video_ssrc = p->vtx.ssrc;
    l->video_rtx_ssrc = p->vtx.rtx_ssrc;
}

static int write_out(mxrtc_peer *p, mxrtc_sdp *s, mxrtc_sdp_type type, char *buf, size_t cap, size_t *len) {
    size_t n = 0;
    int rc = mxrtc_sdp_serialize(s, buf, cap, &n);
    if (len) *len = n;
    if (rc) {
        mxrtc_sdp_free(s);
        return rc;
    }
    mxrtc_sdp_free(p->created);
    p->created = s;
    p->created_type = type;
    return MXRTC_OK;
}

int mxrtc_peer_create_offer(mxrtc_peer *p, mxrtc_time_us now, char *buf, size_t cap, size_t *len) {
    int rc = mxrtc_peer_input_check(p);
    if (rc) return rc;
    if (!len || (!buf && cap)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (p->pending_remote_offer) return MXRTC_ERR_STATE;
    if ((rc = mxrtc_peer_ensure_ice(p, now, true))) return rc;
    if (p->restart_wanted && p->local) {
        /* RFC 8445 §9: new credentials; the selected pair carries media
         * until the new checks select one. */
        p->local_cand_count = 0;   /* the old generation's candidates */
        if ((rc = mxrtc_ice_agent_restart(p->ice, now))) return rc;
        p->restart_wanted = false;
        p->remote_creds = false;   /* the agent forgot them: queue candidates until the answer */
        mxrtc_peer_pump_ice(p, now);
    }
    mxrtc_jsep_local l;
    build_local(p, &l, false);
    mxrtc_sdp *s;
    if ((rc = mxrtc_jsep_create_offer(&s, &l, p->local, p->alloc))) return rc;
    rc = write_out(p, s, MXRTC_SDP_OFFER, buf, cap, len);
    mxrtc_peer_settle(p, now);
    return rc;
}

int mxrtc_peer_create_answer(mxrtc_peer *p, mxrtc_time_us now, char *buf, size_t cap, size_t *len) {
    int rc = mxrtc_peer_input_check(p);
    if (rc) return rc;
    if (!len || (!buf && cap)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!p->pending_remote_offer || !p->ice) return MXRTC_ERR_STATE;
    (void)now;
    mxrtc_jsep_local l;
    build_local(p, &l, true);
    mxrtc_sdp *s;
    if ((rc = mxrtc_jsep_create_answer(&s, p->pending_remote_offer, &l, p->local, p->alloc))) return rc;
    return write_out(p, s, MXRTC_SDP_ANSWER, buf, cap, len);
}

int mxrtc_peer_local_description(mxrtc_peer *p, char *buf, size_t cap, size_t *len) {
    if (!p || !len || (!buf && cap)) return MXRTC_ERR_INVALID_ARGUMENT;
    const mxrtc_sdp *cur = p->created ? p->created : p->pending_local_offer ? p->pending_local_offer : p->local;
    if (!cur) return MXRTC_ERR_STATE;
    /* A copy (through text: the description model has no deep copy), so
     * the stored description stays as negotiated. */
    char *text = NULL;
    size_t n = 0;
    int rc = mxrtc_sdp_serialize_alloc(cur, p->alloc, &text, &n);
    if (rc) return rc;
    mxrtc_sdp *s = NULL;
    rc = mxrtc_sdp_parse(&s, text, n, p->alloc, &cur->limits_, NULL);
    mxrtc_free(p->alloc, text);
    if (rc) return rc;
    /* RFC 8839 §5.1 (and RFC 8843 §10.2: with BUNDLE the candidates of the
     * shared transport go in one section): in the section our trickled
     * candidates name, the first bundled one. */
    mxrtc_sdp_media *m = NULL;
    for (uint32_t i = 0; i < s->media_count && !m; i++)
        if (s->media[i].port != 0 && s->media[i].a.mid && !strcmp(s->media[i].a.mid, p->local_mid)) m = &s->media[i];
    for (uint32_t i = 0; i < s->media_count && !m; i++)
        if (s->media[i].port != 0) m = &s->media[i];
    static const char PREFIX[] = "candidate:";
    for (unsigned i = 0; m && rc == MXRTC_OK && i < p->local_cand_count; i++) {
        const char *c = p->local_cands[i];
        if (!strncmp(c, PREFIX, sizeof PREFIX - 1)) c += sizeof PREFIX - 1;
        rc = mxrtc_sdp_add_candidate(s, &m->a, c);
    }
    if (rc == MXRTC_OK) rc = mxrtc_sdp_serialize(s, buf, cap, len);
    mxrtc_sdp_free(s);
    return rc;
}

/* ---- applying a completed offer/answer ------------------------------------ */

static bool is_active(const mxrtc_sdp_media *m) {
    return m->port != 0 && (!strcmp(m->type, "audio") || !strcmp(m->type, "video"));
}

static mxrtc_codec_id codec_of(const char *enc) {
    static const mxrtc_codec_id ids[] = { MXRTC_CODEC_OPUS, MXRTC_CODEC_VP8, MXRTC_CODEC_VP9 };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        const char *n = mxrtc_codec_name(ids[i]);
        size_t k = 0;
        while (n[k] && enc[k] && (n[k] | 0x20) == (enc[k] | 0x20)) k++;
        if (!n[k] && !enc[k])
            return mxrtc_codec_supported(ids[i]) == (MXRTC_CODEC_CAN_ENCODE | MXRTC_CODEC_CAN_DECODE)
                       ? ids[i] : MXRTC_CODEC_NONE;
    }
    return MXRTC_CODEC_NONE;
}

static const mxrtc_sdp_media *find_kind(const mxrtc_sdp *s, const char *kind) {
    for (uint32_t i = 0; i < s->media_count; i++)
        if (!strcmp(s->media[i].type, kind)) return &s->media[i];
    return NULL;
}

/* Codecs and RTX payload types of an answer section (RFC 3264 §6.1: the
 * answer's formats are what both sides use). */
static void read_codecs(peer_section *sec, const mxrtc_sdp_media *am) {
    sec->pt_count = 0;
    sec->codec = MXRTC_CODEC_NONE;
    sec->rtx_pt = -1;
    for (uint32_t i = 0; i < am->fmt_count && sec->pt_count < 16; i++) {
        uint64_t pt;
        if (mxrtc_sdp_parse_uint(am->fmts[i], strlen(am->fmts[i]), 127, &pt)) continue;
        const mxrtc_sdp_rtpmap *r = mxrtc_sdp_find_rtpmap(&am->a, (unsigned)pt);
        if (!r) continue;
        mxrtc_codec_id c = codec_of(r->encoding);
        if (c == MXRTC_CODEC_NONE) continue;
        unsigned k = sec->pt_count++;
        sec->pts[k] = (uint8_t)pt;
        sec->pt_codec[k] = c;
        sec->pt_rtx[k] = -1;
    }
    /* RFC 4588 §8.1: rtx with apt=<codec pt>. */
    for (uint32_t i = 0; i < am->a.rtpmap_count; i++) {
        const mxrtc_sdp_rtpmap *r = &am->a.rtpmaps[i];
        const mxrtc_sdp_fmtp *f = mxrtc_sdp_find_fmtp(&am->a, r->pt);
        uint64_t apt;
        if (strcmp(r->encoding, "rtx") || !f || mxrtc_sdp_fmtp_get_uint(f->params, "apt", 127, &apt)) continue;
        for (unsigned k = 0; k < sec->pt_count; k++)
            if (sec->pts[k] == apt) sec->pt_rtx[k] = (int16_t)r->pt;
    }
    if (sec->pt_count) {
        sec->codec = sec->pt_codec[0];
        sec->pt = sec->pts[0];
        sec->rtx_pt = sec->pt_rtx[0];
    }
    sec->mid_ext = 0;
    sec->colour_ext = 0;
    for (uint32_t i = 0; i < am->a.extmap_count; i++) {
        if (!strcmp(am->a.extmaps[i].uri, MID_URI) && am->a.extmaps[i].id <= 14)
            sec->mid_ext = (uint8_t)am->a.extmaps[i].id;
        if (!strcmp(am->a.extmaps[i].uri, COLOUR_URI) && am->a.extmaps[i].id <= 14)
            sec->colour_ext = (uint8_t)am->a.extmaps[i].id;
    }
}

static void read_remote_ssrcs(peer_section *sec, const mxrtc_sdp_media *rm) {
    sec->remote_ssrc = sec->remote_rtx_ssrc = 0;
    if (!rm) return;
    for (uint32_t i = 0; i < rm->a.ssrc_group_count; i++) {
        const mxrtc_sdp_ssrc_group *g = &rm->a.ssrc_groups[i];
        if (!strcmp(g->semantics, "FID") && g->count >= 2) {   /* RFC 4588 §8.3 */
            sec->remote_ssrc = g->ssrcs[0];
            sec->remote_rtx_ssrc = g->ssrcs[1];
            return;
        }
    }
    if (rm->a.ssrc_count) sec->remote_ssrc = rm->a.ssrcs[0].ssrc;
}

static void apply_section(mxrtc_peer *p, peer_section *sec, peer_rx *rx, const char *kind,
                          const mxrtc_sdp *offer, const mxrtc_sdp *answer, mxrtc_media_kind mk) {
    const mxrtc_sdp_media *am = find_kind(answer, kind);
    memset(sec, 0, sizeof *sec);
    sec->rtx_pt = -1;
    if (!am || !is_active(am) || !am->a.mid) return;
    const mxrtc_sdp_media *lm = mxrtc_sdp_find_mid(p->local, am->a.mid);
    const mxrtc_sdp_media *rm = mxrtc_sdp_find_mid(p->remote, am->a.mid);
    if (!lm || !rm) return;
    (void)offer;
    read_codecs(sec, am);
    if (sec->codec == MXRTC_CODEC_NONE) return;
    sec->active = true;
    snprintf(sec->mid, sizeof sec->mid, "%s", am->a.mid);
    mxrtc_sdp_direction d = mxrtc_sdp_media_direction(p->local, lm);
    sec->send = d == MXRTC_SDP_DIR_SENDRECV || d == MXRTC_SDP_DIR_SENDONLY;
    sec->recv = d == MXRTC_SDP_DIR_SENDRECV || d == MXRTC_SDP_DIR_RECVONLY;
    read_remote_ssrcs(sec, rm);
    if (sec->recv && (!rx->track_announced || strcmp(rx->announced_mid, sec->mid))) {
        rx->track_announced = true;
        snprintf(rx->announced_mid, sizeof rx->announced_mid, "%s", sec->mid);
        peer_outmeta m;
        memset(&m, 0, sizeof m);
        m.kind = MXRTC_PEER_OUT_EVENT;
        m.event = MXRTC_PEER_EV_REMOTE_TRACK;
        m.media = (uint8_t)mk;
        m.state = (uint8_t)p->state;
        m.dtls_state = (uint8_t)p->dtls_state;
        snprintf(m.mid, sizeof m.mid, "%s", sec->mid);
        mxrtc_peer_emit(p, &m, NULL, 0);
    }
}

static const mxrtc_sdp_media *first_active(const mxrtc_sdp *s) {
    for (uint32_t i = 0; i < s->media_count; i++)
        if (is_active(&s->media[i])) return &s->media[i];
    return NULL;
}

/* Both descriptions are current: configure everything from them. */
static void apply(mxrtc_peer *p, mxrtc_time_us now, bool we_offered) {
    const mxrtc_sdp *offer = we_offered ? p->local : p->remote;
    const mxrtc_sdp *answer = we_offered ? p->remote : p->local;
    mxrtc_codec_id old_vcodec = p->video_sec.codec;
    apply_section(p, &p->audio_sec, &p->arx, "audio", offer, answer, MXRTC_MEDIA_AUDIO);
    apply_section(p, &p->video_sec, &p->vrx, "video", offer, answer, MXRTC_MEDIA_VIDEO);
    if (p->video_sec.codec != old_vcodec && p->venc) {
        mxrtc_video_encoder_free(p->venc);
        p->venc = NULL;
    }
    const mxrtc_sdp_media *am = first_active(answer);
    if (!p->role_known && am) {
        mxrtc_sdp_transport t;
        mxrtc_sdp_media_transport(answer, am, &t);
        /* RFC 8842 §5: the answerer's a=setup decides; active = DTLS client. */
        bool answerer_client = t.setup != MXRTC_SDP_SETUP_PASSIVE;
        p->role = (answerer_client != we_offered) ? MXRTC_DTLS_ROLE_CLIENT : MXRTC_DTLS_ROLE_SERVER;
        p->role_known = true;
        p->dtls_start_due = true;
    }
    p->negotiated = true;
    mxrtc_peer_settle(p, now);
}

/* ---- set_local / set_remote -------------------------------------------------- */

static void set_local_mid(mxrtc_peer *p, const mxrtc_sdp *s) {
    const mxrtc_sdp_media *m = first_active(s);
    if (!m) m = s->media_count ? &s->media[0] : NULL;
    snprintf(p->local_mid, sizeof p->local_mid, "%s", m && m->a.mid ? m->a.mid : "0");
}

int mxrtc_peer_set_local_description(mxrtc_peer *p, mxrtc_time_us now) {
    int rc = mxrtc_peer_input_check(p);
    if (rc) return rc;
    if (!p->created || !p->ice) return MXRTC_ERR_STATE;
    mxrtc_sdp *s = p->created;
    p->created = NULL;
    set_local_mid(p, s);
    if (p->created_type == MXRTC_SDP_OFFER) {
        mxrtc_sdp_free(p->pending_local_offer);
        p->pending_local_offer = s;
    } else {
        if (!p->pending_remote_offer) {
            mxrtc_sdp_free(s);
            return MXRTC_ERR_STATE;
        }
        mxrtc_sdp_free(p->local);
        mxrtc_sdp_free(p->remote);
        p->local = s;
        p->remote = p->pending_remote_offer;
        p->pending_remote_offer = NULL;
    }
    if (!p->gathering) {
        p->gathering = true;
        rc = mxrtc_ice_agent_gather(p->ice, now);
        mxrtc_peer_pump_ice(p, now);
    }
    if (p->created_type == MXRTC_SDP_ANSWER) apply(p, now, false);
    mxrtc_peer_settle(p, now);
    return rc;
}

/* Checks a remote description before anything changes: a usable section
 * with ICE credentials and a fingerprint we can parse. */
static int check_remote(const mxrtc_sdp *s, mxrtc_dtls_fingerprint *fp, mxrtc_sdp_transport *t) {
    const mxrtc_sdp_media *m = first_active(s);
    if (!m) return MXRTC_ERR_UNSUPPORTED;
    mxrtc_sdp_media_transport(s, m, t);
    if (!t->ice_ufrag || !t->ice_pwd || !t->fingerprint_count) return MXRTC_ERR_UNSUPPORTED;
    char text[MXRTC_DTLS_FINGERPRINT_STRLEN + 32];
    int n = snprintf(text, sizeof text, "%s %s", t->fingerprints[0].algorithm, t->fingerprints[0].value);
    if (n < 0 || (size_t)n >= sizeof text) return MXRTC_ERR_MALFORMED;
    return mxrtc_dtls_fingerprint_parse(fp, text, (size_t)n);
}

static void add_candidates(mxrtc_peer *p, mxrtc_time_us now, const mxrtc_sdp *s) {
    bool eoc = s->a.end_of_candidates;
    for (uint32_t i = 0; i < s->media_count; i++) {
        const mxrtc_sdp_attrs *a = &s->media[i].a;
        for (uint32_t k = 0; k < a->candidate_count; k++) {
            mxrtc_ice_agent_add_remote_candidate_line(p->ice, now, a->candidates[k], strlen(a->candidates[k]));
            mxrtc_peer_pump_ice(p, now);
        }
        eoc |= a->end_of_candidates;
    }
    if (eoc) {
        mxrtc_ice_agent_remote_gathering_done(p->ice, now);
        mxrtc_peer_pump_ice(p, now);
    }
}

static const char *remote_ufrag(const mxrtc_sdp *s) {
    const mxrtc_sdp_media *m = s ? first_active(s) : NULL;
    if (!m) return NULL;
    mxrtc_sdp_transport t;
    mxrtc_sdp_media_transport(s, m, &t);
    return t.ice_ufrag;
}

/* Within an established DTLS association the roles stay (RFC 8842 §5.3,
 * §5.5): a remote answer (or offer) that claims our role would need a new
 * association (a new handshake on the same transport), which we do not
 * support; refused before anything changes. actpass and holdconn leave the
 * role to us. */
static int check_role(const mxrtc_peer *p, mxrtc_sdp_setup setup) {
    if (!p->role_known) return MXRTC_OK;
    if (setup == MXRTC_SDP_SETUP_NONE) setup = MXRTC_SDP_SETUP_ACTIVE;   /* RFC 4145 §4 */
    bool remote_client = setup == MXRTC_SDP_SETUP_ACTIVE, remote_server = setup == MXRTC_SDP_SETUP_PASSIVE;
    if ((p->role == MXRTC_DTLS_ROLE_CLIENT && remote_client) || (p->role == MXRTC_DTLS_ROLE_SERVER && remote_server))
        return MXRTC_ERR_UNSUPPORTED;
    return MXRTC_OK;
}

int mxrtc_peer_set_remote_description(mxrtc_peer *p, mxrtc_time_us now, mxrtc_sdp_type type,
                                      const char *sdp, size_t len) {
    int rc = mxrtc_peer_input_check(p);
    if (rc) return rc;
    if (!sdp || (type != MXRTC_SDP_OFFER && type != MXRTC_SDP_ANSWER)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (type == MXRTC_SDP_ANSWER && !p->pending_local_offer) return MXRTC_ERR_STATE;
    if (type == MXRTC_SDP_OFFER && p->pending_local_offer) return MXRTC_ERR_STATE;   /* glare: no rollback */
    mxrtc_sdp *s;
    mxrtc_sdp_error err;
    if ((rc = mxrtc_sdp_parse(&s, sdp, len, p->alloc, NULL, &err))) return rc;
    mxrtc_dtls_fingerprint fp;
    mxrtc_sdp_transport t;
    if ((rc = check_remote(s, &fp, &t)) || (rc = check_role(p, t.setup)) ||
        (rc = mxrtc_peer_ensure_ice(p, now, type == MXRTC_SDP_ANSWER))) {
        mxrtc_sdp_free(s);
        return rc;
    }
    /* A new remote ufrag is an ICE restart (RFC 8839 §4.4.1.1.1). When the
     * remote started it, we restart too so that our answer carries new
     * credentials. */
    const mxrtc_sdp *prev = p->remote;
    const char *old = remote_ufrag(prev);
    bool restart = old && strcmp(old, t.ice_ufrag) != 0;
    if (restart && type == MXRTC_SDP_OFFER) {
        p->local_cand_count = 0;
        mxrtc_ice_agent_restart(p->ice, now);
        mxrtc_peer_pump_ice(p, now);
    }
    if ((rc = mxrtc_ice_agent_set_remote_credentials(p->ice, t.ice_ufrag, t.ice_pwd))) {
        mxrtc_sdp_free(s);
        return rc;
    }
    p->remote_creds = true;
    if (!p->role_known) p->remote_fp = fp;
    if (type == MXRTC_SDP_OFFER) {
        mxrtc_sdp_free(p->pending_remote_offer);
        p->pending_remote_offer = s;
    } else {
        mxrtc_sdp_free(p->local);
        mxrtc_sdp_free(p->remote);
        p->local = p->pending_local_offer;
        p->pending_local_offer = NULL;
        p->remote = s;
    }
    add_candidates(p, now, s);
    replay_early_candidates(p, now);
    if (type == MXRTC_SDP_ANSWER) apply(p, now, true);
    mxrtc_peer_settle(p, now);
    return MXRTC_OK;
}

int mxrtc_peer_add_remote_candidate(mxrtc_peer *p, mxrtc_time_us now, const char *mid, const char *line) {
    int rc = mxrtc_peer_input_check(p);
    if (rc) return rc;
    (void)mid;   /* everything is bundled on one transport (RFC 8843) */
    size_t n = line ? strlen(line) : 0;
    if (n > MXRTC_ICE_CANDIDATE_LINE_MAX) return MXRTC_ERR_LIMIT;
    if (!p->ice || !p->remote_creds) {
        /* Before the remote description: keep it (bounded) for later. */
        if (p->early_count >= PEER_EARLY_CANDS) return MXRTC_ERR_LIMIT;
        memcpy(p->early_cands[p->early_count], line ? line : "", n + 1);
        p->early_count++;
        return MXRTC_OK;
    }
    if (n == 0) rc = mxrtc_ice_agent_remote_gathering_done(p->ice, now);
    else rc = mxrtc_ice_agent_add_remote_candidate_line(p->ice, now, line, n);
    mxrtc_peer_pump_ice(p, now);
    mxrtc_peer_settle(p, now);
    return rc;
}

int mxrtc_peer_set_direction(mxrtc_peer *p, mxrtc_media_kind kind, mxrtc_direction dir) {
    if (!p || dir < MXRTC_DIR_NONE || dir > MXRTC_DIR_SENDRECV) return MXRTC_ERR_INVALID_ARGUMENT;
    if (kind == MXRTC_MEDIA_AUDIO) p->cfg.audio = dir;
    else if (kind == MXRTC_MEDIA_VIDEO) p->cfg.video = dir;
    else return MXRTC_ERR_INVALID_ARGUMENT;
    return MXRTC_OK;
}

int mxrtc_peer_restart_ice(mxrtc_peer *p) {
    if (!p) return MXRTC_ERR_INVALID_ARGUMENT;
    p->restart_wanted = true;
    return MXRTC_OK;
}
