/*
 * test_peer_api.c: the peer's contract apart from calls: configuration
 * checks, the drain rule, garbage datagrams counted, bad SDP refused with
 * the peer still usable, signalling state errors, buffer sizes, and
 * allocation failures at every point leaking nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mxrtc.h"
#include "base/random.h"
#include "support/test_alloc.h"

static mxrtc_seeded_random rnd;

static void base_config(mxrtc_peer_config *cfg, const char *ip) {
    mxrtc_peer_config_init(cfg);
    mxrtc_seeded_random_init(&rnd, 42);
    cfg->random = mxrtc_seeded_random_source(&rnd);
    mxrtc_addr_parse(&cfg->interfaces[0], ip, 5000);
    cfg->interface_count = 1;
}

static int drain(mxrtc_peer *p, mxrtc_time_us now, int *events) {
    for (int i = 0; i < 10000; i++) {
        mxrtc_peer_output o;
        assert_int_equal(mxrtc_peer_poll(p, now, &o), MXRTC_OK);
        if (o.kind == MXRTC_PEER_OUT_DEADLINE) return MXRTC_OK;
        if (events && o.kind == MXRTC_PEER_OUT_EVENT) (*events)++;
    }
    return MXRTC_ERR_INTERNAL;
}

static void test_config(void **state) {
    (void)state;
    mxrtc_peer *p = (mxrtc_peer *)1;
    mxrtc_peer_config cfg;
    base_config(&cfg, "192.0.2.1");
    assert_int_equal(mxrtc_peer_new(NULL, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);
    cfg.size = 3;
    assert_int_equal(mxrtc_peer_new(&p, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);
    assert_null(p);
    base_config(&cfg, "192.0.2.1");
    cfg.interface_count = MXRTC_PEER_MAX_INTERFACES + 1;
    assert_int_equal(mxrtc_peer_new(&p, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);
    base_config(&cfg, "192.0.2.1");
    cfg.video = (mxrtc_direction)9;
    assert_int_equal(mxrtc_peer_new(&p, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_peer_free(NULL);
}

/* mxrtc_peer_local_description: the description with the candidates
 * gathered so far (RFC 8839 §5.1), once each; the stored one unchanged. */
static void test_local_description_with_candidates(void **state) {
    (void)state;
    mxrtc_peer_config cfg;
    base_config(&cfg, "192.0.2.1");
    mxrtc_peer *p;
    assert_int_equal(mxrtc_peer_new(&p, &cfg, 1000), MXRTC_OK);
    char sdp[8192], desc[8192];
    size_t len, dlen;
    assert_int_equal(mxrtc_peer_local_description(p, desc, sizeof desc, &dlen), MXRTC_ERR_STATE);
    assert_int_equal(mxrtc_peer_create_offer(p, 1000, sdp, sizeof sdp, &len), MXRTC_OK);
    assert_int_equal(drain(p, 1000, NULL), MXRTC_OK);
    /* created, not applied: no candidates yet, the same text */
    assert_int_equal(mxrtc_peer_local_description(p, desc, sizeof desc, &dlen), MXRTC_OK);
    assert_int_equal(dlen, len);
    assert_string_equal(desc, sdp);
    assert_int_equal(mxrtc_peer_set_local_description(p, 1000), MXRTC_OK);
    assert_int_equal(drain(p, 1000, NULL), MXRTC_OK);
    assert_int_equal(mxrtc_peer_local_description(p, desc, 10, &dlen), MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_true(dlen > len);
    assert_int_equal(mxrtc_peer_local_description(p, desc, sizeof desc, &dlen), MXRTC_OK);
    assert_int_equal(strlen(desc), dlen);
    const char *c = strstr(desc, "\r\na=candidate:");
    assert_non_null(c);
    assert_non_null(strstr(c, "192.0.2.1 5000 typ host"));
    assert_null(strstr(c + 3, "a=candidate:"));   /* one interface, one line */
    /* twice gives the same text (nothing added to the stored description) */
    char again[8192];
    size_t alen;
    assert_int_equal(mxrtc_peer_local_description(p, again, sizeof again, &alen), MXRTC_OK);
    assert_string_equal(again, desc);
    /* and the next offer built from it carries none of them */
    assert_int_equal(mxrtc_peer_create_offer(p, 2000, sdp, sizeof sdp, &len), MXRTC_OK);
    assert_int_equal(drain(p, 2000, NULL), MXRTC_OK);
    assert_null(strstr(sdp, "a=candidate:"));
    mxrtc_peer_free(p);
}

static void test_drain_rule_and_garbage(void **state) {
    (void)state;
    mxrtc_peer_config cfg;
    base_config(&cfg, "192.0.2.1");
    mxrtc_peer *p;
    assert_int_equal(mxrtc_peer_new(&p, &cfg, 1000), MXRTC_OK);
    char sdp[8192];
    size_t len;
    assert_int_equal(mxrtc_peer_create_offer(p, 1000, sdp, sizeof sdp, &len), MXRTC_OK);
    assert_int_equal(drain(p, 1000, NULL), MXRTC_OK);
    assert_int_equal(mxrtc_peer_set_local_description(p, 1000), MXRTC_OK);
    /* Gathering produced a host candidate event: not drained yet. */
    mxrtc_peer_output o;
    assert_int_equal(mxrtc_peer_poll(p, 1000, &o), MXRTC_OK);
    assert_int_equal(o.kind, MXRTC_PEER_OUT_EVENT);
    assert_int_equal(o.event, MXRTC_PEER_EV_LOCAL_CANDIDATE);
    assert_non_null(strstr(o.text, "192.0.2.1 5000 typ host"));
    assert_int_equal(mxrtc_peer_handle_timeout(p, 2000), MXRTC_ERR_STATE);
    int events = 0;
    assert_int_equal(drain(p, 1000, &events), MXRTC_OK);
    assert_int_equal(mxrtc_peer_handle_timeout(p, 2000), MXRTC_OK);
    assert_int_equal(drain(p, 2000, NULL), MXRTC_OK);

    /* Garbage: unknown first byte, RTP and DTLS before any keys. */
    mxrtc_addr l, r;
    mxrtc_addr_parse(&l, "192.0.2.1", 5000);
    mxrtc_addr_parse(&r, "192.0.2.9", 7000);
    uint8_t junk[40];
    memset(junk, 0xff, sizeof junk);
    assert_int_equal(mxrtc_peer_handle_datagram(p, 3000, &l, &r, junk, sizeof junk), MXRTC_OK);
    assert_int_equal(drain(p, 3000, NULL), MXRTC_OK);
    junk[0] = 0x80;
    junk[1] = 111;
    assert_int_equal(mxrtc_peer_handle_datagram(p, 3000, &l, &r, junk, sizeof junk), MXRTC_OK);
    assert_int_equal(drain(p, 3000, NULL), MXRTC_OK);
    junk[0] = 22;
    assert_int_equal(mxrtc_peer_handle_datagram(p, 3000, &l, &r, junk, sizeof junk), MXRTC_OK);
    assert_int_equal(drain(p, 3000, NULL), MXRTC_OK);
    assert_int_equal(mxrtc_peer_handle_datagram(p, 3000, &l, &r, junk, 0), MXRTC_OK);
    assert_int_equal(drain(p, 3000, NULL), MXRTC_OK);
    mxrtc_peer_stats st = { .size = sizeof st };
    assert_int_equal(mxrtc_peer_get_stats(p, &st), MXRTC_OK);
    assert_int_equal(st.garbage_datagrams, 4);
    st.size = 1;
    assert_int_equal(mxrtc_peer_get_stats(p, &st), MXRTC_ERR_INVALID_ARGUMENT);

    /* Bad remote SDP: refused, the peer unchanged. */
    static const char bad[] = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=audio\r\n";
    assert_int_equal(mxrtc_peer_set_remote_description(p, 4000, MXRTC_SDP_ANSWER, bad, strlen(bad)),
                     MXRTC_ERR_MALFORMED);
    static const char noice[] = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                                "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n";
    assert_int_equal(mxrtc_peer_set_remote_description(p, 4000, MXRTC_SDP_ANSWER, noice, strlen(noice)),
                     MXRTC_ERR_UNSUPPORTED);
    /* An offer while ours is pending (glare) is refused: no rollback yet. */
    assert_int_equal(mxrtc_peer_set_remote_description(p, 4000, MXRTC_SDP_OFFER, sdp, len), MXRTC_ERR_STATE);
    assert_int_equal(mxrtc_peer_create_answer(p, 4000, sdp, sizeof sdp, &len), MXRTC_ERR_STATE);

    /* Buffer too small reports the size needed; nothing else changes. */
    char small[16];
    size_t need = 0;
    assert_int_equal(mxrtc_peer_create_offer(p, 5000, small, sizeof small, &need), MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_true(need > 200);
    assert_int_equal(drain(p, 5000, NULL), MXRTC_OK);
    assert_int_equal(mxrtc_peer_create_offer(p, 5000, sdp, need, &len), MXRTC_OK);
    assert_int_equal(len + 1, need);
    assert_int_equal(drain(p, 5000, NULL), MXRTC_OK);

    /* Media before negotiation is dropped, not an error; wrong sizes are. */
    int16_t pcm[960] = { 0 };
    assert_int_equal(mxrtc_peer_push_audio(p, 6000, pcm, 960), MXRTC_OK);
    assert_int_equal(mxrtc_peer_push_audio(p, 6000, pcm, 100), MXRTC_ERR_INVALID_ARGUMENT);
    int16_t out[480];
    assert_int_equal(mxrtc_peer_pull_audio(p, 6000, out, 480), MXRTC_OK);
    for (int i = 0; i < 480; i++) assert_int_equal(out[i], 0);
    assert_int_equal(mxrtc_peer_close(p, 7000), MXRTC_OK);
    assert_int_equal(drain(p, 7000, NULL), MXRTC_OK);
    assert_int_equal(mxrtc_peer_handle_timeout(p, 8000), MXRTC_ERR_CLOSED);
    mxrtc_peer_free(p);
}

/* An offer we can only reject (PCMU only): answered with port 0, applied
 * without a transport to start. */
static void test_offer_nothing_usable(void **state) {
    (void)state;
    static const char offer[] =
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtcp-mux\r\n"
        "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\n"
        "a=fingerprint:sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:"
        "10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F\r\n"
        "a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n";
    mxrtc_peer_config cfg;
    base_config(&cfg, "192.0.2.1");
    mxrtc_peer *p;
    assert_int_equal(mxrtc_peer_new(&p, &cfg, 1000), MXRTC_OK);
    assert_int_equal(mxrtc_peer_set_remote_description(p, 1000, MXRTC_SDP_OFFER, offer, strlen(offer)), MXRTC_OK);
    assert_int_equal(drain(p, 1000, NULL), MXRTC_OK);
    char sdp[8192];
    size_t len;
    assert_int_equal(mxrtc_peer_create_answer(p, 1000, sdp, sizeof sdp, &len), MXRTC_OK);
    assert_non_null(strstr(sdp, "m=audio 0 "));
    assert_int_equal(drain(p, 1000, NULL), MXRTC_OK);
    assert_int_equal(mxrtc_peer_set_local_description(p, 1000), MXRTC_OK);
    assert_int_equal(drain(p, 1000, NULL), MXRTC_OK);
    assert_int_equal(mxrtc_peer_handle_timeout(p, 500000), MXRTC_OK);
    assert_int_equal(drain(p, 500000, NULL), MXRTC_OK);
    mxrtc_peer_stats st = { .size = sizeof st };
    assert_int_equal(mxrtc_peer_get_stats(p, &st), MXRTC_OK);
    assert_int_equal(st.dtls_state, MXRTC_DTLS_STATE_NEW);
    mxrtc_peer_free(p);
}

/* The answerer's whole setup with the nth allocation failing, for every n. */
static int answer_scenario(const mxrtc_allocator *a, const char *offer, size_t offer_len) {
    mxrtc_peer_config cfg;
    base_config(&cfg, "192.0.2.2");
    cfg.allocator = a;
    cfg.video = MXRTC_DIR_SENDRECV;
    mxrtc_peer *p;
    int rc = mxrtc_peer_new(&p, &cfg, 1000);
    if (rc) return rc;
    char sdp[16384];
    size_t len;
    if (!(rc = mxrtc_peer_set_remote_description(p, 1000, MXRTC_SDP_OFFER, offer, offer_len)) &&
        !(rc = drain(p, 1000, NULL)) && !(rc = mxrtc_peer_create_answer(p, 1000, sdp, sizeof sdp, &len)) &&
        !(rc = drain(p, 1000, NULL)) && !(rc = mxrtc_peer_set_local_description(p, 1000)) &&
        !(rc = drain(p, 1000, NULL)) && !(rc = mxrtc_peer_handle_timeout(p, 200000)))
        rc = drain(p, 200000, NULL);
    mxrtc_peer_free(p);
    return rc;
}

static void test_allocation_failures(void **state) {
    (void)state;
    mxrtc_peer_config cfg;
    base_config(&cfg, "192.0.2.1");
    cfg.video = MXRTC_DIR_SENDRECV;
    mxrtc_peer *o;
    assert_int_equal(mxrtc_peer_new(&o, &cfg, 1000), MXRTC_OK);
    char offer[16384];
    size_t len;
    assert_int_equal(mxrtc_peer_create_offer(o, 1000, offer, sizeof offer, &len), MXRTC_OK);
    mxrtc_peer_free(o);

    test_alloc t;
    test_alloc_init(&t);
    assert_int_equal(answer_scenario(&t.iface, offer, len), MXRTC_OK);
    assert_int_equal(t.live, 0);
    long total = t.total;
    assert_true(total > 5);
    int failed = 0;
    for (long n = 1; n <= total; n++) {
        test_alloc_init(&t);
        test_alloc_fail_nth(&t, n);
        int rc = answer_scenario(&t.iface, offer, len);
        if (rc) failed++;
        assert_true(rc == MXRTC_OK || rc == MXRTC_ERR_NO_MEMORY || t.failures > 0);
        assert_int_equal(t.live, 0);
    }
    assert_true(failed > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_local_description_with_candidates),
        cmocka_unit_test(test_drain_rule_and_garbage),
        cmocka_unit_test(test_offer_nothing_usable),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
