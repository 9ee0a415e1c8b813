/*
 * latch — a sans-I/O TLS engine.
 *
 * The engine never touches a socket.  The caller moves bytes:
 *
 *   peer bytes  -> latch_conn_recv_buf()/latch_conn_recv_done()
 *   wire bytes  <- latch_conn_send_buf()/latch_conn_send_done()
 *   plaintext   <- latch_conn_read()      plaintext -> latch_conn_write()
 *
 * and asks latch_conn_status() what the connection wants next.
 * A latch_config is built once, then shared (read-only) by many connections.
 */
#ifndef LATCH_LATCH_H
#define LATCH_LATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct latch_config latch_config;
typedef struct latch_conn latch_conn;

enum latch_role { LATCH_ROLE_CLIENT = 0, LATCH_ROLE_SERVER = 1 };

#define LATCH_VERSION_TLS10 0x0301
#define LATCH_VERSION_TLS11 0x0302
#define LATCH_VERSION_TLS12 0x0303
#define LATCH_VERSION_TLS13 0x0304

/* ---- errors -------------------------------------------------------- */

/* One code per fault.  Each maps to exactly one TLS alert (see
 * latch_error_alert) and has a short human text (latch_error_string). */
typedef enum latch_error {
    LATCH_OK = 0,
    LATCH_ERR_DECODE,              /* malformed message          -> decode_error */
    LATCH_ERR_UNEXPECTED_MESSAGE,  /* out of order               -> unexpected_message */
    LATCH_ERR_ILLEGAL_PARAMETER,   /* bad field value            -> illegal_parameter */
    LATCH_ERR_HANDSHAKE_FAILURE,   /* nothing in common          -> handshake_failure */
    LATCH_ERR_PROTOCOL_VERSION,    /* peer below our minimum     -> protocol_version */
    LATCH_ERR_BAD_RECORD_MAC,      /* record failed to decrypt   -> bad_record_mac */
    LATCH_ERR_DECRYPT_ERROR,       /* bad signature or Finished  -> decrypt_error */
    LATCH_ERR_RECORD_OVERFLOW,     /* record too long            -> record_overflow */
    LATCH_ERR_NO_RENEGOTIATION,    /* renegotiation refused      -> no_renegotiation (warning) */
    LATCH_ERR_UNSUPPORTED_EXTENSION, /* ext we never offered     -> unsupported_extension */
    LATCH_ERR_NO_APPLICATION_PROTOCOL, /* ALPN mismatch          -> no_application_protocol */
    LATCH_ERR_UNRECOGNIZED_NAME,   /* SNI unknown                -> unrecognized_name */
    LATCH_ERR_INSUFFICIENT_SECURITY, /* peer offers only weak    -> insufficient_security */
    LATCH_ERR_BAD_CERTIFICATE,     /* cert malformed / bad sig   -> bad_certificate */
    LATCH_ERR_UNSUPPORTED_CERTIFICATE, /* wrong key type/usage   -> unsupported_certificate */
    LATCH_ERR_CERTIFICATE_EXPIRED, /* outside validity           -> certificate_expired */
    LATCH_ERR_UNKNOWN_CA,          /* chain does not reach root  -> unknown_ca */
    LATCH_ERR_CERTIFICATE_NAME,    /* name mismatch              -> bad_certificate */
    LATCH_ERR_MISSING_EXTENSION,   /* required extension absent  -> missing_extension */
    LATCH_ERR_CERTIFICATE_REQUIRED, /* client sent no certificate -> certificate_required */
    LATCH_ERR_CERTIFICATE_UNKNOWN, /* other certificate problem  -> certificate_unknown */
    LATCH_ERR_INTERNAL,            /* our bug / libcrypto error  -> internal_error */
    LATCH_ERR_PEER_ALERT,          /* the peer sent a fatal alert (no alert is sent back) */
    LATCH_ERR_CLOSED,              /* connection closed */
    LATCH_ERR_CONFIG,              /* invalid configuration (local, no alert) */
    LATCH_ERR_IO,                  /* socket error (net layer, no alert) */
    LATCH_ERR_WOULD_BLOCK,         /* nothing available right now (not fatal) */
    LATCH_ERR_COUNT
} latch_error;

const char *latch_error_string(latch_error err);
/* Alert description sent for err, or -1 when no alert is sent. */
int latch_error_alert(latch_error err);
/* IANA name of an alert description ("bad_record_mac"), or "unknown". */
const char *latch_alert_name(int description);

/* ---- observer events (the tracer subscribes here) ------------------ */

typedef enum latch_event_kind {
    LATCH_EVENT_RECORD_SENT = 1,      /* a record left (header + protected length) */
    LATCH_EVENT_RECORD_RECEIVED,
    LATCH_EVENT_HANDSHAKE_SENT,       /* one handshake message, plaintext body */
    LATCH_EVENT_HANDSHAKE_RECEIVED,
    LATCH_EVENT_CHANGE_CIPHER_SPEC_SENT,
    LATCH_EVENT_CHANGE_CIPHER_SPEC_RECEIVED,
    LATCH_EVENT_KEYS_CHANGED,         /* detail: "client write" / "server write" ... */
    LATCH_EVENT_ALERT_SENT,
    LATCH_EVENT_ALERT_RECEIVED,
    LATCH_EVENT_APPLICATION_DATA_SENT,
    LATCH_EVENT_APPLICATION_DATA_RECEIVED,
    LATCH_EVENT_HANDSHAKE_DONE,
    LATCH_EVENT_NOTE                  /* free text: negotiation results, key schedule steps */
} latch_event_kind;

typedef struct latch_event {
    latch_event_kind kind;
    uint64_t time_us;          /* from the config clock (monotonic) */
    int from_client;           /* 1 if the client is the sender of this thing */
    uint8_t content_type;      /* records: 20..23 */
    uint8_t handshake_type;    /* handshake messages: 1, 2, 11, ... */
    uint8_t alert_level;       /* alerts: 1 warning, 2 fatal */
    uint8_t alert_description;
    size_t length;             /* bytes of the record / message body / app data */
    const uint8_t *body;       /* handshake message body (no 4-byte header), may be NULL */
    const char *name;          /* "ClientHello", "bad_record_mac", ... */
    const char *detail;        /* human detail, may be NULL */
} latch_event;

typedef void (*latch_observer_fn)(void *arg, const latch_event *event);
/* Random source: fill out with n bytes; return 0 on success. */
typedef int (*latch_random_fn)(void *arg, uint8_t *out, size_t n);
/* Clock: microseconds, monotonic for events; wall seconds for validity. */
typedef uint64_t (*latch_clock_fn)(void *arg);
/* Key log: one NSS key log line (no newline), e.g. "CLIENT_RANDOM <hex> <hex>". */
typedef void (*latch_keylog_fn)(void *arg, const char *line);

/* ---- configuration -------------------------------------------------- */

latch_config *latch_config_new(enum latch_role role);
void latch_config_free(latch_config *config);
/* Last configuration error text (static for the config's life). */
const char *latch_config_error(const latch_config *config);

/* Certificate chain (leaf first) and its private key; PEM or DER.  May be
 * called several times (the server picks per suite/signature algorithms). */
int latch_config_add_cert_key_files(latch_config *config, const char *cert_file,
                                    const char *key_file);
/* Trust anchors for verification; NULL for both = system store (default). */
int latch_config_set_ca(latch_config *config, const char *ca_file, const char *ca_path);
/* Peer verification (client default: on).  Off means anything goes. */
void latch_config_set_verify(latch_config *config, int verify);
/* Server: ask for a client certificate (mutual TLS), verified against
 * ca_file (PEM).  OPTIONAL serves clients without one; REQUIRE refuses them. */
enum latch_client_auth {
    LATCH_CLIENT_AUTH_NONE = 0,
    LATCH_CLIENT_AUTH_OPTIONAL = 1,
    LATCH_CLIENT_AUTH_REQUIRE = 2
};
int latch_config_set_client_auth(latch_config *config, enum latch_client_auth mode,
                                 const char *ca_file);
/* Comma- or colon-separated IANA suite names, in preference order. */
int latch_config_set_ciphers(latch_config *config, const char *list);
/* Comma- or colon-separated group names: x25519, secp256r1, secp384r1. */
int latch_config_set_groups(latch_config *config, const char *list);
/* Version bounds, LATCH_VERSION_TLS12 / TLS13.  Below 1.2 is refused. */
int latch_config_set_versions(latch_config *config, uint16_t min_version,
                              uint16_t max_version);
/* Parse "1.2" / "1.3" into a version number; 0 if invalid or insecure. */
uint16_t latch_version_parse(const char *text);
/* Comma-separated ALPN protocol names ("h2,http/1.1"). */
int latch_config_set_alpn(latch_config *config, const char *list);
void latch_config_set_observer(latch_config *config, latch_observer_fn fn, void *arg);
/* Secrets in NSS key log format (SSLKEYLOGFILE), for Wireshark/tshark. */
void latch_config_set_keylog(latch_config *config, latch_keylog_fn fn, void *arg);
/* Note: a server's default ticket key is drawn at latch_config_new; for a
 * byte-for-byte replay also set one with latch_config_add_ticket_key. */
void latch_config_set_random(latch_config *config, latch_random_fn fn, void *arg);
void latch_config_set_clock(latch_config *config, latch_clock_fn monotonic_us,
                            latch_clock_fn wall_seconds, void *arg);

/* ---- resumption -------------------------------------------------------- */

/* A resumable session (client side): TLS 1.2 session id and/or ticket with
 * its master secret, or a TLS 1.3 ticket with its PSK, plus the server name. */
typedef struct latch_session latch_session;

/* Serialize (malloc'd bytes, caller frees) / parse; keep them secret. */
int latch_session_serialize(const latch_session *session, uint8_t **out, size_t *out_len);
latch_session *latch_session_parse(const uint8_t *data, size_t len);
void latch_session_free(latch_session *session);
const char *latch_session_server_name(const latch_session *session);

/* Server: session tickets (RFC 5077 / RFC 8446 4.6.1).  On by default with a
 * random key made at start.  A ticket key is 80 bytes (or 48), as nginx's
 * ssl_session_ticket_key: the first key added seals, every key opens. */
int latch_config_add_ticket_key(latch_config *config, const uint8_t *key, size_t len);
int latch_config_set_tickets(latch_config *config, int enabled, uint32_t lifetime_seconds);
/* Server: TLS 1.2 session-id cache (default 1024 entries, 2 hours); 0 = off. */
int latch_config_set_session_cache(latch_config *config, size_t max_entries,
                                   uint32_t lifetime_seconds);

/* ---- connection ----------------------------------------------------- */

#define LATCH_STATUS_WANT_RECV   0x01u /* give me peer bytes */
#define LATCH_STATUS_HAS_SEND    0x02u /* send_buf has bytes for the wire */
#define LATCH_STATUS_HAS_APP     0x04u /* latch_conn_read has plaintext */
#define LATCH_STATUS_READY       0x08u /* handshake complete, may write */
#define LATCH_STATUS_CLOSED      0x10u /* close_notify received (no more reads) */
#define LATCH_STATUS_FAILED      0x20u /* fatal error; see latch_conn_error */
#define LATCH_STATUS_BLOCKED_APP 0x40u /* reserved: waiting on the application */

/* Observer for this connection only (e.g. a tracer labelled per connection
 * on a shared server configuration); overrides the configuration's. */
void latch_conn_set_observer(latch_conn *conn, latch_observer_fn fn, void *arg);

/* server_name: SNI and the name checked in the certificate (client). */
latch_conn *latch_conn_new(latch_config *config, const char *server_name);
void latch_conn_free(latch_conn *conn);

uint8_t *latch_conn_recv_buf(latch_conn *conn, size_t *room);
/* Process n bytes just written into recv_buf.  Returns 0 or a latch_error. */
int latch_conn_recv_done(latch_conn *conn, size_t n);
/* Convenience: copy in and process; returns bytes consumed or -error. */
ssize_t latch_conn_feed(latch_conn *conn, const void *data, size_t len);

const uint8_t *latch_conn_send_buf(latch_conn *conn, size_t *len);
void latch_conn_send_done(latch_conn *conn, size_t n);

/* Plaintext read: bytes, 0 at close_notify, -LATCH_ERR_WOULD_BLOCK if none. */
ssize_t latch_conn_read(latch_conn *conn, void *buf, size_t len);
/* Queue plaintext (after handshake).  Returns len or -error. */
ssize_t latch_conn_write(latch_conn *conn, const void *buf, size_t len);
/* Queue close_notify. */
int latch_conn_close(latch_conn *conn);
/* Client: offer this session (same server name only).  Call before the
 * first latch_conn_send_buf (the ClientHello is written lazily). */
int latch_conn_set_session(latch_conn *conn, const latch_session *session);
/* Client: the session to resume later (a copy; NULL if none yet).  For TLS
 * 1.3 it exists once a NewSessionTicket arrived, after the handshake. */
latch_session *latch_conn_get_session(const latch_conn *conn);
/* 1 if this handshake resumed a session. */
int latch_conn_resumed(const latch_conn *conn);
/* TLS 1.3: update our traffic keys; request_peer asks the peer to update its. */
int latch_conn_key_update(latch_conn *conn, int request_peer);

unsigned latch_conn_status(const latch_conn *conn);
latch_error latch_conn_error(const latch_conn *conn);
/* Human reason for the failure ("certificate has expired (leaf ...)"). */
const char *latch_conn_error_reason(const latch_conn *conn);
/* Alert involved in the failure: description or -1; *sent = 1 if we sent it. */
int latch_conn_alert(const latch_conn *conn, int *sent);

/* Negotiated parameters (valid once READY). */
uint16_t latch_conn_version(const latch_conn *conn);
uint16_t latch_conn_cipher_suite(const latch_conn *conn);
const char *latch_conn_cipher_suite_name(const latch_conn *conn);
const char *latch_conn_group_name(const latch_conn *conn);
const char *latch_conn_alpn(const latch_conn *conn);
const char *latch_conn_server_name(const latch_conn *conn);
int latch_conn_extended_master_secret(const latch_conn *conn);
/* Subject of the peer's verified certificate ("CN=alice"), or NULL. */
const char *latch_conn_peer_subject(const latch_conn *conn);

/* IANA names <-> numbers. */
const char *latch_cipher_suite_name(uint16_t suite);
const char *latch_group_name(uint16_t group);
const char *latch_signature_scheme_name(uint16_t scheme);
const char *latch_handshake_type_name(uint8_t type);
const char *latch_content_type_name(uint8_t type);

#ifdef __cplusplus
}
#endif
#endif
