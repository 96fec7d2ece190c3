/* api.h: mocker serve, the Docker Engine API front end.
 *
 * server.c accepts connections on a Unix socket and parses requests with
 * http.c; router.c picks a handler from routes.c's table by method and path
 * pattern; handlers (system.c, containers.c, images.c) call the engine, the
 * same functions the CLI calls, and answer in docker's JSON shapes.  An error
 * a handler returns becomes docker's {"message": ...} with the status of its
 * kind (mk_err_http_status). */
#ifndef MK_API_H
#define MK_API_H

#include "api/http.h"
#include "engine/engine.h"

struct mk_api_ctx {
    struct mk_engine *engine; /* this connection's, opened on first use (mk_api_engine) */
    struct mk_http_request *req;
    struct mk_http_reply *reply;
    char **params; /* path captures: name, value, name, value, ..., NULL */
    struct mk_http_parser *parser; /* the connection's (a hijack takes its pending bytes) */
};

/* A handler answers through c->reply, or returns -1 with *err set before it
 * started the reply; the caller then sends the error. */
typedef int (*mk_api_handler)(struct mk_api_ctx *c, mk_err **err);

struct mk_api_route {
    const char *method;  /* "GET", ...; "*" for any */
    const char *pattern; /* "/containers/{id}/json"; "{name*}" takes one or more segments */
    mk_api_handler fn;
    /* The largest request body (413 past it); 0 is MK_API_BODY_DEFAULT.  An
     * upload (image load, build context, archive PUT) sets MK_API_BODY_UPLOAD. */
    size_t max_body;
};
/* JSON bodies: a create with a large environment is far below it. */
#define MK_API_BODY_DEFAULT ((size_t)4 * 1024 * 1024)
#define MK_API_BODY_UPLOAD ((size_t)1 << 40) /* spooled to disk past 1 MiB */
extern const struct mk_api_route mk_api_routes[];

/* The request's JSON object body into *out (the caller's).  An empty body is
 * the error if_empty, or (if_empty NULL) *out NULL; a body that is not JSON,
 * not an object or declared another Content-Type is INVALID. */
int mk_api_json_body(const struct mk_api_ctx *c, const char *if_empty, json_t **out, mk_err **err);
/* The request's body as a file to read from its start (a spooled upload's
 * file, or the in-memory body copied to a memfd); *out is the caller's. */
int mk_api_body_fd(const struct mk_api_ctx *c, int *out, mk_err **err);
/* The route of table (ended by a NULL pattern) for method and path, with its
 * captures in *params (owned by the caller); NULL when none matches. */
const struct mk_api_route *mk_api_route_match(const struct mk_api_route *table,
                                              const char *method, const char *path,
                                              char ***params);
/* A path capture of the matched route. */
const char *mk_api_param(const struct mk_api_ctx *c, const char *name);
/* The connection's engine, opened on first use. */
int mk_api_engine(struct mk_api_ctx *c, struct mk_engine **out, mk_err **err);
/* Route c->req, run its handler, answer errors and unknown paths as docker. */
void mk_api_handle(struct mk_api_ctx *c);
/* docker's `filters` query parameter, in either of its JSON encodings
 * ({"label":{"a=b":true}} and {"label":["a=b"]}), as "key=value" strings. */
int mk_api_filters(const struct mk_http_request *r, char ***kv, mk_err **err);
/* An integer query parameter; dflt when absent or empty, INVALID when not a number. */
int mk_api_query_int(const struct mk_http_request *r, const char *key, long dflt, long *out,
                     mk_err **err);

/* ---- the server (server.c) ---- */
/* What lstat finds at path: nothing or a stale socket (removed) is fine; a
 * socket someone listens on, a symlink or any other file is an error. */
int mk_api_socket_preflight(const char *path, mk_err **err);
/* Serve host (unix:///path, or fd:// / fd://N for systemd socket activation)
 * until SIGINT or SIGTERM, then remove the socket (a unix:// one). */
int mk_api_serve(const char *host, mk_err **err);

/* handlers */
int mk_api_ping(struct mk_api_ctx *c, mk_err **err);
int mk_api_version(struct mk_api_ctx *c, mk_err **err);
int mk_api_info(struct mk_api_ctx *c, mk_err **err);
int mk_api_swarm_inactive(struct mk_api_ctx *c, mk_err **err);
int mk_api_plugins_list(struct mk_api_ctx *c, mk_err **err);
int mk_api_plugin_missing(struct mk_api_ctx *c, mk_err **err);
int mk_api_containers_list(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_inspect(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_create(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_start(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_stop(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_restart(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_kill(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_pause(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_unpause(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_rename(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_wait(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_remove(struct mk_api_ctx *c, mk_err **err);
int mk_api_containers_prune(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_logs(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_attach(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_resize(struct mk_api_ctx *c, mk_err **err);
int mk_api_exec_create(struct mk_api_ctx *c, mk_err **err);
int mk_api_exec_start(struct mk_api_ctx *c, mk_err **err);
int mk_api_exec_resize(struct mk_api_ctx *c, mk_err **err);
int mk_api_exec_inspect(struct mk_api_ctx *c, mk_err **err);
int mk_api_images_list(struct mk_api_ctx *c, mk_err **err);
/* images (images.c, image_transfer.c, image_commit.c, distribution.c) */
int mk_api_image_inspect(struct mk_api_ctx *c, mk_err **err);
int mk_api_image_history(struct mk_api_ctx *c, mk_err **err);
int mk_api_image_tag(struct mk_api_ctx *c, mk_err **err);
int mk_api_image_remove(struct mk_api_ctx *c, mk_err **err);
int mk_api_images_prune(struct mk_api_ctx *c, mk_err **err);
int mk_api_image_create(struct mk_api_ctx *c, mk_err **err);
int mk_api_image_push(struct mk_api_ctx *c, mk_err **err);
int mk_api_image_get(struct mk_api_ctx *c, mk_err **err);
int mk_api_images_get(struct mk_api_ctx *c, mk_err **err);
int mk_api_images_load(struct mk_api_ctx *c, mk_err **err);
int mk_api_image_commit(struct mk_api_ctx *c, mk_err **err);
int mk_api_auth(struct mk_api_ctx *c, mk_err **err);
int mk_api_distribution(struct mk_api_ctx *c, mk_err **err);
/* X-Registry-Auth: base64url of docker's AuthConfig JSON ({"username",
 * "password","auth","serveraddress","identitytoken"}) into *out; *have false
 * for no header or one that names no credentials ("{}", what the CLI sends
 * without a login).  INVALID when it is not base64url JSON. */
struct mk_auth;
int mk_api_registry_auth(const struct mk_http_request *r, struct mk_auth *out, bool *have,
                         mk_err **err);

/* ---- networks and volumes (networks.c, volumes.c; body.c) ---- */
/* dockerd's words for a body that is missing (mk_api_json_body's if_empty) */
#define MK_API_BODY_EOF "got EOF while reading request body"
enum mk_api_field_type {
    MK_API_STRING,
    MK_API_BOOL,
    MK_API_INT,
    MK_API_OBJECT,
    MK_API_STRING_MAP,  /* {"k": "v", ...} */
    MK_API_STRING_LIST, /* ["a", ...] */
    MK_API_LIST,
};
struct mk_api_field {
    const char *key;
    enum mk_api_field_type type;
};
/* INVALID naming where.key when a field of obj (fields ends with a NULL key)
 * has another type; absent and null fields pass. */
int mk_api_check_fields(const json_t *obj, const char *where, const struct mk_api_field *fields,
                        mk_err **err);
/* UNSUPPORTED, with why, when one of keys (NULL-ended) is set to anything but
 * its zero value. */
int mk_api_refuse_set(const json_t *obj, const char *where, const char *const *keys,
                      const char *why, mk_err **err);
int mk_api_networks_list(struct mk_api_ctx *c, mk_err **err);
int mk_api_network_inspect(struct mk_api_ctx *c, mk_err **err);
int mk_api_network_create(struct mk_api_ctx *c, mk_err **err);
int mk_api_network_remove(struct mk_api_ctx *c, mk_err **err);
int mk_api_network_connect(struct mk_api_ctx *c, mk_err **err);
int mk_api_network_disconnect(struct mk_api_ctx *c, mk_err **err);
int mk_api_networks_prune(struct mk_api_ctx *c, mk_err **err);
int mk_api_volumes_list(struct mk_api_ctx *c, mk_err **err);
int mk_api_volume_inspect(struct mk_api_ctx *c, mk_err **err);
int mk_api_volume_create(struct mk_api_ctx *c, mk_err **err);
int mk_api_volume_remove(struct mk_api_ctx *c, mk_err **err);
int mk_api_volumes_prune(struct mk_api_ctx *c, mk_err **err);
/* container files, processes and resources (container_archive.c, container_misc.c) */
/* Writes a stream to fd (a pipe), in a thread of its own. */
typedef int (*mk_api_producer)(void *ctx, int fd, mk_err **err);
/* Answer 200 with what produce writes, chunked; its error before the first
 * byte is the answer, after it the connection ends without the last chunk. */
int mk_api_reply_stream(struct mk_api_ctx *c, const char *content_type, mk_api_producer produce,
                        void *ctx, mk_err **err);
int mk_api_container_archive_head(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_archive_get(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_archive_put(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_export(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_changes(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_top(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_update(struct mk_api_ctx *c, mk_err **err);
/* events, stats, system df */
int mk_api_events(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_stats(struct mk_api_ctx *c, mk_err **err);
int mk_api_system_df(struct mk_api_ctx *c, mk_err **err);

#endif
