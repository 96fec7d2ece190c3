/* apiload: requests per second of one GET on a Docker API Unix socket.
 *
 *     apiload SOCKET PATH CONNECTIONS SECONDS
 *
 * CONNECTIONS threads each hold one keep-alive connection and send the
 * request again as soon as the whole response is in (Content-Length or
 * chunked bodies, as dockerd sends long ones).  Prints the rate; exits 1 on
 * any status but 200 or a closed connection. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *sock_path, *req_path;
static double seconds;
static volatile int failed;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct conn {
    int fd;
    char buf[1 << 20];
    size_t len, off;
};

/* At least one more byte into the buffer; 0 on EOF or error. */
static int fill(struct conn *c)
{
    if (c->off > 0) {
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    if (c->len == sizeof(c->buf))
        return 0;
    ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
    if (n <= 0)
        return 0;
    c->len += (size_t)n;
    return 1;
}

/* A line (without CRLF) from the buffer; NULL on EOF. */
static char *line(struct conn *c)
{
    for (;;) {
        char *nl = memmem(c->buf + c->off, c->len - c->off, "\r\n", 2);
        if (nl != NULL) {
            *nl = '\0';
            char *l = c->buf + c->off;
            c->off = (size_t)(nl - c->buf) + 2;
            return l;
        }
        if (!fill(c))
            return NULL;
    }
}

static int skip(struct conn *c, size_t n)
{
    while (c->len - c->off < n) {
        n -= c->len - c->off;
        c->off = c->len;
        if (!fill(c))
            return -1;
    }
    c->off += n;
    return 0;
}

/* One whole response; its status, or -1. */
static int response(struct conn *c)
{
    char *l = line(c);
    if (l == NULL || strncmp(l, "HTTP/1.", 7) != 0)
        return -1;
    int status = atoi(l + 9);
    long length = -1;
    int chunked = 0;
    while ((l = line(c)) != NULL && *l != '\0') {
        if (strncasecmp(l, "Content-Length:", 15) == 0)
            length = atol(l + 15);
        else if (strncasecmp(l, "Transfer-Encoding:", 18) == 0 && strstr(l, "chunked"))
            chunked = 1;
    }
    if (l == NULL)
        return -1;
    if (!chunked)
        return skip(c, length > 0 ? (size_t)length : 0) < 0 ? -1 : status;
    for (;;) {
        l = line(c);
        if (l == NULL)
            return -1;
        size_t n = strtoul(l, NULL, 16);
        if (n == 0)
            break;
        if (skip(c, n + 2) < 0)
            return -1;
    }
    while ((l = line(c)) != NULL && *l != '\0') /* trailers */
        ;
    return l == NULL ? -1 : status;
}

static void *worker(void *arg)
{
    long *count = arg;
    struct conn *c = calloc(1, sizeof(*c));
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
    c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        perror("connect");
        failed = 1;
        return NULL;
    }
    char req[512];
    int rl = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: docker\r\n\r\n", req_path);
    double end = now() + seconds;
    while (now() < end && !failed) {
        if (write(c->fd, req, (size_t)rl) != rl) {
            failed = 1;
            break;
        }
        int st = response(c);
        if (st != 200) {
            fprintf(stderr, "apiload: %s: status %d\n", req_path, st);
            failed = 1;
            break;
        }
        (*count)++;
    }
    close(c->fd);
    free(c);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: apiload SOCKET PATH CONNECTIONS SECONDS\n");
        return 2;
    }
    sock_path = argv[1];
    req_path = argv[2];
    int n = atoi(argv[3]);
    seconds = atof(argv[4]);
    pthread_t *t = calloc((size_t)n, sizeof(*t));
    long *counts = calloc((size_t)n, sizeof(*counts));
    double start = now();
    for (int i = 0; i < n; i++)
        pthread_create(&t[i], NULL, worker, &counts[i]);
    long total = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
        total += counts[i];
    }
    double took = now() - start;
    if (failed) {
        printf("FAIL\n");
        return 1;
    }
    printf("%.0f\n", (double)total / took);
    return 0;
}
