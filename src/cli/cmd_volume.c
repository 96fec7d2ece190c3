/* cmd_volume.c: docker volume create|ls|inspect|rm|prune. */
#include "cli/cli.h"
#include "cli/format.h"

#include <string.h>

int cmd_volume_create(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"volume create", "volume create [OPTIONS] [VOLUME]",
                                      "Create a volume", true};
    char *driver = NULL, *name_flag = NULL;
    _cleanup_strv_ char **labels = NULL, **opts_kv = NULL;
    struct mk_opt opts[] = {
        {"driver", 'd', MK_OPT_STRING, &driver, "Specify volume driver name", NULL},
        {"label", 0, MK_OPT_LIST, &labels, "Set metadata for a volume", NULL},
        {"name", 0, MK_OPT_STRING, &name_flag, "Specify volume name", NULL},
        {"opt", 'o', MK_OPT_LIST, &opts_kv, "Set driver specific options", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    _cleanup_free_ char *d = NULL, *n = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 1, &rest);
    d = driver;
    n = name_flag;
    if (r >= 0)
        return r;
    if (rest[0] != NULL && n != NULL && strcmp(rest[0], n) != 0) {
        fprintf(stderr, "Conflicting options: either specify --name or provide positional arg, "
                        "not both\n");
        return 1;
    }
    _cleanup_json_ json_t *lab = json_object(), *o = json_object();
    for (size_t i = 0; labels && labels[i]; i++)
        mk_cli_kv_set(lab, labels[i]);
    for (size_t i = 0; opts_kv && opts_kv[i]; i++)
        mk_cli_kv_set(o, opts_kv[i]);
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    mk_err *err = NULL;
    struct mk_volume *v = NULL;
    struct mk_volume_create_opts co = {
        .name = rest[0] != NULL ? rest[0] : n, .driver = d, .labels = lab, .options = o};
    r = mk_volume_create(e, &co, &v, &err);
    mk_engine_free(e);
    /* what mocker cannot do is refused as every such flag is, with 125 */
    if (r < 0)
        return mk_cli_fail(NULL, err, err->kind == MK_ERR_UNSUPPORTED ? 125 : 1);
    printf("%s\n", v->name);
    mk_volume_free(v);
    return 0;
}

static json_t *volume_inspect_one(struct mk_engine *e, const char *name, mk_err **err)
{
    struct mk_volume *v = NULL;
    if (mk_volume_get(e, name, &v, err) < 0)
        return NULL;
    json_t *obj = mk_volume_inspect_json(e, v);
    mk_volume_free(v);
    return obj;
}

int cmd_volume_inspect(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"volume inspect", "volume inspect [OPTIONS] VOLUME [VOLUME...]",
                                      "Display detailed information on one or more volumes", true};
    char *format = NULL;
    struct mk_opt opts[] = {
        {"format", 'f', MK_OPT_STRING, &format, "Format output using a custom template", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, (size_t)-1, &rest);
    _cleanup_free_ char *fmt = format;
    if (r >= 0)
        return r;
    return mk_cli_inspect_each(rest, fmt, volume_inspect_one);
}

static int volume_rm_one(struct mk_engine *e, const char *name, void *ctx, mk_err **err)
{
    return mk_volume_remove(e, name, *(bool *)ctx, err);
}

int cmd_volume_rm(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"volume rm", "volume rm [OPTIONS] VOLUME [VOLUME...]",
                                      "Remove one or more volumes", true};
    bool force = false;
    struct mk_opt opts[] = {
        {"force", 'f', MK_OPT_BOOL, &force, "Force the removal of one or more volumes", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, (size_t)-1, &rest);
    if (r >= 0)
        return r;
    return mk_cli_for_each(rest, volume_rm_one, &force, true);
}

/* docker's volume ls row: Labels as "k=v,k2=v2". */
static json_t *volume_row(struct mk_engine *e, const struct mk_volume *v)
{
    mk_buf labels = {0};
    const char *k;
    json_t *val;
    json_object_foreach(v->labels, k, val)
    {
        if (labels.len > 0)
            mk_buf_puts(&labels, ",");
        mk_buf_puts(&labels, k);
        mk_buf_puts(&labels, "=");
        mk_buf_puts(&labels, json_string_value(val) ? json_string_value(val) : "");
    }
    _cleanup_free_ char *mp = mk_volume_data_path(e, v->name);
    json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Availability", "N/A",
                            "Driver", v->driver, "Group", "N/A", "Labels",
                            labels.data ? labels.data : "", "Links", "N/A", "Mountpoint", mp,
                            "Name", v->name, "Scope", "local", "Size", "N/A", "Status", "N/A");
    mk_buf_free(&labels);
    return row;
}

int cmd_volume_ls(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"volume ls", "volume ls [OPTIONS]", "List volumes", true};
    bool quiet = false;
    char *format = NULL;
    _cleanup_strv_ char **filters = NULL;
    struct mk_opt opts[] = {
        {"filter", 'f', MK_OPT_LIST, &filters, "Provide filter values (e.g. \"dangling=true\")", NULL},
        {"format", 0, MK_OPT_STRING, &format, "Format output using a custom template", NULL},
        {"quiet", 'q', MK_OPT_BOOL, &quiet, "Only display volume names", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    _cleanup_free_ char *fmt = format;
    if (r >= 0)
        return r;
    if ((r = mk_cli_check_filters(&cmd, "-f, --filter", filters)) != 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    mk_err *err = NULL;
    struct mk_volume **v = NULL;
    size_t n = 0;
    if (mk_volume_select(e, filters, &v, &n, &err) < 0) {
        mk_engine_free(e);
        return mk_cli_fail(NULL, err, 1);
    }
    _cleanup_json_ json_t *rows = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, volume_row(e, v[i]));
    mk_volume_list_free(v, n);
    mk_engine_free(e);
    const char *use = fmt;
    if (quiet && (fmt == NULL || *fmt == '\0' || strcmp(fmt, "table") == 0))
        use = "{{.Name}}";
    _cleanup_json_ json_t *headers =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Driver", "DRIVER", "Name", "VOLUME NAME",
                  "Scope", "SCOPE", "Mountpoint", "MOUNTPOINT", "Labels", "LABELS", "Size", "SIZE",
                  "Links", "LINKS");
    if (mk_format_rows(use, "table {{.Driver}}\t{{.Name}}", headers, rows, stdout, &err) < 0)
        return mk_cli_fail("template parsing error", err, 1);
    return 0;
}

int cmd_volume_prune(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"volume prune", "volume prune [OPTIONS]",
                                      "Remove unused local volumes", true};
    bool all = false, force = false;
    _cleanup_strv_ char **filters = NULL;
    struct mk_opt opts[] = {
        {"all", 'a', MK_OPT_BOOL, &all, "Remove all unused volumes, not just anonymous ones", NULL},
        {"filter", 0, MK_OPT_LIST, &filters, "Provide filter values (e.g. \"label=<label>\")", NULL},
        {"force", 'f', MK_OPT_BOOL, &force, "Do not prompt for confirmation", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    if (r >= 0)
        return r;
    if ((r = mk_cli_check_filters(&cmd, "--filter", filters)) != 0)
        return r;
    mk_err *err = NULL;
    bool all_filter = false;
    _cleanup_strv_ char **labels = NULL, **not_labels = NULL;
    if (mk_volume_prune_filters(filters, &all_filter, &labels, &not_labels, &err) < 0)
        return mk_cli_fail(NULL, err, 1);
    all = all || all_filter;
    /* docker 28's CLI against API >= 1.42: anonymous volumes unless -a */
    if (!force && !mk_cli_confirm(all ? "WARNING! This will remove all local volumes not used by "
                                        "at least one container."
                                      : "WARNING! This will remove anonymous local volumes not "
                                        "used by at least one container."))
        return 0;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    _cleanup_strv_ char **names = NULL;
    int64_t reclaimed = 0;
    r = mk_volume_prune(e, all, labels, not_labels, &names, &reclaimed, &err);
    mk_engine_free(e);
    if (r < 0)
        return mk_cli_fail(NULL, err, 1);
    if (names[0] != NULL) {
        printf("Deleted Volumes:\n");
        for (size_t i = 0; names[i] != NULL; i++)
            printf("%s\n", names[i]);
        printf("\n");
    }
    _cleanup_free_ char *size = mk_human_size_prec(reclaimed, 4);
    printf("Total reclaimed space: %s\n", size);
    return 0;
}
