/* cmd_logs.c: docker logs from the container's json-file log. */
#include "cli/cli.h"
#include "monitor/monitor.h"

#include <string.h>

struct logs_ctx {
    bool timestamps;
};

static int print_entry(void *p, const char *stream, int64_t t, const char *data, size_t len)
{
    struct logs_ctx *l = p;
    FILE *f = strcmp(stream, "stderr") == 0 ? stderr : stdout;
    if (l->timestamps) {
        _cleanup_free_ char *ts = mk_time_rfc3339_fixed(t);
        fprintf(f, "%s ", ts);
    }
    fwrite(data, 1, len, f);
    fflush(f);
    return 0;
}

int cmd_logs(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"logs", "logs [OPTIONS] CONTAINER",
                                      "Fetch the logs of a container", true};
    bool follow = false, timestamps = false;
    char *tail = NULL, *since = NULL, *until = NULL;
    struct mk_opt opts[] = {
        {"follow", 'f', MK_OPT_BOOL, &follow, "Follow log output", NULL},
        {"tail", 'n', MK_OPT_STRING, &tail, "Number of lines to show from the end of the logs (default \"all\")", NULL},
        {"since", 0, MK_OPT_STRING, &since, "Show logs since timestamp or relative (e.g. 42m for 42 minutes)", NULL},
        {"until", 0, MK_OPT_STRING, &until, "Show logs before a timestamp or relative", NULL},
        {"timestamps", 't', MK_OPT_BOOL, &timestamps, "Show timestamps", NULL},
        {"details", 0, MK_OPT_REFUSED_BOOL, NULL, "log details (extra attributes) are not recorded", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    _cleanup_free_ char *tail_s = NULL, *since_s = NULL, *until_s = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, 1, &rest);
    tail_s = tail;
    since_s = since;
    until_s = until;
    if (r >= 0)
        return r;
    struct mk_log_read_opts lo = {.tail = -1, .follow = follow};
    int64_t now = mk_now_ns();
    if (mk_log_tail_parse(tail_s, &lo.tail, &err) < 0 ||
        (since_s && mk_time_parse(since_s, now, &lo.since, &err) < 0) ||
        (until_s && mk_time_parse(until_s, now, &lo.until, &err) < 0))
        return mk_cli_fail(NULL, err, 1);
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    int status = 0;
    struct logs_ctx l = {.timestamps = timestamps};
    if (mk_container_logs(e, rest[0], &lo, print_entry, &l, &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    mk_engine_free(e);
    return status;
}
