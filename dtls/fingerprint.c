/*
 * fingerprint.c: certificate fingerprints as SDP carries them
 * (RFC 8122 §5: a=fingerprint:<hash-func> <fingerprint>).
 */
#include <string.h>

#include <mbedtls/md.h>

#include "dtls/dtls.h"

static const struct {
    mxrtc_dtls_hash hash;
    const char *name;
    uint8_t len;
    mbedtls_md_type_t md;
} hashes[] = {
    {MXRTC_DTLS_HASH_SHA1, "sha-1", 20, MBEDTLS_MD_SHA1},
    {MXRTC_DTLS_HASH_SHA256, "sha-256", 32, MBEDTLS_MD_SHA256},
    {MXRTC_DTLS_HASH_SHA384, "sha-384", 48, MBEDTLS_MD_SHA384},
    {MXRTC_DTLS_HASH_SHA512, "sha-512", 64, MBEDTLS_MD_SHA512},
};
#define NHASHES (sizeof hashes / sizeof hashes[0])

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c; }

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int mxrtc_dtls_fingerprint_parse(mxrtc_dtls_fingerprint *fp, const char *text, size_t len) {
    if (!fp || (!text && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(fp, 0, sizeof *fp);
    size_t b = 0, e = len;
    while (b < e && is_space(text[b])) b++;
    while (e > b && is_space(text[e - 1])) e--;
    size_t name_end = b;
    while (name_end < e && !is_space(text[name_end])) name_end++;
    size_t name_len = name_end - b;
    if (name_len == 0 || name_end == e) return MXRTC_ERR_MALFORMED;
    /* RFC 8122 §5: hash function names are case-insensitive tokens. */
    size_t k;
    for (k = 0; k < NHASHES; k++) {
        size_t n = strlen(hashes[k].name);
        if (n != name_len) continue;
        size_t i = 0;
        while (i < n && lower((unsigned char)text[b + i]) == hashes[k].name[i]) i++;
        if (i == n) break;
    }
    if (k == NHASHES) {
        /* A token we do not know (md5, sha-224, a future one) is not an error
         * in the SDP, only unusable for us. */
        for (size_t i = b; i < name_end; i++) {
            char c = text[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_'))
                return MXRTC_ERR_MALFORMED;
        }
        return MXRTC_ERR_UNSUPPORTED;
    }
    size_t p = name_end;
    while (p < e && is_space(text[p])) p++;
    /* "XX:XX:...:XX" is exactly 3 * len - 1 characters. */
    size_t want = (size_t)hashes[k].len * 3 - 1;
    if (e - p != want) return MXRTC_ERR_MALFORMED;
    for (size_t i = 0; i < hashes[k].len; i++) {
        const char *q = text + p + i * 3;
        int hi = hexval((unsigned char)q[0]), lo = hexval((unsigned char)q[1]);
        if (hi < 0 || lo < 0) return MXRTC_ERR_MALFORMED;
        if (i + 1 < hashes[k].len && q[2] != ':') return MXRTC_ERR_MALFORMED;
        fp->value[i] = (uint8_t)(hi << 4 | lo);
    }
    fp->hash = hashes[k].hash;
    fp->len = hashes[k].len;
    return MXRTC_OK;
}

int mxrtc_dtls_fingerprint_compute(mxrtc_dtls_fingerprint *fp, mxrtc_dtls_hash hash,
                                   const uint8_t *der, size_t der_len) {
    if (!fp || (!der && der_len)) return MXRTC_ERR_INVALID_ARGUMENT;
    for (size_t k = 0; k < NHASHES; k++) {
        if (hashes[k].hash != hash) continue;
        const mbedtls_md_info_t *info = mbedtls_md_info_from_type(hashes[k].md);
        memset(fp, 0, sizeof *fp);
        if (!info || mbedtls_md(info, der, der_len, fp->value) != 0) return MXRTC_ERR_CRYPTO;
        fp->hash = hash;
        fp->len = hashes[k].len;
        return MXRTC_OK;
    }
    return MXRTC_ERR_INVALID_ARGUMENT;
}

int mxrtc_dtls_fingerprint_format(const mxrtc_dtls_fingerprint *fp, char *buf, size_t len) {
    static const char hex[] = "0123456789ABCDEF";
    if (!fp || !buf) return MXRTC_ERR_INVALID_ARGUMENT;
    const char *name = NULL;
    for (size_t k = 0; k < NHASHES; k++)
        if (hashes[k].hash == fp->hash && hashes[k].len == fp->len) name = hashes[k].name;
    if (!name) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t n = strlen(name);
    size_t need = n + 1 + (size_t)fp->len * 3; /* name, space, pairs with ':' or the NUL */
    if (len < need) return MXRTC_ERR_BUFFER_TOO_SMALL;
    memcpy(buf, name, n);
    buf[n] = ' ';
    char *o = buf + n + 1;
    for (size_t i = 0; i < fp->len; i++) {
        *o++ = hex[fp->value[i] >> 4];
        *o++ = hex[fp->value[i] & 15];
        *o++ = (i + 1 < fp->len) ? ':' : '\0';
    }
    return (int)(need - 1);
}

int mxrtc_dtls_fingerprint_equal(const mxrtc_dtls_fingerprint *a, const mxrtc_dtls_fingerprint *b) {
    if (!a || !b || a->hash == 0 || a->hash != b->hash || a->len != b->len ||
        a->len > MXRTC_DTLS_FINGERPRINT_MAX)
        return 0;
    uint8_t diff = 0;
    for (size_t i = 0; i < a->len; i++) diff |= (uint8_t)(a->value[i] ^ b->value[i]);
    return diff == 0;
}
