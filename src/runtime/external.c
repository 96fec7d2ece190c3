/* external.c: the same bundle through an external OCI runtime (runc, crun).
 *
 * `RUNTIME --root STATE create --bundle B --pid-file F [--console-socket S] ID`,
 * then `RUNTIME start ID`, each exec'd with an argv.  The rootfs overlay is
 * mounted in the host first (the runtime wants a ready rootfs).  What delete
 * needs later is recorded next to the rootfs, in "<root.path>.runtime.json",
 * because mk_runtime_delete only gets the spec. */
#include "runtime/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <poll.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>

static char *root_path(const json_t *spec, const char *bundle)
{
    const char *rp = mk_json_str(json_object_get(spec, "root"), "path");
    if (rp == NULL || *rp == '\0')
        return NULL;
    if (rp[0] == '/')
        return xstrdup(rp);
    return bundle != NULL ? mk_path_join(bundle, rp) : NULL;
}

static char *state_file(const char *rootfs)
{
    return xasprintf("%s.runtime.json", rootfs);
}

/* Run argv with the given stdio; returns its exit status (or -1 with *err). */
static int run_tool(char *const argv[], const int fds[3], mk_err **err)
{
    pid_t pid = fork();
    if (pid < 0)
        return mk_err_sys(err, "fork");
    if (pid == 0) {
        /* forked from a thread of mocker serve, which blocks signals */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int tmp[3];
        for (int i = 0; i < 3; i++) {
            tmp[i] = fds[i] >= 0 ? fcntl(fds[i], F_DUPFD_CLOEXEC, 3)
                                 : open("/dev/null", O_RDWR | O_CLOEXEC);
            if (tmp[i] < 0)
                _exit(127);
        }
        for (int i = 0; i < 3; i++)
            if (dup2(tmp[i], i) < 0)
                _exit(127);
        mk_close_fds_from(3);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    if (rt_waitpid(pid, &status) < 0)
        return mk_err_sys(err, "wait for %s", argv[0]);
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* The runtime's last error from its JSON log ({"level":"error","msg":...}). */
static char *log_error(const char *log)
{
    _cleanup_free_ char *data = NULL;
    if (mk_read_file(log, &data, NULL, NULL) < 0)
        return NULL;
    char *last = NULL;
    for (char *line = data; line != NULL && *line;) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        _cleanup_json_ json_t *j = json_loads(line, 0, NULL);
        const char *level = mk_json_str(j, "level");
        const char *msg = mk_json_str(j, "msg");
        if (msg != NULL && level != NULL &&
            (strcmp(level, "error") == 0 || strcmp(level, "fatal") == 0)) {
            free(last);
            last = xstrdup(msg);
        }
        line = next;
    }
    return last;
}

static int tool_error(const char *runtime, const char *verb, int status, const char *log,
                      mk_err **err)
{
    _cleanup_free_ char *msg = log_error(log);
    if (msg != NULL)
        mk_err_set(err, MK_ERR_INTERNAL, "%s", msg);
    else
        mk_err_set(err, MK_ERR_INTERNAL, "%s %s failed with status %d", runtime, verb, status);
    rt_err_classify(err);
    return -1;
}

/* Relay the master that the runtime sends to our listening socket. */
static int relay_console(int listener, int to, mk_err **err)
{
    struct pollfd pf = {.fd = listener, .events = POLLIN};
    int r;
    do
        r = poll(&pf, 1, 10000);
    while (r < 0 && errno == EINTR);
    if (r <= 0)
        return mk_err_set(err, MK_ERR_INTERNAL, "the runtime did not send the console");
    _cleanup_close_ int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0)
        return mk_err_sys(err, "accept console socket");
    _cleanup_close_ int master = mk_recv_fd(conn, err);
    if (master < 0)
        return -1;
    return mk_send_fd(to, master, err);
}

/* create + start; returns the init's pid. */
static int create_and_start(const char *runtime, const char *state_root, const char *bundle,
                            const char *id, const struct mk_runtime_io *io, bool terminal,
                            const char *sock, pid_t *out_pid, mk_err **err)
{
    _cleanup_free_ char *log = mk_path_join(bundle, "runtime.log");
    _cleanup_free_ char *pidfile = mk_path_join(bundle, "runtime.pid");
    unlink(log);
    unlink(pidfile);
    _cleanup_close_ int listener = -1;
    if (terminal && (listener = mk_unix_listen(sock, err)) < 0)
        return -1;
    const char *create[20];
    size_t n = 0;
    const char *common[] = {runtime, "--root", state_root, "--log", log, "--log-format", "json"};
    for (size_t i = 0; i < sizeof(common) / sizeof(*common); i++)
        create[n++] = common[i];
    create[n++] = "create";
    create[n++] = "--bundle";
    create[n++] = bundle;
    create[n++] = "--pid-file";
    create[n++] = pidfile;
    if (terminal) {
        create[n++] = "--console-socket";
        create[n++] = sock;
    }
    create[n++] = id;
    create[n] = NULL;
    /* Without a terminal the runtime hands its own stdio to the container. */
    int fds[3] = {io->stdin_fd, io->stdout_fd, io->stderr_fd};
    if (terminal)
        fds[0] = fds[1] = fds[2] = -1;
    int status = run_tool((char *const *)create, fds, err);
    if (status < 0)
        return -1;
    if (status != 0)
        return tool_error(runtime, "create", status, log, err);
    if (terminal && relay_console(listener, io->console_sock, err) < 0)
        return -1;
    _cleanup_free_ char *pid_text = NULL;
    if (mk_read_file(pidfile, &pid_text, NULL, err) < 0)
        return -1;
    pid_t pid = (pid_t)strtol(pid_text, NULL, 10);
    if (pid <= 0)
        return mk_err_set(err, MK_ERR_INTERNAL, "%s create wrote no pid", runtime);
    n = sizeof(common) / sizeof(*common);
    create[n++] = "start";
    create[n++] = id;
    create[n] = NULL;
    int none[3] = {-1, -1, -1};
    status = run_tool((char *const *)create, none, err);
    if (status < 0)
        return -1;
    if (status != 0)
        return tool_error(runtime, "start", status, log, err);
    *out_pid = pid;
    return 0;
}

int mk_runtime_run_external(const char *runtime, const char *state_root, const char *bundle,
                            const json_t *spec, const char *id, const struct mk_runtime_io *io,
                            pid_t *out_pid, mk_err **err)
{
    _cleanup_free_ char *rootfs = root_path(spec, bundle);
    if (rootfs == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "spec has no root.path");
    bool terminal = mk_json_bool(json_object_get(spec, "process"), "terminal", false);
    if (terminal && io->console_sock < 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "process.terminal is set but there is no console socket");
    bool overlay = false;
    if (rt_overlay_mount(spec, rootfs, &overlay, err) < 0)
        return -1;
    _cleanup_free_ char *state = state_file(rootfs);
    _cleanup_json_ json_t *st = json_pack("{s:s, s:s, s:s, s:b}", "runtime", runtime, "root",
                                          state_root, "id", id, "overlay", overlay);
    _cleanup_free_ char *st_data = mk_json_dump(st);
    if (mk_write_file_atomic(state, st_data, strlen(st_data), 0600, err) < 0) {
        if (overlay)
            umount2(rootfs, MNT_DETACH);
        return -1;
    }
    _cleanup_free_ char *sock = mk_path_join(bundle, "console.sock");
    int r = create_and_start(runtime, state_root, bundle, id, io, terminal, sock, out_pid, err);
    if (terminal)
        unlink(sock);
    if (r < 0)
        rt_external_delete(spec, NULL);
    return r;
}

int rt_external_delete(const json_t *spec, mk_err **err)
{
    _cleanup_free_ char *rootfs = root_path(spec, NULL);
    if (rootfs == NULL)
        return 0;
    _cleanup_free_ char *state = state_file(rootfs);
    _cleanup_free_ char *data = NULL;
    if (mk_read_file(state, &data, NULL, NULL) < 0)
        return 0; /* not an external run (or already deleted) */
    _cleanup_json_ json_t *st = mk_json_parse(data, strlen(data), err);
    if (st == NULL)
        return mk_err_wrap(err, "%s", state);
    const char *runtime = mk_json_str(st, "runtime");
    const char *root = mk_json_str(st, "root");
    const char *id = mk_json_str(st, "id");
    if (runtime != NULL && root != NULL && id != NULL) {
        const char *argv[] = {runtime, "--root", root, "delete", "--force", id, NULL};
        int none[3] = {-1, -1, -1};
        /* A container the runtime never created (or already deleted) is fine. */
        if (run_tool((char *const *)argv, none, err) < 0)
            return -1;
    }
    if (mk_json_bool(st, "overlay", false) && umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL &&
        errno != ENOENT)
        return mk_err_sys(err, "unmount %s", rootfs);
    if (unlink(state) < 0 && errno != ENOENT)
        return mk_err_sys(err, "remove %s", state);
    return 0;
}
