/*
 * test_dtls_openssl.c: interop with a real DTLS implementation. The test
 * starts `openssl s_server` / `openssl s_client -dtls1_2` as a child
 * process on 127.0.0.1 and relays datagrams between a UDP socket and our
 * sans-IO endpoint (sockets are fine here: this is a test, not the core).
 * openssl presents an RSA certificate (as GStreamer's webrtcbin does); as a
 * client it uses a 256-byte MTU, so its ClientHello arrives in fragments.
 * Both sides must agree on the RFC 5764 keying material, which openssl
 * prints with -keymatexport. Bounded by poll() timeouts; no sleeps.
 * As root the test first moves into a network namespace of its own with
 * only lo up (TESTING.md), so nothing can reach another interface;
 * otherwise it stays on the host's loopback.
 */
#define _GNU_SOURCE /* unshare(CLONE_NEWNET) */
#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/alloc.h"
#include "dtls/dtls.h"

#define CERT MXRTC_DTLS_VECTORS "/rsa_cert.pem"
#define KEY MXRTC_DTLS_VECTORS "/rsa_key.pem"
#define BUDGET_US (20ull * 1000000)

static mxrtc_time_us now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (mxrtc_time_us)ts.tv_sec * 1000000 + (mxrtc_time_us)ts.tv_nsec / 1000;
}

typedef struct child {
    pid_t pid;
    int in;  /* its stdin */
    int out; /* its stdout + stderr */
    char log[65536];
    size_t log_len;
} child;

/* The running child, so that a failed assertion still ends it (teardown). */
static pid_t live_child;

static int openssl_available(void) {
    return access("/usr/bin/openssl", X_OK) == 0;
}

static void spawn(child *c, char *const argv[]) {
    int pin[2], pout[2];
    assert_int_equal(pipe(pin), 0);
    assert_int_equal(pipe(pout), 0);
    c->pid = fork();
    assert_true(c->pid >= 0);
    if (c->pid == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        dup2(pout[1], 2);
        close(pin[1]);
        close(pout[0]);
        execv("/usr/bin/openssl", argv);
        _exit(127);
    }
    live_child = c->pid;
    close(pin[0]);
    close(pout[1]);
    c->in = pin[1];
    c->out = pout[0];
    c->log_len = 0;
    c->log[0] = 0;
}

static void read_child(child *c) {
    if (c->log_len + 1 >= sizeof c->log) return;
    ssize_t n = read(c->out, c->log + c->log_len, sizeof c->log - 1 - c->log_len);
    if (n > 0) {
        c->log_len += (size_t)n;
        c->log[c->log_len] = 0;
    }
}

static void stop(child *c) {
    close(c->in);
    kill(c->pid, SIGTERM);
    int st;
    waitpid(c->pid, &st, 0);
    live_child = 0;
    close(c->out);
}

static int kill_leftover_child(void **state) {
    (void)state;
    if (live_child > 0) {
        kill(live_child, SIGKILL);
        waitpid(live_child, NULL, 0);
        live_child = 0;
    }
    return 0;
}

/* Waits (poll, bounded) until the child's output contains text. */
static int wait_for(child *c, const char *text, int ms) {
    mxrtc_time_us end = now_us() + (mxrtc_time_us)ms * 1000;
    while (!strstr(c->log, text)) {
        mxrtc_time_us t = now_us();
        if (t >= end) return 0;
        struct pollfd p = {.fd = c->out, .events = POLLIN};
        if (poll(&p, 1, (int)((end - t) / 1000) + 1) > 0) read_child(c);
        if (p.revents & POLLHUP && !(p.revents & POLLIN)) return strstr(c->log, text) != NULL;
    }
    return 1;
}

static uint16_t free_port(void) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &l);
    close(s);
    return ntohs(a.sin_port);
}

typedef struct run {
    mxrtc_dtls *d;
    int sock;
    struct sockaddr_in peer;
    int have_peer;
    int connected, failed, error;
    mxrtc_srtp_profile profile;
} run;

static void drain(run *r, child *c, mxrtc_time_us *deadline) {
    mxrtc_dtls_output out;
    for (;;) {
        assert_int_equal(mxrtc_dtls_poll(r->d, now_us(), &out), MXRTC_OK);
        if (out.type == MXRTC_DTLS_OUT_DEADLINE) break;
        if (out.type == MXRTC_DTLS_OUT_DATAGRAM && r->have_peer)
            sendto(r->sock, out.data, out.len, 0, (struct sockaddr *)&r->peer, sizeof r->peer);
        if (out.type == MXRTC_DTLS_OUT_CONNECTED) {
            r->connected = 1;
            r->profile = out.profile;
        }
        if (out.type == MXRTC_DTLS_OUT_FAILED) {
            r->failed = 1;
            r->error = out.error;
        }
    }
    *deadline = out.deadline;
    (void)c;
}

/* Relays until connected (or failed / out of time), reading the child's
 * output meanwhile so that it never blocks on a full pipe. */
static void relay(run *r, child *c) {
    mxrtc_time_us end = now_us() + BUDGET_US, deadline;
    drain(r, c, &deadline);
    while (!r->connected && !r->failed && now_us() < end) {
        mxrtc_time_us t = now_us();
        mxrtc_time_us until = deadline < end ? deadline : end;
        int ms = until > t ? (int)((until - t + 999) / 1000) : 0;
        struct pollfd p[2] = {{.fd = r->sock, .events = POLLIN}, {.fd = c->out, .events = POLLIN}};
        int n = poll(p, 2, ms);
        if (n > 0 && (p[1].revents & POLLIN)) read_child(c);
        if (n > 0 && (p[0].revents & POLLIN)) {
            uint8_t buf[4096];
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t len = recvfrom(r->sock, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
            if (len > 0) {
                if (!r->have_peer) {
                    r->peer = from;
                    r->have_peer = 1;
                }
                int e = mxrtc_dtls_handle_datagram(r->d, now_us(), buf, (size_t)len);
                assert_true(e == MXRTC_OK || e == MXRTC_ERR_MALFORMED);
            }
        } else if (now_us() >= deadline) {
            assert_int_equal(mxrtc_dtls_handle_timeout(r->d, now_us()), MXRTC_OK);
        }
        drain(r, c, &deadline);
    }
}

static void load_peer(mxrtc_dtls_fingerprint *fp) {
    FILE *f = fopen(CERT, "rb");
    assert_non_null(f);
    static uint8_t buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* Only the certificate is needed for the fingerprint; pair it with its key. */
    FILE *k = fopen(KEY, "rb");
    assert_non_null(k);
    static uint8_t kbuf[8192];
    size_t kn = fread(kbuf, 1, sizeof kbuf - 1, k);
    fclose(k);
    kbuf[kn] = 0;
    mxrtc_dtls_cert *c;
    assert_int_equal(mxrtc_dtls_cert_from_pem(&c, NULL, NULL, buf, n + 1, kbuf, kn + 1), MXRTC_OK);
    *fp = *mxrtc_dtls_cert_fingerprint_raw(c);
    mxrtc_dtls_cert_free(c);
}

/* The 60 bytes of RFC 5764 §4.2 rebuilt from our oriented keys, in hex. */
static void keying_hex(const mxrtc_dtls *d, char *hex) {
    mxrtc_dtls_srtp_keys k;
    assert_int_equal(mxrtc_dtls_get_srtp_keys(d, &k), MXRTC_OK);
    int client = mxrtc_dtls_get_role(d) == MXRTC_DTLS_ROLE_CLIENT;
    const uint8_t *c = client ? k.local : k.remote, *s = client ? k.remote : k.local;
    uint8_t m[60];
    memcpy(m, c, 16);
    memcpy(m + 16, s, 16);
    memcpy(m + 32, c + 16, 14);
    memcpy(m + 46, s + 16, 14);
    for (int i = 0; i < 60; i++) sprintf(hex + 2 * i, "%02X", m[i]);
    mxrtc_wipe(&k, sizeof k);
    mxrtc_wipe(m, sizeof m);
}

static void setup_endpoint(run *r, mxrtc_dtls_cert **cert, mxrtc_dtls_role role) {
    memset(r, 0, sizeof *r);
    assert_int_equal(mxrtc_dtls_cert_new(cert, NULL, NULL), MXRTC_OK);
    mxrtc_dtls_config cfg;
    mxrtc_dtls_config_init(&cfg);
    cfg.role = role;
    cfg.cert = *cert;
    load_peer(&cfg.remote_fingerprint);
    /* Short first timer: openssl may not listen yet when we start. */
    cfg.retransmit_min_ms = 200;
    cfg.retransmit_max_ms = 3200;
    assert_int_equal(mxrtc_dtls_new(&r->d, &cfg, now_us()), MXRTC_OK);
    r->sock = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(r->sock >= 0);
}

static void finish_and_check(run *r, child *c) {
    if (!r->connected) fail_msg("not connected (failed=%d error=%d); openssl said:\n%s", r->failed, r->error, c->log);
    assert_int_equal(r->profile, MXRTC_SRTP_AES128_CM_SHA1_80);
    /* The keying material openssl exported must be ours. */
    assert_true(wait_for(c, "Keying material: ", 5000));
    char hex[121];
    keying_hex(r->d, hex);
    const char *km = strstr(c->log, "Keying material: ") + strlen("Keying material: ");
    assert_memory_equal(km, hex, 120);
    assert_true(strstr(c->log, "DTLSv1.2") != NULL || strstr(c->log, "Protocol  : DTLSv1.2") != NULL ||
                strstr(c->log, "SRTP Extension negotiated") != NULL);
    /* Application data reaches openssl (it prints what it receives). */
    static const char msg[] = "mxrtc-interop-hello\n";
    assert_int_equal(mxrtc_dtls_send(r->d, now_us(), (const uint8_t *)msg, sizeof msg - 1), MXRTC_OK);
    mxrtc_time_us dl;
    drain(r, c, &dl);
    assert_true(wait_for(c, "mxrtc-interop-hello", 5000));
    assert_int_equal(mxrtc_dtls_close(r->d, now_us()), MXRTC_OK);
    drain(r, c, &dl);
}

static void we_are_client_openssl_server(void **state) {
    (void)state;
    if (!openssl_available()) skip();
    uint16_t port = free_port();
    char accept_arg[32];
    snprintf(accept_arg, sizeof accept_arg, "127.0.0.1:%u", port);
    char *const argv[] = {"openssl", "s_server", "-dtls1_2", "-accept", accept_arg, "-cert", CERT, "-key", KEY,
                          "-use_srtp", "SRTP_AES128_CM_SHA1_80", "-keymatexport", "EXTRACTOR-dtls_srtp",
                          "-keymatexportlen", "60", "-verify", "1", NULL};
    child c;
    spawn(&c, argv);
    assert_true(wait_for(&c, "ACCEPT", 10000));
    run r;
    mxrtc_dtls_cert *cert;
    setup_endpoint(&r, &cert, MXRTC_DTLS_ROLE_CLIENT);
    r.peer.sin_family = AF_INET;
    r.peer.sin_port = htons(port);
    r.peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r.have_peer = 1;
    relay(&r, &c);
    finish_and_check(&r, &c);
    /* s_server verified our (self-signed) certificate was sent. */
    assert_non_null(strstr(c.log, "CN = mxrtc"));
    stop(&c);
    close(r.sock);
    mxrtc_dtls_free(r.d);
    mxrtc_dtls_cert_free(cert);
}

static void we_are_server_openssl_client_fragments(void **state) {
    (void)state;
    if (!openssl_available()) skip();
    run r;
    mxrtc_dtls_cert *cert;
    setup_endpoint(&r, &cert, MXRTC_DTLS_ROLE_SERVER);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(r.sock, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(r.sock, (struct sockaddr *)&a, &l);
    char connect_arg[32];
    snprintf(connect_arg, sizeof connect_arg, "127.0.0.1:%u", ntohs(a.sin_port));
    /* -mtu 256 and the long ALL cipher list make openssl split its
     * ClientHello into two records, like Chrome, Firefox and webrtcbin. */
    char *const argv[] = {"openssl", "s_client", "-dtls1_2", "-mtu", "256", "-cipher", "ALL", "-connect", connect_arg,
                          "-cert", CERT, "-key", KEY, "-use_srtp", "SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32",
                          "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", "60", NULL};
    child c;
    spawn(&c, argv);
    relay(&r, &c);
    mxrtc_dtls_stats st;
    mxrtc_dtls_get_stats(r.d, &st);
    assert_int_equal(st.hello_reassembled, 1);
    finish_and_check(&r, &c);
    stop(&c);
    close(r.sock);
    mxrtc_dtls_free(r.d);
    mxrtc_dtls_cert_free(cert);
}

/* A private network namespace with lo up, if we may create one. */
static void private_netns(void) {
    if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
        print_message("note: running on the host loopback (no private network namespace)\n");
        return;
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0) fail_msg("lo: cannot read flags");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) fail_msg("lo: cannot bring up");
    close(s);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    private_netns();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(we_are_client_openssl_server, kill_leftover_child),
        cmocka_unit_test_teardown(we_are_server_openssl_client_fragments, kill_leftover_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
