/* mounts.c: the container's filesystem, built in its own mount namespace.
 *
 * Every destination is resolved inside the rootfs with openat2(RESOLVE_IN_ROOT),
 * so a symlink in an image cannot send a mount out of it, and the mount lands
 * on the resolved fd (/proc/self/fd/N, or move_mount onto the fd).  Bind mounts
 * use the new mount API: open_tree clones the source, mount_setattr applies
 * ro/nosuid/nodev/noexec to the whole cloned tree at once (bubblewrap's rule
 * that flags reach every submount), move_mount attaches it.
 *
 * cgroup mounts: cgroup2 on a v2 host; on v1/hybrid, a tmpfs with each v1
 * hierarchy read-only below it, as runc does (the hierarchy itself when the
 * container has a cgroup namespace, else a bind of its own cgroup dir), plus the
 * cpu -> cpu,cpuacct style symlinks.  The hybrid host's unified tree is not
 * exposed. */
#include "runtime/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#define PROCFD_LEN 32

static void procfd(char buf[PROCFD_LEN], int fd)
{
    snprintf(buf, PROCFD_LEN, "/proc/self/fd/%d", fd);
}

/* mkdir -p inside the root; returns an O_PATH fd of the directory. */
static int mkdir_in_root(int rootfd, const char *path, mk_err **err)
{
    int fd = mk_open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0);
    if (fd >= 0 || errno != ENOENT) {
        if (fd < 0)
            return mk_err_sys(err, "open %s in the rootfs", path);
        return fd;
    }
    /* Mostly only the last component is missing (/dev/pts in the /dev just
     * mounted): made in its parent, resolved in the root as any other. */
    const char *last = strrchr(path, '/');
    if (last != NULL && last != path && last[1] != '\0') {
        _cleanup_free_ char *dir = xstrndup(path, (size_t)(last - path));
        _cleanup_close_ int parent = mk_open_in_root(rootfd, dir, O_PATH | O_DIRECTORY, 0);
        if (parent >= 0 && (mkdirat(parent, last + 1, 0755) == 0 || errno == EEXIST)) {
            fd = mk_open_in_root(rootfd, path, O_PATH | O_DIRECTORY, 0);
            if (fd >= 0)
                return fd;
        }
    }
    _cleanup_free_ char *copy = xstrdup(path);
    _cleanup_close_ int parent = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
    for (char *p = copy; *p != '\0';) {
        while (*p == '/')
            p++;
        if (*p == '\0')
            break;
        char *end = p + strcspn(p, "/");
        char saved = *end;
        *end = '\0';
        int next = mk_open_in_root(rootfd, copy, O_PATH | O_DIRECTORY, 0);
        if (next < 0 && errno == ENOENT) {
            if (mkdirat(parent, p, 0755) < 0 && errno != EEXIST)
                return mk_err_sys(err, "mkdir %s in the rootfs", copy);
            next = mk_open_in_root(rootfd, copy, O_PATH | O_DIRECTORY, 0);
        }
        if (next < 0)
            return mk_err_sys(err, "open %s in the rootfs", copy);
        close(parent);
        parent = next;
        *end = saved;
        p = end;
    }
    return steal_fd(&parent);
}

/* Create an empty file (and its parents) inside the root; O_PATH fd. */
static int mkfile_in_root(int rootfd, const char *path, mk_err **err)
{
    int fd = mk_open_in_root(rootfd, path, O_PATH, 0);
    if (fd >= 0)
        return fd;
    if (errno != ENOENT)
        return mk_err_sys(err, "open %s in the rootfs", path);
    _cleanup_free_ char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
        _cleanup_close_ int d = mkdir_in_root(rootfd, *dir ? dir : "/", err);
        if (d < 0)
            return -1;
        int f = openat(d, slash + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (f < 0 && errno != EEXIST)
            return mk_err_sys(err, "create %s in the rootfs", path);
        if (f >= 0)
            close(f);
    }
    fd = mk_open_in_root(rootfd, path, O_PATH, 0);
    if (fd < 0)
        return mk_err_sys(err, "open %s in the rootfs", path);
    return fd;
}

/* ---- options ---- */

struct mnt_opts {
    unsigned long flags;
    unsigned long prop; /* MS_PRIVATE/SHARED/SLAVE/UNBINDABLE, | MS_REC */
    bool bind, rec;
    uint64_t attr_set, attr_clr;
    mk_buf data;
};

static const struct {
    const char *name;
    bool clear;
    unsigned long flag;
    uint64_t attr;
} flag_opts[] = {
    {"defaults", false, 0, 0},
    {"ro", false, MS_RDONLY, MOUNT_ATTR_RDONLY},
    {"rro", false, MS_RDONLY, MOUNT_ATTR_RDONLY},
    {"rw", true, MS_RDONLY, MOUNT_ATTR_RDONLY},
    {"nosuid", false, MS_NOSUID, MOUNT_ATTR_NOSUID},
    {"rnosuid", false, MS_NOSUID, MOUNT_ATTR_NOSUID},
    {"suid", true, MS_NOSUID, MOUNT_ATTR_NOSUID},
    {"nodev", false, MS_NODEV, MOUNT_ATTR_NODEV},
    {"rnodev", false, MS_NODEV, MOUNT_ATTR_NODEV},
    {"dev", true, MS_NODEV, MOUNT_ATTR_NODEV},
    {"noexec", false, MS_NOEXEC, MOUNT_ATTR_NOEXEC},
    {"rnoexec", false, MS_NOEXEC, MOUNT_ATTR_NOEXEC},
    {"exec", true, MS_NOEXEC, MOUNT_ATTR_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS, 0},
    {"async", true, MS_SYNCHRONOUS, 0},
    {"dirsync", false, MS_DIRSYNC, 0},
    {"mand", false, MS_MANDLOCK, 0},
    {"nomand", true, MS_MANDLOCK, 0},
    {"noatime", false, MS_NOATIME, MOUNT_ATTR_NOATIME},
    {"atime", true, MS_NOATIME, 0},
    {"nodiratime", false, MS_NODIRATIME, MOUNT_ATTR_NODIRATIME},
    {"diratime", true, MS_NODIRATIME, MOUNT_ATTR_NODIRATIME},
    {"relatime", false, MS_RELATIME, MOUNT_ATTR_RELATIME},
    {"norelatime", true, MS_RELATIME, 0},
    {"strictatime", false, MS_STRICTATIME, MOUNT_ATTR_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME, 0},
    {"nosymfollow", false, MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW},
    {"symfollow", true, MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW},
};

static const struct {
    const char *name;
    unsigned long flag;
} prop_opts[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static int parse_opts(const json_t *options, bool is_bind_type, struct mnt_opts *o, mk_err **err)
{
    memset(o, 0, sizeof(*o));
    o->bind = is_bind_type;
    size_t i;
    json_t *v;
    json_array_foreach(options, i, v)
    {
        const char *s = json_string_value(v);
        if (s == NULL)
            continue;
        bool known = false;
        for (size_t k = 0; k < sizeof(flag_opts) / sizeof(*flag_opts) && !known; k++) {
            if (strcmp(s, flag_opts[k].name) != 0)
                continue;
            known = true;
            if (flag_opts[k].clear) {
                o->flags &= ~flag_opts[k].flag;
                o->attr_set &= ~flag_opts[k].attr;
                o->attr_clr |= flag_opts[k].attr;
            } else {
                o->flags |= flag_opts[k].flag;
                o->attr_set |= flag_opts[k].attr;
                if (flag_opts[k].attr & MOUNT_ATTR__ATIME)
                    o->attr_clr |= MOUNT_ATTR__ATIME;
            }
        }
        for (size_t k = 0; k < sizeof(prop_opts) / sizeof(*prop_opts) && !known; k++) {
            if (strcmp(s, prop_opts[k].name) == 0) {
                known = true;
                o->prop = prop_opts[k].flag;
            }
        }
        if (!known && (strcmp(s, "bind") == 0 || strcmp(s, "rbind") == 0)) {
            known = true;
            o->bind = true;
            o->rec = o->rec || s[0] == 'r';
        }
        if (known)
            continue;
        if (strcmp(s, "tmpcopyup") == 0 || strcmp(s, "idmap") == 0 || strcmp(s, "ridmap") == 0)
            return mk_err_set(err, MK_ERR_UNSUPPORTED,
                              "mount option %s is not supported by mocker's runtime", s);
        if (o->data.len > 0)
            mk_buf_puts(&o->data, ",");
        mk_buf_puts(&o->data, s);
    }
    if (o->bind && o->data.len > 0) {
        mk_err_set(err, MK_ERR_UNSUPPORTED, "bind mount option(s) %.*s not supported",
                   (int)o->data.len, o->data.data);
        mk_buf_free(&o->data);
        return -1;
    }
    return 0;
}

/* ---- the overlay rootfs ---- */

/* The kernel explains a failed fsconfig in the fs context's log. */
static void fs_log(int fsfd, mk_buf *out)
{
    char buf[512];
    ssize_t n;
    while ((n = read(fsfd, buf, sizeof(buf) - 1)) > 0) {
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        mk_buf_printf(out, ": %s", buf + (n > 2 && buf[1] == ' ' ? 2 : 0));
    }
}

/* The overlay's directories, from the org.mocker.rootfs.* annotations. */
struct overlay_dirs {
    const char *lowers, *upper, *work;
    bool volatile_;
};

static int overlay_legacy(const char *target, const struct overlay_dirs *o, mk_err **err)
{
    _cleanup_free_ char *data =
        o->upper != NULL ? xasprintf("lowerdir=%s,upperdir=%s,workdir=%s%s", o->lowers, o->upper,
                                     o->work, o->volatile_ ? ",volatile" : "")
                         : xasprintf("lowerdir=%s", o->lowers);
    if ((size_t)sysconf(_SC_PAGESIZE) <= strlen(data))
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "too many layers for this kernel's overlay mount options");
    if (mount("overlay", target, "overlay", 0, data) < 0)
        return mk_err_sys(err, "mount overlay on %s", target);
    return 0;
}

/* The overlay of o as a detached mount (fsopen + fsmount).  Returns 1 with
 * *out when made, 0 when the kernel has no fsopen (ENOSYS), -1 on an error;
 * what names the mount in messages. */
static int overlay_fsmount(const struct overlay_dirs *o, const char *what, int *out, mk_err **err)
{
    const char *lowers = o->lowers, *upper = o->upper, *work = o->work;
    _cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
    if (fs < 0)
        return errno == ENOSYS ? 0 : mk_err_sys(err, "fsopen overlay");
    /* One layer per call: no limit on the number of layers (kernel >= 6.8). */
    _cleanup_free_ char *copy = xstrdup(lowers);
    bool first = true;
    for (char *l = copy, *next; l != NULL; l = next) {
        next = strchr(l, ':');
        if (next != NULL)
            *next++ = '\0';
        if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", l, 0) == 0) {
            first = false;
            continue;
        }
        if (first && errno == EINVAL) {
            /* An older kernel: the whole list in one string. */
            if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", lowers, 0) < 0)
                goto fail;
            break;
        }
        goto fail;
    }
    if (upper != NULL && (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
                          fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
                          (o->volatile_ && fsconfig(fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)))
        goto fail;
    if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
        goto fail;
    int mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
    if (mnt < 0)
        goto fail;
    *out = mnt;
    return 1;
fail:;
    int e = errno;
    mk_buf log = {0};
    fs_log(fs, &log);
    mk_err_errno(err, e, "mount overlay on %s%s", what, log.data ? log.data : "");
    mk_buf_free(&log);
    return -1;
}

/* The org.mocker.rootfs.* annotations; 0 when they name no lower dirs. */
static int overlay_dirs_get(const json_t *ann, struct overlay_dirs *o, mk_err **err)
{
    o->lowers = mk_json_str(ann, "org.mocker.rootfs.lowerdirs");
    o->upper = mk_json_str(ann, "org.mocker.rootfs.upperdir");
    o->work = mk_json_str(ann, "org.mocker.rootfs.workdir");
    const char *vol = mk_json_str(ann, "org.mocker.rootfs.volatile");
    o->volatile_ = vol != NULL && strcmp(vol, "true") == 0;
    if (o->lowers == NULL || *o->lowers == '\0')
        return 0;
    if ((o->upper == NULL) != (o->work == NULL))
        return mk_err_set(err, MK_ERR_INVALID, "overlay rootfs needs both upperdir and workdir");
    if (o->volatile_ && o->work != NULL) {
        /* overlay refuses an upper it mounted volatile before (it may have
         * lost writes in a crash) until this mark goes.  Ours was unmounted
         * cleanly or belongs to a --rm container that died with the host: a
         * restart of it takes the rootfs as it is. */
        _cleanup_free_ char *incompat = xasprintf("%s/work/incompat", o->work);
        mk_rm_rf(incompat, NULL);
    }
    return 1;
}

int rt_overlay_open(const json_t *annotations, int *mnt, mk_err **err)
{
    struct overlay_dirs o;
    *mnt = -1;
    int r = overlay_dirs_get(annotations, &o, err);
    if (r <= 0)
        return r;
    return overlay_fsmount(&o, "the container's rootfs", mnt, err);
}

int rt_overlay_mount(const json_t *spec, const char *target, bool *mounted, mk_err **err)
{
    struct overlay_dirs o;
    *mounted = false;
    int r = overlay_dirs_get(json_object_get(spec, "annotations"), &o, err);
    if (r <= 0)
        return r;
    _cleanup_close_ int mnt = -1;
    r = overlay_fsmount(&o, target, &mnt, err);
    if (r < 0)
        return -1;
    if (r == 0) {
        if (overlay_legacy(target, &o, err) < 0)
            return -1;
        *mounted = true;
        return 0;
    }
    return rt_rootfs_attach(mnt, target, mounted, err);
}

int rt_rootfs_attach(int mnt, const char *target, bool *mounted, mk_err **err)
{
    if (move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return mk_err_sys(err, "mount overlay on %s", target);
    *mounted = true;
    return 0;
}

int mk_runtime_rootfs_open(const json_t *spec, int *out, mk_err **err)
{
    struct overlay_dirs o;
    int r = overlay_dirs_get(json_object_get(spec, "annotations"), &o, err);
    if (r < 0)
        return -1;
    if (r == 0)
        return mk_err_set(err, MK_ERR_UNSUPPORTED, "the container has no overlay rootfs");
    /* What a cp or an export writes is kept. */
    o.volatile_ = false;
    r = overlay_fsmount(&o, "a detached mount", out, err);
    if (r == 0)
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "this kernel cannot mount an overlay without attaching it (no fsopen)");
    return r < 0 ? -1 : 0;
}

/* ---- mounts ---- */

struct setup {
    struct rt_rootfs *r;
    int rootfd;
    bool dev_tmpfs;
};

static int apply_propagation(int fd, unsigned long prop, mk_err **err)
{
    if (prop == 0)
        return 0;
    char p[PROCFD_LEN];
    procfd(p, fd);
    if (mount(NULL, p, NULL, prop, NULL) < 0)
        return mk_err_sys(err, "set mount propagation");
    return 0;
}

/* Clone src (a host path) and attach it at the fd target with attrs on every
 * submount.  Returns the attached tree's fd (for later attribute changes). */
static int bind_tree(const char *src, int target, bool rec, uint64_t set, uint64_t clr,
                     mk_err **err)
{
    _cleanup_close_ int tree =
        open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec ? AT_RECURSIVE : 0));
    if (tree < 0)
        return mk_err_sys(err, "bind %s", src);
    if (set != 0 || clr != 0) {
        struct mount_attr attr = {.attr_set = set, .attr_clr = clr};
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
            return mk_err_sys(err, "set attributes of bind mount %s", src);
    }
    if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        return mk_err_sys(err, "bind %s", src);
    return steal_fd(&tree);
}

static int do_bind(struct setup *s, const char *src, const char *dest, struct mnt_opts *o,
                   mk_err **err)
{
    _cleanup_free_ char *abs = src[0] == '/' ? xstrdup(src) : mk_path_join(s->r->bundle, src);
    struct stat st;
    if (stat(abs, &st) < 0)
        return mk_err_sys(err, "bind source %s", abs);
    _cleanup_close_ int target = S_ISDIR(st.st_mode) ? mkdir_in_root(s->rootfd, dest, err)
                                                     : mkfile_in_root(s->rootfd, dest, err);
    if (target < 0)
        return -1;
    _cleanup_close_ int tree = bind_tree(abs, target, o->rec, o->attr_set, o->attr_clr, err);
    if (tree < 0)
        return -1;
    if (o->prop != 0) {
        struct mount_attr attr = {.propagation = o->prop & ~MS_REC};
        if (mount_setattr(tree, "", AT_EMPTY_PATH | ((o->prop & MS_REC) ? AT_RECURSIVE : 0), &attr,
                          sizeof(attr)) < 0)
            return mk_err_sys(err, "set propagation of %s", dest);
    }
    return 0;
}

static int do_cgroup_v1(struct setup *s, const char *dest, const struct mnt_opts *o, mk_err **err)
{
    _cleanup_close_ int target = mkdir_in_root(s->rootfd, dest, err);
    if (target < 0)
        return -1;
    char p[PROCFD_LEN];
    procfd(p, target);
    unsigned long flags = (o->flags & ~MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (mount("tmpfs", p, "tmpfs", flags, "mode=755") < 0)
        return mk_err_sys(err, "mount tmpfs on %s", dest);
    _cleanup_close_ int dir = mk_open_in_root(s->rootfd, dest, O_PATH | O_DIRECTORY, 0);
    if (dir < 0)
        return mk_err_sys(err, "open %s", dest);
    const char *cgpath = s->r->cgroup_path != NULL ? s->r->cgroup_path : "";
    /* The tmpfs's directories and links need no cgroup: made before the gate. */
    for (size_t i = 0; i < s->r->n_cg_mounts; i++) {
        const struct rt_cgroup_v1_mount *m = &s->r->cg_mounts[i];
        if (mkdirat(dir, m->name, 0755) < 0)
            return mk_err_sys(err, "mkdir %s/%s", dest, m->name);
        if (strchr(m->name, ',') == NULL)
            continue;
        _cleanup_free_ char *parts = xstrdup(m->name);
        char *save = NULL;
        for (char *c = strtok_r(parts, ",", &save); c != NULL; c = strtok_r(NULL, ",", &save))
            if (symlinkat(m->name, dir, c) < 0 && errno != EEXIST)
                return mk_err_sys(err, "symlink %s/%s", dest, c);
    }
    /* What is mounted there shows the namespace the init is in: its own. */
    if (rt_cgroup_gate_pass(s->r, err) < 0)
        return -1;
    for (size_t i = 0; i < s->r->n_cg_mounts; i++) {
        const struct rt_cgroup_v1_mount *m = &s->r->cg_mounts[i];
        _cleanup_close_ int sub =
            openat(dir, m->name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0)
            return mk_err_sys(err, "open %s/%s", dest, m->name);
        if (s->r->cgroupns) {
            char sp[PROCFD_LEN];
            procfd(sp, sub);
            if (mount("cgroup", sp, "cgroup", o->flags | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      m->opts) < 0)
                return mk_err_sys(err, "mount cgroup %s", m->opts);
        } else {
            _cleanup_free_ char *src = xasprintf("%s%s", m->dir, cgpath);
            int t = bind_tree(src, sub, false,
                              MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                                  ((o->flags & MS_RDONLY) ? MOUNT_ATTR_RDONLY : 0),
                              0, err);
            if (t < 0)
                return -1;
            close(t);
        }
    }
    if (o->flags & MS_RDONLY) {
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        if (mount_setattr(dir, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
            return mk_err_sys(err, "make %s read-only", dest);
    }
    return 0;
}

static int do_mount(struct setup *s, const json_t *m, mk_err **err)
{
    const char *dest = mk_json_str(m, "destination");
    const char *type = mk_json_str(m, "type");
    const char *src = mk_json_str(m, "source");
    if (dest == NULL || *dest == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "mount without a destination");
    if (type == NULL)
        type = "";
    struct mnt_opts o;
    if (parse_opts(json_object_get(m, "options"), strcmp(type, "bind") == 0, &o, err) < 0)
        return -1;
    int ret = -1;
    _cleanup_close_ int target = -1;
    bool is_cgroup = strcmp(type, "cgroup") == 0;
    if (o.bind) {
        if (src == NULL) {
            mk_err_set(err, MK_ERR_INVALID, "bind mount on %s without a source", dest);
            goto out;
        }
        ret = do_bind(s, src, dest, &o, err);
        goto out;
    }
    if (is_cgroup && mk_cgroup_detect() != MK_CGROUP_V2) {
        ret = do_cgroup_v1(s, dest, &o, err);
        goto out;
    }
    /* The cgroup mount shows the namespace the init is in: its own. */
    if (is_cgroup && rt_cgroup_gate_pass(s->r, err) < 0)
        goto out;
    if (is_cgroup)
        type = "cgroup2";
    target = mkdir_in_root(s->rootfd, dest, err);
    if (target < 0)
        goto out;
    char p[PROCFD_LEN];
    procfd(p, target);
    if (mount(src != NULL ? src : type, p, type, o.flags, o.data.data) < 0) {
        mk_err_sys(err, "mount %s on %s", type, dest);
        goto out;
    }
    if (strcmp(dest, "/dev") == 0 && strcmp(type, "tmpfs") == 0)
        s->dev_tmpfs = true;
    if (o.prop != 0) {
        _cleanup_close_ int top = mk_open_in_root(s->rootfd, dest, O_PATH, 0);
        if (top < 0 || apply_propagation(top, o.prop, err) < 0) {
            if (top < 0)
                mk_err_sys(err, "open %s", dest);
            goto out;
        }
    }
    ret = 0;
out:
    mk_buf_free(&o.data);
    return ret < 0 ? mk_err_wrap(err, "mount %s", dest) : 0;
}

/* ---- /dev ---- */

static int make_device(int rootfd, const char *path, mode_t type, mode_t mode, dev_t dev, uid_t uid,
                       gid_t gid, mk_err **err)
{
    _cleanup_free_ char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "device path %s is not absolute", path);
    *slash = '\0';
    _cleanup_close_ int d = mkdir_in_root(rootfd, *dir ? dir : "/", err);
    if (d < 0)
        return -1;
    const char *name = slash + 1;
    if (unlinkat(d, name, 0) < 0 && errno != ENOENT)
        return mk_err_sys(err, "replace %s", path);
    if (mknodat(d, name, type | mode, dev) < 0)
        return mk_err_sys(err, "mknod %s", path);
    if ((uid != 0 || gid != 0) && fchownat(d, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return mk_err_sys(err, "chown %s", path);
    return 0;
}

static int setup_dev(struct setup *s, mk_err **err)
{
    const json_t *devices = json_object_get(json_object_get(s->r->spec, "linux"), "devices");
    if (s->dev_tmpfs) {
        static const struct {
            const char *name;
            unsigned major, minor;
        } defaults[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                        {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
        _cleanup_close_ int dev = mk_open_in_root(s->rootfd, "/dev", O_PATH | O_DIRECTORY, 0);
        if (dev < 0)
            return mk_err_sys(err, "open /dev");
        /* The tmpfs mounted on /dev holds nothing but the spec's mounts,
         * which win, as with runc. */
        for (size_t i = 0; i < sizeof(defaults) / sizeof(*defaults); i++)
            if (mknodat(dev, defaults[i].name, S_IFCHR | 0666,
                        makedev(defaults[i].major, defaults[i].minor)) < 0 &&
                errno != EEXIST)
                return mk_err_sys(err, "mknod /dev/%s", defaults[i].name);
        static const char *const links[][2] = {
            {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"},
            {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
            {"pts/ptmx", "ptmx"},          {"/proc/kcore", "core"},
        };
        bool kcore = access("/proc/kcore", F_OK) == 0;
        for (size_t i = 0; i < sizeof(links) / sizeof(*links); i++) {
            if (strcmp(links[i][1], "core") == 0 && !kcore)
                continue;
            if (strcmp(links[i][1], "ptmx") == 0)
                unlinkat(dev, "ptmx", 0);
            if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
                return mk_err_sys(err, "symlink /dev/%s", links[i][1]);
        }
    }
    size_t i;
    json_t *d;
    json_array_foreach(devices, i, d)
    {
        const char *path = mk_json_str(d, "path");
        const char *type = mk_json_str(d, "type");
        mode_t t;
        if (type == NULL || path == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "linux.devices: entry without path or type");
        if (strcmp(type, "c") == 0 || strcmp(type, "u") == 0)
            t = S_IFCHR;
        else if (strcmp(type, "b") == 0)
            t = S_IFBLK;
        else if (strcmp(type, "p") == 0)
            t = S_IFIFO;
        else
            return mk_err_set(err, MK_ERR_INVALID, "linux.devices %s: bad type %s", path, type);
        mode_t mode = (mode_t)mk_json_int(d, "fileMode", 0666) & 07777;
        dev_t dev =
            makedev((unsigned)mk_json_int(d, "major", 0), (unsigned)mk_json_int(d, "minor", 0));
        if (make_device(s->rootfd, path, t, mode, dev, (uid_t)mk_json_int(d, "uid", 0),
                        (gid_t)mk_json_int(d, "gid", 0), err) < 0)
            return -1;
    }
    return 0;
}

static int setup_console(struct setup *s, mk_err **err)
{
    int ptmx = mk_open_in_root(s->rootfd, "/dev/pts/ptmx", O_RDWR | O_NOCTTY, 0);
    if (ptmx < 0)
        return mk_err_sys(err, "open /dev/pts/ptmx in the container");
    int slave = -1;
    if (rt_console_create(ptmx, s->r->console_sock,
                          json_object_get(json_object_get(s->r->spec, "process"), "consoleSize"),
                          &slave, err) < 0)
        return -1;
    s->r->console_slave = slave;
    _cleanup_close_ int console = mkfile_in_root(s->rootfd, "/dev/console", err);
    if (console < 0)
        return -1;
    char from[PROCFD_LEN], to[PROCFD_LEN];
    procfd(from, slave);
    procfd(to, console);
    if (mount(from, to, NULL, MS_BIND, NULL) < 0)
        return mk_err_sys(err, "bind the pty on /dev/console");
    return 0;
}

static int root_propagation(const json_t *spec, unsigned long *out, mk_err **err)
{
    const char *p = mk_json_str(json_object_get(spec, "linux"), "rootfsPropagation");
    *out = MS_SLAVE | MS_REC;
    if (p == NULL || *p == '\0')
        return 0;
    for (size_t k = 0; k < sizeof(prop_opts) / sizeof(*prop_opts); k++) {
        if (strcmp(p, prop_opts[k].name) != 0)
            continue;
        if (prop_opts[k].flag & MS_SHARED)
            break;
        *out = prop_opts[k].flag;
        return 0;
    }
    return mk_err_set(err, MK_ERR_UNSUPPORTED,
                      "linux.rootfsPropagation %s is not supported by mocker's runtime", p);
}

/* Whether mounts[i] is a cgroup mount that may move to the end of the list:
 * no mount after it goes below it. */
static bool cgroup_mount_deferred(const json_t *mounts, size_t i)
{
    const json_t *m = json_array_get(mounts, i);
    const char *type = mk_json_str(m, "type");
    const char *dest = mk_json_str(m, "destination");
    if (type == NULL || strcmp(type, "cgroup") != 0 || dest == NULL)
        return false;
    size_t len = strlen(dest);
    while (len > 1 && dest[len - 1] == '/')
        len--;
    for (size_t k = i + 1; k < json_array_size(mounts); k++) {
        const char *d = mk_json_str(json_array_get(mounts, k), "destination");
        if (d != NULL && strncmp(d, dest, len) == 0 && (d[len] == '/' || d[len] == '\0'))
            return false;
    }
    return true;
}

int rt_rootfs_setup(struct rt_rootfs *r, mk_err **err)
{
    const json_t *root = json_object_get(r->spec, "root");
    const char *rp = mk_json_str(root, "path");
    if (rp == NULL || *rp == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "spec has no root.path");
    _cleanup_free_ char *rootp = rp[0] == '/' ? xstrdup(rp) : mk_path_join(r->bundle, rp);
    unsigned long prop;
    if (root_propagation(r->spec, &prop, err) < 0)
        return -1;
    if (mount(NULL, "/", NULL, prop, NULL) < 0)
        return mk_err_sys(err, "make / %s", (prop & MS_PRIVATE) ? "private" : "slave");
    bool overlay = false;
    int made = r->rootfs_mnt;
    r->rootfs_mnt = -1;
    if (made >= 0) {
        /* Made ahead by the monitor (rootfs_job.c). */
        int a = rt_rootfs_attach(made, rootp, &overlay, err);
        close(made);
        if (a < 0)
            return -1;
    } else if (rt_overlay_mount(r->spec, rootp, &overlay, err) < 0) {
        return -1;
    }
    /* pivot_root needs a mount point; the overlay already is one. */
    if (!overlay && mount(rootp, rootp, NULL, MS_BIND | MS_REC, NULL) < 0)
        return mk_err_sys(err, "bind %s on itself", rootp);
    mk_trace("child-overlay");
    struct setup s = {.r = r, .rootfd = open(rootp, O_PATH | O_DIRECTORY | O_CLOEXEC)};
    if (s.rootfd < 0)
        return mk_err_sys(err, "open rootfs %s", rootp);
    int ret = -1;
    size_t i;
    json_t *m;
    const json_t *mounts = json_object_get(r->spec, "mounts");
    /* The cgroup mount waits at the cgroup gate: it is done last, after /dev
     * is filled, so that the rest overlaps with the monitor making the
     * cgroup. */
    json_array_foreach(mounts, i, m)
    {
        if (!cgroup_mount_deferred(mounts, i) && do_mount(&s, m, err) < 0)
            goto out;
    }
    mk_trace("child-mounts");
    if (setup_dev(&s, err) < 0)
        goto out;
    mk_trace("child-dev");
    if (r->terminal && setup_console(&s, err) < 0)
        goto out;
    json_array_foreach(mounts, i, m)
    {
        if (cgroup_mount_deferred(mounts, i) && do_mount(&s, m, err) < 0)
            goto out;
    }
    /* runc's trick: stack the old root under the new one, then detach it. */
    if (fchdir(s.rootfd) < 0 || syscall(SYS_pivot_root, ".", ".") < 0) {
        mk_err_sys(err, "pivot_root %s", rootp);
        goto out;
    }
    if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) {
        mk_err_sys(err, "detach the old root");
        goto out;
    }
    ret = 0;
out:
    close(s.rootfd);
    return ret;
}

/* ---- after pivot ---- */

static int write_sysctls(const json_t *sysctl, mk_err **err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)sysctl, key, v)
    {
        if (!json_is_string(v) || strstr(key, "..") != NULL || key[0] == '.' || key[0] == '/')
            return mk_err_set(err, MK_ERR_INVALID, "linux.sysctl: bad entry %s", key);
        _cleanup_free_ char *path = xasprintf("/proc/sys/%s", key);
        for (char *p = path + strlen("/proc/sys/"); *p; p++)
            if (*p == '.')
                *p = '/';
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        const char *val = json_string_value(v);
        if (fd < 0 || write(fd, val, strlen(val)) < 0)
            return mk_err_sys(err, "sysctl %s", key);
    }
    return 0;
}

static int readonly_path(const char *path, mk_err **err)
{
    _cleanup_close_ int tree =
        open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (tree < 0)
        return errno == ENOENT ? 0 : mk_err_sys(err, "readonly path %s", path);
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
    if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0 ||
        move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return mk_err_sys(err, "readonly path %s", path);
    return 0;
}

static int masked_path(const char *path, mk_err **err)
{
    if (mount("/dev/null", path, NULL, MS_BIND, NULL) == 0 || errno == ENOENT)
        return 0;
    if (errno == ENOTDIR && mount("tmpfs", path, "tmpfs", MS_RDONLY, NULL) == 0)
        return 0;
    return mk_err_sys(err, "mask %s", path);
}

int rt_rootfs_finish(const json_t *spec, mk_err **err)
{
    const json_t *lnx = json_object_get(spec, "linux");
    if (write_sysctls(json_object_get(lnx, "sysctl"), err) < 0)
        return -1;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(lnx, "readonlyPaths"), i, p)
    {
        if (json_is_string(p) && readonly_path(json_string_value(p), err) < 0)
            return -1;
    }
    json_array_foreach(json_object_get(lnx, "maskedPaths"), i, p)
    {
        if (json_is_string(p) && masked_path(json_string_value(p), err) < 0)
            return -1;
    }
    if (mk_json_bool(json_object_get(spec, "root"), "readonly", false)) {
        struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
        if (mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof(attr)) < 0)
            return mk_err_sys(err, "make the root read-only");
    }
    return 0;
}
