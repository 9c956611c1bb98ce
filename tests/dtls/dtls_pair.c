/* dtls_pair.c: see dtls_pair.h. */
#include "dtls_pair.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void make_side(pair *p, int i, mxrtc_dtls_role role, const mxrtc_dtls_cert *own,
                      const mxrtc_dtls_fingerprint *remote, size_t mtu, uint64_t seed) {
    mxrtc_dtls_config cfg;
    mxrtc_dtls_config_init(&cfg);
    cfg.role = role;
    cfg.cert = own;
    cfg.remote_fingerprint = *remote;
    mxrtc_seeded_random_init(&p->s[i].rng, seed * 7 + (uint64_t)i);
    cfg.random = mxrtc_seeded_random_source(&p->s[i].rng);
    if (mtu) cfg.mtu = mtu;
    assert_int_equal(mxrtc_dtls_new(&p->s[i].d, &cfg, p->now), MXRTC_OK);
}

static void base_init(pair *p, uint64_t seed) {
    memset(p, 0, sizeof *p);
    p->now = 1000000;
    mxrtc_seeded_random_init(&p->net_rng, seed ^ 0x5eed);
    for (int i = 0; i < 2; i++) {
        p->s[i].inbox = calloc(PAIR_QUEUE, sizeof(pair_pkt));
        assert_non_null(p->s[i].inbox);
    }
}

void pair_init(pair *p, mxrtc_dtls_role role0, uint64_t seed, size_t mtu0, size_t mtu1) {
    base_init(p, seed);
    for (int i = 0; i < 2; i++) {
        mxrtc_seeded_random g;
        mxrtc_seeded_random_init(&g, seed * 31 + (uint64_t)i);
        mxrtc_random r = mxrtc_seeded_random_source(&g);
        assert_int_equal(mxrtc_dtls_cert_new(&p->s[i].cert, NULL, &r), MXRTC_OK);
    }
    mxrtc_dtls_role role1 = role0 == MXRTC_DTLS_ROLE_CLIENT ? MXRTC_DTLS_ROLE_SERVER : MXRTC_DTLS_ROLE_CLIENT;
    make_side(p, 0, role0, p->s[0].cert, mxrtc_dtls_cert_fingerprint_raw(p->s[1].cert), mtu0, seed);
    make_side(p, 1, role1, p->s[1].cert, mxrtc_dtls_cert_fingerprint_raw(p->s[0].cert), mtu1, seed);
}

void pair_init_with(pair *p, mxrtc_dtls_role role0, uint64_t seed, const mxrtc_dtls_cert *cert1,
                    const mxrtc_dtls_fingerprint *fp_for_1, const mxrtc_dtls_fingerprint *fp_for_0) {
    base_init(p, seed);
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, seed * 31);
    mxrtc_random r = mxrtc_seeded_random_source(&g);
    assert_int_equal(mxrtc_dtls_cert_new(&p->s[0].cert, NULL, &r), MXRTC_OK);
    if (!cert1) {
        assert_int_equal(mxrtc_dtls_cert_new(&p->s[1].cert, NULL, &r), MXRTC_OK);
        cert1 = p->s[1].cert;
    }
    mxrtc_dtls_role role1 = role0 == MXRTC_DTLS_ROLE_CLIENT ? MXRTC_DTLS_ROLE_SERVER : MXRTC_DTLS_ROLE_CLIENT;
    make_side(p, 0, role0, p->s[0].cert, fp_for_1 ? fp_for_1 : mxrtc_dtls_cert_fingerprint_raw(cert1), 0, seed);
    make_side(p, 1, role1, cert1, fp_for_0 ? fp_for_0 : mxrtc_dtls_cert_fingerprint_raw(p->s[0].cert), 0,
              seed);
}

void pair_free(pair *p) {
    for (int i = 0; i < 2; i++) {
        mxrtc_dtls_free(p->s[i].d);
        mxrtc_dtls_cert_free(p->s[i].cert);
        free(p->s[i].inbox);
    }
}

mxrtc_time_us pair_drain(pair *p, int i) {
    pair_side *me = &p->s[i], *peer = &p->s[1 - i];
    for (int guard = 0; guard < 1000; guard++) {
        mxrtc_dtls_output out;
        assert_int_equal(mxrtc_dtls_poll(me->d, p->now, &out), MXRTC_OK);
        switch (out.type) {
        case MXRTC_DTLS_OUT_DEADLINE:
            return out.deadline;
        case MXRTC_DTLS_OUT_DATAGRAM:
            me->sent++;
            assert_true(out.len > 0 && out.len <= sizeof peer->inbox[0].data);
            if (p->drop_first[i]) {
                p->drop_first[i]--;
                p->dropped++;
                break;
            }
            if (p->loss_percent && mxrtc_seeded_random_next(&p->net_rng) % 100 < p->loss_percent) {
                p->dropped++;
                break;
            }
            assert_true(peer->inbox_n < PAIR_QUEUE);
            memcpy(peer->inbox[peer->inbox_n].data, out.data, out.len);
            peer->inbox[peer->inbox_n].len = out.len;
            peer->inbox_n++;
            break;
        case MXRTC_DTLS_OUT_CONNECTED:
            me->connected = 1;
            me->profile = out.profile;
            break;
        case MXRTC_DTLS_OUT_FAILED:
            me->failed = 1;
            me->error = out.error;
            break;
        case MXRTC_DTLS_OUT_CLOSED:
            me->closed = 1;
            break;
        case MXRTC_DTLS_OUT_APP_DATA:
            me->app_received++;
            assert_true(out.len <= sizeof me->last_app);
            memcpy(me->last_app, out.data, out.len);
            me->last_app_len = out.len;
            break;
        }
    }
    fail_msg("poll never returned a deadline");
    return 0;
}

static int terminal(const pair_side *s) { return s->failed || s->closed; }

static int done(const pair *p) {
    if (p->s[0].connected && p->s[1].connected) return 1;
    if (p->settle) return terminal(&p->s[0]) && terminal(&p->s[1]);
    return terminal(&p->s[0]) || terminal(&p->s[1]);
}

size_t pair_fragment(const uint8_t *in, size_t len, size_t frag, uint8_t *out, size_t cap) {
    size_t o = 0, i = 0;
    while (i + 13 <= len) {
        size_t rlen = (size_t)in[i + 11] << 8 | in[i + 12];
        assert_true(i + 13 + rlen <= len);
        const uint8_t *rec = in + i;
        if (rec[0] != 22 || rlen < 12) {
            assert_true(o + 13 + rlen <= cap);
            memcpy(out + o, rec, 13 + rlen);
            o += 13 + rlen;
            i += 13 + rlen;
            continue;
        }
        const uint8_t *hs = rec + 13;
        size_t mlen = (size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3];
        assert_true(12 + mlen == rlen); /* an unfragmented message */
        for (size_t off = 0; off < mlen; off += frag) {
            size_t n = mlen - off < frag ? mlen - off : frag;
            assert_true(o + 25 + n <= cap);
            memcpy(out + o, rec, 13);
            out[o + 11] = (uint8_t)((12 + n) >> 8);
            out[o + 12] = (uint8_t)(12 + n);
            memcpy(out + o + 13, hs, 6); /* type, length, message_seq */
            uint8_t *f = out + o + 19;
            f[0] = (uint8_t)(off >> 16); f[1] = (uint8_t)(off >> 8); f[2] = (uint8_t)off;
            f[3] = (uint8_t)(n >> 16); f[4] = (uint8_t)(n >> 8); f[5] = (uint8_t)n;
            memcpy(out + o + 25, hs + 12 + off, n);
            o += 25 + n;
        }
        i += 13 + rlen;
    }
    return o;
}

/* Delivers side i's inbox (shuffled if asked); returns how many. */
static size_t deliver(pair *p, int i) {
    pair_side *me = &p->s[i];
    size_t n = me->inbox_n;
    if (n == 0) return 0;
    pair_pkt *batch = malloc(n * sizeof *batch);
    assert_non_null(batch);
    memcpy(batch, me->inbox, n * sizeof *batch);
    me->inbox_n = 0;
    if (p->reorder) {
        for (size_t k = n - 1; k > 0; k--) {
            size_t j = (size_t)(mxrtc_seeded_random_next(&p->net_rng) % (k + 1));
            pair_pkt t = batch[k];
            batch[k] = batch[j];
            batch[j] = t;
        }
    }
    for (size_t k = 0; k < n; k++) {
        if (terminal(me)) break;
        const uint8_t *dg = batch[k].data;
        size_t len = batch[k].len;
        /* A ClientHello (epoch 0 handshake record, type 1) to the server. */
        if (p->fragment_hello && mxrtc_dtls_get_role(me->d) == MXRTC_DTLS_ROLE_SERVER && len > 25 &&
            dg[0] == 22 && dg[3] == 0 && dg[4] == 0 && dg[13] == 1) {
            static uint8_t frags[16384];
            size_t fl = pair_fragment(dg, len, p->fragment_hello, frags, sizeof frags);
            p->hellos_fragmented++;
            for (size_t o = 0; o < fl && !terminal(me);) {
                size_t rl = 13 + ((size_t)frags[o + 11] << 8 | frags[o + 12]);
                int r = mxrtc_dtls_handle_datagram(me->d, p->now, frags + o, rl);
                assert_true(r == MXRTC_OK || r == MXRTC_ERR_MALFORMED);
                pair_drain(p, i);
                o += rl;
            }
            continue;
        }
        int r = mxrtc_dtls_handle_datagram(me->d, p->now, dg, len);
        assert_true(r == MXRTC_OK || r == MXRTC_ERR_MALFORMED);
        pair_drain(p, i);
    }
    free(batch);
    return n;
}

int pair_run(pair *p, mxrtc_time_us limit_us) {
    mxrtc_time_us dl[2];
    dl[0] = pair_drain(p, 0);
    dl[1] = pair_drain(p, 1);
    while (!done(p) && p->now <= limit_us) {
        size_t moved = deliver(p, 0) + deliver(p, 1);
        /* Deadlines after delivery (a datagram may have started a timer). */
        for (int i = 0; i < 2; i++) {
            if (terminal(&p->s[i])) { dl[i] = MXRTC_TIME_NEVER; continue; }
            dl[i] = pair_drain(p, i);
        }
        if (moved) continue;
        if (done(p)) break;
        mxrtc_time_us next = dl[0] < dl[1] ? dl[0] : dl[1];
        if (next == MXRTC_TIME_NEVER) break; /* nothing will ever happen */
        if (next > p->now) p->now = next;
        for (int i = 0; i < 2; i++) {
            if (dl[i] <= p->now && !terminal(&p->s[i])) {
                assert_int_equal(mxrtc_dtls_handle_timeout(p->s[i].d, p->now), MXRTC_OK);
                dl[i] = pair_drain(p, i);
            }
        }
    }
    return p->s[0].connected && p->s[1].connected;
}
