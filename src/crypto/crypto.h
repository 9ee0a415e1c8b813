/*
 * The crypto layer: the only code (with src/x509) that includes <openssl/...>.
 * Algorithms are fetched once into a latch_crypto (one per configuration) and
 * shared read-only by every connection of that configuration.
 */
#ifndef LATCH_CRYPTO_H
#define LATCH_CRYPTO_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* ---- algorithm identifiers (IANA numbers where they exist) ---------- */

enum latch_hash_id { LATCH_HASH_SHA256 = 0, LATCH_HASH_SHA384 = 1, LATCH_HASH_SHA1 = 2,
                     LATCH_HASH_SHA512 = 3, LATCH_HASH_COUNT = 4 };
enum latch_aead_id { LATCH_AEAD_AES128_GCM = 0, LATCH_AEAD_AES256_GCM = 1,
                     LATCH_AEAD_CHACHA20_POLY1305 = 2, LATCH_AEAD_COUNT = 3 };

/* TLS NamedGroup */
#define LATCH_GROUP_SECP256R1 0x0017
#define LATCH_GROUP_SECP384R1 0x0018
#define LATCH_GROUP_X25519    0x001d

/* TLS SignatureScheme */
#define LATCH_SIG_RSA_PKCS1_SHA256       0x0401
#define LATCH_SIG_RSA_PKCS1_SHA384       0x0501
#define LATCH_SIG_RSA_PKCS1_SHA512       0x0601
#define LATCH_SIG_ECDSA_SECP256R1_SHA256 0x0403
#define LATCH_SIG_ECDSA_SECP384R1_SHA384 0x0503
#define LATCH_SIG_RSA_PSS_RSAE_SHA256    0x0804
#define LATCH_SIG_RSA_PSS_RSAE_SHA384    0x0805
#define LATCH_SIG_RSA_PSS_RSAE_SHA512    0x0806
#define LATCH_SIG_ED25519                0x0807
/* SHA-1 schemes: never offered; the old profile's RFC 5246 7.4.1.4.1 defaults */
#define LATCH_SIG_RSA_PKCS1_SHA1         0x0201
#define LATCH_SIG_ECDSA_SHA1             0x0203

#define LATCH_MAX_HASH_LEN 64
#define LATCH_MAX_KEY_LEN 32
#define LATCH_MAX_IV_LEN 12
#define LATCH_AEAD_TAG_LEN 16
#define LATCH_MAX_KX_PUBLIC 133  /* uncompressed P-521 would be 133; we use <= 97 */
#define LATCH_MAX_SIGNATURE 1024

typedef struct latch_crypto {
    EVP_MD *md[LATCH_HASH_COUNT];
    EVP_CIPHER *aead[LATCH_AEAD_COUNT];
    EVP_MAC *hmac;
    /* per hash, an HMAC context with the digest already set: each call
     * duplicates it instead of looking the digest up by name again */
    EVP_MAC_CTX *hmac_template[LATCH_HASH_COUNT];
    /* prepared signing contexts per (key, scheme), made on first use and
     * reused under a lock (sig.c); NULL: sign without them */
    struct latch_sig_cache *sig_cache;
    /* an X25519 key-generation context, already through keygen_init, used
     * under a lock when the default rng is in use (kx.c); NULL: without it */
    struct latch_kx_cache *kx_cache;
} latch_crypto;

/* Fetch every algorithm once.  Returns 0 or -1. */
int latch_crypto_init(latch_crypto *crypto);
void latch_crypto_cleanup(latch_crypto *crypto);

size_t latch_hash_len(enum latch_hash_id hash);
size_t latch_aead_key_len(enum latch_aead_id aead);

/* ---- random --------------------------------------------------------- */
int latch_random_default(void *arg, uint8_t *out, size_t n); /* RAND_bytes */

/* ---- hashing: running transcript hash ------------------------------- */
typedef struct latch_hash_ctx {
    EVP_MD_CTX *ctx;
    const EVP_MD *md;
} latch_hash_ctx;

int latch_hash_init(const latch_crypto *crypto, latch_hash_ctx *h, enum latch_hash_id hash);
int latch_hash_update(latch_hash_ctx *h, const uint8_t *data, size_t len);
/* Digest of everything so far, without ending the running hash. */
int latch_hash_peek(const latch_hash_ctx *h, uint8_t *out, size_t *out_len);
void latch_hash_free(latch_hash_ctx *h);
/* One-shot digest. */
int latch_hash_oneshot(const latch_crypto *crypto, enum latch_hash_id hash,
                       const uint8_t *data, size_t len, uint8_t *out, size_t *out_len);

/* ---- TLS 1.2 PRF (RFC 5246 section 5): P_hash over HMAC (kdf.c) ------ */
/* seed = seed1 || seed2 || seed3 (any may be NULL/0). */
int latch_tls12_prf(const latch_crypto *crypto, enum latch_hash_id hash,
                    const uint8_t *secret, size_t secret_len, const char *label,
                    const uint8_t *seed1, size_t seed1_len,
                    const uint8_t *seed2, size_t seed2_len,
                    const uint8_t *seed3, size_t seed3_len,
                    uint8_t *out, size_t out_len);

/* ---- HMAC and HKDF (TLS 1.3, tickets) -------------------------------- */
int latch_hmac(const latch_crypto *crypto, enum latch_hash_id hash, const uint8_t *key,
               size_t key_len, const uint8_t *data, size_t data_len, uint8_t *out,
               size_t *out_len);
int latch_hkdf_extract(const latch_crypto *crypto, enum latch_hash_id hash,
                       const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                       size_t ikm_len, uint8_t *out, size_t *out_len);
int latch_hkdf_expand(const latch_crypto *crypto, enum latch_hash_id hash,
                      const uint8_t *prk, size_t prk_len, const uint8_t *info,
                      size_t info_len, uint8_t *out, size_t out_len);

/* ---- AEAD ------------------------------------------------------------ */
typedef struct latch_aead_ctx {
    EVP_CIPHER_CTX *ctx;
    enum latch_aead_id aead;
    int encrypt;
} latch_aead_ctx;

/* Set up with the key (the nonce is given per record). */
int latch_aead_init(const latch_crypto *crypto, latch_aead_ctx *a, enum latch_aead_id aead,
                    const uint8_t *key, size_t key_len, int encrypt);
/* out gets in_len bytes of ciphertext followed by the 16-byte tag. */
int latch_aead_seal(latch_aead_ctx *a, const uint8_t nonce[12], const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out);
/* Seals in || trailer (in_len + 1 bytes) into out; in may not overlap out. */
int latch_aead_seal_trailer(latch_aead_ctx *a, const uint8_t nonce[12], const uint8_t *aad,
                            size_t aad_len, const uint8_t *in, size_t in_len, uint8_t trailer,
                            uint8_t *out);
/* in = ciphertext || tag (in_len includes the tag).  out gets in_len-16 bytes.
 * Returns 0, or -1 when the tag does not verify. */
int latch_aead_open(latch_aead_ctx *a, const uint8_t nonce[12], const uint8_t *aad,
                    size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out);
void latch_aead_free(latch_aead_ctx *a);

/* ---- (EC)DH key exchange --------------------------------------------- */
int latch_group_supported(uint16_t group);
/* Fresh key pair; public in TLS encoding (X25519 raw 32 bytes, NIST curves
 * uncompressed point 0x04||X||Y).  rng supplies the private key bytes so a
 * recorded handshake can be replayed (X25519 uses 32 random bytes directly;
 * NIST curves use them as the scalar, retrying on out-of-range). */
int latch_kx_generate(const latch_crypto *crypto, uint16_t group,
                      int (*rng)(void *, uint8_t *, size_t), void *rng_arg,
                      EVP_PKEY **private_key, uint8_t *public_out, size_t *public_len);
/* From a fixed private key (test vectors): X25519 raw 32 bytes / NIST scalar. */
int latch_kx_from_private(uint16_t group, const uint8_t *priv, size_t priv_len,
                          EVP_PKEY **private_key, uint8_t *public_out, size_t *public_len);
/* Shared secret with the peer's public value.  The peer point is validated
 * (on the curve, not the identity; X25519 all-zero result refused).
 * Returns 0, or -1 for an invalid peer public value. */
int latch_kx_derive(uint16_t group, EVP_PKEY *private_key, const uint8_t *peer_public,
                    size_t peer_len, uint8_t *secret, size_t *secret_len);

/* ---- signatures -------------------------------------------------------- */
/* Is scheme usable with this key (type, curve)? */
int latch_sig_scheme_fits_key(uint16_t scheme, EVP_PKEY *key);
int latch_sign(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
               const uint8_t *tbs, size_t tbs_len, uint8_t *sig, size_t *sig_len);
/* Returns 0 if valid, -1 otherwise. */
int latch_verify(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
                 const uint8_t *tbs, size_t tbs_len, const uint8_t *sig, size_t sig_len);

/* TLS 1.2 flavour: an ECDSA scheme fixes the hash but not the curve
 * (RFC 8422 5.1.1), so a P-384 key may sign with ecdsa_secp256r1_sha256. */
int latch_sign_tls12(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
                     const uint8_t *tbs, size_t tbs_len, uint8_t *sig, size_t *sig_len);
int latch_verify_tls12(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
                       const uint8_t *tbs, size_t tbs_len, const uint8_t *sig, size_t sig_len);

/* The key-generation context of latch_crypto (kx.c). */
struct latch_kx_cache *latch_kx_cache_new(void);
void latch_kx_cache_free(struct latch_kx_cache *cache);
/* The signing-context cache of latch_crypto (sig.c). */
struct latch_sig_cache *latch_sig_cache_new(void);
void latch_sig_cache_free(struct latch_sig_cache *cache);
/* Prehashed sign/verify (TLS 1.2 CertificateVerify); not for Ed25519. */
int latch_scheme_hash(uint16_t scheme, enum latch_hash_id *hash);
int latch_sign_digest(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
                      const uint8_t *digest, size_t digest_len, uint8_t *sig, size_t *sig_len);
int latch_verify_digest(const latch_crypto *crypto, uint16_t scheme, EVP_PKEY *key,
                        const uint8_t *digest, size_t digest_len, const uint8_t *sig,
                        size_t sig_len);

/* ---- RSA key exchange (rsa_key_exchange.c) --------------------------------- */
int latch_rsa_encrypt_premaster(EVP_PKEY *server_key, const uint8_t premaster[48],
                                uint8_t *out, size_t *out_len);
void latch_rsa_decrypt_premaster(EVP_PKEY *server_key, const uint8_t *in, size_t in_len,
                                 uint16_t client_version, const uint8_t fallback[48],
                                 uint8_t premaster[48]);

/* ---- misc -------------------------------------------------------------- */
/* Constant-time compare: 0 if equal. */
int latch_ct_compare(const uint8_t *a, const uint8_t *b, size_t len);
void latch_wipe(void *p, size_t len);

/* ---- AES-CBC + HMAC for the TLS 1.2 CBC suites (cbc_mac.c) -------------
 * RFC 5246 6.2.3.2 (block ciphers, explicit IV) and RFC 7366
 * (encrypt-then-MAC).  The HMAC (RFC 2104) is built from EVP_MD contexts so
 * that the number of hash compression-function calls is known exactly: a
 * MAC-then-encrypt receiver can then make that number independent of the
 * padding length (Lucky13, see latch_cbc_mac_balanced). */
#define LATCH_CBC_BLOCK_LEN 16
#define LATCH_CBC_HEADER_LEN 13  /* seq_num(8) || type(1) || version(2) || length(2) */

typedef struct latch_cbc_ctx {
    EVP_CIPHER_CTX *cipher;  /* AES-CBC with the key set, no EVP padding */
    EVP_MD_CTX *inner_key;   /* hash state after (K ^ ipad) */
    EVP_MD_CTX *outer_key;   /* hash state after (K ^ opad) */
    EVP_MD_CTX *work;        /* scratch for one MAC */
    EVP_MD_CTX *balance;     /* absorbs the balancing blocks; never finalised */
    EVP_MD_CTX *sink;        /* absorbs calls that compress nothing */
    uint8_t mac_len;         /* 20, 32 or 48 */
    uint8_t block_shift;     /* log2 of the hash block: 6 (SHA-1/256) or 7 (SHA-384) */
    uint8_t length_field;    /* hash padding length field: 8 or 16 bytes */
    int encrypt;
} latch_cbc_ctx;

/* key_len 16 (AES-128) or 32 (AES-256); mac_hash SHA1, SHA256 or SHA384.
 * Returns 0 or -1 (c is then cleared). */
int latch_cbc_init(const latch_crypto *crypto, latch_cbc_ctx *c, const uint8_t *key,
                   size_t key_len, enum latch_hash_id mac_hash, const uint8_t *mac_key,
                   size_t mac_key_len, int encrypt);
void latch_cbc_free(latch_cbc_ctx *c);
/* AES-CBC over len bytes (a multiple of 16) in place, with this IV. */
int latch_cbc_crypt(latch_cbc_ctx *c, const uint8_t iv[LATCH_CBC_BLOCK_LEN], uint8_t *buf,
                    size_t len);
/* HMAC(mac_key, header || data) into out (mac_len bytes). */
int latch_cbc_mac(latch_cbc_ctx *c, const uint8_t header[LATCH_CBC_HEADER_LEN],
                  const uint8_t *data, size_t len, uint8_t *out);
/* The same MAC over data[0..len), len <= max_len, followed by dummy hash
 * blocks so that the compression-function calls add up to those of a MAC
 * over max_len bytes, whatever len is (len may be secret). */
int latch_cbc_mac_balanced(latch_cbc_ctx *c, const uint8_t header[LATCH_CBC_HEADER_LEN],
                           const uint8_t *data, size_t len, size_t max_len, uint8_t *out);

#endif
