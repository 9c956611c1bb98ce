/*
 * priority.c: candidate priorities (RFC 8445 §5.1.2), pair priorities
 * (RFC 8445 §6.1.2.3) and foundations (RFC 8445 §5.1.1.3).
 */
#include "ice/candidate.h"

#include <stdio.h>
#include <string.h>

uint32_t mxrtc_ice_type_preference(mxrtc_ice_cand_type t) {
    switch (t) {
    case MXRTC_ICE_CAND_HOST: return MXRTC_ICE_TYPE_PREF_HOST;
    case MXRTC_ICE_CAND_PRFLX: return MXRTC_ICE_TYPE_PREF_PRFLX;
    case MXRTC_ICE_CAND_SRFLX: return MXRTC_ICE_TYPE_PREF_SRFLX;
    case MXRTC_ICE_CAND_RELAY: return MXRTC_ICE_TYPE_PREF_RELAY;
    }
    return 0;
}

uint32_t mxrtc_ice_priority(uint32_t type_pref, uint32_t local_pref, uint32_t component) {
    /* RFC 8445 §5.1.2.1: type preference 0..126, local preference 0..65535,
     * component ID 1..256. */
    if (type_pref > 126) type_pref = 126;
    if (local_pref > 65535) local_pref = 65535;
    if (component < 1) component = 1;
    if (component > 256) component = 256;
    return (type_pref << 24) + (local_pref << 8) + (256 - component);
}

uint32_t mxrtc_ice_local_preference(mxrtc_family family, unsigned iface_index,
                                    unsigned addr_index) {
    if (iface_index > 255) iface_index = 255;
    if (addr_index > 63) addr_index = 63;
    uint32_t lp = 65535u - 256u * iface_index - 2u * addr_index;
    if (family != MXRTC_AF_INET6) lp -= 1;
    return lp;
}

uint64_t mxrtc_ice_pair_priority(uint32_t g, uint32_t d) {
    uint64_t lo = g < d ? g : d;
    uint64_t hi = g < d ? d : g;
    return (lo << 32) + 2 * hi + (g > d ? 1 : 0);
}

/* FNV-1a (32-bit): a fixed, well-known mixing of the foundation inputs. */
static uint32_t fnv1a(uint32_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

static uint32_t hash_ip(uint32_t h, const mxrtc_addr *a) {
    uint8_t fam = a ? a->family : 0;
    h = fnv1a(h, &fam, 1);
    if (fam == MXRTC_AF_INET4) h = fnv1a(h, a->ip, 4);
    else if (fam == MXRTC_AF_INET6) h = fnv1a(h, a->ip, 16);
    return h;
}

void mxrtc_ice_foundation(char out[MXRTC_ICE_FOUNDATION_MAX + 1], mxrtc_ice_cand_type type,
                          const mxrtc_addr *base_ip, const mxrtc_addr *server_ip,
                          mxrtc_ice_transport transport) {
    /* §5.1.1.3: same type, base IP, server IP and transport -> same
     * foundation. Ports are deliberately left out: candidates on two ports of
     * one base share a foundation. Host and prflx candidates have no server. */
    uint8_t head[2] = {(uint8_t)type, (uint8_t)transport};
    uint32_t h = fnv1a(2166136261u, head, sizeof head);
    h = hash_ip(h, base_ip);
    h = hash_ip(h, (type == MXRTC_ICE_CAND_SRFLX || type == MXRTC_ICE_CAND_RELAY) ? server_ip : NULL);
    snprintf(out, MXRTC_ICE_FOUNDATION_MAX + 1, "%lx", (unsigned long)h);
}
