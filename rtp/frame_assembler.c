/*
 * frame_assembler.c: collecting one video frame from the RTP packets between
 * a frame start and the marker bit (RFC 3550 §5.1 marker; RFC 7741 §4.4,
 * RFC 9628 §4.5), codec-independent: the VP8/VP9 depacketizers say where a
 * frame starts and whether it is a key frame. A gap in sequence numbers
 * makes the frame incomplete, and it is reported, not handed on.
 */
#include "rtp/rtp.h"

void mxrtc_frame_assembler_init(mxrtc_frame_assembler *a, uint8_t *buf, size_t cap) {
    memset(a, 0, sizeof *a);
    a->buf = buf;
    a->cap = buf ? cap : 0;
}

static void lose(mxrtc_frame_assembler *a, mxrtc_video_frame *out) {
    a->frames_incomplete++;
    out->lost_frame = true;
}

/* Drops the frame being collected and skips the rest of frame ts. */
static void skip_frame(mxrtc_frame_assembler *a, mxrtc_video_frame *out, uint32_t ts) {
    lose(a, out);
    a->active = false;
    a->skipping = true;
    a->skip_ts = ts;
}

int mxrtc_frame_assembler_push(mxrtc_frame_assembler *a, const mxrtc_rtp_packet *pkt,
                               const mxrtc_frame_part *part, mxrtc_video_frame *out) {
    if (!a || !pkt || !part || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);

    /* A duplicate or a packet older than the last one is of no use here
     * (ordering is the jitter buffer's job): ignore it without a trace. */
    if (a->have_last_seq && (int16_t)(pkt->seq - a->last_seq) <= 0) return MXRTC_ERR_AGAIN;
    bool gap = a->have_last_seq && pkt->seq != (uint16_t)(a->last_seq + 1);
    a->have_last_seq = true;
    a->last_seq = pkt->seq;
    bool first = part->first;

    if (a->active && (pkt->ts != a->ts || first)) {
        /* A new frame began before the marker: the old one lost its tail
         * (any gap belongs to it). */
        lose(a, out);
        a->active = false;
        gap = false;
    }
    if (a->skipping && (pkt->ts != a->skip_ts || first)) {
        a->skipping = false;
        gap = false;     /* the gap, if any, was the skipped frame's */
    }
    if (a->skipping) {
        if (pkt->marker) a->skipping = false;
        return MXRTC_ERR_AGAIN;
    }
    if (a->active && gap) {
        skip_frame(a, out, pkt->ts);
        if (pkt->marker) a->skipping = false;
        return MXRTC_ERR_AGAIN;
    }
    if (!a->active) {
        if (gap) lose(a, out);           /* whole frames went missing in between */
        if (!first) {                    /* joined a frame after its start */
            skip_frame(a, out, pkt->ts);
            if (pkt->marker) a->skipping = false;
            return MXRTC_ERR_AGAIN;
        }
        a->active = true;
        a->len = 0;
        a->ts = pkt->ts;
        a->keyframe = part->keyframe;
        a->has_picture_id = part->has_picture_id;
        a->picture_id = part->picture_id;
    }
    if (a->cap - a->len < part->len) {
        skip_frame(a, out, pkt->ts);
        if (pkt->marker) a->skipping = false;
        return MXRTC_ERR_LIMIT;
    }
    memcpy(a->buf + a->len, part->payload, part->len);
    a->len += part->len;
    if (!pkt->marker) return MXRTC_ERR_AGAIN;

    a->active = false;
    a->frames_complete++;
    out->data = a->buf;
    out->len = a->len;
    out->ts = a->ts;
    out->keyframe = a->keyframe;
    out->has_picture_id = a->has_picture_id;
    out->picture_id = a->picture_id;
    return MXRTC_OK;
}
