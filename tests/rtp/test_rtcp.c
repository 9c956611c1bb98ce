/* RTCP report and feedback packets against byte vectors written from RFC
 * 3550 §6, RFC 4585 §6, RFC 5104 §4.3.1 and the REMB draft, both ways; the
 * compound walk, RFC 5506 reduced-size packets and bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "rtp/rtp.h"

/* SR, RC=1: sender info, then one report block */
static const uint8_t sr_vec[] = {
    0x81, 0xc8, 0x00, 0x0c,
    0x11, 0x22, 0x33, 0x44,                          /* SSRC */
    0xe1, 0x2f, 0x3c, 0x4d, 0x80, 0x00, 0x00, 0x00,  /* NTP */
    0x00, 0x01, 0xe2, 0x40,                          /* RTP ts 123456 */
    0x00, 0x00, 0x00, 0x0a,                          /* packets */
    0x00, 0x00, 0x03, 0xe8,                          /* octets */
    0x55, 0x66, 0x77, 0x88, 0x40, 0x00, 0x00, 0x05,  /* RB: ssrc, 1/4 lost, 5 lost */
    0x00, 0x01, 0x00, 0x20, 0x00, 0x00, 0x00, 0x1e,  /* ext seq, jitter 30 */
    0x2f, 0x3c, 0x4d, 0x80, 0x00, 0x01, 0x80, 0x00}; /* LSR, DLSR 1.5 s */

/* RR, RC=1, negative cumulative loss (-2, duplicates) */
static const uint8_t rr_vec[] = {
    0x81, 0xc9, 0x00, 0x07,
    0x99, 0x88, 0x77, 0x66,
    0x11, 0x22, 0x33, 0x44, 0x00, 0xff, 0xff, 0xfe,
    0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

/* SDES: one chunk, CNAME "user@example.com", END, 1 null to the boundary */
static const uint8_t sdes_vec[] = {
    0x81, 0xca, 0x00, 0x06,
    0x11, 0x22, 0x33, 0x44,
    0x01, 0x10, 'u', 's', 'e', 'r', '@', 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
    0x00, 0x00};

/* BYE with reason "shutdown" */
static const uint8_t bye_vec[] = {
    0x81, 0xcb, 0x00, 0x04,
    0x11, 0x22, 0x33, 0x44,
    0x08, 's', 'h', 'u', 't', 'd', 'o', 'w', 'n', 0x00, 0x00, 0x00};

/* Generic NACK: PID 100, BLP 0x0005 -> 100, 101, 103 */
static const uint8_t nack_vec[] = {
    0x81, 0xcd, 0x00, 0x03,
    0x00, 0x00, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44,
    0x00, 0x64, 0x00, 0x05};

static const uint8_t pli_vec[] = {
    0x81, 0xce, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44};

/* FIR: media SSRC 0, one entry (SSRC, seq nr 7, reserved) */
static const uint8_t fir_vec[] = {
    0x84, 0xce, 0x00, 0x04,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x11, 0x22, 0x33, 0x44, 0x07, 0x00, 0x00, 0x00};

/* REMB 1 Mbit/s = 250000 << 2: exp 2, mantissa 0x3d090 -> 0x0bd090 */
static const uint8_t remb_vec[] = {
    0x8f, 0xce, 0x00, 0x05,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    'R', 'E', 'M', 'B', 0x01, 0x0b, 0xd0, 0x90,
    0x11, 0x22, 0x33, 0x44};

/* TWCC: base 100, 4 packets (recv, recv, lost, recv), ref 1 (64 ms),
 * one 1-bit vector chunk 1101, deltas 4, 4, 40 ticks, 3 bytes of zeros */
static const uint8_t twcc_vec[] = {
    0x8f, 0xcd, 0x00, 0x06,
    0x00, 0x00, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44,
    0x00, 0x64, 0x00, 0x04, 0x00, 0x00, 0x01, 0x00,
    0xb4, 0x00, 0x04, 0x04, 0x28, 0x00, 0x00, 0x00};

static int one_packet(const uint8_t *data, size_t len, mxrtc_rtcp_header *h) {
    mxrtc_rtcp_iter it;
    mxrtc_rtcp_iter_init(&it, data, len);
    int rc = mxrtc_rtcp_next(&it, h);
    if (rc != 1) return rc;
    return mxrtc_rtcp_next(&it, &(mxrtc_rtcp_header){0}) == 0 ? 1 : -100;
}

static void check_written(mxrtc_writer *w, const uint8_t *want, size_t len) {
    assert_false(w->error);
    assert_int_equal(w->pos, len);
    assert_memory_equal(w->data, want, len);
}

static void sr_both_ways(void **state) {
    (void)state;
    mxrtc_rtcp_header h;
    assert_int_equal(one_packet(sr_vec, sizeof sr_vec, &h), 1);
    assert_int_equal(h.pt, MXRTC_RTCP_SR);
    mxrtc_rtcp_sr sr;
    assert_int_equal(mxrtc_rtcp_parse_sr(&h, &sr), MXRTC_OK);
    assert_int_equal(sr.ssrc, 0x11223344);
    assert_true(sr.ntp == 0xe12f3c4d80000000ull);
    assert_int_equal(sr.rtp_ts, 123456);
    assert_int_equal(sr.packet_count, 10);
    assert_int_equal(sr.octet_count, 1000);
    assert_int_equal(sr.rb_count, 1);
    assert_int_equal(sr.rb[0].ssrc, 0x55667788);
    assert_int_equal(sr.rb[0].fraction_lost, 0x40);
    assert_int_equal(sr.rb[0].cumulative_lost, 5);
    assert_int_equal(sr.rb[0].ext_highest_seq, 0x10020);
    assert_int_equal(sr.rb[0].jitter, 30);
    assert_int_equal(sr.rb[0].lsr, 0x2f3c4d80);
    assert_int_equal(sr.rb[0].dlsr, 0x18000);
    uint8_t buf[128];
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_rtcp_write_sr(&w, &sr), MXRTC_OK);
    check_written(&w, sr_vec, sizeof sr_vec);
    /* sender info cut short (RC=0, length 5: 20 of 24 bytes) */
    const uint8_t short_sr[] = {0x80, 0xc8, 0x00, 0x05, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24};
    mxrtc_rtcp_header hs;
    assert_int_equal(one_packet(short_sr, 24, &hs), 1);
    assert_int_equal(mxrtc_rtcp_parse_sr(&hs, &sr), MXRTC_ERR_TRUNCATED);
    /* a wrong parser for the type is refused */
    mxrtc_rtcp_rr rr;
    assert_int_equal(mxrtc_rtcp_parse_rr(&h, &rr), MXRTC_ERR_INVALID_ARGUMENT);
}

static void rr_both_ways(void **state) {
    (void)state;
    mxrtc_rtcp_header h;
    assert_int_equal(one_packet(rr_vec, sizeof rr_vec, &h), 1);
    mxrtc_rtcp_rr rr;
    assert_int_equal(mxrtc_rtcp_parse_rr(&h, &rr), MXRTC_OK);
    assert_int_equal(rr.ssrc, 0x99887766);
    assert_int_equal(rr.rb_count, 1);
    assert_int_equal(rr.rb[0].cumulative_lost, -2);
    assert_int_equal(rr.rb[0].ext_highest_seq, 0xffff);
    uint8_t buf[64];
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_rtcp_write_rr(&w, &rr), MXRTC_OK);
    check_written(&w, rr_vec, sizeof rr_vec);
    /* RC says 2 blocks, only one there */
    uint8_t bad[sizeof rr_vec];
    memcpy(bad, rr_vec, sizeof bad);
    bad[0] = 0x82;
    assert_int_equal(one_packet(bad, sizeof bad, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_rr(&h, &rr), MXRTC_ERR_TRUNCATED);
    /* an empty RR (RC=0) is the usual "nothing received" report */
    const uint8_t empty[] = {0x80, 0xc9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07};
    assert_int_equal(one_packet(empty, sizeof empty, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_rr(&h, &rr), MXRTC_OK);
    assert_int_equal(rr.rb_count, 0);
    assert_int_equal(rr.ssrc, 7);
}

static void sdes_both_ways(void **state) {
    (void)state;
    mxrtc_rtcp_header h;
    assert_int_equal(one_packet(sdes_vec, sizeof sdes_vec, &h), 1);
    mxrtc_rtcp_sdes s;
    assert_int_equal(mxrtc_rtcp_parse_sdes(&h, &s), MXRTC_OK);
    assert_int_equal(s.chunk_count, 1);
    assert_int_equal(s.chunk[0].ssrc, 0x11223344);
    assert_int_equal(s.chunk[0].cname_len, 16);
    assert_memory_equal(s.chunk[0].cname, "user@example.com", 16);
    uint8_t buf[64];
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_rtcp_write_sdes_cname(&w, 0x11223344, "user@example.com", 16), MXRTC_OK);
    check_written(&w, sdes_vec, sizeof sdes_vec);
}

static void sdes_skips_other_items_and_chunks(void **state) {
    (void)state;
    /* two chunks: NAME "bob" then CNAME "x"; second chunk only a NOTE */
    const uint8_t v[] = {
        0x82, 0xca, 0x00, 0x06,
        0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 'b', 'o', 'b', 0x01, 0x01, 'x', 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x02, 0x07, 0x01, 'n', 0x00};
    mxrtc_rtcp_header h;
    assert_int_equal(one_packet(v, sizeof v, &h), 1);
    mxrtc_rtcp_sdes s;
    assert_int_equal(mxrtc_rtcp_parse_sdes(&h, &s), MXRTC_OK);
    assert_int_equal(s.chunk_count, 2);
    assert_int_equal(s.chunk[0].cname_len, 1);
    assert_int_equal(s.chunk[0].cname[0], 'x');
    assert_int_equal(s.chunk[1].ssrc, 2);
    assert_null(s.chunk[1].cname);
    /* an item length running past the packet */
    uint8_t bad[sizeof v];
    memcpy(bad, v, sizeof v);
    bad[25] = 0x09;
    assert_int_equal(one_packet(bad, sizeof bad, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_sdes(&h, &s), MXRTC_ERR_TRUNCATED);
    /* SC=3 with two chunks present */
    memcpy(bad, v, sizeof v);
    bad[0] = 0x83;
    assert_int_equal(one_packet(bad, sizeof bad, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_sdes(&h, &s), MXRTC_ERR_TRUNCATED);
}

static void bye_both_ways(void **state) {
    (void)state;
    mxrtc_rtcp_header h;
    assert_int_equal(one_packet(bye_vec, sizeof bye_vec, &h), 1);
    mxrtc_rtcp_bye b;
    assert_int_equal(mxrtc_rtcp_parse_bye(&h, &b), MXRTC_OK);
    assert_int_equal(b.ssrc_count, 1);
    assert_int_equal(b.ssrc[0], 0x11223344);
    assert_int_equal(b.reason_len, 8);
    assert_memory_equal(b.reason, "shutdown", 8);
    uint8_t buf[64];
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, sizeof buf);
    uint32_t ssrc = 0x11223344;
    assert_int_equal(mxrtc_rtcp_write_bye(&w, &ssrc, 1, "shutdown", 8), MXRTC_OK);
    check_written(&w, bye_vec, sizeof bye_vec);
    /* reason length past the packet */
    uint8_t bad[sizeof bye_vec];
    memcpy(bad, bye_vec, sizeof bad);
    bad[8] = 12;
    assert_int_equal(one_packet(bad, sizeof bad, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_bye(&h, &b), MXRTC_ERR_TRUNCATED);
}

static void nack_both_ways_and_expansion(void **state) {
    (void)state;
    mxrtc_rtcp_header h;
    assert_int_equal(one_packet(nack_vec, sizeof nack_vec, &h), 1);
    assert_int_equal(h.pt, MXRTC_RTCP_RTPFB);
    assert_int_equal(h.count, MXRTC_RTCP_FMT_NACK);
    mxrtc_rtcp_nack n;
    assert_int_equal(mxrtc_rtcp_parse_nack(&h, &n), MXRTC_OK);
    assert_int_equal(n.sender_ssrc, 1);
    assert_int_equal(n.media_ssrc, 0x11223344);
    assert_int_equal(n.item_count, 1);
    uint16_t seqs[40];
    size_t count;
    assert_int_equal(mxrtc_rtcp_nack_expand(&n, seqs, 40, &count), MXRTC_OK);
    assert_int_equal(count, 3);
    assert_int_equal(seqs[0], 100);
    assert_int_equal(seqs[1], 101);
    assert_int_equal(seqs[2], 103);
    assert_int_equal(mxrtc_rtcp_nack_expand(&n, seqs, 2, &count), MXRTC_ERR_LIMIT);
    assert_int_equal(count, 2);

    uint8_t buf[64];
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, sizeof buf);
    const uint16_t in[] = {100, 101, 103};
    assert_int_equal(mxrtc_rtcp_write_nack(&w, 1, 0x11223344, in, 3), MXRTC_OK);
    check_written(&w, nack_vec, sizeof nack_vec);

    /* several items, BLP bit 15 (PID + 16), a duplicate, and wrap-around */
    const uint16_t list[] = {65534, 65535, 0, 0, 14, 15, 200};
    const uint8_t want[] = {
        0x81, 0xcd, 0x00, 0x05, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44,
        0xff, 0xfe, 0x80, 0x03,     /* 65534 + {1, 2, 16} */
        0x00, 0x0f, 0x00, 0x00,     /* 15 */
        0x00, 0xc8, 0x00, 0x00};    /* 200 */
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_rtcp_write_nack(&w, 1, 0x11223344, list, 7), MXRTC_OK);
    check_written(&w, want, sizeof want);
    assert_int_equal(one_packet(want, sizeof want, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_nack(&h, &n), MXRTC_OK);
    assert_int_equal(mxrtc_rtcp_nack_expand(&n, seqs, 40, &count), MXRTC_OK);
    const uint16_t back[] = {65534, 65535, 0, 14, 15, 200};
    assert_int_equal(count, 6);
    assert_memory_equal(seqs, back, sizeof back);

    /* FCI not a whole number of items; no FCI at all */
    const uint8_t odd[] = {0x81, 0xcd, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0x00, 0x64, 0x00, 0x00};
    assert_int_equal(one_packet(odd, 14, &h), MXRTC_ERR_TRUNCATED);  /* length says 16 */
    const uint8_t none[] = {0x81, 0xcd, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
    assert_int_equal(one_packet(none, sizeof none, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_nack(&h, &n), MXRTC_ERR_MALFORMED);
}

static void pli_fir_remb_both_ways(void **state) {
    (void)state;
    mxrtc_rtcp_header h;
    uint8_t buf[64];
    mxrtc_writer w;

    assert_int_equal(one_packet(pli_vec, sizeof pli_vec, &h), 1);
    mxrtc_rtcp_pli pli;
    assert_int_equal(mxrtc_rtcp_parse_pli(&h, &pli), MXRTC_OK);
    assert_int_equal(pli.sender_ssrc, 1);
    assert_int_equal(pli.media_ssrc, 0x11223344);
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_rtcp_write_pli(&w, 1, 0x11223344), MXRTC_OK);
    check_written(&w, pli_vec, sizeof pli_vec);

    assert_int_equal(one_packet(fir_vec, sizeof fir_vec, &h), 1);
    mxrtc_rtcp_fir fir;
    assert_int_equal(mxrtc_rtcp_parse_fir(&h, &fir), MXRTC_OK);
    assert_int_equal(fir.sender_ssrc, 1);
    assert_int_equal(fir.entry_count, 1);
    uint32_t ssrc; uint8_t seq_nr;
    mxrtc_rtcp_fir_entry(&fir, 0, &ssrc, &seq_nr);
    assert_int_equal(ssrc, 0x11223344);
    assert_int_equal(seq_nr, 7);
    assert_int_equal(mxrtc_rtcp_parse_pli(&h, &pli), MXRTC_ERR_INVALID_ARGUMENT);  /* FMT 4 */
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_rtcp_write_fir(&w, 1, 0x11223344, 7), MXRTC_OK);
    check_written(&w, fir_vec, sizeof fir_vec);

    assert_int_equal(one_packet(remb_vec, sizeof remb_vec, &h), 1);
    mxrtc_rtcp_remb remb;
    assert_int_equal(mxrtc_rtcp_parse_remb(&h, &remb), MXRTC_OK);
    assert_int_equal(remb.sender_ssrc, 1);
    assert_true(remb.bitrate_bps == 1000000);
    assert_int_equal(remb.ssrc_count, 1);
    assert_int_equal(remb.ssrc[0], 0x11223344);
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_rtcp_write_remb(&w, &remb), MXRTC_OK);
    check_written(&w, remb_vec, sizeof remb_vec);
    /* REMB declaring 2 SSRCs but carrying 1 */
    uint8_t bad[sizeof remb_vec];
    memcpy(bad, remb_vec, sizeof bad);
    bad[16] = 2;
    assert_int_equal(one_packet(bad, sizeof bad, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_remb(&h, &remb), MXRTC_ERR_TRUNCATED);
    /* an AFB that is not REMB */
    memcpy(bad, remb_vec, sizeof bad);
    bad[12] = 'X';
    assert_int_equal(one_packet(bad, sizeof bad, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_remb(&h, &remb), MXRTC_ERR_NOT_FOUND);
    /* FIR whose FCI is not whole 8-byte entries, or empty */
    const uint8_t fir_half[] = {0x84, 0xce, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 0, 0x11, 0x22, 0x33, 0x44};
    assert_int_equal(one_packet(fir_half, sizeof fir_half, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_fir(&h, &fir), MXRTC_ERR_MALFORMED);
    const uint8_t fir_none[] = {0x84, 0xce, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 0};
    assert_int_equal(one_packet(fir_none, sizeof fir_none, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_fir(&h, &fir), MXRTC_ERR_MALFORMED);
    /* REMB with more SSRCs than the bound */
    uint8_t many[12 + 8 + 4 * 17];
    memset(many, 0, sizeof many);
    memcpy(many, remb_vec, 20);
    many[3] = (uint8_t)(sizeof many / 4 - 1);
    many[16] = 17;
    assert_int_equal(one_packet(many, sizeof many, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_remb(&h, &remb), MXRTC_ERR_LIMIT);
    /* feedback shorter than its two SSRCs */
    const uint8_t short_pli[] = {0x81, 0xce, 0x00, 0x01, 0, 0, 0, 1};
    assert_int_equal(one_packet(short_pli, sizeof short_pli, &h), 1);
    assert_int_equal(mxrtc_rtcp_parse_pli(&h, &pli), MXRTC_ERR_TRUNCATED);
}

static void compound_sr_sdes_twcc(void **state) {
    (void)state;
    /* SR without blocks + SDES CNAME + TWCC feedback */
    uint8_t want[28 + sizeof sdes_vec + sizeof twcc_vec];
    memcpy(want, sr_vec, 28);
    want[0] = 0x80;
    want[3] = 0x06;
    memcpy(want + 28, sdes_vec, sizeof sdes_vec);
    memcpy(want + 28 + sizeof sdes_vec, twcc_vec, sizeof twcc_vec);

    mxrtc_rtcp_sr sr = {.ssrc = 0x11223344, .ntp = 0xe12f3c4d80000000ull, .rtp_ts = 123456,
                        .packet_count = 10, .octet_count = 1000};
    const int64_t arrivals[] = {65000, 66000, -1, 76000};
    uint8_t buf[256];
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, sizeof buf);
    assert_int_equal(mxrtc_rtcp_write_sr(&w, &sr), MXRTC_OK);
    assert_int_equal(mxrtc_rtcp_write_sdes_cname(&w, 0x11223344, "user@example.com", 16), MXRTC_OK);
    assert_int_equal(mxrtc_rtcp_write_twcc(&w, 1, 0x11223344, 100, 0, arrivals, 4), MXRTC_OK);
    check_written(&w, want, sizeof want);

    mxrtc_rtcp_iter it;
    mxrtc_rtcp_header h;
    mxrtc_rtcp_iter_init(&it, want, sizeof want);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    mxrtc_rtcp_sr sr2;
    assert_int_equal(mxrtc_rtcp_parse_sr(&h, &sr2), MXRTC_OK);
    assert_int_equal(sr2.rb_count, 0);
    assert_int_equal(sr2.rtp_ts, 123456);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    mxrtc_rtcp_sdes s;
    assert_int_equal(mxrtc_rtcp_parse_sdes(&h, &s), MXRTC_OK);
    assert_memory_equal(s.chunk[0].cname, "user@example.com", 16);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    mxrtc_twcc_packet pk[8];
    mxrtc_twcc_feedback fb = {.packets = pk, .packet_cap = 8};
    assert_int_equal(mxrtc_rtcp_parse_twcc(&h, &fb), MXRTC_OK);
    assert_int_equal(fb.packet_count, 4);
    assert_int_equal(fb.base_seq, 100);
    assert_int_equal(fb.reference_time, 1);
    assert_int_equal(pk[0].status, MXRTC_TWCC_SMALL_DELTA);
    assert_true(pk[0].arrival_us == 65000);
    assert_true(pk[1].arrival_us == 66000);
    assert_int_equal(pk[2].status, MXRTC_TWCC_NOT_RECEIVED);
    assert_int_equal(pk[3].seq, 103);
    assert_int_equal(pk[3].delta_us, 10000);
    assert_true(pk[3].arrival_us == 76000);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 0);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 0);
}

static void lone_pli_reduced_size(void **state) {
    (void)state;
    /* RFC 5506: a PLI alone, not starting with SR/RR, is a valid packet */
    mxrtc_rtcp_iter it;
    mxrtc_rtcp_header h;
    mxrtc_rtcp_iter_init(&it, pli_vec, sizeof pli_vec);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    assert_int_equal(h.pt, MXRTC_RTCP_PSFB);
    assert_int_equal(h.count, MXRTC_RTCP_FMT_PLI);
    assert_ptr_equal(h.raw, pli_vec);
    assert_int_equal(h.raw_len, sizeof pli_vec);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 0);
}

static void compound_errors_stop_iteration(void **state) {
    (void)state;
    mxrtc_rtcp_iter it;
    mxrtc_rtcp_header h;
    uint8_t buf[64];
    /* PLI followed by 2 stray bytes: first packet fine, then TRUNCATED, sticky */
    memcpy(buf, pli_vec, sizeof pli_vec);
    buf[12] = 0x80; buf[13] = 0xc9;
    mxrtc_rtcp_iter_init(&it, buf, 14);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), MXRTC_ERR_TRUNCATED);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), MXRTC_ERR_TRUNCATED);
    /* a length field past the end */
    memcpy(buf, pli_vec, sizeof pli_vec);
    buf[3] = 0x03;
    mxrtc_rtcp_iter_init(&it, buf, sizeof pli_vec);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), MXRTC_ERR_TRUNCATED);
    /* version 0 in the second packet */
    memcpy(buf, pli_vec, sizeof pli_vec);
    memcpy(buf + 12, pli_vec, sizeof pli_vec);
    buf[12] = 0x01;
    mxrtc_rtcp_iter_init(&it, buf, 24);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), MXRTC_ERR_MALFORMED);
    /* padding: count 0, count larger than the packet, and a valid one */
    memcpy(buf, pli_vec, sizeof pli_vec);
    buf[0] = 0xa1;
    buf[11] = 0;
    mxrtc_rtcp_iter_init(&it, buf, sizeof pli_vec);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), MXRTC_ERR_MALFORMED);
    buf[11] = 9;
    mxrtc_rtcp_iter_init(&it, buf, sizeof pli_vec);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), MXRTC_ERR_MALFORMED);
    const uint8_t padded[] = {0xa0, 0xc9, 0x00, 0x02, 0, 0, 0, 7, 0, 0, 0, 4};
    mxrtc_rtcp_iter_init(&it, padded, sizeof padded);
    assert_int_equal(mxrtc_rtcp_next(&it, &h), 1);
    assert_int_equal(h.body_len, 4);
    /* every truncation of the SR is an exact error */
    for (size_t n = 1; n < sizeof sr_vec; n++) {
        mxrtc_rtcp_iter_init(&it, sr_vec, n);
        assert_int_equal(mxrtc_rtcp_next(&it, &h), MXRTC_ERR_TRUNCATED);
    }
    /* a builder refuses a full buffer */
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, 11);
    assert_int_equal(mxrtc_rtcp_write_pli(&w, 1, 2), MXRTC_ERR_BUFFER_TOO_SMALL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sr_both_ways),
        cmocka_unit_test(rr_both_ways),
        cmocka_unit_test(sdes_both_ways),
        cmocka_unit_test(sdes_skips_other_items_and_chunks),
        cmocka_unit_test(bye_both_ways),
        cmocka_unit_test(nack_both_ways_and_expansion),
        cmocka_unit_test(pli_fir_remb_both_ways),
        cmocka_unit_test(compound_sr_sdes_twcc),
        cmocka_unit_test(lone_pli_reduced_size),
        cmocka_unit_test(compound_errors_stop_iteration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
