/*
 * platform.h: every operating-system call the runner makes (sockets, poll,
 * the wakeup channel, threads, locks, interface enumeration), so that a
 * Winsock file can follow platform_posix.c without touching the runner.
 * Internal to net/. All sockets are non-blocking.
 */
#ifndef MXRTC_NET_PLATFORM_H
#define MXRTC_NET_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"

typedef int mxrtc_net_sock;               /* SOCKET on Winsock */
#define MXRTC_NET_SOCK_INVALID (-1)

/* Opens a UDP socket bound to addr (port 0: ephemeral); *bound gets the
 * address with the port the OS chose. MXRTC_ERR_IO, MXRTC_ERR_INVALID_ARGUMENT. */
int mxrtc_net_udp_open(const mxrtc_addr *addr, mxrtc_net_sock *out, mxrtc_addr *bound);
/* Prepares a UDP socket for mDNS queries: multicast TTL 255 (RFC 6762 §11)
 * and loopback of our own multicast on. Errors are ignored (best effort). */
void mxrtc_net_udp_multicast_prepare(mxrtc_net_sock s, int family);
/* Starts a non-blocking TCP connect with TCP_NODELAY (media through TURN/TCP
 * must not wait for Nagle). MXRTC_OK when started or done, MXRTC_ERR_IO. */
int mxrtc_net_tcp_connect(const mxrtc_addr *to, mxrtc_net_sock *out);
/* After the socket polled writable: MXRTC_OK if the connect succeeded. */
int mxrtc_net_tcp_connect_result(mxrtc_net_sock s);
/* One datagram: MXRTC_OK (sent, or dropped by a full buffer: UDP may lose),
 * MXRTC_ERR_IO (unreachable or another OS error). */
int mxrtc_net_udp_send(mxrtc_net_sock s, const mxrtc_addr *to, const uint8_t *data, size_t len);
/* One datagram: MXRTC_OK, MXRTC_ERR_AGAIN (none waiting), MXRTC_ERR_IO.
 * Longer datagrams than cap are cut (and *n says cap). */
int mxrtc_net_udp_recv(mxrtc_net_sock s, uint8_t *buf, size_t cap, size_t *n, mxrtc_addr *from);
/* Stream write: *written bytes went out; MXRTC_OK, MXRTC_ERR_AGAIN (none
 * could), MXRTC_ERR_IO (connection broken). */
int mxrtc_net_stream_send(mxrtc_net_sock s, const uint8_t *data, size_t len, size_t *written);
/* Stream read: MXRTC_OK with *n > 0, MXRTC_ERR_CLOSED (orderly end),
 * MXRTC_ERR_AGAIN, MXRTC_ERR_IO. */
int mxrtc_net_stream_recv(mxrtc_net_sock s, uint8_t *buf, size_t cap, size_t *n);
void mxrtc_net_sock_close(mxrtc_net_sock s);

typedef struct mxrtc_net_pollent {
    mxrtc_net_sock sock;
    bool want_write;          /* reading is always watched */
    bool readable, writable, failed;
} mxrtc_net_pollent;
/* Waits up to timeout_ms (-1: forever) for any entry. MXRTC_OK (also on
 * EINTR, with nothing ready) or MXRTC_ERR_IO. */
int mxrtc_net_poll(mxrtc_net_pollent *ents, size_t n, int timeout_ms);

/* A self-wakeup for the poll loop (eventfd on Linux, a pipe elsewhere). */
typedef struct mxrtc_net_wakeup {
    int rfd, wfd;
} mxrtc_net_wakeup;
int mxrtc_net_wakeup_open(mxrtc_net_wakeup *w);
void mxrtc_net_wakeup_signal(mxrtc_net_wakeup *w);     /* async-signal and thread safe */
void mxrtc_net_wakeup_drain(mxrtc_net_wakeup *w);
mxrtc_net_sock mxrtc_net_wakeup_sock(const mxrtc_net_wakeup *w);
void mxrtc_net_wakeup_close(mxrtc_net_wakeup *w);

/* Threads and locks, opaque storage big enough for pthreads and Win32. */
typedef struct mxrtc_net_thread {
    uint64_t opaque[2];
    void (*fn)(void *);
    void *arg;
} mxrtc_net_thread;
typedef struct mxrtc_net_mutex { uint64_t opaque[8]; } mxrtc_net_mutex;
typedef struct mxrtc_net_cond { uint64_t opaque[8]; } mxrtc_net_cond;
int mxrtc_net_thread_start(mxrtc_net_thread *t, void (*fn)(void *), void *arg);
void mxrtc_net_thread_join(mxrtc_net_thread *t);
/* The calling thread will not be joined: its resources go when it returns. */
void mxrtc_net_thread_detach_self(void);
/* Thread t will not be joined (it may have returned already). */
void mxrtc_net_thread_detach(mxrtc_net_thread *t);
/* true if the calling thread is t. */
bool mxrtc_net_thread_is_self(const mxrtc_net_thread *t);
int mxrtc_net_mutex_init(mxrtc_net_mutex *m);
void mxrtc_net_mutex_destroy(mxrtc_net_mutex *m);
void mxrtc_net_mutex_lock(mxrtc_net_mutex *m);
void mxrtc_net_mutex_unlock(mxrtc_net_mutex *m);
int mxrtc_net_cond_init(mxrtc_net_cond *c);
void mxrtc_net_cond_destroy(mxrtc_net_cond *c);
void mxrtc_net_cond_wait(mxrtc_net_cond *c, mxrtc_net_mutex *m);
void mxrtc_net_cond_broadcast(mxrtc_net_cond *c);

/* Resolves a DNS name with the system resolver (getaddrinfo; it may block
 * for seconds: not on the I/O thread). An IPv4 address if there is one,
 * else IPv6; port 0. MXRTC_ERR_NOT_FOUND. */
int mxrtc_net_resolve_name(const char *name, mxrtc_addr *out);

/* One address of one interface, as the OS reports it. */
typedef struct mxrtc_net_raw_iface {
    mxrtc_addr addr;                 /* port 0; scope_id set for IPv6 link-local */
    const char *name;
    unsigned index;
    bool up, loopback;
    bool deprecated, temporary;      /* IPv6 address flags where the OS shows them */
} mxrtc_net_raw_iface;
/* Calls fn for every address; fn returns false to stop. MXRTC_ERR_IO. */
int mxrtc_net_platform_ifaddrs(bool (*fn)(void *user, const mxrtc_net_raw_iface *ifa), void *user);

#endif
