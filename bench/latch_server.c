/*
 * latch_server: the latch twin of ossl_server, on the public latch API and
 * its blocking helpers.  One thread, blocking sockets, one connection at a
 * time:
 *   accept -> handshake -> read one request -> write a 64-byte reply ->
 *   read until the client's close_notify -> free.
 * With --hold the connection is kept open after the reply instead.
 *
 *   latch_server [--port P] [--cert F --key F]... [--no-tickets] [--no-cache] [--hold]
 *
 * Prints "port=N" on stdout when listening; SIGUSR1 prints its CPU time.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "latch/latch.h"
#include "latch/net.h"

enum { MAX_CERTS = 4 };

static volatile uint64_t connections;

struct held {
    latch_conn *conn;
    int fd;
};

static latch_config *make_config(const char **certs, const char **keys, int count, int tickets,
                                 int cache)
{
    latch_config *config = latch_config_new(LATCH_ROLE_SERVER);
    if (config == NULL)
        bench_die("latch_config_new failed");
    if (latch_config_set_ciphers(config, BENCH_LATCH_SUITES) != 0)
        bench_die("%s", latch_config_error(config));
    for (int i = 0; i < count; i++)
        if (latch_config_add_cert_key_files(config, certs[i], keys[i]) != 0)
            bench_die("%s", latch_config_error(config));
    if (!tickets && latch_config_set_tickets(config, 0, 0) != 0)
        bench_die("%s", latch_config_error(config));
    if (!cache && latch_config_set_session_cache(config, 0, 0) != 0)
        bench_die("%s", latch_config_error(config));
    return config;
}

/* Handshake, one request, one reply.  Returns 0 if the connection is alive. */
static int serve_one(latch_conn *conn, int fd)
{
    static const char reply[64] = "pong: latch bench reply, sixty-four bytes long .............\n";
    char buf[1024];
    if (latch_blocking_handshake(conn, fd) != 0)
        return -1;
    if (latch_blocking_read(conn, fd, buf, sizeof buf) <= 0)
        return -1;
    if (latch_blocking_write(conn, fd, reply, sizeof reply) != (ssize_t)sizeof reply)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"port", required_argument, NULL, 'p'}, {"cert", required_argument, NULL, 'c'},
        {"key", required_argument, NULL, 'k'},  {"no-tickets", no_argument, NULL, 't'},
        {"no-cache", no_argument, NULL, 's'},   {"hold", no_argument, NULL, 'H'},
        {"exit-after", required_argument, NULL, 'x'},
        {NULL, 0, NULL, 0}};
    const char *certs[MAX_CERTS], *keys[MAX_CERTS];
    int cert_count = 0, key_count = 0, port = 0, tickets = 1, cache = 1, hold = 0, option;
    long exit_after = 0;
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
        default: bench_die("usage: latch_server [--port P] [--cert F --key F]... [--no-tickets] "
                           "[--no-cache] [--hold] [--exit-after N]");
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
    latch_config *config = make_config(certs, keys, cert_count, tickets, cache);
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
        latch_conn *conn = latch_conn_new(config, NULL);
        if (conn == NULL) {
            close(fd);
            continue;
        }
        int alive = serve_one(conn, fd) == 0;
        if (alive && hold) {
            if (held_count == held_cap) {
                held_cap = held_cap ? 2 * held_cap : 1024;
                held = realloc(held, held_cap * sizeof *held);
                if (held == NULL)
                    bench_die("out of memory");
            }
            held[held_count++] = (struct held){conn, fd};
            continue;
        }
        if (alive) {
            char buf[256];
            while (latch_blocking_read(conn, fd, buf, sizeof buf) > 0) {
            }
        }
        latch_conn_free(conn);
        close(fd);
    }
    for (size_t i = 0; i < held_count; i++) {
        latch_conn_free(held[i].conn);
        close(held[i].fd);
    }
    free(held);
    latch_config_free(config);
    close(listen_fd);
    return 0;
}
