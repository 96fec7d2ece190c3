/* pull.c: docker pull.  Resolve the reference to a manifest (choosing the
 * platform from an index), fetch and verify the config, then download the
 * missing layers, three at a time as docker does.  Each layer streams once:
 * into a blob writer that hashes it (the compressed digest the manifest
 * names) and into an extraction child that decompresses, hashes again (the
 * diff id the config names) and unpacks.  Nothing is used before both
 * digests match; the image row, tag and digest are written in one
 * transaction at the end, so a pull killed at any moment leaves only temp
 * files, and the next pull starts over.
 *
 * Progress goes to the caller as docker's JSON-message statuses
 * ("Pulling fs layer", "Downloading", "Pull complete"...), which the CLI
 * draws and the API will stream. */
#include "image/image.h"
#include "registry/registry.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define PARALLEL_DOWNLOADS 3
#define PROGRESS_EVERY_NS  100000000LL /* redraw a layer's bar at most 10 times a second */

struct layer_job {
    const char *digest;  /* the blob, as the manifest names it */
    const char *diff_id; /* the uncompressed tar, as the config names it */
    const char *chain_id;
    int64_t size;
    char short_id[13];
    struct mk_unpack unpack;
    char *tmp_top; /* layers/tmp-<random>, unpacked into diff/ */
    int64_t unpacked;
    /* download state */
    struct mk_blob_writer *w;
    mk_buf buf; /* received, not yet written and sent */
    int64_t got;
    int64_t last_report_ns;
    mk_err *err;
};

struct pull {
    struct mk_store *s;
    struct mk_registry *reg;
    const struct mk_pull_opts *o;
    const struct mk_ref *ref;
    pthread_mutex_t lock; /* the job queue and progress callbacks */
    struct layer_job *jobs;
    size_t njobs, next;
    bool failed;
};

static void report(struct pull *p, const char *id, const char *status, int64_t current,
                   int64_t total)
{
    if (p->o->progress == NULL)
        return;
    struct mk_progress ev = {.id = id, .status = status, .current = current, .total = total};
    pthread_mutex_lock(&p->lock);
    p->o->progress(p->o->ctx, &ev);
    pthread_mutex_unlock(&p->lock);
}

struct sink_ctx {
    struct pull *p;
    struct layer_job *j;
};

/* Hand what is buffered to the blob writer (which hashes it) and to the
 * extraction child. */
static int layer_flush(struct layer_job *j, mk_err **err)
{
    const char *b = j->buf.data;
    size_t len = j->buf.len;
    j->buf.len = 0;
    if (len == 0)
        return 0;
    if (mk_blob_writer_write(j->w, b, len, err) < 0)
        return -1;
    while (j->unpack.input >= 0 && len > 0) {
        ssize_t n = send(j->unpack.input, b, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            /* The child stopped reading: it failed (its report says why) or
             * the compressed stream ended early; finish hashing anyway. */
            close(j->unpack.input);
            j->unpack.input = -1;
            break;
        }
        b += n;
        len -= (size_t)n;
    }
    return 0;
}

/* libcurl hands over 16 kB at a time: gathered into 1 MiB before they go
 * on, a layer costs a sixtieth of the writes and sends. */
#define LAYER_CHUNK (1u << 20)

static int layer_sink(void *ctx, const void *data, size_t len, mk_err **err)
{
    struct sink_ctx *c = ctx;
    struct layer_job *j = c->j;
    j->got += (int64_t)len;
    if (j->got > j->size)
        return mk_err_set(err, MK_ERR_INVALID, "blob %s is larger than the %lld bytes its "
                          "manifest says", j->digest, (long long)j->size);
    mk_buf_append(&j->buf, data, len);
    if (j->buf.len >= LAYER_CHUNK && layer_flush(j, err) < 0)
        return -1;
    int64_t now = mk_monotonic_ns();
    if (now - j->last_report_ns >= PROGRESS_EVERY_NS) {
        j->last_report_ns = now;
        report(c->p, j->short_id, "Downloading", j->got, j->size);
    }
    return 0;
}

/* Download one layer, check both digests, install it. */
static int pull_layer(struct pull *p, struct layer_job *j, mk_err **err)
{
    struct mk_store *s = p->s;
    struct sink_ctx ctx = {p, j};
    if (mk_blob_writer_new(s, &j->w, err) < 0)
        return -1;
    int got = mk_registry_get_blob(p->reg, j->digest, 0, layer_sink, &ctx, err) < 0 ||
                      layer_flush(j, err) < 0
                  ? -1
                  : 0;
    mk_buf_free(&j->buf); /* not kept while the other layers download */
    if (got < 0)
        return -1;
    report(p, j->short_id, "Verifying Checksum", -1, 0);
    _cleanup_free_ char *diff_id = NULL;
    int r = mk_layer_unpack_finish(&j->unpack, &j->unpacked, &diff_id, err);
    /* The compressed digest first: a corrupt download is named as such. */
    mk_err *verr = NULL;
    if (j->got != j->size || mk_blob_writer_commit(j->w, j->digest, NULL, &verr) < 0) {
        mk_err_free(verr);
        return mk_err_set(err, MK_ERR_INVALID,
                          "filesystem layer verification failed for digest %s", j->digest);
    }
    if (r < 0)
        return mk_err_wrap(err, "layer %s", j->digest);
    report(p, j->short_id, "Download complete", -1, 0);
    if (strcmp(diff_id, j->diff_id) != 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "layer %s unpacks to %s, not the diff id %s its image config names",
                          j->digest, diff_id, j->diff_id);
    _cleanup_free_ char *final = mk_store_layer_dir(s, j->chain_id);
    if (rename(j->tmp_top, final) < 0) {
        if (errno != EEXIST && errno != ENOTEMPTY)
            return mk_err_sys(err, "rename %s to %s", j->tmp_top, final);
        mk_rm_rf(j->tmp_top, NULL); /* another pull got there first: same content */
    }
    free(j->tmp_top);
    j->tmp_top = NULL;
    report(p, j->short_id, "Pull complete", -1, 0);
    return 0;
}

static void *worker(void *arg)
{
    struct pull *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        struct layer_job *j = !p->failed && p->next < p->njobs ? &p->jobs[p->next++] : NULL;
        pthread_mutex_unlock(&p->lock);
        if (j == NULL)
            return NULL;
        if (pull_layer(p, j, &j->err) < 0) {
            pthread_mutex_lock(&p->lock);
            p->failed = true;
            pthread_mutex_unlock(&p->lock);
        }
    }
}

static void job_clear(struct layer_job *j)
{
    mk_layer_unpack_abort(&j->unpack);
    if (j->tmp_top != NULL) {
        mk_rm_rf(j->tmp_top, NULL);
        free(j->tmp_top);
    }
    mk_blob_writer_free(j->w);
    mk_buf_free(&j->buf);
    mk_err_free(j->err);
}

/* Make layers/tmp-<random>/diff and start its extraction child (before any
 * thread exists: the child is a fork). */
static int prepare_extract(struct mk_store *s, struct layer_job *j, mk_err **err)
{
    _cleanup_free_ char *rnd = mk_random_hex(32);
    j->tmp_top = xasprintf("%s/layers/tmp-%s", s->root, rnd);
    _cleanup_free_ char *diff = mk_path_join(j->tmp_top, "diff");
    if (mkdir(j->tmp_top, 0700) < 0 || mkdir(diff, 0755) < 0)
        return mk_err_sys(err, "mkdir %s", diff);
    return mk_layer_unpack_start(-1, diff, true, &j->unpack, err);
}

static bool layer_present(struct mk_store *s, const char *chain_id)
{
    _cleanup_free_ char *dir = mk_store_layer_dir(s, chain_id);
    _cleanup_free_ char *diff = dir != NULL ? mk_path_join(dir, "diff") : NULL;
    struct stat st;
    return diff != NULL && stat(diff, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Download every layer of the manifest not already here. */
static int pull_layers(struct pull *p, json_t *layers, char *const *diff_ids,
                       char *const *chain_ids, int64_t *unpacked, mk_err **err)
{
    size_t n = json_array_size(layers);
    p->jobs = xcalloc(n + 1, sizeof(*p->jobs));
    int ret = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *d = json_array_get(layers, i);
        struct layer_job *j = &p->jobs[p->njobs];
        memset(j, 0, sizeof(*j));
        j->unpack.pid = j->unpack.input = j->unpack.result = -1;
        j->digest = mk_json_str(d, "digest");
        j->size = mk_json_int(d, "size", -1);
        j->diff_id = diff_ids[i];
        j->chain_id = chain_ids[i];
        snprintf(j->short_id, sizeof(j->short_id), "%.12s", j->digest + 7);
        if (layer_present(p->s, j->chain_id) && mk_store_blob_exists(p->s, j->digest)) {
            _cleanup_free_ char *dir = mk_store_layer_dir(p->s, j->chain_id);
            _cleanup_free_ char *diff = mk_path_join(dir, "diff");
            *unpacked += mk_dir_size(diff);
            report(p, j->short_id, "Already exists", -1, 0);
            continue;
        }
        report(p, j->short_id, "Pulling fs layer", -1, 0);
        /* Unpacked but without its blob: unpacked again all the same, since
         * only that checks the blob against the config's diff id (the copy
         * is dropped when it is installed). */
        p->njobs++;
        if (prepare_extract(p->s, j, err) < 0) {
            ret = -1;
            goto out;
        }
    }
    pthread_t threads[PARALLEL_DOWNLOADS];
    size_t nthreads = p->njobs < PARALLEL_DOWNLOADS ? p->njobs : PARALLEL_DOWNLOADS;
    for (size_t i = nthreads; i < p->njobs; i++)
        report(p, p->jobs[i].short_id, "Waiting", -1, 0);
    size_t started = 0;
    for (; started < nthreads; started++)
        if (pthread_create(&threads[started], NULL, worker, p) != 0)
            break;
    if (started == 0 && p->njobs > 0) {
        ret = mk_err_set(err, MK_ERR_INTERNAL, "cannot start download threads");
        goto out;
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    for (size_t i = 0; i < p->njobs; i++) {
        if (p->jobs[i].err != NULL) {
            *err = p->jobs[i].err;
            p->jobs[i].err = NULL;
            ret = -1;
            goto out;
        }
        *unpacked += p->jobs[i].unpacked;
    }
out:
    for (size_t i = 0; i < p->njobs; i++)
        job_clear(&p->jobs[i]);
    return ret;
}

struct buf_sink {
    mk_buf b;
    int64_t max;
};

static int buf_sink(void *ctx, const void *data, size_t len, mk_err **err)
{
    struct buf_sink *bs = ctx;
    if ((int64_t)(bs->b.len + len) > bs->max)
        return mk_err_set(err, MK_ERR_INVALID, "blob is larger than its manifest says");
    mk_buf_append(&bs->b, data, len);
    return 0;
}

/* Fetch a small blob (the config), verified against its descriptor. */
static int fetch_small_blob(struct pull *p, const json_t *desc, char **text, size_t *len,
                            mk_err **err)
{
    const char *digest = mk_json_str(desc, "digest");
    int64_t size = mk_json_int(desc, "size", -1);
    if (!mk_store_digest_valid(digest) || size < 0 || size > (16 << 20))
        return mk_err_set(err, MK_ERR_INVALID, "manifest: invalid config descriptor");
    struct buf_sink bs = {.max = size};
    if (mk_registry_get_blob(p->reg, digest, 0, buf_sink, &bs, err) < 0) {
        mk_buf_free(&bs.b);
        return -1;
    }
    _cleanup_free_ char *got = mk_sha256_digest(bs.b.data != NULL ? bs.b.data : "", bs.b.len);
    if (strcmp(got, digest) != 0 || (int64_t)bs.b.len != size) {
        mk_buf_free(&bs.b);
        return mk_err_set(err, MK_ERR_INVALID, "config verification failed for digest %s",
                          digest);
    }
    *len = bs.b.len;
    mk_buf_append(&bs.b, "", 1);
    *text = mk_buf_steal(&bs.b);
    return 0;
}

static bool is_index(const char *mt)
{
    return strcmp(mt, MK_MT_OCI_INDEX) == 0 || strcmp(mt, MK_MT_DOCKER_LIST) == 0;
}

static bool layer_type_ok(const char *mt)
{
    static const char *const ok[] = {
        MK_MT_DOCKER_LAYER_GZ, MK_MT_OCI_LAYER, MK_MT_OCI_LAYER_GZ, MK_MT_OCI_LAYER_ZSTD,
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"};
    for (size_t i = 0; mt != NULL && i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcmp(mt, ok[i]) == 0)
            return true;
    return false;
}

/* Resolve the reference to one image manifest: through an index by the
 * wanted platform.  *top_digest gets the digest the tag named (the index's
 * for a multi-platform image): that is the image's RepoDigest, as docker. */
static int resolve_manifest(struct pull *p, const char *reference, struct mk_manifest_blob *index,
                            struct mk_manifest_blob *m, json_t **manifest, mk_err **err)
{
    if (mk_registry_get_manifest(p->reg, reference, m, err) < 0) {
        if ((*err)->kind == MK_ERR_NOT_FOUND) {
            /* docker: manifest for X not found: manifest unknown: ... */
            _cleanup_free_ char *fam = mk_ref_familiar(p->ref);
            mk_err_wrap(err, "manifest for %s not found", fam);
        }
        return -1;
    }
    *manifest = json_loadb(m->body, m->len, 0, NULL);
    if (is_index(m->media_type)) {
        struct mk_platform want;
        if (p->o->platform != NULL) {
            if (mk_platform_parse(p->o->platform, &want, err) < 0)
                return -1;
        } else {
            mk_platform_host(&want);
        }
        size_t at;
        int r = mk_platform_choose(json_object_get(*manifest, "manifests"), &want, &at, err);
        if (r < 0)
            return -1;
        _cleanup_free_ char *digest = xstrdup(
            mk_json_str(json_array_get(json_object_get(*manifest, "manifests"), at), "digest"));
        if (!mk_store_digest_valid(digest))
            return mk_err_set(err, MK_ERR_INVALID, "index: invalid manifest digest");
        *index = *m;
        memset(m, 0, sizeof(*m));
        json_decref(*manifest);
        *manifest = NULL;
        if (mk_registry_get_manifest(p->reg, digest, m, err) < 0)
            return -1;
        if (is_index(m->media_type))
            return mk_err_set(err, MK_ERR_UNSUPPORTED, "nested image indexes are not supported");
        *manifest = json_loadb(m->body, m->len, 0, NULL);
    }
    if (strcmp(m->media_type, MK_MT_OCI_MANIFEST) != 0 &&
        strcmp(m->media_type, MK_MT_DOCKER_MANIFEST) != 0)
        return mk_err_set(err, MK_ERR_UNSUPPORTED, "unsupported manifest media type %s",
                          m->media_type);
    json_t *layers = json_object_get(*manifest, "layers");
    if (!json_is_array(layers) || !json_is_object(json_object_get(*manifest, "config")))
        return mk_err_set(err, MK_ERR_INVALID, "manifest %s: no config or layers", m->digest);
    size_t i;
    json_t *d;
    json_array_foreach(layers, i, d)
    {
        if (!mk_store_digest_valid(mk_json_str(d, "digest")) || mk_json_int(d, "size", -1) < 0)
            return mk_err_set(err, MK_ERR_INVALID, "manifest %s: invalid layer descriptor",
                              m->digest);
        if (!layer_type_ok(mk_json_str(d, "mediaType")))
            return mk_err_set(err, MK_ERR_UNSUPPORTED, "layer %s has unsupported media type %s",
                              mk_json_str(d, "digest"),
                              mk_json_str(d, "mediaType") ? mk_json_str(d, "mediaType") : "(none)");
    }
    return 0;
}

/* The image rows: image, tag, digest, in one transaction. */
static int store_rows(struct mk_store *s, const struct mk_image *img, const char *tag,
                      const char *digest_ref, mk_err **err)
{
    if (mk_store_begin(s, err) < 0)
        return -1;
    if (mk_store_image_put(s, img, err) < 0 ||
        (tag != NULL && mk_store_tag_set(s, tag, img->id, err) < 0) ||
        mk_store_digest_add(s, digest_ref, img->id, err) < 0) {
        mk_store_rollback(s);
        return -1;
    }
    return mk_store_commit(s, err);
}

static int pull_manifest(struct pull *p, const struct mk_ref *ref, struct mk_manifest_blob *index,
                         struct mk_manifest_blob *m, struct mk_pull_result *out, mk_err **err)
{
    struct mk_store *s = p->s;
    const char *reference = ref->digest != NULL ? ref->digest : ref->tag;
    _cleanup_json_ json_t *manifest = NULL;
    _cleanup_free_ char *config_text = NULL;
    _cleanup_json_ json_t *config = NULL;
    _cleanup_strv_ char **chains = NULL, **diff_ids = NULL;
    _cleanup_free_ char *full = mk_ref_string(ref);
    size_t config_len = 0;
    if (resolve_manifest(p, reference, index, m, &manifest, err) < 0)
        return -1;
    /* docker says where from once the manifest is found */
    _cleanup_free_ char *from = xasprintf("Pulling from %s", ref->path);
    report(p, reference, from, -1, 0);
    const char *top_digest = index->digest != NULL ? index->digest : m->digest;
    if (ref->digest != NULL && strcmp(ref->digest, top_digest) != 0) {
        return mk_err_set(err, MK_ERR_INVALID, "manifest verification failed for digest %s",
                         ref->digest);
    }
    if (fetch_small_blob(p, json_object_get(manifest, "config"), &config_text, &config_len,
                         err) < 0)
        return -1;
    config = json_loadb(config_text, config_len, 0, NULL);
    if (!json_is_object(config)) {
        return mk_err_set(err, MK_ERR_INVALID, "image config is not a JSON object");
    }
    /* A single-platform image must be the platform asked for (an index
     * was already chosen from). */
    if (index->body == NULL && p->o->platform != NULL) {
        struct mk_platform want, have;
        if (mk_platform_parse(p->o->platform, &want, err) < 0)
            return -1;
        if (mk_platform_from_config(config, &have) && mk_platform_match(&want, &have) == 0) {
            _cleanup_free_ char *w = mk_platform_format(&want), *h = mk_platform_format(&have);
            _cleanup_free_ char *fam = mk_ref_familiar(ref);
            return mk_err_set(err, MK_ERR_NOT_FOUND,
                              "image with reference %s was found but does not match the "
                              "specified platform: wanted %s, actual: %s",
                              fam, w, h);
        }
    }
    if (mk_image_chain_ids(config, &chains, err) < 0)
        return -1;
    diff_ids = mk_json_strv(json_object_get(json_object_get(config, "rootfs"), "diff_ids"));
    json_t *layers = json_object_get(manifest, "layers");
    if (mk_strv_len(chains) != json_array_size(layers)) {
        return mk_err_set(err, MK_ERR_INVALID,
                         "image config names %zu layers, its manifest %zu", mk_strv_len(chains),
                         json_array_size(layers));
    }
    const char *id = mk_json_str(json_object_get(manifest, "config"), "digest");
    struct mk_image *prev = NULL;
    bool up_to_date = false;
    /* Up to date: the tag named this image already, or (by digest) we had it. */
    if (ref->digest == NULL ? mk_store_image_get_by_tag(s, full, &prev, NULL) == 0
                         : mk_store_image_get_by_id(s, id, &prev, NULL) == 0) {
        up_to_date = strcmp(prev->id, id) == 0;
        mk_image_free(prev);
    }
    int64_t unpacked = 0;
    if (pull_layers(p, layers, diff_ids, chains, &unpacked, err) < 0)
        return -1;
    /* Blobs last, so the rows never name one that is missing. */
    if (mk_store_blob_put(s, config_text, config_len, NULL, err) < 0 ||
        mk_store_blob_put(s, m->body, m->len, NULL, err) < 0 ||
        (index->body != NULL && mk_store_blob_put(s, index->body, index->len, NULL, err) < 0))
        return -1;
    int64_t created = 0;
    const char *c = mk_json_str(config, "created");
    if (c != NULL)
        mk_time_parse(c, 0, &created, NULL);
    _cleanup_free_ char *repo = xasprintf("%s/%s", ref->domain, ref->path);
    _cleanup_free_ char *digest_ref = xasprintf("%s@%s", repo, top_digest);
    struct mk_image img = {.id = (char *)id, .manifest_digest = m->digest, .config = config,
                           .size = unpacked, .created = created};
    /* name:tag@digest pulls the digest; the tag is not recorded (docker) */
    if (store_rows(s, &img, ref->digest == NULL ? full : NULL, digest_ref, err) < 0)
        return -1;
    _cleanup_free_ char *familiar = mk_ref_familiar(ref);
    _cleanup_json_ json_t *attrs = json_pack("{s:s}", "name", familiar);
    mk_store_event_add(s, "image", "pull", familiar, attrs, NULL);
    _cleanup_free_ char *digest_line = xasprintf("Digest: %s", top_digest);
    report(p, NULL, digest_line, -1, 0);
    _cleanup_free_ char *status =
        xasprintf("Status: %s for %s", up_to_date ? "Image is up to date" : "Downloaded newer image",
                  familiar);
    if (!p->o->no_status)
        report(p, NULL, status, -1, 0);
    out->id = xstrdup(id);
    out->reference = xstrdup(full);
    out->digest = xstrdup(top_digest);
    out->updated = !up_to_date;
    return 0;
}

static int pull_locked(struct pull *p, const struct mk_ref *ref, struct mk_pull_result *out,
                       mk_err **err)
{
    struct mk_manifest_blob index = {0}, m = {0};
    int ret = pull_manifest(p, ref, &index, &m, out, err);
    mk_manifest_blob_clear(&index);
    mk_manifest_blob_clear(&m);
    return ret;
}

void mk_pull_result_clear(struct mk_pull_result *r)
{
    free(r->id);
    free(r->reference);
    free(r->digest);
    memset(r, 0, sizeof(*r));
}

int mk_image_pull(struct mk_store *s, const struct mk_pull_opts *o, struct mk_pull_result *out,
                  mk_err **err)
{
    memset(out, 0, sizeof(*out));
    struct mk_ref *ref = NULL;
    if (mk_ref_parse(o->name, &ref, err) < 0)
        return -1;
    struct pull p = {.s = s, .o = o, .ref = ref};
    pthread_mutex_init(&p.lock, NULL);
    struct mk_registry_opts ro = {.domain = ref->domain, .repo = ref->path, .auth = o->auth};
    int ret = mk_registry_open(&ro, &p.reg, err);
    if (ret == 0) {
        /* Shared: an rmi collecting unused layers waits until our rows exist. */
        _cleanup_close_ int lock = mk_store_lock_layers(s, false, err);
        ret = lock < 0 ? -1 : pull_locked(&p, ref, out, err);
    }
    if (ret < 0 && ((*err)->kind == MK_ERR_UNAUTHORIZED || (*err)->kind == MK_ERR_FORBIDDEN)) {
        /* docker hides the registry's reason behind one sentence */
        _cleanup_free_ char *repo = mk_ref_familiar_repo(ref);
        mk_err_free(*err);
        *err = NULL;
        mk_err_set(err, MK_ERR_NOT_FOUND,
                   "pull access denied for %s, repository does not exist or may require 'docker "
                   "login': denied: requested access to the resource is denied",
                   repo);
    }
    mk_registry_free(p.reg);
    free(p.jobs);
    pthread_mutex_destroy(&p.lock);
    mk_ref_free(ref);
    return ret;
}

int mk_image_remote_tags(const char *name, char ***out, mk_err **err)
{
    struct mk_ref *ref = NULL;
    if (mk_ref_parse(name, &ref, err) < 0)
        return -1;
    struct mk_registry *reg = NULL;
    struct mk_registry_opts ro = {.domain = ref->domain, .repo = ref->path};
    int ret = mk_registry_open(&ro, &reg, err);
    if (ret == 0)
        ret = mk_registry_list_tags(reg, out, err);
    mk_registry_free(reg);
    mk_ref_free(ref);
    return ret;
}
