/* Hello extensions (RFC 5246 7.4.1.4 and the RFCs named per type). */
#ifndef LATCH_EXTENSIONS_H
#define LATCH_EXTENSIONS_H

#include "engine/internal.h"
#include "util/cursor.h"

enum extension_type {
    EXT_SERVER_NAME = 0,
    EXT_SUPPORTED_GROUPS = 10,
    EXT_EC_POINT_FORMATS = 11,
    EXT_SIGNATURE_ALGORITHMS = 13,
    EXT_ALPN = 16,
    EXT_ENCRYPT_THEN_MAC = 22,
    EXT_EXTENDED_MASTER_SECRET = 23,
    EXT_SESSION_TICKET = 35,
    EXT_PRE_SHARED_KEY = 41,
    EXT_EARLY_DATA = 42,
    EXT_SUPPORTED_VERSIONS = 43,
    EXT_COOKIE = 44,
    EXT_PSK_KEY_EXCHANGE_MODES = 45,
    EXT_KEY_SHARE = 51,
    EXT_RENEGOTIATION_INFO = 0xff01
};

#define SUITE_EMPTY_RENEGOTIATION_INFO_SCSV 0x00ff
#define SUITE_FALLBACK_SCSV 0x5600

typedef int (*extension_handler)(latch_conn *c, uint16_t type, cursor *data);

/* Walk an extensions block: each extension once (a repeat is
 * illegal_parameter), every body must be consumed exactly by its handler. */
int extensions_walk(latch_conn *c, cursor *block, extension_handler handler);

/* Read a list of u16 values with a 2-byte length prefix into out (keeps the
 * first max entries). */
int read_u16_list(cursor *data, uint16_t *out, size_t max, size_t *count);

/* Client hello extensions (write), and the server's reading of them. */
int client_extensions_write(latch_conn *c, cursor *out);
int client_extension_read(latch_conn *c, uint16_t type, cursor *data);
/* Server hello extensions (write), and the client's reading of them. */
int server_extensions_write(latch_conn *c, cursor *out);
int server_extension_read(latch_conn *c, uint16_t type, cursor *data);

int is_ip_literal(const char *name);

/* Encrypt-then-MAC (RFC 7366): offered with CBC suites, used only with them. */
int client_offers_encrypt_then_mac(const latch_config *cfg);
/* Server: use EtM with this suite? (the client asked, the suite is CBC) */
int server_encrypt_then_mac(const latch_conn *c, const latch_suite *suite);
/* Client, once the ServerHello's suite is known: take the server's answer. */
int client_encrypt_then_mac_check(latch_conn *c);

#endif
