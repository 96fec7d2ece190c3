/* distribution.c: the endpoints that only talk to a registry: POST /auth
 * (docker login through the daemon: the credentials are checked, never
 * stored, as dockerd does) and GET /distribution/{name}/json (what a
 * reference resolves to: its descriptor and the platforms it has). */
#include "api/api.h"
#include "image/image.h"
#include "registry/registry.h"

#include <string.h>

int mk_api_auth(struct mk_api_ctx *c, mk_err **err)
{
    json_error_t je;
    _cleanup_json_ json_t *body =
        c->req->body_len > 0 ? json_loadb(c->req->body, c->req->body_len, 0, &je) : NULL;
    if (!json_is_object(body))
        return mk_err_set(err, MK_ERR_INVALID, "invalid auth configuration: %s",
                          c->req->body_len == 0 ? "empty body" : body ? "not a JSON object" : je.text);
    const char *user = mk_json_str(body, "username"), *pass = mk_json_str(body, "password");
    const char *server = mk_json_str(body, "serveraddress");
    if (user == NULL || *user == '\0' || pass == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "invalid auth configuration: username and password are required");
    _cleanup_free_ char *key = mk_creds_key(server != NULL && *server ? server : "docker.io");
    /* the index's key stands for docker.io */
    const char *domain = strstr(key, "://") != NULL ? "docker.io" : key;
    _cleanup_free_ char *token = NULL;
    if (mk_registry_login(domain, user, pass, &token, err) < 0)
        return -1;
    _cleanup_json_ json_t *out = json_pack("{s:s,s:s}", "Status", "Login Succeeded", "IdentityToken",
                                           token != NULL ? token : "");
    return mk_http_reply_json(c->reply, 200, out);
}

static int collect(void *ctx, const void *data, size_t len, mk_err **err)
{
    mk_buf *b = ctx;
    if (b->len + len > (4u << 20))
        return mk_err_set(err, MK_ERR_INVALID, "image config larger than 4 MiB");
    mk_buf_append(b, data, len);
    return 0;
}

/* The platform of a single-platform manifest, from its config blob. */
static int manifest_platform(struct mk_registry *reg, const json_t *manifest, json_t *platforms,
                             mk_err **err)
{
    const char *cfg_digest = mk_json_str(json_object_get(manifest, "config"), "digest");
    if (cfg_digest == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "manifest has no config");
    mk_buf b = {0};
    int r = mk_registry_get_blob(reg, cfg_digest, 0, collect, &b, err);
    _cleanup_free_ char *digest = r == 0 ? mk_sha256_digest(b.data, b.len) : NULL;
    if (r == 0 && strcmp(digest, cfg_digest) != 0)
        r = mk_err_set(err, MK_ERR_INVALID, "config blob %s: digest mismatch", cfg_digest);
    json_error_t je;
    _cleanup_json_ json_t *cfg = r == 0 ? json_loadb(b.data, b.len, 0, &je) : NULL;
    mk_buf_free(&b);
    if (r < 0)
        return -1;
    struct mk_platform p;
    if (!json_is_object(cfg) || !mk_platform_from_config(cfg, &p))
        return mk_err_set(err, MK_ERR_INVALID, "config blob %s names no platform", cfg_digest);
    json_t *o = json_pack("{s:s,s:s}", "architecture", p.architecture, "os", p.os);
    if (*p.variant)
        json_object_set_new(o, "variant", json_string(p.variant));
    json_array_append_new(platforms, o);
    return 0;
}

int mk_api_distribution(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_ref *ref = NULL;
    if (mk_ref_parse(mk_api_param(c, "name"), &ref, err) < 0)
        return -1;
    struct mk_registry *reg = NULL;
    struct mk_manifest_blob m = {0};
    _cleanup_json_ json_t *out = NULL;
    struct mk_auth auth;
    bool have_auth;
    if (mk_api_registry_auth(c->req, &auth, &have_auth, err) < 0) {
        mk_ref_free(ref);
        return -1;
    }
    struct mk_registry_opts ro = {
        .domain = ref->domain, .repo = ref->path, .auth = have_auth ? &auth : NULL};
    int r = mk_registry_open(&ro, &reg, err);
    mk_auth_clear(&auth);
    if (r == 0)
        r = mk_registry_get_manifest(reg, ref->digest != NULL ? ref->digest : ref->tag, &m, err);
    json_error_t je;
    _cleanup_json_ json_t *doc = r == 0 ? json_loadb(m.body, m.len, 0, &je) : NULL;
    if (r == 0 && !json_is_object(doc))
        r = mk_err_set(err, MK_ERR_INVALID, "manifest %s is not a JSON object", m.digest);
    json_t *platforms = json_array();
    if (r == 0) {
        json_t *list = json_object_get(doc, "manifests");
        size_t i;
        json_t *d;
        if (json_is_array(list)) {
            json_array_foreach(list, i, d)
            {
                json_t *p = json_object_get(d, "platform");
                /* attestations (unknown/unknown) are no platform of the image */
                if (json_is_object(p) && strcmp(mk_json_str(p, "os") ?: "", "unknown") != 0)
                    json_array_append(platforms, p);
            }
        } else {
            r = manifest_platform(reg, doc, platforms, err);
        }
    }
    if (r == 0)
        out = json_pack("{s:{s:s,s:s,s:I},s:o}", "Descriptor", "mediaType", m.media_type, "digest",
                        m.digest, "size", (json_int_t)m.len, "Platforms", platforms);
    else
        json_decref(platforms);
    mk_manifest_blob_clear(&m);
    mk_registry_free(reg);
    mk_ref_free(ref);
    if (r < 0)
        return -1;
    return mk_http_reply_json(c->reply, 200, out);
}
