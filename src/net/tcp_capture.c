/* The segments of one TCP connection, captured with an AF_PACKET socket.
 *
 * SOCK_DGRAM packet socket ("cooked"): the kernel removes the link-layer
 * header, so the BPF filter and the parser see the IP header at offset 0
 * whatever the interface (Ethernet, loopback, TUN).  On the loopback
 * interface every packet passes twice (as PACKET_OUTGOING, then as
 * PACKET_HOST); the outgoing copy is skipped, as libpcap does.  The socket
 * is created with protocol 0 (receives nothing), gets its filter, and only
 * then is bound to ETH_P_ALL: no foreign packet ever enters its queue.
 *
 * Packets arrive in a TPACKET_V2 ring (PACKET_RX_RING, mmap): the kernel
 * stamps each frame when the packet passes the tap (CLOCK_REALTIME, turned
 * into CLOCK_MONOTONIC here), even when the packet itself carries no
 * timestamp.  (recvmsg with SO_TIMESTAMPNS would stamp such packets when
 * they are read: the network timestamps are switched on lazily, by a work
 * item, after the first socket asks, so the very first SYN could be late.)
 * Frames hold 4 KiB: a TUN or Ethernet packet whole; a loopback GSO packet
 * up to 64 KiB is cut, its lengths are still right, the TLS scan stops.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "latch/tcp.h"
#include "net/net_detail.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_LIMIT 8192
/* a listening capture: connections not yet accepted */
#define DEFAULT_MAX_PENDING 256       /* connections */
#define DEFAULT_PENDING_SEGMENTS 32   /* segments each (the handshake and the first flight) */
#define DEFAULT_PENDING_AGE_MS 10000  /* then forgotten (another worker's, or never accepted) */
#define FRAME_SIZE 4096u
#define BLOCK_SIZE FRAME_SIZE
#define BLOCK_COUNT 1024 /* 1024 frames, 4 MiB, in single pages (cheap to allocate) */
#define FRAME_COUNT (BLOCK_SIZE / FRAME_SIZE * BLOCK_COUNT)

/* Where the next TLS record header starts in one direction's byte stream. */
typedef struct tls_stream {
    int active;          /* in sync with record boundaries */
    int started;
    uint32_t next;       /* raw sequence number of the next header */
    uint8_t header[5];
    size_t have;         /* header bytes collected so far */
} tls_stream;

struct latch_tcp_capture {
    int fd;
    int family;                   /* AF_INET or AF_INET6 */
    uint8_t local_addr[16], remote_addr[16];
    uint16_t local_port, remote_port; /* host order; remote 0 = any */
    int local_any, remote_any;
    int locked;                   /* remote learnt from the first SYN */
    int ifindex;                  /* 0 until the first packet */
    latch_tcp_tracker *tracker;
    latch_tcp_segment *ring;
    size_t ring_capacity, head, count, limit;
    uint64_t dropped;
    uint32_t number;
    tls_stream tls[2];            /* [1] outgoing, [0] incoming */
    uint8_t *ring_map;            /* the PACKET_RX_RING */
    size_t ring_map_size, frame;  /* next frame to look at */
    char description[160];
    /* a listening capture (latch_tcp_capture_start_listening) routes each
     * connection's segments to a flow: a capture without a socket of its
     * own.  Flows not yet claimed are pending (oldest first, bounded in
     * number, segments and age); claimed ones belong to the caller. */
    int listening;
    int dual_stack;               /* listening on [::]: IPv4 clients too (AF_INET flows) */
    unsigned share_modulus;       /* > 1: only clients whose port % modulus == residue */
    unsigned share_residue;
    latch_tcp_capture *pending_head, *pending_tail, *claimed_head;
    size_t pending_count, max_pending, pending_segments;
    uint64_t pending_age_us;
    uint64_t evicted;             /* pending flows dropped (full, or too old) */
    latch_tcp_capture *parent;    /* a flow: its listening capture (NULL once it stopped) */
    latch_tcp_capture *flow_prev, *flow_next;
    int claimed;
    uint64_t created_us;          /* a flow: its first segment (CLOCK_MONOTONIC µs) */
    uint64_t parent_dropped_at_start; /* the listening capture's drops before this flow */
};

static void drain(latch_tcp_capture *capture);
static uint64_t clock_ns(clockid_t clock);
static latch_tcp_capture *find_flow(latch_tcp_capture *capture, int family, const uint8_t *own,
                                    const uint8_t *peer, uint16_t peer_port, int claimed);

/* ---- addresses ---- */

/* Address bytes and port of a sockaddr; IPv4-mapped IPv6 becomes IPv4. */
static int split_address(const struct sockaddr *address, int *family, uint8_t bytes[16],
                         uint16_t *port, int *any)
{
    static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(bytes, 0, 16);
    if (address->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
        *family = AF_INET;
        memcpy(bytes, &v4->sin_addr, 4);
        *port = ntohs(v4->sin_port);
        *any = v4->sin_addr.s_addr == htonl(INADDR_ANY);
        return 0;
    }
    if (address->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)address;
        *port = ntohs(v6->sin6_port);
        if (memcmp(v6->sin6_addr.s6_addr, mapped_prefix, 12) == 0) {
            *family = AF_INET;
            memcpy(bytes, v6->sin6_addr.s6_addr + 12, 4);
            *any = 0;
            return 0;
        }
        *family = AF_INET6;
        memcpy(bytes, v6->sin6_addr.s6_addr, 16);
        *any = IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr);
        return 0;
    }
    errno = EAFNOSUPPORT;
    return -1;
}

static void address_text(int family, const uint8_t *bytes, int any, uint16_t port, char *out,
                         size_t size)
{
    char host[INET6_ADDRSTRLEN] = "*";
    if (!any)
        inet_ntop(family, bytes, host, sizeof host);
    if (family == AF_INET6)
        snprintf(out, size, "[%s]:%u", host, port);
    else
        snprintf(out, size, "%s:%u", host, port);
    if (port == 0)
        snprintf(out + strlen(out) - 1, size - (strlen(out) - 1), "*");
}

static void describe(latch_tcp_capture *capture)
{
    char local[64], remote[64];
    address_text(capture->family, capture->local_addr, capture->local_any, capture->local_port,
                 local, sizeof local);
    address_text(capture->family, capture->remote_addr, capture->remote_any,
                 capture->remote_port, remote, sizeof remote);
    snprintf(capture->description, sizeof capture->description, "%s ↔ %s", local, remote);
}

/* ---- the BPF filter ---- */

enum { LABEL_DROP = 1000, LABEL_ACCEPT, LABEL_V4, LABEL_V6, LABEL_REVERSE, LABEL_REVERSE_V6 };

typedef struct filter_builder {
    struct sock_filter code[128];
    int jt_label[128], jf_label[128]; /* labels (>= LABEL_DROP) or 0: fall through */
    size_t length;
    size_t label_at[LABEL_REVERSE_V6 + 1 - LABEL_DROP];
    int overflow;
} filter_builder;

static void emit(filter_builder *b, uint16_t code, uint32_t k, int jt, int jf)
{
    if (b->length >= sizeof b->code / sizeof b->code[0]) {
        b->overflow = 1;
        return;
    }
    b->code[b->length] = (struct sock_filter){code, 0, 0, k};
    b->jt_label[b->length] = jt;
    b->jf_label[b->length] = jf;
    b->length++;
}

static void place(filter_builder *b, int label)
{
    b->label_at[label - LABEL_DROP] = b->length;
}

static int resolve(filter_builder *b)
{
    if (b->overflow)
        return -1;
    for (size_t i = 0; i < b->length; i++) {
        int labels[2] = {b->jt_label[i], b->jf_label[i]};
        for (int j = 0; j < 2; j++) {
            if (labels[j] == 0)
                continue;
            size_t target = b->label_at[labels[j] - LABEL_DROP];
            if (target <= i || target - i - 1 > 255)
                return -1;
            if (BPF_CLASS(b->code[i].code) == BPF_JMP && BPF_OP(b->code[i].code) == BPF_JA) {
                b->code[i].k = (uint32_t)(target - i - 1);
            } else if (j == 0) {
                b->code[i].jt = (uint8_t)(target - i - 1);
            } else {
                b->code[i].jf = (uint8_t)(target - i - 1);
            }
        }
    }
    return 0;
}

static uint32_t word_at(const uint8_t *bytes, size_t offset)
{
    return (uint32_t)bytes[offset] << 24 | (uint32_t)bytes[offset + 1] << 16 |
           (uint32_t)bytes[offset + 2] << 8 | bytes[offset + 3];
}

/* A == the address (words words at src offsets), else jump to miss. */
static void match_address(filter_builder *b, uint32_t offset, const uint8_t *address,
                          size_t words, int miss)
{
    for (size_t i = 0; i < words; i++) {
        emit(b, BPF_LD | BPF_W | BPF_ABS, offset + 4 * (uint32_t)i, 0, 0);
        emit(b, BPF_JMP | BPF_JEQ | BPF_K, word_at(address, 4 * i), 0, miss);
    }
}

/* One direction: source (address, port) and destination (address, port);
 * port 0 / NULL address = any.  Ports are read at X (IPv4) or at 40 (IPv6).
 * With a share, the slot of the client's port (at peer_port_offset: 0
 * source, 2 destination) must be the residue. */
static void match_direction(filter_builder *b, const latch_tcp_capture *capture, int v6,
                            const uint8_t *src, uint16_t src_port, const uint8_t *dst,
                            uint16_t dst_port, uint32_t peer_port_offset, int miss)
{
    uint32_t src_offset = v6 ? 8 : 12, dst_offset = v6 ? 24 : 16;
    size_t words = v6 ? 4 : 1;
    uint16_t port_mode = v6 ? (BPF_LD | BPF_H | BPF_ABS) : (BPF_LD | BPF_H | BPF_IND);
    uint32_t port_base = v6 ? 40 : 0;
    if (src != NULL)
        match_address(b, src_offset, src, words, miss);
    if (dst != NULL)
        match_address(b, dst_offset, dst, words, miss);
    if (src_port != 0) {
        emit(b, port_mode, port_base, 0, 0);
        emit(b, BPF_JMP | BPF_JEQ | BPF_K, src_port, 0, miss);
    }
    if (dst_port != 0) {
        emit(b, port_mode, port_base + 2, 0, 0);
        emit(b, BPF_JMP | BPF_JEQ | BPF_K, dst_port, 0, miss);
    }
    if (capture->share_modulus > 1) { /* latch_net_client_port_slot */
        emit(b, port_mode, port_base + peer_port_offset, 0, 0);
        emit(b, BPF_ALU | BPF_MUL | BPF_K, LATCH_PORT_SLOT_MULTIPLIER, 0, 0);
        emit(b, BPF_ALU | BPF_RSH | BPF_K, LATCH_PORT_SLOT_SHIFT, 0, 0);
        emit(b, BPF_ALU | BPF_MOD | BPF_K, capture->share_modulus, 0, 0);
        emit(b, BPF_JMP | BPF_JEQ | BPF_K, capture->share_residue, 0, miss);
    }
    emit(b, BPF_JMP | BPF_JA, 0, LABEL_ACCEPT, 0);
}

/* One IP version: TCP (IPv4: not a later fragment, X = header length), then
 * local -> remote or remote -> local; reverse is this family's label for the
 * second test. */
static void match_family(filter_builder *b, const latch_tcp_capture *capture, int v6,
                         int reverse)
{
    const uint8_t *local = capture->local_any ? NULL : capture->local_addr;
    const uint8_t *remote = capture->remote_any ? NULL : capture->remote_addr;
    if (v6) {
        /* next header TCP (no extension headers) */
        emit(b, BPF_LD | BPF_B | BPF_ABS, 6, 0, 0);
        emit(b, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, LABEL_DROP);
    } else {
        emit(b, BPF_LD | BPF_B | BPF_ABS, 9, 0, 0);
        emit(b, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, LABEL_DROP);
        /* not a later fragment */
        emit(b, BPF_LD | BPF_H | BPF_ABS, 6, 0, 0);
        emit(b, BPF_JMP | BPF_JSET | BPF_K, 0x1fff, LABEL_DROP, 0);
        /* X = IP header length */
        emit(b, BPF_LDX | BPF_B | BPF_MSH, 0, 0, 0);
    }
    match_direction(b, capture, v6, local, capture->local_port, remote, capture->remote_port, 2,
                    reverse);
    place(b, reverse);
    match_direction(b, capture, v6, remote, capture->remote_port, local, capture->local_port, 0,
                    LABEL_DROP);
}

static int build_filter(const latch_tcp_capture *capture, filter_builder *b)
{
    int v6 = capture->family == AF_INET6;
    memset(b, 0, sizeof *b);
    /* IP version nibble */
    emit(b, BPF_LD | BPF_B | BPF_ABS, 0, 0, 0);
    emit(b, BPF_ALU | BPF_AND | BPF_K, 0xf0, 0, 0);
    if (capture->dual_stack) { /* the port on [::]: IPv6, and IPv4 (its addresses are any) */
        emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0x60, LABEL_V6, 0);
        emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0x40, LABEL_V4, LABEL_DROP);
        place(b, LABEL_V6);
        match_family(b, capture, 1, LABEL_REVERSE_V6);
        place(b, LABEL_V4);
        match_family(b, capture, 0, LABEL_REVERSE);
    } else {
        emit(b, BPF_JMP | BPF_JEQ | BPF_K, v6 ? 0x60 : 0x40, 0, LABEL_DROP);
        match_family(b, capture, v6, LABEL_REVERSE);
    }
    place(b, LABEL_ACCEPT);
    emit(b, BPF_RET | BPF_K, 0x40000, 0, 0);
    place(b, LABEL_DROP);
    emit(b, BPF_RET | BPF_K, 0, 0, 0);
    return resolve(b);
}

/* ---- start / stop ---- */

static latch_tcp_capture *open_capture(latch_tcp_capture *capture)
{
    filter_builder builder;
    int saved;
    capture->fd = -1;
    capture->limit = DEFAULT_LIMIT;
    capture->tracker = latch_tcp_tracker_new();
    if (capture->tracker == NULL) {
        errno = ENOMEM;
        goto fail;
    }
    describe(capture);
    if (build_filter(capture, &builder) != 0) {
        errno = EINVAL;
        goto fail;
    }
    /* protocol 0: nothing is received until bind() below */
    capture->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (capture->fd < 0)
        goto fail;
    struct sock_fprog program = {.len = (unsigned short)builder.length, .filter = builder.code};
    if (setsockopt(capture->fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0)
        goto fail;
    int version = TPACKET_V2;
    struct tpacket_req ring = {.tp_block_size = BLOCK_SIZE, .tp_block_nr = BLOCK_COUNT,
                               .tp_frame_size = FRAME_SIZE, .tp_frame_nr = FRAME_COUNT};
    if (setsockopt(capture->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) != 0 ||
        setsockopt(capture->fd, SOL_PACKET, PACKET_RX_RING, &ring, sizeof ring) != 0)
        goto fail;
    capture->ring_map_size = (size_t)BLOCK_SIZE * BLOCK_COUNT;
    capture->ring_map = mmap(NULL, capture->ring_map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                             capture->fd, 0);
    if (capture->ring_map == MAP_FAILED) {
        capture->ring_map = NULL;
        goto fail;
    }
    struct sockaddr_ll link = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
    if (bind(capture->fd, (struct sockaddr *)&link, sizeof link) != 0)
        goto fail;
    return capture;
fail:
    saved = errno;
    latch_tcp_capture_stop(capture);
    errno = saved;
    return NULL;
}

static latch_tcp_capture *start_capture(const struct sockaddr *local,
                                        const struct sockaddr *remote, int listening)
{
    latch_tcp_capture *capture;
    int local_family, remote_family;
    if (local == NULL) {
        errno = EINVAL;
        return NULL;
    }
    capture = calloc(1, sizeof *capture);
    if (capture == NULL)
        return NULL;
    capture->fd = -1;
    if (split_address(local, &local_family, capture->local_addr, &capture->local_port,
                      &capture->local_any) != 0)
        goto invalid;
    capture->family = local_family;
    if (remote != NULL) {
        int ignored;
        if (split_address(remote, &remote_family, capture->remote_addr, &capture->remote_port,
                          &ignored) != 0)
            goto invalid;
        /* a v4 peer on a dual-stack v6 socket bound to :: */
        if (remote_family != local_family && capture->local_any)
            capture->family = local_family = remote_family;
        if (remote_family != local_family || capture->remote_port == 0)
            goto invalid;
        capture->locked = 1;
    } else {
        capture->remote_any = 1;
    }
    if (capture->local_port == 0)
        goto invalid;
    /* a listening socket on [::] also takes IPv4 clients (unless IPV6_V6ONLY:
     * then such SYNs are another socket's, and their pending flows expire) */
    capture->dual_stack = listening && capture->family == AF_INET6 && capture->local_any;
    return open_capture(capture);
invalid:
    free(capture);
    errno = EINVAL;
    return NULL;
}

latch_tcp_capture *latch_tcp_capture_start_for(const struct sockaddr *local,
                                               const struct sockaddr *remote)
{
    return start_capture(local, remote, 0);
}

latch_tcp_capture *latch_tcp_capture_start(int connected_fd)
{
    struct sockaddr_storage local, remote;
    socklen_t local_length = sizeof local, remote_length = sizeof remote;
    if (getsockname(connected_fd, (struct sockaddr *)&local, &local_length) != 0 ||
        getpeername(connected_fd, (struct sockaddr *)&remote, &remote_length) != 0)
        return NULL;
    return latch_tcp_capture_start_for((struct sockaddr *)&local, (struct sockaddr *)&remote);
}

/* ---- flows of a listening capture ---- */

static void flow_link_pending(latch_tcp_capture *parent, latch_tcp_capture *flow)
{
    flow->parent = parent;
    flow->claimed = 0;
    flow->flow_next = NULL;
    flow->flow_prev = parent->pending_tail;
    if (parent->pending_tail != NULL)
        parent->pending_tail->flow_next = flow;
    else
        parent->pending_head = flow;
    parent->pending_tail = flow;
    parent->pending_count++;
}

static void flow_link_claimed(latch_tcp_capture *parent, latch_tcp_capture *flow)
{
    flow->parent = parent;
    flow->claimed = 1;
    flow->flow_prev = NULL;
    flow->flow_next = parent->claimed_head;
    if (parent->claimed_head != NULL)
        parent->claimed_head->flow_prev = flow;
    parent->claimed_head = flow;
}

/* Out of its parent's list (the parent pointer stays). */
static void flow_unlink(latch_tcp_capture *flow)
{
    latch_tcp_capture *parent = flow->parent;
    if (parent == NULL)
        return;
    if (flow->flow_prev != NULL)
        flow->flow_prev->flow_next = flow->flow_next;
    else if (flow->claimed)
        parent->claimed_head = flow->flow_next;
    else
        parent->pending_head = flow->flow_next;
    if (flow->flow_next != NULL)
        flow->flow_next->flow_prev = flow->flow_prev;
    else if (!flow->claimed)
        parent->pending_tail = flow->flow_prev;
    if (!flow->claimed)
        parent->pending_count--;
    flow->flow_prev = flow->flow_next = NULL;
}

/* A flow for one connection of parent's port: own and peer are 16-byte
 * address buffers (IPv4 in the first 4).  Not linked; no tracker yet. */
static latch_tcp_capture *flow_new(latch_tcp_capture *parent, int family, const uint8_t *own,
                                   int own_any, const uint8_t *peer, uint16_t peer_port,
                                   uint64_t time_us)
{
    latch_tcp_capture *flow = calloc(1, sizeof *flow);
    if (flow == NULL)
        return NULL;
    flow->fd = -1;
    flow->family = family; /* the listening capture's, or IPv4 on a dual-stack one */
    memcpy(flow->local_addr, own, 16);
    flow->local_any = own_any;
    flow->local_port = parent->local_port;
    memcpy(flow->remote_addr, peer, 16);
    flow->remote_port = peer_port;
    flow->locked = 1;
    flow->limit = parent->pending_segments;
    flow->parent = parent;
    flow->created_us = time_us;
    flow->parent_dropped_at_start = parent->dropped;
    describe(flow);
    return flow;
}

static void flow_free(latch_tcp_capture *flow)
{
    latch_tcp_tracker_free(flow->tracker);
    free(flow->ring);
    free(flow);
}

/* Pending flows older than the bound are forgotten (the connection was
 * another worker's, or never accepted). */
static void expire_pending(latch_tcp_capture *capture, uint64_t now_us)
{
    while (capture->pending_head != NULL &&
           now_us - capture->pending_head->created_us > capture->pending_age_us) {
        latch_tcp_capture *flow = capture->pending_head;
        flow_unlink(flow);
        flow_free(flow);
        capture->evicted++;
    }
}

latch_tcp_capture *latch_tcp_capture_start_listening(const struct sockaddr *local)
{
    latch_tcp_capture *capture = start_capture(local, NULL, 1);
    if (capture == NULL)
        return NULL;
    capture->listening = 1;
    capture->max_pending = DEFAULT_MAX_PENDING;
    capture->pending_segments = DEFAULT_PENDING_SEGMENTS;
    capture->pending_age_us = (uint64_t)DEFAULT_PENDING_AGE_MS * 1000u;
    return capture;
}

void latch_tcp_capture_set_pending_limits(latch_tcp_capture *listening, size_t max_connections,
                                          size_t max_segments, unsigned max_age_ms)
{
    if (listening == NULL || !listening->listening)
        return;
    if (max_connections > 0)
        listening->max_pending = max_connections;
    if (max_segments > 0)
        listening->pending_segments = max_segments;
    if (max_age_ms > 0)
        listening->pending_age_us = (uint64_t)max_age_ms * 1000u;
}

/* Several SO_REUSEPORT workers steered by client port (see
 * latch_net_reuseport_by_client_port): each listening capture keeps only
 * its worker's clients (latch_net_client_port_slot), so no worker parses the
 * others' segments. */
int latch_tcp_capture_share_by_port(latch_tcp_capture *listening, unsigned modulus,
                                    unsigned residue)
{
    filter_builder builder;
    if (listening == NULL || !listening->listening || listening->fd < 0 || modulus < 2 ||
        residue >= modulus) {
        errno = EINVAL;
        return -1;
    }
    listening->share_modulus = modulus;
    listening->share_residue = residue;
    if (build_filter(listening, &builder) == 0) {
        struct sock_fprog program = {.len = (unsigned short)builder.length,
                                     .filter = builder.code};
        if (setsockopt(listening->fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) == 0)
            return 0;
    } else {
        errno = EINVAL;
    }
    int saved = errno;
    listening->share_modulus = 0; /* the old filter stays: every client */
    errno = saved;
    return -1;
}

latch_tcp_capture *latch_tcp_capture_claim(latch_tcp_capture *listening, int accepted_fd)
{
    struct sockaddr_storage local, remote;
    socklen_t local_length = sizeof local, remote_length = sizeof remote;
    int local_family, remote_family, ignored;
    uint8_t own[16], peer[16];
    uint16_t own_port, peer_port;
    if (listening == NULL || !listening->listening) {
        errno = EINVAL;
        return NULL;
    }
    if (getsockname(accepted_fd, (struct sockaddr *)&local, &local_length) != 0 ||
        getpeername(accepted_fd, (struct sockaddr *)&remote, &remote_length) != 0)
        return NULL;
    if (split_address((struct sockaddr *)&local, &local_family, own, &own_port, &ignored) != 0 ||
        split_address((struct sockaddr *)&remote, &remote_family, peer, &peer_port,
                      &ignored) != 0)
        return NULL;
    if (local_family != remote_family ||
        (remote_family != listening->family &&
         !(listening->dual_stack && remote_family == AF_INET))) {
        errno = EAFNOSUPPORT;
        return NULL;
    }
    if (own_port != listening->local_port) {
        errno = EINVAL;
        return NULL;
    }
    latch_tcp_tracker *tracker = latch_tcp_tracker_new();
    if (tracker == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if (listening->fd >= 0 && listening->ring_map != NULL)
        drain(listening); /* the handshake's segments may still be in the ring */
    latch_tcp_capture *flow = find_flow(listening, remote_family, own, peer, peer_port, 0);
    if (flow != NULL) {
        flow_unlink(flow);
    } else {
        /* its SYN was not seen (before the capture, or forgotten): from now on */
        flow = flow_new(listening, remote_family, own, 0, peer, peer_port,
                        clock_ns(CLOCK_MONOTONIC) / 1000u);
        if (flow == NULL) {
            latch_tcp_tracker_free(tracker);
            errno = ENOMEM;
            return NULL;
        }
    }
    flow_link_claimed(listening, flow);
    flow->limit = DEFAULT_LIMIT;
    flow->tracker = tracker;
    latch_tcp_tracker_set_local_role(tracker, 0);
    for (size_t i = 0; i < flow->count; i++)
        latch_tcp_tracker_feed(tracker, &flow->ring[(flow->head + i) % flow->ring_capacity]);
    return flow;
}

void latch_tcp_capture_stop(latch_tcp_capture *capture)
{
    if (capture == NULL)
        return;
    if (capture->parent != NULL)
        flow_unlink(capture);
    if (capture->listening) {
        while (capture->pending_head != NULL) {
            latch_tcp_capture *flow = capture->pending_head;
            flow_unlink(flow);
            flow_free(flow);
        }
        /* claimed flows stay with their owners, without new segments */
        for (latch_tcp_capture *flow = capture->claimed_head, *next; flow != NULL; flow = next) {
            next = flow->flow_next;
            flow->dropped += capture->dropped - flow->parent_dropped_at_start;
            flow->parent = NULL;
            flow->flow_prev = flow->flow_next = NULL;
        }
    }
    if (capture->fd >= 0)
        close(capture->fd);
    if (capture->ring_map != NULL)
        munmap(capture->ring_map, capture->ring_map_size);
    latch_tcp_tracker_free(capture->tracker);
    free(capture->ring);
    free(capture);
}

int latch_tcp_capture_fd(const latch_tcp_capture *capture)
{
    if (capture != NULL && capture->parent != NULL)
        return capture->parent->fd; /* a flow: its listening capture's */
    return capture != NULL ? capture->fd : -1;
}

void latch_tcp_capture_set_limit(latch_tcp_capture *capture, size_t max_segments)
{
    if (capture != NULL && max_segments > 0)
        capture->limit = max_segments;
}

uint64_t latch_tcp_capture_dropped(const latch_tcp_capture *capture)
{
    if (capture == NULL)
        return 0;
    /* a flow: its own, and the kernel's drops on the shared socket since it began */
    if (capture->parent != NULL)
        return capture->dropped + (capture->parent->dropped - capture->parent_dropped_at_start);
    return capture->dropped;
}

latch_tcp_tracker *latch_tcp_capture_tracker(latch_tcp_capture *capture)
{
    return capture != NULL ? capture->tracker : NULL;
}

void latch_tcp_capture_set_local_role(latch_tcp_capture *capture, int local_is_client)
{
    if (capture != NULL)
        latch_tcp_tracker_set_local_role(capture->tracker, local_is_client);
}

const char *latch_tcp_capture_description(const latch_tcp_capture *capture)
{
    return capture != NULL ? capture->description : "";
}

/* ---- parsing ---- */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void parse_options(const uint8_t *p, size_t length, latch_tcp_segment *segment)
{
    size_t i = 0;
    while (i < length) {
        uint8_t kind = p[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= length || p[i + 1] < 2 || i + p[i + 1] > length)
            break;
        uint8_t size = p[i + 1];
        const uint8_t *value = p + i + 2;
        switch (kind) {
        case 2:
            if (size == 4)
                segment->mss = get16(value);
            break;
        case 3:
            if (size == 3)
                segment->wscale = (int8_t)(value[0] > 14 ? 14 : value[0]);
            break;
        case 4:
            segment->sack_permitted = 1;
            break;
        case 5:
            segment->sack_blocks = (uint8_t)((size - 2) / 8);
            break;
        case 8:
            if (size == 10) {
                segment->has_timestamps = 1;
                segment->tsval = word_at(value, 0);
                segment->tsecr = word_at(value, 4);
            }
            break;
        default:
            break;
        }
        i += size;
    }
}

/* TLS record headers starting in this payload. */
static void scan_tls(tls_stream *stream, latch_tcp_segment *segment, const uint8_t *payload,
                     size_t captured)
{
    uint32_t length = segment->payload_length;
    if (!stream->started) {
        stream->started = 1;
        stream->active = 1;
        stream->next = segment->raw_seq + ((segment->flags & LATCH_TCP_SYN) ? 1 : 0);
    }
    if (!stream->active || length == 0)
        return;
    /* where the next header (or the rest of a partial one) is in this payload;
     * before it: its segment is still to come (loss, reordering); bytes
     * already passed (a retransmission) are not read twice */
    int32_t offset = (int32_t)(stream->next + (uint32_t)stream->have - segment->raw_seq);
    if (offset < 0)
        return;
    while ((uint32_t)offset < length) {
        if ((uint32_t)offset >= captured) {
            stream->active = 0; /* truncated capture: out of sync from here */
            return;
        }
        size_t take = 5 - stream->have;
        if (take > length - (uint32_t)offset)
            take = length - (uint32_t)offset;
        if (take > captured - (uint32_t)offset)
            take = captured - (uint32_t)offset;
        memcpy(stream->header + stream->have, payload + offset, take);
        stream->have += take;
        offset += (int32_t)take;
        if (stream->have < 5)
            continue;
        uint8_t type = stream->header[0];
        uint16_t record_length = get16(stream->header + 3);
        if (type < 20 || type > 24 || stream->header[1] != 3) {
            stream->active = 0; /* not TLS (or lost): stop looking */
            break;
        }
        if (segment->tls_records == 0)
            segment->tls_type = type;
        if (segment->tls_records < 255)
            segment->tls_records++;
        segment->tls_bytes += 5u + record_length;
        stream->next += 5u + record_length;
        stream->have = 0;
        offset = (int32_t)(stream->next - segment->raw_seq);
    }
}

static int same_address(int family, const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, family == AF_INET6 ? 16 : 4) == 0;
}

static int address_equal(const latch_tcp_capture *capture, const uint8_t *a, const uint8_t *b)
{
    return same_address(capture->family, a, b);
}

/* Parse one IP packet; 1 if it is a segment of our connection. */
static int parse_packet(latch_tcp_capture *capture, const uint8_t *p, size_t captured,
                        size_t wire_length, latch_tcp_segment *segment,
                        const uint8_t **payload, size_t *payload_captured)
{
    size_t ip_length, total;
    const uint8_t *src, *dst;
    uint8_t src_copy[16] = {0}, dst_copy[16] = {0};
    if (captured < 20)
        return 0;
    if (capture->family == AF_INET) {
        ip_length = (size_t)(p[0] & 0x0f) * 4;
        total = get16(p + 2);
        if ((p[0] >> 4) != 4 || p[9] != IPPROTO_TCP || ip_length < 20)
            return 0;
        memcpy(src_copy, p + 12, 4);
        memcpy(dst_copy, p + 16, 4);
    } else {
        if (captured < 40 || (p[0] >> 4) != 6 || p[6] != IPPROTO_TCP)
            return 0;
        ip_length = 40;
        total = 40 + (size_t)get16(p + 4);
        memcpy(src_copy, p + 8, 16);
        memcpy(dst_copy, p + 24, 16);
    }
    if (total == 0 || total > wire_length)
        total = wire_length; /* GSO super-packets may carry 0 */
    if (captured < ip_length + 20)
        return 0;
    const uint8_t *tcp = p + ip_length;
    size_t header_length = (size_t)(tcp[12] >> 4) * 4;
    if (header_length < 20 || captured < ip_length + header_length ||
        total < ip_length + header_length)
        return 0;
    src = src_copy;
    dst = dst_copy;
    uint16_t src_port = get16(tcp), dst_port = get16(tcp + 2);
    int outgoing = src_port == capture->local_port &&
                   (capture->local_any || address_equal(capture, src, capture->local_addr));
    /* with a wildcard peer (listening port), lock onto the first SYN */
    if (!capture->locked) {
        if (outgoing || (tcp[13] & (LATCH_TCP_SYN | LATCH_TCP_ACK)) != LATCH_TCP_SYN)
            return 0;
        memcpy(capture->remote_addr, src, 16);
        capture->remote_port = src_port;
        capture->remote_any = 0;
        capture->locked = 1;
        describe(capture);
    }
    {
        const uint8_t *peer = outgoing ? dst : src;
        uint16_t peer_port = outgoing ? dst_port : src_port;
        uint16_t own_port = outgoing ? src_port : dst_port;
        if (own_port != capture->local_port || peer_port != capture->remote_port ||
            !address_equal(capture, peer, capture->remote_addr))
            return 0;
    }
    memset(segment, 0, sizeof *segment);
    segment->outgoing = (uint8_t)outgoing;
    segment->raw_seq = word_at(tcp, 4);
    segment->raw_ack = word_at(tcp, 8);
    segment->flags = tcp[13];
    segment->window = get16(tcp + 14);
    segment->payload_length = (uint32_t)(total - ip_length - header_length);
    segment->wscale = -1;
    parse_options(tcp + 20, header_length - 20, segment);
    *payload = tcp + header_length;
    *payload_captured = captured - ip_length - header_length;
    return 1;
}

/* The flow of a listening capture with this peer (and local address). */
static latch_tcp_capture *find_flow(latch_tcp_capture *capture, int family, const uint8_t *own,
                                    const uint8_t *peer, uint16_t peer_port, int claimed)
{
    for (latch_tcp_capture *flow = claimed ? capture->claimed_head : capture->pending_head;
         flow != NULL; flow = flow->flow_next)
        if (flow->family == family && flow->remote_port == peer_port &&
            same_address(family, flow->remote_addr, peer) &&
            (flow->local_any || same_address(family, flow->local_addr, own)))
            return flow;
    return NULL;
}

/* A listening capture: the flow this packet belongs to, a new pending one
 * for a connection's first SYN; NULL: another port, or a connection whose
 * SYN was not seen (it began before, or its flow expired). */
static latch_tcp_capture *route(latch_tcp_capture *capture, const uint8_t *p, size_t captured,
                                uint64_t time_us)
{
    uint8_t src[16] = {0}, dst[16] = {0};
    size_t ip_length;
    if (captured < 20)
        return NULL;
    int family = (p[0] >> 4) == 4 ? AF_INET : AF_INET6;
    if (family != capture->family && !(capture->dual_stack && family == AF_INET))
        return NULL;
    if (family == AF_INET) {
        ip_length = (size_t)(p[0] & 0x0f) * 4;
        if ((p[0] >> 4) != 4 || p[9] != IPPROTO_TCP || ip_length < 20)
            return NULL;
        memcpy(src, p + 12, 4);
        memcpy(dst, p + 16, 4);
    } else {
        if (captured < 40 || (p[0] >> 4) != 6 || p[6] != IPPROTO_TCP)
            return NULL;
        ip_length = 40;
        memcpy(src, p + 8, 16);
        memcpy(dst, p + 24, 16);
    }
    if (captured < ip_length + 14)
        return NULL;
    const uint8_t *tcp = p + ip_length;
    uint16_t src_port = get16(tcp), dst_port = get16(tcp + 2);
    uint8_t flags = tcp[13];
    int outgoing = src_port == capture->local_port &&
                   (capture->local_any || same_address(family, src, capture->local_addr));
    int incoming = dst_port == capture->local_port &&
                   (capture->local_any || same_address(family, dst, capture->local_addr));
    if (outgoing == incoming)
        return NULL; /* not this port; or a connection to itself */
    const uint8_t *own = outgoing ? src : dst, *peer = outgoing ? dst : src;
    uint16_t peer_port = outgoing ? dst_port : src_port;
    latch_tcp_capture *flow = find_flow(capture, family, own, peer, peer_port, 1);
    if (flow == NULL)
        flow = find_flow(capture, family, own, peer, peer_port, 0);
    if (flow != NULL)
        return flow;
    if (outgoing || (flags & (LATCH_TCP_SYN | LATCH_TCP_ACK | LATCH_TCP_RST)) != LATCH_TCP_SYN)
        return NULL;
    if (capture->pending_count >= capture->max_pending && capture->pending_head != NULL) {
        latch_tcp_capture *oldest = capture->pending_head;
        flow_unlink(oldest);
        flow_free(oldest);
        capture->evicted++;
    }
    flow = flow_new(capture, family, own, 0, peer, peer_port, time_us);
    if (flow == NULL) {
        capture->evicted++;
        return NULL;
    }
    flow_link_pending(capture, flow);
    return flow;
}

/* ---- reading ---- */

static uint64_t clock_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC, read now (the packet timestamps are
 * realtime; the tracer's clock is monotonic). */
static int64_t realtime_offset_ns(void)
{
    uint64_t real1 = clock_ns(CLOCK_REALTIME);
    uint64_t mono = clock_ns(CLOCK_MONOTONIC);
    uint64_t real2 = clock_ns(CLOCK_REALTIME);
    return (int64_t)(real1 / 2 + real2 / 2 - mono);
}

static void store(latch_tcp_capture *capture, const latch_tcp_segment *segment)
{
    if (capture->count >= capture->limit) {
        capture->dropped++;
        return;
    }
    if (capture->count == capture->ring_capacity) {
        size_t capacity = capture->ring_capacity ? capture->ring_capacity * 2
                          : capture->limit < 64 ? capture->limit : 64;
        latch_tcp_segment *grown = malloc(capacity * sizeof *grown);
        if (grown == NULL) {
            capture->dropped++;
            return;
        }
        for (size_t i = 0; i < capture->count; i++)
            grown[i] = capture->ring[(capture->head + i) % capture->ring_capacity];
        free(capture->ring);
        capture->ring = grown;
        capture->ring_capacity = capacity;
        capture->head = 0;
    }
    capture->ring[(capture->head + capture->count) % capture->ring_capacity] = *segment;
    capture->count++;
}

/* One frame of the ring: parse, track, store. */
static void take_frame(latch_tcp_capture *capture, const struct tpacket2_hdr *header,
                       int64_t offset_ns)
{
    const struct sockaddr_ll *link =
        (const struct sockaddr_ll *)((const uint8_t *)header +
                                     TPACKET_ALIGN(sizeof(struct tpacket2_hdr)));
    if (link->sll_pkttype == PACKET_OUTGOING && link->sll_hatype == ARPHRD_LOOPBACK)
        return; /* seen again as incoming */
    if (header->tp_net < sizeof *header || header->tp_net >= FRAME_SIZE)
        return;
    size_t captured = header->tp_snaplen;
    if (captured > FRAME_SIZE - header->tp_net)
        captured = FRAME_SIZE - header->tp_net;
    const uint8_t *packet = (const uint8_t *)header + header->tp_net;
    uint64_t time_ns = (uint64_t)header->tp_sec * 1000000000u + header->tp_nsec;
    uint64_t now_mono = clock_ns(CLOCK_MONOTONIC);
    uint64_t mono_ns = (uint64_t)((int64_t)time_ns - offset_ns);
    if (time_ns == 0 || mono_ns > now_mono)
        mono_ns = now_mono;
    latch_tcp_segment segment;
    const uint8_t *payload = NULL;
    size_t payload_captured = 0;
    if (capture->listening) {
        capture = route(capture, packet, captured, mono_ns / 1000u);
        if (capture == NULL)
            return;
    }
    if (!parse_packet(capture, packet, captured, header->tp_len, &segment, &payload,
                      &payload_captured))
        return;
    /* a routed host sees a packet on two interfaces: keep the first one's */
    if (capture->ifindex == 0)
        capture->ifindex = link->sll_ifindex;
    else if (link->sll_ifindex != capture->ifindex)
        return;
    segment.time_us = mono_ns / 1000u;
    segment.number = ++capture->number;
    if (capture->tracker != NULL) /* a pending flow's are fed when it is claimed */
        latch_tcp_tracker_feed(capture->tracker, &segment);
    scan_tls(&capture->tls[segment.outgoing], &segment, payload, payload_captured);
    store(capture, &segment);
}

static void drain(latch_tcp_capture *capture)
{
    struct tpacket2_hdr *first =
        (struct tpacket2_hdr *)(capture->ring_map + capture->frame * FRAME_SIZE);
    if (!(__atomic_load_n(&first->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
        /* nothing new (the common case for a flow polled before each event):
         * no system call; the kernel's drop count waits for the next frame */
        if (capture->listening)
            expire_pending(capture, clock_ns(CLOCK_MONOTONIC) / 1000u);
        return;
    }
    int64_t offset_ns = realtime_offset_ns();
    for (size_t budget = FRAME_COUNT; budget > 0; budget--) {
        struct tpacket2_hdr *header =
            (struct tpacket2_hdr *)(capture->ring_map + capture->frame * FRAME_SIZE);
        if (!(__atomic_load_n(&header->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
            break;
        take_frame(capture, header, offset_ns);
        __atomic_store_n(&header->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        capture->frame = (capture->frame + 1) % FRAME_COUNT;
    }
    struct tpacket_stats stats;
    socklen_t length = sizeof stats;
    if (getsockopt(capture->fd, SOL_PACKET, PACKET_STATISTICS, &stats, &length) == 0)
        capture->dropped += stats.tp_drops;
    if (capture->listening)
        expire_pending(capture, clock_ns(CLOCK_MONOTONIC) / 1000u);
}

size_t latch_tcp_capture_poll(latch_tcp_capture *capture, latch_tcp_segment *out, size_t max)
{
    size_t n = 0;
    if (capture == NULL || out == NULL)
        return 0;
    if (capture->parent != NULL) /* a flow: the listening capture routes the news */
        drain(capture->parent);
    else if (capture->fd >= 0 && capture->ring_map != NULL)
        drain(capture);
    while (n < max && capture->count > 0) {
        out[n++] = capture->ring[capture->head];
        capture->head = (capture->head + 1) % capture->ring_capacity;
        capture->count--;
    }
    return n;
}

/* ---- connect with a capture ---- */

/* The source address the kernel would use towards remote (a connected UDP
 * socket sends nothing), with port 0; left as the wildcard if unknown. */
static void source_address_for(const struct sockaddr *remote, socklen_t remote_length,
                               struct sockaddr_storage *local, socklen_t local_length)
{
    struct sockaddr_storage found;
    socklen_t found_length = sizeof found;
    int probe = socket(remote->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return;
    if (connect(probe, remote, remote_length) == 0 &&
        getsockname(probe, (struct sockaddr *)&found, &found_length) == 0 &&
        found.ss_family == remote->sa_family && found_length == local_length) {
        memcpy(local, &found, local_length);
        if (local->ss_family == AF_INET)
            ((struct sockaddr_in *)local)->sin_port = 0;
        else
            ((struct sockaddr_in6 *)local)->sin6_port = 0;
    }
    close(probe);
}

int latch_tcp_connect_captured(const struct sockaddr *remote, socklen_t remote_length,
                               int timeout_ms, latch_tcp_capture **capture_out,
                               int *capture_errno)
{
    struct sockaddr_storage local;
    socklen_t local_length;
    int fd, saved;
    if (capture_out != NULL)
        *capture_out = NULL;
    if (capture_errno != NULL)
        *capture_errno = 0;
    if (remote == NULL || (remote->sa_family != AF_INET && remote->sa_family != AF_INET6)) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    fd = socket(remote->sa_family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0)
        return -1;
    memset(&local, 0, sizeof local);
    local.ss_family = remote->sa_family;
    local_length = remote->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                : sizeof(struct sockaddr_in6);
    source_address_for(remote, remote_length, &local, local_length);
    /* the local port must be known before the SYN leaves */
    if (bind(fd, (struct sockaddr *)&local, local_length) != 0 ||
        getsockname(fd, (struct sockaddr *)&local, &local_length) != 0)
        goto fail;
    if (capture_out != NULL) {
        *capture_out = latch_tcp_capture_start_for((struct sockaddr *)&local, remote);
        if (*capture_out == NULL && capture_errno != NULL)
            *capture_errno = errno;
        if (*capture_out != NULL)
            latch_tcp_capture_set_local_role(*capture_out, 1);
    }
    if (latch_net_connect_bounded(fd, remote, remote_length, timeout_ms) != 0)
        goto fail;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
fail:
    saved = errno;
    close(fd); /* a capture stays: it may show the refused SYN (RST) */
    errno = saved;
    return -1;
}

/* ---- TCP_INFO ---- */

int latch_tcp_info_get(int fd, latch_tcp_info *out)
{
    struct tcp_info info;
    socklen_t length = sizeof info;
    if (out == NULL) {
        errno = EINVAL;
        return -1;
    }
    memset(&info, 0, sizeof info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0)
        return -1;
    memset(out, 0, sizeof *out);
    switch (info.tcpi_state) {
    case TCP_ESTABLISHED: out->state = LATCH_TCP_ESTABLISHED; break;
    case TCP_SYN_SENT: out->state = LATCH_TCP_SYN_SENT; break;
    case TCP_SYN_RECV: out->state = LATCH_TCP_SYN_RCVD; break;
    case TCP_FIN_WAIT1: out->state = LATCH_TCP_FIN_WAIT_1; break;
    case TCP_FIN_WAIT2: out->state = LATCH_TCP_FIN_WAIT_2; break;
    case TCP_TIME_WAIT: out->state = LATCH_TCP_TIME_WAIT; break;
    case TCP_CLOSE: out->state = LATCH_TCP_CLOSED; break;
    case TCP_CLOSE_WAIT: out->state = LATCH_TCP_CLOSE_WAIT; break;
    case TCP_LAST_ACK: out->state = LATCH_TCP_LAST_ACK; break;
    case TCP_LISTEN: out->state = LATCH_TCP_LISTEN; break;
    case TCP_CLOSING: out->state = LATCH_TCP_CLOSING; break;
    default: out->state = LATCH_TCP_UNKNOWN; break;
    }
    out->rtt_us = info.tcpi_rtt;
    out->rttvar_us = info.tcpi_rttvar;
    out->retransmits = info.tcpi_retransmits;
    out->total_retrans = info.tcpi_total_retrans;
    out->snd_mss = info.tcpi_snd_mss;
    out->rcv_mss = info.tcpi_rcv_mss;
    out->snd_cwnd = info.tcpi_snd_cwnd;
    out->snd_wscale = info.tcpi_snd_wscale;
    out->rcv_wscale = info.tcpi_rcv_wscale;
    out->options = info.tcpi_options;
    return 0;
}
