/* Flow control in memory: a reader that does not read stops taking bytes
 * once 256 KiB of plaintext wait (latch_conn_recv_buf gives room 0, no
 * LATCH_STATUS_WANT_RECV); the writer's bytes wait in its send buffer, and
 * everything arrives in order once the reader reads. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pair.h"

enum { TOTAL = 1 << 20, CHUNK = 16384, LIMIT = 256 * 1024, ONE_BUFFER = 16384 + 2048 };

static void test_reader_stops_taking(uint16_t version)
{
    pair p;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_versions(p.client_config, version, version) == 0);
    CHECK(pair_connect(&p, "localhost") == 0 && pair_handshake(&p) == 0);
    uint8_t *data = malloc(TOTAL), *got = malloc(TOTAL);
    for (size_t i = 0; i < TOTAL; i++)
        data[i] = (uint8_t)(i * 7 + i / 251);
    for (size_t off = 0; off < TOTAL; off += CHUNK)
        CHECK(latch_conn_write(p.server, data + off, CHUNK) == CHUNK);
    pair_pump(&p);

    /* the client took what the limit allows and no more */
    unsigned status = latch_conn_status(p.client);
    CHECK(status & LATCH_STATUS_HAS_APP);
    CHECK(!(status & LATCH_STATUS_WANT_RECV));
    size_t room = 1;
    (void)latch_conn_recv_buf(p.client, &room);
    CHECK_EQ_INT(room, 0);
    CHECK(latch_conn_status(p.server) & LATCH_STATUS_HAS_SEND); /* the rest waits there */
    size_t have = 0;
    ssize_t n;
    while ((n = latch_conn_read(p.client, got + have, TOTAL - have)) > 0)
        have += (size_t)n;
    CHECK(have >= LIMIT && have <= LIMIT + ONE_BUFFER);
    CHECK(latch_conn_status(p.client) & LATCH_STATUS_WANT_RECV); /* read: takes bytes again */

    /* reading and pumping, the whole megabyte arrives in order */
    for (int rounds = 0; have < TOTAL && rounds < 1000; rounds++) {
        pair_pump(&p);
        while ((n = latch_conn_read(p.client, got + have, TOTAL - have)) > 0)
            have += (size_t)n;
    }
    CHECK_EQ_INT(have, TOTAL);
    CHECK(memcmp(got, data, TOTAL) == 0);
    CHECK(!(latch_conn_status(p.client) & LATCH_STATUS_FAILED));
    free(data);
    free(got);
    pair_free(&p);
}

int main(void)
{
    test_reader_stops_taking(LATCH_VERSION_TLS12);
    test_reader_stops_taking(LATCH_VERSION_TLS13);
    return check_finish();
}
