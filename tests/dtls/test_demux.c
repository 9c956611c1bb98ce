/*
 * test_demux.c: RFC 7983 §7 first-byte ranges, every boundary, RTP vs RTCP
 * by RFC 5761 §4, short and empty input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "dtls/dtls.h"

static mxrtc_demux_kind first(uint8_t b) {
    uint8_t p[32] = {0};
    p[0] = b;
    p[1] = 96; /* an RTP payload type, for 128..191 */
    return mxrtc_demux_classify(p, sizeof p);
}

static void ranges_of_rfc7983(void **state) {
    (void)state;
    for (int b = 0; b < 256; b++) {
        mxrtc_demux_kind want = MXRTC_DEMUX_UNKNOWN;
        if (b <= 3) want = MXRTC_DEMUX_STUN;
        else if (b >= 16 && b <= 19) want = MXRTC_DEMUX_ZRTP;
        else if (b >= 20 && b <= 63) want = MXRTC_DEMUX_DTLS;
        else if (b >= 64 && b <= 79) want = MXRTC_DEMUX_TURN_CHANNEL;
        else if (b >= 128 && b <= 191) want = MXRTC_DEMUX_RTP;
        assert_int_equal(first((uint8_t)b), want);
    }
    /* Boundaries spelled out. */
    assert_int_equal(first(3), MXRTC_DEMUX_STUN);
    assert_int_equal(first(4), MXRTC_DEMUX_UNKNOWN);
    assert_int_equal(first(15), MXRTC_DEMUX_UNKNOWN);
    assert_int_equal(first(20), MXRTC_DEMUX_DTLS);
    assert_int_equal(first(63), MXRTC_DEMUX_DTLS);
    assert_int_equal(first(64), MXRTC_DEMUX_TURN_CHANNEL);
    assert_int_equal(first(79), MXRTC_DEMUX_TURN_CHANNEL);
    assert_int_equal(first(80), MXRTC_DEMUX_UNKNOWN);
    assert_int_equal(first(127), MXRTC_DEMUX_UNKNOWN);
    assert_int_equal(first(192), MXRTC_DEMUX_UNKNOWN);
}

static void rtp_or_rtcp(void **state) {
    (void)state;
    uint8_t p[12] = {0x80};
    for (int b = 0; b < 256; b++) {
        p[1] = (uint8_t)b;
        mxrtc_demux_kind k = mxrtc_demux_classify(p, sizeof p);
        /* RFC 5761 §4: 192..223 are RTCP packet types (SR 200, RR 201,
         * SDES 202, BYE 203, APP 204, RTPFB 205, PSFB 206, XR 207). */
        assert_int_equal(k, (b >= 192 && b <= 223) ? MXRTC_DEMUX_RTCP : MXRTC_DEMUX_RTP);
    }
    /* Marker bit set on PT 111 (Opus) is 239: still RTP. */
    p[1] = 0x80 | 111;
    assert_int_equal(mxrtc_demux_classify(p, 12), MXRTC_DEMUX_RTP);
}

static void short_and_empty(void **state) {
    (void)state;
    assert_int_equal(mxrtc_demux_classify(NULL, 0), MXRTC_DEMUX_UNKNOWN);
    static const uint8_t one[1] = {0x00};
    assert_int_equal(mxrtc_demux_classify(one, 0), MXRTC_DEMUX_UNKNOWN);
    assert_int_equal(mxrtc_demux_classify(one, 1), MXRTC_DEMUX_STUN);
    static const uint8_t rtp[12] = {0x80, 96};
    assert_int_equal(mxrtc_demux_classify(rtp, 11), MXRTC_DEMUX_UNKNOWN);
    assert_int_equal(mxrtc_demux_classify(rtp, 1), MXRTC_DEMUX_UNKNOWN);
    static const uint8_t rr[8] = {0x80, 201, 0, 1};
    assert_int_equal(mxrtc_demux_classify(rr, 8), MXRTC_DEMUX_RTCP);
    assert_int_equal(mxrtc_demux_classify(rr, 7), MXRTC_DEMUX_UNKNOWN);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ranges_of_rfc7983),
        cmocka_unit_test(rtp_or_rtcp),
        cmocka_unit_test(short_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
