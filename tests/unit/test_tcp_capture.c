/* The segment capture on loopback (IPv4 and IPv6) and the tracer's TCP
 * renderings: every segment once, the handshake's flags and options, the
 * 4-tuple filter (another connection is not seen), a listening-port
 * capture locks onto its first connection, a listening capture on [::]
 * claims IPv4 and IPv6 clients, TLS record headers found in the
 * payload, the states at the end; then synthetic segments and TLS events
 * through the table, the timeline and JSON (every line parses, the
 * round-trip report).  Without CAP_NET_RAW the capture must fail with
 * EPERM/EACCES and TCP_INFO must answer; that is said on stdout. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "json.h"
#include "latch/tcp.h"
#include "latch/trace.h"
#include "net/net_detail.h"

#define MAX_SEGMENTS 256

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A listening socket on the loopback address of family; port in *address. */
static int listen_loopback(int family, struct sockaddr_storage *address, socklen_t *length)
{
    memset(address, 0, sizeof *address);
    if (family == AF_INET) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)address;
        v4->sin_family = AF_INET;
        v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        *length = sizeof *v4;
    } else {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)address;
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = in6addr_loopback;
        *length = sizeof *v6;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)address, *length) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)address, length) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Poll until no new segment came for 100 ms (at most 2 s). */
static size_t collect(latch_tcp_capture *capture, latch_tcp_segment *out, size_t max)
{
    size_t count = 0;
    int quiet = 0;
    for (int round = 0; round < 200 && quiet < 10; round++) {
        size_t got = latch_tcp_capture_poll(capture, out + count, max - count);
        count += got;
        quiet = got == 0 ? quiet + 1 : 0;
        sleep_ms(10);
    }
    return count;
}

static size_t count_flags(const latch_tcp_segment *s, size_t n, uint8_t flags)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += s[i].flags == flags;
    return count;
}

/* A client connection captured from before the SYN, 2 TLS-looking records
 * each way, the client closes first. */
static void test_loopback(int family)
{
    struct sockaddr_storage address;
    socklen_t length;
    const char *name = family == AF_INET ? "IPv4" : "IPv6";
    int listener = listen_loopback(family, &address, &length);
    if (listener < 0) {
        printf("NOTE: no %s loopback here (%s): the %s capture case did not run\n", name,
               strerror(errno), name);
        CHECK(family == AF_INET6); /* IPv4 loopback must exist */
        return;
    }
    /* a second connection on the same listener must stay out of the capture */
    int other = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    latch_tcp_capture *capture = NULL;
    int capture_errno = 0;
    int fd = latch_tcp_connect_captured((struct sockaddr *)&address, length, 2000, &capture,
                                        &capture_errno);
    CHECK(fd >= 0);
    CHECK(capture != NULL);
    if (fd < 0 || capture == NULL) {
        fprintf(stderr, "%s: connect/capture failed: %s / %s\n", name, strerror(errno),
                strerror(capture_errno));
        if (fd >= 0)
            close(fd);
        latch_tcp_capture_stop(capture);
        close(other);
        close(listener);
        return;
    }
    CHECK(strstr(latch_tcp_capture_description(capture), "↔") != NULL);
    CHECK(connect(other, (struct sockaddr *)&address, length) == 0);
    int server = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    int server_other = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    static const uint8_t records[] = {0x16, 0x03, 0x01, 0x00, 0x03, 'a', 'b', 'c',
                                      0x17, 0x03, 0x03, 0x00, 0x01, 'z'};
    char buffer[64];
    CHECK(write(fd, records, sizeof records) == (ssize_t)sizeof records);
    CHECK(read(server, buffer, sizeof buffer) == (ssize_t)sizeof records);
    CHECK(write(server, records, sizeof records) == (ssize_t)sizeof records);
    CHECK(read(fd, buffer, sizeof buffer) == (ssize_t)sizeof records);
    CHECK(write(other, "noise", 5) == 5);
    CHECK(read(server_other, buffer, sizeof buffer) == 5);
    shutdown(fd, SHUT_WR);
    CHECK(read(server, buffer, sizeof buffer) == 0);
    sleep_ms(50);
    close(server);
    CHECK(read(fd, buffer, sizeof buffer) == 0);
    sleep_ms(20);
    close(fd);

    static latch_tcp_segment segments[MAX_SEGMENTS];
    size_t n = collect(capture, segments, MAX_SEGMENTS);
    CHECK(n >= 8);
    if (n >= 3) {
        CHECK_EQ_INT(segments[0].flags, LATCH_TCP_SYN);
        CHECK_EQ_INT(segments[0].outgoing, 1);
        CHECK_EQ_INT(segments[0].from_client, 1);
        CHECK(segments[0].mss > 0);
        CHECK(segments[0].sack_permitted);
        CHECK(segments[0].wscale >= 0);
        CHECK(segments[0].has_timestamps);
        CHECK_EQ_INT(segments[1].flags, LATCH_TCP_SYN | LATCH_TCP_ACK);
        CHECK_EQ_INT(segments[1].outgoing, 0);
        CHECK_EQ_INT(segments[1].ack, 1);
        CHECK_EQ_INT(segments[2].flags, LATCH_TCP_ACK);
        CHECK(segments[1].time_us >= segments[0].time_us);
    }
    /* each segment once: one SYN, one SYN-ACK (loopback's outgoing copies skipped) */
    CHECK_EQ_INT(count_flags(segments, n, LATCH_TCP_SYN), 1);
    CHECK_EQ_INT(count_flags(segments, n, LATCH_TCP_SYN | LATCH_TCP_ACK), 1);
    size_t data = 0, fins = 0, retransmissions = 0;
    uint64_t previous = 0;
    int ordered = 1;
    for (size_t i = 0; i < n; i++) {
        const latch_tcp_segment *s = &segments[i];
        if (s->payload_length > 0) {
            data++;
            CHECK_EQ_INT(s->payload_length, sizeof records);
            CHECK_EQ_INT(s->tls_records, 2);
            CHECK_EQ_INT(s->tls_type, 22);
            CHECK_EQ_INT(s->tls_bytes, sizeof records);
            CHECK_EQ_INT(s->seq, 1);
        }
        fins += (s->flags & LATCH_TCP_FIN) != 0;
        retransmissions += s->retransmission;
        ordered &= s->time_us >= previous;
        previous = s->time_us;
        CHECK_EQ_INT(s->number, i + 1);
    }
    CHECK_EQ_INT(data, 2); /* "noise" on the other connection is not here */
    CHECK_EQ_INT(fins, 2);
    CHECK_EQ_INT(retransmissions, 0);
    CHECK(ordered);
    latch_tcp_tracker *tracker = latch_tcp_capture_tracker(capture);
    latch_tcp_tracker_finish(tracker, NULL, 0);
    CHECK_EQ_INT(latch_tcp_tracker_state(tracker, 1), LATCH_TCP_TIME_WAIT);
    CHECK_EQ_INT(latch_tcp_tracker_state(tracker, 0), LATCH_TCP_CLOSED);
    CHECK_EQ_INT(latch_tcp_capture_dropped(capture), 0);
    latch_tcp_capture_stop(capture);
    close(server_other);
    close(other);
    close(listener);
    printf("%s loopback: %zu segments captured\n", name, n);
}

/* A capture on a listening port (no peer given) follows the first SYN only. */
static void test_listener_capture(void)
{
    struct sockaddr_storage address;
    socklen_t length;
    int listener = listen_loopback(AF_INET, &address, &length);
    CHECK(listener >= 0);
    if (listener < 0)
        return;
    latch_tcp_capture *capture = latch_tcp_capture_start_for((struct sockaddr *)&address, NULL);
    CHECK(capture != NULL);
    if (capture == NULL) {
        close(listener);
        return;
    }
    latch_tcp_capture_set_local_role(capture, 0);
    int first = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(connect(first, (struct sockaddr *)&address, length) == 0);
    int second = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(connect(second, (struct sockaddr *)&address, length) == 0);
    CHECK(write(second, "second", 6) == 6);
    CHECK(write(first, "first!", 6) == 6);
    static latch_tcp_segment segments[MAX_SEGMENTS];
    size_t n = collect(capture, segments, MAX_SEGMENTS);
    CHECK_EQ_INT(count_flags(segments, n, LATCH_TCP_SYN), 1);
    size_t data = 0;
    for (size_t i = 0; i < n; i++) {
        data += segments[i].payload_length;
        CHECK_EQ_INT(segments[i].from_client, !segments[i].outgoing);
    }
    CHECK_EQ_INT(data, 6);
    CHECK(n >= 1 && segments[0].outgoing == 0);
    latch_tcp_capture_stop(capture);
    close(first);
    close(second);
    close(listener);
}

/* A listening capture on [::] (dual stack) follows IPv4 clients as well:
 * both an IPv4 and an IPv6 connection are claimed after accept() with their
 * three-way handshake, each only its own segments. */
static void test_dual_stack_listening(void)
{
    struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
    socklen_t length = sizeof any;
    int off = 0, listener = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(listener >= 0);
    if (listener < 0 || setsockopt(listener, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) != 0 ||
        bind(listener, (struct sockaddr *)&any, sizeof any) != 0 || listen(listener, 8) != 0 ||
        getsockname(listener, (struct sockaddr *)&any, &length) != 0) {
        printf("NOTE: no dual-stack [::] socket here; the dual-stack case did not run\n");
        if (listener >= 0)
            close(listener);
        return;
    }
    latch_tcp_capture *listening = latch_tcp_capture_start_listening((struct sockaddr *)&any);
    CHECK(listening != NULL);
    if (listening == NULL) {
        close(listener);
        return;
    }
    struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = any.sin6_port};
    v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = any.sin6_port,
                              .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    const struct sockaddr *targets[2] = {(struct sockaddr *)&v4, (struct sockaddr *)&v6};
    const socklen_t lengths[2] = {sizeof v4, sizeof v6};
    for (int i = 0; i < 2; i++) {
        int client = socket(targets[i]->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(connect(client, targets[i], lengths[i]) == 0);
        CHECK(write(client, i == 0 ? "four" : "six!", 4) == 4);
        int accepted = accept(listener, NULL, NULL);
        CHECK(accepted >= 0);
        latch_tcp_capture *flow = latch_tcp_capture_claim(listening, accepted);
        if (flow == NULL)
            fprintf(stderr, "claim (%s client): %s\n", i == 0 ? "IPv4" : "IPv6", strerror(errno));
        CHECK(flow != NULL);
        if (flow != NULL) {
            static latch_tcp_segment segments[MAX_SEGMENTS];
            size_t n = collect(flow, segments, MAX_SEGMENTS), data = 0;
            for (size_t j = 0; j < n; j++)
                data += segments[j].payload_length;
            CHECK(n >= 3 && segments[0].flags == LATCH_TCP_SYN && segments[0].outgoing == 0);
            CHECK(n >= 3 && segments[1].flags == (LATCH_TCP_SYN | LATCH_TCP_ACK));
            CHECK_EQ_INT(data, 4); /* its own bytes, not the other connection's */
            CHECK(strstr(latch_tcp_capture_description(flow), i == 0 ? "127.0.0.1" : "::1") != NULL);
            printf("dual stack: %s client, %zu segments, %s\n", i == 0 ? "IPv4" : "IPv6", n,
                   latch_tcp_capture_description(flow));
            latch_tcp_capture_stop(flow);
        }
        close(accepted);
        close(client);
    }
    latch_tcp_capture_stop(listening);
    close(listener);
}

/* Two loopback client sockets bound to ports in slots 0 and 1 of two
 * (latch_net_client_port_slot), below the ephemeral range. */
static int clients_of_both_slots(int fds[2], uint16_t ports[2])
{
    fds[0] = fds[1] = -1;
    for (int tries = 0; tries < 256 && (fds[0] < 0 || fds[1] < 0); tries++) {
        uint16_t port = (uint16_t)(20000 + rand() % 12000);
        unsigned slot = latch_net_client_port_slot(port, 2);
        if (fds[slot] >= 0)
            continue;
        struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(port)};
        at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && bind(fd, (struct sockaddr *)&at, sizeof at) == 0) {
            fds[slot] = fd;
            ports[slot] = port;
        } else if (fd >= 0) {
            close(fd);
        }
    }
    return fds[0] >= 0 && fds[1] >= 0 ? 0 : -1;
}

/* SO_REUSEPORT workers steered by client port: socket
 * latch_net_client_port_slot(port, 2) accepts;
 * with --trace each worker's listening capture keeps only its clients (the
 * other capture never saw the SYN: claimed there, the flow starts empty). */
static void test_reuseport_by_client_port(int with_capture)
{
    unsigned used[4] = {0};
    for (uint16_t port = 32768; port < 32768 + 2 * 400; port += 2) /* even, as connect() picks */
        used[latch_net_client_port_slot(port, 4)]++;
    CHECK(used[0] > 50 && used[1] > 50 && used[2] > 50 && used[3] > 50);
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int one = 1, listeners[2] = {-1, -1}, clients[2];
    uint16_t ports[2];
    for (int i = 0; i < 2; i++) {
        listeners[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        CHECK(listeners[i] >= 0 &&
              setsockopt(listeners[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0 &&
              bind(listeners[i], (struct sockaddr *)&address, sizeof address) == 0 &&
              listen(listeners[i], 8) == 0 &&
              getsockname(listeners[i], (struct sockaddr *)&address, &length) == 0);
    }
    CHECK_EQ_INT(latch_net_reuseport_by_client_port(listeners[0], 2), 0);
    latch_tcp_capture *captures[2] = {NULL, NULL};
    for (int i = 0; with_capture && i < 2; i++) {
        captures[i] = latch_tcp_capture_start_listening((struct sockaddr *)&address);
        CHECK(captures[i] != NULL && latch_tcp_capture_share_by_port(captures[i], 2, (unsigned)i) == 0);
    }
    CHECK(clients_of_both_slots(clients, ports) == 0);
    for (int parity = 0; parity < 2; parity++) { /* slot; one at a time: each its own accept */
        CHECK(connect(clients[parity], (struct sockaddr *)&address, sizeof address) == 0);
        CHECK(write(clients[parity], "hello", 5) == 5);
        sleep_ms(30);
        int mine = accept(listeners[parity], NULL, NULL);
        int other = accept(listeners[1 - parity], NULL, NULL);
        if (mine < 0 && other >= 0) /* the other listener took it: say so */
            fprintf(stderr, "client port %u went to listener %d\n", ports[parity], 1 - parity);
        CHECK(mine >= 0 && other < 0);
        if (with_capture && mine >= 0 && captures[0] != NULL && captures[1] != NULL) {
            static latch_tcp_segment segments[MAX_SEGMENTS];
            latch_tcp_capture *flow = latch_tcp_capture_claim(captures[parity], mine);
            size_t n = flow ? collect(flow, segments, MAX_SEGMENTS) : 0;
            CHECK(n >= 3 && segments[0].flags == LATCH_TCP_SYN); /* its own capture kept it */
            latch_tcp_capture_stop(flow);
            /* the other capture: nothing of this connection, not even the SYN */
            int again = dup(mine);
            latch_tcp_capture *stray = latch_tcp_capture_claim(captures[1 - parity], again);
            n = stray ? collect(stray, segments, MAX_SEGMENTS) : 0;
            CHECK_EQ_INT(n, 0);
            latch_tcp_capture_stop(stray);
            close(again);
        }
        if (mine >= 0)
            close(mine);
        if (other >= 0)
            close(other);
    }
    for (int i = 0; i < 2; i++) {
        latch_tcp_capture_stop(captures[i]);
        close(clients[i]);
        close(listeners[i]);
    }
}

/* ---- the renderings, on synthetic segments ---- */

static latch_tcp_segment make_segment(latch_tcp_tracker *tracker, uint64_t time_us, int out,
                                      uint8_t flags, uint32_t seq, uint32_t ack,
                                      uint32_t length)
{
    static uint32_t number;
    latch_tcp_segment s;
    memset(&s, 0, sizeof s);
    s.time_us = time_us;
    s.number = ++number;
    s.outgoing = (uint8_t)out;
    s.flags = flags;
    s.raw_seq = seq;
    s.raw_ack = ack;
    s.window = 502;
    s.payload_length = length;
    s.wscale = -1;
    if (flags & LATCH_TCP_SYN) {
        s.mss = 1460;
        s.wscale = 7;
        s.sack_permitted = 1;
        s.has_timestamps = 1;
    }
    latch_tcp_tracker_feed(tracker, &s);
    return s;
}

static latch_event message(latch_event_kind kind, uint64_t time_us, int from_client,
                           uint8_t handshake_type, const char *name)
{
    latch_event e;
    memset(&e, 0, sizeof e);
    e.kind = kind;
    e.time_us = time_us;
    e.from_client = from_client;
    e.handshake_type = handshake_type;
    e.name = name;
    return e;
}

/* A TLS 1.3-shaped client connection over a 100 ms round trip. */
static void run_synthetic(latch_tracer *tracer)
{
    latch_tcp_tracker *tracker = latch_tcp_tracker_new();
    const uint64_t t0 = 1000000000u;
    const uint32_t c = 1000, s = 90000;
    latch_tcp_segment seg;
    latch_event e;
    latch_tracer_note(tracer, t0, "start", "synthetic");
    seg = make_segment(tracker, t0 + 1000, 1, LATCH_TCP_SYN, c, 0, 0);
    latch_tracer_segment(tracer, &seg);
    seg = make_segment(tracker, t0 + 101000, 0, LATCH_TCP_SYN | LATCH_TCP_ACK, s, c + 1, 0);
    latch_tracer_segment(tracer, &seg);
    seg = make_segment(tracker, t0 + 101050, 1, LATCH_TCP_ACK, c + 1, s + 1, 0);
    latch_tracer_segment(tracer, &seg);
    latch_tracer_note(tracer, t0 + 101100, "TCP connect", "SYN, SYN-ACK, ACK");
    e = message(LATCH_EVENT_HANDSHAKE_SENT, t0 + 101200, 1, 1, "ClientHello");
    latch_tracer_observe(tracer, &e);
    seg = make_segment(tracker, t0 + 101300, 1, LATCH_TCP_PSH | LATCH_TCP_ACK, c + 1, s + 1, 250);
    latch_tracer_segment(tracer, &seg);
    seg = make_segment(tracker, t0 + 201300, 0, LATCH_TCP_PSH | LATCH_TCP_ACK, s + 1, c + 251, 1200);
    latch_tracer_segment(tracer, &seg);
    e = message(LATCH_EVENT_HANDSHAKE_RECEIVED, t0 + 201400, 0, 2, "ServerHello");
    latch_tracer_observe(tracer, &e);
    e = message(LATCH_EVENT_HANDSHAKE_RECEIVED, t0 + 201500, 0, 20, "Finished");
    latch_tracer_observe(tracer, &e);
    e = message(LATCH_EVENT_HANDSHAKE_SENT, t0 + 201600, 1, 20, "Finished");
    latch_tracer_observe(tracer, &e);
    e = message(LATCH_EVENT_HANDSHAKE_DONE, t0 + 201650, 1, 0, "handshake complete");
    e.detail = "TLS 1.3 full handshake";
    latch_tracer_observe(tracer, &e);
    e = message(LATCH_EVENT_APPLICATION_DATA_SENT, t0 + 201700, 1, 0, NULL);
    e.length = 80;
    latch_tracer_observe(tracer, &e);
    seg = make_segment(tracker, t0 + 201800, 1, LATCH_TCP_PSH | LATCH_TCP_ACK, c + 251, s + 1201, 120);
    latch_tracer_segment(tracer, &seg);
    /* the data segment is lost and sent again */
    seg = make_segment(tracker, t0 + 401800, 1, LATCH_TCP_PSH | LATCH_TCP_ACK, c + 251, s + 1201, 120);
    latch_tracer_segment(tracer, &seg);
    seg = make_segment(tracker, t0 + 501800, 0, LATCH_TCP_PSH | LATCH_TCP_ACK, s + 1201, c + 371, 300);
    latch_tracer_segment(tracer, &seg);
    e = message(LATCH_EVENT_APPLICATION_DATA_RECEIVED, t0 + 501900, 0, 0, NULL);
    e.length = 280;
    latch_tracer_observe(tracer, &e);
    seg = make_segment(tracker, t0 + 502000, 1, LATCH_TCP_FIN | LATCH_TCP_ACK, c + 371, s + 1501, 0);
    latch_tracer_segment(tracer, &seg);
    seg = make_segment(tracker, t0 + 602000, 0, LATCH_TCP_FIN | LATCH_TCP_ACK, s + 1501, c + 372, 0);
    latch_tracer_segment(tracer, &seg);
    seg = make_segment(tracker, t0 + 602050, 1, LATCH_TCP_ACK, c + 372, s + 1502, 0);
    latch_tracer_segment(tracer, &seg);
    latch_tcp_transition end[8];
    size_t count = latch_tcp_tracker_finish(tracker, end, 8);
    latch_tracer_tcp_transitions(tracer, t0 + 700000, end, count);
    latch_tcp_info info = {.state = LATCH_TCP_TIME_WAIT, .rtt_us = 100000};
    latch_tracer_tcp_info(tracer, t0 + 700001, &info, "for the record");
    latch_tracer_finish(tracer);
    latch_tcp_tracker_free(tracker);
}

static char *render(enum latch_trace_format format, int with_report)
{
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    latch_tracer *tracer = latch_tracer_new(format, out, "synthetic:443");
    run_synthetic(tracer);
    if (with_report)
        latch_tracer_rtt_report(tracer, out);
    latch_tracer_free(tracer);
    fclose(out);
    if (getenv("TRACE_SHOW") != NULL)
        fputs(text, stdout);
    return text;
}

static void test_renderings(void)
{
    char *table = render(LATCH_TRACE_TABLE, 1);
    CHECK(strstr(table, "client → server  TCP SYN ") != NULL);
    CHECK(strstr(table, "server → client  TCP SYN, ACK") != NULL);
    CHECK(strstr(table, "MSS 1460, window scale 7 (×128), SACK permitted, timestamps") != NULL);
    CHECK(strstr(table, "client CLOSED → SYN_SENT (sent SYN: opens the connection)") != NULL);
    CHECK(strstr(table, "RETRANSMISSION") != NULL);
    CHECK(strstr(table, "client FIN_WAIT_2 → TIME_WAIT") != NULL);
    CHECK(strstr(table, "TCP state: server LAST_ACK → CLOSED (its FIN acknowledged, inferred)") != NULL);
    CHECK(strstr(table, "TCP_INFO: TIME_WAIT, rtt 100.000 ms") != NULL);
    CHECK(strstr(table, "11 TCP segments (client → server 7, server → client 4), 1 retransmitted") != NULL);
    /* rows in the order given: SYN before ClientHello before ServerHello */
    const char *syn = strstr(table, "TCP SYN "), *ch = strstr(table, "ClientHello");
    const char *sh = strstr(table, "ServerHello");
    CHECK(syn != NULL && ch != NULL && sh != NULL && syn < ch && ch < sh);
    CHECK(strstr(table, "  TCP handshake             1    100.000 ms") != NULL);
    CHECK(strstr(table, "  TLS handshake             1    100.450 ms") != NULL);
    CHECK(strstr(table, "  HTTP                      1    300.200 ms") != NULL);
    free(table);

    char *timeline = render(LATCH_TRACE_TIMELINE, 0);
    CHECK(strstr(timeline, "server → client  TCP SYN, ACK") != NULL);
    CHECK(strstr(timeline, "(round trip)") != NULL);
    CHECK(strstr(timeline, "RETRANSMISSION") != NULL);
    CHECK(strstr(timeline, "100.000 ms  TCP handshake, 1 round trip (SYN → SYN-ACK)") != NULL);
    CHECK(strstr(timeline, "TLS handshake, 1 round trip\n") != NULL);
    CHECK(strstr(timeline, "HTTP, 1 round trip") != NULL);
    free(timeline);

    char *json = render(LATCH_TRACE_JSON, 0);
    size_t lines = 0, segments = 0, bad = 0, phases = 0;
    int saw_retransmission = 0, saw_state = 0, saw_info = 0;
    for (char *line = strtok(json, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        json_value *v = json_parse(line, strlen(line));
        lines++;
        if (v == NULL || v->type != JSON_OBJECT) {
            bad++;
            json_free(v);
            continue;
        }
        const char *event = json_string(v, "event");
        if (event != NULL && strcmp(event, "segment") == 0) {
            segments++;
            const char *keys[] = {"dir", "name", "number", "mono_us", "outgoing", "flags",
                                  "tcp_seq", "tcp_ack", "window", "window_bytes", "length",
                                  "retransmission", "options", "client_state",
                                  "server_state", "transitions"};
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
                if (json_member(v, keys[k]) == NULL) {
                    fprintf(stderr, "segment without %s: %s\n", keys[k], line);
                    bad++;
                }
            const json_value *r = json_member(v, "retransmission");
            saw_retransmission |= r != NULL && r->type == JSON_BOOL && r->number != 0;
        } else if (event != NULL && strcmp(event, "tcp_state") == 0) {
            saw_state |= json_string(v, "transition.to") != NULL &&
                         strcmp(json_string(v, "transition.to"), "CLOSED") == 0;
        } else if (event != NULL && strcmp(event, "tcp_info") == 0) {
            saw_info = 1;
        } else if (event != NULL && strcmp(event, "round_trips") == 0) {
            double trips = 0, time_us = 0;
            json_number(v, "round_trips", &trips);
            json_number(v, "time_us", &time_us);
            const char *phase = json_string(v, "phase");
            phases++;
            if (phase != NULL && strcmp(phase, "tcp") == 0)
                CHECK(trips == 1 && time_us == 100000);
            if (phase != NULL && strcmp(phase, "tls") == 0)
                CHECK(trips == 1 && time_us == 100450);
            if (phase != NULL && strcmp(phase, "http") == 0)
                CHECK(trips == 1 && time_us == 300200);
        } else if (event != NULL && strcmp(event, "end") == 0) {
            double value = 0;
            CHECK(json_number(v, "segments_c2s", &value) == 0 && value == 7);
            CHECK(json_number(v, "segments_s2c", &value) == 0 && value == 4);
            CHECK(json_number(v, "retransmissions", &value) == 0 && value == 1);
        }
        json_free(v);
    }
    CHECK(lines > 20);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(segments, 11);
    CHECK_EQ_INT(phases, 3);
    CHECK(saw_retransmission);
    CHECK(saw_state);
    CHECK(saw_info);
    free(json);
}

int main(void)
{
    latch_tcp_info info;
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(latch_tcp_info_get(probe, &info) == 0 && info.state == LATCH_TCP_CLOSED);
    close(probe);
    struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons(9)};
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    latch_tcp_capture *capture = latch_tcp_capture_start_for((struct sockaddr *)&local, NULL);
    if (capture == NULL && (errno == EPERM || errno == EACCES)) {
        printf("NOTE: no CAP_NET_RAW: the capture is refused (%s), as documented; the "
               "loopback capture cases did not run\n", strerror(errno));
        CHECK(1);
    } else {
        CHECK(capture != NULL);
        latch_tcp_capture_stop(capture);
        test_loopback(AF_INET);
        test_loopback(AF_INET6);
        test_listener_capture();
        test_dual_stack_listening();
        test_reuseport_by_client_port(1);
    }
    test_reuseport_by_client_port(0); /* the steering alone needs no CAP_NET_RAW */
    CHECK(latch_tcp_capture_start_for(NULL, NULL) == NULL && errno == EINVAL);
    test_renderings();
    return check_finish();
}
