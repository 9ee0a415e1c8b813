/*
 * fuzz_client: a latch client, after its ClientHello, fed the input as the
 * server's flights (deterministic random source: the ClientHello, the key
 * shares and everything after are the same on every run, so a recorded
 * server stream replays through Finished and application data).
 *
 * Input: variant(1) || split(1) || server bytes.  variant picks the client
 * configuration (fuzz_common.h).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    fuzz_rng_reset();
    latch_conn *client = latch_conn_new(fuzz_client_config(data[0]), FUZZ_SERVER_NAME);
    if (client == NULL)
        return 0;
    fuzz_drain(client); /* the ClientHello */
    fuzz_feed(client, data + 2, size - 2, data[1]);
    latch_session *session = latch_conn_get_session(client);
    if (session != NULL) {
        uint8_t *bytes;
        size_t len;
        if (latch_session_serialize(session, &bytes, &len) == 0) {
            latch_session *again = latch_session_parse(bytes, len);
            latch_session_free(again);
            free(bytes);
        }
        latch_session_free(session);
    }
    latch_conn_free(client);
    return 0;
}
