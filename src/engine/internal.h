/*
 * The connection and configuration objects, shared by src/engine and
 * src/handshake.  Not a public header.
 */
#ifndef LATCH_ENGINE_INTERNAL_H
#define LATCH_ENGINE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "handshake/suites.h"
#include "latch/latch.h"
#include "record/record.h"
#include "util/buffer.h"
#include "util/cursor.h"
#include "x509/x509.h"

#define LATCH_MAX_SUITES 32
#define LATCH_MAX_GROUPS 8
#define LATCH_MAX_CERTS 8
#define LATCH_MAX_PEER_LIST 64
#define LATCH_MAX_CHAIN 10
#define LATCH_MAX_HANDSHAKE_MESSAGE (64 * 1024)

/* A resumable session: what both sides remember (ticket plaintext, cache
 * entry, client's saved session). */
struct latch_session {
    uint16_t version, suite;
    uint8_t secret[LATCH_MAX_HASH_LEN]; /* 1.2: master secret (48); 1.3: PSK */
    size_t secret_len;
    int extended_master_secret;
    uint8_t session_id[32];
    size_t session_id_len;
    uint8_t *ticket;                    /* client: the opaque ticket */
    size_t ticket_len;
    uint32_t lifetime, age_add;
    uint64_t issued_ms;                 /* wall clock, milliseconds */
    char server_name[256];
    int encrypt_then_mac;               /* RFC 7366: must be the same when resumed */
    int peer_verified;                  /* the peer's certificate was verified: server,
                                           the client's (mTLS); client, the server's */
    char peer_subject[256];             /* its leaf subject (latch_conn_peer_subject) */
};

typedef struct ticket_key {
    uint8_t name[16];
    uint8_t key[32];                    /* AES-256-GCM */
} ticket_key;

struct session_cache;

#define LATCH_MAX_TICKET_KEYS 8

struct latch_config {
    enum latch_role role;
    latch_crypto crypto;
    uint16_t suites[LATCH_MAX_SUITES];
    size_t suite_count;
    uint16_t groups[LATCH_MAX_GROUPS];
    size_t group_count;
    uint16_t min_version, max_version;         /* effective: as asked, less versions
                                                  without a configured suite */
    uint16_t asked_min_version, asked_max_version;
    uint8_t alpn[256];         /* ProtocolNameList contents (without outer length) */
    size_t alpn_len;
    latch_cert_key *certs[LATCH_MAX_CERTS];
    size_t cert_count;
    int verify;
    enum latch_client_auth client_auth;
    char *ca_file, *ca_path;
    X509_STORE *trust;
    int tickets_enabled;
    int half_close;            /* TLS 1.3: a peer's close_notify is not answered at once */
    uint32_t ticket_lifetime;
    ticket_key ticket_keys[LATCH_MAX_TICKET_KEYS];
    size_t ticket_key_count;
    int ticket_keys_given;
    struct session_cache *cache;
    latch_observer_fn observer;
    void *observer_arg;
    latch_keylog_fn keylog;
    void *keylog_arg;
    latch_random_fn random;
    void *random_arg;
    latch_clock_fn clock_us, clock_wall;
    void *clock_arg;
    char error[512];
    latch_profile profile;     /* the last profile set (intermediate by default) */
    int sha1_signatures;       /* old: RFC 5246 7.4.1.4.1 SHA-1 defaults for TLS 1.2 */
    int encrypt_then_mac;      /* RFC 7366 offered (client) / accepted (server); default 1.
                                  No public setter yet: tests turn it off directly. */
};

struct handshake_flow;

/* What the peer told us in its hello. */
typedef struct peer_offer {
    uint16_t suites[LATCH_MAX_PEER_LIST];
    size_t suite_count;
    uint16_t groups[LATCH_MAX_PEER_LIST];
    size_t group_count;
    uint16_t signature_schemes[LATCH_MAX_PEER_LIST];
    size_t signature_scheme_count;
    int sent_groups, sent_signature_schemes, sent_point_formats;
    int extended_master_secret;
    int secure_renegotiation;  /* renegotiation_info or the SCSV */
    uint8_t alpn[256];         /* client's list (server) */
    size_t alpn_len;
    int sent_alpn;
    int encrypt_then_mac;      /* RFC 7366 extension 22 sent */
} peer_offer;

/* Handshake-only state: allocated with the connection and freed, wiped, as
 * soon as the handshake is over (engine_release_handshake), so an idle
 * connection does not carry it.  c->hs is NULL after the handshake. */
struct latch_handshake {
    peer_offer peer;                 /* what the peer said in its hello */
    record_protection pending_read, pending_write; /* TLS 1.2, until the CCS */

    /* key schedule */
    latch_hash_ctx transcript;
    int transcript_ready;
    byte_queue transcript_pending;   /* messages before the hash is known */
    uint8_t prior_hash[LATCH_MAX_HASH_LEN]; /* transcript before the current message */
    size_t prior_hash_len;
    uint8_t pre_master_secret[LATCH_MAX_KX_PUBLIC];
    size_t pre_master_len;
    uint8_t our_key_share[LATCH_MAX_KX_PUBLIC]; /* our ephemeral public value */
    size_t our_key_share_len;

    /* client authentication */
    uint8_t request_context[255];    /* TLS 1.3 certificate_request_context */
    size_t request_context_len;

    /* TLS 1.3 (RFC 8446 7.1) */
    uint8_t cookie[256];             /* HRR cookie to echo */
    size_t cookie_len;
    uint8_t peer_key_share[LATCH_MAX_KX_PUBLIC]; /* server: client's share for c->group */
    size_t peer_key_share_len;
    uint16_t peer_versions[16];
    size_t peer_version_count;
    uint16_t peer_share_groups[LATCH_MAX_PEER_LIST];
    size_t peer_share_group_count;
    uint8_t secret[LATCH_MAX_HASH_LEN];  /* current stage: early, handshake, master */
    uint8_t client_handshake_secret[LATCH_MAX_HASH_LEN];
    uint8_t server_handshake_secret[LATCH_MAX_HASH_LEN];
    uint8_t exporter_secret[LATCH_MAX_HASH_LEN]; /* only logged (no exporter API) */

    /* TLS 1.2 server, resumed: the session's first issue time, which a
     * ticket issued in this handshake keeps (new_session_ticket12_write) */
    uint64_t renew_issued_ms;
};

struct latch_conn {
    latch_config *config;
    int is_client;
    latch_observer_fn observer;      /* per-connection observer, else the config's */
    void *observer_arg;
    struct latch_handshake *hs;      /* NULL once the handshake is over */

    /* wire buffers */
    uint8_t *recv;             /* RECORD_MAX_WIRE bytes */
    size_t recv_len;
    size_t recv_used;          /* high-water mark, for the wipe */
    size_t recv_start;         /* records before it are processed (0 unless app_len) */
    size_t app_off, app_len;   /* the last application record's plaintext, decrypted in
                                  place in recv[] and not yet read: latch_conn_read copies
                                  from there; moved to app_in only when more bytes are
                                  received first (engine_spill_app) */
    byte_queue send;
    byte_queue app_in;         /* older plaintext, read before recv[app_off] */
    byte_queue handshake_in;   /* reassembly of handshake messages */
    byte_queue handshake_out;  /* messages not yet cut into records */
    record_protection read, write;
    uint16_t record_version;   /* version in outgoing record headers */
    int first_record_seen;

    /* progress */
    const struct handshake_flow *flow;
    size_t step;
    int handshake_done;
    int peer_closed, close_sent, failed;
    latch_error error;
    int alert, alert_sent;
    char *reason;              /* heap, set on failure */

    /* negotiation */
    uint16_t version;
    const latch_suite *suite;
    uint16_t group;
    uint16_t signature_scheme;
    uint8_t client_random[32], server_random[32];
    uint8_t session_id[32];
    size_t session_id_len;
    char server_name[256];
    char alpn[256];
    int extended_master_secret;
    const latch_cert_key *cert;      /* server: the chain we send */
    EVP_PKEY *key_exchange_key;      /* our ephemeral (EC)DH key */
    EVP_PKEY *peer_public_key;       /* client: server leaf key */

    /* key schedule */
    uint8_t master_secret[48];
    uint8_t client_verify_data[12], server_verify_data[12];

    /* resumption */
    latch_session *offered;          /* client: the session offered in ClientHello */
    latch_session *fresh;            /* client: the session to hand out */
    int resumed;
    int peer_sent_ticket_extension;  /* server: session_ticket in ClientHello (1.2) */
    const uint8_t *peer_ticket;      /* server: valid only while reading ClientHello */
    size_t peer_ticket_len;
    int send_ticket;                 /* 1.2: a NewSessionTicket is part of this flow */
    int psk_key_exchange_dhe;        /* server: client allows psk_dhe_ke */
    cursor peer_psk;                 /* server: pre_shared_key body, while reading CH */
    int early_data_offered;          /* server: client sent early_data (refused) */
    size_t early_data_skipped;
    uint32_t tickets_sent;
    const uint8_t *current_message;  /* the handshake message being read (with header) */
    size_t current_message_len;
    int started;                     /* client: ClientHello written */

    /* client authentication */
    int certificate_requested;       /* the server sent CertificateRequest */
    const latch_cert_key *client_cert; /* client: the chain we answer with, or NULL */
    uint16_t client_signature_scheme; /* client: for our CertificateVerify */
    int peer_sent_certificate;       /* server: the client's Certificate was not empty */
    char *peer_subject;              /* heap: verified peer leaf subject, or NULL */

    /* TLS 1.3 (RFC 8446 7.1) */
    int hello_retry;                 /* a HelloRetryRequest was sent/received */
    uint16_t offered_share_group;    /* client: group of the key share sent */
    int peer_sent_versions;          /* server: client sent supported_versions */
    int peer_sent_key_share;
    cursor peer_key_share_list;      /* server: valid only while reading ClientHello */
    int read_keys_changed;           /* set when read keys change mid-record */
    size_t hash_len;
    uint8_t client_application_secret[LATCH_MAX_HASH_LEN]; /* KeyUpdate */
    uint8_t server_application_secret[LATCH_MAX_HASH_LEN];
    uint8_t resumption_secret[LATCH_MAX_HASH_LEN]; /* 1.3 tickets after the handshake */

    /* TLS 1.2 CBC suites */
    int encrypt_then_mac;            /* RFC 7366 negotiated (CBC suites only) */
};

/* ---- engine services used by the handshake ---- */
int engine_write_record(latch_conn *c, record_protection *p, uint8_t type, uint16_t version,
                        const uint8_t *data, size_t len);
void engine_emit_change_cipher_spec_received(latch_conn *c, const char *detail);
void engine_start(latch_conn *c);
void engine_release_receive_buffer(latch_conn *c);
/* Move the plaintext left in the receive buffer (app_off/app_len) to app_in;
 * 0 or LATCH_ERR_INTERNAL (out of memory; the connection has failed). */
int engine_spill_app(latch_conn *c);
/* Unread plaintext at its limit: no more bytes are taken until the
 * application reads (latch_conn_recv_buf gives room 0). */
#define LATCH_MAX_UNREAD_PLAINTEXT (256u * 1024u)
int engine_unread_full(const latch_conn *c);
/* After the handshake: give back what an idle connection does not need. */
void engine_release_idle_buffers(latch_conn *c);
/* Wipe and free the handshake-only state (c->hs). */
void engine_release_handshake(latch_conn *c);
/* Record the verified peer subject (heap copy); 0 or LATCH_ERR_INTERNAL. */
int engine_set_peer_subject(latch_conn *c, const char *subject);
void engine_emit(latch_conn *c, latch_event_kind kind, const char *name, const char *detail);
void engine_emit_event(latch_conn *c, latch_event *ev);
/* Fail with err and a formatted reason; returns err for `return fail(...)`. */
int engine_fail(latch_conn *c, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int engine_random(latch_conn *c, uint8_t *out, size_t n);
/* Queue one handshake message (adds its header, feeds the transcript). */
int engine_queue_handshake(latch_conn *c, uint8_t type, const uint8_t *body, size_t len);
/* Cut queued handshake bytes into records under the current write keys. */
int engine_flush_handshake(latch_conn *c);
/* Write a ChangeCipherSpec record and switch to the pending write keys. */
int engine_send_change_cipher_spec(latch_conn *c);
/* Switch to pending read keys (after a ChangeCipherSpec was received). */
int engine_activate_read_keys(latch_conn *c);
int engine_send_alert(latch_conn *c, uint8_t level, uint8_t description);
/* TLS 1.3 middlebox compatibility: a plaintext CCS, no key change. */
int engine_send_compat_change_cipher_spec(latch_conn *c);
/* Install new write keys (flushes queued handshake bytes under the old ones). */
int engine_install_write_keys(latch_conn *c, record_protection *fresh, const char *what);
int engine_install_read_keys(latch_conn *c, record_protection *fresh, const char *what);
/* Key log line "LABEL <client_random hex> <secret hex>". */
void engine_keylog(latch_conn *c, const char *label, const uint8_t *secret, size_t len);

/* transcript */
int transcript_add(latch_conn *c, const uint8_t *msg, size_t len);
int transcript_start(latch_conn *c, enum latch_hash_id hash);
int transcript_hash(latch_conn *c, uint8_t *out, size_t *len);

#endif
