/* container_life.c: a container's life through the API: create, start, stop,
 * restart, kill, pause, unpause, rename, wait, remove and prune.  Each is the
 * engine call the CLI makes; what is left here is reading docker's query
 * parameters and answering with docker's status codes (204 on success, 304
 * for a start or stop that has nothing to do). */
#include "api/stream.h"
#include "image/image.h"

#include <string.h>

/* The {id} capture, the ref every handler below acts on. */
static const char *ref(const struct mk_api_ctx *c)
{
    return mk_api_param(c, "id");
}

static int no_content(struct mk_api_ctx *c)
{
    return mk_http_reply_send(c->reply, 204, NULL, NULL, 0);
}

int mk_api_container_create(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_json_ json_t *body = NULL;
    _cleanup_json_ json_t *warnings = NULL;
    _cleanup_free_ char *name = mk_http_query(c->req, "name");
    _cleanup_free_ char *platform_s = mk_http_query(c->req, "platform");
    _cleanup_free_ char *id = NULL;
    struct mk_platform platform;
    bool has_platform = platform_s != NULL && *platform_s != '\0';
    if (mk_api_json_body(c, "config cannot be empty in order to create a container", &body, err) < 0 ||
        (has_platform && mk_platform_parse(platform_s, &platform, err) < 0) ||
        mk_api_engine(c, &e, err) < 0)
        return -1;
    if (mk_container_create_platform(e, name != NULL && *name != '\0' ? name : NULL,
                                     has_platform ? &platform : NULL, body, &id, &warnings,
                                     err) < 0)
        return -1;
    _cleanup_json_ json_t *out = json_object();
    json_object_set_new(out, "Id", json_string(id));
    json_object_set_new(out, "Warnings", warnings != NULL ? json_incref(warnings) : json_array());
    return mk_http_reply_json(c->reply, 201, out);
}

int mk_api_container_start(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    struct mk_container *ctr = NULL;
    if (mk_api_engine(c, &e, err) < 0 || mk_container_get(e, ref(c), &ctr, err) < 0)
        return -1;
    _cleanup_free_ char *id = xstrdup(ctr->id);
    mk_container_free(ctr);
    /* an attach that waits for this start gets the monitor connection the
     * container starts with (docker run attaches first, then starts) */
    int afd = -1;
    bool attached = mk_api_attach_waiting(id);
    int r = mk_container_start(e, id, attached ? &afd : NULL, err);
    if (attached)
        mk_api_attach_started(id, r == 0 ? afd : -1);
    if (r < 0)
        return -1;
    return no_content(c);
}

/* stop and restart: ?t= (seconds; absent: the container's own timeout) and ?signal=. */
static int stop_with(struct mk_api_ctx *c,
                     int (*op)(struct mk_engine *, const char *, int, const char *, mk_err **),
                     mk_err **err)
{
    struct mk_engine *e;
    long t;
    _cleanup_free_ char *signal = mk_http_query(c->req, "signal");
    if (mk_api_query_int(c->req, "t", -1, &t, err) < 0 || mk_api_engine(c, &e, err) < 0 ||
        op(e, ref(c), (int)t, signal != NULL && *signal != '\0' ? signal : NULL, err) < 0)
        return -1;
    return no_content(c);
}

int mk_api_container_stop(struct mk_api_ctx *c, mk_err **err)
{
    return stop_with(c, mk_container_stop, err);
}

int mk_api_container_restart(struct mk_api_ctx *c, mk_err **err)
{
    return stop_with(c, mk_container_restart, err);
}

int mk_api_container_kill(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_free_ char *signal = mk_http_query(c->req, "signal");
    if (mk_api_engine(c, &e, err) < 0 ||
        mk_container_kill(e, ref(c), signal != NULL && *signal != '\0' ? signal : NULL, err) < 0)
        return -1;
    return no_content(c);
}

int mk_api_container_pause(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    if (mk_api_engine(c, &e, err) < 0 || mk_container_pause(e, ref(c), err) < 0)
        return -1;
    return no_content(c);
}

int mk_api_container_unpause(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    if (mk_api_engine(c, &e, err) < 0 || mk_container_unpause(e, ref(c), err) < 0)
        return -1;
    return no_content(c);
}

int mk_api_container_rename(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_free_ char *name = mk_http_query(c->req, "name");
    if (name == NULL || *name == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "Neither old nor new names may be empty");
    if (mk_api_engine(c, &e, err) < 0 || mk_container_rename(e, ref(c), name, err) < 0)
        return -1;
    return no_content(c);
}

/* dockerd answers a wait's headers as soon as the wait is set up, and the
 * docker CLI's run does not start the container until they have come. */
static void wait_ready(void *arg)
{
    mk_http_reply_begin_chunked(arg, 200, "application/json");
}

int mk_api_container_wait(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_free_ char *cond_s = mk_http_query(c->req, "condition");
    enum mk_wait_condition cond;
    int code = -1;
    if (mk_wait_condition_parse(cond_s, &cond, err) < 0 || mk_api_engine(c, &e, err) < 0)
        return -1;
    mk_err *failed = NULL;
    int r = mk_container_wait_condition(e, ref(c), cond, wait_ready, c->reply, &code, &failed);
    if (r < 0 && !c->reply->started) {
        *err = failed;
        return -1;
    }
    /* past the headers, a failure is the body's Error, as in dockerd */
    _cleanup_json_ json_t *out =
        json_pack("{s:o,s:i}", "Error",
                  r < 0 ? json_pack("{s:s}", "Message", failed->msg) : json_null(), "StatusCode",
                  code);
    mk_err_free(failed);
    mk_http_reply_json_chunk(c->reply, out);
    return mk_http_reply_end_chunked(c->reply);
}

int mk_api_container_remove(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    if (mk_http_query_bool(c->req, "link", false))
        return mk_err_set(err, MK_ERR_UNSUPPORTED, "removing links is not supported by mocker");
    if (mk_api_engine(c, &e, err) < 0 ||
        mk_container_remove(e, ref(c), mk_http_query_bool(c->req, "force", false),
                            mk_http_query_bool(c->req, "v", false), err) < 0)
        return -1;
    return no_content(c);
}

int mk_api_containers_prune(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_strv_ char **kv = NULL;
    struct mk_prune_filter f = {0};
    _cleanup_strv_ char **ids = NULL;
    int64_t reclaimed = 0;
    int r = mk_api_filters(c->req, &kv, err);
    if (r == 0)
        r = mk_prune_filter_parse(&f, kv, err);
    if (r == 0)
        r = mk_api_engine(c, &e, err);
    if (r == 0)
        r = mk_container_prune(e, &f, &ids, &reclaimed, err);
    mk_prune_filter_clear(&f);
    if (r < 0)
        return -1;
    /* docker: null, not [], when nothing was deleted */
    json_t *list = ids != NULL && ids[0] != NULL ? json_array() : json_null();
    for (size_t i = 0; ids && ids[i]; i++)
        json_array_append_new(list, json_string(ids[i]));
    _cleanup_json_ json_t *out = json_pack("{s:o,s:I}", "ContainersDeleted", list,
                                           "SpaceReclaimed", (json_int_t)reclaimed);
    return mk_http_reply_json(c->reply, 200, out);
}
