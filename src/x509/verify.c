/*
 * Trust stores and peer chain verification (X509_verify_cert).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "x509/x509.h"

/* Security level for peer chains: RSA >= 2048, no SHA-1 signatures. */
#define LATCH_AUTH_LEVEL 2

static void set_reason(char *reason, size_t reason_len, const char *fmt, ...)
{
    if (reason == NULL || reason_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, reason_len, fmt, ap);
    va_end(ap);
}

static const char *crypto_reason(void)
{
    const char *text = ERR_reason_error_string(ERR_peek_last_error());
    return text != NULL ? text : "unknown error";
}

/* X509_STORE_load_path only records the directory: check it exists. */
static int is_directory(const char *path, char *reason, size_t reason_len)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        set_reason(reason, reason_len, "cannot use CA directory %s: %s", path, strerror(errno));
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        set_reason(reason, reason_len, "cannot use CA directory %s: not a directory", path);
        return 0;
    }
    return 1;
}

X509_STORE *latch_trust_store_new(const char *ca_file, const char *ca_path,
                                  char *reason, size_t reason_len)
{
    X509_STORE *store = X509_STORE_new();
    if (store == NULL) {
        set_reason(reason, reason_len, "out of memory creating trust store");
        return NULL;
    }
    ERR_clear_error();
    struct stat st;
    if (ca_file != NULL && !X509_STORE_load_file(store, ca_file)) {
        set_reason(reason, reason_len, "cannot load CA file %s: %s", ca_file,
                   stat(ca_file, &st) != 0 ? strerror(errno) : crypto_reason());
        goto fail;
    }
    if (ca_path != NULL && !is_directory(ca_path, reason, reason_len))
        goto fail;
    if (ca_path != NULL && !X509_STORE_load_path(store, ca_path)) {
        set_reason(reason, reason_len, "cannot load CA directory %s: %s", ca_path,
                   crypto_reason());
        goto fail;
    }
    if (ca_file == NULL && ca_path == NULL && !X509_STORE_set_default_paths(store)) {
        set_reason(reason, reason_len, "cannot load the system trust store: %s",
                   crypto_reason());
        goto fail;
    }
    ERR_clear_error();
    return store;
fail:
    ERR_clear_error();
    X509_STORE_free(store);
    return NULL;
}

static X509 *decode_cert(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    if (der == NULL || len == 0 || len > 0x7fffffff)
        return NULL;
    X509 *cert = d2i_X509(NULL, &p, (long)len);
    if (cert != NULL && p != der + len) {
        X509_free(cert);
        cert = NULL;
    }
    return cert;
}

/* Leaf and the untrusted rest of the peer's chain. */
static latch_error decode_chain(const uint8_t *const *der, const size_t *der_len, size_t count,
                                X509 **leaf, STACK_OF(X509) **untrusted, char *reason,
                                size_t reason_len)
{
    *leaf = NULL;
    *untrusted = sk_X509_new_null();
    if (*untrusted == NULL) {
        set_reason(reason, reason_len, "out of memory decoding certificates");
        return LATCH_ERR_INTERNAL;
    }
    for (size_t i = 0; i < count; i++) {
        X509 *cert = decode_cert(der[i], der_len[i]);
        if (cert == NULL) {
            set_reason(reason, reason_len, "malformed certificate at depth %zu (%zu bytes)", i,
                       der_len[i]);
            return LATCH_ERR_BAD_CERTIFICATE;
        }
        if (i == 0) {
            *leaf = cert;
        } else if (!sk_X509_push(*untrusted, cert)) {
            X509_free(cert);
            set_reason(reason, reason_len, "out of memory decoding certificates");
            return LATCH_ERR_INTERNAL;
        }
    }
    return LATCH_OK;
}

static latch_error set_params(X509_STORE_CTX *ctx, const latch_verify_options *options,
                              char *reason, size_t reason_len)
{
    X509_VERIFY_PARAM *vpm = X509_STORE_CTX_get0_param(ctx);
    const char *host = options->host;
    int ok = X509_STORE_CTX_set_purpose(ctx, options->purpose == LATCH_PURPOSE_CLIENT
                                                 ? X509_PURPOSE_SSL_CLIENT
                                                 : X509_PURPOSE_SSL_SERVER);
    X509_VERIFY_PARAM_set_auth_level(vpm, LATCH_AUTH_LEVEL);
    /* a trusted intermediate is an anchor, as a browser treats it */
    X509_VERIFY_PARAM_set_flags(vpm, X509_V_FLAG_PARTIAL_CHAIN);
    if (options->when != 0)
        X509_VERIFY_PARAM_set_time(vpm, (time_t)options->when);
    if (options->max_depth > 0)
        X509_VERIFY_PARAM_set_depth(vpm, options->max_depth);
    if (host != NULL && *host == '\0') {
        set_reason(reason, reason_len, "empty host name to check the certificate against");
        return LATCH_ERR_CERTIFICATE_NAME;
    }
    if (host != NULL && latch_host_is_ip(host)) {
        ok = ok && X509_VERIFY_PARAM_set1_ip_asc(vpm, host);
    } else if (host != NULL) {
        /* RFC 6125 6.4.4: never fall back to the subject CN */
        X509_VERIFY_PARAM_set_hostflags(vpm, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
                                                 X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
        ok = ok && X509_VERIFY_PARAM_set1_host(vpm, host, 0);
    }
    if (!ok) {
        set_reason(reason, reason_len, "cannot set verification parameters: %s",
                   crypto_reason());
        return LATCH_ERR_INTERNAL;
    }
    return LATCH_OK;
}

static latch_error map_verify_error(int code)
{
    switch (code) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return LATCH_ERR_CERTIFICATE_EXPIRED;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
        return LATCH_ERR_UNKNOWN_CA;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return LATCH_ERR_CERTIFICATE_NAME;
    case X509_V_ERR_INVALID_PURPOSE:
    case X509_V_ERR_KEYUSAGE_NO_DIGITAL_SIGNATURE:
    case X509_V_ERR_KEYUSAGE_NO_CERTSIGN:
        return LATCH_ERR_UNSUPPORTED_CERTIFICATE;
    case X509_V_ERR_OUT_OF_MEM:
        return LATCH_ERR_INTERNAL;
    default: /* signature failures, weak keys/digests, malformed fields... */
        return LATCH_ERR_BAD_CERTIFICATE;
    }
}

/* RFC 2253 form of a name ("CN=localhost"). */
static void name_text(const X509_NAME *name, char *out, size_t out_len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int n = 0;
    if (bio != NULL && X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0)
        n = BIO_read(bio, out, (int)out_len - 1);
    out[n > 0 ? n : 0] = '\0';
    if (n <= 0)
        snprintf(out, out_len, "(empty name)");
    BIO_free(bio);
}

static void date_text(const ASN1_TIME *t, char *out, size_t out_len)
{
    struct tm tm;
    if (t != NULL && ASN1_TIME_to_tm(t, &tm))
        snprintf(out, out_len, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    else
        snprintf(out, out_len, "(bad date)");
}

/* "hostname mismatch: certificate for localhost does not cover example.com" */
static void name_mismatch_reason(const char *what, X509 *cert, const char *host, char *reason,
                                 size_t reason_len)
{
    size_t count = 0;
    char subject[256];
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int dns = 0;
    for (int i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++)
        dns += sk_GENERAL_NAME_value(sans, i)->type == GEN_DNS;
    GENERAL_NAMES_free(sans);
    if (dns == 0 && host != NULL && !latch_host_is_ip(host)) {
        name_text(X509_get_subject_name(cert), subject, sizeof subject);
        set_reason(reason, reason_len, "%s: certificate %s has no DNS name in subjectAltName "
                   "(its CN is not used, RFC 6125 6.4.4), so it does not cover %s", what,
                   subject, host);
        return;
    }
    char **names = latch_x509_names(cert, &count);
    if (names == NULL || count == 0)
        name_text(X509_get_subject_name(cert), subject, sizeof subject);
    set_reason(reason, reason_len, "%s: certificate for %s%s does not cover %s", what,
               count > 0 ? names[0] : subject, count > 1 ? " (and others)" : "",
               host != NULL ? host : "(none)");
    latch_x509_names_free(names, count);
}

static void failure_reason(X509_STORE_CTX *ctx, X509 *leaf, const char *host, char *reason,
                           size_t reason_len)
{
    int code = X509_STORE_CTX_get_error(ctx);
    int depth = X509_STORE_CTX_get_error_depth(ctx);
    const char *what = X509_verify_cert_error_string(code);
    X509 *cert = X509_STORE_CTX_get_current_cert(ctx);
    if (cert == NULL)
        cert = leaf, depth = 0;
    if (code == X509_V_ERR_HOSTNAME_MISMATCH || code == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        name_mismatch_reason(what, cert, host, reason, reason_len);
        return;
    }
    char subject[256], extra[300] = "";
    name_text(X509_get_subject_name(cert), subject, sizeof subject);
    if (code == X509_V_ERR_CERT_HAS_EXPIRED || code == X509_V_ERR_CERT_NOT_YET_VALID) {
        int expired = code == X509_V_ERR_CERT_HAS_EXPIRED;
        char date[32];
        date_text(expired ? X509_get0_notAfter(cert) : X509_get0_notBefore(cert), date,
                  sizeof date);
        snprintf(extra, sizeof extra, ", not %s %s", expired ? "after" : "before", date);
    } else if (map_verify_error(code) == LATCH_ERR_UNKNOWN_CA) {
        char issuer[256];
        name_text(X509_get_issuer_name(cert), issuer, sizeof issuer);
        snprintf(extra, sizeof extra, ", issuer %s", issuer);
    }
    set_reason(reason, reason_len, "%s: %s (depth %d)%s", what, subject, depth, extra);
}

static void key_text(X509 *cert, char *out, size_t out_len)
{
    EVP_PKEY *key = X509_get0_pubkey(cert);
    char group[64] = "";
    size_t n = 0;
    if (key == NULL) {
        snprintf(out, out_len, "unknown key");
        return;
    }
    if (EVP_PKEY_is_a(key, "EC") &&
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &n))
        snprintf(out, out_len, "EC %s", group);
    else
        snprintf(out, out_len, "%s %d", EVP_PKEY_get0_type_name(key), EVP_PKEY_get_bits(key));
}

static void fill_report(X509_STORE_CTX *ctx, latch_verify_report *report)
{
    STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
    int n = chain ? sk_X509_num(chain) : 0;
    report->path_len = 0;
    for (int i = 0; i < n && report->path_len < LATCH_MAX_VERIFY_PATH; i++) {
        X509 *cert = sk_X509_value(chain, i);
        latch_verify_step *step = &report->path[report->path_len++];
        name_text(X509_get_subject_name(cert), step->subject, sizeof step->subject);
        name_text(X509_get_issuer_name(cert), step->issuer, sizeof step->issuer);
        date_text(X509_get0_notAfter(cert), step->not_after, sizeof step->not_after);
        key_text(cert, step->key, sizeof step->key);
    }
}

static latch_error run_verify(X509_STORE *store, X509 *leaf, STACK_OF(X509) *untrusted,
                              const latch_verify_options *options,
                              latch_verify_report *report, char *reason, size_t reason_len)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (ctx == NULL || !X509_STORE_CTX_init(ctx, store, leaf, untrusted)) {
        X509_STORE_CTX_free(ctx);
        set_reason(reason, reason_len, "cannot start verification: %s", crypto_reason());
        return LATCH_ERR_INTERNAL;
    }
    const char *host = options->host;
    latch_error err = set_params(ctx, options, reason, reason_len);
    if (err == LATCH_OK && X509_verify_cert(ctx) != 1) {
        int code = X509_STORE_CTX_get_error(ctx);
        err = code == X509_V_OK ? LATCH_ERR_INTERNAL : map_verify_error(code);
        if (code == X509_V_OK)
            set_reason(reason, reason_len, "verification failed: %s", crypto_reason());
        else
            failure_reason(ctx, leaf, host, reason, reason_len);
    }
    if (err == LATCH_OK)
        err = latch_strict_checks(X509_STORE_CTX_get0_chain(ctx), options, reason, reason_len);
    if (err == LATCH_OK && report != NULL)
        fill_report(ctx, report);
    X509_STORE_CTX_free(ctx);
    return err;
}

latch_error latch_verify_chain(X509_STORE *store, const uint8_t *const *der,
                               const size_t *der_len, size_t count, const char *host,
                               int64_t when, EVP_PKEY **leaf_key, char *reason,
                               size_t reason_len)
{
    latch_verify_options options = {LATCH_PURPOSE_SERVER, host, when, 0, 0};
    return latch_verify_chain_for(store, &options, der, der_len, count, leaf_key, NULL, reason,
                                  reason_len);
}

latch_error latch_verify_chain_for(X509_STORE *store, const latch_verify_options *options,
                                   const uint8_t *const *der, const size_t *der_len,
                                   size_t count, EVP_PKEY **leaf_key,
                                   latch_verify_report *report, char *reason,
                                   size_t reason_len)
{
    if (leaf_key != NULL)
        *leaf_key = NULL;
    if (count == 0 || der == NULL || der_len == NULL) {
        set_reason(reason, reason_len, "peer sent no certificate");
        return LATCH_ERR_BAD_CERTIFICATE;
    }
    if (store == NULL) {
        set_reason(reason, reason_len, "no trust store to verify the peer against");
        return LATCH_ERR_INTERNAL;
    }
    X509 *leaf;
    STACK_OF(X509) *untrusted;
    latch_error err = decode_chain(der, der_len, count, &leaf, &untrusted, reason, reason_len);
    if (err == LATCH_OK)
        err = run_verify(store, leaf, untrusted, options, report, reason, reason_len);
    if (err == LATCH_OK && leaf_key != NULL && (*leaf_key = X509_get_pubkey(leaf)) == NULL) {
        set_reason(reason, reason_len, "cannot decode the leaf public key: %s", crypto_reason());
        err = LATCH_ERR_BAD_CERTIFICATE;
    }
    X509_free(leaf);
    sk_X509_pop_free(untrusted, X509_free);
    ERR_clear_error();
    return err;
}

EVP_PKEY *latch_leaf_public_key(const uint8_t *der, size_t der_len)
{
    X509 *cert = decode_cert(der, der_len);
    EVP_PKEY *key = cert != NULL ? X509_get_pubkey(cert) : NULL;
    X509_free(cert);
    ERR_clear_error();
    return key;
}
