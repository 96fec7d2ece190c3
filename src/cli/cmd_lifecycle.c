/* cmd_lifecycle.c: docker start, stop, kill, rm and wait: commands that take
 * a list of containers and act on each, reporting each failure. */
#include "cli/cli.h"
#include "monitor/monitor.h"

#include <string.h>

struct mk_engine *mk_cli_engine(void)
{
    struct mk_engine *e = NULL;
    mk_err *err = NULL;
    if (mk_engine_open(&e, &err) < 0) {
        mk_cli_fail(NULL, err, 1);
        return NULL;
    }
    return e;
}

int cmd_start(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"start", "start [OPTIONS] CONTAINER [CONTAINER...]",
                                      "Start one or more stopped containers", true};
    bool attach = false, interactive = false;
    char *detach_keys = NULL;
    struct mk_opt opts[] = {
        {"attach", 'a', MK_OPT_BOOL, &attach, "Attach STDOUT/STDERR and forward signals", NULL},
        {"interactive", 'i', MK_OPT_BOOL, &interactive, "Attach container's STDIN", NULL},
        {"detach-keys", 0, MK_OPT_STRING, &detach_keys, "Override the key sequence for detaching a container", NULL},
        {"checkpoint", 0, MK_OPT_REFUSED_VALUE, NULL, "checkpoints are not supported", NULL},
        {"checkpoint-dir", 0, MK_OPT_REFUSED_VALUE, NULL, "checkpoints are not supported", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    _cleanup_free_ char *dk = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, (size_t)-1, &rest);
    dk = detach_keys;
    if (r >= 0)
        return r;
    if ((attach || interactive) && mk_strv_len(rest) > 1) {
        fprintf(stderr, "mocker: you cannot start and attach multiple containers at once\n");
        return 1;
    }
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    int status = 0;
    for (size_t i = 0; rest[i]; i++) {
        int fd = -1;
        bool want = attach || interactive;
        if (mk_container_start(e, rest[i], want ? &fd : NULL, &err) < 0) {
            if (err->kind == MK_ERR_NOT_MODIFIED && !want) {
                mk_err_clear(&err);
                printf("%s\n", rest[i]);
                continue;
            }
            status = mk_cli_fail(NULL, err, want && err->exit_code != 125 ? err->exit_code : 1);
            err = NULL;
            continue;
        }
        if (!want) {
            printf("%s\n", rest[i]);
            continue;
        }
        struct mk_container *c = NULL;
        bool tty = false;
        pid_t pid = 0;
        if (mk_container_get(e, rest[i], &c, NULL) == 0) {
            tty = mk_json_bool(json_object_get(c->config, "Config"), "Tty", false);
            pid = c->pid;
            mk_container_free(c);
        }
        struct mk_attach_opts ao = {.stdin_ = interactive, .tty = tty, .detach_keys = dk,
                                    .sig_proxy = !tty, .container_pid = pid};
        int code = 0;
        bool detached = false;
        if (mk_attach_client(fd, &ao, &code, &detached, &err) < 0)
            status = mk_cli_fail(NULL, err, 1);
        else
            status = detached ? 0 : code;
        close(fd);
    }
    mk_engine_free(e);
    return status;
}

int mk_cli_for_each(char **refs, int (*op)(struct mk_engine *, const char *, void *, mk_err **),
                    void *ctx, bool print_name)
{
    mk_err *err = NULL;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    int status = 0;
    for (size_t i = 0; refs[i]; i++) {
        if (op(e, refs[i], ctx, &err) < 0 && err->kind != MK_ERR_NOT_MODIFIED) {
            status = mk_cli_fail(NULL, err, 1);
            err = NULL;
            continue;
        }
        mk_err_clear(&err);
        if (print_name)
            printf("%s\n", refs[i]);
    }
    mk_engine_free(e);
    return status;
}

int mk_cli_each_container(const struct mk_cmd *cmd, int argc, char **argv, struct mk_opt *opts,
                          int (*op)(struct mk_engine *, const char *, void *, mk_err **), void *ctx,
                          bool print_name)
{
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(cmd, argc, argv, opts, 1, (size_t)-1, &rest);
    if (r >= 0)
        return r;
    return mk_cli_for_each(rest, op, ctx, print_name);
}

struct stop_ctx {
    long timeout;
    bool timeout_set;
    char *signal;
};

static int do_stop(struct mk_engine *e, const char *ref, void *ctx, mk_err **err)
{
    struct stop_ctx *s = ctx;
    return mk_container_stop(e, ref, s->timeout_set ? (int)s->timeout : -1, s->signal, err);
}

int cmd_stop(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"stop", "stop [OPTIONS] CONTAINER [CONTAINER...]",
                                      "Stop one or more running containers", true};
    struct stop_ctx s = {0};
    struct mk_opt opts[] = {
        {"time", 't', MK_OPT_INT, &s.timeout, "Seconds to wait before killing the container", &s.timeout_set},
        {"timeout", 0, MK_OPT_INT, &s.timeout, NULL, &s.timeout_set},
        {"signal", 's', MK_OPT_STRING, &s.signal, "Signal to send to the container", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    int r = mk_cli_each_container(&cmd, argc, argv, opts, do_stop, &s, true);
    free(s.signal);
    return r;
}

static int do_restart(struct mk_engine *e, const char *ref, void *ctx, mk_err **err)
{
    struct stop_ctx *s = ctx;
    return mk_container_restart(e, ref, s->timeout_set ? (int)s->timeout : -1, s->signal, err);
}

int cmd_restart(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"restart", "restart [OPTIONS] CONTAINER [CONTAINER...]",
                                      "Restart one or more containers", true};
    struct stop_ctx s = {0};
    struct mk_opt opts[] = {
        {"signal", 's', MK_OPT_STRING, &s.signal, "Signal to send to the container", NULL},
        {"timeout", 't', MK_OPT_INT, &s.timeout, "Seconds to wait before killing the container", &s.timeout_set},
        {"time", 0, MK_OPT_INT, &s.timeout, NULL, &s.timeout_set},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    int r = mk_cli_each_container(&cmd, argc, argv, opts, do_restart, &s, true);
    free(s.signal);
    return r;
}

/* `mocker __boot`: opening the engine runs the after-boot pass when this boot
 * has not had it; the explicit pass then reports what could not be started. */
int cmd_boot(void)
{
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    mk_err *err = NULL;
    int status = 0;
    if (mk_engine_boot(e, &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    mk_engine_free(e);
    return status;
}

static int do_kill(struct mk_engine *e, const char *ref, void *ctx, mk_err **err)
{
    return mk_container_kill(e, ref, *(char **)ctx, err);
}

int cmd_kill(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"kill", "kill [OPTIONS] CONTAINER [CONTAINER...]",
                                      "Kill one or more running containers", true};
    char *signal = NULL;
    struct mk_opt opts[] = {
        {"signal", 's', MK_OPT_STRING, &signal, "Signal to send to the container", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    int r = mk_cli_each_container(&cmd, argc, argv, opts, do_kill, &signal, true);
    free(signal);
    return r;
}

struct rm_ctx {
    bool force, volumes, link;
};

static int do_rm(struct mk_engine *e, const char *ref, void *ctx, mk_err **err)
{
    struct rm_ctx *r = ctx;
    return mk_container_remove(e, ref, r->force, r->volumes, err);
}

int cmd_rm(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"rm", "rm [OPTIONS] CONTAINER [CONTAINER...]",
                                      "Remove one or more containers", true};
    struct rm_ctx c = {0};
    struct mk_opt opts[] = {
        {"force", 'f', MK_OPT_BOOL, &c.force, "Force the removal of a running container (uses SIGKILL)", NULL},
        {"volumes", 'v', MK_OPT_BOOL, &c.volumes, "Remove anonymous volumes associated with the container", NULL},
        {"link", 'l', MK_OPT_REFUSED_BOOL, NULL, "links come with networking", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    return mk_cli_each_container(&cmd, argc, argv, opts, do_rm, &c, true);
}

int cmd_wait(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"wait", "wait CONTAINER [CONTAINER...]",
                                      "Block until one or more containers stop, then print their exit codes", true};
    struct mk_opt opts[] = {{NULL, 0, 0, NULL, NULL, NULL}};
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, (size_t)-1, &rest);
    if (r >= 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    int status = 0;
    for (size_t i = 0; rest[i]; i++) {
        int code;
        if (mk_container_wait(e, rest[i], &code, &err) < 0) {
            status = mk_cli_fail(NULL, err, 1);
            err = NULL;
            continue;
        }
        printf("%d\n", code);
        fflush(stdout);
    }
    mk_engine_free(e);
    return status;
}
