/*
 * fuzz_turn_client: the TURN client driven by a script read from the input,
 * on a synthetic clock with a seeded random source. Each step is one of:
 * advance time, feed raw bytes, answer the last request with a response the
 * fuzzer shapes (class, error code, attributes; signed with the right key so
 * that it gets past the integrity check), or a user command (permit, bind,
 * send, deallocate). After every input the client is drained, as the drain
 * rule requires. UDP or TCP is chosen by the first byte.
 */
#include <stdint.h>
#include <string.h>

#include "base/random.h"
#include "stun/stun.h"
#include "stun/turn_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define USER "fuzz"
#define PASS "pass"
#define REALM "r"

typedef struct script {
    const uint8_t *p;
    size_t n;
} script;

static uint8_t take(script *s) {
    if (!s->n) return 0;
    s->n--;
    return *s->p++;
}

static uint8_t last_tid[12];
static uint16_t last_method;
static int have_request;

static void drain(mxrtc_turn_client *c, mxrtc_time_us now) {
    mxrtc_turn_output out;
    for (int i = 0; i < 10000; i++) {
        if (mxrtc_turn_client_poll(c, now, &out) != MXRTC_OK) return;
        if (out.kind == MXRTC_TURN_OUT_DEADLINE) return;
        if (out.kind == MXRTC_TURN_OUT_TRANSMIT) {
            mxrtc_stun_msg m;
            if (mxrtc_stun_decode(&m, out.data, out.len) == MXRTC_OK && m.cls == MXRTC_STUN_REQUEST) {
                memcpy(last_tid, m.tid, 12);
                last_method = m.method;
                have_request = 1;
            }
        }
    }
}

static void addr_from(script *s, mxrtc_addr *a) {
    uint8_t ip[16];
    for (int i = 0; i < 16; i++) ip[i] = take(s);
    uint16_t port = (uint16_t)((take(s) << 8) | take(s));
    if (take(s) & 1) mxrtc_addr_set_ipv6(a, ip, port);
    else mxrtc_addr_set_ipv4(a, ip, port);
}

static void shaped_response(mxrtc_turn_client *c, mxrtc_time_us now, script *s, const mxrtc_stun_key *key,
                            int tcp) {
    if (!have_request) return;
    uint8_t buf[1024];
    mxrtc_stun_builder b;
    uint8_t flags = take(s);
    mxrtc_stun_class cls = (flags & 1) ? MXRTC_STUN_ERROR : MXRTC_STUN_SUCCESS;
    mxrtc_stun_build_begin(&b, buf, sizeof buf, last_method, cls, last_tid);
    if (cls == MXRTC_STUN_ERROR) {
        static const int codes[] = {300, 400, 401, 403, 420, 437, 438, 441, 442, 486, 500, 508, 699};
        mxrtc_stun_add_error(&b, codes[take(s) % (sizeof codes / sizeof codes[0])], "x");
    }
    if (flags & 2) {
        mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_REALM, REALM, 1);
        char nonce[8] = "n0";
        nonce[1] = (char)('0' + (take(s) % 10));
        mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_NONCE, nonce, 2);
    }
    mxrtc_addr a;
    if (flags & 4) { addr_from(s, &a); mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_RELAYED_ADDRESS, &a); }
    if (flags & 8) { addr_from(s, &a); mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &a); }
    if (flags & 16) mxrtc_stun_add_u32(&b, MXRTC_STUN_ATTR_LIFETIME, (uint32_t)take(s) * (uint32_t)take(s));
    if (flags & 32) {
        uint8_t algs[8] = {0, take(s) & 3, 0, 0, 0, 1, 0, 0};
        mxrtc_stun_add(&b, MXRTC_STUN_ATTR_PASSWORD_ALGORITHMS, algs, sizeof algs);
    }
    if (flags & 64) mxrtc_stun_add_integrity(&b, key);
    if (flags & 128) mxrtc_stun_add_fingerprint(&b);
    int n = mxrtc_stun_build_end(&b);
    if (n <= 0) return;
    /* Over TCP, deliver it in two pieces to exercise the framer. */
    size_t cut = tcp ? (size_t)(take(s) % (unsigned)n) : (size_t)n;
    if (mxrtc_turn_client_handle_input(c, now, buf, cut) == MXRTC_OK) drain(c, now);
    if (cut < (size_t)n && mxrtc_turn_client_handle_input(c, now, buf + cut, (size_t)n - cut) == MXRTC_OK)
        drain(c, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    script s = {data, size};
    have_request = 0;
    int tcp = take(&s) & 1;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 1);
    mxrtc_turn_config cfg;
    mxrtc_turn_config_init(&cfg);
    cfg.random = mxrtc_seeded_random_source(&g);
    cfg.transport = tcp ? MXRTC_TURN_TCP : MXRTC_TURN_UDP;
    cfg.username = USER;
    cfg.password = PASS;
    cfg.max_peers = 4;
    cfg.rx_queue_bytes = 4096;
    cfg.tx_queue_bytes = 4096;
    mxrtc_turn_client *c = NULL;
    if (mxrtc_turn_client_new(&c, &cfg, 0) != MXRTC_OK) return 0;
    mxrtc_stun_key key;
    mxrtc_stun_key_long_term(&key, MXRTC_STUN_PASSWORD_MD5, USER, 4, REALM, 1, PASS, 4);
    mxrtc_time_us now = 0;
    if (mxrtc_turn_client_allocate(c, now) == MXRTC_OK) drain(c, now);
    for (int step = 0; step < 256 && s.n; step++) {
        uint8_t op = take(&s) % 8;
        mxrtc_addr a;
        uint8_t payload[64];
        switch (op) {
        case 0:
            now += (mxrtc_time_us)((take(&s) << 8) | take(&s)) * 10000u;
            if (mxrtc_turn_client_handle_timeout(c, now) == MXRTC_OK) drain(c, now);
            break;
        case 1: {
            size_t n = take(&s);
            if (n > s.n) n = s.n;
            if (mxrtc_turn_client_handle_input(c, now, s.p, n) == MXRTC_OK) drain(c, now);
            s.p += n;
            s.n -= n;
            break;
        }
        case 2:
        case 3:
            shaped_response(c, now, &s, &key, tcp);
            break;
        case 4:
            addr_from(&s, &a);
            if (mxrtc_turn_client_permit(c, now, &a) == MXRTC_OK) drain(c, now);
            break;
        case 5:
            addr_from(&s, &a);
            if (mxrtc_turn_client_bind_channel(c, now, &a, NULL) == MXRTC_OK) drain(c, now);
            break;
        case 6: {
            addr_from(&s, &a);
            size_t n = take(&s) % sizeof payload;
            memset(payload, 0xAB, n);
            if (mxrtc_turn_client_send(c, now, &a, payload, n) == MXRTC_OK) drain(c, now);
            break;
        }
        case 7:
            if (mxrtc_turn_client_deallocate(c, now) == MXRTC_OK) drain(c, now);
            break;
        }
    }
    mxrtc_turn_client_free(c);
    return 0;
}
