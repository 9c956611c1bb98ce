/*
 * packetizer_vp9.c: VP9 over RTP (RFC 9628): the payload descriptor (§4.2)
 * in flexible and non-flexible mode with its scalability structure
 * (§4.2.1), a single-layer packetizer, and the depacketizer into the frame
 * assembler.
 */
#include "rtp/rtp.h"

int mxrtc_vp9_parse_descriptor(const uint8_t *payload, size_t len, mxrtc_vp9_descriptor *d) {
    if (!d || (!payload && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(d, 0, sizeof *d);
    mxrtc_reader r;
    mxrtc_reader_init(&r, payload, len);
    uint8_t b0 = mxrtc_read_u8(&r);
    if (r.error) return MXRTC_ERR_TRUNCATED;
    d->has_picture_id = (b0 & 0x80) != 0;
    d->inter_predicted = (b0 & 0x40) != 0;
    d->has_layers = (b0 & 0x20) != 0;
    d->flexible = (b0 & 0x10) != 0;
    d->start = (b0 & 0x08) != 0;
    d->end = (b0 & 0x04) != 0;
    d->has_ss = (b0 & 0x02) != 0;
    d->not_upper_ref = (b0 & 0x01) != 0;
    if (d->has_picture_id) {
        uint8_t p = mxrtc_read_u8(&r);
        if (p & 0x80) {                               /* M: 15-bit picture id */
            d->picture_id_15bit = true;
            d->picture_id = (uint16_t)((p & 0x7f) << 8 | mxrtc_read_u8(&r));
        } else {
            d->picture_id = p & 0x7f;
        }
    } else if (d->flexible) {
        return MXRTC_ERR_MALFORMED;
    }
    if (d->has_layers) {                              /* TID U SID D */
        uint8_t l = mxrtc_read_u8(&r);
        d->tid = l >> 5;
        d->switching_up = (l & 0x10) != 0;
        d->sid = (l >> 1) & 0x07;
        d->inter_layer = (l & 0x01) != 0;
        if (!d->flexible) {
            d->has_tl0picidx = true;
            d->tl0picidx = mxrtc_read_u8(&r);
        }
    }
    if (d->flexible && d->inter_predicted) {
        /* Up to 3 reference indices; N says another follows. */
        for (;;) {
            uint8_t p = mxrtc_read_u8(&r);
            if (r.error) return MXRTC_ERR_TRUNCATED;
            if (d->p_diff_count == 3) return MXRTC_ERR_MALFORMED;
            d->p_diff[d->p_diff_count++] = p >> 1;
            if (!(p & 0x01)) break;
        }
    }
    if (d->has_ss) {                                  /* §4.2.1 */
        uint8_t s = mxrtc_read_u8(&r);
        d->ss_spatial_layers = (uint8_t)((s >> 5) + 1);
        d->ss_has_resolution = (s & 0x10) != 0;
        bool has_groups = (s & 0x08) != 0;
        if (d->ss_has_resolution) {
            for (unsigned i = 0; i < d->ss_spatial_layers; i++) {
                d->ss_width[i] = mxrtc_read_u16(&r);
                d->ss_height[i] = mxrtc_read_u16(&r);
            }
        }
        if (has_groups) {
            d->ss_groups = mxrtc_read_u8(&r);
            for (unsigned g = 0; g < d->ss_groups && !r.error; g++) {
                uint8_t e = mxrtc_read_u8(&r);        /* TID U R */
                mxrtc_read_skip(&r, (e >> 2) & 0x03); /* R P_DIFFs */
            }
        }
    }
    if (r.error) return MXRTC_ERR_TRUNCATED;
    d->descriptor_len = r.pos;
    if (r.pos >= len) return MXRTC_ERR_TRUNCATED;     /* no VP9 data */
    d->payload = payload + r.pos;
    d->payload_len = len - r.pos;
    /* A key frame: the start of an intra (not P) frame in the base
     * spatial layer (§4.2: P=0 means no inter-picture prediction). */
    d->keyframe = d->start && !d->inter_predicted && (!d->has_layers || d->sid == 0);
    return MXRTC_OK;
}

#define VP9_DESC_LEN 3          /* flags + 15-bit picture id */
#define VP9_SS_LEN 5            /* N_S=0 Y=1 G=0, width, height */

int mxrtc_vp9_packetizer_init(mxrtc_vp9_packetizer *pk, const uint8_t *frame, size_t frame_len,
                              size_t max_payload, uint16_t picture_id, bool keyframe,
                              uint16_t width, uint16_t height) {
    if (!pk || !frame || frame_len == 0) return MXRTC_ERR_INVALID_ARGUMENT;
    bool ss = keyframe && width && height;
    size_t first_desc = VP9_DESC_LEN + (ss ? VP9_SS_LEN : 0);
    if (max_payload <= first_desc) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t room_first = max_payload - first_desc, room = max_payload - VP9_DESC_LEN;
    pk->frame = frame;
    pk->frame_len = frame_len;
    pk->offset = 0;
    pk->max_payload = max_payload;
    pk->packets_left = frame_len <= room_first ? 1 : 1 + (frame_len - room_first + room - 1) / room;
    pk->picture_id = picture_id & 0x7fff;
    pk->keyframe = keyframe;
    pk->width = ss ? width : 0;
    pk->height = ss ? height : 0;
    return MXRTC_OK;
}

int mxrtc_vp9_packetizer_next(mxrtc_vp9_packetizer *pk, uint8_t *buf, size_t cap, bool *last) {
    if (!pk || !buf || !last) return MXRTC_ERR_INVALID_ARGUMENT;
    if (pk->packets_left == 0) return MXRTC_ERR_AGAIN;
    bool first = pk->offset == 0;
    bool ss = first && pk->width;
    size_t desc = VP9_DESC_LEN + (ss ? VP9_SS_LEN : 0);
    size_t remaining = pk->frame_len - pk->offset;
    /* Balanced sizes, but never over this packet's room (the first one
     * may carry the SS). */
    size_t frag = (remaining + pk->packets_left - 1) / pk->packets_left;
    if (frag > pk->max_payload - desc) frag = pk->max_payload - desc;
    if (pk->packets_left == 1) frag = remaining;
    if (cap < desc + frag) return MXRTC_ERR_BUFFER_TOO_SMALL;
    bool is_last = pk->packets_left == 1;
    /* I=1, P for inter frames, L=0, F=0 (non-flexible), B, E, V */
    buf[0] = (uint8_t)(0x80 | (pk->keyframe ? 0 : 0x40) | (first ? 0x08 : 0) |
                       (is_last ? 0x04 : 0) | (ss ? 0x02 : 0));
    buf[1] = (uint8_t)(0x80 | (pk->picture_id >> 8));
    buf[2] = (uint8_t)pk->picture_id;
    if (ss) {
        buf[3] = 0x10;                                /* N_S = 0, Y = 1, G = 0 */
        mxrtc_store_u16(buf + 4, pk->width);
        mxrtc_store_u16(buf + 6, pk->height);
    }
    memcpy(buf + desc, pk->frame + pk->offset, frag);
    pk->offset += frag;
    pk->packets_left--;
    *last = is_last;
    return (int)(desc + frag);
}

int mxrtc_vp9_assembler_push(mxrtc_frame_assembler *a, const mxrtc_rtp_packet *pkt,
                             mxrtc_video_frame *out) {
    if (!a || !pkt || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    mxrtc_vp9_descriptor d;
    int rc = mxrtc_vp9_parse_descriptor(pkt->payload, pkt->payload_len, &d);
    if (rc) return rc;
    mxrtc_frame_part part = {
        .first = d.start && (!d.has_layers || d.sid == 0),
        .keyframe = d.keyframe,
        .has_picture_id = d.has_picture_id,
        .picture_id = d.picture_id,
        .payload = d.payload,
        .len = d.payload_len,
    };
    return mxrtc_frame_assembler_push(a, pkt, &part, out);
}
