/* container_attach.c: POST /containers/{id}/attach and /resize.
 *
 * The hijacked connection is relayed to a connection to the container's
 * monitor (the same attach protocol the CLI uses): the client's input goes
 * as STDIN frames, the monitor's STDOUT/STDERR frames come back in docker's
 * framing (they already are, byte for byte) or as raw bytes with a tty.
 *
 * docker run attaches before it starts the container.  Such an attach waits
 * here, registered by container id, buffering any input; the API's start
 * then starts the container with a monitor connection and hands it over
 * (mk_api_attach_started), so the first output is not lost.  A start from
 * elsewhere (mocker start) is seen by polling the store, and that attach
 * joins late. */
#include "api/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>

#define START_POLL_MS 250
#define EARLY_INPUT_MAX (1 << 20)

struct waiter {
    const char *id;
    int64_t started_at; /* the container's when the attach came */
    int wake[2];    /* a byte on wake[1] once started */
    int handed_fd;  /* the start's monitor connection, or -1 */
    bool told;
    struct waiter *next;
};

static pthread_mutex_t waiters_lock = PTHREAD_MUTEX_INITIALIZER;
static struct waiter *waiters;

static void waiter_remove(struct waiter *w)
{
    pthread_mutex_lock(&waiters_lock);
    for (struct waiter **pp = &waiters; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    }
    pthread_mutex_unlock(&waiters_lock);
}

bool mk_api_attach_waiting(const char *id)
{
    bool found = false;
    pthread_mutex_lock(&waiters_lock);
    for (struct waiter *w = waiters; w != NULL && !found; w = w->next)
        found = !w->told && strcmp(w->id, id) == 0;
    pthread_mutex_unlock(&waiters_lock);
    return found;
}

int mk_api_attach_started(const char *id, int attach_fd)
{
    int n = 0;
    pthread_mutex_lock(&waiters_lock);
    for (struct waiter *w = waiters; w != NULL; w = w->next) {
        if (w->told || strcmp(w->id, id) != 0)
            continue;
        w->told = true;
        w->handed_fd = attach_fd;
        attach_fd = -1; /* the first waiter's; the others connect themselves */
        if (write(w->wake[1], "s", 1) < 0) {
            /* a pipe of our own with room for one byte: cannot fail */
        }
        n++;
    }
    pthread_mutex_unlock(&waiters_lock);
    if (attach_fd >= 0)
        close(attach_fd);
    return n;
}

struct attach_opts {
    bool in, out, err;
};

/* Until the container runs: *fd is the monitor connection, or -1 when the
 * client went away or the container is gone. */
/* Registered before the attach answers its head: the client may send the
 * start as soon as it has the head. */
static int waiter_add(struct waiter *w)
{
    if (pipe2(w->wake, O_CLOEXEC) < 0)
        return -1;
    pthread_mutex_lock(&waiters_lock);
    w->next = waiters;
    waiters = w;
    pthread_mutex_unlock(&waiters_lock);
    return 0;
}

static void wait_for_start(struct mk_engine *e, struct waiter *wp, struct mk_api_stream *s,
                           const struct attach_opts *o, bool *in_eof, int *fd)
{
    const char *id = wp->id;
    *fd = -1;
    char buf[16384];
    for (;;) {
        bool read_in = o->in && !*in_eof && s->early.len < EARLY_INPUT_MAX;
        struct pollfd p[2] = {{.fd = wp->wake[0], .events = POLLIN},
                              {.fd = s->fd, .events = read_in ? POLLIN : 0}};
        int r = poll(p, 2, START_POLL_MS);
        if (r < 0 && errno != EINTR)
            break;
        if (p[0].revents & POLLIN)
            break;
        if (p[1].revents & (POLLHUP | POLLERR))
            break;
        if (p[1].revents & POLLIN) {
            /* held until the container has a stdin to give it to */
            ssize_t n = read(s->fd, buf, sizeof(buf));
            if (n <= 0)
                *in_eof = true;
            else
                mk_buf_append(&s->early, buf, (size_t)n);
            continue;
        }
        if (r == 0) {
            struct mk_container *c = NULL;
            if (mk_container_get(e, id, &c, NULL) < 0)
                break; /* removed meanwhile */
            bool running = mk_container_is_running(c);
            bool ran = c->started_at != wp->started_at; /* and ended, unseen */
            int afd = -1;
            if (running && mk_container_attach(e, c, &afd, NULL) == 0)
                *fd = afd;
            mk_container_free(c);
            if (running || ran)
                break;
        }
    }
    waiter_remove(wp);
    /* removed under the lock: a start cannot tell us any more */
    if (wp->told) {
        if (*fd >= 0)
            close(*fd);
        *fd = wp->handed_fd;
        if (*fd < 0) {
            struct mk_container *c = NULL;
            if (mk_container_get(e, id, &c, NULL) == 0) {
                if (mk_container_attach(e, c, fd, NULL) < 0)
                    *fd = -1;
                mk_container_free(c);
            }
        }
    }
    close(wp->wake[0]);
    close(wp->wake[1]);
}

static int send_stdin(int mfd, const char *data, size_t len)
{
    while (len > 0) {
        size_t n = len < MK_FRAME_MAX ? len : MK_FRAME_MAX;
        if (mk_frame_write(mfd, MK_FRAME_STDIN, data, n) < 0)
            return -1;
        data += n;
        len -= n;
    }
    return 0;
}

/* Relay until the monitor closes the connection (the container ended and
 * its --rm is done), the client leaves, or it types the detach keys. */
static void relay(struct mk_api_stream *s, int mfd, const struct attach_opts *o, bool in_eof)
{
    char buf[32768];
    mk_buf input = {0};
    struct mk_frame_reader fr = {0};
    bool ok = true;
    /* what the client sent before the container ran */
    if (o->in && s->early.len > s->early_off) {
        bool detach = mk_api_stream_filter_input(s, s->early.data + s->early_off,
                                                 s->early.len - s->early_off, &input);
        s->early_off = s->early.len;
        ok = send_stdin(mfd, input.data, input.len) == 0 && !detach;
    }
    if (ok && o->in && in_eof)
        mk_frame_write(mfd, MK_FRAME_CLOSE_STDIN, NULL, 0);
    while (ok) {
        struct pollfd p[2] = {{.fd = mfd, .events = POLLIN},
                              {.fd = s->fd, .events = o->in && !in_eof ? POLLIN : 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents & POLLIN) {
            ssize_t n = mk_api_stream_read(s, buf, sizeof(buf));
            if (n < 0 && errno != ECONNRESET)
                break;
            if (n <= 0) {
                in_eof = true;
                mk_frame_write(mfd, MK_FRAME_CLOSE_STDIN, NULL, 0);
            } else {
                bool detach = mk_api_stream_filter_input(s, buf, (size_t)n, &input);
                if (send_stdin(mfd, input.data, input.len) < 0 || detach)
                    break;
            }
        } else if (p[1].revents & (POLLHUP | POLLERR)) {
            break; /* the client is gone: a detach */
        }
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        ssize_t n = mk_frame_reader_fill(&fr, mfd);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            break;
        enum mk_frame_type type;
        const char *data;
        size_t len;
        int r = 0;
        while (ok && (r = mk_frame_reader_next(&fr, &type, &data, &len)) == 1) {
            bool want = type == MK_FRAME_STDOUT ? o->out : type == MK_FRAME_STDERR ? o->err : false;
            if (want && mk_api_stream_output(s, (int)type, data, len) < 0)
                ok = false;
        }
        if (r < 0)
            break;
    }
    mk_buf_free(&input);
    mk_frame_reader_free(&fr);
}

int mk_api_container_attach(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    struct mk_container *ctr = NULL;
    struct attach_opts o = {
        .in = mk_http_query_bool(c->req, "stdin", false),
        .out = mk_http_query_bool(c->req, "stdout", false),
        .err = mk_http_query_bool(c->req, "stderr", false),
    };
    bool stream = mk_http_query_bool(c->req, "stream", false);
    bool logs = mk_http_query_bool(c->req, "logs", false);
    _cleanup_free_ char *keys = mk_http_query(c->req, "detachKeys");
    struct mk_api_stream s;
    if (mk_api_stream_keys_valid(keys, err) < 0)
        return -1;
    if (mk_api_engine(c, &e, err) < 0 || mk_container_get(e, mk_api_param(c, "id"), &ctr, err) < 0)
        return -1;
    if (strcmp(ctr->status, "paused") == 0) {
        mk_container_free(ctr);
        return mk_err_set(err, MK_ERR_CONFLICT,
                          "You cannot attach to a paused container, unpause it first");
    }
    bool tty = mk_json_bool(json_object_get(ctr->config, "Config"), "Tty", false);
    _cleanup_free_ char *id = xstrdup(ctr->id);
    struct waiter w = {.id = id, .started_at = ctr->started_at, .handed_fd = -1};
    bool waiting = stream && !mk_container_is_running(ctr) && waiter_add(&w) == 0;
    mk_container_free(ctr);
    if (mk_api_stream_begin(c, &s, tty, err) < 0) {
        if (waiting) {
            waiter_remove(&w);
            if (w.handed_fd >= 0)
                close(w.handed_fd);
            close(w.wake[0]);
            close(w.wake[1]);
        }
        return -1;
    }
    mk_api_stream_detach_keys(&s, keys, NULL);
    if (logs && mk_api_logs_replay(e, id, tty, o.out, o.err, s.fd, NULL) < 0 && waiting) {
        waiting = false; /* the client is gone */
        waiter_remove(&w);
        if (w.handed_fd >= 0)
            close(w.handed_fd);
        close(w.wake[0]);
        close(w.wake[1]);
    }
    if (stream) {
        bool in_eof = false;
        int mfd = -1;
        ctr = NULL;
        if (!waiting && mk_container_get(e, id, &ctr, NULL) == 0 &&
            mk_container_is_running(ctr) && mk_container_attach(e, ctr, &mfd, NULL) < 0)
            mfd = -1;
        mk_container_free(ctr);
        if (waiting)
            wait_for_start(e, &w, &s, &o, &in_eof, &mfd);
        if (mfd >= 0) {
            relay(&s, mfd, &o, in_eof);
            close(mfd);
        }
    }
    /* the client reads to the end: both directions close */
    shutdown(s.fd, SHUT_RDWR);
    mk_api_stream_clear(&s);
    return 0;
}

int mk_api_container_resize(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    long h, w;
    if (mk_api_query_int(c->req, "h", 0, &h, err) < 0 || mk_api_query_int(c->req, "w", 0, &w, err) < 0)
        return -1;
    if (h < 0 || w < 0 || h > 0xffff || w > 0xffff)
        return mk_err_set(err, MK_ERR_INVALID, "invalid terminal size %ldx%ld", h, w);
    if (mk_api_engine(c, &e, err) < 0 ||
        mk_container_resize(e, mk_api_param(c, "id"), (unsigned)h, (unsigned)w, err) < 0)
        return -1;
    return mk_http_reply_send(c->reply, 200, "text/plain; charset=utf-8", NULL, 0);
}
