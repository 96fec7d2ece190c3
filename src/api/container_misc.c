/* container_misc.c: GET /containers/{id}/changes (docker diff), GET
 * /containers/{id}/top (docker top) and POST /containers/{id}/update
 * (docker update), over the engine calls `mocker diff|top|update` make. */
#include "api/api.h"

#include <string.h>

int mk_api_container_changes(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_json_ json_t *changes = NULL;
    if (mk_api_engine(c, &e, err) < 0 ||
        mk_container_changes(e, mk_api_param(c, "id"), &changes, err) < 0)
        return -1;
    /* dockerd answers null, not [], for a container that changed nothing */
    if (json_array_size(changes) == 0)
        return mk_http_reply_send(c->reply, 200, "application/json", "null\n", 5);
    return mk_http_reply_json(c->reply, 200, changes);
}

int mk_api_container_top(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_free_ char *ps_args = mk_http_query(c->req, "ps_args");
    _cleanup_strv_ char **args = NULL;
    /* dockerd splits ps_args at spaces (the docker CLI joins its arguments so) */
    char *save = NULL;
    for (char *a = ps_args != NULL ? strtok_r(ps_args, " ", &save) : NULL; a != NULL;
         a = strtok_r(NULL, " ", &save))
        mk_strv_push(&args, a);
    _cleanup_json_ json_t *top = NULL;
    if (mk_api_engine(c, &e, err) < 0 ||
        mk_container_top(e, mk_api_param(c, "id"), args, &top, err) < 0)
        return -1;
    return mk_http_reply_json(c->reply, 200, top);
}

/* The update body's fields mocker applies.  dockerd reads a zero, "" or null
 * as "leave it as it is" (the docker CLI sends every field of its struct). */
static const char *const update_ints[] = {
    "Memory",    "MemorySwap", "MemoryReservation", "NanoCpus",    "CpuShares",
    "CpuPeriod", "CpuQuota",   "BlkioWeight",       "PidsLimit",   NULL,
};
static const char *const update_strings[] = {"CpusetCpus", "CpusetMems", NULL};

static bool in_list(const char *const *list, const char *key)
{
    for (size_t i = 0; list[i] != NULL; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

/* A field mocker does not apply is an error once it asks for something. */
static bool is_unset(const json_t *v)
{
    return json_is_null(v) || json_is_false(v) || (json_is_integer(v) && json_integer_value(v) == 0) ||
           (json_is_real(v) && json_real_value(v) == 0) ||
           (json_is_string(v) && *json_string_value(v) == '\0') ||
           (json_is_array(v) && json_array_size(v) == 0);
}

static int restart_change(const json_t *rp, json_t *out, mk_err **err)
{
    if (json_is_null(rp))
        return 0;
    const json_t *name = json_object_get(rp, "Name");
    const json_t *count = json_object_get(rp, "MaximumRetryCount");
    if (!json_is_object(rp) || (name != NULL && !json_is_string(name)) ||
        (count != NULL && !json_is_integer(count)))
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid RestartPolicy: want {\"Name\": string, \"MaximumRetryCount\": "
                          "integer}");
    /* an empty name is the docker CLI's "no --restart given" */
    if (name != NULL && *json_string_value(name) != '\0')
        json_object_set(out, "RestartPolicy", (json_t *)rp);
    return 0;
}

/* docker's update body as the engine's changes: only the fields it sets. */
static int update_changes(const json_t *body, json_t **out, mk_err **err)
{
    _cleanup_json_ json_t *changes = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v)
    {
        if (in_list(update_ints, key)) {
            if (json_is_null(v))
                continue;
            if (!json_is_integer(v))
                return mk_err_set(err, MK_ERR_INVALID, "invalid %s: want an integer", key);
            /* PidsLimit is a pointer in docker: 0 is a value (unlimited), null is unset */
            if (json_integer_value(v) != 0 || strcmp(key, "PidsLimit") == 0)
                json_object_set(changes, key, v);
        } else if (in_list(update_strings, key)) {
            if (!json_is_null(v) && !json_is_string(v))
                return mk_err_set(err, MK_ERR_INVALID, "invalid %s: want a string", key);
            if (json_is_string(v) && *json_string_value(v) != '\0')
                json_object_set(changes, key, v);
        } else if (strcmp(key, "RestartPolicy") == 0) {
            if (restart_change(v, changes, err) < 0)
                return -1;
        } else if (!is_unset(v)) {
            return mk_err_set(err, MK_ERR_INVALID,
                              "updating %s is not supported by mocker: only memory, CPU, pids "
                              "and block IO limits and the restart policy can be updated",
                              key);
        }
    }
    *out = steal_pointer(&changes);
    return 0;
}

int mk_api_container_update(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_json_ json_t *body = NULL, *changes = NULL;
    if (mk_api_json_body(c, "update config cannot be empty", &body, err) < 0 ||
        update_changes(body, &changes, err) < 0 || mk_api_engine(c, &e, err) < 0)
        return -1;
    /* nothing to change still names a container that must exist */
    if (json_object_size(changes) == 0) {
        struct mk_container *ctr = NULL;
        if (mk_container_get(e, mk_api_param(c, "id"), &ctr, err) < 0)
            return -1;
        mk_container_free(ctr);
    } else if (mk_container_update(e, mk_api_param(c, "id"), changes, err) < 0) {
        return -1;
    }
    _cleanup_json_ json_t *out = json_pack("{s:[]}", "Warnings");
    return mk_http_reply_json(c->reply, 200, out);
}
