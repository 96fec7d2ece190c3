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

/* ---- -v: docker's listing of each object (as the docker CLI prints
 * GET /system/df's object) ---- */

static char *ago(int64_t created_s, int64_t now)
{
    _cleanup_free_ char *d = mk_human_duration(now - created_s * 1000000000);
    return xasprintf("%s ago", d);
}

/* A table printed after its title (docker's "<title>:\n\n" and a blank line after). */
static void section(const char *title, struct mk_table *t)
{
    printf("%s\n\n", title);
    mk_table_print(t, stdout);
    mk_table_free(t);
    printf("\n");
}

static void images_verbose(const json_t *imgs, int64_t now)
{
    struct mk_table *t = mk_table_new();
    mk_table_add(t, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS");
    size_t i;
    json_t *img;
    json_array_foreach(imgs, i, img) {
        /* docker shows the first tag only; <none> for a dangling image */
        const char *ref = json_string_value(json_array_get(json_object_get(img, "RepoTags"), 0));
        _cleanup_free_ char *repo = NULL, *tag = NULL;
        const char *slash = ref ? strrchr(ref, '/') : NULL;
        const char *colon = ref ? strrchr(slash ? slash : ref, ':') : NULL;
        if (ref != NULL && colon != NULL && strcmp(ref, "<none>:<none>") != 0) {
            repo = xstrndup(ref, (size_t)(colon - ref));
            tag = xstrdup(colon + 1);
        } else {
            repo = xstrdup("<none>");
            tag = xstrdup("<none>");
        }
        const char *id = mk_json_str(img, "Id");
        _cleanup_free_ char *short_id = xstrndup(mk_str_has_prefix(id, "sha256:") ? id + 7 : id, 12);
        int64_t size = json_integer_value(json_object_get(img, "Size"));
        int64_t shared = json_integer_value(json_object_get(img, "SharedSize"));
        _cleanup_free_ char *created = ago(json_integer_value(json_object_get(img, "Created")), now);
        _cleanup_free_ char *sz = mk_human_size(size);
        _cleanup_free_ char *sh = mk_human_size_prec(shared, 4);
        _cleanup_free_ char *un = mk_human_size_prec(size - shared, 4);
        _cleanup_free_ char *row = xasprintf(
            "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%lld", repo, tag, short_id, created, sz, sh, un,
            (long long)json_integer_value(json_object_get(img, "Containers")));
        mk_table_add(t, row);
    }
    section("Images space usage:", t);
}

static void containers_verbose(const json_t *cs, int64_t now)
{
    struct mk_table *t = mk_table_new();
    mk_table_add(t, "CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES");
    size_t i, k;
    json_t *c, *m;
    json_array_foreach(cs, i, c) {
        size_t local = 0; /* docker counts the mounts of the local volume driver */
        json_array_foreach(json_object_get(c, "Mounts"), k, m)
            local += mk_json_str(m, "Driver") != NULL && strcmp(mk_json_str(m, "Driver"), "local") == 0;
        _cleanup_free_ char *id = xstrndup(mk_json_str(c, "Id"), 12);
        _cleanup_free_ char *cmd = mk_str_ellipsis(mk_json_str(c, "Command") ?: "", 20);
        _cleanup_free_ char *sz = mk_human_size(json_integer_value(json_object_get(c, "SizeRw")));
        _cleanup_free_ char *created = ago(json_integer_value(json_object_get(c, "Created")), now);
        const char *name = json_string_value(json_array_get(json_object_get(c, "Names"), 0));
        _cleanup_free_ char *row = xasprintf("%s\t%s\t\"%s\"\t%zu\t%s\t%s\t%s\t%s", id,
                                             mk_json_str(c, "Image") ?: "", cmd, local, sz, created,
                                             mk_json_str(c, "Status") ?: "",
                                             name ? name + (name[0] == '/') : "");
        mk_table_add(t, row);
    }
    section("Containers space usage:", t);
}

static void volumes_verbose(const json_t *vs)
{
    struct mk_table *t = mk_table_new();
    mk_table_add(t, "VOLUME NAME\tLINKS\tSIZE");
    size_t i;
    json_t *v;
    json_array_foreach(vs, i, v) {
        json_t *u = json_object_get(v, "UsageData");
        int64_t size = json_integer_value(json_object_get(u, "Size"));
        _cleanup_free_ char *sz = size < 0 ? xstrdup("N/A") : mk_human_size_prec(size, 4);
        _cleanup_free_ char *row = xasprintf("%s\t%lld\t%s", mk_json_str(v, "Name"),
                                             (long long)json_integer_value(json_object_get(u, "RefCount")), sz);
        mk_table_add(t, row);
    }
    section("Local Volumes space usage:", t);
}

static int df_verbose(struct mk_engine *e, mk_err **err)
{
    _cleanup_json_ json_t *df = NULL;
    if (mk_system_df(e, MK_DF_ALL, &df, err) < 0)
        return -1;
    int64_t now = mk_now_ns();
    images_verbose(json_object_get(df, "Images"), now);
    containers_verbose(json_object_get(df, "Containers"), now);
    volumes_verbose(json_object_get(df, "Volumes"));
    /* mocker builds keep no cache: docker's empty section */
    struct mk_table *t = mk_table_new();
    mk_table_add(t, "CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED");
    printf("Build cache usage: 0B\n\n");
    mk_table_print(t, stdout);
    mk_table_free(t);
    return 0;
}

int cmd_system_df(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"df", "system df [OPTIONS]", "Show mocker disk usage", true};
    _cleanup_free_ char *format = NULL;
    bool verbose = false;
    struct mk_opt opts[] = {
        {"format", 0, MK_OPT_STRING, &format, "Format output using a custom template", NULL},
        {"verbose", 'v', MK_OPT_BOOL, &verbose, "Show detailed information on space usage", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    if (r >= 0)
        return r;
    if (verbose && format != NULL) {
        mk_err *unsupported = NULL;
        mk_err_set(&unsupported, MK_ERR_UNSUPPORTED,
                   "system df: --format with --verbose is not supported by mocker yet");
        return mk_cli_fail(NULL, unsupported, 125);
    }
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    if (verbose) {
        int vs = df_verbose(e, &err) < 0 ? mk_cli_fail(NULL, err, 1) : 0;
        mk_engine_free(e);
        return vs;
    }
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
