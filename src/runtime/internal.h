/* internal.h: what the files of the built-in runtime share and nobody else uses.
 *
 * The start path is split in two: the parent (the monitor, or the engine for an
 * exec) parses and prepares everything that may allocate, read host files or
 * compile (the process, the seccomp program, cgroup fds), then clones; the child
 * only issues syscalls and reports a failure back through the "channel", a
 * CLOEXEC pipe whose clean EOF means that execve succeeded. */
#ifndef MK_RUNTIME_INTERNAL_H
#define MK_RUNTIME_INTERNAL_H

#include "runtime/runtime.h"

#include <linux/filter.h>
#include <sys/resource.h>

/* ---- the channel between a child and its parent ---- */
enum rt_msg_type { RT_MSG_ERROR = 1, RT_MSG_PID = 2 };
/* Report e to the parent and _exit: the tail of every failed child. */
__attribute__((noreturn)) void rt_child_fail(int chan, mk_err *e);
void rt_send_pid(int chan, pid_t pid);
/* Read the channel until EOF.  A PID message fills *pid (may be NULL); an error
 * message becomes *err and makes this return -1. */
int rt_channel_await(int chan, pid_t *pid, mk_err **err);
/* fork(2) semantics through the raw syscall, with extra clone flags (namespaces,
 * CLONE_PARENT).  Callers are single-threaded: no atfork handlers run. */
pid_t rt_clone(unsigned long flags);
/* rt_clone, the child born in the v2 cgroup whose directory cgroup_fd is
 * (CLONE_INTO_CGROUP) when cgroup_fd >= 0 and the kernel can: *into says
 * whether it was, in both processes. */
pid_t rt_clone_into(unsigned long flags, int cgroup_fd, bool *into);
int rt_waitpid(pid_t pid, int *status);

/* ---- seccomp (seccomp.c) ---- */
struct rt_seccomp {
    struct sock_fprog prog; /* prog.filter is owned */
    unsigned int flags;     /* SECCOMP_FILTER_FLAG_* */
};
/* Compile linux.seccomp (NULL: *out = NULL), through the cache dir when given. */
int rt_seccomp_prepare(const json_t *seccomp, const char *cache_dir, struct rt_seccomp **out,
                       mk_err **err);
void rt_seccomp_free(struct rt_seccomp *s);
int rt_seccomp_load(const struct rt_seccomp *s, mk_err **err);
/* linux.seccomp compiled by libseccomp as it is, not compacted (for tests). */
int rt_seccomp_compile(const json_t *seccomp, struct sock_fprog *prog, mk_err **err);

/* ---- seccomp programs (seccomp_compact.c) ---- */
struct seccomp_data;
/* Run a classic BPF program over d as the kernel would: 0 and *ret, or -1 if
 * the program is not one the kernel would run. */
int rt_bpf_run(const struct sock_fprog *prog, const struct seccomp_data *d, uint32_t *ret);
/* libseccomp's program for in, as a search over ranges of syscall numbers:
 * true and *out (its filter to free) if that is shorter and does the same. */
bool rt_bpf_compact(const struct sock_fprog *in, struct sock_fprog *out);

/* ---- capabilities (caps.c) ---- */
struct rt_caps {
    bool set; /* false: the process keeps what it has */
    uint64_t bounding, effective, permitted, inheritable, ambient;
};
int rt_caps_parse(const json_t *caps, struct rt_caps *out, mk_err **err);
int rt_caps_drop_bounding(const struct rt_caps *c, mk_err **err);
int rt_caps_apply(const struct rt_caps *c, mk_err **err);
/* "CAP_CHOWN" -> 0; -1 if unknown. */
int rt_cap_from_name(const char *name);

/* ---- the process (process.c) ---- */
struct rt_rlimit {
    int resource;
    struct rlimit lim;
};
struct rt_process {
    char **args;
    char **env;
    char *cwd;
    uid_t uid;
    gid_t gid;
    gid_t *gids;
    size_t n_gids;
    mode_t umask;
    struct rt_caps caps;
    struct rt_rlimit *rlimits;
    size_t n_rlimits;
    bool no_new_privs;
    bool has_oom_score_adj;
    int oom_score_adj;
    bool terminal;
    struct rt_seccomp *seccomp;
    /* >= 0: the child's end of the gate; the monitor's second byte on it
     * lets the execve happen (mk_runtime_io.before_exec). */
    int exec_gate;
};
/* Parse process (fields it lacks come from fallback, another process object,
 * which may be NULL) and compile the spec's seccomp. */
int rt_process_parse(const json_t *process, const json_t *fallback, const json_t *spec,
                     struct rt_process *out, mk_err **err);
void rt_process_clear(struct rt_process *p);
/* In the child, inside the container's root: rlimits, user, capabilities,
 * seccomp, cwd, PATH lookup, execve.  Only returns on failure. */
int rt_process_exec(const struct rt_process *p, mk_err **err);
/* dup2 the io fds (or /dev/null) onto 0, 1, 2. */
int rt_stdio_setup(const struct mk_runtime_io *io, mk_err **err);

/* ---- the console (console.c) ---- */
/* Unlock the pty master ptmx (an fd opened on the container's own devpts
 * ptmx, taken over), give it the OCI process.consoleSize size (may be NULL),
 * send it over sock and open the slave into *slave. */
int rt_console_create(int ptmx, int sock, const json_t *size, int *slave, mk_err **err);
/* setsid, make slave the controlling terminal, dup2 it to 0-2. */
int rt_console_attach(int slave, mk_err **err);

/* ---- mounts (mounts.c) ---- */
/* Mount the overlay of the org.mocker.rootfs.* annotations on target; 0 with
 * *mounted false when the spec has none. */
int rt_overlay_mount(const json_t *spec, const char *target, bool *mounted, mk_err **err);
/* The overlay of a spec's annotations as a detached mount: 1 with *mnt, 0
 * when they name none or the kernel has no fsopen (rt_overlay_mount then
 * mounts it), -1. */
int rt_overlay_open(const json_t *annotations, int *mnt, mk_err **err);
/* Move the detached mount mnt onto target. */
int rt_rootfs_attach(int mnt, const char *target, bool *mounted, mk_err **err);
/* The mount a rootfs job made for spec (-1: none, or not the overlay spec
 * describes: the init mounts the spec's overlay itself), after waiting for
 * it; its error when it failed.  NULL is fine. */
struct mk_rootfs_job;
int rt_rootfs_job_take(struct mk_rootfs_job *j, const json_t *spec, int *mnt, mk_err **err);
struct rt_rootfs {
    const json_t *spec;
    const char *bundle;
    const char *cgroup_path; /* NULL: no cgroup */
    bool cgroupns;
    const struct rt_cgroup_v1_mount *cg_mounts; /* v1 hierarchies (not on v2) */
    size_t n_cg_mounts;
    bool terminal;
    int console_sock;
    int console_slave; /* out: the pty slave when terminal */
    int rootfs_mnt;    /* >= 0: the rootfs, made ahead (rootfs_job.c) */
    /* The child's end of the gate (rt_cgroup_gate_pass), -1 once passed. */
    int cgroup_gate;
    bool unshare_cgroupns; /* a new cgroup namespace, entered at the gate */
    bool cloned_into_v2;   /* born in its v2 cgroup (rt_clone_into) */
};
/* In the child's new mount namespace, before pivot: propagation, overlay,
 * spec mounts, /dev, the console, then pivot_root into the rootfs. */
int rt_rootfs_setup(struct rt_rootfs *r, mk_err **err);
/* After pivot: sysctl, readonly and masked paths, read-only root. */
int rt_rootfs_finish(const json_t *spec, mk_err **err);

/* ---- cgroups (cgroup.c) ---- */
/* Validated cgroupsPath of the spec ("/mocker/id"), NULL when absent. */
int rt_cgroup_path(const json_t *spec, const char **out, mk_err **err);
/* A container cgroup's directory for a v1 controller ("" or any name on v2). */
char *rt_cgroup_dir(const char *controller, const char *path);
/* One cgroup file: write a value; read its first line (NULL if unreadable); read
 * it as a number ("max" is INT64_MAX); the value of "key N" in a flat-keyed file
 * (-1 if absent). */
int rt_cgroup_write(const char *dir, const char *file, const char *value, mk_err **err);
char *rt_cgroup_read(const char *dir, const char *file);
int64_t rt_cgroup_read_i64(const char *dir, const char *file, bool *ok);
int64_t rt_cgroup_keyed(const char *dir, const char *file, const char *key);
/* The directory of the cgroup in the v2 hierarchy (v2, or hybrid's
 * unified), made first if make, opened for rt_clone_into; *fd -1 when the
 * host has no v2 hierarchy. */
int rt_cgroup_open_v2_dir(const char *path, bool make, int *fd, mk_err **err);
/* The files through which a single-threaded process moves itself into the
 * cgroup: each v1 hierarchy's tasks, the v2 hierarchy's cgroup.procs. */
int rt_cgroup_open_join(const char *path, int **fds, size_t *n, mk_err **err);
/* Write "0" (the caller) to each, but v2's when in_v2 (cloned into it). */
int rt_cgroup_join_self(const int *fds, size_t n, bool in_v2, mk_err **err);
/* The container's init is cloned into its v2 cgroup before the v1 ones
 * exist: the monitor creates them while the init mounts its rootfs.  The
 * init waits at this gate (the monitor's first byte on the gate socket)
 * before anything that must happen inside the cgroup (its cgroup namespace,
 * the cgroup mount, the exec), moves itself into the cgroup, then unshares
 * the cgroup namespace if asked.  Passing it a second time does nothing; the socket
 * stays open for the exec gate (rt_process.exec_gate). */
int rt_cgroup_gate_pass(struct rt_rootfs *r, mk_err **err);
/* Wait for the monitor's next byte on a gate; what names the wait in the
 * error when the monitor closes it instead (it gave up on the container). */
int rt_gate_wait(int fd, const char *what, mk_err **err);
/* The same, taking up to max fds sent with the byte (*n_fds of them, close-on-exec). */
int rt_gate_wait_fds(int fd, const char *what, int *fds, size_t *n_fds, size_t max, mk_err **err);
/* The monitor's byte on a gate, with n_fds fds (0: none). */
void rt_gate_open(int fd, const int *fds, size_t n_fds);
void rt_cgroup_close_fds(int *fds, size_t n);
/* The v1 hierarchies as the host mounts them: mount point and the options
 * ("cpu,cpuacct", "name=systemd"), read once per process (not to be freed). */
struct rt_cgroup_v1_mount {
    char *dir;  /* /sys/fs/cgroup/cpu,cpuacct */
    char *name; /* cpu,cpuacct */
    char *opts; /* cpu,cpuacct or name=systemd */
};
int rt_cgroup_v1_mounts(const struct rt_cgroup_v1_mount **out, size_t *n, mk_err **err);

/* ---- namespaces (linux.c) ---- */
#define RT_NS_MAX 8
struct rt_ns {
    unsigned long new_flags; /* CLONE_NEW* to create */
    unsigned long all_flags; /* created or joined */
    int join_fd[RT_NS_MAX];  /* namespaces given by path, opened */
    unsigned long join_flag[RT_NS_MAX];
    size_t n_join;
};
int rt_ns_parse(const json_t *spec, struct rt_ns *out, mk_err **err);
void rt_ns_clear(struct rt_ns *ns);
/* "net" for CLONE_NEWNET: the name under /proc/PID/ns; NULL if unknown. */
const char *rt_ns_proc_name(unsigned long flag);
/* The order namespaces are joined in (the mount namespace last). */
extern const unsigned long rt_ns_order[];

/* ---- external runtimes (external.c) ---- */
/* runc delete + host rootfs unmount, when the spec ran through an external runtime. */
int rt_external_delete(const json_t *spec, mk_err **err);


/* ---- helpers ---- */
/* Go's error strings: strerror with a lower-case first letter. */
const char *rt_errstr(int errnum, char *buf, size_t len);
/* docker CLI's rule for a failed start: 127 for "not found", 126 for
 * "permission denied" / "is a directory", else 125. */
void rt_err_classify(mk_err **err);

#endif
