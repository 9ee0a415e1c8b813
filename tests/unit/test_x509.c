/* Certificate loading, name matching and chain verification (src/x509). */
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "x509/x509.h"

#define PKI LATCH_TEST_DATA "/pki/"
#define T_2001 INT64_C(1000000000) /* before every notBefore of the test PKI */
#define T_2019 INT64_C(1546300800) /* 2019-01-01: inside the illustrated cert's validity */

static char reason[512];

static latch_cert_key *load(const char *cert, const char *key)
{
    reason[0] = '\0';
    latch_cert_key *ck = latch_cert_key_load(cert, key, reason, sizeof reason);
    if (ck == NULL)
        fprintf(stderr, "load %s: %s\n", cert, reason);
    return ck;
}

static X509_STORE *store_from(const char *ca_file)
{
    X509_STORE *store = latch_trust_store_new(ca_file, NULL, reason, sizeof reason);
    CHECK(store != NULL);
    return store;
}

/* Verify the chain in PKI/<name>.pem (key PKI/<key>-key.pem). */
static latch_error verify_named(X509_STORE *store, const char *name, const char *key,
                                const char *host, int64_t when)
{
    char cert_path[256], key_path[256];
    snprintf(cert_path, sizeof cert_path, PKI "%s.pem", name);
    snprintf(key_path, sizeof key_path, PKI "%s-key.pem", key);
    latch_cert_key *ck = load(cert_path, key_path);
    CHECK(ck != NULL);
    if (ck == NULL)
        return LATCH_ERR_COUNT;
    EVP_PKEY *leaf_key = (EVP_PKEY *)1;
    reason[0] = '\0';
    latch_error err = latch_verify_chain(store, (const uint8_t *const *)ck->der, ck->der_len,
                                         ck->count, host, when, &leaf_key, reason,
                                         sizeof reason);
    if (err == LATCH_OK)
        CHECK(leaf_key != NULL && EVP_PKEY_eq(leaf_key, ck->key) == 1);
    else
        CHECK(leaf_key == NULL && reason[0] != '\0');
    EVP_PKEY_free(leaf_key);
    latch_cert_key_free(ck);
    return err;
}

static const struct server {
    const char *name;
    int type, bits, curve;
} servers[] = {
    {"server-p256", EVP_PKEY_EC, 256, NID_X9_62_prime256v1},
    {"server-p384", EVP_PKEY_EC, 384, NID_secp384r1},
    {"server-rsa2048", EVP_PKEY_RSA, 2048, NID_undef},
    {"server-ed25519", EVP_PKEY_ED25519, 256, NID_undef},
};

static void test_load_servers(void)
{
    latch_cert_key *inter = load(PKI "intermediate.pem", PKI "intermediate-key.pem");
    CHECK(inter != NULL && inter->count == 1);
    for (size_t i = 0; i < sizeof servers / sizeof servers[0]; i++) {
        char cert[256], key[256];
        snprintf(cert, sizeof cert, PKI "%s.pem", servers[i].name);
        snprintf(key, sizeof key, PKI "%s-key.pem", servers[i].name);
        latch_cert_key *ck = load(cert, key);
        CHECK(ck != NULL);
        if (ck == NULL)
            continue;
        CHECK_EQ_INT(ck->count, 2);
        CHECK_EQ_INT(sk_X509_num(ck->chain), 2);
        CHECK_EQ_INT(ck->key_type, servers[i].type);
        CHECK_EQ_INT(ck->key_bits, servers[i].bits);
        CHECK_EQ_INT(ck->ec_curve_nid, servers[i].curve);
        CHECK(ck->name_count == 1 && strcmp(ck->names[0], "localhost") == 0);
        CHECK(ck->der_len[0] > 100 && ck->der[0][0] == 0x30);
        if (inter != NULL) {
            CHECK_EQ_INT(ck->der_len[1], inter->der_len[0]);
            CHECK(ck->der_len[1] == inter->der_len[0] &&
                  memcmp(ck->der[1], inter->der[0], ck->der_len[1]) == 0);
        }
        EVP_PKEY *pub = latch_leaf_public_key(ck->der[0], ck->der_len[0]);
        CHECK(pub != NULL && EVP_PKEY_eq(pub, ck->key) == 1);
        EVP_PKEY_free(pub);
        CHECK(latch_cert_key_matches_name(ck, "localhost"));
        CHECK(latch_cert_key_matches_name(ck, "LocalHost"));
        CHECK(latch_cert_key_matches_name(ck, "127.0.0.1"));
        CHECK(latch_cert_key_matches_name(ck, "::1"));
        CHECK(!latch_cert_key_matches_name(ck, "10.0.0.1"));
        CHECK(!latch_cert_key_matches_name(ck, "example.com"));
        latch_cert_key_free(ck);
    }
    latch_cert_key_free(inter);
}

static void test_load_der_and_leaf_only(void)
{
    latch_cert_key *ck = load(PKI "server-p256-leaf.der", PKI "server-p256-key.der");
    CHECK(ck != NULL);
    if (ck != NULL) {
        CHECK_EQ_INT(ck->count, 1);
        CHECK_EQ_INT(ck->key_type, EVP_PKEY_EC);
        CHECK_EQ_INT(ck->ec_curve_nid, NID_X9_62_prime256v1);
        CHECK(ck->name_count == 1 && strcmp(ck->names[0], "localhost") == 0);
    }
    /* The DER leaf is the same certificate as the PEM leaf. */
    latch_cert_key *pem = load(PKI "server-p256-leaf.pem", PKI "server-p256-key.pem");
    CHECK(pem != NULL && pem->count == 1);
    if (ck != NULL && pem != NULL && ck->der_len[0] == pem->der_len[0])
        CHECK_MEM(ck->der[0], pem->der[0], ck->der_len[0]);
    else
        CHECK(0);
    /* Mixed: PEM chain with a DER key, and the traditional-format P-384 key. */
    latch_cert_key *mixed = load(PKI "server-p256.pem", PKI "server-p256-key.der");
    CHECK(mixed != NULL && mixed->count == 2);
    latch_cert_key_free(mixed);
    latch_cert_key_free(pem);
    latch_cert_key_free(ck);
}

static void test_load_errors(void)
{
    reason[0] = '\0';
    latch_cert_key *ck =
        latch_cert_key_load(PKI "server-p256.pem", PKI "server-rsa2048-key.pem", reason,
                            sizeof reason);
    CHECK(ck == NULL);
    CHECK(strstr(reason, "does not match") != NULL);
    CHECK(strstr(reason, PKI "server-p256.pem") != NULL);
    CHECK(strstr(reason, PKI "server-rsa2048-key.pem") != NULL);

    reason[0] = '\0';
    ck = latch_cert_key_load(PKI "no-such-file.pem", PKI "server-p256-key.pem", reason,
                             sizeof reason);
    CHECK(ck == NULL && strstr(reason, PKI "no-such-file.pem") != NULL);

    reason[0] = '\0';
    ck = latch_cert_key_load(PKI "server-p256.pem", PKI "no-such-key.pem", reason,
                             sizeof reason);
    CHECK(ck == NULL && strstr(reason, PKI "no-such-key.pem") != NULL);

    reason[0] = '\0'; /* a key where the certificate should be */
    ck = latch_cert_key_load(PKI "server-p256-key.pem", PKI "server-p256-key.pem", reason,
                             sizeof reason);
    CHECK(ck == NULL && strstr(reason, "no certificate found") != NULL);

    reason[0] = '\0'; /* a certificate where the key should be */
    ck = latch_cert_key_load(PKI "server-p256.pem", PKI "server-p256.pem", reason,
                             sizeof reason);
    CHECK(ck == NULL && strstr(reason, "cannot parse private key") != NULL);

    reason[0] = '\0'; /* a text file is neither PEM nor DER */
    ck = latch_cert_key_load(LATCH_TEST_DATA "/vectors/README.md", PKI "server-p256-key.pem", reason,
                             sizeof reason);
    CHECK(ck == NULL && strstr(reason, "malformed certificate") != NULL);
}

static void test_name_patterns(void)
{
    CHECK(latch_name_matches_pattern("*.example.com", "a.example.com"));
    CHECK(latch_name_matches_pattern("*.example.com", "A.EXAMPLE.Com"));
    CHECK(!latch_name_matches_pattern("*.example.com", "example.com"));
    CHECK(!latch_name_matches_pattern("*.example.com", "a.b.example.com"));
    CHECK(!latch_name_matches_pattern("*.example.com", ".example.com"));
    CHECK(!latch_name_matches_pattern("*.example.com", "a.example.org"));
    CHECK(!latch_name_matches_pattern("*.example.com", "*.example.com"));
    CHECK(!latch_name_matches_pattern("*.com", "example.com"));
    CHECK(!latch_name_matches_pattern("f*.example.com", "foo.example.com"));
    CHECK(!latch_name_matches_pattern("a.*.example.com", "a.b.example.com"));
    CHECK(!latch_name_matches_pattern("*.0.0.1", "127.0.0.1"));
    CHECK(latch_name_matches_pattern("www.example.com", "WWW.Example.COM"));
    CHECK(latch_name_matches_pattern("www.example.com", "www.example.com."));
    CHECK(!latch_name_matches_pattern("www.example.com", "www.example.co"));
    CHECK(!latch_name_matches_pattern("www.example.com", "ww.example.com"));
    CHECK(!latch_name_matches_pattern("", "localhost"));
    CHECK(!latch_name_matches_pattern("localhost", ""));
    CHECK(latch_host_is_ip("127.0.0.1"));
    CHECK(latch_host_is_ip("::1"));
    CHECK(latch_host_is_ip("2001:db8::17"));
    CHECK(!latch_host_is_ip("localhost"));
    CHECK(!latch_host_is_ip("127.0.0"));
    CHECK(!latch_host_is_ip(""));
}

static void test_trust_store(void)
{
    X509_STORE *store = latch_trust_store_new(PKI "missing-ca.pem", NULL, reason, sizeof reason);
    CHECK(store == NULL && strstr(reason, PKI "missing-ca.pem") != NULL);
    store = latch_trust_store_new(NULL, PKI "missing-dir", reason, sizeof reason);
    CHECK(store == NULL && strstr(reason, PKI "missing-dir") != NULL);
    store = latch_trust_store_new(NULL, PKI "ca.pem", reason, sizeof reason);
    CHECK(store == NULL && strstr(reason, "not a directory") != NULL);
    store = latch_trust_store_new(PKI "make-pki.sh", NULL, reason, sizeof reason);
    CHECK(store == NULL && strstr(reason, "make-pki.sh") != NULL);
    store = latch_trust_store_new(NULL, NULL, reason, sizeof reason); /* system store */
    CHECK(store != NULL);
    X509_STORE_free(store);
    store = latch_trust_store_new(PKI "ca.pem", PKI, reason, sizeof reason);
    CHECK(store != NULL);
    X509_STORE_free(store);
}

static void test_verify_good(X509_STORE *store)
{
    for (size_t i = 0; i < sizeof servers / sizeof servers[0]; i++) {
        const char *name = servers[i].name;
        CHECK_EQ_INT(verify_named(store, name, name, "localhost", 0), LATCH_OK);
        CHECK_EQ_INT(verify_named(store, name, name, "LOCALHOST", 0), LATCH_OK);
        CHECK_EQ_INT(verify_named(store, name, name, "127.0.0.1", 0), LATCH_OK);
        CHECK_EQ_INT(verify_named(store, name, name, "::1", 0), LATCH_OK);
        CHECK_EQ_INT(verify_named(store, name, name, NULL, 0), LATCH_OK);
        CHECK_EQ_INT(verify_named(store, name, name, "example.com", 0),
                     LATCH_ERR_CERTIFICATE_NAME);
        CHECK(strcmp(reason, "hostname mismatch: certificate for localhost does not cover "
                             "example.com") == 0);
        CHECK_EQ_INT(verify_named(store, name, name, "10.1.2.3", 0),
                     LATCH_ERR_CERTIFICATE_NAME);
        CHECK(strstr(reason, "IP address mismatch") != NULL);
        CHECK_EQ_INT(verify_named(store, name, name, "localhost", T_2001),
                     LATCH_ERR_CERTIFICATE_EXPIRED);
        CHECK(strstr(reason, "not yet valid") != NULL);
    }
    CHECK_EQ_INT(verify_named(store, "server-p256", "server-p256", "", 0),
                 LATCH_ERR_CERTIFICATE_NAME);
}

static void test_verify_bad(X509_STORE *store)
{
    CHECK_EQ_INT(verify_named(store, "expired", "expired", "localhost", 0),
                 LATCH_ERR_CERTIFICATE_EXPIRED);
    CHECK(strcmp(reason, "certificate has expired: CN=localhost (depth 0), not after "
                         "2021-01-01") == 0);
    CHECK_EQ_INT(verify_named(store, "wrong-name", "wrong-name", "localhost", 0),
                 LATCH_ERR_CERTIFICATE_NAME);
    CHECK(strstr(reason, "certificate for wrong.example does not cover localhost") != NULL);
    CHECK_EQ_INT(verify_named(store, "wrong-name", "wrong-name", "wrong.example", 0),
                 LATCH_OK);
    CHECK_EQ_INT(verify_named(store, "self-signed", "self-signed", "localhost", 0),
                 LATCH_ERR_UNKNOWN_CA);
    CHECK(strstr(reason, "CN=localhost (depth 0)") != NULL);
    CHECK_EQ_INT(verify_named(store, "client-only-eku", "client-only-eku", "localhost", 0),
                 LATCH_ERR_UNSUPPORTED_CERTIFICATE);
    CHECK(strstr(reason, "purpose") != NULL);
    CHECK_EQ_INT(verify_named(store, "server-p256-leaf", "server-p256", "localhost", 0),
                 LATCH_ERR_UNKNOWN_CA);
    CHECK(strstr(reason, "issuer CN=latch test intermediate CA") != NULL);
    CHECK_EQ_INT(verify_named(store, "weak-rsa1024", "weak-rsa1024", "localhost", 0),
                 LATCH_ERR_BAD_CERTIFICATE);
    CHECK(strstr(reason, "too weak") != NULL);
    CHECK_EQ_INT(verify_named(store, "weak-sha1", "weak-sha1", "localhost", 0),
                 LATCH_ERR_BAD_CERTIFICATE);
    CHECK(strstr(reason, "digest algorithm too weak") != NULL);

    X509_STORE *other = store_from(PKI "other-ca.pem");
    CHECK_EQ_INT(verify_named(other, "server-p256", "server-p256", "localhost", 0),
                 LATCH_ERR_UNKNOWN_CA);
    CHECK(strstr(reason, "depth 1") != NULL);
    X509_STORE_free(other);
}

static void test_verify_malformed(X509_STORE *store)
{
    static const uint8_t garbage[] = {0x30, 0x03, 0x02, 0x01, 0x05};
    const uint8_t *der[2] = {garbage};
    size_t len[2] = {sizeof garbage};
    EVP_PKEY *key = (EVP_PKEY *)1;
    CHECK_EQ_INT(latch_verify_chain(store, der, len, 1, "localhost", 0, &key, reason,
                                    sizeof reason),
                 LATCH_ERR_BAD_CERTIFICATE);
    CHECK(key == NULL && strstr(reason, "malformed certificate") != NULL);
    CHECK_EQ_INT(latch_verify_chain(store, der, len, 0, "localhost", 0, NULL, reason,
                                    sizeof reason),
                 LATCH_ERR_BAD_CERTIFICATE);
    CHECK(strcmp(reason, "peer sent no certificate") == 0);
    CHECK(latch_leaf_public_key(garbage, sizeof garbage) == NULL);

    latch_cert_key *ck = load(PKI "server-p256.pem", PKI "server-p256-key.pem");
    if (ck == NULL)
        return;
    der[0] = ck->der[0], len[0] = ck->der_len[0];
    der[1] = garbage, len[1] = sizeof garbage; /* good leaf, bad intermediate */
    CHECK_EQ_INT(latch_verify_chain(store, der, len, 2, "localhost", 0, NULL, reason,
                                    sizeof reason),
                 LATCH_ERR_BAD_CERTIFICATE);
    CHECK(strstr(reason, "depth 1") != NULL);
    uint8_t *longer = malloc(ck->der_len[0] + 1); /* trailing byte after the DER */
    memcpy(longer, ck->der[0], ck->der_len[0]);
    longer[ck->der_len[0]] = 0;
    der[0] = longer, len[0] = ck->der_len[0] + 1;
    CHECK_EQ_INT(latch_verify_chain(store, der, len, 1, "localhost", 0, NULL, reason,
                                    sizeof reason),
                 LATCH_ERR_BAD_CERTIFICATE);
    free(longer);
    latch_cert_key_free(ck);
}

/* ---- the illustrated TLS 1.2 certificate (vector file) ---------------- */

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t len = 0, n;
    char chunk[65536];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        char *grown = realloc(buf, len + n + 1);
        if (grown == NULL)
            break;
        buf = grown;
        memcpy(buf + len, chunk, n);
        len += n;
        buf[len] = '\0';
    }
    fclose(f);
    return buf;
}

/* Value of the top-level string member "key" (handles \n, \" and \\). */
static char *json_string(const char *json, const char *key)
{
    char pattern[128];
    snprintf(pattern, sizeof pattern, "\"%s\": \"", key);
    const char *p = strstr(json, pattern);
    if (p == NULL)
        return NULL;
    p += strlen(pattern);
    char *out = malloc(strlen(p) + 1), *o = out;
    for (; *p != '\0' && *p != '"'; p++) {
        if (*p == '\\' && p[1] != '\0')
            *o++ = *++p == 'n' ? '\n' : *p;
        else
            *o++ = *p;
    }
    *o = '\0';
    return out;
}

static size_t from_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    unsigned v;
    while (n < cap && hex[2 * n] != '\0' && sscanf(hex + 2 * n, "%2x", &v) == 1)
        out[n++] = (uint8_t)v;
    return n;
}

static void test_illustrated_cert(void)
{
    char *json = read_text(LATCH_TEST_DATA "/vectors/illustrated-tls12.json");
    CHECK(json != NULL);
    char *hex = json != NULL ? json_string(json, "server_cert_der") : NULL;
    char *ca_pem = json != NULL ? json_string(json, "ca_cert_pem") : NULL;
    CHECK(hex != NULL && ca_pem != NULL);
    uint8_t der_buf[4096];
    size_t der_len = hex != NULL ? from_hex(hex, der_buf, sizeof der_buf) : 0;
    CHECK_EQ_INT(der_len, 805);
    BIO *bio = ca_pem != NULL ? BIO_new_mem_buf(ca_pem, -1) : NULL;
    X509 *ca = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    X509_STORE *store = X509_STORE_new();
    CHECK(ca != NULL && X509_STORE_add_cert(store, ca) == 1);
    const uint8_t *der[1] = {der_buf};
    EVP_PKEY *key = NULL;
    /* a CN-only certificate (2018): its CN is never used as a host name */
    CHECK_EQ_INT(latch_verify_chain(store, der, &der_len, 1, "example.ulfheim.net", T_2019,
                                    NULL, reason, sizeof reason),
                 LATCH_ERR_CERTIFICATE_NAME);
    CHECK(strstr(reason, "CN is not used") != NULL);
    CHECK_EQ_INT(latch_verify_chain(store, der, &der_len, 1, NULL, T_2019, &key, reason,
                                    sizeof reason),
                 LATCH_OK);
    CHECK(key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA);
    CHECK_EQ_INT(EVP_PKEY_get_bits(key), 2048);
    EVP_PKEY_free(key);
    CHECK_EQ_INT(latch_verify_chain(store, der, &der_len, 1, NULL, 0, NULL, reason,
                                    sizeof reason),
                 LATCH_ERR_CERTIFICATE_EXPIRED);
    CHECK(strstr(reason, "not after 2019-10-05") != NULL);
    CHECK_EQ_INT(latch_verify_chain(store, der, &der_len, 1, "example.com", T_2019, NULL,
                                    reason, sizeof reason),
                 LATCH_ERR_CERTIFICATE_NAME);
    X509_STORE_free(store);
    X509_free(ca);
    BIO_free(bio);
    free(ca_pem);
    free(hex);
    free(json);
}

int main(void)
{
    test_load_servers();
    test_load_der_and_leaf_only();
    test_load_errors();
    test_name_patterns();
    test_trust_store();
    X509_STORE *store = store_from(PKI "ca.pem");
    if (store != NULL) {
        test_verify_good(store);
        test_verify_bad(store);
        test_verify_malformed(store);
    }
    X509_STORE_free(store);
    test_illustrated_cert();
    return check_finish();
}
