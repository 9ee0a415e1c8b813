/*
 * Small JSON reader for test vector files: parse a whole document into a
 * tree, then look values up by path.
 *
 * Path syntax: members separated by '.', array elements as [n], and members
 * whose name contains '.' or '[' as ["name"], e.g.
 *   "secrets.master_secret", "records[3].messages[0].bytes",
 *   "transcript_hashes[\"client_hello..server_hello\"]".
 */
#ifndef LATCH_TEST_JSON_H
#define LATCH_TEST_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef enum json_type {
    JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT
} json_type;

typedef struct json_value {
    json_type type;
    char *key;                 /* member name when the parent is an object */
    char *string;              /* JSON_STRING: decoded, NUL-terminated */
    size_t string_len;         /* JSON_STRING: length (may contain NULs) */
    double number;             /* JSON_NUMBER; JSON_BOOL: 0 or 1 */
    struct json_value **items; /* JSON_ARRAY elements / JSON_OBJECT members */
    size_t count;
} json_value;

/* Parse a document.  NULL on a syntax error (message on stderr). */
json_value *json_parse(const char *text, size_t len);
/* Read and parse a file.  NULL on error. */
json_value *json_load_file(const char *path);
void json_free(json_value *v);

/* Lookups; all return NULL when absent or of the wrong type. */
const json_value *json_get(const json_value *root, const char *path);
const json_value *json_member(const json_value *obj, const char *key);
const json_value *json_at(const json_value *arr, size_t index);
const char *json_string(const json_value *root, const char *path);
/* Number at path stored in *out; 0, or -1 if missing / not a number. */
int json_number(const json_value *root, const char *path, double *out);
/* Element count of the array/object at path (0 if not one). */
size_t json_count(const json_value *root, const char *path);

/* Hex string at path decoded into a malloc'd buffer (free it), length in
 * *len.  Empty string gives a 1-byte allocation and *len 0.  NULL if the
 * value is missing, not a string, or not valid hex. */
uint8_t *json_hex(const json_value *root, const char *path, size_t *len);
/* Same for a hex string given directly. */
uint8_t *json_hex_decode(const char *hex, size_t hex_len, size_t *len);

#endif
