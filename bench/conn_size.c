/*
 * conn_size: what one idle server connection costs, from the inside.
 *   - sizeof(struct latch_conn) and its fixed buffers (src/engine/internal.h);
 *   - heap bytes a latch server connection keeps after a handshake and one
 *     request/reply (mallinfo2 before/after, the client freed), with the
 *     capacities of its byte queues;
 *   - the same heap figure for an OpenSSL server SSL (memory BIOs, their
 *     own buffers subtracted), default and with SSL_MODE_RELEASE_BUFFERS.
 * TLS 1.3 X25519 + ECDSA P-256 and TLS 1.2 ECDHE-ECDSA, in memory.
 *
 * Prints "RESULT key=value ..." lines.
 */
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "engine/internal.h"
#include "record/record.h"

static const char *cert_file = BENCH_PKI "/server-p256.pem";
static const char *key_file = BENCH_PKI "/server-p256-key.pem";

static size_t heap_in_use(void)
{
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

/* ---- latch in memory ---- */

static size_t move_bytes(latch_conn *from, latch_conn *to)
{
    size_t len, total = 0;
    const uint8_t *bytes = latch_conn_send_buf(from, &len);
    while (len > 0) {
        ssize_t used = latch_conn_feed(to, bytes, len);
        if (used <= 0)
            bench_die("latch: feed failed: %s", latch_conn_error_reason(to));
        latch_conn_send_done(from, (size_t)used);
        total += (size_t)used;
        bytes = latch_conn_send_buf(from, &len);
    }
    return total;
}

static void pump(latch_conn *client, latch_conn *server)
{
    while (move_bytes(client, server) + move_bytes(server, client) > 0) {
    }
}

/* Handshake + request + reply; returns the server connection, client freed. */
static latch_conn *latch_session_pair(latch_config *client_config, latch_config *server_config)
{
    static const char request[32] = "ping", reply[64] = "pong";
    char buf[128];
    latch_conn *client = latch_conn_new(client_config, "localhost");
    latch_conn *server = latch_conn_new(server_config, NULL);
    if (client == NULL || server == NULL)
        bench_die("latch_conn_new failed");
    pump(client, server);
    if (!(latch_conn_status(server) & LATCH_STATUS_READY))
        bench_die("latch handshake failed: %s / %s", latch_conn_error_reason(client),
                  latch_conn_error_reason(server));
    latch_conn_write(client, request, sizeof request);
    pump(client, server);
    if (latch_conn_read(server, buf, sizeof buf) != (ssize_t)sizeof request)
        bench_die("latch: request lost");
    latch_conn_write(server, reply, sizeof reply);
    pump(client, server);
    if (latch_conn_read(client, buf, sizeof buf) != (ssize_t)sizeof reply)
        bench_die("latch: reply lost");
    latch_conn_free(client);
    return server;
}

static void measure_latch(const char *name, uint16_t version, const char *suite)
{
    latch_config *server_config = latch_config_new(LATCH_ROLE_SERVER);
    latch_config *client_config = latch_config_new(LATCH_ROLE_CLIENT);
    if (server_config == NULL || client_config == NULL ||
        latch_config_add_cert_key_files(server_config, cert_file, key_file) != 0 ||
        latch_config_set_session_cache(server_config, 0, 0) != 0 ||
        latch_config_set_versions(client_config, version, version) != 0 ||
        latch_config_set_ciphers(client_config, suite) != 0 ||
        latch_config_set_groups(client_config, "x25519") != 0)
        bench_die("latch config failed");
    latch_config_set_verify(client_config, 0);
    for (int i = 0; i < 3; i++) /* libcrypto's one-time caches */
        latch_conn_free(latch_session_pair(client_config, server_config));
    enum { N = 16 };
    latch_conn *kept[N];
    size_t before = heap_in_use();
    for (int i = 0; i < N; i++)
        kept[i] = latch_session_pair(client_config, server_config);
    size_t after = heap_in_use();
    const latch_conn *c = kept[0];
    printf("RESULT kind=latch case=%s heap_bytes_per_conn=%zu sizeof_conn=%zu recv_buffer=%d recv_held=%d "
           "send_cap=%zu app_in_cap=%zu handshake_in_cap=%zu handshake_out_cap=%zu "
           "handshake_state=%d transcript_ctx=%d key_exchange_key=%d\n",
           name, (after - before) / N, sizeof(struct latch_conn), RECORD_MAX_WIRE, c->recv != NULL,
           c->send.capacity, c->app_in.capacity, c->handshake_in.capacity,
           c->handshake_out.capacity, c->hs != NULL, c->hs != NULL && c->hs->transcript_ready,
           c->key_exchange_key != NULL);
    for (int i = 0; i < N; i++)
        latch_conn_free(kept[i]);
    latch_config_free(client_config);
    latch_config_free(server_config);
}

/* ---- OpenSSL in memory ---- */

struct ossl_end {
    SSL *ssl;
    BIO *in, *out;
};

static void ossl_end_new(struct ossl_end *e, SSL_CTX *ctx, int server)
{
    e->ssl = SSL_new(ctx);
    e->in = BIO_new(BIO_s_mem());
    e->out = BIO_new(BIO_s_mem());
    if (e->ssl == NULL || e->in == NULL || e->out == NULL)
        bench_die("SSL_new failed");
    SSL_set_bio(e->ssl, e->in, e->out);
    if (server)
        SSL_set_accept_state(e->ssl);
    else
        SSL_set_connect_state(e->ssl);
}

static size_t ossl_move(struct ossl_end *from, struct ossl_end *to)
{
    char buf[16384];
    size_t total = 0;
    int n;
    while ((n = BIO_read(from->out, buf, sizeof buf)) > 0) {
        BIO_write(to->in, buf, n);
        total += (size_t)n;
    }
    return total;
}

static void ossl_pump(struct ossl_end *client, struct ossl_end *server)
{
    do {
        SSL_do_handshake(client->ssl);
        SSL_do_handshake(server->ssl);
    } while (ossl_move(client, server) + ossl_move(server, client) > 0);
}

static size_t bio_capacity(BIO *bio)
{
    BUF_MEM *mem = NULL;
    BIO_get_mem_ptr(bio, &mem);
    return mem != NULL ? mem->max + sizeof *mem : 0;
}

static SSL *ossl_session_pair(SSL_CTX *client_ctx, SSL_CTX *server_ctx, size_t *bio_bytes)
{
    static const char request[32] = "ping", reply[64] = "pong";
    char buf[128];
    struct ossl_end client, server;
    ossl_end_new(&client, client_ctx, 0);
    ossl_end_new(&server, server_ctx, 1);
    ossl_pump(&client, &server);
    if (!SSL_is_init_finished(server.ssl) || !SSL_is_init_finished(client.ssl))
        bench_die("OpenSSL handshake failed");
    SSL_write(client.ssl, request, sizeof request);
    ossl_pump(&client, &server);
    if (SSL_read(server.ssl, buf, sizeof buf) != (int)sizeof request)
        bench_die("OpenSSL: request lost");
    SSL_write(server.ssl, reply, sizeof reply);
    ossl_pump(&client, &server);
    if (SSL_read(client.ssl, buf, sizeof buf) != (int)sizeof reply)
        bench_die("OpenSSL: reply lost");
    SSL_set_quiet_shutdown(client.ssl, 1);
    SSL_shutdown(client.ssl);
    SSL_free(client.ssl);
    /* memory BIOs stand in for a socket BIO: not the connection's cost */
    *bio_bytes = bio_capacity(server.in) + bio_capacity(server.out);
    return server.ssl;
}

static void measure_ossl(const char *name, int version, const char *suite, int release)
{
    SSL_CTX *server_ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX *client_ctx = SSL_CTX_new(TLS_client_method());
    if (server_ctx == NULL || client_ctx == NULL ||
        SSL_CTX_use_certificate_chain_file(server_ctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(server_ctx, key_file, SSL_FILETYPE_PEM) != 1)
        bench_die("OpenSSL context failed");
    SSL_CTX_set_session_cache_mode(server_ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(server_ctx, 1);
    if (release)
        SSL_CTX_set_mode(server_ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_min_proto_version(client_ctx, version);
    SSL_CTX_set_max_proto_version(client_ctx, version);
    SSL_CTX_set1_groups_list(client_ctx, "X25519:P-256");
    if (version == TLS1_3_VERSION)
        SSL_CTX_set_ciphersuites(client_ctx, suite);
    else
        SSL_CTX_set_cipher_list(client_ctx, suite);
    size_t bio_bytes = 0;
    for (int i = 0; i < 3; i++)
        SSL_free(ossl_session_pair(client_ctx, server_ctx, &bio_bytes));
    enum { N = 16 };
    SSL *kept[N];
    size_t bios = 0, before = heap_in_use();
    for (int i = 0; i < N; i++) {
        kept[i] = ossl_session_pair(client_ctx, server_ctx, &bio_bytes);
        bios += bio_bytes;
    }
    size_t after = heap_in_use();
    printf("RESULT kind=openssl%s case=%s heap_bytes_per_conn=%zu\n",
           release ? "-release-buffers" : "", name, (after - before - bios) / N);
    for (int i = 0; i < N; i++)
        SSL_free(kept[i]);
    SSL_CTX_free(client_ctx);
    SSL_CTX_free(server_ctx);
}

int main(void)
{
    printf("RESULT kind=sizes sizeof_latch_conn=%zu sizeof_latch_config=%zu "
           "sizeof_record_protection=%zu sizeof_peer_offer=%zu sizeof_handshake_state=%zu "
           "recv_buffer=%d\n",
           sizeof(struct latch_conn), sizeof(struct latch_config), sizeof(record_protection),
           sizeof(peer_offer), sizeof(struct latch_handshake), RECORD_MAX_WIRE);
    measure_latch("tls13", LATCH_VERSION_TLS13, "TLS_AES_128_GCM_SHA256");
    measure_latch("tls12", LATCH_VERSION_TLS12, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    measure_ossl("tls13", TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", 0);
    measure_ossl("tls12", TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", 0);
    measure_ossl("tls13", TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256", 1);
    measure_ossl("tls12", TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256", 1);
    return 0;
}
