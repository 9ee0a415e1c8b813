/* Flow control in memory: a reader that does not read stops taking bytes
 * once 256 KiB of plaintext wait (latch_conn_recv_buf gives room 0, no
 * LATCH_STATUS_WANT_RECV); the writer's bytes wait in its send buffer, and
 * everything arrives in order once the reader reads.  And reading in place
 * (latch_conn_read_buf / latch_conn_read_done). */
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
    (void)pair_read_all(p.client, got, TOTAL, TOTAL, &have);
    CHECK(have >= LIMIT && have <= LIMIT + ONE_BUFFER);
    CHECK(latch_conn_status(p.client) & LATCH_STATUS_WANT_RECV); /* read: takes bytes again */

    /* reading and pumping, the whole megabyte arrives in order */
    for (int rounds = 0; have < TOTAL && rounds < 1000; rounds++) {
        pair_pump(&p);
        (void)pair_read_all(p.client, got, TOTAL, TOTAL, &have);
    }
    CHECK_EQ_INT(have, TOTAL);
    CHECK(memcmp(got, data, TOTAL) == 0);
    CHECK(!(latch_conn_status(p.client) & LATCH_STATUS_FAILED));
    free(data);
    free(got);
    pair_free(&p);
}

/* latch_conn_read_buf/read_done: the same bytes as latch_conn_read, in
 * place, whether they wait in the receive buffer or (after more bytes came
 * before they were read) in the queue; mixed with latch_conn_read. */
static void test_read_in_place(void)
{
    pair p;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(pair_connect(&p, "localhost") == 0 && pair_handshake(&p) == 0);
    size_t len = 99;
    CHECK(latch_conn_read_buf(p.client, &len) == NULL && len == 0);
    latch_conn_read_done(p.client, 5); /* nothing to consume: no effect */

    /* one record: it stays in the receive buffer */
    CHECK(latch_conn_write(p.server, "hello, world", 12) == 12);
    pair_pump(&p);
    const uint8_t *view = latch_conn_read_buf(p.client, &len);
    CHECK(view != NULL && len == 12 && memcmp(view, "hello, world", 12) == 0);
    latch_conn_read_done(p.client, 7);
    view = latch_conn_read_buf(p.client, &len);
    CHECK(view != NULL && len == 5 && memcmp(view, "world", 5) == 0);
    char buf[64] = {0};
    CHECK(latch_conn_read(p.client, buf, 2) == 2 && memcmp(buf, "wo", 2) == 0);
    latch_conn_read_done(p.client, 100); /* more than there is: all of it */
    CHECK(latch_conn_read_buf(p.client, &len) == NULL && len == 0);
    CHECK(latch_conn_read(p.client, buf, sizeof buf) == -LATCH_ERR_WOULD_BLOCK);

    /* three records in separate deliveries, none read: the older ones move
     * to the queue, the view shows all of them in order */
    const char *parts[3] = {"first;", "second;", "third."};
    for (int i = 0; i < 3; i++) {
        CHECK(latch_conn_write(p.server, parts[i], strlen(parts[i])) == (ssize_t)strlen(parts[i]));
        pair_pump(&p);
    }
    view = latch_conn_read_buf(p.client, &len);
    CHECK(view != NULL && len == 19 && memcmp(view, "first;second;third.", 19) == 0);
    latch_conn_read_done(p.client, 6);
    CHECK(latch_conn_read(p.client, buf, sizeof buf) == 13 && memcmp(buf, "second;third.", 13) == 0);

    /* at close_notify: no bytes, and latch_conn_read says why */
    CHECK(latch_conn_close(p.server) == 0);
    pair_pump(&p);
    CHECK(latch_conn_read_buf(p.client, &len) == NULL && len == 0);
    CHECK(latch_conn_read(p.client, buf, sizeof buf) == 0);
    pair_free(&p);
}

int main(void)
{
    test_read_in_place();
    test_reader_stops_taking(LATCH_VERSION_TLS12);
    test_reader_stops_taking(LATCH_VERSION_TLS13);
    return check_finish();
}
