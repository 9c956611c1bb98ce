/*
 * cert_internal.h: the certificate object as the endpoint sees it (private
 * to dtls/).
 */
#ifndef MXRTC_DTLS_CERT_INTERNAL_H
#define MXRTC_DTLS_CERT_INTERNAL_H

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "dtls/dtls.h"

struct mxrtc_dtls_cert {
    mxrtc_allocator alloc_copy;
    const mxrtc_allocator *alloc; /* &alloc_copy, or NULL for libc */
    mbedtls_pk_context key;
    mbedtls_x509_crt crt;
    mxrtc_dtls_fingerprint fp;
    char fp_text[MXRTC_DTLS_FINGERPRINT_STRLEN];
};

/* An mbedTLS f_rng over an mxrtc_random (user points to the mxrtc_random). */
int mxrtc_dtls_mbedtls_rng(void *user, unsigned char *out, size_t len);

#endif
