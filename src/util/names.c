/* IANA names for numbers that appear on the wire. */
#include <stddef.h>

#include "crypto/crypto.h"
#include "latch/latch.h"

const char *latch_signature_scheme_name(uint16_t scheme)
{
    switch (scheme) {
    case LATCH_SIG_RSA_PKCS1_SHA256: return "rsa_pkcs1_sha256";
    case LATCH_SIG_RSA_PKCS1_SHA384: return "rsa_pkcs1_sha384";
    case LATCH_SIG_RSA_PKCS1_SHA512: return "rsa_pkcs1_sha512";
    case LATCH_SIG_ECDSA_SECP256R1_SHA256: return "ecdsa_secp256r1_sha256";
    case LATCH_SIG_ECDSA_SECP384R1_SHA384: return "ecdsa_secp384r1_sha384";
    case LATCH_SIG_RSA_PSS_RSAE_SHA256: return "rsa_pss_rsae_sha256";
    case LATCH_SIG_RSA_PSS_RSAE_SHA384: return "rsa_pss_rsae_sha384";
    case LATCH_SIG_RSA_PSS_RSAE_SHA512: return "rsa_pss_rsae_sha512";
    case LATCH_SIG_ED25519: return "ed25519";
    case 0x0201: return "rsa_pkcs1_sha1";
    case 0x0203: return "ecdsa_sha1";
    default: return "unknown";
    }
}

const char *latch_handshake_type_name(uint8_t type)
{
    switch (type) {
    case 0: return "HelloRequest";
    case 1: return "ClientHello";
    case 2: return "ServerHello";
    case 4: return "NewSessionTicket";
    case 5: return "EndOfEarlyData";
    case 8: return "EncryptedExtensions";
    case 11: return "Certificate";
    case 12: return "ServerKeyExchange";
    case 13: return "CertificateRequest";
    case 14: return "ServerHelloDone";
    case 15: return "CertificateVerify";
    case 16: return "ClientKeyExchange";
    case 20: return "Finished";
    case 24: return "KeyUpdate";
    case 254: return "MessageHash";
    default: return "unknown";
    }
}

const char *latch_content_type_name(uint8_t type)
{
    switch (type) {
    case 20: return "change_cipher_spec";
    case 21: return "alert";
    case 22: return "handshake";
    case 23: return "application_data";
    case 24: return "heartbeat";
    default: return "unknown";
    }
}
