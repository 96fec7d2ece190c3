/* util.h: the utility layer every other module uses: memory, cleanup attributes,
 * string vectors, files written atomically, time, ids, JSON helpers and errors.
 * Nothing here knows about containers. */
#ifndef MK_UTIL_H
#define MK_UTIL_H

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include <jansson.h>

#include "err.h"

/* ---- memory: allocation failure aborts, so callers never check for NULL ---- */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* ---- cleanup attributes (free functions all accept NULL / -1) ---- */
void mk_freep(void *p);
void mk_closep(int *fd);
void mk_fclosep(FILE **f);
void mk_closedirp(DIR **d);
void mk_json_decrefp(json_t **j);
void mk_strv_freep(char ***v);
#define _cleanup_free_     __attribute__((cleanup(mk_freep)))
#define _cleanup_close_    __attribute__((cleanup(mk_closep)))
#define _cleanup_fclose_   __attribute__((cleanup(mk_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(mk_closedirp)))
#define _cleanup_json_     __attribute__((cleanup(mk_json_decrefp)))
#define _cleanup_strv_     __attribute__((cleanup(mk_strv_freep)))

/* Hand ownership out of a cleanup variable.  steal_pointer is type-checked:
 * it only compiles when pp is a pointer to a pointer. */
static inline void *mk_steal_pointer_impl(void *pp)
{
    void **p = pp;
    void *r = *p;
    *p = NULL;
    return r;
}
#define steal_pointer(pp) (0 ? (*(pp)) : (mk_steal_pointer_impl)(pp))
static inline int steal_fd(int *fd)
{
    int r = *fd;
    *fd = -1;
    return r;
}

/* ---- NULL-terminated string vectors ---- */
size_t mk_strv_len(char *const *v);
void mk_strv_free(char **v);
/* Append a copy of s; *v may be NULL. */
void mk_strv_push(char ***v, const char *s);
/* Append s, taking ownership. */
void mk_strv_push_owned(char ***v, char *s);
char **mk_strv_dup(char *const *v);
bool mk_strv_contains(char *const *v, const char *s);
/* Join with sep into a new string. */
char *mk_strv_join(char *const *v, const char *sep);

/* ---- strings ---- */
bool mk_str_has_prefix(const char *s, const char *prefix);
bool mk_str_has_suffix(const char *s, const char *suffix);
/* True if s is non-empty and only [0-9a-f]. */
bool mk_str_is_hex(const char *s);
/* docker's formatter.Ellipsis: s if it has at most max characters, else its
 * first max-1 characters and "…" (counting UTF-8 characters, each one wide). */
char *mk_str_ellipsis(const char *s, size_t max);
/* Go's path.Match (docker's reference= filters): 1 match, 0 none, -1 and
 * "syntax error in pattern" (INVALID) for a malformed pattern. */
int mk_path_match(const char *pattern, const char *name, mk_err **err);
/* Growable buffer for building output. */
typedef struct mk_buf {
    char *data;
    size_t len, cap;
} mk_buf;
void mk_buf_append(mk_buf *b, const void *data, size_t n);
void mk_buf_puts(mk_buf *b, const char *s);
void mk_buf_printf(mk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Return the NUL-terminated contents, leaving b empty. */
char *mk_buf_steal(mk_buf *b);
void mk_buf_free(mk_buf *b);

/* ---- files ---- */
/* Write data to dirfd/name atomically: temp file, fsync, rename, fsync dir. */
int mk_write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                            mk_err **err);
/* The same without fsync: atomic against a killed process (temp + rename), not
 * against power loss.  For files that are regenerated (container config). */
int mk_write_file_replace_at(int dirfd, const char *name, const void *data, size_t len,
                             mode_t mode, mk_err **err);
/* Rewrite dirfd/name over its content, then cut it to len; made as by
 * mk_write_file_replace_at when missing.  Not atomic: for a file nobody reads
 * meanwhile, or that is bind mounted (a container's /etc/hosts follows the
 * inode, so a replacement would not reach it).  A truncation to zero first
 * would free the file's block, which a disk mounted -o discard without a
 * journal waits ~0.1 ms for; a new inode costs more where files were
 * deleted nearby (README, Performance notes). */
int mk_rewrite_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                       mk_err **err);
int mk_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, mk_err **err);
/* Read a whole file; *out is NUL-terminated, *len may be NULL. */
/* Apparent size of the files under path (each inode once, directories not
 * counted), as docker sizes a container's writable layer; 0 if absent. */
int64_t mk_dir_size(const char *path);
int mk_read_file(const char *path, char **out, size_t *len, mk_err **err);
int mk_read_file_at(int dirfd, const char *name, char **out, size_t *len, mk_err **err);
/* mkdir -p. Existing directories are fine. */
int mk_mkdir_p(const char *path, mode_t mode, mk_err **err);
/* rm -rf dirfd/name without following symlinks and without leaving the tree;
 * a missing name is not an error.  Unmounts nothing: callers unmount first. */
int mk_rm_rf_at(int dirfd, const char *name, mk_err **err);
/* The same for what dirfd/name holds; the directory itself stays. */
int mk_rm_rf_contents_at(int dirfd, const char *name, mk_err **err);
/* An entry of a directory, as mk_dir_peek_at reports it. */
struct mk_dir_entry {
    char name[256];
    unsigned char type; /* DT_DIR, DT_REG, ... (DT_UNKNOWN where the fs has none) */
};
/* The entries of directory dirfd/name (not following a symlink there), but
 * "." and "..", when it holds at most max: their number, with the first max
 * in out (NULL for max 0).  -1 when it cannot be read or holds more. */
int mk_dir_peek_at(int dirfd, const char *name, struct mk_dir_entry *out, int max);
/* Whether dirfd/name is a directory with nothing in it. */
bool mk_dir_is_empty_at(int dirfd, const char *name);
/* A pool of directories kept for reuse: dirfd/pool/0 .. slots-1, moved in and
 * out by rename (no inode made or freed; of two takers of one slot, one gets
 * it).  Take: rename one to dirfd/dest; 0, or -1 when none was taken (errno
 * EEXIST: dest exists).  Put: rename dirfd/src into a free slot, the pool made
 * if missing; 0, or -1 when all are taken. */
int mk_pool_take_at(int dirfd, const char *pool, int slots, const char *dest);
int mk_pool_put_at(int dirfd, const char *src, const char *pool, int slots);
/* Open dirfd/name for reading only if it is still the regular file that
 * `expect` (an lstat of it) describes.  The name is never opened as what it
 * might have become meanwhile (a device, a FIFO: files a container controls):
 * it is pinned with O_PATH, checked, then reopened.  CONFLICT if it changed. */
int mk_open_regular_at(int dirfd, const char *name, const struct stat *expect, mk_err **err);
int mk_rm_rf(const char *path, mk_err **err);
/* openat2(root_fd, path, flags, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS): path
 * (absolute or not) resolved as if root_fd were "/", symlinks included; ""
 * is root_fd itself.  Retried when a concurrent rename makes the kernel ask. */
int mk_open_in_root(int root_fd, const char *path, int flags, mode_t mode);
/* Write all bytes, retrying on EINTR and short writes. */
int mk_write_all(int fd, const void *data, size_t len);
/* Read exactly len bytes; returns bytes read (< len only at EOF) or -1. */
ssize_t mk_read_all(int fd, void *data, size_t len);
/* Set or clear O_NONBLOCK / FD_CLOEXEC. */
int mk_fd_set_nonblock(int fd, bool on);
int mk_fd_set_cloexec(int fd, bool on);
char *mk_path_join(const char *a, const char *b);
/* The directory part of path ("." if none, "/" at the root); *name (may be
 * NULL) points at its last component, inside path. */
char *mk_path_dir(const char *path, const char **name);

/* ---- unix sockets (paths may exceed sun_path: they go through /proc/self/fd) ---- */
int mk_unix_listen(const char *path, mk_err **err);
int mk_unix_connect(const char *path, mk_err **err);
/* Send / receive one fd over a unix socket with SCM_RIGHTS. */
int mk_send_fd(int sock, int fd, mk_err **err);
int mk_recv_fd(int sock, mk_err **err);
/* A byte with n fds attached (at most MK_SOCK_MAX_FDS). */
#define MK_SOCK_MAX_FDS 32
int mk_send_fds(int sock, char byte, const int *fds, size_t n, mk_err **err);
/* A byte and up to max fds sent with it (close-on-exec, *n of them): 1, or 0
 * at end of file, or -1. */
int mk_recv_fds(int sock, char *byte, int *fds, size_t max, size_t *n, mk_err **err);

/* ---- time ---- */
int64_t mk_now_ns(void); /* CLOCK_REALTIME in nanoseconds */
int64_t mk_monotonic_ns(void);
/* Sleep until CLOCK_MONOTONIC reaches deadline_ns (at once if past): a
 * once-a-second loop keeps its pace however long each round took. */
void mk_sleep_until_monotonic(int64_t deadline_ns);
/* "2026-11-23T12:34:56.123456789Z" (docker's RFC 3339 with nanoseconds); 0 gives
 * "0001-01-01T00:00:00Z" as Go's zero time. Returns a new string. */
char *mk_time_rfc3339(int64_t ns);
/* The same with all nine digits of the fraction, zeros kept (docker's
 * RFC3339NanoFixed: `logs -t` and `events` lines line up). */
char *mk_time_rfc3339_fixed(int64_t ns);
/* Go's time.Time.String() of the second ns falls in, in the local zone, as the
 * docker CLI prints CreatedAt: "2026-11-23 15:32:53 +0000 UTC". */
char *mk_time_go_string(int64_t ns);
/* Parse RFC 3339 (with or without fraction, Z or +hh:mm), a unix timestamp
 * "1700000000[.123]" or a duration relative to now ("10m", "1h30m", "45s").
 * Used by --since/--until. */
int mk_time_parse(const char *s, int64_t now_ns, int64_t *out_ns, mk_err **err);
/* Go's time.ParseDuration subset: "300ms", "1.5h", "2h45m", "10s". */
int mk_duration_parse(const char *s, int64_t *out_ns, mk_err **err);
/* Go's time.Duration.String: "200ms", "30s", "1m30s", "1h0m0s", "1.5µs". */
char *mk_duration_string(int64_t ns);
/* docker's units.HumanDuration: "Less than a second", "About a minute", "3 hours"... */
char *mk_human_duration(int64_t ns);
/* docker's units.HumanSizeWithPrecision(size, 3): "1.23MB", "512B" (decimal units). */
char *mk_human_size(int64_t bytes);
/* docker's units.BytesSize: "1.5MiB", "336KiB", "0B" (binary units, 4 digits). */
char *mk_human_size_binary(int64_t bytes);
/* units.HumanSizeWithPrecision(size, precision); docker's HumanSize is precision 4. */
char *mk_human_size_prec(int64_t bytes, int precision);
/* Parse "512", "32m", "1g", "1.5GB" as bytes (RAMInBytes, binary units). */
int mk_size_parse(const char *s, int64_t *out, mk_err **err);

/* ---- ids ---- */
/* n random lowercase hex characters (n even). */
char *mk_random_hex(size_t n);
/* Lower-case hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void mk_hex_encode(const unsigned char *in, size_t n, char *out);

/* ---- base64 (base64.c): standard alphabet, padded ---- */
char *mk_base64_encode(const void *data, size_t len);
/* *out is NUL-terminated (the bytes may hold NULs: use *out_len, may be NULL). */
int mk_base64_decode(const char *s, char **out, size_t *out_len, mk_err **err);

/* ---- sha256 (sha256.c) ---- */
struct mk_sha256 {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t n;
};
void mk_sha256_init(struct mk_sha256 *s);
void mk_sha256_update(struct mk_sha256 *s, const void *data, size_t len);
void mk_sha256_final(struct mk_sha256 *s, unsigned char out[32]);
/* Final digest as 64 lower-case hex characters. */
void mk_sha256_hex(struct mk_sha256 *s, char out[65]);
/* Tests: use the CPU's SHA instructions (use, the default) or the portable
 * code; returns whether the CPU has them. */
bool mk_sha256_accelerated(bool use);
/* sha256 of data as "sha256:<64 hex>" */
char *mk_sha256_digest(const void *data, size_t len);

/* ---- json (jansson; one library for the whole project) ---- */
/* Serialise compactly without escaping '/', as docker does. */
char *mk_json_dump(const json_t *j);
char *mk_json_dump_pretty(const json_t *j); /* docker inspect's 4-space indent */
/* Feed v to h, each value tagged with its type and length (so two different
 * values never feed the same bytes), objects in their keys' order: a key for
 * a cache of what is computed from v, without serializing it (a compact dump
 * of the seccomp profile costs ~45 us). */
void mk_json_hash(const json_t *v, struct mk_sha256 *h);
json_t *mk_json_parse(const char *s, size_t len, mk_err **err);
json_t *mk_json_load_file(const char *path, mk_err **err);
/* Convenience getters: NULL / default when missing or of another type. */
const char *mk_json_str(const json_t *obj, const char *key);
/* docker's label filter: "k" matches a label k with any value, "k=v" only that value. */
bool mk_json_label_matches(const json_t *labels, const char *filter);
int64_t mk_json_int(const json_t *obj, const char *key, int64_t dflt);
bool mk_json_bool(const json_t *obj, const char *key, bool dflt);
/* Go's zero value: absent, null, false, "", 0, [] or {} (docker's omitempty). */
bool mk_json_is_empty(const json_t *v);
/* Array of strings to strv (NULL if not an array). */
char **mk_json_strv(const json_t *arr);
json_t *mk_json_from_strv(char *const *v);

/* ---- capabilities ---- */
/* "CAP_CHOWN" for 0 ...; NULL past the last one this table knows. */
const char *mk_cap_name(int n);
int mk_cap_count(void);

/* ---- processes ---- */
/* Start time of pid (field 22 of /proc/pid/stat), 0 if the process is gone.
 * Together with the pid it names a process even after pid reuse. */
uint64_t mk_proc_start_time(pid_t pid);

/* Append "PID LABEL USEC" to $MOCKER_TRACE, if set (trace.c). */
void mk_trace(const char *label);
void mk_trace_forked(void);
/* True if pid exists and has start time `start` (start 0: any). */
bool mk_proc_alive(pid_t pid, uint64_t start);
/* Run argv[0] (found in $PATH) with argv, stdin /dev/null, and collect its
 * stdout and stderr (NUL-terminated) and exit status (128+N for signal N).
 * Fails only when it cannot be started. */
int mk_run_capture(char *const argv[], char **out, char **err_out, int *status, mk_err **err);
/* The same with input written to its stdin (then closed), a time limit after
 * which it is killed, and a limit on what it may print: either one exceeded
 * fails the call (the child is killed and reaped).  0: no limit. */
struct mk_run_limits {
    const void *input; /* NULL: stdin is /dev/null */
    size_t input_len;
    int64_t timeout_ms;
    size_t max_output; /* stdout and stderr each */
};
int mk_run_limited(char *const argv[], const struct mk_run_limits *lim, char **out, char **err_out,
                   int *status, mk_err **err);
/* Close every fd >= first except those in keep (array of n). */
void mk_close_fds_from(int first);
/* Every signal unblocked and back to its default disposition: what a process
 * that starts containers must begin with, since ignored signals cross exec.
 * All but glibc's own 32 and 33, which signal() refuses and its threads
 * need: the runtime resets those just before the container's execve. */
void mk_signals_default(void);

#endif
