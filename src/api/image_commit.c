/* image_commit.c: POST /commit, docker commit through the API: the
 * engine's mk_container_commit with the query's repo, tag, comment, author,
 * pause and changes, and the body's container Config (JSON null or absent:
 * the container's own) merged into the container's. */
#include "api/api.h"
#include "image/image.h"

#include <string.h>

int mk_api_image_commit(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_free_ char *container = mk_http_query(c->req, "container");
    _cleanup_free_ char *repo = mk_http_query(c->req, "repo");
    _cleanup_free_ char *tag = mk_http_query(c->req, "tag");
    _cleanup_free_ char *comment = mk_http_query(c->req, "comment");
    _cleanup_free_ char *author = mk_http_query(c->req, "author");
    _cleanup_strv_ char **changes = mk_http_query_all(c->req, "changes");
    if (container == NULL || *container == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "No container name or ID supplied");
    if ((repo == NULL || *repo == '\0') && tag != NULL && *tag != '\0')
        return mk_err_set(err, MK_ERR_INVALID, "tag %s given without a repo", tag);
    _cleanup_json_ json_t *config = NULL;
    const char *ct = mk_http_header(c->req, "Content-Type");
    if (c->req->body_len > 0) {
        if (ct != NULL && !mk_str_has_prefix(ct, "application/json"))
            return mk_err_set(err, MK_ERR_INVALID,
                              "Content-Type specified (%s) must be 'application/json'", ct);
        json_error_t je;
        config = json_loadb(c->req->body, c->req->body_len, JSON_DECODE_ANY, &je);
        if (config == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "invalid JSON: %s", je.text);
        if (json_is_null(config)) {
            json_decref(config);
            config = NULL;
        } else if (!json_is_object(config)) {
            return mk_err_set(err, MK_ERR_INVALID, "the commit body must be a container Config object");
        }
    }
    /* the -c lines arrive one per changes= value; dockerd also splits on newlines */
    char **lines = NULL;
    for (size_t i = 0; changes != NULL && changes[i] != NULL; i++) {
        char *save = NULL;
        for (char *t = strtok_r(changes[i], "\n", &save); t; t = strtok_r(NULL, "\n", &save))
            if (*t != '\0')
                mk_strv_push(&lines, t);
    }
    _cleanup_strv_ char **owned = lines;
    _cleanup_free_ char *ref = NULL;
    if (repo != NULL && *repo != '\0')
        ref = tag != NULL && *tag != '\0' ? xasprintf("%s:%s", repo, tag) : xstrdup(repo);
    struct mk_commit_opts o = {.ref = ref,
                               .author = author,
                               .comment = comment,
                               .changes = lines,
                               .pause = mk_http_query_bool(c->req, "pause", true),
                               .config = config};
    _cleanup_free_ char *id = NULL;
    if (mk_api_engine(c, &e, err) < 0 || mk_container_commit(e, container, &o, &id, err) < 0)
        return -1;
    _cleanup_json_ json_t *out = json_pack("{s:s}", "Id", id);
    return mk_http_reply_json(c->reply, 201, out);
}
