/* tarfs.c: tar streams of a tree and back, relative to a root fd (tarfs.h says
 * why).  The walk opens every child by one component with O_NOFOLLOW under its
 * parent's fd, so a tree that changes while it is read (a running container)
 * can make the copy fail but never make it leave the tree. */
#include "util/tarfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

void mk_path_stat_clear(struct mk_path_stat *s)
{
    free(s->name);
    free(s->link_target);
    memset(s, 0, sizeof(*s));
}

/* Go's filepath.Clean: no "//", no "." components, ".." folded where it can be. */
static char *path_clean(const char *path)
{
    bool rooted = path[0] == '/';
    _cleanup_strv_ char **parts = NULL;
    _cleanup_free_ char *copy = xstrdup(path);
    char *save = NULL;
    for (char *p = strtok_r(copy, "/", &save); p != NULL; p = strtok_r(NULL, "/", &save)) {
        size_t n = mk_strv_len(parts);
        if (strcmp(p, ".") == 0)
            continue;
        if (strcmp(p, "..") == 0 && n > 0 && strcmp(parts[n - 1], "..") != 0) {
            free(parts[n - 1]);
            parts[n - 1] = NULL;
            continue;
        }
        if (strcmp(p, "..") == 0 && rooted)
            continue;
        mk_strv_push(&parts, p);
    }
    _cleanup_free_ char *joined = parts != NULL ? mk_strv_join(parts, "/") : xstrdup("");
    if (rooted)
        return xasprintf("/%s", joined);
    return *joined == '\0' ? xstrdup(".") : steal_pointer(&joined);
}

bool mk_path_specifies_current_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    return strcmp(slash != NULL ? slash + 1 : path, ".") == 0;
}

void mk_path_split_entry(const char *path, char **dir, char **base)
{
    _cleanup_free_ char *clean = path_clean(path);
    if (mk_path_specifies_current_dir(path)) {
        *dir = steal_pointer(&clean);
        *base = xstrdup(".");
        return;
    }
    char *slash = strrchr(clean, '/');
    if (slash == NULL) {
        *dir = xstrdup(".");
        *base = steal_pointer(&clean);
    } else if (slash[1] == '\0') { /* "/" itself */
        *dir = xstrdup("/");
        *base = xstrdup(".");
    } else {
        *base = xstrdup(slash + 1);
        *dir = slash == clean ? xstrdup("/") : xstrndup(clean, (size_t)(slash - clean));
    }
}

/* The parent of path opened in root, and the last component. */
static int open_parent(int root_fd, const char *path, char **base, mk_err **err)
{
    _cleanup_free_ char *dir = NULL;
    mk_path_split_entry(path, &dir, base);
    int fd = mk_open_in_root(root_fd, dir, O_PATH | O_DIRECTORY, 0);
    if (fd < 0) {
        mk_err_sys(err, "open %s", dir);
        free(steal_pointer(base));
    }
    return fd;
}

/* "link/" names what link points at, as docker resolves such a path: a
 * directory fd on it (followed inside the root), or -1 when path does not end
 * in "/" or does not lead to a directory. */
static int open_followed_dir(int root_fd, const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || path[n - 1] != '/')
        return -1;
    return mk_open_in_root(root_fd, path, O_PATH | O_DIRECTORY, 0);
}

int mk_tar_stat(int root_fd, const char *path, struct mk_path_stat *out, mk_err **err)
{
    _cleanup_free_ char *base = NULL;
    _cleanup_close_ int pfd = open_parent(root_fd, path, &base, err);
    if (pfd < 0)
        return -1;
    struct mk_path_stat s = {0};
    if (fstatat(pfd, base, &s.st, AT_SYMLINK_NOFOLLOW) < 0)
        return mk_err_sys(err, "lstat %s", path);
    _cleanup_close_ int followed = S_ISLNK(s.st.st_mode) ? open_followed_dir(root_fd, path) : -1;
    if (followed >= 0 && fstat(followed, &s.st) < 0)
        return mk_err_sys(err, "stat %s", path);
    if (S_ISLNK(s.st.st_mode)) {
        char target[4096];
        ssize_t n = readlinkat(pfd, base, target, sizeof(target) - 1);
        if (n < 0)
            return mk_err_sys(err, "readlink %s", path);
        target[n] = '\0';
        s.link_target = xstrdup(target);
    }
    s.name = steal_pointer(&base);
    *out = s;
    return 0;
}

/* ---- writing ---- */

struct hardlink {
    dev_t dev;
    ino_t ino;
    char *name;
};

struct tar_writer {
    struct archive *a;
    struct hardlink *links;
    size_t n_links;
    char buf[65536];
};

static int archive_fail(struct archive *a, mk_err **err, const char *what, const char *name)
{
    const char *msg = archive_error_string(a);
    /* errno kept: a writer whose reader went away sees EPIPE, which callers
     * tell apart from a real failure. */
    if (archive_errno(a) > 0)
        return mk_err_errno(err, archive_errno(a), "%s %s", what, name);
    return mk_err_set(err, MK_ERR_INTERNAL, "%s %s: %s", what, name, msg ? msg : "tar error");
}

/* A second name of an inode already written, or NULL (then it is recorded). */
static const char *hardlink_seen(struct tar_writer *w, const struct stat *st, const char *name)
{
    for (size_t i = 0; i < w->n_links; i++)
        if (w->links[i].dev == st->st_dev && w->links[i].ino == st->st_ino)
            return w->links[i].name;
    w->links = xrealloc(w->links, (w->n_links + 1) * sizeof(*w->links));
    w->links[w->n_links++] = (struct hardlink){st->st_dev, st->st_ino, xstrdup(name)};
    return NULL;
}

static int write_file_data(struct tar_writer *w, int dirfd, const char *name,
                           const struct stat *st, mk_err **err)
{
    off_t size = st->st_size;
    _cleanup_close_ int fd = mk_open_regular_at(dirfd, name, st, err);
    if (fd < 0)
        return -1;
    /* The header promised size bytes: a file that shrank is padded by libarchive. */
    while (size > 0) {
        ssize_t n = read(fd, w->buf, (size_t)size < sizeof(w->buf) ? (size_t)size : sizeof(w->buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mk_err_sys(err, "read %s", name);
        if (n == 0)
            break;
        if (archive_write_data(w->a, w->buf, (size_t)n) < 0)
            return archive_fail(w->a, err, "write", name);
        size -= n;
    }
    return 0;
}

static int write_tree(struct tar_writer *w, int dirfd, const char *name, const char *tarname,
                      bool must_exist, mk_err **err);

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dirfd/name, sorted (docker walks in lexical order); *out_fd is the
 * directory opened. */
static char **sorted_children(int dirfd, const char *name, int *out_fd, mk_err **err)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        mk_err_sys(err, "open %s", name);
        return NULL;
    }
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    _cleanup_closedir_ DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (d == NULL) {
        mk_err_sys(err, "read directory %s", name);
        close(fd);
        if (dup_fd >= 0)
            close(dup_fd);
        return NULL;
    }
    char **names = xcalloc(1, sizeof(char *));
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            mk_strv_push(&names, de->d_name);
    qsort(names, mk_strv_len(names), sizeof(char *), cmp_names);
    *out_fd = fd;
    return names;
}

static void entry_fill(struct archive_entry *e, const struct stat *st, const char *tarname)
{
    archive_entry_set_pathname(e, tarname);
    archive_entry_set_filetype(e, st->st_mode & S_IFMT);
    archive_entry_set_perm(e, st->st_mode & 07777);
    archive_entry_set_uid(e, st->st_uid);
    archive_entry_set_gid(e, st->st_gid);
    archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
    if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
        archive_entry_set_rdev(e, st->st_rdev);
    if (S_ISREG(st->st_mode))
        archive_entry_set_size(e, st->st_size);
}

/* The header of one entry (and its data for a regular file). */
static int write_entry(struct tar_writer *w, int dirfd, const char *name, const char *tarname,
                       const struct stat *st, mk_err **err)
{
    struct archive_entry *e = archive_entry_new();
    int ret = -1;
    entry_fill(e, st, tarname);
    if (S_ISDIR(st->st_mode)) {
        _cleanup_free_ char *slashed = xasprintf("%s/", tarname);
        archive_entry_set_pathname(e, slashed);
    } else if (S_ISLNK(st->st_mode)) {
        char target[4096];
        ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
        if (n < 0) {
            mk_err_sys(err, "readlink %s", tarname);
            goto out;
        }
        target[n] = '\0';
        archive_entry_set_symlink(e, target);
    } else if (S_ISREG(st->st_mode) && st->st_nlink > 1) {
        const char *first = hardlink_seen(w, st, tarname);
        if (first != NULL) {
            archive_entry_set_size(e, 0);
            archive_entry_set_hardlink(e, first);
        }
    }
    if (archive_write_header(w->a, e) < ARCHIVE_WARN) {
        archive_fail(w->a, err, "write", tarname);
        goto out;
    }
    if (S_ISREG(st->st_mode) && archive_entry_hardlink(e) == NULL &&
        write_file_data(w, dirfd, name, st, err) < 0)
        goto out;
    ret = 0;
out:
    archive_entry_free(e);
    return ret;
}

/* A running container's /proc, /sys and the like are the kernel's, not its
 * files: docker's cp and export see them as empty directories (the daemon
 * reads the rootfs, where nothing is mounted on them), and walking procfs
 * fails anyway (links to processes that come and go).  tmpfs mounts (the
 * runtime's /dev, /dev/shm, --tmpfs) are not in docker's view either. */
static bool on_kernel_fs(int dirfd, const char *name)
{
    static const long kernel_fs[] = {
        0x9fa0,     /* proc */
        0x62656572, /* sysfs */
        0x27e0eb,   /* cgroup */
        0x63677270, /* cgroup2 */
        0x1cd1,     /* devpts */
        0x19800202, /* mqueue */
        0x01021994, /* tmpfs */
    };
    _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC);
    struct statfs sf;
    if (fd < 0 || fstatfs(fd, &sf) < 0)
        return false;
    for (size_t i = 0; i < sizeof(kernel_fs) / sizeof(kernel_fs[0]); i++)
        if ((long)sf.f_type == kernel_fs[i])
            return true;
    return false;
}

/* must_exist: the path asked for, not a child found by listing a directory. */
static int write_tree(struct tar_writer *w, int dirfd, const char *name, const char *tarname,
                      bool must_exist, mk_err **err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        /* Gone since the directory was listed: docker skips it, and so do we. */
        if (errno == ENOENT && !must_exist)
            return 0;
        return mk_err_sys(err, "lstat %s", tarname);
    }
    /* Sockets cannot be archived; docker skips them too. */
    if (S_ISSOCK(st.st_mode))
        return 0;
    if (write_entry(w, dirfd, name, tarname, &st, err) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode) || on_kernel_fs(dirfd, name))
        return 0;
    _cleanup_close_ int fd = -1;
    _cleanup_strv_ char **names = sorted_children(dirfd, name, &fd, err);
    if (names == NULL)
        return -1;
    for (size_t i = 0; names[i] != NULL; i++) {
        _cleanup_free_ char *child = xasprintf("%s/%s", tarname, names[i]);
        if (write_tree(w, fd, names[i], child, false, err) < 0)
            return -1;
    }
    return 0;
}

static struct tar_writer *writer_open(int out_fd, mk_err **err)
{
    struct tar_writer *w = xcalloc(1, sizeof(*w));
    w->a = archive_write_new();
    archive_write_set_format_pax_restricted(w->a);
    /* No padding to 10 KiB records: the stream is docker's size, to the byte. */
    archive_write_set_bytes_in_last_block(w->a, 1);
    if (archive_write_open_fd(w->a, out_fd) != ARCHIVE_OK) {
        archive_fail(w->a, err, "write", "archive");
        archive_write_free(w->a);
        free(w);
        return NULL;
    }
    return w;
}

/* Finish the stream when ok, free w either way. */
static int writer_close(struct tar_writer *w, int ok, mk_err **err)
{
    if (ok == 0 && archive_write_close(w->a) != ARCHIVE_OK)
        ok = archive_fail(w->a, err, "write", "archive");
    archive_write_free(w->a);
    for (size_t i = 0; i < w->n_links; i++)
        free(w->links[i].name);
    free(w->links);
    free(w);
    return ok;
}

int mk_tar_write_path(int root_fd, const char *path, const char *rebase, int out_fd, mk_err **err)
{
    _cleanup_free_ char *base = NULL;
    _cleanup_close_ int pfd = open_parent(root_fd, path, &base, err);
    if (pfd < 0)
        return -1;
    struct stat st;
    _cleanup_close_ int followed = fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                                           S_ISLNK(st.st_mode)
                                       ? open_followed_dir(root_fd, path)
                                       : -1;
    struct tar_writer *w = writer_open(out_fd, err);
    if (w == NULL)
        return -1;
    /* "link/": the directory it points at, named after the link. */
    return writer_close(w,
                        write_tree(w, followed >= 0 ? followed : pfd, followed >= 0 ? "." : base,
                                   rebase ? rebase : base, true, err),
                        err);
}

int mk_tar_write_root(int root_fd, int out_fd, mk_err **err)
{
    _cleanup_close_ int fd = -1;
    _cleanup_strv_ char **names = sorted_children(root_fd, ".", &fd, err);
    if (names == NULL)
        return -1;
    struct tar_writer *w = writer_open(out_fd, err);
    if (w == NULL)
        return -1;
    int ok = 0;
    for (size_t i = 0; ok == 0 && names[i] != NULL; i++)
        ok = write_tree(w, fd, names[i], names[i], false, err);
    return writer_close(w, ok, err);
}

/* ---- extracting ---- */

struct dir_time {
    char *path;
    struct timespec mtime;
};

struct tar_reader {
    struct archive *a;
    int root_fd;
    const char *dir;
    const struct mk_tar_extract_opts *o;
    struct dir_time *dirs;
    size_t n_dirs;
    char buf[65536];
};

/* The entry's name under r->dir, or NULL (error set) when it
 * would leave the destination, as docker's breakout check refuses. */
static char *entry_target(struct tar_reader *r, const char *raw, mk_err **err)
{
    while (*raw == '/')
        raw++;
    _cleanup_free_ char *clean = path_clean(raw);
    if (strcmp(clean, "..") == 0 || mk_str_has_prefix(clean, "../")) {
        mk_err_set(err, MK_ERR_INVALID, "\"%s\" is outside of \"%s\"", raw, r->dir);
        return NULL;
    }
    if (strcmp(clean, ".") == 0)
        return xstrdup(r->dir);
    return xasprintf("%s/%s", r->dir, clean);
}

/* Open the parent of path, creating missing directories (0755) as docker does. */
static int open_parent_create(int root_fd, const char *path, char **base, mk_err **err)
{
    _cleanup_free_ char *dir = NULL;
    mk_path_split_entry(path, &dir, base);
    int fd = mk_open_in_root(root_fd, dir, O_PATH | O_DIRECTORY, 0);
    if (fd >= 0 || errno != ENOENT) {
        if (fd < 0) {
            mk_err_sys(err, "open %s", dir);
            free(steal_pointer(base));
        }
        return fd;
    }
    _cleanup_free_ char *pbase = NULL;
    _cleanup_close_ int pfd = open_parent_create(root_fd, dir, &pbase, err);
    if (pfd < 0 || (mkdirat(pfd, pbase, 0755) < 0 && errno != EEXIST)) {
        if (pfd >= 0)
            mk_err_sys(err, "mkdir %s", dir);
        free(steal_pointer(base));
        return -1;
    }
    fd = mk_open_in_root(root_fd, dir, O_PATH | O_DIRECTORY, 0);
    if (fd < 0) {
        mk_err_sys(err, "open %s", dir);
        free(steal_pointer(base));
    }
    return fd;
}

/* docker's rule for an existing name: merge directories, replace anything else. */
static int clear_existing(struct tar_reader *r, int pfd, const char *base, const char *path,
                          bool is_dir, mk_err **err)
{
    struct stat st;
    if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : mk_err_sys(err, "lstat %s", path);
    bool exists_dir = S_ISDIR(st.st_mode);
    if (r->o->no_overwrite_dir_non_dir && exists_dir && !is_dir)
        return mk_err_set(err, MK_ERR_INVALID,
                          "cannot overwrite directory \"%s\" with non-directory \"%s\"", path,
                          r->dir);
    if (r->o->no_overwrite_dir_non_dir && !exists_dir && is_dir)
        return mk_err_set(err, MK_ERR_INVALID,
                          "cannot overwrite non-directory \"%s\" with directory \"%s\"", path,
                          r->dir);
    if (exists_dir && is_dir)
        return 0;
    return mk_rm_rf_at(pfd, base, err);
}

static int extract_data(struct tar_reader *r, int pfd, const char *base, const char *path,
                        mk_err **err)
{
    _cleanup_close_ int fd =
        openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return mk_err_sys(err, "create %s", path);
    for (;;) {
        la_ssize_t n = archive_read_data(r->a, r->buf, sizeof(r->buf));
        if (n < 0)
            return archive_fail(r->a, err, "read", path);
        if (n == 0)
            return 0;
        if (mk_write_all(fd, r->buf, (size_t)n) < 0)
            return mk_err_sys(err, "write %s", path);
    }
}

static int extract_hardlink(struct tar_reader *r, int pfd, const char *base, const char *path,
                            const char *link, mk_err **err)
{
    _cleanup_free_ char *target = entry_target(r, link, err);
    if (target == NULL)
        return -1;
    _cleanup_free_ char *tbase = NULL;
    _cleanup_close_ int tfd = open_parent(r->root_fd, target, &tbase, err);
    if (tfd < 0)
        return -1;
    /* linkat without AT_SYMLINK_FOLLOW links a symlink itself, never its target. */
    if (linkat(tfd, tbase, pfd, base, 0) < 0)
        return mk_err_sys(err, "link %s to %s", path, link);
    return 0;
}

/* Ownership, mode and times, all without following a symlink at base. */
static int apply_metadata(struct tar_reader *r, int pfd, const char *base, const char *path,
                          struct archive_entry *e, mk_err **err)
{
    mode_t type = archive_entry_filetype(e);
    if (r->o->chown || r->o->force_owner) {
        uid_t uid = r->o->force_owner ? r->o->uid : (uid_t)archive_entry_uid(e);
        gid_t gid = r->o->force_owner ? r->o->gid : (gid_t)archive_entry_gid(e);
        if (fchownat(pfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
            return mk_err_sys(err, "chown %s", path);
    }
    /* After chown, which clears setuid/setgid. */
    if (type != AE_IFLNK &&
        fchmodat(pfd, base, archive_entry_perm(e) & 07777, AT_SYMLINK_NOFOLLOW) < 0)
        return mk_err_sys(err, "chmod %s", path);
    struct timespec mtime = {archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    if (type == AE_IFDIR) {
        /* Set last: creating the children would change it again. */
        r->dirs = xrealloc(r->dirs, (r->n_dirs + 1) * sizeof(*r->dirs));
        r->dirs[r->n_dirs++] = (struct dir_time){xstrdup(path), mtime};
        return 0;
    }
    struct timespec ts[2] = {mtime, mtime};
    if (utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
        return mk_err_sys(err, "set times of %s", path);
    return 0;
}

static int extract_entry(struct tar_reader *r, struct archive_entry *e, mk_err **err)
{
    _cleanup_free_ char *path = entry_target(r, archive_entry_pathname(e), err);
    if (path == NULL)
        return -1;
    mode_t type = archive_entry_filetype(e);
    const char *link = archive_entry_hardlink(e);
    /* "./" is the destination itself: docker leaves it alone. */
    if (strcmp(path, r->dir) == 0 && type == AE_IFDIR)
        return 0;
    _cleanup_free_ char *base = NULL;
    _cleanup_close_ int pfd = open_parent_create(r->root_fd, path, &base, err);
    if (pfd < 0)
        return -1;
    bool is_dir = link == NULL && type == AE_IFDIR;
    if (clear_existing(r, pfd, base, path, is_dir, err) < 0)
        return -1;
    mode_t perm = archive_entry_perm(e) & 0777;
    int rc = 0;
    if (link != NULL)
        return extract_hardlink(r, pfd, base, path, link, err);
    switch (type) {
    case AE_IFDIR:
        rc = mkdirat(pfd, base, 0700);
        if (rc < 0 && errno == EEXIST)
            rc = 0;
        break;
    case AE_IFREG:
        if (extract_data(r, pfd, base, path, err) < 0)
            return -1;
        break;
    case AE_IFLNK:
        rc = symlinkat(archive_entry_symlink(e), pfd, base);
        break;
    case AE_IFIFO:
    case AE_IFCHR:
    case AE_IFBLK:
        rc = mknodat(pfd, base, type | perm, archive_entry_rdev(e));
        break;
    default:
        return mk_err_set(err, MK_ERR_INVALID, "unhandled tar entry type %o for %s", (unsigned)type,
                          path);
    }
    if (rc < 0)
        return mk_err_sys(err, "create %s", path);
    return apply_metadata(r, pfd, base, path, e, err);
}

static int set_dir_times(struct tar_reader *r, mk_err **err)
{
    for (size_t i = r->n_dirs; i-- > 0;) {
        _cleanup_free_ char *base = NULL;
        _cleanup_close_ int pfd = open_parent(r->root_fd, r->dirs[i].path, &base, err);
        struct timespec ts[2] = {r->dirs[i].mtime, r->dirs[i].mtime};
        if (pfd < 0 || utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
            return pfd < 0 ? -1 : mk_err_sys(err, "set times of %s", r->dirs[i].path);
    }
    return 0;
}

/* Read what the writer sent after the end-of-archive blocks, so that it never
 * sees a broken pipe and the byte count is the whole stream. */
static int64_t drain(int fd)
{
    char buf[4096];
    int64_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return total;
        total += n;
    }
}

int mk_tar_check(int in_fd, mk_err **err)
{
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    int rc = archive_read_open_fd(a, in_fd, 65536);
    for (struct archive_entry *e = NULL; rc == ARCHIVE_OK || rc == ARCHIVE_WARN;) {
        rc = archive_read_next_header(a, &e);
        if (rc == ARCHIVE_OK || rc == ARCHIVE_WARN)
            rc = archive_read_data_skip(a);
    }
    int ret = 0;
    if (rc != ARCHIVE_EOF) {
        const char *msg = archive_error_string(a);
        ret = mk_err_set(err, MK_ERR_INVALID, "Error processing tar file: %s",
                         msg != NULL ? msg : "not a tar archive");
    }
    archive_read_free(a);
    return ret;
}

int mk_tar_extract(int root_fd, const char *dir, int in_fd, const struct mk_tar_extract_opts *o,
                   int64_t *bytes, mk_err **err)
{
    struct tar_reader *r = xcalloc(1, sizeof(*r));
    *r = (struct tar_reader){.root_fd = root_fd, .dir = dir, .o = o};
    r->a = archive_read_new();
    archive_read_support_format_tar(r->a);
    archive_read_support_format_gnutar(r->a);
    int ret = -1;
    if (archive_read_open_fd(r->a, in_fd, 65536) != ARCHIVE_OK) {
        archive_fail(r->a, err, "read", "archive");
        goto out;
    }
    for (;;) {
        struct archive_entry *e = NULL;
        int rc = archive_read_next_header(r->a, &e);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc < ARCHIVE_WARN) {
            archive_fail(r->a, err, "read", "archive");
            goto out;
        }
        if (extract_entry(r, e, err) < 0)
            goto out;
    }
    if (set_dir_times(r, err) < 0)
        goto out;
    if (bytes != NULL)
        *bytes = archive_filter_bytes(r->a, -1) + drain(in_fd);
    ret = 0;
out:
    archive_read_free(r->a);
    for (size_t i = 0; i < r->n_dirs; i++)
        free(r->dirs[i].path);
    free(r->dirs);
    free(r);
    return ret;
}
