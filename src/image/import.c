/* import.c: `docker import`: a tar (plain or compressed) becomes a one-layer
 * OCI image.
 *
 * The input is decompressed into a blob writer's temp file (its digest is the
 * layer's diff id), unpacked from there into layers/tmp-<random>/diff, and
 * only when that worked are the blob committed and the layer renamed to
 * layers/<chain-hex>: a failed or killed import leaves temp files only, never a
 * half layer under a real name or a row for an image that is not there. */
#include "image/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#define LAYER_MEDIA_TYPE    "application/vnd.oci.image.layer.v1.tar"
#define CONFIG_MEDIA_TYPE   "application/vnd.oci.image.config.v1+json"
#define MANIFEST_MEDIA_TYPE "application/vnd.oci.image.manifest.v1+json"

/* Decompress the input into the writer (libarchive "raw" format: any filter,
 * no container format).  The result is only known to be a tar after unpacking. */
static int read_input(int fd, struct mk_blob_writer *w, mk_err **err)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_raw(a);
    int ret = -1;
    struct archive_entry *e;
    if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
        mk_err_set(err, MK_ERR_INVALID, "read input: %s", archive_error_string(a));
        goto out;
    }
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) {
        mk_err_set(err, MK_ERR_INVALID, "empty input: not a tar archive");
        goto out;
    }
    if (r < ARCHIVE_WARN) {
        mk_err_set(err, MK_ERR_INVALID, "read input: %s", archive_error_string(a));
        goto out;
    }
    char buf[1 << 16];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
        if (mk_blob_writer_write(w, buf, (size_t)n, err) < 0)
            goto out;
    if (n < 0) {
        mk_err_set(err, MK_ERR_INVALID, "read input: %s", archive_error_string(a));
        goto out;
    }
    ret = 0;
out:
    archive_read_free(a);
    return ret;
}

static json_t *descriptor(const char *media_type, const char *digest, int64_t size)
{
    return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size",
                     (json_int_t)size);
}

/* Unpack the writer's data into a new layers/tmp-<random>; *tmp_name gets its
 * name relative to layers/. */
static int unpack_to_temp(struct mk_store *s, struct mk_blob_writer *w, char **tmp_name,
                          int64_t *size, mk_err **err)
{
    _cleanup_free_ char *rnd = mk_random_hex(32);
    _cleanup_free_ char *name = xasprintf("tmp-%s", rnd);
    _cleanup_free_ char *top = xasprintf("%s/layers/%s", s->root, name);
    _cleanup_free_ char *diff = mk_path_join(top, "diff");
    _cleanup_close_ int fd = -1;
    if (mkdir(top, 0700) < 0)
        return mk_err_sys(err, "mkdir %s", top);
    if (mkdir(diff, 0755) < 0) {
        mk_err_sys(err, "mkdir %s", diff);
        goto fail;
    }
    fd = mk_blob_writer_reopen(w, err);
    if (fd < 0 || mk_layer_extract(fd, diff, size, err) < 0)
        goto fail;
    *tmp_name = steal_pointer(&name);
    return 0;
fail:
    mk_rm_rf(top, NULL);
    return -1;
}

/* Give the unpacked layer its real name, unless another import got there first. */
static int install_layer(struct mk_store *s, const char *tmp_name, const char *chain_id,
                         mk_err **err)
{
    _cleanup_free_ char *tmp = xasprintf("%s/layers/%s", s->root, tmp_name);
    _cleanup_free_ char *final = mk_store_layer_dir(s, chain_id);
    if (rename(tmp, final) == 0)
        return 0;
    if (errno != EEXIST && errno != ENOTEMPTY)
        return mk_err_sys(err, "rename %s to %s", tmp, final);
    /* Same chain id means same content: keep the existing one. */
    return mk_rm_rf(tmp, err);
}

/* platform: --platform, or NULL for the host's. */
static json_t *build_config(const struct mk_platform *platform, const char *created,
                            const char *comment)
{
    struct mk_platform p;
    if (platform != NULL)
        p = *platform;
    else
        mk_platform_host(&p);
    json_t *config = json_pack("{s:s, s:s, s:s, s:s, s:{}, s:{s:s, s:[]}, s:[{s:s, s:s}]}",
                               "architecture", p.architecture, "os", p.os, "created", created,
                               "comment", comment, "config", "rootfs", "type", "layers",
                               "diff_ids", "history", "created", created, "comment", comment);
    /* The host's arm64 variant (v8) is implied and docker leaves it out. */
    if (platform != NULL && *p.variant != '\0')
        json_object_set_new(config, "variant", json_string(p.variant));
    return config;
}

static int store_image_rows(struct mk_store *s, const struct mk_image *img, const char *tag,
                            mk_err **err)
{
    if (mk_store_begin(s, err) < 0)
        return -1;
    if (mk_store_image_put(s, img, err) < 0 ||
        (tag != NULL && mk_store_tag_set(s, tag, img->id, err) < 0)) {
        mk_store_rollback(s);
        return -1;
    }
    return mk_store_commit(s, err);
}

static void image_event(struct mk_store *s, const char *action, const char *id, const char *name)
{
    _cleanup_json_ json_t *attrs = json_pack("{s:s}", "name", name);
    _cleanup_err_ mk_err *ignored = NULL;
    /* The image is stored either way; a lost event is not worth failing for. */
    mk_store_event_add(s, "image", action, id, attrs, &ignored);
}

/* The parent's layer descriptors, to which the new image's manifest adds. */
static int parent_layers(struct mk_store *s, const struct mk_image *parent, json_t **out,
                         mk_err **err)
{
    if (parent == NULL) {
        *out = json_array();
        return 0;
    }
    _cleanup_free_ char *text = NULL;
    size_t len;
    if (mk_store_blob_read(s, parent->manifest_digest, &text, &len, err) < 0)
        return mk_err_wrap(err, "manifest of %s", parent->id);
    _cleanup_json_ json_t *manifest = json_loadb(text, len, 0, NULL);
    json_t *layers = json_object_get(manifest, "layers");
    if (!json_is_array(layers))
        return mk_err_set(err, MK_ERR_INVALID, "manifest of %s: no layers", parent->id);
    *out = json_deep_copy(layers);
    return 0;
}

/* Commit the layer blob in w and install its unpacked form under the chain id
 * it gets on top of config's rootfs.diff_ids (to which its diff id is added). */
static int add_layer(struct mk_store *s, struct mk_blob_writer *w, json_t *config,
                     json_t *layers, int64_t *unpacked, mk_err **err)
{
    _cleanup_free_ char *tmp_layer = NULL;
    if (unpack_to_temp(s, w, &tmp_layer, unpacked, err) < 0)
        return -1;
    int64_t layer_size = mk_blob_writer_size(w);
    _cleanup_free_ char *diff_id = NULL;
    _cleanup_strv_ char **chains = NULL;
    json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
    int r = mk_blob_writer_commit(w, NULL, &diff_id, err);
    if (r == 0) {
        json_array_append_new(diff_ids, json_string(diff_id));
        r = mk_image_chain_ids(config, &chains, err);
    }
    if (r == 0)
        r = install_layer(s, tmp_layer, chains[mk_strv_len(chains) - 1], err);
    if (r < 0) {
        _cleanup_free_ char *top = xasprintf("%s/layers/%s", s->root, tmp_layer);
        mk_rm_rf(top, NULL);
        return -1;
    }
    json_array_append_new(layers, descriptor(LAYER_MEDIA_TYPE, diff_id, layer_size));
    return 0;
}

int mk_image_create(struct mk_store *s, const struct mk_image_new *n, char **out_id, mk_err **err)
{
    json_t *config = n->config;
    _cleanup_json_ json_t *layers = NULL;
    if (parent_layers(s, n->parent, &layers, err) < 0)
        return -1;
    int64_t unpacked = 0;
    if (n->layer != NULL && add_layer(s, n->layer, config, layers, &unpacked, err) < 0)
        return -1;
    _cleanup_free_ char *config_text = mk_json_dump(config);
    _cleanup_free_ char *config_digest = NULL;
    if (mk_store_blob_put(s, config_text, strlen(config_text), &config_digest, err) < 0)
        return -1;
    _cleanup_json_ json_t *manifest = json_pack(
        "{s:i, s:s, s:o, s:O}", "schemaVersion", 2, "mediaType", MANIFEST_MEDIA_TYPE, "config",
        descriptor(CONFIG_MEDIA_TYPE, config_digest, (int64_t)strlen(config_text)), "layers",
        layers);
    _cleanup_free_ char *manifest_text = mk_json_dump(manifest);
    _cleanup_free_ char *manifest_digest = NULL;
    if (mk_store_blob_put(s, manifest_text, strlen(manifest_text), &manifest_digest, err) < 0)
        return -1;

    struct mk_image img = {
        .id = config_digest,
        .manifest_digest = manifest_digest,
        .config = config,
        .size = unpacked + (n->parent != NULL ? n->parent->size : 0),
        .created = n->created,
        .parent = n->parent != NULL ? n->parent->id : NULL,
    };
    if (store_image_rows(s, &img, n->tag, err) < 0)
        return -1;
    if (n->action != NULL)
        image_event(s, n->action, config_digest, config_digest);
    if (n->tag != NULL) {
        _cleanup_free_ char *familiar = mk_ref_familiarize(n->tag);
        image_event(s, "tag", config_digest, familiar);
    }
    *out_id = steal_pointer(&config_digest);
    return 0;
}

static int import_locked(struct mk_store *s, struct mk_blob_writer *w,
                         const struct mk_import_opts *opts, const char *tag, char **out_id,
                         mk_err **err)
{
    int64_t created_ns = mk_now_ns();
    _cleanup_free_ char *created = mk_time_rfc3339(created_ns);
    const char *comment =
        opts->message != NULL && *opts->message ? opts->message : "Imported from -";
    _cleanup_json_ json_t *config = build_config(opts->platform, created, comment);
    if (mk_image_apply_changes(config, opts->changes, err) < 0)
        return -1;
    struct mk_image_new n = {
        .layer = w, .config = config, .created = created_ns, .tag = tag, .action = "import"};
    return mk_image_create(s, &n, out_id, err);
}

int mk_image_new_tag(const char *name, char **out, mk_err **err)
{
    *out = NULL;
    if (name == NULL || *name == '\0')
        return 0;
    struct mk_ref *ref = NULL;
    if (mk_ref_parse(name, &ref, err) < 0)
        return -1;
    if (ref->digest != NULL) {
        mk_ref_free(ref);
        return mk_err_set(err, MK_ERR_INVALID, "refusing to create a tag with a digest reference");
    }
    *out = mk_ref_string(ref);
    mk_ref_free(ref);
    return 0;
}

int mk_image_import(struct mk_store *s, int fd, const struct mk_import_opts *opts, char **out_id,
                    mk_err **err)
{
    _cleanup_free_ char *tag = NULL;
    if (mk_image_new_tag(opts->ref, &tag, err) < 0)
        return -1;
    if (opts->platform != NULL && strcmp(opts->platform->os, "linux") != 0)
        return mk_err_set(err, MK_ERR_INVALID, "operating system is not supported");
    /* Check the changes before reading what may be a large input. */
    _cleanup_json_ json_t *probe = json_object();
    if (mk_image_apply_changes(probe, opts->changes, err) < 0)
        return -1;

    struct mk_blob_writer *w = NULL;
    if (mk_blob_writer_new(s, &w, err) < 0)
        return mk_err_wrap(err, "import");
    int r = read_input(fd, w, err);
    if (r == 0) {
        /* Shared: an rmi collecting unused layers waits until our rows exist. */
        _cleanup_close_ int lock = mk_store_lock_layers(s, false, err);
        r = lock < 0 ? -1 : import_locked(s, w, opts, tag, out_id, err);
    }
    mk_blob_writer_free(w);
    if (r < 0)
        return mk_err_wrap(err, "import");
    return 0;
}
