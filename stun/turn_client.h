/*
 * turn_client.h: a sans-IO TURN client (RFC 8656) for one allocation on one
 * server, over UDP, TCP or TLS.
 *
 * The caller owns the socket to the server. It feeds what the socket receives
 * (datagrams over UDP, byte chunks over TCP/TLS) and the time, and after every
 * input drains mxrtc_turn_client_poll() until it returns a deadline: bytes to
 * send to the server, events (allocation, permission, channel, data from a
 * peer, failures), then the time at which to call
 * mxrtc_turn_client_handle_timeout(). Calling an input function while outputs
 * are still waiting breaks the drain rule and returns MXRTC_ERR_STATE.
 *
 * The client authenticates with long-term credentials (401 → REALM/NONCE,
 * 438 stale nonce → retry), refreshes the allocation before it expires,
 * refreshes permissions every 4 minutes (they last 5, §9) and channel
 * bindings every 9 minutes (they last 10, §12), and deallocates with a
 * Refresh of lifetime 0. Over TLS (turns:) it runs the TLS client itself, so
 * the caller's socket carries ciphertext.
 *
 * Thread rule: one thread at a time per client.
 */
#ifndef MXRTC_STUN_TURN_CLIENT_H
#define MXRTC_STUN_TURN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"

typedef enum mxrtc_turn_transport {
    MXRTC_TURN_UDP = 0,
    MXRTC_TURN_TCP = 1,
    MXRTC_TURN_TLS = 2
} mxrtc_turn_transport;

typedef struct mxrtc_turn_config {
    size_t size;                     /* sizeof(mxrtc_turn_config), set by _init */
    const mxrtc_allocator *allocator;
    mxrtc_random random;             /* transaction ids, TLS; fn NULL = the OS */
    const mxrtc_logger *logger;
    mxrtc_turn_transport transport;
    const char *username;            /* copied; for Synapse REST credentials "expiry:user" */
    const char *password;            /* copied, wiped when the client is freed */
    const char *software;            /* SOFTWARE attribute; NULL for none */
    uint32_t lifetime_s;             /* requested allocation lifetime; 0 = server's default */
    uint32_t rto_us;                 /* initial STUN RTO over UDP; 0 = 500 ms */
    size_t max_peers;                /* permissions/channels tracked; 0 = 32 */
    size_t rx_queue_bytes;           /* peer data waiting to be polled; 0 = 256 KiB */
    size_t tx_queue_bytes;           /* bytes waiting to be sent; 0 = 256 KiB */
    /* TLS only (transport MXRTC_TURN_TLS): see stun/tls_stream.h. */
    const char *tls_server_name;
    const uint8_t *tls_ca_pem;
    size_t tls_ca_pem_len;
    const char *tls_ca_file;
    int tls_insecure_skip_verify;
} mxrtc_turn_config;

/* Zeroes cfg and sets size. */
void mxrtc_turn_config_init(mxrtc_turn_config *cfg);

typedef struct mxrtc_turn_client mxrtc_turn_client;

typedef enum mxrtc_turn_state {
    MXRTC_TURN_STATE_IDLE = 0,
    MXRTC_TURN_STATE_ALLOCATING,
    MXRTC_TURN_STATE_ALLOCATED,
    MXRTC_TURN_STATE_DEALLOCATING,
    MXRTC_TURN_STATE_CLOSED,         /* deallocated, or the allocation expired */
    MXRTC_TURN_STATE_FAILED
} mxrtc_turn_state;

typedef enum mxrtc_turn_event_type {
    MXRTC_TURN_EV_ALLOCATED = 1,     /* relayed, mapped, lifetime_s */
    MXRTC_TURN_EV_ALLOCATE_FAILED,   /* error, stun_code */
    MXRTC_TURN_EV_REFRESHED,         /* lifetime_s */
    MXRTC_TURN_EV_ALLOCATION_LOST,   /* refresh failed or lifetime ran out: error, stun_code */
    MXRTC_TURN_EV_PERMISSION_CREATED,/* peer (first success only) */
    MXRTC_TURN_EV_PERMISSION_FAILED, /* peer, error, stun_code */
    MXRTC_TURN_EV_CHANNEL_BOUND,     /* peer, channel (first success only) */
    MXRTC_TURN_EV_CHANNEL_FAILED,    /* peer, channel, error, stun_code */
    MXRTC_TURN_EV_DATA,              /* peer, channel (0 for a Data indication), data/len */
    MXRTC_TURN_EV_DEALLOCATED,
    MXRTC_TURN_EV_TRANSPORT_FAILED   /* TLS failure or unframeable stream: error; close the socket */
} mxrtc_turn_event_type;

typedef enum mxrtc_turn_output_kind {
    MXRTC_TURN_OUT_DEADLINE = 0,     /* nothing more; call handle_timeout at `deadline` */
    MXRTC_TURN_OUT_TRANSMIT,         /* send data/len to the server */
    MXRTC_TURN_OUT_EVENT
} mxrtc_turn_output_kind;

typedef struct mxrtc_turn_output {
    mxrtc_turn_output_kind kind;
    mxrtc_time_us deadline;          /* DEADLINE: MXRTC_TIME_NEVER when nothing is scheduled */
    mxrtc_turn_event_type event;
    /* TRANSMIT: bytes for the server; EVENT DATA: the peer's payload. Valid
     * until the next call on this client. */
    const uint8_t *data;
    size_t len;
    int error;                       /* mxrtc_error for failures, else 0 */
    int stun_code;                   /* the server's STUN error code, 0 if none */
    mxrtc_addr peer;
    uint16_t channel;
    mxrtc_addr relayed;              /* ALLOCATED */
    mxrtc_addr mapped;               /* ALLOCATED: our address as the server saw it */
    uint32_t lifetime_s;
} mxrtc_turn_output;

typedef struct mxrtc_turn_stats {
    uint64_t requests_sent;          /* including retransmissions */
    uint64_t responses_received;
    uint64_t data_sent;              /* Send indications and ChannelData */
    uint64_t data_received;
    uint64_t malformed;              /* input that did not parse, dropped */
    uint64_t unauthenticated;        /* responses with a bad or missing MESSAGE-INTEGRITY, dropped */
    uint64_t unknown_channel;        /* ChannelData for a channel we did not bind, dropped */
    uint64_t unmatched;              /* responses to no transaction of ours, dropped */
    uint64_t rx_dropped;             /* peer data dropped because the receive queue was full */
    uint64_t tx_dropped;             /* sends refused because the transmit queue was full */
} mxrtc_turn_stats;

/* Creates a client. cfg->username/password are required (MXRTC_ERR_INVALID_ARGUMENT),
 * MXRTC_ERR_NO_MEMORY, or a TLS setup error. Nothing is sent until _allocate. */
int mxrtc_turn_client_new(mxrtc_turn_client **out, const mxrtc_turn_config *cfg, mxrtc_time_us now);
/* Frees the client and wipes its credentials; NULL is fine. Does not send
 * anything: call _deallocate and drain first to release the server's relay. */
void mxrtc_turn_client_free(mxrtc_turn_client *c);

/* Starts the allocation (RFC 8656 §7.1). MXRTC_ERR_STATE unless IDLE. */
int mxrtc_turn_client_allocate(mxrtc_turn_client *c, mxrtc_time_us now);
/* Installs a permission for peer's IP (§9), kept fresh until the client is
 * freed. MXRTC_ERR_STATE unless ALLOCATING/ALLOCATED (requests made while
 * allocating go out once allocated), MXRTC_ERR_LIMIT when max_peers are tracked. */
int mxrtc_turn_client_permit(mxrtc_turn_client *c, mxrtc_time_us now, const mxrtc_addr *peer);
/* Binds a channel to peer (§12), which also installs its permission; the
 * chosen number is written to *channel if not NULL. Data to peer uses
 * ChannelData once the binding is confirmed. Errors as for _permit. */
int mxrtc_turn_client_bind_channel(mxrtc_turn_client *c, mxrtc_time_us now, const mxrtc_addr *peer,
                                   uint16_t *channel);
/* Queues data for peer through the relay: ChannelData when a channel is bound,
 * else a Send indication (§11). MXRTC_ERR_STATE unless ALLOCATED,
 * MXRTC_ERR_NOT_FOUND without a permission for that peer (the server would
 * drop it), MXRTC_ERR_LIMIT when the transmit queue is full. */
int mxrtc_turn_client_send(mxrtc_turn_client *c, mxrtc_time_us now, const mxrtc_addr *peer,
                           const uint8_t *data, size_t len);
/* Releases the allocation (§7.2: Refresh with LIFETIME 0). */
int mxrtc_turn_client_deallocate(mxrtc_turn_client *c, mxrtc_time_us now);

/* What the server's socket delivered: one datagram (UDP) or any chunk of the
 * byte stream (TCP, TLS). Malformed input is counted and dropped
 * (MXRTC_OK is still returned: the client is fine). MXRTC_ERR_STATE if
 * outputs were not drained. */
int mxrtc_turn_client_handle_input(mxrtc_turn_client *c, mxrtc_time_us now, const uint8_t *data, size_t len);
/* The stream to the server closed (TCP/TLS): the allocation is gone with it. */
int mxrtc_turn_client_handle_eof(mxrtc_turn_client *c, mxrtc_time_us now);
/* Time has passed. */
int mxrtc_turn_client_handle_timeout(mxrtc_turn_client *c, mxrtc_time_us now);
/* The next output (see mxrtc_turn_output). Always MXRTC_OK for a valid client. */
int mxrtc_turn_client_poll(mxrtc_turn_client *c, mxrtc_time_us now, mxrtc_turn_output *out);

mxrtc_turn_state mxrtc_turn_client_state(const mxrtc_turn_client *c);
void mxrtc_turn_client_stats(const mxrtc_turn_client *c, mxrtc_turn_stats *out);
/* The relayed address once ALLOCATED (MXRTC_ERR_STATE before). */
int mxrtc_turn_client_relayed_address(const mxrtc_turn_client *c, mxrtc_addr *out);

#endif /* MXRTC_STUN_TURN_CLIENT_H */
