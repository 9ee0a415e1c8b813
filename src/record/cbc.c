/*
 * Records of the TLS 1.2 CBC suites.
 *
 * RFC 5246 6.2.3.2, MAC-then-encrypt (the default):
 *
 *   struct { opaque IV[16];
 *            block-ciphered struct { opaque content[length];
 *                                    opaque MAC[mac_length];
 *                                    uint8 padding[padding_length];
 *                                    uint8 padding_length; }; } GenericBlockCipher;
 *   MAC = HMAC(MAC_write_key, seq_num || type || version || length || content)
 *
 * RFC 7366 3, encrypt-then-MAC (when both sides sent extension 22):
 *
 *   IV || ENC(content || padding || padding_length) || MAC, with
 *   MAC = HMAC(MAC_write_key, seq_num || type || version ||
 *              length_of(IV || ciphertext) || IV || ciphertext)
 *
 * Every padding byte equals padding_length; a fresh random IV goes with each
 * record (drawn from the configuration's random source, so recorded
 * connections replay).  Wire bytes are written and split with the cursor;
 * the constant-time scans below index the decrypted body only within bounds
 * that are public (the record length).
 *
 * MAC-then-encrypt decoding is written against Lucky13 (AlFardan and
 * Paterson, "Lucky Thirteen", IEEE S&P 2013): the padding check always reads
 * the last min(256, n) bytes and combines them with masks, the MAC is
 * computed with a number of hash compression-function calls (and of EVP
 * calls) fixed by the record length (latch_cbc_mac_balanced), a bad padding
 * counts as none and fails at the MAC, the received MAC is copied out of
 * its secret position by a rotation that reads the same bytes whatever that
 * position is, and the MACs are compared with CRYPTO_memcmp.  Bad padding, a
 * bad MAC and a short record all end in the one LATCH_ERR_BAD_RECORD_MAC.
 */
#include <string.h>

#include "latch/latch.h"
#include "record/record.h"
#include "util/cursor.h"
#include "util/error.h"

#define MAX_PADDING 256 /* padding_length (0..255) plus its own byte */

/* ---- constant-time helpers: all-ones or all-zeros masks ---- */

static size_t ct_msb(size_t a) { return (size_t)0 - (a >> (sizeof a * 8 - 1)); }

static size_t ct_lt(size_t a, size_t b) { return ct_msb(a ^ ((a ^ b) | ((a - b) ^ b))); }

static size_t ct_ge(size_t a, size_t b) { return ~ct_lt(a, b); }

static size_t ct_eq(size_t a, size_t b)
{
    size_t x = a ^ b;
    return ct_msb(~x & (x - 1));
}

/* ---- sizes ---- */

size_t record_cbc_expansion(const record_protection *p)
{
    return LATCH_CBC_BLOCK_LEN + p->cbc_ctx.mac_len + LATCH_CBC_BLOCK_LEN;
}

/* seq_num || type || version || length (RFC 5246 6.2.3.1, RFC 7366 3). */
static void mac_header(const record_protection *p, uint8_t type, uint16_t version,
                       size_t length, uint8_t header[LATCH_CBC_HEADER_LEN])
{
    cursor c;
    cursor_init(&c, header, LATCH_CBC_HEADER_LEN);
    (void)cursor_write_u64(&c, p->sequence);
    (void)cursor_write_u8(&c, type);
    (void)cursor_write_u16(&c, version);
    (void)cursor_write_u16(&c, (uint16_t)length);
}

/* ---- sending ---- */

/* RFC 5246 6.2.3.2 / RFC 7366 3: IV, then the padded plaintext encrypted
 * (with the MAC inside for MAC-then-encrypt), then the MAC for EtM.  The
 * padding is the shortest that fills the last block. */
int record_write_cbc(record_protection *p, byte_queue *out, uint8_t type, uint16_t version,
                     const uint8_t *data, size_t len)
{
    size_t mac_len = p->cbc_ctx.mac_len;
    size_t inner = p->encrypt_then_mac ? len : len + mac_len;
    size_t pad = LATCH_CBC_BLOCK_LEN - inner % LATCH_CBC_BLOCK_LEN; /* with the length byte */
    size_t ct_len = inner + pad;
    size_t body = LATCH_CBC_BLOCK_LEN + ct_len + (p->encrypt_then_mac ? mac_len : 0);
    uint8_t header[LATCH_CBC_HEADER_LEN], *dst = byte_queue_reserve(out, RECORD_HEADER_LEN + body);
    uint8_t *iv, *ct, *mac;
    cursor w;
    if (dst == NULL)
        return LATCH_ERR_INTERNAL;
    cursor_init(&w, dst, RECORD_HEADER_LEN + body);
    TRY(cursor_write_u8(&w, type));
    TRY(cursor_write_u16(&w, version));
    TRY(cursor_write_u16(&w, (uint16_t)body));
    TRY(cursor_reserve(&w, LATCH_CBC_BLOCK_LEN, &iv));
    TRY(cursor_reserve(&w, ct_len, &ct));
    if (p->random(p->random_arg, iv, LATCH_CBC_BLOCK_LEN) != 0)
        return LATCH_ERR_INTERNAL;
    if (len > 0)
        memmove(ct, data, len);
    if (!p->encrypt_then_mac) {
        mac_header(p, type, version, len, header);
        if (latch_cbc_mac(&p->cbc_ctx, header, ct, len, ct + len) != 0)
            return LATCH_ERR_INTERNAL;
    }
    memset(ct + inner, (int)(pad - 1), pad);
    if (latch_cbc_crypt(&p->cbc_ctx, iv, ct, ct_len) != 0)
        return LATCH_ERR_INTERNAL;
    if (p->encrypt_then_mac) {
        TRY(cursor_reserve(&w, mac_len, &mac));
        mac_header(p, type, version, LATCH_CBC_BLOCK_LEN + ct_len, header);
        if (latch_cbc_mac(&p->cbc_ctx, header, iv, LATCH_CBC_BLOCK_LEN + ct_len, mac) != 0)
            return LATCH_ERR_INTERNAL;
    }
    byte_queue_commit(out, w.off);
    return 0;
}

/* ---- receiving ---- */

/* RFC 5246 6.2.3.2: the last padding_length + 1 bytes all equal
 * padding_length, and there is room for the MAC before them.  Reads the last
 * min(256, n) bytes whatever padding_length is.  Returns an all-ones mask if
 * the padding is good; *pad_total is then padding_length + 1, else 0. */
static size_t padding_check(const uint8_t *body, size_t n, size_t mac_len, size_t *pad_total)
{
    size_t pad = body[n - 1];
    size_t good = ct_ge(n, mac_len + pad + 1);
    size_t to_check = n < MAX_PADDING ? n : MAX_PADDING;
    for (size_t i = 0; i < to_check; i++) {
        size_t in_padding = ct_ge(pad, i);
        good &= ~(in_padding & ~ct_eq(body[n - 1 - i], pad));
    }
    *pad_total = good & (pad + 1);
    return good;
}

/* Copy the MAC at body[content_len..content_len + mac_len), content_len
 * secret, by reading every byte where it could start (the last
 * mac_len + 256 bytes) into a rotating buffer, then undoing the rotation
 * with masks (after OpenSSL's ssl3_cbc_copy_mac). */
static void mac_copy(const uint8_t *body, size_t n, size_t content_len, size_t mac_len,
                     uint8_t *out)
{
    uint8_t rotated[LATCH_MAX_HASH_LEN] = {0};
    size_t mac_end = content_len + mac_len;
    size_t scan_start = n > mac_len + MAX_PADDING ? n - (mac_len + MAX_PADDING) : 0;
    size_t rotate = 0, j = 0;
    for (size_t i = scan_start; i < n; i++) {
        size_t in_mac = ct_ge(i, content_len) & ct_lt(i, mac_end);
        rotate |= j & ct_eq(i, content_len);
        rotated[j] |= body[i] & (uint8_t)in_mac;
        j++;
        j &= ct_lt(j, mac_len);
    }
    for (size_t k = 0; k < mac_len; k++) {
        size_t at = rotate + k;
        at -= mac_len & ct_ge(at, mac_len);
        out[k] = 0;
        for (size_t m = 0; m < mac_len; m++)
            out[k] |= rotated[m] & (uint8_t)ct_eq(m, at);
    }
}

/* MAC-then-encrypt: decrypt, then the same steps for every padding and MAC
 * (see the top of this file); only the final verdict branches. */
static int open_mac_then_encrypt(record_protection *p, const record_header *h,
                                 uint8_t *fragment, uint8_t **plain, size_t *plain_len)
{
    size_t mac_len = p->cbc_ctx.mac_len, pad_total;
    size_t min_body = (mac_len + 1 + LATCH_CBC_BLOCK_LEN - 1) & ~(size_t)(LATCH_CBC_BLOCK_LEN - 1);
    uint8_t header[LATCH_CBC_HEADER_LEN];
    uint8_t expected[LATCH_MAX_HASH_LEN], received[LATCH_MAX_HASH_LEN];
    const uint8_t *iv;
    cursor r;
    /* public lengths: IV, whole blocks, room for the MAC and one padding byte */
    if (h->length < LATCH_CBC_BLOCK_LEN + min_body || h->length % LATCH_CBC_BLOCK_LEN != 0)
        return LATCH_ERR_BAD_RECORD_MAC;
    cursor_init(&r, fragment, h->length);
    TRY(cursor_read_bytes(&r, &iv, LATCH_CBC_BLOCK_LEN));
    size_t n = cursor_remaining(&r);
    uint8_t *body = fragment + LATCH_CBC_BLOCK_LEN;
    if (latch_cbc_crypt(&p->cbc_ctx, iv, body, n) != 0)
        return LATCH_ERR_INTERNAL;
    size_t good = padding_check(body, n, mac_len, &pad_total);
    size_t content_len = n - mac_len - pad_total;
    mac_header(p, h->type, h->version, content_len, header);
    if (latch_cbc_mac_balanced(&p->cbc_ctx, header, body, content_len, n - mac_len, expected) != 0)
        return LATCH_ERR_INTERNAL;
    mac_copy(body, n, content_len, mac_len, received);
    size_t mac_good = ct_eq((size_t)(latch_ct_compare(expected, received, mac_len) + 1), 1);
    if ((good & mac_good) == 0)
        return LATCH_ERR_BAD_RECORD_MAC;
    if (content_len > RECORD_MAX_PLAINTEXT)
        return LATCH_ERR_RECORD_OVERFLOW;
    *plain = body;
    *plain_len = content_len;
    return 0;
}

/* Encrypt-then-MAC (RFC 7366 3): the MAC over IV || ciphertext is checked
 * before anything is decrypted, so nothing secret is left to time. */
static int open_encrypt_then_mac(record_protection *p, const record_header *h,
                                 uint8_t *fragment, uint8_t **plain, size_t *plain_len)
{
    size_t mac_len = p->cbc_ctx.mac_len, pad_total;
    uint8_t header[LATCH_CBC_HEADER_LEN], expected[LATCH_MAX_HASH_LEN];
    const uint8_t *iv, *received;
    cursor r;
    if (h->length < 2 * LATCH_CBC_BLOCK_LEN + mac_len ||
        (h->length - mac_len) % LATCH_CBC_BLOCK_LEN != 0)
        return LATCH_ERR_BAD_RECORD_MAC;
    size_t signed_len = h->length - mac_len; /* IV || ciphertext */
    cursor_init(&r, fragment, h->length);
    TRY(cursor_read_bytes(&r, &iv, LATCH_CBC_BLOCK_LEN));
    TRY(cursor_skip(&r, signed_len - LATCH_CBC_BLOCK_LEN));
    TRY(cursor_read_bytes(&r, &received, mac_len));
    mac_header(p, h->type, h->version, signed_len, header);
    if (latch_cbc_mac(&p->cbc_ctx, header, fragment, signed_len, expected) != 0)
        return LATCH_ERR_INTERNAL;
    if (latch_ct_compare(expected, received, mac_len) != 0)
        return LATCH_ERR_BAD_RECORD_MAC;
    size_t n = signed_len - LATCH_CBC_BLOCK_LEN;
    uint8_t *body = fragment + LATCH_CBC_BLOCK_LEN;
    if (latch_cbc_crypt(&p->cbc_ctx, iv, body, n) != 0)
        return LATCH_ERR_INTERNAL;
    if (padding_check(body, n, 0, &pad_total) == 0)
        return LATCH_ERR_BAD_RECORD_MAC;
    if (n - pad_total > RECORD_MAX_PLAINTEXT)
        return LATCH_ERR_RECORD_OVERFLOW;
    *plain = body;
    *plain_len = n - pad_total;
    return 0;
}

int record_open_cbc(record_protection *p, const record_header *h, uint8_t *fragment,
                    uint8_t **plain, size_t *plain_len)
{
    if (p->encrypt_then_mac)
        return open_encrypt_then_mac(p, h, fragment, plain, plain_len);
    return open_mac_then_encrypt(p, h, fragment, plain, plain_len);
}
