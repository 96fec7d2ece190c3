/* tarfs.h: tar streams of a tree and back, always relative to a root fd.
 *
 * `docker cp` and `docker export` move trees between filesystems that must not
 * be mixed up: a container path is resolved inside the container's root, never
 * on the host.  Every path here is looked up with openat2(RESOLVE_IN_ROOT), so
 * ".." and absolute symlinks stop at root_fd, and the last component of an
 * entry is never followed. */
#ifndef MK_UTIL_TARFS_H
#define MK_UTIL_TARFS_H

#include "util/util.h"

#include <sys/stat.h>

/* docker's container path stat (the X-Docker-Container-Path-Stat header). */
struct mk_path_stat {
    char *name;        /* last component */
    struct stat st;    /* lstat of the path */
    char *link_target; /* symlinks: what they point at, else NULL */
};
void mk_path_stat_clear(struct mk_path_stat *s);


/* True when the last component of path is "." ("dir/."): docker's "copy the
 * contents" form. */
bool mk_path_specifies_current_dir(const char *path);
/* docker's SplitPathDirEntry: "/a/b/" -> "/a", "b"; "/a/b/." -> "/a/b", ".". */
void mk_path_split_entry(const char *path, char **dir, char **base);

/* lstat path inside root (the parent is resolved in root, the last component
 * not followed). */
int mk_tar_stat(int root_fd, const char *path, struct mk_path_stat *out, mk_err **err);

/* Write path (inside root_fd) as a tar stream to out_fd, its entries named
 * after its last component ("." for "dir/."), or after `rebase` when not NULL.
 * Symlinks are archived as links; hard links inside the tree as hard links. */
int mk_tar_write_path(int root_fd, const char *path, const char *rebase, int out_fd, mk_err **err);

/* The whole tree under root_fd, entries named relative to it ("bin/", "bin/sh"),
 * as docker export writes a container. */
int mk_tar_write_root(int root_fd, int out_fd, mk_err **err);

struct mk_tar_extract_opts {
    bool chown;       /* apply the entries' uid/gid (else the files are ours) */
    bool force_owner; /* chown everything to uid/gid instead */
    uid_t uid;
    gid_t gid;
    bool no_overwrite_dir_non_dir; /* docker's NoOverwriteDirNonDir */
};
/* Extract the tar stream on in_fd under dir (inside root_fd, which must exist).
 * *bytes (may be NULL) receives the size of the stream read. */
int mk_tar_extract(int root_fd, const char *dir, int in_fd, const struct mk_tar_extract_opts *o,
                   int64_t *bytes, mk_err **err);

/* Read the tar stream on in_fd to its end without extracting anything: a
 * truncated or malformed one is an INVALID error ("Error processing tar
 * file: ..."), found before a single file of it is written. */
int mk_tar_check(int in_fd, mk_err **err);

#endif
