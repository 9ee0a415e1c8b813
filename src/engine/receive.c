/* The receive path: records out of the peer's bytes, then per content type. */
#include <string.h>

#include "engine/internal.h"
#include "handshake/handshake.h"
#include "util/error.h"

static void emit_received(latch_conn *c, latch_event_kind kind, uint8_t type, size_t len)
{
    latch_event ev = {0};
    ev.kind = kind;
    ev.from_client = !c->is_client;
    ev.content_type = type;
    ev.length = len;
    ev.name = latch_content_type_name(type);
    engine_emit_event(c, &ev);
}

static int receive_alert(latch_conn *c, const uint8_t *data, size_t len)
{
    latch_event ev = {0};
    if (len == 0) /* RFC 5246 6.2.1: no zero-length alert fragments */
        return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE, "empty alert record");
    if (len != 2)
        return engine_fail(c, LATCH_ERR_DECODE, "alert record of %zu bytes", len);
    ev.kind = LATCH_EVENT_ALERT_RECEIVED;
    ev.from_client = !c->is_client;
    ev.content_type = CONTENT_ALERT;
    ev.alert_level = data[0];
    ev.alert_description = data[1];
    ev.name = latch_alert_name(data[1]);
    engine_emit_event(c, &ev);
    if (data[0] != LATCH_ALERT_LEVEL_WARNING && data[0] != LATCH_ALERT_LEVEL_FATAL)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "alert level %u", data[0]);
    if (data[1] == LATCH_ALERT_CLOSE_NOTIFY) {
        c->peer_closed = 1;
        /* RFC 5246 7.2.1: answer at once.  RFC 8446 6.1: it "does not have
         * any effect on its read side", so with half-close a TLS 1.3
         * connection keeps writing until the application closes. */
        if (c->config->half_close && c->version == LATCH_VERSION_TLS13 && c->handshake_done)
            return 0;
        if (!c->close_sent) { /* answer close_notify with close_notify */
            c->close_sent = 1;
            TRY(engine_send_alert(c, LATCH_ALERT_LEVEL_WARNING, LATCH_ALERT_CLOSE_NOTIFY));
        }
        return 0;
    }
    /* TLS 1.2: a warning after the handshake (e.g. no_renegotiation) informs.
     * TLS 1.3 (RFC 8446 6.2): every alert but close_notify is an error. */
    if (data[0] == LATCH_ALERT_LEVEL_WARNING && data[1] != LATCH_ALERT_USER_CANCELED &&
        c->handshake_done && c->version != LATCH_VERSION_TLS13)
        return 0;
    c->alert = data[1];
    c->alert_sent = 0;
    c->close_sent = 1; /* nothing more goes out after a fatal alert */
    return engine_fail(c, LATCH_ERR_PEER_ALERT, "peer sent alert %s", latch_alert_name(data[1]));
}

static int receive_change_cipher_spec(latch_conn *c, const uint8_t *data, size_t len)
{
    if (len != 1 || data[0] != 1)
        return engine_fail(c, LATCH_ERR_DECODE, "malformed ChangeCipherSpec");
    if (c->hs == NULL) /* no renegotiation: nothing can change keys any more */
        return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE,
                           "ChangeCipherSpec received after the handshake");
    /* the key change must fall on a message boundary (RFC 5246 7.1) */
    if (byte_queue_length(&c->handshake_in) != 0)
        return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE,
                           "ChangeCipherSpec inside a handshake message");
    engine_emit_change_cipher_spec_received(c, NULL);
    return handshake_receive_change_cipher_spec(c);
}

/* RFC 8446 5: during the handshake a plaintext CCS of one byte 0x01 is
 * dropped; anything else, or after the handshake, is unexpected_message. */
static int receive_compat_change_cipher_spec(latch_conn *c, const record_header *h,
                                             const uint8_t *data)
{
    if (c->handshake_done || h->length != 1 || data[0] != 1)
        return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE,
                           "ChangeCipherSpec in TLS 1.3 outside the handshake");
    engine_emit_change_cipher_spec_received(c, "middlebox compatibility, ignored");
    return 0;
}

static void emit_handshake_received(latch_conn *c, const uint8_t *msg, size_t len)
{
    latch_event ev = {0};
    ev.kind = LATCH_EVENT_HANDSHAKE_RECEIVED;
    ev.from_client = !c->is_client;
    ev.content_type = CONTENT_HANDSHAKE;
    ev.handshake_type = msg[0];
    ev.length = len - 4;
    ev.body = msg + 4;
    ev.name = latch_handshake_type_name(msg[0]);
    engine_emit_event(c, &ev);
}

/* Handshake messages may span records, and a record may hold several. */
static int receive_handshake(latch_conn *c, const uint8_t *data, size_t len)
{
    if (len == 0) /* RFC 5246 6.2.1: no zero-length handshake fragments */
        return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE, "empty handshake record");
    if (byte_queue_append(&c->handshake_in, data, len) != 0)
        return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER, "handshake message too long");
    while (!c->failed) {
        cursor in;
        uint8_t type;
        uint32_t body_len;
        cursor_init(&in, byte_queue_front(&c->handshake_in), byte_queue_length(&c->handshake_in));
        if (cursor_read_u8(&in, &type) != 0 || cursor_read_u24(&in, &body_len) != 0)
            return 0;
        if (body_len > LATCH_MAX_HANDSHAKE_MESSAGE)
            return engine_fail(c, LATCH_ERR_ILLEGAL_PARAMETER,
                               "%s of %u bytes is too long", latch_handshake_type_name(type),
                               body_len);
        if (cursor_remaining(&in) < body_len)
            return 0;
        emit_handshake_received(c, byte_queue_front(&c->handshake_in), 4 + body_len);
        TRY(handshake_receive_message(c, byte_queue_front(&c->handshake_in), 4 + body_len));
        byte_queue_consume(&c->handshake_in, 4 + body_len);
        /* RFC 8446 5.1: a key change must fall on a record boundary */
        if (c->read_keys_changed && byte_queue_length(&c->handshake_in) != 0)
            return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE,
                               "handshake data after a key change in the same record");
    }
    return 0;
}

static int receive_application_data(latch_conn *c, const uint8_t *data, size_t len)
{
    if (!c->handshake_done)
        return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE,
                           "application data before the handshake finished");
    if (byte_queue_length(&c->handshake_in) != 0)
        return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE,
                           "application data inside a handshake message");
    if (c->peer_closed)
        return 0;
    /* The newest record stays where it was decrypted; an older one still
     * unread moves to app_in first, which keeps the order. */
    if (len > 0) {
        TRY(engine_spill_app(c));
        if (byte_queue_length(&c->app_in) == 0) {
            c->app_off = (size_t)(data - c->recv);
            c->app_len = len;
        } else if (byte_queue_append(&c->app_in, data, len) != 0) {
            return engine_fail(c, LATCH_ERR_INTERNAL, "out of memory");
        }
    }
    latch_event ev = {0};
    ev.kind = LATCH_EVENT_APPLICATION_DATA_RECEIVED;
    ev.from_client = !c->is_client;
    ev.content_type = CONTENT_APPLICATION_DATA;
    ev.length = len;
    ev.name = "application data";
    engine_emit_event(c, &ev);
    return 0;
}

static int check_header(latch_conn *c, const record_header *h)
{
    if (h->type < CONTENT_CHANGE_CIPHER_SPEC || h->type > CONTENT_APPLICATION_DATA)
        return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE, "record of unknown type %u",
                           h->type);
    if ((h->version >> 8) != 3)
        return engine_fail(c, LATCH_ERR_PROTOCOL_VERSION, "record version 0x%04x", h->version);
    /* RFC 5246 E.1: the first ClientHello record may carry any 3.x version */
    if (c->first_record_seen && h->version != LATCH_VERSION_TLS12)
        return engine_fail(c, LATCH_ERR_PROTOCOL_VERSION,
                           "record version 0x%04x (TLS 1.2 is the minimum)", h->version);
    size_t limit = !c->read.active   ? RECORD_MAX_PLAINTEXT
                   : c->read.tls13 ? RECORD_MAX_CIPHERTEXT_TLS13
                                   : RECORD_MAX_CIPHERTEXT_TLS12;
    if (h->length > limit)
        return engine_fail(c, LATCH_ERR_RECORD_OVERFLOW, "record of %u bytes (limit %zu)",
                           h->length, limit);
    return 0;
}

static int dispatch(latch_conn *c, uint8_t type, const uint8_t *data, size_t len)
{
    switch (type) {
    case CONTENT_ALERT:
        return receive_alert(c, data, len);
    case CONTENT_CHANGE_CIPHER_SPEC:
        return receive_change_cipher_spec(c, data, len);
    case CONTENT_HANDSHAKE:
        return receive_handshake(c, data, len);
    case CONTENT_APPLICATION_DATA:
        return receive_application_data(c, data, len);
    default:
        return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE, "record of type %u", type);
    }
}

/* RFC 8446 4.2.10: a server that refuses 0-RTT skips the records it cannot
 * decrypt, up to a limit, until the client's handshake records arrive. */
static int skip_refused_early_data(latch_conn *c, const record_header *h)
{
    if (c->is_client || !c->early_data_offered || c->handshake_done ||
        h->type != CONTENT_APPLICATION_DATA || c->early_data_skipped + h->length > 16384 * 4)
        return 0;
    c->early_data_skipped += h->length;
    engine_emit(c, LATCH_EVENT_NOTE, "early data skipped", "0-RTT refused");
    return 1;
}

/* Process one whole record at recv[off]; *used gets its size, or 0 if the
 * record is not complete yet. */
static int receive_record(latch_conn *c, size_t off, size_t *used)
{
    record_header h;
    uint8_t *plain, type;
    size_t plain_len;
    *used = 0;
    if (c->recv_len - off < RECORD_HEADER_LEN)
        return 0;
    TRY(record_read_header(c->recv + off, RECORD_HEADER_LEN, &h));
    TRY(check_header(c, &h));
    if (c->recv_len - off < RECORD_HEADER_LEN + (size_t)h.length)
        return 0;
    *used = RECORD_HEADER_LEN + (size_t)h.length;
    c->first_record_seen = 1;
    c->read_keys_changed = 0;
    if (h.type == CONTENT_CHANGE_CIPHER_SPEC && c->version == LATCH_VERSION_TLS13)
        return receive_compat_change_cipher_spec(c, &h, c->recv + off + RECORD_HEADER_LEN);
    int err = record_open(&c->read, &h, c->recv + off + RECORD_HEADER_LEN, &plain, &plain_len,
                          &type);
    if (err == LATCH_ERR_BAD_RECORD_MAC && skip_refused_early_data(c, &h))
        return 0;
    if (err == 0)
        c->early_data_offered = 0; /* the client's handshake keys work: 0-RTT is over */
    if (err != 0)
        return engine_fail(c, err, "%s record: %s", latch_content_type_name(h.type),
                           latch_error_string((latch_error)err));
    emit_received(c, LATCH_EVENT_RECORD_RECEIVED, type, h.length);
    return dispatch(c, type, plain, plain_len);
}

int engine_spill_app(latch_conn *c)
{
    if (c->app_len == 0)
        return 0;
    if (byte_queue_append(&c->app_in, c->recv + c->app_off, c->app_len) != 0)
        return engine_fail(c, LATCH_ERR_INTERNAL, "out of memory");
    c->app_len = 0;
    return 0;
}

/* Plaintext the application has not read stops the reading of more (the
 * caller sees room 0 and no LATCH_STATUS_WANT_RECV), so a peer that sends
 * faster than the application reads holds at most this much per connection
 * (plus the records of one receive buffer). */
int engine_unread_full(const latch_conn *c)
{
    return byte_queue_length(&c->app_in) + c->app_len >= LATCH_MAX_UNREAD_PLAINTEXT;
}

/* Move the unprocessed bytes to the front of the receive buffer. */
static void compact_receive_buffer(latch_conn *c)
{
    if (c->recv_start == 0)
        return;
    memmove(c->recv, c->recv + c->recv_start, c->recv_len - c->recv_start);
    c->recv_len -= c->recv_start;
    c->recv_start = 0;
}

/* An idle connection holds no receive buffer: it is taken when the caller
 * asks where to put bytes and given back once every byte is consumed. */
uint8_t *latch_conn_recv_buf(latch_conn *c, size_t *room)
{
    *room = 0;
    if (c->failed || c->peer_closed || engine_unread_full(c))
        return c->recv;
    if (c->recv == NULL && (c->recv = malloc(RECORD_MAX_WIRE)) == NULL)
        return NULL;
    /* More bytes are coming before the caller read the last record. */
    if (engine_spill_app(c) != 0)
        return c->recv;
    compact_receive_buffer(c);
    *room = RECORD_MAX_WIRE - c->recv_len;
    return c->recv + c->recv_len;
}

void engine_release_receive_buffer(latch_conn *c)
{
    if (c->recv == NULL)
        return;
    latch_wipe(c->recv, c->recv_used); /* what was decrypted in place, no more */
    free(c->recv);
    c->recv = NULL;
    c->recv_len = c->recv_used = c->recv_start = 0;
    c->app_off = c->app_len = 0;
}

int latch_conn_recv_done(latch_conn *c, size_t n)
{
    size_t off = 0, used;
    engine_start(c);
    if (c->failed)
        return c->error;
    if (n > 0 && c->recv == NULL)
        return LATCH_ERR_INTERNAL;
    if (n > RECORD_MAX_WIRE - c->recv_len)
        return LATCH_ERR_INTERNAL;
    c->recv_len += n;
    if (c->recv_len > c->recv_used)
        c->recv_used = c->recv_len;
    if (n > 0 && engine_spill_app(c) != 0) /* bytes written without latch_conn_recv_buf */
        return c->error;
    off = c->recv_start;
    while (!c->failed && !c->peer_closed) {
        int err = receive_record(c, off, &used);
        if (err != 0 || used == 0)
            break;
        off += used;
    }
    c->recv_start = off;
    if (c->app_len == 0) /* else the plaintext stays put until read or spilled */
        compact_receive_buffer(c);
    if (c->recv_len == 0)
        engine_release_receive_buffer(c);
    engine_release_idle_buffers(c);
    return c->failed ? (int)c->error : 0;
}

ssize_t latch_conn_feed(latch_conn *c, const void *data, size_t len)
{
    size_t done = 0;
    while (done < len) {
        size_t room;
        uint8_t *dst = latch_conn_recv_buf(c, &room);
        if (room == 0)
            break;
        size_t n = len - done < room ? len - done : room;
        memcpy(dst, (const uint8_t *)data + done, n);
        done += n;
        int err = latch_conn_recv_done(c, n);
        if (err != 0)
            return -err;
    }
    return (ssize_t)done;
}
