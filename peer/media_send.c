/*
 * media_send.c: the local tracks. Audio: 10/20 ms PCM collected into 20 ms
 * frames, Opus-encoded (RFC 7587), one packet per frame. Video: I420
 * encoded with the negotiated codec and split by the VP8 (RFC 7741) or VP9
 * (RFC 9628) packetizer. Each RTP packet carries the mid extension when
 * negotiated (RFC 8843 §15), is kept for RTX (video, RFC 4588), protected
 * with SRTP and sent on the selected ICE pair.
 */
#include <string.h>

#include "peer/peer.h"
#include "base/alloc.h"
#include "base/log.h"

int mxrtc_peer_send_rtp(mxrtc_peer *p, mxrtc_time_us now, peer_tx *tx, uint8_t *pkt, size_t len,
                        bool keep_for_rtx) {
    if (!p->srtp) return MXRTC_ERR_STATE;
    if (keep_for_rtx && tx->rtx) mxrtc_rtx_history_put(tx->rtx, pkt, len, now);
    size_t out_len;
    int rc = mxrtc_srtp_protect_rtp(p->srtp, pkt, len, PEER_PKT_MAX + 64, &out_len);
    if (rc) return rc;
    return mxrtc_peer_ice_send(p, now, pkt, out_len);
}

static void header(mxrtc_peer *p, const peer_section *sec, peer_tx *tx, mxrtc_rtp_packet *h,
                   uint8_t pt, uint32_t ts) {
    memset(h, 0, sizeof *h);
    h->pt = pt;
    h->seq = tx->seq++;
    h->ts = ts;
    h->ssrc = tx->ssrc;
    size_t ml = strlen(sec->mid);
    if (sec->mid_ext && ml >= 1 && ml <= 16)
        mxrtc_rtp_add_ext(h, sec->mid_ext, (const uint8_t *)sec->mid, (uint8_t)ml);
    (void)p;
}

/* RTP timestamp for a capture time (RFC 3550 §5.1: the sampling instant). */
static uint32_t ts_for(peer_tx *tx, mxrtc_time_us capture, uint32_t rate) {
    if (!tx->have_first) {
        tx->have_first = true;
        tx->first_capture = capture;
    }
    uint64_t d = capture >= tx->first_capture ? capture - tx->first_capture : 0;
    return tx->ts_base + (uint32_t)(d * rate / 1000000u);
}

static bool can_send(const mxrtc_peer *p, const peer_section *sec) {
    return p->srtp && sec->active && sec->send && !p->closed;
}

static int send_opus(mxrtc_peer *p, mxrtc_time_us now, const uint8_t *frame, size_t len, uint32_t ts) {
    mxrtc_rtp_packet h;
    header(p, &p->audio_sec, &p->atx, &h, p->audio_sec.pt, ts);
    int n = mxrtc_opus_packetize(&h, frame, len, PEER_MTU, p->buf, sizeof p->buf);
    if (n < 0) return n;
    p->atx.packets++;
    p->atx.bytes += len;
    p->atx.frames++;
    mxrtc_send_stats_on_sent(&p->atx.stats, ts, now, len);
    return mxrtc_peer_send_rtp(p, now, &p->atx, p->buf, (size_t)n, false);
}

int mxrtc_peer_push_audio(mxrtc_peer *p, mxrtc_time_us now, const int16_t *pcm, size_t samples) {
    int rc = mxrtc_peer_input_check(p);
    if (rc) return rc;
    if (!pcm || (samples != 480 && samples != 960)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!can_send(p, &p->audio_sec) || p->audio_sec.codec != MXRTC_CODEC_OPUS) {
        /* Not sending (yet): dropped, except that the latest partial 20 ms
         * frame (at most 10 ms of audio when 10 ms frames are pushed) is
         * kept, as a capture pipeline that runs regardless of the
         * connection would have it. The first push once SRTP is keyed then
         * completes that frame and sends it at once, instead of starting
         * a new frame and sending only on the push after (10 ms later). */
        if (samples >= PEER_AUDIO_FRAME || p->pcm_acc_len + samples >= PEER_AUDIO_FRAME) p->pcm_acc_len = 0;
        if (samples < PEER_AUDIO_FRAME) {
            memcpy(p->pcm_acc + p->pcm_acc_len, pcm, samples * sizeof(int16_t));
            p->pcm_acc_len += samples;
        }
        return MXRTC_OK;
    }
    if (!p->opus_enc) {
        mxrtc_opus_encoder_config c;
        mxrtc_opus_encoder_config_init(&c);
        c.dtx = 0;   /* keep a steady stream: the playout path has no DTX gap logic yet */
        if ((rc = mxrtc_opus_encoder_new(&p->opus_enc, &c, p->alloc))) {
            p->opus_enc = NULL;
            return rc;
        }
    }
    for (size_t off = 0; off < samples;) {
        if (p->pcm_acc_len == 0) p->pcm_acc_start = now + (mxrtc_time_us)off * 1000000u / 48000u;
        size_t n = samples - off;
        if (n > PEER_AUDIO_FRAME - p->pcm_acc_len) n = PEER_AUDIO_FRAME - p->pcm_acc_len;
        memcpy(p->pcm_acc + p->pcm_acc_len, pcm + off, n * sizeof(int16_t));
        p->pcm_acc_len += n;
        off += n;
        if (p->pcm_acc_len < PEER_AUDIO_FRAME) continue;
        p->pcm_acc_len = 0;
        uint8_t pkt[MXRTC_OPUS_MAX_PACKET];
        int len = mxrtc_opus_encode(p->opus_enc, p->pcm_acc, pkt, sizeof pkt);
        /* The RTP clock advances by the samples sent (RFC 7587 §4.1). */
        uint32_t ts = p->atx.ts_base + (uint32_t)p->audio_samples_sent;
        p->audio_samples_sent += PEER_AUDIO_FRAME;
        if (len <= 0) continue;
        send_opus(p, now, pkt, (size_t)len, ts);
    }
    mxrtc_peer_settle(p, now);
    return MXRTC_OK;
}

static int send_video_frame(mxrtc_peer *p, mxrtc_time_us now, const uint8_t *frame, size_t len,
                            bool keyframe, mxrtc_time_us capture, int width, int height) {
    peer_section *sec = &p->video_sec;
    uint32_t ts = ts_for(&p->vtx, capture, 90000);
    if (!p->vtx.rtx && sec->rtx_pt >= 0) {
        mxrtc_rtx_config rc;
        memset(&rc, 0, sizeof rc);
        rc.capacity = 512;
        rc.max_packet = PEER_PKT_MAX;
        rc.rtx_ssrc = p->vtx.rtx_ssrc;
        rc.rtx_pt = (uint8_t)sec->rtx_pt;
        rc.first_rtx_seq = (uint16_t)(p->vtx.seq ^ 0x5a5a);
        if (mxrtc_rtx_history_new(&p->vtx.rtx, p->alloc, &rc)) p->vtx.rtx = NULL;
    }
    /* Room for the header, the mid extension and the SRTP tag. */
    size_t max_payload = PEER_MTU - 12 - 24 - mxrtc_srtp_rtp_overhead(p->srtp);
    uint16_t pic = p->vtx.picture_id;
    p->vtx.picture_id = (uint16_t)((p->vtx.picture_id + 1) & 0x7fff);
    mxrtc_vp8_packetizer vp8;
    mxrtc_vp9_packetizer vp9;
    int rc;
    if (sec->codec == MXRTC_CODEC_VP9)
        rc = mxrtc_vp9_packetizer_init(&vp9, frame, len, max_payload, pic, keyframe,
                                       (uint16_t)width, (uint16_t)height);
    else
        rc = mxrtc_vp8_packetizer_init(&vp8, frame, len, max_payload, pic, false);
    if (rc) return rc;
    p->vtx.frames++;
    for (;;) {
        uint8_t payload[PEER_MTU];
        bool last = false;
        int n = sec->codec == MXRTC_CODEC_VP9 ? mxrtc_vp9_packetizer_next(&vp9, payload, sizeof payload, &last)
                                              : mxrtc_vp8_packetizer_next(&vp8, payload, sizeof payload, &last);
        if (n == MXRTC_ERR_AGAIN) break;
        if (n < 0) return n;
        mxrtc_rtp_packet h;
        header(p, sec, &p->vtx, &h, sec->pt, ts);
        h.marker = last;   /* RFC 7741 §4.1: the last packet of a frame */
        h.payload = payload;
        h.payload_len = (size_t)n;
        int m = mxrtc_rtp_write(&h, p->buf, sizeof p->buf);
        if (m < 0) return m;
        p->vtx.packets++;
        p->vtx.bytes += (size_t)n;
        mxrtc_send_stats_on_sent(&p->vtx.stats, ts, capture, (size_t)n);
        mxrtc_peer_send_rtp(p, now, &p->vtx, p->buf, (size_t)m, true);
        if (last) break;
    }
    return MXRTC_OK;
}

int mxrtc_peer_push_video(mxrtc_peer *p, mxrtc_time_us now, const mxrtc_picture *pic) {
    int rc = mxrtc_peer_input_check(p);
    if (rc) return rc;
    if (!pic || !pic->y || !pic->u || !pic->v || pic->width <= 0 || pic->height <= 0 ||
        pic->width > MXRTC_VIDEO_MAX_DIMENSION || pic->height > MXRTC_VIDEO_MAX_DIMENSION)
        return MXRTC_ERR_INVALID_ARGUMENT;
    peer_section *sec = &p->video_sec;
    if (!can_send(p, sec)) return MXRTC_OK;   /* dropped until negotiated and keyed */
    if (p->venc && p->venc_codec != sec->codec) {
        mxrtc_video_encoder_free(p->venc);
        p->venc = NULL;
    }
    if (!p->venc_buf && !(p->venc_buf = mxrtc_malloc(p->alloc, PEER_VIDEO_FRAME_MAX))) return MXRTC_ERR_NO_MEMORY;
    if (!p->venc) {
        mxrtc_video_encoder_config c;
        mxrtc_video_encoder_config_init(&c, sec->codec);
        c.width = pic->width;
        c.height = pic->height;
        c.bitrate_bps = p->cfg.video_bitrate_bps;
        if ((rc = mxrtc_video_encoder_new(&p->venc, &c, p->alloc, &p->logger))) {
            p->venc = NULL;
            return rc;
        }
        p->venc_codec = sec->codec;
    }
    mxrtc_i420 in = { pic->y, pic->u, pic->v, pic->stride_y, pic->stride_u, pic->stride_v,
                      pic->width, pic->height, pic->timestamp_us };
    mxrtc_encoded_frame info;
    rc = mxrtc_video_encode(p->venc, &in, p->venc_buf, PEER_VIDEO_FRAME_MAX, &info);
    if (rc == MXRTC_OK && !info.dropped && info.len)
        rc = send_video_frame(p, now, p->venc_buf, info.len, info.keyframe != 0, pic->timestamp_us,
                              info.width, info.height);
    mxrtc_peer_settle(p, now);
    return rc;
}

int mxrtc_peer_push_encoded(mxrtc_peer *p, mxrtc_time_us now, mxrtc_media_kind kind, const uint8_t *data,
                            size_t len, mxrtc_time_us capture_us, int keyframe) {
    int rc = mxrtc_peer_input_check(p);
    if (rc) return rc;
    if (!data || !len) return MXRTC_ERR_INVALID_ARGUMENT;
    if (kind == MXRTC_MEDIA_AUDIO) {
        if (!can_send(p, &p->audio_sec)) return MXRTC_OK;
        int samples = mxrtc_opus_packet_samples(data, len);
        if (samples < 0) return samples;
        uint32_t ts = p->atx.ts_base + (uint32_t)p->audio_samples_sent;
        p->audio_samples_sent += (uint64_t)samples;
        (void)capture_us;
        rc = send_opus(p, now, data, len, ts);
    } else if (kind == MXRTC_MEDIA_VIDEO) {
        if (!can_send(p, &p->video_sec)) return MXRTC_OK;
        if (len > PEER_VIDEO_FRAME_MAX) return MXRTC_ERR_LIMIT;
        rc = send_video_frame(p, now, data, len, keyframe != 0, capture_us, 0, 0);
    } else {
        return MXRTC_ERR_INVALID_ARGUMENT;
    }
    mxrtc_peer_settle(p, now);
    return rc;
}

void mxrtc_peer_media_free(mxrtc_peer *p) {
    mxrtc_opus_encoder_free(p->opus_enc);
    mxrtc_opus_decoder_free(p->opus_dec);
    mxrtc_video_encoder_free(p->venc);
    mxrtc_video_decoder_free(p->vdec);
    mxrtc_rtx_history_free(p->vtx.rtx);
    mxrtc_free(p->alloc, p->venc_buf);
    mxrtc_free(p->alloc, p->vasm_buf);
    mxrtc_free(p->alloc, p->vslot_data);
    p->vslot_data = NULL;
    p->opus_enc = NULL;
    p->opus_dec = NULL;
    p->venc = NULL;
    p->vdec = NULL;
    p->vtx.rtx = NULL;
    p->venc_buf = p->vasm_buf = NULL;
}
