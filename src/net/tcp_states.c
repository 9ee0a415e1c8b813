/* TCP states as the segments imply them (RFC 9293 3.3.2, figure 5).
 *
 * The tracker sees the segments where the capture sees them: at the local
 * socket.  The local side's state follows exactly what it sent and
 * received, in order.  The remote side's receipts are not seen: a segment
 * we sent is taken as received by the peer once the peer proves it (its
 * acknowledgment number covers the segment's sequence range, its timestamp
 * echo is newer than the segment's timestamp, or it leaves SYN_RCVD), or at
 * latch_tcp_tracker_finish.  The peer's own sends are seen (later, when
 * they arrive), so its path through the states is right in order though its
 * times are those of our capture.  That is what makes a simultaneous close
 * show CLOSING on both sides.
 */
#include <stdlib.h>
#include <string.h>

#include "latch/tcp.h"

enum { LOCAL = 1, REMOTE = 0 };
#define MAX_PENDING 512

typedef struct pending_segment {
    uint8_t flags;
    uint32_t seq, ack, length; /* raw */
    uint8_t has_timestamps;
    uint32_t tsval;
} pending_segment;

/* What we know of one side (indexed LOCAL / REMOTE). */
typedef struct side_info {
    int state;
    int have_base;          /* relative sequence base known */
    uint32_t base;          /* ISN, or the first sequence number seen */
    int isn_known;          /* saw this side's SYN */
    uint32_t isn;
    int have_high;
    uint32_t high_end;      /* highest sequence end sent (retransmission check) */
    int wscale;             /* -1 unknown */
    int fin_sent;
    uint32_t fin_seq;       /* sequence number of its FIN */
    int fin_received;       /* got the other side's FIN */
} side_info;

struct latch_tcp_tracker {
    int local_is_client;    /* -1 until known */
    int started;
    side_info side[2];
    pending_segment pending[MAX_PENDING];
    size_t pending_count;
    char reset_reason[192];
    /* where the current feed writes its transitions */
    latch_tcp_transition *out;
    size_t out_count, out_max;
};

const char *latch_tcp_state_name(int state)
{
    static const char *const names[] = {
        "UNKNOWN",    "CLOSED",     "LISTEN",  "SYN_SENT",  "SYN_RCVD",   "ESTABLISHED",
        "FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "TIME_WAIT", "CLOSE_WAIT", "LAST_ACK"};
    if (state < 0 || (size_t)state >= sizeof names / sizeof names[0])
        return "UNKNOWN";
    return names[state];
}

/* a < b in sequence space */
static int seq_before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static int seq_after_or_equal(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) >= 0;
}

latch_tcp_tracker *latch_tcp_tracker_new(void)
{
    latch_tcp_tracker *tracker = calloc(1, sizeof *tracker);
    if (tracker == NULL)
        return NULL;
    tracker->local_is_client = -1;
    for (int i = 0; i < 2; i++)
        tracker->side[i].wscale = -1;
    return tracker;
}

void latch_tcp_tracker_free(latch_tcp_tracker *tracker)
{
    free(tracker);
}

void latch_tcp_tracker_set_local_role(latch_tcp_tracker *tracker, int local_is_client)
{
    if (tracker != NULL)
        tracker->local_is_client = local_is_client != 0;
}

static int is_client(const latch_tcp_tracker *tracker, int which)
{
    int local_client = tracker->local_is_client != 0; /* unknown counts as client */
    return which == LOCAL ? local_client : !local_client;
}

int latch_tcp_tracker_state(const latch_tcp_tracker *tracker, int client)
{
    if (tracker == NULL)
        return LATCH_TCP_UNKNOWN;
    for (int which = 0; which < 2; which++)
        if (is_client(tracker, which) == (client != 0))
            return tracker->side[which].state;
    return LATCH_TCP_UNKNOWN;
}

const char *latch_tcp_tracker_reset_reason(const latch_tcp_tracker *tracker)
{
    return tracker != NULL && tracker->reset_reason[0] ? tracker->reset_reason : NULL;
}

static void set_state(latch_tcp_tracker *tracker, int which, int to, const char *why)
{
    side_info *side = &tracker->side[which];
    if (side->state == to)
        return;
    if (tracker->out != NULL && tracker->out_count < tracker->out_max) {
        latch_tcp_transition *t = &tracker->out[tracker->out_count++];
        t->client = (uint8_t)is_client(tracker, which);
        t->inferred = which == REMOTE;
        t->from = (uint8_t)side->state;
        t->to = (uint8_t)to;
        t->why = why;
    }
    side->state = to;
}

static uint32_t consumed(uint8_t flags, uint32_t length)
{
    return length + ((flags & LATCH_TCP_SYN) != 0) + ((flags & LATCH_TCP_FIN) != 0);
}

static void note_reset(latch_tcp_tracker *tracker, int sender, int sender_state)
{
    const char *who = is_client(tracker, sender) ? "client" : "server";
    const char *why;
    if (tracker->side[!sender].state == LATCH_TCP_SYN_SENT)
        sender_state = LATCH_TCP_LISTEN; /* an answer to a SYN: a closed port */
    switch (sender_state) {
    case LATCH_TCP_LISTEN: case LATCH_TCP_CLOSED: case LATCH_TCP_UNKNOWN:
        why = "no socket for this connection (connection refused: nothing listens on the port, "
              "or the socket is gone)";
        break;
    case LATCH_TCP_SYN_RCVD: case LATCH_TCP_SYN_SENT:
        why = "the connection attempt was refused or aborted";
        break;
    case LATCH_TCP_FIN_WAIT_1: case LATCH_TCP_FIN_WAIT_2: case LATCH_TCP_CLOSING:
    case LATCH_TCP_LAST_ACK: case LATCH_TCP_TIME_WAIT:
        why = "data arrived after it had closed (the application was no longer reading)";
        break;
    default:
        why = "it aborted the connection: closed with unread data, or SO_LINGER 0";
        break;
    }
    if (tracker->reset_reason[0] == '\0') {
        size_t used = 0;
        const char *parts[] = {who, " reset the connection: ", why};
        for (size_t i = 0; i < 3; i++) {
            size_t n = strlen(parts[i]);
            if (used + n >= sizeof tracker->reset_reason)
                n = sizeof tracker->reset_reason - 1 - used;
            memcpy(tracker->reset_reason + used, parts[i], n);
            used += n;
        }
        tracker->reset_reason[used] = '\0';
    }
}

/* The side `which` sent a segment. */
static void apply_send(latch_tcp_tracker *tracker, int which, uint8_t flags, uint32_t seq,
                       uint32_t length, int retransmission)
{
    side_info *side = &tracker->side[which];
    if (flags & LATCH_TCP_RST) {
        note_reset(tracker, which, side->state);
        set_state(tracker, which, LATCH_TCP_CLOSED, "sent RST");
        return;
    }
    if ((flags & LATCH_TCP_SYN) && !(flags & LATCH_TCP_ACK)) {
        if (side->state == LATCH_TCP_CLOSED || side->state == LATCH_TCP_UNKNOWN)
            set_state(tracker, which, LATCH_TCP_SYN_SENT, "sent SYN: opens the connection");
    } else if ((flags & LATCH_TCP_SYN) && (flags & LATCH_TCP_ACK)) {
        if (side->state == LATCH_TCP_LISTEN || side->state == LATCH_TCP_CLOSED ||
            side->state == LATCH_TCP_UNKNOWN)
            set_state(tracker, which, LATCH_TCP_SYN_RCVD, "sent SYN-ACK");
    }
    if ((flags & LATCH_TCP_FIN) && !retransmission && !side->fin_sent) {
        side->fin_sent = 1;
        side->fin_seq = seq + length + ((flags & LATCH_TCP_SYN) != 0);
        if (side->state == LATCH_TCP_ESTABLISHED || side->state == LATCH_TCP_SYN_RCVD)
            set_state(tracker, which, LATCH_TCP_FIN_WAIT_1, "sent FIN: closes first");
        else if (side->state == LATCH_TCP_CLOSE_WAIT)
            set_state(tracker, which, LATCH_TCP_LAST_ACK, "sent FIN: closes second");
    }
}

/* The side `which` received a segment from the other side. */
static void apply_receive(latch_tcp_tracker *tracker, int which, uint8_t flags, uint32_t ack)
{
    side_info *side = &tracker->side[which];
    if (flags & LATCH_TCP_RST) {
        if (side->state != LATCH_TCP_CLOSED && side->state != LATCH_TCP_TIME_WAIT)
            set_state(tracker, which, LATCH_TCP_CLOSED,
                      side->state == LATCH_TCP_SYN_SENT ? "got RST: connection refused"
                                                        : "got RST: connection reset");
        return;
    }
    if ((flags & LATCH_TCP_SYN) && !(flags & LATCH_TCP_ACK)) {
        if (side->state == LATCH_TCP_LISTEN || side->state == LATCH_TCP_CLOSED ||
            side->state == LATCH_TCP_UNKNOWN)
            set_state(tracker, which, LATCH_TCP_SYN_RCVD, "got SYN");
        else if (side->state == LATCH_TCP_SYN_SENT)
            set_state(tracker, which, LATCH_TCP_SYN_RCVD, "got SYN: simultaneous open");
        return;
    }
    if (!(flags & LATCH_TCP_ACK))
        return;
    int acks_syn = side->isn_known && seq_after_or_equal(ack, side->isn + 1);
    int acks_fin = side->fin_sent && seq_after_or_equal(ack, side->fin_seq + 1);
    if (flags & LATCH_TCP_SYN) {
        if (side->state == LATCH_TCP_SYN_SENT && (acks_syn || !side->isn_known))
            set_state(tracker, which, LATCH_TCP_ESTABLISHED, "got SYN-ACK");
        return;
    }
    switch (side->state) {
    case LATCH_TCP_SYN_RCVD:
        if (acks_syn || !side->isn_known)
            set_state(tracker, which, LATCH_TCP_ESTABLISHED, "its SYN acknowledged");
        break;
    case LATCH_TCP_FIN_WAIT_1:
        if (acks_fin)
            set_state(tracker, which, LATCH_TCP_FIN_WAIT_2, "its FIN acknowledged");
        break;
    case LATCH_TCP_CLOSING:
        if (acks_fin)
            set_state(tracker, which, LATCH_TCP_TIME_WAIT, "its FIN acknowledged");
        break;
    case LATCH_TCP_LAST_ACK:
        if (acks_fin)
            set_state(tracker, which, LATCH_TCP_CLOSED, "its FIN acknowledged");
        break;
    default:
        break;
    }
    if ((flags & LATCH_TCP_FIN) && !side->fin_received) {
        side->fin_received = 1;
        switch (side->state) {
        case LATCH_TCP_ESTABLISHED: case LATCH_TCP_SYN_RCVD:
            set_state(tracker, which, LATCH_TCP_CLOSE_WAIT, "got FIN: the peer closes first");
            break;
        case LATCH_TCP_FIN_WAIT_1:
            set_state(tracker, which, LATCH_TCP_CLOSING,
                      "got FIN before its own FIN was acknowledged: simultaneous close");
            break;
        case LATCH_TCP_FIN_WAIT_2:
            set_state(tracker, which, LATCH_TCP_TIME_WAIT, "got FIN: waits 2 MSL");
            break;
        default:
            break;
        }
    }
}

static void deliver_pending(latch_tcp_tracker *tracker, size_t count)
{
    for (size_t i = 0; i < count && i < tracker->pending_count; i++)
        apply_receive(tracker, REMOTE, tracker->pending[i].flags, tracker->pending[i].ack);
    if (count >= tracker->pending_count) {
        tracker->pending_count = 0;
        return;
    }
    memmove(tracker->pending, tracker->pending + count,
            (tracker->pending_count - count) * sizeof tracker->pending[0]);
    tracker->pending_count -= count;
}

/* A segment from the remote side proves which of our segments it had
 * received when it sent it: deliver those (and everything before them). */
static void deliver_proven(latch_tcp_tracker *tracker, const latch_tcp_segment *segment)
{
    size_t upto = 0;
    for (size_t i = 0; i < tracker->pending_count; i++) {
        const pending_segment *p = &tracker->pending[i];
        uint32_t used = consumed(p->flags, p->length);
        int proven = 0;
        if ((segment->flags & LATCH_TCP_ACK) && used > 0 &&
            seq_after_or_equal(segment->raw_ack, p->seq + used))
            proven = 1;
        /* the echo is only meaningful on a segment with ACK (RFC 7323 3.2) */
        if ((segment->flags & LATCH_TCP_ACK) && segment->has_timestamps && p->has_timestamps &&
            segment->tsecr != 0 && seq_before(p->tsval, segment->tsecr))
            proven = 1;
        /* a peer in SYN_RCVD that sends anything but its SYN-ACK got our ACK */
        if (tracker->side[REMOTE].state == LATCH_TCP_SYN_RCVD &&
            !(segment->flags & (LATCH_TCP_SYN | LATCH_TCP_RST)) && (p->flags & LATCH_TCP_ACK) &&
            tracker->side[REMOTE].isn_known &&
            seq_after_or_equal(p->ack, tracker->side[REMOTE].isn + 1))
            proven = 1;
        if (proven)
            upto = i + 1;
    }
    deliver_pending(tracker, upto);
}

static void queue_for_remote(latch_tcp_tracker *tracker, const latch_tcp_segment *segment)
{
    if (tracker->pending_count == MAX_PENDING)
        deliver_pending(tracker, 1); /* bounded: the oldest is surely there by now */
    pending_segment *p = &tracker->pending[tracker->pending_count++];
    p->flags = segment->flags;
    p->seq = segment->raw_seq;
    p->ack = segment->raw_ack;
    p->length = segment->payload_length;
    p->has_timestamps = segment->has_timestamps;
    p->tsval = segment->tsval;
}

/* First segment: roles and the states before it. */
static void start(latch_tcp_tracker *tracker, const latch_tcp_segment *segment)
{
    int syn = (segment->flags & LATCH_TCP_SYN) != 0, ack = (segment->flags & LATCH_TCP_ACK) != 0;
    tracker->started = 1;
    if (tracker->local_is_client < 0 && syn)
        tracker->local_is_client = ack ? !segment->outgoing : segment->outgoing != 0;
    int client = tracker->local_is_client != 0 ? LOCAL : REMOTE;
    int server = !client;
    if (syn && !ack) {
        tracker->side[client].state = LATCH_TCP_CLOSED;
        tracker->side[server].state = LATCH_TCP_LISTEN;
    } else if (syn) {
        tracker->side[client].state = LATCH_TCP_SYN_SENT;
        tracker->side[server].state = LATCH_TCP_LISTEN;
    } else {
        /* joined mid-connection */
        tracker->side[client].state = LATCH_TCP_ESTABLISHED;
        tracker->side[server].state = LATCH_TCP_ESTABLISHED;
    }
}

/* Relative numbers, window scale, retransmission; updates the sender's record. */
static void sequence_bookkeeping(latch_tcp_tracker *tracker, latch_tcp_segment *segment,
                                 int sender)
{
    side_info *from = &tracker->side[sender], *to = &tracker->side[!sender];
    uint32_t used = consumed(segment->flags, segment->payload_length);
    if (segment->flags & LATCH_TCP_SYN) {
        if (!from->isn_known) {
            from->isn_known = 1;
            from->isn = segment->raw_seq;
            from->have_base = 1;
            from->base = segment->raw_seq;
        }
        if (segment->wscale >= 0)
            from->wscale = segment->wscale;
    }
    if (!from->have_base) {
        from->have_base = 1;
        from->base = segment->raw_seq;
    }
    if (!to->have_base && (segment->flags & LATCH_TCP_ACK)) {
        to->have_base = 1;
        to->base = segment->raw_ack;
    }
    segment->seq = segment->raw_seq - from->base;
    segment->ack = (segment->flags & LATCH_TCP_ACK) ? segment->raw_ack - to->base : 0;
    /* RFC 7323 2.2: the window in a SYN is never scaled; scaling starts
     * when both SYNs carried the option. */
    if (!(segment->flags & LATCH_TCP_SYN) && from->wscale >= 0 && to->wscale >= 0)
        segment->window_bytes = segment->window << (from->wscale > 14 ? 14 : from->wscale);
    else
        segment->window_bytes = segment->window;
    segment->retransmission = 0;
    if (used > 0) {
        if (from->have_high && seq_before(segment->raw_seq, from->high_end))
            segment->retransmission = 1;
        if (!from->have_high || seq_before(from->high_end, segment->raw_seq + used)) {
            from->have_high = 1;
            from->high_end = segment->raw_seq + used;
        }
    }
}

void latch_tcp_tracker_feed(latch_tcp_tracker *tracker, latch_tcp_segment *segment)
{
    if (tracker == NULL || segment == NULL)
        return;
    if (!tracker->started)
        start(tracker, segment);
    int sender = segment->outgoing ? LOCAL : REMOTE, receiver = !sender;
    segment->from_client = (int8_t)is_client(tracker, sender);
    sequence_bookkeeping(tracker, segment, sender);
    tracker->out = segment->transitions;
    tracker->out_count = 0;
    tracker->out_max = LATCH_TCP_MAX_TRANSITIONS;
    if (sender == LOCAL) {
        apply_send(tracker, LOCAL, segment->flags, segment->raw_seq, segment->payload_length,
                   segment->retransmission);
        queue_for_remote(tracker, segment);
    } else {
        if (!(segment->flags & LATCH_TCP_RST)) /* a RST proves nothing was received */
            deliver_proven(tracker, segment);
        apply_send(tracker, REMOTE, segment->flags, segment->raw_seq, segment->payload_length,
                   segment->retransmission);
        apply_receive(tracker, receiver, segment->flags, segment->raw_ack);
    }
    segment->transition_count = (uint8_t)tracker->out_count;
    tracker->out = NULL;
    segment->client_state = (uint8_t)latch_tcp_tracker_state(tracker, 1);
    segment->server_state = (uint8_t)latch_tcp_tracker_state(tracker, 0);
}

size_t latch_tcp_tracker_finish(latch_tcp_tracker *tracker, latch_tcp_transition *out,
                                size_t max)
{
    if (tracker == NULL)
        return 0;
    tracker->out = out;
    tracker->out_count = 0;
    tracker->out_max = out != NULL ? max : 0;
    deliver_pending(tracker, tracker->pending_count);
    size_t count = tracker->out_count;
    tracker->out = NULL;
    return count;
}
