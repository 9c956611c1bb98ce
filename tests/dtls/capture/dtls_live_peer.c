/*
 * dtls_live_peer.c: a minimal ICE-lite + DTLS peer on a UDP socket around
 * the sans-IO endpoint, for checking a live browser or GStreamer
 * (capture_chromium_hello.js and capture_webrtcbin_hello.py with LIVE=...,
 * firefox_live.py). It answers STUN binding requests (RFC 8489 §7.3 with
 * MESSAGE-INTEGRITY and FINGERPRINT, key = our ICE password), feeds DTLS
 * datagrams to an mxrtc_dtls endpoint and prints CONNECTED or FAILED.
 *
 *   dtls_live_peer IP ROLE(server|client) ICE_PWD "sha-256 AB:CD:..." [DUMP]
 *
 * It prints "PORT <n>" and "FINGERPRINT <ours>" first. A fingerprint of "-"
 * means it is read as one line from stdin after those two lines (when we
 * are the offerer, it comes with the answer). Each DTLS datagram in or out
 * is logged with its time since start. With DUMP, every DTLS datagram
 * received is also written to DUMP.<n>.bin as it arrived (how
 * tests/dtls/vectors/firefox_ch_*.bin were captured).
 *
 * With LIVE_RTP_PT=<payload type> in the environment, SRTP is checked too:
 * once connected, the endpoint's RFC 5764 keys go to an mxrtc_srtp session,
 * every RTP/RTCP packet received is unprotected (counted as ok or bad), and
 * an RTP packet (an Opus silence frame, RFC 6716 §3.1 code 0 TOC 0xf8...) is
 * protected and sent every 20 ms, for 5 s. It prints "SRTP ..." counters.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/md.h>

#include "base/alloc.h"
#include "dtls/dtls.h"

static mxrtc_time_us now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (mxrtc_time_us)ts.tv_sec * 1000000 + (mxrtc_time_us)ts.tv_nsec / 1000;
}

static uint32_t crc32(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* A binding success response with XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY and
 * FINGERPRINT for request req from peer. */
static size_t stun_success(const uint8_t *req, const struct sockaddr_in *peer, const char *pwd, uint8_t *o) {
    put16(o, 0x0101);
    memcpy(o + 4, req + 4, 16); /* magic cookie + transaction id */
    uint8_t *a = o + 20;
    put16(a, 0x0020);
    put16(a + 2, 8);
    a[4] = 0;
    a[5] = 1;
    put16(a + 6, ntohs(peer->sin_port) ^ 0x2112);
    uint32_t ip = ntohl(peer->sin_addr.s_addr) ^ 0x2112a442u;
    a[8] = (uint8_t)(ip >> 24); a[9] = (uint8_t)(ip >> 16); a[10] = (uint8_t)(ip >> 8); a[11] = (uint8_t)ip;
    put16(o + 2, 12 + 24);
    uint8_t *mi = o + 32;
    put16(mi, 0x0008);
    put16(mi + 2, 20);
    mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), (const uint8_t *)pwd, strlen(pwd), o, 32, mi + 4);
    put16(o + 2, 12 + 24 + 8);
    uint8_t *fp = o + 56;
    put16(fp, 0x8028);
    put16(fp + 2, 4);
    uint32_t c = crc32(o, 56) ^ 0x5354554eu;
    fp[4] = (uint8_t)(c >> 24); fp[5] = (uint8_t)(c >> 16); fp[6] = (uint8_t)(c >> 8); fp[7] = (uint8_t)c;
    return 64;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s IP server|client ICE_PWD FINGERPRINT\n", argv[0]);
        return 2;
    }
    mxrtc_dtls_cert *cert;
    if (mxrtc_dtls_cert_new(&cert, NULL, NULL) != MXRTC_OK) return 1;
    mxrtc_dtls_config cfg;
    mxrtc_dtls_config_init(&cfg);
    cfg.role = strcmp(argv[2], "client") == 0 ? MXRTC_DTLS_ROLE_CLIENT : MXRTC_DTLS_ROLE_SERVER;
    cfg.cert = cert;
    int fp_later = strcmp(argv[4], "-") == 0;
    if (!fp_later && mxrtc_dtls_fingerprint_parse(&cfg.remote_fingerprint, argv[4], strlen(argv[4])) != MXRTC_OK) {
        fprintf(stderr, "bad fingerprint\n");
        return 2;
    }
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, argv[1], &a.sin_addr);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) return 1;
    socklen_t al = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &al);
    printf("PORT %u\nFINGERPRINT %s\n", ntohs(a.sin_port), mxrtc_dtls_cert_fingerprint(cert));
    fflush(stdout);
    if (fp_later) {
        /* We made the offer: the remote fingerprint comes with the answer,
         * one line on stdin. Datagrams wait in the socket meanwhile. */
        char line[512];
        if (!fgets(line, sizeof line, stdin)) return 2;
        line[strcspn(line, "\r\n")] = 0;
        if (mxrtc_dtls_fingerprint_parse(&cfg.remote_fingerprint, line, strlen(line)) != MXRTC_OK) {
            fprintf(stderr, "bad fingerprint\n");
            return 2;
        }
    }
    const char *pt_env = getenv("LIVE_RTP_PT");
    int rtp_pt = pt_env ? atoi(pt_env) : -1;
    mxrtc_srtp *srtp = NULL;
    unsigned rtp_ok = 0, rtp_bad = 0, rtcp_ok = 0, rtcp_bad = 0, rtp_out = 0;
    mxrtc_time_us next_send = MXRTC_TIME_NEVER, next_report = MXRTC_TIME_NEVER;
    mxrtc_dtls *d = NULL;
    struct sockaddr_in peer;
    int have_peer = 0, done = 0, ndump = 0;
    mxrtc_time_us t0 = now_us(), end = t0 + 20000000, deadline = MXRTC_TIME_NEVER;
    while (now_us() < end && !done) {
        mxrtc_time_us t = now_us(), until = deadline < end ? deadline : end;
        if (next_send < until) until = next_send;
        struct pollfd p = {.fd = s, .events = POLLIN};
        int n = poll(&p, 1, until > t ? (int)((until - t) / 1000 + 1) : 0);
        if (n > 0) {
            uint8_t buf[4096], out[128];
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t len = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
            if (len <= 0) continue;
            mxrtc_demux_kind k = mxrtc_demux_classify(buf, (size_t)len);
            if (k == MXRTC_DEMUX_STUN && len >= 20 && buf[0] == 0 && buf[1] == 1) {
                size_t ol = stun_success(buf, &from, argv[3], out);
                sendto(s, out, ol, 0, (struct sockaddr *)&from, sizeof from);
                if (!have_peer) {
                    peer = from;
                    have_peer = 1;
                    if (mxrtc_dtls_new(&d, &cfg, now_us()) != MXRTC_OK) return 1;
                    /* fall through to drain: a client has its ClientHello queued */
                }
            } else if (k == MXRTC_DEMUX_DTLS && d) {
                printf("IN %zd bytes t=%lld ms\n", len, (long long)((now_us() - t0) / 1000));
                if (argc > 5 && ndump < 16) {
                    char path[1024];
                    snprintf(path, sizeof path, "%s.%d.bin", argv[5], ndump++);
                    FILE *f = fopen(path, "wb");
                    if (f) {
                        fwrite(buf, 1, (size_t)len, f);
                        fclose(f);
                    }
                }
                mxrtc_dtls_handle_datagram(d, now_us(), buf, (size_t)len);
            } else if ((k == MXRTC_DEMUX_RTP || k == MXRTC_DEMUX_RTCP) && srtp) {
                size_t plain;
                if (k == MXRTC_DEMUX_RTP) {
                    if (mxrtc_srtp_unprotect_rtp(srtp, buf, (size_t)len, &plain) == MXRTC_OK) rtp_ok++;
                    else rtp_bad++;
                } else {
                    if (mxrtc_srtp_unprotect_rtcp(srtp, buf, (size_t)len, &plain) == MXRTC_OK) rtcp_ok++;
                    else rtcp_bad++;
                }
            }
        } else if (d && now_us() >= deadline) {
            mxrtc_dtls_handle_timeout(d, now_us());
        }
        if (!d) continue;
        if (srtp && now_us() >= next_send) {
            /* RFC 3550 §5.1 header: V=2, PT, seq, 48 kHz timestamp, SSRC. */
            uint8_t pkt[64] = {0x80, (uint8_t)rtp_pt};
            unsigned seq = rtp_out, ts = rtp_out * 960u;
            pkt[2] = (uint8_t)(seq >> 8); pkt[3] = (uint8_t)seq;
            pkt[4] = (uint8_t)(ts >> 24); pkt[5] = (uint8_t)(ts >> 16); pkt[6] = (uint8_t)(ts >> 8); pkt[7] = (uint8_t)ts;
            pkt[8] = 0x11; pkt[9] = 0x22; pkt[10] = 0x33; pkt[11] = 0x44;
            pkt[12] = 0xf8; pkt[13] = 0xff; pkt[14] = 0xfe; /* Opus 20 ms silence */
            size_t olen;
            if (mxrtc_srtp_protect_rtp(srtp, pkt, 15, sizeof pkt, &olen) == MXRTC_OK) {
                sendto(s, pkt, olen, 0, (struct sockaddr *)&peer, sizeof peer);
                rtp_out++;
            }
            next_send = now_us() + 20000;
        }
        if (srtp && now_us() >= next_report) {
            printf("SRTP rtp_in_ok=%u rtp_in_bad=%u rtcp_in_ok=%u rtcp_in_bad=%u rtp_out=%u\n", rtp_ok, rtp_bad,
                   rtcp_ok, rtcp_bad, rtp_out);
            next_report = now_us() + 500000;
        }
        mxrtc_dtls_output o;
        for (;;) {
            mxrtc_dtls_poll(d, now_us(), &o);
            if (o.type == MXRTC_DTLS_OUT_DEADLINE) break;
            if (o.type == MXRTC_DTLS_OUT_DATAGRAM) {
                sendto(s, o.data, o.len, 0, (struct sockaddr *)&peer, sizeof peer);
                printf("OUT %zu bytes t=%lld ms\n", o.len, (long long)((now_us() - t0) / 1000));
            }
            if (o.type == MXRTC_DTLS_OUT_CONNECTED) {
                mxrtc_dtls_stats st;
                mxrtc_dtls_get_stats(d, &st);
                printf("CONNECTED profile=%d hello_reassembled=%llu\n", (int)o.profile,
                       (unsigned long long)st.hello_reassembled);
                end = now_us() + 2000000; /* stay a moment for retransmitted flights */
                mxrtc_dtls_srtp_keys keys;
                if (rtp_pt >= 0 && mxrtc_dtls_get_srtp_keys(d, &keys) == MXRTC_OK &&
                    mxrtc_srtp_new_from_dtls(&srtp, NULL, &keys) == MXRTC_OK) {
                    next_send = next_report = now_us();
                    end = now_us() + 5000000; /* Firefox's first RTCP comes after ~2.5 s */
                }
                mxrtc_wipe(&keys, sizeof keys);
            }
            if (o.type == MXRTC_DTLS_OUT_FAILED) {
                printf("FAILED %d %s\n", o.error, mxrtc_strerror(o.error));
                done = 1;
            }
        }
        deadline = o.deadline;
        fflush(stdout);
    }
    if (srtp)
        printf("SRTP rtp_in_ok=%u rtp_in_bad=%u rtcp_in_ok=%u rtcp_in_bad=%u rtp_out=%u END\n", rtp_ok, rtp_bad,
               rtcp_ok, rtcp_bad, rtp_out);
    mxrtc_srtp_free(srtp);
    mxrtc_dtls_free(d);
    mxrtc_dtls_cert_free(cert);
    close(s);
    return 0;
}
