/* Small recursive-descent JSON reader for test vectors (see json.h). */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64

typedef struct parser {
    const char *p, *end;
    int depth;
} parser;

static json_value *parse_value(parser *ps);

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int expect(parser *ps, char c)
{
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return 1;
    }
    return 0;
}

static json_value *new_value(json_type type)
{
    json_value *v = calloc(1, sizeof(*v));
    if (v != NULL)
        v->type = type;
    return v;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* \uXXXX (no surrogate pairing: the vectors are ASCII) written as UTF-8. */
static int put_unicode(parser *ps, char *out, size_t *n)
{
    unsigned cp = 0;
    for (int i = 0; i < 4; i++) {
        int d = ps->p < ps->end ? hex_digit(*ps->p++) : -1;
        if (d < 0)
            return 0;
        cp = cp << 4 | (unsigned)d;
    }
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xc0 | cp >> 6);
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*n)++] = (char)(0xe0 | cp >> 12);
        out[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
    return 1;
}

static int put_escape(parser *ps, char *out, size_t *n)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *hit;
    char c;

    if (ps->p >= ps->end)
        return 0;
    c = *ps->p++;
    if (c == 'u')
        return put_unicode(ps, out, n);
    if ((hit = strchr(from, c)) == NULL || c == '\0')
        return 0;
    out[(*n)++] = to[hit - from];
    return 1;
}

/* Parses a string literal (at the opening quote); malloc'd result. */
static char *parse_string(parser *ps, size_t *out_len)
{
    char *out;
    size_t n = 0;

    if (!expect(ps, '"'))
        return NULL;
    /* Decoded text is never longer than the rest of the input (\uXXXX -> <=3). */
    if ((out = malloc((size_t)(ps->end - ps->p) + 1)) == NULL)
        return NULL;
    while (ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if ((unsigned char)c < 0x20 || (c == '\\' && !put_escape(ps, out, &n))) {
            free(out);
            return NULL;
        }
        if (c != '\\')
            out[n++] = c;
    }
    if (ps->p >= ps->end) {
        free(out);
        return NULL;
    }
    ps->p++;
    out[n] = '\0';
    *out_len = n;
    return out;
}

static int add_item(json_value *parent, json_value *child)
{
    json_value **items = realloc(parent->items, (parent->count + 1) * sizeof(*items));
    if (items == NULL)
        return 0;
    parent->items = items;
    items[parent->count++] = child;
    return 1;
}

/* Array or object body after the opening bracket. */
static json_value *parse_container(parser *ps, json_type type, char close)
{
    json_value *v = new_value(type);

    if (v == NULL || ++ps->depth > JSON_MAX_DEPTH)
        goto fail;
    if (expect(ps, close)) {
        ps->depth--;
        return v;
    }
    do {
        size_t klen;
        char *key = NULL;
        json_value *child;
        skip_ws(ps);
        if (type == JSON_OBJECT && ((key = parse_string(ps, &klen)) == NULL || !expect(ps, ':'))) {
            free(key);
            goto fail;
        }
        if ((child = parse_value(ps)) == NULL || !add_item(v, child)) {
            free(key);
            json_free(child);
            goto fail;
        }
        child->key = key;
    } while (expect(ps, ','));
    if (!expect(ps, close))
        goto fail;
    ps->depth--;
    return v;
fail:
    json_free(v);
    return NULL;
}

static json_value *parse_literal(parser *ps)
{
    static const struct { const char *text; json_type type; double num; } lits[] = {
        {"true", JSON_BOOL, 1}, {"false", JSON_BOOL, 0}, {"null", JSON_NULL, 0}};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(lits[i].text);
        if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, lits[i].text, n) == 0) {
            json_value *v = new_value(lits[i].type);
            ps->p += n;
            if (v != NULL)
                v->number = lits[i].num;
            return v;
        }
    }
    return NULL;
}

static json_value *parse_number(parser *ps)
{
    char buf[64], *endp;
    size_t n = 0;
    json_value *v;

    while (ps->p + n < ps->end && n < sizeof(buf) - 1 && strchr("+-.eE0123456789", ps->p[n]) &&
           ps->p[n] != '\0') {
        buf[n] = ps->p[n];
        n++;
    }
    buf[n] = '\0';
    if (n == 0 || (v = new_value(JSON_NUMBER)) == NULL)
        return NULL;
    v->number = strtod(buf, &endp);
    if (endp != buf + n) {
        free(v);
        return NULL;
    }
    ps->p += n;
    return v;
}

static json_value *parse_value(parser *ps)
{
    json_value *v;

    skip_ws(ps);
    if (ps->p >= ps->end)
        return NULL;
    if (*ps->p == '{' || *ps->p == '[') {
        char open = *ps->p++;
        return parse_container(ps, open == '{' ? JSON_OBJECT : JSON_ARRAY, open == '{' ? '}' : ']');
    }
    if (*ps->p == '"') {
        if ((v = new_value(JSON_STRING)) != NULL &&
            (v->string = parse_string(ps, &v->string_len)) == NULL) {
            free(v);
            v = NULL;
        }
        return v;
    }
    if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
        return parse_number(ps);
    return parse_literal(ps);
}

json_value *json_parse(const char *text, size_t len)
{
    parser ps = {text, text + len, 0};
    json_value *v = parse_value(&ps);

    skip_ws(&ps);
    if (v == NULL || ps.p != ps.end) {
        fprintf(stderr, "json: syntax error at offset %zu\n", (size_t)(ps.p - text));
        json_free(v);
        return NULL;
    }
    return v;
}

json_value *json_load_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long size;
    json_value *v = NULL;

    if (f == NULL) {
        fprintf(stderr, "json: cannot open %s\n", path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)size + 1)) != NULL && fread(buf, 1, (size_t)size, f) == (size_t)size)
        v = json_parse(buf, (size_t)size);
    free(buf);
    fclose(f);
    return v;
}

void json_free(json_value *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < v->count; i++)
        json_free(v->items[i]);
    free(v->items);
    free(v->key);
    free(v->string);
    free(v);
}

const json_value *json_member(const json_value *obj, const char *key)
{
    if (obj == NULL || obj->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->count; i++)
        if (strcmp(obj->items[i]->key, key) == 0)
            return obj->items[i];
    return NULL;
}

const json_value *json_at(const json_value *arr, size_t index)
{
    if (arr == NULL || arr->type != JSON_ARRAY || index >= arr->count)
        return NULL;
    return arr->items[index];
}

/* One path step at *pp: [n], ["name"] or a bare name up to '.' or '['. */
static const json_value *path_step(const json_value *v, const char **pp)
{
    const char *p = *pp, *stop;
    char name[256];
    size_t n;

    if (p[0] == '[' && p[1] == '"') {
        if ((stop = strstr(p + 2, "\"]")) == NULL || (n = (size_t)(stop - p - 2)) >= sizeof(name))
            return NULL;
        memcpy(name, p + 2, n);
        name[n] = '\0';
        *pp = stop + 2;
        return json_member(v, name);
    }
    if (p[0] == '[') {
        char *endp;
        unsigned long idx = strtoul(p + 1, &endp, 10);
        if (endp == p + 1 || *endp != ']')
            return NULL;
        *pp = endp + 1;
        return json_at(v, idx);
    }
    n = strcspn(p, ".[");
    if (n == 0 || n >= sizeof(name))
        return NULL;
    memcpy(name, p, n);
    name[n] = '\0';
    *pp = p + n;
    return json_member(v, name);
}

const json_value *json_get(const json_value *root, const char *path)
{
    const json_value *v = root;
    const char *p = path;

    while (v != NULL && *p != '\0') {
        if (*p == '.' && p != path)
            p++;
        v = path_step(v, &p);
    }
    return v;
}

const char *json_string(const json_value *root, const char *path)
{
    const json_value *v = json_get(root, path);
    return v != NULL && v->type == JSON_STRING ? v->string : NULL;
}

int json_number(const json_value *root, const char *path, double *out)
{
    const json_value *v = json_get(root, path);
    if (v == NULL || v->type != JSON_NUMBER)
        return -1;
    *out = v->number;
    return 0;
}

size_t json_count(const json_value *root, const char *path)
{
    const json_value *v = json_get(root, path);
    return v != NULL && (v->type == JSON_ARRAY || v->type == JSON_OBJECT) ? v->count : 0;
}

uint8_t *json_hex_decode(const char *hex, size_t hex_len, size_t *len)
{
    uint8_t *out;

    if (hex == NULL || hex_len % 2 != 0 || (out = malloc(hex_len / 2 + 1)) == NULL)
        return NULL;
    for (size_t i = 0; i < hex_len / 2; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = hex_len / 2;
    return out;
}

uint8_t *json_hex(const json_value *root, const char *path, size_t *len)
{
    const json_value *v = json_get(root, path);
    if (v == NULL || v->type != JSON_STRING)
        return NULL;
    return json_hex_decode(v->string, v->string_len, len);
}
