/*
 * rtp/'s own Opus TOC parser (mxrtc_opus_packet_samples, RFC 6716 §3.1-3.2,
 * no libopus) and the libopus-backed check of codecs/
 * (mxrtc_opus_decoder_packet_samples) must agree: on every packet the encoder
 * makes (both accept, same duration), and on arbitrary bytes wherever both
 * accept. rtp/ uses its parser for RTP timestamps, codecs/ for decoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "base/random.h"
#include "codecs/codec.h"
#include "rtp/rtp.h"

static void encoder_packets_agree(void **state) {
    (void)state;
    for (int frame_ms = 10; frame_ms <= 20; frame_ms += 10) {
        for (int channels = 1; channels <= 2; channels++) {
            mxrtc_opus_encoder_config cfg;
            mxrtc_opus_encoder_config_init(&cfg);
            cfg.frame_ms = frame_ms;
            cfg.channels = channels;
            mxrtc_opus_encoder *e = NULL;
            assert_int_equal(mxrtc_opus_encoder_new(&e, &cfg, NULL), MXRTC_OK);
            int16_t pcm[960 * 2];
            uint8_t pkt[1500];
            int checked = 0;
            for (int f = 0; f < 50; f++) {
                int n = 48 * frame_ms;
                for (int i = 0; i < n * channels; i++) pcm[i] = (int16_t)((i * 37 + f * 101) % 2000 - 1000);
                int len = mxrtc_opus_encode(e, pcm, pkt, sizeof pkt);
                assert_true(len > 0);
                int a = mxrtc_opus_packet_samples(pkt, (size_t)len);
                int b = mxrtc_opus_decoder_packet_samples(pkt, (size_t)len);
                assert_int_equal(a, n);
                assert_int_equal(b, n);
                checked++;
            }
            assert_int_equal(checked, 50);
            mxrtc_opus_encoder_free(e);
        }
    }
}

static void random_bytes_agree_where_both_accept(void **state) {
    (void)state;
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 99);
    uint8_t buf[64];
    int both = 0;
    for (int i = 0; i < 200000; i++) {
        uint64_t r = mxrtc_seeded_random_next(&g);
        size_t len = 1 + (size_t)(r % sizeof buf);
        for (size_t k = 0; k < len; k += 8) {
            uint64_t v = mxrtc_seeded_random_next(&g);
            memcpy(buf + k, &v, len - k < 8 ? len - k : 8);
        }
        int a = mxrtc_opus_packet_samples(buf, len);
        int b = mxrtc_opus_decoder_packet_samples(buf, len);
        if (a > 0 && b > 0) {
            assert_int_equal(a, b);
            both++;
        }
    }
    assert_true(both > 1000); /* the comparison really happened */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encoder_packets_agree),
        cmocka_unit_test(random_bytes_agree_where_both_accept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
