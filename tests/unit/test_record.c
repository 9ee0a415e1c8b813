/*
 * Unit tests for src/record: framing and AEAD protection of single records,
 * TLS 1.2 (RFC 5246 6.2.3.3, RFC 5288, RFC 7905) and TLS 1.3 (RFC 8446 5.2).
 * Known answers come from an independent EVP computation and from RFC 8448.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "crypto/crypto.h"
#include "json.h"
#include "latch/latch.h"
#include "record/record.h"
#include "util/buffer.h"

static latch_crypto crypto;

typedef struct aead_case {
    const char *name;
    enum latch_aead_id aead;
    size_t key_len, fixed_iv_len, explicit_nonce_len;
    int tls13;
} aead_case;

static const aead_case cases[] = {
    {"TLS 1.2 AES-128-GCM", LATCH_AEAD_AES128_GCM, 16, 4, 8, 0},
    {"TLS 1.2 AES-256-GCM", LATCH_AEAD_AES256_GCM, 32, 4, 8, 0},
    {"TLS 1.2 ChaCha20-Poly1305", LATCH_AEAD_CHACHA20_POLY1305, 32, 12, 0, 0},
    {"TLS 1.3 AES-128-GCM", LATCH_AEAD_AES128_GCM, 16, 12, 0, 1},
    {"TLS 1.3 AES-256-GCM", LATCH_AEAD_AES256_GCM, 32, 12, 0, 1},
    {"TLS 1.3 ChaCha20-Poly1305", LATCH_AEAD_CHACHA20_POLY1305, 32, 12, 0, 1},
};
#define CASE_COUNT (sizeof cases / sizeof cases[0])

static const uint8_t test_key[32] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                     0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
                                     0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
                                     0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f};
static const uint8_t test_iv[12] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5,
                                    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab};

/* A writer and a reader with the same key and IV. */
static void setup(const aead_case *tc, record_protection *w, record_protection *r)
{
    memset(w, 0, sizeof *w);
    memset(r, 0, sizeof *r);
    CHECK_EQ_INT(record_protection_init(&crypto, w, tc->aead, test_key, tc->key_len, test_iv,
                                        tc->fixed_iv_len, tc->explicit_nonce_len, tc->tls13, 1),
                 0);
    CHECK_EQ_INT(record_protection_init(&crypto, r, tc->aead, test_key, tc->key_len, test_iv,
                                        tc->fixed_iv_len, tc->explicit_nonce_len, tc->tls13, 0),
                 0);
    CHECK_EQ_INT(w->active, 1);
    CHECK_EQ_INT(w->sequence, 0);
    CHECK_EQ_INT(w->fixed_iv_len, tc->fixed_iv_len);
    CHECK_EQ_INT(w->explicit_nonce_len, tc->explicit_nonce_len);
    CHECK_EQ_INT(w->tls13, tc->tls13);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 13 + seed);
}

/* Open the record at wire[0..] (copied: opening works in place). */
static int open_copy(record_protection *r, const uint8_t *wire, size_t len, uint8_t *out,
                     size_t *out_len, uint8_t *type)
{
    record_header h;
    uint8_t *copy = malloc(len > 0 ? len : 1), *plain = NULL;
    size_t plain_len = 0;
    int err;
    memcpy(copy, wire, len);
    err = record_read_header(copy, len, &h);
    if (err == 0 && (size_t)h.length + RECORD_HEADER_LEN > len)
        err = -1;
    if (err == 0)
        err = record_open(r, &h, copy + RECORD_HEADER_LEN, &plain, &plain_len, type);
    if (err == 0) {
        CHECK(plain >= copy + RECORD_HEADER_LEN && plain + plain_len <= copy + len);
        memcpy(out, plain, plain_len);
        *out_len = plain_len;
    }
    free(copy);
    return err;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---- round trips --------------------------------------------------------- */

static void test_round_trip(const aead_case *tc)
{
    static const size_t lengths[] = {0, 1, 100, RECORD_MAX_PLAINTEXT};
    static const uint8_t types[] = {CONTENT_APPLICATION_DATA, CONTENT_HANDSHAKE, CONTENT_ALERT,
                                    CONTENT_APPLICATION_DATA};
    record_protection w, r;
    byte_queue q = {0};
    uint8_t *data = malloc(RECORD_MAX_PLAINTEXT), *out = malloc(RECORD_MAX_PLAINTEXT + 256);
    size_t off = 0;

    fprintf(stderr, "round trip: %s\n", tc->name);
    setup(tc, &w, &r);
    CHECK_EQ_INT(record_expansion(&w),
                 tc->explicit_nonce_len + LATCH_AEAD_TAG_LEN + (tc->tls13 ? 1 : 0));
    for (size_t i = 0; i < 4; i++) {
        fill(data, lengths[i], (unsigned)i);
        CHECK_EQ_INT(record_write(&w, &q, types[i], LATCH_VERSION_TLS12, data, lengths[i]), 0);
        CHECK_EQ_INT(w.sequence, i + 1);
    }
    for (size_t i = 0; i < 4; i++) {
        const uint8_t *rec = byte_queue_front(&q) + off;
        size_t len = lengths[i], body_len, got = 0;
        uint8_t type = 0;
        CHECK(byte_queue_length(&q) - off >= RECORD_HEADER_LEN);
        body_len = be16(rec + 3);
        if (tc->tls13) {
            CHECK_EQ_INT(rec[0], CONTENT_APPLICATION_DATA); /* outer type */
            CHECK_EQ_INT(body_len, len + 1 + LATCH_AEAD_TAG_LEN);
        } else {
            CHECK_EQ_INT(rec[0], types[i]);
            CHECK_EQ_INT(body_len, tc->explicit_nonce_len + len + LATCH_AEAD_TAG_LEN);
            if (tc->explicit_nonce_len == 8) /* RFC 5288: explicit nonce = sequence number */
                CHECK(be64(rec + RECORD_HEADER_LEN) == i);
        }
        CHECK_EQ_INT(be16(rec + 1), LATCH_VERSION_TLS12);
        CHECK_EQ_INT(body_len, len + record_expansion(&w));
        CHECK(byte_queue_length(&q) - off >= RECORD_HEADER_LEN + body_len);
        fill(data, len, (unsigned)i);
        if (len >= 16) /* the plaintext does not appear on the wire */
            CHECK(memcmp(rec + RECORD_HEADER_LEN + tc->explicit_nonce_len, data, 16) != 0);
        CHECK_EQ_INT(open_copy(&r, rec, RECORD_HEADER_LEN + body_len, out, &got, &type), 0);
        CHECK_EQ_INT(got, len);
        CHECK_EQ_INT(type, types[i]);
        CHECK_MEM(out, data, len);
        CHECK_EQ_INT(r.sequence, i + 1);
        off += RECORD_HEADER_LEN + body_len;
    }
    CHECK_EQ_INT(off, byte_queue_length(&q));
    CHECK_EQ_INT(w.sequence, 4);
    CHECK_EQ_INT(r.sequence, 4);

    /* the same plaintext twice gives different ciphertexts (new nonce) */
    size_t before = byte_queue_length(&q);
    fill(data, 32, 99);
    CHECK_EQ_INT(record_write(&w, &q, CONTENT_APPLICATION_DATA, LATCH_VERSION_TLS12, data, 32), 0);
    CHECK_EQ_INT(record_write(&w, &q, CONTENT_APPLICATION_DATA, LATCH_VERSION_TLS12, data, 32), 0);
    size_t rec_len = (byte_queue_length(&q) - before) / 2;
    const uint8_t *r1 = byte_queue_front(&q) + before;
    CHECK(memcmp(r1 + RECORD_HEADER_LEN + tc->explicit_nonce_len,
                 r1 + rec_len + RECORD_HEADER_LEN + tc->explicit_nonce_len, 32) != 0);

    record_protection_clear(&w);
    record_protection_clear(&r);
    CHECK_EQ_INT(w.active, 0);
    byte_queue_free(&q);
    free(data);
    free(out);
}

/* ---- tampering and replay ------------------------------------------------ */

static void test_tamper(const aead_case *tc)
{
    record_protection w, r;
    byte_queue q = {0};
    uint8_t data[20], out[64], type = 0;
    size_t got = 0;
    int all_bad = 1, seq_kept = 1;

    fprintf(stderr, "tamper: %s\n", tc->name);
    setup(tc, &w, &r);
    fill(data, sizeof data, 5);
    CHECK_EQ_INT(record_write(&w, &q, CONTENT_HANDSHAKE, LATCH_VERSION_TLS12, data, sizeof data),
                 0);
    size_t n = byte_queue_length(&q);
    uint8_t *wire = malloc(n);
    memcpy(wire, byte_queue_front(&q), n);

    /* every bit of the body matters */
    for (size_t pos = RECORD_HEADER_LEN; pos < n; pos++)
        for (int bit = 0; bit < 8; bit += 7) {
            wire[pos] ^= (uint8_t)(1u << bit);
            int err = open_copy(&r, wire, n, out, &got, &type);
            wire[pos] ^= (uint8_t)(1u << bit);
            if (err != LATCH_ERR_BAD_RECORD_MAC) {
                all_bad = 0;
                fprintf(stderr, "  flip at %zu bit %d: %d\n", pos, bit, err);
            }
            if (r.sequence != 0)
                seq_kept = 0;
        }
    CHECK(all_bad);
    CHECK(seq_kept); /* a failed open does not consume a sequence number */

    /* the header is authenticated too */
    wire[2] ^= 0x01; /* version */
    CHECK_EQ_INT(open_copy(&r, wire, n, out, &got, &type), LATCH_ERR_BAD_RECORD_MAC);
    wire[2] ^= 0x01;
    wire[0] = CONTENT_ALERT;
    CHECK_EQ_INT(open_copy(&r, wire, n, out, &got, &type),
                 tc->tls13 ? LATCH_ERR_UNEXPECTED_MESSAGE : LATCH_ERR_BAD_RECORD_MAC);
    wire[0] = tc->tls13 ? CONTENT_APPLICATION_DATA : CONTENT_HANDSHAKE;
    /* a shorter length (truncated record) */
    wire[4] = (uint8_t)(wire[4] - 1);
    CHECK_EQ_INT(open_copy(&r, wire, n - 1, out, &got, &type), LATCH_ERR_BAD_RECORD_MAC);
    wire[4] = (uint8_t)(wire[4] + 1);
    CHECK_EQ_INT(r.sequence, 0);

    /* the untouched record still opens */
    CHECK_EQ_INT(open_copy(&r, wire, n, out, &got, &type), 0);
    CHECK_EQ_INT(got, sizeof data);
    CHECK_MEM(out, data, sizeof data);
    CHECK_EQ_INT(type, CONTENT_HANDSHAKE);
    CHECK_EQ_INT(r.sequence, 1);

    /* replay: the same record again is out of sequence */
    CHECK_EQ_INT(open_copy(&r, wire, n, out, &got, &type), LATCH_ERR_BAD_RECORD_MAC);
    CHECK_EQ_INT(r.sequence, 1);

    /* the next record is accepted; a reader that skipped record 0 is not */
    byte_queue_consume(&q, n);
    CHECK_EQ_INT(record_write(&w, &q, CONTENT_APPLICATION_DATA, LATCH_VERSION_TLS12, data, 7),
                 0);
    size_t n2 = byte_queue_length(&q);
    uint8_t *second = malloc(n2);
    memcpy(second, byte_queue_front(&q), n2);
    record_protection fresh = {0};
    CHECK_EQ_INT(record_protection_init(&crypto, &fresh, tc->aead, test_key, tc->key_len, test_iv,
                                        tc->fixed_iv_len, tc->explicit_nonce_len, tc->tls13, 0),
                 0);
    CHECK_EQ_INT(open_copy(&fresh, second, n2, out, &got, &type), LATCH_ERR_BAD_RECORD_MAC);
    CHECK_EQ_INT(open_copy(&r, second, n2, out, &got, &type), 0);
    CHECK_EQ_INT(got, 7);
    CHECK_EQ_INT(r.sequence, 2);

    /* a reader with another key refuses */
    record_protection other = {0};
    uint8_t other_key[32];
    memcpy(other_key, test_key, sizeof other_key);
    other_key[0] ^= 0x80;
    CHECK_EQ_INT(record_protection_init(&crypto, &other, tc->aead, other_key, tc->key_len,
                                        test_iv, tc->fixed_iv_len, tc->explicit_nonce_len,
                                        tc->tls13, 0),
                 0);
    CHECK_EQ_INT(open_copy(&other, wire, n, out, &got, &type), LATCH_ERR_BAD_RECORD_MAC);

    record_protection_clear(&other);
    record_protection_clear(&fresh);
    record_protection_clear(&w);
    record_protection_clear(&r);
    byte_queue_free(&q);
    free(second);
    free(wire);
}

/* ---- size limits ------------------------------------------------------------ */

static void test_limits(const aead_case *tc)
{
    record_protection w, r;
    byte_queue q = {0};
    uint8_t *data = calloc(1, RECORD_MAX_PLAINTEXT + 2048), type;
    uint8_t *frag = calloc(1, RECORD_MAX_CIPHERTEXT_TLS12 + 64), *plain = NULL;
    size_t plain_len = 0;
    record_header h;

    setup(tc, &w, &r);
    CHECK(record_write(&w, &q, CONTENT_APPLICATION_DATA, LATCH_VERSION_TLS12, data,
                       RECORD_MAX_PLAINTEXT + 1) != 0);
    CHECK_EQ_INT(byte_queue_length(&q), 0);
    CHECK_EQ_INT(w.sequence, 0);
    CHECK_EQ_INT(record_write(&w, &q, CONTENT_APPLICATION_DATA, LATCH_VERSION_TLS12, data,
                              RECORD_MAX_PLAINTEXT),
                 0);
    CHECK_EQ_INT(w.sequence, 1);

    /* a header announcing more than a record may hold */
    h.version = LATCH_VERSION_TLS12;
    if (tc->tls13) {
        h.type = CONTENT_APPLICATION_DATA;
        h.length = RECORD_MAX_CIPHERTEXT_TLS13 + 1;
    } else {
        h.type = CONTENT_APPLICATION_DATA;
        h.length = (uint16_t)(tc->explicit_nonce_len + LATCH_AEAD_TAG_LEN + RECORD_MAX_PLAINTEXT + 1);
    }
    CHECK_EQ_INT(record_open(&r, &h, frag, &plain, &plain_len, &type), LATCH_ERR_RECORD_OVERFLOW);
    /* shorter than the nonce and tag */
    h.length = (uint16_t)(tc->explicit_nonce_len + LATCH_AEAD_TAG_LEN - 1 + (tc->tls13 ? 1 : 0));
    CHECK_EQ_INT(record_open(&r, &h, frag, &plain, &plain_len, &type), LATCH_ERR_BAD_RECORD_MAC);
    CHECK_EQ_INT(r.sequence, 0);

    if (tc->tls13) {
        /* inner plaintext of 2^14 + 1 bytes (plus type) under a valid tag */
        uint8_t nonce[12], aad[5];
        size_t inner = RECORD_MAX_PLAINTEXT + 2, body = inner + LATCH_AEAD_TAG_LEN;
        memset(data, 'a', inner - 1);
        data[inner - 1] = CONTENT_APPLICATION_DATA;
        memcpy(nonce, test_iv, 12); /* sequence 0 */
        aad[0] = CONTENT_APPLICATION_DATA;
        aad[1] = 3;
        aad[2] = 3;
        aad[3] = (uint8_t)(body >> 8);
        aad[4] = (uint8_t)body;
        CHECK_EQ_INT(latch_aead_seal(&w.aead, nonce, aad, 5, data, inner, frag), 0);
        h.type = CONTENT_APPLICATION_DATA;
        h.length = (uint16_t)body;
        CHECK_EQ_INT(record_open(&r, &h, frag, &plain, &plain_len, &type),
                     LATCH_ERR_RECORD_OVERFLOW);
    }
    record_protection_clear(&w);
    record_protection_clear(&r);
    byte_queue_free(&q);
    free(data);
    free(frag);
}

/* TLS 1.3 inner plaintext: zero padding is removed, all-zero is refused. */
static void test_tls13_padding(void)
{
    record_protection w, r;
    byte_queue q = {0};
    uint8_t out[64], type = 0;
    size_t got = 0;
    static const uint8_t padded[] = {'h', 'e', 'l', 'l', 'o', CONTENT_APPLICATION_DATA, 0, 0, 0};
    static const uint8_t zeros[4] = {0};

    setup(&cases[3], &w, &r);
    /* record_write appends the type byte; with type 0 it becomes padding */
    CHECK_EQ_INT(record_write(&w, &q, 0, LATCH_VERSION_TLS12, padded, sizeof padded), 0);
    CHECK_EQ_INT(open_copy(&r, byte_queue_front(&q), byte_queue_length(&q), out, &got, &type), 0);
    CHECK_EQ_INT(type, CONTENT_APPLICATION_DATA);
    CHECK_EQ_INT(got, 5);
    CHECK_MEM(out, "hello", 5);
    byte_queue_consume(&q, byte_queue_length(&q));

    CHECK_EQ_INT(record_write(&w, &q, 0, LATCH_VERSION_TLS12, zeros, sizeof zeros), 0);
    CHECK_EQ_INT(open_copy(&r, byte_queue_front(&q), byte_queue_length(&q), out, &got, &type),
                 LATCH_ERR_UNEXPECTED_MESSAGE);
    record_protection_clear(&w);
    record_protection_clear(&r);
    byte_queue_free(&q);
}

/* ---- unprotected records --------------------------------------------------- */

static void test_plaintext(void)
{
    record_protection p = {0};
    byte_queue q = {0};
    static const uint8_t hello[] = {1, 0, 0, 1, 0x42};
    static const uint8_t expected[] = {22, 3, 1, 0, 5, 1, 0, 0, 1, 0x42};
    uint8_t wire[sizeof expected], *plain = NULL, type = 0;
    size_t plain_len = 0;
    record_header h;

    CHECK_EQ_INT(record_expansion(&p), 0);
    CHECK_EQ_INT(record_write(&p, &q, CONTENT_HANDSHAKE, LATCH_VERSION_TLS10, hello, sizeof hello),
                 0);
    CHECK_EQ_INT(byte_queue_length(&q), sizeof expected);
    CHECK_MEM(byte_queue_front(&q), expected, sizeof expected);
    memcpy(wire, byte_queue_front(&q), sizeof wire);
    CHECK_EQ_INT(record_read_header(wire, sizeof wire, &h), 0);
    CHECK_EQ_INT(h.type, CONTENT_HANDSHAKE);
    CHECK_EQ_INT(h.version, LATCH_VERSION_TLS10);
    CHECK_EQ_INT(h.length, 5);
    CHECK_EQ_INT(record_open(&p, &h, wire + 5, &plain, &plain_len, &type), 0);
    CHECK(plain == wire + 5);
    CHECK_EQ_INT(plain_len, 5);
    CHECK_EQ_INT(type, CONTENT_HANDSHAKE);
    CHECK_MEM(plain, hello, 5);

    CHECK_EQ_INT(record_read_header(wire, 4, &h), LATCH_ERR_DECODE);
    h.length = RECORD_MAX_PLAINTEXT + 1;
    CHECK_EQ_INT(record_open(&p, &h, wire + 5, &plain, &plain_len, &type),
                 LATCH_ERR_RECORD_OVERFLOW);

    uint8_t *big = calloc(1, RECORD_MAX_PLAINTEXT + 1);
    byte_queue_consume(&q, byte_queue_length(&q));
    CHECK(record_write(&p, &q, CONTENT_APPLICATION_DATA, LATCH_VERSION_TLS12, big,
                       RECORD_MAX_PLAINTEXT + 1) != 0);
    CHECK_EQ_INT(byte_queue_length(&q), 0);
    CHECK_EQ_INT(record_write(&p, &q, CONTENT_APPLICATION_DATA, LATCH_VERSION_TLS12, big,
                              RECORD_MAX_PLAINTEXT),
                 0);
    CHECK_EQ_INT(byte_queue_length(&q), RECORD_HEADER_LEN + RECORD_MAX_PLAINTEXT);
    CHECK_EQ_INT(byte_queue_front(&q)[3], 0x40);
    CHECK_EQ_INT(byte_queue_front(&q)[4], 0x00);
    free(big);
    byte_queue_free(&q);
}

/* ---- known answers computed here with EVP ------------------------------------ */

static int evp_seal(const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t nonce[12],
                    const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len,
                    uint8_t *out)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, ok;
    ok = ctx != NULL && EVP_EncryptInit_ex(ctx, cipher, NULL, NULL, NULL) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1 &&
         EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) == 1 &&
         EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)aad_len) == 1 &&
         (len == 0 || EVP_EncryptUpdate(ctx, out, &n, in, (int)len) == 1) &&
         EVP_EncryptFinal_ex(ctx, out + len, &n) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, out + len) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

/* The TLS 1.2 record an independent implementation would send. */
static size_t expected_tls12_record(const EVP_CIPHER *cipher, const uint8_t *key,
                                    const uint8_t *iv, int gcm, uint64_t seq,
                                    const uint8_t explicit_nonce[8], uint8_t type,
                                    const uint8_t *data, size_t len, uint8_t *out)
{
    uint8_t nonce[12], aad[13], seq_be[8];
    size_t explicit_len = gcm ? 8 : 0, body = explicit_len + len + 16;
    for (int i = 0; i < 8; i++)
        seq_be[i] = (uint8_t)(seq >> (56 - 8 * i));
    if (gcm) { /* RFC 5288 3: salt || nonce_explicit */
        memcpy(nonce, iv, 4);
        memcpy(nonce + 4, explicit_nonce, 8);
    } else { /* RFC 7905 2: iv XOR padded sequence number */
        memcpy(nonce, iv, 12);
        for (int i = 0; i < 8; i++)
            nonce[4 + i] ^= seq_be[i];
    }
    memcpy(aad, seq_be, 8); /* RFC 5246 6.2.3.3 */
    aad[8] = type;
    aad[9] = 3;
    aad[10] = 3;
    aad[11] = (uint8_t)(len >> 8);
    aad[12] = (uint8_t)len;
    out[0] = type;
    out[1] = 3;
    out[2] = 3;
    out[3] = (uint8_t)(body >> 8);
    out[4] = (uint8_t)body;
    memcpy(out + 5, explicit_nonce, explicit_len);
    if (evp_seal(cipher, key, nonce, aad, 13, data, len, out + 5 + explicit_len) != 0)
        return 0;
    return 5 + body;
}

static void test_tls12_known_answer(void)
{
    struct {
        enum latch_aead_id aead;
        const EVP_CIPHER *cipher;
        size_t key_len;
        int gcm;
    } kat[] = {
        {LATCH_AEAD_AES128_GCM, EVP_aes_128_gcm(), 16, 1},
        {LATCH_AEAD_AES256_GCM, EVP_aes_256_gcm(), 32, 1},
        {LATCH_AEAD_CHACHA20_POLY1305, EVP_chacha20_poly1305(), 32, 0},
    };
    static const char message[] = "The quick brown fox jumps over the lazy dog";
    static const uint8_t alert[2] = {1, 0};
    for (size_t k = 0; k < sizeof kat / sizeof kat[0]; k++) {
        record_protection w = {0}, r = {0};
        byte_queue q = {0};
        uint8_t expected[128], seq_be[8] = {0}, out[64], type = 0;
        size_t n, got = 0, fixed = kat[k].gcm ? 4 : 12;
        CHECK_EQ_INT(record_protection_init(&crypto, &w, kat[k].aead, test_key, kat[k].key_len,
                                            test_iv, fixed, kat[k].gcm ? 8 : 0, 0, 1),
                     0);
        /* sequence 0 */
        n = expected_tls12_record(kat[k].cipher, test_key, test_iv, kat[k].gcm, 0, seq_be,
                                  CONTENT_APPLICATION_DATA, (const uint8_t *)message,
                                  sizeof message - 1, expected);
        CHECK(n > 0);
        CHECK_EQ_INT(record_write(&w, &q, CONTENT_APPLICATION_DATA, LATCH_VERSION_TLS12,
                                  (const uint8_t *)message, sizeof message - 1),
                     0);
        CHECK_EQ_INT(byte_queue_length(&q), n);
        CHECK_MEM(byte_queue_front(&q), expected, n);
        byte_queue_consume(&q, byte_queue_length(&q));
        /* sequence 1 */
        seq_be[7] = 1;
        n = expected_tls12_record(kat[k].cipher, test_key, test_iv, kat[k].gcm, 1, seq_be,
                                  CONTENT_ALERT, alert, 2, expected);
        CHECK_EQ_INT(record_write(&w, &q, CONTENT_ALERT, LATCH_VERSION_TLS12, alert, 2), 0);
        CHECK_EQ_INT(byte_queue_length(&q), n);
        CHECK_MEM(byte_queue_front(&q), expected, n);

        /* the reader takes the explicit nonce from the wire, whatever it is */
        CHECK_EQ_INT(record_protection_init(&crypto, &r, kat[k].aead, test_key, kat[k].key_len,
                                            test_iv, fixed, kat[k].gcm ? 8 : 0, 0, 0),
                     0);
        if (kat[k].gcm) {
            static const uint8_t odd_nonce[8] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4};
            n = expected_tls12_record(kat[k].cipher, test_key, test_iv, 1, 0, odd_nonce,
                                      CONTENT_HANDSHAKE, (const uint8_t *)message, 10, expected);
            CHECK_EQ_INT(open_copy(&r, expected, n, out, &got, &type), 0);
            CHECK_EQ_INT(got, 10);
            CHECK_MEM(out, message, 10);
            CHECK_EQ_INT(type, CONTENT_HANDSHAKE);
            CHECK_EQ_INT(r.sequence, 1);
        }
        record_protection_clear(&w);
        record_protection_clear(&r);
        byte_queue_free(&q);
    }
}

/* ---- RFC 8448 section 3: the real TLS 1.3 records ------------------------------ */

static uint8_t *hx(const json_value *j, const char *path, size_t *len)
{
    uint8_t *b = json_hex(j, path, len);
    if (b == NULL) {
        fprintf(stderr, "missing hex field %s\n", path);
        CHECK(b != NULL);
        b = calloc(1, 1);
        *len = 0;
    }
    return b;
}

typedef struct key_set {
    char name[64];
    record_protection read, write;
} key_set;

static void test_rfc8448(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/vectors/rfc8448-1rtt.json", LATCH_TEST_DATA);
    json_value *j = json_load_file(path);
    key_set sets[8];
    size_t set_count = 0, protected_count = 0;
    int flight_seen = 0;
    CHECK(j != NULL);
    if (j == NULL)
        return;
    memset(sets, 0, sizeof sets);
    size_t records = json_count(j, "records");
    CHECK_EQ_INT(records, 9);
    for (size_t i = 0; i < records; i++) {
        char p[128];
        const json_value *prot;
        snprintf(p, sizeof p, "records[%zu].protected", i);
        prot = json_get(j, p);
        CHECK(prot != NULL && prot->type == JSON_BOOL);
        if (prot == NULL || prot->number == 0)
            continue;
        protected_count++;
        snprintf(p, sizeof p, "records[%zu].keys", i);
        const char *keys = json_string(j, p);
        CHECK(keys != NULL);
        if (keys == NULL)
            continue;
        key_set *ks = NULL;
        for (size_t s = 0; s < set_count; s++)
            if (strcmp(sets[s].name, keys) == 0)
                ks = &sets[s];
        if (ks == NULL) {
            size_t key_len, iv_len;
            ks = &sets[set_count++];
            snprintf(ks->name, sizeof ks->name, "%s", keys);
            snprintf(p, sizeof p, "traffic_keys.%s.key", keys);
            uint8_t *key = hx(j, p, &key_len);
            snprintf(p, sizeof p, "traffic_keys.%s.iv", keys);
            uint8_t *iv = hx(j, p, &iv_len);
            CHECK_EQ_INT(key_len, 16);
            CHECK_EQ_INT(iv_len, 12);
            if (key_len == 16 && iv_len == 12) {
                CHECK_EQ_INT(record_protection_init(&crypto, &ks->read, LATCH_AEAD_AES128_GCM, key,
                                                    16, iv, 12, 0, 1, 0),
                             0);
                CHECK_EQ_INT(record_protection_init(&crypto, &ks->write, LATCH_AEAD_AES128_GCM,
                                                    key, 16, iv, 12, 0, 1, 1),
                             0);
            }
            free(key);
            free(iv);
        }
        size_t wire_len, content_len, got = 0;
        double seq = -1, inner_type = -1;
        uint8_t type = 0;
        snprintf(p, sizeof p, "records[%zu].record", i);
        uint8_t *wire = hx(j, p, &wire_len);
        snprintf(p, sizeof p, "records[%zu].content", i);
        uint8_t *content = hx(j, p, &content_len);
        snprintf(p, sizeof p, "records[%zu].sequence_number", i);
        CHECK_EQ_INT(json_number(j, p, &seq), 0);
        snprintf(p, sizeof p, "records[%zu].inner_content_type", i);
        CHECK_EQ_INT(json_number(j, p, &inner_type), 0);
        uint8_t *out = malloc(wire_len + 1);

        /* open what the RFC's peer sent */
        CHECK_EQ_INT(ks->read.sequence, (uint64_t)seq);
        CHECK_EQ_INT(open_copy(&ks->read, wire, wire_len, out, &got, &type), 0);
        CHECK_EQ_INT(type, (int)inner_type);
        CHECK_EQ_INT(got, content_len);
        CHECK_MEM(out, content, content_len < got ? content_len : got);

        /* seal the same content: byte for byte the RFC's record */
        byte_queue q = {0};
        CHECK_EQ_INT(ks->write.sequence, (uint64_t)seq);
        CHECK_EQ_INT(record_write(&ks->write, &q, (uint8_t)inner_type, LATCH_VERSION_TLS12,
                                  content, content_len),
                     0);
        CHECK_EQ_INT(byte_queue_length(&q), wire_len);
        CHECK_MEM(byte_queue_front(&q), wire,
                  wire_len < byte_queue_length(&q) ? wire_len : byte_queue_length(&q));

        /* the server's encrypted flight: EncryptedExtensions .. Finished */
        if (strcmp(keys, "server_handshake") == 0) {
            flight_seen = 1;
            CHECK_EQ_INT(type, CONTENT_HANDSHAKE);
            CHECK(got > 0 && out[0] == 8); /* EncryptedExtensions first */
            snprintf(p, sizeof p, "records[%zu].inner_plaintext", i);
            size_t inner_len;
            uint8_t *inner = hx(j, p, &inner_len);
            CHECK_EQ_INT(inner_len, content_len + 1);
            CHECK_MEM(inner, content, content_len < inner_len ? content_len : inner_len);
            CHECK_EQ_INT(inner[inner_len - 1], CONTENT_HANDSHAKE);
            free(inner);
            /* one flipped byte anywhere in it: bad_record_mac */
            record_protection fresh = {0};
            uint8_t *key = NULL, *iv = NULL;
            size_t key_len = 0, iv_len = 0;
            key = hx(j, "traffic_keys.server_handshake.key", &key_len);
            iv = hx(j, "traffic_keys.server_handshake.iv", &iv_len);
            CHECK_EQ_INT(record_protection_init(&crypto, &fresh, LATCH_AEAD_AES128_GCM, key, 16,
                                                iv, 12, 0, 1, 0),
                         0);
            int all_bad = 1;
            /* the header's version (additional data), then body bytes */
            for (size_t pos = 2; pos < wire_len; pos = pos == 2 ? 5 : pos + 37) {
                wire[pos] ^= 0x40;
                if (open_copy(&fresh, wire, wire_len, out, &got, &type) !=
                    LATCH_ERR_BAD_RECORD_MAC)
                    all_bad = 0;
                wire[pos] ^= 0x40;
            }
            CHECK(all_bad);
            CHECK_EQ_INT(open_copy(&fresh, wire, wire_len, out, &got, &type), 0);
            record_protection_clear(&fresh);
            free(key);
            free(iv);
        }
        byte_queue_free(&q);
        free(out);
        free(wire);
        free(content);
    }
    CHECK_EQ_INT(protected_count, 7);
    CHECK_EQ_INT(set_count, 4);
    CHECK(flight_seen);
    /* three records each under the server application keys (sequence 0, 1, 2) */
    for (size_t s = 0; s < set_count; s++)
        if (strcmp(sets[s].name, "server_application") == 0) {
            CHECK_EQ_INT(sets[s].read.sequence, 3);
            CHECK_EQ_INT(sets[s].write.sequence, 3);
        }
    for (size_t s = 0; s < set_count; s++) {
        record_protection_clear(&sets[s].read);
        record_protection_clear(&sets[s].write);
    }
    json_free(j);
}

int main(void)
{
    CHECK_EQ_INT(latch_crypto_init(&crypto), 0);
    for (size_t i = 0; i < CASE_COUNT; i++) {
        test_round_trip(&cases[i]);
        test_tamper(&cases[i]);
        test_limits(&cases[i]);
    }
    test_tls13_padding();
    test_plaintext();
    test_tls12_known_answer();
    test_rfc8448();
    latch_crypto_cleanup(&crypto);
    return check_finish();
}
