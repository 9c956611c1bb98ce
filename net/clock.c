#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "net/clock.h"

mxrtc_time_us mxrtc_net_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (mxrtc_time_us)ts.tv_sec * 1000000u + (mxrtc_time_us)ts.tv_nsec / 1000u;
}
