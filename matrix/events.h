/*
 * events.h: the m.call.* event contents of the Matrix VoIP module (spec
 * v1.19, client-server API §"Voice over IP"; MSC2746 for version 1, MSC3077
 * for sdp_stream_metadata), parsed and validated into bounded C structs, and
 * the events we send serialised back to JSON. JSON goes through cJSON.
 *
 * Validation (everything a hostile room member controls is bounded):
 *  - the content is a JSON object of at most MXRTC_MX_CONTENT_MAX bytes;
 *  - call_id, party_id, selected_party_id: strings of 1..255 bytes of
 *    printable ASCII (spec: VoIP IDs are 1-255 characters; we do not enforce
 *    the narrower [0-9a-zA-Z._~-] set because device IDs are re-used as
 *    party IDs and some clients use other characters);
 *  - version: integer 0 or "0" is version 0 (party_id ignored, as Element
 *    does); "1" or 1 is version 1; any other string or non-negative integer
 *    is an experimental or future version, accepted and treated as 1 (the
 *    spec makes version a string so that such versions exist). Anything else
 *    (float, bool, object, missing) is malformed. Version >= 1 needs party_id;
 *  - SDP: a non-empty string of at most 64 KiB, type "offer"/"answer" as the
 *    event requires (the SDP text itself is checked by the peer connection);
 *  - lifetime: an integer 0..2^53 (milliseconds);
 *  - invitee: "@..." of at most 255 bytes;
 *  - candidates: an array of at most MXRTC_MX_CANDIDATES_MAX objects; each
 *    candidate string at most 512 bytes without CR/LF; "" marks the end of
 *    candidates (MSC2746); sdpMid string / sdpMLineIndex 0..65535 (either
 *    may be null or absent, but a real candidate needs one of them);
 *  - sdp_stream_metadata (also under MSC3077's unstable key, as older
 *    Element sends it): at most MXRTC_MX_STREAMS_MAX streams; purpose is a
 *    string, audio_muted/video_muted booleans (absent = false);
 *  - hangup reason: a string; unknown reasons are UNKNOWN_ERROR (raw text
 *    kept in reason_text); absent = USER_HANGUP (version 0 hangups have none).
 * A failure returns MXRTC_ERR_MALFORMED (or MXRTC_ERR_LIMIT for a bound)
 * with a static human-readable reason; unknown extra fields are ignored.
 */
#ifndef MXRTC_MATRIX_EVENTS_H
#define MXRTC_MATRIX_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mxrtc.h"

#define MXRTC_MX_CONTENT_MAX (256 * 1024)   /* bytes of event content JSON */
#define MXRTC_MX_ID_MAX 255                 /* call_id, party_id, user IDs, stream IDs */
#define MXRTC_MX_SDP_MAX (64 * 1024)        /* bytes of SDP */
#define MXRTC_MX_CANDIDATES_MAX 64          /* candidates in one m.call.candidates */
#define MXRTC_MX_CANDIDATE_MAX 512          /* bytes of one candidate line */
#define MXRTC_MX_MID_MAX 64                 /* bytes of an sdpMid */
#define MXRTC_MX_STREAMS_MAX 8              /* sdp_stream_metadata entries */
#define MXRTC_MX_REASON_TEXT_MAX 63         /* bytes of an unknown hangup reason kept */

/* The default invite lifetime (spec: 60 s is what clients use; Element's
 * CALL_TIMEOUT_MS). */
#define MXRTC_MX_DEFAULT_LIFETIME_MS 60000

typedef enum mxrtc_mx_type {
    MXRTC_MX_NONE = 0,
    MXRTC_MX_INVITE,
    MXRTC_MX_CANDIDATES,
    MXRTC_MX_ANSWER,
    MXRTC_MX_SELECT_ANSWER,
    MXRTC_MX_REJECT,
    MXRTC_MX_NEGOTIATE,
    MXRTC_MX_HANGUP,
    MXRTC_MX_METADATA_CHANGED   /* m.call.sdp_stream_metadata_changed (or org.matrix.call.*) */
} mxrtc_mx_type;

/* The type for an event type name, MXRTC_MX_NONE if it is not one of ours. */
mxrtc_mx_type mxrtc_mx_type_from_name(const char *name);
/* The stable name we send ("m.call.invite"...); "" for NONE. */
const char *mxrtc_mx_type_name(mxrtc_mx_type t);

/* Why a call ended. The first block are the spec's hangup reasons (and
 * Element's "replaced" for glare); the rest are local outcomes, never
 * received as such. */
typedef enum mxrtc_mx_reason {
    MXRTC_MX_REASON_NONE = 0,
    MXRTC_MX_REASON_ICE_FAILED,
    MXRTC_MX_REASON_ICE_TIMEOUT,
    MXRTC_MX_REASON_INVITE_TIMEOUT,
    MXRTC_MX_REASON_USER_HANGUP,
    MXRTC_MX_REASON_USER_MEDIA_FAILED,
    MXRTC_MX_REASON_USER_BUSY,
    MXRTC_MX_REASON_UNKNOWN_ERROR,
    MXRTC_MX_REASON_REPLACED,           /* glare: this call gave way to another */
    MXRTC_MX_REASON_REJECTED,           /* local outcome: the callee rejected */
    MXRTC_MX_REASON_ANSWERED_ELSEWHERE, /* local: another device (ours or theirs) took it */
    MXRTC_MX_REASON_REJECTED_ELSEWHERE, /* local: another of our devices rejected it */
    MXRTC_MX_REASON_PEER_LEFT           /* local: the peer left the room (sent as user_hangup) */
} mxrtc_mx_reason;

/* The wire text for a reason ("ice_failed"...); PEER_LEFT is "user_hangup";
 * the other local outcomes are "unknown_error". */
const char *mxrtc_mx_reason_name(mxrtc_mx_reason r);
/* A spec reason from text; unknown text gives UNKNOWN_ERROR. */
mxrtc_mx_reason mxrtc_mx_reason_from_name(const char *s);

typedef enum mxrtc_mx_purpose {
    MXRTC_MX_PURPOSE_OTHER = 0,     /* a purpose we do not know (kept, not acted on) */
    MXRTC_MX_PURPOSE_USERMEDIA,     /* "m.usermedia" */
    MXRTC_MX_PURPOSE_SCREENSHARE    /* "m.screenshare" */
} mxrtc_mx_purpose;

typedef struct mxrtc_mx_stream {
    char id[MXRTC_MX_ID_MAX + 1];   /* the msid stream id it describes */
    mxrtc_mx_purpose purpose;
    bool audio_muted, video_muted;
} mxrtc_mx_stream;

typedef struct mxrtc_mx_metadata {
    bool present;
    uint32_t count;
    mxrtc_mx_stream streams[MXRTC_MX_STREAMS_MAX];
} mxrtc_mx_metadata;

typedef struct mxrtc_mx_candidate {
    char candidate[MXRTC_MX_CANDIDATE_MAX + 1];  /* "candidate:..." as sent */
    char sdp_mid[MXRTC_MX_MID_MAX + 1];
    bool has_mid;
    int32_t sdp_mline_index;                     /* -1 when absent */
} mxrtc_mx_candidate;

typedef enum mxrtc_mx_sdp_type {
    MXRTC_MX_SDP_NONE = 0,
    MXRTC_MX_SDP_OFFER,
    MXRTC_MX_SDP_ANSWER
} mxrtc_mx_sdp_type;

/* One parsed event content (~110 KB: allocate it, do not put it on a small
 * stack). Absent strings are "". */
typedef struct mxrtc_mx_event {
    mxrtc_mx_type type;
    char call_id[MXRTC_MX_ID_MAX + 1];
    char party_id[MXRTC_MX_ID_MAX + 1];
    bool has_party_id;               /* false for version 0 (party_id ignored) */
    uint32_t version;                /* 0 or 1 (unknown versions are 1) */
    bool version_known;              /* false for an experimental/unknown version */
    uint64_t lifetime_ms;            /* invite, negotiate */
    bool has_lifetime;
    char invitee[MXRTC_MX_ID_MAX + 1];
    bool has_invitee;
    mxrtc_mx_sdp_type sdp_type;      /* invite: OFFER; answer: ANSWER; negotiate: either */
    char sdp[MXRTC_MX_SDP_MAX + 1];
    size_t sdp_len;
    mxrtc_mx_metadata metadata;
    mxrtc_mx_candidate candidates[MXRTC_MX_CANDIDATES_MAX];
    uint32_t candidate_count;        /* real candidates, end marker not counted */
    bool end_of_candidates;
    char selected_party_id[MXRTC_MX_ID_MAX + 1];
    mxrtc_mx_reason reason;          /* hangup */
    bool has_reason;
    char reason_text[MXRTC_MX_REASON_TEXT_MAX + 1]; /* as received, cut */
} mxrtc_mx_event;

/* Parses the content json[0..len) (borrowed; need not be NUL-terminated) of
 * an event of type `type` into *out. On failure *out is left zeroed with
 * only `type` set, and *reason (if reason is not NULL) points to a static
 * text. Errors: MXRTC_ERR_INVALID_ARGUMENT (NULL, type NONE),
 * MXRTC_ERR_MALFORMED, MXRTC_ERR_LIMIT (a bound above),
 * MXRTC_ERR_NO_MEMORY (cJSON could not allocate). */
int mxrtc_mx_event_parse(mxrtc_mx_event *out, mxrtc_mx_type type, const char *json, size_t len,
                         const char **reason);

/* ---- sending ------------------------------------------------------------- */

/* What we send: every event carries call_id, party_id and version "1". */
typedef struct mxrtc_mx_outgoing {
    mxrtc_mx_type type;
    const char *call_id;
    const char *party_id;
    uint64_t lifetime_ms;                 /* invite, negotiate */
    const char *invitee;                  /* invite; NULL: none */
    mxrtc_mx_sdp_type sdp_type;           /* negotiate */
    const char *sdp;                      /* invite, answer, negotiate */
    const mxrtc_mx_metadata *metadata;    /* invite, answer, negotiate, metadata_changed; NULL: none */
    const mxrtc_mx_candidate *candidates; /* candidates */
    uint32_t candidate_count;
    bool end_of_candidates;               /* appends {"candidate": ""} */
    const char *selected_party_id;        /* select_answer */
    mxrtc_mx_reason reason;               /* hangup; NONE: no reason field */
} mxrtc_mx_outgoing;

/* Serialises ev to a NUL-terminated JSON object in a new buffer from alloc
 * (free with mxrtc_free(alloc, *out)); *len_out gets its length.
 * Errors: MXRTC_ERR_INVALID_ARGUMENT (a required field missing),
 * MXRTC_ERR_NO_MEMORY. */
int mxrtc_mx_event_serialize(const mxrtc_mx_outgoing *ev, const mxrtc_allocator *alloc,
                             char **out, size_t *len_out);

#endif
