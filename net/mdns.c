/*
 * mdns.c: the mDNS wire format we need: a one-shot query (RFC 6762 §5.1,
 * §5.4) and a bounded response parser (RFC 1035 §4.1, §4.1.4 compression).
 * No sockets here; fuzzed by fuzz/fuzz_mdns_response.c.
 */
#include <string.h>

#include "base/bytes.h"
#include "net/mdns.h"

#define DNS_HEADER_LEN 12            /* RFC 1035 §4.1.1 */
#define DNS_FLAG_QR 0x8000           /* §4.1.1: 1 = response */
#define DNS_CLASS_IN 1               /* §3.2.4 */
#define MDNS_QU_BIT 0x8000           /* RFC 6762 §5.4: unicast response wanted */
#define MDNS_CLASS_MASK 0x7fff       /* RFC 6762 §10.2: top bit of a record's class is cache-flush */
#define DNS_POINTER 0xc0             /* RFC 1035 §4.1.4 */
#define DNS_LABEL_MAX 63             /* RFC 1035 §2.3.4 */
#define DNS_NAME_WIRE_MAX 255        /* RFC 1035 §2.3.4, wire form */
#define DNS_MAX_HOPS 64              /* our bound on pointers followed in one name */

void mxrtc_mdns_group_v4(mxrtc_addr *a) {
    static const uint8_t ip[4] = {224, 0, 0, 251};
    mxrtc_addr_set_ipv4(a, ip, MXRTC_MDNS_PORT);
}

void mxrtc_mdns_group_v6(mxrtc_addr *a) {
    static const uint8_t ip[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb};
    mxrtc_addr_set_ipv6(a, ip, MXRTC_MDNS_PORT);
}

static char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static size_t name_len(const char *s) {
    size_t n = strlen(s);
    if (n > 0 && s[n - 1] == '.') n--;
    return n;
}

bool mxrtc_mdns_name_equal(const char *a, const char *b) {
    if (!a || !b) return false;
    size_t na = name_len(a), nb = name_len(b);
    if (na != nb) return false;
    for (size_t i = 0; i < na; i++)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

int mxrtc_mdns_build_query(const char *name, uint8_t *buf, size_t cap) {
    if (!name || (!buf && cap)) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t n = name_len(name);
    /* RFC 6762 §3: only names under "local." go to multicast DNS. The wire
     * form is one length byte per label plus the root: n + 2 bytes. */
    static const char suffix[] = ".local";
    size_t sl = sizeof suffix - 1;
    if (n <= sl || n + 2 > DNS_NAME_WIRE_MAX) return MXRTC_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < sl; i++)
        if (lower(name[n - sl + i]) != suffix[i]) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, cap);
    /* RFC 6762 §18.1: ID zero in multicast queries; §18.2..: flags zero. */
    mxrtc_write_u16(&w, 0);
    mxrtc_write_u16(&w, 0);
    mxrtc_write_u16(&w, 2);          /* QDCOUNT: A and AAAA */
    mxrtc_write_u16(&w, 0);
    mxrtc_write_u16(&w, 0);
    mxrtc_write_u16(&w, 0);
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || name[i] == '.') {
            size_t l = i - start;
            if (l == 0 || l > DNS_LABEL_MAX) return MXRTC_ERR_INVALID_ARGUMENT;
            mxrtc_write_u8(&w, (uint8_t)l);
            uint8_t *p = mxrtc_write_reserve(&w, l);
            if (p) memcpy(p, name + start, l);
            start = i + 1;
        }
    }
    mxrtc_write_u8(&w, 0);
    mxrtc_write_u16(&w, MXRTC_MDNS_TYPE_A);
    mxrtc_write_u16(&w, MDNS_QU_BIT | DNS_CLASS_IN);
    /* The second question names the first by a pointer to offset 12. */
    mxrtc_write_u16(&w, (uint16_t)((DNS_POINTER << 8) | DNS_HEADER_LEN));
    mxrtc_write_u16(&w, MXRTC_MDNS_TYPE_AAAA);
    mxrtc_write_u16(&w, MDNS_QU_BIT | DNS_CLASS_IN);
    if (w.error) return MXRTC_ERR_BUFFER_TOO_SMALL;
    return (int)w.pos;
}

/* Reads the name at r->pos into out (dotted, no trailing dot; the root is
 * ""), leaving r->pos after the name as it appears in place. A pointer must
 * point before the start of the labels it interrupts (RFC 1035 §4.1.4: "a
 * prior occurrence"), so each hop moves strictly backwards and no loop can
 * form; the hop count is bounded too. */
static int read_name(mxrtc_reader *r, char out[MXRTC_MDNS_NAME_MAX + 1]) {
    mxrtc_reader c = *r;
    size_t seg_start = c.pos, resume = 0, outlen = 0, wire = 1;
    bool jumped = false;
    int hops = 0;
    for (;;) {
        uint8_t l = mxrtc_read_u8(&c);
        if (c.error) return MXRTC_ERR_TRUNCATED;
        if ((l & DNS_POINTER) == DNS_POINTER) {
            uint8_t lo = mxrtc_read_u8(&c);
            if (c.error) return MXRTC_ERR_TRUNCATED;
            size_t target = ((size_t)(l & 0x3f) << 8) | lo;
            if (target >= seg_start || ++hops > DNS_MAX_HOPS) return MXRTC_ERR_MALFORMED;
            if (!jumped) resume = c.pos;
            jumped = true;
            c.pos = target;
            seg_start = target;
            continue;
        }
        /* 01 and 10 prefixes are reserved/extended label types (RFC 6891 §5). */
        if (l & DNS_POINTER) return MXRTC_ERR_MALFORMED;
        if (l == 0) break;
        wire += 1u + l;
        if (wire > DNS_NAME_WIRE_MAX) return MXRTC_ERR_MALFORMED;
        const uint8_t *p = mxrtc_read_ptr(&c, l);
        if (!p) return MXRTC_ERR_TRUNCATED;
        /* A dot or NUL inside a label cannot be told apart in dotted text. */
        if (memchr(p, '.', l) || memchr(p, 0, l)) return MXRTC_ERR_MALFORMED;
        if (outlen) out[outlen++] = '.';
        memcpy(out + outlen, p, l);
        outlen += l;
    }
    out[outlen] = 0;
    r->pos = jumped ? resume : c.pos;
    return MXRTC_OK;
}

int mxrtc_mdns_parse_response(const uint8_t *msg, size_t len, mxrtc_mdns_record *recs, size_t max,
                              size_t *count) {
    if ((!msg && len) || (!recs && max) || !count) return MXRTC_ERR_INVALID_ARGUMENT;
    *count = 0;
    mxrtc_reader r;
    mxrtc_reader_init(&r, msg, len);
    (void)mxrtc_read_u16(&r);                /* ID: ignored in mDNS (RFC 6762 §18.1) */
    uint16_t flags = mxrtc_read_u16(&r);
    uint32_t qd = mxrtc_read_u16(&r);
    uint32_t records = (uint32_t)mxrtc_read_u16(&r) + mxrtc_read_u16(&r) + mxrtc_read_u16(&r);
    if (r.error) return MXRTC_ERR_TRUNCATED;
    /* RFC 6762 §18.2 (QR), §18.3 (opcode), §18.11 (rcode): anything else is
     * silently ignored by a querier. */
    if (!(flags & DNS_FLAG_QR) || ((flags >> 11) & 0xf) != 0 || (flags & 0xf) != 0) return MXRTC_ERR_UNSUPPORTED;
    char name[MXRTC_MDNS_NAME_MAX + 1];
    for (uint32_t i = 0; i < qd; i++) {
        int rc = read_name(&r, name);
        if (rc) return rc;
        mxrtc_read_skip(&r, 4);               /* QTYPE, QCLASS */
        if (r.error) return MXRTC_ERR_TRUNCATED;
    }
    for (uint32_t i = 0; i < records; i++) {
        int rc = read_name(&r, name);
        if (rc) return rc;
        uint16_t type = mxrtc_read_u16(&r);
        uint16_t klass = mxrtc_read_u16(&r);
        uint32_t ttl = mxrtc_read_u32(&r);
        uint16_t rdlen = mxrtc_read_u16(&r);
        const uint8_t *rd = mxrtc_read_ptr(&r, rdlen);
        if (r.error) return MXRTC_ERR_TRUNCATED;
        if ((klass & MDNS_CLASS_MASK) != DNS_CLASS_IN) continue;
        if (type != MXRTC_MDNS_TYPE_A && type != MXRTC_MDNS_TYPE_AAAA) continue;
        if (rdlen != (type == MXRTC_MDNS_TYPE_A ? 4 : 16)) return MXRTC_ERR_MALFORMED;
        if (*count >= max) continue;          /* bounded: the rest are skipped */
        mxrtc_mdns_record *o = &recs[(*count)++];
        memset(o, 0, sizeof *o);
        memcpy(o->name, name, strlen(name) + 1);
        if (type == MXRTC_MDNS_TYPE_A) mxrtc_addr_set_ipv4(&o->ip, rd, 0);
        else mxrtc_addr_set_ipv6(&o->ip, rd, 0);
        o->ttl = ttl;
    }
    return MXRTC_OK;
}
