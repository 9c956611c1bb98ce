/*
 * fuzz_sdp_parse: the SDP parser (sdp/parse.c) and serialiser.
 *
 * Anything that parses must serialise, the text must parse again, and a
 * second serialisation must give the same bytes (the model is stable:
 * serialisation writes every field, so equal text means an equal model).
 * Seeds: browser and GStreamer offers from tests/sdp/fixtures.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "sdp/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Tight limits, so that every limit path is exercised too. */
static void tight(const uint8_t *data, size_t size) {
    mxrtc_sdp_limits lim;
    mxrtc_sdp_limits_default(&lim);
    lim.max_memory = 8192;
    lim.max_lines = 64;
    lim.max_line_len = 200;
    lim.max_media = 2;
    lim.max_attrs = 16;
    lim.max_payload_types = 4;
    lim.max_extmaps = 2;
    lim.max_ssrcs = 2;
    mxrtc_sdp *sdp = NULL;
    mxrtc_sdp_error err;
    int rc = mxrtc_sdp_parse(&sdp, (const char *)data, size, NULL, &lim, &err);
    if (rc != MXRTC_OK && rc != MXRTC_ERR_MALFORMED && rc != MXRTC_ERR_LIMIT) abort();
    if ((rc == MXRTC_OK) != (sdp != NULL)) abort();
    if (rc != MXRTC_OK && err.line > lim.max_lines + 1) abort();
    mxrtc_sdp_free(sdp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_sdp *sdp = NULL, *again = NULL;
    mxrtc_sdp_error err;
    tight(data, size);
    int rc = mxrtc_sdp_parse(&sdp, (const char *)data, size, NULL, NULL, &err);
    if (rc != MXRTC_OK) {
        if (rc != MXRTC_ERR_MALFORMED && rc != MXRTC_ERR_LIMIT) abort();
        if (sdp || !err.reason) abort();
        return 0;
    }
    char *t1 = NULL, *t2 = NULL;
    size_t n1 = 0, n2 = 0;
    if (mxrtc_sdp_serialize_alloc(sdp, NULL, &t1, &n1) != MXRTC_OK) abort();
    /* LF input becomes CRLF: allow the reparse twice the size. */
    mxrtc_sdp_limits lim;
    mxrtc_sdp_limits_default(&lim);
    lim.max_size *= 2;
    if (mxrtc_sdp_parse(&again, t1, n1, NULL, &lim, &err) != MXRTC_OK) abort();
    if (mxrtc_sdp_serialize_alloc(again, NULL, &t2, &n2) != MXRTC_OK) abort();
    if (n1 != n2 || memcmp(t1, t2, n1) != 0) abort();
    mxrtc_free(NULL, t1);
    mxrtc_free(NULL, t2);
    mxrtc_sdp_free(again);
    mxrtc_sdp_free(sdp);
    return 0;
}
