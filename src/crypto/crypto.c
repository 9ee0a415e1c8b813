/*
 * Algorithm fetching, transcript hashing, randomness and small helpers.
 * Every EVP object used per call is fetched here once (latch_crypto_init).
 */
#include "crypto/crypto.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <string.h>

static const char *const md_names[LATCH_HASH_COUNT] = {"SHA256", "SHA384", "SHA1", "SHA512"};
static const size_t md_lens[LATCH_HASH_COUNT] = {32, 48, 20, 64};
static const char *const aead_names[LATCH_AEAD_COUNT] = {"AES-128-GCM", "AES-256-GCM",
                                                         "ChaCha20-Poly1305"};
static const size_t aead_key_lens[LATCH_AEAD_COUNT] = {16, 32, 32};

/* An HMAC context per hash with the digest set once; duplicated per call. */
static int make_templates(latch_crypto *crypto, int i)
{
    OSSL_PARAM mac_digest[2] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md_names[i], 0),
        OSSL_PARAM_construct_end()};
    crypto->hmac_template[i] = EVP_MAC_CTX_new(crypto->hmac);
    if (crypto->hmac_template[i] == NULL ||
        EVP_MAC_CTX_set_params(crypto->hmac_template[i], mac_digest) != 1)
        return -1;
    return 0;
}

int latch_crypto_init(latch_crypto *crypto)
{
    memset(crypto, 0, sizeof(*crypto));
    for (int i = 0; i < LATCH_HASH_COUNT; i++) {
        crypto->md[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
        if (crypto->md[i] == NULL)
            goto fail;
    }
    for (int i = 0; i < LATCH_AEAD_COUNT; i++) {
        crypto->aead[i] = EVP_CIPHER_fetch(NULL, aead_names[i], NULL);
        if (crypto->aead[i] == NULL)
            goto fail;
    }
    crypto->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (crypto->hmac == NULL)
        goto fail;
    for (int i = 0; i < LATCH_HASH_COUNT; i++)
        if (make_templates(crypto, i) != 0)
            goto fail;
    crypto->sig_cache = latch_sig_cache_new(); /* optional: NULL signs without it */
    crypto->kx_cache = latch_kx_cache_new(); /* optional too */
    return 0;
fail:
    latch_crypto_cleanup(crypto);
    return -1;
}

void latch_crypto_cleanup(latch_crypto *crypto)
{
    for (int i = 0; i < LATCH_HASH_COUNT; i++) {
        EVP_MD_free(crypto->md[i]);
        EVP_MAC_CTX_free(crypto->hmac_template[i]);
    }
    for (int i = 0; i < LATCH_AEAD_COUNT; i++)
        EVP_CIPHER_free(crypto->aead[i]);
    EVP_MAC_free(crypto->hmac);
    latch_sig_cache_free(crypto->sig_cache);
    latch_kx_cache_free(crypto->kx_cache);
    memset(crypto, 0, sizeof(*crypto));
}

size_t latch_hash_len(enum latch_hash_id hash)
{
    return (unsigned)hash < LATCH_HASH_COUNT ? md_lens[hash] : 0;
}

size_t latch_aead_key_len(enum latch_aead_id aead)
{
    return (unsigned)aead < LATCH_AEAD_COUNT ? aead_key_lens[aead] : 0;
}

int latch_random_default(void *arg, uint8_t *out, size_t n)
{
    while (n > 0) {
        int chunk = n > INT_MAX ? INT_MAX : (int)n;
        if (RAND_bytes(out, chunk) != 1)
            return -1;
        out += chunk;
        n -= (size_t)chunk;
    }
    return 0;
}

/* ---- transcript hash ------------------------------------------------- */

static const EVP_MD *hash_md(const latch_crypto *crypto, enum latch_hash_id hash)
{
    return (unsigned)hash < LATCH_HASH_COUNT ? crypto->md[hash] : NULL;
}

int latch_hash_init(const latch_crypto *crypto, latch_hash_ctx *h, enum latch_hash_id hash)
{
    h->md = hash_md(crypto, hash);
    h->ctx = h->md != NULL ? EVP_MD_CTX_new() : NULL;
    if (h->ctx == NULL || EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1) {
        latch_hash_free(h);
        return -1;
    }
    return 0;
}

int latch_hash_update(latch_hash_ctx *h, const uint8_t *data, size_t len)
{
    if (h->ctx == NULL)
        return -1;
    if (len == 0)
        return 0;
    return EVP_DigestUpdate(h->ctx, data, len) == 1 ? 0 : -1;
}

int latch_hash_peek(const latch_hash_ctx *h, uint8_t *out, size_t *out_len)
{
    unsigned int len = 0;
    EVP_MD_CTX *copy = h->ctx != NULL ? EVP_MD_CTX_new() : NULL;
    int ok = copy != NULL && EVP_MD_CTX_copy_ex(copy, h->ctx) == 1 &&
             EVP_DigestFinal_ex(copy, out, &len) == 1;
    EVP_MD_CTX_free(copy);
    if (!ok)
        return -1;
    *out_len = len;
    return 0;
}

void latch_hash_free(latch_hash_ctx *h)
{
    EVP_MD_CTX_free(h->ctx);
    h->ctx = NULL;
    h->md = NULL;
}

int latch_hash_oneshot(const latch_crypto *crypto, enum latch_hash_id hash,
                       const uint8_t *data, size_t len, uint8_t *out, size_t *out_len)
{
    unsigned int n = 0;
    const EVP_MD *md = hash_md(crypto, hash);
    static const uint8_t empty[1];

    if (md == NULL || EVP_Digest(len ? data : empty, len, out, &n, md, NULL) != 1)
        return -1;
    *out_len = n;
    return 0;
}

/* ---- misc ------------------------------------------------------------ */

int latch_ct_compare(const uint8_t *a, const uint8_t *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0 ? 0 : -1;
}

void latch_wipe(void *p, size_t len)
{
    if (p != NULL && len > 0)
        OPENSSL_cleanse(p, len);
}
