/*
 * fuzz_matrix_event: every m.call.* content parser (and the /voip/turnServer
 * parser) on arbitrary JSON. The first byte picks the parser; the rest is the
 * content. An event that parses must serialise and parse back to the same
 * call_id and type (what we accept, we can also say).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "matrix/events.h"
#include "matrix/turn_servers.h"

static void round_trip(const mxrtc_mx_event *e, mxrtc_mx_event *back) {
    mxrtc_mx_outgoing o;
    memset(&o, 0, sizeof o);
    o.type = e->type;
    o.call_id = e->call_id;
    o.party_id = e->has_party_id ? e->party_id : "P";
    o.lifetime_ms = e->lifetime_ms;
    o.invitee = e->has_invitee ? e->invitee : NULL;
    o.sdp_type = e->sdp_type;
    o.sdp = e->sdp;
    o.metadata = e->metadata.present ? &e->metadata : NULL;
    o.candidates = e->candidates;
    o.candidate_count = e->candidate_count;
    o.end_of_candidates = e->end_of_candidates;
    o.selected_party_id = e->selected_party_id;
    o.reason = e->reason;
    char *json = NULL;
    size_t len = 0;
    int rc = mxrtc_mx_event_serialize(&o, NULL, &json, &len);
    if (rc == MXRTC_ERR_NO_MEMORY) return;
    if (rc != MXRTC_OK) abort();
    rc = mxrtc_mx_event_parse(back, e->type, json, len, NULL);
    /* the unstable metadata key doubles the metadata text; the content bound
     * may then be hit by a legitimately huge event */
    if (rc == MXRTC_ERR_LIMIT && len > MXRTC_MX_CONTENT_MAX) {
        mxrtc_free(NULL, json);
        return;
    }
    if (rc != MXRTC_OK || strcmp(back->call_id, e->call_id) != 0 ||
        back->candidate_count != e->candidate_count || back->sdp_len != e->sdp_len)
        abort();
    mxrtc_free(NULL, json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned which = data[0] % 9;
    const char *json = (const char *)data + 1;
    size_t len = size - 1;
    if (which == 8) {
        mxrtc_turn_servers s;
        (void)mxrtc_turn_servers_parse(&s, json, len, 1000, NULL);
        (void)mxrtc_turn_servers_has_turn(&s);
        mxrtc_turn_servers_wipe(&s);
        return 0;
    }
    mxrtc_mx_event *e = malloc(sizeof *e), *back = malloc(sizeof *back);
    if (!e || !back) abort();
    const char *why = NULL;
    int rc = mxrtc_mx_event_parse(e, (mxrtc_mx_type)(which + 1), json, len, &why);
    if (rc == MXRTC_OK) round_trip(e, back);
    else if (!why) abort();
    free(e);
    free(back);
    return 0;
}
