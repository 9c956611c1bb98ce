/*
 * pktq.c: ring of [u32 entry length][meta][data] records, each padded to 4
 * bytes. A record never wraps: when it does not fit before the end of the
 * buffer, a wrap marker (length 0xFFFFFFFF) is left if there is room for it
 * and the record goes to the start. A reader that finds the marker, or fewer
 * than 4 bytes before the end, continues at the start.
 */
#include <string.h>

#include "base/alloc.h"
#include "base/bytes.h"
#include "base/pktq.h"

#define WRAP_MARKER 0xFFFFFFFFu

static size_t align4(size_t n) { return (n + 3u) & ~(size_t)3u; }

int mxrtc_pktq_init(mxrtc_pktq *q, const mxrtc_allocator *a, size_t cap, size_t meta_size) {
    memset(q, 0, sizeof *q);
    cap = align4(cap);
    if (cap < 8) return MXRTC_ERR_INVALID_ARGUMENT;
    q->buf = mxrtc_malloc(a, cap);
    if (!q->buf) return MXRTC_ERR_NO_MEMORY;
    q->cap = cap;
    q->meta_size = meta_size;
    return MXRTC_OK;
}

void mxrtc_pktq_free(mxrtc_pktq *q, const mxrtc_allocator *a) {
    if (!q) return;
    mxrtc_free(a, q->buf);
    memset(q, 0, sizeof *q);
}

void mxrtc_pktq_clear(mxrtc_pktq *q) {
    q->head = q->tail = q->count = 0;
}

/* Where the record at pos really starts, following a wrap. */
static size_t record_at(const mxrtc_pktq *q, size_t pos) {
    if (q->cap - pos < 4 || mxrtc_load_u32(q->buf + pos) == WRAP_MARKER) return 0;
    return pos;
}

int mxrtc_pktq_push(mxrtc_pktq *q, const void *meta, const uint8_t *seg1, size_t len1,
                    const uint8_t *seg2, size_t len2) {
    mxrtc_iov iov[2] = {{seg1, len1}, {seg2, len2}};
    return mxrtc_pktq_pushv(q, meta, iov, 2);
}

int mxrtc_pktq_pushv(mxrtc_pktq *q, const void *meta, const mxrtc_iov *iov, size_t n) {
    if (!q->buf) return MXRTC_ERR_STATE;
    size_t body = q->meta_size;
    for (size_t i = 0; i < n; i++) {
        if (iov[i].len > 0xFFFFFFF0u - body) return MXRTC_ERR_INVALID_ARGUMENT;
        body += iov[i].len;
    }
    size_t need = 4 + align4(body);
    size_t at;
    if (q->count == 0) {
        q->head = q->tail = 0;
        if (need > q->cap) goto full;
        at = 0;
    } else if (q->tail > q->head) {
        if (need <= q->cap - q->tail) {
            at = q->tail;
        } else if (need < q->head) {   /* strictly less: tail == head means empty */
            if (q->cap - q->tail >= 4) mxrtc_store_u32(q->buf + q->tail, WRAP_MARKER);
            at = 0;
        } else {
            goto full;
        }
    } else {                             /* tail <= head: free space is [tail, head) */
        if (need < q->head - q->tail) at = q->tail;
        else goto full;
    }
    uint8_t *p = q->buf + at;
    mxrtc_store_u32(p, (uint32_t)body);
    p += 4;
    if (q->meta_size) memcpy(p, meta, q->meta_size);
    p += q->meta_size;
    for (size_t i = 0; i < n; i++) {
        if (iov[i].len) memcpy(p, iov[i].data, iov[i].len);
        p += iov[i].len;
    }
    q->tail = at + need;
    if (q->tail == q->cap) q->tail = 0;
    q->count++;
    return MXRTC_OK;
full:
    q->dropped++;
    return MXRTC_ERR_LIMIT;
}

int mxrtc_pktq_front(const mxrtc_pktq *q, void *meta_out, const uint8_t **data, size_t *len) {
    if (q->count == 0) return MXRTC_ERR_AGAIN;
    size_t at = record_at(q, q->head);
    const uint8_t *p = q->buf + at;
    size_t body = mxrtc_load_u32(p);
    if (meta_out && q->meta_size) memcpy(meta_out, p + 4, q->meta_size);
    *data = p + 4 + q->meta_size;
    *len = body - q->meta_size;
    return MXRTC_OK;
}

void mxrtc_pktq_pop(mxrtc_pktq *q) {
    if (q->count == 0) return;
    size_t at = record_at(q, q->head);
    size_t body = mxrtc_load_u32(q->buf + at);
    q->head = at + 4 + align4(body);
    if (q->head == q->cap) q->head = 0;
    if (--q->count == 0) q->head = q->tail = 0;
}
