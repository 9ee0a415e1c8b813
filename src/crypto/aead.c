/*
 * AEAD record protection: AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305.
 * The key is installed once; every seal/open sets a fresh 12-byte nonce.
 */
#include "crypto/crypto.h"

#include <limits.h>
#include <openssl/crypto.h>

int latch_aead_init(const latch_crypto *crypto, latch_aead_ctx *a, enum latch_aead_id aead,
                    const uint8_t *key, size_t key_len, int encrypt)
{
    const EVP_CIPHER *cipher;

    a->ctx = NULL;
    a->aead = aead;
    a->encrypt = encrypt ? 1 : 0;
    if ((unsigned)aead >= LATCH_AEAD_COUNT || (cipher = crypto->aead[aead]) == NULL ||
        key_len != latch_aead_key_len(aead) ||
        (size_t)EVP_CIPHER_get_key_length(cipher) != key_len)
        return -1;
    a->ctx = EVP_CIPHER_CTX_new();
    if (a->ctx == NULL || EVP_CipherInit_ex2(a->ctx, cipher, key, NULL, a->encrypt, NULL) != 1 ||
        EVP_CIPHER_CTX_get_iv_length(a->ctx) != LATCH_MAX_IV_LEN) {
        latch_aead_free(a);
        return -1;
    }
    return 0;
}

/* New nonce and direction, then the AAD.  The key schedule is kept. */
static int aead_start(latch_aead_ctx *a, int enc, const uint8_t nonce[12], const uint8_t *aad,
                      size_t aad_len)
{
    int n = 0;

    if (a->ctx == NULL || aad_len > INT_MAX)
        return -1;
    if (EVP_CipherInit_ex2(a->ctx, NULL, NULL, nonce, enc, NULL) != 1)
        return -1;
    if (aad_len > 0 && EVP_CipherUpdate(a->ctx, NULL, &n, aad, (int)aad_len) != 1)
        return -1;
    return 0;
}

/* Runs the data through the cipher; returns the number of bytes written or -1. */
static int aead_data(latch_aead_ctx *a, const uint8_t *in, size_t in_len, uint8_t *out)
{
    int n = 0, fin = 0;

    if (in_len > INT_MAX - 16)
        return -1;
    if (in_len > 0 && EVP_CipherUpdate(a->ctx, out, &n, in, (int)in_len) != 1)
        return -1;
    if (EVP_CipherFinal_ex(a->ctx, out + n, &fin) != 1)
        return -1;
    return n + fin;
}

int latch_aead_seal(latch_aead_ctx *a, const uint8_t nonce[12], const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    if (aead_start(a, 1, nonce, aad, aad_len) != 0)
        return -1;
    if (aead_data(a, in, in_len, out) != (int)in_len)
        return -1;
    if (EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, LATCH_AEAD_TAG_LEN, out + in_len) != 1)
        return -1;
    return 0;
}

/* The TLS 1.3 record: in || trailer (the content type) sealed into out, read
 * from the caller's buffer rather than first copied next to the trailer. */
int latch_aead_seal_trailer(latch_aead_ctx *a, const uint8_t nonce[12], const uint8_t *aad,
                            size_t aad_len, const uint8_t *in, size_t in_len, uint8_t trailer,
                            uint8_t *out)
{
    int n = 0;
    if (in_len > INT_MAX - 16 || aead_start(a, 1, nonce, aad, aad_len) != 0)
        return -1;
    if (in_len > 0 && (EVP_CipherUpdate(a->ctx, out, &n, in, (int)in_len) != 1 ||
                       (size_t)n != in_len))
        return -1;
    if (aead_data(a, &trailer, 1, out + in_len) != 1)
        return -1;
    if (EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, LATCH_AEAD_TAG_LEN,
                            out + in_len + 1) != 1)
        return -1;
    return 0;
}

int latch_aead_open(latch_aead_ctx *a, const uint8_t nonce[12], const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    uint8_t tag[LATCH_AEAD_TAG_LEN];
    size_t ct_len;

    if (in_len < LATCH_AEAD_TAG_LEN)
        return -1;
    ct_len = in_len - LATCH_AEAD_TAG_LEN;
    /* Copy the tag first: in and out may be the same buffer. */
    for (size_t i = 0; i < LATCH_AEAD_TAG_LEN; i++)
        tag[i] = in[ct_len + i];
    if (aead_start(a, 0, nonce, aad, aad_len) != 0 ||
        EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, LATCH_AEAD_TAG_LEN, tag) != 1)
        return -1;
    if (aead_data(a, in, ct_len, out) != (int)ct_len) {
        /* Never hand out unauthenticated plaintext. */
        OPENSSL_cleanse(out, ct_len);
        return -1;
    }
    return 0;
}

void latch_aead_free(latch_aead_ctx *a)
{
    EVP_CIPHER_CTX_free(a->ctx);
    a->ctx = NULL;
}
