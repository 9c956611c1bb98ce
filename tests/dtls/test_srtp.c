/*
 * test_srtp.c: the libsrtp2 wrapper: RFC 3711 Appendix B vectors (B.2 on
 * this test's reference AES-CM, B.3 through a protect by libsrtp2), round
 * trips in both directions for SRTP and SRTCP with both profiles, replay
 * and tampering rejected, and keys coming from a real DTLS handshake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <mbedtls/aes.h>
#include <mbedtls/md.h>

#include "base/alloc.h"
#include "dtls/dtls.h"
#include "dtls_pair.h"

static void unhex(const char *h, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

/* Reference AES-CM (RFC 3711 §4.1.1): keystream block j = AES(key, iv + j). */
static void aes_cm(const uint8_t key[16], const uint8_t iv[16], uint8_t *out, size_t n) {
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    assert_int_equal(mbedtls_aes_setkey_enc(&aes, key, 128), 0);
    uint8_t ctr[16];
    memcpy(ctr, iv, 16);
    for (size_t off = 0; off < n; off += 16) {
        uint8_t block[16];
        assert_int_equal(mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_ENCRYPT, ctr, block), 0);
        memcpy(out + off, block, n - off < 16 ? n - off : 16);
        for (int k = 15; k >= 0 && ++ctr[k] == 0; k--) {}
    }
    mbedtls_aes_free(&aes);
}

/* RFC 3711 §4.3.1 with kdr 0: x = (label << 48) XOR master_salt, then the
 * PRF is AES-CM with IV = x * 2^16. */
static void derive(const uint8_t mk[16], const uint8_t ms[14], uint8_t label, uint8_t *out, size_t n) {
    uint8_t iv[16] = {0};
    memcpy(iv, ms, 14);
    iv[7] ^= label;
    aes_cm(mk, iv, out, n);
}

static void rfc3711_b2_aes_cm_keystream(void **state) {
    (void)state;
    uint8_t key[16], iv[16], want[48], ks[48];
    unhex("2B7E151628AED2A6ABF7158809CF4F3C", key, 16);
    unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000", iv, 16);
    unhex("E03EAD0935C95E80E166B16DD92B4EB4"
          "D23513162B02D0F72A43A2FE4A5F97AB"
          "41E95B3BB0A2E8DD477901E4FCA894C0", want, 48);
    aes_cm(key, iv, ks, sizeof ks);
    assert_memory_equal(ks, want, sizeof want);
}

/* RFC 3711 B.3: session keys from the master key and salt. The reference
 * derivation must give the RFC's values, and then libsrtp2's protect of a
 * known packet must equal the packet built by hand with them, which is only
 * possible if libsrtp2 derived the same keys. */
static void rfc3711_b3_key_derivation_through_protect(void **state) {
    (void)state;
    uint8_t master[30], ck[16], cs[14], ak[20], want[16];
    unhex("E1F97A0D3E018BE0D64FA32C06DE4139", master, 16);
    unhex("0EC675AD498AFEEBB6960B3AABE6", master + 16, 14);
    derive(master, master + 16, 0x00, ck, 16);
    derive(master, master + 16, 0x01, ak, 20);
    derive(master, master + 16, 0x02, cs, 14);
    unhex("C61E7A93744F39EE10734AFE3FF7A087", want, 16);
    assert_memory_equal(ck, want, 16);
    unhex("30CBBC08863D8C85D49DB34A9AE1", want, 14);
    assert_memory_equal(cs, want, 14);
    unhex("CEBE321F6FF7716B6FD4AB49AF256A15", want, 16);
    assert_memory_equal(ak, want, 16);

    /* A known RTP packet: V=2, PT 96, seq 0x1234, ts, SSRC 0xCAFEBABE. */
    uint8_t pkt[12 + 40 + 16], ref[12 + 40 + 10];
    static const uint8_t hdr[12] = {0x80, 0x60, 0x12, 0x34, 0, 0, 0x30, 0x39, 0xCA, 0xFE, 0xBA, 0xBE};
    memcpy(pkt, hdr, 12);
    for (int i = 0; i < 40; i++) pkt[12 + i] = (uint8_t)(i * 7 + 1);
    memcpy(ref, pkt, 52);

    /* RFC 3711 §4.1.1: IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16). */
    uint8_t iv[16] = {0}, ks[40];
    memcpy(iv, cs, 14);
    for (int i = 0; i < 4; i++) iv[4 + i] ^= hdr[8 + i];
    iv[12] ^= 0x12; /* index = ROC 0 || seq 0x1234, shifted left 16 bits */
    iv[13] ^= 0x34;
    aes_cm(ck, iv, ks, sizeof ks);
    for (int i = 0; i < 40; i++) ref[12 + i] ^= ks[i];
    /* §4.2: tag = HMAC-SHA1(auth key, packet || ROC) truncated to 80 bits. */
    uint8_t mac_in[52 + 4], mac[20];
    memcpy(mac_in, ref, 52);
    memset(mac_in + 52, 0, 4);
    assert_int_equal(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), ak, 20, mac_in, sizeof mac_in, mac),
                     0);
    memcpy(ref + 52, mac, 10);

    mxrtc_srtp *s;
    assert_int_equal(mxrtc_srtp_new(&s, NULL, MXRTC_SRTP_AES128_CM_SHA1_80, master, master, 30), MXRTC_OK);
    size_t out_len;
    assert_int_equal(mxrtc_srtp_protect_rtp(s, pkt, 52, sizeof pkt, &out_len), MXRTC_OK);
    assert_int_equal(out_len, 62);
    assert_memory_equal(pkt, ref, 62);
    mxrtc_srtp_free(s);
}

static size_t make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload) {
    buf[0] = 0x80;
    buf[1] = 111;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    memset(buf + 4, 0, 4);
    buf[8] = (uint8_t)(ssrc >> 24);
    buf[9] = (uint8_t)(ssrc >> 16);
    buf[10] = (uint8_t)(ssrc >> 8);
    buf[11] = (uint8_t)ssrc;
    for (size_t i = 0; i < payload; i++) buf[12 + i] = (uint8_t)(seq + i);
    return 12 + payload;
}

static size_t make_rtcp(uint8_t *buf, uint32_t ssrc) {
    /* RFC 3550 §6.4.2: an empty receiver report. */
    static const uint8_t rr[8] = {0x80, 201, 0, 1};
    memcpy(buf, rr, 8);
    buf[4] = (uint8_t)(ssrc >> 24);
    buf[5] = (uint8_t)(ssrc >> 16);
    buf[6] = (uint8_t)(ssrc >> 8);
    buf[7] = (uint8_t)ssrc;
    return 8;
}

static void round_trip(mxrtc_srtp *tx, mxrtc_srtp *rx, uint32_t ssrc) {
    uint8_t buf[1500], orig[1500];
    for (uint16_t seq = 100; seq < 140; seq++) {
        size_t n = make_rtp(buf, seq, ssrc, 160);
        memcpy(orig, buf, n);
        size_t pl, ul;
        assert_int_equal(mxrtc_srtp_protect_rtp(tx, buf, n, sizeof buf, &pl), MXRTC_OK);
        assert_int_equal(pl, n + mxrtc_srtp_rtp_overhead(tx));
        assert_memory_not_equal(buf + 12, orig + 12, 160); /* encrypted */
        assert_int_equal(mxrtc_srtp_unprotect_rtp(rx, buf, pl, &ul), MXRTC_OK);
        assert_int_equal(ul, n);
        assert_memory_equal(buf, orig, n);
    }
    size_t n = make_rtcp(buf, ssrc);
    memcpy(orig, buf, n);
    size_t pl, ul;
    assert_int_equal(mxrtc_srtp_protect_rtcp(tx, buf, n, sizeof buf, &pl), MXRTC_OK);
    assert_int_equal(pl, n + 14);
    assert_int_equal(mxrtc_srtp_unprotect_rtcp(rx, buf, pl, &ul), MXRTC_OK);
    assert_int_equal(ul, n);
    assert_memory_equal(buf, orig, n);
}

static void make_sessions(mxrtc_srtp_profile prof, mxrtc_srtp **a, mxrtc_srtp **b) {
    uint8_t k1[30], k2[30];
    for (int i = 0; i < 30; i++) {
        k1[i] = (uint8_t)(i + 1);
        k2[i] = (uint8_t)(200 - i);
    }
    assert_int_equal(mxrtc_srtp_new(a, NULL, prof, k1, k2, 30), MXRTC_OK);
    assert_int_equal(mxrtc_srtp_new(b, NULL, prof, k2, k1, 30), MXRTC_OK);
}

static void round_trip_both_directions_both_profiles(void **state) {
    (void)state;
    const mxrtc_srtp_profile profs[] = {MXRTC_SRTP_AES128_CM_SHA1_80, MXRTC_SRTP_AES128_CM_SHA1_32};
    for (int k = 0; k < 2; k++) {
        mxrtc_srtp *a, *b;
        make_sessions(profs[k], &a, &b);
        assert_int_equal(mxrtc_srtp_rtp_overhead(a), k ? 4 : 10);
        round_trip(a, b, 0x11111111);
        round_trip(b, a, 0x22222222);
        /* The wrong direction's key does not authenticate. */
        uint8_t buf[200];
        size_t n = make_rtp(buf, 7, 0x33, 50), pl, ul;
        assert_int_equal(mxrtc_srtp_protect_rtp(a, buf, n, sizeof buf, &pl), MXRTC_OK);
        mxrtc_srtp *c, *d;
        make_sessions(profs[k], &c, &d);
        assert_int_equal(mxrtc_srtp_unprotect_rtp(c, buf, pl, &ul), MXRTC_ERR_INTEGRITY);
        mxrtc_srtp_free(a);
        mxrtc_srtp_free(b);
        mxrtc_srtp_free(c);
        mxrtc_srtp_free(d);
    }
}

static void replay_and_tamper_rejected(void **state) {
    (void)state;
    mxrtc_srtp *a, *b;
    make_sessions(MXRTC_SRTP_AES128_CM_SHA1_80, &a, &b);
    uint8_t buf[300], copy[300];
    size_t n = make_rtp(buf, 1000, 0xABCDEF01, 100), pl, ul;
    assert_int_equal(mxrtc_srtp_protect_rtp(a, buf, n, sizeof buf, &pl), MXRTC_OK);
    memcpy(copy, buf, pl);
    assert_int_equal(mxrtc_srtp_unprotect_rtp(b, buf, pl, &ul), MXRTC_OK);
    memcpy(buf, copy, pl);
    assert_int_equal(mxrtc_srtp_unprotect_rtp(b, buf, pl, &ul), MXRTC_ERR_REPLAY);

    /* Tampered payload, header and tag. */
    const size_t spots[] = {20, 3, 9, 0 /* tag's last byte, set below */};
    for (size_t k = 0; k < 4; k++) {
        size_t n2 = make_rtp(buf, (uint16_t)(1001 + k), 0xABCDEF01, 100);
        assert_int_equal(mxrtc_srtp_protect_rtp(a, buf, n2, sizeof buf, &pl), MXRTC_OK);
        size_t at = k == 3 ? pl - 1 : spots[k];
        buf[at] ^= 0x04;
        assert_int_equal(mxrtc_srtp_unprotect_rtp(b, buf, pl, &ul), MXRTC_ERR_INTEGRITY);
    }
    /* Older than the replay window (1024 packets) when it arrives. */
    uint8_t old[64];
    size_t old_len;
    n = make_rtp(old, 1005, 0xABCDEF01, 10);
    assert_int_equal(mxrtc_srtp_protect_rtp(a, old, n, sizeof old, &old_len), MXRTC_OK);
    n = make_rtp(buf, 1005 + 2000, 0xABCDEF01, 10);
    assert_int_equal(mxrtc_srtp_protect_rtp(a, buf, n, sizeof buf, &pl), MXRTC_OK);
    assert_int_equal(mxrtc_srtp_unprotect_rtp(b, buf, pl, &ul), MXRTC_OK);
    assert_int_equal(mxrtc_srtp_unprotect_rtp(b, old, old_len, &ul), MXRTC_ERR_REPLAY);
    /* The sender refuses to protect so old an index again, too. */
    n = make_rtp(buf, 1006, 0xABCDEF01, 10);
    assert_int_equal(mxrtc_srtp_protect_rtp(a, buf, n, sizeof buf, &pl), MXRTC_ERR_REPLAY);

    /* SRTCP replay and tamper. */
    n = make_rtcp(buf, 0xABCDEF01);
    assert_int_equal(mxrtc_srtp_protect_rtcp(a, buf, n, sizeof buf, &pl), MXRTC_OK);
    memcpy(copy, buf, pl);
    assert_int_equal(mxrtc_srtp_unprotect_rtcp(b, buf, pl, &ul), MXRTC_OK);
    memcpy(buf, copy, pl);
    assert_int_equal(mxrtc_srtp_unprotect_rtcp(b, buf, pl, &ul), MXRTC_ERR_REPLAY);
    n = make_rtcp(buf, 0xABCDEF01);
    assert_int_equal(mxrtc_srtp_protect_rtcp(a, buf, n, sizeof buf, &pl), MXRTC_OK);
    buf[5] ^= 1;
    assert_int_equal(mxrtc_srtp_unprotect_rtcp(b, buf, pl, &ul), MXRTC_ERR_INTEGRITY);

    /* Truncated and not-RTP input. */
    assert_int_equal(mxrtc_srtp_unprotect_rtp(b, buf, 11, &ul), MXRTC_ERR_TRUNCATED);
    assert_int_equal(mxrtc_srtp_unprotect_rtcp(b, buf, 21, &ul), MXRTC_ERR_TRUNCATED);
    memset(buf, 0, 64);
    assert_int_equal(mxrtc_srtp_unprotect_rtp(b, buf, 64, &ul), MXRTC_ERR_MALFORMED);
    mxrtc_srtp_free(a);
    mxrtc_srtp_free(b);
}

static void buffer_and_argument_checks(void **state) {
    (void)state;
    mxrtc_srtp *a, *b;
    make_sessions(MXRTC_SRTP_AES128_CM_SHA1_32, &a, &b);
    /* An exact-size heap buffer: ASan proves nothing is written past it. */
    size_t n = 12 + 20;
    uint8_t *buf = malloc(n + 4);
    make_rtp(buf, 1, 2, 20);
    size_t pl;
    assert_int_equal(mxrtc_srtp_protect_rtp(a, buf, n, n + 3, &pl), MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(mxrtc_srtp_protect_rtp(a, buf, n, n + 4, &pl), MXRTC_OK);
    assert_int_equal(pl, n + 4);
    free(buf);
    buf = malloc(8 + 14);
    make_rtcp(buf, 5);
    assert_int_equal(mxrtc_srtp_protect_rtcp(a, buf, 8, 8 + 13, &pl), MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(mxrtc_srtp_protect_rtcp(a, buf, 8, 8 + 14, &pl), MXRTC_OK);
    free(buf);
    uint8_t k[30] = {0};
    mxrtc_srtp *s = (mxrtc_srtp *)1;
    assert_int_equal(mxrtc_srtp_new(&s, NULL, MXRTC_SRTP_NONE, k, k, 30), MXRTC_ERR_INVALID_ARGUMENT);
    assert_null(s);
    assert_int_equal(mxrtc_srtp_new(&s, NULL, MXRTC_SRTP_AES128_CM_SHA1_80, k, k, 29), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_srtp_free(NULL);
    mxrtc_srtp_free(a);
    mxrtc_srtp_free(b);
}

/* The whole chain: DTLS handshake → RFC 5764 keys → SRTP both ways. */
static void keys_from_dtls_handshake(void **state) {
    (void)state;
    for (int r = 0; r < 2; r++) {
        pair p;
        pair_init(&p, r ? MXRTC_DTLS_ROLE_SERVER : MXRTC_DTLS_ROLE_CLIENT, 21 + (uint64_t)r, 0, 0);
        assert_true(pair_run(&p, 60000000));
        mxrtc_dtls_srtp_keys k0, k1;
        assert_int_equal(mxrtc_dtls_get_srtp_keys(p.s[0].d, &k0), MXRTC_OK);
        assert_int_equal(mxrtc_dtls_get_srtp_keys(p.s[1].d, &k1), MXRTC_OK);
        mxrtc_srtp *a, *b;
        assert_int_equal(mxrtc_srtp_new_from_dtls(&a, NULL, &k0), MXRTC_OK);
        assert_int_equal(mxrtc_srtp_new_from_dtls(&b, NULL, &k1), MXRTC_OK);
        mxrtc_wipe(&k0, sizeof k0);
        mxrtc_wipe(&k1, sizeof k1);
        round_trip(a, b, 1234);
        round_trip(b, a, 5678);
        mxrtc_srtp_free(a);
        mxrtc_srtp_free(b);
        pair_free(&p);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc3711_b2_aes_cm_keystream),
        cmocka_unit_test(rfc3711_b3_key_derivation_through_protect),
        cmocka_unit_test(round_trip_both_directions_both_profiles),
        cmocka_unit_test(replay_and_tamper_rejected),
        cmocka_unit_test(buffer_and_argument_checks),
        cmocka_unit_test(keys_from_dtls_handshake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
