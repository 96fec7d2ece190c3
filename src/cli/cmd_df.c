/* cmd_df.c: docker system df: what images, containers and volumes take on disk. */
#include "cli/cli.h"
#include "cli/format.h"

#include <string.h>

static json_t *df_row(const char *type, size_t total, size_t active, int64_t size,
                      int64_t reclaimable)
{
    _cleanup_free_ char *sz = mk_human_size_prec(size, 4);
    _cleanup_free_ char *rec = mk_human_size_prec(reclaimable, 4);
    /* docker adds the share only when there is a total to take it of. */
    _cleanup_free_ char *rec_text = size > 0
        ? xasprintf("%s (%lld%%)", rec, (long long)(reclaimable * 100 / size)) : xstrdup(rec);
    _cleanup_free_ char *t = xasprintf("%zu", total), *a = xasprintf("%zu", active);
    return json_pack("{s:s,s:s,s:s,s:s,s:s}", "Active", a, "Reclaimable", rec_text, "Size", sz,
                     "TotalCount", t, "Type", type);
}

static bool container_active(const json_t *c)
{
    const char *st = mk_json_str(c, "State");
    return st != NULL && (strcmp(st, "running") == 0 || strcmp(st, "paused") == 0 ||
                          strcmp(st, "restarting") == 0);
}

/* The summary rows from the engine's figures (mk_system_df, GET /system/df's
 * object), computed as the docker CLI computes them from that object. */
static int df_rows(struct mk_engine *e, json_t *rows, mk_err **err)
{
    _cleanup_json_ json_t *df = NULL;
    if (mk_system_df(e, MK_DF_ALL, &df, err) < 0)
        return -1;
    size_t i, active = 0;
    json_t *x;
    /* images: reclaimable is all but what active images have to themselves */
    int64_t layers = json_integer_value(json_object_get(df, "LayersSize")), used = 0;
    json_t *imgs = json_object_get(df, "Images");
    json_array_foreach(imgs, i, x)
        if (json_integer_value(json_object_get(x, "Containers")) > 0) {
            active++;
            used += json_integer_value(json_object_get(x, "Size")) -
                    json_integer_value(json_object_get(x, "SharedSize"));
        }
    json_array_append_new(rows, df_row("Images", json_array_size(imgs), active, layers, layers - used));
    /* containers: the writable layers; those of stopped ones are reclaimable */
    int64_t size = 0, reclaimable = 0;
    active = 0;
    json_t *cs = json_object_get(df, "Containers");
    json_array_foreach(cs, i, x) {
        int64_t rw = json_integer_value(json_object_get(x, "SizeRw"));
        bool on = container_active(x);
        active += on;
        size += rw;
        reclaimable += on ? 0 : rw;
    }
    json_array_append_new(rows, df_row("Containers", json_array_size(cs), active, size, reclaimable));
    /* volumes: unused ones are reclaimable */
    size = reclaimable = 0;
    active = 0;
    json_t *vs = json_object_get(df, "Volumes");
    json_array_foreach(vs, i, x) {
        json_t *u = json_object_get(x, "UsageData");
        int64_t sz = json_integer_value(json_object_get(u, "Size"));
        bool on = json_integer_value(json_object_get(u, "RefCount")) > 0;
        active += on;
        size += sz > 0 ? sz : 0;
        reclaimable += on || sz < 0 ? 0 : sz;
    }
    json_array_append_new(rows, df_row("Local Volumes", json_array_size(vs), active, size, reclaimable));
    /* mocker builds keep no cache */
    json_array_append_new(rows, df_row("Build Cache", 0, 0, 0, 0));
    return 0;
}

int cmd_system_df(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"df", "system df [OPTIONS]", "Show mocker disk usage", true};
    _cleanup_free_ char *format = NULL;
    struct mk_opt opts[] = {
        {"format", 0, MK_OPT_STRING, &format, "Format output using a custom template", NULL},
        {"verbose", 'v', MK_OPT_REFUSED_BOOL, NULL, "the verbose listing is not implemented yet", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    if (r >= 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    _cleanup_json_ json_t *rows = json_array();
    _cleanup_json_ json_t *headers = json_pack("{s:s,s:s,s:s,s:s,s:s}", "Type", "TYPE", "TotalCount",
                                              "TOTAL", "Active", "ACTIVE", "Size", "SIZE",
                                              "Reclaimable", "RECLAIMABLE");
    int status = 0;
    if (df_rows(e, rows, &err) < 0 ||
        mk_format_rows(format, "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                       headers, rows, stdout, &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    mk_engine_free(e);
    return status;
}
