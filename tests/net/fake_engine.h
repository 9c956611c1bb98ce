/*
 * fake_engine.h: a scripted engine for the runner tests. Commands (run on
 * the runner's I/O thread) queue outputs; inputs are recorded. A mutex and
 * condition let the test thread wait, with a hang guard, for what the I/O
 * thread did.
 */
#ifndef MXRTC_TEST_NET_FAKE_ENGINE_H
#define MXRTC_TEST_NET_FAKE_ENGINE_H

#include <pthread.h>
#include <stdbool.h>

#include "net/engine.h"

#define FE_MAX_OUT 16
#define FE_MAX_DATA 512

typedef struct fe_out {
    mxrtc_net_output o;
    uint8_t data[FE_MAX_DATA];
    char name[256];
    int event;                        /* EVENT: the int handed to the host */
} fe_out;

typedef struct fake_engine {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* outputs waiting (I/O thread only) */
    fe_out out[FE_MAX_OUT];
    int nout;
    fe_out last;                      /* the output being handed out */
    bool echo;
    mxrtc_addr stream_to;             /* where cmd_stream writes */                        /* send every datagram back where it came from */
    /* recorded inputs (under mu) */
    int datagrams, timeouts, streams_closed, resolves_ok, resolves_failed, calls_after_free;
    mxrtc_addr last_local, last_remote, resolved_ip;
    char resolved_name[256];
    uint8_t stream_rx[FE_MAX_DATA];
    size_t stream_rx_len;
    bool freed;                       /* the test freed the runner: no input may follow */
    long counter;                     /* incremented by commands */
} fake_engine;

void fe_init(fake_engine *fe);
void fe_destroy(fake_engine *fe);
mxrtc_net_engine fe_engine(fake_engine *fe);
/* Queue an output (I/O thread: from a command). */
void fe_push(fake_engine *fe, const mxrtc_net_output *o, const uint8_t *data, size_t len, const char *name, int event);
/* Waits until pred(fe) holds (true) or 10 s pass (false). */
bool fe_wait(fake_engine *fe, bool (*pred)(fake_engine *fe));
void fe_lock(fake_engine *fe);
void fe_unlock(fake_engine *fe);

#endif
