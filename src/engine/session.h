/* Sessions, tickets and the session-id cache (engine/session.c). */
#ifndef LATCH_SESSION_H
#define LATCH_SESSION_H

#include "engine/internal.h"

latch_session *session_copy(const latch_session *s);
uint64_t session_now_ms(const latch_config *cfg);
/* Seal s (without its own ticket) under the first ticket key. */
int ticket_seal(const latch_config *cfg, const latch_session *s, const uint8_t iv[12],
                uint8_t *out, size_t cap, size_t *len);
/* The session in a ticket, or NULL (unknown key, tampered, expired); *key_index
 * (when not NULL) says which ticket key opened it, 0 being the current one. */
latch_session *ticket_open(const latch_config *cfg, const uint8_t *ticket, size_t len,
                           size_t *key_index);

/* The session-ID cache (engine/session_cache.c); NULL if capacity is 0. */
struct session_cache *session_cache_new(size_t capacity, uint32_t lifetime);
/* One more configuration uses cache; returns it. */
struct session_cache *session_cache_ref(struct session_cache *cache);
/* Drop one reference; the last one frees the cache. */
void session_cache_free(struct session_cache *cache);
void session_cache_put(struct session_cache *cache, const latch_session *s);
/* 1 and *out filled if id is cached and fresh. */
int session_cache_get(struct session_cache *cache, const uint8_t *id, size_t id_len,
                      uint64_t now_ms, latch_session *out);
/* Sessions held now. */
size_t session_cache_count(struct session_cache *cache);

/* The largest ticket latch seals: key name, IV, the session (with a server
 * name and a peer subject of up to 255 bytes each), tag. */
#define LATCH_TICKET_MAX 768

#endif
