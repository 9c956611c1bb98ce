/*
 * coturn_env.h: what tests/turn/coturn.sh started, read back from the env
 * file it writes (path in $MXRTC_COTURN_ENV, set by CTest for tests that
 * require the `coturn` fixture). For the live TURN tests.
 */
#ifndef MXRTC_TEST_COTURN_ENV_H
#define MXRTC_TEST_COTURN_ENV_H

#include <stdint.h>

typedef struct coturn_env {
    char host[64];          /* 127.0.0.1 */
    char realm[64];
    uint16_t lt_port;       /* UDP+TCP, lt-cred-mech */
    uint16_t lt_tls_port;   /* TLS, lt-cred-mech */
    char lt_user[64];
    char lt_password[64];
    uint16_t rest_port;     /* UDP+TCP, use-auth-secret (TURN REST API) */
    uint16_t rest_tls_port;
    char rest_secret[128];
    char ca[512];           /* PEM of the servers' self-signed certificate */
    char tls_name[128];     /* the name in that certificate */
} coturn_env;

/* 0 on success; -1 (with a message on stderr) if $MXRTC_COTURN_ENV is unset,
 * the file is missing or a field is absent. */
int coturn_env_load(coturn_env *e);

#endif
