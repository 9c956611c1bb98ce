/* coturn_env.c: parses the "export KEY=VALUE" lines coturn.sh writes. */
#include "coturn_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int set_str(char *dst, size_t cap, const char *v) {
    size_t n = strlen(v);
    if (n == 0 || n >= cap) return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

static int set_port(uint16_t *dst, const char *v) {
    char *end;
    long p = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || p <= 0 || p > 65535) return -1;
    *dst = (uint16_t)p;
    return 0;
}

int coturn_env_load(coturn_env *e) {
    memset(e, 0, sizeof *e);
    const char *path = getenv("MXRTC_COTURN_ENV");
    if (!path) {
        fprintf(stderr, "MXRTC_COTURN_ENV is not set (run through ctest, fixture coturn)\n");
        return -1;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s: did tests/turn/coturn.sh start run?\n", path);
        return -1;
    }
    char line[1024];
    int bad = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (strncmp(line, "export ", 7) != 0) continue;
        char *k = line + 7;
        char *eq = strchr(k, '=');
        if (!eq) continue;
        *eq = '\0';
        const char *v = eq + 1;
        if (!strcmp(k, "MXRTC_COTURN_HOST")) bad |= set_str(e->host, sizeof e->host, v);
        else if (!strcmp(k, "MXRTC_COTURN_REALM")) bad |= set_str(e->realm, sizeof e->realm, v);
        else if (!strcmp(k, "MXRTC_COTURN_LT_PORT")) bad |= set_port(&e->lt_port, v);
        else if (!strcmp(k, "MXRTC_COTURN_LT_TLS_PORT")) bad |= set_port(&e->lt_tls_port, v);
        else if (!strcmp(k, "MXRTC_COTURN_LT_USER")) bad |= set_str(e->lt_user, sizeof e->lt_user, v);
        else if (!strcmp(k, "MXRTC_COTURN_LT_PASSWORD")) bad |= set_str(e->lt_password, sizeof e->lt_password, v);
        else if (!strcmp(k, "MXRTC_COTURN_REST_PORT")) bad |= set_port(&e->rest_port, v);
        else if (!strcmp(k, "MXRTC_COTURN_REST_TLS_PORT")) bad |= set_port(&e->rest_tls_port, v);
        else if (!strcmp(k, "MXRTC_COTURN_REST_SECRET")) bad |= set_str(e->rest_secret, sizeof e->rest_secret, v);
        else if (!strcmp(k, "MXRTC_COTURN_CA")) bad |= set_str(e->ca, sizeof e->ca, v);
        else if (!strcmp(k, "MXRTC_COTURN_TLS_NAME")) bad |= set_str(e->tls_name, sizeof e->tls_name, v);
    }
    fclose(f);
    if (bad || !e->host[0] || !e->lt_port || !e->lt_tls_port || !e->rest_port || !e->rest_tls_port ||
        !e->ca[0] || !e->tls_name[0] || !e->lt_user[0] || !e->rest_secret[0]) {
        fprintf(stderr, "%s: a field is missing or malformed\n", path);
        return -1;
    }
    return 0;
}
