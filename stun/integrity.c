/*
 * integrity.c: STUN credentials and message integrity (RFC 8489 §9, §14.4–14.6)
 * with mbedTLS's message-digest API (the same calls in mbedTLS 2.28 and 3.x).
 */
#include <string.h>

#include <mbedtls/md.h>

#include "base/alloc.h"
#include "stun/stun.h"

/* From msg.c: reserves an attribute at the end of the message being built. */
uint8_t *mxrtc_stun_builder_reserve_trailer(mxrtc_stun_builder *b, uint16_t type, size_t len);

int mxrtc_stun_key_short_term(mxrtc_stun_key *key, const char *password, size_t len) {
    if (!key || (!password && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (len > MXRTC_STUN_KEY_MAX) return MXRTC_ERR_LIMIT;
    if (len) memcpy(key->bytes, password, len);
    key->len = len;
    return MXRTC_OK;
}

/* H(p[0] ‖ p[1] ‖ ...) with mbedTLS's generic digest; parts may be empty. */
typedef struct part {
    const void *data;
    size_t len;
} part;

static int digest(mbedtls_md_type_t type, const part *parts, size_t n, uint8_t *out) {
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(type);
    if (!info) return MXRTC_ERR_UNSUPPORTED;
    mbedtls_md_context_t ctx;
    mbedtls_md_init(&ctx);
    int rc = mbedtls_md_setup(&ctx, info, 0);
    if (rc == 0) rc = mbedtls_md_starts(&ctx);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (parts[i].len) rc = mbedtls_md_update(&ctx, parts[i].data, parts[i].len);
    if (rc == 0) rc = mbedtls_md_finish(&ctx, out);
    mbedtls_md_free(&ctx);
    return rc == 0 ? MXRTC_OK : MXRTC_ERR_CRYPTO;
}

int mxrtc_stun_key_long_term(mxrtc_stun_key *key, uint16_t algorithm, const char *username, size_t ulen,
                             const char *realm, size_t rlen, const char *password, size_t plen) {
    if (!key || (!username && ulen) || (!realm && rlen) || (!password && plen))
        return MXRTC_ERR_INVALID_ARGUMENT;
    mbedtls_md_type_t type;
    size_t outlen;
    switch (algorithm) {
    case MXRTC_STUN_PASSWORD_MD5: type = MBEDTLS_MD_MD5; outlen = 16; break;
    case MXRTC_STUN_PASSWORD_SHA256: type = MBEDTLS_MD_SHA256; outlen = 32; break;
    default: return MXRTC_ERR_UNSUPPORTED;
    }
    /* §9.2.2: key = H(username ":" OpaqueString(realm) ":" OpaqueString(password)) */
    const part parts[5] = {{username, ulen}, {":", 1}, {realm, rlen}, {":", 1}, {password, plen}};
    int rc = digest(type, parts, 5, key->bytes);
    if (rc) return rc;
    key->len = outlen;
    return MXRTC_OK;
}

void mxrtc_stun_key_clear(mxrtc_stun_key *key) {
    if (key) mxrtc_wipe(key, sizeof *key);
}

int mxrtc_stun_userhash(uint8_t out[32], const char *username, size_t ulen, const char *realm, size_t rlen) {
    /* §14.4: USERHASH = SHA-256(username ":" realm) */
    const part parts[3] = {{username, ulen}, {":", 1}, {realm, rlen}};
    return digest(MBEDTLS_MD_SHA256, parts, 3, out);
}

/* HMAC over msg[0..upto) with the header length field replaced by
 * `length` (§14.5: the length must count up to the end of the integrity
 * attribute, even if more attributes follow in the message). */
static int hmac_prefix(mbedtls_md_type_t type, const mxrtc_stun_key *key, const uint8_t *msg,
                       size_t upto, uint16_t length, uint8_t *out) {
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(type);
    if (!info) return MXRTC_ERR_UNSUPPORTED;
    mbedtls_md_context_t ctx;
    mbedtls_md_init(&ctx);
    uint8_t len_be[2] = {(uint8_t)(length >> 8), (uint8_t)length};
    int rc = mbedtls_md_setup(&ctx, info, 1);
    if (rc == 0) rc = mbedtls_md_hmac_starts(&ctx, key->bytes, key->len);
    if (rc == 0) rc = mbedtls_md_hmac_update(&ctx, msg, 2);
    if (rc == 0) rc = mbedtls_md_hmac_update(&ctx, len_be, 2);
    if (rc == 0) rc = mbedtls_md_hmac_update(&ctx, msg + 4, upto - 4);
    if (rc == 0) rc = mbedtls_md_hmac_finish(&ctx, out);
    mbedtls_md_free(&ctx);
    return rc == 0 ? MXRTC_OK : MXRTC_ERR_CRYPTO;
}

static int ct_equal(const uint8_t *a, const uint8_t *b, size_t n) {
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++) d |= (uint8_t)(a[i] ^ b[i]);
    return d == 0;
}

int mxrtc_stun_check_integrity(const mxrtc_stun_msg *m, const mxrtc_stun_key *key) {
    if (!m || !key) return MXRTC_ERR_INVALID_ARGUMENT;
    const mxrtc_stun_attr *a;
    mbedtls_md_type_t type;
    if (m->integrity_sha256 >= 0) {
        a = &m->attrs[m->integrity_sha256];
        type = MBEDTLS_MD_SHA256;
    } else if (m->integrity >= 0) {
        a = &m->attrs[m->integrity];
        type = MBEDTLS_MD_SHA1;
    } else {
        return MXRTC_ERR_NOT_FOUND;
    }
    uint8_t mac[32];
    uint16_t length = (uint16_t)(a->offset + 4 + a->len - MXRTC_STUN_HEADER_SIZE);
    int rc = hmac_prefix(type, key, m->raw, a->offset, length, mac);
    if (rc) return rc;
    /* §14.6: a truncated SHA-256 value compares its leading bytes. */
    return ct_equal(mac, a->value, a->len) ? MXRTC_OK : MXRTC_ERR_INTEGRITY;
}

static int add_integrity(mxrtc_stun_builder *b, const mxrtc_stun_key *key, uint16_t type,
                         mbedtls_md_type_t md, size_t maclen) {
    if (!key) return MXRTC_ERR_INVALID_ARGUMENT;
    if (b->sealed) {
        b->w.error = true;
        return MXRTC_ERR_STATE;
    }
    uint8_t *v = mxrtc_stun_builder_reserve_trailer(b, type, maclen);
    if (!v) return MXRTC_ERR_BUFFER_TOO_SMALL;
    size_t upto = (size_t)(v - 4 - b->w.data);
    uint8_t mac[32];
    int rc = hmac_prefix(md, key, b->w.data, upto, (uint16_t)(b->w.pos - MXRTC_STUN_HEADER_SIZE), mac);
    if (rc) {
        b->w.error = true;
        return rc;
    }
    memcpy(v, mac, maclen);
    b->has_integrity = true;
    return MXRTC_OK;
}

int mxrtc_stun_add_integrity(mxrtc_stun_builder *b, const mxrtc_stun_key *key) {
    return add_integrity(b, key, MXRTC_STUN_ATTR_MESSAGE_INTEGRITY, MBEDTLS_MD_SHA1, 20);
}

int mxrtc_stun_add_integrity_sha256(mxrtc_stun_builder *b, const mxrtc_stun_key *key) {
    return add_integrity(b, key, MXRTC_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, MBEDTLS_MD_SHA256, 32);
}
