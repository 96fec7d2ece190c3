/* attach_client.c: the CLI's side of an attach connection.  Relays our stdin to
 * the monitor as STDIN frames and its STDOUT/STDERR frames to fds 1 and 2, puts
 * the terminal in raw mode and forwards its size with a tty, proxies signals to
 * the container without one, and watches for docker's detach keys. */
#include "monitor/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>

#define STDIN_CHUNK     32768
#define DETACH_FLUSH_MS 1000
#define DEFAULT_DETACH  "ctrl-p,ctrl-q"

int mk_detach_keys_parse(const char *s, uint8_t out[MK_DETACH_KEYS_MAX], size_t *n, mk_err **err)
{
    if (s == NULL || *s == '\0')
        s = DEFAULT_DETACH;
    static const char ctrl_punct[] = "@[\\]^_"; /* ctrl-@ is 0, ctrl-[ 27 ... ctrl-_ 31 */
    uint8_t keys[MK_DETACH_KEYS_MAX];
    size_t k = 0;
    _cleanup_free_ char *copy = xstrdup(s);
    char *rest = copy, *key;
    while ((key = strsep(&rest, ",")) != NULL) {
        int code = -1;
        size_t len = strlen(key);
        if (len == 1) {
            code = (unsigned char)key[0];
        } else if (strcmp(key, "DEL") == 0) {
            code = 127;
        } else if (mk_str_has_prefix(key, "ctrl-")) {
            const char *c = key + 5;
            const char *punct;
            if (len == 6 && *c >= 'a' && *c <= 'z')
                code = *c - 'a' + 1;
            else if (len == 6 && *c != '\0' && (punct = strchr(ctrl_punct, *c)) != NULL)
                code = punct == ctrl_punct ? 0 : 27 + (int)(punct - ctrl_punct) - 1;
            else if (strcmp(c, "\\\\") == 0) /* as the docs spell it, escaped */
                code = 28;
        }
        if (code < 0 || k == MK_DETACH_KEYS_MAX)
            return mk_err_set(err, MK_ERR_INVALID, "Invalid detach keys (%s) provided", s);
        keys[k++] = (uint8_t)code;
    }
    memcpy(out, keys, k);
    *n = k;
    return 0;
}

/* Restores the terminal on every way out of mk_attach_client. */
struct term_state {
    bool raw;
    struct termios saved;
};

static void term_restore(struct term_state *t)
{
    if (t->raw)
        tcsetattr(STDIN_FILENO, TCSADRAIN, &t->saved);
    t->raw = false;
}

struct sig_state {
    bool blocked;
    sigset_t old;
    int fd;
};

static void sig_restore(struct sig_state *s)
{
    mk_closep(&s->fd);
    if (s->blocked)
        sigprocmask(SIG_SETMASK, &s->old, NULL);
    s->blocked = false;
}

struct attach {
    int sock;
    const struct mk_attach_opts *o;
    mk_buf out; /* frames not yet sent to the monitor */
    size_t out_off;
    struct mk_frame_reader in;
    uint8_t keys[MK_DETACH_KEYS_MAX];
    size_t nkeys, matched; /* detach keys, and how many of them were just typed */
    bool stdin_eof, got_exit;
    bool write_closed; /* the monitor takes no more input: EXIT or EOF come next */
    int exit_code;
};

static void queue_frame(struct attach *a, enum mk_frame_type type, const void *data, size_t len)
{
    uint8_t hdr[MK_FRAME_HEADER_LEN];
    mk_frame_header(hdr, type, (uint32_t)len);
    mk_buf_append(&a->out, hdr, sizeof(hdr));
    if (len > 0)
        mk_buf_append(&a->out, data, len);
}

static void queue_resize(struct attach *a)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
        return;
    char text[32];
    int n = snprintf(text, sizeof(text), "%u %u", ws.ws_row, ws.ws_col);
    queue_frame(a, MK_FRAME_RESIZE, text, (size_t)n);
}

/* Send what the socket takes now; -1 if the monitor is gone. */
static int flush_out(struct attach *a)
{
    while (a->out_off < a->out.len) {
        ssize_t n = send(a->sock, a->out.data + a->out_off, a->out.len - a->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return 0;
            return -1;
        }
        a->out_off += (size_t)n;
    }
    a->out.len = a->out_off = 0;
    return 0;
}

/* Forward typed input, holding back a possible start of the detach keys.
 * Returns true when the whole sequence was typed (it is not forwarded). */
static bool forward_input(struct attach *a, const uint8_t *data, size_t len)
{
    mk_buf fwd = {0};
    bool detach = false;
    for (size_t i = 0; i < len && !detach; i++) {
        uint8_t b = data[i];
        if (a->nkeys > 0 && b == a->keys[a->matched]) {
            detach = ++a->matched == a->nkeys;
            continue;
        }
        if (a->matched > 0) {
            /* Not the sequence after all: the held keys were ordinary input. */
            mk_buf_append(&fwd, a->keys, a->matched);
            a->matched = 0;
            if (b == a->keys[0]) {
                a->matched = 1;
                continue;
            }
        }
        mk_buf_append(&fwd, &b, 1);
    }
    for (size_t off = 0; off < fwd.len; off += MK_FRAME_MAX) {
        size_t n = fwd.len - off < MK_FRAME_MAX ? fwd.len - off : MK_FRAME_MAX;
        queue_frame(a, MK_FRAME_STDIN, fwd.data + off, n);
    }
    mk_buf_free(&fwd);
    return detach;
}

static void write_out(int fd, const char *data, size_t len)
{
    /* Our stdout going away is no reason to lose the container's exit code. */
    (void)mk_write_all(fd, data, len);
}

/* 1: go on, 0: done (EXIT, the monitor's last frame), -1: error.  We do not
 * wait for the EOF after EXIT: the monitor may still be cleaning up. */
static int read_monitor(struct attach *a, mk_err **err)
{
    ssize_t n = mk_frame_reader_fill(&a->in, a->sock);
    if (n < 0 && errno == EAGAIN)
        return 1;
    if (n <= 0) {
        if (a->got_exit)
            return 0;
        return mk_err_set(err, MK_ERR_INTERNAL,
                          "attach: connection to the container's monitor closed");
    }
    enum mk_frame_type type;
    const char *data;
    size_t len;
    int r;
    while ((r = mk_frame_reader_next(&a->in, &type, &data, &len)) > 0) {
        char text[64];
        switch (type) {
        case MK_FRAME_STDOUT:
            if (!a->o->drop_stdout)
                write_out(STDOUT_FILENO, data, len);
            break;
        case MK_FRAME_STDERR:
            if (!a->o->drop_stderr)
                write_out(STDERR_FILENO, data, len);
            break;
        case MK_FRAME_EXIT:
            snprintf(text, sizeof(text), "%.*s", (int)(len < 63 ? len : 63), data);
            a->exit_code = atoi(text);
            a->got_exit = true;
            break;
        case MK_FRAME_ERROR: {
            _cleanup_free_ char *msg = xstrndup(data, len);
            char *rest = NULL;
            long code = strtol(msg, &rest, 10);
            while (*rest == ' ')
                rest++;
            mk_err_set(err, MK_ERR_INTERNAL, "%s", *rest ? rest : "the container failed");
            if (err != NULL)
                (*err)->exit_code = code > 0 ? (int)code : 125;
            return -1;
        }
        case MK_FRAME_STDIN:
        case MK_FRAME_RESIZE:
        case MK_FRAME_CLOSE_STDIN:
        case MK_FRAME_STARTED:
        default:
            break;
        }
    }
    if (r < 0)
        return mk_err_sys(err, "attach: read from the container's monitor");
    return a->got_exit ? 0 : 1;
}

/* Read our stdin: 1 go on, 0 detached. */
static int read_stdin(struct attach *a)
{
    uint8_t buf[STDIN_CHUNK];
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 1;
    if (n <= 0) {
        /* EOF (or a terminal that went away): the container's stdin ends too. */
        if (a->matched > 0)
            queue_frame(a, MK_FRAME_STDIN, a->keys, a->matched);
        a->matched = 0;
        a->stdin_eof = true;
        queue_frame(a, MK_FRAME_CLOSE_STDIN, NULL, 0);
        return 1;
    }
    return forward_input(a, buf, (size_t)n) ? 0 : 1;
}

static void read_signals(struct attach *a, int sfd)
{
    struct signalfd_siginfo si;
    while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
        if (si.ssi_signo == SIGWINCH)
            queue_resize(a);
        else if (!a->got_exit && a->o->container_pid > 0)
            kill(a->o->container_pid, (int)si.ssi_signo);
    }
}

/* Best effort before leaving on a detach: what was typed before the keys. */
static void flush_before_detach(struct attach *a)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (a->out_off < a->out.len && flush_out(a) == 0 && a->out_off < a->out.len) {
        struct pollfd p = {.fd = a->sock, .events = POLLOUT};
        if (poll(&p, 1, DETACH_FLUSH_MS) <= 0)
            return;
    }
}

int mk_attach_client(int fd, const struct mk_attach_opts *o, int *exit_code, bool *detached,
                     mk_err **err)
{
    __attribute__((cleanup(term_restore))) struct term_state term = {0};
    __attribute__((cleanup(sig_restore))) struct sig_state sigs = {.fd = -1};
    struct attach a = {.sock = fd, .o = o};
    int ret = -1;
    *detached = false;

    if (mk_detach_keys_parse(o->detach_keys, a.keys, &a.nkeys, err) < 0)
        return -1;
    /* docker only looks for the keys on a terminal's input. */
    if (!(o->tty && o->stdin_))
        a.nkeys = 0;

    sigset_t set;
    sigemptyset(&set);
    if (o->tty)
        sigaddset(&set, SIGWINCH);
    if (o->sig_proxy && !o->tty && o->container_pid > 0) {
        int proxied[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
        for (size_t i = 0; i < sizeof(proxied) / sizeof(proxied[0]); i++)
            sigaddset(&set, proxied[i]);
    }
    if (sigprocmask(SIG_BLOCK, &set, &sigs.old) < 0)
        return mk_err_sys(err, "attach: block signals");
    sigs.blocked = true;
    sigs.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sigs.fd < 0)
        return mk_err_sys(err, "attach: signalfd");

    if (o->tty && o->stdin_ && isatty(STDIN_FILENO)) {
        if (tcgetattr(STDIN_FILENO, &term.saved) < 0)
            return mk_err_sys(err, "attach: get terminal attributes");
        struct termios raw = term.saved;
        cfmakeraw(&raw);
        if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
            return mk_err_sys(err, "attach: set the terminal to raw mode");
        term.raw = true;
    }
    if (o->tty && isatty(STDOUT_FILENO))
        queue_resize(&a);

    for (;;) {
        if (!a.write_closed && flush_out(&a) < 0) {
            a.write_closed = true;
            a.out.len = a.out_off = 0;
        }
        struct pollfd p[3] = {
            {.fd = fd, .events = POLLIN | (a.out_off < a.out.len ? POLLOUT : 0)},
            {.fd = sigs.fd, .events = POLLIN},
            /* Our input waits until the monitor took the previous frames. */
            {.fd = o->stdin_ && !a.stdin_eof && !a.got_exit && !a.write_closed && a.out.len == 0
                       ? STDIN_FILENO
                       : -1,
             .events = POLLIN},
        };
        if (poll(p, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            mk_err_sys(err, "attach: poll");
            break;
        }
        if (p[1].revents & POLLIN)
            read_signals(&a, sigs.fd);
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            int r = read_monitor(&a, err);
            if (r < 0)
                break;
            if (r == 0) {
                *exit_code = a.exit_code;
                ret = 0;
                break;
            }
        }
        if (p[2].revents & (POLLIN | POLLHUP | POLLERR) && read_stdin(&a) == 0) {
            flush_before_detach(&a);
            *detached = true;
            ret = 0;
            break;
        }
    }
    mk_buf_free(&a.out);
    mk_frame_reader_free(&a.in);
    return ret;
}
