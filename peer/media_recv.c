/*
 * media_recv.c: the remote tracks. SRTP is removed, the packet is matched to
 * a stream (signalled SSRC, else the mid extension, else the payload type:
 * RFC 8843 §9.2), counted (RFC 3550 A.1, A.8), and:
 *  - audio: decoded on arrival into a bounded playout FIFO, with Opus
 *    concealment for sequence gaps. This is the interim path until the
 *    adaptive jitter buffer (rtp/jitter_audio) lands; it does not reorder
 *    and adds no delay of its own.
 *  - video: RTX unwrapped (RFC 4588 §4), missing packets tracked for NACK,
 *    packets put back in order in a small ring (PEER_REORDER) that waits
 *    about three RTTs for a gap to be filled by a retransmission, then
 *    frames assembled and decoded; a decoder that needs a keyframe makes us
 *    send a PLI (RFC 4585 §6.3.1). This is an interim stage until the video
 *    receiver (rtp/video_receiver) lands.
 */
#include <string.h>

#include "peer/peer.h"
#include "base/alloc.h"
#include "base/log.h"

static void fifo_write(mxrtc_peer *p, const int16_t *pcm, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (p->fifo_len == p->fifo_cap) {   /* bounded: drop the oldest */
            p->fifo_head = (p->fifo_head + 1) % p->fifo_cap;
            p->fifo_len--;
        }
        p->fifo[(p->fifo_head + p->fifo_len) % p->fifo_cap] = pcm[i];
        p->fifo_len++;
    }
}

int mxrtc_peer_pull_audio(mxrtc_peer *p, mxrtc_time_us now, int16_t *pcm, size_t samples) {
    (void)now;
    if (!p || !pcm || samples == 0 || samples > 48000) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t n = samples < p->fifo_len ? samples : p->fifo_len;
    for (size_t i = 0; i < n; i++) pcm[i] = p->fifo[(p->fifo_head + i) % p->fifo_cap];
    p->fifo_head = (p->fifo_head + n) % p->fifo_cap;
    p->fifo_len -= n;
    if (n < samples) {
        memset(pcm + n, 0, (samples - n) * sizeof(int16_t));
        if (p->arx.started) p->arx.concealed += samples - n;
    }
    return MXRTC_OK;
}

static bool rx_start(peer_rx *rx, uint32_t ssrc, uint32_t rate) {
    if (rx->started && rx->ssrc == ssrc) return false;
    rx->started = true;
    rx->ssrc = ssrc;
    rx->have_seq = false;
    mxrtc_receive_stats_init(&rx->stats, ssrc, rate);
    return true;
}

static void on_audio(mxrtc_peer *p, mxrtc_time_us now, const mxrtc_rtp_packet *pkt) {
    peer_rx *rx = &p->arx;
    if (rx_start(rx, pkt->ssrc, 48000) && p->opus_dec) mxrtc_opus_decoder_reset(p->opus_dec);
    mxrtc_receive_stats_update(&rx->stats, pkt->seq, pkt->ts, pkt->payload_len, now);
    rx->packets++;
    rx->bytes += pkt->payload_len;
    mxrtc_opus_payload op;
    if (mxrtc_opus_depacketize(pkt->payload, pkt->payload_len, &op)) return;
    if (!p->opus_dec) {
        mxrtc_opus_decoder_config c;
        mxrtc_opus_decoder_config_init(&c);
        if (mxrtc_opus_decoder_new(&p->opus_dec, &c, p->alloc)) {
            p->opus_dec = NULL;
            return;
        }
    }
    int16_t pcm[MXRTC_OPUS_MAX_FRAME_SAMPLES];
    if (rx->have_seq) {
        int16_t d = (int16_t)(pkt->seq - rx->next_seq);
        if (d < 0) return;   /* late or duplicate: no reordering on this path */
        /* RFC 6716 §4.4: conceal what a gap of up to 5 packets lost. */
        for (int i = 0; i < d && i < 5; i++) {
            int n = mxrtc_opus_decode_plc(p->opus_dec, pcm, (size_t)op.samples);
            if (n <= 0) break;
            fifo_write(p, pcm, (size_t)n);
            rx->concealed += (uint64_t)n;
        }
    }
    rx->have_seq = true;
    rx->next_seq = (uint16_t)(pkt->seq + 1);
    int n = mxrtc_opus_decode(p->opus_dec, op.data, op.len, pcm, MXRTC_OPUS_MAX_FRAME_SAMPLES);
    if (n > 0) {
        fifo_write(p, pcm, (size_t)n);
        rx->frames++;
    }
}

static void request_keyframe(mxrtc_peer *p, mxrtc_time_us now) {
    if (p->last_pli && now < p->last_pli + PEER_PLI_INTERVAL) return;
    p->last_pli = now ? now : 1;
    p->vrx.plis++;
    mxrtc_peer_send_feedback(p, now, true, NULL, 0);
}

static void assemble(mxrtc_peer *p, mxrtc_time_us now, const mxrtc_rtp_packet *pkt, mxrtc_codec_id codec) {
    peer_rx *rx = &p->vrx;
    if (p->vdec && p->vdec_codec != codec) {
        mxrtc_video_decoder_free(p->vdec);
        p->vdec = NULL;
        mxrtc_frame_assembler_init(&p->vasm, p->vasm_buf, PEER_VIDEO_FRAME_MAX);
    }
    if (!p->vdec) {
        if (mxrtc_video_decoder_new(&p->vdec, codec, p->alloc, &p->logger)) {
            p->vdec = NULL;
            return;
        }
        p->vdec_codec = codec;
    }
    mxrtc_video_frame f;
    int rc = codec == MXRTC_CODEC_VP9 ? mxrtc_vp9_assembler_push(&p->vasm, pkt, &f)
                                      : mxrtc_vp8_assembler_push(&p->vasm, pkt, &f);
    if (rc == MXRTC_OK) {
        mxrtc_i420 pic;
        int got = 0;
        rc = mxrtc_video_decode(p->vdec, f.data, f.len, now, &pic, &got);
        if (rc == MXRTC_OK && got) {
            rx->frames++;
            /* Announced once at the end of the input: a later decode in the
             * same input reuses the decoder's picture memory. */
            p->frame_pending = true;
            p->frame_pic.y = pic.y;
            p->frame_pic.u = pic.u;
            p->frame_pic.v = pic.v;
            p->frame_pic.stride_y = pic.stride_y;
            p->frame_pic.stride_u = pic.stride_u;
            p->frame_pic.stride_v = pic.stride_v;
            p->frame_pic.width = pic.width;
            p->frame_pic.height = pic.height;
            p->frame_pic.timestamp_us = now;
        }
    }
    if (mxrtc_video_decoder_needs_keyframe(p->vdec)) request_keyframe(p, now);
}

/* Hands every in-order packet from the ring to the assembler. */
static void release(mxrtc_peer *p, mxrtc_time_us now) {
    for (int n = 0; n < PEER_REORDER; n++) {
        struct peer_slot *sl = &p->vslot[p->vnext % PEER_REORDER];
        if (!sl->used || sl->seq != p->vnext) break;
        sl->used = false;
        mxrtc_rtp_packet pkt;
        if (mxrtc_rtp_parse(&pkt, p->vslot_data + (size_t)(p->vnext % PEER_REORDER) * PEER_PKT_MAX, sl->len) ==
            MXRTC_OK)
            assemble(p, now, &pkt, sl->codec);
        p->vnext++;
    }
    bool waiting = false;
    for (int i = 0; i < PEER_REORDER && !waiting; i++) waiting = p->vslot[i].used;
    if (!waiting) p->vgap_since = MXRTC_TIME_NEVER;
    else if (p->vgap_since == MXRTC_TIME_NEVER) p->vgap_since = now;
}

/* How long a gap may wait for its retransmission: three round trips (a
 * lost NACK or RTX gets a second try), within [150 ms, 500 ms]. */
static mxrtc_time_us reorder_wait(const mxrtc_peer *p) {
    const mxrtc_send_stats *s = p->vtx.stats.have_rtt ? &p->vtx.stats : &p->atx.stats;
    if (!s->have_rtt) return PEER_REORDER_WAIT;
    mxrtc_time_us w = 3 * s->rtt_us;
    return w < 150000 ? 150000 : w > 500000 ? 500000 : w;
}

void mxrtc_peer_video_timer(mxrtc_peer *p, mxrtc_time_us now) {
    if (p->vgap_since == MXRTC_TIME_NEVER || now < p->vgap_since + reorder_wait(p)) return;
    /* Give up on the gap: skip to the oldest packet we hold; the assembler
     * sees the jump and drops the incomplete frame. */
    for (int n = 0; n < PEER_REORDER; n++) {
        p->vnext++;
        struct peer_slot *sl = &p->vslot[p->vnext % PEER_REORDER];
        if (sl->used && sl->seq == p->vnext) break;
    }
    p->vgap_since = MXRTC_TIME_NEVER;
    release(p, now);
}

static void on_video(mxrtc_peer *p, mxrtc_time_us now, const mxrtc_rtp_packet *pkt, mxrtc_codec_id codec,
                     bool from_rtx) {
    peer_rx *rx = &p->vrx;
    if (rx_start(rx, pkt->ssrc, 90000)) {
        mxrtc_nack_init(&p->nack, NULL);
        p->have_vnext = false;
        memset(p->vslot, 0, sizeof p->vslot);
        p->vgap_since = MXRTC_TIME_NEVER;
    }
    if (!from_rtx) {
        /* The sender's colour space, sent with keyframes (4 bytes without
         * HDR metadata, 28 with); kept for the host. */
        const mxrtc_rtp_ext *cs = p->video_sec.colour_ext ? mxrtc_rtp_find_ext(pkt, p->video_sec.colour_ext) : NULL;
        if (cs && cs->len >= 4) {
            memcpy(p->video_colour, cs->data, 4);
            p->have_video_colour = true;
        }
        mxrtc_receive_stats_update(&rx->stats, pkt->seq, pkt->ts, pkt->payload_len, now);
        rx->packets++;
        rx->bytes += pkt->payload_len;
    }
    if (mxrtc_nack_on_packet(&p->nack, pkt->seq, now) == MXRTC_ERR_LIMIT) request_keyframe(p, now);
    if (!p->vasm_buf) {
        if (!(p->vslot_data = mxrtc_malloc(p->alloc, (size_t)PEER_REORDER * PEER_PKT_MAX))) return;
        if (!(p->vasm_buf = mxrtc_malloc(p->alloc, PEER_VIDEO_FRAME_MAX))) {
            mxrtc_free(p->alloc, p->vslot_data);
            p->vslot_data = NULL;
            return;
        }
        mxrtc_frame_assembler_init(&p->vasm, p->vasm_buf, PEER_VIDEO_FRAME_MAX);
    }
    if (!p->have_vnext) {
        p->have_vnext = true;
        p->vnext = pkt->seq;
    }
    int16_t d = (int16_t)(pkt->seq - p->vnext);
    if (d < 0) return;   /* already handed on or given up */
    if (d >= PEER_REORDER) {
        /* Far ahead: everything held is too old; restart from here. */
        memset(p->vslot, 0, sizeof p->vslot);
        p->vnext = pkt->seq;
        p->vgap_since = MXRTC_TIME_NEVER;
    }
    struct peer_slot *sl = &p->vslot[pkt->seq % PEER_REORDER];
    if (sl->used && sl->seq == pkt->seq) return;   /* duplicate */
    int n = mxrtc_rtp_write(pkt, p->vslot_data + (size_t)(pkt->seq % PEER_REORDER) * PEER_PKT_MAX, PEER_PKT_MAX);
    if (n < 0) return;
    sl->used = true;
    sl->seq = pkt->seq;
    sl->len = (uint16_t)n;
    sl->codec = codec;
    release(p, now);
}

/* The section and codec a packet belongs to; RTX sets *rtx_of. */
static int classify(const mxrtc_peer *p, const mxrtc_rtp_packet *pkt, mxrtc_media_kind *kind,
                    mxrtc_codec_id *codec, int *rtx_of) {
    const peer_section *secs[2] = { &p->audio_sec, &p->video_sec };
    *rtx_of = -1;
    for (int s = 0; s < 2; s++) {
        const peer_section *sec = secs[s];
        if (!sec->active || !sec->recv) continue;
        for (unsigned k = 0; k < sec->pt_count; k++) {
            if (pkt->pt == sec->pts[k]) {
                *kind = s ? MXRTC_MEDIA_VIDEO : MXRTC_MEDIA_AUDIO;
                *codec = sec->pt_codec[k];
                return MXRTC_OK;
            }
            if (sec->pt_rtx[k] >= 0 && pkt->pt == sec->pt_rtx[k]) {
                *kind = s ? MXRTC_MEDIA_VIDEO : MXRTC_MEDIA_AUDIO;
                *codec = sec->pt_codec[k];
                *rtx_of = sec->pts[k];
                return MXRTC_OK;
            }
        }
    }
    return MXRTC_ERR_NOT_FOUND;
}

void mxrtc_peer_on_rtp(mxrtc_peer *p, mxrtc_time_us now, uint8_t *data, size_t len) {
    size_t plain;
    if (mxrtc_srtp_unprotect_rtp(p->srtp, data, len, &plain)) {
        p->srtp_failures++;
        return;
    }
    mxrtc_rtp_packet pkt;
    mxrtc_media_kind kind;
    mxrtc_codec_id codec;
    int rtx_of;
    if (mxrtc_rtp_parse(&pkt, data, plain) || classify(p, &pkt, &kind, &codec, &rtx_of)) {
        p->garbage++;
        return;
    }
    if (kind == MXRTC_MEDIA_AUDIO) {
        if (rtx_of < 0) on_audio(p, now, &pkt);
        return;
    }
    if (rtx_of >= 0) {
        mxrtc_rtp_packet orig;
        if (!p->vrx.started || mxrtc_rtx_decapsulate(&pkt, p->vrx.ssrc, (uint8_t)rtx_of, &orig)) return;
        on_video(p, now, &orig, codec, true);
        return;
    }
    on_video(p, now, &pkt, codec, false);
}

void mxrtc_peer_on_rtcp(mxrtc_peer *p, mxrtc_time_us now, uint8_t *data, size_t len) {
    size_t plain;
    if (mxrtc_srtp_unprotect_rtcp(p->srtp, data, len, &plain)) {
        p->srtp_failures++;
        return;
    }
    mxrtc_peer_handle_rtcp(p, now, data, plain);
}

mxrtc_time_us mxrtc_peer_media_deadline(const mxrtc_peer *p) {
    if (!p->vrx.started || !p->srtp) return MXRTC_TIME_NEVER;
    mxrtc_time_us d = mxrtc_nack_deadline(&p->nack);
    if (p->vgap_since != MXRTC_TIME_NEVER && p->vgap_since + reorder_wait(p) < d)
        d = p->vgap_since + reorder_wait(p);
    return d;
}

int mxrtc_peer_video_colour_space(const mxrtc_peer *p, uint8_t out[4]) {
    if (!p || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!p->have_video_colour) return MXRTC_ERR_NOT_FOUND;
    memcpy(out, p->video_colour, 4);
    return MXRTC_OK;
}
