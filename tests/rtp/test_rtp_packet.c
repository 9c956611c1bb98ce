/* RTP header and RFC 8285 extensions, against byte vectors written from the
 * RFC 3550 §5.1 and RFC 8285 §4 layouts, both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "rtp/rtp.h"

static void init_pkt(mxrtc_rtp_packet *p) { memset(p, 0, sizeof *p); }

/* V=2 M=1 PT=111 seq 0x1234 ts 0xdeadbeef ssrc 0x11223344, 3-byte payload */
static const uint8_t plain[] = {
    0x80, 0xef, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x11, 0x22, 0x33, 0x44,
    0x01, 0x02, 0x03};

static void plain_header_both_ways(void **state) {
    (void)state;
    mxrtc_rtp_packet p;
    assert_int_equal(mxrtc_rtp_parse(&p, plain, sizeof plain), MXRTC_OK);
    assert_true(p.marker);
    assert_int_equal(p.pt, 111);
    assert_int_equal(p.seq, 0x1234);
    assert_int_equal(p.ts, 0xdeadbeef);
    assert_int_equal(p.ssrc, 0x11223344);
    assert_int_equal(p.csrc_count, 0);
    assert_false(p.has_extension);
    assert_int_equal(p.header_len, 12);
    assert_ptr_equal(p.payload, plain + 12);   /* borrowed, not copied */
    assert_int_equal(p.payload_len, 3);

    mxrtc_rtp_packet q;
    init_pkt(&q);
    q.marker = true; q.pt = 111; q.seq = 0x1234; q.ts = 0xdeadbeef; q.ssrc = 0x11223344;
    q.payload = plain + 12; q.payload_len = 3;
    uint8_t buf[64];
    assert_int_equal(mxrtc_rtp_header_size(&q), 12);
    assert_int_equal(mxrtc_rtp_write(&q, buf, sizeof buf), sizeof plain);
    assert_memory_equal(buf, plain, sizeof plain);
    assert_int_equal(mxrtc_rtp_write(&q, buf, sizeof plain - 1), MXRTC_ERR_BUFFER_TOO_SMALL);
}

/* One-byte form (0xBEDE): audio level id 1, abs-send-time id 3, TWCC id 5,
 * mid id 9 "a0": 2 + 4 + 3 + 3 = 12 bytes = 3 words. */
static const uint8_t one_byte[] = {
    0x90, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0xca, 0xfe, 0xba, 0xbe,
    0xbe, 0xde, 0x00, 0x03,
    0x10, 0x8a, 0x32, 0x12, 0x34, 0x56, 0x51, 0x00, 0x2a, 0x91, 0x61, 0x30,
    0xab, 0xcd};

static const mxrtc_rtp_ext_map map = {.mid = 9, .audio_level = 1, .abs_send_time = 3, .twcc = 5};

static void one_byte_extensions_both_ways(void **state) {
    (void)state;
    mxrtc_rtp_packet p;
    assert_int_equal(mxrtc_rtp_parse(&p, one_byte, sizeof one_byte), MXRTC_OK);
    assert_false(p.marker);
    assert_int_equal(p.pt, 96);
    assert_int_equal(p.ext_profile, 0xbede);
    assert_int_equal(p.ext_count, 4);
    assert_int_equal(p.header_len, 28);
    assert_int_equal(p.payload_len, 2);
    assert_int_equal(p.payload[0], 0xab);

    bool voice; uint8_t level; uint32_t ast; uint16_t tw; char mid[8];
    assert_int_equal(mxrtc_rtp_get_audio_level(&p, &map, &voice, &level), MXRTC_OK);
    assert_true(voice);
    assert_int_equal(level, 10);
    assert_int_equal(mxrtc_rtp_get_abs_send_time(&p, &map, &ast), MXRTC_OK);
    assert_int_equal(ast, 0x123456);
    assert_int_equal(mxrtc_rtp_get_twcc_seq(&p, &map, &tw), MXRTC_OK);
    assert_int_equal(tw, 42);
    assert_int_equal(mxrtc_rtp_get_mid(&p, &map, mid, sizeof mid), MXRTC_OK);
    assert_string_equal(mid, "a0");
    assert_int_equal(mxrtc_rtp_get_mid(&p, &map, mid, 2), MXRTC_ERR_BUFFER_TOO_SMALL);
    mxrtc_rtp_ext_map none = {0};
    assert_int_equal(mxrtc_rtp_get_twcc_seq(&p, &none, &tw), MXRTC_ERR_NOT_FOUND);
    /* wrong length for the negotiated meaning */
    mxrtc_rtp_ext_map swapped = {.twcc = 3, .abs_send_time = 5};
    assert_int_equal(mxrtc_rtp_get_twcc_seq(&p, &swapped, &tw), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_rtp_get_abs_send_time(&p, &swapped, &ast), MXRTC_ERR_MALFORMED);

    /* build it from fields with the typed encoders */
    mxrtc_rtp_packet q;
    init_pkt(&q);
    q.pt = 96; q.seq = 1; q.ts = 0x10; q.ssrc = 0xcafebabe;
    uint8_t al[1], as[3], tc[2];
    mxrtc_rtp_audio_level_encode(al, true, 10);
    mxrtc_rtp_abs_send_time_encode(as, 0x123456);
    mxrtc_rtp_twcc_seq_encode(tc, 42);
    assert_int_equal(mxrtc_rtp_add_ext(&q, 1, al, 1), MXRTC_OK);
    assert_int_equal(mxrtc_rtp_add_ext(&q, 3, as, 3), MXRTC_OK);
    assert_int_equal(mxrtc_rtp_add_ext(&q, 5, tc, 2), MXRTC_OK);
    assert_int_equal(mxrtc_rtp_add_ext(&q, 9, (const uint8_t *)"a0", 2), MXRTC_OK);
    q.payload = one_byte + 28; q.payload_len = 2;
    uint8_t buf[64];
    assert_int_equal(mxrtc_rtp_header_size(&q), 28);
    assert_int_equal(mxrtc_rtp_write(&q, buf, sizeof buf), sizeof one_byte);
    assert_memory_equal(buf, one_byte, sizeof one_byte);
}

/* Two-byte form (0x1000): mid id 20 "audio" (id > 14 forces it), TWCC id 5
 * seq 7, one byte of padding: 7 + 4 + 1 = 12 bytes. */
static const uint8_t two_byte[] = {
    0x90, 0x6f, 0x12, 0x34, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
    0x10, 0x00, 0x00, 0x03,
    0x14, 0x05, 'a', 'u', 'd', 'i', 'o', 0x05, 0x02, 0x00, 0x07, 0x00,
    0xff};

static void two_byte_extensions_both_ways(void **state) {
    (void)state;
    mxrtc_rtp_packet p;
    assert_int_equal(mxrtc_rtp_parse(&p, two_byte, sizeof two_byte), MXRTC_OK);
    assert_int_equal(p.ext_profile, 0x1000);
    assert_int_equal(p.ext_count, 2);
    assert_int_equal(p.ext[0].id, 20);
    assert_int_equal(p.ext[0].len, 5);
    assert_memory_equal(p.ext[0].data, "audio", 5);
    mxrtc_rtp_ext_map m2 = {.mid = 20, .twcc = 5};
    char mid[16]; uint16_t tw;
    assert_int_equal(mxrtc_rtp_get_mid(&p, &m2, mid, sizeof mid), MXRTC_OK);
    assert_string_equal(mid, "audio");
    assert_int_equal(mxrtc_rtp_get_twcc_seq(&p, &m2, &tw), MXRTC_OK);
    assert_int_equal(tw, 7);
    assert_int_equal(p.payload_len, 1);

    mxrtc_rtp_packet q;
    init_pkt(&q);
    q.pt = 111; q.seq = 0x1234; q.ts = 1; q.ssrc = 2;
    uint8_t tc[2];
    mxrtc_rtp_twcc_seq_encode(tc, 7);
    assert_int_equal(mxrtc_rtp_add_ext(&q, 20, (const uint8_t *)"audio", 5), MXRTC_OK);
    assert_int_equal(mxrtc_rtp_add_ext(&q, 5, tc, 2), MXRTC_OK);
    q.payload = two_byte + 28; q.payload_len = 1;
    uint8_t buf[64];
    assert_int_equal(mxrtc_rtp_write(&q, buf, sizeof buf), sizeof two_byte);
    assert_memory_equal(buf, two_byte, sizeof two_byte);
}

static void zero_length_element_uses_two_byte_form(void **state) {
    (void)state;
    mxrtc_rtp_packet q;
    init_pkt(&q);
    q.pt = 96;
    assert_int_equal(mxrtc_rtp_add_ext(&q, 2, NULL, 0), MXRTC_OK);
    uint8_t buf[32];
    int n = mxrtc_rtp_write(&q, buf, sizeof buf);
    assert_int_equal(n, 20);
    const uint8_t ext[] = {0x10, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00};
    assert_memory_equal(buf + 12, ext, sizeof ext);
    mxrtc_rtp_packet p;
    assert_int_equal(mxrtc_rtp_parse(&p, buf, (size_t)n), MXRTC_OK);
    assert_int_equal(p.ext_count, 1);
    assert_int_equal(p.ext[0].id, 2);
    assert_int_equal(p.ext[0].len, 0);
    assert_int_equal(mxrtc_rtp_add_ext(&q, 0, NULL, 0), MXRTC_ERR_INVALID_ARGUMENT);
}

static void id15_stops_one_byte_parsing(void **state) {
    (void)state;
    /* RFC 8285 §4.2: id 15 is reserved; parsing stops there. */
    const uint8_t pkt[] = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
                           0xbe, 0xde, 0x00, 0x01, 0x10, 0x8a, 0xf3, 0x11};
    mxrtc_rtp_packet p;
    assert_int_equal(mxrtc_rtp_parse(&p, pkt, sizeof pkt), MXRTC_OK);
    assert_int_equal(p.ext_count, 1);
    assert_int_equal(p.payload_len, 0);
}

static void csrc_and_padding(void **state) {
    (void)state;
    /* P=1, CC=2, payload "hi", 3 bytes of padding (count included) */
    const uint8_t pkt[] = {0xa2, 0x08, 0x00, 0x05, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x09,
                           0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x0b,
                           'h', 'i', 0x00, 0x00, 0x03};
    mxrtc_rtp_packet p;
    assert_int_equal(mxrtc_rtp_parse(&p, pkt, sizeof pkt), MXRTC_OK);
    assert_int_equal(p.csrc_count, 2);
    assert_int_equal(p.csrc[0], 10);
    assert_int_equal(p.csrc[1], 11);
    assert_int_equal(p.padding_len, 3);
    assert_int_equal(p.payload_len, 2);
    assert_memory_equal(p.payload, "hi", 2);
    uint8_t buf[64];
    assert_int_equal(mxrtc_rtp_write(&p, buf, sizeof buf), sizeof pkt);
    assert_memory_equal(buf, pkt, sizeof pkt);
}

static void unknown_profile_kept_raw(void **state) {
    (void)state;
    const uint8_t pkt[] = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
                           0x12, 0x34, 0x00, 0x01, 0xaa, 0xbb, 0xcc, 0xdd, 0x42};
    mxrtc_rtp_packet p;
    assert_int_equal(mxrtc_rtp_parse(&p, pkt, sizeof pkt), MXRTC_OK);
    assert_int_equal(p.ext_profile, 0x1234);
    assert_int_equal(p.ext_count, 0);
    assert_int_equal(p.ext_raw_len, 4);
    assert_int_equal(p.payload_len, 1);
    uint8_t buf[64];
    assert_int_equal(mxrtc_rtp_write(&p, buf, sizeof buf), sizeof pkt);
    assert_memory_equal(buf, pkt, sizeof pkt);
}

static void bad_input_gives_exact_errors(void **state) {
    (void)state;
    mxrtc_rtp_packet p;
    assert_int_equal(mxrtc_rtp_parse(&p, plain, 11), MXRTC_ERR_TRUNCATED);
    assert_int_equal(mxrtc_rtp_parse(&p, plain, 0), MXRTC_ERR_TRUNCATED);
    uint8_t b[64];
    memcpy(b, plain, sizeof plain);
    b[0] = 0x40;                                          /* version 1 */
    assert_int_equal(mxrtc_rtp_parse(&p, b, sizeof plain), MXRTC_ERR_MALFORMED);
    b[0] = 0x83;                                          /* CC=3, 3 bytes follow */
    assert_int_equal(mxrtc_rtp_parse(&p, b, sizeof plain), MXRTC_ERR_TRUNCATED);
    /* every truncation of the extension packet */
    for (size_t n = 12; n < 28; n++)
        assert_int_equal(mxrtc_rtp_parse(&p, one_byte, n), MXRTC_ERR_TRUNCATED);
    /* element running past its block: id 1 with 4 bytes in a 4-byte block */
    const uint8_t over[] = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
                            0xbe, 0xde, 0x00, 0x01, 0x13, 0x00, 0x00, 0x00};
    assert_int_equal(mxrtc_rtp_parse(&p, over, sizeof over), MXRTC_ERR_MALFORMED);
    /* two-byte element header cut by the block end */
    const uint8_t cut2[] = {0x90, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1,
                            0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05};
    assert_int_equal(mxrtc_rtp_parse(&p, cut2, sizeof cut2), MXRTC_ERR_MALFORMED);
    /* padding count 0, and larger than the packet after the header */
    memcpy(b, plain, sizeof plain);
    b[0] = 0xa0;
    b[14] = 0;
    assert_int_equal(mxrtc_rtp_parse(&p, b, sizeof plain), MXRTC_ERR_MALFORMED);
    b[14] = 4;
    assert_int_equal(mxrtc_rtp_parse(&p, b, sizeof plain), MXRTC_ERR_MALFORMED);
    b[14] = 3;                                            /* all payload is padding */
    assert_int_equal(mxrtc_rtp_parse(&p, b, sizeof plain), MXRTC_OK);
    assert_int_equal(p.payload_len, 0);
    /* more than MXRTC_RTP_MAX_EXT elements */
    uint8_t many[12 + 4 + 36];
    memcpy(many, one_byte, 12);
    many[12] = 0xbe; many[13] = 0xde; many[14] = 0; many[15] = 9;
    for (int i = 0; i < 18; i++) { many[16 + 2 * i] = 0x10; many[17 + 2 * i] = 0; }
    assert_int_equal(mxrtc_rtp_parse(&p, many, sizeof many), MXRTC_ERR_LIMIT);
}

static void rtcp_mux_demux(void **state) {
    (void)state;
    const uint8_t sr[] = {0x80, 200};
    const uint8_t pli[] = {0x81, 206};
    const uint8_t rtp96[] = {0x80, 96};
    const uint8_t rtp_m_127[] = {0x80, 0xff};
    const uint8_t rtp_35_m[] = {0x80, 0xa3};   /* M=1 PT=35: 163, outside 192..223 */
    const uint8_t rtcp_223[] = {0x80, 223};
    const uint8_t rtcp_192[] = {0x80, 192};
    assert_true(mxrtc_rtp_is_rtcp(sr, 2));
    assert_true(mxrtc_rtp_is_rtcp(pli, 2));
    assert_true(mxrtc_rtp_is_rtcp(rtcp_223, 2));
    assert_true(mxrtc_rtp_is_rtcp(rtcp_192, 2));
    assert_false(mxrtc_rtp_is_rtcp(rtp96, 2));
    assert_false(mxrtc_rtp_is_rtcp(rtp_m_127, 2));
    assert_false(mxrtc_rtp_is_rtcp(rtp_35_m, 2));
    assert_false(mxrtc_rtp_is_rtcp(sr, 1));
}

static void abs_send_time_conversion(void **state) {
    (void)state;
    assert_int_equal(mxrtc_rtp_abs_send_time_from_us(0), 0);
    assert_int_equal(mxrtc_rtp_abs_send_time_from_us(1000000), 1u << 18);   /* 1 s */
    assert_int_equal(mxrtc_rtp_abs_send_time_from_us(500000), 1u << 17);
    assert_int_equal(mxrtc_rtp_abs_send_time_from_us(64000000), 0);         /* wraps at 64 s */
    assert_int_equal(mxrtc_rtp_abs_send_time_from_us(65000000), 1u << 18);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_header_both_ways),
        cmocka_unit_test(one_byte_extensions_both_ways),
        cmocka_unit_test(two_byte_extensions_both_ways),
        cmocka_unit_test(zero_length_element_uses_two_byte_form),
        cmocka_unit_test(id15_stops_one_byte_parsing),
        cmocka_unit_test(csrc_and_padding),
        cmocka_unit_test(unknown_profile_kept_raw),
        cmocka_unit_test(bad_input_gives_exact_errors),
        cmocka_unit_test(rtcp_mux_demux),
        cmocka_unit_test(abs_send_time_conversion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
