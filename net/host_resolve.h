/*
 * host_resolve.h: one DNS name resolved on a detached thread, for engines
 * whose hosts ask for ordinary host names (a TURN server's, from
 * /voip/turnServer) while the runner's own resolver only speaks mDNS
 * (net/mdns.h). The I/O thread never waits: it polls the job.
 *
 * Two references: the caller's and the thread's. Releasing a finished job
 * joins its thread and frees it; releasing one still running detaches the
 * thread, which frees the job when the system resolver returns (the caller
 * may give up, e.g. the runner closing, without waiting).
 */
#ifndef MXRTC_NET_HOST_RESOLVE_H
#define MXRTC_NET_HOST_RESOLVE_H

#include <stdbool.h>

#include "mxrtc.h"

#define MXRTC_NET_HOST_NAME_MAX 253   /* RFC 1035 §2.3.4 */

typedef struct mxrtc_net_host_job mxrtc_net_host_job;

/* Starts resolving name. MXRTC_ERR_INVALID_ARGUMENT (empty or too long),
 * MXRTC_ERR_NO_MEMORY, MXRTC_ERR_IO (no thread). */
int mxrtc_net_host_job_start(mxrtc_net_host_job **out, const char *name);
/* The name asked (valid until release). */
const char *mxrtc_net_host_job_name(const mxrtc_net_host_job *j);
/* true once finished: *ok says whether *ip (port 0) is set. Any thread. */
bool mxrtc_net_host_job_done(mxrtc_net_host_job *j, bool *ok, mxrtc_addr *ip);
/* Drops the caller's reference. NULL is fine. */
void mxrtc_net_host_job_release(mxrtc_net_host_job *j);

#endif
