/*
 * endpoint.c: one DTLS 1.2 association (RFC 6347) over mbedTLS, sans-IO,
 * with DTLS-SRTP keying (RFC 5764) and fingerprint authentication
 * (RFC 8122, RFC 5763 §5).
 *
 * mbedTLS's BIO callbacks read the datagram handed to handle_datagram and
 * write into a bounded queue that poll drains; its timer callbacks compare
 * deadlines with the time the caller passed in last.
 */
#include <string.h>

#include <mbedtls/error.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509.h>
#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_PSA_CRYPTO_C)
#include <psa/crypto.h>
#endif

#include "base/alloc.h"
#include "base/log.h"
#include "dtls/cert_internal.h"
#include "dtls/dtls.h"

#define MOD "dtls"

/* Output queue: datagrams and application records up to SLOT_SIZE bytes.
 * Events (connected, failed, closed) take a slot too but always fit: data
 * items may only use the first DATA_SLOTS slots. */
#define SLOT_SIZE 2048
#define NSLOTS 24
#define DATA_SLOTS 20
#define MTU_MIN 256
#define MTU_MAX 1500

/* RFC 5764 §4.2: 2 * (128-bit key + 112-bit salt). */
#define KEYING_LEN (2 * MXRTC_SRTP_KEY_SALT_LEN)
/* RFC 5246 §8.1 */
#define MASTER_LEN 48

enum state { ST_HANDSHAKE, ST_CONNECTED, ST_FAILED, ST_CLOSED };

typedef struct slot {
    mxrtc_dtls_output_type type;
    int error;
    size_t len;
    uint8_t data[SLOT_SIZE];
} slot;

struct mxrtc_dtls {
    mxrtc_allocator alloc_copy;
    const mxrtc_allocator *alloc;
    mxrtc_random random;
    mxrtc_logger logger;
    mxrtc_dtls_role role;
    mxrtc_dtls_fingerprint remote_fp;
    const mxrtc_dtls_cert *cert;
    enum state state;
    mxrtc_time_us now;

    /* mbedTLS timer (RFC 6347 §4.2.4 retransmission), on our clock. */
    int timer_on;
    mxrtc_time_us timer_int, timer_fin;

    /* The datagram being fed, borrowed for one handle_datagram call. */
    const uint8_t *in;
    size_t in_len;

    /* Output queue (ring). */
    slot *slots;
    size_t head, count;
    int drained;      /* poll returned DEADLINE since the last input */
    int released;     /* the slot at head was returned by poll: free it on next call */

    /* Server side: ClientHello reassembly until mbedTLS has its first one. */
    mxrtc_dtls_hello *hello;
    int hello_done;

    /* Fingerprint check (done inside mbedTLS's verify callback). */
    int peer_verified;
    int cert_mismatch;

    /* RFC 5764 §4.2 keying material. */
    int have_master;
    uint8_t master[MASTER_LEN];
    uint8_t randoms[64]; /* client_random ‖ server_random */
    mbedtls_tls_prf_types prf;
    uint8_t keying[KEYING_LEN];
    mxrtc_srtp_profile profile;

    mxrtc_dtls_stats stats;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
};

/* RFC 7525 §4.2 / RFC 8827 §6.5: ECDHE with AEAD first; our own key is
 * ECDSA, the peer's may be RSA (webrtcbin), so the ECDHE_RSA suites are
 * offered as a client too. CBC-SHA suites last for old peers. */
static const int cipher_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    0,
};

/* RFC 5764 §4.1.2: the AES-CM profiles; the NULL ones are never offered. */
static const mbedtls_ssl_srtp_profile srtp_profiles[] = {
    MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80,
    MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_32,
    MBEDTLS_TLS_SRTP_UNSET,
};

void mxrtc_dtls_config_init(mxrtc_dtls_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
    cfg->mtu = 1200;
    cfg->retransmit_min_ms = 1000;
    cfg->retransmit_max_ms = 16000;
}

/* ---- output queue ------------------------------------------------------ */

static slot *push(mxrtc_dtls *d, mxrtc_dtls_output_type type, int is_data) {
    if (d->count >= (is_data ? DATA_SLOTS : NSLOTS)) return NULL;
    slot *s = &d->slots[(d->head + d->count) % NSLOTS];
    d->count++;
    s->type = type;
    s->error = 0;
    s->len = 0;
    d->drained = 0;
    return s;
}

static void push_event(mxrtc_dtls *d, mxrtc_dtls_output_type type, int error) {
    slot *s = push(d, type, 0);
    if (s) s->error = error;
    else d->stats.dropped_outputs++; /* cannot happen: at most 3 events per endpoint */
}

/* Frees the slot a previous poll handed out (its data was valid until now). */
static void release(mxrtc_dtls *d) {
    if (!d->released) return;
    d->released = 0;
    mxrtc_wipe(d->slots[d->head].data, d->slots[d->head].len);
    d->head = (d->head + 1) % NSLOTS;
    d->count--;
}

/* ---- mbedTLS callbacks ------------------------------------------------- */

static int bio_send(void *ctx, const unsigned char *buf, size_t len) {
    mxrtc_dtls *d = ctx;
    slot *s = len <= SLOT_SIZE ? push(d, MXRTC_DTLS_OUT_DATAGRAM, 1) : NULL;
    if (!s) {
        /* Like loss on the wire: the retransmission timer recovers. */
        d->stats.dropped_outputs++;
        MXRTC_LOGD(&d->logger, MOD, "output queue full, dropped a %zu-byte datagram", len);
        return (int)len;
    }
    memcpy(s->data, buf, len);
    s->len = len;
    if (buf[0] != 23) MXRTC_LOGD(&d->logger, MOD, "sent a %zu-byte handshake datagram", len);
    return (int)len;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len) {
    mxrtc_dtls *d = ctx;
    if (!d->in) return MBEDTLS_ERR_SSL_WANT_READ;
    size_t n = d->in_len;
    /* A datagram longer than mbedTLS's buffer is cut; mbedTLS then rejects
     * its last record, like UDP truncation would. */
    if (n > len) n = len;
    memcpy(buf, d->in, n);
    d->in = NULL;
    d->in_len = 0;
    return (int)n;
}

static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms) {
    mxrtc_dtls *d = ctx;
    if (fin_ms == 0) {
        d->timer_on = 0;
        return;
    }
    d->timer_on = 1;
    d->timer_int = d->now + (mxrtc_time_us)int_ms * 1000;
    d->timer_fin = d->now + (mxrtc_time_us)fin_ms * 1000;
}

static int timer_get(void *ctx) {
    mxrtc_dtls *d = ctx;
    if (!d->timer_on) return -1;
    if (d->now >= d->timer_fin) return 2;
    if (d->now >= d->timer_int) return 1;
    return 0;
}

/* RFC 5763 §5 / RFC 8122 §5: the peer's certificate must hash to the
 * fingerprint from its SDP; chains and CAs do not matter. Called for each
 * certificate of the peer's chain, the peer's own at depth 0. */
static int verify_cb(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags) {
    mxrtc_dtls *d = ctx;
    if (depth != 0) {
        *flags = 0;
        return 0;
    }
    mxrtc_dtls_fingerprint fp;
    if (mxrtc_dtls_fingerprint_compute(&fp, d->remote_fp.hash, crt->raw.p, crt->raw.len) != MXRTC_OK ||
        !mxrtc_dtls_fingerprint_equal(&fp, &d->remote_fp)) {
        d->cert_mismatch = 1;
        MXRTC_LOGD(&d->logger, MOD, "the peer's certificate does not match the SDP fingerprint");
        /* Non-zero aborts the handshake with a fatal alert (mbedTLS turns it
         * into MBEDTLS_ERR_X509_FATAL_ERROR, which VERIFY_OPTIONAL does not
         * ignore). */
        return MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
    }
    /* Self-signed and expired are fine: the fingerprint is the trust. */
    *flags = 0;
    d->peer_verified = 1;
    return 0;
}

#if MBEDTLS_VERSION_MAJOR >= 3
static void export_keys(void *ctx, mbedtls_ssl_key_export_type type, const unsigned char *secret,
                        size_t secret_len, const unsigned char client_random[32],
                        const unsigned char server_random[32], mbedtls_tls_prf_types prf) {
    mxrtc_dtls *d = ctx;
    if (type != MBEDTLS_SSL_KEY_EXPORT_TLS12_MASTER_SECRET || secret_len != MASTER_LEN) return;
    memcpy(d->master, secret, MASTER_LEN);
    memcpy(d->randoms, client_random, 32);
    memcpy(d->randoms + 32, server_random, 32);
    d->prf = prf;
    d->have_master = 1;
}
#else
static int export_keys(void *ctx, const unsigned char *ms, const unsigned char *kb, size_t maclen,
                       size_t keylen, size_t ivlen, const unsigned char client_random[32],
                       const unsigned char server_random[32], mbedtls_tls_prf_types prf) {
    (void)kb;
    (void)maclen;
    (void)keylen;
    (void)ivlen;
    mxrtc_dtls *d = ctx;
    /* ms is the master secret (the extended one when EMS was negotiated). */
    memcpy(d->master, ms, MASTER_LEN);
    memcpy(d->randoms, client_random, 32);
    memcpy(d->randoms + 32, server_random, 32);
    d->prf = prf;
    d->have_master = 1;
    return 0;
}
#endif

/* ---- life cycle -------------------------------------------------------- */

static int setup_mbedtls(mxrtc_dtls *d, const mxrtc_dtls_config *cfg) {
    int endpoint = cfg->role == MXRTC_DTLS_ROLE_CLIENT ? MBEDTLS_SSL_IS_CLIENT : MBEDTLS_SSL_IS_SERVER;
    if (mbedtls_ssl_config_defaults(&d->conf, endpoint, MBEDTLS_SSL_TRANSPORT_DATAGRAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0)
        return MXRTC_ERR_TLS;
    mbedtls_ssl_conf_rng(&d->conf, mxrtc_dtls_mbedtls_rng, &d->random);
    /* DTLS 1.2 only (RFC 8827 §6.5 requires at least 1.2). A client offering
     * 1.3 in supported_versions still sends legacy_version 1.2, which is
     * what mbedTLS 2.28 negotiates on; it ignores the extension. */
#if MBEDTLS_VERSION_NUMBER >= 0x03020000
    mbedtls_ssl_conf_min_tls_version(&d->conf, MBEDTLS_SSL_VERSION_TLS1_2);
    mbedtls_ssl_conf_max_tls_version(&d->conf, MBEDTLS_SSL_VERSION_TLS1_2);
#else
    mbedtls_ssl_conf_min_version(&d->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&d->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
    mbedtls_ssl_conf_ciphersuites(&d->conf, cipher_suites);
    /* ECDHE groups, fastest first (RFC 8422 §5.1.1 lets each side order
     * them; the server picks by its own order). mbedTLS 2.28's default puts
     * secp521r1 first: between two mxrtc peers that made every handshake
     * do P-521 ECDHE, about 2.2 ms per key pair or shared secret here
     * against 0.8 ms for X25519 (bench/README.md, section 1). X25519 and
     * P-256 are what browsers and OpenSSL offer first; P-384 and P-521
     * stay for peers that offer nothing else. */
#if MBEDTLS_VERSION_MAJOR >= 3
    static const uint16_t groups[] = {MBEDTLS_SSL_IANA_TLS_GROUP_X25519, MBEDTLS_SSL_IANA_TLS_GROUP_SECP256R1,
                                      MBEDTLS_SSL_IANA_TLS_GROUP_SECP384R1, MBEDTLS_SSL_IANA_TLS_GROUP_SECP521R1,
                                      MBEDTLS_SSL_IANA_TLS_GROUP_NONE};
    mbedtls_ssl_conf_groups(&d->conf, groups);
#else
    static const mbedtls_ecp_group_id groups[] = {MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
                                                  MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_SECP521R1,
                                                  MBEDTLS_ECP_DP_NONE};
    mbedtls_ssl_conf_curves(&d->conf, groups);
#endif
    /* RFC 7627: Extended Master Secret, offered and accepted. */
    mbedtls_ssl_conf_extended_master_secret(&d->conf, MBEDTLS_SSL_EXTENDED_MS_ENABLED);
    /* Both sides present a certificate (RFC 5763 §5: the server requests
     * one). OPTIONAL because there is no CA: verify_cb does the real check,
     * and a peer that sends none fails after the handshake. */
    mbedtls_ssl_conf_authmode(&d->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
    mbedtls_ssl_conf_verify(&d->conf, verify_cb, d);
    if (mbedtls_ssl_conf_own_cert(&d->conf, (mbedtls_x509_crt *)&d->cert->crt,
                                  (mbedtls_pk_context *)&d->cert->key) != 0)
        return MXRTC_ERR_TLS;
    mbedtls_ssl_conf_handshake_timeout(&d->conf, cfg->retransmit_min_ms, cfg->retransmit_max_ms);
    /* No renegotiation in WebRTC (RFC 8827 §6.5 leaves it out; it would
     * re-key SRTP behind our back). */
    mbedtls_ssl_conf_renegotiation(&d->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#if defined(MBEDTLS_SSL_DTLS_HELLO_VERIFY) && defined(MBEDTLS_SSL_SRV_C)
    /* No HelloVerifyRequest: ICE connectivity checks (and consent, RFC 7675)
     * already proved the client's address, which is what the cookie is for
     * (RFC 6347 §4.2.1); libwebrtc's servers skip it as well. It also keeps
     * the ClientHello we reassemble at message_seq 0. */
    mbedtls_ssl_conf_dtls_cookies(&d->conf, NULL, NULL, NULL);
#endif
    if (mbedtls_ssl_conf_dtls_srtp_protection_profiles(&d->conf, srtp_profiles) != 0) return MXRTC_ERR_TLS;
    mbedtls_ssl_conf_srtp_mki_value_supported(&d->conf, MBEDTLS_SSL_DTLS_SRTP_MKI_UNSUPPORTED);
#if MBEDTLS_VERSION_MAJOR < 3
    mbedtls_ssl_conf_export_keys_ext_cb(&d->conf, export_keys, d);
#endif
    int r = mbedtls_ssl_setup(&d->ssl, &d->conf);
    if (r == MBEDTLS_ERR_SSL_ALLOC_FAILED) return MXRTC_ERR_NO_MEMORY;
    if (r != 0) return MXRTC_ERR_TLS;
#if MBEDTLS_VERSION_MAJOR >= 3
    mbedtls_ssl_set_export_keys_cb(&d->ssl, export_keys, d);
#endif
    mbedtls_ssl_set_bio(&d->ssl, d, bio_send, bio_recv, NULL);
    mbedtls_ssl_set_timer_cb(&d->ssl, d, timer_set, timer_get);
    mbedtls_ssl_set_mtu(&d->ssl, (uint16_t)cfg->mtu);
    return MXRTC_OK;
}

static void fail(mxrtc_dtls *d, int error, int mbed) {
    if (d->state == ST_FAILED || d->state == ST_CLOSED) return;
    d->state = ST_FAILED;
    d->timer_on = 0;
    MXRTC_LOGI(&d->logger, MOD, "DTLS failed: %s (mbedTLS -0x%04x)", mxrtc_strerror(error),
               (unsigned)-mbed);
    push_event(d, MXRTC_DTLS_OUT_FAILED, error);
}

static int map_error(const mxrtc_dtls *d, int mbed) {
    if (d->cert_mismatch) return MXRTC_ERR_CERTIFICATE;
    switch (mbed) {
    case MBEDTLS_ERR_SSL_TIMEOUT:
        return MXRTC_ERR_TIMEOUT;
    case MBEDTLS_ERR_SSL_ALLOC_FAILED:
        return MXRTC_ERR_NO_MEMORY;
    case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
    case MBEDTLS_ERR_X509_FATAL_ERROR:
        return MXRTC_ERR_CERTIFICATE;
    default:
        return MXRTC_ERR_TLS;
    }
}

/* RFC 5764 §4.2: keying material = PRF(master, "EXTRACTOR-dtls_srtp",
 * client_random ‖ server_random), 60 bytes, laid out as client key, server
 * key, client salt, server salt. */
static int derive_keys(mxrtc_dtls *d) {
    static const char label[] = "EXTRACTOR-dtls_srtp";
    if (!d->have_master) return MXRTC_ERR_INTERNAL;
    int r = mbedtls_ssl_tls_prf(d->prf, d->master, MASTER_LEN, label, d->randoms, sizeof d->randoms,
                                d->keying, KEYING_LEN);
    mxrtc_wipe(d->master, sizeof d->master);
    d->have_master = 0;
    return r == 0 ? MXRTC_OK : MXRTC_ERR_CRYPTO;
}

static void on_handshake_done(mxrtc_dtls *d) {
    /* The verify callback ran only if the peer sent a certificate. */
    if (!d->peer_verified) {
        d->cert_mismatch = 1;
        fail(d, MXRTC_ERR_CERTIFICATE, 0);
        return;
    }
    mbedtls_dtls_srtp_info info;
    mbedtls_ssl_get_dtls_srtp_negotiation_result(&d->ssl, &info);
#if MBEDTLS_VERSION_MAJOR >= 3
    /* 3.x marks the field private and has no getter; its own sample
     * programs read it this way. */
    mbedtls_ssl_srtp_profile chosen = info.MBEDTLS_PRIVATE(chosen_dtls_srtp_profile);
#else
    mbedtls_ssl_srtp_profile chosen = info.chosen_dtls_srtp_profile;
#endif
    if (chosen == MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_80)
        d->profile = MXRTC_SRTP_AES128_CM_SHA1_80;
    else if (chosen == MBEDTLS_TLS_SRTP_AES128_CM_HMAC_SHA1_32)
        d->profile = MXRTC_SRTP_AES128_CM_SHA1_32;
    else {
        /* RFC 8827 §6.5: WebRTC media needs DTLS-SRTP; a peer without
         * use_srtp is not a WebRTC peer. */
        MXRTC_LOGI(&d->logger, MOD, "peer negotiated no SRTP profile");
        fail(d, MXRTC_ERR_TLS, 0);
        return;
    }
    int r = derive_keys(d);
    if (r != MXRTC_OK) {
        fail(d, r, 0);
        return;
    }
    d->state = ST_CONNECTED;
    MXRTC_LOGI(&d->logger, MOD, "DTLS connected as %s, %s, SRTP profile %d",
               d->role == MXRTC_DTLS_ROLE_CLIENT ? "client" : "server",
               mbedtls_ssl_get_ciphersuite(&d->ssl), (int)d->profile);
    slot *s = push(d, MXRTC_DTLS_OUT_CONNECTED, 0);
    if (!s) d->stats.dropped_outputs++;
}

static void read_app(mxrtc_dtls *d) {
    for (int guard = 0; guard < 64 && d->state == ST_CONNECTED; guard++) {
        uint8_t buf[SLOT_SIZE];
        int r = mbedtls_ssl_read(&d->ssl, buf, sizeof buf);
        if (r > 0) {
            if (mbedtls_ssl_get_bytes_avail(&d->ssl) > 0) {
                /* A record larger than our slots: drop the rest of it. */
                while (mbedtls_ssl_get_bytes_avail(&d->ssl) > 0 &&
                       mbedtls_ssl_read(&d->ssl, buf, sizeof buf) > 0) {}
                d->stats.dropped_inputs++;
                continue;
            }
            slot *s = push(d, MXRTC_DTLS_OUT_APP_DATA, 1);
            if (!s) {
                d->stats.dropped_inputs++;
                continue;
            }
            memcpy(s->data, buf, (size_t)r);
            s->len = (size_t)r;
            mxrtc_wipe(buf, (size_t)r);
            continue;
        }
        mxrtc_wipe(buf, sizeof buf);
        if (r == 0 || r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE ||
            r == MBEDTLS_ERR_SSL_TIMEOUT)
            return;
        if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            d->state = ST_CLOSED;
            push_event(d, MXRTC_DTLS_OUT_CLOSED, 0);
            return;
        }
        fail(d, map_error(d, r), r);
        return;
    }
}

/* Runs mbedTLS until it wants more input. */
static void drive(mxrtc_dtls *d) {
    if (d->state == ST_HANDSHAKE) {
        int r = mbedtls_ssl_handshake(&d->ssl);
        if (r == 0) on_handshake_done(d);
        else if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
            fail(d, map_error(d, r), r);
    }
    /* Records after the Finished in the same datagram, or later ones. */
    if (d->state == ST_CONNECTED) read_app(d);
}

int mxrtc_dtls_new(mxrtc_dtls **out, const mxrtc_dtls_config *cfg, mxrtc_time_us now) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!cfg || cfg->size < sizeof *cfg || !cfg->cert ||
        (cfg->role != MXRTC_DTLS_ROLE_CLIENT && cfg->role != MXRTC_DTLS_ROLE_SERVER) ||
        cfg->mtu < MTU_MIN || cfg->mtu > MTU_MAX || cfg->remote_fingerprint.hash == 0 ||
        cfg->retransmit_min_ms == 0 || cfg->retransmit_max_ms < cfg->retransmit_min_ms)
        return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_dtls_fingerprint check;
    if (mxrtc_dtls_fingerprint_compute(&check, cfg->remote_fingerprint.hash, NULL, 0) != MXRTC_OK ||
        check.len != cfg->remote_fingerprint.len)
        return MXRTC_ERR_INVALID_ARGUMENT;

#if MBEDTLS_VERSION_MAJOR >= 3 && defined(MBEDTLS_PSA_CRYPTO_C)
    /* mbedTLS 3 routes some TLS crypto through PSA; psa_crypto_init is
     * idempotent and thread-safe after its first success. */
    if (psa_crypto_init() != PSA_SUCCESS) return MXRTC_ERR_CRYPTO;
#endif
    mxrtc_dtls *d = mxrtc_calloc(cfg->allocator, 1, sizeof *d);
    if (!d) return MXRTC_ERR_NO_MEMORY;
    if (cfg->allocator) {
        d->alloc_copy = *cfg->allocator;
        d->alloc = &d->alloc_copy;
    }
    d->random = cfg->random.fn ? cfg->random : mxrtc_random_os();
    d->logger = cfg->logger;
    d->role = cfg->role;
    d->remote_fp = cfg->remote_fingerprint;
    d->cert = cfg->cert;
    d->now = now;
    d->state = ST_HANDSHAKE;
    mbedtls_ssl_config_init(&d->conf);
    mbedtls_ssl_init(&d->ssl);
    int r = MXRTC_ERR_NO_MEMORY;
    d->slots = mxrtc_calloc(d->alloc, NSLOTS, sizeof *d->slots);
    if (!d->slots) goto fail;
    if (d->role == MXRTC_DTLS_ROLE_SERVER) {
        d->hello = mxrtc_malloc(d->alloc, sizeof *d->hello);
        if (!d->hello) goto fail;
        mxrtc_dtls_hello_init(d->hello);
    }
    r = setup_mbedtls(d, cfg);
    if (r != MXRTC_OK) goto fail;
    /* A client writes its ClientHello now; a server waits (WANT_READ). */
    if (d->role == MXRTC_DTLS_ROLE_CLIENT) drive(d);
    if (d->state == ST_FAILED) {
        r = d->slots[(d->head + d->count - 1) % NSLOTS].error;
        goto fail;
    }
    d->drained = d->count == 0;
    *out = d;
    return MXRTC_OK;
fail:
    mxrtc_dtls_free(d);
    return r;
}

void mxrtc_dtls_free(mxrtc_dtls *d) {
    if (!d) return;
    mbedtls_ssl_free(&d->ssl);
    mbedtls_ssl_config_free(&d->conf);
    mxrtc_allocator copy = d->alloc_copy;
    const mxrtc_allocator *a = d->alloc ? &copy : NULL;
    if (d->slots) {
        mxrtc_wipe(d->slots, NSLOTS * sizeof *d->slots);
        mxrtc_free(a, d->slots);
    }
    if (d->hello) {
        mxrtc_wipe(d->hello, sizeof *d->hello);
        mxrtc_free(a, d->hello);
    }
    mxrtc_wipe(d, sizeof *d);
    mxrtc_free(a, d);
}

/* ---- inputs ------------------------------------------------------------ */

static int enter(mxrtc_dtls *d, mxrtc_time_us now) {
    if (!d) return MXRTC_ERR_INVALID_ARGUMENT;
    release(d);
    /* The drain rule (DESIGN.md): poll until DEADLINE after every input. */
    if (!d->drained) return MXRTC_ERR_STATE;
    if (now > d->now) d->now = now;
    return MXRTC_OK;
}

int mxrtc_dtls_handle_datagram(mxrtc_dtls *d, mxrtc_time_us now, const uint8_t *data, size_t len) {
    int r = enter(d, now);
    if (r != MXRTC_OK) return r;
    if (d->state == ST_FAILED || d->state == ST_CLOSED) return MXRTC_ERR_STATE;
    /* RFC 7983 §7: DTLS records start with a content type in 20..63. */
    if (!data || len < MXRTC_DTLS_RECORD_HEADER || data[0] < 20 || data[0] > 63) {
        d->stats.dropped_inputs++;
        return MXRTC_ERR_MALFORMED;
    }
    if (d->role == MXRTC_DTLS_ROLE_SERVER && !d->hello_done) {
        const uint8_t *whole;
        size_t whole_len;
        r = mxrtc_dtls_hello_feed(d->hello, data, len, &whole, &whole_len);
        if (r == MXRTC_ERR_AGAIN) return MXRTC_OK; /* more fragments to come */
        if (r != MXRTC_OK) {
            /* Before the first ClientHello nothing else is valid; mbedTLS
             * would abort on it, so stray datagrams are dropped here. */
            d->stats.dropped_inputs++;
            return r;
        }
        if (d->hello->fragments > 1) d->stats.hello_reassembled++;
        d->hello_done = 1;
        MXRTC_LOGD(&d->logger, MOD, "ClientHello of %u bytes complete (%u fragments)", (unsigned)d->hello->length,
                   (unsigned)d->hello->fragments);
        data = whole;
        len = whole_len;
    }
    d->in = data;
    d->in_len = len;
    if (data[0] != 23) MXRTC_LOGD(&d->logger, MOD, "got a %zu-byte handshake datagram", len);
    /* mbedTLS may first serve an expired timer (retransmit) and only then
     * read; run it until it has taken the datagram. */
    for (int i = 0; i < 3 && d->in && (d->state == ST_HANDSHAKE || d->state == ST_CONNECTED); i++) drive(d);
    d->in = NULL;
    d->in_len = 0;
    if (d->hello_done && d->hello) {
        /* mbedTLS has copied the rebuilt ClientHello: the 17 KB buffer is
         * not needed any more. */
        mxrtc_wipe(d->hello, sizeof *d->hello);
        mxrtc_free(d->alloc, d->hello);
        d->hello = NULL;
    }
    return MXRTC_OK;
}

int mxrtc_dtls_handle_timeout(mxrtc_dtls *d, mxrtc_time_us now) {
    int r = enter(d, now);
    if (r != MXRTC_OK) return r;
    if (d->state == ST_FAILED || d->state == ST_CLOSED) return MXRTC_ERR_STATE;
    if (d->state == ST_HANDSHAKE && d->timer_on && d->now >= d->timer_fin) drive(d);
    return MXRTC_OK;
}

int mxrtc_dtls_poll(mxrtc_dtls *d, mxrtc_time_us now, mxrtc_dtls_output *out) {
    if (!d || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    release(d);
    if (now > d->now) d->now = now;
    memset(out, 0, sizeof *out);
    if (d->count > 0) {
        slot *s = &d->slots[d->head];
        out->type = s->type;
        out->error = s->error;
        if (s->type == MXRTC_DTLS_OUT_DATAGRAM || s->type == MXRTC_DTLS_OUT_APP_DATA) {
            out->data = s->data;
            out->len = s->len;
        }
        if (s->type == MXRTC_DTLS_OUT_CONNECTED) out->profile = d->profile;
        d->released = 1;
        return MXRTC_OK;
    }
    out->type = MXRTC_DTLS_OUT_DEADLINE;
    out->deadline = (d->state == ST_HANDSHAKE && d->timer_on) ? d->timer_fin : MXRTC_TIME_NEVER;
    /* A server waiting for its ClientHello has no timer; neither has an
     * idle association (consent freshness, RFC 7675, is ICE's job). */
    d->drained = 1;
    return MXRTC_OK;
}

int mxrtc_dtls_send(mxrtc_dtls *d, mxrtc_time_us now, const uint8_t *data, size_t len) {
    int r = enter(d, now);
    if (r != MXRTC_OK) return r;
    if (d->state != ST_CONNECTED) return MXRTC_ERR_STATE;
    if (!data || len == 0) return MXRTC_ERR_INVALID_ARGUMENT;
    int max = mbedtls_ssl_get_max_out_record_payload(&d->ssl);
    if (max < 0 || len > (size_t)max || len > SLOT_SIZE) return MXRTC_ERR_LIMIT;
    int w = mbedtls_ssl_write(&d->ssl, data, len);
    if (w == (int)len) return MXRTC_OK;
    if (w >= 0) return MXRTC_ERR_INTERNAL; /* checked above: one record holds it */
    fail(d, map_error(d, w), w);
    return MXRTC_OK;
}

int mxrtc_dtls_close(mxrtc_dtls *d, mxrtc_time_us now) {
    int r = enter(d, now);
    if (r != MXRTC_OK) return r;
    if (d->state == ST_CONNECTED) {
        /* RFC 5246 §7.2.1: close_notify; a lost one is harmless (the
         * peer's consent checks end the session anyway). */
        (void)mbedtls_ssl_close_notify(&d->ssl);
    }
    if (d->state != ST_FAILED) d->state = ST_CLOSED;
    d->timer_on = 0;
    return MXRTC_OK;
}

int mxrtc_dtls_get_srtp_keys(const mxrtc_dtls *d, mxrtc_dtls_srtp_keys *keys) {
    if (!d || !keys) return MXRTC_ERR_INVALID_ARGUMENT;
    if (d->profile == MXRTC_SRTP_NONE || (d->state != ST_CONNECTED && d->state != ST_CLOSED))
        return MXRTC_ERR_STATE;
    const uint8_t *ckey = d->keying, *skey = d->keying + MXRTC_SRTP_KEY_LEN;
    const uint8_t *csalt = d->keying + 2 * MXRTC_SRTP_KEY_LEN;
    const uint8_t *ssalt = csalt + MXRTC_SRTP_SALT_LEN;
    int client = d->role == MXRTC_DTLS_ROLE_CLIENT;
    keys->profile = d->profile;
    memcpy(keys->local, client ? ckey : skey, MXRTC_SRTP_KEY_LEN);
    memcpy(keys->local + MXRTC_SRTP_KEY_LEN, client ? csalt : ssalt, MXRTC_SRTP_SALT_LEN);
    memcpy(keys->remote, client ? skey : ckey, MXRTC_SRTP_KEY_LEN);
    memcpy(keys->remote + MXRTC_SRTP_KEY_LEN, client ? ssalt : csalt, MXRTC_SRTP_SALT_LEN);
    return MXRTC_OK;
}

mxrtc_dtls_role mxrtc_dtls_get_role(const mxrtc_dtls *d) { return d ? d->role : 0; }

void mxrtc_dtls_get_stats(const mxrtc_dtls *d, mxrtc_dtls_stats *st) {
    if (!d || !st) return;
    *st = d->stats;
}
