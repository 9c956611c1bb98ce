/*
 * cert.c: our DTLS certificate: a fresh ECDSA P-256 key with a self-signed
 * certificate (RFC 8827 §6.5: WebRTC endpoints authenticate by the
 * fingerprint signalled in SDP, not by a CA), or one the host supplies.
 */
#include <string.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/bignum.h>

#include "base/alloc.h"
#include "base/random.h"
#include "dtls/cert_internal.h"

int mxrtc_dtls_mbedtls_rng(void *user, unsigned char *out, size_t len) {
    const mxrtc_random *r = user;
    /* mbedTLS only checks for non-zero; any mxrtc error will do. */
    return mxrtc_random_fill(r, out, len) == MXRTC_OK ? 0 : -1;
}

static int cert_alloc(mxrtc_dtls_cert **out, const mxrtc_allocator *alloc) {
    mxrtc_dtls_cert *c = mxrtc_calloc(alloc, 1, sizeof *c);
    if (!c) return MXRTC_ERR_NO_MEMORY;
    if (alloc) {
        c->alloc_copy = *alloc;
        c->alloc = &c->alloc_copy;
    }
    mbedtls_pk_init(&c->key);
    mbedtls_x509_crt_init(&c->crt);
    *out = c;
    return MXRTC_OK;
}

static int finish(mxrtc_dtls_cert *c) {
    int r = mxrtc_dtls_fingerprint_compute(&c->fp, MXRTC_DTLS_HASH_SHA256, c->crt.raw.p, c->crt.raw.len);
    if (r != MXRTC_OK) return r;
    r = mxrtc_dtls_fingerprint_format(&c->fp, c->fp_text, sizeof c->fp_text);
    return r < 0 ? r : MXRTC_OK;
}

int mxrtc_dtls_cert_new(mxrtc_dtls_cert **out, const mxrtc_allocator *alloc, const mxrtc_random *rnd) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    mxrtc_dtls_cert *c;
    int r = cert_alloc(&c, alloc);
    if (r != MXRTC_OK) return r;
    /* Used during creation only: the certificate keeps no random source. */
    mxrtc_random random = (rnd && rnd->fn) ? *rnd : mxrtc_random_os();

    mbedtls_x509write_cert w;
    mbedtls_x509write_crt_init(&w);
    uint8_t serial[16];
    uint8_t *der = NULL;
    const size_t der_cap = 1024; /* a P-256 certificate is ~400 bytes */
    r = MXRTC_ERR_CRYPTO;
    int mr = mbedtls_pk_setup(&c->key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (mr == MBEDTLS_ERR_PK_ALLOC_FAILED) { r = MXRTC_ERR_NO_MEMORY; goto fail; }
    if (mr != 0) goto fail;
    mr = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(c->key),
                             mxrtc_dtls_mbedtls_rng, &random);
    if (mr != 0) goto fail;

    if (mxrtc_random_fill(&random, serial, sizeof serial) != MXRTC_OK) goto fail;
    serial[0] &= 0x7f; /* RFC 5280 §4.1.2.2: a positive INTEGER */
    serial[0] |= 0x40; /* and never zero-led, so it keeps 16 bytes */
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, &c->key);
    mbedtls_x509write_crt_set_issuer_key(&w, &c->key);
    if (mbedtls_x509write_crt_set_subject_name(&w, "CN=mxrtc") != 0) goto fail;
    if (mbedtls_x509write_crt_set_issuer_name(&w, "CN=mxrtc") != 0) goto fail;
#if MBEDTLS_VERSION_NUMBER >= 0x03040000
    if (mbedtls_x509write_crt_set_serial_raw(&w, serial, sizeof serial) != 0) goto fail;
#else
    {
        mbedtls_mpi sn;
        mbedtls_mpi_init(&sn);
        mr = mbedtls_mpi_read_binary(&sn, serial, sizeof serial);
        if (mr == 0) mr = mbedtls_x509write_crt_set_serial(&w, &sn);
        mbedtls_mpi_free(&sn);
        if (mr != 0) goto fail;
    }
#endif
    /* Fixed validity: no wall clock in the core, and peers check the
     * fingerprint, not the dates. UTCTime range, so every parser takes it. */
    if (mbedtls_x509write_crt_set_validity(&w, "20000101000000", "20491231235959") != 0) goto fail;

    der = mxrtc_malloc(c->alloc, der_cap);
    if (!der) { r = MXRTC_ERR_NO_MEMORY; goto fail; }
    /* mbedtls writes the DER at the end of the buffer. */
    int n = mbedtls_x509write_crt_der(&w, der, der_cap, mxrtc_dtls_mbedtls_rng, &random);
    if (n <= 0) goto fail;
    mr = mbedtls_x509_crt_parse_der(&c->crt, der + der_cap - (size_t)n, (size_t)n);
    if (mr != 0) goto fail;
    r = finish(c);
    if (r != MXRTC_OK) goto fail;
    mxrtc_free(c->alloc, der);
    mbedtls_x509write_crt_free(&w);
    *out = c;
    return MXRTC_OK;
fail:
    mxrtc_free(c->alloc, der);
    mbedtls_x509write_crt_free(&w);
    mxrtc_dtls_cert_free(c);
    return r;
}

int mxrtc_dtls_cert_from_pem(mxrtc_dtls_cert **out, const mxrtc_allocator *alloc, const mxrtc_random *rnd,
                             const uint8_t *cert, size_t cert_len, const uint8_t *key, size_t key_len) {
    if (!out || !cert || !key) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    mxrtc_dtls_cert *c;
    int r = cert_alloc(&c, alloc);
    if (r != MXRTC_OK) return r;
    r = MXRTC_ERR_MALFORMED;
    if (mbedtls_x509_crt_parse(&c->crt, cert, cert_len) != 0) goto fail;
#if MBEDTLS_VERSION_MAJOR >= 3
    /* mbedTLS 3 blinds key operations with a random source. */
    mxrtc_random random = (rnd && rnd->fn) ? *rnd : mxrtc_random_os();
    if (mbedtls_pk_parse_key(&c->key, key, key_len, NULL, 0, mxrtc_dtls_mbedtls_rng, &random) != 0)
        goto fail;
    if (mbedtls_pk_check_pair(&c->crt.pk, &c->key, mxrtc_dtls_mbedtls_rng, &random) != 0) {
        r = MXRTC_ERR_MISMATCH;
        goto fail;
    }
#else
    (void)rnd;
    if (mbedtls_pk_parse_key(&c->key, key, key_len, NULL, 0) != 0) goto fail;
    if (mbedtls_pk_check_pair(&c->crt.pk, &c->key) != 0) {
        r = MXRTC_ERR_MISMATCH;
        goto fail;
    }
#endif
    r = finish(c);
    if (r != MXRTC_OK) goto fail;
    *out = c;
    return MXRTC_OK;
fail:
    mxrtc_dtls_cert_free(c);
    return r;
}

void mxrtc_dtls_cert_free(mxrtc_dtls_cert *c) {
    if (!c) return;
    /* mbedtls_pk_free zeroizes the key material it frees. */
    mbedtls_pk_free(&c->key);
    mbedtls_x509_crt_free(&c->crt);
    const mxrtc_allocator *a = c->alloc ? &c->alloc_copy : NULL;
    mxrtc_allocator copy;
    if (a) { copy = *a; a = &copy; }
    mxrtc_wipe(c, sizeof *c);
    mxrtc_free(a, c);
}

const char *mxrtc_dtls_cert_fingerprint(const mxrtc_dtls_cert *c) { return c ? c->fp_text : NULL; }

const mxrtc_dtls_fingerprint *mxrtc_dtls_cert_fingerprint_raw(const mxrtc_dtls_cert *c) {
    return c ? &c->fp : NULL;
}

const uint8_t *mxrtc_dtls_cert_der(const mxrtc_dtls_cert *c, size_t *len) {
    if (!c) return NULL;
    if (len) *len = c->crt.raw.len;
    return c->crt.raw.p;
}
