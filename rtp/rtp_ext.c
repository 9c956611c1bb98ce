/*
 * rtp_ext.c: typed access to the RTP header extensions WebRTC negotiates.
 * Their ids come from SDP (RFC 8285 §5 a=extmap), so callers pass the map.
 */
#include "rtp/rtp.h"

static const mxrtc_rtp_ext *find(const mxrtc_rtp_packet *p, uint8_t id) {
    return id ? mxrtc_rtp_find_ext(p, id) : NULL;
}

int mxrtc_rtp_get_mid(const mxrtc_rtp_packet *p, const mxrtc_rtp_ext_map *m,
                      char *out, size_t cap) {
    if (!p || !m || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    const mxrtc_rtp_ext *e = find(p, m->mid);
    if (!e) return MXRTC_ERR_NOT_FOUND;
    /* RFC 8843 §15: the MID is an RFC 7941 SDES item value; the one-byte
     * form cannot carry an empty one, and an empty MID identifies nothing. */
    if (e->len == 0) return MXRTC_ERR_MALFORMED;
    if (cap <= e->len) return MXRTC_ERR_BUFFER_TOO_SMALL;
    memcpy(out, e->data, e->len);
    out[e->len] = '\0';
    return MXRTC_OK;
}

int mxrtc_rtp_get_audio_level(const mxrtc_rtp_packet *p, const mxrtc_rtp_ext_map *m,
                              bool *voice, uint8_t *level) {
    if (!p || !m || !voice || !level) return MXRTC_ERR_INVALID_ARGUMENT;
    const mxrtc_rtp_ext *e = find(p, m->audio_level);
    if (!e) return MXRTC_ERR_NOT_FOUND;
    /* RFC 6464 §3: one byte (V flag, 7-bit level); the two-byte form may
     * carry it padded, so accept 1..4 bytes and read the first. */
    if (e->len < 1 || e->len > 4) return MXRTC_ERR_MALFORMED;
    *voice = (e->data[0] & 0x80) != 0;
    *level = e->data[0] & 0x7f;
    return MXRTC_OK;
}

int mxrtc_rtp_get_abs_send_time(const mxrtc_rtp_packet *p, const mxrtc_rtp_ext_map *m,
                                uint32_t *value) {
    if (!p || !m || !value) return MXRTC_ERR_INVALID_ARGUMENT;
    const mxrtc_rtp_ext *e = find(p, m->abs_send_time);
    if (!e) return MXRTC_ERR_NOT_FOUND;
    if (e->len != 3) return MXRTC_ERR_MALFORMED;
    *value = ((uint32_t)e->data[0] << 16) | ((uint32_t)e->data[1] << 8) | e->data[2];
    return MXRTC_OK;
}

int mxrtc_rtp_get_twcc_seq(const mxrtc_rtp_packet *p, const mxrtc_rtp_ext_map *m,
                           uint16_t *seq) {
    if (!p || !m || !seq) return MXRTC_ERR_INVALID_ARGUMENT;
    const mxrtc_rtp_ext *e = find(p, m->twcc);
    if (!e) return MXRTC_ERR_NOT_FOUND;
    if (e->len != 2) return MXRTC_ERR_MALFORMED;
    *seq = mxrtc_load_u16(e->data);
    return MXRTC_OK;
}

void mxrtc_rtp_audio_level_encode(uint8_t out[1], bool voice, uint8_t level) {
    out[0] = (uint8_t)((voice ? 0x80 : 0) | (level > 127 ? 127 : level));
}

void mxrtc_rtp_abs_send_time_encode(uint8_t out[3], uint32_t value) {
    out[0] = (uint8_t)(value >> 16);
    out[1] = (uint8_t)(value >> 8);
    out[2] = (uint8_t)value;
}

void mxrtc_rtp_twcc_seq_encode(uint8_t out[2], uint16_t seq) {
    mxrtc_store_u16(out, seq);
}

uint32_t mxrtc_rtp_abs_send_time_from_us(uint64_t us) {
    /* 6 bits of seconds, 18 of fraction: (us * 2^18 / 10^6) mod 2^24. Reduce
     * modulo 64 s first so the product cannot overflow. */
    uint64_t r = us % 64000000u;
    return (uint32_t)(((r << 18) + 500000u) / 1000000u) & 0xffffffu;
}
