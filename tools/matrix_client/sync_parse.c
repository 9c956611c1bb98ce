/*
 * sync_parse.c: the /sync and /voip/turnServer response parsers (Matrix spec
 * v1.19, client-server API "Syncing" and "Voice over IP"). Pure functions on
 * a byte buffer: no I/O, so the fuzz target drives them directly.
 *
 * Responses come from the network: every field that is read is checked for
 * its JSON type and length before use, and a response that breaks the shape
 * the spec gives is rejected whole (MXRTC_ERR_MALFORMED) rather than half
 * used. cJSON bounds nesting depth (CJSON_NESTING_LIMIT), so deep input cannot
 * exhaust the stack.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "base/alloc.h"
#include "tools/matrix_client/matrix_client.h"

static char *dup_str(const char *s) {
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

/* A string field of at most max-1 bytes: MXRTC_OK, MALFORMED (absent or not
 * a string, when required) or LIMIT (too long). *out is NULL when absent. */
static int get_str(const cJSON *obj, const char *name, int required, size_t max, const char **out) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    if (!it)
        return required ? MXRTC_ERR_MALFORMED : MXRTC_OK;
    if (!cJSON_IsString(it) || !it->valuestring)
        return MXRTC_ERR_MALFORMED;
    if (strlen(it->valuestring) >= max)
        return MXRTC_ERR_LIMIT;
    *out = it->valuestring;
    return MXRTC_OK;
}

/* An integer field (JSON number with an integral value in int64 range); -1
 * when absent. */
static int get_int(const cJSON *obj, const char *name, int64_t *out) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = -1;
    if (!it)
        return MXRTC_OK;
    if (!cJSON_IsNumber(it))
        return MXRTC_ERR_MALFORMED;
    double d = it->valuedouble;
    /* 2^53: the spec's integer range for JSON (canonical JSON appendix). */
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || d != (double)(int64_t)d)
        return MXRTC_ERR_MALFORMED;
    *out = (int64_t)d;
    return MXRTC_OK;
}

/* An optional member that must be an object when present. */
static int get_obj(const cJSON *obj, const char *name, const cJSON **out) {
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = NULL;
    if (!it)
        return MXRTC_OK;
    if (!cJSON_IsObject(it))
        return MXRTC_ERR_MALFORMED;
    *out = it;
    return MXRTC_OK;
}

static int kept_type(const char *type) {
    return strncmp(type, "m.call.", 7) == 0 || strcmp(type, "m.room.member") == 0;
}

void mxrtc_mxc_sync_clear(mxrtc_mxc_sync *s) {
    if (!s)
        return;
    for (size_t i = 0; i < s->n_events; i++) {
        mxrtc_mxc_event *e = &s->events[i];
        free((char *)e->room_id);
        free((char *)e->type);
        free((char *)e->sender);
        free((char *)e->event_id);
        free((char *)e->state_key);
        free(e->content_json);
    }
    free(s->events);
    for (size_t i = 0; i < s->n_invited; i++)
        free(s->invited_rooms[i]);
    free(s->invited_rooms);
    free(s->next_batch);
    memset(s, 0, sizeof *s);
}

static int add_event(mxrtc_mxc_sync *s, const char *room_id, const cJSON *ev) {
    const char *type, *sender, *event_id, *state_key;
    int rc;
    if (!cJSON_IsObject(ev))
        return MXRTC_ERR_MALFORMED;
    if ((rc = get_str(ev, "type", 1, MXRTC_MXC_ID_MAX, &type)) != MXRTC_OK)
        return rc;
    if (!kept_type(type))
        return MXRTC_OK;   /* the server's filter should have dropped it */
    if ((rc = get_str(ev, "sender", 1, MXRTC_MXC_ID_MAX, &sender)) != MXRTC_OK ||
        (rc = get_str(ev, "event_id", 1, MXRTC_MXC_ID_MAX, &event_id)) != MXRTC_OK ||
        (rc = get_str(ev, "state_key", 0, MXRTC_MXC_ID_MAX, &state_key)) != MXRTC_OK)
        return rc;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(ev, "content");
    if (!cJSON_IsObject(content))
        return MXRTC_ERR_MALFORMED;
    int64_t ts, age = -1;
    if ((rc = get_int(ev, "origin_server_ts", &ts)) != MXRTC_OK)
        return rc;
    const cJSON *unsig;
    if ((rc = get_obj(ev, "unsigned", &unsig)) != MXRTC_OK)
        return rc;
    if (unsig && (rc = get_int(unsig, "age", &age)) != MXRTC_OK)
        return rc;
    if (s->n_events >= MXRTC_MXC_MAX_EVENTS) {
        s->dropped++;
        return MXRTC_OK;
    }
    char *json = cJSON_PrintUnformatted(content);
    if (!json)
        return MXRTC_ERR_NO_MEMORY;
    if (strlen(json) > MXRTC_MXC_MAX_CONTENT) {
        cJSON_free(json);
        return MXRTC_ERR_LIMIT;
    }
    mxrtc_mxc_event *e = &s->events[s->n_events];
    memset(e, 0, sizeof *e);
    e->content_json = dup_str(json);
    cJSON_free(json);
    e->room_id = dup_str(room_id);
    e->type = dup_str(type);
    e->sender = dup_str(sender);
    e->event_id = dup_str(event_id);
    e->state_key = state_key ? dup_str(state_key) : NULL;
    e->origin_server_ts = ts;
    e->age_ms = age;
    s->n_events++;   /* counted now so that clear() frees a partial one */
    if (!e->content_json || !e->room_id || !e->type || !e->sender || !e->event_id ||
        (state_key && !e->state_key))
        return MXRTC_ERR_NO_MEMORY;
    return MXRTC_OK;
}

static int parse_rooms(mxrtc_mxc_sync *s, const cJSON *rooms) {
    const cJSON *join, *invite, *room;
    int rc;
    if ((rc = get_obj(rooms, "join", &join)) != MXRTC_OK ||
        (rc = get_obj(rooms, "invite", &invite)) != MXRTC_OK)
        return rc;
    if (join) {
        cJSON_ArrayForEach(room, join) {
            if (!cJSON_IsObject(room) || !room->string || strlen(room->string) >= MXRTC_MXC_ID_MAX)
                return MXRTC_ERR_MALFORMED;
            const cJSON *timeline;
            if ((rc = get_obj(room, "timeline", &timeline)) != MXRTC_OK)
                return rc;
            if (!timeline)
                continue;
            const cJSON *events = cJSON_GetObjectItemCaseSensitive(timeline, "events");
            if (!events)
                continue;
            if (!cJSON_IsArray(events))
                return MXRTC_ERR_MALFORMED;
            const cJSON *ev;
            cJSON_ArrayForEach(ev, events) {
                if ((rc = add_event(s, room->string, ev)) != MXRTC_OK)
                    return rc;
            }
        }
    }
    if (invite) {
        cJSON_ArrayForEach(room, invite) {
            if (!cJSON_IsObject(room) || !room->string || strlen(room->string) >= MXRTC_MXC_ID_MAX)
                return MXRTC_ERR_MALFORMED;
            if (s->n_invited >= MXRTC_MXC_MAX_INVITES) {
                s->dropped++;
                continue;
            }
            char *id = dup_str(room->string);
            if (!id)
                return MXRTC_ERR_NO_MEMORY;
            s->invited_rooms[s->n_invited++] = id;
        }
    }
    return MXRTC_OK;
}

int mxrtc_mxc_sync_parse(const char *body, size_t len, mxrtc_mxc_sync *out) {
    if (!out || (!body && len))
        return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (len > MXRTC_MXC_MAX_BODY)
        return MXRTC_ERR_LIMIT;
    cJSON *root = cJSON_ParseWithLength(body ? body : "", len);
    if (!root)
        return MXRTC_ERR_MALFORMED;
    int rc = MXRTC_ERR_MALFORMED;
    const char *nb;
    const cJSON *rooms;
    if (!cJSON_IsObject(root))
        goto out;
    if ((rc = get_str(root, "next_batch", 1, MXRTC_MXC_TOKEN_MAX, &nb)) != MXRTC_OK ||
        (rc = get_obj(root, "rooms", &rooms)) != MXRTC_OK)
        goto out;
    rc = MXRTC_ERR_NO_MEMORY;
    out->next_batch = dup_str(nb);
    out->events = calloc(MXRTC_MXC_MAX_EVENTS, sizeof *out->events);
    out->invited_rooms = calloc(MXRTC_MXC_MAX_INVITES, sizeof *out->invited_rooms);
    if (!out->next_batch || !out->events || !out->invited_rooms)
        goto out;
    rc = rooms ? parse_rooms(out, rooms) : MXRTC_OK;
out:
    cJSON_Delete(root);
    if (rc != MXRTC_OK)
        mxrtc_mxc_sync_clear(out);
    return rc;
}

void mxrtc_mxc_turn_clear(mxrtc_mxc_turn *t) {
    if (t)
        mxrtc_wipe(t, sizeof *t);
}

int mxrtc_mxc_turn_parse(const char *body, size_t len, mxrtc_mxc_turn *out) {
    if (!out || (!body && len))
        return MXRTC_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (len > MXRTC_MXC_MAX_BODY)
        return MXRTC_ERR_LIMIT;
    cJSON *root = cJSON_ParseWithLength(body ? body : "", len);
    if (!root)
        return MXRTC_ERR_MALFORMED;
    int rc = MXRTC_ERR_MALFORMED;
    const char *user, *pass;
    int64_t ttl;
    if (!cJSON_IsObject(root))
        goto out;
    /* Spec: all four fields are required when TURN is configured; Synapse
     * answers {} when it is not, which we report as "no servers". */
    if ((rc = get_str(root, "username", 0, MXRTC_MXC_TOKEN_MAX, &user)) != MXRTC_OK ||
        (rc = get_str(root, "password", 0, MXRTC_MXC_TOKEN_MAX, &pass)) != MXRTC_OK ||
        (rc = get_int(root, "ttl", &ttl)) != MXRTC_OK)
        goto out;
    const cJSON *uris = cJSON_GetObjectItemCaseSensitive(root, "uris");
    rc = MXRTC_ERR_MALFORMED;
    if (uris && !cJSON_IsArray(uris))
        goto out;
    if (!uris && !user && !pass && ttl < 0) {
        rc = MXRTC_OK;   /* {} */
        goto out;
    }
    if (!uris || !user || !pass || ttl < 0 || ttl > UINT32_MAX)
        goto out;
    const cJSON *u;
    cJSON_ArrayForEach(u, uris) {
        if (!cJSON_IsString(u) || !u->valuestring) {
            rc = MXRTC_ERR_MALFORMED;
            goto out;
        }
        size_t n = strlen(u->valuestring);
        if (n >= MXRTC_MXC_ID_MAX || out->n_uris >= MXRTC_MXC_TURN_URIS)
            continue;   /* one odd URI does not spoil the others */
        memcpy(out->uris[out->n_uris++], u->valuestring, n + 1);
    }
    memcpy(out->username, user, strlen(user) + 1);
    memcpy(out->password, pass, strlen(pass) + 1);
    out->ttl_s = (uint32_t)ttl;
    rc = MXRTC_OK;
out:
    cJSON_Delete(root);
    if (rc != MXRTC_OK)
        mxrtc_mxc_turn_clear(out);
    return rc;
}
