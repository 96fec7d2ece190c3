/* system.c: GET|HEAD /_ping, GET /version, GET /info and swarm's 503. */
#include "api/api.h"

#include <string.h>

int mk_api_ping(struct mk_api_ctx *c, mk_err **err)
{
    mk_http_reply_header(c->reply, "Cache-Control", "no-cache, no-store, must-revalidate");
    mk_http_reply_header(c->reply, "Pragma", "no-cache");
    mk_http_reply_header(c->reply, "Swarm", "inactive");
    /* docker's HEAD answer says Content-Length: 0 */
    bool head = strcmp(c->req->method, "HEAD") == 0;
    return mk_http_reply_send(c->reply, 200, "text/plain; charset=utf-8", "OK", head ? 0 : 2);
}

int mk_api_version(struct mk_api_ctx *c, mk_err **err)
{
    _cleanup_json_ json_t *v = mk_engine_version_json();
    return mk_http_reply_json(c->reply, 200, v);
}

int mk_api_info(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_json_ json_t *info = NULL;
    if (mk_api_engine(c, &e, err) < 0 || mk_engine_info_json(e, &info, err) < 0)
        return -1;
    return mk_http_reply_json(c->reply, 200, info);
}

int mk_api_swarm_inactive(struct mk_api_ctx *c, mk_err **err)
{
    return mk_http_reply_error(c->reply, 503,
                               "This node is not a swarm manager. Use \"docker swarm init\" or "
                               "\"docker swarm join\" to connect this node to swarm and try again.");
}

/* mocker has no plugins: dockerd's answers for a daemon without any. */
int mk_api_plugins_list(struct mk_api_ctx *c, mk_err **err)
{
    _cleanup_json_ json_t *none = json_array();
    return mk_http_reply_json(c->reply, 200, none);
}

int mk_api_plugin_missing(struct mk_api_ctx *c, mk_err **err)
{
    return mk_err_set(err, MK_ERR_NOT_FOUND, "plugin \"%s\" not found", mk_api_param(c, "name"));
}
