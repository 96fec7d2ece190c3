/* load.c: `docker load`: images from a docker-archive (manifest.json, as
 * every docker save writes it, and skopeo's docker-archive:) or an OCI archive
 * (index.json, possibly pointing at a nested index: skopeo's oci-archive:,
 * containerd's export).
 *
 * The archive is untrusted.  It is read once, as a stream (it may be GBs and
 * arrive on a pipe): each file goes into a blob writer's temp file, hashed on
 * the way, small ones into memory.  Nothing is written under a name the
 * archive chose, so ".." or absolute member names cannot reach the host; they
 * are refused all the same, as are links that point out of the archive.
 * Then, before anything is stored, every image is checked: each blob against
 * its digest (the OCI descriptors', a blobs/sha256/<hex> or <hex>.json file's
 * name), each layer's uncompressed content against the config's diff id, and
 * the layers that are new are unpacked into temp dirs.  Only when all of that
 * worked are the blobs committed, the layers renamed into place and the image
 * rows and tags written, in one transaction: a bad archive stores nothing and
 * moves no tag. */
#include "image/image.h"
#include "util/lazylib.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>
#include <sys/resource.h>

/* Files up to this size are kept in memory (configs, manifests, legacy json);
 * larger ones, layers, go to a temp blob.  MEM_TOTAL bounds all of them. */
#define MEM_FILE_MAX   (64 * 1024)
#define MEM_TOTAL_MAX  (64 * 1024 * 1024)
#define LOAD_MEMBERS_MAX 100000
#define JSON_MAX       (16 * 1024 * 1024)
#define LINK_HOPS_MAX  16
#define MEDIA_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MEDIA_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MEDIA_OCI_LAYER_GZIP  MK_MEDIA_OCI_LAYER "+gzip"
#define MEDIA_OCI_LAYER_ZSTD  MK_MEDIA_OCI_LAYER "+zstd"

/* ---- the archive's files ---- */

struct member {
    char *name;   /* cleaned, relative to the archive root */
    char *target; /* a link: the member it names (cleaned) */
    /* a regular file: in memory or in a temp blob */
    char *data;
    struct mk_blob_writer *w;
    char *digest;
    int64_t size;
    char *diff_id;   /* sha256 of its uncompressed content, once computed */
    bool committed;
};

struct members {
    struct member **v;
    size_t n;
    size_t mem_total;
};

static void member_free(struct member *m)
{
    if (m == NULL)
        return;
    free(m->name);
    free(m->target);
    free(m->data);
    mk_blob_writer_free(m->w);
    free(m->digest);
    free(m->diff_id);
    free(m);
}

static void members_clear(struct members *ms)
{
    for (size_t i = 0; i < ms->n; i++)
        member_free(ms->v[i]);
    free(ms->v);
}

/* A member name, relative and without "." components; NULL for an absolute
 * name or one with a ".." component: no archive docker writes has either. */
static char *clean_name(const char *name)
{
    if (name == NULL || name[0] == '/')
        return NULL;
    for (const char *p = name; *p != '\0'; p += strcspn(p, "/"), p += strspn(p, "/"))
        if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
            return NULL;
    return mk_tar_name_clean(name);
}

/* A symlink's target, relative to the archive root; NULL if it leaves it. */
static char *resolve_link(const char *member, const char *target)
{
    if (target[0] == '/')
        return NULL;
    const char *slash = strrchr(member, '/');
    _cleanup_free_ char *joined =
        slash != NULL ? xasprintf("%.*s/%s", (int)(slash - member), member, target) : xstrdup(target);
    return mk_tar_name_clean(joined);
}

static struct member *find_exact(const struct members *ms, const char *name)
{
    /* Newest first: a name given twice is the last one, as extraction would leave it. */
    for (size_t i = ms->n; i > 0; i--)
        if (strcmp(ms->v[i - 1]->name, name) == 0)
            return ms->v[i - 1];
    return NULL;
}

/* The regular file an archive path names, following links inside the archive. */
static struct member *find_file(const struct members *ms, const char *path, mk_err **err)
{
    _cleanup_free_ char *name = clean_name(path);
    if (name == NULL || *name == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "invalid archive: %s is outside of the archive", path),
               NULL;
    for (int hops = 0; hops < LINK_HOPS_MAX; hops++) {
        struct member *m = find_exact(ms, name);
        if (m == NULL)
            break;
        if (m->target == NULL)
            return m;
        free(name);
        name = xstrdup(m->target);
    }
    mk_err_set(err, MK_ERR_INVALID, "invalid archive: %s: no such file in the archive", path);
    return NULL;
}

/* The file's bytes into a temp blob (small files live in memory until needed there). */
static int member_spool(struct mk_store *s, struct member *m, mk_err **err)
{
    if (m->w != NULL)
        return 0;
    if (mk_blob_writer_new(s, &m->w, err) < 0 ||
        mk_blob_writer_write(m->w, m->data, (size_t)m->size, err) < 0)
        return -1;
    return 0;
}

/* A JSON document from the archive. */
static json_t *member_json(const struct member *m, mk_err **err)
{
    if (m->size > JSON_MAX)
        return mk_err_set(err, MK_ERR_INVALID, "invalid archive: %s is too large", m->name), NULL;
    _cleanup_free_ char *text = NULL;
    const char *p = m->data;
    if (p == NULL) {
        _cleanup_close_ int fd = mk_blob_writer_reopen(m->w, err);
        if (fd < 0)
            return NULL;
        text = xmalloc((size_t)m->size + 1);
        if (mk_read_all(fd, text, (size_t)m->size) != (ssize_t)m->size) {
            mk_err_sys(err, "read %s", m->name);
            return NULL;
        }
        p = text;
    }
    json_t *j = mk_json_parse(p, (size_t)m->size, err);
    if (j == NULL)
        mk_err_wrap(err, "invalid archive: %s", m->name);
    return j;
}

static int read_data(struct mk_store *s, struct archive *a, struct members *ms, struct member *m,
                     int64_t declared, mk_err **err)
{
    struct mk_sha256 md;
    mk_sha256_init(&md);
    bool in_memory = declared <= MEM_FILE_MAX && ms->mem_total + (size_t)declared <= MEM_TOTAL_MAX;
    mk_buf buf = {0};
    if (!in_memory && mk_blob_writer_new(s, &m->w, err) < 0)
        return -1;
    char chunk[1 << 16];
    la_ssize_t n;
    while ((n = archive_read_data(a, chunk, sizeof(chunk))) > 0) {
        mk_sha256_update(&md, chunk, (size_t)n);
        m->size += n;
        if (in_memory && m->size > MEM_FILE_MAX) {
            mk_buf_free(&buf);
            return mk_err_set(err, MK_ERR_INVALID, "invalid archive: %s is longer than its header says",
                              m->name);
        }
        if (in_memory)
            mk_buf_append(&buf, chunk, (size_t)n);
        else if (mk_blob_writer_write(m->w, chunk, (size_t)n, err) < 0)
            return -1;
    }
    if (n < 0) {
        mk_buf_free(&buf);
        return mk_err_set(err, MK_ERR_INVALID, "invalid archive: %s: %s", m->name,
                          archive_error_string(a));
    }
    if (in_memory) {
        mk_buf_append(&buf, "", 0);
        m->data = buf.data != NULL ? mk_buf_steal(&buf) : xstrdup("");
        ms->mem_total += (size_t)m->size;
    }
    char hex[65];
    mk_sha256_hex(&md, hex);
    m->digest = xasprintf("sha256:%s", hex);
    return 0;
}

/* Read the whole archive into ms. */
static int read_archive(struct mk_store *s, int fd, struct members *ms, mk_err **err)
{
    struct archive *a = archive_read_new();
    mk_archive_read_filters(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    int ret = -1;
    if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
        mk_err_set(err, MK_ERR_INVALID, "invalid archive: %s", archive_error_string(a));
        goto out;
    }
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            mk_err_set(err, MK_ERR_INVALID, "invalid archive: %s", archive_error_string(a));
            goto out;
        }
        const char *raw = archive_entry_pathname(e);
        _cleanup_free_ char *name = clean_name(raw);
        if (name == NULL) {
            mk_err_set(err, MK_ERR_INVALID, "invalid archive: member \"%s\" is outside of the archive",
                       raw != NULL ? raw : "");
            goto out;
        }
        const char *hard = archive_entry_hardlink(e);
        mode_t type = archive_entry_filetype(e);
        if (*name == '\0' || (hard == NULL && type != AE_IFREG && type != AE_IFLNK))
            continue; /* directories and the like carry nothing a loader reads */
        /* A loader reads a few files per image: this many is a bomb, and
         * each one costs memory however small it is. */
        if (ms->n >= LOAD_MEMBERS_MAX) {
            mk_err_set(err, MK_ERR_INVALID, "invalid archive: more than %d files", LOAD_MEMBERS_MAX);
            goto out;
        }
        struct member *m = xcalloc(1, sizeof(*m));
        m->name = steal_pointer(&name);
        ms->v = xrealloc(ms->v, (ms->n + 1) * sizeof(*ms->v));
        ms->v[ms->n++] = m;
        if (hard != NULL) {
            m->target = clean_name(hard);
            if (m->target == NULL) {
                mk_err_set(err, MK_ERR_INVALID, "invalid archive: hard link \"%s\" points outside of the archive (\"%s\")",
                           m->name, hard);
                goto out;
            }
        } else if (type == AE_IFLNK) {
            const char *to = archive_entry_symlink(e);
            m->target = to != NULL ? resolve_link(m->name, to) : NULL;
            if (m->target == NULL) {
                mk_err_set(err, MK_ERR_INVALID, "invalid archive: symlink \"%s\" points outside of the archive (\"%s\")",
                           m->name, to != NULL ? to : "");
                goto out;
            }
        } else if (read_data(s, a, ms, m, archive_entry_size(e), err) < 0) {
            goto out;
        }
    }
    ret = 0;
out:
    archive_read_free(a);
    return ret;
}

/* ---- what to load ---- */

struct layer_plan {
    struct member *m;
    char *diff_id;
    char *chain_id;
    json_t *descriptor; /* as the stored manifest lists it */
    char *tmp;          /* unpacked into layers/<tmp>, or NULL */
    int64_t unpacked;
};

struct image_plan {
    char *id; /* config digest */
    struct member *config;
    json_t *config_json;
    struct member *manifest; /* OCI: the archive's manifest blob, else NULL */
    json_t *manifest_json;
    struct layer_plan *layers;
    size_t n_layers;
    char **tags; /* full references */
};

struct load {
    struct mk_store *store;
    struct members files;
    struct image_plan **images;
    size_t n;
    const struct mk_load_opts *opts;
};

static void image_plan_free(struct mk_store *s, struct image_plan *p)
{
    if (p == NULL)
        return;
    free(p->id);
    json_decref(p->config_json);
    json_decref(p->manifest_json);
    for (size_t i = 0; i < p->n_layers; i++) {
        mk_layer_discard_temp(s, p->layers[i].tmp);
        free(p->layers[i].tmp);
        free(p->layers[i].diff_id);
        free(p->layers[i].chain_id);
        json_decref(p->layers[i].descriptor);
    }
    free(p->layers);
    mk_strv_free(p->tags);
    free(p);
}

/* A file whose name is a digest (blobs/sha256/<hex>, <hex>.json, <hex>.tar)
 * must have that digest. */
static int check_named_digest(const struct member *m, mk_err **err)
{
    const char *base = strrchr(m->name, '/');
    base = base != NULL ? base + 1 : m->name;
    size_t n = strspn(base, "0123456789abcdef");
    if (n != 64 || !(base[64] == '\0' || strcmp(base + 64, ".json") == 0 ||
                     strcmp(base + 64, ".tar") == 0))
        return 0;
    if (strncmp(m->digest + 7, base, 64) != 0)
        return mk_err_set(err, MK_ERR_INVALID, "invalid archive: %s has digest %s", m->name,
                          m->digest);
    return 0;
}

static int add_tag(struct image_plan *p, const char *name, mk_err **err)
{
    struct mk_ref *ref = NULL;
    if (!mk_ref_has_tag(name) || mk_ref_parse(name, &ref, NULL) < 0 || ref->digest != NULL) {
        mk_ref_free(ref);
        return mk_err_set(err, MK_ERR_INVALID, "invalid tag \"%s\"", name);
    }
    _cleanup_free_ char *full = mk_ref_string(ref);
    mk_ref_free(ref);
    if (!mk_strv_contains(p->tags, full))
        mk_strv_push(&p->tags, full);
    return 0;
}

/* The plan for the image with config file cfg, new or (same config: same
 * image) the one already planned. */
static struct image_plan *plan_image(struct load *l, struct member *cfg, bool *is_new,
                                     mk_err **err)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->images[i]->id, cfg->digest) == 0) {
            *is_new = false;
            return l->images[i];
        }
    if (check_named_digest(cfg, err) < 0)
        return NULL;
    _cleanup_json_ json_t *config = member_json(cfg, err);
    if (config == NULL)
        return NULL;
    if (!json_is_object(config))
        return mk_err_set(err, MK_ERR_INVALID, "invalid archive: %s is not an image config", cfg->name),
               NULL;
    const char *os = mk_json_str(config, "os");
    if (os != NULL && *os != '\0' && strcmp(os, "linux") != 0)
        return mk_err_set(err, MK_ERR_INVALID, "cannot load %s image on linux", os), NULL;
    _cleanup_strv_ char **chains = NULL;
    if (mk_image_chain_ids(config, &chains, err) < 0)
        return NULL;
    struct image_plan *p = xcalloc(1, sizeof(*p));
    p->id = xstrdup(cfg->digest);
    p->config = cfg;
    p->config_json = steal_pointer(&config);
    p->n_layers = mk_strv_len(chains);
    p->layers = xcalloc(p->n_layers + 1, sizeof(*p->layers));
    json_t *diff_ids = json_object_get(json_object_get(p->config_json, "rootfs"), "diff_ids");
    for (size_t i = 0; i < p->n_layers; i++) {
        p->layers[i].chain_id = xstrdup(chains[i]);
        p->layers[i].diff_id = xstrdup(json_string_value(json_array_get(diff_ids, i)));
    }
    p->tags = xcalloc(1, sizeof(char *));
    l->images = xrealloc(l->images, (l->n + 1) * sizeof(*l->images));
    l->images[l->n++] = p;
    *is_new = true;
    return p;
}

/* The media type a layer file's first bytes say it has. */
static const char *layer_media_type(struct mk_store *s, struct member *m, mk_err **err)
{
    unsigned char magic[4] = {0};
    if (m->data != NULL) {
        memcpy(magic, m->data, m->size < 4 ? (size_t)m->size : 4);
    } else {
        _cleanup_close_ int fd = mk_blob_writer_reopen(m->w, err);
        if (fd < 0 || mk_read_all(fd, magic, sizeof(magic)) < 0)
            return NULL;
    }
    if (magic[0] == 0x1f && magic[1] == 0x8b)
        return MEDIA_OCI_LAYER_GZIP;
    if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        return MEDIA_OCI_LAYER_ZSTD;
    return MK_MEDIA_OCI_LAYER;
}

/* docker-archive: manifest.json's [{"Config","RepoTags","Layers"}]. */
static int plan_docker_archive(struct load *l, struct member *mf, mk_err **err)
{
    _cleanup_json_ json_t *items = member_json(mf, err);
    if (items == NULL)
        return -1;
    if (json_is_null(items))
        return mk_err_set(err, MK_ERR_INVALID, "invalid manifest, manifest cannot be null (but can be [])");
    if (!json_is_array(items))
        return mk_err_set(err, MK_ERR_INVALID, "invalid archive: manifest.json is not a list");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const char *cfg_path = mk_json_str(it, "Config");
        json_t *layers = json_object_get(it, "Layers");
        json_t *tags = json_object_get(it, "RepoTags");
        if (cfg_path == NULL || (layers != NULL && !json_is_array(layers)) ||
            (tags != NULL && !json_is_null(tags) && !json_is_array(tags)))
            return mk_err_set(err, MK_ERR_INVALID, "invalid archive: manifest.json entry %zu is malformed", i);
        struct member *cfg = find_file(&l->files, cfg_path, err);
        if (cfg == NULL)
            return -1;
        bool is_new;
        struct image_plan *p = plan_image(l, cfg, &is_new, err);
        if (p == NULL)
            return -1;
        if (json_array_size(layers) != p->n_layers)
            return mk_err_set(err, MK_ERR_INVALID, "invalid manifest, layers length mismatch: expected %zu, got %zu",
                              json_array_size(layers), p->n_layers);
        size_t k;
        json_t *t;
        json_array_foreach(tags, k, t)
        {
            if (!json_is_string(t))
                return mk_err_set(err, MK_ERR_INVALID, "invalid archive: manifest.json: a tag is not a string");
            if (add_tag(p, json_string_value(t), err) < 0)
                return -1;
        }
        if (!is_new)
            continue;
        _cleanup_json_ json_t *descs = json_array();
        for (size_t j = 0; j < p->n_layers; j++) {
            const char *path = json_string_value(json_array_get(layers, j));
            struct member *m = path != NULL ? find_file(&l->files, path, err) : NULL;
            if (m == NULL)
                return path == NULL ? mk_err_set(err, MK_ERR_INVALID, "invalid archive: manifest.json: a layer is not a string") : -1;
            if (check_named_digest(m, err) < 0)
                return -1;
            const char *media = layer_media_type(l->store, m, err);
            if (media == NULL)
                return -1;
            p->layers[j].m = m;
            p->layers[j].descriptor = mk_image_descriptor(media, m->digest, m->size);
            json_array_append(descs, p->layers[j].descriptor);
        }
        p->manifest_json = json_pack("{s:i, s:s, s:o, s:O}", "schemaVersion", 2, "mediaType",
                                     MK_MEDIA_OCI_MANIFEST, "config",
                                     mk_image_descriptor(MK_MEDIA_OCI_CONFIG, cfg->digest, cfg->size),
                                     "layers", descs);
    }
    return 0;
}

/* The blob an OCI descriptor names, checked against its digest and size. */
static struct member *descriptor_blob(struct load *l, const json_t *desc, mk_err **err)
{
    const char *digest = mk_json_str(desc, "digest");
    if (!mk_store_digest_valid(digest))
        return mk_err_set(err, MK_ERR_INVALID, "invalid archive: unsupported digest %s",
                          digest != NULL ? digest : "(none)"),
               NULL;
    _cleanup_free_ char *path = xasprintf("blobs/sha256/%s", digest + 7);
    struct member *m = find_file(&l->files, path, err);
    if (m == NULL)
        return NULL;
    if (strcmp(m->digest, digest) != 0)
        return mk_err_set(err, MK_ERR_INVALID, "invalid archive: blob %s has digest %s", digest,
                          m->digest),
               NULL;
    json_t *size = json_object_get(desc, "size");
    if (size != NULL && json_integer_value(size) != m->size)
        return mk_err_set(err, MK_ERR_INVALID, "invalid archive: blob %s has size %lld, not %lld",
                          digest, (long long)m->size, (long long)json_integer_value(size)),
               NULL;
    return m;
}

/* The name an index entry gives its image: containerd's full name, or the OCI
 * ref name when it is a full reference (skopeo's oci-archive:x.tar:name:tag);
 * a bare tag ("latest") names no repository, so no tag. */
static const char *annotated_name(const json_t *desc)
{
    json_t *ann = json_object_get(desc, "annotations");
    const char *name = mk_json_str(ann, "io.containerd.image.name");
    if (name != NULL && *name != '\0')
        return name;
    name = mk_json_str(ann, "org.opencontainers.image.ref.name");
    if (name != NULL && (strchr(name, '/') != NULL || strchr(name, ':') != NULL))
        return name;
    return NULL;
}

static int plan_oci_manifest(struct load *l, struct member *mf, const char *name, mk_err **err)
{
    _cleanup_json_ json_t *manifest = member_json(mf, err);
    if (manifest == NULL)
        return -1;
    json_t *layers = json_object_get(manifest, "layers");
    struct member *cfg = descriptor_blob(l, json_object_get(manifest, "config"), err);
    if (cfg == NULL)
        return mk_err_wrap(err, "manifest %s: config", mf->digest);
    if (!json_is_array(layers))
        return mk_err_set(err, MK_ERR_INVALID, "invalid archive: manifest %s has no layers", mf->digest);
    bool is_new;
    struct image_plan *p = plan_image(l, cfg, &is_new, err);
    if (p == NULL)
        return -1;
    if (name != NULL && add_tag(p, name, err) < 0)
        return -1;
    if (!is_new)
        return 0;
    if (json_array_size(layers) != p->n_layers)
        return mk_err_set(err, MK_ERR_INVALID, "invalid manifest, layers length mismatch: expected %zu, got %zu",
                          json_array_size(layers), p->n_layers);
    size_t i;
    json_t *d;
    json_array_foreach(layers, i, d)
    {
        if ((p->layers[i].m = descriptor_blob(l, d, err)) == NULL)
            return mk_err_wrap(err, "manifest %s: layer %zu", mf->digest, i);
        p->layers[i].descriptor = json_deep_copy(d);
    }
    p->manifest = mf;
    p->manifest_json = json_incref(manifest);
    return 0;
}

static int plan_oci_descriptor(struct load *l, const json_t *desc, const char *name, int depth,
                               mk_err **err)
{
    if (depth > 4)
        return mk_err_set(err, MK_ERR_INVALID, "invalid archive: indexes nested too deep");
    struct member *m = descriptor_blob(l, desc, err);
    if (m == NULL)
        return -1;
    const char *media = mk_json_str(desc, "mediaType");
    if (media == NULL || (strcmp(media, MK_MEDIA_OCI_INDEX) != 0 &&
                          strcmp(media, MEDIA_DOCKER_LIST) != 0 &&
                          strcmp(media, MK_MEDIA_OCI_MANIFEST) != 0 &&
                          strcmp(media, MEDIA_DOCKER_MANIFEST) != 0)) {
        /* The blob says what it is when the descriptor does not. */
        _cleanup_json_ json_t *j = member_json(m, err);
        if (j == NULL)
            return -1;
        media = json_object_get(j, "manifests") != NULL ? MK_MEDIA_OCI_INDEX : MK_MEDIA_OCI_MANIFEST;
    }
    if (strcmp(media, MK_MEDIA_OCI_MANIFEST) == 0 || strcmp(media, MEDIA_DOCKER_MANIFEST) == 0)
        return plan_oci_manifest(l, m, name, err);
    _cleanup_json_ json_t *index = member_json(m, err);
    if (index == NULL)
        return -1;
    /* The host's image, chosen as pull chooses it. */
    struct mk_platform host;
    mk_platform_host(&host);
    size_t at;
    if (mk_platform_choose(json_object_get(index, "manifests"), &host, &at, err) < 0)
        return mk_err_wrap(err, "index %s", m->digest);
    return plan_oci_descriptor(l, json_array_get(json_object_get(index, "manifests"), at), name,
                               depth + 1, err);
}

static int plan_oci_archive(struct load *l, struct member *idx, mk_err **err)
{
    _cleanup_json_ json_t *index = member_json(idx, err);
    if (index == NULL)
        return -1;
    json_t *descs = json_object_get(index, "manifests");
    if (!json_is_array(descs))
        return mk_err_set(err, MK_ERR_INVALID, "invalid archive: index.json has no manifests");
    size_t i;
    json_t *d;
    json_array_foreach(descs, i, d)
    {
        if (plan_oci_descriptor(l, d, annotated_name(d), 0, err) < 0)
            return -1;
    }
    return 0;
}

/* ---- checking and unpacking layers ---- */

static int hash_sink(void *ctx, const void *buf, size_t n, mk_err **err)
{
    mk_sha256_update(ctx, buf, n);
    return 0;
}

/* The diff id of a layer file: its own digest when it is a plain tar. */
static int member_diff_id(struct mk_store *s, struct member *m, const char *expected, mk_err **err)
{
    if (m->diff_id != NULL)
        return 0;
    if (member_spool(s, m, err) < 0)
        return -1;
    if (strcmp(m->digest, expected) == 0) {
        m->diff_id = xstrdup(m->digest);
        return 0;
    }
    _cleanup_close_ int fd = mk_blob_writer_reopen(m->w, err);
    if (fd < 0)
        return -1;
    struct mk_sha256 md;
    mk_sha256_init(&md);
    if (mk_layer_decompress(fd, hash_sink, &md, err) < 0)
        return mk_err_wrap(err, "layer %s", m->name);
    char hex[65];
    mk_sha256_hex(&md, hex);
    m->diff_id = xasprintf("sha256:%s", hex);
    return 0;
}

/* Verify every layer and unpack the ones the store lacks (the caller holds the layer lock). */
static int prepare_layers(struct load *l, mk_err **err)
{
    _cleanup_strv_ char **unpacking = xcalloc(1, sizeof(char *));
    for (size_t i = 0; i < l->n; i++) {
        struct image_plan *p = l->images[i];
        for (size_t j = 0; j < p->n_layers; j++) {
            struct layer_plan *lp = &p->layers[j];
            if (member_diff_id(l->store, lp->m, lp->diff_id, err) < 0)
                return -1;
            if (strcmp(lp->m->diff_id, lp->diff_id) != 0)
                return mk_err_set(err, MK_ERR_INVALID, "invalid diffID for layer %zu: expected \"%s\", got \"%s\"",
                                  j, lp->diff_id, lp->m->diff_id);
            if (mk_strv_contains(unpacking, lp->chain_id) || mk_layer_present(l->store, lp->chain_id))
                continue;
            _cleanup_close_ int fd = mk_blob_writer_reopen(lp->m->w, err);
            if (fd < 0 || mk_layer_unpack_temp(l->store, fd, &lp->tmp, &lp->unpacked, err) < 0)
                return mk_err_wrap(err, "layer %s", lp->diff_id);
            mk_strv_push(&unpacking, lp->chain_id);
            if (l->opts->on_layer != NULL)
                l->opts->on_layer(l->opts->ctx, lp->diff_id, lp->m->size);
        }
    }
    return 0;
}

/* ---- storing ---- */

static int commit_member(struct mk_store *s, struct member *m, mk_err **err)
{
    if (m->committed)
        return 0;
    if (member_spool(s, m, err) < 0 || mk_blob_writer_commit(m->w, m->digest, NULL, err) < 0)
        return -1;
    m->committed = true;
    return 0;
}

/* Blobs and layers of p into the store; its size and manifest digest out. */
static int store_content(struct load *l, struct image_plan *p, int64_t *size, char **manifest_digest,
                         mk_err **err)
{
    if (commit_member(l->store, p->config, err) < 0)
        return -1;
    *size = 0;
    for (size_t j = 0; j < p->n_layers; j++) {
        struct layer_plan *lp = &p->layers[j];
        if (commit_member(l->store, lp->m, err) < 0)
            return -1;
        if (lp->tmp != NULL) {
            _cleanup_free_ char *tmp = steal_pointer(&lp->tmp);
            if (mk_layer_install(l->store, tmp, lp->chain_id, err) < 0)
                return -1;
            *size += lp->unpacked;
        } else {
            /* unpacked before (by another image here or earlier): measure it */
            _cleanup_free_ char *dir = mk_store_layer_dir(l->store, lp->chain_id);
            _cleanup_free_ char *diff = mk_path_join(dir, "diff");
            *size += mk_dir_size(diff);
        }
    }
    if (p->manifest != NULL) {
        if (commit_member(l->store, p->manifest, err) < 0)
            return -1;
        *manifest_digest = xstrdup(p->manifest->digest);
        return 0;
    }
    _cleanup_free_ char *text = mk_json_dump(p->manifest_json);
    return mk_store_blob_put(l->store, text, strlen(text), manifest_digest, err);
}

static int64_t config_created(const json_t *config)
{
    const char *created = mk_json_str(config, "created");
    int64_t ns = 0;
    _cleanup_err_ mk_err *ignored = NULL;
    if (created == NULL || mk_time_parse(created, 0, &ns, &ignored) < 0)
        return 0;
    return ns;
}

/* Rows and tags of every image, in one transaction. */
static int store_rows(struct load *l, char **manifest_digests, int64_t *sizes, char ***report,
                      mk_err **err)
{
    if (mk_store_begin(l->store, err) < 0)
        return -1;
    for (size_t i = 0; i < l->n; i++) {
        struct image_plan *p = l->images[i];
        struct mk_image *old = NULL;
        _cleanup_err_ mk_err *absent = NULL;
        /* An image that is there already keeps its row (and its parent link). */
        if (mk_store_image_get_by_id(l->store, p->id, &old, &absent) == 0) {
            mk_image_free(old);
        } else {
            struct mk_image img = {.id = p->id,
                                   .manifest_digest = manifest_digests[i],
                                   .config = p->config_json,
                                   .size = sizes[i],
                                   .created = config_created(p->config_json)};
            if (mk_store_image_put(l->store, &img, err) < 0)
                goto fail;
        }
        for (size_t t = 0; p->tags[t] != NULL; t++) {
            _cleanup_free_ char *familiar = mk_ref_familiarize(p->tags[t]);
            struct mk_image *prev = NULL;
            _cleanup_err_ mk_err *none = NULL;
            if (mk_store_image_get_by_tag(l->store, p->tags[t], &prev, &none) == 0) {
                if (strcmp(prev->id, p->id) != 0)
                    mk_strv_push_owned(report, xasprintf("The image %s already exists, renaming the old one with ID %s to empty string",
                                                         familiar, prev->id));
                mk_image_free(prev);
            }
            if (mk_store_tag_set(l->store, p->tags[t], p->id, err) < 0)
                goto fail;
            mk_strv_push_owned(report, xasprintf("Loaded image: %s", familiar));
        }
        if (p->tags[0] == NULL)
            mk_strv_push_owned(report, xasprintf("Loaded image ID: %s", p->id));
    }
    return mk_store_commit(l->store, err);
fail:
    mk_store_rollback(l->store);
    return -1;
}

static int load_locked(struct load *l, char ***report, mk_err **err)
{
    if (prepare_layers(l, err) < 0)
        return -1;
    _cleanup_strv_ char **digests = xcalloc(l->n + 1, sizeof(char *));
    _cleanup_free_ int64_t *sizes = xcalloc(l->n + 1, sizeof(int64_t));
    for (size_t i = 0; i < l->n; i++)
        if (store_content(l, l->images[i], &sizes[i], &digests[i], err) < 0)
            return -1;
    _cleanup_strv_ char **lines = xcalloc(1, sizeof(char *));
    if (store_rows(l, digests, sizes, &lines, err) < 0)
        return -1;
    for (size_t i = 0; i < l->n; i++)
        mk_image_event(l->store, "load", l->images[i]->id, l->images[i]->id);
    *report = steal_pointer(&lines);
    return 0;
}

int mk_image_load(struct mk_store *s, int in_fd, const struct mk_load_opts *opts, char ***report,
                  mk_err **err)
{
    static const struct mk_load_opts none = {0};
    struct load l = {.store = s, .opts = opts != NULL ? opts : &none};
    /* Every large member is spooled to a temp blob held open (and locked
     * against mk_store_gc_tmp) until the end: an archive of a thousand
     * layers needs more descriptors than the usual soft limit of 1024. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    int r = read_archive(s, in_fd, &l.files, err);
    if (r == 0) {
        struct member *m;
        if (find_exact(&l.files, "manifest.json") != NULL)
            r = (m = find_file(&l.files, "manifest.json", err)) != NULL
                    ? plan_docker_archive(&l, m, err)
                    : -1;
        else if (find_exact(&l.files, "index.json") != NULL)
            r = (m = find_file(&l.files, "index.json", err)) != NULL ? plan_oci_archive(&l, m, err)
                                                                     : -1;
        else
            r = mk_err_set(err, MK_ERR_INVALID,
                           "invalid archive: does not contain a manifest.json or an index.json");
    }
    if (r == 0) {
        /* Shared: an rmi collecting unused layers waits until our rows exist. */
        _cleanup_close_ int lock = mk_store_lock_layers(s, false, err);
        r = lock < 0 ? -1 : load_locked(&l, report, err);
    }
    for (size_t i = 0; i < l.n; i++)
        image_plan_free(s, l.images[i]);
    free(l.images);
    members_clear(&l.files);
    return r;
}
