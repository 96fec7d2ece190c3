/* diff.c: what a container changed, read from its overlay upper dir: docker
 * diff's list (against the image's layers) and the layer tar docker commit
 * stores.
 *
 * The list follows docker's rules (its tree comparison): a changed or added
 * entry is listed, a directory is listed as changed when anything inside it
 * changed, additions and changes come before the deletions of a directory, a
 * deleted directory is one entry.  Overlay whiteouts are deletions; an opaque
 * directory deletes everything the layers had in it.  docker's order within a
 * directory is random (map order); ours is by name, parents first.
 *
 * The upper dir of a running container is walked through directory fds opened
 * with O_NOFOLLOW: the container can swap a directory for a symlink while we
 * read, and that must never lead us out of the upper dir. */
#include "image/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define OPAQUE_XATTR   "trusted.overlay.opaque"
#define WHITEOUT       ".wh."
#define OPAQUE_MARKER  ".wh..wh..opq"

enum { CHANGE_MODIFY = 0, CHANGE_ADD = 1, CHANGE_DELETE = 2 };

/* Mount points a container gets.  They come from the store's init layer
 * (mk_container_lower_dirs), as docker's come from its "-init" layer, so they
 * are in neither a diff nor a commit; an upper dir from before the init layer
 * may still hold them. */
static bool is_runtime_mountpoint(const char *path)
{
    static const char *const paths[] = {"/proc",      "/sys",          "/dev",      "/etc/hosts",
                                        "/etc/hostname", "/etc/resolv.conf", "/.dockerenv"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        if (strcmp(path, paths[i]) == 0)
            return true;
    return false;
}

static bool is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool fd_is_opaque(int fd)
{
    char v[4];
    ssize_t n = fgetxattr(fd, OPAQUE_XATTR, v, sizeof(v));
    return n == 1 && v[0] == 'y';
}

static bool path_is_opaque(const char *path)
{
    char v[4];
    ssize_t n = lgetxattr(path, OPAQUE_XATTR, v, sizeof(v));
    return n == 1 && v[0] == 'y';
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in a directory (fd not consumed), sorted. */
static int list_dir_fd(int fd, char ***out, mk_err **err)
{
    int dup = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dup < 0 ? NULL : fdopendir(dup);
    if (d == NULL) {
        if (dup >= 0)
            close(dup);
        return mk_err_sys(err, "read directory");
    }
    _cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            mk_strv_push(&names, de->d_name);
    closedir(d);
    qsort(names, mk_strv_len(names), sizeof(char *), cmp_str);
    *out = steal_pointer(&names);
    return 0;
}

static char *child_path(const char *parent, const char *name)
{
    return xasprintf("%s/%s", parent, name);
}

/* ---- the image's side: a stack of layer dirs, topmost first ---- */

/* Find name under the directory that `dirs` (the layer dirs holding it, topmost
 * first) make up.  On success *st is the visible entry and *child_dirs the
 * layer dirs holding it as a directory, ending at an opaque one. */
static bool lower_lookup(char *const *dirs, const char *name, struct stat *st, char ***child_dirs)
{
    bool found = false;
    _cleanup_strv_ char **below = xcalloc(1, sizeof(char *));
    for (size_t i = 0; dirs != NULL && dirs[i] != NULL; i++) {
        _cleanup_free_ char *p = child_path(dirs[i], name);
        struct stat s;
        if (lstat(p, &s) < 0)
            continue;
        if (is_whiteout(&s) || (found && !S_ISDIR(s.st_mode)))
            break;
        if (!found) {
            *st = s;
            found = true;
        }
        if (!S_ISDIR(s.st_mode))
            break;
        mk_strv_push(&below, p);
        if (path_is_opaque(p))
            break;
    }
    if (found && child_dirs != NULL)
        *child_dirs = steal_pointer(&below);
    return found;
}

/* The names the layers show in a directory (whiteouts hide lower entries). */
static char **lower_names(char *const *dirs)
{
    _cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
    _cleanup_strv_ char **hidden = xcalloc(1, sizeof(char *));
    for (size_t i = 0; dirs != NULL && dirs[i] != NULL; i++) {
        _cleanup_close_ int fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_strv_ char **here = NULL;
        _cleanup_err_ mk_err *ignored = NULL;
        if (fd < 0 || list_dir_fd(fd, &here, &ignored) < 0)
            continue;
        for (size_t k = 0; here[k] != NULL; k++) {
            struct stat s;
            if (fstatat(fd, here[k], &s, AT_SYMLINK_NOFOLLOW) == 0 && is_whiteout(&s))
                mk_strv_push(&hidden, here[k]);
            else if (!mk_strv_contains(hidden, here[k]) && !mk_strv_contains(names, here[k]))
                mk_strv_push(&names, here[k]);
        }
    }
    qsort(names, mk_strv_len(names), sizeof(char *), cmp_str);
    return steal_pointer(&names);
}

/* ---- docker diff ---- */

static void add_change(json_t *out, const char *path, int kind)
{
    json_array_append_new(out, json_pack("{s:s, s:i}", "Path", path, "Kind", kind));
}

/* docker's statDifferent: a directory's size and mtime say nothing. */
static bool stat_different(const struct stat *a, const struct stat *b)
{
    if (a->st_mode != b->st_mode || a->st_uid != b->st_uid || a->st_gid != b->st_gid ||
        a->st_rdev != b->st_rdev)
        return true;
    if (S_ISDIR(a->st_mode))
        return false;
    return a->st_size != b->st_size || a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
           a->st_mtim.tv_nsec != b->st_mtim.tv_nsec;
}

static void add_deletions(json_t *out, const char *path, char *const *deleted)
{
    for (size_t i = 0; deleted != NULL && deleted[i] != NULL; i++) {
        _cleanup_free_ char *p = child_path(path, deleted[i]);
        add_change(out, p, CHANGE_DELETE);
    }
}

static int diff_dir(json_t *out, int ufd, const char *path, char *const *lower, bool listed,
                    mk_err **err);

/* The walks below recurse a level per directory, and a container can nest
 * directories without limit: a tree deeper than this is refused with an error
 * rather than overflowing the stack. */
#define LAYER_MAX_DEPTH 512

static int check_depth(const char *path, mk_err **err)
{
    size_t depth = 0;
    for (const char *p = path; *p != '\0'; p++)
        depth += *p == '/';
    if (depth > LAYER_MAX_DEPTH)
        return mk_err_set(err, MK_ERR_INVALID, "%.200s...: directories nested deeper than %d levels",
                          path, LAYER_MAX_DEPTH);
    return 0;
}

/* One entry of the upper dir; *deleted collects the whiteouts that delete. */
static int diff_entry(json_t *out, int ufd, const char *path, const char *name, char *const *lower,
                      char ***deleted, mk_err **err)
{
    _cleanup_free_ char *p = child_path(path, name);
    if (is_runtime_mountpoint(p))
        return 0;
    struct stat st, old = {0};
    if (fstatat(ufd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : mk_err_sys(err, "stat %s", p);
    _cleanup_strv_ char **old_dirs = NULL;
    bool existed = lower_lookup(lower, name, &old, &old_dirs);
    if (is_whiteout(&st)) {
        if (existed)
            mk_strv_push(deleted, name);
        return 0;
    }
    bool listed = false;
    if (!existed || stat_different(&old, &st)) {
        add_change(out, p, existed ? CHANGE_MODIFY : CHANGE_ADD);
        listed = true;
    }
    if (S_ISDIR(st.st_mode)) {
        _cleanup_close_ int cfd =
            openat(ufd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0)
            return errno == ENOENT ? 0 : mk_err_sys(err, "open %s", p);
        return diff_dir(out, cfd, p, old_dirs, listed, err);
    }
    if (existed && S_ISDIR(old.st_mode)) {
        /* A directory replaced by a file: its old content is gone. */
        _cleanup_strv_ char **gone = lower_names(old_dirs);
        add_deletions(out, p, gone);
    }
    return 0;
}

/* The changes under one directory of the upper dir; lower holds its old
 * version (empty when it is new).  listed: the directory itself is listed. */
static int diff_dir(json_t *out, int ufd, const char *path, char *const *lower, bool listed,
                    mk_err **err)
{
    if (check_depth(path, err) < 0)
        return -1;
    size_t mark = json_array_size(out);
    _cleanup_strv_ char **names = NULL;
    if (list_dir_fd(ufd, &names, err) < 0)
        return mk_err_wrap(err, "%s", *path ? path : "/");
    _cleanup_strv_ char **deleted = xcalloc(1, sizeof(char *));
    for (size_t i = 0; names[i] != NULL; i++)
        if (diff_entry(out, ufd, path, names[i], lower, &deleted, err) < 0)
            return -1;
    if (fd_is_opaque(ufd)) {
        /* Everything the layers had here and the upper dir does not. */
        mk_strv_free(deleted);
        deleted = xcalloc(1, sizeof(char *));
        _cleanup_strv_ char **old = lower_names(lower);
        for (size_t i = 0; old[i] != NULL; i++) {
            _cleanup_free_ char *p = child_path(path, old[i]);
            struct stat st;
            if (!is_runtime_mountpoint(p) &&
                (fstatat(ufd, old[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || is_whiteout(&st)))
                mk_strv_push(&deleted, old[i]);
        }
    }
    add_deletions(out, path, deleted);
    if (json_array_size(out) > mark && !listed && *path != '\0') {
        /* Something inside changed: docker lists the directory first. */
        json_array_insert_new(out, mark, json_pack("{s:s, s:i}", "Path", path, "Kind",
                                                   CHANGE_MODIFY));
    }
    return 0;
}

int mk_layer_changes(const char *upper, char *const *lower_dirs, json_t **out, mk_err **err)
{
    _cleanup_close_ int fd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return mk_err_sys(err, "open %s", upper);
    json_t *changes = json_array();
    if (diff_dir(changes, fd, "", lower_dirs, true, err) < 0) {
        json_decref(changes);
        return -1;
    }
    *out = changes;
    return 0;
}

/* ---- docker commit's layer tar ---- */

struct hardlink {
    dev_t dev;
    ino_t ino;
    char *name;
};

struct tar_ctx {
    struct archive *a;
    const json_t *changes; /* mk_layer_changes' list */
    struct mk_blob_writer *w;
    mk_err *write_err; /* from the blob writer, behind libarchive's back */
    struct hardlink *links;
    size_t nlinks;
};

static la_ssize_t tar_write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
    struct tar_ctx *t = data;
    /* The error is kept for archive_fail: libarchive only sees the -1. */
    if (mk_blob_writer_write(t->w, buf, len, &t->write_err) < 0)
        return -1;
    return (la_ssize_t)len;
}

static int archive_fail(struct tar_ctx *t, const char *what, mk_err **err)
{
    if (t->write_err != NULL) {
        *err = steal_pointer(&t->write_err);
        return mk_err_wrap(err, "%s", what);
    }
    return mk_err_set(err, MK_ERR_INTERNAL, "%s: %s", what, archive_error_string(t->a));
}

/* The first name a (dev, ino) was written under, or NULL (and remember name). */
static const char *hardlink_target(struct tar_ctx *t, const struct stat *st, const char *name)
{
    for (size_t i = 0; i < t->nlinks; i++)
        if (t->links[i].dev == st->st_dev && t->links[i].ino == st->st_ino)
            return t->links[i].name;
    t->links = xrealloc(t->links, (t->nlinks + 1) * sizeof(*t->links));
    t->links[t->nlinks++] = (struct hardlink){st->st_dev, st->st_ino, xstrdup(name)};
    return NULL;
}

/* Extended attributes of name in dirfd, except overlayfs' own. */
static void add_xattrs(struct archive_entry *e, int dirfd, const char *name)
{
    /* The l* calls through /proc/self/fd do not follow name if it is a symlink.
     * Sizes are asked first: names and values have no fixed bound (a value
     * that changes size between the two calls is skipped). */
    _cleanup_free_ char *p = xasprintf("/proc/self/fd/%d/%s", dirfd, name);
    ssize_t n = llistxattr(p, NULL, 0);
    if (n <= 0)
        return;
    _cleanup_free_ char *list = xmalloc((size_t)n);
    n = llistxattr(p, list, (size_t)n);
    for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(list + off) + 1) {
        const char *key = list + off;
        if (strncmp(key, "trusted.overlay.", 16) == 0)
            continue;
        ssize_t vn = lgetxattr(p, key, NULL, 0);
        if (vn < 0)
            continue;
        _cleanup_free_ char *value = xmalloc(vn > 0 ? (size_t)vn : 1);
        vn = lgetxattr(p, key, value, (size_t)vn);
        if (vn >= 0)
            archive_entry_xattr_add_entry(e, key, value, (size_t)vn);
    }
}

static struct archive_entry *entry_from_stat(const char *name, const struct stat *st)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, st->st_mode & S_IFMT);
    archive_entry_set_perm(e, st->st_mode & 07777);
    archive_entry_set_uid(e, st->st_uid);
    archive_entry_set_gid(e, st->st_gid);
    /* docker writes whole seconds */
    archive_entry_set_mtime(e, st->st_mtim.tv_sec, 0);
    if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
        archive_entry_set_rdev(e, st->st_rdev);
    return e;
}

/* An empty regular file (whiteouts, opaque markers) owned as st. */
static int write_marker(struct tar_ctx *t, const char *name, const struct stat *st, mode_t perm,
                        time_t mtime, mk_err **err)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, perm);
    archive_entry_set_uid(e, st->st_uid);
    archive_entry_set_gid(e, st->st_gid);
    archive_entry_set_mtime(e, mtime, 0);
    archive_entry_set_size(e, 0);
    int r = archive_write_header(t->a, e);
    archive_entry_free(e);
    return r < ARCHIVE_WARN ? archive_fail(t, name, err) : 0;
}

/* File content, as much as the header promised (st, the lstat it was made
 * from): a file that a running container grows or shrinks meanwhile is cut or
 * zero-padded by libarchive, and one swapped for a device or FIFO is refused
 * unopened (mk_open_regular_at). */
static int write_content(struct tar_ctx *t, int dirfd, const char *name, const char *tar_name,
                         const struct stat *st, mk_err **err)
{
    _cleanup_close_ int fd = mk_open_regular_at(dirfd, name, st, err);
    if (fd < 0)
        return mk_err_wrap(err, "%s", tar_name);
    char buf[1 << 16];
    off_t left = st->st_size;
    while (left > 0) {
        ssize_t n = read(fd, buf, (size_t)left < sizeof(buf) ? (size_t)left : sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mk_err_sys(err, "read %s", tar_name);
        if (n == 0)
            break;
        if (archive_write_data(t->a, buf, (size_t)n) < 0)
            return archive_fail(t, tar_name, err);
        left -= n;
    }
    return 0;
}

static int tar_dir(struct tar_ctx *t, int ufd, const char *rel, mk_err **err);

static bool is_listed(const json_t *changes, const char *path)
{
    size_t i;
    json_t *c;
    json_array_foreach(changes, i, c)
    {
        if (strcmp(mk_json_str(c, "Path"), path) == 0)
            return true;
    }
    return false;
}

/* A directory the runtime made only to hold its mount points (/etc for
 * /etc/hosts in an image without one): docker has it in the init layer. */
static bool only_mountpoints(struct tar_ctx *t, int fd, const char *abs)
{
    _cleanup_strv_ char **names = NULL;
    _cleanup_err_ mk_err *ignored = NULL;
    if (list_dir_fd(fd, &names, &ignored) < 0 || names[0] == NULL || is_listed(t->changes, abs))
        return false;
    for (size_t i = 0; names[i] != NULL; i++) {
        _cleanup_free_ char *p = child_path(abs, names[i]);
        if (!is_runtime_mountpoint(p))
            return false;
    }
    return true;
}

static int tar_entry(struct tar_ctx *t, int ufd, const char *rel, const char *name, mk_err **err)
{
    _cleanup_free_ char *tar_name = xasprintf("%s%s", rel, name);
    _cleanup_free_ char *abs = xasprintf("/%s", tar_name);
    if (is_runtime_mountpoint(abs))
        return 0;
    struct stat st;
    if (fstatat(ufd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : mk_err_sys(err, "stat %s", tar_name);
    if (is_whiteout(&st)) {
        _cleanup_free_ char *wh = xasprintf("%s" WHITEOUT "%s", rel, name);
        return write_marker(t, wh, &st, 0600, st.st_mtim.tv_sec, err);
    }
    _cleanup_close_ int cfd = -1;
    if (S_ISDIR(st.st_mode)) {
        cfd = openat(ufd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0)
            return mk_err_sys(err, "open %s", tar_name);
        if (only_mountpoints(t, cfd, abs))
            return 0;
    }
    _cleanup_free_ char *full = S_ISDIR(st.st_mode) ? xasprintf("%s/", tar_name) : xstrdup(tar_name);
    struct archive_entry *e = entry_from_stat(full, &st);
    const char *link = NULL;
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1)
        link = hardlink_target(t, &st, full);
    if (link != NULL) {
        archive_entry_set_hardlink(e, link);
    } else if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(ufd, name, target, sizeof(target) - 1);
        if (n < 0) {
            archive_entry_free(e);
            return mk_err_sys(err, "readlink %s", tar_name);
        }
        target[n] = '\0';
        archive_entry_set_symlink(e, target);
    } else if (S_ISREG(st.st_mode)) {
        archive_entry_set_size(e, st.st_size);
    }
    add_xattrs(e, ufd, name);
    int r = archive_write_header(t->a, e);
    archive_entry_free(e);
    if (r < ARCHIVE_WARN)
        return archive_fail(t, tar_name, err);
    if (link == NULL && S_ISREG(st.st_mode) && st.st_size > 0 &&
        write_content(t, ufd, name, tar_name, &st, err) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode))
        return 0;
    if (fd_is_opaque(cfd)) {
        _cleanup_free_ char *marker = xasprintf("%s" OPAQUE_MARKER, full);
        /* docker gives the opaque marker no time */
        if (write_marker(t, marker, &st, st.st_mode & 0777, 0, err) < 0)
            return -1;
    }
    return tar_dir(t, cfd, full, err);
}

static int tar_dir(struct tar_ctx *t, int ufd, const char *rel, mk_err **err)
{
    if (check_depth(rel, err) < 0)
        return -1;
    _cleanup_strv_ char **names = NULL;
    if (list_dir_fd(ufd, &names, err) < 0)
        return mk_err_wrap(err, "/%s", rel);
    for (size_t i = 0; names[i] != NULL; i++)
        if (tar_entry(t, ufd, rel, names[i], err) < 0)
            return -1;
    return 0;
}

int mk_layer_tar_upper(const char *upper, const json_t *changes, struct mk_blob_writer *w,
                       mk_err **err)
{
    _cleanup_close_ int fd = open(upper, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return mk_err_sys(err, "open %s", upper);
    struct tar_ctx t = {.a = archive_write_new(), .changes = changes, .w = w};
    archive_write_set_format_pax_restricted(t.a);
    /* Two zero blocks at the end and no padding to 10 KiB, as docker's layers. */
    archive_write_set_bytes_in_last_block(t.a, 1);
    int r = -1;
    if (archive_write_open(t.a, &t, NULL, tar_write_cb, NULL) != ARCHIVE_OK) {
        archive_fail(&t, "open layer tar", err);
        goto out;
    }
    if (tar_dir(&t, fd, "", err) < 0)
        goto out;
    if (archive_write_close(t.a) != ARCHIVE_OK) {
        archive_fail(&t, "close layer tar", err);
        goto out;
    }
    r = 0;
out:
    archive_write_free(t.a);
    mk_err_free(t.write_err);
    for (size_t i = 0; i < t.nlinks; i++)
        free(t.links[i].name);
    free(t.links);
    return r;
}
