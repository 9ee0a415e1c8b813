/*
 * TLS SignatureSchemes: RSA PKCS#1 v1.5, RSA-PSS-RSAE, ECDSA, Ed25519.
 */
#include "crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum sig_kind { SIG_RSA_PKCS1, SIG_RSA_PSS, SIG_ECDSA, SIG_ED25519 };

typedef struct sig_scheme {
    uint16_t scheme;
    enum sig_kind kind;
    enum latch_hash_id hash; /* unused for Ed25519 */
    int curve_nid;           /* ECDSA only */
} sig_scheme;

static const sig_scheme schemes[] = {
    {LATCH_SIG_RSA_PKCS1_SHA256, SIG_RSA_PKCS1, LATCH_HASH_SHA256, NID_undef},
    {LATCH_SIG_RSA_PKCS1_SHA384, SIG_RSA_PKCS1, LATCH_HASH_SHA384, NID_undef},
    {LATCH_SIG_RSA_PKCS1_SHA512, SIG_RSA_PKCS1, LATCH_HASH_SHA512, NID_undef},
    {LATCH_SIG_ECDSA_SECP256R1_SHA256, SIG_ECDSA, LATCH_HASH_SHA256, NID_X9_62_prime256v1},
    {LATCH_SIG_ECDSA_SECP384R1_SHA384, SIG_ECDSA, LATCH_HASH_SHA384, NID_secp384r1},
    {LATCH_SIG_RSA_PSS_RSAE_SHA256, SIG_RSA_PSS, LATCH_HASH_SHA256, NID_undef},
    {LATCH_SIG_RSA_PSS_RSAE_SHA384, SIG_RSA_PSS, LATCH_HASH_SHA384, NID_undef},
    {LATCH_SIG_RSA_PSS_RSAE_SHA512, SIG_RSA_PSS, LATCH_HASH_SHA512, NID_undef},
    {LATCH_SIG_ED25519, SIG_ED25519, LATCH_HASH_SHA256, NID_undef},
    /* never offered; signed only for TLS 1.2 clients without signature_algorithms
     * under the old profile (RFC 5246 7.4.1.4.1) */
    {LATCH_SIG_RSA_PKCS1_SHA1, SIG_RSA_PKCS1, LATCH_HASH_SHA1, NID_undef},
    {LATCH_SIG_ECDSA_SHA1, SIG_ECDSA, LATCH_HASH_SHA1, NID_undef},
};

static const sig_scheme *find_scheme(uint16_t scheme)
{
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (schemes[i].scheme == scheme)
            return &schemes[i];
    return NULL;
}

static int key_curve_nid(EVP_PKEY *key)
{
    char name[64];
    size_t len = 0;
    int nid;

    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
                                       &len) != 1)
        return NID_undef;
    nid = OBJ_txt2nid(name);
    return nid != NID_undef ? nid : EC_curve_nist2nid(name);
}

/* TLS 1.2 (RFC 8422 5.1.1): an ECDSA scheme names the hash only; the SHA-1
 * schemes exist only there (RFC 5246 7.4.1.4.1 defaults). */
static int scheme_fits_any_curve(const sig_scheme *s, EVP_PKEY *key)
{
    if (s->kind == SIG_ECDSA)
        return EVP_PKEY_is_a(key, "EC");
    if (s->kind == SIG_RSA_PKCS1 && s->hash == LATCH_HASH_SHA1)
        return EVP_PKEY_is_a(key, "RSA");
    return 0;
}

static int scheme_fits(const sig_scheme *s, EVP_PKEY *key)
{
    size_t hlen = latch_hash_len(s->hash);

    if (s->hash == LATCH_HASH_SHA1) /* TLS 1.2 signing only, see above */
        return 0;
    switch (s->kind) {
    case SIG_RSA_PKCS1:
        return EVP_PKEY_is_a(key, "RSA");
    case SIG_RSA_PSS:
        /* EMSA-PSS with salt = hash length needs emLen >= 2*hLen + 2. */
        return EVP_PKEY_is_a(key, "RSA") &&
               (size_t)(EVP_PKEY_get_bits(key) - 1) >= 8 * (2 * hlen + 2);
    case SIG_ECDSA:
        return EVP_PKEY_is_a(key, "EC") && key_curve_nid(key) == s->curve_nid;
    case SIG_ED25519:
        return EVP_PKEY_is_a(key, "ED25519");
    }
    return 0;
}

int latch_sig_scheme_fits_key(uint16_t scheme, EVP_PKEY *key)
{
    const sig_scheme *s = find_scheme(scheme);
    return s != NULL && key != NULL && scheme_fits(s, key);
}

/* Digest context ready to sign (sign=1) or verify (sign=0); NULL on error. */
static EVP_MD_CTX *sig_ctx(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key, int sign,
                           int tls12)
{
    const sig_scheme *s = find_scheme(scheme);
    const EVP_MD *md;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *mctx;
    int ok;

    if (s == NULL || key == NULL ||
        !(scheme_fits(s, key) || (tls12 && scheme_fits_any_curve(s, key))))
        return NULL;
    md = s->kind == SIG_ED25519 ? NULL : crypto->md[s->hash];
    if ((s->kind != SIG_ED25519 && md == NULL) || (mctx = EVP_MD_CTX_new()) == NULL)
        return NULL;
    ok = sign ? EVP_DigestSignInit(mctx, &pctx, md, NULL, key) == 1
              : EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key) == 1;
    if (ok && s->kind == SIG_RSA_PKCS1)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    if (ok && s->kind == SIG_RSA_PSS)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1;
    if (!ok) {
        EVP_MD_CTX_free(mctx);
        return NULL;
    }
    return mctx;
}

/* An EVP_PKEY_CTX ready to sign (sign=1) or verify a digest with s; NULL on
 * error.  The caller has checked that s fits the key. */
static EVP_PKEY_CTX *prepared_ctx(const latch_crypto *crypto, const sig_scheme *s, EVP_PKEY *key,
                                  int sign)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (ctx == NULL)
        return NULL;
    int ok = (sign ? EVP_PKEY_sign_init(ctx) : EVP_PKEY_verify_init(ctx)) == 1 &&
             EVP_PKEY_CTX_set_signature_md(ctx, crypto->md[s->hash]) == 1;
    if (ok && s->kind == SIG_RSA_PKCS1)
        ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
    if (ok && s->kind == SIG_RSA_PSS)
        ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, crypto->md[s->hash]) == 1;
    if (!ok) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* ---- prepared signing contexts ----------------------------------------
 * A server signs with the same few keys on every handshake.  Setting up a
 * signing context (EVP_DigestSignInit: provider fetch, key import checks,
 * the scheme's fit to the key) costs more than a tenth of an ECDSA
 * signature, so each (key, scheme) keeps a few prepared EVP_PKEY_CTXs.  A
 * signature takes one out under the lock, hashes, calls EVP_PKEY_sign and
 * puts it back; threads that sign at once get more (up to SIG_CACHE_POOL
 * are kept).  The entry holds a reference to the key, so its address
 * cannot be reused for another key while it is cached. */
enum { SIG_CACHE_ENTRIES = 16, SIG_CACHE_POOL = 4 };

struct sig_cache_entry {
    EVP_PKEY *key;
    const sig_scheme *scheme;
    int fits;        /* scheme_fits */
    int fits_tls12;  /* ... or scheme_fits_any_curve */
    EVP_PKEY_CTX *idle[SIG_CACHE_POOL];
    size_t idle_count;
};

struct latch_sig_cache {
    pthread_mutex_t lock;
    struct sig_cache_entry entries[SIG_CACHE_ENTRIES];
    size_t count;
};

struct latch_sig_cache *latch_sig_cache_new(void)
{
    struct latch_sig_cache *cache = calloc(1, sizeof *cache);
    if (cache != NULL && pthread_mutex_init(&cache->lock, NULL) != 0) {
        free(cache);
        return NULL;
    }
    return cache;
}

void latch_sig_cache_free(struct latch_sig_cache *cache)
{
    if (cache == NULL)
        return;
    for (size_t i = 0; i < cache->count; i++) {
        struct sig_cache_entry *e = &cache->entries[i];
        for (size_t j = 0; j < e->idle_count; j++)
            EVP_PKEY_CTX_free(e->idle[j]);
        EVP_PKEY_free(e->key);
    }
    pthread_mutex_destroy(&cache->lock);
    free(cache);
}

/* The cache entry of (key, s), made if there is room; NULL if none. */
static struct sig_cache_entry *cache_entry(struct latch_sig_cache *cache, const sig_scheme *s,
                                           EVP_PKEY *key)
{
    for (size_t i = 0; i < cache->count; i++)
        if (cache->entries[i].key == key && cache->entries[i].scheme == s)
            return &cache->entries[i];
    if (cache->count == SIG_CACHE_ENTRIES || EVP_PKEY_up_ref(key) != 1)
        return NULL;
    struct sig_cache_entry *e = &cache->entries[cache->count++];
    e->key = key;
    e->scheme = s;
    e->fits = scheme_fits(s, key);
    e->fits_tls12 = e->fits || scheme_fits_any_curve(s, key);
    e->idle_count = 0;
    return e;
}

/* A signing context for (key, s), or NULL if s does not fit the key (tls12:
 * as TLS 1.2 allows) or on error.  *from gets the cache entry to give it back
 * to (give_back), or NULL. */
static EVP_PKEY_CTX *take_sign_ctx(const latch_crypto *crypto, const sig_scheme *s, EVP_PKEY *key,
                                   int tls12, struct sig_cache_entry **from)
{
    struct latch_sig_cache *cache = crypto->sig_cache;
    struct sig_cache_entry *e = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    int fits;
    *from = NULL;
    if (cache != NULL) {
        pthread_mutex_lock(&cache->lock);
        e = cache_entry(cache, s, key);
        if (e != NULL && (tls12 ? e->fits_tls12 : e->fits) && e->idle_count > 0)
            ctx = e->idle[--e->idle_count];
        pthread_mutex_unlock(&cache->lock);
    }
    if (e != NULL)
        fits = tls12 ? e->fits_tls12 : e->fits; /* set once, under the lock */
    else
        fits = scheme_fits(s, key) || (tls12 && scheme_fits_any_curve(s, key));
    if (!fits)
        return NULL;
    if (ctx == NULL && (ctx = prepared_ctx(crypto, s, key, 1)) == NULL)
        return NULL;
    *from = e;
    return ctx;
}

static void give_back(const latch_crypto *crypto, struct sig_cache_entry *e, EVP_PKEY_CTX *ctx,
                      int ok)
{
    if (e != NULL && ok) {
        pthread_mutex_lock(&crypto->sig_cache->lock);
        if (e->idle_count < SIG_CACHE_POOL) {
            e->idle[e->idle_count++] = ctx;
            ctx = NULL;
        }
        pthread_mutex_unlock(&crypto->sig_cache->lock);
    }
    EVP_PKEY_CTX_free(ctx);
}

/* Sign a digest of the scheme's hash with a prepared context. */
static int sign_prepared(const latch_crypto *crypto, const sig_scheme *s, EVP_PKEY *key, int tls12,
                         const uint8_t *digest, size_t digest_len, uint8_t *sig, size_t *sig_len)
{
    struct sig_cache_entry *from;
    EVP_PKEY_CTX *ctx = take_sign_ctx(crypto, s, key, tls12, &from);
    size_t len = LATCH_MAX_SIGNATURE;
    if (ctx == NULL)
        return -1;
    int ok = EVP_PKEY_sign(ctx, NULL, &len, digest, digest_len) == 1 &&
             len <= LATCH_MAX_SIGNATURE && EVP_PKEY_sign(ctx, sig, &len, digest, digest_len) == 1;
    give_back(crypto, from, ctx, ok);
    if (!ok)
        return -1;
    *sig_len = len;
    return 0;
}

static int sign_mode(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
                     const uint8_t *tbs, size_t tbs_len, uint8_t *sig, size_t *sig_len,
                     int tls12)
{
    const sig_scheme *s = find_scheme(scheme);
    size_t len = 0;
    int ok;

    if (s == NULL || key == NULL)
        return -1;
    if (s->kind != SIG_ED25519) { /* prehash, then the prepared context */
        uint8_t digest[EVP_MAX_MD_SIZE];
        unsigned int digest_len = 0;
        if (crypto->md[s->hash] == NULL ||
            EVP_Digest(tbs, tbs_len, digest, &digest_len, crypto->md[s->hash], NULL) != 1)
            return -1;
        return sign_prepared(crypto, s, key, tls12, digest, digest_len, sig, sig_len);
    }
    EVP_MD_CTX *mctx = sig_ctx(crypto, scheme, key, 1, tls12); /* PureEdDSA */
    if (mctx == NULL)
        return -1;
    ok = EVP_DigestSign(mctx, NULL, &len, tbs, tbs_len) == 1 && len <= LATCH_MAX_SIGNATURE &&
         EVP_DigestSign(mctx, sig, &len, tbs, tbs_len) == 1;
    EVP_MD_CTX_free(mctx);
    if (!ok)
        return -1;
    *sig_len = len;
    return 0;
}

static int verify_mode(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
                       const uint8_t *tbs, size_t tbs_len, const uint8_t *sig, size_t sig_len,
                       int tls12)
{
    EVP_MD_CTX *mctx;
    int ok;

    if (sig == NULL || sig_len == 0 || sig_len > LATCH_MAX_SIGNATURE)
        return -1;
    if ((mctx = sig_ctx(crypto, scheme, key, 0, tls12)) == NULL)
        return -1;
    ok = EVP_DigestVerify(mctx, sig, sig_len, tbs, tbs_len) == 1;
    EVP_MD_CTX_free(mctx);
    return ok ? 0 : -1;
}

int latch_sign(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
               const uint8_t *tbs, size_t tbs_len, uint8_t *sig, size_t *sig_len)
{
    return sign_mode(crypto, scheme, key, tbs, tbs_len, sig, sig_len, 0);
}

int latch_verify(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
                 const uint8_t *tbs, size_t tbs_len, const uint8_t *sig, size_t sig_len)
{
    return verify_mode(crypto, scheme, key, tbs, tbs_len, sig, sig_len, 0);
}

int latch_sign_tls12(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
                     const uint8_t *tbs, size_t tbs_len, uint8_t *sig, size_t *sig_len)
{
    return sign_mode(crypto, scheme, key, tbs, tbs_len, sig, sig_len, 1);
}

int latch_verify_tls12(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
                       const uint8_t *tbs, size_t tbs_len, const uint8_t *sig, size_t sig_len)
{
    return verify_mode(crypto, scheme, key, tbs, tbs_len, sig, sig_len, 1);
}

/* Prehashed signatures, for the TLS 1.2 CertificateVerify: the running
 * transcript hash stands in for handshake_messages when the scheme's hash is
 * the PRF hash.  Not for Ed25519 (PureEdDSA signs the message itself). */
static EVP_PKEY_CTX *digest_ctx(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
                                int sign)
{
    const sig_scheme *s = find_scheme(scheme);
    if (s == NULL || key == NULL || s->kind == SIG_ED25519 ||
        !(scheme_fits(s, key) || scheme_fits_any_curve(s, key)))
        return NULL;
    return prepared_ctx(crypto, s, key, sign);
}

int latch_scheme_hash(uint16_t scheme, enum latch_hash_id *hash)
{
    const sig_scheme *s = find_scheme(scheme);
    if (s == NULL || s->kind == SIG_ED25519)
        return -1;
    *hash = s->hash;
    return 0;
}

int latch_sign_digest(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
                      const uint8_t *digest, size_t digest_len, uint8_t *sig, size_t *sig_len)
{
    const sig_scheme *s = find_scheme(scheme);
    if (s == NULL || key == NULL || s->kind == SIG_ED25519)
        return -1;
    return sign_prepared(crypto, s, key, 1, digest, digest_len, sig, sig_len);
}

int latch_verify_digest(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
                        const uint8_t *digest, size_t digest_len, const uint8_t *sig,
                        size_t sig_len)
{
    EVP_PKEY_CTX *ctx = digest_ctx(crypto, scheme, key, 0);
    int ok = ctx != NULL && sig_len > 0 &&
             EVP_PKEY_verify(ctx, sig, sig_len, digest, digest_len) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok ? 0 : -1;
}
