/* In-memory latch client <-> latch server, for tests. */
#ifndef LATCH_TEST_PAIR_H
#define LATCH_TEST_PAIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "latch/latch.h"

#define PKI LATCH_TEST_DATA "/pki/"

/* Called with each chunk of wire bytes in flight; may modify them in place,
 * and may grow them by up to PAIR_TAMPER_SLACK bytes.  Returns the number of
 * bytes to deliver. */
#define PAIR_TAMPER_SLACK 4096
typedef size_t (*pair_tamper_fn)(void *arg, int from_client, uint8_t *bytes, size_t len);

typedef struct pair {
    latch_config *client_config, *server_config;
    latch_conn *client, *server;
    pair_tamper_fn tamper;
    void *tamper_arg;
} pair;

/* Configs with the test CA, and one server certificate ("p256", "rsa2048"...). */
int pair_configs(pair *p, const char *cert_name);
int pair_connect(pair *p, const char *server_name);
/* Move bytes both ways until nothing moves.  Returns bytes moved. */
size_t pair_pump(pair *p);
/* Pump until both are READY, or one failed.  Returns 0 if both READY. */
int pair_handshake(pair *p);
void pair_free(pair *p);
/* latch_conn_read into buf (cap bytes, *have of them filled already), at
 * most chunk at a time, until it gives no more; returns its last result (0
 * at close_notify, -LATCH_ERR_WOULD_BLOCK, -error). */
ssize_t pair_read_all(latch_conn *conn, uint8_t *buf, size_t cap, size_t chunk, size_t *have);

#endif
