/*
 * bench_throughput.c: packets per second one core carries through the full
 * peer path, both directions of the media path in one process: side 0
 * protects and sends (mxrtc_peer_push_encoded -> VP8 packetizer -> RTX
 * history -> SRTP protect -> datagram out), side 1 receives and unprotects
 * (mxrtc_peer_handle_datagram -> demux -> SRTP unprotect -> parse ->
 * statistics, NACK, reorder ring, frame assembly). Codecs are excluded by
 * pushing pre-made frames: the payload is not a valid VP8 bitstream, so the
 * receiver's decoder rejects each assembled frame at its header check (one
 * call per frame of about 48 packets).
 *
 *   bench_throughput PACKETS RUNS
 *
 * Times each run with clock_gettime (CLOCK_MONOTONIC and the process CPU
 * clock) over a fixed packet count on a virtual clock (33 ms per frame) and
 * prints every run and the median. A timing: never asserted anywhere.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_pair.h"

#define FRAME_BYTES 55000   /* about 48 packets of the peer's 1200-byte MTU */

static double secs(clockid_t c) {
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    long packets = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (packets <= 0 || runs <= 0 || runs > 99) return 2;
    static uint8_t frame[FRAME_BYTES];
    for (size_t i = 0; i < sizeof frame; i++) frame[i] = (uint8_t)(i * 31 + 7);
    double pps_wall[99], pps_cpu[99], per_packet = 0;
    for (int r = 0; r < runs; r++) {
        bench_pair b;
        int rc = bench_pair_init(&b, 42);
        if (!rc) rc = bench_pair_connect(&b, 10000000);
        if (rc) {
            fprintf(stderr, "connect failed: %s\n", mxrtc_strerror(rc));
            return 1;
        }
        mxrtc_peer_stats s0 = { .size = sizeof s0 }, s1 = { .size = sizeof s1 };
        mxrtc_peer_get_stats(b.p[1], &s1);
        uint64_t in0 = s1.video_in.packets;
        double w0 = secs(CLOCK_MONOTONIC), c0 = secs(CLOCK_PROCESS_CPUTIME_ID);
        mxrtc_time_us capture = b.now;
        for (;;) {
            mxrtc_peer_get_stats(b.p[1], &s1);
            if ((long)(s1.video_in.packets - in0) >= packets) break;
            rc = mxrtc_peer_push_encoded(b.p[0], b.now, MXRTC_MEDIA_VIDEO, frame, sizeof frame, capture, 1);
            if (!rc) rc = bench_pair_run(&b, b.now + 33333);
            if (rc) {
                fprintf(stderr, "push failed: %s\n", mxrtc_strerror(rc));
                return 1;
            }
            capture += 33333;
        }
        double w = secs(CLOCK_MONOTONIC) - w0, c = secs(CLOCK_PROCESS_CPUTIME_ID) - c0;
        mxrtc_peer_get_stats(b.p[0], &s0);
        mxrtc_peer_get_stats(b.p[1], &s1);
        uint64_t got = s1.video_in.packets - in0;
        per_packet = s0.video_out.packets ? (double)s0.video_out.bytes / (double)s0.video_out.packets : 0;
        pps_wall[r] = (double)got / w;
        pps_cpu[r] = (double)got / c;
        printf("run %d: packets=%llu wall_s=%.4f cpu_s=%.4f pps_wall=%.0f pps_cpu=%.0f srtp_failures=%llu\n",
               r + 1, (unsigned long long)got, w, c, pps_wall[r], pps_cpu[r],
               (unsigned long long)s1.srtp_failures);
        bench_pair_free(&b);
    }
    qsort(pps_wall, (size_t)runs, sizeof(double), cmp);
    qsort(pps_cpu, (size_t)runs, sizeof(double), cmp);
    printf("median pps_wall=%.0f pps_cpu=%.0f runs=%d packets=%ld payload_bytes_per_packet=%.0f\n",
           pps_wall[runs / 2], pps_cpu[runs / 2], runs, packets, per_packet);
    return 0;
}
