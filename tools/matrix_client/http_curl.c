/*
 * http_curl.c: the mxrtc_mxc_http interface on libcurl (easy interface,
 * blocking). One handle reused across requests so connections are kept alive
 * between /sync polls. Bodies are capped at MXRTC_MXC_MAX_BODY while they are
 * received; the Authorization header is built here and wiped after use, and
 * curl's verbose mode is never turned on (it would print it).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "base/alloc.h"
#include "tools/matrix_client/matrix_client.h"

typedef struct curl_ctx {
    CURL *easy;
} curl_ctx;

typedef struct sink {
    char *buf;
    size_t len, cap;
    int over;
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *user) {
    sink *s = user;
    size_t m = size * n;
    if (s->len + m > MXRTC_MXC_MAX_BODY) {
        s->over = 1;
        return 0;   /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (s->len + m + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + m + 1)
            cap *= 2;
        char *nb = realloc(s->buf, cap);
        if (!nb)
            return 0;
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, p, m);
    s->len += m;
    s->buf[s->len] = 0;
    return m;
}

/* Picks "Retry-After: <seconds>" out of the response headers. */
static size_t on_header(char *p, size_t size, size_t n, void *user) {
    mxrtc_mxc_http_response *resp = user;
    size_t m = size * n;
    static const char name[] = "retry-after:";
    if (m > sizeof name - 1 && m < 128) {
        char line[128];
        memcpy(line, p, m);
        line[m] = 0;
        size_t i = 0;
        for (; i < sizeof name - 1; i++) {
            char ch = line[i];
            if (ch >= 'A' && ch <= 'Z')
                ch = (char)(ch - 'A' + 'a');
            if (ch != name[i])
                break;
        }
        if (i == sizeof name - 1) {
            const char *v = line + i;
            while (*v == ' ' || *v == '\t')
                v++;
            uint64_t secs = 0;
            int digits = 0;
            while (*v >= '0' && *v <= '9' && digits < 9) {
                secs = secs * 10 + (uint64_t)(*v++ - '0');
                digits++;
            }
            if (digits && (*v == '\r' || *v == '\n' || *v == 0)) {
                resp->has_retry_after = 1;
                resp->retry_after_s = (uint32_t)secs;
            }
        }
    }
    return m;
}

static int perform(void *ctx, const mxrtc_mxc_http_request *req, mxrtc_mxc_http_response *resp) {
    curl_ctx *cc = ctx;
    CURL *e = cc->easy;
    sink s = {0};
    struct curl_slist *hdrs = NULL;
    char auth[MXRTC_MXC_TOKEN_MAX + 32];
    auth[0] = 0;
    memset(resp, 0, sizeof *resp);
    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 30000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
    }
    if (req->access_token) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", req->access_token);
        struct curl_slist *h = curl_slist_append(hdrs, auth);
        if (h)
            hdrs = h;
    }
    if (hdrs)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    CURLcode cr = curl_easy_perform(e);
    /* curl copied the header into its list: wipe both copies. */
    for (struct curl_slist *h = hdrs; h; h = h->next)
        mxrtc_wipe(h->data, strlen(h->data));
    curl_slist_free_all(hdrs);
    mxrtc_wipe(auth, sizeof auth);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    if (s.over) {
        free(s.buf);
        return MXRTC_ERR_LIMIT;
    }
    if (cr != CURLE_OK) {
        free(s.buf);
        return cr == CURLE_OPERATION_TIMEDOUT ? MXRTC_ERR_TIMEOUT : MXRTC_ERR_IO;
    }
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    resp->body = s.buf;
    resp->body_len = s.len;
    return MXRTC_OK;
}

static void sleep_ms(void *ctx, uint32_t ms) {
    (void)ctx;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int mxrtc_mxc_http_curl_new(mxrtc_mxc_http *out) {
    if (!out)
        return MXRTC_ERR_INVALID_ARGUMENT;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return MXRTC_ERR_IO;
    curl_ctx *cc = calloc(1, sizeof *cc);
    if (!cc)
        return MXRTC_ERR_NO_MEMORY;
    cc->easy = curl_easy_init();
    if (!cc->easy) {
        free(cc);
        return MXRTC_ERR_IO;
    }
    out->perform = perform;
    out->sleep_ms = sleep_ms;
    out->ctx = cc;
    return MXRTC_OK;
}

void mxrtc_mxc_http_curl_free(mxrtc_mxc_http *http) {
    if (!http || !http->ctx)
        return;
    curl_ctx *cc = http->ctx;
    curl_easy_cleanup(cc->easy);
    free(cc);
    http->ctx = NULL;
    curl_global_cleanup();
}
