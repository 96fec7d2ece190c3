/* linux.c: mk_runtime_run, the built-in runtime's start path.
 *
 * The parent prepares (process, seccomp program, cgroup with its resources and
 * open cgroup.procs fds, namespace fds), then clones the init straight into its
 * new namespaces.  The child, in order: dies with its parent (PDEATHSIG, then a
 * pidfd poll to close the race), stdio, joins the cgroup and only then unshares
 * the cgroup namespace (so it sees itself at the root), joins the namespaces
 * given by path, hostname, rootfs and mounts, pivot_root, sysctl/readonly/masked
 * paths, terminal, then the process (process.c) and execve.  A failure travels
 * back through the channel (channel.c); its EOF on execve means success.
 *
 * Only syscalls on this path: no helper program is ever forked. */
#include "runtime/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
    unsigned long flag;
    const char *spec_name;
    const char *proc_name;
} ns_table[] = {
    {CLONE_NEWPID, "pid", "pid"},    {CLONE_NEWNET, "network", "net"},
    {CLONE_NEWNS, "mount", "mnt"},   {CLONE_NEWIPC, "ipc", "ipc"},
    {CLONE_NEWUTS, "uts", "uts"},    {CLONE_NEWCGROUP, "cgroup", "cgroup"},
    {CLONE_NEWUSER, "user", "user"}, {CLONE_NEWTIME, "time", "time"},
};
#define N_NS (sizeof(ns_table) / sizeof(*ns_table))

const unsigned long rt_ns_order[] = {
    CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWNS, 0};

const char *rt_ns_proc_name(unsigned long flag)
{
    for (size_t i = 0; i < N_NS; i++)
        if (ns_table[i].flag == flag)
            return ns_table[i].proc_name;
    return NULL;
}

void rt_ns_clear(struct rt_ns *ns)
{
    for (size_t i = 0; i < ns->n_join; i++)
        close(ns->join_fd[i]);
    ns->n_join = 0;
}

int rt_ns_parse(const json_t *spec, struct rt_ns *out, mk_err **err)
{
    memset(out, 0, sizeof(*out));
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(json_object_get(spec, "linux"), "namespaces"), i, n)
    {
        const char *type = mk_json_str(n, "type");
        const char *path = mk_json_str(n, "path");
        unsigned long flag = 0;
        for (size_t k = 0; type != NULL && k < N_NS; k++)
            if (strcmp(type, ns_table[k].spec_name) == 0)
                flag = ns_table[k].flag;
        if (flag == 0) {
            rt_ns_clear(out);
            return mk_err_set(err, MK_ERR_INVALID, "linux.namespaces: unknown type %s",
                              type != NULL ? type : "(none)");
        }
        if (flag == CLONE_NEWUSER || flag == CLONE_NEWTIME ||
            (flag == CLONE_NEWNS && path != NULL && *path != '\0')) {
            rt_ns_clear(out);
            return mk_err_set(err, MK_ERR_UNSUPPORTED,
                              "%s namespace%s is not supported by mocker's runtime", type,
                              flag == CLONE_NEWNS ? " given by path" : "");
        }
        out->all_flags |= flag;
        if (path == NULL || *path == '\0') {
            out->new_flags |= flag;
            continue;
        }
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            mk_err_sys(err, "open %s namespace %s", type, path);
            rt_ns_clear(out);
            return -1;
        }
        out->join_fd[out->n_join] = fd;
        out->join_flag[out->n_join++] = flag;
    }
    if (!(out->new_flags & CLONE_NEWNS)) {
        rt_ns_clear(out);
        return mk_err_set(err, MK_ERR_INVALID, "mocker's runtime needs a new mount namespace");
    }
    return 0;
}

struct run_ctx {
    const json_t *spec;
    const struct mk_runtime_io *io;
    struct rt_process proc;
    struct rt_ns ns;
    struct rt_rootfs rootfs;
    int parent_pidfd;
    int chan;
    int gate; /* the monitor's end of the cgroup gate */
};

static int child_setup(struct run_ctx *c, mk_err **err)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        return mk_err_sys(err, "prctl(PR_SET_PDEATHSIG)");
    /* The parent may have died before PDEATHSIG was armed. */
    struct pollfd pf = {.fd = c->parent_pidfd, .events = POLLIN};
    if (c->parent_pidfd >= 0 && poll(&pf, 1, 0) > 0)
        _exit(1);
    mk_trace("child-start");
    umask(0);
    if (!c->proc.terminal && rt_stdio_setup(c->io, err) < 0)
        return -1;
    for (size_t i = 0; i < c->ns.n_join; i++) {
        if (c->ns.join_flag[i] == CLONE_NEWPID)
            continue; /* the parent joined it for us */
        if (setns(c->ns.join_fd[i], (int)c->ns.join_flag[i]) < 0)
            return mk_err_sys(err, "join %s namespace", rt_ns_proc_name(c->ns.join_flag[i]));
    }
    const char *hostname = mk_json_str(c->spec, "hostname");
    const char *domain = mk_json_str(c->spec, "domainname");
    if ((hostname != NULL && *hostname) || (domain != NULL && *domain)) {
        if (!(c->ns.all_flags & CLONE_NEWUTS))
            return mk_err_set(err, MK_ERR_INVALID,
                              "unable to set hostname without a private UTS namespace");
        if (hostname != NULL && *hostname && sethostname(hostname, strlen(hostname)) < 0)
            return mk_err_sys(err, "sethostname");
        if (domain != NULL && *domain && setdomainname(domain, strlen(domain)) < 0)
            return mk_err_sys(err, "setdomainname");
    }
    mk_trace("child-ns");
    if (rt_rootfs_setup(&c->rootfs, err) < 0 || rt_cgroup_gate_pass(&c->rootfs, err) < 0)
        return -1;
    mk_trace("child-pivot");
    if (rt_rootfs_finish(c->spec, err) < 0)
        return -1;
    mk_trace("child-finish");
    if (c->proc.terminal && rt_console_attach(c->rootfs.console_slave, err) < 0)
        return -1;
    return rt_process_exec(&c->proc, err);
}

static void run_ctx_clear(struct run_ctx *c)
{
    rt_process_clear(&c->proc);
    rt_ns_clear(&c->ns);
    if (c->parent_pidfd >= 0)
        close(c->parent_pidfd);
    if (c->gate >= 0)
        close(c->gate);
    if (c->chan >= 0)
        close(c->chan);
}

static bool has_cgroup_mount(const json_t *spec)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(spec, "mounts"), i, m)
    {
        const char *type = mk_json_str(m, "type");
        if (type != NULL && strcmp(type, "cgroup") == 0)
            return true;
    }
    return false;
}

/* Clone the init; a pid namespace given by path is entered by the parent for
 * the duration of the clone (setns(CLONE_NEWPID) only affects children). */
static pid_t clone_init(struct run_ctx *c, int cgroup_fd, mk_err **err)
{
    _cleanup_close_ int own_pidns = -1;
    for (size_t i = 0; i < c->ns.n_join; i++) {
        if (c->ns.join_flag[i] != CLONE_NEWPID)
            continue;
        own_pidns = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
        if (own_pidns < 0)
            return mk_err_sys(err, "open /proc/self/ns/pid");
        if (setns(c->ns.join_fd[i], CLONE_NEWPID) < 0)
            return mk_err_sys(err, "join pid namespace");
    }
    int chan[2], gate[2];
    if (pipe2(chan, O_CLOEXEC) < 0)
        return mk_err_sys(err, "pipe");
    /* A socket, not a pipe: the monitor's send to an init that already died
     * must fail with EPIPE, not kill it with SIGPIPE. */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gate) < 0) {
        close(chan[0]);
        close(chan[1]);
        return mk_err_sys(err, "pipe");
    }
    bool into = false;
    pid_t pid = rt_clone_into(c->ns.new_flags & ~(unsigned long)CLONE_NEWCGROUP, cgroup_fd, &into);
    if (pid == 0) {
        c->rootfs.cloned_into_v2 = into;
        close(chan[0]);
        close(gate[1]);
        c->chan = chan[1];
        c->rootfs.cgroup_gate = gate[0];
        if (c->io->before_exec != NULL)
            c->proc.exec_gate = gate[0];
        mk_err *cerr = NULL;
        child_setup(c, &cerr);
        rt_child_fail(c->chan, cerr);
    }
    int saved = errno;
    close(chan[1]);
    close(gate[0]);
    if (own_pidns >= 0)
        setns(own_pidns, CLONE_NEWPID);
    if (pid < 0) {
        close(chan[0]);
        close(gate[1]);
        return mk_err_errno(err, saved, "clone the container's init");
    }
    c->chan = chan[0];
    c->gate = gate[1];
    return pid;
}

int mk_runtime_run(const char *bundle, const json_t *spec, const char *id,
                   const struct mk_runtime_io *io, pid_t *out_pid, int *out_mounts,
                   mk_err **err)
{
    mk_trace("run-start");
    struct run_ctx c = {.spec = spec, .io = io, .parent_pidfd = -1, .chan = -1, .gate = -1};
    c.rootfs = (struct rt_rootfs){.spec = spec,
                                  .bundle = bundle,
                                  .console_sock = io->console_sock,
                                  .console_slave = -1,
                                  .cgroup_gate = -1,
                                  .rootfs_mnt = -1};
    const char *cgpath = NULL;
    int ret = -1, r;
    if (out_mounts != NULL)
        *out_mounts = -1;
    bool cg_created = false;
    int cg_v2 = -1;
    int *cg_fds = NULL;
    size_t n_cg = 0;
    pid_t pid;
    const json_t *resources = json_object_get(json_object_get(spec, "linux"), "resources");
    if (rt_process_parse(json_object_get(spec, "process"), NULL, spec, &c.proc, err) < 0 ||
        rt_ns_parse(spec, &c.ns, err) < 0 || rt_cgroup_path(spec, &cgpath, err) < 0)
        goto out;
    mk_trace("run-parsed");
    c.rootfs.terminal = c.proc.terminal;
    c.rootfs.cgroup_path = cgpath;
    c.rootfs.cgroupns = (c.ns.all_flags & CLONE_NEWCGROUP) != 0;
    c.rootfs.unshare_cgroupns = (c.ns.new_flags & CLONE_NEWCGROUP) != 0;
    if (cgpath == NULL && json_object_size(resources) > 0) {
        mk_err_set(err, MK_ERR_INVALID, "linux.resources need linux.cgroupsPath");
        goto out;
    }
    if (mk_cgroup_detect() != MK_CGROUP_V2 && has_cgroup_mount(spec) &&
        rt_cgroup_v1_mounts(&c.rootfs.cg_mounts, &c.rootfs.n_cg_mounts, err) < 0)
        goto out;
    mk_trace("run-cgmounts");
    if (rt_rootfs_job_take(io->rootfs, spec, &c.rootfs.rootfs_mnt, err) < 0)
        goto out;
    c.parent_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
    /* The init is born in its v2 cgroup; the v1 ones are made while it
     * mounts, and it moves itself in at the gate (cgroup.c says why). */
    if (cgpath != NULL) {
        cg_created = true;
        if (rt_cgroup_open_v2_dir(cgpath, true, &cg_v2, err) < 0) {
            mk_closep(&c.rootfs.rootfs_mnt);
            goto out;
        }
    }
    pid = clone_init(&c, cg_v2, err);
    mk_closep(&cg_v2);
    /* The init has its copy. */
    mk_closep(&c.rootfs.rootfs_mnt);
    if (pid < 0)
        goto out;
    mk_trace("run-cloned");
    if (out_mounts != NULL) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
        /* Only a cost saved: without it the exit unmounts, as always. */
        *out_mounts = open(path, O_RDONLY | O_CLOEXEC);
    }
    /* The cgroup is made while the init mounts its rootfs (the gate), and
     * the files it moves itself in through are opened for it. */
    if (cgpath != NULL && (mk_cgroup_create(cgpath, resources, err) < 0 ||
                           rt_cgroup_open_join(cgpath, &cg_fds, &n_cg, err) < 0)) {
        kill(pid, SIGKILL);
        rt_waitpid(pid, NULL);
        goto out;
    }
    mk_trace("run-cgroup");
    rt_gate_open(c.gate, cg_fds, n_cg);
    rt_cgroup_close_fds(cg_fds, n_cg);
    cg_fds = NULL;
    if (io->before_exec != NULL) {
        if (io->before_exec(io->setting_up_ctx, err) < 0) {
            kill(pid, SIGKILL);
            rt_waitpid(pid, NULL);
            goto out;
        }
        (void)send(c.gate, "2", 1, MSG_NOSIGNAL);
    }
    mk_closep(&c.gate);
    if (io->setting_up != NULL)
        io->setting_up(io->setting_up_ctx);
    r = rt_channel_await(c.chan, NULL, err);
    mk_closep(&c.chan);
    mk_trace("run-exec");
    if (r < 0) {
        rt_waitpid(pid, NULL);
        goto out;
    }
    *out_pid = pid;
    ret = 0;
out:
    if (ret < 0 && out_mounts != NULL)
        mk_closep(out_mounts);
    rt_cgroup_close_fds(cg_fds, n_cg);
    if (ret < 0 && cg_created)
        mk_cgroup_destroy(cgpath, NULL);
    run_ctx_clear(&c);
    (void)id;
    return ret;
}

int mk_runtime_delete(const json_t *spec, mk_err **err)
{
    if (rt_external_delete(spec, err) < 0)
        return -1;
    const char *cgpath = NULL;
    if (rt_cgroup_path(spec, &cgpath, err) < 0)
        return -1;
    if (cgpath != NULL && mk_cgroup_destroy(cgpath, err) < 0)
        return -1;
    return 0;
}
