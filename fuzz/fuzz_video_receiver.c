/*
 * fuzz_video_receiver.c: the VP8 receive stage (rtp/video_receiver.h) fed
 * random RTP packets on a synthetic clock and drained as its contract says.
 *
 * Input: operations
 *   0x00..0x7F  push: u16 (big-endian) length, then an RTP packet of that
 *               length (parsed with mxrtc_rtp_parse; unparsable ones are
 *               skipped); it arrives now
 *   0x80..0xFF  advance the clock by (op & 0x7F) ms, then drain poll
 * Each frame handed out is "decoded" by a stand-in that derives its verdict
 * from the frame bytes; the borrowed frame is read end to end (ASan checks
 * the lending). PLIs must respect the rate limit (300 ms by default).
 * Seeds: packet sequences of tests/rtp_receive (MXRTC_WRITE_SEEDS=DIR).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/bytes.h"
#include "rtp/rtp.h"
#include "rtp/video_receiver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drain(mxrtc_video_receiver *vr, uint64_t now, uint64_t *last_pli, int *have_pli) {
    mxrtc_video_receiver_event ev;
    mxrtc_time_us dl;
    int rc, n = 0;
    while ((rc = mxrtc_video_receiver_poll(vr, now, &ev, &dl)) == MXRTC_OK) {
        if (++n > 100000) abort();                  /* poll must make progress */
        if (ev.type == MXRTC_VIDEO_RX_PLI) {
            if (*have_pli && now - *last_pli < 300000) abort();
            *have_pli = 1;
            *last_pli = now;
            continue;
        }
        if (ev.type != MXRTC_VIDEO_RX_FRAME || !ev.frame.data || ev.frame.len == 0) abort();
        unsigned sum = 0;
        for (size_t i = 0; i < ev.frame.len; i++) sum += ev.frame.data[i];
        if (mxrtc_video_receiver_decoded(vr, now, (sum & 1) == 0, (sum & 6) == 6) != MXRTC_OK)
            abort();
    }
    if (rc != MXRTC_ERR_AGAIN) abort();
    if (dl != UINT64_MAX && dl <= now) abort();     /* a deadline is in the future */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_video_receiver_config cfg;
    mxrtc_video_receiver_config_init(&cfg);
    cfg.slots = 64;
    cfg.max_frame = 65536;
    mxrtc_video_receiver *vr = NULL;
    if (mxrtc_video_receiver_new(&vr, &cfg, NULL) != MXRTC_OK) abort();
    mxrtc_reader r;
    mxrtc_reader_init(&r, data, size);
    uint64_t now = 1000000, last_pli = 0;
    int have_pli = 0;
    while (mxrtc_reader_remaining(&r) > 0) {
        uint8_t op = mxrtc_read_u8(&r);
        if (op & 0x80) {
            now += (uint64_t)(op & 0x7F) * 1000;
            drain(vr, now, &last_pli, &have_pli);
            continue;
        }
        uint16_t len = mxrtc_read_u16(&r);
        const uint8_t *p = mxrtc_read_ptr(&r, len);
        if (r.error) break;
        mxrtc_rtp_packet pkt;
        if (mxrtc_rtp_parse(&pkt, p, len) != MXRTC_OK) continue;
        int rc = mxrtc_video_receiver_push(vr, &pkt, now);
        if (rc != MXRTC_OK && rc != MXRTC_ERR_LIMIT) abort();
        drain(vr, now, &last_pli, &have_pli);
    }
    mxrtc_video_receiver_stats st;
    mxrtc_video_receiver_get_stats(vr, &st);
    if (st.frames_decoded > st.frames_complete) abort();
    mxrtc_video_receiver_free(vr);
    return 0;
}
