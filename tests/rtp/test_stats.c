/* Receive statistics (RFC 3550 A.1, A.3, A.8) and sender reports / RTT
 * (§6.4.1), on a virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "rtp/rtp.h"

#define MS 1000u

static void probation_then_wraparound(void **state) {
    (void)state;
    mxrtc_receive_stats s;
    mxrtc_receive_stats_init(&s, 5, 90000);
    /* A.1: MIN_SEQUENTIAL = 2, the first packet is on probation */
    assert_int_equal(mxrtc_receive_stats_update(&s, 65533, 0, 100, 0), MXRTC_ERR_AGAIN);
    mxrtc_rtcp_report_block rb;
    assert_int_equal(mxrtc_receive_stats_report(&s, 0, &rb), MXRTC_ERR_AGAIN);
    assert_int_equal(mxrtc_receive_stats_update(&s, 65534, 0, 100, 0), MXRTC_OK);
    assert_int_equal(mxrtc_receive_stats_update(&s, 65535, 0, 100, 0), MXRTC_OK);
    assert_int_equal(mxrtc_receive_stats_update(&s, 0, 0, 100, 0), MXRTC_OK);
    assert_int_equal(mxrtc_receive_stats_update(&s, 1, 0, 100, 0), MXRTC_OK);
    assert_int_equal(mxrtc_receive_stats_update(&s, 2, 0, 100, 0), MXRTC_OK);
    assert_int_equal(mxrtc_receive_stats_ext_max(&s), 65536 + 2);
    assert_int_equal(mxrtc_receive_stats_report(&s, 0, &rb), MXRTC_OK);
    assert_int_equal(rb.ssrc, 5);
    assert_int_equal(rb.ext_highest_seq, 65538);
    assert_int_equal(rb.cumulative_lost, 0);
    assert_int_equal(rb.fraction_lost, 0);
    assert_int_equal(rb.lsr, 0);
    assert_int_equal(rb.dlsr, 0);
    assert_true(s.packets_total == 6);
    assert_true(s.bytes_total == 600);
}

static void probation_restarts_on_out_of_order(void **state) {
    (void)state;
    mxrtc_receive_stats s;
    mxrtc_receive_stats_init(&s, 5, 90000);
    assert_int_equal(mxrtc_receive_stats_update(&s, 10, 0, 0, 0), MXRTC_ERR_AGAIN);
    assert_int_equal(mxrtc_receive_stats_update(&s, 50, 0, 0, 0), MXRTC_ERR_AGAIN);
    assert_int_equal(mxrtc_receive_stats_update(&s, 51, 0, 0, 0), MXRTC_OK);
    assert_int_equal(s.base_seq, 51);
}

static void reordering_and_duplicates(void **state) {
    (void)state;
    mxrtc_receive_stats s;
    mxrtc_receive_stats_init(&s, 1, 8000);
    s.min_sequential = 0;
    const uint16_t seqs[] = {10, 11, 13, 12, 14, 14, 12};
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++)
        assert_int_equal(mxrtc_receive_stats_update(&s, seqs[i], 0, 0, 0), MXRTC_OK);
    mxrtc_rtcp_report_block rb;
    assert_int_equal(mxrtc_receive_stats_report(&s, 0, &rb), MXRTC_OK);
    /* A.3: expected 5 (10..14), received 7 (A.1 counts duplicates) */
    assert_int_equal(rb.ext_highest_seq, 14);
    assert_int_equal(rb.cumulative_lost, -2);
    assert_int_equal(rb.fraction_lost, 0);     /* lost_interval <= 0 */
}

static void loss_fraction_matches_a3(void **state) {
    (void)state;
    mxrtc_receive_stats s;
    mxrtc_receive_stats_init(&s, 1, 8000);
    s.min_sequential = 0;
    /* interval 1: 0..99 without 10, 20, 30, 40, 50 */
    for (unsigned q = 0; q < 100; q++)
        if (q == 0 || q % 10 || q > 50) mxrtc_receive_stats_update(&s, (uint16_t)q, 0, 0, 0);
    mxrtc_rtcp_report_block rb;
    assert_int_equal(mxrtc_receive_stats_report(&s, 0, &rb), MXRTC_OK);
    /* A.3: fraction = (lost_interval << 8) / expected_interval */
    assert_int_equal(rb.cumulative_lost, 5);
    assert_int_equal(rb.fraction_lost, (5 << 8) / 100);
    /* interval 2: 100..199 without 150 and 151 */
    for (unsigned q = 100; q < 200; q++)
        if (q != 150 && q != 151) mxrtc_receive_stats_update(&s, (uint16_t)q, 0, 0, 0);
    assert_int_equal(mxrtc_receive_stats_report(&s, 0, &rb), MXRTC_OK);
    assert_int_equal(rb.cumulative_lost, 7);
    assert_int_equal(rb.fraction_lost, (2 << 8) / 100);
    /* interval 3: nothing received, nothing expected */
    assert_int_equal(mxrtc_receive_stats_report(&s, 0, &rb), MXRTC_OK);
    assert_int_equal(rb.fraction_lost, 0);
    assert_int_equal(rb.cumulative_lost, 7);
}

static void big_jump_then_restart(void **state) {
    (void)state;
    mxrtc_receive_stats s;
    mxrtc_receive_stats_init(&s, 1, 8000);
    s.min_sequential = 0;
    assert_int_equal(mxrtc_receive_stats_update(&s, 1000, 0, 0, 0), MXRTC_OK);
    assert_int_equal(mxrtc_receive_stats_update(&s, 1001, 0, 0, 0), MXRTC_OK);
    /* beyond MAX_DROPOUT: dropped once ... */
    assert_int_equal(mxrtc_receive_stats_update(&s, 20000, 0, 0, 0), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_receive_stats_update(&s, 1002, 0, 0, 0), MXRTC_OK);
    /* ... but two in a row mean the sender restarted (A.1 bad_seq) */
    assert_int_equal(mxrtc_receive_stats_update(&s, 30000, 0, 0, 0), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_receive_stats_update(&s, 30001, 0, 0, 0), MXRTC_OK);
    assert_int_equal(s.base_seq, 30001);
    mxrtc_rtcp_report_block rb;
    assert_int_equal(mxrtc_receive_stats_report(&s, 0, &rb), MXRTC_OK);
    assert_int_equal(rb.ext_highest_seq, 30001);
    assert_int_equal(rb.cumulative_lost, 0);
    /* a late packet within MAX_MISORDER is counted as received */
    assert_int_equal(mxrtc_receive_stats_update(&s, 29990, 0, 0, 0), MXRTC_OK);
}

static void jitter_follows_a8(void **state) {
    (void)state;
    mxrtc_receive_stats s;
    mxrtc_receive_stats_init(&s, 1, 8000);
    s.min_sequential = 0;
    /* 20 ms packets (160 ticks at 8 kHz) arriving on time: no jitter */
    uint64_t t0 = 5000000;
    for (unsigned i = 0; i < 10; i++)
        mxrtc_receive_stats_update(&s, (uint16_t)i, 160 * i, 0, t0 + 20 * MS * i);
    mxrtc_rtcp_report_block rb;
    mxrtc_receive_stats_report(&s, 0, &rb);
    assert_int_equal(rb.jitter, 0);
    /* packet 10 is 10 ms (80 ticks) late, packet 11 on time again */
    mxrtc_receive_stats_update(&s, 10, 1600, 0, t0 + 200 * MS + 10 * MS);
    mxrtc_receive_stats_update(&s, 11, 1760, 0, t0 + 220 * MS);
    /* A.8 in real numbers: J1 = 80/16 = 5, J2 = 5 + (80 - 5)/16 = 9.69 */
    double j = 0;
    j += (80 - j) / 16;
    j += (80 - j) / 16;
    mxrtc_receive_stats_report(&s, 0, &rb);
    assert_int_equal(rb.jitter, (uint32_t)j);
    /* a reordered (older) packet does not feed the estimate */
    uint32_t before = s.jitter_q4;
    mxrtc_receive_stats_update(&s, 9, 1440, 0, t0 + 300 * MS);
    assert_int_equal(s.jitter_q4, before);
}

static void rtt_from_lsr_dlsr(void **state) {
    (void)state;
    /* sender: NTP at caller time 0 is 3800000000 s; SR at 1 s */
    const uint64_t off = 3800000000ull * 1000000u;
    mxrtc_send_stats snd;
    mxrtc_send_stats_init(&snd, 0x1234, 90000, off);
    mxrtc_rtcp_sr sr;
    assert_int_equal(mxrtc_send_stats_sr(&snd, 0, &sr), MXRTC_ERR_AGAIN);
    mxrtc_send_stats_on_sent(&snd, 1000, 1000 * MS, 500);
    mxrtc_send_stats_on_sent(&snd, 1000, 1000 * MS, 300);
    assert_int_equal(mxrtc_send_stats_sr(&snd, 1000 * MS, &sr), MXRTC_OK);
    assert_true(sr.ntp == (3800000001ull << 32));
    assert_int_equal(sr.rtp_ts, 1000);
    assert_int_equal(sr.packet_count, 2);
    assert_int_equal(sr.octet_count, 800);
    /* receiver (its own clock) gets the SR at 7 s, reports 0.5 s later */
    mxrtc_receive_stats rcv;
    mxrtc_receive_stats_init(&rcv, 0x1234, 90000);
    rcv.min_sequential = 0;
    mxrtc_receive_stats_update(&rcv, 1, 1000, 0, 6900 * MS);
    mxrtc_receive_stats_on_sr(&rcv, &sr, 7000 * MS);
    mxrtc_rtcp_report_block rb;
    assert_int_equal(mxrtc_receive_stats_report(&rcv, 7500 * MS, &rb), MXRTC_OK);
    assert_int_equal(rb.lsr, (uint32_t)(3800000001ull << 16));
    assert_int_equal(rb.dlsr, 32768);          /* 0.5 s in 1/65536 s */
    /* back at the sender 62.5 ms of network later: 1 s + 0.5 s + 62.5 ms */
    uint64_t rtt;
    assert_int_equal(mxrtc_send_stats_on_report_block(&snd, &rb, 1562500, &rtt), MXRTC_OK);
    assert_true(rtt == 62500);
    assert_true(snd.have_rtt);
    /* other SSRC, no LSR, impossible (negative) result */
    mxrtc_rtcp_report_block other = rb;
    other.ssrc = 9;
    assert_int_equal(mxrtc_send_stats_on_report_block(&snd, &other, 1562500, &rtt), MXRTC_ERR_NOT_FOUND);
    other = rb;
    other.lsr = 0;
    assert_int_equal(mxrtc_send_stats_on_report_block(&snd, &other, 1562500, &rtt), MXRTC_ERR_AGAIN);
    assert_int_equal(mxrtc_send_stats_on_report_block(&snd, &rb, 1400 * MS, &rtt), MXRTC_ERR_MALFORMED);
}

static void sr_timestamp_and_lip_sync(void **state) {
    (void)state;
    mxrtc_send_stats snd;
    mxrtc_send_stats_init(&snd, 1, 90000, 0);
    mxrtc_send_stats_on_sent(&snd, 1000, 1000 * MS, 10);
    mxrtc_rtcp_sr sr;
    /* §6.4.1: the timestamp of the SR instant, 0.5 s after the last frame */
    assert_int_equal(mxrtc_send_stats_sr(&snd, 1500 * MS, &sr), MXRTC_OK);
    assert_int_equal(sr.rtp_ts, 1000 + 45000);
    assert_true(sr.ntp == ((1ull << 32) | (1ull << 31)));   /* 1.5 s */
    /* receiver maps RTP timestamps to the sender's wallclock */
    mxrtc_receive_stats rcv;
    mxrtc_receive_stats_init(&rcv, 1, 90000);
    uint64_t ntp;
    assert_int_equal(mxrtc_receive_stats_ntp_for_ts(&rcv, 0, &ntp), MXRTC_ERR_AGAIN);
    mxrtc_receive_stats_on_sr(&rcv, &sr, 0);
    assert_int_equal(mxrtc_receive_stats_ntp_for_ts(&rcv, 1000 + 45000 + 90000, &ntp), MXRTC_OK);
    assert_true(ntp == sr.ntp + (1ull << 32));
    assert_int_equal(mxrtc_receive_stats_ntp_for_ts(&rcv, 1000, &ntp), MXRTC_OK);
    assert_true(ntp == (1ull << 32));
    /* across the 32-bit timestamp wrap */
    sr.rtp_ts = 0xffffffffu - 44999;
    mxrtc_receive_stats_on_sr(&rcv, &sr, 0);
    assert_int_equal(mxrtc_receive_stats_ntp_for_ts(&rcv, 45000, &ntp), MXRTC_OK);
    assert_true(ntp == sr.ntp + (1ull << 32));
    assert_true(mxrtc_ntp_from_time(250 * MS, 0) == (1ull << 30));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(probation_then_wraparound),
        cmocka_unit_test(probation_restarts_on_out_of_order),
        cmocka_unit_test(reordering_and_duplicates),
        cmocka_unit_test(loss_fraction_matches_a3),
        cmocka_unit_test(big_jump_then_restart),
        cmocka_unit_test(jitter_follows_a8),
        cmocka_unit_test(rtt_from_lsr_dlsr),
        cmocka_unit_test(sr_timestamp_and_lip_sync),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
