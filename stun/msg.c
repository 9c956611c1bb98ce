/*
 * msg.c: STUN message header and attribute walk (RFC 8489 §5, §14), and the
 * builder that writes messages into a caller's buffer.
 */
#include <string.h>

#include "stun/stun.h"

/* RFC 8489 §14.7: FINGERPRINT is the CRC-32 xor this ASCII "STUN". */
#define FINGERPRINT_XOR 0x5354554eu

/* §5: the method bits M0..M11 and class bits C0, C1 are interleaved:
 *   0                 1
 *   2  3  4 5 6 7 8 9 0 1 2 3 4 5
 *  +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |M |M |M|M|M|C|M|M|M|C|M|M|M|M|
 *  |11|10|9|8|7|1|6|5|4|0|3|2|1|0|
 */
static uint16_t type_encode(uint16_t method, unsigned cls) {
    return (uint16_t)(((method & 0x0F80u) << 2) | ((method & 0x0070u) << 1) | (method & 0x000Fu) |
                      ((cls & 2u) << 7) | ((cls & 1u) << 4));
}

static void type_decode(uint16_t t, uint16_t *method, uint8_t *cls) {
    *method = (uint16_t)(((t & 0x3E00u) >> 2) | ((t & 0x00E0u) >> 1) | (t & 0x000Fu));
    *cls = (uint8_t)(((t & 0x0100u) >> 7) | ((t & 0x0010u) >> 4));
}

bool mxrtc_stun_is_message(const uint8_t *buf, size_t len) {
    if (!buf || len < MXRTC_STUN_HEADER_SIZE) return false;
    if (buf[0] & 0xC0) return false;                        /* §5: top two bits zero */
    if (mxrtc_load_u32(buf + 4) != MXRTC_STUN_MAGIC_COOKIE) return false;
    return (mxrtc_load_u16(buf + 2) & 3) == 0;             /* §5: length is a multiple of 4 */
}

/* Attributes this implementation understands; any other type below 0x8000
 * is an unknown comprehension-required attribute (§6.3). */
static bool known_type(uint16_t t) {
    switch (t) {
    case MXRTC_STUN_ATTR_MAPPED_ADDRESS:
    case MXRTC_STUN_ATTR_USERNAME:
    case MXRTC_STUN_ATTR_MESSAGE_INTEGRITY:
    case MXRTC_STUN_ATTR_ERROR_CODE:
    case MXRTC_STUN_ATTR_UNKNOWN_ATTRIBUTES:
    case MXRTC_STUN_ATTR_CHANNEL_NUMBER:
    case MXRTC_STUN_ATTR_LIFETIME:
    case MXRTC_STUN_ATTR_XOR_PEER_ADDRESS:
    case MXRTC_STUN_ATTR_DATA:
    case MXRTC_STUN_ATTR_REALM:
    case MXRTC_STUN_ATTR_NONCE:
    case MXRTC_STUN_ATTR_XOR_RELAYED_ADDRESS:
    case MXRTC_STUN_ATTR_REQUESTED_ADDRESS_FAMILY:
    case MXRTC_STUN_ATTR_EVEN_PORT:
    case MXRTC_STUN_ATTR_REQUESTED_TRANSPORT:
    case MXRTC_STUN_ATTR_DONT_FRAGMENT:
    case MXRTC_STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
    case MXRTC_STUN_ATTR_PASSWORD_ALGORITHM:
    case MXRTC_STUN_ATTR_USERHASH:
    case MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS:
    case MXRTC_STUN_ATTR_RESERVATION_TOKEN:
    case MXRTC_STUN_ATTR_PRIORITY:
    case MXRTC_STUN_ATTR_USE_CANDIDATE:
        return true;
    default:
        return t >= 0x8000;
    }
}

int mxrtc_stun_decode(mxrtc_stun_msg *m, const uint8_t *buf, size_t len) {
    if (!m || (!buf && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    m->nattrs = 0;
    m->nunknown = 0;
    m->integrity = m->integrity_sha256 = m->fingerprint = -1;
    if (len < MXRTC_STUN_HEADER_SIZE) return MXRTC_ERR_TRUNCATED;

    mxrtc_reader r;
    mxrtc_reader_init(&r, buf, len);
    uint16_t type = mxrtc_read_u16(&r);
    uint16_t body = mxrtc_read_u16(&r);
    uint32_t cookie = mxrtc_read_u32(&r);
    mxrtc_read_bytes(&r, m->tid, MXRTC_STUN_TID_SIZE);
    if ((type & 0xC000) || cookie != MXRTC_STUN_MAGIC_COOKIE || (body & 3)) return MXRTC_ERR_MALFORMED;
    if ((size_t)body + MXRTC_STUN_HEADER_SIZE > len) return MXRTC_ERR_TRUNCATED;
    if ((size_t)body + MXRTC_STUN_HEADER_SIZE < len) return MXRTC_ERR_MALFORMED;
    type_decode(type, &m->method, &m->cls);
    m->raw = buf;
    m->raw_len = len;

    bool after_integrity = false;
    while (mxrtc_reader_remaining(&r) > 0) {
        size_t offset = r.pos;
        uint16_t at = mxrtc_read_u16(&r);
        uint16_t alen = mxrtc_read_u16(&r);
        const uint8_t *value = mxrtc_read_ptr(&r, alen);
        mxrtc_read_skip(&r, (4u - (alen & 3u)) & 3u);   /* §14: padded to 4 bytes */
        if (r.error) return MXRTC_ERR_MALFORMED;

        if (m->fingerprint >= 0) return MXRTC_ERR_MALFORMED;  /* §14.7: FINGERPRINT is last */
        if (after_integrity && at != MXRTC_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 &&
            at != MXRTC_STUN_ATTR_FINGERPRINT)
            continue;  /* §14.5: ignored after MESSAGE-INTEGRITY */
        if (m->integrity_sha256 >= 0 && at != MXRTC_STUN_ATTR_FINGERPRINT)
            continue;  /* §14.6: only FINGERPRINT may follow */
        if (m->nattrs == MXRTC_STUN_MAX_ATTRS) return MXRTC_ERR_LIMIT;

        mxrtc_stun_attr *a = &m->attrs[m->nattrs];
        a->type = at;
        a->len = alen;
        a->offset = (uint16_t)offset;
        a->value = value;
        int idx = (int)m->nattrs++;

        switch (at) {
        case MXRTC_STUN_ATTR_MESSAGE_INTEGRITY:
            if (alen != 20) return MXRTC_ERR_MALFORMED;
            if (m->integrity < 0) m->integrity = idx;
            after_integrity = true;
            break;
        case MXRTC_STUN_ATTR_MESSAGE_INTEGRITY_SHA256:
            /* §14.6: 16 to 32 bytes, a multiple of 4. */
            if (alen < 16 || alen > 32 || (alen & 3)) return MXRTC_ERR_MALFORMED;
            if (m->integrity_sha256 < 0) m->integrity_sha256 = idx;
            after_integrity = true;
            break;
        case MXRTC_STUN_ATTR_FINGERPRINT: {
            if (alen != 4) return MXRTC_ERR_MALFORMED;
            uint32_t want = mxrtc_crc32(buf, offset) ^ FINGERPRINT_XOR;
            if (mxrtc_load_u32(value) != want) return MXRTC_ERR_FINGERPRINT;
            m->fingerprint = idx;
            break;
        }
        default:
            if (!known_type(at) && m->nunknown < MXRTC_STUN_MAX_UNKNOWN) {
                bool dup = false;
                for (size_t i = 0; i < m->nunknown; i++) dup |= (m->unknown[i] == at);
                if (!dup) m->unknown[m->nunknown++] = at;
            }
            break;
        }
    }
    return m->nunknown ? MXRTC_ERR_UNKNOWN_ATTRIBUTE : MXRTC_OK;
}

const mxrtc_stun_attr *mxrtc_stun_find(const mxrtc_stun_msg *m, uint16_t type) {
    for (size_t i = 0; i < m->nattrs; i++)
        if (m->attrs[i].type == type) return &m->attrs[i];
    return NULL;
}

/* ---- builder ------------------------------------------------------------ */

static void sync_length(mxrtc_stun_builder *b) {
    if (!b->w.error) mxrtc_store_u16(b->w.data + 2, (uint16_t)(b->w.pos - MXRTC_STUN_HEADER_SIZE));
}

int mxrtc_stun_build_begin(mxrtc_stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
                           mxrtc_stun_class cls, const uint8_t tid[MXRTC_STUN_TID_SIZE]) {
    if (!b || !buf || !tid || method > 0x0FFF || (unsigned)cls > 3) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_writer_init(&b->w, buf, cap > 0xFFFF + MXRTC_STUN_HEADER_SIZE ? 0xFFFF + MXRTC_STUN_HEADER_SIZE : cap);
    b->pad_byte = 0;
    b->sealed = false;
    b->has_integrity = false;
    mxrtc_write_u16(&b->w, type_encode(method, (unsigned)cls));
    mxrtc_write_u16(&b->w, 0);
    mxrtc_write_u32(&b->w, MXRTC_STUN_MAGIC_COOKIE);
    mxrtc_write_bytes(&b->w, tid, MXRTC_STUN_TID_SIZE);
    return b->w.error ? MXRTC_ERR_BUFFER_TOO_SMALL : MXRTC_OK;
}

/* Reserves an attribute header and its padded value; returns the value pointer. */
static uint8_t *attr_reserve(mxrtc_stun_builder *b, uint16_t type, size_t len) {
    if (b->sealed || len > 0xFFFF) {
        b->w.error = true;
        return NULL;
    }
    size_t pad = (4u - (len & 3u)) & 3u;
    uint8_t *p = mxrtc_write_reserve(&b->w, 4 + len + pad);
    if (!p) return NULL;
    mxrtc_store_u16(p, type);
    mxrtc_store_u16(p + 2, (uint16_t)len);
    if (pad) memset(p + 4 + len, b->pad_byte, pad);
    sync_length(b);
    return p + 4;
}

int mxrtc_stun_add(mxrtc_stun_builder *b, uint16_t type, const void *value, size_t len) {
    if (b->has_integrity) b->sealed = true;  /* §14.5: nothing but integrity/fingerprint after MI */
    uint8_t *p = attr_reserve(b, type, len);
    if (!p) return MXRTC_ERR_BUFFER_TOO_SMALL;
    if (len) memcpy(p, value, len);
    return MXRTC_OK;
}

int mxrtc_stun_add_u32(mxrtc_stun_builder *b, uint16_t type, uint32_t v) {
    uint8_t tmp[4];
    mxrtc_store_u32(tmp, v);
    return mxrtc_stun_add(b, type, tmp, 4);
}

int mxrtc_stun_add_u64(mxrtc_stun_builder *b, uint16_t type, uint64_t v) {
    uint8_t tmp[8];
    mxrtc_store_u32(tmp, (uint32_t)(v >> 32));
    mxrtc_store_u32(tmp + 4, (uint32_t)v);
    return mxrtc_stun_add(b, type, tmp, 8);
}

int mxrtc_stun_add_text(mxrtc_stun_builder *b, uint16_t type, const char *text, size_t len) {
    if (!text && len) return MXRTC_ERR_INVALID_ARGUMENT;
    return mxrtc_stun_add(b, type, text, len);
}

int mxrtc_stun_add_flag(mxrtc_stun_builder *b, uint16_t type) {
    return mxrtc_stun_add(b, type, NULL, 0);
}

int mxrtc_stun_build_end(mxrtc_stun_builder *b) {
    if (b->w.error) return MXRTC_ERR_BUFFER_TOO_SMALL;
    sync_length(b);
    return (int)b->w.pos;
}

/* Shared by the integrity and fingerprint writers in integrity.c. */
uint8_t *mxrtc_stun_builder_reserve_trailer(mxrtc_stun_builder *b, uint16_t type, size_t len);
uint8_t *mxrtc_stun_builder_reserve_trailer(mxrtc_stun_builder *b, uint16_t type, size_t len) {
    return attr_reserve(b, type, len);
}

int mxrtc_stun_add_fingerprint(mxrtc_stun_builder *b) {
    uint8_t *v = attr_reserve(b, MXRTC_STUN_ATTR_FINGERPRINT, 4);
    if (!v) return MXRTC_ERR_BUFFER_TOO_SMALL;
    /* §14.7: CRC over the message up to (not including) this attribute, with
     * the header length already counting it. */
    size_t upto = (size_t)(v - 4 - b->w.data);
    mxrtc_store_u32(v, mxrtc_crc32(b->w.data, upto) ^ FINGERPRINT_XOR);
    b->sealed = true;
    return MXRTC_OK;
}

int mxrtc_stun_build_unknown_attributes(const mxrtc_stun_msg *req, uint8_t *buf, size_t cap) {
    if (!req || req->cls != MXRTC_STUN_REQUEST || req->nunknown == 0) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_stun_builder b;
    int rc = mxrtc_stun_build_begin(&b, buf, cap, req->method, MXRTC_STUN_ERROR, req->tid);
    if (rc) return rc;
    mxrtc_stun_add_error(&b, MXRTC_STUN_ERR_UNKNOWN_ATTRIBUTE, "Unknown Attribute");
    mxrtc_stun_add_unknown_attributes(&b, req->unknown, req->nunknown);
    mxrtc_stun_add_fingerprint(&b);
    return mxrtc_stun_build_end(&b);
}
