/* TLS 1.3 Certificate (11) and CertificateVerify (15): RFC 8446 4.4.2, 4.4.3. */
#include <string.h>

#include "handshake/handshake13.h"
#include "util/error.h"

int certificate13_write(latch_conn *c, cursor *out)
{
    cursor_mark list;
    TRY(cursor_write_u8(out, 0)); /* certificate_request_context: empty */
    TRY(cursor_open_vector(out, 3, &list));
    for (size_t i = 0; i < c->cert->count; i++) {
        TRY(cursor_write_vector(out, 3, c->cert->der[i], c->cert->der_len[i]));
        TRY(cursor_write_u16(out, 0)); /* no per-entry extensions */
    }
    return cursor_close_vector(out, &list);
}

int certificate13_read(latch_conn *c, cursor *body)
{
    const uint8_t *der[LATCH_MAX_CHAIN];
    size_t len[LATCH_MAX_CHAIN], count = 0;
    cursor context, list;
    TRY(cursor_read_vector(body, 1, 0, 0xff, &context));
    TRY(cursor_read_vector(body, 3, 0, 0xffffff, &list));
    TRY(cursor_expect_end(body));
    if (cursor_remaining(&context) != 0)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "server Certificate with a request context");
    while (cursor_remaining(&list) > 0) {
        cursor cert, extensions;
        TRY(cursor_read_vector(&list, 3, 1, 0xffffff, &cert));
        TRY(cursor_read_vector(&list, 2, 0, 0xffff, &extensions));
        if (cursor_remaining(&extensions) != 0) /* we asked for none (no OCSP, no SCT) */
            return engine_fail(c, LATCH_ERR_UNSUPPORTED_EXTENSION,
                               "certificate entry with unrequested extensions");
        if (count == LATCH_MAX_CHAIN)
            return engine_fail(c, LATCH_ERR_BAD_CERTIFICATE,
                               "server sent more than %d certificates", LATCH_MAX_CHAIN);
        der[count] = cert.data;
        len[count++] = cert.len;
    }
    if (count == 0)
        return engine_fail(c, LATCH_ERR_DECODE, "server sent an empty Certificate");
    return certificate_check_server_chain(c, der, len, count);
}

/* 64 spaces, the context string, a zero byte, then the transcript hash. */
static int verify_content(const char *context, const uint8_t *hash, size_t hash_len,
                          uint8_t *out, size_t cap, size_t *out_len)
{
    cursor w;
    cursor_init(&w, out, cap);
    for (int i = 0; i < 64; i++)
        TRY(cursor_write_u8(&w, 0x20));
    TRY(cursor_write_bytes(&w, context, strlen(context) + 1));
    TRY(cursor_write_bytes(&w, hash, hash_len));
    *out_len = w.off;
    return 0;
}

#define SERVER_CONTEXT "TLS 1.3, server CertificateVerify"

int certificate_verify_write(latch_conn *c, cursor *out)
{
    uint8_t hash[LATCH_MAX_HASH_LEN], content[64 + 40 + LATCH_MAX_HASH_LEN];
    uint8_t signature[LATCH_MAX_SIGNATURE];
    size_t hash_len = sizeof hash, content_len, sig_len;
    TRY(transcript_hash(c, hash, &hash_len));
    TRY(verify_content(SERVER_CONTEXT, hash, hash_len, content, sizeof content, &content_len));
    if (latch_sign(&c->config->crypto, c->signature_scheme, c->cert->key, content, content_len,
                   signature, &sig_len) != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "signing CertificateVerify failed");
    TRY(cursor_write_u16(out, c->signature_scheme));
    return cursor_write_vector(out, 2, signature, sig_len);
}

static int offered_scheme13(uint16_t scheme)
{
    if ((scheme & 0xff) == 0x01) /* rsa_pkcs1_*: not in TLS 1.3 CertificateVerify */
        return 0;
    for (size_t i = 0; i < signature_scheme_count; i++)
        if (signature_scheme_order[i] == scheme)
            return 1;
    return 0;
}

int certificate_verify_read(latch_conn *c, cursor *body)
{
    uint8_t content[64 + 40 + LATCH_MAX_HASH_LEN];
    size_t content_len;
    uint16_t scheme;
    cursor signature;
    TRY(cursor_read_u16(body, &scheme));
    TRY(cursor_read_vector(body, 2, 1, 0xffff, &signature));
    TRY(cursor_expect_end(body));
    if (!offered_scheme13(scheme) || !latch_sig_scheme_fits_key(scheme, c->peer_public_key))
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                           "CertificateVerify with %s, not offered or not fitting the key",
                           latch_signature_scheme_name(scheme));
    TRY(verify_content(SERVER_CONTEXT, c->hs->prior_hash, c->hs->prior_hash_len, content,
                       sizeof content, &content_len));
    if (latch_verify(&c->config->crypto, scheme, c->peer_public_key, content, content_len,
                     signature.data, signature.len) != 0)
        return engine_fail(c, LATCH_ERR_DECRYPT_ERROR, "server CertificateVerify (%s) is wrong",
                           latch_signature_scheme_name(scheme));
    c->signature_scheme = scheme;
    return 0;
}
