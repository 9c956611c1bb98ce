/*
 * bench_packet.c: the media path per packet, excluding codecs, for counting
 * instructions under callgrind (bench/run.sh runs it with
 * --instr-atstart=no; only the loop between CALLGRIND_START_INSTRUMENTATION
 * and CALLGRIND_STOP_INSTRUMENTATION is counted, setup is not).
 *
 *   bench_packet send N        mxrtc: RTP header with the mid extension the
 *                              peer sends (RFC 8843 §15) + 1200-byte payload
 *                              written, then mxrtc_srtp_protect_rtp
 *   bench_packet recv N        mxrtc: mxrtc_srtp_unprotect_rtp + mxrtc_rtp_parse
 *                              + the mid lookup + receive statistics (RFC 3550
 *                              A.1/A.8) + NACK tracking, as peer/media_recv.c
 *                              does for each video packet
 *   bench_packet floor-send N  libsrtp2 srtp_protect alone on the same packets
 *   bench_packet floor-recv N  libsrtp2 srtp_unprotect alone on the same packets
 *
 * Prints one line "<mode> packets=N bytes=B" so a smoke run can check it ran.
 * Both SRTP sides use AES128_CM_SHA1_80 with a 1024-packet replay window and
 * allow_repeat_tx, the policy dtls/srtp.c sets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>
#include <valgrind/callgrind.h>

#include "dtls/dtls.h"
#include "rtp/rtp.h"

#define PAYLOAD 1200
#define SLOT 1300
#define MID_EXT 4     /* any negotiated id 1..14 costs the same */
#define PT 96
#define SSRC 0x11223344u

static const uint8_t KEY_A[MXRTC_SRTP_KEY_SALT_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                                        16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30 };
static const uint8_t KEY_B[MXRTC_SRTP_KEY_SALT_LEN] = { 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45,
                                                        46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60 };
static uint8_t g_payload[PAYLOAD];

/* The packet mxrtc builds for sequence number i (same bytes on every path). */
static int build(uint8_t *buf, size_t cap, uint32_t i) {
    mxrtc_rtp_packet h;
    memset(&h, 0, sizeof h);
    h.pt = PT;
    h.seq = (uint16_t)i;
    h.ts = i * 3000u;
    h.ssrc = SSRC;
    mxrtc_rtp_add_ext(&h, MID_EXT, (const uint8_t *)"1", 1);
    h.payload = g_payload;
    h.payload_len = PAYLOAD;
    return mxrtc_rtp_write(&h, buf, cap);
}

static srtp_t floor_session(const uint8_t *key, int inbound) {
    srtp_policy_t p;
    memset(&p, 0, sizeof p);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
    p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    p.key = (unsigned char *)key;
    p.window_size = MXRTC_SRTP_REPLAY_WINDOW;
    p.allow_repeat_tx = 1;
    srtp_t s = NULL;
    if (srtp_create(&s, &p) != srtp_err_status_ok) return NULL;
    return s;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s send|recv|floor-send|floor-recv N\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    long n = strtol(argv[2], NULL, 10);
    if (n <= 0 || n > 1000000) return 2;
    for (size_t i = 0; i < PAYLOAD; i++) g_payload[i] = (uint8_t)(i * 7 + 1);

    /* Sender session (KEY_A out) and its receiving twin (KEY_A in). */
    mxrtc_srtp *tx = NULL, *rx = NULL;
    if (mxrtc_srtp_new(&tx, NULL, MXRTC_SRTP_AES128_CM_SHA1_80, KEY_A, KEY_B, sizeof KEY_A) ||
        mxrtc_srtp_new(&rx, NULL, MXRTC_SRTP_AES128_CM_SHA1_80, KEY_B, KEY_A, sizeof KEY_A)) {
        fprintf(stderr, "srtp setup failed\n");
        return 1;
    }
    uint8_t *slots = calloc((size_t)n, SLOT);
    size_t *lens = calloc((size_t)n, sizeof *lens);
    if (!slots || !lens) return 1;
    int is_recv = !strcmp(mode, "recv") || !strcmp(mode, "floor-recv");
    int is_floor = !strncmp(mode, "floor-", 6);
    /* Setup (not counted): plain packets for floor-send, protected ones for
     * the receivers. */
    for (long i = 0; i < n; i++) {
        uint8_t *b = slots + (size_t)i * SLOT;
        int m = build(b, SLOT, (uint32_t)i);
        if (m < 0) return 1;
        lens[i] = (size_t)m;
        if (is_recv && mxrtc_srtp_protect_rtp(tx, b, lens[i], SLOT, &lens[i])) return 1;
    }
    srtp_t fl = NULL;
    if (is_floor && !(fl = floor_session(KEY_A, is_recv))) {
        fprintf(stderr, "libsrtp2 session failed\n");
        return 1;
    }
    size_t bytes = 0;
    int failures = 0;
    if (!strcmp(mode, "send")) {
        static uint8_t buf[SLOT];
        CALLGRIND_START_INSTRUMENTATION;
        for (long i = 0; i < n; i++) {
            int m = build(buf, sizeof buf, (uint32_t)i);
            size_t out;
            if (m < 0 || mxrtc_srtp_protect_rtp(tx, buf, (size_t)m, sizeof buf, &out)) failures++;
            else bytes += out;
        }
        CALLGRIND_STOP_INSTRUMENTATION;
    } else if (!strcmp(mode, "recv")) {
        mxrtc_receive_stats st;
        mxrtc_receive_stats_init(&st, SSRC, 90000);
        mxrtc_nack_gen nack;
        mxrtc_nack_init(&nack, NULL);
        mxrtc_rtp_ext_map map = { .mid = MID_EXT };
        CALLGRIND_START_INSTRUMENTATION;
        for (long i = 0; i < n; i++) {
            uint8_t *b = slots + (size_t)i * SLOT;
            size_t plain;
            mxrtc_rtp_packet pkt;
            char mid[8];
            mxrtc_time_us now = 1000000 + (mxrtc_time_us)i * 1000;
            if (mxrtc_srtp_unprotect_rtp(rx, b, lens[i], &plain) || mxrtc_rtp_parse(&pkt, b, plain) ||
                mxrtc_rtp_get_mid(&pkt, &map, mid, sizeof mid)) {
                failures++;
                continue;
            }
            mxrtc_receive_stats_update(&st, pkt.seq, pkt.ts, pkt.payload_len, now);
            mxrtc_nack_on_packet(&nack, pkt.seq, now);
            bytes += pkt.payload_len;
        }
        CALLGRIND_STOP_INSTRUMENTATION;
    } else if (!strcmp(mode, "floor-send")) {
        CALLGRIND_START_INSTRUMENTATION;
        for (long i = 0; i < n; i++) {
            int len = (int)lens[i];
            if (srtp_protect(fl, slots + (size_t)i * SLOT, &len) != srtp_err_status_ok) failures++;
            else bytes += (size_t)len;
        }
        CALLGRIND_STOP_INSTRUMENTATION;
    } else if (!strcmp(mode, "floor-recv")) {
        CALLGRIND_START_INSTRUMENTATION;
        for (long i = 0; i < n; i++) {
            int len = (int)lens[i];
            if (srtp_unprotect(fl, slots + (size_t)i * SLOT, &len) != srtp_err_status_ok) failures++;
            else bytes += (size_t)len;
        }
        CALLGRIND_STOP_INSTRUMENTATION;
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    if (fl) srtp_dealloc(fl);
    mxrtc_srtp_free(tx);
    mxrtc_srtp_free(rx);
    free(slots);
    free(lens);
    if (failures) {
        fprintf(stderr, "%s: %d packets failed\n", mode, failures);
        return 1;
    }
    printf("%s packets=%ld bytes=%zu\n", mode, n, bytes);
    return 0;
}
