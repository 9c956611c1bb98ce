/*
 * fuzz_turn_uri.c: stun:/turn: URI parsing (RFC 7064/7065) and the REST
 * credential check, with the invariants a successful parse promises.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stun/turn_uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_turn_uri u;
    int r = mxrtc_turn_uri_parse(&u, (const char *)data, size);
    if (r == MXRTC_OK) {
        if (u.host_len == 0 || u.host_len > MXRTC_TURN_HOST_MAX) abort();
        if (strlen(u.host) != u.host_len) abort();
        if (u.port == 0) abort();
        if (u.scheme < MXRTC_URI_STUN || u.scheme > MXRTC_URI_TURNS) abort();
        if (u.transport != MXRTC_URI_TRANSPORT_UDP && u.transport != MXRTC_URI_TRANSPORT_TCP) abort();
        if (u.secure && u.transport != MXRTC_URI_TRANSPORT_TCP) abort();
        if (u.host_is_ip && (u.addr.family == MXRTC_AF_UNSPEC || u.addr.port != u.port)) abort();
        if (!u.host_is_ip && u.addr.family != MXRTC_AF_UNSPEC) abort();
        /* Parsing is deterministic. */
        mxrtc_turn_uri again;
        if (mxrtc_turn_uri_parse(&again, (const char *)data, size) != MXRTC_OK) abort();
        if (memcmp(&u, &again, sizeof u) != 0) abort();
    } else if (r != MXRTC_ERR_MALFORMED && r != MXRTC_ERR_UNSUPPORTED && r != MXRTC_ERR_LIMIT) {
        abort();
    }

    /* The same bytes as "username\npassword" REST credentials. */
    const uint8_t *nl = memchr(data, '\n', size);
    if (nl) {
        mxrtc_turn_credentials c;
        size_t ulen = (size_t)(nl - data);
        r = mxrtc_turn_credentials_from_rest(&c, (const char *)data, ulen, (const char *)nl + 1,
                                             size - ulen - 1);
        if (r == MXRTC_OK && (c.username_len != ulen || memcmp(c.username, data, ulen) != 0)) abort();
        mxrtc_turn_credentials_wipe(&c);
    }
    return 0;
}
