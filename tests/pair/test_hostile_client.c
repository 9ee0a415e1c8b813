/*
 * A hostile server against a latch client.  The server is raw: after the
 * latch client's ClientHello, its records are written by hand with the cursor
 * (or as byte arrays); where a case needs a real certificate, the test PKI's
 * key signs what the raw server sends; where it needs the keys of a real
 * handshake, a latch server does the handshake and the hostile bytes go under
 * its keys, or the pair's tamper hook rewrites them in flight.
 *
 * Each case checks the error, the alert latch sends (docs/PROTOCOL.md,
 * "Alerts") and, for plaintext alerts, the exact bytes on the wire:
 * 15 03 03 00 02 02 XX.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine/internal.h"
#include "handshake/handshake.h"
#include "pair.h"

#define ALERT_UNEXPECTED_MESSAGE 10
#define ALERT_RECORD_OVERFLOW 22
#define ALERT_HANDSHAKE_FAILURE 40
#define ALERT_ILLEGAL_PARAMETER 47
#define ALERT_DECODE_ERROR 50
#define ALERT_DECRYPT_ERROR 51
#define ALERT_PROTOCOL_VERSION 70
#define ALERT_NO_RENEGOTIATION 100
#define ALERT_UNSUPPORTED_EXTENSION 110

/* ---- the latch client and its ClientHello ------------------------------------ */

typedef struct client {
    pair p;
    uint8_t client_random[32];
    uint8_t session_id[32];
    size_t session_id_len;
} client;

/* A latch client (TLS 1.3 and 1.2, or 1.2 only) that has sent its ClientHello. */
static void client_start(client *cl, int tls12_only)
{
    size_t len;
    cursor r;
    memset(cl, 0, sizeof *cl);
    CHECK(pair_configs(&cl->p, "p256") == 0);
    if (tls12_only)
        CHECK(latch_config_set_versions(cl->p.client_config, LATCH_VERSION_TLS12,
                                        LATCH_VERSION_TLS12) == 0);
    cl->p.client = latch_conn_new(cl->p.client_config, "localhost");
    const uint8_t *hello = latch_conn_send_buf(cl->p.client, &len);
    /* record header (5), handshake header (4), version (2), random, session id */
    cursor_init(&r, hello, len);
    CHECK(cursor_skip(&r, 5 + 4 + 2) == 0);
    CHECK(cursor_copy_bytes(&r, cl->client_random, 32) == 0);
    uint8_t sid_len = 0;
    CHECK(cursor_read_u8(&r, &sid_len) == 0);
    cl->session_id_len = sid_len <= 32 ? sid_len : 0;
    CHECK(cursor_copy_bytes(&r, cl->session_id, cl->session_id_len) == 0);
    latch_conn_send_done(cl->p.client, len);
}

static void client_free(client *cl) { pair_free(&cl->p); }

static void feed(latch_conn *c, const uint8_t *bytes, size_t len)
{
    (void)latch_conn_feed(c, bytes, len);
}

/* ---- the raw server: messages and records by hand --------------------------- */

typedef struct ext_entry {
    uint16_t type;
    uint8_t body[64];
    size_t len;
} ext_entry;

typedef struct server_hello {
    uint16_t version;
    uint8_t random[32];
    const uint8_t *session_id;
    size_t session_id_len;
    uint16_t suite;
    uint8_t compression;
    ext_entry ext[8];
    size_t ext_count;
} server_hello;

static void add_ext(server_hello *h, uint16_t type, const void *body, size_t len)
{
    ext_entry *e = &h->ext[h->ext_count++];
    e->type = type;
    if (len > 0)
        memcpy(e->body, body, len);
    e->len = len;
}

/* TLS 1.2: ECDHE-ECDSA-AES128-GCM, secure renegotiation and EMS. */
static void hello12(server_hello *h)
{
    static const uint8_t renegotiation_info[] = {0};
    memset(h, 0, sizeof *h);
    h->version = 0x0303;
    for (int i = 0; i < 32; i++)
        h->random[i] = (uint8_t)(0x40 + i); /* no downgrade sentinel */
    h->suite = 0xc02b;
    add_ext(h, 0xff01, renegotiation_info, sizeof renegotiation_info);
    add_ext(h, 23, NULL, 0);
}

/* TLS 1.3: TLS_AES_128_GCM_SHA256, an X25519 share as given. */
static void hello13(server_hello *h, const client *cl, const uint8_t *share, size_t share_len)
{
    static const uint8_t version[] = {0x03, 0x04};
    uint8_t key_share[2 + 2 + 40] = {0x00, 0x1d};
    memset(h, 0, sizeof *h);
    h->version = 0x0303;
    for (int i = 0; i < 32; i++)
        h->random[i] = (uint8_t)(0x40 + i);
    h->session_id = cl->session_id;
    h->session_id_len = cl->session_id_len;
    h->suite = 0x1301;
    add_ext(h, 43, version, sizeof version);
    key_share[2] = (uint8_t)(share_len >> 8);
    key_share[3] = (uint8_t)share_len;
    memcpy(key_share + 4, share, share_len);
    add_ext(h, 51, key_share, 4 + share_len);
}

static size_t hello_message(const server_hello *h, uint8_t *out, size_t cap)
{
    cursor w;
    cursor_mark body, extensions;
    cursor_init(&w, out, cap);
    cursor_write_u8(&w, HANDSHAKE_SERVER_HELLO);
    cursor_open_vector(&w, 3, &body);
    cursor_write_u16(&w, h->version);
    cursor_write_bytes(&w, h->random, 32);
    cursor_write_vector(&w, 1, h->session_id, h->session_id_len);
    cursor_write_u16(&w, h->suite);
    cursor_write_u8(&w, h->compression);
    cursor_open_vector(&w, 2, &extensions);
    for (size_t i = 0; i < h->ext_count; i++) {
        cursor_write_u16(&w, h->ext[i].type);
        cursor_write_vector(&w, 2, h->ext[i].body, h->ext[i].len);
    }
    cursor_close_vector(&w, &extensions);
    cursor_close_vector(&w, &body);
    return w.off;
}

static size_t record(uint8_t *out, size_t cap, uint8_t type, const uint8_t *body, size_t len)
{
    cursor w;
    cursor_init(&w, out, cap);
    cursor_write_u8(&w, type);
    cursor_write_u16(&w, 0x0303);
    cursor_write_vector(&w, 2, body, len);
    return w.off;
}

static void send_hello(latch_conn *c, const server_hello *h)
{
    uint8_t msg[512], rec[600];
    size_t n = hello_message(h, msg, sizeof msg);
    feed(c, rec, record(rec, sizeof rec, CONTENT_HANDSHAKE, msg, n));
}

/* ---- expectations ------------------------------------------------------------ */

static void report(const char *name, latch_conn *c, latch_error err, int alert)
{
    if (latch_conn_error(c) != err || latch_conn_alert(c, NULL) != alert)
        fprintf(stderr, "  %s: error %d (%s), alert %d, reason '%s'\n", name,
                latch_conn_error(c), latch_error_string(latch_conn_error(c)),
                latch_conn_alert(c, NULL), latch_conn_error_reason(c));
}

/* Failed with err; the only bytes left to send: 15 03 03 00 02 02 XX. */
static void expect_plain_alert(const char *name, latch_conn *c, latch_error err, int alert)
{
    int sent = -1;
    size_t len;
    const uint8_t want[7] = {21, 3, 3, 0, 2, 2, (uint8_t)alert};
    const uint8_t *wire = latch_conn_send_buf(c, &len);
    report(name, c, err, alert);
    CHECK_EQ_INT(latch_conn_error(c), err);
    CHECK_EQ_INT(latch_conn_alert(c, &sent), alert);
    CHECK_EQ_INT(sent, 1);
    CHECK(latch_conn_status(c) & LATCH_STATUS_FAILED);
    CHECK_EQ_INT(len, sizeof want);
    CHECK(len == sizeof want && memcmp(wire, want, sizeof want) == 0);
}

/* ---- the cases ------------------------------------------------------------- */

/* Truncated record: a ServerHello record cut short.  The client waits: no
 * alert, no error, nothing to send. */
static void case_truncated_record(void)
{
    client cl;
    server_hello h;
    uint8_t msg[512], rec[600];
    size_t len;
    client_start(&cl, 0);
    hello12(&h);
    size_t n = record(rec, sizeof rec, CONTENT_HANDSHAKE, msg, hello_message(&h, msg, sizeof msg));
    feed(cl.p.client, rec, n - 10);
    CHECK_EQ_INT(latch_conn_error(cl.p.client), LATCH_OK);
    CHECK_EQ_INT(latch_conn_alert(cl.p.client, NULL), -1);
    CHECK(latch_conn_status(cl.p.client) & LATCH_STATUS_WANT_RECV);
    (void)latch_conn_send_buf(cl.p.client, &len);
    CHECK_EQ_INT(len, 0);
    /* the rest arrives: the hello is read, the client waits for Certificate */
    feed(cl.p.client, rec + n - 10, 10);
    CHECK_EQ_INT(latch_conn_error(cl.p.client), LATCH_OK);
    client_free(&cl);
}

/* Oversized record: 2^14 + 1 plaintext bytes announced -> record_overflow. */
static void case_oversized_record(void)
{
    client cl;
    static const uint8_t header[] = {22, 3, 3, 0x40, 0x01};
    client_start(&cl, 0);
    feed(cl.p.client, header, sizeof header);
    expect_plain_alert("oversized record", cl.p.client, LATCH_ERR_RECORD_OVERFLOW,
                       ALERT_RECORD_OVERFLOW);
    client_free(&cl);
}

/* Unknown content type (99) -> unexpected_message. */
static void case_unknown_content_type(void)
{
    client cl;
    static const uint8_t rec[] = {99, 3, 3, 0, 1, 0};
    client_start(&cl, 0);
    feed(cl.p.client, rec, sizeof rec);
    expect_plain_alert("unknown content type", cl.p.client, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    client_free(&cl);
}

/* Heartbeat (content type 24) -> unexpected_message. */
static void case_heartbeat(void)
{
    client cl;
    static const uint8_t heartbeat[] = {24, 3, 3, 0, 3, 1, 0x40, 0x00};
    client_start(&cl, 0);
    feed(cl.p.client, heartbeat, sizeof heartbeat);
    expect_plain_alert("heartbeat", cl.p.client, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    client_free(&cl);
}

/* Out of order: Finished instead of ServerHello -> unexpected_message. */
static void case_finished_first(void)
{
    client cl;
    uint8_t msg[4 + 12] = {HANDSHAKE_FINISHED, 0, 0, 12}, rec[64];
    client_start(&cl, 0);
    feed(cl.p.client, rec, record(rec, sizeof rec, CONTENT_HANDSHAKE, msg, sizeof msg));
    expect_plain_alert("Finished first", cl.p.client, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    client_free(&cl);
}

/* Out of order: ServerHelloDone straight after ServerHello (no Certificate)
 * -> unexpected_message. */
static void case_server_hello_done_early(void)
{
    client cl;
    server_hello h;
    static const uint8_t done[] = {22, 3, 3, 0, 4, HANDSHAKE_SERVER_HELLO_DONE, 0, 0, 0};
    client_start(&cl, 0);
    hello12(&h);
    send_hello(cl.p.client, &h);
    CHECK_EQ_INT(latch_conn_error(cl.p.client), LATCH_OK);
    feed(cl.p.client, done, sizeof done);
    expect_plain_alert("ServerHelloDone early", cl.p.client, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    client_free(&cl);
}

/* Repeated: two ServerHellos -> unexpected_message. */
static void case_two_server_hellos(void)
{
    client cl;
    server_hello h;
    client_start(&cl, 0);
    hello12(&h);
    send_hello(cl.p.client, &h);
    CHECK_EQ_INT(latch_conn_error(cl.p.client), LATCH_OK);
    send_hello(cl.p.client, &h);
    expect_plain_alert("two ServerHellos", cl.p.client, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    client_free(&cl);
}

/* Duplicate extension in ServerHello: renegotiation_info twice (1.2),
 * supported_versions twice (1.3) -> illegal_parameter. */
static void case_duplicate_extension(void)
{
    client cl;
    server_hello h;
    uint8_t share[32] = {9};
    client_start(&cl, 0);
    hello12(&h);
    h.ext[h.ext_count++] = h.ext[0];
    send_hello(cl.p.client, &h);
    expect_plain_alert("duplicate extension (1.2)", cl.p.client, LATCH_ERR_ILLEGAL_PARAMETER,
                       ALERT_ILLEGAL_PARAMETER);
    client_free(&cl);

    client_start(&cl, 0);
    hello13(&h, &cl, share, sizeof share);
    h.ext[h.ext_count++] = h.ext[0];
    send_hello(cl.p.client, &h);
    expect_plain_alert("duplicate extension (1.3)", cl.p.client, LATCH_ERR_ILLEGAL_PARAMETER,
                       ALERT_ILLEGAL_PARAMETER);
    client_free(&cl);
}

/* Malformed extensions in ServerHello -> decode_error: EMS with a body,
 * renegotiation_info whose inner length runs past it, an extension block
 * longer than the message. */
static void case_malformed_extensions(void)
{
    for (int variant = 0; variant < 3; variant++) {
        client cl;
        server_hello h;
        uint8_t msg[512], rec[600];
        client_start(&cl, 0);
        hello12(&h);
        if (variant == 0) {
            h.ext[1].len = 1; /* extended_master_secret: one byte */
        } else if (variant == 1) {
            h.ext[0].body[0] = 5; /* renegotiation_info says 5 bytes, has 0 */
        }
        size_t n = hello_message(&h, msg, sizeof msg);
        if (variant == 2) /* the extensions block: 2 bytes before the first extension */
            msg[4 + 2 + 32 + 1 + 2 + 1] += 1;
        feed(cl.p.client, rec, record(rec, sizeof rec, CONTENT_HANDSHAKE, msg, n));
        expect_plain_alert("malformed extension", cl.p.client, LATCH_ERR_DECODE,
                           ALERT_DECODE_ERROR);
        client_free(&cl);
    }
}

/* Extensions the client never offered in ServerHello -> unsupported_extension:
 * status_request (5), ALPN (16) to a client without ALPN, early_data (42) in a
 * TLS 1.3 ServerHello, supported_versions (43) to a TLS 1.2-only client. */
static void case_unoffered_extensions(void)
{
    static const uint8_t alpn[] = {0, 3, 2, 'h', '2'};
    static const uint8_t version13[] = {0x03, 0x04};
    uint8_t share[32] = {9};
    for (int variant = 0; variant < 4; variant++) {
        client cl;
        server_hello h;
        client_start(&cl, variant == 3);
        if (variant == 2) {
            hello13(&h, &cl, share, sizeof share);
            add_ext(&h, 42, NULL, 0);
        } else {
            hello12(&h);
            if (variant == 0)
                add_ext(&h, 5, NULL, 0);
            else if (variant == 1)
                add_ext(&h, 16, alpn, sizeof alpn);
            else
                add_ext(&h, 43, version13, sizeof version13);
        }
        send_hello(cl.p.client, &h);
        expect_plain_alert("unoffered extension", cl.p.client, LATCH_ERR_UNSUPPORTED_EXTENSION,
                           ALERT_UNSUPPORTED_EXTENSION);
        client_free(&cl);
    }
}

/* Zero-length handshake fragment -> unexpected_message. */
static void case_zero_length_handshake(void)
{
    client cl;
    static const uint8_t empty[] = {22, 3, 3, 0, 0};
    client_start(&cl, 0);
    feed(cl.p.client, empty, sizeof empty);
    expect_plain_alert("zero-length handshake", cl.p.client, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    client_free(&cl);
}

/* ChangeCipherSpec before any keys: instead of ServerHello, and (TLS 1.2)
 * after ServerHello instead of Certificate -> unexpected_message. */
static void case_change_cipher_spec_before_keys(void)
{
    client cl;
    server_hello h;
    static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
    client_start(&cl, 1);
    feed(cl.p.client, ccs, sizeof ccs);
    expect_plain_alert("CCS first", cl.p.client, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    client_free(&cl);

    client_start(&cl, 0);
    hello12(&h);
    send_hello(cl.p.client, &h);
    feed(cl.p.client, ccs, sizeof ccs);
    expect_plain_alert("CCS after ServerHello", cl.p.client, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    client_free(&cl);
}

/* Application data before Finished (plaintext, after a TLS 1.2 ServerHello)
 * -> unexpected_message. */
static void case_application_data_before_finished(void)
{
    client cl;
    server_hello h;
    static const uint8_t data[] = {23, 3, 3, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    client_start(&cl, 0);
    hello12(&h);
    send_hello(cl.p.client, &h);
    feed(cl.p.client, data, sizeof data);
    expect_plain_alert("application data before Finished", cl.p.client,
                       LATCH_ERR_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE);
    client_free(&cl);
}

/* ServerHello for TLS 1.0 -> protocol_version. */
static void case_server_hello_tls10(void)
{
    client cl;
    server_hello h;
    client_start(&cl, 0);
    hello12(&h);
    h.version = 0x0301;
    send_hello(cl.p.client, &h);
    expect_plain_alert("ServerHello TLS 1.0", cl.p.client, LATCH_ERR_PROTOCOL_VERSION,
                       ALERT_PROTOCOL_VERSION);
    client_free(&cl);
}

/* ServerHello choosing compression, or a suite that was not offered
 * (TLS_RSA_WITH_RC4_128_SHA) -> illegal_parameter. */
static void case_server_hello_bad_choice(void)
{
    for (int variant = 0; variant < 2; variant++) {
        client cl;
        server_hello h;
        client_start(&cl, 0);
        hello12(&h);
        if (variant == 0)
            h.compression = 1;
        else
            h.suite = 0x0005;
        send_hello(cl.p.client, &h);
        expect_plain_alert("ServerHello bad choice", cl.p.client, LATCH_ERR_ILLEGAL_PARAMETER,
                           ALERT_ILLEGAL_PARAMETER);
        client_free(&cl);
    }
}

/* A TLS 1.2 ServerHello without renegotiation_info -> handshake_failure. */
static void case_no_secure_renegotiation(void)
{
    client cl;
    server_hello h;
    client_start(&cl, 0);
    hello12(&h);
    h.ext[0] = h.ext[1]; /* drop renegotiation_info, keep EMS */
    h.ext_count = 1;
    send_hello(cl.p.client, &h);
    expect_plain_alert("no renegotiation_info", cl.p.client, LATCH_ERR_HANDSHAKE_FAILURE,
                       ALERT_HANDSHAKE_FAILURE);
    client_free(&cl);
}

/* key_share in a TLS 1.3 ServerHello that is no X25519 public value: 31
 * bytes, the all-zero (small order) point -> illegal_parameter. */
static void case_bad_key_share(void)
{
    for (int variant = 0; variant < 2; variant++) {
        client cl;
        server_hello h;
        uint8_t share[32] = {0};
        client_start(&cl, 0);
        hello13(&h, &cl, share, variant == 0 ? 31 : 32);
        send_hello(cl.p.client, &h);
        expect_plain_alert("bad key_share", cl.p.client, LATCH_ERR_ILLEGAL_PARAMETER,
                           ALERT_ILLEGAL_PARAMETER);
        client_free(&cl);
    }
}

/* ServerKeyExchange, correctly signed by the test server key, with an ECDH
 * point that is not on P-256, or of the wrong length -> illegal_parameter. */
static void case_bad_server_key_exchange_point(void)
{
    for (int variant = 0; variant < 2; variant++) {
        client cl;
        server_hello h;
        uint8_t flight[8192], params[4 + 65], tbs[64 + sizeof params], sig[LATCH_MAX_SIGNATURE];
        uint8_t rec[8300];
        size_t sig_len = sizeof sig, point_len = variant == 0 ? 65 : 33;
        cursor w;
        cursor_mark body, list;
        client_start(&cl, 0);
        const latch_config *server_cfg = cl.p.server_config;
        const latch_cert_key *ck = server_cfg->certs[0];
        hello12(&h);
        size_t n = hello_message(&h, flight, sizeof flight);
        cursor_init(&w, flight + n, sizeof flight - n);
        /* Certificate */
        cursor_write_u8(&w, HANDSHAKE_CERTIFICATE);
        cursor_open_vector(&w, 3, &body);
        cursor_open_vector(&w, 3, &list);
        for (size_t i = 0; i < ck->count; i++)
            cursor_write_vector(&w, 3, ck->der[i], ck->der_len[i]);
        cursor_close_vector(&w, &list);
        cursor_close_vector(&w, &body);
        /* ServerKeyExchange: named curve secp256r1, the bad point, signed */
        memset(params, 0, sizeof params);
        params[0] = 3;
        params[1] = 0x00;
        params[2] = 0x17;
        params[3] = (uint8_t)point_len;
        params[4] = 4;
        params[4 + 32] = 1;
        params[4 + 64] = 1;
        memcpy(tbs, cl.client_random, 32);
        memcpy(tbs + 32, h.random, 32);
        memcpy(tbs + 64, params, 4 + point_len);
        CHECK(latch_sign_tls12(&server_cfg->crypto, LATCH_SIG_ECDSA_SECP256R1_SHA256, ck->key,
                               tbs, 64 + 4 + point_len, sig, &sig_len) == 0);
        cursor_write_u8(&w, HANDSHAKE_SERVER_KEY_EXCHANGE);
        cursor_open_vector(&w, 3, &body);
        cursor_write_bytes(&w, params, 4 + point_len);
        cursor_write_u16(&w, LATCH_SIG_ECDSA_SECP256R1_SHA256);
        cursor_write_vector(&w, 2, sig, sig_len);
        cursor_close_vector(&w, &body);
        /* ServerHelloDone */
        cursor_write_u8(&w, HANDSHAKE_SERVER_HELLO_DONE);
        cursor_write_u24(&w, 0);
        feed(cl.p.client, rec, record(rec, sizeof rec, CONTENT_HANDSHAKE, flight, n + w.off));
        expect_plain_alert("bad ServerKeyExchange point", cl.p.client,
                           LATCH_ERR_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER);
        CHECK(strstr(latch_conn_error_reason(cl.p.client), "public key") != NULL);
        client_free(&cl);
    }
}

/* A bad ServerKeyExchange signature -> decrypt_error.  A TLS 1.2-only latch
 * client against a latch server; a man in the middle flips one byte inside
 * the ECDSA signature. */
static size_t flip_signature(void *arg, int from_client, uint8_t *bytes, size_t len)
{
    int *done = arg;
    size_t off = 0;
    while (!from_client && !*done && off + 5 <= len) { /* records */
        size_t rec_len = ((size_t)bytes[off + 3] << 8) | bytes[off + 4];
        if (off + 5 + rec_len > len)
            break;
        size_t msg = off + 5, end = off + 5 + rec_len;
        while (bytes[off] == CONTENT_HANDSHAKE && msg + 4 <= end) { /* messages */
            size_t body = ((size_t)bytes[msg + 1] << 16) | ((size_t)bytes[msg + 2] << 8) |
                          bytes[msg + 3];
            if (bytes[msg] == HANDSHAKE_SERVER_KEY_EXCHANGE && msg + 4 + body <= end) {
                bytes[msg + 4 + body - 8] ^= 0x01; /* inside the signature's s */
                *done = 1;
                break;
            }
            msg += 4 + body;
        }
        off = end;
    }
    return len;
}

static void case_bad_server_key_exchange_signature(void)
{
    pair p;
    int done = 0, sent = -1;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_versions(p.client_config, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12) == 0);
    p.tamper = flip_signature;
    p.tamper_arg = &done;
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) != 0);
    CHECK_EQ_INT(done, 1);
    report("bad ServerKeyExchange signature", p.client, LATCH_ERR_DECRYPT_ERROR,
           ALERT_DECRYPT_ERROR);
    CHECK_EQ_INT(latch_conn_error(p.client), LATCH_ERR_DECRYPT_ERROR);
    CHECK_EQ_INT(latch_conn_alert(p.client, &sent), ALERT_DECRYPT_ERROR);
    CHECK_EQ_INT(sent, 1);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_PEER_ALERT);
    CHECK_EQ_INT(latch_conn_alert(p.server, &sent), ALERT_DECRYPT_ERROR);
    pair_free(&p);
}

/* Renegotiation: a HelloRequest after a TLS 1.2 handshake gets a warning
 * no_renegotiation and the connection goes on; after a TLS 1.3 handshake a
 * HelloRequest is unexpected_message. */
typedef struct alert_seen {
    int level, description;
} alert_seen;

static void watch_alerts(void *arg, const latch_event *ev)
{
    alert_seen *seen = arg;
    if (ev->kind == LATCH_EVENT_ALERT_RECEIVED) {
        seen->level = ev->alert_level;
        seen->description = ev->alert_description;
    }
}

static void case_hello_request(void)
{
    static const uint8_t hello_request[4] = {HANDSHAKE_HELLO_REQUEST, 0, 0, 0};
    for (int tls13 = 0; tls13 < 2; tls13++) {
        pair p;
        alert_seen seen = {0, -1};
        uint8_t buf[16];
        int sent = -1;
        CHECK(pair_configs(&p, "p256") == 0);
        if (!tls13)
            CHECK(latch_config_set_versions(p.client_config, LATCH_VERSION_TLS12,
                                            LATCH_VERSION_TLS12) == 0);
        CHECK(pair_connect(&p, "localhost") == 0);
        latch_conn_set_observer(p.server, watch_alerts, &seen);
        CHECK(pair_handshake(&p) == 0);
        pair_pump(&p);
        CHECK(engine_write_record(p.server, &p.server->write, CONTENT_HANDSHAKE,
                                  LATCH_VERSION_TLS12, hello_request, sizeof hello_request) == 0);
        pair_pump(&p);
        if (!tls13) {
            CHECK_EQ_INT(latch_conn_error(p.client), LATCH_OK);
            CHECK_EQ_INT(seen.level, 1);
            CHECK_EQ_INT(seen.description, ALERT_NO_RENEGOTIATION);
            CHECK_EQ_INT(latch_conn_error(p.server), LATCH_OK);
            CHECK_EQ_INT(latch_conn_write(p.server, "pong", 4), 4);
            pair_pump(&p);
            CHECK_EQ_INT(latch_conn_read(p.client, buf, sizeof buf), 4);
        } else {
            report("HelloRequest after 1.3", p.client, LATCH_ERR_UNEXPECTED_MESSAGE,
                   ALERT_UNEXPECTED_MESSAGE);
            CHECK_EQ_INT(latch_conn_error(p.client), LATCH_ERR_UNEXPECTED_MESSAGE);
            CHECK_EQ_INT(latch_conn_alert(p.client, &sent), ALERT_UNEXPECTED_MESSAGE);
            CHECK_EQ_INT(sent, 1);
            CHECK_EQ_INT(seen.description, ALERT_UNEXPECTED_MESSAGE);
        }
        pair_free(&p);
    }
}

/* An alert record of the wrong length (3 bytes) -> decode_error. */
static void case_alert_wrong_length(void)
{
    client cl;
    static const uint8_t three[] = {21, 3, 3, 0, 3, 2, 40, 0};
    client_start(&cl, 0);
    feed(cl.p.client, three, sizeof three);
    expect_plain_alert("alert of the wrong length", cl.p.client, LATCH_ERR_DECODE,
                       ALERT_DECODE_ERROR);
    client_free(&cl);
}

/* An alert with an unknown level (0, then 255) -> illegal_parameter. */
static void case_unknown_alert_level(void)
{
    static const uint8_t levels[] = {0, 255};
    for (int i = 0; i < 2; i++) {
        client cl;
        uint8_t alert[] = {21, 3, 3, 0, 2, levels[i], 40};
        client_start(&cl, 0);
        feed(cl.p.client, alert, sizeof alert);
        expect_plain_alert("unknown alert level", cl.p.client, LATCH_ERR_ILLEGAL_PARAMETER,
                           ALERT_ILLEGAL_PARAMETER);
        client_free(&cl);
    }
}

/* A fatal alert from the server: no alert back, its name is reported. */
static void case_peer_fatal_alert(void)
{
    client cl;
    static const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40};
    size_t len;
    int sent = -1;
    client_start(&cl, 0);
    feed(cl.p.client, alert, sizeof alert);
    CHECK_EQ_INT(latch_conn_error(cl.p.client), LATCH_ERR_PEER_ALERT);
    CHECK_EQ_INT(latch_conn_alert(cl.p.client, &sent), ALERT_HANDSHAKE_FAILURE);
    CHECK_EQ_INT(sent, 0);
    (void)latch_conn_send_buf(cl.p.client, &len);
    CHECK_EQ_INT(len, 0);
    client_free(&cl);
}

int main(void)
{
    case_truncated_record();
    case_oversized_record();
    case_unknown_content_type();
    case_heartbeat();
    case_finished_first();
    case_server_hello_done_early();
    case_two_server_hellos();
    case_duplicate_extension();
    case_malformed_extensions();
    case_unoffered_extensions();
    case_zero_length_handshake();
    case_change_cipher_spec_before_keys();
    case_application_data_before_finished();
    case_server_hello_tls10();
    case_server_hello_bad_choice();
    case_no_secure_renegotiation();
    case_bad_key_share();
    case_bad_server_key_exchange_point();
    case_bad_server_key_exchange_signature();
    case_hello_request();
    case_alert_wrong_length();
    case_unknown_alert_level();
    case_peer_fatal_alert();
    return check_finish();
}
