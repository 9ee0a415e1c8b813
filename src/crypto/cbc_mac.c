/*
 * AES-CBC and HMAC for the TLS 1.2 CBC suites (RFC 5246 6.2.3.2, RFC 7366).
 *
 * HMAC (RFC 2104) is assembled here from EVP_MD contexts instead of EVP_MAC:
 *
 *   HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m))
 *
 * The states after the two key blocks are kept, so every MAC starts from a
 * copy, and the number of compression-function calls of the inner hash for
 * an m-byte message is known: ceil((m + 1 + length_field) / block) (the 0x80
 * byte and the length field of the Merkle-Damgard padding, FIPS 180-4 5.1).
 * latch_cbc_mac_balanced uses that count to hide a secret message length
 * (the Lucky13 countermeasure of AlFardan and Paterson, 2013).
 */
#include "crypto/crypto.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <string.h>

#define HMAC_IPAD 0x36
#define HMAC_OPAD 0x5c
#define MAX_HASH_BLOCK 128
/* The secret part of a record's length is its padding: at most 256 bytes. */
#define MAX_SECRET_LEN 256

static const uint8_t balance_zeros[MAX_HASH_BLOCK];

void latch_cbc_free(latch_cbc_ctx *c)
{
    EVP_CIPHER_CTX_free(c->cipher);
    EVP_MD_CTX_free(c->inner_key);
    EVP_MD_CTX_free(c->outer_key);
    EVP_MD_CTX_free(c->work);
    EVP_MD_CTX_free(c->balance);
    EVP_MD_CTX_free(c->sink);
    memset(c, 0, sizeof *c);
}

static int cipher_init(latch_cbc_ctx *c, const uint8_t *key, size_t key_len, int encrypt)
{
    const char *name = key_len == 16 ? "AES-128-CBC" : key_len == 32 ? "AES-256-CBC" : NULL;
    EVP_CIPHER *cipher = name != NULL ? EVP_CIPHER_fetch(NULL, name, NULL) : NULL;
    int ok = cipher != NULL && (c->cipher = EVP_CIPHER_CTX_new()) != NULL &&
             EVP_CipherInit_ex2(c->cipher, cipher, key, NULL, encrypt, NULL) == 1 &&
             EVP_CIPHER_CTX_set_padding(c->cipher, 0) == 1;
    EVP_CIPHER_free(cipher); /* the context keeps its own reference */
    return ok ? 0 : -1;
}

/* One keyed hash state: H started and fed (K ^ pad) padded to a block. */
static EVP_MD_CTX *keyed_state(const EVP_MD *md, const uint8_t *key, size_t key_len,
                               uint8_t pad, size_t block)
{
    uint8_t padded[MAX_HASH_BLOCK];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    memset(padded, pad, block);
    for (size_t i = 0; i < key_len; i++)
        padded[i] ^= key[i];
    int ok = ctx != NULL && EVP_DigestInit_ex2(ctx, md, NULL) == 1 &&
             EVP_DigestUpdate(ctx, padded, block) == 1;
    OPENSSL_cleanse(padded, sizeof padded);
    if (!ok) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static int mac_init(latch_cbc_ctx *c, const EVP_MD *md, const uint8_t *mac_key,
                    size_t mac_key_len)
{
    int block = EVP_MD_get_block_size(md), size = EVP_MD_get_size(md);
    if ((block != 64 && block != 128) || size <= 0 || size > LATCH_MAX_HASH_LEN ||
        mac_key_len > (size_t)block)
        return -1;
    c->mac_len = (uint8_t)size;
    c->block_shift = block == 64 ? 6 : 7;
    c->length_field = block == 64 ? 8 : 16; /* SHA-1/SHA-256: 64-bit, SHA-384: 128-bit */
    c->inner_key = keyed_state(md, mac_key, mac_key_len, HMAC_IPAD, (size_t)block);
    c->outer_key = keyed_state(md, mac_key, mac_key_len, HMAC_OPAD, (size_t)block);
    c->balance = keyed_state(md, mac_key, mac_key_len, HMAC_IPAD, (size_t)block);
    c->work = EVP_MD_CTX_new();
    c->sink = EVP_MD_CTX_new();
    return c->inner_key && c->outer_key && c->balance && c->work && c->sink ? 0 : -1;
}

int latch_cbc_init(const latch_crypto *crypto, latch_cbc_ctx *c, const uint8_t *key,
                   size_t key_len, enum latch_hash_id mac_hash, const uint8_t *mac_key,
                   size_t mac_key_len, int encrypt)
{
    memset(c, 0, sizeof *c);
    c->encrypt = encrypt ? 1 : 0;
    if ((mac_hash != LATCH_HASH_SHA1 && mac_hash != LATCH_HASH_SHA256 &&
         mac_hash != LATCH_HASH_SHA384) ||
        crypto->md[mac_hash] == NULL || cipher_init(c, key, key_len, c->encrypt) != 0 ||
        mac_init(c, crypto->md[mac_hash], mac_key, mac_key_len) != 0) {
        latch_cbc_free(c);
        return -1;
    }
    return 0;
}

int latch_cbc_crypt(latch_cbc_ctx *c, const uint8_t iv[LATCH_CBC_BLOCK_LEN], uint8_t *buf,
                    size_t len)
{
    int n = 0, fin = 0;
    if (c->cipher == NULL || len % LATCH_CBC_BLOCK_LEN != 0 || len > INT_MAX)
        return -1;
    if (EVP_CipherInit_ex2(c->cipher, NULL, NULL, iv, c->encrypt, NULL) != 1)
        return -1;
    if (len > 0 && EVP_CipherUpdate(c->cipher, buf, &n, buf, (int)len) != 1)
        return -1;
    if (EVP_CipherFinal_ex(c->cipher, buf + n, &fin) != 1 || (size_t)(n + fin) != len)
        return -1;
    return 0;
}

/* The inner hash starts from the ipad state and takes the header ... */
static int mac_start(latch_cbc_ctx *c, const uint8_t header[LATCH_CBC_HEADER_LEN])
{
    return c->work != NULL && EVP_MD_CTX_copy_ex(c->work, c->inner_key) == 1 &&
                   EVP_DigestUpdate(c->work, header, LATCH_CBC_HEADER_LEN) == 1
               ? 0
               : -1;
}

/* ... and, once it has the data, goes into the outer hash (from opad). */
static int mac_finish(latch_cbc_ctx *c, uint8_t *out)
{
    uint8_t inner[LATCH_MAX_HASH_LEN];
    unsigned int n = 0;
    int ok = EVP_DigestFinal_ex(c->work, inner, &n) == 1 && n == c->mac_len &&
             EVP_MD_CTX_copy_ex(c->work, c->outer_key) == 1 &&
             EVP_DigestUpdate(c->work, inner, n) == 1 &&
             EVP_DigestFinal_ex(c->work, out, &n) == 1 && n == c->mac_len;
    OPENSSL_cleanse(inner, sizeof inner);
    return ok ? 0 : -1;
}

int latch_cbc_mac(latch_cbc_ctx *c, const uint8_t header[LATCH_CBC_HEADER_LEN],
                  const uint8_t *data, size_t len, uint8_t *out)
{
    if (mac_start(c, header) != 0 || (len > 0 && EVP_DigestUpdate(c->work, data, len) != 1))
        return -1;
    return mac_finish(c, out);
}

/* Compression-function calls of the inner hash after its key block, for a
 * message of m bytes.  A shift, not a division: m may be secret. */
static size_t inner_blocks(const latch_cbc_ctx *c, size_t m)
{
    size_t block = (size_t)1 << c->block_shift;
    return (m + c->length_field + block) >> c->block_shift;
}

/* data[0..len) into the inner hash: the public prefix in one call, the rest
 * cut at hash-block boundaries, so that each further call compresses at most
 * one block, like each call into the balance context. */
static int update_by_block(latch_cbc_ctx *c, const uint8_t *data, size_t len, size_t prefix)
{
    size_t block = (size_t)1 << c->block_shift;
    size_t chunk = block - ((LATCH_CBC_HEADER_LEN + prefix) & (block - 1));
    if (prefix > 0 && EVP_DigestUpdate(c->work, data, prefix) != 1)
        return -1;
    for (size_t at = prefix; at < len; at += chunk, chunk = block) {
        size_t n = len - at < chunk ? len - at : chunk;
        if (EVP_DigestUpdate(c->work, data + at, n) != 1)
            return -1;
    }
    return 0;
}

/* 1 if x is not zero, else 0, without a branch. */
static size_t nonzero(size_t x) { return (x | ((size_t)0 - x)) >> (sizeof x * 8 - 1); }

/* Calls that compress nothing, made into the sink so that the number of
 * calls, like the number of compressions, does not depend on len: the
 * tail's last partial chunk is such a call (when there is one), and the
 * final hashes a second block when the buffered bytes leave no room for
 * the 0x80 byte and the length field. */
static size_t idle_calls(const latch_cbc_ctx *c, size_t len, size_t prefix)
{
    size_t buffered = (LATCH_CBC_HEADER_LEN + len) & (((size_t)1 << c->block_shift) - 1);
    size_t partial_chunk = nonzero(buffered) & nonzero(len - prefix);
    size_t two_block_final = (buffered + c->length_field + 1) >> c->block_shift;
    return 1 + two_block_final - partial_chunk;
}

/* The real MAC costs inner_blocks(13 + len) compressions; the balance
 * context (always at a block boundary, fed one block per call) takes the
 * difference to inner_blocks(13 + max_len), plus one block every time, so
 * the total does not depend on len.  The sink takes calls that compress
 * nothing (at most 2 bytes a record, reset each time). */
int latch_cbc_mac_balanced(latch_cbc_ctx *c, const uint8_t header[LATCH_CBC_HEADER_LEN],
                           const uint8_t *data, size_t len, size_t max_len, uint8_t *out)
{
    size_t block = (size_t)1 << c->block_shift;
    size_t prefix = max_len > MAX_SECRET_LEN ? max_len - MAX_SECRET_LEN : 0;
    if (len > max_len || len < prefix || c->balance == NULL)
        return -1; /* max_len - len > 256: a caller bug */
    size_t extra = inner_blocks(c, LATCH_CBC_HEADER_LEN + max_len) -
                   inner_blocks(c, LATCH_CBC_HEADER_LEN + len) + 1;
    size_t idle = idle_calls(c, len, prefix);
    int rc = mac_start(c, header) == 0 && update_by_block(c, data, len, prefix) == 0
                 ? mac_finish(c, out)
                 : -1;
    for (size_t i = 0; i < extra; i++)
        if (EVP_DigestUpdate(c->balance, balance_zeros, block) != 1)
            return -1;
    if (EVP_MD_CTX_copy_ex(c->sink, c->inner_key) != 1)
        return -1;
    for (size_t i = 0; i < idle; i++)
        if (EVP_DigestUpdate(c->sink, balance_zeros, 1) != 1)
            return -1;
    return rc;
}
