/*
 * rtp_packet.c: RTP fixed header (RFC 3550 §5.1), CSRC list, padding, and
 * the RFC 8285 header extension block in its one-byte and two-byte forms.
 */
#include "rtp/rtp.h"

/* RFC 8285 §4.2: one-byte elements carry ids 1..14 (15 is reserved and
 * stops parsing) and 1..16 bytes of data. */
static bool fits_one_byte(const mxrtc_rtp_ext *e) {
    return e->id >= 1 && e->id <= 14 && e->len >= 1 && e->len <= 16;
}

static int parse_ext_block(mxrtc_rtp_packet *p, const uint8_t *b, size_t n, bool one_byte) {
    size_t pos = 0;
    while (pos < n) {
        uint8_t first = b[pos];
        if (first == 0) {              /* RFC 8285 §4.1: padding between elements */
            pos++;
            continue;
        }
        uint8_t id;
        size_t len, hdr;
        if (one_byte) {
            id = first >> 4;
            if (id == 15) break;       /* RFC 8285 §4.2: reserved, stop parsing */
            len = (size_t)(first & 0x0f) + 1;
            hdr = 1;
        } else {
            if (n - pos < 2) return MXRTC_ERR_MALFORMED;
            id = first;
            len = b[pos + 1];
            hdr = 2;
        }
        if (n - pos - hdr < len) return MXRTC_ERR_MALFORMED;
        if (p->ext_count >= MXRTC_RTP_MAX_EXT) return MXRTC_ERR_LIMIT;
        mxrtc_rtp_ext *e = &p->ext[p->ext_count++];
        e->id = id;
        e->len = (uint8_t)len;
        e->data = b + pos + hdr;
        pos += hdr + len;
    }
    return MXRTC_OK;
}

int mxrtc_rtp_parse(mxrtc_rtp_packet *p, const uint8_t *data, size_t len) {
    if (!p || (!data && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (len < MXRTC_RTP_FIXED_HEADER_LEN) return MXRTC_ERR_TRUNCATED;
    uint8_t b0 = data[0], b1 = data[1];
    if ((b0 >> 6) != MXRTC_RTP_VERSION) return MXRTC_ERR_MALFORMED;
    bool has_pad = (b0 & 0x20) != 0;
    p->has_extension = (b0 & 0x10) != 0;
    p->csrc_count = b0 & 0x0f;
    p->marker = (b1 & 0x80) != 0;
    p->pt = b1 & 0x7f;
    p->seq = mxrtc_load_u16(data + 2);
    p->ts = mxrtc_load_u32(data + 4);
    p->ssrc = mxrtc_load_u32(data + 8);
    p->ext_profile = 0;
    p->ext_raw = NULL;
    p->ext_raw_len = 0;
    p->ext_count = 0;

    size_t pos = MXRTC_RTP_FIXED_HEADER_LEN;
    if (len - pos < 4u * p->csrc_count) return MXRTC_ERR_TRUNCATED;
    for (unsigned i = 0; i < p->csrc_count; i++, pos += 4)
        p->csrc[i] = mxrtc_load_u32(data + pos);

    if (p->has_extension) {
        if (len - pos < 4) return MXRTC_ERR_TRUNCATED;
        p->ext_profile = mxrtc_load_u16(data + pos);
        size_t words = mxrtc_load_u16(data + pos + 2);
        pos += 4;
        if (len - pos < words * 4) return MXRTC_ERR_TRUNCATED;
        p->ext_raw = data + pos;
        p->ext_raw_len = words * 4;
        pos += words * 4;
        int rc = MXRTC_OK;
        if (p->ext_profile == MXRTC_RTP_EXT_PROFILE_ONE_BYTE)
            rc = parse_ext_block(p, p->ext_raw, p->ext_raw_len, true);
        else if ((p->ext_profile & 0xfff0u) == MXRTC_RTP_EXT_PROFILE_TWO_BYTE)
            rc = parse_ext_block(p, p->ext_raw, p->ext_raw_len, false);
        if (rc != MXRTC_OK) return rc;
    }
    p->header_len = pos;

    p->padding_len = 0;
    if (has_pad) {
        /* RFC 3550 §5.1: the last octet counts the padding, itself included. */
        uint8_t pad = data[len - 1];
        if (pad == 0 || pad > len - pos) return MXRTC_ERR_MALFORMED;
        p->padding_len = pad;
    }
    p->payload = data + pos;
    p->payload_len = len - pos - p->padding_len;
    return MXRTC_OK;
}

/* Returns the extension block body size (without the 4-byte header, padded to
 * 32 bits), 0 for none, or an error; *one_byte tells the form. */
static int ext_body_size(const mxrtc_rtp_packet *p, bool *one_byte) {
    *one_byte = true;
    if (p->ext_count == 0) {
        if (p->has_extension && p->ext_raw) {
            if (p->ext_raw_len % 4 || p->ext_raw_len > 4u * 0xffff) return MXRTC_ERR_INVALID_ARGUMENT;
            return (int)p->ext_raw_len;
        }
        return 0;
    }
    if (p->ext_count > MXRTC_RTP_MAX_EXT) return MXRTC_ERR_INVALID_ARGUMENT;
    for (unsigned i = 0; i < p->ext_count; i++) {
        if (p->ext[i].id == 0) return MXRTC_ERR_INVALID_ARGUMENT;
        if (!fits_one_byte(&p->ext[i])) *one_byte = false;
    }
    size_t n = 0;
    for (unsigned i = 0; i < p->ext_count; i++)
        n += (*one_byte ? 1u : 2u) + p->ext[i].len;
    return (int)((n + 3) & ~(size_t)3);
}

int mxrtc_rtp_header_size(const mxrtc_rtp_packet *p) {
    if (!p || p->csrc_count > MXRTC_RTP_MAX_CSRC) return MXRTC_ERR_INVALID_ARGUMENT;
    bool one;
    int ext = ext_body_size(p, &one);
    if (ext < 0) return ext;
    bool has_ext = p->ext_count > 0 || (p->has_extension && p->ext_raw);
    return MXRTC_RTP_FIXED_HEADER_LEN + 4 * p->csrc_count + (has_ext ? 4 + ext : 0);
}

static int write_header(const mxrtc_rtp_packet *p, uint8_t *buf, size_t cap, bool pad) {
    if (!p || p->csrc_count > MXRTC_RTP_MAX_CSRC || p->pt > 127) return MXRTC_ERR_INVALID_ARGUMENT;
    bool one_byte;
    int ext = ext_body_size(p, &one_byte);
    if (ext < 0) return ext;
    bool raw = p->ext_count == 0 && p->has_extension && p->ext_raw;
    bool has_ext = p->ext_count > 0 || raw;
    mxrtc_writer w;
    mxrtc_writer_init(&w, buf, cap);
    mxrtc_write_u8(&w, (uint8_t)(MXRTC_RTP_VERSION << 6 | (pad ? 0x20 : 0) |
                                 (has_ext ? 0x10 : 0) | p->csrc_count));
    mxrtc_write_u8(&w, (uint8_t)((p->marker ? 0x80 : 0) | p->pt));
    mxrtc_write_u16(&w, p->seq);
    mxrtc_write_u32(&w, p->ts);
    mxrtc_write_u32(&w, p->ssrc);
    for (unsigned i = 0; i < p->csrc_count; i++) mxrtc_write_u32(&w, p->csrc[i]);
    if (raw) {
        mxrtc_write_u16(&w, p->ext_profile);
        mxrtc_write_u16(&w, (uint16_t)(p->ext_raw_len / 4));
        mxrtc_write_bytes(&w, p->ext_raw, p->ext_raw_len);
    } else if (has_ext) {
        if (ext / 4 > 0xffff) return MXRTC_ERR_INVALID_ARGUMENT;
        mxrtc_write_u16(&w, one_byte ? MXRTC_RTP_EXT_PROFILE_ONE_BYTE : MXRTC_RTP_EXT_PROFILE_TWO_BYTE);
        mxrtc_write_u16(&w, (uint16_t)(ext / 4));
        size_t start = w.pos;
        for (unsigned i = 0; i < p->ext_count; i++) {
            const mxrtc_rtp_ext *e = &p->ext[i];
            if (one_byte) {
                mxrtc_write_u8(&w, (uint8_t)(e->id << 4 | (e->len - 1)));
            } else {
                mxrtc_write_u8(&w, e->id);
                mxrtc_write_u8(&w, e->len);
            }
            mxrtc_write_bytes(&w, e->data, e->len);
        }
        mxrtc_write_zeros(&w, (size_t)ext - (w.error ? 0 : w.pos - start));
    }
    if (w.error) return MXRTC_ERR_BUFFER_TOO_SMALL;
    return (int)w.pos;
}

int mxrtc_rtp_write_header(const mxrtc_rtp_packet *p, uint8_t *buf, size_t cap) {
    return write_header(p, buf, cap, false);
}

int mxrtc_rtp_write(const mxrtc_rtp_packet *p, uint8_t *buf, size_t cap) {
    if (!p || (!p->payload && p->payload_len)) return MXRTC_ERR_INVALID_ARGUMENT;
    int h = write_header(p, buf, cap, p->padding_len > 0);
    if (h < 0) return h;
    size_t total = (size_t)h + p->payload_len + p->padding_len;
    if (total > cap || total > INT32_MAX) return MXRTC_ERR_BUFFER_TOO_SMALL;
    if (p->payload_len) memcpy(buf + h, p->payload, p->payload_len);
    if (p->padding_len) {
        memset(buf + h + p->payload_len, 0, p->padding_len - 1u);
        buf[total - 1] = p->padding_len;
    }
    return (int)total;
}

int mxrtc_rtp_add_ext(mxrtc_rtp_packet *p, uint8_t id, const uint8_t *data, uint8_t len) {
    if (!p || id == 0 || (!data && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (p->ext_count >= MXRTC_RTP_MAX_EXT) return MXRTC_ERR_LIMIT;
    mxrtc_rtp_ext *e = &p->ext[p->ext_count++];
    e->id = id;
    e->len = len;
    e->data = data;
    p->has_extension = true;
    return MXRTC_OK;
}

const mxrtc_rtp_ext *mxrtc_rtp_find_ext(const mxrtc_rtp_packet *p, uint8_t id) {
    if (!p || id == 0) return NULL;
    for (unsigned i = 0; i < p->ext_count; i++)
        if (p->ext[i].id == id) return &p->ext[i];
    return NULL;
}

bool mxrtc_rtp_is_rtcp(const uint8_t *data, size_t len) {
    if (!data || len < 2) return false;
    /* RFC 5761 §4: RTCP packet types 192..223 appear as marker + PT 64..95. */
    uint8_t pt = data[1] & 0x7f;
    return pt >= 64 && pt <= 95;
}
