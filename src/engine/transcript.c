/* The handshake transcript.  Until the cipher suite (and so the hash) is
 * known, messages wait in transcript_pending. */
#include "engine/internal.h"
#include "util/error.h"

int transcript_add(latch_conn *c, const uint8_t *msg, size_t len)
{
    if (c->hs == NULL) /* after the handshake (KeyUpdate, tickets): no transcript */
        return 0;
    struct latch_handshake *hs = c->hs;
    if (!hs->transcript_ready)
        return byte_queue_append(&hs->transcript_pending, msg, len) == 0 ? 0 : LATCH_ERR_INTERNAL;
    return latch_hash_update(&hs->transcript, msg, len) == 0 ? 0 : LATCH_ERR_INTERNAL;
}

int transcript_start(latch_conn *c, enum latch_hash_id hash)
{
    if (c->hs == NULL)
        return LATCH_ERR_INTERNAL;
    if (c->hs->transcript_ready)
        return 0;
    if (latch_hash_init(&c->config->crypto, &c->hs->transcript, hash) != 0)
        return LATCH_ERR_INTERNAL;
    c->hs->transcript_ready = 1;
    int err = transcript_add(c, byte_queue_front(&c->hs->transcript_pending),
                             byte_queue_length(&c->hs->transcript_pending));
    byte_queue_free(&c->hs->transcript_pending);
    return err;
}

int transcript_hash(latch_conn *c, uint8_t *out, size_t *len)
{
    if (c->hs == NULL || !c->hs->transcript_ready)
        return LATCH_ERR_INTERNAL;
    return latch_hash_peek(&c->hs->transcript, out, len) == 0 ? 0 : LATCH_ERR_INTERNAL;
}

/* RFC 8446 4.4.1: after a HelloRetryRequest the transcript starts with
 *   message_hash (254) || 00 00 || Hash.length || Hash(ClientHello1)
 * followed by the HelloRetryRequest and what comes after.  The pending
 * bytes hold ClientHello1 and, on the client, tail_len bytes of the HRR. */
int transcript_restart_for_hello_retry(latch_conn *c, size_t tail_len)
{
    if (c->hs == NULL)
        return LATCH_ERR_INTERNAL;
    const uint8_t *pending = byte_queue_front(&c->hs->transcript_pending);
    size_t total = byte_queue_length(&c->hs->transcript_pending);
    uint8_t header[4 + LATCH_MAX_HASH_LEN];
    size_t hash_len;
    enum latch_hash_id hash = c->suite->hash;
    if (c->hs->transcript_ready || tail_len > total)
        return LATCH_ERR_INTERNAL;
    if (latch_hash_oneshot(&c->config->crypto, hash, pending, total - tail_len, header + 4,
                           &hash_len) != 0 ||
        latch_hash_init(&c->config->crypto, &c->hs->transcript, hash) != 0)
        return LATCH_ERR_INTERNAL;
    c->hs->transcript_ready = 1;
    header[0] = 254;
    header[1] = 0;
    header[2] = 0;
    header[3] = (uint8_t)hash_len;
    int err = transcript_add(c, header, 4 + hash_len);
    if (err == 0 && tail_len > 0)
        err = transcript_add(c, pending + (total - tail_len), tail_len);
    byte_queue_free(&c->hs->transcript_pending);
    return err;
}
