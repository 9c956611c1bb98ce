/*
 * random_os.c: the operating system's random source. This is the one place in
 * the core that talks to the OS, and only because DESIGN.md makes the OS the
 * default source of randomness; everything else receives an mxrtc_random.
 */
#if defined(__linux__)
#  define _GNU_SOURCE 1
#  include <sys/random.h>
#  include <errno.h>
#elif defined(_WIN32)
#  include <windows.h>
#  include <bcrypt.h>
#else
#  define _DEFAULT_SOURCE 1
#  include <stdlib.h>
#endif

#include "mxrtc.h"

static int os_fill(void *user, uint8_t *buf, size_t len) {
    (void)user;
#if defined(__linux__)
    while (len) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            return MXRTC_ERR_IO;
        }
        buf += n;
        len -= (size_t)n;
    }
    return MXRTC_OK;
#elif defined(_WIN32)
    while (len) {
        ULONG n = len > 0x10000000u ? 0x10000000u : (ULONG)len;
        if (BCryptGenRandom(NULL, buf, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return MXRTC_ERR_IO;
        buf += n;
        len -= n;
    }
    return MXRTC_OK;
#else
    arc4random_buf(buf, len);
    return MXRTC_OK;
#endif
}

mxrtc_random mxrtc_random_os(void) {
    mxrtc_random r = {os_fill, NULL};
    return r;
}
