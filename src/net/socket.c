/* TCP sockets: connect to a host name, listen on "ADDR:PORT". */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "net/net_detail.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void set_failure(latch_net_failure *failure, enum latch_net_stage stage, int code,
                        const char *message)
{
    failure->stage = stage;
    failure->code = code;
    snprintf(failure->message, sizeof failure->message, "%s", message);
}

static int set_blocking(int fd, int blocking)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -1;
    flags = blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK);
    return fcntl(fd, F_SETFL, flags);
}

int latch_net_connect_bounded(int fd, const struct sockaddr *address, socklen_t length,
                              int timeout_ms)
{
    if (timeout_ms <= 0)
        return connect(fd, address, length);
    if (set_blocking(fd, 0) != 0)
        return -1;
    if (connect(fd, address, length) != 0) {
        if (errno != EINPROGRESS)
            return -1;
        struct pollfd waiter = {.fd = fd, .events = POLLOUT};
        int ready;
        do
            ready = poll(&waiter, 1, timeout_ms);
        while (ready < 0 && errno == EINTR);
        if (ready == 0)
            errno = ETIMEDOUT;
        if (ready <= 0)
            return -1;
        int socket_error = 0;
        socklen_t error_length = sizeof socket_error;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &socket_error, &error_length) != 0)
            return -1;
        if (socket_error != 0) {
            errno = socket_error;
            return -1;
        }
    }
    return set_blocking(fd, 1);
}

static int try_address(const struct addrinfo *candidate, int timeout_ms)
{
    int fd = socket(candidate->ai_family, candidate->ai_socktype | SOCK_CLOEXEC,
                    candidate->ai_protocol);
    if (fd < 0)
        return -1;
    if (latch_net_connect_bounded(fd, candidate->ai_addr, candidate->ai_addrlen, timeout_ms) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int latch_net_connect_detailed(const char *host, const char *port, int timeout_ms,
                               latch_net_failure *failure)
{
    latch_net_failure ignored;
    if (failure == NULL)
        failure = &ignored;
    set_failure(failure, LATCH_NET_STAGE_NONE, 0, "");
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_ADDRCONFIG};
    struct addrinfo *list = NULL;
    int status = getaddrinfo(host, port, &hints, &list);
    if (status != 0) {
        set_failure(failure, LATCH_NET_STAGE_RESOLVE, status,
                    status == EAI_SYSTEM ? strerror(errno) : gai_strerror(status));
        errno = ENXIO;
        return -1;
    }
    int fd = -1, last_errno = ECONNREFUSED;
    for (const struct addrinfo *candidate = list; candidate != NULL && fd < 0;
         candidate = candidate->ai_next) {
        fd = try_address(candidate, timeout_ms);
        if (fd < 0)
            last_errno = errno;
    }
    freeaddrinfo(list);
    if (fd < 0) {
        set_failure(failure, LATCH_NET_STAGE_CONNECT, last_errno, strerror(last_errno));
        errno = last_errno;
    }
    return fd;
}

/* On a resolve failure errno is ENXIO; otherwise the last connect errno. */
int latch_net_connect(const char *host, const char *port)
{
    return latch_net_connect_detailed(host, port, 0, NULL);
}

int latch_net_split_host_port(const char *text, char *host, size_t host_size, char *port,
                              size_t port_size)
{
    const char *host_start = text, *host_end, *port_start;
    if (text[0] == '[') {
        host_start = text + 1;
        host_end = strchr(host_start, ']');
        if (host_end == NULL || host_end[1] != ':')
            return -1;
        port_start = host_end + 2;
    } else {
        host_end = strrchr(text, ':');
        if (host_end == NULL || memchr(text, ':', (size_t)(host_end - text)) != NULL)
            return -1; /* no port, or an unbracketed IPv6 address */
        port_start = host_end + 1;
    }
    size_t host_length = (size_t)(host_end - host_start);
    size_t port_length = strlen(port_start);
    if (host_length >= host_size || port_length == 0 || port_length >= port_size)
        return -1;
    if (strspn(port_start, "0123456789") != port_length || port_length > 5)
        return -1;
    memcpy(host, host_start, host_length);
    host[host_length] = '\0';
    if (strcmp(host, "*") == 0)
        host[0] = '\0';
    memcpy(port, port_start, port_length + 1);
    return 0;
}

/* With no host, try the IPv6 wildcard first (dual stack), then IPv4. */
static int candidate_allowed(const struct addrinfo *candidate, int any_host, int pass)
{
    if (!any_host)
        return pass == 0;
    return (candidate->ai_family == AF_INET6) == (pass == 0);
}

static int bind_and_listen(const struct addrinfo *candidate, int backlog, int any_host,
                           int reuse_port)
{
    int fd = socket(candidate->ai_family, candidate->ai_socktype | SOCK_CLOEXEC,
                    candidate->ai_protocol);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    if (any_host && candidate->ai_family == AF_INET6) {
        int zero = 0;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    if (bind(fd, candidate->ai_addr, candidate->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* The reuseport program runs with the packet's data past the TCP header,
 * so the source port is read relative to the network header (SKF_NET_OFF):
 * at 40 in IPv6, after the IHL words in IPv4 (IPv4 clients of a dual-stack
 * socket arrive as IPv4). */
int latch_net_reuseport_by_client_port(int listen_fd, unsigned count)
{
    if (count < 2) {
        errno = EINVAL;
        return -1;
    }
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t)SKF_NET_OFF),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0xf0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x60, 0, 2),
        BPF_STMT(BPF_LD | BPF_H | BPF_ABS, (uint32_t)(SKF_NET_OFF + 40)), /* IPv6 */
        BPF_JUMP(BPF_JMP | BPF_JA, 2, 0, 0),
        BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, (uint32_t)SKF_NET_OFF), /* IPv4: X = IHL * 4 */
        BPF_STMT(BPF_LD | BPF_H | BPF_IND, (uint32_t)SKF_NET_OFF),
        /* latch_net_client_port_slot */
        BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, LATCH_PORT_SLOT_MULTIPLIER),
        BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, LATCH_PORT_SLOT_SHIFT),
        BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, count),
        BPF_STMT(BPF_RET | BPF_A, 0),
    };
    struct sock_fprog program = {.len = sizeof code / sizeof code[0], .filter = code};
    return setsockopt(listen_fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &program,
                      sizeof program) == 0 ? 0 : -1;
}

int latch_net_listen(const char *addr_port, int backlog)
{
    return latch_net_listen_reuse(addr_port, backlog, 0);
}

int latch_net_listen_reuse(const char *addr_port, int backlog, int reuse_port)
{
    char host[256], port[8];
    if (addr_port == NULL ||
        latch_net_split_host_port(addr_port, host, sizeof host, port, sizeof port) != 0) {
        errno = EINVAL;
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *list = NULL;
    int status = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &list);
    if (status != 0) {
        errno = status == EAI_SYSTEM ? errno : EADDRNOTAVAIL;
        return -1;
    }
    int any_host = host[0] == '\0', fd = -1, last_errno = EADDRNOTAVAIL;
    for (int pass = 0; pass < 2 && fd < 0; pass++) {
        for (const struct addrinfo *candidate = list; candidate != NULL && fd < 0;
             candidate = candidate->ai_next) {
            if (!candidate_allowed(candidate, any_host, pass))
                continue;
            fd = bind_and_listen(candidate, backlog, any_host, reuse_port);
            if (fd < 0)
                last_errno = errno;
        }
    }
    freeaddrinfo(list);
    if (fd < 0)
        errno = last_errno;
    return fd;
}

void latch_net_format_address(const struct sockaddr *address, socklen_t length, char *out,
                              size_t out_size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (address->sa_family == AF_INET && length >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)address;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
        port = ntohs(v4->sin_port);
        snprintf(out, out_size, "%s:%u", host, port);
    } else if (address->sa_family == AF_INET6 &&
               length >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)address;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
        port = ntohs(v6->sin6_port);
        snprintf(out, out_size, "[%s]:%u", host, port);
    } else {
        snprintf(out, out_size, "unknown");
    }
}
