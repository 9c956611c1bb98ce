/*
 * engine_ice.h: the ICE agent (ice/agent.h) as a runner engine.
 *
 * Mapping: SEND -> DATAGRAM; STREAM_SEND -> STREAM; EV_RESOLVE -> RESOLVE;
 * every other output (events, RECEIVED, SEND_RELAY) -> EVENT whose `event`
 * is a `const mxrtc_ice_output *`. A datagram that is not STUN (the agent
 * answers MXRTC_ERR_MALFORMED: application data on a direct pair) comes back
 * as an EVENT with kind MXRTC_ICE_OUT_RECEIVED, from = remote, to = local
 * address, data = a copy held by the adapter (up to MXRTC_NET_ICE_RX_MAX
 * bytes; longer ones are dropped and counted).
 */
#ifndef MXRTC_NET_ENGINE_ICE_H
#define MXRTC_NET_ENGINE_ICE_H

#include <stdbool.h>

#include "ice/agent.h"
#include "net/engine.h"

#define MXRTC_NET_ICE_RX_MAX 4096

typedef struct mxrtc_net_ice {
    mxrtc_ice_agent *agent;           /* borrowed: the caller frees it */
    mxrtc_ice_output out;             /* the last output, for EVENT pointers */
    bool rx_pending;
    mxrtc_ice_output rx;              /* synthesised RECEIVED event */
    uint8_t rx_buf[MXRTC_NET_ICE_RX_MAX];
    uint64_t rx_dropped;              /* non-STUN datagrams too long to copy */
} mxrtc_net_ice;

/* Prepares the adapter around agent (borrowed) and returns the engine table
 * whose user pointer is a. a must outlive the runner that uses it. */
mxrtc_net_engine mxrtc_net_ice_engine(mxrtc_net_ice *a, mxrtc_ice_agent *agent);

#endif
