/*
 * dtls_pair.h: two sans-IO DTLS endpoints on a virtual wire with a virtual
 * clock, seeded loss and reordering (test support for tests/dtls).
 */
#ifndef MXRTC_TEST_DTLS_PAIR_H
#define MXRTC_TEST_DTLS_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include "base/random.h"
#include "dtls/dtls.h"

#define PAIR_QUEUE 512

typedef struct pair_pkt {
    size_t len;
    uint8_t data[2048];
} pair_pkt;

typedef struct pair_side {
    mxrtc_dtls *d;
    mxrtc_dtls_cert *cert;
    mxrtc_seeded_random rng; /* the endpoint's random source */
    int connected, failed, closed;
    int error;
    mxrtc_srtp_profile profile;
    unsigned sent;           /* datagrams emitted */
    unsigned app_received;
    uint8_t last_app[2048];
    size_t last_app_len;
    pair_pkt *inbox;         /* datagrams on their way to this side */
    size_t inbox_n;
} pair_side;

typedef struct pair {
    pair_side s[2];
    mxrtc_time_us now;
    mxrtc_seeded_random net_rng;
    unsigned loss_percent;   /* per datagram */
    int reorder;             /* shuffle each batch before delivery */
    unsigned dropped;
    int settle;              /* pair_run: go on until both sides are terminal */
    unsigned drop_first[2];  /* drop this many of side i's first datagrams */
    size_t fragment_hello;   /* >0: every ClientHello to the server is split into
                              * fragments of this size, one datagram each */
    unsigned hellos_fragmented;
} pair;

/* Makes a pair: side 0 with role0, side 1 the other role; each with a fresh
 * certificate from a seeded generator and the other's SHA-256 fingerprint.
 * mtu0/mtu1: 0 for the default. */
void pair_init(pair *p, mxrtc_dtls_role role0, uint64_t seed, size_t mtu0, size_t mtu1);
/* Creates a pair whose side 1 uses cert1 (borrowed) instead of a fresh one
 * and side 0 expects fp_for_1 (NULL: cert1's). */
void pair_init_with(pair *p, mxrtc_dtls_role role0, uint64_t seed, const mxrtc_dtls_cert *cert1,
                    const mxrtc_dtls_fingerprint *fp_for_1, const mxrtc_dtls_fingerprint *fp_for_0);
void pair_free(pair *p);

/* Drains side i (poll until DEADLINE), queuing datagrams for the other side
 * (subject to loss) and recording events. Returns side i's deadline. */
mxrtc_time_us pair_drain(pair *p, int i);
/* Runs until both sides are connected, one failed/closed, or until the
 * virtual clock passes limit_us. Returns 1 if both connected. */
int pair_run(pair *p, mxrtc_time_us limit_us);
/* Splits every handshake record of a datagram into fragments of at most
 * frag bytes, each in its own record (RFC 6347 §4.2.3), into out. Returns the
 * new length. Test helper for ClientHello reassembly. */
size_t pair_fragment(const uint8_t *in, size_t len, size_t frag, uint8_t *out, size_t cap);

#endif
