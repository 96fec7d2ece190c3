/* containers.c: GET /containers/json and GET /containers/{id}/json. */
#include "api/api.h"

int mk_api_containers_list(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    long limit;
    _cleanup_strv_ char **kv = NULL;
    if (mk_api_query_int(c->req, "limit", -1, &limit, err) < 0 ||
        mk_api_filters(c->req, &kv, err) < 0)
        return -1;
    struct mk_container_filters f = {0};
    if (mk_container_filters_parse(&f, kv, err) < 0) {
        mk_container_filters_clear(&f);
        return -1;
    }
    struct mk_container_row *rows = NULL;
    size_t n = 0;
    /* docker: limit 0 or less is no limit (docker-py sends -1) */
    int r = mk_api_engine(c, &e, err);
    if (r == 0)
        r = mk_container_select(e, &f, mk_http_query_bool(c->req, "all", false),
                                limit > 0 ? limit : -1, &rows, &n, err);
    mk_container_filters_clear(&f);
    if (r < 0)
        return -1;
    bool size = mk_http_query_bool(c->req, "size", false);
    _cleanup_json_ json_t *out = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(out, mk_container_summary_json(e, &rows[i], size));
    mk_container_rows_free(rows, n);
    return mk_http_reply_json(c->reply, 200, out);
}

int mk_api_container_inspect(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    struct mk_container *ctr = NULL;
    if (mk_api_engine(c, &e, err) < 0 || mk_container_get(e, mk_api_param(c, "id"), &ctr, err) < 0)
        return -1;
    _cleanup_json_ json_t *j = mk_container_inspect_json(e, ctr);
    if (mk_http_query_bool(c->req, "size", false)) {
        int64_t rw, root_fs;
        mk_container_sizes(e, ctr, &rw, &root_fs);
        json_object_set_new(j, "SizeRw", json_integer(rw));
        json_object_set_new(j, "SizeRootFs", json_integer(root_fs));
    }
    mk_container_free(ctr);
    return mk_http_reply_json(c->reply, 200, j);
}
