/*
 * mxrtc: the command-line host for mxrtc.
 *
 *   mxrtc version
 *   mxrtc turn-demo --uri turn:HOST[:PORT][?transport=udp|tcp] | turns:...
 *                   --user USER --pass PASSWORD [--ca FILE] [--tls-name NAME]
 *                   [--count N]
 *
 * turn-demo takes two allocations on the TURN server, has the first bind a
 * channel to the second's relay and the second permit the first, then sends
 * N numbered messages from each to the other through the relay and reports
 * what arrived, the round-trip time through the server, and deallocates.
 * mxrtc peer --offer|--answer [options]: one side of a call with JSON-lines
 * signalling on stdin/stdout (tools/peer_mode.c, docs/interop.md).
 * mxrtc call ROOM / mxrtc answer [ROOM] [options]: the command as a Matrix
 * client placing or answering a 1:1 call (tools/call_mode.c, docs/call_tool.md).
 */
#define _POSIX_C_SOURCE 200809L
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mxrtc.h"
#include "net/clock.h"
#include "net/turn_socket.h"
#include "stun/turn_uri.h"
#include "tools/call_mode.h"
#include "tools/peer_mode.h"

typedef struct side {
    const char *name;
    mxrtc_net_turn t;
    int allocated, failed, perms, channels, deallocated;
    int error, stun_code;
    mxrtc_addr relayed, mapped;
    int received;
    int echoed;              /* replies to our own messages that came back */
    /* Replies wait here: the client refuses input while it is being drained
     * (events come during the drain), so they are sent after it. */
    char pending[64][48];
    int npending;
    uint64_t rtt_sum_us, rtt_min_us, rtt_max_us;
    struct side *other;
} side;

static void usage(void) {
    fprintf(stderr,
            "usage: mxrtc version\n"
            "       mxrtc peer --offer|--answer [options]   (mxrtc peer --help)\n"
            "       mxrtc call ROOM [options]               place a Matrix call (mxrtc call --help)\n"
            "       mxrtc answer [ROOM] [options]           answer a Matrix call (mxrtc answer --help)\n"
            "       mxrtc turn-demo --uri turn:HOST[:PORT][?transport=udp|tcp] --user USER --pass PASS\n"
            "                       [--ca FILE] [--tls-name NAME] [--count N]\n");
}

static void on_event(void *user, const mxrtc_turn_output *ev);

/* Sends `text` from s to the other side's relay. */
static void send_text(side *s, const char *text) {
    size_t n = strlen(text);
    int rc = mxrtc_turn_client_send(s->t.client, mxrtc_net_turn_now(&s->t), &s->other->relayed,
                                    (const uint8_t *)text, n);
    if (rc != MXRTC_OK) fprintf(stderr, "%s: send failed: %s\n", s->name, mxrtc_strerror(rc));
    mxrtc_net_turn_flush(&s->t);
}

static void on_event(void *user, const mxrtc_turn_output *ev) {
    side *s = user;
    char a[MXRTC_ADDR_STRLEN], b[MXRTC_ADDR_STRLEN];
    switch (ev->event) {
    case MXRTC_TURN_EV_ALLOCATED:
        s->allocated = 1;
        s->relayed = ev->relayed;
        s->mapped = ev->mapped;
        mxrtc_addr_format(&ev->relayed, a, sizeof a);
        mxrtc_addr_format(&ev->mapped, b, sizeof b);
        printf("%s: allocated relay %s (we are %s to the server), lifetime %u s\n", s->name, a, b,
               (unsigned)ev->lifetime_s);
        break;
    case MXRTC_TURN_EV_ALLOCATE_FAILED:
        s->failed = 1;
        s->error = ev->error;
        s->stun_code = ev->stun_code;
        printf("%s: allocation failed: %s (STUN %d)\n", s->name, mxrtc_strerror(ev->error), ev->stun_code);
        break;
    case MXRTC_TURN_EV_PERMISSION_CREATED:
        s->perms++;
        mxrtc_addr_format(&ev->peer, a, sizeof a);
        printf("%s: permission for %s\n", s->name, a);
        break;
    case MXRTC_TURN_EV_CHANNEL_BOUND:
        s->channels++;
        mxrtc_addr_format(&ev->peer, a, sizeof a);
        printf("%s: channel 0x%04x bound to %s\n", s->name, ev->channel, a);
        break;
    case MXRTC_TURN_EV_DATA: {
        /* "ping N T" from the other side: answer "pong N T"; "pong N T" is ours back. */
        char msg[128];
        size_t n = ev->len < sizeof msg - 1 ? ev->len : sizeof msg - 1;
        memcpy(msg, ev->data, n);
        msg[n] = '\0';
        unsigned seq;
        unsigned long long sent;
        if (sscanf(msg, "ping %u %llu", &seq, &sent) == 2) {
            s->received++;
            if (s->npending < 64)
                snprintf(s->pending[s->npending++], sizeof s->pending[0], "pong %u %llu", seq, sent);
        } else if (sscanf(msg, "pong %u %llu", &seq, &sent) == 2) {
            uint64_t rtt = mxrtc_net_now() - (uint64_t)sent;
            s->echoed++;
            s->rtt_sum_us += rtt;
            if (!s->rtt_min_us || rtt < s->rtt_min_us) s->rtt_min_us = rtt;
            if (rtt > s->rtt_max_us) s->rtt_max_us = rtt;
        }
        break;
    }
    case MXRTC_TURN_EV_DEALLOCATED:
        s->deallocated = 1;
        printf("%s: deallocated\n", s->name);
        break;
    default:
        s->error = ev->error;
        printf("%s: event %d: %s (STUN %d)\n", s->name, (int)ev->event, mxrtc_strerror(ev->error), ev->stun_code);
        break;
    }
}

static void send_pending(side *s) {
    for (int i = 0; i < s->npending; i++) send_text(s, s->pending[i]);
    s->npending = 0;
}

/* One round: wait for input or a deadline, then send the queued replies. */
static void step(side *x, side *y, int max_wait_ms) {
    mxrtc_net_turn *ts[2] = {&x->t, &y->t};
    mxrtc_net_turn_step(ts, 2, max_wait_ms);
    send_pending(x);
    send_pending(y);
}

/* Steps both sides until done() or timeout_ms of real time; 0 on success. */
static int run_until(side *x, side *y, int (*done)(side *, side *), int timeout_ms) {
    mxrtc_time_us end = mxrtc_net_now() + (mxrtc_time_us)timeout_ms * 1000;
    while (!done(x, y)) {
        if (x->failed || y->failed || x->t.error || y->t.error) return -1;
        if (mxrtc_net_now() > end) return -1;
        step(x, y, 50);
    }
    return 0;
}

static int both_allocated(side *x, side *y) { return x->allocated && y->allocated; }
static int both_ready(side *x, side *y) { return x->channels >= 1 && y->perms >= 1; }
static int all_echoed_count;
static int all_echoed(side *x, side *y) { return x->echoed >= all_echoed_count && y->echoed >= all_echoed_count; }
static int both_deallocated(side *x, side *y) { return x->deallocated && y->deallocated; }

static int resolve(const mxrtc_turn_uri *u, mxrtc_addr *out) {
    if (u->host_is_ip) {
        *out = u->addr;
        return 0;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = u->transport == MXRTC_URI_TRANSPORT_UDP ? SOCK_DGRAM : SOCK_STREAM;
    if (getaddrinfo(u->host, NULL, &hints, &res) != 0 || !res) return -1;
    int rc = -1;
    if (res->ai_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)res->ai_addr;
        mxrtc_addr_set_ipv4(out, (const uint8_t *)&s4->sin_addr, u->port);
        rc = 0;
    } else if (res->ai_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)res->ai_addr;
        mxrtc_addr_set_ipv6(out, (const uint8_t *)&s6->sin6_addr, u->port);
        rc = 0;
    }
    freeaddrinfo(res);
    return rc;
}

static int turn_demo(int argc, char **argv) {
    const char *uri_text = NULL, *user = NULL, *pass = NULL, *ca = NULL, *tls_name = NULL;
    int count = 10;
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--uri") && v) uri_text = argv[++i];
        else if (!strcmp(argv[i], "--user") && v) user = argv[++i];
        else if (!strcmp(argv[i], "--pass") && v) pass = argv[++i];
        else if (!strcmp(argv[i], "--ca") && v) ca = argv[++i];
        else if (!strcmp(argv[i], "--tls-name") && v) tls_name = argv[++i];
        else if (!strcmp(argv[i], "--count") && v) count = atoi(argv[++i]);
        else {
            usage();
            return 2;
        }
    }
    if (!uri_text || !user || !pass || count < 1 || count > 100000) {
        usage();
        return 2;
    }
    mxrtc_turn_uri uri;
    int rc = mxrtc_turn_uri_parse(&uri, uri_text, strlen(uri_text));
    if (rc != MXRTC_OK || !mxrtc_turn_uri_is_turn(&uri)) {
        fprintf(stderr, "mxrtc: not a turn:/turns: URI (%s)\n", rc ? mxrtc_strerror(rc) : "stun: given");
        return 2;
    }
    mxrtc_addr server;
    if (resolve(&uri, &server) != 0) {
        fprintf(stderr, "mxrtc: cannot resolve %s\n", uri.host);
        return 1;
    }
    mxrtc_turn_config cfg;
    mxrtc_turn_config_init(&cfg);
    cfg.transport = uri.secure ? MXRTC_TURN_TLS
                               : uri.transport == MXRTC_URI_TRANSPORT_TCP ? MXRTC_TURN_TCP : MXRTC_TURN_UDP;
    cfg.username = user;
    cfg.password = pass;
    cfg.software = "mxrtc " MXRTC_TOOL_VERSION;
    cfg.tls_server_name = tls_name ? tls_name : uri.host;
    cfg.tls_ca_file = ca ? ca : "/etc/ssl/certs/ca-certificates.crt";

    static const char *transport_names[] = {"UDP", "TCP", "TLS"};
    char sbuf[MXRTC_ADDR_STRLEN];
    mxrtc_addr_format(&server, sbuf, sizeof sbuf);
    printf("TURN server %s over %s\n", sbuf, transport_names[cfg.transport]);

    side a = {.name = "A"}, b = {.name = "B"};
    a.other = &b;
    b.other = &a;
    if ((rc = mxrtc_net_turn_open(&a.t, &server, &cfg, on_event, &a)) != MXRTC_OK ||
        (rc = mxrtc_net_turn_open(&b.t, &server, &cfg, on_event, &b)) != MXRTC_OK) {
        fprintf(stderr, "mxrtc: cannot reach the server: %s\n", mxrtc_strerror(rc));
        return 1;
    }
    int status = 1;
    mxrtc_turn_client_allocate(a.t.client, mxrtc_net_turn_now(&a.t));
    mxrtc_net_turn_flush(&a.t);
    mxrtc_turn_client_allocate(b.t.client, mxrtc_net_turn_now(&b.t));
    mxrtc_net_turn_flush(&b.t);
    if (run_until(&a, &b, both_allocated, 10000) != 0) goto out;

    mxrtc_turn_client_bind_channel(a.t.client, mxrtc_net_turn_now(&a.t), &b.relayed, NULL);
    mxrtc_net_turn_flush(&a.t);
    mxrtc_turn_client_permit(b.t.client, mxrtc_net_turn_now(&b.t), &a.relayed);
    mxrtc_net_turn_flush(&b.t);
    if (run_until(&a, &b, both_ready, 10000) != 0) goto out;

    /* A sends over its channel, B with Send indications; each echoes the other. */
    for (int i = 0; i < count; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "ping %d %llu", i, (unsigned long long)mxrtc_net_now());
        send_text(&a, msg);
        send_text(&b, msg);
        step(&a, &b, 0);
    }
    all_echoed_count = count;
    run_until(&a, &b, all_echoed, 10000);
    printf("A -> B: %d/%d delivered, %d/%d echoed back, RTT through the relay min/avg/max %.2f/%.2f/%.2f ms\n",
           b.received, count, a.echoed, count, a.rtt_min_us / 1000.0,
           a.echoed ? a.rtt_sum_us / 1000.0 / a.echoed : 0.0, a.rtt_max_us / 1000.0);
    printf("B -> A: %d/%d delivered, %d/%d echoed back, RTT through the relay min/avg/max %.2f/%.2f/%.2f ms\n",
           a.received, count, b.echoed, count, b.rtt_min_us / 1000.0,
           b.echoed ? b.rtt_sum_us / 1000.0 / b.echoed : 0.0, b.rtt_max_us / 1000.0);

    mxrtc_turn_client_deallocate(a.t.client, mxrtc_net_turn_now(&a.t));
    mxrtc_net_turn_flush(&a.t);
    mxrtc_turn_client_deallocate(b.t.client, mxrtc_net_turn_now(&b.t));
    mxrtc_net_turn_flush(&b.t);
    run_until(&a, &b, both_deallocated, 10000);
    /* Success means everything arrived both ways and both relays were released
     * (UDP datagrams on loopback are not lost in practice; a loss shows here). */
    status = (a.received == count && b.received == count && a.echoed == count && b.echoed == count &&
              a.deallocated && b.deallocated)
                 ? 0
                 : 1;
out:
    if (a.failed || b.failed) printf("turn-demo: allocation failed\n");
    printf("turn-demo: %s\n", status == 0 ? "OK" : "FAILED");
    mxrtc_net_turn_close(&a.t);
    mxrtc_net_turn_close(&b.t);
    return status;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage();
        return 2;
    }
    if (!strcmp(argv[1], "version")) {
        printf("mxrtc %s (library %s)\n", MXRTC_TOOL_VERSION, mxrtc_version_string());
        return 0;
    }
    if (!strcmp(argv[1], "turn-demo")) return turn_demo(argc - 2, argv + 2);
    if (!strcmp(argv[1], "peer")) return mxrtc_peer_mode(argc - 2, argv + 2);
    if (!strcmp(argv[1], "call")) return mxrtc_call_mode(1, argc - 2, argv + 2);
    if (!strcmp(argv[1], "answer")) return mxrtc_call_mode(0, argc - 2, argv + 2);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage();
        mxrtc_call_mode_usage();
        return 0;
    }
    usage();
    return 2;
}
