/* registry.c: the distribution API calls mocker makes: manifests and blobs
 * down, blobs (uploaded or mounted) and manifests up, and login's check. */
#include "registry/internal.h"

#include <string.h>
#include <sys/stat.h>

#define MANIFEST_ACCEPT                                                                           \
    MK_MT_OCI_INDEX ", " MK_MT_DOCKER_LIST ", " MK_MT_OCI_MANIFEST ", " MK_MT_DOCKER_MANIFEST

/* A request that must answer `want`: anything else is the registry's error
 * (and resp is cleared). */
static int call(struct mk_registry *r, const struct mk_http_req *req, long want,
                struct mk_http_resp *resp, mk_err **err)
{
    if (mk_registry_request(r, req, resp, err) < 0)
        return -1;
    if (resp->status == want)
        return 0;
    int ret = mk_registry_error(resp, NULL, err);
    mk_http_resp_clear(resp);
    return ret;
}

static int registry_new(const char *domain, const char *repo, bool push, struct mk_registry **out,
                        mk_err **err)
{
    struct mk_registry *r = xcalloc(1, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    r->domain = xstrdup(domain);
    r->scopes = xcalloc(1, sizeof(char *));
    if (repo != NULL) {
        r->repo = xstrdup(repo);
        mk_strv_push_owned(&r->scopes,
                           xasprintf("repository:%s:%s", repo, push ? "pull,push" : "pull"));
    }
    if (mk_endpoint_resolve(domain, &r->ep, err) < 0) {
        mk_registry_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

int mk_registry_open(const struct mk_registry_opts *o, struct mk_registry **out, mk_err **err)
{
    struct mk_registry *r;
    if (registry_new(o->domain, o->repo, o->push, &r, err) < 0)
        return -1;
    if (o->auth != NULL) {
        r->creds.username = o->auth->username ? xstrdup(o->auth->username) : NULL;
        r->creds.password = o->auth->password ? xstrdup(o->auth->password) : NULL;
        r->creds.identity_token = o->auth->identity_token ? xstrdup(o->auth->identity_token) : NULL;
    } else if (o->username != NULL) {
        r->creds.username = xstrdup(o->username);
        r->creds.password = xstrdup(o->password != NULL ? o->password : "");
    } else if (mk_creds_get(o->domain, &r->creds, err) < 0) {
        mk_registry_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

void mk_registry_free(struct mk_registry *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->pooled; i++)
        curl_easy_cleanup(r->pool[i]);
    pthread_mutex_destroy(&r->lock);
    mk_endpoint_clear(&r->ep);
    mk_auth_clear(&r->creds);
    free(r->domain);
    free(r->repo);
    free(r->base);
    mk_strv_free(r->scopes);
    free(r->bearer);
    free(r);
}

int mk_registry_login(const char *domain, const char *username, const char *password,
                      char **identity_token, mk_err **err)
{
    struct mk_registry *r;
    if (identity_token != NULL)
        *identity_token = NULL;
    if (registry_new(domain, NULL, false, &r, err) < 0)
        return -1;
    r->creds.username = xstrdup(username);
    r->creds.password = xstrdup(password);
    struct mk_http_resp resp = {0};
    int ret = mk_registry_ping(r, &resp, err);
    if (ret == 0 && resp.status == 401) {
        _cleanup_free_ char *url = xasprintf("%s/v2/", r->base);
        _cleanup_free_ char *challenge = steal_pointer(&resp.www_auth);
        mk_http_resp_clear(&resp);
        if (challenge == NULL)
            ret = mk_err_set(err, MK_ERR_UNAUTHORIZED, "Get \"%s\": unauthorized", url);
        else
            ret = mk_registry_authenticate(r, challenge, true, identity_token, err);
        /* Whatever the scheme, the proof is /v2/ answering 200 with them. */
        struct mk_http_req req = {.method = "GET", .url = "/v2/", .body_fd = -1};
        if (ret == 0 && (ret = mk_registry_request(r, &req, &resp, err)) == 0 &&
            resp.status != 200)
            ret = mk_err_set(err, MK_ERR_UNAUTHORIZED, "login attempt to %s failed with status: %ld %s",
                             url, resp.status,
                             resp.status == 401   ? "Unauthorized"
                             : resp.status == 403 ? "Forbidden"
                                                  : "Error");
    }
    mk_http_resp_clear(&resp);
    mk_registry_free(r);
    return ret;
}

void mk_manifest_blob_clear(struct mk_manifest_blob *m)
{
    free(m->body);
    free(m->media_type);
    free(m->digest);
    memset(m, 0, sizeof(*m));
}

static bool schema1(const char *media_type, const json_t *j)
{
    return (media_type != NULL &&
            mk_str_has_prefix(media_type, "application/vnd.docker.distribution.manifest.v1")) ||
           mk_json_int(j, "schemaVersion", 2) == 1;
}

int mk_registry_get_manifest(struct mk_registry *r, const char *reference,
                             struct mk_manifest_blob *out, mk_err **err)
{
    memset(out, 0, sizeof(*out));
    _cleanup_free_ char *path = xasprintf("/v2/%s/manifests/%s", r->repo, reference);
    struct mk_http_req req = {.method = "GET", .url = path, .accept = MANIFEST_ACCEPT,
                              .body_fd = -1};
    struct mk_http_resp resp;
    if (call(r, &req, 200, &resp, err) < 0)
        return -1;
    char *digest = mk_sha256_digest(resp.body, resp.len);
    if (mk_str_has_prefix(reference, "sha256:") && strcmp(reference, digest) != 0) {
        mk_err_set(err, MK_ERR_INVALID,
                   "manifest verification failed for digest %s: the registry sent %s", reference,
                   digest);
        free(digest);
        mk_http_resp_clear(&resp);
        return -1;
    }
    _cleanup_json_ json_t *j = json_loadb(resp.body, resp.len, 0, NULL);
    /* The body's own mediaType beats a generic Content-Type. */
    const char *mt = mk_json_str(j, "mediaType");
    if (mt == NULL && resp.content_type != NULL) {
        size_t n = strcspn(resp.content_type, "; ");
        resp.content_type[n] = '\0';
        mt = resp.content_type;
    }
    if (j == NULL || schema1(mt, j)) {
        /* docker's daemon refuses these too: its error, not a mocker limit */
        mk_err_set(err, MK_ERR_INVALID,
                   j == NULL ? "the registry sent a manifest that is not JSON"
                             : "the image is in the Docker Image manifest version 2, schema 1 "
                               "format, which mocker (like docker since 28) does not pull; ask its "
                               "author to push it in the OCI or schema 2 format");
        free(digest);
        mk_http_resp_clear(&resp);
        return -1;
    }
    out->media_type = xstrdup(mt != NULL ? mt : MK_MT_OCI_MANIFEST);
    out->digest = digest;
    out->len = resp.len;
    out->body = steal_pointer(&resp.body);
    mk_http_resp_clear(&resp);
    return 0;
}

int mk_registry_get_blob(struct mk_registry *r, const char *digest, int64_t offset,
                         mk_registry_sink sink, void *ctx, mk_err **err)
{
    _cleanup_free_ char *path = xasprintf("/v2/%s/blobs/%s", r->repo, digest);
    struct mk_http_req req = {.method = "GET", .url = path, .body_fd = -1, .range_from = offset,
                              .sink = sink, .sink_ctx = ctx};
    struct mk_http_resp resp;
    if (mk_registry_request(r, &req, &resp, err) < 0)
        return mk_err_wrap(err, "blob %s", digest);
    int ret = 0;
    if (resp.status != 200 && resp.status != 206) {
        ret = mk_registry_error(&resp, NULL, err);
        mk_err_wrap(err, "blob %s", digest);
    } else if (offset > 0 && resp.status != 206) {
        ret = mk_err_set(err, MK_ERR_INTERNAL, "blob %s: the registry ignored the range", digest);
    }
    mk_http_resp_clear(&resp);
    return ret;
}

int mk_registry_blob_exists(struct mk_registry *r, const char *digest, bool *exists, mk_err **err)
{
    _cleanup_free_ char *path = xasprintf("/v2/%s/blobs/%s", r->repo, digest);
    struct mk_http_req req = {.method = "HEAD", .url = path, .body_fd = -1};
    struct mk_http_resp resp;
    if (mk_registry_request(r, &req, &resp, err) < 0)
        return -1;
    int ret = 0;
    if (resp.status == 200)
        *exists = true;
    else if (resp.status == 404)
        *exists = false;
    else
        ret = mk_registry_error(&resp, NULL, err);
    mk_http_resp_clear(&resp);
    return ret;
}

/* An upload session's Location, made absolute, with "key=value" added. */
static char *location_with(struct mk_registry *r, const char *loc, const char *param)
{
    const char *sep = strchr(loc, '?') != NULL ? "&" : "?";
    if (mk_str_has_prefix(loc, "http://") || mk_str_has_prefix(loc, "https://"))
        return xasprintf("%s%s%s", loc, sep, param);
    return xasprintf("%s%s%s%s%s", r->base, loc[0] == '/' ? "" : "/", loc, sep, param);
}

int mk_registry_mount_blob(struct mk_registry *r, const char *digest, const char *from,
                           bool *mounted, mk_err **err)
{
    /* A token server grants what it is asked for: the token must allow
     * pulling from `from` as well, or the registry refuses the mount with a
     * 401, which fetches a token for every scope so far. */
    _cleanup_free_ char *scope = xasprintf("repository:%s:pull", from);
    pthread_mutex_lock(&r->lock);
    if (!mk_strv_contains(r->scopes, scope))
        mk_strv_push(&r->scopes, scope);
    pthread_mutex_unlock(&r->lock);
    _cleanup_free_ char *path =
        xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s", r->repo, digest, from);
    struct mk_http_req req = {.method = "POST", .url = path, .body_fd = -1};
    struct mk_http_resp resp;
    if (mk_registry_request(r, &req, &resp, err) < 0)
        return -1;
    /* Whatever else it answers (202: an upload instead, 401/403: no right to
     * read `from`, 404: not there), the blob is uploaded, as docker does. */
    *mounted = resp.status == 201;
    mk_http_resp_clear(&resp);
    return 0;
}

int mk_registry_upload_blob(struct mk_registry *r, const char *digest, int fd, int64_t size,
                            mk_registry_progress progress, void *ctx, mk_err **err)
{
    _cleanup_free_ char *path = xasprintf("/v2/%s/blobs/uploads/", r->repo);
    struct mk_http_req start = {.method = "POST", .url = path, .body_fd = -1};
    struct mk_http_resp resp;
    if (mk_registry_request(r, &start, &resp, err) < 0)
        return -1;
    if (resp.status != 202 || resp.location == NULL) {
        int ret = resp.status == 202 ? mk_err_set(err, MK_ERR_INTERNAL,
                                                  "registry started an upload without a Location")
                                     : mk_registry_error(&resp, NULL, err);
        mk_http_resp_clear(&resp);
        return ret;
    }
    _cleanup_free_ char *param = xasprintf("digest=%s", digest);
    _cleanup_free_ char *url = location_with(r, resp.location, param);
    mk_http_resp_clear(&resp);
    struct mk_http_req put = {.method = "PUT", .url = url, .body_fd = fd, .body_size = size,
                              .content_type = "application/octet-stream",
                              .progress = progress, .progress_ctx = ctx};
    if (call(r, &put, 201, &resp, err) < 0)
        return -1;
    mk_http_resp_clear(&resp);
    return 0;
}

int mk_registry_put_manifest(struct mk_registry *r, const char *reference, const char *media_type,
                             const void *body, size_t len, mk_err **err)
{
    _cleanup_free_ char *path = xasprintf("/v2/%s/manifests/%s", r->repo, reference);
    struct mk_http_req req = {.method = "PUT", .url = path, .body = body, .body_len = len,
                              .body_fd = -1, .content_type = media_type};
    struct mk_http_resp resp;
    if (call(r, &req, 201, &resp, err) < 0)
        return -1;
    mk_http_resp_clear(&resp);
    return 0;
}

/* The target of a Link header's rel="next": "</v2/x/tags/list?last=a&n=100>; rel=\"next\"". */
static char *next_link(const char *link)
{
    if (link == NULL || strstr(link, "rel=\"next\"") == NULL)
        return NULL;
    const char *open = strchr(link, '<'), *close = open != NULL ? strchr(open, '>') : NULL;
    return close != NULL ? xstrndup(open + 1, (size_t)(close - open - 1)) : NULL;
}

int mk_registry_list_tags(struct mk_registry *r, char ***out, mk_err **err)
{
    _cleanup_strv_ char **tags = xcalloc(1, sizeof(char *));
    _cleanup_free_ char *url = xasprintf("/v2/%s/tags/list", r->repo);
    for (int page = 0; url != NULL && page < 1000; page++) {
        struct mk_http_req req = {.method = "GET", .url = url, .body_fd = -1};
        struct mk_http_resp resp;
        if (call(r, &req, 200, &resp, err) < 0)
            return -1;
        _cleanup_json_ json_t *j = json_loadb(resp.body, resp.len, 0, NULL);
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(j, "tags"), i, t)
        {
            if (json_is_string(t))
                mk_strv_push(&tags, json_string_value(t));
        }
        free(url);
        url = next_link(resp.link);
        mk_http_resp_clear(&resp);
    }
    *out = steal_pointer(&tags);
    return 0;
}
