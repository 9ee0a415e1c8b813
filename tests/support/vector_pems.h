/* The PEM blocks of a byte-vector file (server certificate, its key, the
 * CA) written to temporary files, for tests that load them by path. */
#ifndef LATCH_TEST_VECTOR_PEMS_H
#define LATCH_TEST_VECTOR_PEMS_H

#include "json.h"

typedef struct vector_pems {
    char cert[600], key[600], ca[600];
} vector_pems;

/* Writes server_cert_pem, server_cert_private_key_pem and ca_cert_pem of vec
 * to PREFIX-cert-XXXXXX etc. under LATCH_TEST_WORK (or /tmp).  Returns 0, or
 * -1 when a block is missing or a file cannot be written. */
int vector_pems_write(const json_value *vec, const char *prefix, vector_pems *out);
/* Removes the files written by vector_pems_write. */
void vector_pems_remove(const vector_pems *pems);

#endif
