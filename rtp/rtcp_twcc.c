/*
 * rtcp_twcc.c: transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1), an RTPFB with
 * FMT 15: base sequence number, packet status count, 24-bit reference time
 * (64 ms), feedback packet count, then packet chunks (§3.1.3 run length,
 * §3.1.4 status vectors of 14 one-bit or 7 two-bit symbols) and the receive
 * deltas of the received packets (§3.1.5, 250 us, 8-bit unsigned or 16-bit
 * signed).
 */
#include "rtp/rtp.h"
#include "rtp/rtcp_write.h"

#define RUN_MAX 0x1fff   /* §3.1.3: 13-bit run length */

int mxrtc_rtcp_parse_twcc(const mxrtc_rtcp_header *h, mxrtc_twcc_feedback *out) {
    if (!h || !out || h->pt != MXRTC_RTCP_RTPFB || h->count != MXRTC_RTCP_FMT_TWCC ||
        (!out->packets && out->packet_cap))
        return MXRTC_ERR_INVALID_ARGUMENT;
    out->packet_count = 0;
    mxrtc_reader r;
    mxrtc_reader_init(&r, h->body, h->body_len);
    out->sender_ssrc = mxrtc_read_u32(&r);
    out->media_ssrc = mxrtc_read_u32(&r);
    out->base_seq = mxrtc_read_u16(&r);
    out->status_count = mxrtc_read_u16(&r);
    uint32_t ref = mxrtc_read_u24(&r);
    out->reference_time = (int32_t)(ref ^ 0x800000u) - 0x800000;
    out->fb_pkt_count = mxrtc_read_u8(&r);
    if (r.error) return MXRTC_ERR_TRUNCATED;
    if (out->status_count == 0) return MXRTC_ERR_MALFORMED;
    if (out->status_count > out->packet_cap) return MXRTC_ERR_LIMIT;

    mxrtc_twcc_packet *pk = out->packets;
    size_t n = out->status_count, got = 0;
    while (got < n) {
        uint16_t c = mxrtc_read_u16(&r);
        if (r.error) return MXRTC_ERR_TRUNCATED;
        if (!(c & 0x8000)) {                       /* run length chunk */
            uint8_t sym = (c >> 13) & 3;
            size_t run = c & RUN_MAX;
            if (sym == 3 || run == 0) return MXRTC_ERR_MALFORMED;
            for (size_t i = 0; i < run && got < n; i++) pk[got++].status = sym;
        } else if (!(c & 0x4000)) {                /* 14 one-bit symbols */
            for (int i = 13; i >= 0 && got < n; i--) pk[got++].status = (c >> i) & 1;
        } else {                                   /* 7 two-bit symbols */
            for (int i = 6; i >= 0 && got < n; i--) {
                uint8_t sym = (c >> (2 * i)) & 3;
                if (sym == 3) return MXRTC_ERR_MALFORMED;
                pk[got++].status = sym;
            }
        }
    }
    int64_t t = (int64_t)out->reference_time * MXRTC_TWCC_REFTIME_US;
    for (size_t i = 0; i < n; i++) {
        pk[i].seq = (uint16_t)(out->base_seq + i);
        int32_t d;
        if (pk[i].status == MXRTC_TWCC_SMALL_DELTA) d = mxrtc_read_u8(&r);
        else if (pk[i].status == MXRTC_TWCC_LARGE_DELTA) d = (int16_t)mxrtc_read_u16(&r);
        else {
            pk[i].delta_us = 0;
            pk[i].arrival_us = 0;
            continue;
        }
        if (r.error) return MXRTC_ERR_TRUNCATED;
        pk[i].delta_us = d * MXRTC_TWCC_DELTA_US;
        t += pk[i].delta_us;
        pk[i].arrival_us = t;
    }
    /* Up to 3 bytes of zero padding may follow; they are not data. */
    out->packet_count = n;
    return MXRTC_OK;
}

/* ---- builder ------------------------------------------------------------- */

/* Walks the arrivals in order, quantising each delta against the previous
 * quantised time so that rounding errors do not accumulate. */
typedef struct delta_walk {
    const int64_t *ring; /* arrivals, read from start and wrapping at ring_size */
    size_t ring_size;
    size_t start;
    int64_t prev;        /* quantised time of the previous received packet */
} delta_walk;

static int64_t arrival_at(const delta_walk *dw, size_t i) {
    size_t k = dw->start + i;
    if (k >= dw->ring_size) k -= dw->ring_size;
    return dw->ring[k];
}

static int64_t div_round(int64_t a, int64_t b) {
    return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b);
}

/* Symbol of packet i (advancing the walk); *ticks its delta. -1 if the delta
 * does not fit 16 bits. */
static int walk_next(delta_walk *dw, size_t i, int32_t *ticks) {
    int64_t a = arrival_at(dw, i);
    if (a < 0) return MXRTC_TWCC_NOT_RECEIVED;
    int64_t d = div_round(a - dw->prev, MXRTC_TWCC_DELTA_US);
    if (d < INT16_MIN || d > INT16_MAX) return -1;
    dw->prev += d * MXRTC_TWCC_DELTA_US;
    *ticks = (int32_t)d;
    return (d >= 0 && d <= 255) ? MXRTC_TWCC_SMALL_DELTA : MXRTC_TWCC_LARGE_DELTA;
}

/* Greedy chunk encoder: symbols collect while they still fit one chunk; a
 * uniform run grows into a run-length chunk (§3.1.3), a mixed one becomes a
 * status vector (§3.1.4), one-bit if it holds no large delta. A vector
 * always stands for all its 14 or 7 symbols, so only the last chunk of the
 * feedback may be a partly used vector (the status count ends it). */
typedef struct chunker {
    mxrtc_writer *w;
    uint8_t sym[14];
    size_t n;
    bool all_same;
    bool has_large;
} chunker;

static void chunk_rescan(chunker *c) {
    c->all_same = true;
    c->has_large = false;
    for (size_t i = 0; i < c->n; i++) {
        if (c->sym[i] != c->sym[0]) c->all_same = false;
        if (c->sym[i] == MXRTC_TWCC_LARGE_DELTA) c->has_large = true;
    }
}

/* Writes one chunk from the front of the buffer. */
static void chunk_emit_one(chunker *c) {
    uint16_t v;
    size_t used;
    if (c->all_same) {
        v = (uint16_t)(c->sym[0] << 13 | c->n);
        used = c->n;
    } else if (!c->has_large) {
        /* mid-stream only when full (see chunk_can_add); partial at the end */
        v = 0x8000;
        for (size_t i = 0; i < c->n; i++) v |= (uint16_t)(c->sym[i] << (13 - i));
        used = c->n;
    } else {
        used = c->n < 7 ? c->n : 7;
        v = 0xc000;
        for (size_t i = 0; i < used; i++) v |= (uint16_t)(c->sym[i] << (2 * (6 - i)));
    }
    mxrtc_write_u16(c->w, v);
    size_t keep = c->n - used;   /* a run longer than 14 is always used whole */
    if (keep) memmove(c->sym, c->sym + used, keep);
    c->n = keep;
    chunk_rescan(c);
}

static bool chunk_can_add(const chunker *c, uint8_t s) {
    if (c->n < 7) return true;
    if (c->n < 14 && !c->has_large && s != MXRTC_TWCC_LARGE_DELTA) return true;
    return c->all_same && s == c->sym[0] && c->n < RUN_MAX;
}

static void chunk_add(chunker *c, uint8_t s) {
    /* When the symbol does not fit: a uniform buffer becomes a run, a full
     * one-bit buffer a vector, anything else gives its first 7 symbols to a
     * two-bit vector and keeps the rest. */
    while (!chunk_can_add(c, s)) {
        if (!c->all_same && !c->has_large && c->n < 14) {
            /* s is a large delta: the 1-bit vector cannot take it */
            size_t keep = c->n - 7;
            uint16_t v = 0xc000;
            for (size_t i = 0; i < 7; i++) v |= (uint16_t)(c->sym[i] << (2 * (6 - i)));
            mxrtc_write_u16(c->w, v);
            memmove(c->sym, c->sym + 7, keep);
            c->n = keep;
            chunk_rescan(c);
        } else {
            chunk_emit_one(c);
        }
    }
    if (c->n < 14) c->sym[c->n] = s;
    if (c->n > 0 && s != c->sym[0]) c->all_same = false;
    if (c->n == 0) c->all_same = true;
    if (s == MXRTC_TWCC_LARGE_DELTA) c->has_large = true;
    c->n++;
}

static void chunk_flush(chunker *c) {
    while (c->n > 0) chunk_emit_one(c);
}

int mxrtc_twcc_write_ring(mxrtc_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc,
                          uint16_t base_seq, uint8_t fb_pkt_count, const int64_t *ring,
                          size_t ring_size, size_t start, size_t count, size_t *fit) {
    if (!w || !ring || count == 0 || count > 0xffff || count > ring_size || start >= ring_size)
        return MXRTC_ERR_INVALID_ARGUMENT;
    delta_walk dw = {ring, ring_size, start, 0};
    size_t first = 0;
    while (first < count && arrival_at(&dw, first) < 0) first++;
    if (first == count) return MXRTC_ERR_INVALID_ARGUMENT;
    int64_t ref = arrival_at(&dw, first) / MXRTC_TWCC_REFTIME_US;

    /* Pass 1: check every delta fits before writing anything. */
    dw.prev = ref * MXRTC_TWCC_REFTIME_US;
    int32_t ticks;
    for (size_t i = 0; i < count; i++) {
        if (walk_next(&dw, i, &ticks) < 0) {
            if (fit) *fit = i;
            return MXRTC_ERR_LIMIT;
        }
    }

    size_t pos0 = mxrtc_rtcp_begin(w, MXRTC_RTCP_FMT_TWCC, MXRTC_RTCP_RTPFB);
    mxrtc_write_u32(w, sender_ssrc);
    mxrtc_write_u32(w, media_ssrc);
    mxrtc_write_u16(w, base_seq);
    mxrtc_write_u16(w, (uint16_t)count);
    mxrtc_write_u24(w, (uint32_t)ref & 0xffffffu);
    mxrtc_write_u8(w, fb_pkt_count);

    /* Pass 2: chunks. */
    chunker c = {w, {0}, 0, true, false};
    dw.prev = ref * MXRTC_TWCC_REFTIME_US;
    for (size_t i = 0; i < count; i++) chunk_add(&c, (uint8_t)walk_next(&dw, i, &ticks));
    chunk_flush(&c);

    /* Pass 3: receive deltas. */
    dw.prev = ref * MXRTC_TWCC_REFTIME_US;
    for (size_t i = 0; i < count; i++) {
        int s = walk_next(&dw, i, &ticks);
        if (s == MXRTC_TWCC_SMALL_DELTA) mxrtc_write_u8(w, (uint8_t)ticks);
        else if (s == MXRTC_TWCC_LARGE_DELTA) mxrtc_write_u16(w, (uint16_t)(int16_t)ticks);
    }
    return mxrtc_rtcp_finish(w, pos0);
}

int mxrtc_rtcp_write_twcc(mxrtc_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc,
                          uint16_t base_seq, uint8_t fb_pkt_count,
                          const int64_t *arrival_us, size_t count) {
    if (!arrival_us || count == 0) return MXRTC_ERR_INVALID_ARGUMENT;
    return mxrtc_twcc_write_ring(w, sender_ssrc, media_ssrc, base_seq, fb_pkt_count,
                                 arrival_us, count, 0, count, NULL);
}
