#include "base/random.h"

#include <string.h>

int mxrtc_random_fill(const mxrtc_random *src, uint8_t *buf, size_t len) {
    if (!buf && len) return MXRTC_ERR_INVALID_ARGUMENT;
    if (len == 0) return MXRTC_OK;
    if (src && src->fn) return src->fn(src->user, buf, len);
    mxrtc_random os = mxrtc_random_os();
    return os.fn(os.user, buf, len);
}

uint32_t mxrtc_random_u32(const mxrtc_random *src, int *err) {
    uint8_t b[4];
    int rc = mxrtc_random_fill(src, b, sizeof b);
    if (err) *err = rc;
    if (rc != MXRTC_OK) return 0;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

uint64_t mxrtc_random_u64(const mxrtc_random *src, int *err) {
    int e1 = MXRTC_OK, e2 = MXRTC_OK;
    uint64_t hi = mxrtc_random_u32(src, &e1);
    uint64_t lo = mxrtc_random_u32(src, &e2);
    if (err) *err = e1 != MXRTC_OK ? e1 : e2;
    return (hi << 32) | lo;
}

/* splitmix64 (Steele, Lea, Flood 2014) expands one seed into a full state. */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void mxrtc_seeded_random_init(mxrtc_seeded_random *g, uint64_t seed) {
    for (int i = 0; i < 4; i++) g->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** (Blackman, Vigna 2018). */
uint64_t mxrtc_seeded_random_next(mxrtc_seeded_random *g) {
    uint64_t *s = g->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

static int seeded_fill(void *user, uint8_t *buf, size_t len) {
    mxrtc_seeded_random *g = user;
    while (len) {
        uint64_t v = mxrtc_seeded_random_next(g);
        size_t n = len < 8 ? len : 8;
        memcpy(buf, &v, n);
        buf += n;
        len -= n;
    }
    return MXRTC_OK;
}

mxrtc_random mxrtc_seeded_random_source(mxrtc_seeded_random *g) {
    mxrtc_random r = {seeded_fill, g};
    return r;
}
