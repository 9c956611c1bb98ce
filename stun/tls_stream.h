/*
 * tls_stream.h: a sans-IO TLS client for turns: (RFC 8656 §3.1: TURN over
 * TLS over TCP), on mbedTLS. The caller owns the TCP connection: it feeds the
 * received ciphertext in, drains ciphertext to send out, and exchanges
 * plaintext (STUN and ChannelData, framed with mxrtc_stream_framer) through
 * _write and _read.
 *
 *   new -> loop { pending_output -> send; recv -> handle_input; read/write }
 *
 * The ClientHello is produced by _new already: drain _pending_output right
 * after it. After every _handle_input, _write and _read, drain
 * _pending_output until it returns 0.
 *
 * Certificate checks: by default the server certificate must chain to the
 * given CAs and match server_name (CN or DNS subjectAltName; mbedTLS 2.28
 * does not match IP subjectAltNames, so a turns: server given as an IP
 * literal needs a certificate naming that IP text in CN/DNS, or a
 * server_name the certificate holds). TLS 1.2 or later.
 */
#ifndef MXRTC_STUN_TLS_STREAM_H
#define MXRTC_STUN_TLS_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include "mxrtc.h"

/* Bounds of the internal buffers (all allocated once in _new). */
#define MXRTC_TLS_STREAM_IN_MAX (2 * (16384 + 2048 + 5))   /* received ciphertext, two records */
#define MXRTC_TLS_STREAM_PLAIN_MAX 65536                  /* decrypted, not yet _read */
#define MXRTC_TLS_STREAM_WRITE_MAX (65536 + 1024)         /* plaintext waiting for the handshake or output space */
#define MXRTC_TLS_STREAM_OUT_MAX (2 * (16384 + 2048 + 5)) /* ciphertext not yet taken by _pending_output */

typedef struct mxrtc_tls_stream_config {
    size_t size;                      /* sizeof(mxrtc_tls_stream_config), set by _init */
    const mxrtc_allocator *allocator; /* NULL: the C library */
    mxrtc_random random;              /* the mbedTLS RNG; fn NULL: mxrtc_random_os() */
    const mxrtc_logger *logger;       /* may be NULL */
    /* NUL-terminated host name for SNI (RFC 6066 §3) and verification
     * (RFC 6125). Required unless insecure_skip_verify. Copied. */
    const char *server_name;
    /* Trusted CAs: a PEM (or DER) buffer, borrowed for the _new call, or the
     * path of a PEM file the caller chose (e.g.
     * /etc/ssl/certs/ca-certificates.crt; the core picks no system path).
     * One of the two is required unless insecure_skip_verify. */
    const uint8_t *ca_pem;
    size_t ca_pem_len;
    const char *ca_file;
    /* 1: accept any certificate and name. For tests only: it defeats TLS. */
    int insecure_skip_verify;
} mxrtc_tls_stream_config;

typedef struct mxrtc_tls_stream mxrtc_tls_stream;

/* Zeroes *cfg and sets its size. */
void mxrtc_tls_stream_config_init(mxrtc_tls_stream_config *cfg);

/* Creates a client and starts the handshake (the ClientHello waits in
 * _pending_output). Returns MXRTC_OK; MXRTC_ERR_INVALID_ARGUMENT (NULL,
 * missing server_name or CAs when verifying, bad size); MXRTC_ERR_NO_MEMORY;
 * MXRTC_ERR_CERTIFICATE if the CA PEM/file cannot be parsed;
 * MXRTC_ERR_UNSUPPORTED for ca_file in a build without file I/O;
 * MXRTC_ERR_TLS or MXRTC_ERR_CRYPTO if mbedTLS refuses the setup. */
int mxrtc_tls_stream_new(mxrtc_tls_stream **out, const mxrtc_tls_stream_config *cfg);

/* NULL is fine. Wipes the session keys. Does not send close_notify. */
void mxrtc_tls_stream_free(mxrtc_tls_stream *s);

/* Feeds ciphertext received on the TCP connection (borrowed for the call) and
 * advances the handshake or decrypts records. Returns the number of bytes
 * taken (less than len only when the internal buffers are full because _read
 * was not called: read, then feed the rest), or an error, after which the
 * stream is dead (every call returns the same error; _pending_output may
 * still hold an alert to send): MXRTC_ERR_CERTIFICATE (server certificate not
 * trusted or not matching server_name), MXRTC_ERR_TLS (alert received,
 * garbage or an unexpected record, handshake failure), MXRTC_ERR_CRYPTO. */
int mxrtc_tls_stream_handle_input(mxrtc_tls_stream *s, const uint8_t *data, size_t len);

/* The TCP connection was closed by the peer. Returns MXRTC_ERR_CLOSED if a
 * close_notify came first (a clean end), else MXRTC_ERR_TRUNCATED (the data
 * may have been cut off, RFC 8446 §6.1), or the stream's earlier error. */
int mxrtc_tls_stream_handle_eof(mxrtc_tls_stream *s);

/* Queues plaintext (borrowed for the call) to encrypt; it is held until the
 * handshake completes. All or nothing: MXRTC_OK, or MXRTC_ERR_LIMIT when the
 * bounded queue cannot take len bytes now (drain _pending_output and retry;
 * len > MXRTC_TLS_STREAM_WRITE_MAX never fits), MXRTC_ERR_CLOSED after
 * _close, or the stream's error. */
int mxrtc_tls_stream_write(mxrtc_tls_stream *s, const uint8_t *data, size_t len);

/* Copies decrypted bytes into the caller's out. Returns the count (> 0);
 * MXRTC_ERR_AGAIN when none is available; MXRTC_ERR_CLOSED once the peer sent
 * close_notify and everything was read; or the stream's error. */
int mxrtc_tls_stream_read(mxrtc_tls_stream *s, uint8_t *out, size_t cap);

/* Moves up to cap bytes of ciphertext to send into out. Returns the count
 * (0 when nothing is pending). Never fails on a dead stream (a final alert
 * may still be there); MXRTC_ERR_INVALID_ARGUMENT for NULL. */
int mxrtc_tls_stream_pending_output(mxrtc_tls_stream *s, uint8_t *out, size_t cap);

/* 1 once the handshake completed (and no error since), else 0. */
int mxrtc_tls_stream_is_established(const mxrtc_tls_stream *s);

/* Sends close_notify (drain _pending_output, then close the TCP side).
 * Further writes return MXRTC_ERR_CLOSED; reading what already arrived
 * stays possible. Returns MXRTC_OK, or the stream's error. */
int mxrtc_tls_stream_close(mxrtc_tls_stream *s);

#endif
