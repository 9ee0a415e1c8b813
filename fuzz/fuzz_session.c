/*
 * fuzz_session: the session encoding and the server's ticket opening.
 *
 * Input: mode(1) || bytes.
 *   mode % 3 == 0: latch_session_parse; a parsed session must serialize and
 *                  parse back to the same bytes.
 *   mode % 3 == 1: ticket_open on the bytes as a ticket (the fuzz server's
 *                  ticket key, engine/session.h).
 *   mode % 3 == 2: the bytes sealed under that key as a ticket's plaintext,
 *                  then ticket_open: reaches the session decoder behind the
 *                  AEAD and the expiry check.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/session.h"
#include "fuzz_common.h"

static void parse_round_trip(const uint8_t *data, size_t len)
{
    latch_session *s = latch_session_parse(data, len);
    uint8_t *bytes, *again_bytes;
    size_t n, again_n;
    if (s == NULL)
        return;
    (void)latch_session_server_name(s);
    if (latch_session_serialize(s, &bytes, &n) != 0)
        abort();
    latch_session *again = latch_session_parse(bytes, n);
    if (again == NULL || latch_session_serialize(again, &again_bytes, &again_n) != 0)
        abort(); /* what we wrote must read back */
    if (again_n != n || memcmp(bytes, again_bytes, n) != 0)
        abort();
    free(again_bytes);
    free(bytes);
    latch_session_free(again);
    latch_session_free(s);
}

static void open_sealed(const latch_config *cfg, const uint8_t *plain, size_t len)
{
    static const uint8_t iv[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    latch_aead_ctx aead;
    size_t n = 16 + 12 + len + LATCH_AEAD_TAG_LEN;
    uint8_t *ticket = malloc(n);
    if (ticket == NULL)
        return;
    memcpy(ticket, cfg->ticket_keys[0].name, 16);
    memcpy(ticket + 16, iv, 12);
    if (latch_aead_init(&cfg->crypto, &aead, LATCH_AEAD_AES256_GCM, cfg->ticket_keys[0].key, 32,
                        1) != 0)
        abort();
    if (latch_aead_seal(&aead, iv, ticket, 16, plain, len, ticket + 28) != 0)
        abort();
    latch_aead_free(&aead);
    latch_session *s = ticket_open(cfg, ticket, n, NULL);
    if (s != NULL) {
        latch_session *direct = latch_session_parse(plain, len);
        if (direct == NULL) /* the ticket path may not accept more than the parser */
            abort();
        latch_session_free(direct);
        latch_session_free(s);
    }
    free(ticket);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const latch_config *cfg = fuzz_server_config();
    switch (data[0] % 3) {
    case 0:
        parse_round_trip(data + 1, size - 1);
        break;
    case 1:
        latch_session_free(ticket_open(cfg, data + 1, size - 1, NULL));
        break;
    default:
        open_sealed(cfg, data + 1, size - 1);
        break;
    }
    return 0;
}
