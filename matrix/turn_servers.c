/*
 * turn_servers.c: /voip/turnServer answers (see turn_servers.h).
 */
#include "matrix/turn_servers.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "base/alloc.h"

void mxrtc_turn_servers_wipe(mxrtc_turn_servers *s) {
    if (s) mxrtc_wipe(s, sizeof *s);
}

bool mxrtc_turn_servers_has_turn(const mxrtc_turn_servers *s) {
    if (!s || !s->has_credentials) return false;
    for (uint32_t i = 0; i < s->uri_count; i++)
        if (mxrtc_turn_uri_is_turn(&s->uris[i])) return true;
    return false;
}

static int bad(mxrtc_turn_servers *out, const char **reason, const char *why, int err) {
    mxrtc_turn_servers_wipe(out);
    if (reason) *reason = why;
    return err;
}

int mxrtc_turn_servers_parse(mxrtc_turn_servers *out, const char *json, size_t len, mxrtc_time_us now,
                             const char **reason) {
    if (reason) *reason = NULL;
    if (!out || !json) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (len > MXRTC_TURN_SERVERS_JSON_MAX) return bad(out, reason, "answer larger than 64 KiB", MXRTC_ERR_LIMIT);
    if (memchr(json, 0, len)) return bad(out, reason, "NUL byte in answer", MXRTC_ERR_MALFORMED);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) return bad(out, reason, "answer is not valid JSON", MXRTC_ERR_MALFORMED);
    while (end && end < json + len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')) end++;
    const char *why = NULL;
    if (end != json + len) why = "trailing data after the JSON object";
    else if (!cJSON_IsObject(root)) why = "answer is not a JSON object";
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(root, "username");
    const cJSON *pass = cJSON_GetObjectItemCaseSensitive(root, "password");
    const cJSON *uris = cJSON_GetObjectItemCaseSensitive(root, "uris");
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(root, "ttl");
    if (!why && user && !cJSON_IsString(user)) why = "username is not a string";
    if (!why && pass && !cJSON_IsString(pass)) why = "password is not a string";
    if (!why && uris && !cJSON_IsArray(uris)) why = "uris is not an array";
    if (!why && ttl && !(cJSON_IsNumber(ttl) && ttl->valuedouble >= 0 && ttl->valuedouble <= 4294967295.0 &&
                         floor(ttl->valuedouble) == ttl->valuedouble))
        why = "ttl is not a non-negative integer";
    if (why) {
        cJSON_Delete(root);
        return bad(out, reason, why, MXRTC_ERR_MALFORMED);
    }
    const cJSON *u;
    cJSON_ArrayForEach(u, uris) {
        if (!cJSON_IsString(u) || !u->valuestring) {
            cJSON_Delete(root);
            return bad(out, reason, "a uri is not a string", MXRTC_ERR_MALFORMED);
        }
        if (out->uri_count >= MXRTC_TURN_SERVERS_MAX) {
            out->skipped++;
            continue;
        }
        if (mxrtc_turn_uri_parse(&out->uris[out->uri_count], u->valuestring, strlen(u->valuestring)) == MXRTC_OK)
            out->uri_count++;
        else
            out->skipped++;
    }
    if (user && pass && user->valuestring && pass->valuestring && user->valuestring[0] && pass->valuestring[0] &&
        mxrtc_turn_credentials_from_rest(&out->credentials, user->valuestring, strlen(user->valuestring),
                                         pass->valuestring, strlen(pass->valuestring)) == MXRTC_OK)
        out->has_credentials = true;
    if (pass && pass->valuestring) mxrtc_wipe(pass->valuestring, strlen(pass->valuestring));
    out->ttl_s = ttl ? (uint32_t)ttl->valuedouble : 0;
    cJSON_Delete(root);

    uint64_t refresh_s = MXRTC_TURN_SERVERS_DEFAULT_REFRESH_S;
    if (out->ttl_s > 0) {
        uint64_t a = (uint64_t)out->ttl_s * 8 / 10;
        uint64_t b = out->ttl_s > 30 ? out->ttl_s - 30 : out->ttl_s / 2;
        refresh_s = a < b ? a : b;
        if (refresh_s == 0) refresh_s = 1;
    }
    out->refresh_at = now + refresh_s * 1000000u;
    return MXRTC_OK;
}
