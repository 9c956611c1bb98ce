/*
 * video_receiver.c: reorder buffer + VP8 frame assembler + keyframe logic
 * (docs/jitter.md, "Video").
 *
 * Packets are held in slots indexed by extended sequence number and fed to
 * the assembler strictly in order. A missing packet is waited for while
 * later ones are held, for max_wait (room for reordering and NACK/RTX);
 * then it is given up, the assembler sees the gap and reports the frame
 * lost. VP8 inter frames predict from earlier frames (RFC 6386 §9.7), so
 * after a lost frame nothing but a keyframe can be decoded correctly: the
 * receiver drops frames until one comes and asks for it with a PLI
 * (RFC 4585 §6.3.1), at most once per interval (max of the configured one
 * and the RTT), repeated while the wait lasts and packets keep coming.
 */
#include "rtp/video_receiver.h"

#include <string.h>

#include "base/alloc.h"

#define FREEZE_FRAMES 30   /* W3C webrtc-stats: average over the last 30 frames */

typedef struct vr_slot {
    bool used;
    int64_t seq;
    bool marker;
    uint8_t pt;
    uint32_t ts;
    uint16_t len;
    uint8_t *data;
} vr_slot;

struct mxrtc_video_receiver {
    mxrtc_allocator alloc;
    bool have_alloc;
    mxrtc_video_receiver_config cfg;
    vr_slot *slots;
    uint8_t *slab;
    uint8_t *frame_buf;
    mxrtc_frame_assembler asm_;
    size_t held;

    bool have_stream;
    uint32_t ssrc;
    int64_t seq_high;
    int64_t next_seq;
    int64_t skip_lo, skip_hi;   /* last range given up: [lo, hi) */
    bool gap_active;
    mxrtc_time_us gap_since;

    bool waiting_keyframe;
    bool pli_pending;
    bool have_last_pli;
    mxrtc_time_us last_pli;
    mxrtc_time_us last_arrival;
    uint64_t interval_us;
    uint64_t rtt_us;

    bool outstanding;
    bool outstanding_key;

    bool have_render;
    mxrtc_time_us first_render, last_render;
    uint64_t ifd[FREEZE_FRAMES];
    size_t ifd_count, ifd_head;
    uint64_t ifd_sum;

    mxrtc_video_receiver_stats st;
};

void mxrtc_video_receiver_config_init(mxrtc_video_receiver_config *cfg) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
    cfg->slots = 512;
    cfg->max_packet = 1500;
    cfg->max_frame = 1u << 20;
    cfg->max_wait_ms = 150;
    cfg->pli_interval_ms = 300;
}

int mxrtc_video_receiver_new(mxrtc_video_receiver **out, const mxrtc_video_receiver_config *cfg,
                             const mxrtc_allocator *alloc) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    mxrtc_video_receiver_config def;
    if (!cfg) {
        mxrtc_video_receiver_config_init(&def);
        cfg = &def;
    }
    if (cfg->size != sizeof *cfg || cfg->slots < 16 || cfg->slots > 4096 ||
        cfg->max_packet < 64 || cfg->max_packet > 9000 || cfg->max_frame < 1024 ||
        cfg->max_frame > (16u << 20) || cfg->max_wait_ms > 10000 || cfg->pli_interval_ms > 60000)
        return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_video_receiver *r = mxrtc_calloc(alloc, 1, sizeof *r);
    if (!r) return MXRTC_ERR_NO_MEMORY;
    if (alloc) {
        r->alloc = *alloc;
        r->have_alloc = true;
    }
    r->cfg = *cfg;
    r->slots = mxrtc_calloc(alloc, cfg->slots, sizeof *r->slots);
    r->slab = mxrtc_malloc(alloc, cfg->slots * cfg->max_packet);
    r->frame_buf = mxrtc_malloc(alloc, cfg->max_frame);
    if (!r->slots || !r->slab || !r->frame_buf) {
        mxrtc_video_receiver_free(r);
        return MXRTC_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < cfg->slots; i++) r->slots[i].data = r->slab + i * cfg->max_packet;
    mxrtc_frame_assembler_init(&r->asm_, r->frame_buf, cfg->max_frame);
    r->waiting_keyframe = true;
    r->interval_us = (uint64_t)cfg->pli_interval_ms * 1000;
    *out = r;
    return MXRTC_OK;
}

void mxrtc_video_receiver_free(mxrtc_video_receiver *r) {
    if (!r) return;
    const mxrtc_allocator *a = r->have_alloc ? &r->alloc : NULL;
    mxrtc_free(a, r->slots);
    mxrtc_free(a, r->slab);
    mxrtc_free(a, r->frame_buf);
    mxrtc_free(a, r);
}

static void request_keyframe(mxrtc_video_receiver *r) {
    r->st.keyframe_requests++;
    r->waiting_keyframe = true;
    r->pli_pending = true;
}

/* Drops every held packet and restarts numbering at seq (new SSRC, or a
 * jump past the slots: nothing held can be used any more). */
static void restart(mxrtc_video_receiver *r, int64_t seq) {
    for (size_t i = 0; i < r->cfg.slots; i++) r->slots[i].used = false;
    r->held = 0;
    mxrtc_frame_assembler_init(&r->asm_, r->frame_buf, r->cfg.max_frame);
    r->next_seq = seq;
    r->seq_high = seq;
    r->skip_lo = r->skip_hi = seq;
    r->gap_active = false;
    r->outstanding = false;
}

int mxrtc_video_receiver_push(mxrtc_video_receiver *r, const mxrtc_rtp_packet *pkt,
                              mxrtc_time_us arrival) {
    if (!r || !pkt || (!pkt->payload && pkt->payload_len)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (pkt->payload_len > r->cfg.max_packet) {
        r->st.packets_malformed++;
        return MXRTC_ERR_LIMIT;
    }
    r->st.packets_received++;
    r->last_arrival = arrival;
    if (!r->have_stream || pkt->ssrc != r->ssrc) {
        if (r->have_stream) {
            /* A new source starts with a keyframe of its own; ask only if
             * its first frame turns out not to be one. */
            r->st.resets++;
            r->waiting_keyframe = true;
            r->pli_pending = false;
        }
        r->have_stream = true;
        r->ssrc = pkt->ssrc;
        restart(r, (int64_t)pkt->seq + ((int64_t)1 << 20));
    }
    int64_t seq = r->seq_high + (int16_t)(uint16_t)(pkt->seq - (uint16_t)r->seq_high);
    if (seq < r->next_seq) {
        if (seq >= r->skip_lo && seq < r->skip_hi) r->st.packets_late++;
        else r->st.packets_duplicate++;
        return MXRTC_OK;
    }
    if (seq - r->next_seq >= (int64_t)r->cfg.slots) {
        /* Too far ahead to hold what lies between: start over from here. */
        r->st.resets++;
        restart(r, seq);
        request_keyframe(r);
    }
    if (seq > r->seq_high) r->seq_high = seq;
    vr_slot *s = &r->slots[(uint64_t)seq % r->cfg.slots];
    if (s->used) {
        r->st.packets_duplicate++;
        return MXRTC_OK;
    }
    s->used = true;
    s->seq = seq;
    s->marker = pkt->marker;
    s->pt = pkt->pt;
    s->ts = pkt->ts;
    s->len = (uint16_t)pkt->payload_len;
    if (pkt->payload_len) memcpy(s->data, pkt->payload, pkt->payload_len);
    r->held++;
    return MXRTC_OK;
}

static void frame_lost(mxrtc_video_receiver *r) {
    r->st.frames_lost++;
    request_keyframe(r);
}

/* Feeds held packets to the assembler until a frame comes out (true) or the
 * next packet is missing (false). */
static bool advance(mxrtc_video_receiver *r, mxrtc_time_us now, mxrtc_video_frame *frame,
                    mxrtc_time_us *gap_deadline) {
    for (;;) {
        vr_slot *s = &r->slots[(uint64_t)r->next_seq % r->cfg.slots];
        if (s->used && s->seq == r->next_seq) {
            mxrtc_rtp_packet p;
            memset(&p, 0, sizeof p);
            p.marker = s->marker;
            p.pt = s->pt;
            p.seq = (uint16_t)s->seq;
            p.ts = s->ts;
            p.ssrc = r->ssrc;
            p.payload = s->data;
            p.payload_len = s->len;
            s->used = false;
            r->held--;
            r->next_seq++;
            r->gap_active = false;
            int rc = mxrtc_vp8_assembler_push(&r->asm_, &p, frame);
            if (frame->lost_frame) frame_lost(r);
            if (rc == MXRTC_OK) {
                r->st.frames_complete++;
                if (r->waiting_keyframe && !frame->keyframe) {
                    r->st.frames_dropped++;
                    request_keyframe(r);
                    continue;
                }
                if (frame->keyframe) {
                    /* The keyframe answers every request made so far. */
                    r->waiting_keyframe = false;
                    r->pli_pending = false;
                }
                return true;
            }
            if (rc != MXRTC_ERR_AGAIN && rc != MXRTC_ERR_LIMIT && rc != MXRTC_ERR_MALFORMED)
                r->st.packets_malformed++;   /* descriptor error: treated as lost */
            continue;
        }
        if (r->held == 0) return false;
        if (!r->gap_active) {
            r->gap_active = true;
            r->gap_since = now;
        }
        mxrtc_time_us due = r->gap_since + (uint64_t)r->cfg.max_wait_ms * 1000;
        if (now < due) {
            *gap_deadline = due;
            return false;
        }
        /* Give the missing packets up: continue at the oldest one held. */
        int64_t lo = INT64_MAX;
        for (size_t i = 0; i < r->cfg.slots; i++)
            if (r->slots[i].used && r->slots[i].seq < lo) lo = r->slots[i].seq;
        r->st.packets_given_up += (uint64_t)(lo - r->next_seq);
        r->skip_lo = r->next_seq;
        r->skip_hi = lo;
        r->next_seq = lo;
        r->gap_active = false;
    }
}

int mxrtc_video_receiver_poll(mxrtc_video_receiver *r, mxrtc_time_us now,
                              mxrtc_video_receiver_event *ev, mxrtc_time_us *deadline) {
    if (!r || !ev || !deadline) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(ev, 0, sizeof *ev);
    *deadline = UINT64_MAX;
    if (r->outstanding) return MXRTC_ERR_STATE;   /* report the last frame first */

    mxrtc_time_us gap_deadline = UINT64_MAX;
    if (advance(r, now, &ev->frame, &gap_deadline)) {
        ev->type = MXRTC_VIDEO_RX_FRAME;
        r->outstanding = true;
        r->outstanding_key = ev->frame.keyframe;
        return MXRTC_OK;
    }
    memset(&ev->frame, 0, sizeof ev->frame);

    /* Still waiting for a keyframe an interval after the last PLI, with the
     * stream alive: ask again (the PLI or the keyframe may have been lost). */
    if (r->waiting_keyframe && !r->pli_pending && r->have_last_pli &&
        now - r->last_pli >= r->interval_us && r->last_arrival > r->last_pli)
        r->pli_pending = true;
    if (r->pli_pending && r->have_stream) {
        if (!r->have_last_pli || now - r->last_pli >= r->interval_us) {
            r->pli_pending = false;
            r->have_last_pli = true;
            r->last_pli = now;
            r->st.plis_sent++;
            ev->type = MXRTC_VIDEO_RX_PLI;
            ev->sender_ssrc = r->cfg.sender_ssrc;
            ev->media_ssrc = r->ssrc;
            return MXRTC_OK;
        }
        mxrtc_time_us due = r->last_pli + r->interval_us;
        if (due < gap_deadline) gap_deadline = due;
    } else if (r->waiting_keyframe && r->have_last_pli) {
        mxrtc_time_us due = r->last_pli + r->interval_us;
        if (due > now && due < gap_deadline) gap_deadline = due;
    }
    *deadline = gap_deadline;
    return MXRTC_ERR_AGAIN;
}

/* W3C webrtc-stats (RTCInboundRtpStreamStats.freezeCount): a freeze is an
 * inter-frame delay above max(3 * avg, avg + 150 ms), avg over the last 30
 * frames. */
static void on_render(mxrtc_video_receiver *r, mxrtc_time_us now) {
    if (!r->have_render) {
        r->have_render = true;
        r->first_render = r->last_render = now;
        return;
    }
    uint64_t d = now > r->last_render ? now - r->last_render : 0;
    if (r->ifd_count > 0) {
        uint64_t avg = r->ifd_sum / r->ifd_count;
        uint64_t limit = 3 * avg > avg + 150000 ? 3 * avg : avg + 150000;
        if (d > limit) {
            r->st.freeze_count++;
            r->st.total_freeze_us += d;
        }
    }
    if (r->ifd_count == FREEZE_FRAMES) {
        r->ifd_sum -= r->ifd[r->ifd_head];
        r->ifd_head = (r->ifd_head + 1) % FREEZE_FRAMES;
        r->ifd_count--;
    }
    r->ifd[(r->ifd_head + r->ifd_count) % FREEZE_FRAMES] = d;
    r->ifd_count++;
    r->ifd_sum += d;
    r->last_render = now;
    r->st.total_frames_duration_us = now - r->first_render;
}

int mxrtc_video_receiver_decoded(mxrtc_video_receiver *r, mxrtc_time_us now, bool got_picture,
                                 bool needs_keyframe) {
    if (!r) return MXRTC_ERR_INVALID_ARGUMENT;
    if (!r->outstanding) return MXRTC_ERR_STATE;
    r->outstanding = false;
    if (got_picture) {
        r->st.frames_decoded++;
        if (r->outstanding_key) r->st.keyframes_decoded++;
        on_render(r, now);
    } else {
        r->st.frames_dropped++;
    }
    if (needs_keyframe) request_keyframe(r);
    return MXRTC_OK;
}

void mxrtc_video_receiver_set_rtt(mxrtc_video_receiver *r, uint64_t rtt_us) {
    if (!r) return;
    r->rtt_us = rtt_us;
    uint64_t base = (uint64_t)r->cfg.pli_interval_ms * 1000;
    r->interval_us = rtt_us > base ? rtt_us : base;
}

int mxrtc_video_receiver_waiting_keyframe(const mxrtc_video_receiver *r) {
    return r && r->waiting_keyframe ? 1 : 0;
}

void mxrtc_video_receiver_get_stats(const mxrtc_video_receiver *r,
                                    mxrtc_video_receiver_stats *out) {
    if (!r || !out) return;
    *out = r->st;
}
