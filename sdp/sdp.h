/*
 * sdp.h: SDP (RFC 8866) parse and serialise with the WebRTC attributes, and
 * the JSEP offer/answer helpers (RFC 8829, RFC 3264). The face of sdp/.
 *
 * The model: one mxrtc_sdp owns an arena (allocated through the caller's
 * mxrtc_allocator) holding every string and array of one session
 * description. Session level and each media section carry the same
 * attribute block (mxrtc_sdp_attrs), so an attribute found at either level
 * lands in the same typed field. Attribute lines we do not model are kept
 * verbatim (text after "a=") in `unknown`, and other lines (i=, u=, e=, p=,
 * b=, r=, z=, k= and unknown letters) in `extra`, and are serialised back,
 * so a round trip loses nothing a peer sent. The serialiser writes a
 * canonical order (the one browsers use), CRLF line endings.
 *
 * Everything is bounded by mxrtc_sdp_limits: exceeding one is
 * MXRTC_ERR_LIMIT; a grammar violation is MXRTC_ERR_MALFORMED with the
 * 1-based line number in mxrtc_sdp_error.
 *
 * Thread rule: an mxrtc_sdp is used by one thread at a time; a parsed one is
 * never modified by the library afterwards, so it may be read concurrently.
 */
#ifndef MXRTC_SDP_SDP_H
#define MXRTC_SDP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mxrtc.h"

/* ---- limits --------------------------------------------------------------- */

typedef struct mxrtc_sdp_limits {
    size_t max_size;              /* bytes of SDP text (parse input) */
    size_t max_memory;            /* bytes of arena one description may use */
    uint32_t max_lines;           /* lines in the whole description */
    uint32_t max_line_len;        /* bytes in one line, without the line ending */
    uint32_t max_media;           /* m= sections */
    uint32_t max_attrs;           /* a= lines in one section (session or media) */
    uint32_t max_payload_types;   /* formats on an m= line, and rtpmap/fmtp lines each, per section */
    uint32_t max_extmaps;         /* a=extmap lines per section */
    uint32_t max_ssrcs;           /* a=ssrc lines per section */
} mxrtc_sdp_limits;

/* Defaults: 64 KiB, 1 MiB arena, 4096 lines of at most 4096 bytes, 16 media
 * sections, 512 attributes, 128 payload types, 32 extmaps, 64 ssrc lines per
 * section. Roomy for any browser offer (Chrome 156's video section has about
 * 150 attribute lines and 30 payload types), small enough to bound memory. */
void mxrtc_sdp_limits_default(mxrtc_sdp_limits *l);

/* Where a parse failed: line is 1-based (0 when the error is not about one
 * line, e.g. the total size), reason a short static text ("bad rtpmap"). */
typedef struct mxrtc_sdp_error {
    uint32_t line;
    const char *reason;
} mxrtc_sdp_error;

/* ---- model ---------------------------------------------------------------- */

typedef enum mxrtc_sdp_direction {
    MXRTC_SDP_DIR_NONE = 0,       /* no direction attribute (RFC 3264 §5.1: means sendrecv) */
    MXRTC_SDP_DIR_SENDRECV,
    MXRTC_SDP_DIR_SENDONLY,
    MXRTC_SDP_DIR_RECVONLY,
    MXRTC_SDP_DIR_INACTIVE
} mxrtc_sdp_direction;

/* RFC 4145 §4, RFC 8842 §5. */
typedef enum mxrtc_sdp_setup {
    MXRTC_SDP_SETUP_NONE = 0,
    MXRTC_SDP_SETUP_ACTPASS,
    MXRTC_SDP_SETUP_ACTIVE,
    MXRTC_SDP_SETUP_PASSIVE,
    MXRTC_SDP_SETUP_HOLDCONN
} mxrtc_sdp_setup;

/* c= (RFC 8866 §5.7) */
typedef struct mxrtc_sdp_conn {
    const char *nettype;          /* "IN"; NULL when the line is absent */
    const char *addrtype;         /* "IP4" / "IP6" */
    const char *address;          /* "0.0.0.0", possibly with /ttl */
} mxrtc_sdp_conn;

/* a=fingerprint (RFC 8122 §5) */
typedef struct mxrtc_sdp_fingerprint {
    const char *algorithm;        /* "sha-256" as sent */
    const char *value;            /* "AB:CD:..." as sent (hex pairs and colons) */
} mxrtc_sdp_fingerprint;

/* a=msid (RFC 8830 §2) */
typedef struct mxrtc_sdp_msid {
    const char *stream;           /* stream id ("-" for none) */
    const char *track;            /* track id (appdata); NULL if absent */
} mxrtc_sdp_msid;

/* a=rtpmap (RFC 8866 §6.6) */
typedef struct mxrtc_sdp_rtpmap {
    uint8_t pt;                   /* 0..127 */
    const char *encoding;         /* "opus", as sent (case kept) */
    uint32_t clock;               /* Hz, > 0 */
    uint16_t channels;            /* 0 when absent */
} mxrtc_sdp_rtpmap;

/* a=fmtp (RFC 8866 §6.15) */
typedef struct mxrtc_sdp_fmtp {
    uint8_t pt;
    const char *params;           /* "minptime=10;useinbandfec=1" as sent */
} mxrtc_sdp_fmtp;

/* a=rtcp-fb (RFC 4585 §4.2) */
typedef struct mxrtc_sdp_rtcp_fb {
    int16_t pt;                   /* 0..127, or -1 for "*" */
    const char *type;             /* "nack", "ccm", "goog-remb", "transport-cc" */
    const char *subtype;          /* "pli", "fir"; NULL if none */
} mxrtc_sdp_rtcp_fb;

/* a=extmap (RFC 8285 §8) */
typedef struct mxrtc_sdp_extmap {
    uint16_t id;                  /* 1..14 one-byte, 1..255 two-byte (and 4096..4351 reserved, rejected) */
    mxrtc_sdp_direction direction;/* NONE when absent */
    const char *uri;
    const char *attributes;       /* extension attributes after the URI; NULL if none */
} mxrtc_sdp_extmap;

/* a=ssrc (RFC 5576 §4.1) */
typedef struct mxrtc_sdp_ssrc {
    uint32_t ssrc;
    const char *attribute;        /* "cname", "msid" */
    const char *value;            /* NULL for a property attribute without value */
} mxrtc_sdp_ssrc;

/* a=ssrc-group (RFC 5576 §4.2) */
typedef struct mxrtc_sdp_ssrc_group {
    const char *semantics;        /* "FID", "SIM", "FEC-FR" */
    uint32_t *ssrcs;
    uint32_t count;
} mxrtc_sdp_ssrc_group;

/* a=group (RFC 5888 §5; BUNDLE RFC 8843) */
typedef struct mxrtc_sdp_group {
    const char *semantics;        /* "BUNDLE", "LS" */
    const char **mids;
    uint32_t count;
} mxrtc_sdp_group;

/* Another line kept as it came: type letter and the text after "x=". */
typedef struct mxrtc_sdp_line {
    char type;
    const char *text;
} mxrtc_sdp_line;

/* The attributes of one level (session or media section). Absent strings
 * are NULL, absent numbers 0, flags false. */
typedef struct mxrtc_sdp_attrs {
    const char *mid;                       /* a=mid (RFC 5888) */
    mxrtc_sdp_direction direction;
    const char *ice_ufrag;                 /* RFC 8839 §5.4 */
    const char *ice_pwd;
    const char *ice_options;               /* space-separated tokens, e.g. "trickle ice2" */
    bool ice_lite;
    mxrtc_sdp_setup setup;
    bool rtcp_mux, rtcp_mux_only, rtcp_rsize;
    bool extmap_allow_mixed;               /* RFC 8285 §6 */
    bool end_of_candidates;                /* RFC 8840 §8.2 */
    const char *msid_semantic;             /* "WMS" (session level) */
    const char *msid_semantic_ids;         /* the rest of that line ("*", stream ids); NULL if none */
    uint16_t sctp_port;                    /* RFC 8841 §5; 0 absent */
    bool has_max_message_size;
    uint64_t max_message_size;             /* RFC 8841 §6 */

    mxrtc_sdp_fingerprint *fingerprints; uint32_t fingerprint_count;
    mxrtc_sdp_group *groups;               uint32_t group_count;
    mxrtc_sdp_msid *msids;                 uint32_t msid_count;
    mxrtc_sdp_rtpmap *rtpmaps;             uint32_t rtpmap_count;
    mxrtc_sdp_fmtp *fmtps;                 uint32_t fmtp_count;
    mxrtc_sdp_rtcp_fb *rtcp_fbs;           uint32_t rtcp_fb_count;
    mxrtc_sdp_extmap *extmaps;             uint32_t extmap_count;
    mxrtc_sdp_ssrc *ssrcs;                 uint32_t ssrc_count;
    mxrtc_sdp_ssrc_group *ssrc_groups;     uint32_t ssrc_group_count;
    const char **candidates;               uint32_t candidate_count;  /* text after "candidate:", as sent (RFC 8839 §5.1; ice/ parses it) */
    const char **unknown;                  uint32_t unknown_count;    /* text after "a=", verbatim */
    mxrtc_sdp_line *extra;                 uint32_t extra_count;      /* i/u/e/p/b/r/z/k and unknown letters */

    uint32_t attr_lines;                   /* a= lines counted against max_attrs (parser) */
    uint32_t cap_[12];                     /* internal: capacities of the arrays above, in order */
} mxrtc_sdp_attrs;

/* m= line and what follows it (RFC 8866 §5.14). */
typedef struct mxrtc_sdp_media {
    const char *type;             /* "audio", "video", "application", ... */
    uint16_t port;                /* 0: rejected (RFC 3264 §6) or bundle-only */
    uint16_t port_count;          /* the "/2" of port/number; 0 when absent */
    const char *proto;            /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP" */
    const char **fmts;            /* formats as sent ("111", "webrtc-datachannel") */
    uint32_t fmt_count;
    uint32_t cap_fmts_;
    mxrtc_sdp_conn conn;
    mxrtc_sdp_attrs a;
} mxrtc_sdp_media;

typedef struct mxrtc_sdp_time {
    uint64_t start, stop;
} mxrtc_sdp_time;

typedef struct mxrtc_sdp mxrtc_sdp;
struct mxrtc_sdp {
    /* o= (RFC 8866 §5.2) */
    const char *origin_user;
    uint64_t session_id;
    uint64_t session_version;
    const char *origin_nettype, *origin_addrtype, *origin_address;
    const char *name;             /* s= */
    mxrtc_sdp_conn conn;          /* session-level c= */
    mxrtc_sdp_time *times; uint32_t time_count, cap_times_;
    mxrtc_sdp_attrs a;            /* session-level attributes */
    mxrtc_sdp_media *media; uint32_t media_count, cap_media_;

    /* internal: arena and bookkeeping */
    const mxrtc_allocator *alloc_;
    mxrtc_sdp_limits limits_;
    void *chunks_;
    size_t used_;
};

/* ---- life cycle and parsing --------------------------------------------- */

/* An empty description (v=0, no o/s/t yet) to build with the mxrtc_sdp_add_*
 * functions. limits NULL = defaults. MXRTC_ERR_NO_MEMORY. */
int mxrtc_sdp_new(mxrtc_sdp **out, const mxrtc_allocator *alloc, const mxrtc_sdp_limits *limits);
/* Frees the description and everything in its arena; NULL is fine. */
void mxrtc_sdp_free(mxrtc_sdp *sdp);

/* Parses text[0..len) (borrowed for the call; CRLF or LF line endings; need
 * not be NUL-terminated). On success *out owns a new description.
 * Errors: MXRTC_ERR_MALFORMED (grammar; err->line says where),
 * MXRTC_ERR_LIMIT (a limit is exceeded; err->line where, or 0 for size),
 * MXRTC_ERR_NO_MEMORY, MXRTC_ERR_INVALID_ARGUMENT. err may be NULL. */
int mxrtc_sdp_parse(mxrtc_sdp **out, const char *text, size_t len,
                    const mxrtc_allocator *alloc, const mxrtc_sdp_limits *limits,
                    mxrtc_sdp_error *err);

/* Writes the description as SDP text with CRLF line endings and a
 * terminating NUL into buf. *len_out gets the text length without the NUL,
 * or on MXRTC_ERR_BUFFER_TOO_SMALL the size buf needs (with the NUL).
 * MXRTC_ERR_INVALID_ARGUMENT if a required field is missing (o=, s=) or a
 * string would break a line (CR/LF inside a value). */
int mxrtc_sdp_serialize(const mxrtc_sdp *sdp, char *buf, size_t cap, size_t *len_out);
/* The same into a new NUL-terminated buffer from alloc (free with
 * mxrtc_free(alloc, *out)). */
int mxrtc_sdp_serialize_alloc(const mxrtc_sdp *sdp, const mxrtc_allocator *alloc,
                              char **out, size_t *len_out);

/* ---- reading helpers ------------------------------------------------------ */

/* Bounded unsigned decimal: digits only, at least one, no sign, value <= max.
 * Returns 0 and *out, or -1. Never overflows. */
int mxrtc_sdp_parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out);

/* The rtpmap / fmtp for pt in a, or NULL. */
const mxrtc_sdp_rtpmap *mxrtc_sdp_find_rtpmap(const mxrtc_sdp_attrs *a, unsigned pt);
const mxrtc_sdp_fmtp *mxrtc_sdp_find_fmtp(const mxrtc_sdp_attrs *a, unsigned pt);
/* Looks up key in an fmtp parameter string ("a=1;b=2", RFC 8866 §6.15
 * format-specific, ';'-separated key=value, spaces around ';' tolerated;
 * keys compared case-insensitively). Copies the value (NUL-terminated) into
 * buf. MXRTC_OK, MXRTC_ERR_NOT_FOUND, MXRTC_ERR_BUFFER_TOO_SMALL. */
int mxrtc_sdp_fmtp_get(const char *params, const char *key, char *buf, size_t cap);
/* The same as a bounded number (<= max): MXRTC_ERR_MALFORMED if not a number. */
int mxrtc_sdp_fmtp_get_uint(const char *params, const char *key, uint64_t max, uint64_t *out);
/* 1 if the space-separated a=ice-options contain token (e.g. "trickle"). */
int mxrtc_sdp_has_ice_option(const mxrtc_sdp_attrs *a, const char *token);
/* The effective direction of a media section (its own, else the session's,
 * else sendrecv: RFC 3264 §5.1). Never NONE. */
mxrtc_sdp_direction mxrtc_sdp_media_direction(const mxrtc_sdp *sdp, const mxrtc_sdp_media *m);
/* The transport parameters that apply to a media section: each taken from the
 * section, else from the session level (RFC 8839 §5.4, RFC 8122 §5, RFC 8842
 * §5 allow either). Pointers borrow from sdp. */
typedef struct mxrtc_sdp_transport {
    const char *ice_ufrag, *ice_pwd, *ice_options;
    bool ice_lite;                              /* session level only (RFC 8839 §5.3) */
    const mxrtc_sdp_fingerprint *fingerprints;
    uint32_t fingerprint_count;
    mxrtc_sdp_setup setup;
} mxrtc_sdp_transport;
void mxrtc_sdp_media_transport(const mxrtc_sdp *sdp, const mxrtc_sdp_media *m, mxrtc_sdp_transport *out);
/* The BUNDLE group (RFC 8843), or NULL. */
const mxrtc_sdp_group *mxrtc_sdp_find_group(const mxrtc_sdp *sdp, const char *semantics);
/* The media section with this mid, or NULL. */
const mxrtc_sdp_media *mxrtc_sdp_find_mid(const mxrtc_sdp *sdp, const char *mid);
const char *mxrtc_sdp_direction_name(mxrtc_sdp_direction d);   /* "sendrecv"... */
const char *mxrtc_sdp_setup_name(mxrtc_sdp_setup s);           /* "actpass"... */

/* ---- building ------------------------------------------------------------- *
 * Strings are copied into sdp's arena. Each add returns MXRTC_OK,
 * MXRTC_ERR_LIMIT (the limit for that list) or MXRTC_ERR_NO_MEMORY;
 * MXRTC_ERR_INVALID_ARGUMENT for out-of-range values. */

/* A copy of s (len bytes, NUL added) in the arena; NULL on failure. */
const char *mxrtc_sdp_strdup(mxrtc_sdp *sdp, const char *s, size_t len);
int mxrtc_sdp_set_origin(mxrtc_sdp *sdp, const char *user, uint64_t id, uint64_t version,
                         const char *address);
int mxrtc_sdp_set_name(mxrtc_sdp *sdp, const char *name);
int mxrtc_sdp_add_time(mxrtc_sdp *sdp, uint64_t start, uint64_t stop);
/* A new media section (m=type port proto, no formats yet) into *out
 * (valid until the description is freed). */
int mxrtc_sdp_add_media(mxrtc_sdp *sdp, const char *type, uint16_t port, const char *proto,
                        mxrtc_sdp_media **out);
int mxrtc_sdp_add_fmt(mxrtc_sdp *sdp, mxrtc_sdp_media *m, const char *fmt);
int mxrtc_sdp_set_conn(mxrtc_sdp *sdp, mxrtc_sdp_conn *c, const char *addrtype, const char *address);
/* Sets *field (any const char * in an attribute block) to a copy of s. */
int mxrtc_sdp_set_str(mxrtc_sdp *sdp, const char **field, const char *s);
int mxrtc_sdp_add_fingerprint(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, const char *alg, const char *value);
int mxrtc_sdp_add_group(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, const char *semantics,
                        const char *const *mids, uint32_t count);
int mxrtc_sdp_add_msid(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, const char *stream, const char *track);
int mxrtc_sdp_add_rtpmap(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, unsigned pt, const char *encoding,
                         uint32_t clock, uint16_t channels);
int mxrtc_sdp_add_fmtp(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, unsigned pt, const char *params);
/* pt -1 = "*"; subtype may be NULL. */
int mxrtc_sdp_add_rtcp_fb(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, int pt, const char *type,
                          const char *subtype);
int mxrtc_sdp_add_extmap(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, unsigned id, mxrtc_sdp_direction dir,
                         const char *uri, const char *attributes);
int mxrtc_sdp_add_ssrc(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, uint32_t ssrc, const char *attribute,
                       const char *value);
int mxrtc_sdp_add_ssrc_group(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, const char *semantics,
                             const uint32_t *ssrcs, uint32_t count);
int mxrtc_sdp_add_candidate(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, const char *text);
int mxrtc_sdp_add_unknown(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, const char *text);
int mxrtc_sdp_add_extra(mxrtc_sdp *sdp, mxrtc_sdp_attrs *a, char type, const char *text);
/* Deep-copies media section src (from any description) into sdp; *out as
 * for mxrtc_sdp_add_media. */
int mxrtc_sdp_copy_media(mxrtc_sdp *sdp, const mxrtc_sdp_media *src, mxrtc_sdp_media **out);

/* ---- JSEP (RFC 8829) ------------------------------------------------------ */

/* What we send and receive, and our transport credentials. Strings are
 * borrowed for the call. */
typedef struct mxrtc_jsep_local {
    const char *ice_ufrag;            /* RFC 8839 §5.4: 4..256 ice-chars */
    const char *ice_pwd;              /* 22..256 ice-chars */
    const char *fingerprint_alg;      /* "sha-256" */
    const char *fingerprint;          /* "AB:CD:..." */
    uint64_t session_id;              /* o= id for a new session (< 2^63, RFC 8829 §5.2.1) */
    const char *cname;                /* RTCP CNAME for a=ssrc lines; NULL: no ssrc lines */
    const char *stream_id;            /* msid stream id; NULL: "-" */
    /* Our role in the DTLS association already established (ACTIVE: we
     * are the client, PASSIVE: the server), NONE before there is one. An
     * answer in an established association keeps it (RFC 8842 §5.3,
     * RFC 8829 §5.3.2); offers say actpass either way (RFC 8842 §5.2). */
    mxrtc_sdp_setup dtls_setup;

    bool audio;                       /* we want an audio section */
    bool audio_send;                  /* and send on it (else recvonly) */
    bool audio_recv;
    const char *audio_track_id;
    uint32_t audio_ssrc;

    bool video;
    bool video_send;
    bool video_recv;
    bool vp9;                         /* VP9 built in: offer/accept it too */
    const char *video_track_id;
    uint32_t video_ssrc, video_rtx_ssrc;

    bool data;                        /* data channels (RFC 8841 m=application) */
    uint16_t sctp_port;               /* 0: 5000 */
    uint64_t max_message_size;        /* 0: 262144 */
} mxrtc_jsep_local;

/* Our codecs, as offered (RFC 7587 Opus, RFC 7741 VP8, RFC 4588 RTX). */
#define MXRTC_JSEP_PT_OPUS 111
#define MXRTC_JSEP_PT_VP8 96
#define MXRTC_JSEP_PT_VP8_RTX 97
#define MXRTC_JSEP_PT_VP9 98
#define MXRTC_JSEP_PT_VP9_RTX 99

/* Builds an offer. previous (NULL for the first offer) is our last local
 * description (offer or answer) of this session: its sections keep their
 * mid, kind, order and payload types and extmap ids (RFC 8829 §5.2.2), its
 * o= id is kept and the version incremented; new kinds are appended. An ICE
 * restart is the same call with new ice_ufrag/ice_pwd. setup is actpass.
 * Errors: MXRTC_ERR_INVALID_ARGUMENT (missing credentials), NO_MEMORY, LIMIT. */
int mxrtc_jsep_create_offer(mxrtc_sdp **out, const mxrtc_jsep_local *local,
                            const mxrtc_sdp *previous, const mxrtc_allocator *alloc);

/* Builds an answer to a remote offer (RFC 8829 §5.3, RFC 3264 §6): one
 * section per offered section in order; Opus / VP8 (/ VP9) with the
 * offerer's payload types, RTX kept for kept codecs, supported extmaps with
 * the offerer's ids, direction the complement of the offer's, unsupported or
 * port-0 sections rejected with port 0, BUNDLE of all accepted mids that the
 * offer bundled. setup: in a first answer active for actpass/passive (we
 * prefer the DTLS client role) and passive for active; in an established
 * association (local->dtls_setup) the role we have. a=msid/a=ssrc for each
 * section we could send on, even when the offer makes it recvonly or
 * inactive (as browsers do, RFC 8829 §5.3.1). previous: our last local
 * description, for o=.
 * Errors: MXRTC_ERR_MALFORMED (the offer has no sections), UNSUPPORTED (the
 * offer asks for the other DTLS role of the established association: that
 * needs a new association, which we do not do), INVALID_ARGUMENT,
 * NO_MEMORY, LIMIT. */
int mxrtc_jsep_create_answer(mxrtc_sdp **out, const mxrtc_sdp *offer, const mxrtc_jsep_local *local,
                             const mxrtc_sdp *previous, const mxrtc_allocator *alloc);

#endif
