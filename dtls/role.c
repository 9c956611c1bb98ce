/*
 * role.c: the DTLS role from the SDP a=setup attribute (RFC 4145 §4,
 * RFC 5763 §5, RFC 8842 §5).
 */
#include <string.h>

#include "dtls/dtls.h"

int mxrtc_dtls_role_from_remote_setup(const char *remote_setup, mxrtc_dtls_role *role) {
    if (!remote_setup || !role) return MXRTC_ERR_MALFORMED;
    if (strcmp(remote_setup, "actpass") == 0) {
        /* The choice is ours. We take the client role: as a client mbedTLS
         * never meets the fragmented ClientHellos that Chrome, Firefox and
         * webrtcbin send, which mbedTLS 2.28 cannot parse as a server. */
        *role = MXRTC_DTLS_ROLE_CLIENT;
        return MXRTC_OK;
    }
    if (strcmp(remote_setup, "passive") == 0) {
        *role = MXRTC_DTLS_ROLE_CLIENT;
        return MXRTC_OK;
    }
    if (strcmp(remote_setup, "active") == 0) {
        *role = MXRTC_DTLS_ROLE_SERVER;
        return MXRTC_OK;
    }
    /* RFC 8842 §5.1: holdconn is not used with DTLS in WebRTC. */
    if (strcmp(remote_setup, "holdconn") == 0) return MXRTC_ERR_UNSUPPORTED;
    return MXRTC_ERR_MALFORMED;
}

const char *mxrtc_dtls_setup_attribute(mxrtc_dtls_role role) {
    return role == MXRTC_DTLS_ROLE_SERVER ? "passive" : "active";
}
