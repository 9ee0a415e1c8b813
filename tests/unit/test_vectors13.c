/*
 * TLS 1.3 known-answer tests: latch's own handshake code must reproduce
 * third-party handshakes byte for byte (tests/data/vectors, see README.md):
 *
 *   rfc8448-1rtt.json                    RFC 8448 section 3, AES-128-GCM/SHA-256
 *   rfc8448-resumed-0rtt.json            RFC 8448 section 4 (PSK, 0-RTT)
 *   illustrated-tls13.json               tls13.xargs.org, AES-256-GCM/SHA-384
 *   illustrated-tls13-archive-aes128.json  its earlier version, AES-128-GCM
 *
 * A real client latch_conn is created, then its random, session id,
 * ephemeral key and transcript are replaced with the vector's.  The server's
 * messages are then fed to the same handlers the walker uses (with the
 * prior transcript hash set for CertificateVerify and Finished), and every
 * secret, key, Finished value and record is compared with the file.
 */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "crypto/crypto.h"
#include "engine/internal.h"
#include "handshake/handshake13.h"
#include "json.h"
#include "latch/latch.h"
#include "record/record.h"
#include "util/buffer.h"
#include "util/cursor.h"

#define VECTOR_DIR LATCH_TEST_DATA "/vectors/"
#define MAX_ALLOCS 1024

/* ---- vector file access -------------------------------------------- */

typedef struct vec {
    const char *file;
    json_value *root;
    void *allocs[MAX_ALLOCS];
    size_t alloc_count;
    enum latch_hash_id hash;
    size_t hash_len;
    const latch_session *offer; /* session the client offers (RFC 8448 section 4) */
} vec;

static void *vec_keep(vec *v, void *p)
{
    if (p != NULL && v->alloc_count < MAX_ALLOCS)
        v->allocs[v->alloc_count++] = p;
    else if (p != NULL) {
        fprintf(stderr, "%s: too many allocations\n", v->file);
        check_failed++;
    }
    return p;
}

static int vec_load(vec *v, const char *file)
{
    char path[512];
    memset(v, 0, sizeof *v);
    v->file = file;
    snprintf(path, sizeof path, "%s%s", VECTOR_DIR, file);
    v->root = json_load_file(path);
    CHECK(v->root != NULL);
    if (v->root == NULL)
        return 0;
    const char *hash = json_string(v->root, "hash");
    CHECK(hash != NULL);
    v->hash = hash != NULL && strcmp(hash, "sha384") == 0 ? LATCH_HASH_SHA384 : LATCH_HASH_SHA256;
    v->hash_len = latch_hash_len(v->hash);
    return 1;
}

static void vec_free(vec *v)
{
    for (size_t i = 0; i < v->alloc_count; i++)
        free(v->allocs[i]);
    json_free(v->root);
    memset(v, 0, sizeof *v);
}

/* Hex value at a formatted path; a missing value counts as a failure and
 * gives an empty buffer, so callers never get NULL. */
static uint8_t *vec_hex(vec *v, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static uint8_t *vec_hex(vec *v, size_t *len, const char *fmt, ...)
{
    char path[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    uint8_t *p = json_hex(v->root, path, len);
    if (p == NULL) {
        fprintf(stderr, "%s: missing hex value %s\n", v->file, path);
        check_failed++;
        p = calloc(1, 1);
        *len = 0;
    }
    return vec_keep(v, p);
}

/* A hex member of an object (names with spaces, as in the RFC traces). */
static uint8_t *member_hex(vec *v, const json_value *obj, const char *key, size_t *len)
{
    const json_value *m = json_member(obj, key);
    if (m == NULL || m->type != JSON_STRING)
        return NULL;
    return vec_keep(v, json_hex_decode(m->string, m->string_len, len));
}

static const json_value *record_at(const vec *v, size_t i)
{
    return json_at(json_get(v->root, "records"), i);
}

static size_t record_count(const vec *v) { return json_count(v->root, "records"); }

static const char *record_str(const vec *v, size_t i, const char *field)
{
    const json_value *m = json_member(record_at(v, i), field);
    return m != NULL && m->type == JSON_STRING ? m->string : "";
}

static long record_num(const vec *v, size_t i, const char *field)
{
    const json_value *m = json_member(record_at(v, i), field);
    return m != NULL && m->type == JSON_NUMBER ? (long)m->number : -1;
}

static int record_is(const vec *v, size_t i, const char *direction, const char *keys)
{
    return strcmp(record_str(v, i, "direction"), direction) == 0 &&
           strcmp(record_str(v, i, "keys"), keys) == 0;
}

/* The first record whose first message has this name, or -1. */
static long find_message_record(const vec *v, const char *name)
{
    char path[64];
    for (size_t i = 0; i < record_count(v); i++) {
        snprintf(path, sizeof path, "records[%zu].messages[0].name", i);
        const char *n = json_string(v->root, path);
        if (n != NULL && strcmp(n, name) == 0)
            return (long)i;
    }
    fprintf(stderr, "%s: no record with %s\n", v->file, name);
    check_failed++;
    return -1;
}

static int has_value(const vec *v, const char *path) { return json_get(v->root, path) != NULL; }

/* CHECK_MEM against a hex value of the file, lengths included. */
#define CHECK_HEX(v, got, got_len, ...)                                 \
    do {                                                                \
        size_t check_hex_len_;                                          \
        uint8_t *check_hex_ = vec_hex((v), &check_hex_len_, __VA_ARGS__); \
        CHECK_EQ_INT((got_len), check_hex_len_);                        \
        if ((size_t)(got_len) == check_hex_len_)                        \
            CHECK_MEM((got), check_hex_, check_hex_len_);               \
    } while (0)

static int contains(const uint8_t *hay, size_t hay_len, const uint8_t *needle, size_t len)
{
    for (size_t i = 0; len > 0 && i + len <= hay_len; i++)
        if (memcmp(hay + i, needle, len) == 0)
            return 1;
    return 0;
}

/* ---- connection set-up ----------------------------------------------- */

static latch_config *client_config(void)
{
    latch_config *cfg = latch_config_new(LATCH_ROLE_CLIENT);
    CHECK(cfg != NULL);
    if (cfg != NULL)
        latch_config_set_verify(cfg, 0); /* the vector certificates are self-signed/expired */
    return cfg;
}

/* A client connection in the state the vector's client was in right after
 * sending its ClientHello: same random, session id, X25519 key and
 * transcript.  NULL on failure. */
static latch_conn *conn_for(vec *v, latch_config *cfg)
{
    size_t n, pub_len = LATCH_MAX_KX_PUBLIC;
    uint8_t pub[LATCH_MAX_KX_PUBLIC];
    latch_conn *c = latch_conn_new(cfg, json_string(v->root, "server_name"));
    CHECK(c != NULL);
    if (c == NULL)
        return NULL;
    CHECK(!c->failed);
    if (v->offer != NULL)
        CHECK_EQ_INT(latch_conn_set_session(c, v->offer), 0);
    engine_start(c); /* writes our own ClientHello, which the vector's replaces */
    CHECK(c->started);
    CHECK(byte_queue_length(&c->send) > 0);
    byte_queue_free(&c->send);
    byte_queue_free(&c->handshake_out);

    uint8_t *random = vec_hex(v, &n, "client_random");
    CHECK_EQ_INT(n, 32);
    if (n == 32)
        memcpy(c->client_random, random, 32);
    c->session_id_len = 0;
    if (has_value(v, "legacy_session_id")) {
        uint8_t *sid = vec_hex(v, &n, "legacy_session_id");
        CHECK(n <= sizeof c->session_id);
        if (n <= sizeof c->session_id) {
            memcpy(c->session_id, sid, n);
            c->session_id_len = n;
        }
    }

    c->offered_share_group = LATCH_GROUP_X25519;
    EVP_PKEY_free(c->key_exchange_key);
    c->key_exchange_key = NULL;
    uint8_t *priv = vec_hex(v, &n, "client_ephemeral_private");
    int rc = latch_kx_from_private(LATCH_GROUP_X25519, priv, n, &c->key_exchange_key, pub,
                                   &pub_len);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0 || c->key_exchange_key == NULL) {
        latch_conn_free(c);
        return NULL;
    }
    CHECK_HEX(v, pub, pub_len, "client_ephemeral_public");
    memcpy(c->hs->our_key_share, pub, pub_len);
    c->hs->our_key_share_len = pub_len;

    if (c->hs->transcript_ready)
        latch_hash_free(&c->hs->transcript);
    c->hs->transcript_ready = 0;
    byte_queue_free(&c->hs->transcript_pending);
    uint8_t *ch = vec_hex(v, &n, "records[0].messages[0].bytes");
    CHECK_EQ_INT(ch[0], 1);
    /* the file's ClientHello carries the file's random and key share */
    CHECK(n > 38 && memcmp(ch + 6, c->client_random, 32) == 0);
    CHECK(contains(ch, n, pub, pub_len));
    CHECK_EQ_INT(byte_queue_append(&c->hs->transcript_pending, ch, n), 0);
    c->suite = NULL;
    c->hash_len = 0;
    c->version = 0;
    return c;
}

/* ---- step 1: ServerHello -> handshake secrets -------------------------- */

static void check_traffic_keys(vec *v, latch_conn *c, const uint8_t *secret, const char *which)
{
    uint8_t key[LATCH_MAX_KEY_LEN], iv[LATCH_MAX_IV_LEN];
    CHECK_EQ_INT(tls13_expand_label(&c->config->crypto, v->hash, secret, v->hash_len, "key",
                                    NULL, 0, key, c->suite->key_len),
                 0);
    CHECK_EQ_INT(tls13_expand_label(&c->config->crypto, v->hash, secret, v->hash_len, "iv",
                                    NULL, 0, iv, 12),
                 0);
    CHECK_HEX(v, key, c->suite->key_len, "traffic_keys.%s.key", which);
    CHECK_HEX(v, iv, 12, "traffic_keys.%s.iv", which);
}

static void check_transcript(vec *v, latch_conn *c, const char *range)
{
    uint8_t hash[LATCH_MAX_HASH_LEN];
    size_t hash_len = sizeof hash;
    char path[128];
    snprintf(path, sizeof path, "transcript_hashes[\"%s\"]", range);
    if (!has_value(v, path))
        return;
    CHECK_EQ_INT(transcript_hash(c, hash, &hash_len), 0);
    CHECK_HEX(v, hash, hash_len, "%s", path);
}

static int do_server_hello(vec *v, latch_conn *c, int checks)
{
    size_t n;
    cursor body;
    long sh = find_message_record(v, "server_hello");
    if (sh < 0)
        return -1;
    uint8_t *msg = vec_hex(v, &n, "records[%ld].messages[0].bytes", sh);
    CHECK(n > 4 && msg[0] == 2);
    if (n <= 4)
        return -1;
    CHECK_EQ_INT(transcript_add(c, msg, n), 0);
    cursor_init(&body, msg + 4, n - 4);
    int rc = server_hello_read(c, &body);
    CHECK_EQ_INT(rc, 0);
    if (rc != 0 || !checks)
        return rc;

    uint8_t *suite = vec_hex(v, &n, "cipher_suite.value");
    CHECK_EQ_INT(c->version, LATCH_VERSION_TLS13);
    CHECK(c->suite != NULL);
    if (c->suite == NULL)
        return -1;
    CHECK_EQ_INT(c->suite->id, n == 2 ? (suite[0] << 8 | suite[1]) : -1);
    CHECK_EQ_INT(c->group, LATCH_GROUP_X25519);
    CHECK_EQ_INT(c->hash_len, v->hash_len);
    CHECK_EQ_INT(c->key_exchange_key == NULL, 1); /* ephemeral key dropped after use */
    CHECK_HEX(v, c->server_random, 32, "server_random");
    check_transcript(v, c, "client_hello..server_hello");
    CHECK_HEX(v, c->hs->secret, c->hash_len, "secrets.handshake_secret");
    CHECK_HEX(v, c->hs->client_handshake_secret, c->hash_len,
              "secrets.client_handshake_traffic_secret");
    CHECK_HEX(v, c->hs->server_handshake_secret, c->hash_len,
              "secrets.server_handshake_traffic_secret");
    check_traffic_keys(v, c, c->hs->server_handshake_secret, "server_handshake");
    check_traffic_keys(v, c, c->hs->client_handshake_secret, "client_handshake");
    /* handshake keys in place: read = server's, write = ours */
    CHECK(c->read.active && c->read.tls13 && c->read.sequence == 0);
    CHECK(c->write.active && c->write.tls13 && c->write.sequence == 0);
    CHECK_HEX(v, c->read.iv, 12, "traffic_keys.server_handshake.iv");
    CHECK_HEX(v, c->write.iv, 12, "traffic_keys.client_handshake.iv");
    return 0;
}

/* ---- step 2: decrypt the server's encrypted flight ---------------------- */

/* Open every server_handshake record with c->read; returns the handshake
 * bytes they carry (kept by v). */
static uint8_t *decrypt_server_flight(vec *v, latch_conn *c, size_t *flight_len, int checks)
{
    uint8_t *flight = vec_keep(v, calloc(1, 65536));
    size_t len = 0;
    for (size_t i = 0; i < record_count(v); i++) {
        size_t n, content_len;
        if (strcmp(record_str(v, i, "direction"), "server_to_client") != 0)
            continue;
        if (record_num(v, i, "content_type") == CONTENT_CHANGE_CIPHER_SPEC) {
            /* middlebox compatibility CCS: plaintext, never awaited, skipped */
            if (checks) {
                static const uint8_t ccs[6] = {20, 3, 3, 0, 1, 1};
                uint8_t *rec = vec_hex(v, &n, "records[%zu].record", i);
                CHECK_EQ_INT(n, 6);
                CHECK(n == 6 && memcmp(rec, ccs, 6) == 0);
                CHECK(c->session_id_len > 0);
            }
            continue;
        }
        if (!record_is(v, i, "server_to_client", "server_handshake"))
            continue;
        uint8_t *wire = vec_hex(v, &n, "records[%zu].record", i);
        uint8_t *content = vec_hex(v, &content_len, "records[%zu].content", i);
        record_header h;
        uint8_t *plain = NULL, type = 0;
        size_t plain_len = 0;
        CHECK_EQ_INT(record_read_header(wire, n, &h), 0);
        CHECK_EQ_INT(h.type, CONTENT_APPLICATION_DATA);
        CHECK_EQ_INT(h.version, LATCH_VERSION_TLS12);
        CHECK_EQ_INT(h.length + RECORD_HEADER_LEN, n);
        if (n < RECORD_HEADER_LEN || (size_t)h.length + RECORD_HEADER_LEN != n)
            continue;
        CHECK_EQ_INT(c->read.sequence, record_num(v, i, "sequence_number"));
        int rc = record_open(&c->read, &h, wire + RECORD_HEADER_LEN, &plain, &plain_len, &type);
        CHECK_EQ_INT(rc, 0);
        if (rc != 0)
            continue;
        CHECK_EQ_INT(type, CONTENT_HANDSHAKE);
        CHECK_EQ_INT(plain_len, content_len);
        if (plain_len == content_len)
            CHECK_MEM(plain, content, plain_len);
        if (len + plain_len <= 65536) {
            memcpy(flight + len, plain, plain_len);
            len += plain_len;
        }
    }
    CHECK(len > 0);
    *flight_len = len;
    return flight;
}

/* ---- step 3: the server's messages through the real handlers ------------- */

/* As handshake_receive_message does it: prior hash if needed, transcript,
 * then the read handler on the body. */
static int read_server_message(latch_conn *c, const uint8_t *msg, size_t len)
{
    int (*handler)(latch_conn *, cursor *) = NULL;
    int needs_prior = 0;
    cursor body;
    switch (msg[0]) {
    case HANDSHAKE_ENCRYPTED_EXTENSIONS:
        handler = encrypted_extensions_read;
        break;
    case HANDSHAKE_CERTIFICATE:
        handler = certificate13_read;
        break;
    case HANDSHAKE_CERTIFICATE_VERIFY:
        handler = certificate_verify_read;
        needs_prior = 1;
        break;
    case HANDSHAKE_FINISHED:
        handler = finished13_read;
        needs_prior = 1;
        break;
    default:
        fprintf(stderr, "unexpected server message %u\n", msg[0]);
        return -1;
    }
    if (needs_prior) {
        c->hs->prior_hash_len = sizeof c->hs->prior_hash;
        int rc = transcript_hash(c, c->hs->prior_hash, &c->hs->prior_hash_len);
        if (rc != 0)
            return rc;
    }
    int rc = transcript_add(c, msg, len);
    if (rc != 0)
        return rc;
    cursor_init(&body, msg + 4, len - 4);
    return handler(c, &body);
}

/* Next message of a flight: 0 with msg and len set, or -1 at the end / on a bad length. */
static int next_message(const uint8_t *flight, size_t flight_len, size_t *off,
                        const uint8_t **msg, size_t *len)
{
    if (*off + 4 > flight_len)
        return -1;
    const uint8_t *m = flight + *off;
    size_t body = (size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3];
    if (*off + 4 + body > flight_len)
        return -1;
    *msg = m;
    *len = 4 + body;
    *off += 4 + body;
    return 0;
}

/* call_ee: run encrypted_extensions_read (else only add EE to the transcript). */
static void check_server_flight(vec *v, latch_conn *c, const uint8_t *flight, size_t flight_len,
                                int call_ee)
{
    const uint8_t *msg;
    size_t len, off = 0, count = 0, n;
    uint8_t types[8];
    while (next_message(flight, flight_len, &off, &msg, &len) == 0) {
        int rc;
        if (count < sizeof types)
            types[count] = msg[0];
        count++;
        if (msg[0] == HANDSHAKE_CERTIFICATE_VERIFY)
            check_transcript(v, c, "client_hello..certificate");
        if (msg[0] == HANDSHAKE_FINISHED)
            check_transcript(v, c, "client_hello..certificate_verify");
        if (msg[0] == HANDSHAKE_ENCRYPTED_EXTENSIONS && !call_ee)
            rc = transcript_add(c, msg, len);
        else
            rc = read_server_message(c, msg, len);
        CHECK_EQ_INT(rc, 0);
        if (rc != 0) {
            fprintf(stderr, "%s: message %u failed: %s\n", v->file, msg[0], c->reason);
            return;
        }
        if (msg[0] == HANDSHAKE_CERTIFICATE) {
            CHECK(c->peer_public_key != NULL);
            uint8_t *der = vec_hex(v, &n, "server_cert_der");
            EVP_PKEY *expected = latch_leaf_public_key(der, n);
            CHECK(expected != NULL);
            CHECK(c->peer_public_key != NULL && expected != NULL &&
                  EVP_PKEY_eq(c->peer_public_key, expected) == 1);
            EVP_PKEY_free(expected);
        }
        if (msg[0] == HANDSHAKE_CERTIFICATE_VERIFY) {
            /* the RFC's / the capture's RSA-PSS signature, verified by our code */
            uint8_t *scheme = vec_hex(v, &n, "certificate_verify.scheme");
            CHECK_EQ_INT(c->signature_scheme, n == 2 ? (scheme[0] << 8 | scheme[1]) : -1);
            CHECK_EQ_INT(c->hs->prior_hash_len, v->hash_len);
            CHECK_HEX(v, msg + 8, len - 8, "certificate_verify.signature");
        }
        if (msg[0] == HANDSHAKE_FINISHED) {
            CHECK_HEX(v, msg + 4, len - 4, "server_finished_verify_data");
            check_transcript(v, c, "client_hello..server_finished");
            CHECK_HEX(v, c->hs->secret, c->hash_len, "secrets.master_secret");
            CHECK_HEX(v, c->client_application_secret, c->hash_len,
                      "secrets.client_application_traffic_secret_0");
            CHECK_HEX(v, c->server_application_secret, c->hash_len,
                      "secrets.server_application_traffic_secret_0");
            CHECK_HEX(v, c->hs->exporter_secret, c->hash_len, "secrets.exporter_master_secret");
            check_traffic_keys(v, c, c->server_application_secret, "server_application");
            check_traffic_keys(v, c, c->client_application_secret, "client_application");
            /* finished13_read switched the read side to the application keys */
            CHECK(c->read.active && c->read.sequence == 0);
            CHECK_HEX(v, c->read.iv, 12, "traffic_keys.server_application.iv");
        }
    }
    CHECK_EQ_INT(off, flight_len);
    CHECK(count >= 2 && count <= sizeof types);
    if (count >= 2 && count <= sizeof types) {
        CHECK_EQ_INT(types[0], HANDSHAKE_ENCRYPTED_EXTENSIONS);
        CHECK_EQ_INT(types[count - 1], HANDSHAKE_FINISHED);
    }
}

/* ---- step 4: the client's Finished and the resumption secret ------------- */

static void check_client_finished(vec *v, latch_conn *c)
{
    uint8_t verify[LATCH_MAX_HASH_LEN + 8], msg[4 + LATCH_MAX_HASH_LEN];
    cursor out;
    size_t n;
    byte_queue q = {0};

    /* compatibility CCS from the client, if the vector has one */
    for (size_t i = 0; i < record_count(v); i++)
        if (strcmp(record_str(v, i, "direction"), "client_to_server") == 0 &&
            record_num(v, i, "content_type") == CONTENT_CHANGE_CIPHER_SPEC) {
            byte_queue_free(&c->send);
            CHECK_EQ_INT(engine_send_compat_change_cipher_spec(c), 0);
            CHECK_HEX(v, byte_queue_front(&c->send), byte_queue_length(&c->send),
                      "records[%zu].record", i);
            byte_queue_free(&c->send);
        }

    cursor_init(&out, verify, sizeof verify);
    CHECK_EQ_INT(finished13_write(c, &out), 0);
    CHECK_HEX(v, verify, out.off, "client_finished_verify_data");
    if (out.off != c->hash_len)
        return;

    msg[0] = HANDSHAKE_FINISHED;
    msg[1] = 0;
    msg[2] = 0;
    msg[3] = (uint8_t)c->hash_len;
    memcpy(msg + 4, verify, c->hash_len);
    long idx = -1;
    for (size_t i = 0; i < record_count(v) && idx < 0; i++)
        if (record_is(v, i, "client_to_server", "client_handshake"))
            idx = (long)i;
    CHECK(idx >= 0);
    if (idx >= 0) {
        CHECK_HEX(v, msg, 4 + c->hash_len, "records[%ld].messages[0].bytes", idx);
        /* sealed under our client handshake keys: the very record on the wire */
        CHECK_EQ_INT(c->write.sequence, record_num(v, idx, "sequence_number"));
        CHECK_EQ_INT(record_write(&c->write, &q, CONTENT_HANDSHAKE, LATCH_VERSION_TLS12, msg,
                                  4 + c->hash_len),
                     0);
        CHECK_HEX(v, byte_queue_front(&q), byte_queue_length(&q), "records[%ld].record", idx);
        byte_queue_free(&q);
    }

    CHECK_EQ_INT(transcript_add(c, msg, 4 + c->hash_len), 0);
    check_transcript(v, c, "client_hello..client_finished");
    CHECK_EQ_INT(tls13_derive_resumption_secret(c), 0);
    CHECK_HEX(v, c->resumption_secret, c->hash_len, "secrets.resumption_master_secret");

    /* PSK = HKDF-Expand-Label(resumption_master_secret, "resumption", nonce) */
    for (size_t i = 0; i < json_count(v->root, "tickets"); i++) {
        uint8_t psk[LATCH_MAX_HASH_LEN];
        uint8_t *nonce = vec_hex(v, &n, "tickets[%zu].ticket_nonce", i);
        CHECK_EQ_INT(tls13_expand_label(&c->config->crypto, v->hash, c->resumption_secret,
                                        c->hash_len, "resumption", nonce, n, psk, c->hash_len),
                     0);
        CHECK_HEX(v, psk, c->hash_len, "tickets[%zu].psk", i);
    }
}

/* ---- step 5: application traffic ----------------------------------------- */

/* After a NewSessionTicket the client keeps the session to resume: the
 * ticket as sent and PSK = HKDF-Expand-Label(res master, "resumption", nonce). */
static void check_ticket_kept(vec *v, latch_conn *c, const uint8_t *msg, size_t len,
                              size_t index)
{
    cursor body, nonce, ticket;
    uint32_t lifetime = 0, age_add = 0;
    double expected_lifetime = -1;
    size_t n;
    cursor_init(&body, msg + 4, len - 4);
    CHECK_EQ_INT(cursor_read_u32(&body, &lifetime), 0);
    CHECK_EQ_INT(cursor_read_u32(&body, &age_add), 0);
    CHECK_EQ_INT(cursor_read_vector(&body, 1, 0, 255, &nonce), 0);
    CHECK_EQ_INT(cursor_read_vector(&body, 2, 1, 0xffff, &ticket), 0);
    CHECK_HEX(v, nonce.data, nonce.len, "tickets[%zu].ticket_nonce", index);
    char path[64];
    snprintf(path, sizeof path, "tickets[%zu].ticket_lifetime", index);
    CHECK_EQ_INT(json_number(v->root, path, &expected_lifetime), 0);
    CHECK_EQ_INT(lifetime, (long long)expected_lifetime);
    uint8_t *age = vec_hex(v, &n, "tickets[%zu].ticket_age_add", index);
    CHECK_EQ_INT(age_add, n == 4 ? ((uint32_t)age[0] << 24 | (uint32_t)age[1] << 16 |
                                    (uint32_t)age[2] << 8 | age[3])
                                 : 0);
    CHECK(c->fresh != NULL);
    if (c->fresh == NULL)
        return;
    CHECK_EQ_INT(c->fresh->version, LATCH_VERSION_TLS13);
    CHECK_EQ_INT(c->fresh->suite, c->suite->id);
    CHECK_EQ_INT(c->fresh->lifetime, lifetime);
    CHECK_EQ_INT(c->fresh->age_add, age_add);
    CHECK_EQ_INT(c->fresh->ticket_len, ticket.len);
    if (c->fresh->ticket_len == ticket.len)
        CHECK_MEM(c->fresh->ticket, ticket.data, ticket.len);
    CHECK_HEX(v, c->fresh->secret, c->fresh->secret_len, "tickets[%zu].psk", index);
    CHECK(strcmp(c->fresh->server_name, c->server_name) == 0);
}

static void check_application_records(vec *v, latch_conn *c)
{
    record_protection rd = {0}, wr = {0};
    size_t tickets = 0, app_in = 0, app_out = 0;
    CHECK_EQ_INT(tls13_protection(c, c->server_application_secret, 0, &rd), 0);
    CHECK_EQ_INT(tls13_protection(c, c->client_application_secret, 1, &wr), 0);
    CHECK_MEM(rd.iv, c->read.iv, 12);
    for (size_t i = 0; i < record_count(v); i++) {
        size_t n, content_len;
        long inner = record_num(v, i, "inner_content_type");
        if (record_is(v, i, "server_to_client", "server_application")) {
            uint8_t *wire = vec_hex(v, &n, "records[%zu].record", i);
            uint8_t *content = vec_hex(v, &content_len, "records[%zu].content", i);
            record_header h;
            uint8_t *plain = NULL, type = 0;
            size_t plain_len = 0;
            CHECK_EQ_INT(record_read_header(wire, n, &h), 0);
            CHECK_EQ_INT(h.length + RECORD_HEADER_LEN, n);
            if ((size_t)h.length + RECORD_HEADER_LEN != n)
                continue;
            CHECK_EQ_INT(rd.sequence, record_num(v, i, "sequence_number"));
            int rc = record_open(&rd, &h, wire + RECORD_HEADER_LEN, &plain, &plain_len, &type);
            CHECK_EQ_INT(rc, 0);
            if (rc != 0)
                continue;
            CHECK_EQ_INT(type, inner);
            CHECK_EQ_INT(plain_len, content_len);
            if (plain_len == content_len)
                CHECK_MEM(plain, content, plain_len);
            if (type == CONTENT_APPLICATION_DATA) {
                CHECK_HEX(v, plain, plain_len, "application_data.server_to_client");
                app_in++;
            }
            if (type == CONTENT_HANDSHAKE) {
                /* NewSessionTickets, through the post-handshake handler */
                const uint8_t *msg;
                size_t len, off = 0;
                while (next_message(plain, plain_len, &off, &msg, &len) == 0) {
                    CHECK_EQ_INT(msg[0], HANDSHAKE_NEW_SESSION_TICKET);
                    CHECK_HEX(v, msg, len, "tickets[%zu].message", tickets);
                    CHECK_EQ_INT(handshake_post_message(c, msg, len), 0);
                    check_ticket_kept(v, c, msg, len, tickets);
                    tickets++;
                }
                CHECK_EQ_INT(off, plain_len);
            }
        } else if (record_is(v, i, "client_to_server", "client_application")) {
            byte_queue q = {0};
            uint8_t *content = vec_hex(v, &content_len, "records[%zu].content", i);
            if (inner == CONTENT_APPLICATION_DATA) {
                CHECK_HEX(v, content, content_len, "application_data.client_to_server");
                app_out++;
            }
            CHECK_EQ_INT(wr.sequence, record_num(v, i, "sequence_number"));
            CHECK_EQ_INT(record_write(&wr, &q, (uint8_t)inner, LATCH_VERSION_TLS12, content,
                                      content_len),
                         0);
            CHECK_HEX(v, byte_queue_front(&q), byte_queue_length(&q), "records[%zu].record", i);
            byte_queue_free(&q);
        }
    }
    CHECK_EQ_INT(tickets, json_count(v->root, "tickets"));
    CHECK_EQ_INT(app_in, 1);
    CHECK_EQ_INT(app_out, 1);
    CHECK(!c->failed);
    record_protection_clear(&rd);
    record_protection_clear(&wr);
}

/* ---- HKDF-Expand-Label against the RFC 8448 trace ----------------------- */

/* For every {PRK, info, expanded} triple of the trace: decode the HkdfLabel
 * in info (length, "tls13 " + label, context) and have tls13_expand_label
 * rebuild it from the label and context; the output must match. */
static void check_trace_labels(vec *v, latch_config *cfg, size_t expected_count)
{
    static const char *const prefixes[] = {"", "key ", "iv "};
    size_t steps = json_count(v->root, "trace"), checked = 0;
    for (size_t i = 0; i < steps; i++) {
        char path[64];
        snprintf(path, sizeof path, "trace[%zu].values", i);
        const json_value *values = json_get(v->root, path);
        for (size_t p = 0; values != NULL && p < 3; p++) {
            char info_key[32], out_key[32];
            size_t prk_len, info_len, expanded_len;
            snprintf(info_key, sizeof info_key, "%sinfo", prefixes[p]);
            snprintf(out_key, sizeof out_key, "%sexpanded", prefixes[p]);
            uint8_t *info = member_hex(v, values, info_key, &info_len);
            uint8_t *expanded = member_hex(v, values, out_key, &expanded_len);
            uint8_t *prk = member_hex(v, values, "PRK", &prk_len);
            if (info == NULL)
                continue;
            CHECK(expanded != NULL && prk != NULL);
            if (expanded == NULL || prk == NULL)
                continue;
            /* struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } */
            cursor r, label, context;
            uint16_t out_len = 0;
            char label_text[256];
            uint8_t out[256];
            cursor_init(&r, info, info_len);
            int ok = cursor_read_u16(&r, &out_len) == 0 &&
                     cursor_read_vector(&r, 1, 7, 255, &label) == 0 &&
                     cursor_read_vector(&r, 1, 0, 255, &context) == 0 &&
                     cursor_expect_end(&r) == 0 && memcmp(label.data, "tls13 ", 6) == 0;
            CHECK(ok);
            if (!ok)
                continue;
            memcpy(label_text, label.data + 6, label.len - 6);
            label_text[label.len - 6] = '\0';
            CHECK_EQ_INT(out_len, expanded_len);
            CHECK_EQ_INT(tls13_expand_label(&cfg->crypto, v->hash, prk, prk_len, label_text,
                                            context.data, context.len, out, out_len),
                         0);
            CHECK_MEM(out, expanded, expanded_len);
            /* and the same through HKDF-Expand with the RFC's info bytes */
            uint8_t direct[256];
            CHECK_EQ_INT(latch_hkdf_expand(&cfg->crypto, v->hash, prk, prk_len, info, info_len,
                                           direct, out_len),
                         0);
            CHECK_MEM(direct, out, out_len);
            checked++;
        }
    }
    CHECK_EQ_INT(checked, expected_count);
}

/* ---- encrypted extensions on a fresh connection ---------------------------- */

static void check_encrypted_extensions_alone(vec *v, latch_config *cfg, int expected)
{
    long idx = find_message_record(v, "encrypted_extensions");
    size_t n;
    cursor body;
    latch_conn *c = conn_for(v, cfg);
    if (c == NULL || idx < 0) {
        latch_conn_free(c);
        return;
    }
    uint8_t *content = vec_hex(v, &n, "records[%ld].messages[0].bytes", idx);
    CHECK(n >= 4);
    if (n >= 4) {
        cursor_init(&body, content + 4, n - 4);
        CHECK_EQ_INT(encrypted_extensions_read(c, &body), expected);
        CHECK_EQ_INT(latch_conn_error(c), expected);
        if (expected != 0)
            CHECK_EQ_INT(latch_error_alert((latch_error)expected), 110); /* unsupported_extension */
    }
    latch_conn_free(c);
}

/* ---- step 6: tampering ---------------------------------------------------- */

/* Flip one byte of the first message of type target (its last byte: the
 * signature's or the verify_data's) and expect decrypt_error. */
static void check_tamper(vec *v, latch_config *cfg, uint8_t target)
{
    const uint8_t *msg;
    size_t len, off = 0, flight_len;
    int found = 0;
    latch_conn *c = conn_for(v, cfg);
    if (c == NULL)
        return;
    if (do_server_hello(v, c, 0) != 0) {
        latch_conn_free(c);
        return;
    }
    uint8_t *flight = decrypt_server_flight(v, c, &flight_len, 0);
    while (!found && next_message(flight, flight_len, &off, &msg, &len) == 0) {
        if (msg[0] == target) {
            uint8_t *copy = vec_keep(v, malloc(len));
            memcpy(copy, msg, len);
            copy[len - 1] ^= 0x01;
            CHECK_EQ_INT(read_server_message(c, copy, len), LATCH_ERR_DECRYPT_ERROR);
            CHECK_EQ_INT(latch_conn_error(c), LATCH_ERR_DECRYPT_ERROR);
            CHECK(c->failed);
            found = 1;
        } else if (msg[0] == HANDSHAKE_ENCRYPTED_EXTENSIONS) {
            CHECK_EQ_INT(transcript_add(c, msg, len), 0);
        } else {
            CHECK_EQ_INT(read_server_message(c, msg, len), 0);
        }
    }
    CHECK(found);
    latch_conn_free(c);
}

/* A flipped ciphertext byte in the server's first encrypted record. */
static void check_tamper_record(vec *v, latch_config *cfg)
{
    size_t n;
    latch_conn *c = conn_for(v, cfg);
    if (c == NULL)
        return;
    for (size_t i = 0; i < record_count(v); i++) {
        if (!record_is(v, i, "server_to_client", "server_handshake"))
            continue;
        if (do_server_hello(v, c, 0) == 0) {
            uint8_t *wire = vec_hex(v, &n, "records[%zu].record", i);
            record_header h;
            uint8_t *plain, type;
            size_t plain_len;
            CHECK_EQ_INT(record_read_header(wire, n, &h), 0);
            wire[RECORD_HEADER_LEN + 3] ^= 0x80;
            CHECK_EQ_INT(record_open(&c->read, &h, wire + RECORD_HEADER_LEN, &plain, &plain_len,
                                     &type),
                         LATCH_ERR_BAD_RECORD_MAC);
            CHECK_EQ_INT(c->read.sequence, 0);
        }
        break;
    }
    latch_conn_free(c);
}

/* ---- full handshakes ---------------------------------------------------- */

static void test_full_handshake(latch_config *cfg, const char *file, int ee_expected,
                                size_t trace_labels)
{
    vec v;
    size_t flight_len;
    if (!vec_load(&v, file))
        return;
    printf("%s\n", file);
    if (trace_labels > 0)
        check_trace_labels(&v, cfg, trace_labels);
    check_encrypted_extensions_alone(&v, cfg, ee_expected);

    latch_conn *c = conn_for(&v, cfg);
    if (c != NULL && do_server_hello(&v, c, 1) == 0) {
        uint8_t *flight = decrypt_server_flight(&v, c, &flight_len, 1);
        check_server_flight(&v, c, flight, flight_len, ee_expected == 0);
        if (!c->failed) {
            check_client_finished(&v, c);
            check_application_records(&v, c);
        }
    }
    latch_conn_free(c);

    check_tamper(&v, cfg, HANDSHAKE_CERTIFICATE_VERIFY);
    check_tamper(&v, cfg, HANDSHAKE_FINISHED);
    check_tamper_record(&v, cfg);
    vec_free(&v);
}

/* ---- RFC 8448 section 4: resumption with a PSK, 0-RTT -------------------- */

/* The pre_shared_key extension (the last one) of a ClientHello message:
 * the first identity and the offset of the binders vector. */
static int client_hello_psk(const uint8_t *ch, size_t len, cursor *identity,
                            size_t *binders_off)
{
    cursor r, skip, extensions;
    uint16_t type = 0;
    if (len < 4)
        return -1;
    cursor_init(&r, ch + 4, len - 4);
    if (cursor_skip(&r, 2 + 32) != 0 || cursor_read_vector(&r, 1, 0, 32, &skip) != 0 ||
        cursor_read_vector(&r, 2, 2, 0xfffe, &skip) != 0 ||
        cursor_read_vector(&r, 1, 1, 0xff, &skip) != 0 ||
        cursor_read_vector(&r, 2, 0, 0xffff, &extensions) != 0 || cursor_expect_end(&r) != 0)
        return -1;
    while (cursor_remaining(&extensions) > 0) {
        cursor data, identities;
        if (cursor_read_u16(&extensions, &type) != 0 ||
            cursor_read_vector(&extensions, 2, 0, 0xffff, &data) != 0)
            return -1;
        if (type != 41)
            continue;
        if (cursor_remaining(&extensions) != 0) /* must be the last extension */
            return -1;
        if (cursor_read_vector(&data, 2, 7, 0xffff, &identities) != 0 ||
            cursor_read_vector(&identities, 2, 1, 0xffff, identity) != 0)
            return -1;
        *binders_off = 4 + (size_t)(cursor_position(&data) - (ch + 4));
        return 0;
    }
    return -1;
}

static void test_rfc8448_resumed(latch_config *cfg)
{
    vec v;
    size_t n, psk_len, prefix_len, ch_len, flight_len, binders_off = 0;
    uint8_t empty_hash[LATCH_MAX_HASH_LEN], binder_key[LATCH_MAX_HASH_LEN];
    uint8_t finished_key[LATCH_MAX_HASH_LEN], prefix_hash[LATCH_MAX_HASH_LEN];
    uint8_t binder[LATCH_MAX_HASH_LEN], ch_hash[LATCH_MAX_HASH_LEN], secret[LATCH_MAX_HASH_LEN];
    const latch_crypto *crypto = &cfg->crypto;
    cursor identity;
    latch_session offer;
    if (!vec_load(&v, "rfc8448-resumed-0rtt.json"))
        return;
    printf("%s\n", v.file);
    check_trace_labels(&v, cfg, 24);

    uint8_t *psk = vec_hex(&v, &psk_len, "psk");
    uint8_t *ch = vec_hex(&v, &ch_len, "records[0].messages[0].bytes");
    uint8_t *prefix = vec_hex(&v, &prefix_len, "psk_binder.client_hello_prefix");
    int parsed = client_hello_psk(ch, ch_len, &identity, &binders_off);
    CHECK_EQ_INT(parsed, 0);
    CHECK_EQ_INT(binders_off, prefix_len);
    CHECK(psk_len <= sizeof offer.secret);
    if (parsed != 0 || binders_off != prefix_len || psk_len > sizeof offer.secret ||
        ch_len != prefix_len + 35) {
        CHECK_EQ_INT(ch_len, prefix_len + 35);
        vec_free(&v);
        return;
    }
    /* the session of section 3's ticket, as the client kept it */
    memset(&offer, 0, sizeof offer);
    offer.version = LATCH_VERSION_TLS13;
    offer.suite = 0x1301;
    memcpy(offer.secret, psk, psk_len);
    offer.secret_len = psk_len;
    offer.ticket = vec_keep(&v, malloc(identity.len));
    memcpy(offer.ticket, identity.data, identity.len);
    offer.ticket_len = identity.len;
    snprintf(offer.server_name, sizeof offer.server_name, "%s",
             json_string(v.root, "server_name") ? json_string(v.root, "server_name") : "");

    /* a ServerHello selecting a PSK that was never offered is refused */
    {
        latch_conn *probe = conn_for(&v, cfg);
        long sh = find_message_record(&v, "server_hello");
        uint8_t *sh_msg = vec_hex(&v, &n, "records[%ld].messages[0].bytes", sh < 0 ? 0 : sh);
        if (probe != NULL && n > 4) {
            cursor body;
            cursor_init(&body, sh_msg + 4, n - 4);
            CHECK_EQ_INT(server_hello_read(probe, &body), LATCH_ERR_ILLEGAL_PARAMETER);
            CHECK_EQ_INT(probe->resumed, 0);
        }
        latch_conn_free(probe);
    }
    v.offer = &offer;
    /* EE carries early_data, which latch never offers */
    check_encrypted_extensions_alone(&v, cfg, LATCH_ERR_UNSUPPORTED_EXTENSION);

    latch_conn *c = conn_for(&v, cfg);
    if (c == NULL) {
        vec_free(&v);
        return;
    }
    CHECK(c->offered != NULL);

    /* early secret from the PSK */
    c->suite = suite_find(0x1301);
    CHECK_EQ_INT(tls13_early_secret(c, psk, psk_len), 0);
    CHECK_EQ_INT(c->hash_len, 32);
    CHECK_HEX(&v, c->hs->secret, c->hash_len, "secrets.early_secret");

    /* binder_key = Derive-Secret(early, "res binder", ""); binder = HMAC of
     * the truncated ClientHello's hash under its finished key */
    CHECK_EQ_INT(latch_hash_oneshot(crypto, LATCH_HASH_SHA256, NULL, 0, empty_hash, &n), 0);
    CHECK_EQ_INT(tls13_expand_label(crypto, LATCH_HASH_SHA256, c->hs->secret, 32, "res binder",
                                    empty_hash, 32, binder_key, 32),
                 0);
    CHECK_HEX(&v, binder_key, 32, "psk_binder.binder_key");
    CHECK_EQ_INT(tls13_expand_label(crypto, LATCH_HASH_SHA256, binder_key, 32, "finished", NULL,
                                    0, finished_key, 32),
                 0);
    CHECK_HEX(&v, finished_key, 32, "psk_binder.binder_finished_key");
    CHECK_EQ_INT(latch_hash_oneshot(crypto, LATCH_HASH_SHA256, prefix, prefix_len, prefix_hash,
                                    &n),
                 0);
    CHECK_HEX(&v, prefix_hash, 32, "psk_binder.binder_hash");
    CHECK_EQ_INT(tls13_finished(c, binder_key, prefix_hash, 32, binder), 0);
    CHECK_HEX(&v, binder, 32, "psk_binder.binder");
    /* the sent ClientHello = prefix || binders<33> { binder<32> } */
    CHECK_MEM(ch, prefix, prefix_len);
    CHECK(ch[prefix_len] == 0 && ch[prefix_len + 1] == 33 && ch[prefix_len + 2] == 32);
    CHECK_MEM(ch + prefix_len + 3, binder, 32);

    /* the library's own binder patch, on the RFC's ClientHello with the
     * binder zeroed, must give back the RFC's ClientHello */
    {
        uint8_t *body = vec_keep(&v, malloc(ch_len - 4));
        cursor out;
        memcpy(body, ch + 4, ch_len - 4);
        memset(body + ch_len - 4 - 32, 0, 32);
        cursor_init(&out, body, ch_len - 4);
        out.off = ch_len - 4;
        CHECK_EQ_INT(client_psk_binder_patch(c, &out), 0);
        CHECK_MEM(body, ch + 4, ch_len - 4);
    }

    /* 0-RTT: client_early_traffic_secret and the early data record */
    CHECK_EQ_INT(latch_hash_oneshot(crypto, LATCH_HASH_SHA256, ch, ch_len, ch_hash, &n), 0);
    CHECK_EQ_INT(tls13_expand_label(crypto, LATCH_HASH_SHA256, c->hs->secret, 32, "c e traffic",
                                    ch_hash, 32, secret, 32),
                 0);
    CHECK_HEX(&v, secret, 32, "secrets.client_early_traffic_secret");
    uint8_t early_exporter[32];
    CHECK_EQ_INT(tls13_expand_label(crypto, LATCH_HASH_SHA256, c->hs->secret, 32, "e exp master",
                                    ch_hash, 32, early_exporter, 32),
                 0);
    CHECK_HEX(&v, early_exporter, 32, "secrets.early_exporter_master_secret");
    record_protection early = {0};
    CHECK_EQ_INT(tls13_protection(c, secret, 1, &early), 0);
    for (size_t i = 0; i < record_count(&v); i++)
        if (record_is(&v, i, "client_to_server", "client_early") &&
            record_num(&v, i, "inner_content_type") == CONTENT_APPLICATION_DATA) {
            byte_queue q = {0};
            uint8_t *content = vec_hex(&v, &n, "records[%zu].content", i);
            CHECK_HEX(&v, content, n, "application_data.client_to_server_early");
            CHECK_EQ_INT(record_write(&early, &q, CONTENT_APPLICATION_DATA, LATCH_VERSION_TLS12,
                                      content, n),
                         0);
            CHECK_HEX(&v, byte_queue_front(&q), byte_queue_length(&q), "records[%zu].record", i);
            byte_queue_free(&q);
        }

    /* ServerHello through the real handler: it accepts the offered PSK and
     * derives the early secret itself (forget the one computed above) */
    c->suite = NULL;
    c->hash_len = 0;
    memset(c->hs->secret, 0, sizeof c->hs->secret);
    if (do_server_hello(&v, c, 1) == 0) {
        CHECK_EQ_INT(c->resumed, 1);
        CHECK(c->flow == &tls13_psk_handshake);

        /* EncryptedExtensions + Finished (no certificate with a PSK) */
        uint8_t *flight = decrypt_server_flight(&v, c, &flight_len, 1);
        check_server_flight(&v, c, flight, flight_len, 0);
        CHECK(c->peer_public_key == NULL);

        /* EndOfEarlyData under the early keys, then into the transcript */
        long eoed = find_message_record(&v, "end_of_early_data");
        if (eoed >= 0 && !c->failed) {
            static const uint8_t end_of_early_data[4] = {5, 0, 0, 0};
            byte_queue q = {0};
            CHECK_HEX(&v, end_of_early_data, 4, "records[%ld].messages[0].bytes", eoed);
            CHECK_EQ_INT(early.sequence, record_num(&v, eoed, "sequence_number"));
            CHECK_EQ_INT(record_write(&early, &q, CONTENT_HANDSHAKE, LATCH_VERSION_TLS12,
                                      end_of_early_data, 4),
                         0);
            CHECK_HEX(&v, byte_queue_front(&q), byte_queue_length(&q), "records[%ld].record",
                      eoed);
            byte_queue_free(&q);
            CHECK_EQ_INT(transcript_add(c, end_of_early_data, 4), 0);
            check_client_finished(&v, c);
            check_application_records(&v, c);
        }
    }
    record_protection_clear(&early);
    latch_conn_free(c);

    check_tamper(&v, cfg, HANDSHAKE_FINISHED);
    check_tamper_record(&v, cfg);
    vec_free(&v);
}

/* The 1-RTT resumption PSK is the one section 4 resumes with. */
static void test_rfc8448_psk_link(void)
{
    vec a, b;
    size_t n1, n2;
    if (!vec_load(&a, "rfc8448-1rtt.json"))
        return;
    if (vec_load(&b, "rfc8448-resumed-0rtt.json")) {
        uint8_t *p1 = vec_hex(&a, &n1, "tickets[0].psk");
        uint8_t *p2 = vec_hex(&b, &n2, "psk");
        CHECK_EQ_INT(n1, n2);
        CHECK(n1 == n2 && memcmp(p1, p2, n1) == 0);
        vec_free(&b);
    }
    vec_free(&a);
}

int main(void)
{
    latch_config *cfg = client_config();
    if (cfg == NULL)
        return check_finish();
    /* RFC 8448 section 3: EncryptedExtensions carries record_size_limit (28),
     * which latch does not offer, so the handler refuses it */
    test_full_handshake(cfg, "rfc8448-1rtt.json", LATCH_ERR_UNSUPPORTED_EXTENSION, 20);
    test_full_handshake(cfg, "illustrated-tls13.json", 0, 0);
    test_full_handshake(cfg, "illustrated-tls13-archive-aes128.json", 0, 0);
    test_rfc8448_resumed(cfg);
    test_rfc8448_psk_link();
    latch_config_free(cfg);
    return check_finish();
}
