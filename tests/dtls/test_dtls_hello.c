/*
 * test_dtls_hello.c: ClientHello reassembly (dtls/hello.c) on its own, and
 * real fragmented ClientHellos captured from other implementations replayed
 * into a server endpoint, which must answer with a DTLS 1.2 ServerHello.
 * The vectors are in tests/dtls/vectors/ (how they were captured:
 * docs/dtls.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/random.h"
#include "dtls/dtls.h"

static uint8_t *load(const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", MXRTC_DTLS_VECTORS, name);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    uint8_t *buf = malloc(65536);
    assert_non_null(buf);
    *len = fread(buf, 1, 65536, f);
    fclose(f);
    return buf;
}

/* Builds one record holding one ClientHello fragment. */
static size_t frag_record(uint8_t *o, uint32_t length, uint32_t off, uint32_t flen, uint16_t msg_seq, uint8_t fill) {
    o[0] = 22;
    o[1] = 0xfe;
    o[2] = 0xff;
    memset(o + 3, 0, 8);
    o[10] = (uint8_t)off; /* distinct record sequence numbers */
    o[11] = (uint8_t)((12 + flen) >> 8);
    o[12] = (uint8_t)(12 + flen);
    uint8_t *h = o + 13;
    h[0] = 1;
    h[1] = (uint8_t)(length >> 16); h[2] = (uint8_t)(length >> 8); h[3] = (uint8_t)length;
    h[4] = (uint8_t)(msg_seq >> 8); h[5] = (uint8_t)msg_seq;
    h[6] = (uint8_t)(off >> 16); h[7] = (uint8_t)(off >> 8); h[8] = (uint8_t)off;
    h[9] = (uint8_t)(flen >> 16); h[10] = (uint8_t)(flen >> 8); h[11] = (uint8_t)flen;
    for (uint32_t i = 0; i < flen; i++) h[12 + i] = (uint8_t)(fill + off + i);
    return 25 + flen;
}

static void reassembly_unit(void **state) {
    (void)state;
    mxrtc_dtls_hello *h = malloc(sizeof *h);
    mxrtc_dtls_hello_init(h);
    uint8_t dg[600];
    const uint8_t *out;
    size_t out_len;
    /* Two fragments in one datagram, then the middle one. */
    size_t n = frag_record(dg, 300, 0, 100, 0, 0);
    n += frag_record(dg + n, 300, 200, 100, 0, 0);
    assert_int_equal(mxrtc_dtls_hello_feed(h, dg, n, &out, &out_len), MXRTC_ERR_AGAIN);
    /* Overlapping middle piece. */
    n = frag_record(dg, 300, 90, 120, 0, 0);
    assert_int_equal(mxrtc_dtls_hello_feed(h, dg, n, &out, &out_len), MXRTC_OK);
    assert_int_equal(out_len, 13 + 12 + 300);
    assert_int_equal(out[0], 22);
    assert_int_equal(out[11] << 8 | out[12], 312);
    static const uint8_t hs[12] = {1, 0, 1, 44, 0, 0, 0, 0, 0, 0, 1, 44};
    assert_memory_equal(out + 13, hs, 12);
    for (int i = 0; i < 300; i++) assert_int_equal(out[25 + i], (uint8_t)i);
    /* The highest record sequence number is kept (200 from the 2nd record). */
    assert_int_equal(out[10], 200);

    /* Not a ClientHello / wrong message_seq / not handshake: dropped. */
    mxrtc_dtls_hello_init(h);
    n = frag_record(dg, 300, 0, 100, 1, 0);
    assert_int_equal(mxrtc_dtls_hello_feed(h, dg, n, &out, &out_len), MXRTC_ERR_MALFORMED);
    n = frag_record(dg, 300, 0, 100, 0, 0);
    dg[0] = 23;
    assert_int_equal(mxrtc_dtls_hello_feed(h, dg, n, &out, &out_len), MXRTC_ERR_MALFORMED);
    dg[0] = 22;
    dg[3] = 1; /* epoch 1 */
    assert_int_equal(mxrtc_dtls_hello_feed(h, dg, n, &out, &out_len), MXRTC_ERR_MALFORMED);
    /* Fragment past the announced length. */
    n = frag_record(dg, 100, 50, 80, 0, 0);
    assert_int_equal(mxrtc_dtls_hello_feed(h, dg, n, &out, &out_len), MXRTC_ERR_MALFORMED);
    /* Too big a ClientHello. */
    n = frag_record(dg, MXRTC_DTLS_HELLO_MAX + 1, 0, 100, 0, 0);
    assert_int_equal(mxrtc_dtls_hello_feed(h, dg, n, &out, &out_len), MXRTC_ERR_LIMIT);
    /* Truncated record: the record length runs past the datagram. */
    n = frag_record(dg, 300, 0, 100, 0, 0);
    assert_int_equal(mxrtc_dtls_hello_feed(h, dg, n - 1, &out, &out_len), MXRTC_ERR_MALFORMED);
    /* Truncated fragment inside a whole record. */
    n = frag_record(dg, 300, 0, 100, 0, 0);
    dg[13 + 11] = 101;
    assert_int_equal(mxrtc_dtls_hello_feed(h, dg, n, &out, &out_len), MXRTC_ERR_MALFORMED);
    /* A client that restarts with another length starts over. */
    mxrtc_dtls_hello_init(h);
    n = frag_record(dg, 300, 0, 200, 0, 0);
    assert_int_equal(mxrtc_dtls_hello_feed(h, dg, n, &out, &out_len), MXRTC_ERR_AGAIN);
    n = frag_record(dg, 250, 0, 200, 0, 0);
    assert_int_equal(mxrtc_dtls_hello_feed(h, dg, n, &out, &out_len), MXRTC_ERR_AGAIN);
    n = frag_record(dg, 250, 200, 50, 0, 0);
    assert_int_equal(mxrtc_dtls_hello_feed(h, dg, n, &out, &out_len), MXRTC_OK);
    assert_int_equal(out_len, 13 + 12 + 250);
    free(h);
}

/* Walks the server's first flight to its ServerHello and checks what the
 * issue asks for: DTLS 1.2 (not 1.3, though the client may offer it),
 * use_srtp, extended_master_secret. */
static void check_server_hello(const uint8_t *p, size_t len, uint16_t *srtp_profile) {
    assert_true(len > 13 + 12 + 38);
    assert_int_equal(p[0], 22);             /* handshake record */
    assert_int_equal(p[13], 2);             /* ServerHello */
    const uint8_t *b = p + 13 + 12;
    size_t blen = (size_t)p[14] << 16 | (size_t)p[15] << 8 | p[16];
    assert_true(13 + 12 + blen <= len);
    assert_int_equal(b[0] << 8 | b[1], 0xfefd); /* server_version DTLS 1.2 */
    size_t i = 2 + 32;
    i += 1 + b[i];                          /* session id */
    i += 2 + 1;                             /* cipher suite, compression */
    size_t ext_end = i + 2 + (size_t)(b[i] << 8 | b[i + 1]);
    assert_true(ext_end <= blen);
    i += 2;
    int srtp = 0, ems = 0;
    while (i + 4 <= ext_end) {
        unsigned type = (unsigned)(b[i] << 8 | b[i + 1]);
        size_t elen = (size_t)(b[i + 2] << 8 | b[i + 3]);
        if (type == 14 && elen >= 4) { /* RFC 5764 §4.1.1 use_srtp */
            srtp = 1;
            *srtp_profile = (uint16_t)(b[i + 6] << 8 | b[i + 7]);
        }
        if (type == 23) ems = 1; /* RFC 7627 */
        assert_true(type != 43); /* no supported_versions: not TLS 1.3 */
        i += 4 + elen;
    }
    assert_true(srtp);
    assert_true(ems);
}

/* Feeds the capture's datagrams (in reverse when asked) into a fresh server
 * endpoint; its first datagram out must be a DTLS 1.2 ServerHello, sent only
 * after the last fragment. Then feeds the client's retransmission of the
 * same ClientHello (again, nagain datagrams, as captured) and returns how
 * many more flights starting with a ServerHello the endpoint sent. */
static int replay_rexmit(const char *const *files, size_t nfiles, int reverse, const char *const *again,
                         size_t nagain) {
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 77);
    mxrtc_random r = mxrtc_seeded_random_source(&g);
    mxrtc_dtls_cert *cert;
    assert_int_equal(mxrtc_dtls_cert_new(&cert, NULL, &r), MXRTC_OK);
    mxrtc_dtls_config cfg;
    mxrtc_dtls_config_init(&cfg);
    cfg.role = MXRTC_DTLS_ROLE_SERVER;
    cfg.cert = cert;
    cfg.random = r;
    /* The captured client's certificate is never reached: any fingerprint. */
    cfg.remote_fingerprint = *mxrtc_dtls_cert_fingerprint_raw(cert);
    mxrtc_dtls *d;
    assert_int_equal(mxrtc_dtls_new(&d, &cfg, 5000000), MXRTC_OK);
    int answered = 0;
    for (size_t k = 0; k < nfiles; k++) {
        size_t len;
        uint8_t *dg = load(files[reverse ? nfiles - 1 - k : k], &len);
        assert_non_null(dg);
        assert_int_equal(mxrtc_dtls_handle_datagram(d, 5000000, dg, len), MXRTC_OK);
        free(dg);
        mxrtc_dtls_output out;
        for (;;) {
            assert_int_equal(mxrtc_dtls_poll(d, 5000000, &out), MXRTC_OK);
            if (out.type == MXRTC_DTLS_OUT_DEADLINE) break;
            assert_int_not_equal(out.type, MXRTC_DTLS_OUT_FAILED);
            if (out.type == MXRTC_DTLS_OUT_DATAGRAM && !answered) {
                /* Only once the last fragment is in. */
                assert_int_equal(k, nfiles - 1);
                uint16_t prof = 0;
                check_server_hello(out.data, out.len, &prof);
                assert_true(prof == 1 || prof == 2);
                answered = 1;
            }
        }
        if (k == nfiles - 1) assert_true(out.deadline != MXRTC_TIME_NEVER); /* retransmission armed */
    }
    assert_true(answered);
    int resent = 0;
    for (size_t k = 0; k < nagain; k++) {
        size_t len;
        uint8_t *dg = load(again[k], &len);
        assert_non_null(dg);
        assert_int_equal(mxrtc_dtls_handle_datagram(d, 5100000, dg, len), MXRTC_OK);
        free(dg);
        mxrtc_dtls_output out;
        for (;;) {
            assert_int_equal(mxrtc_dtls_poll(d, 5100000, &out), MXRTC_OK);
            if (out.type == MXRTC_DTLS_OUT_DEADLINE) break;
            assert_int_not_equal(out.type, MXRTC_DTLS_OUT_FAILED);
            if (out.type == MXRTC_DTLS_OUT_DATAGRAM && out.len > 13 && out.data[13] == 2) {
                uint16_t prof = 0;
                check_server_hello(out.data, out.len, &prof);
                resent++;
            }
        }
    }
    mxrtc_dtls_stats st;
    mxrtc_dtls_get_stats(d, &st);
    assert_int_equal(st.hello_reassembled, 1);
    mxrtc_dtls_free(d);
    mxrtc_dtls_cert_free(cert);
    return resent;
}

static void replay(const char *const *files, size_t nfiles, int reverse) {
    assert_int_equal(replay_rexmit(files, nfiles, reverse, NULL, 0), 0);
}

/* What a reassembled ClientHello offers. */
typedef struct {
    uint32_t length;   /* handshake body length */
    int dtls13;        /* supported_versions lists 0xfefc */
    size_t mlkem_share; /* key_share entry length for X25519MLKEM768, or 0 */
} hello_info;

/* Reassembles the capture and walks its extensions: supported_versions
 * (RFC 8446 §4.2.1, with 0xfefc for DTLS 1.3: RFC 9147 §5.3) and key_share
 * (RFC 8446 §4.2.8; group 0x11ec is X25519MLKEM768,
 * draft-ietf-tls-ecdhe-mlkem), bounds-checked against the body. */
static hello_info inspect_hello(const char *const *files, size_t nfiles) {
    mxrtc_dtls_hello *h = malloc(sizeof *h);
    assert_non_null(h);
    mxrtc_dtls_hello_init(h);
    const uint8_t *out = NULL;
    size_t out_len = 0;
    for (size_t k = 0; k < nfiles; k++) {
        size_t len;
        uint8_t *dg = load(files[k], &len);
        assert_non_null(dg);
        int r = mxrtc_dtls_hello_feed(h, dg, len, &out, &out_len);
        assert_int_equal(r, k + 1 == nfiles ? MXRTC_OK : MXRTC_ERR_AGAIN);
        free(dg);
    }
    hello_info info = {.length = h->length};
    const uint8_t *b = out + 25;
    size_t n = h->length, i = 2 + 32;
    i += 1 + b[i];                                 /* session id */
    i += 1 + b[i];                                 /* cookie (DTLS) */
    i += 2 + (size_t)(b[i] << 8 | b[i + 1]);       /* cipher suites */
    i += 1 + b[i];                                 /* compression */
    size_t end = i + 2 + (size_t)(b[i] << 8 | b[i + 1]);
    assert_true(end <= n);
    for (i += 2; i + 4 <= end;) {
        unsigned type = (unsigned)(b[i] << 8 | b[i + 1]);
        size_t elen = (size_t)(b[i + 2] << 8 | b[i + 3]);
        assert_true(i + 4 + elen <= end);
        if (type == 43)
            for (size_t j = i + 5; j + 1 < i + 4 + elen; j += 2)
                if (b[j] == 0xfe && b[j + 1] == 0xfc) info.dtls13 = 1;
        if (type == 51) /* KeyShareClientHello: 2-byte list length, entries */
            for (size_t j = i + 6; j + 4 <= i + 4 + elen;) {
                unsigned group = (unsigned)(b[j] << 8 | b[j + 1]);
                size_t klen = (size_t)(b[j + 2] << 8 | b[j + 3]);
                assert_true(j + 4 + klen <= i + 4 + elen);
                if (group == 0x11ec) info.mlkem_share = klen;
                j += 4 + klen;
            }
        i += 4 + elen;
    }
    free(h);
    return info;
}

/* openssl s_client -dtls1_2 -mtu 256 -cipher ALL -use_srtp ...: a 279-byte
 * ClientHello in two records (203 + 76 bytes). */
static void openssl_fragmented_hello(void **state) {
    (void)state;
    static const char *const files[] = {"openssl_ch_frag_rec0.bin", "openssl_ch_frag_rec1.bin"};
    replay(files, 2, 0);
    replay(files, 2, 1);
}

/* Chromium 156, stock flags: DTLS 1.3 + 1.2 offer with a post-quantum key
 * share, 1413 bytes in two records (captured with
 * capture/capture_chromium_hello.js). */
static void chromium_fragmented_hello(void **state) {
    (void)state;
    static const char *const files[] = {"chromium_ch_frag_rec0.bin", "chromium_ch_frag_rec1.bin"};
    /* What makes it hard: a 1.3 offer with a large post-quantum key share. */
    hello_info info = inspect_hello(files, 2);
    assert_true(info.dtls13);
    assert_int_equal(info.length, 1413);
    assert_int_equal(info.mlkem_share, 1216); /* ML-KEM-768 key + X25519 */
    replay(files, 2, 0);
    replay(files, 2, 1);
}

/* GStreamer webrtcbin (Nheko's engine): a 277-byte ClientHello split into
 * two records by its small MTU. */
static void webrtcbin_fragmented_hello(void **state) {
    (void)state;
    static const char *const files[] = {"webrtcbin_ch_frag_rec0.bin", "webrtcbin_ch_frag_rec1.bin"};
    hello_info info = inspect_hello(files, 2);
    assert_false(info.dtls13);
    assert_int_equal(info.mlkem_share, 0);
    assert_int_equal(info.length, 277);
    replay(files, 2, 0);
    replay(files, 2, 1);
}

/* Firefox ESR 153 (Debian firefox-esr), stock DTLS settings: DTLS 1.3 + 1.2
 * offer with an X25519MLKEM768 key share, 1461 bytes in two records of
 * 1383 + 78 fragment bytes, one per datagram (captured with
 * capture/firefox_live.py server PEER DUMP). */
static void firefox_fragmented_hello(void **state) {
    (void)state;
    static const char *const files[] = {"firefox_ch_frag_rec0.bin", "firefox_ch_frag_rec1.bin"};
    hello_info info = inspect_hello(files, 2);
    assert_true(info.dtls13);
    assert_int_equal(info.length, 1461);
    assert_int_equal(info.mlkem_share, 1216);
    replay(files, 2, 0);
    replay(files, 2, 1);
}

/* The same capture went on: our flight took ~100 ms under ASan on a loaded
 * machine, and Firefox retransmitted its ClientHello (the same bytes, record
 * sequence numbers 2 and 3; rexmit_rec*). mbedTLS then has the ClientHello,
 * so the copies go to it, and it must resend its flight rather than fail
 * (RFC 6347 §4.2.4). It resends once per fragment: each one is a message of
 * the client's last flight. */
static void firefox_retransmitted_hello(void **state) {
    (void)state;
    static const char *const files[] = {"firefox_ch_frag_rec0.bin", "firefox_ch_frag_rec1.bin"};
    static const char *const again[] = {"firefox_ch_rexmit_rec0.bin", "firefox_ch_rexmit_rec1.bin"};
    int resent = replay_rexmit(files, 2, 0, again, 2);
    print_message("flights resent: %d\n", resent);
    assert_true(resent >= 1 && resent <= 2); /* at most one per datagram */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reassembly_unit),
        cmocka_unit_test(openssl_fragmented_hello),
        cmocka_unit_test(chromium_fragmented_hello),
        cmocka_unit_test(webrtcbin_fragmented_hello),
        cmocka_unit_test(firefox_fragmented_hello),
        cmocka_unit_test(firefox_retransmitted_hello),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
