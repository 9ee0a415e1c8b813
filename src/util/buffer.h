/* A growable byte queue: append at the end, consume from the front. */
#ifndef LATCH_BUFFER_H
#define LATCH_BUFFER_H

#include <stddef.h>
#include <stdint.h>

typedef struct byte_queue {
    uint8_t *data;
    size_t start;    /* first unconsumed byte */
    size_t end;      /* one past the last byte */
    size_t capacity;
    size_t limit;    /* refuse to grow past this (0 = no limit) */
    size_t used;     /* high-water mark: the bytes a wipe must cover */
    int public_only; /* ciphertext/public bytes only: no wipe when regrown */
} byte_queue;

size_t byte_queue_length(const byte_queue *q);
const uint8_t *byte_queue_front(const byte_queue *q);
/* Make room for n more bytes at the end; returns where to write, or NULL. */
uint8_t *byte_queue_reserve(byte_queue *q, size_t n);
void byte_queue_commit(byte_queue *q, size_t n);
int byte_queue_append(byte_queue *q, const void *data, size_t n);
void byte_queue_consume(byte_queue *q, size_t n);
/* Wipe (secrets may have passed through) and free; limit and public_only are kept. */
void byte_queue_free(byte_queue *q);
/* Free without wiping: for queues of public bytes or ciphertext only. */
void byte_queue_release(byte_queue *q);

#endif
