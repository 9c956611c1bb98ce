/*
 * test_parse.c: SDP parsing and serialisation (sdp/parse.c, serialize.c,
 * query.c, model.c) against real-world offers, limits and bad input.
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

static const char *FIXTURES[] = { "chrome_offer.sdp", "element_offer.sdp", "firefox_offer.sdp",
                                  "gstreamer_offer.sdp" };

static char *ser(const mxrtc_sdp *s, size_t *n) {
    char *t = NULL;
    size_t len = 0;
    assert_int_equal(mxrtc_sdp_serialize_alloc(s, NULL, &t, &len), MXRTC_OK);
    assert_int_equal(strlen(t), len);
    if (n) *n = len;
    return t;
}

static int parse_text(const char *text, mxrtc_sdp_error *err, const mxrtc_sdp_limits *lim) {
    mxrtc_sdp *s = NULL;
    int rc = mxrtc_sdp_parse(&s, text, strlen(text), NULL, lim, err);
    if (rc == MXRTC_OK) assert_non_null(s);
    else assert_null(s);
    mxrtc_sdp_free(s);
    return rc;
}

/* A small valid description to mutate in the error tests (line numbers in comments). */
static const char BASE[] =
    "v=0\r\n"                                         /* 1 */
    "o=- 123 2 IN IP4 127.0.0.1\r\n"                  /* 2 */
    "s=-\r\n"                                         /* 3 */
    "t=0 0\r\n"                                       /* 4 */
    "a=group:BUNDLE 0\r\n"                            /* 5 */
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"             /* 6 */
    "c=IN IP4 0.0.0.0\r\n"                            /* 7 */
    "a=mid:0\r\n"                                     /* 8 */
    "a=rtpmap:111 opus/48000/2\r\n"                   /* 9 */
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n";      /* 10 */

static void chrome_offer_model(void **state) {
    (void)state;
    mxrtc_sdp *s = fixture_parse("chrome_offer.sdp");
    assert_non_null(s);
    assert_string_equal(s->origin_user, "-");
    assert_true(s->session_id == 4611686018427387903ULL);
    assert_int_equal(s->session_version, 2);
    assert_int_equal(s->time_count, 1);
    const mxrtc_sdp_group *g = mxrtc_sdp_find_group(s, "BUNDLE");
    assert_non_null(g);
    assert_int_equal(g->count, 2);
    assert_string_equal(g->mids[0], "0");
    assert_string_equal(g->mids[1], "1");
    assert_true(s->a.extmap_allow_mixed);
    assert_string_equal(s->a.msid_semantic, "WMS");
    assert_string_equal(s->a.msid_semantic_ids, "KqVtm0ZqfXh0KkVLz0HBTs6wXj7pWWxdhPOx");
    assert_int_equal(s->media_count, 2);

    const mxrtc_sdp_media *a = &s->media[0];
    assert_string_equal(a->type, "audio");
    assert_int_equal(a->port, 9);
    assert_string_equal(a->proto, "UDP/TLS/RTP/SAVPF");
    assert_int_equal(a->fmt_count, 8);
    assert_string_equal(a->fmts[0], "111");
    assert_string_equal(a->conn.address, "0.0.0.0");
    assert_string_equal(a->a.mid, "0");
    assert_string_equal(a->a.ice_ufrag, "pV3x");
    assert_string_equal(a->a.ice_pwd, "Hn4kQ2bYtWm9Lr8Zc6Ds1Fg0");
    assert_true(mxrtc_sdp_has_ice_option(&a->a, "trickle"));
    assert_false(mxrtc_sdp_has_ice_option(&a->a, "ice2"));
    assert_int_equal(a->a.fingerprint_count, 1);
    assert_string_equal(a->a.fingerprints[0].algorithm, "sha-256");
    assert_int_equal(strlen(a->a.fingerprints[0].value), 95);
    assert_int_equal(a->a.setup, MXRTC_SDP_SETUP_ACTPASS);
    assert_int_equal(a->a.direction, MXRTC_SDP_DIR_SENDRECV);
    assert_true(a->a.rtcp_mux);
    assert_true(a->a.rtcp_rsize);
    const mxrtc_sdp_rtpmap *opus = mxrtc_sdp_find_rtpmap(&a->a, 111);
    assert_non_null(opus);
    assert_string_equal(opus->encoding, "opus");
    assert_int_equal(opus->clock, 48000);
    assert_int_equal(opus->channels, 2);
    const mxrtc_sdp_rtpmap *red = mxrtc_sdp_find_rtpmap(&a->a, 63);
    assert_non_null(red);
    assert_string_equal(red->encoding, "red");
    assert_string_equal(mxrtc_sdp_find_fmtp(&a->a, 63)->params, "111/111");
    assert_int_equal(mxrtc_sdp_find_rtpmap(&a->a, 9)->channels, 0);
    assert_string_equal(mxrtc_sdp_find_rtpmap(&a->a, 110)->encoding, "telephone-event");
    uint64_t v;
    const char *p = mxrtc_sdp_find_fmtp(&a->a, 111)->params;
    assert_int_equal(mxrtc_sdp_fmtp_get_uint(p, "useinbandfec", 1, &v), MXRTC_OK);
    assert_int_equal(v, 1);
    assert_int_equal(mxrtc_sdp_fmtp_get_uint(p, "minptime", 1000, &v), MXRTC_OK);
    assert_int_equal(v, 10);
    assert_int_equal(a->a.rtcp_fb_count, 1);
    assert_int_equal(a->a.rtcp_fbs[0].pt, 111);
    assert_string_equal(a->a.rtcp_fbs[0].type, "transport-cc");
    assert_null(a->a.rtcp_fbs[0].subtype);
    assert_int_equal(a->a.extmap_count, 4);
    assert_int_equal(a->a.extmaps[3].id, 4);
    assert_string_equal(a->a.extmaps[3].uri, "urn:ietf:params:rtp-hdrext:sdes:mid");
    assert_int_equal(a->a.extmaps[3].direction, MXRTC_SDP_DIR_NONE);
    assert_int_equal(a->a.msid_count, 1);
    assert_string_equal(a->a.msids[0].stream, "KqVtm0ZqfXh0KkVLz0HBTs6wXj7pWWxdhPOx");
    assert_string_equal(a->a.msids[0].track, "f7d2b6a5-3c1e-4a8b-9d02-6e4f1a7c9b33");
    assert_int_equal(a->a.ssrc_count, 2);
    assert_true(a->a.ssrcs[0].ssrc == 3094726871u);
    assert_string_equal(a->a.ssrcs[0].attribute, "cname");
    assert_string_equal(a->a.ssrcs[0].value, "y7Jq2Ws9Lm4Kd0Xp");
    assert_string_equal(a->a.ssrcs[1].attribute, "msid");
    assert_string_equal(a->a.ssrcs[1].value,
                        "KqVtm0ZqfXh0KkVLz0HBTs6wXj7pWWxdhPOx f7d2b6a5-3c1e-4a8b-9d02-6e4f1a7c9b33");
    /* a=rtcp is not modelled: kept verbatim. */
    assert_int_equal(a->a.unknown_count, 1);
    assert_string_equal(a->a.unknown[0], "rtcp:9 IN IP4 0.0.0.0");

    const mxrtc_sdp_media *vm = &s->media[1];
    assert_string_equal(vm->type, "video");
    assert_int_equal(vm->fmt_count, 21);
    assert_int_equal(vm->a.rtpmap_count, 21);
    assert_string_equal(mxrtc_sdp_find_rtpmap(&vm->a, 96)->encoding, "VP8");
    assert_int_equal(mxrtc_sdp_find_rtpmap(&vm->a, 96)->clock, 90000);
    assert_string_equal(mxrtc_sdp_find_rtpmap(&vm->a, 45)->encoding, "AV1");
    assert_string_equal(mxrtc_sdp_find_rtpmap(&vm->a, 125)->encoding, "ulpfec");
    assert_int_equal(mxrtc_sdp_fmtp_get_uint(mxrtc_sdp_find_fmtp(&vm->a, 97)->params, "apt", 127, &v), MXRTC_OK);
    assert_int_equal(v, 96);
    char buf[16];
    assert_int_equal(mxrtc_sdp_fmtp_get(mxrtc_sdp_find_fmtp(&vm->a, 103)->params, "profile-level-id", buf,
                                        sizeof buf), MXRTC_OK);
    assert_string_equal(buf, "42001f");
    assert_int_equal(vm->a.rtcp_fb_count, 5 * 9);   /* VP8, 5 x H264, AV1, 2 x VP9 */
    assert_string_equal(vm->a.rtcp_fbs[2].type, "ccm");
    assert_string_equal(vm->a.rtcp_fbs[2].subtype, "fir");
    assert_int_equal(vm->a.extmap_count, 11);
    assert_int_equal(vm->a.extmaps[0].id, 14);
    assert_int_equal(vm->a.ssrc_group_count, 1);
    assert_string_equal(vm->a.ssrc_groups[0].semantics, "FID");
    assert_int_equal(vm->a.ssrc_groups[0].count, 2);
    assert_true(vm->a.ssrc_groups[0].ssrcs[0] == 1839205743u);
    assert_true(vm->a.ssrc_groups[0].ssrcs[1] == 2757712054u);
    assert_int_equal(vm->a.ssrc_count, 4);
    assert_ptr_equal(mxrtc_sdp_find_mid(s, "1"), vm);
    mxrtc_sdp_free(s);
}

static void firefox_offer_model(void **state) {
    (void)state;
    mxrtc_sdp *s = fixture_parse("firefox_offer.sdp");
    assert_non_null(s);
    assert_string_equal(s->origin_user, "mozilla...THIS_IS_SDPARTA-128.5.0");
    assert_int_equal(s->session_version, 0);
    /* Session-level fingerprint and ice-options. */
    assert_int_equal(s->a.fingerprint_count, 1);
    assert_true(mxrtc_sdp_has_ice_option(&s->a, "trickle"));
    assert_string_equal(s->a.msid_semantic, "WMS");
    assert_string_equal(s->a.msid_semantic_ids, "*");
    const mxrtc_sdp_media *a = &s->media[0];
    assert_int_equal(a->a.fingerprint_count, 0);
    assert_string_equal(mxrtc_sdp_find_rtpmap(&a->a, 109)->encoding, "opus");
    assert_int_equal(mxrtc_sdp_find_rtpmap(&a->a, 9)->channels, 1);
    assert_string_equal(mxrtc_sdp_find_fmtp(&a->a, 101)->params, "0-15");
    assert_int_equal(a->a.extmaps[1].id, 2);
    assert_int_equal(a->a.extmaps[1].direction, MXRTC_SDP_DIR_RECVONLY);
    assert_string_equal(a->a.msids[0].stream, "{8c2d4e6f-1a3b-4c5d-9e7f-0a1b2c3d4e5f}");
    const mxrtc_sdp_media *v = &s->media[1];
    assert_int_equal(v->fmt_count, 11);
    assert_string_equal(mxrtc_sdp_find_rtpmap(&v->a, 120)->encoding, "VP8");
    assert_string_equal(mxrtc_sdp_find_fmtp(&v->a, 124)->params, "apt=120");
    assert_int_equal(v->a.extmaps[3].direction, MXRTC_SDP_DIR_RECVONLY);
    assert_int_equal(v->a.extmaps[3].id, 6);
    assert_int_equal(v->a.ssrc_group_count, 1);
    /* Transport parameters: media-level ICE, session-level fingerprint. */
    mxrtc_sdp_transport tr;
    mxrtc_sdp_media_transport(s, v, &tr);
    assert_string_equal(tr.ice_ufrag, "3f9a1c2e");
    assert_int_equal(tr.fingerprint_count, 1);
    assert_ptr_equal(tr.fingerprints, s->a.fingerprints);
    assert_int_equal(tr.setup, MXRTC_SDP_SETUP_ACTPASS);
    assert_false(tr.ice_lite);
    mxrtc_sdp_free(s);
}

static bool is_uuid(const char *s) {
    if (strlen(s) != 36) return false;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) { if (s[i] != '-') return false; }
        else if (!strchr("0123456789abcdef", s[i])) return false;
    }
    return true;
}

static void element_offer_model(void **state) {
    (void)state;
    mxrtc_sdp *s = fixture_parse("element_offer.sdp");
    assert_non_null(s);
    assert_int_equal(s->media_count, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(s->media[i].a.msid_count, 1);
        assert_true(is_uuid(s->media[i].a.msids[0].stream));
        assert_true(is_uuid(s->media[i].a.msids[0].track));
    }
    assert_true(is_uuid(s->a.msid_semantic_ids));
    mxrtc_sdp_free(s);
}

static void gstreamer_offer_model(void **state) {
    (void)state;
    mxrtc_sdp *s = fixture_parse("gstreamer_offer.sdp");
    assert_non_null(s);
    assert_true(mxrtc_sdp_has_ice_option(&s->a, "trickle"));
    const mxrtc_sdp_group *g = mxrtc_sdp_find_group(s, "BUNDLE");
    assert_string_equal(g->mids[0], "audio0");
    assert_string_equal(g->mids[1], "video1");
    const mxrtc_sdp_media *a = mxrtc_sdp_find_mid(s, "audio0");
    assert_non_null(a);
    assert_string_equal(mxrtc_sdp_find_rtpmap(&a->a, 111)->encoding, "OPUS");   /* case kept */
    assert_int_equal(a->a.setup, MXRTC_SDP_SETUP_ACTPASS);
    assert_int_equal(a->a.candidate_count, 2);
    assert_string_equal(a->a.candidates[1],
                        "2 1 UDP 1679819007 198.51.100.7 48173 typ srflx raddr 192.0.2.10 rport 48173");
    assert_false(a->a.end_of_candidates);
    const mxrtc_sdp_media *v = mxrtc_sdp_find_mid(s, "video1");
    assert_true(v->a.end_of_candidates);
    assert_int_equal(v->a.fingerprint_count, 1);
    assert_int_equal(v->a.unknown_count, 0);
    mxrtc_sdp_free(s);
}

/* parse -> serialise -> parse -> serialise gives the same text, and the
 * model keeps every count (serialisation writes every field). */
static void round_trip_fixtures(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof FIXTURES / sizeof FIXTURES[0]; i++) {
        mxrtc_sdp *s1 = fixture_parse(FIXTURES[i]), *s2 = NULL;
        assert_non_null(s1);
        size_t n1, n2;
        char *t1 = ser(s1, &n1);
        assert_int_equal(mxrtc_sdp_parse(&s2, t1, n1, NULL, NULL, NULL), MXRTC_OK);
        char *t2 = ser(s2, &n2);
        assert_string_equal(t1, t2);
        assert_int_equal(s1->media_count, s2->media_count);
        for (uint32_t m = 0; m < s1->media_count; m++) {
            const mxrtc_sdp_attrs *x = &s1->media[m].a, *y = &s2->media[m].a;
            assert_int_equal(x->rtpmap_count, y->rtpmap_count);
            assert_int_equal(x->fmtp_count, y->fmtp_count);
            assert_int_equal(x->rtcp_fb_count, y->rtcp_fb_count);
            assert_int_equal(x->extmap_count, y->extmap_count);
            assert_int_equal(x->ssrc_count, y->ssrc_count);
            assert_int_equal(x->unknown_count, y->unknown_count);
            assert_int_equal(x->candidate_count, y->candidate_count);
            assert_int_equal(x->attr_lines, y->attr_lines);
        }
        /* CRLF only: every LF is preceded by CR. */
        for (size_t k = 0; k < n1; k++)
            if (t1[k] == '\n') assert_true(k > 0 && t1[k - 1] == '\r');
        free(t1);
        free(t2);
        mxrtc_sdp_free(s1);
        mxrtc_sdp_free(s2);
    }
}

static void unknown_lines_survive(void **state) {
    (void)state;
    const char *text =
        "v=0\n"
        "o=- 1 1 IN IP4 127.0.0.1\n"
        "s=call\n"
        "i=a session title\n"
        "u=https://example.org/\n"
        "e=alice@example.org\n"
        "b=CT:2000\n"
        "t=0 0\n"
        "r=604800 3600 0\n"
        "y=an unknown line type\n"
        "a=x-google-flag:conference\n"
        "a=tool:test 1.0\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\n"
        "i=camera\n"
        "c=IN IP4 0.0.0.0\n"
        "b=AS:2500\n"
        "b=TIAS:2500000\n"
        "a=mid:v\n"
        "a=rtpmap:96 VP8/90000\n"
        "a=framerate:30\n"
        "a=rid:hi send\n"
        "a=simulcast:send hi;lo\n"
        "a=bundle-only\n";
    mxrtc_sdp *s = NULL, *s2 = NULL;
    assert_int_equal(mxrtc_sdp_parse(&s, text, strlen(text), NULL, NULL, NULL), MXRTC_OK);
    assert_int_equal(s->a.unknown_count, 2);
    assert_int_equal(s->media[0].a.unknown_count, 4);
    assert_int_equal(s->a.extra_count, 6);
    assert_int_equal(s->media[0].a.extra_count, 3);
    size_t n;
    char *t = ser(s, &n);
    const char *expect[] = { "s=call\r\ni=a session title\r\nu=https://example.org/\r\ne=alice@example.org\r\n"
                             "b=CT:2000\r\nt=0 0\r\nr=604800 3600 0\r\ny=an unknown line type\r\n",
                             "a=x-google-flag:conference\r\n", "a=tool:test 1.0\r\n",
                             "m=video 9 UDP/TLS/RTP/SAVPF 96\r\ni=camera\r\nc=IN IP4 0.0.0.0\r\nb=AS:2500\r\nb=TIAS:2500000\r\n",
                             "a=framerate:30\r\n", "a=rid:hi send\r\n", "a=simulcast:send hi;lo\r\n", "a=bundle-only\r\n" };
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) assert_non_null(strstr(t, expect[i]));
    assert_int_equal(mxrtc_sdp_parse(&s2, t, n, NULL, NULL, NULL), MXRTC_OK);
    char *t2 = ser(s2, NULL);
    assert_string_equal(t, t2);
    free(t);
    free(t2);
    mxrtc_sdp_free(s);
    mxrtc_sdp_free(s2);
}

static void lf_and_crlf_are_equivalent(void **state) {
    (void)state;
    size_t n;
    char *crlf = fixture_load("chrome_offer.sdp", &n);
    assert_non_null(crlf);
    char *lf = replace_all(crlf, "\r\n", "\n");
    assert_true(strlen(lf) < n);
    mxrtc_sdp *a = NULL, *b = NULL;
    assert_int_equal(mxrtc_sdp_parse(&a, crlf, n, NULL, NULL, NULL), MXRTC_OK);
    assert_int_equal(mxrtc_sdp_parse(&b, lf, strlen(lf), NULL, NULL, NULL), MXRTC_OK);
    char *ta = ser(a, NULL), *tb = ser(b, NULL);
    assert_string_equal(ta, tb);
    /* No final line ending at all is accepted too. */
    mxrtc_sdp *c = NULL;
    assert_int_equal(mxrtc_sdp_parse(&c, lf, strlen(lf) - 1, NULL, NULL, NULL), MXRTC_OK);
    mxrtc_sdp_free(c);
    free(ta);
    free(tb);
    free(crlf);
    free(lf);
    mxrtc_sdp_free(a);
    mxrtc_sdp_free(b);
}

static void serialize_reports_size(void **state) {
    (void)state;
    mxrtc_sdp *s = fixture_parse("gstreamer_offer.sdp");
    size_t need = 0, len = 0;
    char small[16];
    assert_int_equal(mxrtc_sdp_serialize(s, small, sizeof small, &need), MXRTC_ERR_BUFFER_TOO_SMALL);
    char *buf = malloc(need);
    assert_int_equal(mxrtc_sdp_serialize(s, buf, need - 1, &len), MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(mxrtc_sdp_serialize(s, buf, need, &len), MXRTC_OK);
    assert_int_equal(len, need - 1);
    assert_int_equal(buf[len], '\0');
    free(buf);
    mxrtc_sdp_free(s);
    /* A description without o=/s= cannot be written. */
    mxrtc_sdp *e = NULL;
    assert_int_equal(mxrtc_sdp_new(&e, NULL, NULL), MXRTC_OK);
    char b2[256];
    assert_int_equal(mxrtc_sdp_serialize(e, b2, sizeof b2, &len), MXRTC_ERR_INVALID_ARGUMENT);
    /* Nor one whose field, set by hand, holds a line break. */
    assert_int_equal(mxrtc_sdp_set_origin(e, "-", 1, 1, NULL), MXRTC_OK);
    assert_int_equal(mxrtc_sdp_set_name(e, "-"), MXRTC_OK);
    assert_int_equal(mxrtc_sdp_serialize(e, b2, sizeof b2, &len), MXRTC_OK);
    assert_int_equal(mxrtc_sdp_set_name(e, "x\r\na=evil"), MXRTC_ERR_INVALID_ARGUMENT);
    e->name = "x\r\na=evil";
    assert_int_equal(mxrtc_sdp_serialize(e, b2, sizeof b2, &len), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_sdp_free(e);
}

typedef struct bad_case {
    const char *from, *to;   /* replacement applied to BASE */
    uint32_t line;
    int err;
} bad_case;

static void malformed_lines_report_line(void **state) {
    (void)state;
    const bad_case cases[] = {
        { "v=0\r\n", "v=1\r\n", 1, MXRTC_ERR_MALFORMED },
        { "v=0\r\n", "o=- 1 1 IN IP4 x\r\n", 1, MXRTC_ERR_MALFORMED },
        { "o=- 123 2 IN IP4 127.0.0.1", "o=- 123 2 IN IP4", 2, MXRTC_ERR_MALFORMED },
        { "o=- 123 2", "o=- 18446744073709551616 2", 2, MXRTC_ERR_MALFORMED },
        { "o=- 123 2", "o=- -1 2", 2, MXRTC_ERR_MALFORMED },
        { "t=0 0", "t=0 x", 4, MXRTC_ERR_MALFORMED },
        { "t=0 0\r\n", "t=0 0\r\ns=again\r\n", 5, MXRTC_ERR_MALFORMED },
        { "a=group:BUNDLE 0", "A=group:BUNDLE 0", 5, MXRTC_ERR_MALFORMED },
        { "a=group:BUNDLE 0", "a group", 5, MXRTC_ERR_MALFORMED },
        { "a=group:BUNDLE 0", "a=:x", 5, MXRTC_ERR_MALFORMED },
        { "a=group:BUNDLE 0", "a=fingerprint:sha-256 ZZ:00", 5, MXRTC_ERR_MALFORMED },
        { "a=group:BUNDLE 0", "a=fingerprint:sha-256", 5, MXRTC_ERR_MALFORMED },
        { "a=group:BUNDLE 0", "a=setup:both", 5, MXRTC_ERR_MALFORMED },
        { "a=group:BUNDLE 0", "a=ice-lite:yes", 5, MXRTC_ERR_MALFORMED },
        { "a=group:BUNDLE 0", "a=ice-ufrag:ab_cd", 5, MXRTC_ERR_MALFORMED },
        { "a=group:BUNDLE 0", "a=ice-pwd:two words", 5, MXRTC_ERR_MALFORMED },
        { "m=audio 9 ", "m=audio 70000 ", 6, MXRTC_ERR_MALFORMED },
        { "SAVPF 111", "SAVPF 128", 6, MXRTC_ERR_MALFORMED },
        { "SAVPF 111", "SAVPF", 6, MXRTC_ERR_MALFORMED },
        { "c=IN IP4 0.0.0.0", "c=IN IP4", 7, MXRTC_ERR_MALFORMED },
        { "a=mid:0\r\n", "a=mid:0\r\na=mid:1\r\n", 9, MXRTC_ERR_MALFORMED },
        { "a=mid:0\r\n", "a=sendonly\r\na=recvonly\r\n", 9, MXRTC_ERR_MALFORMED },
        { "a=mid:0", "a=extmap:0 urn:x", 8, MXRTC_ERR_MALFORMED },
        { "a=mid:0", "a=extmap:256 urn:x", 8, MXRTC_ERR_MALFORMED },
        { "a=mid:0", "a=extmap:1/sideways urn:x", 8, MXRTC_ERR_MALFORMED },
        { "a=mid:0", "a=ssrc:4294967296 cname:x", 8, MXRTC_ERR_MALFORMED },
        { "a=mid:0", "a=ssrc:1", 8, MXRTC_ERR_MALFORMED },
        { "a=mid:0", "a=ssrc-group:FID 1 x", 8, MXRTC_ERR_MALFORMED },
        { "a=mid:0", "a=rtcp-fb:x nack", 8, MXRTC_ERR_MALFORMED },
        { "a=mid:0", "a=msid:a b c", 8, MXRTC_ERR_MALFORMED },
        { "a=mid:0", "a=sctp-port:0", 8, MXRTC_ERR_MALFORMED },
        { "a=mid:0", "a=max-message-size:big", 8, MXRTC_ERR_MALFORMED },
        { "a=mid:0", "a=candidate:", 8, MXRTC_ERR_MALFORMED },
        { "opus/48000/2", "opus", 9, MXRTC_ERR_MALFORMED },
        { "opus/48000/2", "opus/0", 9, MXRTC_ERR_MALFORMED },
        { "opus/48000/2", "opus/48000/0", 9, MXRTC_ERR_MALFORMED },
        { "opus/48000/2", "opus/4294967296", 9, MXRTC_ERR_MALFORMED },
        { "a=rtpmap:111", "a=rtpmap:200", 9, MXRTC_ERR_MALFORMED },
        { "a=fmtp:111 minptime=10;useinbandfec=1", "a=fmtp:111", 10, MXRTC_ERR_MALFORMED },
        { "a=fmtp:111 minptime", "a=fmtp:1111 minptime", 10, MXRTC_ERR_MALFORMED },
        { "useinbandfec=1\r\n", "useinbandfec=1\r\na=rtpmap:111 opus/48000/2\r\n", 11, MXRTC_ERR_MALFORMED },
        { "useinbandfec=1\r\n", "useinbandfec=1\r\nm=video 0 RTP/AVP 31\r\no=- 1 1 IN IP4 x\r\n", 12,
          MXRTC_ERR_MALFORMED },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = replace_all(BASE, cases[i].from, cases[i].to);
        mxrtc_sdp_error err;
        int rc = parse_text(t, &err, NULL);
        if (rc != cases[i].err || err.line != cases[i].line) {
            fprintf(stderr, "case %zu: rc %d line %u (%s)\n", i, rc, err.line, err.reason ? err.reason : "-");
        }
        assert_int_equal(rc, cases[i].err);
        assert_int_equal(err.line, cases[i].line);
        assert_non_null(err.reason);
        free(t);
    }
    mxrtc_sdp_error err;
    assert_int_equal(parse_text(BASE, &err, NULL), MXRTC_OK);
    /* Missing required lines: not about one line. */
    assert_int_equal(parse_text("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\n", &err, NULL), MXRTC_ERR_MALFORMED);
    assert_int_equal(err.line, 0);
    assert_int_equal(parse_text("", &err, NULL), MXRTC_ERR_MALFORMED);
    assert_int_equal(parse_text("\r\n", &err, NULL), MXRTC_ERR_MALFORMED);
    assert_int_equal(err.line, 1);
}

static void nul_and_control_bytes(void **state) {
    (void)state;
    size_t n = strlen(BASE);
    char *t = malloc(n);
    memcpy(t, BASE, n);
    const char *at = strstr(BASE, "a=mid:0") + 5;   /* inside line 8 */
    t[at - BASE] = '\0';
    mxrtc_sdp *s = NULL;
    mxrtc_sdp_error err;
    assert_int_equal(mxrtc_sdp_parse(&s, t, n, NULL, NULL, &err), MXRTC_ERR_MALFORMED);
    assert_int_equal(err.line, 8);
    t[at - BASE] = '\r';   /* a bare CR inside a line */
    assert_int_equal(mxrtc_sdp_parse(&s, t, n, NULL, NULL, &err), MXRTC_ERR_MALFORMED);
    assert_int_equal(err.line, 8);
    t[at - BASE] = 0x01;
    assert_int_equal(mxrtc_sdp_parse(&s, t, n, NULL, NULL, &err), MXRTC_ERR_MALFORMED);
    /* NUL right at the start. */
    t[0] = '\0';
    assert_int_equal(mxrtc_sdp_parse(&s, t, n, NULL, NULL, &err), MXRTC_ERR_MALFORMED);
    assert_int_equal(err.line, 1);
    assert_null(s);
    free(t);
}

/* Every prefix of a real offer parses or is refused as malformed; whatever
 * parses survives a round trip. The buffer is exactly the prefix, so ASan
 * catches any read past it. */
static void truncated_input(void **state) {
    (void)state;
    size_t n;
    char *full = fixture_load("chrome_offer.sdp", &n);
    int ok = 0;
    for (size_t len = 0; len <= n; len++) {
        char *p = malloc(len ? len : 1);
        memcpy(p, full, len);
        mxrtc_sdp *s = NULL;
        mxrtc_sdp_error err;
        int rc = mxrtc_sdp_parse(&s, p, len, NULL, NULL, &err);
        assert_true(rc == MXRTC_OK || rc == MXRTC_ERR_MALFORMED);
        if (rc == MXRTC_OK) {
            ok++;
            char *t = ser(s, NULL);
            mxrtc_sdp *s2 = NULL;
            assert_int_equal(mxrtc_sdp_parse(&s2, t, strlen(t), NULL, NULL, NULL), MXRTC_OK);
            mxrtc_sdp_free(s2);
            free(t);
        }
        mxrtc_sdp_free(s);
        free(p);
    }
    assert_true(ok > 100);
    /* A line cut inside an rtpmap is reported on that line. */
    const char *cut = strstr(full, "a=rtpmap:111 opus") + strlen("a=rtpmap:111 opus");
    mxrtc_sdp *s = NULL;
    mxrtc_sdp_error err;
    assert_int_equal(mxrtc_sdp_parse(&s, full, (size_t)(cut - full), NULL, NULL, &err), MXRTC_ERR_MALFORMED);
    uint32_t line = 1;
    for (const char *q = full; q < cut; q++) line += *q == '\n';
    assert_int_equal(err.line, line);
    assert_string_equal(err.reason, "bad rtpmap");
    free(full);
}

static char *repeat_lines(const char *head, const char *line, int count) {
    size_t hl = strlen(head), ll = strlen(line);
    char *t = malloc(hl + ll * (size_t)count + 1);
    memcpy(t, head, hl);
    for (int i = 0; i < count; i++) memcpy(t + hl + ll * (size_t)i, line, ll);
    t[hl + ll * (size_t)count] = '\0';
    return t;
}

static void limits_trip(void **state) {
    (void)state;
    mxrtc_sdp_limits lim;
    mxrtc_sdp_error err;
    const char *head = "v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";

    mxrtc_sdp_limits_default(&lim);
    assert_int_equal(lim.max_size, 65536);
    assert_int_equal(lim.max_media, 16);
    lim.max_size = strlen(BASE) - 1;
    assert_int_equal(parse_text(BASE, &err, &lim), MXRTC_ERR_LIMIT);
    assert_int_equal(err.line, 0);
    lim.max_size = strlen(BASE);
    assert_int_equal(parse_text(BASE, &err, &lim), MXRTC_OK);

    mxrtc_sdp_limits_default(&lim);
    lim.max_lines = 9;
    assert_int_equal(parse_text(BASE, &err, &lim), MXRTC_ERR_LIMIT);
    assert_int_equal(err.line, 10);

    mxrtc_sdp_limits_default(&lim);
    lim.max_line_len = 36;   /* "a=fmtp:111 minptime=10;useinbandfec=1" is 37 */
    assert_int_equal(parse_text(BASE, &err, &lim), MXRTC_ERR_LIMIT);
    assert_int_equal(err.line, 10);

    /* Media sections: 16 pass, 17 trip. */
    mxrtc_sdp_limits_default(&lim);
    char *t = repeat_lines("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\n", "m=audio 9 RTP/AVP 0\r\n", 16);
    assert_int_equal(parse_text(t, &err, &lim), MXRTC_OK);
    free(t);
    t = repeat_lines("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\n", "m=audio 9 RTP/AVP 0\r\n", 17);
    assert_int_equal(parse_text(t, &err, &lim), MXRTC_ERR_LIMIT);
    assert_int_equal(err.line, 21);
    free(t);

    /* Attributes per section. */
    lim.max_attrs = 10;
    t = repeat_lines(head, "a=x-unknown\r\n", 10);
    assert_int_equal(parse_text(t, &err, &lim), MXRTC_OK);
    free(t);
    t = repeat_lines(head, "a=x-unknown\r\n", 11);
    assert_int_equal(parse_text(t, &err, &lim), MXRTC_ERR_LIMIT);
    assert_int_equal(err.line, 16);
    free(t);
    t = repeat_lines(head, "b=AS:1\r\n", 11);   /* other lines count too */
    assert_int_equal(parse_text(t, &err, &lim), MXRTC_ERR_LIMIT);
    free(t);

    /* Payload types on the m= line, and rtpmap lines. */
    mxrtc_sdp_limits_default(&lim);
    lim.max_payload_types = 3;
    assert_int_equal(parse_text("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96 97 98\r\n", &err, &lim),
                     MXRTC_OK);
    assert_int_equal(parse_text("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96 97 98 99\r\n", &err, &lim),
                     MXRTC_ERR_LIMIT);
    assert_int_equal(err.line, 5);
    t = malloc(4096);
    strcpy(t, head);
    for (int i = 0; i < 4; i++) sprintf(t + strlen(t), "a=rtpmap:%d VP8/90000\r\n", 100 + i);
    assert_int_equal(parse_text(t, &err, &lim), MXRTC_ERR_LIMIT);
    assert_int_equal(err.line, 9);

    /* Extmaps. */
    mxrtc_sdp_limits_default(&lim);
    lim.max_extmaps = 2;
    strcpy(t, head);
    for (int i = 1; i <= 3; i++) sprintf(t + strlen(t), "a=extmap:%d urn:x:%d\r\n", i, i);
    assert_int_equal(parse_text(t, &err, &lim), MXRTC_ERR_LIMIT);
    assert_int_equal(err.line, 8);

    /* Ssrc lines. */
    mxrtc_sdp_limits_default(&lim);
    lim.max_ssrcs = 4;
    strcpy(t, head);
    for (int i = 1; i <= 5; i++) sprintf(t + strlen(t), "a=ssrc:%d cname:x\r\n", i);
    assert_int_equal(parse_text(t, &err, &lim), MXRTC_ERR_LIMIT);
    assert_int_equal(err.line, 10);
    strcpy(t, head);
    strcat(t, "a=ssrc-group:SIM 1 2 3 4 5\r\n");
    assert_int_equal(parse_text(t, &err, &lim), MXRTC_ERR_LIMIT);
    free(t);

    /* Arena memory. */
    mxrtc_sdp_limits_default(&lim);
    lim.max_memory = 2048;
    size_t n;
    char *chrome = fixture_load("chrome_offer.sdp", &n);
    assert_int_equal(parse_text(chrome, &err, &lim), MXRTC_ERR_LIMIT);
    assert_true(err.line > 0);
    assert_int_equal(parse_text(chrome, &err, NULL), MXRTC_OK);
    free(chrome);

    /* The default size limit itself: 64 KiB of unknown lines in many sections. */
    t = repeat_lines("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\n",
                     "a=x-padding:0123456789012345678901234567890123456789012345678901234567890\r\n", 1000);
    assert_int_equal(parse_text(t, &err, NULL), MXRTC_ERR_LIMIT);
    free(t);
}

static void allocation_failures_leak_nothing(void **state) {
    (void)state;
    size_t n;
    char *text = fixture_load("chrome_offer.sdp", &n);
    test_alloc ta;
    int failures = 0;
    for (long k = 1;; k++) {
        test_alloc_init(&ta);
        test_alloc_fail_nth(&ta, k);
        mxrtc_sdp *s = NULL;
        int rc = mxrtc_sdp_parse(&s, text, n, &ta.iface, NULL, NULL);
        if (rc == MXRTC_OK) {
            assert_int_equal(ta.failures, 0);
            test_alloc_fail_nth(&ta, 0);
            char *out = NULL;
            size_t len;
            assert_int_equal(mxrtc_sdp_serialize_alloc(s, &ta.iface, &out, &len), MXRTC_OK);
            mxrtc_free(&ta.iface, out);
            mxrtc_sdp_free(s);
            assert_int_equal(ta.live, 0);
            break;
        }
        assert_int_equal(rc, MXRTC_ERR_NO_MEMORY);
        assert_null(s);
        assert_int_equal(ta.live, 0);
        failures++;
    }
    assert_true(failures >= 3);
    free(text);
}

static void bounded_numbers(void **state) {
    (void)state;
    uint64_t v;
    assert_int_equal(mxrtc_sdp_parse_uint("18446744073709551615", 20, UINT64_MAX, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(mxrtc_sdp_parse_uint("18446744073709551616", 20, UINT64_MAX, &v), -1);
    assert_int_equal(mxrtc_sdp_parse_uint("99999999999999999999999", 23, UINT64_MAX, &v), -1);
    assert_int_equal(mxrtc_sdp_parse_uint("127", 3, 127, &v), 0);
    assert_int_equal(mxrtc_sdp_parse_uint("128", 3, 127, &v), -1);
    assert_int_equal(mxrtc_sdp_parse_uint("", 0, 127, &v), -1);
    assert_int_equal(mxrtc_sdp_parse_uint("-1", 2, 127, &v), -1);
    assert_int_equal(mxrtc_sdp_parse_uint("+1", 2, 127, &v), -1);
    assert_int_equal(mxrtc_sdp_parse_uint("1a", 2, 127, &v), -1);
    assert_int_equal(mxrtc_sdp_parse_uint("0012", 4, 127, &v), 0);
    assert_int_equal(v, 12);
    assert_int_equal(mxrtc_sdp_parse_uint("12", 1, 127, &v), 0);   /* length bounds the read */
    assert_int_equal(v, 1);
}

static void fmtp_helpers(void **state) {
    (void)state;
    char b[32];
    uint64_t v;
    const char *p = "minptime=10; useinbandfec=1;stereo;APT = 96";
    assert_int_equal(mxrtc_sdp_fmtp_get(p, "minptime", b, sizeof b), MXRTC_OK);
    assert_string_equal(b, "10");
    assert_int_equal(mxrtc_sdp_fmtp_get(p, "useinbandfec", b, sizeof b), MXRTC_OK);
    assert_string_equal(b, "1");
    assert_int_equal(mxrtc_sdp_fmtp_get_uint(p, "apt", 127, &v), MXRTC_OK);
    assert_int_equal(v, 96);
    assert_int_equal(mxrtc_sdp_fmtp_get(p, "stereo", b, sizeof b), MXRTC_ERR_NOT_FOUND);
    assert_int_equal(mxrtc_sdp_fmtp_get(p, "ptime", b, sizeof b), MXRTC_ERR_NOT_FOUND);
    assert_int_equal(mxrtc_sdp_fmtp_get(p, "minptime", b, 2), MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(mxrtc_sdp_fmtp_get_uint("apt=x", "apt", 127, &v), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_sdp_fmtp_get_uint("apt=200", "apt", 127, &v), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_sdp_fmtp_get("", "apt", b, sizeof b), MXRTC_ERR_NOT_FOUND);
    assert_int_equal(mxrtc_sdp_fmtp_get("111/111", "apt", b, sizeof b), MXRTC_ERR_NOT_FOUND);
}

static void direction_defaults(void **state) {
    (void)state;
    mxrtc_sdp *s = NULL;
    char *t = replace_all(BASE, "t=0 0\r\n", "t=0 0\r\na=sendonly\r\n");
    assert_int_equal(mxrtc_sdp_parse(&s, t, strlen(t), NULL, NULL, NULL), MXRTC_OK);
    assert_int_equal(s->media[0].a.direction, MXRTC_SDP_DIR_NONE);
    assert_int_equal(mxrtc_sdp_media_direction(s, &s->media[0]), MXRTC_SDP_DIR_SENDONLY);
    mxrtc_sdp_free(s);
    free(t);
    assert_int_equal(mxrtc_sdp_parse(&s, BASE, strlen(BASE), NULL, NULL, NULL), MXRTC_OK);
    assert_int_equal(mxrtc_sdp_media_direction(s, &s->media[0]), MXRTC_SDP_DIR_SENDRECV);
    /* Port 0 sections parse as rejected. */
    mxrtc_sdp_free(s);
    t = replace_all(BASE, "m=audio 9 ", "m=audio 0 ");
    assert_int_equal(mxrtc_sdp_parse(&s, t, strlen(t), NULL, NULL, NULL), MXRTC_OK);
    assert_int_equal(s->media[0].port, 0);
    mxrtc_sdp_free(s);
    free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chrome_offer_model),
        cmocka_unit_test(firefox_offer_model),
        cmocka_unit_test(element_offer_model),
        cmocka_unit_test(gstreamer_offer_model),
        cmocka_unit_test(round_trip_fixtures),
        cmocka_unit_test(unknown_lines_survive),
        cmocka_unit_test(lf_and_crlf_are_equivalent),
        cmocka_unit_test(serialize_reports_size),
        cmocka_unit_test(malformed_lines_report_line),
        cmocka_unit_test(nul_and_control_bytes),
        cmocka_unit_test(truncated_input),
        cmocka_unit_test(limits_trip),
        cmocka_unit_test(allocation_failures_leak_nothing),
        cmocka_unit_test(bounded_numbers),
        cmocka_unit_test(fmtp_helpers),
        cmocka_unit_test(direction_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
