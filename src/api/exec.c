/* exec.c: the exec endpoints: create, start (attached or detached, with or
 * without a tty), resize and inspect.
 *
 * An exec instance lives in this server's memory, as in dockerd: created by
 * one request, started by another, inspected for its exit code by a third.
 * The process is made by mk_container_exec, the engine call `mocker exec`
 * uses; it is a child of this server, reaped by the thread that started it
 * (an attached start) or by a reaper thread (a detached one). */
#include "api/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* exited instances kept for inspection (docker keeps them until the
 * container goes; a long-lived server must not grow without bound) */
#define KEEP_EXITED 256
/* after the process exits, output still in the pipes is sent for this long
 * (a background child may hold them open forever) */
#define DRAIN_MS 200

struct exec_inst {
    char id[65];
    char *container_id;
    json_t *config; /* the create body, as given */
    bool started, running, exited;
    int exit_code;
    pid_t pid;
    int pty_master; /* while running with a tty, for resize; else -1 */
    int64_t ended_ns;
    struct exec_inst *next;
};

static pthread_mutex_t execs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct exec_inst *execs;

static void exec_free(struct exec_inst *x)
{
    free(x->container_id);
    json_decref(x->config);
    free(x);
}

/* Under execs_lock: drop the oldest exited instances past KEEP_EXITED. */
static void prune_locked(void)
{
    size_t kept = 0;
    for (struct exec_inst **pp = &execs; *pp != NULL;) {
        struct exec_inst *x = *pp;
        if (x->exited && ++kept > KEEP_EXITED) {
            *pp = x->next;
            exec_free(x);
            continue;
        }
        pp = &x->next;
    }
}

/* Under execs_lock. */
static struct exec_inst *find_locked(const char *id)
{
    for (struct exec_inst *x = execs; x != NULL; x = x->next)
        if (strcmp(x->id, id) == 0)
            return x;
    return NULL;
}

static int no_such_exec(const char *id, mk_err **err)
{
    return mk_err_set(err, MK_ERR_NOT_FOUND, "No such exec instance: %s", id);
}

static bool is_str_array(const json_t *v)
{
    size_t i;
    json_t *s;
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_array(v))
        return false;
    json_array_foreach(v, i, s) if (!json_is_string(s)) return false;
    return true;
}

int mk_api_exec_create(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    struct mk_container *ctr = NULL;
    _cleanup_json_ json_t *body = NULL;
    if (mk_api_json_body(c, "No exec command specified", &body, err) < 0)
        return -1;
    if (!is_str_array(json_object_get(body, "Cmd")) || !is_str_array(json_object_get(body, "Env")))
        return mk_err_set(err, MK_ERR_INVALID, "Cmd and Env must be arrays of strings");
    if (json_array_size(json_object_get(body, "Cmd")) == 0)
        return mk_err_set(err, MK_ERR_INVALID, "No exec command specified");
    if (mk_json_bool(body, "Privileged", false))
        return mk_err_set(err, MK_ERR_UNSUPPORTED, "exec --privileged is not supported by mocker yet");
    if (mk_api_stream_keys_valid(mk_json_str(body, "DetachKeys"), err) < 0)
        return -1;
    if (mk_api_engine(c, &e, err) < 0 || mk_container_get(e, mk_api_param(c, "id"), &ctr, err) < 0)
        return -1;
    int r = 0;
    if (strcmp(ctr->status, "paused") == 0)
        r = mk_err_set(err, MK_ERR_CONFLICT, "Container %s is paused, unpause the container before exec",
                       ctr->id);
    else if (!mk_container_is_running(ctr))
        r = mk_err_set(err, MK_ERR_CONFLICT, "Container %s is not running", ctr->id);
    if (r < 0) {
        mk_container_free(ctr);
        return -1;
    }
    struct exec_inst *x = xcalloc(1, sizeof(*x));
    _cleanup_free_ char *hex = mk_random_hex(64);
    snprintf(x->id, sizeof(x->id), "%s", hex);
    x->container_id = xstrdup(ctr->id);
    x->config = json_incref(body);
    x->pty_master = -1;
    mk_container_free(ctr);
    pthread_mutex_lock(&execs_lock);
    x->next = execs;
    execs = x;
    prune_locked();
    pthread_mutex_unlock(&execs_lock);
    _cleanup_json_ json_t *out = json_pack("{s:s}", "Id", x->id);
    return mk_http_reply_json(c->reply, 201, out);
}

static int exit_code_of(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void finish(struct exec_inst *x, int status)
{
    pthread_mutex_lock(&execs_lock);
    x->running = false;
    x->exited = true;
    x->exit_code = exit_code_of(status);
    x->pty_master = -1;
    x->ended_ns = mk_now_ns();
    pthread_mutex_unlock(&execs_lock);
}

static int wait_child(pid_t pid)
{
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

/* A detached exec: its output is dropped; this thread waits for its end. */
struct reaper {
    struct exec_inst *x;
    int drain_fd; /* the pty master, read so the process never blocks on it */
};

static void *reap(void *arg)
{
    struct reaper *r = arg;
    char buf[4096];
    if (r->drain_fd >= 0) {
        while (read(r->drain_fd, buf, sizeof(buf)) > 0) {
        }
        close(r->drain_fd);
    }
    finish(r->x, wait_child(r->x->pid));
    free(r);
    return NULL;
}

static void set_winsize(int fd, const json_t *size)
{
    if (fd < 0 || json_array_size(size) != 2)
        return;
    json_int_t h = json_integer_value(json_array_get(size, 0));
    json_int_t w = json_integer_value(json_array_get(size, 1));
    if (h <= 0 || w <= 0 || h > 0xffff || w > 0xffff)
        return;
    struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
    ioctl(fd, TIOCSWINSZ, &ws);
}

/* Relay a tty exec: client bytes to the pty, pty output to the client, until
 * the pty hangs up (every process holding it is gone). */
static void relay_pty(struct mk_api_stream *s, int master, bool in)
{
    char buf[32768];
    mk_buf input = {0};
    bool in_open = in;
    for (;;) {
        struct pollfd p[2] = {{.fd = master, .events = POLLIN},
                              {.fd = s->fd, .events = in_open ? POLLIN : 0}};
        if (!mk_api_stream_has_early(s) && poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (mk_api_stream_has_early(s) || (p[1].revents & POLLIN)) {
            ssize_t n = mk_api_stream_read(s, buf, sizeof(buf));
            if (n <= 0) {
                in_open = false; /* a tty has no EOF to pass on; the process goes on */
            } else {
                bool detach = mk_api_stream_filter_input(s, buf, (size_t)n, &input);
                if (mk_write_all(master, input.data, input.len) < 0 || detach)
                    break;
            }
            continue;
        }
        if (p[1].revents & (POLLHUP | POLLERR))
            break;
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(master, buf, sizeof(buf));
            if (n <= 0 || mk_api_stream_output(s, 1, buf, (size_t)n) < 0)
                break;
        }
    }
    mk_buf_free(&input);
}

/* Relay a non-tty exec: input to its stdin pipe (closed at the client's
 * EOF), both output pipes to the client in docker's framing, until the
 * process has exited and its pipes are drained. */
static void relay_pipes(struct mk_api_stream *s, int in_w, int out_r, int err_r, pid_t pid)
{
    char buf[32768];
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    int64_t drain_until = -1;
    int fds[2] = {out_r, err_r};
    for (;;) {
        if (fds[0] < 0 && fds[1] < 0)
            break;
        int timeout = -1;
        if (drain_until >= 0) {
            int64_t left = (drain_until - mk_monotonic_ns()) / 1000000;
            if (left <= 0)
                break;
            timeout = (int)left;
        }
        struct pollfd p[4] = {{.fd = fds[0], .events = POLLIN},
                              {.fd = fds[1], .events = POLLIN},
                              {.fd = in_w >= 0 ? s->fd : -1, .events = POLLIN},
                              {.fd = drain_until < 0 ? pidfd : -1, .events = POLLIN}};
        if (in_w >= 0 && mk_api_stream_has_early(s))
            p[2].revents = POLLIN;
        else if (poll(p, 4, timeout) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(fds[i], buf, sizeof(buf));
            if (n <= 0) {
                close(fds[i]);
                fds[i] = -1;
            } else if (mk_api_stream_output(s, i + 1, buf, (size_t)n) < 0) {
                goto out;
            }
        }
        if (p[2].revents & POLLIN) {
            ssize_t n = mk_api_stream_read(s, buf, sizeof(buf));
            if (n <= 0 || mk_write_all(in_w, buf, (size_t)n) < 0) {
                close(in_w); /* the process sees its EOF */
                in_w = -1;
            }
        }
        if (p[3].revents & POLLIN)
            drain_until = mk_monotonic_ns() + (int64_t)DRAIN_MS * 1000000;
    }
out:
    if (in_w >= 0)
        close(in_w);
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (pidfd >= 0)
        close(pidfd);
}

/* The process's stdio: pipes for the streams the exec attaches, /dev/null
 * for the others (and for all of them when detached). */
struct exec_io {
    int child[3]; /* given to the process */
    int in_w, out_r, err_r;
};

static void io_close(struct exec_io *io)
{
    for (int i = 0; i < 3; i++)
        if (io->child[i] >= 0)
            close(io->child[i]);
    int *ours[] = {&io->in_w, &io->out_r, &io->err_r};
    for (int i = 0; i < 3; i++)
        if (*ours[i] >= 0)
            close(*ours[i]);
}

static int io_open(struct exec_io *io, bool attach[3], mk_err **err)
{
    int *ours[] = {&io->in_w, &io->out_r, &io->err_r};
    for (int i = 0; i < 3; i++) {
        io->child[i] = -1;
        *ours[i] = -1;
    }
    for (int i = 0; i < 3; i++) {
        int p[2];
        if (!attach[i]) {
            io->child[i] = open("/dev/null", O_RDWR | O_CLOEXEC);
            if (io->child[i] < 0)
                return mk_err_sys(err, "open /dev/null");
            continue;
        }
        if (pipe2(p, O_CLOEXEC) < 0)
            return mk_err_sys(err, "pipe");
        io->child[i] = i == 0 ? p[0] : p[1];
        *ours[i] = i == 0 ? p[1] : p[0];
    }
    return 0;
}

int mk_api_exec_start(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    const char *id = mk_api_param(c, "id");
    _cleanup_json_ json_t *body = NULL;
    if (mk_api_json_body(c, NULL, &body, err) < 0)
        return -1;
    bool detach = mk_json_bool(body, "Detach", false);
    _cleanup_json_ json_t *config = NULL;
    _cleanup_free_ char *container = NULL;
    pthread_mutex_lock(&execs_lock);
    struct exec_inst *x = find_locked(id);
    bool was_started = x != NULL && x->started;
    if (x != NULL && !x->started) {
        x->started = true;
        config = json_deep_copy(x->config);
        container = xstrdup(x->container_id);
    }
    pthread_mutex_unlock(&execs_lock);
    if (x == NULL)
        return no_such_exec(id, err);
    if (was_started)
        return mk_err_set(err, MK_ERR_CONFLICT, "Error: Exec command %s is already running", id);
    /* the start's Tty wins, as in dockerd */
    bool tty = mk_json_bool(body, "Tty", mk_json_bool(config, "Tty", false));
    json_object_set_new(config, "Tty", json_boolean(tty));
    bool attach[3] = {!detach && mk_json_bool(config, "AttachStdin", false),
                      !detach && mk_json_bool(config, "AttachStdout", false),
                      !detach && mk_json_bool(config, "AttachStderr", false)};
    struct exec_io io;
    int master = -1;
    pid_t pid = -1;
    int r = io_open(&io, attach, err);
    if (r == 0)
        r = mk_api_engine(c, &e, err);
    /* An attached start answers its head before the process runs, as
     * dockerd does: a client that reads the head through a buffer (docker-py)
     * would otherwise swallow the first output with it. */
    struct mk_api_stream s = {.fd = -1};
    mk_err *failed = NULL;
    if (r == 0 && !detach)
        r = mk_api_stream_begin(c, &s, tty, err);
    bool streaming = r == 0 && !detach;
    if (r == 0)
        r = mk_container_exec(e, container, config, io.child[0], io.child[1], io.child[2],
                              tty ? &master : NULL, &pid, streaming ? &failed : err);
    for (int i = 0; i < 3; i++) {
        if (io.child[i] >= 0)
            close(io.child[i]);
        io.child[i] = -1;
    }
    if (r < 0 && streaming) {
        /* past the head, the failure is the stream's text, as in dockerd,
         * and the exec's code is 126 (127: no such command) */
        _cleanup_free_ char *text = xasprintf("%s\r\n", failed->msg);
        mk_api_stream_output(&s, 1, text, strlen(text));
        finish(x, (failed->kind == MK_ERR_NOT_FOUND ? 127 : 126) << 8);
        mk_err_free(failed);
        io_close(&io);
        shutdown(s.fd, SHUT_RDWR);
        mk_api_stream_clear(&s);
        return 0;
    }
    if (r < 0) {
        io_close(&io);
        pthread_mutex_lock(&execs_lock);
        x->started = false; /* nothing ran: it may be started again */
        pthread_mutex_unlock(&execs_lock);
        return -1;
    }
    set_winsize(master, json_object_get(body, "ConsoleSize"));
    pthread_mutex_lock(&execs_lock);
    x->running = true;
    x->pid = pid;
    x->pty_master = master;
    pthread_mutex_unlock(&execs_lock);
    if (detach) {
        io_close(&io);
        struct reaper *rp = xcalloc(1, sizeof(*rp));
        rp->x = x;
        rp->drain_fd = master;
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, reap, rp) != 0)
            reap(rp); /* no thread to spare: wait here */
        pthread_attr_destroy(&attr);
        return mk_http_reply_send(c->reply, 200, "application/json", NULL, 0);
    }
    mk_api_stream_detach_keys(&s, mk_json_str(config, "DetachKeys"), NULL);
    if (tty)
        relay_pty(&s, master, attach[0]);
    else
        relay_pipes(&s, io.in_w, io.out_r, io.err_r, pid);
    io.in_w = io.out_r = io.err_r = -1; /* closed by the relay */
    io_close(&io);
    /* the code is recorded before the client sees the end: the docker CLI
     * inspects the exec for it as soon as the stream closes */
    if (master >= 0) {
        pthread_mutex_lock(&execs_lock);
        x->pty_master = -1;
        pthread_mutex_unlock(&execs_lock);
        close(master);
    }
    finish(x, wait_child(pid));
    shutdown(s.fd, SHUT_RDWR);
    mk_api_stream_clear(&s);
    return 0;
}

int mk_api_exec_resize(struct mk_api_ctx *c, mk_err **err)
{
    long h, w;
    const char *id = mk_api_param(c, "id");
    if (mk_api_query_int(c->req, "h", 0, &h, err) < 0 || mk_api_query_int(c->req, "w", 0, &w, err) < 0)
        return -1;
    if (h < 0 || w < 0 || h > 0xffff || w > 0xffff)
        return mk_err_set(err, MK_ERR_INVALID, "invalid terminal size %ldx%ld", h, w);
    pthread_mutex_lock(&execs_lock);
    struct exec_inst *x = find_locked(id);
    int master = x != NULL ? x->pty_master : -1;
    if (master >= 0) {
        struct winsize ws = {.ws_row = (unsigned short)h, .ws_col = (unsigned short)w};
        ioctl(master, TIOCSWINSZ, &ws);
    }
    pthread_mutex_unlock(&execs_lock);
    if (x == NULL)
        return no_such_exec(id, err);
    return mk_http_reply_send(c->reply, 200, "text/plain; charset=utf-8", NULL, 0);
}

int mk_api_exec_inspect(struct mk_api_ctx *c, mk_err **err)
{
    const char *id = mk_api_param(c, "id");
    _cleanup_json_ json_t *out = NULL;
    pthread_mutex_lock(&execs_lock);
    struct exec_inst *x = find_locked(id);
    if (x != NULL) {
        const json_t *cfg = x->config;
        const json_t *cmd = json_object_get(cfg, "Cmd");
        json_t *args = json_array();
        for (size_t i = 1; i < json_array_size(cmd); i++)
            json_array_append(args, json_array_get(cmd, i));
        const char *user = mk_json_str(cfg, "User");
        json_t *proc = json_pack("{s:o,s:s,s:b,s:b,s:s}", "arguments", args, "entrypoint",
                                 json_string_value(json_array_get(cmd, 0)), "privileged", false,
                                 "tty", mk_json_bool(cfg, "Tty", false), "user", user ? user : "");
        const char *keys = mk_json_str(cfg, "DetachKeys");
        out = json_pack("{s:b,s:s,s:s,s:o,s:s,s:b,s:b,s:b,s:o,s:b,s:I}", "CanRemove", false,
                        "ContainerID", x->container_id, "DetachKeys", keys ? keys : "", "ExitCode",
                        x->exited ? json_integer(x->exit_code) : json_null(), "ID", x->id,
                        "OpenStderr", mk_json_bool(cfg, "AttachStderr", false), "OpenStdin",
                        mk_json_bool(cfg, "AttachStdin", false), "OpenStdout",
                        mk_json_bool(cfg, "AttachStdout", false), "ProcessConfig", proc, "Running",
                        x->running, "Pid", (json_int_t)(x->started ? x->pid : 0));
    }
    pthread_mutex_unlock(&execs_lock);
    if (out == NULL)
        return no_such_exec(id, err);
    return mk_http_reply_json(c->reply, 200, out);
}
