/*
 * teardown_wait.h: the tools' wait, after a hang-up, for the peers to
 * release their TURN allocations (mxrtc_peer_close in mxrtc.h: a Refresh
 * with LIFETIME 0, RFC 8656 §7.2, retransmitted until answered, at most
 * 2 s) before the runner (its sockets and TURN TCP connections) is freed.
 * Without it the relays stay allocated on the server until they expire.
 */
#ifndef MXRTC_TOOLS_TEARDOWN_WAIT_H
#define MXRTC_TOOLS_TEARDOWN_WAIT_H

#include <stdbool.h>

#include "net/runner.h"

/* 2 s teardown bound plus the time for a last answer to come in. */
#define MXRTC_TOOL_TEARDOWN_WAIT_US 2500000

/* Asks closing(user, now) on r's I/O thread (where the engine may be
 * touched) every 20 ms until it returns false or bound_us passed; the
 * runner keeps feeding the engine in between. True when it finished. */
bool mxrtc_tool_wait_teardown(mxrtc_net_runner *r, bool (*closing)(void *user, mxrtc_time_us now), void *user,
                              mxrtc_time_us bound_us);

#endif
