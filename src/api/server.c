/* server.c: the Unix socket of mocker serve and its connections.
 *
 * A thread per connection, each with its own engine (its own SQLite handle:
 * the store is never shared between threads).  Chosen over an epoll loop
 * because the engine's calls block (a stop waits for the exit, attach and
 * wait hold a connection for a container's life, logs -f follows a file);
 * in a loop each of those would need its own state machine or would stall
 * every other client.  Threads cost a stack each, so connections are capped.
 * Timeouts keep a silent or slow client from holding a thread: a started
 * request must arrive completely within the request timeout, a keep-alive
 * connection idle longer than the idle timeout is closed, and a write that
 * makes no progress for the write timeout (a client that stopped reading)
 * ends the connection; a stream (logs -f, events) lives as long as its
 * client keeps reading.  Request bodies are small unless the route opts in to
 * large ones, and all the connections share one body budget.
 *
 * The server forks (tools) and spawns (monitors) from its threads, so it sets
 * no disposition that exec keeps: SIGINT, SIGTERM and SIGCHLD have handlers
 * that write to a pipe, SIGPIPE a no-op handler (exec resets handlers to the
 * default, where SIG_IGN would stay).  Connection threads block the first
 * three; the code that spawns from them starts its children with an empty
 * mask. */
#include "api/api.h"

#include "util/lazylib.h"
#include "util/reap.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define MAX_CONNECTIONS 1024
#define THREAD_STACK (1024 * 1024)
/* All connections' request bodies together. */
#define BODY_BUDGET ((size_t)256 * 1024 * 1024)
/* systemd's first passed fd (sd_listen_fds(3)) */
#define LISTEN_FDS_START 3

static int64_t request_timeout_ms = 30 * 1000;
static int64_t idle_timeout_ms = 5 * 60 * 1000;
static int64_t write_timeout_ms = 60 * 1000;
static atomic_int connections;
static atomic_int busy; /* connections inside a handler */
static struct mk_http_budget body_budget = {.max = BODY_BUDGET};
static int signal_pipe[2] = {-1, -1};

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

static void reply_error_and_close(int fd, int status, const char *msg)
{
    struct mk_http_reply w;
    mk_http_reply_init(&w, fd, NULL);
    w.keep_alive = false;
    mk_http_reply_error(&w, status, msg);
    mk_http_reply_clear(&w);
}

/* The parser's body_limit: the matched route's, else the small default. */
static size_t route_body_limit(const struct mk_http_request *req, void *ud)
{
    char **params = NULL;
    const struct mk_api_route *r = mk_api_route_match(mk_api_routes, req->method, req->path, &params);
    mk_strv_free(params);
    return r != NULL && r->max_body ? r->max_body : MK_API_BODY_DEFAULT;
}

/* Where large upload bodies are spooled: <root>/tmp, on disk. */
static char *spool_dir;
#define SPOOL_AFTER ((size_t)1 << 20)

static void serve_connection(int fd)
{
    struct mk_http_parser p;
    mk_http_parser_init(&p, NULL);
    p.body_limit = route_body_limit;
    p.budget = &body_budget;
    p.spool_dir = spool_dir;
    p.spool_after = SPOOL_AFTER;
    struct mk_api_ctx ctx = {0};
    char buf[64 * 1024];
    bool open = true;
    int64_t deadline = mk_monotonic_ns() / 1000000 + idle_timeout_ms;
    bool in_request = false;
    while (open) {
        struct mk_http_request *req = NULL;
        int r = mk_http_parser_next(&p, &req);
        if (r < 0) {
            reply_error_and_close(fd, p.error_status, p.error);
            break;
        }
        if (r == 1) {
            struct mk_http_reply w;
            mk_http_reply_init(&w, fd, req);
            ctx.req = req;
            ctx.reply = &w;
            ctx.parser = &p;
            atomic_fetch_add(&busy, 1);
            mk_api_handle(&ctx);
            atomic_fetch_sub(&busy, 1);
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
            if (in_request)
                reply_error_and_close(fd, 408, "request timed out");
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
    /* the main thread takes the signals: engine code here never sees EINTR
     * from them (children this thread starts reset the mask: run.c) */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    serve_connection(c->fd);
    close(c->fd);
    free(c);
    atomic_fetch_sub(&connections, 1);
    return NULL;
}

/* MOCKER_SERVE_TIMEOUT_MS shortens every timeout, for tests. */
static void load_timeouts(void)
{
    const char *t = getenv("MOCKER_SERVE_TIMEOUT_MS");
    if (t != NULL && atoll(t) > 0)
        request_timeout_ms = idle_timeout_ms = write_timeout_ms = atoll(t);
}

/* The socket's group and modes: with a `docker` group, the group may use the
 * socket (0660) and pass through its directory (g+x only: the directory may
 * be mocker's runroot, whose listing stays private); without one, owner
 * only. */
static int socket_access(const char *path, const char *dir, mk_err **err)
{
    struct group *g = getgrnam("docker");
    if (g == NULL)
        return 0;
    if (chown(path, (uid_t)-1, g->gr_gid) < 0) {
        /* not ours to give (a user outside the group): owner-only it stays */
        fprintf(stderr, "mocker serve: %s stays owner-only: cannot give it to group docker: %s\n",
                path, strerror(errno));
        return 0;
    }
    if (chmod(path, 0660) < 0)
        return mk_err_sys(err, "give group docker access to %s", path);
    struct stat st;
    if (dir != NULL && stat(dir, &st) == 0 && st.st_uid == geteuid() && !(st.st_mode & S_IXGRP)) {
        if (st.st_gid != g->gr_gid && chown(dir, (uid_t)-1, g->gr_gid) < 0)
            return mk_err_sys(err, "give group docker access to %s", dir);
        if (chmod(dir, (st.st_mode & 07777 & ~(mode_t)S_IRWXG) | S_IXGRP) < 0)
            return mk_err_sys(err, "give group docker access to %s", dir);
    }
    return 0;
}

/* One server per socket path: a lock next to it, held for the process's
 * life (never removed, so two servers cannot lock two different files). */
static int lock_socket_path(const char *path, mk_err **err)
{
    _cleanup_free_ char *lock = xasprintf("%s.lock", path);
    _cleanup_close_ int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return mk_err_sys(err, "open %s", lock);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            return mk_err_set(err, MK_ERR_CONFLICT, "%s is in use: another mocker serve holds %s",
                              path, lock);
        return mk_err_sys(err, "lock %s", lock);
    }
    return steal_fd(&fd);
}

static int listen_socket(const char *path, struct stat *bound, mk_err **err)
{
    _cleanup_free_ char *dir = mk_path_dir(path, NULL);
    struct stat st;
    if (dir != NULL && stat(dir, &st) < 0 && mk_mkdir_p(dir, 0700, err) < 0)
        return -1;
    if (mk_api_socket_preflight(path, err) < 0)
        return -1;
    /* owner-only from the start: no window in which others could connect */
    mode_t old = umask(0177);
    _cleanup_close_ int fd = mk_unix_listen(path, err);
    umask(old);
    if (fd < 0)
        return -1;
    if (lstat(path, bound) < 0)
        return mk_err_sys(err, "stat %s", path);
    if (socket_access(path, dir, err) < 0)
        return -1;
    listen(fd, 512); /* many clients connect at once (compose, test suites) */
    return steal_fd(&fd);
}

/* systemd socket activation (sd_listen_fds(3), by hand): LISTEN_PID names
 * us and LISTEN_FDS counts the fds from 3; which is "fd://" (the first) or
 * "fd://N".  The variables are removed so that children do not take them. */
static int activated_socket(const char *which, mk_err **err)
{
    const char *pid = getenv("LISTEN_PID");
    const char *nfds = getenv("LISTEN_FDS");
    if (pid == NULL || nfds == NULL || atol(pid) != (long)getpid() || atoi(nfds) < 1)
        return mk_err_set(err, MK_ERR_INVALID,
                          "fd://: no socket was passed (LISTEN_PID/LISTEN_FDS: not started by systemd socket activation?)");
    int n = atoi(nfds);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    int fd = LISTEN_FDS_START;
    if (*which != '\0') {
        char *end;
        long v = strtol(which, &end, 10);
        if (*end != '\0' || v < LISTEN_FDS_START || v >= LISTEN_FDS_START + n)
            return mk_err_set(err, MK_ERR_INVALID, "fd://%s: not one of the %d passed sockets", which, n);
        fd = (int)v;
    }
    int type = 0, listening = 0;
    socklen_t l = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0 || type != SOCK_STREAM ||
        (l = sizeof(listening), getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &l) < 0) ||
        !listening)
        return mk_err_set(err, MK_ERR_INVALID, "fd://: fd %d is not a listening stream socket", fd);
    for (int i = LISTEN_FDS_START; i < LISTEN_FDS_START + n; i++)
        fcntl(i, F_SETFD, FD_CLOEXEC);
    return fd;
}

/* Async-signal-safe: the main loop reads the pipe. */
static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;
    if (write(signal_pipe[1], &c, 1) < 0) {
        /* full: a wake-up is already pending */
    }
    errno = saved;
}

static void on_sigpipe(int sig)
{
    /* a write to a closed connection fails with EPIPE instead */
}

static int install_signals(mk_err **err)
{
    if (signal_pipe[0] < 0 && pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return mk_err_sys(err, "pipe");
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    sa.sa_handler = on_sigpipe;
    sigaction(SIGPIPE, &sa, NULL);
    /* the CLI may have blocked signals (and pre-1.0 versions of this server
     * did): children inherit the mask, so start from an empty one */
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, NULL);
    return 0;
}

/* A server holds a descriptor per connection, and its monitors' and tools'
 * pipes: the soft limit (often 1024) is raised to the hard one. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void start_connection(int fd, const pthread_attr_t *attr)
{
    if (atomic_fetch_add(&connections, 1) >= MAX_CONNECTIONS) {
        atomic_fetch_sub(&connections, 1);
        reply_error_and_close(fd, 503, "too many connections");
        close(fd);
        return;
    }
    /* a write blocked this long (a client that stopped reading) fails */
    struct timeval tv = {.tv_sec = write_timeout_ms / 1000, .tv_usec = (write_timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct conn *c = xmalloc(sizeof(*c));
    c->fd = fd;
    pthread_t t;
    if (pthread_create(&t, attr, conn_thread, c) != 0) {
        close(fd);
        free(c);
        atomic_fetch_sub(&connections, 1);
    }
}

/* Accept until SIGINT/SIGTERM; 0 then. */
static int accept_loop(int lfd, mk_err **err)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    int ret = 0;
    int backoff_ms = 0;
    for (bool stop = false; !stop;) {
        struct pollfd pf[2] = {{.fd = lfd, .events = POLLIN}, {.fd = signal_pipe[0], .events = POLLIN}};
        /* out of descriptors: the listener is left alone for a while (it
         * would stay readable and spin the loop) */
        int n = poll(backoff_ms ? pf + 1 : pf, backoff_ms ? 1 : 2, backoff_ms ? backoff_ms : 5000);
        backoff_ms = 0;
        if (n < 0 && errno != EINTR) {
            ret = mk_err_sys(err, "poll");
            break;
        }
        char sigs[64];
        ssize_t got;
        while ((got = read(signal_pipe[0], sigs, sizeof(sigs))) > 0)
            for (ssize_t i = 0; i < got; i++)
                stop = stop || sigs[i] == SIGINT || sigs[i] == SIGTERM;
        mk_reap_poll(); /* on SIGCHLD, and every few seconds in case */
        if (stop || n <= 0 || !(pf[0].revents & POLLIN))
            continue;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                backoff_ms = 100;
            continue; /* ECONNABORTED...: the next client may fare better */
        }
        start_connection(fd, &attr);
    }
    pthread_attr_destroy(&attr);
    return ret;
}

/* After a stop: requests already in a handler get a moment to finish (a
 * create half-done is safe to cut, but needless); streams do not hold us. */
static void drain(void)
{
    for (int i = 0; i < 20 && atomic_load(&busy) > 0; i++)
        usleep(50 * 1000);
}

int mk_api_serve(const char *host, mk_err **err)
{
    load_timeouts();
    raise_nofile();
    mk_reap_enable();
    if (mk_lazylib_load_all(err) < 0)
        return -1;
    if (install_signals(err) < 0)
        return -1;
    bool activated = mk_str_has_prefix(host, "fd://");
    const char *path = NULL;
    if (!activated) {
        if (!mk_str_has_prefix(host, "unix://") || host[7] != '/')
            return mk_err_set(err, MK_ERR_INVALID,
                              "unsupported host %s: unix:///absolute/path or fd:// is served", host);
        path = host + 7;
    }
    /* the engine's first open does the boot work before any client arrives */
    struct mk_engine *e = NULL;
    if (mk_engine_open(&e, err) < 0)
        return -1;
    free(spool_dir);
    spool_dir = mk_path_join(e->store->root, "tmp");
    mk_engine_free(e);
    if (mk_mkdir_p(spool_dir, 0700, err) < 0)
        return -1;
    _cleanup_close_ int lock = -1;
    _cleanup_close_ int lfd = -1;
    struct stat bound = {0};
    if (activated)
        lfd = activated_socket(host + 5, err);
    else if ((lock = lock_socket_path(path, err)) >= 0)
        lfd = listen_socket(path, &bound, err);
    if (lfd < 0)
        return -1;
    fprintf(stderr, "mocker serve: API listening on %s\n", host);
    int ret = accept_loop(lfd, err);
    /* only the socket we bound: never one another server put there since */
    struct stat now;
    if (path != NULL && lstat(path, &now) == 0 && now.st_ino == bound.st_ino &&
        now.st_dev == bound.st_dev)
        unlink(path);
    close(steal_fd(&lfd));
    drain();
    return ret;
}
