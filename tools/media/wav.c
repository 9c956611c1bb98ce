/*
 * wav.c: RIFF/WAVE, 16-bit PCM at 48 kHz, mono or stereo (what Opus takes
 * and gives back). The layout is Microsoft's RIFF: "RIFF" size "WAVE", then
 * chunks of id(4) size(4, little-endian) body, each padded to an even
 * length; "fmt " (WAVEFORMAT/WAVEFORMATEXTENSIBLE) must come before "data".
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "base/alloc.h"

#include "tools/media/le.h"
#include "tools/media/media.h"

#define WAVE_FORMAT_PCM 0x0001u
#define WAVE_FORMAT_EXTENSIBLE 0xFFFEu
#define WAV_STREAMING_SIZE 0xFFFFFFFFu   /* "length unknown": pipes write it */
#define WAV_READ_PREFIX (64u * 1024u)

/* KSDATAFORMAT_SUBTYPE_PCM, as stored (GUID 00000001-0000-0010-8000-00aa00389b71). */
static const uint8_t pcm_subformat[16] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00,
                                          0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71};

static int parse_fmt(const uint8_t *body, uint32_t size, mxrtc_wav_info *out) {
    if (size < 16) return MXRTC_ERR_MALFORMED;
    mxrtc_reader r;
    mxrtc_reader_init(&r, body, size);
    uint16_t tag = media_le16(&r);
    uint16_t channels = media_le16(&r);
    uint32_t rate = media_le32(&r);
    uint32_t byte_rate = media_le32(&r);
    uint16_t align = media_le16(&r);
    uint16_t bits = media_le16(&r);
    if (tag == WAVE_FORMAT_EXTENSIBLE) {
        /* cbSize, wValidBitsPerSample, dwChannelMask, SubFormat */
        uint16_t cb = media_le16(&r);
        uint16_t valid_bits = media_le16(&r);
        (void)media_le32(&r);
        const uint8_t *sub = mxrtc_read_ptr(&r, 16);
        if (r.error || cb < 22) return MXRTC_ERR_MALFORMED;
        if (memcmp(sub, pcm_subformat, sizeof pcm_subformat) != 0) return MXRTC_ERR_UNSUPPORTED;
        if (valid_bits != 16) return MXRTC_ERR_UNSUPPORTED;
    } else if (tag != WAVE_FORMAT_PCM) {
        return MXRTC_ERR_UNSUPPORTED;
    }
    if (channels == 0 || align == 0 || rate == 0) return MXRTC_ERR_MALFORMED;
    if (channels > 2 || bits != 16 || rate != MXRTC_WAV_RATE) return MXRTC_ERR_UNSUPPORTED;
    if (align != channels * 2u || byte_rate != rate * align) return MXRTC_ERR_MALFORMED;
    out->channels = channels;
    out->sample_rate = rate;
    return MXRTC_OK;
}

int mxrtc_wav_parse(const uint8_t *buf, size_t len, mxrtc_wav_info *out) {
    if (!buf || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (len < 12) return len >= 4 && memcmp(buf, "RIFF", 4) != 0 ? MXRTC_ERR_MALFORMED : MXRTC_ERR_TRUNCATED;
    if (memcmp(buf, "RIFF", 4) != 0 || memcmp(buf + 8, "WAVE", 4) != 0) return MXRTC_ERR_MALFORMED;
    uint64_t pos = 12;
    int have_fmt = 0;
    for (unsigned n = 0; n < MXRTC_WAV_MAX_CHUNKS; n++) {
        if (len - pos < 8) return MXRTC_ERR_TRUNCATED;
        mxrtc_reader r;
        mxrtc_reader_init(&r, buf + pos, 8);
        const uint8_t *id = mxrtc_read_ptr(&r, 4);
        uint32_t size = media_le32(&r);
        uint64_t body = pos + 8;
        if (memcmp(id, "data", 4) == 0) {
            if (!have_fmt) return MXRTC_ERR_MALFORMED;
            out->data_offset = (size_t)body;
            out->data_bytes = size;
            uint64_t avail = len - body;
            out->data_avail = (size_t)(avail < size ? avail : size);
            return MXRTC_OK;
        }
        if (memcmp(id, "fmt ", 4) == 0) {
            if (have_fmt) return MXRTC_ERR_MALFORMED;
            if (size < 16) return MXRTC_ERR_MALFORMED;
            if (len - body < size) return MXRTC_ERR_TRUNCATED;
            int rc = parse_fmt(buf + body, size, out);
            if (rc != MXRTC_OK) return rc;
            have_fmt = 1;
        }
        /* RIFF: a chunk body of odd length is followed by a pad byte. */
        uint64_t next = body + size + (size & 1u);
        if (next > len) return MXRTC_ERR_TRUNCATED;
        pos = next;
    }
    return MXRTC_ERR_LIMIT;
}

int mxrtc_wav_write_header(uint8_t out[MXRTC_WAV_HEADER_LEN], unsigned channels, uint32_t data_bytes) {
    if (!out || (channels != 1 && channels != 2)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (data_bytes > UINT32_MAX - (MXRTC_WAV_HEADER_LEN - 8) - 1) return MXRTC_ERR_INVALID_ARGUMENT;
    uint32_t align = channels * 2u;
    memcpy(out, "RIFF", 4);
    /* The RIFF size counts everything after itself, including the data pad byte. */
    media_put_le32(out + 4, (MXRTC_WAV_HEADER_LEN - 8) + data_bytes + (data_bytes & 1u));
    memcpy(out + 8, "WAVEfmt ", 8);
    media_put_le32(out + 16, 16);
    media_put_le16(out + 20, WAVE_FORMAT_PCM);
    media_put_le16(out + 22, (uint16_t)channels);
    media_put_le32(out + 24, MXRTC_WAV_RATE);
    media_put_le32(out + 28, MXRTC_WAV_RATE * align);
    media_put_le16(out + 32, (uint16_t)align);
    media_put_le16(out + 34, 16);
    memcpy(out + 36, "data", 4);
    media_put_le32(out + 40, data_bytes);
    return MXRTC_OK;
}

/* ---- files ---------------------------------------------------------------- */

int mxrtc_wav_reader_open(mxrtc_wav_reader *r, const char *path) {
    if (!r || !path) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(r, 0, sizeof *r);
    FILE *f = fopen(path, "rb");
    if (!f) return MXRTC_ERR_IO;
    uint8_t *buf = mxrtc_malloc(NULL, WAV_READ_PREFIX);
    if (!buf) { fclose(f); return MXRTC_ERR_NO_MEMORY; }
    size_t n = fread(buf, 1, WAV_READ_PREFIX, f);
    int rc = ferror(f) ? MXRTC_ERR_IO : mxrtc_wav_parse(buf, n, &r->info);
    mxrtc_free(NULL, buf);
    long size = -1;
    if (rc == MXRTC_OK && (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0)) rc = MXRTC_ERR_IO;
    if (rc == MXRTC_OK && fseek(f, (long)r->info.data_offset, SEEK_SET) != 0) rc = MXRTC_ERR_IO;
    if (rc != MXRTC_OK) { fclose(f); return rc; }
    /* A streaming header (or a lying one) ends at the end of the file. */
    uint64_t present = (uint64_t)size - r->info.data_offset;
    uint64_t left = r->info.data_bytes;
    if (left == WAV_STREAMING_SIZE || left > present) left = present;
    left -= left % (r->info.channels * 2u);
    r->f = f;
    r->left = left;
    return MXRTC_OK;
}

int mxrtc_wav_reader_read(mxrtc_wav_reader *r, int16_t *pcm, size_t frames) {
    if (!r || !r->f || (!pcm && frames)) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t frame_bytes = r->info.channels * 2u;
    uint64_t want = (uint64_t)frames * frame_bytes;
    if (want > r->left) want = r->left;
    if (want > INT32_MAX) want = (INT32_MAX / frame_bytes) * frame_bytes;
    uint8_t *bytes = (uint8_t *)pcm;
    size_t got = fread(bytes, 1, (size_t)want, r->f);
    if (got < want && ferror(r->f)) return MXRTC_ERR_IO;
    got -= got % frame_bytes;
    r->left -= got;
    /* Little-endian bytes to host int16, in place. */
    for (size_t i = 0; i < got / 2; i++) {
        uint16_t v = (uint16_t)(bytes[2 * i] | (bytes[2 * i + 1] << 8));
        pcm[i] = (int16_t)v;
    }
    return (int)(got / frame_bytes);
}

void mxrtc_wav_reader_close(mxrtc_wav_reader *r) {
    if (r && r->f) fclose(r->f);
    if (r) r->f = NULL;
}

int mxrtc_wav_writer_open(mxrtc_wav_writer *w, const char *path, unsigned channels) {
    if (!w || !path || (channels != 1 && channels != 2)) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(w, 0, sizeof *w);
    uint8_t h[MXRTC_WAV_HEADER_LEN];
    mxrtc_wav_write_header(h, channels, 0);
    FILE *f = fopen(path, "wb");
    if (!f) return MXRTC_ERR_IO;
    if (fwrite(h, 1, sizeof h, f) != sizeof h) { fclose(f); return MXRTC_ERR_IO; }
    w->f = f;
    w->channels = channels;
    return MXRTC_OK;
}

int mxrtc_wav_writer_write(mxrtc_wav_writer *w, const int16_t *pcm, size_t frames) {
    if (!w || !w->f || (!pcm && frames)) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t samples = frames * w->channels;
    if (w->data_bytes + (uint64_t)samples * 2u > UINT32_MAX - MXRTC_WAV_HEADER_LEN - 1) return MXRTC_ERR_LIMIT;
    uint8_t chunk[512];
    size_t i = 0;
    while (i < samples) {
        size_t n = 0;
        for (; n < sizeof chunk / 2 && i < samples; n++, i++) media_put_le16(chunk + 2 * n, (uint16_t)pcm[i]);
        if (fwrite(chunk, 2, n, w->f) != n) return MXRTC_ERR_IO;
    }
    w->data_bytes += (uint64_t)samples * 2u;
    return MXRTC_OK;
}

int mxrtc_wav_writer_close(mxrtc_wav_writer *w) {
    if (!w || !w->f) return MXRTC_ERR_INVALID_ARGUMENT;
    uint8_t h[MXRTC_WAV_HEADER_LEN];
    int rc = mxrtc_wav_write_header(h, w->channels, (uint32_t)w->data_bytes);
    if (rc == MXRTC_OK && (w->data_bytes & 1u) && fputc(0, w->f) == EOF) rc = MXRTC_ERR_IO;
    if (rc == MXRTC_OK && (fseek(w->f, 0, SEEK_SET) != 0 || fwrite(h, 1, sizeof h, w->f) != sizeof h))
        rc = MXRTC_ERR_IO;
    if (fclose(w->f) != 0 && rc == MXRTC_OK) rc = MXRTC_ERR_IO;
    w->f = NULL;
    return rc;
}
