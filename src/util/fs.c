/* fs.c: files written atomically, whole-file reads, mkdir -p and a safe rm -rf. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

int mk_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t mk_read_all(int fd, void *data, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)data + got, len - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static int write_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                         bool durable, mk_err **err)
{
    /* A fresh name, never an existing file or a link someone planted in a
     * directory they can write (a user's ~/.docker, when root logs in). */
    _cleanup_free_ char *rnd = mk_random_hex(16);
    _cleanup_free_ char *tmp = xasprintf(".%s.tmp-%s", name, rnd);
    _cleanup_close_ int fd =
        openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return mk_err_sys(err, "create %s", tmp);
    if (mk_write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
        int saved = errno;
        unlinkat(dirfd, tmp, 0);
        return mk_err_errno(err, saved, "write %s", name);
    }
    if (renameat(dirfd, tmp, dirfd, name) < 0) {
        int saved = errno;
        unlinkat(dirfd, tmp, 0);
        return mk_err_errno(err, saved, "rename %s", name);
    }
    /* The rename is only durable once the directory entry is. */
    if (durable && dirfd != AT_FDCWD)
        fsync(dirfd);
    return 0;
}

int mk_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                            mk_err **err)
{
    return write_file_at(dirfd, name, data, len, mode, true, err);
}

int mk_write_file_replace_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                             mk_err **err)
{
    return write_file_at(dirfd, name, data, len, mode, false, err);
}

int mk_rewrite_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                       mk_err **err)
{
    _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return mk_write_file_replace_at(dirfd, name, data, len, mode, err);
    if (fd < 0 || pwrite(fd, data, len, 0) != (ssize_t)len || ftruncate(fd, (off_t)len) < 0)
        return mk_err_sys(err, "write %s", name);
    return 0;
}

char *mk_path_dir(const char *path, const char **name)
{
    const char *slash = strrchr(path, '/');
    if (name != NULL)
        *name = slash != NULL ? slash + 1 : path;
    if (slash == NULL)
        return xstrdup(".");
    return slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

int mk_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, mk_err **err)
{
    const char *name;
    _cleanup_free_ char *dir = mk_path_dir(path, &name);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return mk_err_sys(err, "open %s", dir);
    if (mk_write_file_atomic_at(dfd, name, data, len, mode, err) < 0)
        return mk_err_wrap(err, "write %s", path);
    return 0;
}

int mk_read_file_at(int dirfd, const char *name, char **out, size_t *len, mk_err **err)
{
    _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mk_err_sys(err, "open %s", name);
    mk_buf b = {0};
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            mk_buf_free(&b);
            return mk_err_sys(err, "read %s", name);
        }
        if (n == 0)
            break;
        mk_buf_append(&b, chunk, (size_t)n);
    }
    if (len != NULL)
        *len = b.len;
    *out = mk_buf_steal(&b);
    return 0;
}

int mk_read_file(const char *path, char **out, size_t *len, mk_err **err)
{
    return mk_read_file_at(AT_FDCWD, path, out, len, err);
}

int mk_mkdir_p(const char *path, mode_t mode, mk_err **err)
{
    _cleanup_free_ char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return mk_err_sys(err, "mkdir %s", p);
        *s = '/';
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        return mk_err_sys(err, "mkdir %s", p);
    return 0;
}

static int rm_rf_children(int dfd, mk_err **err)
{
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return mk_err_sys(err, "opendir");
    }
    struct dirent *de;
    int ret = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (mk_rm_rf_at(dirfd(d), de->d_name, err) < 0) {
            ret = -1;
            break;
        }
    }
    closedir(d);
    return ret;
}

int mk_rm_rf_at(int dirfd, const char *name, mk_err **err)
{
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return mk_err_sys(err, "remove %s", name);
    /* O_NOFOLLOW: a symlink is unlinked above, never followed out of the tree. */
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        return mk_err_sys(err, "open %s", name);
    }
    /* Overlay work dirs are created mode 000; as root we can still enter them. */
    if (rm_rf_children(fd, err) < 0)
        return mk_err_wrap(err, "%s", name);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return mk_err_sys(err, "rmdir %s", name);
    return 0;
}

int mk_rm_rf_contents_at(int dirfd, const char *name, mk_err **err)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : mk_err_sys(err, "open %s", name);
    return rm_rf_children(fd, err) < 0 ? mk_err_wrap(err, "%s", name) : 0;
}

int mk_dir_peek_at(int dirfd, const char *name, struct mk_dir_entry *out, int max)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (n == max) {
            n = -1;
            break;
        }
        snprintf(out[n].name, sizeof(out[n].name), "%s", de->d_name);
        out[n++].type = de->d_type;
    }
    closedir(d);
    return n;
}

bool mk_dir_is_empty_at(int dirfd, const char *name)
{
    return mk_dir_peek_at(dirfd, name, NULL, 0) == 0;
}

int mk_pool_take_at(int dirfd, const char *pool, int slots, const char *dest)
{
    for (int i = 0; i < slots; i++) {
        char slot[PATH_MAX];
        snprintf(slot, sizeof(slot), "%s/%d", pool, i);
        if (renameat2(dirfd, slot, dirfd, dest, RENAME_NOREPLACE) == 0)
            return 0;
        if (errno == EEXIST)
            return -1;
    }
    errno = ENOENT;
    return -1;
}

int mk_pool_put_at(int dirfd, const char *src, const char *pool, int slots)
{
    if (mkdirat(dirfd, pool, 0700) < 0 && errno != EEXIST)
        return -1;
    for (int i = 0; i < slots; i++) {
        char slot[PATH_MAX];
        snprintf(slot, sizeof(slot), "%s/%d", pool, i);
        if (renameat2(dirfd, src, dirfd, slot, RENAME_NOREPLACE) == 0)
            return 0;
    }
    return -1;
}

int mk_rm_rf(const char *path, mk_err **err)
{
    return mk_rm_rf_at(AT_FDCWD, path, err);
}

int mk_fd_set_nonblock(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -1;
    fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, fl);
}

int mk_fd_set_cloexec(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFD);
    if (fl < 0)
        return -1;
    fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
    return fcntl(fd, F_SETFD, fl);
}

char *mk_path_join(const char *a, const char *b)
{
    size_t la = strlen(a);
    while (*b == '/')
        b++;
    if (la > 0 && a[la - 1] == '/')
        return xasprintf("%s%s", a, b);
    return xasprintf("%s/%s", a, b);
}

int mk_open_regular_at(int dirfd, const char *name, const struct stat *expect, mk_err **err)
{
    _cleanup_close_ int pin = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pin < 0)
        return mk_err_sys(err, "open %s", name);
    struct stat st;
    if (fstat(pin, &st) < 0)
        return mk_err_sys(err, "stat %s", name);
    if (!S_ISREG(st.st_mode) || st.st_dev != expect->st_dev || st.st_ino != expect->st_ino)
        return mk_err_set(err, MK_ERR_CONFLICT, "%s changed while it was read", name);
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", pin);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return mk_err_sys(err, "open %s", name);
    return fd;
}

int mk_open_in_root(int root_fd, const char *path, int flags, mode_t mode)
{
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC),
        .mode = (flags & O_CREAT) ? mode : 0,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    /* EAGAIN: a rename somewhere raced a ".." in the lookup; the kernel asks
     * for a retry. */
    int fd, tries = 0;
    do
        fd = (int)syscall(SYS_openat2, root_fd, *path == '\0' ? "." : path, &how, sizeof(how));
    while (fd < 0 && errno == EAGAIN && ++tries < 32);
    return fd;
}
