/*
 * peer.c: the peer connection's life cycle, its output queue (with the drain
 * rule), the network inputs and the pumping of ICE and DTLS outputs.
 *
 * Every internal module has its own drain rule, so outputs are moved into
 * one bounded queue (mxrtc_pktq) as soon as they appear; data the ICE agent
 * unwraps from its TURN allocation (RECEIVED) is parked in a second queue
 * and processed once ICE is drained, because processing it may send.
 */
#include <string.h>

#include "peer/peer.h"
#include "base/alloc.h"
#include "base/log.h"
#include "base/random.h"

void mxrtc_peer_config_init(mxrtc_peer_config *cfg) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
    cfg->random = mxrtc_random_os();
    cfg->audio = MXRTC_DIR_SENDRECV;
    cfg->video = MXRTC_DIR_NONE;
    cfg->vp9 = 1;
    cfg->video_bitrate_bps = 800000;
    cfg->playout_max_ms = 300;
}

/* ---- outputs ------------------------------------------------------------- */

void mxrtc_peer_emit(mxrtc_peer *p, const peer_outmeta *m, const uint8_t *data, size_t len) {
    if (mxrtc_pktq_push(&p->outq, m, data, len, NULL, 0) != MXRTC_OK) p->dropped_outputs++;
}

void mxrtc_peer_emit_event(mxrtc_peer *p, mxrtc_peer_event ev) {
    peer_outmeta m;
    memset(&m, 0, sizeof m);
    m.kind = MXRTC_PEER_OUT_EVENT;
    m.event = (uint8_t)ev;
    m.state = (uint8_t)p->state;
    m.dtls_state = (uint8_t)p->dtls_state;
    mxrtc_peer_emit(p, &m, NULL, 0);
}

static mxrtc_time_us min_t(mxrtc_time_us a, mxrtc_time_us b) { return a < b ? a : b; }

int mxrtc_peer_poll(mxrtc_peer *p, mxrtc_time_us now, mxrtc_peer_output *out) {
    (void)now;
    if (!p || !out) return MXRTC_ERR_INVALID_ARGUMENT;
    if (p->front_held) {
        mxrtc_pktq_pop(&p->outq);
        p->front_held = false;
    }
    memset(out, 0, sizeof *out);
    peer_outmeta m;
    const uint8_t *data;
    size_t len;
    if (mxrtc_pktq_front(&p->outq, &m, &data, &len) == MXRTC_OK) {
        p->front_held = true;
        out->kind = (mxrtc_peer_output_kind)m.kind;
        out->from = m.from;
        out->to = m.to;
        out->data = data;
        out->len = len;
        out->event = (mxrtc_peer_event)m.event;
        out->state = (mxrtc_peer_state)m.state;
        out->dtls_state = (mxrtc_dtls_state)m.dtls_state;
        out->media = (mxrtc_media_kind)m.media;
        /* The stored entry is NUL-terminated text for text events. */
        if (m.kind == MXRTC_PEER_OUT_EVENT && len) out->text = (const char *)data;
        /* mid lives in the meta copy, which we keep in the peer until the next poll. */
        memcpy(p->out_mid, m.mid, sizeof m.mid);
        p->out_mid[sizeof p->out_mid - 1] = 0;
        out->mid = p->out_mid[0] ? p->out_mid : NULL;
        out->picture = m.picture;
        return MXRTC_OK;
    }
    out->kind = MXRTC_PEER_OUT_DEADLINE;
    mxrtc_time_us d = MXRTC_TIME_NEVER;
    if (p->closed) {
        /* Teardown (mxrtc_peer_close): the TURN deallocations' timers;
         * MXRTC_TIME_NEVER once they are over (mxrtc.h). */
        if (p->ice && !mxrtc_ice_agent_close_done(p->ice)) d = p->ice_deadline;
    } else {
        if (p->ice) d = min_t(d, p->ice_deadline);
        if (p->dtls) d = min_t(d, p->dtls_deadline);
        d = min_t(d, mxrtc_peer_media_deadline(p));
        if (p->srtp) d = min_t(d, p->next_rtcp);
    }
    out->deadline = d;
    return MXRTC_OK;
}

/* The drain rule (DESIGN.md): outputs must be taken before the next input. */
static int input_ok(const mxrtc_peer *p) {
    /* An entry still queued, or the last one returned without a DEADLINE
     * after it, means the host stopped draining early. */
    return p->outq.count ? MXRTC_ERR_STATE : MXRTC_OK;
}

#define INPUT(p)                                            \
    do {                                                    \
        if (!(p)) return MXRTC_ERR_INVALID_ARGUMENT;        \
        int in_rc_ = input_ok(p);                           \
        if (in_rc_) return in_rc_;                          \
        if ((p)->closed) return MXRTC_ERR_CLOSED;           \
    } while (0)

/* ---- state ---------------------------------------------------------------- */

void mxrtc_peer_update_state(mxrtc_peer *p) {
    mxrtc_peer_state s;
    if (p->closed || p->dtls_state == MXRTC_DTLS_STATE_CLOSED) s = MXRTC_PEER_STATE_CLOSED;
    else if (p->ice_state == MXRTC_ICE_STATE_FAILED || p->dtls_state == MXRTC_DTLS_STATE_FAILED)
        s = MXRTC_PEER_STATE_FAILED;
    else if (p->ice_state == MXRTC_ICE_STATE_DISCONNECTED) s = MXRTC_PEER_STATE_DISCONNECTED;
    else if ((p->ice_state == MXRTC_ICE_STATE_CONNECTED || p->ice_state == MXRTC_ICE_STATE_COMPLETED) &&
             p->srtp)
        s = MXRTC_PEER_STATE_CONNECTED;
    else if (p->ice_state == MXRTC_ICE_STATE_NEW && !p->dtls) s = MXRTC_PEER_STATE_NEW;
    else s = MXRTC_PEER_STATE_CONNECTING;
    if (s == p->state) return;
    p->state = s;
    MXRTC_LOGI(&p->logger, "peer", "state %d", (int)s);
    mxrtc_peer_emit_event(p, MXRTC_PEER_EV_STATE);
}

static void set_dtls_state(mxrtc_peer *p, mxrtc_dtls_state s) {
    if (p->dtls_state == s) return;
    p->dtls_state = s;
    mxrtc_peer_emit_event(p, MXRTC_PEER_EV_DTLS_STATE);
    mxrtc_peer_update_state(p);
}

/* ---- ICE ------------------------------------------------------------------ */

static void emit_text_event(mxrtc_peer *p, mxrtc_peer_event ev, const char *text, const char *mid) {
    peer_outmeta m;
    memset(&m, 0, sizeof m);
    m.kind = MXRTC_PEER_OUT_EVENT;
    m.event = (uint8_t)ev;
    m.state = (uint8_t)p->state;
    m.dtls_state = (uint8_t)p->dtls_state;
    if (mid) {
        strncpy(m.mid, mid, sizeof m.mid - 1);
    }
    mxrtc_peer_emit(p, &m, (const uint8_t *)text, text ? strlen(text) + 1 : 0);
}

void mxrtc_peer_pump_ice(mxrtc_peer *p, mxrtc_time_us now) {
    if (!p->ice) return;
    mxrtc_ice_output o;
    for (;;) {
        if (mxrtc_ice_agent_poll(p->ice, &o) != MXRTC_OK) break;
        if (o.kind == MXRTC_ICE_OUT_DEADLINE) {
            p->ice_deadline = o.deadline;
            break;
        }
        peer_outmeta m;
        memset(&m, 0, sizeof m);
        switch (o.kind) {
        case MXRTC_ICE_OUT_SEND:
            m.kind = MXRTC_PEER_OUT_DATAGRAM;
            m.from = o.from;
            m.to = o.to;
            mxrtc_peer_emit(p, &m, o.data, o.len);
            break;
        case MXRTC_ICE_OUT_STREAM_SEND:
            m.kind = MXRTC_PEER_OUT_STREAM;
            m.to = o.to;
            mxrtc_peer_emit(p, &m, o.data, o.len);
            break;
        case MXRTC_ICE_OUT_RECEIVED:
            /* Processed after ICE is drained (it may make us send). */
            if (mxrtc_pktq_push(&p->rxq, NULL, o.data, o.len, NULL, 0)) p->garbage++;
            break;
        case MXRTC_ICE_OUT_SEND_RELAY:
            break;   /* we register no external relays */
        case MXRTC_ICE_OUT_EVENT:
            switch (o.event) {
            case MXRTC_ICE_EV_LOCAL_CANDIDATE: {
                char line[MXRTC_ICE_CANDIDATE_LINE_MAX];
                int n = mxrtc_ice_candidate_format(o.candidate, line, sizeof line);
                if (n < 0) break;
                if (p->local_cand_count < PEER_LOCAL_CANDS)
                    memcpy(p->local_cands[p->local_cand_count++], line, (size_t)n + 1);
                else
                    p->local_cands_unlisted++;
                emit_text_event(p, MXRTC_PEER_EV_LOCAL_CANDIDATE, line, p->local_mid);
                break;
            }
            case MXRTC_ICE_EV_GATHERING_DONE:
                emit_text_event(p, MXRTC_PEER_EV_GATHERING_DONE, NULL, p->local_mid);
                break;
            case MXRTC_ICE_EV_STATE:
                p->ice_state = o.state;
                if (o.state == MXRTC_ICE_STATE_CONNECTED || o.state == MXRTC_ICE_STATE_COMPLETED)
                    p->dtls_start_due = true;
                mxrtc_peer_update_state(p);
                break;
            case MXRTC_ICE_EV_RESOLVE:
                emit_text_event(p, MXRTC_PEER_EV_RESOLVE, o.hostname, NULL);
                break;
            case MXRTC_ICE_EV_CONSENT_LOST:
                p->ice_state = MXRTC_ICE_STATE_FAILED;
                mxrtc_peer_update_state(p);
                break;
            default:
                break;
            }
            break;
        default:
            break;
        }
    }
    (void)now;
}

int mxrtc_peer_ice_send(mxrtc_peer *p, mxrtc_time_us now, const uint8_t *data, size_t len) {
    if (!p->ice) return MXRTC_ERR_STATE;
    int rc = mxrtc_ice_agent_send(p->ice, now, data, len);
    mxrtc_peer_pump_ice(p, now);
    return rc;
}

/* ---- DTLS ----------------------------------------------------------------- */

void mxrtc_peer_pump_dtls(mxrtc_peer *p, mxrtc_time_us now) {
    if (!p->dtls) return;
    mxrtc_dtls_output o;
    for (;;) {
        if (mxrtc_dtls_poll(p->dtls, now, &o) != MXRTC_OK) break;
        if (o.type == MXRTC_DTLS_OUT_DEADLINE) {
            p->dtls_deadline = o.deadline;
            break;
        }
        switch (o.type) {
        case MXRTC_DTLS_OUT_DATAGRAM:
            /* The ICE agent copies it; the DTLS pointer stays valid meanwhile. */
            mxrtc_peer_ice_send(p, now, o.data, o.len);
            break;
        case MXRTC_DTLS_OUT_CONNECTED: {
            mxrtc_dtls_srtp_keys keys;
            if (!p->srtp && mxrtc_dtls_get_srtp_keys(p->dtls, &keys) == MXRTC_OK) {
                /* RFC 5764 §4.2: both directions keyed from the exporter. */
                if (mxrtc_srtp_new_from_dtls(&p->srtp, p->alloc, &keys) != MXRTC_OK) p->srtp = NULL;
                mxrtc_wipe(&keys, sizeof keys);
            }
            p->next_rtcp = now + PEER_RTCP_INTERVAL;
            set_dtls_state(p, p->srtp ? MXRTC_DTLS_STATE_CONNECTED : MXRTC_DTLS_STATE_FAILED);
            break;
        }
        case MXRTC_DTLS_OUT_FAILED:
            MXRTC_LOGW(&p->logger, "peer", "DTLS failed: %s", mxrtc_strerror(o.error));
            set_dtls_state(p, MXRTC_DTLS_STATE_FAILED);
            break;
        case MXRTC_DTLS_OUT_CLOSED:
            /* The remote's close_notify ends the session as our close does:
             * release the TURN allocations too. */
            set_dtls_state(p, MXRTC_DTLS_STATE_CLOSED);
            p->closed = true;
            mxrtc_peer_start_teardown(p, now);
            break;
        default:
            break;   /* APP_DATA: no data channels yet */
        }
    }
}

void mxrtc_peer_maybe_start_dtls(mxrtc_peer *p, mxrtc_time_us now) {
    if (p->dtls || !p->role_known || p->closed) return;
    bool ice_up = p->ice_state == MXRTC_ICE_STATE_CONNECTED || p->ice_state == MXRTC_ICE_STATE_COMPLETED;
    /* A client's ClientHello needs a selected pair to travel on; a server
     * just waits for it. */
    if (p->role == MXRTC_DTLS_ROLE_CLIENT && !ice_up) return;
    mxrtc_dtls_config c;
    mxrtc_dtls_config_init(&c);
    c.role = p->role;
    c.cert = p->cert;
    c.remote_fingerprint = p->remote_fp;
    c.allocator = p->alloc;
    c.random = p->random;
    c.logger = p->logger;
    if (mxrtc_dtls_new(&p->dtls, &c, now) != MXRTC_OK) {
        p->dtls = NULL;
        set_dtls_state(p, MXRTC_DTLS_STATE_FAILED);
        return;
    }
    set_dtls_state(p, MXRTC_DTLS_STATE_CONNECTING);
    mxrtc_peer_pump_dtls(p, now);
    /* A ClientHello that came before we knew our role (RFC 8445 §12.1 lets
     * the peer send on its first valid pair, possibly before our answer or
     * its own nomination): hand it over now instead of waiting ~1 s for the
     * client's retransmission (RFC 6347 §4.2.4.1). */
    const uint8_t *d;
    size_t len;
    while (p->early_dtls.buf && p->dtls && mxrtc_pktq_front(&p->early_dtls, NULL, &d, &len) == MXRTC_OK) {
        uint8_t tmp[MXRTC_ICE_SEND_MAX];
        size_t n = len < sizeof tmp ? len : sizeof tmp;
        memcpy(tmp, d, n);
        mxrtc_pktq_pop(&p->early_dtls);
        if (p->role != MXRTC_DTLS_ROLE_SERVER) continue;
        if (mxrtc_dtls_handle_datagram(p->dtls, now, tmp, n) != MXRTC_OK) p->garbage++;
        mxrtc_peer_pump_dtls(p, now);
    }
    mxrtc_pktq_free(&p->early_dtls, p->alloc);
}

/* ---- inbound datagrams ---------------------------------------------------- */

/* RFC 6347 §4.1: a handshake record (content type 22) of DTLS 1.0 (254.255)
 * or 1.2 (254.253): what may usefully wait for our DTLS endpoint. */
static bool looks_like_dtls_handshake(const uint8_t *d, size_t len) {
    return len >= MXRTC_DTLS_RECORD_HEADER && d[0] == 22 && d[1] == 254 && (d[2] == 255 || d[2] == 253);
}

/* Application data from the selected path (directly or unwrapped from TURN). */
static void on_app_data(mxrtc_peer *p, mxrtc_time_us now, const uint8_t *data, size_t len) {
    switch (mxrtc_demux_classify(data, len)) {
    case MXRTC_DEMUX_DTLS:
        if (!p->dtls) {
            /* Before our role is known: kept (bounded) for
             * mxrtc_peer_maybe_start_dtls; beyond the bound, or once
             * closed, dropped (the peer retransmits). */
            if (p->closed || !looks_like_dtls_handshake(data, len) ||
                (!p->early_dtls.buf && mxrtc_pktq_init(&p->early_dtls, p->alloc,
                                                                    PEER_EARLY_DTLS_BYTES, 0) != MXRTC_OK) ||
                mxrtc_pktq_push(&p->early_dtls, NULL, data, len, NULL, 0) != MXRTC_OK)
                p->garbage++;
            return;
        }
        if (mxrtc_dtls_handle_datagram(p->dtls, now, data, len) != MXRTC_OK) p->garbage++;
        mxrtc_peer_pump_dtls(p, now);
        return;
    case MXRTC_DEMUX_RTP:
    case MXRTC_DEMUX_RTCP:
        if (len > PEER_PKT_MAX || !p->srtp) {
            p->garbage++;
            return;
        }
        memcpy(p->buf, data, len);
        if (mxrtc_demux_classify(data, len) == MXRTC_DEMUX_RTP) mxrtc_peer_on_rtp(p, now, p->buf, len);
        else mxrtc_peer_on_rtcp(p, now, p->buf, len);
        return;
    default:
        p->garbage++;
        return;
    }
}

/* After every input: start DTLS if due, then process relayed data. */
static void settle(mxrtc_peer *p, mxrtc_time_us now) {
    for (int guard = 0; guard < 256; guard++) {
        if (p->dtls_start_due) {
            p->dtls_start_due = false;
            mxrtc_peer_maybe_start_dtls(p, now);
        }
        const uint8_t *d;
        size_t len;
        if (mxrtc_pktq_front(&p->rxq, NULL, &d, &len) != MXRTC_OK) break;
        uint8_t tmp[MXRTC_ICE_SEND_MAX];
        size_t n = len < sizeof tmp ? len : sizeof tmp;
        memcpy(tmp, d, n);
        mxrtc_pktq_pop(&p->rxq);
        on_app_data(p, now, tmp, n);
    }
    if (p->frame_pending) {
        peer_outmeta m;
        memset(&m, 0, sizeof m);
        m.kind = MXRTC_PEER_OUT_EVENT;
        m.event = MXRTC_PEER_EV_VIDEO_FRAME;
        m.media = MXRTC_MEDIA_VIDEO;
        m.state = (uint8_t)p->state;
        m.dtls_state = (uint8_t)p->dtls_state;
        memcpy(m.mid, p->video_sec.mid, sizeof m.mid);
        m.picture = p->frame_pic;
        mxrtc_peer_emit(p, &m, NULL, 0);
        p->frame_pending = false;
    }
}

/* After close, while the ICE agent releases its TURN allocations: is the
 * teardown still running (inputs from the TURN servers still accepted)? */
static bool tearing_down(const mxrtc_peer *p) {
    return p->closed && p->ice && !mxrtc_ice_agent_close_done(p->ice);
}

void mxrtc_peer_start_teardown(mxrtc_peer *p, mxrtc_time_us now) {
    if (!p->ice) return;
    mxrtc_peer_pump_ice(p, now);   /* the agent's drain rule: drained, so close is accepted */
    int rc = mxrtc_ice_agent_close(p->ice, now);
    if (rc != MXRTC_OK) MXRTC_LOGW(&p->logger, "peer", "ICE close refused: %s", mxrtc_strerror(rc));
    mxrtc_peer_pump_ice(p, now);
}

/* A closed peer's input during the teardown: the TURN servers' answers
 * (STUN and ChannelData from them; the agent refuses anything else with
 * MXRTC_ERR_CLOSED) and the time. */
static int teardown_datagram(mxrtc_peer *p, mxrtc_time_us now, const mxrtc_addr *local, const mxrtc_addr *remote,
                             const uint8_t *data, size_t len) {
    mxrtc_demux_kind k = mxrtc_demux_classify(data, len);
    if (k != MXRTC_DEMUX_STUN && k != MXRTC_DEMUX_TURN_CHANNEL) return MXRTC_ERR_CLOSED;
    int rc = mxrtc_ice_agent_handle_datagram(p->ice, now, local, remote, data, len);
    mxrtc_peer_pump_ice(p, now);
    return rc == MXRTC_OK ? MXRTC_OK : MXRTC_ERR_CLOSED;
}

int mxrtc_peer_handle_datagram(mxrtc_peer *p, mxrtc_time_us now, const mxrtc_addr *local,
                               const mxrtc_addr *remote, const uint8_t *data, size_t len) {
    if (p && !input_ok(p) && tearing_down(p)) {
        if (!local || !remote || (!data && len)) return MXRTC_ERR_INVALID_ARGUMENT;
        return teardown_datagram(p, now, local, remote, data, len);
    }
    INPUT(p);
    if (!local || !remote || (!data && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_demux_kind k = mxrtc_demux_classify(data, len);
    if (k == MXRTC_DEMUX_STUN || k == MXRTC_DEMUX_TURN_CHANNEL) {
        /* STUN, and TURN ChannelData from our relay server (RFC 7983 §7). */
        if (!p->ice || mxrtc_ice_agent_handle_datagram(p->ice, now, local, remote, data, len) != MXRTC_OK)
            p->garbage++;
        mxrtc_peer_pump_ice(p, now);
    } else {
        on_app_data(p, now, data, len);
    }
    settle(p, now);
    return MXRTC_OK;
}

int mxrtc_peer_handle_stream(mxrtc_peer *p, mxrtc_time_us now, const mxrtc_addr *server,
                             const uint8_t *data, size_t len, int closed) {
    bool teardown = p && !input_ok(p) && tearing_down(p);
    if (!teardown) INPUT(p);
    if (!server || (!data && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!p->ice) return MXRTC_ERR_NOT_FOUND;
    int rc = MXRTC_OK;
    if (len) rc = mxrtc_ice_agent_handle_stream(p->ice, now, server, data, len);
    if (rc == MXRTC_OK && closed) rc = mxrtc_ice_agent_stream_closed(p->ice, now, server);
    mxrtc_peer_pump_ice(p, now);
    if (!teardown) settle(p, now);
    return rc;
}

int mxrtc_peer_handle_timeout(mxrtc_peer *p, mxrtc_time_us now) {
    if (p && !input_ok(p) && tearing_down(p)) {
        if (now >= p->ice_deadline && mxrtc_ice_agent_handle_timeout(p->ice, now) == MXRTC_OK)
            mxrtc_peer_pump_ice(p, now);
        return MXRTC_OK;
    }
    INPUT(p);
    if (p->ice && now >= p->ice_deadline) {
        mxrtc_ice_agent_handle_timeout(p->ice, now);
        mxrtc_peer_pump_ice(p, now);
    }
    settle(p, now);
    if (p->dtls && now >= p->dtls_deadline) {
        if (mxrtc_dtls_handle_timeout(p->dtls, now) == MXRTC_OK) mxrtc_peer_pump_dtls(p, now);
        else p->dtls_deadline = MXRTC_TIME_NEVER;
    }
    if (p->srtp && !p->closed) {
        mxrtc_peer_video_timer(p, now);
        mxrtc_peer_rtcp_timer(p, now);
    }
    settle(p, now);
    return MXRTC_OK;
}

int mxrtc_peer_resolved(mxrtc_peer *p, mxrtc_time_us now, const char *hostname, const mxrtc_addr *ip) {
    INPUT(p);
    if (!hostname) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!p->ice) return MXRTC_ERR_STATE;
    int rc = mxrtc_ice_agent_resolved(p->ice, now, hostname, ip);
    mxrtc_peer_pump_ice(p, now);
    settle(p, now);
    return rc;
}

int mxrtc_peer_close(mxrtc_peer *p, mxrtc_time_us now) {
    INPUT(p);
    if (p->srtp) mxrtc_peer_send_bye(p, now);
    if (p->dtls) {
        mxrtc_dtls_close(p->dtls, now);   /* RFC 5246 §7.2.1 close_notify */
        mxrtc_peer_pump_dtls(p, now);
    }
    p->closed = true;
    if (p->dtls_state != MXRTC_DTLS_STATE_FAILED) {
        p->dtls_state = MXRTC_DTLS_STATE_CLOSED;
        mxrtc_peer_emit_event(p, MXRTC_PEER_EV_DTLS_STATE);
    }
    mxrtc_peer_update_state(p);
    /* After the BYE and close_notify: release the TURN allocations
     * (RFC 8656 §7.2), which the host sees through until the deadline
     * says MXRTC_TIME_NEVER (mxrtc.h). */
    mxrtc_peer_start_teardown(p, now);
    return MXRTC_OK;
}

int mxrtc_peer_get_stats(const mxrtc_peer *p, mxrtc_peer_stats *st) {
    if (!p || !st || st->size < sizeof *st) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t size = st->size;
    memset(st, 0, sizeof *st);
    st->size = size;
    st->state = p->state;
    st->dtls_state = p->dtls_state;
    st->garbage_datagrams = p->garbage;
    st->srtp_failures = p->srtp_failures;
    st->dropped_outputs = p->dropped_outputs + p->outq.dropped;
    st->closing = tearing_down(p) ? 1 : 0;
    const peer_tx *tx[2] = { &p->atx, &p->vtx };
    mxrtc_stream_stats *so[2] = { &st->audio_out, &st->video_out };
    for (int i = 0; i < 2; i++) {
        so[i]->ssrc = tx[i]->ssrc;
        so[i]->packets = tx[i]->packets;
        so[i]->bytes = tx[i]->bytes;
        so[i]->packets_lost = tx[i]->remote_lost;
        so[i]->jitter_s = (double)tx[i]->remote_jitter / (i ? 90000.0 : 48000.0);
        so[i]->rtt_us = tx[i]->stats.have_rtt ? tx[i]->stats.rtt_us : 0;
        so[i]->nacks = tx[i]->nacks;
        so[i]->retransmitted = tx[i]->retransmitted;
        so[i]->plis = tx[i]->plis;
        so[i]->frames = tx[i]->frames;
    }
    const peer_rx *rx[2] = { &p->arx, &p->vrx };
    mxrtc_stream_stats *si[2] = { &st->audio_in, &st->video_in };
    for (int i = 0; i < 2; i++) {
        if (!rx[i]->started) continue;
        const mxrtc_receive_stats *rs = &rx[i]->stats;
        si[i]->ssrc = rx[i]->ssrc;
        si[i]->packets = rx[i]->packets;
        si[i]->bytes = rx[i]->bytes;
        if (rs->received) {
            int64_t expected = (int64_t)mxrtc_receive_stats_ext_max(rs) - (int64_t)rs->base_seq + 1;
            si[i]->packets_lost = expected - (int64_t)rs->received;
        }
        si[i]->jitter_s = (double)(rs->jitter_q4 >> 4) / (i ? 90000.0 : 48000.0);
        si[i]->nacks = rx[i]->nacks;
        si[i]->plis = rx[i]->plis;
        si[i]->frames = rx[i]->frames;
        si[i]->concealed_samples = rx[i]->concealed;
    }
    return MXRTC_OK;
}

/* ---- life cycle ----------------------------------------------------------- */

static bool dir_ok(mxrtc_direction d) { return d >= MXRTC_DIR_NONE && d <= MXRTC_DIR_SENDRECV; }

static void hex_id(char *out, size_t n, const mxrtc_random *r, int *err) {
    static const char digits[] = "0123456789abcdef";
    uint8_t b[32];
    size_t k = (n - 1) / 2;
    if (k > sizeof b) k = sizeof b;
    if (mxrtc_random_fill(r, b, k) != MXRTC_OK) *err = MXRTC_ERR_CRYPTO;
    for (size_t i = 0; i < k; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * k] = 0;
}

static uint32_t nonzero_u32(const mxrtc_random *r, int *err) {
    uint32_t v = 0;
    for (int i = 0; i < 8 && v == 0; i++) v = mxrtc_random_u32(r, err);
    return v ? v : 1;
}

int mxrtc_peer_new(mxrtc_peer **out, const mxrtc_peer_config *cfg, mxrtc_time_us now) {
    (void)now;
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!cfg || cfg->size != sizeof *cfg || cfg->interface_count > MXRTC_PEER_MAX_INTERFACES ||
        cfg->stun_server_count > MXRTC_PEER_MAX_SERVERS || cfg->turn_server_count > MXRTC_PEER_MAX_SERVERS ||
        !dir_ok(cfg->audio) || !dir_ok(cfg->video))
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (cfg->allocator && (!cfg->allocator->malloc_fn || !cfg->allocator->free_fn ||
                           !cfg->allocator->realloc_fn))
        return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_peer *p = mxrtc_calloc(cfg->allocator, 1, sizeof *p);
    if (!p) return MXRTC_ERR_NO_MEMORY;
    if (cfg->allocator) {
        p->alloc_copy = *cfg->allocator;
        p->alloc = &p->alloc_copy;
    }
    p->cfg = *cfg;
    p->random = cfg->random.fn ? cfg->random : mxrtc_random_os();
    p->logger = cfg->logger;
    if (!p->cfg.playout_max_ms) p->cfg.playout_max_ms = 300;
    if (p->cfg.playout_max_ms > 2000) p->cfg.playout_max_ms = 2000;
    if (!p->cfg.video_bitrate_bps) p->cfg.video_bitrate_bps = 800000;
    p->ice_deadline = p->dtls_deadline = p->next_rtcp = p->vgap_since = MXRTC_TIME_NEVER;
    int rc = MXRTC_OK;
    for (size_t i = 0; i < cfg->turn_server_count && rc == MXRTC_OK; i++) {
        const mxrtc_peer_turn_server *t = &cfg->turn_servers[i];
        const char *s[4] = { t->username, t->password, t->tls_server_name, t->tls_ca_file };
        for (int k = 0; k < 4; k++) {
            if (!s[k]) continue;
            if (!(p->turn_strings[i][k] = mxrtc_strdup(p->alloc, s[k], 1024))) rc = MXRTC_ERR_NO_MEMORY;
        }
    }
    if (rc == MXRTC_OK) rc = mxrtc_pktq_init(&p->outq, p->alloc, PEER_OUTQ_BYTES, sizeof(peer_outmeta));
    if (rc == MXRTC_OK) rc = mxrtc_pktq_init(&p->rxq, p->alloc, PEER_RXQ_BYTES, 0);
    /* One-time library set-up now rather than on the connect path. */
    if (rc == MXRTC_OK) rc = mxrtc_srtp_library_init();
    if (rc == MXRTC_OK) rc = mxrtc_dtls_cert_new(&p->cert, p->alloc, &p->random);
    if (rc == MXRTC_OK) {
        /* "sha-256 AB:CD..." into algorithm and value for a=fingerprint. */
        const char *fp = mxrtc_dtls_cert_fingerprint(p->cert);
        const char *sp = strchr(fp, ' ');
        size_t al = sp ? (size_t)(sp - fp) : 0;
        if (!sp || al >= sizeof p->fp_alg || strlen(sp + 1) >= sizeof p->fp_value) rc = MXRTC_ERR_INTERNAL;
        else {
            memcpy(p->fp_alg, fp, al);
            p->fp_alg[al] = 0;
            strcpy(p->fp_value, sp + 1);
        }
    }
    int err = 0;
    if (rc == MXRTC_OK) {
        /* RFC 8829 §5.2.1: a 64-bit session id with the top bit clear. */
        p->session_id = mxrtc_random_u64(&p->random, &err) >> 1;
        p->atx.ssrc = nonzero_u32(&p->random, &err);
        p->vtx.ssrc = nonzero_u32(&p->random, &err);
        p->vtx.rtx_ssrc = nonzero_u32(&p->random, &err);
        p->atx.seq = (uint16_t)mxrtc_random_u32(&p->random, &err);
        p->vtx.seq = (uint16_t)mxrtc_random_u32(&p->random, &err);
        p->atx.ts_base = mxrtc_random_u32(&p->random, &err);
        p->vtx.ts_base = mxrtc_random_u32(&p->random, &err);
        p->vtx.picture_id = (uint16_t)(mxrtc_random_u32(&p->random, &err) & 0x7fff);
        hex_id(p->cname, sizeof p->cname, &p->random, &err);
        hex_id(p->stream_id, sizeof p->stream_id, &p->random, &err);
        hex_id(p->audio_track, sizeof p->audio_track, &p->random, &err);
        hex_id(p->video_track, sizeof p->video_track, &p->random, &err);
        if (err) rc = MXRTC_ERR_CRYPTO;
    }
    if (rc == MXRTC_OK) {
        p->fifo_cap = (size_t)p->cfg.playout_max_ms * 48;
        p->fifo = mxrtc_calloc(p->alloc, p->fifo_cap, sizeof(int16_t));
        if (!p->fifo) rc = MXRTC_ERR_NO_MEMORY;
    }
    if (rc) {
        mxrtc_peer_free(p);
        return rc;
    }
    mxrtc_send_stats_init(&p->atx.stats, p->atx.ssrc, 48000, p->cfg.ntp_offset_us);
    mxrtc_send_stats_init(&p->vtx.stats, p->vtx.ssrc, 90000, p->cfg.ntp_offset_us);
    mxrtc_nack_init(&p->nack, NULL);
    *out = p;
    return MXRTC_OK;
}

void mxrtc_peer_free(mxrtc_peer *p) {
    if (!p) return;
    mxrtc_peer_media_free(p);
    mxrtc_srtp_free(p->srtp);
    mxrtc_dtls_free(p->dtls);
    mxrtc_ice_agent_free(p->ice);
    mxrtc_dtls_cert_free(p->cert);
    mxrtc_sdp_free(p->local);
    mxrtc_sdp_free(p->remote);
    mxrtc_sdp_free(p->created);
    mxrtc_sdp_free(p->pending_remote_offer);
    mxrtc_sdp_free(p->pending_local_offer);
    mxrtc_pktq_free(&p->outq, p->alloc);
    mxrtc_pktq_free(&p->rxq, p->alloc);
    mxrtc_pktq_free(&p->early_dtls, p->alloc);
    for (int i = 0; i < MXRTC_PEER_MAX_SERVERS; i++)
        for (int k = 0; k < 4; k++) {
            if (!p->turn_strings[i][k]) continue;
            mxrtc_wipe(p->turn_strings[i][k], strlen(p->turn_strings[i][k]));
            mxrtc_free(p->alloc, p->turn_strings[i][k]);
        }
    mxrtc_free(p->alloc, p->fifo);
    const mxrtc_allocator *a = p->alloc;
    mxrtc_allocator copy = p->alloc_copy;
    mxrtc_wipe(p, sizeof *p);
    mxrtc_free(a ? &copy : NULL, p);
}

int mxrtc_peer_input_check(const mxrtc_peer *p) {
    if (!p) return MXRTC_ERR_INVALID_ARGUMENT;
    int rc = input_ok(p);
    if (rc) return rc;
    return p->closed ? MXRTC_ERR_CLOSED : MXRTC_OK;
}
void mxrtc_peer_settle(mxrtc_peer *p, mxrtc_time_us now) { settle(p, now); }

/* ---- routing aids (peer.h) ---------------------------------------------- */

bool mxrtc_peer_has_local_ufrag(const mxrtc_peer *p, const char *ufrag, size_t len) {
    return p && !p->closed && p->ice && mxrtc_ice_agent_has_local_ufrag(p->ice, ufrag, len);
}

int mxrtc_peer_remote_rank(const mxrtc_peer *p, const mxrtc_addr *remote) {
    return p && !p->closed && p->ice ? mxrtc_ice_agent_remote_rank(p->ice, remote) : 0;
}

bool mxrtc_peer_tearing_down_with(const mxrtc_peer *p, const mxrtc_addr *remote) {
    return p && remote && tearing_down(p) && mxrtc_ice_agent_remote_rank(p->ice, remote) == 2;
}

bool mxrtc_peer_knows_ssrc(const mxrtc_peer *p, uint32_t ssrc) {
    if (!p || p->closed || ssrc == 0) return false;
    const uint32_t known[] = {p->audio_sec.remote_ssrc, p->audio_sec.remote_rtx_ssrc, p->video_sec.remote_ssrc,
                              p->video_sec.remote_rtx_ssrc, p->arx.started ? p->arx.ssrc : 0,
                              p->vrx.started ? p->vrx.ssrc : 0, p->atx.ssrc, p->atx.rtx_ssrc, p->vtx.ssrc,
                              p->vtx.rtx_ssrc};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i] == ssrc) return true;
    return false;
}

bool mxrtc_peer_dtls_connected(const mxrtc_peer *p) {
    return p && p->dtls_state == MXRTC_DTLS_STATE_CONNECTED;
}
