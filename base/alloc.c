#include "base/alloc.h"

#include <stdlib.h>
#include <string.h>

void *mxrtc_malloc(const mxrtc_allocator *a, size_t size) {
    if (size == 0) return NULL;
    if (a) return a->malloc_fn(a->user, size);
    return malloc(size);
}

void *mxrtc_calloc(const mxrtc_allocator *a, size_t n, size_t size) {
    if (n == 0 || size == 0 || n > SIZE_MAX / size) return NULL;
    void *p = mxrtc_malloc(a, n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

void *mxrtc_realloc(const mxrtc_allocator *a, void *ptr, size_t size) {
    if (size == 0) return NULL;
    if (a) return a->realloc_fn(a->user, ptr, size);
    return realloc(ptr, size);
}

void mxrtc_free(const mxrtc_allocator *a, void *ptr) {
    if (!ptr) return;
    if (a) a->free_fn(a->user, ptr);
    else free(ptr);
}

void mxrtc_wipe(void *p, size_t n) {
    /* A volatile pointer keeps the stores from being optimised away as dead. */
    volatile uint8_t *v = (volatile uint8_t *)p;
    while (n--) *v++ = 0;
}

char *mxrtc_strdup(const mxrtc_allocator *a, const char *s, size_t max_len) {
    if (!s) return NULL;
    size_t n = 0;
    while (n <= max_len && s[n] != '\0') n++;
    if (n > max_len) return NULL;
    char *d = mxrtc_malloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}
