/*
 * vpx_codec.c: VP8 (RFC 6386) and VP9 encoder and decoder over libvpx.
 *
 * The encoder uses libvpx's one-pass real-time mode the way WebRTC senders
 * do (the choices and their sources are in docs/codecs.md): VPX_DL_REALTIME,
 * CBR, no lookahead (g_lag_in_frames 0), error-resilient entropy coding, a
 * fixed speed, one thread. The decoder guards the receive path: it refuses
 * to feed libvpx inter frames once the reference chain is broken, and says
 * so (needs_keyframe) so that rtp/ can ask for a keyframe with a PLI.
 *
 * Our objects come from the caller's allocator; libvpx allocates its own
 * frame buffers with the C library, at init and on a size change only.
 */
#include "codecs/codec.h"

#include <limits.h>
#include <string.h>

#include <vpx/vp8cx.h>
#include <vpx/vp8dx.h>
#include <vpx/vpx_decoder.h>
#include <vpx/vpx_encoder.h>

#include "base/alloc.h"
#include "base/log.h"

#define LOG_TAG "codecs"

/* RFC 7741 §6.1 / RFC 9628 §7: video RTP timestamps run at 90 kHz; libvpx
 * gets the same time base, so its rate control sees real frame durations. */
#define VPX_TIMEBASE_HZ 90000

struct mxrtc_video_encoder {
    mxrtc_allocator alloc;
    int has_alloc;
    mxrtc_logger log;
    mxrtc_codec_id codec;
    vpx_codec_iface_t *iface;
    vpx_codec_ctx_t ctx;
    int ctx_live;
    vpx_codec_enc_cfg_t cfg;
    int cpu_used;
    int max_fps;
    int force_keyframe;
    int have_pts;
    mxrtc_time_us first_ts;
    int64_t last_pts;
};

struct mxrtc_video_decoder {
    mxrtc_allocator alloc;
    int has_alloc;
    mxrtc_logger log;
    mxrtc_codec_id codec;
    vpx_codec_iface_t *iface;
    vpx_codec_ctx_t ctx;
    int ctx_live;
    int need_keyframe;
    mxrtc_video_decoder_stats stats;
};

static vpx_codec_iface_t *encoder_iface(mxrtc_codec_id codec) {
    switch (codec) {
#ifdef MXRTC_HAVE_VP8_ENCODER
    case MXRTC_CODEC_VP8: return vpx_codec_vp8_cx();
#endif
#ifdef MXRTC_HAVE_VP9_ENCODER
    case MXRTC_CODEC_VP9: return vpx_codec_vp9_cx();
#endif
    default: return NULL;
    }
}

static vpx_codec_iface_t *decoder_iface(mxrtc_codec_id codec) {
    switch (codec) {
#ifdef MXRTC_HAVE_VP8_DECODER
    case MXRTC_CODEC_VP8: return vpx_codec_vp8_dx();
#endif
#ifdef MXRTC_HAVE_VP9_DECODER
    case MXRTC_CODEC_VP9: return vpx_codec_vp9_dx();
#endif
    default: return NULL;
    }
}

/* Known ids that this build lacks are "unsupported"; anything else is a bad
 * argument. */
static int unsupported_or_invalid(mxrtc_codec_id codec) {
    switch (codec) {
    case MXRTC_CODEC_VP8:
    case MXRTC_CODEC_VP9:
    case MXRTC_CODEC_H264:
    case MXRTC_CODEC_AV1:
        return MXRTC_ERR_UNSUPPORTED;
    default:
        return MXRTC_ERR_INVALID_ARGUMENT;
    }
}

static int map_vpx_error(vpx_codec_err_t err) {
    switch (err) {
    case VPX_CODEC_OK: return MXRTC_OK;
    case VPX_CODEC_MEM_ERROR: return MXRTC_ERR_NO_MEMORY;
    case VPX_CODEC_INVALID_PARAM: return MXRTC_ERR_INVALID_ARGUMENT;
    case VPX_CODEC_INCAPABLE:
    case VPX_CODEC_UNSUP_FEATURE: return MXRTC_ERR_UNSUPPORTED;
    case VPX_CODEC_UNSUP_BITSTREAM:
    case VPX_CODEC_CORRUPT_FRAME: return MXRTC_ERR_MALFORMED;
    default: return MXRTC_ERR_INTERNAL;      /* VPX_CODEC_ERROR, ABI_MISMATCH, ... */
    }
}

/* ---- encoder ------------------------------------------------------------ */

void mxrtc_video_encoder_config_init(mxrtc_video_encoder_config *cfg, mxrtc_codec_id codec) {
    if (!cfg) return;
    memset(cfg, 0, sizeof *cfg);
    cfg->size = sizeof *cfg;
    cfg->codec = codec;
    cfg->width = 640;
    cfg->height = 480;
    cfg->bitrate_bps = 500000;
    cfg->max_fps = 30;
    /* libwebrtc's VP8 wrapper also asks for a keyframe every 3000 frames at
     * most; real-time streams otherwise rely on PLI/FIR. */
    cfg->keyframe_max_distance = 3000;
    cfg->cpu_used = 0;
}

static int valid_bitrate(uint32_t bps) {
    return bps >= 10000 && bps <= 100000000;
}

static int valid_size(int w, int h) {
    return w > 0 && h > 0 && w <= MXRTC_VIDEO_MAX_DIMENSION && h <= MXRTC_VIDEO_MAX_DIMENSION;
}

static int default_cpu_used(mxrtc_codec_id codec) {
    /* VP8: a negative value is a fixed speed; a positive one makes libvpx pick
     * the speed from measured wall-clock encode times (vp8 encodeframe.c,
     * vp8_auto_select_speed), which would make output depend on machine load.
     * VP9 real-time speeds are 5..9; 8 is what libwebrtc uses at low and
     * medium resolutions. */
    return codec == MXRTC_CODEC_VP8 ? -8 : 8;
}

static int ctl(vpx_codec_ctx_t *ctx, int id, int value) {
    return map_vpx_error(vpx_codec_control_(ctx, id, value));
}

/* (Re)initialises the libvpx encoder for width x height with the settings in
 * e->cfg. On failure the context is not live. */
static int encoder_open(mxrtc_video_encoder *e, int width, int height) {
    if (e->ctx_live) {
        vpx_codec_destroy(&e->ctx);
        e->ctx_live = 0;
    }
    e->cfg.g_w = (unsigned)width;
    e->cfg.g_h = (unsigned)height;
    vpx_codec_err_t err = vpx_codec_enc_init(&e->ctx, e->iface, &e->cfg, 0);
    if (err != VPX_CODEC_OK) {
        MXRTC_LOGW(&e->log, LOG_TAG, "vpx encoder init %dx%d failed: %s", width, height,
                   vpx_codec_err_to_string(err));
        return map_vpx_error(err);
    }
    e->ctx_live = 1;
    int rc = ctl(&e->ctx, VP8E_SET_CPUUSED, e->cpu_used);
    /* Keyframes are the big frames of a real-time stream; cap one at a share
     * of the rate-control buffer so it does not burst the path (libwebrtc:
     * half the optimal buffer, in per-frame units: 0.5 * 600 ms * fps / 10). */
    unsigned max_intra_pct = (unsigned)(e->cfg.rc_buf_optimal_sz / 2 * (unsigned)e->max_fps / 10);
    if (max_intra_pct < 300) max_intra_pct = 300;
    if (rc == MXRTC_OK) rc = ctl(&e->ctx, VP8E_SET_MAX_INTRA_BITRATE_PCT, (int)max_intra_pct);
    if (e->codec == MXRTC_CODEC_VP8) {
        /* No temporal denoiser: camera noise handling is the capturer's
         * business, and the denoiser costs encode time. */
        if (rc == MXRTC_OK) rc = ctl(&e->ctx, VP8E_SET_NOISE_SENSITIVITY, 0);
        /* Skip unchanged blocks cheaply; one token partition keeps the first
         * packet of a frame self-describing for RFC 7741 packetization. */
        if (rc == MXRTC_OK) rc = ctl(&e->ctx, VP8E_SET_STATIC_THRESHOLD, 1);
        if (rc == MXRTC_OK) rc = ctl(&e->ctx, VP8E_SET_TOKEN_PARTITIONS, VP8_ONE_TOKENPARTITION);
    } else {
#ifdef MXRTC_HAVE_VP9_ENCODER
        /* Cyclic-refresh adaptive quantisation (aq-mode 3) is libvpx's
         * real-time mode for VP9: it refreshes a slice of blocks each frame,
         * which also heals losses without keyframes. */
        if (rc == MXRTC_OK) rc = ctl(&e->ctx, VP9E_SET_AQ_MODE, 3);
        if (rc == MXRTC_OK) rc = ctl(&e->ctx, VP9E_SET_TILE_COLUMNS, 0);
        if (rc == MXRTC_OK) rc = ctl(&e->ctx, VP9E_SET_ROW_MT, 0);
#endif
    }
    if (rc != MXRTC_OK) {
        MXRTC_LOGW(&e->log, LOG_TAG, "vpx encoder control failed: %s",
                   vpx_codec_error_detail(&e->ctx) ? vpx_codec_error_detail(&e->ctx) : "");
        vpx_codec_destroy(&e->ctx);
        e->ctx_live = 0;
        return rc;
    }
    e->force_keyframe = 0;      /* a fresh encoder starts with a keyframe anyway */
    return MXRTC_OK;
}

int mxrtc_video_encoder_new(mxrtc_video_encoder **out, const mxrtc_video_encoder_config *cfg,
                            const mxrtc_allocator *alloc, const mxrtc_logger *log) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!cfg || cfg->size < sizeof *cfg) return MXRTC_ERR_INVALID_ARGUMENT;
    vpx_codec_iface_t *iface = encoder_iface(cfg->codec);
    if (!iface) return unsupported_or_invalid(cfg->codec);
    if (!valid_size(cfg->width, cfg->height) || !valid_bitrate(cfg->bitrate_bps) ||
        cfg->max_fps < 1 || cfg->max_fps > 120 || cfg->cpu_used < -16 || cfg->cpu_used > 16)
        return MXRTC_ERR_INVALID_ARGUMENT;

    mxrtc_video_encoder *e = mxrtc_calloc(alloc, 1, sizeof *e);
    if (!e) return MXRTC_ERR_NO_MEMORY;
    if (alloc) {
        e->alloc = *alloc;
        e->has_alloc = 1;
    }
    if (log) e->log = *log;
    e->codec = cfg->codec;
    e->iface = iface;
    e->max_fps = cfg->max_fps;
    e->cpu_used = cfg->cpu_used ? cfg->cpu_used : default_cpu_used(cfg->codec);
    if (cfg->codec == MXRTC_CODEC_VP9 && (e->cpu_used < -9 || e->cpu_used > 9)) {
        mxrtc_video_encoder_free(e);
        return MXRTC_ERR_INVALID_ARGUMENT;
    }

    vpx_codec_err_t err = vpx_codec_enc_config_default(iface, &e->cfg, 0);
    if (err != VPX_CODEC_OK) {
        mxrtc_video_encoder_free(e);
        return map_vpx_error(err);
    }
    vpx_codec_enc_cfg_t *c = &e->cfg;
    c->g_timebase.num = 1;
    c->g_timebase.den = VPX_TIMEBASE_HZ;
    c->g_threads = 1;                    /* the core starts no threads (DESIGN.md) */
    c->g_pass = VPX_RC_ONE_PASS;
    c->g_lag_in_frames = 0;              /* no lookahead: a frame out per frame in */
    /* Entropy contexts are not carried between frames, so a frame decodes
     * after a lost predecessor as long as its references survived. */
    c->g_error_resilient = VPX_ERROR_RESILIENT_DEFAULT;
    c->rc_end_usage = VPX_CBR;
    c->rc_target_bitrate = cfg->bitrate_bps / 1000;
    /* Rate-control shape used by real-time libvpx users (libwebrtc, the
     * vpx_temporal_svc_encoder example): a short buffer in ms, allow full
     * undershoot, little overshoot, and drop frames rather than overrun. */
    c->rc_min_quantizer = 2;
    c->rc_max_quantizer = cfg->codec == MXRTC_CODEC_VP8 ? 56 : 52;
    c->rc_undershoot_pct = 100;
    c->rc_overshoot_pct = 15;
    c->rc_buf_initial_sz = 500;
    c->rc_buf_optimal_sz = 600;
    c->rc_buf_sz = 1000;
    c->rc_dropframe_thresh = 30;
    c->rc_resize_allowed = 0;
    if (cfg->keyframe_max_distance) {
        c->kf_mode = VPX_KF_AUTO;
        c->kf_min_dist = 0;
        c->kf_max_dist = cfg->keyframe_max_distance;
    } else {
        c->kf_mode = VPX_KF_DISABLED;
    }

    int rc = encoder_open(e, cfg->width, cfg->height);
    if (rc != MXRTC_OK) {
        mxrtc_video_encoder_free(e);
        return rc;
    }
    *out = e;
    return MXRTC_OK;
}

void mxrtc_video_encoder_free(mxrtc_video_encoder *e) {
    if (!e) return;
    if (e->ctx_live) vpx_codec_destroy(&e->ctx);
    mxrtc_allocator a = e->alloc;
    mxrtc_free(e->has_alloc ? &a : NULL, e);
}

int mxrtc_video_encoder_set_bitrate(mxrtc_video_encoder *e, uint32_t bitrate_bps) {
    if (!e || !valid_bitrate(bitrate_bps)) return MXRTC_ERR_INVALID_ARGUMENT;
    e->cfg.rc_target_bitrate = bitrate_bps / 1000;
    if (!e->ctx_live) return MXRTC_OK;       /* applied when the encoder reopens */
    vpx_codec_err_t err = vpx_codec_enc_config_set(&e->ctx, &e->cfg);
    return map_vpx_error(err);
}

void mxrtc_video_encoder_request_keyframe(mxrtc_video_encoder *e) {
    if (e) e->force_keyframe = 1;
}

static int valid_picture(const mxrtc_i420 *p) {
    if (!p->y || !p->u || !p->v || !valid_size(p->width, p->height)) return 0;
    int cw = (p->width + 1) / 2;
    return p->stride_y >= p->width && p->stride_u >= cw && p->stride_v >= cw;
}

int mxrtc_video_encode(mxrtc_video_encoder *e, const mxrtc_i420 *pic, uint8_t *out,
                       size_t out_cap, mxrtc_encoded_frame *info) {
    if (!e || !pic || !out || !info) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(info, 0, sizeof *info);
    if (!valid_picture(pic)) return MXRTC_ERR_INVALID_ARGUMENT;
    info->width = pic->width;
    info->height = pic->height;
    info->timestamp_us = pic->timestamp_us;

    /* A new size: start a new encoder, as libwebrtc does on a resolution
     * change. vpx_codec_enc_config_set could shrink in place, but growing
     * beyond the first size is not possible with every libvpx version, and
     * the next frame must be a keyframe either way. */
    if (!e->ctx_live || (unsigned)pic->width != e->cfg.g_w || (unsigned)pic->height != e->cfg.g_h) {
        int rc = encoder_open(e, pic->width, pic->height);
        if (rc != MXRTC_OK) return rc;
        e->have_pts = 0;
    }

    /* Wrap the caller's planes without copying (libvpx only reads them). */
    vpx_image_t img;
    if (!vpx_img_wrap(&img, VPX_IMG_FMT_I420, (unsigned)pic->width, (unsigned)pic->height, 1,
                      (unsigned char *)(uintptr_t)pic->y))
        return MXRTC_ERR_INTERNAL;
    img.planes[VPX_PLANE_Y] = (unsigned char *)(uintptr_t)pic->y;
    img.planes[VPX_PLANE_U] = (unsigned char *)(uintptr_t)pic->u;
    img.planes[VPX_PLANE_V] = (unsigned char *)(uintptr_t)pic->v;
    img.stride[VPX_PLANE_Y] = pic->stride_y;
    img.stride[VPX_PLANE_U] = pic->stride_u;
    img.stride[VPX_PLANE_V] = pic->stride_v;

    /* Presentation time in 90 kHz ticks from the capture clock; libvpx wants
     * it strictly increasing, so a repeated or backward time is nudged. */
    int64_t pts, duration;
    if (!e->have_pts) {
        e->first_ts = pic->timestamp_us;
        pts = 0;
        duration = VPX_TIMEBASE_HZ / e->max_fps;
    } else {
        uint64_t dt = pic->timestamp_us >= e->first_ts ? pic->timestamp_us - e->first_ts : 0;
        pts = (int64_t)(dt / 1000000u * VPX_TIMEBASE_HZ + dt % 1000000u * VPX_TIMEBASE_HZ / 1000000u);
        if (pts <= e->last_pts) pts = e->last_pts + 1;
        duration = pts - e->last_pts;
    }

    vpx_enc_frame_flags_t flags = e->force_keyframe ? VPX_EFLAG_FORCE_KF : 0;
    vpx_codec_err_t err = vpx_codec_encode(&e->ctx, &img, pts, (unsigned long)duration, flags,
                                           VPX_DL_REALTIME);
    if (err != VPX_CODEC_OK) {
        MXRTC_LOGW(&e->log, LOG_TAG, "vpx encode failed: %s", vpx_codec_err_to_string(err));
        int rc = map_vpx_error(err);
        return rc == MXRTC_ERR_MALFORMED ? MXRTC_ERR_INTERNAL : rc;
    }
    e->have_pts = 1;
    e->last_pts = pts;

    /* With no lookahead and no spatial layers libvpx returns at most one
     * frame per input; drain the iterator all the same. */
    int frames = 0, rc = MXRTC_OK;
    vpx_codec_iter_t iter = NULL;
    const vpx_codec_cx_pkt_t *pkt;
    while ((pkt = vpx_codec_get_cx_data(&e->ctx, &iter)) != NULL) {
        if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) continue;
        if (++frames > 1) {
            rc = MXRTC_ERR_INTERNAL;
            continue;
        }
        size_t sz = pkt->data.frame.sz;
        info->keyframe = (pkt->data.frame.flags & VPX_FRAME_IS_KEY) ? 1 : 0;
        if (sz > out_cap) {
            info->needed = sz;
            info->keyframe = 0;
            rc = MXRTC_ERR_BUFFER_TOO_SMALL;
            continue;
        }
        memcpy(out, pkt->data.frame.buf, sz);
        info->len = sz;
    }
    if (frames == 0) {
        info->dropped = 1;      /* rate control skipped it (rc_dropframe_thresh) */
        return MXRTC_OK;
    }
    if (rc != MXRTC_OK) {
        /* The receiver will miss this frame: start the next one afresh. */
        info->len = 0;
        e->force_keyframe = 1;
        return rc;
    }
    if (info->keyframe) e->force_keyframe = 0;
    return MXRTC_OK;
}

/* ---- decoder ------------------------------------------------------------ */

int mxrtc_video_decoder_new(mxrtc_video_decoder **out, mxrtc_codec_id codec,
                            const mxrtc_allocator *alloc, const mxrtc_logger *log) {
    if (!out) return MXRTC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    vpx_codec_iface_t *iface = decoder_iface(codec);
    if (!iface) return unsupported_or_invalid(codec);
    mxrtc_video_decoder *d = mxrtc_calloc(alloc, 1, sizeof *d);
    if (!d) return MXRTC_ERR_NO_MEMORY;
    if (alloc) {
        d->alloc = *alloc;
        d->has_alloc = 1;
    }
    if (log) d->log = *log;
    d->codec = codec;
    d->iface = iface;
    d->need_keyframe = 1;       /* a stream starts at a keyframe */
    vpx_codec_dec_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.threads = 1;
    vpx_codec_err_t err = vpx_codec_dec_init(&d->ctx, iface, &cfg, 0);
    if (err != VPX_CODEC_OK) {
        mxrtc_video_decoder_free(d);
        return map_vpx_error(err);
    }
    d->ctx_live = 1;
    *out = d;
    return MXRTC_OK;
}

void mxrtc_video_decoder_free(mxrtc_video_decoder *d) {
    if (!d) return;
    if (d->ctx_live) vpx_codec_destroy(&d->ctx);
    mxrtc_allocator a = d->alloc;
    mxrtc_free(d->has_alloc ? &a : NULL, d);
}

int mxrtc_video_decoder_needs_keyframe(const mxrtc_video_decoder *d) {
    return d ? d->need_keyframe : 1;
}

void mxrtc_video_decoder_get_stats(const mxrtc_video_decoder *d, mxrtc_video_decoder_stats *out) {
    if (!out) return;
    if (!d) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = d->stats;
}

/* Marks the stream broken: nothing more is decoded until a keyframe. */
static int broken(mxrtc_video_decoder *d, int rc) {
    d->need_keyframe = 1;
    if (rc == MXRTC_ERR_MALFORMED) d->stats.frames_corrupt++;
    else d->stats.frames_dropped++;
    return rc;
}

/* Takes whatever pictures libvpx still holds from this decode call. */
static void drain_rest(mxrtc_video_decoder *d, vpx_codec_iter_t *iter) {
    while (vpx_codec_get_frame(&d->ctx, iter) != NULL) {
    }
}

static void drain_frames(mxrtc_video_decoder *d) {
    vpx_codec_iter_t iter = NULL;
    drain_rest(d, &iter);
}

int mxrtc_video_decode(mxrtc_video_decoder *d, const uint8_t *data, size_t len,
                       mxrtc_time_us timestamp_us, mxrtc_i420 *pic, int *got_frame) {
    if (got_frame) *got_frame = 0;
    if (!d || !pic || !got_frame || (!data && len)) return MXRTC_ERR_INVALID_ARGUMENT;
    memset(pic, 0, sizeof *pic);
    /* An empty frame is a lost frame (libvpx would take it as a flush). */
    if (len == 0 || len > UINT_MAX) return broken(d, MXRTC_ERR_MALFORMED);

    /* Is it a keyframe, and of what size? (VP8: RFC 6386 §9.1 frame tag and
     * start code; VP9: the uncompressed header.) libvpx's peek reports an
     * error for inter frames, which carry no size: only is_kf is used then. */
    vpx_codec_stream_info_t si;
    memset(&si, 0, sizeof si);
    si.sz = sizeof si;
    vpx_codec_err_t perr = vpx_codec_peek_stream_info(d->iface, data, (unsigned)len, &si);
    int is_key = si.is_kf && perr == VPX_CODEC_OK;
    if (is_key && (si.w > MXRTC_VIDEO_MAX_DIMENSION || si.h > MXRTC_VIDEO_MAX_DIMENSION))
        return broken(d, MXRTC_ERR_LIMIT);
    if (d->need_keyframe && !is_key) {
        d->stats.frames_dropped++;
        return MXRTC_ERR_STATE;
    }

    vpx_codec_err_t err = vpx_codec_decode(&d->ctx, data, (unsigned)len, NULL, 0);
    if (err != VPX_CODEC_OK) {
        MXRTC_LOGD(&d->log, LOG_TAG, "vpx decode: %s (%s)", vpx_codec_err_to_string(err),
                   vpx_codec_error_detail(&d->ctx) ? vpx_codec_error_detail(&d->ctx) : "");
        drain_frames(d);
        int rc = map_vpx_error(err);
        if (rc != MXRTC_ERR_NO_MEMORY && rc != MXRTC_ERR_UNSUPPORTED) rc = MXRTC_ERR_MALFORMED;
        return broken(d, rc);
    }
    /* libvpx decodes a truncated frame without complaint but flags it: the
     * bool decoder ran past the end of a partition (VP8D_GET_FRAME_CORRUPTED). */
    int corrupted = 0;
    if (vpx_codec_control(&d->ctx, VP8D_GET_FRAME_CORRUPTED, &corrupted) == VPX_CODEC_OK &&
        corrupted) {
        MXRTC_LOGD(&d->log, LOG_TAG, "vpx decode: frame corrupted");
        drain_frames(d);
        return broken(d, MXRTC_ERR_MALFORMED);
    }

    vpx_codec_iter_t iter = NULL;
    vpx_image_t *img = vpx_codec_get_frame(&d->ctx, &iter);
    if (img) drain_rest(d, &iter);
    if (!img) {
        /* A frame that is decoded but not shown (VP9 show_frame = 0). */
        if (is_key) d->need_keyframe = 0;
        return MXRTC_OK;
    }
    if (img->fmt != VPX_IMG_FMT_I420)
        return broken(d, MXRTC_ERR_UNSUPPORTED);
    if (img->d_w == 0 || img->d_h == 0 || img->d_w > MXRTC_VIDEO_MAX_DIMENSION ||
        img->d_h > MXRTC_VIDEO_MAX_DIMENSION)
        return broken(d, MXRTC_ERR_LIMIT);

    pic->y = img->planes[VPX_PLANE_Y];
    pic->u = img->planes[VPX_PLANE_U];
    pic->v = img->planes[VPX_PLANE_V];
    pic->stride_y = img->stride[VPX_PLANE_Y];
    pic->stride_u = img->stride[VPX_PLANE_U];
    pic->stride_v = img->stride[VPX_PLANE_V];
    pic->width = (int)img->d_w;
    pic->height = (int)img->d_h;
    pic->timestamp_us = timestamp_us;
    *got_frame = 1;
    d->need_keyframe = 0;
    d->stats.frames_decoded++;
    if (is_key) d->stats.keyframes_decoded++;
    return MXRTC_OK;
}
