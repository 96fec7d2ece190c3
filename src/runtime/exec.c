/* exec.c: mk_runtime_exec, a new process in a running container.
 *
 * The caller forks an intermediate child, which joins the container's cgroup
 * (born in its v2 part, moving itself into the v1 ones: cgroup.c says why),
 * then its namespaces (/proc/INIT/ns/..., the mount namespace last).  Joining a
 * pid namespace only affects children, so the intermediate clones once more
 * with CLONE_PARENT: the final process is inside the pid namespace and yet a
 * child of the caller, who can waitpid it for its exit status.  The
 * intermediate reports that pid through the channel and exits; the caller reaps
 * it before returning. */
#include "runtime/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>

struct exec_ctx {
    const json_t *spec;
    const struct mk_runtime_io *io;
    struct rt_process proc;
    int ns_fd[RT_NS_MAX];
    unsigned long ns_flag[RT_NS_MAX];
    size_t n_ns;
    int *cg_fds;
    size_t n_cg;
    bool in_v2; /* cloned into the v2 cgroup */
    int chan;
};

static int final_child(struct exec_ctx *c, mk_err **err)
{
    umask(0);
    if (c->io->own_process_group && !c->proc.terminal && setpgid(0, 0) < 0)
        return mk_err_sys(err, "setpgid");
    if (c->proc.terminal) {
        int ptmx = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (ptmx < 0)
            return mk_err_sys(err, "open /dev/pts/ptmx in the container");
        int slave = -1;
        if (rt_console_create(ptmx, c->io->console_sock, NULL, &slave, err) < 0 ||
            rt_console_attach(slave, err) < 0)
            return -1;
    }
    return rt_process_exec(&c->proc, err);
}

static int join(struct exec_ctx *c, mk_err **err)
{
    if (rt_cgroup_join_self(c->cg_fds, c->n_cg, c->in_v2, err) < 0)
        return -1;
    if (!c->proc.terminal && rt_stdio_setup(c->io, err) < 0)
        return -1;
    for (size_t i = 0; i < c->n_ns; i++) {
        if (setns(c->ns_fd[i], (int)c->ns_flag[i]) < 0)
            return mk_err_sys(err, "join the container's %s namespace",
                              rt_ns_proc_name(c->ns_flag[i]));
    }
    return 0;
}

static void intermediate(struct exec_ctx *c)
{
    mk_err *err = NULL;
    if (join(c, &err) < 0)
        rt_child_fail(c->chan, err);
    pid_t pid = rt_clone(CLONE_PARENT);
    if (pid < 0) {
        mk_err_sys(&err, "clone into the container");
        rt_child_fail(c->chan, err);
    }
    if (pid == 0) {
        final_child(c, &err);
        rt_child_fail(c->chan, err);
    }
    rt_send_pid(c->chan, pid);
    _exit(0);
}

/* The namespaces to join: those the spec names, when the init's differs
 * from ours (joining our own is harmless but costs a syscall). */
static int open_namespaces(pid_t init_pid, const json_t *spec, struct exec_ctx *c, mk_err **err)
{
    struct rt_ns ns;
    if (rt_ns_parse(spec, &ns, err) < 0)
        return -1;
    rt_ns_clear(&ns);
    for (size_t i = 0; rt_ns_order[i] != 0; i++) {
        unsigned long flag = rt_ns_order[i];
        if (!(ns.all_flags & flag))
            continue;
        const char *name = rt_ns_proc_name(flag);
        _cleanup_free_ char *path = xasprintf("/proc/%d/ns/%s", (int)init_pid, name);
        _cleanup_free_ char *self = xasprintf("/proc/self/ns/%s", name);
        struct stat a, b;
        if (stat(path, &a) < 0)
            return mk_err_sys(err, "container init %d: %s namespace", (int)init_pid, name);
        if (stat(self, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
            continue;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return mk_err_sys(err, "open %s", path);
        c->ns_fd[c->n_ns] = fd;
        c->ns_flag[c->n_ns++] = flag;
    }
    return 0;
}

/* The init's cgroup path in hierarchy 0 of /proc/PID/cgroup, when the spec
 * does not name one (an external runtime may have chosen it). */
static char *init_cgroup(pid_t init_pid)
{
    _cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", (int)init_pid);
    _cleanup_free_ char *data = NULL;
    if (mk_read_file(path, &data, NULL, NULL) < 0)
        return NULL;
    bool v2 = mk_cgroup_detect() == MK_CGROUP_V2;
    for (char *line = data; line != NULL && *line;) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        char *p = strchr(line, ':');
        char *q = p != NULL ? strchr(p + 1, ':') : NULL;
        bool ok = q != NULL && (v2 ? strncmp(line, "0::", 3) == 0 : strstr(p, ":memory:") == p);
        if (ok && strcmp(q + 1, "/") != 0)
            return xstrdup(q + 1);
        line = next;
    }
    return NULL;
}

int mk_runtime_exec(pid_t init_pid, const json_t *spec, const json_t *process,
                    const struct mk_runtime_io *io, pid_t *out_pid, mk_err **err)
{
    struct exec_ctx c = {.spec = spec, .io = io, .chan = -1};
    int ret = -1, r, saved, chan[2];
    pid_t mid, pid = -1;
    const char *cgpath = NULL;
    _cleanup_free_ char *found_cg = NULL;
    _cleanup_close_ int cg_v2 = -1;
    const json_t *spec_proc = json_object_get(spec, "process");
    if (rt_process_parse(process != NULL ? process : spec_proc, spec_proc, spec, &c.proc, err) <
            0 ||
        open_namespaces(init_pid, spec, &c, err) < 0)
        goto out;
    if (rt_cgroup_path(spec, &cgpath, err) < 0)
        goto out;
    if (cgpath == NULL)
        cgpath = found_cg = init_cgroup(init_pid);
    if (cgpath != NULL && (rt_cgroup_open_join(cgpath, &c.cg_fds, &c.n_cg, err) < 0 ||
                           rt_cgroup_open_v2_dir(cgpath, false, &cg_v2, err) < 0))
        goto out;
    if (pipe2(chan, O_CLOEXEC) < 0) {
        mk_err_sys(err, "pipe");
        goto out;
    }
    bool into;
    mid = rt_clone_into(0, cg_v2, &into);
    if (mid == 0) {
        c.in_v2 = into;
        close(chan[0]);
        c.chan = chan[1];
        intermediate(&c);
    }
    saved = errno;
    close(chan[1]);
    if (mid < 0) {
        close(chan[0]);
        mk_err_errno(err, saved, "fork");
        goto out;
    }
    r = rt_channel_await(chan[0], &pid, err);
    close(chan[0]);
    rt_waitpid(mid, NULL);
    if (r < 0) {
        if (pid > 0)
            rt_waitpid(pid, NULL);
        goto out;
    }
    if (pid <= 0) {
        mk_err_set(err, MK_ERR_INTERNAL, "exec: the process did not start");
        goto out;
    }
    *out_pid = pid;
    ret = 0;
out:
    rt_process_clear(&c.proc);
    for (size_t i = 0; i < c.n_ns; i++)
        close(c.ns_fd[i]);
    rt_cgroup_close_fds(c.cg_fds, c.n_cg);
    return ret;
}
