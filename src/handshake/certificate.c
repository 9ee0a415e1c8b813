/* Certificate (11): RFC 5246 7.4.2. */
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "handshake/handshake.h"
#include "util/error.h"

int server_certificate_write(latch_conn *c, cursor *out)
{
    cursor_mark list;
    TRY(cursor_open_vector(out, 3, &list));
    for (size_t i = 0; i < c->cert->count; i++)
        TRY(cursor_write_vector(out, 3, c->cert->der[i], c->cert->der_len[i]));
    return cursor_close_vector(out, &list);
}

static int leaf_fits_suite(const latch_conn *c, EVP_PKEY *key)
{
    int type = EVP_PKEY_get_base_id(key);
    if (c->suite->auth == AUTH_RSA)
        return type == EVP_PKEY_RSA;
    if (c->suite->auth == AUTH_TLS13)
        return type == EVP_PKEY_RSA || type == EVP_PKEY_EC || type == EVP_PKEY_ED25519;
    return type == EVP_PKEY_EC || type == EVP_PKEY_ED25519;
}

/* One event per link of the path built: who signed whom, and the result. */
static void emit_chain(latch_conn *c, const latch_verify_report *report)
{
    char line[700];
    for (size_t i = 0; i < report->path_len; i++) {
        const latch_verify_step *s = &report->path[i];
        snprintf(line, sizeof line, "%zu: %s <- %s (%s, not after %s): ok", i, s->subject,
                 s->issuer, s->key, s->not_after);
        engine_emit(c, LATCH_EVENT_NOTE, "certificate chain link", line);
    }
    engine_emit(c, LATCH_EVENT_NOTE, "certificate verified", c->server_name);
}

/* The SNI only orders the candidates: with one certificate (or no SNI) both
 * passes would try the same list, so the names are not matched at all. */
const latch_cert_key *certificate_choose(const latch_conn *c, certificate_usable_fn usable,
                                         const void *arg, uint16_t *scheme)
{
    const latch_config *cfg = c->config;
    int by_name = cfg->cert_count > 1 && c->server_name[0] != '\0';
    int is_ip = by_name && latch_host_is_ip(c->server_name); /* once, not per certificate */
    for (int pass = by_name ? 0 : 1; pass < 2; pass++)
        for (size_t i = 0; i < cfg->cert_count; i++) {
            const latch_cert_key *ck = cfg->certs[i];
            if (pass == 0 && !latch_cert_key_matches_host(ck, c->server_name, is_ip))
                continue;
            if ((*scheme = usable(c, ck, arg)) != 0)
                return ck;
        }
    return NULL;
}

int certificate_check_server_chain(latch_conn *c, const uint8_t *const *der,
                                   const size_t *len, size_t count)
{
    latch_config *cfg = c->config;
    char reason[256] = "";
    EVP_PKEY *leaf = NULL;
    if (!cfg->verify) {
        leaf = latch_leaf_public_key(der[0], len[0]);
        if (leaf == NULL)
            return engine_fail(c, LATCH_ERR_BAD_CERTIFICATE, "server certificate is malformed");
        engine_emit(c, LATCH_EVENT_NOTE, "certificate not verified", "verification disabled");
    } else {
        latch_verify_options options = {LATCH_PURPOSE_SERVER, NULL, 0, 0, 0};
        latch_verify_report report;
        options.when = cfg->clock_wall ? (int64_t)cfg->clock_wall(cfg->clock_arg) : 0;
        options.host = c->server_name[0] ? c->server_name : NULL;
        /* RSA key exchange encrypts to the key; everything else signs with it */
        options.key_usage = c->suite->key_exchange == KEY_EXCHANGE_RSA ? KU_KEY_ENCIPHERMENT
                                                                       : KU_DIGITAL_SIGNATURE;
        int err = latch_verify_chain_for(cfg->trust, &options, der, len, count, &leaf, &report,
                                         reason, sizeof reason);
        if (err != LATCH_OK)
            return engine_fail(c, err, "%s", reason);
        emit_chain(c, &report);
        /* the verified identity, kept in the session for resumption */
        if (engine_set_peer_subject(c, report.path_len > 0 ? report.path[0].subject : "") != 0) {
            EVP_PKEY_free(leaf);
            return LATCH_ERR_INTERNAL;
        }
    }
    c->peer_public_key = leaf;
    if (!leaf_fits_suite(c, leaf))
        return engine_fail(c, LATCH_ERR_UNSUPPORTED_CERTIFICATE,
                           "server certificate key type does not fit %s", c->suite->name);
    return 0;
}

int server_certificate_read(latch_conn *c, cursor *body)
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
            return engine_fail(c, LATCH_ERR_BAD_CERTIFICATE,
                               "server sent more than %d certificates", LATCH_MAX_CHAIN);
        der[count] = cert.data;
        len[count++] = cert.len;
    }
    if (count == 0)
        return engine_fail(c, LATCH_ERR_BAD_CERTIFICATE, "server sent no certificate");
    return certificate_check_server_chain(c, der, len, count);
}
