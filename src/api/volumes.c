/* volumes.c: the Engine API's /volumes endpoints, the engine calls docker
 * volume create|ls|inspect|rm|prune make, answered in dockerd's shapes. */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

static const char *name_param(const struct mk_api_ctx *c)
{
    return mk_api_param(c, "name");
}

int mk_api_volumes_list(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_strv_ char **kv = NULL;
    struct mk_volume **v = NULL;
    size_t n = 0;
    if (mk_api_filters(c->req, &kv, err) < 0 || mk_api_engine(c, &e, err) < 0 ||
        mk_volume_select(e, kv, &v, &n, err) < 0)
        return -1;
    json_t *vols = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(vols, mk_volume_inspect_json(e, v[i]));
    mk_volume_list_free(v, n);
    _cleanup_json_ json_t *out = json_pack("{s:o,s:n}", "Volumes", vols, "Warnings");
    return mk_http_reply_json(c->reply, 200, out);
}

int mk_api_volume_inspect(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    struct mk_volume *v = NULL;
    if (mk_api_engine(c, &e, err) < 0 || mk_volume_get(e, name_param(c), &v, err) < 0)
        return -1;
    _cleanup_json_ json_t *j = mk_volume_inspect_json(e, v);
    mk_volume_free(v);
    return mk_http_reply_json(c->reply, 200, j);
}

int mk_api_volume_create(struct mk_api_ctx *c, mk_err **err)
{
    static const struct mk_api_field fields[] = {
        {"Name", MK_API_STRING},          {"Driver", MK_API_STRING},
        {"DriverOpts", MK_API_STRING_MAP}, {"Labels", MK_API_STRING_MAP},
        {"ClusterVolumeSpec", MK_API_OBJECT}, {NULL, 0},
    };
    static const char *const swarm_only[] = {"ClusterVolumeSpec", NULL};
    struct mk_engine *e;
    _cleanup_json_ json_t *body = NULL;
    if (mk_api_json_body(c, MK_API_BODY_EOF, &body, err) < 0 ||
        mk_api_check_fields(body, "VolumeCreateRequest", fields, err) < 0 ||
        mk_api_refuse_set(body, "VolumeCreateRequest", swarm_only,
                          "cluster volumes are a swarm feature mocker does not have", err) < 0)
        return -1;
    struct mk_volume_create_opts o = {
        .name = mk_json_str(body, "Name"),
        .driver = mk_json_str(body, "Driver"),
        .labels = json_object_get(body, "Labels"),
        .options = json_object_get(body, "DriverOpts"),
    };
    /* null is the same as no labels or options */
    if (json_is_null(o.labels))
        o.labels = NULL;
    if (json_is_null(o.options))
        o.options = NULL;
    struct mk_volume *v = NULL;
    if (mk_api_engine(c, &e, err) < 0 || mk_volume_create(e, &o, &v, err) < 0)
        return -1;
    _cleanup_json_ json_t *j = mk_volume_inspect_json(e, v);
    mk_volume_free(v);
    return mk_http_reply_json(c->reply, 201, j);
}

int mk_api_volume_remove(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    if (mk_api_engine(c, &e, err) < 0 ||
        mk_volume_remove(e, name_param(c), mk_http_query_bool(c->req, "force", false), err) < 0)
        return -1;
    return mk_http_reply_send(c->reply, 204, NULL, NULL, 0);
}

/* API versions before 1.42 pruned every unused volume; since then only
 * anonymous ones unless the filter all=true asks for named ones too. */
static bool prunes_named_by_default(const struct mk_http_request *r)
{
    int major = 0, minor = 0;
    if (r->api_version == NULL || sscanf(r->api_version, "%d.%d", &major, &minor) != 2)
        return false;
    return major == 1 && minor < 42;
}

int mk_api_volumes_prune(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_strv_ char **kv = NULL, **labels = NULL, **not_labels = NULL, **names = NULL;
    bool all = false;
    int64_t reclaimed = 0;
    if (mk_api_filters(c->req, &kv, err) < 0 ||
        mk_volume_prune_filters(kv, &all, &labels, &not_labels, err) < 0 ||
        mk_api_engine(c, &e, err) < 0 ||
        mk_volume_prune(e, all || prunes_named_by_default(c->req), labels, not_labels, &names,
                        &reclaimed, err) < 0)
        return -1;
    /* dockerd's report has null, not [], when nothing went */
    _cleanup_json_ json_t *out =
        json_pack("{s:o,s:I}", "VolumesDeleted",
                  names[0] != NULL ? mk_json_from_strv(names) : json_null(), "SpaceReclaimed",
                  (json_int_t)reclaimed);
    return mk_http_reply_json(c->reply, 200, out);
}
