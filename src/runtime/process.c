/* process.c: the OCI process object, from JSON to the execve of the container's
 * command: rlimits, oom score, user and groups, capabilities, no_new_privs,
 * seccomp, cwd, PATH lookup in the container's own PATH.
 *
 * The order follows runc: without no_new_privs the seccomp filter needs
 * CAP_SYS_ADMIN, so it is loaded before the user and capabilities change; with
 * it, as late as possible, right before execve.  Errors use the wording of Go's
 * os/exec and runc, which docker shows and scripts match. */
#include "runtime/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static const struct {
    const char *name;
    int resource;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static const json_t *field(const json_t *p, const json_t *fallback, const char *key)
{
    const json_t *v = json_object_get(p, key);
    return v != NULL ? v : json_object_get(fallback, key);
}

static int parse_rlimits(const json_t *arr, struct rt_process *out, mk_err **err)
{
    size_t n = json_array_size(arr);
    if (n == 0)
        return 0;
    out->rlimits = xcalloc(n, sizeof(*out->rlimits));
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r)
    {
        const char *type = mk_json_str(r, "type");
        int res = -1;
        for (size_t k = 0; type != NULL && k < sizeof(rlimit_names) / sizeof(*rlimit_names); k++)
            if (strcmp(type, rlimit_names[k].name) == 0)
                res = rlimit_names[k].resource;
        if (res < 0)
            return mk_err_set(err, MK_ERR_INVALID, "process.rlimits: unknown type %s",
                              type != NULL ? type : "(none)");
        json_t *hard = json_object_get(r, "hard"), *soft = json_object_get(r, "soft");
        out->rlimits[i].resource = res;
        out->rlimits[i].lim.rlim_max = (rlim_t)json_integer_value(hard);
        out->rlimits[i].lim.rlim_cur = (rlim_t)json_integer_value(soft);
        out->n_rlimits++;
    }
    return 0;
}

int rt_process_parse(const json_t *p, const json_t *fallback, const json_t *spec,
                     struct rt_process *out, mk_err **err)
{
    memset(out, 0, sizeof(*out));
    out->umask = 022;
    out->exec_gate = -1;
    if (!json_is_object(p))
        return mk_err_set(err, MK_ERR_INVALID, "spec has no process");
    out->args = mk_json_strv(json_object_get(p, "args"));
    if (out->args == NULL || out->args[0] == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "process.args must not be empty");
    out->env = mk_json_strv(json_object_get(p, "env"));
    if (out->env == NULL)
        out->env = xcalloc(1, sizeof(char *));
    const char *cwd = mk_json_str(p, "cwd");
    if (cwd == NULL || *cwd == '\0')
        cwd = "/";
    if (cwd[0] != '/')
        return mk_err_set(err, MK_ERR_INVALID, "process.cwd %s: not an absolute path", cwd);
    out->cwd = xstrdup(cwd);
    const json_t *user = json_object_get(p, "user");
    out->uid = (uid_t)mk_json_int(user, "uid", 0);
    out->gid = (gid_t)mk_json_int(user, "gid", 0);
    json_t *um = json_object_get(user, "umask");
    if (json_is_integer(um))
        out->umask = (mode_t)json_integer_value(um) & 07777;
    const json_t *gids = json_object_get(user, "additionalGids");
    out->gids = xcalloc(json_array_size(gids) + 1, sizeof(gid_t));
    size_t i;
    json_t *g;
    json_array_foreach(gids, i, g) out->gids[out->n_gids++] = (gid_t)json_integer_value(g);
    out->terminal = mk_json_bool(p, "terminal", false);

    static const char *const unsupported[] = {"apparmorProfile", "selinuxLabel", "ioPriority",
                                              "scheduler", "execCPUAffinity"};
    for (i = 0; i < sizeof(unsupported) / sizeof(*unsupported); i++) {
        const json_t *v = field(p, fallback, unsupported[i]);
        if (v == NULL || json_is_null(v) || (json_is_string(v) && *json_string_value(v) == '\0'))
            continue;
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "process.%s is not supported by mocker's runtime", unsupported[i]);
    }
    if (rt_caps_parse(field(p, fallback, "capabilities"), &out->caps, err) < 0 ||
        parse_rlimits(field(p, fallback, "rlimits"), out, err) < 0)
        return -1;
    const json_t *nnp = field(p, fallback, "noNewPrivileges");
    out->no_new_privs = json_is_true(nnp);
    const json_t *oom = field(p, fallback, "oomScoreAdj");
    if (json_is_integer(oom)) {
        out->has_oom_score_adj = true;
        out->oom_score_adj = (int)json_integer_value(oom);
    }
    const char *cache =
        mk_json_str(json_object_get(spec, "annotations"), "org.mocker.seccomp.cache");
    if (rt_seccomp_prepare(json_object_get(json_object_get(spec, "linux"), "seccomp"), cache,
                           &out->seccomp, err) < 0)
        return -1;
    return 0;
}

void rt_process_clear(struct rt_process *p)
{
    mk_strv_free(p->args);
    mk_strv_free(p->env);
    free(p->cwd);
    free(p->gids);
    free(p->rlimits);
    rt_seccomp_free(p->seccomp);
    memset(p, 0, sizeof(*p));
}

int rt_stdio_setup(const struct mk_runtime_io *io, mk_err **err)
{
    int src[3] = {io->stdin_fd, io->stdout_fd, io->stderr_fd};
    int tmp[3];
    /* Move everything above 2 first, so that an io fd that is itself 0-2 is not
     * overwritten before it is used. */
    for (int i = 0; i < 3; i++) {
        tmp[i] =
            src[i] >= 0 ? fcntl(src[i], F_DUPFD_CLOEXEC, 3) : open("/dev/null", O_RDWR | O_CLOEXEC);
        if (tmp[i] < 0)
            return mk_err_sys(err, "set up stdio");
    }
    for (int i = 0; i < 3; i++) {
        if (dup2(tmp[i], i) < 0)
            return mk_err_sys(err, "set up stdio");
        close(tmp[i]);
    }
    return 0;
}

/* Go's exec.findExecutable: 0 or an errno; *from_stat says the error came from stat. */
static int find_executable(const char *path, bool *from_stat)
{
    struct stat st;
    *from_stat = false;
    if (stat(path, &st) < 0) {
        *from_stat = true;
        return errno;
    }
    if (S_ISDIR(st.st_mode))
        return EISDIR;
    if (faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0)
        return 0;
    if (errno != ENOSYS && errno != EPERM)
        return errno;
    return (st.st_mode & 0111) ? 0 : EACCES;
}

static const char *env_get(char *const *env, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; env[i] != NULL; i++)
        if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
            return env[i] + len + 1;
    return NULL;
}

/* Go's exec.LookPath with the container's PATH; the result is owned. */
static char *look_path(const char *file, char *const *env, mk_err **err)
{
    char eb[128];
    bool from_stat;
    if (strchr(file, '/') != NULL) {
        int e = find_executable(file, &from_stat);
        if (e == 0)
            return xstrdup(file);
        if (from_stat)
            mk_err_set(err, MK_ERR_INVALID, "exec: \"%s\": stat %s: %s", file, file,
                       rt_errstr(e, eb, sizeof(eb)));
        else
            mk_err_set(err, MK_ERR_INVALID, "exec: \"%s\": %s", file, rt_errstr(e, eb, sizeof(eb)));
        return NULL;
    }
    const char *path = env_get(env, "PATH");
    if (path != NULL) {
        _cleanup_free_ char *copy = xstrdup(path);
        for (char *dir = copy, *next; dir != NULL; dir = next) {
            next = strchr(dir, ':');
            if (next != NULL)
                *next++ = '\0';
            _cleanup_free_ char *cand = xasprintf("%s/%s", *dir ? dir : ".", file);
            if (find_executable(cand, &from_stat) != 0)
                continue;
            if (cand[0] != '/') {
                mk_err_set(err, MK_ERR_INVALID,
                           "exec: \"%s\": cannot run executable found relative to current "
                           "directory",
                           file);
                return NULL;
            }
            return steal_pointer(&cand);
        }
    }
    mk_err_set(err, MK_ERR_INVALID, "exec: \"%s\": executable file not found in $PATH", file);
    return NULL;
}

static int set_user(const struct rt_process *p, mk_err **err)
{
    /* Keep the permitted set across setuid; capset then sets what the spec says. */
    if (p->caps.set && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
        return mk_err_sys(err, "prctl(PR_SET_KEEPCAPS)");
    if (setgroups(p->n_gids, p->gids) < 0)
        return mk_err_sys(err, "setgroups");
    if (setresgid(p->gid, p->gid, p->gid) < 0)
        return mk_err_sys(err, "setgid %u", (unsigned)p->gid);
    if (setresuid(p->uid, p->uid, p->uid) < 0)
        return mk_err_sys(err, "setuid %u", (unsigned)p->uid);
    if (p->caps.set && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
        return mk_err_sys(err, "prctl(PR_SET_KEEPCAPS)");
    return 0;
}

/* glibc keeps signals 32 and 33 for itself (signal() and sigaction() refuse
 * them), and its posix_spawn leaves them ignored in the child when the parent
 * had a handler: `start` spawns the monitor so, and an ignored disposition
 * crosses execve.  Reset with the raw syscall, in this single-threaded child
 * about to exec, so the container starts as docker's do (SigIgn 0). */
static void reset_libc_signals(void)
{
    struct {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)(void);
        uint64_t mask;
    } dfl = {SIG_DFL, 0, NULL, 0};
    for (int sig = 32; sig <= 33; sig++)
        syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(dfl.mask));
}

int rt_process_exec(const struct rt_process *p, mk_err **err)
{
    char eb[128];
    for (size_t i = 0; i < p->n_rlimits; i++) {
        if (setrlimit(p->rlimits[i].resource, &p->rlimits[i].lim) < 0)
            return mk_err_sys(err, "setrlimit %d", p->rlimits[i].resource);
    }
    if (p->has_oom_score_adj) {
        char v[16];
        int n = snprintf(v, sizeof(v), "%d", p->oom_score_adj);
        _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, v, (size_t)n) < 0)
            return mk_err_sys(err, "set oom_score_adj");
    }
    if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return mk_err_sys(err, "prctl(PR_SET_NO_NEW_PRIVS)");
    if (!p->no_new_privs && rt_seccomp_load(p->seccomp, err) < 0)
        return -1;
    mk_trace("child-seccomp");
    if (rt_caps_drop_bounding(&p->caps, err) < 0 || set_user(p, err) < 0)
        return -1;
    umask(p->umask);
    if (chdir(p->cwd) < 0) {
        int e = errno;
        mk_err_set(err, MK_ERR_INVALID, "chdir to cwd (\"%s\") set in config.json failed: %s",
                   p->cwd, rt_errstr(e, eb, sizeof(eb)));
        rt_err_classify(err);
        return -1;
    }
    if (rt_caps_apply(&p->caps, err) < 0)
        return -1;
    _cleanup_free_ char *path = look_path(p->args[0], p->env, err);
    if (path == NULL) {
        rt_err_classify(err);
        return -1;
    }
    /* Everything above overlapped the monitor's before_exec work. */
    if (p->exec_gate >= 0 && rt_gate_wait(p->exec_gate, "the container's network", err) < 0)
        return -1;
    if (p->no_new_privs && rt_seccomp_load(p->seccomp, err) < 0)
        return -1;
    /* No host fd crosses execve: the channel is CLOEXEC already. */
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        mk_close_fds_from(3);
    /* The process starts with no signal blocked, whatever its creator had
     * blocked (mocker serve's threads block SIGINT and SIGTERM). */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    reset_libc_signals();
    mk_trace("child-execve");
    execve(path, p->args, p->env);
    int e = errno;
    mk_err_set(err, MK_ERR_INVALID, "exec %s: %s", path, rt_errstr(e, eb, sizeof(eb)));
    rt_err_classify(err);
    return -1;
}
