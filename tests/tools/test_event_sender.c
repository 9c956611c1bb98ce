/*
 * test_event_sender.c: tools/event_sender.c with a Matrix client whose HTTP
 * transport is a fake that holds each request until the test lets it go:
 * events go out in the order queued, a full queue refuses (and counts)
 * instead of blocking, flush waits for the last one, the sent callback sees
 * each outcome, a failed send does not stop the ones after it.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/clock.h"
#include "tools/event_sender.h"

#define MAXR 16

typedef struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int allowed;                 /* requests that may complete */
    int entered;                 /* requests that reached the transport */
    long status[MAXR];           /* per request: the HTTP status to answer */
    char urls[MAXR][512];
    char sent_types[MAXR][64];   /* the sent callback's view */
    int sent_rc[MAXR];
    int n_sent;
} gate;

static int gate_perform(void *ctx, const mxrtc_mxc_http_request *req, mxrtc_mxc_http_response *resp) {
    gate *g = ctx;
    pthread_mutex_lock(&g->lock);
    int i = g->entered++;
    if (i < MAXR) snprintf(g->urls[i], sizeof g->urls[i], "%s", req->url);
    pthread_cond_broadcast(&g->cond);
    while (g->allowed <= i) pthread_cond_wait(&g->cond, &g->lock);
    long st = i < MAXR && g->status[i] ? g->status[i] : 200;
    pthread_mutex_unlock(&g->lock);
    memset(resp, 0, sizeof *resp);
    resp->status = st;
    const char *body = st == 200 ? "{\"event_id\":\"$e\"}" : "{\"errcode\":\"M_FORBIDDEN\",\"error\":\"no\"}";
    resp->body = strdup(body);
    resp->body_len = strlen(body);
    return MXRTC_OK;
}

static void gate_sleep(void *ctx, uint32_t ms) {
    (void)ctx;
    (void)ms;
}

static void on_sent(void *user, const char *room_id, const char *type, const char *content, int rc) {
    gate *g = user;
    (void)room_id;
    (void)content;
    pthread_mutex_lock(&g->lock);
    if (g->n_sent < MAXR) {
        snprintf(g->sent_types[g->n_sent], sizeof g->sent_types[0], "%s", type);
        g->sent_rc[g->n_sent] = rc;
    }
    g->n_sent++;
    pthread_mutex_unlock(&g->lock);
}

/* Waits until n requests reached the transport. */
static void wait_entered(gate *g, int n) {
    pthread_mutex_lock(&g->lock);
    while (g->entered < n) pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void allow(gate *g, int n) {
    pthread_mutex_lock(&g->lock);
    g->allowed = n;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

static void in_order_bounded(void **state) {
    (void)state;
    gate g;
    memset(&g, 0, sizeof g);
    pthread_mutex_init(&g.lock, NULL);
    pthread_cond_init(&g.cond, NULL);
    g.status[1] = 403;           /* the second event is refused (no retry on 4xx) */
    mxrtc_mxc_config cfg = {.homeserver = "http://127.0.0.1:8008",
                            .http = {.perform = gate_perform, .sleep_ms = gate_sleep, .ctx = &g}};
    mxrtc_mxc *mxc = NULL;
    assert_int_equal(mxrtc_mxc_new(&cfg, &mxc), MXRTC_OK);
    assert_int_equal(mxrtc_mxc_set_token(mxc, "tok"), MXRTC_OK);

    mxrtc_event_sender *s = NULL;
    assert_int_equal(mxrtc_event_sender_start(&s, mxc, 0, on_sent, &g), MXRTC_ERR_INVALID_ARGUMENT);
    assert_int_equal(mxrtc_event_sender_start(&s, mxc, 2, on_sent, &g), MXRTC_OK);

    /* The first is taken at once and held in the transport; two more wait
     * in the queue; a fourth finds it full. */
    assert_int_equal(mxrtc_event_sender_push(s, "!r:x", "m.call.invite", "{\"a\":1}", 7), MXRTC_OK);
    wait_entered(&g, 1);
    assert_int_equal(mxrtc_event_sender_push(s, "!r:x", "m.call.candidates", "{\"b\":2}", 7), MXRTC_OK);
    assert_int_equal(mxrtc_event_sender_push(s, "!r:x", "m.call.hangup", "{\"c\":3}xxxx", 7), MXRTC_OK);
    assert_int_equal(mxrtc_event_sender_push(s, "!r:x", "m.call.reject", "{}", 2), MXRTC_ERR_LIMIT);
    assert_false(mxrtc_event_sender_flush(s, mxrtc_net_now()));   /* not yet */

    allow(&g, 3);
    assert_true(mxrtc_event_sender_flush(s, mxrtc_net_now() + 60000000));
    mxrtc_event_sender_counts c;
    mxrtc_event_sender_get_counts(s, &c);
    assert_int_equal(c.queued, 3);
    assert_int_equal(c.done, 3);
    assert_int_equal(c.dropped, 1);
    mxrtc_event_sender_stop(s);

    /* In order, each with its outcome; the refused one did not stop the third. */
    assert_int_equal(g.entered, 3);
    assert_non_null(strstr(g.urls[0], "/rooms/%21r%3Ax/send/m.call.invite/"));
    assert_non_null(strstr(g.urls[1], "/send/m.call.candidates/"));
    assert_non_null(strstr(g.urls[2], "/send/m.call.hangup/"));
    assert_int_equal(g.n_sent, 3);
    assert_string_equal(g.sent_types[0], "m.call.invite");
    assert_int_equal(g.sent_rc[0], MXRTC_OK);
    assert_string_equal(g.sent_types[1], "m.call.candidates");
    assert_int_not_equal(g.sent_rc[1], MXRTC_OK);
    assert_string_equal(g.sent_types[2], "m.call.hangup");
    assert_int_equal(g.sent_rc[2], MXRTC_OK);
    mxrtc_mxc_free(mxc);
    pthread_cond_destroy(&g.cond);
    pthread_mutex_destroy(&g.lock);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_order_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
