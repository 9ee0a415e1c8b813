/*
 * echo_server: a blocking TLS echo server, one connection at a time.
 *
 *   usage: echo_server ADDR:PORT CERT KEY [CONNECTIONS]
 *
 * Every byte a client sends comes back.  A line "bye" makes the server send
 * close_notify and hang up; so does the client's own close_notify.  With
 * CONNECTIONS the server exits after that many clients (handy in tests).
 *
 * Try it:  echo_server 127.0.0.1:8443 cert.pem key.pem &
 *          openssl s_client -connect 127.0.0.1:8443 -quiet
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <latch/latch.h>
#include <latch/net.h>

static const char *version_name(uint16_t version)
{
    return version == LATCH_VERSION_TLS13 ? "TLSv1.3" : version == LATCH_VERSION_TLS12 ? "TLSv1.2" : "?";
}

/* Does this chunk contain a line that is exactly "bye"? (Good enough for a
 * demo: a line split across two reads is not recognised.) */
static int says_bye(const char *data, size_t len)
{
    for (size_t i = 0; i + 3 <= len; i++) {
        int line_start = i == 0 || data[i - 1] == '\n';
        if (line_start && memcmp(data + i, "bye", 3) == 0 &&
            (i + 3 == len || data[i + 3] == '\n' || data[i + 3] == '\r'))
            return 1;
    }
    return 0;
}

/* One client, start to finish.  The connection owns no socket: fd is ours. */
static void serve_one(latch_config *config, int fd, unsigned number)
{
    latch_conn *conn = latch_conn_new(config, NULL);
    if (conn == NULL) {
        fprintf(stderr, "echo_server: out of memory\n");
        return;
    }
    int error = latch_blocking_handshake(conn, fd);
    if (error != 0) {
        int sent = 0, alert = latch_conn_alert(conn, &sent);
        printf("echo_server: connection %u: handshake failed: %s", number,
               latch_conn_error(conn) != LATCH_OK ? latch_conn_error_reason(conn)
                                                   : latch_error_string((latch_error)error));
        if (alert >= 0)
            printf(" (alert %s %s)", latch_alert_name(alert), sent ? "sent" : "received");
        printf("\n");
        latch_conn_free(conn);
        return;
    }
    printf("echo_server: connection %u: %s %s %s\n", number, version_name(latch_conn_version(conn)),
           latch_conn_cipher_suite_name(conn), latch_conn_group_name(conn));

    char buf[16384];
    size_t echoed = 0;
    const char *how = "client sent close_notify";
    for (;;) {
        ssize_t got = latch_blocking_read(conn, fd, buf, sizeof buf);
        if (got == 0)
            break; /* close_notify: answer with ours below */
        if (got < 0) {
            how = got == -LATCH_ERR_CLOSED ? "client hung up without close_notify"
                                           : latch_error_string((latch_error)-got);
            break;
        }
        if (latch_blocking_write(conn, fd, buf, (size_t)got) < 0) {
            how = "write failed";
            break;
        }
        echoed += (size_t)got;
        if (says_bye(buf, (size_t)got)) {
            how = "client said bye";
            break;
        }
    }
    latch_blocking_close(conn, fd); /* our close_notify */
    printf("echo_server: connection %u: closed (%s), %zu bytes echoed\n", number, how, echoed);
    latch_conn_free(conn);
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: echo_server ADDR:PORT CERT KEY [CONNECTIONS]\n");
        return 2;
    }
    unsigned long limit = argc > 4 ? strtoul(argv[4], NULL, 10) : 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN); /* the helpers use MSG_NOSIGNAL; this covers everything else */

    /* One configuration for every connection: build it, then only read it. */
    latch_config *config = latch_config_new(LATCH_ROLE_SERVER);
    if (config == NULL || latch_config_add_cert_key_files(config, argv[2], argv[3]) != 0) {
        fprintf(stderr, "echo_server: %s\n", config ? latch_config_error(config) : "out of memory");
        return 1;
    }
    int listener = latch_net_listen(argv[1], 16);
    if (listener < 0) {
        perror("echo_server: listen");
        return 1;
    }
    printf("echo_server: listening on %s\n", argv[1]);

    unsigned number = 0;
    while (limit == 0 || number < limit) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0) {
            perror("echo_server: accept");
            continue;
        }
        serve_one(config, fd, ++number);
        close(fd);
    }
    close(listener);
    latch_config_free(config);
    return 0;
}
