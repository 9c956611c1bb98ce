/*
 * gen_dtls_fuzz_seeds.c: writes the seed corpora of the dtls/ fuzz targets
 * from real traffic: a complete in-memory handshake between the exact
 * endpoints fuzz_dtls_server/fuzz_dtls_client build (same certificates,
 * same seeds, so the recorded peer flights replay), SRTP/SRTCP packets
 * protected with the keys fuzz_srtp_unprotect uses, and demux/fingerprint
 * samples. Built with the tests, run by hand:
 *   build/tests/dtls/gen_dtls_fuzz_seeds fuzz/corpus
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fuzz/fuzz_dtls_common.h"

typedef struct rec {
    uint8_t *buf;
    size_t len, cap;
} rec;

static void put(rec *r, const uint8_t *p, size_t n) {
    if (r->len + n > r->cap) {
        r->cap = (r->len + n) * 2;
        r->buf = realloc(r->buf, r->cap);
        if (!r->buf) abort();
    }
    memcpy(r->buf + r->len, p, n);
    r->len += n;
}

static void put_datagram(rec *r, const uint8_t *p, size_t n) {
    uint8_t h[3] = {0, (uint8_t)(n >> 8), (uint8_t)n};
    put(r, h, 3);
    put(r, p, n);
}

static void save(const char *dir, const char *target, const char *name, const uint8_t *p, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fwrite(p, 1, n, f);
    fclose(f);
}

typedef struct queue {
    uint8_t data[64][2048];
    size_t len[64];
    size_t n;
} queue;

/* Drains d into q (datagrams for the peer); returns 1 once connected. */
static int drain_into(mxrtc_dtls *d, queue *q, int *connected) {
    mxrtc_dtls_output out;
    for (;;) {
        if (mxrtc_dtls_poll(d, FUZZ_DTLS_T0, &out) != MXRTC_OK) abort();
        if (out.type == MXRTC_DTLS_OUT_DEADLINE) return *connected;
        if (out.type == MXRTC_DTLS_OUT_DATAGRAM) {
            if (q->n == 64) abort();
            memcpy(q->data[q->n], out.data, out.len);
            q->len[q->n++] = out.len;
        }
        if (out.type == MXRTC_DTLS_OUT_CONNECTED) *connected = 1;
        if (out.type == MXRTC_DTLS_OUT_FAILED) {
            fprintf(stderr, "handshake failed: %d\n", out.error);
            exit(1);
        }
    }
}

static void handshake_seeds(const char *dir) {
    mxrtc_seeded_random gs, gc;
    mxrtc_dtls *server = fuzz_dtls_endpoint(MXRTC_DTLS_ROLE_SERVER, &gs);
    mxrtc_dtls *client = fuzz_dtls_endpoint(MXRTC_DTLS_ROLE_CLIENT, &gc);
    static queue to_server, to_client;
    rec rs = {0}, rc = {0};
    int sc = 0, cc = 0;
    drain_into(server, &to_client, &sc);
    drain_into(client, &to_server, &cc);
    for (int round = 0; round < 20 && !(sc && cc); round++) {
        for (size_t k = 0; k < to_server.n; k++) {
            put_datagram(&rs, to_server.data[k], to_server.len[k]);
            if (mxrtc_dtls_handle_datagram(server, FUZZ_DTLS_T0, to_server.data[k], to_server.len[k]) != MXRTC_OK)
                abort();
            drain_into(server, &to_client, &sc);
        }
        to_server.n = 0;
        for (size_t k = 0; k < to_client.n; k++) {
            put_datagram(&rc, to_client.data[k], to_client.len[k]);
            if (mxrtc_dtls_handle_datagram(client, FUZZ_DTLS_T0, to_client.data[k], to_client.len[k]) != MXRTC_OK)
                abort();
            drain_into(client, &to_server, &cc);
        }
        to_client.n = 0;
    }
    if (!(sc && cc)) {
        fprintf(stderr, "no handshake\n");
        exit(1);
    }
    save(dir, "fuzz_dtls_server", "handshake", rs.buf, rs.len);
    save(dir, "fuzz_dtls_client", "handshake", rc.buf, rc.len);
    /* Then application data both ways and a close. */
    static const uint8_t tail[] = {2, 5, 'h', 'e', 'l', 'l', 'o', 3};
    put(&rs, tail, sizeof tail);
    put(&rc, tail, sizeof tail);
    save(dir, "fuzz_dtls_server", "handshake_app_close", rs.buf, rs.len);
    save(dir, "fuzz_dtls_client", "handshake_app_close", rc.buf, rc.len);
    /* Sanity: the harness itself takes the seeds. */
    fuzz_dtls_run(MXRTC_DTLS_ROLE_SERVER, rs.buf, rs.len);
    fuzz_dtls_run(MXRTC_DTLS_ROLE_CLIENT, rc.buf, rc.len);
    /* A client that hears nothing and retransmits, then gets its answer. */
    rec rt = {0};
    static const uint8_t wait[] = {1, 30, 1, 60};
    put(&rt, wait, sizeof wait);
    put(&rt, rc.buf, rc.len);
    save(dir, "fuzz_dtls_client", "retransmit_then_handshake", rt.buf, rt.len);
    free(rs.buf);
    free(rc.buf);
    free(rt.buf);
    mxrtc_dtls_free(server);
    mxrtc_dtls_free(client);
}

static void hello_seed(const char *dir, const char *vectors, const char *who) {
    rec r = {0};
    for (int i = 0; i < 2; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s_ch_frag_rec%d.bin", vectors, who, i);
        FILE *f = fopen(path, "rb");
        if (!f) return;
        uint8_t buf[4096];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        put_datagram(&r, buf, n);
    }
    char name[64];
    snprintf(name, sizeof name, "%s_fragmented_hello", who);
    save(dir, "fuzz_dtls_server", name, r.buf, r.len);
    free(r.buf);
}

static void srtp_seeds(const char *dir) {
    uint8_t k1[30], k2[30];
    for (int i = 0; i < 30; i++) {
        k1[i] = (uint8_t)(i * 3 + 1);
        k2[i] = (uint8_t)(i * 5 + 2);
    }
    for (int p = 0; p < 2; p++) {
        mxrtc_srtp *s;
        if (mxrtc_srtp_new(&s, NULL, p ? MXRTC_SRTP_AES128_CM_SHA1_32 : MXRTC_SRTP_AES128_CM_SHA1_80, k1, k2, 30))
            abort();
        uint8_t pkt[256];
        size_t n, out;
        char name[64];
        /* RTP: V=2, PT 111, seq, ts, SSRC, 40 bytes of payload. */
        static const uint8_t rtp_hdr[12] = {0x80, 111, 0, 7, 0, 0, 3, 0xc0, 0x12, 0x34, 0x56, 0x78};
        pkt[0] = (uint8_t)(p << 2);
        memcpy(pkt + 1, rtp_hdr, 12);
        for (int i = 0; i < 40; i++) pkt[13 + i] = (uint8_t)i;
        n = 52;
        if (mxrtc_srtp_protect_rtp(s, pkt + 1, n, sizeof pkt - 1, &out)) abort();
        snprintf(name, sizeof name, "srtp_p%d", p);
        save(dir, "fuzz_srtp_unprotect", name, pkt, out + 1);
        /* The same plain packet for the round trip. */
        pkt[0] = (uint8_t)(p << 2 | 2);
        memcpy(pkt + 1, rtp_hdr, 12);
        for (int i = 0; i < 40; i++) pkt[13 + i] = (uint8_t)i;
        snprintf(name, sizeof name, "rtp_trip_p%d", p);
        save(dir, "fuzz_srtp_unprotect", name, pkt, n + 1);
        /* RTCP receiver report with one report block (RFC 3550 §6.4.2). */
        static const uint8_t rr[32] = {0x81, 201, 0, 7, 0x12, 0x34, 0x56, 0x78, 0xca, 0xfe, 0xba, 0xbe};
        pkt[0] = (uint8_t)(p << 2 | 1);
        memcpy(pkt + 1, rr, 32);
        if (mxrtc_srtp_protect_rtcp(s, pkt + 1, 32, sizeof pkt - 1, &out)) abort();
        snprintf(name, sizeof name, "srtcp_p%d", p);
        save(dir, "fuzz_srtp_unprotect", name, pkt, out + 1);
        pkt[0] = (uint8_t)(p << 2 | 3);
        memcpy(pkt + 1, rr, 32);
        snprintf(name, sizeof name, "rtcp_trip_p%d", p);
        save(dir, "fuzz_srtp_unprotect", name, pkt, 33);
        mxrtc_srtp_free(s);
    }
}

static void demux_and_fingerprint_seeds(const char *dir) {
    static const uint8_t stun[20] = {0x00, 0x01, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    static const uint8_t dtls[13] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t rtp[12] = {0x80, 0xe0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4};
    static const uint8_t rtcp[8] = {0x80, 201, 0, 1, 1, 2, 3, 4};
    static const uint8_t chan[8] = {0x40, 0x00, 0, 4, 1, 2, 3, 4};
    static const uint8_t zrtp[12] = {0x10, 0, 0, 1, 0x5a, 0x52, 0x54, 0x50};
    save(dir, "fuzz_demux", "stun", stun, sizeof stun);
    save(dir, "fuzz_demux", "dtls", dtls, sizeof dtls);
    save(dir, "fuzz_demux", "rtp", rtp, sizeof rtp);
    save(dir, "fuzz_demux", "rtcp", rtcp, sizeof rtcp);
    save(dir, "fuzz_demux", "turn_channel", chan, sizeof chan);
    save(dir, "fuzz_demux", "zrtp", zrtp, sizeof zrtp);
    fuzz_dtls_make_certs();
    const char *fp = mxrtc_dtls_cert_fingerprint(fuzz_dtls_certs[0]);
    save(dir, "fuzz_dtls_fingerprint", "sha256", (const uint8_t *)fp, strlen(fp));
    size_t der_len;
    const uint8_t *der = mxrtc_dtls_cert_der(fuzz_dtls_certs[0], &der_len);
    const mxrtc_dtls_hash hs[] = {MXRTC_DTLS_HASH_SHA1, MXRTC_DTLS_HASH_SHA384, MXRTC_DTLS_HASH_SHA512};
    const char *names[] = {"sha1", "sha384", "sha512"};
    for (int i = 0; i < 3; i++) {
        mxrtc_dtls_fingerprint f;
        char text[MXRTC_DTLS_FINGERPRINT_STRLEN];
        if (mxrtc_dtls_fingerprint_compute(&f, hs[i], der, der_len)) abort();
        int n = mxrtc_dtls_fingerprint_format(&f, text, sizeof text);
        if (n < 0) abort();
        save(dir, "fuzz_dtls_fingerprint", names[i], (const uint8_t *)text, (size_t)n);
    }
    static const char md5[] = "md5 0C:1D:2E:3F:40:51:62:73:84:95:A6:B7:C8:D9:EA:FB\r\n";
    save(dir, "fuzz_dtls_fingerprint", "md5", (const uint8_t *)md5, sizeof md5 - 1);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s CORPUS_DIR VECTORS_DIR\n", argv[0]);
        return 2;
    }
    handshake_seeds(argv[1]);
    hello_seed(argv[1], argv[2], "openssl");
    hello_seed(argv[1], argv[2], "chromium");
    hello_seed(argv[1], argv[2], "webrtcbin");
    hello_seed(argv[1], argv[2], "firefox");
    srtp_seeds(argv[1]);
    demux_and_fingerprint_seeds(argv[1]);
    for (int i = 0; i < 2; i++) mxrtc_dtls_cert_free(fuzz_dtls_certs[i]);
    return 0;
}
