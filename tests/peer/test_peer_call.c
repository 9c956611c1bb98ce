/*
 * test_peer_call.c: two mxrtc peers call each other over the simulated
 * network (tests/support/simnet.h) on a virtual clock, with offer/answer
 * and trickled candidates carried by the test. Media is checked by content:
 * a tone's frequency (Goertzel peak, ±2 %) and a solid colour (±3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "peer_harness.h"

#define SDP_CAP 16384

static char offer[SDP_CAP], answer[SDP_CAP];

static void assert_tone(const h_side *s, double hz) {
    double rms;
    double peak = h_peak(s, 1000, &rms);
    print_message("peak %.1f Hz (want %.0f), rms %.0f\n", peak, hz, rms);
    assert_true(rms > 500);
    assert_true(peak > hz * 0.98 && peak < hz * 1.02);
}

static void assert_colour(const h_side *s, const uint8_t c[3]) {
    print_message("frames %llu, last %dx%d Y %.1f U %.1f V %.1f\n", (unsigned long long)s->video_frames,
                  s->last_w, s->last_h, s->last_y, s->last_u, s->last_v);
    assert_true(s->video_frames > 0);
    assert_int_equal(s->last_w, 160);
    assert_int_equal(s->last_h, 120);
    assert_true(s->last_y > c[0] - 3.0 && s->last_y < c[0] + 3.0);
    assert_true(s->last_u > c[1] - 3.0 && s->last_u < c[1] + 3.0);
    assert_true(s->last_v > c[2] - 3.0 && s->last_v < c[2] + 3.0);
}

static void start_audio(harness *h) {
    h->s[0].tone_hz = 1000;
    h->s[1].tone_hz = 440;
}

static void start_video(harness *h) {
    h->s[0].send_video = h->s[1].send_video = true;
    memcpy(h->s[0].colour, (uint8_t[3]){ 180, 60, 200 }, 3);
    memcpy(h->s[1].colour, (uint8_t[3]){ 50, 170, 90 }, 3);
}

/* (a) audio both ways, (g) DTLS roles. */
static void test_audio_call(void **state) {
    (void)state;
    harness h;
    h_init(&h, 1, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_NONE);
    start_audio(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    /* RFC 8842 §5.2: the offerer says actpass; we answer active (DTLS client). */
    assert_non_null(strstr(offer, "a=setup:actpass"));
    assert_non_null(strstr(answer, "a=setup:active"));
    assert_null(strstr(offer, "m=video"));
    h_run(&h, h.now + 4000000);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h.s[i].state, MXRTC_PEER_STATE_CONNECTED);
        assert_int_equal(h.s[i].dtls_state, MXRTC_DTLS_STATE_CONNECTED);
        assert_int_equal(h.s[i].remote_tracks[MXRTC_MEDIA_AUDIO], 1);
        assert_true(h.s[i].local_candidates >= 1);
        assert_int_equal(h.s[i].gathering_done, 1);
    }
    assert_tone(&h.s[1], 1000);
    assert_tone(&h.s[0], 440);
    mxrtc_peer_stats st = { .size = sizeof st };
    assert_int_equal(mxrtc_peer_get_stats(h.s[0].p, &st), MXRTC_OK);
    assert_true(st.audio_out.packets > 100);
    assert_true(st.audio_in.packets > 100);
    assert_true(st.audio_out.rtt_us > 30000 && st.audio_out.rtt_us < 200000);
    assert_int_equal(st.audio_in.packets_lost, 0);
    assert_int_equal(st.srtp_failures, 0);
    h_free(&h);
}

/* (b) video both ways, with audio. */
static void test_video_call(void **state) {
    (void)state;
    harness h;
    h_init(&h, 2, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_SENDRECV);
    start_audio(&h);
    start_video(&h);
    h_negotiate(&h, 1, offer, SDP_CAP, answer, SDP_CAP);
    assert_non_null(strstr(offer, "m=video"));
    h_run(&h, h.now + 4000000);
    for (int i = 0; i < 2; i++) assert_int_equal(h.s[i].remote_tracks[MXRTC_MEDIA_VIDEO], 1);
    assert_colour(&h.s[0], h.s[1].colour);
    assert_colour(&h.s[1], h.s[0].colour);
    assert_tone(&h.s[1], 1000);
    assert_tone(&h.s[0], 440);
    h_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audio_call),
        cmocka_unit_test(test_video_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
