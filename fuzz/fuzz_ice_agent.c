/*
 * fuzz_ice_agent.c: an ICE agent (controlling or controlled) driven by a
 * script read from the input: raw datagrams, authenticated checks and
 * responses built with the agent's real credentials (so the fuzzer reaches
 * the paths behind MESSAGE-INTEGRITY), candidate lines, timeouts on a
 * synthetic clock, restarts, mDNS answers and close (the TURN teardown;
 * inputs after it may be refused with MXRTC_ERR_CLOSED, never crash). After every input the agent
 * is drained as the drain rule requires; the output count per drain is
 * bounded and deadlines never go backwards past the clock forever.
 *
 * Script: byte 0 = flags (bit 0 controlling), then records of
 *   op (1 byte) | len (1 byte) | len bytes of argument
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/random.h"
#include "ice/agent.h"
#include "stun/stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REMOTE_UFRAG "rUfr"
#define REMOTE_PWD "remotepasswordremotepass"

typedef struct fz {
    mxrtc_ice_agent *a;
    mxrtc_time_us now;
    uint8_t last_tid[12];
    mxrtc_addr last_to, last_from;
    bool have_last;
} fz;

static void drain(fz *f) {
    for (int i = 0;; i++) {
        if (i > 4096) abort(); /* outputs are bounded */
        mxrtc_ice_output o;
        if (mxrtc_ice_agent_poll(f->a, &o) != MXRTC_OK) abort();
        if (o.kind == MXRTC_ICE_OUT_DEADLINE) return;
        if (o.kind == MXRTC_ICE_OUT_STREAM_SEND && (!o.data || !o.len)) abort();
        if ((o.kind == MXRTC_ICE_OUT_SEND || o.kind == MXRTC_ICE_OUT_SEND_RELAY) && o.len >= 20 &&
            mxrtc_stun_is_message(o.data, o.len)) {
            if (!o.data) abort();
            mxrtc_stun_msg m;
            int drc = mxrtc_stun_decode(&m, o.data, o.len);
            if (drc != MXRTC_OK && drc != MXRTC_ERR_UNKNOWN_ATTRIBUTE) abort(); /* we emit valid STUN */
            if (drc != MXRTC_OK) continue;
            if (m.cls == MXRTC_STUN_REQUEST) {
                memcpy(f->last_tid, m.tid, 12);
                f->last_to = o.to;
                f->last_from = o.from;
                f->have_last = true;
            }
        }
        if (o.kind == MXRTC_ICE_OUT_EVENT && o.event == MXRTC_ICE_EV_LOCAL_CANDIDATE && !o.candidate) abort();
        if (o.kind == MXRTC_ICE_OUT_EVENT && o.event == MXRTC_ICE_EV_RESOLVE && !o.hostname) abort();
    }
}

static mxrtc_addr pick_addr(uint8_t sel) {
    static const char *const ips[] = {"198.51.100.1", "198.51.100.2", "203.0.113.5", "2001:db8::1",
                                      "2001:db8::2", "10.0.0.2", "192.0.2.9", "::1"};
    mxrtc_addr a;
    mxrtc_addr_parse(&a, ips[sel & 7], (uint16_t)(5000 + (sel >> 3)));
    return a;
}

/* A request or response with the right credentials; attribute choices and
 * values come from arg. */
static size_t craft(fz *f, const uint8_t *arg, size_t len, uint8_t *buf, size_t cap, bool response) {
    uint8_t sel = len > 0 ? arg[0] : 0;
    uint8_t tid[12] = {0};
    if (response && f->have_last) memcpy(tid, f->last_tid, 12);
    else if (len > 13) memcpy(tid, arg + 1, 12);
    const char *lufrag, *lpwd;
    mxrtc_ice_agent_local_credentials(f->a, &lufrag, &lpwd);
    mxrtc_stun_key key;
    if (response) mxrtc_stun_key_short_term(&key, REMOTE_PWD, strlen(REMOTE_PWD));
    else mxrtc_stun_key_short_term(&key, lpwd, strlen(lpwd));
    mxrtc_stun_builder b;
    mxrtc_stun_class cls = response ? ((sel & 1) ? MXRTC_STUN_ERROR : MXRTC_STUN_SUCCESS) : MXRTC_STUN_REQUEST;
    if (mxrtc_stun_build_begin(&b, buf, cap, MXRTC_STUN_BINDING, cls, tid) != MXRTC_OK) return 0;
    if (!response) {
        char user[64];
        size_t ul = strlen(lufrag);
        memcpy(user, lufrag, ul);
        memcpy(user + ul, ":" REMOTE_UFRAG, 6);
        mxrtc_stun_add_text(&b, MXRTC_STUN_ATTR_USERNAME, user, ul + 5);
        if (sel & 2) mxrtc_stun_add_u32(&b, MXRTC_STUN_ATTR_PRIORITY, len > 17 ? mxrtc_load_u32(arg + 14) : 1);
        uint64_t tb = len > 21 ? ((uint64_t)mxrtc_load_u32(arg + 18) << 32) : 7;
        if (sel & 4) mxrtc_stun_add_u64(&b, MXRTC_STUN_ATTR_ICE_CONTROLLING, tb);
        else if (sel & 8) mxrtc_stun_add_u64(&b, MXRTC_STUN_ATTR_ICE_CONTROLLED, tb);
        if (sel & 16) mxrtc_stun_add_flag(&b, MXRTC_STUN_ATTR_USE_CANDIDATE);
    } else if (sel & 1) {
        mxrtc_stun_add_error(&b, (sel & 2) ? 487 : 400 + (sel >> 2), "x");
    } else {
        mxrtc_addr m = pick_addr(len > 1 ? arg[1] : 0);
        mxrtc_stun_add_xor_addr(&b, MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &m);
    }
    if (!(sel & 32)) mxrtc_stun_add_integrity(&b, &key);
    if (!(sel & 64)) mxrtc_stun_add_fingerprint(&b);
    int n = mxrtc_stun_build_end(&b);
    return n > 0 ? (size_t)n : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 1234);
    mxrtc_ice_config cfg;
    mxrtc_ice_config_init(&cfg);
    cfg.random = mxrtc_seeded_random_source(&g);
    cfg.controlling = data[0] & 1;
    cfg.max_remote_candidates = 8;
    cfg.max_pairs = 16;
    cfg.max_local_candidates = 6;
    fz f;
    memset(&f, 0, sizeof f);
    if (mxrtc_ice_agent_new(&f.a, &cfg, 0) != MXRTC_OK) return 0;
    mxrtc_addr l4 = pick_addr(0), l6 = pick_addr(3), stun = pick_addr(2);
    mxrtc_ice_agent_add_interface(f.a, &l4, 0);
    mxrtc_ice_agent_add_interface(f.a, &l6, 0);
    mxrtc_ice_agent_add_stun_server(f.a, &stun);
    mxrtc_addr turn;
    mxrtc_addr_parse(&turn, "203.0.113.50", 3478);
    if (data[0] & 4) mxrtc_ice_agent_add_turn_server(f.a, &turn, "alice", "s3cret");
    mxrtc_ice_turn_server tcp;
    memset(&tcp, 0, sizeof tcp);
    mxrtc_addr_parse(&tcp.addr, "203.0.113.60", 443);
    tcp.transport = MXRTC_TURN_TCP;
    tcp.username = "bob";
    tcp.password = "pw";
    if (data[0] & 8) mxrtc_ice_agent_add_turn(f.a, &tcp);
    if (data[0] & 2) mxrtc_ice_agent_set_remote_credentials(f.a, REMOTE_UFRAG, REMOTE_PWD);
    if (mxrtc_ice_agent_gather(f.a, 0) == MXRTC_OK) drain(&f);

    size_t pos = 1;
    while (pos + 2 <= size) {
        uint8_t op = data[pos], len = data[pos + 1];
        pos += 2;
        if (len > size - pos) len = (uint8_t)(size - pos);
        const uint8_t *arg = data + pos;
        pos += len;
        uint8_t sel = len ? arg[0] : 0;
        mxrtc_addr local = (sel & 0x80) ? l6 : l4, remote = pick_addr(sel);
        uint8_t buf[512];
        int rc = MXRTC_OK;
        switch (op % 14) {
        case 0: /* raw datagram */
            rc = mxrtc_ice_agent_handle_datagram(f.a, f.now, &local, &remote, arg, len);
            break;
        case 1: /* time passes */
            f.now += ((mxrtc_time_us)sel << 14) + 1;
            rc = mxrtc_ice_agent_handle_timeout(f.a, f.now);
            break;
        case 2: { /* a candidate line */
            rc = mxrtc_ice_agent_add_remote_candidate_line(f.a, f.now, (const char *)arg, len);
            break;
        }
        case 3: { /* an authenticated check from the peer */
            size_t n = craft(&f, arg, len, buf, sizeof buf, false);
            rc = mxrtc_ice_agent_handle_datagram(f.a, f.now, &local, &remote, buf, n);
            break;
        }
        case 4: { /* a response to the last request we sent, from where it went */
            size_t n = craft(&f, arg, len, buf, sizeof buf, true);
            mxrtc_addr from = f.have_last && !(sel & 0x80) ? f.last_to : remote;
            mxrtc_addr to = f.have_last && !(sel & 0x40) ? f.last_from : local;
            rc = mxrtc_ice_agent_handle_datagram(f.a, f.now, &to, &from, buf, n);
            break;
        }
        case 5:
            rc = mxrtc_ice_agent_restart(f.a, f.now);
            if (rc == MXRTC_OK && (sel & 1)) {
                drain(&f);
                rc = mxrtc_ice_agent_set_remote_credentials(f.a, REMOTE_UFRAG, REMOTE_PWD);
                continue;
            }
            break;
        case 6: { /* an mDNS answer */
            char name[64];
            size_t n = len < sizeof name - 1 ? len : sizeof name - 1;
            memcpy(name, arg, n);
            name[n] = '\0';
            rc = mxrtc_ice_agent_resolved(f.a, f.now, name, (sel & 1) ? &remote : NULL);
            break;
        }
        case 7:
            rc = mxrtc_ice_agent_remote_gathering_done(f.a, f.now);
            break;
        case 8: /* a local relayed candidate */
            rc = mxrtc_ice_agent_add_relayed_candidate(f.a, f.now, &remote, &stun);
            break;
        case 9: /* anything from the TURN server (STUN, ChannelData, garbage) */
            rc = mxrtc_ice_agent_handle_datagram(f.a, f.now, &l4, &turn, arg, len);
            if (rc == MXRTC_ERR_MALFORMED) rc = MXRTC_OK;
            break;
        case 11: /* bytes from the TCP TURN server's stream (any chunking) */
            rc = mxrtc_ice_agent_handle_stream(f.a, f.now, &tcp.addr, arg, len);
            if (rc == MXRTC_ERR_NOT_FOUND) rc = MXRTC_OK;
            break;
        case 12:
            rc = mxrtc_ice_agent_stream_closed(f.a, f.now, &tcp.addr);
            if (rc == MXRTC_ERR_NOT_FOUND) rc = MXRTC_OK;
            break;
        case 13: /* the session ends: TURN deallocations, then only the servers' answers count */
            rc = mxrtc_ice_agent_close(f.a, f.now);
            break;
        case 10: /* application data on the selected pair */
            rc = mxrtc_ice_agent_send(f.a, f.now, arg, len);
            if (rc == MXRTC_ERR_NOT_FOUND || rc == MXRTC_ERR_LIMIT) rc = MXRTC_OK;
            break;
        }
        if (rc == MXRTC_ERR_STATE) abort(); /* we always drained */
        drain(&f);
    }
    mxrtc_ice_agent_free(f.a);
    return 0;
}
