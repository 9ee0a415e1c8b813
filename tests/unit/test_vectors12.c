/*
 * The TLS 1.2 handshake code against tests/data/vectors/illustrated-tls12.json
 * (a Go crypto/tls connection, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, x25519).
 *
 * latch has no CBC suites, but the vector's client also offers
 * TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (same SHA-256 PRF), so the server
 * handshake runs through latch's own handlers with the vector's randoms and
 * ephemeral keys, and every value that does not depend on the suite (the
 * ServerKeyExchange with its deterministic PKCS#1 signature, pre-master and
 * master secret, verify_data) must come out byte for byte.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "engine/internal.h"
#include "handshake/handshake.h"
#include "handshake/suites.h"
#include "json.h"
#include "vector_pems.h"
#include "record/record.h"
#include "util/cursor.h"
#include "x509/x509.h"

static json_value *vec;

/* ---- helpers ------------------------------------------------------------ */

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

/* Random source: hands out queued byte strings in order, then a counter. */
typedef struct script {
    const uint8_t *chunk[4];
    size_t chunk_len[4];
    size_t count, next;
    int wrong_size; /* a request whose size did not match the queued chunk */
    uint8_t counter;
} script;

static int scripted_random(void *arg, uint8_t *out, size_t n)
{
    script *s = arg;
    if (s->next < s->count) {
        if (s->chunk_len[s->next] != n)
            s->wrong_size++;
        memcpy(out, s->chunk[s->next], n < s->chunk_len[s->next] ? n : s->chunk_len[s->next]);
        s->next++;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(s->counter++ * 151u + 17u);
    return 0;
}

static void script_push(script *s, const uint8_t *bytes, size_t len)
{
    s->chunk[s->count] = bytes;
    s->chunk_len[s->count++] = len;
}

static vector_pems pems;

static int write_pem_files(void)
{
    int written = vector_pems_write(vec, "tls12", &pems) == 0;
    CHECK(written); /* the three PEM blocks, as files */
    return written ? 0 : -1;
}

/* Handshake message (with header) i of record r in the vector. */
static uint8_t *message(size_t r, size_t *len)
{
    char p[96];
    snprintf(p, sizeof p, "records[%zu].messages[0].bytes", r);
    return hx(p, len);
}

static uint8_t *record(size_t r, size_t *len)
{
    char p[96];
    snprintf(p, sizeof p, "records[%zu].record", r);
    return hx(p, len);
}

/* Concatenate the fragments of the plaintext handshake records in wire[]. */
static size_t handshake_bytes(const uint8_t *wire, size_t len, uint8_t *out, size_t cap,
                              int *other_records)
{
    size_t off = 0, n = 0;
    *other_records = 0;
    while (off + 5 <= len) {
        size_t body = (size_t)wire[off + 3] << 8 | wire[off + 4];
        CHECK_EQ_INT(wire[off + 1], 3);
        CHECK_EQ_INT(wire[off + 2], 3);
        if (off + 5 + body > len)
            break;
        if (wire[off] == CONTENT_HANDSHAKE && n + body <= cap) {
            memcpy(out + n, wire + off + 5, body);
            n += body;
        } else {
            (*other_records)++;
        }
        off += 5 + body;
    }
    CHECK_EQ_INT(off, len);
    return n;
}

/* Find handshake message `index` in a run of messages; returns its length. */
static size_t nth_message(const uint8_t *msgs, size_t len, size_t index, const uint8_t **out)
{
    size_t off = 0;
    for (size_t i = 0; off + 4 <= len; i++) {
        size_t n = 4 + ((size_t)msgs[off + 1] << 16 | (size_t)msgs[off + 2] << 8 | msgs[off + 3]);
        if (off + n > len)
            return 0;
        if (i == index) {
            *out = msgs + off;
            return n;
        }
        off += n;
    }
    return 0;
}

static latch_config *server_config(script *rng, uint16_t max_version)
{
    latch_config *cfg = latch_config_new(LATCH_ROLE_SERVER);
    CHECK(cfg != NULL);
    if (cfg == NULL)
        return NULL;
    int err = latch_config_add_cert_key_files(cfg, pems.cert, pems.key);
    CHECK_EQ_INT(err, 0);
    if (err != 0)
        fprintf(stderr, "  %s\n", latch_config_error(cfg));
    CHECK_EQ_INT(latch_config_set_versions(cfg, LATCH_VERSION_TLS12, max_version), 0);
    /* no session-id cache: the ServerHello carries no session id (and no
     * random bytes go to one) */
    CHECK_EQ_INT(latch_config_set_session_cache(cfg, 0, 0), 0);
    latch_config_set_random(cfg, scripted_random, rng);
    return cfg;
}

/* What the server learnt from the vector's ClientHello. */
static void check_parsed_client_hello(const latch_conn *s)
{
    static const uint16_t suites[] = {0xcca8, 0xcca9, 0xc02f, 0xc030, 0xc02b, 0xc02c,
                                      0xc013, 0xc009, 0xc014, 0xc00a, 0x009c, 0x009d,
                                      0x002f, 0x0035, 0xc012, 0x000a};
    static const uint16_t groups[] = {0x001d, 0x0017, 0x0018, 0x0019};
    static const uint16_t schemes[] = {0x0401, 0x0403, 0x0501, 0x0503,
                                       0x0601, 0x0603, 0x0201, 0x0203};
    size_t n;
    uint8_t *client_random = hx("client_random", &n);
    CHECK_EQ_INT(n, 32);
    CHECK_MEM(s->client_random, client_random, 32);
    free(client_random);
    CHECK(strcmp(s->server_name, "example.ulfheim.net") == 0);
    CHECK_EQ_INT(s->hs->peer.suite_count, 16);
    CHECK_MEM(s->hs->peer.suites, suites, sizeof suites);
    CHECK_EQ_INT(s->hs->peer.sent_groups, 1);
    CHECK_EQ_INT(s->hs->peer.group_count, 4);
    CHECK_MEM(s->hs->peer.groups, groups, sizeof groups);
    CHECK_EQ_INT(s->hs->peer.sent_signature_schemes, 1);
    CHECK_EQ_INT(s->hs->peer.signature_scheme_count, 8);
    CHECK_MEM(s->hs->peer.signature_schemes, schemes, sizeof schemes);
    CHECK_EQ_INT(s->hs->peer.sent_point_formats, 1);
    CHECK_EQ_INT(s->hs->peer.secure_renegotiation, 1); /* renegotiation_info, empty */
    CHECK_EQ_INT(s->hs->peer.extended_master_secret, 0);
    CHECK_EQ_INT(s->hs->peer.sent_alpn, 0);
    CHECK_EQ_INT(s->peer_sent_versions, 0);
}

/* ---- a. the ClientHello through latch's server ---------------------------- */

static void test_server_answers_client_hello(void)
{
    size_t rec_len, sr_len, sk_len, cert_msg_len, ske_msg_len;
    uint8_t *rec = record(0, &rec_len);
    uint8_t *server_random = hx("server_random", &sr_len);
    uint8_t *server_eph = hx("server_ephemeral_private", &sk_len);
    uint8_t *cert_msg = message(2, &cert_msg_len);
    uint8_t *ske_msg = message(3, &ske_msg_len);
    script rng = {0};
    script_push(&rng, server_random, 32);
    script_push(&rng, server_eph, 32);
    latch_config *cfg = server_config(&rng, LATCH_VERSION_TLS12);
    latch_conn *s = latch_conn_new(cfg, NULL);
    CHECK(s != NULL);
    CHECK_EQ_INT(rec[1], 3); /* the ClientHello record says TLS 1.0 */
    CHECK_EQ_INT(rec[2], 1);

    CHECK_EQ_INT(latch_conn_feed(s, rec, rec_len), (ssize_t)rec_len);
    CHECK_EQ_INT(latch_conn_error(s), LATCH_OK);
    if (latch_conn_error(s) != LATCH_OK)
        fprintf(stderr, "  server: %s\n", latch_conn_error_reason(s));
    check_parsed_client_hello(s);
    CHECK_EQ_INT(rng.next, 2); /* server random, then the x25519 key */
    CHECK_EQ_INT(rng.wrong_size, 0);
    CHECK_EQ_INT(s->version, LATCH_VERSION_TLS12);
    CHECK(s->suite != NULL && s->suite->id == 0xc02f);
    CHECK_EQ_INT(s->group, LATCH_GROUP_X25519);
    CHECK_EQ_INT(s->signature_scheme, LATCH_SIG_RSA_PKCS1_SHA256);
    CHECK_EQ_INT(s->extended_master_secret, 0);
    CHECK_EQ_INT(latch_conn_cipher_suite(s), 0xc02f);

    /* the flight: ServerHello, Certificate, ServerKeyExchange, ServerHelloDone */
    size_t out_len;
    const uint8_t *out = latch_conn_send_buf(s, &out_len);
    uint8_t flight[8192];
    int other = 0;
    size_t flight_len = handshake_bytes(out, out_len, flight, sizeof flight, &other);
    CHECK_EQ_INT(other, 0);
    const uint8_t *m;
    size_t n;

    /* ServerHello: version, the scripted random, no session id, c02f, null
     * compression, renegotiation_info (empty) and ec_point_formats */
    uint8_t expected_hello[4 + 51];
    cursor w;
    cursor_init(&w, expected_hello, sizeof expected_hello);
    CHECK_EQ_INT(cursor_write_u8(&w, HANDSHAKE_SERVER_HELLO), 0);
    CHECK_EQ_INT(cursor_write_u24(&w, 51), 0);
    CHECK_EQ_INT(cursor_write_u16(&w, 0x0303), 0);
    CHECK_EQ_INT(cursor_write_bytes(&w, server_random, 32), 0);
    CHECK_EQ_INT(cursor_write_u8(&w, 0), 0);
    CHECK_EQ_INT(cursor_write_u16(&w, 0xc02f), 0);
    CHECK_EQ_INT(cursor_write_u8(&w, 0), 0);
    static const uint8_t extensions[] = {0x00, 0x0b, 0xff, 0x01, 0x00, 0x01, 0x00,
                                         0x00, 0x0b, 0x00, 0x02, 0x01, 0x00};
    CHECK_EQ_INT(cursor_write_bytes(&w, extensions, sizeof extensions), 0);
    CHECK_EQ_INT(w.off, sizeof expected_hello);
    n = nth_message(flight, flight_len, 0, &m);
    CHECK_EQ_INT(n, sizeof expected_hello);
    if (n == sizeof expected_hello)
        CHECK_MEM(m, expected_hello, n);

    /* Certificate: the same single certificate the vector's server sent */
    n = nth_message(flight, flight_len, 1, &m);
    CHECK_EQ_INT(n, cert_msg_len);
    if (n == cert_msg_len)
        CHECK_MEM(m, cert_msg, n);

    /* ServerKeyExchange: same randoms, same x25519 key, deterministic
     * rsa_pkcs1_sha256 signature: byte for byte the vector's message */
    n = nth_message(flight, flight_len, 2, &m);
    CHECK_EQ_INT(n, ske_msg_len);
    if (n == ske_msg_len)
        CHECK_MEM(m, ske_msg, n);

    static const uint8_t hello_done[] = {14, 0, 0, 0};
    n = nth_message(flight, flight_len, 3, &m);
    CHECK_EQ_INT(n, 4);
    if (n == 4)
        CHECK_MEM(m, hello_done, 4);
    CHECK_EQ_INT(nth_message(flight, flight_len, 4, &m), 0);
    latch_conn_send_done(s, out_len);

    /* The vector's ClientKeyExchange: the server reaches the same pre-master
     * and master secret (no EMS, same randoms, SHA-256 PRF) */
    size_t cke_len, ms_len;
    uint8_t *cke = record(5, &cke_len);
    uint8_t *master = hx("secrets.master_secret", &ms_len);
    CHECK_EQ_INT(latch_conn_feed(s, cke, cke_len), (ssize_t)cke_len);
    CHECK_EQ_INT(latch_conn_error(s), LATCH_OK);
    CHECK_EQ_INT(ms_len, 48);
    CHECK_MEM(s->master_secret, master, 48);
    CHECK_EQ_INT(s->hs->pending_read.active, 1);
    CHECK_EQ_INT(s->hs->pending_read.explicit_nonce_len, 8);

    /* its ChangeCipherSpec switches to the (GCM) read keys, under which the
     * CBC-protected Finished cannot be opened: bad_record_mac */
    size_t ccs_len, fin_len;
    uint8_t *ccs = record(6, &ccs_len);
    uint8_t *fin = record(7, &fin_len);
    CHECK_EQ_INT(latch_conn_feed(s, ccs, ccs_len), (ssize_t)ccs_len);
    CHECK_EQ_INT(latch_conn_error(s), LATCH_OK);
    CHECK_EQ_INT(s->read.active, 1);
    CHECK(latch_conn_feed(s, fin, fin_len) < 0);
    CHECK_EQ_INT(latch_conn_error(s), LATCH_ERR_BAD_RECORD_MAC);
    int sent = 0;
    CHECK_EQ_INT(latch_conn_alert(s, &sent), 20);
    CHECK_EQ_INT(sent, 1);

    free(ccs);
    free(fin);
    free(cke);
    free(master);
    latch_conn_free(s);
    latch_config_free(cfg);
    free(rec);
    free(server_random);
    free(server_eph);
    free(cert_msg);
    free(ske_msg);
}

/* With TLS 1.3 enabled the server still picks 1.2 (no supported_versions)
 * and marks its random with the downgrade sentinel (RFC 8446 4.1.3). */
static void test_server_downgrade_sentinel(void)
{
    static const uint8_t sentinel[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};
    size_t rec_len, sr_len;
    uint8_t *rec = record(0, &rec_len);
    uint8_t *server_random = hx("server_random", &sr_len);
    script rng = {0};
    script_push(&rng, server_random, 32);
    latch_config *cfg = server_config(&rng, LATCH_VERSION_TLS13);
    latch_conn *s = latch_conn_new(cfg, NULL);
    CHECK_EQ_INT(latch_conn_feed(s, rec, rec_len), (ssize_t)rec_len);
    CHECK_EQ_INT(latch_conn_error(s), LATCH_OK);
    CHECK_EQ_INT(s->version, LATCH_VERSION_TLS12);
    CHECK_MEM(s->server_random, server_random, 24);
    CHECK_MEM(s->server_random + 24, sentinel, 8);
    size_t out_len;
    const uint8_t *out = latch_conn_send_buf(s, &out_len);
    CHECK(out_len > 5 + 4 + 2 + 32);
    if (out_len > 5 + 4 + 2 + 32)
        CHECK_MEM(out + 5 + 4 + 2 + 24, sentinel, 8);
    latch_conn_free(s);
    latch_config_free(cfg);
    free(rec);
    free(server_random);
}

/* No usable suite (only ECDSA configured, RSA certificate): handshake_failure,
 * after the ClientHello was parsed. */
static void test_server_no_common_suite(void)
{
    static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40};
    size_t rec_len;
    uint8_t *rec = record(0, &rec_len);
    script rng = {0};
    latch_config *cfg = server_config(&rng, LATCH_VERSION_TLS12);
    CHECK_EQ_INT(latch_config_set_ciphers(cfg, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"), 0);
    latch_conn *s = latch_conn_new(cfg, NULL);
    CHECK(latch_conn_feed(s, rec, rec_len) < 0);
    CHECK_EQ_INT(latch_conn_error(s), LATCH_ERR_HANDSHAKE_FAILURE);
    int sent = 0;
    CHECK_EQ_INT(latch_conn_alert(s, &sent), 40);
    CHECK_EQ_INT(sent, 1);
    check_parsed_client_hello(s);
    size_t out_len;
    const uint8_t *out = latch_conn_send_buf(s, &out_len);
    CHECK_EQ_INT(out_len, sizeof alert);
    if (out_len == sizeof alert)
        CHECK_MEM(out, alert, sizeof alert);
    latch_conn_free(s);
    latch_config_free(cfg);
    free(rec);
}

/* ---- b. ServerKeyExchange through latch's client ---------------------------- */

typedef struct client_setup {
    latch_config *cfg;
    latch_conn *c;
    script rng;
    uint8_t *client_eph;
    size_t client_eph_len;
} client_setup;

/* A client as it is after ServerHello and Certificate, with the next 32
 * random bytes being the vector's client x25519 key. */
static void client_open(client_setup *cs, const char *groups)
{
    size_t cr_len, sr_len, der_len;
    memset(cs, 0, sizeof *cs);
    cs->cfg = latch_config_new(LATCH_ROLE_CLIENT);
    latch_config_set_verify(cs->cfg, 0);
    CHECK_EQ_INT(latch_config_set_versions(cs->cfg, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12),
                 0);
    if (groups != NULL)
        CHECK_EQ_INT(latch_config_set_groups(cs->cfg, groups), 0);
    latch_config_set_random(cs->cfg, scripted_random, &cs->rng);
    cs->c = latch_conn_new(cs->cfg, "example.ulfheim.net");
    CHECK(cs->c != NULL);
    CHECK_EQ_INT(latch_conn_error(cs->c), LATCH_OK);
    size_t hello_len;
    const uint8_t *hello = latch_conn_send_buf(cs->c, &hello_len); /* writes the ClientHello */
    CHECK(hello_len > 5 + 4 && hello[0] == CONTENT_HANDSHAKE && hello[5] == 1);
    CHECK_EQ_INT(cs->rng.next, 0); /* the ClientHello's random came from the counter */
    cs->client_eph = hx("client_ephemeral_private", &cs->client_eph_len);
    script_push(&cs->rng, cs->client_eph, cs->client_eph_len);

    uint8_t *cr = hx("client_random", &cr_len), *sr = hx("server_random", &sr_len);
    uint8_t *der = hx("server_cert_der", &der_len);
    latch_conn *c = cs->c;
    memcpy(c->client_random, cr, 32);
    memcpy(c->server_random, sr, 32);
    c->version = LATCH_VERSION_TLS12;
    c->suite = suite_find(0xc02f); /* SHA-256 PRF like the vector's 0xc013 */
    c->peer_public_key = latch_leaf_public_key(der, der_len);
    CHECK(c->peer_public_key != NULL);
    free(cr);
    free(sr);
    free(der);
}

static void client_close(client_setup *cs)
{
    latch_conn_free(cs->c);
    latch_config_free(cs->cfg);
    free(cs->client_eph);
}

/* The SKE body (no header), optionally modified at offset `at` by xor. */
static int read_ske(client_setup *cs, size_t at, uint8_t xor_value)
{
    size_t len;
    uint8_t *msg = message(3, &len);
    if (at < len - 4)
        msg[4 + at] ^= xor_value;
    cursor body;
    cursor_init(&body, msg + 4, len - 4);
    int err = server_key_exchange_read(cs->c, &body);
    free(msg);
    return err;
}

static void expect_failure(client_setup *cs, int err, int expected, int alert)
{
    int sent = 0;
    CHECK_EQ_INT(err, expected);
    CHECK_EQ_INT(latch_conn_error(cs->c), expected);
    CHECK_EQ_INT(latch_conn_alert(cs->c, &sent), alert);
    CHECK_EQ_INT(sent, 1);
    CHECK_EQ_INT(cs->c->hs->pre_master_len, 0);
    /* the alert record is the last thing in the send buffer */
    size_t len;
    const uint8_t *out = latch_conn_send_buf(cs->c, &len);
    uint8_t expected_alert[7] = {21, 3, 3, 0, 2, 2, (uint8_t)alert};
    CHECK(len >= 7);
    if (len >= 7)
        CHECK_MEM(out + len - 7, expected_alert, 7);
}

static void test_client_server_key_exchange(void)
{
    client_setup cs;
    size_t pms_len, pub_len, ske_len;
    uint8_t *pms = hx("secrets.pre_master_secret", &pms_len);
    uint8_t *pub = hx("client_ephemeral_public", &pub_len);
    uint8_t *ske = message(3, &ske_len);
    /* layout of the SKE body: 03 001d 20 <32> 0401 0100 <256> */
    CHECK_EQ_INT(ske_len, 4 + 1 + 2 + 1 + 32 + 2 + 2 + 256);
    CHECK_EQ_INT(ske[4], 3);
    CHECK_EQ_INT(ske[5] << 8 | ske[6], LATCH_GROUP_X25519);

    client_open(&cs, NULL);
    CHECK_EQ_INT(read_ske(&cs, 0, 0), 0);
    CHECK_EQ_INT(latch_conn_error(cs.c), LATCH_OK);
    if (latch_conn_error(cs.c) != LATCH_OK)
        fprintf(stderr, "  client: %s\n", latch_conn_error_reason(cs.c));
    CHECK_EQ_INT(cs.rng.next, 1);
    CHECK_EQ_INT(cs.rng.wrong_size, 0);
    CHECK_EQ_INT(cs.c->group, LATCH_GROUP_X25519);
    CHECK_EQ_INT(cs.c->signature_scheme, LATCH_SIG_RSA_PKCS1_SHA256);
    CHECK_EQ_INT(cs.c->hs->pre_master_len, pms_len);
    CHECK_MEM(cs.c->hs->pre_master_secret, pms, pms_len);
    CHECK_EQ_INT(cs.c->hs->our_key_share_len, pub_len);
    CHECK_MEM(cs.c->hs->our_key_share, pub, pub_len);
    CHECK(cs.c->key_exchange_key == NULL); /* used and dropped */

    /* d. ClientKeyExchange: the vector's message body */
    size_t cke_len;
    uint8_t *cke = message(5, &cke_len), out[128];
    cursor w;
    cursor_init(&w, out, sizeof out);
    CHECK_EQ_INT(client_key_exchange_write(cs.c, &w), 0);
    CHECK_EQ_INT(w.off, cke_len - 4);
    CHECK_EQ_INT(cke[0], HANDSHAKE_CLIENT_KEY_EXCHANGE);
    if (w.off == cke_len - 4)
        CHECK_MEM(out, cke + 4, w.off);
    free(cke);
    client_close(&cs);

    /* a flipped byte in the signature, the key or the signed randoms */
    client_open(&cs, NULL);
    expect_failure(&cs, read_ske(&cs, ske_len - 4 - 1, 0x01), LATCH_ERR_DECRYPT_ERROR, 51);
    client_close(&cs);
    client_open(&cs, NULL);
    expect_failure(&cs, read_ske(&cs, 4 + 2 + 2 + 100, 0x80), LATCH_ERR_DECRYPT_ERROR, 51);
    client_close(&cs);
    client_open(&cs, NULL);
    expect_failure(&cs, read_ske(&cs, 4 + 10, 0x01), LATCH_ERR_DECRYPT_ERROR, 51);
    client_close(&cs);
    client_open(&cs, NULL);
    cs.c->client_random[31] ^= 1;
    expect_failure(&cs, read_ske(&cs, 0, 0), LATCH_ERR_DECRYPT_ERROR, 51);
    client_close(&cs);

    /* a curve that was not offered: secp521r1 (0x0019) */
    client_open(&cs, NULL);
    expect_failure(&cs, read_ske(&cs, 2, 0x1d ^ 0x19), LATCH_ERR_ILLEGAL_PARAMETER, 47);
    client_close(&cs);
    /* x25519 itself when the client only offered secp256r1 */
    client_open(&cs, "secp256r1");
    expect_failure(&cs, read_ske(&cs, 0, 0), LATCH_ERR_ILLEGAL_PARAMETER, 47);
    client_close(&cs);
    /* curve_type explicit_prime (1) instead of named_curve (3) */
    client_open(&cs, NULL);
    expect_failure(&cs, read_ske(&cs, 0, 3 ^ 1), LATCH_ERR_ILLEGAL_PARAMETER, 47);
    client_close(&cs);
    /* a signature scheme that was not offered (rsa_pkcs1_sha1, 0x0201) */
    client_open(&cs, NULL);
    expect_failure(&cs, read_ske(&cs, 1 + 2 + 1 + 32, 0x04 ^ 0x02), LATCH_ERR_ILLEGAL_PARAMETER,
                 47);
    client_close(&cs);
    /* a scheme that does not fit the RSA key (ecdsa_secp256r1_sha256) */
    client_open(&cs, NULL);
    expect_failure(&cs, read_ske(&cs, 1 + 2 + 1 + 32 + 1, 0x01 ^ 0x03),
                 LATCH_ERR_ILLEGAL_PARAMETER, 47);
    client_close(&cs);

    /* an RSA scheme, but the server's certificate holds a P-256 key */
    client_open(&cs, NULL);
    {
        FILE *f = fopen(LATCH_TEST_DATA "/pki/server-p256-leaf.der", "rb");
        uint8_t der[4096];
        size_t der_len = f != NULL ? fread(der, 1, sizeof der, f) : 0;
        if (f != NULL)
            fclose(f);
        CHECK(der_len > 0);
        EVP_PKEY_free(cs.c->peer_public_key);
        cs.c->peer_public_key = latch_leaf_public_key(der, der_len);
        CHECK(cs.c->peer_public_key != NULL &&
              EVP_PKEY_get_base_id(cs.c->peer_public_key) == EVP_PKEY_EC);
    }
    expect_failure(&cs, read_ske(&cs, 0, 0), LATCH_ERR_ILLEGAL_PARAMETER, 47);
    client_close(&cs);

    /* malformed: a truncated body is a decode error */
    client_open(&cs, NULL);
    cursor body;
    cursor_init(&body, ske + 4, ske_len - 4 - 1);
    CHECK_EQ_INT(server_key_exchange_read(cs.c, &body), LATCH_ERR_DECODE);
    CHECK_EQ_INT(cs.c->hs->pre_master_len, 0);
    client_close(&cs);

    free(pms);
    free(pub);
    free(ske);
}

/* ---- c. the key schedule ------------------------------------------------------ */

static char keylog_line[512];
static int keylog_lines;

static void keylog(void *arg, const char *line)
{
    snprintf(keylog_line, sizeof keylog_line, "%s", line);
    keylog_lines++;
}

static void test_key_schedule(void)
{
    client_setup cs;
    size_t len;
    uint8_t *master = hx("secrets.master_secret", &len);
    uint8_t *block = hx("secrets.key_block", &len);
    CHECK(len >= 40);

    client_open(&cs, NULL);
    latch_config_set_keylog(cs.cfg, keylog, NULL);
    CHECK_EQ_INT(read_ske(&cs, 0, 0), 0);
    latch_conn *c = cs.c;
    c->extended_master_secret = 0;
    CHECK_EQ_INT(tls12_derive_keys(c), 0);
    CHECK_MEM(c->master_secret, master, 48);
    CHECK_EQ_INT(c->hs->pre_master_len, 0); /* wiped once used */
    const char *nss = json_string(vec, "nss_keylog");
    CHECK_EQ_INT(keylog_lines, 1);
    CHECK(nss != NULL && strcmp(keylog_line, nss) == 0);

    /* The key block is a PRF stream: its first 40 bytes are the GCM suite's
     * client key, server key, client salt, server salt (RFC 5246 6.3). */
    CHECK_EQ_INT(c->hs->pending_write.active, 1);
    CHECK_EQ_INT(c->hs->pending_read.active, 1);
    CHECK_EQ_INT(c->hs->pending_write.tls13, 0);
    CHECK_EQ_INT(c->hs->pending_write.fixed_iv_len, 4);
    CHECK_EQ_INT(c->hs->pending_write.explicit_nonce_len, 8);
    CHECK_EQ_INT(c->hs->pending_write.sequence, 0);
    CHECK_MEM(c->hs->pending_write.iv, block + 32, 4);
    CHECK_MEM(c->hs->pending_read.iv, block + 36, 4);

    latch_crypto *crypto = &cs.cfg->crypto;
    record_protection mine_read = {0}, mine_write = {0}, wrong = {0};
    /* what the client's pending write keys seal, the client_write key opens */
    CHECK_EQ_INT(record_protection_init(crypto, &mine_read, LATCH_AEAD_AES128_GCM, block, 16,
                                        block + 32, 4, 8, 0, 0),
                 0);
    CHECK_EQ_INT(record_protection_init(crypto, &wrong, LATCH_AEAD_AES128_GCM, block + 16, 16,
                                        block + 32, 4, 8, 0, 0),
                 0);
    byte_queue q = {0};
    static const uint8_t ping[4] = {'p', 'i', 'n', 'g'};
    CHECK_EQ_INT(record_write(&c->hs->pending_write, &q, CONTENT_APPLICATION_DATA,
                              LATCH_VERSION_TLS12, ping, 4),
                 0);
    uint8_t wire[64], copy[64], *plain = NULL, type = 0;
    size_t n = byte_queue_length(&q), plain_len = 0;
    record_header h;
    CHECK(n <= sizeof wire);
    memcpy(wire, byte_queue_front(&q), n);
    memcpy(copy, wire, n);
    CHECK_EQ_INT(record_read_header(wire, n, &h), 0);
    CHECK_EQ_INT(record_open(&wrong, &h, copy + 5, &plain, &plain_len, &type),
                 LATCH_ERR_BAD_RECORD_MAC);
    CHECK_EQ_INT(record_open(&mine_read, &h, wire + 5, &plain, &plain_len, &type), 0);
    CHECK_EQ_INT(plain_len, 4);
    if (plain != NULL && plain_len == 4)
        CHECK_MEM(plain, ping, 4);
    /* and the server_write key seals what the client's pending read keys open */
    byte_queue_consume(&q, n);
    CHECK_EQ_INT(record_protection_init(crypto, &mine_write, LATCH_AEAD_AES128_GCM, block + 16,
                                        16, block + 36, 4, 8, 0, 1),
                 0);
    static const uint8_t pong[4] = {'p', 'o', 'n', 'g'};
    CHECK_EQ_INT(record_write(&mine_write, &q, CONTENT_APPLICATION_DATA, LATCH_VERSION_TLS12,
                              pong, 4),
                 0);
    n = byte_queue_length(&q);
    memcpy(wire, byte_queue_front(&q), n);
    CHECK_EQ_INT(record_read_header(wire, n, &h), 0);
    CHECK_EQ_INT(record_open(&c->hs->pending_read, &h, wire + 5, &plain, &plain_len, &type), 0);
    CHECK_EQ_INT(plain_len, 4);
    if (plain != NULL && plain_len == 4)
        CHECK_MEM(plain, pong, 4);
    record_protection_clear(&mine_read);
    record_protection_clear(&mine_write);
    record_protection_clear(&wrong);
    byte_queue_free(&q);

    /* Finished verify_data from the vector's transcript hashes */
    size_t th_len, vd_len;
    uint8_t out[12];
    uint8_t *th = hx("transcript_hash_client_finished", &th_len);
    uint8_t *vd = hx("client_verify_data", &vd_len);
    CHECK_EQ_INT(vd_len, 12);
    CHECK_EQ_INT(tls12_verify_data(c, 1, th, th_len, out), 0);
    CHECK_MEM(out, vd, 12);
    /* the label matters: the server's label gives something else */
    CHECK_EQ_INT(tls12_verify_data(c, 0, th, th_len, out), 0);
    CHECK(memcmp(out, vd, 12) != 0);
    free(th);
    free(vd);
    th = hx("transcript_hash_server_finished", &th_len);
    vd = hx("server_verify_data", &vd_len);
    CHECK_EQ_INT(tls12_verify_data(c, 0, th, th_len, out), 0);
    CHECK_MEM(out, vd, 12);
    free(th);
    free(vd);

    client_close(&cs);
    free(master);
    free(block);
}

/* The running transcript: messages wait until the hash is known, then the
 * hash of ClientHello..ClientKeyExchange (and ..client Finished) matches. */
static void test_transcript(void)
{
    script rng = {0};
    latch_config *cfg = server_config(&rng, LATCH_VERSION_TLS12);
    latch_conn *s = latch_conn_new(cfg, NULL);
    size_t th_len, len;
    uint8_t hash[LATCH_MAX_HASH_LEN];
    size_t hash_len = sizeof hash;
    CHECK_EQ_INT(s->hs->transcript_ready, 0);
    CHECK_EQ_INT(transcript_hash(s, hash, &hash_len), LATCH_ERR_INTERNAL);
    for (size_t r = 0; r <= 5; r++) {
        uint8_t *msg = message(r, &len);
        CHECK_EQ_INT(transcript_add(s, msg, len), 0);
        free(msg);
        if (r == 2)
            CHECK_EQ_INT(transcript_start(s, LATCH_HASH_SHA256), 0);
    }
    uint8_t *th = hx("transcript_hash_client_finished", &th_len);
    hash_len = sizeof hash;
    CHECK_EQ_INT(transcript_hash(s, hash, &hash_len), 0);
    CHECK_EQ_INT(hash_len, 32);
    CHECK_MEM(hash, th, 32);
    free(th);
    /* peeking does not end the running hash */
    uint8_t *fin = message(7, &len);
    CHECK_EQ_INT(fin[0], HANDSHAKE_FINISHED);
    CHECK_EQ_INT(transcript_add(s, fin, len), 0);
    free(fin);
    th = hx("transcript_hash_server_finished", &th_len);
    hash_len = sizeof hash;
    CHECK_EQ_INT(transcript_hash(s, hash, &hash_len), 0);
    CHECK_MEM(hash, th, 32);
    free(th);
    latch_conn_free(s);
    latch_config_free(cfg);
}

/* ---- the vector's certificate through the client's chain check ---------------- */

static uint64_t wall_2019(void *arg) { return 1546300800u; } /* 2019-01-01 */
static uint64_t monotonic(void *arg) { return 1000; }

static void test_certificate(void)
{
    size_t len;
    uint8_t *msg = message(2, &len);
    for (int expired = 0; expired < 2; expired++) {
        latch_config *cfg = latch_config_new(LATCH_ROLE_CLIENT);
        CHECK_EQ_INT(latch_config_set_ca(cfg, pems.ca, NULL), 0);
        CHECK_EQ_INT(latch_config_set_versions(cfg, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12), 0);
        if (!expired)
            latch_config_set_clock(cfg, monotonic, wall_2019, NULL);
        /* no host name check: the 2018 certificate names its host in the CN only,
         * which latch never uses (RFC 6125 6.4.4; see test_x509.c) */
        latch_conn *c = latch_conn_new(cfg, NULL);
        c->suite = suite_find(0xc02f);
        c->version = LATCH_VERSION_TLS12;
        cursor body;
        cursor_init(&body, msg + 4, len - 4);
        int err = server_certificate_read(c, &body);
        if (!expired) {
            CHECK_EQ_INT(err, 0);
            if (err != 0)
                fprintf(stderr, "  %s\n", latch_conn_error_reason(c));
            CHECK(c->peer_public_key != NULL && EVP_PKEY_get_base_id(c->peer_public_key) ==
                                                     EVP_PKEY_RSA);
        } else { /* valid 2018-10-05 .. 2019-10-05 only */
            CHECK_EQ_INT(err, LATCH_ERR_CERTIFICATE_EXPIRED);
            int sent = 0;
            CHECK_EQ_INT(latch_conn_alert(c, &sent), 45);
        }
        latch_conn_free(c);
        latch_config_free(cfg);
    }
    free(msg);
}

int main(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/vectors/illustrated-tls12.json", LATCH_TEST_DATA);
    vec = json_load_file(path);
    CHECK(vec != NULL);
    if (vec == NULL || write_pem_files() != 0)
        return check_finish();
    test_server_answers_client_hello();
    test_server_downgrade_sentinel();
    test_server_no_common_suite();
    test_client_server_key_exchange();
    test_key_schedule();
    test_transcript();
    test_certificate();
    vector_pems_remove(&pems);
    json_free(vec);
    return check_finish();
}
