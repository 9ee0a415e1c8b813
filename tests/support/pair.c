#include "pair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pair_configs(pair *p, const char *cert_name)
{
    char cert[512], key[512];
    memset(p, 0, sizeof *p);
    p->client_config = latch_config_new(LATCH_ROLE_CLIENT);
    p->server_config = latch_config_new(LATCH_ROLE_SERVER);
    if (p->client_config == NULL || p->server_config == NULL)
        return -1;
    if (latch_config_set_ca(p->client_config, PKI "ca.pem", NULL) != 0)
        return -1;
    snprintf(cert, sizeof cert, PKI "server-%s.pem", cert_name);
    snprintf(key, sizeof key, PKI "server-%s-key.pem", cert_name);
    if (latch_config_add_cert_key_files(p->server_config, cert, key) != 0) {
        fprintf(stderr, "%s\n", latch_config_error(p->server_config));
        return -1;
    }
    return 0;
}

int pair_connect(pair *p, const char *server_name)
{
    p->client = latch_conn_new(p->client_config, server_name);
    p->server = latch_conn_new(p->server_config, NULL);
    return p->client && p->server ? 0 : -1;
}

static size_t move(pair *p, latch_conn *from, latch_conn *to, int from_client)
{
    size_t len, room, total = 0;
    const uint8_t *bytes = latch_conn_send_buf(from, &len);
    while (len > 0) {
        if (latch_conn_recv_buf(to, &room) == NULL || room == 0) {
            unsigned status = latch_conn_status(to);
            if (!(status & (LATCH_STATUS_CLOSED | LATCH_STATUS_FAILED)))
                return total; /* unread plaintext: the bytes wait in from */
            latch_conn_send_done(from, len); /* peer is gone: drop */
            return total;
        }
        if (p->tamper == NULL) { /* straight across: what the reader does not take waits */
            ssize_t used = latch_conn_feed(to, bytes, len);
            if (used == 0)
                return total;
            if (used < 0) /* the reader failed on them: they are gone */
                used = (ssize_t)len;
            latch_conn_send_done(from, (size_t)used);
            total += (size_t)used;
            bytes = latch_conn_send_buf(from, &len);
            continue;
        }
        uint8_t *chunk = malloc(len + PAIR_TAMPER_SLACK);
        memcpy(chunk, bytes, len);
        latch_conn_send_done(from, len);
        size_t deliver = p->tamper ? p->tamper(p->tamper_arg, from_client, chunk, len) : len;
        ssize_t used = latch_conn_feed(to, chunk, deliver);
        if (used >= 0 && (size_t)used < deliver &&
            !(latch_conn_status(to) & (LATCH_STATUS_CLOSED | LATCH_STATUS_FAILED)))
            fprintf(stderr, "pair: a tampered chunk only partly taken (unread plaintext)\n");
        free(chunk);
        total += len;
        bytes = latch_conn_send_buf(from, &len);
    }
    return total;
}

size_t pair_pump(pair *p)
{
    size_t total = 0, moved;
    do {
        moved = move(p, p->client, p->server, 1) + move(p, p->server, p->client, 0);
        total += moved;
    } while (moved > 0);
    return total;
}

int pair_handshake(pair *p)
{
    pair_pump(p);
    unsigned cs = latch_conn_status(p->client), ss = latch_conn_status(p->server);
    return (cs & LATCH_STATUS_READY) && (ss & LATCH_STATUS_READY) ? 0 : -1;
}

void pair_free(pair *p)
{
    latch_conn_free(p->client);
    latch_conn_free(p->server);
    latch_config_free(p->client_config);
    latch_config_free(p->server_config);
    memset(p, 0, sizeof *p);
}

ssize_t pair_read_all(latch_conn *conn, uint8_t *buf, size_t cap, size_t chunk, size_t *have)
{
    ssize_t n;
    do {
        size_t room = cap - *have < chunk ? cap - *have : chunk;
        n = latch_conn_read(conn, buf + *have, room);
        if (n > 0)
            *have += (size_t)n;
    } while (n > 0);
    return n;
}
