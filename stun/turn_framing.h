/*
 * turn_framing.h: ChannelData messages (RFC 8656 §12.4, §12.5) and the
 * splitting of a TURN byte stream (TCP or TLS, RFC 8656 §3.1) into whole STUN
 * messages and ChannelData frames. No allocation.
 *
 * The first two bits of every message on a TURN transport tell the two apart
 * (RFC 8656 §12.4, RFC 7983 §7): 00 is STUN (RFC 8489 §5), 01 is ChannelData;
 * 10 and 11 never appear on a TURN client connection.
 */
#ifndef MXRTC_STUN_TURN_FRAMING_H
#define MXRTC_STUN_TURN_FRAMING_H

#include <stddef.h>
#include <stdint.h>
#include "mxrtc.h"

/* RFC 8656 §12: channel numbers 0x4000 through 0x4FFF */
#define MXRTC_TURN_CHANNEL_MIN 0x4000
#define MXRTC_TURN_CHANNEL_MAX 0x4FFF
#define MXRTC_CHANNELDATA_HEADER 4

/* Encodes a ChannelData message (RFC 8656 §12.4). pad_to_4: add the zero
 * padding up to a multiple of 4 that stream transports (TCP/TLS) require
 * (§12.5); over UDP it is optional and we do not send it. data may be NULL
 * when len is 0; out is the caller's buffer.
 * Returns bytes written, or MXRTC_ERR_INVALID_ARGUMENT (channel outside
 * range, len > 65535, NULL pointers), MXRTC_ERR_BUFFER_TOO_SMALL (nothing
 * written). */
int mxrtc_channeldata_encode(uint16_t channel, const uint8_t *data, size_t len, int pad_to_4,
                             uint8_t *out, size_t cap);

/* Decodes one ChannelData message from a datagram: *data points into buf
 * (borrowed, valid as long as buf). Accepts trailing padding up to the next
 * multiple of 4 (at most 3 bytes, over UDP too; its content is ignored).
 * Returns MXRTC_OK; MXRTC_ERR_MALFORMED if the first two bits are not 01, the
 * channel is outside the range, or more bytes follow than the padding;
 * MXRTC_ERR_TRUNCATED if buf is shorter than 4 + length;
 * MXRTC_ERR_INVALID_ARGUMENT for NULL pointers. */
int mxrtc_channeldata_decode(const uint8_t *buf, size_t len, uint16_t *channel,
                             const uint8_t **data, size_t *data_len);

/* Splits a byte stream (TURN over TCP or TLS, RFC 8656 §3.1/§12.5) into whole
 * STUN messages and ChannelData frames. Fixed buffer inside, no allocation; a
 * frame is at most 4 + 65535 + 3 bytes for ChannelData, 20 + 65532 for STUN
 * (its length is a multiple of 4), so one whole frame always fits.
 * Fields are internal: use the functions. One thread at a time. */
typedef struct mxrtc_stream_framer {
    uint8_t buf[65536 + 20];
    size_t len;       /* bytes held in buf */
    size_t consumed;  /* bytes of buf already handed out by _next */
    int broken;       /* the stream cannot be framed any more */
} mxrtc_stream_framer;

void mxrtc_stream_framer_init(mxrtc_stream_framer *f);

/* Appends up to len bytes (borrowed for the call); returns how many were
 * taken: less than len when the buffer holds a frame not yet drained (call
 * _next, then push the rest). Invalidates the frame _next returned last.
 * On a broken framer the bytes are discarded (all reported taken). */
size_t mxrtc_stream_framer_push(mxrtc_stream_framer *f, const uint8_t *data, size_t len);

/* Gives the next whole frame: MXRTC_OK with *frame and *frame_len (valid until the
 * next call to _push or _next; for ChannelData frame_len includes the header
 * but excludes the stream padding, which is consumed: the frame is returned
 * only once its padding has arrived), *is_channeldata set; MXRTC_ERR_AGAIN if
 * incomplete; MXRTC_ERR_MALFORMED if the stream cannot be framed (first two
 * bits 1x, a STUN length not a multiple of 4, or a STUN header without the
 * RFC 8489 §5 magic cookie): the framer stays broken and the caller must close
 * the connection. A ChannelData frame on a reserved channel (0x5000-0x7FFF)
 * is still framed (its length is known); mxrtc_channeldata_decode rejects it.
 * MXRTC_ERR_INVALID_ARGUMENT for NULL pointers. */
int mxrtc_stream_framer_next(mxrtc_stream_framer *f, const uint8_t **frame, size_t *frame_len,
                             int *is_channeldata);

#endif
