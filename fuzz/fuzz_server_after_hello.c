/*
 * fuzz_server_after_hello: a latch server that has already read a valid
 * ClientHello, written by a real latch client with the deterministic random
 * source; then the input as the client's next bytes.
 *
 * Input: variant(1) || split(1) || client bytes after the first ClientHello.
 * variant picks the client configuration (fuzz_common.h: TLS 1.3, TLS 1.2
 * ECDHE, TLS 1.2 RSA key exchange, 1.3 with HelloRetryRequest, ChaCha20).
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t hello_len;
    if (size < 2)
        return 0;
    fuzz_rng_reset();
    latch_conn *client = latch_conn_new(fuzz_client_config(data[0]), FUZZ_SERVER_NAME);
    latch_conn *server = latch_conn_new(fuzz_server_config(), NULL);
    if (client != NULL && server != NULL) {
        const uint8_t *hello = latch_conn_send_buf(client, &hello_len);
        fuzz_feed(server, hello, hello_len, 0);
        latch_conn_send_done(client, hello_len);
        fuzz_feed(server, data + 2, size - 2, data[1]);
    }
    latch_conn_free(client);
    latch_conn_free(server);
    return 0;
}
