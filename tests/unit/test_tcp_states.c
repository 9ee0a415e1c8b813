/* The TCP state tracker on synthetic segment sequences: the three-way
 * handshake from both ends, the four closes (client first, server first,
 * FIN+ACK combined, simultaneous), RST, retransmissions, relative numbers,
 * window scaling, and a capture that joins mid-connection. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "latch/tcp.h"

#define C_ISN 1000u   /* client's initial sequence number */
#define S_ISN 5000000u /* server's */

enum { SYN = LATCH_TCP_SYN, ACK = LATCH_TCP_ACK, FIN = LATCH_TCP_FIN, RST = LATCH_TCP_RST,
       PSH = LATCH_TCP_PSH };

static latch_tcp_segment last;
static uint32_t clock_ms;

/* Feed one segment: out = sent by the local socket. */
static const latch_tcp_segment *feed(latch_tcp_tracker *tracker, int out, uint8_t flags,
                                     uint32_t seq, uint32_t ack, uint32_t length)
{
    memset(&last, 0, sizeof last);
    last.time_us = (uint64_t)(++clock_ms) * 1000u;
    last.outgoing = (uint8_t)out;
    last.flags = flags;
    last.raw_seq = seq;
    last.raw_ack = ack;
    last.payload_length = length;
    last.window = 100;
    last.wscale = -1;
    latch_tcp_tracker_feed(tracker, &last);
    return &last;
}

static int client_state(const latch_tcp_tracker *t) { return latch_tcp_tracker_state(t, 1); }
static int server_state(const latch_tcp_tracker *t) { return latch_tcp_tracker_state(t, 0); }

/* Does the last segment carry this transition? */
static int has_transition(const latch_tcp_segment *s, int client, int from, int to)
{
    for (size_t i = 0; i < s->transition_count; i++)
        if (s->transitions[i].client == client && s->transitions[i].from == from &&
            s->transitions[i].to == to)
            return 1;
    return 0;
}

static int finish_has(latch_tcp_tracker *tracker, int client, int from, int to)
{
    latch_tcp_transition out[16];
    size_t n = latch_tcp_tracker_finish(tracker, out, 16);
    for (size_t i = 0; i < n; i++)
        if (out[i].client == client && out[i].from == from && out[i].to == to)
            return 1;
    return 0;
}

/* Client side: SYN, SYN-ACK, ACK, then a ClientHello of 300 bytes and the
 * server's 1000-byte answer. */
static void client_handshake(latch_tcp_tracker *t)
{
    const latch_tcp_segment *s = feed(t, 1, SYN, C_ISN, 0, 0);
    CHECK_EQ_INT(s->from_client, 1);
    CHECK_EQ_INT(s->seq, 0);
    CHECK(has_transition(s, 1, LATCH_TCP_CLOSED, LATCH_TCP_SYN_SENT));
    CHECK_EQ_INT(server_state(t), LATCH_TCP_LISTEN);

    s = feed(t, 0, SYN | ACK, S_ISN, C_ISN + 1, 0);
    CHECK_EQ_INT(s->from_client, 0);
    CHECK_EQ_INT(s->seq, 0);
    CHECK_EQ_INT(s->ack, 1);
    CHECK(has_transition(s, 1, LATCH_TCP_SYN_SENT, LATCH_TCP_ESTABLISHED));
    /* the SYN-ACK acknowledges our SYN: the server got it */
    CHECK(has_transition(s, 0, LATCH_TCP_LISTEN, LATCH_TCP_SYN_RCVD));
    CHECK(s->transitions[0].inferred == 1);

    s = feed(t, 1, ACK, C_ISN + 1, S_ISN + 1, 0);
    CHECK_EQ_INT(s->transition_count, 0);
    CHECK_EQ_INT(server_state(t), LATCH_TCP_SYN_RCVD); /* not proven yet */
    feed(t, 1, PSH | ACK, C_ISN + 1, S_ISN + 1, 300);
    s = feed(t, 0, ACK, S_ISN + 1, C_ISN + 301, 0);
    CHECK(has_transition(s, 0, LATCH_TCP_SYN_RCVD, LATCH_TCP_ESTABLISHED));
    CHECK_EQ_INT(s->ack, 301);
    s = feed(t, 0, PSH | ACK, S_ISN + 1, C_ISN + 301, 1000);
    CHECK_EQ_INT(s->seq, 1);
    feed(t, 1, ACK, C_ISN + 301, S_ISN + 1001, 0);
    CHECK_EQ_INT(client_state(t), LATCH_TCP_ESTABLISHED);
    CHECK_EQ_INT(server_state(t), LATCH_TCP_ESTABLISHED);
}

static void test_client_closes_first(void)
{
    latch_tcp_tracker *t = latch_tcp_tracker_new();
    client_handshake(t);
    const latch_tcp_segment *s = feed(t, 1, FIN | ACK, C_ISN + 301, S_ISN + 1001, 0);
    CHECK(has_transition(s, 1, LATCH_TCP_ESTABLISHED, LATCH_TCP_FIN_WAIT_1));
    s = feed(t, 0, ACK, S_ISN + 1001, C_ISN + 302, 0);
    CHECK(has_transition(s, 0, LATCH_TCP_ESTABLISHED, LATCH_TCP_CLOSE_WAIT));
    CHECK(has_transition(s, 1, LATCH_TCP_FIN_WAIT_1, LATCH_TCP_FIN_WAIT_2));
    s = feed(t, 0, FIN | ACK, S_ISN + 1001, C_ISN + 302, 0);
    CHECK(has_transition(s, 0, LATCH_TCP_CLOSE_WAIT, LATCH_TCP_LAST_ACK));
    CHECK(has_transition(s, 1, LATCH_TCP_FIN_WAIT_2, LATCH_TCP_TIME_WAIT));
    feed(t, 1, ACK, C_ISN + 302, S_ISN + 1002, 0);
    CHECK_EQ_INT(server_state(t), LATCH_TCP_LAST_ACK);
    /* the last ACK is taken as delivered at the end */
    CHECK(finish_has(t, 0, LATCH_TCP_LAST_ACK, LATCH_TCP_CLOSED));
    CHECK_EQ_INT(client_state(t), LATCH_TCP_TIME_WAIT);
    CHECK(latch_tcp_tracker_reset_reason(t) == NULL);
    latch_tcp_tracker_free(t);
}

static void test_server_closes_first(void)
{
    latch_tcp_tracker *t = latch_tcp_tracker_new();
    client_handshake(t);
    const latch_tcp_segment *s = feed(t, 0, FIN | ACK, S_ISN + 1001, C_ISN + 301, 0);
    CHECK(has_transition(s, 0, LATCH_TCP_ESTABLISHED, LATCH_TCP_FIN_WAIT_1));
    CHECK(has_transition(s, 1, LATCH_TCP_ESTABLISHED, LATCH_TCP_CLOSE_WAIT));
    feed(t, 1, ACK, C_ISN + 301, S_ISN + 1002, 0);
    s = feed(t, 1, FIN | ACK, C_ISN + 301, S_ISN + 1002, 0);
    CHECK(has_transition(s, 1, LATCH_TCP_CLOSE_WAIT, LATCH_TCP_LAST_ACK));
    s = feed(t, 0, ACK, S_ISN + 1002, C_ISN + 302, 0);
    CHECK(has_transition(s, 1, LATCH_TCP_LAST_ACK, LATCH_TCP_CLOSED));
    /* the server's ACK covers our FIN: it got the ACK and the FIN before it */
    CHECK(has_transition(s, 0, LATCH_TCP_FIN_WAIT_1, LATCH_TCP_FIN_WAIT_2));
    CHECK(has_transition(s, 0, LATCH_TCP_FIN_WAIT_2, LATCH_TCP_TIME_WAIT));
    CHECK_EQ_INT(server_state(t), LATCH_TCP_TIME_WAIT);
    CHECK_EQ_INT(client_state(t), LATCH_TCP_CLOSED);
    latch_tcp_tracker_free(t);
}

/* FIN, then FIN+ACK (the peer's ACK and FIN in one segment). */
static void test_three_way_close(void)
{
    latch_tcp_tracker *t = latch_tcp_tracker_new();
    client_handshake(t);
    feed(t, 1, FIN | ACK, C_ISN + 301, S_ISN + 1001, 0);
    const latch_tcp_segment *s = feed(t, 0, FIN | ACK, S_ISN + 1001, C_ISN + 302, 0);
    CHECK(has_transition(s, 1, LATCH_TCP_FIN_WAIT_1, LATCH_TCP_FIN_WAIT_2));
    CHECK(has_transition(s, 1, LATCH_TCP_FIN_WAIT_2, LATCH_TCP_TIME_WAIT));
    CHECK(has_transition(s, 0, LATCH_TCP_ESTABLISHED, LATCH_TCP_CLOSE_WAIT));
    CHECK(has_transition(s, 0, LATCH_TCP_CLOSE_WAIT, LATCH_TCP_LAST_ACK));
    latch_tcp_tracker_free(t);
}

/* Both FINs cross on the wire: each side gets the other's FIN before its
 * own is acknowledged.  Seen from the client, then from the server. */
static void test_simultaneous_close(void)
{
    latch_tcp_tracker *t = latch_tcp_tracker_new();
    client_handshake(t);
    const latch_tcp_segment *s = feed(t, 1, FIN | ACK, C_ISN + 301, S_ISN + 1001, 0);
    CHECK(has_transition(s, 1, LATCH_TCP_ESTABLISHED, LATCH_TCP_FIN_WAIT_1));
    /* the server's FIN does not acknowledge ours: it was sent before ours arrived */
    s = feed(t, 0, FIN | ACK, S_ISN + 1001, C_ISN + 301, 0);
    CHECK(has_transition(s, 0, LATCH_TCP_ESTABLISHED, LATCH_TCP_FIN_WAIT_1));
    CHECK(has_transition(s, 1, LATCH_TCP_FIN_WAIT_1, LATCH_TCP_CLOSING));
    feed(t, 1, ACK, C_ISN + 302, S_ISN + 1002, 0);
    s = feed(t, 0, ACK, S_ISN + 1002, C_ISN + 302, 0);
    CHECK(has_transition(s, 0, LATCH_TCP_FIN_WAIT_1, LATCH_TCP_CLOSING));
    CHECK(has_transition(s, 1, LATCH_TCP_CLOSING, LATCH_TCP_TIME_WAIT));
    CHECK(finish_has(t, 0, LATCH_TCP_CLOSING, LATCH_TCP_TIME_WAIT));
    CHECK_EQ_INT(client_state(t), LATCH_TCP_TIME_WAIT);
    CHECK_EQ_INT(server_state(t), LATCH_TCP_TIME_WAIT);
    latch_tcp_tracker_free(t);

    /* the same close captured at the server */
    t = latch_tcp_tracker_new();
    s = feed(t, 0, SYN, C_ISN, 0, 0);
    CHECK_EQ_INT(s->from_client, 1);
    CHECK(has_transition(s, 0, LATCH_TCP_LISTEN, LATCH_TCP_SYN_RCVD));
    CHECK(has_transition(s, 1, LATCH_TCP_CLOSED, LATCH_TCP_SYN_SENT));
    CHECK(s->transitions[0].inferred || s->transitions[1].inferred);
    feed(t, 1, SYN | ACK, S_ISN, C_ISN + 1, 0);
    s = feed(t, 0, ACK, C_ISN + 1, S_ISN + 1, 0);
    CHECK(has_transition(s, 0, LATCH_TCP_SYN_RCVD, LATCH_TCP_ESTABLISHED));
    CHECK(has_transition(s, 1, LATCH_TCP_SYN_SENT, LATCH_TCP_ESTABLISHED));
    s = feed(t, 1, FIN | ACK, S_ISN + 1, C_ISN + 1, 0);
    CHECK(has_transition(s, 0, LATCH_TCP_ESTABLISHED, LATCH_TCP_FIN_WAIT_1));
    s = feed(t, 0, FIN | ACK, C_ISN + 1, S_ISN + 1, 0);
    CHECK(has_transition(s, 1, LATCH_TCP_ESTABLISHED, LATCH_TCP_FIN_WAIT_1));
    CHECK(has_transition(s, 0, LATCH_TCP_FIN_WAIT_1, LATCH_TCP_CLOSING));
    CHECK_EQ_INT(client_state(t), LATCH_TCP_FIN_WAIT_1);
    feed(t, 1, ACK, S_ISN + 2, C_ISN + 2, 0);
    s = feed(t, 0, ACK, C_ISN + 2, S_ISN + 2, 0);
    CHECK(has_transition(s, 0, LATCH_TCP_CLOSING, LATCH_TCP_TIME_WAIT));
    CHECK(has_transition(s, 1, LATCH_TCP_FIN_WAIT_1, LATCH_TCP_CLOSING));
    latch_tcp_tracker_finish(t, NULL, 0);
    CHECK_EQ_INT(client_state(t), LATCH_TCP_TIME_WAIT);
    latch_tcp_tracker_free(t);
}

static void test_resets(void)
{
    /* nothing listens: SYN answered by RST, ACK */
    latch_tcp_tracker *t = latch_tcp_tracker_new();
    feed(t, 1, SYN, C_ISN, 0, 0);
    const latch_tcp_segment *s = feed(t, 0, RST | ACK, 0, C_ISN + 1, 0);
    CHECK(has_transition(s, 1, LATCH_TCP_SYN_SENT, LATCH_TCP_CLOSED));
    CHECK(strstr(s->transitions[s->transition_count - 1].why, "refused") != NULL);
    CHECK(latch_tcp_tracker_reset_reason(t) != NULL &&
          strstr(latch_tcp_tracker_reset_reason(t), "server reset") != NULL &&
          strstr(latch_tcp_tracker_reset_reason(t), "nothing listens") != NULL);
    latch_tcp_tracker_free(t);

    /* the server aborts an established connection */
    t = latch_tcp_tracker_new();
    client_handshake(t);
    s = feed(t, 0, RST | ACK, S_ISN + 1001, C_ISN + 301, 0);
    CHECK(has_transition(s, 0, LATCH_TCP_ESTABLISHED, LATCH_TCP_CLOSED));
    CHECK(has_transition(s, 1, LATCH_TCP_ESTABLISHED, LATCH_TCP_CLOSED));
    CHECK(strstr(latch_tcp_tracker_reset_reason(t), "aborted") != NULL);
    latch_tcp_tracker_free(t);

    /* data arrives at a client that has closed: it answers with RST */
    t = latch_tcp_tracker_new();
    client_handshake(t);
    feed(t, 1, FIN | ACK, C_ISN + 301, S_ISN + 1001, 0);
    feed(t, 0, PSH | ACK, S_ISN + 1001, C_ISN + 302, 100);
    s = feed(t, 1, RST, C_ISN + 302, 0, 0);
    CHECK(has_transition(s, 1, LATCH_TCP_FIN_WAIT_2, LATCH_TCP_CLOSED));
    CHECK(strstr(latch_tcp_tracker_reset_reason(t), "client reset") != NULL &&
          strstr(latch_tcp_tracker_reset_reason(t), "after it had closed") != NULL);
    latch_tcp_tracker_free(t);
}

static void test_retransmissions_and_numbers(void)
{
    latch_tcp_tracker *t = latch_tcp_tracker_new();
    latch_tcp_segment syn;
    /* the SYN is lost and sent again */
    feed(t, 1, SYN, C_ISN, 0, 0);
    CHECK_EQ_INT(last.retransmission, 0);
    feed(t, 1, SYN, C_ISN, 0, 0);
    CHECK_EQ_INT(last.retransmission, 1);
    CHECK_EQ_INT(last.transition_count, 0);
    /* window scale from the SYNs: 7 for the server, 8 for the client (set by hand) */
    memset(&syn, 0, sizeof syn);
    syn.outgoing = 0;
    syn.flags = SYN | ACK;
    syn.raw_seq = S_ISN;
    syn.raw_ack = C_ISN + 1;
    syn.window = 65535;
    syn.wscale = 7;
    latch_tcp_tracker_feed(t, &syn);
    CHECK_EQ_INT(syn.window_bytes, 65535); /* never scaled in a SYN */
    feed(t, 1, ACK, C_ISN + 1, S_ISN + 1, 0);
    CHECK_EQ_INT(last.window_bytes, 100); /* the client's SYN had no window scale */
    /* data, then the same range again (and a later overlapping one) */
    feed(t, 0, PSH | ACK, S_ISN + 1, C_ISN + 1, 1448);
    CHECK_EQ_INT(last.retransmission, 0);
    feed(t, 0, PSH | ACK, S_ISN + 1449, C_ISN + 1, 1448);
    CHECK_EQ_INT(last.retransmission, 0);
    CHECK_EQ_INT(last.seq, 1449);
    feed(t, 0, PSH | ACK, S_ISN + 1, C_ISN + 1, 1448);
    CHECK_EQ_INT(last.retransmission, 1);
    CHECK_EQ_INT(last.seq, 1);
    feed(t, 0, PSH | ACK, S_ISN + 1449, C_ISN + 1, 2896);
    CHECK_EQ_INT(last.retransmission, 1);
    feed(t, 0, PSH | ACK, S_ISN + 4345, C_ISN + 1, 100);
    CHECK_EQ_INT(last.retransmission, 0);
    /* pure ACKs are never retransmissions */
    feed(t, 1, ACK, C_ISN + 1, S_ISN + 4445, 0);
    feed(t, 1, ACK, C_ISN + 1, S_ISN + 4445, 0);
    CHECK_EQ_INT(last.retransmission, 0);
    CHECK_EQ_INT(last.ack, 4445);
    /* a retransmitted FIN changes no state */
    feed(t, 1, FIN | ACK, C_ISN + 1, S_ISN + 4445, 0);
    CHECK_EQ_INT(last.transition_count, 1);
    feed(t, 1, FIN | ACK, C_ISN + 1, S_ISN + 4445, 0);
    CHECK_EQ_INT(last.retransmission, 1);
    CHECK_EQ_INT(last.transition_count, 0);
    CHECK_EQ_INT(client_state(t), LATCH_TCP_FIN_WAIT_1);
    latch_tcp_tracker_free(t);

    /* sequence numbers that wrap around 2^32 */
    t = latch_tcp_tracker_new();
    feed(t, 1, SYN, 0xfffffff0u, 0, 0);
    feed(t, 0, SYN | ACK, S_ISN, 0xfffffff1u, 0);
    CHECK_EQ_INT(client_state(t), LATCH_TCP_ESTABLISHED);
    feed(t, 1, PSH | ACK, 0xfffffff1u, S_ISN + 1, 100);
    CHECK_EQ_INT(last.seq, 1);
    feed(t, 1, PSH | ACK, 0x55u, S_ISN + 1, 100);
    CHECK_EQ_INT(last.retransmission, 0);
    CHECK_EQ_INT(last.seq, 101);
    feed(t, 1, PSH | ACK, 0xfffffff1u, S_ISN + 1, 100);
    CHECK_EQ_INT(last.retransmission, 1);
    feed(t, 1, FIN | ACK, 0xb9u, S_ISN + 1, 0);
    feed(t, 0, ACK, S_ISN + 1, 0xbau, 0);
    CHECK_EQ_INT(client_state(t), LATCH_TCP_FIN_WAIT_2);
    latch_tcp_tracker_free(t);
}

/* Started on a connected socket: no SYN; both ESTABLISHED; the role set by hand. */
static void test_mid_connection(void)
{
    latch_tcp_tracker *t = latch_tcp_tracker_new();
    latch_tcp_tracker_set_local_role(t, 0);
    const latch_tcp_segment *s = feed(t, 0, PSH | ACK, 777777u, 888888u, 50);
    CHECK_EQ_INT(s->from_client, 1);
    CHECK_EQ_INT(s->seq, 0);
    CHECK_EQ_INT(s->ack, 0);
    CHECK_EQ_INT(client_state(t), LATCH_TCP_ESTABLISHED);
    CHECK_EQ_INT(server_state(t), LATCH_TCP_ESTABLISHED);
    s = feed(t, 1, PSH | ACK, 888888u, 777827u, 20);
    CHECK_EQ_INT(s->from_client, 0);
    CHECK_EQ_INT(s->seq, 0);
    CHECK_EQ_INT(s->ack, 50);
    s = feed(t, 1, FIN | ACK, 888908u, 777827u, 0);
    CHECK(has_transition(s, 0, LATCH_TCP_ESTABLISHED, LATCH_TCP_FIN_WAIT_1));
    CHECK_EQ_INT(s->seq, 20);
    latch_tcp_tracker_free(t);
}

static void test_names(void)
{
    CHECK(strcmp(latch_tcp_state_name(LATCH_TCP_FIN_WAIT_1), "FIN_WAIT_1") == 0);
    CHECK(strcmp(latch_tcp_state_name(LATCH_TCP_CLOSING), "CLOSING") == 0);
    CHECK(strcmp(latch_tcp_state_name(LATCH_TCP_LAST_ACK), "LAST_ACK") == 0);
    CHECK(strcmp(latch_tcp_state_name(99), "UNKNOWN") == 0);
    CHECK(strcmp(latch_tcp_state_name(-1), "UNKNOWN") == 0);
}

int main(void)
{
    test_client_closes_first();
    test_server_closes_first();
    test_three_way_close();
    test_simultaneous_close();
    test_resets();
    test_retransmissions_and_numbers();
    test_mid_connection();
    test_names();
    return check_finish();
}
