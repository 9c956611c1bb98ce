/*
 * call_content.c: the fields of an m.call.* content that the call tool reads
 * itself (tools/matrix_client/matrix_client.h, mxrtc_mxc_call_info_parse).
 * The content comes from the homeserver: every field is type-checked and
 * bounded, and anything unexpected is left empty rather than trusted.
 */
#include <cjson/cJSON.h>
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
