/* run.c: running a host program with an argv (never a shell) and collecting
 * what it prints, for commands that report a tool's output (docker top's ps)
 * and for helpers that speak a protocol over stdin/stdout (docker's
 * credential helpers), which get their input, a time limit and a size limit. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

extern char **environ;

struct io_state {
    int in_fd; /* our end of the child's stdin, -1 once all input is sent */
    const char *input;
    size_t input_left;
    mk_buf *bufs[2];
    size_t max_output;
};

static int remaining_ms(int64_t deadline)
{
    if (deadline == 0)
        return -1;
    int64_t left = (deadline - mk_monotonic_ns()) / 1000000;
    return left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

/* Send stdin and read both pipes until both close, so neither can fill up and
 * block the child.  0 when done; -1 with *why on the deadline or size limit. */
static int pump(int out_fd, int err_fd, struct io_state *st, int64_t deadline, const char **why)
{
    struct pollfd p[3] = {{.fd = out_fd, .events = POLLIN},
                          {.fd = err_fd, .events = POLLIN},
                          {.fd = st->in_fd, .events = POLLOUT}};
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        p[2].fd = st->in_fd;
        int wait = remaining_ms(deadline);
        if (wait == 0) {
            *why = "timed out";
            return -1;
        }
        int n = poll(p, 3, wait);
        if (n < 0 && errno != EINTR)
            return 0;
        if (n <= 0)
            continue;
        if (p[2].fd >= 0 && p[2].revents != 0) {
            /* A socket, so a child that exits unread gives EPIPE, not SIGPIPE. */
            ssize_t w = send(st->in_fd, st->input, st->input_left, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) {
                st->input += w;
                st->input_left -= (size_t)w;
            }
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || st->input_left == 0) {
                close(st->in_fd);
                st->in_fd = -1;
            }
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || p[i].revents == 0)
                continue;
            char chunk[8192];
            ssize_t r = read(p[i].fd, chunk, sizeof(chunk));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                p[i].fd = -1;
                continue;
            }
            mk_buf_append(st->bufs[i], chunk, (size_t)r);
            if (st->max_output > 0 && st->bufs[i]->len > st->max_output) {
                *why = "printed too much";
                return -1;
            }
        }
    }
    return 0;
}

/* Reap pid, killing it at the deadline.  -1 if it had to be killed. */
static int reap(pid_t pid, int64_t deadline, int *ws)
{
    for (;;) {
        pid_t r = waitpid(pid, ws, deadline != 0 ? WNOHANG : 0);
        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR)
            return 0;
        if (deadline != 0 && mk_monotonic_ns() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, ws, 0) < 0 && errno == EINTR)
                ;
            return -1;
        }
        if (r == 0)
            usleep(2000);
    }
}

int mk_run_limited(char *const argv[], const struct mk_run_limits *lim, char **out, char **err_out,
                   int *status, mk_err **err)
{
    int op[2], ep[2], ip[2] = {-1, -1};
    if (pipe2(op, O_CLOEXEC) < 0)
        return mk_err_sys(err, "pipe");
    if (pipe2(ep, O_CLOEXEC) < 0) {
        close(op[0]);
        close(op[1]);
        return mk_err_sys(err, "pipe");
    }
    if (lim->input != NULL && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ip) < 0) {
        int saved = errno;
        close(op[0]);
        close(op[1]);
        close(ep[0]);
        close(ep[1]);
        return mk_err_errno(err, saved, "socketpair");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (lim->input != NULL)
        posix_spawn_file_actions_adddup2(&fa, ip[1], 0);
    else
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, op[1], 1);
    posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
    /* a thread of mocker serve blocks signals: the tool starts with none
     * blocked and default dispositions, whatever its caller has */
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    int r = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(op[1]);
    close(ep[1]);
    if (ip[1] >= 0)
        close(ip[1]);
    if (r != 0) {
        close(op[0]);
        close(ep[0]);
        if (ip[0] >= 0)
            close(ip[0]);
        errno = r;
        return mk_err_sys(err, "exec %s", argv[0]);
    }
    int64_t deadline = lim->timeout_ms > 0 ? mk_monotonic_ns() + lim->timeout_ms * 1000000 : 0;
    mk_buf o = {0}, e = {0};
    struct io_state st = {.in_fd = ip[0],
                          .input = lim->input,
                          .input_left = lim->input_len,
                          .bufs = {&o, &e},
                          .max_output = lim->max_output};
    if (st.in_fd >= 0 && st.input_left == 0) {
        close(st.in_fd);
        st.in_fd = -1;
    }
    const char *why = NULL;
    if (pump(op[0], ep[0], &st, deadline, &why) < 0)
        kill(pid, SIGKILL);
    close(op[0]);
    close(ep[0]);
    if (st.in_fd >= 0)
        close(st.in_fd);
    int ws = 0;
    if (reap(pid, deadline, &ws) < 0 && why == NULL)
        why = "timed out";
    if (why != NULL) {
        mk_buf_free(&o);
        mk_buf_free(&e);
        if (strcmp(why, "timed out") == 0)
            return mk_err_set(err, MK_ERR_INTERNAL, "%s: timed out after %lld ms", argv[0],
                              (long long)lim->timeout_ms);
        return mk_err_set(err, MK_ERR_INTERNAL, "%s: printed more than %zu bytes", argv[0],
                          lim->max_output);
    }
    mk_buf_append(&o, "", 1);
    mk_buf_append(&e, "", 1);
    *out = mk_buf_steal(&o);
    *err_out = mk_buf_steal(&e);
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    mk_buf_free(&o);
    mk_buf_free(&e);
    return 0;
}

int mk_run_capture(char *const argv[], char **out, char **err_out, int *status, mk_err **err)
{
    static const struct mk_run_limits none = {0};
    return mk_run_limited(argv, &none, out, err_out, status, err);
}
