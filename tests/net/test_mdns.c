/*
 * test_mdns.c: the mDNS wire format (RFC 6762 query with the QU bit, RFC
 * 1035 §4 responses with §4.1.4 compression) and the resolver's bounded
 * cache and pending table. Set MXRTC_WRITE_SEEDS=DIR to write the responses
 * built here as seeds for fuzz_mdns_response.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net/mdns.h"

static void seed(const char *name, const uint8_t *p, size_t n) {
    const char *dir = getenv("MXRTC_WRITE_SEEDS");
    if (!dir) return;
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(p, 1, n, f);
    fclose(f);
}

static void query_bytes(void **state) {
    (void)state;
    uint8_t buf[MXRTC_MDNS_QUERY_MAX];
    static const uint8_t want[] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* ID 0, flags 0, QD 2 */
        3, 'a', 'b', 'c', 5, 'l', 'o', 'c', 'a', 'l', 0,
        0x00, 0x01, 0x80, 0x01,                 /* A, QU|IN */
        0xc0, 0x0c, 0x00, 0x1c, 0x80, 0x01,     /* -> offset 12, AAAA, QU|IN */
    };
    assert_int_equal(mxrtc_mdns_build_query("abc.local", buf, sizeof buf), (int)sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    seed("query_abc", buf, sizeof want);
    /* A trailing dot and upper case change nothing but the label bytes. */
    assert_int_equal(mxrtc_mdns_build_query("abc.local.", buf, sizeof buf), (int)sizeof want);
    assert_memory_equal(buf, want, sizeof want);
    assert_int_equal(mxrtc_mdns_build_query("abc.LOCAL", buf, sizeof buf), (int)sizeof want);
    assert_memory_equal(buf + 17, "LOCAL", 5);
    /* Exactly the size is enough; one byte less is not. */
    assert_int_equal(mxrtc_mdns_build_query("abc.local", buf, sizeof want), (int)sizeof want);
    assert_int_equal(mxrtc_mdns_build_query("abc.local", buf, sizeof want - 1), MXRTC_ERR_BUFFER_TOO_SMALL);
}

static void query_refuses_bad_names(void **state) {
    (void)state;
    uint8_t buf[MXRTC_MDNS_QUERY_MAX];
    assert_int_equal(mxrtc_mdns_build_query("abc.example.com", buf, sizeof buf), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_mdns_build_query("local", buf, sizeof buf), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_mdns_build_query(".local", buf, sizeof buf), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_mdns_build_query("a..local", buf, sizeof buf), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_mdns_build_query("xlocal", buf, sizeof buf), MXRTC_ERR_INVALID_ARGUMENT);
    char name[300];
    memset(name, 'a', 64);
    strcpy(name + 64, ".local");      /* a 64-byte label */
    assert_int_equal(mxrtc_mdns_build_query(name, buf, sizeof buf), MXRTC_ERR_INVALID_ARGUMENT);
    memset(name, 'a', 63);
    strcpy(name + 63, ".local");
    assert_true(mxrtc_mdns_build_query(name, buf, sizeof buf) > 0);
    /* 253 bytes of text are 255 on the wire (RFC 1035 §2.3.4): the most;
     * 254 are one too many. */
    size_t n = 0;
    for (int k = 0; k < 24; k++, n += 10) memcpy(name + n, "bbbbbbbbb.", 10);
    strcpy(name + n, "ccccccc.local");
    assert_int_equal(strlen(name), 253);
    assert_int_equal(mxrtc_mdns_build_query(name, buf, sizeof buf), 12 + 255 + 4 + 6);
    strcpy(name + n, "cccccccc.local");
    assert_int_equal(mxrtc_mdns_build_query(name, buf, sizeof buf), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_mdns_build_query(NULL, buf, sizeof buf), MXRTC_ERR_INVALID_ARGUMENT);
}

/* A response as a responder writes one: flags 0x8400 (QR, AA), the answer
 * name in full, then records that name it by pointer. */
static size_t build_response(uint8_t *b, uint16_t flags, int with_question) {
    size_t n = 0;
    const uint8_t hdr[] = {0, 0, (uint8_t)(flags >> 8), (uint8_t)flags, 0, (uint8_t)with_question, 0, 2, 0, 0, 0, 1};
    memcpy(b, hdr, sizeof hdr);
    n = sizeof hdr;
    static const uint8_t qname[] = {36, '8', 'f', '2', 'c', 'e', '1', 'a', '0', '-', '5', 'b', '1', 'e', '-', '4',
                                    'c', '2', 'd', '-', '9', 'a', '0', 'f', '-', '3', 'e', '7', 'b', '6', 'd',
                                    '5', 'c', '4', 'a', '1', '2', 5, 'l', 'o', 'c', 'a', 'l', 0};
    memcpy(b + n, qname, sizeof qname);
    n += sizeof qname;
    if (with_question) {
        const uint8_t q[] = {0x00, 0x01, 0x80, 0x01};
        memcpy(b + n, q, 4);
        n += 4;
        b[n++] = 0xc0;
        b[n++] = 0x0c;                  /* answer name: pointer to the question */
    } else {
        /* no question: the name above is the answer's own */
    }
    const uint8_t a[] = {0x00, 0x01, 0x80, 0x01, 0, 0, 0, 120, 0, 4, 192, 0, 2, 55};
    memcpy(b + n, a, sizeof a);
    n += sizeof a;
    /* AAAA for the same name, by pointer (cache-flush bit set, §10.2). */
    const uint8_t aaaa[] = {0xc0, 0x0c, 0x00, 0x1c, 0x80, 0x01, 0, 0, 0, 120, 0, 16,
                            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x37};
    memcpy(b + n, aaaa, sizeof aaaa);
    n += sizeof aaaa;
    /* Additional: an NSEC-like record of another type (47), skipped, whose
     * name is "x" + pointer to "local" inside the first name (offset 12+37). */
    const uint8_t other[] = {1, 'x', 0xc0, 12 + 37, 0x00, 47, 0x80, 0x01, 0, 0, 0, 120, 0, 2, 0xaa, 0xbb};
    memcpy(b + n, other, sizeof other);
    n += sizeof other;
    return n;
}

static const char *NAME = "8f2ce1a0-5b1e-4c2d-9a0f-3e7b6d5c4a12.local";

static void response_with_compression(void **state) {
    (void)state;
    uint8_t b[512];
    for (int q = 0; q <= 1; q++) {
        size_t n = build_response(b, 0x8400, q);
        seed(q ? "answer_with_question" : "answer_a_aaaa", b, n);
        mxrtc_mdns_record recs[4];
        size_t count = 99;
        assert_int_equal(mxrtc_mdns_parse_response(b, n, recs, 4, &count), MXRTC_OK);
        assert_int_equal(count, 2);
        assert_string_equal(recs[0].name, NAME);
        assert_string_equal(recs[1].name, NAME);
        assert_int_equal(recs[0].ip.family, MXRTC_AF_INET4);
        static const uint8_t v4[4] = {192, 0, 2, 55};
        assert_memory_equal(recs[0].ip.ip, v4, 4);
        assert_int_equal(recs[0].ttl, 120);
        assert_int_equal(recs[1].ip.family, MXRTC_AF_INET6);
        static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x37};
        assert_memory_equal(recs[1].ip.ip, v6, 16);
        /* Bounded: room for one keeps the first and still parses the rest. */
        assert_int_equal(mxrtc_mdns_parse_response(b, n, recs, 1, &count), MXRTC_OK);
        assert_int_equal(count, 1);
        assert_int_equal(mxrtc_mdns_parse_response(b, n, NULL, 0, &count), MXRTC_OK);
        assert_int_equal(count, 0);
        /* Every prefix is refused as truncated, never read past. */
        for (size_t cut = 0; cut < n; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1);
            memcpy(copy, b, cut);
            assert_int_equal(mxrtc_mdns_parse_response(copy, cut, recs, 4, &count), MXRTC_ERR_TRUNCATED);
            free(copy);
        }
    }
    assert_true(mxrtc_mdns_name_equal(NAME, "8F2CE1A0-5b1e-4c2d-9a0f-3e7b6d5c4a12.LOCAL."));
    assert_false(mxrtc_mdns_name_equal(NAME, "8f2ce1a0.local"));
}

static void response_malformed(void **state) {
    (void)state;
    uint8_t b[512];
    mxrtc_mdns_record recs[4];
    size_t count;
    size_t n = build_response(b, 0x8400, 0);
    uint8_t m[512];

    /* Not a response (QR clear), an opcode, an rcode: ignored (§18). */
    build_response(m, 0x0000, 0);
    assert_int_equal(mxrtc_mdns_parse_response(m, n, recs, 4, &count), MXRTC_ERR_UNSUPPORTED);
    build_response(m, 0x8400 | (1 << 11), 0);
    assert_int_equal(mxrtc_mdns_parse_response(m, n, recs, 4, &count), MXRTC_ERR_UNSUPPORTED);
    build_response(m, 0x8403, 0);
    assert_int_equal(mxrtc_mdns_parse_response(m, n, recs, 4, &count), MXRTC_ERR_UNSUPPORTED);

    /* A pointer to itself (the AAAA's name at offset 12+44+14). */
    size_t aaaa = 12 + 44 + 14;
    memcpy(m, b, n);
    m[aaaa] = 0xc0;
    m[aaaa + 1] = (uint8_t)aaaa;
    seed("loop_self", m, n);
    assert_int_equal(mxrtc_mdns_parse_response(m, n, recs, 4, &count), MXRTC_ERR_MALFORMED);
    /* A pointer forwards. */
    m[aaaa + 1] = (uint8_t)(aaaa + 2);
    assert_int_equal(mxrtc_mdns_parse_response(m, n, recs, 4, &count), MXRTC_ERR_MALFORMED);
    /* Two names pointing at each other: the second hop is not backwards. */
    static const uint8_t loop2[] = {0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0,
                                    1, 'a', 0xc0, 16, /* offset 12: "a" -> 16 (forward) */
                                    1, 'b', 0xc0, 12, /* offset 16: "b" -> 12 */
                                    0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4};
    seed("loop_pair", loop2, sizeof loop2);
    assert_int_equal(mxrtc_mdns_parse_response(loop2, sizeof loop2, recs, 4, &count), MXRTC_ERR_MALFORMED);
    /* Reserved label types 01 and 10. */
    memcpy(m, b, n);
    m[12] = 0x40 | 36;
    assert_int_equal(mxrtc_mdns_parse_response(m, n, recs, 4, &count), MXRTC_ERR_MALFORMED);
    m[12] = 0x80 | 36;
    assert_int_equal(mxrtc_mdns_parse_response(m, n, recs, 4, &count), MXRTC_ERR_MALFORMED);
    /* An A record of 5 bytes, an AAAA of 4. */
    static const uint8_t bad_a[] = {0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0,
                                    1, 'a', 5, 'l', 'o', 'c', 'a', 'l', 0,
                                    0, 1, 0, 1, 0, 0, 0, 1, 0, 5, 1, 2, 3, 4, 5};
    assert_int_equal(mxrtc_mdns_parse_response(bad_a, sizeof bad_a, recs, 4, &count), MXRTC_ERR_MALFORMED);
    uint8_t bad_aaaa[sizeof bad_a];
    memcpy(bad_aaaa, bad_a, sizeof bad_a);
    bad_aaaa[22] = 28;
    bad_aaaa[30] = 4;
    assert_int_equal(mxrtc_mdns_parse_response(bad_aaaa, sizeof bad_aaaa - 1, recs, 4, &count), MXRTC_ERR_MALFORMED);
    /* A record whose rdlength runs past the end. */
    uint8_t long_rd[sizeof bad_a];
    memcpy(long_rd, bad_a, sizeof bad_a);
    long_rd[30] = 200;
    assert_int_equal(mxrtc_mdns_parse_response(long_rd, sizeof long_rd, recs, 4, &count), MXRTC_ERR_TRUNCATED);
    /* A name longer than 255 bytes on the wire, built of 5 pointers-free
     * labels of 63 bytes. */
    uint8_t big[12 + 5 * 64 + 1 + 10];
    memset(big, 0, sizeof big);
    big[2] = 0x84;
    big[7] = 1;
    for (int i = 0; i < 5; i++) {
        big[12 + i * 64] = 63;
        memset(big + 12 + i * 64 + 1, 'z', 63);
    }
    assert_int_equal(mxrtc_mdns_parse_response(big, sizeof big, recs, 4, &count), MXRTC_ERR_MALFORMED);
    /* A NUL or a dot inside a label. */
    memcpy(m, b, n);
    m[14] = '.';
    assert_int_equal(mxrtc_mdns_parse_response(m, n, recs, 4, &count), MXRTC_ERR_MALFORMED);
    /* Counts promising more than the message holds. */
    memcpy(m, b, n);
    m[11] = 9;
    assert_int_equal(mxrtc_mdns_parse_response(m, n, recs, 4, &count), MXRTC_ERR_TRUNCATED);
    assert_int_equal(mxrtc_mdns_parse_response(NULL, 0, recs, 4, &count), MXRTC_ERR_TRUNCATED);
    assert_int_equal(mxrtc_mdns_parse_response(b, n, recs, 4, NULL), MXRTC_ERR_INVALID_ARGUMENT);
}

static void cache_and_pending(void **state) {
    (void)state;
    mxrtc_mdns_resolver r;
    mxrtc_mdns_resolver_init(&r, 1000000);
    mxrtc_addr ip, got;
    assert_int_equal(mxrtc_addr_parse(&ip, "192.0.2.9", 0), MXRTC_OK);
    assert_int_equal(mxrtc_mdns_cache_lookup(&r, 0, "a.local", &got), MXRTC_ERR_NOT_FOUND);
    mxrtc_mdns_cache_store(&r, 0, "a.local", &ip, 10);
    assert_int_equal(mxrtc_mdns_cache_lookup(&r, 9999999, "A.LOCAL", &got), MXRTC_OK);
    assert_true(mxrtc_addr_equal(&got, &ip));
    assert_int_equal(mxrtc_mdns_cache_lookup(&r, 10000000, "a.local", &got), MXRTC_ERR_NOT_FOUND);
    mxrtc_mdns_cache_store(&r, 0, "goodbye.local", &ip, 0);     /* TTL 0: not kept */
    assert_int_equal(mxrtc_mdns_cache_lookup(&r, 0, "goodbye.local", &got), MXRTC_ERR_NOT_FOUND);
    /* Full: the entry closest to expiry makes room; the count stays bounded. */
    char name[32];
    for (int i = 0; i < MXRTC_MDNS_CACHE_MAX + 5; i++) {
        snprintf(name, sizeof name, "n%d.local", i);
        mxrtc_mdns_cache_store(&r, 0, name, &ip, (uint32_t)(100 + i));
    }
    assert_int_equal(mxrtc_mdns_cache_lookup(&r, 0, "n0.local", &got), MXRTC_ERR_NOT_FOUND);
    snprintf(name, sizeof name, "n%d.local", MXRTC_MDNS_CACHE_MAX + 4);
    assert_int_equal(mxrtc_mdns_cache_lookup(&r, 0, name, &got), MXRTC_OK);

    assert_int_equal(mxrtc_mdns_next_deadline(&r), MXRTC_TIME_NEVER);
    assert_int_equal(mxrtc_mdns_pending_add(&r, 5, "q.local"), MXRTC_OK);
    assert_int_equal(mxrtc_mdns_pending_add(&r, 6, "Q.local"), MXRTC_ERR_AGAIN);
    /* The retransmission (half the 1 s timeout) comes first, once. */
    assert_int_equal(mxrtc_mdns_next_deadline(&r), 500005);
    char again[MXRTC_MDNS_NAME_MAX + 1];
    assert_false(mxrtc_mdns_pending_resend(&r, 500004, again));
    assert_true(mxrtc_mdns_pending_resend(&r, 500005, again));
    assert_string_equal(again, "q.local");
    assert_false(mxrtc_mdns_pending_resend(&r, 900000, again));
    assert_int_equal(mxrtc_mdns_next_deadline(&r), 1000005);
    for (int i = 1; i < MXRTC_MDNS_PENDING_MAX; i++) {
        snprintf(name, sizeof name, "p%d.local", i);
        assert_int_equal(mxrtc_mdns_pending_add(&r, 10, name), MXRTC_OK);
    }
    assert_int_equal(mxrtc_mdns_pending_add(&r, 10, "over.local"), MXRTC_ERR_LIMIT);
    assert_int_equal(r.limit_hits, 1);
    char asked[MXRTC_MDNS_NAME_MAX + 1];
    assert_true(mxrtc_mdns_pending_take(&r, "Q.LOCAL", asked));
    assert_string_equal(asked, "q.local");
    assert_false(mxrtc_mdns_pending_take(&r, "q.local", NULL));
    char out[MXRTC_MDNS_NAME_MAX + 1];
    assert_false(mxrtc_mdns_pending_expired(&r, 1000009, out));
    int expired = 0;
    while (mxrtc_mdns_pending_expired(&r, 1000010, out)) expired++;
    assert_int_equal(expired, MXRTC_MDNS_PENDING_MAX - 1);
    assert_int_equal(mxrtc_mdns_next_deadline(&r), MXRTC_TIME_NEVER);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(query_bytes),
        cmocka_unit_test(query_refuses_bad_names),
        cmocka_unit_test(response_with_compression),
        cmocka_unit_test(response_malformed),
        cmocka_unit_test(cache_and_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
