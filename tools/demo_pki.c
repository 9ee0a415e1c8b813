/* latch demo: a throwaway PKI made with libcrypto (no openssl command): a
 * P-256 CA valid for a day and a P-256 server certificate for localhost
 * and 127.0.0.1 under it, written as PEM files (keys mode 0600). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "demo.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

enum { VALID_SECONDS = 86400, BACKDATE_SECONDS = 3600 };

/* A positive random serial of 16 bytes (RFC 5280 4.1.2.2: at most 20). */
static int set_serial(X509 *certificate)
{
    BIGNUM *number = BN_new();
    int ok = number != NULL && BN_rand(number, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1 &&
             BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != NULL;
    BN_free(number);
    return ok ? 0 : -1;
}

static int add_extension(X509 *certificate, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX context;
    X509V3_set_ctx(&context, issuer, certificate, NULL, NULL, 0);
    X509_EXTENSION *extension = X509V3_EXT_conf_nid(NULL, &context, nid, value);
    int ok = extension != NULL && X509_add_ext(certificate, extension, -1) == 1;
    X509_EXTENSION_free(extension);
    return ok ? 0 : -1;
}

/* Version 3, serial, validity (an hour back, a day on), names, key. */
static X509 *new_certificate(const char *common_name, const X509 *issuer, EVP_PKEY *key)
{
    X509 *certificate = X509_new();
    if (certificate == NULL)
        return NULL;
    X509_NAME *name = X509_get_subject_name(certificate);
    int ok = X509_set_version(certificate, X509_VERSION_3) == 1 && set_serial(certificate) == 0 &&
             X509_gmtime_adj(X509_getm_notBefore(certificate), -BACKDATE_SECONDS) != NULL &&
             X509_gmtime_adj(X509_getm_notAfter(certificate), VALID_SECONDS) != NULL &&
             X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                        (const unsigned char *)"latch demo (throwaway)", -1, -1,
                                        0) == 1 &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                        (const unsigned char *)common_name, -1, -1, 0) == 1 &&
             X509_set_issuer_name(certificate, issuer != NULL ? X509_get_subject_name(issuer)
                                                              : name) == 1 &&
             X509_set_pubkey(certificate, key) == 1;
    if (!ok) {
        X509_free(certificate);
        return NULL;
    }
    return certificate;
}

static X509 *make_ca(EVP_PKEY *key)
{
    X509 *ca = new_certificate("latch demo CA", NULL, key);
    if (ca == NULL)
        return NULL;
    if (add_extension(ca, ca, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") != 0 ||
        add_extension(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
        add_extension(ca, ca, NID_subject_key_identifier, "hash") != 0 ||
        add_extension(ca, ca, NID_authority_key_identifier, "keyid:always") != 0 ||
        X509_sign(ca, key, EVP_sha256()) == 0) {
        X509_free(ca);
        return NULL;
    }
    return ca;
}

static X509 *make_server(EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key)
{
    X509 *server = new_certificate("localhost", ca, key);
    if (server == NULL)
        return NULL;
    if (add_extension(server, ca, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
        add_extension(server, ca, NID_key_usage, "critical,digitalSignature") != 0 ||
        add_extension(server, ca, NID_ext_key_usage, "serverAuth") != 0 ||
        add_extension(server, ca, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") != 0 ||
        add_extension(server, ca, NID_subject_key_identifier, "hash") != 0 ||
        add_extension(server, ca, NID_authority_key_identifier, "keyid:always") != 0 ||
        X509_sign(server, ca_key, EVP_sha256()) == 0) {
        X509_free(server);
        return NULL;
    }
    return server;
}

/* A new file (mode) holding what write puts into it. */
static int write_pem(const char *path, mode_t mode, const X509 *certificate, EVP_PKEY *key)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (out == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int ok = certificate != NULL ? PEM_write_X509(out, certificate) == 1
                                 : PEM_write_PrivateKey(out, key, NULL, NULL, 0, NULL, NULL) == 1;
    return fclose(out) == 0 && ok ? 0 : -1;
}

int demo_make_pki(const struct demo_files *files)
{
    EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *server_key = EVP_EC_gen("P-256");
    X509 *ca = ca_key != NULL ? make_ca(ca_key) : NULL;
    X509 *server = ca != NULL && server_key != NULL ? make_server(server_key, ca, ca_key) : NULL;
    int status = server != NULL && write_pem(files->ca, 0644, ca, NULL) == 0 &&
                         write_pem(files->cert, 0644, server, NULL) == 0 &&
                         write_pem(files->key, 0600, NULL, server_key) == 0
                     ? 0
                     : -1;
    X509_free(server);
    X509_free(ca);
    EVP_PKEY_free(server_key);
    EVP_PKEY_free(ca_key);
    return status;
}
