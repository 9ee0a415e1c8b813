/* https_get: the smallest latch client.  usage: https_get HOST PORT [PATH [CAFILE]] */
#include <stdio.h>
#include <unistd.h>
#include <latch/latch.h>
#include <latch/net.h>

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5)
        return fprintf(stderr, "usage: https_get HOST PORT [PATH [CAFILE]]\n"), 2;
    const char *host = argv[1], *path = argc > 3 ? argv[3] : "/", *problem = NULL;
    latch_config *config = latch_config_new(LATCH_ROLE_CLIENT); /* verifies by default */
    latch_conn *conn = NULL;
    int fd = -1;
    ssize_t got = 0;
    char buf[16384];
    int n = snprintf(buf, sizeof buf, "GET %.9000s HTTP/1.0\r\nHost: %.255s\r\n\r\n", path, host);
    if (config == NULL || (argc > 4 && latch_config_set_ca(config, argv[4], NULL) != 0))
        problem = config ? latch_config_error(config) : "out of memory";
    else if ((fd = latch_net_connect(host, argv[2])) < 0 || !(conn = latch_conn_new(config, host)))
        problem = "cannot connect";
    else if (latch_blocking_handshake(conn, fd) != 0) /* the alert went out; say why */
        problem = latch_conn_error(conn) ? latch_conn_error_reason(conn) : "connection lost";
    else {
        fprintf(stderr, "https_get: %s %s\n", latch_conn_version(conn) == LATCH_VERSION_TLS13
                ? "TLSv1.3" : "TLSv1.2", latch_conn_cipher_suite_name(conn));
        latch_blocking_write(conn, fd, buf, (size_t)n); /* a failure shows in the read */
        while ((got = latch_blocking_read(conn, fd, buf, sizeof buf)) > 0) /* 0: close_notify */
            fwrite(buf, 1, (size_t)got, stdout);
        latch_blocking_close(conn, fd); /* got -LATCH_ERR_CLOSED: no close_notify, maybe cut */
    }
    fprintf(stderr, "https_get: %s\n", problem ? problem
            : got < 0 ? latch_error_string((latch_error)-got) : "done, close_notify received");
    latch_conn_free(conn); /* NULL is fine, as for latch_config_free */
    latch_config_free(config);
    if (fd >= 0)
        close(fd);
    return problem || got < 0 ? 1 : 0;
}
