/* RSA key exchange (RFC 5246 7.4.7.1): the client encrypts the pre-master
 * secret with RSAES-PKCS1-v1_5; the server decrypts with libcrypto's
 * TLS-aware implicit rejection, so that a bad padding, a wrong length or a
 * wrong version yields a random pre-master secret, with no early exit and
 * no error path that differs (Bleichenbacher, ROBOT). */
#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include "crypto/crypto.h"

int latch_rsa_encrypt_premaster(EVP_PKEY *server_key, const uint8_t premaster[48],
                                uint8_t *out, size_t *out_len)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, server_key, NULL);
    size_t len = 0;
    int ok = ctx != NULL && EVP_PKEY_encrypt_init(ctx) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
             EVP_PKEY_encrypt(ctx, NULL, &len, premaster, 48) == 1 &&
             len <= LATCH_MAX_SIGNATURE && EVP_PKEY_encrypt(ctx, out, &len, premaster, 48) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok)
        return -1;
    *out_len = len;
    return 0;
}

/* Always fills premaster with 48 bytes: the real one or, on any fault,
 * random ones (libcrypto's RSA_PKCS1_WITH_TLS_PADDING does the selection
 * in constant time; a failure of the call itself falls back to `fallback`). */
void latch_rsa_decrypt_premaster(EVP_PKEY *server_key, const uint8_t *in, size_t in_len,
                                 uint16_t client_version, const uint8_t fallback[48],
                                 uint8_t premaster[48])
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, server_key, NULL);
    unsigned int version = client_version, negotiated = 0x0303;
    OSSL_PARAM params[3];
    size_t len = 48;
    params[0] = OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_TLS_CLIENT_VERSION, &version);
    params[1] = OSSL_PARAM_construct_uint(OSSL_ASYM_CIPHER_PARAM_TLS_NEGOTIATED_VERSION,
                                          &negotiated);
    params[2] = OSSL_PARAM_construct_end();
    int ok = ctx != NULL && EVP_PKEY_decrypt_init(ctx) == 1 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_WITH_TLS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_params(ctx, params) == 1 &&
             EVP_PKEY_decrypt(ctx, premaster, &len, in, in_len) == 1 && len == 48;
    EVP_PKEY_CTX_free(ctx);
    /* branch-free copy of the fallback when the call itself failed */
    uint8_t mask = (uint8_t)(0u - (unsigned)!ok);
    for (size_t i = 0; i < 48; i++)
        premaster[i] = (uint8_t)((premaster[i] & ~mask) | (fallback[i] & mask));
}
