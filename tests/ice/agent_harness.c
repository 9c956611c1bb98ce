/*
 * agent_harness.c: see agent_harness.h.
 */
#include "agent_harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "base/random.h"

void h_init(h_world *w, uint64_t seed, bool both_controlling) {
    memset(w, 0, sizeof *w);
    w->net = simnet_new(seed);
    w->sig_delay = 100000; /* 100 ms of signalling latency */
    for (int i = 0; i < 2; i++) {
        mxrtc_seeded_random_init(&w->rng[i], seed * 2 + (uint64_t)i + 1);
        mxrtc_ice_config cfg;
        mxrtc_ice_config_init(&cfg);
        cfg.random = mxrtc_seeded_random_source(&w->rng[i]);
        cfg.controlling = both_controlling || i == 0;
        assert_int_equal(mxrtc_ice_agent_new(&w->p[i].agent, &cfg, 0), MXRTC_OK);
        w->p[i].trickle = true;
        w->p[i].relay_host = -1;
        w->p[i].deadline = MXRTC_TIME_NEVER;
    }
}

void h_free(h_world *w) {
    for (int i = 0; i < 2; i++) mxrtc_ice_agent_free(w->p[i].agent);
    simnet_free(w->net);
}

void h_add_addr(h_world *w, int i, const mxrtc_addr *a, unsigned iface_index) {
    h_peer *p = &w->p[i];
    assert_true(p->naddrs < H_MAX_ADDRS);
    p->addrs[p->naddrs++] = *a;
    assert_int_equal(mxrtc_ice_agent_add_interface(p->agent, a, iface_index), MXRTC_OK);
}

static void queue_sig(h_world *w, int to, int kind, const char *line, const mxrtc_addr *ip) {
    assert_true(w->nsig < H_MAX_SIG);
    h_sig *s = &w->sig[w->nsig++];
    memset(s, 0, sizeof *s);
    s->at = w->now + w->sig_delay;
    s->to = to;
    s->kind = kind;
    if (line) snprintf(s->line, sizeof s->line, "%s", line);
    if (ip) s->ip = *ip;
}

void h_signal_line(h_world *w, int i, const char *line) {
    queue_sig(w, i, 0, line, NULL);
}

static void on_event(h_world *w, int i, const mxrtc_ice_output *o) {
    h_peer *p = &w->p[i];
    switch (o->event) {
    case MXRTC_ICE_EV_LOCAL_CANDIDATE: {
        p->local_candidates++;
        if (!p->trickle) break;
        mxrtc_ice_candidate c = *o->candidate;
        if (p->mdns && c.type == MXRTC_ICE_CAND_HOST) {
            /* Hide the address behind an mDNS name, as browsers do. */
            assert_true(w->nnames < H_MAX_NAMES);
            snprintf(w->names[w->nnames].name, sizeof w->names[0].name,
                     "9b36e1e4-58a4-4c2b-8e6e-%012d.local", w->nnames);
            w->names[w->nnames].ip = c.addr;
            snprintf(c.hostname, sizeof c.hostname, "%s", w->names[w->nnames].name);
            uint16_t port = c.addr.port;
            memset(&c.addr, 0, sizeof c.addr);
            c.addr.port = port;
            w->nnames++;
        }
        char line[MXRTC_ICE_CANDIDATE_LINE_MAX];
        assert_true(mxrtc_ice_candidate_format(&c, line, sizeof line) > 0);
        if (getenv("HDEBUG")) fprintf(stderr, "t=%llu peer%d cand %s\n", (unsigned long long)w->now, i, line);
        queue_sig(w, 1 - i, 0, line, NULL);
        break;
    }
    case MXRTC_ICE_EV_GATHERING_DONE:
        p->gathering_done++;
        if (p->trickle) queue_sig(w, 1 - i, 1, NULL, NULL);
        break;
    case MXRTC_ICE_EV_STATE:
        p->state = o->state;
        p->state_counts[o->state]++;
        if (o->state == MXRTC_ICE_STATE_CONNECTED && !p->connected_at) p->connected_at = w->now;
        break;
    case MXRTC_ICE_EV_SELECTED_PAIR:
        p->selected_events++;
        p->sel_at = w->now;
        p->sel_local = o->local;
        p->sel_remote = o->remote;
        break;
    case MXRTC_ICE_EV_RESOLVE: {
        p->resolves++;
        for (int k = 0; k < w->nnames; k++)
            if (strcmp(w->names[k].name, o->hostname) == 0) {
                queue_sig(w, i, 2, o->hostname, &w->names[k].ip);
                return;
            }
        fail_msg("unknown name %s", o->hostname);
        break;
    }
    case MXRTC_ICE_EV_CONSENT_LOST:
        p->consent_lost++;
        break;
    }
}

void h_drain(h_world *w, int i) {
    h_peer *p = &w->p[i];
    for (int guard = 0;; guard++) {
        assert_true(guard < 10000);
        mxrtc_ice_output o;
        assert_int_equal(mxrtc_ice_agent_poll(p->agent, &o), MXRTC_OK);
        switch (o.kind) {
        case MXRTC_ICE_OUT_DEADLINE:
            p->deadline = o.deadline;
            return;
        case MXRTC_ICE_OUT_SEND:
            if (getenv("HDEBUG")) { char b1[80], b2[80]; mxrtc_addr_format(&o.from, b1, 80); mxrtc_addr_format(&o.to, b2, 80); fprintf(stderr, "t=%llu peer%d send %s -> %s len %zu\n", (unsigned long long)w->now, i, b1, b2, o.len); }
            simnet_send(w->net, p->host, &o.from, &o.to, o.data, o.len, w->now);
            break;
        case MXRTC_ICE_OUT_SEND_RELAY:
            assert_true(p->has_relay && mxrtc_addr_equal(&o.from, &p->relayed));
            simnet_send(w->net, p->relay_host, &p->relayed, &o.to, o.data, o.len, w->now);
            break;
        case MXRTC_ICE_OUT_EVENT:
            on_event(w, i, &o);
            break;
        case MXRTC_ICE_OUT_STREAM_SEND:
            fail_msg("simnet carries no TCP: no stream TURN servers here");
            break;
        case MXRTC_ICE_OUT_RECEIVED:
            p->received++;
            p->received_len = o.len;
            break;
        }
    }
}

void h_start(h_world *w) {
    const char *u[2], *pw[2];
    for (int i = 0; i < 2; i++) mxrtc_ice_agent_local_credentials(w->p[i].agent, &u[i], &pw[i]);
    for (int i = 0; i < 2; i++)
        assert_int_equal(mxrtc_ice_agent_set_remote_credentials(w->p[i].agent, u[1 - i], pw[1 - i]), MXRTC_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(mxrtc_ice_agent_gather(w->p[i].agent, w->now), MXRTC_OK);
        h_drain(w, i);
    }
}

static int peer_for(h_world *w, const simnet_packet *pkt, bool *relayed) {
    for (int i = 0; i < 2; i++) {
        h_peer *p = &w->p[i];
        if (p->has_relay && pkt->host == p->relay_host && mxrtc_addr_equal(&pkt->to, &p->relayed)) {
            *relayed = true;
            return i;
        }
        if (pkt->host != p->host) continue;
        for (int k = 0; k < p->naddrs; k++)
            if (mxrtc_addr_equal(&p->addrs[k], &pkt->to)) {
                *relayed = false;
                return i;
            }
    }
    return -1;
}

bool h_both_selected(h_world *w) {
    return w->p[0].selected_events > 0 && w->p[1].selected_events > 0;
}

void h_run(h_world *w, mxrtc_time_us until, bool (*stop)(h_world *w)) {
    mxrtc_time_us last_now = w->now;
    long same_now = 0;
    while (!(stop && stop(w))) {
        w->iterations++;
        /* Signalling due now. */
        for (int k = 0; k < w->nsig;) {
            h_sig s = w->sig[k];
            if (s.at > w->now) { k++; continue; }
            /* Remove keeping FIFO order: a candidate must not overtake
             * the end-of-candidates sent after it. */
            memmove(&w->sig[k], &w->sig[k + 1], (size_t)(w->nsig - k - 1) * sizeof w->sig[0]);
            w->nsig--;
            h_peer *p = &w->p[s.to];
            int rc;
            if (s.kind == 0) rc = mxrtc_ice_agent_add_remote_candidate_line(p->agent, w->now, s.line, strlen(s.line));
            else if (s.kind == 1) rc = mxrtc_ice_agent_remote_gathering_done(p->agent, w->now);
            else rc = mxrtc_ice_agent_resolved(p->agent, w->now, s.line, &s.ip);
            assert_int_equal(rc, MXRTC_OK);
            h_drain(w, s.to);
            k = 0;
        }
        simnet_packet pkt;
        while (simnet_pop(w->net, w->now, &pkt)) {
            bool relayed = false;
            int i = peer_for(w, &pkt, &relayed);
            if (i < 0) continue; /* nobody listens on that port */
            int rc = mxrtc_ice_agent_handle_datagram(w->p[i].agent, w->now, &pkt.to, &pkt.from, pkt.data, pkt.len);
            if (rc == MXRTC_ERR_MALFORMED) {
                /* Not STUN: application data on a direct path. */
                w->p[i].received++;
                w->p[i].received_len = pkt.len;
                continue;
            }
            assert_int_equal(rc, MXRTC_OK);
            h_drain(w, i);
        }
        for (int i = 0; i < 2; i++)
            if (w->p[i].deadline <= w->now) {
                assert_int_equal(mxrtc_ice_agent_handle_timeout(w->p[i].agent, w->now), MXRTC_OK);
                h_drain(w, i);
            }
        mxrtc_time_us next = simnet_next_delivery_time(w->net);
        for (int i = 0; i < 2; i++)
            if (w->p[i].deadline < next) next = w->p[i].deadline;
        for (int k = 0; k < w->nsig; k++)
            if (w->sig[k].at < next) next = w->sig[k].at;
        if (next > until) {
            w->now = until;
            break;
        }
        if (next > w->now) w->now = next;
        if (w->now == last_now) {
            /* An agent that keeps asking for the same instant is a bug. */
            if (++same_now > 1000) fail_msg("busy loop at t=%llu", (unsigned long long)w->now);
        } else {
            same_now = 0;
            last_now = w->now;
        }
    }
}
