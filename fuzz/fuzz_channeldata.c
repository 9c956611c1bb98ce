/*
 * fuzz_channeldata.c: ChannelData datagram decode (RFC 8656 §12.4) and the
 * TURN stream framer (§3.1, §12.5), the latter fed the same input in chunk
 * sizes drawn from a generator seeded by the input, so each input also tries
 * its own split points. Checks the invariants the API promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "base/random.h"
#include "stun/turn_framing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mxrtc_stream_framer framer;
static uint8_t scratch[65536 + 8];

static void check_datagram(const uint8_t *data, size_t size) {
    uint16_t ch;
    const uint8_t *payload;
    size_t plen;
    int r = mxrtc_channeldata_decode(data, size, &ch, &payload, &plen);
    if (r != MXRTC_OK) {
        if (r != MXRTC_ERR_MALFORMED && r != MXRTC_ERR_TRUNCATED) abort();
        return;
    }
    if (ch < MXRTC_TURN_CHANNEL_MIN || ch > MXRTC_TURN_CHANNEL_MAX) abort();
    if (payload != data + 4 || 4 + plen > size || size - 4 - plen > 3) abort();
    /* Re-encoding gives back the same bytes (without padding). */
    int n = mxrtc_channeldata_encode(ch, payload, plen, 0, scratch, sizeof scratch);
    if (n != (int)(4 + plen) || memcmp(scratch, data, (size_t)n) != 0) abort();
}

static void check_stream(const uint8_t *data, size_t size) {
    uint64_t seed = 1469598103934665603ull;   /* FNV-1a of the input */
    for (size_t i = 0; i < size; i++) seed = (seed ^ data[i]) * 1099511628211ull;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, seed);

    mxrtc_stream_framer_init(&framer);
    size_t fed = 0, framed = 0;   /* framed: stream bytes covered by frames + padding */
    int broken = 0;
    while (fed < size && !broken) {
        uint64_t rnd = mxrtc_seeded_random_next(&g);
        size_t chunk = (rnd & 1) ? 1 + (size_t)(rnd >> 8) % 8 : 1 + (size_t)(rnd >> 8) % 4096;
        if (chunk > size - fed) chunk = size - fed;
        size_t took = mxrtc_stream_framer_push(&framer, data + fed, chunk);
        if (took > chunk) abort();
        fed += took;
        const uint8_t *fr;
        size_t fl;
        int cd, r;
        while ((r = mxrtc_stream_framer_next(&framer, &fr, &fl, &cd)) == MXRTC_OK) {
            /* The frame is the next bytes of the stream, exactly. */
            if (fr[0] != data[framed]) abort();
            if (fl > size - framed || memcmp(fr, data + framed, fl) != 0) abort();
            size_t declared = mxrtc_load_u16(fr + 2);
            if (cd) {
                if ((fr[0] & 0xC0) != 0x40 || fl != 4 + declared) abort();
                framed += fl + ((4 - (declared & 3)) & 3);
            } else {
                if ((fr[0] & 0xC0) != 0 || fl != 20 + declared || (declared & 3)) abort();
                framed += fl;
            }
            if (framed > fed) abort();
        }
        if (r == MXRTC_ERR_MALFORMED) broken = 1;
        else if (r != MXRTC_ERR_AGAIN) abort();
        if (took == 0 && r == MXRTC_ERR_AGAIN) abort();   /* would never progress */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    check_datagram(data, size);
    check_stream(data, size);
    return 0;
}
