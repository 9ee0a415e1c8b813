/* The application side of latch_conn: plaintext, status, negotiated values. */
#include <string.h>

#include "engine/internal.h"
#include "util/error.h"

const uint8_t *latch_conn_send_buf(latch_conn *c, size_t *len)
{
    engine_start(c);
    *len = byte_queue_length(&c->send);
    return byte_queue_front(&c->send);
}

void latch_conn_send_done(latch_conn *c, size_t n)
{
    size_t have = byte_queue_length(&c->send);
    byte_queue_consume(&c->send, n < have ? n : have);
    /* an idle connection keeps no send block (it never held secrets: no
     * wipe); a writer that seals ahead of each send keeps it non-empty */
    if (byte_queue_length(&c->send) == 0)
        byte_queue_release(&c->send);
}

void engine_release_idle_buffers(latch_conn *c)
{
    if (!c->handshake_done)
        return;
    if (byte_queue_length(&c->handshake_in) == 0)
        byte_queue_free(&c->handshake_in);
    if (byte_queue_length(&c->handshake_out) == 0)
        byte_queue_free(&c->handshake_out);
    if (byte_queue_length(&c->app_in) == 0)
        byte_queue_free(&c->app_in);
    if (byte_queue_length(&c->send) == 0) /* ciphertext and public handshake bytes only */
        byte_queue_release(&c->send);
    engine_release_handshake(c);
}

/* Unread plaintext is either all in app_in (once anything spilled there) or
 * in the last record decrypted in the receive buffer (app_off/app_len). */
const uint8_t *latch_conn_read_buf(latch_conn *c, size_t *len)
{
    size_t have = byte_queue_length(&c->app_in);
    if (have > 0) {
        *len = have;
        return byte_queue_front(&c->app_in);
    }
    *len = c->app_len;
    return c->app_len > 0 ? c->recv + c->app_off : NULL;
}

void latch_conn_read_done(latch_conn *c, size_t n)
{
    size_t have = byte_queue_length(&c->app_in);
    if (have > 0) {
        byte_queue_consume(&c->app_in, n < have ? n : have);
        if (byte_queue_length(&c->app_in) == 0)
            byte_queue_free(&c->app_in);
        return;
    }
    if (c->app_len == 0)
        return;
    n = n < c->app_len ? n : c->app_len;
    c->app_off += n;
    c->app_len -= n;
    if (c->app_len == 0 && c->recv_start == c->recv_len)
        engine_release_receive_buffer(c); /* nothing else in it */
}

ssize_t latch_conn_read(latch_conn *c, void *buf, size_t len)
{
    size_t have;
    const uint8_t *plain = latch_conn_read_buf(c, &have);
    if (have > 0) {
        size_t n = have < len ? have : len;
        memcpy(buf, plain, n);
        latch_conn_read_done(c, n);
        return (ssize_t)n;
    }
    if (c->peer_closed)
        return 0;
    if (c->failed)
        return -(ssize_t)c->error;
    return -(ssize_t)LATCH_ERR_WOULD_BLOCK;
}

ssize_t latch_conn_write(latch_conn *c, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    size_t done = 0;
    if (c->failed)
        return -(ssize_t)c->error;
    if (c->close_sent)
        return -(ssize_t)LATCH_ERR_CLOSED;
    if (!c->handshake_done)
        return -(ssize_t)LATCH_ERR_WOULD_BLOCK;
    while (done < len) {
        size_t n = len - done > RECORD_MAX_PLAINTEXT ? RECORD_MAX_PLAINTEXT : len - done;
        int err = engine_write_record(c, &c->write, CONTENT_APPLICATION_DATA, c->record_version,
                                      p + done, n);
        if (err != 0)
            return -(ssize_t)engine_fail(c, err, "cannot protect application data");
        latch_event ev = {0};
        ev.kind = LATCH_EVENT_APPLICATION_DATA_SENT;
        ev.from_client = c->is_client;
        ev.content_type = CONTENT_APPLICATION_DATA;
        ev.length = n;
        ev.name = "application data";
        engine_emit_event(c, &ev);
        done += n;
    }
    return (ssize_t)len;
}

int latch_conn_close(latch_conn *c)
{
    if (c->close_sent || c->failed)
        return 0;
    c->close_sent = 1;
    return engine_send_alert(c, LATCH_ALERT_LEVEL_WARNING, LATCH_ALERT_CLOSE_NOTIFY);
}

unsigned latch_conn_status(const latch_conn *c)
{
    unsigned s = 0;
    if (!c->failed && !c->peer_closed && !engine_unread_full(c))
        s |= LATCH_STATUS_WANT_RECV;
    if (byte_queue_length(&c->send) > 0 || (c->is_client && !c->started && !c->failed))
        s |= LATCH_STATUS_HAS_SEND;
    if (byte_queue_length(&c->app_in) > 0 || c->app_len > 0)
        s |= LATCH_STATUS_HAS_APP;
    if (c->handshake_done && !c->failed)
        s |= LATCH_STATUS_READY;
    if (c->peer_closed)
        s |= LATCH_STATUS_CLOSED;
    if (c->close_sent || c->failed)
        s |= LATCH_STATUS_SENT_CLOSE;
    if (c->failed)
        s |= LATCH_STATUS_FAILED;
    return s;
}

latch_error latch_conn_error(const latch_conn *c) { return c->failed ? c->error : LATCH_OK; }

const char *latch_conn_error_reason(const latch_conn *c)
{
    if (!c->failed)
        return "";
    return c->reason != NULL ? c->reason : latch_error_string(c->error);
}

int latch_conn_alert(const latch_conn *c, int *sent)
{
    if (sent != NULL)
        *sent = c->alert_sent;
    return c->failed && (c->alert_sent || c->error == LATCH_ERR_PEER_ALERT) ? c->alert : -1;
}

uint16_t latch_conn_version(const latch_conn *c) { return c->version; }
uint16_t latch_conn_cipher_suite(const latch_conn *c) { return c->suite ? c->suite->id : 0; }
const char *latch_conn_cipher_suite_name(const latch_conn *c)
{
    return c->suite ? c->suite->name : "none";
}
const char *latch_conn_group_name(const latch_conn *c)
{
    return c->group ? latch_group_name(c->group) : "none";
}
const char *latch_conn_alpn(const latch_conn *c) { return c->alpn[0] ? c->alpn : NULL; }
const char *latch_conn_server_name(const latch_conn *c)
{
    return c->server_name[0] ? c->server_name : NULL;
}
int latch_conn_extended_master_secret(const latch_conn *c) { return c->extended_master_secret; }
const char *latch_conn_peer_subject(const latch_conn *c)
{
    return c->peer_subject != NULL && c->peer_subject[0] ? c->peer_subject : NULL;
}
