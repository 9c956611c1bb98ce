/*
 * fuzz_call_manager: one call manager (with a fake peer) driven by a random
 * sequence of room events with random JSON, user actions, peer reports and
 * clock steps on a synthetic clock. Invariants: every output is drained to
 * a deadline, every event we send parses with our own parser, the deadline
 * never lies in the past after handle_timeout, and nothing leaks (ASan).
 *
 * Input: records of [op][len][payload...]. In a fed event's JSON the text
 * "$C" is replaced by the last call id the manager reported, so seeds (and
 * mutations of them) can talk about calls the manager created itself.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/random.h"
#include "matrix/call_manager.h"
#include "fuzz_call_events.h"

typedef struct fpeer { int open; } fpeer;

static const char *sdp_text(const mxrtc_call_media *w) {
    if (w->hold)
        return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
               "a=sendonly\r\na=msid:fz t\r\n";
    return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
           "a=sendrecv\r\na=msid:fz t\r\n";
}

static int put(const char *s, char *sdp, size_t cap, size_t *len) {
    size_t n = strlen(s);
    if (n + 1 > cap) return MXRTC_ERR_BUFFER_TOO_SMALL;
    memcpy(sdp, s, n + 1);
    *len = n;
    return MXRTC_OK;
}

static int p_offer(void *p, const mxrtc_call_media *w, char *sdp, size_t cap, size_t *len) {
    (void)p;
    return put(sdp_text(w), sdp, cap, len);
}
static int p_answer(void *p, const char *remote, const mxrtc_call_media *w, char *sdp, size_t cap, size_t *len) {
    (void)p;
    if (!remote || strncmp(remote, "v=0", 3) != 0) return MXRTC_ERR_MALFORMED;
    return put(sdp_text(w), sdp, cap, len);
}
static int p_set(void *p, const char *r) { (void)p; return r && r[0] == 'v' ? MXRTC_OK : MXRTC_ERR_MALFORMED; }
static int p_add(void *p, const mxrtc_mx_candidate *c, size_t n, bool eoc) {
    (void)p; (void)eoc;
    for (size_t i = 0; i < n; i++)
        if (!c[i].candidate[0]) abort();   /* the end marker never arrives as a candidate */
    return MXRTC_OK;
}
static void p_close(void *p) {
    fpeer *f = p;
    if (!f->open) abort();   /* closed twice */
    f->open = 0;
    free(f);
}
static const mxrtc_call_peer_ops ops = {p_offer, p_answer, p_set, p_add, NULL, p_close};
static int p_open(void *u, const char *id, bool out, void **pp) {
    (void)u; (void)id; (void)out;
    fpeer *f = calloc(1, sizeof *f);
    if (!f) return MXRTC_ERR_NO_MEMORY;
    f->open = 1;
    *pp = f;
    return MXRTC_OK;
}

static char last_call[FZ_CALL_ID_MAX];
static mxrtc_mx_event *check_ev;

static void drain(mxrtc_call_manager *m, mxrtc_time_us now, mxrtc_time_us *deadline) {
    for (int i = 0; i < 10000; i++) {
        mxrtc_cm_output o;
        if (mxrtc_call_manager_poll(m, now, &o) != MXRTC_OK) abort();
        if (o.kind == MXRTC_CM_OUT_DEADLINE) {
            *deadline = o.deadline;
            return;
        }
        if (o.call_id && o.call_id[0]) snprintf(last_call, sizeof last_call, "%s", o.call_id);
        if (o.kind == MXRTC_CM_OUT_SEND) {
            mxrtc_mx_type t = mxrtc_mx_type_from_name(o.type);
            if (t == MXRTC_MX_NONE) abort();
            const char *why = NULL;
            if (mxrtc_mx_event_parse(check_ev, t, o.content, o.content_len, &why) != MXRTC_OK) {
                fprintf(stderr, "we sent an event we cannot parse (%s): %s\n", why, o.content);
                abort();
            }
        }
    }
    abort();   /* outputs never end */
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!check_ev) check_ev = malloc(sizeof *check_ev);
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 1);
    mxrtc_call_manager_config cfg;
    mxrtc_call_manager_config_init(&cfg);
    cfg.user_id = "@me:x";
    cfg.party_id = "ME";
    cfg.random = mxrtc_seeded_random_source(&g);
    cfg.peer.ops = &ops;
    cfg.peer.open = p_open;
    cfg.max_calls = 4;
    mxrtc_call_manager *m = NULL;
    if (mxrtc_call_manager_new(&m, &cfg) != MXRTC_OK) abort();
    last_call[0] = 0;
    mxrtc_time_us now = 1000000, deadline = MXRTC_TIME_NEVER;
    size_t cap = size * 2 + FZ_CALL_ID_MAX;
    char *buf = malloc(cap);
    fz_reader rd = {data, size, 0};
    uint8_t op;
    const uint8_t *p;
    size_t len;
    while (fz_next(&rd, &op, &p, &len)) {
        uint8_t b0 = len > 0 ? p[0] : 0;
        int rc = MXRTC_OK;
        switch (op % 14) {
        case 0: {   /* feed: [type][sender][age] json */
            fz_event fe;
            if (!fz_event_decode(p, len, last_call, buf, cap, &fe)) break;
            mxrtc_mx_room_event e = {"!r:x", fe.sender, fe.type, buf, fe.len, fe.age_ms, 0};
            rc = mxrtc_call_manager_feed(m, now, &e, NULL);
            break;
        }
        case 1: {
            char id[64];
            rc = mxrtc_call_manager_place(m, now, "!r:x", (b0 & 1) ? "@alice:x" : NULL, b0 & 2, id, sizeof id);
            if (rc == MXRTC_OK) snprintf(last_call, sizeof last_call, "%s", id);
            break;
        }
        case 2: rc = mxrtc_call_manager_answer(m, now, last_call, b0 & 1); break;
        case 3: rc = mxrtc_call_manager_reject(m, now, last_call); break;
        case 4: rc = mxrtc_call_manager_hangup(m, now, last_call, (mxrtc_mx_reason)(b0 % 13)); break;
        case 5: rc = mxrtc_call_manager_set_mute(m, now, last_call, b0 & 1, b0 & 2); break;
        case 6: rc = mxrtc_call_manager_set_hold(m, now, last_call, b0 & 1); break;
        case 7: rc = mxrtc_call_manager_set_video(m, now, last_call, b0 & 1); break;
        case 8: rc = mxrtc_call_manager_restart_ice(m, now, last_call); break;
        case 9: rc = mxrtc_call_manager_peer_candidate(m, now, last_call, "candidate:1 1 udp 1 198.51.100.1 9 typ host",
                                                       (b0 & 1) ? "0" : NULL, (b0 & 2) ? 0 : -1); break;
        case 10: rc = mxrtc_call_manager_peer_gathering_done(m, now, last_call); break;
        case 11: rc = mxrtc_call_manager_peer_state(m, now, last_call, (mxrtc_call_peer_state)(1 + b0 % 3)); break;
        case 12: {
            uint64_t step = len >= 2 ? ((uint64_t)p[0] << 8 | p[1]) * 10000 : 100000;
            now += step;
            rc = mxrtc_call_manager_handle_timeout(m, now);
            break;
        }
        case 13: rc = mxrtc_call_manager_member_left(m, now, "!r:x", fz_senders[b0 % 3]); break;
        }
        (void)rc;
        drain(m, now, &deadline);
        if (op % 14 == 12 && deadline <= now) abort();   /* timers due now were all run */
    }
    free(buf);
    mxrtc_call_manager_free(m);
    return 0;
}
