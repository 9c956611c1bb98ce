/* Opus (RFC 7587) and VP8 (RFC 7741) packetizers, depacketizers and the
 * VP8 frame assembler: round trips over MTU 1200 and a tiny MTU, a lost
 * middle packet, descriptor byte vectors and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "rtp/rtp.h"
#include "base/random.h"

/* A key frame-shaped VP8 frame: RFC 6386 §9.1 frame tag (key frame bit 0
 * clear), start code, 320x240, then seeded noise. */
static void make_frame(uint8_t *f, size_t len, bool key, uint64_t seed) {
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, seed);
    for (size_t i = 0; i < len; i++) f[i] = (uint8_t)mxrtc_seeded_random_next(&g);
    f[0] = key ? 0x10 : 0x11;
    if (key) {
        f[3] = 0x9d; f[4] = 0x01; f[5] = 0x2a;
        f[6] = 0x40; f[7] = 0x01; f[8] = 0xf0; f[9] = 0x00;
    }
}

typedef struct sent {
    uint8_t pkt[1500];
    size_t len;
} sent;

/* Packetizes one frame into RTP packets of at most mtu bytes. */
static size_t send_frame(sent *out, size_t max_out, const uint8_t *frame, size_t len,
                         size_t mtu, uint16_t *seq, uint32_t ts, uint16_t pic) {
    mxrtc_rtp_packet h;
    memset(&h, 0, sizeof h);
    h.pt = 96; h.ssrc = 0xabcdef01; h.ts = ts;
    int hl = mxrtc_rtp_header_size(&h);
    assert_int_equal(hl, 12);
    mxrtc_vp8_packetizer pk;
    assert_int_equal(mxrtc_vp8_packetizer_init(&pk, frame, len, mtu - (size_t)hl, pic, false), MXRTC_OK);
    size_t n = 0;
    bool last = false;
    while (!last) {
        assert_true(n < max_out);
        h.seq = (*seq)++;
        assert_int_equal(mxrtc_rtp_write_header(&h, out[n].pkt, sizeof out[n].pkt), hl);
        int pl = mxrtc_vp8_packetizer_next(&pk, out[n].pkt + hl, sizeof out[n].pkt - (size_t)hl, &last);
        assert_true(pl > MXRTC_VP8_DESCRIPTOR_LEN);
        if (last) out[n].pkt[1] |= 0x80;      /* marker on the frame's last packet */
        out[n].len = (size_t)hl + (size_t)pl;
        assert_true(out[n].len <= mtu);
        n++;
    }
    uint8_t dummy[16];
    assert_int_equal(mxrtc_vp8_packetizer_next(&pk, dummy, sizeof dummy, &last), MXRTC_ERR_AGAIN);
    return n;
}

static int push(mxrtc_frame_assembler *a, const sent *s, mxrtc_video_frame *f) {
    mxrtc_rtp_packet p;
    assert_int_equal(mxrtc_rtp_parse(&p, s->pkt, s->len), MXRTC_OK);
    return mxrtc_vp8_assembler_push(a, &p, f);
}

static void round_trip(size_t mtu, size_t frame_len, size_t expect_packets) {
    static uint8_t frame[20000], abuf[20000];
    static sent pkts[2000];
    make_frame(frame, frame_len, true, 42);
    uint16_t seq = 65530;   /* crosses the wrap */
    size_t n = send_frame(pkts, 2000, frame, frame_len, mtu, &seq, 3000, 0x1234);
    assert_int_equal(n, expect_packets);
    /* balanced: payload sizes differ by at most one byte */
    size_t mn = SIZE_MAX, mx = 0;
    for (size_t i = 0; i < n; i++) {
        if (pkts[i].len < mn) mn = pkts[i].len;
        if (pkts[i].len > mx) mx = pkts[i].len;
    }
    assert_true(mx - mn <= 1);

    mxrtc_frame_assembler a;
    mxrtc_frame_assembler_init(&a, abuf, sizeof abuf);
    mxrtc_video_frame f;
    for (size_t i = 0; i + 1 < n; i++) assert_int_equal(push(&a, &pkts[i], &f), MXRTC_ERR_AGAIN);
    assert_int_equal(push(&a, &pkts[n - 1], &f), MXRTC_OK);
    assert_int_equal(f.len, frame_len);
    assert_memory_equal(f.data, frame, frame_len);
    assert_true(f.keyframe);
    assert_true(f.has_picture_id);
    assert_int_equal(f.picture_id, 0x1234);
    assert_int_equal(f.ts, 3000);
    assert_false(f.lost_frame);
    assert_int_equal(a.frames_complete, 1);
    assert_int_equal(a.frames_incomplete, 0);
}

static void vp8_round_trip_mtu_1200(void **state) {
    (void)state;
    /* 1200 - 12 header - 4 descriptor = 1184 per packet: 5000 bytes -> 5 */
    round_trip(MXRTC_RTP_DEFAULT_MTU, 5000, 5);
    round_trip(MXRTC_RTP_DEFAULT_MTU, 1184, 1);
    round_trip(MXRTC_RTP_DEFAULT_MTU, 1185, 2);
}

static void vp8_round_trip_tiny_mtu(void **state) {
    (void)state;
    /* 12 + 4 + 4 bytes: 4 bytes of frame per packet */
    round_trip(20, 1000, 250);
    round_trip(17, 50, 50);
}

static void vp8_lost_middle_packet(void **state) {
    (void)state;
    static uint8_t f1[3000], f2[800], abuf[4000];
    static sent p1[8], p2[8];
    make_frame(f1, sizeof f1, true, 1);
    make_frame(f2, sizeof f2, false, 2);
    uint16_t seq = 100;
    size_t n1 = send_frame(p1, 8, f1, sizeof f1, 1200, &seq, 0, 1);
    size_t n2 = send_frame(p2, 8, f2, sizeof f2, 1200, &seq, 3000, 2);
    assert_int_equal(n1, 3);
    assert_int_equal(n2, 1);
    mxrtc_frame_assembler a;
    mxrtc_frame_assembler_init(&a, abuf, sizeof abuf);
    mxrtc_video_frame f;
    assert_int_equal(push(&a, &p1[0], &f), MXRTC_ERR_AGAIN);
    /* p1[1] lost */
    assert_int_equal(push(&a, &p1[2], &f), MXRTC_ERR_AGAIN);
    assert_true(f.lost_frame);
    assert_int_equal(a.frames_incomplete, 1);
    /* the next frame comes through whole */
    assert_int_equal(push(&a, &p2[0], &f), MXRTC_OK);
    assert_false(f.lost_frame);
    assert_false(f.keyframe);
    assert_int_equal(f.picture_id, 2);
    assert_int_equal(f.len, sizeof f2);
    assert_memory_equal(f.data, f2, sizeof f2);
    assert_int_equal(a.frames_complete, 1);
    assert_int_equal(a.frames_incomplete, 1);
}

static void vp8_lost_last_and_first_packets(void **state) {
    (void)state;
    static uint8_t f1[2000], f2[2000], f3[500], abuf[4000];
    static sent p1[4], p2[4], p3[4];
    make_frame(f1, sizeof f1, true, 3);
    make_frame(f2, sizeof f2, false, 4);
    make_frame(f3, sizeof f3, false, 5);
    uint16_t seq = 0;
    assert_int_equal(send_frame(p1, 4, f1, sizeof f1, 1200, &seq, 0, 1), 2);
    assert_int_equal(send_frame(p2, 4, f2, sizeof f2, 1200, &seq, 3000, 2), 2);
    assert_int_equal(send_frame(p3, 4, f3, sizeof f3, 1200, &seq, 6000, 3), 1);
    mxrtc_frame_assembler a;
    mxrtc_frame_assembler_init(&a, abuf, sizeof abuf);
    mxrtc_video_frame f;
    assert_int_equal(push(&a, &p1[0], &f), MXRTC_ERR_AGAIN);
    /* p1[1] (the marker) lost, p2[0] (frame 2's start) lost */
    assert_int_equal(push(&a, &p2[1], &f), MXRTC_ERR_AGAIN);
    assert_true(f.lost_frame);            /* frame 1 abandoned, frame 2 joined late */
    assert_int_equal(a.frames_incomplete, 2);
    assert_int_equal(push(&a, &p3[0], &f), MXRTC_OK);
    assert_int_equal(f.picture_id, 3);
    /* a duplicate or a late packet is ignored: no frame, no loss counted */
    assert_int_equal(push(&a, &p3[0], &f), MXRTC_ERR_AGAIN);
    assert_false(f.lost_frame);
    assert_int_equal(push(&a, &p1[1], &f), MXRTC_ERR_AGAIN);
    assert_false(f.lost_frame);
    assert_int_equal(a.frames_complete, 1);
    assert_int_equal(a.frames_incomplete, 2);
}

static void vp8_frame_too_big_for_buffer(void **state) {
    (void)state;
    static uint8_t f1[3000], abuf[1500];
    static sent p1[4];
    make_frame(f1, sizeof f1, true, 6);
    uint16_t seq = 0;
    assert_int_equal(send_frame(p1, 4, f1, sizeof f1, 1200, &seq, 0, 1), 3);
    mxrtc_frame_assembler a;
    mxrtc_frame_assembler_init(&a, abuf, sizeof abuf);
    mxrtc_video_frame f;
    assert_int_equal(push(&a, &p1[0], &f), MXRTC_ERR_AGAIN);
    assert_int_equal(push(&a, &p1[1], &f), MXRTC_ERR_LIMIT);
    assert_int_equal(push(&a, &p1[2], &f), MXRTC_ERR_AGAIN);
    assert_int_equal(a.frames_complete, 0);
    assert_int_equal(a.frames_incomplete, 1);
}

static void vp8_descriptor_vectors(void **state) {
    (void)state;
    mxrtc_vp8_descriptor d;
    /* X S PID0 | I L T K | M + 15-bit 0x0123 | TL0PICIDX 5 | TID 1 Y KEYIDX 5 | key */
    const uint8_t full[] = {0x90, 0xf0, 0x81, 0x23, 0x05, 0x65, 0x10, 0xaa};
    assert_int_equal(mxrtc_vp8_parse_descriptor(full, sizeof full, &d), MXRTC_OK);
    assert_true(d.start);
    assert_int_equal(d.partition, 0);
    assert_true(d.has_picture_id);
    assert_true(d.picture_id_15bit);
    assert_int_equal(d.picture_id, 0x123);
    assert_true(d.has_tl0picidx);
    assert_int_equal(d.tl0picidx, 5);
    assert_true(d.has_tid);
    assert_int_equal(d.tid, 1);
    assert_true(d.layer_sync);
    assert_true(d.has_keyidx);
    assert_int_equal(d.keyidx, 5);
    assert_int_equal(d.descriptor_len, 6);
    assert_int_equal(d.payload_len, 2);
    assert_true(d.keyframe);
    /* 7-bit picture id, N bit, inter frame */
    const uint8_t short_id[] = {0xb0, 0x80, 0x12, 0x01};
    assert_int_equal(mxrtc_vp8_parse_descriptor(short_id, sizeof short_id, &d), MXRTC_OK);
    assert_true(d.non_reference);
    assert_false(d.picture_id_15bit);
    assert_int_equal(d.picture_id, 0x12);
    assert_false(d.keyframe);
    /* continuation of partition 0 with a P=0 looking byte: not a key frame start */
    const uint8_t cont[] = {0x80, 0x80, 0x12, 0x00};
    assert_int_equal(mxrtc_vp8_parse_descriptor(cont, sizeof cont, &d), MXRTC_OK);
    assert_false(d.keyframe);
    /* start of partition 1 is not a key frame start either */
    const uint8_t p1[] = {0x11, 0x00};
    assert_int_equal(mxrtc_vp8_parse_descriptor(p1, sizeof p1, &d), MXRTC_OK);
    assert_int_equal(d.partition, 1);
    assert_false(d.keyframe);
    /* the minimal descriptor: no X */
    const uint8_t min[] = {0x10, 0x10};
    assert_int_equal(mxrtc_vp8_parse_descriptor(min, sizeof min, &d), MXRTC_OK);
    assert_false(d.has_picture_id);
    assert_true(d.keyframe);
    /* every truncation of the full descriptor */
    for (size_t n = 0; n <= 6; n++)
        assert_int_equal(mxrtc_vp8_parse_descriptor(full, n, &d), MXRTC_ERR_TRUNCATED);
}

static void vp8_assembler_rejects_bad_keyframe_header(void **state) {
    (void)state;
    /* a key frame (P=0) whose start code is wrong */
    uint8_t pkt[12 + 4 + 12];
    mxrtc_rtp_packet h;
    memset(&h, 0, sizeof h);
    h.pt = 96; h.marker = true;
    assert_int_equal(mxrtc_rtp_write_header(&h, pkt, sizeof pkt), 12);
    const uint8_t pl[] = {0x90, 0x80, 0x80, 0x01, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2b, 1, 2, 3, 4, 5, 6};
    memcpy(pkt + 12, pl, sizeof pl);
    mxrtc_rtp_packet p;
    assert_int_equal(mxrtc_rtp_parse(&p, pkt, sizeof pkt), MXRTC_OK);
    uint8_t abuf[64];
    mxrtc_frame_assembler a;
    mxrtc_frame_assembler_init(&a, abuf, sizeof abuf);
    mxrtc_video_frame f;
    assert_int_equal(mxrtc_vp8_assembler_push(&a, &p, &f), MXRTC_ERR_MALFORMED);
    assert_int_equal(a.frames_incomplete, 1);
}


/* ---- VP9 (RFC 9628) ---- */

static void vp9_descriptor_vectors(void **state) {
    (void)state;
    mxrtc_vp9_descriptor d;
    /* I L B E V | M + 0x102 | TID 2 U SID 1 | TL0PICIDX 7 |
     * SS: N_S=1 Y G, 320x180, 640x360, N_G=1 {R=1, P_DIFF 1} | payload */
    const uint8_t ss[] = {0xae, 0x81, 0x02, 0x52, 0x07, 0x38,
                          0x01, 0x40, 0x00, 0xb4, 0x02, 0x80, 0x01, 0x68,
                          0x01, 0x04, 0x01, 0xaa};
    assert_int_equal(mxrtc_vp9_parse_descriptor(ss, sizeof ss, &d), MXRTC_OK);
    assert_true(d.has_picture_id);
    assert_true(d.picture_id_15bit);
    assert_int_equal(d.picture_id, 0x102);
    assert_false(d.inter_predicted);
    assert_true(d.has_layers);
    assert_false(d.flexible);
    assert_true(d.start);
    assert_true(d.end);
    assert_true(d.has_ss);
    assert_int_equal(d.tid, 2);
    assert_true(d.switching_up);
    assert_int_equal(d.sid, 1);
    assert_false(d.inter_layer);
    assert_true(d.has_tl0picidx);
    assert_int_equal(d.tl0picidx, 7);
    assert_int_equal(d.ss_spatial_layers, 2);
    assert_true(d.ss_has_resolution);
    assert_int_equal(d.ss_width[0], 320);
    assert_int_equal(d.ss_height[0], 180);
    assert_int_equal(d.ss_width[1], 640);
    assert_int_equal(d.ss_height[1], 360);
    assert_int_equal(d.ss_groups, 1);
    assert_int_equal(d.descriptor_len, 17);
    assert_int_equal(d.payload_len, 1);
    assert_false(d.keyframe);            /* spatial layer 1 */
    for (size_t n = 0; n <= 17; n++)
        assert_int_equal(mxrtc_vp9_parse_descriptor(ss, n, &d), MXRTC_ERR_TRUNCATED);

    /* flexible mode, P with two reference diffs (1 and 3) */
    const uint8_t flex[] = {0xd8, 0x05, 0x03, 0x06, 0x00};
    assert_int_equal(mxrtc_vp9_parse_descriptor(flex, sizeof flex, &d), MXRTC_OK);
    assert_true(d.flexible);
    assert_true(d.inter_predicted);
    assert_false(d.picture_id_15bit);
    assert_int_equal(d.picture_id, 5);
    assert_int_equal(d.p_diff_count, 2);
    assert_int_equal(d.p_diff[0], 1);
    assert_int_equal(d.p_diff[1], 3);
    assert_false(d.keyframe);
    /* a fourth P_DIFF; flexible mode without a picture id */
    const uint8_t four[] = {0xd8, 0x05, 0x03, 0x03, 0x03, 0x02, 0x00};
    assert_int_equal(mxrtc_vp9_parse_descriptor(four, sizeof four, &d), MXRTC_ERR_MALFORMED);
    const uint8_t noid[] = {0x18, 0x00};
    assert_int_equal(mxrtc_vp9_parse_descriptor(noid, sizeof noid, &d), MXRTC_ERR_MALFORMED);
    /* the smallest key frame start */
    const uint8_t key[] = {0x0c, 0x82};
    assert_int_equal(mxrtc_vp9_parse_descriptor(key, sizeof key, &d), MXRTC_OK);
    assert_true(d.keyframe);
}

static void vp9_round_trip(size_t mtu, size_t len, bool key, size_t expect_packets) {
    static uint8_t frame[20000], abuf[20000];
    static sent pkts[4000];
    make_frame(frame, len, false, 9);
    mxrtc_rtp_packet h;
    memset(&h, 0, sizeof h);
    h.pt = 98; h.ts = 9000;
    mxrtc_vp9_packetizer pk;
    assert_int_equal(mxrtc_vp9_packetizer_init(&pk, frame, len, mtu - 12, 0x2345, key, 640, 360), MXRTC_OK);
    size_t n = 0;
    bool last = false;
    while (!last) {
        h.seq = (uint16_t)(65000 + n);
        assert_int_equal(mxrtc_rtp_write_header(&h, pkts[n].pkt, sizeof pkts[n].pkt), 12);
        int pl = mxrtc_vp9_packetizer_next(&pk, pkts[n].pkt + 12, sizeof pkts[n].pkt - 12, &last);
        assert_true(pl > 3);
        if (last) pkts[n].pkt[1] |= 0x80;
        pkts[n].len = 12 + (size_t)pl;
        assert_true(pkts[n].len <= mtu);
        n++;
    }
    assert_int_equal(n, expect_packets);
    mxrtc_vp9_descriptor d;
    assert_int_equal(mxrtc_vp9_parse_descriptor(pkts[0].pkt + 12, pkts[0].len - 12, &d), MXRTC_OK);
    assert_true(d.start);
    assert_int_equal(d.end, n == 1);
    assert_int_equal(d.has_ss, key);
    if (key) {
        assert_int_equal(d.ss_width[0], 640);
        assert_int_equal(d.ss_height[0], 360);
    }
    mxrtc_frame_assembler a;
    mxrtc_frame_assembler_init(&a, abuf, sizeof abuf);
    mxrtc_video_frame f;
    for (size_t i = 0; i + 1 < n; i++) {
        mxrtc_rtp_packet p;
        assert_int_equal(mxrtc_rtp_parse(&p, pkts[i].pkt, pkts[i].len), MXRTC_OK);
        assert_int_equal(mxrtc_vp9_assembler_push(&a, &p, &f), MXRTC_ERR_AGAIN);
    }
    mxrtc_rtp_packet p;
    assert_int_equal(mxrtc_rtp_parse(&p, pkts[n - 1].pkt, pkts[n - 1].len), MXRTC_OK);
    assert_int_equal(mxrtc_vp9_assembler_push(&a, &p, &f), MXRTC_OK);
    assert_int_equal(f.len, len);
    assert_memory_equal(f.data, frame, len);
    assert_int_equal(f.keyframe, key);
    assert_int_equal(f.picture_id, 0x2345);
}

static void vp9_round_trips(void **state) {
    (void)state;
    /* 1200 - 12: first packet 1180 with the SS, then 1185 each */
    vp9_round_trip(1200, 5000, true, 5);
    vp9_round_trip(1200, 1180, true, 1);
    vp9_round_trip(1200, 1181, true, 2);
    vp9_round_trip(1200, 1185, false, 1);
    vp9_round_trip(21, 600, true, 101);     /* 1 byte after the SS, 6 after */
    vp9_round_trip(16, 300, false, 300);
}

static void opus_packet_framing(void **state) {
    (void)state;
    /* RFC 6716 §3.1 TOC: config 15 (hybrid FB 20 ms), code 0 */
    const uint8_t c0[] = {0x78, 1, 2, 3};
    assert_int_equal(mxrtc_opus_packet_samples(c0, sizeof c0), 960);
    const uint8_t silk60[] = {0x18, 1};            /* config 3: SILK NB 60 ms */
    assert_int_equal(mxrtc_opus_packet_samples(silk60, sizeof silk60), 2880);
    const uint8_t celt25[] = {0x80};               /* config 16: CELT 2.5 ms, DTX-like empty frame */
    assert_int_equal(mxrtc_opus_packet_samples(celt25, sizeof celt25), 120);
    const uint8_t c1[] = {0xf9, 1, 2};             /* code 1: two equal frames of 20 ms */
    assert_int_equal(mxrtc_opus_packet_samples(c1, sizeof c1), 1920);
    assert_int_equal(mxrtc_opus_packet_samples(c1, 2), MXRTC_ERR_MALFORMED);   /* odd */
    const uint8_t c2[] = {0xfa, 0x01, 'a', 'b', 'c'};
    assert_int_equal(mxrtc_opus_packet_samples(c2, sizeof c2), 1920);
    const uint8_t c2bad[] = {0xfa, 0x05, 'a'};
    assert_int_equal(mxrtc_opus_packet_samples(c2bad, sizeof c2bad), MXRTC_ERR_TRUNCATED);
    const uint8_t c2cut[] = {0xfa, 0xfc};          /* two-byte length cut */
    assert_int_equal(mxrtc_opus_packet_samples(c2cut, sizeof c2cut), MXRTC_ERR_TRUNCATED);
    const uint8_t c3cbr[] = {0xfb, 0x03, 1, 2, 3, 4, 5, 6};   /* 3 x 2 bytes */
    assert_int_equal(mxrtc_opus_packet_samples(c3cbr, sizeof c3cbr), 2880);
    assert_int_equal(mxrtc_opus_packet_samples(c3cbr, 7), MXRTC_ERR_MALFORMED);
    const uint8_t c3long[] = {0xfb, 0x07};          /* 7 x 20 ms > 120 ms (R5) */
    assert_int_equal(mxrtc_opus_packet_samples(c3long, sizeof c3long), MXRTC_ERR_MALFORMED);
    const uint8_t c3zero[] = {0xfb, 0x00};
    assert_int_equal(mxrtc_opus_packet_samples(c3zero, sizeof c3zero), MXRTC_ERR_MALFORMED);
    /* VBR + padding: M=2, 2 bytes padding, first frame 1 byte, second 2 */
    const uint8_t c3vbr[] = {0xfb, 0xc2, 0x02, 0x01, 'a', 'b', 'c', 0, 0};
    assert_int_equal(mxrtc_opus_packet_samples(c3vbr, sizeof c3vbr), 1920);
    const uint8_t c3vbrbad[] = {0xfb, 0xc2, 0x02, 0x09, 'a', 'b', 'c', 0, 0};
    assert_int_equal(mxrtc_opus_packet_samples(c3vbrbad, sizeof c3vbrbad), MXRTC_ERR_TRUNCATED);
    const uint8_t c3padbad[] = {0xfb, 0x41, 0xff, 0x10};   /* padding longer than packet */
    assert_int_equal(mxrtc_opus_packet_samples(c3padbad, sizeof c3padbad), MXRTC_ERR_TRUNCATED);
    assert_int_equal(mxrtc_opus_packet_samples(c0, 0), MXRTC_ERR_TRUNCATED);
}

static void opus_round_trip(void **state) {
    (void)state;
    uint8_t frame[160];
    for (size_t i = 0; i < sizeof frame; i++) frame[i] = (uint8_t)(i * 7);
    frame[0] = 0x78;
    mxrtc_rtp_packet h;
    memset(&h, 0, sizeof h);
    h.pt = 111; h.seq = 9; h.ts = 48000; h.ssrc = 77; h.marker = true;
    uint8_t al[1];
    mxrtc_rtp_audio_level_encode(al, true, 30);
    assert_int_equal(mxrtc_rtp_add_ext(&h, 1, al, 1), MXRTC_OK);
    uint8_t buf[1500];
    int n = mxrtc_opus_packetize(&h, frame, sizeof frame, MXRTC_RTP_DEFAULT_MTU, buf, sizeof buf);
    assert_int_equal(n, 12 + 8 + 160);
    mxrtc_rtp_packet p;
    assert_int_equal(mxrtc_rtp_parse(&p, buf, (size_t)n), MXRTC_OK);
    assert_int_equal(p.pt, 111);
    assert_int_equal(p.ts, 48000);
    mxrtc_opus_payload op;
    assert_int_equal(mxrtc_opus_depacketize(p.payload, p.payload_len, &op), MXRTC_OK);
    assert_int_equal(op.samples, 960);
    assert_int_equal(op.len, sizeof frame);
    assert_memory_equal(op.data, frame, sizeof frame);
    /* over the MTU; not an Opus packet; buffer short */
    assert_int_equal(mxrtc_opus_packetize(&h, frame, sizeof frame, 100, buf, sizeof buf), MXRTC_ERR_LIMIT);
    assert_int_equal(mxrtc_opus_packetize(&h, frame, 0, 1200, buf, sizeof buf), MXRTC_ERR_TRUNCATED);
    assert_int_equal(mxrtc_opus_packetize(&h, frame, sizeof frame, 1200, buf, 100), MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(mxrtc_opus_depacketize(p.payload, 0, &op), MXRTC_ERR_TRUNCATED);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vp8_round_trip_mtu_1200),
        cmocka_unit_test(vp8_round_trip_tiny_mtu),
        cmocka_unit_test(vp8_lost_middle_packet),
        cmocka_unit_test(vp8_lost_last_and_first_packets),
        cmocka_unit_test(vp8_frame_too_big_for_buffer),
        cmocka_unit_test(vp8_descriptor_vectors),
        cmocka_unit_test(vp8_assembler_rejects_bad_keyframe_header),
        cmocka_unit_test(vp9_descriptor_vectors),
        cmocka_unit_test(vp9_round_trips),
        cmocka_unit_test(opus_packet_framing),
        cmocka_unit_test(opus_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
