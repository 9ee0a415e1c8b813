/*
 * ossl_server: the minimal OpenSSL libssl server of the benchmark.
 * One thread, blocking sockets, one connection at a time:
 *   accept -> handshake -> read one request -> write a 64-byte reply ->
 *   read until the client's close_notify -> free.
 * With --hold the connection is kept open after the reply instead (memory
 * per idle connection).  Same certificates and behaviour as latch_server.
 *
 *   ossl_server [--port P] [--cert F --key F]... [--no-tickets] [--no-cache]
 *               [--hold] [--release-buffers]
 *
 * Prints "port=N" on stdout when listening; SIGUSR1 prints its CPU time.
 */
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"

enum { MAX_CERTS = 4 };

static volatile uint64_t connections;

struct held {
    SSL *ssl;
    int fd;
};

static SSL_CTX *make_context(const char **certs, const char **keys, int count, int tickets,
                             int cache, int release_buffers)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        bench_die("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* the same suites latch offers: ECDHE and RSA key exchange, AEAD only */
    if (SSL_CTX_set_cipher_list(ctx, BENCH_OSSL_CIPHERS) != 1)
        bench_die("cipher list refused");
    for (int i = 0; i < count; i++)
        if (SSL_CTX_use_certificate_chain_file(ctx, certs[i]) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, keys[i], SSL_FILETYPE_PEM) != 1)
            bench_die("cannot load %s / %s", certs[i], keys[i]);
    static const unsigned char context_id[] = "latch-bench";
    SSL_CTX_set_session_id_context(ctx, context_id, sizeof context_id - 1);
    if (!tickets)
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, tickets ? 1 : 0); /* latch sends one TLS 1.3 ticket */
    SSL_CTX_set_session_cache_mode(ctx, cache ? SSL_SESS_CACHE_SERVER : SSL_SESS_CACHE_OFF);
    if (release_buffers)
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    return ctx;
}

/* Handshake, one request, one reply.  Returns 0 if the connection is alive. */
static int serve_one(SSL *ssl)
{
    static const char reply[64] = "pong: latch bench reply, sixty-four bytes long .............\n";
    char buf[1024];
    if (SSL_accept(ssl) != 1)
        return -1;
    if (SSL_read(ssl, buf, sizeof buf) <= 0)
        return -1;
    if (SSL_write(ssl, reply, sizeof reply) != (int)sizeof reply)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'},   {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},    {"no-tickets", no_argument, NULL, 't'},
        {"no-cache", no_argument, NULL, 's'},     {"hold", no_argument, NULL, 'H'},
        {"exit-after", required_argument, NULL, 'x'},
        {"release-buffers", no_argument, NULL, 'r'}, {NULL, 0, NULL, 0}};
    const char *certs[MAX_CERTS], *keys[MAX_CERTS];
    int cert_count = 0, key_count = 0, port = 0, tickets = 1, cache = 1, hold = 0, release = 0;
    long exit_after = 0;
    int option;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (option) {
        case 'p': port = atoi(optarg); break;
        case 'c':
            if (cert_count < MAX_CERTS)
                certs[cert_count++] = optarg;
            break;
        case 'k':
            if (key_count < MAX_CERTS)
                keys[key_count++] = optarg;
            break;
        case 't': tickets = 0; break;
        case 's': cache = 0; break;
        case 'H': hold = 1; break;
        case 'x': exit_after = atol(optarg); break;
        case 'r': release = 1; break;
        default: bench_die("usage: ossl_server [--port P] [--cert F --key F]... [--no-tickets] "
                           "[--no-cache] [--hold] [--release-buffers] [--exit-after N]");
        }
    }
    if (cert_count != key_count)
        bench_die("each --cert needs a --key");
    if (cert_count == 0) {
        certs[0] = BENCH_PKI "/server-p256.pem";
        keys[0] = BENCH_PKI "/server-p256-key.pem";
        certs[1] = BENCH_PKI "/server-rsa2048.pem";
        keys[1] = BENCH_PKI "/server-rsa2048-key.pem";
        cert_count = 2;
    }
    bench_raise_nofile();
    bench_install_cpu_report(&connections);
    SSL_CTX *ctx = make_context(certs, keys, cert_count, tickets, cache, release);
    int listen_fd = bench_listen(port, &port);
    if (listen_fd < 0)
        bench_die("cannot listen");
    printf("port=%d\n", port);
    fflush(stdout);

    struct held *held = NULL;
    size_t held_count = 0, held_cap = 0;
    while (exit_after == 0 || connections < (uint64_t)exit_after) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        connections++;
        bench_nodelay(fd);
        SSL *ssl = SSL_new(ctx);
        if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) {
            SSL_free(ssl);
            close(fd);
            continue;
        }
        int alive = serve_one(ssl) == 0;
        if (alive && hold) {
            if (held_count == held_cap) {
                held_cap = held_cap ? 2 * held_cap : 1024;
                held = realloc(held, held_cap * sizeof *held);
                if (held == NULL)
                    bench_die("out of memory");
            }
            held[held_count++] = (struct held){ssl, fd};
            continue;
        }
        if (alive) {
            char buf[256];
            while (SSL_read(ssl, buf, sizeof buf) > 0) {
            }
        }
        /* Mark the connection shut down (without writing to a closed peer),
         * or SSL_free would drop its session from the cache. */
        SSL_set_quiet_shutdown(ssl, 1);
        SSL_shutdown(ssl);
        ERR_clear_error();
        SSL_free(ssl);
        close(fd);
    }
    for (size_t i = 0; i < held_count; i++) {
        SSL_free(held[i].ssl);
        close(held[i].fd);
    }
    free(held);
    SSL_CTX_free(ctx);
    close(listen_fd);
    return 0;
}
