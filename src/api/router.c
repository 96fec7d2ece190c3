/* router.c: method + path pattern -> handler, and the dispatch around it:
 * docker's 404 {"message":"page not found"} for an unknown path or method,
 * and errors as {"message": ...} with their kind's status. */
#include "api/api.h"

#include <string.h>

/* Segments of a path: "/a/b/" -> a, b (empty segments dropped). */
static char **segments(const char *path)
{
    char **v = NULL;
    _cleanup_free_ char *s = xstrdup(path);
    char *save = NULL;
    for (char *t = strtok_r(s, "/", &save); t; t = strtok_r(NULL, "/", &save))
        mk_strv_push(&v, t);
    return v ? v : xcalloc(1, sizeof(char *));
}

static bool match(char **pat, char **path, char ***params)
{
    if (*pat == NULL)
        return *path == NULL;
    size_t pl = strlen(*pat);
    bool capture = pl > 2 && (*pat)[0] == '{' && (*pat)[pl - 1] == '}';
    bool rest = capture && (*pat)[pl - 2] == '*';
    if (!capture) {
        if (*path == NULL || strcmp(*pat, *path) != 0)
            return false;
        return match(pat + 1, path + 1, params);
    }
    if (*path == NULL)
        return false;
    _cleanup_free_ char *name = xstrndup(*pat + 1, pl - (rest ? 3 : 2));
    /* {x*}: the longest run of segments that leaves the rest of the pattern a match */
    size_t avail = mk_strv_len(path);
    for (size_t take = rest ? avail : 1; take >= 1; take--) {
        size_t mark = mk_strv_len(*params);
        if (!match(pat + 1, path + take, params))
            continue;
        _cleanup_free_ char *value = NULL;
        char *const saved = path[take];
        path[take] = NULL;
        value = mk_strv_join(path, "/");
        path[take] = saved;
        /* captures in pattern order: ours before those of the rest */
        size_t n = mk_strv_len(*params);
        *params = xrealloc(*params, (n + 3) * sizeof(char *));
        (*params)[n] = NULL; /* a NULL list had no terminator */
        memmove(*params + mark + 2, *params + mark, (n - mark + 1) * sizeof(char *));
        (*params)[mark] = steal_pointer(&name);
        (*params)[mark + 1] = steal_pointer(&value);
        return true;
    }
    return false;
}

const struct mk_api_route *mk_api_route_match(const struct mk_api_route *table,
                                              const char *method, const char *path,
                                              char ***params)
{
    _cleanup_strv_ char **segs = segments(path);
    for (const struct mk_api_route *r = table; r->pattern != NULL; r++) {
        if (strcmp(r->method, "*") != 0 && strcmp(r->method, method) != 0)
            continue;
        _cleanup_strv_ char **pat = segments(r->pattern);
        char **caps = NULL;
        if (match(pat, segs, &caps)) {
            *params = caps;
            return r;
        }
        mk_strv_free(caps);
    }
    return NULL;
}

const char *mk_api_param(const struct mk_api_ctx *c, const char *name)
{
    for (size_t i = 0; c->params && c->params[i] && c->params[i + 1]; i += 2)
        if (strcmp(c->params[i], name) == 0)
            return c->params[i + 1];
    return NULL;
}

int mk_api_engine(struct mk_api_ctx *c, struct mk_engine **out, mk_err **err)
{
    if (c->engine == NULL) {
        if (mk_engine_open(&c->engine, err) < 0)
            return -1;
        mk_store_keep_configs(c->engine->store); /* a connection lists again and again */
    }
    *out = c->engine;
    return 0;
}

void mk_api_handle(struct mk_api_ctx *c)
{
    const struct mk_api_route *r =
        mk_api_route_match(mk_api_routes, c->req->method, c->req->path, &c->params);
    if (r == NULL) {
        mk_http_reply_error(c->reply, 404, "page not found");
        return;
    }
    mk_err *err = NULL;
    if (r->fn(c, &err) < 0) {
        if (!c->reply->started && err != NULL && err->kind == MK_ERR_NOT_MODIFIED)
            mk_http_reply_send(c->reply, 304, NULL, NULL, 0); /* a 304 has no body */
        else if (!c->reply->started)
            mk_http_reply_error(c->reply, err ? mk_err_http_status(err) : 500,
                                err ? err->msg : "internal error");
        else /* mid-stream: the response cannot be completed; end the connection */
            c->reply->keep_alive = false;
        mk_err_free(err);
    }
    mk_strv_free(c->params);
    c->params = NULL;
}

int mk_api_filters(const struct mk_http_request *r, char ***kv, mk_err **err)
{
    *kv = NULL;
    _cleanup_free_ char *raw = mk_http_query(r, "filters");
    if (raw == NULL || *raw == '\0')
        return 0;
    json_error_t je;
    _cleanup_json_ json_t *j = json_loads(raw, JSON_DECODE_ANY, &je);
    if (!json_is_object(j))
        return mk_err_set(err, MK_ERR_INVALID, "invalid filter: %s",
                          j ? "not a JSON object" : je.text);
    char **out = NULL;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        if (json_is_array(v)) {
            size_t i;
            json_t *item;
            json_array_foreach(v, i, item)
            {
                if (!json_is_string(item))
                    goto bad;
                mk_strv_push_owned(&out, xasprintf("%s=%s", key, json_string_value(item)));
            }
        } else if (json_is_object(v)) {
            const char *val;
            json_t *on;
            json_object_foreach(v, val, on)
            {
                if (!json_is_boolean(on))
                    goto bad;
                if (json_is_true(on))
                    mk_strv_push_owned(&out, xasprintf("%s=%s", key, val));
            }
        } else
            goto bad;
    }
    *kv = out;
    return 0;
bad:
    mk_strv_free(out);
    return mk_err_set(err, MK_ERR_INVALID, "invalid filter: the value of '%s' is not a list or a map of booleans", key);
}

int mk_api_query_int(const struct mk_http_request *r, const char *key, long dflt, long *out,
                     mk_err **err)
{
    _cleanup_free_ char *v = mk_http_query(r, key);
    if (v == NULL || *v == '\0') {
        *out = dflt;
        return 0;
    }
    char *end;
    long n = strtol(v, &end, 10);
    if (*end != '\0')
        return mk_err_set(err, MK_ERR_INVALID, "invalid %s value: %s", key, v);
    *out = n;
    return 0;
}
