/*
 * fuzz_tls_stream.c: the turns: TLS client fed arbitrary "server" bytes.
 * The client is deterministic (seeded random, no verification so that a
 * recorded flight gets past the certificate), the input is fed in chunks
 * whose sizes come from the input's first byte, and the whole API is
 * exercised after every chunk: nothing may crash, leak or loop.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/random.h"
#include "stun/tls_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 0x7475726e);   /* same client every run */
    mxrtc_tls_stream_config cfg;
    mxrtc_tls_stream_config_init(&cfg);
    cfg.random = mxrtc_seeded_random_source(&g);
    cfg.server_name = "turn.mxrtc.test";
    cfg.insecure_skip_verify = 1;
    mxrtc_tls_stream *s = NULL;
    if (mxrtc_tls_stream_new(&s, &cfg) != MXRTC_OK) abort();
    static uint8_t out[8192];
    (void)mxrtc_tls_stream_pending_output(s, out, sizeof out);   /* the ClientHello */
    (void)mxrtc_tls_stream_write(s, (const uint8_t *)"\x00\x01\x00\x00", 4);

    size_t chunk = size ? 1 + (size_t)data[0] * 37 : 1;
    size_t off = 0;
    int r = MXRTC_OK;
    while (off < size) {
        size_t n = size - off < chunk ? size - off : chunk;
        r = mxrtc_tls_stream_handle_input(s, data + off, n);
        if (r < 0) break;
        if ((size_t)r > n) abort();
        off += (size_t)r;
        int got;
        while ((got = mxrtc_tls_stream_read(s, out, sizeof out)) > 0) {
        }
        if (r == 0 && got == MXRTC_ERR_AGAIN) break;   /* no progress possible */
        while (mxrtc_tls_stream_pending_output(s, out, sizeof out) > 0) {
        }
    }
    if (r < 0 && r != MXRTC_ERR_TLS && r != MXRTC_ERR_CERTIFICATE && r != MXRTC_ERR_NO_MEMORY &&
        r != MXRTC_ERR_CRYPTO)
        abort();
    (void)mxrtc_tls_stream_handle_eof(s);
    (void)mxrtc_tls_stream_close(s);
    while (mxrtc_tls_stream_pending_output(s, out, sizeof out) > 0) {
    }
    mxrtc_tls_stream_free(s);
    return 0;
}
