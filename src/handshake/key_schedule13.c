/* The TLS 1.3 key schedule (RFC 8446 7.1):
 *
 *   HKDF-Expand-Label(Secret, Label, Context, Length) =
 *        HKDF-Expand(Secret, HkdfLabel, Length)
 *   struct { uint16 length = Length; opaque label<7..255> = "tls13 " + Label;
 *            opaque context<0..255> = Context; } HkdfLabel;
 *   Derive-Secret(Secret, Label, Messages) =
 *        HKDF-Expand-Label(Secret, Label, Transcript-Hash(Messages), Hash.length)
 *
 *             0 -> HKDF-Extract = Early Secret
 *   Derive-Secret(., "derived", "") -> HKDF-Extract(., (EC)DHE) = Handshake Secret
 *   Derive-Secret(., "derived", "") -> HKDF-Extract(., 0) = Master Secret
 */
#include <string.h>

#include "handshake/handshake13.h"
#include "util/error.h"

int tls13_expand_label(const latch_crypto *crypto, enum latch_hash_id hash,
                       const uint8_t *secret, size_t secret_len, const char *label,
                       const uint8_t *context, size_t context_len, uint8_t *out, size_t out_len)
{
    uint8_t info[2 + 1 + 255 + 1 + 255] = {0};
    size_t label_len = strlen(label);
    cursor w;
    cursor_mark mark;
    if (label_len > 249 || context_len > 255)
        return LATCH_ERR_INTERNAL;
    cursor_init(&w, info, sizeof info);
    TRY(cursor_write_u16(&w, (uint16_t)out_len));
    TRY(cursor_open_vector(&w, 1, &mark));
    TRY(cursor_write_bytes(&w, "tls13 ", 6));
    TRY(cursor_write_bytes(&w, label, label_len));
    TRY(cursor_close_vector(&w, &mark));
    TRY(cursor_write_vector(&w, 1, context, context_len));
    if (latch_hkdf_expand(crypto, hash, secret, secret_len, info, w.off, out, out_len) != 0)
        return LATCH_ERR_INTERNAL;
    return 0;
}

static int derive_secret(latch_conn *c, const uint8_t *secret, const char *label,
                         const uint8_t *hash, size_t hash_len, uint8_t *out)
{
    return tls13_expand_label(&c->config->crypto, c->suite->hash, secret, c->hash_len, label,
                              hash, hash_len, out, c->hash_len);
}

/* Derive-Secret(secret, "derived", "") then HKDF-Extract with ikm. */
static int next_stage(latch_conn *c, const uint8_t *ikm, size_t ikm_len)
{
    uint8_t empty_hash[LATCH_MAX_HASH_LEN], derived[LATCH_MAX_HASH_LEN];
    size_t n;
    const latch_crypto *crypto = &c->config->crypto;
    if (latch_hash_oneshot(crypto, c->suite->hash, NULL, 0, empty_hash, &n) != 0)
        return LATCH_ERR_INTERNAL;
    TRY(derive_secret(c, c->hs->secret, "derived", empty_hash, n, derived));
    size_t out_len;
    int rc = latch_hkdf_extract(crypto, c->suite->hash, derived, c->hash_len, ikm, ikm_len,
                                c->hs->secret, &out_len);
    latch_wipe(derived, sizeof derived);
    return rc == 0 ? 0 : LATCH_ERR_INTERNAL;
}

int tls13_early_secret(latch_conn *c, const uint8_t *psk, size_t psk_len)
{
    uint8_t zeros[LATCH_MAX_HASH_LEN] = {0};
    size_t out_len;
    c->hash_len = latch_hash_len(c->suite->hash);
    if (psk == NULL) {
        psk = zeros;
        psk_len = c->hash_len;
    }
    if (latch_hkdf_extract(&c->config->crypto, c->suite->hash, zeros, c->hash_len, psk, psk_len,
                           c->hs->secret, &out_len) != 0)
        return LATCH_ERR_INTERNAL;
    return 0;
}

int tls13_protection(latch_conn *c, const uint8_t *traffic_secret, int encrypt,
                     record_protection *out)
{
    const latch_crypto *crypto = &c->config->crypto;
    const latch_suite *s = c->suite;
    uint8_t key[LATCH_MAX_KEY_LEN], iv[LATCH_MAX_IV_LEN];
    int err = tls13_expand_label(crypto, s->hash, traffic_secret, c->hash_len, "key", NULL, 0,
                                 key, s->key_len);
    if (err == 0)
        err = tls13_expand_label(crypto, s->hash, traffic_secret, c->hash_len, "iv", NULL, 0, iv,
                                 12);
    if (err == 0)
        err = record_protection_init(crypto, out, s->aead, key, s->key_len, iv, 12, 0, 1, encrypt);
    latch_wipe(key, sizeof key);
    latch_wipe(iv, sizeof iv);
    return err;
}

/* After ServerHello: handshake secret and both handshake traffic secrets. */
int tls13_derive_handshake_secrets(latch_conn *c)
{
    uint8_t hash[LATCH_MAX_HASH_LEN];
    size_t hash_len = sizeof hash;
    if (c->hash_len == 0)
        TRY(tls13_early_secret(c, NULL, 0));
    TRY(next_stage(c, c->hs->pre_master_secret, c->hs->pre_master_len));
    latch_wipe(c->hs->pre_master_secret, sizeof c->hs->pre_master_secret);
    TRY(transcript_hash(c, hash, &hash_len));
    TRY(derive_secret(c, c->hs->secret, "c hs traffic", hash, hash_len,
                      c->hs->client_handshake_secret));
    TRY(derive_secret(c, c->hs->secret, "s hs traffic", hash, hash_len,
                      c->hs->server_handshake_secret));
    engine_keylog(c, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", c->hs->client_handshake_secret,
                  c->hash_len);
    engine_keylog(c, "SERVER_HANDSHAKE_TRAFFIC_SECRET", c->hs->server_handshake_secret,
                  c->hash_len);
    engine_emit(c, LATCH_EVENT_NOTE, "handshake traffic secrets derived", c->suite->name);
    return 0;
}

/* After the server Finished: master secret, application traffic secrets. */
int tls13_derive_application_secrets(latch_conn *c)
{
    uint8_t hash[LATCH_MAX_HASH_LEN], zeros[LATCH_MAX_HASH_LEN] = {0};
    size_t hash_len = sizeof hash;
    TRY(next_stage(c, zeros, c->hash_len)); /* "0": Hash.length zero bytes */
    TRY(transcript_hash(c, hash, &hash_len));
    TRY(derive_secret(c, c->hs->secret, "c ap traffic", hash, hash_len,
                      c->client_application_secret));
    TRY(derive_secret(c, c->hs->secret, "s ap traffic", hash, hash_len,
                      c->server_application_secret));
    TRY(derive_secret(c, c->hs->secret, "exp master", hash, hash_len, c->hs->exporter_secret));
    engine_keylog(c, "CLIENT_TRAFFIC_SECRET_0", c->client_application_secret, c->hash_len);
    engine_keylog(c, "SERVER_TRAFFIC_SECRET_0", c->server_application_secret, c->hash_len);
    engine_keylog(c, "EXPORTER_SECRET", c->hs->exporter_secret, c->hash_len);
    engine_emit(c, LATCH_EVENT_NOTE, "application traffic secrets derived", NULL);
    return 0;
}

/* After the client Finished: resumption_master_secret. */
int tls13_derive_resumption_secret(latch_conn *c)
{
    uint8_t hash[LATCH_MAX_HASH_LEN];
    size_t hash_len = sizeof hash;
    TRY(transcript_hash(c, hash, &hash_len));
    return derive_secret(c, c->hs->secret, "res master", hash, hash_len, c->resumption_secret);
}

/* finished_key = HKDF-Expand-Label(BaseKey, "finished", "", Hash.length)
 * verify_data = HMAC(finished_key, Transcript-Hash(...)) */
int tls13_finished(latch_conn *c, const uint8_t *base_secret, const uint8_t *hash,
                   size_t hash_len, uint8_t *out)
{
    uint8_t finished_key[LATCH_MAX_HASH_LEN];
    size_t out_len;
    const latch_crypto *crypto = &c->config->crypto;
    TRY(tls13_expand_label(crypto, c->suite->hash, base_secret, c->hash_len, "finished", NULL, 0,
                           finished_key, c->hash_len));
    int rc = latch_hmac(crypto, c->suite->hash, finished_key, c->hash_len, hash, hash_len, out,
                        &out_len);
    latch_wipe(finished_key, sizeof finished_key);
    return rc == 0 ? 0 : LATCH_ERR_INTERNAL;
}

/* application_traffic_secret_N+1 =
 *     HKDF-Expand-Label(application_traffic_secret_N, "traffic upd", "", Hash.length) */
int tls13_next_traffic_secret(latch_conn *c, uint8_t *secret)
{
    uint8_t next[LATCH_MAX_HASH_LEN];
    TRY(tls13_expand_label(&c->config->crypto, c->suite->hash, secret, c->hash_len,
                           "traffic upd", NULL, 0, next, c->hash_len));
    memcpy(secret, next, c->hash_len);
    latch_wipe(next, sizeof next);
    return 0;
}
