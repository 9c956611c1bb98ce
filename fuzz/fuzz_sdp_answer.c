/*
 * fuzz_sdp_answer: a random remote offer into the JSEP negotiator
 * (sdp/jsep.c). Whatever parses must either be answered or refused with a
 * clear code; an answer has one section per offered section, uses only
 * payload types the offer listed, and serialises to text that parses again.
 * The first input byte picks the local configuration (VP9, data channels,
 * directions); the rest is the offer. Seeds: tests/sdp/fixtures offers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "sdp/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_answer(const mxrtc_sdp *offer, const mxrtc_sdp *ans) {
    if (ans->media_count != offer->media_count) abort();
    for (uint32_t i = 0; i < ans->media_count; i++) {
        const mxrtc_sdp_media *m = &ans->media[i], *o = &offer->media[i];
        if (strcmp(m->type, o->type) != 0) abort();
        if (m->port == 0) continue;
        for (uint32_t f = 0; f < m->fmt_count; f++) {
            bool found = false;
            for (uint32_t g = 0; g < o->fmt_count; g++) found |= !strcmp(m->fmts[f], o->fmts[g]);
            if (!found) abort();
        }
    }
    char *text = NULL;
    size_t n = 0;
    mxrtc_sdp *again = NULL;
    if (mxrtc_sdp_serialize_alloc(ans, NULL, &text, &n) != MXRTC_OK) abort();
    mxrtc_sdp_limits lim;
    mxrtc_sdp_limits_default(&lim);
    lim.max_size *= 2;
    if (mxrtc_sdp_parse(&again, text, n, NULL, &lim, NULL) != MXRTC_OK) abort();
    mxrtc_sdp_free(again);
    mxrtc_free(NULL, text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t cfg = data[0];
    mxrtc_sdp *offer = NULL, *ans = NULL;
    if (mxrtc_sdp_parse(&offer, (const char *)data + 1, size - 1, NULL, NULL, NULL) != MXRTC_OK) return 0;
    mxrtc_jsep_local l;
    memset(&l, 0, sizeof l);
    l.ice_ufrag = "abcd";
    l.ice_pwd = "0123456789abcdefghijkl";
    l.fingerprint_alg = "sha-256";
    l.fingerprint = "AB:CD:EF";
    l.session_id = 42;
    l.cname = "fuzz";
    l.stream_id = "s";
    l.audio = l.video = true;
    l.audio_send = (cfg & 1) != 0;
    l.audio_recv = (cfg & 2) != 0;
    l.video_send = (cfg & 4) != 0;
    l.video_recv = (cfg & 8) != 0;
    l.vp9 = (cfg & 16) != 0;
    l.data = (cfg & 32) != 0;
    l.audio_ssrc = 1;
    l.video_ssrc = 2;
    l.video_rtx_ssrc = (cfg & 64) ? 3 : 0;
    int rc = mxrtc_jsep_create_answer(&ans, offer, &l, (cfg & 128) ? offer : NULL, NULL);
    if (rc == MXRTC_OK) check_answer(offer, ans);
    else if (rc != MXRTC_ERR_MALFORMED && rc != MXRTC_ERR_LIMIT) abort();
    else if (rc == MXRTC_ERR_MALFORMED && offer->media_count != 0) abort();
    mxrtc_sdp_free(ans);
    mxrtc_sdp_free(offer);
    return 0;
}
