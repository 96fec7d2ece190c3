/* container_fs.c: a container's filesystem for docker cp and docker export.
 *
 * Everything works on one fd, the container's root, with util/tarfs.c resolving
 * every path inside it (RESOLVE_IN_ROOT), so no container path is ever looked
 * up on the host:
 *   - running: a child joins the container's mount namespace and sends back an
 *     fd on its "/" (for cp: bind mounts like /etc/hosts included, as docker's
 *     are) or on a clone of its root mount alone (export: the rootfs only);
 *   - not running: the container's overlay is mounted detached (fsmount), so
 *     it is attached nowhere on the host and goes away with the fd. */
#include "engine/internal.h"
#include "image/image.h"
#include "runtime/runtime.h"
#include "engine/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>

struct mk_container_fs {
    char *ref;  /* as the user named the container, for docker's messages */
    char *user; /* Config.User, for cp -a */
    bool readonly_rootfs; /* HostConfig.ReadonlyRootfs: nothing is copied in */
    int root_fd;
    int lock_fd; /* the run lock, while a stopped container's overlay is ours */
};

/* In a child: join pid's mount namespace and send an fd on its root. */
static int open_running_root(const struct mk_container *c, bool rootfs_only, int *out, mk_err **err)
{
    _cleanup_free_ char *ns_path = xasprintf("/proc/%d/ns/mnt", (int)c->pid);
    _cleanup_close_ int ns = open(ns_path, O_RDONLY | O_CLOEXEC);
    if (ns < 0 || !mk_proc_alive(c->pid, c->pid_start))
        return mk_err_set(err, MK_ERR_CONFLICT, "container %s is not running", c->id);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return mk_err_sys(err, "socketpair");
    pid_t child = fork();
    if (child < 0) {
        close(sv[0]);
        close(sv[1]);
        return mk_err_sys(err, "fork");
    }
    if (child == 0) {
        /* The exit status carries errno back when there is no fd to send. */
        if (setns(ns, CLONE_NEWNS) < 0)
            _exit(errno);
        int fd = rootfs_only ? open_tree(AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)
                             : open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            _exit(errno);
        _exit(mk_send_fd(sv[1], fd, NULL) < 0 ? EPIPE : 0);
    }
    close(sv[1]);
    _cleanup_close_ int sock = sv[0];
    int fd = mk_recv_fd(sock, NULL);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    if (fd < 0) {
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
        return mk_err_errno(err, code != 0 ? code : EIO, "open the filesystem of container %s",
                            c->id);
    }
    *out = fd;
    return 0;
}

static int open_stopped_root(struct mk_engine *e, const struct mk_container *c, int *out,
                             mk_err **err)
{
    json_t *spec = NULL;
    /* The caller holds the run lock: no start mounts the same upper dir. */
    if (mk_engine_build_spec(e, c, &spec, err) < 0)
        return -1;
    int r = mk_runtime_rootfs_open(spec, out, err);
    json_decref(spec);
    return r;
}

static int fs_open(struct mk_engine *e, const char *ref, bool rootfs_only,
                   struct mk_container_fs **out, mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    int fd = -1, lock = -1, r;
    if (!mk_container_is_running(c)) {
        lock = mk_engine_lock_container(e, c->id, false, err);
        if (lock < 0 && (*err)->kind == MK_ERR_CONFLICT) {
            /* A monitor holds it: the container started meanwhile, or its
             * monitor is finishing (it lets go at the final exit). */
            mk_err_clear(err);
            mk_container_free(c);
            c = NULL;
            if (mk_container_get(e, ref, &c, err) < 0)
                return -1;
            if (!mk_container_is_running(c) &&
                (lock = mk_engine_lock_container(e, c->id, true, err)) < 0) {
                mk_container_free(c);
                return -1;
            }
        } else if (lock < 0) {
            mk_container_free(c);
            return -1;
        }
    }
    r = lock >= 0 ? open_stopped_root(e, c, &fd, err) : open_running_root(c, rootfs_only, &fd, err);
    if (r < 0 && lock >= 0)
        close(lock);
    if (r == 0) {
        struct mk_container_fs *fs = xcalloc(1, sizeof(*fs));
        fs->ref = xstrdup(ref);
        const char *user = mk_json_str(json_object_get(c->config, "Config"), "User");
        fs->user = user != NULL && *user != '\0' ? xstrdup(user) : NULL;
        fs->readonly_rootfs =
            mk_json_bool(json_object_get(c->config, "HostConfig"), "ReadonlyRootfs", false);
        fs->root_fd = fd;
        fs->lock_fd = lock;
        *out = fs;
    }
    mk_container_free(c);
    return r;
}

int mk_container_fs_open(struct mk_engine *e, const char *ref, struct mk_container_fs **out,
                         mk_err **err)
{
    return fs_open(e, ref, false, out, err);
}

void mk_container_fs_close(struct mk_container_fs *fs)
{
    if (fs == NULL)
        return;
    if (fs->root_fd >= 0)
        close(fs->root_fd);
    if (fs->lock_fd >= 0)
        close(fs->lock_fd);
    free(fs->ref);
    free(fs->user);
    free(fs);
}

static bool asserts_directory(const char *path)
{
    size_t n = strlen(path);
    return (n > 0 && path[n - 1] == '/') || mk_path_specifies_current_dir(path);
}

int mk_container_fs_stat(const struct mk_container_fs *fs, const char *path,
                         struct mk_path_stat *out, mk_err **err)
{
    struct mk_path_stat s = {0};
    mk_err *inner = NULL;
    if (mk_tar_stat(fs->root_fd, path, &s, &inner) < 0) {
        int errnum = inner->errnum;
        if (errnum != ENOENT) {
            *err = inner;
            return -1;
        }
        mk_err_free(inner);
        return mk_err_set(err, MK_ERR_NOT_FOUND, "Could not find the file %s in container %s", path,
                          fs->ref);
    }
    if (asserts_directory(path) && !S_ISDIR(s.st.st_mode)) {
        mk_path_stat_clear(&s);
        return mk_err_errno(err, ENOTDIR, "lstat %s", path);
    }
    *out = s;
    return 0;
}

/* Go's filepath.Clean of an absolute path: no ".", "..", or repeated "/". */
static char *clean_abs(const char *path)
{
    _cleanup_free_ char *copy = xstrdup(path);
    mk_buf out = {0};
    char *save = NULL;
    for (char *part = strtok_r(copy, "/", &save); part != NULL; part = strtok_r(NULL, "/", &save)) {
        if (strcmp(part, ".") == 0)
            continue;
        if (strcmp(part, "..") == 0) {
            char *slash = out.len > 0 ? strrchr(out.data, '/') : NULL;
            out.len = slash != NULL ? (size_t)(slash - out.data) : 0;
            if (out.data != NULL)
                out.data[out.len] = '\0';
            continue;
        }
        mk_buf_puts(&out, "/");
        mk_buf_puts(&out, part);
    }
    if (out.len == 0)
        mk_buf_puts(&out, "/");
    return mk_buf_steal(&out);
}

int mk_container_fs_link_target(const struct mk_container_fs *fs, const char *path, char **out,
                                mk_err **err)
{
    _cleanup_free_ char *cur = clean_abs(path);
    for (int hops = 0; hops < 40; hops++) {
        struct mk_path_stat s = {0};
        mk_err *inner = NULL;
        if (mk_tar_stat(fs->root_fd, cur, &s, &inner) < 0) {
            /* a dangling link resolves to the name it points at, as in docker */
            mk_err_free(inner);
            *out = steal_pointer(&cur);
            return 0;
        }
        if (s.link_target == NULL) {
            mk_path_stat_clear(&s);
            *out = steal_pointer(&cur);
            return 0;
        }
        _cleanup_free_ char *dir = mk_path_dir(cur, NULL);
        _cleanup_free_ char *next =
            s.link_target[0] == '/' ? xstrdup(s.link_target) : mk_path_join(dir, s.link_target);
        mk_path_stat_clear(&s);
        free(cur);
        cur = clean_abs(next);
    }
    return mk_err_errno(err, ELOOP, "resolve %s", path);
}

int mk_container_fs_archive(const struct mk_container_fs *fs, const char *path, const char *rebase,
                            int out_fd, mk_err **err)
{
    struct mk_path_stat s = {0};
    if (mk_container_fs_stat(fs, path, &s, err) < 0)
        return -1;
    mk_path_stat_clear(&s);
    return mk_tar_write_path(fs->root_fd, path, rebase, out_fd, err);
}

/* An O_PATH fd on path in the container if it is a regular file, else -1: the
 * container may have made /etc/passwd a FIFO or a device, which reading
 * would hang on or worse. */
static int regular_in_root(int root_fd, const char *path)
{
    int fd = mk_open_in_root(root_fd, path, O_PATH, 0);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)))
        mk_closep(&fd);
    return fd;
}

/* cp -a: docker gives the files to the container's user when it has one. */
static int container_user_ids(const struct mk_container_fs *fs, struct mk_tar_extract_opts *o,
                              mk_err **err)
{
    _cleanup_close_ int passwd = regular_in_root(fs->root_fd, "/etc/passwd");
    _cleanup_close_ int group = regular_in_root(fs->root_fd, "/etc/group");
    _cleanup_free_ char *ppath = passwd >= 0 ? xasprintf("/proc/self/fd/%d", passwd) : NULL;
    _cleanup_free_ char *gpath = group >= 0 ? xasprintf("/proc/self/fd/%d", group) : NULL;
    _cleanup_free_ gid_t *extra = NULL;
    _cleanup_free_ char *home = NULL;
    size_t n_extra = 0;
    if (mk_spec_resolve_user(fs->user, ppath, gpath, &o->uid, &o->gid, &extra, &n_extra, &home,
                             err) < 0)
        return -1;
    o->force_owner = true;
    return 0;
}

int mk_container_fs_extract(const struct mk_container_fs *fs, const char *path, int in_fd,
                            const struct mk_container_extract_opts *eo, int64_t *bytes,
                            mk_err **err)
{
    /* A stopped container's overlay is mounted writable here: its
     * --read-only is enforced by hand (a running one's mount says EROFS). */
    if (fs->readonly_rootfs && fs->lock_fd >= 0)
        return mk_err_set(err, MK_ERR_FORBIDDEN, "container rootfs is marked read-only");
    _cleanup_close_ int dir = mk_open_in_root(fs->root_fd, path, O_PATH, 0);
    struct stat st;
    if (dir < 0 && errno == ENOENT)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "Could not find the file %s in container %s", path,
                          fs->ref);
    if (dir < 0 || fstat(dir, &st) < 0)
        return mk_err_sys(err, "open %s", path);
    if (!S_ISDIR(st.st_mode))
        return mk_err_set(err, MK_ERR_INVALID, "extraction point is not a directory");
    /* Without -a, the entries keep the owners of the tar, as docker's do. */
    struct mk_tar_extract_opts o = {.chown = true,
                                    .no_overwrite_dir_non_dir = eo->no_overwrite_dir_non_dir};
    if (eo->copy_uid_gid && fs->user != NULL && container_user_ids(fs, &o, err) < 0)
        return -1;
    if (mk_tar_extract(fs->root_fd, path, in_fd, &o, bytes, err) == 0)
        return 0;
    if ((*err)->errnum == EROFS) {
        mk_err_clear(err);
        return mk_err_set(err, MK_ERR_FORBIDDEN, fs->readonly_rootfs
                                                     ? "container rootfs is marked read-only"
                                                     : "mounted volume is marked read-only");
    }
    return -1;
}

int mk_container_export(struct mk_engine *e, const char *ref, int out_fd, mk_err **err)
{
    struct mk_container_fs *fs = NULL;
    if (fs_open(e, ref, true, &fs, err) < 0)
        return -1;
    int r = mk_tar_write_root(fs->root_fd, out_fd, err);
    mk_container_fs_close(fs);
    return r;
}
