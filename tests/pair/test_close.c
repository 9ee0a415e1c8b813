/* Closing in memory: close_notify answered at once (TLS 1.2 always, TLS 1.3
 * by default) and TLS 1.3 half-close (RFC 8446 6.1), where the side that
 * received close_notify goes on writing until it closes itself. */
#include <string.h>

#include "check.h"
#include "pair.h"

static int both_ready(pair *p, uint16_t version, int half_close)
{
    if (pair_configs(p, "p256") != 0)
        return -1;
    CHECK(latch_config_set_versions(p->client_config, version, version) == 0);
    CHECK(latch_config_set_half_close(p->server_config, half_close) == 0);
    if (pair_connect(p, "localhost") != 0 || pair_handshake(p) != 0)
        return -1;
    return 0;
}

/* The client sends "request" and its close_notify; what does the server do? */
static void client_closes(pair *p)
{
    CHECK(latch_conn_write(p->client, "request", 7) == 7);
    CHECK(latch_conn_close(p->client) == 0);
    CHECK(latch_conn_status(p->client) & LATCH_STATUS_SENT_CLOSE);
    CHECK(latch_conn_write(p->client, "more", 4) == -LATCH_ERR_CLOSED);
    pair_pump(p);
    char buf[16];
    CHECK(latch_conn_read(p->server, buf, sizeof buf) == 7 && memcmp(buf, "request", 7) == 0);
    CHECK(latch_conn_read(p->server, buf, sizeof buf) == 0); /* close_notify */
    CHECK(latch_conn_status(p->server) & LATCH_STATUS_CLOSED);
}

static void test_answered_at_once(uint16_t version, int half_close)
{
    pair p;
    CHECK(both_ready(&p, version, half_close) == 0);
    client_closes(&p);
    unsigned status = latch_conn_status(p.server);
    CHECK(status & LATCH_STATUS_SENT_CLOSE);
    CHECK(latch_conn_write(p.server, "answer", 6) == -LATCH_ERR_CLOSED);
    char buf[16];
    CHECK(latch_conn_read(p.client, buf, sizeof buf) == 0); /* the answer is close_notify */
    CHECK(latch_conn_status(p.client) & LATCH_STATUS_CLOSED);
    pair_free(&p);
}

static void test_tls13_half_close(void)
{
    pair p;
    CHECK(both_ready(&p, LATCH_VERSION_TLS13, 1) == 0);
    client_closes(&p);
    unsigned status = latch_conn_status(p.server);
    CHECK(!(status & LATCH_STATUS_SENT_CLOSE));
    CHECK(!(status & LATCH_STATUS_HAS_SEND)); /* nothing answered */
    CHECK(status & LATCH_STATUS_READY);
    /* the server's direction is still open: the answer, then its close */
    CHECK(latch_conn_write(p.server, "answer", 6) == 6);
    CHECK(latch_conn_write(p.server, "and more", 8) == 8);
    pair_pump(&p);
    char buf[32] = {0};
    ssize_t got = latch_conn_read(p.client, buf, sizeof buf);
    CHECK(got == 14 && memcmp(buf, "answerand more", 14) == 0);
    CHECK(!(latch_conn_status(p.client) & LATCH_STATUS_CLOSED));
    CHECK(latch_conn_read(p.client, buf, sizeof buf) == -LATCH_ERR_WOULD_BLOCK);
    CHECK(latch_conn_close(p.server) == 0);
    CHECK(latch_conn_status(p.server) & LATCH_STATUS_SENT_CLOSE);
    pair_pump(&p);
    CHECK(latch_conn_read(p.client, buf, sizeof buf) == 0);
    CHECK(latch_conn_status(p.client) & LATCH_STATUS_CLOSED);
    CHECK(!(latch_conn_status(p.client) & LATCH_STATUS_FAILED));
    CHECK(!(latch_conn_status(p.server) & LATCH_STATUS_FAILED));
    pair_free(&p);
}

int main(void)
{
    test_answered_at_once(LATCH_VERSION_TLS12, 0);
    test_answered_at_once(LATCH_VERSION_TLS12, 1); /* RFC 5246 7.2.1 */
    test_answered_at_once(LATCH_VERSION_TLS13, 0);
    test_tls13_half_close();
    return check_finish();
}
