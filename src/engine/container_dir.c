/* container_dir.c: a container's directory, <root>/containers/<id>.  Made at
 * create (upper and work for its overlay, rootfs, hostname, hosts,
 * resolv.conf), moved to <root>/trash when the container is removed, and
 * from there either deleted or, when the container left it as it was made,
 * kept in <root>/pool for the next create.
 *
 * Why keep them: a create makes eight inodes here (the directory, its three
 * subdirectories, three files and the log) and a removal frees them.  On ext4
 * without a journal (this project's VMs), allocating an inode passes over
 * every inode of its block group freed in the last minutes (find_inode_bit,
 * recently_deleted: a buffer lookup each), so a loop of `run --rm` slowed
 * itself, and any churn nearby slowed it more: 420 files deleted in the
 * store's group before 20 runs took their median from 6.0 to 7.3 ms.  A kept
 * directory is renamed out of the pool and its three files rewritten in
 * place: no inode is made or freed.  Its config.json is kept too, zeroed, as
 * kept-config.json, which the first start rewrites in place and renames to
 * config.json: freeing its blocks waited for their discard (this disk is
 * mounted with -o discard), and making it anew took an inode. */
#include "engine/engine.h"
#include "engine/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* Enough for a loop of runs and a few removed together; more are deleted. */
#define POOL_SLOTS 4
/* A kept directory's log, emptied; renamed to <id>-json.log when taken. */
#define POOL_LOG "kept-json.log"
/* A kept directory's config.json, zeroed; config.json again at a start. */
#define KEPT_CONFIG "kept-config.json"
/* pool/<id> is a directory being kept or taken; one older than this was
 * left by a process that died meanwhile. */
#define POOL_STALE_SECONDS 600

static const char *const subdirs[] = {"upper", "work", "rootfs"};
static const char *const files[] = {"hostname", "hosts", "resolv.conf"};

static int open_dir_at(int dfd, const char *name)
{
    return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* hostname, hosts, resolv.conf: rewritten in place in a kept directory, made
 * in a new one; no fsync, like docker (they are small and rewritten from the
 * container's config if ever lost). */
static int write_files(int dfd, const char *hostname, const json_t *host_config, bool host_net,
                       mk_err **err)
{
    _cleanup_free_ char *hn = xasprintf("%s\n", hostname);
    if (mk_rewrite_file_at(dfd, "hostname", hn, strlen(hn), 0644, err) < 0)
        return -1;
    _cleanup_free_ char *hosts = NULL;
    if (!host_net || mk_read_file("/etc/hosts", &hosts, NULL, NULL) < 0)
        hosts = mk_netfiles_hosts(host_config, NULL, 0, 0, NULL);
    if (mk_rewrite_file_at(dfd, "hosts", hosts, strlen(hosts), 0644, err) < 0)
        return -1;
    _cleanup_free_ char *host_resolv = mk_host_resolv_conf();
    _cleanup_free_ char *resolv = mk_netfiles_resolv(host_config, host_resolv, host_net, false);
    return mk_rewrite_file_at(dfd, "resolv.conf", resolv, strlen(resolv), 0644, err);
}

/* Take a kept directory as containers/<id>: 0, or -1 with none taken.  It is
 * first renamed to pool/<id> (so no other create takes it), filled, and only
 * then given its place. */
static int take_kept(struct mk_engine *e, const char *id, const char *hostname,
                     const json_t *host_config, bool host_net)
{
    int root = e->store->root_fd;
    _cleanup_free_ char *mine = xasprintf("pool/%s", id);
    if (mk_pool_take_at(root, "pool", POOL_SLOTS, mine) < 0)
        return -1;
    _cleanup_err_ mk_err *err = NULL;
    _cleanup_close_ int dfd = open_dir_at(root, mine);
    _cleanup_free_ char *log = xasprintf("%s-json.log", id);
    _cleanup_free_ char *dest = xasprintf("containers/%s", id);
    if (dfd >= 0 && write_files(dfd, hostname, host_config, host_net, &err) == 0 &&
        (renameat(dfd, POOL_LOG, dfd, log) == 0 || errno == ENOENT) &&
        renameat2(root, mine, root, dest, RENAME_NOREPLACE) == 0)
        return 0;
    mk_rm_rf_at(root, mine, NULL);
    return -1;
}

int mk_container_dir_make(struct mk_engine *e, const char *id, const char *hostname,
                          const json_t *host_config, bool host_net, mk_err **err)
{
    if (take_kept(e, id, hostname, host_config, host_net) == 0)
        return 0;
    _cleanup_free_ char *dir = mk_store_container_dir(e->store, id);
    if (mkdir(dir, 0710) < 0 && errno != EEXIST)
        return mk_err_sys(err, "mkdir %s", dir);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return mk_err_sys(err, "open %s", dir);
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++)
        if (mkdirat(dfd, subdirs[i], 0755) < 0 && errno != EEXIST)
            return mk_err_sys(err, "mkdir %s/%s", dir, subdirs[i]);
    return write_files(dfd, hostname, host_config, host_net, err);
}

int mk_container_dir_write_config(int dfd, const char *data, size_t len, mk_err **err)
{
    if (faccessat(dfd, KEPT_CONFIG, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
        return mk_write_file_replace_at(dfd, "config.json", data, len, 0600, err);
    /* Readers of config.json find the old one or the new one, whole. */
    if (mk_rewrite_file_at(dfd, KEPT_CONFIG, data, len, 0600, err) < 0)
        return -1;
    if (renameat(dfd, KEPT_CONFIG, dfd, "config.json") < 0)
        return mk_err_sys(err, "rename %s to config.json", KEPT_CONFIG);
    return 0;
}

/* A stream on directory fd (taken over: closed on failure), or NULL. */
static DIR *dir_stream(int fd)
{
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL && fd >= 0)
        close(fd);
    return d;
}

/* The only extended attribute of a fresh upper dir once mounted: overlay's
 * identity for the mount (kernel 6.6 on), made again by the next mount. */
#define OVL_UUID_XATTR "trusted.overlay.uuid"

/* Whether the inode at fd is as mocker made it.  A container can change the
 * mode, owner, extended attributes (ACLs included) and inode flags of its root
 * directory (upper is the overlay's root) and of the three files it has bind
 * mounted; made is rootfs, made with them and never shown to the container. */
static bool as_made(int fd, mode_t mode, nlink_t nlink, const struct stat *made, bool ovl_root)
{
    struct stat st;
    int flags = 0;
    char names[64];
    ssize_t n = fd < 0 ? -1 : flistxattr(fd, names, sizeof(names));
    bool xattrs_ok = n == 0 || (ovl_root && n == (ssize_t)sizeof(OVL_UUID_XATTR) &&
                                memcmp(names, OVL_UUID_XATTR, (size_t)n) == 0);
    if (!xattrs_ok || fstat(fd, &st) < 0 || st.st_mode != mode || st.st_nlink != nlink ||
        st.st_uid != made->st_uid || st.st_gid != made->st_gid || st.st_dev != made->st_dev)
        return false;
    /* ext4 marks every inode with extents; nothing else may be set. */
    return ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0 || (flags & ~FS_EXTENT_FL) == 0;
}

/* dfd/path holds nothing (want NULL) or only want, of the given type. */
static bool holds_only(int dfd, const char *path, const char *want, unsigned char type)
{
    struct mk_dir_entry e;
    int n = mk_dir_peek_at(dfd, path, &e, 1);
    if (want == NULL)
        return n == 0;
    return n == 1 && e.type == type && strcmp(e.name, want) == 0;
}

/* work as overlay leaves it after an unmount: empty, or holding its empty
 * work dir, in which a volatile mount (a --rm container's) leaves
 * incompat/volatile/dirty, its mark that the upper dir was not synced.  (No
 * container sees work: nothing there is a symlink but by overlay's hand.) */
static bool work_as_left(int dfd)
{
    if (holds_only(dfd, "work", NULL, 0))
        return true;
    if (!holds_only(dfd, "work", "work", DT_DIR))
        return false;
    if (holds_only(dfd, "work/work", NULL, 0))
        return true;
    return holds_only(dfd, "work/work", "incompat", DT_DIR) &&
           holds_only(dfd, "work/work/incompat", "volatile", DT_DIR) &&
           (holds_only(dfd, "work/work/incompat/volatile", NULL, 0) ||
            holds_only(dfd, "work/work/incompat/volatile", "dirty", DT_REG));
}

/* work/work goes now rather than at the next mount, which would remove it
 * first (freeing its block: a discard waited for, see mk_rewrite_file_at), and with it
 * the mark of a volatile mount, which the overlay refuses to mount over (this
 * one was unmounted cleanly and its upper dir found empty). */
static int empty_work(int dfd)
{
    _cleanup_close_ int work = open_dir_at(dfd, "work");
    return work >= 0 ? mk_rm_rf_at(work, "work", NULL) : -1;
}

/* Whether the directory dfd (a removed container's, id) is as its create made
 * it, apart from the content of its three files, its log and its config.json:
 * the overlay's upper and work dirs empty and untouched, rootfs empty and not
 * mounted on, nothing else in it, and nobody holding its run lock. */
static bool keepable(int dfd, const char *id)
{
    struct mk_dir_entry ents[8];
    int n = mk_dir_peek_at(dfd, ".", ents, 8);
    if (n < 0)
        return false;
    _cleanup_free_ char *log = xasprintf("%s-json.log", id);
    int found = 0;
    for (int i = 0; i < n; i++) {
        bool dir = ents[i].type == DT_DIR, reg = ents[i].type == DT_REG;
        int known = -1;
        for (size_t k = 0; k < 3; k++) {
            if (dir && strcmp(ents[i].name, subdirs[k]) == 0)
                known = (int)k;
            if (reg && strcmp(ents[i].name, files[k]) == 0)
                known = 3 + (int)k;
        }
        if (known >= 0)
            found |= 1 << known;
        else if (!(reg &&
                   (strcmp(ents[i].name, log) == 0 || strcmp(ents[i].name, "config.json") == 0 ||
                    strcmp(ents[i].name, KEPT_CONFIG) == 0)))
            return false;
    }
    struct stat dir_st, made;
    _cleanup_close_ int rootfs = open_dir_at(dfd, "rootfs");
    _cleanup_close_ int upper = open_dir_at(dfd, "upper");
    if (found != 0x3f || fstat(dfd, &dir_st) < 0 || rootfs < 0 || fstat(rootfs, &made) < 0 ||
        made.st_dev != dir_st.st_dev || !mk_dir_is_empty_at(rootfs, ".") ||
        !mk_dir_is_empty_at(upper, ".") || !as_made(upper, made.st_mode, 2, &made, true))
        return false;
    for (size_t k = 0; k < 3; k++) {
        _cleanup_close_ int fd = openat(dfd, files[k], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (!as_made(fd, S_IFREG | (made.st_mode & 0644), 1, &made, false))
            return false;
    }
    if (!work_as_left(dfd))
        return false;
    /* A holder of the run lock (a cp that began before the removal) must not
     * find its directory serving another container. */
    return flock(dfd, LOCK_EX | LOCK_NB) == 0;
}

/* The spec of the container that was, overwritten with zeros (its size and
 * blocks stay) and renamed out of config.json's way: no longer anybody's
 * spec, nothing of it left to read. */
static int keep_config(int dfd)
{
    _cleanup_close_ int fd = openat(dfd, "config.json", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)
        return -1;
    static const char zeros[4096];
    for (off_t off = 0; off < st.st_size;) {
        size_t n =
            st.st_size - off < (off_t)sizeof(zeros) ? (size_t)(st.st_size - off) : sizeof(zeros);
        ssize_t w = pwrite(fd, zeros, n, off);
        if (w <= 0)
            return -1;
        off += w;
    }
    return renameat(dfd, "config.json", dfd, KEPT_CONFIG);
}

/* Back to what the create made: the overlay's marks go, the log is emptied
 * and config.json (the spec of the container that was) zeroed aside. */
static int reset_kept(int dfd, const char *id)
{
    _cleanup_close_ int upper = open_dir_at(dfd, "upper");
    _cleanup_free_ char *log = xasprintf("%s-json.log", id);
    _cleanup_close_ int lfd = openat(dfd, log, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (lfd < 0 && errno != ENOENT)
        return -1;
    if (upper < 0 || (fremovexattr(upper, OVL_UUID_XATTR) < 0 && errno != ENODATA) ||
        empty_work(dfd) < 0 || keep_config(dfd) < 0)
        return -1;
    if (lfd >= 0 && (ftruncate(lfd, 0) < 0 || renameat(dfd, log, dfd, POOL_LOG) < 0))
        return -1;
    return 0;
}

/* Keep the trash entry id if it qualifies and a slot is free, else delete it:
 * -1 only when it could not be looked at (the caller deletes it). */
static int keep(struct mk_engine *e, int trash, const char *id)
{
    int root = e->store->root_fd;
    _cleanup_free_ char *mine = xasprintf("pool/%s", id);
    if (mkdirat(root, "pool", 0700) < 0 && errno != EEXIST)
        return -1;
    /* Ours alone from here: another remover emptying the trash finds it gone. */
    if (renameat2(trash, id, root, mine, RENAME_NOREPLACE) < 0)
        return errno == ENOENT ? 0 : -1;
    _cleanup_close_ int dfd = open_dir_at(root, mine);
    if (dfd >= 0 && keepable(dfd, id) && reset_kept(dfd, id) == 0 &&
        mk_pool_put_at(root, mine, "pool", POOL_SLOTS) == 0)
        return 0;
    mk_rm_rf_at(root, mine, NULL);
    return 0;
}

/* pool/<id> left by a process that died between its two renames. */
static void sweep_pool(struct mk_engine *e)
{
    DIR *d = dir_stream(open_dir_at(e->store->root_fd, "pool"));
    if (d == NULL)
        return;
    struct dirent *de;
    time_t now = time(NULL);
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (strlen(de->d_name) < 8 || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            now - st.st_ctime < POOL_STALE_SECONDS)
            continue;
        mk_rm_rf_at(dirfd(d), de->d_name, NULL);
    }
    closedir(d);
}

void mk_engine_empty_trash(struct mk_engine *e)
{
    /* The trash directory stays: a remover moving into it meanwhile needs it. */
    DIR *d = dir_stream(open_dir_at(e->store->root_fd, "trash"));
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (keep(e, dirfd(d), de->d_name) < 0)
            mk_rm_rf_at(dirfd(d), de->d_name, NULL);
    }
    closedir(d);
    sweep_pool(e);
}
