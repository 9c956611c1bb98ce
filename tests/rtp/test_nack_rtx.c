/* Receive-side NACK generation and send-side RTX history (RFC 4585
 * §6.2.1, RFC 4588 §4) on a virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "rtp/rtp.h"
#include "support/test_alloc.h"

#define MS 1000u

static size_t poll_at(mxrtc_nack_gen *g, mxrtc_time_us now, uint16_t *seqs, bool *gave_up) {
    size_t n = 99;
    assert_int_equal(mxrtc_nack_poll(g, now, seqs, 64, &n, gave_up), MXRTC_OK);
    return n;
}

static void waits_for_reordering_then_repeats_per_rtt(void **state) {
    (void)state;
    mxrtc_nack_gen g;
    mxrtc_nack_init(&g, NULL);
    uint16_t s[64];
    bool gave_up;
    assert_int_equal(mxrtc_nack_deadline(&g), MXRTC_TIME_NEVER);
    for (uint16_t q = 1; q <= 3; q++) assert_int_equal(mxrtc_nack_on_packet(&g, q, 0), MXRTC_OK);
    assert_int_equal(mxrtc_nack_on_packet(&g, 6, 0), MXRTC_OK);      /* 4, 5 missing */
    assert_int_equal(poll_at(&g, 0, s, &gave_up), 0);                 /* reordering may still fix it */
    assert_int_equal(mxrtc_nack_deadline(&g), 10 * MS);
    assert_int_equal(poll_at(&g, 10 * MS, s, &gave_up), 2);
    assert_int_equal(s[0], 4);
    assert_int_equal(s[1], 5);
    assert_false(gave_up);
    assert_int_equal(poll_at(&g, 60 * MS, s, &gave_up), 0);           /* not again within an RTT */
    assert_int_equal(mxrtc_nack_deadline(&g), 110 * MS);
    assert_int_equal(mxrtc_nack_on_packet(&g, 5, 70 * MS), MXRTC_OK); /* 5 recovered */
    assert_int_equal(g.recovered, 1);
    assert_int_equal(poll_at(&g, 110 * MS, s, &gave_up), 1);
    assert_int_equal(s[0], 4);
    /* a measured RTT replaces the default */
    mxrtc_nack_set_rtt(&g, 30 * MS);
    assert_int_equal(mxrtc_nack_deadline(&g), 140 * MS);
    assert_int_equal(poll_at(&g, 139 * MS, s, &gave_up), 0);
    assert_int_equal(poll_at(&g, 140 * MS, s, &gave_up), 1);
    assert_true(g.nacks_sent == 4);
}

static void reordered_packet_is_never_nacked(void **state) {
    (void)state;
    mxrtc_nack_gen g;
    mxrtc_nack_init(&g, NULL);
    uint16_t s[64];
    mxrtc_nack_on_packet(&g, 1, 0);
    mxrtc_nack_on_packet(&g, 3, 1 * MS);
    mxrtc_nack_on_packet(&g, 2, 3 * MS);
    assert_int_equal(poll_at(&g, 50 * MS, s, NULL), 0);
    assert_int_equal(g.count, 0);
    assert_int_equal(mxrtc_nack_deadline(&g), MXRTC_TIME_NEVER);
    mxrtc_nack_on_packet(&g, 3, 4 * MS);      /* duplicate: no effect */
    assert_int_equal(g.count, 0);
}

static void enough_newer_packets_mean_lost(void **state) {
    (void)state;
    mxrtc_nack_gen g;
    mxrtc_nack_init(&g, NULL);
    uint16_t s[64];
    mxrtc_nack_on_packet(&g, 65534, 0);        /* and across the wrap */
    mxrtc_nack_on_packet(&g, 1, 0);            /* 65535, 0 missing */
    assert_int_equal(poll_at(&g, 0, s, NULL), 0);
    mxrtc_nack_on_packet(&g, 2, 1 * MS);
    mxrtc_nack_on_packet(&g, 3, 2 * MS);       /* 3 newer than 0, 4 newer than 65535 */
    assert_int_equal(mxrtc_nack_deadline(&g), 0);
    assert_int_equal(poll_at(&g, 2 * MS, s, NULL), 2);
    assert_int_equal(s[0], 65535);
    assert_int_equal(s[1], 0);
}

static void gives_up_after_retries_and_age(void **state) {
    (void)state;
    mxrtc_nack_config cfg;
    mxrtc_nack_config_init(&cfg);
    cfg.max_retries = 2;
    mxrtc_nack_gen g;
    mxrtc_nack_init(&g, &cfg);
    uint16_t s[64];
    bool gave_up;
    mxrtc_nack_on_packet(&g, 10, 0);
    mxrtc_nack_on_packet(&g, 12, 0);
    assert_int_equal(poll_at(&g, 10 * MS, s, &gave_up), 1);
    assert_int_equal(poll_at(&g, 110 * MS, s, &gave_up), 1);
    assert_false(gave_up);
    assert_int_equal(poll_at(&g, 150 * MS, s, &gave_up), 0);   /* last try still in flight */
    assert_false(gave_up);
    assert_int_equal(poll_at(&g, 210 * MS, s, &gave_up), 0);
    assert_true(gave_up);
    assert_int_equal(g.given_up, 1);
    assert_int_equal(g.count, 0);
    /* age: never NACKed often enough, but older than max_age */
    mxrtc_nack_init(&g, NULL);
    mxrtc_nack_set_rtt(&g, 600 * MS);
    mxrtc_nack_on_packet(&g, 10, 0);
    mxrtc_nack_on_packet(&g, 12, 0);
    assert_int_equal(poll_at(&g, 10 * MS, s, &gave_up), 1);
    assert_int_equal(poll_at(&g, 610 * MS, s, &gave_up), 1);
    assert_int_equal(mxrtc_nack_deadline(&g), 1000 * MS + 1);
    assert_int_equal(poll_at(&g, 1000 * MS + 1, s, &gave_up), 0);
    assert_true(gave_up);
}

static void list_is_bounded(void **state) {
    (void)state;
    mxrtc_nack_config cfg;
    mxrtc_nack_config_init(&cfg);
    cfg.max_list = 8;
    mxrtc_nack_gen g;
    mxrtc_nack_init(&g, &cfg);
    uint16_t s[64];
    mxrtc_nack_on_packet(&g, 0, 0);
    assert_int_equal(mxrtc_nack_on_packet(&g, 21, 0), MXRTC_ERR_LIMIT);   /* 20 missing */
    assert_int_equal(g.count, 8);
    assert_int_equal(g.overflowed, 12);
    assert_int_equal(g.list[0].seq, 13);
    assert_int_equal(mxrtc_nack_on_packet(&g, 24, 0), MXRTC_ERR_LIMIT);   /* 2 more push 2 out */
    assert_int_equal(g.count, 8);
    assert_int_equal(g.list[0].seq, 15);
    assert_int_equal(g.list[7].seq, 23);
    assert_int_equal(poll_at(&g, 10 * MS, s, NULL), 8);
    /* a jump over max_gap clears everything */
    assert_int_equal(mxrtc_nack_on_packet(&g, 5000, 20 * MS), MXRTC_ERR_LIMIT);
    assert_int_equal(g.count, 0);
    assert_int_equal(mxrtc_nack_on_packet(&g, 5001, 20 * MS), MXRTC_OK);
    /* one stray far-old packet is ignored; two in sequence restart */
    assert_int_equal(mxrtc_nack_on_packet(&g, 40000, 20 * MS), MXRTC_OK);
    assert_int_equal(g.newest, 5001);
    assert_int_equal(mxrtc_nack_on_packet(&g, 40001, 20 * MS), MXRTC_ERR_LIMIT);
    assert_int_equal(g.newest, 40001);
    assert_int_equal(mxrtc_nack_on_packet(&g, 40002, 20 * MS), MXRTC_OK);
    assert_int_equal(g.count, 0);
}

/* Original: one-byte extension (TWCC id 5 = 42), payload "abc". */
static const uint8_t orig_pkt[] = {
    0x90, 0xe0, 0x00, 0x66, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x11,
    0xbe, 0xde, 0x00, 0x01, 0x51, 0x00, 0x2a, 0x00,
    'a', 'b', 'c'};
/* RTX: SSRC 0x55, PT 97, seq 1000, marker kept, OSN 0x0066 before "abc". */
static const uint8_t rtx_pkt[] = {
    0x90, 0xe1, 0x03, 0xe8, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x55,
    0xbe, 0xde, 0x00, 0x01, 0x51, 0x00, 0x2a, 0x00,
    0x00, 0x66, 'a', 'b', 'c'};

static void rtx_answers_nack_both_ways(void **state) {
    (void)state;
    mxrtc_rtx_config cfg = {.capacity = 4, .max_packet = 64, .rtx_ssrc = 0x55, .rtx_pt = 97,
                            .first_rtx_seq = 1000};
    mxrtc_rtx_history *h;
    assert_int_equal(mxrtc_rtx_history_new(&h, NULL, &cfg), MXRTC_OK);
    uint8_t p[sizeof orig_pkt];
    for (uint16_t q = 0x64; q <= 0x67; q++) {
        memcpy(p, orig_pkt, sizeof p);
        mxrtc_store_u16(p + 2, q);
        assert_int_equal(mxrtc_rtx_history_put(h, p, sizeof p, q * MS), MXRTC_OK);
    }
    uint8_t out[128];
    assert_int_equal(mxrtc_rtx_history_resend(h, 0x66, 200 * MS, 50 * MS, out, sizeof out), sizeof rtx_pkt);
    assert_memory_equal(out, rtx_pkt, sizeof rtx_pkt);
    /* the same NACK again within the interval: already in flight */
    assert_int_equal(mxrtc_rtx_history_resend(h, 0x66, 220 * MS, 50 * MS, out, sizeof out), MXRTC_ERR_AGAIN);
    int n = mxrtc_rtx_history_resend(h, 0x66, 250 * MS, 50 * MS, out, sizeof out);
    assert_int_equal(n, sizeof rtx_pkt);
    assert_int_equal(mxrtc_load_u16(out + 2), 1001);        /* RTX has its own seq space */
    assert_int_equal(mxrtc_rtx_history_resend(h, 0x66, 400 * MS, 50 * MS, out, 20), MXRTC_ERR_BUFFER_TOO_SMALL);
    /* a fifth packet replaces the oldest */
    mxrtc_store_u16(p + 2, 0x68);
    assert_int_equal(mxrtc_rtx_history_put(h, p, sizeof p, 300 * MS), MXRTC_OK);
    assert_int_equal(mxrtc_rtx_history_resend(h, 0x64, 300 * MS, 0, out, sizeof out), MXRTC_ERR_NOT_FOUND);
    assert_int_equal(mxrtc_rtx_history_resend(h, 0x68, 300 * MS, 0, out, sizeof out), sizeof rtx_pkt);
    assert_int_equal(mxrtc_rtx_history_resend(h, 0x1000, 300 * MS, 0, out, sizeof out), MXRTC_ERR_NOT_FOUND);
    assert_true(mxrtc_rtx_history_resent(h) == 3);
    assert_true(mxrtc_rtx_history_missed(h) == 2);
    /* bad puts */
    uint8_t big[65] = {0x80};
    assert_int_equal(mxrtc_rtx_history_put(h, big, sizeof big, 0), MXRTC_ERR_LIMIT);
    assert_int_equal(mxrtc_rtx_history_put(h, big, 11, 0), MXRTC_ERR_TRUNCATED);
    mxrtc_rtx_history_free(h);
    mxrtc_rtx_history_free(NULL);

    /* receive side: RTX back into the original, byte for byte */
    mxrtc_rtp_packet rtx, media;
    assert_int_equal(mxrtc_rtp_parse(&rtx, rtx_pkt, sizeof rtx_pkt), MXRTC_OK);
    assert_int_equal(mxrtc_rtx_decapsulate(&rtx, 0x11, 96, &media), MXRTC_OK);
    assert_int_equal(media.seq, 0x66);
    assert_int_equal(media.ssrc, 0x11);
    assert_int_equal(media.pt, 96);
    assert_true(media.marker);
    assert_int_equal(media.payload_len, 3);
    uint8_t back[64];
    assert_int_equal(mxrtc_rtp_write(&media, back, sizeof back), sizeof orig_pkt);
    assert_memory_equal(back, orig_pkt, sizeof orig_pkt);
    /* padding-only RTX (probing) and a 1-byte payload */
    const uint8_t probe[] = {0xa0, 0x61, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x55, 0, 0, 0, 4};
    assert_int_equal(mxrtc_rtp_parse(&rtx, probe, sizeof probe), MXRTC_OK);
    assert_int_equal(mxrtc_rtx_decapsulate(&rtx, 0x11, 96, &media), MXRTC_ERR_NOT_FOUND);
    const uint8_t one[] = {0x80, 0x61, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x55, 7};
    assert_int_equal(mxrtc_rtp_parse(&rtx, one, sizeof one), MXRTC_OK);
    assert_int_equal(mxrtc_rtx_decapsulate(&rtx, 0x11, 96, &media), MXRTC_ERR_TRUNCATED);
}

static void rtx_history_allocation_failures(void **state) {
    (void)state;
    mxrtc_rtx_config cfg = {.capacity = 16, .rtx_ssrc = 1, .rtx_pt = 97};
    for (long i = 1; i <= 3; i++) {
        test_alloc ta;
        test_alloc_init(&ta);
        test_alloc_fail_nth(&ta, i);
        mxrtc_rtx_history *h = (void *)1;
        assert_int_equal(mxrtc_rtx_history_new(&h, &ta.iface, &cfg), MXRTC_ERR_NO_MEMORY);
        assert_null(h);
        assert_int_equal(ta.live, 0);
    }
    test_alloc ta;
    test_alloc_init(&ta);
    mxrtc_rtx_history *h;
    assert_int_equal(mxrtc_rtx_history_new(&h, &ta.iface, &cfg), MXRTC_OK);
    assert_int_equal(ta.live, 3);
    mxrtc_rtx_history_free(h);
    assert_int_equal(ta.live, 0);
    cfg.capacity = 40000;
    assert_int_equal(mxrtc_rtx_history_new(&h, NULL, &cfg), MXRTC_ERR_INVALID_ARGUMENT);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(waits_for_reordering_then_repeats_per_rtt),
        cmocka_unit_test(reordered_packet_is_never_nacked),
        cmocka_unit_test(enough_newer_packets_mean_lost),
        cmocka_unit_test(gives_up_after_retries_and_age),
        cmocka_unit_test(list_is_bounded),
        cmocka_unit_test(rtx_answers_nack_both_ways),
        cmocka_unit_test(rtx_history_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
