/*
 * ctrans.h: a STUN client transaction's retransmission timer (RFC 8489
 * §6.2.1 over UDP, §6.2.2 over TCP/TLS), on the caller's clock.
 *
 * It holds no message: the owner keeps the request bytes and sends them again
 * when mxrtc_stun_ctrans_poll() says so. Used by the TURN client and the ICE
 * agent.
 */
#ifndef MXRTC_STUN_CTRANS_H
#define MXRTC_STUN_CTRANS_H

#include <stdbool.h>
#include <stdint.h>

#include "mxrtc.h"
#include "stun/stun.h"

/* RFC 8489 §6.2.1 defaults: initial RTO 500 ms (no RTT known), Rc = 7
 * transmissions, the last one waited for Rm = 16 RTOs: 39.5 s in all. */
#define MXRTC_STUN_RTO_DEFAULT_US 500000u
#define MXRTC_STUN_RC_DEFAULT 7u
#define MXRTC_STUN_RM_DEFAULT 16u
/* §6.2.2: over reliable transports, one transmission and Ti = 39.5 s. */
#define MXRTC_STUN_TI_US 39500000u

typedef struct mxrtc_stun_ctrans_params {
    uint32_t rto_us;     /* initial RTO; 0 = default */
    uint32_t rc;         /* transmissions over UDP; 0 = default */
    uint32_t rm;         /* final wait in RTOs; 0 = default */
    bool reliable;       /* TCP/TLS: no retransmission, one Ti timeout */
} mxrtc_stun_ctrans_params;

typedef enum mxrtc_stun_ctrans_state {
    MXRTC_STUN_CTRANS_IDLE = 0,
    MXRTC_STUN_CTRANS_RUNNING,
    MXRTC_STUN_CTRANS_DONE,      /* a response was matched */
    MXRTC_STUN_CTRANS_TIMED_OUT
} mxrtc_stun_ctrans_state;

typedef struct mxrtc_stun_ctrans {
    uint8_t tid[MXRTC_STUN_TID_SIZE];
    mxrtc_stun_ctrans_params p;
    mxrtc_stun_ctrans_state state;
    uint32_t sent;               /* transmissions so far */
    uint64_t rto;                /* current RTO (doubles after each retransmission) */
    mxrtc_time_us next;          /* next transmission, or the timeout */
} mxrtc_stun_ctrans;

/* What the owner must do now. */
typedef enum mxrtc_stun_ctrans_action {
    MXRTC_STUN_CTRANS_WAIT = 0,  /* nothing before mxrtc_stun_ctrans_deadline() */
    MXRTC_STUN_CTRANS_SEND,      /* (re)transmit the request now */
    MXRTC_STUN_CTRANS_TIMEOUT    /* give up: no response (reported once) */
} mxrtc_stun_ctrans_action;

/* Starts a transaction whose first transmission is due at `now`. */
void mxrtc_stun_ctrans_start(mxrtc_stun_ctrans *t, const uint8_t tid[MXRTC_STUN_TID_SIZE],
                             const mxrtc_stun_ctrans_params *params, mxrtc_time_us now);
/* Advances the timer to `now`: SEND when a transmission is due (the first one
 * included), TIMEOUT once when it has run out, WAIT otherwise. */
mxrtc_stun_ctrans_action mxrtc_stun_ctrans_poll(mxrtc_stun_ctrans *t, mxrtc_time_us now);
/* When poll next has something to say; MXRTC_TIME_NEVER unless RUNNING. */
mxrtc_time_us mxrtc_stun_ctrans_deadline(const mxrtc_stun_ctrans *t);
/* True (and the transaction DONE) if m is a response (success or error) to
 * this running transaction. Indications and requests never match. */
bool mxrtc_stun_ctrans_match(mxrtc_stun_ctrans *t, const mxrtc_stun_msg *m);
/* Stops the transaction (the owner no longer cares). */
void mxrtc_stun_ctrans_cancel(mxrtc_stun_ctrans *t);

#endif
