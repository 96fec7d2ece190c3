/* cmd_cp.c: docker cp between a container and the host (or a tar on stdin/stdout).
 *
 * As in docker, the CLI decides where things land (the destination rules of
 * docker's archive.PrepareArchiveCopy) and the engine only archives a path or
 * extracts into a directory.  A copy is a tar stream over a pipe: a writer
 * thread produces it while this thread extracts, and both sides resolve paths
 * inside their own root (util/tarfs.h), so a container symlink to /etc copied
 * out stays a symlink and nothing is written through it. */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

/* One side of a copy as docker's archive.CopyInfo. */
struct copy_info {
    char *path;
    bool exists, is_dir;
    char *rebase; /* the name the entries take instead of the path's last component */
};

static void copy_info_clear(struct copy_info *c)
{
    free(c->path);
    free(c->rebase);
}

/* Local errors are printed as docker's CLI prints them, without "Error response from daemon". */
static int local_fail(mk_err *err)
{
    fprintf(stderr, "%s\n", err->msg);
    mk_err_free(err);
    return 1;
}

static bool has_trailing_sep(const char *p)
{
    size_t n = strlen(p);
    return n > 0 && p[n - 1] == '/';
}

/* docker's PreserveTrailingDotOrSeparator. */
static char *preserve_trailing(char *clean, const char *original)
{
    if (mk_path_specifies_current_dir(original) && !mk_path_specifies_current_dir(clean)) {
        char *r = xasprintf("%s%s.", clean, has_trailing_sep(clean) ? "" : "/");
        free(clean);
        return r;
    }
    if (has_trailing_sep(original) && !has_trailing_sep(clean)) {
        char *r = xasprintf("%s/", clean);
        free(clean);
        return r;
    }
    return clean;
}

/* filepath.Join(dir, rel) with docker's trailing "/" or "/." kept from rel. */
static char *join_clean(const char *dir, const char *rel)
{
    _cleanup_free_ char *joined = rel[0] == '/' ? xstrdup(rel) : xasprintf("%s/%s", dir, rel);
    char *d = NULL, *b = NULL;
    mk_path_split_entry(joined, &d, &b);
    char *clean = strcmp(b, ".") == 0   ? xstrdup(d)
                  : strcmp(d, "/") == 0 ? xasprintf("/%s", b)
                                        : xasprintf("%s/%s", d, b);
    free(d);
    free(b);
    return clean;
}

/* docker's resolveLocalPath: absolute, keeping a trailing "/" or "/.". */
static char *local_abs(const char *path)
{
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        strcpy(cwd, "/");
    return preserve_trailing(join_clean(cwd, path), path);
}

static char *base_of(const char *path)
{
    _cleanup_free_ char *dir = NULL;
    char *base = NULL;
    mk_path_split_entry(path, &dir, &base);
    return base;
}

static char *dir_of(const char *path)
{
    _cleanup_free_ char *base = NULL;
    char *dir = NULL;
    mk_path_split_entry(path, &dir, &base);
    return dir;
}

/* docker's GetRebaseName: the link target to archive, and the name its entries
 * must take (the link's own name) when the last component changed. */
static void rebase_name(const char *path, char **resolved, char **rebase)
{
    *resolved = preserve_trailing(*resolved, path);
    _cleanup_free_ char *b1 = base_of(path);
    _cleanup_free_ char *b2 = base_of(*resolved);
    *rebase = strcmp(b1, b2) != 0 ? xstrdup(b1) : NULL;
}

/* docker's PrepareArchiveCopy: the directory to extract into, and in *to the
 * name the source's entries take when the copy is renamed (the writer names
 * them so, instead of docker's rewriting of the stream). */
static int prepare_copy(const struct copy_info *src, const struct copy_info *dst, char **dst_dir,
                        char **to, mk_err **err)
{
    if (dst->exists && dst->is_dir) {
        *dst_dir = xstrdup(dst->path);
        return 0;
    }
    if (dst->exists && src->is_dir)
        return mk_err_set(err, MK_ERR_INVALID, "cannot copy directory");
    if (!dst->exists && !src->is_dir &&
        (has_trailing_sep(dst->path) || mk_path_specifies_current_dir(dst->path)))
        return mk_err_set(err, MK_ERR_INVALID, "no such directory");
    *dst_dir = dir_of(dst->path);
    *to = base_of(dst->path);
    return 0;
}

/* docker's CopyInfoDestinationPath on the host: symlinks at the destination are
 * followed (the copy lands at their target), a missing name needs its parent. */
static int host_dest_info(const char *path, struct copy_info *out, mk_err **err)
{
    _cleanup_free_ char *p = xstrdup(path);
    struct stat st;
    int r = lstat(p, &st);
    for (int n = 0; r == 0 && S_ISLNK(st.st_mode); n++) {
        if (n > 10)
            return mk_err_set(err, MK_ERR_INVALID, "too many symlinks in %s", path);
        char target[PATH_MAX];
        ssize_t len = readlink(p, target, sizeof(target) - 1);
        if (len < 0)
            return mk_err_sys(err, "readlink %s", p);
        target[len] = '\0';
        _cleanup_free_ char *parent = dir_of(p);
        free(p);
        p = join_clean(parent, target);
        r = lstat(p, &st);
    }
    if (r < 0) {
        if (errno != ENOENT)
            return mk_err_sys(err, "lstat %s", p);
        _cleanup_free_ char *parent = dir_of(p);
        if (stat(parent, &st) < 0)
            return mk_err_sys(err, "stat %s", parent);
        if (!S_ISDIR(st.st_mode))
            return mk_err_set(err, MK_ERR_INVALID, "not a directory");
        *out = (struct copy_info){.path = steal_pointer(&p)};
        return 0;
    }
    *out = (struct copy_info){
        .path = steal_pointer(&p), .exists = true, .is_dir = S_ISDIR(st.st_mode)};
    return 0;
}

/* ---- the writer thread ---- */

struct writer {
    const struct mk_container_fs *fs; /* NULL: the host */
    int host_root;
    const char *path, *rebase;
    int fd; /* closed by the thread when done */
    mk_err *err;
    int rc;
    bool blamed; /* the copy failed because of the writer's side */
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    w->rc = w->fs != NULL ? mk_container_fs_archive(w->fs, w->path, w->rebase, w->fd, &w->err)
                          : mk_tar_write_path(w->host_root, w->path, w->rebase, w->fd, &w->err);
    close(w->fd);
    return NULL;
}

/* Run w on a pipe while extract() reads it; *read_fd is the pipe's read end. */
static int start_writer(struct writer *w, pthread_t *thread, int *read_fd, mk_err **err)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return mk_err_sys(err, "pipe");
    w->fd = p[1];
    /* The reader may stop early on an error: the writer gets EPIPE, not a kill. */
    signal(SIGPIPE, SIG_IGN);
    int r = pthread_create(thread, NULL, writer_main, w);
    if (r != 0) {
        close(p[0]);
        close(p[1]);
        return mk_err_errno(err, r, "start the copy");
    }
    *read_fd = p[0];
    return 0;
}

/* Wait for the writer.  Its error comes first (a truncated stream is then a
 * consequence), unless it only saw the reader stop (EPIPE). */
static int finish_writer(struct writer *w, pthread_t thread, int read_fd, int extract_rc,
                         mk_err **extract_err)
{
    close(read_fd);
    pthread_join(thread, NULL);
    if (w->rc < 0 && (extract_rc == 0 || w->err->errnum != EPIPE)) {
        mk_err_clear(extract_err);
        *extract_err = steal_pointer(&w->err);
        w->blamed = true;
        return -1;
    }
    mk_err_clear(&w->err);
    return extract_rc;
}

static void print_copied(bool quiet, int64_t bytes, const char *ctr, const char *dst)
{
    /* docker prints this on a terminal only. */
    if (quiet || !isatty(2))
        return;
    _cleanup_free_ char *size = mk_human_size(bytes);
    if (ctr != NULL)
        fprintf(stderr, "Successfully copied %s to %s:%s\n", size, ctr, dst);
    else
        fprintf(stderr, "Successfully copied %s to %s\n", size, dst);
}

struct cp_opts {
    bool archive, follow, quiet;
};

/* ---- container -> host ---- */

/* docker's ValidateOutputPath: the destination's directory must exist. */
static int validate_output(const char *path, mk_err **err)
{
    _cleanup_free_ char *dir = NULL;
    _cleanup_free_ char *base = NULL;
    mk_path_split_entry(path, &dir, &base);
    struct stat st;
    if (strcmp(base, ".") != 0 && stat(dir, &st) < 0 && errno == ENOENT)
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid output path: directory \"%s\" does not exist", dir);
    return 0;
}

static int extract_on_host(struct mk_container_fs *fs, const struct copy_info *src,
                           const char *dst_path, int64_t *bytes, bool *daemon_err, mk_err **err)
{
    struct copy_info dst = {0};
    _cleanup_free_ char *dst_dir = NULL, *to = NULL;
    int r = host_dest_info(dst_path, &dst, err);
    if (r == 0)
        r = prepare_copy(src, &dst, &dst_dir, &to, err);
    copy_info_clear(&dst);
    if (r < 0)
        return -1;
    _cleanup_close_ int root = open(dst_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return mk_err_sys(err, "open %s", dst_dir);
    struct writer w = {.fs = fs, .path = src->path, .rebase = to != NULL ? to : src->rebase};
    pthread_t thread;
    int in_fd = -1;
    if (start_writer(&w, &thread, &in_fd, err) < 0)
        return -1;
    /* The files are ours, as docker's CLI extracts them (NoLchown). */
    struct mk_tar_extract_opts eo = {.no_overwrite_dir_non_dir = true};
    r = mk_tar_extract(root, ".", in_fd, &eo, bytes, err);
    r = finish_writer(&w, thread, in_fd, r, err);
    *daemon_err = w.blamed;
    return r;
}

static int copy_from_container(const char *ctr, const char *src_path, const char *dst_arg,
                               const struct cp_opts *o)
{
    mk_err *err = NULL;
    _cleanup_free_ char *dst_path = strcmp(dst_arg, "-") == 0 ? NULL : local_abs(dst_arg);
    if (dst_path != NULL && validate_output(dst_path, &err) < 0)
        return local_fail(err);
    struct mk_container_fs *fs = NULL;
    if (mk_container_fs_open(mk_cli_engine(), ctr, &fs, &err) < 0)
        return mk_cli_fail(NULL, err, 1);
    struct copy_info src = {.path = xstrdup(src_path)};
    struct mk_path_stat st = {0};
    int status = 1;
    if (o->follow && mk_container_fs_stat(fs, src.path, &st, NULL) == 0 && st.link_target) {
        _cleanup_free_ char *parent = dir_of(src.path);
        char *target = join_clean(parent, st.link_target);
        rebase_name(src_path, &target, &src.rebase);
        free(src.path);
        src.path = target;
    }
    mk_path_stat_clear(&st);
    if (dst_path == NULL) {
        if (mk_container_fs_archive(fs, src.path, NULL, 1, &err) < 0)
            status = mk_cli_fail(NULL, err, 1);
        else
            status = 0;
        goto out;
    }
    if (mk_container_fs_stat(fs, src.path, &st, &err) < 0) {
        status = mk_cli_fail(NULL, err, 1);
        goto out;
    }
    src.exists = true;
    src.is_dir = S_ISDIR(st.st.st_mode);
    mk_path_stat_clear(&st);
    int64_t bytes = 0;
    bool daemon_err = false;
    if (extract_on_host(fs, &src, dst_path, &bytes, &daemon_err, &err) < 0) {
        /* The container side's errors are the daemon's in docker. */
        status = daemon_err ? mk_cli_fail(NULL, err, 1) : local_fail(err);
        goto out;
    }
    print_copied(o->quiet, bytes, NULL, dst_path);
    status = 0;
out:
    copy_info_clear(&src);
    mk_container_fs_close(fs);
    return status;
}

/* ---- host -> container ---- */

/* The destination in the container; a symlink is followed once, as docker's CLI does. */
static int container_dest_info(struct mk_container_fs *fs, const char *path, struct copy_info *out)
{
    struct mk_path_stat st = {0};
    *out = (struct copy_info){.path = xstrdup(path)};
    if (mk_container_fs_stat(fs, path, &st, NULL) < 0)
        return 0;
    if (st.link_target != NULL) {
        _cleanup_free_ char *parent = dir_of(path);
        free(out->path);
        out->path = join_clean(parent, st.link_target);
        mk_path_stat_clear(&st);
        if (mk_container_fs_stat(fs, out->path, &st, NULL) < 0)
            return 0;
    }
    out->exists = true;
    out->is_dir = S_ISDIR(st.st.st_mode);
    mk_path_stat_clear(&st);
    return 0;
}

/* docker's CopyInfoSourcePath: -L follows a symlink, keeping the link's name. */
static int host_source_info(const char *path, bool follow, struct copy_info *out, mk_err **err)
{
    _cleanup_free_ char *p = NULL;
    _cleanup_free_ char *rebase = NULL;
    if (follow) {
        char real[PATH_MAX];
        if (realpath(path, real) == NULL)
            return mk_err_sys(err, "lstat %s", path);
        p = xstrdup(real);
        rebase_name(path, &p, &rebase);
    } else {
        p = xstrdup(path);
    }
    struct stat st;
    if (lstat(p, &st) < 0) {
        /* Go's wording: "no such file or directory", lower case. */
        char msg[128];
        snprintf(msg, sizeof(msg), "%s", strerror(errno));
        msg[0] = (char)tolower((unsigned char)msg[0]);
        return mk_err_set(err, MK_ERR_INVALID, "lstat %s: %s", p, msg);
    }
    *out = (struct copy_info){.path = steal_pointer(&p),
                              .exists = true,
                              .is_dir = S_ISDIR(st.st_mode),
                              .rebase = steal_pointer(&rebase)};
    return 0;
}

static int extract_in_container(struct mk_container_fs *fs, const char *src_arg,
                                const struct copy_info *dst, const struct cp_opts *o,
                                int64_t *bytes, bool *local_err, mk_err **err)
{
    _cleanup_free_ char *src_path = local_abs(src_arg);
    struct copy_info src = {0};
    _cleanup_free_ char *dst_dir = NULL, *to = NULL;
    *local_err = true;
    int r = host_source_info(src_path, o->follow, &src, err);
    if (r == 0)
        r = prepare_copy(&src, dst, &dst_dir, &to, err);
    _cleanup_close_ int host_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct writer w = {.host_root = host_root, .path = src.path, .rebase = to};
    pthread_t thread;
    int in_fd = -1;
    if (r == 0)
        r = start_writer(&w, &thread, &in_fd, err);
    if (r == 0) {
        *local_err = false;
        struct mk_container_extract_opts eo = {o->archive, true};
        r = mk_container_fs_extract(fs, dst_dir, in_fd, &eo, bytes, err);
        r = finish_writer(&w, thread, in_fd, r, err);
        *local_err = w.blamed;
    }
    copy_info_clear(&src);
    return r;
}

static int copy_to_container(const char *src_arg, const char *ctr, const char *dst_path,
                             const struct cp_opts *o)
{
    mk_err *err = NULL;
    struct mk_container_fs *fs = NULL;
    if (mk_container_fs_open(mk_cli_engine(), ctr, &fs, &err) < 0)
        return mk_cli_fail(NULL, err, 1);
    struct copy_info dst = {0};
    container_dest_info(fs, dst_path, &dst);
    int64_t bytes = 0;
    int status = 0;
    if (strcmp(src_arg, "-") == 0) {
        if (!dst.exists || !dst.is_dir) {
            fprintf(stderr, "destination \"%s:%s\" must be a directory\n", ctr, dst_path);
            status = 1;
        } else if (mk_container_fs_extract(fs, dst.path, 0,
                                           &(struct mk_container_extract_opts){o->archive, true},
                                           &bytes, &err) < 0) {
            status = mk_cli_fail(NULL, err, 1);
        }
    } else {
        bool local_err = false;
        if (extract_in_container(fs, src_arg, &dst, o, &bytes, &local_err, &err) < 0)
            status = local_err ? local_fail(err) : mk_cli_fail(NULL, err, 1);
        else
            print_copied(o->quiet, bytes, ctr, dst_path);
    }
    copy_info_clear(&dst);
    mk_container_fs_close(fs);
    return status;
}

/* docker's splitCpArg: "ctr:path", or a local path (absolute, no ':', or "./x:y"). */
static void split_arg(const char *arg, char **ctr, const char **path)
{
    const char *colon = strchr(arg, ':');
    *ctr = NULL;
    *path = arg;
    if (arg[0] == '/' || colon == NULL || arg[0] == '.')
        return;
    *ctr = xstrndup(arg, (size_t)(colon - arg));
    *path = colon + 1;
}

int cmd_cp(int argc, char **argv)
{
    static const struct mk_cmd cmd = {
        "cp",
        "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tmocker cp [OPTIONS] SRC_PATH|- "
        "CONTAINER:DEST_PATH",
        "Copy files/folders between a container and the local filesystem", true};
    struct cp_opts o = {0};
    const struct mk_opt opts[] = {
        {"archive", 'a', MK_OPT_BOOL, &o.archive, "Archive mode (copy all uid/gid information)",
         NULL},
        {"follow-link", 'L', MK_OPT_BOOL, &o.follow, "Always follow symbol link in SRC_PATH", NULL},
        {"quiet", 'q', MK_OPT_BOOL, &o.quiet,
         "Suppress progress output during copy. Progress output is automatically suppressed if "
         "no terminal is attached",
         NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 2, 2, &rest);
    if (r >= 0)
        return r;
    if (rest[0][0] == '\0' || rest[1][0] == '\0') {
        fprintf(stderr, "%s can not be empty\n", rest[0][0] == '\0' ? "source" : "destination");
        return 1;
    }
    _cleanup_free_ char *src_ctr = NULL, *dst_ctr = NULL;
    const char *src, *dst;
    split_arg(rest[0], &src_ctr, &src);
    split_arg(rest[1], &dst_ctr, &dst);
    if (src_ctr != NULL && dst_ctr != NULL) {
        fprintf(stderr, "copying between containers is not supported\n");
        return 1;
    }
    if (src_ctr != NULL)
        return copy_from_container(src_ctr, src, dst, &o);
    if (dst_ctr != NULL)
        return copy_to_container(src, dst_ctr, dst, &o);
    fprintf(stderr, "must specify at least one container source\n");
    return 1;
}
