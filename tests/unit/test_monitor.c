/* test_monitor.c: the attach protocol's framing, detach keys, and the monitor
 * end to end: a fake runtime (defined here, so the real one is not linked)
 * runs host commands with the monitor's stdio, and the test talks to the
 * monitor as its clients would. */
#include "monitor/monitor.h"
#include "runtime/runtime.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

/* ---- a fake runtime: fork + exec of spec.process.args ---- */

static void child_stdio(const struct mk_runtime_io *io)
{
    int null = open("/dev/null", O_RDWR);
    if (io->console_sock >= 0) {
        int master = posix_openpt(O_RDWR | O_NOCTTY);
        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
            _exit(120);
        setsid();
        int slave = open(ptsname(master), O_RDWR);
        if (slave < 0 || ioctl(slave, TIOCSCTTY, 0) < 0 ||
            mk_send_fd(io->console_sock, master, NULL) < 0)
            _exit(121);
        close(master);
        dup2(slave, 0);
        dup2(slave, 1);
        dup2(slave, 2);
        return;
    }
    dup2(io->stdin_fd >= 0 ? io->stdin_fd : null, 0);
    dup2(io->stdout_fd >= 0 ? io->stdout_fd : null, 1);
    dup2(io->stderr_fd >= 0 ? io->stderr_fd : null, 2);
}

int mk_runtime_run(const char *bundle, const json_t *spec, const char *id,
                   const struct mk_runtime_io *io, pid_t *out_pid, int *out_mounts,
                   mk_err **err)
{
    if (out_mounts != NULL)
        *out_mounts = -1;
    char **args = mk_json_strv(json_object_get(json_object_get(spec, "process"), "args"));
    if (args == NULL || args[0] == NULL || access(args[0], X_OK) < 0) {
        mk_err_set(err, MK_ERR_NOT_FOUND, "exec: \"%s\": executable file not found in $PATH",
                   args && args[0] ? args[0] : "");
        (*err)->exit_code = 127;
        mk_strv_free(args);
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        mk_strv_free(args);
        return mk_err_sys(err, "fork");
    }
    if (pid == 0) {
        /* No signal reset here: the monitor must not leave any to reset. */
        child_stdio(io);
        execv(args[0], args);
        _exit(127);
    }
    mk_strv_free(args);
    *out_pid = pid;
    return 0;
}

static int external_calls;

int mk_runtime_run_external(const char *runtime, const char *state_root, const char *bundle,
                            const json_t *spec, const char *id, const struct mk_runtime_io *io,
                            pid_t *out_pid, mk_err **err)
{
    external_calls++;
    return mk_runtime_run(bundle, spec, id, io, out_pid, NULL, err);
}

bool mk_runtime_oom_killed(const json_t *spec)
{
    return false;
}

/* Healthcheck probes: process.args run on the host, stdio as given. */
int mk_runtime_exec(pid_t init_pid, const json_t *spec, const json_t *process,
                    const struct mk_runtime_io *io, pid_t *out_pid, mk_err **err)
{
    char **args = mk_json_strv(json_object_get(process, "args"));
    pid_t pid = fork();
    if (pid < 0) {
        mk_strv_free(args);
        return mk_err_sys(err, "fork");
    }
    if (pid == 0) {
        child_stdio(io);
        execv(args[0], args);
        _exit(127);
    }
    mk_strv_free(args);
    *out_pid = pid;
    return 0;
}

/* ---- frames ---- */

static void test_frame_round_trip(void)
{
    int sp[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
    size_t big_len = 200000;
    char *big = xmalloc(big_len);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)(i * 7);
    pid_t pid = fork();
    if (pid == 0) {
        close(sp[0]);
        int r = mk_frame_write(sp[1], MK_FRAME_STDOUT, "hello", 5);
        r |= mk_frame_write(sp[1], MK_FRAME_CLOSE_STDIN, NULL, 0);
        r |= mk_frame_write(sp[1], MK_FRAME_STDERR, big, big_len);
        r |= mk_frame_write(sp[1], MK_FRAME_EXIT, "42", 2);
        _exit(r == 0 ? 0 : 1);
    }
    close(sp[1]);
    enum mk_frame_type type;
    size_t len;
    char *data = NULL;
    CHECK_INT(mk_frame_read(sp[0], &type, &data, &len), 1);
    CHECK_INT(type, MK_FRAME_STDOUT);
    CHECK_STR(data, "hello");
    free(data);
    CHECK_INT(mk_frame_read(sp[0], &type, &data, &len), 1);
    CHECK_INT(type, MK_FRAME_CLOSE_STDIN);
    CHECK_INT(len, 0);
    CHECK_STR(data, "");
    free(data);
    CHECK_INT(mk_frame_read(sp[0], &type, &data, &len), 1);
    CHECK_INT(type, MK_FRAME_STDERR);
    CHECK_INT(len, big_len);
    CHECK(memcmp(data, big, big_len) == 0);
    free(data);
    CHECK_INT(mk_frame_read(sp[0], &type, &data, &len), 1);
    CHECK_STR(data, "42");
    free(data);
    CHECK_INT(mk_frame_read(sp[0], &type, &data, &len), 0);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(sp[0]);
    free(big);

    /* docker's header layout, and garbage refused */
    uint8_t hdr[MK_FRAME_HEADER_LEN];
    mk_frame_header(hdr, MK_FRAME_STDERR, 0x01020304);
    CHECK(hdr[0] == 2 && hdr[1] == 0 && hdr[4] == 1 && hdr[5] == 2 && hdr[6] == 3 && hdr[7] == 4);
    uint32_t plen;
    CHECK(mk_frame_header_parse(hdr, &type, &plen) < 0); /* > MK_FRAME_MAX */
    mk_frame_header(hdr, MK_FRAME_RESIZE, 5);
    CHECK(mk_frame_header_parse(hdr, &type, &plen) == 0 && type == MK_FRAME_RESIZE && plen == 5);
    hdr[0] = MK_FRAME_LAST + 1;
    CHECK(mk_frame_header_parse(hdr, &type, &plen) < 0 && errno == EPROTO);
}

static void test_frame_reader(void)
{
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    struct mk_frame_reader r = {0};
    enum mk_frame_type type;
    const char *data;
    size_t len;
    CHECK(mk_frame_reader_fill(&r, p[0]) < 0 && errno == EAGAIN);
    /* one byte at a time: nothing until the frame is whole */
    uint8_t wire[MK_FRAME_HEADER_LEN + 3];
    mk_frame_header(wire, MK_FRAME_STDIN, 3);
    memcpy(wire + MK_FRAME_HEADER_LEN, "abc", 3);
    for (size_t i = 0; i < sizeof(wire); i++) {
        CHECK_INT(mk_frame_reader_next(&r, &type, &data, &len), 0);
        CHECK(write(p[1], wire + i, 1) == 1);
        CHECK_INT(mk_frame_reader_fill(&r, p[0]), 1);
    }
    CHECK_INT(mk_frame_reader_next(&r, &type, &data, &len), 1);
    CHECK(type == MK_FRAME_STDIN && len == 3 && memcmp(data, "abc", 3) == 0);
    CHECK_INT(mk_frame_reader_next(&r, &type, &data, &len), 0);
    /* two frames in one read */
    CHECK(write(p[1], wire, sizeof(wire)) == (ssize_t)sizeof(wire));
    CHECK(write(p[1], wire, sizeof(wire)) == (ssize_t)sizeof(wire));
    CHECK(mk_frame_reader_fill(&r, p[0]) > 0);
    CHECK_INT(mk_frame_reader_next(&r, &type, &data, &len), 1);
    CHECK_INT(mk_frame_reader_next(&r, &type, &data, &len), 1);
    CHECK_INT(mk_frame_reader_next(&r, &type, &data, &len), 0);
    close(p[1]);
    CHECK_INT(mk_frame_reader_fill(&r, p[0]), 0);
    close(p[0]);
    mk_frame_reader_free(&r);
}

static void test_detach_keys(void)
{
    uint8_t k[MK_DETACH_KEYS_MAX];
    size_t n = 0;
    mk_err *err = NULL;
    CHECK(mk_detach_keys_parse(NULL, k, &n, &err) == 0 && n == 2 && k[0] == 16 && k[1] == 17);
    CHECK(mk_detach_keys_parse("ctrl-a,x,ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", k, &n,
                               &err) == 0);
    CHECK(n == 8 && k[0] == 1 && k[1] == 'x' && k[2] == 0 && k[3] == 27 && k[4] == 28 &&
          k[5] == 29 && k[6] == 30 && k[7] == 31);
    CHECK(mk_detach_keys_parse("ctrl-\\\\,ctrl-z", k, &n, &err) == 0 && n == 2 && k[0] == 28 &&
          k[1] == 26);
    CHECK(mk_detach_keys_parse("ctrl-P", k, &n, &err) < 0);
    CHECK(err->kind == MK_ERR_INVALID);
    CHECK_STR(err->msg, "Invalid detach keys (ctrl-P) provided");
    mk_err_clear(&err);
    CHECK(mk_detach_keys_parse("ctrl-p,", k, &n, &err) < 0);
    mk_err_clear(&err);
    CHECK(mk_detach_keys_parse("ab", k, &n, &err) < 0);
    mk_err_clear(&err);
}

/* ---- the monitor, end to end ---- */

struct hook_ctx {
    int fd; /* the test reads the hooks' trace from this pipe */
};

static void trace(void *ctx, const char *s)
{
    struct hook_ctx *h = ctx;
    (void)!write(h->fd, s, strlen(s));
}

static void hook_started(void *ctx, pid_t pid)
{
    trace(ctx, pid > 0 ? "started," : "started-bad-pid,");
}

static void hook_start_failed(void *ctx, const mk_err *err)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "failed %d %s,", err->exit_code, err->msg);
    trace(ctx, buf);
}

static int hook_exited(void *ctx, int status, bool oom)
{
    char buf[64];
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    snprintf(buf, sizeof(buf), "exited %d,", code);
    trace(ctx, buf);
    return code;
}

static void hook_finished(void *ctx)
{
    trace(ctx, "finished");
}

static bool hook_health_result(void *ctx, const struct mk_health_result *r)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "health %d %s|", r->exit_code, r->output);
    trace(ctx, buf);
    return true;
}

/* The healthcheck of the next run_start, if any. */
static const struct mk_health_probe *next_health;

struct run {
    char *dir, *rundir, *log_path, *sock_path;
    json_t *spec;
    struct mk_monitor_params p;
    int client;     /* our end of client_fd */
    int hooks_read; /* the trace */
    pid_t monitor;
};

/* Start a monitor in a child process for `sh -c script`. */
static void run_start(struct run *r, const char *script, bool tty, bool open_stdin, bool stdin_once)
{
    char tmpl[] = "/tmp/mk-test-monitor-XXXXXX";
    r->dir = xstrdup(mkdtemp(tmpl));
    r->rundir = r->dir;
    r->log_path = mk_path_join(r->dir, "ctr-json.log");
    r->sock_path = mk_path_join(r->dir, "attach.sock");
    r->spec = json_pack("{s:{s:[s,s,s]}}", "process", "args", "/bin/sh", "-c", script);
    int sp[2], hp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 || pipe2(hp, O_CLOEXEC) < 0)
        abort();
    r->p = (struct mk_monitor_params){
        .id = "ctr",
        .rundir = r->rundir,
        .bundle = r->dir,
        .spec = r->spec,
        .tty = tty,
        .open_stdin = open_stdin,
        .stdin_once = stdin_once,
        .log_driver = "json-file",
        .log_path = r->log_path,
        .log_max_file = 1,
        .client_fd = sp[1],
        .health = next_health,
    };
    next_health = NULL;
    fflush(stdout);
    r->monitor = fork();
    if (r->monitor == 0) {
        signal(SIGPIPE, SIG_DFL); /* as the engine's freshly exec'd monitor has it */
        close(sp[0]);
        close(hp[0]);
        struct hook_ctx h = {.fd = hp[1]};
        r->p.hooks = (struct mk_monitor_hooks){.ctx = &h,
                                               .started = hook_started,
                                               .start_failed = hook_start_failed,
                                               .exited = hook_exited,
                                               .finished = hook_finished,
                                               .health_result = hook_health_result};
        mk_err *err = NULL;
        int ret = mk_monitor_main(&r->p, &err);
        mk_err_free(err);
        _exit(ret == 0 ? 0 : 1);
    }
    close(sp[1]);
    close(hp[1]);
    r->client = sp[0];
    r->hooks_read = hp[0];
}

/* Wait for the monitor; returns its exit status and the hooks' trace. */
static int run_finish(struct run *r, char *trace_out, size_t n)
{
    int status = -1;
    waitpid(r->monitor, &status, 0);
    ssize_t got = mk_read_all(r->hooks_read, trace_out, n - 1);
    trace_out[got > 0 ? got : 0] = '\0';
    close(r->hooks_read);
    close(r->client);
    mk_rm_rf(r->dir, NULL);
    free(r->dir);
    free(r->log_path);
    free(r->sock_path);
    json_decref(r->spec);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

struct output {
    mk_buf out, err;
    int exit_code;
    bool got_exit;
};

/* Read frames until `want` shows up in stdout (or EXIT if want is NULL). */
static int read_until(int fd, struct output *o, const char *want)
{
    for (;;) {
        if (want != NULL && o->out.data != NULL && strstr(o->out.data, want) != NULL)
            return 0;
        enum mk_frame_type type;
        char *data = NULL;
        size_t len;
        int r = mk_frame_read(fd, &type, &data, &len);
        if (r <= 0)
            return -1;
        if (type == MK_FRAME_STDOUT)
            mk_buf_append(&o->out, data, len);
        else if (type == MK_FRAME_STDERR)
            mk_buf_append(&o->err, data, len);
        else if (type == MK_FRAME_EXIT) {
            o->exit_code = atoi(data);
            o->got_exit = true;
            free(data);
            return want == NULL ? 0 : -1;
        }
        free(data);
    }
}

static int expect_started(int fd)
{
    enum mk_frame_type type;
    char *data = NULL;
    size_t len;
    if (mk_frame_read(fd, &type, &data, &len) != 1)
        return -1;
    int pid = type == MK_FRAME_STARTED ? atoi(data) : -1;
    free(data);
    return pid;
}

static int read_log(void *ctx, const char *stream, int64_t t, const char *data, size_t len)
{
    mk_buf *b = ctx;
    mk_buf_printf(b, "%s:%.*s", stream, (int)len, data);
    return 0;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void test_monitor_basic(void)
{
    struct run r;
    int64_t t0 = mono_ns();
    run_start(&r, "echo out; echo err >&2; exit 3", false, false, false);
    struct output o = {0};
    CHECK(expect_started(r.client) > 0);
    CHECK(read_until(r.client, &o, NULL) == 0);
    int64_t t1 = mono_ns();
    CHECK_STR(o.out.data, "out\n");
    CHECK_STR(o.err.data, "err\n");
    CHECK_INT(o.exit_code, 3);
    /* EOF follows EXIT once the hooks are done */
    enum mk_frame_type type;
    char *data = NULL;
    size_t len;
    CHECK_INT(mk_frame_read(r.client, &type, &data, &len), 0);
    mk_buf log = {0};
    CHECK(mk_log_read(r.log_path, &(struct mk_log_read_opts){.tail = -1}, read_log, &log, NULL) ==
          0);
    /* stdout and stderr are separate pipes: their order in the log is not fixed */
    CHECK(log.data != NULL && strstr(log.data, "stdout:out\n") && strstr(log.data, "stderr:err\n"));
    CHECK(access(r.sock_path, F_OK) < 0);
    char tr[512];
    CHECK_INT(run_finish(&r, tr, sizeof(tr)), 0);
    CHECK_STR(tr, "started,exited 3,finished");
    printf("# start to exit through the monitor: %.2f ms\n", (double)(t1 - t0) / 1e6);
    CHECK(t1 - t0 < 500 * 1000000LL);
    mk_buf_free(&o.out);
    mk_buf_free(&o.err);
    mk_buf_free(&log);
}

/* Probes run every interval while the container runs, their output cut at
 * 4096 bytes; one that outlives its timeout is killed and reported. */
static void test_monitor_healthcheck(void)
{
    char *argv[] = {"/bin/sh", "-c", "echo probe; echo err >&2; exit 2", NULL};
    struct mk_health_probe hp = {.argv = argv, .interval_ns = 100 * 1000000LL,
                                 .timeout_ns = 1000000000LL, .start_interval_ns = 1000000000LL};
    struct run r;
    next_health = &hp;
    run_start(&r, "sleep 0.45", false, false, false);
    struct output o = {0};
    CHECK(expect_started(r.client) > 0);
    CHECK(read_until(r.client, &o, NULL) == 0);
    char tr[2048];
    CHECK_INT(run_finish(&r, tr, sizeof(tr)), 0);
    /* about four probes in 450 ms, none after the exit */
    CHECK(strstr(tr, "started,health 2 probe\nerr\n|health 2 probe\nerr\n|") == tr);
    CHECK(strstr(tr, "|exited 0,finished") != NULL);

    char *slow[] = {"/bin/sh", "-c", "echo begun; exec sleep 5", NULL};
    hp.argv = slow;
    hp.timeout_ns = 100 * 1000000LL;
    next_health = &hp;
    int64_t t0 = mono_ns();
    run_start(&r, "sleep 0.35", false, false, false);
    CHECK(expect_started(r.client) > 0);
    CHECK(read_until(r.client, &o, NULL) == 0);
    CHECK_INT(run_finish(&r, tr, sizeof(tr)), 0);
    CHECK(mono_ns() - t0 < 2000 * 1000000LL);
    CHECK(strstr(tr, "started,health -1 Health check exceeded timeout (100ms): begun\n|") == tr);

    char *big[] = {"/bin/sh", "-c", "i=0; while [ $i -lt 300 ]; do echo 0123456789abcdef; i=$((i+1)); done", NULL};
    hp.argv = big;
    hp.timeout_ns = 1000000000LL;
    next_health = &hp;
    run_start(&r, "sleep 0.15", false, false, false);
    CHECK(expect_started(r.client) > 0);
    CHECK(read_until(r.client, &o, NULL) == 0);
    CHECK_INT(run_finish(&r, tr, sizeof(tr)), 0);
    /* the trace keeps 255 bytes of it; the hook saw 4096 and "..." */
    CHECK(strstr(tr, "started,health 0 0123456789abcdef\n") == tr);
    mk_buf_free(&o.out);
    mk_buf_free(&o.err);
}

static void test_monitor_stdin_and_second_client(void)
{
    struct run r;
    /* The container waits for input, so the second client is attached in time. */
    run_start(&r, "echo first; read line; echo \"got $line\"; cat; echo done", false, true, true);
    struct output o = {0}, o2 = {0};
    CHECK(expect_started(r.client) > 0);
    CHECK(read_until(r.client, &o, "first\n") == 0);
    int second = mk_unix_connect(r.sock_path, NULL);
    CHECK(second >= 0);
    /* The second client's own input proves it was accepted before the reply. */
    CHECK(mk_frame_write(second, MK_FRAME_STDIN, "hello\n", 6) == 0);
    CHECK(read_until(second, &o2, "got hello\n") == 0);
    CHECK(read_until(r.client, &o, "got hello\n") == 0);
    CHECK(mk_frame_write(r.client, MK_FRAME_STDIN, "via cat\n", 8) == 0);
    CHECK(read_until(second, &o2, "via cat\n") == 0);
    /* stdin_once: the first client's CLOSE_STDIN ends cat */
    CHECK(mk_frame_write(r.client, MK_FRAME_CLOSE_STDIN, NULL, 0) == 0);
    CHECK(read_until(r.client, &o, NULL) == 0);
    CHECK(read_until(second, &o2, NULL) == 0);
    CHECK_STR(o.out.data, "first\ngot hello\nvia cat\ndone\n");
    CHECK_STR(o2.out.data, "got hello\nvia cat\ndone\n");
    CHECK_INT(o.exit_code, 0);
    CHECK_INT(o2.exit_code, 0);
    close(second);
    char tr[512];
    CHECK_INT(run_finish(&r, tr, sizeof(tr)), 0);
    CHECK_STR(tr, "started,exited 0,finished");
    mk_buf_free(&o.out);
    mk_buf_free(&o2.out);
}

static void test_monitor_stdin_once_disconnect(void)
{
    struct run r;
    run_start(&r, "cat; echo eof", false, true, true);
    CHECK(expect_started(r.client) > 0);
    int watcher = -1;
    for (int i = 0; i < 100 && watcher < 0; i++)
        watcher = mk_unix_connect(r.sock_path, NULL);
    CHECK(watcher >= 0);
    CHECK(mk_frame_write(r.client, MK_FRAME_STDIN, "x\n", 2) == 0);
    struct output o = {0};
    CHECK(read_until(watcher, &o, "x\n") == 0);
    /* The starting client goes away: docker's StdinOnce closes the stdin. */
    shutdown(r.client, SHUT_RDWR);
    CHECK(read_until(watcher, &o, NULL) == 0);
    CHECK_STR(o.out.data, "x\neof\n");
    close(watcher);
    char tr[512];
    CHECK_INT(run_finish(&r, tr, sizeof(tr)), 0);
    mk_buf_free(&o.out);
}

static void test_monitor_tty(void)
{
    struct run r;
    run_start(&r, "test -t 0 && echo isatty; read x; stty size; exit 4", true, true, false);
    struct output o = {0};
    CHECK(expect_started(r.client) > 0);
    CHECK(read_until(r.client, &o, "isatty\r\n") == 0);
    CHECK(mk_frame_write(r.client, MK_FRAME_RESIZE, "30 100", 6) == 0);
    CHECK(mk_frame_write(r.client, MK_FRAME_STDIN, "go\n", 3) == 0);
    CHECK(read_until(r.client, &o, NULL) == 0);
    CHECK(strstr(o.out.data, "30 100\r\n") != NULL);
    CHECK(o.err.len == 0);
    CHECK_INT(o.exit_code, 4);
    mk_buf log = {0};
    CHECK(mk_log_read(r.log_path, &(struct mk_log_read_opts){.tail = -1}, read_log, &log, NULL) ==
          0);
    CHECK(log.data != NULL && strstr(log.data, "stdout:isatty\r\n") != NULL);
    char tr[512];
    CHECK_INT(run_finish(&r, tr, sizeof(tr)), 0);
    CHECK_STR(tr, "started,exited 4,finished");
    mk_buf_free(&o.out);
    mk_buf_free(&log);
}

static void test_monitor_start_failure(void)
{
    char tr[512];
    char tmpl[] = "/tmp/mk-test-monitor-XXXXXX";
    char *dir = mkdtemp(tmpl);
    json_t *spec = json_pack("{s:{s:[s]}}", "process", "args", "/nonexistent/cmd");
    int sp[2], hp[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0 && pipe(hp) == 0);
    _cleanup_free_ char *log_path = mk_path_join(dir, "log");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct hook_ctx h = {.fd = hp[1]};
        struct mk_monitor_params p = {.id = "x",
                                      .rundir = dir,
                                      .bundle = dir,
                                      .spec = spec,
                                      .runtime = "/usr/bin/fake-runc",
                                      .log_driver = "none",
                                      .log_path = log_path,
                                      .log_max_file = 1,
                                      .client_fd = sp[1],
                                      .hooks = {.ctx = &h,
                                                .started = hook_started,
                                                .start_failed = hook_start_failed,
                                                .exited = hook_exited,
                                                .finished = hook_finished}};
        mk_err *err = NULL;
        int ret = mk_monitor_main(&p, &err);
        _exit(ret == -1 && err != NULL && err->exit_code == 127 && external_calls == 1 ? 0 : 1);
    }
    close(sp[1]);
    close(hp[1]);
    enum mk_frame_type type;
    char *data = NULL;
    size_t len;
    CHECK_INT(mk_frame_read(sp[0], &type, &data, &len), 1);
    CHECK_INT(type, MK_FRAME_ERROR);
    CHECK_STR(data, "127 exec: \"/nonexistent/cmd\": executable file not found in $PATH");
    free(data);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ssize_t got = mk_read_all(hp[0], tr, sizeof(tr) - 1);
    tr[got > 0 ? got : 0] = '\0';
    CHECK(mk_str_has_prefix(tr, "failed 127 exec:"));
    _cleanup_free_ char *sock = mk_path_join(dir, "attach.sock");
    CHECK(access(sock, F_OK) < 0);
    CHECK(access(log_path, F_OK) < 0); /* log driver none */
    close(sp[0]);
    close(hp[0]);
    json_decref(spec);
    mk_rm_rf(dir, NULL);
}

static void test_monitor_orphan_holds_pipe(void)
{
    struct run r;
    /* A grandchild keeps stdout open after the init exited: the monitor must
     * not wait for it. */
    run_start(&r, "sleep 2 & echo early; exit 0", false, false, false);
    int64_t t0 = mono_ns();
    struct output o = {0};
    CHECK(expect_started(r.client) > 0);
    CHECK(read_until(r.client, &o, NULL) == 0);
    CHECK(mono_ns() - t0 < 1000 * 1000000LL);
    CHECK_STR(o.out.data, "early\n");
    char tr[512];
    CHECK_INT(run_finish(&r, tr, sizeof(tr)), 0);
    mk_buf_free(&o.out);
}

static void test_monitor_ignores_sigterm(void)
{
    struct run r;
    run_start(&r, "read x; exit 9", false, true, false);
    CHECK(expect_started(r.client) > 0);
    kill(r.monitor, SIGTERM);
    kill(r.monitor, SIGINT);
    kill(r.monitor, SIGHUP);
    CHECK(mk_frame_write(r.client, MK_FRAME_STDIN, "\n", 1) == 0);
    struct output o = {0};
    CHECK(read_until(r.client, &o, NULL) == 0);
    CHECK_INT(o.exit_code, 9);
    char tr[512];
    CHECK_INT(run_finish(&r, tr, sizeof(tr)), 0);
}

static void test_monitor_clean_signals(void)
{
    struct run r;
    /* The container inherits no blocked or ignored signal from the monitor. */
    run_start(&r, "exec grep -E '^Sig(Blk|Ign)' /proc/self/status", false, false, false);
    struct output o = {0};
    CHECK(expect_started(r.client) > 0);
    CHECK(read_until(r.client, &o, NULL) == 0);
    /* Nothing blocked, and none of the signals the monitor itself handles
     * ignored (HUP INT QUIT PIPE TERM).  Other ignored bits can come from the
     * shell the fake runtime uses, depending on how the test was started. */
    const char *blk = o.out.data ? strstr(o.out.data, "SigBlk:\t") : NULL;
    const char *ign = o.out.data ? strstr(o.out.data, "SigIgn:\t") : NULL;
    if (blk == NULL || ign == NULL)
        FAIL_AT("no Sig lines in [%s]", o.out.data ? o.out.data : "");
    unsigned long long blocked = strtoull(blk + 8, NULL, 16);
    unsigned long long ignored = strtoull(ign + 8, NULL, 16);
    unsigned long long handled = (1ULL << (SIGHUP - 1)) | (1ULL << (SIGINT - 1)) |
                                 (1ULL << (SIGQUIT - 1)) | (1ULL << (SIGPIPE - 1)) |
                                 (1ULL << (SIGTERM - 1));
    if (blocked != 0 || (ignored & handled) != 0)
        FAIL_AT("container signals: %s", o.out.data);
    char tr[512];
    CHECK_INT(run_finish(&r, tr, sizeof(tr)), 0);
    mk_buf_free(&o.out);
}

static int count_log(void *ctx, const char *stream, int64_t t, const char *data, size_t len)
{
    size_t *total = ctx;
    *total += len;
    return 0;
}

static void test_monitor_backpressure(void)
{
    struct run r;
    /* More than the per-client buffer, to a client that is late to read:
     * the container is paused, nothing is lost, the log has it all. */
    run_start(&r, "head -c 3000000 /dev/zero | tr '\\0' a; echo; echo end >&2", false, false,
              false);
    CHECK(expect_started(r.client) > 0);
    struct timespec pause = {0, 150000000};
    nanosleep(&pause, NULL);
    struct output o = {0};
    CHECK(read_until(r.client, &o, NULL) == 0);
    CHECK_INT(o.out.len, 3000001);
    CHECK(o.out.data[0] == 'a' && o.out.data[2999999] == 'a' && o.out.data[3000000] == '\n');
    CHECK_STR(o.err.data, "end\n");
    size_t total = 0;
    CHECK(mk_log_read(r.log_path, &(struct mk_log_read_opts){.tail = -1}, count_log, &total,
                      NULL) == 0);
    CHECK_INT(total, 3000001 + 4);
    char tr[512];
    CHECK_INT(run_finish(&r, tr, sizeof(tr)), 0);
    mk_buf_free(&o.out);
    mk_buf_free(&o.err);
}

/* ---- the attach client, against a scripted monitor ---- */

struct attach_run {
    pid_t pid;
    int sock;         /* the monitor's end */
    int in_w;         /* the client's stdin */
    int out_r, err_r; /* its stdout and stderr */
    int result_r;     /* "ret code detached msg" */
};

static void attach_start(struct attach_run *a, const struct mk_attach_opts *o)
{
    int sp[2], in[2], out[2], errp[2], res[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0 || pipe2(in, O_CLOEXEC) < 0 ||
        pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
        abort();
    fflush(stdout);
    a->pid = fork();
    if (a->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(errp[1], 2);
        /* no fork-inherited copy may keep our stdin or the socket open */
        int extra[] = {sp[0], in[0], in[1], out[0], out[1], errp[0], errp[1], res[0]};
        for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
            close(extra[i]);
        int code = -1;
        bool detached = false;
        mk_err *err = NULL;
        int ret = mk_attach_client(sp[1], o, &code, &detached, &err);
        char buf[512];
        int n = snprintf(buf, sizeof(buf), "%d %d %d %s", ret, ret == 0 ? code : err->exit_code,
                         detached, ret == 0 ? "" : err->msg);
        (void)!write(res[1], buf, (size_t)n);
        _exit(0);
    }
    a->sock = sp[0];
    a->in_w = in[1];
    a->out_r = out[0];
    a->err_r = errp[0];
    a->result_r = res[0];
    close(sp[1]);
    close(in[0]);
    close(out[1]);
    close(errp[1]);
    close(res[1]);
}

/* Wait for the client; its result line, stdout and stderr. */
static void attach_finish(struct attach_run *a, char *result, char *out, char *err, size_t n)
{
    waitpid(a->pid, NULL, 0);
    char *bufs[3] = {result, out, err};
    int fds[3] = {a->result_r, a->out_r, a->err_r};
    for (int i = 0; i < 3; i++) {
        ssize_t got = mk_read_all(fds[i], bufs[i], n - 1);
        bufs[i][got > 0 ? got : 0] = '\0';
        close(fds[i]);
    }
    close(a->sock);
    if (a->in_w >= 0)
        close(a->in_w);
}

/* Read frames from the client until one of `type`; its payload appended to b. */
static int attach_expect(int fd, enum mk_frame_type want, mk_buf *b)
{
    for (;;) {
        enum mk_frame_type type;
        char *data = NULL;
        size_t len;
        if (mk_frame_read(fd, &type, &data, &len) != 1)
            return -1;
        if (b != NULL && type == MK_FRAME_STDIN)
            mk_buf_append(b, data, len);
        free(data);
        if (type == want)
            return 0;
    }
}

static void test_attach_client_relay(void)
{
    struct attach_run a;
    struct mk_attach_opts o = {.stdin_ = true};
    attach_start(&a, &o);
    CHECK(mk_frame_write(a.sock, MK_FRAME_STDOUT, "to out", 6) == 0);
    CHECK(mk_frame_write(a.sock, MK_FRAME_STDERR, "to err", 6) == 0);
    CHECK(write(a.in_w, "typed", 5) == 5);
    close(a.in_w);
    a.in_w = -1;
    mk_buf in = {0};
    CHECK(attach_expect(a.sock, MK_FRAME_CLOSE_STDIN, &in) == 0);
    CHECK_STR(in.data, "typed");
    mk_buf_free(&in);
    CHECK(mk_frame_write(a.sock, MK_FRAME_EXIT, "5", 1) == 0);
    /* EXIT is the monitor's last frame (a --rm removal is done before it is
     * sent): the client returns on it, without waiting for the monitor's
     * clean-up to close the connection. */
    bool returned = false;
    for (int i = 0; i < 500 && !returned; i++) {
        struct timespec pause = {0, 10000000};
        returned = waitpid(a.pid, NULL, WNOHANG) == a.pid;
        if (!returned)
            nanosleep(&pause, NULL);
    }
    if (!returned) {
        kill(a.pid, SIGKILL);
        shutdown(a.sock, SHUT_RDWR);
    }
    char res[512], out[512], err[512];
    attach_finish(&a, res, out, err, sizeof(res));
    CHECK(returned);
    CHECK_STR(res, "0 5 0 ");
    CHECK_STR(out, "to out");
    CHECK_STR(err, "to err");
}

static void test_attach_client_errors(void)
{
    struct attach_run a;
    struct mk_attach_opts o = {0};
    char res[512], out[512], err[512];
    attach_start(&a, &o);
    CHECK(mk_frame_write(a.sock, MK_FRAME_STDOUT, "x", 1) == 0);
    shutdown(a.sock, SHUT_RDWR);
    attach_finish(&a, res, out, err, sizeof(res));
    CHECK_STR(res, "-1 125 0 attach: connection to the container's monitor closed");

    attach_start(&a, &o);
    CHECK(mk_frame_write(a.sock, MK_FRAME_ERROR, "126 permission denied", 21) == 0);
    attach_finish(&a, res, out, err, sizeof(res));
    CHECK_STR(res, "-1 126 0 permission denied");

    o.detach_keys = "ctrl-Q";
    attach_start(&a, &o);
    attach_finish(&a, res, out, err, sizeof(res));
    CHECK_STR(res, "-1 125 0 Invalid detach keys (ctrl-Q) provided");
}

static void test_attach_client_detach(void)
{
    struct attach_run a;
    /* stdin is a pipe here: no raw mode, but the keys are still watched */
    struct mk_attach_opts o = {.stdin_ = true, .tty = true, .detach_keys = "ctrl-a,ctrl-b"};
    attach_start(&a, &o);
    CHECK(write(a.in_w, "ab\x01x\x01\x01", 6) == 6);
    mk_buf in = {0};
    while (in.len < 5 && attach_expect(a.sock, MK_FRAME_STDIN, &in) == 0) {
    }
    CHECK(write(a.in_w, "\x02zz", 3) == 3);
    char res[512], out[512], err[512];
    attach_finish(&a, res, out, err, sizeof(res));
    CHECK_STR(res, "0 -1 1 ");
    /* everything but the sequence itself reached the container */
    CHECK_INT(in.len, 5);
    CHECK(memcmp(in.data, "ab\x01x\x01", 5) == 0);
    mk_buf_free(&in);
}

static void test_attach_client_sig_proxy(void)
{
    pid_t target = fork();
    if (target == 0) {
        pause();
        _exit(0);
    }
    struct attach_run a;
    struct mk_attach_opts o = {.stdin_ = true, .sig_proxy = true, .container_pid = target};
    attach_start(&a, &o);
    /* once its input arrives, the client's signal handling is set up */
    CHECK(write(a.in_w, "ready", 5) == 5);
    CHECK(attach_expect(a.sock, MK_FRAME_STDIN, NULL) == 0);
    kill(a.pid, SIGUSR1);
    int status = 0;
    CHECK(waitpid(target, &status, 0) == target);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1);
    CHECK(mk_frame_write(a.sock, MK_FRAME_EXIT, "0", 1) == 0);
    shutdown(a.sock, SHUT_RDWR);
    char res[512], out[512], err[512];
    attach_finish(&a, res, out, err, sizeof(res));
    CHECK_STR(res, "0 0 0 ");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(test_frame_round_trip);
    RUN(test_frame_reader);
    RUN(test_detach_keys);
    RUN(test_monitor_basic);
    RUN(test_monitor_healthcheck);
    RUN(test_monitor_stdin_and_second_client);
    RUN(test_monitor_stdin_once_disconnect);
    RUN(test_monitor_tty);
    RUN(test_monitor_start_failure);
    RUN(test_monitor_orphan_holds_pipe);
    RUN(test_monitor_ignores_sigterm);
    RUN(test_monitor_backpressure);
    RUN(test_monitor_clean_signals);
    RUN(test_attach_client_relay);
    RUN(test_attach_client_errors);
    RUN(test_attach_client_detach);
    RUN(test_attach_client_sig_proxy);
    return tap_done();
}
