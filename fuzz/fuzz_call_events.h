/*
 * fuzz_call_events.h: the room-event generator shared by the targets that
 * drive the Matrix call layer (fuzz_call_manager.c, fuzz_calls.c), so that
 * their seeds speak one record format.
 *
 * A feed record's payload is [type][sender][age] then the content JSON, in
 * which "$C" stands for the last call id the object reported (seeds, and
 * mutations of them, can then talk about calls the object created itself).
 */
#ifndef MXRTC_FUZZ_CALL_EVENTS_H
#define MXRTC_FUZZ_CALL_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FZ_CALL_ID_MAX 300

static const char *const fz_types[] = {"m.call.invite", "m.call.candidates", "m.call.answer",
                                       "m.call.select_answer", "m.call.reject", "m.call.negotiate",
                                       "m.call.hangup", "m.call.sdp_stream_metadata_changed", "m.room.message"};
static const char *const fz_senders[] = {"@me:x", "@alice:x", "@bob:x"};

typedef struct fz_event {
    const char *type, *sender;
    uint64_t age_ms;
    size_t len;                /* of the content written to the caller's buffer */
} fz_event;

/* Decodes a feed payload p[0..len) into *e and out[0..cap) ("$C" grows
 * into the call id while it fits, else stays as is). 0 if too short. */
static int fz_event_decode(const uint8_t *p, size_t len, const char *last_call, char *out, size_t cap,
                           fz_event *e) {
    if (len < 3 || cap < len) return 0;
    size_t o = 0, n = strlen(last_call);
    for (size_t i = 3; i < len; i++) {
        /* room for the rest of the payload after the expansion */
        if (p[i] == '$' && i + 1 < len && p[i + 1] == 'C' && o + n + (len - i - 2) <= cap) {
            memcpy(out + o, last_call, n);
            o += n;
            i++;
        } else {
            out[o++] = (char)p[i];
        }
    }
    e->type = fz_types[p[0] % (sizeof fz_types / sizeof fz_types[0])];
    e->sender = fz_senders[p[1] % 3];
    e->age_ms = (uint64_t)p[2] * 1000;
    e->len = o;
    return 1;
}

/* The record reader: [op][len16][payload]; returns 0 at the end. */
typedef struct fz_reader {
    const uint8_t *data;
    size_t size, pos;
} fz_reader;

static int fz_next(fz_reader *r, uint8_t *op, const uint8_t **p, size_t *len) {
    if (r->pos + 3 > r->size) return 0;
    *op = r->data[r->pos];
    size_t n = (size_t)r->data[r->pos + 1] << 8 | r->data[r->pos + 2];
    r->pos += 3;
    if (n > r->size - r->pos) n = r->size - r->pos;
    *p = r->data + r->pos;
    *len = n;
    r->pos += n;
    return 1;
}

#endif
