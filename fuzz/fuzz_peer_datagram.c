/*
 * fuzz_peer_datagram: a whole peer fed datagrams and timeouts on a synthetic
 * clock. The peer is the answerer of the audio call in tests/peer (same
 * seeds, addresses and signalling), so a seed recorded from that call
 * (tests/peer: PEER_FUZZ_DUMP) replays a real conversation: STUN checks
 * with valid credentials, the DTLS handshake, then SRTP/SRTCP. The input is
 * records of [u32 delay_us][u16 len][len bytes], each a datagram arriving
 * from the offerer after delay_us; the peer's own deadlines are honoured in
 * between, as a host would. Outputs are drained and dropped.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mxrtc.h"
#include "base/random.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_STEPS 4000

static mxrtc_time_us drain(mxrtc_peer *p, mxrtc_time_us now, char cands[][1100], int *ncands) {
    for (int i = 0; i < 100000; i++) {
        mxrtc_peer_output o;
        if (mxrtc_peer_poll(p, now, &o) != MXRTC_OK) abort();
        if (o.kind == MXRTC_PEER_OUT_DEADLINE) return o.deadline;
        if (o.kind == MXRTC_PEER_OUT_EVENT && cands && *ncands < 8) {
            if (o.event == MXRTC_PEER_EV_LOCAL_CANDIDATE) strncpy(cands[(*ncands)++], o.text, 1099);
            else if (o.event == MXRTC_PEER_EV_GATHERING_DONE) cands[(*ncands)++][0] = 0;
        }
    }
    abort();   /* a peer that never reaches a deadline is a bug */
}

static void log_fn(void *user, mxrtc_log_level level, const char *module, const char *message) {
    (void)user;
    fprintf(stderr, "[%d %s] %s\n", (int)level, module, message);
}

static mxrtc_peer *make(mxrtc_seeded_random *r, uint64_t seed, const char *ip) {
    mxrtc_peer_config cfg;
    mxrtc_peer_config_init(&cfg);
    mxrtc_seeded_random_init(r, seed);
    cfg.random = mxrtc_seeded_random_source(r);
    mxrtc_addr_parse(&cfg.interfaces[0], ip, 5000);
    cfg.interface_count = 1;
    cfg.video_bitrate_bps = 300000;
    if (getenv("FUZZ_PEER_VERBOSE") && seed == 1001) {
        cfg.logger.fn = log_fn;
        cfg.logger.max_level = MXRTC_LOG_DEBUG;
    }
    mxrtc_peer *p = NULL;
    if (mxrtc_peer_new(&p, &cfg, 1000000) != MXRTC_OK) abort();
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char offer[16384], answer[16384];
    static char cands[8][1100];
    int ncands = 0;
    mxrtc_seeded_random ra, rb;
    mxrtc_time_us now = 1000000;
    mxrtc_peer *a = make(&ra, 1000, "192.0.2.1");
    mxrtc_peer *b = make(&rb, 1001, "192.0.2.2");
    size_t len, alen;
    if (mxrtc_peer_create_offer(a, now, offer, sizeof offer, &len)) abort();
    drain(a, now, NULL, NULL);
    if (mxrtc_peer_set_local_description(a, now)) abort();
    drain(a, now, cands, &ncands);
    if (mxrtc_peer_set_remote_description(b, now, MXRTC_SDP_OFFER, offer, len)) abort();
    drain(b, now, NULL, NULL);
    for (int i = 0; i < ncands; i++) {
        mxrtc_peer_add_remote_candidate(b, now, "0", cands[i][0] ? cands[i] : NULL);
        drain(b, now, NULL, NULL);
    }
    if (mxrtc_peer_create_answer(b, now, answer, sizeof answer, &alen)) abort();
    drain(b, now, NULL, NULL);
    if (mxrtc_peer_set_local_description(b, now)) abort();
    mxrtc_time_us deadline = drain(b, now, NULL, NULL);
    mxrtc_peer_free(a);

    mxrtc_addr local, remote;
    mxrtc_addr_parse(&local, "192.0.2.2", 5000);
    mxrtc_addr_parse(&remote, "192.0.2.1", 5000);
    size_t off = 0;
    int steps = 0;
    while (off + 6 <= size && steps < MAX_STEPS) {
        uint32_t delay = (uint32_t)data[off] << 24 | (uint32_t)data[off + 1] << 16 |
                         (uint32_t)data[off + 2] << 8 | data[off + 3];
        size_t n = (size_t)data[off + 4] << 8 | data[off + 5];
        off += 6;
        if (n > size - off) n = size - off;
        mxrtc_time_us at = now + (delay % 10000000u);
        /* As the test host does: datagrams due at a time before timeouts due then. */
        while (deadline < at && steps++ < MAX_STEPS) {
            now = deadline > now ? deadline : now;
            if (mxrtc_peer_handle_timeout(b, now) == MXRTC_OK) deadline = drain(b, now, NULL, NULL);
            else deadline = MXRTC_TIME_NEVER;
        }
        now = at;
        if (mxrtc_peer_handle_datagram(b, now, &local, &remote, data + off, n) == MXRTC_OK)
            deadline = drain(b, now, NULL, NULL);
        off += n;
        steps++;
        int16_t pcm[480];
        mxrtc_peer_pull_audio(b, now, pcm, 480);
    }
    mxrtc_time_us end = now + 2000000;
    while (deadline <= end && steps++ < MAX_STEPS) {
        now = deadline > now ? deadline : now;
        if (mxrtc_peer_handle_timeout(b, now) != MXRTC_OK) break;
        deadline = drain(b, now, NULL, NULL);
    }
    mxrtc_peer_stats st = { .size = sizeof st };
    mxrtc_peer_get_stats(b, &st);
    if (getenv("FUZZ_PEER_VERBOSE"))
        fprintf(stderr, "state %d dtls %d audio in %llu garbage %llu srtp failures %llu\n", (int)st.state,
                (int)st.dtls_state, (unsigned long long)st.audio_in.packets,
                (unsigned long long)st.garbage_datagrams, (unsigned long long)st.srtp_failures);
    mxrtc_peer_close(b, now);
    drain(b, now, NULL, NULL);
    mxrtc_peer_free(b);
    return 0;
}
