/* platform_posix.c: the POSIX (Linux, macOS, BSD) side of net/platform.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include "net/platform_posix.h"
#include "net/platform.h"

_Static_assert(sizeof(pthread_t) <= sizeof(mxrtc_net_thread), "thread storage");
_Static_assert(sizeof(pthread_mutex_t) <= sizeof(mxrtc_net_mutex), "mutex storage");
_Static_assert(sizeof(pthread_cond_t) <= sizeof(mxrtc_net_cond), "cond storage");

socklen_t mxrtc_net_to_sockaddr(const mxrtc_addr *a, struct sockaddr_storage *ss) {
    memset(ss, 0, sizeof *ss);
    if (a->family == MXRTC_AF_INET4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(a->port);
        memcpy(&s4->sin_addr, a->ip, 4);
        return sizeof *s4;
    }
    if (a->family == MXRTC_AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(a->port);
        memcpy(&s6->sin6_addr, a->ip, 16);
        s6->sin6_scope_id = a->scope_id;
        return sizeof *s6;
    }
    return 0;
}

static bool from_sockaddr(const struct sockaddr *sa, mxrtc_addr *a) {
    memset(a, 0, sizeof *a);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        uint8_t ip[4];
        memcpy(ip, &s4->sin_addr, 4);
        mxrtc_addr_set_ipv4(a, ip, ntohs(s4->sin_port));
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        uint8_t ip[16];
        memcpy(ip, &s6->sin6_addr, 16);
        mxrtc_addr_set_ipv6(a, ip, ntohs(s6->sin6_port));
        a->scope_id = s6->sin6_scope_id;
        return true;
    }
    return false;
}

static int set_nonblocking(int fd) {
    int fl = fcntl(fd, F_GETFL, 0);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

int mxrtc_net_udp_open(const mxrtc_addr *addr, mxrtc_net_sock *out, mxrtc_addr *bound) {
    struct sockaddr_storage ss;
    socklen_t sl = mxrtc_net_to_sockaddr(addr, &ss);
    *out = MXRTC_NET_SOCK_INVALID;
    if (!sl) return MXRTC_ERR_INVALID_ARGUMENT;
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0) return MXRTC_ERR_IO;
    if (ss.ss_family == AF_INET6) {
        /* One family per socket: the runner binds each address on its own. */
        int one = 1;
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    if (set_nonblocking(fd) < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0) {
        close(fd);
        return MXRTC_ERR_IO;
    }
    struct sockaddr_storage got;
    socklen_t gl = sizeof got;
    if (getsockname(fd, (struct sockaddr *)&got, &gl) < 0 || !from_sockaddr((struct sockaddr *)&got, bound)) {
        close(fd);
        return MXRTC_ERR_IO;
    }
    bound->scope_id = addr->scope_id;
    *out = fd;
    return MXRTC_OK;
}

void mxrtc_net_udp_multicast_prepare(mxrtc_net_sock s, int family) {
    if (family == MXRTC_AF_INET4) {
        unsigned char ttl = 255, loop = 1;
        (void)setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
        (void)setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
    } else {
        int hops = 255, loop = 1;
        (void)setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
        (void)setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop, sizeof loop);
    }
}

int mxrtc_net_tcp_connect(const mxrtc_addr *to, mxrtc_net_sock *out) {
    struct sockaddr_storage ss;
    socklen_t sl = mxrtc_net_to_sockaddr(to, &ss);
    *out = MXRTC_NET_SOCK_INVALID;
    if (!sl) return MXRTC_ERR_INVALID_ARGUMENT;
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) return MXRTC_ERR_IO;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (set_nonblocking(fd) < 0) {
        close(fd);
        return MXRTC_ERR_IO;
    }
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
        close(fd);
        return MXRTC_ERR_IO;
    }
    *out = fd;
    return MXRTC_OK;
}

int mxrtc_net_tcp_connect_result(mxrtc_net_sock s) {
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0) return MXRTC_ERR_IO;
    return MXRTC_OK;
}

int mxrtc_net_udp_send(mxrtc_net_sock s, const mxrtc_addr *to, const uint8_t *data, size_t len) {
    struct sockaddr_storage ss;
    socklen_t sl = mxrtc_net_to_sockaddr(to, &ss);
    if (!sl) return MXRTC_ERR_INVALID_ARGUMENT;
    for (;;) {
        ssize_t w = sendto(s, data, len, MSG_NOSIGNAL, (struct sockaddr *)&ss, sl);
        if (w >= 0) return MXRTC_OK;
        if (errno == EINTR) continue;
        /* A full socket buffer loses the datagram, as the network could. */
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return MXRTC_OK;
        return MXRTC_ERR_IO;
    }
}

int mxrtc_net_udp_recv(mxrtc_net_sock s, uint8_t *buf, size_t cap, size_t *n, mxrtc_addr *from) {
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        ssize_t r = recvfrom(s, buf, cap, 0, (struct sockaddr *)&ss, &sl);
        if (r >= 0) {
            if (!from_sockaddr((struct sockaddr *)&ss, from)) continue;
            *n = (size_t)r;
            return MXRTC_OK;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return MXRTC_ERR_AGAIN;
        /* ICMP errors (ECONNREFUSED...) surface on the next read: not fatal. */
        if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH) continue;
        return MXRTC_ERR_IO;
    }
}

int mxrtc_net_stream_send(mxrtc_net_sock s, const uint8_t *data, size_t len, size_t *written) {
    *written = 0;
    for (;;) {
        ssize_t w = send(s, data, len, MSG_NOSIGNAL);
        if (w >= 0) {
            *written = (size_t)w;
            return MXRTC_OK;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return MXRTC_ERR_AGAIN;
        return MXRTC_ERR_IO;
    }
}

int mxrtc_net_stream_recv(mxrtc_net_sock s, uint8_t *buf, size_t cap, size_t *n) {
    for (;;) {
        ssize_t r = recv(s, buf, cap, 0);
        if (r > 0) {
            *n = (size_t)r;
            return MXRTC_OK;
        }
        if (r == 0) return MXRTC_ERR_CLOSED;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return MXRTC_ERR_AGAIN;
        return MXRTC_ERR_IO;
    }
}

void mxrtc_net_sock_close(mxrtc_net_sock s) {
    if (s >= 0) close(s);
}

int mxrtc_net_poll(mxrtc_net_pollent *ents, size_t n, int timeout_ms) {
    struct pollfd pfd[64];
    if (n > 64) return MXRTC_ERR_LIMIT;
    for (size_t i = 0; i < n; i++) {
        pfd[i].fd = ents[i].sock;
        pfd[i].events = (short)(POLLIN | (ents[i].want_write ? POLLOUT : 0));
        pfd[i].revents = 0;
    }
    int r = poll(pfd, (nfds_t)n, timeout_ms);
    for (size_t i = 0; i < n; i++) {
        short re = r > 0 ? pfd[i].revents : 0;
        ents[i].readable = (re & (POLLIN | POLLHUP)) != 0;
        ents[i].writable = (re & POLLOUT) != 0;
        ents[i].failed = (re & (POLLERR | POLLNVAL)) != 0;
    }
    if (r < 0 && errno != EINTR) return MXRTC_ERR_IO;
    return MXRTC_OK;
}

int mxrtc_net_wakeup_open(mxrtc_net_wakeup *w) {
#ifdef __linux__
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return MXRTC_ERR_IO;
    w->rfd = w->wfd = fd;
#else
    int p[2];
    if (pipe(p) < 0) return MXRTC_ERR_IO;
    if (set_nonblocking(p[0]) < 0 || set_nonblocking(p[1]) < 0) {
        close(p[0]);
        close(p[1]);
        return MXRTC_ERR_IO;
    }
    w->rfd = p[0];
    w->wfd = p[1];
#endif
    return MXRTC_OK;
}

void mxrtc_net_wakeup_signal(mxrtc_net_wakeup *w) {
    /* A full pipe or counter already means "wake up": EAGAIN is fine. */
#ifdef __linux__
    uint64_t one = 1;
    ssize_t r = write(w->wfd, &one, sizeof one);
#else
    uint8_t one = 1;
    ssize_t r = write(w->wfd, &one, 1);
#endif
    (void)r;
}

void mxrtc_net_wakeup_drain(mxrtc_net_wakeup *w) {
    uint8_t buf[64];
    while (read(w->rfd, buf, sizeof buf) > 0) {
    }
}

mxrtc_net_sock mxrtc_net_wakeup_sock(const mxrtc_net_wakeup *w) {
    return w->rfd;
}

void mxrtc_net_wakeup_close(mxrtc_net_wakeup *w) {
    if (w->rfd >= 0) close(w->rfd);
    if (w->wfd >= 0 && w->wfd != w->rfd) close(w->wfd);
    w->rfd = w->wfd = -1;
}

/* Which mxrtc_net_thread the calling thread is (NULL for threads we did
 * not start). Thread-local, so asking never races with the thread's start. */
static _Thread_local const mxrtc_net_thread *current_thread;

static void *thread_main(void *p) {
    mxrtc_net_thread *t = p;
    current_thread = t;
    /* Copy before running: fn may free the object that holds t. */
    void (*fn)(void *) = t->fn;
    void *arg = t->arg;
    fn(arg);
    return NULL;
}

int mxrtc_net_thread_start(mxrtc_net_thread *t, void (*fn)(void *), void *arg) {
    t->fn = fn;
    t->arg = arg;
    pthread_t *pt = (pthread_t *)(void *)t->opaque;
    return pthread_create(pt, NULL, thread_main, t) == 0 ? MXRTC_OK : MXRTC_ERR_IO;
}

void mxrtc_net_thread_join(mxrtc_net_thread *t) {
    (void)pthread_join(*(pthread_t *)(void *)t->opaque, NULL);
}

void mxrtc_net_thread_detach_self(void) {
    (void)pthread_detach(pthread_self());
}

void mxrtc_net_thread_detach(mxrtc_net_thread *t) {
    (void)pthread_detach(*(pthread_t *)(void *)t->opaque);
}

bool mxrtc_net_thread_is_self(const mxrtc_net_thread *t) {
    return t != NULL && current_thread == t;
}

int mxrtc_net_mutex_init(mxrtc_net_mutex *m) {
    return pthread_mutex_init((pthread_mutex_t *)(void *)m->opaque, NULL) == 0 ? MXRTC_OK : MXRTC_ERR_IO;
}
void mxrtc_net_mutex_destroy(mxrtc_net_mutex *m) {
    (void)pthread_mutex_destroy((pthread_mutex_t *)(void *)m->opaque);
}
void mxrtc_net_mutex_lock(mxrtc_net_mutex *m) {
    (void)pthread_mutex_lock((pthread_mutex_t *)(void *)m->opaque);
}
void mxrtc_net_mutex_unlock(mxrtc_net_mutex *m) {
    (void)pthread_mutex_unlock((pthread_mutex_t *)(void *)m->opaque);
}
int mxrtc_net_cond_init(mxrtc_net_cond *c) {
    return pthread_cond_init((pthread_cond_t *)(void *)c->opaque, NULL) == 0 ? MXRTC_OK : MXRTC_ERR_IO;
}
void mxrtc_net_cond_destroy(mxrtc_net_cond *c) {
    (void)pthread_cond_destroy((pthread_cond_t *)(void *)c->opaque);
}
void mxrtc_net_cond_wait(mxrtc_net_cond *c, mxrtc_net_mutex *m) {
    (void)pthread_cond_wait((pthread_cond_t *)(void *)c->opaque, (pthread_mutex_t *)(void *)m->opaque);
}
void mxrtc_net_cond_broadcast(mxrtc_net_cond *c) {
    (void)pthread_cond_broadcast((pthread_cond_t *)(void *)c->opaque);
}

/* Linux shows IPv6 address flags in /proc/net/if_inet6 (IFA_F_TEMPORARY
 * 0x01, IFA_F_DEPRECATED 0x20, linux/if_addr.h); getifaddrs() does not. */
static void ipv6_flags(const mxrtc_addr *a, bool *deprecated, bool *temporary) {
    *deprecated = *temporary = false;
#ifdef __linux__
    FILE *f = fopen("/proc/net/if_inet6", "r");
    if (!f) return;
    char hex[33], name[32];
    unsigned idx, plen, scope, flags;
    while (fscanf(f, "%32s %x %x %x %x %31s", hex, &idx, &plen, &scope, &flags, name) == 6) {
        uint8_t ip[16];
        bool ok = true;
        for (int i = 0; i < 16 && ok; i++) {
            unsigned v;
            ok = sscanf(hex + 2 * i, "%2x", &v) == 1;
            ip[i] = (uint8_t)v;
        }
        if (ok && memcmp(ip, a->ip, 16) == 0) {
            *temporary = (flags & 0x01) != 0;
            *deprecated = (flags & 0x20) != 0;
            break;
        }
    }
    fclose(f);
#else
    (void)a;
#endif
}

int mxrtc_net_platform_ifaddrs(bool (*fn)(void *user, const mxrtc_net_raw_iface *ifa), void *user) {
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) < 0) return MXRTC_ERR_IO;
    for (struct ifaddrs *i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr) continue;
        mxrtc_net_raw_iface r;
        memset(&r, 0, sizeof r);
        if (!from_sockaddr(i->ifa_addr, &r.addr)) continue;
        r.name = i->ifa_name;
        r.index = if_nametoindex(i->ifa_name);
        r.up = (i->ifa_flags & IFF_UP) != 0 && (i->ifa_flags & IFF_RUNNING) != 0;
        r.loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
        if (r.addr.family == MXRTC_AF_INET6) ipv6_flags(&r.addr, &r.deprecated, &r.temporary);
        if (!fn(user, &r)) break;
    }
    freeifaddrs(list);
    return MXRTC_OK;
}

int mxrtc_net_resolve_name(const char *name, mxrtc_addr *out) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    if (getaddrinfo(name, NULL, &hints, &res) != 0 || !res) return MXRTC_ERR_NOT_FOUND;
    /* IPv4 first: a TURN server's IPv4 address works from dual-stack and
     * IPv4-only hosts alike. */
    bool found = false;
    for (int pass = 0; pass < 2 && !found; pass++)
        for (const struct addrinfo *ai = res; ai && !found; ai = ai->ai_next)
            if ((pass == 0) == (ai->ai_family == AF_INET) && from_sockaddr(ai->ai_addr, out)) found = true;
    freeaddrinfo(res);
    if (found) out->port = 0;
    return found ? MXRTC_OK : MXRTC_ERR_NOT_FOUND;
}
