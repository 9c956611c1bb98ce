/*
 * fuzz_opus_decode: random packet sequences into the Opus decoder wrapper.
 *
 * Input: one flags byte (bit 0: stereo output; bit 1: try FEC recovery from
 * each packet before decoding it; bit 2: treat empty packets as DTX gaps
 * rather than losses), then [u16 big-endian length][packet]...; a length
 * beyond the end takes what is left, and length 0 is a lost packet.
 * Checks the wrapper's contract: a success returns a sample count that fits
 * the buffer and matches mxrtc_opus_decoder_packet_samples(), and the only error for
 * packet bytes is MXRTC_ERR_MALFORMED.
 * Seeds: real Opus packets written by tests/codecs (MXRTC_WRITE_SEEDS).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/bytes.h"
#include "codecs/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int16_t pcm[MXRTC_OPUS_MAX_FRAME_SAMPLES * 2];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    mxrtc_opus_decoder_config cfg;
    mxrtc_opus_decoder_config_init(&cfg);
    cfg.channels = (data[0] & 1) ? 2 : 1;
    const int try_fec = (data[0] & 2) != 0, dtx = (data[0] & 4) != 0;
    mxrtc_opus_decoder *d = NULL;
    if (mxrtc_opus_decoder_new(&d, &cfg, NULL) != MXRTC_OK) return 0;
    mxrtc_reader r;
    mxrtc_reader_init(&r, data + 1, size - 1);
    for (int n = 0; n < 64 && mxrtc_reader_remaining(&r) >= 2; n++) {
        size_t len = mxrtc_read_u16(&r);
        if (len > mxrtc_reader_remaining(&r)) len = mxrtc_reader_remaining(&r);
        const uint8_t *pkt = mxrtc_read_ptr(&r, len);
        int rc;
        if (len == 0) {
            rc = dtx ? mxrtc_opus_decode_dtx_gap(d, pcm, 960) : mxrtc_opus_decode_plc(d, pcm, 960);
            if (rc != 960) abort();
            continue;
        }
        int expect = mxrtc_opus_decoder_packet_samples(pkt, len);
        if (try_fec) {
            rc = mxrtc_opus_decode_fec(d, pkt, len, pcm, 960);
            if (rc != (expect < 0 ? MXRTC_ERR_MALFORMED : 960)) abort();
        }
        rc = mxrtc_opus_decode(d, pkt, len, pcm, MXRTC_OPUS_MAX_FRAME_SAMPLES);
        if (rc != expect) abort();
    }
    mxrtc_opus_decoder_free(d);
    return 0;
}
