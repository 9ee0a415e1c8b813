/* An out-of-tree program built against an installed latch (tests/install):
 * one TLS handshake, then it prints what was negotiated.
 *
 *   usage: consumer HOST PORT CAFILE  ->  "consumer: TLSv1.3 TLS_AES_128_GCM_SHA256 x25519"
 */
#include <stdio.h>
#include <unistd.h>

#include <latch/latch.h>
#include <latch/net.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: consumer HOST PORT CAFILE\n");
        return 2;
    }
    latch_config *config = latch_config_new(LATCH_ROLE_CLIENT);
    if (config == NULL || latch_config_set_ca(config, argv[3], NULL) != 0) {
        fprintf(stderr, "consumer: %s\n", config ? latch_config_error(config) : "out of memory");
        return 1;
    }
    int fd = latch_net_connect(argv[1], argv[2]);
    if (fd < 0) {
        perror("consumer: connect");
        return 1;
    }
    latch_conn *conn = latch_conn_new(config, argv[1]);
    int error = conn ? latch_blocking_handshake(conn, fd) : LATCH_ERR_INTERNAL;
    if (error != 0) {
        fprintf(stderr, "consumer: handshake failed: %s\n",
                conn ? latch_conn_error_reason(conn) : latch_error_string((latch_error)error));
        return 1;
    }
    uint16_t version = latch_conn_version(conn);
    printf("consumer: %s %s %s\n",
           version == LATCH_VERSION_TLS13 ? "TLSv1.3" : version == LATCH_VERSION_TLS12 ? "TLSv1.2" : "?",
           latch_conn_cipher_suite_name(conn), latch_conn_group_name(conn));
    latch_blocking_close(conn, fd);
    latch_conn_free(conn);
    latch_config_free(config);
    close(fd);
    return 0;
}
