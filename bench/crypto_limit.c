/*
 * crypto_limit: the handshake rate the cryptographic primitives alone would
 * allow a TLS server, measured in this run.  Each primitive is called
 * through EVP in a loop the way a server needs it (fresh ephemeral keys,
 * a new derive context per key, a KDF context per call, prepared signing
 * contexts, the same certificates as the bench servers), timed in CPU time;
 * each handshake case adds up the primitives it uses (counts below).
 *
 *   crypto_limit [--ms M]     (CPU milliseconds per primitive and round; 3 rounds, median)
 *   crypto_limit --count N    (each primitive N times, untimed: run it under callgrind)
 *
 * Prints "RESULT kind=primitive name=.. us=.." and
 *        "RESULT kind=limit case=.. us=.. hs_per_cpu_s=..".
 */
#include <getopt.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

enum prim {
    P_RAND32, P_X25519_KEYGEN, P_X25519_DERIVE, P_P256_KEYGEN, P_P256_DERIVE, P_ECDSA_SIGN,
    P_RSA_SIGN, P_RSA_DECRYPT, P_PRF, P_HKDF_EXTRACT, P_HKDF_EXPAND, P_HMAC, P_SHA256_1K,
    P_SHA256_SMALL, P_AEAD_KEY, P_AEAD_SMALL, P_AEAD_1K, P_TICKET, P_P256_FULL_CHECK, P_COUNT
};

static const char *const prim_names[P_COUNT] = {
    "rand32", "x25519_keygen", "x25519_derive", "p256_keygen", "p256_derive",
    "ecdsa_p256_sign", "rsa2048_pss_sign", "rsa2048_decrypt_tls", "tls12_prf",
    "hkdf_extract", "hkdf_expand", "hmac_sha256", "sha256_1k", "sha256_final_small",
    "aead_key_setup", "aead_seal_64", "aead_seal_1k", "ticket_seal_or_open",
    "p256_full_public_check_unused"};

static EVP_PKEY *ecdsa_key, *rsa_key, *x25519_peer, *p256_peer, *p256_template;
static EVP_PKEY_CTX *x25519_gen, *p256_gen, *ecdsa_sign_ctx, *rsa_sign_ctx, *rsa_dec_ctx;
static EVP_KDF *prf_kdf, *hkdf_kdf;
static EVP_MAC *hmac_mac;
static EVP_CIPHER *aes128gcm, *aes256gcm;
static EVP_CIPHER_CTX *record_ctx;
static uint8_t x25519_peer_pub[32], p256_peer_pub[65], rsa_ciphertext[256];
static size_t rsa_ciphertext_len;
static uint8_t bytes[2048], out[1024];

static void check(int ok, const char *what)
{
    if (!ok) {
        ERR_print_errors_fp(stderr);
        bench_die("crypto_limit: %s failed", what);
    }
}

static EVP_PKEY *load_key(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    check(key != NULL, path);
    return key;
}

static EVP_PKEY *keygen(EVP_PKEY_CTX *ctx)
{
    EVP_PKEY *key = NULL;
    check(EVP_PKEY_keygen(ctx, &key) == 1, "keygen");
    return key;
}

/* The peer point is validated once, with the check TLS needs: on the curve
 * (EVP_PKEY_public_check_quick; P-256 has cofactor 1, so the full check's
 * extra n*Q = O multiplication proves nothing more). */
static void derive(EVP_PKEY *mine, EVP_PKEY *peer, int check_point)
{
    size_t len = sizeof out;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL);
    check(ctx != NULL && (!check_point || EVP_PKEY_public_check_quick(ctx) == 1) &&
              EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) == 1 &&
              EVP_PKEY_derive(ctx, out, &len) == 1,
          "derive");
    EVP_PKEY_CTX_free(ctx);
}

/* Not a step of any case: what a full EVP_PKEY_public_check of a P-256 point costs. */
static void full_public_check(EVP_PKEY *peer)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, peer, NULL);
    check(ctx != NULL && EVP_PKEY_public_check(ctx) == 1, "public check");
    EVP_PKEY_CTX_free(ctx);
}

static void setup(void)
{
    ecdsa_key = load_key(BENCH_PKI "/server-p256-key.pem");
    rsa_key = load_key(BENCH_PKI "/server-rsa2048-key.pem");
    RAND_bytes(bytes, sizeof bytes);

    x25519_gen = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
    check(x25519_gen && EVP_PKEY_keygen_init(x25519_gen) == 1, "x25519 keygen init");
    p256_gen = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    check(p256_gen && EVP_PKEY_keygen_init(p256_gen) == 1 &&
              EVP_PKEY_CTX_set_group_name(p256_gen, "P-256") == 1,
          "p256 keygen init");
    size_t len = 32;
    x25519_peer = keygen(x25519_gen);
    check(EVP_PKEY_get_raw_public_key(x25519_peer, x25519_peer_pub, &len) == 1, "x25519 pub");
    p256_template = keygen(p256_gen);
    p256_peer = keygen(p256_gen);
    check(EVP_PKEY_get_octet_string_param(p256_peer, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                          p256_peer_pub, sizeof p256_peer_pub, &len) == 1,
          "p256 pub");

    ecdsa_sign_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, ecdsa_key, NULL);
    check(ecdsa_sign_ctx && EVP_PKEY_sign_init(ecdsa_sign_ctx) == 1 &&
              EVP_PKEY_CTX_set_signature_md(ecdsa_sign_ctx, EVP_sha256()) == 1,
          "ecdsa init");
    rsa_sign_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, rsa_key, NULL);
    check(rsa_sign_ctx && EVP_PKEY_sign_init(rsa_sign_ctx) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(rsa_sign_ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
              EVP_PKEY_CTX_set_signature_md(rsa_sign_ctx, EVP_sha256()) == 1 &&
              EVP_PKEY_CTX_set_rsa_pss_saltlen(rsa_sign_ctx, RSA_PSS_SALTLEN_DIGEST) == 1,
          "rsa sign init");

    uint8_t premaster[48] = {3, 3};
    EVP_PKEY_CTX *enc = EVP_PKEY_CTX_new_from_pkey(NULL, rsa_key, NULL);
    rsa_ciphertext_len = sizeof rsa_ciphertext;
    check(enc && EVP_PKEY_encrypt_init(enc) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(enc, RSA_PKCS1_PADDING) == 1 &&
              EVP_PKEY_encrypt(enc, rsa_ciphertext, &rsa_ciphertext_len, premaster, 48) == 1,
          "rsa encrypt");
    EVP_PKEY_CTX_free(enc);
    unsigned int client_version = 0x0303, negotiated = 0x0303;
    OSSL_PARAM params[3] = {
        OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, &client_version),
        OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION, &negotiated),
        OSSL_PARAM_construct_end()};
    rsa_dec_ctx = EVP_PKEY_CTX_new_from_pkey(NULL, rsa_key, NULL);
    check(rsa_dec_ctx && EVP_PKEY_decrypt_init(rsa_dec_ctx) == 1 &&
              EVP_PKEY_CTX_set_rsa_padding(rsa_dec_ctx, RSA_PKCS1_WITH_TLS_PADDING) == 1 &&
              EVP_PKEY_CTX_set_params(rsa_dec_ctx, params) == 1,
          "rsa decrypt init");

    prf_kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
    hkdf_kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    aes128gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
    aes256gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    check(prf_kdf && hkdf_kdf && hmac_mac && aes128gcm && aes256gcm, "fetch");
    record_ctx = EVP_CIPHER_CTX_new();
    check(record_ctx && EVP_CipherInit_ex2(record_ctx, aes128gcm, bytes, NULL, 1, NULL) == 1,
          "record key");
}

static void kdf(EVP_KDF *algorithm, const OSSL_PARAM *params, size_t len)
{
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(algorithm);
    check(ctx && EVP_KDF_derive(ctx, out, len, params) == 1, "kdf");
    EVP_KDF_CTX_free(ctx);
}

static void seal(EVP_CIPHER_CTX *ctx, size_t len)
{
    int n = 0;
    check(EVP_CipherInit_ex2(ctx, NULL, NULL, bytes + 100, 1, NULL) == 1 &&
              EVP_CipherUpdate(ctx, NULL, &n, bytes, 13) == 1 &&
              EVP_CipherUpdate(ctx, out, &n, bytes + 200, (int)len) == 1 &&
              EVP_CipherFinal_ex(ctx, out + n, &n) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + len) == 1,
          "seal");
}

/* One function per primitive, so that a profiler names each. */
#define PRIMITIVE(name) static __attribute__((noinline)) void prim_##name(void)

static char sha256_name[] = "SHA256";

PRIMITIVE(rand32) { check(RAND_bytes(out, 32) == 1, "rand"); }

PRIMITIVE(x25519_keygen)
{
    size_t len = 32;
    EVP_PKEY *key = keygen(x25519_gen);
    check(EVP_PKEY_get_raw_public_key(key, out, &len) == 1, "x25519 pub");
    EVP_PKEY_free(key);
}

PRIMITIVE(x25519_derive)
{
    EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, x25519_peer_pub, 32);
    check(peer != NULL, "x25519 peer");
    derive(x25519_peer, peer, 0);
    EVP_PKEY_free(peer);
}

PRIMITIVE(p256_keygen)
{
    size_t len;
    EVP_PKEY *key = keygen(p256_gen);
    check(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, 65,
                                          &len) == 1,
          "p256 pub");
    EVP_PKEY_free(key);
}

PRIMITIVE(p256_derive)
{
    EVP_PKEY *peer = EVP_PKEY_new();
    check(peer && EVP_PKEY_copy_parameters(peer, p256_template) == 1 &&
              EVP_PKEY_set1_encoded_public_key(peer, p256_peer_pub, 65) == 1,
          "p256 peer");
    derive(p256_peer, peer, 1);
    EVP_PKEY_free(peer);
}

static void sign_digest(EVP_PKEY_CTX *ctx)
{
    uint8_t digest[32];
    unsigned int dlen = 0;
    size_t len = sizeof out;
    check(EVP_Digest(bytes, 130, digest, &dlen, EVP_sha256(), NULL) == 1 &&
              EVP_PKEY_sign(ctx, out, &len, digest, dlen) == 1,
          "sign");
}

PRIMITIVE(ecdsa_sign) { sign_digest(ecdsa_sign_ctx); }
PRIMITIVE(rsa_sign) { sign_digest(rsa_sign_ctx); }

PRIMITIVE(rsa_decrypt)
{
    size_t len = 48;
    check(EVP_PKEY_decrypt(rsa_dec_ctx, out, &len, rsa_ciphertext, rsa_ciphertext_len) == 1,
          "rsa decrypt");
}

PRIMITIVE(prf)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, sha256_name, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, bytes, 48),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, bytes + 48, 13),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, bytes + 64, 64),
        OSSL_PARAM_construct_end()};
    kdf(prf_kdf, params, 48);
}

static void hkdf(int mode, const char *input, size_t input_len)
{
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, sha256_name, 0),
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, bytes, 32),
        OSSL_PARAM_construct_octet_string(input, bytes + 32, input_len),
        OSSL_PARAM_construct_end()};
    kdf(hkdf_kdf, params, 32);
}

PRIMITIVE(hkdf_extract) { hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, OSSL_KDF_PARAM_SALT, 32); }
PRIMITIVE(hkdf_expand) { hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, OSSL_KDF_PARAM_INFO, 50); }

PRIMITIVE(hmac)
{
    size_t len = 0;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac_mac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha256_name, 0),
        OSSL_PARAM_construct_end()};
    check(ctx && EVP_MAC_init(ctx, bytes, 32, params) == 1 &&
              EVP_MAC_update(ctx, bytes + 32, 32) == 1 &&
              EVP_MAC_final(ctx, out, &len, sizeof out) == 1,
          "hmac");
    EVP_MAC_CTX_free(ctx);
}

static void digest(size_t len)
{
    unsigned int n = 0;
    check(EVP_Digest(bytes, len, out, &n, EVP_sha256(), NULL) == 1, "sha256");
}

PRIMITIVE(sha256_1k) { digest(1024); }
PRIMITIVE(sha256_small) { digest(32); }

PRIMITIVE(aead_key)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    check(ctx && EVP_CipherInit_ex2(ctx, aes128gcm, bytes, NULL, 1, NULL) == 1, "aead key");
    EVP_CIPHER_CTX_free(ctx);
}

PRIMITIVE(aead_small) { seal(record_ctx, 64); }
PRIMITIVE(aead_1k) { seal(record_ctx, 1024); }

PRIMITIVE(ticket)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    check(ctx && EVP_CipherInit_ex2(ctx, aes256gcm, bytes, NULL, 1, NULL) == 1, "ticket key");
    seal(ctx, 160);
    EVP_CIPHER_CTX_free(ctx);
}

PRIMITIVE(p256_full_check) { full_public_check(p256_peer); }

static void (*const primitives[P_COUNT])(void) = {
    [P_RAND32] = prim_rand32,           [P_X25519_KEYGEN] = prim_x25519_keygen,
    [P_X25519_DERIVE] = prim_x25519_derive, [P_P256_KEYGEN] = prim_p256_keygen,
    [P_P256_DERIVE] = prim_p256_derive, [P_ECDSA_SIGN] = prim_ecdsa_sign,
    [P_RSA_SIGN] = prim_rsa_sign,       [P_RSA_DECRYPT] = prim_rsa_decrypt,
    [P_PRF] = prim_prf,                 [P_HKDF_EXTRACT] = prim_hkdf_extract,
    [P_HKDF_EXPAND] = prim_hkdf_expand, [P_HMAC] = prim_hmac,
    [P_SHA256_1K] = prim_sha256_1k,     [P_SHA256_SMALL] = prim_sha256_small,
    [P_AEAD_KEY] = prim_aead_key,       [P_AEAD_SMALL] = prim_aead_small,
    [P_AEAD_1K] = prim_aead_1k,         [P_TICKET] = prim_ticket,
    [P_P256_FULL_CHECK] = prim_p256_full_check,
};

static void run_primitive(enum prim p) { primitives[p](); }

static double time_primitive(enum prim p, double cpu_ms)
{
    uint64_t start = bench_self_cpu_us(), spent = 0;
    long iterations = 0;
    while (spent < (uint64_t)(cpu_ms * 1000)) {
        for (int i = 0; i < 16; i++)
            run_primitive(p);
        iterations += 16;
        spent = bench_self_cpu_us() - start;
    }
    return (double)spent / (double)iterations;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Primitive counts per server handshake (see docs/PERFORMANCE.md). */
struct handshake_case {
    const char *name;
    int count[P_COUNT];
};

#define TLS12_FULL_COMMON                                                                   \
    [P_RAND32] = 2, [P_PRF] = 4, [P_SHA256_SMALL] = 3, [P_AEAD_KEY] = 2, [P_AEAD_SMALL] = 5, \
    [P_TICKET] = 1
#define TLS13_SCHEDULE                                                                     \
    [P_RAND32] = 1, [P_HKDF_EXTRACT] = 3, [P_SHA256_SMALL] = 6, [P_AEAD_KEY] = 4,          \
    [P_X25519_KEYGEN] = 1, [P_X25519_DERIVE] = 1, [P_AEAD_SMALL] = 6

static const struct handshake_case cases[] = {
    {"tls12-ecdhe-ecdsa-x25519",
     {TLS12_FULL_COMMON, [P_X25519_KEYGEN] = 1, [P_X25519_DERIVE] = 1, [P_ECDSA_SIGN] = 1,
      [P_SHA256_1K] = 3}},
    {"tls12-ecdhe-ecdsa-p256",
     {TLS12_FULL_COMMON, [P_P256_KEYGEN] = 1, [P_P256_DERIVE] = 1, [P_ECDSA_SIGN] = 1,
      [P_SHA256_1K] = 3}},
    {"tls12-ecdhe-rsa",
     {TLS12_FULL_COMMON, [P_X25519_KEYGEN] = 1, [P_X25519_DERIVE] = 1, [P_RSA_SIGN] = 1,
      [P_SHA256_1K] = 4}},
    {"tls12-rsa-kx", {TLS12_FULL_COMMON, [P_RSA_DECRYPT] = 1, [P_SHA256_1K] = 4}},
    /* 19 expands: 2 derived, 4 traffic, exporter, resumption, 8 key/iv, 2 finished keys,
       the ticket's PSK; HMAC: both Finished */
    {"tls13-x25519-ecdsa",
     {TLS13_SCHEDULE, [P_HKDF_EXPAND] = 19, [P_HMAC] = 2, [P_TICKET] = 1, [P_ECDSA_SIGN] = 1,
      [P_SHA256_1K] = 2, [P_AEAD_1K] = 1}},
    {"tls12-resume-ticket",
     {[P_RAND32] = 1, [P_PRF] = 3, [P_SHA256_SMALL] = 3, [P_AEAD_KEY] = 2, [P_AEAD_SMALL] = 5,
      [P_TICKET] = 1}},
    {"tls12-resume-id",
     {[P_RAND32] = 1, [P_PRF] = 3, [P_SHA256_SMALL] = 3, [P_AEAD_KEY] = 2,
      [P_AEAD_SMALL] = 5}},
    /* + binder key and binder finished key, binder HMAC; ticket opened and a new one sealed */
    {"tls13-resume-psk-dhe", {TLS13_SCHEDULE, [P_HKDF_EXPAND] = 21, [P_HMAC] = 3, [P_TICKET] = 2}},
};

int main(int argc, char **argv)
{
    static const struct option options[] = {{"ms", required_argument, NULL, 'm'},
                                            {"count", required_argument, NULL, 'c'},
                                            {NULL, 0, NULL, 0}};
    double cpu_ms = 150;
    long count = 0;
    int option;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (option == 'm')
            cpu_ms = atof(optarg);
        else if (option == 'c')
            count = atol(optarg);
        else
            bench_die("usage: crypto_limit [--ms CPU-ms per primitive] [--count N (untimed, "
                      "for callgrind: Ir per prim_* function)]");
    }
    setup();
    if (count > 0) {
        for (int p = 0; p < P_COUNT; p++)
            for (long i = 0; i < count; i++)
                run_primitive((enum prim)p);
        return 0;
    }
    double us[P_COUNT], rounds[P_COUNT][3];
    for (int r = 0; r < 3; r++) /* rounds interleaved: noise hits every primitive alike */
        for (int p = 0; p < P_COUNT; p++)
            rounds[p][r] = time_primitive((enum prim)p, cpu_ms);
    for (int p = 0; p < P_COUNT; p++) {
        qsort(rounds[p], 3, sizeof(double), compare);
        us[p] = rounds[p][1];
        printf("RESULT kind=primitive name=%s us=%.3f\n", prim_names[p], us[p]);
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double total = 0;
        for (int p = 0; p < P_COUNT; p++)
            total += cases[i].count[p] * us[p];
        printf("RESULT kind=limit case=%s us=%.2f hs_per_cpu_s=%.0f\n", cases[i].name, total,
               1e6 / total);
    }
    return 0;
}
