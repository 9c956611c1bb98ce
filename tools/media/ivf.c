/*
 * ivf.c: IVF, the VP8/VP9 frame container of libvpx's tools (vpxenc,
 * vpxdec) and ffmpeg. Little-endian throughout. File header (32 bytes):
 * "DKIF", version (2) = 0, header length (2) = 32, FourCC (4) "VP80"/"VP90",
 * width (2), height (2), time base denominator "rate" (4), numerator
 * "scale" (4), frame count (4), unused (4). Each frame: size (4), pts (8),
 * then size bytes of one compressed frame.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "tools/media/le.h"
#include "tools/media/media.h"

int mxrtc_ivf_parse_header(const uint8_t *buf, size_t len, mxrtc_ivf_info *out) {
    if (!buf || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (memcmp(buf, "DKIF", len < 4 ? len : 4) != 0) return MXRTC_ERR_MALFORMED;
    if (len < MXRTC_IVF_HEADER_LEN) return MXRTC_ERR_TRUNCATED;
    mxrtc_reader r;
    mxrtc_reader_init(&r, buf, MXRTC_IVF_HEADER_LEN);
    mxrtc_read_skip(&r, 4);
    uint16_t version = media_le16(&r);
    uint16_t hlen = media_le16(&r);
    const uint8_t *fourcc = mxrtc_read_ptr(&r, 4);
    uint16_t w = media_le16(&r);
    uint16_t h = media_le16(&r);
    uint32_t rate = media_le32(&r);
    uint32_t scale = media_le32(&r);
    uint32_t count = media_le32(&r);
    if (r.error) return MXRTC_ERR_INTERNAL;
    /* A longer header would be skipped by libvpx's reader; we write and
     * expect exactly 32, as every tool does. */
    if (version != 0 || hlen != MXRTC_IVF_HEADER_LEN || rate == 0 || scale == 0) return MXRTC_ERR_MALFORMED;
    if (memcmp(fourcc, "VP80", 4) == 0) out->codec = MXRTC_IVF_VP8;
    else if (memcmp(fourcc, "VP90", 4) == 0) out->codec = MXRTC_IVF_VP9;
    else return MXRTC_ERR_UNSUPPORTED;
    out->width = w;
    out->height = h;
    out->rate = rate;
    out->scale = scale;
    out->frame_count = count;
    return MXRTC_OK;
}

int mxrtc_ivf_parse_frame_header(const uint8_t *buf, size_t len, uint32_t *size, uint64_t *pts) {
    if (!buf || !size || !pts) return MXRTC_ERR_INVALID_ARGUMENT;
    if (len < MXRTC_IVF_FRAME_HEADER_LEN) return MXRTC_ERR_TRUNCATED;
    mxrtc_reader r;
    mxrtc_reader_init(&r, buf, MXRTC_IVF_FRAME_HEADER_LEN);
    uint32_t n = media_le32(&r);
    uint64_t t = media_le64(&r);
    if (n == 0) return MXRTC_ERR_MALFORMED;
    if (n > MXRTC_IVF_MAX_FRAME) return MXRTC_ERR_LIMIT;
    *size = n;
    *pts = t;
    return MXRTC_OK;
}

int mxrtc_ivf_write_header(uint8_t out[MXRTC_IVF_HEADER_LEN], const mxrtc_ivf_info *info) {
    if (!out || !info || info->rate == 0 || info->scale == 0 || info->width > 0xffff || info->height > 0xffff)
        return MXRTC_ERR_INVALID_ARGUMENT;
    const char *fourcc;
    switch (info->codec) {
    case MXRTC_IVF_VP8: fourcc = "VP80"; break;
    case MXRTC_IVF_VP9: fourcc = "VP90"; break;
    default: return MXRTC_ERR_INVALID_ARGUMENT;
    }
    memcpy(out, "DKIF", 4);
    media_put_le16(out + 4, 0);
    media_put_le16(out + 6, MXRTC_IVF_HEADER_LEN);
    memcpy(out + 8, fourcc, 4);
    media_put_le16(out + 12, (uint16_t)info->width);
    media_put_le16(out + 14, (uint16_t)info->height);
    media_put_le32(out + 16, info->rate);
    media_put_le32(out + 20, info->scale);
    media_put_le32(out + 24, info->frame_count);
    media_put_le32(out + 28, 0);
    return MXRTC_OK;
}

/* ---- files ---------------------------------------------------------------- */

int mxrtc_ivf_reader_open(mxrtc_ivf_file *r, const char *path) {
    if (!r || !path) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "rb");
    if (!f) return MXRTC_ERR_IO;
    uint8_t h[MXRTC_IVF_HEADER_LEN];
    size_t n = fread(h, 1, sizeof h, f);
    int rc = ferror(f) ? MXRTC_ERR_IO : mxrtc_ivf_parse_header(h, n, &r->info);
    if (rc != MXRTC_OK) { fclose(f); return rc; }
    r->f = f;
    return MXRTC_OK;
}

int mxrtc_ivf_reader_read(mxrtc_ivf_file *r, uint8_t *buf, size_t cap, uint32_t *size, uint64_t *pts) {
    if (!r || !r->f || !buf || !size || !pts) return MXRTC_ERR_INVALID_ARGUMENT;
    uint8_t h[MXRTC_IVF_FRAME_HEADER_LEN];
    size_t n = fread(h, 1, sizeof h, r->f);
    if (n == 0 && !ferror(r->f)) return 0;
    if (ferror(r->f)) return MXRTC_ERR_IO;
    int rc = mxrtc_ivf_parse_frame_header(h, n, size, pts);
    if (rc != MXRTC_OK) return rc;
    if (*size > cap) return MXRTC_ERR_BUFFER_TOO_SMALL;
    size_t got = fread(buf, 1, *size, r->f);
    if (got < *size) return ferror(r->f) ? MXRTC_ERR_IO : MXRTC_ERR_TRUNCATED;
    return 1;
}

int mxrtc_ivf_writer_open(mxrtc_ivf_file *w, const char *path, const mxrtc_ivf_info *info) {
    if (!w || !path || !info) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(w, 0, sizeof *w);
    uint8_t h[MXRTC_IVF_HEADER_LEN];
    int rc = mxrtc_ivf_write_header(h, info);
    if (rc != MXRTC_OK) return rc;
    FILE *f = fopen(path, "wb");
    if (!f) return MXRTC_ERR_IO;
    if (fwrite(h, 1, sizeof h, f) != sizeof h) { fclose(f); return MXRTC_ERR_IO; }
    w->f = f;
    w->info = *info;
    w->writing = 1;
    return MXRTC_OK;
}

int mxrtc_ivf_writer_write(mxrtc_ivf_file *w, const uint8_t *frame, size_t size, uint64_t pts) {
    if (!w || !w->f || !frame || size == 0) return MXRTC_ERR_INVALID_ARGUMENT;
    if (size > MXRTC_IVF_MAX_FRAME) return MXRTC_ERR_LIMIT;
    uint8_t h[MXRTC_IVF_FRAME_HEADER_LEN];
    media_put_le32(h, (uint32_t)size);
    media_put_le64(h + 4, pts);
    if (fwrite(h, 1, sizeof h, w->f) != sizeof h || fwrite(frame, 1, size, w->f) != size) return MXRTC_ERR_IO;
    if (w->frames < UINT32_MAX) w->frames++;
    return MXRTC_OK;
}

int mxrtc_ivf_close(mxrtc_ivf_file *f) {
    if (!f || !f->f) return MXRTC_ERR_INVALID_ARGUMENT;
    int rc = MXRTC_OK;
    if (f->writing) {   /* the frame count is known only now */
        uint8_t c[4];
        media_put_le32(c, f->frames);
        if (fseek(f->f, 24, SEEK_SET) != 0 || fwrite(c, 1, 4, f->f) != 4) rc = MXRTC_ERR_IO;
    }
    if (fclose(f->f) != 0 && rc == MXRTC_OK) rc = MXRTC_ERR_IO;
    f->f = NULL;
    return rc;
}
