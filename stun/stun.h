/*
 * stun.h: the STUN message codec (RFC 8489) and its credentials, the face of
 * the stun/ module for ICE and TURN.
 *
 * Decoding never copies: a decoded mxrtc_stun_msg borrows the caller's buffer
 * and records where each attribute is. Encoding writes into the caller's
 * buffer through an mxrtc_stun_builder. Nothing here allocates.
 */
#ifndef MXRTC_STUN_STUN_H
#define MXRTC_STUN_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytes.h"
#include "mxrtc.h"

/* RFC 8489 §5: fixed header and magic cookie. */
#define MXRTC_STUN_HEADER_SIZE 20
#define MXRTC_STUN_MAGIC_COOKIE 0x2112A442u
#define MXRTC_STUN_TID_SIZE 12
/* Attributes kept per decoded message; a message with more is refused
 * (MXRTC_ERR_LIMIT), so a hostile datagram cannot make us walk thousands. */
#define MXRTC_STUN_MAX_ATTRS 40
/* Unknown comprehension-required attributes remembered for a 420 answer. */
#define MXRTC_STUN_MAX_UNKNOWN 8
/* Longest text attributes accepted (RFC 8489 §14.3, §14.9, §14.10, §14.14). */
#define MXRTC_STUN_MAX_USERNAME 513
#define MXRTC_STUN_MAX_REALM 763
#define MXRTC_STUN_MAX_NONCE 763
#define MXRTC_STUN_MAX_SOFTWARE 763
#define MXRTC_STUN_MAX_REASON 763

/* RFC 8489 §5: the class bits C1 C0 spread through the type field. */
typedef enum mxrtc_stun_class {
    MXRTC_STUN_REQUEST = 0,
    MXRTC_STUN_INDICATION = 1,
    MXRTC_STUN_SUCCESS = 2,
    MXRTC_STUN_ERROR = 3
} mxrtc_stun_class;

/* Methods: RFC 8489 §18.2 (Binding), RFC 8656 §17 (TURN). */
enum {
    MXRTC_STUN_BINDING = 0x001,
    MXRTC_STUN_ALLOCATE = 0x003,
    MXRTC_STUN_REFRESH = 0x004,
    MXRTC_STUN_SEND = 0x006,
    MXRTC_STUN_DATA = 0x007,
    MXRTC_STUN_CREATE_PERMISSION = 0x008,
    MXRTC_STUN_CHANNEL_BIND = 0x009
};

/* Attribute types: RFC 8489 §18.3, RFC 8656 §18, RFC 8445 §16.1. Types below
 * 0x8000 are comprehension-required (§14). */
enum {
    MXRTC_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
    MXRTC_STUN_ATTR_USERNAME = 0x0006,
    MXRTC_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
    MXRTC_STUN_ATTR_ERROR_CODE = 0x0009,
    MXRTC_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
    MXRTC_STUN_ATTR_CHANNEL_NUMBER = 0x000C,
    MXRTC_STUN_ATTR_LIFETIME = 0x000D,
    MXRTC_STUN_ATTR_XOR_PEER_ADDRESS = 0x0012,
    MXRTC_STUN_ATTR_DATA = 0x0013,
    MXRTC_STUN_ATTR_REALM = 0x0014,
    MXRTC_STUN_ATTR_NONCE = 0x0015,
    MXRTC_STUN_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
    MXRTC_STUN_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
    MXRTC_STUN_ATTR_EVEN_PORT = 0x0018,
    MXRTC_STUN_ATTR_REQUESTED_TRANSPORT = 0x0019,
    MXRTC_STUN_ATTR_DONT_FRAGMENT = 0x001A,
    MXRTC_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
    MXRTC_STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,
    MXRTC_STUN_ATTR_USERHASH = 0x001E,
    MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    MXRTC_STUN_ATTR_RESERVATION_TOKEN = 0x0022,
    MXRTC_STUN_ATTR_PRIORITY = 0x0024,
    MXRTC_STUN_ATTR_USE_CANDIDATE = 0x0025,
    /* comprehension-optional */
    MXRTC_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY = 0x8000,
    MXRTC_STUN_ATTR_ADDRESS_ERROR_CODE = 0x8001,
    MXRTC_STUN_ATTR_PASSWORD_ALGORITHMS = 0x8002,
    MXRTC_STUN_ATTR_ALTERNATE_DOMAIN = 0x8003,
    MXRTC_STUN_ATTR_ICMP = 0x8004,
    MXRTC_STUN_ATTR_SOFTWARE = 0x8022,
    MXRTC_STUN_ATTR_ALTERNATE_SERVER = 0x8023,
    MXRTC_STUN_ATTR_FINGERPRINT = 0x8028,
    MXRTC_STUN_ATTR_ICE_CONTROLLED = 0x8029,
    MXRTC_STUN_ATTR_ICE_CONTROLLING = 0x802A,
    MXRTC_STUN_ATTR_RESPONSE_ORIGIN = 0x802B,
    MXRTC_STUN_ATTR_OTHER_ADDRESS = 0x802C
};

/* PASSWORD-ALGORITHM values, RFC 8489 §18.5. */
enum {
    MXRTC_STUN_PASSWORD_MD5 = 0x0001,
    MXRTC_STUN_PASSWORD_SHA256 = 0x0002
};

/* Error codes used by ICE and TURN (RFC 8489 §14.8, RFC 8656 §19, RFC 8445 §7.3.1.1). */
enum {
    MXRTC_STUN_ERR_TRY_ALTERNATE = 300,
    MXRTC_STUN_ERR_BAD_REQUEST = 400,
    MXRTC_STUN_ERR_UNAUTHORIZED = 401,
    MXRTC_STUN_ERR_FORBIDDEN = 403,
    MXRTC_STUN_ERR_UNKNOWN_ATTRIBUTE = 420,
    MXRTC_STUN_ERR_ALLOCATION_MISMATCH = 437,
    MXRTC_STUN_ERR_STALE_NONCE = 438,
    MXRTC_STUN_ERR_ADDRESS_FAMILY_NOT_SUPPORTED = 440,
    MXRTC_STUN_ERR_WRONG_CREDENTIALS = 441,
    MXRTC_STUN_ERR_UNSUPPORTED_TRANSPORT = 442,
    MXRTC_STUN_ERR_PEER_ADDRESS_FAMILY_MISMATCH = 443,
    MXRTC_STUN_ERR_ALLOCATION_QUOTA = 486,
    MXRTC_STUN_ERR_ROLE_CONFLICT = 487,
    MXRTC_STUN_ERR_SERVER_ERROR = 500,
    MXRTC_STUN_ERR_INSUFFICIENT_CAPACITY = 508
};

/* One attribute of a decoded message; value points into the message buffer. */
typedef struct mxrtc_stun_attr {
    uint16_t type;
    uint16_t len;            /* value length without padding */
    uint16_t offset;         /* offset of the attribute header in the message */
    const uint8_t *value;
} mxrtc_stun_attr;

/* A decoded message. Borrows the buffer given to mxrtc_stun_decode(). */
typedef struct mxrtc_stun_msg {
    uint16_t method;
    uint8_t cls;                       /* mxrtc_stun_class */
    uint8_t tid[MXRTC_STUN_TID_SIZE];
    const uint8_t *raw;
    size_t raw_len;                    /* header + attributes */
    size_t nattrs;
    mxrtc_stun_attr attrs[MXRTC_STUN_MAX_ATTRS];
    /* Indexes into attrs, or -1 when absent. */
    int integrity;                     /* MESSAGE-INTEGRITY */
    int integrity_sha256;              /* MESSAGE-INTEGRITY-SHA256 */
    int fingerprint;                   /* FINGERPRINT (already verified by decode) */
    size_t nunknown;                   /* unknown comprehension-required types seen */
    uint16_t unknown[MXRTC_STUN_MAX_UNKNOWN];
} mxrtc_stun_msg;

/* ---- recognising -------------------------------------------------------- */

/* True if buf starts like a STUN message: first two bits zero, magic cookie,
 * length a multiple of 4 (RFC 8489 §5; RFC 7983 demultiplexing). Cheap. */
bool mxrtc_stun_is_message(const uint8_t *buf, size_t len);

/* ---- decoding ----------------------------------------------------------- */

/* Decodes the message in buf[0..len) into *m (which then borrows buf).
 * Checks: header (§5), lengths and padding of every attribute (§14), the
 * declared length against len (trailing bytes after the message are an error
 * on datagrams: MXRTC_ERR_MALFORMED), the position rules of MESSAGE-INTEGRITY,
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT (§14.5–14.7: attributes after them
 * are ignored, except that only the SHA256 integrity and FINGERPRINT may follow
 * MESSAGE-INTEGRITY and nothing may follow FINGERPRINT), and the FINGERPRINT
 * value when present.
 * Returns MXRTC_OK; MXRTC_ERR_TRUNCATED (len shorter than the header or the
 * declared length); MXRTC_ERR_MALFORMED (not STUN, bad attribute length,
 * trailing bytes); MXRTC_ERR_FINGERPRINT; MXRTC_ERR_LIMIT (too many
 * attributes); MXRTC_ERR_UNKNOWN_ATTRIBUTE when the message is otherwise valid
 * but carries comprehension-required attributes we do not know: *m is then
 * complete, so that a server can answer a request with 420 (see
 * mxrtc_stun_build_unknown_attributes) while a client discards responses (§6.3). */
int mxrtc_stun_decode(mxrtc_stun_msg *m, const uint8_t *buf, size_t len);

/* The first attribute of this type, or NULL. RFC 8489 §14: later duplicates
 * are ignored. Attributes after MESSAGE-INTEGRITY are not returned except
 * MESSAGE-INTEGRITY-SHA256 and FINGERPRINT. */
const mxrtc_stun_attr *mxrtc_stun_find(const mxrtc_stun_msg *m, uint16_t type);

/* Typed readers. Each returns MXRTC_ERR_NOT_FOUND if the attribute is absent,
 * MXRTC_ERR_MALFORMED if its value is not of the right form. */

/* XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS (§14.2). */
int mxrtc_stun_get_xor_addr(const mxrtc_stun_msg *m, uint16_t type, mxrtc_addr *out);
/* MAPPED-ADDRESS, ALTERNATE-SERVER, RESPONSE-ORIGIN, OTHER-ADDRESS (§14.1). */
int mxrtc_stun_get_addr(const mxrtc_stun_msg *m, uint16_t type, mxrtc_addr *out);
/* 32-bit values: PRIORITY, LIFETIME (length must be 4). */
int mxrtc_stun_get_u32(const mxrtc_stun_msg *m, uint16_t type, uint32_t *out);
/* 64-bit values: ICE-CONTROLLING, ICE-CONTROLLED, RESERVATION-TOKEN. */
int mxrtc_stun_get_u64(const mxrtc_stun_msg *m, uint16_t type, uint64_t *out);
/* Text attributes (USERNAME, REALM, NONCE, SOFTWARE): pointer into the
 * message and length, not NUL-terminated. Lengths beyond the RFC maxima
 * are MXRTC_ERR_MALFORMED. */
int mxrtc_stun_get_text(const mxrtc_stun_msg *m, uint16_t type, const char **text, size_t *len);
/* ERROR-CODE (§14.8): code 300..699, reason borrowed (may be empty). */
int mxrtc_stun_get_error(const mxrtc_stun_msg *m, int *code, const char **reason, size_t *reason_len);
/* UNKNOWN-ATTRIBUTES (§14.9): up to max types copied, *n set to the count copied. */
int mxrtc_stun_get_unknown_attributes(const mxrtc_stun_msg *m, uint16_t *types, size_t max, size_t *n);
/* CHANNEL-NUMBER (RFC 8656 §18.1): the number; RFFU bits ignored. */
int mxrtc_stun_get_channel(const mxrtc_stun_msg *m, uint16_t *channel);
/* PASSWORD-ALGORITHMS (§14.11): algorithm ids copied, *n set. */
int mxrtc_stun_get_password_algorithms(const mxrtc_stun_msg *m, uint16_t *algs, size_t max, size_t *n);
/* DATA (RFC 8656 §18.4): borrowed bytes. */
int mxrtc_stun_get_data(const mxrtc_stun_msg *m, const uint8_t **data, size_t *len);

/* ---- integrity ---------------------------------------------------------- */

/* Key lengths: short-term keys are the password itself; long-term keys are
 * MD5 (16 bytes) or SHA-256 (32 bytes) of "username:realm:password". */
#define MXRTC_STUN_KEY_MAX 64

typedef struct mxrtc_stun_key {
    uint8_t bytes[MXRTC_STUN_KEY_MAX];
    size_t len;
} mxrtc_stun_key;

/* Short-term credential key (RFC 8489 §9.1.2): the password bytes. The
 * OpaqueString profile (RFC 8265) is not applied: ICE passwords are ASCII
 * ice-chars, for which it is the identity. MXRTC_ERR_LIMIT if longer than
 * MXRTC_STUN_KEY_MAX. */
int mxrtc_stun_key_short_term(mxrtc_stun_key *key, const char *password, size_t len);
/* Long-term credential key (RFC 8489 §9.2.2): MD5 or SHA-256 of
 * username ":" realm ":" password. The inputs are used as given: OpaqueString
 * and SASLprep are not applied (identical for ASCII credentials such as TURN
 * REST ones); MXRTC_ERR_UNSUPPORTED for any other algorithm. */
int mxrtc_stun_key_long_term(mxrtc_stun_key *key, uint16_t algorithm,
                             const char *username, size_t ulen,
                             const char *realm, size_t rlen,
                             const char *password, size_t plen);
/* Wipes the key. */
void mxrtc_stun_key_clear(mxrtc_stun_key *key);

/* Verifies MESSAGE-INTEGRITY-SHA256 if present, else MESSAGE-INTEGRITY
 * (§14.5, §14.6: HMAC over the message up to the attribute, with the length
 * field covering it). MXRTC_OK, MXRTC_ERR_INTEGRITY on mismatch,
 * MXRTC_ERR_NOT_FOUND when the message carries neither. Comparison runs in
 * constant time. */
int mxrtc_stun_check_integrity(const mxrtc_stun_msg *m, const mxrtc_stun_key *key);

/* USERHASH (§14.4): SHA-256 of username ":" realm into out[32]. */
int mxrtc_stun_userhash(uint8_t out[32], const char *username, size_t ulen,
                        const char *realm, size_t rlen);

/* CRC-32 (ISO 3309 / ITU-T V.42, as used by FINGERPRINT §14.7). */
uint32_t mxrtc_crc32(const uint8_t *data, size_t len);

/* ---- encoding ----------------------------------------------------------- */

typedef struct mxrtc_stun_builder {
    mxrtc_writer w;
    uint8_t pad_byte;   /* padding value (0 by default; RFC 5769 vectors use 0x20) */
    bool sealed;        /* after FINGERPRINT nothing else may be added */
    bool has_integrity;
} mxrtc_stun_builder;

/* Starts a message in buf. The header's length is kept current as attributes
 * are added. MXRTC_ERR_BUFFER_TOO_SMALL if cap < 20, MXRTC_ERR_INVALID_ARGUMENT
 * if method > 0xFFF. */
int mxrtc_stun_build_begin(mxrtc_stun_builder *b, uint8_t *buf, size_t cap,
                           uint16_t method, mxrtc_stun_class cls,
                           const uint8_t tid[MXRTC_STUN_TID_SIZE]);
/* Any attribute from raw value bytes (padded to 4). */
int mxrtc_stun_add(mxrtc_stun_builder *b, uint16_t type, const void *value, size_t len);
int mxrtc_stun_add_u32(mxrtc_stun_builder *b, uint16_t type, uint32_t v);
int mxrtc_stun_add_u64(mxrtc_stun_builder *b, uint16_t type, uint64_t v);
int mxrtc_stun_add_text(mxrtc_stun_builder *b, uint16_t type, const char *text, size_t len);
int mxrtc_stun_add_flag(mxrtc_stun_builder *b, uint16_t type);   /* zero-length, e.g. USE-CANDIDATE */
int mxrtc_stun_add_xor_addr(mxrtc_stun_builder *b, uint16_t type, const mxrtc_addr *a);
int mxrtc_stun_add_addr(mxrtc_stun_builder *b, uint16_t type, const mxrtc_addr *a);
int mxrtc_stun_add_error(mxrtc_stun_builder *b, int code, const char *reason);
int mxrtc_stun_add_unknown_attributes(mxrtc_stun_builder *b, const uint16_t *types, size_t n);
int mxrtc_stun_add_channel(mxrtc_stun_builder *b, uint16_t channel);
/* REQUESTED-TRANSPORT (RFC 8656 §18.7): protocol 17 for UDP. */
int mxrtc_stun_add_requested_transport(mxrtc_stun_builder *b, uint8_t protocol);
/* MESSAGE-INTEGRITY (HMAC-SHA1, §14.5) over everything so far. */
int mxrtc_stun_add_integrity(mxrtc_stun_builder *b, const mxrtc_stun_key *key);
/* MESSAGE-INTEGRITY-SHA256 (§14.6), full 32 bytes. */
int mxrtc_stun_add_integrity_sha256(mxrtc_stun_builder *b, const mxrtc_stun_key *key);
/* FINGERPRINT (§14.7); seals the message. */
int mxrtc_stun_add_fingerprint(mxrtc_stun_builder *b);
/* Finishes: returns the message length (> 0) or the first error met while
 * building (MXRTC_ERR_BUFFER_TOO_SMALL, MXRTC_ERR_INVALID_ARGUMENT, MXRTC_ERR_STATE). */
int mxrtc_stun_build_end(mxrtc_stun_builder *b);

/* Builds the 420 answer to a request whose decode reported unknown
 * comprehension-required attributes (§6.3.1.1). Returns the length or an error. */
int mxrtc_stun_build_unknown_attributes(const mxrtc_stun_msg *req, uint8_t *buf, size_t cap);

/* Name of a method or attribute, for logs ("Binding", "XOR-MAPPED-ADDRESS"),
 * "unknown" otherwise. */
const char *mxrtc_stun_method_name(uint16_t method);
const char *mxrtc_stun_attr_name(uint16_t type);

#endif /* MXRTC_STUN_STUN_H */
