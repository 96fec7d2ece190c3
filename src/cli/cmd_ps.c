/* cmd_ps.c: docker ps: filters, the default table, --format, -q. */
#include "cli/cli.h"
#include "cli/format.h"
#include "image/image.h"

#include <regex.h>
#include <time.h>
#include <string.h>

/* docker's State.String: "(Paused)" wins over the health, and "starting"
 * reads "health: starting". */
static char *up_text(const struct mk_container *c, const char *health, int64_t now)
{
    _cleanup_free_ char *d = mk_human_duration(now - c->started_at);
    if (strcmp(c->status, "paused") == 0)
        return xasprintf("Up %s (Paused)", d);
    if (health != NULL)
        return xasprintf("Up %s (%s%s)", d, strcmp(health, "starting") == 0 ? "health: " : "",
                         health);
    return xasprintf("Up %s", d);
}

char *mk_cli_status_text(const struct mk_container *c, const char *health, int64_t now)
{
    if (strcmp(c->status, "running") == 0 || strcmp(c->status, "paused") == 0)
        return up_text(c, health, now);
    if (strcmp(c->status, "exited") == 0) {
        _cleanup_free_ char *d = mk_human_duration(now - c->finished_at);
        return xasprintf("Exited (%d) %s ago", c->exit_code, d);
    }
    if (strcmp(c->status, "removing") == 0)
        return xstrdup("Removal In Progress");
    if (strcmp(c->status, "dead") == 0)
        return xstrdup("Dead");
    if (strcmp(c->status, "restarting") == 0) {
        _cleanup_free_ char *d = mk_human_duration(now - c->finished_at);
        return xasprintf("Restarting (%d) %s ago", c->exit_code, d);
    }
    return xstrdup("Created");
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

struct filters {
    char **id, **name, **label, **status, **ancestor, **health;
};

static bool match_any(char **patterns, bool (*fn)(const char *, const void *), const void *ctx)
{
    if (patterns == NULL)
        return true;
    for (size_t i = 0; patterns[i]; i++)
        if (fn(patterns[i], ctx))
            return true;
    return false;
}

static bool m_id(const char *p, const void *c)
{
    return mk_str_has_prefix(((const struct mk_container *)c)->id, p);
}

static bool m_name(const char *p, const void *c)
{
    regex_t re;
    if (regcomp(&re, p, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool ok = regexec(&re, ((const struct mk_container *)c)->name, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static bool m_status(const char *p, const void *c)
{
    return strcmp(((const struct mk_container *)c)->status, p) == 0;
}

static bool m_exact(const char *p, const void *value)
{
    return strcmp(p, value) == 0;
}

static bool m_ancestor(const char *p, const void *vc)
{
    const struct mk_container *c = vc;
    if (strcmp(c->image, p) == 0)
        return true;
    struct mk_ref *r = NULL;
    if (mk_ref_parse(p, &r, NULL) == 0) {
        _cleanup_free_ char *want = mk_ref_familiar(r);
        struct mk_ref *cr = NULL;
        bool same = false;
        if (mk_ref_parse(c->image, &cr, NULL) == 0) {
            _cleanup_free_ char *have = mk_ref_familiar(cr);
            same = strcmp(want, have) == 0;
            mk_ref_free(cr);
        }
        mk_ref_free(r);
        if (same)
            return true;
    }
    const char *hex = c->image_id + 7;
    const char *ph = mk_str_has_prefix(p, "sha256:") ? p + 7 : p;
    return mk_str_is_hex(ph) && mk_str_has_prefix(hex, ph);
}

/* Every label filter must match (docker ANDs label filters). */
static bool labels_match(char **filters, const json_t *labels)
{
    for (size_t i = 0; filters && filters[i]; i++) {
        _cleanup_free_ char *kv = xstrdup(filters[i]);
        char *eq = strchr(kv, '=');
        if (eq != NULL)
            *eq++ = '\0';
        const char *have = mk_json_str(labels, kv);
        if (have == NULL || (eq != NULL && strcmp(have, eq) != 0))
            return false;
    }
    return true;
}

static int parse_filter(const char *f, struct filters *fl, mk_err **err)
{
    const char *eq = strchr(f, '=');
    if (eq == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "bad format of filter (expected name=value)");
    _cleanup_free_ char *key = xstrndup(f, (size_t)(eq - f));
    const char *v = eq + 1;
    if (strcmp(key, "id") == 0)
        mk_strv_push(&fl->id, v);
    else if (strcmp(key, "name") == 0)
        mk_strv_push(&fl->name, v);
    else if (strcmp(key, "label") == 0)
        mk_strv_push(&fl->label, v);
    else if (strcmp(key, "ancestor") == 0)
        mk_strv_push(&fl->ancestor, v);
    else if (strcmp(key, "health") == 0) {
        if (strcmp(v, "starting") != 0 && strcmp(v, "healthy") != 0 &&
            strcmp(v, "unhealthy") != 0 && strcmp(v, "none") != 0)
            return mk_err_set(err, MK_ERR_INVALID, "Unrecognised filter value for health: %s", v);
        mk_strv_push(&fl->health, v);
    }
    else if (strcmp(key, "status") == 0) {
        const char *ok[] = {"created", "restarting", "running", "removing", "paused", "exited", "dead"};
        bool valid = false;
        for (size_t i = 0; i < 7; i++)
            valid |= strcmp(v, ok[i]) == 0;
        if (!valid)
            return mk_err_set(err, MK_ERR_INVALID,
                              "invalid filter 'status=%s'", v);
        mk_strv_push(&fl->status, v);
    } else
        return mk_err_set(err, MK_ERR_UNSUPPORTED, "filter \"%s\" is not supported by mocker yet (id, name, label, status, ancestor, health)", key);
    return 0;
}

/* docker's "2B (virtual 4.3MB)": the writable layer, and that plus the image. */
static char *size_column(struct mk_engine *e, const struct mk_container *c)
{
    int64_t rw = mk_container_rw_size(e, c);
    struct mk_image *img = NULL;
    _cleanup_err_ mk_err *ignored = NULL;
    int64_t virt = rw;
    if (mk_store_image_get_by_id(e->store, c->image_id, &img, &ignored) == 0)
        virt += img->size;
    mk_image_free(img);
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
    struct filters fl = {0};
    int status = 1;
    struct mk_container **list = NULL;
    size_t n = 0;
    json_t *rows = json_array();
    struct mk_engine *e = NULL;
    for (size_t i = 0; filter_args && filter_args[i]; i++)
        if (parse_filter(filter_args[i], &fl, &err) < 0) {
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
    if (mk_container_list(e, &list, &n, &err) < 0) {
        status = mk_cli_fail(NULL, err, 1);
        goto out;
    }
    int64_t now = mk_now_ns();
    long shown = 0;
    for (size_t i = 0; i < n; i++) {
        struct mk_container *c = list[i];
        if (last >= 0 && (long)i >= last)
            break;
        if (!all && last < 0 && fl.status == NULL && !mk_container_is_running(c))
            continue;
        const json_t *config = json_object_get(c->config, "Config");
        if (!match_any(fl.id, m_id, c) || !match_any(fl.name, m_name, c) ||
            !match_any(fl.status, m_status, c) || !match_any(fl.ancestor, m_ancestor, c) ||
            !labels_match(fl.label, json_object_get(config, "Labels")))
            continue;
        _cleanup_free_ char *health = NULL;
        if (mk_store_health_status(e->store, c->id, &health, &err) < 0) {
            status = mk_cli_fail(NULL, err, 1);
            goto out;
        }
        if (!match_any(fl.health, m_exact, health ? health : "none"))
            continue;
        shown++;
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
    (void)shown;
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
    mk_container_list_free(list, n);
    mk_strv_free(fl.id);
    mk_strv_free(fl.name);
    mk_strv_free(fl.label);
    mk_strv_free(fl.status);
    mk_strv_free(fl.ancestor);
    mk_strv_free(fl.health);
    mk_engine_free(e);
    return status;
}
