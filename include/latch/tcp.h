/**
 * @file latch/tcp.h
 * @brief The TCP under a connection: segment capture (CAP_NET_RAW), a state
 *        tracker, and TCP_INFO as the fallback.
 *
 * TCP made visible: the kernel's segments and states of one connection.
 *
 * latch runs on the kernel's TCP.  This header lets a program see what the
 * kernel does on its own connection, segment by segment:
 *
 *   - a capture (needs CAP_NET_RAW): an AF_PACKET socket with a classic BPF
 *     filter for the connection's 4-tuple records every segment (time,
 *     direction, flags, relative seq/ack, window, payload length, handshake
 *     options, retransmissions) in a bounded list read with
 *     latch_tcp_capture_poll();
 *   - a state tracker: each side's TCP state (RFC 9293 3.3.2) as the
 *     segments imply it, with the reason of every change;
 *   - without permission, TCP_INFO (state, RTT, retransmissions) as a fallback.
 *
 * To see the SYN the capture must exist before connect():
 *
 *     latch_tcp_capture *capture = NULL;
 *     int fd = latch_tcp_connect_captured(addr, addrlen, 5000, &capture, NULL);
 *     ...  latch_tracer_attach_tcp(tracer, capture)  (latch/trace.h) ...
 *     latch_tcp_capture_stop(capture);
 *
 * or by hand: socket(), bind() to port 0, getsockname(), then
 * latch_tcp_capture_start_for(local, remote), then connect().
 * Segments are rendered by the tracer (latch_tracer_segment); see
 * docs/TRACE.md, "TCP segments and states".
 *
 * Thread safety: a capture or tracker is used by one thread at a time;
 * latch_tcp_state_name() and latch_tcp_info_get() are thread-safe.
 */
#ifndef LATCH_TCP_H
#define LATCH_TCP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/** TCP header flags, as on the wire (latch_tcp_segment::flags). */
enum {
    LATCH_TCP_FIN = 0x01, /**< FIN: no more data from the sender */
    LATCH_TCP_SYN = 0x02, /**< SYN: synchronize sequence numbers */
    LATCH_TCP_RST = 0x04, /**< RST: reset the connection */
    LATCH_TCP_PSH = 0x08, /**< PSH: push */
    LATCH_TCP_ACK = 0x10, /**< ACK: the acknowledgment field is significant */
    LATCH_TCP_URG = 0x20, /**< URG: urgent pointer */
    LATCH_TCP_ECE = 0x40, /**< ECE: ECN echo */
    LATCH_TCP_CWR = 0x80  /**< CWR: congestion window reduced */
};

/** The eleven states of RFC 9293 (plus "unknown" before anything is seen). */
enum latch_tcp_state {
    LATCH_TCP_UNKNOWN = 0, /**< nothing seen yet */
    LATCH_TCP_CLOSED,      /**< CLOSED */
    LATCH_TCP_LISTEN,      /**< LISTEN */
    LATCH_TCP_SYN_SENT,    /**< SYN-SENT */
    LATCH_TCP_SYN_RCVD,    /**< SYN-RECEIVED */
    LATCH_TCP_ESTABLISHED, /**< ESTABLISHED */
    LATCH_TCP_FIN_WAIT_1,  /**< FIN-WAIT-1 */
    LATCH_TCP_FIN_WAIT_2,  /**< FIN-WAIT-2 */
    LATCH_TCP_CLOSING,     /**< CLOSING */
    LATCH_TCP_TIME_WAIT,   /**< TIME-WAIT */
    LATCH_TCP_CLOSE_WAIT,  /**< CLOSE-WAIT */
    LATCH_TCP_LAST_ACK     /**< LAST-ACK */
};

/** "ESTABLISHED", "FIN_WAIT_1", ...; "UNKNOWN" for anything else.  Static. */
const char *latch_tcp_state_name(int state);

/** One state change of one side. */
typedef struct latch_tcp_transition {
    uint8_t client;       /**< 1: the client's state (the side that sent the SYN), 0: the server's */
    uint8_t inferred;     /**< 1: the remote side's, implied by what its segments show (see docs) */
    uint8_t from,         /**< state before (enum latch_tcp_state) */
            to;           /**< state after (enum latch_tcp_state) */
    const char *why;      /**< static text: "sent SYN", "its FIN acknowledged", "got RST" ... */
} latch_tcp_transition;

/** Most state changes one segment can cause (latch_tcp_segment::transitions). */
#define LATCH_TCP_MAX_TRANSITIONS 6

/** One TCP segment of the connection. */
typedef struct latch_tcp_segment {
    uint64_t time_us;         /**< CLOCK_MONOTONIC µs (the clock of latch_trace_now_us) */
    uint32_t number;          /**< 1, 2, 3... in capture order */
    uint8_t outgoing;         /**< 1: sent by the local socket, 0: received */
    int8_t from_client;       /**< 1: client → server, 0: server → client, -1: unknown */
    uint8_t flags;            /**< LATCH_TCP_* */
    uint8_t retransmission;   /**< this sequence range was seen before */
    uint32_t seq,             /**< relative: 0 = the sender's initial sequence */
             ack;             /**< relative: 0 = the receiver's initial sequence */
    uint32_t raw_seq,         /**< sequence number as on the wire */
             raw_ack;         /**< acknowledgment number as on the wire */
    uint32_t window;          /**< the window field as sent (not scaled) */
    uint32_t window_bytes;    /**< scaled by the sender's window scale when known */
    uint32_t payload_length;  /**< TCP payload bytes */
    /* options */
    uint16_t mss;             /**< MSS option; 0: absent */
    int8_t wscale;            /**< window scale option; -1: absent */
    uint8_t sack_permitted;   /**< 1: SACK-permitted option present */
    uint8_t sack_blocks;      /**< SACK blocks carried */
    uint8_t has_timestamps;   /**< 1: timestamps option present */
    uint32_t tsval,           /**< timestamp value (if has_timestamps) */
             tsecr;           /**< timestamp echo reply (if has_timestamps) */
    /* TLS records whose 5-byte header starts in this payload (stream parse) */
    uint8_t tls_records;      /**< TLS records whose header starts in this payload: count (saturates at 255) */
    uint8_t tls_type;         /**< content type of the first one (20..23), 0: none */
    uint32_t tls_bytes;       /**< sum of their lengths (headers included) */
    /* each side's state after this segment */
    uint8_t client_state,     /**< the client's state after this segment (enum latch_tcp_state) */
            server_state;     /**< the server's state after this segment (enum latch_tcp_state) */
    uint8_t transition_count; /**< entries used in transitions */
    latch_tcp_transition transitions[LATCH_TCP_MAX_TRANSITIONS]; /**< the state changes this segment caused */
} latch_tcp_segment;

/* ---- state tracker (no I/O: feed it segments) ----------------------------
 *
 * Feed segments in capture order with outgoing, flags, raw_seq, raw_ack,
 * payload_length (and optionally the options) set.  The tracker fills
 * from_client, relative seq/ack, window_bytes, retransmission, the states
 * and transitions (the capture fills tls_*).  The local side's state follows its own sends and
 * receipts; the remote side's is inferred: a segment we send counts as
 * received by the peer once the peer's acknowledgment covers it, or at
 * latch_tcp_tracker_finish (see docs/TRACE.md). */
/** TCP state tracker: infers both sides' states from segments.  Opaque. */
typedef struct latch_tcp_tracker latch_tcp_tracker;

/** A new tracker (both sides UNKNOWN); NULL when out of memory.  Free with
 *  latch_tcp_tracker_free(). */
latch_tcp_tracker *latch_tcp_tracker_new(void);
/** Free a tracker (NULL is fine). */
void latch_tcp_tracker_free(latch_tcp_tracker *tracker);
/** Without a SYN seen, which side the local socket is (1 client, 0 server);
 * default: unknown until a SYN tells. */
void latch_tcp_tracker_set_local_role(latch_tcp_tracker *tracker, int local_is_client);
/** Feed the next segment (in capture order); fills in the fields listed
 *  above and the segment's states and transitions. */
void latch_tcp_tracker_feed(latch_tcp_tracker *tracker, latch_tcp_segment *segment);
/** The end of the capture: segments still in flight are taken as delivered.
 * Writes those transitions (at most max) into out; returns how many. */
size_t latch_tcp_tracker_finish(latch_tcp_tracker *tracker, latch_tcp_transition *out,
                                size_t max);
/** Current state of a side (client 1: the client's, 0: the server's), an
 *  enum latch_tcp_state. */
int latch_tcp_tracker_state(const latch_tcp_tracker *tracker, int client);
/** The RST that ended the connection, in words ("client reset the connection:
 * ..."), or NULL. */
const char *latch_tcp_tracker_reset_reason(const latch_tcp_tracker *tracker);

/* ---- capture --------------------------------------------------------------
 *
 * An AF_PACKET socket (SOCK_DGRAM: every link type, loopback included,
 * delivers the IP header first; loopback's outgoing copy is skipped so each
 * segment is seen once) with a classic BPF filter for the 4-tuple: IPv4 and
 * IPv6 (no extension headers), both directions, read from a packet ring.
 * Kernel timestamps, converted to CLOCK_MONOTONIC.  NULL with errno on
 * failure: EPERM/EACCES without CAP_NET_RAW (use latch_tcp_info_get then).
 * Starting one costs about 20 ms (the kernel waits for an RCU grace period
 * when it sets up the ring).  Not thread-safe: one thread uses a capture. */
/** A running capture of one connection's segments.  Opaque. */
typedef struct latch_tcp_capture latch_tcp_capture;

/** For a connected socket (getsockname/getpeername).  The SYN is already gone. */
latch_tcp_capture *latch_tcp_capture_start(int connected_fd);
/** For a connection about to be made or accepted.  local: the local address
 * and port (the address may be the wildcard: the port alone is matched);
 * remote: the peer, or NULL for "any peer" (a listening port: the capture
 * locks onto the first connection whose SYN it sees). */
latch_tcp_capture *latch_tcp_capture_start_for(const struct sockaddr *local,
                                               const struct sockaddr *remote);
/** Read what has arrived (never blocks): copies up to max segments into out,
 * oldest first, and returns how many (0: nothing new). */
size_t latch_tcp_capture_poll(latch_tcp_capture *capture, latch_tcp_segment *out, size_t max);
/** A file descriptor that becomes readable when segments arrive (for poll/epoll);
 *  a claimed flow: its listening capture's. */
int latch_tcp_capture_fd(const latch_tcp_capture *capture);
/** The list's bound (unread segments kept); default 8192.  Segments beyond it
 * are counted in dropped, not stored. */
void latch_tcp_capture_set_limit(latch_tcp_capture *capture, size_t max_segments);
/** Segments lost: list full, or dropped by the kernel (socket buffer). */
uint64_t latch_tcp_capture_dropped(const latch_tcp_capture *capture);
/** The state tracker the capture feeds (for latch_tcp_tracker_state etc.). */
latch_tcp_tracker *latch_tcp_capture_tracker(latch_tcp_capture *capture);
/** Tell the tracker which side is local when no SYN will be seen. */
void latch_tcp_capture_set_local_role(latch_tcp_capture *capture, int local_is_client);
/** "10.77.0.1:40000 ↔ 10.77.0.2:8443" for headers (owned by the capture). */
const char *latch_tcp_capture_description(const latch_tcp_capture *capture);
/** Stop the capture and free it, with its tracker (NULL is fine).  Detach
 *  it from tracers first (after latch_tracer_finish). */
void latch_tcp_capture_stop(latch_tcp_capture *capture);

/* ---- a server: one capture for a listening port ---------------------------
 *
 * The three-way handshake happens before accept() returns, so a capture
 * started on the accepted socket never sees it.  A listening capture is
 * started once, on the listening address (getsockname of the listening
 * socket), and sorts every segment of that port by peer: a connection's
 * first SYN opens a pending flow that keeps its segments (the SYN, SYN-ACK,
 * ACK and often the ClientHello) until the server accepts it; then
 * latch_tcp_capture_claim() turns the flow into a capture of that
 * connection alone, with all it kept, fed by the listening capture from
 * then on (its latch_tcp_capture_poll reads the shared ring; its fd is the
 * listening capture's).  Pending flows are bounded: at most 256 (the oldest
 * goes first), 32 segments each, forgotten after 10 s (an accept() that
 * never came, or another SO_REUSEPORT socket's connection);
 * latch_tcp_capture_set_pending_limits changes that.  Segments of a
 * connection whose SYN was not seen (older than the capture, or forgotten)
 * are ignored until it is claimed.  A listening capture on :: (IPv6
 * wildcard) takes both families, as a dual-stack socket does: an IPv4
 * client's flow is an IPv4 capture (its ::ffff: address seen as IPv4); on
 * a specific address, one family.  Same thread rules as any capture: the
 * listening capture and its flows are used by one thread. */

/** A capture of every connection to a listening port (local: the listening
 *  socket's address; the wildcard address matches the port alone).  Its own
 *  latch_tcp_capture_poll returns nothing: it routes what arrived to the
 *  flows.  NULL with errno (EPERM/EACCES without CAP_NET_RAW).  Stop it
 *  after, or before, its claimed flows: a flow outliving it gets nothing new. */
latch_tcp_capture *latch_tcp_capture_start_listening(const struct sockaddr *local);
/** Bounds of the connections not yet accepted (0 keeps a bound as it is). */
void latch_tcp_capture_set_pending_limits(latch_tcp_capture *listening, size_t max_connections,
                                          size_t max_segments, unsigned max_age_ms);
/** The accepted connection accepted_fd as a capture of its own, with the
 * segments kept since its SYN, its tracker set to the server side.  Never
 * blocks.  Stop it with latch_tcp_capture_stop (it may outlive the accepted
 * socket: the close handshake comes after close()).  NULL with errno. */
latch_tcp_capture *latch_tcp_capture_claim(latch_tcp_capture *listening, int accepted_fd);

/** socket + bind (the source address towards remote, port 0) + capture +
 * connect (bounded by timeout_ms, 0 = no bound), TCP_NODELAY.  *capture_out is the capture, or NULL when it could
 * not be started (its errno in *capture_errno if not NULL): the connection
 * is made either way.  Returns the connected (blocking) fd, or -1 (errno);
 * on -1 a capture may still be set (it shows the SYN and the RST of a
 * refused connection): the caller stops it in every case. */
int latch_tcp_connect_captured(const struct sockaddr *remote, socklen_t remote_length,
                               int timeout_ms, latch_tcp_capture **capture_out,
                               int *capture_errno);

/* ---- TCP_INFO fallback ---------------------------------------------------- */

/** What the kernel's TCP_INFO says about a connected socket. */
typedef struct latch_tcp_info {
    int state;                 /**< enum latch_tcp_state */
    uint32_t rtt_us,           /**< smoothed RTT, µs */
             rttvar_us;        /**< its variance, µs */
    uint32_t retransmits;      /**< unrecovered retransmissions now */
    uint32_t total_retrans;    /**< segments retransmitted over the connection */
    uint32_t snd_mss,          /**< sending MSS */
             rcv_mss;          /**< receiving MSS */
    uint32_t snd_cwnd;         /**< congestion window, segments */
    uint8_t snd_wscale,        /**< our window scale */
            rcv_wscale;        /**< the peer's window scale */
    uint8_t options;           /**< TCPI_OPT_* (timestamps 1, SACK 2, wscale 4) */
} latch_tcp_info;

/** getsockopt(TCP_INFO) on fd into *out.  Returns 0 or -1 (errno). */
int latch_tcp_info_get(int fd, latch_tcp_info *out);

#ifdef __cplusplus
}
#endif
#endif
