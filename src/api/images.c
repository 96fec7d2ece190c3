/* images.c: the local image endpoints: GET /images/json, GET
 * /images/{name}/json and /history, POST /images/{name}/tag, DELETE
 * /images/{name} and POST /images/prune.  Each is the image-layer call the CLI
 * makes (docker images, image inspect, history, tag, rmi, image prune);
 * rmi's "Untagged: x" / "Deleted: sha256:..." report lines become docker's
 * [{"Untagged": x}, {"Deleted": id}] list. */
#include "api/api.h"
#include "image/image.h"

#include <string.h>

int mk_api_images_list(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_strv_ char **kv = NULL;
    if (mk_http_query_bool(c->req, "shared-size", false))
        return mk_err_set(err, MK_ERR_UNSUPPORTED, "shared-size is not computed by mocker yet");
    if (mk_api_filters(c->req, &kv, err) < 0 || mk_api_engine(c, &e, err) < 0)
        return -1;
    struct mk_image_filters f;
    if (mk_image_filters_parse(e->store, kv, mk_image_list_filters, false, &f, err) < 0)
        return -1;
    _cleanup_json_ json_t *list = NULL;
    int r = mk_image_list(e->store, &f, mk_http_query_bool(c->req, "all", false), &list, err);
    mk_image_filters_clear(&f);
    if (r < 0)
        return -1;
    return mk_http_reply_json(c->reply, 200, list);
}

/* The {name} capture's image. */
static int lookup(struct mk_api_ctx *c, struct mk_engine **e, struct mk_image **img, mk_err **err)
{
    if (mk_api_engine(c, e, err) < 0)
        return -1;
    return mk_image_lookup((*e)->store, mk_api_param(c, "name"), img, err);
}

int mk_api_image_inspect(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    struct mk_image *img = NULL;
    if (lookup(c, &e, &img, err) < 0)
        return -1;
    _cleanup_json_ json_t *obj = mk_image_inspect_json(e->store, img);
    mk_image_free(img);
    return mk_http_reply_json(c->reply, 200, obj);
}

int mk_api_image_history(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    struct mk_image *img = NULL;
    if (lookup(c, &e, &img, err) < 0)
        return -1;
    _cleanup_json_ json_t *history = NULL;
    int r = mk_image_history(e->store, img, &history, err);
    mk_image_free(img);
    if (r < 0)
        return -1;
    return mk_http_reply_json(c->reply, 200, history);
}

int mk_api_image_tag(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_free_ char *repo = mk_http_query(c->req, "repo");
    _cleanup_free_ char *tag = mk_http_query(c->req, "tag");
    if (repo == NULL || *repo == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "repository name must have at least one component");
    /* dockerd joins them itself; a tag in repo and another in tag is no reference */
    _cleanup_free_ char *target =
        tag != NULL && *tag != '\0' ? xasprintf("%s:%s", repo, tag) : xstrdup(repo);
    if (mk_api_engine(c, &e, err) < 0 || mk_image_tag(e->store, mk_api_param(c, "name"), target, err) < 0)
        return -1;
    return mk_http_reply_send(c->reply, 201, NULL, NULL, 0);
}

/* rmi's report lines as docker's DeleteResponse items. */
static json_t *delete_items(char *const *report)
{
    json_t *items = json_array();
    for (size_t i = 0; report != NULL && report[i] != NULL; i++) {
        const char *line = report[i];
        if (mk_str_has_prefix(line, "Untagged: "))
            json_array_append_new(items, json_pack("{s:s}", "Untagged", line + 10));
        else if (mk_str_has_prefix(line, "Deleted: "))
            json_array_append_new(items, json_pack("{s:s}", "Deleted", line + 9));
    }
    return items;
}

int mk_api_image_remove(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    if (mk_api_engine(c, &e, err) < 0)
        return -1;
    struct mk_image_rm o = {.force = mk_http_query_bool(c->req, "force", false),
                            .no_prune = mk_http_query_bool(c->req, "noprune", false)};
    _cleanup_strv_ char **report = NULL;
    if (mk_image_remove_with(e->store, mk_api_param(c, "name"), &o, &report, err) < 0)
        return -1;
    _cleanup_json_ json_t *items = delete_items(report);
    return mk_http_reply_json(c->reply, 200, items);
}

static const char *const prune_filters[] = {"dangling", "label", "label!", "until", NULL};

int mk_api_images_prune(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_strv_ char **kv = NULL;
    if (mk_api_filters(c->req, &kv, err) < 0 || mk_api_engine(c, &e, err) < 0)
        return -1;
    struct mk_image_filters f;
    if (mk_image_filters_parse(e->store, kv, prune_filters, true, &f, err) < 0)
        return -1;
    _cleanup_strv_ char **report = NULL;
    int64_t reclaimed = 0;
    int r = mk_image_prune(e->store, &f, &report, &reclaimed, err);
    mk_image_filters_clear(&f);
    if (r < 0)
        return -1;
    json_t *items = delete_items(report);
    if (json_array_size(items) == 0) { /* docker: null, not [], when nothing went */
        json_decref(items);
        items = json_null();
    }
    _cleanup_json_ json_t *body =
        json_pack("{s:o,s:I}", "ImagesDeleted", items, "SpaceReclaimed", (json_int_t)reclaimed);
    return mk_http_reply_json(c->reply, 200, body);
}
