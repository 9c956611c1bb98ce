#include "support/test_alloc.h"

#include <stdlib.h>

static int should_fail(test_alloc *t) {
    t->total++;
    if (t->fail_at > 0 && t->total == t->fail_at) {
        t->failures++;
        return 1;
    }
    return 0;
}

static void *ta_malloc(void *user, size_t size) {
    test_alloc *t = user;
    if (should_fail(t)) return NULL;
    void *p = malloc(size);
    if (p) t->live++;
    return p;
}

static void *ta_realloc(void *user, void *ptr, size_t size) {
    test_alloc *t = user;
    if (should_fail(t)) return NULL;
    void *p = realloc(ptr, size);
    if (p && !ptr) t->live++;
    return p;
}

static void ta_free(void *user, void *ptr) {
    test_alloc *t = user;
    if (ptr) t->live--;
    free(ptr);
}

void test_alloc_init(test_alloc *t) {
    t->iface.malloc_fn = ta_malloc;
    t->iface.realloc_fn = ta_realloc;
    t->iface.free_fn = ta_free;
    t->iface.user = t;
    t->live = t->total = t->fail_at = t->failures = 0;
}

void test_alloc_fail_nth(test_alloc *t, long n) {
    t->fail_at = n > 0 ? t->total + n : 0;
}
