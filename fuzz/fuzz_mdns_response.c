/*
 * fuzz_mdns_response.c: the mDNS response parser (net/mdns.c) on arbitrary
 * bytes. Seeds: responses built by tests/net/test_mdns.c (A and AAAA with
 * compression, with and without the question, pointer loops).
 *
 * Links libmxrtc_net (fuzz/CMakeLists.txt, and LINK in tests/net).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/mdns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_mdns_record recs[4];
    size_t count = 0;
    int rc = mxrtc_mdns_parse_response(data, size, recs, 4, &count);
    if (rc == MXRTC_OK) {
        if (count > 4) __builtin_trap();
        for (size_t i = 0; i < count; i++) {
            size_t n = strlen(recs[i].name);
            if (n > MXRTC_MDNS_NAME_MAX) __builtin_trap();
            if (recs[i].ip.family != MXRTC_AF_INET4 && recs[i].ip.family != MXRTC_AF_INET6) __builtin_trap();
            /* Every name parsed is a name we could ask for again. */
            uint8_t q[MXRTC_MDNS_QUERY_MAX];
            (void)mxrtc_mdns_build_query(recs[i].name, q, sizeof q);
        }
    } else if (rc != MXRTC_ERR_TRUNCATED && rc != MXRTC_ERR_MALFORMED && rc != MXRTC_ERR_UNSUPPORTED) {
        __builtin_trap();
    }
    return 0;
}
