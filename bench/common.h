/*
 * Shared helpers of the benchmark programs: clocks, CPU time and RSS of a
 * process, loopback sockets, the SIGUSR1 CPU report of the bench servers.
 * Everything talks to 127.0.0.1 only.
 */
#ifndef LATCH_BENCH_COMMON_H
#define LATCH_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_PKI LATCH_BENCH_PKI /* BUILD/testdata/pki, set by CMake */

/* The suites both bench servers enable: AEAD only, ECDHE and RSA key
 * exchange (ossl_server: "ECDHE+AESGCM:ECDHE+CHACHA20:AES128-GCM-SHA256:AES256-GCM-SHA384"). */
#define BENCH_LATCH_SUITES                                                                  \
    "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,"           \
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,"     \
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256," \
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,"   \
    "TLS_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_256_GCM_SHA384"
#define BENCH_OSSL_CIPHERS "ECDHE+AESGCM:ECDHE+CHACHA20:AES128-GCM-SHA256:AES256-GCM-SHA384"

/* Monotonic wall clock, nanoseconds. */
uint64_t bench_now_ns(void);
/* This process's CPU time (user + system, getrusage RUSAGE_SELF), microseconds. */
uint64_t bench_self_cpu_us(void);
/* CPU time of another process in nanoseconds: /proc/PID/schedstat (ns
 * precision), else utime+stime from /proc/PID/stat.  -1 if unreadable. */
int64_t bench_proc_cpu_ns(pid_t pid);
/* Resident set size of a process in KiB (VmRSS), -1 if unreadable. */
long bench_proc_rss_kb(pid_t pid);

/* Listening TCP socket on 127.0.0.1:port (0 = any); *bound gets the port. */
int bench_listen(int port, int *bound);
/* Blocking TCP connection to 127.0.0.1:port with TCP_NODELAY. */
int bench_connect(int port);
void bench_nodelay(int fd);
/* Raise RLIMIT_NOFILE to its hard limit. */
void bench_raise_nofile(void);

/* Servers: on SIGUSR1 write "cpu_us=U conns=N\n" to stderr, from the handler
 * (async-signal-safe formatting), so a blocked accept() is not disturbed. */
void bench_install_cpu_report(const volatile uint64_t *connection_counter);

/* Pin this process to one CPU (bench_die if that fails). */
void bench_pin_cpu(int cpu);
/* fork() for a measuring pair: the child reports one number (its CPU time)
 * back.  Returns the pid, 0 in the child; *report_fd is the child's end to
 * bench_report_send on, or the parent's to bench_report_receive from. */
pid_t bench_fork_reporting(int *report_fd);
void bench_report_send(int report_fd, uint64_t value);
uint64_t bench_report_receive(int report_fd);

/* Print a message and exit(1). */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
