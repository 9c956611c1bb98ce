/* test_tls_stream.c: the sans-IO TLS client (turns:, RFC 8656 §3.1) against
 * an in-memory mbedTLS server built here, with certificates generated in the
 * test from a seeded generator (deterministic, no files, no openssl). */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "base/random.h"
#include "mxrtc.h"
#include "stun/tls_stream.h"
#include "support/test_alloc.h"

#define SERVER_NAME "turn.mxrtc.test"

static int rng(void *p, unsigned char *buf, size_t len) {
    mxrtc_seeded_random *g = p;
    mxrtc_random src = mxrtc_seeded_random_source(g);
    return mxrtc_random_fill(&src, buf, len) == MXRTC_OK ? 0 : -1;
}

/* ---- certificates ------------------------------------------------------ */

typedef struct cert {
    mbedtls_pk_context key;
    mbedtls_x509_crt crt;
    unsigned char pem[4096];
    size_t pem_len;   /* with the NUL */
} cert;

static void make_cert(cert *c, mxrtc_seeded_random *g, const char *subject, cert *issuer, int is_ca,
                      int serial) {
    mbedtls_pk_init(&c->key);
    mbedtls_x509_crt_init(&c->crt);
    assert_int_equal(mbedtls_pk_setup(&c->key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    assert_int_equal(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(c->key), rng, g), 0);
    mbedtls_x509write_cert w;
    mbedtls_x509write_crt_init(&w);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, &c->key);
    mbedtls_x509write_crt_set_issuer_key(&w, issuer ? &issuer->key : &c->key);
    assert_int_equal(mbedtls_x509write_crt_set_subject_name(&w, subject), 0);
    char issuer_name[256];
    if (issuer) {
        int n = mbedtls_x509_dn_gets(issuer_name, sizeof issuer_name, &issuer->crt.subject);
        assert_true(n > 0);
    } else {
        snprintf(issuer_name, sizeof issuer_name, "%s", subject);
    }
    assert_int_equal(mbedtls_x509write_crt_set_issuer_name(&w, issuer_name), 0);
    mbedtls_mpi sn;
    mbedtls_mpi_init(&sn);
    assert_int_equal(mbedtls_mpi_lset(&sn, serial), 0);
    assert_int_equal(mbedtls_x509write_crt_set_serial(&w, &sn), 0);
    mbedtls_mpi_free(&sn);
    assert_int_equal(mbedtls_x509write_crt_set_validity(&w, "20200101000000", "20491231235959"), 0);
    assert_int_equal(mbedtls_x509write_crt_set_basic_constraints(&w, is_ca, -1), 0);
    if (is_ca)
        assert_int_equal(mbedtls_x509write_crt_set_key_usage(
                             &w, MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN), 0);
    assert_int_equal(mbedtls_x509write_crt_pem(&w, c->pem, sizeof c->pem, rng, g), 0);
    mbedtls_x509write_crt_free(&w);
    c->pem_len = strlen((char *)c->pem) + 1;
    assert_int_equal(mbedtls_x509_crt_parse(&c->crt, c->pem, c->pem_len), 0);
}

static void free_cert(cert *c) {
    mbedtls_pk_free(&c->key);
    mbedtls_x509_crt_free(&c->crt);
}

/* Built once: CA, a server certificate it signs, and an unrelated CA. */
typedef struct pki {
    mxrtc_seeded_random g;
    cert ca, server, other_ca;
} pki;

static int pki_setup(void **state) {
    pki *p = calloc(1, sizeof *p);
    mxrtc_seeded_random_init(&p->g, 7);
    make_cert(&p->ca, &p->g, "CN=mxrtc test CA,O=mxrtc", NULL, 1, 1);
    make_cert(&p->server, &p->g, "CN=" SERVER_NAME ",O=mxrtc", &p->ca, 0, 2);
    make_cert(&p->other_ca, &p->g, "CN=other CA,O=elsewhere", NULL, 1, 3);
    *state = p;
    return 0;
}

static int pki_teardown(void **state) {
    pki *p = *state;
    free_cert(&p->ca);
    free_cert(&p->server);
    free_cert(&p->other_ca);
    free(p);
    return 0;
}

/* ---- the in-memory server ---------------------------------------------- */

typedef struct pipe_buf {
    uint8_t data[1 << 18];
    size_t len, pos;
} pipe_buf;

typedef struct server {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mxrtc_seeded_random g;
    pipe_buf in;    /* client -> server ciphertext */
    pipe_buf out;   /* server -> client ciphertext */
    int done;       /* handshake over */
    int hs_error;   /* the server's handshake result when it failed */
} server;

static int srv_send(void *p, const unsigned char *buf, size_t len) {
    server *s = p;
    if (len > sizeof s->out.data - s->out.len) len = sizeof s->out.data - s->out.len;
    if (len == 0) return MBEDTLS_ERR_SSL_WANT_WRITE;
    memcpy(s->out.data + s->out.len, buf, len);
    s->out.len += len;
    return (int)len;
}

static int srv_recv(void *p, unsigned char *buf, size_t len) {
    server *s = p;
    size_t avail = s->in.len - s->in.pos;
    if (avail == 0) return MBEDTLS_ERR_SSL_WANT_READ;
    if (len > avail) len = avail;
    memcpy(buf, s->in.data + s->in.pos, len);
    s->in.pos += len;
    return (int)len;
}

static server *server_new(pki *p) {
    server *s = calloc(1, sizeof *s);
    mxrtc_seeded_random_init(&s->g, 99);
    mbedtls_ssl_init(&s->ssl);
    mbedtls_ssl_config_init(&s->conf);
    assert_int_equal(mbedtls_ssl_config_defaults(&s->conf, MBEDTLS_SSL_IS_SERVER,
                                                 MBEDTLS_SSL_TRANSPORT_STREAM,
                                                 MBEDTLS_SSL_PRESET_DEFAULT), 0);
    mbedtls_ssl_conf_rng(&s->conf, rng, &s->g);
    assert_int_equal(mbedtls_ssl_conf_own_cert(&s->conf, &p->server.crt, &p->server.key), 0);
    assert_int_equal(mbedtls_ssl_setup(&s->ssl, &s->conf), 0);
    mbedtls_ssl_set_bio(&s->ssl, s, srv_send, srv_recv, NULL);
    return s;
}

static void server_free(server *s) {
    mbedtls_ssl_free(&s->ssl);
    mbedtls_ssl_config_free(&s->conf);
    free(s);
}

static void server_step(server *s) {
    if (!s->done && !s->hs_error) {
        int r = mbedtls_ssl_handshake(&s->ssl);
        if (r == 0) s->done = 1;
        else if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE) s->hs_error = r;
    }
}

/* Shuttles ciphertext both ways until neither side has anything to say.
 * Returns the last error the client reported (0 if none). */
static int shuttle(mxrtc_tls_stream *c, server *s) {
    int last = 0;
    for (int round = 0; round < 64; round++) {
        int moved = 0;
        uint8_t buf[4096];
        int n;
        while ((n = mxrtc_tls_stream_pending_output(c, buf, sizeof buf)) > 0) {
            assert_true((size_t)n <= sizeof s->in.data - s->in.len);
            memcpy(s->in.data + s->in.len, buf, (size_t)n);
            s->in.len += (size_t)n;
            moved = 1;
        }
        server_step(s);
        while (s->out.pos < s->out.len) {
            int r = mxrtc_tls_stream_handle_input(c, s->out.data + s->out.pos, s->out.len - s->out.pos);
            if (r < 0) {
                last = r;
                s->out.pos = s->out.len;
                break;
            }
            if (r == 0) break;   /* client full: caller must _read first */
            s->out.pos += (size_t)r;
            moved = 1;
        }
        if (s->out.pos == s->out.len) s->out.pos = s->out.len = 0;
        if (!moved) break;
    }
    return last;
}

static mxrtc_tls_stream *client_new(pki *p, const char *name, const cert *trust, int insecure,
                                    mxrtc_seeded_random *g) {
    mxrtc_tls_stream_config cfg;
    mxrtc_tls_stream_config_init(&cfg);
    cfg.random = mxrtc_seeded_random_source(g);
    cfg.server_name = name;
    if (trust) {
        cfg.ca_pem = trust->pem;
        cfg.ca_pem_len = trust->pem_len - 1;   /* without the NUL: the stream must cope */
    }
    cfg.insecure_skip_verify = insecure;
    (void)p;
    mxrtc_tls_stream *c = NULL;
    assert_int_equal(mxrtc_tls_stream_new(&c, &cfg), MXRTC_OK);
    assert_non_null(c);
    return c;
}

/* ---- tests --------------------------------------------------------------- */

static void handshake_and_data_both_ways(void **state) {
    pki *p = *state;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 1);
    server *s = server_new(p);
    mxrtc_tls_stream *c = client_new(p, SERVER_NAME, &p->ca, 0, &g);
    assert_false(mxrtc_tls_stream_is_established(c));
    /* Written before the handshake: held, then sent. */
    assert_int_equal(mxrtc_tls_stream_write(c, (const uint8_t *)"early", 5), MXRTC_OK);
    uint8_t rd[8];
    assert_int_equal(mxrtc_tls_stream_read(c, rd, sizeof rd), MXRTC_ERR_AGAIN);

    assert_int_equal(shuttle(c, s), 0);
    assert_true(s->done);
    assert_true(mxrtc_tls_stream_is_established(c));
    assert_int_equal(mbedtls_ssl_read(&s->ssl, rd, sizeof rd), 5);
    assert_memory_equal(rd, "early", 5);

    /* Server -> client: 50000 bytes in several records, read in odd sizes. */
    static uint8_t big[50000], got[50000];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 13 + 1);
    size_t off = 0;
    while (off < sizeof big) {
        int r = mbedtls_ssl_write(&s->ssl, big + off, sizeof big - off);
        assert_true(r > 0);
        off += (size_t)r;
    }
    size_t have = 0;
    for (int guard = 0; guard < 1000 && have < sizeof got; guard++) {
        shuttle(c, s);
        int r;
        while ((r = mxrtc_tls_stream_read(c, got + have, 777)) > 0) have += (size_t)r;
        assert_int_equal(r, MXRTC_ERR_AGAIN);
    }
    assert_int_equal(have, sizeof big);
    assert_memory_equal(got, big, sizeof big);

    /* Client -> server: more than the write queue holds, so _write says
     * LIMIT until _pending_output drains it. */
    static uint8_t up[200000], sgot[200000];
    for (size_t i = 0; i < sizeof up; i++) up[i] = (uint8_t)(i * 7 + 3);
    size_t sent = 0, srecv = 0;
    int limited = 0;
    for (int guard = 0; guard < 10000 && srecv < sizeof up; guard++) {
        /* Write until the queue refuses, then let the data flow. */
        while (sent < sizeof up) {
            size_t chunk = sizeof up - sent < 30000 ? sizeof up - sent : 30000;
            int r = mxrtc_tls_stream_write(c, up + sent, chunk);
            if (r != MXRTC_OK) {
                assert_int_equal(r, MXRTC_ERR_LIMIT);
                limited = 1;
                break;
            }
            sent += chunk;
        }
        shuttle(c, s);
        int r;
        while ((r = mbedtls_ssl_read(&s->ssl, sgot + srecv, sizeof sgot - srecv)) > 0) srecv += (size_t)r;
        if (s->in.pos == s->in.len) s->in.pos = s->in.len = 0;
    }
    assert_true(limited);
    assert_int_equal(srecv, sizeof up);
    assert_memory_equal(sgot, up, sizeof up);
    assert_int_equal(mxrtc_tls_stream_write(c, up, MXRTC_TLS_STREAM_WRITE_MAX + 1), MXRTC_ERR_LIMIT);

    /* Server closes: the client reads CLOSED, EOF after it is clean. */
    assert_int_equal(mbedtls_ssl_close_notify(&s->ssl), 0);
    assert_int_equal(shuttle(c, s), 0);
    assert_int_equal(mxrtc_tls_stream_read(c, rd, sizeof rd), MXRTC_ERR_CLOSED);
    assert_int_equal(mxrtc_tls_stream_handle_eof(c), MXRTC_ERR_CLOSED);

    /* Client closes: the server sees close_notify; writes are refused. */
    assert_int_equal(mxrtc_tls_stream_close(c), MXRTC_OK);
    shuttle(c, s);
    assert_int_equal(mbedtls_ssl_read(&s->ssl, rd, sizeof rd), MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY);
    assert_int_equal(mxrtc_tls_stream_write(c, rd, 1), MXRTC_ERR_CLOSED);

    mxrtc_tls_stream_free(c);
    server_free(s);
}

static void client_close_flushes_queued_data(void **state) {
    pki *p = *state;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 2);
    server *s = server_new(p);
    mxrtc_tls_stream *c = client_new(p, SERVER_NAME, &p->ca, 0, &g);
    assert_int_equal(shuttle(c, s), 0);
    assert_true(mxrtc_tls_stream_is_established(c));
    assert_int_equal(mxrtc_tls_stream_write(c, (const uint8_t *)"last words", 10), MXRTC_OK);
    assert_int_equal(mxrtc_tls_stream_close(c), MXRTC_OK);
    shuttle(c, s);
    uint8_t rd[16];
    assert_int_equal(mbedtls_ssl_read(&s->ssl, rd, sizeof rd), 10);
    assert_memory_equal(rd, "last words", 10);
    assert_int_equal(mbedtls_ssl_read(&s->ssl, rd, sizeof rd), MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY);
    mxrtc_tls_stream_free(c);
    server_free(s);
}

static void wrong_server_name_is_certificate_error(void **state) {
    pki *p = *state;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 3);
    server *s = server_new(p);
    mxrtc_tls_stream *c = client_new(p, "other.mxrtc.test", &p->ca, 0, &g);
    assert_int_equal(shuttle(c, s), MXRTC_ERR_CERTIFICATE);
    assert_false(mxrtc_tls_stream_is_established(c));
    /* Sticky: every later call says the same. */
    uint8_t rd[4];
    assert_int_equal(mxrtc_tls_stream_read(c, rd, sizeof rd), MXRTC_ERR_CERTIFICATE);
    assert_int_equal(mxrtc_tls_stream_write(c, rd, 1), MXRTC_ERR_CERTIFICATE);
    assert_int_equal(mxrtc_tls_stream_handle_input(c, rd, 1), MXRTC_ERR_CERTIFICATE);
    /* The client told the server why (an alert went out): its handshake fails. */
    server_step(s);
    assert_true(s->hs_error != 0);
    mxrtc_tls_stream_free(c);
    server_free(s);
}

static void untrusted_ca_is_certificate_error(void **state) {
    pki *p = *state;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 4);
    server *s = server_new(p);
    mxrtc_tls_stream *c = client_new(p, SERVER_NAME, &p->other_ca, 0, &g);
    assert_int_equal(shuttle(c, s), MXRTC_ERR_CERTIFICATE);
    assert_false(mxrtc_tls_stream_is_established(c));
    mxrtc_tls_stream_free(c);
    server_free(s);
}

static void insecure_skip_verify_accepts_anything(void **state) {
    pki *p = *state;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 5);
    server *s = server_new(p);
    mxrtc_tls_stream *c = client_new(p, "other.mxrtc.test", NULL, 1, &g);
    assert_int_equal(shuttle(c, s), 0);
    assert_true(mxrtc_tls_stream_is_established(c));
    mxrtc_tls_stream_free(c);
    server_free(s);
}

static void server_alert_is_tls_error(void **state) {
    pki *p = *state;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 6);
    server *s = server_new(p);
    mxrtc_tls_stream *c = client_new(p, SERVER_NAME, &p->ca, 0, &g);
    /* The server answers the ClientHello with a fatal handshake_failure. */
    uint8_t buf[4096];
    int n = mxrtc_tls_stream_pending_output(c, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(mbedtls_ssl_send_alert_message(&s->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                                    MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE), 0);
    assert_int_equal(mxrtc_tls_stream_handle_input(c, s->out.data, s->out.len), MXRTC_ERR_TLS);
    mxrtc_tls_stream_free(c);
    server_free(s);
}

static void garbage_and_truncation(void **state) {
    pki *p = *state;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 8);
    uint8_t buf[4096];

    /* Plain garbage instead of a ServerHello. */
    mxrtc_tls_stream *c = client_new(p, SERVER_NAME, &p->ca, 0, &g);
    (void)mxrtc_tls_stream_pending_output(c, buf, sizeof buf);
    for (size_t i = 0; i < 600; i++) buf[i] = (uint8_t)(mxrtc_seeded_random_next(&g) >> 7);
    buf[0] = 0x47;   /* "GET ..." from a web server on the wrong port */
    assert_int_equal(mxrtc_tls_stream_handle_input(c, buf, 600), MXRTC_ERR_TLS);
    mxrtc_tls_stream_free(c);

    /* A record header declaring more than TLS allows. */
    c = client_new(p, SERVER_NAME, &p->ca, 0, &g);
    const uint8_t huge[] = {0x16, 0x03, 0x03, 0xFF, 0xFF, 0x02};
    assert_int_equal(mxrtc_tls_stream_handle_input(c, huge, sizeof huge), MXRTC_ERR_TLS);
    mxrtc_tls_stream_free(c);

    /* Half of the server's first flight, then the connection ends. */
    server *s = server_new(p);
    c = client_new(p, SERVER_NAME, &p->ca, 0, &g);
    int n = mxrtc_tls_stream_pending_output(c, buf, sizeof buf);
    memcpy(s->in.data, buf, (size_t)n);
    s->in.len = (size_t)n;
    server_step(s);
    assert_true(s->out.len > 10);
    size_t half = s->out.len / 2;
    assert_int_equal(mxrtc_tls_stream_handle_input(c, s->out.data, half), (int)half);
    assert_false(mxrtc_tls_stream_is_established(c));
    assert_int_equal(mxrtc_tls_stream_handle_eof(c), MXRTC_ERR_TRUNCATED);
    assert_int_equal(mxrtc_tls_stream_read(c, buf, sizeof buf), MXRTC_ERR_TRUNCATED);
    mxrtc_tls_stream_free(c);
    server_free(s);

    /* Established, then a tampered application-data record. */
    s = server_new(p);
    c = client_new(p, SERVER_NAME, &p->ca, 0, &g);
    assert_int_equal(shuttle(c, s), 0);
    assert_true(mxrtc_tls_stream_is_established(c));
    assert_true(mbedtls_ssl_write(&s->ssl, (const uint8_t *)"data", 4) == 4);
    s->out.data[s->out.len - 1] ^= 1;   /* flips a bit of the tag */
    assert_int_equal(shuttle(c, s), MXRTC_ERR_TLS);
    assert_false(mxrtc_tls_stream_is_established(c));
    mxrtc_tls_stream_free(c);
    server_free(s);
}

static void config_errors_and_ca_file(void **state) {
    pki *p = *state;
    mxrtc_tls_stream *c = (mxrtc_tls_stream *)&c;
    mxrtc_tls_stream_config cfg;
    mxrtc_tls_stream_config_init(&cfg);
    /* Verification needs a name and CAs. */
    assert_int_equal(mxrtc_tls_stream_new(&c, &cfg), MXRTC_ERR_INVALID_ARGUMENT);
    assert_null(c);
    cfg.server_name = SERVER_NAME;
    assert_int_equal(mxrtc_tls_stream_new(&c, &cfg), MXRTC_ERR_INVALID_ARGUMENT);
    cfg.server_name = "";
    cfg.insecure_skip_verify = 1;
    assert_int_equal(mxrtc_tls_stream_new(&c, &cfg), MXRTC_ERR_INVALID_ARGUMENT);
    cfg.insecure_skip_verify = 0;
    cfg.server_name = SERVER_NAME;
    cfg.ca_pem = (const uint8_t *)"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
    cfg.ca_pem_len = strlen((const char *)cfg.ca_pem);
    assert_int_equal(mxrtc_tls_stream_new(&c, &cfg), MXRTC_ERR_CERTIFICATE);
    cfg.ca_pem = NULL;
    cfg.ca_pem_len = 0;
    cfg.ca_file = "/nonexistent/ca.pem";
    assert_int_equal(mxrtc_tls_stream_new(&c, &cfg), MXRTC_ERR_CERTIFICATE);
    mxrtc_tls_stream_config bad = cfg;
    bad.size = 4;
    assert_int_equal(mxrtc_tls_stream_new(&c, &bad), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_tls_stream_new(&c, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_tls_stream_free(NULL);

    /* The CA as a file path, as a host passes the system bundle. */
    char path[] = "/tmp/mxrtc_ca_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p->ca.pem, p->ca.pem_len - 1), (ssize_t)(p->ca.pem_len - 1));
    close(fd);
    cfg.ca_file = path;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 9);
    cfg.random = mxrtc_seeded_random_source(&g);
    assert_int_equal(mxrtc_tls_stream_new(&c, &cfg), MXRTC_OK);
    unlink(path);
    server *s = server_new(p);
    assert_int_equal(shuttle(c, s), 0);
    assert_true(mxrtc_tls_stream_is_established(c));
    mxrtc_tls_stream_free(c);
    server_free(s);
}

/* The CA buffer as DER, and as PEM preceded by text (as in bundle files). */
static void ca_buffer_formats(void **state) {
    pki *p = *state;
    static uint8_t commented[8192];
    const char *head = "# mxrtc test CA\n";
    size_t hl = strlen(head);
    memcpy(commented, head, hl);
    memcpy(commented + hl, p->ca.pem, p->ca.pem_len - 1);
    const uint8_t *bufs[2] = {p->ca.crt.raw.p, commented};
    size_t lens[2] = {p->ca.crt.raw.len, hl + p->ca.pem_len - 1};
    for (int i = 0; i < 2; i++) {
        mxrtc_seeded_random g;
        mxrtc_seeded_random_init(&g, 20 + (uint64_t)i);
        mxrtc_tls_stream_config cfg;
        mxrtc_tls_stream_config_init(&cfg);
        cfg.random = mxrtc_seeded_random_source(&g);
        cfg.server_name = SERVER_NAME;
        cfg.ca_pem = bufs[i];
        cfg.ca_pem_len = lens[i];
        mxrtc_tls_stream *c = NULL;
        assert_int_equal(mxrtc_tls_stream_new(&c, &cfg), MXRTC_OK);
        server *s = server_new(p);
        assert_int_equal(shuttle(c, s), 0);
        assert_true(mxrtc_tls_stream_is_established(c));
        mxrtc_tls_stream_free(c);
        server_free(s);
    }
}

static void allocation_failures_leak_nothing(void **state) {
    pki *p = *state;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 10);
    for (long nth = 1; nth <= 3; nth++) {
        test_alloc ta;
        test_alloc_init(&ta);
        test_alloc_fail_nth(&ta, nth);
        mxrtc_tls_stream_config cfg;
        mxrtc_tls_stream_config_init(&cfg);
        cfg.allocator = &ta.iface;
        cfg.random = mxrtc_seeded_random_source(&g);
        cfg.server_name = SERVER_NAME;
        cfg.ca_pem = p->ca.pem;
        cfg.ca_pem_len = p->ca.pem_len - 1;   /* needs a NUL-terminated copy: 3 allocations */
        mxrtc_tls_stream *c = NULL;
        int r = mxrtc_tls_stream_new(&c, &cfg);
        if (ta.failures) {
            assert_int_equal(r, MXRTC_ERR_NO_MEMORY);
            assert_null(c);
        } else {
            assert_int_equal(r, MXRTC_OK);
            mxrtc_tls_stream_free(c);
        }
        assert_int_equal(ta.live, 0);
    }
}

static int always_fail(void *user, uint8_t *buf, size_t len) {
    (void)user;
    (void)buf;
    (void)len;
    return MXRTC_ERR_CRYPTO;
}

static void broken_random_source(void **state) {
    (void)state;
    mxrtc_tls_stream_config cfg;
    mxrtc_tls_stream_config_init(&cfg);
    cfg.insecure_skip_verify = 1;
    mxrtc_tls_stream *c = NULL;
    /* The OS source (random.fn NULL) works... */
    assert_int_equal(mxrtc_tls_stream_new(&c, &cfg), MXRTC_OK);
    mxrtc_tls_stream_free(c);
    /* ...and a failing one stops the ClientHello with a clear code. */
    cfg.random.fn = always_fail;
    assert_int_equal(mxrtc_tls_stream_new(&c, &cfg), MXRTC_ERR_CRYPTO);
    assert_null(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_and_data_both_ways),
        cmocka_unit_test(client_close_flushes_queued_data),
        cmocka_unit_test(wrong_server_name_is_certificate_error),
        cmocka_unit_test(untrusted_ca_is_certificate_error),
        cmocka_unit_test(insecure_skip_verify_accepts_anything),
        cmocka_unit_test(server_alert_is_tls_error),
        cmocka_unit_test(garbage_and_truncation),
        cmocka_unit_test(config_errors_and_ca_file),
        cmocka_unit_test(ca_buffer_formats),
        cmocka_unit_test(allocation_failures_leak_nothing),
        cmocka_unit_test(broken_random_source),
    };
    return cmocka_run_group_tests(tests, pki_setup, pki_teardown);
}
