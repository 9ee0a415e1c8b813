/* The TLS 1.2 key schedule (RFC 5246 6.3 and 8.1, RFC 7627 4):
 *
 *   master_secret = PRF(pre_master_secret, "extended master secret",
 *                       session_hash)[0..47];          (when EMS is negotiated)
 *   master_secret = PRF(pre_master_secret, "master secret",
 *                       ClientHello.random + ServerHello.random)[0..47];
 *   key_block = PRF(SecurityParameters.master_secret, "key expansion",
 *                   SecurityParameters.server_random +
 *                   SecurityParameters.client_random);
 *
 * sliced into MAC keys (CBC suites only), encryption keys and IVs (AEAD
 * suites only), in that order (RFC 5246 6.3).
 */
#include <string.h>

#include "handshake/handshake.h"
#include "util/error.h"

static int derive_master_secret(latch_conn *c)
{
    const latch_crypto *crypto = &c->config->crypto;
    enum latch_hash_id hash = c->suite->hash;
    int rc;
    if (c->extended_master_secret) {
        uint8_t session_hash[LATCH_MAX_HASH_LEN];
        size_t session_hash_len = sizeof session_hash;
        TRY(transcript_hash(c, session_hash, &session_hash_len));
        rc = latch_tls12_prf(crypto, hash, c->hs->pre_master_secret, c->hs->pre_master_len,
                             "extended master secret", session_hash, session_hash_len, NULL,
                             0, NULL, 0, c->master_secret, 48);
    } else {
        rc = latch_tls12_prf(crypto, hash, c->hs->pre_master_secret, c->hs->pre_master_len,
                             "master secret", c->client_random, 32, c->server_random, 32, NULL,
                             0, c->master_secret, 48);
    }
    latch_wipe(c->hs->pre_master_secret, sizeof c->hs->pre_master_secret);
    c->hs->pre_master_len = 0;
    if (rc != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "master secret derivation failed");
    engine_keylog(c, "CLIENT_RANDOM", c->master_secret, 48);
    engine_emit(c, LATCH_EVENT_NOTE, "master secret derived",
                c->extended_master_secret ? "extended master secret (RFC 7627)"
                                          : "classic master secret (no EMS)");
    return 0;
}

/* RFC 5246 6.3, block ciphers: the key block is
 *   client_write_MAC_key || server_write_MAC_key ||
 *   client_write_key || server_write_key
 * (TLS 1.2 generates no IVs for them: each record carries its own, drawn from
 * the configuration's random source).  The MAC construction, MAC-then-encrypt
 * or encrypt-then-MAC (RFC 7366), was settled by the hellos. */
static int install_cbc_keys(latch_conn *c, const uint8_t *block)
{
    const latch_suite *s = c->suite;
    const latch_config *cfg = c->config;
    const uint8_t *client_mac = block, *server_mac = block + s->mac_key_len;
    const uint8_t *client_key = server_mac + s->mac_key_len;
    const uint8_t *server_key = client_key + s->key_len;
    record_cbc_keys ours = {c->is_client ? client_key : server_key, s->key_len, s->mac_hash,
                            c->is_client ? client_mac : server_mac, s->mac_key_len,
                            c->encrypt_then_mac, cfg->random, cfg->random_arg};
    record_cbc_keys theirs = {c->is_client ? server_key : client_key, s->key_len, s->mac_hash,
                              c->is_client ? server_mac : client_mac, s->mac_key_len,
                              c->encrypt_then_mac, NULL, NULL};
    int err = record_protection_init_cbc(&cfg->crypto, &c->hs->pending_write, &ours, 1);
    if (err == 0)
        err = record_protection_init_cbc(&cfg->crypto, &c->hs->pending_read, &theirs, 0);
    return err;
}

/* AEAD suites: client_write_key || server_write_key || client_write_IV ||
 * server_write_IV (the IVs are the implicit nonce parts, RFC 5246 6.3). */
static int install_aead_keys(latch_conn *c, const uint8_t *block)
{
    const latch_suite *s = c->suite;
    const latch_crypto *crypto = &c->config->crypto;
    const uint8_t *client_key = block, *server_key = block + s->key_len;
    const uint8_t *client_iv = block + 2 * s->key_len;
    const uint8_t *server_iv = client_iv + s->fixed_iv_len;
    int err = record_protection_init(crypto, &c->hs->pending_write, s->aead,
                                     c->is_client ? client_key : server_key, s->key_len,
                                     c->is_client ? client_iv : server_iv, s->fixed_iv_len,
                                     s->explicit_nonce_len, 0, 1);
    if (err == 0)
        err = record_protection_init(crypto, &c->hs->pending_read, s->aead,
                                     c->is_client ? server_key : client_key, s->key_len,
                                     c->is_client ? server_iv : client_iv, s->fixed_iv_len,
                                     s->explicit_nonce_len, 0, 0);
    return err;
}

int tls12_derive_keys(latch_conn *c)
{
    const latch_suite *s = c->suite;
    const latch_crypto *crypto = &c->config->crypto;
    uint8_t block[2 * (LATCH_MAX_HASH_LEN + LATCH_MAX_KEY_LEN + LATCH_MAX_IV_LEN)];
    size_t block_len = 2u * s->mac_key_len + 2u * s->key_len + 2u * s->fixed_iv_len;
    if (!c->resumed) /* a resumed session brings its master secret */
        TRY(derive_master_secret(c));
    if (block_len > sizeof block ||
        latch_tls12_prf(crypto, s->hash, c->master_secret, 48, "key expansion",
                        c->server_random, 32, c->client_random, 32, NULL, 0, block,
                        block_len) != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "key expansion failed");
    int err = s->record == RECORD_CBC ? install_cbc_keys(c, block) : install_aead_keys(c, block);
    latch_wipe(block, sizeof block);
    if (err != 0)
        return engine_fail(c, err, "record key set-up failed");
    engine_emit(c, LATCH_EVENT_NOTE, "key block derived", s->name);
    if (s->record == RECORD_CBC)
        engine_emit(c, LATCH_EVENT_NOTE, "record protection",
                    c->encrypt_then_mac ? "encrypt-then-MAC (RFC 7366)"
                                        : "MAC-then-encrypt (RFC 5246 6.2.3.2)");
    return 0;
}

int tls12_verify_data(latch_conn *c, int from_client, const uint8_t *hash, size_t hash_len,
                      uint8_t out[12])
{
    const char *label = from_client ? "client finished" : "server finished";
    if (latch_tls12_prf(&c->config->crypto, c->suite->hash, c->master_secret, 48, label, hash,
                        hash_len, NULL, 0, NULL, 0, out, 12) != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "Finished computation failed");
    return 0;
}
