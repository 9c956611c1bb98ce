/*
 * fuzz_nack.c: the NACK generator driven by arbitrary sequence numbers,
 * time steps, RTTs and polls. Input: records of 5 bytes (op, seq16, step16).
 * Checks the list stays bounded and ordered as documented.
 */
#include <stdint.h>
#include <stdlib.h>

#include "rtp/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static mxrtc_nack_gen g;
    mxrtc_nack_config cfg;
    mxrtc_nack_config_init(&cfg);
    if (size > 0) cfg.max_list = (size_t)data[0] + 1;
    mxrtc_nack_init(&g, &cfg);
    mxrtc_time_us now = 0;
    uint16_t seqs[64];
    for (size_t i = 1; i + 5 <= size; i += 5) {
        uint8_t op = data[i];
        uint16_t v = (uint16_t)(data[i + 1] << 8 | data[i + 2]);
        now += (mxrtc_time_us)(data[i + 3] << 8 | data[i + 4]) * 100;
        switch (op & 3) {
        case 0:
        case 1: {
            int rc = mxrtc_nack_on_packet(&g, v, now);
            if (rc != MXRTC_OK && rc != MXRTC_ERR_LIMIT) abort();
            break;
        }
        case 2: {
            size_t n;
            bool gave_up;
            if (mxrtc_nack_poll(&g, now, seqs, op >> 2, &n, &gave_up) != MXRTC_OK) abort();
            if (n > (size_t)(op >> 2)) abort();
            break;
        }
        default:
            mxrtc_nack_set_rtt(&g, (mxrtc_time_us)v * 100);
            break;
        }
        if (g.count > g.cfg.max_list) abort();
        (void)mxrtc_nack_deadline(&g);
    }
    return 0;
}
