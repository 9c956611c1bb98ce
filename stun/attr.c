/*
 * attr.c: typed STUN attribute values (RFC 8489 §14, RFC 8656 §18,
 * RFC 8445 §16.1), read from a decoded message and written by the builder.
 */
#include <string.h>

#include "stun/stun.h"

/* ---- addresses (§14.1, §14.2) ------------------------------------------ */

/* Family byte values in (XOR-)MAPPED-ADDRESS. */
#define FAMILY_IPV4 0x01
#define FAMILY_IPV6 0x02

static int read_addr(const mxrtc_stun_attr *a, const uint8_t tid[12], bool xor_, mxrtc_addr *out) {
    mxrtc_reader r;
    mxrtc_reader_init(&r, a->value, a->len);
    mxrtc_read_u8(&r);                 /* reserved, ignored on receipt */
    uint8_t family = mxrtc_read_u8(&r);
    uint16_t port = mxrtc_read_u16(&r);
    uint8_t ip[16];
    size_t iplen = family == FAMILY_IPV4 ? 4 : family == FAMILY_IPV6 ? 16 : 0;
    if (iplen == 0 || a->len != 4 + iplen) return MXRTC_ERR_MALFORMED;
    mxrtc_read_bytes(&r, ip, iplen);
    if (r.error) return MXRTC_ERR_MALFORMED;
    if (xor_) {
        /* §14.2: port xor the cookie's top 16 bits; address xor cookie ‖ tid. */
        uint8_t mask[16];
        mxrtc_store_u32(mask, MXRTC_STUN_MAGIC_COOKIE);
        memcpy(mask + 4, tid, 12);
        port ^= (uint16_t)(MXRTC_STUN_MAGIC_COOKIE >> 16);
        for (size_t i = 0; i < iplen; i++) ip[i] ^= mask[i];
    }
    if (iplen == 4) mxrtc_addr_set_ipv4(out, ip, port);
    else mxrtc_addr_set_ipv6(out, ip, port);
    return MXRTC_OK;
}

int mxrtc_stun_get_xor_addr(const mxrtc_stun_msg *m, uint16_t type, mxrtc_addr *out) {
    const mxrtc_stun_attr *a = mxrtc_stun_find(m, type);
    if (!a) return MXRTC_ERR_NOT_FOUND;
    return read_addr(a, m->tid, true, out);
}

int mxrtc_stun_get_addr(const mxrtc_stun_msg *m, uint16_t type, mxrtc_addr *out) {
    const mxrtc_stun_attr *a = mxrtc_stun_find(m, type);
    if (!a) return MXRTC_ERR_NOT_FOUND;
    return read_addr(a, m->tid, false, out);
}

static int write_addr(mxrtc_stun_builder *b, uint16_t type, const mxrtc_addr *a, bool xor_) {
    if (!a || (a->family != MXRTC_AF_INET4 && a->family != MXRTC_AF_INET6)) {
        b->w.error = true;
        return MXRTC_ERR_INVALID_ARGUMENT;
    }
    size_t iplen = a->family == MXRTC_AF_INET4 ? 4 : 16;
    uint8_t v[20];
    v[0] = 0;
    v[1] = a->family == MXRTC_AF_INET4 ? FAMILY_IPV4 : FAMILY_IPV6;
    uint16_t port = a->port;
    memcpy(v + 4, a->ip, iplen);
    if (xor_) {
        uint8_t mask[16];
        mxrtc_store_u32(mask, MXRTC_STUN_MAGIC_COOKIE);
        memcpy(mask + 4, b->w.data + 8, 12);   /* the transaction id in our header */
        port ^= (uint16_t)(MXRTC_STUN_MAGIC_COOKIE >> 16);
        for (size_t i = 0; i < iplen; i++) v[4 + i] ^= mask[i];
    }
    mxrtc_store_u16(v + 2, port);
    return mxrtc_stun_add(b, type, v, 4 + iplen);
}

int mxrtc_stun_add_xor_addr(mxrtc_stun_builder *b, uint16_t type, const mxrtc_addr *a) {
    return write_addr(b, type, a, true);
}

int mxrtc_stun_add_addr(mxrtc_stun_builder *b, uint16_t type, const mxrtc_addr *a) {
    return write_addr(b, type, a, false);
}

/* ---- integers ----------------------------------------------------------- */

int mxrtc_stun_get_u32(const mxrtc_stun_msg *m, uint16_t type, uint32_t *out) {
    const mxrtc_stun_attr *a = mxrtc_stun_find(m, type);
    if (!a) return MXRTC_ERR_NOT_FOUND;
    if (a->len != 4) return MXRTC_ERR_MALFORMED;
    *out = mxrtc_load_u32(a->value);
    return MXRTC_OK;
}

int mxrtc_stun_get_u64(const mxrtc_stun_msg *m, uint16_t type, uint64_t *out) {
    const mxrtc_stun_attr *a = mxrtc_stun_find(m, type);
    if (!a) return MXRTC_ERR_NOT_FOUND;
    if (a->len != 8) return MXRTC_ERR_MALFORMED;
    *out = ((uint64_t)mxrtc_load_u32(a->value) << 32) | mxrtc_load_u32(a->value + 4);
    return MXRTC_OK;
}

int mxrtc_stun_get_channel(const mxrtc_stun_msg *m, uint16_t *channel) {
    const mxrtc_stun_attr *a = mxrtc_stun_find(m, MXRTC_STUN_ATTR_CHANNEL_NUMBER);
    if (!a) return MXRTC_ERR_NOT_FOUND;
    if (a->len != 4) return MXRTC_ERR_MALFORMED;
    *channel = mxrtc_load_u16(a->value);   /* RFC 8656 §18.1: then 16 bits RFFU */
    return MXRTC_OK;
}

int mxrtc_stun_add_channel(mxrtc_stun_builder *b, uint16_t channel) {
    uint8_t v[4] = {(uint8_t)(channel >> 8), (uint8_t)channel, 0, 0};
    return mxrtc_stun_add(b, MXRTC_STUN_ATTR_CHANNEL_NUMBER, v, 4);
}

int mxrtc_stun_add_requested_transport(mxrtc_stun_builder *b, uint8_t protocol) {
    uint8_t v[4] = {protocol, 0, 0, 0};   /* RFC 8656 §18.7: protocol, then 24 bits RFFU */
    return mxrtc_stun_add(b, MXRTC_STUN_ATTR_REQUESTED_TRANSPORT, v, 4);
}

/* ---- text --------------------------------------------------------------- */

static size_t text_max(uint16_t type) {
    switch (type) {
    case MXRTC_STUN_ATTR_USERNAME: return MXRTC_STUN_MAX_USERNAME;
    case MXRTC_STUN_ATTR_REALM: return MXRTC_STUN_MAX_REALM;
    case MXRTC_STUN_ATTR_NONCE: return MXRTC_STUN_MAX_NONCE;
    case MXRTC_STUN_ATTR_SOFTWARE: return MXRTC_STUN_MAX_SOFTWARE;
    default: return 0xFFFF;
    }
}

int mxrtc_stun_get_text(const mxrtc_stun_msg *m, uint16_t type, const char **text, size_t *len) {
    const mxrtc_stun_attr *a = mxrtc_stun_find(m, type);
    if (!a) return MXRTC_ERR_NOT_FOUND;
    if (a->len > text_max(type)) return MXRTC_ERR_MALFORMED;
    *text = (const char *)a->value;
    *len = a->len;
    return MXRTC_OK;
}

/* ---- ERROR-CODE (§14.8) ------------------------------------------------- */

int mxrtc_stun_get_error(const mxrtc_stun_msg *m, int *code, const char **reason, size_t *reason_len) {
    const mxrtc_stun_attr *a = mxrtc_stun_find(m, MXRTC_STUN_ATTR_ERROR_CODE);
    if (!a) return MXRTC_ERR_NOT_FOUND;
    if (a->len < 4 || a->len - 4 > MXRTC_STUN_MAX_REASON) return MXRTC_ERR_MALFORMED;
    unsigned cls = a->value[2] & 0x07, number = a->value[3];
    if (cls < 3 || cls > 6 || number > 99) return MXRTC_ERR_MALFORMED;
    *code = (int)(cls * 100 + number);
    if (reason) *reason = (const char *)a->value + 4;
    if (reason_len) *reason_len = a->len - 4u;
    return MXRTC_OK;
}

int mxrtc_stun_add_error(mxrtc_stun_builder *b, int code, const char *reason) {
    if (code < 300 || code > 699) {
        b->w.error = true;
        return MXRTC_ERR_INVALID_ARGUMENT;
    }
    size_t rlen = reason ? strlen(reason) : 0;
    if (rlen > MXRTC_STUN_MAX_REASON) rlen = MXRTC_STUN_MAX_REASON;
    /* §14.8: 21 reserved bits, class (hundreds) in 3 bits, number (0-99). */
    uint8_t tmp[4 + MXRTC_STUN_MAX_REASON] = {0, 0, (uint8_t)(code / 100), (uint8_t)(code % 100)};
    if (rlen) memcpy(tmp + 4, reason, rlen);
    return mxrtc_stun_add(b, MXRTC_STUN_ATTR_ERROR_CODE, tmp, 4 + rlen);
}

/* ---- lists of 16-bit values (§14.9, §14.11) ----------------------------- */

int mxrtc_stun_get_unknown_attributes(const mxrtc_stun_msg *m, uint16_t *types, size_t max, size_t *n) {
    const mxrtc_stun_attr *a = mxrtc_stun_find(m, MXRTC_STUN_ATTR_UNKNOWN_ATTRIBUTES);
    *n = 0;
    if (!a) return MXRTC_ERR_NOT_FOUND;
    if (a->len & 1) return MXRTC_ERR_MALFORMED;
    for (size_t i = 0; i + 1 < a->len && *n < max; i += 2) types[(*n)++] = mxrtc_load_u16(a->value + i);
    return MXRTC_OK;
}

int mxrtc_stun_add_unknown_attributes(mxrtc_stun_builder *b, const uint16_t *types, size_t n) {
    uint8_t v[2 * MXRTC_STUN_MAX_UNKNOWN];
    if (n > MXRTC_STUN_MAX_UNKNOWN) n = MXRTC_STUN_MAX_UNKNOWN;
    for (size_t i = 0; i < n; i++) mxrtc_store_u16(v + 2 * i, types[i]);
    return mxrtc_stun_add(b, MXRTC_STUN_ATTR_UNKNOWN_ATTRIBUTES, v, 2 * n);
}

/* §14.11: each entry is algorithm (2), parameters length (2), parameters padded. */
int mxrtc_stun_get_password_algorithms(const mxrtc_stun_msg *m, uint16_t *algs, size_t max, size_t *n) {
    const mxrtc_stun_attr *a = mxrtc_stun_find(m, MXRTC_STUN_ATTR_PASSWORD_ALGORITHMS);
    *n = 0;
    if (!a) return MXRTC_ERR_NOT_FOUND;
    mxrtc_reader r;
    mxrtc_reader_init(&r, a->value, a->len);
    while (mxrtc_reader_remaining(&r) > 0) {
        uint16_t alg = mxrtc_read_u16(&r);
        uint16_t plen = mxrtc_read_u16(&r);
        mxrtc_read_skip(&r, (size_t)plen + ((4u - (plen & 3u)) & 3u));
        if (r.error) return MXRTC_ERR_MALFORMED;
        if (*n < max) algs[(*n)++] = alg;
    }
    return MXRTC_OK;
}

int mxrtc_stun_get_data(const mxrtc_stun_msg *m, const uint8_t **data, size_t *len) {
    const mxrtc_stun_attr *a = mxrtc_stun_find(m, MXRTC_STUN_ATTR_DATA);
    if (!a) return MXRTC_ERR_NOT_FOUND;
    *data = a->value;
    *len = a->len;
    return MXRTC_OK;
}

/* ---- names for logs ----------------------------------------------------- */

const char *mxrtc_stun_method_name(uint16_t method) {
    switch (method) {
    case MXRTC_STUN_BINDING: return "Binding";
    case MXRTC_STUN_ALLOCATE: return "Allocate";
    case MXRTC_STUN_REFRESH: return "Refresh";
    case MXRTC_STUN_SEND: return "Send";
    case MXRTC_STUN_DATA: return "Data";
    case MXRTC_STUN_CREATE_PERMISSION: return "CreatePermission";
    case MXRTC_STUN_CHANNEL_BIND: return "ChannelBind";
    default: return "unknown";
    }
}

const char *mxrtc_stun_attr_name(uint16_t type) {
    switch (type) {
    case MXRTC_STUN_ATTR_MAPPED_ADDRESS: return "MAPPED-ADDRESS";
    case MXRTC_STUN_ATTR_USERNAME: return "USERNAME";
    case MXRTC_STUN_ATTR_MESSAGE_INTEGRITY: return "MESSAGE-INTEGRITY";
    case MXRTC_STUN_ATTR_ERROR_CODE: return "ERROR-CODE";
    case MXRTC_STUN_ATTR_UNKNOWN_ATTRIBUTES: return "UNKNOWN-ATTRIBUTES";
    case MXRTC_STUN_ATTR_CHANNEL_NUMBER: return "CHANNEL-NUMBER";
    case MXRTC_STUN_ATTR_LIFETIME: return "LIFETIME";
    case MXRTC_STUN_ATTR_XOR_PEER_ADDRESS: return "XOR-PEER-ADDRESS";
    case MXRTC_STUN_ATTR_DATA: return "DATA";
    case MXRTC_STUN_ATTR_REALM: return "REALM";
    case MXRTC_STUN_ATTR_NONCE: return "NONCE";
    case MXRTC_STUN_ATTR_XOR_RELAYED_ADDRESS: return "XOR-RELAYED-ADDRESS";
    case MXRTC_STUN_ATTR_REQUESTED_ADDRESS_FAMILY: return "REQUESTED-ADDRESS-FAMILY";
    case MXRTC_STUN_ATTR_EVEN_PORT: return "EVEN-PORT";
    case MXRTC_STUN_ATTR_REQUESTED_TRANSPORT: return "REQUESTED-TRANSPORT";
    case MXRTC_STUN_ATTR_DONT_FRAGMENT: return "DONT-FRAGMENT";
    case MXRTC_STUN_ATTR_MESSAGE_INTEGRITY_SHA256: return "MESSAGE-INTEGRITY-SHA256";
    case MXRTC_STUN_ATTR_PASSWORD_ALGORITHM: return "PASSWORD-ALGORITHM";
    case MXRTC_STUN_ATTR_USERHASH: return "USERHASH";
    case MXRTC_STUN_ATTR_XOR_MAPPED_ADDRESS: return "XOR-MAPPED-ADDRESS";
    case MXRTC_STUN_ATTR_RESERVATION_TOKEN: return "RESERVATION-TOKEN";
    case MXRTC_STUN_ATTR_PRIORITY: return "PRIORITY";
    case MXRTC_STUN_ATTR_USE_CANDIDATE: return "USE-CANDIDATE";
    case MXRTC_STUN_ATTR_PASSWORD_ALGORITHMS: return "PASSWORD-ALGORITHMS";
    case MXRTC_STUN_ATTR_ALTERNATE_DOMAIN: return "ALTERNATE-DOMAIN";
    case MXRTC_STUN_ATTR_SOFTWARE: return "SOFTWARE";
    case MXRTC_STUN_ATTR_ALTERNATE_SERVER: return "ALTERNATE-SERVER";
    case MXRTC_STUN_ATTR_FINGERPRINT: return "FINGERPRINT";
    case MXRTC_STUN_ATTR_ICE_CONTROLLED: return "ICE-CONTROLLED";
    case MXRTC_STUN_ATTR_ICE_CONTROLLING: return "ICE-CONTROLLING";
    case MXRTC_STUN_ATTR_RESPONSE_ORIGIN: return "RESPONSE-ORIGIN";
    case MXRTC_STUN_ATTR_OTHER_ADDRESS: return "OTHER-ADDRESS";
    default: return "unknown";
    }
}
