/*
 * rtcp.c: RTCP for the peer. Out: a compound (RFC 3550 §6.1) every
 * PEER_RTCP_INTERVAL with an SR per sending stream (else an RR), report
 * blocks for the streams we receive and an SDES CNAME; feedback (NACK,
 * PLI: RFC 4585 §6.2.1, §6.3.1) behind an RR; BYE on close (§6.6).
 * In: SR/RR report blocks give the RTT (§6.4.1) and remote loss; NACK is
 * answered from the RTX history (RFC 4588); PLI/FIR make a keyframe.
 * Outgoing packets are built in p->buf2 (p->buf may hold the packet being
 * received).
 */
#include <string.h>

#include "peer/peer.h"
#include "base/bytes.h"
#include "base/log.h"

static void protect_send(mxrtc_peer *p, mxrtc_time_us now, mxrtc_writer *w) {
    if (w->error || !p->srtp) return;
    size_t out;
    if (mxrtc_srtp_protect_rtcp(p->srtp, p->buf2, w->pos, sizeof p->buf2, &out)) return;
    mxrtc_peer_ice_send(p, now, p->buf2, out);
}

static void report_blocks(mxrtc_peer *p, mxrtc_time_us now, mxrtc_rtcp_report_block *rb, uint8_t *count) {
    peer_rx *rx[2] = { &p->arx, &p->vrx };
    *count = 0;
    for (int i = 0; i < 2; i++)
        if (rx[i]->started && mxrtc_receive_stats_report(&rx[i]->stats, now, &rb[*count]) == MXRTC_OK)
            (*count)++;
}

/* First packet of a compound: our SR (if we sent) or an RR, then SDES. */
static void begin_compound(mxrtc_peer *p, mxrtc_time_us now, mxrtc_writer *w, bool full) {
    mxrtc_writer_init(w, p->buf2, PEER_MTU);
    peer_tx *tx = p->audio_sec.send || !p->video_sec.send ? &p->atx : &p->vtx;
    mxrtc_rtcp_sr sr;
    memset(&sr, 0, sizeof sr);
    if (full && tx->packets && mxrtc_send_stats_sr(&tx->stats, now, &sr) == MXRTC_OK) {
        report_blocks(p, now, sr.rb, &sr.rb_count);
        mxrtc_rtcp_write_sr(w, &sr);
        /* A second sender gets its own SR without blocks. */
        peer_tx *other = tx == &p->atx ? &p->vtx : &p->atx;
        mxrtc_rtcp_sr sr2;
        if (other->packets && mxrtc_send_stats_sr(&other->stats, now, &sr2) == MXRTC_OK) mxrtc_rtcp_write_sr(w, &sr2);
    } else {
        mxrtc_rtcp_rr rr;
        memset(&rr, 0, sizeof rr);
        rr.ssrc = tx->ssrc;
        if (full) report_blocks(p, now, rr.rb, &rr.rb_count);
        mxrtc_rtcp_write_rr(w, &rr);
    }
    if (full) mxrtc_rtcp_write_sdes_cname(w, tx->ssrc, p->cname, strlen(p->cname));
}

void mxrtc_peer_send_feedback(mxrtc_peer *p, mxrtc_time_us now, bool pli, const uint16_t *seqs, size_t nseq) {
    if (!p->srtp || !p->vrx.started) return;
    mxrtc_writer w;
    begin_compound(p, now, &w, false);
    uint32_t me = p->video_sec.send ? p->vtx.ssrc : p->atx.ssrc;
    if (pli) mxrtc_rtcp_write_pli(&w, me, p->vrx.ssrc);
    if (nseq) mxrtc_rtcp_write_nack(&w, me, p->vrx.ssrc, seqs, nseq);
    protect_send(p, now, &w);
}

void mxrtc_peer_rtcp_timer(mxrtc_peer *p, mxrtc_time_us now) {
    if (p->vrx.started && now >= mxrtc_nack_deadline(&p->nack)) {
        uint16_t seqs[64];
        size_t n = 0;
        bool gave_up = false;
        mxrtc_nack_poll(&p->nack, now, seqs, 64, &n, &gave_up);
        if (n) {
            p->vrx.nacks += n;
            mxrtc_peer_send_feedback(p, now, false, seqs, n);
        }
        if (gave_up) p->pli_due = true;
    }
    if (p->pli_due) {
        p->pli_due = false;
        if (!p->last_pli || now >= p->last_pli + PEER_PLI_INTERVAL) {
            p->last_pli = now ? now : 1;
            p->vrx.plis++;
            mxrtc_peer_send_feedback(p, now, true, NULL, 0);
        }
    }
    if (now < p->next_rtcp) return;
    p->next_rtcp = now + PEER_RTCP_INTERVAL;
    mxrtc_writer w;
    begin_compound(p, now, &w, true);
    protect_send(p, now, &w);
    mxrtc_peer_emit_event(p, MXRTC_PEER_EV_STATS);
}

void mxrtc_peer_send_bye(mxrtc_peer *p, mxrtc_time_us now) {
    mxrtc_writer w;
    begin_compound(p, now, &w, true);
    uint32_t ssrcs[2];
    size_t n = 0;
    if (p->atx.packets || p->audio_sec.send) ssrcs[n++] = p->atx.ssrc;
    if (p->vtx.packets || p->video_sec.send) ssrcs[n++] = p->vtx.ssrc;
    if (!n) ssrcs[n++] = p->atx.ssrc;
    mxrtc_rtcp_write_bye(&w, ssrcs, n, "bye", 3);
    protect_send(p, now, &w);
}

static void on_blocks(mxrtc_peer *p, mxrtc_time_us now, const mxrtc_rtcp_report_block *rb, uint8_t n) {
    peer_tx *tx[2] = { &p->atx, &p->vtx };
    for (uint8_t i = 0; i < n; i++)
        for (int k = 0; k < 2; k++) {
            if (rb[i].ssrc != tx[k]->ssrc) continue;
            uint64_t rtt;
            tx[k]->remote_lost = rb[i].cumulative_lost;
            tx[k]->remote_jitter = rb[i].jitter;
            if (mxrtc_send_stats_on_report_block(&tx[k]->stats, &rb[i], now, &rtt) == MXRTC_OK)
                mxrtc_nack_set_rtt(&p->nack, rtt);
        }
}

static void on_nack(mxrtc_peer *p, mxrtc_time_us now, const mxrtc_rtcp_header *h) {
    mxrtc_rtcp_nack n;
    if (mxrtc_rtcp_parse_nack(h, &n) || n.media_ssrc != p->vtx.ssrc || !p->vtx.rtx) return;
    uint16_t seqs[128];
    size_t count = 0;
    mxrtc_rtcp_nack_expand(&n, seqs, 128, &count);
    p->vtx.nacks += count;
    uint64_t rtt = p->vtx.stats.have_rtt ? p->vtx.stats.rtt_us : 0;
    for (size_t i = 0; i < count; i++) {
        uint8_t pkt[PEER_PKT_MAX + 64];
        int len = mxrtc_rtx_history_resend(p->vtx.rtx, seqs[i], now, rtt, pkt, PEER_PKT_MAX);
        if (len <= 0) continue;
        size_t out;
        if (mxrtc_srtp_protect_rtp(p->srtp, pkt, (size_t)len, sizeof pkt, &out)) continue;
        p->vtx.retransmitted++;
        mxrtc_peer_ice_send(p, now, pkt, out);
    }
}

static void keyframe_wanted(mxrtc_peer *p) {
    p->vtx.plis++;
    if (p->venc) mxrtc_video_encoder_request_keyframe(p->venc);
    mxrtc_peer_emit_event(p, MXRTC_PEER_EV_KEYFRAME_REQUESTED);
}

void mxrtc_peer_handle_rtcp(mxrtc_peer *p, mxrtc_time_us now, const uint8_t *data, size_t len) {
    mxrtc_rtcp_iter it;
    mxrtc_rtcp_header h;
    mxrtc_rtcp_iter_init(&it, data, len);
    int guard = 0;
    while (mxrtc_rtcp_next(&it, &h) == 1 && guard++ < 64) {
        switch (h.pt) {
        case MXRTC_RTCP_SR: {
            mxrtc_rtcp_sr sr;
            if (mxrtc_rtcp_parse_sr(&h, &sr)) break;
            peer_rx *rx[2] = { &p->arx, &p->vrx };
            for (int k = 0; k < 2; k++)
                if (rx[k]->started && rx[k]->ssrc == sr.ssrc) mxrtc_receive_stats_on_sr(&rx[k]->stats, &sr, now);
            on_blocks(p, now, sr.rb, sr.rb_count);
            break;
        }
        case MXRTC_RTCP_RR: {
            mxrtc_rtcp_rr rr;
            if (mxrtc_rtcp_parse_rr(&h, &rr) == MXRTC_OK) on_blocks(p, now, rr.rb, rr.rb_count);
            break;
        }
        case MXRTC_RTCP_RTPFB:
            if (h.count == MXRTC_RTCP_FMT_NACK) on_nack(p, now, &h);
            break;
        case MXRTC_RTCP_PSFB: {
            if (h.count == MXRTC_RTCP_FMT_PLI) {
                mxrtc_rtcp_pli pli;
                if (mxrtc_rtcp_parse_pli(&h, &pli) == MXRTC_OK && pli.media_ssrc == p->vtx.ssrc) keyframe_wanted(p);
            } else if (h.count == MXRTC_RTCP_FMT_FIR) {
                mxrtc_rtcp_fir fir;
                if (mxrtc_rtcp_parse_fir(&h, &fir) != MXRTC_OK) break;
                for (size_t i = 0; i < fir.entry_count; i++) {
                    uint32_t ssrc;
                    uint8_t seq;
                    mxrtc_rtcp_fir_entry(&fir, i, &ssrc, &seq);
                    if (ssrc == p->vtx.ssrc) {
                        keyframe_wanted(p);
                        break;
                    }
                }
            }
            break;
        }
        case MXRTC_RTCP_BYE: {
            mxrtc_rtcp_bye bye;
            if (mxrtc_rtcp_parse_bye(&h, &bye)) break;
            MXRTC_LOGI(&p->logger, "peer", "remote sent RTCP BYE");
            break;
        }
        default:
            break;
        }
    }
}
