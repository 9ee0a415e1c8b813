/* The handshake walker: runs a handshake_flow table. */
#include <stdlib.h>
#include <string.h>

#include "handshake/handshake.h"
#include "util/error.h"

#define SCRATCH_EXTRA 16384

static int our_sender(const latch_conn *c)
{
    return c->is_client ? SENT_BY_CLIENT : SENT_BY_SERVER;
}

static const message_row *current_row(const latch_conn *c)
{
    if (c->flow == NULL || c->step >= c->flow->count)
        return NULL;
    return c->flow->steps[c->step];
}

static size_t scratch_size(const latch_conn *c)
{
    size_t n = SCRATCH_EXTRA;
    if (c->cert != NULL)
        for (size_t i = 0; i < c->cert->count; i++)
            n += c->cert->der_len[i] + 3;
    return n;
}

static int finish_step(latch_conn *c, const message_row *row)
{
    c->step++;
    if (!(row->flags & ROW_END))
        return 0;
    c->handshake_done = 1;
    engine_emit(c, LATCH_EVENT_HANDSHAKE_DONE, "handshake complete", c->flow->name);
    return handshake_complete(c);
}

void handshake_switch_flow(latch_conn *c, const handshake_flow *flow) { c->flow = flow; }

static int send_row(latch_conn *c, const message_row *row)
{
    if (row->flags & ROW_COMPAT_CCS) /* only when the client sent a session id */
        return c->session_id_len > 0 ? engine_send_compat_change_cipher_spec(c) : 0;
    if (row->content_type == CONTENT_CHANGE_CIPHER_SPEC) {
        TRY(row->write(c, NULL));
        return engine_send_change_cipher_spec(c);
    }
    size_t size = scratch_size(c);
    uint8_t *scratch = malloc(size);
    cursor out;
    int err;
    if (scratch == NULL)
        return LATCH_ERR_INTERNAL;
    cursor_init(&out, scratch, size);
    err = row->write(c, &out);
    if (err == 0)
        err = engine_queue_handshake(c, row->handshake_type, scratch, out.off);
    latch_wipe(scratch, out.off);
    free(scratch);
    if (err == 0 && row->after_write != NULL)
        err = row->after_write(c);
    return err;
}

static int row_presence(const latch_conn *c, const message_row *row)
{
    return row->present == NULL ? ROW_PRESENT : row->present(c);
}

static void skip_absent_rows(latch_conn *c)
{
    const message_row *row;
    while ((row = current_row(c)) != NULL && row_presence(c, row) == ROW_ABSENT)
        c->step++;
}

int handshake_drive(latch_conn *c)
{
    const message_row *row;
    while (!c->handshake_done && (skip_absent_rows(c), row = current_row(c)) != NULL &&
           (row->sender == our_sender(c) || (row->flags & ROW_COMPAT_CCS))) {
        if (row->sender == our_sender(c))
            TRY(send_row(c, row));
        TRY(finish_step(c, row)); /* the peer's compatibility CCS is never awaited */
    }
    return engine_flush_handshake(c);
}

int handshake_begin(latch_conn *c)
{
    c->flow = &tls12_full_handshake;
    c->step = 0;
    return handshake_drive(c);
}

int handshake_receive_message(latch_conn *c, const uint8_t *msg, size_t len)
{
    const message_row *row;
    uint8_t type = msg[0];
    cursor body;
    if (c->handshake_done)
        return handshake_post_message(c, msg, len);
    skip_absent_rows(c);
    /* an optional message that did not come: move on to the next row */
    while ((row = current_row(c)) != NULL && row_presence(c, row) == ROW_MAYBE &&
           row->handshake_type != type) {
        c->step++;
        skip_absent_rows(c);
    }
    if (row == NULL || row->sender == our_sender(c) ||
        row->content_type != CONTENT_HANDSHAKE || row->handshake_type != type)
        return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE, "%s received while expecting %s",
                           latch_handshake_type_name(type), row ? row->name : "nothing");
    if (row->flags & ROW_NEEDS_PRIOR_HASH) {
        c->hs->prior_hash_len = sizeof c->hs->prior_hash;
        TRY(transcript_hash(c, c->hs->prior_hash, &c->hs->prior_hash_len));
    }
    TRY(transcript_add(c, msg, len));
    cursor_init(&body, msg + 4, len - 4);
    c->current_message = msg;
    c->current_message_len = len;
    int err = row->read(c, &body);
    c->current_message = NULL;
    if (err != 0)
        return c->failed ? err : engine_fail(c, err, "%s: %s", row->name,
                                             latch_error_string((latch_error)err));
    TRY(finish_step(c, row));
    return handshake_drive(c);
}

int handshake_receive_change_cipher_spec(latch_conn *c)
{
    const message_row *row;
    skip_absent_rows(c);
    row = current_row(c);
    if (c->handshake_done || row == NULL || row->sender == our_sender(c) ||
        row->content_type != CONTENT_CHANGE_CIPHER_SPEC)
        return engine_fail(c, LATCH_ERR_UNEXPECTED_MESSAGE,
                           "ChangeCipherSpec received while expecting %s",
                           row ? row->name : "nothing");
    TRY(row->read(c, NULL));
    TRY(finish_step(c, row));
    return handshake_drive(c);
}
