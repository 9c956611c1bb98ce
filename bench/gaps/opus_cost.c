/* bench/gaps/opus_cost.c: CPU time of 60 s of a 440 Hz tone (the call benchmark's
 * signal) through libopus, 48 kHz mono, 20 ms frames, 32 kbit/s, encode and
 * decode timed separately; see bench/GAPS.md part 2.
 *   0: mxrtc's encoder settings (codecs/opus_codec.c: VOIP, complexity 9,
 *      in-band FEC with 10 % expected loss, DTX, VBR)
 *   1: GStreamer opusenc's defaults as bench/webrtcbin_peer.c uses it
 *      (audio-type generic = APPLICATION_AUDIO, complexity 10,
 *      constrained VBR, no FEC, no DTX)
 *   2: as 0 without FEC and DTX
 *   3: as 0 without DTX (FEC kept)
 * Built with the benchmarks (build/bench/gaps_opus_cost), or by hand:
 * cc -O2 -o /tmp/opus_cost bench/gaps/opus_cost.c $(pkg-config --cflags --libs opus) -lm */
#define _POSIX_C_SOURCE 200809L  /* clock_gettime */
#include <math.h>
#include <opus/opus.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int mode = argc > 1 ? atoi(argv[1]) : 0, secs = 60, err;
    OpusEncoder *e = opus_encoder_create(48000, 1, mode == 1 ? OPUS_APPLICATION_AUDIO : OPUS_APPLICATION_VOIP, &err);
    OpusDecoder *d = opus_decoder_create(48000, 1, &err);
    if (!e || !d) return 1;
    opus_encoder_ctl(e, OPUS_SET_BITRATE(32000));
    if (mode == 1) {
        opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(10));
        opus_encoder_ctl(e, OPUS_SET_VBR_CONSTRAINT(1));
    } else {
        opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(9));
        if (mode == 0 || mode == 3) {
            opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(1));
            opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(10));
        }
        if (mode == 0) opus_encoder_ctl(e, OPUS_SET_DTX(1));
    }
    opus_int16 pcm[960], out[960];
    unsigned char pkt[1500];
    double te = 0, td = 0;
    long n = 0, bytes = 0;
    for (int f = 0; f < secs * 50; f++) {
        for (int i = 0; i < 960; i++) pcm[i] = (opus_int16)(0.3 * 32767 * sin(2 * 3.14159265358979323846 * 440 * (double)(n++) / 48000.0));
        double a = cpu_s();
        int len = opus_encode(e, pcm, 960, pkt, sizeof pkt);
        double b = cpu_s();
        int got = opus_decode(d, pkt, len, out, 960, 0);
        double c = cpu_s();
        if (len < 0 || got < 0) return 1;
        te += b - a; td += c - b; bytes += len;
    }
    printf("mode %d: encode %.3f s (%.2f %% of a core), decode %.3f s (%.2f %%) per %d s, %ld bytes out\n",
           mode, te, te / secs * 100, td, td / secs * 100, secs, bytes);
    opus_encoder_destroy(e);
    opus_decoder_destroy(d);
    return 0;
}
