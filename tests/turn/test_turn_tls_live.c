/* test_turn_tls_live.c: turns: against a real coturn (the `coturn` CTest
 * fixture, tests/turn/coturn.sh): a TCP socket to its TLS port, the
 * mxrtc_tls_stream over it verifying the server's certificate, and a STUN
 * Binding request (RFC 8489 §5, built by hand here) whose success response
 * must come back through TLS and the stream framer with our transaction id
 * and an XOR-MAPPED-ADDRESS equal to our socket's address. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/random.h"
#include "coturn_env.h"
#include "mxrtc.h"
#include "stun/tls_stream.h"
#include "stun/turn_framing.h"

/* Bound on waiting for the server (a hang guard, not a timing assertion). */
#define POLL_MS 100
#define MAX_POLLS 100

static coturn_env env;

static int load_env(void **state) {
    (void)state;
    return coturn_env_load(&env);
}

static int tcp_connect(uint16_t port, struct sockaddr_in *local) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, env.host, &sa.sin_addr), 1);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t sl = sizeof *local;
    assert_int_equal(getsockname(fd, (struct sockaddr *)local, &sl), 0);
    return fd;
}

/* strict: the peer must take everything; else send errors (the peer already
 * hung up) end the flush quietly. */
static void flush_out_mode(mxrtc_tls_stream *s, int fd, int strict) {
    uint8_t buf[4096];
    int n;
    while ((n = mxrtc_tls_stream_pending_output(s, buf, sizeof buf)) > 0) {
        size_t off = 0;
        while (off < (size_t)n) {
            ssize_t w = send(fd, buf + off, (size_t)n - off, MSG_NOSIGNAL);
            if (!strict && w <= 0) return;
            assert_true(w > 0);
            off += (size_t)w;
        }
    }
}

static void flush_out(mxrtc_tls_stream *s, int fd) {
    flush_out_mode(s, fd, 1);
}

/* Waits for ciphertext and feeds it; returns the stream's verdict. */
static int receive_some(mxrtc_tls_stream *s, int fd) {
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int pr = poll(&pfd, 1, POLL_MS);
    assert_true(pr >= 0);
    if (pr == 0) return MXRTC_OK;
    uint8_t buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) return mxrtc_tls_stream_handle_eof(s);
    assert_true(n > 0);
    size_t off = 0;
    while (off < (size_t)n) {
        int r = mxrtc_tls_stream_handle_input(s, buf + off, (size_t)n - off);
        if (r < 0) return r;
        off += (size_t)r;
        assert_true(r > 0);   /* this test reads all plaintext, so the stream never fills */
    }
    return MXRTC_OK;
}

/* Finds attribute `type` in a STUN message body; returns its value or NULL. */
static const uint8_t *find_attr(const uint8_t *msg, size_t len, uint16_t type, uint16_t *alen) {
    size_t off = 20;
    while (off + 4 <= len) {
        uint16_t t = (uint16_t)((msg[off] << 8) | msg[off + 1]);
        uint16_t l = (uint16_t)((msg[off + 2] << 8) | msg[off + 3]);
        if (off + 4 + l > len) return NULL;
        if (t == type) {
            *alen = l;
            return msg + off + 4;
        }
        off += 4 + (((size_t)l + 3) & ~(size_t)3);   /* RFC 8489 §14: padded to 4 */
    }
    return NULL;
}

/* Receives until the framer yields one frame, and checks that it is the
 * Binding success response to req. */
static void check_binding_response(mxrtc_tls_stream *s, int fd, mxrtc_stream_framer *framer,
                                   const uint8_t req[20], const struct sockaddr_in *local) {
    const uint8_t *frame = NULL;
    size_t frame_len = 0;
    int is_cd = -1, got = 0;
    for (int i = 0; i < MAX_POLLS; i++) {
        int r = mxrtc_stream_framer_next(framer, &frame, &frame_len, &is_cd);
        if (r == MXRTC_OK) {
            got = 1;
            break;
        }
        assert_int_equal(r, MXRTC_ERR_AGAIN);
        flush_out(s, fd);
        assert_int_equal(receive_some(s, fd), MXRTC_OK);
        uint8_t plain[2048];
        int n;
        while ((n = mxrtc_tls_stream_read(s, plain, sizeof plain)) > 0)
            assert_int_equal(mxrtc_stream_framer_push(framer, plain, (size_t)n), (size_t)n);
        assert_int_equal(n, MXRTC_ERR_AGAIN);
    }
    assert_true(got);
    assert_true(mxrtc_tls_stream_is_established(s));

    /* Binding success response (0x0101) for our transaction. */
    assert_int_equal(is_cd, 0);
    assert_true(frame_len >= 20);
    assert_int_equal(frame[0], 0x01);
    assert_int_equal(frame[1], 0x01);
    assert_int_equal((size_t)((frame[2] << 8) | frame[3]) + 20, frame_len);
    assert_memory_equal(frame + 4, req + 4, 16);   /* cookie + transaction id */

    /* RFC 8489 §14.2: XOR-MAPPED-ADDRESS = our TCP source address. */
    uint16_t alen = 0;
    const uint8_t *xma = find_attr(frame, frame_len, 0x0020, &alen);
    assert_non_null(xma);
    assert_int_equal(alen, 8);
    assert_int_equal(xma[1], 0x01);   /* IPv4 */
    uint16_t xport = (uint16_t)(((xma[2] << 8) | xma[3]) ^ 0x2112);
    assert_int_equal(xport, ntohs(local->sin_port));
    uint8_t ip[4];
    for (int i = 0; i < 4; i++) ip[i] = xma[4 + i] ^ req[4 + i];
    assert_memory_equal(ip, &local->sin_addr.s_addr, 4);
}

static void binding_over_tls(uint16_t port, uint64_t seed) {
    struct sockaddr_in local;
    int fd = tcp_connect(port, &local);

    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, seed);
    mxrtc_tls_stream_config cfg;
    mxrtc_tls_stream_config_init(&cfg);
    cfg.random = mxrtc_seeded_random_source(&g);
    cfg.server_name = env.tls_name;
    cfg.ca_file = env.ca;   /* the self-signed certificate coturn.sh generated */
    mxrtc_tls_stream *s = NULL;
    assert_int_equal(mxrtc_tls_stream_new(&s, &cfg), MXRTC_OK);

    /* RFC 8489 §5/§6: Binding request, no attributes, magic cookie, random
     * 96-bit transaction id. Two of them back to back in one write, queued
     * before the handshake completes: the answers come back as one byte
     * stream that the framer must split. */
    uint8_t reqs[2][20];
    mxrtc_random src = mxrtc_seeded_random_source(&g);
    for (int k = 0; k < 2; k++) {
        static const uint8_t head[8] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xA4, 0x42};
        memcpy(reqs[k], head, 8);
        assert_int_equal(mxrtc_random_fill(&src, reqs[k] + 8, 12), MXRTC_OK);
    }
    assert_int_equal(mxrtc_tls_stream_write(s, &reqs[0][0], sizeof reqs), MXRTC_OK);

    static mxrtc_stream_framer framer;
    mxrtc_stream_framer_init(&framer);
    for (int k = 0; k < 2; k++) check_binding_response(s, fd, &framer, reqs[k], &local);

    /* Nothing else arrived. */
    const uint8_t *frame;
    size_t frame_len;
    int is_cd;
    assert_int_equal(mxrtc_stream_framer_next(&framer, &frame, &frame_len, &is_cd), MXRTC_ERR_AGAIN);

    /* Clean close: close_notify out; coturn answers or drops the TCP link. */
    assert_int_equal(mxrtc_tls_stream_close(s), MXRTC_OK);
    flush_out_mode(s, fd, 0);
    shutdown(fd, SHUT_WR);
    close(fd);
    mxrtc_tls_stream_free(s);
}

static void binding_over_tls_lt_instance(void **state) {
    (void)state;
    binding_over_tls(env.lt_tls_port, 1);
}

static void binding_over_tls_rest_instance(void **state) {
    (void)state;
    binding_over_tls(env.rest_tls_port, 2);
}

static void wrong_name_against_coturn_is_certificate_error(void **state) {
    (void)state;
    struct sockaddr_in local;
    int fd = tcp_connect(env.lt_tls_port, &local);
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 3);
    mxrtc_tls_stream_config cfg;
    mxrtc_tls_stream_config_init(&cfg);
    cfg.random = mxrtc_seeded_random_source(&g);
    cfg.server_name = "not-the-server.example";
    cfg.ca_file = env.ca;
    mxrtc_tls_stream *s = NULL;
    assert_int_equal(mxrtc_tls_stream_new(&s, &cfg), MXRTC_OK);
    int r = MXRTC_OK;
    for (int i = 0; i < MAX_POLLS && r == MXRTC_OK; i++) {
        flush_out(s, fd);
        r = receive_some(s, fd);
    }
    assert_int_equal(r, MXRTC_ERR_CERTIFICATE);
    flush_out_mode(s, fd, 0);   /* the alert, if coturn still listens */
    close(fd);
    mxrtc_tls_stream_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(binding_over_tls_lt_instance),
        cmocka_unit_test(binding_over_tls_rest_instance),
        cmocka_unit_test(wrong_name_against_coturn_is_certificate_error),
    };
    return cmocka_run_group_tests(tests, load_env, NULL);
}
