/*
 * fuzz_peer_datagram: a whole peer fed datagrams and timeouts on a synthetic
 * clock (seeded randomness). Two peers A (offerer) and B (answerer, the
 * target) negotiate audio and video and trickle candidates in memory.
 *
 * The first input byte picks the mode:
 *  - even: B is only negotiated (ICE checks and DTLS open), and the records
 *    are raw datagrams from A's address. A seed recorded from the audio call
 *    in tests/peer (PEER_FUZZ_DUMP) replays a real conversation up to the
 *    DTLS handshake (mbedTLS puts the wall clock in the ClientHello random,
 *    so a recorded handshake cannot complete in replay).
 *  - odd: A and B first connect for real (ICE, DTLS, SRTP) by passing their
 *    datagrams to each other; then each record is either a raw datagram
 *    (record flag 0) or plain RTP/RTCP (flag 1) that is protected with A's
 *    SRTP session before B gets it, so the fuzzer reaches B's RTP, RTCP,
 *    Opus, VP8/VP9, NACK and RTX paths with authenticated packets
 *    (SSRC placeholders: see below).
 * Records: [u32 delay_us][u8 flag][u16 len][len bytes]. B's deadlines are
 * honoured in between, as a host would. B's outputs are drained and dropped.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxrtc.h"
#include "base/random.h"
#include "peer/peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STEPS 4000

typedef struct dgram {
    mxrtc_addr from, to;
    uint16_t len;
    uint8_t data[1500];
} dgram;

/* Datagrams in flight between A and B while they connect (bounded). */
static dgram q[64];
static int nq;

static mxrtc_time_us drain(mxrtc_peer *p, mxrtc_time_us now, char cands[][1100], int *ncands, bool route) {
    for (int i = 0; i < 100000; i++) {
        mxrtc_peer_output o;
        if (mxrtc_peer_poll(p, now, &o) != MXRTC_OK) abort();
        if (o.kind == MXRTC_PEER_OUT_DEADLINE) return o.deadline;
        if (o.kind == MXRTC_PEER_OUT_EVENT && cands && *ncands < 8) {
            if (o.event == MXRTC_PEER_EV_LOCAL_CANDIDATE) strncpy(cands[(*ncands)++], o.text, 1099);
            else if (o.event == MXRTC_PEER_EV_GATHERING_DONE) cands[(*ncands)++][0] = 0;
        }
        if (route && o.kind == MXRTC_PEER_OUT_DATAGRAM && nq < 64 && o.len <= sizeof q[0].data) {
            q[nq].from = o.from;
            q[nq].to = o.to;
            q[nq].len = (uint16_t)o.len;
            memcpy(q[nq].data, o.data, o.len);
            nq++;
        }
    }
    abort();   /* a peer that never reaches a deadline is a bug */
}

static void log_fn(void *user, mxrtc_log_level level, const char *module, const char *message) {
    (void)user;
    fprintf(stderr, "[%d %s] %s\n", (int)level, module, message);
}

static mxrtc_peer *make(mxrtc_seeded_random *r, uint64_t seed, const char *ip, bool video) {
    mxrtc_peer_config cfg;
    mxrtc_peer_config_init(&cfg);
    mxrtc_seeded_random_init(r, seed);
    cfg.random = mxrtc_seeded_random_source(r);
    mxrtc_addr_parse(&cfg.interfaces[0], ip, 5000);
    cfg.interface_count = 1;
    cfg.video_bitrate_bps = 300000;
    if (video) cfg.video = MXRTC_DIR_SENDRECV;
    if (getenv("FUZZ_PEER_VERBOSE") && seed == 1001) {
        cfg.logger.fn = log_fn;
        cfg.logger.max_level = MXRTC_LOG_DEBUG;
    }
    mxrtc_peer *p = NULL;
    if (mxrtc_peer_new(&p, &cfg, 1000000) != MXRTC_OK) abort();
    return p;
}

/* Runs A and B against each other until both are connected (or 5 s). */
static bool connect_pair(mxrtc_peer *a, mxrtc_peer *b, mxrtc_time_us *now, mxrtc_time_us *da, mxrtc_time_us *db) {
    mxrtc_addr addr_b;
    mxrtc_addr_parse(&addr_b, "192.0.2.2", 5000);
    mxrtc_peer_stats sa = { .size = sizeof sa }, sb = { .size = sizeof sb };
    for (int round = 0; round < 5000; round++) {
        mxrtc_peer_get_stats(a, &sa);
        mxrtc_peer_get_stats(b, &sb);
        if (sa.state == MXRTC_PEER_STATE_CONNECTED && sb.state == MXRTC_PEER_STATE_CONNECTED) return true;
        *now += 1000;
        int n = nq;
        dgram batch[64];
        memcpy(batch, q, (size_t)n * sizeof q[0]);
        nq = 0;
        for (int i = 0; i < n; i++) {
            bool to_b = mxrtc_addr_equal(&batch[i].to, &addr_b);
            mxrtc_peer *dst = to_b ? b : a;
            if (mxrtc_peer_handle_datagram(dst, *now, &batch[i].to, &batch[i].from, batch[i].data, batch[i].len))
                continue;
            mxrtc_time_us d = drain(dst, *now, NULL, NULL, true);
            if (to_b) *db = d;
            else *da = d;
        }
        if (*da <= *now && mxrtc_peer_handle_timeout(a, *now) == MXRTC_OK) *da = drain(a, *now, NULL, NULL, true);
        if (*db <= *now && mxrtc_peer_handle_timeout(b, *now) == MXRTC_OK) *db = drain(b, *now, NULL, NULL, true);
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char offer[16384], answer[16384];
    static char cands[8][1100], cands_b[8][1100];
    if (size < 1) return 0;
    bool connected_mode = data[0] & 1;
    data++;
    size--;
    int ncands = 0, ncands_b = 0;
    nq = 0;
    mxrtc_seeded_random ra, rb;
    mxrtc_time_us now = 1000000;
    mxrtc_peer *a = make(&ra, 1000, "192.0.2.1", connected_mode);
    mxrtc_peer *b = make(&rb, 1001, "192.0.2.2", connected_mode);
    size_t len, alen;
    bool route = connected_mode;
    if (mxrtc_peer_create_offer(a, now, offer, sizeof offer, &len)) abort();
    drain(a, now, NULL, NULL, route);
    if (mxrtc_peer_set_local_description(a, now)) abort();
    mxrtc_time_us da = drain(a, now, cands, &ncands, route);
    if (mxrtc_peer_set_remote_description(b, now, MXRTC_SDP_OFFER, offer, len)) abort();
    drain(b, now, NULL, NULL, route);
    for (int i = 0; i < ncands; i++) {
        mxrtc_peer_add_remote_candidate(b, now, "0", cands[i][0] ? cands[i] : NULL);
        drain(b, now, NULL, NULL, route);
    }
    if (mxrtc_peer_create_answer(b, now, answer, sizeof answer, &alen)) abort();
    drain(b, now, NULL, NULL, route);
    if (mxrtc_peer_set_local_description(b, now)) abort();
    mxrtc_time_us deadline = drain(b, now, cands_b, &ncands_b, route);
    if (connected_mode) {
        if (mxrtc_peer_set_remote_description(a, now, MXRTC_SDP_ANSWER, answer, alen)) abort();
        da = drain(a, now, NULL, NULL, route);
        for (int i = 0; i < ncands_b; i++) {
            mxrtc_peer_add_remote_candidate(a, now, "0", cands_b[i][0] ? cands_b[i] : NULL);
            da = drain(a, now, NULL, NULL, route);
        }
        if (!connect_pair(a, b, &now, &da, &deadline)) abort();   /* a clean network must connect */
    }

    mxrtc_addr local, remote;
    mxrtc_addr_parse(&local, "192.0.2.2", 5000);
    mxrtc_addr_parse(&remote, "192.0.2.1", 5000);
    size_t off = 0;
    int steps = 0;
    size_t hdr = connected_mode ? 7 : 6;
    while (off + hdr <= size && steps < MAX_STEPS) {
        uint32_t delay = (uint32_t)data[off] << 24 | (uint32_t)data[off + 1] << 16 |
                         (uint32_t)data[off + 2] << 8 | data[off + 3];
        bool plain = connected_mode && (data[off + 4] & 1);
        size_t n = (size_t)data[off + hdr - 2] << 8 | data[off + hdr - 1];
        off += hdr;
        if (n > size - off) n = size - off;
        mxrtc_time_us at = now + (delay % 10000000u);
        /* As the test host does: datagrams due at a time before timeouts due then. */
        while (deadline < at && steps++ < MAX_STEPS) {
            now = deadline > now ? deadline : now;
            if (mxrtc_peer_handle_timeout(b, now) == MXRTC_OK) deadline = drain(b, now, NULL, NULL, false);
            else deadline = MXRTC_TIME_NEVER;
        }
        now = at;
        const uint8_t *d = data + off;
        size_t dlen = n;
        uint8_t buf[1600];
        if (plain && n >= 8 && n <= 1400 && a->srtp) {
            /* Authenticate it as A would: RTCP by RFC 5761 §4, else RTP.
             * The placeholder SSRCs 0x33333333 / 0x44444444 (B's video /
             * audio SSRC, random per run) are filled in so that feedback
             * in the seeds reaches B's streams. */
            memcpy(buf, d, n);
            for (size_t k = 0; k + 4 <= n; k++) {
                uint32_t v = (uint32_t)buf[k] << 24 | (uint32_t)buf[k + 1] << 16 | (uint32_t)buf[k + 2] << 8 | buf[k + 3];
                uint32_t r = v == 0x33333333u ? b->vtx.ssrc : v == 0x44444444u ? b->atx.ssrc : 0;
                if (!r) continue;
                buf[k] = (uint8_t)(r >> 24);
                buf[k + 1] = (uint8_t)(r >> 16);
                buf[k + 2] = (uint8_t)(r >> 8);
                buf[k + 3] = (uint8_t)r;
                k += 3;
            }
            int rc = mxrtc_rtp_is_rtcp(buf, n) ? mxrtc_srtp_protect_rtcp(a->srtp, buf, n, sizeof buf, &dlen)
                                               : mxrtc_srtp_protect_rtp(a->srtp, buf, n, sizeof buf, &dlen);
            if (rc == MXRTC_OK) d = buf;
            else dlen = n;
        }
        if (mxrtc_peer_handle_datagram(b, now, &local, &remote, d, dlen) == MXRTC_OK)
            deadline = drain(b, now, NULL, NULL, false);
        off += n;
        steps++;
        int16_t pcm[480];
        mxrtc_peer_pull_audio(b, now, pcm, 480);
    }
    mxrtc_time_us end = now + 2000000;
    while (deadline <= end && steps++ < MAX_STEPS) {
        now = deadline > now ? deadline : now;
        if (mxrtc_peer_handle_timeout(b, now) != MXRTC_OK) break;
        deadline = drain(b, now, NULL, NULL, false);
    }
    mxrtc_peer_stats st = { .size = sizeof st };
    mxrtc_peer_get_stats(b, &st);
    if (getenv("FUZZ_PEER_VERBOSE"))
        fprintf(stderr, "state %d dtls %d audio in %llu video in %llu garbage %llu srtp failures %llu\n",
                (int)st.state, (int)st.dtls_state, (unsigned long long)st.audio_in.packets,
                (unsigned long long)st.video_in.packets, (unsigned long long)st.garbage_datagrams,
                (unsigned long long)st.srtp_failures);
    mxrtc_peer_free(a);
    if (mxrtc_peer_close(b, now) == MXRTC_OK) drain(b, now, NULL, NULL, false);
    mxrtc_peer_free(b);
    return 0;
}
