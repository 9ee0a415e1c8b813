/*
 * The TLS 1.2 handshake, as a table (RFC 5246 7.3, figure 1):
 *
 *   Client                                   Server
 *   ClientHello            -------->
 *                                            ServerHello
 *                                            Certificate
 *                                            ServerKeyExchange
 *                                            [CertificateRequest]
 *                          <--------         ServerHelloDone
 *   [Certificate]
 *   ClientKeyExchange
 *   [CertificateVerify]
 *   [ChangeCipherSpec]
 *   Finished               -------->
 *                                            [NewSessionTicket]
 *                                            [ChangeCipherSpec]
 *                          <--------         Finished
 *   Application Data       <------->         Application Data
 */
#include "handshake/handshake.h"

#define HANDSHAKE CONTENT_HANDSHAKE
#define CCS CONTENT_CHANGE_CIPHER_SPEC

static const message_row client_hello = {
    "ClientHello", HANDSHAKE, HANDSHAKE_CLIENT_HELLO, SENT_BY_CLIENT, 0,
    client_hello_write, client_hello_read, NULL, NULL};
static const message_row server_hello = {
    "ServerHello", HANDSHAKE, HANDSHAKE_SERVER_HELLO, SENT_BY_SERVER, 0,
    server_hello_write, server_hello_read, NULL, NULL};
static const message_row server_certificate = {
    "Certificate", HANDSHAKE, HANDSHAKE_CERTIFICATE, SENT_BY_SERVER, 0,
    server_certificate_write, server_certificate_read, NULL, NULL};
static const message_row server_key_exchange = {
    "ServerKeyExchange", HANDSHAKE, HANDSHAKE_SERVER_KEY_EXCHANGE, SENT_BY_SERVER, 0,
    server_key_exchange_write, server_key_exchange_read, NULL, server_key_exchange_present};
static const message_row server_hello_done = {
    "ServerHelloDone", HANDSHAKE, HANDSHAKE_SERVER_HELLO_DONE, SENT_BY_SERVER, 0,
    server_hello_done_write, server_hello_done_read, NULL, NULL};
static const message_row certificate_request = {
    "CertificateRequest", HANDSHAKE, HANDSHAKE_CERTIFICATE_REQUEST, SENT_BY_SERVER, 0,
    certificate_request12_write, certificate_request12_read, NULL, certificate_request_present};
static const message_row client_certificate = {
    "Certificate", HANDSHAKE, HANDSHAKE_CERTIFICATE, SENT_BY_CLIENT, 0,
    client_certificate12_write, client_certificate12_read, NULL, client_certificate_present};
static const message_row client_key_exchange = {
    "ClientKeyExchange", HANDSHAKE, HANDSHAKE_CLIENT_KEY_EXCHANGE, SENT_BY_CLIENT, 0,
    client_key_exchange_write, client_key_exchange_read, client_key_exchange_after_write, NULL};
static const message_row client_certificate_verify = {
    "CertificateVerify", HANDSHAKE, HANDSHAKE_CERTIFICATE_VERIFY, SENT_BY_CLIENT,
    ROW_NEEDS_PRIOR_HASH, client_certificate_verify12_write, client_certificate_verify12_read,
    NULL, client_certificate_verify_present};
static const message_row client_change_cipher_spec = {
    "ChangeCipherSpec", CCS, 0, SENT_BY_CLIENT, 0,
    change_cipher_spec_prepare, change_cipher_spec_read, NULL, NULL};
static const message_row client_finished = {
    "Finished", HANDSHAKE, HANDSHAKE_FINISHED, SENT_BY_CLIENT, ROW_NEEDS_PRIOR_HASH,
    finished_write, finished_read, NULL, NULL};
static const message_row new_session_ticket = {
    "NewSessionTicket", HANDSHAKE, HANDSHAKE_NEW_SESSION_TICKET, SENT_BY_SERVER, 0,
    new_session_ticket12_write, new_session_ticket12_read, NULL, new_session_ticket_present};
static const message_row server_change_cipher_spec = {
    "ChangeCipherSpec", CCS, 0, SENT_BY_SERVER, 0,
    change_cipher_spec_prepare, change_cipher_spec_read, NULL, NULL};
static const message_row server_finished = {
    "Finished", HANDSHAKE, HANDSHAKE_FINISHED, SENT_BY_SERVER,
    ROW_NEEDS_PRIOR_HASH | ROW_END, finished_write, finished_read, NULL, NULL};

static const message_row *const full_steps[] = {
    &client_hello,        &server_hello,    &server_certificate,
    &server_key_exchange, &certificate_request, &server_hello_done,
    &client_certificate,  &client_key_exchange, &client_certificate_verify,
    &client_change_cipher_spec, &client_finished, &new_session_ticket,
    &server_change_cipher_spec, &server_finished,
};

/* Abbreviated handshake (RFC 5246 7.3, figure 2; RFC 5077 3.1): the server
 * finishes first. */
static const message_row resumed_server_finished = {
    "Finished", HANDSHAKE, HANDSHAKE_FINISHED, SENT_BY_SERVER, ROW_NEEDS_PRIOR_HASH,
    finished_write, finished_read, NULL, NULL};
static const message_row resumed_client_finished = {
    "Finished", HANDSHAKE, HANDSHAKE_FINISHED, SENT_BY_CLIENT, ROW_NEEDS_PRIOR_HASH | ROW_END,
    finished_write, finished_read, NULL, NULL};

static const message_row *const resumed_steps[] = {
    &client_hello, &server_hello, &new_session_ticket, &server_change_cipher_spec,
    &resumed_server_finished, &client_change_cipher_spec, &resumed_client_finished,
};

const handshake_flow tls12_resumed_handshake = {
    "TLS 1.2 abbreviated handshake (resumed)", resumed_steps,
    sizeof resumed_steps / sizeof resumed_steps[0]};

const handshake_flow tls12_full_handshake = {
    "TLS 1.2 full handshake (ECDHE)", full_steps, sizeof full_steps / sizeof full_steps[0]};
