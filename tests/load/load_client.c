/* Load with bad actors: N concurrent clients against latch serve, most of
 * them good (handshake + keep-alive requests, answers checked), some sending
 * garbage, some stalling mid-handshake.  One thread, epoll, one sans-I/O
 * latch_conn per socket.  Prints the counts; exits 1 if a good client failed.
 *
 * usage: load_client PORT CAFILE CLIENTS [MALFORMED_PERCENT STALL_PERCENT REQUESTS] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "latch/latch.h"

enum kind { GOOD, MALFORMED, STALL };

typedef struct client {
    int fd;
    enum kind kind;
    latch_conn *tls;
    int requests_left, done, ok, connected;
    char response[4096];
    size_t response_len;
} client;

static const char request[] = "GET /token.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
static const char *expected_body;
static int port;

static int connect_nonblocking(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static void flush_tls(client *c)
{
    size_t len;
    const uint8_t *out = latch_conn_send_buf(c->tls, &len);
    while (len > 0) {
        ssize_t n = send(c->fd, out, len, MSG_NOSIGNAL);
        if (n <= 0)
            return; /* the socket buffer is large enough for these small flights */
        latch_conn_send_done(c->tls, (size_t)n);
        out = latch_conn_send_buf(c->tls, &len);
    }
}

/* A complete response with our body in it ends one request. */
static void check_response(client *c)
{
    char *end = memmem(c->response, c->response_len, "\r\n\r\n", 4);
    const char *length = end ? strcasestr(c->response, "Content-Length:") : NULL;
    if (end == NULL || length == NULL)
        return;
    size_t body = strtoul(length + 15, NULL, 10), head = (size_t)(end + 4 - c->response);
    if (c->response_len < head + body)
        return;
    if (strncmp(c->response, "HTTP/1.1 200", 12) != 0 || body != strlen(expected_body) ||
        memcmp(end + 4, expected_body, body) != 0) {
        c->done = 1;
        return;
    }
    memmove(c->response, c->response + head + body, c->response_len - head - body);
    c->response_len -= head + body;
    if (--c->requests_left == 0) {
        c->ok = 1;
        c->done = 1;
    } else {
        latch_conn_write(c->tls, request, sizeof request - 1);
    }
}

static void on_readable_good(client *c)
{
    for (;;) {
        size_t room;
        uint8_t *in = latch_conn_recv_buf(c->tls, &room);
        if (in == NULL || room == 0)
            break;
        ssize_t n = recv(c->fd, in, room, 0);
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR))
                c->done = 1;
            break;
        }
        int was_ready = latch_conn_status(c->tls) & LATCH_STATUS_READY;
        if (latch_conn_recv_done(c->tls, (size_t)n) != 0)
            c->done = 1;
        if (!was_ready && (latch_conn_status(c->tls) & LATCH_STATUS_READY))
            latch_conn_write(c->tls, request, sizeof request - 1);
        ssize_t got;
        while ((got = latch_conn_read(c->tls, c->response + c->response_len,
                                      sizeof c->response - 1 - c->response_len)) > 0) {
            c->response_len += (size_t)got;
            c->response[c->response_len] = '\0';
            check_response(c);
        }
    }
    flush_tls(c);
}

static void start_client(client *c, latch_config *config, int epoll_fd)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.ptr = c};
    c->fd = connect_nonblocking();
    c->requests_left = 3;
    if (c->fd < 0) {
        c->done = 1;
        return;
    }
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &ev);
    if (c->kind == GOOD)
        c->tls = latch_conn_new(config, "localhost");
}

/* The connection is established: say the first words, then only read. */
static void on_connected(client *c, int epoll_fd)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
    c->connected = 1;
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
    if (c->kind == GOOD) {
        flush_tls(c);
    } else if (c->kind == MALFORMED) { /* a record of an unknown type, then junk */
        static const uint8_t junk[] = {0x99, 0x03, 0x03, 0x00, 0x04, 1, 2, 3, 4, 0x16, 0x03};
        send(c->fd, junk, sizeof junk, MSG_NOSIGNAL);
    } else { /* half a ClientHello header, then silence */
        static const uint8_t half[] = {0x16, 0x03, 0x01, 0x01, 0x00, 0x01, 0x00};
        send(c->fd, half, sizeof half, MSG_NOSIGNAL);
    }
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: load_client PORT CAFILE BODY CLIENTS [MALFORMED%% STALL%%]\n");
        return 2;
    }
    port = atoi(argv[1]);
    expected_body = argv[3];
    int total = atoi(argv[4]), malformed = argc > 5 ? atoi(argv[5]) : 10;
    int stall = argc > 6 ? atoi(argv[6]) : 5;
    latch_config *config = latch_config_new(LATCH_ROLE_CLIENT);
    if (latch_config_set_ca(config, argv[2], NULL) != 0)
        return 2;
    client *clients = calloc((size_t)total, sizeof *clients);
    int epoll_fd = epoll_create1(0);
    for (int i = 0; i < total; i++) {
        int r = i % 100;
        clients[i].kind = r < malformed ? MALFORMED : r < malformed + stall ? STALL : GOOD;
        start_client(&clients[i], config, epoll_fd);
    }
    double deadline = now_seconds() + 60;
    int open_good = 0;
    do {
        struct epoll_event events[256];
        int n = epoll_wait(epoll_fd, events, 256, 200);
        for (int i = 0; i < n; i++) {
            client *c = events[i].data.ptr;
            if (c->done)
                continue;
            if (!c->connected && (events[i].events & EPOLLOUT))
                on_connected(c, epoll_fd);
            if (!(events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
                continue;
            if (c->kind == GOOD) {
                on_readable_good(c);
            } else { /* bad actors: read until the server closes on them */
                char sink[512];
                ssize_t got = recv(c->fd, sink, sizeof sink, 0);
                if (got == 0 || (got < 0 && errno != EAGAIN))
                    c->done = 1;
            }
        }
        open_good = 0;
        for (int i = 0; i < total; i++)
            open_good += clients[i].kind == GOOD && !clients[i].done;
    } while (open_good > 0 && now_seconds() < deadline);
    int good = 0, good_ok = 0, bad = 0, bad_closed = 0, stalled = 0, stalled_closed = 0;
    for (int i = 0; i < total; i++) {
        client *c = &clients[i];
        good += c->kind == GOOD, good_ok += c->kind == GOOD && c->ok;
        bad += c->kind == MALFORMED, bad_closed += c->kind == MALFORMED && c->done;
        stalled += c->kind == STALL, stalled_closed += c->kind == STALL && c->done;
    }
    printf("load: good %d/%d answered correctly; malformed %d/%d closed by the server; "
           "stalling %d/%d closed so far\n", good_ok, good, bad_closed, bad, stalled_closed,
           stalled);
    for (int i = 0; i < total; i++) {
        if (clients[i].fd >= 0)
            close(clients[i].fd);
        latch_conn_free(clients[i].tls);
    }
    free(clients);
    latch_config_free(config);
    return good_ok == good && bad_closed == bad ? 0 : 1;
}
