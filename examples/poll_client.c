/*
 * poll_client: a non-blocking HTTPS client driven by poll(), using the
 * sans-I/O calls directly (no blocking helpers).
 *
 *   usage: poll_client HOST PORT [PATH [CAFILE]]
 *
 * The whole program is one loop:
 *
 *   status = latch_conn_status(conn)
 *   HAS_APP   -> latch_conn_read() the plaintext
 *   READY     -> latch_conn_write() the request (once)
 *   HAS_SEND  -> wait for POLLOUT, send() from latch_conn_send_buf(), latch_conn_send_done()
 *   WANT_RECV -> wait for POLLIN, recv() into latch_conn_recv_buf(), latch_conn_recv_done()
 *   CLOSED    -> latch_conn_close() (our close_notify), flush, stop
 *   FAILED    -> flush the alert, stop
 *
 * The body goes to stdout; a summary line goes to stderr.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <latch/latch.h>

enum { TIMEOUT_MS = 10000 };

/* Non-blocking TCP connect: returns the socket (connect may be in progress). */
static int start_connect(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list, *ai;
    int error = getaddrinfo(host, port, &hints, &list);
    if (error != 0) {
        fprintf(stderr, "poll_client: %s: %s\n", host, gai_strerror(error));
        return -1;
    }
    int fd = -1;
    for (ai = list; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) {
            /* Wait for the connect to finish: writable, then check SO_ERROR. */
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            int so_error = 0;
            socklen_t len = sizeof so_error;
            if (poll(&p, 1, TIMEOUT_MS) == 1 &&
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) == 0 && so_error == 0)
                break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(list);
    if (fd < 0)
        fprintf(stderr, "poll_client: cannot connect to %s port %s\n", host, port);
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: poll_client HOST PORT [PATH [CAFILE]]\n");
        return 2;
    }
    const char *host = argv[1], *port = argv[2], *path = argc > 3 ? argv[3] : "/";

    latch_config *config = latch_config_new(LATCH_ROLE_CLIENT);
    if (config == NULL || (argc > 4 && latch_config_set_ca(config, argv[4], NULL) != 0)) {
        fprintf(stderr, "poll_client: %s\n", config ? latch_config_error(config) : "out of memory");
        return 1;
    }
    int fd = start_connect(host, port);
    if (fd < 0)
        return 1;
    latch_conn *conn = latch_conn_new(config, host);
    if (conn == NULL)
        return 1;

    char request[1024];
    int request_len = snprintf(request, sizeof request,
                               "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host);
    if (request_len < 0 || (size_t)request_len >= sizeof request)
        return 1;
    int request_sent = 0, close_sent = 0, peer_hung_up = 0;
    size_t body_bytes = 0;
    unsigned polls = 0;
    const char *problem = NULL;

    for (;;) {
        unsigned status = latch_conn_status(conn);

        /* 1. Plaintext first: drain everything the engine decrypted. */
        if (status & LATCH_STATUS_HAS_APP) {
            char buf[16384];
            ssize_t got = latch_conn_read(conn, buf, sizeof buf);
            if (got > 0) {
                fwrite(buf, 1, (size_t)got, stdout);
                body_bytes += (size_t)got;
            }
            continue;
        }
        /* 2. Handshake done: queue the request (the engine encrypts it into
         *    the send buffer; step 5 puts it on the wire). */
        if ((status & LATCH_STATUS_READY) && !request_sent) {
            if (latch_conn_write(conn, request, (size_t)request_len) != request_len) {
                problem = "cannot queue the request";
                break;
            }
            request_sent = 1;
            continue;
        }
        /* 3. The peer's close_notify: answer with ours (flushed below). */
        if ((status & LATCH_STATUS_CLOSED) && !close_sent) {
            latch_conn_close(conn);
            close_sent = 1;
            continue;
        }
        if (peer_hung_up && !(status & LATCH_STATUS_READY)) {
            problem = "peer hung up during the handshake";
            break;
        }
        /* 4. Finished?  FAILED may still have an alert to send: flush it first. */
        int finished = (status & (LATCH_STATUS_CLOSED | LATCH_STATUS_FAILED)) || peer_hung_up;
        if (finished && !(status & LATCH_STATUS_HAS_SEND))
            break;

        /* 5. Wait for what the engine wants. */
        struct pollfd p = {.fd = fd, .events = 0};
        if (status & LATCH_STATUS_HAS_SEND)
            p.events |= POLLOUT;
        if ((status & LATCH_STATUS_WANT_RECV) && !finished)
            p.events |= POLLIN;
        if (p.events == 0) {
            problem = "engine neither waiting nor done";
            break;
        }
        polls++;
        int ready = poll(&p, 1, TIMEOUT_MS);
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0) {
            problem = ready == 0 ? "timed out" : "poll failed";
            break;
        }
        if (p.revents & POLLOUT) {
            size_t pending;
            const uint8_t *wire = latch_conn_send_buf(conn, &pending);
            ssize_t sent = send(fd, wire, pending, MSG_NOSIGNAL);
            if (sent > 0)
                latch_conn_send_done(conn, (size_t)sent);
            else if (errno != EAGAIN && errno != EINTR) {
                problem = "send failed";
                break;
            }
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            size_t room;
            uint8_t *space = latch_conn_recv_buf(conn, &room);
            ssize_t got = recv(fd, space, room, 0);
            if (got > 0)
                (void)latch_conn_recv_done(conn, (size_t)got); /* errors show in the status */
            else if (got == 0)
                peer_hung_up = 1; /* TCP FIN; after a close_notify that is normal */
            else if (errno != EAGAIN && errno != EINTR) {
                problem = "recv failed";
                break;
            }
        }
    }

    unsigned status = latch_conn_status(conn);
    int ok = problem == NULL && !(status & LATCH_STATUS_FAILED) && request_sent;
    if (status & LATCH_STATUS_FAILED) {
        int sent = 0, alert = latch_conn_alert(conn, &sent);
        fprintf(stderr, "poll_client: failed: %s", latch_conn_error_reason(conn));
        if (alert >= 0)
            fprintf(stderr, " (alert %s %s)", latch_alert_name(alert), sent ? "sent" : "received");
        fprintf(stderr, "\n");
    } else if (problem != NULL) {
        fprintf(stderr, "poll_client: %s\n", problem);
    } else {
        fprintf(stderr, "poll_client: %s %s %s, %zu bytes received, %u polls, %s\n",
                latch_conn_version(conn) == LATCH_VERSION_TLS13 ? "TLSv1.3" : "TLSv1.2",
                latch_conn_cipher_suite_name(conn), latch_conn_group_name(conn), body_bytes, polls,
                (status & LATCH_STATUS_CLOSED) ? "close_notify received" : "peer hung up");
    }
    latch_conn_free(conn);
    latch_config_free(config);
    close(fd);
    return ok ? 0 : 1;
}
