/*
 * event_sender.h: a thread that sends Matrix room events in the order they
 * were queued, for `mxrtc call`/`mxrtc answer` (tools/call_mode.c). The
 * call layer's SEND_EVENT outputs must reach the room in order (an
 * m.call.invite before its m.call.candidates), and the thread that produces
 * them (the runner's I/O thread) must never block on HTTP: it queues here
 * (bounded, never waiting), and this thread sends one at a time with the
 * Matrix client's transaction ids and retries (mxrtc_mxc_send_event) on a
 * client object of its own.
 */
#ifndef MXRTC_TOOLS_EVENT_SENDER_H
#define MXRTC_TOOLS_EVENT_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mxrtc.h"
#include "tools/matrix_client/matrix_client.h"

typedef struct mxrtc_event_sender mxrtc_event_sender;

/* Called on the sender's thread after each event: rc is the outcome of
 * mxrtc_mxc_send_event. The strings are valid for the call only. */
typedef void (*mxrtc_event_sent_fn)(void *user, const char *room_id, const char *type, const char *content,
                                    int rc);

/* Starts the thread; it sends with mxc (borrowed, used by that thread
 * only until mxrtc_event_sender_stop returns). capacity: events that may
 * wait (1..4096). MXRTC_ERR_INVALID_ARGUMENT, MXRTC_ERR_NO_MEMORY, MXRTC_ERR_IO
 * (no thread). */
int mxrtc_event_sender_start(mxrtc_event_sender **out, mxrtc_mxc *mxc, size_t capacity,
                             mxrtc_event_sent_fn sent, void *user);

/* Queues one event (copied; content is len bytes of a JSON object). Any
 * thread, never blocks. MXRTC_ERR_LIMIT when the queue is full (the event is
 * dropped and counted), MXRTC_ERR_NO_MEMORY, MXRTC_ERR_CLOSED once stopping. */
int mxrtc_event_sender_push(mxrtc_event_sender *s, const char *room_id, const char *type, const char *content,
                            size_t len);

/* Waits until every queued event went out (or failed), at most until
 * `until` on the net/clock.h clock. true if the queue is empty. */
bool mxrtc_event_sender_flush(mxrtc_event_sender *s, mxrtc_time_us until);

typedef struct mxrtc_event_sender_counts {
    uint64_t queued, done, dropped;   /* pushed, sent or failed, refused (full) */
} mxrtc_event_sender_counts;

void mxrtc_event_sender_get_counts(mxrtc_event_sender *s, mxrtc_event_sender_counts *out);

/* Stops the thread once the event being sent (if any) is done, drops what
 * is still queued (mxrtc_event_sender_flush first to send it), frees.
 * NULL is fine. */
void mxrtc_event_sender_stop(mxrtc_event_sender *s);

#endif
