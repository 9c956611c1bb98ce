/*
 * test_video_receiver.c: VP8 through the whole receive path on a virtual
 * clock: encoder (codecs/) -> RFC 7741 packetizer -> seeded lossy network
 * (+-40 ms jitter) -> video receiver (reorder, frame assembly, keyframe
 * wait, PLI) -> decoder, with PLIs fed back to the encoder after half an
 * RTT. Every decoded picture's colour is checked against the colour the
 * sender drew for that RTP timestamp; PLIs are counted and their spacing
 * checked against the rate limit; freeze time is reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "codecs/codec.h"
#include "rtp/rtp.h"
#include "rtp/video_receiver.h"
#include "support/test_alloc.h"
#include "signal.h"
#include "netsim.h"

#define W 320
#define H 240
#define FPS 30
#define FRAME_US (1000000 / FPS)
#define TS_STEP (90000 / FPS)

static const uint8_t palette[4][3] = {
    {81, 90, 240},   /* red */
    {145, 54, 34},   /* green */
    {41, 240, 110},  /* blue */
    {170, 166, 16},  /* cyan-ish */
};

static int colour_of(uint32_t frame) { return (int)((frame / 10) % 4); }   /* 3 changes/s */

typedef struct vscn {
    uint64_t seed;
    double loss;
    uint64_t jitter_us;
    double seconds;
    long drop_packet;        /* this packet index is lost; -1 none */
    long corrupt_frame;      /* this frame's last packet is cut short; -1 none */
    long start_frame;        /* the receiver sees nothing before this frame */
    long switch_frame;       /* new SSRC (and a fresh encoder) from this frame; -1 none */
    uint64_t rtt_us;
    bool nack;               /* NACK + RTX (RFC 4585 §6.2.1, RFC 4588) between the two ends */
    const char *seed_name;   /* MXRTC_WRITE_SEEDS=DIR: the first second as a
                                fuzz_video_receiver seed DIR/<seed_name> */
} vscn;

typedef struct vseed {
    uint8_t buf[65536];
    size_t len;
    bool on;
    uint64_t last;
} vseed;

static void vseed_put(vseed *v, const uint8_t *b, size_t n) {
    if (!v->on || v->len + n > sizeof v->buf) {
        v->on = false;
        return;
    }
    memcpy(v->buf + v->len, b, n);
    v->len += n;
}

/* Advances the seed's clock to now (ops of at most 127 ms). */
static void vseed_time(vseed *v, uint64_t now) {
    while (v->on && now >= v->last + 1000) {
        uint64_t ms = (now - v->last) / 1000;
        if (ms > 127) ms = 127;
        uint8_t op = (uint8_t)(0x80 | ms);
        vseed_put(v, &op, 1);
        v->last += ms * 1000;
    }
}

typedef struct vres {
    mxrtc_video_receiver_stats st;
    netsim net;
    uint64_t frames_sent, keyframes_sent, pictures, colour_errors;
    uint64_t pli_times[256];
    size_t plis;
    uint64_t min_pli_gap;
    long last_decoded_frame;
    double max_colour_err;
    /* NACK/RTX accounting */
    uint64_t media_lost;     /* first transmissions the network dropped */
    uint64_t nacked;         /* sequence numbers asked for (repeats included) */
    uint64_t rtx_sent, rtx_received;
    uint64_t recovered;      /* NACK generator: missing packets that came after all,
                                reordered ones included (not only repaired losses) */
    uint64_t nack_gave_up;
} vres;

static void vscn_init(vscn *s) {
    memset(s, 0, sizeof *s);
    s->seed = 3;
    s->jitter_us = 40000;
    s->seconds = 10;
    s->drop_packet = -1;
    s->corrupt_frame = -1;
    s->switch_frame = -1;
    s->rtt_us = 100000;
}

static mxrtc_video_encoder *new_encoder(void) {
    mxrtc_video_encoder_config ec;
    mxrtc_video_encoder_config_init(&ec, MXRTC_CODEC_VP8);
    ec.width = W;
    ec.height = H;
    ec.bitrate_bps = 400000;
    ec.max_fps = FPS;
    ec.keyframe_max_distance = 0;     /* keyframes only on request: recovery needs the PLI */
    mxrtc_video_encoder *enc = NULL;
    assert_int_equal(mxrtc_video_encoder_new(&enc, &ec, NULL, NULL), MXRTC_OK);
    return enc;
}

static void vrun(const vscn *s, vres *res) {
    memset(res, 0, sizeof *res);
    res->last_decoded_frame = -1;
    res->min_pli_gap = UINT64_MAX;
    netsim_init(&res->net, s->seed, s->loss, s->rtt_us / 2, s->jitter_us);
    netsim *net = &res->net;
    mxrtc_video_encoder *enc = new_encoder();
    mxrtc_video_decoder *dec = NULL;
    assert_int_equal(mxrtc_video_decoder_new(&dec, MXRTC_CODEC_VP8, NULL, NULL), MXRTC_OK);
    mxrtc_video_receiver_config rc;
    mxrtc_video_receiver_config_init(&rc);
    rc.sender_ssrc = 0xAAAA;
    /* With retransmission, a gap is worth waiting for: a NACK and its RTX take
     * one RTT plus jitter, and a lost RTX is asked for again an RTT later. */
    if (s->nack) rc.max_wait_ms = (uint32_t)(3 * s->rtt_us / 1000);
    mxrtc_nack_gen nack;
    mxrtc_nack_init(&nack, NULL);
    mxrtc_nack_set_rtt(&nack, s->rtt_us);
    mxrtc_rtx_history *hist = NULL;
    mxrtc_rtx_config xc = {.capacity = 1024, .max_packet = 1500, .rtx_ssrc = 0x0EEEEEEE, .rtx_pt = 97,
                           .first_rtx_seq = 100};
    assert_int_equal(mxrtc_rtx_history_new(&hist, NULL, &xc), MXRTC_OK);
    /* NACKs on their way to the sender: (arrival time, seq) */
    static uint64_t nack_at[4096];
    static uint16_t nack_seq[4096];
    size_t nack_n = 0;
    mxrtc_video_receiver *vr = NULL;
    assert_int_equal(mxrtc_video_receiver_new(&vr, &rc, NULL), MXRTC_OK);
    mxrtc_video_receiver_set_rtt(vr, s->rtt_us);

    sig_picture pic;
    assert_int_equal(sig_picture_alloc(&pic, W, H), 0);
    static uint8_t frame[200000], payload[1500], pkt[1500], rx[1500];
    uint32_t ssrc = 0x01020304;
    uint16_t seq = 40000, pid = 0;
    long pkt_index = 0;
    uint64_t pli_arrives = UINT64_MAX;     /* when a sent PLI reaches the encoder */
    uint32_t frame_no = 0;
    const uint64_t end_us = (uint64_t)(s->seconds * 1e6);
    uint64_t next_wake = UINT64_MAX;
    static vseed vs;
    memset(&vs, 0, sizeof vs);
    vs.on = s->seed_name && getenv("MXRTC_WRITE_SEEDS");

    for (uint64_t now = 0; now < end_us; now += 1000) {
        if (now >= pli_arrives) {
            mxrtc_video_encoder_request_keyframe(enc);
            pli_arrives = UINT64_MAX;
        }
        if (now >= (uint64_t)frame_no * FRAME_US) {
            if ((long)frame_no == s->switch_frame) {
                mxrtc_video_encoder_free(enc);
                enc = new_encoder();
                ssrc = 0x0A0B0C0D;
                seq = 7;
            }
            int c = colour_of(frame_no);
            sig_picture_fill(&pic, palette[c][0], palette[c][1], palette[c][2]);
            mxrtc_i420 in = {pic.y, pic.u, pic.v, pic.stride_y, pic.stride_u, pic.stride_v,
                             W, H, now};
            mxrtc_encoded_frame info;
            assert_int_equal(mxrtc_video_encode(enc, &in, frame, sizeof frame, &info), MXRTC_OK);
            if (!info.dropped) {
                res->frames_sent++;
                if (info.keyframe) res->keyframes_sent++;
                mxrtc_vp8_packetizer pk;
                assert_int_equal(mxrtc_vp8_packetizer_init(&pk, frame, info.len,
                                                           MXRTC_RTP_DEFAULT_MTU - 12, pid++, false),
                                 MXRTC_OK);
                bool last = false;
                while (!last) {
                    int n = mxrtc_vp8_packetizer_next(&pk, payload, sizeof payload, &last);
                    assert_true(n > 0);
                    if ((long)frame_no == s->corrupt_frame && last && n > 24) n = 24;
                    mxrtc_rtp_packet h;
                    memset(&h, 0, sizeof h);
                    h.pt = 96;
                    h.seq = seq++;
                    h.ts = 1000 + frame_no * TS_STEP;
                    h.ssrc = ssrc;
                    h.marker = last;
                    h.payload = payload;
                    h.payload_len = (size_t)n;
                    int len = mxrtc_rtp_write(&h, pkt, sizeof pkt);
                    assert_true(len > 0);
                    if (s->nack) assert_int_equal(mxrtc_rtx_history_put(hist, pkt, (size_t)len, now), MXRTC_OK);
                    if (pkt_index != s->drop_packet && (long)frame_no >= s->start_frame) {
                        uint64_t lost_before = net->lost;
                        netsim_send(net, now, pkt, (size_t)len);
                        res->media_lost += net->lost - lost_before;
                    }
                    pkt_index++;
                }
            }
            frame_no++;
        }
        /* The sender answers NACKs that reached it with RTX packets. */
        for (size_t i = 0; i < nack_n;) {
            if (nack_at[i] > now) { i++; continue; }
            uint8_t rtx[1600];
            int rl = mxrtc_rtx_history_resend(hist, nack_seq[i], now, s->rtt_us / 2, rtx, sizeof rtx);
            if (rl > 0) {
                netsim_send(net, now, rtx, (size_t)rl);
                res->rtx_sent++;
            }
            nack_at[i] = nack_at[nack_n - 1];
            nack_seq[i] = nack_seq[nack_n - 1];
            nack_n--;
        }
        uint64_t at;
        size_t len;
        bool input = false;
        while ((len = netsim_recv(net, now, rx, &at)) > 0) {
            mxrtc_rtp_packet p;
            assert_int_equal(mxrtc_rtp_parse(&p, rx, len), MXRTC_OK);
            if (p.pt == 97) {                       /* RTX: back to the original packet */
                mxrtc_rtp_packet orig;
                assert_int_equal(mxrtc_rtx_decapsulate(&p, ssrc, 96, &orig), MXRTC_OK);
                p = orig;
                res->rtx_received++;
            }
            if (s->nack) mxrtc_nack_on_packet(&nack, p.seq, at);
            assert_int_equal(mxrtc_video_receiver_push(vr, &p, at), MXRTC_OK);
            input = true;
            if (vs.on && now < 1500000) {
                vseed_time(&vs, now);
                uint8_t h[3] = {0, (uint8_t)(len >> 8), (uint8_t)len};
                vseed_put(&vs, h, 3);
                vseed_put(&vs, rx, len);
            }
        }
        if (s->nack && now >= mxrtc_nack_deadline(&nack)) {
            uint16_t seqs[64];
            size_t n = 0;
            assert_int_equal(mxrtc_nack_poll(&nack, now, seqs, 64, &n, NULL), MXRTC_OK);
            for (size_t i = 0; i < n && nack_n < 4096; i++) {
                nack_at[nack_n] = now + s->rtt_us / 2;     /* the NACK crosses the network */
                nack_seq[nack_n++] = seqs[i];
            }
            res->nacked += n;
        }
        if (!input && now < next_wake) continue;
        /* drain: frames to decode, PLIs to send, until it gives a deadline */
        mxrtc_video_receiver_event ev;
        int prc;
        while ((prc = mxrtc_video_receiver_poll(vr, now, &ev, &next_wake)) == MXRTC_OK) {
            if (ev.type == MXRTC_VIDEO_RX_PLI) {
                assert_int_equal(ev.media_ssrc, ssrc);
                assert_int_equal(ev.sender_ssrc, 0xAAAA);
                if (res->plis > 0 && now - res->pli_times[(res->plis - 1) % 256] < res->min_pli_gap)
                    res->min_pli_gap = now - res->pli_times[(res->plis - 1) % 256];
                res->pli_times[res->plis % 256] = now;
                res->plis++;
                if (pli_arrives == UINT64_MAX) pli_arrives = now + s->rtt_us / 2;
                continue;
            }
            mxrtc_i420 out;
            int got = 0;
            int drc = mxrtc_video_decode(dec, ev.frame.data, ev.frame.len, now, &out, &got);
            assert_true(drc == MXRTC_OK || drc == MXRTC_ERR_MALFORMED || drc == MXRTC_ERR_STATE);
            if (drc == MXRTC_OK && got) {
                res->pictures++;
                uint32_t fno = (ev.frame.ts - 1000) / TS_STEP;
                int c = colour_of(fno);
                double ey = fabs(sig_plane_mean(out.y, out.stride_y, W, H) - palette[c][0]);
                double eu = fabs(sig_plane_mean(out.u, out.stride_u, W / 2, H / 2) - palette[c][1]);
                double ev_ = fabs(sig_plane_mean(out.v, out.stride_v, W / 2, H / 2) - palette[c][2]);
                double e = fmax(ey, fmax(eu, ev_));
                if (e > res->max_colour_err) res->max_colour_err = e;
                if (e > 8) res->colour_errors++;
                res->last_decoded_frame = (long)fno;
            }
            assert_int_equal(mxrtc_video_receiver_decoded(vr, now, drc == MXRTC_OK && got,
                                                          mxrtc_video_decoder_needs_keyframe(dec)),
                             MXRTC_OK);
        }
        assert_int_equal(prc, MXRTC_ERR_AGAIN);
    }
    mxrtc_video_receiver_get_stats(vr, &res->st);
    res->recovered = nack.recovered;
    res->nack_gave_up = nack.given_up;
    mxrtc_rtx_history_free(hist);
    if (vs.len && s->seed_name) {
        vseed_time(&vs, 1500000);
        char path[512];
        snprintf(path, sizeof path, "%s/%s", getenv("MXRTC_WRITE_SEEDS"), s->seed_name);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fwrite(vs.buf, 1, vs.len, f);
        fclose(f);
    }
    sig_picture_free(&pic);
    mxrtc_video_receiver_free(vr);
    mxrtc_video_decoder_free(dec);
    mxrtc_video_encoder_free(enc);
}

static void vprint(const char *name, const vres *r) {
    printf("# %-12s frames sent %llu (key %llu) | pkts lost(net) %llu reordered %llu given up %llu"
           " | frames lost %llu dropped %llu decoded %llu (key %llu) | keyframe requests %llu "
           "PLIs %llu (min gap %.0f ms) | freezes %llu, %.0f ms | max colour error %.1f\n",
           name, (unsigned long long)r->frames_sent, (unsigned long long)r->keyframes_sent,
           (unsigned long long)r->net.lost, (unsigned long long)r->net.reordered,
           (unsigned long long)r->st.packets_given_up, (unsigned long long)r->st.frames_lost,
           (unsigned long long)r->st.frames_dropped, (unsigned long long)r->st.frames_decoded,
           (unsigned long long)r->st.keyframes_decoded,
           (unsigned long long)r->st.keyframe_requests, (unsigned long long)r->st.plis_sent,
           r->min_pli_gap == UINT64_MAX ? -1.0 : (double)r->min_pli_gap / 1000.0,
           (unsigned long long)r->st.freeze_count, (double)r->st.total_freeze_us / 1000.0,
           r->max_colour_err);
}

/* Every picture shown has the right colour, and the stream plays to the end. */
static void check_pictures(const vres *r, const vscn *s, bool to_the_end) {
    assert_int_equal(r->colour_errors, 0);
    assert_int_equal(r->pictures, r->st.frames_decoded);
    if (!to_the_end) return;
    long last_sent = (long)(s->seconds * FPS) - 1;
    assert_true(r->last_decoded_frame >= last_sent - 8);   /* within the network delay */
}

static void jitter_without_loss_needs_no_pli(void **state) {
    (void)state;
    vscn s;
    vscn_init(&s);
    s.seconds = 5;
    s.seed_name = "jitter";
    vres r;
    vrun(&s, &r);
    vprint("no loss", &r);
    check_pictures(&r, &s, true);
    assert_true(r.net.reordered > 0);
    assert_int_equal(r.st.plis_sent, 0);
    assert_int_equal(r.st.frames_lost, 0);
    assert_int_equal(r.st.packets_given_up, 0);
    assert_int_equal(r.keyframes_sent, 1);
    assert_int_equal(r.st.freeze_count, 0);
    assert_true(r.st.frames_decoded + 5 >= r.frames_sent);
}

static void one_lost_packet_one_pli(void **state) {
    (void)state;
    vscn s;
    vscn_init(&s);
    s.seconds = 5;
    s.jitter_us = 10000;
    s.drop_packet = 20;
    s.seed_name = "one_loss";
    vres r;
    vrun(&s, &r);
    vprint("one loss", &r);
    check_pictures(&r, &s, true);
    assert_int_equal(r.st.packets_given_up, 1);
    assert_int_equal(r.st.plis_sent, 1);
    assert_int_equal(r.keyframes_sent, 2);
    assert_int_equal(r.st.keyframes_decoded, 2);
    /* One freeze: from the last good frame to the keyframe, which needs the
     * wait for the missing packet (150 ms) plus an RTT and a frame. */
    assert_int_equal(r.st.freeze_count, 1);
    assert_true(r.st.total_freeze_us >= 150000 && r.st.total_freeze_us <= 150000 + s.rtt_us + 150000);
}

static void loss_case(double loss, const char *name) {
    vscn s;
    vscn_init(&s);
    s.loss = loss;
    s.seed = (uint64_t)(loss * 100) + 11;
    s.seed_name = loss > 0.1 ? "loss20" : "loss5";
    vres r;
    vrun(&s, &r);
    vprint(name, &r);
    check_pictures(&r, &s, false);   /* at 20 % a keyframe of several packets may not get through */
    assert_true(r.st.plis_sent >= 1);
    /* rate limit: never two PLIs closer than max(300 ms, RTT) */
    assert_true(r.min_pli_gap >= 300000);
    assert_true(r.st.plis_sent <= (uint64_t)(s.seconds / 0.3) + 1);
    assert_true(r.st.keyframe_requests > r.st.plis_sent);   /* requests were coalesced */
    assert_true(r.st.keyframes_decoded >= 2);                /* recovered at least once */
    assert_true(r.st.frames_decoded > 0);
}

static void loss_5(void **state) { (void)state; loss_case(0.05, "loss 5%"); }
static void loss_20(void **state) { (void)state; loss_case(0.20, "loss 20%"); }

static void corrupt_frame_decoder_asks(void **state) {
    (void)state;
    vscn s;
    vscn_init(&s);
    s.seconds = 4;
    s.jitter_us = 0;
    s.corrupt_frame = 30;
    vres r;
    vrun(&s, &r);
    vprint("corrupt", &r);
    check_pictures(&r, &s, true);
    /* The frame arrived whole as far as RTP can tell; only the decoder
     * knows, and its needs_keyframe turns into the PLI. */
    assert_int_equal(r.st.frames_lost, 0);
    assert_true(r.st.plis_sent >= 1);
    assert_true(r.keyframes_sent >= 2);
    assert_true(r.st.keyframes_decoded >= 2);
}

static void join_mid_stream(void **state) {
    (void)state;
    vscn s;
    vscn_init(&s);
    s.seconds = 3;
    s.jitter_us = 0;
    s.start_frame = 20;          /* the first keyframe never reaches us */
    s.seed_name = "mid_stream";
    vres r;
    vrun(&s, &r);
    vprint("mid-stream", &r);
    check_pictures(&r, &s, true);
    assert_int_equal(r.st.plis_sent, 1);
    assert_true(r.st.frames_dropped >= 1);
    assert_int_equal(r.st.keyframes_decoded, 1);
}

static void ssrc_change_needs_keyframe(void **state) {
    (void)state;
    vscn s;
    vscn_init(&s);
    s.seconds = 3;
    s.jitter_us = 0;
    s.switch_frame = 45;         /* a fresh encoder starts with a keyframe */
    vres r;
    vrun(&s, &r);
    vprint("ssrc change", &r);
    check_pictures(&r, &s, true);
    assert_int_equal(r.st.resets, 1);
    assert_int_equal(r.st.keyframes_decoded, 2);
}

/* ---- unit checks -------------------------------------------------------- */

static void bad_input_and_alloc(void **state) {
    (void)state;
    mxrtc_video_receiver_config cfg;
    mxrtc_video_receiver_config_init(&cfg);
    mxrtc_video_receiver *vr = NULL;
    cfg.slots = 2;
    assert_int_equal(mxrtc_video_receiver_new(&vr, &cfg, NULL), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_video_receiver_config_init(&cfg);
    cfg.slots = 16;
    assert_int_equal(mxrtc_video_receiver_new(&vr, &cfg, NULL), MXRTC_OK);
    uint8_t big[2000] = {0x90, 0x80, 0x80, 0x01};
    mxrtc_rtp_packet p;
    memset(&p, 0, sizeof p);
    p.payload = big;
    p.payload_len = sizeof big;
    assert_int_equal(mxrtc_video_receiver_push(vr, &p, 0), MXRTC_ERR_LIMIT);
    assert_int_equal(mxrtc_video_receiver_push(vr, NULL, 0), MXRTC_ERR_INVALID_ARGUMENT);
    mxrtc_video_receiver_event ev;
    mxrtc_time_us dl;
    assert_int_equal(mxrtc_video_receiver_decoded(vr, 0, true, false), MXRTC_ERR_STATE);
    /* a jump far beyond the slots restarts and asks for a keyframe */
    p.payload_len = 10;
    p.seq = 1;
    assert_int_equal(mxrtc_video_receiver_push(vr, &p, 0), MXRTC_OK);
    p.seq = 1000;
    assert_int_equal(mxrtc_video_receiver_push(vr, &p, 0), MXRTC_OK);
    mxrtc_video_receiver_stats st;
    mxrtc_video_receiver_get_stats(vr, &st);
    assert_int_equal(st.resets, 1);
    assert_int_equal(mxrtc_video_receiver_poll(vr, 0, &ev, &dl), MXRTC_OK);
    assert_int_equal(ev.type, MXRTC_VIDEO_RX_PLI);
    /* the next PLI waits for the interval */
    p.seq = 1001;
    p.payload = (const uint8_t *)"\x10\x01\x00\x00";   /* S=1; frame tag P=1: inter frame */
    p.payload_len = 4;
    p.marker = true;
    assert_int_equal(mxrtc_video_receiver_push(vr, &p, 1000), MXRTC_OK);
    int rc;
    while ((rc = mxrtc_video_receiver_poll(vr, 1000, &ev, &dl)) == MXRTC_OK)
        assert_int_not_equal(ev.type, MXRTC_VIDEO_RX_PLI);
    assert_int_equal(rc, MXRTC_ERR_AGAIN);
    assert_int_equal(dl, 300000);
    mxrtc_video_receiver_free(vr);
    mxrtc_video_receiver_free(NULL);

    test_alloc ta;
    test_alloc_init(&ta);
    int ok = 0;
    for (long n = 1; n < 10 && !ok; n++) {
        test_alloc_fail_nth(&ta, n);
        vr = NULL;
        rc = mxrtc_video_receiver_new(&vr, NULL, &ta.iface);
        if (rc == MXRTC_OK) {
            ok = 1;
            mxrtc_video_receiver_free(vr);
        } else {
            assert_int_equal(rc, MXRTC_ERR_NO_MEMORY);
        }
        assert_int_equal(ta.live, 0);
    }
    assert_true(ok);

    /* nothing is allocated after _new */
    test_alloc_fail_nth(&ta, 0);
    assert_int_equal(mxrtc_video_receiver_new(&vr, NULL, &ta.iface), MXRTC_OK);
    long after_new = ta.total;
    uint8_t pl[100] = {0x90, 0x80, 0x80, 0x01, 0x00, 0x00, 0x00, 0x9d, 0x01, 0x2a};
    p.payload = pl;
    p.payload_len = sizeof pl;
    for (int i = 0; i < 300; i++) {
        p.seq = (uint16_t)(i * 3 % 300);
        p.ts = (uint32_t)(i / 3) * 3000;
        p.marker = i % 3 == 2;
        assert_int_equal(mxrtc_video_receiver_push(vr, &p, (uint64_t)i * 10000), MXRTC_OK);
        while ((rc = mxrtc_video_receiver_poll(vr, (uint64_t)i * 10000, &ev, &dl)) == MXRTC_OK)
            if (ev.type == MXRTC_VIDEO_RX_FRAME)
                assert_int_equal(mxrtc_video_receiver_decoded(vr, (uint64_t)i * 10000, true, false),
                                 MXRTC_OK);
    }
    assert_int_equal(ta.total, after_new);
    mxrtc_video_receiver_free(vr);
    assert_int_equal(ta.live, 0);
}

/* Video over a lossy, jittery network with and without NACK/RTX, same seed:
 * with retransmission nearly every lost packet is recovered, far fewer are
 * given up, and the picture freezes for less time. The figures are printed
 * (recovered vs lost, PLIs, freeze time) for 5, 10 and 20 % loss. */
static void nack_rtx_case(double loss, const char *name) {
    vscn s;
    vscn_init(&s);
    s.loss = loss;
    s.seed = 11;
    vres plain, with;
    vrun(&s, &plain);
    s.nack = true;
    vrun(&s, &with);
    char label[64];
    snprintf(label, sizeof label, "%s pli", name);
    vprint(label, &plain);
    snprintf(label, sizeof label, "%s nack", name);
    vprint(label, &with);
    /* A lost packet is either repaired by RTX before the receiver's wait runs
     * out, or given up: repaired = lost - given up. */
    uint64_t given_up = with.st.packets_given_up;
    uint64_t repaired = with.media_lost > given_up ? with.media_lost - given_up : 0;
    printf("# %-12s media packets lost %llu, NACKed %llu, RTX sent %llu received %llu, "
           "repaired %llu of %llu (%.1f %%), given up %llu | freeze %.0f ms with NACK/RTX vs %.0f ms PLI only\n",
           name, (unsigned long long)with.media_lost, (unsigned long long)with.nacked,
           (unsigned long long)with.rtx_sent, (unsigned long long)with.rtx_received,
           (unsigned long long)repaired, (unsigned long long)with.media_lost,
           with.media_lost ? 100.0 * (double)repaired / (double)with.media_lost : 100.0,
           (unsigned long long)given_up, (double)with.st.total_freeze_us / 1000.0,
           (double)plain.st.total_freeze_us / 1000.0);
    check_pictures(&with, &s, true);
    assert_true(with.media_lost > 0);
    assert_true(with.rtx_received > 0);
    /* With several tries inside the 3xRTT wait, at least 90 % of the lost
     * packets are repaired at these loss rates. */
    assert_true(repaired * 10 >= with.media_lost * 9);
    assert_true(with.st.packets_given_up < plain.st.packets_given_up);
    assert_true(with.st.total_freeze_us < plain.st.total_freeze_us);
    assert_true(with.st.frames_decoded > plain.st.frames_decoded);
}

static void nack_rtx_5(void **state) { (void)state; nack_rtx_case(0.05, "5% loss"); }
static void nack_rtx_10(void **state) { (void)state; nack_rtx_case(0.10, "10% loss"); }
static void nack_rtx_20(void **state) { (void)state; nack_rtx_case(0.20, "20% loss"); }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nack_rtx_5),
        cmocka_unit_test(nack_rtx_10),
        cmocka_unit_test(nack_rtx_20),
        cmocka_unit_test(jitter_without_loss_needs_no_pli),
        cmocka_unit_test(one_lost_packet_one_pli),
        cmocka_unit_test(loss_5),
        cmocka_unit_test(loss_20),
        cmocka_unit_test(corrupt_frame_decoder_asks),
        cmocka_unit_test(join_mid_stream),
        cmocka_unit_test(ssrc_change_needs_keyframe),
        cmocka_unit_test(bad_input_and_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
