/*
 * runner.h: the optional runner. It owns UDP sockets on the chosen local
 * addresses, TCP connections to TURN servers (opened when the engine first
 * writes to one; TLS stays inside the engine), an mDNS resolver, the
 * monotonic clock (net/clock.h) and ONE I/O thread that drives a sans-IO
 * engine (net/engine.h) with poll(2) and the engine's deadline.
 *
 * Life cycle:
 *   mxrtc_net_runner_config_init(&cfg); fill engine, on_event, addresses;
 *   mxrtc_net_runner_new(&r, &cfg)      binds the UDP sockets (ephemeral ports)
 *   mxrtc_net_runner_local_addrs(r,...) tells the host what was bound, so it can
 *                                       hand the addresses to the engine
 *                                       (e.g. mxrtc_ice_agent_add_interface)
 *   mxrtc_net_runner_start(r)           from here on the engine belongs to the
 *                                       I/O thread: reach it only through
 *                                       mxrtc_net_runner_call()/_call_wait()
 *   mxrtc_net_runner_free(r)            stops the thread, closes, frees
 *
 * Threads and locks: one mutex guards the command queue and nothing else; no
 * engine call and no host callback ever runs with it held. on_event runs on
 * the I/O thread, no lock held; from it the host may call every function
 * here, including mxrtc_net_runner_free() (the runner then closes itself
 * once the callback returns and calls on_closed; the engine is not called
 * again after mxrtc_net_runner_free() returns, whichever thread called it).
 */
#ifndef MXRTC_NET_RUNNER_H
#define MXRTC_NET_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"
#include "net/engine.h"
#include "net/interfaces.h"

typedef struct mxrtc_net_runner mxrtc_net_runner;

#define MXRTC_NET_MAX_UDP 16          /* local addresses with a socket */
#define MXRTC_NET_MAX_STREAMS 4       /* TCP connections to TURN servers */
#define MXRTC_NET_MAX_MDNS_DEST 2

/* An engine event, on the I/O thread, no lock held; event is valid for the
 * call only (it is the engine's EVENT output). */
typedef void (*mxrtc_net_event_fn)(void *user, mxrtc_net_runner *r, const void *event);
/* A command run on the I/O thread, where it may call into the engine; the
 * runner drains the engine afterwards. Every queued command is called
 * exactly once: if the runner closes before running it, fn is called with
 * now == MXRTC_TIME_NEVER (on the closing thread) only to release arg, and
 * must not touch the engine then. */
typedef void (*mxrtc_net_call_fn)(void *arg, mxrtc_time_us now);

typedef struct mxrtc_net_runner_stats {
    uint64_t datagrams_sent, datagrams_received;
    uint64_t send_errors;             /* UDP or TCP writes the OS refused */
    uint64_t no_socket;               /* datagrams from an address we have no socket on */
    uint64_t streams_opened, streams_closed;
    uint64_t stream_bytes_sent, stream_bytes_received;
    uint64_t stream_overflows;        /* connections closed: unsent bytes over the bound */
    uint64_t commands_run, commands_refused;
    uint64_t mdns_queries, mdns_answers, mdns_failures;
    uint64_t mdns_retransmits;        /* second copies of unanswered queries */
    uint64_t engine_errors;           /* inputs the engine refused */
} mxrtc_net_runner_stats;

typedef struct mxrtc_net_runner_config {
    size_t size;                      /* sizeof(mxrtc_net_runner_config), set by _init */
    const mxrtc_allocator *alloc;     /* NULL: C library */
    mxrtc_logger logger;
    mxrtc_net_engine engine;          /* required: every function set */
    mxrtc_net_event_fn on_event;      /* NULL: events are dropped */
    void *event_user;
    void (*on_closed)(void *user);    /* optional: the runner is gone (called
                                         last, on the thread that closed it) */
    void *closed_user;
    /* Where to bind: these addresses (port 0 for an ephemeral port), or if
     * local_addrs is NULL, every usable interface by `ifaces`. */
    const mxrtc_addr *local_addrs;
    size_t n_local_addrs;
    mxrtc_net_iface_options ifaces;
    size_t max_commands;              /* command queue bound, default 64 */
    size_t stream_buffer_max;         /* unsent bytes per TCP connection, default 256 KiB */
    /* mDNS: where queries go (default 224.0.0.251:5353 and [ff02::fb]:5353;
     * tests point them at a socket of their own) and how long to wait. */
    mxrtc_addr mdns_dest[MXRTC_NET_MAX_MDNS_DEST];
    size_t n_mdns_dest;
    mxrtc_time_us mdns_timeout;       /* default 3 s */
} mxrtc_net_runner_config;

void mxrtc_net_runner_config_init(mxrtc_net_runner_config *cfg);

/* Creates the runner and binds its UDP sockets; the thread is not running
 * yet (the caller may still use the engine directly). Addresses that cannot
 * be bound are skipped with a warning. MXRTC_ERR_INVALID_ARGUMENT (bad size,
 * engine incomplete), MXRTC_ERR_NO_MEMORY, MXRTC_ERR_IO (no socket at all,
 * no wakeup channel), MXRTC_ERR_LIMIT (more than MXRTC_NET_MAX_UDP addresses
 * given explicitly). */
int mxrtc_net_runner_new(mxrtc_net_runner **out, const mxrtc_net_runner_config *cfg);

/* The bound addresses (IP and the ephemeral port), in the order given.
 * Fixed for the runner's life: safe from any thread. */
void mxrtc_net_runner_local_addrs(const mxrtc_net_runner *r, const mxrtc_addr **addrs, size_t *n);

/* Starts the I/O thread; it drains the engine first. MXRTC_ERR_STATE if
 * already started, MXRTC_ERR_IO if the thread cannot start. */
int mxrtc_net_runner_start(mxrtc_net_runner *r);

/* Queues fn(arg, now) to run on the I/O thread (then the engine is
 * drained). Any thread, the event callback included. MXRTC_ERR_LIMIT when
 * the queue is full (counted: retry later), MXRTC_ERR_CLOSED once the
 * runner is closing; on an error fn is not called and arg stays the
 * caller's. */
int mxrtc_net_runner_call(mxrtc_net_runner *r, mxrtc_net_call_fn fn, void *arg);

/* The same, waiting for room in the queue and then until fn has run.
 * Before start it runs fn at once on the calling thread (without draining).
 * MXRTC_ERR_STATE on the I/O thread itself (it would wait for itself),
 * MXRTC_ERR_CLOSED if the runner closed before fn ran. Do not free the runner from another
 * thread while a call_wait is waiting. */
int mxrtc_net_runner_call_wait(mxrtc_net_runner *r, mxrtc_net_call_fn fn, void *arg);

/* Copies the counters. Call it on the I/O thread (event callback, a
 * command) or before start: the I/O thread updates them without a lock. */
void mxrtc_net_runner_stats_get(mxrtc_net_runner *r, mxrtc_net_runner_stats *out);

/* True when called on the runner's I/O thread. */
bool mxrtc_net_runner_on_io_thread(const mxrtc_net_runner *r);

/* Stops the I/O thread and waits for it; the runner refuses commands
 * (MXRTC_ERR_CLOSED) and never calls the engine again, but its memory stays
 * until mxrtc_net_runner_free(). For hosts whose runners call into each
 * other: stop them all, then free them. MXRTC_ERR_STATE on the I/O thread
 * (use mxrtc_net_runner_free() there), MXRTC_ERR_INVALID_ARGUMENT. */
int mxrtc_net_runner_stop(mxrtc_net_runner *r);

/* Stops the thread, closes every socket and frees the runner; queued
 * commands are dropped (waiters get MXRTC_ERR_CLOSED). NULL is fine. From
 * another thread: returns when all is closed. From the I/O thread (event
 * callback or command): returns at once; the runner closes itself when the
 * callback returns, without calling the engine again, and its thread exits
 * detached. Either way on_closed is called once at the very end. */
void mxrtc_net_runner_free(mxrtc_net_runner *r);

#endif
