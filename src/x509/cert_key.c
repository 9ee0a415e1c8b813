/*
 * Loading our own certificate chain and private key (PEM or DER).
 */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x509/x509.h"

#define MAX_FILE_SIZE (16u << 20)

static void set_reason(char *reason, size_t reason_len, const char *fmt, ...)
{
    if (reason == NULL || reason_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, reason_len, fmt, ap);
    va_end(ap);
}

/* Text of the most recent libcrypto error, for reasons. */
static const char *crypto_reason(void)
{
    const char *text = ERR_reason_error_string(ERR_peek_last_error());
    return text != NULL ? text : "malformed data";
}

/* Whole file into a malloc'd buffer; NULL with reason on failure. */
static unsigned char *read_file(const char *path, const char *what, size_t *len,
                                char *reason, size_t reason_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        set_reason(reason, reason_len, "cannot open %s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    unsigned char *buf = NULL;
    size_t used = 0, cap = 0;
    for (;;) {
        if (used == cap) {
            unsigned char *grown = cap < MAX_FILE_SIZE ? realloc(buf, cap + 65536) : NULL;
            if (grown == NULL)
                break;
            buf = grown;
            cap += 65536;
        }
        size_t n = fread(buf + used, 1, cap - used, f);
        used += n;
        if (n == 0)
            break;
    }
    int failed = ferror(f) || !feof(f);
    fclose(f);
    if (failed || used == 0) {
        set_reason(reason, reason_len, "cannot read %s %s: %s", what, path,
                   used == 0 && !failed ? "file is empty" : "read error or file too large");
        free(buf);
        return NULL;
    }
    *len = used;
    return buf;
}

static int is_pem(const unsigned char *buf, size_t len)
{
    static const char tag[] = "-----BEGIN ";
    for (size_t i = 0; i + sizeof tag - 1 <= len; i++) {
        if (memcmp(buf + i, tag, sizeof tag - 1) == 0)
            return 1;
    }
    return 0;
}

/* Every certificate of a PEM buffer, in order. */
static STACK_OF(X509) *parse_pem_certs(const unsigned char *buf, size_t len, const char *path,
                                       char *reason, size_t reason_len)
{
    BIO *bio = BIO_new_mem_buf(buf, (int)len);
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509 *cert;
    while (bio != NULL && chain != NULL && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        if (!sk_X509_push(chain, cert)) {
            X509_free(cert);
            break;
        }
    }
    unsigned long err = ERR_peek_last_error();
    int at_end = ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE;
    BIO_free(bio);
    if (chain != NULL && at_end && sk_X509_num(chain) > 0)
        return chain;
    if (chain != NULL && at_end)
        set_reason(reason, reason_len, "no certificate found in %s", path);
    else
        set_reason(reason, reason_len, "malformed certificate in %s: %s", path, crypto_reason());
    sk_X509_pop_free(chain, X509_free);
    return NULL;
}

static STACK_OF(X509) *parse_der_cert(const unsigned char *buf, size_t len, const char *path,
                                      char *reason, size_t reason_len)
{
    const unsigned char *p = buf;
    X509 *cert = len <= 0x7fffffff ? d2i_X509(NULL, &p, (long)len) : NULL;
    STACK_OF(X509) *chain = cert != NULL ? sk_X509_new_null() : NULL;
    if (cert != NULL && p == buf + len && chain != NULL && sk_X509_push(chain, cert))
        return chain;
    set_reason(reason, reason_len, "malformed certificate in %s: %s", path,
               cert != NULL && p != buf + len ? "trailing data after DER certificate"
                                              : crypto_reason());
    X509_free(cert);
    sk_X509_free(chain);
    return NULL;
}

static STACK_OF(X509) *load_chain(const char *path, char *reason, size_t reason_len)
{
    size_t len;
    unsigned char *buf = read_file(path, "certificate file", &len, reason, reason_len);
    if (buf == NULL)
        return NULL;
    STACK_OF(X509) *chain = is_pem(buf, len)
                                ? parse_pem_certs(buf, len, path, reason, reason_len)
                                : parse_der_cert(buf, len, path, reason, reason_len);
    free(buf);
    return chain;
}

/* Never prompt on a terminal: encrypted keys are refused. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

static EVP_PKEY *load_key(const char *path, char *reason, size_t reason_len)
{
    size_t len;
    unsigned char *buf = read_file(path, "private key file", &len, reason, reason_len);
    if (buf == NULL)
        return NULL;
    EVP_PKEY *key = NULL;
    if (is_pem(buf, len)) {
        BIO *bio = BIO_new_mem_buf(buf, (int)len);
        key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL) : NULL;
        BIO_free(bio);
    } else if (len <= 0x7fffffff) {
        const unsigned char *p = buf;
        key = d2i_AutoPrivateKey(NULL, &p, (long)len);
    }
    if (key == NULL)
        set_reason(reason, reason_len, "cannot parse private key %s: %s", path, crypto_reason());
    OPENSSL_cleanse(buf, len);
    free(buf);
    return key;
}

static int ec_curve_nid(EVP_PKEY *key)
{
    char group[80];
    if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                        NULL))
        return NID_undef;
    int nid = OBJ_sn2nid(group);
    if (nid == NID_undef)
        nid = EC_curve_nist2nid(group);
    if (nid == NID_undef)
        nid = OBJ_txt2nid(group);
    return nid;
}

/* DER of each chain entry, key facts and names. */
static int fill_details(latch_cert_key *ck)
{
    ck->count = (size_t)sk_X509_num(ck->chain);
    ck->der = calloc(ck->count, sizeof *ck->der);
    ck->der_len = calloc(ck->count, sizeof *ck->der_len);
    if (ck->der == NULL || ck->der_len == NULL)
        return 0;
    for (size_t i = 0; i < ck->count; i++) {
        int n = i2d_X509(sk_X509_value(ck->chain, (int)i), &ck->der[i]);
        if (n <= 0)
            return 0;
        ck->der_len[i] = (size_t)n;
    }
    if (ck->key == NULL) /* certificates only */
        return 1;
    ck->key_type = EVP_PKEY_get_base_id(ck->key);
    ck->key_bits = EVP_PKEY_get_bits(ck->key);
    ck->ec_curve_nid = ck->key_type == EVP_PKEY_EC ? ec_curve_nid(ck->key) : NID_undef;
    ck->names = latch_x509_names(sk_X509_value(ck->chain, 0), &ck->name_count);
    return ck->names != NULL;
}

latch_cert_key *latch_cert_key_load(const char *cert_file, const char *key_file,
                                    char *reason, size_t reason_len)
{
    if (cert_file == NULL || key_file == NULL) {
        set_reason(reason, reason_len, "certificate and key files are both required");
        return NULL;
    }
    latch_cert_key *ck = calloc(1, sizeof *ck);
    if (ck == NULL) {
        set_reason(reason, reason_len, "out of memory");
        return NULL;
    }
    ERR_clear_error();
    ck->chain = load_chain(cert_file, reason, reason_len);
    ck->key = ck->chain != NULL ? load_key(key_file, reason, reason_len) : NULL;
    if (ck->key == NULL)
        goto fail;
    if (X509_check_private_key(sk_X509_value(ck->chain, 0), ck->key) != 1) {
        set_reason(reason, reason_len, "private key %s does not match certificate %s",
                   key_file, cert_file);
        goto fail;
    }
    if (!fill_details(ck)) {
        set_reason(reason, reason_len, "out of memory loading %s", cert_file);
        goto fail;
    }
    ERR_clear_error();
    return ck;
fail:
    ERR_clear_error();
    latch_cert_key_free(ck);
    return NULL;
}

latch_cert_key *latch_certificates_load(const char *cert_file, char *reason, size_t reason_len)
{
    latch_cert_key *ck = calloc(1, sizeof *ck);
    if (ck == NULL) {
        set_reason(reason, reason_len, "out of memory");
        return NULL;
    }
    ERR_clear_error();
    ck->chain = load_chain(cert_file, reason, reason_len);
    if (ck->chain == NULL || !fill_details(ck)) {
        if (ck->chain != NULL)
            set_reason(reason, reason_len, "out of memory loading %s", cert_file);
        ERR_clear_error();
        latch_cert_key_free(ck);
        return NULL;
    }
    ERR_clear_error();
    return ck;
}

void latch_cert_key_free(latch_cert_key *ck)
{
    if (ck == NULL)
        return;
    sk_X509_pop_free(ck->chain, X509_free);
    for (size_t i = 0; ck->der != NULL && i < ck->count; i++)
        OPENSSL_free(ck->der[i]);
    free(ck->der);
    free(ck->der_len);
    EVP_PKEY_free(ck->key);
    latch_x509_names_free(ck->names, ck->name_count);
    free(ck);
}

int latch_cert_key_matches_name(const latch_cert_key *ck, const char *host)
{
    return host != NULL && latch_cert_key_matches_host(ck, host, latch_host_is_ip(host));
}

int latch_cert_key_matches_host(const latch_cert_key *ck, const char *host, int host_is_ip)
{
    if (ck == NULL || host == NULL)
        return 0;
    if (host_is_ip) {
        int ok = X509_check_ip_asc(sk_X509_value(ck->chain, 0), host, 0) == 1;
        ERR_clear_error();
        return ok;
    }
    for (size_t i = 0; i < ck->name_count; i++) {
        if (latch_name_matches_pattern(ck->names[i], host))
            return 1;
    }
    return 0;
}
