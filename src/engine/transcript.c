/* The handshake transcript.  Until the cipher suite (and so the hash) is
 * known, messages wait in transcript_pending. */
#include "engine/internal.h"
#include "util/error.h"

int transcript_add(latch_conn *c, const uint8_t *msg, size_t len)
{
    if (!c->transcript_ready)
        return byte_queue_append(&c->transcript_pending, msg, len) == 0 ? 0 : LATCH_ERR_INTERNAL;
    return latch_hash_update(&c->transcript, msg, len) == 0 ? 0 : LATCH_ERR_INTERNAL;
}

int transcript_start(latch_conn *c, enum latch_hash_id hash)
{
    if (c->transcript_ready)
        return 0;
    if (latch_hash_init(&c->config->crypto, &c->transcript, hash) != 0)
        return LATCH_ERR_INTERNAL;
    c->transcript_ready = 1;
    int err = transcript_add(c, byte_queue_front(&c->transcript_pending),
                             byte_queue_length(&c->transcript_pending));
    byte_queue_free(&c->transcript_pending);
    return err;
}

int transcript_hash(latch_conn *c, uint8_t *out, size_t *len)
{
    if (!c->transcript_ready)
        return LATCH_ERR_INTERNAL;
    return latch_hash_peek(&c->transcript, out, len) == 0 ? 0 : LATCH_ERR_INTERNAL;
}
