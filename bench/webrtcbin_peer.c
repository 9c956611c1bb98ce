/*
 * webrtcbin_peer.c: GStreamer's webrtcbin (the engine Nheko uses) as the
 * comparison peer of bench/run.sh, sections 1 and 3 of BENCHMARKS.md.
 * Written against GStreamer's public API only (gst, gst-sdp, gst-webrtc
 * 1.22 as Debian 12 ships them).
 *
 *   webrtcbin_peer connect N
 *       Two webrtcbin in this process, signalled in memory (offer, answer
 *       and trickled candidates handed across directly), ICE over real UDP
 *       sockets (libnice, host candidates of this machine). One Opus audio
 *       stream each way (audiotestsrc). Per run: the time from emitting
 *       "create-offer" on the offerer to the first decrypted RTP packet on
 *       the answerer, i.e. the first buffer leaving an srtpdec inside the
 *       answering webrtcbin (before rtpbin's jitter buffer, which holds
 *       packets for its latency); also the first buffer on the answerer's
 *       src pad (after the jitter buffer) for reference. Prints one line
 *       per run and the medians.
 *
 *   webrtcbin_peer call --offer|--answer [--video WxH] [--name X]
 *       One side of a call in this process, speaking the JSON-lines
 *       signalling of docs/interop.md on stdin/stdout (ready, offer,
 *       answer, candidate, end-of-candidates, bye): a 440 Hz tone as Opus
 *       48 kHz mono, and with --video a solid-colour WxH@30 picture as VP8;
 *       received media is depayloaded and decoded into fakesinks. Writes
 *       {"type":"result",...} once audio (and video) has been decoded and
 *       exits 0 on "bye" or when stdin closes.
 *
 * Threads: GStreamer calls the signal handlers and promise callbacks on its
 * own streaming threads; stdout lines are written under one mutex.
 */
#include <cjson/cJSON.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPUS_PT 111
#define VP8_PT 96
#define AUDIO_BITRATE 32000   /* mxrtc's Opus default: 32 kbit/s mono */
#define VIDEO_BITRATE 800000  /* mxrtc's VP8 default (peer.c) */

/* The send branch: a live tone as Opus (20 ms frames, opusenc's default and
 * mxrtc's ptime), and optionally a solid-colour picture as VP8 with the
 * realtime deadline (what an interactive call uses). */
static char *send_description(int video, int w, int h) {
    GString *s = g_string_new(NULL);
    g_string_append_printf(s,
                           "webrtcbin name=w bundle-policy=max-bundle "
                           "audiotestsrc is-live=true wave=sine freq=440 volume=0.3 ! "
                           "audio/x-raw,rate=48000,channels=1 ! audioconvert ! "
                           "opusenc bitrate=%d ! rtpopuspay pt=%d ! "
                           "application/x-rtp,media=audio,encoding-name=OPUS,payload=%d ! queue ! w. ",
                           AUDIO_BITRATE, OPUS_PT, OPUS_PT);
    if (video)
        g_string_append_printf(s,
                               "videotestsrc is-live=true pattern=solid-color foreground-color=0xff3366cc ! "
                               "video/x-raw,format=I420,width=%d,height=%d,framerate=30/1 ! "
                               "vp8enc deadline=1 target-bitrate=%d keyframe-max-dist=3000 ! "
                               "rtpvp8pay pt=%d ! "
                               "application/x-rtp,media=video,encoding-name=VP8,payload=%d ! queue ! w. ",
                               w, h, VIDEO_BITRATE, VP8_PT, VP8_PT);
    return g_string_free(s, FALSE);
}

static GstElement *make_pipeline(int video, int w, int h, GstElement **webrtc) {
    char *d = send_description(video, w, h);
    GError *err = NULL;
    GstElement *p = gst_parse_launch(d, &err);
    g_free(d);
    if (!p || err) {
        fprintf(stderr, "webrtcbin_peer: pipeline: %s\n", err ? err->message : "?");
        g_clear_error(&err);
        if (p) gst_object_unref(p);
        return NULL;
    }
    *webrtc = gst_bin_get_by_name(GST_BIN(p), "w");
    return p;
}

static double median(double *v, int n) {
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ======================================================================
 * connect: two webrtcbin in one process
 * ====================================================================== */

typedef struct cn_run {
    GMainLoop *loop;
    GstElement *pipe[2], *w[2];
    gint64 t_offer;                  /* g_get_monotonic_time() at create-offer */
    _Atomic int64_t t_decrypted;     /* first buffer out of the answerer's srtpdec
                                        (a streaming thread writes it) */
    gint64 t_pad;                    /* first buffer on the answerer's src pad */
    gint64 t_connected;              /* answerer's ICE state connected */
    gboolean failed;
} cn_run;

static GstPadProbeReturn on_first_decrypted(GstPad *pad, GstPadProbeInfo *info, gpointer user) {
    (void)pad;
    (void)info;
    cn_run *r = user;
    int64_t zero = 0;
    atomic_compare_exchange_strong(&r->t_decrypted, &zero, (int64_t)g_get_monotonic_time());
    return GST_PAD_PROBE_REMOVE;
}

static GstPadProbeReturn on_first_pad_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer user) {
    (void)pad;
    (void)info;
    cn_run *r = user;
    if (!r->t_pad) r->t_pad = g_get_monotonic_time();
    g_main_loop_quit(r->loop);
    return GST_PAD_PROBE_REMOVE;
}

/* An element appeared somewhere inside the answering webrtcbin: its srtpdec
 * (one per transport; with max-bundle, one) gets a probe on the pad that
 * carries decrypted RTP. */
static void on_deep_element_added(GstBin *bin, GstBin *sub, GstElement *el, gpointer user) {
    (void)bin;
    (void)sub;
    GstElementFactory *f = gst_element_get_factory(el);
    if (!f || strcmp(GST_OBJECT_NAME(f), "srtpdec") != 0) return;
    GstPad *pad = gst_element_get_static_pad(el, "rtp_src");
    if (!pad) return;
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, on_first_decrypted, user,
                      NULL);
    gst_object_unref(pad);
}

static void cn_pad_added(GstElement *w, GstPad *pad, gpointer user) {
    cn_run *r = user;
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
    GstElement *sink = gst_element_factory_make("fakesink", NULL);
    g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
    GstElement *pipe = GST_ELEMENT(gst_element_get_parent(w));
    gst_bin_add(GST_BIN(pipe), sink);
    gst_element_sync_state_with_parent(sink);
    GstPad *sp = gst_element_get_static_pad(sink, "sink");
    gst_pad_link(pad, sp);
    gst_object_unref(sp);
    gst_object_unref(pipe);
    if (w != r->w[1]) return;  /* the offerer receives too; only the answerer is timed */
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, on_first_pad_buffer, r,
                      NULL);
}

static void cn_on_candidate(GstElement *w, guint mline, gchar *cand, gpointer user) {
    (void)w;
    GstElement *other = user;
    g_signal_emit_by_name(other, "add-ice-candidate", mline, cand);
}

static void cn_ice_state(GObject *w, GParamSpec *ps, gpointer user) {
    (void)ps;
    cn_run *r = user;
    GstWebRTCICEConnectionState s;
    g_object_get(w, "ice-connection-state", &s, NULL);
    if ((s == GST_WEBRTC_ICE_CONNECTION_STATE_CONNECTED || s == GST_WEBRTC_ICE_CONNECTION_STATE_COMPLETED) &&
        !r->t_connected)
        r->t_connected = g_get_monotonic_time();
    if (s == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED) {
        r->failed = TRUE;
        g_main_loop_quit(r->loop);
    }
}

static GstWebRTCSessionDescription *reply_desc(GstPromise *p, const char *field) {
    GstWebRTCSessionDescription *d = NULL;
    if (gst_promise_wait(p) != GST_PROMISE_RESULT_REPLIED) return NULL;
    const GstStructure *s = gst_promise_get_reply(p);
    if (s) gst_structure_get(s, field, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &d, NULL);
    return d;
}

/* The answer: set on both sides (answerer's local, offerer's remote). */
static void cn_answer_created(GstPromise *p, gpointer user) {
    cn_run *r = user;
    GstWebRTCSessionDescription *a = reply_desc(p, "answer");
    gst_promise_unref(p);
    if (!a) {
        r->failed = TRUE;
        g_main_loop_quit(r->loop);
        return;
    }
    g_signal_emit_by_name(r->w[1], "set-local-description", a, NULL);
    g_signal_emit_by_name(r->w[0], "set-remote-description", a, NULL);
    gst_webrtc_session_description_free(a);
}

static void cn_offer_created(GstPromise *p, gpointer user) {
    cn_run *r = user;
    GstWebRTCSessionDescription *o = reply_desc(p, "offer");
    gst_promise_unref(p);
    if (!o) {
        r->failed = TRUE;
        g_main_loop_quit(r->loop);
        return;
    }
    g_signal_emit_by_name(r->w[0], "set-local-description", o, NULL);
    /* The answer is created once the remote offer is applied: webrtcbin
     * runs its operations in order, so the create-answer below sees it. */
    g_signal_emit_by_name(r->w[1], "set-remote-description", o, NULL);
    gst_webrtc_session_description_free(o);
    g_signal_emit_by_name(r->w[1], "create-answer", NULL,
                          gst_promise_new_with_change_func(cn_answer_created, r, NULL));
}

static void cn_negotiation_needed(GstElement *w, gpointer user) {
    (void)w;
    cn_run *r = user;
    if (r->t_offer) return;
    r->t_offer = g_get_monotonic_time();
    g_signal_emit_by_name(r->w[0], "create-offer", NULL, gst_promise_new_with_change_func(cn_offer_created, r, NULL));
}

static gboolean cn_timeout(gpointer user) {
    cn_run *r = user;
    r->failed = TRUE;
    g_main_loop_quit(r->loop);
    return G_SOURCE_REMOVE;
}

static int connect_mode(int runs) {
    double *dec = g_new0(double, runs), *pad = g_new0(double, runs);
    int ok = 0;
    for (int i = 0; i < runs; i++) {
        cn_run r;
        memset(&r, 0, sizeof r);
        r.loop = g_main_loop_new(NULL, FALSE);
        for (int k = 0; k < 2; k++) {
            r.pipe[k] = make_pipeline(0, 0, 0, &r.w[k]);
            if (!r.pipe[k]) return 1;
        }
        g_signal_connect(r.pipe[1], "deep-element-added", G_CALLBACK(on_deep_element_added), &r);
        g_signal_connect(r.w[1], "pad-added", G_CALLBACK(cn_pad_added), &r);
        g_signal_connect(r.w[0], "pad-added", G_CALLBACK(cn_pad_added), &r);
        g_signal_connect(r.w[0], "on-ice-candidate", G_CALLBACK(cn_on_candidate), r.w[1]);
        g_signal_connect(r.w[1], "on-ice-candidate", G_CALLBACK(cn_on_candidate), r.w[0]);
        g_signal_connect(r.w[1], "notify::ice-connection-state", G_CALLBACK(cn_ice_state), &r);
        /* The offer is made when the offerer asks for negotiation, i.e. once
         * its pipeline runs and its send pad is linked; the clock starts at
         * that create-offer. */
        g_signal_connect(r.w[0], "on-negotiation-needed", G_CALLBACK(cn_negotiation_needed), &r);
        gst_element_set_state(r.pipe[1], GST_STATE_PLAYING);
        gst_element_set_state(r.pipe[0], GST_STATE_PLAYING);
        guint to = g_timeout_add_seconds(15, cn_timeout, &r);
        g_main_loop_run(r.loop);
        g_source_remove(to);
        /* The pad probe ended the loop; the srtpdec probe fired before it
         * on the same packet's path. */
        int64_t td = atomic_load(&r.t_decrypted);
        if (!r.failed && td && r.t_pad) {
            dec[ok] = (double)(td - r.t_offer) / 1000.0;
            pad[ok] = (double)(r.t_pad - r.t_offer) / 1000.0;
            printf("run %d: connect_ms=%.2f pad_ms=%.2f ice_connected_ms=%.2f\n", i + 1, dec[ok], pad[ok],
                   r.t_connected ? (double)(r.t_connected - r.t_offer) / 1000.0 : -1.0);
            ok++;
        } else {
            printf("run %d: failed\n", i + 1);
        }
        fflush(stdout);
        for (int k = 0; k < 2; k++) {
            gst_element_set_state(r.pipe[k], GST_STATE_NULL);
            gst_object_unref(r.w[k]);
            gst_object_unref(r.pipe[k]);
        }
        g_main_loop_unref(r.loop);
    }
    if (ok) {
        double md = median(dec, ok), mp = median(pad, ok);
        printf("median connect_ms=%.2f pad_ms=%.2f runs=%d failed=%d\n", md, mp, ok, runs - ok);
    } else {
        printf("median connect_ms=nan runs=0 failed=%d\n", runs);
    }
    g_free(dec);
    g_free(pad);
    return ok == runs ? 0 : 1;
}

/* ======================================================================
 * call: one side, JSON lines on stdin/stdout
 * ====================================================================== */

typedef struct cl {
    GMainLoop *loop;
    GstElement *pipe, *w;
    gboolean offer, video;
    const char *name;
    GMutex out_lock;
    gint64 t_start;
    volatile gint audio_buffers, video_buffers;
    gboolean result_written;
    GString *in;
} cl;

static cl C;

static void emit(cJSON *j) {
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!s) return;
    g_mutex_lock(&C.out_lock);
    fputs(s, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    g_mutex_unlock(&C.out_lock);
    free(s);
}

static void emit_type(const char *t) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", t);
    emit(j);
}

static void emit_desc(const char *type, GstWebRTCSessionDescription *d) {
    gchar *text = gst_sdp_message_as_text(d->sdp);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", type);
    cJSON_AddStringToObject(j, "sdp", text);
    emit(j);
    g_free(text);
}

static void cl_on_candidate(GstElement *w, guint mline, gchar *cand, gpointer user) {
    (void)w;
    (void)user;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", "candidate");
    cJSON_AddStringToObject(j, "candidate", cand);
    cJSON_AddStringToObject(j, "sdpMid", "0");
    cJSON_AddNumberToObject(j, "sdpMLineIndex", mline);
    emit(j);
}

static void cl_gathering(GObject *w, GParamSpec *ps, gpointer user) {
    (void)ps;
    (void)user;
    GstWebRTCICEGatheringState s;
    g_object_get(w, "ice-gathering-state", &s, NULL);
    if (s == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) emit_type("end-of-candidates");
}

static void maybe_result(void) {
    if (C.result_written || g_atomic_int_get(&C.audio_buffers) == 0) return;
    if (C.video && g_atomic_int_get(&C.video_buffers) == 0) return;
    C.result_written = TRUE;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", "result");
    cJSON_AddNumberToObject(j, "first_media_ms", (double)(g_get_monotonic_time() - C.t_start) / 1000.0);
    cJSON_AddNumberToObject(j, "audio_buffers_decoded", g_atomic_int_get(&C.audio_buffers));
    cJSON_AddNumberToObject(j, "video_frames_decoded", g_atomic_int_get(&C.video_buffers));
    emit(j);
}

static gboolean result_idle(gpointer u) {
    (void)u;
    maybe_result();
    return G_SOURCE_REMOVE;
}

static GstPadProbeReturn count_audio(GstPad *pad, GstPadProbeInfo *info, gpointer u) {
    (void)pad;
    (void)info;
    (void)u;
    if (g_atomic_int_add(&C.audio_buffers, 1) == 0) g_idle_add(result_idle, NULL);
    return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn count_video(GstPad *pad, GstPadProbeInfo *info, gpointer u) {
    (void)pad;
    (void)info;
    (void)u;
    if (g_atomic_int_add(&C.video_buffers, 1) == 0) g_idle_add(result_idle, NULL);
    return GST_PAD_PROBE_OK;
}

/* A received stream: depayload and decode it (a call's receive side does),
 * into a fakesink that keeps the pace of the clock like a real sink. */
static void cl_pad_added(GstElement *w, GstPad *pad, gpointer user) {
    (void)w;
    (void)user;
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
    GstCaps *caps = gst_pad_get_current_caps(pad);
    if (!caps) caps = gst_pad_query_caps(pad, NULL);
    const GstStructure *s = gst_caps_get_structure(caps, 0);
    const char *media = gst_structure_get_string(s, "media");
    gboolean audio = media && !strcmp(media, "audio");
    gst_caps_unref(caps);
    const char *desc = audio ? "rtpopusdepay ! opusdec ! audioconvert ! fakesink name=sink sync=true"
                             : "rtpvp8depay ! vp8dec ! videoconvert ! fakesink name=sink sync=true";
    GError *err = NULL;
    GstElement *bin = gst_parse_bin_from_description(desc, TRUE, &err);
    if (!bin) {
        fprintf(stderr, "[%s] receive branch: %s\n", C.name, err ? err->message : "?");
        g_clear_error(&err);
        return;
    }
    gst_bin_add(GST_BIN(C.pipe), bin);
    gst_element_sync_state_with_parent(bin);
    GstPad *sp = gst_element_get_static_pad(bin, "sink");
    if (gst_pad_link(pad, sp) != GST_PAD_LINK_OK) fprintf(stderr, "[%s] link failed\n", C.name);
    gst_object_unref(sp);
    GstElement *sink = gst_bin_get_by_name(GST_BIN(bin), "sink");
    GstPad *kp = gst_element_get_static_pad(sink, "sink");
    gst_pad_add_probe(kp, GST_PAD_PROBE_TYPE_BUFFER, audio ? count_audio : count_video, NULL, NULL);
    gst_object_unref(kp);
    gst_object_unref(sink);
    fprintf(stderr, "[%s] receiving %s\n", C.name, audio ? "audio" : "video");
}

static void cl_answer_created(GstPromise *p, gpointer user) {
    (void)user;
    GstWebRTCSessionDescription *a = reply_desc(p, "answer");
    gst_promise_unref(p);
    if (!a) {
        fprintf(stderr, "[%s] create-answer failed\n", C.name);
        return;
    }
    g_signal_emit_by_name(C.w, "set-local-description", a, NULL);
    emit_desc("answer", a);
    gst_webrtc_session_description_free(a);
}

static void cl_offer_created(GstPromise *p, gpointer user) {
    (void)user;
    GstWebRTCSessionDescription *o = reply_desc(p, "offer");
    gst_promise_unref(p);
    if (!o) {
        fprintf(stderr, "[%s] create-offer failed\n", C.name);
        return;
    }
    g_signal_emit_by_name(C.w, "set-local-description", o, NULL);
    emit_desc("offer", o);
    gst_webrtc_session_description_free(o);
}

static void cl_negotiation_needed(GstElement *w, gpointer user) {
    (void)user;
    static gboolean done;
    if (!C.offer || done) return;
    done = TRUE;
    g_signal_emit_by_name(w, "create-offer", NULL, gst_promise_new_with_change_func(cl_offer_created, NULL, NULL));
}

static void set_remote(const char *type, const char *sdp) {
    GstSDPMessage *msg = NULL;
    if (gst_sdp_message_new_from_text(sdp, &msg) != GST_SDP_OK) {
        fprintf(stderr, "[%s] unparsable %s\n", C.name, type);
        return;
    }
    gboolean offer = !strcmp(type, "offer");
    GstWebRTCSessionDescription *d =
        gst_webrtc_session_description_new(offer ? GST_WEBRTC_SDP_TYPE_OFFER : GST_WEBRTC_SDP_TYPE_ANSWER, msg);
    g_signal_emit_by_name(C.w, "set-remote-description", d, NULL);
    gst_webrtc_session_description_free(d);
    if (offer)
        g_signal_emit_by_name(C.w, "create-answer", NULL,
                              gst_promise_new_with_change_func(cl_answer_created, NULL, NULL));
}

static void handle_line(const char *line) {
    cJSON *j = cJSON_Parse(line);
    const cJSON *t = j ? cJSON_GetObjectItemCaseSensitive(j, "type") : NULL;
    if (!cJSON_IsString(t)) {
        fprintf(stderr, "[%s] malformed line ignored\n", C.name);
        cJSON_Delete(j);
        return;
    }
    const char *type = t->valuestring;
    if (!strcmp(type, "offer") || !strcmp(type, "answer")) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "sdp");
        if (cJSON_IsString(s)) set_remote(type, s->valuestring);
    } else if (!strcmp(type, "candidate")) {
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "candidate");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "sdpMLineIndex");
        if (cJSON_IsString(c) && c->valuestring[0])
            g_signal_emit_by_name(C.w, "add-ice-candidate", (guint)(cJSON_IsNumber(m) ? m->valueint : 0),
                                  c->valuestring);
    } else if (!strcmp(type, "bye")) {
        fprintf(stderr, "[%s] bye received\n", C.name);
        g_main_loop_quit(C.loop);
    }
    cJSON_Delete(j);
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer user) {
    (void)user;
    char buf[65536];
    gsize n = 0;
    GIOStatus st = G_IO_STATUS_EOF;
    if (cond & G_IO_IN) st = g_io_channel_read_chars(ch, buf, sizeof buf, &n, NULL);
    if (n > 0) {
        g_string_append_len(C.in, buf, (gssize)n);
        char *nl;
        while ((nl = memchr(C.in->str, '\n', C.in->len))) {
            *nl = '\0';
            if (nl > C.in->str) handle_line(C.in->str);
            g_string_erase(C.in, 0, nl - C.in->str + 1);
        }
        return G_SOURCE_CONTINUE;
    }
    if (st == G_IO_STATUS_AGAIN) return G_SOURCE_CONTINUE;
    fprintf(stderr, "[%s] stdin closed\n", C.name);
    g_main_loop_quit(C.loop);
    return G_SOURCE_REMOVE;
}

static int call_mode(int argc, char **argv) {
    int w = 0, h = 0;
    C.name = "webrtcbin";
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--offer")) C.offer = TRUE;
        else if (!strcmp(argv[i], "--answer")) C.offer = FALSE;
        else if (!strcmp(argv[i], "--video") && i + 1 < argc && sscanf(argv[++i], "%dx%d", &w, &h) == 2)
            C.video = w > 0 && h > 0 && w <= 4096 && h <= 4096;
        else if (!strcmp(argv[i], "--name") && i + 1 < argc) C.name = argv[++i];
        else {
            fprintf(stderr, "usage: webrtcbin_peer call --offer|--answer [--video WxH] [--name X]\n");
            return 2;
        }
    }
    g_mutex_init(&C.out_lock);
    C.in = g_string_new(NULL);
    C.loop = g_main_loop_new(NULL, FALSE);
    C.pipe = make_pipeline(C.video, w, h, &C.w);
    if (!C.pipe) return 1;
    g_signal_connect(C.w, "on-negotiation-needed", G_CALLBACK(cl_negotiation_needed), NULL);
    g_signal_connect(C.w, "on-ice-candidate", G_CALLBACK(cl_on_candidate), NULL);
    g_signal_connect(C.w, "notify::ice-gathering-state", G_CALLBACK(cl_gathering), NULL);
    g_signal_connect(C.w, "pad-added", G_CALLBACK(cl_pad_added), NULL);
    C.t_start = g_get_monotonic_time();
    GIOChannel *ch = g_io_channel_unix_new(0);
    g_io_channel_set_encoding(ch, NULL, NULL);
    g_io_channel_set_flags(ch, G_IO_FLAG_NONBLOCK, NULL);
    g_io_add_watch(ch, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, NULL);
    gst_element_set_state(C.pipe, GST_STATE_PLAYING);
    emit_type("ready");
    g_main_loop_run(C.loop);
    fprintf(stderr, "[%s] audio buffers decoded %d, video frames decoded %d\n", C.name,
            g_atomic_int_get(&C.audio_buffers), g_atomic_int_get(&C.video_buffers));
    gst_element_set_state(C.pipe, GST_STATE_NULL);
    gst_object_unref(C.w);
    gst_object_unref(C.pipe);
    g_io_channel_unref(ch);
    g_main_loop_unref(C.loop);
    g_string_free(C.in, TRUE);
    return 0;
}

int main(int argc, char **argv) {
    gst_init(&argc, &argv);
    if (argc >= 3 && !strcmp(argv[1], "connect")) {
        int n = atoi(argv[2]);
        if (n < 1 || n > 1000) n = 1;
        return connect_mode(n);
    }
    if (argc >= 2 && !strcmp(argv[1], "call")) return call_mode(argc - 2, argv + 2);
    fprintf(stderr,
            "usage: webrtcbin_peer connect RUNS\n"
            "       webrtcbin_peer call --offer|--answer [--video WxH] [--name X]\n");
    return 2;
}
