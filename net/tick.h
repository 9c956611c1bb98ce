/*
 * tick.h: the schedule of an engine adapter's media tick (engine_peer.h,
 * engine_calls.h): one period after another on the monotonic clock, a late
 * tick counted, and after a stall (more than ten periods behind) the missed
 * ticks skipped rather than run in a burst.
 */
#ifndef MXRTC_NET_TICK_H
#define MXRTC_NET_TICK_H

#include <stdbool.h>
#include <stdint.h>

#include "mxrtc.h"

/* With the engine drained at `now`: -1 if the tick is not due, else the
 * `first` argument for the tick function (1: a new period, counted in
 * *ticks and *late; 0: the tick asked to be called again). *next is 0
 * before the first call (the schedule starts at now). */
static inline int mxrtc_net_tick_due(mxrtc_time_us now, mxrtc_time_us period, mxrtc_time_us *next, bool again,
                                     uint64_t *ticks, uint64_t *late) {
    if (!*next) *next = now;
    if (again) return 0;
    if (now < *next) return -1;
    if (now - *next > period) (*late)++;
    (*ticks)++;
    *next += period;
    if (now > *next + 10 * period) *next = now + period;
    return 1;
}

/* The engine's deadline brought forward to the next tick, if one runs. */
static inline mxrtc_time_us mxrtc_net_tick_deadline(mxrtc_time_us deadline, bool ticking, mxrtc_time_us next) {
    return ticking && next && next < deadline ? next : deadline;
}

#endif
