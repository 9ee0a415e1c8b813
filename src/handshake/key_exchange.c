/* ServerKeyExchange (12), ServerHelloDone (14), ClientKeyExchange (16) for
 * ECDHE: RFC 8422 5.4 and 5.7, RFC 5246 7.4.3/7.4.5/7.4.7. */
#include <string.h>

#include "handshake/handshake.h"
#include "util/error.h"

#define CURVE_TYPE_NAMED_CURVE 3

/* The signed content: client_random || server_random || ServerECDHParams. */
static int signed_content(const latch_conn *c, const uint8_t *params, size_t params_len,
                          uint8_t *out, size_t cap, size_t *out_len)
{
    cursor w;
    cursor_init(&w, out, cap);
    TRY(cursor_write_bytes(&w, c->client_random, 32));
    TRY(cursor_write_bytes(&w, c->server_random, 32));
    TRY(cursor_write_bytes(&w, params, params_len));
    *out_len = w.off;
    return 0;
}

int server_key_exchange_write(latch_conn *c, cursor *out)
{
    latch_config *cfg = c->config;
    uint8_t tbs[64 + 4 + LATCH_MAX_KX_PUBLIC], signature[LATCH_MAX_SIGNATURE];
    size_t tbs_len, sig_len = sizeof signature, params_start = out->off;
    c->hs->our_key_share_len = sizeof c->hs->our_key_share;
    if (latch_kx_generate(&cfg->crypto, c->group, cfg->random, cfg->random_arg,
                          &c->key_exchange_key, c->hs->our_key_share,
                          &c->hs->our_key_share_len) != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "key generation failed");
    TRY(cursor_write_u8(out, CURVE_TYPE_NAMED_CURVE));
    TRY(cursor_write_u16(out, c->group));
    TRY(cursor_write_vector(out, 1, c->hs->our_key_share, c->hs->our_key_share_len));
    TRY(signed_content(c, cursor_written(out) + params_start, out->off - params_start, tbs,
                       sizeof tbs, &tbs_len));
    if (latch_sign_tls12(&cfg->crypto, c->signature_scheme, c->cert->key, tbs, tbs_len, signature,
                   &sig_len) != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "signing the key exchange failed");
    TRY(cursor_write_u16(out, c->signature_scheme));
    return cursor_write_vector(out, 2, signature, sig_len);
}

static int we_offered(const uint16_t *list, size_t count, uint16_t id)
{
    for (size_t i = 0; i < count; i++)
        if (list[i] == id)
            return 1;
    return 0;
}

static int check_scheme(latch_conn *c, uint16_t scheme)
{
    int type = EVP_PKEY_get_base_id(c->peer_public_key);
    int fits;
    if (!we_offered(signature_scheme_order, signature_scheme_count, scheme))
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "server signed with %s, which was not offered",
                           latch_signature_scheme_name(scheme));
    if (scheme == LATCH_SIG_ED25519)
        fits = type == EVP_PKEY_ED25519;
    else if ((scheme & 0xff) == 0x03)
        fits = type == EVP_PKEY_EC; /* TLS 1.2: any curve with an ECDSA hash */
    else
        fits = type == EVP_PKEY_RSA;
    if (!fits)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "signature scheme %s does not fit the server's key",
                           latch_signature_scheme_name(scheme));
    return 0;
}

static int client_key_agreement(latch_conn *c, const uint8_t *server_public, size_t len)
{
    latch_config *cfg = c->config;
    c->hs->our_key_share_len = sizeof c->hs->our_key_share;
    if (latch_kx_generate(&cfg->crypto, c->group, cfg->random, cfg->random_arg,
                          &c->key_exchange_key, c->hs->our_key_share,
                          &c->hs->our_key_share_len) != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "key generation failed");
    c->hs->pre_master_len = sizeof c->hs->pre_master_secret;
    if (latch_kx_derive(c->group, c->key_exchange_key, server_public, len,
                        c->hs->pre_master_secret, &c->hs->pre_master_len) != 0)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "server's %s public key is invalid", latch_group_name(c->group));
    EVP_PKEY_free(c->key_exchange_key);
    c->key_exchange_key = NULL;
    return 0;
}

int server_key_exchange_read(latch_conn *c, cursor *body)
{
    latch_config *cfg = c->config;
    const uint8_t *params = cursor_position(body);
    size_t params_start = body->off;
    uint8_t curve_type, tbs[64 + 4 + LATCH_MAX_KX_PUBLIC];
    uint16_t group, scheme;
    cursor point, signature;
    size_t tbs_len;
    TRY(cursor_read_u8(body, &curve_type));
    TRY(cursor_read_u16(body, &group));
    TRY(cursor_read_vector(body, 1, 1, 0xff, &point));
    size_t params_len = body->off - params_start;
    TRY(cursor_read_u16(body, &scheme));
    TRY(cursor_read_vector(body, 2, 1, 0xffff, &signature));
    TRY(cursor_expect_end(body));
    if (curve_type != CURVE_TYPE_NAMED_CURVE || !we_offered(cfg->groups, cfg->group_count, group))
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "server chose group %u that was not offered", group);
    TRY(check_scheme(c, scheme));
    TRY(signed_content(c, params, params_len, tbs, sizeof tbs, &tbs_len));
    if (latch_verify_tls12(&cfg->crypto, scheme, c->peer_public_key, tbs, tbs_len, signature.data,
                     signature.len) != 0)
        return engine_fail(c, LATCH_ERR_DECRYPT_ERROR,
                           "server's key exchange signature (%s) does not verify",
                           latch_signature_scheme_name(scheme));
    c->group = group;
    c->signature_scheme = scheme;
    return client_key_agreement(c, point.data, point.len);
}

int server_hello_done_write(latch_conn *c, cursor *out) { return 0; }

int server_hello_done_read(latch_conn *c, cursor *body) { return cursor_expect_end(body); }

int server_key_exchange_present(const latch_conn *c)
{
    return c->suite->key_exchange == KEY_EXCHANGE_ECDHE ? ROW_PRESENT : ROW_ABSENT;
}

/* RSA: pre-master = client_version (as offered) || 46 random bytes,
 * encrypted to the server's key: EncryptedPreMasterSecret<0..2^16-1>. */
static int client_key_exchange_rsa_write(latch_conn *c, cursor *out)
{
    uint8_t encrypted[LATCH_MAX_SIGNATURE];
    size_t len;
    c->hs->pre_master_secret[0] = 0x03;
    c->hs->pre_master_secret[1] = 0x03;
    TRY(engine_random(c, c->hs->pre_master_secret + 2, 46));
    c->hs->pre_master_len = 48;
    if (latch_rsa_encrypt_premaster(c->peer_public_key, c->hs->pre_master_secret, encrypted,
                                    &len) != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "RSA encryption of the pre-master failed");
    return cursor_write_vector(out, 2, encrypted, len);
}

int client_key_exchange_write(latch_conn *c, cursor *out)
{
    if (c->suite->key_exchange == KEY_EXCHANGE_RSA)
        return client_key_exchange_rsa_write(c, out);
    return cursor_write_vector(out, 1, c->hs->our_key_share, c->hs->our_key_share_len);
}

/* The same steps whatever the ciphertext holds: a fault only shows later, as
 * a Finished that does not verify (RFC 5246 7.4.7.1). */
static int client_key_exchange_rsa_read(latch_conn *c, cursor *body)
{
    cursor encrypted;
    uint8_t fallback[48];
    TRY(cursor_read_vector(body, 2, 0, 0xffff, &encrypted));
    TRY(cursor_expect_end(body));
    TRY(engine_random(c, fallback, sizeof fallback));
    latch_rsa_decrypt_premaster(c->cert->key, encrypted.data, encrypted.len,
                                LATCH_VERSION_TLS12, fallback, c->hs->pre_master_secret);
    latch_wipe(fallback, sizeof fallback);
    c->hs->pre_master_len = 48;
    return tls12_derive_keys(c);
}

/* RFC 7627 3: the session hash runs through the ClientKeyExchange, before
 * any CertificateVerify: derive the keys now. */
int client_key_exchange_after_write(latch_conn *c) { return tls12_derive_keys(c); }

int client_key_exchange_read(latch_conn *c, cursor *body)
{
    cursor point;
    if (c->suite->key_exchange == KEY_EXCHANGE_RSA)
        return client_key_exchange_rsa_read(c, body);
    TRY(cursor_read_vector(body, 1, 1, 0xff, &point));
    TRY(cursor_expect_end(body));
    c->hs->pre_master_len = sizeof c->hs->pre_master_secret;
    if (latch_kx_derive(c->group, c->key_exchange_key, point.data, point.len,
                        c->hs->pre_master_secret, &c->hs->pre_master_len) != 0)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "client's %s public key is invalid", latch_group_name(c->group));
    EVP_PKEY_free(c->key_exchange_key);
    c->key_exchange_key = NULL;
    return tls12_derive_keys(c);
}
