/*
 * TLS 1.2 PRF (EVP_KDF "TLS1-PRF"), HMAC (EVP_MAC "HMAC") and HKDF
 * extract/expand (EVP_KDF "HKDF"), all through the objects fetched by
 * latch_crypto_init.
 */
#include "crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <string.h>

/* OpenSSL treats a NULL key as "not set"; empty inputs point here instead. */
static const uint8_t no_bytes[1];

static const EVP_MD *kdf_md(const latch_crypto *crypto, enum latch_hash_id hash)
{
    return (unsigned)hash < LATCH_HASH_COUNT ? crypto->md[hash] : NULL;
}

static OSSL_PARAM octets(const char *name, const uint8_t *p, size_t len)
{
    return OSSL_PARAM_construct_octet_string(name, (void *)(len ? p : no_bytes), len);
}

static OSSL_PARAM digest_param(const EVP_MD *md)
{
    return OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                            (char *)EVP_MD_get0_name(md), 0);
}

/* Runs one KDF.  (OpenSSL 3.0 cannot duplicate TLS1-PRF or HKDF contexts,
 * so unlike HMAC these take the digest by name on each call.) */
static int run_kdf(EVP_KDF *kdf, const OSSL_PARAM *params, uint8_t *out, size_t out_len)
{
    EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
    int ok = kctx != NULL && EVP_KDF_derive(kctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(kctx);
    return ok ? 0 : -1;
}

int latch_tls12_prf(const latch_crypto *crypto, enum latch_hash_id hash,
                    const uint8_t *secret, size_t secret_len, const char *label,
                    const uint8_t *seed1, size_t seed1_len,
                    const uint8_t *seed2, size_t seed2_len,
                    const uint8_t *seed3, size_t seed3_len,
                    uint8_t *out, size_t out_len)
{
    const EVP_MD *md = kdf_md(crypto, hash);
    OSSL_PARAM params[7];
    size_t n = 0;

    if (md == NULL || label == NULL || out_len == 0)
        return -1;
    params[n++] = digest_param(md);
    params[n++] = octets(OSSL_KDF_PARAM_SECRET, secret, secret_len);
    /* Repeated SEED parameters are concatenated by the provider. */
    params[n++] = octets(OSSL_KDF_PARAM_SEED, (const uint8_t *)label, strlen(label));
    if (seed1_len > 0)
        params[n++] = octets(OSSL_KDF_PARAM_SEED, seed1, seed1_len);
    if (seed2_len > 0)
        params[n++] = octets(OSSL_KDF_PARAM_SEED, seed2, seed2_len);
    if (seed3_len > 0)
        params[n++] = octets(OSSL_KDF_PARAM_SEED, seed3, seed3_len);
    params[n] = OSSL_PARAM_construct_end();
    return run_kdf(crypto->tls1_prf, params, out, out_len);
}

int latch_hmac(const latch_crypto *crypto, enum latch_hash_id hash, const uint8_t *key,
               size_t key_len, const uint8_t *data, size_t data_len, uint8_t *out,
               size_t *out_len)
{
    const EVP_MD *md = kdf_md(crypto, hash);
    EVP_MAC_CTX *mctx;
    size_t len = 0;
    int ok;

    if (md == NULL || (mctx = EVP_MAC_CTX_dup(crypto->hmac_template[hash])) == NULL)
        return -1;
    ok = EVP_MAC_init(mctx, key_len ? key : no_bytes, key_len, NULL) == 1 &&
         (data_len == 0 || EVP_MAC_update(mctx, data, data_len) == 1) &&
         EVP_MAC_final(mctx, out, &len, LATCH_MAX_HASH_LEN) == 1;
    EVP_MAC_CTX_free(mctx);
    if (!ok)
        return -1;
    *out_len = len;
    return 0;
}

/* Salt may be empty: HKDF then uses HashLen zero bytes (RFC 5869 2.2). */
int latch_hkdf_extract(const latch_crypto *crypto, enum latch_hash_id hash,
                       const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                       size_t ikm_len, uint8_t *out, size_t *out_len)
{
    const EVP_MD *md = kdf_md(crypto, hash);
    int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
    size_t len = latch_hash_len(hash);
    OSSL_PARAM params[5];
    size_t n = 0;

    if (md == NULL)
        return -1;
    params[n++] = digest_param(md);
    params[n++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    params[n++] = octets(OSSL_KDF_PARAM_KEY, ikm, ikm_len);
    if (salt_len > 0)
        params[n++] = octets(OSSL_KDF_PARAM_SALT, salt, salt_len);
    params[n] = OSSL_PARAM_construct_end();
    if (run_kdf(crypto->hkdf, params, out, len) != 0)
        return -1;
    *out_len = len;
    return 0;
}

int latch_hkdf_expand(const latch_crypto *crypto, enum latch_hash_id hash,
                      const uint8_t *prk, size_t prk_len, const uint8_t *info,
                      size_t info_len, uint8_t *out, size_t out_len)
{
    const EVP_MD *md = kdf_md(crypto, hash);
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[5];
    size_t n = 0;

    if (md == NULL || out_len == 0 || out_len > 255 * latch_hash_len(hash))
        return -1;
    params[n++] = digest_param(md);
    params[n++] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
    params[n++] = octets(OSSL_KDF_PARAM_KEY, prk, prk_len);
    if (info_len > 0)
        params[n++] = octets(OSSL_KDF_PARAM_INFO, info, info_len);
    params[n] = OSSL_PARAM_construct_end();
    return run_kdf(crypto->hkdf, params, out, out_len);
}
