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
 * CLOSED. Drain afterwards to send them. Later inputs give MXRTC_ERR_CLOSED. */
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
} mxrtc_peer_stats;

/* Fills *st (st->size set by the caller). MXRTC_ERR_INVALID_ARGUMENT. */
MXRTC_API int mxrtc_peer_get_stats(const mxrtc_peer *p, mxrtc_peer_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* MXRTC_H */
