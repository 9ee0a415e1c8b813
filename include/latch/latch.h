/**
 * @file latch/latch.h
 * @brief latch — a sans-I/O TLS engine: configuration, connection, sessions,
 *        errors, observer events.
 *
 * The engine never touches a socket.  The caller moves bytes:
 *
 *     peer bytes  -> latch_conn_recv_buf()/latch_conn_recv_done()
 *     wire bytes  <- latch_conn_send_buf()/latch_conn_send_done()
 *     plaintext   <- latch_conn_read()      plaintext -> latch_conn_write()
 *
 * and asks latch_conn_status() what the connection wants next.
 * A latch_config is built once, then shared (read-only) by many connections.
 *
 * **Thread safety.**  Build a configuration in one thread.  Once connections
 * exist it is only read, so any number of threads may use connections of
 * the same configuration at the same time (the server's session cache has
 * its own lock); do not call latch_config_set_* / _add_* on it any more.
 * A client configuration with verification on and no latch_config_set_ca()
 * loads the system store on its first latch_conn_new(): create that first
 * connection (or call latch_config_set_ca(config, NULL, NULL)) before
 * sharing the configuration between threads.  A connection is used by one
 * thread at a time (no internal locking); different connections are
 * independent.  The name and error functions are thread-safe.
 *
 * **Ownership.**  Every `*_new` / `*_parse` / `latch_conn_get_session` result
 * is freed by its `*_free`.  Strings returned by the library are static or
 * owned by the object they came from (valid until it is freed or changed).
 * A configuration must outlive its connections.
 *
 * See docs/API.md for a guided tour and examples/ for complete programs.
 */
#ifndef LATCH_LATCH_H
#define LATCH_LATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Shared settings: role, certificates, trust, suites, groups, versions,
 *  ALPN, resumption, callbacks.  Opaque; see latch_config_new(). */
typedef struct latch_config latch_config;
/** One TLS connection (client or server), no I/O of its own.  Opaque; see
 *  latch_conn_new(). */
typedef struct latch_conn latch_conn;

/** Which side of the handshake a configuration (and its connections) plays. */
enum latch_role {
    LATCH_ROLE_CLIENT = 0, /**< sends the ClientHello; verifies the server by default */
    LATCH_ROLE_SERVER = 1  /**< answers; needs a certificate and key */
};

/** @name Protocol versions (wire values)
 *  Only TLS 1.2 and 1.3 are ever negotiated; the older values exist for
 *  naming what a peer offered. @{ */
#define LATCH_VERSION_TLS10 0x0301 /**< TLS 1.0 (refused) */
#define LATCH_VERSION_TLS11 0x0302 /**< TLS 1.1 (refused) */
#define LATCH_VERSION_TLS12 0x0303 /**< TLS 1.2 */
#define LATCH_VERSION_TLS13 0x0304 /**< TLS 1.3 */
/** @} */

/* ---- errors -------------------------------------------------------- */

/** One code per fault.  Each maps to exactly one TLS alert (see
 * latch_error_alert) and has a short human text (latch_error_string).
 * Functions return these as `int` (0 = LATCH_OK) or, for byte counts, as a
 * negative `ssize_t` (-LATCH_ERR_...). */
typedef enum latch_error {
    LATCH_OK = 0,                  /**< no error */
    LATCH_ERR_DECODE,              /**< malformed message          -> decode_error */
    LATCH_ERR_UNEXPECTED_MESSAGE,  /**< out of order               -> unexpected_message */
    LATCH_ERR_ILLEGAL_PARAMETER,   /**< bad field value            -> illegal_parameter */
    LATCH_ERR_HANDSHAKE_FAILURE,   /**< nothing in common          -> handshake_failure */
    LATCH_ERR_PROTOCOL_VERSION,    /**< peer below our minimum     -> protocol_version */
    LATCH_ERR_BAD_RECORD_MAC,      /**< record failed to decrypt   -> bad_record_mac */
    LATCH_ERR_DECRYPT_ERROR,       /**< bad signature or Finished  -> decrypt_error */
    LATCH_ERR_RECORD_OVERFLOW,     /**< record too long            -> record_overflow */
    LATCH_ERR_NO_RENEGOTIATION,    /**< renegotiation refused      -> no_renegotiation (warning) */
    LATCH_ERR_UNSUPPORTED_EXTENSION, /**< ext we never offered     -> unsupported_extension */
    LATCH_ERR_NO_APPLICATION_PROTOCOL, /**< ALPN mismatch          -> no_application_protocol */
    LATCH_ERR_UNRECOGNIZED_NAME,   /**< SNI unknown                -> unrecognized_name */
    LATCH_ERR_INSUFFICIENT_SECURITY, /**< peer offers only weak    -> insufficient_security */
    LATCH_ERR_BAD_CERTIFICATE,     /**< cert malformed / bad sig   -> bad_certificate */
    LATCH_ERR_UNSUPPORTED_CERTIFICATE, /**< wrong key type/usage   -> unsupported_certificate */
    LATCH_ERR_CERTIFICATE_EXPIRED, /**< outside validity           -> certificate_expired */
    LATCH_ERR_UNKNOWN_CA,          /**< chain does not reach root  -> unknown_ca */
    LATCH_ERR_CERTIFICATE_NAME,    /**< name mismatch              -> bad_certificate */
    LATCH_ERR_MISSING_EXTENSION,   /**< required extension absent  -> missing_extension */
    LATCH_ERR_CERTIFICATE_REQUIRED, /**< client sent no certificate -> certificate_required */
    LATCH_ERR_CERTIFICATE_UNKNOWN, /**< other certificate problem  -> certificate_unknown */
    LATCH_ERR_INTERNAL,            /**< our bug / libcrypto error  -> internal_error */
    LATCH_ERR_PEER_ALERT,          /**< the peer sent a fatal alert (no alert is sent back) */
    LATCH_ERR_CLOSED,              /**< connection closed */
    LATCH_ERR_CONFIG,              /**< invalid configuration (local, no alert) */
    LATCH_ERR_IO,                  /**< socket error (net layer, no alert) */
    LATCH_ERR_WOULD_BLOCK,         /**< nothing available right now (not fatal) */
    LATCH_ERR_COUNT                /**< number of codes (not an error) */
} latch_error;

/** Short human text of an error ("certificate has expired"); static,
 *  "unknown error" for a value out of range.  Thread-safe. */
const char *latch_error_string(latch_error err);
/** Alert description sent for err, or -1 when no alert is sent (local
 *  errors such as LATCH_ERR_CONFIG, LATCH_ERR_IO, LATCH_ERR_PEER_ALERT).
 *  Thread-safe. */
int latch_error_alert(latch_error err);
/** IANA name of an alert description ("bad_record_mac"), or "unknown";
 *  static.  Thread-safe. */
const char *latch_alert_name(int description);

/* ---- observer events (the tracer subscribes here) ------------------ */

/** What an observer event reports (latch_event::kind). */
typedef enum latch_event_kind {
    LATCH_EVENT_RECORD_SENT = 1,      /**< a record left (header + protected length) */
    LATCH_EVENT_RECORD_RECEIVED,      /**< a record arrived */
    LATCH_EVENT_HANDSHAKE_SENT,       /**< one handshake message, plaintext body */
    LATCH_EVENT_HANDSHAKE_RECEIVED,   /**< one handshake message received, plaintext body */
    LATCH_EVENT_CHANGE_CIPHER_SPEC_SENT,     /**< ChangeCipherSpec sent */
    LATCH_EVENT_CHANGE_CIPHER_SPEC_RECEIVED, /**< ChangeCipherSpec received */
    LATCH_EVENT_KEYS_CHANGED,         /**< detail: "client write" / "server write" ... */
    LATCH_EVENT_ALERT_SENT,           /**< an alert sent (level, description) */
    LATCH_EVENT_ALERT_RECEIVED,       /**< an alert received (level, description) */
    LATCH_EVENT_APPLICATION_DATA_SENT,     /**< plaintext protected and queued (length) */
    LATCH_EVENT_APPLICATION_DATA_RECEIVED, /**< plaintext decrypted (length) */
    LATCH_EVENT_HANDSHAKE_DONE,       /**< the handshake completed */
    LATCH_EVENT_NOTE                  /**< free text: negotiation results, key schedule steps */
} latch_event_kind;

/** One observer event.  Valid only during the callback: copy what you keep.
 *  Fields that do not apply to the kind are 0 / NULL. */
typedef struct latch_event {
    latch_event_kind kind;     /**< what happened */
    uint64_t time_us;          /**< from the config clock (monotonic) */
    int from_client;           /**< 1 if the client is the sender of this thing */
    uint8_t content_type;      /**< records: 20..23 */
    uint8_t handshake_type;    /**< handshake messages: 1, 2, 11, ... */
    uint8_t alert_level;       /**< alerts: 1 warning, 2 fatal */
    uint8_t alert_description; /**< alerts: the description (latch_alert_name) */
    size_t length;             /**< bytes of the record / message body / app data */
    const uint8_t *body;       /**< handshake message body (no 4-byte header), may be NULL */
    const char *name;          /**< "ClientHello", "bad_record_mac", ... */
    const char *detail;        /**< human detail, may be NULL */
} latch_event;

/** Observer callback: called synchronously from inside the latch_conn_*
 *  call that caused the event, in the connection's thread.  It must not
 *  call back into the same connection. */
typedef void (*latch_observer_fn)(void *arg, const latch_event *event);
/** Random source: fill out with n bytes; return 0 on success. */
typedef int (*latch_random_fn)(void *arg, uint8_t *out, size_t n);
/** Clock: microseconds, monotonic for events; wall seconds for validity. */
typedef uint64_t (*latch_clock_fn)(void *arg);
/** Key log: one NSS key log line (no newline), e.g. "CLIENT_RANDOM <hex> <hex>". */
typedef void (*latch_keylog_fn)(void *arg, const char *line);

/* ---- configuration -------------------------------------------------- */

/** A new configuration for role with secure defaults: TLS 1.2–1.3, AEAD
 *  suites, x25519/secp256r1/secp384r1; a client verifies the server against
 *  the system store; a server issues tickets under a random key and keeps a
 *  TLS 1.2 session-id cache.  Returns NULL when out of memory or libcrypto
 *  cannot provide the algorithms.  Free with latch_config_free(). */
latch_config *latch_config_new(enum latch_role role);
/** Free a configuration (NULL is fine).  Free its connections first. */
void latch_config_free(latch_config *config);
/** Last configuration error text (static for the config's life): why the
 *  last latch_config_* call returned LATCH_ERR_CONFIG.  Not thread-safe
 *  with concurrent configuration calls. */
const char *latch_config_error(const latch_config *config);

/** Certificate chain (leaf first) and its private key; PEM or DER.  May be
 * called several times (the server picks per suite/signature algorithms).
 * Files are read now.  Returns 0, or LATCH_ERR_CONFIG with the reason in
 * latch_config_error() (unreadable file, key does not match, at most a few
 * pairs).  Servers need one; clients use it for mutual TLS. */
int latch_config_add_cert_key_files(latch_config *config, const char *cert_file,
                                    const char *key_file);
/** Trust anchors for verification; NULL for both = system store (default).
 *  Files are read now and replace the previous store.  Returns 0 or
 *  LATCH_ERR_CONFIG (latch_config_error()). */
int latch_config_set_ca(latch_config *config, const char *ca_file, const char *ca_path);
/** Peer verification (client default: on).  Off means anything goes. */
void latch_config_set_verify(latch_config *config, int verify);
/** Server: ask for a client certificate (mutual TLS), verified against
 * ca_file (PEM).  OPTIONAL serves clients without one; REQUIRE refuses them. */
enum latch_client_auth {
    LATCH_CLIENT_AUTH_NONE = 0,     /**< no CertificateRequest (default) */
    LATCH_CLIENT_AUTH_OPTIONAL = 1, /**< ask; serve clients without a certificate */
    LATCH_CLIENT_AUTH_REQUIRE = 2   /**< ask; refuse clients without one */
};
/** Server: set the client-certificate mode; ca_file (PEM) is required for
 *  OPTIONAL and REQUIRE and becomes the trust store for client
 *  certificates.  Returns 0 or LATCH_ERR_CONFIG (client configuration, no
 *  CA file, unreadable file).  latch_conn_peer_subject() names the client,
 *  also on resumed connections; with REQUIRE a session made without a
 *  client certificate is not resumed (a full handshake asks for one). */
int latch_config_set_client_auth(latch_config *config, enum latch_client_auth mode,
                                 const char *ca_file);
/** Comma- or colon-separated IANA suite names, in preference order.
 *  Broken or unavailable suites (RC4, 3DES, NULL, EXPORT, MD5, ...) are
 *  refused with the reason; the AES-CBC suites only after
 *  latch_config_set_profile(config, LATCH_PROFILE_OLD) (RSA key exchange
 *  with AES-GCM may be named under any profile).  A version left with no
 *  suite is not offered.  Returns 0 or LATCH_ERR_CONFIG
 *  (latch_config_error()). */
int latch_config_set_ciphers(latch_config *config, const char *list);
/** Comma- or colon-separated group names: x25519, secp256r1, secp384r1.
 *  Returns 0 or LATCH_ERR_CONFIG. */
int latch_config_set_groups(latch_config *config, const char *list);
/** Version bounds, LATCH_VERSION_TLS12 / TLS13.  Below 1.2 is refused.
 *  Returns 0 or LATCH_ERR_CONFIG (below 1.2, min above max, unknown). */
int latch_config_set_versions(latch_config *config, uint16_t min_version,
                              uint16_t max_version);
/** Parse "1.2" / "1.3" (or "TLSv1.2" / "TLSv1.3") into a version number;
 *  0 if invalid or insecure.  Thread-safe. */
uint16_t latch_version_parse(const char *text);
/** Comma-separated ALPN protocol names ("h2,http/1.1"), copied.  A client
 *  offers them; a server picks the first of its own list the client offers
 *  (none in common: no_application_protocol).  Returns 0 or
 *  LATCH_ERR_CONFIG. */
int latch_config_set_alpn(latch_config *config, const char *list);
/** Observer for every connection of this configuration (fn NULL: none).
 *  arg is not owned and must outlive the connections.  With a shared
 *  configuration the callback runs in every connection's thread; see
 *  latch_conn_set_observer() for one connection. */
void latch_config_set_observer(latch_config *config, latch_observer_fn fn, void *arg);
/** Secrets in NSS key log format (SSLKEYLOGFILE), for Wireshark/tshark.
 *  fn NULL: none; arg not owned.  See latch_keylog_open()/latch_keylog_write()
 *  in latch/trace.h.  Anyone with the log can decrypt the traffic. */
void latch_config_set_keylog(latch_config *config, latch_keylog_fn fn, void *arg);
/** Replace the random source (fn NULL: back to libcrypto's RAND_bytes).
 * Meant for tests and reproducible traces; never in production.
 * Note: a server's default ticket key is drawn at latch_config_new; for a
 * byte-for-byte replay also set one with latch_config_add_ticket_key. */
void latch_config_set_random(latch_config *config, latch_random_fn fn, void *arg);
/** Replace the clocks: monotonic_us stamps events (NULL: CLOCK_MONOTONIC);
 *  wall_seconds is the time certificates and tickets are checked against
 *  (NULL: the real time).  For tests and replay. */
void latch_config_set_clock(latch_config *config, latch_clock_fn monotonic_us,
                            latch_clock_fn wall_seconds, void *arg);

/* ---- resumption -------------------------------------------------------- */

/** A resumable session (client side): TLS 1.2 session id and/or ticket with
 * its master secret, or a TLS 1.3 ticket with its PSK, plus the server name.
 * Opaque; get one with latch_conn_get_session(), offer it with
 * latch_conn_set_session(), store it with latch_session_serialize(). */
typedef struct latch_session latch_session;

/** Serialize (malloc'd bytes, caller frees) / parse; keep them secret.
 *  Returns 0 and sets *out / *out_len, or LATCH_ERR_INTERNAL (out of
 *  memory).  The bytes contain the resumption secret: store them like a
 *  private key (latch get --session writes mode 0600). */
int latch_session_serialize(const latch_session *session, uint8_t **out, size_t *out_len);
/** Parse bytes from latch_session_serialize(); NULL if malformed or out of
 *  memory.  Free with latch_session_free(). */
latch_session *latch_session_parse(const uint8_t *data, size_t len);
/** Free a session, wiping its secret (NULL is fine). */
void latch_session_free(latch_session *session);
/** The server name the session belongs to (owned by the session).  It is
 *  only offered to a connection with the same name. */
const char *latch_session_server_name(const latch_session *session);

/** Server: session tickets (RFC 5077 / RFC 8446 4.6.1).  On by default with a
 * random key made at start.  A ticket key is 80 bytes (or 48), as nginx's
 * ssl_session_ticket_key: the first key added seals, every key opens.
 * The first key added replaces the random one; key is copied.  Returns 0
 * or LATCH_ERR_CONFIG (wrong length, too many keys). */
int latch_config_add_ticket_key(latch_config *config, const uint8_t *key, size_t len);
/** Server: issue tickets or not, and their lifetime (1 s to 7 days;
 *  default on, 2 hours).  Returns 0 or LATCH_ERR_CONFIG. */
int latch_config_set_tickets(latch_config *config, int enabled, uint32_t lifetime_seconds);
/** Half-close for TLS 1.3 (RFC 8446 6.1: close_notify closes only the
 *  sender's write side).  Off (default): a peer's close_notify is answered
 *  with ours at once, as TLS 1.2 requires (RFC 5246 7.2.1).  On: in TLS 1.3
 *  the connection may go on writing after the peer's close_notify
 *  (LATCH_STATUS_CLOSED set, LATCH_STATUS_SENT_CLOSE not) until
 *  latch_conn_close(); TLS 1.2 connections still answer at once.  Returns 0. */
int latch_config_set_half_close(latch_config *config, int enabled);
/** Server: TLS 1.2 session-id cache (default 1024 entries, 2 hours); 0 = off.
 *  The cache is shared by all connections of the configuration (locked).
 *  Returns 0 or LATCH_ERR_CONFIG (out of memory). */
int latch_config_set_session_cache(latch_config *config, size_t max_entries,
                                   uint32_t lifetime_seconds);
/** Server: use from's TLS 1.2 session-id cache (its entries, size and
 *  lifetime) instead of config's own, e.g. for a configuration rebuilt on a
 *  reload, so sessions cached before it still resume.  The cache is
 *  reference counted: each configuration may be freed first, and both may
 *  serve connections at once (the cache is locked).  from is only read (safe
 *  while its connections run).  If from has no cache, config has none.
 *  Returns 0 or LATCH_ERR_CONFIG (not both server configurations). */
int latch_config_share_session_cache(latch_config *config, const latch_config *from);

/* ---- connection ----------------------------------------------------- */

/** @name Status bits (latch_conn_status)
 *  Several may be set at once; act on each. @{ */
#define LATCH_STATUS_WANT_RECV   0x01u /**< give me peer bytes */
#define LATCH_STATUS_HAS_SEND    0x02u /**< send_buf has bytes for the wire */
#define LATCH_STATUS_HAS_APP     0x04u /**< latch_conn_read has plaintext */
#define LATCH_STATUS_READY       0x08u /**< handshake complete, may write */
#define LATCH_STATUS_CLOSED      0x10u /**< close_notify received (no more reads) */
#define LATCH_STATUS_FAILED      0x20u /**< fatal error; see latch_conn_error */
#define LATCH_STATUS_BLOCKED_APP 0x40u /**< reserved: waiting on the application */
#define LATCH_STATUS_SENT_CLOSE  0x80u /**< our close_notify or a fatal alert is queued: no more writes */
/** @} */

/** Observer for this connection only (e.g. a tracer labelled per connection
 * on a shared server configuration); overrides the configuration's.
 * fn NULL: back to none for this connection; arg is not owned. */
void latch_conn_set_observer(latch_conn *conn, latch_observer_fn fn, void *arg);

/** A new connection of config's role.  config must outlive it and is not
 *  changed by it (but see the thread-safety note on the first client
 *  connection).  server_name: SNI and the name checked in the certificate
 *  (client; copied; a host name or an IP address literal, which is checked
 *  but not sent as SNI); NULL for a server.  Returns NULL only when out of
 *  memory; configuration problems (e.g. an unreadable system store) show as
 *  LATCH_STATUS_FAILED.  A client's ClientHello is written on the first
 *  latch_conn_send_buf(). */
latch_conn *latch_conn_new(latch_config *config, const char *server_name);
/** Free a connection, wiping its keys (NULL is fine).  Does not send
 *  close_notify (see latch_conn_close()). */
void latch_conn_free(latch_conn *conn);

/** Where to put bytes read from the peer: returns a buffer inside the
 *  connection and sets *room to its free space (0 after close_notify or a
 *  failure, and while 256 KiB of plaintext wait for latch_conn_read(): read
 *  first; LATCH_STATUS_WANT_RECV is clear then too).  Read up to *room bytes into it, then call
 *  latch_conn_recv_done() with the count.  The pointer is valid until the
 *  next call on the connection. */
uint8_t *latch_conn_recv_buf(latch_conn *conn, size_t *room);
/** Process n bytes just written into recv_buf.  Returns 0 or a latch_error.
 *  Every complete record is handled now: handshake replies go to the send
 *  buffer, plaintext to latch_conn_read().  On an error the connection is
 *  FAILED and usually has an alert to send (LATCH_STATUS_HAS_SEND). */
int latch_conn_recv_done(latch_conn *conn, size_t n);
/** Convenience: copy in and process; returns bytes consumed or -error.
 *  Consumes less than len only when the connection stops reading (closed,
 *  failed, or 256 KiB of plaintext unread). */
ssize_t latch_conn_feed(latch_conn *conn, const void *data, size_t len);

/** Bytes waiting for the wire: returns a pointer to them and sets *len
 *  (0: nothing).  Write what you can, then latch_conn_send_done() with the
 *  count.  The pointer is valid until the next call on the connection. */
const uint8_t *latch_conn_send_buf(latch_conn *conn, size_t *len);
/** n bytes of latch_conn_send_buf() went out (n may be less than *len). */
void latch_conn_send_done(latch_conn *conn, size_t n);

/** Plaintext read: bytes, 0 at close_notify, -LATCH_ERR_WOULD_BLOCK if none.
 *  After a failure: -latch_error.  Reading never does I/O. */
ssize_t latch_conn_read(latch_conn *conn, void *buf, size_t len);
/** Plaintext without a copy: returns a pointer to the next unread bytes
 *  inside the connection (where the record was decrypted) and sets *len (0
 *  and NULL: none; then latch_conn_read() says why: 0 at close_notify,
 *  -LATCH_ERR_WOULD_BLOCK, -error).  Use them, then latch_conn_read_done()
 *  with how many you took.  The pointer is valid until the next call on the
 *  connection.  Mixes freely with latch_conn_read(). */
const uint8_t *latch_conn_read_buf(latch_conn *conn, size_t *len);
/** n bytes of latch_conn_read_buf() are used (n may be less than *len). */
void latch_conn_read_done(latch_conn *conn, size_t n);
/** Queue plaintext (after handshake).  Returns len or -error.
 *  The data is copied, encrypted into records at once and waits in the send
 *  buffer.  -LATCH_ERR_WOULD_BLOCK before the handshake is complete,
 *  -LATCH_ERR_CLOSED after latch_conn_close(). */
ssize_t latch_conn_write(latch_conn *conn, const void *buf, size_t len);
/** Queue close_notify.  Returns 0 (also if already closed or failed) or
 *  a latch_error.  Flush the send buffer afterwards. */
int latch_conn_close(latch_conn *conn);
/** Client: offer this session (same server name only).  Call before the
 * first latch_conn_send_buf (the ClientHello is written lazily).
 * The session is copied.  Returns 0 or LATCH_ERR_CONFIG (server, too late,
 * other server name). */
int latch_conn_set_session(latch_conn *conn, const latch_session *session);
/** Client: the session to resume later (a copy; NULL if none yet).  For TLS
 * 1.3 it exists once a NewSessionTicket arrived, after the handshake.
 * Free it with latch_session_free(). */
latch_session *latch_conn_get_session(const latch_conn *conn);
/** 1 if this handshake resumed a session. */
int latch_conn_resumed(const latch_conn *conn);
/** TLS 1.3: update our traffic keys; request_peer asks the peer to update its.
 *  Queues a KeyUpdate (flush the send buffer).  Returns 0, or
 *  LATCH_ERR_UNEXPECTED_MESSAGE before the handshake, on TLS 1.2, after
 *  close or failure. */
int latch_conn_key_update(latch_conn *conn, int request_peer);

/** What the connection wants now: LATCH_STATUS_* bits.  Loop: move bytes
 *  for WANT_RECV / HAS_SEND, read for HAS_APP, write once READY, stop at
 *  CLOSED or FAILED (after sending what HAS_SEND still holds). */
unsigned latch_conn_status(const latch_conn *conn);
/** The sticky error of a failed connection, LATCH_OK otherwise. */
latch_error latch_conn_error(const latch_conn *conn);
/** Human reason for the failure ("certificate has expired (leaf ...)").
 *  "" if not failed; owned by the connection. */
const char *latch_conn_error_reason(const latch_conn *conn);
/** Alert involved in the failure: description or -1; *sent = 1 if we sent it.
 *  sent may be NULL.  Name it with latch_alert_name(). */
int latch_conn_alert(const latch_conn *conn, int *sent);

/** Negotiated version (LATCH_VERSION_TLS12 / TLS13); valid once READY. */
uint16_t latch_conn_version(const latch_conn *conn);
/** Negotiated cipher suite (IANA number), 0 before it is chosen. */
uint16_t latch_conn_cipher_suite(const latch_conn *conn);
/** Negotiated suite's IANA name ("TLS_AES_128_GCM_SHA256"), "none" before. */
const char *latch_conn_cipher_suite_name(const latch_conn *conn);
/** Key exchange group ("x25519"), "none" before or without ECDHE. */
const char *latch_conn_group_name(const latch_conn *conn);
/** Negotiated ALPN protocol, or NULL if none; owned by the connection. */
const char *latch_conn_alpn(const latch_conn *conn);
/** Client: the name given to latch_conn_new(); server: the SNI the client
 *  sent.  NULL if none; owned by the connection. */
const char *latch_conn_server_name(const latch_conn *conn);
/** 1 if the extended master secret (RFC 7627) is in use (TLS 1.2). */
int latch_conn_extended_master_secret(const latch_conn *conn);
/** Subject of the peer's verified certificate ("CN=alice"), or NULL: on a
 *  server the client's (mutual TLS), on a client the server's (NULL with
 *  verification off).  After a resumption it is the subject verified in the
 *  session's full handshake (sessions and tickets carry it).  Owned by the
 *  connection. */
const char *latch_conn_peer_subject(const latch_conn *conn);

/** @name IANA names <-> numbers
 *  Static strings, "unknown" for unknown numbers; thread-safe. @{ */
/** Cipher suite name: 0x1301 -> "TLS_AES_128_GCM_SHA256". */
const char *latch_cipher_suite_name(uint16_t suite);
/** Named group: 0x001d -> "x25519". */
const char *latch_group_name(uint16_t group);
/** Signature scheme: 0x0403 -> "ecdsa_secp256r1_sha256". */
const char *latch_signature_scheme_name(uint16_t scheme);
/** Handshake message type: 1 -> "ClientHello". */
const char *latch_handshake_type_name(uint8_t type);
/** Record content type: 22 -> "handshake". */
const char *latch_content_type_name(uint8_t type);
/** @} */

/* ---- security profiles ------------------------------------------------ */

/** After Mozilla's server-side TLS guidelines (docs/PROTOCOL.md, "Profiles"):
 *   MODERN        TLS 1.3 only.
 *   INTERMEDIATE  TLS 1.2 and 1.3, ECDHE key exchange with AEAD suites
 *                 (AES-GCM, ChaCha20-Poly1305).  latch's default.
 *   OLD           INTERMEDIATE plus RSA key exchange, the AES-CBC suites
 *                 (encrypt-then-MAC offered and preferred) and, for TLS 1.2
 *                 clients that send no signature_algorithms, SHA-1
 *                 signatures (RFC 5246 7.4.1.4.1).
 * No profile has SSL 3.0/TLS 1.0/1.1, RC4, 3DES, NULL, EXPORT, anonymous or
 * MD5 suites, or compression.  Setting a profile replaces the suites,
 * groups, versions and signature defaults; latch_config_set_ciphers, _groups
 * and _versions called afterwards refine it (explicit suite names may be any
 * AEAD suite latch knows, RSA key exchange included; the AES-CBC suites only
 * under OLD: LATCH_ERR_CONFIG otherwise). */
typedef enum latch_profile {
    LATCH_PROFILE_MODERN = 0,       /**< TLS 1.3 only */
    LATCH_PROFILE_INTERMEDIATE = 1, /**< TLS 1.2 + 1.3, ECDHE + AEAD (the default) */
    LATCH_PROFILE_OLD = 2           /**< adds RSA key exchange, AES-CBC, SHA-1 fallback */
} latch_profile;

/** Apply a security profile (see latch_profile).  Returns 0 or
 *  LATCH_ERR_CONFIG (unknown profile; latch_config_error()). */
int latch_config_set_profile(latch_config *config, latch_profile profile);
/** "modern", "intermediate", "old" (any case) -> profile; -1 if unknown. */
int latch_profile_parse(const char *text);
/** "modern", "intermediate", "old", or "unknown". */
const char *latch_profile_name(latch_profile profile);

#ifdef __cplusplus
}
#endif
#endif
