/*
 * Handshakes as data.  A handshake_flow is the sequence of messages of one
 * handshake kind; each message row says who sends it and how it is written
 * and read.  handshake_walker.c is the only place that compares the message
 * that arrived with the one expected (and raises unexpected_message).
 */
#ifndef LATCH_HANDSHAKE_H
#define LATCH_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/internal.h"
#include "util/cursor.h"

enum handshake_type {
    HANDSHAKE_HELLO_REQUEST = 0,
    HANDSHAKE_CLIENT_HELLO = 1,
    HANDSHAKE_SERVER_HELLO = 2,
    HANDSHAKE_NEW_SESSION_TICKET = 4,
    HANDSHAKE_ENCRYPTED_EXTENSIONS = 8,
    HANDSHAKE_CERTIFICATE = 11,
    HANDSHAKE_SERVER_KEY_EXCHANGE = 12,
    HANDSHAKE_CERTIFICATE_REQUEST = 13,
    HANDSHAKE_SERVER_HELLO_DONE = 14,
    HANDSHAKE_CERTIFICATE_VERIFY = 15,
    HANDSHAKE_CLIENT_KEY_EXCHANGE = 16,
    HANDSHAKE_FINISHED = 20,
    HANDSHAKE_KEY_UPDATE = 24,
    HANDSHAKE_MESSAGE_HASH = 254
};

enum message_sender { SENT_BY_CLIENT = 1, SENT_BY_SERVER = 2 };

#define ROW_NEEDS_PRIOR_HASH 0x01 /* recv handler wants the transcript before this message */
#define ROW_END 0x02              /* handshake complete once this row is passed */
#define ROW_COMPAT_CCS 0x04       /* TLS 1.3 middlebox CCS: sent if wanted, never awaited */

typedef struct message_row {
    const char *name;
    uint8_t content_type;   /* 22 handshake, 20 change_cipher_spec */
    uint8_t handshake_type; /* for content type 22 */
    uint8_t sender;
    uint8_t flags;
    /* write the message body (handshake) or prepare keys (CCS) */
    int (*write)(latch_conn *c, cursor *out);
    /* parse and act on a received message body */
    int (*read)(latch_conn *c, cursor *body);
    /* after our message is queued (and in the transcript): switch keys */
    int (*after_write)(latch_conn *c);
    /* NULL: always in the flow; else ROW_ABSENT, ROW_PRESENT or ROW_MAYBE (the
     * receiver cannot know: the row counts only if that message arrives) */
    int (*present)(const latch_conn *c);
} message_row;

enum { ROW_ABSENT = 0, ROW_PRESENT = 1, ROW_MAYBE = 2 };

typedef struct handshake_flow {
    const char *name;
    const message_row *const *steps;
    size_t count;
} handshake_flow;

/* ---- walker ---- */
int handshake_begin(latch_conn *c);
/* Send every message that is ours to send next. */
int handshake_drive(latch_conn *c);
/* A complete handshake message (with header) arrived. */
int handshake_receive_message(latch_conn *c, const uint8_t *msg, size_t len);
/* A ChangeCipherSpec arrived. */
int handshake_receive_change_cipher_spec(latch_conn *c);

/* ---- flows (tls12_flow.c, tls13_flow.c) ---- */
extern const handshake_flow tls12_full_handshake;
extern const handshake_flow tls13_full_handshake;
extern const handshake_flow tls13_hello_retry_handshake;
extern const handshake_flow tls12_resumed_handshake;
extern const handshake_flow tls13_psk_handshake;
/* Continue on another flow at the same step (after the hellos decide). */
void handshake_switch_flow(latch_conn *c, const handshake_flow *flow);
/* Messages after the handshake (KeyUpdate, NewSessionTicket, renegotiation). */
int handshake_post_message(latch_conn *c, const uint8_t *msg, size_t len);

/* ---- message handlers, one file per family ---- */
int client_hello_write(latch_conn *c, cursor *out);
int client_hello_read(latch_conn *c, cursor *body);
int server_hello_write(latch_conn *c, cursor *out);
int server_hello_read(latch_conn *c, cursor *body);
int server_certificate_write(latch_conn *c, cursor *out);
int server_certificate_read(latch_conn *c, cursor *body);
int server_key_exchange_present(const latch_conn *c);
int server_key_exchange_write(latch_conn *c, cursor *out);
int server_key_exchange_read(latch_conn *c, cursor *body);
int server_hello_done_write(latch_conn *c, cursor *out);
int server_hello_done_read(latch_conn *c, cursor *body);
int client_key_exchange_write(latch_conn *c, cursor *out);
int client_key_exchange_after_write(latch_conn *c);
int client_key_exchange_read(latch_conn *c, cursor *body);
int change_cipher_spec_prepare(latch_conn *c, cursor *out);
int change_cipher_spec_read(latch_conn *c, cursor *body);
int finished_write(latch_conn *c, cursor *out);
int finished_read(latch_conn *c, cursor *body);

int certificate_check_server_chain(latch_conn *c, const uint8_t *const *der,
                                   const size_t *len, size_t count);
/* Server: our certificate for this handshake.  usable() gives the signature
 * scheme a certificate would sign with here, 0 if it cannot serve; the first
 * usable one wins, those whose names cover the SNI first.  NULL if none. */
typedef uint16_t (*certificate_usable_fn)(const latch_conn *c, const latch_cert_key *ck,
                                          const void *arg);
const latch_cert_key *certificate_choose(const latch_conn *c, certificate_usable_fn usable,
                                         const void *arg, uint16_t *scheme);

/* ---- resumption (resumption.c) ---- */
int client_choose_session_id(latch_conn *c);
/* Client: the session offered for version, or NULL (none, another version,
 * or one whose server certificate was not verified while we verify). */
const latch_session *client_offered_session(const latch_conn *c, uint16_t version);
/* A resumed handshake: the peer identity kept in s becomes the connection's
 * (latch_conn_peer_subject).  0 or LATCH_ERR_INTERNAL. */
int resumption_restore_identity(latch_conn *c, const latch_session *s);
int client_session_ticket_write(latch_conn *c, cursor *out);
int client_check_resumed12(latch_conn *c, const uint8_t *id, size_t id_len);
int server_try_resume12(latch_conn *c, const uint8_t *client_id, size_t id_len);
int new_session_ticket_present(const latch_conn *c);
int new_session_ticket12_write(latch_conn *c, cursor *out);
int new_session_ticket12_read(latch_conn *c, cursor *body);
int new_session_ticket13_send(latch_conn *c);
int new_session_ticket13_read(latch_conn *c, cursor *body);
int client_psk_extensions_write(latch_conn *c, cursor *out);
int client_psk_binder_patch(latch_conn *c, cursor *out);
int server_try_psk13(latch_conn *c);
/* The handshake just completed: remember or issue the session. */
int handshake_complete(latch_conn *c);

/* ---- CertificateRequest and client certificates (client_auth.c) ---- */
int certificate_request_present(const latch_conn *c);
int client_certificate_present(const latch_conn *c);
int client_certificate_verify_present(const latch_conn *c);
int certificate_request12_write(latch_conn *c, cursor *out);
int certificate_request12_read(latch_conn *c, cursor *body);
int client_certificate12_write(latch_conn *c, cursor *out);
int client_certificate12_read(latch_conn *c, cursor *body);
int certificate_request13_write(latch_conn *c, cursor *out);
int certificate_request13_read(latch_conn *c, cursor *body);
int client_certificate13_write(latch_conn *c, cursor *out);
int client_certificate13_read(latch_conn *c, cursor *body);
int client_certificate_verify13_write(latch_conn *c, cursor *out);
int client_certificate_verify12_write(latch_conn *c, cursor *out);
int client_certificate_verify12_read(latch_conn *c, cursor *body);
int client_certificate_verify13_read(latch_conn *c, cursor *body);

/* ---- TLS 1.3 messages (hello13.c, certificate13.c, finished13.c) ---- */
int hello_retry_request_write(latch_conn *c, cursor *out);
int hello_retry_request_read(latch_conn *c, cursor *body);
int server_hello13_read(latch_conn *c, cursor *body);
int server_hello13_write(latch_conn *c, cursor *out);
int server_hello13_after_write(latch_conn *c);
int server_choose13(latch_conn *c);
int encrypted_extensions_write(latch_conn *c, cursor *out);
int encrypted_extensions_read(latch_conn *c, cursor *body);
int certificate13_write(latch_conn *c, cursor *out);
int certificate13_read(latch_conn *c, cursor *body);
int certificate_verify_write(latch_conn *c, cursor *out);
int certificate_verify_read(latch_conn *c, cursor *body);
int finished13_write(latch_conn *c, cursor *out);
int finished13_read(latch_conn *c, cursor *body);
int finished13_after_write(latch_conn *c);
int compat_change_cipher_spec_write(latch_conn *c, cursor *out);
/* Transcript after a HelloRetryRequest: message_hash(ClientHello1) || ... */
int transcript_restart_for_hello_retry(latch_conn *c, size_t tail_len);

/* ---- TLS 1.2 key schedule (key_schedule12.c) ---- */
/* pre-master -> master secret (EMS when negotiated) -> key block -> pending keys */
int tls12_derive_keys(latch_conn *c);
int tls12_verify_data(latch_conn *c, int from_client, const uint8_t *hash, size_t hash_len,
                      uint8_t out[12]);

#endif
