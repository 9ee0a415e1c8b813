/*
 * The record layer: framing and AEAD protection of one record at a time.
 *
 *   struct { ContentType type; ProtocolVersion version; uint16 length;
 *            opaque fragment[length]; } TLSPlaintext;          (RFC 5246 6.2.1)
 *
 * TLS 1.2 AEAD (RFC 5246 6.2.3.3): nonce = salt(4) || explicit(8) for AES-GCM
 * (RFC 5288), iv XOR seq for ChaCha20-Poly1305 (RFC 7905); additional data =
 * seq_num || type || version || plaintext length.
 * TLS 1.3 (RFC 8446 5.2): nonce = iv XOR seq, additional data = the record
 * header, inner plaintext = content || type || zero padding.
 * TLS 1.2 CBC suites (cbc.c): RFC 5246 6.2.3.2 block ciphers with an explicit
 * IV per record, MAC-then-encrypt or encrypt-then-MAC (RFC 7366).
 */
#ifndef LATCH_RECORD_H
#define LATCH_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "util/buffer.h"

#define RECORD_HEADER_LEN 5
#define RECORD_MAX_PLAINTEXT 16384
#define RECORD_MAX_CIPHERTEXT_TLS12 (16384 + 2048)
#define RECORD_MAX_CIPHERTEXT_TLS13 (16384 + 256)
#define RECORD_MAX_WIRE (RECORD_HEADER_LEN + RECORD_MAX_CIPHERTEXT_TLS12)

enum content_type {
    CONTENT_CHANGE_CIPHER_SPEC = 20,
    CONTENT_ALERT = 21,
    CONTENT_HANDSHAKE = 22,
    CONTENT_APPLICATION_DATA = 23
};

typedef struct record_protection {
    int active;
    int tls13;
    union {
        latch_aead_ctx aead;    /* AEAD suites */
        latch_cbc_ctx cbc_ctx;  /* CBC suites: cbc is set */
    };
    uint8_t iv[LATCH_MAX_IV_LEN];
    uint8_t fixed_iv_len;       /* 4 (GCM salt) or 12 */
    uint8_t explicit_nonce_len; /* 8 for TLS 1.2 AES-GCM, else 0 */
    uint64_t sequence;
    /* TLS 1.2 CBC suites (cbc.c) */
    int cbc;
    int encrypt_then_mac;       /* RFC 7366 */
    int (*random)(void *, uint8_t *, size_t); /* explicit IVs (write side) */
    void *random_arg;
} record_protection;

typedef struct record_header {
    uint8_t type;
    uint16_t version;
    uint16_t length;
} record_header;

/* p must be zeroed or previously initialised (its old key is released). */
int record_protection_init(const latch_crypto *crypto, record_protection *p,
                           enum latch_aead_id aead, const uint8_t *key, size_t key_len,
                           const uint8_t *iv, size_t fixed_iv_len, size_t explicit_nonce_len,
                           int tls13, int encrypt);
void record_protection_clear(record_protection *p);

/* The keys of one direction of a CBC suite. */
typedef struct record_cbc_keys {
    const uint8_t *key;         /* AES key, 16 or 32 bytes */
    size_t key_len;
    enum latch_hash_id mac_hash; /* HMAC-SHA1, -SHA256 or -SHA384 */
    const uint8_t *mac_key;
    size_t mac_key_len;
    int encrypt_then_mac;
    int (*random)(void *, uint8_t *, size_t); /* explicit IVs; write side only */
    void *random_arg;
} record_cbc_keys;

int record_protection_init_cbc(const latch_crypto *crypto, record_protection *p,
                               const record_cbc_keys *keys, int encrypt);

/* Bytes a record adds beyond its plaintext. */
size_t record_expansion(const record_protection *p);

/* Append one record carrying data (len <= 2^14) to out, protected when p is
 * active.  Returns 0 or a latch_error. */
int record_write(record_protection *p, byte_queue *out, uint8_t type, uint16_t version,
                 const uint8_t *data, size_t len);

/* Parse a 5-byte header from wire bytes. */
int record_read_header(const uint8_t *wire, size_t len, record_header *h);

/* Remove protection in place.  fragment/len is the record body; on success
 * *plain points into fragment, *type is the real content type (TLS 1.3
 * inner type).  Returns 0, LATCH_ERR_BAD_RECORD_MAC, LATCH_ERR_RECORD_OVERFLOW
 * or LATCH_ERR_UNEXPECTED_MESSAGE. */
int record_open(record_protection *p, const record_header *h, uint8_t *fragment,
                uint8_t **plain, size_t *plain_len, uint8_t *type);

/* ---- CBC records (cbc.c), reached through record_write/record_open ---- */
size_t record_cbc_expansion(const record_protection *p);
int record_write_cbc(record_protection *p, byte_queue *out, uint8_t type, uint16_t version,
                     const uint8_t *data, size_t len);
/* Every failure (short record, bad padding, bad MAC) is LATCH_ERR_BAD_RECORD_MAC,
 * reached by the same work when the peer does not do encrypt-then-MAC. */
int record_open_cbc(record_protection *p, const record_header *h, uint8_t *fragment,
                    uint8_t **plain, size_t *plain_len);

#endif
