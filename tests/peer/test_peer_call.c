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
#include "peer/peer.h"
#include "rtp/rtp.h"
#include "dtls/dtls.h"

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
    /* PEER_FUZZ_DUMP=dir records seeds for fuzz_peer_datagram/_remote_sdp. */
    const char *dump = getenv("PEER_FUZZ_DUMP");
    char path[512];
    if (dump) {
        snprintf(path, sizeof path, "%s/audio_call", dump);
        h.dump = fopen(path, "wb");
        h.dump_last = h.now;
    }
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    if (dump) {
        snprintf(path, sizeof path, "%s/mxrtc_offer", dump);
        FILE *f = fopen(path, "wb");
        fputc(1, f);
        fputs(offer, f);
        fclose(f);
        snprintf(path, sizeof path, "%s/mxrtc_answer", dump);
        f = fopen(path, "wb");
        fputc(0, f);
        fputs(answer, f);
        fclose(f);
    }
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
        assert_true(h.s[i].stats_events >= 4);
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
    if (h.dump) fclose(h.dump);
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


/* The webrtc color-space header extension (Chromium tags its canvas capture
 * BT.709 full range with it): negotiated by id for video, and the value a
 * received packet carries is kept for the host. A's video packet is built
 * by hand with the extension and protected with A's own SRTP session. */
static void test_colour_space_extension(void **state) {
    (void)state;
    harness h;
    h_init(&h, 13, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_SENDRECV);
    start_audio(&h);
    start_video(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    assert_non_null(strstr(offer, "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space"));
    h_run(&h, h.now + 2000000);
    mxrtc_peer *a = h.s[0].p, *b = h.s[1].p;
    assert_int_equal(b->video_sec.colour_ext, 8);
    uint8_t cs[4];
    /* mxrtc itself sends untagged BT.601 limited range. */
    assert_int_equal(mxrtc_peer_video_colour_space(b, cs), MXRTC_ERR_NOT_FOUND);
    assert_non_null(a->srtp);
    mxrtc_rtp_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.pt = a->video_sec.pt;
    pkt.seq = (uint16_t)(a->vtx.seq + 1000);
    pkt.ts = 1234;
    pkt.ssrc = a->vtx.ssrc;
    const uint8_t bt709_full[4] = {1, 1, 1, 2 << 4};   /* primaries, transfer, matrix BT.709; range full */
    assert_int_equal(mxrtc_rtp_add_ext(&pkt, 8, bt709_full, 4), MXRTC_OK);
    const uint8_t payload[4] = {0x10, 0, 0, 0};         /* a VP8 descriptor, S bit */
    pkt.payload = payload;
    pkt.payload_len = sizeof payload;
    uint8_t buf[256];
    int n = mxrtc_rtp_write(&pkt, buf, sizeof buf);
    assert_true(n > 0);
    size_t len = 0;
    assert_int_equal(mxrtc_srtp_protect_rtp(a->srtp, buf, (size_t)n, sizeof buf, &len), MXRTC_OK);
    assert_int_equal(mxrtc_peer_handle_datagram(b, h.now, &h.s[1].addr, &h.s[0].addr, buf, len), MXRTC_OK);
    h_drain(&h, 1);
    assert_int_equal(mxrtc_peer_video_colour_space(b, cs), MXRTC_OK);
    assert_memory_equal(cs, bt709_full, 4);
    assert_int_equal(mxrtc_peer_video_colour_space(NULL, cs), MXRTC_ERR_INVALID_ARGUMENT);
    h_free(&h);
}

/* Puts VP9 (and its RTX) before VP8 on the m=video line, so the answerer
 * picks it: RFC 3264 §6.1, the answer keeps the offer's preference order. */
static size_t prefer_vp9(char *sdp, size_t cap) {
    char *m = strstr(sdp, "m=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99");
    assert_non_null(m);
    memcpy(m + strlen("m=video 9 UDP/TLS/RTP/SAVPF "), "98 99 96 97", 11);
    (void)cap;
    return strlen(sdp);
}

/* (b) with VP9 negotiated. */
static void test_vp9_call(void **state) {
    (void)state;
    harness h;
    h_init(&h, 9, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_SENDRECV);
    h.munge_offer = prefer_vp9;
    start_video(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    assert_non_null(strstr(answer, "m=video 9 UDP/TLS/RTP/SAVPF 98"));
    assert_non_null(strstr(answer, "VP9/90000"));
    h_run(&h, h.now + 3000000);
    assert_colour(&h.s[0], h.s[1].colour);
    assert_colour(&h.s[1], h.s[0].colour);
    mxrtc_peer_stats sa = { .size = sizeof sa }, sb = { .size = sizeof sb };
    assert_int_equal(mxrtc_peer_get_stats(h.s[0].p, &sa), MXRTC_OK);
    assert_int_equal(mxrtc_peer_get_stats(h.s[1].p, &sb), MXRTC_OK);
    print_message("VP9: A sent %llu frames, B decoded %llu\n", (unsigned long long)sa.video_out.frames,
                  (unsigned long long)sb.video_in.frames);
    assert_true(sb.video_in.frames * 10 >= sa.video_out.frames * 9);
    h_free(&h);
}

/* Encoded media pushed by the host (Opus packets, VP8 frames it encoded),
 * decoded by the receiving peer. */
static void test_push_encoded(void **state) {
    (void)state;
    harness h;
    h_init(&h, 10, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_SENDRECV);
    start_audio(&h);
    start_video(&h);
    h.s[0].encoded = true;
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    h_run(&h, h.now + 3000000);
    assert_tone(&h.s[1], 1000);
    assert_colour(&h.s[1], h.s[0].colour);
    assert_tone(&h.s[0], 440);
    h_free(&h);
}

/* Trickled candidates that arrive before the offer are kept and used: the
 * offer carries none and A never hears of B's, so only B's checks to A's
 * early candidate can start the call (A then learns B peer-reflexively). */
static void test_early_trickle(void **state) {
    (void)state;
    harness h;
    h_init(&h, 12, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_NONE);
    h.early_trickle = true;
    h.withhold[0] = true;
    start_audio(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    assert_null(strstr(offer, "a=candidate"));
    h_run(&h, h.now + 2000000);
    for (int i = 0; i < 2; i++) assert_int_equal(h.s[i].state, MXRTC_PEER_STATE_CONNECTED);
    assert_tone(&h.s[1], 1000);
    h_free(&h);
}

/* The answer reaches the offerer 300 ms after the answerer has it. The
 * answerer (DTLS client) finds a valid pair meanwhile and, as RFC 8445 §12.1
 * allows, sends its ClientHello on it: it reaches the offerer before the
 * offerer knows its DTLS role. The offerer keeps it and answers as soon as
 * the answer gives it the server role, instead of waiting for the client's
 * retransmission (1 s, RFC 6347 §4.2.4.1). */
static void test_client_hello_before_answer(void **state) {
    (void)state;
    harness h;
    h_init(&h, 13, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_NONE);
    h.answer_delay = 300000;
    start_audio(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    /* The ClientHello went out during the delay: the answerer is already
     * CONNECTING. */
    assert_int_equal(h.s[1].dtls_state, MXRTC_DTLS_STATE_CONNECTING);
    /* Two round trips of ~85 ms from here (the offerer's own check, then
     * flights 2-6); the client's first retransmission would only leave
     * 1 s after its ClientHello, about 700 ms from now. */
    h_run(&h, h.now + 400000);
    for (int i = 0; i < 2; i++) assert_int_equal(h.s[i].dtls_state, MXRTC_DTLS_STATE_CONNECTED);
    h_run(&h, h.now + 2000000);
    for (int i = 0; i < 2; i++) assert_int_equal(h.s[i].state, MXRTC_PEER_STATE_CONNECTED);
    assert_tone(&h.s[1], 1000);
    assert_tone(&h.s[0], 440);
    h_free(&h);
}

static uint64_t audio_sent(const h_side *s) {
    mxrtc_peer_stats st = { .size = sizeof st };
    assert_int_equal(mxrtc_peer_get_stats(s->p, &st), MXRTC_OK);
    return st.audio_out.packets;
}

/* Audio is pushed in 10 ms pieces and sent in 20 ms Opus frames. While a
 * peer cannot send yet it keeps the latest partial frame, so the first push
 * after SRTP is keyed completes a frame and sends it: on each side, the
 * first media tick at or after the DTLS handshake's end sends a packet. */
static void test_first_audio_on_first_push_after_keying(void **state) {
    (void)state;
    harness h;
    h_init(&h, 14, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_NONE);
    start_audio(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    bool keyed[2] = { false, false }, checked[2] = { false, false };
    uint64_t ticks_at_key[2] = { 0, 0 };
    while (!(checked[0] && checked[1])) {
        assert_true(h.now < 5000000);
        uint64_t ticks_before = h.ticks;
        /* One instant: datagrams and timeouts, then the media tick if due. */
        h_run(&h, h.now + 1);
        for (int i = 0; i < 2; i++) {
            if (!keyed[i] && h.s[i].dtls_state == MXRTC_DTLS_STATE_CONNECTED) {
                keyed[i] = true;
                assert_int_equal(audio_sent(&h.s[i]), h.ticks != ticks_before ? 1 : 0);
                ticks_at_key[i] = ticks_before;
            }
            if (keyed[i] && !checked[i] && h.ticks > ticks_at_key[i]) {
                assert_int_equal(audio_sent(&h.s[i]), 1);
                checked[i] = true;
            }
        }
    }
    h_free(&h);
}

/* (c) both behind port-restricted NATs: server-reflexive candidates from the
 * simnet STUN server make the path. */
static void test_nat_call(void **state) {
    (void)state;
    harness h;
    h_init(&h, 3, true, MXRTC_DIR_SENDRECV, MXRTC_DIR_NONE);
    start_audio(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    h_run(&h, h.now + 5000000);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h.s[i].state, MXRTC_PEER_STATE_CONNECTED);
        assert_true(h.s[i].local_candidates >= 2);   /* host + srflx */
    }
    assert_true(simnet_get_stats(h.net)->stun_answered >= 2);
    assert_tone(&h.s[1], 1000);
    assert_tone(&h.s[0], 440);
    h_free(&h);
}

/* Relay only through the simnet TURN server, both behind symmetric NATs:
 * every media byte goes through the TURN allocations (ICE unwraps it and
 * the peer processes it after draining ICE). */
static void test_relay_call(void **state) {
    (void)state;
    harness h;
    h_init_relay(&h, 8);
    start_audio(&h);
    start_video(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    h_run(&h, h.now + 5000000);
    for (int i = 0; i < 2; i++) assert_int_equal(h.s[i].state, MXRTC_PEER_STATE_CONNECTED);
    assert_true(simnet_turn_relayed(h.net) > 200);
    assert_tone(&h.s[1], 1000);
    assert_tone(&h.s[0], 440);
    assert_colour(&h.s[0], h.s[1].colour);
    assert_colour(&h.s[1], h.s[0].colour);
    h_free(&h);
}

/* (d) 5 % loss each way on every link: audio conceals, video recovers with
 * PLI keyframes; NACKs are sent and answered with RTX. */
static void test_lossy_call(void **state) {
    (void)state;
    harness h;
    h_init(&h, 4, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_SENDRECV);
    simnet_link l = { .delay = 20000, .jitter = 2000, .loss = 0.05 };
    simnet_set_host_link(h.net, h.s[0].host, &l);
    simnet_set_host_link(h.net, h.s[1].host, &l);
    start_audio(&h);
    start_video(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    h_run(&h, h.now + 8000000);
    assert_true(simnet_get_stats(h.net)->lost > 50);
    assert_tone(&h.s[1], 1000);
    assert_tone(&h.s[0], 440);
    assert_colour(&h.s[0], h.s[1].colour);
    assert_colour(&h.s[1], h.s[0].colour);
    mxrtc_peer_stats st = { .size = sizeof st };
    assert_int_equal(mxrtc_peer_get_stats(h.s[1].p, &st), MXRTC_OK);
    print_message("lost %lld concealed %llu nacks %llu plis %llu retransmitted(by A) ...\n",
                  (long long)st.audio_in.packets_lost, (unsigned long long)st.audio_in.concealed_samples,
                  (unsigned long long)st.video_in.nacks, (unsigned long long)st.video_in.plis);
    assert_true(st.audio_in.packets_lost > 0);
    assert_true(st.audio_in.concealed_samples > 0);
    assert_true(st.video_in.nacks > 0);
    mxrtc_peer_stats sa = { .size = sizeof sa };
    assert_int_equal(mxrtc_peer_get_stats(h.s[0].p, &sa), MXRTC_OK);
    print_message("A sent %llu frames, B decoded %llu; A nacked %llu, retransmitted %llu\n",
                  (unsigned long long)sa.video_out.frames, (unsigned long long)st.video_in.frames,
                  (unsigned long long)sa.video_out.nacks, (unsigned long long)sa.video_out.retransmitted);
    assert_true(sa.video_out.nacks > 0);
    /* NACK/RTX and the reorder stage repair most losses. */
    assert_true(st.video_in.frames * 10 >= sa.video_out.frames * 8);
    assert_true(sa.video_out.retransmitted > 0);
    h_free(&h);
}

/* (e) a voice call upgraded to video by a second offer from either side. */
static void renegotiate(int upgrader) {
    harness h;
    h_init(&h, 5, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_NONE);
    start_audio(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    h_run(&h, h.now + 2000000);
    assert_int_equal(h.s[0].state, MXRTC_PEER_STATE_CONNECTED);
    /* Both sides turn video on (the answerer as an app would on the remote
     * track event), then the upgrader offers again. */
    for (int i = 0; i < 2; i++)
        assert_int_equal(mxrtc_peer_set_direction(h.s[i].p, MXRTC_MEDIA_VIDEO, MXRTC_DIR_SENDRECV), MXRTC_OK);
    start_video(&h);
    h_negotiate(&h, upgrader, offer, SDP_CAP, answer, SDP_CAP);
    assert_non_null(strstr(offer, "m=audio"));
    assert_non_null(strstr(offer, "m=video"));
    assert_true(strstr(offer, "m=audio") < strstr(offer, "m=video"));   /* RFC 8829 §5.2.2: order kept */
    h_run(&h, h.now + 3000000);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h.s[i].state, MXRTC_PEER_STATE_CONNECTED);
        assert_int_equal(h.s[i].remote_tracks[MXRTC_MEDIA_VIDEO], 1);
    }
    assert_colour(&h.s[0], h.s[1].colour);
    assert_colour(&h.s[1], h.s[0].colour);
    assert_tone(&h.s[1], 1000);
    assert_tone(&h.s[0], 440);
    h_free(&h);
}
static void test_renegotiate_add_video(void **state) {
    (void)state;
    renegotiate(0);
    renegotiate(1);
}

/* Hold: the offerer goes sendonly, the answer is recvonly; the holder
 * keeps sending, the other side stops. Then an ICE restart (new ufrag)
 * keeps DTLS/SRTP and media. */
static void test_hold_and_ice_restart(void **state) {
    (void)state;
    harness h;
    h_init(&h, 6, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_NONE);
    start_audio(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    h_run(&h, h.now + 2000000);
    assert_int_equal(mxrtc_peer_set_direction(h.s[0].p, MXRTC_MEDIA_AUDIO, MXRTC_DIR_SENDONLY), MXRTC_OK);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    assert_non_null(strstr(offer, "a=sendonly"));
    assert_non_null(strstr(answer, "a=recvonly"));
    mxrtc_peer_stats st = { .size = sizeof st };
    assert_int_equal(mxrtc_peer_get_stats(h.s[1].p, &st), MXRTC_OK);
    uint64_t b_sent = st.audio_out.packets;
    h_run(&h, h.now + 2000000);
    assert_int_equal(mxrtc_peer_get_stats(h.s[1].p, &st), MXRTC_OK);
    assert_int_equal(st.audio_out.packets, b_sent);   /* B is held: sends nothing */
    assert_tone(&h.s[1], 1000);                       /* A still reaches B */
    /* Resume with an ICE restart. */
    assert_int_equal(mxrtc_peer_set_direction(h.s[0].p, MXRTC_MEDIA_AUDIO, MXRTC_DIR_SENDRECV), MXRTC_OK);
    assert_int_equal(mxrtc_peer_restart_ice(h.s[0].p), MXRTC_OK);
    char old_offer[SDP_CAP];
    memcpy(old_offer, offer, SDP_CAP);
    const char *u = strstr(old_offer, "a=ice-ufrag:");
    assert_non_null(u);
    char ufrag[64];
    sscanf(u, "a=ice-ufrag:%63s", ufrag);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    assert_null(strstr(offer, ufrag));   /* new credentials */
    h_run(&h, h.now + 3000000);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h.s[i].state, MXRTC_PEER_STATE_CONNECTED);
        assert_int_equal(h.s[i].dtls_state, MXRTC_DTLS_STATE_CONNECTED);
    }
    assert_tone(&h.s[1], 1000);
    assert_tone(&h.s[0], 440);
    /* And a restart offered by the other side: A sees a new remote ufrag
     * in the offer and restarts too. */
    u = strstr(answer, "a=ice-ufrag:");
    char ufrag_b[64], ufrag_a[64];
    sscanf(u, "a=ice-ufrag:%63s", ufrag_b);
    u = strstr(offer, "a=ice-ufrag:");
    sscanf(u, "a=ice-ufrag:%63s", ufrag_a);
    assert_int_equal(mxrtc_peer_restart_ice(h.s[1].p), MXRTC_OK);
    h_negotiate(&h, 1, offer, SDP_CAP, answer, SDP_CAP);
    assert_null(strstr(offer, ufrag_b));
    assert_null(strstr(answer, ufrag_a));
    h_run(&h, h.now + 3000000);
    for (int i = 0; i < 2; i++) assert_int_equal(h.s[i].state, MXRTC_PEER_STATE_CONNECTED);
    assert_tone(&h.s[1], 1000);
    assert_tone(&h.s[0], 440);
    h_free(&h);
}

/* Replaces the first occurrence of from in buf (same length) in place. */
static void swap_text(char *buf, const char *from, const char *to) {
    char *at = strstr(buf, from);
    assert_non_null(at);
    assert_int_equal(strlen(from), strlen(to));
    memcpy(at, to, strlen(to));
}

/* What Element does to a call mxrtc placed: A offered actpass, B answered
 * active (A is the DTLS server). B then holds and resumes with offers that
 * say actpass again, as Chromium's subsequent offers do. A's answers keep
 * its role, passive (RFC 8842 §5.3): active would ask for a new DTLS
 * association, which Chromium refuses ("Failed to set SSL role"). And the
 * recvonly answer to the hold keeps A's a=msid and a=ssrc (RFC 8829
 * §5.3.1), so that B keeps its receive stream for A's SSRC. */
static void test_remote_hold_keeps_dtls_role_and_ssrc(void **state) {
    (void)state;
    harness h;
    h_init(&h, 12, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_NONE);
    start_audio(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    assert_non_null(strstr(offer, "a=setup:actpass"));
    assert_non_null(strstr(answer, "a=setup:active"));
    h_run(&h, h.now + 2000000);
    char ssrc_line[64];
    const char *u = strstr(offer, "a=ssrc:");
    assert_non_null(u);
    sscanf(u, "%63s", ssrc_line);   /* "a=ssrc:<A's SSRC>" */
    assert_int_equal(mxrtc_peer_set_direction(h.s[1].p, MXRTC_MEDIA_AUDIO, MXRTC_DIR_SENDONLY), MXRTC_OK);
    h_negotiate(&h, 1, offer, SDP_CAP, answer, SDP_CAP);
    assert_non_null(strstr(offer, "a=setup:actpass"));
    assert_non_null(strstr(answer, "a=setup:passive"));
    assert_null(strstr(answer, "a=setup:active"));
    assert_non_null(strstr(answer, "a=recvonly"));
    assert_non_null(strstr(answer, ssrc_line));
    assert_non_null(strstr(answer, "a=msid:"));
    h_run(&h, h.now + 2000000);
    assert_int_equal(mxrtc_peer_set_direction(h.s[1].p, MXRTC_MEDIA_AUDIO, MXRTC_DIR_SENDRECV), MXRTC_OK);
    assert_int_equal(mxrtc_peer_restart_ice(h.s[1].p), MXRTC_OK);
    h_negotiate(&h, 1, offer, SDP_CAP, answer, SDP_CAP);
    assert_non_null(strstr(answer, "a=setup:passive"));
    assert_non_null(strstr(answer, "a=sendrecv"));
    assert_non_null(strstr(answer, ssrc_line));
    h_run(&h, h.now + 3000000);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h.s[i].state, MXRTC_PEER_STATE_CONNECTED);
        assert_int_equal(h.s[i].dtls_state, MXRTC_DTLS_STATE_CONNECTED);
    }
    assert_tone(&h.s[1], 1000);
    assert_tone(&h.s[0], 440);
    h_free(&h);
}

/* A description that claims our side of the established DTLS association
 * would need a new association: refused with MXRTC_ERR_UNSUPPORTED, and the
 * peer goes on as before (the right answer is still taken). */
static void test_dtls_role_change_refused(void **state) {
    (void)state;
    harness h;
    h_init(&h, 13, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_NONE);
    start_audio(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);   /* B active: A is the server */
    h_run(&h, h.now + 2000000);
    mxrtc_peer *a = h.s[0].p, *b = h.s[1].p;
    size_t olen = 0, alen = 0;
    /* A offers again; B's answer, munged to passive, would make A the client. */
    assert_int_equal(mxrtc_peer_create_offer(a, h.now, offer, SDP_CAP, &olen), MXRTC_OK);
    h_drain(&h, 0);
    assert_int_equal(mxrtc_peer_set_local_description(a, h.now), MXRTC_OK);
    h_drain(&h, 0);
    assert_non_null(strstr(offer, "a=setup:actpass"));   /* RFC 8842 §5.2 */
    assert_int_equal(mxrtc_peer_set_remote_description(b, h.now, MXRTC_SDP_OFFER, offer, olen), MXRTC_OK);
    h_drain(&h, 1);
    assert_int_equal(mxrtc_peer_create_answer(b, h.now, answer, SDP_CAP, &alen), MXRTC_OK);
    h_drain(&h, 1);
    assert_int_equal(mxrtc_peer_set_local_description(b, h.now), MXRTC_OK);
    h_drain(&h, 1);
    char bad[SDP_CAP];
    memcpy(bad, answer, SDP_CAP);
    char *at = strstr(bad, "a=setup:active");
    assert_non_null(at);
    memmove(at + strlen("a=setup:passive"), at + strlen("a=setup:active"), strlen(at + strlen("a=setup:active")) + 1);
    memcpy(at, "a=setup:passive", strlen("a=setup:passive"));
    assert_int_equal(mxrtc_peer_set_remote_description(a, h.now, MXRTC_SDP_ANSWER, bad, strlen(bad)),
                     MXRTC_ERR_UNSUPPORTED);
    h_drain(&h, 0);
    assert_int_equal(mxrtc_peer_set_remote_description(a, h.now, MXRTC_SDP_ANSWER, answer, alen), MXRTC_OK);
    h_drain(&h, 0);
    /* And a remote offer claiming the server role A holds. */
    assert_int_equal(mxrtc_peer_create_offer(b, h.now, offer, SDP_CAP, &olen), MXRTC_OK);
    h_drain(&h, 1);
    memcpy(bad, offer, SDP_CAP);
    at = strstr(bad, "a=setup:actpass");
    assert_non_null(at);
    swap_text(at, "a=setup:actpass", "a=setup:passive");
    assert_int_equal(mxrtc_peer_set_remote_description(a, h.now, MXRTC_SDP_OFFER, bad, strlen(bad)),
                     MXRTC_ERR_UNSUPPORTED);
    h_drain(&h, 0);
    h_run(&h, h.now + 2000000);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h.s[i].state, MXRTC_PEER_STATE_CONNECTED);
        assert_int_equal(h.s[i].dtls_state, MXRTC_DTLS_STATE_CONNECTED);
    }
    assert_tone(&h.s[1], 1000);
    assert_tone(&h.s[0], 440);
    h_free(&h);
}

/* The path dies: consent checks go unanswered (RFC 7675): DISCONNECTED,
 * then FAILED after 30 s. */
static void test_path_lost(void **state) {
    (void)state;
    harness h;
    h_init(&h, 11, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_NONE);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    h_run(&h, h.now + 2000000);
    assert_int_equal(h.s[0].state, MXRTC_PEER_STATE_CONNECTED);
    simnet_link dead = { .loss = 1.0 };
    simnet_set_host_link(h.net, h.s[1].host, &dead);
    h_run(&h, h.now + 15000000);
    assert_int_equal(h.s[0].state, MXRTC_PEER_STATE_DISCONNECTED);
    h_run(&h, h.now + 25000000);
    assert_int_equal(h.s[0].state, MXRTC_PEER_STATE_FAILED);
    h_free(&h);
}

/* (f) close from either side: RTCP BYE and close_notify reach the other
 * side, which goes CLOSED too. */
static void close_from(int closer) {
    harness h;
    h_init(&h, 7, false, MXRTC_DIR_SENDRECV, MXRTC_DIR_NONE);
    start_audio(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    h_run(&h, h.now + 2000000);
    h.s[0].tone_hz = h.s[1].tone_hz = 0;
    assert_int_equal(mxrtc_peer_close(h.s[closer].p, h.now), MXRTC_OK);
    h_drain(&h, closer);
    assert_int_equal(h.s[closer].state, MXRTC_PEER_STATE_CLOSED);
    assert_int_equal(mxrtc_peer_close(h.s[closer].p, h.now), MXRTC_ERR_CLOSED);
    h_run(&h, h.now + 500000);
    assert_int_equal(h.s[1 - closer].state, MXRTC_PEER_STATE_CLOSED);
    assert_int_equal(h.s[1 - closer].dtls_state, MXRTC_DTLS_STATE_CLOSED);
    h_free(&h);
}
static void test_close_either_side(void **state) {
    (void)state;
    close_from(0);
    close_from(1);
}

/* (g) close with TURN allocations: mxrtc_peer_close (and, on the other
 * side, the close_notify it receives) releases them with a Refresh of
 * LIFETIME 0; the peer stays fed (the harness keeps handing it datagrams and
 * timeouts) until its deadline says MXRTC_TIME_NEVER, which comes within
 * the 2 s bound even when the server never answers. */
#define TEARDOWN_BOUND 2000000

static void test_close_releases_relays(void **state) {
    (void)state;
    harness h;
    h_init_relay(&h, 9);
    start_audio(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    h_run(&h, h.now + 4000000);
    for (int i = 0; i < 2; i++) assert_int_equal(h.s[i].state, MXRTC_PEER_STATE_CONNECTED);
    assert_int_equal(simnet_turn_live_allocations(h.net, h.now), 2);
    h.s[0].tone_hz = h.s[1].tone_hz = 0;
    mxrtc_time_us t0 = h.now;
    assert_int_equal(mxrtc_peer_close(h.s[0].p, h.now), MXRTC_OK);
    h_drain(&h, 0);
    /* Tearing down: a deadline within the bound, not NEVER yet. */
    assert_true(h.s[0].deadline <= t0 + TEARDOWN_BOUND);
    mxrtc_peer_stats st;
    memset(&st, 0, sizeof st);
    st.size = sizeof st;
    assert_int_equal(mxrtc_peer_get_stats(h.s[0].p, &st), MXRTC_OK);
    assert_int_equal(st.closing, 1);
    /* Everything but the TURN server's answers is refused meanwhile. */
    uint8_t rtp[12] = {0x80, 0x60};
    mxrtc_addr other = h.s[1].addr;
    assert_int_equal(mxrtc_peer_handle_datagram(h.s[0].p, h.now, &h.s[0].addr, &other, rtp, sizeof rtp),
                     MXRTC_ERR_CLOSED);
    h_run(&h, t0 + TEARDOWN_BOUND + 1);
    /* Both sides closed (side 1 by the close_notify through the relays), both
     * allocations are gone from the server, both teardowns are over. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(h.s[i].state, MXRTC_PEER_STATE_CLOSED);
        assert_int_equal(h.s[i].deadline, MXRTC_TIME_NEVER);
        assert_int_equal(mxrtc_peer_handle_timeout(h.s[i].p, h.now), MXRTC_ERR_CLOSED);
    }
    assert_int_equal(simnet_turn_deallocations(h.net), 2);
    assert_int_equal(simnet_turn_live_allocations(h.net, h.now), 0);
    assert_int_equal(mxrtc_peer_get_stats(h.s[0].p, &st), MXRTC_OK);
    assert_int_equal(st.closing, 0);
    h_free(&h);
}

static void test_close_teardown_bounded(void **state) {
    (void)state;
    harness h;
    h_init_relay(&h, 10);
    start_audio(&h);
    h_negotiate(&h, 0, offer, SDP_CAP, answer, SDP_CAP);
    h_run(&h, h.now + 4000000);
    assert_int_equal(h.s[0].state, MXRTC_PEER_STATE_CONNECTED);
    h.s[0].tone_hz = h.s[1].tone_hz = 0;
    /* Side 0's network dies as it hangs up: nothing it sends arrives. */
    simnet_link dead = {.loss = 1.0};
    simnet_set_host_link(h.net, h.s[0].host, &dead);
    mxrtc_time_us t0 = h.now;
    assert_int_equal(mxrtc_peer_close(h.s[0].p, h.now), MXRTC_OK);
    h_drain(&h, 0);
    assert_true(h.s[0].deadline != MXRTC_TIME_NEVER);
    h_run(&h, t0 + TEARDOWN_BOUND + 1);
    assert_int_equal(h.s[0].deadline, MXRTC_TIME_NEVER);
    /* The Refresh was lost: the server keeps both allocations (they expire). */
    assert_int_equal(simnet_turn_deallocations(h.net), 0);
    assert_int_equal(simnet_turn_live_allocations(h.net, h.now), 2);
    h_free(&h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audio_call),
        cmocka_unit_test(test_video_call),
        cmocka_unit_test(test_vp9_call),
        cmocka_unit_test(test_colour_space_extension),
        cmocka_unit_test(test_push_encoded),
        cmocka_unit_test(test_early_trickle),
        cmocka_unit_test(test_client_hello_before_answer),
        cmocka_unit_test(test_first_audio_on_first_push_after_keying),
        cmocka_unit_test(test_nat_call),
        cmocka_unit_test(test_relay_call),
        cmocka_unit_test(test_lossy_call),
        cmocka_unit_test(test_renegotiate_add_video),
        cmocka_unit_test(test_hold_and_ice_restart),
        cmocka_unit_test(test_remote_hold_keeps_dtls_role_and_ssrc),
        cmocka_unit_test(test_dtls_role_change_refused),
        cmocka_unit_test(test_path_lost),
        cmocka_unit_test(test_close_either_side),
        cmocka_unit_test(test_close_releases_relays),
        cmocka_unit_test(test_close_teardown_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
