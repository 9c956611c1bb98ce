/*
 * random.h: drawing from the injected random source, and a seeded generator.
 *
 * The core never calls rand() or reads /dev/urandom itself: every object gets
 * an mxrtc_random at creation. Hosts pass mxrtc_random_os(); tests and fuzz
 * targets pass a seeded generator so that runs repeat exactly.
 */
#ifndef MXRTC_BASE_RANDOM_H
#define MXRTC_BASE_RANDOM_H

#include <stdint.h>
#include "mxrtc.h"

/* Fills buf from src (the OS source when src is NULL or src->fn is NULL). */
int mxrtc_random_fill(const mxrtc_random *src, uint8_t *buf, size_t len);
/* A uniform 32-bit value; 0 on a failing source (the error is returned in *err if err). */
uint32_t mxrtc_random_u32(const mxrtc_random *src, int *err);
uint64_t mxrtc_random_u64(const mxrtc_random *src, int *err);

/* A deterministic generator (xoshiro256**, seeded through splitmix64): not for
 * secrets, only for repeatable tests, simulations and fuzzing. */
typedef struct mxrtc_seeded_random {
    uint64_t s[4];
} mxrtc_seeded_random;

void mxrtc_seeded_random_init(mxrtc_seeded_random *g, uint64_t seed);
uint64_t mxrtc_seeded_random_next(mxrtc_seeded_random *g);
/* An mxrtc_random that draws from g (g must outlive its users). */
mxrtc_random mxrtc_seeded_random_source(mxrtc_seeded_random *g);

#endif
