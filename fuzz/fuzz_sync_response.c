/*
 * fuzz_sync_response: the Matrix client's /sync and /voip/turnServer
 * response parsers (tools/matrix_client/sync_parse.c) fed arbitrary bytes, as
 * a hostile or broken homeserver could send. Checks that a success leaves a
 * consistent result (counts within bounds, every kept event complete), and
 * runs the call tool's history filter (mxrtc_mxc_sync_finished_calls) on it.
 *
 * Links tools/'s mxrtc_matrix_client library (see fuzz/CMakeLists.txt).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tools/matrix_client/matrix_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mxrtc_mxc_sync s;
    int rc = mxrtc_mxc_sync_parse((const char *)data, size, &s);
    if (rc == MXRTC_OK) {
        if (s.n_events > MXRTC_MXC_MAX_EVENTS || s.n_invited > MXRTC_MXC_MAX_INVITES || !s.next_batch)
            abort();
        for (size_t i = 0; i < s.n_events; i++) {
            const mxrtc_mxc_event *e = &s.events[i];
            if (!e->room_id || !e->type || !e->sender || !e->event_id || !e->content_json ||
                strlen(e->content_json) > MXRTC_MXC_MAX_CONTENT || e->content_json[0] != '{')
                abort();
            if (strncmp(e->type, "m.call.", 7) != 0 && strcmp(e->type, "m.room.member") != 0)
                abort();
        }
        /* The call tool's history filter over the same answer. */
        bool *skip = calloc(s.n_events ? s.n_events : 1, sizeof *skip);
        if (skip) {
            int marked = mxrtc_mxc_sync_finished_calls(&s, "@me:x", "DEV", skip);
            if (marked > (int)s.n_events) abort();
            free(skip);
        }
    } else if (s.events || s.next_batch || s.n_events) {
        abort();   /* an error leaves the result empty */
    }
    mxrtc_mxc_sync_clear(&s);

    mxrtc_mxc_turn t;
    rc = mxrtc_mxc_turn_parse((const char *)data, size, &t);
    if (rc == MXRTC_OK && t.n_uris > MXRTC_MXC_TURN_URIS)
        abort();
    mxrtc_mxc_turn_clear(&t);
    return 0;
}
