/*
 * fuzz_peer_remote_sdp: random remote SDP into mxrtc_peer_set_remote_
 * description. The first byte picks the case: bit 0 offer (then we answer
 * and apply it) or answer (to an offer of ours), bit 1 video on our side.
 * Whatever is accepted must leave a peer that answers, drains and closes;
 * whatever is refused must leave it usable. Seeds: browser offers and
 * answers (tests/sdp fixtures) behind a selector byte.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxrtc.h"
#include "base/random.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(mxrtc_peer *p, mxrtc_time_us now) {
    for (int i = 0; i < 100000; i++) {
        mxrtc_peer_output o;
        if (mxrtc_peer_poll(p, now, &o) != MXRTC_OK) abort();
        if (o.kind == MXRTC_PEER_OUT_DEADLINE) return;
    }
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char buf[65536];
    if (size < 1) return 0;
    uint8_t sel = data[0];
    mxrtc_seeded_random r;
    mxrtc_seeded_random_init(&r, 7);
    mxrtc_peer_config cfg;
    mxrtc_peer_config_init(&cfg);
    cfg.random = mxrtc_seeded_random_source(&r);
    mxrtc_addr_parse(&cfg.interfaces[0], "192.0.2.1", 5000);
    cfg.interface_count = 1;
    cfg.video = (sel & 2) ? MXRTC_DIR_SENDRECV : MXRTC_DIR_NONE;
    mxrtc_peer *p;
    if (mxrtc_peer_new(&p, &cfg, 1000) != MXRTC_OK) abort();
    mxrtc_time_us now = 1000;
    size_t len;
    bool offer = sel & 1;
    if (!offer) {
        if (mxrtc_peer_create_offer(p, now, buf, sizeof buf, &len)) abort();
        drain(p, now);
        if (mxrtc_peer_set_local_description(p, now)) abort();
        drain(p, now);
    }
    int rc = mxrtc_peer_set_remote_description(p, now, offer ? MXRTC_SDP_OFFER : MXRTC_SDP_ANSWER,
                                               (const char *)data + 1, size - 1);
    drain(p, now);
    if (rc == MXRTC_OK && offer) {
        rc = mxrtc_peer_create_answer(p, now, buf, sizeof buf, &len);
        drain(p, now);
        if (rc == MXRTC_OK) {
            if (mxrtc_peer_set_local_description(p, now)) abort();
            drain(p, now);
        } else if (rc != MXRTC_ERR_NO_MEMORY && rc != MXRTC_ERR_LIMIT && rc != MXRTC_ERR_MALFORMED &&
                   rc != MXRTC_ERR_BUFFER_TOO_SMALL && rc != MXRTC_ERR_INVALID_ARGUMENT) {
            abort();
        }
    }
    if (rc != MXRTC_OK) {
        /* Refused: still usable for a fresh offer unless one of ours is pending. */
        if (offer && mxrtc_peer_create_offer(p, now, buf, sizeof buf, &len) != MXRTC_OK) abort();
        drain(p, now);
    }
    for (int i = 0; i < 5; i++) {
        now += 200000;
        if (mxrtc_peer_handle_timeout(p, now)) abort();
        drain(p, now);
    }
    int16_t pcm[960] = { 0 };
    if (mxrtc_peer_push_audio(p, now, pcm, 960)) abort();
    drain(p, now);
    if (mxrtc_peer_close(p, now)) abort();
    drain(p, now);
    mxrtc_peer_free(p);
    return 0;
}
