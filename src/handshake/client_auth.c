/* CertificateRequest (13) and the client's Certificate / CertificateVerify:
 * mutual TLS (RFC 5246 7.4.4, 7.4.6, 7.4.8; RFC 8446 4.3.2, 4.4.2, 4.4.3).
 *
 * TLS 1.2's CertificateVerify signs handshake_messages; latch signs the
 * running transcript hash instead (a prehashed signature), so it only uses
 * schemes whose hash is the PRF hash, and not Ed25519. */
#include <stdio.h>
#include <string.h>

#include "handshake/extensions.h"
#include "handshake/handshake13.h"
#include "util/error.h"

static const char client_context13[] = "TLS 1.3, client CertificateVerify";

int certificate_request_present(const latch_conn *c)
{
    if (c->is_client)
        return ROW_MAYBE;
    return c->config->client_auth != LATCH_CLIENT_AUTH_NONE && !c->resumed ? ROW_PRESENT
                                                                            : ROW_ABSENT;
}

int client_certificate_present(const latch_conn *c)
{
    return c->certificate_requested ? ROW_PRESENT : ROW_ABSENT;
}

int client_certificate_verify_present(const latch_conn *c)
{
    int has = c->is_client ? c->client_cert != NULL : c->peer_sent_certificate;
    return c->certificate_requested && has ? ROW_PRESENT : ROW_ABSENT;
}

/* A TLS 1.2 CertificateVerify scheme: prehashable with the PRF hash. */
static int scheme_usable12(const latch_conn *c, uint16_t scheme)
{
    enum latch_hash_id hash;
    return latch_scheme_hash(scheme, &hash) == 0 && hash == c->suite->hash;
}

/* ---- the server asks ---- */

int certificate_request12_write(latch_conn *c, cursor *out)
{
    static const uint8_t types[] = {1, 64}; /* rsa_sign, ecdsa_sign */
    cursor_mark list;
    c->certificate_requested = 1;
    TRY(cursor_write_vector(out, 1, types, sizeof types));
    TRY(cursor_open_vector(out, 2, &list));
    for (size_t i = 0; i < signature_scheme_count; i++)
        if (scheme_usable12(c, signature_scheme_order[i]))
            TRY(cursor_write_u16(out, signature_scheme_order[i]));
    TRY(cursor_close_vector(out, &list));
    return cursor_write_u16(out, 0); /* certificate_authorities: any */
}

int certificate_request13_write(latch_conn *c, cursor *out)
{
    cursor_mark extensions, ext, list;
    c->certificate_requested = 1;
    TRY(cursor_write_u8(out, 0)); /* empty certificate_request_context */
    TRY(cursor_open_vector(out, 2, &extensions));
    TRY(cursor_write_u16(out, EXT_SIGNATURE_ALGORITHMS));
    TRY(cursor_open_vector(out, 2, &ext));
    TRY(cursor_open_vector(out, 2, &list));
    for (size_t i = 0; i < signature_scheme_count; i++)
        if ((signature_scheme_order[i] & 0xff) != 0x01) /* no rsa_pkcs1 in 1.3 */
            TRY(cursor_write_u16(out, signature_scheme_order[i]));
    TRY(cursor_close_vector(out, &list));
    TRY(cursor_close_vector(out, &ext));
    return cursor_close_vector(out, &extensions);
}

/* ---- the client answers ---- */

static void choose_client_cert(latch_conn *c, int tls13)
{
    const latch_config *cfg = c->config;
    c->client_cert = NULL;
    if (cfg->cert_count == 0)
        return;
    for (size_t i = 0; i < signature_scheme_count; i++) {
        uint16_t s = signature_scheme_order[i];
        int offered = 0;
        for (size_t j = 0; j < c->hs->peer.signature_scheme_count; j++)
            offered |= c->hs->peer.signature_schemes[j] == s;
        if (!offered || !latch_sig_scheme_fits_key(s, cfg->certs[0]->key))
            continue;
        if (tls13 ? (s & 0xff) == 0x01 : !scheme_usable12(c, s))
            continue;
        c->client_cert = cfg->certs[0];
        c->client_signature_scheme = s;
        return;
    }
}

/* struct { ClientCertificateType certificate_types<1..2^8-1>;
 *          SignatureAndHashAlgorithm supported_signature_algorithms<2^16-1>;
 *          DistinguishedName certificate_authorities<0..2^16-1>; } */
int certificate_request12_read(latch_conn *c, cursor *body)
{
    cursor types, authorities;
    TRY(cursor_read_vector(body, 1, 1, 0xff, &types));
    TRY(read_u16_list(body, c->hs->peer.signature_schemes, LATCH_MAX_PEER_LIST,
                      &c->hs->peer.signature_scheme_count));
    TRY(cursor_read_vector(body, 2, 0, 0xffff, &authorities));
    TRY(cursor_expect_end(body));
    c->certificate_requested = 1;
    choose_client_cert(c, 0);
    engine_emit(c, LATCH_EVENT_NOTE, "certificate requested",
                c->client_cert ? "sending our certificate" : "no usable certificate: empty");
    return 0;
}

static int request13_extension(latch_conn *c, uint16_t type, cursor *data)
{
    if (type == EXT_SIGNATURE_ALGORITHMS) {
        c->hs->peer.sent_signature_schemes = 1;
        return read_u16_list(data, c->hs->peer.signature_schemes, LATCH_MAX_PEER_LIST,
                             &c->hs->peer.signature_scheme_count);
    }
    return cursor_skip(data, cursor_remaining(data)); /* e.g. certificate_authorities */
}

int certificate_request13_read(latch_conn *c, cursor *body)
{
    cursor context, extensions;
    TRY(cursor_read_vector(body, 1, 0, 0xff, &context));
    TRY(cursor_read_vector(body, 2, 2, 0xffff, &extensions));
    TRY(cursor_expect_end(body));
    c->hs->peer.sent_signature_schemes = 0;
    TRY(extensions_walk(c, &extensions, request13_extension));
    if (!c->hs->peer.sent_signature_schemes)
        return engine_fail(c, LATCH_ERR_MISSING_EXTENSION,
                           "CertificateRequest without signature_algorithms");
    c->hs->request_context_len = context.len;
    TRY(cursor_copy_bytes(&context, c->hs->request_context, context.len));
    c->certificate_requested = 1;
    choose_client_cert(c, 1);
    engine_emit(c, LATCH_EVENT_NOTE, "certificate requested",
                c->client_cert ? "sending our certificate" : "no usable certificate: empty");
    return 0;
}

int client_certificate12_write(latch_conn *c, cursor *out)
{
    cursor_mark list;
    TRY(cursor_open_vector(out, 3, &list));
    for (size_t i = 0; c->client_cert != NULL && i < c->client_cert->count; i++)
        TRY(cursor_write_vector(out, 3, c->client_cert->der[i], c->client_cert->der_len[i]));
    return cursor_close_vector(out, &list);
}

int client_certificate13_write(latch_conn *c, cursor *out)
{
    cursor_mark list;
    TRY(cursor_write_vector(out, 1, c->hs->request_context, c->hs->request_context_len));
    TRY(cursor_open_vector(out, 3, &list));
    for (size_t i = 0; c->client_cert != NULL && i < c->client_cert->count; i++) {
        TRY(cursor_write_vector(out, 3, c->client_cert->der[i], c->client_cert->der_len[i]));
        TRY(cursor_write_u16(out, 0));
    }
    return cursor_close_vector(out, &list);
}

static int verify_content13(const uint8_t *hash, size_t hash_len, uint8_t *out, size_t cap,
                            size_t *len)
{
    cursor w;
    cursor_init(&w, out, cap);
    for (int i = 0; i < 64; i++)
        TRY(cursor_write_u8(&w, 0x20));
    TRY(cursor_write_bytes(&w, client_context13, sizeof client_context13)); /* with NUL */
    TRY(cursor_write_bytes(&w, hash, hash_len));
    *len = w.off;
    return 0;
}

int client_certificate_verify13_write(latch_conn *c, cursor *out)
{
    uint8_t hash[LATCH_MAX_HASH_LEN], content[64 + sizeof client_context13 + LATCH_MAX_HASH_LEN];
    uint8_t signature[LATCH_MAX_SIGNATURE];
    size_t hash_len = sizeof hash, content_len, sig_len;
    TRY(transcript_hash(c, hash, &hash_len));
    TRY(verify_content13(hash, hash_len, content, sizeof content, &content_len));
    if (latch_sign(&c->config->crypto, c->client_signature_scheme, c->client_cert->key, content,
                   content_len, signature, &sig_len) != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "signing the client CertificateVerify failed");
    TRY(cursor_write_u16(out, c->client_signature_scheme));
    return cursor_write_vector(out, 2, signature, sig_len);
}

int client_certificate_verify12_write(latch_conn *c, cursor *out)
{
    uint8_t hash[LATCH_MAX_HASH_LEN], signature[LATCH_MAX_SIGNATURE];
    size_t hash_len = sizeof hash, sig_len;
    TRY(transcript_hash(c, hash, &hash_len));
    if (latch_sign_digest(&c->config->crypto, c->client_signature_scheme, c->client_cert->key, hash,
                          hash_len, signature, &sig_len) != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "signing the client CertificateVerify failed");
    TRY(cursor_write_u16(out, c->client_signature_scheme));
    return cursor_write_vector(out, 2, signature, sig_len);
}

/* ---- the server checks the answer ---- */

static int check_client_chain(latch_conn *c, const uint8_t *const *der, const size_t *len,
                              size_t count)
{
    latch_config *cfg = c->config;
    char reason[256] = "";
    EVP_PKEY *leaf = NULL;
    if (count == 0) {
        if (cfg->client_auth == LATCH_CLIENT_AUTH_REQUIRE) /* RFC 8446 4.4.2.4 / 5246 7.4.6 */
            return engine_fail(c, c->version == LATCH_VERSION_TLS13
                                      ? LATCH_ERR_CERTIFICATE_REQUIRED
                                      : LATCH_ERR_HANDSHAKE_FAILURE,
                               "client sent no certificate, and one is required");
        engine_emit(c, LATCH_EVENT_NOTE, "no client certificate", "optional: continuing");
        return 0;
    }
    latch_verify_options options = {LATCH_PURPOSE_CLIENT, NULL, 0, 0, 0};
    latch_verify_report report;
    options.when = cfg->clock_wall ? (int64_t)cfg->clock_wall(cfg->clock_arg) : 0;
    int err = latch_verify_chain_for(cfg->trust, &options, der, len, count, &leaf, &report,
                                     reason, sizeof reason);
    if (err != LATCH_OK)
        return engine_fail(c, err, "client certificate: %s", reason);
    c->peer_public_key = leaf;
    TRY(engine_set_peer_subject(c, report.path_len > 0 ? report.path[0].subject : ""));
    c->peer_sent_certificate = 1;
    engine_emit(c, LATCH_EVENT_NOTE, "client certificate verified", c->peer_subject);
    return 0;
}

int client_certificate12_read(latch_conn *c, cursor *body)
{
    const uint8_t *der[LATCH_MAX_CHAIN];
    size_t len[LATCH_MAX_CHAIN], count = 0;
    cursor list;
    TRY(cursor_read_vector(body, 3, 0, 0xffffff, &list));
    TRY(cursor_expect_end(body));
    while (cursor_remaining(&list) > 0) {
        cursor cert;
        TRY(cursor_read_vector(&list, 3, 1, 0xffffff, &cert));
        if (count == LATCH_MAX_CHAIN)
            return engine_fail(c, LATCH_ERR_BAD_CERTIFICATE, "client chain too long");
        der[count] = cert.data;
        len[count++] = cert.len;
    }
    return check_client_chain(c, der, len, count);
}

int client_certificate13_read(latch_conn *c, cursor *body)
{
    const uint8_t *der[LATCH_MAX_CHAIN];
    size_t len[LATCH_MAX_CHAIN], count = 0;
    cursor context, list;
    TRY(cursor_read_vector(body, 1, 0, 0xff, &context));
    TRY(cursor_read_vector(body, 3, 0, 0xffffff, &list));
    TRY(cursor_expect_end(body));
    if (context.len != 0) /* we sent an empty context */
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "certificate_request_context changed");
    while (cursor_remaining(&list) > 0) {
        cursor cert, extensions;
        TRY(cursor_read_vector(&list, 3, 1, 0xffffff, &cert));
        TRY(cursor_read_vector(&list, 2, 0, 0xffff, &extensions));
        if (count == LATCH_MAX_CHAIN)
            return engine_fail(c, LATCH_ERR_BAD_CERTIFICATE, "client chain too long");
        der[count] = cert.data;
        len[count++] = cert.len;
    }
    return check_client_chain(c, der, len, count);
}

static int check_client_scheme(latch_conn *c, uint16_t scheme, int tls13)
{
    int offered = 0;
    for (size_t i = 0; i < signature_scheme_count; i++)
        offered |= signature_scheme_order[i] == scheme;
    /* (in 1.2 the key type is checked when the signature is verified) */
    if (!offered || (tls13 ? (scheme & 0xff) == 0x01 : !scheme_usable12(c, scheme)) ||
        (tls13 && !latch_sig_scheme_fits_key(scheme, c->peer_public_key)))
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "client CertificateVerify with %s, which was not offered",
                           latch_signature_scheme_name(scheme));
    return 0;
}

int client_certificate_verify12_read(latch_conn *c, cursor *body)
{
    uint16_t scheme;
    cursor signature;
    TRY(cursor_read_u16(body, &scheme));
    TRY(cursor_read_vector(body, 2, 1, 0xffff, &signature));
    TRY(cursor_expect_end(body));
    TRY(check_client_scheme(c, scheme, 0));
    if (latch_verify_digest(&c->config->crypto, scheme, c->peer_public_key, c->hs->prior_hash,
                            c->hs->prior_hash_len, signature.data, signature.len) != 0)
        return engine_fail(c, LATCH_ERR_DECRYPT_ERROR, "client CertificateVerify is wrong");
    return 0;
}

int client_certificate_verify13_read(latch_conn *c, cursor *body)
{
    uint8_t content[64 + sizeof client_context13 + LATCH_MAX_HASH_LEN];
    size_t content_len;
    uint16_t scheme;
    cursor signature;
    TRY(cursor_read_u16(body, &scheme));
    TRY(cursor_read_vector(body, 2, 1, 0xffff, &signature));
    TRY(cursor_expect_end(body));
    TRY(check_client_scheme(c, scheme, 1));
    TRY(verify_content13(c->hs->prior_hash, c->hs->prior_hash_len, content, sizeof content,
                         &content_len));
    if (latch_verify(&c->config->crypto, scheme, c->peer_public_key, content, content_len,
                     signature.data, signature.len) != 0)
        return engine_fail(c, LATCH_ERR_DECRYPT_ERROR, "client CertificateVerify is wrong");
    return 0;
}
