/* save.c: `docker save`: images as one tar that is both a docker-archive
 * (manifest.json, repositories) and an OCI image layout (oci-layout,
 * index.json), as docker 25 and later write it, so that `docker load` of any
 * version and OCI tools (skopeo's oci-archive:) read the same file.
 *
 * Every file is a blob under blobs/sha256/<hex>, written as the store keeps it
 * (the stored manifest, config and layer blobs, byte for byte), so the OCI
 * side's digests are the store's; manifest.json names the same files.  Blobs
 * are streamed from the store and checked against their digest on the way: a
 * corrupt store blob fails the save instead of producing an archive that
 * would fail to load. */
#include "image/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>
#include <sys/stat.h>

struct saved {
    struct mk_image *img;
    char **tags; /* full references, in the order named */
    json_t *manifest;
    char *manifest_digest;
    size_t manifest_len;
};

static void saved_free(struct saved *v)
{
    if (v == NULL)
        return;
    mk_image_free(v->img);
    mk_strv_free(v->tags);
    json_decref(v->manifest);
    free(v->manifest_digest);
    free(v);
}

struct save_ctx {
    struct mk_store *store;
    struct saved **images;
    size_t n;
    char **written; /* blob digests already in the archive */
    struct archive *a;
};

/* The entry for img, added (with its manifest read) if new. */
static struct saved *saved_add(struct save_ctx *c, struct mk_image *img, mk_err **err)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->images[i]->img->id, img->id) == 0) {
            mk_image_free(img);
            return c->images[i];
        }
    struct saved *v = xcalloc(1, sizeof(*v));
    v->img = img;
    v->tags = xcalloc(1, sizeof(char *));
    _cleanup_free_ char *text = NULL;
    if (mk_store_blob_read(c->store, img->manifest_digest, &text, &v->manifest_len, err) < 0 ||
        (v->manifest = mk_json_parse(text, v->manifest_len, err)) == NULL) {
        mk_err_wrap(err, "manifest of %s", img->id);
        saved_free(v);
        return NULL;
    }
    v->manifest_digest = xstrdup(img->manifest_digest);
    c->images = xrealloc(c->images, (c->n + 1) * sizeof(*c->images));
    c->images[c->n++] = v;
    return v;
}

static void saved_tag(struct saved *v, const char *full)
{
    if (!mk_strv_contains(v->tags, full))
        mk_strv_push(&v->tags, full);
}

/* docker save's reading of a name: REPO alone is every tag of REPO (or an id
 * prefix when there is none), REPO:TAG that tag, an id or REPO@DIGEST the
 * image without a tag. */
static int add_name(struct save_ctx *c, const char *name, mk_err **err)
{
    struct mk_ref *ref = NULL;
    _cleanup_err_ mk_err *parse_err = NULL;
    /* "sha256:<id>" parses as repository sha256 with a tag; it is an id */
    if (mk_str_has_prefix(name, "sha256:")) {
    } else if (mk_ref_parse(name, &ref, &parse_err) == 0 && ref->digest == NULL &&
               !mk_ref_has_tag(name)) {
        struct mk_ref repo_only = {ref->domain, ref->path, NULL, NULL};
        _cleanup_free_ char *repo = mk_ref_string(&repo_only);
        mk_ref_free(ref);
        struct mk_image **all = NULL;
        size_t n = 0;
        if (mk_store_image_list(c->store, &all, &n, err) < 0)
            return -1;
        bool found = false;
        for (size_t i = 0; i < n; i++) {
            _cleanup_strv_ char **matched = xcalloc(1, sizeof(char *));
            for (size_t t = 0; all[i]->tags[t] != NULL; t++)
                if (mk_str_has_prefix(all[i]->tags[t], repo) &&
                    all[i]->tags[t][strlen(repo)] == ':')
                    mk_strv_push(&matched, all[i]->tags[t]);
            if (matched[0] == NULL)
                continue;
            struct saved *v = saved_add(c, steal_pointer(&all[i]), err);
            if (v == NULL) {
                mk_image_list_free(all, n);
                return -1;
            }
            for (size_t t = 0; matched[t] != NULL; t++)
                saved_tag(v, matched[t]);
            found = true;
        }
        mk_image_list_free(all, n);
        if (found)
            return 0;
    } else if (ref != NULL && ref->digest == NULL) {
        _cleanup_free_ char *full = mk_ref_string(ref);
        mk_ref_free(ref);
        struct mk_image *img = NULL;
        _cleanup_err_ mk_err *e = NULL;
        if (mk_store_image_get_by_tag(c->store, full, &img, &e) < 0) {
            if (e->kind == MK_ERR_NOT_FOUND)
                return mk_err_set(err, MK_ERR_NOT_FOUND, "reference does not exist");
            if (err != NULL)
                *err = steal_pointer(&e);
            return -1;
        }
        struct saved *v = saved_add(c, img, err);
        if (v == NULL)
            return -1;
        saved_tag(v, full);
        return 0;
    } else {
        mk_ref_free(ref);
    }
    struct mk_image *img = NULL;
    if (mk_image_lookup(c->store, name, &img, err) < 0) {
        /* a bare repository names all its tags, not REPO:latest: dockerd
         * names it as given */
        if ((*err)->kind == MK_ERR_NOT_FOUND && !mk_ref_has_tag(name) && strchr(name, '@') == NULL) {
            mk_err_free(*err);
            *err = NULL;
            mk_err_set(err, MK_ERR_NOT_FOUND, "No such image: %s", name);
        }
        return -1;
    }
    return saved_add(c, img, err) != NULL ? 0 : -1;
}

/* ---- writing the archive ---- */

static int archive_failed(struct archive *a, mk_err **err)
{
    return mk_err_set(err, MK_ERR_INTERNAL, "write archive: %s", archive_error_string(a));
}

static int put_header(struct archive *a, const char *path, mode_t type, int64_t size,
                      int64_t mtime, mk_err **err)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
    archive_entry_set_mtime(e, (time_t)mtime, 0);
    int r = archive_write_header(a, e);
    archive_entry_free(e);
    return r < ARCHIVE_WARN ? archive_failed(a, err) : 0;
}

static int put_data(struct archive *a, const void *data, size_t len, mk_err **err)
{
    const char *p = data;
    while (len > 0) {
        la_ssize_t n = archive_write_data(a, p, len);
        if (n <= 0)
            return archive_failed(a, err);
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int put_file(struct archive *a, const char *path, const char *text, mk_err **err)
{
    if (put_header(a, path, AE_IFREG, (int64_t)strlen(text), 0, err) < 0 ||
        put_data(a, text, strlen(text), err) < 0)
        return -1;
    return archive_write_finish_entry(a) < ARCHIVE_WARN ? archive_failed(a, err) : 0;
}

/* blobs/sha256/<hex> from the store, once per archive, verified as it streams. */
static int put_blob(struct save_ctx *c, const char *digest, int64_t mtime, mk_err **err)
{
    if (mk_strv_contains(c->written, digest))
        return 0;
    _cleanup_close_ int fd = mk_store_blob_open(c->store, digest, err);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return mk_err_sys(err, "stat blob %s", digest);
    _cleanup_free_ char *path = xasprintf("blobs/sha256/%s", digest + 7);
    if (put_header(c->a, path, AE_IFREG, st.st_size, mtime, err) < 0)
        return -1;
    struct mk_sha256 md;
    mk_sha256_init(&md);
    char buf[1 << 16];
    int64_t left = st.st_size;
    while (left > 0) {
        ssize_t n = mk_read_all(fd, buf, left < (int64_t)sizeof(buf) ? (size_t)left : sizeof(buf));
        if (n < 0)
            return mk_err_sys(err, "read blob %s", digest);
        if (n == 0)
            return mk_err_set(err, MK_ERR_INTERNAL, "blob %s shrank while saved", digest);
        mk_sha256_update(&md, buf, (size_t)n);
        if (put_data(c->a, buf, (size_t)n, err) < 0)
            return -1;
        left -= n;
    }
    char hex[65];
    mk_sha256_hex(&md, hex);
    if (strcmp(hex, digest + 7) != 0)
        return mk_err_set(err, MK_ERR_INTERNAL, "blob %s is corrupt: its content has digest sha256:%s",
                          digest, hex);
    if (archive_write_finish_entry(c->a) < ARCHIVE_WARN)
        return archive_failed(c->a, err);
    mk_strv_push(&c->written, digest);
    return 0;
}

/* One image's blobs, and its entries in manifest.json, index.json and repositories. */
static int put_image(struct save_ctx *c, struct saved *v, json_t *manifest_json, json_t *index,
                     json_t *repositories, mk_err **err)
{
    int64_t mtime = v->img->created / 1000000000;
    json_t *layers = json_object_get(v->manifest, "layers");
    json_t *diff_ids = json_object_get(json_object_get(v->img->config, "rootfs"), "diff_ids");
    if (!json_is_array(layers) || json_array_size(layers) != json_array_size(diff_ids))
        return mk_err_set(err, MK_ERR_INTERNAL, "image %s: its manifest and config disagree on its layers",
                          v->img->id);
    if (put_blob(c, v->img->id, mtime, err) < 0)
        return mk_err_wrap(err, "image %s", v->img->id);
    json_t *paths = json_array();
    json_t *entry = json_object();
    json_object_set_new(entry, "Config", json_sprintf("blobs/sha256/%s", v->img->id + 7));
    json_object_set_new(entry, "RepoTags", json_null());
    json_object_set_new(entry, "Layers", paths);
    json_array_append_new(manifest_json, entry);
    size_t i;
    json_t *l;
    const char *top = NULL;
    json_array_foreach(layers, i, l)
    {
        const char *digest = mk_json_str(l, "digest");
        if (digest == NULL || put_blob(c, digest, mtime, err) < 0)
            return mk_err_wrap(err, "image %s: layer %zu", v->img->id, i);
        json_array_append_new(paths, json_sprintf("blobs/sha256/%s", digest + 7));
        top = digest + 7;
    }
    if (put_blob(c, v->manifest_digest, 0, err) < 0)
        return mk_err_wrap(err, "image %s", v->img->id);

    const char *media = mk_json_str(v->manifest, "mediaType");
    json_t *desc = mk_image_descriptor(media != NULL ? media : MK_MEDIA_OCI_MANIFEST,
                                       v->manifest_digest, (int64_t)v->manifest_len);
    if (v->tags[0] == NULL)
        json_array_append(json_object_get(index, "manifests"), desc);
    json_t *repo_tags = json_array();
    for (size_t t = 0; v->tags[t] != NULL; t++) {
        struct mk_ref *ref = NULL;
        if (mk_ref_parse(v->tags[t], &ref, err) < 0) {
            json_decref(repo_tags);
            json_decref(desc);
            return -1;
        }
        _cleanup_free_ char *familiar = mk_ref_familiar(ref);
        _cleanup_free_ char *repo = mk_ref_familiar_repo(ref);
        json_array_append_new(repo_tags, json_string(familiar));
        json_t *tagged = json_deep_copy(desc);
        json_object_set_new(tagged, "annotations",
                            json_pack("{s:s, s:s}", "io.containerd.image.name", v->tags[t],
                                      "org.opencontainers.image.ref.name", ref->tag));
        json_array_append_new(json_object_get(index, "manifests"), tagged);
        json_t *per_repo = json_object_get(repositories, repo);
        if (per_repo == NULL)
            json_object_set_new(repositories, repo, per_repo = json_object());
        /* docker names the top layer here (the v1 format's image id once) */
        if (top != NULL)
            json_object_set_new(per_repo, ref->tag, json_string(top));
        mk_ref_free(ref);
    }
    json_decref(desc);
    if (json_array_size(repo_tags) > 0)
        json_object_set_new(entry, "RepoTags", repo_tags);
    else
        json_decref(repo_tags);
    return 0;
}

static int write_archive(struct save_ctx *c, mk_err **err)
{
    _cleanup_json_ json_t *manifest_json = json_array();
    _cleanup_json_ json_t *index =
        json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", MK_MEDIA_OCI_INDEX, "manifests");
    _cleanup_json_ json_t *repositories = json_object();
    if (put_header(c->a, "blobs", AE_IFDIR, 0, 0, err) < 0 ||
        put_header(c->a, "blobs/sha256", AE_IFDIR, 0, 0, err) < 0)
        return -1;
    for (size_t i = 0; i < c->n; i++)
        if (put_image(c, c->images[i], manifest_json, index, repositories, err) < 0)
            return -1;
    /* The json.Encoder that writes docker's files ends each with a newline. */
    _cleanup_free_ char *index_text = mk_json_dump(index);
    _cleanup_free_ char *manifest_text = mk_json_dump(manifest_json);
    _cleanup_free_ char *manifest_nl = xasprintf("%s\n", manifest_text);
    _cleanup_free_ char *repos_text = mk_json_dump(repositories);
    _cleanup_free_ char *repos_nl = xasprintf("%s\n", repos_text);
    if (put_file(c->a, "index.json", index_text, err) < 0 ||
        put_file(c->a, "manifest.json", manifest_nl, err) < 0 ||
        put_file(c->a, "oci-layout", "{\"imageLayoutVersion\": \"1.0.0\"}", err) < 0)
        return -1;
    if (json_object_size(repositories) > 0 && put_file(c->a, "repositories", repos_nl, err) < 0)
        return -1;
    if (archive_write_close(c->a) != ARCHIVE_OK)
        return archive_failed(c->a, err);
    return 0;
}

int mk_image_save(struct mk_store *s, char *const *names, int out_fd, mk_err **err)
{
    struct save_ctx c = {.store = s, .written = xcalloc(1, sizeof(char *))};
    int r = 0;
    for (size_t i = 0; names[i] != NULL && r == 0; i++)
        r = add_name(&c, names[i], err);
    if (r == 0) {
        c.a = archive_write_new();
        archive_write_set_format_pax_restricted(c.a);
        /* No padding to 10 KiB records, as docker's Go tar writer. */
        archive_write_set_bytes_in_last_block(c.a, 1);
        if (archive_write_open_fd(c.a, out_fd) != ARCHIVE_OK)
            r = archive_failed(c.a, err);
        else
            r = write_archive(&c, err);
        archive_write_free(c.a);
    }
    if (r == 0)
        for (size_t i = 0; i < c.n; i++)
            mk_image_event(s, "save", c.images[i]->img->id, c.images[i]->img->id);
    for (size_t i = 0; i < c.n; i++)
        saved_free(c.images[i]);
    free(c.images);
    mk_strv_free(c.written);
    return r;
}
