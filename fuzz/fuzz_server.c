/*
 * fuzz_server: a fresh latch server fed the input as the client's bytes.
 *
 * Input: split(1) || client bytes.  split decides where the bytes are cut
 * before they go in (fuzz_feed), so reassembly across records and reads is
 * fuzzed too.  The server is deterministic (fuzz_common.h): a recorded client
 * stream (fuzz/corpus/fuzz_server) replays a whole handshake, application
 * data and close_notify.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_rng_reset();
    latch_conn *server = latch_conn_new(fuzz_server_config(), NULL);
    if (server == NULL)
        return 0;
    fuzz_feed(server, data + 1, size - 1, data[0]);
    (void)latch_conn_status(server);
    (void)latch_conn_alert(server, NULL);
    latch_conn_free(server);
    return 0;
}
