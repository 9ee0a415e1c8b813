/* latch client <-> latch server in memory: every suite x group x certificate. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pair.h"

static const char *const ecdsa_suites[] = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"};
static const char *const rsa_suites[] = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                         "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                                         "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"};
static const char *const groups[] = {"x25519", "secp256r1", "secp384r1"};

/* Send len bytes from one side and read them back on the other. */
static int transfer(pair *p, latch_conn *from, latch_conn *to, size_t len)
{
    uint8_t *out = malloc(len), *in = malloc(len);
    size_t got = 0;
    int ok;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(i * 7 + 3);
    ok = latch_conn_write(from, out, len) == (ssize_t)len;
    pair_pump(p);
    while (ok && got < len) {
        ssize_t n = latch_conn_read(to, in + got, len - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    ok = ok && got == len && memcmp(in, out, len) == 0;
    free(out);
    free(in);
    return ok;
}

static void one_combination(const char *cert, const char *suite, const char *group)
{
    pair p;
    int tls13 = strncmp(suite, "TLS_ECDHE", 9) != 0;
    CHECK(pair_configs(&p, cert) == 0);
    CHECK(latch_config_set_ciphers(p.client_config, suite) == 0);
    CHECK(latch_config_set_groups(p.client_config, group) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    int ok = pair_handshake(&p) == 0;
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  %s %s %s: client '%s' server '%s'\n", cert, suite, group,
                latch_conn_error_reason(p.client), latch_conn_error_reason(p.server));
    CHECK(strcmp(latch_conn_cipher_suite_name(p.client), suite) == 0);
    CHECK(strcmp(latch_conn_cipher_suite_name(p.server), suite) == 0);
    CHECK(strcmp(latch_conn_group_name(p.client), group) == 0);
    CHECK_EQ_INT(latch_conn_version(p.client), tls13 ? LATCH_VERSION_TLS13 : LATCH_VERSION_TLS12);
    CHECK_EQ_INT(latch_conn_version(p.server), tls13 ? LATCH_VERSION_TLS13 : LATCH_VERSION_TLS12);
    if (!tls13)
        CHECK(latch_conn_extended_master_secret(p.client) == 1);
    CHECK(transfer(&p, p.client, p.server, 100));
    CHECK(transfer(&p, p.server, p.client, 40000)); /* spans three records */
    /* orderly close: close_notify is answered with close_notify */
    CHECK(latch_conn_close(p.client) == 0);
    pair_pump(&p);
    CHECK(latch_conn_status(p.server) & LATCH_STATUS_CLOSED);
    CHECK(latch_conn_status(p.client) & LATCH_STATUS_CLOSED);
    uint8_t b;
    CHECK_EQ_INT(latch_conn_read(p.server, &b, 1), 0);
    pair_free(&p);
}

static void test_matrix(void)
{
    static const char *const ecdsa_certs[] = {"p256", "p384", "ed25519"};
    for (size_t c = 0; c < 3; c++)
        for (size_t s = 0; s < 3; s++)
            for (size_t g = 0; g < 3; g++)
                one_combination(ecdsa_certs[c], ecdsa_suites[s], groups[g]);
    for (size_t s = 0; s < 3; s++)
        for (size_t g = 0; g < 3; g++)
            one_combination("rsa2048", rsa_suites[s], groups[g]);
    static const char *const all_certs[] = {"p256", "p384", "ed25519", "rsa2048"};
    static const char *const tls13_suites[] = {
        "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"};
    for (size_t c = 0; c < 4; c++)
        for (size_t s = 0; s < 3; s++)
            for (size_t g = 0; g < 3; g++)
                one_combination(all_certs[c], tls13_suites[s], groups[g]);
}

/* Default configs on both sides: TLS 1.3 wins. */
static void test_default_prefers_tls13(void)
{
    pair p;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) == 0);
    CHECK_EQ_INT(latch_conn_version(p.client), LATCH_VERSION_TLS13);
    CHECK(strcmp(latch_conn_cipher_suite_name(p.client), "TLS_AES_128_GCM_SHA256") == 0);
    CHECK(transfer(&p, p.client, p.server, 5000));
    /* KeyUpdate both ways, the peer asked to answer: no byte lost */
    CHECK(latch_conn_key_update(p.client, 1) == 0);
    CHECK(transfer(&p, p.client, p.server, 20000));
    CHECK(transfer(&p, p.server, p.client, 20000));
    CHECK(latch_conn_key_update(p.server, 0) == 0);
    CHECK(transfer(&p, p.server, p.client, 300));
    CHECK(transfer(&p, p.client, p.server, 300));
    pair_free(&p);
}

/* The server only takes secp384r1: the client's x25519 share gets a retry. */
static void test_hello_retry(void)
{
    pair p;
    CHECK(pair_configs(&p, "rsa2048") == 0);
    CHECK(latch_config_set_groups(p.client_config, "x25519,secp384r1") == 0);
    CHECK(latch_config_set_groups(p.server_config, "secp384r1") == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) == 0);
    CHECK_EQ_INT(latch_conn_version(p.client), LATCH_VERSION_TLS13);
    CHECK(strcmp(latch_conn_group_name(p.client), "secp384r1") == 0);
    CHECK(transfer(&p, p.client, p.server, 1000));
    pair_free(&p);
}

/* A TLS 1.2-only server: the 1.3 client falls back cleanly. */
static void test_fallback_to_tls12(void)
{
    pair p;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_versions(p.server_config, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) == 0);
    CHECK_EQ_INT(latch_conn_version(p.client), LATCH_VERSION_TLS12);
    CHECK(transfer(&p, p.server, p.client, 1000));
    pair_free(&p);
}

/* A TLS 1.3-only client against a 1.2-only server: protocol_version. */
static void test_version_mismatch(void)
{
    pair p;
    int sent;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_versions(p.server_config, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12) == 0);
    CHECK(latch_config_set_versions(p.client_config, LATCH_VERSION_TLS13, LATCH_VERSION_TLS13) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) != 0);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_PROTOCOL_VERSION);
    CHECK_EQ_INT(latch_conn_alert(p.client, &sent), 70);
    pair_free(&p);
}

/* A man in the middle hides supported_versions: the 1.3 server answers 1.2
 * with the downgrade sentinel, and the client aborts (illegal_parameter). */
static size_t hide_supported_versions(void *arg, int from_client, uint8_t *bytes, size_t len)
{
    int *done = arg;
    for (size_t i = 0; from_client && !*done && i + 4 < len; i++)
        if (bytes[i] == 0x00 && bytes[i + 1] == 0x2b && bytes[i + 2] == 0x00 && bytes[i + 3] == 0x05) {
            bytes[i] = 0xfa; /* an unknown extension now */
            bytes[i + 1] = 0xfa;
            *done = 1;
        }
    return len;
}

static void test_downgrade_sentinel(void)
{
    pair p;
    int done = 0, sent;
    CHECK(pair_configs(&p, "p256") == 0);
    p.tamper = hide_supported_versions;
    p.tamper_arg = &done;
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) != 0);
    CHECK_EQ_INT(done, 1);
    CHECK_EQ_INT(latch_conn_error(p.client), LATCH_ERR_ILLEGAL_PARAMETER);
    CHECK_EQ_INT(latch_conn_alert(p.client, &sent), 47);
    CHECK(strstr(latch_conn_error_reason(p.client), "downgrade") != NULL);
    pair_free(&p);
}

/* ALPN: the server's preference among the client's list. */
static void test_alpn(void)
{
    for (int v = 0; v < 2; v++) {
        pair p;
        CHECK(pair_configs(&p, "p256") == 0);
        if (v == 0)
            CHECK(latch_config_set_versions(p.client_config, LATCH_VERSION_TLS12,
                                            LATCH_VERSION_TLS12) == 0);
        CHECK(latch_config_set_alpn(p.client_config, "h2,http/1.1") == 0);
        CHECK(latch_config_set_alpn(p.server_config, "http/1.1") == 0);
        CHECK(pair_connect(&p, "localhost") == 0);
        CHECK(pair_handshake(&p) == 0);
        CHECK(latch_conn_alpn(p.client) && strcmp(latch_conn_alpn(p.client), "http/1.1") == 0);
        CHECK(latch_conn_alpn(p.server) && strcmp(latch_conn_alpn(p.server), "http/1.1") == 0);
        pair_free(&p);
    }
}

/* Nothing in common: the server says handshake_failure, the client hears it. */
static void test_no_common_suite(void)
{
    pair p;
    int sent;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_ciphers(p.client_config, rsa_suites[0]) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) != 0);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_HANDSHAKE_FAILURE);
    CHECK_EQ_INT(latch_conn_alert(p.server, &sent), 40);
    CHECK_EQ_INT(sent, 1);
    CHECK_EQ_INT(latch_conn_error(p.client), LATCH_ERR_PEER_ALERT);
    CHECK_EQ_INT(latch_conn_alert(p.client, &sent), 40);
    CHECK_EQ_INT(sent, 0);
    pair_free(&p);
}

/* A wrong host name: the client refuses with bad_certificate. */
static void test_wrong_name(void)
{
    pair p;
    int sent;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(pair_connect(&p, "example.com") == 0);
    CHECK(pair_handshake(&p) != 0);
    CHECK_EQ_INT(latch_conn_error(p.client), LATCH_ERR_CERTIFICATE_NAME);
    CHECK_EQ_INT(latch_conn_alert(p.client, &sent), 42);
    CHECK_EQ_INT(latch_conn_alert(p.server, &sent), 42);
    CHECK(strstr(latch_conn_error_reason(p.client), "example.com") != NULL);
    pair_free(&p);
}

/* Several certificates: the one whose names cover the SNI goes first,
 * whatever the configuration order (certificate_choose); TLS 1.2 and 1.3.
 * The first configured one (no SAN) would fail the client's name check. */
static void test_sni_orders_certificates(void)
{
    for (int tls13 = 0; tls13 < 2; tls13++) {
        pair p;
        uint16_t version = tls13 ? LATCH_VERSION_TLS13 : LATCH_VERSION_TLS12;
        CHECK(pair_configs(&p, "p256") == 0);
        latch_config_free(p.server_config);
        p.server_config = latch_config_new(LATCH_ROLE_SERVER);
        CHECK(latch_config_add_cert_key_files(p.server_config, PKI "no-san.pem",
                                              PKI "no-san-key.pem") == 0);
        CHECK(latch_config_add_cert_key_files(p.server_config, PKI "server-p256.pem",
                                              PKI "server-p256-key.pem") == 0);
        CHECK(latch_config_set_versions(p.client_config, version, version) == 0);
        CHECK(pair_connect(&p, "localhost") == 0);
        int ok = pair_handshake(&p) == 0;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  SNI %s: %s\n", tls13 ? "1.3" : "1.2",
                    latch_conn_error_reason(p.client));
        pair_free(&p);
    }
}

/* Flip one byte of the first encrypted record (client Finished). */
static size_t flip_encrypted(void *arg, int from_client, uint8_t *bytes, size_t len)
{
    int *armed = arg;
    for (size_t i = 0; i + 5 < len; i++) /* find the CCS record, flip after it */
        if (*armed && from_client && bytes[i] == 20 && bytes[i + 1] == 3 && bytes[i + 2] == 3 &&
            bytes[i + 3] == 0 && bytes[i + 4] == 1 && i + 6 + 5 + 8 < len) {
            bytes[len - 1] ^= 0x01;
            *armed = 0;
        }
    return len;
}

static void test_tampered_record(void)
{
    pair p;
    int armed = 1, sent;
    CHECK(pair_configs(&p, "p256") == 0);
    p.tamper = flip_encrypted;
    p.tamper_arg = &armed;
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) != 0);
    CHECK_EQ_INT(armed, 0);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_BAD_RECORD_MAC);
    CHECK_EQ_INT(latch_conn_alert(p.client, &sent), 20);
    pair_free(&p);
}

/* Application data before the handshake: unexpected_message. */
static void test_early_application_data(void)
{
    pair p;
    static const uint8_t record[] = {23, 3, 3, 0, 2, 'h', 'i'};
    int sent;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(latch_conn_feed(p.server, record, sizeof record) < 0);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_UNEXPECTED_MESSAGE);
    CHECK_EQ_INT(latch_conn_alert(p.server, &sent), 10);
    pair_free(&p);
}

/* A record longer than 2^14 plaintext bytes: record_overflow. */
static void test_record_overflow(void)
{
    pair p;
    static const uint8_t header[] = {22, 3, 1, 0x40, 0x01};
    int sent;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(latch_conn_feed(p.server, header, sizeof header) < 0);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_RECORD_OVERFLOW);
    CHECK_EQ_INT(latch_conn_alert(p.server, &sent), 22);
    pair_free(&p);
}

/* Bytes delivered one at a time still make a handshake (reassembly). */
static size_t one_byte_at_a_time(void *arg, int from_client, uint8_t *bytes, size_t len)
{
    return len;
}

static void test_byte_by_byte(void)
{
    pair p;
    CHECK(pair_configs(&p, "rsa2048") == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    p.tamper = one_byte_at_a_time;
    for (int round = 0; round < 20; round++) {
        size_t len, room;
        latch_conn *pairs[2][2] = {{p.client, p.server}, {p.server, p.client}};
        for (int d = 0; d < 2; d++) {
            const uint8_t *b = latch_conn_send_buf(pairs[d][0], &len);
            for (size_t i = 0; i < len; i++) {
                uint8_t *dst = latch_conn_recv_buf(pairs[d][1], &room);
                if (room == 0)
                    break;
                *dst = b[i];
                latch_conn_recv_done(pairs[d][1], 1);
            }
            latch_conn_send_done(pairs[d][0], len);
        }
    }
    CHECK(latch_conn_status(p.client) & LATCH_STATUS_READY);
    CHECK(latch_conn_status(p.server) & LATCH_STATUS_READY);
    pair_free(&p);
}

/* Plaintext is read straight from the record decrypted in the receive
 * buffer, and moved aside only when more bytes arrive before it was read:
 * the order and contents must not depend on how the bytes are delivered. */
static size_t record_end(const uint8_t *wire, size_t len, size_t off)
{
    return off + 5 <= len ? off + 5 + ((size_t)wire[off + 3] << 8 | wire[off + 4]) : len;
}

static void deliver(latch_conn *to, const uint8_t *bytes, size_t len)
{
    size_t done = 0, room;
    while (done < len) {
        uint8_t *dst = latch_conn_recv_buf(to, &room);
        CHECK(room > 0);
        if (room == 0)
            return;
        size_t n = len - done < room ? len - done : room;
        memcpy(dst, bytes + done, n);
        CHECK_EQ_INT(latch_conn_recv_done(to, n), 0);
        done += n;
    }
}

/* A fresh pair whose server has queued 100 'a', 200 'b' and 300 'c' in three
 * records and close_notify; returns those wire bytes (*len). */
static const uint8_t *abc_records(pair *p, const char *suite, size_t *len)
{
    uint8_t a[100], b[200], c[300];
    memset(a, 'a', sizeof a);
    memset(b, 'b', sizeof b);
    memset(c, 'c', sizeof c);
    CHECK(pair_configs(p, "p256") == 0);
    CHECK(latch_config_set_ciphers(p->client_config, suite) == 0);
    CHECK(pair_connect(p, "localhost") == 0);
    CHECK(pair_handshake(p) == 0);
    pair_pump(p); /* tickets */
    CHECK(latch_conn_write(p->server, a, sizeof a) == (ssize_t)sizeof a);
    CHECK(latch_conn_write(p->server, b, sizeof b) == (ssize_t)sizeof b);
    CHECK(latch_conn_write(p->server, c, sizeof c) == (ssize_t)sizeof c);
    CHECK(latch_conn_close(p->server) == 0);
    return latch_conn_send_buf(p->server, len);
}

static int abc_intact(const uint8_t *got)
{
    for (size_t i = 0; i < 600; i++)
        if (got[i] != (i < 100 ? 'a' : i < 300 ? 'b' : 'c'))
            return 0;
    return 1;
}

static void read_in_place(const char *suite)
{
    pair p;
    uint8_t got[600];
    size_t len;
    const uint8_t *wire = abc_records(&p, suite, &len);
    size_t end1 = record_end(wire, len, 0), end2 = record_end(wire, len, end1);
    /* a alone, read partly; then b and half of c arrive before the rest of a
     * is read; then the rest of c and close_notify */
    deliver(p.client, wire, end1);
    CHECK(latch_conn_status(p.client) & LATCH_STATUS_HAS_APP);
    CHECK_EQ_INT(latch_conn_read(p.client, got, 10), 10);
    size_t half = end2 + (record_end(wire, len, end2) - end2) / 2;
    deliver(p.client, wire + end1, half - end1);
    size_t have = 10;
    for (int i = 0; i < 10; i++) {
        ssize_t n = latch_conn_read(p.client, got + have, 7);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    CHECK_EQ_INT(have, 10 + 70);
    CHECK_EQ_INT(pair_read_all(p.client, got, sizeof got, sizeof got, &have), -LATCH_ERR_WOULD_BLOCK);
    CHECK_EQ_INT(have, 300);
    CHECK(!(latch_conn_status(p.client) & LATCH_STATUS_HAS_APP));
    deliver(p.client, wire + half, len - half); /* c's second half and close_notify */
    latch_conn_send_done(p.server, len);
    CHECK(latch_conn_status(p.client) & LATCH_STATUS_CLOSED);
    CHECK_EQ_INT(pair_read_all(p.client, got, sizeof got, sizeof got, &have), 0);
    CHECK_EQ_INT(have, 600);
    CHECK(abc_intact(got));
    pair_free(&p);

    /* all three records and close_notify in one delivery */
    wire = abc_records(&p, suite, &len);
    deliver(p.client, wire, len);
    latch_conn_send_done(p.server, len);
    have = 0;
    CHECK_EQ_INT(pair_read_all(p.client, got, sizeof got, 250, &have), 0);
    CHECK_EQ_INT(have, 600);
    CHECK(abc_intact(got));
    pair_free(&p);
}

static void test_read_in_place(void)
{
    read_in_place("TLS_AES_128_GCM_SHA256");
    read_in_place("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
}

int main(void)
{
    test_matrix();
    test_default_prefers_tls13();
    test_hello_retry();
    test_fallback_to_tls12();
    test_version_mismatch();
    test_downgrade_sentinel();
    test_alpn();
    test_no_common_suite();
    test_wrong_name();
    test_sni_orders_certificates();
    test_tampered_record();
    test_early_application_data();
    test_record_overflow();
    test_byte_by_byte();
    test_read_in_place();
    return check_finish();
}
