/*
 * ctrans.c: STUN client transaction timers, RFC 8489 §6.2.1 and §6.2.2.
 *
 * Over UDP the request is sent at 0, RTO, 3 RTO, 7 RTO ... (the interval
 * doubles) for Rc transmissions; after the last one the client waits Rm * RTO
 * (the initial RTO) and then gives up. With the defaults: sends at 0, 0.5,
 * 1.5, 3.5, 7.5, 15.5, 31.5 s and times out at 39.5 s.
 */
#include <string.h>

#include "stun/ctrans.h"

void mxrtc_stun_ctrans_start(mxrtc_stun_ctrans *t, const uint8_t tid[MXRTC_STUN_TID_SIZE],
                             const mxrtc_stun_ctrans_params *params, mxrtc_time_us now) {
    memset(t, 0, sizeof *t);
    memcpy(t->tid, tid, MXRTC_STUN_TID_SIZE);
    if (params) t->p = *params;
    if (!t->p.rto_us) t->p.rto_us = MXRTC_STUN_RTO_DEFAULT_US;
    if (!t->p.rc) t->p.rc = MXRTC_STUN_RC_DEFAULT;
    if (!t->p.rm) t->p.rm = MXRTC_STUN_RM_DEFAULT;
    t->rto = t->p.rto_us;
    t->state = MXRTC_STUN_CTRANS_RUNNING;
    t->next = now;
}

mxrtc_stun_ctrans_action mxrtc_stun_ctrans_poll(mxrtc_stun_ctrans *t, mxrtc_time_us now) {
    if (t->state != MXRTC_STUN_CTRANS_RUNNING || now < t->next) return MXRTC_STUN_CTRANS_WAIT;
    uint32_t max_sends = t->p.reliable ? 1 : t->p.rc;
    if (t->sent >= max_sends) {
        t->state = MXRTC_STUN_CTRANS_TIMED_OUT;
        return MXRTC_STUN_CTRANS_TIMEOUT;
    }
    t->sent++;
    if (t->p.reliable) {
        t->next = now + MXRTC_STUN_TI_US;                       /* §6.2.2: Ti */
    } else if (t->sent == t->p.rc) {
        t->next = now + (uint64_t)t->p.rm * t->p.rto_us;       /* §6.2.1: last wait Rm * RTO */
    } else {
        t->next = now + t->rto;
        t->rto *= 2;                                           /* §6.2.1: doubles */
    }
    return MXRTC_STUN_CTRANS_SEND;
}

mxrtc_time_us mxrtc_stun_ctrans_deadline(const mxrtc_stun_ctrans *t) {
    return t->state == MXRTC_STUN_CTRANS_RUNNING ? t->next : MXRTC_TIME_NEVER;
}

bool mxrtc_stun_ctrans_match(mxrtc_stun_ctrans *t, const mxrtc_stun_msg *m) {
    if (t->state != MXRTC_STUN_CTRANS_RUNNING) return false;
    if (m->cls != MXRTC_STUN_SUCCESS && m->cls != MXRTC_STUN_ERROR) return false;
    if (memcmp(t->tid, m->tid, MXRTC_STUN_TID_SIZE) != 0) return false;
    t->state = MXRTC_STUN_CTRANS_DONE;
    return true;
}

void mxrtc_stun_ctrans_cancel(mxrtc_stun_ctrans *t) {
    t->state = MXRTC_STUN_CTRANS_IDLE;
}
