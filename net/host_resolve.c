/* host_resolve.c: see host_resolve.h. */
#include <stdlib.h>
#include <string.h>

#include "net/host_resolve.h"
#include "net/platform.h"

struct mxrtc_net_host_job {
    mxrtc_net_mutex lock;
    mxrtc_net_thread thread;
    int refs;
    bool done, ok;
    mxrtc_addr ip;
    char name[MXRTC_NET_HOST_NAME_MAX + 1];
};

static void job_free(mxrtc_net_host_job *j) {
    mxrtc_net_mutex_destroy(&j->lock);
    free(j);
}

static void job_main(void *arg) {
    mxrtc_net_host_job *j = arg;
    mxrtc_addr ip;
    memset(&ip, 0, sizeof ip);
    bool ok = mxrtc_net_resolve_name(j->name, &ip) == MXRTC_OK;
    mxrtc_net_mutex_lock(&j->lock);
    j->ip = ip;
    j->ok = ok;
    j->done = true;
    bool last = --j->refs == 0;   /* the caller gave up (and detached us) */
    mxrtc_net_mutex_unlock(&j->lock);
    if (last) job_free(j);
}

int mxrtc_net_host_job_start(mxrtc_net_host_job **out, const char *name) {
    if (!out || !name) return MXRTC_ERR_INVALID_ARGUMENT;
    size_t n = strlen(name);
    if (n == 0 || n > MXRTC_NET_HOST_NAME_MAX) return MXRTC_ERR_INVALID_ARGUMENT;
    mxrtc_net_host_job *j = calloc(1, sizeof *j);
    if (!j) return MXRTC_ERR_NO_MEMORY;
    if (mxrtc_net_mutex_init(&j->lock) != MXRTC_OK) {
        free(j);
        return MXRTC_ERR_IO;
    }
    memcpy(j->name, name, n + 1);
    j->refs = 2;
    /* The thread may finish before start returns: the caller's reference
     * keeps j alive until release. */
    if (mxrtc_net_thread_start(&j->thread, job_main, j) != MXRTC_OK) {
        mxrtc_net_mutex_destroy(&j->lock);
        free(j);
        return MXRTC_ERR_IO;
    }
    *out = j;
    return MXRTC_OK;
}

const char *mxrtc_net_host_job_name(const mxrtc_net_host_job *j) { return j->name; }

bool mxrtc_net_host_job_done(mxrtc_net_host_job *j, bool *ok, mxrtc_addr *ip) {
    mxrtc_net_mutex_lock(&j->lock);
    bool done = j->done;
    if (done) {
        *ok = j->ok;
        *ip = j->ip;
    }
    mxrtc_net_mutex_unlock(&j->lock);
    return done;
}

/* Finished: join the thread (it is returning) and free. Still running:
 * detach it, and it frees the job when the resolver returns. */
void mxrtc_net_host_job_release(mxrtc_net_host_job *j) {
    if (!j) return;
    mxrtc_net_mutex_lock(&j->lock);
    if (j->done) {
        mxrtc_net_mutex_unlock(&j->lock);
        mxrtc_net_thread_join(&j->thread);
        job_free(j);
        return;
    }
    j->refs--;
    mxrtc_net_thread t = j->thread;   /* j may be gone once unlocked */
    mxrtc_net_mutex_unlock(&j->lock);
    mxrtc_net_thread_detach(&t);
}
