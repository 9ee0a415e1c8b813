/* Details of the socket helpers that callers such as the CLI need but the
 * public net.h does not expose: why a connect failed, and address text. */
#ifndef LATCH_NET_DETAIL_H
#define LATCH_NET_DETAIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "latch/net.h"

enum latch_net_stage {
    LATCH_NET_STAGE_NONE = 0,
    LATCH_NET_STAGE_RESOLVE, /* getaddrinfo failed: code is an EAI_* value */
    LATCH_NET_STAGE_CONNECT  /* every address refused: code is an errno value */
};

typedef struct latch_net_failure {
    enum latch_net_stage stage;
    int code;
    char message[160];
} latch_net_failure;

/* latch_net_connect, reporting the failing stage; timeout_ms bounds each
 * connect attempt (0 = no bound).  Returns fd or -1. */
int latch_net_connect_detailed(const char *host, const char *port, int timeout_ms,
                               latch_net_failure *failure);

/* connect(2) on fd bounded by timeout_ms (0 = the kernel's own bound); the
 * socket ends up blocking.  Returns 0, or -1 with errno (ETIMEDOUT). */
int latch_net_connect_bounded(int fd, const struct sockaddr *address, socklen_t length,
                              int timeout_ms);

/* latch_net_listen, with SO_REUSEPORT when reuse_port is set (several
 * sockets, e.g. one per worker thread, on one address and port). */
int latch_net_listen_reuse(const char *addr_port, int backlog, int reuse_port);
/* A SO_REUSEPORT group of count listening sockets (listen_fd one of them,
 * joined in order): a new connection goes to socket
 * latch_net_client_port_slot(client port, count) instead of the kernel's
 * hash (SO_ATTACH_REUSEPORT_CBPF).  0 or -1. */
int latch_net_reuseport_by_client_port(int listen_fd, unsigned count);
/* The slot of a client port: a multiplicative hash (Linux clients take even
 * ports first, so port % count alone would leave odd slots empty).  The
 * BPF programs compute the same: ((port * MULTIPLIER) >> SHIFT) % count. */
#define LATCH_PORT_SLOT_MULTIPLIER 40503u /* 2^16 / golden ratio, odd */
#define LATCH_PORT_SLOT_SHIFT 8
static inline unsigned latch_net_client_port_slot(uint16_t port, unsigned count)
{
    return ((port * LATCH_PORT_SLOT_MULTIPLIER) >> LATCH_PORT_SLOT_SHIFT) % count;
}
/* A listening capture (latch/tcp.h) keeps only clients whose
 * latch_net_client_port_slot(port, modulus) is residue: the connections of
 * one socket of such a group.  0 or -1. */
struct latch_tcp_capture;
int latch_tcp_capture_share_by_port(struct latch_tcp_capture *listening, unsigned modulus,
                                    unsigned residue);

/* "127.0.0.1:443" or "[::1]:443" for a socket address. */
void latch_net_format_address(const struct sockaddr *address, socklen_t length, char *out,
                              size_t out_size);

/* Split "ADDR:PORT" / "[V6]:PORT" / ":PORT" into host (empty = any) and port.
 * Returns 0 or -1 if malformed. */
int latch_net_split_host_port(const char *text, char *host, size_t host_size, char *port,
                              size_t port_size);

#endif
