/*
 * fuzz_dtls_server.c: DTLS records into a server endpoint (ClientHello
 * reassembly, then mbedTLS) on a synthetic clock with seeded randomness.
 * Seeds: real client flights recorded by tests/dtls/gen_dtls_fuzz_seeds.c
 * (a complete handshake replays), and the fragmented ClientHellos of
 * openssl, Chromium, webrtcbin and Firefox (tests/dtls/vectors/).
 */
#include "fuzz_dtls_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_dtls_run(MXRTC_DTLS_ROLE_SERVER, data, size);
    return 0;
}
