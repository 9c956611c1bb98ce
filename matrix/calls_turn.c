/*
 * calls_turn.c: the host's /voip/turnServer answer (turn_servers.h) as the
 * STUN and TURN servers of the calls created from now on.
 *
 * Spec client-server API "Voice over IP: TURN server": the answer lists
 * stun:/turn:/turns: URIs sharing one REST username/password. URIs with an
 * IP literal are used at once; a host name is asked of the host
 * (MXRTC_CALLS_OUT_RESOLVE with call_id NULL) and used once it answers;
 * unresolvable ones are left out. The answer's servers come first (they are
 * the account's), then the host's template's own, up to the peer's bound of
 * MXRTC_PEER_MAX_SERVERS each. stuns: is not spoken by the peer (RFC 7064
 * STUN over TLS): skipped. turns: needs the host's CA file
 * (mxrtc_calls_config.tls_ca_file): without one it is skipped, not fatal
 * (a peer refuses a TLS server it cannot verify, and that would cost the
 * whole call).
 */
#include <string.h>

#include "matrix/calls_internal.h"

void mxrtc_calls_turn_set(mxrtc_calls *c, mxrtc_turn_servers *parsed) {
    mxrtc_turn_servers_wipe(&c->turn);
    c->turn = *parsed;
    mxrtc_turn_servers_wipe(parsed);
    for (uint32_t i = 0; i < MXRTC_TURN_SERVERS_MAX; i++) {
        c->name_state[i] = CALLS_NAME_NONE;
        memset(&c->name_ip[i], 0, sizeof c->name_ip[i]);
        if (i >= c->turn.uri_count || c->turn.uris[i].host_is_ip) continue;
        const mxrtc_turn_uri *u = &c->turn.uris[i];
        if (u->scheme == MXRTC_URI_STUNS) continue;
        if (mxrtc_turn_uri_is_turn(u) && (!c->turn.has_credentials || (u->secure && !c->tls_ca_file))) continue;
        /* One RESOLVE per distinct name: a later URI with the same host
         * shares the first one's answer. */
        bool dup = false;
        for (uint32_t j = 0; j < i && !dup; j++)
            dup = c->name_state[j] != CALLS_NAME_NONE && strcmp(c->turn.uris[j].host, u->host) == 0;
        c->name_state[i] = dup ? CALLS_NAME_ASKED : CALLS_NAME_TO_ASK;
    }
    mxrtc_calls_turn_rebuild(c);
}

const char *mxrtc_calls_turn_next_name(mxrtc_calls *c) {
    for (uint32_t i = 0; i < c->turn.uri_count && i < MXRTC_TURN_SERVERS_MAX; i++)
        if (c->name_state[i] == CALLS_NAME_TO_ASK) {
            c->name_state[i] = CALLS_NAME_ASKED;
            return c->turn.uris[i].host;
        }
    return NULL;
}

int mxrtc_calls_turn_resolved(mxrtc_calls *c, const char *hostname, const mxrtc_addr *ip) {
    bool used = false;
    for (uint32_t i = 0; i < c->turn.uri_count && i < MXRTC_TURN_SERVERS_MAX; i++) {
        const mxrtc_turn_uri *u = &c->turn.uris[i];
        if (c->name_state[i] != CALLS_NAME_ASKED || strcmp(u->host, hostname) != 0) continue;
        used = true;
        if (ip && (ip->family == MXRTC_AF_INET4 || ip->family == MXRTC_AF_INET6)) {
            c->name_ip[i] = *ip;
            c->name_ip[i].port = u->port;
            c->name_state[i] = CALLS_NAME_RESOLVED;
        } else {
            c->name_state[i] = CALLS_NAME_FAILED;
        }
    }
    if (!used) return MXRTC_ERR_NOT_FOUND;
    mxrtc_calls_turn_rebuild(c);
    return MXRTC_OK;
}

void mxrtc_calls_turn_rebuild(mxrtc_calls *c) {
    mxrtc_peer_config *t = &c->tmpl;
    *t = c->base;
    t->stun_server_count = 0;
    t->turn_server_count = 0;
    for (uint32_t i = 0; i < c->turn.uri_count && i < MXRTC_TURN_SERVERS_MAX; i++) {
        const mxrtc_turn_uri *u = &c->turn.uris[i];
        mxrtc_addr addr;
        if (u->host_is_ip) addr = u->addr;
        else if (c->name_state[i] == CALLS_NAME_RESOLVED) addr = c->name_ip[i];
        else continue;
        if (u->scheme == MXRTC_URI_STUN) {
            if (t->stun_server_count < MXRTC_PEER_MAX_SERVERS) t->stun_servers[t->stun_server_count++] = addr;
        } else if (mxrtc_turn_uri_is_turn(u) && c->turn.has_credentials && (!u->secure || c->tls_ca_file) &&
                   t->turn_server_count < MXRTC_PEER_MAX_SERVERS) {
            mxrtc_peer_turn_server *s = &t->turn_servers[t->turn_server_count++];
            memset(s, 0, sizeof *s);
            s->addr = addr;
            s->proto = u->secure ? MXRTC_TURN_PROTO_TLS
                                 : u->transport == MXRTC_URI_TRANSPORT_TCP ? MXRTC_TURN_PROTO_TCP
                                                                           : MXRTC_TURN_PROTO_UDP;
            s->username = c->turn.credentials.username;
            s->password = c->turn.credentials.password;
            /* RFC 8656 §3.3 / RFC 6125: the TLS name is the URI's host. */
            s->tls_server_name = u->secure ? u->host : NULL;
            s->tls_ca_file = u->secure ? c->tls_ca_file : NULL;
        }
    }
    for (size_t i = 0; i < c->base.stun_server_count && t->stun_server_count < MXRTC_PEER_MAX_SERVERS; i++)
        t->stun_servers[t->stun_server_count++] = c->base.stun_servers[i];
    for (size_t i = 0; i < c->base.turn_server_count && t->turn_server_count < MXRTC_PEER_MAX_SERVERS; i++)
        t->turn_servers[t->turn_server_count++] = c->base.turn_servers[i];
    mxrtc_peer_adapter_factory_set_template(c->pf, t);
}
