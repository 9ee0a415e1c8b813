/*
 * tcp_floor: what the kernel alone costs a server per connection, with the
 * exchange of a bench handshake but no TLS: the client connects, sends 250
 * bytes (a ClientHello), reads 150 (the server's flight), sends 110 (its
 * Finished and the request), reads 90 (the reply), sends 30 (close_notify)
 * and closes; the server accepts, reads and writes those amounts, reads to
 * EOF and closes, like latch_server and ossl_server do.  The server's CPU
 * per connection (getrusage, user + system) is the floor under every TLS
 * server's figure in the handshake rows: accept, TCP, loopback delivery,
 * wakeups and close.
 *
 *   tcp_floor [-n N] [--pin]      (server on CPU 1, client on CPU 0)
 *
 * Prints: RESULT kind=tcp_floor n=N server_us_per_conn=.. conns_per_cpu_s=..
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

enum { WARMUP = 50 };

static const size_t exchange[5] = {250, 150, 110, 90, 30}; /* c, s, c, s, c */

static int read_exactly(int fd, uint8_t *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
    return write(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

/* The server: one connection at a time; reports its CPU for the measured ones. */
static void serve(int listen_fd, int n, int report_fd)
{
    static uint8_t buf[4096];
    uint64_t cpu = 0;
    for (int i = 0; i < WARMUP + n; i++) {
        if (i == WARMUP)
            cpu = bench_self_cpu_us();
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0)
            bench_die("accept failed");
        bench_nodelay(fd);
        if (read_exactly(fd, buf, exchange[0]) != 0 || write_all(fd, buf, exchange[1]) != 0 ||
            read_exactly(fd, buf, exchange[2]) != 0 || write_all(fd, buf, exchange[3]) != 0)
            bench_die("server: exchange failed");
        while (read(fd, buf, sizeof buf) > 0) { /* the 30 bytes, then EOF */
        }
        close(fd);
    }
    cpu = bench_self_cpu_us() - cpu;
    bench_report_send(report_fd, cpu);
    _exit(0);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {{"pin", no_argument, NULL, 'p'},
                                            {NULL, 0, NULL, 0}};
    int n = 2000, pin = 0, option;
    while ((option = getopt_long(argc, argv, "n:", options, NULL)) != -1) {
        switch (option) {
        case 'n': n = atoi(optarg); break;
        case 'p': pin = 1; break;
        default: bench_die("usage: tcp_floor [-n N] [--pin]");
        }
    }
    if (n <= 0)
        bench_die("tcp_floor: -n must be positive");
    int port = 0, listen_fd = bench_listen(0, &port), report;
    if (listen_fd < 0)
        bench_die("setup failed");
    pid_t child = bench_fork_reporting(&report);
    if (child == 0) {
        if (pin)
            bench_pin_cpu(1);
        serve(listen_fd, n, report);
    }
    close(listen_fd);
    if (pin)
        bench_pin_cpu(0);
    static uint8_t buf[4096];
    for (int i = 0; i < WARMUP + n; i++) {
        int fd = bench_connect(port);
        if (fd < 0 || write_all(fd, buf, exchange[0]) != 0 ||
            read_exactly(fd, buf, exchange[1]) != 0 || write_all(fd, buf, exchange[2]) != 0 ||
            read_exactly(fd, buf, exchange[3]) != 0 || write_all(fd, buf, exchange[4]) != 0)
            bench_die("client: exchange failed");
        close(fd);
    }
    uint64_t cpu = bench_report_receive(report);
    int status = 0;
    waitpid(child, &status, 0);
    printf("RESULT kind=tcp_floor n=%d server_us_per_conn=%.2f conns_per_cpu_s=%.0f\n", n,
           (double)cpu / n, cpu > 0 ? n / ((double)cpu / 1e6) : 0.0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
