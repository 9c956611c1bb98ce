/*
 * test_jsep.c: offers and answers (sdp/jsep.c) against browser and
 * webrtcbin offers: codec choice, payload types and extension ids kept,
 * rejection with port 0, hold, DTLS roles, renegotiation, ICE restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/alloc.h"
#include "sdp/sdp.h"
#include "sdp_fixture.h"
#include "support/test_alloc.h"

static const char FP[] =
    "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00";

static mxrtc_jsep_local local_config(void) {
    mxrtc_jsep_local l;
    memset(&l, 0, sizeof l);
    l.ice_ufrag = "mxU1";
    l.ice_pwd = "mxrtcpassword0123456789";
    l.fingerprint_alg = "sha-256";
    l.fingerprint = FP;
    l.session_id = 0x123456789abcdefULL;
    l.cname = "mxrtc-cname";
    l.stream_id = "mxstream";
    l.audio = l.audio_send = l.audio_recv = true;
    l.audio_track_id = "mxaudio";
    l.audio_ssrc = 1111;
    l.video = l.video_send = l.video_recv = true;
    l.video_track_id = "mxvideo";
    l.video_ssrc = 2222;
    l.video_rtx_ssrc = 3333;
    return l;
}

/* Serialises and parses back, proving the output is valid SDP. */
static mxrtc_sdp *reparse(const mxrtc_sdp *s, char **text) {
    char *t = NULL;
    size_t n;
    assert_int_equal(mxrtc_sdp_serialize_alloc(s, NULL, &t, &n), MXRTC_OK);
    mxrtc_sdp *r = NULL;
    mxrtc_sdp_error err;
    int rc = mxrtc_sdp_parse(&r, t, n, NULL, NULL, &err);
    if (rc) fprintf(stderr, "reparse: line %u %s\n%s", err.line, err.reason, t);
    assert_int_equal(rc, MXRTC_OK);
    if (text) *text = t;
    else free(t);
    return r;
}

static mxrtc_sdp *parse_str(const char *t) {
    mxrtc_sdp *s = NULL;
    assert_int_equal(mxrtc_sdp_parse(&s, t, strlen(t), NULL, NULL, NULL), MXRTC_OK);
    return s;
}

static bool has_fmt(const mxrtc_sdp_media *m, const char *f) {
    for (uint32_t i = 0; i < m->fmt_count; i++)
        if (!strcmp(m->fmts[i], f)) return true;
    return false;
}

static const mxrtc_sdp_extmap *find_ext(const mxrtc_sdp_attrs *a, const char *uri) {
    for (uint32_t i = 0; i < a->extmap_count; i++)
        if (!strcmp(a->extmaps[i].uri, uri)) return &a->extmaps[i];
    return NULL;
}

static bool has_fb(const mxrtc_sdp_attrs *a, int pt, const char *type, const char *sub) {
    for (uint32_t i = 0; i < a->rtcp_fb_count; i++) {
        const mxrtc_sdp_rtcp_fb *f = &a->rtcp_fbs[i];
        if (f->pt == pt && !strcmp(f->type, type) &&
            ((!sub && !f->subtype) || (sub && f->subtype && !strcmp(sub, f->subtype))))
            return true;
    }
    return false;
}

#define URI_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define URI_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define URI_AST "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define URI_TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

static void offer_shape(void **state) {
    (void)state;
    mxrtc_jsep_local l = local_config();
    l.vp9 = true;
    mxrtc_sdp *o = NULL;
    assert_int_equal(mxrtc_jsep_create_offer(&o, &l, NULL, NULL), MXRTC_OK);
    char *text;
    mxrtc_sdp *r = reparse(o, &text);
    const mxrtc_sdp_group *g = mxrtc_sdp_find_group(r, "BUNDLE");
    assert_non_null(g);
    assert_int_equal(g->count, 2);
    assert_true(r->session_id == 0x123456789abcdefULL);
    assert_int_equal(r->media_count, 2);
    for (int i = 0; i < 2; i++) {
        const mxrtc_sdp_media *m = &r->media[i];
        assert_int_equal(m->port, 9);
        assert_string_equal(m->proto, "UDP/TLS/RTP/SAVPF");
        assert_string_equal(m->a.ice_ufrag, "mxU1");
        assert_string_equal(m->a.ice_pwd, "mxrtcpassword0123456789");
        assert_true(mxrtc_sdp_has_ice_option(&m->a, "trickle"));
        assert_string_equal(m->a.fingerprints[0].algorithm, "sha-256");
        assert_string_equal(m->a.fingerprints[0].value, FP);
        assert_int_equal(m->a.setup, MXRTC_SDP_SETUP_ACTPASS);
        assert_true(m->a.rtcp_mux);
        assert_true(m->a.rtcp_rsize);
        assert_int_equal(m->a.direction, MXRTC_SDP_DIR_SENDRECV);
        assert_string_equal(m->a.msids[0].stream, "mxstream");
        assert_non_null(find_ext(&m->a, URI_MID));
        assert_non_null(find_ext(&m->a, URI_TWCC));
        assert_non_null(find_ext(&m->a, URI_AST));
    }
    const mxrtc_sdp_media *a = &r->media[0], *v = &r->media[1];
    assert_string_equal(a->type, "audio");
    assert_string_equal(a->a.mid, "0");
    assert_non_null(find_ext(&a->a, URI_LEVEL));
    assert_null(find_ext(&v->a, URI_LEVEL));
    const mxrtc_sdp_rtpmap *opus = mxrtc_sdp_find_rtpmap(&a->a, 111);
    assert_string_equal(opus->encoding, "opus");
    assert_int_equal(opus->clock, 48000);
    assert_int_equal(opus->channels, 2);
    uint64_t x;
    assert_int_equal(mxrtc_sdp_fmtp_get_uint(mxrtc_sdp_find_fmtp(&a->a, 111)->params, "useinbandfec", 1, &x), 0);
    assert_int_equal(mxrtc_sdp_fmtp_get_uint(mxrtc_sdp_find_fmtp(&a->a, 111)->params, "minptime", 100, &x), 0);
    assert_int_equal(x, 10);
    assert_true(has_fb(&a->a, 111, "transport-cc", NULL));
    assert_string_equal(v->a.mid, "1");
    assert_true(has_fmt(v, "96") && has_fmt(v, "97") && has_fmt(v, "98") && has_fmt(v, "99"));
    assert_string_equal(mxrtc_sdp_find_rtpmap(&v->a, 96)->encoding, "VP8");
    assert_string_equal(mxrtc_sdp_find_rtpmap(&v->a, 97)->encoding, "rtx");
    assert_string_equal(mxrtc_sdp_find_fmtp(&v->a, 97)->params, "apt=96");
    assert_string_equal(mxrtc_sdp_find_rtpmap(&v->a, 98)->encoding, "VP9");
    assert_string_equal(mxrtc_sdp_find_fmtp(&v->a, 99)->params, "apt=98");
    for (int pt = 96; pt <= 98; pt += 2) {
        assert_true(has_fb(&v->a, pt, "nack", NULL));
        assert_true(has_fb(&v->a, pt, "nack", "pli"));
        assert_true(has_fb(&v->a, pt, "ccm", "fir"));
        assert_true(has_fb(&v->a, pt, "goog-remb", NULL));
        assert_true(has_fb(&v->a, pt, "transport-cc", NULL));
    }
    assert_int_equal(v->a.ssrc_group_count, 1);
    assert_string_equal(v->a.ssrc_groups[0].semantics, "FID");
    assert_int_equal(v->a.ssrc_groups[0].ssrcs[1], 3333);
    assert_non_null(strstr(text, "a=ssrc:2222 msid:mxstream mxvideo\r\n"));
    free(text);
    mxrtc_sdp_free(r);
    mxrtc_sdp_free(o);

    /* Without VP9: only 96 and 97. */
    l.vp9 = false;
    assert_int_equal(mxrtc_jsep_create_offer(&o, &l, NULL, NULL), MXRTC_OK);
    assert_int_equal(o->media[1].fmt_count, 2);
    mxrtc_sdp_free(o);

    /* Data channels add an application section. */
    l.data = true;
    assert_int_equal(mxrtc_jsep_create_offer(&o, &l, NULL, NULL), MXRTC_OK);
    r = reparse(o, NULL);
    assert_int_equal(r->media_count, 3);
    assert_string_equal(r->media[2].type, "application");
    assert_string_equal(r->media[2].proto, "UDP/DTLS/SCTP");
    assert_string_equal(r->media[2].fmts[0], "webrtc-datachannel");
    assert_int_equal(r->media[2].a.sctp_port, 5000);
    assert_true(r->media[2].a.has_max_message_size);
    assert_int_equal(mxrtc_sdp_find_group(r, "BUNDLE")->count, 3);
    mxrtc_sdp_free(r);
    mxrtc_sdp_free(o);
}

static void answer_chrome_offer(void **state) {
    (void)state;
    mxrtc_jsep_local l = local_config();
    for (int vp9 = 0; vp9 <= 1; vp9++) {
        l.vp9 = vp9;
        mxrtc_sdp *offer = fixture_parse("chrome_offer.sdp"), *ans = NULL;
        assert_non_null(offer);
        assert_int_equal(mxrtc_jsep_create_answer(&ans, offer, &l, NULL, NULL), MXRTC_OK);
        mxrtc_sdp *r = reparse(ans, NULL);
        assert_int_equal(r->media_count, 2);
        const mxrtc_sdp_media *a = &r->media[0], *v = &r->media[1];
        /* Nothing rejected, both bundled, mids kept. */
        assert_int_equal(a->port, 9);
        assert_int_equal(v->port, 9);
        assert_string_equal(a->a.mid, "0");
        assert_string_equal(v->a.mid, "1");
        const mxrtc_sdp_group *g = mxrtc_sdp_find_group(r, "BUNDLE");
        assert_int_equal(g->count, 2);
        assert_true(r->a.extmap_allow_mixed);
        /* Opus at the offerer's 111, nothing else. */
        assert_int_equal(a->fmt_count, 1);
        assert_string_equal(a->fmts[0], "111");
        assert_string_equal(mxrtc_sdp_find_rtpmap(&a->a, 111)->encoding, "opus");
        assert_true(has_fb(&a->a, 111, "transport-cc", NULL));
        /* VP8 96 with RTX 97 (and VP9 profile 0 at 98/99 only if enabled; never profile 2). */
        assert_true(has_fmt(v, "96") && has_fmt(v, "97"));
        assert_int_equal(has_fmt(v, "98"), vp9);
        assert_int_equal(has_fmt(v, "99"), vp9);
        assert_false(has_fmt(v, "100") || has_fmt(v, "101") || has_fmt(v, "103") || has_fmt(v, "45") ||
                     has_fmt(v, "123") || has_fmt(v, "125"));
        assert_int_equal(v->fmt_count, vp9 ? 4 : 2);
        assert_string_equal(mxrtc_sdp_find_fmtp(&v->a, 97)->params, "apt=96");
        if (vp9) assert_string_equal(mxrtc_sdp_find_fmtp(&v->a, 98)->params, "profile-id=0");
        assert_true(has_fb(&v->a, 96, "nack", "pli"));
        assert_true(has_fb(&v->a, 96, "goog-remb", NULL));
        assert_true(has_fb(&v->a, 96, "ccm", "fir"));
        /* Extension ids as Chrome chose them; unsupported ones dropped. */
        assert_int_equal(find_ext(&a->a, URI_LEVEL)->id, 1);
        assert_int_equal(find_ext(&a->a, URI_AST)->id, 2);
        assert_int_equal(find_ext(&a->a, URI_TWCC)->id, 3);
        assert_int_equal(find_ext(&a->a, URI_MID)->id, 4);
        assert_int_equal(find_ext(&v->a, URI_MID)->id, 4);
        assert_int_equal(find_ext(&v->a, URI_TWCC)->id, 3);
        assert_null(find_ext(&v->a, "urn:ietf:params:rtp-hdrext:toffset"));
        /* The colour space Chrome's canvas capture is tagged with (BT.709
         * full range): accepted so that we can convert its pictures. */
        assert_int_equal(find_ext(&v->a, "http://www.webrtc.org/experiments/rtp-hdrext/color-space")->id, 8);
        assert_null(find_ext(&a->a, "http://www.webrtc.org/experiments/rtp-hdrext/color-space"));
        assert_int_equal(v->a.extmap_count, 4);
        /* DTLS client role, our credentials, both directions. */
        assert_int_equal(a->a.setup, MXRTC_SDP_SETUP_ACTIVE);
        assert_int_equal(v->a.setup, MXRTC_SDP_SETUP_ACTIVE);
        assert_string_equal(a->a.ice_ufrag, "mxU1");
        assert_string_equal(v->a.fingerprints[0].value, FP);
        assert_int_equal(a->a.direction, MXRTC_SDP_DIR_SENDRECV);
        assert_true(a->a.rtcp_mux && a->a.rtcp_rsize);
        assert_string_equal(v->a.msids[0].track, "mxvideo");
        mxrtc_sdp_free(r);
        mxrtc_sdp_free(ans);
        mxrtc_sdp_free(offer);
    }
}

static void answer_firefox_and_gstreamer(void **state) {
    (void)state;
    mxrtc_jsep_local l = local_config();
    l.vp9 = true;
    mxrtc_sdp *offer = fixture_parse("firefox_offer.sdp"), *ans = NULL;
    assert_int_equal(mxrtc_jsep_create_answer(&ans, offer, &l, NULL, NULL), MXRTC_OK);
    mxrtc_sdp *r = reparse(ans, NULL);
    const mxrtc_sdp_media *a = &r->media[0], *v = &r->media[1];
    assert_int_equal(a->fmt_count, 1);
    assert_string_equal(a->fmts[0], "109");
    /* Firefox lists VP8 120 (rtx 124) and VP9 121 (rtx 125). */
    assert_int_equal(v->fmt_count, 4);
    assert_true(has_fmt(v, "120") && has_fmt(v, "124") && has_fmt(v, "121") && has_fmt(v, "125"));
    assert_string_equal(mxrtc_sdp_find_fmtp(&v->a, 124)->params, "apt=120");
    assert_int_equal(find_ext(&a->a, URI_LEVEL)->id, 1);
    assert_int_equal(find_ext(&a->a, URI_MID)->id, 3);
    assert_null(find_ext(&a->a, "urn:ietf:params:rtp-hdrext:csrc-audio-level"));
    assert_int_equal(find_ext(&v->a, URI_AST)->id, 4);
    assert_int_equal(find_ext(&v->a, URI_TWCC)->id, 7);
    /* Session-level actpass from Firefox applies to each section. */
    assert_int_equal(a->a.setup, MXRTC_SDP_SETUP_ACTIVE);
    mxrtc_sdp_free(r);
    mxrtc_sdp_free(ans);
    mxrtc_sdp_free(offer);

    offer = fixture_parse("gstreamer_offer.sdp");
    assert_int_equal(mxrtc_jsep_create_answer(&ans, offer, &l, NULL, NULL), MXRTC_OK);
    r = reparse(ans, NULL);
    a = &r->media[0];
    v = &r->media[1];
    assert_int_equal(a->port, 9);
    assert_string_equal(a->fmts[0], "111");   /* "OPUS" matched case-insensitively */
    assert_string_equal(a->a.mid, "audio0");
    assert_string_equal(v->a.mid, "video1");
    assert_true(has_fmt(v, "96") && has_fmt(v, "97"));
    assert_int_equal(find_ext(&v->a, URI_TWCC)->id, 1);
    const mxrtc_sdp_group *g = mxrtc_sdp_find_group(r, "BUNDLE");
    assert_string_equal(g->mids[0], "audio0");
    assert_string_equal(g->mids[1], "video1");
    assert_int_equal(a->a.setup, MXRTC_SDP_SETUP_ACTIVE);
    assert_int_equal(a->a.candidate_count, 0);
    mxrtc_sdp_free(r);
    mxrtc_sdp_free(ans);
    mxrtc_sdp_free(offer);

    /* Without rtcp-mux in a section, that section is rejected (we require mux). */
    size_t n;
    char *gst = fixture_load("gstreamer_offer.sdp", &n);
    char *nomux = replace_all(gst, "a=rtcp-mux\r\na=rtcp-rsize\r\na=sendrecv\r\na=rtpmap:111",
                              "a=rtcp-rsize\r\na=sendrecv\r\na=rtpmap:111");
    assert_string_not_equal(gst, nomux);
    offer = parse_str(nomux);
    assert_int_equal(mxrtc_jsep_create_answer(&ans, offer, &l, NULL, NULL), MXRTC_OK);
    assert_int_equal(ans->media[0].port, 0);
    assert_int_equal(ans->media[1].port, 9);
    assert_int_equal(mxrtc_sdp_find_group(ans, "BUNDLE")->count, 1);
    mxrtc_sdp_free(ans);
    mxrtc_sdp_free(offer);
    free(nomux);
    free(gst);
}

static const char DATA_SECTION[] =
    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:pV3x\r\n"
    "a=ice-pwd:Hn4kQ2bYtWm9Lr8Zc6Ds1Fg0\r\n"
    "a=fingerprint:sha-256 AA:BB\r\n"
    "a=setup:actpass\r\n"
    "a=mid:2\r\n"
    "a=sctp-port:5000\r\n"
    "a=max-message-size:262144\r\n"
    "m=text 9 RTP/AVP 98\r\n"
    "a=mid:3\r\n"
    "a=rtpmap:98 t140/1000\r\n";

static void answer_rejects_with_port_zero(void **state) {
    (void)state;
    mxrtc_jsep_local l = local_config();
    size_t n = 0;  /* -O2 -Werror=maybe-uninitialized: fixture_load sets it on success */
    char *chrome = fixture_load("chrome_offer.sdp", &n);
    char *t = malloc(n + sizeof DATA_SECTION);
    strcpy(t, chrome);
    strcat(t, DATA_SECTION);
    char *t2 = replace_all(t, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0 1 2 3");
    mxrtc_sdp *offer = parse_str(t2), *ans = NULL;
    assert_int_equal(offer->media_count, 4);

    /* Data channels off: application and text rejected, mids kept, not bundled. */
    assert_int_equal(mxrtc_jsep_create_answer(&ans, offer, &l, NULL, NULL), MXRTC_OK);
    mxrtc_sdp *r = reparse(ans, NULL);
    assert_int_equal(r->media_count, 4);
    assert_int_equal(r->media[0].port, 9);
    assert_int_equal(r->media[1].port, 9);
    assert_int_equal(r->media[2].port, 0);
    assert_string_equal(r->media[2].type, "application");
    assert_string_equal(r->media[2].a.mid, "2");
    assert_string_equal(r->media[2].fmts[0], "webrtc-datachannel");
    assert_int_equal(r->media[3].port, 0);
    assert_string_equal(r->media[3].type, "text");
    assert_string_equal(r->media[3].fmts[0], "98");
    assert_int_equal(mxrtc_sdp_find_group(r, "BUNDLE")->count, 2);
    mxrtc_sdp_free(r);
    mxrtc_sdp_free(ans);

    /* Data channels on: accepted with our SCTP parameters. */
    l.data = true;
    l.max_message_size = 65536;
    assert_int_equal(mxrtc_jsep_create_answer(&ans, offer, &l, NULL, NULL), MXRTC_OK);
    r = reparse(ans, NULL);
    assert_int_equal(r->media[2].port, 9);
    assert_int_equal(r->media[2].a.sctp_port, 5000);
    assert_int_equal(r->media[2].a.max_message_size, 65536);
    assert_int_equal(r->media[2].a.setup, MXRTC_SDP_SETUP_ACTIVE);
    assert_int_equal(r->media[3].port, 0);
    assert_int_equal(mxrtc_sdp_find_group(r, "BUNDLE")->count, 3);
    mxrtc_sdp_free(r);
    mxrtc_sdp_free(ans);
    mxrtc_sdp_free(offer);
    free(t2);

    /* Video that offers only H264, and an audio section already at port 0. */
    const char *h264 =
        "v=0\r\no=- 5 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE v\r\n"
        "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\na=rtpmap:111 opus/48000/2\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 102 103\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\na=setup:actpass\r\na=rtcp-mux\r\n"
        "a=rtpmap:102 H264/90000\r\na=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n";
    offer = parse_str(h264);
    assert_int_equal(mxrtc_jsep_create_answer(&ans, offer, &l, NULL, NULL), MXRTC_OK);
    r = reparse(ans, NULL);
    assert_int_equal(r->media[0].port, 0);
    assert_int_equal(r->media[1].port, 0);
    assert_string_equal(r->media[1].fmts[0], "102");
    assert_null(mxrtc_sdp_find_group(r, "BUNDLE"));
    mxrtc_sdp_free(r);
    mxrtc_sdp_free(ans);
    mxrtc_sdp_free(offer);

    /* Audio only locally: the video section is rejected. */
    l = local_config();
    l.video = false;
    offer = fixture_parse("chrome_offer.sdp");
    assert_int_equal(mxrtc_jsep_create_answer(&ans, offer, &l, NULL, NULL), MXRTC_OK);
    assert_int_equal(ans->media[0].port, 9);
    assert_int_equal(ans->media[1].port, 0);
    mxrtc_sdp_free(ans);
    mxrtc_sdp_free(offer);
    free(chrome);
    free(t);
}

static mxrtc_sdp_direction answer_direction_for(const char *offered, bool send, bool recv) {
    mxrtc_jsep_local l = local_config();
    l.audio_send = l.video_send = send;
    l.audio_recv = l.video_recv = recv;
    size_t n;
    char *chrome = fixture_load("chrome_offer.sdp", &n);
    char *t = replace_all(chrome, "a=sendrecv", offered);
    mxrtc_sdp *offer = parse_str(t), *ans = NULL;
    assert_int_equal(mxrtc_jsep_create_answer(&ans, offer, &l, NULL, NULL), MXRTC_OK);
    mxrtc_sdp_direction d = ans->media[0].a.direction;
    assert_int_equal(ans->media[1].a.direction, d);
    assert_int_equal(ans->media[0].port, 9);   /* hold is not rejection */
    /* RFC 8829 §5.3.1: a=msid/a=ssrc follow our track, not the negotiated
     * direction: a recvonly answer to a hold keeps them, as Chromium's does. */
    assert_int_equal(ans->media[0].a.msid_count, send ? 1 : 0);
    assert_int_equal(ans->media[0].a.ssrc_count, send ? 2 : 0);   /* cname + msid */
    if (send) {
        assert_int_equal(ans->media[0].a.ssrcs[0].ssrc, 1111);
        assert_string_equal(ans->media[0].a.msids[0].stream, "mxstream");
        assert_int_equal(ans->media[1].a.ssrc_group_count, 1);   /* FID 2222 3333 */
    }
    mxrtc_sdp_free(ans);
    mxrtc_sdp_free(offer);
    free(t);
    free(chrome);
    return d;
}

static void hold_and_directions(void **state) {
    (void)state;
    /* RFC 3264 §6.1. */
    assert_int_equal(answer_direction_for("a=sendonly", true, true), MXRTC_SDP_DIR_RECVONLY);   /* hold */
    assert_int_equal(answer_direction_for("a=sendonly", true, false), MXRTC_SDP_DIR_INACTIVE);
    assert_int_equal(answer_direction_for("a=recvonly", true, true), MXRTC_SDP_DIR_SENDONLY);
    assert_int_equal(answer_direction_for("a=recvonly", false, true), MXRTC_SDP_DIR_INACTIVE);
    assert_int_equal(answer_direction_for("a=inactive", true, true), MXRTC_SDP_DIR_INACTIVE);
    assert_int_equal(answer_direction_for("a=sendrecv", true, true), MXRTC_SDP_DIR_SENDRECV);
    assert_int_equal(answer_direction_for("a=sendrecv", false, true), MXRTC_SDP_DIR_RECVONLY);
    assert_int_equal(answer_direction_for("a=sendrecv", true, false), MXRTC_SDP_DIR_SENDONLY);
}

static void dtls_roles(void **state) {
    (void)state;
    mxrtc_jsep_local l = local_config();
    struct { const char *offered; mxrtc_sdp_setup expect; } cases[] = {
        { "a=setup:actpass", MXRTC_SDP_SETUP_ACTIVE },
        { "a=setup:passive", MXRTC_SDP_SETUP_ACTIVE },
        { "a=setup:active", MXRTC_SDP_SETUP_PASSIVE },
        { "a=x-no-setup", MXRTC_SDP_SETUP_PASSIVE },   /* RFC 4145: absent means active */
    };
    size_t n;
    char *chrome = fixture_load("chrome_offer.sdp", &n);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = replace_all(chrome, "a=setup:actpass", cases[i].offered);
        mxrtc_sdp *offer = parse_str(t), *ans = NULL;
        assert_int_equal(mxrtc_jsep_create_answer(&ans, offer, &l, NULL, NULL), MXRTC_OK);
        assert_int_equal(ans->media[0].a.setup, cases[i].expect);
        assert_int_equal(ans->media[1].a.setup, cases[i].expect);
        mxrtc_sdp_free(ans);
        mxrtc_sdp_free(offer);
        free(t);
    }
    /* In an established association the answer keeps our role, whatever a
     * subsequent offer says (RFC 8842 §5.3): Chromium's hold and ICE
     * restart offers say actpass again. An offer taking our role asks for a
     * new association: refused. */
    struct { mxrtc_sdp_setup ours; const char *offered; int rc; } est[] = {
        { MXRTC_SDP_SETUP_PASSIVE, "a=setup:actpass", MXRTC_OK },
        { MXRTC_SDP_SETUP_PASSIVE, "a=setup:active", MXRTC_OK },
        { MXRTC_SDP_SETUP_PASSIVE, "a=setup:passive", MXRTC_ERR_UNSUPPORTED },
        { MXRTC_SDP_SETUP_ACTIVE, "a=setup:actpass", MXRTC_OK },
        { MXRTC_SDP_SETUP_ACTIVE, "a=setup:passive", MXRTC_OK },
        { MXRTC_SDP_SETUP_ACTIVE, "a=setup:active", MXRTC_ERR_UNSUPPORTED },
        { MXRTC_SDP_SETUP_ACTIVE, "a=x-no-setup", MXRTC_ERR_UNSUPPORTED },
    };
    for (size_t i = 0; i < sizeof est / sizeof est[0]; i++) {
        l.dtls_setup = est[i].ours;
        char *t = replace_all(chrome, "a=setup:actpass", est[i].offered);
        mxrtc_sdp *offer = parse_str(t), *ans = NULL;
        assert_int_equal(mxrtc_jsep_create_answer(&ans, offer, &l, NULL, NULL), est[i].rc);
        if (est[i].rc == MXRTC_OK) {
            assert_int_equal(ans->media[0].a.setup, est[i].ours);
            assert_int_equal(ans->media[1].a.setup, est[i].ours);
        } else {
            assert_null(ans);
        }
        mxrtc_sdp_free(ans);
        mxrtc_sdp_free(offer);
        free(t);
    }
    /* Our own subsequent offers stay actpass (RFC 8842 §5.2). */
    l.dtls_setup = MXRTC_SDP_SETUP_PASSIVE;
    mxrtc_sdp *o1 = NULL, *o2 = NULL;
    assert_int_equal(mxrtc_jsep_create_offer(&o1, &l, NULL, NULL), MXRTC_OK);
    assert_int_equal(mxrtc_jsep_create_offer(&o2, &l, o1, NULL), MXRTC_OK);
    assert_int_equal(o2->media[0].a.setup, MXRTC_SDP_SETUP_ACTPASS);
    mxrtc_sdp_free(o1);
    mxrtc_sdp_free(o2);
    free(chrome);
}

/* Lines of a that differ from b's (same count expected). */
static int differing_lines(const char *a, const char *b, const char *allowed[], size_t nallowed) {
    int diffs = 0;
    while (*a && *b) {
        const char *ea = strstr(a, "\r\n"), *eb = strstr(b, "\r\n");
        assert_non_null(ea);
        assert_non_null(eb);
        size_t la = (size_t)(ea - a), lb = (size_t)(eb - b);
        if (la != lb || memcmp(a, b, la)) {
            bool ok = false;
            for (size_t i = 0; i < nallowed; i++) ok |= !strncmp(a, allowed[i], strlen(allowed[i]));
            if (!ok) fprintf(stderr, "unexpected change: %.*s\n", (int)la, a);
            assert_true(ok);
            diffs++;
        }
        a = ea + 2;
        b = eb + 2;
    }
    assert_true(!*a && !*b);
    return diffs;
}

static void renegotiation_adds_video(void **state) {
    (void)state;
    mxrtc_jsep_local l = local_config();
    l.video = false;
    mxrtc_sdp *o1 = NULL, *o2 = NULL;
    assert_int_equal(mxrtc_jsep_create_offer(&o1, &l, NULL, NULL), MXRTC_OK);
    assert_int_equal(o1->media_count, 1);
    l.video = true;
    assert_int_equal(mxrtc_jsep_create_offer(&o2, &l, o1, NULL), MXRTC_OK);
    mxrtc_sdp *r = reparse(o2, NULL);
    assert_int_equal(r->media_count, 2);
    assert_string_equal(r->media[0].type, "audio");
    assert_string_equal(r->media[0].a.mid, "0");
    assert_string_equal(r->media[0].fmts[0], "111");
    assert_string_equal(r->media[1].type, "video");
    assert_string_equal(r->media[1].a.mid, "1");
    assert_true(r->session_id == o1->session_id);
    assert_int_equal(r->session_version, o1->session_version + 1);
    assert_int_equal(mxrtc_sdp_find_group(r, "BUNDLE")->count, 2);
    mxrtc_sdp_free(r);
    mxrtc_sdp_free(o2);
    mxrtc_sdp_free(o1);

    /* We answered Firefox's audio-only call (opus at 109, mid "0"); our
     * re-offer adding video keeps 109 and mid 0 and the extension ids. */
    size_t n;
    char *ff = fixture_load("firefox_offer.sdp", &n);
    char *cut = strstr(ff, "m=video");
    *cut = '\0';
    char *audio_only = replace_all(ff, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0");
    mxrtc_sdp *offer = parse_str(audio_only), *ans = NULL, *re = NULL;
    l.video = false;
    assert_int_equal(mxrtc_jsep_create_answer(&ans, offer, &l, NULL, NULL), MXRTC_OK);
    l.video = true;
    assert_int_equal(mxrtc_jsep_create_offer(&re, &l, ans, NULL), MXRTC_OK);
    r = reparse(re, NULL);
    assert_int_equal(r->media_count, 2);
    assert_string_equal(r->media[0].fmts[0], "109");
    assert_string_equal(r->media[0].a.mid, "0");
    assert_int_equal(find_ext(&r->media[0].a, URI_MID)->id, 3);
    assert_int_equal(r->media[0].a.setup, MXRTC_SDP_SETUP_ACTPASS);
    assert_string_equal(r->media[1].a.mid, "1");
    assert_true(has_fmt(&r->media[1], "96"));
    assert_int_equal(r->session_version, ans->session_version + 1);
    mxrtc_sdp_free(r);
    mxrtc_sdp_free(re);
    mxrtc_sdp_free(ans);
    mxrtc_sdp_free(offer);
    free(audio_only);
    free(ff);

    /* Chrome re-offers with video added: our answer keeps mid 0 / PT 111 and
     * bumps our o= version. */
    char *chrome = fixture_load("chrome_offer.sdp", &n);
    char *c_audio = dup_text(chrome);
    *strstr(c_audio, "m=video") = '\0';
    char *c1 = replace_all(c_audio, "a=group:BUNDLE 0 1", "a=group:BUNDLE 0");
    mxrtc_sdp *off1 = parse_str(c1), *off2 = parse_str(chrome), *a1 = NULL, *a2 = NULL;
    assert_int_equal(mxrtc_jsep_create_answer(&a1, off1, &l, NULL, NULL), MXRTC_OK);
    assert_int_equal(mxrtc_jsep_create_answer(&a2, off2, &l, a1, NULL), MXRTC_OK);
    assert_int_equal(a2->media_count, 2);
    assert_string_equal(a2->media[0].a.mid, a1->media[0].a.mid);
    assert_string_equal(a2->media[0].fmts[0], "111");
    assert_true(a2->session_id == a1->session_id);
    assert_int_equal(a2->session_version, a1->session_version + 1);
    mxrtc_sdp_free(a1);
    mxrtc_sdp_free(a2);
    mxrtc_sdp_free(off1);
    mxrtc_sdp_free(off2);
    free(c1);
    free(c_audio);
    free(chrome);
}

static void ice_restart_changes_only_credentials(void **state) {
    (void)state;
    mxrtc_jsep_local l = local_config();
    l.vp9 = true;
    l.data = true;
    mxrtc_sdp *o1 = NULL, *o2 = NULL;
    assert_int_equal(mxrtc_jsep_create_offer(&o1, &l, NULL, NULL), MXRTC_OK);
    l.ice_ufrag = "rst2";
    l.ice_pwd = "anotherpassword98765432";
    assert_int_equal(mxrtc_jsep_create_offer(&o2, &l, o1, NULL), MXRTC_OK);
    char *t1 = NULL, *t2 = NULL;
    mxrtc_sdp *r1 = reparse(o1, &t1), *r2 = reparse(o2, &t2);
    const char *allowed[] = { "o=", "a=ice-ufrag:", "a=ice-pwd:" };
    /* o= plus ufrag and pwd in each of three sections. */
    assert_int_equal(differing_lines(t1, t2, allowed, 3), 1 + 2 * 3);
    assert_string_equal(r2->media[2].a.ice_ufrag, "rst2");
    /* Without a restart, a re-offer changes only the o= version. */
    mxrtc_sdp *o3 = NULL;
    char *t3 = NULL;
    assert_int_equal(mxrtc_jsep_create_offer(&o3, &l, o2, NULL), MXRTC_OK);
    mxrtc_sdp *r3 = reparse(o3, &t3);
    assert_int_equal(differing_lines(t2, t3, allowed, 1), 1);
    free(t1);
    free(t2);
    free(t3);
    mxrtc_sdp_free(r1);
    mxrtc_sdp_free(r2);
    mxrtc_sdp_free(r3);
    mxrtc_sdp_free(o1);
    mxrtc_sdp_free(o2);
    mxrtc_sdp_free(o3);
}

/* A bundle-only section (RFC 8843 §6: port 0 in the offer, but in the
 * BUNDLE group) is accepted, session-level extmaps count, a format listed
 * twice is answered once. */
static void answer_bundle_only_and_session_extmaps(void **state) {
    (void)state;
    const char *text =
        "v=0\r\no=- 5 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a v\r\n"
        "a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 111\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\na=setup:actpass\r\n"
        "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
        "m=video 0 UDP/TLS/RTP/SAVPF 96 97 96\r\nc=IN IP4 0.0.0.0\r\na=bundle-only\r\na=mid:v\r\na=rtcp-mux\r\n"
        "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n";
    mxrtc_jsep_local l = local_config();
    mxrtc_sdp *offer = parse_str(text), *ans = NULL;
    assert_int_equal(mxrtc_jsep_create_answer(&ans, offer, &l, NULL, NULL), MXRTC_OK);
    mxrtc_sdp *r = reparse(ans, NULL);
    assert_int_equal(r->media[0].fmt_count, 1);
    assert_int_equal(r->media[1].port, 9);
    assert_int_equal(r->media[1].fmt_count, 2);
    assert_int_equal(find_ext(&r->media[0].a, URI_MID)->id, 9);
    assert_int_equal(find_ext(&r->media[1].a, URI_MID)->id, 9);
    assert_int_equal(mxrtc_sdp_find_group(r, "BUNDLE")->count, 2);
    assert_false(r->a.extmap_allow_mixed);
    mxrtc_sdp_free(r);
    mxrtc_sdp_free(ans);
    mxrtc_sdp_free(offer);
    /* Without BUNDLE membership, port 0 with bundle-only is a rejection. */
    char *t = replace_all(text, "a=group:BUNDLE a v", "a=group:BUNDLE a");
    offer = parse_str(t);
    assert_int_equal(mxrtc_jsep_create_answer(&ans, offer, &l, NULL, NULL), MXRTC_OK);
    assert_int_equal(ans->media[1].port, 0);
    mxrtc_sdp_free(ans);
    mxrtc_sdp_free(offer);
    free(t);
}

static void bad_arguments(void **state) {
    (void)state;
    mxrtc_jsep_local l = local_config();
    mxrtc_sdp *o = NULL;
    l.ice_ufrag = NULL;
    assert_int_equal(mxrtc_jsep_create_offer(&o, &l, NULL, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    l = local_config();
    l.ice_pwd = "short";
    assert_int_equal(mxrtc_jsep_create_offer(&o, &l, NULL, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    assert_null(o);
    l = local_config();
    mxrtc_sdp *empty = parse_str("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\n");
    assert_int_equal(mxrtc_jsep_create_answer(&o, empty, &l, NULL, NULL), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_jsep_create_answer(&o, NULL, &l, NULL, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    assert_null(o);
    mxrtc_sdp_free(empty);
}

static void allocation_failures(void **state) {
    (void)state;
    mxrtc_jsep_local l = local_config();
    l.vp9 = true;
    mxrtc_sdp *offer = fixture_parse("chrome_offer.sdp");
    test_alloc ta;
    int failures = 0;
    for (long k = 1;; k++) {
        test_alloc_init(&ta);
        test_alloc_fail_nth(&ta, k);
        mxrtc_sdp *ans = NULL;
        int rc = mxrtc_jsep_create_answer(&ans, offer, &l, NULL, &ta.iface);
        if (rc == MXRTC_OK) {
            mxrtc_sdp_free(ans);
            assert_int_equal(ta.live, 0);
            break;
        }
        assert_int_equal(rc, MXRTC_ERR_NO_MEMORY);
        assert_int_equal(ta.live, 0);
        failures++;
    }
    assert_true(failures >= 2);
    for (long k = 1;; k++) {
        test_alloc_init(&ta);
        test_alloc_fail_nth(&ta, k);
        mxrtc_sdp *o = NULL;
        int rc = mxrtc_jsep_create_offer(&o, &l, offer, &ta.iface);
        if (rc == MXRTC_OK) {
            mxrtc_sdp_free(o);
            assert_int_equal(ta.live, 0);
            break;
        }
        assert_int_equal(rc, MXRTC_ERR_NO_MEMORY);
        assert_int_equal(ta.live, 0);
    }
    mxrtc_sdp_free(offer);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offer_shape),
        cmocka_unit_test(answer_chrome_offer),
        cmocka_unit_test(answer_firefox_and_gstreamer),
        cmocka_unit_test(answer_rejects_with_port_zero),
        cmocka_unit_test(hold_and_directions),
        cmocka_unit_test(dtls_roles),
        cmocka_unit_test(renegotiation_adds_video),
        cmocka_unit_test(ice_restart_changes_only_credentials),
        cmocka_unit_test(answer_bundle_only_and_session_extmaps),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
