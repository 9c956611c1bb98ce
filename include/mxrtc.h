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

#ifdef __cplusplus
}
#endif

#endif /* MXRTC_H */
