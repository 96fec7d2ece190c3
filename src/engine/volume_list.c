/* volume_list.c: which volumes a filter picks, for docker volume ls and
 * GET /volumes, and the filters of docker volume prune: parsed here once so
 * that both front ends answer the same filter the same way. */
#include "engine/engine.h"

#include <string.h>

/* The filters, parsed once. */
struct volume_filters {
    char **names, **drivers, **labels, **not_labels;
    int dangling; /* -1: not asked */
    int all;      /* prune only: -1 not asked */
};

static void volume_filters_clear(struct volume_filters *f)
{
    mk_strv_free(f->names);
    mk_strv_free(f->drivers);
    mk_strv_free(f->labels);
    mk_strv_free(f->not_labels);
}

static int parse_bool(const char *k, const char *val, int *out, mk_err **err)
{
    if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
        *out = 1;
    else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0)
        *out = 0;
    else
        return mk_err_set(err, MK_ERR_INVALID, "invalid filter '%s=%s': invalid boolean value", k,
                          val);
    return 0;
}

/* ls takes name, driver, dangling and labels; prune labels and all. */
static int volume_filters_parse(char *const *filters, bool prune, struct volume_filters *f,
                                mk_err **err)
{
    memset(f, 0, sizeof(*f));
    f->dangling = f->all = -1;
    for (size_t i = 0; filters != NULL && filters[i] != NULL; i++) {
        const char *kv = filters[i];
        const char *eq = strchr(kv, '=');
        if (eq == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "bad format of filter (expected name=value)");
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
            if (parse_bool(k, val, &f->dangling, err) < 0)
                return -1;
        } else if (prune && strcmp(k, "all") == 0) {
            if (parse_bool(k, val, &f->all, err) < 0)
                return -1;
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

static bool volume_matches(struct mk_engine *e, const struct mk_volume *v,
                           const struct volume_filters *f)
{
    if (!any_substring(f->names, v->name) || !any_equal(f->drivers, v->driver) ||
        !mk_volume_labels_match(v->labels, f->labels, f->not_labels))
        return false;
    if (f->dangling < 0)
        return true;
    _cleanup_strv_ char **users = NULL;
    if (mk_store_volume_users(e->store, v->name, &users, NULL) < 0)
        return false;
    return (users[0] == NULL) == (f->dangling == 1);
}

int mk_volume_select(struct mk_engine *e, char *const *filters, struct mk_volume ***out,
                     size_t *count, mk_err **err)
{
    struct volume_filters f;
    struct mk_volume **v = NULL;
    size_t n = 0;
    if (volume_filters_parse(filters, false, &f, err) < 0 ||
        mk_store_volume_list(e->store, &v, &n, err) < 0) {
        volume_filters_clear(&f);
        return -1;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (volume_matches(e, v[i], &f))
            v[kept++] = v[i];
        else
            mk_volume_free(v[i]);
    }
    volume_filters_clear(&f);
    *out = v;
    *count = kept;
    return 0;
}

int mk_volume_prune_filters(char *const *filters, bool *all, char ***labels, char ***not_labels,
                            mk_err **err)
{
    struct volume_filters f;
    if (volume_filters_parse(filters, true, &f, err) < 0) {
        volume_filters_clear(&f);
        return -1;
    }
    *all = f.all == 1;
    *labels = steal_pointer(&f.labels);
    *not_labels = steal_pointer(&f.not_labels);
    volume_filters_clear(&f);
    return 0;
}
