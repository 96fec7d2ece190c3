/* container_list.c: which containers `docker ps` and GET /containers/json
 * show (docker's filters, all, limit) and the Engine API's summary of each,
 * so both front ends list the same containers with the same Status text. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "image/image.h"

#include <regex.h>
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

char *mk_container_status_text(const struct mk_container *c, const char *health, int64_t now)
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
    /* docker matches the name as given and as its "/name" form. */
    const char *name = ((const struct mk_container *)c)->name;
    _cleanup_free_ char *slashed = xasprintf("/%s", name);
    bool ok = regexec(&re, name, 0, NULL, 0) == 0 || regexec(&re, slashed, 0, NULL, 0) == 0;
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
    for (size_t i = 0; filters && filters[i]; i++)
        if (!mk_json_label_matches(labels, filters[i]))
            return false;
    return true;
}

int mk_container_filters_add(struct mk_container_filters *f, const char *key, const char *v,
                             mk_err **err)
{
    if (strcmp(key, "id") == 0)
        mk_strv_push(&f->id, v);
    else if (strcmp(key, "name") == 0)
        mk_strv_push(&f->name, v);
    else if (strcmp(key, "label") == 0)
        mk_strv_push(&f->label, v);
    else if (strcmp(key, "ancestor") == 0)
        mk_strv_push(&f->ancestor, v);
    else if (strcmp(key, "health") == 0) {
        if (strcmp(v, "starting") != 0 && strcmp(v, "healthy") != 0 &&
            strcmp(v, "unhealthy") != 0 && strcmp(v, "none") != 0)
            return mk_err_set(err, MK_ERR_INVALID, "Unrecognised filter value for health: %s", v);
        mk_strv_push(&f->health, v);
    } else if (strcmp(key, "status") == 0) {
        static const char *const ok[] = {"created", "restarting", "running", "removing",
                                          "paused",  "exited",     "dead"};
        bool valid = false;
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
            valid |= strcmp(v, ok[i]) == 0;
        if (!valid)
            return mk_err_set(err, MK_ERR_INVALID, "invalid filter 'status=%s'", v);
        mk_strv_push(&f->status, v);
    } else {
        static const char *const docker_only[] = {"before", "since",  "volume", "network",
                                                  "publish", "expose", "exited", "is-task",
                                                  "isolation"};
        for (size_t i = 0; i < sizeof(docker_only) / sizeof(docker_only[0]); i++)
            if (strcmp(key, docker_only[i]) == 0)
                return mk_err_set(err, MK_ERR_UNSUPPORTED,
                                  "filter \"%s\" is not supported by mocker yet (id, name, "
                                  "label, status, ancestor, health)",
                                  key);
        return mk_err_set(err, MK_ERR_INVALID, "Invalid filter '%s'", key);
    }
    return 0;
}

int mk_container_filters_parse(struct mk_container_filters *f, char *const *kv, mk_err **err)
{
    for (size_t i = 0; kv && kv[i]; i++) {
        const char *eq = strchr(kv[i], '=');
        if (eq == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "bad format of filter (expected name=value)");
        _cleanup_free_ char *key = xstrndup(kv[i], (size_t)(eq - kv[i]));
        if (mk_container_filters_add(f, key, eq + 1, err) < 0)
            return -1;
    }
    return 0;
}

void mk_container_filters_clear(struct mk_container_filters *f)
{
    mk_strv_free(f->id);
    mk_strv_free(f->name);
    mk_strv_free(f->label);
    mk_strv_free(f->status);
    mk_strv_free(f->ancestor);
    mk_strv_free(f->health);
    memset(f, 0, sizeof(*f));
}

void mk_container_rows_free(struct mk_container_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mk_container_free(rows[i].c);
        free(rows[i].health);
    }
    free(rows);
}

int mk_container_select(struct mk_engine *e, const struct mk_container_filters *f, bool all,
                        long limit, struct mk_container_row **out, size_t *n_out, mk_err **err)
{
    struct mk_container **list = NULL;
    size_t n = 0, kept = 0;
    if (mk_container_list(e, &list, &n, err) < 0)
        return -1;
    struct mk_container_row *rows = xcalloc(n + 1, sizeof(*rows));
    int r = 0;
    for (size_t i = 0; i < n; i++) {
        struct mk_container *c = list[i];
        /* docker: a limit takes the newest containers of any state that
         * pass the filters */
        if (limit >= 0 && (long)kept >= limit)
            break;
        if (!all && limit < 0 && f->status == NULL && !mk_container_is_running(c))
            continue;
        const json_t *labels = json_object_get(json_object_get(c->config, "Config"), "Labels");
        if (!match_any(f->id, m_id, c) || !match_any(f->name, m_name, c) ||
            !match_any(f->status, m_status, c) || !match_any(f->ancestor, m_ancestor, c) ||
            !labels_match(f->label, labels))
            continue;
        char *health = NULL;
        /* only a container with a healthcheck has a health row */
        if (mk_health_configured(json_object_get(c->config, "Config")) &&
            (r = mk_store_health_status(e->store, c->id, &health, err)) < 0)
            break;
        if (!match_any(f->health, m_exact, health ? health : "none")) {
            free(health);
            continue;
        }
        rows[kept].c = steal_pointer(&list[i]);
        rows[kept++].health = health;
    }
    mk_container_list_free(list, n);
    if (r < 0) {
        mk_container_rows_free(rows, kept);
        return -1;
    }
    *out = rows;
    *n_out = kept;
    return 0;
}

void mk_container_sizes(struct mk_engine *e, const struct mk_container *c, int64_t *rw,
                        int64_t *root_fs)
{
    *rw = mk_container_rw_size(e, c);
    *root_fs = *rw;
    struct mk_image *img = NULL;
    _cleanup_err_ mk_err *ignored = NULL;
    if (mk_store_image_get_by_id(e->store, c->image_id, &img, &ignored) == 0)
        *root_fs += img->size;
    mk_image_free(img);
}

/* NetworkSettings.Ports ({"80/tcp":[{"HostIp","HostPort"}]}) as the summary's
 * [{"IP","PrivatePort","PublicPort","Type"}]. */
static json_t *summary_ports(const json_t *ports)
{
    json_t *out = json_array();
    const char *key;
    json_t *bindings;
    json_object_foreach((json_t *)ports, key, bindings)
    {
        unsigned port = 0;
        char proto[8] = "tcp";
        if (sscanf(key, "%u/%7s", &port, proto) < 1)
            continue;
        if (json_array_size(bindings) == 0) {
            json_array_append_new(out, json_pack("{s:I,s:s}", "PrivatePort", (json_int_t)port,
                                                 "Type", proto));
            continue;
        }
        size_t i;
        json_t *b;
        json_array_foreach(bindings, i, b)
        json_array_append_new(out, json_pack("{s:s,s:I,s:I,s:s}", "IP",
                                             mk_json_str(b, "HostIp") ?: "", "PrivatePort",
                                             (json_int_t)port, "PublicPort",
                                             (json_int_t)strtol(mk_json_str(b, "HostPort") ?: "0",
                                                                NULL, 10),
                                             "Type", proto));
    }
    return out;
}

json_t *mk_container_summary_json(struct mk_engine *e, const struct mk_container_row *row,
                                  bool size)
{
    const struct mk_container *c = row->c;
    /* the same pieces inspect is built from, so the two never disagree;
     * not inspect itself, whose image and health lookups cost a list of
     * many containers most of its time */
    const json_t *config = json_object_get(c->config, "Config");
    mk_buf cmd = {0};
    const char *sep = "";
    const char *keys[] = {"Entrypoint", "Cmd"};
    for (size_t k = 0; k < 2; k++) {
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(config, keys[k]), i, a)
        {
            mk_buf_printf(&cmd, "%s%s", sep, json_string_value(a) ?: "");
            sep = " ";
        }
    }
    _cleanup_free_ char *command = cmd.data != NULL ? mk_buf_steal(&cmd) : xstrdup("");
    _cleanup_free_ char *name = xasprintf("/%s", c->name);
    _cleanup_free_ char *status = mk_container_status_text(c, row->health, mk_now_ns());
    const json_t *labels = json_object_get(config, "Labels");
    _cleanup_json_ json_t *state = NULL;
    _cleanup_json_ json_t *nets = mk_container_networks_json(e, c, &state);
    _cleanup_json_ json_t *mounts = mk_container_mounts_json(c);
    const char *mode = mk_json_str(json_object_get(c->config, "HostConfig"), "NetworkMode");
    if (mode != NULL && *mode == '\0')
        mode = NULL;
    json_t *s = json_pack(
        "{s:s,s:[s],s:s,s:s,s:s,s:I,s:o,s:o,s:s,s:s,s:{s:s},s:{s:o},s:o}", "Id", c->id, "Names",
        name, "Image", c->image, "ImageID", c->image_id, "Command", command, "Created",
        (json_int_t)(c->created / 1000000000), "Ports",
        summary_ports(json_object_get(state, "Ports")), "Labels",
        json_is_object(labels) ? json_incref((json_t *)labels) : json_object(), "State", c->status, "Status",
        status, "HostConfig", "NetworkMode", mode ? mode : "default", "NetworkSettings",
        "Networks", json_is_object(nets) ? json_incref((json_t *)nets) : json_object(), "Mounts",
        json_is_array(mounts) ? json_incref((json_t *)mounts) : json_array());
    if (size) {
        int64_t rw, root_fs;
        mk_container_sizes(e, c, &rw, &root_fs);
        if (rw > 0) /* docker leaves out a zero SizeRw */
            json_object_set_new(s, "SizeRw", json_integer(rw));
        json_object_set_new(s, "SizeRootFs", json_integer(root_fs));
    }
    return s;
}
