/* ClientHello (1) and ServerHello (2): RFC 5246 7.4.1.2 and 7.4.1.3. */
#include <string.h>

#include "handshake/extensions.h"
#include "handshake/handshake13.h"
#include "handshake/suites.h"
#include "util/error.h"

/* ---- ClientHello ---- */

/* A suite of ours that fits the configured version range. */
static int offers_suite(const latch_config *cfg, uint16_t id)
{
    const latch_suite *s = suite_find(id);
    if (s == NULL || s->max_version < cfg->min_version || s->min_version > cfg->max_version)
        return 0;
    for (size_t i = 0; i < cfg->suite_count; i++)
        if (cfg->suites[i] == id)
            return 1;
    return 0;
}

/* TLS 1.3 ClientHello: a key share for the first group (or the one a
 * HelloRetryRequest asked for), and a session id for middlebox compatibility. */
static int prepare_client_hello13(latch_conn *c)
{
    latch_config *cfg = c->config;
    if (!c->hello_retry)
        c->offered_share_group = cfg->groups[0];
    c->hs->our_key_share_len = sizeof c->hs->our_key_share;
    if (latch_kx_generate(&cfg->crypto, c->offered_share_group, cfg->random, cfg->random_arg,
                          &c->key_exchange_key, c->hs->our_key_share,
                          &c->hs->our_key_share_len) != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "key generation failed");
    return 0;
}

int client_hello_write(latch_conn *c, cursor *out)
{
    const latch_config *cfg = c->config;
    static const uint8_t null_compression_only[] = {0};
    cursor_mark suites, extensions;
    if (!c->hello_retry) {
        TRY(engine_random(c, c->client_random, 32));
        TRY(client_choose_session_id(c));
    }
    if (cfg->max_version >= LATCH_VERSION_TLS13)
        TRY(prepare_client_hello13(c));
    TRY(cursor_write_u16(out, LATCH_VERSION_TLS12));
    TRY(cursor_write_bytes(out, c->client_random, 32));
    TRY(cursor_write_vector(out, 1, c->session_id, c->session_id_len));
    TRY(cursor_open_vector(out, 2, &suites));
    for (size_t i = 0; i < cfg->suite_count; i++)
        if (offers_suite(cfg, cfg->suites[i]))
            TRY(cursor_write_u16(out, cfg->suites[i]));
    TRY(cursor_close_vector(out, &suites));
    TRY(cursor_write_vector(out, 1, null_compression_only, 1));
    TRY(cursor_open_vector(out, 2, &extensions));
    TRY(client_extensions_write(c, out));
    TRY(cursor_close_vector(out, &extensions));
    return client_psk_binder_patch(c, out);
}

static int read_suites(latch_conn *c, cursor *body)
{
    cursor list;
    TRY(cursor_read_vector(body, 2, 2, 0xfffe, &list));
    if (cursor_remaining(&list) % 2 != 0)
        return LATCH_ERR_DECODE;
    while (cursor_remaining(&list) > 0) {
        uint16_t id;
        TRY(cursor_read_u16(&list, &id));
        if (id == SUITE_EMPTY_RENEGOTIATION_INFO_SCSV)
            c->hs->peer.secure_renegotiation = 1;
        if (c->hs->peer.suite_count < LATCH_MAX_PEER_LIST)
            c->hs->peer.suites[c->hs->peer.suite_count++] = id;
    }
    return 0;
}

static int read_compression(latch_conn *c, cursor *body)
{
    cursor methods;
    int has_null = 0;
    TRY(cursor_read_vector(body, 1, 1, 0xff, &methods));
    while (cursor_remaining(&methods) > 0) {
        uint8_t m;
        TRY(cursor_read_u8(&methods, &m));
        has_null |= m == 0;
    }
    /* RFC 5246 7.4.1.2: the list MUST contain null; latch never compresses */
    if (!has_null)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "client offers only compression (refused: CRIME)");
    return 0;
}

static int peer_listed(const uint16_t *list, size_t count, uint16_t id)
{
    for (size_t i = 0; i < count; i++)
        if (list[i] == id)
            return 1;
    return 0;
}

/* In TLS 1.2 an ECDSA scheme names a hash, not a curve (RFC 8422 5.1.1). */
static int scheme_fits_cert(uint16_t scheme, const latch_cert_key *ck)
{
    switch (scheme) {
    case LATCH_SIG_ED25519:
        return ck->key_type == EVP_PKEY_ED25519;
    case LATCH_SIG_ECDSA_SECP256R1_SHA256:
    case LATCH_SIG_ECDSA_SECP384R1_SHA384:
        return ck->key_type == EVP_PKEY_EC;
    case LATCH_SIG_RSA_PKCS1_SHA1: /* only as the old profile's default, below */
        return ck->key_type == EVP_PKEY_RSA;
    case LATCH_SIG_ECDSA_SHA1:
        return ck->key_type == EVP_PKEY_EC;
    default:
        return ck->key_type == EVP_PKEY_RSA && (scheme >> 8) != 0x02;
    }
}

/* RFC 5246 7.4.1.4.1: a TLS 1.2 client that sends no signature_algorithms
 * is taken to have sent {sha1, rsa} or {sha1, ecdsa}, for the suite's
 * signature algorithm.  Only the old profile accepts that; otherwise no
 * certificate fits and the handshake fails. */
static uint16_t default_scheme(const latch_conn *c, const latch_cert_key *ck)
{
    if (!c->config->sha1_signatures)
        return 0;
    if (ck->key_type == EVP_PKEY_RSA)
        return LATCH_SIG_RSA_PKCS1_SHA1;
    return ck->key_type == EVP_PKEY_EC ? LATCH_SIG_ECDSA_SHA1 : 0;
}

static uint16_t pick_scheme(const latch_conn *c, const latch_cert_key *ck)
{
    if (!c->hs->peer.sent_signature_schemes)
        return default_scheme(c, ck);
    /* first pass: the scheme made for this curve; second: any that fits */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < signature_scheme_count; i++) {
            uint16_t s = signature_scheme_order[i];
            if (!peer_listed(c->hs->peer.signature_schemes,
                             c->hs->peer.signature_scheme_count, s) ||
                !scheme_fits_cert(s, ck))
                continue;
            if (pass == 0 && ck->key_type == EVP_PKEY_EC &&
                !latch_sig_scheme_fits_key(s, ck->key))
                continue;
            return s;
        }
    return 0;
}

static int auth_fits(const latch_suite *s, const latch_cert_key *ck)
{
    if (s->auth == AUTH_RSA)
        return ck->key_type == EVP_PKEY_RSA;
    if (s->auth == AUTH_ECDSA)
        return ck->key_type == EVP_PKEY_EC || ck->key_type == EVP_PKEY_ED25519;
    return 0;
}

/* certificate_choose for suite s (arg): the suite's key type, then a scheme. */
static uint16_t usable12(const latch_conn *c, const latch_cert_key *ck, const void *suite)
{
    return auth_fits(suite, ck) ? pick_scheme(c, ck) : 0;
}

/* A certificate for suite s: one whose names cover the SNI first. */
static const latch_cert_key *pick_cert(latch_conn *c, const latch_suite *s, uint16_t *scheme)
{
    return certificate_choose(c, usable12, s, scheme);
}

static uint16_t pick_group(latch_conn *c)
{
    const latch_config *cfg = c->config;
    for (size_t i = 0; i < cfg->group_count; i++) {
        if (!c->hs->peer.sent_groups && cfg->groups[i] == LATCH_GROUP_SECP256R1)
            return cfg->groups[i]; /* RFC 8422 4: no extension, assume P-256 */
        if (peer_listed(c->hs->peer.groups, c->hs->peer.group_count, cfg->groups[i]))
            return cfg->groups[i];
    }
    return 0;
}

static int choose_suite(latch_conn *c)
{
    const latch_config *cfg = c->config;
    uint16_t group = pick_group(c);
    for (size_t i = 0; i < cfg->suite_count; i++) {
        const latch_suite *s = suite_find(cfg->suites[i]);
        uint16_t scheme = 0;
        const latch_cert_key *ck;
        if (!offers_suite(cfg, cfg->suites[i]) ||
            !peer_listed(c->hs->peer.suites, c->hs->peer.suite_count, s->id))
            continue;
        if (s->key_exchange == KEY_EXCHANGE_ECDHE && group == 0)
            continue;
        if ((ck = pick_cert(c, s, &scheme)) == NULL)
            continue;
        c->suite = s;
        c->cert = ck;
        c->signature_scheme = scheme;
        c->group = group;
        return 0;
    }
    if (group == 0)
        return engine_fail(c, LATCH_ERR_HANDSHAKE_FAILURE, "no key exchange group in common");
    return engine_fail(c, LATCH_ERR_HANDSHAKE_FAILURE,
                       "no cipher suite in common (client offered %zu, none usable with "
                       "our certificates and its signature algorithms)",
                       c->hs->peer.suite_count);
}

static int choose_alpn(latch_conn *c)
{
    const latch_config *cfg = c->config;
    cursor ours;
    if (cfg->alpn_len == 0 || !c->hs->peer.sent_alpn)
        return 0;
    cursor_init(&ours, cfg->alpn, cfg->alpn_len);
    while (cursor_remaining(&ours) > 0) {
        cursor name, theirs;
        TRY(cursor_read_vector(&ours, 1, 1, 0xff, &name));
        cursor_init(&theirs, c->hs->peer.alpn, c->hs->peer.alpn_len);
        while (cursor_remaining(&theirs) > 0) {
            cursor offered;
            TRY(cursor_read_vector(&theirs, 1, 1, 0xff, &offered));
            if (offered.len == name.len && memcmp(offered.data, name.data, name.len) == 0) {
                memcpy(c->alpn, name.data, name.len);
                c->alpn[name.len] = '\0';
                return 0;
            }
        }
    }
    return engine_fail(c, LATCH_ERR_NO_APPLICATION_PROTOCOL,
                       "no application protocol (ALPN) in common");
}

static int version_enabled(const latch_config *cfg, uint16_t v)
{
    return v >= cfg->min_version && v <= cfg->max_version;
}

/* RFC 8446 4.2.1: supported_versions decides when present; otherwise the
 * legacy client_version (TLS 1.2 at least). */
static int negotiate_version(latch_conn *c, uint16_t client_version)
{
    const latch_config *cfg = c->config;
    if (c->peer_sent_versions) {
        if (peer_listed(c->hs->peer_versions, c->hs->peer_version_count, LATCH_VERSION_TLS13) &&
            version_enabled(cfg, LATCH_VERSION_TLS13))
            c->version = LATCH_VERSION_TLS13;
        else if (peer_listed(c->hs->peer_versions, c->hs->peer_version_count,
                             LATCH_VERSION_TLS12) &&
                 version_enabled(cfg, LATCH_VERSION_TLS12))
            c->version = LATCH_VERSION_TLS12;
        else
            return engine_fail(c, LATCH_ERR_PROTOCOL_VERSION,
                               "no protocol version in common (client's supported_versions)");
    } else if ((client_version >> 8) != 3 || client_version < LATCH_VERSION_TLS12) {
        return engine_fail(c, LATCH_ERR_PROTOCOL_VERSION,
                           "client offers at most version 0x%04x (TLS 1.2 is the minimum)",
                           client_version);
    } else if (version_enabled(cfg, LATCH_VERSION_TLS12)) {
        c->version = LATCH_VERSION_TLS12;
    } else {
        return engine_fail(c, LATCH_ERR_PROTOCOL_VERSION, "client does not offer TLS 1.3");
    }
    if (c->hello_retry && c->version != LATCH_VERSION_TLS13)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "second ClientHello without 1.3");
    return 0;
}

static int choose_tls12(latch_conn *c, const cursor *client_session_id)
{
    int resumed = server_try_resume12(c, client_session_id->data, client_session_id->len);
    if (resumed < 0 || resumed > 1)
        return resumed;
    if (resumed)
        return transcript_start(c, c->suite->hash);
    TRY(choose_suite(c));
    c->extended_master_secret = c->hs->peer.extended_master_secret;
    c->encrypt_then_mac = server_encrypt_then_mac(c, c->suite);
    return transcript_start(c, c->suite->hash);
}

int client_hello_read(latch_conn *c, cursor *body)
{
    uint16_t client_version;
    cursor session_id, extensions;
    if (c->hello_retry) { /* the second ClientHello replaces what the first said */
        memset(&c->hs->peer, 0, sizeof c->hs->peer);
        c->peer_sent_versions = c->peer_sent_key_share = 0;
        c->hs->peer_version_count = c->hs->peer_share_group_count = 0;
        c->server_name[0] = '\0';
    }
    TRY(cursor_read_u16(body, &client_version));
    TRY(cursor_copy_bytes(body, c->client_random, 32));
    TRY(cursor_read_vector(body, 1, 0, 32, &session_id));
    TRY(read_suites(c, body));
    TRY(read_compression(c, body));
    if (cursor_remaining(body) > 0) {
        TRY(cursor_read_vector(body, 2, 0, 0xffff, &extensions));
        TRY(cursor_expect_end(body));
        TRY(extensions_walk(c, &extensions, client_extension_read));
    }
    TRY(negotiate_version(c, client_version));
    if (c->version == LATCH_VERSION_TLS13) {
        c->session_id_len = cursor_remaining(&session_id); /* echoed (RFC 8446 4.1.3) */
        TRY(cursor_copy_bytes(&session_id, c->session_id, c->session_id_len));
        TRY(server_choose13(c));
    } else {
        TRY(choose_tls12(c, &session_id));
    }
    c->peer_key_share_list.len = 0; /* points into the message: not valid after */
    TRY(choose_alpn(c));
    engine_emit(c, LATCH_EVENT_NOTE, "negotiated", c->suite->name);
    return 0;
}

/* ---- ServerHello ---- */

int server_hello_write(latch_conn *c, cursor *out)
{
    cursor_mark extensions;
    TRY(engine_random(c, c->server_random, 32));
    if (c->config->max_version >= LATCH_VERSION_TLS13) /* RFC 8446 4.1.3 */
        memcpy(c->server_random + 24, tls13_downgrade_tls12, 8);
    TRY(cursor_write_u16(out, c->version));
    TRY(cursor_write_bytes(out, c->server_random, 32));
    TRY(cursor_write_vector(out, 1, c->session_id, c->session_id_len));
    TRY(cursor_write_u16(out, c->suite->id));
    TRY(cursor_write_u8(out, 0));
    TRY(cursor_open_vector(out, 2, &extensions));
    TRY(server_extensions_write(c, out));
    return cursor_close_vector(out, &extensions);
}

/* Does the rest of a ServerHello (after the random) carry supported_versions? */
static int has_supported_versions(cursor rest)
{
    cursor session_id, extensions;
    uint16_t suite;
    uint8_t compression;
    if (cursor_read_vector(&rest, 1, 0, 32, &session_id) != 0 ||
        cursor_read_u16(&rest, &suite) != 0 || cursor_read_u8(&rest, &compression) != 0 ||
        cursor_read_vector(&rest, 2, 0, 0xffff, &extensions) != 0)
        return 0;
    while (cursor_remaining(&extensions) > 0) {
        uint16_t type;
        cursor data;
        if (cursor_read_u16(&extensions, &type) != 0 ||
            cursor_read_vector(&extensions, 2, 0, 0xffff, &data) != 0)
            return 0;
        if (type == EXT_SUPPORTED_VERSIONS)
            return 1;
    }
    return 0;
}

static int server_hello12_read(latch_conn *c, uint16_t version, cursor *body)
{
    uint16_t suite;
    uint8_t compression;
    cursor session_id, extensions;
    const latch_config *cfg = c->config;
    if (version != LATCH_VERSION_TLS12 || cfg->min_version > LATCH_VERSION_TLS12)
        return engine_fail(c, LATCH_ERR_PROTOCOL_VERSION,
                           "server chose version 0x%04x; only TLS %s%s is accepted", version,
                           cfg->min_version > LATCH_VERSION_TLS12 ? "1.3" : "1.2",
                           cfg->max_version > LATCH_VERSION_TLS12 ? " and up" : "");
    /* RFC 8446 4.1.3: a TLS 1.3 client must notice a downgrade to 1.2 */
    if (cfg->max_version >= LATCH_VERSION_TLS13 &&
        memcmp(c->server_random + 24, tls13_downgrade_tls12, 8) == 0)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "downgrade to TLS 1.2 detected (ServerHello.random sentinel)");
    TRY(cursor_read_vector(body, 1, 0, 32, &session_id));
    TRY(cursor_read_u16(body, &suite));
    TRY(cursor_read_u8(body, &compression));
    const latch_suite *s = suite_find(suite);
    if (!offers_suite(cfg, suite) || s->key_exchange == KEY_EXCHANGE_TLS13)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "server chose cipher suite 0x%04x that was not offered", suite);
    if (compression != 0)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "server chose compression");
    if (cursor_remaining(body) > 0) {
        TRY(cursor_read_vector(body, 2, 0, 0xffff, &extensions));
        TRY(cursor_expect_end(body));
        TRY(extensions_walk(c, &extensions, server_extension_read));
    }
    if (!c->hs->peer.secure_renegotiation)
        return engine_fail(c, LATCH_ERR_HANDSHAKE_FAILURE,
                           "server does not support secure renegotiation (RFC 5746)");
    c->version = version;
    c->suite = s;
    c->extended_master_secret = c->hs->peer.extended_master_secret;
    TRY(client_encrypt_then_mac_check(c));
    EVP_PKEY_free(c->key_exchange_key); /* a 1.3 key share that went unused */
    c->key_exchange_key = NULL;
    handshake_switch_flow(c, &tls12_full_handshake);
    TRY(client_check_resumed12(c, session_id.data, session_id.len));
    c->session_id_len = cursor_remaining(&session_id);
    TRY(cursor_copy_bytes(&session_id, c->session_id, c->session_id_len));
    TRY(transcript_start(c, c->suite->hash));
    engine_emit(c, LATCH_EVENT_NOTE, "negotiated", c->suite->name);
    return 0;
}

int server_hello_read(latch_conn *c, cursor *body)
{
    uint16_t version;
    int offered13 = c->config->max_version >= LATCH_VERSION_TLS13;
    TRY(cursor_read_u16(body, &version));
    TRY(cursor_copy_bytes(body, c->server_random, 32));
    int is_retry = memcmp(c->server_random, tls13_hello_retry_random, 32) == 0;
    if ((is_retry || has_supported_versions(*body)) && !offered13)
        return engine_fail(c, LATCH_ERR_UNSUPPORTED_EXTENSION,
                           "server negotiates TLS 1.3, which was not offered");
    if (is_retry)
        return hello_retry_request_read(c, body);
    if (has_supported_versions(*body))
        return server_hello13_read(c, body);
    if (c->hello_retry)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "TLS 1.2 after HelloRetryRequest");
    return server_hello12_read(c, version, body);
}
