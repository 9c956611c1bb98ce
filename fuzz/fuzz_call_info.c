/*
 * fuzz_call_info: the call tool's reader of m.call.* contents
 * (tools/matrix_client/call_content.c, mxrtc_mxc_call_info_parse) fed
 * arbitrary bytes, as a hostile room member could send. Checks that every
 * field comes out NUL-terminated within its bounds.
 *
 * Links tools/'s mxrtc_matrix_client library (see fuzz/CMakeLists.txt).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/matrix_client/matrix_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_mxc_call_info ci;
    int rc = mxrtc_mxc_call_info_parse((const char *)data, size, &ci);
    if (rc != MXRTC_OK && rc != MXRTC_ERR_MALFORMED && rc != MXRTC_ERR_LIMIT) abort();
    if (memchr(ci.call_id, 0, sizeof ci.call_id) == NULL || memchr(ci.party_id, 0, sizeof ci.party_id) == NULL ||
        memchr(ci.sdp_type, 0, sizeof ci.sdp_type) == NULL || memchr(ci.ice_ufrag, 0, sizeof ci.ice_ufrag) == NULL)
        abort();
    if (rc != MXRTC_OK && (ci.call_id[0] || ci.ice_ufrag[0])) abort(); /* an error leaves it empty */
    if (strchr(ci.ice_ufrag, '\r') || strchr(ci.ice_ufrag, '\n')) abort();
    return 0;
}
