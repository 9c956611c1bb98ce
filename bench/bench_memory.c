/*
 * bench_memory.c: heap bytes of mxrtc peers, counted by an mxrtc_allocator
 * (mxrtc's own allocations only; mbedTLS, libsrtp2, libopus and libvpx
 * allocate with the C library and are not seen here: bench/run.sh runs this
 * program under valgrind --tool=massif for the whole process's heap).
 *
 *   bench_memory SECONDS
 *
 * Prints: one idle peer right after mxrtc_peer_new; then a connected call
 * (audio and video sendrecv between two peers in memory) carrying SECONDS of
 * real media (a 440 Hz tone through Opus, 640x480 I420 at 30 fps through
 * VP8) each way, live and peak bytes per side.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_pair.h"

#define W 640
#define H 480

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    if (seconds < 0 || seconds > 600) return 2;
    bench_pair b;
    int rc = bench_pair_init(&b, 7);
    if (rc) {
        fprintf(stderr, "init: %s\n", mxrtc_strerror(rc));
        return 1;
    }
    printf("idle_peer live_bytes=%zu peak_bytes=%zu allocations=%zu\n", b.mem[0].live, b.mem[0].peak,
           b.mem[0].calls);
    rc = bench_pair_connect(&b, 10000000);
    if (rc) {
        fprintf(stderr, "connect: %s\n", mxrtc_strerror(rc));
        return 1;
    }
    printf("connected live_bytes=%zu/%zu peak_bytes=%zu/%zu\n", b.mem[0].live, b.mem[1].live, b.mem[0].peak,
           b.mem[1].peak);
    uint8_t *y = malloc(W * H), *u = malloc(W * H / 4), *v = malloc(W * H / 4);
    if (!y || !u || !v) return 1;
    int16_t pcm[960];
    uint64_t pos = 0;
    long frames20 = (long)(seconds * 50);
    int16_t out[480];
    for (long f = 0; f < frames20; f++) {
        for (int i = 0; i < 960; i++, pos++) pcm[i] = (int16_t)(8000 * sin(2 * 3.14159265358979 * 440 * (double)pos / 48000));
        for (int s = 0; s < 2 && !rc; s++) rc = mxrtc_peer_push_audio(b.p[s], b.now, pcm, 960);
        if (!rc) rc = bench_pair_pump(&b);   /* drain rule: every input is drained */
        /* 30 fps: a picture on 3 of every 5 20-ms ticks. */
        if (!rc && (f * 3) / 5 != ((f + 1) * 3) / 5) {
            for (int i = 0; i < W * H; i++) y[i] = (uint8_t)((i % W + f * 4) & 0xff);
            memset(u, (int)(100 + f % 50), W * H / 4);
            memset(v, 140, W * H / 4);
            mxrtc_picture pic = { y, u, v, W, W / 2, W / 2, W, H, b.now };
            for (int s = 0; s < 2 && !rc; s++) rc = mxrtc_peer_push_video(b.p[s], b.now, &pic);
            if (!rc) rc = bench_pair_pump(&b);
        }
        if (!rc) rc = bench_pair_run(&b, b.now + 20000);
        for (int s = 0; s < 2 && !rc; s++) {
            rc = mxrtc_peer_pull_audio(b.p[s], b.now, out, 480);
            if (!rc) rc = mxrtc_peer_pull_audio(b.p[s], b.now, out, 480);
        }
        if (rc) {
            fprintf(stderr, "media: %s\n", mxrtc_strerror(rc));
            return 1;
        }
    }
    mxrtc_peer_stats st = { .size = sizeof st };
    mxrtc_peer_get_stats(b.p[1], &st);
    printf("call seconds=%.1f live_bytes=%zu/%zu peak_bytes=%zu/%zu audio_in=%llu video_in=%llu "
           "frames_decoded=%llu\n",
           seconds, b.mem[0].live, b.mem[1].live, b.mem[0].peak, b.mem[1].peak,
           (unsigned long long)st.audio_in.packets, (unsigned long long)st.video_in.packets,
           (unsigned long long)b.video_frames[1]);
    bench_pair_free(&b);
    free(y);
    free(u);
    free(v);
    return 0;
}
