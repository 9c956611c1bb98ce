/*
 * fuzz_ice_candidate.c: the RFC 8839 candidate-attribute parser. Whatever
 * parses must serialise, and the serialised line must parse back to the same
 * candidate.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ice/candidate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_ice_candidate c, d;
    if (mxrtc_ice_candidate_parse(&c, (const char *)data, size) != MXRTC_OK) return 0;
    char buf[MXRTC_ICE_CANDIDATE_LINE_MAX];
    int n = mxrtc_ice_candidate_format(&c, buf, sizeof buf);
    if (n < 0) abort(); /* everything the parser accepts can be written */
    if (mxrtc_ice_candidate_parse(&d, buf, (size_t)n) != MXRTC_OK) abort();
    /* Unknown extensions are not written back; all else must survive. */
    d.unknown_extensions = c.unknown_extensions;
    if (memcmp(&c, &d, sizeof c) != 0) abort();
    return 0;
}
