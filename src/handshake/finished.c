/* ChangeCipherSpec (RFC 5246 7.1) and Finished (20, RFC 5246 7.4.9):
 *   verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))
 *                 [0..verify_data_length-1];                                   */
#include <string.h>

#include "handshake/handshake.h"
#include "util/error.h"

int change_cipher_spec_prepare(latch_conn *c, cursor *out)
{
    if (!c->hs->pending_write.active)
        TRY(tls12_derive_keys(c));
    return 0;
}

int change_cipher_spec_read(latch_conn *c, cursor *body)
{
    if (!c->hs->pending_read.active && c->resumed) /* resumed: the server's CCS comes first */
        TRY(tls12_derive_keys(c));
    if (!c->hs->pending_read.active) /* the client derives keys when it sends its own CCS */
        return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE, "ChangeCipherSpec before keys");
    return engine_activate_read_keys(c);
}

int finished_write(latch_conn *c, cursor *out)
{
    uint8_t hash[LATCH_MAX_HASH_LEN];
    size_t hash_len = sizeof hash;
    uint8_t *mine = c->is_client ? c->client_verify_data : c->server_verify_data;
    TRY(transcript_hash(c, hash, &hash_len));
    TRY(tls12_verify_data(c, c->is_client, hash, hash_len, mine));
    return cursor_write_bytes(out, mine, 12);
}

int finished_read(latch_conn *c, cursor *body)
{
    uint8_t expected[12];
    const uint8_t *received;
    uint8_t *theirs = c->is_client ? c->server_verify_data : c->client_verify_data;
    TRY(cursor_read_bytes(body, &received, 12));
    TRY(cursor_expect_end(body));
    TRY(tls12_verify_data(c, !c->is_client, c->hs->prior_hash, c->hs->prior_hash_len, expected));
    if (latch_ct_compare(expected, received, 12) != 0)
        return engine_fail(c, LATCH_ERR_DECRYPT_ERROR,
                           "peer's Finished does not match the handshake transcript");
    memcpy(theirs, expected, 12);
    engine_emit(c, LATCH_EVENT_NOTE, "Finished verified", c->is_client ? "server" : "client");
    return 0;
}
