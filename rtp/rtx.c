/*
 * rtx.c: RTP retransmission (RFC 4588). The sender keeps a bounded history
 * of sent packets keyed by sequence number and answers NACKs with RTX
 * packets: own SSRC, payload type and sequence space (§4, session
 * multiplexing as WebRTC uses it), the original sequence number (OSN) in
 * the first two payload bytes. The receiver turns them back.
 */
#include "rtp/rtp.h"
#include "base/alloc.h"

typedef struct rtx_slot {
    bool used;
    bool resent;
    uint16_t seq;
    uint16_t len;
    mxrtc_time_us sent_at;
    mxrtc_time_us resent_at;
} rtx_slot;

struct mxrtc_rtx_history {
    mxrtc_allocator alloc;
    bool has_alloc;
    mxrtc_rtx_config cfg;
    uint16_t next_rtx_seq;
    rtx_slot *slots;
    uint8_t *data;                /* capacity x max_packet */
    uint64_t resent;
    uint64_t missed;
};

int mxrtc_rtx_history_new(mxrtc_rtx_history **out, const mxrtc_allocator *alloc,
                          const mxrtc_rtx_config *cfg) {
    if (!out || !cfg) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    size_t capacity = cfg->capacity ? cfg->capacity : 512;
    size_t max_packet = cfg->max_packet ? cfg->max_packet : MXRTC_RTP_DEFAULT_MTU;
    if (capacity > 32768 || max_packet < MXRTC_RTP_FIXED_HEADER_LEN || max_packet > 0xffff)
        return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_rtx_history *h = mxrtc_calloc(alloc, 1, sizeof *h);
    if (!h) return MXRTC_ERR_NO_MEMORY;
    if (alloc) {
        h->alloc = *alloc;
        h->has_alloc = true;
    }
    h->cfg = *cfg;
    h->cfg.capacity = capacity;
    h->cfg.max_packet = max_packet;
    h->next_rtx_seq = cfg->first_rtx_seq;
    h->slots = mxrtc_calloc(alloc, capacity, sizeof *h->slots);
    h->data = mxrtc_calloc(alloc, capacity, max_packet);
    if (!h->slots || !h->data) {
        mxrtc_rtx_history_free(h);
        return MXRTC_ERR_NO_MEMORY;
    }
    *out = h;
    return MXRTC_OK;
}

void mxrtc_rtx_history_free(mxrtc_rtx_history *h) {
    if (!h) return;
    const mxrtc_allocator *a = h->has_alloc ? &h->alloc : NULL;
    mxrtc_free(a, h->slots);
    mxrtc_free(a, h->data);
    mxrtc_free(a, h);
}

int mxrtc_rtx_history_put(mxrtc_rtx_history *h, const uint8_t *pkt, size_t len,
                          mxrtc_time_us now) {
    if (!h || !pkt) return MXRTC_ERR_INVALID_ARGUMENT;
    if (len < MXRTC_RTP_FIXED_HEADER_LEN) return MXRTC_ERR_TRUNCATED;
    if (len > h->cfg.max_packet) return MXRTC_ERR_LIMIT;
    uint16_t seq = mxrtc_load_u16(pkt + 2);
    size_t i = seq % h->cfg.capacity;   /* the slot of seq - capacity: the oldest */
    rtx_slot *s = &h->slots[i];
    s->used = true;
    s->resent = false;
    s->seq = seq;
    s->len = (uint16_t)len;
    s->sent_at = now;
    memcpy(h->data + i * h->cfg.max_packet, pkt, len);
    return MXRTC_OK;
}

int mxrtc_rtx_encapsulate(const uint8_t *orig, size_t len, uint32_t rtx_ssrc, uint8_t rtx_pt,
                          uint16_t rtx_seq, uint8_t *buf, size_t cap) {
    if (!buf || rtx_pt > 127) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_rtp_packet p;
    int rc = mxrtc_rtp_parse(&p, orig, len);
    if (rc) return rc;
    uint16_t osn = p.seq;
    const uint8_t *payload = p.payload;
    size_t payload_len = p.payload_len;
    /* §4: same header as the original but SSRC, PT and sequence number;
     * the original's padding is not carried over. */
    p.ssrc = rtx_ssrc;
    p.pt = rtx_pt;
    p.seq = rtx_seq;
    p.padding_len = 0;
    int hl = mxrtc_rtp_write_header(&p, buf, cap);
    if (hl < 0) return hl;
    if (cap - (size_t)hl < 2 + payload_len) return MXRTC_ERR_BUFFER_TOO_SMALL;
    mxrtc_store_u16(buf + hl, osn);
    memcpy(buf + hl + 2, payload, payload_len);
    return hl + 2 + (int)payload_len;
}

int mxrtc_rtx_history_resend(mxrtc_rtx_history *h, uint16_t seq, mxrtc_time_us now,
                             mxrtc_time_us min_interval, uint8_t *buf, size_t cap) {
    if (!h || !buf) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t i = seq % h->cfg.capacity;
    rtx_slot *s = &h->slots[i];
    if (!s->used || s->seq != seq) {
        h->missed++;
        return MXRTC_ERR_NOT_FOUND;
    }
    /* RFC 4588 §3: a repeated NACK within one RTT is a copy of the first
     * one in flight, not a new loss. */
    if (s->resent && now - s->resent_at < min_interval && now >= s->resent_at) return MXRTC_ERR_AGAIN;
    int n = mxrtc_rtx_encapsulate(h->data + i * h->cfg.max_packet, s->len, h->cfg.rtx_ssrc,
                                  h->cfg.rtx_pt, h->next_rtx_seq, buf, cap);
    if (n < 0) return n;
    h->next_rtx_seq++;
    s->resent = true;
    s->resent_at = now;
    h->resent++;
    return n;
}

uint64_t mxrtc_rtx_history_resent(const mxrtc_rtx_history *h) { return h ? h->resent : 0; }
uint64_t mxrtc_rtx_history_missed(const mxrtc_rtx_history *h) { return h ? h->missed : 0; }

int mxrtc_rtx_decapsulate(const mxrtc_rtp_packet *rtx, uint32_t media_ssrc, uint8_t media_pt,
                          mxrtc_rtp_packet *out) {
    if (!rtx || !out || media_pt > 127) return MXRTC_ERR_INVALID_ARGUMENT;
    /* Padding-only RTX packets probe bandwidth; they carry no packet. */
    if (rtx->payload_len == 0) return MXRTC_ERR_NOT_FOUND;
    if (rtx->payload_len < 2) return MXRTC_ERR_TRUNCATED;
    *out = *rtx;
    out->seq = mxrtc_load_u16(rtx->payload);
    out->ssrc = media_ssrc;
    out->pt = media_pt;
    out->payload = rtx->payload + 2;
    out->payload_len = rtx->payload_len - 2;
    out->padding_len = 0;
    return MXRTC_OK;
}
