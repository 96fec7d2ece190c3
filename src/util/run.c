/* run.c: running a host program with an argv (never a shell) and collecting
 * what it prints, for commands that report a tool's output (docker top's ps). */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>

extern char **environ;

/* Read both pipes until both close, so neither can fill up and block the child. */
static void drain(int out_fd, int err_fd, mk_buf *out, mk_buf *errb)
{
    struct pollfd p[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
    mk_buf *bufs[2] = {out, errb};
    int open_fds = 2;
    while (open_fds > 0) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].fd < 0 || p[i].revents == 0)
                continue;
            char chunk[8192];
            ssize_t n = read(p[i].fd, chunk, sizeof(chunk));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                p[i].fd = -1;
                open_fds--;
                continue;
            }
            mk_buf_append(bufs[i], chunk, (size_t)n);
        }
    }
}

int mk_run_capture(char *const argv[], char **out, char **err_out, int *status, mk_err **err)
{
    int op[2], ep[2];
    if (pipe2(op, O_CLOEXEC) < 0)
        return mk_err_sys(err, "pipe");
    if (pipe2(ep, O_CLOEXEC) < 0) {
        close(op[0]);
        close(op[1]);
        return mk_err_sys(err, "pipe");
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, op[1], 1);
    posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
    pid_t pid;
    int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(op[1]);
    close(ep[1]);
    if (r != 0) {
        close(op[0]);
        close(ep[0]);
        errno = r;
        return mk_err_sys(err, "exec %s", argv[0]);
    }
    mk_buf o = {0}, e = {0};
    drain(op[0], ep[0], &o, &e);
    close(op[0]);
    close(ep[0]);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    mk_buf_append(&o, "", 1);
    mk_buf_append(&e, "", 1);
    *out = mk_buf_steal(&o);
    *err_out = mk_buf_steal(&e);
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    mk_buf_free(&o);
    mk_buf_free(&e);
    return 0;
}
