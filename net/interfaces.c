/* interfaces.c: choosing the local addresses worth a UDP socket. */
#include <string.h>

#include "net/interfaces.h"
#include "net/platform.h"

void mxrtc_net_iface_options_init(mxrtc_net_iface_options *o) {
    memset(o, 0, sizeof *o);
    o->ipv4 = o->ipv6 = true;
}

static bool is_link_local(const mxrtc_addr *a) {
    if (a->family == MXRTC_AF_INET4) return a->ip[0] == 169 && a->ip[1] == 254;  /* RFC 3927 */
    return a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80;                        /* RFC 4291 §2.5.6 */
}

bool mxrtc_net_iface_wanted(const mxrtc_net_iface_options *o, const mxrtc_net_iface *i) {
    if (i->addr.family == MXRTC_AF_INET4 && !o->ipv4) return false;
    if (i->addr.family == MXRTC_AF_INET6 && !o->ipv6) return false;
    if (i->loopback && !o->include_loopback) return false;
    if (i->link_local && !o->include_link_local) return false;
    if ((i->deprecated || i->temporary) && !o->include_deprecated) return false;
    return true;
}

typedef struct collect {
    const mxrtc_net_iface_options *o;
    mxrtc_net_iface *out;
    size_t max, count;
    bool overflow;
} collect;

static bool on_addr(void *user, const mxrtc_net_raw_iface *r) {
    collect *c = user;
    if (!r->up) return true;
    mxrtc_net_iface i;
    memset(&i, 0, sizeof i);
    i.addr = r->addr;
    i.addr.port = 0;
    if (r->name) {
        size_t n = strlen(r->name);
        if (n >= sizeof i.name) n = sizeof i.name - 1;
        memcpy(i.name, r->name, n);
    }
    i.index = r->index;
    i.loopback = r->loopback;
    i.link_local = is_link_local(&r->addr);
    i.deprecated = r->deprecated;
    i.temporary = r->temporary;
    /* A scope only means something for link-local addresses. */
    if (!i.link_local) i.addr.scope_id = 0;
    if (!mxrtc_net_iface_wanted(c->o, &i)) return true;
    if (c->o->filter && !c->o->filter(c->o->filter_user, &i)) return true;
    if (c->count == c->max) {
        c->overflow = true;
        return false;
    }
    c->out[c->count++] = i;
    return true;
}

int mxrtc_net_interfaces(const mxrtc_net_iface_options *o, mxrtc_net_iface *out, size_t max, size_t *count) {
    if (!o || !count || (!out && max)) return MXRTC_ERR_INVALID_ARGUMENT;
    collect c = {o, out, max, 0, false};
    *count = 0;
    int rc = mxrtc_net_platform_ifaddrs(on_addr, &c);
    *count = c.count;
    if (rc) return rc;
    return c.overflow ? MXRTC_ERR_LIMIT : MXRTC_OK;
}
