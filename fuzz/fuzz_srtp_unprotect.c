/*
 * fuzz_srtp_unprotect.c: SRTP/SRTCP unprotect of arbitrary packets, and a
 * protect/unprotect round trip of arbitrary plain packets.
 * Byte 0: bit 0 RTCP, bit 1 round trip, bit 2 the 32-bit-tag profile.
 */
#include <stdlib.h>
#include <string.h>

#include "dtls/dtls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mxrtc_srtp *sessions[2][2]; /* [profile][side] */

static void make(void) {
    if (sessions[0][0]) return;
    uint8_t k1[30], k2[30];
    for (int i = 0; i < 30; i++) {
        k1[i] = (uint8_t)(i * 3 + 1);
        k2[i] = (uint8_t)(i * 5 + 2);
    }
    for (int p = 0; p < 2; p++) {
        mxrtc_srtp_profile prof = p ? MXRTC_SRTP_AES128_CM_SHA1_32 : MXRTC_SRTP_AES128_CM_SHA1_80;
        if (mxrtc_srtp_new(&sessions[p][0], NULL, prof, k1, k2, 30) != MXRTC_OK) abort();
        if (mxrtc_srtp_new(&sessions[p][1], NULL, prof, k2, k1, 30) != MXRTC_OK) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    make();
    if (size < 1) return 0;
    int rtcp = data[0] & 1, trip = data[0] & 2, p = (data[0] >> 2) & 1;
    data++;
    size--;
    size_t cap = size + 32;
    uint8_t *buf = malloc(cap);
    if (!buf) return 0;
    memcpy(buf, data, size);
    size_t out = 0;
    if (trip) {
        /* Fresh sessions each time would be slow; replay errors are fine. */
        int r = rtcp ? mxrtc_srtp_protect_rtcp(sessions[p][0], buf, size, cap, &out)
                     : mxrtc_srtp_protect_rtp(sessions[p][0], buf, size, cap, &out);
        if (r == MXRTC_OK) {
            if (out > cap || out < size) abort();
            size_t back = 0;
            int u = rtcp ? mxrtc_srtp_unprotect_rtcp(sessions[p][1], buf, out, &back)
                         : mxrtc_srtp_unprotect_rtp(sessions[p][1], buf, out, &back);
            if (u == MXRTC_OK && (back != size || memcmp(buf, data, size) != 0)) abort();
        }
    } else {
        /* Exactly size bytes, so ASan sees any overread. */
        uint8_t *exact = malloc(size ? size : 1);
        if (exact) {
            memcpy(exact, data, size);
            int r = rtcp ? mxrtc_srtp_unprotect_rtcp(sessions[p][1], exact, size, &out)
                         : mxrtc_srtp_unprotect_rtp(sessions[p][1], exact, size, &out);
            if (r == MXRTC_OK && out > size) abort();
            free(exact);
        }
    }
    free(buf);
    return 0;
}
