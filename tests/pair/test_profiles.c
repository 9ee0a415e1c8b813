/*
 * Security profiles (modern, intermediate, old) and the CBC suites of the old
 * profile, latch client <-> latch server in memory:
 * - every CBC suite with encrypt-then-MAC (RFC 7366) on and off;
 * - EtM kept on resumption (and a full handshake when it would change);
 * - modern refuses a TLS 1.2-only peer with protocol_version;
 * - a CBC-only client fails against intermediate (handshake_failure) and
 *   succeeds against old; a client offering only 3DES, or TLS 1.1, fails;
 * - RC4/3DES/NULL/EXPORT/anon/MD5 names are refused at configuration, CBC
 *   names unless the profile is old (RSA key exchange may be named);
 * - old signs with SHA-1 for a TLS 1.2 client without signature_algorithms
 *   (RFC 5246 7.4.1.4.1), intermediate refuses it.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine/internal.h"
#include "handshake/suites.h"
#include "pair.h"

static const char *const cbc_ecdsa[] = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"};
static const char *const cbc_rsa[] = {
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_RSA_WITH_AES_128_CBC_SHA",          "TLS_RSA_WITH_AES_256_CBC_SHA",
    "TLS_RSA_WITH_AES_128_CBC_SHA256",       "TLS_RSA_WITH_AES_256_CBC_SHA256"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int transfer(pair *p, latch_conn *from, latch_conn *to, size_t len)
{
    uint8_t *out = malloc(len), *in = malloc(len);
    size_t got = 0;
    for (size_t i = 0; i < len; i++)
        out[i] = (uint8_t)(i * 7 + 3);
    int ok = latch_conn_write(from, out, len) == (ssize_t)len;
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

static void report(const pair *p, const char *what)
{
    fprintf(stderr, "  %s: client '%s' server '%s'\n", what, latch_conn_error_reason(p->client),
            latch_conn_error_reason(p->server));
}

/* etm: 1 both want it; 0 the client does not offer it; -1 the server does
 * not take it. */
static void one_cbc(const char *cert, const char *suite, int etm)
{
    pair p;
    CHECK(pair_configs(&p, cert) == 0);
    CHECK(latch_config_set_profile(p.server_config, LATCH_PROFILE_OLD) == 0);
    CHECK(latch_config_set_profile(p.client_config, LATCH_PROFILE_OLD) == 0);
    CHECK(latch_config_set_ciphers(p.client_config, suite) == 0); /* old, refined to one */
    p.client_config->encrypt_then_mac = etm != 0;
    p.server_config->encrypt_then_mac = etm != -1;
    CHECK(pair_connect(&p, "localhost") == 0);
    int ok = pair_handshake(&p) == 0;
    CHECK(ok);
    if (!ok)
        report(&p, suite);
    CHECK(strcmp(latch_conn_cipher_suite_name(p.client), suite) == 0);
    CHECK(strcmp(latch_conn_cipher_suite_name(p.server), suite) == 0);
    CHECK_EQ_INT(latch_conn_version(p.server), LATCH_VERSION_TLS12);
    CHECK_EQ_INT(p.client->encrypt_then_mac, etm == 1);
    CHECK_EQ_INT(p.server->encrypt_then_mac, etm == 1);
    CHECK_EQ_INT(p.client->read.cbc && p.client->write.cbc, 1);
    CHECK_EQ_INT(p.server->read.encrypt_then_mac, etm == 1);
    CHECK_EQ_INT(latch_conn_extended_master_secret(p.client), 1);
    CHECK(transfer(&p, p.client, p.server, 100));
    CHECK(transfer(&p, p.server, p.client, 40000)); /* three records */
    CHECK(transfer(&p, p.client, p.server, 1));
    CHECK(latch_conn_close(p.client) == 0);
    pair_pump(&p);
    CHECK(latch_conn_status(p.server) & LATCH_STATUS_CLOSED);
    CHECK(latch_conn_status(p.client) & LATCH_STATUS_CLOSED);
    pair_free(&p);
}

static void test_cbc_matrix(void)
{
    static const int etm_modes[] = {1, 0, -1};
    for (size_t m = 0; m < COUNT(etm_modes); m++) {
        for (size_t i = 0; i < COUNT(cbc_ecdsa); i++)
            one_cbc(i % 2 ? "p384" : "p256", cbc_ecdsa[i], etm_modes[m]);
        for (size_t i = 0; i < COUNT(cbc_rsa); i++)
            one_cbc("rsa2048", cbc_rsa[i], etm_modes[m]);
    }
}

/* ---- resumption keeps the EtM state ---- */

static latch_session *full_handshake(pair *p)
{
    CHECK(pair_connect(p, "localhost") == 0);
    CHECK(pair_handshake(p) == 0);
    latch_session *s = latch_conn_get_session(p->client);
    latch_conn_free(p->client);
    latch_conn_free(p->server);
    p->client = p->server = NULL;
    return s;
}

/* Connect again offering s; returns 1 if resumed, with *etm the state. */
static int resume(pair *p, const latch_session *s, int *etm)
{
    p->client = latch_conn_new(p->client_config, "localhost");
    p->server = latch_conn_new(p->server_config, NULL);
    CHECK(latch_conn_set_session(p->client, s) == 0);
    int ok = pair_handshake(p) == 0;
    CHECK(ok);
    if (!ok)
        report(p, "resume");
    int resumed = latch_conn_resumed(p->client);
    CHECK_EQ_INT(latch_conn_resumed(p->server), resumed);
    *etm = p->client->encrypt_then_mac;
    CHECK_EQ_INT(p->server->encrypt_then_mac, *etm);
    CHECK(transfer(p, p->client, p->server, 64));
    latch_conn_free(p->client);
    latch_conn_free(p->server);
    p->client = p->server = NULL;
    return resumed;
}

static void test_resumption_keeps_etm(void)
{
    for (int tickets = 0; tickets < 2; tickets++) {
        pair p;
        int etm = -1;
        CHECK(pair_configs(&p, "rsa2048") == 0);
        CHECK(latch_config_set_profile(p.server_config, LATCH_PROFILE_OLD) == 0);
        CHECK(latch_config_set_tickets(p.server_config, tickets, 3600) == 0);
        CHECK(latch_config_set_profile(p.client_config, LATCH_PROFILE_OLD) == 0);
        CHECK(latch_config_set_ciphers(p.client_config, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA") == 0);
        latch_session *s = full_handshake(&p);
        CHECK(s != NULL && s->encrypt_then_mac == 1);
        CHECK_EQ_INT(resume(&p, s, &etm), 1);
        CHECK_EQ_INT(etm, 1);
        /* the session survives serialization with its EtM state */
        uint8_t *bytes = NULL;
        size_t len = 0;
        CHECK(latch_session_serialize(s, &bytes, &len) == 0);
        latch_session *copy = latch_session_parse(bytes, len);
        CHECK(copy != NULL && copy->encrypt_then_mac == 1 && copy->extended_master_secret == 1);
        free(bytes);
        /* the client no longer offers EtM: no resumption into MAC-then-encrypt */
        p.client_config->encrypt_then_mac = 0;
        CHECK_EQ_INT(resume(&p, copy, &etm), 0);
        CHECK_EQ_INT(etm, 0);
        /* a session made without EtM resumes without it */
        latch_session *plain = full_handshake(&p);
        CHECK(plain != NULL && plain->encrypt_then_mac == 0);
        CHECK_EQ_INT(resume(&p, plain, &etm), 1);
        CHECK_EQ_INT(etm, 0);
        /* ... and not into EtM either: a full handshake, with EtM */
        p.client_config->encrypt_then_mac = 1;
        CHECK_EQ_INT(resume(&p, plain, &etm), 0);
        CHECK_EQ_INT(etm, 1);
        latch_session_free(s);
        latch_session_free(copy);
        latch_session_free(plain);
        pair_free(&p);
    }
}

/* ---- profiles ---- */

static void expect_failure(pair *p, latch_error server_error, int alert)
{
    int sent = 0;
    CHECK(pair_handshake(p) != 0);
    CHECK_EQ_INT(latch_conn_error(p->server), server_error);
    CHECK_EQ_INT(latch_conn_alert(p->server, &sent), alert);
    CHECK_EQ_INT(sent, 1);
    CHECK_EQ_INT(latch_conn_error(p->client), LATCH_ERR_PEER_ALERT);
}

static void test_modern_refuses_tls12(void)
{
    pair p;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_profile(p.server_config, LATCH_PROFILE_MODERN) == 0);
    CHECK(latch_config_set_versions(p.client_config, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    expect_failure(&p, LATCH_ERR_PROTOCOL_VERSION, 70);
    pair_free(&p);
    /* and a 1.3 client gets 1.3 */
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_profile(p.server_config, LATCH_PROFILE_MODERN) == 0);
    CHECK(latch_config_set_profile(p.client_config, LATCH_PROFILE_MODERN) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) == 0);
    CHECK_EQ_INT(latch_conn_version(p.client), LATCH_VERSION_TLS13);
    pair_free(&p);
    /* a modern client against a TLS 1.2-only server */
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_profile(p.client_config, LATCH_PROFILE_MODERN) == 0);
    CHECK(latch_config_set_versions(p.server_config, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    expect_failure(&p, LATCH_ERR_PROTOCOL_VERSION, 70);
    pair_free(&p);
}

static void test_cbc_only_client(void)
{
    char list[1024] = "";
    for (size_t i = 0; i < COUNT(cbc_rsa); i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ":" : "", cbc_rsa[i]);
    pair p;
    CHECK(pair_configs(&p, "rsa2048") == 0); /* intermediate: the default */
    CHECK(latch_config_set_profile(p.client_config, LATCH_PROFILE_OLD) == 0);
    CHECK(latch_config_set_ciphers(p.client_config, list) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    expect_failure(&p, LATCH_ERR_HANDSHAKE_FAILURE, 40);
    pair_free(&p);
    CHECK(pair_configs(&p, "rsa2048") == 0);
    CHECK(latch_config_set_profile(p.server_config, LATCH_PROFILE_INTERMEDIATE) == 0);
    CHECK(latch_config_set_profile(p.client_config, LATCH_PROFILE_OLD) == 0);
    CHECK(latch_config_set_ciphers(p.client_config, list) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    expect_failure(&p, LATCH_ERR_HANDSHAKE_FAILURE, 40);
    pair_free(&p);
    CHECK(pair_configs(&p, "rsa2048") == 0);
    CHECK(latch_config_set_profile(p.server_config, LATCH_PROFILE_OLD) == 0);
    CHECK(latch_config_set_profile(p.client_config, LATCH_PROFILE_OLD) == 0);
    CHECK(latch_config_set_ciphers(p.client_config, list) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) == 0);
    /* the server's order: ECDHE before RSA key exchange, SHA-256 MAC first */
    CHECK(strcmp(latch_conn_cipher_suite_name(p.server), "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256") ==
          0);
    CHECK_EQ_INT(p.server->encrypt_then_mac, 1);
    CHECK(transfer(&p, p.client, p.server, 5000));
    pair_free(&p);
    /* both sides old: TLS 1.3 still wins */
    CHECK(pair_configs(&p, "rsa2048") == 0);
    CHECK(latch_config_set_profile(p.server_config, LATCH_PROFILE_OLD) == 0);
    CHECK(latch_config_set_profile(p.client_config, LATCH_PROFILE_OLD) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) == 0);
    CHECK_EQ_INT(latch_conn_version(p.client), LATCH_VERSION_TLS13);
    pair_free(&p);
}

/* ---- a peer asking only for what latch never does ---- */

/* Rewrites the first ClientHello: every cipher suite -> 3DES (0x000a), or
 * the legacy version -> TLS 1.1. */
enum rewrite_kind { ONLY_3DES, ONLY_TLS11 };

static size_t rewrite_hello(void *arg, int from_client, uint8_t *b, size_t len)
{
    enum rewrite_kind *kind = arg;
    if (!from_client || len < 5 + 4 + 2 + 32 + 1 || b[0] != 22 || b[5] != 1)
        return len;
    size_t at = 5 + 4;
    if (*kind == ONLY_TLS11) {
        b[at + 1] = 2; /* client_version 3.2; no supported_versions (1.2-only client) */
        return len;
    }
    at += 2 + 32;
    at += 1 + b[at];
    size_t suites_len = (size_t)b[at] << 8 | b[at + 1];
    for (size_t i = 0; i < suites_len; i += 2) {
        b[at + 2 + i] = 0x00;
        b[at + 2 + i + 1] = 0x0a; /* TLS_RSA_WITH_3DES_EDE_CBC_SHA */
    }
    return len;
}

static void test_never_suites_and_versions(void)
{
    static const enum rewrite_kind kinds[] = {ONLY_3DES, ONLY_TLS11};
    static const latch_error errors[] = {LATCH_ERR_HANDSHAKE_FAILURE, LATCH_ERR_PROTOCOL_VERSION};
    static const int alerts[] = {40, 70};
    for (size_t k = 0; k < 2; k++) {
        enum rewrite_kind kind = kinds[k];
        pair p;
        CHECK(pair_configs(&p, "rsa2048") == 0);
        CHECK(latch_config_set_profile(p.server_config, LATCH_PROFILE_OLD) == 0);
        CHECK(latch_config_set_profile(p.client_config, LATCH_PROFILE_OLD) == 0);
        CHECK(latch_config_set_ciphers(p.client_config, "TLS_RSA_WITH_AES_128_CBC_SHA") == 0);
        p.tamper = rewrite_hello;
        p.tamper_arg = &kind;
        CHECK(pair_connect(&p, "localhost") == 0);
        expect_failure(&p, errors[k], alerts[k]);
        pair_free(&p);
    }
}

static void test_configuration(void)
{
    static const struct {
        const char *name, *reason;
    } refused[] = {
        {"TLS_RSA_WITH_RC4_128_SHA", "RC4"},
        {"TLS_ECDHE_RSA_WITH_RC4_128_SHA", "RC4"},
        {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "3DES"},
        {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "3DES"},
        {"TLS_RSA_WITH_NULL_SHA256", "NULL"},
        {"TLS_ECDHE_ECDSA_WITH_NULL_SHA", "NULL"},
        {"TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", "export"},
        {"TLS_DH_anon_WITH_AES_128_CBC_SHA", "anonymous"},
        {"TLS_RSA_WITH_DES_CBC_SHA", "DES"},
        {"TLS_RSA_WITH_NULL_MD5", "NULL"},
    };
    latch_config *cfg = latch_config_new(LATCH_ROLE_SERVER);
    for (size_t i = 0; i < COUNT(refused); i++) {
        CHECK_EQ_INT(latch_config_set_ciphers(cfg, refused[i].name), LATCH_ERR_CONFIG);
        CHECK(strstr(latch_config_error(cfg), refused[i].reason) != NULL);
        CHECK(strstr(latch_config_error(cfg), "refused") != NULL);
    }
    CHECK_EQ_INT(latch_config_set_versions(cfg, LATCH_VERSION_TLS11, LATCH_VERSION_TLS13),
                 LATCH_ERR_CONFIG);
    CHECK_EQ_INT(latch_config_set_versions(cfg, LATCH_VERSION_TLS10, LATCH_VERSION_TLS12),
                 LATCH_ERR_CONFIG);
    /* the default is intermediate: ECDHE + AEAD, TLS 1.2 and 1.3, no SHA-1 */
    CHECK_EQ_INT(cfg->profile, LATCH_PROFILE_INTERMEDIATE);
    CHECK_EQ_INT(cfg->suite_count, 9);
    for (size_t i = 0; i < cfg->suite_count; i++) {
        const latch_suite *s = suite_find(cfg->suites[i]);
        CHECK(s->record == RECORD_AEAD && s->key_exchange != KEY_EXCHANGE_RSA);
    }
    CHECK_EQ_INT(cfg->min_version, LATCH_VERSION_TLS12);
    CHECK_EQ_INT(cfg->max_version, LATCH_VERSION_TLS13);
    CHECK_EQ_INT(cfg->sha1_signatures, 0);
    /* modern: TLS 1.3 only */
    CHECK_EQ_INT(latch_config_set_profile(cfg, LATCH_PROFILE_MODERN), 0);
    CHECK_EQ_INT(cfg->suite_count, 3);
    CHECK_EQ_INT(cfg->min_version, LATCH_VERSION_TLS13);
    /* refining it with only TLS 1.2 names cannot work (no TLS 1.2): refused, list kept */
    CHECK_EQ_INT(latch_config_set_ciphers(cfg, "TLS_RSA_WITH_AES_128_GCM_SHA256"), LATCH_ERR_CONFIG);
    CHECK_EQ_INT(cfg->suite_count, 3);
    /* ... unless TLS 1.2 is asked for first; RSA key exchange may be named */
    CHECK_EQ_INT(latch_config_set_versions(cfg, LATCH_VERSION_TLS12, LATCH_VERSION_TLS13), 0);
    CHECK_EQ_INT(cfg->min_version, LATCH_VERSION_TLS13); /* still no 1.2 suite */
    CHECK_EQ_INT(latch_config_set_ciphers(cfg, "TLS_RSA_WITH_AES_128_GCM_SHA256"), 0);
    CHECK_EQ_INT(cfg->max_version, LATCH_VERSION_TLS12);
    /* CBC suites need the old profile: refused under modern and intermediate,
     * naming the suite and the profile, the list kept */
    static const latch_profile not_old[] = {LATCH_PROFILE_MODERN, LATCH_PROFILE_INTERMEDIATE};
    for (size_t i = 0; i < COUNT(not_old); i++) {
        CHECK_EQ_INT(latch_config_set_profile(cfg, not_old[i]), 0);
        CHECK_EQ_INT(latch_config_set_versions(cfg, LATCH_VERSION_TLS12, LATCH_VERSION_TLS13), 0);
        size_t before = cfg->suite_count;
        for (size_t j = 0; j < COUNT(cbc_rsa); j++) {
            CHECK_EQ_INT(latch_config_set_ciphers(cfg, cbc_rsa[j]), LATCH_ERR_CONFIG);
            CHECK(strstr(latch_config_error(cfg), cbc_rsa[j]) != NULL);
            CHECK(strstr(latch_config_error(cfg), "needs the old profile (--profile old)") != NULL);
            CHECK(strstr(latch_config_error(cfg), latch_profile_name(not_old[i])) != NULL);
        }
        /* also one CBC name among AEAD ones */
        CHECK_EQ_INT(latch_config_set_ciphers(cfg, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:"
                                                   "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
                     LATCH_ERR_CONFIG);
        CHECK_EQ_INT(cfg->suite_count, before);
        CHECK_EQ_INT(cfg->profile, not_old[i]);
    }
    /* a fresh configuration is intermediate: refused there too */
    latch_config *fresh = latch_config_new(LATCH_ROLE_CLIENT);
    CHECK_EQ_INT(latch_config_set_ciphers(fresh, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
                 LATCH_ERR_CONFIG);
    CHECK_EQ_INT(latch_config_set_profile(fresh, LATCH_PROFILE_OLD), 0);
    CHECK_EQ_INT(latch_config_set_ciphers(fresh, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"), 0);
    CHECK_EQ_INT(fresh->suite_count, 1);
    latch_config_free(fresh);
    /* old: 23 suites, every CBC one, SHA-1 defaults */
    CHECK_EQ_INT(latch_config_set_profile(cfg, LATCH_PROFILE_OLD), 0);
    CHECK_EQ_INT(cfg->suite_count, 23);
    size_t cbc = 0;
    for (size_t i = 0; i < cfg->suite_count; i++)
        cbc += suite_find(cfg->suites[i])->record == RECORD_CBC;
    CHECK_EQ_INT(cbc, 12);
    CHECK_EQ_INT(cfg->sha1_signatures, 1);
    CHECK_EQ_INT(cfg->min_version, LATCH_VERSION_TLS12);
    CHECK_EQ_INT(cfg->max_version, LATCH_VERSION_TLS13);
    CHECK_EQ_INT(latch_config_set_profile(cfg, (latch_profile)7), LATCH_ERR_CONFIG);
    latch_config_free(cfg);

    CHECK_EQ_INT(latch_profile_parse("modern"), LATCH_PROFILE_MODERN);
    CHECK_EQ_INT(latch_profile_parse("Intermediate"), LATCH_PROFILE_INTERMEDIATE);
    CHECK_EQ_INT(latch_profile_parse("OLD"), LATCH_PROFILE_OLD);
    CHECK_EQ_INT(latch_profile_parse("ancient"), -1);
    CHECK_EQ_INT(latch_profile_parse(""), -1);
    CHECK(strcmp(latch_profile_name(LATCH_PROFILE_OLD), "old") == 0);
    CHECK(strcmp(latch_profile_name((latch_profile)9), "unknown") == 0);
}

/* ---- SHA-1 for TLS 1.2 clients that send no signature_algorithms ---- */

/* Renames signature_algorithms (13) in the ClientHello to an unknown type,
 * so the server sees none.  (The transcripts then differ: only the server's
 * first flight is examined.) */
static size_t drop_signature_algorithms(void *arg, int from_client, uint8_t *b, size_t len)
{
    if (!from_client || len < 9 || b[0] != 22 || b[5] != 1)
        return len;
    size_t at = 5 + 4 + 2 + 32;
    at += 1 + b[at];
    at += 2 + ((size_t)b[at] << 8 | b[at + 1]);
    at += 1 + b[at];
    size_t end = at + 2 + ((size_t)b[at] << 8 | b[at + 1]);
    for (at += 2; at + 4 <= end; at += 4 + ((size_t)b[at + 2] << 8 | b[at + 3]))
        if (b[at] == 0 && b[at + 1] == 13)
            b[at] = 0xfa;
    return len;
}

/* The ServerKeyExchange body in the server's first flight (plaintext). */
static const uint8_t *find_server_key_exchange(const uint8_t *wire, size_t len, size_t *body_len)
{
    for (size_t off = 0; off + 5 <= len;) {
        size_t rec = (size_t)wire[off + 3] << 8 | wire[off + 4];
        for (size_t m = off + 5; m + 4 <= off + 5 + rec;) {
            size_t n = (size_t)wire[m + 1] << 16 | (size_t)wire[m + 2] << 8 | wire[m + 3];
            if (wire[m] == 12) {
                *body_len = n;
                return wire + m + 4;
            }
            m += 4 + n;
        }
        off += 5 + rec;
    }
    return NULL;
}

static void sha1_default(const char *cert, latch_profile profile, uint16_t expected)
{
    pair p;
    CHECK(pair_configs(&p, cert) == 0);
    CHECK(latch_config_set_profile(p.server_config, profile) == 0);
    CHECK(latch_config_set_versions(p.client_config, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    size_t len;
    const uint8_t *hello = latch_conn_send_buf(p.client, &len);
    uint8_t *chunk = malloc(len);
    memcpy(chunk, hello, len);
    latch_conn_send_done(p.client, len);
    drop_signature_algorithms(NULL, 1, chunk, len);
    latch_conn_feed(p.server, chunk, len);
    free(chunk);
    CHECK_EQ_INT(p.server->hs->peer.sent_signature_schemes, 0);
    if (expected == 0) {
        CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_HANDSHAKE_FAILURE);
        pair_free(&p);
        return;
    }
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_OK);
    CHECK_EQ_INT(p.server->signature_scheme, expected);
    /* the ServerKeyExchange signature verifies under that SHA-1 scheme */
    const uint8_t *flight = latch_conn_send_buf(p.server, &len), *ske;
    size_t ske_len = 0;
    ske = find_server_key_exchange(flight, len, &ske_len);
    CHECK(ske != NULL && ske_len > 4 + 32);
    if (ske != NULL) {
        size_t params = 4 + ske[3], sig_len = (size_t)ske[params + 2] << 8 | ske[params + 3];
        uint8_t tbs[64 + 4 + 133];
        memcpy(tbs, p.server->client_random, 32);
        memcpy(tbs + 32, p.server->server_random, 32);
        memcpy(tbs + 64, ske, params);
        CHECK_EQ_INT(ske[params] << 8 | ske[params + 1], expected);
        CHECK_EQ_INT(latch_verify_tls12(&p.server_config->crypto, expected, p.server->cert->key,
                                        tbs, 64 + params, ske + params + 4, sig_len),
                     0);
    }
    pair_free(&p);
}

static void test_sha1_defaults(void)
{
    sha1_default("rsa2048", LATCH_PROFILE_OLD, LATCH_SIG_RSA_PKCS1_SHA1);
    sha1_default("p256", LATCH_PROFILE_OLD, LATCH_SIG_ECDSA_SHA1);
    sha1_default("rsa2048", LATCH_PROFILE_INTERMEDIATE, 0);
    sha1_default("p256", LATCH_PROFILE_INTERMEDIATE, 0);
}

int main(void)
{
    test_configuration();
    test_cbc_matrix();
    test_resumption_keeps_etm();
    test_modern_refuses_tls12();
    test_cbc_only_client();
    test_never_suites_and_versions();
    test_sha1_defaults();
    return check_finish();
}
