/*
 * test_dtls_handshake.c: two sans-IO endpoints handshake in memory on a
 * virtual clock: both role combinations, fragmented ClientHello (small MTU),
 * loss and reordering, fingerprint mismatch, RSA peer, timeout, close_notify,
 * application data, drain rule, allocation failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/alloc.h"
#include "base/random.h"
#include "dtls/dtls.h"
#include "dtls_pair.h"
#include "support/test_alloc.h"

#define LIMIT (120ull * 1000000)

static void keys_match(pair *p) {
    mxrtc_dtls_srtp_keys k0, k1;
    assert_int_equal(mxrtc_dtls_get_srtp_keys(p->s[0].d, &k0), MXRTC_OK);
    assert_int_equal(mxrtc_dtls_get_srtp_keys(p->s[1].d, &k1), MXRTC_OK);
    assert_int_equal(k0.profile, MXRTC_SRTP_AES128_CM_SHA1_80);
    assert_int_equal(k1.profile, MXRTC_SRTP_AES128_CM_SHA1_80);
    assert_memory_equal(k0.local, k1.remote, MXRTC_SRTP_KEY_SALT_LEN);
    assert_memory_equal(k0.remote, k1.local, MXRTC_SRTP_KEY_SALT_LEN);
    /* The two directions use different keys (RFC 5764 §4.2). */
    assert_memory_not_equal(k0.local, k0.remote, MXRTC_SRTP_KEY_SALT_LEN);
    static const uint8_t zero[MXRTC_SRTP_KEY_SALT_LEN];
    assert_memory_not_equal(k0.local, zero, sizeof zero);
    mxrtc_wipe(&k0, sizeof k0);
    mxrtc_wipe(&k1, sizeof k1);
}

static void handshake_role(mxrtc_dtls_role role0, size_t mtu0, size_t mtu1) {
    pair p;
    pair_init(&p, role0, 1, mtu0, mtu1);
    assert_true(pair_run(&p, LIMIT));
    assert_int_equal(p.s[0].profile, MXRTC_SRTP_AES128_CM_SHA1_80);
    assert_int_equal(p.s[1].profile, MXRTC_SRTP_AES128_CM_SHA1_80);
    keys_match(&p);
    /* No retransmission was needed on a perfect wire. */
    assert_true(p.now < 1000000 + 1000000);
    pair_free(&p);
}

static void client_and_server(void **state) {
    (void)state;
    handshake_role(MXRTC_DTLS_ROLE_CLIENT, 0, 0);
}

static void server_and_client(void **state) {
    (void)state;
    handshake_role(MXRTC_DTLS_ROLE_SERVER, 0, 0);
}

/* The client's ClientHello split into 40-byte fragments (RFC 6347
 * §4.2.3), one record each, sent as separate datagrams in reverse order
 * with one duplicate: our server must reassemble it before mbedTLS. */
static void fragmented_client_hello_reassembled(void **state) {
    (void)state;
    pair p;
    pair_init(&p, MXRTC_DTLS_ROLE_CLIENT, 2, 0, 0);
    pair_drain(&p, 0);
    assert_int_equal(p.s[1].inbox_n, 1);
    static uint8_t frags[8192];
    size_t n = pair_fragment(p.s[1].inbox[0].data, p.s[1].inbox[0].len, 40, frags, sizeof frags);
    p.s[1].inbox_n = 0;
    size_t starts[256], count = 0;
    for (size_t i = 0; i < n; count++) {
        assert_true(count < 256);
        starts[count] = i;
        i += 13 + ((size_t)frags[i + 11] << 8 | frags[i + 12]);
    }
    assert_true(count >= 4);
    for (size_t k = count; k-- > 0;) {
        size_t len = (k + 1 < count ? starts[k + 1] : n) - starts[k];
        int r = mxrtc_dtls_handle_datagram(p.s[1].d, p.now, frags + starts[k], len);
        assert_int_equal(r, MXRTC_OK);
        pair_drain(&p, 1);
        /* Nothing is answered before the last fragment is in. */
        assert_int_equal(p.s[0].inbox_n, k == 0 ? p.s[0].inbox_n : 0);
        if (k == count / 2) {
            /* A duplicate fragment changes nothing. */
            assert_int_equal(mxrtc_dtls_handle_datagram(p.s[1].d, p.now, frags + starts[k], len), MXRTC_OK);
            pair_drain(&p, 1);
        }
    }
    assert_true(p.s[0].inbox_n > 0); /* ServerHello... */
    assert_true(pair_run(&p, LIMIT));
    mxrtc_dtls_stats st;
    mxrtc_dtls_get_stats(p.s[1].d, &st);
    assert_int_equal(st.hello_reassembled, 1);
    keys_match(&p);
    pair_free(&p);
}

/* The server's first flight is lost, so the client retransmits its
 * ClientHello, fragmented again: this copy goes to mbedTLS as it is (the
 * reassembler is done) and must make the server resend its flight. */
static void fragmented_hello_retransmitted_after_lost_flight(void **state) {
    (void)state;
    for (int lost = 1; lost <= 3; lost++) {
        pair p;
        pair_init(&p, MXRTC_DTLS_ROLE_CLIENT, 30 + (uint64_t)lost, 0, 0);
        p.fragment_hello = 64;
        p.drop_first[1] = (unsigned)lost; /* the server's first datagrams */
        assert_true(pair_run(&p, LIMIT));
        assert_true(p.hellos_fragmented >= 2);
        mxrtc_dtls_stats st;
        mxrtc_dtls_get_stats(p.s[1].d, &st);
        assert_int_equal(st.hello_reassembled, 1);
        keys_match(&p);
        pair_free(&p);
    }
    /* And with random loss and reordering on top, over several seeds. */
    for (uint64_t seed = 40; seed < 48; seed++) {
        pair p;
        pair_init(&p, MXRTC_DTLS_ROLE_SERVER, seed, 0, 0);
        p.fragment_hello = 50;
        p.loss_percent = 20;
        p.reorder = 1;
        if (!pair_run(&p, LIMIT))
            fail_msg("seed %llu: not connected (%d/%d)", (unsigned long long)seed, p.s[0].error, p.s[1].error);
        keys_match(&p);
        pair_free(&p);
    }
}

/* 25% loss with reordering, 24 seeded runs. The retransmission schedule
 * is finite (1, 2, 4, 8, 16 s, then MXRTC_ERR_TIMEOUT), so a run whose
 * every retransmission of one flight loses a datagram gives up: with the
 * flights cut at a 300-byte MTU that happens in one of these runs (seed 11,
 * client at the small MTU: six consecutive flights each lost one of their
 * datagrams). Every other run must connect with matching keys, and a run
 * that does not must end in a clean timeout, never another error or a hang. */
static void loss_and_reorder(void **state) {
    (void)state;
    int timeouts = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        for (int r = 0; r < 2; r++) {
            pair p;
            pair_init(&p, r ? MXRTC_DTLS_ROLE_SERVER : MXRTC_DTLS_ROLE_CLIENT, seed, r ? 0 : 300, r ? 300 : 0);
            p.loss_percent = 25;
            p.reorder = 1;
            int ok = pair_run(&p, LIMIT);
            if (!ok) {
                int e = p.s[0].error ? p.s[0].error : p.s[1].error;
                if (e != MXRTC_ERR_TIMEOUT || p.dropped < 6)
                    fail_msg("seed %llu role %d: not connected (err %d/%d) after %u dropped",
                             (unsigned long long)seed, r, p.s[0].error, p.s[1].error, p.dropped);
                timeouts++;
            } else {
                keys_match(&p);
            }
            pair_free(&p);
        }
    }
    assert_true(timeouts <= 1);
}

/* A lossy wire must have lost something in at least one run above; this
 * one loses the whole first flight to prove retransmission. */
static void first_flight_lost_is_retransmitted(void **state) {
    (void)state;
    pair p;
    pair_init(&p, MXRTC_DTLS_ROLE_CLIENT, 3, 0, 0);
    mxrtc_dtls_output out;
    unsigned lost = 0;
    do {
        assert_int_equal(mxrtc_dtls_poll(p.s[0].d, p.now, &out), MXRTC_OK);
        if (out.type == MXRTC_DTLS_OUT_DATAGRAM) lost++;
    } while (out.type != MXRTC_DTLS_OUT_DEADLINE);
    assert_true(lost >= 1);
    /* RFC 6347 §4.2.4.1: the initial timer is 1 s (our default). */
    assert_int_equal(out.deadline, p.now + 1000000);
    assert_true(pair_run(&p, LIMIT));
    assert_true(p.s[0].sent > lost);
    pair_free(&p);
}

static void mismatch(mxrtc_dtls_role role0, int wrong_side) {
    pair p;
    mxrtc_dtls_fingerprint bad;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 99);
    mxrtc_random r = mxrtc_seeded_random_source(&g);
    mxrtc_dtls_cert *other;
    assert_int_equal(mxrtc_dtls_cert_new(&other, NULL, &r), MXRTC_OK);
    bad = *mxrtc_dtls_cert_fingerprint_raw(other);
    pair_init_with(&p, role0, 4, NULL, wrong_side == 0 ? &bad : NULL, wrong_side == 1 ? &bad : NULL);
    assert_false(pair_run(&p, LIMIT));
    /* The side holding the wrong fingerprint reports why. */
    assert_true(p.s[wrong_side].failed);
    assert_int_equal(p.s[wrong_side].error, MXRTC_ERR_CERTIFICATE);
    assert_false(p.s[0].connected && p.s[1].connected);
    /* Keys are never handed out. */
    mxrtc_dtls_srtp_keys k;
    assert_int_equal(mxrtc_dtls_get_srtp_keys(p.s[wrong_side].d, &k), MXRTC_ERR_STATE);
    /* The other side is told by an alert and fails too (or gives up). */
    p.settle = 1;
    pair_run(&p, LIMIT);
    assert_true(p.s[1 - wrong_side].failed);
    assert_true(p.s[1 - wrong_side].error == MXRTC_ERR_TLS || p.s[1 - wrong_side].error == MXRTC_ERR_TIMEOUT);
    mxrtc_dtls_cert_free(other);
    pair_free(&p);
}

static void fingerprint_mismatch_fails(void **state) {
    (void)state;
    mismatch(MXRTC_DTLS_ROLE_CLIENT, 0); /* client rejects the server */
    mismatch(MXRTC_DTLS_ROLE_CLIENT, 1); /* server rejects the client */
    mismatch(MXRTC_DTLS_ROLE_SERVER, 0);
    mismatch(MXRTC_DTLS_ROLE_SERVER, 1);
}

/* Every hash the SDP may name is checked, not just sha-256. */
static void other_fingerprint_hashes(void **state) {
    (void)state;
    const mxrtc_dtls_hash hs[] = {MXRTC_DTLS_HASH_SHA1, MXRTC_DTLS_HASH_SHA384, MXRTC_DTLS_HASH_SHA512};
    for (size_t k = 0; k < 3; k++) {
        mxrtc_seeded_random g;
        mxrtc_seeded_random_init(&g, 500 + k);
        mxrtc_random r = mxrtc_seeded_random_source(&g);
        mxrtc_dtls_cert *c1;
        assert_int_equal(mxrtc_dtls_cert_new(&c1, NULL, &r), MXRTC_OK);
        size_t der_len;
        const uint8_t *der = mxrtc_dtls_cert_der(c1, &der_len);
        mxrtc_dtls_fingerprint fp;
        assert_int_equal(mxrtc_dtls_fingerprint_compute(&fp, hs[k], der, der_len), MXRTC_OK);
        pair p;
        pair_init_with(&p, MXRTC_DTLS_ROLE_CLIENT, 5, c1, &fp, NULL);
        assert_true(pair_run(&p, LIMIT));
        pair_free(&p);
        /* One flipped bit is refused. */
        fp.value[fp.len - 1] ^= 1;
        pair_init_with(&p, MXRTC_DTLS_ROLE_CLIENT, 5, c1, &fp, NULL);
        assert_false(pair_run(&p, LIMIT));
        assert_int_equal(p.s[0].error, MXRTC_ERR_CERTIFICATE);
        pair_free(&p);
        mxrtc_dtls_cert_free(c1);
    }
}

static uint8_t *read_file(const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", MXRTC_DTLS_VECTORS, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t *buf = malloc(65536);
    assert_non_null(buf);
    *len = fread(buf, 1, 65535, f);
    buf[*len] = 0;
    fclose(f);
    return buf;
}

/* webrtcbin (Nheko) presents an RSA certificate: accepted in both roles. */
static void rsa_peer_certificate(void **state) {
    (void)state;
    size_t cl, kl;
    uint8_t *cert = read_file("rsa_cert.pem", &cl);
    uint8_t *key = read_file("rsa_key.pem", &kl);
    mxrtc_dtls_cert *rsa;
    assert_int_equal(mxrtc_dtls_cert_from_pem(&rsa, NULL, NULL, cert, cl + 1, key, kl + 1), MXRTC_OK);
    for (int r = 0; r < 2; r++) {
        pair p;
        pair_init_with(&p, r ? MXRTC_DTLS_ROLE_SERVER : MXRTC_DTLS_ROLE_CLIENT, 6, rsa, NULL, NULL);
        assert_true(pair_run(&p, LIMIT));
        keys_match(&p);
        pair_free(&p);
    }
    mxrtc_dtls_cert_free(rsa);
    /* Junk, and a valid key that is not the certificate's, are refused. */
    mxrtc_dtls_cert *ec;
    assert_int_equal(mxrtc_dtls_cert_new(&ec, NULL, NULL), MXRTC_OK);
    mxrtc_dtls_cert *bad = NULL;
    assert_int_equal(mxrtc_dtls_cert_from_pem(&bad, NULL, NULL, cert, cl + 1, (const uint8_t *)"junk", 5),
                     MXRTC_ERR_MALFORMED);
    assert_null(bad);
    size_t ol;
    uint8_t *other = read_file("other_ec_key.pem", &ol);
    assert_int_equal(mxrtc_dtls_cert_from_pem(&bad, NULL, NULL, cert, cl + 1, other, ol + 1), MXRTC_ERR_MISMATCH);
    assert_null(bad);
    free(other);
    mxrtc_dtls_cert_free(ec);
    free(cert);
    free(key);
}

static void client_without_peer_times_out(void **state) {
    (void)state;
    pair p;
    pair_init(&p, MXRTC_DTLS_ROLE_CLIENT, 7, 0, 0);
    p.loss_percent = 100;
    assert_false(pair_run(&p, LIMIT));
    assert_true(p.s[0].failed);
    assert_int_equal(p.s[0].error, MXRTC_ERR_TIMEOUT);
    /* 1 + 2 + 4 + 8 + 16 s of doubling timers (RFC 6347 §4.2.4.1). */
    assert_int_equal(p.now, 1000000 + 31000000);
    /* Initial ClientHello plus four retransmissions. */
    assert_int_equal(p.s[0].sent, 5);
    assert_int_equal(mxrtc_dtls_handle_timeout(p.s[0].d, p.now + 1), MXRTC_ERR_STATE);
    pair_free(&p);
}

static void close_notify_and_app_data(void **state) {
    (void)state;
    pair p;
    pair_init(&p, MXRTC_DTLS_ROLE_CLIENT, 8, 0, 0);
    assert_true(pair_run(&p, LIMIT));
    static const uint8_t msg[] = "an SCTP packet, say";
    assert_int_equal(mxrtc_dtls_send(p.s[0].d, p.now, msg, sizeof msg), MXRTC_OK);
    pair_drain(&p, 0);
    assert_int_equal(p.s[1].inbox_n, 1);
    assert_int_equal(mxrtc_dtls_handle_datagram(p.s[1].d, p.now, p.s[1].inbox[0].data, p.s[1].inbox[0].len),
                     MXRTC_OK);
    p.s[1].inbox_n = 0;
    pair_drain(&p, 1);
    assert_int_equal(p.s[1].app_received, 1);
    assert_memory_equal(p.s[1].last_app, msg, sizeof msg);
    /* Too big for one record within the MTU. */
    static uint8_t big[1500];
    assert_int_equal(mxrtc_dtls_send(p.s[1].d, p.now, big, sizeof big), MXRTC_ERR_LIMIT);

    assert_int_equal(mxrtc_dtls_close(p.s[0].d, p.now), MXRTC_OK);
    pair_drain(&p, 0);
    assert_int_equal(p.s[1].inbox_n, 1);
    assert_int_equal(mxrtc_dtls_handle_datagram(p.s[1].d, p.now, p.s[1].inbox[0].data, p.s[1].inbox[0].len),
                     MXRTC_OK);
    p.s[1].inbox_n = 0;
    pair_drain(&p, 1);
    assert_true(p.s[1].closed);
    assert_int_equal(mxrtc_dtls_send(p.s[0].d, p.now, msg, sizeof msg), MXRTC_ERR_STATE);
    /* Keys stay readable after close (media may still drain). */
    mxrtc_dtls_srtp_keys k;
    assert_int_equal(mxrtc_dtls_get_srtp_keys(p.s[0].d, &k), MXRTC_OK);
    pair_free(&p);
}

static void drain_rule_and_garbage(void **state) {
    (void)state;
    pair p;
    pair_init(&p, MXRTC_DTLS_ROLE_CLIENT, 9, 0, 0);
    /* The client has its ClientHello queued: input before draining is refused. */
    static const uint8_t junk[20] = {22, 0xfe, 0xfd};
    assert_int_equal(mxrtc_dtls_handle_timeout(p.s[0].d, p.now), MXRTC_ERR_STATE);
    pair_drain(&p, 0);
    /* Garbage to a server waiting for its ClientHello: dropped, still usable. */
    assert_int_equal(mxrtc_dtls_handle_datagram(p.s[1].d, p.now, junk, sizeof junk), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_dtls_handle_datagram(p.s[1].d, p.now, junk, 3), MXRTC_ERR_MALFORMED);
    static const uint8_t rtp[20] = {0x80, 96};
    assert_int_equal(mxrtc_dtls_handle_datagram(p.s[1].d, p.now, rtp, sizeof rtp), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_dtls_handle_datagram(p.s[1].d, p.now, NULL, 0), MXRTC_ERR_MALFORMED);
    assert_true(pair_run(&p, LIMIT));
    /* Garbage after the handshake is ignored by mbedTLS (bad records are
     * silently dropped, RFC 6347 §4.1.2.7). */
    uint8_t noise[64];
    memset(noise, 0x17, sizeof noise);
    assert_int_equal(mxrtc_dtls_handle_datagram(p.s[0].d, p.now, noise, sizeof noise), MXRTC_OK);
    pair_drain(&p, 0);
    assert_false(p.s[0].failed);
    pair_free(&p);
}

static void bad_config(void **state) {
    (void)state;
    mxrtc_dtls *d = (mxrtc_dtls *)1;
    mxrtc_dtls_config cfg;
    mxrtc_dtls_config_init(&cfg);
    assert_int_equal(mxrtc_dtls_new(&d, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);
    assert_null(d);
    mxrtc_dtls_cert *c;
    assert_int_equal(mxrtc_dtls_cert_new(&c, NULL, NULL), MXRTC_OK);
    cfg.cert = c;
    cfg.role = MXRTC_DTLS_ROLE_CLIENT;
    assert_int_equal(mxrtc_dtls_new(&d, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT); /* no fingerprint */
    cfg.remote_fingerprint = *mxrtc_dtls_cert_fingerprint_raw(c);
    cfg.mtu = 100;
    assert_int_equal(mxrtc_dtls_new(&d, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);
    cfg.mtu = 1200;
    cfg.remote_fingerprint.len = 20; /* sha-256 with 20 bytes */
    assert_int_equal(mxrtc_dtls_new(&d, &cfg, 0), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_dtls_free(NULL);
    mxrtc_dtls_cert_free(NULL);
    mxrtc_dtls_cert_free(c);
}

static void allocation_failures_leak_nothing(void **state) {
    (void)state;
    test_alloc ta;
    int ok = 0;
    for (long n = 1; n < 20 && !ok; n++) {
        test_alloc_init(&ta);
        test_alloc_fail_nth(&ta, n);
        mxrtc_dtls_cert *c = NULL;
        int r = mxrtc_dtls_cert_new(&c, &ta.iface, NULL);
        if (r == MXRTC_OK) {
            mxrtc_dtls_config cfg;
            mxrtc_dtls_config_init(&cfg);
            cfg.cert = c;
            cfg.role = MXRTC_DTLS_ROLE_SERVER;
            cfg.allocator = &ta.iface;
            cfg.remote_fingerprint = *mxrtc_dtls_cert_fingerprint_raw(c);
            mxrtc_dtls *d = NULL;
            r = mxrtc_dtls_new(&d, &cfg, 0);
            if (r == MXRTC_OK) ok = ta.failures == 0;
            else assert_int_equal(r, MXRTC_ERR_NO_MEMORY);
            mxrtc_dtls_free(d);
        } else {
            assert_int_equal(r, MXRTC_ERR_NO_MEMORY);
        }
        mxrtc_dtls_cert_free(c);
        assert_int_equal(ta.live, 0);
    }
    assert_true(ok);
}

static void roles_from_setup(void **state) {
    (void)state;
    mxrtc_dtls_role r;
    assert_int_equal(mxrtc_dtls_role_from_remote_setup("actpass", &r), MXRTC_OK);
    assert_int_equal(r, MXRTC_DTLS_ROLE_CLIENT); /* we prefer the client role */
    assert_int_equal(mxrtc_dtls_role_from_remote_setup("passive", &r), MXRTC_OK);
    assert_int_equal(r, MXRTC_DTLS_ROLE_CLIENT);
    assert_int_equal(mxrtc_dtls_role_from_remote_setup("active", &r), MXRTC_OK);
    assert_int_equal(r, MXRTC_DTLS_ROLE_SERVER);
    assert_int_equal(mxrtc_dtls_role_from_remote_setup("holdconn", &r), MXRTC_ERR_UNSUPPORTED);
    assert_int_equal(mxrtc_dtls_role_from_remote_setup("Active", &r), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_dtls_role_from_remote_setup(NULL, &r), MXRTC_ERR_MALFORMED);
    assert_string_equal(mxrtc_dtls_setup_attribute(MXRTC_DTLS_ROLE_CLIENT), "active");
    assert_string_equal(mxrtc_dtls_setup_attribute(MXRTC_DTLS_ROLE_SERVER), "passive");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roles_from_setup),
        cmocka_unit_test(client_and_server),
        cmocka_unit_test(server_and_client),
        cmocka_unit_test(fragmented_client_hello_reassembled),
        cmocka_unit_test(loss_and_reorder),
        cmocka_unit_test(fragmented_hello_retransmitted_after_lost_flight),
        cmocka_unit_test(first_flight_lost_is_retransmitted),
        cmocka_unit_test(fingerprint_mismatch_fails),
        cmocka_unit_test(other_fingerprint_hashes),
        cmocka_unit_test(rsa_peer_certificate),
        cmocka_unit_test(client_without_peer_times_out),
        cmocka_unit_test(close_notify_and_app_data),
        cmocka_unit_test(drain_rule_and_garbage),
        cmocka_unit_test(bad_config),
        cmocka_unit_test(allocation_failures_leak_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
