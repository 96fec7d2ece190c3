/* container_prune.c: docker container prune, and the writable-layer size that
 * prune reports and ps -s shows. */
#include "engine/engine.h"
#include "engine/internal.h"

#include <string.h>

int64_t mk_container_rw_size(struct mk_engine *e, const struct mk_container *c)
{
    _cleanup_free_ char *dir = mk_store_container_dir(e->store, c->id);
    _cleanup_free_ char *upper = mk_path_join(dir, "upper");
    return mk_dir_size(upper);
}

int mk_prune_filter_parse(struct mk_prune_filter *f, char *const *kv, mk_err **err)
{
    *f = (struct mk_prune_filter){0};
    for (size_t i = 0; kv && kv[i]; i++) {
        const char *eq = strchr(kv[i], '=');
        if (eq == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "Invalid filter '%s'", kv[i]);
        if (mk_str_has_prefix(kv[i], "until=")) {
            if (mk_time_parse(eq + 1, mk_now_ns(), &f->until_ns, err) < 0)
                return -1;
        } else if (mk_str_has_prefix(kv[i], "label!=")) {
            mk_strv_push(&f->not_labels, kv[i] + 7);
        } else if (mk_str_has_prefix(kv[i], "label=")) {
            mk_strv_push(&f->labels, eq + 1);
        } else {
            return mk_err_set(err, MK_ERR_INVALID, "Invalid filter '%.*s'", (int)(eq - kv[i]),
                              kv[i]);
        }
    }
    return 0;
}

void mk_prune_filter_clear(struct mk_prune_filter *f)
{
    mk_strv_free(f->labels);
    mk_strv_free(f->not_labels);
    *f = (struct mk_prune_filter){0};
}

static bool prunable(const struct mk_container *c, const struct mk_prune_filter *f)
{
    if (mk_container_is_running(c) || strcmp(c->status, "removing") == 0)
        return false;
    if (f->until_ns != 0 && c->created >= f->until_ns)
        return false;
    const json_t *labels = json_object_get(json_object_get(c->config, "Config"), "Labels");
    for (size_t i = 0; f->labels && f->labels[i]; i++)
        if (!mk_json_label_matches(labels, f->labels[i]))
            return false;
    for (size_t i = 0; f->not_labels && f->not_labels[i]; i++)
        if (mk_json_label_matches(labels, f->not_labels[i]))
            return false;
    return true;
}

int mk_container_prune(struct mk_engine *e, const struct mk_prune_filter *f, char ***ids,
                       int64_t *reclaimed, mk_err **err)
{
    struct mk_container **v = NULL;
    size_t n = 0;
    if (mk_container_list(e, &v, &n, err) < 0)
        return -1;
    char **removed = xcalloc(n + 1, sizeof(char *));
    size_t k = 0;
    int64_t total = 0;
    int ret = 0;
    for (size_t i = 0; i < n; i++) {
        if (!prunable(v[i], f))
            continue;
        int64_t size = mk_container_rw_size(e, v[i]);
        /* One that went away or started meanwhile is not an error: skip it. */
        _cleanup_err_ mk_err *skip = NULL;
        if (mk_container_remove(e, v[i]->id, false, false, &skip) < 0) {
            if (skip->kind == MK_ERR_NOT_FOUND || skip->kind == MK_ERR_CONFLICT)
                continue;
            *err = steal_pointer(&skip);
            ret = -1;
            break;
        }
        removed[k++] = xstrdup(v[i]->id);
        total += size;
    }
    mk_container_list_free(v, n);
    *ids = removed;
    *reclaimed = total;
    return ret;
}
