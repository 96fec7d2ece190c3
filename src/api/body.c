/* body.c: reading a request's JSON body the way dockerd does. */
#include "api/api.h"

int mk_api_json_body(const struct mk_api_ctx *c, const char *if_empty, json_t **out, mk_err **err)
{
    *out = NULL;
    const char *ct = mk_http_header(c->req, "Content-Type");
    /* docker reads a JSON body only when the request says it is JSON */
    if (c->req->body_len > 0 && ct != NULL && !mk_str_has_prefix(ct, "application/json"))
        return mk_err_set(err, MK_ERR_INVALID,
                          "Content-Type specified (%s) must be 'application/json'", ct);
    if (c->req->body_len == 0) {
        if (if_empty != NULL)
            return mk_err_set(err, MK_ERR_INVALID, "%s", if_empty);
        return 0;
    }
    json_error_t je;
    json_t *v = json_loadb(c->req->body, c->req->body_len, 0, &je);
    if (v == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "invalid JSON: %s", je.text);
    if (!json_is_object(v)) {
        json_decref(v);
        return mk_err_set(err, MK_ERR_INVALID, "invalid JSON: the body is not an object");
    }
    *out = v;
    return 0;
}
