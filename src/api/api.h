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
};

/* A handler answers through c->reply, or returns -1 with *err set before it
 * started the reply; the caller then sends the error. */
typedef int (*mk_api_handler)(struct mk_api_ctx *c, mk_err **err);

struct mk_api_route {
    const char *method;  /* "GET", ...; "*" for any */
    const char *pattern; /* "/containers/{id}/json"; "{name*}" takes one or more segments */
    mk_api_handler fn;
};
extern const struct mk_api_route mk_api_routes[];

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
/* Serve on the Unix socket path until SIGINT or SIGTERM, then remove it. */
int mk_api_serve(const char *path, mk_err **err);

/* handlers */
int mk_api_ping(struct mk_api_ctx *c, mk_err **err);
int mk_api_version(struct mk_api_ctx *c, mk_err **err);
int mk_api_info(struct mk_api_ctx *c, mk_err **err);
int mk_api_swarm_inactive(struct mk_api_ctx *c, mk_err **err);
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
int mk_api_images_list(struct mk_api_ctx *c, mk_err **err);
/* events, stats, system df */
int mk_api_events(struct mk_api_ctx *c, mk_err **err);
int mk_api_container_stats(struct mk_api_ctx *c, mk_err **err);
int mk_api_system_df(struct mk_api_ctx *c, mk_err **err);

#endif
