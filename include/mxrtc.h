/*
 * mxrtc.h: the public C ABI of mxrtc, a small WebRTC stack with a Matrix VoIP
 * call layer. This is the only header a host includes.
 *
 * Conventions (see docs/abi.md):
 *  - Every object is opaque; it is created with x_new(&out, ...) returning an
 *    error code, and freed with x_free(), which accepts NULL.
 *  - Functions return MXRTC_OK (0) or a negative mxrtc_error.
 *  - Inputs (const uint8_t *, size_t) are borrowed for the call only.
 *  - Time is a monotonic microsecond count supplied by the caller
 *    (mxrtc_time_us); the core never reads a clock.
 *  - Configuration structs carry their own size (set by their _init function)
 *    so that fields can be appended without breaking the ABI.
 *  - Thread rule: one object is used by one thread at a time.
 */
#ifndef MXRTC_H
#define MXRTC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(MXRTC_SHARED)
#  ifdef MXRTC_BUILDING
#    define MXRTC_API __declspec(dllexport)
#  else
#    define MXRTC_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define MXRTC_API __attribute__((visibility("default")))
#else
#  define MXRTC_API
#endif

/* ---- version ------------------------------------------------------------ */

#define MXRTC_VERSION_MAJOR 0
#define MXRTC_VERSION_MINOR 1
#define MXRTC_VERSION_PATCH 0
/* 0xMMmmpp: compare with MXRTC_VERSION_NUM at build time, mxrtc_version() at run time. */
#define MXRTC_VERSION_NUM \
    ((MXRTC_VERSION_MAJOR << 16) | (MXRTC_VERSION_MINOR << 8) | MXRTC_VERSION_PATCH)

/* The version of the library linked at run time, as MXRTC_VERSION_NUM. */
MXRTC_API uint32_t mxrtc_version(void);
/* The same as "MAJOR.MINOR.PATCH"; a static string. */
MXRTC_API const char *mxrtc_version_string(void);

/* ---- errors ------------------------------------------------------------- */

/* Every function that can fail returns one of these (0 or negative). Codes are
 * only ever appended, never renumbered. Remote garbage (a malformed packet,
 * SDP or event) is reported with a recoverable code: the object that rejected
 * it is still usable. */
typedef enum mxrtc_error {
    MXRTC_OK = 0,
    MXRTC_ERR_INVALID_ARGUMENT = -1,   /* the caller passed something invalid */
    MXRTC_ERR_NO_MEMORY = -2,          /* the allocator returned NULL */
    MXRTC_ERR_BUFFER_TOO_SMALL = -3,   /* output buffer too short; size needed is reported where documented */
    MXRTC_ERR_TRUNCATED = -4,          /* input ends before a length it declares */
    MXRTC_ERR_MALFORMED = -5,          /* input violates its wire or text format */
    MXRTC_ERR_UNSUPPORTED = -6,        /* a feature this build does not implement or include */
    MXRTC_ERR_UNKNOWN_ATTRIBUTE = -7,  /* a comprehension-required attribute is unknown (STUN 420) */
    MXRTC_ERR_INTEGRITY = -8,          /* a message authentication check failed */
    MXRTC_ERR_FINGERPRINT = -9,        /* a STUN FINGERPRINT did not match */
    MXRTC_ERR_AUTH = -10,              /* the remote rejected our credentials */
    MXRTC_ERR_TIMEOUT = -11,           /* a transaction or handshake ran out of time */
    MXRTC_ERR_STATE = -12,             /* not allowed in the object's current state (includes a broken drain rule) */
    MXRTC_ERR_LIMIT = -13,             /* a configured bound (table, queue, size) is reached */
    MXRTC_ERR_NOT_FOUND = -14,         /* no such item (transaction, permission, channel, track) */
    MXRTC_ERR_REMOTE = -15,            /* the remote answered with an error response */
    MXRTC_ERR_TLS = -16,               /* a TLS/DTLS protocol failure (alert, bad record) */
    MXRTC_ERR_CRYPTO = -17,            /* a cryptographic primitive failed */
    MXRTC_ERR_AGAIN = -18,             /* nothing available now; try after the next input */
    MXRTC_ERR_CLOSED = -19,            /* the object or session is closed */
    MXRTC_ERR_IO = -20,                /* an operating-system I/O call failed (runner only) */
    MXRTC_ERR_INTERNAL = -21,          /* a bug in mxrtc; please report it */
    MXRTC_ERR_CERTIFICATE = -22,       /* the remote certificate does not match the signalled fingerprint */
    MXRTC_ERR_REPLAY = -23,            /* a replayed (S)RTP packet was dropped */
    MXRTC_ERR_MISMATCH = -24,          /* a response does not match our request (transaction id, attribute) */
    MXRTC_ERR_UNKNOWN = -25            /* end of known codes; never returned */
} mxrtc_error;

/* A static English description of err; never NULL (unknown codes give a generic text). */
MXRTC_API const char *mxrtc_strerror(int err);
/* 1 if the object that returned err cannot be used any more, 0 if it can
 * (bad input from the network is never fatal). */
MXRTC_API int mxrtc_error_is_fatal(int err);

/* ---- time --------------------------------------------------------------- */

/* Microseconds on the caller's monotonic clock. */
typedef uint64_t mxrtc_time_us;
#define MXRTC_TIME_NEVER UINT64_MAX

/* ---- addresses ---------------------------------------------------------- */

typedef enum mxrtc_family {
    MXRTC_AF_UNSPEC = 0,
    MXRTC_AF_INET4 = 4,
    MXRTC_AF_INET6 = 6
} mxrtc_family;

/* A transport address: IP and port, without socket headers so that the core
 * stays portable. ip[] holds 4 bytes (IPv4) or 16 bytes (IPv6) in network order;
 * port is in host order. */
typedef struct mxrtc_addr {
    uint8_t family;      /* mxrtc_family */
    uint8_t reserved;
    uint16_t port;
    uint32_t scope_id;   /* IPv6 link-local scope, 0 otherwise */
    uint8_t ip[16];
} mxrtc_addr;

/* Longest text mxrtc_addr_format() writes, with the terminating NUL:
 * "[" + IPv6 (45) + "%" + scope (10) + "]:" + port (5). */
#define MXRTC_ADDR_STRLEN 72

/* Sets *a to an IPv4 address (4 bytes, network order) and port. */
MXRTC_API void mxrtc_addr_set_ipv4(mxrtc_addr *a, const uint8_t ip[4], uint16_t port);
/* Sets *a to an IPv6 address (16 bytes, network order) and port. */
MXRTC_API void mxrtc_addr_set_ipv6(mxrtc_addr *a, const uint8_t ip[16], uint16_t port);
/* Parses an IPv4 dotted quad or an IPv6 literal (RFC 4291 §2.2, RFC 5952; no
 * brackets, optional "%scope" with a numeric scope) into *a with the given port.
 * MXRTC_ERR_MALFORMED if text is not an IP literal. */
MXRTC_API int mxrtc_addr_parse(mxrtc_addr *a, const char *text, uint16_t port);
/* Writes "1.2.3.4:5" or "[::1]:5" into buf (RFC 5952 canonical IPv6). Returns
 * the length written without the NUL, or MXRTC_ERR_BUFFER_TOO_SMALL. */
MXRTC_API int mxrtc_addr_format(const mxrtc_addr *a, char *buf, size_t len);
/* Like mxrtc_addr_format() without the port ("1.2.3.4", "::1"). */
MXRTC_API int mxrtc_addr_format_ip(const mxrtc_addr *a, char *buf, size_t len);
/* 1 if family, IP and port are equal, else 0. */
MXRTC_API int mxrtc_addr_equal(const mxrtc_addr *a, const mxrtc_addr *b);

/* ---- logging ------------------------------------------------------------ */

typedef enum mxrtc_log_level {
    MXRTC_LOG_ERROR = 0,
    MXRTC_LOG_WARN = 1,
    MXRTC_LOG_INFO = 2,
    MXRTC_LOG_DEBUG = 3,
    MXRTC_LOG_TRACE = 4   /* per-packet lines */
} mxrtc_log_level;

/* Called synchronously from the thread that drives the object, with no lock
 * held. module is a short static tag ("stun", "turn", "ice"...); message is
 * valid for the call only. Addresses, credentials and Matrix IDs are redacted
 * at INFO and above. */
typedef void (*mxrtc_log_fn)(void *user, mxrtc_log_level level,
                             const char *module, const char *message);

typedef struct mxrtc_logger {
    mxrtc_log_fn fn;            /* NULL: no logging */
    void *user;
    mxrtc_log_level max_level;  /* lines above this level are not even formatted */
} mxrtc_logger;

/* ---- allocator ---------------------------------------------------------- */

/* An injectable allocator. All three functions must be set, or the whole
 * struct pointer passed as NULL for the C library's malloc/realloc/free. */
typedef struct mxrtc_allocator {
    void *(*malloc_fn)(void *user, size_t size);
    void *(*realloc_fn)(void *user, void *ptr, size_t size);
    void (*free_fn)(void *user, void *ptr);
    void *user;
} mxrtc_allocator;

/* ---- randomness --------------------------------------------------------- */

/* An injectable random source: fills buf with len bytes, returns MXRTC_OK or an
 * error. Used for transaction ids, ICE credentials, tie-breakers, SSRCs and
 * DTLS. The default (mxrtc_random_os) draws from the operating system. */
typedef int (*mxrtc_random_fn)(void *user, uint8_t *buf, size_t len);

typedef struct mxrtc_random {
    mxrtc_random_fn fn;
    void *user;
} mxrtc_random;

/* The operating system's cryptographic random source (getrandom on Linux,
 * arc4random_buf on macOS/BSD, BCryptGenRandom on Windows). */
MXRTC_API mxrtc_random mxrtc_random_os(void);


/* ---- peer connection ---------------------------------------------------- */

/* One WebRTC peer connection (docs/peer.md): ICE (one component, rtcp-mux,
 * BUNDLE), DTLS-SRTP, RTP/RTCP, Opus and VP8/VP9, JSEP offer/answer. Sans-IO:
 * the host feeds datagrams, TURN stream bytes, media, commands and the time,
 * and after EVERY such input drains mxrtc_peer_poll() until it returns
 * MXRTC_PEER_OUT_DEADLINE. An input while outputs are still waiting is
 * refused with MXRTC_ERR_STATE (the drain rule). One thread at a time. */
typedef struct mxrtc_peer mxrtc_peer;

/* What we do with a kind of media. NONE: no section in our offers (we
 * still accept a remote offer's section, receive-only). The others are the
 * SDP directions (RFC 3264 §5.1); hold is SENDONLY or INACTIVE. */
typedef enum mxrtc_direction {
    MXRTC_DIR_NONE = 0,
    MXRTC_DIR_INACTIVE = 1,
    MXRTC_DIR_SENDONLY = 2,
    MXRTC_DIR_RECVONLY = 3,
    MXRTC_DIR_SENDRECV = 4
} mxrtc_direction;

typedef enum mxrtc_media_kind {
    MXRTC_MEDIA_AUDIO = 1,
    MXRTC_MEDIA_VIDEO = 2
} mxrtc_media_kind;

typedef enum mxrtc_turn_proto {
    MXRTC_TURN_PROTO_UDP = 0,
    MXRTC_TURN_PROTO_TCP = 1,
    MXRTC_TURN_PROTO_TLS = 2
} mxrtc_turn_proto;

/* A TURN server (RFC 8656). Strings are copied by mxrtc_peer_new(). */
typedef struct mxrtc_peer_turn_server {
    mxrtc_addr addr;
    mxrtc_turn_proto proto;
    const char *username;
    const char *password;
    const char *tls_server_name;  /* TLS: SNI and the name verified */
    const char *tls_ca_file;      /* TLS: trusted CA file; NULL: the system's */
} mxrtc_peer_turn_server;

#define MXRTC_PEER_MAX_INTERFACES 8
#define MXRTC_PEER_MAX_SERVERS 4

typedef struct mxrtc_peer_config {
    size_t size;                      /* set by mxrtc_peer_config_init() */
    const mxrtc_allocator *allocator; /* NULL: the C library; must outlive the peer */
    mxrtc_random random;              /* ICE credentials, SSRCs, session id, DTLS */
    mxrtc_logger logger;
    /* Local addresses, each with the port of the UDP socket the host bound
     * there; the first is the preferred interface. */
    mxrtc_addr interfaces[MXRTC_PEER_MAX_INTERFACES];
    size_t interface_count;
    mxrtc_addr stun_servers[MXRTC_PEER_MAX_SERVERS];
    size_t stun_server_count;
    mxrtc_peer_turn_server turn_servers[MXRTC_PEER_MAX_SERVERS];
    size_t turn_server_count;
    int relay_only;                   /* iceTransportPolicy "relay" */
    mxrtc_direction audio;            /* default SENDRECV */
    mxrtc_direction video;            /* default NONE */
    int vp9;                          /* offer VP9 as well as VP8 (if built); default 1 */
    uint32_t video_bitrate_bps;       /* default 800000 */
    uint32_t playout_max_ms;          /* bound of the received-audio buffer, default 300 */
    uint64_t ntp_offset_us;           /* NTP time (us) at the caller's clock zero, for SRs */
} mxrtc_peer_config;

/* Fills cfg with the defaults (OS randomness, audio sendrecv, no video). */
MXRTC_API void mxrtc_peer_config_init(mxrtc_peer_config *cfg);

/* Creates a peer: a fresh DTLS certificate (ECDSA P-256), SSRCs and session
 * id from cfg->random. cfg is borrowed for the call (strings copied).
 * MXRTC_ERR_INVALID_ARGUMENT (size, counts, directions), MXRTC_ERR_NO_MEMORY,
 * MXRTC_ERR_CRYPTO. */
MXRTC_API int mxrtc_peer_new(mxrtc_peer **out, const mxrtc_peer_config *cfg, mxrtc_time_us now);
/* Frees everything, wiping keys. Sends nothing (call mxrtc_peer_close and
 * drain first for a clean hang-up). NULL is fine. */
MXRTC_API void mxrtc_peer_free(mxrtc_peer *p);

/* ---- signalling (JSEP, RFC 8829) ---- */

typedef enum mxrtc_sdp_type {
    MXRTC_SDP_OFFER = 1,
    MXRTC_SDP_ANSWER = 2
} mxrtc_sdp_type;

/* Builds an offer (the first one, or a renegotiation from the current
 * state: media directions, an ICE restart asked for with
 * mxrtc_peer_restart_ice) and writes it with a NUL into buf (the caller's).
 * *len gets the length without the NUL, or on MXRTC_ERR_BUFFER_TOO_SMALL the
 * size needed (nothing else changes then). The offer is remembered until
 * mxrtc_peer_set_local_description or the next create. MXRTC_ERR_STATE while
 * a remote offer is pending or after close, MXRTC_ERR_NO_MEMORY. An input. */
MXRTC_API int mxrtc_peer_create_offer(mxrtc_peer *p, mxrtc_time_us now, char *buf, size_t cap,
                                      size_t *len);
/* The same for an answer to the remote offer set last. MXRTC_ERR_STATE
 * without one. */
MXRTC_API int mxrtc_peer_create_answer(mxrtc_peer *p, mxrtc_time_us now, char *buf, size_t cap,
                                       size_t *len);
/* Applies the description made by the last create_offer/create_answer
 * (edited SDP is not supported). Starts ICE gathering the first time;
 * local candidates then come out as events. MXRTC_ERR_STATE if nothing
 * was created. An input: drain afterwards. */
MXRTC_API int mxrtc_peer_set_local_description(mxrtc_peer *p, mxrtc_time_us now);
/* Writes our latest local description (the one created last, or else the
 * one applied last) with a NUL into buf, with an a=candidate line for each
 * local candidate of the current ICE generation gathered so far (those
 * already given out as MXRTC_PEER_EV_LOCAL_CANDIDATE events, at most 16;
 * RFC 8839 §5.1), in the first bundled section: what a browser's
 * localDescription holds. Host candidates are gathered when the first
 * local description is set, so calling this after
 * mxrtc_peer_set_local_description and draining lets the offer or answer
 * carry them instead of trickling them after it. *len as for create_offer.
 * Not an input. MXRTC_ERR_STATE before any create, MXRTC_ERR_BUFFER_TOO_SMALL,
 * MXRTC_ERR_NO_MEMORY. */
MXRTC_API int mxrtc_peer_local_description(mxrtc_peer *p, char *buf, size_t cap, size_t *len);
/* Parses and applies the remote description (text borrowed for the call;
 * need not be NUL-terminated). Its candidates are added. A new ufrag is an
 * ICE restart; DTLS and SRTP are kept. MXRTC_ERR_MALFORMED / MXRTC_ERR_LIMIT
 * for SDP that does not parse, MXRTC_ERR_UNSUPPORTED for SDP without a
 * usable audio/video section, fingerprint or ICE credentials,
 * MXRTC_ERR_STATE for an answer without our offer; the peer is unchanged
 * after any error. An input. */
MXRTC_API int mxrtc_peer_set_remote_description(mxrtc_peer *p, mxrtc_time_us now,
                                                mxrtc_sdp_type type, const char *sdp, size_t len);
/* A trickled remote candidate: line is "candidate:..." (with or without
 * "a="), NUL-terminated, borrowed for the call; NULL or "" means
 * end-of-candidates. mid may be NULL (everything is bundled). Candidates
 * the ICE agent cannot use are ignored and counted. Before the remote
 * description, up to 16 are kept (copied) and used when it arrives
 * (MXRTC_ERR_LIMIT beyond). MXRTC_ERR_MALFORMED for a line that does not
 * parse, MXRTC_ERR_LIMIT for one over 1024 bytes. */
MXRTC_API int mxrtc_peer_add_remote_candidate(mxrtc_peer *p, mxrtc_time_us now, const char *mid,
                                              const char *line);
/* The answer to an MXRTC_PEER_EV_RESOLVE event (an mDNS name): ip, or NULL
 * if it could not be resolved (both borrowed for the call). An input.
 * MXRTC_ERR_STATE before the ICE agent exists. */
MXRTC_API int mxrtc_peer_resolved(mxrtc_peer *p, mxrtc_time_us now, const char *hostname,
                                  const mxrtc_addr *ip);
/* Changes what we do with a kind of media; takes effect with the next
 * offer (or answer). Not an input (nothing to drain).
 * MXRTC_ERR_INVALID_ARGUMENT. */
MXRTC_API int mxrtc_peer_set_direction(mxrtc_peer *p, mxrtc_media_kind kind, mxrtc_direction dir);
/* The next offer restarts ICE (RFC 8445 §9) with new credentials; DTLS and
 * SRTP continue. Not an input. */
MXRTC_API int mxrtc_peer_restart_ice(mxrtc_peer *p);

/* ---- network inputs ---- */

/* A datagram received on the host's socket at `local` from `remote` (bytes
 * borrowed for the call). Demultiplexed by RFC 7983: STUN and TURN to ICE,
 * DTLS, SRTP/SRTCP. Garbage is dropped and counted (stats), MXRTC_OK.
 * MXRTC_ERR_STATE (drain rule), MXRTC_ERR_CLOSED. */
MXRTC_API int mxrtc_peer_handle_datagram(mxrtc_peer *p, mxrtc_time_us now, const mxrtc_addr *local,
                                         const mxrtc_addr *remote, const uint8_t *data, size_t len);
/* Bytes from the TCP/TLS connection to TURN server `server` (any chunking;
 * borrowed for the call); closed = 1 when that connection closed (data may
 * then be empty). An input. MXRTC_ERR_NOT_FOUND for an unknown server. */
MXRTC_API int mxrtc_peer_handle_stream(mxrtc_peer *p, mxrtc_time_us now, const mxrtc_addr *server,
                                       const uint8_t *data, size_t len, int closed);
/* The clock reached the deadline (early calls are harmless). */
MXRTC_API int mxrtc_peer_handle_timeout(mxrtc_peer *p, mxrtc_time_us now);

/* ---- media ---- */

/* An I420 picture (planes borrowed as documented where it is used). */
typedef struct mxrtc_picture {
    const uint8_t *y, *u, *v;
    int stride_y, stride_u, stride_v;
    int width, height;
    mxrtc_time_us timestamp_us;   /* pushed: capture time; decoded: when the frame completed */
} mxrtc_picture;

/* Captured audio: mono 16-bit PCM at 48 kHz, 480 or 960 samples (10 or 20
 * ms), borrowed for the call. Encoded (Opus, 20 ms) and sent once audio is
 * negotiated for sending and SRTP is up, dropped (and counted) before.
 * MXRTC_ERR_INVALID_ARGUMENT for another length. An input. */
MXRTC_API int mxrtc_peer_push_audio(mxrtc_peer *p, mxrtc_time_us now, const int16_t *pcm,
                                    size_t samples);
/* Playout: fills pcm with `samples` (480: 10 ms) mono 48 kHz samples from the
 * received stream; silence while nothing arrives (counted as concealed once
 * the stream started). Not an input (no drain needed). */
MXRTC_API int mxrtc_peer_pull_audio(mxrtc_peer *p, mxrtc_time_us now, int16_t *pcm, size_t samples);
/* A captured picture (planes borrowed for the call), encoded with the
 * negotiated codec (VP8, or VP9) and sent; dropped before video is
 * negotiated for sending and SRTP is up. An input. */
MXRTC_API int mxrtc_peer_push_video(mxrtc_peer *p, mxrtc_time_us now, const mxrtc_picture *pic);
/* Pre-encoded media (borrowed for the call): one Opus packet of 20 ms for
 * audio, one VP8/VP9 frame for video (keyframe 1 if it is one) in the
 * negotiated codec. capture_us gives the RTP timestamp. An input. */
MXRTC_API int mxrtc_peer_push_encoded(mxrtc_peer *p, mxrtc_time_us now, mxrtc_media_kind kind,
                                      const uint8_t *data, size_t len, mxrtc_time_us capture_us,
                                      int keyframe);

/* Hang-up: RTCP BYE for our streams and a DTLS close_notify, then state
 * CLOSED, then the TURN allocations are released (RFC 8656 §7.2: a Refresh
 * with LIFETIME 0 to every TURN server, on its TCP/TLS connection for
 * turn:?transport=tcp and turns:), so the server frees the relay ports at
 * once instead of after the allocation's lifetime (10 min). A remote
 * close_notify starts the same teardown.
 *
 * What the host does after close: drain as usual (the DATAGRAM and STREAM
 * outputs carry the BYE, close_notify and Refresh requests), then keep
 * feeding mxrtc_peer_handle_timeout at the deadline and what the TURN
 * servers send (mxrtc_peer_handle_datagram, mxrtc_peer_handle_stream)
 * until a DEADLINE output says MXRTC_TIME_NEVER (or the stats' `closing`
 * reads 0, for a host whose runner does the polling): the teardown is over
 * (every deallocation answered, or 2 s passed; the deadlines in between
 * are at most 2 s after the close). Only then close the peer's TCP/TLS
 * connections to TURN servers and its sockets, and free it. During the
 * teardown, datagrams other than STUN/ChannelData from a TURN server, and
 * every other input, give MXRTC_ERR_CLOSED; after it, every input does.
 * A host that frees the peer at once still works; the relays then expire
 * on the server. */
MXRTC_API int mxrtc_peer_close(mxrtc_peer *p, mxrtc_time_us now);

/* ---- outputs ---- */

typedef enum mxrtc_peer_state {
    MXRTC_PEER_STATE_NEW = 0,
    MXRTC_PEER_STATE_CONNECTING = 1,   /* ICE checking or DTLS handshaking */
    MXRTC_PEER_STATE_CONNECTED = 2,    /* ICE has a pair and SRTP is keyed */
    MXRTC_PEER_STATE_DISCONNECTED = 3, /* consent checks unanswered for a while */
    MXRTC_PEER_STATE_FAILED = 4,       /* ICE failed, consent lost or DTLS failed */
    MXRTC_PEER_STATE_CLOSED = 5        /* closed locally or by the remote */
} mxrtc_peer_state;

typedef enum mxrtc_dtls_state {
    MXRTC_DTLS_STATE_NEW = 0,
    MXRTC_DTLS_STATE_CONNECTING = 1,
    MXRTC_DTLS_STATE_CONNECTED = 2,
    MXRTC_DTLS_STATE_FAILED = 3,
    MXRTC_DTLS_STATE_CLOSED = 4
} mxrtc_dtls_state;

typedef enum mxrtc_peer_output_kind {
    MXRTC_PEER_OUT_DEADLINE = 0,  /* nothing more: call handle_timeout at `deadline` */
    MXRTC_PEER_OUT_DATAGRAM = 1,  /* send data/len from local `from` to `to` */
    MXRTC_PEER_OUT_STREAM = 2,    /* write data/len to the TCP/TLS connection to TURN
                                     server `to` (open it first if needed) */
    MXRTC_PEER_OUT_EVENT = 3
} mxrtc_peer_output_kind;

typedef enum mxrtc_peer_event {
    MXRTC_PEER_EV_LOCAL_CANDIDATE = 1,  /* `text` ("candidate:..."), `mid`: signal it */
    MXRTC_PEER_EV_GATHERING_DONE = 2,   /* signal end-of-candidates */
    MXRTC_PEER_EV_STATE = 3,            /* `state`: connection state changed */
    MXRTC_PEER_EV_DTLS_STATE = 4,       /* `dtls_state` changed */
    MXRTC_PEER_EV_REMOTE_TRACK = 5,     /* the remote sends `media` on `mid` */
    MXRTC_PEER_EV_VIDEO_FRAME = 6,      /* `picture`: a decoded frame */
    MXRTC_PEER_EV_KEYFRAME_REQUESTED = 7, /* the remote asked (PLI/FIR): for push_encoded hosts */
    MXRTC_PEER_EV_RESOLVE = 8,          /* resolve `text` (mDNS), answer with mxrtc_peer_resolved */
    MXRTC_PEER_EV_STATS = 9             /* fresh stats (after each RTCP report, ~2/s): read them
                                           with mxrtc_peer_get_stats */
} mxrtc_peer_event;

/* One output. Every pointer in it (data, text, mid, picture planes) is valid
 * until the next mxrtc_peer_poll() call. */
typedef struct mxrtc_peer_output {
    mxrtc_peer_output_kind kind;
    mxrtc_time_us deadline;       /* DEADLINE: MXRTC_TIME_NEVER if none */
    mxrtc_addr from, to;          /* DATAGRAM, STREAM */
    const uint8_t *data;
    size_t len;
    mxrtc_peer_event event;       /* EVENT */
    mxrtc_peer_state state;
    mxrtc_dtls_state dtls_state;
    mxrtc_media_kind media;
    const char *text;
    const char *mid;
    mxrtc_picture picture;
} mxrtc_peer_output;

/* Takes the next output into *out (the caller's). Always MXRTC_OK for a
 * valid peer; MXRTC_ERR_INVALID_ARGUMENT for NULLs. */
MXRTC_API int mxrtc_peer_poll(mxrtc_peer *p, mxrtc_time_us now, mxrtc_peer_output *out);

/* ---- stats ---- */

typedef struct mxrtc_stream_stats {
    uint32_t ssrc;                /* 0: no such stream yet */
    uint64_t packets, bytes;      /* sent (outbound) or received (inbound), media only */
    int64_t packets_lost;         /* inbound: RFC 3550 A.3; outbound: as the remote reports */
    double jitter_s;              /* inbound: RFC 3550 A.8; outbound: as reported */
    uint64_t rtt_us;              /* outbound: from RTCP reports (0 until known) */
    uint64_t nacks;               /* outbound: sequence numbers NACKed to us; inbound: asked for */
    uint64_t retransmitted;       /* outbound: RTX packets sent */
    uint64_t plis;                /* outbound: PLIs/FIRs received; inbound: PLIs sent */
    uint64_t frames;              /* outbound: frames encoded; inbound: frames decoded */
    uint64_t concealed_samples;   /* inbound audio */
} mxrtc_stream_stats;

typedef struct mxrtc_peer_stats {
    size_t size;                  /* the caller sets sizeof(mxrtc_peer_stats) */
    mxrtc_peer_state state;
    mxrtc_dtls_state dtls_state;
    uint64_t garbage_datagrams;   /* not STUN/DTLS/RTP/RTCP, or refused by the demux */
    uint64_t srtp_failures;       /* SRTP/SRTCP that did not authenticate or replayed */
    uint64_t dropped_outputs;     /* outputs lost to a full queue */
    mxrtc_stream_stats audio_out, audio_in, video_out, video_in;
    int closing;                  /* 1 while the teardown after close runs (TURN deallocations,
                                     see mxrtc_peer_close), 0 before the close and once it is over:
                                     for hosts that do not see the deadlines (net/ runner) */
} mxrtc_peer_stats;

/* Fills *st (st->size set by the caller). MXRTC_ERR_INVALID_ARGUMENT. */
MXRTC_API int mxrtc_peer_get_stats(const mxrtc_peer *p, mxrtc_peer_stats *st);

/* The colour space the remote video sender signalled with the WebRTC
 * color-space RTP header extension (http://www.webrtc.org/experiments/
 * rtp-hdrext/color-space; Chromium sends it: BT.709, full range), as its
 * four bytes: H.273 colour primaries, transfer characteristics, matrix
 * coefficients, then range << 4 | chroma siting (range 1 limited, 2 full).
 * Decoded pictures are in that space; convert to RGB with its matrix and
 * range. MXRTC_ERR_NOT_FOUND when none was received: the picture is then
 * BT.601 limited range (what an untagged VP8 stream means in browsers). */
MXRTC_API int mxrtc_peer_video_colour_space(const mxrtc_peer *p, uint8_t out[4]);


/* ---- Matrix 1:1 calls ---------------------------------------------------- */

/* The Matrix VoIP module (spec v1.19 "Voice over IP", m.call.* version 1,
 * version 0 peers accepted) for ONE account device: every call of that
 * device with its peer connection, behind one sans-IO object (docs/nheko.md).
 *
 * The host (a Matrix client) feeds:
 *  - every m.call.* timeline event of its rooms, decrypted, in timeline
 *    order, and m.room.member leaves (mxrtc_calls_feed_event);
 *  - its /voip/turnServer answer (mxrtc_calls_set_turn_servers), again
 *    when MXRTC_CALLS_OUT_TURN_REFRESH asks;
 *  - the user's actions (place, answer, reject, hangup, mute, hold, video);
 *  - the network, exactly as for a peer connection: datagrams received on
 *    the host's UDP sockets (the addresses of cfg->peer->interfaces), bytes
 *    of TURN TCP/TLS connections, answers to RESOLVE, the time;
 *  - captured media per call (push_audio/push_video), and it pulls playout.
 * After EVERY input it drains mxrtc_calls_poll() until it returns
 * MXRTC_CALLS_OUT_DEADLINE (the drain rule, as for mxrtc_peer; an input
 * while outputs wait is MXRTC_ERR_STATE). Outputs: events to send to a room
 * (the host adds the transaction id and retries), incoming calls, call
 * state changes, the remote side's mute and hold, and the peers' datagrams,
 * TCP bytes, names to resolve and decoded video frames, each tagged with
 * its call_id.
 *
 * Datagrams need no call_id: the sockets are shared by every call and
 * mxrtc routes each datagram to its call (STUN by the ICE username, others
 * by the remote address of the call's candidate pairs). One thread at a
 * time. */
typedef struct mxrtc_calls mxrtc_calls;

/* Longest call_id mxrtc creates or accepts, without the NUL. */
#define MXRTC_CALL_ID_MAX 255

typedef struct mxrtc_calls_config {
    size_t size;                      /* set by mxrtc_calls_config_init() */
    const mxrtc_allocator *allocator; /* NULL: the C library; must outlive the object */
    mxrtc_random random;              /* call ids, and every peer's randomness */
    mxrtc_logger logger;
    const char *user_id;              /* our Matrix user id "@me:example.org" (required) */
    const char *device_id;            /* our device id: the party_id we send (required) */
    /* The template of every call's peer connection: interfaces (the host's
     * UDP sockets), STUN/TURN servers (those of set_turn_servers are added),
     * relay_only, video bitrate... Its audio/video directions are set per
     * call. Borrowed for mxrtc_calls_new (copied, strings included). NULL:
     * mxrtc_peer_config_init() defaults, which have no interface. */
    const mxrtc_peer_config *peer;
    uint32_t max_calls;               /* calls tracked at once, ended ones included; 0 (or over 8) = 8 */
    uint32_t invite_lifetime_ms;      /* lifetime of our invites; 0 = 60000 */
    uint32_t candidate_delay_ms;      /* batch local candidates this long; 0 = 200 */
    uint32_t ice_disconnect_timeout_ms; /* disconnected this long ends the call (ice_timeout); 0 = 30000 */
    uint32_t ice_restart_delay_ms;    /* disconnected this long: we restart ICE; 0 = 2000, UINT32_MAX = never */
    /* Trusted CAs (a PEM file, e.g. /etc/ssl/certs/ca-certificates.crt) for
     * the turns: URIs of set_turn_servers, verified against the URI's host
     * name. NULL: turns: URIs are skipped (the core picks no system path).
     * Copied. */
    const char *tls_ca_file;
} mxrtc_calls_config;

MXRTC_API void mxrtc_calls_config_init(mxrtc_calls_config *cfg);

/* Creates the object; nothing is sent. MXRTC_ERR_INVALID_ARGUMENT (size,
 * missing or overlong ids, a bad peer template), MXRTC_ERR_NO_MEMORY. */
MXRTC_API int mxrtc_calls_new(mxrtc_calls **out, const mxrtc_calls_config *cfg, mxrtc_time_us now);
/* Frees every call and peer, wiping keys. Sends nothing: neither a hang-up
 * nor the release of the TURN allocations (mxrtc_peer_close). For a clean
 * exit, hang up, then keep feeding and draining (timeouts, datagrams and
 * TURN stream bytes) until every ended call's teardown is over (the poll's
 * deadline is MXRTC_TIME_NEVER, or mxrtc_calls_get_stats says closing 0 for
 * each ended call), bounded (the teardown takes at most 2 s), then free.
 * NULL is fine. */
MXRTC_API void mxrtc_calls_free(mxrtc_calls *c);

/* ---- signalling inputs ---- */

/* One timeline event of a room. */
typedef struct mxrtc_room_event {
    const char *room_id;
    const char *sender;
    const char *type;             /* "m.call.invite", "m.room.member"... */
    const char *state_key;        /* m.room.member: the member; NULL otherwise */
    const char *content;          /* the event's content, a JSON object (need not be NUL-terminated) */
    size_t content_len;
    /* The event's age ("unsigned.age", ms) when the host received it at
     * `received_at` on the caller's clock; MXRTC_AGE_UNKNOWN if the server
     * gave none (treated as 0). Invite expiry is lifetime minus age. */
    uint64_t age_ms;
    mxrtc_time_us received_at;    /* 0: now */
} mxrtc_room_event;

#define MXRTC_AGE_UNKNOWN UINT64_MAX

/* Feeds one timeline event (all borrowed for the call). MXRTC_OK when it
 * was used or deliberately ignored (not a call event, our own echo, not
 * for us, expired, for an ended call); m.room.member with membership
 * "leave" or "ban" ends the calls with that member. MXRTC_ERR_MALFORMED /
 * MXRTC_ERR_LIMIT for invalid content (*why, if why is not NULL, gets a
 * static English reason; nothing changed), MXRTC_ERR_LIMIT when no call
 * slot is free, MXRTC_ERR_STATE (drain rule). An input. */
MXRTC_API int mxrtc_calls_feed_event(mxrtc_calls *c, mxrtc_time_us now, const mxrtc_room_event *ev,
                                     const char **why);

/* The body of GET /_matrix/client/v3/voip/turnServer ({} and missing
 * fields mean no TURN). Used by calls created from now on (placed, or
 * ringing here); running calls keep theirs. A MXRTC_CALLS_OUT_TURN_REFRESH
 * output (once per answer) asks for it again before its ttl runs out.
 * URIs with a host name come out at once as MXRTC_CALLS_OUT_RESOLVE
 * (call_id NULL, once per distinct name) and are used once resolved;
 * turns: URIs need cfg->tls_ca_file (skipped without), stuns: is skipped.
 * MXRTC_ERR_MALFORMED (not JSON, wrong types; the previous servers stay),
 * MXRTC_ERR_LIMIT. An input. */
MXRTC_API int mxrtc_calls_set_turn_servers(mxrtc_calls *c, mxrtc_time_us now, const char *json,
                                           size_t len);

/* ---- user actions (inputs; MXRTC_ERR_NOT_FOUND for an unknown call_id,
 * MXRTC_ERR_STATE when the call's state does not allow it) ---- */

/* Places a call in room_id to invitee (NULL: anyone in the room, as
 * Element does in 1:1 rooms; set it in rooms with more members). The
 * call_id (NUL-terminated, at most MXRTC_CALL_ID_MAX bytes) goes to
 * call_id_out (cap bytes, at least 64). */
MXRTC_API int mxrtc_calls_place(mxrtc_calls *c, mxrtc_time_us now, const char *room_id,
                                const char *invitee, int video, char *call_id_out, size_t cap);
/* Answers a ringing call, with video (1) or voice only (0). */
MXRTC_API int mxrtc_calls_answer(mxrtc_calls *c, mxrtc_time_us now, const char *call_id, int video);
/* Rejects a ringing call (m.call.reject; m.call.hangup to a version 0 peer). */
MXRTC_API int mxrtc_calls_reject(mxrtc_calls *c, mxrtc_time_us now, const char *call_id);
/* Hangs up a call in any state but ended (reason user_hangup). Its peer
 * is closed and then releases its TURN allocations (mxrtc_peer_close, RFC
 * 8656 §7.2, at most 2 s): keep feeding this object its timeouts, what the
 * TURN servers send (handle_datagram, handle_stream with the ended call's
 * call_id) and draining it until mxrtc_calls_get_stats for that call_id
 * says closing 0; only then close the call's TURN TCP/TLS connections. The
 * same holds for a call ended by the remote (STATE ENDED). */
MXRTC_API int mxrtc_calls_hangup(mxrtc_calls *c, mxrtc_time_us now, const char *call_id);
/* Mutes/unmutes our audio and video (m.call.sdp_stream_metadata_changed;
 * silence and no pictures are sent while muted). */
MXRTC_API int mxrtc_calls_set_mute(mxrtc_calls *c, mxrtc_time_us now, const char *call_id,
                                   int audio_muted, int video_muted);
/* Puts the call on hold (1) or resumes it (0): m.call.negotiate.
 * MXRTC_ERR_UNSUPPORTED with a version 0 peer. */
MXRTC_API int mxrtc_calls_set_hold(mxrtc_calls *c, mxrtc_time_us now, const char *call_id, int hold);
/* Turns our video on or off (m.call.negotiate). Same errors as set_hold. */
MXRTC_API int mxrtc_calls_set_video(mxrtc_calls *c, mxrtc_time_us now, const char *call_id, int video);

/* ---- network inputs (as mxrtc_peer's; the call is found by mxrtc) ---- */

/* A datagram received at `local` from `remote`. One no call claims is
 * dropped and counted, MXRTC_OK. STUN and ChannelData from a TURN server
 * also go to ended calls still releasing their allocations there. */
MXRTC_API int mxrtc_calls_handle_datagram(mxrtc_calls *c, mxrtc_time_us now, const mxrtc_addr *local,
                                          const mxrtc_addr *remote, const uint8_t *data, size_t len);
/* Bytes (or closed = 1) of the TCP/TLS connection to TURN server `server`
 * opened for call_id's MXRTC_CALLS_OUT_STREAM. An ended call's peer takes
 * them while its TURN teardown runs (MXRTC_ERR_CLOSED after it);
 * MXRTC_ERR_NOT_FOUND when the call has no peer any more. */
MXRTC_API int mxrtc_calls_handle_stream(mxrtc_calls *c, mxrtc_time_us now, const char *call_id,
                                        const mxrtc_addr *server, const uint8_t *data, size_t len,
                                        int closed);
/* The answer to MXRTC_CALLS_OUT_RESOLVE: ip (port 0), or NULL when the
 * name could not be resolved. call_id as in the output (NULL for a TURN
 * host name: the servers with that name are used by calls created from
 * then on). MXRTC_ERR_NOT_FOUND when no such call or no URI waits for the
 * name. */
MXRTC_API int mxrtc_calls_resolved(mxrtc_calls *c, mxrtc_time_us now, const char *call_id,
                                   const char *hostname, const mxrtc_addr *ip);
/* The clock reached the deadline (early calls are harmless). */
MXRTC_API int mxrtc_calls_handle_timeout(mxrtc_calls *c, mxrtc_time_us now);

/* ---- media (as mxrtc_peer's, for one call) ---- */

/* Captured audio for call_id (mono 16-bit 48 kHz, 480 or 960 samples).
 * Sent as silence while muted, dropped before the call connects. An input. */
MXRTC_API int mxrtc_calls_push_audio(mxrtc_calls *c, mxrtc_time_us now, const char *call_id,
                                     const int16_t *pcm, size_t samples);
/* Playout of call_id (480 samples = 10 ms); silence when there is none.
 * Not an input. MXRTC_ERR_NOT_FOUND (pcm filled with silence) when the
 * call has no live peer. */
MXRTC_API int mxrtc_calls_pull_audio(mxrtc_calls *c, mxrtc_time_us now, const char *call_id,
                                     int16_t *pcm, size_t samples);
/* A captured picture for call_id; dropped while video is muted or off. An input. */
MXRTC_API int mxrtc_calls_push_video(mxrtc_calls *c, mxrtc_time_us now, const char *call_id,
                                     const mxrtc_picture *pic);

/* ---- outputs ---- */

typedef enum mxrtc_call_state {
    MXRTC_CALL_STATE_NONE = 0,        /* no such call */
    MXRTC_CALL_STATE_INVITE_SENT = 1, /* outgoing, waiting for an answer */
    MXRTC_CALL_STATE_RINGING = 2,     /* incoming, waiting for the user */
    MXRTC_CALL_STATE_CONNECTING = 3,  /* answered; media path being set up */
    MXRTC_CALL_STATE_CONNECTED = 4,
    MXRTC_CALL_STATE_ENDED = 5        /* its TURN teardown may still run: mxrtc_calls_hangup */
} mxrtc_call_state;

/* Why a call ended: the spec's hangup reasons, then local outcomes. */
typedef enum mxrtc_call_end_reason {
    MXRTC_CALL_END_NONE = 0,
    MXRTC_CALL_END_ICE_FAILED = 1,
    MXRTC_CALL_END_ICE_TIMEOUT = 2,
    MXRTC_CALL_END_INVITE_TIMEOUT = 3,
    MXRTC_CALL_END_USER_HANGUP = 4,
    MXRTC_CALL_END_USER_MEDIA_FAILED = 5,
    MXRTC_CALL_END_USER_BUSY = 6,
    MXRTC_CALL_END_UNKNOWN_ERROR = 7,
    MXRTC_CALL_END_REPLACED = 8,           /* glare: replaced by another call (replaced_by) */
    MXRTC_CALL_END_REJECTED = 9,           /* the callee rejected */
    MXRTC_CALL_END_ANSWERED_ELSEWHERE = 10,/* another device took it */
    MXRTC_CALL_END_REJECTED_ELSEWHERE = 11,/* another of our devices rejected it */
    MXRTC_CALL_END_PEER_LEFT = 12          /* the peer left the room */
} mxrtc_call_end_reason;

/* Static names: "connected", "ice_failed"... */
MXRTC_API const char *mxrtc_call_state_name(mxrtc_call_state s);
MXRTC_API const char *mxrtc_call_end_reason_name(mxrtc_call_end_reason r);

/* Hangs up with one of the spec's hangup reasons (m.call.hangup "reason"):
 * ICE_FAILED, ICE_TIMEOUT, INVITE_TIMEOUT (e.g. the user gave up waiting),
 * USER_HANGUP, USER_MEDIA_FAILED (no microphone/camera), USER_BUSY or
 * UNKNOWN_ERROR; any other is MXRTC_ERR_INVALID_ARGUMENT. Our STATE ENDED
 * output carries the same reason. A call ringing here is rejected instead
 * (m.call.reject has no reason). Errors as mxrtc_calls_hangup. An input. */
MXRTC_API int mxrtc_calls_hangup_reason(mxrtc_calls *c, mxrtc_time_us now, const char *call_id,
                                        mxrtc_call_end_reason reason);

typedef enum mxrtc_calls_output_kind {
    MXRTC_CALLS_OUT_DEADLINE = 0,     /* nothing more: handle_timeout at `deadline` */
    MXRTC_CALLS_OUT_SEND_EVENT = 1,   /* send `type` with `content` to `room_id` */
    MXRTC_CALLS_OUT_INCOMING = 2,     /* call_id rings: room_id, sender, video */
    MXRTC_CALLS_OUT_STATE = 3,        /* call_id's state; ENDED: end_reason, remote_ended, replaced_by */
    MXRTC_CALLS_OUT_REMOTE_MEDIA = 4, /* the remote muted/unmuted: remote_audio_muted, remote_video_muted */
    MXRTC_CALLS_OUT_HOLD = 5,         /* hold changed: local_hold, remote_hold */
    MXRTC_CALLS_OUT_DATAGRAM = 6,     /* send data/len from `from` to `to` (UDP) */
    MXRTC_CALLS_OUT_STREAM = 7,       /* write data/len to the TCP connection of call_id to TURN server `to` */
    MXRTC_CALLS_OUT_RESOLVE = 8,      /* resolve `text` (mDNS .local, or a TURN host name when call_id is NULL) */
    MXRTC_CALLS_OUT_VIDEO_FRAME = 9,  /* `picture`: a decoded frame of call_id */
    MXRTC_CALLS_OUT_TURN_REFRESH = 10 /* fetch /voip/turnServer again and pass it to set_turn_servers */
} mxrtc_calls_output_kind;

/* One output. Every pointer in it is valid until the next call on c. */
typedef struct mxrtc_calls_output {
    mxrtc_calls_output_kind kind;
    mxrtc_time_us deadline;           /* DEADLINE: MXRTC_TIME_NEVER if none */
    const char *call_id;              /* NULL for outputs of no call */
    const char *room_id;              /* SEND_EVENT, INCOMING, STATE */
    const char *type;                 /* SEND_EVENT: the event type */
    const char *content;              /* SEND_EVENT: JSON object, NUL-terminated */
    size_t content_len;
    const char *sender;               /* INCOMING: the caller */
    int video;                        /* INCOMING: the invite offers video */
    mxrtc_call_state state;           /* STATE */
    mxrtc_call_end_reason end_reason; /* STATE ENDED */
    int remote_ended;                 /* STATE ENDED: the other side ended it */
    const char *replaced_by;          /* STATE ENDED by REPLACED: the new call_id */
    int remote_audio_muted, remote_video_muted;  /* REMOTE_MEDIA */
    int local_hold, remote_hold;      /* HOLD */
    mxrtc_addr from, to;              /* DATAGRAM, STREAM */
    const uint8_t *data;              /* DATAGRAM, STREAM */
    size_t len;
    const char *text;                 /* RESOLVE: the host name */
    mxrtc_picture picture;            /* VIDEO_FRAME */
} mxrtc_calls_output;

/* Takes the next output into *out. MXRTC_OK; MXRTC_ERR_INVALID_ARGUMENT.
 * Order: the call layer's outputs first (SEND_EVENT... in the order they
 * were made), then each call's network outputs; DEADLINE last (the
 * earliest timer of every call and of the TURN refresh). */
MXRTC_API int mxrtc_calls_poll(mxrtc_calls *c, mxrtc_time_us now, mxrtc_calls_output *out);

/* call_id's state (NONE if unknown). */
MXRTC_API mxrtc_call_state mxrtc_calls_state(const mxrtc_calls *c, const char *call_id);
/* call_id's peer statistics (st->size set by the caller); MXRTC_ERR_NOT_FOUND
 * when the call has no peer (any more). An ended call's peer stays
 * readable until a new call needs its slot. */
MXRTC_API int mxrtc_calls_get_stats(const mxrtc_calls *c, const char *call_id, mxrtc_peer_stats *st);
/* The colour space of call_id's received video, as
 * mxrtc_peer_video_colour_space(); MXRTC_ERR_NOT_FOUND when the call has no
 * peer (any more) or none was signalled. */
MXRTC_API int mxrtc_calls_video_colour_space(const mxrtc_calls *c, const char *call_id, uint8_t out[4]);

typedef struct mxrtc_calls_counters {
    size_t size;                      /* the caller sets sizeof(mxrtc_calls_counters) */
    uint64_t events_rejected;         /* malformed or over-limit events */
    uint64_t events_ignored;          /* echo, not for us, expired, unknown call */
    uint64_t datagrams_unrouted;      /* datagrams no call claimed */
    uint64_t outputs_dropped;         /* outputs lost to a full queue */
} mxrtc_calls_counters;

MXRTC_API int mxrtc_calls_get_counters(const mxrtc_calls *c, mxrtc_calls_counters *out);

#ifdef __cplusplus
}
#endif

#endif /* MXRTC_H */
