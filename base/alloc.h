/*
 * alloc.h: allocation through the host's injectable allocator.
 *
 * Every object keeps the mxrtc_allocator it was created with (NULL means the C
 * library) and allocates only through these helpers, so a host can account
 * for, cap or fail allocations (tests inject failures with it).
 */
#ifndef MXRTC_BASE_ALLOC_H
#define MXRTC_BASE_ALLOC_H

#include <stddef.h>
#include "mxrtc.h"

/* NULL on failure or when size is 0. */
void *mxrtc_malloc(const mxrtc_allocator *a, size_t size);
/* Zero-filled; NULL on failure, overflow of n * size, or a zero size. */
void *mxrtc_calloc(const mxrtc_allocator *a, size_t n, size_t size);
/* NULL on failure, leaving ptr untouched. */
void *mxrtc_realloc(const mxrtc_allocator *a, void *ptr, size_t size);
/* NULL is fine. */
void mxrtc_free(const mxrtc_allocator *a, void *ptr);

/* Overwrites n bytes with zeros in a way the compiler may not elide: for keys
 * and passwords before their memory is released. */
void mxrtc_wipe(void *p, size_t n);

/* Copies the NUL-terminated string s (at most max_len bytes of it, else NULL).
 * NULL for a NULL s. */
char *mxrtc_strdup(const mxrtc_allocator *a, const char *s, size_t max_len);

#endif
