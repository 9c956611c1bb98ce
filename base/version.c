#include "mxrtc.h"

#define MXRTC_STR2(x) #x
#define MXRTC_STR(x) MXRTC_STR2(x)

uint32_t mxrtc_version(void) { return MXRTC_VERSION_NUM; }

const char *mxrtc_version_string(void) {
    return MXRTC_STR(MXRTC_VERSION_MAJOR) "." MXRTC_STR(MXRTC_VERSION_MINOR) "." MXRTC_STR(MXRTC_VERSION_PATCH);
}
