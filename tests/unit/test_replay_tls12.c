/*
 * The illustrated TLS 1.2 connection (tests/data/vectors/illustrated-tls12.json:
 * Go crypto/tls, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, x25519, MAC-then-encrypt)
 * replayed through a real latch server and a real latch client.
 *
 * Every random byte latch asks for comes from a script holding the vector's
 * values, in the order latch asks for them: randoms, x25519 private keys and
 * the explicit IV of each CBC record.  The server has the vector's
 * certificate and key.  Then:
 *
 * Server side: the vector's client records go in; the ServerHello,
 * Certificate, ServerKeyExchange and ServerHelloDone that come out are the
 * vector's messages byte for byte, and the ChangeCipherSpec, the encrypted
 * Finished and "pong" records are the vector's records byte for byte.  The
 * client's Finished, "ping" and close_notify are opened and checked.
 *
 * Client side: the vector's server records go in; the ClientKeyExchange,
 * ChangeCipherSpec, encrypted Finished, "ping" and close_notify records that
 * come out are the vector's records byte for byte; "pong" is read.
 *
 * Two documented differences from Go's peers, both outside the records
 * compared byte for byte:
 * - Go's ClientHello offers 3DES suites, which latch never offers, so latch's
 *   ClientHello cannot be Go's.  The client test sends latch's own and then
 *   puts the vector's ClientHello in its place in the client's transcript
 *   (the transcript is the only thing it feeds); everything after it is
 *   compared.
 * - Go's server does not echo ec_point_formats (RFC 8422 5.1.2 makes the
 *   extension optional when only uncompressed points exist); latch's does.
 *   The server test hides the client's ec_point_formats from latch's server
 *   once the ClientHello is parsed.  latch also writes the server's first
 *   flight as one record (Go: one record per message); the messages are
 *   compared, and every later record is compared whole.
 * The vector's peers did not use extended master secret or encrypt-then-MAC:
 * the vector's client offers neither, and latch's client offers both but the
 * vector's server accepts neither, so latch runs without them on both sides.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "engine/internal.h"
#include "json.h"
#include "vector_pems.h"
#include "util/buffer.h"

static json_value *vec;

static uint8_t *hx(const char *path, size_t *len)
{
    uint8_t *b = json_hex(vec, path, len);
    if (b == NULL) {
        fprintf(stderr, "missing hex field %s\n", path);
        CHECK(b != NULL);
        b = calloc(1, 1);
        *len = 0;
    }
    return b;
}

static uint8_t *vector_record(size_t r, size_t *len)
{
    char p[64];
    snprintf(p, sizeof p, "records[%zu].record", r);
    return hx(p, len);
}

/* ---- the scripted random source ---- */

#define SCRIPT_MAX 8
typedef struct script {
    uint8_t *chunk[SCRIPT_MAX];
    size_t chunk_len[SCRIPT_MAX];
    const char *what[SCRIPT_MAX];
    size_t count, next;
    int wrong_size;
} script;

static int scripted_random(void *arg, uint8_t *out, size_t n)
{
    script *s = arg;
    if (s->next < s->count) {
        size_t i = s->next++;
        if (s->chunk_len[i] != n) {
            s->wrong_size++;
            fprintf(stderr, "  random: %zu bytes asked for, script has %s (%zu)\n", n, s->what[i],
                    s->chunk_len[i]);
        }
        memcpy(out, s->chunk[i], n < s->chunk_len[i] ? n : s->chunk_len[i]);
        return 0;
    }
    memset(out, 0xee, n); /* past the vector (our close_notify answer) */
    return 0;
}

static void script_push(script *s, const char *path)
{
    s->what[s->count] = path;
    s->chunk[s->count] = hx(path, &s->chunk_len[s->count]);
    s->count++;
}

static void script_free(script *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->chunk[i]);
}

/* ---- certificate files ---- */

static vector_pems pems;

static int write_pem_files(void)
{
    int written = vector_pems_write(vec, "replay12", &pems) == 0;
    CHECK(written); /* the three PEM blocks, as files */
    return written ? 0 : -1;
}

/* ---- moving records ---- */

/* Feed vector record r to conn; 0 if it was taken without error. */
static int feed_record(latch_conn *conn, size_t r)
{
    size_t len;
    uint8_t *rec = vector_record(r, &len);
    ssize_t n = latch_conn_feed(conn, rec, len);
    free(rec);
    if (n != (ssize_t)len || latch_conn_error(conn) != LATCH_OK) {
        fprintf(stderr, "  record %zu refused: %s\n", r, latch_conn_error_reason(conn));
        return -1;
    }
    return 0;
}

/* The next record conn has for the wire must be vector record r, exactly. */
static void expect_record(latch_conn *conn, size_t r)
{
    size_t want_len, len;
    uint8_t *want = vector_record(r, &want_len);
    const uint8_t *out = latch_conn_send_buf(conn, &len);
    size_t got = len >= 5 ? 5 + ((size_t)out[3] << 8 | out[4]) : 0;
    CHECK_EQ_INT(got, want_len);
    if (got == want_len && got <= len) {
        CHECK_MEM(out, want, want_len);
        if (memcmp(out, want, want_len) != 0)
            fprintf(stderr, "  record %zu differs\n", r);
        latch_conn_send_done(conn, got);
    }
    free(want);
}

/* The server's first flight: one plaintext record whose messages are
 * vector records 1..4's messages, in order. */
static void expect_first_flight(latch_conn *s)
{
    uint8_t want[4096];
    size_t want_len = 0, len;
    for (size_t r = 1; r <= 4; r++) {
        char p[64];
        size_t n;
        snprintf(p, sizeof p, "records[%zu].fragment", r);
        uint8_t *frag = hx(p, &n);
        if (want_len + n <= sizeof want)
            memcpy(want + want_len, frag, n);
        want_len += n;
        free(frag);
    }
    const uint8_t *out = latch_conn_send_buf(s, &len);
    CHECK_EQ_INT(len, 5 + want_len);
    if (len == 5 + want_len) {
        static const uint8_t header[3] = {22, 3, 3};
        CHECK_MEM(out, header, 3);
        CHECK_MEM(out + 5, want, want_len);
    }
    latch_conn_send_done(s, len);
}

/* ---- server ---- */

static latch_conn *replay_server;

/* Go's server does not echo ec_point_formats: hide the client's from latch
 * once the ClientHello is parsed (see the top of this file). */
static void server_observer(void *arg, const latch_event *ev)
{
    if (replay_server != NULL && ev->kind == LATCH_EVENT_NOTE && ev->name != NULL &&
        strcmp(ev->name, "negotiated") == 0)
        replay_server->hs->peer.sent_point_formats = 0;
}

static void test_server(void)
{
    script rng = {0};
    script_push(&rng, "server_random");
    script_push(&rng, "server_ephemeral_private");
    script_push(&rng, "records[9].explicit_iv");
    script_push(&rng, "records[11].explicit_iv");
    latch_config *cfg = latch_config_new(LATCH_ROLE_SERVER);
    CHECK_EQ_INT(latch_config_add_cert_key_files(cfg, pems.cert, pems.key), 0);
    /* Go's client prefers AES-GCM, which latch's server would pick: the suite
     * Go's server chose is named (explicit names refine the old profile) */
    CHECK_EQ_INT(latch_config_set_profile(cfg, LATCH_PROFILE_OLD), 0);
    CHECK_EQ_INT(latch_config_set_ciphers(cfg, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"), 0);
    CHECK_EQ_INT(latch_config_set_versions(cfg, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12), 0);
    CHECK_EQ_INT(latch_config_set_session_cache(cfg, 0, 0), 0); /* no session id */
    latch_config_set_random(cfg, scripted_random, &rng);
    latch_config_set_observer(cfg, server_observer, NULL);
    latch_conn *s = replay_server = latch_conn_new(cfg, NULL);

    CHECK_EQ_INT(feed_record(s, 0), 0); /* ClientHello */
    CHECK(s->suite != NULL && s->suite->id == 0xc013);
    CHECK_EQ_INT(s->extended_master_secret, 0);
    CHECK_EQ_INT(s->encrypt_then_mac, 0);
    CHECK_EQ_INT(s->signature_scheme, LATCH_SIG_RSA_PKCS1_SHA256);
    expect_first_flight(s);
    for (size_t r = 5; r <= 7; r++) /* ClientKeyExchange, CCS, Finished */
        CHECK_EQ_INT(feed_record(s, r), 0);
    size_t len;
    uint8_t *master = hx("secrets.master_secret", &len);
    CHECK_MEM(s->master_secret, master, 48);
    free(master);
    CHECK(latch_conn_status(s) & LATCH_STATUS_READY);
    expect_record(s, 8); /* ChangeCipherSpec */
    expect_record(s, 9); /* Finished, CBC with the vector's IV */

    CHECK_EQ_INT(feed_record(s, 10), 0); /* "ping" */
    char buf[16] = {0};
    CHECK_EQ_INT(latch_conn_read(s, buf, sizeof buf), 4);
    CHECK(memcmp(buf, "ping", 4) == 0);
    CHECK_EQ_INT(latch_conn_write(s, "pong", 4), 4);
    expect_record(s, 11);

    CHECK_EQ_INT(feed_record(s, 12), 0); /* close_notify */
    CHECK(latch_conn_status(s) & LATCH_STATUS_CLOSED);
    CHECK_EQ_INT(latch_conn_read(s, buf, sizeof buf), 0);
    CHECK_EQ_INT(rng.next, 4);
    CHECK_EQ_INT(rng.wrong_size, 0);
    replay_server = NULL;
    latch_conn_free(s);
    latch_config_free(cfg);
    script_free(&rng);
}

/* ---- client ---- */

static uint64_t wall_2019(void *arg) { return 1546300800u; } /* 2019-01-01: cert valid */
static uint64_t monotonic(void *arg) { return 1000; }

static void test_client(void)
{
    script rng = {0};
    script_push(&rng, "client_random");
    script_push(&rng, "client_ephemeral_private");
    script_push(&rng, "records[7].explicit_iv");
    script_push(&rng, "records[10].explicit_iv");
    script_push(&rng, "records[12].explicit_iv");
    latch_config *cfg = latch_config_new(LATCH_ROLE_CLIENT);
    CHECK_EQ_INT(latch_config_set_ca(cfg, pems.ca, NULL), 0);
    latch_config_set_clock(cfg, monotonic, wall_2019, NULL);
    CHECK_EQ_INT(latch_config_set_profile(cfg, LATCH_PROFILE_OLD), 0);
    CHECK_EQ_INT(latch_config_set_versions(cfg, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12), 0);
    latch_config_set_random(cfg, scripted_random, &rng);
    /* no name: the 2018 certificate names its host in the CN only (RFC 6125) */
    latch_conn *c = latch_conn_new(cfg, NULL);

    size_t len, hello_len;
    const uint8_t *hello = latch_conn_send_buf(c, &len);
    CHECK(len > 9 && hello[0] == 22 && hello[1] == 3 && hello[2] == 1 && hello[5] == 1);
    latch_conn_send_done(c, len);
    /* Go's ClientHello in place of latch's in the transcript (see above) */
    uint8_t *go_hello = hx("records[0].messages[0].bytes", &hello_len);
    CHECK_EQ_INT(c->hs->transcript_ready, 0);
    byte_queue_free(&c->hs->transcript_pending);
    CHECK_EQ_INT(byte_queue_append(&c->hs->transcript_pending, go_hello, hello_len), 0);
    free(go_hello);

    for (size_t r = 1; r <= 4; r++) /* ServerHello .. ServerHelloDone */
        CHECK_EQ_INT(feed_record(c, r), 0);
    CHECK(c->suite != NULL && c->suite->id == 0xc013);
    CHECK_EQ_INT(c->extended_master_secret, 0);
    CHECK_EQ_INT(c->encrypt_then_mac, 0);
    expect_record(c, 5); /* ClientKeyExchange */
    expect_record(c, 6); /* ChangeCipherSpec */
    expect_record(c, 7); /* Finished */
    CHECK_EQ_INT(feed_record(c, 8), 0);
    CHECK_EQ_INT(feed_record(c, 9), 0);
    CHECK(latch_conn_status(c) & LATCH_STATUS_READY);

    CHECK_EQ_INT(latch_conn_write(c, "ping", 4), 4);
    expect_record(c, 10);
    CHECK_EQ_INT(feed_record(c, 11), 0);
    char buf[16] = {0};
    CHECK_EQ_INT(latch_conn_read(c, buf, sizeof buf), 4);
    CHECK(memcmp(buf, "pong", 4) == 0);
    CHECK_EQ_INT(latch_conn_close(c), 0);
    expect_record(c, 12);
    CHECK_EQ_INT(rng.next, 5);
    CHECK_EQ_INT(rng.wrong_size, 0);
    latch_conn_free(c);
    latch_config_free(cfg);
    script_free(&rng);
}

/* A vector record with one bit flipped is refused with bad_record_mac, by
 * the same MAC-then-encrypt decoder. */
static void test_tampered_finished(void)
{
    for (long at = 5; at < 5 + 64; at += 21) {
        script rng = {0};
        script_push(&rng, "server_random");
        script_push(&rng, "server_ephemeral_private");
        latch_config *cfg = latch_config_new(LATCH_ROLE_SERVER);
        CHECK_EQ_INT(latch_config_add_cert_key_files(cfg, pems.cert, pems.key), 0);
        CHECK_EQ_INT(latch_config_set_profile(cfg, LATCH_PROFILE_OLD), 0);
        CHECK_EQ_INT(latch_config_set_ciphers(cfg, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"), 0);
        CHECK_EQ_INT(latch_config_set_session_cache(cfg, 0, 0), 0);
        latch_config_set_random(cfg, scripted_random, &rng);
        latch_conn *s = latch_conn_new(cfg, NULL);
        for (size_t r = 0; r <= 6; r++)
            if (r == 0 || r >= 5)
                CHECK_EQ_INT(feed_record(s, r), 0);
        size_t len;
        uint8_t *fin = vector_record(7, &len);
        fin[at] ^= 0x20;
        CHECK(latch_conn_feed(s, fin, len) < 0);
        CHECK_EQ_INT(latch_conn_error(s), LATCH_ERR_BAD_RECORD_MAC);
        int sent = 0;
        CHECK_EQ_INT(latch_conn_alert(s, &sent), 20);
        free(fin);
        latch_conn_free(s);
        latch_config_free(cfg);
        script_free(&rng);
    }
}

int main(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/vectors/illustrated-tls12.json", LATCH_TEST_DATA);
    vec = json_load_file(path);
    CHECK(vec != NULL);
    if (vec == NULL || write_pem_files() != 0)
        return check_finish();
    test_server();
    test_client();
    test_tampered_finished();
    vector_pems_remove(&pems);
    json_free(vec);
    return check_finish();
}
