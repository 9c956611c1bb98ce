/*
 * fuzz_calls: one mxrtc_calls object (the public Matrix call API, real
 * peers) driven by a random sequence of room events (random and mutated
 * m.call.* JSON, m.room.member), datagrams from a few remote addresses,
 * /voip/turnServer answers, resolver answers, TURN stream bytes, user
 * actions, media and clock steps on a synthetic clock.
 *
 * Invariants: after every input poll() reaches a deadline within a bound;
 * every SEND_EVENT content is a NUL-terminated JSON text of content_len
 * bytes; a call_id is at most MXRTC_CALL_ID_MAX bytes; after a
 * handle_timeout the deadline is not in the past; inputs while outputs
 * wait are refused; nothing leaks (ASan).
 *
 * Input: records [op][len16][payload] (fuzz_call_events.h; the feed
 * record is the one of fuzz_call_manager, whose seeds therefore work here
 * too).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/random.h"
#include "mxrtc.h"
#include "fuzz_call_events.h"

static char last_call[FZ_CALL_ID_MAX];
static uint8_t pic_y[32 * 32], pic_uv[16 * 16];

static void drain(mxrtc_calls *c, mxrtc_time_us now, mxrtc_time_us *deadline) {
    for (int i = 0; i < 100000; i++) {
        mxrtc_calls_output o;
        if (mxrtc_calls_poll(c, now, &o) != MXRTC_OK) abort();
        if (o.kind == MXRTC_CALLS_OUT_DEADLINE) {
            *deadline = o.deadline;
            return;
        }
        if (o.call_id) {
            if (strlen(o.call_id) > MXRTC_CALL_ID_MAX) abort();
            snprintf(last_call, sizeof last_call, "%s", o.call_id);
        }
        if (o.kind == MXRTC_CALLS_OUT_SEND_EVENT) {
            if (!o.content || strlen(o.content) != o.content_len || o.content[0] != '{' || !o.type || !o.room_id)
                abort();
        }
        if ((o.kind == MXRTC_CALLS_OUT_DATAGRAM || o.kind == MXRTC_CALLS_OUT_STREAM) && (!o.data || !o.len))
            abort();
        if (o.kind == MXRTC_CALLS_OUT_RESOLVE && !o.text) abort();
    }
    abort();   /* outputs never end */
}

static const char *const turn_answers[] = {
    "{}",
    "{\"username\":\"1:@me:x\",\"password\":\"pw\",\"uris\":[\"turn:198.51.100.7:3478\"],\"ttl\":60}",
    ("{\"username\":\"1:@me:x\",\"password\":\"pw\",\"uris\":[\"turn:turn.x?transport=tcp\",\"turns:turn.x\","
     "\"stun:stun.x\"],\"ttl\":5}"),
    "{\"uris\":3}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_seeded_random g;
    mxrtc_seeded_random_init(&g, 1);
    mxrtc_peer_config pc;
    mxrtc_peer_config_init(&pc);
    mxrtc_addr local, remotes[4];
    mxrtc_addr_parse(&local, "192.0.2.1", 5000);
    mxrtc_addr_parse(&remotes[0], "192.0.2.2", 5000);
    mxrtc_addr_parse(&remotes[1], "198.51.100.7", 3478);   /* the TURN server of turn_answers[1] */
    mxrtc_addr_parse(&remotes[2], "203.0.113.9", 9);
    mxrtc_addr_parse(&remotes[3], "2001:db8::2", 5000);
    pc.interfaces[0] = local;
    pc.interface_count = 1;
    mxrtc_calls_config cfg;
    mxrtc_calls_config_init(&cfg);
    cfg.user_id = "@me:x";
    cfg.device_id = "ME";
    cfg.random = mxrtc_seeded_random_source(&g);
    cfg.peer = &pc;
    cfg.max_calls = 3;
    mxrtc_calls *c = NULL;
    mxrtc_time_us now = 1000000, deadline = MXRTC_TIME_NEVER;
    if (mxrtc_calls_new(&c, &cfg, now) != MXRTC_OK) abort();
    drain(c, now, &deadline);
    last_call[0] = 0;
    size_t cap = size * 2 + FZ_CALL_ID_MAX;
    char *buf = malloc(cap);
    fz_reader rd = {data, size, 0};
    uint8_t op;
    const uint8_t *p;
    size_t len;
    int16_t pcm[480];
    memset(pcm, 0, sizeof pcm);
    while (fz_next(&rd, &op, &p, &len)) {
        uint8_t b0 = len > 0 ? p[0] : 0;
        int rc = MXRTC_OK;
        switch (op % 16) {
        case 0: {   /* feed: [type][sender][age] json */
            fz_event fe;
            if (!fz_event_decode(p, len, last_call, buf, cap, &fe)) break;
            mxrtc_room_event e = {"!r:x", fe.sender, fe.type, NULL, buf, fe.len, fe.age_ms, 0};
            rc = mxrtc_calls_feed_event(c, now, &e, NULL);
            break;
        }
        case 1: {
            char id[128];
            rc = mxrtc_calls_place(c, now, "!r:x", (b0 & 1) ? "@alice:x" : NULL, b0 & 2, id, sizeof id);
            if (rc == MXRTC_OK) snprintf(last_call, sizeof last_call, "%s", id);
            break;
        }
        case 2: rc = mxrtc_calls_answer(c, now, last_call, b0 & 1); break;
        case 3: rc = mxrtc_calls_reject(c, now, last_call); break;
        case 4:
            rc = (b0 & 0x80) ? mxrtc_calls_hangup_reason(c, now, last_call, (mxrtc_call_end_reason)(b0 % 14))
                             : mxrtc_calls_hangup(c, now, last_call);
            break;
        case 5: rc = mxrtc_calls_set_mute(c, now, last_call, b0 & 1, b0 & 2); break;
        case 6: rc = mxrtc_calls_set_hold(c, now, last_call, b0 & 1); break;
        case 7: rc = mxrtc_calls_set_video(c, now, last_call, b0 & 1); break;
        case 8:     /* a datagram: [remote] bytes */
            if (len < 1) break;
            rc = mxrtc_calls_handle_datagram(c, now, &local, &remotes[b0 % 4], p + 1, len - 1);
            break;
        case 9:     /* /voip/turnServer: [which] or raw JSON */
            if (len <= 1)
                rc = mxrtc_calls_set_turn_servers(c, now, turn_answers[b0 % 4], strlen(turn_answers[b0 % 4]));
            else
                rc = mxrtc_calls_set_turn_servers(c, now, (const char *)p + 1, len - 1);
            break;
        case 10: {  /* time: [step hi][step lo] in 10 ms */
            uint64_t step = len >= 2 ? ((uint64_t)p[0] << 8 | p[1]) * 10000 : 100000;
            now += step;
            rc = mxrtc_calls_handle_timeout(c, now);
            drain(c, now, &deadline);
            if (deadline <= now) abort();   /* timers due now were all run */
            continue;
        }
        case 11: {  /* membership */
            static const char *const ms[] = {"{\"membership\":\"leave\"}", "{\"membership\":\"ban\"}",
                                             "{\"membership\":\"join\"}", "{}"};
            const char *m = ms[(b0 >> 2) % 4];
            mxrtc_room_event e = {"!r:x", fz_senders[b0 % 3], "m.room.member", fz_senders[b0 % 3], m, strlen(m), 0, 0};
            rc = mxrtc_calls_feed_event(c, now, &e, NULL);
            break;
        }
        case 12:    /* media */
            if (b0 & 1) {
                mxrtc_picture pic = {pic_y, pic_uv, pic_uv, 32, 16, 16, 32, 32, now};
                rc = mxrtc_calls_push_video(c, now, last_call, &pic);
            } else {
                rc = mxrtc_calls_push_audio(c, now, last_call, pcm, 480);
                int16_t out[480];
                (void)mxrtc_calls_pull_audio(c, now, last_call, out, 480);
            }
            break;
        case 13: {  /* a resolver's answer */
            static const char *const names[] = {"turn.x", "stun.x", "abc.local"};
            rc = mxrtc_calls_resolved(c, now, (b0 & 4) ? last_call : NULL, names[b0 % 3],
                                      (b0 & 8) ? NULL : &remotes[1]);
            break;
        }
        case 14:    /* TURN stream bytes */
            rc = mxrtc_calls_handle_stream(c, now, last_call, &remotes[1], len > 1 ? p + 1 : NULL,
                                           len > 1 ? len - 1 : 0, b0 & 1);
            break;
        case 15: {  /* the drain rule: an input with outputs waiting is refused */
            char id[128];
            rc = mxrtc_calls_place(c, now, "!r:x", NULL, 0, id, sizeof id);
            if (rc == MXRTC_OK) {
                mxrtc_calls_output o;
                if (mxrtc_calls_poll(c, now, &o) != MXRTC_OK) abort();
                if (o.kind != MXRTC_CALLS_OUT_DEADLINE &&
                    mxrtc_calls_hangup(c, now, id) != MXRTC_ERR_STATE) abort();
            }
            break;
        }
        }
        (void)rc;
        drain(c, now, &deadline);
    }
    mxrtc_calls_counters ct = {.size = sizeof ct};
    if (mxrtc_calls_get_counters(c, &ct) != MXRTC_OK) abort();
    free(buf);
    mxrtc_calls_free(c);
    return 0;
}
