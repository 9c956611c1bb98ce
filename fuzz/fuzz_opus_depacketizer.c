/*
 * fuzz_opus_depacketizer.c: Opus framing validation (RFC 6716 §3) of an RTP
 * payload, both on the raw input and on the payload of the input parsed as
 * an RTP packet; a valid packet must survive the packetizer unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_opus_payload op;
    if (mxrtc_opus_depacketize(data, size, &op) == MXRTC_OK) {
        if (op.samples <= 0 || op.samples > 5760 || op.len != size) abort();
        static uint8_t out[70000];
        mxrtc_rtp_packet h;
        memset(&h, 0, sizeof h);
        h.pt = 111;
        int n = mxrtc_opus_packetize(&h, data, size, sizeof out, out, sizeof out);
        if (n != (int)(size + 12) || memcmp(out + 12, data, size) != 0) abort();
    }
    mxrtc_rtp_packet p;
    if (mxrtc_rtp_parse(&p, data, size) == MXRTC_OK &&
        mxrtc_opus_depacketize(p.payload, p.payload_len, &op) == MXRTC_OK) {
        if (op.data != p.payload || op.samples <= 0) abort();
    }
    return 0;
}
