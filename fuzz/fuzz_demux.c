/*
 * fuzz_demux.c: the RFC 7983 classifier on arbitrary datagrams; checks that
 * the result agrees with the first byte and never reads past the input.
 */
#include <stdlib.h>
#include <string.h>

#include "dtls/dtls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    if (size) memcpy(copy, data, size);
    mxrtc_demux_kind k = mxrtc_demux_classify(size ? copy : NULL, size);
    if (size == 0 && k != MXRTC_DEMUX_UNKNOWN) abort();
    if (size > 0) {
        uint8_t b = copy[0];
        if (k == MXRTC_DEMUX_DTLS && (b < 20 || b > 63)) abort();
        if (k == MXRTC_DEMUX_STUN && b > 3) abort();
        if ((k == MXRTC_DEMUX_RTP || k == MXRTC_DEMUX_RTCP) && (b < 128 || b > 191)) abort();
        if (k == MXRTC_DEMUX_RTCP && (size < 8 || copy[1] < 192 || copy[1] > 223)) abort();
        if (k == MXRTC_DEMUX_RTP && size < 12) abort();
    }
    /* Every prefix classifies without reading past its end. */
    for (size_t n = 0; n < size && n < 16; n++) (void)mxrtc_demux_classify(copy, n);
    free(copy);
    return 0;
}
