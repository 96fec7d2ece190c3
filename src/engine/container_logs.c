/* container_logs.c: docker logs, for the CLI and GET /containers/{id}/logs:
 * the container's json-file log read with the caller's window (tail, since,
 * until) and, with follow, until the container stops. */
#include "engine/engine.h"
#include "monitor/monitor.h"

#include <string.h>

int mk_log_tail_parse(const char *s, int64_t *out, mk_err **err)
{
    *out = -1;
    if (s == NULL || *s == '\0' || strcmp(s, "all") == 0)
        return 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0')
        return mk_err_set(err, MK_ERR_INVALID, "invalid value for \"tail\": \"%s\"", s);
    *out = v < 0 ? -1 : v;
    return 0;
}

struct follow_ctx {
    struct mk_engine *e;
    const char *id;
};

static bool still_running(void *p)
{
    struct follow_ctx *f = p;
    struct mk_container *c = NULL;
    if (mk_container_get(f->e, f->id, &c, NULL) < 0)
        return false;
    bool r = mk_container_is_running(c);
    mk_container_free(c);
    return r;
}

int mk_container_logs_readable(const struct mk_container *c, mk_err **err)
{
    const char *driver =
        mk_json_str(json_object_get(json_object_get(c->config, "HostConfig"), "LogConfig"), "Type");
    if (driver != NULL && strcmp(driver, "none") == 0)
        return mk_err_set(err, MK_ERR_INVALID, "configured logging driver does not support reading");
    return 0;
}

int mk_container_logs(struct mk_engine *e, const char *ref, struct mk_log_read_opts *opts,
                      int (*fn)(void *ctx, const char *stream, int64_t time_ns, const char *data,
                                size_t len),
                      void *fn_ctx, mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    int ret = 0;
    _cleanup_free_ char *path = NULL;
    if (mk_container_logs_readable(c, err) < 0) {
        ret = -1;
        goto out;
    }
    struct follow_ctx f = {.e = e, .id = c->id};
    opts->still_running = still_running;
    opts->ctx = &f;
    path = mk_container_log_path(e, c);
    /* a log that is not there yet is empty, unless followed: the file comes */
    if (access(path, F_OK) != 0 && !opts->follow)
        goto out;
    ret = mk_log_read(path, opts, fn, fn_ctx, err);
out:
    mk_container_free(c);
    return ret;
}
