/*
 * calls_route.c: which call a datagram belongs to, when every call's peer
 * shares the host's sockets and datagrams carry no call id.
 *
 * Rules, in order:
 *  1. A STUN binding request (RFC 8489 §5) with a USERNAME: RFC 8445
 *     §7.2.2 makes it "<receiver's ufrag>:<sender's ufrag>", so its first
 *     part names the ICE agent it is for. After an ICE restart the old and
 *     the new ufrag are both ours (mxrtc_ice_agent_has_local_ufrag).
 *  2. Any other STUN message (responses to our checks, to our STUN/TURN
 *     requests, TURN Data indications): every call whose ICE agent knows
 *     the source address (a remote candidate, or one of its STUN/TURN
 *     servers). Several calls may talk to the same STUN server; a response
 *     whose transaction is not a call's is dropped by that call harmlessly,
 *     so each of them gets it.
 *  3. Everything else (DTLS, SRTP/SRTCP, TURN ChannelData; RFC 7983): the
 *     call that knows the source best (its selected pair, then a remote
 *     candidate, then a TURN server through which it relays).
 *  4. Nothing claimed it, and exactly one call is alive: that call (it
 *     counts and drops what is not its own).
 *  5. Besides (mxrtc_calls_route_closing): STUN and ChannelData from a TURN
 *     server also go to every ended call still releasing its allocations
 *     there (RFC 8656 §7.2: the Refresh with LIFETIME 0 and its answer, and
 *     a 437/438 retry), whatever rules 1-4 chose: the live call's shortcut
 *     must not starve them, and each drops what is not its own.
 */
#include <string.h>

#include "matrix/calls_internal.h"
#include "peer/peer.h"

static size_t live_peers(mxrtc_calls *c, mxrtc_peer_adapter **out) {
    size_t n = 0;
    for (size_t k = 0; k < MXRTC_PA_MAX_PEERS; k++) {
        mxrtc_peer_adapter *a = mxrtc_peer_adapter_at(c->pf, k);
        if (a && !mxrtc_peer_adapter_closed(a)) out[n++] = a;
    }
    return n;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Several calls know the source: two calls between the same two hosts
 * share their 5-tuples. RFC 7983 §7: 128..191 is RTP/RTCP, whose SSRCs
 * are in clear even under SRTP (RFC 3711 §3.1, §3.4): the call that knows
 * the SSRC (RFC 3550 §6.4.1: an RTCP packet's sender SSRC at offset 4, its
 * first report block's source at 8; RTP's SSRC at 8). 20..63 is DTLS: a
 * handshake in progress takes it before a call already keyed. Otherwise
 * the best-known address. */
static mxrtc_peer_adapter *pick(mxrtc_peer_adapter **cand, const int *rank, size_t nc, int best,
                                const uint8_t *data, size_t len) {
    if (len >= 12 && data[0] >= 128 && data[0] <= 191) {
        bool rtcp = data[1] >= 192 && data[1] <= 223;   /* RFC 5761 §4 */
        uint32_t a = rtcp ? be32(data + 4) : be32(data + 8), b = rtcp ? be32(data + 8) : 0;
        for (size_t i = 0; i < nc; i++)
            if (mxrtc_peer_knows_ssrc(mxrtc_peer_adapter_peer(cand[i]), a)) return cand[i];
        for (size_t i = 0; i < nc && b; i++)
            if (mxrtc_peer_knows_ssrc(mxrtc_peer_adapter_peer(cand[i]), b)) return cand[i];
    } else if (len && data[0] >= 20 && data[0] <= 63) {
        for (size_t i = 0; i < nc; i++)
            if (!mxrtc_peer_dtls_connected(mxrtc_peer_adapter_peer(cand[i]))) return cand[i];
    }
    for (size_t i = 0; i < nc; i++)
        if (rank[i] == best) return cand[i];
    return cand[0];
}

size_t mxrtc_calls_route(mxrtc_calls *c, const mxrtc_addr *remote, const uint8_t *data, size_t len,
                         mxrtc_peer_adapter **targets) {
    mxrtc_peer_adapter *live[MXRTC_PA_MAX_PEERS];
    size_t nlive = live_peers(c, live), n = 0;
    if (nlive == 0) return 0;
    /* One call: every rule below ends with it (rule 4); skip the work on
     * the per-packet path. */
    if (nlive == 1) {
        targets[0] = live[0];
        return 1;
    }

    bool stun = false;
    if (mxrtc_stun_is_message(data, len)) {
        int rc = mxrtc_stun_decode(&c->stun, data, len);
        /* An unknown comprehension-required attribute still leaves a full
         * message: ICE answers such a request with 420 (RFC 8489 §6.3.1). */
        stun = rc == MXRTC_OK || rc == MXRTC_ERR_UNKNOWN_ATTRIBUTE;
    }
    if (stun && c->stun.cls == MXRTC_STUN_REQUEST && c->stun.method == MXRTC_STUN_BINDING) {
        const char *user = NULL;
        size_t ulen = 0;
        if (mxrtc_stun_get_text(&c->stun, MXRTC_STUN_ATTR_USERNAME, &user, &ulen) == MXRTC_OK) {
            const char *colon = memchr(user, ':', ulen);
            size_t flen = colon ? (size_t)(colon - user) : ulen;
            for (size_t i = 0; i < nlive; i++)
                if (mxrtc_peer_has_local_ufrag(mxrtc_peer_adapter_peer(live[i]), user, flen)) {
                    targets[0] = live[i];
                    return 1;
                }
        }
    } else if (stun) {
        for (size_t i = 0; i < nlive; i++)
            if (mxrtc_peer_remote_rank(mxrtc_peer_adapter_peer(live[i]), remote) > 0) targets[n++] = live[i];
        if (n) return n;
    } else {
        /* A STUN server only answers STUN. */
        mxrtc_peer_adapter *cand[MXRTC_PA_MAX_PEERS];
        int rank[MXRTC_PA_MAX_PEERS], best = 0;
        size_t nc = 0;
        for (size_t i = 0; i < nlive; i++) {
            int r = mxrtc_peer_remote_rank(mxrtc_peer_adapter_peer(live[i]), remote);
            if (r > 1) {
                cand[nc] = live[i];
                rank[nc++] = r;
                if (r > best) best = r;
            }
        }
        if (nc == 1) {
            targets[0] = cand[0];
            return 1;
        }
        if (nc > 1) {
            targets[0] = pick(cand, rank, nc, best, data, len);
            return 1;
        }
    }
    if (nlive == 1) {
        targets[0] = live[0];
        return 1;
    }
    return 0;
}

size_t mxrtc_calls_route_closing(mxrtc_calls *c, const mxrtc_addr *remote, const uint8_t *data, size_t len,
                                 mxrtc_peer_adapter **targets, size_t n) {
    /* RFC 7983 §7: 0..3 STUN, 64..79 TURN ChannelData (RFC 8656 §12). */
    if (!len || !(data[0] <= 3 || (data[0] >= 64 && data[0] <= 79))) return n;
    for (size_t k = 0; k < MXRTC_PA_MAX_PEERS; k++) {
        mxrtc_peer_adapter *a = mxrtc_peer_adapter_at(c->pf, k);
        if (!a || !mxrtc_peer_adapter_closed(a) ||
            !mxrtc_peer_tearing_down_with(mxrtc_peer_adapter_peer(a), remote))
            continue;
        bool dup = false;
        for (size_t i = 0; i < n; i++) dup = dup || targets[i] == a;
        if (!dup) targets[n++] = a;
    }
    return n;
}
