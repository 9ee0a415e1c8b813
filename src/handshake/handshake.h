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
    HANDSHAKE_CERTIFICATE = 11,
    HANDSHAKE_SERVER_KEY_EXCHANGE = 12,
    HANDSHAKE_CERTIFICATE_REQUEST = 13,
    HANDSHAKE_SERVER_HELLO_DONE = 14,
    HANDSHAKE_CERTIFICATE_VERIFY = 15,
    HANDSHAKE_CLIENT_KEY_EXCHANGE = 16,
    HANDSHAKE_FINISHED = 20
};

enum message_sender { SENT_BY_CLIENT = 1, SENT_BY_SERVER = 2 };

#define ROW_NEEDS_PRIOR_HASH 0x01 /* recv handler wants the transcript before this message */
#define ROW_END 0x02              /* handshake complete once this row is passed */

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
} message_row;

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

/* ---- TLS 1.2 flows (tls12_flow.c) ---- */
extern const handshake_flow tls12_full_handshake;

/* ---- message handlers, one file per family ---- */
int client_hello_write(latch_conn *c, cursor *out);
int client_hello_read(latch_conn *c, cursor *body);
int server_hello_write(latch_conn *c, cursor *out);
int server_hello_read(latch_conn *c, cursor *body);
int server_certificate_write(latch_conn *c, cursor *out);
int server_certificate_read(latch_conn *c, cursor *body);
int server_key_exchange_write(latch_conn *c, cursor *out);
int server_key_exchange_read(latch_conn *c, cursor *body);
int server_hello_done_write(latch_conn *c, cursor *out);
int server_hello_done_read(latch_conn *c, cursor *body);
int client_key_exchange_write(latch_conn *c, cursor *out);
int client_key_exchange_read(latch_conn *c, cursor *body);
int change_cipher_spec_prepare(latch_conn *c, cursor *out);
int change_cipher_spec_read(latch_conn *c, cursor *body);
int finished_write(latch_conn *c, cursor *out);
int finished_read(latch_conn *c, cursor *body);

/* ---- TLS 1.2 key schedule (key_schedule12.c) ---- */
/* pre-master -> master secret (EMS when negotiated) -> key block -> pending keys */
int tls12_derive_keys(latch_conn *c);
int tls12_verify_data(latch_conn *c, int from_client, const uint8_t *hash, size_t hash_len,
                      uint8_t out[12]);

#endif
