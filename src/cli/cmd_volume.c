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

/* The filters of volume ls, parsed once. */
struct volume_filters {
    char **names, **drivers, **labels, **not_labels;
    int dangling; /* -1: not asked */
};

static void volume_filters_clear(struct volume_filters *f)
{
    mk_strv_free(f->names);
    mk_strv_free(f->drivers);
    mk_strv_free(f->labels);
    mk_strv_free(f->not_labels);
}

static int volume_filters_parse(char *const *filters, bool prune, struct volume_filters *f,
                                mk_err **err)
{
    memset(f, 0, sizeof(*f));
    f->dangling = -1;
    for (size_t i = 0; filters != NULL && filters[i] != NULL; i++) {
        const char *kv = filters[i];
        const char *eq = strchr(kv, '=');
        _cleanup_free_ char *k = xstrndup(kv, (size_t)(eq - kv));
        const char *val = eq + 1;
        if (strcmp(k, "label") == 0) {
            mk_strv_push(&f->labels, val);
        } else if (strcmp(k, "label!") == 0) {
            mk_strv_push(&f->not_labels, val);
        } else if (!prune && strcmp(k, "name") == 0) {
            mk_strv_push(&f->names, val);
        } else if (!prune && strcmp(k, "driver") == 0) {
            mk_strv_push(&f->drivers, val);
        } else if (!prune && strcmp(k, "dangling") == 0) {
            if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
                f->dangling = 1;
            else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0)
                f->dangling = 0;
            else
                return mk_err_set(err, MK_ERR_INVALID,
                                  "invalid filter 'dangling=%s': invalid boolean value", val);
        } else {
            return mk_err_set(err, MK_ERR_INVALID, "invalid filter '%s'", k);
        }
    }
    return 0;
}

static bool any_substring(char *const *subs, const char *s)
{
    if (subs == NULL || subs[0] == NULL)
        return true;
    for (size_t i = 0; subs[i] != NULL; i++)
        if (strstr(s, subs[i]) != NULL)
            return true;
    return false;
}

static bool any_equal(char *const *v, const char *s)
{
    if (v == NULL || v[0] == NULL)
        return true;
    for (size_t i = 0; v[i] != NULL; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
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
    mk_err *err = NULL;
    struct volume_filters f;
    if (volume_filters_parse(filters, false, &f, &err) < 0) {
        volume_filters_clear(&f);
        return mk_cli_fail(NULL, err, 1);
    }
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL) {
        volume_filters_clear(&f);
        return 1;
    }
    struct mk_volume **v = NULL;
    size_t n = 0;
    _cleanup_json_ json_t *rows = json_array();
    if (mk_store_volume_list(e->store, &v, &n, &err) < 0) {
        mk_engine_free(e);
        volume_filters_clear(&f);
        return mk_cli_fail(NULL, err, 1);
    }
    for (size_t i = 0; i < n; i++) {
        if (!any_substring(f.names, v[i]->name) || !any_equal(f.drivers, v[i]->driver) ||
            !mk_volume_labels_match(v[i]->labels, f.labels, f.not_labels))
            continue;
        if (f.dangling >= 0) {
            _cleanup_strv_ char **users = NULL;
            if (mk_store_volume_users(e->store, v[i]->name, &users, NULL) < 0)
                continue;
            if ((users[0] == NULL) != (f.dangling == 1))
                continue;
        }
        json_array_append_new(rows, volume_row(e, v[i]));
    }
    mk_volume_list_free(v, n);
    mk_engine_free(e);
    volume_filters_clear(&f);
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
    struct volume_filters f;
    if (volume_filters_parse(filters, true, &f, &err) < 0) {
        volume_filters_clear(&f);
        return mk_cli_fail(NULL, err, 1);
    }
    /* docker 28's CLI against API >= 1.42: anonymous volumes unless -a */
    if (!force && !mk_cli_confirm(all ? "WARNING! This will remove all local volumes not used by "
                                        "at least one container."
                                      : "WARNING! This will remove anonymous local volumes not "
                                        "used by at least one container.")) {
        volume_filters_clear(&f);
        return 0;
    }
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL) {
        volume_filters_clear(&f);
        return 1;
    }
    _cleanup_strv_ char **names = NULL;
    int64_t reclaimed = 0;
    r = mk_volume_prune(e, all, f.labels, f.not_labels, &names, &reclaimed, &err);
    mk_engine_free(e);
    volume_filters_clear(&f);
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
