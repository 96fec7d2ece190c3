/* push.c: docker push.  The image's stored manifest goes up as it is, after
 * every blob it names: a blob the registry has already is skipped (HEAD), one
 * this image was pulled with from another repository of the same registry is
 * mounted from there, the rest are uploaded from the local blob store.  The
 * pushed manifest's digest becomes one of the image's RepoDigests. */
#include "image/image.h"
#include "registry/registry.h"

#include <string.h>
#include <unistd.h>

struct push {
    struct mk_store *s;
    struct mk_registry *reg;
    const struct mk_push_opts *o;
    const struct mk_ref *ref;
    char **mount_from; /* repositories of this registry the image came from */
    char **out_digest;
};

static void report(struct push *p, const char *id, const char *status, int64_t cur, int64_t total)
{
    if (p->o->progress == NULL)
        return;
    struct mk_progress ev = {.id = id, .status = status, .current = cur, .total = total};
    p->o->progress(p->o->ctx, &ev);
}

struct up_ctx {
    struct push *p;
    const char *id;
};
static void upload_progress(void *ctx, int64_t done, int64_t total)
{
    struct up_ctx *u = ctx;
    report(u->p, u->id, "Pushing", done, total);
}

/* Get one blob to the registry: already there, mounted, or uploaded. */
static int push_blob(struct push *p, const json_t *desc, const char *shown_id, mk_err **err)
{
    const char *digest = mk_json_str(desc, "digest");
    int64_t size = mk_json_int(desc, "size", -1);
    if (!mk_store_digest_valid(digest) || size < 0)
        return mk_err_set(err, MK_ERR_INVALID, "stored manifest has an invalid descriptor");
    bool exists = false;
    if (mk_registry_blob_exists(p->reg, digest, &exists, err) < 0)
        return -1;
    if (exists) {
        if (shown_id != NULL)
            report(p, shown_id, "Layer already exists", -1, 0);
        return 0;
    }
    for (size_t i = 0; p->mount_from != NULL && p->mount_from[i] != NULL; i++) {
        bool mounted = false;
        if (strcmp(p->mount_from[i], p->ref->path) == 0)
            continue;
        if (mk_registry_mount_blob(p->reg, digest, p->mount_from[i], &mounted, err) < 0)
            return -1;
        if (mounted) {
            if (shown_id != NULL) {
                _cleanup_free_ char *msg = xasprintf("Mounted from %s", p->mount_from[i]);
                report(p, shown_id, msg, -1, 0);
            }
            return 0;
        }
    }
    _cleanup_close_ int fd = mk_store_blob_open(p->s, digest, err);
    if (fd < 0)
        return mk_err_wrap(err, "blob %s", digest);
    struct up_ctx u = {p, shown_id};
    if (mk_registry_upload_blob(p->reg, digest, fd, size, shown_id ? upload_progress : NULL, &u,
                                err) < 0)
        return mk_err_wrap(err, "upload %s", digest);
    if (shown_id != NULL)
        report(p, shown_id, "Pushed", -1, 0);
    return 0;
}

/* The repositories on the same registry this image has digests in. */
static char **mount_sources(const struct mk_image *img, const struct mk_ref *ref)
{
    char **out = xcalloc(1, sizeof(char *));
    for (size_t i = 0; img->digests != NULL && img->digests[i] != NULL; i++) {
        struct mk_ref *r = NULL;
        if (mk_ref_parse(img->digests[i], &r, NULL) < 0)
            continue;
        if (strcmp(r->domain, ref->domain) == 0 && !mk_strv_contains(out, r->path))
            mk_strv_push(&out, r->path);
        mk_ref_free(r);
    }
    return out;
}

static int push_locked(struct push *p, const struct mk_image *img, char **out_digest,
                       mk_err **err)
{
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (mk_store_blob_read(p->s, img->manifest_digest, &text, &len, err) < 0)
        return mk_err_wrap(err, "manifest of %s", img->id);
    _cleanup_json_ json_t *manifest = json_loadb(text, len, 0, NULL);
    json_t *layers = json_object_get(manifest, "layers");
    /* OCI manifests may leave mediaType out: their config says which kind. */
    const char *media_type = mk_json_str(manifest, "mediaType");
    const char *config_type = mk_json_str(json_object_get(manifest, "config"), "mediaType");
    if (media_type == NULL && config_type != NULL)
        media_type = strcmp(config_type, MK_MT_DOCKER_CONFIG) == 0 ? MK_MT_DOCKER_MANIFEST
                                                                    : MK_MT_OCI_MANIFEST;
    if (!json_is_array(layers) || media_type == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "stored manifest of %s is malformed", img->id);
    json_t *diff_ids = json_object_get(json_object_get(img->config, "rootfs"), "diff_ids");
    size_t i;
    json_t *d;
    _cleanup_free_ char(*ids)[13] = xcalloc(json_array_size(layers) + 1, sizeof(*ids));
    json_array_foreach(layers, i, d)
    {
        /* docker names a layer by its diff id when pushing */
        const char *diff = json_string_value(json_array_get(diff_ids, i));
        snprintf(ids[i], sizeof(ids[i]), "%.12s",
                 diff != NULL && strlen(diff) > 7 ? diff + 7 : mk_json_str(d, "digest") + 7);
        report(p, ids[i], "Preparing", -1, 0);
    }
    json_array_foreach(layers, i, d)
    {
        if (push_blob(p, d, ids[i], err) < 0)
            return -1;
    }
    if (push_blob(p, json_object_get(manifest, "config"), NULL, err) < 0)
        return -1;
    const char *tag = p->ref->tag != NULL ? p->ref->tag : "latest";
    if (mk_registry_put_manifest(p->reg, tag, media_type, text, len, err) < 0)
        return mk_err_wrap(err, "manifest");
    _cleanup_free_ char *digest = mk_sha256_digest(text, len);
    _cleanup_free_ char *line = xasprintf("%s: digest: %s size: %zu", tag, digest, len);
    if (p->o->out_size != NULL)
        *p->o->out_size = (int64_t)len;
    report(p, NULL, line, -1, 0);
    _cleanup_free_ char *digest_ref = xasprintf("%s/%s@%s", p->ref->domain, p->ref->path, digest);
    mk_store_digest_add(p->s, digest_ref, img->id, NULL);
    _cleanup_free_ char *familiar = mk_ref_familiar(p->ref);
    _cleanup_json_ json_t *attrs = json_pack("{s:s}", "name", familiar);
    mk_store_event_add(p->s, "image", "push", familiar, attrs, NULL);
    *out_digest = steal_pointer(&digest);
    return 0;
}

static int push_ref(struct push *p, mk_err **err)
{
    const struct mk_ref *ref = p->ref;
    if (ref->digest != NULL)
        return mk_err_set(err, MK_ERR_INVALID, "cannot push a digest reference");
    _cleanup_free_ char *full = mk_ref_string(ref);
    struct mk_image *img = NULL;
    if (mk_store_image_get_by_tag(p->s, full, &img, err) < 0) {
        if ((*err)->kind == MK_ERR_NOT_FOUND) {
            mk_err_free(*err);
            *err = NULL;
            _cleanup_free_ char *fam_repo = mk_ref_familiar_repo(ref);
            mk_err_set(err, MK_ERR_NOT_FOUND, "An image does not exist locally with the tag: %s",
                       fam_repo);
        }
        return -1;
    }
    _cleanup_free_ char *repo = xasprintf("%s/%s", ref->domain, ref->path);
    _cleanup_free_ char *line = xasprintf("The push refers to repository [%s]", repo);
    if (!p->o->no_header)
        report(p, NULL, line, -1, 0);
    struct mk_registry_opts ro = {
        .domain = ref->domain, .repo = ref->path, .push = true, .auth = p->o->auth};
    int ret = mk_registry_open(&ro, &p->reg, err);
    if (ret == 0) {
        p->mount_from = mount_sources(img, ref);
        ret = push_locked(p, img, p->out_digest, err);
    }
    mk_image_free(img);
    return ret;
}

int mk_image_push(struct mk_store *s, const struct mk_push_opts *o, char **out_digest,
                  mk_err **err)
{
    struct mk_ref *ref = NULL;
    if (mk_ref_parse(o->name, &ref, err) < 0)
        return -1;
    struct push p = {.s = s, .o = o, .ref = ref, .out_digest = out_digest};
    int ret = push_ref(&p, err);
    mk_strv_free(p.mount_from);
    mk_registry_free(p.reg);
    mk_ref_free(ref);
    return ret;
}
