/*
 * fuzz_dtls_fingerprint.c: the a=fingerprint value parser; whatever parses
 * must format and parse back to the same value.
 */
#include <stdlib.h>
#include <string.h>

#include "dtls/dtls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size ? size : 1);
    if (!text) return 0;
    if (size) memcpy(text, data, size);
    mxrtc_dtls_fingerprint fp, back;
    if (mxrtc_dtls_fingerprint_parse(&fp, text, size) == MXRTC_OK) {
        char out[MXRTC_DTLS_FINGERPRINT_STRLEN];
        int n = mxrtc_dtls_fingerprint_format(&fp, out, sizeof out);
        if (n <= 0) abort();
        if (mxrtc_dtls_fingerprint_parse(&back, out, (size_t)n) != MXRTC_OK) abort();
        if (!mxrtc_dtls_fingerprint_equal(&fp, &back)) abort();
    }
    free(text);
    return 0;
}
