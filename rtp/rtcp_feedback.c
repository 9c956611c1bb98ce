/*
 * rtcp_feedback.c: RTCP feedback messages (RFC 4585 §6): generic NACK
 * (§6.2.1), PLI (§6.3.1), FIR (RFC 5104 §4.3.1) and REMB
 * (draft-alvestrand-rmcat-remb-03 §2.2, an application layer feedback).
 */
#include "rtp/rtp.h"
#include "rtp/rtcp_write.h"

/* RFC 4585 §6.1: every FB message starts with the sender and media SSRCs. */
static int fb_common(const mxrtc_rtcp_header *h, uint8_t pt, uint8_t fmt,
                     uint32_t *sender, uint32_t *media) {
    if (!h || h->pt != pt || h->count != fmt) return MXRTC_ERR_INVALID_ARGUMENT;
    if (h->body_len < 8) return MXRTC_ERR_TRUNCATED;
    *sender = mxrtc_load_u32(h->body);
    *media = mxrtc_load_u32(h->body + 4);
    return MXRTC_OK;
}

int mxrtc_rtcp_parse_nack(const mxrtc_rtcp_header *h, mxrtc_rtcp_nack *out) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    int rc = fb_common(h, MXRTC_RTCP_RTPFB, MXRTC_RTCP_FMT_NACK, &out->sender_ssrc, &out->media_ssrc);
    if (rc) return rc;
    size_t fci = h->body_len - 8;
    /* §6.2.1: one or more 32-bit PID+BLP items. */
    if (fci == 0 || fci % 4) return MXRTC_ERR_MALFORMED;
    out->fci = h->body + 8;
    out->item_count = fci / 4;
    return MXRTC_OK;
}

int mxrtc_rtcp_nack_expand(const mxrtc_rtcp_nack *n, uint16_t *seqs, size_t cap,
                           size_t *count) {
    if (!n || !count || (!seqs && cap)) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t c = 0;
    for (size_t i = 0; i < n->item_count; i++) {
        uint16_t pid = mxrtc_load_u16(n->fci + 4 * i);
        uint16_t blp = mxrtc_load_u16(n->fci + 4 * i + 2);
        if (c == cap) goto full;
        seqs[c++] = pid;
        /* BLP bit i asks for PID + i + 1 (§6.2.1). */
        for (unsigned b = 0; b < 16; b++) {
            if (!(blp & (1u << b))) continue;
            if (c == cap) goto full;
            seqs[c++] = (uint16_t)(pid + b + 1);
        }
    }
    *count = c;
    return MXRTC_OK;
full:
    *count = c;
    return MXRTC_ERR_LIMIT;
}

int mxrtc_rtcp_write_nack(mxrtc_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc,
                          const uint16_t *seqs, size_t count) {
    if (!w || !seqs || count == 0) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t start = mxrtc_rtcp_begin(w, MXRTC_RTCP_FMT_NACK, MXRTC_RTCP_RTPFB);
    mxrtc_write_u32(w, sender_ssrc);
    mxrtc_write_u32(w, media_ssrc);
    uint16_t pid = seqs[0];
    uint16_t blp = 0;
    for (size_t i = 1; i < count; i++) {
        uint16_t d = (uint16_t)(seqs[i] - pid);
        if (d == 0) continue;                      /* the PID again */
        if (d <= 16) {                             /* a repeat sets its bit again */
            blp |= (uint16_t)(1u << (d - 1));
        } else {
            mxrtc_write_u16(w, pid);
            mxrtc_write_u16(w, blp);
            pid = seqs[i];
            blp = 0;
        }
    }
    mxrtc_write_u16(w, pid);
    mxrtc_write_u16(w, blp);
    return mxrtc_rtcp_finish(w, start);
}

int mxrtc_rtcp_parse_pli(const mxrtc_rtcp_header *h, mxrtc_rtcp_pli *out) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    /* §6.3.1: no FCI; anything after the SSRCs is ignored. */
    return fb_common(h, MXRTC_RTCP_PSFB, MXRTC_RTCP_FMT_PLI, &out->sender_ssrc, &out->media_ssrc);
}

int mxrtc_rtcp_write_pli(mxrtc_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc) {
    if (!w) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t start = mxrtc_rtcp_begin(w, MXRTC_RTCP_FMT_PLI, MXRTC_RTCP_PSFB);
    mxrtc_write_u32(w, sender_ssrc);
    mxrtc_write_u32(w, media_ssrc);
    return mxrtc_rtcp_finish(w, start);
}

int mxrtc_rtcp_parse_fir(const mxrtc_rtcp_header *h, mxrtc_rtcp_fir *out) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    uint32_t media;
    int rc = fb_common(h, MXRTC_RTCP_PSFB, MXRTC_RTCP_FMT_FIR, &out->sender_ssrc, &media);
    if (rc) return rc;
    /* RFC 5104 §4.3.1.2: entries of SSRC, seq nr, 24 reserved bits. */
    size_t fci = h->body_len - 8;
    if (fci == 0 || fci % 8) return MXRTC_ERR_MALFORMED;
    out->fci = h->body + 8;
    out->entry_count = fci / 8;
    return MXRTC_OK;
}

void mxrtc_rtcp_fir_entry(const mxrtc_rtcp_fir *f, size_t i, uint32_t *ssrc, uint8_t *seq_nr) {
    *ssrc = mxrtc_load_u32(f->fci + 8 * i);
    *seq_nr = f->fci[8 * i + 4];
}

int mxrtc_rtcp_write_fir(mxrtc_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc,
                         uint8_t seq_nr) {
    if (!w) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t start = mxrtc_rtcp_begin(w, MXRTC_RTCP_FMT_FIR, MXRTC_RTCP_PSFB);
    mxrtc_write_u32(w, sender_ssrc);
    mxrtc_write_u32(w, 0);     /* RFC 5104 §4.3.1.2: media source SSRC unused, 0 */
    mxrtc_write_u32(w, media_ssrc);
    mxrtc_write_u8(w, seq_nr);
    mxrtc_write_zeros(w, 3);
    return mxrtc_rtcp_finish(w, start);
}

int mxrtc_rtcp_parse_remb(const mxrtc_rtcp_header *h, mxrtc_rtcp_remb *out) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    uint32_t media;
    int rc = fb_common(h, MXRTC_RTCP_PSFB, MXRTC_RTCP_FMT_AFB, &out->sender_ssrc, &media);
    if (rc) return rc;
    mxrtc_reader r;
    mxrtc_reader_init(&r, h->body + 8, h->body_len - 8);
    const uint8_t *id = mxrtc_read_ptr(&r, 4);
    if (!id || memcmp(id, "REMB", 4) != 0) return MXRTC_ERR_NOT_FOUND;
    uint8_t n = mxrtc_read_u8(&r);
    uint32_t br = mxrtc_read_u24(&r);
    if (r.error) return MXRTC_ERR_TRUNCATED;
    unsigned exp = br >> 18;
    uint64_t mantissa = br & 0x3ffffu;
    /* Saturate instead of overflowing for exponents the 64 bits can't hold. */
    if (exp > 46 && (mantissa >> (64 - exp)) != 0) out->bitrate_bps = UINT64_MAX;
    else out->bitrate_bps = mantissa << exp;
    if (n > MXRTC_RTCP_REMB_MAX_SSRC) return MXRTC_ERR_LIMIT;
    out->ssrc_count = n;
    for (unsigned i = 0; i < n; i++) out->ssrc[i] = mxrtc_read_u32(&r);
    if (r.error) return MXRTC_ERR_TRUNCATED;
    return MXRTC_OK;
}

int mxrtc_rtcp_write_remb(mxrtc_writer *w, const mxrtc_rtcp_remb *remb) {
    if (!w || !remb || remb->ssrc_count > MXRTC_RTCP_REMB_MAX_SSRC) return MXRTC_ERR_INVALID_ARGUMENT;
    unsigned exp = 0;
    while (exp < 63 && (remb->bitrate_bps >> exp) > 0x3ffffu) exp++;
    uint64_t mantissa = remb->bitrate_bps >> exp;
    if (mantissa > 0x3ffffu) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t start = mxrtc_rtcp_begin(w, MXRTC_RTCP_FMT_AFB, MXRTC_RTCP_PSFB);
    mxrtc_write_u32(w, remb->sender_ssrc);
    mxrtc_write_u32(w, 0);     /* REMB §2.2: media source SSRC is 0 */
    mxrtc_write_bytes(w, "REMB", 4);
    mxrtc_write_u8(w, remb->ssrc_count);
    mxrtc_write_u24(w, (uint32_t)(exp << 18 | mantissa));
    for (unsigned i = 0; i < remb->ssrc_count; i++) mxrtc_write_u32(w, remb->ssrc[i]);
    return mxrtc_rtcp_finish(w, start);
}
