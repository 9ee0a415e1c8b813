/*
 * HMAC, the TLS 1.2 PRF (RFC 5246 section 5) and HKDF extract/expand
 * (RFC 5869), all as loops over one HMAC context per call.
 *
 * The context comes from the per-config template of latch_crypto (HMAC with
 * the digest already set), is duplicated, keyed once, and re-initialised
 * with EVP_MAC_init(ctx, NULL, ...) for every further block: the provider
 * keeps the key pads, so a block costs two digest-state copies and the
 * compression calls.  The EVP_KDF route (TLS1-PRF, HKDF) created a context
 * and looked the digest up by name on every call, and OpenSSL 3.0 cannot
 * duplicate those contexts.
 */
#include "crypto/crypto.h"

#include <string.h>

/* OpenSSL treats a NULL key as "not set"; empty inputs point here instead. */
static const uint8_t no_bytes[1];

typedef struct hmac_part {
    const uint8_t *data;
    size_t len;
} hmac_part;

/* A fresh HMAC context for hash, keyed with key. */
static EVP_MAC_CTX *hmac_keyed(const latch_crypto *crypto, enum latch_hash_id hash,
                               const uint8_t *key, size_t key_len)
{
    EVP_MAC_CTX *mctx;
    if ((unsigned)hash >= LATCH_HASH_COUNT || crypto->hmac_template[hash] == NULL)
        return NULL;
    mctx = EVP_MAC_CTX_dup(crypto->hmac_template[hash]);
    if (mctx != NULL && EVP_MAC_init(mctx, key_len ? key : no_bytes, key_len, NULL) != 1) {
        EVP_MAC_CTX_free(mctx);
        return NULL;
    }
    return mctx;
}

/* out = HMAC(key, parts...) with the key already set; restart unless the
 * context is fresh from hmac_keyed. */
static int hmac_block(EVP_MAC_CTX *mctx, int restart, const hmac_part *parts, size_t count,
                      uint8_t *out, size_t hash_len)
{
    size_t len = 0;
    if (restart && EVP_MAC_init(mctx, NULL, 0, NULL) != 1)
        return -1;
    for (size_t i = 0; i < count; i++)
        if (parts[i].len > 0 && EVP_MAC_update(mctx, parts[i].data, parts[i].len) != 1)
            return -1;
    if (EVP_MAC_final(mctx, out, &len, LATCH_MAX_HASH_LEN) != 1 || len != hash_len)
        return -1;
    return 0;
}

int latch_tls12_prf(const latch_crypto *crypto, enum latch_hash_id hash,
                    const uint8_t *secret, size_t secret_len, const char *label,
                    const uint8_t *seed1, size_t seed1_len,
                    const uint8_t *seed2, size_t seed2_len,
                    const uint8_t *seed3, size_t seed3_len,
                    uint8_t *out, size_t out_len)
{
    size_t hash_len = latch_hash_len(hash);
    uint8_t a[LATCH_MAX_HASH_LEN], block[LATCH_MAX_HASH_LEN];
    EVP_MAC_CTX *mctx;
    int err = 0;

    if (hash_len == 0 || label == NULL || out_len == 0 ||
        (mctx = hmac_keyed(crypto, hash, secret, secret_len)) == NULL)
        return -1;
    /* seed = label || seed1 || seed2 || seed3 (RFC 5246 5: PRF) */
    hmac_part parts[5] = {{NULL, 0},
                          {(const uint8_t *)label, strlen(label)},
                          {seed1, seed1_len},
                          {seed2, seed2_len},
                          {seed3, seed3_len}};
    /* P_hash: A(0) = seed, A(i) = HMAC(secret, A(i-1)),
     * output HMAC(secret, A(1) || seed) || HMAC(secret, A(2) || seed) || ... */
    err = hmac_block(mctx, 0, parts + 1, 4, a, hash_len);
    for (size_t done = 0; err == 0 && done < out_len;) {
        size_t n = out_len - done < hash_len ? out_len - done : hash_len;
        parts[0].data = a;
        parts[0].len = hash_len;
        err = hmac_block(mctx, 1, parts, 5, block, hash_len);
        if (err == 0) {
            memcpy(out + done, block, n);
            done += n;
            if (done < out_len)
                err = hmac_block(mctx, 1, parts, 1, a, hash_len);
        }
    }
    EVP_MAC_CTX_free(mctx);
    latch_wipe(a, sizeof a);
    latch_wipe(block, sizeof block);
    if (err != 0)
        latch_wipe(out, out_len);
    return err;
}

int latch_hmac(const latch_crypto *crypto, enum latch_hash_id hash, const uint8_t *key,
               size_t key_len, const uint8_t *data, size_t data_len, uint8_t *out,
               size_t *out_len)
{
    size_t hash_len = latch_hash_len(hash);
    hmac_part part = {data, data_len};
    EVP_MAC_CTX *mctx = hash_len ? hmac_keyed(crypto, hash, key, key_len) : NULL;
    if (mctx == NULL)
        return -1;
    int err = hmac_block(mctx, 0, &part, 1, out, hash_len);
    EVP_MAC_CTX_free(mctx);
    if (err != 0)
        return -1;
    *out_len = hash_len;
    return 0;
}

/* PRK = HMAC(salt, IKM).  An empty salt is HashLen zero bytes (RFC 5869
 * 2.2), which HMAC pads to the same key as no bytes at all. */
int latch_hkdf_extract(const latch_crypto *crypto, enum latch_hash_id hash,
                       const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                       size_t ikm_len, uint8_t *out, size_t *out_len)
{
    return latch_hmac(crypto, hash, salt, salt_len, ikm, ikm_len, out, out_len);
}

/* T(0) = empty, T(i) = HMAC(PRK, T(i-1) || info || i), OKM = T(1) || T(2) ... */
int latch_hkdf_expand(const latch_crypto *crypto, enum latch_hash_id hash,
                      const uint8_t *prk, size_t prk_len, const uint8_t *info,
                      size_t info_len, uint8_t *out, size_t out_len)
{
    size_t hash_len = latch_hash_len(hash);
    uint8_t t[LATCH_MAX_HASH_LEN], counter = 0;
    EVP_MAC_CTX *mctx;
    int err = 0;

    if (hash_len == 0 || out_len == 0 || out_len > 255 * hash_len ||
        (mctx = hmac_keyed(crypto, hash, prk, prk_len)) == NULL)
        return -1;
    hmac_part parts[3] = {{t, 0}, {info, info_len}, {&counter, 1}};
    for (size_t done = 0; err == 0 && done < out_len;) {
        size_t n = out_len - done < hash_len ? out_len - done : hash_len;
        counter++;
        err = hmac_block(mctx, counter > 1, parts, 3, t, hash_len);
        if (err == 0) {
            memcpy(out + done, t, n);
            done += n;
            parts[0].len = hash_len;
        }
    }
    EVP_MAC_CTX_free(mctx);
    latch_wipe(t, sizeof t);
    if (err != 0)
        latch_wipe(out, out_len);
    return err;
}
