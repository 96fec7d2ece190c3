/* image_transfer.c: images to and from registries and archives: POST
 * /images/create (pull, or import from the body), POST /images/{name}/push,
 * GET /images/{name}/get and /images/get (save), POST /images/load, POST
 * /auth and GET /distribution/{name}/json.
 *
 * Pull and push run mk_image_pull/mk_image_push, whose progress callback
 * here writes dockerd's JSON messages ({"status","id","progressDetail"}) as
 * chunks of a streamed answer.  The answer starts with the first message, so
 * that a failure before it (a bad name, an unknown repository) still gets
 * its HTTP status; a later one becomes docker's {"errorDetail":..,"error":..}
 * line.  Registry credentials come from the X-Registry-Auth header, as the
 * docker CLI sends them; without one, mocker's stored ones (`mocker login`,
 * the docker config of the user running mocker serve) are used. */
#include "api/api.h"
#include "image/image.h"
#include "registry/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int mk_api_registry_auth(const struct mk_http_request *r, struct mk_auth *out, bool *have,
                         mk_err **err)
{
    memset(out, 0, sizeof(*out));
    *have = false;
    const char *h = mk_http_header(r, "X-Registry-Auth");
    if (h == NULL || *h == '\0')
        return 0;
    /* base64url to the standard alphabet, padded as the decoder wants */
    size_t n = strlen(h);
    _cleanup_free_ char *std = xmalloc(n + 4);
    for (size_t i = 0; i < n; i++)
        std[i] = h[i] == '-' ? '+' : h[i] == '_' ? '/' : h[i];
    while (n % 4 != 0)
        std[n++] = '=';
    std[n] = '\0';
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    json_error_t je;
    _cleanup_json_ json_t *j = NULL;
    if (mk_base64_decode(std, &text, &len, NULL) == 0)
        j = json_loadb(text, len, 0, &je);
    if (!json_is_object(j))
        return mk_err_set(err, MK_ERR_INVALID, "invalid X-Registry-Auth header: not base64url-encoded JSON");
    const char *user = mk_json_str(j, "username"), *pass = mk_json_str(j, "password");
    const char *token = mk_json_str(j, "identitytoken"), *auth = mk_json_str(j, "auth");
    _cleanup_free_ char *pair = NULL;
    if ((user == NULL || *user == '\0') && auth != NULL && *auth != '\0') {
        /* "auth" is base64 "user:password", as in config.json */
        char *colon;
        if (mk_base64_decode(auth, &pair, NULL, NULL) < 0 || (colon = strchr(pair, ':')) == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "invalid X-Registry-Auth header: bad \"auth\" value");
        *colon = '\0';
        user = pair;
        pass = colon + 1;
    }
    if (token != NULL && *token != '\0') {
        out->identity_token = xstrdup(token);
        out->username = user != NULL && *user ? xstrdup(user) : NULL;
        *have = true;
    } else if (user != NULL && *user != '\0') {
        out->username = xstrdup(user);
        out->password = xstrdup(pass != NULL ? pass : "");
        *have = true;
    }
    return 0;
}

/* A streamed JSON-message answer (pull, push, load). */
struct stream {
    struct mk_http_reply *reply;
    bool quiet; /* load ?quiet=1: no progress, the result lines only */
};

static int stream_send(struct stream *s, json_t *msg)
{
    int r = 0;
    if (!s->reply->started)
        r = mk_http_reply_begin_chunked(s->reply, 200, "application/json");
    if (r == 0)
        r = mk_http_reply_json_chunk(s->reply, msg);
    json_decref(msg);
    return r;
}

/* An mk_progress_fn: dockerd's {"status","progressDetail","id"} messages. */
static void stream_progress(void *ctx, const struct mk_progress *p)
{
    struct stream *s = ctx;
    json_t *msg = json_pack("{s:s}", "status", p->status);
    if (p->current >= 0) {
        json_t *detail = json_pack("{s:I}", "current", (json_int_t)p->current);
        if (p->total > 0)
            json_object_set_new(detail, "total", json_integer(p->total));
        json_object_set_new(msg, "progressDetail", detail);
        _cleanup_free_ char *bar = mk_progress_bar(p->current, p->total);
        json_object_set_new(msg, "progress", json_string(bar));
    } else if (p->id != NULL && !mk_str_has_prefix(p->status, "Pulling from ")) {
        /* a layer's status carries an empty detail; the repository line none */
        json_object_set_new(msg, "progressDetail", json_object());
    }
    if (p->id != NULL)
        json_object_set_new(msg, "id", json_string(p->id));
    stream_send(s, msg); /* a client that left cannot stop the transfer: it finishes */
}

/* The end of a streamed operation: a failure before the stream began is the
 * handler's error (its HTTP status); after, docker's error line. */
static int stream_finish(struct stream *s, int r, mk_err **err)
{
    if (r < 0 && !s->reply->started)
        return -1;
    if (r < 0) {
        json_t *msg = json_pack("{s:{s:s},s:s}", "errorDetail", "message", (*err)->msg, "error",
                                (*err)->msg);
        mk_err_free(*err);
        *err = NULL;
        stream_send(s, msg);
    }
    return mk_http_reply_end_chunked(s->reply);
}

/* NAME and a separate tag (pull's ?tag=, push's ?tag=): "NAME:TAG", or NAME
 * when tag is empty; a tag that is a digest joins with '@'. */
static char *join_tag(const char *name, const char *tag)
{
    if (tag == NULL || *tag == '\0')
        return xstrdup(name);
    return xasprintf("%s%c%s", name, mk_str_has_prefix(tag, "sha256:") ? '@' : ':', tag);
}

/* fromSrc=-: the body is a tar to import, as `docker import -`. */
static int import_body(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_free_ char *repo = mk_http_query(c->req, "repo");
    _cleanup_free_ char *tag = mk_http_query(c->req, "tag");
    _cleanup_free_ char *message = mk_http_query(c->req, "message");
    _cleanup_free_ char *platform = mk_http_query(c->req, "platform");
    _cleanup_strv_ char **changes = mk_http_query_all(c->req, "changes");
    struct mk_platform plat;
    if (platform != NULL && *platform != '\0' && mk_platform_parse(platform, &plat, err) < 0)
        return -1;
    if (c->req->body_len == 0)
        return mk_err_set(err, MK_ERR_INVALID, "import: the request body is empty (fromSrc=- imports the tar it holds)");
    _cleanup_free_ char *ref = repo != NULL && *repo != '\0' ? join_tag(repo, tag) : NULL;
    _cleanup_close_ int fd = -1;
    if (mk_api_body_fd(c, &fd, err) < 0)
        return -1;
    struct mk_import_opts o = {.ref = ref, .changes = changes, .message = message,
                               .platform = platform != NULL && *platform != '\0' ? &plat : NULL};
    _cleanup_free_ char *id = NULL;
    if (mk_api_engine(c, &e, err) < 0 || mk_image_import(e->store, fd, &o, &id, err) < 0)
        return -1;
    /* dockerd answers an import with its id as a status message */
    struct stream s = {.reply = c->reply};
    stream_send(&s, json_pack("{s:s}", "status", id));
    return mk_http_reply_end_chunked(c->reply);
}

int mk_api_image_create(struct mk_api_ctx *c, mk_err **err)
{
    _cleanup_free_ char *from = mk_http_query(c->req, "fromImage");
    _cleanup_free_ char *src = mk_http_query(c->req, "fromSrc");
    if (src != NULL && *src != '\0') {
        if (strcmp(src, "-") != 0)
            return mk_err_set(err, MK_ERR_UNSUPPORTED,
                              "fromSrc=%s: importing from a URL is not supported by mocker; send the tar as the body with fromSrc=-",
                              src);
        return import_body(c, err);
    }
    if (from == NULL || *from == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "fromImage or fromSrc is required");
    _cleanup_free_ char *tag = mk_http_query(c->req, "tag");
    _cleanup_free_ char *platform = mk_http_query(c->req, "platform");
    _cleanup_free_ char *name = join_tag(from, tag);
    struct mk_auth auth;
    bool have_auth;
    struct mk_engine *e;
    if (mk_api_registry_auth(c->req, &auth, &have_auth, err) < 0)
        return -1;
    struct stream s = {.reply = c->reply};
    struct mk_pull_opts o = {.name = name,
                             .platform = platform != NULL && *platform != '\0' ? platform : NULL,
                             .progress = stream_progress, .ctx = &s,
                             .auth = have_auth ? &auth : NULL};
    struct mk_pull_result res;
    int r = mk_api_engine(c, &e, err);
    if (r == 0)
        r = mk_image_pull(e->store, &o, &res, err);
    if (r == 0)
        mk_pull_result_clear(&res);
    mk_auth_clear(&auth);
    return stream_finish(&s, r, err);
}

int mk_api_image_push(struct mk_api_ctx *c, mk_err **err)
{
    _cleanup_free_ char *tag = mk_http_query(c->req, "tag");
    _cleanup_free_ char *name = join_tag(mk_api_param(c, "name"), tag);
    struct mk_auth auth;
    bool have_auth;
    struct mk_engine *e;
    if (mk_api_registry_auth(c->req, &auth, &have_auth, err) < 0)
        return -1;
    struct stream s = {.reply = c->reply};
    int64_t size = 0;
    struct mk_push_opts o = {.name = name, .progress = stream_progress, .ctx = &s,
                             .auth = have_auth ? &auth : NULL, .out_size = &size};
    _cleanup_free_ char *digest = NULL;
    int r = mk_api_engine(c, &e, err);
    if (r == 0)
        r = mk_image_push(e->store, &o, &digest, err);
    mk_auth_clear(&auth);
    if (r == 0) {
        /* dockerd's closing aux message, which clients read the result from */
        struct mk_ref *ref = NULL;
        if (mk_ref_parse(name, &ref, NULL) == 0)
            stream_send(&s, json_pack("{s:{},s:{s:s,s:s,s:I}}", "progressDetail", "aux", "Tag",
                                      ref->tag != NULL ? ref->tag : "latest", "Digest", digest,
                                      "Size", (json_int_t)size));
        mk_ref_free(ref);
    }
    return stream_finish(&s, r, err);
}

/* ---- save: the archive streamed as it is written ---- */
struct save_job {
    struct mk_store *store;
    char **names;
};

static int save_produce(void *p, int fd, mk_err **err)
{
    struct save_job *j = p;
    return mk_image_save(j->store, j->names, fd, err);
}

/* mk_image_save's first bytes start a chunked answer, so that an error
 * before any (No such image) is an HTTP error. */
static int save_images(struct mk_api_ctx *c, char **names, mk_err **err)
{
    struct mk_engine *e;
    if (mk_api_engine(c, &e, err) < 0)
        return -1;
    struct save_job j = {.store = e->store, .names = names};
    return mk_api_reply_stream(c, "application/x-tar", save_produce, &j, err);
}

int mk_api_image_get(struct mk_api_ctx *c, mk_err **err)
{
    char *names[] = {(char *)mk_api_param(c, "name"), NULL};
    return save_images(c, names, err);
}

int mk_api_images_get(struct mk_api_ctx *c, mk_err **err)
{
    _cleanup_strv_ char **names = mk_http_query_all(c->req, "names");
    if (names == NULL || names[0] == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "no images given: names= is required");
    return save_images(c, names, err);
}

/* ---- load ---- */
static void load_layer(void *ctx, const char *diff_id, int64_t size)
{
    struct stream *s = ctx;
    if (s->quiet)
        return;
    const char *hex = strchr(diff_id, ':');
    _cleanup_free_ char *id = xstrndup(hex != NULL ? hex + 1 : diff_id, 12);
    stream_send(s, json_pack("{s:s,s:{s:I,s:I},s:s}", "status", "Loading layer", "progressDetail",
                             "current", (json_int_t)size, "total", (json_int_t)size, "id", id));
}

int mk_api_images_load(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    if (c->req->body_len == 0)
        return mk_err_set(err, MK_ERR_INVALID, "unexpected EOF: the request body holds no archive");
    _cleanup_close_ int fd = -1;
    if (mk_api_body_fd(c, &fd, err) < 0)
        return -1;
    struct stream s = {.reply = c->reply, .quiet = mk_http_query_bool(c->req, "quiet", false)};
    struct mk_load_opts lo = {.on_layer = load_layer, .ctx = &s};
    _cleanup_strv_ char **report = NULL;
    if (mk_api_engine(c, &e, err) < 0)
        return -1;
    int r = mk_image_load(e->store, fd, &lo, &report, err);
    for (size_t i = 0; r == 0 && report != NULL && report[i] != NULL; i++) {
        _cleanup_free_ char *line = xasprintf("%s\n", report[i]);
        stream_send(&s, json_pack("{s:s}", "stream", line));
    }
    return stream_finish(&s, r, err);
}
