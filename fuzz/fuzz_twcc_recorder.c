/*
 * fuzz_twcc_recorder.c: the TWCC recorder fed arbitrary transport-wide
 * sequence numbers and arrival steps, drained into feedback packets that
 * must parse back, continue each other's sequence range and never repeat a
 * reported packet. Input: records of 5 bytes (op, seq16, step16).
 */
#include <stdint.h>
#include <stdlib.h>

#include "rtp/rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static mxrtc_twcc_recorder r;
    static uint8_t buf[20000];
    static mxrtc_twcc_packet pk[MXRTC_TWCC_HISTORY + 1];
    mxrtc_twcc_recorder_init(&r);
    mxrtc_time_us now = 1000000;
    bool have_next = false;
    uint16_t next_base = 0;
    for (size_t i = 0; i + 5 <= size; i += 5) {
        uint8_t op = data[i];
        uint16_t v = (uint16_t)(data[i + 1] << 8 | data[i + 2]);
        uint32_t step = (uint32_t)(data[i + 3] << 8 | data[i + 4]);
        now += (op & 0x80) ? (mxrtc_time_us)step * 1000 : step;
        if ((op & 3) != 3) {
            int rc = mxrtc_twcc_recorder_on_packet(&r, v, now);
            if (rc != MXRTC_OK && rc != MXRTC_ERR_AGAIN) abort();
            continue;
        }
        size_t max_packets = (size_t)(op >> 2 & 0x1f) * 64 + 1;
        for (;;) {
            mxrtc_writer w;
            mxrtc_writer_init(&w, buf, sizeof buf);
            int64_t before = r.next;
            int rc = mxrtc_twcc_recorder_write(&r, &w, 1, 2, max_packets);
            if (rc == MXRTC_ERR_AGAIN) break;
            if (rc != MXRTC_OK) abort();
            mxrtc_rtcp_iter it;
            mxrtc_rtcp_header h;
            mxrtc_rtcp_iter_init(&it, buf, w.pos);
            if (mxrtc_rtcp_next(&it, &h) != 1) abort();
            mxrtc_twcc_feedback fb = {.packets = pk, .packet_cap = MXRTC_TWCC_HISTORY + 1};
            if (mxrtc_rtcp_parse_twcc(&h, &fb) != MXRTC_OK) abort();
            if (fb.base_seq != (uint16_t)before) abort();
            if (have_next && r.dropped == 0 && fb.base_seq != next_base) abort();
            if ((int64_t)fb.packet_count != r.next - before) abort();
            have_next = true;
            next_base = (uint16_t)(fb.base_seq + fb.packet_count);
        }
    }
    return 0;
}
