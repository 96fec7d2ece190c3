/* test_runtime.c: the built-in OCI runtime end to end, as root, on a busybox
 * rootfs built in a temp dir and mounted as an overlay through the annotations. */
#include "runtime/internal.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static char tmpdir[64];
static char *lower, *upper, *work, *merged, *cachedir;
static int counter;

static const char *const docker_caps[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
    NULL,
};

static int copy_file(const char *from, const char *to, mode_t mode)
{
    char *data = NULL;
    size_t len;
    if (mk_read_file(from, &data, &len, NULL) < 0)
        return -1;
    int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    int r = fd >= 0 ? mk_write_all(fd, data, len) : -1;
    if (fd >= 0)
        close(fd);
    free(data);
    return r;
}

static void build_rootfs(void)
{
    strcpy(tmpdir, "/tmp/mk-rt-test-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        abort();
    lower = mk_path_join(tmpdir, "lower");
    upper = mk_path_join(tmpdir, "upper");
    work = mk_path_join(tmpdir, "work");
    merged = mk_path_join(tmpdir, "rootfs");
    cachedir = mk_path_join(tmpdir, "seccomp-cache");
    static const char *const dirs[] = {"bin", "etc", "proc", "sys", "dev", "tmp", "root", NULL};
    for (size_t i = 0; dirs[i]; i++) {
        char *d = mk_path_join(lower, dirs[i]);
        mk_mkdir_p(d, 0755, NULL);
        free(d);
    }
    mk_mkdir_p(upper, 0755, NULL);
    mk_mkdir_p(work, 0755, NULL);
    mk_mkdir_p(merged, 0755, NULL);
    char *bb = mk_path_join(lower, "bin/busybox");
    if (copy_file("/bin/busybox", bb, 0755) < 0)
        abort();
    free(bb);
    static const char *const applets[] = {"sh",       "cat",   "id",   "hostname", "ls",    "sleep",
                                          "true",     "false", "echo", "grep",     "touch", "mkdir",
                                          "readlink", "tty",   "wc",   NULL};
    for (size_t i = 0; applets[i]; i++) {
        char *l = xasprintf("%s/bin/%s", lower, applets[i]);
        if (symlink("busybox", l) < 0)
            abort();
        free(l);
    }
    char *pw = mk_path_join(lower, "etc/passwd");
    int fd = open(pw, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        mk_write_all(fd, "root:x:0:0:root:/root:/bin/sh\n", 31);
        close(fd);
    }
    free(pw);
}

static json_t *mount_obj(const char *dest, const char *type, const char *src, const char *opts)
{
    json_t *o = json_array();
    _cleanup_free_ char *copy = xstrdup(opts);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        json_array_append_new(o, json_string(t));
    return json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type, "source", src,
                     "options", o);
}

static json_t *strv_json(const char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static char *cg_path;

/* Docker's spec for a default `docker run`, on this rootfs. */
static json_t *make_spec(const char *const *args)
{
    json_t *caps = json_object();
    static const char *const sets[] = {"bounding", "effective", "permitted"};
    for (size_t i = 0; i < 3; i++)
        json_object_set_new(caps, sets[i], strv_json(docker_caps));
    const char *env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                         "HOME=/root", NULL};
    json_t *process = json_pack(
        "{s:b, s:{s:i, s:i}, s:o, s:o, s:s, s:o, s:[{s:s, s:i, s:i}], s:b, s:i}", "terminal", 0,
        "user", "uid", 0, "gid", 0, "args", strv_json(args), "env", strv_json(env), "cwd", "/",
        "capabilities", caps, "rlimits", "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024,
        "noNewPrivileges", 0, "oomScoreAdj", 0);
    json_t *mounts = json_array();
    json_array_append_new(mounts, mount_obj("/proc", "proc", "proc", "nosuid,noexec,nodev"));
    json_array_append_new(
        mounts, mount_obj("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"));
    json_array_append_new(mounts,
                          mount_obj("/dev/pts", "devpts", "devpts",
                                    "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
    json_array_append_new(mounts, mount_obj("/sys", "sysfs", "sysfs", "nosuid,noexec,nodev,ro"));
    json_array_append_new(
        mounts, mount_obj("/sys/fs/cgroup", "cgroup", "cgroup", "nosuid,noexec,nodev,relatime,ro"));
    json_array_append_new(mounts,
                          mount_obj("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
    json_array_append_new(mounts, mount_obj("/dev/shm", "tmpfs", "shm",
                                            "nosuid,noexec,nodev,mode=1777,size=67108864"));
    const char *masked[] = {"/proc/asound",
                            "/proc/acpi",
                            "/proc/kcore",
                            "/proc/keys",
                            "/proc/latency_stats",
                            "/proc/timer_list",
                            "/proc/timer_stats",
                            "/proc/sched_debug",
                            "/proc/scsi",
                            "/sys/firmware",
                            "/sys/devices/virtual/powercap",
                            NULL};
    const char *ro[] = {"/proc/bus",           "/proc/fs", "/proc/irq", "/proc/sys",
                        "/proc/sysrq-trigger", NULL};
    json_t *devices = json_array();
    json_array_append_new(devices, json_pack("{s:b, s:s}", "allow", 0, "access", "rwm"));
    static const int allowed[][2] = {{1, 3}, {1, 5}, {1, 7}, {1, 8},   {1, 9},
                                     {5, 0}, {5, 1}, {5, 2}, {10, 200}};
    for (size_t i = 0; i < 9; i++)
        json_array_append_new(devices, json_pack("{s:b, s:s, s:i, s:i, s:s}", "allow", 1, "type",
                                                 "c", "major", allowed[i][0], "minor",
                                                 allowed[i][1], "access", "rwm"));
    json_array_append_new(devices, json_pack("{s:b, s:s, s:i, s:s}", "allow", 1, "type", "c",
                                             "major", 136, "access", "rwm"));
    json_array_append_new(devices,
                          json_pack("{s:b, s:s, s:s}", "allow", 1, "type", "c", "access", "m"));
    json_array_append_new(devices,
                          json_pack("{s:b, s:s, s:s}", "allow", 1, "type", "b", "access", "m"));
    free(cg_path);
    cg_path = xasprintf("/mocker-test/%d-%d", (int)getpid(), counter++);
    _cleanup_free_ char *lowers = xstrdup(lower);
    json_t *linux_ =
        json_pack("{s:[{s:s},{s:s},{s:s},{s:s},{s:s}], s:s, s:{s:{s:I}, s:{s:I}, s:o}, s:o, s:o}",
                  "namespaces", "type", "pid", "type", "mount", "type", "uts", "type", "ipc",
                  "type", "network", "cgroupsPath", cg_path, "resources", "memory", "limit",
                  (json_int_t)64 * 1024 * 1024, "pids", "limit", (json_int_t)100, "devices",
                  devices, "maskedPaths", strv_json(masked), "readonlyPaths", strv_json(ro));
    json_t *ann = json_pack("{s:s, s:s, s:s, s:s}", "org.mocker.rootfs.lowerdirs", lowers,
                            "org.mocker.rootfs.upperdir", upper, "org.mocker.rootfs.workdir", work,
                            "org.mocker.seccomp.cache", cachedir);
    return json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o, s:o}", "ociVersion", "1.0.2",
                     "process", process, "root", "path", merged, "readonly", 0, "hostname",
                     "testhost", "mounts", mounts, "linux", linux_, "annotations", ann);
}

static char *read_fd_all(int fd)
{
    mk_buf b = {0};
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        mk_buf_append(&b, buf, (size_t)n);
    mk_buf_append(&b, "", 0);
    char *s = mk_buf_steal(&b);
    return s != NULL ? s : xstrdup("");
}

/* Run spec, collect stdout (stderr goes to ours), wait, delete.  Returns the
 * wait status, or -1 with *err when the runtime refused. */
static int run_capture(const json_t *spec, char **out, mk_err **err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    struct mk_runtime_io io = {-1, p[1], 2, -1};
    pid_t pid;
    int r = mk_runtime_run(tmpdir, spec, "test", &io, &pid, NULL, err);
    close(p[1]);
    if (r < 0) {
        close(p[0]);
        *out = xstrdup("");
        mk_runtime_delete(spec, NULL);
        return -1;
    }
    *out = read_fd_all(p[0]);
    close(p[0]);
    int status;
    rt_waitpid(pid, &status);
    mk_runtime_delete(spec, NULL);
    return status;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void test_pid1_and_hostname(void)
{
    _cleanup_json_ json_t *spec = make_spec(ARGS("sh", "-c", "echo $$; hostname; id -u"));
    _cleanup_free_ char *out = NULL;
    mk_err *err = NULL;
    int st = run_capture(spec, &out, &err);
    if (err)
        FAIL_AT("run: %s", err->msg);
    CHECK_INT(st, 0);
    CHECK_STR(out, "1\ntesthost\n0\n");
}

static void test_caps(void)
{
    _cleanup_json_ json_t *spec = make_spec(ARGS(
        "grep", "-E", "^(CapEff|CapBnd|CapInh|CapAmb|Seccomp|NoNewPrivs):", "/proc/self/status"));
    _cleanup_free_ char *out = NULL;
    mk_err *err = NULL;
    int st = run_capture(spec, &out, &err);
    if (err)
        FAIL_AT("run: %s", err->msg);
    CHECK_INT(st, 0);
    CHECK(strstr(out, "CapEff:\t00000000a80425fb\n") != NULL);
    CHECK(strstr(out, "CapBnd:\t00000000a80425fb\n") != NULL);
    CHECK(strstr(out, "CapInh:\t0000000000000000\n") != NULL);
    CHECK(strstr(out, "CapAmb:\t0000000000000000\n") != NULL);
    CHECK(strstr(out, "NoNewPrivs:\t0\n") != NULL);
    CHECK(strstr(out, "Seccomp:\t0\n") != NULL);
}

static json_t *small_seccomp(void)
{
    return json_pack("{s:s, s:[s], s:[{s:[s,s], s:s, s:i}]}", "defaultAction", "SCMP_ACT_ALLOW",
                     "architectures", "SCMP_ARCH_X86_64", "syscalls", "names", "mkdir", "mkdirat",
                     "action", "SCMP_ACT_ERRNO", "errnoRet", 1);
}

static void test_seccomp(void)
{
    for (int pass = 0; pass < 2; pass++) {
        _cleanup_json_ json_t *spec =
            make_spec(ARGS("sh", "-c",
                           "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; mkdir /tmp/x "
                           "2>/dev/null || echo denied"));
        json_object_set_new(json_object_get(spec, "linux"), "seccomp", small_seccomp());
        if (pass == 1)
            json_object_set_new(json_object_get(spec, "process"), "noNewPrivileges", json_true());
        _cleanup_free_ char *out = NULL;
        mk_err *err = NULL;
        int st = run_capture(spec, &out, &err);
        if (err)
            FAIL_AT("run: %s", err->msg);
        CHECK_INT(st, 0);
        CHECK_STR(out, pass == 0 ? "NoNewPrivs:\t0\nSeccomp:\t2\ndenied\n"
                                 : "NoNewPrivs:\t1\nSeccomp:\t2\ndenied\n");
    }
    /* The compiled program was cached. */
    DIR *d = opendir(cachedir);
    CHECK(d != NULL);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += mk_str_has_suffix(e->d_name, ".bpf");
    closedir(d);
    CHECK_INT(n, 1);
}

static void test_masked_and_readonly_paths(void)
{
    _cleanup_json_ json_t *spec =
        make_spec(ARGS("sh", "-c",
                       "cat /proc/keys; echo keys=$?; ls /sys/firmware | wc -l 2>/dev/null; "
                       "{ echo x > /proc/sys/kernel/domainname; } 2>/dev/null || echo sys-ro; "
                       "touch /ok && echo rootfs-rw"));
    _cleanup_free_ char *out = NULL;
    mk_err *err = NULL;
    int st = run_capture(spec, &out, &err);
    if (err)
        FAIL_AT("run: %s", err->msg);
    CHECK_INT(st, 0);
    CHECK(mk_str_has_prefix(out, "keys=0\n"));
    CHECK(strstr(out, "sys-ro\n") != NULL);
    CHECK(strstr(out, "rootfs-rw\n") != NULL);
}

static void test_readonly_root(void)
{
    _cleanup_json_ json_t *spec = make_spec(
        ARGS("sh", "-c", "touch /x 2>/dev/null || echo ro; touch /dev/shm/y && echo shm-rw"));
    json_object_set_new(json_object_get(spec, "root"), "readonly", json_true());
    _cleanup_free_ char *out = NULL;
    mk_err *err = NULL;
    int st = run_capture(spec, &out, &err);
    if (err)
        FAIL_AT("run: %s", err->msg);
    CHECK_INT(st, 0);
    CHECK_STR(out, "ro\nshm-rw\n");
}

static void test_exit_codes(void)
{
    static const struct {
        const char *arg0, *cwd, *msg;
        int code;
    } cases[] = {
        {"nope", "/", "exec: \"nope\": executable file not found in $PATH", 127},
        {"/nope", "/", "exec: \"/nope\": stat /nope: no such file or directory", 127},
        {"/etc/passwd", "/", "exec: \"/etc/passwd\": permission denied", 126},
        {"/etc", "/", "exec: \"/etc\": is a directory", 126},
        {"true", "/nowhere",
         "chdir to cwd (\"/nowhere\") set in config.json failed: no such file or directory", 127},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        _cleanup_json_ json_t *spec = make_spec(ARGS(cases[i].arg0));
        json_object_set_new(json_object_get(spec, "process"), "cwd", json_string(cases[i].cwd));
        _cleanup_free_ char *out = NULL;
        mk_err *err = NULL;
        int st = run_capture(spec, &out, &err);
        CHECK_INT(st, -1);
        CHECK(err != NULL);
        CHECK_STR(err->msg, cases[i].msg);
        CHECK_INT(err->exit_code, cases[i].code);
        mk_err_free(err);
    }
    /* The failed starts left no cgroup behind. */
    _cleanup_free_ char *dir = xasprintf("/sys/fs/cgroup/memory%s", cg_path);
    CHECK(access(dir, F_OK) < 0);
}

static void test_bind_mount(void)
{
    _cleanup_free_ char *src = mk_path_join(tmpdir, "data");
    mk_mkdir_p(src, 0755, NULL);
    _cleanup_free_ char *f = mk_path_join(src, "hello");
    mk_write_file_atomic(f, "world\n", 6, 0644, NULL);
    _cleanup_json_ json_t *spec = make_spec(
        ARGS("sh", "-c",
             "cat /mnt/data/hello; touch /mnt/data/x 2>/dev/null || echo ro; cat /etc/motd"));
    _cleanup_free_ char *motd = mk_path_join(tmpdir, "motd");
    mk_write_file_atomic(motd, "file-bind\n", 10, 0644, NULL);
    json_t *mounts = json_object_get(spec, "mounts");
    json_array_append_new(mounts, mount_obj("/mnt/data", "bind", src, "rbind,ro,rprivate"));
    json_array_append_new(mounts, mount_obj("/etc/motd", "bind", motd, "rbind,rprivate"));
    _cleanup_free_ char *out = NULL;
    mk_err *err = NULL;
    int st = run_capture(spec, &out, &err);
    if (err)
        FAIL_AT("run: %s", err->msg);
    CHECK_INT(st, 0);
    CHECK_STR(out, "world\nro\nfile-bind\n");
}

static void test_no_fd_leak(void)
{
    int leak = open("/dev/null", O_RDONLY); /* deliberately not CLOEXEC */
    _cleanup_json_ json_t *spec = make_spec(ARGS("ls", "/proc/self/fd"));
    _cleanup_free_ char *out = NULL;
    mk_err *err = NULL;
    int st = run_capture(spec, &out, &err);
    close(leak);
    if (err)
        FAIL_AT("run: %s", err->msg);
    CHECK_INT(st, 0);
    /* 3 is ls's own handle on the directory. */
    CHECK_STR(out, "0\n1\n2\n3\n");
}

static void test_cgroup_limits(void)
{
    _cleanup_json_ json_t *spec = make_spec(
        ARGS("cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/pids/pids.max"));
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    struct mk_runtime_io io = {-1, p[1], 2, -1};
    pid_t pid;
    mk_err *err = NULL;
    int r = mk_runtime_run(tmpdir, spec, "test", &io, &pid, NULL, &err);
    close(p[1]);
    if (r < 0)
        FAIL_AT("run: %s", err->msg);
    _cleanup_free_ char *out = read_fd_all(p[0]);
    close(p[0]);
    int status;
    rt_waitpid(pid, &status);
    CHECK_STR(out, "67108864\n100\n");
    int64_t usage = -1, limit = -1;
    CHECK(mk_cgroup_memory(cg_path, &usage, &limit, NULL) == 0);
    CHECK_INT(limit, 64 * 1024 * 1024);
    CHECK(!mk_runtime_oom_killed(spec));
    _cleanup_free_ char *dir = xasprintf("/sys/fs/cgroup/pids%s", cg_path);
    CHECK(access(dir, F_OK) == 0);
    CHECK(mk_runtime_delete(spec, NULL) == 0);
    CHECK(access(dir, F_OK) < 0);
    CHECK(mk_runtime_delete(spec, NULL) == 0); /* idempotent */
}

static void test_cgroupns(void)
{
    _cleanup_json_ json_t *spec = make_spec(ARGS("cat", "/proc/self/cgroup"));
    json_array_append_new(json_object_get(json_object_get(spec, "linux"), "namespaces"),
                          json_pack("{s:s}", "type", "cgroup"));
    _cleanup_free_ char *out = NULL;
    mk_err *err = NULL;
    int st = run_capture(spec, &out, &err);
    if (err)
        FAIL_AT("run: %s", err->msg);
    CHECK_INT(st, 0);
    CHECK(strstr(out, ":memory:/\n") != NULL);
    CHECK(strstr(out, ":pids:/\n") != NULL);
}

static void test_exec(void)
{
    _cleanup_json_ json_t *spec = make_spec(ARGS("sleep", "30"));
    struct mk_runtime_io io = {-1, -1, 2, -1};
    pid_t init;
    mk_err *err = NULL;
    if (mk_runtime_run(tmpdir, spec, "test", &io, &init, NULL, &err) < 0)
        FAIL_AT("run: %s", err->msg);
    _cleanup_free_ char *host_ns = NULL;
    char buf[64];
    _cleanup_free_ char *link = xasprintf("/proc/%d/ns/pid", (int)init);
    ssize_t n = readlink(link, buf, sizeof(buf) - 1);
    CHECK(n > 0);
    buf[n] = '\0';
    host_ns = xasprintf("%s\n", buf);

    _cleanup_json_ json_t *proc = json_deep_copy(json_object_get(spec, "process"));
    json_object_set_new(
        proc, "args",
        strv_json(
            ARGS("sh", "-c", "readlink /proc/self/ns/pid; cat /proc/1/comm; hostname; exit 3")));
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    struct mk_runtime_io eio = {-1, p[1], 2, -1};
    pid_t pid;
    int r = mk_runtime_exec(init, spec, proc, &eio, &pid, &err);
    close(p[1]);
    _cleanup_free_ char *out = r == 0 ? read_fd_all(p[0]) : NULL;
    close(p[0]);
    int status = 0;
    if (r == 0)
        CHECK(waitpid(pid, &status, 0) == pid);
    /* exec errors use the same wording */
    json_object_set_new(proc, "args", strv_json(ARGS("nope")));
    mk_err *err2 = NULL;
    pid_t pid2;
    int r2 = mk_runtime_exec(init, spec, proc, &eio, &pid2, &err2);
    kill(init, SIGKILL);
    rt_waitpid(init, NULL);
    mk_runtime_delete(spec, NULL);
    if (r < 0)
        FAIL_AT("exec: %s", err->msg);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    _cleanup_free_ char *want = xasprintf("%ssleep\ntesthost\n", host_ns);
    CHECK_STR(out, want);
    CHECK_INT(r2, -1);
    CHECK(err2 != NULL && err2->exit_code == 127);
    CHECK_STR(err2 ? err2->msg : NULL, "exec: \"nope\": executable file not found in $PATH");
    mk_err_free(err2);
}

static void test_terminal(void)
{
    _cleanup_json_ json_t *spec =
        make_spec(ARGS("sh", "-c", "tty; readlink /proc/self/fd/0; ls /dev/console"));
    json_object_set_new(json_object_get(spec, "process"), "terminal", json_true());
    int sp[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
    struct mk_runtime_io io = {-1, -1, -1, sp[1]};
    pid_t pid;
    mk_err *err = NULL;
    int r = mk_runtime_run(tmpdir, spec, "test", &io, &pid, NULL, &err);
    close(sp[1]);
    if (r < 0) {
        close(sp[0]);
        mk_runtime_delete(spec, NULL);
        FAIL_AT("run: %s", err->msg);
    }
    int master = mk_recv_fd(sp[0], NULL);
    close(sp[0]);
    CHECK(master >= 0);
    _cleanup_free_ char *out = read_fd_all(master); /* ends with EIO on hangup */
    close(master);
    int status;
    rt_waitpid(pid, &status);
    mk_runtime_delete(spec, NULL);
    CHECK_STR(out, "/dev/pts/0\r\n/dev/pts/0\r\n/dev/console\r\n");
}

static void test_external_runc(void)
{
    if (access("/usr/sbin/runc", X_OK) < 0) {
        printf("# skip: no /usr/sbin/runc\n");
        return;
    }
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    _cleanup_free_ char *bundle = mk_path_join(tmpdir, "bundle");
    _cleanup_free_ char *state = mk_path_join(tmpdir, "runc-state");
    mk_mkdir_p(bundle, 0755, NULL);
    for (int pass = 0; pass < 2; pass++) {
        _cleanup_json_ json_t *spec =
            make_spec(pass == 0 ? ARGS("sh", "-c", "echo $$; hostname") : ARGS("nope"));
        _cleanup_free_ char *cfg = mk_path_join(bundle, "config.json");
        _cleanup_free_ char *data = mk_json_dump(spec);
        mk_write_file_atomic(cfg, data, strlen(data), 0644, NULL);
        int p[2];
        CHECK(pipe2(p, O_CLOEXEC) == 0);
        /* runc prints its error on the container's stderr too: keep it quiet. */
        struct mk_runtime_io io = {-1, p[1], pass == 0 ? 2 : -1, -1};
        pid_t pid;
        mk_err *err = NULL;
        _cleanup_free_ char *id = xasprintf("mk-rt-test-%d-%d", (int)getpid(), pass);
        int r = mk_runtime_run_external("/usr/sbin/runc", state, bundle, spec, id, &io, &pid, &err);
        close(p[1]);
        _cleanup_free_ char *out = r == 0 ? read_fd_all(p[0]) : NULL;
        close(p[0]);
        if (pass == 1) {
            CHECK_INT(r, -1);
            CHECK(err != NULL &&
                  strstr(err->msg, "exec: \"nope\": executable file not found in $PATH") != NULL);
            CHECK(err != NULL && err->exit_code == 127);
            mk_err_free(err);
            CHECK(mk_runtime_delete(spec, NULL) == 0);
            continue;
        }
        if (r < 0)
            FAIL_AT("runc: %s", err->msg);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CHECK_STR(out, "1\ntesthost\n");
        _cleanup_free_ char *st = xasprintf("%s.runtime.json", merged);
        CHECK(access(st, F_OK) == 0);
        CHECK(mk_runtime_delete(spec, NULL) == 0);
        CHECK(access(st, F_OK) < 0);
        _cleanup_free_ char *bin = mk_path_join(merged, "bin/busybox");
        CHECK(access(bin, F_OK) < 0); /* the host overlay is gone */
    }
}

static bool strv_json_has(const json_t *arr, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (json_is_string(v) &&
                                      strcmp(json_string_value(v), s) == 0) return true;
    return false;
}

static bool any_default_cap(const json_t *caps)
{
    for (size_t i = 0; docker_caps[i]; i++)
        if (strv_json_has(caps, docker_caps[i]))
            return true;
    return false;
}

/* docker's default profile resolved, as docker does, for its default caps on
 * amd64 into an OCI linux.seccomp (the engine's job; a small copy for the test). */
static json_t *docker_seccomp(void)
{
    _cleanup_json_ json_t *prof = mk_json_load_file("data/seccomp-default.json", NULL);
    if (prof == NULL)
        return NULL;
    json_t *out = json_pack("{s:O, s:O, s:[s,s,s], s:[]}", "defaultAction",
                            json_object_get(prof, "defaultAction"), "defaultErrnoRet",
                            json_object_get(prof, "defaultErrnoRet"), "architectures",
                            "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "syscalls");
    size_t i;
    json_t *sc;
    json_array_foreach(json_object_get(prof, "syscalls"), i, sc)
    {
        const json_t *inc = json_object_get(sc, "includes"), *exc = json_object_get(sc, "excludes");
        const json_t *icaps = json_object_get(inc, "caps"), *iarch = json_object_get(inc, "arches");
        if (json_array_size(icaps) > 0 && !any_default_cap(icaps))
            continue;
        if (json_array_size(iarch) > 0 && !strv_json_has(iarch, "amd64"))
            continue;
        if (any_default_cap(json_object_get(exc, "caps")) ||
            strv_json_has(json_object_get(exc, "arches"), "amd64"))
            continue;
        json_t *rule = json_pack("{s:O, s:O}", "names", json_object_get(sc, "names"), "action",
                                 json_object_get(sc, "action"));
        if (json_object_get(sc, "args") && !json_is_null(json_object_get(sc, "args")))
            json_object_set(rule, "args", json_object_get(sc, "args"));
        if (json_object_get(sc, "errnoRet"))
            json_object_set(rule, "errnoRet", json_object_get(sc, "errnoRet"));
        json_array_append_new(json_object_get(out, "syscalls"), rule);
    }
    return out;
}

static void test_docker_seccomp_profile(void)
{
    _cleanup_json_ json_t *sec = docker_seccomp();
    if (sec == NULL) {
        printf("# skip: no data/seccomp-default.json (run from the repo root)\n");
        return;
    }
    _cleanup_free_ char *cache = mk_path_join(tmpdir, "docker-seccomp-cache");
    struct rt_seccomp *s = NULL;
    mk_err *err = NULL;
    int64_t t0 = mk_monotonic_ns();
    if (rt_seccomp_prepare(sec, cache, &s, &err) < 0)
        FAIL_AT("compile: %s", err->msg);
    int64_t t1 = mk_monotonic_ns();
    unsigned len = s->prog.len;
    rt_seccomp_free(s);
    if (rt_seccomp_prepare(sec, cache, &s, &err) < 0)
        FAIL_AT("cached: %s", err->msg);
    int64_t t2 = mk_monotonic_ns();
    CHECK_INT(s->prog.len, len);
    rt_seccomp_free(s);
    printf("# docker seccomp profile: compile %.2f ms, from cache %.3f ms (%u instructions)\n",
           (t1 - t0) / 1e6, (t2 - t1) / 1e6, len);
    _cleanup_json_ json_t *spec =
        make_spec(ARGS("sh", "-c",
                       "grep Seccomp: /proc/self/status; mkdir /tmp/ok && echo mkdir-ok; "
                       "hostname other 2>/dev/null || echo denied"));
    json_object_set(json_object_get(spec, "linux"), "seccomp", sec);
    _cleanup_free_ char *out = NULL;
    int st = run_capture(spec, &out, &err);
    if (err)
        FAIL_AT("run: %s", err->msg);
    CHECK_INT(st, 0);
    CHECK_STR(out, "Seccomp:\t2\nmkdir-ok\ndenied\n");
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_timing(void)
{
    int64_t run[20], full[20];
    /* docker's profile when available (compiled once, then from the cache). */
    _cleanup_json_ json_t *sec = docker_seccomp();
    if (sec == NULL)
        sec = small_seccomp();
    for (int i = 0; i < 20; i++) {
        _cleanup_json_ json_t *spec = make_spec(ARGS("true"));
        json_object_set(json_object_get(spec, "linux"), "seccomp", sec);
        struct mk_runtime_io io = {-1, -1, -1, -1};
        pid_t pid;
        mk_err *err = NULL;
        int64_t t0 = mk_monotonic_ns();
        if (mk_runtime_run(tmpdir, spec, "test", &io, &pid, NULL, &err) < 0)
            FAIL_AT("run: %s", err->msg);
        int64_t t1 = mk_monotonic_ns();
        rt_waitpid(pid, NULL);
        CHECK(mk_runtime_delete(spec, NULL) == 0);
        int64_t t2 = mk_monotonic_ns();
        run[i] = t1 - t0;
        full[i] = t2 - t0;
    }
    qsort(run, 20, sizeof(int64_t), cmp_i64);
    qsort(full, 20, sizeof(int64_t), cmp_i64);
    printf("# mk_runtime_run(true): median %.2f ms (min %.2f, max %.2f)\n", run[10] / 1e6,
           run[0] / 1e6, run[19] / 1e6);
    printf("# run + wait + delete: median %.2f ms (min %.2f, max %.2f)\n", full[10] / 1e6,
           full[0] / 1e6, full[19] / 1e6);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("# skip: needs root\n");
        return tap_done();
    }
    build_rootfs();
    RUN(test_pid1_and_hostname);
    RUN(test_caps);
    RUN(test_seccomp);
    RUN(test_masked_and_readonly_paths);
    RUN(test_readonly_root);
    RUN(test_docker_seccomp_profile);
    RUN(test_exit_codes);
    RUN(test_bind_mount);
    RUN(test_no_fd_leak);
    RUN(test_cgroup_limits);
    RUN(test_cgroupns);
    RUN(test_exec);
    RUN(test_terminal);
    RUN(test_external_runc);
    RUN(test_timing);
    mk_cgroup_destroy("/mocker-test", NULL);
    umount2(merged, MNT_DETACH);
    mk_rm_rf(tmpdir, NULL);
    return tap_done();
}
