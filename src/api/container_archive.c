/* container_archive.c: a container's files over the API, as tar streams:
 * HEAD, GET and PUT /containers/{id}/archive (docker cp) and GET
 * /containers/{id}/export.
 *
 * The engine's container_fs.c does the work `mocker cp` and `mocker export`
 * do: every container path is resolved inside the container's root, never
 * on the host.  The engine writes a tar to an fd; mk_api_reply_stream runs it
 * in a thread on a pipe and forwards the pipe as a chunked response, so an
 * error found before the first byte (no such container, no such path) is
 * still docker's JSON error. */
#include "api/api.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Go's os.FileMode of st_mode: the permission bits, and the type and special
 * bits where Go puts them, as docker's stat header carries it. */
static uint32_t go_file_mode(mode_t m)
{
    uint32_t out = m & 0777;
    if (S_ISDIR(m))
        out |= 1u << 31;
    else if (S_ISLNK(m))
        out |= 1u << 27;
    else if (S_ISBLK(m))
        out |= 1u << 26;
    else if (S_ISCHR(m))
        out |= 1u << 26 | 1u << 21;
    else if (S_ISFIFO(m))
        out |= 1u << 25;
    else if (S_ISSOCK(m))
        out |= 1u << 24;
    if (m & S_ISUID)
        out |= 1u << 23;
    if (m & S_ISGID)
        out |= 1u << 22;
    if (m & S_ISVTX)
        out |= 1u << 20;
    return out;
}

/* X-Docker-Container-Path-Stat: base64 of {"name","size","mode","mtime","linkTarget"}. */
static void add_stat_header(struct mk_http_reply *w, const struct mk_path_stat *s)
{
    int64_t ns = (int64_t)s->st.st_mtim.tv_sec * 1000000000 + s->st.st_mtim.tv_nsec;
    /* the epoch is a time here (a tar entry's), not Go's zero time */
    _cleanup_free_ char *mtime = ns != 0 ? mk_time_rfc3339(ns) : xstrdup("1970-01-01T00:00:00Z");
    _cleanup_json_ json_t *j = json_pack(
        "{s:s,s:I,s:I,s:s,s:s}", "name", s->name, "size", (json_int_t)s->st.st_size, "mode",
        (json_int_t)go_file_mode(s->st.st_mode), "mtime", mtime, "linkTarget",
        s->link_target != NULL ? s->link_target : "");
    _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    _cleanup_free_ char *b64 = mk_base64_encode(text, strlen(text));
    mk_http_reply_header(w, "X-Docker-Container-Path-Stat", b64);
}

/* The path query parameter, which docker requires (its message, typo included). */
static int archive_path(const struct mk_api_ctx *c, char **out, mk_err **err)
{
    char *path = mk_http_query(c->req, "path");
    if (path == NULL || *path == '\0') {
        free(path);
        return mk_err_set(err, MK_ERR_INVALID, "bad parameter: pathcannot be empty");
    }
    *out = path;
    return 0;
}

/* The container's filesystem and the stat of path in it (docker's). */
static int open_and_stat(struct mk_api_ctx *c, const char *path, struct mk_container_fs **fs,
                         struct mk_path_stat *st, mk_err **err)
{
    struct mk_engine *e;
    if (mk_api_engine(c, &e, err) < 0 || mk_container_fs_open(e, mk_api_param(c, "id"), fs, err) < 0)
        return -1;
    char *target = NULL;
    if (mk_container_fs_stat(*fs, path, st, err) < 0 ||
        (st->link_target != NULL && mk_container_fs_link_target(*fs, path, &target, err) < 0)) {
        mk_path_stat_clear(st);
        mk_container_fs_close(*fs);
        *fs = NULL;
        return -1;
    }
    /* docker's linkTarget is where the chain of links ends, not the first link */
    if (target != NULL) {
        free(st->link_target);
        st->link_target = target;
    }
    return 0;
}

int mk_api_container_archive_head(struct mk_api_ctx *c, mk_err **err)
{
    _cleanup_free_ char *path = NULL;
    struct mk_container_fs *fs = NULL;
    struct mk_path_stat st = {0};
    if (archive_path(c, &path, err) < 0 || open_and_stat(c, path, &fs, &st, err) < 0)
        return -1;
    mk_container_fs_close(fs);
    add_stat_header(c->reply, &st);
    mk_path_stat_clear(&st);
    return mk_http_reply_send(c->reply, 200, NULL, NULL, 0);
}

struct archive_job {
    struct mk_container_fs *fs;
    const char *path;
};

static int produce_archive(void *ctx, int fd, mk_err **err)
{
    struct archive_job *j = ctx;
    return mk_container_fs_archive(j->fs, j->path, NULL, fd, err);
}

int mk_api_container_archive_get(struct mk_api_ctx *c, mk_err **err)
{
    _cleanup_free_ char *path = NULL;
    struct mk_path_stat st = {0};
    struct archive_job j = {0};
    if (archive_path(c, &path, err) < 0 || open_and_stat(c, path, &j.fs, &st, err) < 0)
        return -1;
    add_stat_header(c->reply, &st);
    mk_path_stat_clear(&st);
    j.path = path;
    int r = mk_api_reply_stream(c, "application/x-tar", produce_archive, &j, err);
    mk_container_fs_close(j.fs);
    return r;
}

static int rewind_fd(int fd, mk_err **err)
{
    return lseek(fd, 0, SEEK_SET) < 0 ? mk_err_sys(err, "rewind the archive") : 0;
}

int mk_api_container_archive_put(struct mk_api_ctx *c, mk_err **err)
{
    _cleanup_free_ char *path = NULL;
    struct mk_engine *e;
    struct mk_container_fs *fs = NULL;
    _cleanup_close_ int in = -1;
    struct mk_container_extract_opts o = {
        .copy_uid_gid = mk_http_query_bool(c->req, "copyUIDGID", false),
        .no_overwrite_dir_non_dir = mk_http_query_bool(c->req, "noOverwriteDirNonDir", false),
    };
    if (archive_path(c, &path, err) < 0 || mk_api_engine(c, &e, err) < 0 ||
        mk_container_fs_open(e, mk_api_param(c, "id"), &fs, err) < 0)
        return -1;
    /* The destination is looked up first, as dockerd does (a 404 before a bad tar's 400). */
    struct mk_path_stat st = {0};
    int r = mk_container_fs_stat(fs, path, &st, err);
    mk_path_stat_clear(&st);
    /* The whole tar is read once before anything is written: a truncated or
     * malformed one changes nothing in the container. */
    if (r == 0)
        r = mk_api_body_fd(c, &in, err);
    if (r == 0)
        r = mk_tar_check(in, err);
    if (r == 0)
        r = rewind_fd(in, err);
    if (r == 0)
        r = mk_container_fs_extract(fs, path, in, &o, NULL, err);
    mk_container_fs_close(fs);
    if (r < 0)
        return -1;
    return mk_http_reply_send(c->reply, 200, NULL, NULL, 0);
}

struct export_job {
    struct mk_engine *e;
    const char *id;
};

static int produce_export(void *ctx, int fd, mk_err **err)
{
    struct export_job *j = ctx;
    return mk_container_export(j->e, j->id, fd, err);
}

int mk_api_container_export(struct mk_api_ctx *c, mk_err **err)
{
    struct export_job j = {.id = mk_api_param(c, "id")};
    if (mk_api_engine(c, &j.e, err) < 0)
        return -1;
    return mk_api_reply_stream(c, "application/octet-stream", produce_export, &j, err);
}
