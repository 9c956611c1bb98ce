/*
 * call_content.c: what the call tool reads itself of m.call.* events
 * (tools/matrix_client/matrix_client.h): a content's ids, SDP type and ufrag
 * (mxrtc_mxc_call_info_parse), and the calls of a /sync answer that begin
 * and end in it (mxrtc_mxc_sync_finished_calls).
 * The content comes from the homeserver: every field is type-checked and
 * bounded, and anything unexpected is left empty rather than trusted.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "tools/matrix_client/matrix_client.h"

/* Copies a string item into out (cap bytes) if it fits; else leaves "". */
static void take(const cJSON *item, char *out, size_t cap) {
    if (!cJSON_IsString(item) || !item->valuestring) return;
    size_t n = strlen(item->valuestring);
    if (n >= cap) return;
    memcpy(out, item->valuestring, n + 1);
}

/* The first "a=ice-ufrag:" line of sdp (RFC 8839 §5.4: ice-char, 4..256
 * of them; a bound check only here, mxrtc_calls validates the SDP). */
static void take_ufrag(const char *sdp, char *out, size_t cap) {
    const char *p = sdp;
    while ((p = strstr(p, "a=ice-ufrag:")) != NULL) {
        /* Only at the start of a line. */
        if (p == sdp || p[-1] == '\n') break;
        p += 12;
    }
    if (!p) return;
    p += 12;
    size_t n = strcspn(p, "\r\n");
    if (n == 0 || n >= cap) return;
    memcpy(out, p, n);
    out[n] = 0;
}

int mxrtc_mxc_call_info_parse(const char *content, size_t len, mxrtc_mxc_call_info *out) {
    if (!content || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (len > MXRTC_MXC_MAX_CONTENT) return MXRTC_ERR_LIMIT;
    cJSON *j = cJSON_ParseWithLength(content, len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return MXRTC_ERR_MALFORMED;
    }
    take(cJSON_GetObjectItemCaseSensitive(j, "call_id"), out->call_id, sizeof out->call_id);
    take(cJSON_GetObjectItemCaseSensitive(j, "party_id"), out->party_id, sizeof out->party_id);
    /* Spec v1.19: m.call.invite "offer", m.call.answer "answer",
     * m.call.negotiate "description"; each {type, sdp}. */
    static const char *const keys[] = {"offer", "answer", "description"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, keys[i]);
        const cJSON *sdp = cJSON_GetObjectItemCaseSensitive(d, "sdp");
        if (!cJSON_IsObject(d) || !cJSON_IsString(sdp) || !sdp->valuestring) continue;
        take(cJSON_GetObjectItemCaseSensitive(d, "type"), out->sdp_type, sizeof out->sdp_type);
        take_ufrag(sdp->valuestring, out->ice_ufrag, sizeof out->ice_ufrag);
        break;
    }
    cJSON_Delete(j);
    return MXRTC_OK;
}

int mxrtc_mxc_sync_finished_calls(const mxrtc_mxc_sync *s, const char *user_id, const char *device_id,
                                  bool *skip) {
    if (!s || !user_id || !device_id || (!skip && s->n_events)) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t n = s->n_events;
    if (n == 0) return 0;
    mxrtc_mxc_call_info *ci = calloc(n, sizeof *ci);
    bool *ends = calloc(n, sizeof *ends);
    if (!ci || !ends) {
        free(ci);
        free(ends);
        return MXRTC_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < n; i++) {
        const mxrtc_mxc_event *e = &s->events[i];
        if (strncmp(e->type, "m.call.", 7) != 0 ||
            mxrtc_mxc_call_info_parse(e->content_json, strlen(e->content_json), &ci[i]) != MXRTC_OK)
            continue;
        /* Spec v1.19: a hangup or reject ends the call for everyone; our
         * own answer means this device took it in an earlier run. */
        bool own = !strcmp(e->sender, user_id) && !strcmp(ci[i].party_id, device_id);
        ends[i] = !strcmp(e->type, "m.call.hangup") || !strcmp(e->type, "m.call.reject") ||
                  (own && (!strcmp(e->type, "m.call.answer") || !strcmp(e->type, "m.call.select_answer")));
    }
    int marked = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s->events[i].type, "m.call.invite") != 0 || !ci[i].call_id[0]) continue;
        bool over = false;
        for (size_t k = 0; k < n && !over; k++) over = ends[k] && !strcmp(ci[k].call_id, ci[i].call_id);
        if (!over) continue;
        for (size_t k = 0; k < n; k++) {
            if (!skip[k] && ci[k].call_id[0] && !strcmp(ci[k].call_id, ci[i].call_id)) {
                skip[k] = true;
                marked++;
            }
        }
    }
    free(ci);
    free(ends);
    return marked;
}
