/*
 * event_sender.c: in-order Matrix event sending on a thread of its own
 * (tools/event_sender.h). A ring of copied events under one mutex; the
 * thread takes the oldest, sends it without the lock held, and signals
 * flushers after each.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net/clock.h"
#include "tools/event_sender.h"

typedef struct item {
    char *room, *type, *content;
} item;

struct mxrtc_event_sender {
    mxrtc_mxc *mxc;
    mxrtc_event_sent_fn sent;
    void *user;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    item *ring;
    size_t cap, head, count;
    bool busy;                        /* an event is being sent */
    bool stopping;
    mxrtc_event_sender_counts counts;
};

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

static void item_free(item *it) {
    free(it->room);
    free(it->type);
    free(it->content);
}

static void *run(void *arg) {
    mxrtc_event_sender *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->count && !s->stopping) pthread_cond_wait(&s->cond, &s->lock);
        if (s->stopping) break;  /* what is still queued is dropped (flush first) */
        item it = s->ring[s->head];
        s->head = (s->head + 1) % s->cap;
        s->count--;
        s->busy = true;
        pthread_mutex_unlock(&s->lock);
        int rc = mxrtc_mxc_send_event(s->mxc, it.room, it.type, it.content, NULL);
        if (s->sent) s->sent(s->user, it.room, it.type, it.content, rc);
        item_free(&it);
        pthread_mutex_lock(&s->lock);
        s->busy = false;
        s->counts.done++;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int mxrtc_event_sender_start(mxrtc_event_sender **out, mxrtc_mxc *mxc, size_t capacity,
                             mxrtc_event_sent_fn sent, void *user) {
    if (!out || !mxc || capacity < 1 || capacity > 4096) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_event_sender *s = calloc(1, sizeof *s);
    if (!s) return MXRTC_ERR_NO_MEMORY;
    s->ring = calloc(capacity, sizeof *s->ring);
    if (!s->ring) {
        free(s);
        return MXRTC_ERR_NO_MEMORY;
    }
    s->mxc = mxc;
    s->sent = sent;
    s->user = user;
    s->cap = capacity;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (pthread_create(&s->thread, NULL, run, s) != 0) {
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->lock);
        free(s->ring);
        free(s);
        return MXRTC_ERR_IO;
    }
    *out = s;
    return MXRTC_OK;
}

int mxrtc_event_sender_push(mxrtc_event_sender *s, const char *room_id, const char *type, const char *content,
                            size_t len) {
    if (!s || !room_id || !type || !content) return MXRTC_ERR_INVALID_ARGUMENT;
    item it = {dup_n(room_id, strlen(room_id)), dup_n(type, strlen(type)), dup_n(content, len)};
    if (!it.room || !it.type || !it.content) {
        item_free(&it);
        return MXRTC_ERR_NO_MEMORY;
    }
    int rc = MXRTC_OK;
    pthread_mutex_lock(&s->lock);
    if (s->stopping) {
        rc = MXRTC_ERR_CLOSED;
    } else if (s->count == s->cap) {
        s->counts.dropped++;
        rc = MXRTC_ERR_LIMIT;
    } else {
        s->ring[(s->head + s->count) % s->cap] = it;
        s->count++;
        s->counts.queued++;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    if (rc != MXRTC_OK) item_free(&it);
    return rc;
}

bool mxrtc_event_sender_flush(mxrtc_event_sender *s, mxrtc_time_us until) {
    if (!s) return true;
    pthread_mutex_lock(&s->lock);
    while ((s->count || s->busy) && mxrtc_net_now() < until) {
        /* Bounded waits (the condition uses the realtime clock, the
         * deadline the monotonic one): look again every 100 ms. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
    }
    bool empty = !s->count && !s->busy;
    pthread_mutex_unlock(&s->lock);
    return empty;
}

void mxrtc_event_sender_get_counts(mxrtc_event_sender *s, mxrtc_event_sender_counts *out) {
    pthread_mutex_lock(&s->lock);
    *out = s->counts;
    pthread_mutex_unlock(&s->lock);
}

void mxrtc_event_sender_stop(mxrtc_event_sender *s) {
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    for (size_t i = 0; i < s->count; i++) item_free(&s->ring[(s->head + i) % s->cap]);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    free(s->ring);
    free(s);
}
