/*
 * m.call.* contents: what Element (matrix-js-sdk) sends parses into the
 * right fields, every validation failure path returns its error code and a
 * reason, versions 0/1/unknown are read as the spec says, and what we
 * serialise parses back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/alloc.h"
#include "matrix/events.h"

#define SDP_OFFER "v=0\\r\\no=- 123 2 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\nm=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\n"

static mxrtc_mx_event *ev_new(void) {
    mxrtc_mx_event *e = malloc(sizeof *e);
    assert_non_null(e);
    return e;
}

static int parse(mxrtc_mx_event *e, mxrtc_mx_type t, const char *json, const char **why) {
    return mxrtc_mx_event_parse(e, t, json, strlen(json), why);
}

/* Element's invite: version "1", party_id its device id, lifetime 60000,
 * the stable metadata key, invitee set in a DM. */
static void element_invite(void **state) {
    (void)state;
    mxrtc_mx_event *e = ev_new();
    const char *j =
        "{\"call_id\":\"1732480000000abcdEFGhijkLMN\",\"party_id\":\"GHTYAJCE\",\"version\":\"1\","
        "\"lifetime\":60000,\"invitee\":\"@bob:example.org\","
        "\"offer\":{\"type\":\"offer\",\"sdp\":\"" SDP_OFFER "\"},"
        "\"capabilities\":{\"m.call.transferee\":false,\"m.call.dtmf\":false},"
        "\"sdp_stream_metadata\":{\"5c1b0b4e-stream\":{\"purpose\":\"m.usermedia\",\"audio_muted\":false,"
        "\"video_muted\":true}}}";
    const char *why = "x";
    assert_int_equal(parse(e, MXRTC_MX_INVITE, j, &why), MXRTC_OK);
    assert_null(why);
    assert_string_equal(e->call_id, "1732480000000abcdEFGhijkLMN");
    assert_string_equal(e->party_id, "GHTYAJCE");
    assert_true(e->has_party_id);
    assert_int_equal(e->version, 1);
    assert_true(e->version_known);
    assert_int_equal(e->lifetime_ms, 60000);
    assert_true(e->has_invitee);
    assert_string_equal(e->invitee, "@bob:example.org");
    assert_int_equal(e->sdp_type, MXRTC_MX_SDP_OFFER);
    assert_int_equal(strncmp(e->sdp, "v=0\r\no=- 123", 12), 0);
    assert_true(e->metadata.present);
    assert_int_equal(e->metadata.count, 1);
    assert_string_equal(e->metadata.streams[0].id, "5c1b0b4e-stream");
    assert_int_equal(e->metadata.streams[0].purpose, MXRTC_MX_PURPOSE_USERMEDIA);
    assert_false(e->metadata.streams[0].audio_muted);
    assert_true(e->metadata.streams[0].video_muted);
    free(e);
}

/* Older Element: the MSC3077 unstable key and a screenshare stream. */
static void unstable_metadata_key(void **state) {
    (void)state;
    mxrtc_mx_event *e = ev_new();
    const char *j =
        "{\"call_id\":\"c1\",\"party_id\":\"P\",\"version\":1,\"answer\":{\"type\":\"answer\",\"sdp\":\"v=0\"},"
        "\"org.matrix.msc3077.sdp_stream_metadata\":{\"s1\":{\"purpose\":\"m.usermedia\"},"
        "\"s2\":{\"purpose\":\"m.screenshare\",\"video_muted\":false},\"s3\":{\"purpose\":\"org.example\"}}}";
    assert_int_equal(parse(e, MXRTC_MX_ANSWER, j, NULL), MXRTC_OK);
    assert_int_equal(e->version, 1);
    assert_int_equal(e->metadata.count, 3);
    assert_int_equal(e->metadata.streams[1].purpose, MXRTC_MX_PURPOSE_SCREENSHARE);
    assert_int_equal(e->metadata.streams[2].purpose, MXRTC_MX_PURPOSE_OTHER);
    assert_false(e->metadata.streams[0].audio_muted);
    free(e);
}

static void versions(void **state) {
    (void)state;
    mxrtc_mx_event *e = ev_new();
    struct { const char *v; int rc; uint32_t version; bool known; bool party; } cases[] = {
        {"0", MXRTC_OK, 0, true, false},          /* integer 0: v0, party_id ignored */
        {"\"0\"", MXRTC_OK, 0, true, false},
        {"1", MXRTC_OK, 1, true, true},
        {"\"1\"", MXRTC_OK, 1, true, true},
        {"\"2\"", MXRTC_OK, 1, false, true},       /* unknown string: treated as 1 */
        {"\"1.1-experimental\"", MXRTC_OK, 1, false, true},
        {"7", MXRTC_OK, 1, false, true},
        {"1.5", MXRTC_ERR_MALFORMED, 0, false, false},
        {"-1", MXRTC_ERR_MALFORMED, 0, false, false},
        {"true", MXRTC_ERR_MALFORMED, 0, false, false},
        {"null", MXRTC_ERR_MALFORMED, 0, false, false},
        {"{}", MXRTC_ERR_MALFORMED, 0, false, false},
        {"\"\"", MXRTC_ERR_MALFORMED, 0, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char j[256];
        snprintf(j, sizeof j, "{\"call_id\":\"c\",\"party_id\":\"PP\",\"version\":%s}", cases[i].v);
        const char *why = NULL;
        int rc = parse(e, MXRTC_MX_REJECT, j, &why);
        assert_int_equal(rc, cases[i].rc);
        if (rc != MXRTC_OK) {
            assert_non_null(why);
            continue;
        }
        assert_int_equal(e->version, cases[i].version);
        assert_int_equal(e->version_known, cases[i].known);
        assert_int_equal(e->has_party_id, cases[i].party);
    }
    /* v0 peers have no party_id at all */
    assert_int_equal(parse(e, MXRTC_MX_HANGUP, "{\"call_id\":\"c\",\"version\":0}", NULL), MXRTC_OK);
    assert_false(e->has_party_id);
    assert_int_equal(e->reason, MXRTC_MX_REASON_USER_HANGUP);
    assert_false(e->has_reason);
    /* version 1 requires it */
    const char *why = NULL;
    assert_int_equal(parse(e, MXRTC_MX_HANGUP, "{\"call_id\":\"c\",\"version\":\"1\"}", &why), MXRTC_ERR_MALFORMED);
    assert_string_equal(why, "party_id missing in a version 1 event");
    free(e);
}

/* Element's batch: candidates with sdpMid and sdpMLineIndex (and
 * usernameFragment, ignored), then {"candidate": ""} as end-of-candidates. */
static void element_candidates(void **state) {
    (void)state;
    mxrtc_mx_event *e = ev_new();
    const char *j =
        "{\"call_id\":\"c1\",\"party_id\":\"DEV\",\"version\":\"1\",\"candidates\":["
        "{\"candidate\":\"candidate:842163049 1 udp 1677729535 198.51.100.7 51472 typ srflx raddr 0.0.0.0 "
        "rport 0 generation 0 ufrag abcd network-cost 999\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0,"
        "\"usernameFragment\":\"abcd\"},"
        "{\"candidate\":\"candidate:1 1 udp 2122260223 203.0.113.5 40000 typ host\",\"sdpMid\":null,"
        "\"sdpMLineIndex\":1},"
        "{\"candidate\":\"\"}]}";
    assert_int_equal(parse(e, MXRTC_MX_CANDIDATES, j, NULL), MXRTC_OK);
    assert_int_equal(e->candidate_count, 2);
    assert_true(e->end_of_candidates);
    assert_true(e->candidates[0].has_mid);
    assert_string_equal(e->candidates[0].sdp_mid, "0");
    assert_int_equal(e->candidates[0].sdp_mline_index, 0);
    assert_false(e->candidates[1].has_mid);
    assert_int_equal(e->candidates[1].sdp_mline_index, 1);
    free(e);
}

static void other_events(void **state) {
    (void)state;
    mxrtc_mx_event *e = ev_new();
    assert_int_equal(parse(e, MXRTC_MX_SELECT_ANSWER,
                           "{\"call_id\":\"c1\",\"party_id\":\"A\",\"version\":\"1\",\"selected_party_id\":\"B\"}",
                           NULL), MXRTC_OK);
    assert_string_equal(e->selected_party_id, "B");
    assert_int_equal(parse(e, MXRTC_MX_NEGOTIATE,
                           "{\"call_id\":\"c1\",\"party_id\":\"A\",\"version\":\"1\",\"lifetime\":60000,"
                           "\"description\":{\"type\":\"offer\",\"sdp\":\"v=0\"}}", NULL), MXRTC_OK);
    assert_int_equal(e->sdp_type, MXRTC_MX_SDP_OFFER);
    assert_int_equal(parse(e, MXRTC_MX_NEGOTIATE,
                           "{\"call_id\":\"c1\",\"party_id\":\"A\",\"version\":\"1\",\"lifetime\":60000,"
                           "\"description\":{\"type\":\"answer\",\"sdp\":\"v=0\"}}", NULL), MXRTC_OK);
    assert_int_equal(e->sdp_type, MXRTC_MX_SDP_ANSWER);
    assert_int_equal(parse(e, MXRTC_MX_METADATA_CHANGED,
                           "{\"call_id\":\"c1\",\"party_id\":\"A\",\"version\":\"1\",\"sdp_stream_metadata\":"
                           "{\"s\":{\"purpose\":\"m.usermedia\",\"audio_muted\":true,\"video_muted\":false}}}",
                           NULL), MXRTC_OK);
    assert_true(e->metadata.streams[0].audio_muted);
    /* both names of the metadata_changed event type */
    assert_int_equal(mxrtc_mx_type_from_name("m.call.sdp_stream_metadata_changed"), MXRTC_MX_METADATA_CHANGED);
    assert_int_equal(mxrtc_mx_type_from_name("org.matrix.call.sdp_stream_metadata_changed"),
                     MXRTC_MX_METADATA_CHANGED);
    assert_int_equal(mxrtc_mx_type_from_name("m.room.message"), MXRTC_MX_NONE);
    assert_int_equal(mxrtc_mx_type_from_name("m.call.invite"), MXRTC_MX_INVITE);
    free(e);
}

static void hangup_reasons(void **state) {
    (void)state;
    mxrtc_mx_event *e = ev_new();
    struct { const char *text; mxrtc_mx_reason r; } cases[] = {
        {"ice_failed", MXRTC_MX_REASON_ICE_FAILED},
        {"ice_timeout", MXRTC_MX_REASON_ICE_TIMEOUT},
        {"invite_timeout", MXRTC_MX_REASON_INVITE_TIMEOUT},
        {"user_hangup", MXRTC_MX_REASON_USER_HANGUP},
        {"user_media_failed", MXRTC_MX_REASON_USER_MEDIA_FAILED},
        {"user_busy", MXRTC_MX_REASON_USER_BUSY},
        {"unknown_error", MXRTC_MX_REASON_UNKNOWN_ERROR},
        {"replaced", MXRTC_MX_REASON_REPLACED},
        {"signalling_timeout", MXRTC_MX_REASON_UNKNOWN_ERROR},   /* Element-only code: unknown */
        {"", MXRTC_MX_REASON_UNKNOWN_ERROR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char j[256];
        snprintf(j, sizeof j, "{\"call_id\":\"c\",\"party_id\":\"P\",\"version\":\"1\",\"reason\":\"%s\"}",
                 cases[i].text);
        assert_int_equal(parse(e, MXRTC_MX_HANGUP, j, NULL), MXRTC_OK);
        assert_int_equal(e->reason, cases[i].r);
        assert_true(e->has_reason);
        assert_string_equal(e->reason_text, cases[i].text);
        if (cases[i].r != MXRTC_MX_REASON_UNKNOWN_ERROR || strcmp(cases[i].text, "unknown_error") == 0)
            assert_string_equal(mxrtc_mx_reason_name(cases[i].r), cases[i].text);
    }
    assert_string_equal(mxrtc_mx_reason_name(MXRTC_MX_REASON_PEER_LEFT), "user_hangup");
    free(e);
}

typedef struct bad_case {
    mxrtc_mx_type type;
    const char *json;
    int rc;
    const char *reason;
} bad_case;

#define B "\"call_id\":\"c1\",\"party_id\":\"P\",\"version\":\"1\""
#define OFFER "\"offer\":{\"type\":\"offer\",\"sdp\":\"v=0\"}"

static const bad_case bad_cases[] = {
    {MXRTC_MX_INVITE, "", MXRTC_ERR_MALFORMED, "content is not valid JSON"},
    {MXRTC_MX_INVITE, "{", MXRTC_ERR_MALFORMED, "content is not valid JSON"},
    {MXRTC_MX_INVITE, "[]", MXRTC_ERR_MALFORMED, "content is not a JSON object"},
    {MXRTC_MX_INVITE, "\"x\"", MXRTC_ERR_MALFORMED, "content is not a JSON object"},
    {MXRTC_MX_REJECT, "{" B "} {}", MXRTC_ERR_MALFORMED, "trailing data after the JSON object"},
    {MXRTC_MX_INVITE, "{\"party_id\":\"P\",\"version\":\"1\",\"lifetime\":1," OFFER "}", MXRTC_ERR_MALFORMED, "call_id missing"},
    {MXRTC_MX_INVITE, "{\"call_id\":5,\"party_id\":\"P\",\"version\":\"1\"}", MXRTC_ERR_MALFORMED, "call_id invalid"},
    {MXRTC_MX_INVITE, "{\"call_id\":\"\",\"party_id\":\"P\",\"version\":\"1\"}", MXRTC_ERR_MALFORMED, "call_id invalid"},
    {MXRTC_MX_INVITE, "{\"call_id\":\"a b\",\"party_id\":\"P\",\"version\":\"1\"}", MXRTC_ERR_MALFORMED, "call_id invalid"},
    {MXRTC_MX_INVITE, "{\"call_id\":\"a\\nb\",\"party_id\":\"P\",\"version\":\"1\"}", MXRTC_ERR_MALFORMED, "call_id invalid"},
    {MXRTC_MX_INVITE, "{\"call_id\":\"c\",\"party_id\":[],\"version\":\"1\"}", MXRTC_ERR_MALFORMED, "party_id invalid"},
    {MXRTC_MX_INVITE, "{\"call_id\":\"c\",\"party_id\":\"P\"}", MXRTC_ERR_MALFORMED, "version missing"},
    {MXRTC_MX_INVITE, "{" B "," OFFER "}", MXRTC_ERR_MALFORMED, "lifetime missing"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":-5," OFFER "}", MXRTC_ERR_MALFORMED, "lifetime is not a non-negative integer"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1.5," OFFER "}", MXRTC_ERR_MALFORMED, "lifetime is not a non-negative integer"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":\"60000\"," OFFER "}", MXRTC_ERR_MALFORMED, "lifetime is not a non-negative integer"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1e300," OFFER "}", MXRTC_ERR_MALFORMED, "lifetime is not a non-negative integer"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1}", MXRTC_ERR_MALFORMED, "session description missing"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1,\"offer\":\"v=0\"}", MXRTC_ERR_MALFORMED, "session description is not an object"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1,\"offer\":{\"sdp\":\"v=0\"}}", MXRTC_ERR_MALFORMED, "description type missing"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1,\"offer\":{\"type\":\"answer\",\"sdp\":\"v=0\"}}", MXRTC_ERR_MALFORMED, "description type not allowed for this event"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1,\"offer\":{\"type\":\"offer\"}}", MXRTC_ERR_MALFORMED, "sdp missing or not a string"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1,\"offer\":{\"type\":\"offer\",\"sdp\":\"\"}}", MXRTC_ERR_MALFORMED, "sdp empty"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1," OFFER ",\"invitee\":\"bob\"}", MXRTC_ERR_MALFORMED, "invitee is not a user ID"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1," OFFER ",\"invitee\":7}", MXRTC_ERR_MALFORMED, "invitee invalid"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1," OFFER ",\"sdp_stream_metadata\":[]}", MXRTC_ERR_MALFORMED, "sdp_stream_metadata is not an object"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1," OFFER ",\"sdp_stream_metadata\":{\"s\":1}}", MXRTC_ERR_MALFORMED, "stream metadata is not an object"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1," OFFER ",\"sdp_stream_metadata\":{\"\":{\"purpose\":\"m.usermedia\"}}}", MXRTC_ERR_MALFORMED, "empty stream id"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1," OFFER ",\"sdp_stream_metadata\":{\"s\":{}}}", MXRTC_ERR_MALFORMED, "stream purpose missing or not a string"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1," OFFER ",\"sdp_stream_metadata\":{\"s\":{\"purpose\":\"m.usermedia\",\"audio_muted\":1}}}", MXRTC_ERR_MALFORMED, "audio_muted is not a boolean"},
    {MXRTC_MX_INVITE, "{" B ",\"lifetime\":1," OFFER ",\"sdp_stream_metadata\":{\"s\":{\"purpose\":\"m.usermedia\",\"video_muted\":\"no\"}}}", MXRTC_ERR_MALFORMED, "video_muted is not a boolean"},
    {MXRTC_MX_ANSWER, "{" B "}", MXRTC_ERR_MALFORMED, "session description missing"},
    {MXRTC_MX_ANSWER, "{" B ",\"answer\":{\"type\":\"offer\",\"sdp\":\"v=0\"}}", MXRTC_ERR_MALFORMED, "description type not allowed for this event"},
    {MXRTC_MX_NEGOTIATE, "{" B ",\"description\":{\"type\":\"offer\",\"sdp\":\"v=0\"}}", MXRTC_ERR_MALFORMED, "lifetime missing"},
    {MXRTC_MX_NEGOTIATE, "{" B ",\"lifetime\":1,\"description\":{\"type\":\"pranswer\",\"sdp\":\"v=0\"}}", MXRTC_ERR_MALFORMED, "description type not allowed for this event"},
    {MXRTC_MX_CANDIDATES, "{" B "}", MXRTC_ERR_MALFORMED, "candidates missing"},
    {MXRTC_MX_CANDIDATES, "{" B ",\"candidates\":{}}", MXRTC_ERR_MALFORMED, "candidates is not an array"},
    {MXRTC_MX_CANDIDATES, "{" B ",\"candidates\":[\"candidate:1\"]}", MXRTC_ERR_MALFORMED, "candidate is not an object"},
    {MXRTC_MX_CANDIDATES, "{" B ",\"candidates\":[{\"sdpMid\":\"0\"}]}", MXRTC_ERR_MALFORMED, "candidate string missing"},
    {MXRTC_MX_CANDIDATES, "{" B ",\"candidates\":[{\"candidate\":\"candidate:1 1 udp 1 1.2.3.4 5 typ host\"}]}", MXRTC_ERR_MALFORMED, "candidate without sdpMid or sdpMLineIndex"},
    {MXRTC_MX_CANDIDATES, "{" B ",\"candidates\":[{\"candidate\":\"candidate:1\",\"sdpMid\":0}]}", MXRTC_ERR_MALFORMED, "sdpMid is not a string"},
    {MXRTC_MX_CANDIDATES, "{" B ",\"candidates\":[{\"candidate\":\"candidate:1\",\"sdpMLineIndex\":70000}]}", MXRTC_ERR_MALFORMED, "sdpMLineIndex is not an integer 0..65535"},
    {MXRTC_MX_CANDIDATES, "{" B ",\"candidates\":[{\"candidate\":\"candidate:1\\r\\na=x\",\"sdpMid\":\"0\"}]}", MXRTC_ERR_MALFORMED, "control character in candidate"},
    {MXRTC_MX_CANDIDATES, "{" B ",\"candidates\":[{\"candidate\":\"\"},{\"candidate\":\"candidate:1\",\"sdpMid\":\"0\"}]}", MXRTC_ERR_MALFORMED, "candidate after end-of-candidates"},
    {MXRTC_MX_SELECT_ANSWER, "{" B "}", MXRTC_ERR_MALFORMED, "selected_party_id missing"},
    {MXRTC_MX_SELECT_ANSWER, "{" B ",\"selected_party_id\":null}", MXRTC_ERR_MALFORMED, "selected_party_id invalid"},
    {MXRTC_MX_HANGUP, "{" B ",\"reason\":3}", MXRTC_ERR_MALFORMED, "hangup reason is not a string"},
    {MXRTC_MX_METADATA_CHANGED, "{" B "}", MXRTC_ERR_MALFORMED, "sdp_stream_metadata missing"},
};

static void every_failure_path(void **state) {
    (void)state;
    mxrtc_mx_event *e = ev_new();
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const char *why = NULL;
        int rc = parse(e, bad_cases[i].type, bad_cases[i].json, &why);
        if (rc != bad_cases[i].rc || !why || strcmp(why, bad_cases[i].reason) != 0)
            fail_msg("case %zu (%s): rc %d reason %s", i, bad_cases[i].json, rc, why ? why : "(null)");
        /* a rejected event leaves nothing behind */
        assert_int_equal(e->call_id[0], 0);
        assert_int_equal(e->sdp_len, 0);
    }
    assert_int_equal(mxrtc_mx_event_parse(NULL, MXRTC_MX_INVITE, "{}", 2, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_mx_event_parse(e, MXRTC_MX_NONE, "{}", 2, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    const char *why = NULL;
    assert_int_equal(mxrtc_mx_event_parse(e, MXRTC_MX_REJECT, "{\"call_id\":\"c\"\0}", 16, &why),
                     MXRTC_ERR_MALFORMED);
    assert_string_equal(why, "NUL byte in event content");
    free(e);
}

/* Bounds: ids, SDP, candidates, streams, the content itself. */
static void limits(void **state) {
    (void)state;
    mxrtc_mx_event *e = ev_new();
    size_t cap = MXRTC_MX_CONTENT_MAX + 4096;
    char *j = malloc(cap);
    const char *why;
    char id[300];
    memset(id, 'a', 256);
    id[256] = 0;
    snprintf(j, cap, "{\"call_id\":\"%s\",\"party_id\":\"P\",\"version\":\"1\"}", id);
    assert_int_equal(parse(e, MXRTC_MX_REJECT, j, &why), MXRTC_ERR_LIMIT);
    id[255] = 0;   /* 255 bytes is fine */
    snprintf(j, cap, "{\"call_id\":\"%s\",\"party_id\":\"P\",\"version\":\"1\"}", id);
    assert_int_equal(parse(e, MXRTC_MX_REJECT, j, &why), MXRTC_OK);

    /* SDP of 64 KiB + 1 */
    size_t n = (size_t)snprintf(j, cap, "{" B ",\"answer\":{\"type\":\"answer\",\"sdp\":\"");
    memset(j + n, 'x', MXRTC_MX_SDP_MAX + 1);
    n += MXRTC_MX_SDP_MAX + 1;
    strcpy(j + n, "\"}}");
    assert_int_equal(parse(e, MXRTC_MX_ANSWER, j, &why), MXRTC_ERR_LIMIT);
    assert_string_equal(why, "sdp longer than 64 KiB");
    /* exactly 64 KiB is fine */
    n = (size_t)snprintf(j, cap, "{" B ",\"answer\":{\"type\":\"answer\",\"sdp\":\"");
    memset(j + n, 'x', MXRTC_MX_SDP_MAX);
    n += MXRTC_MX_SDP_MAX;
    strcpy(j + n, "\"}}");
    assert_int_equal(parse(e, MXRTC_MX_ANSWER, j, &why), MXRTC_OK);
    assert_int_equal(e->sdp_len, MXRTC_MX_SDP_MAX);

    /* content over 256 KiB */
    n = (size_t)snprintf(j, cap, "{" B ",\"pad\":\"");
    memset(j + n, 'y', MXRTC_MX_CONTENT_MAX);
    strcpy(j + n + MXRTC_MX_CONTENT_MAX, "\"}");
    assert_int_equal(parse(e, MXRTC_MX_REJECT, j, &why), MXRTC_ERR_LIMIT);

    /* 65 candidates */
    n = (size_t)snprintf(j, cap, "{" B ",\"candidates\":[");
    for (int i = 0; i < MXRTC_MX_CANDIDATES_MAX + 1; i++)
        n += (size_t)snprintf(j + n, cap - n, "%s{\"candidate\":\"candidate:%d 1 udp 1 1.2.3.4 5 typ host\",\"sdpMid\":\"0\"}",
                              i ? "," : "", i);
    strcpy(j + n, "]}");
    assert_int_equal(parse(e, MXRTC_MX_CANDIDATES, j, &why), MXRTC_ERR_LIMIT);
    assert_string_equal(why, "too many candidates in one event");
    /* 64 plus the end marker is fine */
    n = (size_t)snprintf(j, cap, "{" B ",\"candidates\":[");
    for (int i = 0; i < MXRTC_MX_CANDIDATES_MAX; i++)
        n += (size_t)snprintf(j + n, cap - n, "{\"candidate\":\"candidate:%d 1 udp 1 1.2.3.4 5 typ host\",\"sdpMid\":\"0\"},", i);
    strcpy(j + n, "{\"candidate\":\"\"}]}");
    assert_int_equal(parse(e, MXRTC_MX_CANDIDATES, j, &why), MXRTC_OK);
    assert_int_equal(e->candidate_count, MXRTC_MX_CANDIDATES_MAX);
    assert_true(e->end_of_candidates);

    /* a candidate line of 513 bytes */
    n = (size_t)snprintf(j, cap, "{" B ",\"candidates\":[{\"sdpMid\":\"0\",\"candidate\":\"");
    memset(j + n, 'c', MXRTC_MX_CANDIDATE_MAX + 1);
    n += MXRTC_MX_CANDIDATE_MAX + 1;
    strcpy(j + n, "\"}]}");
    assert_int_equal(parse(e, MXRTC_MX_CANDIDATES, j, &why), MXRTC_ERR_LIMIT);

    /* 9 streams */
    n = (size_t)snprintf(j, cap, "{" B ",\"sdp_stream_metadata\":{");
    for (int i = 0; i < MXRTC_MX_STREAMS_MAX + 1; i++)
        n += (size_t)snprintf(j + n, cap - n, "%s\"s%d\":{\"purpose\":\"m.usermedia\"}", i ? "," : "", i);
    strcpy(j + n, "}}");
    assert_int_equal(parse(e, MXRTC_MX_METADATA_CHANGED, j, &why), MXRTC_ERR_LIMIT);

    /* deep nesting is refused by cJSON's own limit, not a crash */
    n = (size_t)snprintf(j, cap, "{" B ",\"x\":");
    for (int i = 0; i < 5000; i++) j[n++] = '[';
    for (int i = 0; i < 5000; i++) j[n++] = ']';
    strcpy(j + n, "}");
    assert_int_equal(parse(e, MXRTC_MX_REJECT, j, &why), MXRTC_ERR_MALFORMED);
    free(j);
    free(e);
}

static void serialize_round_trip(void **state) {
    (void)state;
    mxrtc_mx_event *e = ev_new();
    mxrtc_mx_metadata md;
    memset(&md, 0, sizeof md);
    md.present = true;
    md.count = 1;
    strcpy(md.streams[0].id, "stream-1");
    md.streams[0].purpose = MXRTC_MX_PURPOSE_USERMEDIA;
    md.streams[0].video_muted = true;
    mxrtc_mx_candidate cands[2];
    memset(cands, 0, sizeof cands);
    strcpy(cands[0].candidate, "candidate:1 1 udp 2122260223 198.51.100.1 5000 typ host");
    strcpy(cands[0].sdp_mid, "0");
    cands[0].has_mid = true;
    cands[0].sdp_mline_index = 0;
    strcpy(cands[1].candidate, "candidate:2 1 udp 1 198.51.100.2 5001 typ host");
    cands[1].sdp_mline_index = 1;

    mxrtc_mx_type types[] = {MXRTC_MX_INVITE, MXRTC_MX_CANDIDATES, MXRTC_MX_ANSWER, MXRTC_MX_SELECT_ANSWER,
                             MXRTC_MX_REJECT, MXRTC_MX_NEGOTIATE, MXRTC_MX_HANGUP, MXRTC_MX_METADATA_CHANGED};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        mxrtc_mx_outgoing o;
        memset(&o, 0, sizeof o);
        o.type = types[i];
        o.call_id = "cabc";
        o.party_id = "MYDEV";
        o.lifetime_ms = 60000;
        o.invitee = "@bob:example.org";
        o.sdp_type = MXRTC_MX_SDP_ANSWER;
        o.sdp = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n";
        o.metadata = &md;
        o.candidates = cands;
        o.candidate_count = 2;
        o.end_of_candidates = true;
        o.selected_party_id = "THEIRDEV";
        o.reason = MXRTC_MX_REASON_ICE_TIMEOUT;
        char *json = NULL;
        size_t len = 0;
        assert_int_equal(mxrtc_mx_event_serialize(&o, NULL, &json, &len), MXRTC_OK);
        assert_int_equal(strlen(json), len);
        assert_non_null(strstr(json, "\"version\":\"1\""));
        const char *why = NULL;
        int rc = mxrtc_mx_event_parse(e, types[i], json, len, &why);
        if (rc != MXRTC_OK) fail_msg("type %d: %s (%s)", (int)types[i], why, json);
        assert_string_equal(e->call_id, "cabc");
        assert_string_equal(e->party_id, "MYDEV");
        switch (types[i]) {
        case MXRTC_MX_INVITE:
            assert_string_equal(e->invitee, "@bob:example.org");
            assert_int_equal(e->lifetime_ms, 60000);
            assert_string_equal(e->sdp, o.sdp);
            assert_string_equal(e->metadata.streams[0].id, "stream-1");
            assert_true(e->metadata.streams[0].video_muted);
            /* both metadata keys are sent, for old and new Element */
            assert_non_null(strstr(json, "\"org.matrix.msc3077.sdp_stream_metadata\""));
            break;
        case MXRTC_MX_CANDIDATES:
            assert_int_equal(e->candidate_count, 2);
            assert_true(e->end_of_candidates);
            assert_non_null(strstr(json, "{\"candidate\":\"\"}"));
            assert_false(e->candidates[1].has_mid);
            assert_int_equal(e->candidates[1].sdp_mline_index, 1);
            break;
        case MXRTC_MX_NEGOTIATE: assert_int_equal(e->sdp_type, MXRTC_MX_SDP_ANSWER); break;
        case MXRTC_MX_SELECT_ANSWER: assert_string_equal(e->selected_party_id, "THEIRDEV"); break;
        case MXRTC_MX_HANGUP: assert_int_equal(e->reason, MXRTC_MX_REASON_ICE_TIMEOUT); break;
        case MXRTC_MX_METADATA_CHANGED: assert_int_equal(e->metadata.count, 1); break;
        default: break;
        }
        free(json);
    }
    /* missing required fields */
    mxrtc_mx_outgoing o;
    memset(&o, 0, sizeof o);
    o.type = MXRTC_MX_INVITE;
    o.call_id = "c";
    o.party_id = "p";
    char *json = NULL;
    assert_int_equal(mxrtc_mx_event_serialize(&o, NULL, &json, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    o.type = MXRTC_MX_SELECT_ANSWER;
    assert_int_equal(mxrtc_mx_event_serialize(&o, NULL, &json, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    free(e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(element_invite),
        cmocka_unit_test(unstable_metadata_key),
        cmocka_unit_test(versions),
        cmocka_unit_test(element_candidates),
        cmocka_unit_test(other_events),
        cmocka_unit_test(hangup_reasons),
        cmocka_unit_test(every_failure_path),
        cmocka_unit_test(limits),
        cmocka_unit_test(serialize_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
