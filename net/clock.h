/* clock.h: the monotonic clock the runner feeds to the sans-IO core. */
#ifndef MXRTC_NET_CLOCK_H
#define MXRTC_NET_CLOCK_H

#include "mxrtc.h"

/* Microseconds on the OS monotonic clock (CLOCK_MONOTONIC on POSIX). */
mxrtc_time_us mxrtc_net_now(void);

#endif
