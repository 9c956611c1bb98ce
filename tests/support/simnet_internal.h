/*
 * simnet_internal.h: between simnet.c and simnet_turn.c only.
 */
#ifndef MXRTC_TEST_SIMNET_INTERNAL_H
#define MXRTC_TEST_SIMNET_INTERNAL_H

#include "support/simnet.h"

struct simnet_turn;
void simnet_turn_free(struct simnet_turn *t);
/* Adds t's allocations alive at now and its deallocations to the counts. */
void simnet_turn_counts(const struct simnet_turn *t, mxrtc_time_us now, size_t *live, uint64_t *deallocations);
void simnet_turn_input(simnet *net, int host_id, struct simnet_turn *t, mxrtc_addr from, mxrtc_addr to,
                       const uint8_t *data, size_t len, mxrtc_time_us now);
void simnet_host_set_turn(simnet *net, int host_id, struct simnet_turn *t);
void simnet_count_turn(simnet *net, bool relayed, bool auth_failure);

#endif
