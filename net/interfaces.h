/*
 * interfaces.h: the local addresses the runner binds UDP sockets on.
 *
 * By default: interfaces that are up, IPv4 and IPv6, no loopback, no
 * link-local (IPv6 fe80::/10 and IPv4 169.254/16: useless off-link), and no
 * deprecated (RFC 4862 §5.5.4: not for new communication) or temporary
 * (RFC 8981: short-lived, would change under a call) IPv6 addresses where the
 * OS shows those flags. An injectable filter has the last word. The OS calls
 * live in platform_posix.c.
 */
#ifndef MXRTC_NET_INTERFACES_H
#define MXRTC_NET_INTERFACES_H

#include <stdbool.h>
#include <stddef.h>

#include "mxrtc.h"

typedef struct mxrtc_net_iface {
    mxrtc_addr addr;          /* port 0 */
    char name[32];            /* "eth0" */
    unsigned index;           /* OS interface index */
    bool loopback, link_local, deprecated, temporary;
} mxrtc_net_iface;

/* Return false to leave the address out. */
typedef bool (*mxrtc_net_iface_filter_fn)(void *user, const mxrtc_net_iface *iface);

typedef struct mxrtc_net_iface_options {
    bool ipv4, ipv6;                  /* default both */
    bool include_loopback;            /* default false (tests set it) */
    bool include_link_local;          /* IPv6 fe80::/10 and IPv4 169.254/16, default false */
    bool include_deprecated;          /* deprecated/temporary IPv6, default false */
    mxrtc_net_iface_filter_fn filter; /* NULL: none */
    void *filter_user;
} mxrtc_net_iface_options;

void mxrtc_net_iface_options_init(mxrtc_net_iface_options *o);

/* Whether the options (without the filter) keep iface; exposed for tests. */
bool mxrtc_net_iface_wanted(const mxrtc_net_iface_options *o, const mxrtc_net_iface *iface);

/* Lists the usable addresses into out[max] in the OS order (interfaces
 * first come first: the index in this list is a fine ICE interface
 * preference); *count is how many were written. MXRTC_ERR_LIMIT if more
 * were usable than max (the first max are written), MXRTC_ERR_IO if the OS
 * call failed, MXRTC_ERR_INVALID_ARGUMENT. */
int mxrtc_net_interfaces(const mxrtc_net_iface_options *o, mxrtc_net_iface *out, size_t max, size_t *count);

#endif
