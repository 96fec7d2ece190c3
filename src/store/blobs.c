/* blobs.c: the content-addressed blob store under blobs/sha256/.
 *
 * A writer streams into blobs/tmp/<random>, hashing as it goes; commit checks
 * the digest, fsyncs and renames into place, so a blob that exists under its
 * name is always complete and correct.  A writer killed half-way leaves only a
 * temp file, which mk_store_gc_tmp removes later. */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

/* Writers that died left their temp file at least this long ago. */
#define BLOB_TMP_MAX_AGE_S 3600

struct mk_blob_writer {
    struct mk_store *store;
    int fd;
    char *tmp_name; /* relative to root: blobs/tmp/<random> */
    struct mk_sha256 md;
    int64_t size;
    bool committed;
};

int mk_blob_writer_new(struct mk_store *s, struct mk_blob_writer **out, mk_err **err)
{
    struct mk_blob_writer *w = xcalloc(1, sizeof(*w));
    w->store = s;
    _cleanup_free_ char *rnd = mk_random_hex(32);
    w->tmp_name = xasprintf("blobs/tmp/%s", rnd);
    w->fd = openat(s->root_fd, w->tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (w->fd < 0) {
        mk_err_sys(err, "create %s/%s", s->root, w->tmp_name);
        free(w->tmp_name);
        free(w);
        return -1;
    }
    /* held until the writer is freed: mk_store_gc_tmp leaves it alone */
    flock(w->fd, LOCK_SH);
    mk_sha256_init(&w->md);
    *out = w;
    return 0;
}

int mk_blob_writer_write(struct mk_blob_writer *w, const void *data, size_t len, mk_err **err)
{
    if (w->committed)
        return mk_err_set(err, MK_ERR_INTERNAL, "write to a committed blob");
    if (mk_write_all(w->fd, data, len) < 0)
        return mk_err_sys(err, "write %s/%s", w->store->root, w->tmp_name);
    mk_sha256_update(&w->md, data, len);
    w->size += (int64_t)len;
    return 0;
}

int64_t mk_blob_writer_size(const struct mk_blob_writer *w)
{
    return w->size;
}

char *mk_blob_writer_digest(const struct mk_blob_writer *w)
{
    struct mk_sha256 md = w->md; /* finishing a copy leaves the writer open */
    char hex[65];
    mk_sha256_hex(&md, hex);
    return xasprintf("sha256:%s", hex);
}

int mk_blob_writer_reopen(struct mk_blob_writer *w, mk_err **err)
{
    int fd = openat(w->store->root_fd, w->tmp_name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mk_err_sys(err, "open %s/%s", w->store->root, w->tmp_name);
    return fd;
}

static int fsync_dir_at(int root_fd, const char *name)
{
    int dfd = openat(root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int r = fsync(dfd);
    close(dfd);
    return r;
}

int mk_blob_writer_commit(struct mk_blob_writer *w, const char *expected, char **out_digest,
                          mk_err **err)
{
    struct mk_store *s = w->store;
    if (w->committed)
        return mk_err_set(err, MK_ERR_INTERNAL, "blob committed twice");
    if (expected != NULL && !mk_store_digest_valid(expected))
        return mk_err_set(err, MK_ERR_INVALID, "unsupported digest: %s", expected);
    char hex[65];
    mk_sha256_hex(&w->md, hex);
    _cleanup_free_ char *digest = xasprintf("sha256:%s", hex);
    if (expected != NULL && strcmp(expected, digest) != 0) {
        unlinkat(s->root_fd, w->tmp_name, 0);
        w->committed = true; /* nothing left to clean up */
        return mk_err_set(err, MK_ERR_INVALID, "digest mismatch: expected %s, got %s", expected,
                          digest);
    }
    if (fsync(w->fd) < 0)
        return mk_err_sys(err, "fsync %s/%s", s->root, w->tmp_name);
    _cleanup_free_ char *final = xasprintf("blobs/sha256/%s", hex);
    if (faccessat(s->root_fd, final, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
        /* Same content already stored (digests name content): keep the old file. */
        unlinkat(s->root_fd, w->tmp_name, 0);
    } else {
        if (renameat(s->root_fd, w->tmp_name, s->root_fd, final) < 0)
            return mk_err_sys(err, "store blob %s", digest);
        fsync_dir_at(s->root_fd, "blobs/sha256");
    }
    w->committed = true;
    if (out_digest != NULL)
        *out_digest = steal_pointer(&digest);
    return 0;
}

void mk_blob_writer_free(struct mk_blob_writer *w)
{
    if (w == NULL)
        return;
    if (!w->committed)
        unlinkat(w->store->root_fd, w->tmp_name, 0);
    if (w->fd >= 0)
        close(w->fd);
    free(w->tmp_name);
    free(w);
}

int mk_store_blob_put(struct mk_store *s, const void *data, size_t len, char **out_digest,
                      mk_err **err)
{
    struct mk_blob_writer *w = NULL;
    if (mk_blob_writer_new(s, &w, err) < 0)
        return -1;
    int r = mk_blob_writer_write(w, data, len, err);
    if (r == 0)
        r = mk_blob_writer_commit(w, NULL, out_digest, err);
    mk_blob_writer_free(w);
    return r;
}

bool mk_store_blob_exists(struct mk_store *s, const char *digest)
{
    if (!mk_store_digest_valid(digest))
        return false;
    _cleanup_free_ char *rel = xasprintf("blobs/sha256/%s", digest + 7);
    return faccessat(s->root_fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

int mk_store_blob_open(struct mk_store *s, const char *digest, mk_err **err)
{
    if (!mk_store_digest_valid(digest))
        return mk_err_set(err, MK_ERR_INVALID, "invalid digest: %s", digest);
    _cleanup_free_ char *rel = xasprintf("blobs/sha256/%s", digest + 7);
    int fd = openat(s->root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return mk_err_set(err, MK_ERR_NOT_FOUND, "blob %s not found", digest);
        return mk_err_sys(err, "open blob %s", digest);
    }
    return fd;
}

int mk_store_blob_read(struct mk_store *s, const char *digest, char **out, size_t *len,
                       mk_err **err)
{
    if (!mk_store_digest_valid(digest))
        return mk_err_set(err, MK_ERR_INVALID, "invalid digest: %s", digest);
    _cleanup_free_ char *rel = xasprintf("blobs/sha256/%s", digest + 7);
    _cleanup_free_ char *data = NULL;
    size_t n = 0;
    if (mk_read_file_at(s->root_fd, rel, &data, &n, err) < 0)
        return mk_err_wrap(err, "read blob %s", digest);
    _cleanup_free_ char *got = mk_sha256_digest(data, n);
    if (strcmp(got, digest) != 0)
        return mk_err_set(err, MK_ERR_INTERNAL, "blob %s is corrupt: its content has digest %s",
                          digest, got);
    if (len != NULL)
        *len = n;
    *out = steal_pointer(&data);
    return 0;
}

int mk_store_blob_remove(struct mk_store *s, const char *digest, mk_err **err)
{
    if (!mk_store_digest_valid(digest))
        return mk_err_set(err, MK_ERR_INVALID, "invalid digest: %s", digest);
    _cleanup_free_ char *rel = xasprintf("blobs/sha256/%s", digest + 7);
    if (unlinkat(s->root_fd, rel, 0) < 0 && errno != ENOENT)
        return mk_err_sys(err, "remove blob %s", digest);
    return 0;
}

/* Remove entries of root/sub older than cutoff whose names start with prefix. */
static int gc_old_entries(struct mk_store *s, const char *sub, const char *prefix, time_t cutoff,
                          mk_err **err)
{
    int dfd = openat(s->root_fd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return mk_err_sys(err, "open %s/%s", s->root, sub);
    _cleanup_closedir_ DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return mk_err_sys(err, "open %s/%s", s->root, sub);
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !mk_str_has_prefix(de->d_name, prefix))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* removed meanwhile */
        if (st.st_mtime > cutoff)
            continue;
        if (S_ISREG(st.st_mode)) {
            /* A live writer holds its temp blob locked (shared), however
             * long it has been idle. */
            _cleanup_close_ int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                continue;
        }
        if (mk_rm_rf_at(dirfd(d), de->d_name, err) < 0)
            return mk_err_wrap(err, "clean %s/%s", s->root, sub);
    }
    return 0;
}

int mk_store_gc_tmp(struct mk_store *s, mk_err **err)
{
    time_t cutoff = (time_t)(mk_now_ns() / 1000000000) - BLOB_TMP_MAX_AGE_S;
    if (gc_old_entries(s, "blobs/tmp", "", cutoff, err) < 0 ||
        gc_old_entries(s, "layers", "tmp-", cutoff, err) < 0)
        return -1;
    return 0;
}
