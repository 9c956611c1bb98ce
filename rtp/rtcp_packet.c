/*
 * rtcp_packet.c: walking a compound RTCP packet (RFC 3550 §6.1, A.2; RFC
 * 5506 reduced-size), and the RFC 3550 report types SR, RR, SDES and BYE.
 * APP (§6.7) and unknown types are left to the caller to skip.
 */
#include "rtp/rtp.h"
#include "rtp/rtcp_write.h"

void mxrtc_rtcp_iter_init(mxrtc_rtcp_iter *it, const uint8_t *data, size_t len) {
    mxrtc_reader_init(&it->r, data, len);
    it->err = MXRTC_OK;
}

int mxrtc_rtcp_next(mxrtc_rtcp_iter *it, mxrtc_rtcp_header *h) {
    if (!it || !h) return MXRTC_ERR_INVALID_ARGUMENT;
    if (it->err) return it->err;
    size_t rem = mxrtc_reader_remaining(&it->r);
    if (rem == 0) return 0;
    const uint8_t *p = it->r.data + it->r.pos;
    int err = MXRTC_OK;
    size_t size = 0;
    if (rem < 4) {
        err = MXRTC_ERR_TRUNCATED;
    } else if ((p[0] >> 6) != 2) {
        err = MXRTC_ERR_MALFORMED;
    } else {
        /* RFC 3550 §6.4.1: length in 32-bit words minus one. The length
         * field, not the datagram, bounds each packet of a compound. */
        size = ((size_t)mxrtc_load_u16(p + 2) + 1) * 4;
        if (size > rem) err = MXRTC_ERR_TRUNCATED;
    }
    if (!err) {
        h->padding = (p[0] & 0x20) != 0;
        size_t pad = 0;
        if (h->padding) {
            /* RFC 3550 §6.4.1: the last octet counts the padding. A.2 wants
             * it only on the last packet; senders differ, so each packet's
             * own padding is honoured wherever it is. */
            pad = p[size - 1];
            if (pad == 0 || pad > size - 4) err = MXRTC_ERR_MALFORMED;
        }
        if (!err) {
            h->count = p[0] & 0x1f;
            h->pt = p[1];
            h->raw = p;
            h->raw_len = size;
            h->body = p + 4;
            h->body_len = size - 4 - pad;
            mxrtc_read_skip(&it->r, size);
            return 1;
        }
    }
    it->err = err;
    return err;
}

static void read_rb(mxrtc_reader *r, mxrtc_rtcp_report_block *b) {
    b->ssrc = mxrtc_read_u32(r);
    b->fraction_lost = mxrtc_read_u8(r);
    uint32_t lost = mxrtc_read_u24(r);
    /* 24-bit two's complement (RFC 3550 §6.4.1 allows negative loss). */
    b->cumulative_lost = (int32_t)(lost ^ 0x800000u) - 0x800000;
    b->ext_highest_seq = mxrtc_read_u32(r);
    b->jitter = mxrtc_read_u32(r);
    b->lsr = mxrtc_read_u32(r);
    b->dlsr = mxrtc_read_u32(r);
}

static int read_rbs(mxrtc_reader *r, uint8_t count, mxrtc_rtcp_report_block *rb) {
    if (mxrtc_reader_remaining(r) < 24u * count) return MXRTC_ERR_TRUNCATED;
    for (unsigned i = 0; i < count; i++) read_rb(r, &rb[i]);
    return MXRTC_OK;
}

int mxrtc_rtcp_parse_sr(const mxrtc_rtcp_header *h, mxrtc_rtcp_sr *out) {
    if (!h || !out || h->pt != MXRTC_RTCP_SR) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_reader r;
    mxrtc_reader_init(&r, h->body, h->body_len);
    out->ssrc = mxrtc_read_u32(&r);
    out->ntp = mxrtc_read_u64(&r);
    out->rtp_ts = mxrtc_read_u32(&r);
    out->packet_count = mxrtc_read_u32(&r);
    out->octet_count = mxrtc_read_u32(&r);
    if (r.error) return MXRTC_ERR_TRUNCATED;
    out->rb_count = h->count;
    return read_rbs(&r, h->count, out->rb);
}

int mxrtc_rtcp_parse_rr(const mxrtc_rtcp_header *h, mxrtc_rtcp_rr *out) {
    if (!h || !out || h->pt != MXRTC_RTCP_RR) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_reader r;
    mxrtc_reader_init(&r, h->body, h->body_len);
    out->ssrc = mxrtc_read_u32(&r);
    if (r.error) return MXRTC_ERR_TRUNCATED;
    out->rb_count = h->count;
    return read_rbs(&r, h->count, out->rb);
}

int mxrtc_rtcp_parse_sdes(const mxrtc_rtcp_header *h, mxrtc_rtcp_sdes *out) {
    if (!h || !out || h->pt != MXRTC_RTCP_SDES) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_reader r;
    mxrtc_reader_init(&r, h->body, h->body_len);
    out->chunk_count = 0;
    for (unsigned c = 0; c < h->count; c++) {
        uint32_t ssrc = mxrtc_read_u32(&r);
        const uint8_t *cname = NULL;
        uint8_t cname_len = 0;
        for (;;) {
            uint8_t type = mxrtc_read_u8(&r);
            if (r.error) return MXRTC_ERR_TRUNCATED;
            if (type == 0) break;                  /* END (§6.5) */
            uint8_t len = mxrtc_read_u8(&r);
            const uint8_t *v = mxrtc_read_ptr(&r, len);
            if (r.error) return MXRTC_ERR_TRUNCATED;
            if (type == 1 && !cname) {             /* CNAME (§6.5.1) */
                cname = v;
                cname_len = len;
            }
        }
        /* §6.5: the END is followed by null octets to the next 32-bit
         * boundary (the body starts on one). */
        size_t pad = (4 - (r.pos & 3)) & 3;
        if (mxrtc_reader_remaining(&r) < pad) return MXRTC_ERR_TRUNCATED;
        mxrtc_read_skip(&r, pad);
        out->chunk[c].ssrc = ssrc;
        out->chunk[c].cname = cname;
        out->chunk[c].cname_len = cname_len;
        out->chunk_count++;
    }
    return MXRTC_OK;
}

int mxrtc_rtcp_parse_bye(const mxrtc_rtcp_header *h, mxrtc_rtcp_bye *out) {
    if (!h || !out || h->pt != MXRTC_RTCP_BYE) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_reader r;
    mxrtc_reader_init(&r, h->body, h->body_len);
    out->ssrc_count = h->count;
    for (unsigned i = 0; i < h->count; i++) out->ssrc[i] = mxrtc_read_u32(&r);
    if (r.error) return MXRTC_ERR_TRUNCATED;
    out->reason = NULL;
    out->reason_len = 0;
    if (mxrtc_reader_remaining(&r) > 0) {   /* §6.6: optional reason */
        uint8_t len = mxrtc_read_u8(&r);
        const uint8_t *v = mxrtc_read_ptr(&r, len);
        if (r.error) return MXRTC_ERR_TRUNCATED;
        out->reason = v;
        out->reason_len = len;
    }
    return MXRTC_OK;
}

/* ---- builders ------------------------------------------------------------ */

size_t mxrtc_rtcp_begin(mxrtc_writer *w, uint8_t count, uint8_t pt) {
    size_t start = w->pos;
    mxrtc_write_u8(w, (uint8_t)(0x80 | (count & 0x1f)));
    mxrtc_write_u8(w, pt);
    mxrtc_write_u16(w, 0);     /* patched by mxrtc_rtcp_finish */
    return start;
}

int mxrtc_rtcp_finish(mxrtc_writer *w, size_t start) {
    /* Zero-fill to a 32-bit boundary: no P bit, so the packet stays valid
     * anywhere in a compound (RFC 3550 A.2). */
    mxrtc_write_zeros(w, (4 - ((w->pos - start) & 3)) & 3);
    if (w->error) return MXRTC_ERR_BUFFER_TOO_SMALL;
    size_t words = (w->pos - start) / 4 - 1;
    if (words > 0xffff) {
        w->error = true;
        return MXRTC_ERR_INVALID_ARGUMENT;
    }
    mxrtc_store_u16(w->data + start + 2, (uint16_t)words);
    return MXRTC_OK;
}

static void write_rb(mxrtc_writer *w, const mxrtc_rtcp_report_block *b) {
    int32_t lost = b->cumulative_lost;
    if (lost > 0x7fffff) lost = 0x7fffff;          /* §6.4.1: clamp, don't wrap */
    if (lost < -0x800000) lost = -0x800000;
    mxrtc_write_u32(w, b->ssrc);
    mxrtc_write_u8(w, b->fraction_lost);
    mxrtc_write_u24(w, (uint32_t)lost & 0xffffffu);
    mxrtc_write_u32(w, b->ext_highest_seq);
    mxrtc_write_u32(w, b->jitter);
    mxrtc_write_u32(w, b->lsr);
    mxrtc_write_u32(w, b->dlsr);
}

int mxrtc_rtcp_write_sr(mxrtc_writer *w, const mxrtc_rtcp_sr *sr) {
    if (!w || !sr || sr->rb_count > MXRTC_RTCP_MAX_RB) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t start = mxrtc_rtcp_begin(w, sr->rb_count, MXRTC_RTCP_SR);
    mxrtc_write_u32(w, sr->ssrc);
    mxrtc_write_u64(w, sr->ntp);
    mxrtc_write_u32(w, sr->rtp_ts);
    mxrtc_write_u32(w, sr->packet_count);
    mxrtc_write_u32(w, sr->octet_count);
    for (unsigned i = 0; i < sr->rb_count; i++) write_rb(w, &sr->rb[i]);
    return mxrtc_rtcp_finish(w, start);
}

int mxrtc_rtcp_write_rr(mxrtc_writer *w, const mxrtc_rtcp_rr *rr) {
    if (!w || !rr || rr->rb_count > MXRTC_RTCP_MAX_RB) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t start = mxrtc_rtcp_begin(w, rr->rb_count, MXRTC_RTCP_RR);
    mxrtc_write_u32(w, rr->ssrc);
    for (unsigned i = 0; i < rr->rb_count; i++) write_rb(w, &rr->rb[i]);
    return mxrtc_rtcp_finish(w, start);
}

int mxrtc_rtcp_write_sdes_cname(mxrtc_writer *w, uint32_t ssrc, const char *cname,
                                size_t cname_len) {
    if (!w || !cname || cname_len == 0 || cname_len > 255) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t start = mxrtc_rtcp_begin(w, 1, MXRTC_RTCP_SDES);
    mxrtc_write_u32(w, ssrc);
    mxrtc_write_u8(w, 1);
    mxrtc_write_u8(w, (uint8_t)cname_len);
    mxrtc_write_bytes(w, cname, cname_len);
    mxrtc_write_u8(w, 0);      /* END; finish pads with more nulls (§6.5) */
    return mxrtc_rtcp_finish(w, start);
}

int mxrtc_rtcp_write_bye(mxrtc_writer *w, const uint32_t *ssrcs, size_t ssrc_count,
                         const char *reason, size_t reason_len) {
    if (!w || !ssrcs || ssrc_count == 0 || ssrc_count > 31 || reason_len > 255 ||
        (!reason && reason_len))
        return MXRTC_ERR_INVALID_ARGUMENT;
    size_t start = mxrtc_rtcp_begin(w, (uint8_t)ssrc_count, MXRTC_RTCP_BYE);
    for (size_t i = 0; i < ssrc_count; i++) mxrtc_write_u32(w, ssrcs[i]);
    if (reason && reason_len) {
        mxrtc_write_u8(w, (uint8_t)reason_len);
        mxrtc_write_bytes(w, reason, reason_len);
    }
    return mxrtc_rtcp_finish(w, start);
}
