/*
 * fuzz_dtls_client.c: DTLS records into a client endpoint on a synthetic
 * clock with seeded randomness. Seeds: real server flights recorded by
 * tests/dtls/gen_dtls_fuzz_seeds.c against this exact client (same seeds),
 * so a seed drives the client through a complete handshake.
 */
#include "fuzz_dtls_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_dtls_run(MXRTC_DTLS_ROLE_CLIENT, data, size);
    return 0;
}
