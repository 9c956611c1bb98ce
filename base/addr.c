/*
 * addr.c: IP literals in and out, without inet_pton/inet_ntop so the core
 * needs no socket headers on any OS.
 */
#include <stdio.h>
#include <string.h>

#include "mxrtc.h"

void mxrtc_addr_set_ipv4(mxrtc_addr *a, const uint8_t ip[4], uint16_t port) {
    memset(a, 0, sizeof *a);
    a->family = MXRTC_AF_INET4;
    a->port = port;
    memcpy(a->ip, ip, 4);
}

void mxrtc_addr_set_ipv6(mxrtc_addr *a, const uint8_t ip[16], uint16_t port) {
    memset(a, 0, sizeof *a);
    a->family = MXRTC_AF_INET6;
    a->port = port;
    memcpy(a->ip, ip, 16);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Dotted quad, exactly four decimal parts 0..255, no leading zeros beyond "0"
 * (leading zeros are octal to some parsers: refuse the ambiguity). */
static int parse_v4(const char *s, size_t len, uint8_t out[4]) {
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= len || s[i] != '.') return -1;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == start || v > 255) return -1;
        if (i - start > 1 && s[start] == '0') return -1;
        out[part] = (uint8_t)v;
    }
    return i == len ? 0 : -1;
}

/* RFC 4291 §2.2: x:x:x:x:x:x:x:x, one "::", and an optional trailing dotted quad. */
static int parse_v6(const char *s, size_t len, uint8_t out[16]) {
    uint16_t words[8];
    int nwords = 0, gap = -1;
    size_t i = 0;
    if (len >= 2 && s[0] == ':' && s[1] == ':') {
        gap = 0;
        i = 2;
        if (i == len) goto done;
    } else if (len >= 1 && s[0] == ':') {
        return -1;
    }
    while (i < len) {
        if (nwords >= 8) return -1;
        /* A trailing IPv4 part takes two words. */
        size_t j = i;
        while (j < len && s[j] != ':' && s[j] != '.') j++;
        if (j < len && s[j] == '.') {
            uint8_t v4[4];
            if (nwords > 6 || parse_v4(s + i, len - i, v4) != 0) return -1;
            words[nwords++] = (uint16_t)((v4[0] << 8) | v4[1]);
            words[nwords++] = (uint16_t)((v4[2] << 8) | v4[3]);
            i = len;
            break;
        }
        size_t n = j - i;
        if (n == 0 || n > 4) return -1;
        unsigned v = 0;
        for (size_t k = i; k < j; k++) {
            int h = hexval(s[k]);
            if (h < 0) return -1;
            v = (v << 4) | (unsigned)h;
        }
        words[nwords++] = (uint16_t)v;
        i = j;
        if (i == len) break;
        /* s[i] == ':' */
        i++;
        if (i < len && s[i] == ':') {
            if (gap >= 0) return -1;
            gap = nwords;
            i++;
            if (i == len) break;
        } else if (i == len) {
            return -1; /* trailing single ':' */
        }
    }
done:
    if (gap < 0 && nwords != 8) return -1;
    if (gap >= 0 && nwords > 7) return -1;
    memset(out, 0, 16);
    int tail = gap >= 0 ? nwords - gap : 0;
    int head = gap >= 0 ? gap : nwords;
    for (int k = 0; k < head; k++) {
        out[2 * k] = (uint8_t)(words[k] >> 8);
        out[2 * k + 1] = (uint8_t)words[k];
    }
    for (int k = 0; k < tail; k++) {
        int w = 8 - tail + k;
        out[2 * w] = (uint8_t)(words[head + k] >> 8);
        out[2 * w + 1] = (uint8_t)words[head + k];
    }
    return 0;
}

int mxrtc_addr_parse(mxrtc_addr *a, const char *text, uint16_t port) {
    if (!a || !text) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t len = 0;
    while (text[len] && len < 64) len++;
    if (len == 0 || len >= 64) return MXRTC_ERR_MALFORMED;
    uint8_t ip[16];
    if (parse_v4(text, len, ip) == 0) {
        mxrtc_addr_set_ipv4(a, ip, port);
        return MXRTC_OK;
    }
    const char *pct = memchr(text, '%', len);
    size_t iplen = pct ? (size_t)(pct - text) : len;
    if (parse_v6(text, iplen, ip) != 0) return MXRTC_ERR_MALFORMED;
    uint32_t scope = 0;
    if (pct) {
        const char *p = pct + 1;
        if (p == text + len) return MXRTC_ERR_MALFORMED;
        for (; p < text + len; p++) {
            if (*p < '0' || *p > '9') return MXRTC_ERR_MALFORMED;
            if (scope > 429496729u) return MXRTC_ERR_MALFORMED;
            scope = scope * 10 + (uint32_t)(*p - '0');
        }
    }
    mxrtc_addr_set_ipv6(a, ip, port);
    a->scope_id = scope;
    return MXRTC_OK;
}

/* RFC 5952 §4: lower case, no leading zeros, the longest run (>= 2) of zero
 * words compressed to "::" (the first one on a tie); ::ffff:a.b.c.d for
 * IPv4-mapped addresses (§5). */
static int format_v6(const uint8_t ip[16], char *buf, size_t len) {
    uint16_t w[8];
    for (int i = 0; i < 8; i++) w[i] = (uint16_t)((ip[2 * i] << 8) | ip[2 * i + 1]);
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(ip, mapped, 12) == 0)
        return snprintf(buf, len, "::ffff:%u.%u.%u.%u", ip[12], ip[13], ip[14], ip[15]);
    int best = -1, bestlen = 0;
    for (int i = 0; i < 8;) {
        if (w[i] != 0) { i++; continue; }
        int j = i;
        while (j < 8 && w[j] == 0) j++;
        if (j - i > bestlen) { best = i; bestlen = j - i; }
        i = j;
    }
    if (bestlen < 2) best = -1;
    size_t pos = 0;
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            int n = snprintf(buf + pos, pos < len ? len - pos : 0, "::");
            pos += (size_t)n;
            i += bestlen - 1;
            continue;
        }
        int sep = (i > 0 && !(best >= 0 && i == best + bestlen));
        int n = snprintf(buf + pos, pos < len ? len - pos : 0, "%s%x", sep ? ":" : "", w[i]);
        pos += (size_t)n;
    }
    return (int)pos;
}

static int format_ip(const mxrtc_addr *a, char *buf, size_t len) {
    if (a->family == MXRTC_AF_INET4)
        return snprintf(buf, len, "%u.%u.%u.%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3]);
    if (a->family == MXRTC_AF_INET6) {
        int n = format_v6(a->ip, buf, len);
        if (a->scope_id)
            n += snprintf(buf + ((size_t)n < len ? (size_t)n : len),
                          (size_t)n < len ? len - (size_t)n : 0, "%%%u", (unsigned)a->scope_id);
        return n;
    }
    return snprintf(buf, len, "<unspec>");
}

int mxrtc_addr_format_ip(const mxrtc_addr *a, char *buf, size_t len) {
    if (!a || !buf) return MXRTC_ERR_INVALID_ARGUMENT;
    char tmp[MXRTC_ADDR_STRLEN];
    int n = format_ip(a, tmp, sizeof tmp);
    if (n < 0 || (size_t)n >= len) return MXRTC_ERR_BUFFER_TOO_SMALL;
    memcpy(buf, tmp, (size_t)n + 1);
    return n;
}

int mxrtc_addr_format(const mxrtc_addr *a, char *buf, size_t len) {
    if (!a || !buf) return MXRTC_ERR_INVALID_ARGUMENT;
    char ip[MXRTC_ADDR_STRLEN], tmp[MXRTC_ADDR_STRLEN + 8];
    if (format_ip(a, ip, sizeof ip) < 0) return MXRTC_ERR_INTERNAL;
    int n = a->family == MXRTC_AF_INET6 ? snprintf(tmp, sizeof tmp, "[%s]:%u", ip, a->port)
                                        : snprintf(tmp, sizeof tmp, "%s:%u", ip, a->port);
    if (n < 0 || (size_t)n >= len) return MXRTC_ERR_BUFFER_TOO_SMALL;
    memcpy(buf, tmp, (size_t)n + 1);
    return n;
}

int mxrtc_addr_equal(const mxrtc_addr *a, const mxrtc_addr *b) {
    if (!a || !b || a->family != b->family || a->port != b->port) return 0;
    size_t n = a->family == MXRTC_AF_INET4 ? 4 : a->family == MXRTC_AF_INET6 ? 16 : 0;
    return memcmp(a->ip, b->ip, n) == 0;
}
