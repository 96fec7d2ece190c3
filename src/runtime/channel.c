/* channel.c: how a runtime child reports back to its parent.
 *
 * The channel is a CLOEXEC pipe: the child writes at most one error (or, for
 * exec, the pid of the grandchild) and the parent reads until EOF, which comes
 * when the last writer execs or exits.  Messages are a fixed header and a short
 * text, below PIPE_BUF, so each write is atomic. */
#include "runtime/internal.h"

#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

struct msg_hdr {
    int32_t type;
    int32_t errnum;
    int32_t exit_code;
    int32_t kind;
    int32_t pid;
    uint32_t len;
};

#define MSG_MAX 3800

void rt_child_fail(int chan, mk_err *e)
{
    char buf[sizeof(struct msg_hdr) + MSG_MAX];
    const char *msg = e != NULL && e->msg != NULL ? e->msg : "container init failed";
    size_t len = strlen(msg);
    if (len > MSG_MAX)
        len = MSG_MAX;
    struct msg_hdr h = {.type = RT_MSG_ERROR,
                        .errnum = e != NULL ? e->errnum : 0,
                        .exit_code = e != NULL ? e->exit_code : 125,
                        .kind = e != NULL ? (int32_t)e->kind : MK_ERR_INTERNAL,
                        .len = (uint32_t)len};
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), msg, len);
    mk_write_all(chan, buf, sizeof(h) + len);
    _exit(127);
}

void rt_send_pid(int chan, pid_t pid)
{
    struct msg_hdr h = {.type = RT_MSG_PID, .pid = pid};
    mk_write_all(chan, &h, sizeof(h));
}

int rt_channel_await(int chan, pid_t *pid, mk_err **err)
{
    int ret = 0;
    for (;;) {
        struct msg_hdr h;
        ssize_t n = mk_read_all(chan, &h, sizeof(h));
        if (n == 0)
            return ret;
        if (n != (ssize_t)sizeof(h))
            return mk_err_set(err, MK_ERR_INTERNAL, "container init: truncated report");
        if (h.type == RT_MSG_PID) {
            if (pid != NULL)
                *pid = h.pid;
            continue;
        }
        if (h.len > MSG_MAX)
            return mk_err_set(err, MK_ERR_INTERNAL, "container init: bad report");
        char text[MSG_MAX + 1];
        if (mk_read_all(chan, text, h.len) != (ssize_t)h.len)
            return mk_err_set(err, MK_ERR_INTERNAL, "container init: truncated report");
        text[h.len] = '\0';
        mk_err_set(err, (enum mk_err_kind)h.kind, "%s", text);
        if (err != NULL && *err != NULL) {
            (*err)->errnum = h.errnum;
            (*err)->exit_code = h.exit_code;
        }
        ret = -1;
    }
}

pid_t rt_clone(unsigned long flags)
{
    return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

pid_t rt_clone_into(unsigned long flags, int cgroup_fd, bool *into)
{
    *into = false;
    if (cgroup_fd >= 0) {
        struct clone_args args = {.flags = flags | CLONE_INTO_CGROUP,
                                  .exit_signal = SIGCHLD,
                                  .cgroup = (uint64_t)cgroup_fd};
        pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
        if (pid >= 0) {
            *into = true;
            return pid;
        }
        /* An older kernel, or a cgroup that takes no process this way: the
         * process joins it through cgroup.procs, which says why if it fails. */
    }
    return rt_clone(flags);
}

int rt_waitpid(pid_t pid, int *status)
{
    int st = 0;
    pid_t r;
    do
        r = waitpid(pid, &st, __WALL);
    while (r < 0 && errno == EINTR);
    if (status != NULL)
        *status = st;
    return r < 0 ? -1 : 0;
}

const char *rt_errstr(int errnum, char *buf, size_t len)
{
    snprintf(buf, len, "%s", strerror(errnum));
    if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
        buf[0] = (char)(buf[0] - 'A' + 'a');
    return buf;
}

void rt_err_classify(mk_err **err)
{
    mk_err *e = err != NULL ? *err : NULL;
    if (e == NULL || e->msg == NULL)
        return;
    if (strstr(e->msg, "executable file not found") != NULL ||
        strstr(e->msg, "no such file or directory") != NULL)
        e->exit_code = 127;
    else if (strstr(e->msg, "permission denied") != NULL ||
             strstr(e->msg, "is a directory") != NULL)
        e->exit_code = 126;
}
