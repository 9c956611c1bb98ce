/* test_turn_framing.c: ChannelData (RFC 8656 §12.4-12.5) and the TURN stream
 * framer (RFC 8656 §3.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mxrtc.h"
#include "stun/turn_framing.h"

/* A STUN message as it would come from a server: 20-byte header (RFC 8489 §5)
 * plus attr_len bytes of (opaque) attributes. */
static size_t make_stun(uint8_t *out, uint16_t type, uint16_t attr_len, uint8_t tid_seed) {
    out[0] = (uint8_t)(type >> 8);
    out[1] = (uint8_t)type;
    out[2] = (uint8_t)(attr_len >> 8);
    out[3] = (uint8_t)attr_len;
    out[4] = 0x21; out[5] = 0x12; out[6] = 0xA4; out[7] = 0x42;
    for (int i = 0; i < 12; i++) out[8 + i] = (uint8_t)(tid_seed + i);
    for (size_t i = 0; i < attr_len; i++) out[20 + i] = (uint8_t)(i * 7 + tid_seed);
    return 20u + attr_len;
}

static void channeldata_encode_decode(void **state) {
    (void)state;
    uint8_t out[64];
    const uint8_t payload[5] = {1, 2, 3, 4, 5};
    /* UDP: no padding. */
    int n = mxrtc_channeldata_encode(0x4001, payload, 5, 0, out, sizeof out);
    assert_int_equal(n, 9);
    static const uint8_t want[9] = {0x40, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5};
    assert_memory_equal(out, want, 9);
    /* Stream: padded to 12 with zeros. */
    memset(out, 0xEE, sizeof out);
    n = mxrtc_channeldata_encode(0x4001, payload, 5, 1, out, sizeof out);
    assert_int_equal(n, 12);
    assert_memory_equal(out, want, 9);
    assert_int_equal(out[9], 0);
    assert_int_equal(out[10], 0);
    assert_int_equal(out[11], 0);
    /* Already aligned: no padding either way. */
    assert_int_equal(mxrtc_channeldata_encode(0x4002, payload, 4, 1, out, sizeof out), 8);
    assert_int_equal(mxrtc_channeldata_encode(0x4002, NULL, 0, 1, out, sizeof out), 4);

    uint16_t ch;
    const uint8_t *data;
    size_t dlen;
    /* Unpadded and padded both decode. */
    n = mxrtc_channeldata_encode(0x4FFF, payload, 5, 0, out, sizeof out);
    assert_int_equal(mxrtc_channeldata_decode(out, (size_t)n, &ch, &data, &dlen), MXRTC_OK);
    assert_int_equal(ch, 0x4FFF);
    assert_int_equal(dlen, 5);
    assert_ptr_equal(data, out + 4);
    assert_memory_equal(data, payload, 5);
    n = mxrtc_channeldata_encode(0x4000, payload, 5, 1, out, sizeof out);
    for (size_t len = 9; len <= (size_t)n; len++) {
        assert_int_equal(mxrtc_channeldata_decode(out, len, &ch, &data, &dlen), MXRTC_OK);
        assert_int_equal(ch, 0x4000);
        assert_int_equal(dlen, 5);
    }
    /* One byte beyond the padding: not one ChannelData message. */
    assert_int_equal(mxrtc_channeldata_decode(out, (size_t)n + 1, &ch, &data, &dlen), MXRTC_ERR_MALFORMED);
    /* Truncated anywhere. */
    for (size_t len = 1; len < 9; len++)
        assert_int_equal(mxrtc_channeldata_decode(out, len, &ch, &data, &dlen), MXRTC_ERR_TRUNCATED);
    assert_int_equal(mxrtc_channeldata_decode(out, 0, &ch, &data, &dlen), MXRTC_ERR_TRUNCATED);
    /* Empty payload. */
    n = mxrtc_channeldata_encode(0x4123, NULL, 0, 0, out, sizeof out);
    assert_int_equal(mxrtc_channeldata_decode(out, (size_t)n, &ch, &data, &dlen), MXRTC_OK);
    assert_int_equal(dlen, 0);
}

static void channel_boundaries(void **state) {
    (void)state;
    uint8_t out[16];
    const uint8_t p[1] = {9};
    assert_int_equal(mxrtc_channeldata_encode(0x3FFF, p, 1, 0, out, sizeof out), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_channeldata_encode(0x5000, p, 1, 0, out, sizeof out), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_channeldata_encode(0x0000, p, 1, 0, out, sizeof out), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_channeldata_encode(0xFFFF, p, 1, 0, out, sizeof out), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_channeldata_encode(0x4000, p, 1, 0, out, sizeof out), 5);
    assert_int_equal(mxrtc_channeldata_encode(0x4FFF, p, 1, 0, out, sizeof out), 5);
    /* Length bound and output bound. */
    static uint8_t big[65536 + 8];
    assert_int_equal(mxrtc_channeldata_encode(0x4000, big, 65536, 0, big, sizeof big),
                     MXRTC_ERR_INVALID_ARGUMENT);
    static uint8_t src[65535], dst[65535 + 4 + 1];
    assert_int_equal(mxrtc_channeldata_encode(0x4000, src, 65535, 1, dst, sizeof dst), 65540);
    assert_int_equal(mxrtc_channeldata_encode(0x4000, src, 65535, 1, dst, sizeof dst - 1),
                     MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(mxrtc_channeldata_encode(0x4000, p, 1, 1, out, 7), MXRTC_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(mxrtc_channeldata_encode(0x4000, p, 1, 1, out, 8), 8);

    /* Decode rejects the reserved 0x5000-0x7FFF and anything not 01. */
    uint16_t ch;
    const uint8_t *data;
    size_t dlen;
    uint8_t m[5] = {0x50, 0x00, 0x00, 0x01, 0xAA};
    assert_int_equal(mxrtc_channeldata_decode(m, 5, &ch, &data, &dlen), MXRTC_ERR_MALFORMED);
    m[0] = 0x7F; m[1] = 0xFF;
    assert_int_equal(mxrtc_channeldata_decode(m, 5, &ch, &data, &dlen), MXRTC_ERR_MALFORMED);
    m[0] = 0x3F;
    assert_int_equal(mxrtc_channeldata_decode(m, 5, &ch, &data, &dlen), MXRTC_ERR_MALFORMED);
    m[0] = 0x80; m[1] = 0x00;
    assert_int_equal(mxrtc_channeldata_decode(m, 5, &ch, &data, &dlen), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_channeldata_decode(m, 1, &ch, &data, &dlen), MXRTC_ERR_MALFORMED);
    m[0] = 0x4F; m[1] = 0xFF;
    assert_int_equal(mxrtc_channeldata_decode(m, 5, &ch, &data, &dlen), MXRTC_OK);
    assert_int_equal(ch, 0x4FFF);
    assert_int_equal(mxrtc_channeldata_decode(NULL, 5, &ch, &data, &dlen), MXRTC_ERR_INVALID_ARGUMENT);
}

/* Builds a stream of STUN and ChannelData frames (padded, as a server sends
 * them over TCP) and records each frame's expected bytes. */
typedef struct expect {
    size_t off, len;   /* frame within the stream, without padding */
    int is_cd;
} expect;

static size_t build_stream(uint8_t *s, expect *ex, size_t *count) {
    size_t n = 0, k = 0;
    const uint8_t pay[7] = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70};
    for (int round = 0; round < 4; round++) {
        ex[k] = (expect){n, make_stun(s + n, 0x0101, (uint16_t)(8 * round), (uint8_t)round), 0};
        n += ex[k++].len;
        for (size_t plen = 0; plen <= 7; plen += 3) {   /* 0, 3, 6: pads 0, 1, 2 */
            int w = mxrtc_channeldata_encode((uint16_t)(0x4000 + round), pay, plen + (size_t)round % 2, 1,
                                             s + n, 64);
            assert_true(w > 0);
            ex[k++] = (expect){n, 4 + plen + (size_t)round % 2, 1};
            n += (size_t)w;
        }
    }
    *count = k;
    return n;
}

static void check_frames(mxrtc_stream_framer *f, const uint8_t *s, const expect *ex, size_t count,
                         size_t *next) {
    const uint8_t *fr;
    size_t fl;
    int cd;
    int r;
    while ((r = mxrtc_stream_framer_next(f, &fr, &fl, &cd)) == MXRTC_OK) {
        assert_true(*next < count);
        assert_int_equal(fl, ex[*next].len);
        assert_int_equal(cd, ex[*next].is_cd);
        assert_memory_equal(fr, s + ex[*next].off, fl);
        (*next)++;
    }
    assert_int_equal(r, MXRTC_ERR_AGAIN);
}

static void stream_one_byte_at_a_time(void **state) {
    (void)state;
    static mxrtc_stream_framer f;
    uint8_t s[2048];
    expect ex[32];
    size_t count, next = 0;
    size_t n = build_stream(s, ex, &count);
    mxrtc_stream_framer_init(&f);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(mxrtc_stream_framer_push(&f, s + i, 1), 1);
        check_frames(&f, s, ex, count, &next);
    }
    assert_int_equal(next, count);   /* every STUN and ChannelData frame, in order */
}

static void stream_interleaved_whole_and_split(void **state) {
    (void)state;
    static mxrtc_stream_framer f;
    uint8_t s[2048];
    expect ex[32];
    size_t count;
    size_t n = build_stream(s, ex, &count);
    /* All at once. */
    size_t next = 0;
    mxrtc_stream_framer_init(&f);
    assert_int_equal(mxrtc_stream_framer_push(&f, s, n), n);
    check_frames(&f, s, ex, count, &next);
    assert_int_equal(next, count);
    /* Every split point into two pushes, including inside headers and padding. */
    for (size_t cut = 1; cut < n; cut++) {
        next = 0;
        mxrtc_stream_framer_init(&f);
        assert_int_equal(mxrtc_stream_framer_push(&f, s, cut), cut);
        check_frames(&f, s, ex, count, &next);
        assert_int_equal(mxrtc_stream_framer_push(&f, s + cut, n - cut), n - cut);
        check_frames(&f, s, ex, count, &next);
        assert_int_equal(next, count);
    }
}

static void stream_large_frames_and_full_buffer(void **state) {
    (void)state;
    static mxrtc_stream_framer f;
    /* Two maximal ChannelData frames (65535 bytes, padded by 1) and a
     * maximal STUN message (65532 bytes of attributes), fed in 10000-byte
     * chunks: push takes less when full, _next drains, the rest follows. */
    static uint8_t s[3 * 65560];
    static uint8_t payload[65535];
    for (size_t i = 0; i < sizeof payload; i++) payload[i] = (uint8_t)(i * 31);
    size_t n = 0;
    int w = mxrtc_channeldata_encode(0x4ABC, payload, 65535, 1, s, sizeof s);
    assert_int_equal(w, 65540);
    n += (size_t)w;
    n += make_stun(s + n, 0x0017, 65532, 3);
    w = mxrtc_channeldata_encode(0x4001, payload, 65535, 1, s + n, sizeof s - n);
    n += (size_t)w;

    mxrtc_stream_framer_init(&f);
    size_t fed = 0;
    int frames = 0, short_push = 0;
    const uint8_t *fr;
    size_t fl;
    int cd;
    while (fed < n || frames < 3) {
        if (fed < n) {
            size_t want = n - fed < 10000 ? n - fed : 10000;
            size_t took = mxrtc_stream_framer_push(&f, s + fed, want);
            if (took < want) short_push = 1;
            fed += took;
        }
        int r;
        while ((r = mxrtc_stream_framer_next(&f, &fr, &fl, &cd)) == MXRTC_OK) {
            frames++;
            if (frames == 2) {
                assert_int_equal(cd, 0);
                assert_int_equal(fl, 20 + 65532);
            } else {
                assert_int_equal(cd, 1);
                assert_int_equal(fl, 4 + 65535);
                assert_memory_equal(fr + 4, payload, 65535);
            }
        }
        assert_int_equal(r, MXRTC_ERR_AGAIN);
    }
    assert_int_equal(frames, 3);
    assert_true(short_push);   /* the bound was actually exercised */
}

static void stream_garbage_breaks(void **state) {
    (void)state;
    static mxrtc_stream_framer f;
    const uint8_t *fr;
    size_t fl;
    int cd;
    /* First byte 10xxxxxx / 11xxxxxx (RTP, DTLS...): broken at once. */
    const uint8_t bad[] = {0x80, 0xC0, 0xFF};
    for (size_t i = 0; i < sizeof bad; i++) {
        mxrtc_stream_framer_init(&f);
        assert_int_equal(mxrtc_stream_framer_push(&f, bad + i, 1), 1);
        assert_int_equal(mxrtc_stream_framer_next(&f, &fr, &fl, &cd), MXRTC_ERR_MALFORMED);
        assert_int_equal(mxrtc_stream_framer_next(&f, &fr, &fl, &cd), MXRTC_ERR_MALFORMED);
        /* Stays broken: pushes are swallowed, good data does not revive it. */
        uint8_t good[20];
        make_stun(good, 0x0101, 0, 1);
        assert_int_equal(mxrtc_stream_framer_push(&f, good, 20), 20);
        assert_int_equal(mxrtc_stream_framer_next(&f, &fr, &fl, &cd), MXRTC_ERR_MALFORMED);
    }
    /* A good frame, then garbage: the good frame comes out first. */
    uint8_t s[64];
    size_t n = make_stun(s, 0x0101, 4, 9);
    s[n++] = 0x90;
    mxrtc_stream_framer_init(&f);
    mxrtc_stream_framer_push(&f, s, n);
    assert_int_equal(mxrtc_stream_framer_next(&f, &fr, &fl, &cd), MXRTC_OK);
    assert_int_equal(fl, 24);
    assert_int_equal(mxrtc_stream_framer_next(&f, &fr, &fl, &cd), MXRTC_ERR_MALFORMED);
    /* STUN length not a multiple of 4. */
    make_stun(s, 0x0101, 4, 9);
    s[3] = 5;
    mxrtc_stream_framer_init(&f);
    mxrtc_stream_framer_push(&f, s, 4);
    assert_int_equal(mxrtc_stream_framer_next(&f, &fr, &fl, &cd), MXRTC_ERR_MALFORMED);
    /* STUN without the magic cookie (e.g. RFC 3489 or lost sync). */
    make_stun(s, 0x0101, 4, 9);
    s[4] = 0;
    mxrtc_stream_framer_init(&f);
    mxrtc_stream_framer_push(&f, s, 7);
    assert_int_equal(mxrtc_stream_framer_next(&f, &fr, &fl, &cd), MXRTC_ERR_AGAIN);
    mxrtc_stream_framer_push(&f, s + 7, 1);
    assert_int_equal(mxrtc_stream_framer_next(&f, &fr, &fl, &cd), MXRTC_ERR_MALFORMED);
    /* NULL arguments. */
    assert_int_equal(mxrtc_stream_framer_next(&f, NULL, &fl, &cd), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_stream_framer_push(NULL, s, 1), 0);
}

static void stream_reserved_channel_is_framed(void **state) {
    (void)state;
    static mxrtc_stream_framer f;
    const uint8_t *fr;
    size_t fl;
    int cd;
    /* 0x5000 has the 01 prefix: framed (length known), decode rejects it. */
    const uint8_t s[] = {0x50, 0x00, 0x00, 0x02, 0xAA, 0xBB, 0, 0, 0x40, 0x00, 0x00, 0x00};
    mxrtc_stream_framer_init(&f);
    mxrtc_stream_framer_push(&f, s, sizeof s);
    assert_int_equal(mxrtc_stream_framer_next(&f, &fr, &fl, &cd), MXRTC_OK);
    assert_int_equal(fl, 6);
    assert_int_equal(cd, 1);
    uint16_t ch;
    const uint8_t *data;
    size_t dlen;
    assert_int_equal(mxrtc_channeldata_decode(fr, fl, &ch, &data, &dlen), MXRTC_ERR_MALFORMED);
    assert_int_equal(mxrtc_stream_framer_next(&f, &fr, &fl, &cd), MXRTC_OK);
    assert_int_equal(fl, 4);
    assert_int_equal(mxrtc_channeldata_decode(fr, fl, &ch, &data, &dlen), MXRTC_OK);
    assert_int_equal(ch, 0x4000);
    assert_int_equal(mxrtc_stream_framer_next(&f, &fr, &fl, &cd), MXRTC_ERR_AGAIN);
}

static void stream_random_chunks(void **state) {
    (void)state;
    static mxrtc_stream_framer f;
    static uint8_t s[4096 * 4];
    expect ex[32 * 4];
    size_t n = 0, count = 0;
    for (int rep = 0; rep < 4; rep++) {
        size_t c;
        size_t m = build_stream(s + n, ex + count, &c);
        for (size_t i = 0; i < c; i++) ex[count + i].off += n;
        n += m;
        count += c;
    }
    uint32_t seed = 12345;
    for (int trial = 0; trial < 50; trial++) {
        size_t next = 0, fed = 0;
        mxrtc_stream_framer_init(&f);
        while (fed < n) {
            seed = seed * 1103515245u + 12345u;
            size_t chunk = 1 + (seed >> 16) % 97;
            if (chunk > n - fed) chunk = n - fed;
            assert_int_equal(mxrtc_stream_framer_push(&f, s + fed, chunk), chunk);
            fed += chunk;
            check_frames(&f, s, ex, count, &next);
        }
        assert_int_equal(next, count);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(channeldata_encode_decode),
        cmocka_unit_test(channel_boundaries),
        cmocka_unit_test(stream_one_byte_at_a_time),
        cmocka_unit_test(stream_interleaved_whole_and_split),
        cmocka_unit_test(stream_large_frames_and_full_buffer),
        cmocka_unit_test(stream_garbage_breaks),
        cmocka_unit_test(stream_reserved_channel_is_framed),
        cmocka_unit_test(stream_random_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
