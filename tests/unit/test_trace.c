/* The tracer: table / timeline / JSON renderings of real in-memory
 * handshakes, garbage bodies (run under ASan), and the key log helper. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "json.h"
#include "latch/trace.h"
#include "pair.h"

/* ---- running a traced handshake ---- */

typedef struct traced_run {
    char *text;                 /* the rendering (malloc'd) */
    char suite[64];             /* negotiated suite */
} traced_run;

static void exchange_data(pair *p)
{
    uint8_t buf[600] = {0};
    memset(buf, 'x', sizeof buf);
    CHECK(latch_conn_write(p->client, buf, 100) == 100);
    pair_pump(p);
    while (latch_conn_read(p->server, buf, sizeof buf) > 0)
        ;
    CHECK(latch_conn_write(p->server, buf, 512) == 512);
    pair_pump(p);
    while (latch_conn_read(p->client, buf, sizeof buf) > 0)
        ;
    CHECK(latch_conn_close(p->client) == 0);
    pair_pump(p);
}

/* A client-side trace of a handshake at version (LATCH_VERSION_TLS12/13). */
static traced_run traced_handshake(uint16_t version, enum latch_trace_format format)
{
    traced_run run = {0};
    size_t size = 0;
    FILE *out = open_memstream(&run.text, &size);
    latch_tracer *tracer = latch_tracer_new(format, out, "localhost:443");
    pair p;
    uint64_t start = latch_trace_now_us();
    CHECK(tracer != NULL);
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_versions(p.client_config, version, version) == 0);
    latch_config_set_observer(p.client_config, latch_tracer_observe, tracer);
    latch_tracer_note(tracer, start, "start", "https://localhost/");
    latch_tracer_note(tracer, start + 150, "DNS resolution", "127.0.0.1");
    latch_tracer_note(tracer, start + 420, "TCP connect", "SYN, SYN-ACK, ACK");
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) == 0);
    snprintf(run.suite, sizeof run.suite, "%s", latch_conn_cipher_suite_name(p.client));
    exchange_data(&p);
    latch_tracer_note(tracer, latch_trace_now_us(), "closed", "FIN");
    latch_tracer_finish(tracer);
    latch_tracer_free(tracer);
    pair_free(&p);
    fclose(out);
    return run;
}

/* ---- table ---- */

typedef struct expected_row {
    const char *message, *type;
    int encrypted;
} expected_row;

/* Message rows are the lines that start with a row number. */
static int is_message_row(const char *line)
{
    size_t spaces = strspn(line, " ");
    return spaces < 4 && line[spaces] >= '1' && line[spaces] <= '9';
}

/* Each expected row, in order, among the message rows; optional_message
 * rows (NULL: none) may appear anywhere and are skipped. */
static void check_rows(const char *text, const expected_row *rows, size_t count,
                       const char *optional_message)
{
    char *copy = strdup(text), *save = NULL;
    size_t next = 0;
    for (char *line = strtok_r(copy, "\n", &save); line != NULL && next < count;
         line = strtok_r(NULL, "\n", &save)) {
        char message[80], type[16];
        if (!is_message_row(line))
            continue;
        snprintf(message, sizeof message, "  %s ", rows[next].message);
        snprintf(type, sizeof type, "  %s", rows[next].type);
        if (optional_message != NULL && strstr(line, optional_message) != NULL)
            continue;
        const char *at = strstr(line, message);
        at = at != NULL ? strstr(at + strlen(message) - 1, type) : NULL;
        int ok = at != NULL && (at[strlen(type)] == ' ' || at[strlen(type)] == '\0') &&
                 (strstr(line, "(encrypted)") != NULL) == rows[next].encrypted;
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  row %zu: expected %s %s%s, got: %s\n", next + 1,
                    rows[next].message, rows[next].type,
                    rows[next].encrypted ? " (encrypted)" : "", line);
        next++;
    }
    CHECK_EQ_INT(next, count);
    free(copy);
}

static void test_table_tls12(void)
{
    static const expected_row rows[] = {
        {"ClientHello", "22/1", 0},       {"ServerHello", "22/2", 0},
        {"Certificate", "22/11", 0},      {"ServerKeyExchange", "22/12", 0},
        {"ServerHelloDone", "22/14", 0},  {"ClientKeyExchange", "22/16", 0},
        {"ChangeCipherSpec", "20", 0},    {"Finished", "22/20", 1},
        {"ChangeCipherSpec", "20", 0},    {"Finished", "22/20", 1},
        {"Application data 100 B", "23", 1}, {"Application data 512 B", "23", 1},
        {"Alert close_notify (warning)", "21", 1},
    };
    traced_run run = traced_handshake(LATCH_VERSION_TLS12, LATCH_TRACE_TABLE);
    check_rows(run.text, rows, sizeof rows / sizeof rows[0], "NewSessionTicket");
    CHECK(strstr(run.text, "offers TLS 1.2") != NULL);
    CHECK(strstr(run.text, "SNI localhost") != NULL);
    CHECK(strstr(run.text, "EMS offered") != NULL);
    CHECK(strstr(run.text, "EMS accepted") != NULL);
    CHECK(strstr(run.text, run.suite) != NULL);
    CHECK(strstr(run.text, "leaf /CN=localhost") != NULL);
    CHECK(strstr(run.text, "signed with ecdsa_secp256r1_sha256") != NULL);
    CHECK(strstr(run.text, "verify_data 12 B") != NULL);
    CHECK(strstr(run.text, "· negotiated: ") != NULL);
    CHECK(strstr(run.text, "· DNS resolution: 127.0.0.1") != NULL);
    CHECK(strstr(run.text, "records: ") != NULL);
    CHECK(strchr(run.text, '\033') == NULL); /* not a terminal: no colour */
    if (getenv("TRACE_SHOW"))
        fputs(run.text, stdout);
    free(run.text);
}

static void test_table_tls13(void)
{
    static const expected_row rows[] = {
        {"ClientHello", "22/1", 0},         {"ServerHello", "22/2", 0},
        {"EncryptedExtensions", "22/8", 1}, {"Certificate", "22/11", 1},
        {"CertificateVerify", "22/15", 1},  {"Finished", "22/20", 1},
        {"Finished", "22/20", 1},
    };
    traced_run run = traced_handshake(LATCH_VERSION_TLS13, LATCH_TRACE_TABLE);
    check_rows(run.text, rows, sizeof rows / sizeof rows[0], "ChangeCipherSpec");
    CHECK(strstr(run.text, "offers TLS 1.3") != NULL);
    CHECK(strstr(run.text, "TLS 1.3; ") != NULL); /* the ServerHello's chosen version */
    CHECK(strstr(run.text, "key share ") != NULL);
    CHECK(strstr(run.text, "server → client encrypted from here (server handshake traffic)") != NULL);
    CHECK(strstr(run.text, "leaf /CN=localhost") != NULL);
    if (getenv("TRACE_SHOW"))
        fputs(run.text, stdout);
    free(run.text);
}

/* Server wants secp384r1, client's first key share is x25519: a retry. */
static void test_table_hello_retry(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    latch_tracer *tracer = latch_tracer_new(LATCH_TRACE_TABLE, out, NULL);
    pair p;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_groups(p.server_config, "secp384r1") == 0);
    latch_config_set_observer(p.client_config, latch_tracer_observe, tracer);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) == 0);
    pair_free(&p);
    latch_tracer_finish(tracer);
    latch_tracer_free(tracer);
    fclose(out);
    CHECK(strstr(text, "HelloRetryRequest; asks for key share secp384r1") != NULL);
    CHECK(strstr(text, "key share secp384r1; SNI localhost") != NULL); /* second ClientHello */
    CHECK(strstr(text, "· HelloRetryRequest: secp384r1") != NULL);
    CHECK(strstr(text, "connection ") == NULL); /* no label, no title */
    if (getenv("TRACE_SHOW"))
        fputs(text, stdout);
    free(text);
}

/* A failed handshake ends in a fatal alert row. */
static void test_table_fatal_alert(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    latch_tracer *tracer = latch_tracer_new(LATCH_TRACE_TABLE, out, "wrong name");
    pair p;
    CHECK(pair_configs(&p, "p256") == 0);
    latch_config_set_observer(p.server_config, latch_tracer_observe, tracer);
    CHECK(pair_connect(&p, "wrong.example") == 0);
    CHECK(pair_handshake(&p) != 0);
    pair_free(&p);
    latch_tracer_finish(tracer);
    latch_tracer_free(tracer);
    fclose(out);
    CHECK(strstr(text, "client → server  Alert bad_certificate (fatal)") != NULL);
    CHECK(strstr(text, "· failed: peer sent alert bad_certificate") != NULL);
    if (getenv("TRACE_SHOW"))
        fputs(text, stdout);
    free(text);
}

/* ---- timeline ---- */

static void test_timeline(void)
{
    traced_run run = traced_handshake(LATCH_VERSION_TLS13, LATCH_TRACE_TIMELINE);
    CHECK(strstr(run.text, "timeline of localhost:443 (client side)") != NULL);
    CHECK(strstr(run.text, "· DNS resolution: 127.0.0.1") != NULL);
    CHECK(strstr(run.text, "· TCP connect") != NULL);
    CHECK(strstr(run.text, "client → server  ClientHello (1 message") != NULL);
    CHECK(strstr(run.text, "server → client  ServerHello, ChangeCipherSpec, EncryptedExtensions") != NULL);
    CHECK(strstr(run.text, "round trip") != NULL);
    CHECK(strstr(run.text, "client think time") != NULL);
    CHECK(strstr(run.text, "150 µs") != NULL); /* start -> DNS */
    CHECK(strstr(run.text, "total over") != NULL);
    CHECK(strstr(run.text, "TLS handshake, 1 round trip\n") != NULL);
    CHECK(strstr(run.text, "█") != NULL);
    if (getenv("TRACE_SHOW"))
        fputs(run.text, stdout);
    free(run.text);
}

/* ---- JSON ---- */

static const char *const required_keys[] = {"conn", "seq", "t_us", "event"};
static const char *const message_keys[] = {"dir", "content_type", "name", "length", "encrypted"};

/* Checks every line; collects the handshake types and the hello fields. */
static void check_json_lines(const char *text, int *types, size_t *type_count, char *sni,
                             char *suite, char *version)
{
    const char *line = text;
    double expected_seq = 1;
    *type_count = 0;
    while (*line != '\0') {
        const char *end = strchr(line, '\n');
        size_t length = end ? (size_t)(end - line) : strlen(line);
        json_value *object = json_parse(line, length);
        CHECK(object != NULL && object->type == JSON_OBJECT);
        if (object == NULL) {
            fprintf(stderr, "  bad JSON line: %.*s\n", (int)length, line);
            break;
        }
        for (size_t i = 0; i < 4; i++)
            CHECK(json_member(object, required_keys[i]) != NULL);
        double seq = -1;
        CHECK(json_number(object, "seq", &seq) == 0 && seq == expected_seq);
        expected_seq++;
        const char *event = json_string(object, "event");
        if (event != NULL && strcmp(event, "handshake") == 0) {
            double type = -1;
            for (size_t i = 0; i < 5; i++)
                CHECK(json_member(object, message_keys[i]) != NULL);
            CHECK(json_get(object, "fields") != NULL);
            CHECK(json_number(object, "handshake_type", &type) == 0);
            if (*type_count < 32)
                types[(*type_count)++] = (int)type;
            if (type == 1 && json_string(object, "fields.sni"))
                snprintf(sni, 64, "%s", json_string(object, "fields.sni"));
            if (type == 2 && json_string(object, "fields.suite"))
                snprintf(suite, 64, "%s", json_string(object, "fields.suite"));
            if (type == 2 && json_string(object, "fields.version"))
                snprintf(version, 64, "%s", json_string(object, "fields.version"));
        }
        json_free(object);
        line += length + (end != NULL);
    }
}

static void json_case(uint16_t version, const int *expected, size_t expected_count,
                      const char *version_name)
{
    traced_run run = traced_handshake(version, LATCH_TRACE_JSON);
    int types[32];
    size_t count;
    char sni[64] = "", suite[64] = "", chosen[64] = "";
    check_json_lines(run.text, types, &count, sni, suite, chosen);
    size_t matched = 0, i = 0;
    for (; i < count && matched < expected_count; i++) {
        if (types[i] == 4 && expected[matched] != 4)
            continue; /* tickets may come before the 1.2 server Finished */
        CHECK_EQ_INT(types[i], expected[matched]);
        matched++;
    }
    CHECK_EQ_INT(matched, expected_count);
    CHECK(strcmp(sni, "localhost") == 0);
    CHECK(strcmp(suite, run.suite) == 0);
    CHECK(strcmp(chosen, version_name) == 0);
    CHECK(strstr(run.text, "\"event\":\"end\"") != NULL);
    CHECK(strstr(run.text, "\"event\":\"keys\"") != NULL);
    CHECK(strstr(run.text, "\"event\":\"ccs\",\"dir\":\"s2c\",\"content_type\":20") != NULL);
    CHECK(strstr(run.text, "\"event\":\"app_data\",\"dir\":\"s2c\",\"content_type\":23") != NULL);
    CHECK(strstr(run.text, "\"event\":\"note\",\"name\":\"DNS resolution\"") != NULL);
    if (getenv("TRACE_SHOW"))
        fputs(run.text, stdout);
    free(run.text);
}

static void test_json(void)
{
    static const int tls12[] = {1, 2, 11, 12, 14, 16, 20, 20};
    static const int tls13[] = {1, 2, 8, 11, 15, 20, 20};
    json_case(LATCH_VERSION_TLS12, tls12, 8, "TLS 1.2");
    json_case(LATCH_VERSION_TLS13, tls13, 7, "TLS 1.3");
}

/* Quotes, backslashes, controls and bad UTF-8 still give valid JSON. */
static void test_json_escaping(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    latch_tracer *tracer = latch_tracer_new(LATCH_TRACE_JSON, out, "a \"quoted\" label");
    latch_tracer_note(tracer, 5, "step", "q\" b\\ n\n t\t c\x01 bad\xff ok\xc3\xa9");
    latch_tracer_finish(tracer);
    latch_tracer_free(tracer);
    fclose(out);
    json_value *object = json_parse(text, strcspn(text, "\n"));
    CHECK(object != NULL);
    if (object != NULL) {
        CHECK(strcmp(json_string(object, "conn"), "a \"quoted\" label") == 0);
        CHECK(strcmp(json_string(object, "detail"),
                     "q\" b\\ n\n t\t c\x01 bad\xef\xbf\xbd ok\xc3\xa9") == 0);
        CHECK(strcmp(json_string(object, "source"), "caller") == 0);
        CHECK(json_member(object, "dir") == NULL);
    }
    json_free(object);
    free(text);
}

/* Text from the peer (or anyone) never reaches a terminal as escapes. */
static void test_table_no_escapes(void)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    latch_tracer *tracer = latch_tracer_new(LATCH_TRACE_TABLE, out, "evil\033]0;title\007");
    latch_event event = {0};
    event.kind = LATCH_EVENT_NOTE;
    event.name = "failed";
    event.detail = "name mismatch (CN=\033[2Jx)";
    latch_tracer_observe(tracer, &event);
    latch_tracer_note(tracer, 10, "step\r", "a\nb");
    latch_tracer_finish(tracer);
    latch_tracer_free(tracer);
    fclose(out);
    CHECK(strchr(text, '\033') == NULL && strchr(text, '\007') == NULL && strchr(text, '\r') == NULL);
    CHECK(strstr(text, "· failed: name mismatch (CN=?[2Jx)") != NULL);
    CHECK(strstr(text, "· step?: a?b") != NULL);
    free(text);
}

/* ---- garbage bodies ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Copies of the bodies of a real handshake, to mutate. */
typedef struct captured {
    uint8_t type[32];
    uint8_t *body[32];
    size_t length[32];
    size_t count;
} captured;

static void capture_observer(void *arg, const latch_event *event)
{
    captured *c = arg;
    if (event->kind != LATCH_EVENT_HANDSHAKE_SENT || c->count >= 32 || event->body == NULL)
        return;
    c->type[c->count] = event->handshake_type;
    c->body[c->count] = malloc(event->length + 1);
    memcpy(c->body[c->count], event->body, event->length);
    c->length[c->count++] = event->length;
}

static void capture_handshake(captured *c, uint16_t version)
{
    pair p;
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_versions(p.client_config, version, version) == 0);
    latch_config_set_observer(p.client_config, capture_observer, c);
    latch_config_set_observer(p.server_config, capture_observer, c);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) == 0);
    pair_free(&p);
}

/* One body of exactly length bytes (heap, so ASan sees any overread). */
static void feed(latch_tracer **tracers, uint8_t type, const uint8_t *bytes, size_t length)
{
    uint8_t *body = malloc(length ? length : 1);
    latch_event event = {0};
    if (length > 0)
        memcpy(body, bytes, length);
    event.kind = (next_random() & 1) ? LATCH_EVENT_HANDSHAKE_SENT : LATCH_EVENT_HANDSHAKE_RECEIVED;
    event.from_client = next_random() & 1;
    event.content_type = 22;
    event.handshake_type = type;
    event.length = length;
    event.body = body;
    event.time_us = next_random();
    for (size_t i = 0; i < 3; i++)
        latch_tracer_observe(tracers[i], &event);
    free(body);
}

/* Random bytes shaped like TLS: nested vectors whose length prefixes are
 * right, so the decoders get past the first length check. */
static size_t random_structure(uint8_t *out, size_t room, int depth)
{
    size_t used = 0;
    uint32_t items = 1 + next_random() % 5;
    for (uint32_t i = 0; i < items && used < room; i++) {
        size_t prefix = next_random() % 4; /* 0: raw bytes, else a vector<prefix> */
        if (prefix == 0 || depth > 4 || room - used < 4) {
            size_t n = next_random() % 6;
            n = n < room - used ? n : room - used;
            for (size_t k = 0; k < n; k++)
                out[used + k] = (uint8_t)next_random();
            used += n;
            continue;
        }
        size_t limit = room - used - prefix;
        if (prefix == 1 && limit > 255)
            limit = 255;
        size_t inner = random_structure(out + used + prefix, limit, depth + 1);
        for (size_t k = 0; k < prefix; k++)
            out[used + k] = (uint8_t)(inner >> (8 * (prefix - 1 - k)));
        used += prefix + inner;
    }
    return used;
}

static void test_garbage_bodies(void)
{
    static const uint8_t types[] = {0, 1, 2, 4, 5, 8, 11, 12, 13, 14, 15, 16, 20, 24, 254, 99};
    FILE *sink = fopen("/dev/null", "w");
    latch_tracer *tracers[3] = {latch_tracer_new(LATCH_TRACE_TABLE, sink, "fuzz"),
                                latch_tracer_new(LATCH_TRACE_TIMELINE, sink, "fuzz"),
                                latch_tracer_new(LATCH_TRACE_JSON, sink, "fuzz")};
    uint8_t bytes[1200];
    captured real = {0};
    capture_handshake(&real, LATCH_VERSION_TLS12);
    capture_handshake(&real, LATCH_VERSION_TLS13);
    CHECK(real.count >= 12);
    for (size_t t = 0; t < sizeof types; t++)
        for (int round = 0; round < 2000; round++) {
            size_t length = next_random() % (round < 1000 ? 64 : sizeof bytes);
            for (size_t i = 0; i < length; i++)
                bytes[i] = (uint8_t)next_random();
            feed(tracers, types[t], bytes, length);
        }
    /* shaped garbage, after 0..40 fixed bytes (the hellos' version and random) */
    for (size_t t = 0; t < sizeof types; t++)
        for (int round = 0; round < 2000; round++) {
            size_t head = next_random() % 4 == 0 ? next_random() % 9 : 0;
            if (types[t] <= 2 && (next_random() & 1))
                head = 34 + next_random() % 3; /* legacy_version, random, ... */
            for (size_t i = 0; i < head; i++)
                bytes[i] = (uint8_t)next_random();
            feed(tracers, types[t], bytes, head + random_structure(bytes + head, 1000, 0));
        }
    /* real bodies, truncated and with bytes flipped: garbage that parses deep */
    for (size_t m = 0; m < real.count; m++)
        for (int round = 0; round < 2000; round++) {
            size_t length = real.length[m];
            if (round & 1)
                length = length ? next_random() % (length + 1) : 0;
            memcpy(bytes, real.body[m], length < sizeof bytes ? length : sizeof bytes);
            length = length < sizeof bytes ? length : sizeof bytes;
            for (int flips = next_random() % 4; flips > 0 && length > 0; flips--)
                bytes[next_random() % length] = (uint8_t)next_random();
            feed(tracers, real.type[m], bytes, length);
        }
    latch_event odd = {0}; /* a body pointer missing, no name */
    odd.kind = LATCH_EVENT_HANDSHAKE_RECEIVED;
    odd.handshake_type = 11;
    odd.length = 5000;
    for (size_t i = 0; i < 3; i++) {
        latch_tracer_observe(tracers[i], &odd);
        latch_tracer_observe(tracers[i], NULL);
        latch_tracer_finish(tracers[i]);
        latch_tracer_free(tracers[i]);
    }
    latch_tracer_observe(NULL, &odd);
    for (size_t m = 0; m < real.count; m++)
        free(real.body[m]);
    fclose(sink);
    CHECK(1); /* reaching here (clean under ASan) is the test */
}

/* ---- key log ---- */

static int is_hex(const char *text, size_t length)
{
    for (size_t i = 0; i < length; i++)
        if (strchr("0123456789abcdef", text[i]) == NULL || text[i] == '\0')
            return 0;
    return 1;
}

/* "LABEL <64 hex> <secret_hex hex>" */
static int keylog_line_ok(const char *line, const char *label, size_t secret_hex)
{
    size_t n = strlen(label);
    return strncmp(line, label, n) == 0 && line[n] == ' ' && is_hex(line + n + 1, 64) &&
           line[n + 65] == ' ' && is_hex(line + n + 66, secret_hex) &&
           line[n + 66 + secret_hex] == '\0';
}

static size_t keylog_handshake(uint16_t version, char lines[8][256])
{
    char path[] = "/tmp/latch-keylog-XXXXXX";
    int fd = mkstemp(path);
    size_t count = 0;
    struct stat st;
    pair p;
    close(fd);
    unlink(path); /* latch_keylog_open creates it with mode 0600 */
    FILE *file = latch_keylog_open(path);
    CHECK(file != NULL);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(pair_configs(&p, "p256") == 0);
    CHECK(latch_config_set_versions(p.client_config, version, version) == 0);
    latch_config_set_keylog(p.client_config, latch_keylog_write, file);
    CHECK(pair_connect(&p, "localhost") == 0);
    CHECK(pair_handshake(&p) == 0);
    pair_free(&p);
    fclose(file);
    FILE *in = fopen(path, "r");
    while (in != NULL && count < 8 && fgets(lines[count], 256, in) != NULL) {
        lines[count][strcspn(lines[count], "\n")] = '\0';
        count++;
    }
    if (in != NULL)
        fclose(in);
    unlink(path);
    return count;
}

static void test_keylog(void)
{
    static const char *const tls13_labels[] = {
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"};
    char lines[8][256];
    CHECK_EQ_INT(keylog_handshake(LATCH_VERSION_TLS12, lines), 1);
    CHECK(keylog_line_ok(lines[0], "CLIENT_RANDOM", 96));
    CHECK_EQ_INT(keylog_handshake(LATCH_VERSION_TLS13, lines), 5);
    for (size_t i = 0; i < 5; i++) {
        int found = 0;
        for (size_t j = 0; j < 5; j++) /* SHA-256 suite first by default: 32-byte secrets */
            found |= keylog_line_ok(lines[j], tls13_labels[i], 64) ||
                     keylog_line_ok(lines[j], tls13_labels[i], 96);
        CHECK(found);
    }
    setenv("SSLKEYLOGFILE", "/tmp/keys.log", 1);
    CHECK(latch_keylog_path_from_env() != NULL &&
          strcmp(latch_keylog_path_from_env(), "/tmp/keys.log") == 0);
    setenv("SSLKEYLOGFILE", "", 1);
    CHECK(latch_keylog_path_from_env() == NULL);
    unsetenv("SSLKEYLOGFILE");
    CHECK(latch_keylog_path_from_env() == NULL);
    CHECK(latch_keylog_open("/nonexistent-dir/keys.log") == NULL);
}

int main(void)
{
    test_table_tls12();
    test_table_tls13();
    test_table_hello_retry();
    test_table_fatal_alert();
    test_timeline();
    test_json();
    test_json_escaping();
    test_table_no_escapes();
    test_garbage_bodies();
    test_keylog();
    return check_finish();
}
