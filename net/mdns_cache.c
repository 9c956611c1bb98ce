/* mdns_cache.c: the resolver's bounded answer cache and pending queries. */
#include <string.h>

#include "net/mdns.h"

#define DEFAULT_TIMEOUT_US (3 * 1000000ULL)
#define MAX_TTL_S 3600u                 /* keep no answer longer than an hour */

void mxrtc_mdns_resolver_init(mxrtc_mdns_resolver *r, mxrtc_time_us timeout) {
    memset(r, 0, sizeof *r);
    r->timeout = timeout ? timeout : DEFAULT_TIMEOUT_US;
}

static bool copy_name(char out[MXRTC_MDNS_NAME_MAX + 1], const char *name) {
    size_t n = strlen(name);
    if (n > MXRTC_MDNS_NAME_MAX) return false;
    memcpy(out, name, n + 1);
    return true;
}

int mxrtc_mdns_cache_lookup(mxrtc_mdns_resolver *r, mxrtc_time_us now, const char *name, mxrtc_addr *ip) {
    for (size_t i = 0; i < MXRTC_MDNS_CACHE_MAX; i++) {
        mxrtc_mdns_cache_entry *e = &r->cache[i];
        if (!e->used) continue;
        if (e->expires <= now) {
            e->used = false;
            continue;
        }
        if (mxrtc_mdns_name_equal(e->name, name)) {
            *ip = e->ip;
            return MXRTC_OK;
        }
    }
    return MXRTC_ERR_NOT_FOUND;
}

void mxrtc_mdns_cache_store(mxrtc_mdns_resolver *r, mxrtc_time_us now, const char *name, const mxrtc_addr *ip,
                            uint32_t ttl) {
    if (ttl == 0) return;  /* RFC 6762 §10.1: TTL 0 means "goodbye" */
    if (ttl > MAX_TTL_S) ttl = MAX_TTL_S;
    mxrtc_mdns_cache_entry *slot = NULL;
    for (size_t i = 0; i < MXRTC_MDNS_CACHE_MAX; i++) {
        mxrtc_mdns_cache_entry *e = &r->cache[i];
        if (e->used && mxrtc_mdns_name_equal(e->name, name)) {
            slot = e;
            break;
        }
        if (!e->used && !slot) slot = e;
    }
    if (!slot) {  /* full: the entry closest to expiry goes */
        slot = &r->cache[0];
        for (size_t i = 1; i < MXRTC_MDNS_CACHE_MAX; i++)
            if (r->cache[i].expires < slot->expires) slot = &r->cache[i];
    }
    if (!copy_name(slot->name, name)) return;
    slot->ip = *ip;
    slot->ip.port = 0;
    slot->expires = now + (mxrtc_time_us)ttl * 1000000u;
    slot->used = true;
}

int mxrtc_mdns_pending_add(mxrtc_mdns_resolver *r, mxrtc_time_us now, const char *name) {
    if (strlen(name) > MXRTC_MDNS_NAME_MAX) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_mdns_pending *free_slot = NULL;
    for (size_t i = 0; i < MXRTC_MDNS_PENDING_MAX; i++) {
        mxrtc_mdns_pending *p = &r->pending[i];
        if (p->used && mxrtc_mdns_name_equal(p->name, name)) return MXRTC_ERR_AGAIN;
        if (!p->used && !free_slot) free_slot = p;
    }
    if (!free_slot) {
        r->limit_hits++;
        return MXRTC_ERR_LIMIT;
    }
    copy_name(free_slot->name, name);
    free_slot->deadline = now + r->timeout;
    mxrtc_time_us gap = r->timeout / 2 < 1000000 ? r->timeout / 2 : 1000000;
    free_slot->resend_at = now + gap;
    free_slot->used = true;
    return MXRTC_OK;
}

bool mxrtc_mdns_pending_take(mxrtc_mdns_resolver *r, const char *name, char asked[MXRTC_MDNS_NAME_MAX + 1]) {
    for (size_t i = 0; i < MXRTC_MDNS_PENDING_MAX; i++) {
        mxrtc_mdns_pending *p = &r->pending[i];
        if (p->used && mxrtc_mdns_name_equal(p->name, name)) {
            if (asked) memcpy(asked, p->name, sizeof p->name);
            p->used = false;
            return true;
        }
    }
    return false;
}

bool mxrtc_mdns_pending_expired(mxrtc_mdns_resolver *r, mxrtc_time_us now, char out[MXRTC_MDNS_NAME_MAX + 1]) {
    for (size_t i = 0; i < MXRTC_MDNS_PENDING_MAX; i++) {
        mxrtc_mdns_pending *p = &r->pending[i];
        if (p->used && p->deadline <= now) {
            memcpy(out, p->name, sizeof p->name);
            p->used = false;
            return true;
        }
    }
    return false;
}

bool mxrtc_mdns_pending_resend(mxrtc_mdns_resolver *r, mxrtc_time_us now, char out[MXRTC_MDNS_NAME_MAX + 1]) {
    for (size_t i = 0; i < MXRTC_MDNS_PENDING_MAX; i++) {
        mxrtc_mdns_pending *p = &r->pending[i];
        if (p->used && p->resend_at <= now) {
            memcpy(out, p->name, sizeof p->name);
            p->resend_at = MXRTC_TIME_NEVER;
            return true;
        }
    }
    return false;
}

mxrtc_time_us mxrtc_mdns_next_deadline(const mxrtc_mdns_resolver *r) {
    mxrtc_time_us d = MXRTC_TIME_NEVER;
    for (size_t i = 0; i < MXRTC_MDNS_PENDING_MAX; i++) {
        const mxrtc_mdns_pending *p = &r->pending[i];
        if (!p->used) continue;
        if (p->deadline < d) d = p->deadline;
        if (p->resend_at < d) d = p->resend_at;
    }
    return d;
}
