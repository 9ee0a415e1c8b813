/*
 * The server's TLS 1.2 session-ID cache (RFC 5246 7.4.1.2 / F.1.4): bounded,
 * the least recently used session goes first, expired ones are forgotten
 * when met.
 *
 * Every operation is O(1) whatever the size (latch serve allows a million
 * entries): a hash table of the session IDs with chains through the entries,
 * and a doubly linked list in order of use.  Entries are indices into one
 * array that grows on demand up to the capacity, so a large cache costs
 * memory only as it fills (the chain heads, 4 bytes an entry, are made at
 * once).  The IDs in the table are the server's own random
 * ones; a client's ID only picks the chain that is searched.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/session.h"

#define NONE UINT32_MAX

struct cache_entry {
    latch_session session; /* session_id_len == 0: on the free list */
    uint32_t chain_next;   /* next entry of its hash chain, or of the free list */
    uint32_t newer, older; /* the use-order list */
};

struct session_cache {
    pthread_mutex_t lock;
    size_t references;  /* configurations sharing it (under lock) */
    uint32_t capacity;  /* most entries kept */
    uint32_t lifetime;  /* seconds */
    struct cache_entry *entries;
    uint32_t allocated; /* entries[0 .. allocated) exist */
    uint32_t used;      /* of which in the table */
    uint32_t free_list; /* removed entries to reuse first */
    uint32_t newest, oldest;
    uint32_t *buckets;  /* chain heads */
    uint32_t bucket_mask;
};

/* FNV-1a over the ID: cheap, and the stored IDs are random anyway. */
static uint32_t id_bucket(const struct session_cache *cache, const uint8_t *id, size_t len)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ id[i]) * 0x100000001b3u;
    return (uint32_t)(h ^ (h >> 32)) & cache->bucket_mask;
}

struct session_cache *session_cache_new(size_t capacity, uint32_t lifetime)
{
    if (capacity == 0 || capacity >= NONE)
        return NULL;
    struct session_cache *cache = calloc(1, sizeof *cache);
    if (cache == NULL)
        return NULL;
    size_t buckets = 16;
    while (buckets < capacity)
        buckets *= 2;
    cache->buckets = malloc(buckets * sizeof *cache->buckets);
    if (cache->buckets == NULL) {
        free(cache);
        return NULL;
    }
    memset(cache->buckets, 0xff, buckets * sizeof *cache->buckets); /* all NONE */
    pthread_mutex_init(&cache->lock, NULL);
    cache->references = 1;
    cache->capacity = (uint32_t)capacity;
    cache->lifetime = lifetime;
    cache->bucket_mask = (uint32_t)(buckets - 1);
    cache->free_list = cache->newest = cache->oldest = NONE;
    return cache;
}

struct session_cache *session_cache_ref(struct session_cache *cache)
{
    pthread_mutex_lock(&cache->lock);
    cache->references++;
    pthread_mutex_unlock(&cache->lock);
    return cache;
}

void session_cache_free(struct session_cache *cache)
{
    if (cache == NULL)
        return;
    pthread_mutex_lock(&cache->lock);
    size_t left = --cache->references;
    pthread_mutex_unlock(&cache->lock);
    if (left > 0)
        return;
    if (cache->entries != NULL)
        latch_wipe(cache->entries, cache->allocated * sizeof *cache->entries);
    pthread_mutex_destroy(&cache->lock);
    free(cache->entries);
    free(cache->buckets);
    free(cache);
}

/* ---- the use-order list ---- */

static void order_unlink(struct session_cache *cache, uint32_t i)
{
    struct cache_entry *e = &cache->entries[i];
    if (e->newer != NONE)
        cache->entries[e->newer].older = e->older;
    else
        cache->newest = e->older;
    if (e->older != NONE)
        cache->entries[e->older].newer = e->newer;
    else
        cache->oldest = e->newer;
}

static void order_push_newest(struct session_cache *cache, uint32_t i)
{
    struct cache_entry *e = &cache->entries[i];
    e->newer = NONE;
    e->older = cache->newest;
    if (cache->newest != NONE)
        cache->entries[cache->newest].newer = i;
    cache->newest = i;
    if (cache->oldest == NONE)
        cache->oldest = i;
}

/* Take entry i out of its chain and the use order, wipe it, free it. */
static void entry_remove(struct session_cache *cache, uint32_t i)
{
    struct cache_entry *e = &cache->entries[i];
    uint32_t *link = &cache->buckets[id_bucket(cache, e->session.session_id,
                                               e->session.session_id_len)];
    while (*link != i)
        link = &cache->entries[*link].chain_next;
    *link = e->chain_next;
    order_unlink(cache, i);
    latch_wipe(&e->session, sizeof e->session);
    e->chain_next = cache->free_list;
    cache->free_list = i;
    cache->used--;
}

/* A free entry: a removed one, a new one, or else the least recently used. */
static uint32_t entry_take(struct session_cache *cache)
{
    if (cache->free_list == NONE && cache->allocated < cache->capacity) {
        uint64_t wanted = cache->allocated < 64 ? 64 : (uint64_t)cache->allocated * 2;
        uint32_t want = wanted > cache->capacity ? cache->capacity : (uint32_t)wanted;
        struct cache_entry *grown = malloc((size_t)want * sizeof *grown);
        if (grown != NULL) {
            /* copied rather than realloc'ed, so the old array can be wiped */
            if (cache->entries != NULL) {
                memcpy(grown, cache->entries, cache->allocated * sizeof *grown);
                latch_wipe(cache->entries, cache->allocated * sizeof *grown);
                free(cache->entries);
            }
            cache->entries = grown;
            for (uint32_t i = want; i-- > cache->allocated;) {
                grown[i].session.session_id_len = 0;
                grown[i].chain_next = cache->free_list;
                cache->free_list = i;
            }
            cache->allocated = want;
        }
    }
    if (cache->free_list == NONE) {
        if (cache->oldest == NONE)
            return NONE; /* nothing allocated and no memory for it */
        entry_remove(cache, cache->oldest);
    }
    uint32_t i = cache->free_list;
    cache->free_list = cache->entries[i].chain_next;
    return i;
}

void session_cache_put(struct session_cache *cache, const latch_session *s)
{
    if (s->session_id_len == 0 || s->session_id_len > sizeof s->session_id)
        return;
    pthread_mutex_lock(&cache->lock);
    uint32_t i = entry_take(cache);
    if (i != NONE) {
        struct cache_entry *e = &cache->entries[i];
        uint32_t *head = &cache->buckets[id_bucket(cache, s->session_id, s->session_id_len)];
        e->session = *s;
        e->session.ticket = NULL;
        e->session.ticket_len = 0;
        e->session.lifetime = cache->lifetime;
        e->chain_next = *head;
        *head = i;
        order_push_newest(cache, i);
        cache->used++;
    }
    pthread_mutex_unlock(&cache->lock);
}

int session_cache_get(struct session_cache *cache, const uint8_t *id, size_t id_len,
                      uint64_t now_ms, latch_session *out)
{
    int found = 0;
    if (id_len == 0 || id_len > sizeof out->session_id)
        return 0;
    pthread_mutex_lock(&cache->lock);
    for (uint32_t i = cache->buckets[id_bucket(cache, id, id_len)]; i != NONE;
         i = cache->entries[i].chain_next) {
        latch_session *e = &cache->entries[i].session;
        if (e->session_id_len != id_len || memcmp(e->session_id, id, id_len) != 0)
            continue;
        if (now_ms > e->issued_ms + (uint64_t)e->lifetime * 1000u) {
            entry_remove(cache, i); /* expired: forget it */
            break;
        }
        *out = *e;
        order_unlink(cache, i);
        order_push_newest(cache, i);
        found = 1;
        break;
    }
    pthread_mutex_unlock(&cache->lock);
    return found;
}

size_t session_cache_count(struct session_cache *cache)
{
    pthread_mutex_lock(&cache->lock);
    size_t n = cache->used;
    pthread_mutex_unlock(&cache->lock);
    return n;
}
