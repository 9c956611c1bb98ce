/*
 * dtls.h: the face of the dtls/ module: DTLS 1.2 (mbedTLS) with DTLS-SRTP
 * keying (RFC 5764), certificate fingerprints (RFC 8122), SRTP/SRTCP
 * (libsrtp2) and the RFC 7983 demultiplexer. Internal to mxrtc.
 *
 * Sans-IO: the endpoint never touches a socket or a clock. Datagrams go in
 * with mxrtc_dtls_handle_datagram(), time goes in with every call, and
 * mxrtc_dtls_poll() drains datagrams to send and events until it returns
 * the next deadline. mbedTLS's I/O callbacks read and write memory and its
 * timer callbacks read the time the caller passed in.
 *
 * Memory: objects are allocated through the mxrtc_allocator given at
 * creation; mbedTLS and libsrtp2 allocate their own internal contexts with
 * the C library (they have no per-object allocator hook). Keys are wiped
 * before their memory is released.
 *
 * Thread rule: one object is used by one thread at a time; different objects
 * may be used from different threads (see mxrtc_srtp_new() for the one-time
 * libsrtp2 initialisation).
 */
#ifndef MXRTC_DTLS_DTLS_H
#define MXRTC_DTLS_DTLS_H

#include <stddef.h>
#include <stdint.h>
#include "mxrtc.h"

/* ---- roles (RFC 8842 §5, RFC 4145 a=setup) ------------------------------ */

typedef enum mxrtc_dtls_role {
    MXRTC_DTLS_ROLE_CLIENT = 1, /* a=setup:active: we send the ClientHello */
    MXRTC_DTLS_ROLE_SERVER = 2  /* a=setup:passive: we answer it */
} mxrtc_dtls_role;

/* Picks our role from the remote a=setup value ("active", "passive",
 * "actpass"; case-sensitive per RFC 4145 §4). A remote "actpass" makes us the
 * client: mbedTLS 2.28 as a server needs our ClientHello reassembly (see
 * docs/dtls.md) while as a client it talks to every peer as it is, so the
 * client role is preferred whenever the SDP leaves the choice to us.
 * MXRTC_ERR_UNSUPPORTED for "holdconn", MXRTC_ERR_MALFORMED for anything
 * else or NULL. */
int mxrtc_dtls_role_from_remote_setup(const char *remote_setup, mxrtc_dtls_role *role);

/* The a=setup value to put in an answer for the role we took ("active" for
 * the client, "passive" for the server). An offer always says "actpass"
 * (RFC 8842 §5.2). A static string. */
const char *mxrtc_dtls_setup_attribute(mxrtc_dtls_role role);

/* ---- fingerprints (RFC 8122 §5, RFC 4572) ------------------------------- */

typedef enum mxrtc_dtls_hash {
    MXRTC_DTLS_HASH_SHA1 = 1,
    MXRTC_DTLS_HASH_SHA256 = 2,
    MXRTC_DTLS_HASH_SHA384 = 3,
    MXRTC_DTLS_HASH_SHA512 = 4
} mxrtc_dtls_hash;

#define MXRTC_DTLS_FINGERPRINT_MAX 64 /* SHA-512 */
/* "sha-512 " + 64 * "XX:" */
#define MXRTC_DTLS_FINGERPRINT_STRLEN (8 + 3 * MXRTC_DTLS_FINGERPRINT_MAX)

typedef struct mxrtc_dtls_fingerprint {
    mxrtc_dtls_hash hash; /* 0: unset */
    uint8_t len;          /* bytes of value used: 20, 32, 48 or 64 */
    uint8_t value[MXRTC_DTLS_FINGERPRINT_MAX];
} mxrtc_dtls_fingerprint;

/* Parses the value of an SDP a=fingerprint attribute: "<hash-func> <hex>"
 * where hash-func is sha-1/sha-256/sha-384/sha-512 (any case, RFC 8122 §5)
 * and hex is colon-separated upper- or lower-case byte pairs of exactly the
 * hash's length. Surrounding spaces and a trailing CR/LF are ignored. text
 * is borrowed for the call. MXRTC_ERR_UNSUPPORTED for another hash function
 * (md5, sha-224), MXRTC_ERR_MALFORMED for bad syntax or length. */
int mxrtc_dtls_fingerprint_parse(mxrtc_dtls_fingerprint *fp, const char *text, size_t len);

/* Hashes a DER certificate with hash into *fp. MXRTC_ERR_CRYPTO if mbedTLS
 * fails, MXRTC_ERR_INVALID_ARGUMENT for an unknown hash. */
int mxrtc_dtls_fingerprint_compute(mxrtc_dtls_fingerprint *fp, mxrtc_dtls_hash hash,
                                   const uint8_t *der, size_t der_len);

/* Writes "sha-256 AB:CD:..." (upper-case hex, RFC 8122 §5) with a NUL into
 * buf. Returns the length without the NUL, or MXRTC_ERR_BUFFER_TOO_SMALL
 * (MXRTC_DTLS_FINGERPRINT_STRLEN always suffices). */
int mxrtc_dtls_fingerprint_format(const mxrtc_dtls_fingerprint *fp, char *buf, size_t len);

/* 1 if both have the same hash and value, else 0 (constant time in the value). */
int mxrtc_dtls_fingerprint_equal(const mxrtc_dtls_fingerprint *a, const mxrtc_dtls_fingerprint *b);

/* ---- certificates ------------------------------------------------------- */

/* Our certificate and private key. Immutable once created: an endpoint
 * borrows it, so it must outlive every endpoint that uses it; several
 * endpoints (and threads) may share one. */
typedef struct mxrtc_dtls_cert mxrtc_dtls_cert;

/* Generates a fresh ECDSA P-256 key and a self-signed X.509 v3 certificate
 * (CN=mxrtc, random 128-bit serial, SHA-256 signature) using rnd as the
 * mbedTLS random source (NULL: the OS). The validity is fixed to
 * 2000-01-01..2049-12-31: the core has no wall clock, and WebRTC peers
 * authenticate the certificate by its fingerprint only (RFC 8827 §6.5).
 * MXRTC_ERR_NO_MEMORY, MXRTC_ERR_CRYPTO. */
int mxrtc_dtls_cert_new(mxrtc_dtls_cert **out, const mxrtc_allocator *alloc,
                        const mxrtc_random *rnd);

/* Loads a host-supplied certificate and private key (PEM or DER; PEM text
 * must include its terminating NUL in the length, as mbedTLS requires).
 * Buffers are borrowed for the call. MXRTC_ERR_MALFORMED if either does not
 * parse, MXRTC_ERR_MISMATCH if the key does not belong to the certificate. */
int mxrtc_dtls_cert_from_pem(mxrtc_dtls_cert **out, const mxrtc_allocator *alloc,
                             const mxrtc_random *rnd, const uint8_t *cert, size_t cert_len,
                             const uint8_t *key, size_t key_len);

/* Wipes the private key and frees. NULL is fine. */
void mxrtc_dtls_cert_free(mxrtc_dtls_cert *c);

/* The SHA-256 fingerprint as the SDP wants it: "sha-256 AB:CD:...". Valid as
 * long as c. */
const char *mxrtc_dtls_cert_fingerprint(const mxrtc_dtls_cert *c);
/* The same, binary. */
const mxrtc_dtls_fingerprint *mxrtc_dtls_cert_fingerprint_raw(const mxrtc_dtls_cert *c);
/* The DER bytes of the certificate (valid as long as c). */
const uint8_t *mxrtc_dtls_cert_der(const mxrtc_dtls_cert *c, size_t *len);

/* ---- SRTP profiles (RFC 5764 §4.1.2) ------------------------------------ */

typedef enum mxrtc_srtp_profile {
    MXRTC_SRTP_NONE = 0,
    MXRTC_SRTP_AES128_CM_SHA1_80 = 0x0001, /* IANA DTLS-SRTP protection profile ids */
    MXRTC_SRTP_AES128_CM_SHA1_32 = 0x0002
} mxrtc_srtp_profile;

/* RFC 5764 §4.2 with the two profiles above: 128-bit key, 112-bit salt. */
#define MXRTC_SRTP_KEY_LEN 16
#define MXRTC_SRTP_SALT_LEN 14
#define MXRTC_SRTP_KEY_SALT_LEN (MXRTC_SRTP_KEY_LEN + MXRTC_SRTP_SALT_LEN)

/* The keys of one DTLS-SRTP association, already oriented for us. Wipe it
 * (mxrtc_wipe) when done. */
typedef struct mxrtc_dtls_srtp_keys {
    mxrtc_srtp_profile profile;
    uint8_t local[MXRTC_SRTP_KEY_SALT_LEN];  /* key ‖ salt we protect with */
    uint8_t remote[MXRTC_SRTP_KEY_SALT_LEN]; /* key ‖ salt we unprotect with */
} mxrtc_dtls_srtp_keys;

/* ---- the DTLS endpoint ------------------------------------------------- */

typedef struct mxrtc_dtls mxrtc_dtls;

typedef struct mxrtc_dtls_config {
    size_t size;                         /* set by mxrtc_dtls_config_init() */
    mxrtc_dtls_role role;                /* required */
    const mxrtc_dtls_cert *cert;         /* required; borrowed, must outlive the endpoint */
    mxrtc_dtls_fingerprint remote_fingerprint; /* required: from the remote SDP */
    const mxrtc_allocator *allocator;    /* NULL: libc; copied */
    mxrtc_random random;                 /* fn NULL: the OS */
    mxrtc_logger logger;                 /* fn NULL: silent */
    size_t mtu;                          /* largest datagram we send; 1200 by default, 256..1500 */
    uint32_t retransmit_min_ms;          /* first handshake retransmission; 1000 by default */
    uint32_t retransmit_max_ms;          /* give up (MXRTC_ERR_TIMEOUT) once the doubled timeout
                                          * would exceed this; 16000 by default (~31 s in all) */
} mxrtc_dtls_config;

void mxrtc_dtls_config_init(mxrtc_dtls_config *cfg);

typedef enum mxrtc_dtls_output_type {
    MXRTC_DTLS_OUT_DEADLINE = 0,  /* nothing more now; call handle_timeout at `deadline` */
    MXRTC_DTLS_OUT_DATAGRAM = 1,  /* send data/len to the peer */
    MXRTC_DTLS_OUT_CONNECTED = 2, /* handshake done, fingerprint checked; `profile` is set
                                   * and mxrtc_dtls_get_srtp_keys() works from now on */
    MXRTC_DTLS_OUT_APP_DATA = 3,  /* one received application record (data/len), e.g. SCTP */
    MXRTC_DTLS_OUT_FAILED = 4,    /* terminal; `error` says why: MXRTC_ERR_CERTIFICATE
                                   * (fingerprint mismatch or no certificate),
                                   * MXRTC_ERR_TIMEOUT (handshake gave up), MXRTC_ERR_TLS
                                   * (alert or protocol violation), MXRTC_ERR_NO_MEMORY */
    MXRTC_DTLS_OUT_CLOSED = 5     /* the peer sent close_notify (terminal) */
} mxrtc_dtls_output_type;

typedef struct mxrtc_dtls_output {
    mxrtc_dtls_output_type type;
    const uint8_t *data;          /* DATAGRAM, APP_DATA: valid until the next call on the endpoint */
    size_t len;
    int error;                    /* FAILED */
    mxrtc_srtp_profile profile;   /* CONNECTED */
    mxrtc_time_us deadline;       /* DEADLINE: MXRTC_TIME_NEVER if none */
} mxrtc_dtls_output;

/* Creates an endpoint. A client queues its ClientHello at once: poll next.
 * MXRTC_ERR_INVALID_ARGUMENT (no cert, no fingerprint, bad role or mtu),
 * MXRTC_ERR_NO_MEMORY, MXRTC_ERR_TLS if mbedTLS refuses the configuration. */
int mxrtc_dtls_new(mxrtc_dtls **out, const mxrtc_dtls_config *cfg, mxrtc_time_us now);
/* Wipes keys, frees. NULL is fine. */
void mxrtc_dtls_free(mxrtc_dtls *d);

/* Feeds one received datagram (first byte 20..63, RFC 7983); borrowed for
 * the call. Then poll until DEADLINE. Returns MXRTC_OK (a protocol failure is
 * reported as a FAILED output, not here), MXRTC_ERR_MALFORMED for a datagram
 * that is not DTLS or not a usable ClientHello fragment (dropped, endpoint
 * still usable), MXRTC_ERR_LIMIT for an oversized ClientHello,
 * MXRTC_ERR_STATE if the previous outputs were not drained or the endpoint
 * has failed or closed. */
int mxrtc_dtls_handle_datagram(mxrtc_dtls *d, mxrtc_time_us now, const uint8_t *data, size_t len);

/* Advances the clock: retransmits the last flight or gives up. Then poll.
 * MXRTC_ERR_STATE as above. */
int mxrtc_dtls_handle_timeout(mxrtc_dtls *d, mxrtc_time_us now);

/* Drains one output into *out; call until out->type is DEADLINE. Returns
 * MXRTC_OK. Pointers in *out are valid until the next call on d. */
int mxrtc_dtls_poll(mxrtc_dtls *d, mxrtc_time_us now, mxrtc_dtls_output *out);

/* Sends one application record (SCTP over DTLS) once connected.
 * MXRTC_ERR_STATE before CONNECTED or after close, MXRTC_ERR_LIMIT if len
 * does not fit one record within the MTU. data is borrowed. Then poll. */
int mxrtc_dtls_send(mxrtc_dtls *d, mxrtc_time_us now, const uint8_t *data, size_t len);

/* Queues a close_notify alert (RFC 5246 §7.2.1) if the handshake completed,
 * and stops the endpoint. Then poll. */
int mxrtc_dtls_close(mxrtc_dtls *d, mxrtc_time_us now);

/* Copies the SRTP keys (RFC 5764 §4.2) oriented for our role into *keys.
 * MXRTC_ERR_STATE before CONNECTED. The caller wipes *keys after use. */
int mxrtc_dtls_get_srtp_keys(const mxrtc_dtls *d, mxrtc_dtls_srtp_keys *keys);

/* Our role, as configured. */
mxrtc_dtls_role mxrtc_dtls_get_role(const mxrtc_dtls *d);

/* Datagrams dropped because the output queue was full (not expected; the
 * peer's retransmission recovers), and other counters for tests and stats. */
typedef struct mxrtc_dtls_stats {
    uint64_t dropped_outputs;
    uint64_t dropped_inputs;       /* datagrams ignored before/without a ClientHello */
    uint64_t hello_reassembled;    /* ClientHellos rebuilt from several fragments */
} mxrtc_dtls_stats;
void mxrtc_dtls_get_stats(const mxrtc_dtls *d, mxrtc_dtls_stats *st);

/* ---- ClientHello reassembly (see docs/dtls.md) --------------------------- */

/* Largest ClientHello body we reassemble: Chrome's and Firefox's post-quantum
 * hellos are ~1.4 KB; 8 KB leaves room for larger key shares while staying
 * well inside mbedTLS's 16 KB input record. */
#define MXRTC_DTLS_HELLO_MAX 8192
/* DTLS record header (RFC 6347 §4.1) and handshake header (§4.2.2). */
#define MXRTC_DTLS_RECORD_HEADER 13
#define MXRTC_DTLS_HANDSHAKE_HEADER 12

typedef struct mxrtc_dtls_hello {
    uint32_t length;        /* body length; valid once have_length */
    uint32_t received;      /* distinct body bytes received */
    uint32_t fragments;     /* non-empty fragments taken */
    int have_length;
    uint16_t record_version;
    uint64_t record_seq;    /* highest record sequence number seen (48 bits) */
    uint8_t body[MXRTC_DTLS_HELLO_MAX];
    uint8_t seen[MXRTC_DTLS_HELLO_MAX / 8];
    uint8_t out[MXRTC_DTLS_RECORD_HEADER + MXRTC_DTLS_HANDSHAKE_HEADER + MXRTC_DTLS_HELLO_MAX];
} mxrtc_dtls_hello;

void mxrtc_dtls_hello_init(mxrtc_dtls_hello *h);

/* Feeds one datagram received by a server still waiting for its first
 * ClientHello. Every epoch-0 handshake record in it holding a fragment of
 * ClientHello message_seq 0 (RFC 6347 §4.2.2) is merged into *h; other
 * records are ignored. Once every byte has arrived, *out and *out_len hold one
 * DTLS record carrying the whole ClientHello unfragmented (fragment_offset 0,
 * fragment_length = length), valid until the next call, and MXRTC_OK is
 * returned. MXRTC_ERR_AGAIN: fragments are still missing.
 * MXRTC_ERR_MALFORMED: the datagram held no ClientHello fragment, or an
 * inconsistent one (dropped). MXRTC_ERR_LIMIT: the announced length exceeds
 * MXRTC_DTLS_HELLO_MAX. */
int mxrtc_dtls_hello_feed(mxrtc_dtls_hello *h, const uint8_t *data, size_t len,
                          const uint8_t **out, size_t *out_len);

/* ---- SRTP/SRTCP (RFC 3711) via libsrtp2 --------------------------------- */

typedef struct mxrtc_srtp mxrtc_srtp;

/* The replay window we ask libsrtp2 for (RFC 3711 §3.3.2 allows more than
 * 64; video bursts reorder more than that). */
#define MXRTC_SRTP_REPLAY_WINDOW 1024

/* Creates one SRTP session for a transport: outbound packets of any SSRC
 * are protected with tx (key ‖ salt, 30 bytes), inbound ones unprotected
 * with rx. RTCP always uses an 80-bit tag (RFC 5764 §4.1.2). The first call
 * initialises libsrtp2 (srtp_init) once for the process, guarded by an
 * atomic flag, so sessions may be created from any thread. Keys are
 * borrowed for the call (libsrtp2 keeps its own expanded copy, freed with
 * the session). MXRTC_ERR_INVALID_ARGUMENT (profile or length),
 * MXRTC_ERR_NO_MEMORY, MXRTC_ERR_CRYPTO. */
int mxrtc_srtp_new(mxrtc_srtp **out, const mxrtc_allocator *alloc, mxrtc_srtp_profile profile,
                   const uint8_t *tx_key_salt, const uint8_t *rx_key_salt, size_t key_salt_len);
/* Runs the one-time libsrtp2 initialisation now (idempotent, any thread).
 * srtp_init() self-tests every cipher and takes ~25 ms here; a peer calls
 * this when it is created so that the cost is not paid between the DTLS
 * Finished and the first media packet. MXRTC_ERR_CRYPTO if it failed. */
int mxrtc_srtp_library_init(void);
/* The same from DTLS-SRTP keys. */
int mxrtc_srtp_new_from_dtls(mxrtc_srtp **out, const mxrtc_allocator *alloc,
                             const mxrtc_dtls_srtp_keys *keys);
void mxrtc_srtp_free(mxrtc_srtp *s);

/* Bytes protect adds: the RTP auth tag (10 or 4), or for RTCP the E-flag and
 * index (4) plus the 10-byte tag. */
size_t mxrtc_srtp_rtp_overhead(const mxrtc_srtp *s);
size_t mxrtc_srtp_rtcp_overhead(const mxrtc_srtp *s);

/* Protect in place: buf holds an RTP (RTCP) packet of len bytes in a buffer
 * of cap bytes; on success *out_len is the SRTP (SRTCP) length. No
 * allocation. MXRTC_ERR_BUFFER_TOO_SMALL if cap < len + overhead,
 * MXRTC_ERR_MALFORMED for a packet libsrtp2 rejects, MXRTC_ERR_REPLAY for
 * an index older than the replay window (libsrtp2 guards the sender too;
 * resending the identical index is allowed), MXRTC_ERR_CRYPTO. */
int mxrtc_srtp_protect_rtp(mxrtc_srtp *s, uint8_t *buf, size_t len, size_t cap, size_t *out_len);
int mxrtc_srtp_protect_rtcp(mxrtc_srtp *s, uint8_t *buf, size_t len, size_t cap, size_t *out_len);

/* Unprotect in place; *out_len is the plain length. MXRTC_ERR_INTEGRITY
 * (tag mismatch: tampered or wrong key), MXRTC_ERR_REPLAY (already seen or
 * older than the window), MXRTC_ERR_MALFORMED / MXRTC_ERR_TRUNCATED (not a
 * packet). The buffer content is unspecified after a failure. */
int mxrtc_srtp_unprotect_rtp(mxrtc_srtp *s, uint8_t *buf, size_t len, size_t *out_len);
int mxrtc_srtp_unprotect_rtcp(mxrtc_srtp *s, uint8_t *buf, size_t len, size_t *out_len);

/* ---- demultiplexing (RFC 7983 §7) ------------------------------------- */

typedef enum mxrtc_demux_kind {
    MXRTC_DEMUX_UNKNOWN = 0, /* drop */
    MXRTC_DEMUX_STUN = 1,    /* 0..3 */
    MXRTC_DEMUX_ZRTP = 2,    /* 16..19 */
    MXRTC_DEMUX_DTLS = 3,    /* 20..63 */
    MXRTC_DEMUX_TURN_CHANNEL = 4, /* 64..79 */
    MXRTC_DEMUX_RTP = 5,     /* 128..191, payload type not 64..95 */
    MXRTC_DEMUX_RTCP = 6     /* 128..191, second byte 192..223 (RFC 5761 §4) */
} mxrtc_demux_kind;

/* Classifies a datagram received on a shared port by its first byte (and,
 * for RTP/RTCP, its second). Never reads past len; empty input or a
 * too-short RTP/RTCP header (< 8 bytes for RTCP, < 12 for RTP) is UNKNOWN. */
mxrtc_demux_kind mxrtc_demux_classify(const uint8_t *p, size_t len);

#endif
