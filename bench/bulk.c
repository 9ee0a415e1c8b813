/*
 * bulk: bytes over one TLS 1.3 connection, latch<->latch or
 * openssl<->openssl, on 127.0.0.1.  The parent is the server and sends
 * (a download), a forked child is the client and receives; each measures its
 * own CPU time (getrusage) from the end of the handshake to the last byte.
 * Application writes and reads are 16 KiB, as a web server's.
 *
 *   bulk --impl latch|ossl --suite TLS_AES_128_GCM_SHA256 [--mb M] [--pin] [--in-place]
 *
 * --in-place (latch): the receiver takes the plaintext where it was
 * decrypted (latch_blocking_read_buf + latch_conn_read_done, 16 KiB at a
 * time) instead of copying it out with latch_blocking_read.
 *
 * --pin: the sender on CPU 1 and the receiver on CPU 0 (as run.sh pins the
 * servers and the clients), so that neither side pays for migrations.
 *
 * Prints: RESULT impl=.. suite=.. mb=.. sender_cpu_us=.. receiver_cpu_us=..
 *         sender_mb_per_cpu_s=.. receiver_mb_per_cpu_s=.. wall_s=..
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <getopt.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"
#include "latch/latch.h"
#include "latch/net.h"

enum { CHUNK = 16384 };

static const char *cert_file = BENCH_PKI "/server-p256.pem";
static const char *key_file = BENCH_PKI "/server-p256-key.pem";
static const char *ca_file = BENCH_PKI "/ca.pem";

/* One side of the transfer over an established connection. */
struct side {
    int (*write_chunk)(void *tls, int fd, const uint8_t *data, size_t len);
    ssize_t (*read_chunk)(void *tls, int fd, uint8_t *data, size_t len);
    void *tls;
    int fd;
};

/* ---- latch ---- */

static int latch_write_chunk(void *tls, int fd, const uint8_t *data, size_t len)
{
    return latch_blocking_write(tls, fd, data, len) == (ssize_t)len ? 0 : -1;
}

static ssize_t latch_read_chunk(void *tls, int fd, uint8_t *data, size_t len)
{
    return latch_blocking_read(tls, fd, data, len);
}

/* The same amount taken in place: no copy out of the connection. */
static ssize_t latch_read_in_place(void *tls, int fd, uint8_t *data, size_t len)
{
    const uint8_t *plain;
    (void)data;
    ssize_t have = latch_blocking_read_buf(tls, fd, &plain);
    if (have <= 0)
        return have;
    size_t n = (size_t)have < len ? (size_t)have : len;
    latch_conn_read_done(tls, n);
    return (ssize_t)n;
}

static latch_conn *latch_open(int server, int fd, const char *suite)
{
    latch_config *config = latch_config_new(server ? LATCH_ROLE_SERVER : LATCH_ROLE_CLIENT);
    if (config == NULL || latch_config_set_ciphers(config, suite) != 0)
        bench_die("latch config: %s", config ? latch_config_error(config) : "out of memory");
    if (server && latch_config_add_cert_key_files(config, cert_file, key_file) != 0)
        bench_die("latch config: %s", latch_config_error(config));
    if (!server && latch_config_set_ca(config, ca_file, NULL) != 0)
        bench_die("latch config: %s", latch_config_error(config));
    latch_conn *conn = latch_conn_new(config, server ? NULL : "localhost");
    if (conn == NULL || latch_blocking_handshake(conn, fd) != 0)
        bench_die("latch handshake failed: %s", conn ? latch_conn_error_reason(conn) : "");
    return conn; /* the config lives as long as the process */
}

/* ---- OpenSSL ---- */

static int ossl_write_chunk(void *tls, int fd, const uint8_t *data, size_t len)
{
    return SSL_write(tls, data, (int)len) == (int)len ? 0 : -1;
}

static ssize_t ossl_read_chunk(void *tls, int fd, uint8_t *data, size_t len)
{
    int n = SSL_read(tls, data, (int)len);
    return n > 0 ? n : -1;
}

static SSL *ossl_open(int server, int fd, const char *suite)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL)
        bench_die("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    if (SSL_CTX_set_ciphersuites(ctx, suite) != 1)
        bench_die("unknown suite %s", suite);
    if (server && (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
                   SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1))
        bench_die("cannot load the certificate");
    if (!server) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
            bench_die("cannot load the CA");
    }
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 ||
        (!server && SSL_set1_host(ssl, "localhost") != 1) ||
        (server ? SSL_accept(ssl) : SSL_connect(ssl)) != 1) {
        ERR_print_errors_fp(stderr);
        bench_die("OpenSSL handshake failed");
    }
    return ssl;
}

static struct side open_side(const char *impl, int server, int fd, const char *suite)
{
    struct side s = {.fd = fd};
    if (strcmp(impl, "latch") == 0) {
        s.tls = latch_open(server, fd, suite);
        s.write_chunk = latch_write_chunk;
        s.read_chunk = latch_read_chunk;
    } else {
        s.tls = ossl_open(server, fd, suite);
        s.write_chunk = ossl_write_chunk;
        s.read_chunk = ossl_read_chunk;
    }
    return s;
}

/* Client: receive total bytes, report CPU microseconds on the pipe. */
static void run_receiver(const char *impl, const char *suite, int port, uint64_t total,
                         int in_place, int report_fd)
{
    static uint8_t buf[CHUNK];
    int fd = bench_connect(port);
    if (fd < 0)
        bench_die("connect failed");
    struct side s = open_side(impl, 0, fd, suite);
    if (in_place)
        s.read_chunk = latch_read_in_place;
    uint64_t got = 0, cpu = bench_self_cpu_us();
    while (got < total) {
        ssize_t n = s.read_chunk(s.tls, fd, buf, sizeof buf);
        if (n <= 0)
            bench_die("receiver: read failed after %llu bytes", (unsigned long long)got);
        got += (uint64_t)n;
    }
    cpu = bench_self_cpu_us() - cpu;
    bench_report_send(report_fd, cpu);
    /* one byte back: the sender stops only when everything has arrived */
    static const uint8_t done = 1;
    s.write_chunk(s.tls, fd, &done, 1);
    close(fd);
    _exit(0);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {{"impl", required_argument, NULL, 'i'},
                                            {"suite", required_argument, NULL, 's'},
                                            {"mb", required_argument, NULL, 'm'},
                                            {"pin", no_argument, NULL, 'p'},
                                            {"in-place", no_argument, NULL, 'n'},
                                            {NULL, 0, NULL, 0}};
    const char *impl = "latch", *suite = "TLS_AES_128_GCM_SHA256";
    int mb = 256, option, pin = 0, in_place = 0;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (option) {
        case 'i': impl = optarg; break;
        case 's': suite = optarg; break;
        case 'm': mb = atoi(optarg); break;
        case 'p': pin = 1; break;
        case 'n': in_place = 1; break;
        default:
            bench_die("usage: bulk --impl latch|ossl --suite NAME [--mb M] [--pin] [--in-place]");
        }
    }
    if (mb <= 0 || (strcmp(impl, "latch") != 0 && strcmp(impl, "ossl") != 0))
        bench_die("bulk: --impl latch|ossl and a positive --mb");
    if (in_place && strcmp(impl, "latch") != 0)
        bench_die("bulk: --in-place is a latch API (OpenSSL has no zero-copy SSL_read)");
    signal(SIGPIPE, SIG_IGN);
    uint64_t total = (uint64_t)mb * 1000000u;
    int port = 0, listen_fd = bench_listen(0, &port), report;
    if (listen_fd < 0)
        bench_die("setup failed");
    pid_t child = bench_fork_reporting(&report);
    if (child == 0) {
        if (pin)
            bench_pin_cpu(0);
        close(listen_fd);
        run_receiver(impl, suite, port, total, in_place, report);
    }
    if (pin)
        bench_pin_cpu(1);
    int fd = accept(listen_fd, NULL, NULL);
    if (fd < 0)
        bench_die("accept failed");
    bench_nodelay(fd);
    struct side s = open_side(impl, 1, fd, suite);
    static uint8_t data[CHUNK];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 131u);
    uint64_t sent = 0, cpu = bench_self_cpu_us(), wall = bench_now_ns();
    while (sent < total) {
        size_t n = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
        if (s.write_chunk(s.tls, fd, data, n) != 0)
            bench_die("sender: write failed");
        sent += n;
    }
    cpu = bench_self_cpu_us() - cpu;
    uint8_t ack;
    if (s.read_chunk(s.tls, fd, &ack, 1) != 1)
        bench_die("sender: no acknowledgement");
    wall = bench_now_ns() - wall;
    uint64_t receiver_cpu = bench_report_receive(report);
    int status = 0;
    waitpid(child, &status, 0);
    double mbytes = (double)total / 1e6;
    printf("RESULT impl=%s%s suite=%s mb=%d sender_cpu_us=%llu receiver_cpu_us=%llu "
           "sender_mb_per_cpu_s=%.1f receiver_mb_per_cpu_s=%.1f wall_s=%.3f\n",
           impl, in_place ? "-in-place" : "", suite, mb, (unsigned long long)cpu,
           (unsigned long long)receiver_cpu,
           mbytes / ((double)cpu / 1e6), mbytes / ((double)receiver_cpu / 1e6),
           (double)wall / 1e9);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
