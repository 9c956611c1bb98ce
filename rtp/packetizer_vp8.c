/*
 * packetizer_vp8.c: VP8 over RTP (RFC 7741): the payload descriptor (§4.2),
 * key frame detection from the VP8 payload header (§4.3), splitting a frame
 * over packets (§5), and assembling it back from consecutive packets.
 */
#include "rtp/rtp.h"

int mxrtc_vp8_parse_descriptor(const uint8_t *payload, size_t len, mxrtc_vp8_descriptor *d) {
    if (!d || (!payload && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(d, 0, sizeof *d);
    mxrtc_reader r;
    mxrtc_reader_init(&r, payload, len);
    uint8_t b0 = mxrtc_read_u8(&r);
    if (r.error) return MXRTC_ERR_TRUNCATED;
    d->non_reference = (b0 & 0x20) != 0;
    d->start = (b0 & 0x10) != 0;
    d->partition = b0 & 0x07;
    if (b0 & 0x80) {                                  /* X: extension byte */
        uint8_t x = mxrtc_read_u8(&r);
        if (x & 0x80) {                               /* I: picture id */
            uint8_t p = mxrtc_read_u8(&r);
            d->has_picture_id = true;
            if (p & 0x80) {                           /* M: 15-bit form */
                d->picture_id_15bit = true;
                d->picture_id = (uint16_t)((p & 0x7f) << 8 | mxrtc_read_u8(&r));
            } else {
                d->picture_id = p & 0x7f;
            }
        }
        if (x & 0x40) {                               /* L: TL0PICIDX */
            d->has_tl0picidx = true;
            d->tl0picidx = mxrtc_read_u8(&r);
        }
        if (x & 0x30) {                               /* T or K: TID/Y/KEYIDX byte */
            uint8_t t = mxrtc_read_u8(&r);
            if (x & 0x20) {
                d->has_tid = true;
                d->tid = t >> 6;
                d->layer_sync = (t & 0x20) != 0;
            }
            if (x & 0x10) {
                d->has_keyidx = true;
                d->keyidx = t & 0x1f;
            }
        }
    }
    if (r.error) return MXRTC_ERR_TRUNCATED;
    d->descriptor_len = r.pos;
    /* §4.2: a packet carries at least one byte of VP8 payload. */
    if (r.pos >= len) return MXRTC_ERR_TRUNCATED;
    d->payload = payload + r.pos;
    d->payload_len = len - r.pos;
    /* §4.3: the VP8 payload header opens the first partition; its P bit
     * (bit 0 of the first byte, RFC 6386 §9.1 frame tag) is 0 for a key frame. */
    d->keyframe = d->start && d->partition == 0 && !(d->payload[0] & 0x01);
    return MXRTC_OK;
}

int mxrtc_vp8_packetizer_init(mxrtc_vp8_packetizer *pk, const uint8_t *frame, size_t frame_len,
                              size_t max_payload, uint16_t picture_id, bool non_reference) {
    if (!pk || !frame || frame_len == 0 || max_payload <= MXRTC_VP8_DESCRIPTOR_LEN)
        return MXRTC_ERR_INVALID_ARGUMENT;
    size_t room = max_payload - MXRTC_VP8_DESCRIPTOR_LEN;
    pk->frame = frame;
    pk->frame_len = frame_len;
    pk->offset = 0;
    pk->max_fragment = room;
    pk->packets_left = (frame_len + room - 1) / room;
    pk->picture_id = picture_id & 0x7fff;
    pk->non_reference = non_reference;
    return MXRTC_OK;
}

int mxrtc_vp8_packetizer_next(mxrtc_vp8_packetizer *pk, uint8_t *buf, size_t cap, bool *last) {
    if (!pk || !buf || !last) return MXRTC_ERR_INVALID_ARGUMENT;
    if (pk->packets_left == 0) return MXRTC_ERR_AGAIN;
    /* Balanced split (RFC 7741 §5 leaves the choice): every packet gets
     * ceil(remaining / packets_left) bytes, so sizes differ by at most one
     * and no small runt packet trails the frame. */
    size_t remaining = pk->frame_len - pk->offset;
    size_t frag = (remaining + pk->packets_left - 1) / pk->packets_left;
    if (cap < MXRTC_VP8_DESCRIPTOR_LEN + frag) return MXRTC_ERR_BUFFER_TOO_SMALL;
    /* §4.2: X=1, N, S on the first packet, PID 0 (one partition as the
     * encoder hands the frame over); I=1 with the 15-bit picture id (M=1). */
    buf[0] = (uint8_t)(0x80 | (pk->non_reference ? 0x20 : 0) | (pk->offset == 0 ? 0x10 : 0));
    buf[1] = 0x80;
    buf[2] = (uint8_t)(0x80 | (pk->picture_id >> 8));
    buf[3] = (uint8_t)pk->picture_id;
    memcpy(buf + MXRTC_VP8_DESCRIPTOR_LEN, pk->frame + pk->offset, frag);
    pk->offset += frag;
    pk->packets_left--;
    *last = pk->packets_left == 0;
    return (int)(MXRTC_VP8_DESCRIPTOR_LEN + frag);
}

/* ---- depacketizer into the frame assembler --------------------------------- */

int mxrtc_vp8_assembler_push(mxrtc_frame_assembler *a, const mxrtc_rtp_packet *pkt,
                             mxrtc_video_frame *out) {
    if (!a || !pkt || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    mxrtc_vp8_descriptor d;
    int rc = mxrtc_vp8_parse_descriptor(pkt->payload, pkt->payload_len, &d);
    if (rc) return rc;   /* as if not received: the next packet sees a gap */
    mxrtc_frame_part part = {
        .first = d.start && d.partition == 0,
        .keyframe = d.keyframe,
        .has_picture_id = d.has_picture_id,
        .picture_id = d.picture_id,
        .payload = d.payload,
        .len = d.payload_len,
    };
    rc = mxrtc_frame_assembler_push(a, pkt, &part, out);
    if (rc != MXRTC_OK) return rc;
    /* RFC 6386 §9.1: a key frame's 3-byte frame tag is followed by the start
     * code 9d 01 2a and 4 bytes of dimensions. */
    if (out->keyframe && (out->len < 10 || out->data[3] != 0x9d || out->data[4] != 0x01 ||
                          out->data[5] != 0x2a)) {
        a->frames_complete--;
        a->frames_incomplete++;
        out->data = NULL;
        out->len = 0;
        out->lost_frame = true;
        return MXRTC_ERR_MALFORMED;
    }
    return MXRTC_OK;
}
