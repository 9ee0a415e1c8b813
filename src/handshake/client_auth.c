/* CertificateRequest (13) and the client's Certificate / CertificateVerify
 * (RFC 5246 7.4.4, 7.4.6, 7.4.8; RFC 8446 4.3.2, 4.4.2, 4.4.3).
 *
 * The client answers a request: in TLS 1.3 with its certificate and a
 * CertificateVerify when it has one, else an empty Certificate; in TLS 1.2
 * with an empty Certificate (latch signs no 1.2 client CertificateVerify
 * yet).  latch servers do not request client certificates yet. */
#include <string.h>

#include "handshake/extensions.h"
#include "handshake/handshake13.h"
#include "util/error.h"

int certificate_request_present(const latch_conn *c)
{
    return c->is_client ? ROW_MAYBE : ROW_ABSENT;
}

int client_certificate_present(const latch_conn *c)
{
    return c->certificate_requested ? ROW_PRESENT : ROW_ABSENT;
}

int client_certificate_verify_present(const latch_conn *c)
{
    return c->certificate_requested && c->client_cert != NULL ? ROW_PRESENT : ROW_ABSENT;
}

static int not_enabled(latch_conn *c)
{
    return engine_fail(c, LATCH_ERR_INTERNAL, "client authentication is not enabled");
}

int certificate_request12_write(latch_conn *c, cursor *out) { return not_enabled(c); }
int client_certificate12_read(latch_conn *c, cursor *body) { return not_enabled(c); }
int certificate_request13_write(latch_conn *c, cursor *out) { return not_enabled(c); }
int client_certificate13_read(latch_conn *c, cursor *body) { return not_enabled(c); }
int client_certificate_verify13_read(latch_conn *c, cursor *body) { return not_enabled(c); }

/* struct { ClientCertificateType certificate_types<1..2^8-1>;
 *          SignatureAndHashAlgorithm supported_signature_algorithms<2^16-1>;
 *          DistinguishedName certificate_authorities<0..2^16-1>; } */
int certificate_request12_read(latch_conn *c, cursor *body)
{
    cursor types, authorities;
    TRY(cursor_read_vector(body, 1, 1, 0xff, &types));
    TRY(read_u16_list(body, c->peer.signature_schemes, LATCH_MAX_PEER_LIST,
                      &c->peer.signature_scheme_count));
    TRY(cursor_read_vector(body, 2, 0, 0xffff, &authorities));
    TRY(cursor_expect_end(body));
    c->certificate_requested = 1;
    c->client_cert = NULL;
    engine_emit(c, LATCH_EVENT_NOTE, "certificate requested",
                "TLS 1.2: answering with an empty certificate list");
    return 0;
}

int client_certificate12_write(latch_conn *c, cursor *out)
{
    return cursor_write_u24(out, 0); /* empty certificate_list */
}

static int request13_extension(latch_conn *c, uint16_t type, cursor *data)
{
    if (type == EXT_SIGNATURE_ALGORITHMS) {
        c->peer.sent_signature_schemes = 1;
        return read_u16_list(data, c->peer.signature_schemes, LATCH_MAX_PEER_LIST,
                             &c->peer.signature_scheme_count);
    }
    return cursor_skip(data, cursor_remaining(data)); /* e.g. certificate_authorities */
}

int certificate_request13_read(latch_conn *c, cursor *body)
{
    cursor context, extensions;
    const latch_config *cfg = c->config;
    TRY(cursor_read_vector(body, 1, 0, 0xff, &context));
    TRY(cursor_read_vector(body, 2, 2, 0xffff, &extensions));
    TRY(cursor_expect_end(body));
    c->peer.sent_signature_schemes = 0;
    TRY(extensions_walk(c, &extensions, request13_extension));
    if (!c->peer.sent_signature_schemes)
        return engine_fail(c, LATCH_ERR_MISSING_EXTENSION,
                           "CertificateRequest without signature_algorithms");
    c->request_context_len = context.len;
    TRY(cursor_copy_bytes(&context, c->request_context, context.len));
    c->certificate_requested = 1;
    c->client_cert = NULL;
    if (cfg->cert_count > 0 && (c->signature_scheme = tls13_pick_scheme(c, cfg->certs[0])) != 0)
        c->client_cert = cfg->certs[0];
    engine_emit(c, LATCH_EVENT_NOTE, "certificate requested",
                c->client_cert ? "sending our certificate" : "no usable certificate: empty");
    return 0;
}

int client_certificate13_write(latch_conn *c, cursor *out)
{
    cursor_mark list;
    TRY(cursor_write_vector(out, 1, c->request_context, c->request_context_len));
    TRY(cursor_open_vector(out, 3, &list));
    for (size_t i = 0; c->client_cert != NULL && i < c->client_cert->count; i++) {
        TRY(cursor_write_vector(out, 3, c->client_cert->der[i], c->client_cert->der_len[i]));
        TRY(cursor_write_u16(out, 0));
    }
    return cursor_close_vector(out, &list);
}

int client_certificate_verify13_write(latch_conn *c, cursor *out)
{
    static const char context[] = "TLS 1.3, client CertificateVerify";
    uint8_t hash[LATCH_MAX_HASH_LEN], content[64 + sizeof context + LATCH_MAX_HASH_LEN];
    uint8_t signature[LATCH_MAX_SIGNATURE];
    size_t hash_len = sizeof hash, sig_len;
    cursor w;
    TRY(transcript_hash(c, hash, &hash_len));
    cursor_init(&w, content, sizeof content);
    for (int i = 0; i < 64; i++)
        TRY(cursor_write_u8(&w, 0x20));
    TRY(cursor_write_bytes(&w, context, sizeof context)); /* with the zero byte */
    TRY(cursor_write_bytes(&w, hash, hash_len));
    if (latch_sign(&c->config->crypto, c->signature_scheme, c->client_cert->key, content, w.off,
                   signature, &sig_len) != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "signing the client CertificateVerify failed");
    TRY(cursor_write_u16(out, c->signature_scheme));
    return cursor_write_vector(out, 2, signature, sig_len);
}
