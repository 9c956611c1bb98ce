/*
 * jitter_audio.c: the adaptive Opus jitter buffer (docs/jitter.md).
 *
 * Timeline. Packets are placed on an extended (64-bit) RTP timestamp line;
 * play_ts is the next sample to decode, the PCM queue holds decoded samples
 * not yet handed out, so the next sample the host hears stands for
 * out_ts = play_ts - queued. A pull decodes what it needs at play_ts:
 *  - the packet starting there: decoded;
 *  - a later packet with no sequence gap before it: DTX (RFC 7587 §3.1.3:
 *    the sender stopped sending), comfort noise up to it;
 *  - a later packet after a sequence gap: loss, rebuilt from that packet's
 *    in-band FEC (RFC 6716 §2.1.7) when it carries LBRR, else PLC;
 *  - nothing at all: an underrun, concealed provisionally; when the next
 *    packet shows no sequence gap, the concealment is re-counted as DTX.
 *
 * Delay. Every packet's transit d = arrival - ts (in microseconds, any
 * offset) is kept over a window; the earliest (d_min) is the reference and
 * r = d - d_min the packet's relative delay. The target is a high quantile
 * of r plus a margin, bounded. The current delay is the playout delay that
 * a packet with transit d_min would see: now - out_ts - d_min. When it
 * leaves the band around the target, the queue is time-stretched by one
 * pitch period (or any amount in silence), which is how clock drift is
 * absorbed without the latency growing.
 */
#include "rtp/jitter_audio.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define RATE_KHZ 48
#define WIN_MAX 256             /* delay samples kept (2.5 s of 10 ms packets) */
#define WIN_KEEP_MIN 8          /* never age the window below this many samples */
#define CHUNK 960               /* DTX / PLC step: 20 ms */
#define STEP 120                /* RFC 6716 §2: PLC/FEC sizes are multiples of 2.5 ms */
#define QUEUE_CAP (2 * MXRTC_AUDIO_JB_MAX_FRAME + 2048)
/* Time stretching: search lags of 2..10 ms, correlate 5 ms. */
#define LAG_MIN 96
#define LAG_MAX 480
#define CORR_LEN 240
#define STRETCH_NEED (2 * LAG_MAX)
#define CORR_OK2 0.81          /* correlation 0.9, squared */
/* -40 dBFS RMS: below this a segment is silence and may be cut anywhere. */
#define SILENCE_RMS 328.0
/* RFC 3550 A.1: MAX_DROPOUT / MAX_MISORDER for sequence discontinuities. */
#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
/* A timestamp this far out of line with the arrival times (beyond the delay
 * bound) is a discontinuity, not jitter. */
#define JUMP_SLACK_US 1000000
/* How long after an SSRC change packets of the old SSRC count as stragglers. */
#define STALE_SSRC_US 2000000

typedef struct jb_slot {
    bool used;
    int64_t seq;                /* extended */
    int64_t ts;                 /* extended */
    uint32_t samples;
    uint16_t len;
    uint8_t *data;
} jb_slot;

typedef struct delay_sample {
    mxrtc_time_us arrival;
    int64_t d;
} delay_sample;

enum { ST_IDLE, ST_BUFFERING, ST_PLAYING };

struct mxrtc_audio_jb {
    mxrtc_allocator alloc;
    bool have_alloc;
    mxrtc_audio_jb_config cfg;
    mxrtc_audio_decoder_iface dec;
    int ch;
    jb_slot *slots;
    uint8_t *slab;
    int16_t *queue;             /* QUEUE_CAP frames of ch samples */
    size_t queued;              /* frames */
    int32_t *scratch;           /* WIN_MAX, for the quantile */
    float *mono;                /* STRETCH_NEED, for the lag search */
    int stretch_backoff;        /* pulls to wait after a stretch found no good spot */

    /* stream identity and numbering */
    bool have_stream;
    uint32_t ssrc;
    int64_t seq_high;           /* highest extended seq seen */
    int64_t ts_ref;             /* extended ts of the packet with seq_high */
    uint64_t seen;              /* bit i: seq_high - i was received */
    int64_t newest_end;         /* highest ts + samples received */

    /* playout */
    int state;
    mxrtc_time_us first_arrival;
    int64_t play_ts;
    int64_t last_seq;           /* last packet decoded (or skipped at start) */
    uint32_t last_samples;
    bool last_was_dtx_frame;
    bool concealing;
    uint64_t prov_samples;      /* underrun concealment not yet classified */
    uint64_t prov_advanced;     /* the part of it that let the timeline pass (could be DTX) */
    bool prov_underrun;
    uint64_t since_start;       /* packets measured since the stream (re)started */

    /* delay measurement */
    delay_sample win[WIN_MAX];
    size_t win_head, win_count;
    int64_t d_min;
    int64_t jitter_us;
    int64_t target_us;
    int64_t current_us;

    /* the SSRC before the last change: its stragglers are not a new change */
    bool have_prev_ssrc;
    uint32_t prev_ssrc;
    mxrtc_time_us ssrc_changed_at;

    /* a timestamp/sequence discontinuity waiting for confirmation */
    bool jump_pending;
    uint16_t jump_seq;
    uint32_t jump_ts;
    mxrtc_time_us jump_arrival;
    uint16_t jump_len;
    uint8_t *jump_data;

    mxrtc_audio_jb_stats st;
};

void mxrtc_audio_jb_config_init(mxrtc_audio_jb_config *cfg) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
    cfg->channels = 1;
    cfg->slots = 64;
    cfg->max_packet = 1500;
    cfg->min_delay_ms = 20;
    cfg->max_delay_ms = 400;
    cfg->start_delay_ms = 80;
    cfg->margin_ms = 20;
    cfg->window_ms = 2000;
    cfg->quantile_pct = 97;
}

/* ---- LBRR detection (RFC 6716 §4.1 range decoder, §4.2.3 header bits) ---- */

typedef struct rdec {
    const uint8_t *buf;
    size_t len, pos;
    uint32_t rng, val;
    unsigned rem;
} rdec;

static unsigned rdec_byte(rdec *d) { return d->pos < d->len ? d->buf[d->pos++] : 0; }

/* §4.1.2.1: renormalise while rng <= 2^23, feeding a byte each time. */
static void rdec_normalize(rdec *d) {
    while (d->rng <= (1u << 23)) {
        d->rng <<= 8;
        unsigned sym = d->rem;
        d->rem = rdec_byte(d);
        sym = (sym << 8 | d->rem) >> 1;
        d->val = ((d->val << 8) + (255 & ~sym)) & 0x7FFFFFFFu;
    }
}

static void rdec_init(rdec *d, const uint8_t *buf, size_t len) {
    d->buf = buf;
    d->len = len;
    d->pos = 0;
    d->rem = rdec_byte(d);
    d->rng = 128;                            /* §4.1.1 */
    d->val = 127 - (d->rem >> 1);
    rdec_normalize(d);
}

/* A binary symbol of probability 1/2 (§4.1.3.2, logp = 1). */
static int rdec_bit(rdec *d) {
    uint32_t s = d->rng >> 1;
    int one = d->val < s;
    if (!one) d->val -= s;
    d->rng = one ? s : d->rng - s;
    rdec_normalize(d);
    return one;
}

int mxrtc_opus_packet_has_lbrr(const uint8_t *data, size_t len) {
    int n = mxrtc_opus_packet_samples(data, len);
    if (n < 0) return n;
    unsigned config = data[0] >> 3;        /* RFC 6716 §3.1 TOC */
    if (config >= 16) return 0;            /* CELT-only: no SILK layer, no LBRR */
    const uint8_t *frame = data + 1;
    size_t flen = len - 1;
    switch (data[0] & 3) {
    case 0: break;
    case 1: flen /= 2; break;              /* §3.2.3: two equal frames */
    case 2: {                              /* §3.2.4: first frame's length */
        if (len < 2) return MXRTC_ERR_TRUNCATED;
        size_t l = data[1], hdr = 1;
        if (l >= 252) {
            if (len < 3) return MXRTC_ERR_TRUNCATED;
            l += 4u * data[2];
            hdr = 2;
        }
        frame = data + 1 + hdr;
        flen = l;
        break;
    }
    default: return 0;                     /* code 3: not read here */
    }
    if (flen == 0) return 0;               /* DTX / empty frame */
    /* SILK frames per Opus frame: 10 and 20 ms hold one, 40 ms two, 60 ms
     * three (§4.2.2); hybrid configs (12..15) are 10 or 20 ms. */
    unsigned size_code = config & 3;
    unsigned silk_frames = config < 12 ? (size_code == 2 ? 2 : size_code == 3 ? 3 : 1) : 1;
    rdec d;
    rdec_init(&d, frame, flen);
    for (unsigned i = 0; i < silk_frames; i++) (void)rdec_bit(&d);   /* VAD flags */
    return rdec_bit(&d);                                            /* LBRR flag */
}

/* ---- creation ------------------------------------------------------------- */

int mxrtc_audio_jb_new(mxrtc_audio_jb **out, const mxrtc_audio_jb_config *cfg,
                       const mxrtc_audio_decoder_iface *dec, const mxrtc_allocator *alloc) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    mxrtc_audio_jb_config def;
    if (!cfg) {
        mxrtc_audio_jb_config_init(&def);
        cfg = &def;
    }
    if (cfg->size != sizeof *cfg || (cfg->channels != 1 && cfg->channels != 2) ||
        cfg->slots < 8 || cfg->slots > 1024 || cfg->max_packet < 16 || cfg->max_packet > 4000 ||
        cfg->min_delay_ms > cfg->max_delay_ms || cfg->max_delay_ms > 5000 ||
        cfg->quantile_pct < 50 || cfg->quantile_pct > 100 || cfg->window_ms < 100 ||
        cfg->window_ms > 60000 || cfg->margin_ms > 1000 || cfg->start_delay_ms > 5000)
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (!dec || !dec->decode || !dec->plc) return MXRTC_ERR_INVALID_ARGUMENT;

    mxrtc_audio_jb *jb = mxrtc_calloc(alloc, 1, sizeof *jb);
    if (!jb) return MXRTC_ERR_NO_MEMORY;
    if (alloc) {
        jb->alloc = *alloc;
        jb->have_alloc = true;
    }
    jb->cfg = *cfg;
    jb->dec = *dec;
    jb->ch = cfg->channels;
    jb->slots = mxrtc_calloc(alloc, cfg->slots, sizeof *jb->slots);
    jb->slab = mxrtc_malloc(alloc, (cfg->slots + 1) * cfg->max_packet);
    jb->queue = mxrtc_calloc(alloc, (size_t)QUEUE_CAP * (size_t)jb->ch, sizeof *jb->queue);
    jb->scratch = mxrtc_calloc(alloc, WIN_MAX, sizeof *jb->scratch);
    jb->mono = mxrtc_calloc(alloc, STRETCH_NEED, sizeof *jb->mono);
    if (!jb->slots || !jb->slab || !jb->queue || !jb->scratch || !jb->mono) {
        mxrtc_audio_jb_free(jb);
        return MXRTC_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < cfg->slots; i++) jb->slots[i].data = jb->slab + i * cfg->max_packet;
    jb->jump_data = jb->slab + cfg->slots * cfg->max_packet;
    jb->target_us = (int64_t)cfg->start_delay_ms * 1000;
    *out = jb;
    return MXRTC_OK;
}

void mxrtc_audio_jb_free(mxrtc_audio_jb *jb) {
    if (!jb) return;
    const mxrtc_allocator *a = jb->have_alloc ? &jb->alloc : NULL;
    mxrtc_free(a, jb->slots);
    mxrtc_free(a, jb->slab);
    mxrtc_free(a, jb->queue);
    mxrtc_free(a, jb->scratch);
    mxrtc_free(a, jb->mono);
    mxrtc_free(a, jb);
}

/* ---- helpers -------------------------------------------------------------- */

static int64_t ts_to_us(int64_t ts) { return ts * 1000 / RATE_KHZ; }

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Forgets the stream's packets, timeline and delay history (SSRC change,
 * timestamp jump); counters stay. */
static void restart_stream(mxrtc_audio_jb *jb) {
    for (size_t i = 0; i < jb->cfg.slots; i++) jb->slots[i].used = false;
    jb->queued = 0;
    jb->have_stream = false;
    jb->state = ST_IDLE;
    jb->concealing = false;
    jb->prov_samples = 0;
    jb->prov_advanced = 0;
    jb->prov_underrun = false;
    jb->since_start = 0;
    jb->win_head = jb->win_count = 0;
    jb->jump_pending = false;
    jb->last_was_dtx_frame = false;
    jb->target_us = (int64_t)jb->cfg.start_delay_ms * 1000;
    jb->jitter_us = 0;
    if (jb->dec.reset) jb->dec.reset(jb->dec.ctx);
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Adds a transit sample and recomputes d_min, the jitter quantile and the
 * target (rising at once, falling gently so one quiet second does not undo
 * what a burst taught). */
static void measure_delay(mxrtc_audio_jb *jb, mxrtc_time_us arrival, int64_t d) {
    size_t idx = (jb->win_head + jb->win_count) % WIN_MAX;
    if (jb->win_count == WIN_MAX) {
        jb->win_head = (jb->win_head + 1) % WIN_MAX;
        jb->win_count--;
    }
    jb->win[idx].arrival = arrival;
    jb->win[idx].d = d;
    jb->win_count++;
    uint64_t horizon = (uint64_t)jb->cfg.window_ms * 1000;
    while (jb->win_count > WIN_KEEP_MIN && arrival > jb->win[jb->win_head].arrival &&
           arrival - jb->win[jb->win_head].arrival > horizon) {
        jb->win_head = (jb->win_head + 1) % WIN_MAX;
        jb->win_count--;
    }
    int64_t mn = INT64_MAX;
    for (size_t i = 0; i < jb->win_count; i++) {
        int64_t v = jb->win[(jb->win_head + i) % WIN_MAX].d;
        if (v < mn) mn = v;
    }
    jb->d_min = mn;
    for (size_t i = 0; i < jb->win_count; i++) {
        int64_t r = jb->win[(jb->win_head + i) % WIN_MAX].d - mn;
        jb->scratch[i] = (int32_t)clamp64(r, 0, INT32_MAX);
    }
    qsort(jb->scratch, jb->win_count, sizeof *jb->scratch, cmp_i32);
    size_t k = (jb->win_count * jb->cfg.quantile_pct + 99) / 100;
    if (k > 0) k--;
    if (k >= jb->win_count) k = jb->win_count - 1;
    jb->jitter_us = jb->scratch[k];
    int64_t t = jb->jitter_us + (int64_t)jb->cfg.margin_ms * 1000;
    if (jb->since_start < 25) {
        int64_t s = (int64_t)jb->cfg.start_delay_ms * 1000;
        if (t < s) t = s;
    }
    t = clamp64(t, (int64_t)jb->cfg.min_delay_ms * 1000, (int64_t)jb->cfg.max_delay_ms * 1000);
    if (t >= jb->target_us) jb->target_us = t;
    else jb->target_us -= (jb->target_us - t + 15) / 16;
}

/* The stored packet with the smallest timestamp at or after play_ts; older
 * ones (overlapping what was already played) are dropped as late. */
static jb_slot *next_slot(mxrtc_audio_jb *jb) {
    jb_slot *best = NULL;
    for (size_t i = 0; i < jb->cfg.slots; i++) {
        jb_slot *s = &jb->slots[i];
        if (!s->used) continue;
        if (jb->state == ST_PLAYING && s->ts < jb->play_ts) {
            s->used = false;
            jb->st.late_drops++;
            continue;
        }
        if (!best || s->ts < best->ts) best = s;
    }
    return best;
}

static bool seq_seen(const mxrtc_audio_jb *jb, int64_t seq) {
    if (seq > jb->seq_high) return false;
    int64_t back = jb->seq_high - seq;
    if (back >= 64) return false;
    return (jb->seen >> back) & 1u;
}

static void mark_seen(mxrtc_audio_jb *jb, int64_t seq) {
    if (seq > jb->seq_high) {
        int64_t sh = seq - jb->seq_high;
        jb->seen = sh >= 64 ? 0 : jb->seen << sh;
        jb->seq_high = seq;
        jb->seen |= 1u;
    } else if (jb->seq_high - seq < 64) {
        jb->seen |= (uint64_t)1 << (jb->seq_high - seq);
    }
}

/* Stores a packet of the current stream (numbers already extended). */
static int store(mxrtc_audio_jb *jb, int64_t seq, int64_t ts, uint32_t samples,
                 const uint8_t *payload, size_t len, mxrtc_time_us arrival,
                 mxrtc_audio_jb_verdict *verdict) {
    if (seq_seen(jb, seq)) {
        jb->st.duplicates++;
        *verdict = MXRTC_AUDIO_JB_DUPLICATE;
        return MXRTC_OK;
    }
    mark_seen(jb, seq);
    if (seq == jb->seq_high) jb->ts_ref = ts;
    jb->since_start++;
    measure_delay(jb, arrival, (int64_t)arrival - ts_to_us(ts));
    if (jb->state == ST_PLAYING && (ts < jb->play_ts || seq <= jb->last_seq)) {
        jb->st.late_drops++;
        *verdict = MXRTC_AUDIO_JB_LATE;
        return MXRTC_OK;
    }
    jb_slot *free_slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < jb->cfg.slots; i++) {
        jb_slot *s = &jb->slots[i];
        if (!s->used) {
            if (!free_slot) free_slot = s;
        } else if (!oldest || s->ts < oldest->ts) {
            oldest = s;
        }
    }
    if (!free_slot) {
        /* Every slot busy: keep the newest audio, drop the oldest. */
        jb->st.overflow_drops++;
        if (oldest->ts > ts) {
            *verdict = MXRTC_AUDIO_JB_DROPPED;
            return MXRTC_OK;
        }
        free_slot = oldest;
    }
    free_slot->used = true;
    free_slot->seq = seq;
    free_slot->ts = ts;
    free_slot->samples = samples;
    free_slot->len = (uint16_t)len;
    memcpy(free_slot->data, payload, len);
    if (ts + samples > jb->newest_end) jb->newest_end = ts + samples;
    *verdict = MXRTC_AUDIO_JB_STORED;
    return MXRTC_OK;
}

/* First packet of a (re)started stream. */
static void begin_stream(mxrtc_audio_jb *jb, uint32_t ssrc, uint16_t seq, uint32_t ts,
                         mxrtc_time_us arrival) {
    jb->have_stream = true;
    jb->ssrc = ssrc;
    /* Start the extended numbers away from zero so that reordered packets
     * from before the first one stay positive. */
    jb->seq_high = (int64_t)seq + ((int64_t)1 << 20);
    jb->ts_ref = (int64_t)ts + ((int64_t)1 << 36);
    jb->seen = 0;
    jb->newest_end = jb->ts_ref;
    jb->state = ST_BUFFERING;
    jb->first_arrival = arrival;
}

int mxrtc_audio_jb_push(mxrtc_audio_jb *jb, const mxrtc_rtp_packet *pkt, mxrtc_time_us arrival,
                        mxrtc_audio_jb_verdict *verdict) {
    mxrtc_audio_jb_verdict dummy;
    if (!verdict) verdict = &dummy;
    *verdict = MXRTC_AUDIO_JB_DROPPED;
    if (!jb || !pkt || (!pkt->payload && pkt->payload_len)) return MXRTC_ERR_INVALID_ARGUMENT;
    if (pkt->payload_len > jb->cfg.max_packet) {
        jb->st.malformed++;
        return MXRTC_ERR_LIMIT;
    }
    int samples = mxrtc_opus_packet_samples(pkt->payload, pkt->payload_len);
    if (samples <= 0 || samples > MXRTC_AUDIO_JB_MAX_FRAME) {
        jb->st.malformed++;
        return samples < 0 ? samples : MXRTC_ERR_MALFORMED;
    }
    jb->st.packets_received++;

    bool resync = false;
    if (jb->have_stream && pkt->ssrc != jb->ssrc) {
        /* Packets of the old source still in flight (reordered behind the
         * new one's) are late, not a switch back. */
        if (jb->have_prev_ssrc && pkt->ssrc == jb->prev_ssrc && arrival >= jb->ssrc_changed_at &&
            arrival - jb->ssrc_changed_at < STALE_SSRC_US) {
            jb->st.late_drops++;
            *verdict = MXRTC_AUDIO_JB_LATE;
            return MXRTC_OK;
        }
        jb->have_prev_ssrc = true;
        jb->prev_ssrc = jb->ssrc;
        jb->ssrc_changed_at = arrival;
        restart_stream(jb);
        jb->st.ssrc_changes++;
        resync = true;
    }
    if (!jb->have_stream) {
        begin_stream(jb, pkt->ssrc, pkt->seq, pkt->ts, arrival);
        int64_t seq = jb->seq_high;
        jb->seq_high = seq - 1;   /* so that store() marks it as the new high */
        jb->seen = 0;
        int rc = store(jb, seq, jb->ts_ref, (uint32_t)samples, pkt->payload, pkt->payload_len,
                       arrival, verdict);
        if (resync && *verdict == MXRTC_AUDIO_JB_STORED) *verdict = MXRTC_AUDIO_JB_RESYNC;
        return rc;
    }

    int64_t seq = jb->seq_high + (int16_t)(uint16_t)(pkt->seq - (uint16_t)jb->seq_high);
    int64_t ts = jb->ts_ref + (int32_t)(uint32_t)(pkt->ts - (uint32_t)jb->ts_ref);
    int64_t dseq = seq - jb->seq_high;
    int64_t r = ((int64_t)arrival - ts_to_us(ts)) - jb->d_min;
    bool discontinuity = dseq > MAX_DROPOUT || dseq < -MAX_MISORDER ||
                         r > (int64_t)jb->cfg.max_delay_ms * 1000 + JUMP_SLACK_US ||
                         r < -JUMP_SLACK_US;
    if (discontinuity) {
        /* RFC 3550 A.1 style: believe a discontinuity only when the next
         * packet continues it. */
        if (jb->jump_pending && pkt->seq == (uint16_t)(jb->jump_seq + 1) &&
            (uint32_t)(pkt->ts - jb->jump_ts) <= 2 * MXRTC_AUDIO_JB_MAX_FRAME) {
            uint32_t ssrc = jb->ssrc;
            restart_stream(jb);
            jb->st.timestamp_jumps++;
            begin_stream(jb, ssrc, jb->jump_seq, jb->jump_ts, jb->jump_arrival);
            int64_t s0 = jb->seq_high;
            jb->seq_high = s0 - 1;
            int js = mxrtc_opus_packet_samples(jb->jump_data, jb->jump_len);
            mxrtc_audio_jb_verdict v0;
            if (js > 0)
                (void)store(jb, s0, jb->ts_ref, (uint32_t)js, jb->jump_data, jb->jump_len,
                            jb->jump_arrival, &v0);
            (void)store(jb, s0 + 1, jb->ts_ref + (uint32_t)(pkt->ts - jb->jump_ts),
                        (uint32_t)samples, pkt->payload, pkt->payload_len, arrival, verdict);
            *verdict = MXRTC_AUDIO_JB_RESYNC;
            return MXRTC_OK;
        }
        jb->jump_pending = true;
        jb->jump_seq = pkt->seq;
        jb->jump_ts = pkt->ts;
        jb->jump_arrival = arrival;
        jb->jump_len = (uint16_t)pkt->payload_len;
        memcpy(jb->jump_data, pkt->payload, pkt->payload_len);
        *verdict = MXRTC_AUDIO_JB_JUMP_PENDING;
        return MXRTC_OK;
    }
    jb->jump_pending = false;
    int rc = store(jb, seq, ts, (uint32_t)samples, pkt->payload, pkt->payload_len, arrival, verdict);
    if (resync && *verdict == MXRTC_AUDIO_JB_STORED) *verdict = MXRTC_AUDIO_JB_RESYNC;
    return rc;
}

/* ---- producing audio into the queue ------------------------------------- */

static int16_t *qat(mxrtc_audio_jb *jb, size_t frame) { return jb->queue + frame * (size_t)jb->ch; }

/* Runs a generator (plc/dtx/fec) for `samples` (rounded up to 2.5 ms) and
 * keeps exactly `samples` of it. Returns false if the decoder failed (then
 * silence stands in). */
static bool gen(mxrtc_audio_jb *jb, int kind, const jb_slot *next, size_t samples) {
    size_t n = (samples + STEP - 1) / STEP * STEP;
    int16_t *dst = qat(jb, jb->queued);
    int rc;
    if (kind == 0) rc = jb->dec.plc(jb->dec.ctx, dst, n);
    else if (kind == 1) rc = jb->dec.dtx ? jb->dec.dtx(jb->dec.ctx, dst, n) : (int)n;
    else rc = jb->dec.fec ? jb->dec.fec(jb->dec.ctx, next->data, next->len, dst, n)
                          : jb->dec.plc(jb->dec.ctx, dst, n);
    if (kind == 1 && !jb->dec.dtx) memset(dst, 0, n * (size_t)jb->ch * sizeof *dst);
    bool ok = rc == (int)n;
    if (!ok) memset(dst, 0, n * (size_t)jb->ch * sizeof *dst);
    jb->queued += samples;
    return ok;
}

static void conceal_count(mxrtc_audio_jb *jb, uint64_t n) {
    jb->st.concealed_samples += n;
    if (!jb->concealing) jb->st.concealment_events++;
    jb->concealing = true;
}

/* The provisional underrun concealment before `seq_gap`-free packet was
 * really DTX: count it as such. */
static void settle_provisional(mxrtc_audio_jb *jb, int64_t seq_gap) {
    if (!jb->prov_samples) return;
    /* Only concealment that let the timeline pass can have been DTX; what
     * was inserted while waiting for a late packet stays an underrun. */
    if (seq_gap <= 0 && jb->prov_advanced) {
        jb->st.concealed_samples -= jb->prov_advanced;
        jb->st.dtx_samples += jb->prov_advanced;
        if (jb->prov_advanced == jb->prov_samples) {
            if (jb->prov_underrun && jb->st.underruns) jb->st.underruns--;
            if (jb->st.concealment_events) jb->st.concealment_events--;
        }
    }
    jb->prov_samples = 0;
    jb->prov_advanced = 0;
    jb->prov_underrun = false;
}

static void decode_slot(mxrtc_audio_jb *jb, jb_slot *s) {
    int16_t *dst = qat(jb, jb->queued);
    size_t room = QUEUE_CAP - jb->queued;
    int n = jb->dec.decode(jb->dec.ctx, s->data, s->len, dst, room);
    if (n < 0) {
        jb->st.malformed++;
        (void)gen(jb, 0, NULL, s->samples);
        conceal_count(jb, s->samples);
    } else {
        /* Keep the timeline: the TOC's duration rules. */
        if ((size_t)n < s->samples)
            memset(dst + (size_t)n * (size_t)jb->ch, 0,
                   (s->samples - (size_t)n) * (size_t)jb->ch * sizeof *dst);
        jb->queued += s->samples;
        jb->st.decoded_samples += s->samples;
        jb->st.packets_decoded++;
        jb->concealing = false;
    }
    jb->play_ts = s->ts + s->samples;
    jb->last_seq = s->seq;
    jb->last_samples = s->samples;
    jb->last_was_dtx_frame = s->len <= 2;   /* TOC-only frame: the encoder is in DTX */
    s->used = false;
}

/* Produces the next piece of audio at play_ts. With `certain` only what needs
 * no guess (the packet due now, or a DTX gap before a consecutive packet);
 * returns 0 when that is not possible. now_delay_low: the current delay is
 * below the target band (an underrun then inserts instead of advancing). */
static size_t produce(mxrtc_audio_jb *jb, bool certain, bool delay_low) {
    size_t before = jb->queued;
    jb_slot *s = next_slot(jb);
    if (!s) {
        if (certain) return 0;
        /* Underrun: nothing to play. Conceal 10 ms; below the target this
         * waits for the packet (inserts), otherwise its slot passes. */
        size_t n = MXRTC_AUDIO_JB_PULL_SAMPLES;
        if (jb->last_was_dtx_frame) {
            (void)gen(jb, 1, NULL, n);
            jb->st.dtx_samples += n;
        } else {
            (void)gen(jb, 0, NULL, n);
            conceal_count(jb, n);
            if (!jb->prov_samples) {
                jb->st.underruns++;
                jb->prov_underrun = true;
            }
            jb->prov_samples += n;
            if (!delay_low) jb->prov_advanced += n;
        }
        if (!delay_low) jb->play_ts += (int64_t)n;
        else jb->st.expand_samples += n;
        return n;
    }
    int64_t seq_gap = s->seq - jb->last_seq - 1;
    int64_t gap = s->ts - jb->play_ts;
    if (gap == 0) {
        /* Anything missing before it had its slot already: no guess here. */
        settle_provisional(jb, seq_gap);
        if (seq_gap > 0) jb->st.packets_lost += (uint64_t)seq_gap;
        decode_slot(jb, s);
        return jb->queued - before;
    }
    /* gap > 0 (next_slot dropped anything older) */
    int64_t lost_span = seq_gap > 0 ? seq_gap * (int64_t)(jb->last_samples ? jb->last_samples : s->samples) : 0;
    if (gap > lost_span) {
        /* DTX: timestamps moved on without sequence numbers (RFC 7587
         * §3.1.3). The loss, if any, is taken to be right before s. */
        size_t n = (size_t)(gap - lost_span < CHUNK ? gap - lost_span : CHUNK);
        if (seq_gap <= 0) settle_provisional(jb, 0);
        (void)gen(jb, 1, NULL, n);
        jb->st.dtx_samples += n;
        jb->concealing = false;
        jb->play_ts += (int64_t)n;
        return n;
    }
    if (certain) return 0;
    settle_provisional(jb, seq_gap);
    /* Loss right before s: FEC from s when it carries LBRR for a frame the
     * size of s (libopus conceals any excess before it), else PLC. */
    if (gap >= (int64_t)s->samples && gap <= MXRTC_AUDIO_JB_MAX_FRAME && gap % STEP == 0 &&
        mxrtc_opus_packet_has_lbrr(s->data, s->len) == 1) {
        bool ok = gen(jb, 2, s, (size_t)gap);
        if (ok) {
            jb->st.fec_frames++;
            jb->st.fec_samples += s->samples;
            if (gap > (int64_t)s->samples) conceal_count(jb, (uint64_t)gap - s->samples);
            else jb->concealing = false;
        } else {
            conceal_count(jb, (uint64_t)gap);
        }
        jb->play_ts += gap;
        return (size_t)gap;
    }
    size_t n = (size_t)(gap < CHUNK ? gap : CHUNK);
    (void)gen(jb, 0, NULL, n);
    conceal_count(jb, n);
    jb->play_ts += (int64_t)n;
    return n;
}

/* ---- time stretching ---------------------------------------------------- */

static double fabs_d(double v) { return v < 0 ? -v : v; }

static int16_t mix(double v) {
    v += v < 0 ? -0.5 : 0.5;
    return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

/* Best lag for cutting or repeating one period at the head of the queue:
 * normalised correlation of [0, CORR_LEN) with [L, L + CORR_LEN). Returns
 * the lag, with *corr (squared, signed) and *silent (the head is below
 * SILENCE_RMS). */
static size_t best_lag(mxrtc_audio_jb *jb, double *corr, bool *silent) {
    float *x = jb->mono;
    for (size_t i = 0; i < STRETCH_NEED; i++) {
        const int16_t *p = qat(jb, i);
        x[i] = jb->ch == 1 ? (float)p[0] : 0.5f * ((float)p[0] + (float)p[1]);
    }
    double e = 0;
    for (size_t i = 0; i < STRETCH_NEED; i++) e += (double)x[i] * x[i];
    *silent = e / STRETCH_NEED < SILENCE_RMS * SILENCE_RMS;
    double e0 = 0;
    for (size_t i = 0; i < CORR_LEN; i++) e0 += (double)x[i] * x[i];
    /* energy of the sliding window [l, l + CORR_LEN), updated per lag */
    double yy = 0;
    for (size_t i = 0; i < CORR_LEN; i++) yy += (double)x[LAG_MIN + i] * x[LAG_MIN + i];
    double best = -2;
    size_t best_l = LAG_MAX;
    double c_at[LAG_MAX + 1];
    for (size_t l = LAG_MIN; l <= LAG_MAX; l++) {
        if (l > LAG_MIN) {
            double a = x[l - 1], b = x[l + CORR_LEN - 1];
            yy += b * b - a * a;
            if (yy < 0) yy = 0;
        }
        float xy = 0;
        for (size_t i = 0; i < CORR_LEN; i++) xy += x[i] * x[i + l];
        /* c * |c| keeps the order of c without a square root (no libm here) */
        double c = (e0 > 0 && yy > 0) ? (double)xy * fabs_d(xy) / (e0 * yy) : 0;
        c_at[l] = c;
        if (c > best) {
            best = c;
            best_l = l;
        }
    }
    /* Prefer the longest lag nearly as good: a multiple of the period cuts
     * more per step with the same quality. */
    for (size_t l = LAG_MAX; l > best_l; l--) {
        if (c_at[l] >= best - 0.02) {
            best_l = l;
            best = c_at[l];
            break;
        }
    }
    *corr = best;
    return best_l;
}

static void accelerate(mxrtc_audio_jb *jb, size_t l) {
    for (size_t n = 0; n < l; n++) {
        double w = ((double)n + 0.5) / (double)l;
        int16_t *a = qat(jb, n), *b = qat(jb, n + l);
        for (int c = 0; c < jb->ch; c++) a[c] = mix(a[c] * (1 - w) + b[c] * w);
    }
    memmove(qat(jb, l), qat(jb, 2 * l), (jb->queued - 2 * l) * (size_t)jb->ch * sizeof(int16_t));
    jb->queued -= l;
    jb->st.accelerate_samples += l;
}

static void expand(mxrtc_audio_jb *jb, size_t l) {
    memmove(qat(jb, 2 * l), qat(jb, l), (jb->queued - l) * (size_t)jb->ch * sizeof(int16_t));
    for (size_t n = 0; n < l; n++) {
        double w = ((double)n + 0.5) / (double)l;
        int16_t *a = qat(jb, l + n), *b = qat(jb, n);
        for (int c = 0; c < jb->ch; c++) a[c] = mix(a[c] * (1 - w) + b[c] * w);
    }
    jb->queued += l;
    jb->st.expand_samples += l;
}

/* ---- pull ------------------------------------------------------------------ */

static int64_t current_delay(const mxrtc_audio_jb *jb, mxrtc_time_us now) {
    int64_t out_ts = jb->play_ts - (int64_t)jb->queued;
    return (int64_t)now - ts_to_us(out_ts) - jb->d_min;
}

int mxrtc_audio_jb_pull(mxrtc_audio_jb *jb, mxrtc_time_us now, int16_t *pcm) {
    if (!jb || !pcm) return MXRTC_ERR_INVALID_ARGUMENT;
    const size_t n = MXRTC_AUDIO_JB_PULL_SAMPLES;
    jb->st.total_samples += n;
    if (jb->state == ST_BUFFERING && now >= jb->first_arrival &&
        (int64_t)(now - jb->first_arrival) >= jb->target_us) {
        jb_slot *first = next_slot(jb);
        if (first) {
            jb->state = ST_PLAYING;
            jb->play_ts = first->ts;
            jb->last_seq = first->seq - 1;
            jb->last_samples = first->samples;
            jb->queued = 0;
        } else {
            jb->state = ST_IDLE;
            jb->have_stream = false;
        }
    }
    if (jb->state != ST_PLAYING) {
        memset(pcm, 0, n * (size_t)jb->ch * sizeof *pcm);
        jb->st.silence_samples += n;
        return MXRTC_OK;
    }

    int64_t x = current_delay(jb, now);
    int64_t hyst = jb->target_us / 8 > 10000 ? jb->target_us / 8 : 10000;
    bool high = x > jb->target_us + hyst;
    bool low = x < jb->target_us - hyst;
    bool way_high = x > jb->target_us + 4 * hyst || x > (int64_t)jb->cfg.max_delay_ms * 1000 + hyst;

    while (jb->queued < n) {
        if (produce(jb, false, low) == 0) break;   /* cannot happen: uncertain never says 0 */
    }
    if (jb->stretch_backoff > 0) jb->stretch_backoff--;
    if ((high || low) && (jb->stretch_backoff == 0 || way_high)) {
        while (jb->queued < STRETCH_NEED + n) {
            if (produce(jb, true, false) == 0) break;
        }
        if (jb->queued >= STRETCH_NEED + n) {
            double corr;
            bool silent;
            size_t l = best_lag(jb, &corr, &silent);
            if (silent || corr >= CORR_OK2 || (high && way_high)) {
                if (high) accelerate(jb, l);
                else expand(jb, l);
            } else {
                jb->stretch_backoff = 4;   /* no periodic or quiet spot here: try in 40 ms */
            }
        }
        while (jb->queued < n) {
            if (produce(jb, false, low) == 0) break;
        }
    }
    if (jb->queued < n) {   /* defensive: produce() always makes progress */
        memset(qat(jb, jb->queued), 0, (n - jb->queued) * (size_t)jb->ch * sizeof *pcm);
        jb->queued = n;
    }
    memcpy(pcm, jb->queue, n * (size_t)jb->ch * sizeof *pcm);
    memmove(jb->queue, qat(jb, n), (jb->queued - n) * (size_t)jb->ch * sizeof *pcm);
    jb->queued -= n;
    jb->current_us = current_delay(jb, now);
    return MXRTC_OK;
}

void mxrtc_audio_jb_get_stats(const mxrtc_audio_jb *jb, mxrtc_audio_jb_stats *out) {
    if (!jb || !out) return;
    *out = jb->st;
    out->ssrc = jb->ssrc;
    out->target_delay_ms = (uint32_t)(jb->target_us / 1000);
    out->jitter_ms = (uint32_t)(jb->jitter_us / 1000);
    if (jb->state == ST_PLAYING) {
        out->current_delay_ms = (uint32_t)clamp64(jb->current_us / 1000, 0, UINT32_MAX);
        int64_t out_ts = jb->play_ts - (int64_t)jb->queued;
        out->buffered_ms = (uint32_t)clamp64((jb->newest_end - out_ts) / RATE_KHZ, 0, UINT32_MAX);
    } else {
        out->current_delay_ms = 0;
        out->buffered_ms = 0;
    }
}
