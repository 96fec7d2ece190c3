/* netperf: the two ends of bench/net's TCP measurements, built static so the
 * same binary runs on the host and, bind-mounted, in a busybox container.
 *
 *     netperf server PORT          accept on 0.0.0.0:PORT, one connection at a
 *                                  time: read to EOF, answer the byte count
 *                                  ("%llu\n"), close
 *     netperf client HOST PORT MB  send MB megabytes (10^6 bytes), half-close,
 *                                  wait for the count; prints MB/s
 *     netperf rate HOST PORT N     N cycles of connect, half-close, read the
 *                                  answer, close; prints connections/s
 *
 * The client's clock stops when the server's count arrives, so the figure is
 * bytes the server has read, not bytes queued in local buffers.  A rate cycle
 * waits for the answer too: through a userland proxy, a bare connect only
 * reaches the proxy, and the answer proves the proxy reached the server.
 * The server closes first, so the TIME_WAIT sockets pile up on its side (in
 * the container), not among the host's ephemeral ports.  Exit 1 on any
 * error, or if the server's count is not what was sent. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (256 * 1024)

static char buf[CHUNK];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "netperf: %s: %s\n", what, strerror(errno));
    exit(1);
}

static _Noreturn void serve(int port)
{
    int one = 1;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0)
        die("socket");
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        die("bind");
    if (listen(ls, 128) < 0)
        die("listen");
    for (;;) {
        int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            die("accept");
        }
        unsigned long long total = 0;
        ssize_t n;
        while ((n = read(c, buf, sizeof(buf))) > 0)
            total += (unsigned long long)n;
        /* a reset from the client is its business, not the server's */
        if (n == 0) {
            int len = snprintf(buf, sizeof(buf), "%llu\n", total);
            if (write(c, buf, (size_t)len) < 0) {
                /* same: the client went away */
            }
        }
        close(c);
    }
}

/* An IPv4 address, not a name: a static binary cannot use NSS. */
static struct sockaddr_in address(const char *host, const char *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "netperf: %s: not an IPv4 address\n", host);
        exit(2);
    }
    return sa;
}

static int dial(const struct sockaddr_in *sa)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        die("socket");
    if (connect(s, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
        die("connect");
    return s;
}

/* Half-close, then read the server's count to EOF. */
static unsigned long long finish(int s)
{
    char ans[32];
    size_t got = 0;
    ssize_t n;
    if (shutdown(s, SHUT_WR) < 0)
        die("shutdown");
    while (got < sizeof(ans) - 1 && (n = read(s, ans + got, sizeof(ans) - 1 - got)) > 0)
        got += (size_t)n;
    ans[got] = '\0';
    close(s);
    if (got == 0 || ans[got - 1] != '\n') {
        fprintf(stderr, "netperf: no count from the server\n");
        exit(1);
    }
    return strtoull(ans, NULL, 10);
}

static int client(const char *host, const char *port, long mb)
{
    unsigned long long want = (unsigned long long)mb * 1000000ULL, sent = 0;
    struct sockaddr_in sa = address(host, port);
    double t0 = now_s();
    int s = dial(&sa);
    while (sent < want) {
        size_t len = want - sent < CHUNK ? (size_t)(want - sent) : CHUNK;
        ssize_t n = write(s, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("write");
        }
        sent += (unsigned long long)n;
    }
    unsigned long long got = finish(s);
    double dt = now_s() - t0;
    if (got != want) {
        fprintf(stderr, "netperf: server read %llu bytes of %llu\n", got, want);
        return 1;
    }
    printf("%.0f\n", (double)want / 1e6 / dt);
    return 0;
}

static int rate(const char *host, const char *port, long n)
{
    struct sockaddr_in sa = address(host, port);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        if (finish(dial(&sa)) != 0) {
            fprintf(stderr, "netperf: the server read bytes nobody sent\n");
            return 1;
        }
    }
    printf("%.0f\n", (double)n / (now_s() - t0));
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 3 && strcmp(argv[1], "server") == 0)
        serve(atoi(argv[2]));
    if (argc == 5 && strcmp(argv[1], "client") == 0 && atol(argv[4]) > 0)
        return client(argv[2], argv[3], atol(argv[4]));
    if (argc == 5 && strcmp(argv[1], "rate") == 0 && atol(argv[4]) > 0)
        return rate(argv[2], argv[3], atol(argv[4]));
    fprintf(stderr, "usage: netperf server PORT | client HOST PORT MB | rate HOST PORT N\n");
    return 2;
}
