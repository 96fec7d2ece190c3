/* layer.c: unpacked layers.  Extraction of a layer tar into a directory (OCI
 * whiteouts become overlayfs ones), chain ids, the overlay lower dirs of an
 * image, and looking a file up through a layer stack without mounting it.
 *
 * Extraction runs in a forked child that changes into the target directory, so
 * libarchive's secure-extraction checks (no "..", no absolute names, never
 * through a symlink) are anchored at the layer root and the caller's working
 * directory (shared by every thread of mocker serve) is never touched. */
#include "image/image.h"
#include "util/lazylib.h"
#include "util/tarfs.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <signal.h>
#include <iconv.h>
#include <limits.h>
#include <locale.h>
#include <linux/openat2.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#define OPAQUE_MARKER ".wh..wh..opq"
#define OPAQUE_XATTR  "trusted.overlay.opaque"

/* ---- chain ids ---- */

char *mk_layer_chain_id(const char *parent, const char *diff_id)
{
    if (parent == NULL)
        return xstrdup(diff_id);
    _cleanup_free_ char *s = xasprintf("%s %s", parent, diff_id);
    return mk_sha256_digest(s, strlen(s));
}

int mk_image_chain_ids(const json_t *config, char ***out, mk_err **err)
{
    json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
    if (diff_ids != NULL && !json_is_array(diff_ids))
        return mk_err_set(err, MK_ERR_INVALID, "image config: rootfs.diff_ids is not an array");
    _cleanup_strv_ char **chains = xcalloc(1, sizeof(char *));
    _cleanup_free_ char *chain = NULL;
    size_t i;
    json_t *d;
    json_array_foreach(diff_ids, i, d)
    {
        const char *diff = json_string_value(d);
        if (!mk_store_digest_valid(diff))
            return mk_err_set(err, MK_ERR_INVALID, "image config: invalid diff id %s",
                              diff != NULL ? diff : "(not a string)");
        char *next = mk_layer_chain_id(chain, diff);
        free(chain);
        chain = next;
        mk_strv_push(&chains, chain);
    }
    *out = steal_pointer(&chains);
    return 0;
}

/* ---- extraction ---- */

/* clamp: ".." at the top stays at the top, as in a chroot (extraction);
 * otherwise a name that climbs out is NULL. */
static char *name_clean(const char *name, bool clamp)
{
    /* Linear in the name: components are (start, length) pairs into it, and
     * the result is written once.  Names come from untrusted archives and
     * may be a megabyte long. */
    size_t cap = strlen(name) / 2 + 1, n = 0;
    _cleanup_free_ const char **start = xcalloc(cap, sizeof(*start));
    _cleanup_free_ size_t *len = xcalloc(cap, sizeof(*len));
    const char *p = name;
    while (*p != '\0') {
        while (*p == '/')
            p++;
        size_t k = strcspn(p, "/");
        if (k == 0)
            break;
        if (k == 2 && p[0] == '.' && p[1] == '.') {
            if (n == 0 && !clamp)
                return NULL;
            if (n > 0)
                n--;
        } else if (!(k == 1 && p[0] == '.')) {
            start[n] = p;
            len[n++] = k;
        }
        p += k;
    }
    mk_buf out = {0};
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            mk_buf_append(&out, "/", 1);
        mk_buf_append(&out, start[i], len[i]);
    }
    mk_buf_append(&out, "", 1);
    return mk_buf_steal(&out);
}

char *mk_tar_name_clean(const char *name)
{
    return name_clean(name, false);
}

/* The extraction child's /proc/self/fd, opened before it chroots. */
static int proc_fd_dir = -1;

/* path relative to root ("" for root itself), or NULL if it is not below. */
static const char *path_below(const char *path, const char *root)
{
    if (strcmp(root, "/") == 0)
        return path[0] == '/' ? path + 1 : NULL;
    size_t n = strlen(root);
    if (strncmp(path, root, n) != 0 || (path[n] != '/' && path[n] != '\0'))
        return NULL;
    return path[n] == '/' ? path + n + 1 : path + n;
}

/* rel (clean, relative to the layer root at root_fd, whose real path is
 * root_abs) with its directories resolved the way dockerd's chrooted
 * extraction resolves them: a symlinked directory leads where it points, "/"
 * being the layer root, so "link/tmp/x" with link -> / is "tmp/x".  Its last
 * component is left alone (a member replaces a symlink, never writes through
 * it).  NULL if the kernel says a directory is somewhere we cannot name. */
static char *resolve_in_layer(int root_fd, const char *root_abs, const char *rel)
{
    const char *slash = strrchr(rel, '/');
    if (slash == NULL)
        return xstrdup(rel);
    _cleanup_free_ char *parent = xstrndup(rel, (size_t)(slash - rel));
    /* The common case: every directory already real (or not there yet). */
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH};
    int fd = (int)syscall(SYS_openat2, root_fd, parent, &how, sizeof(how));
    if (fd >= 0) {
        close(fd);
        return xstrdup(rel);
    }
    mk_buf done = {0};
    mk_buf_append(&done, "", 1);
    done.len = 0;
    const char *p = parent;
    while (*p != '\0') {
        size_t n = strcspn(p, "/");
        _cleanup_free_ char *cand = xasprintf("%s%s%.*s", done.data, done.len ? "/" : "", (int)n, p);
        fd = mk_open_in_root(root_fd, cand, O_PATH, 0);
        if (fd < 0) {
            /* Not there yet: the rest is created under what we resolved. */
            mk_buf_printf(&done, "%s%s", done.len ? "/" : "", p);
            break;
        }
        char name[32], real[PATH_MAX];
        snprintf(name, sizeof(name), "%d", fd);
        ssize_t len = readlinkat(proc_fd_dir, name, real, sizeof(real) - 1);
        close(fd);
        const char *inside = len < 0 ? NULL : (real[len] = '\0', path_below(real, root_abs));
        if (inside == NULL) {
            mk_buf_free(&done);
            return NULL;
        }
        done.len = 0;
        mk_buf_printf(&done, "%s", inside);
        p += n;
        while (*p == '/')
            p++;
    }
    char *out = xasprintf("%s%s%s", done.data, done.len ? "/" : "", slash + 1);
    mk_buf_free(&done);
    return out;
}

/* Open a directory below the current one without following any symlink. */
static int open_dir_nofollow(const char *rel)
{
    int fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    _cleanup_free_ char *copy = xstrdup(rel);
    char *save = NULL;
    for (char *c = strtok_r(copy, "/", &save); c != NULL && fd >= 0;
         c = strtok_r(NULL, "/", &save)) {
        int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        fd = next;
    }
    return fd;
}

/* overlayfs reads trusted.overlay.* (redirect, opaque, origin...) as
 * instructions: a layer's files may not carry them from a tar, whatever the
 * tar says (commit leaves them out of the layers it writes for the same
 * reason).  Whiteouts and opaque directories come from the .wh. entries. */
static void drop_overlay_xattrs(struct archive_entry *e)
{
    if (archive_entry_xattr_count(e) == 0)
        return;
    struct kept {
        char *name;
        void *value;
        size_t size;
    } *kept = xcalloc((size_t)archive_entry_xattr_count(e), sizeof(*kept));
    size_t n = 0;
    bool dropped = false;
    const char *name;
    const void *value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        if (strncmp(name, "trusted.overlay.", 16) == 0) {
            dropped = true;
            continue;
        }
        kept[n].name = xstrdup(name);
        kept[n].value = xmalloc(size > 0 ? size : 1);
        memcpy(kept[n].value, value, size);
        kept[n++].size = size;
    }
    if (dropped) {
        archive_entry_xattr_clear(e);
        for (size_t i = 0; i < n; i++)
            archive_entry_xattr_add_entry(e, kept[i].name, kept[i].value, kept[i].size);
    }
    for (size_t i = 0; i < n; i++) {
        free(kept[i].name);
        free(kept[i].value);
    }
    free(kept);
}

/* Write an entry through the disk writer (and so through its security checks). */
static int write_entry(struct archive *a, struct archive *disk, struct archive_entry *e,
                       mk_buf *msg)
{
    drop_overlay_xattrs(e);
    int r = archive_write_header(disk, e);
    if (r < ARCHIVE_WARN) {
        mk_buf_printf(msg, "%s: %s", archive_entry_pathname(e), archive_error_string(disk));
        return -1;
    }
    if (a != NULL && archive_entry_size(e) > 0) {
        const void *buf;
        size_t size;
        la_int64_t off;
        while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
            if (archive_write_data_block(disk, buf, size, off) < ARCHIVE_WARN) {
                mk_buf_printf(msg, "%s: %s", archive_entry_pathname(e), archive_error_string(disk));
                return -1;
            }
        }
        if (r != ARCHIVE_EOF) {
            mk_buf_printf(msg, "%s: %s", archive_entry_pathname(e), archive_error_string(a));
            return -1;
        }
    }
    if (archive_write_finish_entry(disk) < ARCHIVE_WARN) {
        mk_buf_printf(msg, "%s: %s", archive_entry_pathname(e), archive_error_string(disk));
        return -1;
    }
    return 0;
}

/* Make sure parent (relative, cleaned) exists as a real directory. */
static int ensure_parent_dir(struct archive *disk, const char *parent, mk_buf *msg)
{
    if (*parent == '\0')
        return 0;
    struct stat st;
    if (fstatat(AT_FDCWD, parent, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
        return 0;
    struct archive_entry *d = archive_entry_new();
    archive_entry_set_pathname(d, parent);
    archive_entry_set_filetype(d, AE_IFDIR);
    archive_entry_set_perm(d, 0755);
    int r = write_entry(NULL, disk, d, msg);
    archive_entry_free(d);
    return r;
}

/* ".wh.<name>" -> char device 0/0 <name>; ".wh..wh..opq" -> opaque parent. */
static int apply_whiteout(struct archive *disk, const char *path, const char *base, mk_buf *msg)
{
    _cleanup_free_ char *parent = xstrndup(path, (size_t)(base - path));
    if (parent[0] != '\0')
        parent[strlen(parent) - 1] = '\0'; /* drop the trailing '/' */
    if (ensure_parent_dir(disk, parent, msg) < 0)
        return -1;
    if (strcmp(base, OPAQUE_MARKER) == 0) {
        int fd = open_dir_nofollow(parent);
        if (fd < 0 || fsetxattr(fd, OPAQUE_XATTR, "y", 1, 0) < 0) {
            mk_buf_printf(msg, "%s: mark opaque: %s", path, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -1;
        }
        close(fd);
        return 0;
    }
    const char *name = base + 4; /* after ".wh." */
    if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
        mk_buf_printf(msg, "%s: invalid whiteout", path);
        return -1;
    }
    _cleanup_free_ char *target = xasprintf("%s%s%s", parent, *parent ? "/" : "", name);
    struct archive_entry *w = archive_entry_new();
    archive_entry_set_pathname(w, target);
    archive_entry_set_filetype(w, AE_IFCHR);
    archive_entry_set_rdev(w, makedev(0, 0));
    archive_entry_set_perm(w, 0);
    int r = write_entry(NULL, disk, w, msg);
    archive_entry_free(w);
    return r;
}

/* The root entry ("./") sets the layer root's mode and owner. */
static void apply_root_entry(struct archive_entry *e)
{
    if (archive_entry_filetype(e) != AE_IFDIR)
        return;
    if (fchownat(AT_FDCWD, ".", (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e), 0) < 0)
        return;
    fchmodat(AT_FDCWD, ".", archive_entry_perm(e) & 07777, 0);
}

/* Where the extraction child reads its tar from.  With a digest wanted, a
 * first reader only decompresses (format "raw"), hashing what comes out, and
 * the tar reader pulls from it: the layer's diff id is the sha256 of the
 * uncompressed tar, checked against the image config before the layer is
 * used. */
struct unpack_src {
    struct archive *raw;
    struct mk_sha256 sha;
    char buf[1 << 16];
};

static la_ssize_t raw_read(struct archive *a, void *ctx, const void **buf)
{
    struct unpack_src *src = ctx;
    la_ssize_t n = archive_read_data(src->raw, src->buf, sizeof(src->buf));
    if (n > 0)
        mk_sha256_update(&src->sha, src->buf, (size_t)n);
    *buf = src->buf;
    return n;
}

/* The body of the extraction child: cwd is the layer root.  Returns bytes
 * unpacked or -1 with msg filled; hex (if not NULL) gets the diff id. */
static int64_t extract_here(int tar_fd, char *hex, mk_buf *msg)
{
    struct archive *a = archive_read_new();
    struct archive *disk = archive_write_disk_new();
    struct unpack_src *src = NULL;
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    archive_write_disk_set_options(
        disk, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_TIME |
                  ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_UNLINK | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                  ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
    int64_t size = -1, total = 0;
    int root_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    char root_abs[PATH_MAX];
    if (root_fd < 0 || getcwd(root_abs, sizeof(root_abs)) == NULL) {
        mk_buf_printf(msg, "layer root: %s", strerror(errno));
        goto out;
    }
    if (hex != NULL) {
        src = xcalloc(1, sizeof(*src));
        mk_sha256_init(&src->sha);
        src->raw = archive_read_new();
        mk_archive_read_filters(src->raw);
        archive_read_support_format_raw(src->raw);
        struct archive_entry *e;
        if (archive_read_open_fd(src->raw, tar_fd, 1 << 20) != ARCHIVE_OK ||
            archive_read_next_header(src->raw, &e) != ARCHIVE_OK) {
            mk_buf_printf(msg, "%s", archive_error_string(src->raw));
            goto out;
        }
        if (archive_read_open(a, src, NULL, raw_read, NULL) != ARCHIVE_OK) {
            mk_buf_printf(msg, "%s", archive_error_string(a));
            goto out;
        }
    } else {
        mk_archive_read_filters(a);
        if (archive_read_open_fd(a, tar_fd, 1 << 16) != ARCHIVE_OK) {
            mk_buf_printf(msg, "%s", archive_error_string(a));
            goto out;
        }
    }
    for (;;) {
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            mk_buf_printf(msg, "%s", archive_error_string(a));
            goto out;
        }
        /* Names are read as dockerd's chrooted extraction reads them: ".."
         * and "/" stop at the layer root, symlinked directories resolve
         * inside it.  Nothing can name a place outside. */
        _cleanup_free_ char *clean = name_clean(archive_entry_pathname(e), true);
        _cleanup_free_ char *path = resolve_in_layer(root_fd, root_abs, clean);
        if (path == NULL) {
            mk_buf_printf(msg, "\"%s\" is outside of the layer", archive_entry_pathname(e));
            goto out;
        }
        if (*path == '\0') {
            apply_root_entry(e);
            continue;
        }
        const char *base = strrchr(path, '/');
        base = base != NULL ? base + 1 : path;
        if (strncmp(base, ".wh.", 4) == 0) {
            if (apply_whiteout(disk, path, base, msg) < 0)
                goto out;
            continue;
        }
        archive_entry_set_pathname(e, path);
        const char *link = archive_entry_hardlink(e);
        if (link != NULL) {
            _cleanup_free_ char *link_name = name_clean(link, true);
            _cleanup_free_ char *clean_link = resolve_in_layer(root_fd, root_abs, link_name);
            if (clean_link == NULL || *clean_link == '\0') {
                mk_buf_printf(msg, "\"%s\": hard link target \"%s\" is outside of the layer", path,
                              link);
                goto out;
            }
            archive_entry_set_hardlink(e, clean_link);
            /* A hard link has no data of its own (Go's tar reader, dockerd's,
             * says so too): with a size, libarchive would write the data and
             * the entry's mode through the link, and the link may name a
             * symlink. */
            archive_entry_set_size(e, 0);
        }
        /* docker's layer size: file sizes, a hard-linked file once, and a
         * symlink's target length (its lstat size) */
        if (archive_entry_filetype(e) == AE_IFREG && link == NULL)
            total += archive_entry_size(e);
        else if (archive_entry_filetype(e) == AE_IFLNK && archive_entry_symlink(e) != NULL)
            total += (int64_t)strlen(archive_entry_symlink(e));
        if (write_entry(a, disk, e, msg) < 0)
            goto out;
    }
    if (archive_write_close(disk) != ARCHIVE_OK) {
        mk_buf_printf(msg, "%s", archive_error_string(disk));
        goto out;
    }
    if (src != NULL) {
        /* What follows the tar's end blocks is part of the layer's digest too. */
        la_ssize_t n;
        while ((n = archive_read_data(src->raw, src->buf, sizeof(src->buf))) > 0)
            mk_sha256_update(&src->sha, src->buf, (size_t)n);
        if (n < 0) {
            mk_buf_printf(msg, "%s", archive_error_string(src->raw));
            goto out;
        }
        mk_sha256_hex(&src->sha, hex);
    }
    size = total;
out:
    if (root_fd >= 0)
        close(root_fd);
    archive_read_free(a);
    archive_write_free(disk);
    if (src != NULL) {
        archive_read_free(src->raw);
        free(src);
    }
    return size;
}

/* Fixed descriptors of the extraction child. */
enum { CHILD_IN = 3, CHILD_RESULT, CHILD_DIR };

/* Move fds to CHILD_IN.. and close every other one but stdio, so that a
 * sibling's input socket is never held open by this child (it would never
 * see the end of its stream). */
static int child_fds(int in, int result, int dir)
{
    int fds[3] = {in, result, dir};
    for (int i = 0; i < 3; i++)
        if ((fds[i] = fcntl(fds[i], F_DUPFD, 100)) < 0)
            return -1;
    for (int i = 0; i < 3; i++)
        if (dup2(fds[i], CHILD_IN + i) < 0)
            return -1;
    mk_close_fds_from(CHILD_DIR + 1);
    return 0;
}

int mk_layer_unpack_start(int in_fd, const char *dir, bool want_digest, struct mk_unpack *u,
                          mk_err **err)
{
    u->pid = -1;
    u->input = u->result = -1;
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return mk_err_sys(err, "open %s", dir);
    int sv[2] = {-1, -1}, pfd[2];
    if (in_fd < 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return mk_err_sys(err, "socketpair");
    if (in_fd < 0) {
        /* A layer streams through here: with the default ~200 kB buffer
         * the two sides take turns in small pieces (thousands of system
         * calls per 50 MB).  As root the buffer can be larger than
         * wmem_max; otherwise the ordinary request is capped, harmlessly. */
        int size = 4 << 20;
        if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
            setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    }
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        mk_err_sys(err, "pipe");
        goto fail;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        mk_err_sys(err, "fork");
        close(pfd[0]);
        close(pfd[1]);
        goto fail;
    }
    if (pid == 0) {
        /* A pull killed with -9 takes its extractions with it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(3);
        if (child_fds(in_fd >= 0 ? in_fd : sv[1], pfd[1], dfd) < 0)
            _exit(2);
        mk_buf msg = {0};
        char hex[65] = {0};
        int64_t size = -1;
        /* Chrooted at the layer, as dockerd extracts: whatever libarchive
         * does with a name or a link, "/" is the layer.  libarchive is
         * loaded (with the libraries behind it) before the host's files
         * are out of sight. */
        proc_fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
        archive_read_free(archive_read_new());
        /* Nothing may be loaded from the layer after the chroot.  libarchive
         * converts pax names to the locale's charset with iconv, and glibc
         * reads its converter list and modules from /usr/lib/.../gconv on
         * first use: inside the chroot, files the layer itself provides.  In
         * a UTF-8 locale every conversion libarchive makes for a tar is
         * UTF-8 to UTF-8 and needs no converter; iconv's configuration is
         * read now, from the host, in case one is asked for anyway. */
        if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
            _exit(4);
        iconv_t cd = iconv_open("UTF-8", "ISO-8859-1");
        if (cd != (iconv_t)-1)
            iconv_close(cd);
        if (proc_fd_dir < 0 || fchdir(CHILD_DIR) < 0 || chroot(".") < 0 || chdir("/") < 0)
            mk_buf_printf(&msg, "enter %s: %s", dir, strerror(errno));
        else
            size = extract_here(CHILD_IN, want_digest ? hex : NULL, &msg);
        /* The parent may still be writing the stream: close it first, or a
         * full socket and a full result pipe wait on each other. */
        close(CHILD_IN);
        if (msg.len > 4096)
            msg.len = 4096;
        if (mk_write_all(CHILD_RESULT, &size, sizeof(size)) < 0 ||
            mk_write_all(CHILD_RESULT, hex, 64) < 0 ||
            (msg.len > 0 && mk_write_all(CHILD_RESULT, msg.data, msg.len) < 0))
            _exit(2);
        _exit(size < 0 ? 1 : 0);
    }
    close(pfd[1]);
    if (sv[1] >= 0)
        close(sv[1]);
    u->pid = pid;
    u->input = sv[0];
    u->result = pfd[0];
    return 0;
fail:
    if (sv[0] >= 0) {
        close(sv[0]);
        close(sv[1]);
    }
    return -1;
}

void mk_layer_unpack_abort(struct mk_unpack *u)
{
    if (u->input >= 0)
        close(u->input);
    if (u->result >= 0)
        close(u->result);
    if (u->pid > 0) {
        kill(u->pid, SIGKILL);
        while (waitpid(u->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    u->pid = u->input = u->result = -1;
}

int mk_layer_unpack_finish(struct mk_unpack *u, int64_t *out_size, char **out_diff_id,
                           mk_err **err)
{
    if (u->input >= 0) {
        close(u->input); /* the end of the stream */
        u->input = -1;
    }
    int64_t size = -1;
    char hex[65] = {0};
    mk_buf msg = {0};
    ssize_t got = mk_read_all(u->result, &size, sizeof(size));
    ssize_t got_hex = mk_read_all(u->result, hex, 64);
    char chunk[1024];
    ssize_t n;
    while ((n = mk_read_all(u->result, chunk, sizeof(chunk))) > 0)
        mk_buf_append(&msg, chunk, (size_t)n);
    close(u->result);
    u->result = -1;
    int status = -1;
    while (waitpid(u->pid, &status, 0) < 0 && errno == EINTR)
        ;
    u->pid = -1;
    mk_buf_append(&msg, "", 1);
    _cleanup_free_ char *text = mk_buf_steal(&msg);
    if (got != (ssize_t)sizeof(size) || got_hex != 64 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || size < 0)
        return mk_err_set(err, MK_ERR_INVALID, "extract layer: %s",
                          *text ? text : "extraction process failed");
    if (out_size != NULL)
        *out_size = size;
    if (out_diff_id != NULL)
        *out_diff_id = hex[0] != '\0' ? xasprintf("sha256:%s", hex) : NULL;
    return 0;
}

int mk_layer_extract(int tar_fd, const char *dir, int64_t *out_size, mk_err **err)
{
    struct mk_unpack u;
    if (mk_layer_unpack_start(tar_fd, dir, false, &u, err) < 0)
        return -1;
    return mk_layer_unpack_finish(&u, out_size, NULL, err);
}

/* ---- lower dirs ---- */

int mk_image_lower_dirs(struct mk_store *s, const struct mk_image *img, char ***out, mk_err **err)
{
    _cleanup_strv_ char **chains = NULL;
    if (mk_image_chain_ids(img->config, &chains, err) < 0)
        return mk_err_wrap(err, "image %s", img->id);
    size_t n = mk_strv_len(chains);
    _cleanup_strv_ char **dirs = xcalloc(n + 2, sizeof(char *));
    if (n == 0) {
        /* overlayfs needs at least one lower dir: a shared empty one. */
        dirs[0] = xasprintf("%s/layers/empty/diff", s->root);
        if (mk_mkdir_p(dirs[0], 0755, err) < 0)
            return -1;
        *out = steal_pointer(&dirs);
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *layer = mk_store_layer_dir(s, chains[n - 1 - i]);
        dirs[i] = mk_path_join(layer, "diff");
        struct stat st;
        if (stat(dirs[i], &st) < 0 || !S_ISDIR(st.st_mode))
            return mk_err_set(err, MK_ERR_NOT_FOUND, "image %s: layer %s is missing", img->id,
                              chains[n - 1 - i]);
    }
    *out = steal_pointer(&dirs);
    return 0;
}

/* The init layer, made aside (layers/tmp-*, swept when a crash leaves one)
 * and renamed into place: a reader finds it whole or not at all, and two
 * makers at once leave one. */
static int init_layer_make(struct mk_store *s, const char *dir, mk_err **err)
{
    static const char *const dirs[] = {"diff", "diff/etc", "diff/proc", "diff/sys", "diff/dev"};
    static const char *const files[] = {"diff/etc/hosts", "diff/etc/hostname",
                                        "diff/etc/resolv.conf"};
    _cleanup_free_ char *rnd = mk_random_hex(8);
    _cleanup_free_ char *tmp = xasprintf("%s/layers/tmp-init-%s", s->root, rnd);
    int ret = -1;
    if (mkdir(tmp, 0755) < 0)
        return mk_err_sys(err, "mkdir %s", tmp);
    _cleanup_close_ int t = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (t < 0) {
        mk_err_sys(err, "open %s", tmp);
        goto out;
    }
    for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
        if (mkdirat(t, dirs[i], 0755) < 0) {
            mk_err_sys(err, "mkdir %s/%s", tmp, dirs[i]);
            goto out;
        }
    }
    for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
        int fd = openat(t, files[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            mk_err_sys(err, "create %s/%s", tmp, files[i]);
            goto out;
        }
        close(fd);
    }
    if (rename(tmp, dir) == 0 || errno == EEXIST || errno == ENOTEMPTY)
        ret = 0;
    else
        mk_err_sys(err, "rename %s to %s", tmp, dir);
out:
    if (access(tmp, F_OK) == 0)
        mk_rm_rf(tmp, NULL);
    return ret;
}

int mk_container_lower_dirs(struct mk_store *s, const struct mk_image *img, char ***out,
                            mk_err **err)
{
    _cleanup_strv_ char **image = NULL;
    if (mk_image_lower_dirs(s, img, &image, err) < 0)
        return -1;
    _cleanup_free_ char *dir = xasprintf("%s/layers/init", s->root);
    _cleanup_free_ char *diff = mk_path_join(dir, "diff");
    if (access(diff, F_OK) < 0 && init_layer_make(s, dir, err) < 0)
        return mk_err_wrap(err, "the containers' init layer");
    char **dirs = NULL;
    mk_strv_push(&dirs, diff);
    for (size_t i = 0; image[i] != NULL; i++)
        mk_strv_push(&dirs, image[i]);
    *out = dirs;
    return 0;
}

/* ---- reading through a stack of layers ---- */

static bool is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static bool is_opaque(const char *path)
{
    char v[4];
    ssize_t n = lgetxattr(path, OPAQUE_XATTR, v, sizeof(v));
    return n == 1 && v[0] == 'y';
}

char *mk_layers_find_file(char *const *dirs, const char *rel)
{
    _cleanup_free_ char *clean = mk_tar_name_clean(rel);
    if (clean == NULL || *clean == '\0')
        return NULL;
    for (size_t l = 0; dirs != NULL && dirs[l] != NULL; l++) {
        bool opaque_below = false;
        _cleanup_free_ char *path = xstrdup(dirs[l]);
        const char *p = clean;
        for (;;) {
            size_t n = strcspn(p, "/");
            bool last = p[n] == '\0';
            char *next = xasprintf("%s/%.*s", path, (int)n, p);
            free(path);
            path = next;
            struct stat st;
            if (lstat(path, &st) < 0)
                break; /* not in this layer */
            if (is_whiteout(&st))
                return NULL;
            if (last) {
                /* Symlinks are not followed: they may point out of the stack. */
                if (S_ISREG(st.st_mode))
                    return steal_pointer(&path);
                return NULL;
            }
            if (!S_ISDIR(st.st_mode))
                return NULL;
            if (is_opaque(path))
                opaque_below = true;
            p += n + 1;
        }
        if (opaque_below)
            return NULL;
    }
    return NULL;
}
