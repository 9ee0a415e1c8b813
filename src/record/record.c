#include "record/record.h"

#include <string.h>

#include "latch/latch.h"
#include "util/cursor.h"
#include "util/error.h"

int record_protection_init(const latch_crypto *crypto, record_protection *p,
                           enum latch_aead_id aead, const uint8_t *key, size_t key_len,
                           const uint8_t *iv, size_t fixed_iv_len, size_t explicit_nonce_len,
                           int tls13, int encrypt)
{
    record_protection_clear(p);
    if (fixed_iv_len > sizeof p->iv)
        return LATCH_ERR_INTERNAL;
    if (latch_aead_init(crypto, &p->aead, aead, key, key_len, encrypt) != 0)
        return LATCH_ERR_INTERNAL;
    memcpy(p->iv, iv, fixed_iv_len);
    p->fixed_iv_len = (uint8_t)fixed_iv_len;
    p->explicit_nonce_len = (uint8_t)explicit_nonce_len;
    p->tls13 = tls13;
    p->sequence = 0;
    p->active = 1;
    return 0;
}

int record_protection_init_cbc(const latch_crypto *crypto, record_protection *p,
                               const record_cbc_keys *keys, int encrypt)
{
    record_protection_clear(p);
    if (encrypt && keys->random == NULL)
        return LATCH_ERR_INTERNAL;
    if (latch_cbc_init(crypto, &p->cbc_ctx, keys->key, keys->key_len, keys->mac_hash,
                       keys->mac_key, keys->mac_key_len, encrypt) != 0)
        return LATCH_ERR_INTERNAL;
    p->cbc = 1;
    p->encrypt_then_mac = keys->encrypt_then_mac != 0;
    p->random = keys->random;
    p->random_arg = keys->random_arg;
    p->sequence = 0;
    p->active = 1;
    return 0;
}

void record_protection_clear(record_protection *p)
{
    if (p->active && p->cbc)
        latch_cbc_free(&p->cbc_ctx);
    else if (p->active)
        latch_aead_free(&p->aead);
    latch_wipe(p, sizeof *p);
}

size_t record_expansion(const record_protection *p)
{
    if (!p->active)
        return 0;
    if (p->cbc)
        return record_cbc_expansion(p);
    return p->explicit_nonce_len + LATCH_AEAD_TAG_LEN + (p->tls13 ? 1 : 0);
}

/* The per-record nonce.  GCM in TLS 1.2: salt || explicit part (we use the
 * sequence number as the explicit part, which is unique per key).  Otherwise
 * the 12-byte IV XOR the sequence number, left-padded. */
static void record_nonce(const record_protection *p, uint8_t nonce[12])
{
    uint8_t seq[8];
    for (int i = 0; i < 8; i++)
        seq[i] = (uint8_t)(p->sequence >> (56 - 8 * i));
    if (p->explicit_nonce_len == 8) {
        memcpy(nonce, p->iv, 4);
        memcpy(nonce + 4, seq, 8);
        return;
    }
    memcpy(nonce, p->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= seq[i];
}

static void tls12_additional_data(const record_protection *p, uint8_t type, uint16_t version,
                                  size_t plain_len, uint8_t aad[13])
{
    cursor c;
    cursor_init(&c, aad, 13);
    (void)cursor_write_u64(&c, p->sequence);
    (void)cursor_write_u8(&c, type);
    (void)cursor_write_u16(&c, version);
    (void)cursor_write_u16(&c, (uint16_t)plain_len);
}

static int record_write_plain(byte_queue *out, uint8_t type, uint16_t version,
                              const uint8_t *data, size_t len)
{
    uint8_t *dst = byte_queue_reserve(out, RECORD_HEADER_LEN + len);
    cursor c;
    if (dst == NULL)
        return LATCH_ERR_INTERNAL;
    cursor_init(&c, dst, RECORD_HEADER_LEN + len);
    TRY(cursor_write_u8(&c, type));
    TRY(cursor_write_u16(&c, version));
    TRY(cursor_write_u16(&c, (uint16_t)len));
    TRY(cursor_write_bytes(&c, data, len));
    byte_queue_commit(out, c.off);
    return 0;
}

static int record_write_tls13(record_protection *p, byte_queue *out, uint8_t type,
                              const uint8_t *data, size_t len)
{
    size_t body = len + 1 + LATCH_AEAD_TAG_LEN;
    uint8_t *dst = byte_queue_reserve(out, RECORD_HEADER_LEN + body);
    uint8_t nonce[12];
    cursor c;
    if (dst == NULL)
        return LATCH_ERR_INTERNAL;
    cursor_init(&c, dst, RECORD_HEADER_LEN + body);
    TRY(cursor_write_u8(&c, CONTENT_APPLICATION_DATA));
    TRY(cursor_write_u16(&c, LATCH_VERSION_TLS12));
    TRY(cursor_write_u16(&c, (uint16_t)body));
    uint8_t *inner;
    TRY(cursor_reserve(&c, len + 1, &inner));
    record_nonce(p, nonce); /* sealed straight from data: no copy first */
    if (latch_aead_seal_trailer(&p->aead, nonce, dst, RECORD_HEADER_LEN, data, len, type,
                                inner) != 0)
        return LATCH_ERR_INTERNAL;
    byte_queue_commit(out, RECORD_HEADER_LEN + body);
    return 0;
}

static int record_write_tls12(record_protection *p, byte_queue *out, uint8_t type,
                              uint16_t version, const uint8_t *data, size_t len)
{
    size_t body = p->explicit_nonce_len + len + LATCH_AEAD_TAG_LEN;
    uint8_t *dst = byte_queue_reserve(out, RECORD_HEADER_LEN + body);
    uint8_t nonce[12], aad[13] = {0}, *payload;
    cursor c;
    if (dst == NULL)
        return LATCH_ERR_INTERNAL;
    record_nonce(p, nonce);
    tls12_additional_data(p, type, version, len, aad);
    cursor_init(&c, dst, RECORD_HEADER_LEN + body);
    TRY(cursor_write_u8(&c, type));
    TRY(cursor_write_u16(&c, version));
    TRY(cursor_write_u16(&c, (uint16_t)body));
    TRY(cursor_write_bytes(&c, nonce + 4, p->explicit_nonce_len));
    TRY(cursor_reserve(&c, len + LATCH_AEAD_TAG_LEN, &payload));
    /* sealed straight from data into the queue: no copy first */
    if (latch_aead_seal(&p->aead, nonce, aad, sizeof aad, len ? data : payload, len,
                        payload) != 0)
        return LATCH_ERR_INTERNAL;
    byte_queue_commit(out, RECORD_HEADER_LEN + body);
    return 0;
}

int record_write(record_protection *p, byte_queue *out, uint8_t type, uint16_t version,
                 const uint8_t *data, size_t len)
{
    int err;
    if (len > RECORD_MAX_PLAINTEXT)
        return LATCH_ERR_INTERNAL;
    if (!p->active)
        return record_write_plain(out, type, version, data, len);
    if (p->sequence == UINT64_MAX) /* RFC 5246 6.1: sequence numbers may not wrap */
        return LATCH_ERR_INTERNAL;
    if (p->tls13)
        err = record_write_tls13(p, out, type, data, len);
    else if (p->cbc)
        err = record_write_cbc(p, out, type, version, data, len);
    else
        err = record_write_tls12(p, out, type, version, data, len);
    if (err == 0)
        p->sequence++;
    return err;
}

int record_read_header(const uint8_t *wire, size_t len, record_header *h)
{
    cursor c;
    cursor_init(&c, wire, len);
    TRY(cursor_read_u8(&c, &h->type));
    TRY(cursor_read_u16(&c, &h->version));
    TRY(cursor_read_u16(&c, &h->length));
    return 0;
}

static int record_open_tls12(record_protection *p, const record_header *h, uint8_t *fragment,
                             uint8_t **plain, size_t *plain_len)
{
    uint8_t nonce[12], aad[13] = {0};
    size_t overhead = p->explicit_nonce_len + LATCH_AEAD_TAG_LEN;
    if (h->length < overhead)
        return LATCH_ERR_BAD_RECORD_MAC;
    size_t len = h->length - overhead;
    if (len > RECORD_MAX_PLAINTEXT)
        return LATCH_ERR_RECORD_OVERFLOW;
    record_nonce(p, nonce);
    memcpy(nonce + 4, fragment, p->explicit_nonce_len); /* explicit part from the wire */
    tls12_additional_data(p, h->type, h->version, len, aad);
    uint8_t *body = fragment + p->explicit_nonce_len;
    if (latch_aead_open(&p->aead, nonce, aad, sizeof aad, body, len + LATCH_AEAD_TAG_LEN,
                        body) != 0)
        return LATCH_ERR_BAD_RECORD_MAC;
    *plain = body;
    *plain_len = len;
    return 0;
}

static int record_open_tls13(record_protection *p, const record_header *h, uint8_t *fragment,
                             uint8_t **plain, size_t *plain_len, uint8_t *type)
{
    uint8_t nonce[12], aad[RECORD_HEADER_LEN] = {0};
    cursor c;
    if (h->type != CONTENT_APPLICATION_DATA)
        return LATCH_ERR_UNEXPECTED_MESSAGE;
    if (h->length > RECORD_MAX_CIPHERTEXT_TLS13)
        return LATCH_ERR_RECORD_OVERFLOW;
    if (h->length < LATCH_AEAD_TAG_LEN + 1)
        return LATCH_ERR_BAD_RECORD_MAC;
    cursor_init(&c, aad, sizeof aad);
    TRY(cursor_write_u8(&c, h->type));
    TRY(cursor_write_u16(&c, h->version));
    TRY(cursor_write_u16(&c, h->length));
    record_nonce(p, nonce);
    if (latch_aead_open(&p->aead, nonce, aad, sizeof aad, fragment, h->length, fragment) != 0)
        return LATCH_ERR_BAD_RECORD_MAC;
    size_t len = h->length - LATCH_AEAD_TAG_LEN;
    while (len > 0 && fragment[len - 1] == 0) /* strip padding */
        len--;
    if (len == 0) /* RFC 8446 5.4: no non-zero octet */
        return LATCH_ERR_UNEXPECTED_MESSAGE;
    *type = fragment[len - 1];
    len--;
    if (len > RECORD_MAX_PLAINTEXT)
        return LATCH_ERR_RECORD_OVERFLOW;
    *plain = fragment;
    *plain_len = len;
    return 0;
}

int record_open(record_protection *p, const record_header *h, uint8_t *fragment,
                uint8_t **plain, size_t *plain_len, uint8_t *type)
{
    int err;
    *type = h->type;
    if (!p->active) {
        if (h->length > RECORD_MAX_PLAINTEXT)
            return LATCH_ERR_RECORD_OVERFLOW;
        *plain = fragment;
        *plain_len = h->length;
        return 0;
    }
    if (p->tls13)
        err = record_open_tls13(p, h, fragment, plain, plain_len, type);
    else if (p->cbc)
        err = record_open_cbc(p, h, fragment, plain, plain_len);
    else
        err = record_open_tls12(p, h, fragment, plain, plain_len);
    if (err == 0)
        p->sequence++;
    return err;
}
