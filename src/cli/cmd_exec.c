/* cmd_exec.c: docker exec.  Without a tty the process writes straight to our
 * stdout/stderr; with one we relay between our terminal and its pty. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>

static void copy_winsize(int from, int to)
{
    struct winsize ws;
    if (ioctl(from, TIOCGWINSZ, &ws) == 0)
        ioctl(to, TIOCSWINSZ, &ws);
}

static volatile sig_atomic_t winch;
static void on_winch(int sig)
{
    (void)sig;
    winch = 1;
}

/* Relay until the pty hangs up (every process holding it exited). */
static void relay_pty(int master, bool forward_stdin)
{
    struct termios saved;
    bool raw = isatty(0) && tcgetattr(0, &saved) == 0;
    if (raw) {
        struct termios t = saved;
        cfmakeraw(&t);
        tcsetattr(0, TCSANOW, &t);
        copy_winsize(0, master);
        signal(SIGWINCH, on_winch);
    }
    char buf[16384];
    bool in_open = forward_stdin;
    for (;;) {
        struct pollfd p[2] = {{.fd = master, .events = POLLIN}, {.fd = in_open ? 0 : -1, .events = POLLIN}};
        int r = poll(p, 2, -1);
        if (r < 0) {
            if (errno == EINTR) {
                if (winch) {
                    winch = 0;
                    copy_winsize(0, master);
                }
                continue;
            }
            break;
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(master, buf, sizeof(buf));
            if (n <= 0)
                break;
            if (mk_write_all(1, buf, (size_t)n) < 0)
                break;
        }
        if (in_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t n = read(0, buf, sizeof(buf));
            if (n <= 0) {
                in_open = false;
                /* ^D tells the other side we are done, as a terminal would. */
                char eot = 4;
                (void)!write(master, &eot, 1);
            } else if (mk_write_all(master, buf, (size_t)n) < 0) {
                break;
            }
        }
    }
    if (raw)
        tcsetattr(0, TCSANOW, &saved);
}

int cmd_exec(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"exec", "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
                                      "Execute a command in a running container", false};
    bool interactive = false, tty = false, detach = false, privileged = false;
    char *workdir = NULL, *user = NULL, *detach_keys = NULL;
    _cleanup_strv_ char **env = NULL;
    _cleanup_strv_ char **env_file = NULL;
    struct mk_opt opts[] = {
        {"detach", 'd', MK_OPT_BOOL, &detach, "Detached mode: run command in the background", NULL},
        {"interactive", 'i', MK_OPT_BOOL, &interactive, "Keep STDIN open even if not attached", NULL},
        {"tty", 't', MK_OPT_BOOL, &tty, "Allocate a pseudo-TTY", NULL},
        {"env", 'e', MK_OPT_LIST, &env, "Set environment variables", NULL},
        {"env-file", 0, MK_OPT_LIST, &env_file, "Read in a file of environment variables", NULL},
        {"workdir", 'w', MK_OPT_STRING, &workdir, "Working directory inside the container", NULL},
        {"user", 'u', MK_OPT_STRING, &user, "Username or UID (format: \"<name|uid>[:<group|gid>]\")", NULL},
        {"privileged", 0, MK_OPT_BOOL, &privileged, "Give extended privileges to the command", NULL},
        {"detach-keys", 0, MK_OPT_STRING, &detach_keys, "Override the key sequence for detaching a container", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    _cleanup_free_ char *wd = NULL, *us = NULL, *dk = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 2, (size_t)-1, &rest);
    wd = workdir;
    us = user;
    dk = detach_keys;
    if (r >= 0)
        return r;
    if (env_file != NULL) {
        fprintf(stderr, "mocker: --env-file for exec is not supported yet\n");
        return 125;
    }
    if (tty && interactive && !isatty(0)) {
        fprintf(stderr, "the input device is not a TTY\n");
        return 1;
    }
    json_t *o = json_pack("{s:o,s:o,s:s,s:s,s:b,s:b}", "Cmd", mk_json_from_strv(rest + 1), "Env",
                          mk_json_from_strv(env), "WorkingDir", wd ? wd : "", "User", us ? us : "",
                          "Tty", tty, "Privileged", privileged);
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL) {
        json_decref(o);
        return 1;
    }
    int status = 126;
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    int in = (interactive && !detach) ? 0 : null_fd;
    int out = detach ? null_fd : 1, errfd = detach ? null_fd : 2;
    int master = -1;
    pid_t pid;
    if (mk_container_exec(e, rest[0], o, in, out, errfd, &master, &pid, &err) < 0) {
        /* docker: 1 when the container is missing or stopped, 126 when the
         * process cannot be started (even for a command that is not found). */
        bool start_failure = err->exit_code == 126 || err->exit_code == 127;
        int code = start_failure ? 126 : 1;
        if (start_failure) {
            fprintf(stderr, "OCI runtime exec failed: exec failed: unable to start container process: %s: unknown\n", err->msg);
            mk_err_free(err);
            status = code;
        } else {
            status = mk_cli_fail(NULL, err, code);
        }
        goto out;
    }
    if (detach) {
        status = 0;
        goto out;
    }
    if (master >= 0)
        relay_pty(master, interactive);
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
out:
    if (master >= 0)
        close(master);
    if (null_fd >= 0)
        close(null_fd);
    json_decref(o);
    mk_engine_free(e);
    return status;
}
