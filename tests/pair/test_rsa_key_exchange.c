/* RSA key exchange: both sides, and a server that behaves the same for every
 * malformed pre-master secret (Bleichenbacher / ROBOT). */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine/internal.h"
#include "pair.h"

static void test_rsa_suites(void)
{
    static const char *const suites[] = {"TLS_RSA_WITH_AES_128_GCM_SHA256",
                                         "TLS_RSA_WITH_AES_256_GCM_SHA384"};
    for (int i = 0; i < 2; i++) {
        pair p;
        CHECK(pair_configs(&p, "rsa2048") == 0);
        /* RSA key exchange is in the old profile only (Mozilla intermediate has none) */
        CHECK(latch_config_set_profile(p.server_config, LATCH_PROFILE_OLD) == 0);
        CHECK(latch_config_set_ciphers(p.client_config, suites[i]) == 0);
        CHECK(pair_connect(&p, "localhost") == 0);
        CHECK(pair_handshake(&p) == 0);
        CHECK(strcmp(latch_conn_cipher_suite_name(p.server), suites[i]) == 0);
        CHECK(latch_conn_write(p.client, "abc", 3) == 3);
        pair_pump(&p);
        char buf[4] = {0};
        CHECK(latch_conn_read(p.server, buf, 3) == 3 && strcmp(buf, "abc") == 0);
        pair_free(&p);
    }
    /* the default (intermediate) server has no RSA key exchange */
    pair p;
    CHECK(pair_configs(&p, "rsa2048") == 0);
    CHECK(latch_config_set_ciphers(p.client_config, suites[0]) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) != 0);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_HANDSHAKE_FAILURE);
    pair_free(&p);
    /* even in the old profile ECDHE is preferred: RSA key exchange only when asked */
    CHECK(pair_configs(&p, "rsa2048") == 0);
    CHECK(latch_config_set_profile(p.server_config, LATCH_PROFILE_OLD) == 0);
    CHECK(latch_config_set_versions(p.client_config, LATCH_VERSION_TLS12, LATCH_VERSION_TLS12) == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) == 0);
    CHECK(strncmp(latch_conn_cipher_suite_name(p.server), "TLS_ECDHE_RSA", 13) == 0);
    pair_free(&p);
    /* an ECDSA-only server cannot do RSA key exchange */
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_profile(p.server_config, LATCH_PROFILE_OLD) == 0);
    CHECK(latch_config_set_ciphers(p.client_config, "TLS_RSA_WITH_AES_128_GCM_SHA256") == 0);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) != 0);
    CHECK_EQ_INT(latch_conn_error(p.server), LATCH_ERR_HANDSHAKE_FAILURE);
    pair_free(&p);
}

/* ---- crafted ClientKeyExchange messages ---- */

enum craft { BAD_PADDING, SHORT, LONG, WRONG_VERSION, ZERO, WRONG_PREMASTER, CRAFT_COUNT };

static EVP_PKEY *server_public_key(void)
{
    FILE *f = fopen(PKI "server-rsa2048-leaf.pem", "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    EVP_PKEY *key = x ? X509_get_pubkey(x) : NULL;
    if (f)
        fclose(f);
    X509_free(x);
    return key;
}

static size_t rsa_raw(EVP_PKEY *key, int padding, const uint8_t *in, size_t in_len, uint8_t *out)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    size_t len = 512;
    int ok = EVP_PKEY_encrypt_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_padding(ctx, padding) == 1 &&
             EVP_PKEY_encrypt(ctx, out, &len, in, in_len) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok ? len : 0;
}

static size_t crafted_ciphertext(enum craft kind, uint8_t *out)
{
    EVP_PKEY *key = server_public_key();
    uint8_t premaster[48], block[256];
    size_t len = 0;
    memset(premaster, 0x5a, sizeof premaster);
    premaster[0] = 3;
    premaster[1] = 3;
    switch (kind) {
    case BAD_PADDING: /* 00 01 ... instead of 00 02 ... */
        memset(block, 0xff, sizeof block);
        block[0] = 0;
        block[1] = 1;
        block[256 - 49] = 0;
        memcpy(block + 256 - 48, premaster, 48);
        len = rsa_raw(key, RSA_NO_PADDING, block, sizeof block, out);
        break;
    case SHORT:
        len = rsa_raw(key, RSA_PKCS1_PADDING, premaster, 48, out) - 1;
        break;
    case LONG:
        len = rsa_raw(key, RSA_PKCS1_PADDING, premaster, 48, out);
        out[len++] = 0;
        break;
    case WRONG_VERSION:
        premaster[1] = 2;
        len = rsa_raw(key, RSA_PKCS1_PADDING, premaster, 48, out);
        break;
    case ZERO:
        memset(out, 0, 256);
        len = 256;
        break;
    default: /* well formed, but not the client's pre-master */
        len = rsa_raw(key, RSA_PKCS1_PADDING, premaster, 48, out);
        break;
    }
    EVP_PKEY_free(key);
    return len;
}

typedef struct rewrite {
    enum craft kind;
    int done;
} rewrite;

/* Replace the ClientKeyExchange (first handshake record of the client's
 * second flight) and keep the CCS and Finished records after it. */
static size_t replace_key_exchange(void *arg, int from_client, uint8_t *bytes, size_t len)
{
    rewrite *r = arg;
    if (!from_client || r->done || len < 10 || bytes[0] != 22 || bytes[5] != 16)
        return len;
    size_t old_record = 5 + ((size_t)bytes[3] << 8 | bytes[4]);
    uint8_t ciphertext[600], record[700];
    size_t n = crafted_ciphertext(r->kind, ciphertext), body = 2 + n;
    record[0] = 22, record[1] = 3, record[2] = 3;
    record[3] = (uint8_t)((4 + body) >> 8), record[4] = (uint8_t)(4 + body);
    record[5] = 16, record[6] = 0, record[7] = (uint8_t)(body >> 8), record[8] = (uint8_t)body;
    record[9] = (uint8_t)(n >> 8), record[10] = (uint8_t)n;
    memcpy(record + 11, ciphertext, n);
    size_t fresh = 11 + n; /* may be one byte longer (PAIR_TAMPER_SLACK) */
    memmove(bytes + fresh, bytes + old_record, len - old_record);
    memcpy(bytes, record, fresh);
    r->done = 1;
    return len - old_record + fresh;
}

static void test_robot(void)
{
    latch_error errors[CRAFT_COUNT];
    int alerts[CRAFT_COUNT];
    size_t sent[CRAFT_COUNT];
    for (int kind = 0; kind < CRAFT_COUNT; kind++) {
        pair p;
        rewrite r = {(enum craft)kind, 0};
        int was_sent;
        CHECK(pair_configs(&p, "rsa2048") == 0);
        CHECK(latch_config_set_profile(p.server_config, LATCH_PROFILE_OLD) == 0);
        CHECK(latch_config_set_ciphers(p.client_config, "TLS_RSA_WITH_AES_128_GCM_SHA256") == 0);
        p.tamper = replace_key_exchange;
        p.tamper_arg = &r;
        CHECK(pair_connect(&p, "localhost") == 0);
        CHECK(pair_handshake(&p) != 0);
        errors[kind] = latch_conn_error(p.server);
        alerts[kind] = latch_conn_alert(p.server, &was_sent);
        sent[kind] = (size_t)was_sent;
        if (!r.done)
            fprintf(stderr, "craft %d was not applied\n", kind);
        CHECK(r.done);
        pair_free(&p);
    }
    /* one observable behaviour for every fault: the Finished fails to decrypt */
    for (int kind = 0; kind < CRAFT_COUNT; kind++) {
        CHECK_EQ_INT(errors[kind], LATCH_ERR_BAD_RECORD_MAC);
        CHECK_EQ_INT(alerts[kind], 20);
        CHECK_EQ_INT(sent[kind], 1);
    }
}

int main(void)
{
    test_rsa_suites();
    test_robot();
    return check_finish();
}
