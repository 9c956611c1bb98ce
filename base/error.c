#include "mxrtc.h"

const char *mxrtc_strerror(int err) {
    switch ((mxrtc_error)err) {
    case MXRTC_OK: return "success";
    case MXRTC_ERR_INVALID_ARGUMENT: return "invalid argument";
    case MXRTC_ERR_NO_MEMORY: return "out of memory";
    case MXRTC_ERR_BUFFER_TOO_SMALL: return "output buffer too small";
    case MXRTC_ERR_TRUNCATED: return "input truncated";
    case MXRTC_ERR_MALFORMED: return "malformed input";
    case MXRTC_ERR_UNSUPPORTED: return "not supported";
    case MXRTC_ERR_UNKNOWN_ATTRIBUTE: return "unknown comprehension-required attribute";
    case MXRTC_ERR_INTEGRITY: return "message integrity check failed";
    case MXRTC_ERR_FINGERPRINT: return "STUN fingerprint mismatch";
    case MXRTC_ERR_AUTH: return "authentication rejected by the remote";
    case MXRTC_ERR_TIMEOUT: return "timed out";
    case MXRTC_ERR_STATE: return "not allowed in the current state";
    case MXRTC_ERR_LIMIT: return "configured limit reached";
    case MXRTC_ERR_NOT_FOUND: return "not found";
    case MXRTC_ERR_REMOTE: return "the remote answered with an error";
    case MXRTC_ERR_TLS: return "TLS/DTLS protocol failure";
    case MXRTC_ERR_CRYPTO: return "cryptographic operation failed";
    case MXRTC_ERR_AGAIN: return "nothing available now";
    case MXRTC_ERR_CLOSED: return "closed";
    case MXRTC_ERR_IO: return "operating-system I/O error";
    case MXRTC_ERR_INTERNAL: return "internal error (a bug in mxrtc)";
    case MXRTC_ERR_CERTIFICATE: return "remote certificate does not match the signalled fingerprint";
    case MXRTC_ERR_REPLAY: return "replayed packet";
    case MXRTC_ERR_MISMATCH: return "response does not match the request";
    case MXRTC_ERR_UNKNOWN: break;
    }
    return "unknown error";
}

int mxrtc_error_is_fatal(int err) {
    switch ((mxrtc_error)err) {
    case MXRTC_ERR_NO_MEMORY:
    case MXRTC_ERR_CLOSED:
    case MXRTC_ERR_INTERNAL:
        return 1;
    default:
        return 0;
    }
}
