/*
 * The CBC record layer (src/record/cbc.c, src/crypto/cbc_mac.c):
 * RFC 5246 6.2.3.2 (MAC-then-encrypt, explicit IV, padding) and RFC 7366
 * (encrypt-then-MAC), for every CBC suite latch knows.
 *
 * - the HMAC built from EVP_MD contexts equals libcrypto's EVP_MAC HMAC;
 * - records round-trip for every suite x EtM on/off x many lengths, and the
 *   wire layout (IV, padding length, exact padding bytes) is the RFC's;
 * - tampering with a MAC byte, a padding byte, the IV or the ciphertext,
 *   a wrong sequence number, short or misaligned records: bad_record_mac;
 * - padding is checked exactly: every byte must equal padding_length, and
 *   non-minimal padding (up to 255 bytes) is accepted;
 * - a well-authenticated record longer than 2^14 is record_overflow.
 */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "crypto/crypto.h"
#include "handshake/suites.h"
#include "latch/latch.h"
#include "record/record.h"
#include "util/buffer.h"

static latch_crypto crypto;

static const uint16_t cbc_suites[] = {0xc009, 0xc00a, 0xc013, 0xc014, 0x002f, 0x0035,
                                      0x003c, 0x003d, 0xc023, 0xc024, 0xc027, 0xc028};
#define SUITE_COUNT (sizeof cbc_suites / sizeof cbc_suites[0])

static const uint8_t enc_key[32] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                    0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
                                    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
                                    0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f};
static uint8_t mac_key[48];

/* Explicit IVs: a counter, so every record has a different one. */
static int counter_random(void *arg, uint8_t *out, size_t n)
{
    unsigned *counter = arg;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)((*counter)++ * 29u + 7u);
    return 0;
}

static unsigned rng_state;

static record_cbc_keys suite_keys(const latch_suite *s, int etm)
{
    record_cbc_keys k = {enc_key, s->key_len, s->mac_hash, mac_key, s->mac_key_len, etm,
                         counter_random, &rng_state};
    return k;
}

static void setup(const latch_suite *s, int etm, record_protection *w, record_protection *r)
{
    record_cbc_keys k = suite_keys(s, etm);
    memset(w, 0, sizeof *w);
    memset(r, 0, sizeof *r);
    CHECK_EQ_INT(record_protection_init_cbc(&crypto, w, &k, 1), 0);
    CHECK_EQ_INT(record_protection_init_cbc(&crypto, r, &k, 0), 0);
    CHECK_EQ_INT(w->cbc, 1);
    CHECK_EQ_INT(w->encrypt_then_mac, etm);
    CHECK_EQ_INT(w->cbc_ctx.mac_len, s->mac_key_len);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 13 + seed);
}

/* Open a copy of wire[0..len) (opening works in place). */
static int open_copy(record_protection *r, const uint8_t *wire, size_t len, uint8_t *out,
                     size_t *out_len)
{
    record_header h;
    uint8_t *copy = malloc(len > 0 ? len : 1), *plain = NULL, type = 0;
    size_t plain_len = 0;
    memcpy(copy, wire, len);
    int err = record_read_header(copy, len, &h);
    if (err == 0 && (size_t)h.length + RECORD_HEADER_LEN != len)
        err = -1;
    if (err == 0)
        err = record_open(r, &h, copy + RECORD_HEADER_LEN, &plain, &plain_len, &type);
    if (err == 0 && out != NULL) {
        memcpy(out, plain, plain_len);
        *out_len = plain_len;
    }
    free(copy);
    return err;
}

/* ---- the HMAC from EVP_MD contexts ---- */

static void test_hmac_matches_evp_mac(void)
{
    static const enum latch_hash_id hashes[] = {LATCH_HASH_SHA1, LATCH_HASH_SHA256,
                                                LATCH_HASH_SHA384};
    uint8_t header[LATCH_CBC_HEADER_LEN], data[700], joined[713], ours[64], ref[64], bal[64];
    fill(header, sizeof header, 1);
    fill(data, sizeof data, 2);
    for (size_t h = 0; h < 3; h++) {
        latch_cbc_ctx ctx;
        size_t key_len = latch_hash_len(hashes[h]), ref_len = sizeof ref;
        CHECK_EQ_INT(latch_cbc_init(&crypto, &ctx, enc_key, 16, hashes[h], mac_key, key_len, 1),
                     0);
        CHECK_EQ_INT(ctx.mac_len, key_len);
        for (size_t len = 0; len <= sizeof data; len += 37) {
            memcpy(joined, header, sizeof header);
            memcpy(joined + sizeof header, data, len);
            CHECK_EQ_INT(latch_hmac(&crypto, hashes[h], mac_key, key_len, joined,
                                    sizeof header + len, ref, &ref_len),
                         0);
            CHECK_EQ_INT(latch_cbc_mac(&ctx, header, data, len, ours), 0);
            CHECK_MEM(ours, ref, key_len);
            /* balanced: the same value, whatever the maximum */
            size_t max = len + (len % 5) * 50 > sizeof data ? len : len + (len % 5) * 50;
            CHECK_EQ_INT(latch_cbc_mac_balanced(&ctx, header, data, len, max, bal), 0);
            CHECK_MEM(bal, ref, key_len);
        }
        /* more than 256 bytes to balance is refused (never happens in a record) */
        CHECK_EQ_INT(latch_cbc_mac_balanced(&ctx, header, data, 0, 600, bal), -1);
        latch_cbc_free(&ctx);
    }
    latch_cbc_ctx bad;
    CHECK_EQ_INT(latch_cbc_init(&crypto, &bad, enc_key, 24, LATCH_HASH_SHA1, mac_key, 20, 1), -1);
    CHECK_EQ_INT(latch_cbc_init(&crypto, &bad, enc_key, 16, LATCH_HASH_SHA512, mac_key, 64, 1),
                 -1);
}

/* ---- round trips and the wire layout ---- */

/* Decrypt a record independently and check IV, padding and MAC placement. */
static void check_layout(const latch_suite *s, int etm, const uint8_t *wire, size_t len,
                         size_t content_len)
{
    size_t mac = s->mac_key_len, inner = etm ? content_len : content_len + mac;
    size_t pad = 16 - inner % 16, body = 16 + inner + pad + (etm ? mac : 0);
    CHECK_EQ_INT(len, 5 + body);
    if (len != 5 + body)
        return;
    uint8_t plain[17000];
    int n = 0, fin = 0;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    CHECK(EVP_DecryptInit_ex(ctx, s->key_len == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc(), NULL,
                             enc_key, wire + 5) == 1);
    EVP_CIPHER_CTX_set_padding(ctx, 0);
    CHECK(EVP_DecryptUpdate(ctx, plain, &n, wire + 5 + 16, (int)(inner + pad)) == 1);
    CHECK(EVP_DecryptFinal_ex(ctx, plain + n, &fin) == 1);
    EVP_CIPHER_CTX_free(ctx);
    /* RFC 5246 6.2.3.2: padding_length + 1 bytes, all equal to padding_length */
    for (size_t i = 0; i < pad; i++)
        CHECK_EQ_INT(plain[inner + i], pad - 1);
}

static void test_round_trips(void)
{
    static const size_t lengths[] = {0, 1, 11, 12, 15, 16, 17, 31, 100, 1000, 16383, 16384};
    static uint8_t data[16384], out[16384];
    fill(data, sizeof data, 5);
    for (size_t si = 0; si < SUITE_COUNT; si++)
        for (int etm = 0; etm < 2; etm++) {
            const latch_suite *s = suite_find(cbc_suites[si]);
            record_protection w, r;
            byte_queue q = {0};
            CHECK(s != NULL && s->record == RECORD_CBC);
            if (s == NULL)
                continue;
            setup(s, etm, &w, &r);
            CHECK_EQ_INT(record_expansion(&w), 16 + s->mac_key_len + 16);
            for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
                size_t len = lengths[li], out_len = 0;
                uint8_t type = li % 2 ? CONTENT_APPLICATION_DATA : CONTENT_HANDSHAKE;
                CHECK_EQ_INT(record_write(&w, &q, type, LATCH_VERSION_TLS12, data, len), 0);
                const uint8_t *wire = byte_queue_front(&q);
                size_t wire_len = byte_queue_length(&q);
                CHECK(wire_len <= 5 + RECORD_MAX_CIPHERTEXT_TLS12);
                CHECK_EQ_INT(wire[0], type);
                check_layout(s, etm, wire, wire_len, len);
                int err = open_copy(&r, wire, wire_len, out, &out_len);
                CHECK_EQ_INT(err, 0);
                if (err != 0)
                    fprintf(stderr, "  %s etm=%d len=%zu\n", s->name, etm, len);
                CHECK_EQ_INT(out_len, len);
                if (out_len == len)
                    CHECK_MEM(out, data, len);
                byte_queue_consume(&q, wire_len);
            }
            CHECK_EQ_INT(w.sequence, sizeof lengths / sizeof lengths[0]);
            CHECK_EQ_INT(r.sequence, w.sequence);
            byte_queue_free(&q);
            record_protection_clear(&w);
            record_protection_clear(&r);
            CHECK_EQ_INT(w.active, 0);
        }
}

/* Two records with the same content differ: a fresh IV each time. */
static void test_fresh_iv(void)
{
    const latch_suite *s = suite_find(0xc013);
    record_protection w, r;
    byte_queue q = {0};
    setup(s, 0, &w, &r);
    CHECK_EQ_INT(record_write(&w, &q, 23, LATCH_VERSION_TLS12, (const uint8_t *)"same", 4), 0);
    CHECK_EQ_INT(record_write(&w, &q, 23, LATCH_VERSION_TLS12, (const uint8_t *)"same", 4), 0);
    const uint8_t *b = byte_queue_front(&q);
    size_t one = byte_queue_length(&q) / 2;
    CHECK(memcmp(b + 5, b + one + 5, 16) != 0);
    CHECK(memcmp(b + 5 + 16, b + one + 5 + 16, one - 5 - 16) != 0);
    byte_queue_free(&q);
    record_protection_clear(&w);
    record_protection_clear(&r);
}

/* ---- tampering ---- */

/* Write one record of len bytes, flip bit `mask` at body offset `at`
 * (negative: from the end), and open it. */
static int tampered(const latch_suite *s, int etm, size_t len, long at, uint8_t mask)
{
    static uint8_t data[2000];
    record_protection w, r;
    byte_queue q = {0};
    fill(data, sizeof data, 9);
    setup(s, etm, &w, &r);
    CHECK_EQ_INT(record_write(&w, &q, 23, LATCH_VERSION_TLS12, data, len), 0);
    size_t wire_len = byte_queue_length(&q);
    uint8_t *wire = malloc(wire_len);
    memcpy(wire, byte_queue_front(&q), wire_len);
    size_t pos = at >= 0 ? 5 + (size_t)at : wire_len - (size_t)(-at);
    wire[pos] ^= mask;
    int err = open_copy(&r, wire, wire_len, NULL, NULL);
    free(wire);
    byte_queue_free(&q);
    record_protection_clear(&w);
    record_protection_clear(&r);
    return err;
}

static void test_tampering(void)
{
    for (size_t si = 0; si < SUITE_COUNT; si++)
        for (int etm = 0; etm < 2; etm++) {
            const latch_suite *s = suite_find(cbc_suites[si]);
            size_t mac = s->mac_key_len;
            CHECK_EQ_INT(tampered(s, etm, 40, 0, 0), 0); /* untouched: opens */
            CHECK_EQ_INT(tampered(s, etm, 40, 0, 0x01), LATCH_ERR_BAD_RECORD_MAC); /* IV */
            CHECK_EQ_INT(tampered(s, etm, 40, 16 + 3, 0x80), LATCH_ERR_BAD_RECORD_MAC);
            CHECK_EQ_INT(tampered(s, etm, 40, -1, 0x01), LATCH_ERR_BAD_RECORD_MAC); /* last byte */
            if (etm) { /* MAC in the clear, last mac bytes */
                CHECK_EQ_INT(tampered(s, 1, 40, -(long)mac, 0x40), LATCH_ERR_BAD_RECORD_MAC);
                CHECK_EQ_INT(tampered(s, 1, 40, -(long)mac - 1, 0x01), LATCH_ERR_BAD_RECORD_MAC);
            } else { /* inside the encrypted MAC: a byte of the second-to-last block */
                CHECK_EQ_INT(tampered(s, 0, 40, -17, 0x04), LATCH_ERR_BAD_RECORD_MAC);
            }
        }
}

/* A record built by hand: content || MAC || padding (MtE) encrypted, or
 * content || padding encrypted and then MACed (EtM); padding given. */
static size_t build_record(const latch_suite *s, int etm, uint64_t seq, const uint8_t *content,
                           size_t len, const uint8_t *padding, size_t pad_len, uint8_t *wire)
{
    latch_cbc_ctx enc;
    size_t mac = s->mac_key_len, inner = etm ? len : len + mac, ct_len = inner + pad_len;
    size_t body = 16 + ct_len + (etm ? mac : 0);
    uint8_t header[13] = {0};
    CHECK_EQ_INT(latch_cbc_init(&crypto, &enc, enc_key, s->key_len, s->mac_hash, mac_key, mac, 1),
                 0);
    for (int i = 0; i < 8; i++)
        header[i] = (uint8_t)(seq >> (56 - 8 * i));
    header[8] = 23, header[9] = 3, header[10] = 3;
    wire[0] = 23, wire[1] = 3, wire[2] = 3, wire[3] = (uint8_t)(body >> 8), wire[4] = (uint8_t)body;
    fill(wire + 5, 16, 77); /* IV */
    uint8_t *ct = wire + 5 + 16;
    memcpy(ct, content, len);
    if (!etm) {
        header[11] = (uint8_t)(len >> 8), header[12] = (uint8_t)len;
        CHECK_EQ_INT(latch_cbc_mac(&enc, header, content, len, ct + len), 0);
    }
    memcpy(ct + inner, padding, pad_len);
    CHECK_EQ_INT(latch_cbc_crypt(&enc, wire + 5, ct, ct_len), 0);
    if (etm) {
        header[11] = (uint8_t)((16 + ct_len) >> 8), header[12] = (uint8_t)(16 + ct_len);
        CHECK_EQ_INT(latch_cbc_mac(&enc, header, wire + 5, 16 + ct_len, ct + ct_len), 0);
    }
    latch_cbc_free(&enc);
    return 5 + body;
}

static int open_built(const latch_suite *s, int etm, uint64_t seq, const uint8_t *wire,
                      size_t len, size_t *out_len)
{
    static uint8_t out[20000];
    record_protection w, r;
    size_t n = 0;
    setup(s, etm, &w, &r);
    r.sequence = seq;
    int err = open_copy(&r, wire, len, out, &n);
    if (out_len != NULL)
        *out_len = n;
    record_protection_clear(&w);
    record_protection_clear(&r);
    return err;
}

static void test_padding_exact(void)
{
    static uint8_t wire[20000], content[17000], padding[256];
    fill(content, sizeof content, 3);
    for (size_t si = 0; si < SUITE_COUNT; si++)
        for (int etm = 0; etm < 2; etm++) {
            const latch_suite *s = suite_find(cbc_suites[si]);
            size_t mac = s->mac_key_len, len = 29, n, got = 0;
            size_t inner = etm ? len : len + mac;
            size_t pad = 16 - inner % 16;
            /* pad bytes all equal to pad - 1 is right ... */
            memset(padding, (int)(pad - 1), pad);
            n = build_record(s, etm, 5, content, len, padding, pad, wire);
            CHECK_EQ_INT(open_built(s, etm, 5, wire, n, &got), 0);
            CHECK_EQ_INT(got, len);
            /* ... the same under another sequence number is not */
            CHECK_EQ_INT(open_built(s, etm, 6, wire, n, NULL), LATCH_ERR_BAD_RECORD_MAC);
            /* one padding byte off (not the length byte): bad_record_mac */
            if (pad >= 2) {
                padding[0] ^= 1;
                n = build_record(s, etm, 5, content, len, padding, pad, wire);
                CHECK_EQ_INT(open_built(s, etm, 5, wire, n, NULL), LATCH_ERR_BAD_RECORD_MAC);
                padding[0] ^= 1;
            }
            /* longest padding, 256 bytes of 0xff: fine (RFC 5246 allows up to 255) */
            size_t long_len = 64 - (etm ? 0 : mac);
            memset(padding, 0xff, 256);
            n = build_record(s, etm, 5, content, long_len, padding, 256, wire);
            CHECK_EQ_INT(open_built(s, etm, 5, wire, n, &got), 0);
            CHECK_EQ_INT(got, long_len);
            /* ... but one of its 256 bytes changed, the first, is caught */
            padding[0] = 0xfe;
            n = build_record(s, etm, 5, content, long_len, padding, 256, wire);
            CHECK_EQ_INT(open_built(s, etm, 5, wire, n, NULL), LATCH_ERR_BAD_RECORD_MAC);
            /* padding_length (255) says more than the record holds */
            size_t small_len = etm ? 0 : (16 - mac % 16) % 16;
            memset(padding, 0xff, 16);
            n = build_record(s, etm, 5, content, small_len, padding, 16, wire);
            CHECK_EQ_INT(open_built(s, etm, 5, wire, n, NULL), LATCH_ERR_BAD_RECORD_MAC);
        }
}

/* Lengths that cannot be a CBC record, and an authenticated record with
 * more than 2^14 bytes of content. */
static void test_lengths(void)
{
    static uint8_t wire[20000], content[17000], padding[16];
    fill(content, sizeof content, 4);
    for (size_t si = 0; si < SUITE_COUNT; si++)
        for (int etm = 0; etm < 2; etm++) {
            const latch_suite *s = suite_find(cbc_suites[si]);
            static const size_t bad_lengths[] = {0, 1, 15, 16, 17, 32, 47, 48 + 1};
            for (size_t i = 0; i < sizeof bad_lengths / sizeof bad_lengths[0]; i++) {
                size_t body = bad_lengths[i];
                memset(wire, 0x41, 5 + body);
                wire[0] = 23, wire[1] = 3, wire[2] = 3;
                wire[3] = (uint8_t)(body >> 8), wire[4] = (uint8_t)body;
                CHECK_EQ_INT(open_built(s, etm, 0, wire, 5 + body, NULL),
                             LATCH_ERR_BAD_RECORD_MAC);
            }
            size_t mac = s->mac_key_len, len = 16385;
            size_t inner = etm ? len : len + mac, pad = 16 - inner % 16;
            memset(padding, (int)(pad - 1), pad);
            size_t n = build_record(s, etm, 0, content, len, padding, pad, wire);
            CHECK_EQ_INT(open_built(s, etm, 0, wire, n, NULL), LATCH_ERR_RECORD_OVERFLOW);
        }
}

int main(void)
{
    CHECK_EQ_INT(latch_crypto_init(&crypto), 0);
    fill(mac_key, sizeof mac_key, 0x61);
    test_hmac_matches_evp_mac();
    test_round_trips();
    test_fresh_iv();
    test_tampering();
    test_padding_exact();
    test_lengths();
    latch_crypto_cleanup(&crypto);
    return check_finish();
}
