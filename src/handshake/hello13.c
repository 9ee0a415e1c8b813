/* TLS 1.3 hellos: ServerHello, HelloRetryRequest, EncryptedExtensions
 * (RFC 8446 4.1.3, 4.1.4, 4.3.1) and the server's choice of parameters. */
#include <string.h>

#include "handshake/extensions.h"
#include "handshake/handshake13.h"
#include "util/error.h"

/* SHA-256("HelloRetryRequest") */
const uint8_t tls13_hello_retry_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
const uint8_t tls13_downgrade_tls12[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};

static int listed(const uint16_t *list, size_t count, uint16_t id)
{
    for (size_t i = 0; i < count; i++)
        if (list[i] == id)
            return 1;
    return 0;
}

/* ---- server: choose suite, group, certificate ---- */

/* In TLS 1.3 a scheme binds the curve, and RSA must use PSS (RFC 8446 4.2.3). */
uint16_t tls13_pick_scheme(const latch_conn *c, const latch_cert_key *ck)
{
    for (size_t i = 0; i < signature_scheme_count; i++) {
        uint16_t s = signature_scheme_order[i];
        if ((s >> 8) >= 0x04 && (s >> 8) <= 0x06 && (s & 0xff) == 0x01)
            continue; /* rsa_pkcs1_*: not for CertificateVerify */
        if (listed(c->hs->peer.signature_schemes, c->hs->peer.signature_scheme_count, s) &&
            latch_sig_scheme_fits_key(s, ck->key))
            return s;
    }
    return 0;
}

static uint16_t usable13(const latch_conn *c, const latch_cert_key *ck, const void *unused)
{
    (void)unused;
    return tls13_pick_scheme(c, ck);
}

static int pick_cert13(latch_conn *c)
{
    uint16_t scheme = 0;
    const latch_cert_key *ck = certificate_choose(c, usable13, NULL, &scheme);
    if (ck == NULL)
        return engine_fail(c, LATCH_ERR_HANDSHAKE_FAILURE,
                           "no certificate usable with the client's signature algorithms");
    c->cert = ck;
    c->signature_scheme = scheme;
    return 0;
}

/* The client's share for group, if it sent one. */
static int find_share(latch_conn *c, uint16_t group, cursor *share)
{
    cursor list = c->peer_key_share_list;
    while (cursor_remaining(&list) > 0) {
        uint16_t g;
        cursor key;
        TRY(cursor_read_u16(&list, &g));
        TRY(cursor_read_vector(&list, 2, 1, 0xffff, &key));
        if (g == group) {
            *share = key;
            return 1;
        }
    }
    return 0;
}

/* Our preferred group among those the client sent a share for; else our
 * preferred group among its supported_groups, which needs a retry. */
static int pick_group13(latch_conn *c, int *retry)
{
    const latch_config *cfg = c->config;
    cursor share;
    *retry = 0;
    for (size_t i = 0; i < cfg->group_count; i++)
        if (find_share(c, cfg->groups[i], &share) == 1) {
            if (cursor_remaining(&share) > sizeof c->hs->peer_key_share)
                return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "key share too long");
            c->group = cfg->groups[i];
            c->hs->peer_key_share_len = cursor_remaining(&share);
            return cursor_copy_bytes(&share, c->hs->peer_key_share, c->hs->peer_key_share_len);
        }
    for (size_t i = 0; i < cfg->group_count; i++)
        if (listed(c->hs->peer.groups, c->hs->peer.group_count, cfg->groups[i])) {
            c->group = cfg->groups[i];
            *retry = 1;
            return 0;
        }
    return engine_fail(c, LATCH_ERR_HANDSHAKE_FAILURE, "no key exchange group in common");
}

static int check_required13(latch_conn *c)
{
    if (!c->hs->peer.sent_groups || !c->peer_sent_key_share)
        return engine_fail(c, LATCH_ERR_MISSING_EXTENSION,
                           "TLS 1.3 ClientHello without supported_groups or key_share");
    if (!c->hs->peer.sent_signature_schemes)
        return engine_fail(c, LATCH_ERR_MISSING_EXTENSION,
                           "TLS 1.3 ClientHello without signature_algorithms");
    /* RFC 8446 4.2.8: every share must be for a group in supported_groups */
    for (size_t i = 0; i < c->hs->peer_share_group_count; i++)
        if (!listed(c->hs->peer.groups, c->hs->peer.group_count, c->hs->peer_share_groups[i]))
            return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                               "key share for a group not in supported_groups");
    return 0;
}

static int second_client_hello(latch_conn *c)
{
    cursor share;
    /* RFC 8446 4.1.2: the retried hello carries one share, for the asked group */
    if (c->hs->peer_share_group_count != 1 || find_share(c, c->group, &share) != 1)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "second ClientHello does not carry the requested key share");
    if (cursor_remaining(&share) > sizeof c->hs->peer_key_share)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "key share too long");
    c->hs->peer_key_share_len = cursor_remaining(&share);
    TRY(cursor_copy_bytes(&share, c->hs->peer_key_share, c->hs->peer_key_share_len));
    if (!listed(c->hs->peer.suites, c->hs->peer.suite_count, c->suite->id))
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "second ClientHello dropped the cipher suite");
    return 0;
}

int server_choose13(latch_conn *c)
{
    const latch_config *cfg = c->config;
    int retry;
    TRY(check_required13(c));
    if (c->hello_retry)
        return second_client_hello(c);
    for (size_t i = 0; i < cfg->suite_count && c->suite == NULL; i++) {
        const latch_suite *s = suite_find(cfg->suites[i]);
        if (s != NULL && s->key_exchange == KEY_EXCHANGE_TLS13 &&
            listed(c->hs->peer.suites, c->hs->peer.suite_count, s->id))
            c->suite = s;
    }
    if (c->suite == NULL)
        return engine_fail(c, LATCH_ERR_HANDSHAKE_FAILURE, "no TLS 1.3 cipher suite in common");
    TRY(pick_cert13(c));
    TRY(pick_group13(c, &retry));
    if (retry) {
        c->hello_retry = 1;
        TRY(engine_random(c, c->hs->cookie, 32));
        c->hs->cookie_len = 32;
        handshake_switch_flow(c, &tls13_hello_retry_handshake);
        return transcript_restart_for_hello_retry(c, 0);
    }
    handshake_switch_flow(c, &tls13_full_handshake);
    TRY(server_try_psk13(c));
    return transcript_start(c, c->suite->hash);
}

/* ---- ServerHello / HelloRetryRequest (server writes) ---- */

/* legacy_version .. compression, then the extensions with supported_versions */
static int write_hello13_head(latch_conn *c, cursor *out, const uint8_t *random,
                              cursor_mark *extensions)
{
    TRY(cursor_write_u16(out, LATCH_VERSION_TLS12)); /* legacy_version */
    TRY(cursor_write_bytes(out, random, 32));
    TRY(cursor_write_vector(out, 1, c->session_id, c->session_id_len));
    TRY(cursor_write_u16(out, c->suite->id));
    TRY(cursor_write_u8(out, 0));
    TRY(cursor_open_vector(out, 2, extensions));
    TRY(cursor_write_u16(out, EXT_SUPPORTED_VERSIONS));
    TRY(cursor_write_u16(out, 2));
    return cursor_write_u16(out, LATCH_VERSION_TLS13);
}

int server_hello13_write(latch_conn *c, cursor *out)
{
    latch_config *cfg = c->config;
    cursor_mark extensions, ext, share;
    c->hs->our_key_share_len = sizeof c->hs->our_key_share;
    if (latch_kx_generate(&cfg->crypto, c->group, cfg->random, cfg->random_arg,
                          &c->key_exchange_key, c->hs->our_key_share,
                          &c->hs->our_key_share_len) != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "key generation failed");
    c->hs->pre_master_len = sizeof c->hs->pre_master_secret;
    if (latch_kx_derive(c->group, c->key_exchange_key, c->hs->peer_key_share,
                        c->hs->peer_key_share_len, c->hs->pre_master_secret,
                        &c->hs->pre_master_len) != 0)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "client's %s key share is invalid",
                           latch_group_name(c->group));
    EVP_PKEY_free(c->key_exchange_key);
    c->key_exchange_key = NULL;
    TRY(engine_random(c, c->server_random, 32));
    TRY(write_hello13_head(c, out, c->server_random, &extensions));
    TRY(cursor_write_u16(out, EXT_KEY_SHARE));
    TRY(cursor_open_vector(out, 2, &ext));
    TRY(cursor_write_u16(out, c->group));
    TRY(cursor_open_vector(out, 2, &share));
    TRY(cursor_write_bytes(out, c->hs->our_key_share, c->hs->our_key_share_len));
    TRY(cursor_close_vector(out, &share));
    TRY(cursor_close_vector(out, &ext));
    if (c->resumed) {
        TRY(cursor_write_u16(out, EXT_PRE_SHARED_KEY));
        TRY(cursor_write_u16(out, 2));
        TRY(cursor_write_u16(out, 0)); /* selected_identity */
    }
    return cursor_close_vector(out, &extensions);
}

int server_hello13_after_write(latch_conn *c)
{
    TRY(tls13_derive_handshake_secrets(c));
    TRY(tls13_install_write(c, c->hs->server_handshake_secret, "server handshake traffic"));
    return tls13_install_read(c, c->hs->client_handshake_secret, "client handshake traffic");
}

int hello_retry_request_write(latch_conn *c, cursor *out)
{
    cursor_mark extensions, ext;
    TRY(write_hello13_head(c, out, tls13_hello_retry_random, &extensions));
    TRY(cursor_write_u16(out, EXT_KEY_SHARE));
    TRY(cursor_write_u16(out, 2));
    TRY(cursor_write_u16(out, c->group));
    TRY(cursor_write_u16(out, EXT_COOKIE));
    TRY(cursor_open_vector(out, 2, &ext));
    TRY(cursor_write_vector(out, 2, c->hs->cookie, c->hs->cookie_len));
    TRY(cursor_close_vector(out, &ext));
    engine_emit(c, LATCH_EVENT_NOTE, "HelloRetryRequest", latch_group_name(c->group));
    return cursor_close_vector(out, &extensions);
}

/* ---- client reads ServerHello / HelloRetryRequest (1.3) ---- */

typedef struct hello13_fields {
    uint16_t version, share_group, psk_identity;
    cursor share, cookie;
    int has_share, has_cookie, has_psk;
} hello13_fields;

static int hello13_extensions(latch_conn *c, cursor *block, hello13_fields *f, int retry)
{
    uint16_t seen[32];
    size_t seen_count = 0;
    while (cursor_remaining(block) > 0) {
        uint16_t type;
        cursor data;
        TRY(cursor_read_u16(block, &type));
        TRY(cursor_read_vector(block, 2, 0, 0xffff, &data));
        if (listed(seen, seen_count, type) || seen_count == 32)
            return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "extension %u repeated", type);
        seen[seen_count++] = type;
        if (type == EXT_SUPPORTED_VERSIONS) {
            TRY(cursor_read_u16(&data, &f->version));
        } else if (type == EXT_KEY_SHARE) {
            TRY(cursor_read_u16(&data, &f->share_group));
            if (!retry)
                TRY(cursor_read_vector(&data, 2, 1, 0xffff, &f->share));
            f->has_share = 1;
        } else if (type == EXT_PRE_SHARED_KEY && !retry) {
            TRY(cursor_read_u16(&data, &f->psk_identity));
            f->has_psk = 1;
        } else if (type == EXT_COOKIE && retry) {
            TRY(cursor_read_vector(&data, 2, 1, 0xffff, &f->cookie));
            f->has_cookie = 1;
        } else {
            return engine_fail(c, LATCH_ERR_UNSUPPORTED_EXTENSION,
                               "server sent extension %u in %s", type,
                               retry ? "HelloRetryRequest" : "ServerHello");
        }
        TRY(cursor_expect_end(&data));
    }
    return 0;
}

/* Fields common to both: legacy_session_id_echo, cipher_suite, compression. */
static int hello13_common(latch_conn *c, cursor *body, uint16_t *suite)
{
    cursor session_id;
    uint8_t compression;
    TRY(cursor_read_vector(body, 1, 0, 32, &session_id));
    TRY(cursor_read_u16(body, suite));
    TRY(cursor_read_u8(body, &compression));
    if (session_id.len != c->session_id_len ||
        memcmp(session_id.data, c->session_id, session_id.len) != 0)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "session id not echoed");
    const latch_suite *s = suite_find(*suite);
    if (s == NULL || s->key_exchange != KEY_EXCHANGE_TLS13 ||
        !listed(c->config->suites, c->config->suite_count, *suite))
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "server chose cipher suite 0x%04x that was not offered", *suite);
    if (c->suite != NULL && c->suite->id != *suite)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "cipher suite changed after HelloRetryRequest");
    if (compression != 0)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "server chose compression");
    return 0;
}

int hello_retry_request_read(latch_conn *c, cursor *body)
{
    uint16_t suite;
    cursor extensions;
    hello13_fields f = {0};
    if (c->hello_retry)
        return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE, "second HelloRetryRequest");
    TRY(hello13_common(c, body, &suite));
    TRY(cursor_read_vector(body, 2, 2, 0xffff, &extensions));
    TRY(cursor_expect_end(body));
    TRY(hello13_extensions(c, &extensions, &f, 1));
    if (f.version != LATCH_VERSION_TLS13 || !f.has_share)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "malformed HelloRetryRequest");
    if (f.share_group == c->offered_share_group ||
        !listed(c->config->groups, c->config->group_count, f.share_group))
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "HelloRetryRequest asks for group %u", f.share_group);
    if (f.has_cookie) {
        if (f.cookie.len > sizeof c->hs->cookie)
            return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "cookie too long");
        c->hs->cookie_len = f.cookie.len;
        memcpy(c->hs->cookie, f.cookie.data, f.cookie.len);
    }
    c->hello_retry = 1;
    c->suite = suite_find(suite);
    c->version = LATCH_VERSION_TLS13;
    c->offered_share_group = f.share_group;
    EVP_PKEY_free(c->key_exchange_key);
    c->key_exchange_key = NULL;
    handshake_switch_flow(c, &tls13_hello_retry_handshake);
    engine_emit(c, LATCH_EVENT_NOTE, "HelloRetryRequest", latch_group_name(f.share_group));
    return transcript_restart_for_hello_retry(c, body->len + 4);
}

/* The server took our ticket's PSK (RFC 8446 4.2.11). */
static int client_psk_accepted(latch_conn *c, uint16_t identity)
{
    const latch_session *s = client_offered_session(c, LATCH_VERSION_TLS13);
    const latch_suite *psk_suite = s != NULL ? suite_find(s->suite) : NULL;
    if (psk_suite == NULL || s->version != LATCH_VERSION_TLS13 || s->ticket_len == 0 ||
        c->hello_retry || identity != 0 || psk_suite->hash != c->suite->hash)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "server selected a PSK that was not offered");
    c->resumed = 1;
    engine_emit(c, LATCH_EVENT_NOTE, "resumption accepted", "TLS 1.3 PSK");
    TRY(resumption_restore_identity(c, s));
    return tls13_early_secret(c, s->secret, s->secret_len);
}

int server_hello13_read(latch_conn *c, cursor *body)
{
    uint16_t suite;
    cursor extensions;
    hello13_fields f = {0};
    TRY(hello13_common(c, body, &suite));
    TRY(cursor_read_vector(body, 2, 2, 0xffff, &extensions));
    TRY(cursor_expect_end(body));
    TRY(hello13_extensions(c, &extensions, &f, 0));
    if (f.version != LATCH_VERSION_TLS13)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "supported_versions is not 1.3");
    if (!f.has_share)
        return engine_fail(c, LATCH_ERR_MISSING_EXTENSION, "ServerHello without key_share");
    if (f.share_group != c->offered_share_group)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "server key share for group %u that was not offered", f.share_group);
    c->version = LATCH_VERSION_TLS13;
    c->suite = suite_find(suite);
    c->group = f.share_group;
    c->hs->pre_master_len = sizeof c->hs->pre_master_secret;
    if (latch_kx_derive(c->group, c->key_exchange_key, f.share.data, f.share.len,
                        c->hs->pre_master_secret, &c->hs->pre_master_len) != 0)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "server's %s key share is invalid",
                           latch_group_name(c->group));
    EVP_PKEY_free(c->key_exchange_key);
    c->key_exchange_key = NULL;
    if (f.has_psk)
        TRY(client_psk_accepted(c, f.psk_identity));
    if (!c->hello_retry)
        handshake_switch_flow(c, c->resumed ? &tls13_psk_handshake : &tls13_full_handshake);
    TRY(transcript_start(c, c->suite->hash));
    TRY(tls13_derive_handshake_secrets(c));
    TRY(tls13_install_read(c, c->hs->server_handshake_secret, "server handshake traffic"));
    TRY(tls13_install_write(c, c->hs->client_handshake_secret, "client handshake traffic"));
    engine_emit(c, LATCH_EVENT_NOTE, "negotiated", c->suite->name);
    return 0;
}

/* ---- EncryptedExtensions ---- */

int encrypted_extensions_write(latch_conn *c, cursor *out)
{
    cursor_mark extensions, ext, list;
    TRY(cursor_open_vector(out, 2, &extensions));
    if (c->alpn[0] != '\0') {
        TRY(cursor_write_u16(out, EXT_ALPN));
        TRY(cursor_open_vector(out, 2, &ext));
        TRY(cursor_open_vector(out, 2, &list));
        TRY(cursor_write_vector(out, 1, c->alpn, strlen(c->alpn)));
        TRY(cursor_close_vector(out, &list));
        TRY(cursor_close_vector(out, &ext));
    }
    return cursor_close_vector(out, &extensions);
}

static int encrypted_extension_read(latch_conn *c, uint16_t type, cursor *data)
{
    switch (type) {
    case EXT_SERVER_NAME:
    case EXT_ALPN:
    case EXT_SUPPORTED_GROUPS:
        return server_extension_read(c, type, data);
    case EXT_SUPPORTED_VERSIONS:
    case EXT_KEY_SHARE:
    case EXT_EXTENDED_MASTER_SECRET:
    case EXT_RENEGOTIATION_INFO:
    case EXT_EC_POINT_FORMATS:
    case EXT_SIGNATURE_ALGORITHMS: /* RFC 8446 4.2: known but not for this message */
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "extension %u is not allowed in EncryptedExtensions", type);
    default:
        return engine_fail(c, LATCH_ERR_UNSUPPORTED_EXTENSION,
                           "server sent extension %u that was not offered", type);
    }
}

int encrypted_extensions_read(latch_conn *c, cursor *body)
{
    cursor extensions;
    TRY(cursor_read_vector(body, 2, 0, 0xffff, &extensions));
    TRY(cursor_expect_end(body));
    return extensions_walk(c, &extensions, encrypted_extension_read);
}
