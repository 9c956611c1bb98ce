/* teardown_wait.c: see teardown_wait.h. */
#define _POSIX_C_SOURCE 200809L
#include "tools/teardown_wait.h"

#include <errno.h>
#include <time.h>

#include "net/clock.h"

typedef struct {
    bool (*closing)(void *user, mxrtc_time_us now);
    void *user;
    bool result;
} ask;

static void ask_cmd(void *arg, mxrtc_time_us now) {
    ask *a = arg;
    /* NEVER: the runner is shutting down and feeds nothing any more. */
    a->result = now != MXRTC_TIME_NEVER && a->closing(a->user, now);
}

bool mxrtc_tool_wait_teardown(mxrtc_net_runner *r, bool (*closing)(void *user, mxrtc_time_us now), void *user,
                              mxrtc_time_us bound_us) {
    mxrtc_time_us end = mxrtc_net_now() + bound_us;
    for (;;) {
        ask a = {closing, user, false};
        /* A runner that stopped feeds nothing any more: nothing to wait for. */
        if (mxrtc_net_runner_call_wait(r, ask_cmd, &a) != MXRTC_OK) return false;
        if (!a.result) return true;
        if (mxrtc_net_now() >= end) return false;
        struct timespec ts = {0, 20000000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
}
