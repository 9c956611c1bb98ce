/*
 * test_alloc.h: an mxrtc_allocator for tests that counts live blocks and can
 * fail the Nth allocation, to prove that every failure path frees what it
 * took (STYLE.md: leak check and allocation-failure injection).
 */
#ifndef MXRTC_TEST_ALLOC_H
#define MXRTC_TEST_ALLOC_H

#include <stddef.h>
#include "mxrtc.h"

typedef struct test_alloc {
    mxrtc_allocator iface;
    long live;          /* blocks allocated and not yet freed */
    long total;         /* allocations attempted */
    long fail_at;       /* fail the allocation with this 1-based index; 0 = never */
    long failures;      /* allocations refused */
} test_alloc;

void test_alloc_init(test_alloc *t);
/* Fail the nth allocation from now (1 = the next); 0 disables. */
void test_alloc_fail_nth(test_alloc *t, long n);

#endif
