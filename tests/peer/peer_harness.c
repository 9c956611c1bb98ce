#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "peer_harness.h"
#include "codecs/codec.h"

static const mxrtc_addr *g_turn;   /* set by h_init_relay for setup_side */

static void setup_side(harness *h, int i, int realm, const char *ip, mxrtc_direction audio,
                       mxrtc_direction video, const mxrtc_addr *stun) {
    h_side *s = &h->s[i];
    memset(s, 0, sizeof *s);
    mxrtc_seeded_random_init(&s->rnd, 1000 + (uint64_t)i);
    s->host = simnet_add_host(h->net, i ? "B" : "A");
    assert_int_equal(mxrtc_addr_parse(&s->addr, ip, 5000), MXRTC_OK);
    simnet_host_add_interface(h->net, s->host, realm, &s->addr);
    mxrtc_peer_config cfg;
    mxrtc_peer_config_init(&cfg);
    cfg.random = mxrtc_seeded_random_source(&s->rnd);
    cfg.interfaces[0] = s->addr;
    cfg.interface_count = 1;
    if (stun) {
        cfg.stun_servers[0] = *stun;
        cfg.stun_server_count = 1;
    }
    if (g_turn) {
        cfg.turn_servers[0].addr = *g_turn;
        cfg.turn_servers[0].proto = MXRTC_TURN_PROTO_UDP;
        cfg.turn_servers[0].username = "user";
        cfg.turn_servers[0].password = "pass";
        cfg.turn_server_count = 1;
        cfg.relay_only = 1;
    }
    cfg.audio = audio;
    cfg.video = video;
    cfg.video_bitrate_bps = 300000;
    assert_int_equal(mxrtc_peer_new(&s->p, &cfg, h->now), MXRTC_OK);
    s->rec = calloc(H_REC_SAMPLES, sizeof(int16_t));
    assert_non_null(s->rec);
    assert_int_equal(sig_picture_alloc(&s->pic, 160, 120), 0);
    s->deadline = MXRTC_TIME_NEVER;
}

void h_init(harness *h, uint64_t seed, bool nat, mxrtc_direction audio, mxrtc_direction video) {
    memset(h, 0, sizeof *h);
    h->net = simnet_new(seed);
    h->now = 1000000;
    h->next_media = h->now;
    if (!nat) {
        setup_side(h, 0, SIMNET_WAN, "192.0.2.1", audio, video, NULL);
        setup_side(h, 1, SIMNET_WAN, "192.0.2.2", audio, video, NULL);
    } else {
        mxrtc_addr stun, pub_a, pub_b;
        mxrtc_addr_parse(&stun, "198.51.100.1", 3478);
        mxrtc_addr_parse(&pub_a, "203.0.113.1", 0);
        mxrtc_addr_parse(&pub_b, "203.0.113.2", 0);
        simnet_add_stun_server(h->net, SIMNET_WAN, &stun);
        int lan_a, lan_b;
        simnet_add_nat(h->net, SIMNET_NAT_PORT_RESTRICTED, SIMNET_WAN, &pub_a, 30000000, &lan_a);
        simnet_add_nat(h->net, SIMNET_NAT_PORT_RESTRICTED, SIMNET_WAN, &pub_b, 30000000, &lan_b);
        setup_side(h, 0, lan_a, "10.0.0.2", audio, video, &stun);
        setup_side(h, 1, lan_b, "10.1.0.2", audio, video, &stun);
    }
    simnet_link l = { .delay = 20000, .jitter = 2000 };
    simnet_set_host_link(h->net, h->s[0].host, &l);
    simnet_set_host_link(h->net, h->s[1].host, &l);
}

void h_init_relay(harness *h, uint64_t seed) {
    memset(h, 0, sizeof *h);
    h->net = simnet_new(seed);
    h->now = 1000000;
    h->next_media = h->now;
    mxrtc_addr turn, pub_a, pub_b;
    mxrtc_addr_parse(&turn, "198.51.100.7", 3478);
    mxrtc_addr_parse(&pub_a, "203.0.113.1", 0);
    mxrtc_addr_parse(&pub_b, "203.0.113.2", 0);
    simnet_add_turn_server(h->net, SIMNET_WAN, &turn, &turn, "user", "pass", "mxrtc.test");
    int lan_a, lan_b;
    simnet_add_nat(h->net, SIMNET_NAT_SYMMETRIC, SIMNET_WAN, &pub_a, 30000000, &lan_a);
    simnet_add_nat(h->net, SIMNET_NAT_SYMMETRIC, SIMNET_WAN, &pub_b, 30000000, &lan_b);
    g_turn = &turn;
    setup_side(h, 0, lan_a, "10.0.0.2", MXRTC_DIR_SENDRECV, MXRTC_DIR_SENDRECV, NULL);
    setup_side(h, 1, lan_b, "10.1.0.2", MXRTC_DIR_SENDRECV, MXRTC_DIR_SENDRECV, NULL);
    g_turn = NULL;
    simnet_link l = { .delay = 20000, .jitter = 2000 };
    simnet_set_host_link(h->net, h->s[0].host, &l);
    simnet_set_host_link(h->net, h->s[1].host, &l);
}

void h_free(harness *h) {
    for (int i = 0; i < 2; i++) {
        mxrtc_peer_free(h->s[i].p);
        mxrtc_opus_encoder_free(h->s[i].oenc);
        mxrtc_video_encoder_free(h->s[i].venc);
        free(h->s[i].vbuf);
        free(h->s[i].rec);
        sig_picture_free(&h->s[i].pic);
    }
    simnet_free(h->net);
}

static void give_candidates(harness *h, int i) {
    h_side *s = &h->s[i];
    if (h->withhold[i]) s->ncands = 0;
    if (!s->remote_set) return;
    for (int k = 0; k < s->ncands; k++) {
        int rc = mxrtc_peer_add_remote_candidate(s->p, h->now, "0", s->cands[k][0] ? s->cands[k] : NULL);
        assert_true(rc == MXRTC_OK || rc == MXRTC_ERR_LIMIT);
        h_drain(h, i);
    }
    s->ncands = 0;
}

void h_drain(harness *h, int i) {
    h_side *s = &h->s[i];
    h_side *o = &h->s[1 - i];
    for (int guard = 0; guard < 100000; guard++) {
        mxrtc_peer_output out;
        assert_int_equal(mxrtc_peer_poll(s->p, h->now, &out), MXRTC_OK);
        switch (out.kind) {
        case MXRTC_PEER_OUT_DEADLINE:
            s->deadline = out.deadline;
            return;
        case MXRTC_PEER_OUT_DATAGRAM:
            simnet_send(h->net, s->host, &out.from, &out.to, out.data, out.len, h->now);
            break;
        case MXRTC_PEER_OUT_STREAM:
            fail_msg("no stream TURN in these tests");
            break;
        case MXRTC_PEER_OUT_EVENT:
            switch (out.event) {
            case MXRTC_PEER_EV_LOCAL_CANDIDATE:
                assert_non_null(out.text);
                assert_true(strncmp(out.text, "candidate:", 10) == 0);
                s->local_candidates++;
                if (o->ncands < H_MAX_CANDS) snprintf(o->cands[o->ncands++], sizeof o->cands[0], "%s", out.text);
                break;
            case MXRTC_PEER_EV_GATHERING_DONE:
                s->gathering_done++;
                if (o->ncands < H_MAX_CANDS) o->cands[o->ncands++][0] = 0;
                break;
            case MXRTC_PEER_EV_STATE:
                s->state = out.state;
                break;
            case MXRTC_PEER_EV_DTLS_STATE:
                s->dtls_state = out.dtls_state;
                break;
            case MXRTC_PEER_EV_REMOTE_TRACK:
                assert_non_null(out.mid);
                s->remote_tracks[out.media]++;
                break;
            case MXRTC_PEER_EV_VIDEO_FRAME: {
                const mxrtc_picture *pic = &out.picture;
                s->video_frames++;
                s->last_w = pic->width;
                s->last_h = pic->height;
                s->last_y = sig_plane_mean(pic->y, pic->stride_y, pic->width, pic->height);
                s->last_u = sig_plane_mean(pic->u, pic->stride_u, (pic->width + 1) / 2, (pic->height + 1) / 2);
                s->last_v = sig_plane_mean(pic->v, pic->stride_v, (pic->width + 1) / 2, (pic->height + 1) / 2);
                break;
            }
            case MXRTC_PEER_EV_STATS: {
                mxrtc_peer_stats st = { .size = sizeof st };
                assert_int_equal(mxrtc_peer_get_stats(s->p, &st), MXRTC_OK);
                assert_int_equal(st.state, s->state);
                s->stats_events++;
                break;
            }
            case MXRTC_PEER_EV_KEYFRAME_REQUESTED:
                s->keyframe_requests++;
                break;
            default:
                break;
            }
            break;
        }
    }
    fail_msg("peer %d never reached a deadline", i);
}

void h_negotiate(harness *h, int offerer, char *offer, size_t offer_cap, char *answer, size_t answer_cap) {
    h_side *a = &h->s[offerer], *b = &h->s[1 - offerer];
    size_t len = 0;
    assert_int_equal(mxrtc_peer_create_offer(a->p, h->now, offer, offer_cap, &len), MXRTC_OK);
    h_drain(h, offerer);
    assert_int_equal(mxrtc_peer_set_local_description(a->p, h->now), MXRTC_OK);
    h_drain(h, offerer);
    if (h->munge_offer) len = h->munge_offer(offer, offer_cap);
    if (h->early_trickle) {
        /* The candidates overtake the offer on the signalling path. */
        b->remote_set = true;
        assert_true(b->ncands > 0);
        give_candidates(h, 1 - offerer);
    }
    assert_int_equal(mxrtc_peer_set_remote_description(b->p, h->now, MXRTC_SDP_OFFER, offer, len), MXRTC_OK);
    b->remote_set = true;
    h_drain(h, 1 - offerer);
    give_candidates(h, 1 - offerer);
    assert_int_equal(mxrtc_peer_create_answer(b->p, h->now, answer, answer_cap, &len), MXRTC_OK);
    h_drain(h, 1 - offerer);
    assert_int_equal(mxrtc_peer_set_local_description(b->p, h->now), MXRTC_OK);
    h_drain(h, 1 - offerer);
    /* A slow signalling path for the answer: the answerer's checks (and
     * what follows them) reach the offerer first. */
    if (h->answer_delay) h_run(h, h->now + h->answer_delay);
    assert_int_equal(mxrtc_peer_set_remote_description(a->p, h->now, MXRTC_SDP_ANSWER, answer, len), MXRTC_OK);
    a->remote_set = true;
    h_drain(h, offerer);
    give_candidates(h, offerer);
    give_candidates(h, 1 - offerer);
}

static void media_tick(harness *h) {
    for (int i = 0; i < 2; i++) {
        h_side *s = &h->s[i];
        if (s->tone_hz > 0) {
            int16_t pcm[480];
            sig_sine(pcm, 480, 1, 0, s->tone_hz, 8000, 48000, s->tone_pos);
            s->tone_pos += 480;
            if (!s->encoded) {
                assert_int_equal(mxrtc_peer_push_audio(s->p, h->now, pcm, 480), MXRTC_OK);
                h_drain(h, i);
            } else {
                memcpy(s->pcm20 + s->pcm20_len, pcm, sizeof pcm);
                s->pcm20_len += 480;
                if (s->pcm20_len == 960) {
                    s->pcm20_len = 0;
                    if (!s->oenc) {
                        mxrtc_opus_encoder_config c;
                        mxrtc_opus_encoder_config_init(&c);
                        c.dtx = 0;
                        assert_int_equal(mxrtc_opus_encoder_new(&s->oenc, &c, NULL), MXRTC_OK);
                    }
                    uint8_t pkt[MXRTC_OPUS_MAX_PACKET];
                    int n = mxrtc_opus_encode(s->oenc, s->pcm20, pkt, sizeof pkt);
                    assert_true(n > 2);
                    assert_int_equal(mxrtc_peer_push_encoded(s->p, h->now, MXRTC_MEDIA_AUDIO, pkt, (size_t)n,
                                                             h->now, 0), MXRTC_OK);
                    h_drain(h, i);
                }
            }
        }
        if (s->rec_len + 480 <= H_REC_SAMPLES) {
            assert_int_equal(mxrtc_peer_pull_audio(s->p, h->now, s->rec + s->rec_len, 480), MXRTC_OK);
            s->rec_len += 480;
        }
        /* 25 frames per second */
        if (s->send_video && h->ticks % 4 == 0) {
            sig_picture_fill(&s->pic, s->colour[0], s->colour[1], s->colour[2]);
            mxrtc_picture pic = { s->pic.y, s->pic.u, s->pic.v, s->pic.stride_y, s->pic.stride_u,
                                  s->pic.stride_v, s->pic.width, s->pic.height, h->now };
            if (!s->encoded) {
                assert_int_equal(mxrtc_peer_push_video(s->p, h->now, &pic), MXRTC_OK);
            } else {
                if (!s->venc) {
                    mxrtc_video_encoder_config c;
                    mxrtc_video_encoder_config_init(&c, MXRTC_CODEC_VP8);
                    c.width = 160;
                    c.height = 120;
                    c.bitrate_bps = 300000;
                    assert_int_equal(mxrtc_video_encoder_new(&s->venc, &c, NULL, NULL), MXRTC_OK);
                    s->vbuf = malloc(1 << 20);
                }
                /* Keyframes when the peer asks (PLI), as a pre-encoding host must. */
                if (s->keyframe_requests) {
                    mxrtc_video_encoder_request_keyframe(s->venc);
                    s->keyframe_requests = 0;
                }
                mxrtc_i420 in = { pic.y, pic.u, pic.v, pic.stride_y, pic.stride_u, pic.stride_v, 160, 120, h->now };
                mxrtc_encoded_frame info;
                assert_int_equal(mxrtc_video_encode(s->venc, &in, s->vbuf, 1 << 20, &info), MXRTC_OK);
                if (!info.dropped)
                    assert_int_equal(mxrtc_peer_push_encoded(s->p, h->now, MXRTC_MEDIA_VIDEO, s->vbuf, info.len,
                                                             h->now, info.keyframe), MXRTC_OK);
            }
            h_drain(h, i);
        }
    }
    h->ticks++;
}

static int side_of(const harness *h, const simnet_packet *pkt) {
    for (int i = 0; i < 2; i++)
        if (pkt->host == h->s[i].host) return i;
    return -1;
}

void h_run(harness *h, mxrtc_time_us until) {
    while (h->now < until) {
        simnet_packet pkt;
        while (simnet_pop(h->net, h->now, &pkt)) {
            int i = side_of(h, &pkt);
            if (i < 0) continue;
            if (h->dump && i == 1 && h->dump_count < 400) {
                uint32_t d = (uint32_t)(h->now - h->dump_last);
                uint8_t hdr[6] = { (uint8_t)(d >> 24), (uint8_t)(d >> 16), (uint8_t)(d >> 8), (uint8_t)d,
                                   (uint8_t)(pkt.len >> 8), (uint8_t)pkt.len };
                fwrite(hdr, 1, 6, h->dump);
                fwrite(pkt.data, 1, pkt.len, h->dump);
                h->dump_last = h->now;
                h->dump_count++;
            }
            int rc = mxrtc_peer_handle_datagram(h->s[i].p, h->now, &pkt.to, &pkt.from, pkt.data, pkt.len);
            /* A closed peer refuses input (the host would close its sockets). */
            assert_true(rc == MXRTC_OK || (rc == MXRTC_ERR_CLOSED && h->s[i].state == MXRTC_PEER_STATE_CLOSED));
            h_drain(h, i);
            give_candidates(h, i);
        }
        for (int i = 0; i < 2; i++)
            if (h->s[i].deadline <= h->now) {
                int rc = mxrtc_peer_handle_timeout(h->s[i].p, h->now);
                assert_true(rc == MXRTC_OK || (rc == MXRTC_ERR_CLOSED && h->s[i].state == MXRTC_PEER_STATE_CLOSED));
                h_drain(h, i);
            }
        give_candidates(h, 0);
        give_candidates(h, 1);
        if (h->next_media <= h->now) {
            media_tick(h);
            h->next_media += 10000;
        }
        mxrtc_time_us next = h->next_media;
        mxrtc_time_us d = simnet_next_delivery_time(h->net);
        if (d < next) next = d;
        for (int i = 0; i < 2; i++)
            if (h->s[i].deadline < next) next = h->s[i].deadline;
        if (next <= h->now) next = h->now + 1;
        if (next > until) next = until;
        h->now = next;
    }
}

double h_peak(const h_side *s, int ms, double *rms) {
    size_t n = (size_t)ms * 48;
    if (n > s->rec_len) n = s->rec_len;
    const int16_t *pcm = s->rec + s->rec_len - n;
    if (rms) *rms = sig_rms(pcm, n, 1, 0);
    return sig_peak_hz(pcm, n, 1, 0, 48000, 100, 4000, 10);
}
