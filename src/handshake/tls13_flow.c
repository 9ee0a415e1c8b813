/*
 * The TLS 1.3 handshakes, as tables (RFC 8446 2, figures 1 and 2):
 *
 *   Client                                   Server
 *   ClientHello + key_share   -------->
 *                                            ServerHello + key_share
 *                                            {EncryptedExtensions}
 *                                            [{CertificateRequest}]
 *                                            {Certificate}
 *                                            {CertificateVerify}
 *                             <--------      {Finished}
 *   [{Certificate}, {CertificateVerify}]
 *   {Finished}                -------->
 *   [Application Data]        <------->      [Application Data]
 *
 * With a HelloRetryRequest the server first asks for a share of another
 * group, and the client sends a second ClientHello.  The ChangeCipherSpec
 * rows are RFC 8446 D.4 middlebox compatibility: sent, never awaited.
 */
#include "handshake/handshake.h"

#define HANDSHAKE CONTENT_HANDSHAKE
#define CCS CONTENT_CHANGE_CIPHER_SPEC

static const message_row client_hello = {
    "ClientHello", HANDSHAKE, HANDSHAKE_CLIENT_HELLO, SENT_BY_CLIENT, 0,
    client_hello_write, client_hello_read, NULL, NULL};
static const message_row hello_retry_request = {
    "HelloRetryRequest", HANDSHAKE, HANDSHAKE_SERVER_HELLO, SENT_BY_SERVER, 0,
    hello_retry_request_write, server_hello_read, NULL, NULL};
static const message_row server_hello = {
    "ServerHello", HANDSHAKE, HANDSHAKE_SERVER_HELLO, SENT_BY_SERVER, 0,
    server_hello13_write, server_hello_read, server_hello13_after_write, NULL};
static const message_row server_compat_ccs = {
    "ChangeCipherSpec", CCS, 0, SENT_BY_SERVER, ROW_COMPAT_CCS,
    compat_change_cipher_spec_write, NULL, NULL, NULL};
static const message_row client_compat_ccs = {
    "ChangeCipherSpec", CCS, 0, SENT_BY_CLIENT, ROW_COMPAT_CCS,
    compat_change_cipher_spec_write, NULL, NULL, NULL};
static const message_row encrypted_extensions = {
    "EncryptedExtensions", HANDSHAKE, HANDSHAKE_ENCRYPTED_EXTENSIONS, SENT_BY_SERVER, 0,
    encrypted_extensions_write, encrypted_extensions_read, NULL, NULL};
static const message_row certificate_request = {
    "CertificateRequest", HANDSHAKE, HANDSHAKE_CERTIFICATE_REQUEST, SENT_BY_SERVER, 0,
    certificate_request13_write, certificate_request13_read, NULL, certificate_request_present};
static const message_row client_certificate = {
    "Certificate", HANDSHAKE, HANDSHAKE_CERTIFICATE, SENT_BY_CLIENT, 0,
    client_certificate13_write, client_certificate13_read, NULL, client_certificate_present};
static const message_row client_certificate_verify = {
    "CertificateVerify", HANDSHAKE, HANDSHAKE_CERTIFICATE_VERIFY, SENT_BY_CLIENT,
    ROW_NEEDS_PRIOR_HASH, client_certificate_verify13_write, client_certificate_verify13_read,
    NULL, client_certificate_verify_present};
static const message_row server_certificate = {
    "Certificate", HANDSHAKE, HANDSHAKE_CERTIFICATE, SENT_BY_SERVER, 0,
    certificate13_write, certificate13_read, NULL, NULL};
static const message_row server_certificate_verify = {
    "CertificateVerify", HANDSHAKE, HANDSHAKE_CERTIFICATE_VERIFY, SENT_BY_SERVER,
    ROW_NEEDS_PRIOR_HASH, certificate_verify_write, certificate_verify_read, NULL, NULL};
static const message_row server_finished = {
    "Finished", HANDSHAKE, HANDSHAKE_FINISHED, SENT_BY_SERVER, ROW_NEEDS_PRIOR_HASH,
    finished13_write, finished13_read, finished13_after_write, NULL};
static const message_row client_finished = {
    "Finished", HANDSHAKE, HANDSHAKE_FINISHED, SENT_BY_CLIENT, ROW_NEEDS_PRIOR_HASH | ROW_END,
    finished13_write, finished13_read, finished13_after_write, NULL};

static const message_row *const full_steps[] = {
    &client_hello,         &server_hello,       &server_compat_ccs,
    &encrypted_extensions, &certificate_request, &server_certificate,
    &server_certificate_verify, &server_finished, &client_compat_ccs,
    &client_certificate,   &client_certificate_verify, &client_finished,
};

static const message_row *const hello_retry_steps[] = {
    &client_hello,       &hello_retry_request, &server_compat_ccs,
    &client_compat_ccs,  &client_hello,        &server_hello,
    &encrypted_extensions, &certificate_request, &server_certificate,
    &server_certificate_verify, &server_finished, &client_certificate,
    &client_certificate_verify, &client_finished,
};

/* Resumption with a ticket's PSK and a fresh (EC)DHE share (psk_dhe_ke):
 * no certificates. */
static const message_row *const psk_steps[] = {
    &client_hello,    &server_hello,      &server_compat_ccs, &encrypted_extensions,
    &server_finished, &client_compat_ccs, &client_finished,
};

const handshake_flow tls13_psk_handshake = {
    "TLS 1.3 resumed handshake (PSK with ECDHE)", psk_steps,
    sizeof psk_steps / sizeof psk_steps[0]};

const handshake_flow tls13_full_handshake = {
    "TLS 1.3 full handshake", full_steps, sizeof full_steps / sizeof full_steps[0]};
const handshake_flow tls13_hello_retry_handshake = {
    "TLS 1.3 handshake with HelloRetryRequest", hello_retry_steps,
    sizeof hello_retry_steps / sizeof hello_retry_steps[0]};
