/* body.c: a request's JSON body, read and type-checked as dockerd's Go
 * decoder would: a field of the wrong type is a 400 naming it, never a value
 * quietly read as its zero. */
#include "api/api.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    case JSON_NULL:
    default:
        return "null";
    }
}

static bool all_strings_in(const json_t *v)
{
    const char *k;
    size_t i;
    json_t *x;
    if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x)
        {
            if (!json_is_string(x))
                return false;
        }
    } else {
        json_array_foreach(v, i, x)
        {
            if (!json_is_string(x))
                return false;
        }
    }
    return true;
}

static bool type_ok(const json_t *v, enum mk_api_field_type t)
{
    switch (t) {
    case MK_API_STRING:
        return json_is_string(v);
    case MK_API_BOOL:
        return json_is_boolean(v);
    case MK_API_INT:
        return json_is_integer(v);
    case MK_API_OBJECT:
        return json_is_object(v);
    case MK_API_STRING_MAP:
        return json_is_object(v) && all_strings_in(v);
    case MK_API_STRING_LIST:
        return json_is_array(v) && all_strings_in(v);
    case MK_API_LIST:
        return json_is_array(v);
    default:
        return false;
    }
}

/* Go's names of the types, for the decoder's wording */
static const char *const type_names[] = {
    [MK_API_STRING] = "string",
    [MK_API_BOOL] = "bool",
    [MK_API_INT] = "int",
    [MK_API_OBJECT] = "struct",
    [MK_API_STRING_MAP] = "map[string]string",
    [MK_API_STRING_LIST] = "[]string",
    [MK_API_LIST] = "[]struct",
};

int mk_api_check_fields(const json_t *obj, const char *where, const struct mk_api_field *fields,
                        mk_err **err)
{
    for (const struct mk_api_field *f = fields; f->key != NULL; f++) {
        const json_t *v = json_object_get(obj, f->key);
        /* null is Go's zero value: the same as leaving the field out */
        if (v == NULL || json_is_null(v) || type_ok(v, f->type))
            continue;
        return mk_err_set(err, MK_ERR_INVALID,
                          "json: cannot unmarshal %s into Go struct field %s.%s of type %s",
                          json_kind(v), where, f->key, type_names[f->type]);
    }
    return 0;
}

int mk_api_refuse_set(const json_t *obj, const char *where, const char *const *keys,
                      const char *why, mk_err **err)
{
    for (size_t i = 0; keys[i] != NULL; i++)
        if (!mk_json_is_empty(json_object_get(obj, keys[i])))
            return mk_err_set(err, MK_ERR_UNSUPPORTED, "%s.%s is not supported by mocker: %s",
                              where, keys[i], why);
    return 0;
}

int mk_api_body_fd(const struct mk_api_ctx *c, int *out, mk_err **err)
{
    const struct mk_http_request *r = c->req;
    if (r->spooled) {
        /* the spool file, from its start, on a descriptor of the caller's */
        int fd = fcntl(r->body_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
            return mk_err_sys(err, "the request body");
        if (lseek(fd, 0, SEEK_SET) < 0) {
            close(fd);
            return mk_err_sys(err, "rewind the request body");
        }
        *out = fd;
        return 0;
    }
    _cleanup_close_ int fd = memfd_create("mocker-body", MFD_CLOEXEC);
    if (fd < 0)
        return mk_err_sys(err, "memfd_create");
    if ((r->body_len > 0 && mk_write_all(fd, r->body, r->body_len) < 0) || lseek(fd, 0, SEEK_SET) < 0)
        return mk_err_sys(err, "buffer the request body");
    *out = steal_fd(&fd);
    return 0;
}
