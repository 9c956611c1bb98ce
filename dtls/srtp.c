/*
 * srtp.c: SRTP and SRTCP (RFC 3711) for one transport, over libsrtp2.
 * Packets are protected and unprotected in the caller's buffer; nothing is
 * allocated per packet.
 */
#include <limits.h>
#include <stdatomic.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "base/alloc.h"
#include "dtls/dtls.h"

struct mxrtc_srtp {
    mxrtc_allocator alloc_copy;
    const mxrtc_allocator *alloc;
    mxrtc_srtp_profile profile;
    /* libsrtp2 allows one wildcard-SSRC template per session, so each
     * direction has its own session. */
    srtp_t tx;
    srtp_t rx;
};

/* srtp_init() is not thread-safe and must run once before any session:
 * 0 = not yet, 1 = running, 2 = done, 3 = failed. */
static atomic_int srtp_state = 0;

static int ensure_init(void) {
    int expected = 0;
    if (atomic_compare_exchange_strong(&srtp_state, &expected, 1)) {
        int ok = srtp_init() == srtp_err_status_ok;
        atomic_store(&srtp_state, ok ? 2 : 3);
    }
    int s;
    /* Another thread is initialising: it takes microseconds. */
    while ((s = atomic_load(&srtp_state)) == 1) {}
    return s == 2 ? MXRTC_OK : MXRTC_ERR_CRYPTO;
}

int mxrtc_srtp_library_init(void) {
    return ensure_init();
}

static void set_policy(srtp_policy_t *p, mxrtc_srtp_profile profile, const uint8_t *key, int inbound) {
    memset(p, 0, sizeof *p);
    if (profile == MXRTC_SRTP_AES128_CM_SHA1_32)
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
    else
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
    /* RFC 5764 §4.1.2: SRTCP keeps the 80-bit tag for both profiles. */
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
    p->ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
    p->key = (unsigned char *)key;
    p->window_size = MXRTC_SRTP_REPLAY_WINDOW;
    /* Retransmitting an identical packet (NACK served from the send
     * history) is not a replay on our side. */
    p->allow_repeat_tx = 1;
    p->next = NULL;
}

int mxrtc_srtp_new(mxrtc_srtp **out, const mxrtc_allocator *alloc, mxrtc_srtp_profile profile,
                   const uint8_t *tx_key_salt, const uint8_t *rx_key_salt, size_t key_salt_len) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!tx_key_salt || !rx_key_salt || key_salt_len != MXRTC_SRTP_KEY_SALT_LEN ||
        (profile != MXRTC_SRTP_AES128_CM_SHA1_80 && profile != MXRTC_SRTP_AES128_CM_SHA1_32))
        return MXRTC_ERR_INVALID_ARGUMENT;
    int r = ensure_init();
    if (r != MXRTC_OK) return r;
    mxrtc_srtp *s = mxrtc_calloc(alloc, 1, sizeof *s);
    if (!s) return MXRTC_ERR_NO_MEMORY;
    if (alloc) {
        s->alloc_copy = *alloc;
        s->alloc = &s->alloc_copy;
    }
    s->profile = profile;
    /* libsrtp2 reads the keys during srtp_create only; local copies keep the
     * caller's buffers const. */
    uint8_t txk[MXRTC_SRTP_KEY_SALT_LEN], rxk[MXRTC_SRTP_KEY_SALT_LEN];
    memcpy(txk, tx_key_salt, sizeof txk);
    memcpy(rxk, rx_key_salt, sizeof rxk);
    srtp_policy_t pol[2];
    set_policy(&pol[0], profile, txk, 0);
    set_policy(&pol[1], profile, rxk, 1);
    srtp_err_status_t e = srtp_create(&s->tx, &pol[0]);
    if (e == srtp_err_status_ok) e = srtp_create(&s->rx, &pol[1]);
    mxrtc_wipe(txk, sizeof txk);
    mxrtc_wipe(rxk, sizeof rxk);
    mxrtc_wipe(pol, sizeof pol);
    if (e != srtp_err_status_ok) {
        mxrtc_srtp_free(s);
        return e == srtp_err_status_alloc_fail ? MXRTC_ERR_NO_MEMORY : MXRTC_ERR_CRYPTO;
    }
    *out = s;
    return MXRTC_OK;
}

int mxrtc_srtp_new_from_dtls(mxrtc_srtp **out, const mxrtc_allocator *alloc, const mxrtc_dtls_srtp_keys *keys) {
    if (!keys) return MXRTC_ERR_INVALID_ARGUMENT;
    return mxrtc_srtp_new(out, alloc, keys->profile, keys->local, keys->remote, MXRTC_SRTP_KEY_SALT_LEN);
}

void mxrtc_srtp_free(mxrtc_srtp *s) {
    if (!s) return;
    /* srtp_dealloc zeroizes the session keys it holds. */
    if (s->tx) srtp_dealloc(s->tx);
    if (s->rx) srtp_dealloc(s->rx);
    mxrtc_allocator copy = s->alloc_copy;
    const mxrtc_allocator *a = s->alloc ? &copy : NULL;
    mxrtc_wipe(s, sizeof *s);
    mxrtc_free(a, s);
}

size_t mxrtc_srtp_rtp_overhead(const mxrtc_srtp *s) {
    /* RFC 3711 §4.2 / RFC 5764 §4.1.2: 80- or 32-bit HMAC-SHA1 tag. */
    return (s && s->profile == MXRTC_SRTP_AES128_CM_SHA1_32) ? 4 : 10;
}

size_t mxrtc_srtp_rtcp_overhead(const mxrtc_srtp *s) {
    (void)s;
    /* RFC 3711 §3.4: E flag + 31-bit SRTCP index, then the 80-bit tag. */
    return 4 + 10;
}

static int map_err(srtp_err_status_t e) {
    switch (e) {
    case srtp_err_status_ok:
        return MXRTC_OK;
    case srtp_err_status_auth_fail:
        return MXRTC_ERR_INTEGRITY;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        return MXRTC_ERR_REPLAY;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
    case srtp_err_status_no_ctx:
        return MXRTC_ERR_MALFORMED;
    case srtp_err_status_alloc_fail:
        return MXRTC_ERR_NO_MEMORY;
    default:
        return MXRTC_ERR_CRYPTO;
    }
}

/* RFC 3550 §5.1 / §6.4.1: the smallest RTP header is 12 bytes, the smallest
 * RTCP packet 8 (header + SSRC). libsrtp2 checks further. */
#define RTP_MIN 12
#define RTCP_MIN 8

static int protect(mxrtc_srtp *s, uint8_t *buf, size_t len, size_t cap, size_t *out_len, int rtcp) {
    if (!s || !buf || !out_len) return MXRTC_ERR_INVALID_ARGUMENT;
    *out_len = 0;
    size_t over = rtcp ? mxrtc_srtp_rtcp_overhead(s) : mxrtc_srtp_rtp_overhead(s);
    if (len < (rtcp ? RTCP_MIN : RTP_MIN) || (buf[0] >> 6) != 2) return MXRTC_ERR_MALFORMED;
    if (len > (size_t)INT_MAX - over) return MXRTC_ERR_LIMIT;
    if (cap < len + over) return MXRTC_ERR_BUFFER_TOO_SMALL;
    int n = (int)len;
    srtp_err_status_t e = rtcp ? srtp_protect_rtcp(s->tx, buf, &n) : srtp_protect(s->tx, buf, &n);
    if (e != srtp_err_status_ok) return map_err(e);
    if (n < 0 || (size_t)n > cap) return MXRTC_ERR_INTERNAL;
    *out_len = (size_t)n;
    return MXRTC_OK;
}

static int unprotect(mxrtc_srtp *s, uint8_t *buf, size_t len, size_t *out_len, int rtcp) {
    if (!s || !buf || !out_len) return MXRTC_ERR_INVALID_ARGUMENT;
    *out_len = 0;
    size_t over = rtcp ? mxrtc_srtp_rtcp_overhead(s) : mxrtc_srtp_rtp_overhead(s);
    if (len < (rtcp ? RTCP_MIN : RTP_MIN) + over) return MXRTC_ERR_TRUNCATED;
    if ((buf[0] >> 6) != 2) return MXRTC_ERR_MALFORMED;
    if (len > (size_t)INT_MAX) return MXRTC_ERR_LIMIT;
    int n = (int)len;
    srtp_err_status_t e = rtcp ? srtp_unprotect_rtcp(s->rx, buf, &n) : srtp_unprotect(s->rx, buf, &n);
    if (e != srtp_err_status_ok) return map_err(e);
    if (n < 0 || (size_t)n > len) return MXRTC_ERR_INTERNAL;
    *out_len = (size_t)n;
    return MXRTC_OK;
}

int mxrtc_srtp_protect_rtp(mxrtc_srtp *s, uint8_t *buf, size_t len, size_t cap, size_t *out_len) {
    return protect(s, buf, len, cap, out_len, 0);
}
int mxrtc_srtp_protect_rtcp(mxrtc_srtp *s, uint8_t *buf, size_t len, size_t cap, size_t *out_len) {
    return protect(s, buf, len, cap, out_len, 1);
}
int mxrtc_srtp_unprotect_rtp(mxrtc_srtp *s, uint8_t *buf, size_t len, size_t *out_len) {
    return unprotect(s, buf, len, out_len, 0);
}
int mxrtc_srtp_unprotect_rtcp(mxrtc_srtp *s, uint8_t *buf, size_t len, size_t *out_len) {
    return unprotect(s, buf, len, out_len, 1);
}
