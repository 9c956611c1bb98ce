/*
 * rtp.h: the face of the rtp/ module (RTP/RTCP wire layer, packetizers and
 * per-stream report bookkeeping).
 *
 * Nothing here allocates: parsers fill caller structs whose pointers borrow
 * the input buffer (valid as long as the caller keeps that buffer), builders
 * write into a caller's buffer or mxrtc_writer. Every count the network
 * controls is bounded by a constant below or by a caller-supplied capacity,
 * and exceeding it is MXRTC_ERR_LIMIT. Time comes in as mxrtc_time_us.
 */
#ifndef MXRTC_RTP_RTP_H
#define MXRTC_RTP_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"
#include "base/bytes.h"

/* ======================================================================
 * RTP header (RFC 3550 §5.1) and header extensions (RFC 8285)
 * ==================================================================== */

#define MXRTC_RTP_VERSION 2
#define MXRTC_RTP_FIXED_HEADER_LEN 12
#define MXRTC_RTP_MAX_CSRC 15          /* RFC 3550 §5.1: 4-bit CC field */
#define MXRTC_RTP_MAX_EXT 16           /* elements parsed per packet */
#define MXRTC_RTP_EXT_PROFILE_ONE_BYTE 0xBEDEu   /* RFC 8285 §4.2 */
#define MXRTC_RTP_EXT_PROFILE_TWO_BYTE 0x1000u   /* RFC 8285 §4.3: 0x100 + 4-bit appbits */

/* One header extension element; data borrows the packet (or, when building,
 * the caller's storage). */
typedef struct mxrtc_rtp_ext {
    uint8_t id;
    uint8_t len;
    const uint8_t *data;
} mxrtc_rtp_ext;

typedef struct mxrtc_rtp_packet {
    bool marker;
    uint8_t pt;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    uint8_t csrc_count;
    uint32_t csrc[MXRTC_RTP_MAX_CSRC];
    /* Extension block: has_extension with profile 0xBEDE or 0x100X gives the
     * parsed elements ext[0..ext_count); any other profile is kept raw. */
    bool has_extension;
    uint16_t ext_profile;
    const uint8_t *ext_raw;     /* the block after its 4-byte header */
    size_t ext_raw_len;
    uint8_t ext_count;
    mxrtc_rtp_ext ext[MXRTC_RTP_MAX_EXT];
    const uint8_t *payload;     /* borrowed; excludes padding */
    size_t payload_len;
    uint8_t padding_len;        /* RFC 3550 §5.1 P bit: bytes incl. the count */
    size_t header_len;          /* fixed + CSRC + extension block */
} mxrtc_rtp_packet;

/* Parses an RTP packet. Pointers in *p borrow data.
 * MXRTC_ERR_TRUNCATED: shorter than the header, CSRC list or extension block
 * it declares. MXRTC_ERR_MALFORMED: version is not 2, a padding count of 0 or
 * longer than the packet, an extension element running past its block.
 * MXRTC_ERR_LIMIT: more than MXRTC_RTP_MAX_EXT extension elements. */
int mxrtc_rtp_parse(mxrtc_rtp_packet *p, const uint8_t *data, size_t len);

/* Size of the header mxrtc_rtp_write_header would write for *p (with the
 * one- or two-byte extension form it picks), or a negative error. */
int mxrtc_rtp_header_size(const mxrtc_rtp_packet *p);

/* Writes the header of *p (fixed part, CSRCs, extensions from ext[]; the
 * one-byte form when every id is 1..14 and every length 1..16, else the
 * two-byte form; with no elements but has_extension and ext_raw set, the raw
 * block under ext_profile) into buf. Returns the header length,
 * MXRTC_ERR_BUFFER_TOO_SMALL, or MXRTC_ERR_INVALID_ARGUMENT (an element id 0,
 * csrc_count > 15, pt > 127, a raw block not a multiple of 4 bytes). */
int mxrtc_rtp_write_header(const mxrtc_rtp_packet *p, uint8_t *buf, size_t cap);

/* Writes the whole packet: header, p->payload, and p->padding_len bytes of
 * padding (P bit set; 0 for none). Returns the total length or an error as
 * mxrtc_rtp_write_header. */
int mxrtc_rtp_write(const mxrtc_rtp_packet *p, uint8_t *buf, size_t cap);

/* Appends an extension element to p (data borrowed until written). An id
 * above 14, or a length of 0 or above 16, makes the writer use the two-byte
 * form (RFC 8285 §4.3). MXRTC_ERR_LIMIT when ext[] is full,
 * MXRTC_ERR_INVALID_ARGUMENT for id 0 (padding). */
int mxrtc_rtp_add_ext(mxrtc_rtp_packet *p, uint8_t id, const uint8_t *data, uint8_t len);

/* The element with this id, or NULL (also for id 0). */
const mxrtc_rtp_ext *mxrtc_rtp_find_ext(const mxrtc_rtp_packet *p, uint8_t id);

/* RFC 5761 §4 demultiplexing under rtcp-mux: true if the second byte, marker
 * bit masked off, is in 64..95 (RTCP packet types 192..223). Needs len >= 2. */
bool mxrtc_rtp_is_rtcp(const uint8_t *data, size_t len);

/* ---- typed extensions (ids come from SDP a=extmap; 0 = not negotiated) --- */

typedef struct mxrtc_rtp_ext_map {
    uint8_t mid;            /* urn:ietf:params:rtp-hdrext:sdes:mid (RFC 8843 §15) */
    uint8_t audio_level;    /* urn:ietf:params:rtp-hdrext:ssrc-audio-level (RFC 6464) */
    uint8_t abs_send_time;  /* http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time */
    uint8_t twcc;           /* ...draft-holmer-rmcat-transport-wide-cc-extensions-01 */
} mxrtc_rtp_ext_map;

#define MXRTC_RTP_MID_MAX 255

/* Copies the MID into out (NUL-terminated). MXRTC_ERR_NOT_FOUND if not
 * negotiated or absent, MXRTC_ERR_MALFORMED for an empty value,
 * MXRTC_ERR_BUFFER_TOO_SMALL if cap <= its length. */
int mxrtc_rtp_get_mid(const mxrtc_rtp_packet *p, const mxrtc_rtp_ext_map *m,
                      char *out, size_t cap);
/* RFC 6464 §3: V flag (voice activity) and level in -dBov (0..127).
 * MXRTC_ERR_NOT_FOUND, or MXRTC_ERR_MALFORMED for a length outside 1..4
 * (the value is one byte; senders may pad it, so the first byte is read). */
int mxrtc_rtp_get_audio_level(const mxrtc_rtp_packet *p, const mxrtc_rtp_ext_map *m,
                              bool *voice, uint8_t *level);
/* abs-send-time: 24-bit 6.18 fixed-point seconds. MXRTC_ERR_NOT_FOUND or
 * MXRTC_ERR_MALFORMED (length not 3). */
int mxrtc_rtp_get_abs_send_time(const mxrtc_rtp_packet *p, const mxrtc_rtp_ext_map *m,
                                uint32_t *value);
/* transport-wide sequence number (16 bits). MXRTC_ERR_NOT_FOUND or
 * MXRTC_ERR_MALFORMED (length not 2). */
int mxrtc_rtp_get_twcc_seq(const mxrtc_rtp_packet *p, const mxrtc_rtp_ext_map *m,
                           uint16_t *seq);

/* Encoders for the element payloads (out is the caller's storage, which
 * must outlive the mxrtc_rtp_add_ext borrow). */
void mxrtc_rtp_audio_level_encode(uint8_t out[1], bool voice, uint8_t level);
void mxrtc_rtp_abs_send_time_encode(uint8_t out[3], uint32_t value);
void mxrtc_rtp_twcc_seq_encode(uint8_t out[2], uint16_t seq);
/* abs-send-time value (6.18 fixed point, wrapping every 64 s) for a time in
 * microseconds on any clock. */
uint32_t mxrtc_rtp_abs_send_time_from_us(uint64_t us);

/* ======================================================================
 * RTCP (RFC 3550 §6, RFC 4585, RFC 5104, RFC 5506)
 * ==================================================================== */

enum {
    MXRTC_RTCP_SR = 200,
    MXRTC_RTCP_RR = 201,
    MXRTC_RTCP_SDES = 202,
    MXRTC_RTCP_BYE = 203,
    MXRTC_RTCP_APP = 204,
    MXRTC_RTCP_RTPFB = 205,   /* RFC 4585 §6.2 */
    MXRTC_RTCP_PSFB = 206     /* RFC 4585 §6.3 */
};
enum {
    MXRTC_RTCP_FMT_NACK = 1,  /* RTPFB, RFC 4585 §6.2.1 */
    MXRTC_RTCP_FMT_TWCC = 15, /* RTPFB, draft-holmer-...-01 §3.1 */
    MXRTC_RTCP_FMT_PLI = 1,   /* PSFB, RFC 4585 §6.3.1 */
    MXRTC_RTCP_FMT_FIR = 4,   /* PSFB, RFC 5104 §4.3.1 */
    MXRTC_RTCP_FMT_AFB = 15   /* PSFB application layer feedback (REMB) */
};

#define MXRTC_RTCP_MAX_RB 31   /* RFC 3550 §6.4: 5-bit RC */

/* One RTCP packet of a compound, as the iterator found it. */
typedef struct mxrtc_rtcp_header {
    uint8_t count;            /* RC / SC / FMT field */
    uint8_t pt;
    bool padding;
    const uint8_t *body;      /* after the 4-byte header, padding excluded */
    size_t body_len;
    const uint8_t *raw;       /* the whole packet incl. header */
    size_t raw_len;
} mxrtc_rtcp_header;

typedef struct mxrtc_rtcp_iter {
    mxrtc_reader r;
    int err;                  /* sticky: the error that ended the iteration */
} mxrtc_rtcp_iter;

/* Starts iterating a compound (or RFC 5506 reduced-size) packet. */
void mxrtc_rtcp_iter_init(mxrtc_rtcp_iter *it, const uint8_t *data, size_t len);
/* 1 and *h set for the next packet, 0 at the end, or an error that ends the
 * iteration: MXRTC_ERR_TRUNCATED (less than a header, or a length field past
 * the end), MXRTC_ERR_MALFORMED (version not 2, a padding count of 0 or
 * larger than the packet). Each packet is bounded by its own length field. */
int mxrtc_rtcp_next(mxrtc_rtcp_iter *it, mxrtc_rtcp_header *h);

typedef struct mxrtc_rtcp_report_block {
    uint32_t ssrc;
    uint8_t fraction_lost;     /* 8-bit fixed point, RFC 3550 §6.4.1 */
    int32_t cumulative_lost;   /* 24-bit signed */
    uint32_t ext_highest_seq;
    uint32_t jitter;           /* RTP timestamp units */
    uint32_t lsr;              /* middle 32 bits of the last SR's NTP time */
    uint32_t dlsr;             /* 1/65536 s */
} mxrtc_rtcp_report_block;

typedef struct mxrtc_rtcp_sr {
    uint32_t ssrc;
    uint64_t ntp;              /* 32.32 fixed point */
    uint32_t rtp_ts;
    uint32_t packet_count;
    uint32_t octet_count;
    uint8_t rb_count;
    mxrtc_rtcp_report_block rb[MXRTC_RTCP_MAX_RB];
} mxrtc_rtcp_sr;

typedef struct mxrtc_rtcp_rr {
    uint32_t ssrc;
    uint8_t rb_count;
    mxrtc_rtcp_report_block rb[MXRTC_RTCP_MAX_RB];
} mxrtc_rtcp_rr;

/* SR and RR bodies (profile-specific extensions after the blocks are
 * ignored, RFC 3550 §6.4.1). MXRTC_ERR_TRUNCATED if the body is shorter than
 * RC blocks, MXRTC_ERR_INVALID_ARGUMENT if h is not that type. */
int mxrtc_rtcp_parse_sr(const mxrtc_rtcp_header *h, mxrtc_rtcp_sr *out);
int mxrtc_rtcp_parse_rr(const mxrtc_rtcp_header *h, mxrtc_rtcp_rr *out);

#define MXRTC_RTCP_MAX_SDES_CHUNKS 31

typedef struct mxrtc_rtcp_sdes {
    uint8_t chunk_count;
    struct {
        uint32_t ssrc;
        const uint8_t *cname;  /* borrowed, not NUL-terminated; NULL if absent */
        uint8_t cname_len;
    } chunk[MXRTC_RTCP_MAX_SDES_CHUNKS];
} mxrtc_rtcp_sdes;

/* RFC 3550 §6.5: chunks of (SSRC, items, END, pad to 32 bits); CNAME (1) is
 * kept, other items are skipped by their length. MXRTC_ERR_TRUNCATED when an
 * item, its END or one of the SC chunks runs past the body. */
int mxrtc_rtcp_parse_sdes(const mxrtc_rtcp_header *h, mxrtc_rtcp_sdes *out);

typedef struct mxrtc_rtcp_bye {
    uint8_t ssrc_count;
    uint32_t ssrc[31];
    const uint8_t *reason;     /* borrowed, NULL if none */
    uint8_t reason_len;
} mxrtc_rtcp_bye;

/* RFC 3550 §6.6. MXRTC_ERR_TRUNCATED for fewer SSRCs than SC or a reason
 * longer than the body. */
int mxrtc_rtcp_parse_bye(const mxrtc_rtcp_header *h, mxrtc_rtcp_bye *out);

/* Generic NACK (RFC 4585 §6.2.1): FCI items are read in place. */
typedef struct mxrtc_rtcp_nack {
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
    const uint8_t *fci;        /* item_count items of PID(16) + BLP(16) */
    size_t item_count;
} mxrtc_rtcp_nack;

/* MXRTC_ERR_TRUNCATED under 8 bytes, MXRTC_ERR_MALFORMED if the FCI is not a
 * whole number of items or empty. */
int mxrtc_rtcp_parse_nack(const mxrtc_rtcp_header *h, mxrtc_rtcp_nack *out);
/* Expands every item to the sequence numbers it asks for (PID, then one per
 * BLP bit, RFC 4585 §6.2.1) into seqs. MXRTC_ERR_LIMIT if more than cap
 * (the first cap are written and *count is cap). */
int mxrtc_rtcp_nack_expand(const mxrtc_rtcp_nack *n, uint16_t *seqs, size_t cap,
                           size_t *count);

typedef struct mxrtc_rtcp_pli {
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
} mxrtc_rtcp_pli;
/* RFC 4585 §6.3.1: no FCI. MXRTC_ERR_TRUNCATED under 8 bytes. */
int mxrtc_rtcp_parse_pli(const mxrtc_rtcp_header *h, mxrtc_rtcp_pli *out);

typedef struct mxrtc_rtcp_fir {
    uint32_t sender_ssrc;
    const uint8_t *fci;        /* entry_count entries of SSRC + seq nr + 3 reserved */
    size_t entry_count;
} mxrtc_rtcp_fir;
/* RFC 5104 §4.3.1. MXRTC_ERR_TRUNCATED, MXRTC_ERR_MALFORMED (FCI not a
 * whole number of 8-byte entries, or empty). */
int mxrtc_rtcp_parse_fir(const mxrtc_rtcp_header *h, mxrtc_rtcp_fir *out);
/* Entry i (< entry_count) of a parsed FIR. */
void mxrtc_rtcp_fir_entry(const mxrtc_rtcp_fir *f, size_t i, uint32_t *ssrc, uint8_t *seq_nr);

#define MXRTC_RTCP_REMB_MAX_SSRC 16
typedef struct mxrtc_rtcp_remb {
    uint32_t sender_ssrc;
    uint64_t bitrate_bps;      /* mantissa << exponent */
    uint8_t ssrc_count;
    uint32_t ssrc[MXRTC_RTCP_REMB_MAX_SSRC];
} mxrtc_rtcp_remb;
/* draft-alvestrand-rmcat-remb-03 §2.2. MXRTC_ERR_NOT_FOUND if the AFB packet
 * is not REMB (no "REMB" identifier), MXRTC_ERR_TRUNCATED for fewer SSRCs than
 * declared, MXRTC_ERR_LIMIT above MXRTC_RTCP_REMB_MAX_SSRC. */
int mxrtc_rtcp_parse_remb(const mxrtc_rtcp_header *h, mxrtc_rtcp_remb *out);

/* ---- builders: each appends one RTCP packet to w. They return MXRTC_OK,
 * MXRTC_ERR_BUFFER_TOO_SMALL (w's sticky error set) or
 * MXRTC_ERR_INVALID_ARGUMENT. ------------------------------------------ */

int mxrtc_rtcp_write_sr(mxrtc_writer *w, const mxrtc_rtcp_sr *sr);
int mxrtc_rtcp_write_rr(mxrtc_writer *w, const mxrtc_rtcp_rr *rr);
/* One chunk with a CNAME item (RFC 3550 §6.5.1; 1..255 bytes). */
int mxrtc_rtcp_write_sdes_cname(mxrtc_writer *w, uint32_t ssrc, const char *cname,
                                size_t cname_len);
/* reason may be NULL; at most 255 bytes. ssrc_count 1..31. */
int mxrtc_rtcp_write_bye(mxrtc_writer *w, const uint32_t *ssrcs, size_t ssrc_count,
                         const char *reason, size_t reason_len);
/* Builds NACK items from seqs (in increasing order modulo 2^16; a seq within
 * 16 after the current PID joins its BLP, duplicates are dropped). count >= 1. */
int mxrtc_rtcp_write_nack(mxrtc_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc,
                          const uint16_t *seqs, size_t count);
int mxrtc_rtcp_write_pli(mxrtc_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc);
/* One FIR entry for media_ssrc with command sequence number seq_nr. */
int mxrtc_rtcp_write_fir(mxrtc_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc,
                         uint8_t seq_nr);
/* ssrc_count 0..MXRTC_RTCP_REMB_MAX_SSRC; bitrate up to 2^18-1 << 63. */
int mxrtc_rtcp_write_remb(mxrtc_writer *w, const mxrtc_rtcp_remb *remb);

/* ---- transport-wide congestion control feedback -------------------------- */

/* Status symbols (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.1). */
enum {
    MXRTC_TWCC_NOT_RECEIVED = 0,
    MXRTC_TWCC_SMALL_DELTA = 1,   /* 1-byte unsigned delta, 250 us units */
    MXRTC_TWCC_LARGE_DELTA = 2    /* 2-byte signed delta */
};
#define MXRTC_TWCC_DELTA_US 250       /* §3.1.5: delta tick */
#define MXRTC_TWCC_REFTIME_US 64000   /* §3.1: reference time tick */

typedef struct mxrtc_twcc_packet {
    uint16_t seq;
    uint8_t status;            /* MXRTC_TWCC_* */
    int32_t delta_us;          /* delta to the previous received packet (or to
                                * the reference time for the first); 0 if lost */
    int64_t arrival_us;        /* reference time + all deltas so far; 0 if lost */
} mxrtc_twcc_packet;

typedef struct mxrtc_twcc_feedback {
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
    uint16_t base_seq;
    uint16_t status_count;
    int32_t reference_time;    /* 24-bit signed, 64 ms units */
    uint8_t fb_pkt_count;
    mxrtc_twcc_packet *packets;  /* caller's array of packet_cap entries */
    size_t packet_cap;
    size_t packet_count;       /* = status_count on success */
} mxrtc_twcc_feedback;

/* Parses a TWCC feedback into out (out->packets and out->packet_cap set by the
 * caller). MXRTC_ERR_TRUNCATED when chunks or deltas run past the body,
 * MXRTC_ERR_MALFORMED for a reserved symbol (3), a status count of 0 or a run
 * with length 0, MXRTC_ERR_LIMIT if status_count > packet_cap. */
int mxrtc_rtcp_parse_twcc(const mxrtc_rtcp_header *h, mxrtc_twcc_feedback *out);

/* Builds a feedback packet for packets base_seq .. base_seq+count-1, whose
 * arrival times (microseconds, any monotonic clock whose 64 ms multiples are
 * the reference) are arrival_us[i], or a negative value for "not received".
 * The first received packet sets the reference time. count 1..65535, at least
 * one packet received. MXRTC_ERR_LIMIT if a delta does not fit in 16 bits of
 * 250 us (the caller then splits the feedback there). */
int mxrtc_rtcp_write_twcc(mxrtc_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc,
                          uint16_t base_seq, uint8_t fb_pkt_count,
                          const int64_t *arrival_us, size_t count);

/* Receive side of TWCC: the arrival time of every transport-wide sequence
 * number since the last feedback, in a bounded window, turned into feedback
 * packets when the caller's timer says so (typically every 50-100 ms). */
#define MXRTC_TWCC_HISTORY 4096

typedef struct mxrtc_twcc_recorder {
    bool started;
    int64_t next;                 /* unwrapped seq of the first one not reported */
    int64_t max;                  /* highest unwrapped seq received */
    uint8_t fb_count;             /* §3.1: feedback packet count, wraps */
    uint64_t dropped;             /* left the window before being reported */
    int64_t arrival[MXRTC_TWCC_HISTORY];   /* by seq modulo the window; -1 = not received */
} mxrtc_twcc_recorder;

void mxrtc_twcc_recorder_init(mxrtc_twcc_recorder *r);
/* Records a packet's transport-wide seq (from the header extension) and
 * arrival. MXRTC_ERR_AGAIN if its seq was already reported (too late),
 * MXRTC_ERR_INVALID_ARGUMENT for an arrival above INT64_MAX. */
int mxrtc_twcc_recorder_on_packet(mxrtc_twcc_recorder *r, uint16_t seq, mxrtc_time_us arrival);
/* Appends one feedback packet for the unreported range (at most max_packets
 * of it, more only to reach a received packet; split earlier where a delta
 * would not fit) to w. MXRTC_OK, MXRTC_ERR_AGAIN if nothing is pending, or
 * MXRTC_ERR_BUFFER_TOO_SMALL (nothing consumed; w's sticky error set). Call again while it
 * returns MXRTC_OK to drain everything. */
int mxrtc_twcc_recorder_write(mxrtc_twcc_recorder *r, mxrtc_writer *w, uint32_t sender_ssrc,
                              uint32_t media_ssrc, size_t max_packets);

/* ======================================================================
 * Packetizers
 * ==================================================================== */

#define MXRTC_RTP_DEFAULT_MTU 1200
#define MXRTC_OPUS_CLOCK_RATE 48000   /* RFC 7587 §4.1 */
#define MXRTC_VP8_CLOCK_RATE 90000    /* RFC 7741 §4.1 */

/* Number of 48 kHz samples in an Opus packet from its TOC and framing
 * (RFC 6716 §3.1-3.2, validated as in §3.4 R1-R7 where it can be without
 * decoding), or MXRTC_ERR_MALFORMED / MXRTC_ERR_TRUNCATED. */
int mxrtc_opus_packet_samples(const uint8_t *data, size_t len);

/* RFC 7587 §4.2: one Opus packet per RTP payload. Copies frame into buf after
 * writing hdr's header (hdr->payload ignored). Returns the RTP packet length,
 * MXRTC_ERR_LIMIT if it would exceed mtu, MXRTC_ERR_MALFORMED for a frame
 * that is not an Opus packet, MXRTC_ERR_BUFFER_TOO_SMALL. */
int mxrtc_opus_packetize(const mxrtc_rtp_packet *hdr, const uint8_t *frame, size_t frame_len,
                         size_t mtu, uint8_t *buf, size_t cap);

typedef struct mxrtc_opus_payload {
    const uint8_t *data;       /* the Opus packet, borrowed */
    size_t len;
    int samples;               /* 48 kHz samples it holds */
} mxrtc_opus_payload;
/* Validates an RTP payload as an Opus packet. Errors as
 * mxrtc_opus_packet_samples (an empty payload is MXRTC_ERR_TRUNCATED). */
int mxrtc_opus_depacketize(const uint8_t *payload, size_t len, mxrtc_opus_payload *out);

/* ---- VP8 (RFC 7741) ---- */

typedef struct mxrtc_vp8_descriptor {
    bool non_reference;        /* N */
    bool start;                /* S */
    uint8_t partition;         /* PID, 0..7 */
    bool has_picture_id;
    bool picture_id_15bit;
    uint16_t picture_id;
    bool has_tl0picidx;
    uint8_t tl0picidx;
    bool has_tid;
    uint8_t tid;
    bool layer_sync;           /* Y */
    bool has_keyidx;
    uint8_t keyidx;
    size_t descriptor_len;
    bool keyframe;             /* start of partition 0 and P bit clear (§4.3) */
    const uint8_t *payload;    /* after the descriptor, borrowed */
    size_t payload_len;
} mxrtc_vp8_descriptor;

/* RFC 7741 §4.2. MXRTC_ERR_TRUNCATED if the descriptor runs past the payload
 * or no VP8 bytes follow it. keyframe comes from the P bit of the first byte
 * of the VP8 payload header (§4.3); the assembler checks the rest of it. */
int mxrtc_vp8_parse_descriptor(const uint8_t *payload, size_t len, mxrtc_vp8_descriptor *d);

typedef struct mxrtc_vp8_packetizer {
    const uint8_t *frame;
    size_t frame_len;
    size_t offset;
    size_t max_fragment;       /* per packet, balanced */
    size_t packets_left;
    uint16_t picture_id;       /* 15 bits */
    bool non_reference;
} mxrtc_vp8_packetizer;

#define MXRTC_VP8_DESCRIPTOR_LEN 4   /* X, I, 15-bit picture id as we send it */

/* Prepares to split frame (borrowed until the last packet is taken) into
 * payloads of at most max_payload bytes each (the MTU minus the RTP header),
 * in balanced sizes. MXRTC_ERR_INVALID_ARGUMENT for an empty frame or a
 * max_payload that leaves no room after the descriptor. */
int mxrtc_vp8_packetizer_init(mxrtc_vp8_packetizer *pk, const uint8_t *frame, size_t frame_len,
                              size_t max_payload, uint16_t picture_id, bool non_reference);
/* Writes the next payload (descriptor + fragment) into buf. Returns its
 * length, sets *last on the final one (the caller sets the RTP marker), or
 * MXRTC_ERR_AGAIN when none are left, MXRTC_ERR_BUFFER_TOO_SMALL. */
int mxrtc_vp8_packetizer_next(mxrtc_vp8_packetizer *pk, uint8_t *buf, size_t cap, bool *last);

/* Collects a video frame (VP8 or VP9) from consecutive RTP packets into a
 * caller buffer. Packets must come in sequence order (the jitter buffer
 * orders them); a gap in sequence numbers makes the frame incomplete; a
 * duplicate or older packet is ignored (MXRTC_ERR_AGAIN). The RTP marker
 * ends a frame. */
typedef struct mxrtc_frame_assembler {
    uint8_t *buf;
    size_t cap;
    size_t len;
    bool active;               /* collecting a frame */
    bool skipping;             /* discarding the rest of frame skip_ts */
    uint32_t skip_ts;
    bool have_last_seq;
    uint16_t last_seq;
    uint32_t ts;
    bool keyframe;
    bool has_picture_id;
    uint16_t picture_id;
    uint64_t frames_complete;
    uint64_t frames_incomplete;
} mxrtc_frame_assembler;

typedef struct mxrtc_video_frame {
    const uint8_t *data;       /* into the assembler's buffer, valid until the next push */
    size_t len;
    uint32_t ts;
    bool keyframe;
    bool has_picture_id;
    uint16_t picture_id;
    bool lost_frame;           /* set when this push abandoned an incomplete frame */
} mxrtc_video_frame;

/* What a codec's depacketizer says about one packet. */
typedef struct mxrtc_frame_part {
    bool first;                /* starts a frame (VP8: S and PID 0; VP9: B, SID 0) */
    bool keyframe;
    bool has_picture_id;
    uint16_t picture_id;
    const uint8_t *payload;    /* codec bytes after the descriptor */
    size_t len;
} mxrtc_frame_part;

void mxrtc_frame_assembler_init(mxrtc_frame_assembler *a, uint8_t *buf, size_t cap);
/* Codec-independent step, for the wrappers below. Returns as they do. */
int mxrtc_frame_assembler_push(mxrtc_frame_assembler *a, const mxrtc_rtp_packet *pkt,
                               const mxrtc_frame_part *part, mxrtc_video_frame *out);
/* Feeds one VP8 RTP packet. Returns MXRTC_OK with *out filled when it
 * completed a frame (marker bit, no gap); MXRTC_ERR_AGAIN when more packets
 * are needed; MXRTC_ERR_LIMIT when the frame outgrew the buffer (it is
 * dropped); MXRTC_ERR_MALFORMED when a completed key frame lacks the RFC 6386
 * §9.1 start code (dropped); a descriptor error (packet ignored, counts as
 * lost). out->lost_frame tells whether an incomplete frame was abandoned
 * during this call (a gap, or a new timestamp before the marker). */
int mxrtc_vp8_assembler_push(mxrtc_frame_assembler *a, const mxrtc_rtp_packet *pkt,
                             mxrtc_video_frame *out);

/* ---- VP9 (RFC 9628) ---- */

#define MXRTC_VP9_CLOCK_RATE 90000    /* RFC 9628 §4.1 */
#define MXRTC_VP9_MAX_SPATIAL 8       /* §4.2.1: N_S is 3 bits */

typedef struct mxrtc_vp9_descriptor {
    bool has_picture_id;       /* I */
    bool picture_id_15bit;     /* M */
    uint16_t picture_id;
    bool inter_predicted;      /* P */
    bool has_layers;           /* L */
    bool flexible;             /* F */
    bool start;                /* B: start of a layer frame */
    bool end;                  /* E: end of a layer frame */
    bool has_ss;               /* V: scalability structure follows */
    bool not_upper_ref;        /* Z */
    uint8_t tid;
    bool switching_up;         /* U */
    uint8_t sid;
    bool inter_layer;          /* D */
    bool has_tl0picidx;        /* non-flexible mode with L */
    uint8_t tl0picidx;
    uint8_t p_diff_count;      /* flexible mode with P: 1..3 reference diffs */
    uint8_t p_diff[3];
    /* scalability structure (§4.2.1) */
    uint8_t ss_spatial_layers; /* N_S + 1 */
    bool ss_has_resolution;    /* Y */
    uint16_t ss_width[MXRTC_VP9_MAX_SPATIAL];
    uint16_t ss_height[MXRTC_VP9_MAX_SPATIAL];
    uint8_t ss_groups;         /* N_G (entries parsed and skipped) */
    bool keyframe;             /* B, not P, base spatial layer */
    size_t descriptor_len;
    const uint8_t *payload;
    size_t payload_len;
} mxrtc_vp9_descriptor;

/* RFC 9628 §4.2. MXRTC_ERR_TRUNCATED if the descriptor (with its SS) runs
 * past the payload or no VP9 bytes follow it; MXRTC_ERR_MALFORMED for a
 * fourth P_DIFF (N set on the third) or flexible mode without a picture id
 * (§4.2: I MUST be 1 there). */
int mxrtc_vp9_parse_descriptor(const uint8_t *payload, size_t len, mxrtc_vp9_descriptor *d);

typedef struct mxrtc_vp9_packetizer {
    const uint8_t *frame;
    size_t frame_len;
    size_t offset;
    size_t max_payload;
    size_t packets_left;
    uint16_t picture_id;
    bool keyframe;
    uint16_t width, height;    /* for the SS on a key frame; 0 = no SS */
} mxrtc_vp9_packetizer;

/* Splits one frame (single spatial and temporal layer, non-flexible mode)
 * into payloads of at most max_payload bytes: descriptor with I (15-bit
 * picture id), P for inter frames, B/E on the first/last packet, and on a
 * key frame's first packet an SS with the resolution when width and height
 * are given. MXRTC_ERR_INVALID_ARGUMENT for an empty frame or no room. */
int mxrtc_vp9_packetizer_init(mxrtc_vp9_packetizer *pk, const uint8_t *frame, size_t frame_len,
                              size_t max_payload, uint16_t picture_id, bool keyframe,
                              uint16_t width, uint16_t height);
/* As mxrtc_vp8_packetizer_next. */
int mxrtc_vp9_packetizer_next(mxrtc_vp9_packetizer *pk, uint8_t *buf, size_t cap, bool *last);
/* As mxrtc_vp8_assembler_push for VP9 (a frame is the whole picture up to
 * the marker; it starts at B in the base spatial layer). */
int mxrtc_vp9_assembler_push(mxrtc_frame_assembler *a, const mxrtc_rtp_packet *pkt,
                             mxrtc_video_frame *out);

/* ======================================================================
 * Reports: receive statistics (RFC 3550 A.1, A.3, A.8) and sender side
 * ==================================================================== */

/* NTP time (32.32) for a caller clock time, given the NTP time in
 * microseconds at clock zero (the host's wallclock offset; RFC 3550 §4). */
uint64_t mxrtc_ntp_from_time(mxrtc_time_us now, uint64_t ntp_offset_us);
/* Middle 32 bits of a 32.32 NTP time (RFC 3550 §6.4.1 LSR). */
static inline uint32_t mxrtc_ntp_compact(uint64_t ntp) { return (uint32_t)(ntp >> 16); }

typedef struct mxrtc_receive_stats {
    uint32_t ssrc;
    uint32_t clock_rate;
    uint8_t min_sequential;    /* probation length (A.1: 2); 0 or 1 = none */
    bool started;
    /* RFC 3550 A.1 */
    uint16_t max_seq;
    uint32_t cycles;           /* shifted count of wraps */
    uint32_t base_seq;
    uint32_t bad_seq;
    uint32_t probation;
    uint32_t received;
    uint32_t expected_prior;
    uint32_t received_prior;
    /* A.8: jitter scaled by 16 */
    bool have_transit;
    int64_t transit;
    uint32_t jitter_q4;
    /* last SR from this source, for LSR/DLSR and lip-sync */
    bool have_sr;
    uint64_t sr_ntp;
    uint32_t sr_rtp_ts;
    mxrtc_time_us sr_arrival;
    uint64_t packets_total;    /* every packet seen, incl. probation/dups */
    uint64_t bytes_total;
} mxrtc_receive_stats;

void mxrtc_receive_stats_init(mxrtc_receive_stats *s, uint32_t ssrc, uint32_t clock_rate);
/* Feeds a received packet. Returns MXRTC_OK if it is counted, MXRTC_ERR_AGAIN
 * while the source is on probation, MXRTC_ERR_MALFORMED for a sequence jump
 * (A.1 bad_seq; a second packet right after it restarts the source). */
int mxrtc_receive_stats_update(mxrtc_receive_stats *s, uint16_t seq, uint32_t rtp_ts,
                               size_t payload_len, mxrtc_time_us arrival);
/* Remembers an SR from this source (arrival on the caller's clock). */
void mxrtc_receive_stats_on_sr(mxrtc_receive_stats *s, const mxrtc_rtcp_sr *sr,
                               mxrtc_time_us arrival);
/* Fills a report block (A.3 interval loss since the previous call, A.8
 * jitter, LSR/DLSR from the last SR). MXRTC_ERR_AGAIN if no packet was
 * counted yet. */
int mxrtc_receive_stats_report(mxrtc_receive_stats *s, mxrtc_time_us now,
                               mxrtc_rtcp_report_block *rb);
/* Extended highest sequence number received (A.1). */
uint32_t mxrtc_receive_stats_ext_max(const mxrtc_receive_stats *s);
/* Lip-sync: the sender's NTP time (32.32) for an RTP timestamp, from the last
 * SR and the clock rate. MXRTC_ERR_AGAIN before the first SR. */
int mxrtc_receive_stats_ntp_for_ts(const mxrtc_receive_stats *s, uint32_t rtp_ts,
                                   uint64_t *ntp);

typedef struct mxrtc_send_stats {
    uint32_t ssrc;
    uint32_t clock_rate;
    uint64_t ntp_offset_us;    /* NTP microseconds at caller time 0 */
    uint32_t packet_count;
    uint32_t octet_count;
    bool have_ts;
    uint32_t last_rtp_ts;
    mxrtc_time_us last_capture;  /* caller time that last_rtp_ts stands for */
    bool have_rtt;
    uint64_t rtt_us;
} mxrtc_send_stats;

void mxrtc_send_stats_init(mxrtc_send_stats *s, uint32_t ssrc, uint32_t clock_rate,
                           uint64_t ntp_offset_us);
/* Counts a sent packet; capture is the caller time its timestamp stands for. */
void mxrtc_send_stats_on_sent(mxrtc_send_stats *s, uint32_t rtp_ts, mxrtc_time_us capture,
                              size_t payload_len);
/* Fills the sender info of an SR for now (RTP timestamp extrapolated from the
 * last sent packet, RFC 3550 §6.4.1); rb_count is set to 0. MXRTC_ERR_AGAIN
 * before the first packet. */
int mxrtc_send_stats_sr(const mxrtc_send_stats *s, mxrtc_time_us now, mxrtc_rtcp_sr *sr);
/* RTT from a report block about our SSRC (RFC 3550 §6.4.1: A - LSR - DLSR),
 * received at now. Stores and returns it in *rtt_us. MXRTC_ERR_NOT_FOUND if
 * the block is for another SSRC, MXRTC_ERR_AGAIN if LSR is 0 (no SR seen by
 * the peer), MXRTC_ERR_MALFORMED if the result is negative. */
int mxrtc_send_stats_on_report_block(mxrtc_send_stats *s, const mxrtc_rtcp_report_block *rb,
                                     mxrtc_time_us now, uint64_t *rtt_us);

/* ======================================================================
 * Loss recovery: receive-side NACK generation, send-side history and RTX
 * (RFC 4585 §6.2.1, RFC 4588)
 * ==================================================================== */

#define MXRTC_NACK_MAX_LIST 512   /* compile-time bound of the missing list */

typedef struct mxrtc_nack_config {
    size_t max_list;              /* 1..MXRTC_NACK_MAX_LIST (default 256) */
    uint32_t max_gap;             /* a jump larger than this clears the list (default 1000) */
    mxrtc_time_us reorder_wait;   /* wait before the first NACK (default 10 ms) */
    uint16_t reorder_packets;     /* ...unless this many newer packets came (default 3) */
    uint8_t max_retries;          /* NACKs per packet (default 10) */
    mxrtc_time_us max_age;        /* give up on a packet after this (default 1 s) */
    mxrtc_time_us default_rtt;    /* resend interval until an RTT is known (default 100 ms) */
} mxrtc_nack_config;

typedef struct mxrtc_nack_entry {
    uint16_t seq;
    uint8_t tries;
    mxrtc_time_us first_seen;     /* when a newer packet showed it missing */
    mxrtc_time_us last_sent;
} mxrtc_nack_entry;

typedef struct mxrtc_nack_gen {
    mxrtc_nack_config cfg;
    bool started;
    uint16_t newest;
    bool bad_seq_valid;           /* a far-old packet seen; its successor restarts */
    uint16_t bad_seq;
    mxrtc_time_us rtt;
    size_t count;                 /* entries in list[], oldest first */
    mxrtc_nack_entry list[MXRTC_NACK_MAX_LIST];
    uint64_t recovered;           /* missing packets that came after all */
    uint64_t given_up;            /* dropped after max_retries / max_age */
    uint64_t overflowed;          /* dropped because the list was full or the gap too large */
    uint64_t nacks_sent;          /* sequence numbers asked for, repeats included */
} mxrtc_nack_gen;

/* Default values for every field. */
void mxrtc_nack_config_init(mxrtc_nack_config *cfg);
/* cfg NULL = defaults; out-of-range fields are clamped. */
void mxrtc_nack_init(mxrtc_nack_gen *g, const mxrtc_nack_config *cfg);
/* Sets the RTT used as the resend interval (0 = back to the default). */
void mxrtc_nack_set_rtt(mxrtc_nack_gen *g, mxrtc_time_us rtt);
/* Feeds the sequence number of every received media packet (also ones
 * recovered through RTX). MXRTC_OK, or MXRTC_ERR_LIMIT when losses were
 * dropped from tracking (list full or a jump over max_gap): retransmission
 * cannot repair that, the caller should ask for a key frame. */
int mxrtc_nack_on_packet(mxrtc_nack_gen *g, uint16_t seq, mxrtc_time_us now);
/* Writes the sequence numbers due for a NACK now into seqs (oldest first,
 * ready for mxrtc_rtcp_write_nack) and counts the attempt. Entries past
 * max_retries or max_age are dropped first; *gave_up (may be NULL) tells
 * whether any were, i.e. a key frame request is due. MXRTC_OK (count may be
 * 0); when more are due than cap, the rest wait for the next poll. */
int mxrtc_nack_poll(mxrtc_nack_gen *g, mxrtc_time_us now, uint16_t *seqs, size_t cap,
                    size_t *count, bool *gave_up);
/* The earliest time mxrtc_nack_poll has something to do, or MXRTC_TIME_NEVER. */
mxrtc_time_us mxrtc_nack_deadline(const mxrtc_nack_gen *g);

/* Send-side packet history answering NACKs with RTX packets. */
typedef struct mxrtc_rtx_history mxrtc_rtx_history;

typedef struct mxrtc_rtx_config {
    size_t capacity;              /* packets kept (default 512) */
    size_t max_packet;            /* largest RTP packet stored (default 1200) */
    uint32_t rtx_ssrc;            /* RFC 4588 §4: the RTX stream's own SSRC ... */
    uint8_t rtx_pt;               /* ... and payload type (a=fmtp apt=) */
    uint16_t first_rtx_seq;       /* ... and sequence space (random start) */
} mxrtc_rtx_config;

/* Allocates the history (capacity x max_packet bytes, once). MXRTC_ERR_NO_MEMORY,
 * MXRTC_ERR_INVALID_ARGUMENT (capacity 0 or above 32768, max_packet < 12). */
int mxrtc_rtx_history_new(mxrtc_rtx_history **out, const mxrtc_allocator *alloc,
                          const mxrtc_rtx_config *cfg);
void mxrtc_rtx_history_free(mxrtc_rtx_history *h);   /* NULL is fine */
/* Keeps a copy of a sent (unprotected) RTP packet, replacing the oldest.
 * MXRTC_ERR_LIMIT if larger than max_packet, MXRTC_ERR_TRUNCATED under 12 bytes. */
int mxrtc_rtx_history_put(mxrtc_rtx_history *h, const uint8_t *pkt, size_t len,
                          mxrtc_time_us now);
/* Builds the RTX packet for media sequence number seq into buf: the stored
 * header (CSRCs, extensions, marker, timestamp) with the RTX SSRC, PT and
 * next RTX sequence number, then the original sequence number (OSN) and the
 * original payload (RFC 4588 §4). A packet is resent at most once per
 * min_interval (the RTT). Returns the length, MXRTC_ERR_NOT_FOUND if the
 * packet is no longer kept, MXRTC_ERR_AGAIN if it was resent within
 * min_interval, MXRTC_ERR_BUFFER_TOO_SMALL. */
int mxrtc_rtx_history_resend(mxrtc_rtx_history *h, uint16_t seq, mxrtc_time_us now,
                             mxrtc_time_us min_interval, uint8_t *buf, size_t cap);
/* Packets answered and NACKed seqs no longer kept, for stats. */
uint64_t mxrtc_rtx_history_resent(const mxrtc_rtx_history *h);
uint64_t mxrtc_rtx_history_missed(const mxrtc_rtx_history *h);

/* Builds an RTX packet from an original RTP packet (RFC 4588 §4). Returns
 * the length or an error of mxrtc_rtp_parse / MXRTC_ERR_BUFFER_TOO_SMALL. */
int mxrtc_rtx_encapsulate(const uint8_t *orig, size_t len, uint32_t rtx_ssrc, uint8_t rtx_pt,
                          uint16_t rtx_seq, uint8_t *buf, size_t cap);
/* Turns a parsed RTX packet back into the original in *out (header copied,
 * seq = OSN, ssrc = media_ssrc, pt = media_pt from the apt mapping, payload
 * borrowed from rtx after the OSN). MXRTC_ERR_NOT_FOUND for a padding-only
 * RTX packet (bandwidth probing: nothing inside), MXRTC_ERR_TRUNCATED for a
 * 1-byte payload. */
int mxrtc_rtx_decapsulate(const mxrtc_rtp_packet *rtx, uint32_t media_ssrc, uint8_t media_pt,
                          mxrtc_rtp_packet *out);

#endif /* MXRTC_RTP_RTP_H */
