#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/clock.h"
#include "net/platform_posix.h"
#include "net/turn_socket.h"

int mxrtc_net_turn_open(mxrtc_net_turn *t, const mxrtc_addr *server, const mxrtc_turn_config *cfg,
                        mxrtc_net_turn_event_fn on_event, void *user) {
    memset(t, 0, sizeof *t);
    t->fd = -1;
    if (!server || !cfg || (server->family != MXRTC_AF_INET4 && server->family != MXRTC_AF_INET6))
        return MXRTC_ERR_INVALID_ARGUMENT;
    t->transport = cfg->transport;
    t->on_event = on_event;
    t->user = user;
    t->deadline = MXRTC_TIME_NEVER;
    struct sockaddr_storage ss;
    socklen_t sl = mxrtc_net_to_sockaddr(server, &ss);
    int type = cfg->transport == MXRTC_TURN_UDP ? SOCK_DGRAM : SOCK_STREAM;
    t->fd = socket(ss.ss_family, type, 0);
    if (t->fd < 0) return MXRTC_ERR_IO;
    if (type == SOCK_STREAM) {
        /* Media through TURN over TCP must not wait for Nagle's algorithm to
         * coalesce small writes with a delayed ACK (tens of ms per packet). */
        int one = 1;
        setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    /* A connected UDP socket only hears from the server: nothing else can
     * inject datagrams into the client. */
    if (connect(t->fd, (struct sockaddr *)&ss, sl) != 0) {
        close(t->fd);
        t->fd = -1;
        return MXRTC_ERR_IO;
    }
    int rc = mxrtc_turn_client_new(&t->client, cfg, mxrtc_net_turn_now(t));
    if (rc) {
        close(t->fd);
        t->fd = -1;
    }
    return rc;
}

void mxrtc_net_turn_close(mxrtc_net_turn *t) {
    if (!t) return;
    mxrtc_turn_client_free(t->client);
    t->client = NULL;
    if (t->fd >= 0) close(t->fd);
    t->fd = -1;
}

mxrtc_time_us mxrtc_net_turn_now(const mxrtc_net_turn *t) {
    return mxrtc_net_now() + t->clock_offset;
}

static int send_all(mxrtc_net_turn *t, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(t->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (t->transport == MXRTC_TURN_UDP) return MXRTC_OK;  /* a lost datagram: STUN retransmits */
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                struct pollfd pfd = {t->fd, POLLOUT, 0};
                if (poll(&pfd, 1, 1000) <= 0) return MXRTC_ERR_IO;
                continue;
            }
            return MXRTC_ERR_IO;
        }
        if (t->transport == MXRTC_TURN_UDP) return MXRTC_OK;   /* datagrams go whole */
        p += w;
        n -= (size_t)w;
    }
    return MXRTC_OK;
}

int mxrtc_net_turn_flush(mxrtc_net_turn *t) {
    mxrtc_turn_output out;
    for (;;) {
        int rc = mxrtc_turn_client_poll(t->client, mxrtc_net_turn_now(t), &out);
        if (rc) return rc;
        if (out.kind == MXRTC_TURN_OUT_DEADLINE) {
            t->deadline = out.deadline;
            return MXRTC_OK;
        }
        if (out.kind == MXRTC_TURN_OUT_TRANSMIT) {
            rc = send_all(t, out.data, out.len);
            if (rc && !t->error) t->error = rc;
        } else if (t->on_event) {
            t->on_event(t->user, &out);
        }
    }
}

int mxrtc_net_turn_step(mxrtc_net_turn **ts, size_t n, int max_wait_ms) {
    struct pollfd pfds[16];
    if (n > 16) return MXRTC_ERR_LIMIT;
    mxrtc_time_us now = mxrtc_net_now();
    int wait = max_wait_ms;
    for (size_t i = 0; i < n; i++) {
        pfds[i].fd = ts[i]->fd;
        pfds[i].events = POLLIN;
        pfds[i].revents = 0;
        mxrtc_time_us tnow = now + ts[i]->clock_offset;
        if (ts[i]->deadline != MXRTC_TIME_NEVER) {
            mxrtc_time_us d = ts[i]->deadline > tnow ? ts[i]->deadline - tnow : 0;
            int ms = (int)((d + 999) / 1000);
            if (ms < wait) wait = ms;
        }
    }
    int pr = poll(pfds, (nfds_t)n, wait);
    if (pr < 0 && errno != EINTR) return MXRTC_ERR_IO;
    for (size_t i = 0; i < n; i++) {
        mxrtc_net_turn *t = ts[i];
        if (pr > 0 && (pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
            uint8_t buf[65536];
            ssize_t r = recv(t->fd, buf, sizeof buf, 0);
            if (r > 0) {
                mxrtc_turn_client_handle_input(t->client, mxrtc_net_turn_now(t), buf, (size_t)r);
                mxrtc_net_turn_flush(t);
            } else if (r == 0 && t->transport != MXRTC_TURN_UDP) {
                mxrtc_turn_client_handle_eof(t->client, mxrtc_net_turn_now(t));
                mxrtc_net_turn_flush(t);
                if (!t->error) t->error = MXRTC_ERR_CLOSED;
                /* poll() ignores negative descriptors: the closed stream drops out. */
                close(t->fd);
                t->fd = -1;
            }
        }
        if (t->deadline != MXRTC_TIME_NEVER && mxrtc_net_turn_now(t) >= t->deadline) {
            mxrtc_turn_client_handle_timeout(t->client, mxrtc_net_turn_now(t));
            mxrtc_net_turn_flush(t);
        }
    }
    return MXRTC_OK;
}
