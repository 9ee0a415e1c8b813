/*
 * A hostile client against a latch server.  The client is raw: its records
 * are written by hand with the cursor (or as byte arrays); where a case needs
 * the keys of a real handshake, a latch client does the handshake and the
 * hostile bytes are then written under its keys, or the pair's tamper hook
 * rewrites them in flight.
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
#define ALERT_ILLEGAL_PARAMETER 47
#define ALERT_DECODE_ERROR 50
#define ALERT_DECRYPT_ERROR 51
#define ALERT_PROTOCOL_VERSION 70
#define ALERT_NO_RENEGOTIATION 100

/* ---- the raw client: ClientHello and records by hand ------------------------ */

typedef struct ext_entry {
    uint16_t type;
    uint8_t body[200];
    size_t len;
} ext_entry;

typedef struct client_hello {
    uint16_t version; /* legacy_version */
    uint16_t suites[8];
    size_t suite_count;
    uint8_t compression[4];
    size_t compression_count;
    ext_entry ext[16];
    size_t ext_count;
} client_hello;

static void add_ext(client_hello *h, uint16_t type, const void *body, size_t len)
{
    ext_entry *e = &h->ext[h->ext_count++];
    e->type = type;
    if (len > 0)
        memcpy(e->body, body, len);
    e->len = len;
}

/* TLS 1.2, ECDHE-ECDSA over P-256: what the p256 test server accepts. */
static void hello_tls12(client_hello *h)
{
    static const uint8_t groups[] = {0, 2, 0x00, 0x17};
    static const uint8_t point_formats[] = {1, 0};
    static const uint8_t schemes[] = {0, 2, 0x04, 0x03};
    static const uint8_t renegotiation_info[] = {0};
    memset(h, 0, sizeof *h);
    h->version = 0x0303;
    h->suites[h->suite_count++] = 0xc02b; /* TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 */
    h->compression[h->compression_count++] = 0;
    add_ext(h, 10, groups, sizeof groups);
    add_ext(h, 11, point_formats, sizeof point_formats);
    add_ext(h, 13, schemes, sizeof schemes);
    add_ext(h, 0xff01, renegotiation_info, sizeof renegotiation_info);
    add_ext(h, 23, NULL, 0);
}

/* TLS 1.3 with one key share for group (share as given, valid or not). */
static void hello_tls13(client_hello *h, uint16_t group, const uint8_t *share, size_t share_len)
{
    uint8_t groups[] = {0, 2, (uint8_t)(group >> 8), (uint8_t)group};
    static const uint8_t schemes[] = {0, 4, 0x08, 0x07, 0x04, 0x03};
    static const uint8_t versions[] = {2, 0x03, 0x04};
    uint8_t key_share[4 + 2 + 133] = {0};
    cursor w;
    memset(h, 0, sizeof *h);
    h->version = 0x0303;
    h->suites[h->suite_count++] = 0x1301; /* TLS_AES_128_GCM_SHA256 */
    h->compression[h->compression_count++] = 0;
    add_ext(h, 10, groups, sizeof groups);
    add_ext(h, 13, schemes, sizeof schemes);
    add_ext(h, 43, versions, sizeof versions);
    cursor_init(&w, key_share, sizeof key_share);
    cursor_write_u16(&w, (uint16_t)(2 + 2 + share_len));
    cursor_write_u16(&w, group);
    cursor_write_vector(&w, 2, share, share_len);
    add_ext(h, 51, key_share, w.off);
}

/* The ClientHello handshake message (header included). */
static size_t hello_message(const client_hello *h, uint8_t *out, size_t cap)
{
    static const uint8_t random[32] = {0x11, 0x22, 0x33};
    cursor w;
    cursor_mark body, list, extensions;
    cursor_init(&w, out, cap);
    cursor_write_u8(&w, HANDSHAKE_CLIENT_HELLO);
    cursor_open_vector(&w, 3, &body);
    cursor_write_u16(&w, h->version);
    cursor_write_bytes(&w, random, 32);
    cursor_write_u8(&w, 0); /* session id */
    cursor_open_vector(&w, 2, &list);
    for (size_t i = 0; i < h->suite_count; i++)
        cursor_write_u16(&w, h->suites[i]);
    cursor_close_vector(&w, &list);
    cursor_write_vector(&w, 1, h->compression, h->compression_count);
    cursor_open_vector(&w, 2, &extensions);
    for (size_t i = 0; i < h->ext_count; i++) {
        cursor_write_u16(&w, h->ext[i].type);
        cursor_write_vector(&w, 2, h->ext[i].body, h->ext[i].len);
    }
    cursor_close_vector(&w, &extensions);
    cursor_close_vector(&w, &body);
    return w.off;
}

/* One plaintext record. */
static size_t record(uint8_t *out, size_t cap, uint8_t type, uint16_t version,
                     const uint8_t *body, size_t len)
{
    cursor w;
    cursor_init(&w, out, cap);
    cursor_write_u8(&w, type);
    cursor_write_u16(&w, version);
    cursor_write_vector(&w, 2, body, len);
    return w.off;
}

static size_t hello_record(const client_hello *h, uint8_t *out, size_t cap)
{
    uint8_t msg[2048];
    size_t n = hello_message(h, msg, sizeof msg);
    return record(out, cap, CONTENT_HANDSHAKE, 0x0301, msg, n);
}

/* ---- the latch server and what it sent -------------------------------------- */

static void server_start(pair *p)
{
    CHECK(pair_configs(p, "p256") == 0);
    p->server = latch_conn_new(p->server_config, NULL);
    CHECK(p->server != NULL);
}

static void drain(latch_conn *c)
{
    size_t len;
    (void)latch_conn_send_buf(c, &len);
    latch_conn_send_done(c, len);
}

static void feed(latch_conn *c, const uint8_t *bytes, size_t len)
{
    (void)latch_conn_feed(c, bytes, len);
}

/* Send the ClientHello, check the server answered, throw its flight away. */
static void send_hello(latch_conn *server, const client_hello *h)
{
    uint8_t rec[2048];
    size_t len;
    feed(server, rec, hello_record(h, rec, sizeof rec));
    CHECK_EQ_INT(latch_conn_error(server), LATCH_OK);
    (void)latch_conn_send_buf(server, &len);
    CHECK(len > 0);
    drain(server);
}

/* The connection failed with err, and the only bytes it has left to send
 * are one plaintext fatal alert: 15 03 03 00 02 02 XX. */
static void expect_plain_alert(const char *name, latch_conn *c, latch_error err, int alert)
{
    int sent = -1;
    size_t len;
    const uint8_t want[7] = {21, 3, 3, 0, 2, 2, (uint8_t)alert};
    const uint8_t *wire = latch_conn_send_buf(c, &len);
    if (latch_conn_error(c) != err || latch_conn_alert(c, NULL) != alert)
        fprintf(stderr, "  %s: error %d (%s), alert %d, reason '%s'\n", name,
                latch_conn_error(c), latch_error_string(latch_conn_error(c)),
                latch_conn_alert(c, NULL), latch_conn_error_reason(c));
    CHECK_EQ_INT(latch_conn_error(c), err);
    CHECK_EQ_INT(latch_conn_alert(c, &sent), alert);
    CHECK_EQ_INT(sent, 1);
    CHECK(latch_conn_status(c) & LATCH_STATUS_FAILED);
    CHECK_EQ_INT(len, sizeof want);
    CHECK(len == sizeof want && memcmp(wire, want, sizeof want) == 0);
}

static void report_if(const char *name, latch_conn *c, latch_error err)
{
    if (latch_conn_error(c) != err)
        fprintf(stderr, "  %s: error %d, alert %d, reason '%s'\n", name, latch_conn_error(c),
                latch_conn_alert(c, NULL), latch_conn_error_reason(c));
}

/* Type of the last record in wire bytes, or -1. */
static int last_record_type(const uint8_t *wire, size_t len)
{
    int type = -1;
    size_t off = 0;
    while (off + 5 <= len) {
        size_t body = ((size_t)wire[off + 3] << 8) | wire[off + 4];
        if (off + 5 + body > len)
            return -1;
        type = wire[off];
        off += 5 + body;
    }
    return off == len ? type : -1;
}

/* As above, when the alert goes under the handshake or application keys:
 * the last record out is a protected one (type 23 in TLS 1.3). */
static void expect_protected_alert(const char *name, latch_conn *c, latch_error err, int alert)
{
    int sent = -1;
    size_t len;
    const uint8_t *wire = latch_conn_send_buf(c, &len);
    if (latch_conn_error(c) != err || latch_conn_alert(c, NULL) != alert)
        fprintf(stderr, "  %s: error %d, alert %d, reason '%s'\n", name, latch_conn_error(c),
                latch_conn_alert(c, NULL), latch_conn_error_reason(c));
    CHECK_EQ_INT(latch_conn_error(c), err);
    CHECK_EQ_INT(latch_conn_alert(c, &sent), alert);
    CHECK_EQ_INT(sent, 1);
    CHECK_EQ_INT(last_record_type(wire, len), CONTENT_APPLICATION_DATA);
}

/* ---- the cases ------------------------------------------------------------- */

/* Truncated record: a header announcing 80 bytes, 10 of them sent.  The
 * server waits for the rest: no alert, no error, nothing to send. */
static void case_truncated_record(void)
{
    pair p;
    uint8_t bytes[15] = {22, 3, 1, 0, 80, 1, 0, 0, 76, 3, 3};
    size_t len;
    server_start(&p);
    feed(p.server, bytes, sizeof bytes);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_OK);
    CHECK_EQ_INT(latch_conn_alert(p.server, NULL), -1);
    CHECK(latch_conn_status(p.server) & LATCH_STATUS_WANT_RECV);
    CHECK(!(latch_conn_status(p.server) & LATCH_STATUS_FAILED));
    (void)latch_conn_send_buf(p.server, &len);
    CHECK_EQ_INT(len, 0);
    pair_free(&p);

    server_start(&p); /* half a header */
    feed(p.server, bytes, 3);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_OK);
    (void)latch_conn_send_buf(p.server, &len);
    CHECK_EQ_INT(len, 0);
    pair_free(&p);
}

/* Oversized record: a plaintext record of 2^14 + 1 bytes -> record_overflow,
 * from the header alone. */
static void case_oversized_record(void)
{
    pair p;
    static const uint8_t header[] = {22, 3, 1, 0x40, 0x01};
    server_start(&p);
    feed(p.server, header, sizeof header);
    expect_plain_alert("oversized record", p.server, LATCH_ERR_RECORD_OVERFLOW,
                       ALERT_RECORD_OVERFLOW);
    pair_free(&p);
}

/* Oversized protected records after a handshake: over 2^14 + 2048 in TLS 1.2,
 * over 2^14 + 256 in TLS 1.3 -> record_overflow, from the header (PROTOCOL.md:
 * "checked from the header before the body arrives"). */
static void case_oversized_protected_record(void)
{
    for (int tls13 = 0; tls13 < 2; tls13++) {
        pair p;
        int sent = -1;
        uint16_t len = tls13 ? 16384 + 256 + 1 : 16384 + 2048 + 1;
        uint8_t header[5] = {23, 3, 3, (uint8_t)(len >> 8), (uint8_t)len};
        CHECK(pair_configs(&p, "p256") == 0);
        if (!tls13)
            CHECK(latch_config_set_versions(p.client_config, LATCH_VERSION_TLS12,
                                            LATCH_VERSION_TLS12) == 0);
        CHECK(pair_connect(&p, "localhost") == 0);
        CHECK(pair_handshake(&p) == 0);
        pair_pump(&p);
        drain(p.server);
        feed(p.server, header, sizeof header);
        if (latch_conn_error(p.server) != LATCH_ERR_RECORD_OVERFLOW)
            fprintf(stderr, "  oversized protected record (TLS 1.%d): error %d '%s'\n",
                    tls13 ? 3 : 2, latch_conn_error(p.server), latch_conn_error_reason(p.server));
        CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_RECORD_OVERFLOW);
        CHECK_EQ_INT(latch_conn_alert(p.server, &sent), ALERT_RECORD_OVERFLOW);
        CHECK_EQ_INT(sent, 1);
        pair_free(&p);
    }
}

/* Unknown content type (25) as the first record -> unexpected_message. */
static void case_unknown_content_type(void)
{
    pair p;
    static const uint8_t rec[] = {25, 3, 1, 0, 2, 1, 2};
    server_start(&p);
    feed(p.server, rec, sizeof rec);
    expect_plain_alert("unknown content type", p.server, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}

/* Heartbeat (content type 24, RFC 6520), never negotiated -> unexpected_message. */
static void case_heartbeat(void)
{
    pair p;
    static const uint8_t heartbeat[] = {24, 3, 1, 0, 3, 1, 0x40, 0x00}; /* request, 16 KiB claimed */
    server_start(&p);
    feed(p.server, heartbeat, sizeof heartbeat);
    expect_plain_alert("heartbeat", p.server, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);

    /* and after the ClientHello */
    client_hello h;
    server_start(&p);
    hello_tls12(&h);
    send_hello(p.server, &h);
    uint8_t after[] = {24, 3, 3, 0, 3, 1, 0x40, 0x00};
    feed(p.server, after, sizeof after);
    expect_plain_alert("heartbeat after hello", p.server, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}

/* Out of order: Finished as the first message -> unexpected_message. */
static void case_finished_first(void)
{
    pair p;
    uint8_t msg[4 + 12] = {HANDSHAKE_FINISHED, 0, 0, 12}, rec[64];
    server_start(&p);
    feed(p.server, rec, record(rec, sizeof rec, CONTENT_HANDSHAKE, 0x0301, msg, sizeof msg));
    expect_plain_alert("Finished first", p.server, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}

/* Out of order: ClientKeyExchange before ClientHello -> unexpected_message. */
static void case_client_key_exchange_first(void)
{
    pair p;
    uint8_t msg[4 + 1 + 65] = {HANDSHAKE_CLIENT_KEY_EXCHANGE, 0, 0, 66, 65, 4}, rec[128];
    server_start(&p);
    feed(p.server, rec, record(rec, sizeof rec, CONTENT_HANDSHAKE, 0x0301, msg, sizeof msg));
    expect_plain_alert("ClientKeyExchange first", p.server, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}

/* Repeated: two ClientHellos in a row (TLS 1.2, two records) -> unexpected_message. */
static void case_two_client_hellos_tls12(void)
{
    pair p;
    client_hello h;
    uint8_t rec[2048];
    server_start(&p);
    hello_tls12(&h);
    send_hello(p.server, &h);
    size_t n = hello_record(&h, rec, sizeof rec);
    rec[1] = 3, rec[2] = 3; /* later records carry 0x0303 */
    feed(p.server, rec, n);
    expect_plain_alert("two ClientHellos (1.2)", p.server, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}

/* Repeated: two TLS 1.3 ClientHellos in one record: the second sits after the
 * key change -> unexpected_message (under the handshake keys). */
static void case_two_client_hellos_tls13(void)
{
    pair p;
    client_hello h;
    uint8_t share[32] = {9}, msg[4096], rec[4200];
    server_start(&p);
    hello_tls13(&h, LATCH_GROUP_X25519, share, sizeof share);
    size_t one = hello_message(&h, msg, sizeof msg);
    memcpy(msg + one, msg, one);
    feed(p.server, rec, record(rec, sizeof rec, CONTENT_HANDSHAKE, 0x0301, msg, 2 * one));
    expect_protected_alert("two ClientHellos (1.3)", p.server, LATCH_ERR_UNEXPECTED_MESSAGE,
                           ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}

/* Duplicate extension: supported_groups twice -> illegal_parameter. */
static void case_duplicate_extension(void)
{
    pair p;
    client_hello h;
    uint8_t rec[2048];
    server_start(&p);
    hello_tls12(&h);
    h.ext[h.ext_count++] = h.ext[0];
    feed(p.server, rec, hello_record(&h, rec, sizeof rec));
    expect_plain_alert("duplicate extension", p.server, LATCH_ERR_ILLEGAL_PARAMETER,
                       ALERT_ILLEGAL_PARAMETER);
    pair_free(&p);
}

/* Malformed extensions -> decode_error: an odd supported_groups list, an
 * extension that runs past the block, a body where none belongs (EMS), a
 * server_name list shorter than it says. */
static void case_malformed_extensions(void)
{
    static const uint8_t odd_groups[] = {0, 3, 0x00, 0x17, 0x00};
    static const uint8_t short_server_name[] = {0, 20, 0, 0, 9, 'l', 'o'};
    for (int variant = 0; variant < 4; variant++) {
        pair p;
        client_hello h;
        uint8_t rec[2048];
        server_start(&p);
        hello_tls12(&h);
        size_t n;
        if (variant == 0) {
            memcpy(h.ext[0].body, odd_groups, sizeof odd_groups);
            h.ext[0].len = sizeof odd_groups;
        } else if (variant == 2) {
            h.ext[4].body[0] = 0; /* extended_master_secret with one byte */
            h.ext[4].len = 1;
        } else if (variant == 3) {
            add_ext(&h, 0, short_server_name, sizeof short_server_name);
        }
        n = hello_record(&h, rec, sizeof rec);
        if (variant == 1) { /* the last extension's length says 0x0100: past the end */
            rec[n - 2] = 0x01;
        }
        feed(p.server, rec, n);
        expect_plain_alert("malformed extension", p.server, LATCH_ERR_DECODE,
                           ALERT_DECODE_ERROR);
        pair_free(&p);
    }
}

/* Zero-length handshake fragment -> unexpected_message. */
static void case_zero_length_handshake(void)
{
    pair p;
    static const uint8_t empty[] = {22, 3, 1, 0, 0};
    server_start(&p);
    feed(p.server, empty, sizeof empty);
    expect_plain_alert("zero-length handshake", p.server, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}

/* ChangeCipherSpec before any keys: as the first record, and in TLS 1.2
 * before the ClientKeyExchange -> unexpected_message. */
static void case_change_cipher_spec_before_keys(void)
{
    pair p;
    client_hello h;
    static const uint8_t first[] = {20, 3, 1, 0, 1, 1};
    static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
    server_start(&p);
    feed(p.server, first, sizeof first);
    expect_plain_alert("CCS first", p.server, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);

    server_start(&p);
    hello_tls12(&h);
    send_hello(p.server, &h);
    feed(p.server, ccs, sizeof ccs);
    expect_plain_alert("CCS before ClientKeyExchange", p.server, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}

/* Application data before Finished: after the ClientHello (TLS 1.2), in
 * plaintext -> unexpected_message. */
static void case_application_data_before_finished(void)
{
    pair p;
    client_hello h;
    static const uint8_t data[] = {23, 3, 3, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    server_start(&p);
    hello_tls12(&h);
    send_hello(p.server, &h);
    feed(p.server, data, sizeof data);
    expect_plain_alert("application data before Finished", p.server,
                       LATCH_ERR_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}

/* A wrong Finished -> decrypt_error.  A man in the middle renames the
 * client's extended_master_secret extension (0x0017) into an unknown one: the
 * keys still agree (neither side uses EMS now) but the transcripts differ, so
 * the client's Finished does not verify at the server. */
static size_t rename_ems(void *arg, int from_client, uint8_t *bytes, size_t len)
{
    int *done = arg;
    if (!from_client || *done)
        return len;
    for (size_t i = len - 4; i > 5; i--) /* from the end: EMS is near it */
        if (bytes[i] == 0x00 && bytes[i + 1] == 0x17 && bytes[i + 2] == 0 && bytes[i + 3] == 0) {
            bytes[i] = 0xfa;
            bytes[i + 1] = 0xfa;
            *done = 1;
            break;
        }
    return len;
}

static void case_wrong_finished(void)
{
    pair p;
    int done = 0, sent = -1;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_versions(p.client_config, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12) == 0);
    p.tamper = rename_ems;
    p.tamper_arg = &done;
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) != 0);
    CHECK_EQ_INT(done, 1);
    if (latch_conn_error(p.server) != LATCH_ERR_DECRYPT_ERROR)
        fprintf(stderr, "  wrong Finished: server '%s', client '%s'\n",
                latch_conn_error_reason(p.server), latch_conn_error_reason(p.client));
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_DECRYPT_ERROR);
    CHECK_EQ_INT(latch_conn_alert(p.server, &sent), ALERT_DECRYPT_ERROR);
    CHECK_EQ_INT(sent, 1);
    CHECK(strstr(latch_conn_error_reason(p.server), "Finished") != NULL);
    CHECK_EQ_INT(latch_conn_error(p.client), LATCH_ERR_PEER_ALERT);
    CHECK_EQ_INT(latch_conn_alert(p.client, &sent), ALERT_DECRYPT_ERROR);
    CHECK_EQ_INT(sent, 0);
    pair_free(&p);
}

/* A wrong PSK binder (TLS 1.3 resumption, last byte of the ClientHello
 * flipped) -> decrypt_error. */
static size_t flip_binder(void *arg, int from_client, uint8_t *bytes, size_t len)
{
    int *done = arg;
    if (from_client && !*done) {
        bytes[len - 1] ^= 0x01; /* the binder ends the ClientHello */
        *done = 1;
    }
    return len;
}

static void case_wrong_binder(void)
{
    pair p;
    int done = 0, sent = -1;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) == 0);
    pair_pump(&p); /* the NewSessionTicket */
    latch_session *session = latch_conn_get_session(p.client);
    CHECK(session != NULL);
    latch_conn_free(p.client);
    latch_conn_free(p.server);
    CHECK(pair_connect(&p, "localhost") == 0);
    if (session != NULL)
        CHECK(latch_conn_set_session(p.client, session) == 0);
    p.tamper = flip_binder;
    p.tamper_arg = &done;
    CHECK(pair_handshake(&p) != 0);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_DECRYPT_ERROR);
    CHECK_EQ_INT(latch_conn_alert(p.server, &sent), ALERT_DECRYPT_ERROR);
    CHECK_EQ_INT(sent, 1);
    CHECK(strstr(latch_conn_error_reason(p.server), "binder") != NULL);
    latch_session_free(session);
    pair_free(&p);
}

/* Renegotiation after a TLS 1.2 handshake: the client's second ClientHello
 * (under its keys) gets a warning no_renegotiation, and the connection goes on. */
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

static void send_protected_client_hello(pair *p)
{
    client_hello h;
    uint8_t msg[2048];
    hello_tls12(&h);
    size_t n = hello_message(&h, msg, sizeof msg);
    CHECK(engine_write_record(p->client, &p->client->write, CONTENT_HANDSHAKE,
                              LATCH_VERSION_TLS12, msg, n) == 0);
    pair_pump(p);
}

static void case_renegotiation_tls12(void)
{
    pair p;
    alert_seen seen = {0, -1};
    uint8_t buf[16];
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_versions(p.client_config, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    latch_conn_set_observer(p.client, watch_alerts, &seen);
    CHECK(pair_handshake(&p) == 0);
    send_protected_client_hello(&p);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_OK);
    CHECK_EQ_INT(seen.level, 1); /* warning */
    CHECK_EQ_INT(seen.description, ALERT_NO_RENEGOTIATION);
    CHECK_EQ_INT(latch_conn_error(p.client), LATCH_OK);
    /* the connection goes on */
    CHECK_EQ_INT(latch_conn_write(p.client, "ping", 4), 4);
    pair_pump(&p);
    CHECK_EQ_INT(latch_conn_read(p.server, buf, sizeof buf), 4);
    pair_free(&p);
}

/* A ClientHello after a TLS 1.3 handshake -> unexpected_message. */
static void case_client_hello_after_tls13_handshake(void)
{
    pair p;
    int sent = -1;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) == 0);
    send_protected_client_hello(&p);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_UNEXPECTED_MESSAGE);
    CHECK_EQ_INT(latch_conn_alert(p.server, &sent), ALERT_UNEXPECTED_MESSAGE);
    CHECK_EQ_INT(sent, 1);
    CHECK_EQ_INT(latch_conn_error(p.client), LATCH_ERR_PEER_ALERT);
    CHECK_EQ_INT(latch_conn_alert(p.client, &sent), ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}

/* A plaintext ChangeCipherSpec after a TLS 1.3 handshake (middlebox
 * compatibility is over) -> unexpected_message. */
static void case_change_cipher_spec_after_tls13_handshake(void)
{
    pair p;
    int sent = -1;
    static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) == 0);
    pair_pump(&p);
    drain(p.server);
    feed(p.server, ccs, sizeof ccs);
    report_if("CCS after 1.3 handshake", p.server, LATCH_ERR_UNEXPECTED_MESSAGE);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_UNEXPECTED_MESSAGE);
    CHECK_EQ_INT(latch_conn_alert(p.server, &sent), ALERT_UNEXPECTED_MESSAGE);
    CHECK_EQ_INT(sent, 1);
    pair_free(&p);
}

/* SSLv2-format ClientHello (RFC 6101 E.2: 0x80 0x2e 0x01 ...): its first byte
 * is no TLS content type -> unexpected_message. */
static void case_sslv2_client_hello(void)
{
    pair p;
    uint8_t hello[2 + 46] = {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10,
                             0x00, 0xc0, 0x2b, 0x00, 0xc0, 0x2f, 0x00, 0x00, 0x9c, 0x00, 0x00,
                             0x2f, 0x00, 0x00, 0x35, 0x00, 0x00, 0x0a, 0x00, 0x00, 0xff};
    for (size_t i = 32; i < sizeof hello; i++)
        hello[i] = (uint8_t)i; /* the challenge */
    server_start(&p);
    feed(p.server, hello, sizeof hello);
    expect_plain_alert("SSLv2 ClientHello", p.server, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}

/* A TLS 1.0-only ClientHello (client_version 0x0301, no supported_versions)
 * -> protocol_version. */
static void case_tls10_only(void)
{
    pair p;
    client_hello h;
    uint8_t rec[2048];
    server_start(&p);
    hello_tls12(&h);
    h.version = 0x0301;
    h.suites[0] = 0xc00a; /* TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA */
    feed(p.server, rec, hello_record(&h, rec, sizeof rec));
    expect_plain_alert("TLS 1.0 only", p.server, LATCH_ERR_PROTOCOL_VERSION,
                       ALERT_PROTOCOL_VERSION);
    pair_free(&p);
}

/* A ClientHello offering only compression (DEFLATE) -> illegal_parameter. */
static void case_compression_only(void)
{
    pair p;
    client_hello h;
    uint8_t rec[2048];
    server_start(&p);
    hello_tls12(&h);
    h.compression[0] = 1;
    feed(p.server, rec, hello_record(&h, rec, sizeof rec));
    expect_plain_alert("compression only", p.server, LATCH_ERR_ILLEGAL_PARAMETER,
                       ALERT_ILLEGAL_PARAMETER);
    pair_free(&p);
}

/* An empty cipher suite list -> decode_error. */
static void case_empty_suite_list(void)
{
    pair p;
    client_hello h;
    uint8_t rec[2048];
    server_start(&p);
    hello_tls12(&h);
    h.suite_count = 0;
    feed(p.server, rec, hello_record(&h, rec, sizeof rec));
    expect_plain_alert("empty suite list", p.server, LATCH_ERR_DECODE, ALERT_DECODE_ERROR);
    pair_free(&p);
}

/* ClientKeyExchange (TLS 1.2 ECDHE, P-256) with a point off the curve, and
 * with a point of the wrong length -> illegal_parameter. */
static void case_bad_client_key_exchange_point(void)
{
    for (int variant = 0; variant < 3; variant++) {
        pair p;
        client_hello h;
        uint8_t msg[4 + 1 + 65], rec[128];
        size_t point_len = variant == 1 ? 33 : 65;
        server_start(&p);
        hello_tls12(&h);
        send_hello(p.server, &h);
        memset(msg, 0, sizeof msg);
        msg[0] = HANDSHAKE_CLIENT_KEY_EXCHANGE;
        msg[3] = (uint8_t)(1 + point_len);
        msg[4] = (uint8_t)point_len;
        msg[5] = variant == 2 ? 0x02 : 0x04; /* 2: a compressed-point prefix on 65 bytes */
        msg[6 + 31] = 1;                      /* x = 1 */
        msg[6 + 63] = 1;                      /* y = 1: not on P-256 */
        feed(p.server, rec,
             record(rec, sizeof rec, CONTENT_HANDSHAKE, 0x0303, msg, 5 + point_len));
        expect_plain_alert("bad ClientKeyExchange point", p.server, LATCH_ERR_ILLEGAL_PARAMETER,
                           ALERT_ILLEGAL_PARAMETER);
        pair_free(&p);
    }
}

/* key_share (TLS 1.3) that is no valid public value: a P-256 point off the
 * curve, an X25519 share of 31 bytes, the X25519 all-zero (small order) point
 * -> illegal_parameter. */
static void case_bad_key_share(void)
{
    for (int variant = 0; variant < 3; variant++) {
        pair p;
        client_hello h;
        uint8_t share[65] = {0}, rec[2048];
        server_start(&p);
        if (variant == 0) {
            share[0] = 4;
            share[32] = 1;
            share[64] = 1;
            hello_tls13(&h, LATCH_GROUP_SECP256R1, share, 65);
        } else {
            hello_tls13(&h, LATCH_GROUP_X25519, share, variant == 1 ? 31 : 32);
        }
        feed(p.server, rec, hello_record(&h, rec, sizeof rec));
        expect_plain_alert("bad key_share", p.server, LATCH_ERR_ILLEGAL_PARAMETER,
                           ALERT_ILLEGAL_PARAMETER);
        pair_free(&p);
    }
}

/* A handshake message that announces more than 64 KiB -> illegal_parameter. */
static void case_handshake_message_too_long(void)
{
    pair p;
    static const uint8_t rec[] = {22, 3, 1, 0, 4, HANDSHAKE_CLIENT_HELLO, 0x01, 0x00, 0x01};
    server_start(&p);
    feed(p.server, rec, sizeof rec);
    expect_plain_alert("handshake message > 64 KiB", p.server, LATCH_ERR_ILLEGAL_PARAMETER,
                       ALERT_ILLEGAL_PARAMETER);
    pair_free(&p);
}

/* An alert record of the wrong length (3 bytes, 1 byte) -> decode_error. */
static void case_alert_wrong_length(void)
{
    static const uint8_t three[] = {21, 3, 1, 0, 3, 2, 40, 0};
    static const uint8_t one[] = {21, 3, 1, 0, 1, 2};
    const uint8_t *recs[] = {three, one};
    size_t lens[] = {sizeof three, sizeof one};
    for (int i = 0; i < 2; i++) {
        pair p;
        server_start(&p);
        feed(p.server, recs[i], lens[i]);
        expect_plain_alert("alert of the wrong length", p.server, LATCH_ERR_DECODE,
                           ALERT_DECODE_ERROR);
        pair_free(&p);
    }
}

/* A zero-length alert fragment -> unexpected_message (PROTOCOL.md, record
 * layer: "Zero-length handshake/alert fragments -> unexpected_message"). */
static void case_zero_length_alert(void)
{
    pair p;
    static const uint8_t empty[] = {21, 3, 1, 0, 0};
    server_start(&p);
    feed(p.server, empty, sizeof empty);
    expect_plain_alert("zero-length alert", p.server, LATCH_ERR_UNEXPECTED_MESSAGE,
                       ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}

/* An alert with an unknown level (3) -> illegal_parameter (a field value we
 * cannot accept). */
static void case_unknown_alert_level(void)
{
    pair p;
    static const uint8_t alert[] = {21, 3, 1, 0, 2, 3, 0};
    server_start(&p);
    feed(p.server, alert, sizeof alert);
    expect_plain_alert("unknown alert level", p.server, LATCH_ERR_ILLEGAL_PARAMETER,
                       ALERT_ILLEGAL_PARAMETER);
    pair_free(&p);
}

int main(void)
{
    case_truncated_record();
    case_oversized_record();
    case_oversized_protected_record();
    case_unknown_content_type();
    case_heartbeat();
    case_finished_first();
    case_client_key_exchange_first();
    case_two_client_hellos_tls12();
    case_two_client_hellos_tls13();
    case_duplicate_extension();
    case_malformed_extensions();
    case_zero_length_handshake();
    case_change_cipher_spec_before_keys();
    case_application_data_before_finished();
    case_wrong_finished();
    case_wrong_binder();
    case_renegotiation_tls12();
    case_client_hello_after_tls13_handshake();
    case_change_cipher_spec_after_tls13_handshake();
    case_sslv2_client_hello();
    case_tls10_only();
    case_compression_only();
    case_empty_suite_list();
    case_bad_client_key_exchange_point();
    case_bad_key_share();
    case_handshake_message_too_long();
    case_alert_wrong_length();
    case_zero_length_alert();
    case_unknown_alert_level();
    return check_finish();
}
