/* server.c: the Unix socket of mocker serve and its connections.
 *
 * A thread per connection, each with its own engine (its own SQLite handle:
 * the store is never shared between threads).  Chosen over an epoll loop
 * because the engine's calls block (a stop waits for the exit, attach and
 * wait hold a connection for a container's life, logs -f follows a file);
 * in a loop each of those would need its own state machine or would stall
 * every other client.  Threads cost a stack each, so connections are capped.
 * Timeouts keep a silent or slow client from holding a thread: a started
 * request must arrive completely within the request timeout, and a
 * keep-alive connection idle longer than the idle timeout is closed. */
#include "api/api.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define MAX_CONNECTIONS 1024
#define THREAD_STACK (1024 * 1024)

static int64_t request_timeout_ms = 30 * 1000;
static int64_t idle_timeout_ms = 5 * 60 * 1000;
static atomic_int connections;

int mk_api_socket_preflight(const char *path, mk_err **err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return mk_err_sys(err, "stat %s", path);
    }
    if (!S_ISSOCK(st.st_mode))
        return mk_err_set(err, MK_ERR_CONFLICT,
                          "%s exists and is not a socket (%s); refusing to replace it", path,
                          S_ISLNK(st.st_mode) ? "a symbolic link" : S_ISDIR(st.st_mode) ? "a directory" : "a file");
    mk_err *probe = NULL;
    int fd = mk_unix_connect(path, &probe);
    if (fd >= 0) {
        close(fd);
        return mk_err_set(err, MK_ERR_CONFLICT, "%s is in use: another server listens on it", path);
    }
    bool stale = probe->errnum == ECONNREFUSED;
    mk_err_free(probe);
    if (!stale)
        return mk_err_set(err, MK_ERR_CONFLICT, "%s: cannot tell whether the socket is in use", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return mk_err_sys(err, "remove stale socket %s", path);
    return 0;
}

struct conn {
    int fd;
};

/* Wait for input up to deadline (monotonic ms); false on timeout or error. */
static bool wait_readable(int fd, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - mk_monotonic_ns() / 1000000;
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
    }
}

static void serve_connection(int fd)
{
    struct mk_http_parser p;
    mk_http_parser_init(&p, NULL);
    struct mk_api_ctx ctx = {0};
    char buf[64 * 1024];
    bool open = true;
    int64_t deadline = mk_monotonic_ns() / 1000000 + idle_timeout_ms;
    bool in_request = false;
    while (open) {
        struct mk_http_request *req = NULL;
        int r = mk_http_parser_next(&p, &req);
        if (r < 0) {
            struct mk_http_reply w;
            mk_http_reply_init(&w, fd, NULL);
            w.keep_alive = false;
            mk_http_reply_error(&w, p.error_status, p.error);
            mk_http_reply_clear(&w);
            break;
        }
        if (r == 1) {
            struct mk_http_reply w;
            mk_http_reply_init(&w, fd, req);
            ctx.req = req;
            ctx.reply = &w;
            ctx.parser = &p;
            mk_api_handle(&ctx);
            open = w.keep_alive && !w.failed;
            mk_http_reply_clear(&w);
            mk_http_request_free(req);
            in_request = false;
            deadline = mk_monotonic_ns() / 1000000 + idle_timeout_ms;
            continue;
        }
        if (!in_request && mk_http_parser_busy(&p)) {
            in_request = true;
            deadline = mk_monotonic_ns() / 1000000 + request_timeout_ms;
        }
        if (!wait_readable(fd, deadline)) {
            if (in_request) {
                struct mk_http_reply w;
                mk_http_reply_init(&w, fd, NULL);
                w.keep_alive = false;
                mk_http_reply_error(&w, 408, "request timed out");
                mk_http_reply_clear(&w);
            }
            break;
        }
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        mk_http_parser_feed(&p, buf, (size_t)n);
        if (!in_request) {
            in_request = true;
            deadline = mk_monotonic_ns() / 1000000 + request_timeout_ms;
        }
    }
    mk_http_parser_clear(&p);
    mk_engine_free(ctx.engine);
}

static void *conn_thread(void *arg)
{
    struct conn *c = arg;
    serve_connection(c->fd);
    close(c->fd);
    free(c);
    atomic_fetch_sub(&connections, 1);
    return NULL;
}

/* MOCKER_SERVE_TIMEOUT_MS shortens both timeouts, for tests. */
static void load_timeouts(void)
{
    const char *t = getenv("MOCKER_SERVE_TIMEOUT_MS");
    if (t != NULL && atoll(t) > 0)
        request_timeout_ms = idle_timeout_ms = atoll(t);
}

static int listen_socket(const char *path, mk_err **err)
{
    _cleanup_free_ char *dir = mk_path_dir(path, NULL);
    struct stat st;
    if (dir != NULL && stat(dir, &st) < 0 && mk_mkdir_p(dir, 0700, err) < 0)
        return -1;
    if (mk_api_socket_preflight(path, err) < 0)
        return -1;
    /* owner-only from the start: no window in which others could connect */
    mode_t old = umask(0177);
    int fd = mk_unix_listen(path, err);
    umask(old);
    if (fd < 0)
        return -1;
    listen(fd, 512); /* many clients connect at once (compose, test suites) */
    return fd;
}

int mk_api_serve(const char *path, mk_err **err)
{
    load_timeouts();
    /* the engine's first open does the boot work before any client arrives */
    struct mk_engine *e = NULL;
    if (mk_engine_open(&e, err) < 0)
        return -1;
    mk_engine_free(e);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    /* blocked here, so every connection thread inherits the mask and the
     * signals reach only the signalfd below */
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);
    _cleanup_close_ int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sfd < 0)
        return mk_err_sys(err, "signalfd");
    _cleanup_close_ int lfd = listen_socket(path, err);
    if (lfd < 0)
        return -1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    fprintf(stderr, "mocker serve: API listening on unix://%s\n", path);
    int ret = 0;
    for (;;) {
        struct pollfd pf[2] = {{.fd = lfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
        if (poll(pf, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            ret = mk_err_sys(err, "poll");
            break;
        }
        if (pf[1].revents)
            break;
        if (!(pf[0].revents & POLLIN))
            continue;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue; /* EMFILE, ECONNABORTED...: the next client may fare better */
        if (atomic_fetch_add(&connections, 1) >= MAX_CONNECTIONS) {
            atomic_fetch_sub(&connections, 1);
            close(fd);
            continue;
        }
        struct conn *c = xmalloc(sizeof(*c));
        c->fd = fd;
        pthread_t t;
        if (pthread_create(&t, &attr, conn_thread, c) != 0) {
            close(fd);
            free(c);
            atomic_fetch_sub(&connections, 1);
        }
    }
    pthread_attr_destroy(&attr);
    unlink(path);
    return ret;
}
