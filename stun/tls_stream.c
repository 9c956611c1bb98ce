/*
 * tls_stream.c: sans-IO TLS client over a caller-owned TCP connection, for
 * turns: (RFC 8656 §3.1), on mbedTLS 2.28 (and 3.x, see the version guards).
 *
 * mbedTLS talks to "the network" through the BIO callbacks set with
 * mbedtls_ssl_set_bio(): here they read from and write to bounded buffers in
 * this object, and return WANT_READ / WANT_WRITE when those are empty / full,
 * which mbedTLS treats as "try again later" and resumes from exactly there.
 */
#include "stun/tls_stream.h"

#include <string.h>

#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/version.h>
#if defined(MBEDTLS_ERROR_C)
#include <mbedtls/error.h>
#endif
#if MBEDTLS_VERSION_NUMBER >= 0x03000000 && \
    (defined(MBEDTLS_USE_PSA_CRYPTO) || defined(MBEDTLS_SSL_PROTO_TLS1_3))
#include <psa/crypto.h>
#define MXRTC_TLS_NEEDS_PSA 1
#endif

#include "base/alloc.h"
#include "base/log.h"
#include "base/random.h"

#define TAG "tls"

struct mxrtc_tls_stream {
    mxrtc_allocator alloc_copy;
    const mxrtc_allocator *alloc;   /* &alloc_copy, or NULL for libc */
    mxrtc_random random;
    mxrtc_logger logger;
    char *server_name;

    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;

    int established;
    int err;            /* sticky error, 0 while healthy */
    int rng_failed;     /* the injected random source failed: report CRYPTO */
    int closed_local;   /* _close was called */
    int close_pending;  /* close_notify still to be written */
    int peer_closed;    /* close_notify received */
    int eof;            /* the TCP connection ended */

    /* Received ciphertext, [in_pos, in_len). */
    size_t in_pos, in_len;
    /* Decrypted plaintext for _read, [plain_pos, plain_len). */
    size_t plain_pos, plain_len;
    /* Plaintext queued by _write. wq_inflight: length of an mbedtls_ssl_write
     * that returned WANT_WRITE; it must be repeated with the same length. */
    size_t wq_len, wq_inflight;
    /* Ciphertext for _pending_output, [0, out_len). */
    size_t out_len;

    uint8_t in[MXRTC_TLS_STREAM_IN_MAX];
    uint8_t plain[MXRTC_TLS_STREAM_PLAIN_MAX];
    uint8_t wq[MXRTC_TLS_STREAM_WRITE_MAX];
    uint8_t out[MXRTC_TLS_STREAM_OUT_MAX];
};

void mxrtc_tls_stream_config_init(mxrtc_tls_stream_config *cfg) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
}

/* mbedTLS's f_rng over the injected mxrtc_random (0 = success). */
static int tls_rng(void *user, unsigned char *buf, size_t len) {
    mxrtc_tls_stream *s = user;
    if (mxrtc_random_fill(&s->random, buf, len) != MXRTC_OK) {
        s->rng_failed = 1;
        return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    }
    return 0;
}

/* BIO send: append to the outgoing ciphertext buffer. */
static int bio_send(void *user, const unsigned char *buf, size_t len) {
    mxrtc_tls_stream *s = user;
    size_t space = sizeof s->out - s->out_len;
    if (space == 0) return MBEDTLS_ERR_SSL_WANT_WRITE;
    size_t n = len < space ? len : space;
    memcpy(s->out + s->out_len, buf, n);
    s->out_len += n;
    return (int)n;
}

/* BIO recv: take from the received ciphertext buffer. Never returns 0 (which
 * would mean EOF to mbedTLS): EOF comes through _handle_eof. */
static int bio_recv(void *user, unsigned char *buf, size_t len) {
    mxrtc_tls_stream *s = user;
    size_t avail = s->in_len - s->in_pos;
    if (avail == 0) return MBEDTLS_ERR_SSL_WANT_READ;
    size_t n = len < avail ? len : avail;
    memcpy(buf, s->in + s->in_pos, n);
    s->in_pos += n;
    if (s->in_pos == s->in_len) s->in_pos = s->in_len = 0;
    return (int)n;
}

static void log_mbedtls(mxrtc_tls_stream *s, const char *what, int r) {
    if (!mxrtc_log_enabled(&s->logger, MXRTC_LOG_DEBUG)) return;
#if defined(MBEDTLS_ERROR_C)
    char msg[160];
    mbedtls_strerror(r, msg, sizeof msg);
    MXRTC_LOGD(&s->logger, TAG, "%s: -0x%04x %s", what, (unsigned)-r, msg);
#else
    MXRTC_LOGD(&s->logger, TAG, "%s: -0x%04x", what, (unsigned)-r);
#endif
}

/* Maps an mbedTLS failure to our code and makes it sticky. */
static int fail(mxrtc_tls_stream *s, const char *what, int r) {
    int e;
    if (s->rng_failed) {
        e = MXRTC_ERR_CRYPTO;
    } else if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        e = MXRTC_ERR_CERTIFICATE;
        if (mxrtc_log_enabled(&s->logger, MXRTC_LOG_DEBUG)) {
            char info[256];
            int n = mbedtls_x509_crt_verify_info(info, sizeof info, "",
                                                 mbedtls_ssl_get_verify_result(&s->ssl));
            if (n > 0) MXRTC_LOGD(&s->logger, TAG, "certificate rejected: %s", info);
        }
    } else if (r == MBEDTLS_ERR_SSL_ALLOC_FAILED) {
        e = MXRTC_ERR_NO_MEMORY;
    } else {
        /* Alerts (MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE), garbage records,
         * handshake failures: all TLS protocol failures. */
        e = MXRTC_ERR_TLS;
    }
    log_mbedtls(s, what, r);
    s->err = e;
    s->established = 0;
    return e;
}

static int is_retry(int r) {
    return r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE;
}

/* Advances the handshake, flushes queued plaintext, decrypts what arrived. */
static int pump(mxrtc_tls_stream *s) {
    if (s->err) return s->err;
    if (!s->established) {
        if (s->closed_local) return MXRTC_OK;   /* closed before it was up */
        int r = mbedtls_ssl_handshake(&s->ssl);
        if (is_retry(r)) return MXRTC_OK;
        if (r != 0) return fail(s, "handshake", r);
        s->established = 1;
        MXRTC_LOGD(&s->logger, TAG, "handshake done: %s, %s", mbedtls_ssl_get_version(&s->ssl),
                   mbedtls_ssl_get_ciphersuite(&s->ssl));
    }

    while (s->wq_len > 0) {
        size_t n = s->wq_inflight ? s->wq_inflight : s->wq_len;
        int r = mbedtls_ssl_write(&s->ssl, s->wq, n);
        if (r > 0) {
            size_t done = (size_t)r;
            memmove(s->wq, s->wq + done, s->wq_len - done);
            s->wq_len -= done;
            s->wq_inflight = 0;
        } else if (is_retry(r)) {
            s->wq_inflight = n;
            break;
        } else {
            return fail(s, "write", r);
        }
    }
    if (s->close_pending && s->wq_len == 0) {
        int r = mbedtls_ssl_close_notify(&s->ssl);
        if (r == 0) s->close_pending = 0;
        else if (!is_retry(r)) return fail(s, "close_notify", r);
    }

    while (!s->peer_closed) {
        if (s->plain_pos > 0) {
            memmove(s->plain, s->plain + s->plain_pos, s->plain_len - s->plain_pos);
            s->plain_len -= s->plain_pos;
            s->plain_pos = 0;
        }
        size_t space = sizeof s->plain - s->plain_len;
        if (space == 0) break;
        int r = mbedtls_ssl_read(&s->ssl, s->plain + s->plain_len, space);
        if (r > 0) {
            s->plain_len += (size_t)r;
            continue;
        }
        if (is_retry(r) || r == 0) break;  /* 0: only on a BIO EOF, which ours never reports */
        if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            MXRTC_LOGD(&s->logger, TAG, "peer sent close_notify");
            s->peer_closed = 1;
            break;
        }
#if defined(MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
        /* mbedTLS 3.x with TLS 1.3: a NewSessionTicket is not an error. */
        if (r == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET) continue;
#endif
        return fail(s, "read", r);
    }
    return MXRTC_OK;
}

static void destroy(mxrtc_tls_stream *s) {
    mbedtls_ssl_free(&s->ssl);
    mbedtls_ssl_config_free(&s->conf);
    mbedtls_x509_crt_free(&s->ca);
    if (s->server_name) mxrtc_free(s->alloc, s->server_name);
    /* s->alloc points into *s: keep a copy past the wipe. */
    mxrtc_allocator copy = s->alloc_copy;
    const mxrtc_allocator *a = s->alloc ? &copy : NULL;
    mxrtc_wipe(s, sizeof *s);   /* plaintext and queued data */
    mxrtc_free(a, s);
}

/* PEM holds "-----BEGIN " somewhere (text may precede it); DER never does
 * at its start, and is passed to mbedTLS as it is. */
static int looks_pem(const uint8_t *p, size_t n) {
    static const char tag[] = "-----BEGIN ";
    const size_t t = sizeof tag - 1;
    for (size_t i = 0; i + t <= n; i++)
        if (p[i] == '-' && memcmp(p + i, tag, t) == 0) return 1;
    return 0;
}

static int load_cas(mxrtc_tls_stream *s, const mxrtc_tls_stream_config *cfg) {
    int r;
    if (cfg->ca_pem && cfg->ca_pem_len) {
        /* mbedTLS wants PEM NUL-terminated with the NUL counted. */
        if (cfg->ca_pem[cfg->ca_pem_len - 1] == '\0' || !looks_pem(cfg->ca_pem, cfg->ca_pem_len)) {
            r = mbedtls_x509_crt_parse(&s->ca, cfg->ca_pem, cfg->ca_pem_len);
        } else {
            uint8_t *copy = mxrtc_malloc(s->alloc, cfg->ca_pem_len + 1);
            if (!copy) return MXRTC_ERR_NO_MEMORY;
            memcpy(copy, cfg->ca_pem, cfg->ca_pem_len);
            copy[cfg->ca_pem_len] = '\0';
            r = mbedtls_x509_crt_parse(&s->ca, copy, cfg->ca_pem_len + 1);
            mxrtc_free(s->alloc, copy);
        }
        if (r < 0) {
            log_mbedtls(s, "CA buffer", r);
            return MXRTC_ERR_CERTIFICATE;
        }
    }
    if (cfg->ca_file) {
#if defined(MBEDTLS_FS_IO)
        r = mbedtls_x509_crt_parse_file(&s->ca, cfg->ca_file);
        if (r < 0) {
            log_mbedtls(s, "CA file", r);
            return MXRTC_ERR_CERTIFICATE;
        }
#else
        return MXRTC_ERR_UNSUPPORTED;
#endif
    }
    /* A positive r counts certificates that failed to parse (a system bundle
     * may hold some mbedTLS does not read); at least one must have loaded. */
    if (s->ca.version == 0) return MXRTC_ERR_CERTIFICATE;
    return MXRTC_OK;
}

static int setup(mxrtc_tls_stream *s, const mxrtc_tls_stream_config *cfg) {
    int r = mbedtls_ssl_config_defaults(&s->conf, MBEDTLS_SSL_IS_CLIENT,
                                        MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (r != 0) return fail(s, "config", r);
    mbedtls_ssl_conf_rng(&s->conf, tls_rng, s);
#if MBEDTLS_VERSION_NUMBER < 0x03000000
    /* TLS 1.2 at least (RFC 8656 §3.1 recommends TLS 1.2 or later); 3.x no
     * longer offers anything older. */
    mbedtls_ssl_conf_min_version(&s->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
#endif
    if (cfg->insecure_skip_verify) {
        mbedtls_ssl_conf_authmode(&s->conf, MBEDTLS_SSL_VERIFY_NONE);
        MXRTC_LOGW(&s->logger, TAG, "certificate verification is OFF (insecure_skip_verify)");
    } else {
        r = load_cas(s, cfg);
        if (r != MXRTC_OK) return r;
        mbedtls_ssl_conf_ca_chain(&s->conf, &s->ca, NULL);
        mbedtls_ssl_conf_authmode(&s->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    }
    r = mbedtls_ssl_setup(&s->ssl, &s->conf);
    if (r != 0) return fail(s, "setup", r);
    if (s->server_name) {
        r = mbedtls_ssl_set_hostname(&s->ssl, s->server_name);
        if (r != 0) return fail(s, "hostname", r);
    }
    mbedtls_ssl_set_bio(&s->ssl, s, bio_send, bio_recv, NULL);
    return MXRTC_OK;
}

int mxrtc_tls_stream_new(mxrtc_tls_stream **out, const mxrtc_tls_stream_config *cfg) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!cfg || cfg->size < sizeof *cfg) return MXRTC_ERR_INVALID_ARGUMENT;
    if (cfg->server_name && (cfg->server_name[0] == '\0' || strlen(cfg->server_name) > 255))
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (!cfg->insecure_skip_verify &&
        (!cfg->server_name || (!(cfg->ca_pem && cfg->ca_pem_len) && !cfg->ca_file)))
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (cfg->allocator && (!cfg->allocator->malloc_fn || !cfg->allocator->realloc_fn ||
                           !cfg->allocator->free_fn))
        return MXRTC_ERR_INVALID_ARGUMENT;

#if defined(MXRTC_TLS_NEEDS_PSA)
    if (psa_crypto_init() != PSA_SUCCESS) return MXRTC_ERR_CRYPTO;
#endif

    mxrtc_tls_stream *s = mxrtc_calloc(cfg->allocator, 1, sizeof *s);
    if (!s) return MXRTC_ERR_NO_MEMORY;
    if (cfg->allocator) {
        s->alloc_copy = *cfg->allocator;
        s->alloc = &s->alloc_copy;
    }
    s->random = cfg->random;
    if (cfg->logger) s->logger = *cfg->logger;
    mbedtls_ssl_init(&s->ssl);
    mbedtls_ssl_config_init(&s->conf);
    mbedtls_x509_crt_init(&s->ca);
    if (cfg->server_name) {
        s->server_name = mxrtc_strdup(s->alloc, cfg->server_name, 255);
        if (!s->server_name) {
            destroy(s);
            return MXRTC_ERR_NO_MEMORY;
        }
    }
    int r = setup(s, cfg);
    if (r == MXRTC_OK) r = pump(s);   /* writes the ClientHello */
    if (r != MXRTC_OK) {
        destroy(s);
        return r;
    }
    *out = s;
    return MXRTC_OK;
}

void mxrtc_tls_stream_free(mxrtc_tls_stream *s) {
    if (s) destroy(s);
}

int mxrtc_tls_stream_handle_input(mxrtc_tls_stream *s, const uint8_t *data, size_t len) {
    if (!s || (!data && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (s->err) return s->err;
    if (s->closed_local && !s->established) return MXRTC_ERR_CLOSED;
    if (s->in_pos > 0) {
        memmove(s->in, s->in + s->in_pos, s->in_len - s->in_pos);
        s->in_len -= s->in_pos;
        s->in_pos = 0;
    }
    size_t space = sizeof s->in - s->in_len;
    size_t take = len < space ? len : space;
    if (take) memcpy(s->in + s->in_len, data, take);
    s->in_len += take;
    int r = pump(s);
    if (r != MXRTC_OK) return r;
    return (int)take;
}

int mxrtc_tls_stream_handle_eof(mxrtc_tls_stream *s) {
    if (!s) return MXRTC_ERR_INVALID_ARGUMENT;
    s->eof = 1;
    if (s->err) return s->err;
    if (s->peer_closed) return MXRTC_ERR_CLOSED;
    return MXRTC_ERR_TRUNCATED;
}

int mxrtc_tls_stream_write(mxrtc_tls_stream *s, const uint8_t *data, size_t len) {
    if (!s || (!data && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (s->err) return s->err;
    if (s->closed_local || s->eof) return MXRTC_ERR_CLOSED;
    if (len > sizeof s->wq - s->wq_len) return MXRTC_ERR_LIMIT;
    if (len == 0) return MXRTC_OK;
    memcpy(s->wq + s->wq_len, data, len);
    s->wq_len += len;
    return pump(s);
}

int mxrtc_tls_stream_read(mxrtc_tls_stream *s, uint8_t *out, size_t cap) {
    if (!s || !out || cap == 0) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t avail = s->plain_len - s->plain_pos;
    if (avail == 0) {
        if (s->err) return s->err;
        if (s->peer_closed) return MXRTC_ERR_CLOSED;
        if (s->eof) return MXRTC_ERR_TRUNCATED;
        return MXRTC_ERR_AGAIN;
    }
    size_t n = cap < avail ? cap : avail;
    if (n > (size_t)INT32_MAX) n = (size_t)INT32_MAX;
    memcpy(out, s->plain + s->plain_pos, n);
    s->plain_pos += n;
    if (s->plain_pos == s->plain_len) s->plain_pos = s->plain_len = 0;
    (void)pump(s);   /* room freed: decrypt what waited; an error shows next call */
    return (int)n;
}

int mxrtc_tls_stream_pending_output(mxrtc_tls_stream *s, uint8_t *out, size_t cap) {
    if (!s || (!out && cap)) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t n = cap < s->out_len ? cap : s->out_len;
    if (n == 0) return 0;
    memcpy(out, s->out, n);
    memmove(s->out, s->out + n, s->out_len - n);
    s->out_len -= n;
    (void)pump(s);   /* room freed: queued writes may proceed */
    return (int)n;
}

int mxrtc_tls_stream_is_established(const mxrtc_tls_stream *s) {
    return s && s->established && !s->err;
}

int mxrtc_tls_stream_close(mxrtc_tls_stream *s) {
    if (!s) return MXRTC_ERR_INVALID_ARGUMENT;
    if (s->err) return s->err;
    if (s->closed_local) return MXRTC_OK;
    s->closed_local = 1;
    if (!s->established) {
        /* Nothing was sent yet: drop the queue; the caller closes TCP. */
        s->wq_len = 0;
        s->wq_inflight = 0;
        return MXRTC_OK;
    }
    /* RFC 5246 §7.2.1: close_notify, after the data queued before it. */
    s->close_pending = 1;
    return pump(s);
}
