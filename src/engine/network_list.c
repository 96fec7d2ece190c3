/* network_list.c: which networks a filter picks, for docker network ls and
 * GET /networks, and the filters of docker network prune: parsed here once
 * so that both front ends answer the same filter the same way. */
#include "engine/engine.h"

#include <string.h>

/* Each key's values are alternatives; the keys must all match. */
struct network_filters {
    char **drivers, **ids, **labels, **names, **scopes, **types;
    int dangling; /* -1: not asked */
};

static void network_filters_clear(struct network_filters *f)
{
    mk_strv_free(f->drivers);
    mk_strv_free(f->ids);
    mk_strv_free(f->labels);
    mk_strv_free(f->names);
    mk_strv_free(f->scopes);
    mk_strv_free(f->types);
}

static int parse_dangling(const char *val, int *out)
{
    if (strcmp(val, "true") == 0 || strcmp(val, "1") == 0)
        *out = 1;
    else if (strcmp(val, "false") == 0 || strcmp(val, "0") == 0)
        *out = 0;
    else
        return -1;
    return 0;
}

static int network_filters_parse(char *const *filters, struct network_filters *f, mk_err **err)
{
    memset(f, 0, sizeof(*f));
    f->dangling = -1;
    for (size_t i = 0; filters != NULL && filters[i] != NULL; i++) {
        const char *eq = strchr(filters[i], '=');
        if (eq == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "bad format of filter (expected name=value)");
        _cleanup_free_ char *k = xstrndup(filters[i], (size_t)(eq - filters[i]));
        const char *val = eq + 1;
        if (strcmp(k, "driver") == 0) {
            mk_strv_push(&f->drivers, val);
        } else if (strcmp(k, "id") == 0) {
            mk_strv_push(&f->ids, val);
        } else if (strcmp(k, "label") == 0) {
            mk_strv_push(&f->labels, val);
        } else if (strcmp(k, "name") == 0) {
            mk_strv_push(&f->names, val);
        } else if (strcmp(k, "scope") == 0) {
            mk_strv_push(&f->scopes, val);
        } else if (strcmp(k, "type") == 0) {
            if (strcmp(val, "builtin") != 0 && strcmp(val, "custom") != 0)
                return mk_err_set(err, MK_ERR_INVALID, "invalid filter: 'type'='%s'", val);
            mk_strv_push(&f->types, val);
        } else if (strcmp(k, "dangling") == 0) {
            if (parse_dangling(val, &f->dangling) < 0)
                return mk_err_set(err, MK_ERR_INVALID,
                                  "invalid value for filter 'dangling', must be \"true\" (or "
                                  "\"1\"), or \"false\" (or \"0\")");
        } else {
            return mk_err_set(err, MK_ERR_INVALID, "Invalid filter '%s'", k);
        }
    }
    return 0;
}

/* One filter key: no values, or one of them matches (by prefix, substring
 * or equality as docker matches that key). */
enum match { MATCH_EQUAL, MATCH_PREFIX, MATCH_SUBSTRING };

static bool any_match(char *const *want, const char *have, enum match how)
{
    if (want == NULL || want[0] == NULL)
        return true;
    for (size_t i = 0; want[i] != NULL; i++) {
        if ((how == MATCH_EQUAL && strcmp(have, want[i]) == 0) ||
            (how == MATCH_PREFIX && mk_str_has_prefix(have, want[i])) ||
            (how == MATCH_SUBSTRING && strstr(have, want[i]) != NULL))
            return true;
    }
    return false;
}

static bool network_matches(struct mk_engine *e, const struct mk_network *n,
                            const struct network_filters *f)
{
    bool builtin = mk_network_predefined(n);
    if (!any_match(f->drivers, n->driver, MATCH_EQUAL) || !any_match(f->ids, n->id, MATCH_PREFIX) ||
        !any_match(f->names, n->name, MATCH_SUBSTRING) ||
        !any_match(f->scopes, "local", MATCH_EQUAL) ||
        !any_match(f->types, builtin ? "builtin" : "custom", MATCH_EQUAL) ||
        !mk_volume_labels_match(json_object_get(n->config, "Labels"), f->labels, NULL))
        return false;
    if (f->dangling < 0)
        return true;
    /* dangling: a user network without containers; not dangling: in use, or predefined */
    struct mk_net_endpoint **eps = NULL;
    size_t neps = 0;
    mk_err *ignored = NULL;
    if (mk_store_endpoint_list_by_network(e->store, n->id, &eps, &neps, &ignored) < 0)
        mk_err_free(ignored);
    mk_net_endpoint_list_free(eps, neps);
    bool dangling = !builtin && neps == 0;
    return dangling == (f->dangling == 1);
}

int mk_network_select(struct mk_engine *e, char *const *filters, struct mk_network ***out,
                      size_t *count, mk_err **err)
{
    struct network_filters f;
    struct mk_network **v = NULL;
    size_t n = 0;
    if (network_filters_parse(filters, &f, err) < 0 ||
        mk_store_network_list(e->store, &v, &n, err) < 0) {
        network_filters_clear(&f);
        return -1;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (network_matches(e, v[i], &f))
            v[kept++] = v[i];
        else
            mk_network_free(v[i]);
    }
    network_filters_clear(&f);
    *out = v;
    *count = kept;
    return 0;
}

int mk_network_prune_filters(char *const *filters, int64_t *until_ns, char ***labels,
                             char ***not_labels, mk_err **err)
{
    *until_ns = 0;
    for (size_t i = 0; filters != NULL && filters[i] != NULL; i++) {
        const char *eq = strchr(filters[i], '=');
        if (eq == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "bad format of filter (expected name=value)");
        const char *val = eq + 1;
        if (mk_str_has_prefix(filters[i], "until=")) {
            if (mk_time_parse(val, mk_now_ns(), until_ns, err) < 0)
                return -1;
        } else if (mk_str_has_prefix(filters[i], "label=")) {
            mk_strv_push(labels, val);
        } else if (mk_str_has_prefix(filters[i], "label!=")) {
            mk_strv_push(not_labels, val);
        } else {
            _cleanup_free_ char *k = xstrndup(filters[i], (size_t)(eq - filters[i]));
            return mk_err_set(err, MK_ERR_INVALID, "Invalid filter '%s'", k);
        }
    }
    return 0;
}
