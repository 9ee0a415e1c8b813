/* TLS 1.3 pieces shared by the 1.3 message files. */
#ifndef LATCH_HANDSHAKE13_H
#define LATCH_HANDSHAKE13_H

#include "handshake/handshake.h"

int tls13_expand_label(const latch_crypto *crypto, enum latch_hash_id hash,
                       const uint8_t *secret, size_t secret_len, const char *label,
                       const uint8_t *context, size_t context_len, uint8_t *out, size_t out_len);
int tls13_early_secret(latch_conn *c, const uint8_t *psk, size_t psk_len);
int tls13_protection(latch_conn *c, const uint8_t *traffic_secret, int encrypt,
                     record_protection *out);
int tls13_derive_handshake_secrets(latch_conn *c);
int tls13_derive_application_secrets(latch_conn *c);
int tls13_derive_resumption_secret(latch_conn *c);
int tls13_finished(latch_conn *c, const uint8_t *base_secret, const uint8_t *hash,
                   size_t hash_len, uint8_t *out);
int tls13_next_traffic_secret(latch_conn *c, uint8_t *secret);

/* Our best TLS 1.3 signature scheme for ck among the peer's list, or 0. */
uint16_t tls13_pick_scheme(const latch_conn *c, const latch_cert_key *ck);

/* Install traffic keys derived from a secret. */
int tls13_install_write(latch_conn *c, const uint8_t *secret, const char *what);
int tls13_install_read(latch_conn *c, const uint8_t *secret, const char *what);

/* HelloRetryRequest: ServerHello.random = SHA-256("HelloRetryRequest") */
extern const uint8_t tls13_hello_retry_random[32];
/* RFC 8446 4.1.3: last 8 bytes of ServerHello.random when a 1.3 server
 * negotiates TLS 1.2 */
extern const uint8_t tls13_downgrade_tls12[8];

#endif
