/*
 * hs_inmem: the handshakes of hs_client without sockets.  The same OpenSSL
 * client talks to a latch server (latch_conn_feed / latch_conn_send_buf) or
 * to an OpenSSL server (memory BIOs) in one thread; only the server's calls
 * are timed (CLOCK_THREAD_CPUTIME_ID).  This is the engine's own CPU per
 * handshake, without the kernel's TCP work, comparable to crypto_limit.
 *
 *   hs_inmem --impl latch|openssl [--tls 1.2|1.3] [--cipher L] [--suites L]
 *            [--groups L] [--sigalgs L] [--resume none|ticket|id|psk]
 *            [-n N] [--warmup W] [--label NAME]
 *
 * Prints: RESULT impl=.. label=.. n=.. server_us_per_op=.. ops_per_cpu_s=.. resumed=..
 */
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "latch/latch.h"

enum { WIRE_MAX = 1 << 16 };

struct options {
    int latch, tls13, resume_id, resume, count, warmup;
    const char *cipher, *suites, *groups, *sigalgs, *label;
};

/* Server under test: bytes in, bytes out, timed. */
struct server {
    int latch;
    latch_config *config;
    SSL_CTX *ctx;
    latch_conn *conn;
    SSL *ssl;
    BIO *in, *out;
    uint64_t cpu_ns;
};

static uint64_t thread_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(const char *what)
{
    ERR_print_errors_fp(stderr);
    bench_die("hs_inmem: %s failed", what);
}

static void server_setup(struct server *s)
{
    static const char *certs[2] = {BENCH_PKI "/server-p256.pem", BENCH_PKI "/server-rsa2048.pem"};
    static const char *keys[2] = {BENCH_PKI "/server-p256-key.pem",
                                  BENCH_PKI "/server-rsa2048-key.pem"};
    if (s->latch) {
        s->config = latch_config_new(LATCH_ROLE_SERVER);
        if (s->config != NULL && latch_config_set_ciphers(s->config, BENCH_LATCH_SUITES) != 0)
            fail(latch_config_error(s->config));
        for (int i = 0; s->config != NULL && i < 2; i++)
            if (latch_config_add_cert_key_files(s->config, certs[i], keys[i]) != 0)
                fail("latch certificate");
        if (s->config == NULL)
            fail("latch config");
        return;
    }
    /* as ossl_server */
    s->ctx = SSL_CTX_new(TLS_server_method());
    if (s->ctx == NULL || SSL_CTX_set_cipher_list(s->ctx, BENCH_OSSL_CIPHERS) != 1)
        fail("SSL_CTX");
    SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
    for (int i = 0; i < 2; i++)
        if (SSL_CTX_use_certificate_chain_file(s->ctx, certs[i]) != 1 ||
            SSL_CTX_use_PrivateKey_file(s->ctx, keys[i], SSL_FILETYPE_PEM) != 1)
            fail("certificate");
    static const unsigned char context_id[] = "latch-bench";
    SSL_CTX_set_session_id_context(s->ctx, context_id, sizeof context_id - 1);
    SSL_CTX_set_num_tickets(s->ctx, 1);
}

static void server_open(struct server *s)
{
    uint64_t t = thread_ns();
    if (s->latch) {
        s->conn = latch_conn_new(s->config, NULL);
        if (s->conn == NULL)
            fail("latch_conn_new");
    } else {
        s->ssl = SSL_new(s->ctx);
        s->in = BIO_new(BIO_s_mem());
        s->out = BIO_new(BIO_s_mem());
        if (s->ssl == NULL || s->in == NULL || s->out == NULL)
            fail("SSL_new");
        SSL_set_bio(s->ssl, s->in, s->out);
        SSL_set_accept_state(s->ssl);
    }
    s->cpu_ns += thread_ns() - t;
}

/* Give the server peer bytes, let it work (handshake, answer a request,
 * see close_notify), collect what it sends.  Returns bytes in out. */
static size_t server_step(struct server *s, const uint8_t *in, size_t in_len, uint8_t *out)
{
    static const char reply[64] = "pong: latch bench reply";
    char buf[1024];
    size_t out_len = 0;
    uint64_t t = thread_ns();
    if (s->latch) {
        if (in_len > 0 && latch_conn_feed(s->conn, in, in_len) != (ssize_t)in_len)
            fail(latch_conn_error_reason(s->conn));
        if (latch_conn_read(s->conn, buf, sizeof buf) > 0)
            latch_conn_write(s->conn, reply, sizeof reply);
        size_t len;
        const uint8_t *bytes = latch_conn_send_buf(s->conn, &len);
        if (len > WIRE_MAX)
            fail("latch flight too long");
        memcpy(out, bytes, len);
        latch_conn_send_done(s->conn, len);
        out_len = len;
    } else {
        if (in_len > 0)
            BIO_write(s->in, in, (int)in_len);
        if (!SSL_is_init_finished(s->ssl))
            SSL_do_handshake(s->ssl);
        if (SSL_is_init_finished(s->ssl) && SSL_read(s->ssl, buf, sizeof buf) > 0)
            SSL_write(s->ssl, reply, sizeof reply);
        int n = BIO_read(s->out, out, WIRE_MAX);
        out_len = n > 0 ? (size_t)n : 0;
    }
    s->cpu_ns += thread_ns() - t;
    return out_len;
}

static void server_close(struct server *s)
{
    uint64_t t = thread_ns();
    if (s->latch) {
        latch_conn_free(s->conn);
        s->conn = NULL;
    } else {
        SSL_set_quiet_shutdown(s->ssl, 1);
        SSL_shutdown(s->ssl);
        SSL_free(s->ssl);
        s->ssl = NULL;
    }
    s->cpu_ns += thread_ns() - t;
}

static SSL_CTX *client_context(const struct options *o)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    int version = o->tls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (ctx == NULL)
        fail("SSL_CTX_new");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    if ((o->cipher && SSL_CTX_set_cipher_list(ctx, o->cipher) != 1) ||
        (o->suites && SSL_CTX_set_ciphersuites(ctx, o->suites) != 1) ||
        (o->groups && SSL_CTX_set1_groups_list(ctx, o->groups) != 1) ||
        (o->sigalgs && SSL_CTX_set1_sigalgs_list(ctx, o->sigalgs) != 1))
        fail("client settings");
    if (o->resume_id)
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    return ctx;
}

/* One connection as hs_client makes it: handshake, request, reply, close_notify. */
static int one_connection(SSL_CTX *ctx, struct server *s, SSL_SESSION **session)
{
    static const char request[32] = "ping: latch bench request";
    static uint8_t wire[WIRE_MAX];
    char buf[256];
    SSL *ssl = SSL_new(ctx);
    BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
    if (ssl == NULL || in == NULL || out == NULL)
        fail("client SSL_new");
    SSL_set_bio(ssl, in, out);
    SSL_set_connect_state(ssl);
    if (session != NULL && *session != NULL)
        SSL_set_session(ssl, *session);
    server_open(s);
    int sent_request = 0, got_reply = 0;
    for (int round = 0; round < 32 && !got_reply; round++) {
        if (!SSL_is_init_finished(ssl))
            SSL_do_handshake(ssl);
        if (SSL_is_init_finished(ssl) && !sent_request) {
            if (SSL_write(ssl, request, sizeof request) != (int)sizeof request)
                fail("client write");
            sent_request = 1;
        }
        int n = BIO_read(out, wire, sizeof wire);
        size_t len = server_step(s, wire, n > 0 ? (size_t)n : 0, wire);
        if (len > 0)
            BIO_write(in, wire, (int)len);
        if (sent_request && SSL_read(ssl, buf, sizeof buf) > 0)
            got_reply = 1;
    }
    if (!got_reply)
        fail("handshake");
    int resumed = SSL_session_reused(ssl);
    if (session != NULL) {
        SSL_SESSION *fresh = SSL_get1_session(ssl);
        if (fresh != NULL && SSL_SESSION_is_resumable(fresh)) {
            SSL_SESSION_free(*session);
            *session = fresh;
        } else {
            SSL_SESSION_free(fresh);
        }
    }
    SSL_shutdown(ssl);
    int n = BIO_read(out, wire, sizeof wire);
    server_step(s, wire, n > 0 ? (size_t)n : 0, wire);
    server_close(s);
    SSL_free(ssl);
    return resumed;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"impl", required_argument, NULL, 'i'},   {"tls", required_argument, NULL, 'v'},
        {"cipher", required_argument, NULL, 'c'}, {"suites", required_argument, NULL, 's'},
        {"groups", required_argument, NULL, 'g'}, {"sigalgs", required_argument, NULL, 'a'},
        {"resume", required_argument, NULL, 'r'}, {"warmup", required_argument, NULL, 'w'},
        {"label", required_argument, NULL, 'l'},  {NULL, 0, NULL, 0}};
    struct options o = {.count = 1000, .warmup = 20, .label = "handshake", .groups = "X25519"};
    int option;
    while ((option = getopt_long(argc, argv, "n:", options, NULL)) != -1) {
        switch (option) {
        case 'i': o.latch = strcmp(optarg, "latch") == 0; break;
        case 'v': o.tls13 = strcmp(optarg, "1.3") == 0; break;
        case 'c': o.cipher = optarg; break;
        case 's': o.suites = optarg; break;
        case 'g': o.groups = optarg; break;
        case 'a': o.sigalgs = optarg; break;
        case 'r':
            o.resume = strcmp(optarg, "none") != 0;
            o.resume_id = strcmp(optarg, "id") == 0;
            break;
        case 'n': o.count = atoi(optarg); break;
        case 'w': o.warmup = atoi(optarg); break;
        case 'l': o.label = optarg; break;
        default: bench_die("usage: hs_inmem --impl latch|openssl [hs_client options] [-n N]");
        }
    }
    if (o.count <= 0)
        bench_die("hs_inmem: -n must be positive");
    struct server s = {.latch = o.latch};
    server_setup(&s);
    SSL_CTX *ctx = client_context(&o);
    SSL_SESSION *session = NULL, **sessionp = o.resume ? &session : NULL;
    if (sessionp != NULL)
        one_connection(ctx, &s, sessionp);
    for (int i = 0; i < o.warmup; i++)
        one_connection(ctx, &s, sessionp);
    s.cpu_ns = 0;
    int resumed = 0;
    for (int i = 0; i < o.count; i++)
        resumed += one_connection(ctx, &s, sessionp);
    double us = (double)s.cpu_ns / 1e3 / o.count;
    printf("RESULT impl=%s label=%s n=%d server_us_per_op=%.2f ops_per_cpu_s=%.1f resumed=%d\n",
           o.latch ? "latch" : "openssl", o.label, o.count, us, 1e6 / us, resumed);
    if (o.resume && resumed != o.count)
        bench_die("hs_inmem: only %d of %d handshakes resumed", resumed, o.count);
    SSL_SESSION_free(session);
    SSL_CTX_free(ctx);
    latch_config_free(s.config);
    SSL_CTX_free(s.ctx);
    return 0;
}
