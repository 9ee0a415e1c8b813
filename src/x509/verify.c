/*
 * Trust stores and peer chain verification (X509_verify_cert).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <limits.h>
#include <openssl/buffer.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util/cursor.h"
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

/* ---- the system store, lazily ---------------------------------------
 *
 * X509_STORE_set_default_paths parses every certificate of the default
 * bundle (SSL_CERT_FILE, else /usr/lib/ssl/cert.pem), about 0.6 ms each with
 * OpenSSL 3.0 because each public key goes through the decoders: most of a
 * one-shot client's time.  Instead the store gets
 *   1. the default hashed directory (SSL_CERT_DIR, else /usr/lib/ssl/certs;
 *      c_rehash links), which opens only the files named after the issuer's
 *      subject hash, and
 *   2. the default bundle through a lookup that, on its first use, reads the
 *      file and indexes its PEM blocks by subject-name hash (base64 and a
 *      walk to the subject, no certificate parse), then decodes only the
 *      certificates whose subject is asked for.
 * A bundle with anything but plain CERTIFICATE blocks is loaded whole. */

typedef struct bundle_entry {
    unsigned long hash;         /* X509_NAME_hash_ex of the subject */
    uint8_t *der;
    size_t len;
    int added;                  /* already in the store */
} bundle_entry;

typedef struct lazy_bundle {
    pthread_mutex_t lock;
    char *path;
    int indexed;
    bundle_entry *entries;
    size_t count;
} lazy_bundle;

/* One DER element (tag, definite length up to 3 bytes, value) read from c;
 * *value is a cursor over its contents, *whole over tag, length and value. */
static int der_element(cursor *c, uint8_t *tag, cursor *value, cursor *whole)
{
    const uint8_t *start = cursor_position(c), *bytes;
    size_t before = cursor_remaining(c);
    uint8_t first;
    size_t n;
    if (cursor_read_u8(c, tag) != 0 || cursor_read_u8(c, &first) != 0)
        return -1;
    n = first;
    if (first & 0x80) {
        size_t count = first & 0x7f;
        if (count == 0 || count > 3)
            return -1;
        for (n = 0; count > 0; count--) {
            uint8_t b;
            if (cursor_read_u8(c, &b) != 0)
                return -1;
            n = n << 8 | b;
        }
    }
    if (cursor_read_bytes(c, &bytes, n) != 0)
        return -1;
    cursor_init(value, bytes, n);
    if (whole != NULL)
        cursor_init(whole, start, before - cursor_remaining(c));
    return 0;
}

/* Certificate ::= SEQUENCE { tbs SEQUENCE { [0] version OPTIONAL, serial,
 * signature, issuer, validity, subject, ... } ... } (RFC 5280 4.1) */
static int der_subject(const uint8_t *der, size_t der_len, const uint8_t **name,
                       size_t *name_len)
{
    cursor all, certificate, tbs, field, value;
    uint8_t tag;
    cursor_init(&all, der, der_len);
    if (der_element(&all, &tag, &certificate, NULL) != 0 || tag != 0x30 ||
        der_element(&certificate, &tag, &tbs, NULL) != 0 || tag != 0x30)
        return -1;
    for (int i = 0; i < 6; i++) {
        if (der_element(&tbs, &tag, &value, &field) != 0)
            return -1;
        if (i == 0 && tag != 0xa0) /* no version: the serial came first */
            i++;
        if (i == 5) {
            if (tag != 0x30)
                return -1;
            *name = cursor_position(&field);
            *name_len = cursor_remaining(&field);
            return 0;
        }
    }
    return -1;
}

static unsigned long name_hash(const X509_NAME *name, int *ok)
{
    return X509_NAME_hash_ex(name, NULL, NULL, ok);
}

static int bundle_add(lazy_bundle *b, uint8_t *der, size_t len)
{
    const uint8_t *subject, *q;
    size_t subject_len;
    int ok = 0;
    if (der_subject(der, len, &subject, &subject_len) != 0)
        return -1;
    q = subject;
    X509_NAME *name = d2i_X509_NAME(NULL, &q, (long)subject_len);
    unsigned long hash = name != NULL ? name_hash(name, &ok) : 0;
    X509_NAME_free(name);
    if (!ok)
        return -1;
    bundle_entry *grown = realloc(b->entries, (b->count + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    b->entries = grown;
    b->entries[b->count++] = (bundle_entry){hash, der, len, 0};
    return 0;
}

/* Reads the bundle and indexes it; 1: indexed, 0: load it whole instead. */
static int bundle_index(lazy_bundle *b, X509_LOOKUP *lookup)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
    BIO *in = BIO_new_file(b->path, "rb");
    BUF_MEM *mem = NULL;
    char *text;
    if (in == NULL) /* no bundle: nothing to find, as set_default_paths */
        return 1;
    BIO *sink = BIO_new(BIO_s_mem());
    char chunk[16384];
    int n, whole = 0;
    while (sink != NULL && (n = BIO_read(in, chunk, sizeof chunk)) > 0)
        if (BIO_write(sink, chunk, n) != n)
            break;
    BIO_free(in);
    if (sink == NULL || BIO_write(sink, "", 1) != 1) { /* NUL-terminate */
        BIO_free(sink);
        return 0;
    }
    BIO_get_mem_ptr(sink, &mem);
    text = mem->data;
    if (strstr(text, "-----BEGIN TRUSTED CERTIFICATE") != NULL ||
        strstr(text, "-----BEGIN X509 CRL") != NULL)
        whole = 1;
    for (char *at = text; !whole && (at = strstr(at, begin)) != NULL;) {
        char *stop = strstr(at, end);
        if (stop == NULL)
            break;
        at += sizeof begin - 1;
        size_t b64_len = (size_t)(stop - at);
        uint8_t *der = malloc(b64_len / 4 * 3 + 3);
        EVP_ENCODE_CTX *dec = EVP_ENCODE_CTX_new();
        int out = 0, fin = 0;
        if (der == NULL || dec == NULL || b64_len > INT_MAX) {
            whole = 1;
        } else {
            EVP_DecodeInit(dec);
            if (EVP_DecodeUpdate(dec, der, &out, (const unsigned char *)at, (int)b64_len) < 0 ||
                EVP_DecodeFinal(dec, der + out, &fin) != 1 ||
                bundle_add(b, der, (size_t)(out + fin)) != 0)
                whole = 1;
            else
                der = NULL; /* the entry owns it */
        }
        EVP_ENCODE_CTX_free(dec);
        free(der);
        at = stop + sizeof end - 1;
    }
    BIO_free(sink);
    if (whole) /* let libcrypto parse it all, as before */
        (void)X509_load_cert_crl_file(lookup, b->path, X509_FILETYPE_PEM);
    return 1;
}

static int bundle_get_by_subject(X509_LOOKUP *lookup, X509_LOOKUP_TYPE type,
                                 const X509_NAME *name, X509_OBJECT *ret)
{
    lazy_bundle *b = X509_LOOKUP_get_method_data(lookup);
    X509_STORE *store = X509_LOOKUP_get_store(lookup);
    int ok = 0, found = 0;
    if (b == NULL || type != X509_LU_X509 || name == NULL)
        return 0;
    unsigned long hash = name_hash(name, &ok);
    if (!ok)
        return 0;
    pthread_mutex_lock(&b->lock);
    if (!b->indexed)
        b->indexed = bundle_index(b, lookup);
    for (size_t i = 0; i < b->count; i++) {
        bundle_entry *e = &b->entries[i];
        const unsigned char *p = e->der;
        X509 *cert;
        if (e->hash != hash || e->added ||
            (cert = d2i_X509(NULL, &p, (long)e->len)) == NULL)
            continue;
        if (X509_NAME_cmp(X509_get_subject_name(cert), name) == 0) {
            e->added = 1;
            found |= X509_STORE_add_cert(store, cert) == 1;
        }
        X509_free(cert);
    }
    pthread_mutex_unlock(&b->lock);
    if (!found)
        return 0;
    X509_STORE_lock(store);
    X509_OBJECT *obj = X509_OBJECT_retrieve_by_subject(X509_STORE_get0_objects(store),
                                                       X509_LU_X509, name);
    ok = obj != NULL && X509_OBJECT_set1_X509(ret, X509_OBJECT_get0_X509(obj)) == 1;
    X509_STORE_unlock(store);
    return ok;
}

static void bundle_free(X509_LOOKUP *lookup)
{
    lazy_bundle *b = X509_LOOKUP_get_method_data(lookup);
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->count; i++)
        free(b->entries[i].der);
    free(b->entries);
    free(b->path);
    pthread_mutex_destroy(&b->lock);
    free(b);
    X509_LOOKUP_set_method_data(lookup, NULL);
}

static X509_LOOKUP_METHOD *bundle_method;

static void bundle_method_make(void)
{
    X509_LOOKUP_METHOD *m = X509_LOOKUP_meth_new("latch lazy bundle");
    if (m == NULL || !X509_LOOKUP_meth_set_get_by_subject(m, bundle_get_by_subject) ||
        !X509_LOOKUP_meth_set_free(m, bundle_free)) {
        X509_LOOKUP_meth_free(m);
        return;
    }
    bundle_method = m;
}

static int add_lazy_bundle(X509_STORE *store, const char *path)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    lazy_bundle *b;
    X509_LOOKUP *lookup;
    pthread_once(&once, bundle_method_make);
    if (bundle_method == NULL || (b = calloc(1, sizeof *b)) == NULL)
        return 0;
    if ((b->path = strdup(path)) == NULL || pthread_mutex_init(&b->lock, NULL) != 0) {
        free(b->path);
        free(b);
        return 0;
    }
    if ((lookup = X509_STORE_add_lookup(store, bundle_method)) == NULL ||
        !X509_LOOKUP_set_method_data(lookup, b)) {
        pthread_mutex_destroy(&b->lock);
        free(b->path);
        free(b);
        return 0;
    }
    return 1;
}

/* The default directory, then the default bundle, both read on demand. */
static int set_lazy_default_paths(X509_STORE *store)
{
    const char *file = getenv(X509_get_default_cert_file_env());
    X509_LOOKUP *dir = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
    if (dir == NULL)
        return 0;
    (void)X509_LOOKUP_add_dir(dir, NULL, X509_FILETYPE_DEFAULT);
    return add_lazy_bundle(store, file != NULL ? file : X509_get_default_cert_file());
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
    if (ca_file == NULL && ca_path == NULL && !set_lazy_default_paths(store)) {
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
