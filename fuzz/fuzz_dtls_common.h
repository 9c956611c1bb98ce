/*
 * fuzz_dtls_common.h: the harness shared by fuzz_dtls_server and
 * fuzz_dtls_client (and by tests/dtls/gen_dtls_fuzz_seeds.c, which records
 * real handshakes as seeds). Everything is deterministic: certificates and
 * endpoints draw from seeded generators, and the clock is synthetic, so a
 * recorded peer flight replays into a fresh endpoint exactly.
 *
 * Input: a sequence of operations, each one byte then its operands:
 *   0: datagram: u16 length, bytes -> handle_datagram
 *   1: time: u8 n -> the clock advances n * 50 ms, handle_timeout
 *   2: app data: u8 length, bytes -> mxrtc_dtls_send
 *   3: close
 * (the op byte is taken modulo 4). After every operation the endpoint is
 * drained to its deadline.
 */
#ifndef MXRTC_FUZZ_DTLS_COMMON_H
#define MXRTC_FUZZ_DTLS_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/random.h"
#include "dtls/dtls.h"

#define FUZZ_DTLS_CERT_SEED_SERVER 1001
#define FUZZ_DTLS_CERT_SEED_CLIENT 1002
#define FUZZ_DTLS_RNG_SEED_SERVER 2001
#define FUZZ_DTLS_RNG_SEED_CLIENT 2002
#define FUZZ_DTLS_T0 1000000

static mxrtc_dtls_cert *fuzz_dtls_certs[2]; /* [0] server's, [1] client's; made once */

static void fuzz_dtls_make_certs(void) {
    if (fuzz_dtls_certs[0]) return;
    for (int i = 0; i < 2; i++) {
        mxrtc_seeded_random g;
        mxrtc_seeded_random_init(&g, i ? FUZZ_DTLS_CERT_SEED_CLIENT : FUZZ_DTLS_CERT_SEED_SERVER);
        mxrtc_random r = mxrtc_seeded_random_source(&g);
        if (mxrtc_dtls_cert_new(&fuzz_dtls_certs[i], NULL, &r) != MXRTC_OK) abort();
    }
}

/* An endpoint in role, with its own certificate and the other one's
 * fingerprint; g must outlive it. */
static mxrtc_dtls *fuzz_dtls_endpoint(mxrtc_dtls_role role, mxrtc_seeded_random *g) {
    fuzz_dtls_make_certs();
    int server = role == MXRTC_DTLS_ROLE_SERVER;
    mxrtc_seeded_random_init(g, server ? FUZZ_DTLS_RNG_SEED_SERVER : FUZZ_DTLS_RNG_SEED_CLIENT);
    mxrtc_dtls_config cfg;
    mxrtc_dtls_config_init(&cfg);
    cfg.role = role;
    cfg.cert = fuzz_dtls_certs[server ? 0 : 1];
    cfg.remote_fingerprint = *mxrtc_dtls_cert_fingerprint_raw(fuzz_dtls_certs[server ? 1 : 0]);
    cfg.random = mxrtc_seeded_random_source(g);
    mxrtc_dtls *d = NULL;
    if (mxrtc_dtls_new(&d, &cfg, FUZZ_DTLS_T0) != MXRTC_OK) abort();
    return d;
}

/* Drains d; every output must be well-formed. */
static mxrtc_time_us fuzz_dtls_drain(mxrtc_dtls *d, mxrtc_time_us now) {
    mxrtc_dtls_output out;
    for (int guard = 0; guard < 4096; guard++) {
        if (mxrtc_dtls_poll(d, now, &out) != MXRTC_OK) abort();
        if (out.type == MXRTC_DTLS_OUT_DEADLINE) return out.deadline;
        if ((out.type == MXRTC_DTLS_OUT_DATAGRAM || out.type == MXRTC_DTLS_OUT_APP_DATA) &&
            (!out.data || out.len == 0 || out.len > 2048))
            abort();
        if (out.type == MXRTC_DTLS_OUT_CONNECTED) {
            mxrtc_dtls_srtp_keys k;
            if (mxrtc_dtls_get_srtp_keys(d, &k) != MXRTC_OK) abort();
        }
    }
    abort(); /* poll must reach its deadline */
}

static void fuzz_dtls_run(mxrtc_dtls_role role, const uint8_t *data, size_t size) {
    mxrtc_seeded_random g;
    mxrtc_dtls *d = fuzz_dtls_endpoint(role, &g);
    mxrtc_time_us now = FUZZ_DTLS_T0;
    fuzz_dtls_drain(d, now);
    size_t i = 0;
    while (i < size) {
        uint8_t op = data[i++] % 4;
        if (op == 0) {
            if (size - i < 2) break;
            size_t len = (size_t)data[i] << 8 | data[i + 1];
            i += 2;
            if (len > size - i) len = size - i;
            /* A copy of exactly len bytes, so ASan sees any overread. */
            uint8_t *dg = malloc(len ? len : 1);
            if (!dg) abort();
            memcpy(dg, data + i, len);
            (void)mxrtc_dtls_handle_datagram(d, now, dg, len);
            free(dg);
            i += len;
        } else if (op == 1) {
            if (i >= size) break;
            now += (mxrtc_time_us)data[i++] * 50000;
            (void)mxrtc_dtls_handle_timeout(d, now);
        } else if (op == 2) {
            if (i >= size) break;
            size_t len = data[i++];
            if (len > size - i) len = size - i;
            if (len) (void)mxrtc_dtls_send(d, now, data + i, len);
            i += len;
        } else {
            (void)mxrtc_dtls_close(d, now);
        }
        fuzz_dtls_drain(d, now);
    }
    mxrtc_dtls_free(d);
}

#endif
