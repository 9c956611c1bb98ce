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

static void unref(mxrtc_net_host_job *j) {
    mxrtc_net_mutex_lock(&j->lock);
    bool last = --j->refs == 0;
    mxrtc_net_mutex_unlock(&j->lock);
    if (!last) return;
    mxrtc_net_mutex_destroy(&j->lock);
    free(j);
}

static void job_main(void *arg) {
    mxrtc_net_host_job *j = arg;
    mxrtc_net_thread_detach_self();
    mxrtc_addr ip;
    memset(&ip, 0, sizeof ip);
    bool ok = mxrtc_net_resolve_name(j->name, &ip) == MXRTC_OK;
    mxrtc_net_mutex_lock(&j->lock);
    j->ip = ip;
    j->ok = ok;
    j->done = true;
    mxrtc_net_mutex_unlock(&j->lock);
    unref(j);
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

void mxrtc_net_host_job_release(mxrtc_net_host_job *j) {
    if (j) unref(j);
}
