/* health.c: the monitor's healthcheck runner (docker's daemon/health.go).
 *
 * A timerfd in the monitor's epoll loop paces the probes: it fires an interval
 * after the start and after each probe ends, and while a probe runs it is its
 * deadline.  The probe joins the container through the runtime (we are
 * single-threaded, as mk_runtime_exec needs) with the init's own process
 * settings, so it runs as the container's user, env and cwd like docker's
 * exec.  Its stdout and stderr share one pipe, read as they come so a chatty
 * probe never blocks; its exit arrives through the monitor's reaper.  What the
 * results mean (healthy, streaks, the log) is the engine's business: each one
 * goes to hooks.health_result. */
#include "monitor/internal.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

struct health_runner {
    const struct mk_monitor_params *p;
    pid_t init_pid;
    int epfd;
    void *tag;
    int timer_fd;
    int out_fd;  /* the running probe's output, -1 when none */
    pid_t probe; /* the running probe, 0 when none */
    int64_t probe_start;
    char out[MK_HEALTH_OUTPUT_MAX];
    size_t out_len;
    bool truncated;
    int64_t started_mono;
    bool starting; /* the engine's status is still "starting" */
};

static void arm(struct health_runner *h, int64_t ns)
{
    /* A zero it_value would disarm the timer. */
    if (ns <= 0)
        ns = 1;
    struct itimerspec its = {.it_value = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000}};
    timerfd_settime(h->timer_fd, 0, &its, NULL);
}

/* docker's getInterval: the start interval while starting within the start period. */
static int64_t next_interval(const struct health_runner *h)
{
    const struct mk_health_probe *hp = h->p->health;
    if (mk_monotonic_ns() - h->started_mono >= hp->start_period_ns || !h->starting)
        return hp->interval_ns;
    return hp->start_interval_ns;
}

static bool watch(struct health_runner *h, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = h->tag};
    return epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

/* Read what the probe wrote so far; keeps the first MK_HEALTH_OUTPUT_MAX bytes. */
static void read_output(struct health_runner *h)
{
    char buf[16384];
    while (h->out_fd >= 0) {
        ssize_t n = read(h->out_fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            epoll_ctl(h->epfd, EPOLL_CTL_DEL, h->out_fd, NULL);
            mk_closep(&h->out_fd);
            return;
        }
        size_t keep = sizeof(h->out) - h->out_len;
        if ((size_t)n < keep)
            keep = (size_t)n;
        memcpy(h->out + h->out_len, buf, keep);
        h->out_len += keep;
        h->truncated |= keep < (size_t)n;
    }
}

static void report(struct health_runner *h, int64_t start, int exit_code, const char *output)
{
    struct mk_health_result r = {
        .start_ns = start, .end_ns = mk_now_ns(), .exit_code = exit_code, .output = output};
    if (h->p->hooks.health_result != NULL)
        h->starting = h->p->hooks.health_result(h->p->hooks.ctx, &r);
    arm(h, next_interval(h));
}

static char *output_text(struct health_runner *h)
{
    return xasprintf("%.*s%s", (int)h->out_len, h->out, h->truncated ? "..." : "");
}

/* The probe's process is gone (or given up on): forget it and its pipe. */
static void probe_clear(struct health_runner *h)
{
    read_output(h);
    if (h->out_fd >= 0) {
        epoll_ctl(h->epfd, EPOLL_CTL_DEL, h->out_fd, NULL);
        mk_closep(&h->out_fd);
    }
    h->probe = 0;
    h->out_len = 0;
    h->truncated = false;
}

static void probe_start(struct health_runner *h)
{
    const struct mk_monitor_params *p = h->p;
    if (p->hooks.health_paused != NULL && p->hooks.health_paused(p->hooks.ctx)) {
        arm(h, next_interval(h));
        return;
    }
    int64_t start = mk_now_ns();
    _cleanup_err_ mk_err *err = NULL;
    int fds[2] = {-1, -1};
    json_t *process = json_deep_copy(json_object_get(p->spec, "process"));
    json_object_set_new(process, "args", mk_json_from_strv(p->health->argv));
    json_object_set_new(process, "terminal", json_false());
    if (pipe2(fds, O_CLOEXEC) < 0) {
        mk_err_sys(&err, "pipe");
    } else {
        /* A group of its own: a timed-out probe's children die with it
         * instead of being left to the container's init. */
        struct mk_runtime_io io = {.stdin_fd = -1, .stdout_fd = fds[1], .stderr_fd = fds[1],
                                   .console_sock = -1, .own_process_group = true};
        if (mk_runtime_exec(h->init_pid, p->spec, process, &io, &h->probe, &err) == 0) {
            mk_fd_set_nonblock(fds[0], true);
            h->out_fd = steal_fd(&fds[0]);
            if (!watch(h, h->out_fd))
                mk_closep(&h->out_fd); /* its output is lost, its exit still counts */
        }
    }
    json_decref(process);
    mk_closep(&fds[0]);
    mk_closep(&fds[1]);
    if (err != NULL) {
        /* docker reports the exec's failure as its runtime words it */
        _cleanup_free_ char *msg = xasprintf(
            "OCI runtime exec failed: exec failed: unable to start container process: %s: unknown",
            err->msg);
        h->probe = 0;
        report(h, start, -1, msg);
        return;
    }
    h->probe_start = start;
    arm(h, p->health->timeout_ns);
}

/* docker kills a probe that outlived its timeout and reports it as failed. */
static void probe_timeout(struct health_runner *h)
{
    kill(-h->probe, SIGKILL);
    const struct mk_monitor_params *p = h->p;
    if (p->hooks.health_paused != NULL && p->hooks.health_paused(p->hooks.ctx)) {
        /* Frozen by a pause, not slow: docker drops the probe that was running
         * when the container was paused; the hook records the pause. */
        probe_clear(h);
        arm(h, next_interval(h));
        return;
    }
    read_output(h);
    _cleanup_free_ char *dur = mk_duration_string(h->p->health->timeout_ns);
    _cleanup_free_ char *msg = h->out_len > 0 || h->truncated
                                   ? xasprintf("Health check exceeded timeout (%s): %.*s%s", dur,
                                               (int)h->out_len, h->out, h->truncated ? "..." : "")
                                   : xasprintf("Health check exceeded timeout (%s)", dur);
    int64_t start = h->probe_start;
    /* Its exit, when the reaper sees it, is no longer ours to report. */
    probe_clear(h);
    report(h, start, -1, msg);
}

struct health_runner *health_runner_new(const struct mk_monitor_params *p, pid_t init_pid,
                                        int epfd, void *tag, mk_err **err)
{
    struct health_runner *h = xcalloc(1, sizeof(*h));
    h->p = p;
    h->init_pid = init_pid;
    h->epfd = epfd;
    h->tag = tag;
    h->out_fd = -1;
    h->starting = true;
    h->started_mono = mk_monotonic_ns();
    h->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (h->timer_fd < 0 || !watch(h, h->timer_fd)) {
        mk_err_sys(err, "healthcheck timer");
        health_runner_free(h);
        return NULL;
    }
    arm(h, next_interval(h));
    return h;
}

void health_runner_event(struct health_runner *h)
{
    uint64_t fired = 0;
    read_output(h);
    if (read(h->timer_fd, &fired, sizeof(fired)) != (ssize_t)sizeof(fired) || fired == 0)
        return;
    if (h->probe > 0)
        probe_timeout(h);
    else
        probe_start(h);
}

bool health_runner_child(struct health_runner *h, pid_t pid, int status)
{
    if (h == NULL || pid != h->probe || pid <= 0)
        return false;
    int code = WIFEXITED(status) ? WEXITSTATUS(status)
                                 : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    int64_t start = h->probe_start;
    /* Whatever it wrote is in the pipe by now; a background child that keeps
     * the pipe open must not hold the result back. */
    read_output(h);
    _cleanup_free_ char *out = output_text(h);
    probe_clear(h);
    report(h, start, code, out);
    return true;
}

void health_runner_free(struct health_runner *h)
{
    if (h == NULL)
        return;
    if (h->probe > 0)
        kill(-h->probe, SIGKILL);
    if (h->out_fd >= 0) {
        epoll_ctl(h->epfd, EPOLL_CTL_DEL, h->out_fd, NULL);
        close(h->out_fd);
    }
    if (h->timer_fd >= 0) {
        epoll_ctl(h->epfd, EPOLL_CTL_DEL, h->timer_fd, NULL);
        close(h->timer_fd);
    }
    free(h);
}
