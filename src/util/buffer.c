#include "util/buffer.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

size_t byte_queue_length(const byte_queue *q) { return q->end - q->start; }

const uint8_t *byte_queue_front(const byte_queue *q)
{
    static const uint8_t empty[1];
    return q->data != NULL ? q->data + q->start : empty; /* never NULL + 0 */
}

uint8_t *byte_queue_reserve(byte_queue *q, size_t n)
{
    if (q->limit != 0 && (q->end - q->start) + n > q->limit)
        return NULL;
    if (q->capacity - q->end >= n)
        return q->data + q->end;
    size_t used = q->end - q->start;
    if (q->start > 0 && q->capacity - used >= n) { /* compact */
        memmove(q->data, q->data + q->start, used);
        q->start = 0;
        q->end = used;
        return q->data + q->end;
    }
    size_t want = used + n;
    if (q->limit != 0 && want > q->limit)
        return NULL;
    size_t cap = q->capacity ? q->capacity : 1024;
    while (cap < want)
        cap *= 2;
    uint8_t *fresh = malloc(cap);
    if (fresh == NULL)
        return NULL;
    if (used > 0)
        memcpy(fresh, q->data + q->start, used);
    if (q->data != NULL) {
        if (!q->public_only)
            OPENSSL_cleanse(q->data, q->used);
        free(q->data);
    }
    q->data = fresh;
    q->capacity = cap;
    q->start = 0;
    q->end = q->used = used;
    return q->data + q->end;
}

void byte_queue_commit(byte_queue *q, size_t n)
{
    q->end += n;
    if (q->end > q->used)
        q->used = q->end;
}

int byte_queue_append(byte_queue *q, const void *data, size_t n)
{
    uint8_t *dst = byte_queue_reserve(q, n);
    if (dst == NULL)
        return -1;
    if (n > 0)
        memcpy(dst, data, n);
    byte_queue_commit(q, n);
    return 0;
}

void byte_queue_consume(byte_queue *q, size_t n)
{
    q->start += n;
    if (q->start >= q->end)
        q->start = q->end = 0;
}

void byte_queue_free(byte_queue *q)
{
    if (q->data != NULL)
        OPENSSL_cleanse(q->data, q->used);
    byte_queue_release(q);
}

void byte_queue_release(byte_queue *q)
{
    size_t limit = q->limit; /* policies, not resources: they stay */
    int public_only = q->public_only;
    free(q->data);
    memset(q, 0, sizeof *q);
    q->limit = limit;
    q->public_only = public_only;
}
