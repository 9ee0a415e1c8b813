/*
 * libevent_server: the latch engine inside a foreign event loop (libevent).
 *
 *   usage: libevent_server ADDR:PORT CERT KEY
 *
 * A tiny HTTPS server: for every request it answers
 * "hello from latch on libevent: connection N, path P, VERSION SUITE" and
 * closes the connection (close_notify).  SIGINT/SIGTERM stop it cleanly.
 *
 * The engine never sees a socket and has no loop of its own, so it fits any
 * loop the same way.  Each connection is one socket event; after every
 * callback we ask latch_conn_status() what the engine wants and re-arm:
 *
 *   readable  -> recv() into latch_conn_recv_buf(), latch_conn_recv_done()
 *   HAS_APP   -> latch_conn_read() the request; answer with latch_conn_write()
 *   HAS_SEND  -> send() from latch_conn_send_buf(), latch_conn_send_done();
 *                what the kernel does not take now waits for EV_WRITE
 *   WANT_RECV -> keep EV_READ armed
 *   FAILED    -> flush the alert the engine queued, then close
 *
 * Nothing blocks: a slow client costs one event and one latch_conn.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include <latch/latch.h>
#include <latch/net.h>

enum { REQUEST_MAX = 8192, IDLE_SECONDS = 10 };

struct server {
    struct event_base *base;
    latch_config *config; /* shared by every connection, read-only once they exist */
    struct client *clients;
    unsigned accepted, served, failed;
};

struct client {
    struct server *server;
    struct client *next;
    latch_conn *conn;
    evutil_socket_t fd;
    struct event *io;
    short armed; /* EV_READ / EV_WRITE currently registered */
    unsigned number;
    int announced, responded, reported;
    size_t request_len;
    char request[REQUEST_MAX + 1];
};

static const char *version_name(uint16_t version)
{
    return version == LATCH_VERSION_TLS13 ? "TLSv1.3" : version == LATCH_VERSION_TLS12 ? "TLSv1.2" : "?";
}

static void client_free(struct client *c)
{
    struct client **link = &c->server->clients;
    while (*link != c)
        link = &(*link)->next;
    *link = c->next;
    event_free(c->io);
    latch_conn_free(c->conn);
    evutil_closesocket(c->fd);
    free(c);
}

static void report_failure(struct client *c, const char *why)
{
    if (c->reported)
        return;
    c->reported = 1;
    c->server->failed++;
    if (latch_conn_status(c->conn) & LATCH_STATUS_FAILED) {
        int sent = 0, alert = latch_conn_alert(c->conn, &sent);
        printf("libevent_server: connection %u: %s failed: %s", c->number,
               c->announced ? "connection" : "handshake", latch_conn_error_reason(c->conn));
        if (alert >= 0)
            printf(" (alert %s %s)", latch_alert_name(alert), sent ? "sent" : "received");
        printf("\n");
    } else {
        printf("libevent_server: connection %u: %s\n", c->number, why);
    }
}

/* Put as many pending wire bytes on the socket as it takes now. */
static int flush_some(struct client *c)
{
    for (;;) {
        size_t pending = 0;
        const uint8_t *wire = latch_conn_send_buf(c->conn, &pending);
        if (pending == 0)
            return 0;
        ssize_t sent = send(c->fd, wire, pending, MSG_NOSIGNAL);
        if (sent > 0) {
            latch_conn_send_done(c->conn, (size_t)sent);
            continue;
        }
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0; /* the rest waits for EV_WRITE */
        return -1;
    }
}

/* Plaintext in; one response out once the request head is complete. */
static void handle_plaintext(struct client *c)
{
    if (!c->announced && (latch_conn_status(c->conn) & LATCH_STATUS_READY)) {
        c->announced = 1;
        printf("libevent_server: connection %u: %s %s %s\n", c->number,
               version_name(latch_conn_version(c->conn)), latch_conn_cipher_suite_name(c->conn),
               latch_conn_group_name(c->conn));
    }
    while (latch_conn_status(c->conn) & LATCH_STATUS_HAS_APP) {
        char scratch[4096];
        size_t room = REQUEST_MAX - c->request_len;
        char *into = room > 0 ? c->request + c->request_len : scratch; /* excess is dropped */
        ssize_t got = latch_conn_read(c->conn, into, room > 0 ? room : sizeof scratch);
        if (got <= 0)
            break;
        if (room > 0)
            c->request_len += (size_t)got;
    }
    c->request[c->request_len] = '\0';
    if (c->responded || strstr(c->request, "\r\n\r\n") == NULL)
        return;

    char path[256] = "?";
    sscanf(c->request, "%*s %255s", path);
    char body[512], response[1024];
    int body_len = snprintf(body, sizeof body,
                            "hello from latch on libevent: connection %u, path %s, %s %s\n", c->number,
                            path, version_name(latch_conn_version(c->conn)),
                            latch_conn_cipher_suite_name(c->conn));
    int len = snprintf(response, sizeof response,
                       "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                       "Connection: close\r\n\r\n%s",
                       body_len, body);
    c->responded = 1;
    if (latch_conn_write(c->conn, response, (size_t)len) == len) {
        latch_conn_close(c->conn); /* close_notify right behind the response */
        c->server->served++;
        printf("libevent_server: connection %u: GET %s -> 200\n", c->number, path);
    }
}

static void on_io(evutil_socket_t fd, short what, void *arg);

/* Register exactly the events the engine needs now; or finish the client. */
static void rearm_or_finish(struct client *c)
{
    unsigned status = latch_conn_status(c->conn);
    int has_send = (status & LATCH_STATUS_HAS_SEND) != 0;
    /* Done: the response and close_notify went out, the peer closed, or the
     * engine failed; in each case only once the last bytes (an alert, our
     * close_notify) are on the wire. */
    int done = c->responded || (status & (LATCH_STATUS_CLOSED | LATCH_STATUS_FAILED));
    if (done && !has_send) {
        if (status & LATCH_STATUS_FAILED)
            report_failure(c, "failed");
        else if (!c->responded)
            report_failure(c, "peer closed before sending a request");
        client_free(c);
        return;
    }
    short want = 0;
    if ((status & LATCH_STATUS_WANT_RECV) && !done)
        want |= EV_READ;
    if (has_send)
        want |= EV_WRITE;
    if (want != c->armed) {
        struct timeval idle = {IDLE_SECONDS, 0};
        event_del(c->io);
        event_assign(c->io, c->server->base, c->fd, want | EV_PERSIST, on_io, c);
        event_add(c->io, &idle);
        c->armed = want;
    }
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
    struct client *c = arg;
    if (what & EV_TIMEOUT) {
        report_failure(c, "idle timeout");
        client_free(c);
        return;
    }
    size_t room = 0;
    uint8_t *space = latch_conn_recv_buf(c->conn, &room); /* room 0: failed or closed */
    if ((what & EV_READ) && room > 0) {
        ssize_t got = recv(fd, space, room, 0);
        if (got > 0) {
            (void)latch_conn_recv_done(c->conn, (size_t)got); /* failure shows in the status */
        } else if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            report_failure(c, got == 0 ? "peer hung up" : "recv failed");
            client_free(c);
            return;
        }
    }
    handle_plaintext(c);
    /* Optimistic write: most of the time the socket takes everything now and
     * EV_WRITE is never armed. */
    if (flush_some(c) != 0) {
        report_failure(c, "send failed");
        client_free(c);
        return;
    }
    rearm_or_finish(c);
}

static void on_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *address,
                      int address_len, void *arg)
{
    struct server *server = arg;
    struct client *c = calloc(1, sizeof *c);
    latch_conn *conn = c ? latch_conn_new(server->config, NULL) : NULL;
    struct event *io = conn ? event_new(server->base, fd, 0, on_io, c) : NULL;
    if (io == NULL) {
        latch_conn_free(conn);
        free(c);
        evutil_closesocket(fd);
        return;
    }
    c->server = server;
    c->conn = conn;
    c->fd = fd; /* libevent made it non-blocking */
    c->io = io;
    c->armed = -1; /* force the first registration */
    c->number = ++server->accepted;
    c->next = server->clients;
    server->clients = c;
    rearm_or_finish(c); /* a new server connection wants to read the ClientHello */
}

static void on_signal(evutil_socket_t signal_number, short what, void *arg)
{
    event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: libevent_server ADDR:PORT CERT KEY\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);

    struct server server = {0};
    server.config = latch_config_new(LATCH_ROLE_SERVER);
    if (server.config == NULL ||
        latch_config_add_cert_key_files(server.config, argv[2], argv[3]) != 0) {
        fprintf(stderr, "libevent_server: %s\n",
                server.config ? latch_config_error(server.config) : "out of memory");
        return 1;
    }
    server.base = event_base_new();
    int fd = latch_net_listen(argv[1], 64);
    if (server.base == NULL || fd < 0) {
        perror("libevent_server: listen");
        return 1;
    }
    evutil_make_socket_nonblocking(fd);
    struct evconnlistener *listener =
        evconnlistener_new(server.base, on_accept, &server, LEV_OPT_CLOSE_ON_FREE, -1, fd);
    struct event *sigint = evsignal_new(server.base, SIGINT, on_signal, server.base);
    struct event *sigterm = evsignal_new(server.base, SIGTERM, on_signal, server.base);
    if (listener == NULL || sigint == NULL || sigterm == NULL) {
        fprintf(stderr, "libevent_server: cannot set up the event loop\n");
        return 1;
    }
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    printf("libevent_server: listening on %s (libevent %s, backend %s)\n", argv[1],
           event_get_version(), event_base_get_method(server.base));

    event_base_dispatch(server.base);

    printf("libevent_server: stopping: %u connections, %u served, %u failed\n", server.accepted,
           server.served, server.failed);
    while (server.clients != NULL)
        client_free(server.clients);
    evconnlistener_free(listener);
    event_free(sigint);
    event_free(sigterm);
    event_base_free(server.base);
    latch_config_free(server.config);
    return 0;
}
