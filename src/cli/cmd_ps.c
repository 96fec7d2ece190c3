/* cmd_ps.c: docker ps: filters, the default table, --format, -q. */
#include "cli/cli.h"
#include "cli/format.h"
#include "image/image.h"

#include <time.h>
#include <string.h>

char *mk_cli_status_text(const struct mk_container *c, const char *health, int64_t now)
{
    return mk_container_status_text(c, health, now);
}

/* docker's COMMAND column: the command line quoted, cut at 20 characters. */
static char *command_text(const json_t *config, bool no_trunc)
{
    json_t *argv = json_array();
    json_array_extend(argv, json_object_get(config, "Entrypoint") ?: json_array());
    json_array_extend(argv, json_object_get(config, "Cmd") ?: json_array());
    _cleanup_strv_ char **v = mk_json_strv(argv);
    json_decref(argv);
    _cleanup_free_ char *joined = mk_strv_join(v, " ");
    _cleanup_free_ char *cut = no_trunc ? xstrdup(joined) : mk_str_ellipsis(joined, 20);
    return xasprintf("\"%s\"", cut);
}

static char *labels_text(const json_t *labels)
{
    const char *k;
    json_t *v;
    mk_buf b = {0};
    json_object_foreach((json_t *)labels, k, v)
    {
        if (b.len)
            mk_buf_puts(&b, ",");
        mk_buf_printf(&b, "%s=%s", k, json_string_value(v) ?: "");
    }
    return mk_buf_steal(&b);
}

/* docker's "2B (virtual 4.3MB)": the writable layer, and that plus the image. */
static char *size_column(struct mk_engine *e, const struct mk_container *c)
{
    int64_t rw, virt;
    mk_container_sizes(e, c, &rw, &virt);
    _cleanup_free_ char *a = mk_human_size(rw);
    _cleanup_free_ char *b = mk_human_size(virt);
    return virt > 0 ? xasprintf("%s (virtual %s)", a, b) : xstrdup(a);
}

int cmd_ps(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"ps", "ps [OPTIONS]", "List containers", true};
    bool all = false, quiet = false, latest = false, no_trunc = false, size = false;
    long last = -1;
    char *format = NULL;
    _cleanup_strv_ char **filter_args = NULL;
    struct mk_opt opts[] = {
        {"all", 'a', MK_OPT_BOOL, &all, "Show all containers (default shows just running)", NULL},
        {"filter", 'f', MK_OPT_LIST, &filter_args, "Filter output based on conditions provided", NULL},
        {"format", 0, MK_OPT_STRING, &format, "Format output using a custom template", NULL},
        {"last", 'n', MK_OPT_INT, &last, "Show n last created containers (includes all states)", NULL},
        {"latest", 'l', MK_OPT_BOOL, &latest, "Show the latest created container (includes all states)", NULL},
        {"no-trunc", 0, MK_OPT_BOOL, &no_trunc, "Don't truncate output", NULL},
        {"quiet", 'q', MK_OPT_BOOL, &quiet, "Only display container IDs", NULL},
        {"size", 's', MK_OPT_BOOL, &size, "Display total file sizes", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    _cleanup_free_ char *fmt = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    fmt = format;
    if (r >= 0)
        return r;
    struct mk_container_filters fl = {0};
    int status = 1;
    struct mk_container_row *list = NULL;
    size_t n = 0;
    json_t *rows = json_array();
    struct mk_engine *e = NULL;
    if (mk_container_filters_parse(&fl, filter_args, &err) < 0) {
        status = mk_cli_fail(NULL, err, 1);
        goto out;
    }
    if (latest)
        last = 1;
    /* As docker: a format that shows .Size asks for the sizes itself. */
    if (fmt != NULL && strstr(fmt, ".Size") != NULL)
        size = true;
    e = mk_cli_engine();
    if (e == NULL)
        goto out;
    if (mk_container_select(e, &fl, all, last, &list, &n, &err) < 0) {
        status = mk_cli_fail(NULL, err, 1);
        goto out;
    }
    int64_t now = mk_now_ns();
    for (size_t i = 0; i < n; i++) {
        struct mk_container *c = list[i].c;
        const char *health = list[i].health;
        const json_t *config = json_object_get(c->config, "Config");
        _cleanup_free_ char *id = no_trunc ? xstrdup(c->id) : xstrndup(c->id, 12);
        if (quiet) {
            printf("%s\n", id);
            continue;
        }
        _cleanup_free_ char *command = command_text(config, no_trunc);
        _cleanup_free_ char *created = mk_time_rfc3339(c->created);
        _cleanup_free_ char *ago = mk_human_duration(now - c->created);
        _cleanup_free_ char *running_for = xasprintf("%s ago", ago);
        _cleanup_free_ char *st = mk_cli_status_text(c, health, now);
        _cleanup_free_ char *labels = labels_text(json_object_get(config, "Labels"));
        /* docker's CreatedAt: "2006-01-02 15:04:05 -0700 MST" */
        char created_at[64];
        time_t secs = (time_t)(c->created / 1000000000);
        struct tm tm;
        gmtime_r(&secs, &tm);
        strftime(created_at, sizeof(created_at), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
        const char *net = mk_json_str(json_object_get(c->config, "HostConfig"), "NetworkMode");
        _cleanup_free_ char *size_text = size ? size_column(e, c) : xstrdup("");
        json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
                                "Command", command, "CreatedAt", created_at, "ID", id, "Image",
                                c->image, "Labels", labels, "LocalVolumes", "0", "Mounts", "",
                                "Names", c->name, "Networks", net ? net : "", "Ports", "",
                                "RunningFor", running_for, "Size", size_text, "State", c->status,
                                "Status", st);
        (void)created;
        json_array_append_new(rows, row);
    }
    if (!quiet) {
        json_t *headers = json_pack(
            "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ID", "CONTAINER ID",
            "Image", "IMAGE", "Command", "COMMAND", "CreatedAt", "CREATED AT", "RunningFor",
            "CREATED", "Status", "STATUS", "Ports", "PORTS", "Names", "NAMES", "State", "STATE",
            "Size", "SIZE", "Labels", "LABELS", "Mounts", "MOUNTS", "Networks", "NETWORKS",
            "LocalVolumes", "LOCAL VOLUMES");
        r = mk_format_rows(fmt, size ? "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}"
                                     : "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
                           headers, rows, stdout, &err);
        json_decref(headers);
        if (r < 0) {
            status = mk_cli_fail(NULL, err, 1);
            goto out;
        }
    }
    status = 0;
out:
    json_decref(rows);
    mk_container_rows_free(list, n);
    mk_container_filters_clear(&fl);
    mk_engine_free(e);
    return status;
}
