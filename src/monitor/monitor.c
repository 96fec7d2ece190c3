/* monitor.c: the per-container monitor's event loop (conmon's job, built in).
 *
 * One epoll loop, no threads and no timers on the normal path: the container's
 * output (pipes, or the pty master) goes to the json-file log and to every
 * attach client; client frames feed the container's stdin and pty size; a
 * signalfd reaps children (we are their subreaper).  When the init exits, the
 * remaining output is drained, the exit is reported through the hooks and to
 * the clients, and the monitor returns, unless the restart policy (a hook)
 * wants the container again: then it waits the back-off, listening, and runs
 * it anew with the same log and attach socket.
 *
 * Slow clients: each client has its own output buffer.  While one holds more
 * than CLIENT_HWM the monitor stops reading the container's output (docker
 * blocks the container the same way), and a client that takes nothing for
 * CLIENT_STALL_NS is dropped so it cannot hold the container forever. */
#include "monitor/internal.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#define OUTPUT_CHUNK     65536
#define CLIENT_HWM       (1u << 20)
#define CLIENT_HARD_MAX  (16u << 20) /* after the exit, when output is no longer paused */
#define CLIENT_STALL_NS  (10LL * 1000000000)
#define STDIN_HWM        (1u << 20)
#define DRAIN_NS         (50LL * 1000000) /* output still arriving after the init exited */
#define FLUSH_TIMEOUT_NS (5LL * 1000000000)

enum tag_kind { TAG_SIGNAL, TAG_LISTEN, TAG_OUTPUT, TAG_STDIN, TAG_CLIENT, TAG_HEALTH, TAG_SOURCE };

/* Every epoll registration points at a struct starting with its kind. */
struct output {
    enum tag_kind kind;
    int fd;
    const char *stream;
    enum mk_frame_type frame;
    bool registered;
};

struct stdin_sink {
    enum tag_kind kind;
    int fd; /* pipe write end or a dup of the pty master; -1 when closed */
    mk_buf buf;
    size_t off;
    bool close_when_flushed;
    bool registered;
};

struct client {
    enum tag_kind kind;
    int fd;
    mk_buf out;
    size_t out_off;
    struct mk_frame_reader in;
    bool initial; /* the client_fd we were started with */
    bool in_eof;
    bool got_exit; /* saw this run's EXIT: closed before the next run */
    uint32_t events;
    int64_t stall_since; /* monotonic ns; 0 when not over CLIENT_HWM */
    struct client *next;
};

struct monitor {
    const struct mk_monitor_params *p;
    struct mk_rootfs_job *rootfs; /* for the first start only */
    int epfd, sigfd, listen_fd;
    enum tag_kind sig_tag, listen_tag;
    bool listen_registered; /* false while out of fds: accepting waits for a drop */
    struct output out[2];
    int nout;
    struct stdin_sink in;
    int pty_master;
    struct client *clients;
    struct mk_log_writer *log;
    char *sock_path;
    pid_t pid;
    bool exited;
    int status;
    bool outputs_paused;
    struct health_runner *health; /* NULL without a healthcheck */
    enum tag_kind health_tag;
    bool stop_requested; /* a STOP frame: no restart after this run */
    int64_t started_ns;  /* monotonic, the current run's start */
    int mounts;          /* keeps the run's rootfs mounted (mk_runtime_run) */
    enum tag_kind source_tag;
    bool source_registered;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void ep_set(struct monitor *m, int fd, void *tag, uint32_t events, bool *registered)
{
    struct epoll_event ev = {.events = events, .data.ptr = tag};
    if (events == 0) {
        if (*registered)
            epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
        *registered = false;
        return;
    }
    if (epoll_ctl(m->epfd, *registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) == 0)
        *registered = true;
}

/* ---- the container's output ---- */

static void output_close(struct monitor *m, struct output *o)
{
    if (o->fd < 0)
        return;
    ep_set(m, o->fd, o, 0, &o->registered);
    close(o->fd);
    o->fd = -1;
    if (m->log != NULL) {
        _cleanup_err_ mk_err *err = NULL;
        mk_log_writer_flush(m->log, o->stream, &err);
    }
}

static bool outputs_open(const struct monitor *m)
{
    for (int i = 0; i < m->nout; i++)
        if (m->out[i].fd >= 0)
            return true;
    return false;
}

static void outputs_set_paused(struct monitor *m, bool paused)
{
    m->outputs_paused = paused;
    for (int i = 0; i < m->nout; i++)
        if (m->out[i].fd >= 0)
            ep_set(m, m->out[i].fd, &m->out[i], paused ? 0 : EPOLLIN, &m->out[i].registered);
}

/* ---- clients ---- */

static bool stdin_backlogged(const struct monitor *m)
{
    return m->in.buf.len - m->in.off > STDIN_HWM;
}

static void client_update(struct monitor *m, struct client *c)
{
    uint32_t ev = 0;
    if (!c->in_eof && !stdin_backlogged(m))
        ev |= EPOLLIN;
    if (c->out.len > c->out_off)
        ev |= EPOLLOUT;
    if (ev == c->events)
        return;
    /* Registered even with no events, so a hangup is still reported. */
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(m->epfd, EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

static void stdin_request_close(struct monitor *m);

/* The client will send no more input (EOF or gone): docker's StdinOnce closes
 * the container's stdin when the attach that started it ends; with a tty that
 * would hang up the terminal, so docker leaves it alone there. */
static void client_input_ended(struct monitor *m, struct client *c)
{
    if (c->initial && m->p->stdin_once && !m->p->tty)
        stdin_request_close(m);
}

static void client_drop(struct monitor *m, struct client *c)
{
    for (struct client **pp = &m->clients; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    epoll_ctl(m->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    if (m->listen_fd >= 0 && !m->listen_registered)
        ep_set(m, m->listen_fd, &m->listen_tag, EPOLLIN, &m->listen_registered);
    /* shutdown, not only close: the caller of mk_monitor_main may hold a copy. */
    shutdown(c->fd, SHUT_RDWR);
    close(c->fd);
    if (!c->in_eof)
        client_input_ended(m, c);
    mk_buf_free(&c->out);
    mk_frame_reader_free(&c->in);
    free(c);
}

/* NULL if the client could not be watched (its fd is closed then). */
static struct client *client_add(struct monitor *m, int fd, bool initial)
{
    struct client *c = xcalloc(1, sizeof(*c));
    c->kind = TAG_CLIENT;
    c->fd = fd;
    c->initial = initial;
    c->events = EPOLLIN;
    struct epoll_event e = {.events = c->events, .data.ptr = c};
    if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
        close(fd);
        free(c);
        return NULL;
    }
    c->next = m->clients;
    m->clients = c;
    return c;
}

/* Send what the socket takes now.  -1: the client is gone. */
static int client_flush(struct client *c)
{
    bool progress = false;
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            return -1;
        }
        c->out_off += (size_t)n;
        progress = true;
    }
    if (c->out_off == c->out.len) {
        c->out.len = c->out_off = 0;
    } else if (c->out_off >= CLIENT_HWM) {
        memmove(c->out.data, c->out.data + c->out_off, c->out.len - c->out_off);
        c->out.len -= c->out_off;
        c->out_off = 0;
    }
    if (progress && c->stall_since != 0)
        c->stall_since = mono_ns();
    return 0;
}

/* Pause the container's output while a client is over its high-water mark;
 * after the exit, drop a client that holds too much instead. */
static void update_backpressure(struct monitor *m)
{
    bool over = false;
    int64_t now = mono_ns();
    struct client *next;
    for (struct client *c = m->clients; c != NULL; c = next) {
        next = c->next;
        size_t pending = c->out.len - c->out_off;
        if (m->exited && pending > CLIENT_HARD_MAX) {
            client_drop(m, c);
            continue;
        }
        if (pending > CLIENT_HWM) {
            if (c->stall_since == 0)
                c->stall_since = now;
        } else if (pending <= CLIENT_HWM / 2) {
            c->stall_since = 0;
        }
        if (c->stall_since != 0)
            over = true;
    }
    if (m->exited)
        over = false;
    if (over != m->outputs_paused)
        outputs_set_paused(m, over);
}

static void broadcast(struct monitor *m, enum mk_frame_type type, const void *data, size_t len)
{
    uint8_t hdr[MK_FRAME_HEADER_LEN];
    mk_frame_header(hdr, type, (uint32_t)len);
    struct client *next;
    for (struct client *c = m->clients; c != NULL; c = next) {
        next = c->next;
        mk_buf_append(&c->out, hdr, sizeof(hdr));
        if (len > 0)
            mk_buf_append(&c->out, data, len);
        if (client_flush(c) < 0)
            client_drop(m, c);
        else
            client_update(m, c);
    }
    update_backpressure(m);
}

static void broadcast_text(struct monitor *m, enum mk_frame_type type, const char *text)
{
    broadcast(m, type, text, strlen(text));
}

/* ---- the container's stdin ---- */

static void clients_update_all(struct monitor *m)
{
    for (struct client *c = m->clients; c != NULL; c = c->next)
        client_update(m, c);
}

static void stdin_close(struct monitor *m)
{
    struct stdin_sink *s = &m->in;
    bool was_backlogged = stdin_backlogged(m);
    if (s->fd >= 0) {
        ep_set(m, s->fd, s, 0, &s->registered);
        close(s->fd);
        s->fd = -1;
    }
    mk_buf_free(&s->buf);
    s->off = 0;
    if (was_backlogged)
        clients_update_all(m);
}

static void stdin_flush(struct monitor *m)
{
    struct stdin_sink *s = &m->in;
    bool was_backlogged = stdin_backlogged(m);
    if (s->fd < 0) {
        stdin_close(m);
        return;
    }
    while (s->off < s->buf.len) {
        ssize_t n = write(s->fd, s->buf.data + s->off, s->buf.len - s->off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            /* EPIPE: nobody reads the container's stdin any more. */
            stdin_close(m);
            return;
        }
        s->off += (size_t)n;
    }
    if (s->off == s->buf.len) {
        s->buf.len = s->off = 0;
        if (s->close_when_flushed) {
            stdin_close(m);
            return;
        }
    }
    ep_set(m, s->fd, s, s->off < s->buf.len ? EPOLLOUT : 0, &s->registered);
    if (was_backlogged != stdin_backlogged(m))
        clients_update_all(m);
}

static void stdin_request_close(struct monitor *m)
{
    if (m->p->tty || m->in.fd < 0)
        return;
    m->in.close_when_flushed = true;
    stdin_flush(m);
}

/* ---- client frames ---- */

static void handle_frame(struct monitor *m, struct client *from, enum mk_frame_type type,
                         const char *data, size_t len)
{
    char text[64];
    switch (type) {
    case MK_FRAME_STDIN:
        if (m->p->open_stdin && m->in.fd >= 0 && !m->in.close_when_flushed)
            mk_buf_append(&m->in.buf, data, len);
        break;
    case MK_FRAME_CLOSE_STDIN:
        if (m->p->stdin_once)
            stdin_request_close(m);
        break;
    case MK_FRAME_STOP: {
        /* Marked before the signal, so the exit it causes is final. */
        int sig = 0;
        if (len < sizeof(text)) {
            memcpy(text, data, len);
            text[len] = '\0';
            sig = atoi(text);
            /* `restart`: the container is started again, not removed. */
            if (strstr(text, " keep") != NULL && m->p->hooks.keep != NULL)
                m->p->hooks.keep(m->p->hooks.ctx);
        }
        m->stop_requested = true;
        if (sig > 0 && !m->exited && m->pid > 0)
            kill(m->pid, sig);
        break;
    }
    case MK_FRAME_NET_CHANGED: {
        int fd = m->p->net_changed != NULL ? m->p->net_changed(m->p->source_ctx) : -1;
        if (fd >= 0 && !m->source_registered) {
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &m->source_tag};
            m->source_tag = TAG_SOURCE;
            m->source_registered = epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
        }
        /* Answered once done (queued: the loop sends it), so that `network
         * connect` returns with the container's resolv.conf already naming
         * the server. */
        uint8_t hdr[MK_FRAME_HEADER_LEN];
        mk_frame_header(hdr, MK_FRAME_NET_CHANGED, 0);
        mk_buf_append(&from->out, hdr, sizeof(hdr));
        client_update(m, from);
        break;
    }
    case MK_FRAME_RESIZE: {
        unsigned rows, cols;
        if (m->pty_master < 0 || len >= sizeof(text))
            break;
        memcpy(text, data, len);
        text[len] = '\0';
        if (sscanf(text, "%u %u", &rows, &cols) != 2 || rows > 0xffff || cols > 0xffff)
            break;
        struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
        ioctl(m->pty_master, TIOCSWINSZ, &ws);
        break;
    }
    case MK_FRAME_STDOUT:
    case MK_FRAME_STDERR:
    case MK_FRAME_STARTED:
    case MK_FRAME_ERROR:
    case MK_FRAME_EXIT:
    default:
        /* Monitor-to-client frames coming the other way are ignored. */
        break;
    }
}

static void client_read(struct monitor *m, struct client *c)
{
    ssize_t n = mk_frame_reader_fill(&c->in, c->fd);
    if (n < 0) {
        if (errno != EAGAIN)
            client_drop(m, c);
        return;
    }
    if (n == 0) {
        /* Half-closed: no more input, but the client may still want output. */
        c->in_eof = true;
        client_input_ended(m, c);
        client_update(m, c);
        return;
    }
    enum mk_frame_type type;
    const char *data;
    size_t len;
    int r;
    while ((r = mk_frame_reader_next(&c->in, &type, &data, &len)) > 0)
        handle_frame(m, c, type, data, len);
    if (m->in.buf.len > m->in.off)
        stdin_flush(m);
    if (r < 0)
        client_drop(m, c);
}

static void accept_clients(struct monitor *m)
{
    for (;;) {
        int fd = accept4(m->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            /* Out of fds: the pending connection keeps the socket readable,
             * so stop watching it until a client goes (or we would spin). */
            if (errno == EMFILE || errno == ENFILE)
                ep_set(m, m->listen_fd, &m->listen_tag, 0, &m->listen_registered);
            return;
        }
        struct client *c = client_add(m, fd, false);
        if (c != NULL)
            client_update(m, c);
    }
}

/* ---- children ---- */

static void reap(struct monitor *m)
{
    for (;;) {
        int status;
        pid_t r = waitpid(-1, &status, WNOHANG);
        if (r <= 0)
            return;
        if (r == m->pid && !m->exited) {
            m->exited = true;
            m->status = status;
        } else {
            health_runner_child(m->health, r, status);
        }
    }
}

static void read_signals(struct monitor *m)
{
    struct signalfd_siginfo si[16];
    bool child = false;
    for (;;) {
        ssize_t n = read(m->sigfd, si, sizeof(si));
        if (n <= 0)
            break;
        for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++)
            child |= si[i].ssi_signo == SIGCHLD;
    }
    /* SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE: consumed and ignored.  The
     * engine stops a container by signalling its init, never the monitor. */
    if (child)
        reap(m);
}

/* ---- output ---- */

/* One read: 1 data, 0 nothing now, -1 closed. */
static int output_read(struct monitor *m, struct output *o)
{
    char buf[OUTPUT_CHUNK];
    if (o->fd < 0)
        return -1;
    ssize_t n;
    do
        n = read(o->fd, buf, sizeof(buf));
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        if (m->log != NULL) {
            /* A full disk must not stop the container or its attach clients. */
            _cleanup_err_ mk_err *err = NULL;
            mk_log_writer_write(m->log, o->stream, buf, (size_t)n, &err);
        }
        broadcast(m, o->frame, buf, (size_t)n);
        return 1;
    }
    if (n < 0 && errno == EAGAIN)
        return 0;
    /* EOF, or EIO from a pty master whose slave side is all closed. */
    output_close(m, o);
    return -1;
}

/* Read every output until it has nothing more right now. */
static void outputs_drain(struct monitor *m)
{
    for (int i = 0; i < m->nout; i++) {
        /* Bounded: a grandchild that writes without pause must not keep us here. */
        for (int k = 0; k < 256 && output_read(m, &m->out[i]) > 0; k++) {
        }
    }
}

/* ---- the loop ---- */

static void dispatch(struct monitor *m, struct epoll_event *ev)
{
    enum tag_kind *kind = ev->data.ptr;
    switch (*kind) {
    case TAG_SIGNAL:
        read_signals(m);
        break;
    case TAG_LISTEN:
        accept_clients(m);
        break;
    case TAG_OUTPUT:
        output_read(m, (struct output *)kind);
        break;
    case TAG_STDIN:
        if (ev->events & (EPOLLERR | EPOLLHUP))
            stdin_close(m);
        else
            stdin_flush(m);
        break;
    case TAG_SOURCE:
        m->p->source_process(m->p->source_ctx);
        break;
    case TAG_HEALTH:
        /* No probes into a container whose init is gone. */
        if (!m->exited)
            health_runner_event(m->health);
        break;
    case TAG_CLIENT: {
        struct client *c = (struct client *)kind;
        if (ev->events & EPOLLOUT) {
            if (client_flush(c) < 0) {
                client_drop(m, c);
                break;
            }
            client_update(m, c); /* backpressure is rechecked after the batch */
        }
        if ((ev->events & EPOLLIN) && !c->in_eof) {
            client_read(m, c);
            break; /* c may be gone; a hangup shows up again next round */
        }
        if (ev->events & (EPOLLERR | EPOLLHUP))
            client_drop(m, c);
        break;
    }
    default:
        break;
    }
}

/* Drop clients that took nothing for CLIENT_STALL_NS; returns the epoll
 * timeout (ms) until the next one would be due, or -1. */
static int expire_stalled(struct monitor *m)
{
    int64_t now = mono_ns(), next_due = 0;
    struct client *next;
    for (struct client *c = m->clients; c != NULL; c = next) {
        next = c->next;
        if (c->stall_since == 0)
            continue;
        int64_t due = c->stall_since + CLIENT_STALL_NS;
        if (due <= now) {
            client_drop(m, c);
            continue;
        }
        if (next_due == 0 || due < next_due)
            next_due = due;
    }
    update_backpressure(m);
    if (next_due == 0)
        return -1;
    return (int)((next_due - now) / 1000000) + 1;
}

static int ms_until(int64_t deadline)
{
    int64_t left = deadline - mono_ns();
    return left <= 0 ? 0 : (int)(left / 1000000) + 1;
}

static void loop_once(struct monitor *m, int timeout)
{
    struct epoll_event evs[32];
    int n = epoll_wait(m->epfd, evs, 32, timeout);
    for (int i = 0; i < n; i++) {
        /* A client dropped earlier in this batch may still have an event here. */
        if (*(enum tag_kind *)evs[i].data.ptr == TAG_CLIENT) {
            bool alive = false;
            for (struct client *c = m->clients; c != NULL && !alive; c = c->next)
                alive = (void *)c == evs[i].data.ptr;
            if (!alive)
                continue;
        }
        dispatch(m, &evs[i]);
    }
    if (n > 0)
        update_backpressure(m);
}

static void run_until_exit(struct monitor *m)
{
    int64_t drain_deadline = 0;
    for (;;) {
        if (m->exited && drain_deadline == 0) {
            drain_deadline = mono_ns() + DRAIN_NS;
            update_backpressure(m); /* never paused while draining */
            outputs_drain(m);
        }
        if (m->exited && (!outputs_open(m) || mono_ns() >= drain_deadline)) {
            outputs_drain(m);
            return;
        }
        int timeout = expire_stalled(m);
        if (m->p->source_process != NULL) {
            int t = m->p->source_timeout_ms(m->p->source_ctx);
            if (t == 0) {
                m->p->source_process(m->p->source_ctx);
                t = m->p->source_timeout_ms(m->p->source_ctx);
            }
            timeout = timeout < 0 || (t >= 0 && t < timeout) ? t : timeout;
        }
        if (m->exited) {
            int t = ms_until(drain_deadline);
            timeout = timeout < 0 || t < timeout ? t : timeout;
        }
        loop_once(m, timeout);
    }
}

static bool clients_pending(const struct monitor *m)
{
    for (const struct client *c = m->clients; c != NULL; c = c->next)
        if (c->out.len > c->out_off)
            return true;
    return false;
}

/* EXIT to every client, then give them (bounded) time to take it. */
static void send_exit(struct monitor *m, int code)
{
    char text[16];
    snprintf(text, sizeof(text), "%d", code);
    broadcast_text(m, MK_FRAME_EXIT, text);
    for (struct client *c = m->clients; c != NULL; c = c->next)
        c->got_exit = true;
    int64_t deadline = mono_ns() + FLUSH_TIMEOUT_NS;
    while (clients_pending(m) && mono_ns() < deadline)
        loop_once(m, ms_until(deadline));
}

/* Report the final exit to every client, including any still in the listen
 * queue.  The listening socket is closed after: its last close frees the
 * unlinked socket's inode, 0.15-0.3 ms on a disk's /run (ext4 here), which
 * `run --rm` would otherwise wait for. */
static void report_exit(struct monitor *m, int code)
{
    _cleanup_close_ int listen_fd = -1;
    if (m->listen_fd >= 0) {
        unlink(m->sock_path);
        accept_clients(m);
        epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->listen_fd, NULL);
        /* Listening ends here: nothing accepts or watches it any more. */
        listen_fd = steal_fd(&m->listen_fd);
    }
    send_exit(m, code);
}

/* ---- restart policy ---- */

/* Ask the policy, after reading any STOP frame sent just before the exit
 * (two rounds: one accepts a new connection, the next reads it). */
static int64_t restart_delay(struct monitor *m)
{
    loop_once(m, 0);
    loop_once(m, 0);
    if (m->stop_requested || m->p->hooks.restart_delay == NULL)
        return -1;
    return m->p->hooks.restart_delay(m->p->hooks.ctx, m->status, mono_ns() - m->started_ns);
}

/* As docker: attach, run and wait end at every exit, restarted or not. */
static void drop_notified_clients(struct monitor *m)
{
    struct client *next;
    /* A `stop` that connected around the exit may have its STOP frame still
     * unread: read what each client sent before letting it go, so the STOP
     * cancels the restart (the back-off checks it first) instead of being
     * lost while `stop` reports success.  client_read may drop the client. */
    for (struct client *c = m->clients; c != NULL; c = next) {
        next = c->next;
        if (c->got_exit && !c->in_eof)
            client_read(m, c);
    }
    for (struct client *c = m->clients; c != NULL; c = next) {
        next = c->next;
        if (c->got_exit)
            client_drop(m, c);
    }
}

/* The back-off, still serving the attach socket; false when a STOP ended it. */
static bool wait_backoff(struct monitor *m, int64_t delay_ns)
{
    int64_t deadline = mono_ns() + delay_ns;
    while (!m->stop_requested && mono_ns() < deadline) {
        int timeout = expire_stalled(m);
        int t = ms_until(deadline);
        loop_once(m, timeout < 0 || t < timeout ? t : timeout);
    }
    return !m->stop_requested;
}

/* ---- setup ---- */

static void swallow_signal(int sig)
{
    (void)sig;
}

static const int monitor_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE};

/* Until the container runs: SIGTERM & co. must not kill us, yet the container
 * must not inherit a blocked or ignored signal.  A handler does both, since
 * exec resets handled signals to their default. */
static int setup_before_start(mk_err **err)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        return mk_err_sys(err, "set child subreaper");
    struct sigaction sa = {.sa_handler = swallow_signal, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(monitor_signals) / sizeof(monitor_signals[0]); i++)
        if (sigaction(monitor_signals[i], &sa, NULL) < 0)
            return mk_err_sys(err, "sigaction");
    return 0;
}

static void monitor_sigset(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    for (size_t i = 0; i < sizeof(monitor_signals) / sizeof(monitor_signals[0]); i++)
        sigaddset(set, monitor_signals[i]);
}

/* Once the container runs, every signal comes through the signalfd.  A child
 * that ended before this is found by the reap() that follows. */
static int setup_signalfd(struct monitor *m, mk_err **err)
{
    sigset_t set;
    monitor_sigset(&set);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return mk_err_sys(err, "block signals");
    m->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (m->sigfd < 0)
        return mk_err_sys(err, "signalfd");
    m->sig_tag = TAG_SIGNAL;
    bool reg = false;
    ep_set(m, m->sigfd, &m->sig_tag, EPOLLIN, &reg);
    return reg ? 0 : mk_err_sys(err, "epoll add");
}

static void output_init(struct monitor *m, int fd, const char *stream, enum mk_frame_type frame)
{
    struct output *o = &m->out[m->nout++];
    o->kind = TAG_OUTPUT;
    o->fd = fd;
    o->stream = stream;
    o->frame = frame;
    mk_fd_set_nonblock(fd, true);
    ep_set(m, fd, o, EPOLLIN, &o->registered);
}

static int make_pipe(int fds[2], mk_err **err)
{
    if (pipe2(fds, O_CLOEXEC) < 0)
        return mk_err_sys(err, "pipe");
    return 0;
}

static void close_pair(int fds[2])
{
    mk_closep(&fds[0]);
    mk_closep(&fds[1]);
}

/* Runs the container; on success the monitor holds the container's stdio. */
static int start_container(struct monitor *m, mk_err **err)
{
    const struct mk_monitor_params *p = m->p;
    int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, in_pipe[2] = {-1, -1};
    int console[2] = {-1, -1};
    struct mk_runtime_io io = {.stdin_fd = -1,
                               .stdout_fd = -1,
                               .stderr_fd = -1,
                               .console_sock = -1,
                               .setting_up = p->hooks.starting,
                               .setting_up_ctx = p->hooks.ctx,
                               .before_exec = p->hooks.before_exec,
                               .rootfs = m->rootfs};
    m->rootfs = NULL;
    int ret = -1;
    if (p->tty) {
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0) {
            mk_err_sys(err, "socketpair");
            goto out;
        }
        io.console_sock = console[1];
    } else {
        if (make_pipe(out_pipe, err) < 0 || make_pipe(err_pipe, err) < 0)
            goto out;
        io.stdout_fd = out_pipe[1];
        io.stderr_fd = err_pipe[1];
        if (p->open_stdin) {
            if (make_pipe(in_pipe, err) < 0)
                goto out;
            io.stdin_fd = in_pipe[0];
        }
    }
    pid_t pid;
    int r = p->runtime != NULL ? mk_runtime_run_external(p->runtime, p->runtime_root, p->bundle,
                                                         p->spec, p->id, &io, &pid, err)
                               : mk_runtime_run(p->bundle, p->spec, p->id, &io, &pid,
                                                &m->mounts, err);
    if (r < 0)
        goto out;
    m->pid = pid;
    if (p->tty) {
        /* With our copy of the runtime's end closed, a runtime that sent no
         * master gives EOF here instead of a hang. */
        mk_closep(&console[1]);
        int master = mk_recv_fd(console[0], err);
        if (master < 0) {
            mk_err_wrap(err, "receive the container's pty");
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            goto out;
        }
        m->pty_master = master;
        /* Separate fds for reading and writing, so each has its own epoll entry. */
        int rd = fcntl(master, F_DUPFD_CLOEXEC, 3);
        int wr = p->open_stdin ? fcntl(master, F_DUPFD_CLOEXEC, 3) : -2;
        if (rd < 0 || wr == -1) {
            mk_err_sys(err, "dup the container's pty");
            mk_closep(&rd);
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            goto out;
        }
        output_init(m, rd, "stdout", MK_FRAME_STDOUT);
        m->in.fd = wr >= 0 ? wr : -1;
    } else {
        output_init(m, steal_fd(&out_pipe[0]), "stdout", MK_FRAME_STDOUT);
        output_init(m, steal_fd(&err_pipe[0]), "stderr", MK_FRAME_STDERR);
        m->in.fd = steal_fd(&in_pipe[1]);
    }
    if (m->in.fd >= 0)
        mk_fd_set_nonblock(m->in.fd, true);
    ret = 0;
out:
    close_pair(out_pipe);
    close_pair(err_pipe);
    close_pair(in_pipe);
    close_pair(console);
    return ret;
}

/* The previous run's stdio is closed (finish_run): start the container again
 * with our signals unblocked while the runtime works, since the container
 * would inherit the mask (the swallowing handlers are still in place). */
static int rerun_container(struct monitor *m, mk_err **err)
{
    sigset_t set;
    monitor_sigset(&set);
    m->exited = false;
    m->status = 0;
    m->pid = 0;
    m->nout = 0;
    m->in.close_when_flushed = false;
    mk_closep(&m->pty_master);
    mk_closep(&m->mounts);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    int r = start_container(m, err);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (r < 0)
        return -1;
    reap(m);
    return 0;
}

static int open_log(struct monitor *m, mk_err **err)
{
    const struct mk_monitor_params *p = m->p;
    const char *driver = p->log_driver != NULL ? p->log_driver : "json-file";
    if (strcmp(driver, "none") == 0)
        return 0;
    if (strcmp(driver, "json-file") != 0)
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "failed to create task for container: log driver %s is not supported "
                          "by mocker (json-file and none are)",
                          driver);
    if (p->log_path == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "json-file log: no log path");
    if (mk_log_writer_open(p->log_path, p->log_max_size, p->log_max_file > 0 ? p->log_max_file : 1,
                           &m->log, err) < 0)
        return mk_err_wrap(err, "failed to initialize logging driver");
    return 0;
}

static void monitor_cleanup(struct monitor *m)
{
    health_runner_free(m->health);
    m->health = NULL;
    while (m->clients != NULL)
        client_drop(m, m->clients);
    for (int i = 0; i < m->nout; i++)
        output_close(m, &m->out[i]);
    stdin_close(m);
    mk_log_writer_free(m->log);
    m->log = NULL;
    if (m->listen_fd >= 0) {
        unlink(m->sock_path);
        close(m->listen_fd);
    }
    mk_closep(&m->pty_master);
    mk_closep(&m->mounts);
    mk_closep(&m->sigfd);
    mk_closep(&m->epfd);
    free(m->sock_path);
    /* Whatever else ended meanwhile (orphans of the container). */
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

static int default_exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 255;
}

static void announce_started(struct monitor *m)
{
    m->started_ns = mono_ns();
    if (m->p->hooks.started != NULL)
        m->p->hooks.started(m->p->hooks.ctx, m->pid);
}

/* The run ended: its stdio is closed, partial log lines written. */
static void finish_run(struct monitor *m)
{
    mk_trace("monitor-child-exited");
    for (int i = 0; i < m->nout; i++)
        output_close(m, &m->out[i]);
    stdin_close(m);
}

/* One run of the container, with its healthchecks while it runs. */
static void run_checked(struct monitor *m)
{
    if (m->p->health != NULL) {
        _cleanup_err_ mk_err *herr = NULL;
        m->health_tag = TAG_HEALTH;
        /* Without a timer the container still runs, unchecked, as in docker
         * when a probe cannot be set up. */
        m->health = health_runner_new(m->p, m->pid, m->epfd, &m->health_tag, &herr);
    }
    run_until_exit(m);
    health_runner_free(m->health);
    m->health = NULL;
}

/* Run the started container until it exits for good; returns the exit code
 * to report. */
static int run_with_policy(struct monitor *m)
{
    const struct mk_monitor_hooks *h = &m->p->hooks;
    for (;;) {
        run_checked(m);
        finish_run(m);
        int64_t delay = restart_delay(m);
        if (delay < 0) {
            /* The log is complete before anyone learns of the final exit. */
            mk_log_writer_free(m->log);
            m->log = NULL;
        }
        if (!m->p->unmount_late)
            mk_closep(&m->mounts);
        int code = h->exited != NULL
                       ? h->exited(h->ctx, m->status, mk_runtime_oom_killed(m->p->spec))
                       : default_exit_code(m->status);
        if (delay < 0)
            return code;
        send_exit(m, code);
        drop_notified_clients(m);
        if (!wait_backoff(m, delay)) {
            if (h->restart_cancelled != NULL)
                h->restart_cancelled(h->ctx);
            return code;
        }
        _cleanup_err_ mk_err *err = NULL;
        if (rerun_container(m, &err) < 0) {
            if (h->start_failed != NULL)
                h->start_failed(h->ctx, err);
            return err->exit_code;
        }
        announce_started(m);
    }
}

void mk_monitor_send_error(int client_fd, const mk_err *err)
{
    if (client_fd < 0)
        return;
    _cleanup_free_ char *text = xasprintf("%d %s", err->exit_code, err->msg);
    size_t len = strlen(text);
    mk_frame_write(client_fd, MK_FRAME_ERROR, text, len < MK_FRAME_MAX ? len : MK_FRAME_MAX);
}

int mk_monitor_main(const struct mk_monitor_params *p, mk_err **err_out)
{
    /* The hooks and the client get the error even if our caller wants none. */
    _cleanup_err_ mk_err *local_err = NULL;
    mk_err **err = err_out != NULL ? err_out : &local_err;
    struct monitor m = {.p = p,
                        .rootfs = p->rootfs,
                        .epfd = -1,
                        .sigfd = -1,
                        .listen_fd = -1,
                        .pty_master = -1,
                        .mounts = -1};
    m.in.kind = TAG_STDIN;
    m.in.fd = -1;
    m.listen_tag = TAG_LISTEN;
    int ret = -1;
    m.sock_path = mk_path_join(p->rundir, "attach.sock");
    m.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (m.epfd < 0) {
        mk_err_sys(err, "epoll");
        goto fail;
    }
    if (setup_before_start(err) < 0)
        goto fail;
    /* Listening before the start: a client that connects right after STARTED
     * misses nothing. */
    m.listen_fd = mk_unix_listen(m.sock_path, err);
    if (m.listen_fd < 0)
        goto fail;
    mk_fd_set_nonblock(m.listen_fd, true);
    ep_set(&m, m.listen_fd, &m.listen_tag, EPOLLIN, &m.listen_registered);
    if (p->source_process != NULL && p->source_fd >= 0) {
        m.source_tag = TAG_SOURCE;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &m.source_tag};
        if (epoll_ctl(m.epfd, EPOLL_CTL_ADD, p->source_fd, &ev) < 0) {
            mk_err_sys(err, "watch the container's DNS server");
            goto fail;
        }
        m.source_registered = true;
    }
    mk_trace("monitor-listening");
    if (open_log(&m, err) < 0 || start_container(&m, err) < 0)
        goto fail;
    if (setup_signalfd(&m, err) < 0) {
        /* Without it we would never learn of the exit: do not leave a stray. */
        kill(m.pid, SIGKILL);
        waitpid(m.pid, NULL, 0);
        goto fail;
    }
    reap(&m);

    announce_started(&m);
    if (p->client_fd >= 0) {
        char text[32];
        snprintf(text, sizeof(text), "%d", (int)m.pid);
        /* The CLI may be gone already (run -d that was killed): not our problem. */
        if (mk_frame_write(p->client_fd, MK_FRAME_STARTED, text, strlen(text)) == 0) {
            int fd = fcntl(p->client_fd, F_DUPFD_CLOEXEC, 3);
            if (fd >= 0) {
                mk_fd_set_nonblock(fd, true);
                client_add(&m, fd, true);
            }
        }
    }

    int code = run_with_policy(&m);
    report_exit(&m, code);
    mk_trace("monitor-reported");
    mk_closep(&m.mounts);
    if (p->hooks.finished != NULL)
        p->hooks.finished(p->hooks.ctx);
    monitor_cleanup(&m);
    return 0;

fail:
    if (*err != NULL) {
        if (p->hooks.start_failed != NULL)
            p->hooks.start_failed(p->hooks.ctx, *err);
        mk_monitor_send_error(p->client_fd, *err);
    }
    monitor_cleanup(&m);
    return ret;
}
