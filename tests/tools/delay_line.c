/* delay_line: a link with a fixed one-way delay and optional random loss
 * between two network namespaces, for tests on a kernel without netem.
 *
 *   delay_line --ns-a NAME --ns-b NAME [--dev-a tun0] [--dev-b tun0]
 *              [--delay-ms 50] [--loss PERCENT] [--seed N] [--ready FILE]
 *
 * It opens a TUN device (IFF_TUN | IFF_NO_PI: bare IP packets) inside each
 * namespace (setns into /var/run/netns/NAME, as `ip netns add` makes), then
 * relays every packet read from one device to the other after the delay,
 * dropping each with probability PERCENT/100.  The devices vanish with the
 * process.  Addresses and routes are the caller's job (ip netns exec ...
 * ip addr add ... dev tun0); the relay only ever writes to its two TUN
 * devices, so nothing leaves the namespaces.  --ready FILE is written
 * (containing the pid) once both devices exist.  SIGTERM/SIGINT: print the
 * counters on stderr and exit 0.  Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_PACKET 65536
#define MAX_QUEUED 8192   /* per direction; beyond: tail drop */

typedef struct packet {
    struct packet *next;
    uint64_t due_ns;
    size_t length;
    uint8_t data[];
} packet;

typedef struct direction {
    int from_fd, to_fd;
    const char *name;
    packet *head, *tail;
    size_t queued;
    uint64_t received, forwarded, lost, overflow;
} direction;

static volatile sig_atomic_t stop_requested;

static void on_signal(int signal_number)
{
    (void)signal_number;
    stop_requested = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: reproducible loss with --seed */
static uint64_t random_state = 88172645463325252ull;
static double next_random(void)
{
    random_state ^= random_state >> 12;
    random_state ^= random_state << 25;
    random_state ^= random_state >> 27;
    return (double)((random_state * 2685821657736338717ull) >> 11) / (double)(1ull << 53);
}

/* A TUN device named dev inside namespace ns; returns its fd (non-blocking). */
static int open_tun_in(const char *ns, const char *dev, int home_ns)
{
    char path[256];
    snprintf(path, sizeof path, "/var/run/netns/%s", ns);
    int ns_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (ns_fd < 0) {
        fprintf(stderr, "delay_line: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (setns(ns_fd, CLONE_NEWNET) != 0) {
        fprintf(stderr, "delay_line: setns %s: %s\n", ns, strerror(errno));
        close(ns_fd);
        return -1;
    }
    close(ns_fd);
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "delay_line: /dev/net/tun: %s\n", strerror(errno));
    } else {
        struct ifreq request;
        memset(&request, 0, sizeof request);
        request.ifr_flags = IFF_TUN | IFF_NO_PI;
        snprintf(request.ifr_name, sizeof request.ifr_name, "%s", dev);
        if (ioctl(fd, TUNSETIFF, &request) != 0) {
            fprintf(stderr, "delay_line: TUNSETIFF %s in %s: %s\n", dev, ns, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    if (setns(home_ns, CLONE_NEWNET) != 0) {
        fprintf(stderr, "delay_line: back to the first namespace: %s\n", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Read every packet waiting on d->from_fd into the queue (or drop it). */
static void take_packets(direction *d, double loss_percent, uint64_t delay_ns)
{
    static uint8_t buffer[MAX_PACKET];
    for (;;) {
        ssize_t got = read(d->from_fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return;
        uint64_t arrived = now_ns();
        d->received++;
        if (loss_percent > 0 && next_random() * 100.0 < loss_percent) {
            d->lost++;
            continue;
        }
        if (d->queued >= MAX_QUEUED) {
            d->overflow++;
            continue;
        }
        packet *p = malloc(sizeof *p + (size_t)got);
        if (p == NULL) {
            d->overflow++;
            continue;
        }
        p->next = NULL;
        p->due_ns = arrived + delay_ns;
        p->length = (size_t)got;
        memcpy(p->data, buffer, (size_t)got);
        if (d->tail != NULL)
            d->tail->next = p;
        else
            d->head = p;
        d->tail = p;
        d->queued++;
    }
}

/* Write the packets whose time has come (a fixed delay keeps FIFO order). */
static void release_packets(direction *d, uint64_t now)
{
    while (d->head != NULL && d->head->due_ns <= now) {
        packet *p = d->head;
        ssize_t written;
        do
            written = write(d->to_fd, p->data, p->length);
        while (written < 0 && errno == EINTR);
        if (written < 0 && errno == EAGAIN)
            return; /* device queue full: try again on the next turn */
        if (written == (ssize_t)p->length)
            d->forwarded++;
        else
            d->overflow++;
        d->head = p->next;
        if (d->head == NULL)
            d->tail = NULL;
        d->queued--;
        free(p);
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: delay_line --ns-a NAME --ns-b NAME [--dev-a DEV] [--dev-b DEV]\n"
                    "                  [--delay-ms MS] [--loss PERCENT] [--seed N] [--ready FILE]\n");
}

int main(int argc, char **argv)
{
    const char *ns_a = NULL, *ns_b = NULL, *dev_a = "tun0", *dev_b = "tun0", *ready = NULL;
    double delay_ms = 50, loss = 0;
    for (int i = 1; i < argc; i++) {
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (value == NULL) {
            usage();
            return 2;
        }
        if (strcmp(argv[i], "--ns-a") == 0)
            ns_a = value;
        else if (strcmp(argv[i], "--ns-b") == 0)
            ns_b = value;
        else if (strcmp(argv[i], "--dev-a") == 0)
            dev_a = value;
        else if (strcmp(argv[i], "--dev-b") == 0)
            dev_b = value;
        else if (strcmp(argv[i], "--delay-ms") == 0)
            delay_ms = atof(value);
        else if (strcmp(argv[i], "--loss") == 0)
            loss = atof(value);
        else if (strcmp(argv[i], "--seed") == 0)
            random_state = strtoull(value, NULL, 0) | 1;
        else if (strcmp(argv[i], "--ready") == 0)
            ready = value;
        else {
            usage();
            return 2;
        }
        i++;
    }
    if (ns_a == NULL || ns_b == NULL || delay_ms < 0 || delay_ms > 10000 || loss < 0 ||
        loss > 100) {
        usage();
        return 2;
    }
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) {
        perror("delay_line: /proc/self/ns/net");
        return 1;
    }
    int fd_a = open_tun_in(ns_a, dev_a, home);
    int fd_b = fd_a >= 0 ? open_tun_in(ns_b, dev_b, home) : -1;
    close(home);
    if (fd_a < 0 || fd_b < 0)
        return 1;

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (ready != NULL) {
        FILE *f = fopen(ready, "w");
        if (f == NULL) {
            perror("delay_line: --ready");
            return 1;
        }
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
    }
    uint64_t delay_ns = (uint64_t)(delay_ms * 1e6);
    direction dirs[2] = {
        {.from_fd = fd_a, .to_fd = fd_b, .name = "a→b"},
        {.from_fd = fd_b, .to_fd = fd_a, .name = "b→a"},
    };
    while (!stop_requested) {
        struct pollfd fds[2] = {{.fd = fd_a, .events = POLLIN}, {.fd = fd_b, .events = POLLIN}};
        uint64_t now = now_ns(), wait_ns = 200000000u; /* 200 ms when idle */
        for (int i = 0; i < 2; i++)
            if (dirs[i].head != NULL) {
                uint64_t due = dirs[i].head->due_ns;
                uint64_t until = due > now ? due - now : 0;
                if (until < wait_ns)
                    wait_ns = until;
            }
        struct timespec timeout = {.tv_sec = (time_t)(wait_ns / 1000000000u),
                                   .tv_nsec = (long)(wait_ns % 1000000000u)};
        int ready_count = ppoll(fds, 2, &timeout, NULL);
        if (ready_count < 0 && errno != EINTR) {
            perror("delay_line: ppoll");
            break;
        }
        if (ready_count > 0) {
            if (fds[0].revents & POLLIN)
                take_packets(&dirs[0], loss, delay_ns);
            if (fds[1].revents & POLLIN)
                take_packets(&dirs[1], loss, delay_ns);
            if ((fds[0].revents | fds[1].revents) & (POLLERR | POLLHUP | POLLNVAL))
                break;
        }
        now = now_ns();
        release_packets(&dirs[0], now);
        release_packets(&dirs[1], now);
    }
    for (int i = 0; i < 2; i++)
        fprintf(stderr, "delay_line %s: %llu received, %llu forwarded, %llu lost, %llu overflow\n",
                dirs[i].name, (unsigned long long)dirs[i].received,
                (unsigned long long)dirs[i].forwarded, (unsigned long long)dirs[i].lost,
                (unsigned long long)dirs[i].overflow);
    for (int i = 0; i < 2; i++)
        while (dirs[i].head != NULL) {
            packet *p = dirs[i].head;
            dirs[i].head = p->next;
            free(p);
        }
    close(fd_a);
    close(fd_b);
    return 0;
}
