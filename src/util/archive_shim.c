/* archive_shim.c: the libarchive functions mocker calls, loaded on first use
 * (see lazylib.c).  Add a function here when a new call site needs it. */
#include "util/lazylib.h"

#include <archive.h>
#include <archive_entry.h>

struct mk_lazylib mk_lazy_libarchive = {"libarchive.so.13", "libarchive13", NULL};

/* reading */
MK_LAZY_FN(mk_lazy_libarchive, struct archive *, archive_read_new, (void), ())
MK_LAZY_FN(mk_lazy_libarchive, int, archive_read_free, (struct archive * a), (a))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_read_support_filter_gzip, (struct archive * a), (a))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_read_support_filter_bzip2, (struct archive * a), (a))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_read_support_filter_xz, (struct archive * a), (a))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_read_support_filter_zstd, (struct archive * a), (a))

/* The compressions docker reads (gzip, bzip2, xz, zstd; none), and only
 * those: libarchive's "all" includes filters that run external programs
 * (lzop, lrzip, grzip), which an untrusted archive could make root exec. */
void mk_archive_read_filters(struct archive *a)
{
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_filter_zstd(a);
}
MK_LAZY_FN(mk_lazy_libarchive, int, archive_read_support_format_tar, (struct archive * a), (a))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_read_support_format_gnutar, (struct archive * a), (a))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_read_support_format_raw, (struct archive * a), (a))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_read_open_fd, (struct archive * a, int fd, size_t block),
           (a, fd, block))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_read_next_header,
           (struct archive * a, struct archive_entry **entry), (a, entry))
MK_LAZY_FN(mk_lazy_libarchive, la_ssize_t, archive_read_data, (struct archive * a, void *buf, size_t len),
           (a, buf, len))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_read_data_skip, (struct archive * a), (a))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_read_data_block,
           (struct archive * a, const void **buf, size_t *len, la_int64_t *off),
           (a, buf, len, off))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_read_open,
           (struct archive * a, void *ctx, archive_open_callback *o, archive_read_callback *r,
            archive_close_callback *c),
           (a, ctx, o, r, c))
MK_LAZY_FN(mk_lazy_libarchive, const char *, archive_error_string, (struct archive * a), (a))

/* writing to disk */
MK_LAZY_FN(mk_lazy_libarchive, struct archive *, archive_write_disk_new, (void), ())
MK_LAZY_FN(mk_lazy_libarchive, int, archive_write_disk_set_options, (struct archive * a, int flags),
           (a, flags))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_write_header,
           (struct archive * a, struct archive_entry *entry), (a, entry))
MK_LAZY_FN(mk_lazy_libarchive, la_ssize_t, archive_write_data_block,
           (struct archive * a, const void *buf, size_t len, la_int64_t off), (a, buf, len, off))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_write_finish_entry, (struct archive * a), (a))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_write_close, (struct archive * a), (a))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_write_free, (struct archive * a), (a))

/* writing archives */
MK_LAZY_FN(mk_lazy_libarchive, struct archive *, archive_write_new, (void), ())
MK_LAZY_FN(mk_lazy_libarchive, int, archive_write_set_format_pax_restricted, (struct archive * a), (a))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_write_add_filter_gzip, (struct archive * a), (a))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_write_open_filename, (struct archive * a, const char *path),
           (a, path))
MK_LAZY_FN(mk_lazy_libarchive, la_ssize_t, archive_write_data,
           (struct archive * a, const void *buf, size_t len), (a, buf, len))

/* entries */
MK_LAZY_FN(mk_lazy_libarchive, struct archive_entry *, archive_entry_new, (void), ())
MK_LAZY_VOID(mk_lazy_libarchive, archive_entry_free, (struct archive_entry * e), (e))
MK_LAZY_FN(mk_lazy_libarchive, const char *, archive_entry_pathname, (struct archive_entry * e), (e))
MK_LAZY_FN(mk_lazy_libarchive, const char *, archive_entry_hardlink, (struct archive_entry * e), (e))
MK_LAZY_FN(mk_lazy_libarchive, const char *, archive_entry_symlink, (struct archive_entry * e), (e))
MK_LAZY_FN(mk_lazy_libarchive, la_int64_t, archive_entry_size, (struct archive_entry * e), (e))
MK_LAZY_FN(mk_lazy_libarchive, la_int64_t, archive_entry_uid, (struct archive_entry * e), (e))
MK_LAZY_FN(mk_lazy_libarchive, la_int64_t, archive_entry_gid, (struct archive_entry * e), (e))
MK_LAZY_FN(mk_lazy_libarchive, __LA_MODE_T, archive_entry_perm, (struct archive_entry * e), (e))
MK_LAZY_FN(mk_lazy_libarchive, __LA_MODE_T, archive_entry_filetype, (struct archive_entry * e), (e))
MK_LAZY_VOID(mk_lazy_libarchive, archive_entry_set_pathname, (struct archive_entry * e, const char *p),
             (e, p))
MK_LAZY_VOID(mk_lazy_libarchive, archive_entry_set_hardlink, (struct archive_entry * e, const char *p),
             (e, p))
MK_LAZY_VOID(mk_lazy_libarchive, archive_entry_set_perm, (struct archive_entry * e, __LA_MODE_T m),
             (e, m))
MK_LAZY_VOID(mk_lazy_libarchive, archive_entry_set_filetype, (struct archive_entry * e, unsigned int t),
             (e, t))
MK_LAZY_VOID(mk_lazy_libarchive, archive_entry_set_rdev, (struct archive_entry * e, dev_t d), (e, d))
MK_LAZY_VOID(mk_lazy_libarchive, archive_entry_set_symlink, (struct archive_entry * e, const char *p),
             (e, p))
MK_LAZY_VOID(mk_lazy_libarchive, archive_entry_set_size, (struct archive_entry * e, la_int64_t n), (e, n))
MK_LAZY_VOID(mk_lazy_libarchive, archive_entry_set_uid, (struct archive_entry * e, la_int64_t n), (e, n))
MK_LAZY_VOID(mk_lazy_libarchive, archive_entry_set_gid, (struct archive_entry * e, la_int64_t n), (e, n))
MK_LAZY_VOID(mk_lazy_libarchive, archive_entry_set_mtime, (struct archive_entry * e, time_t t, long ns),
             (e, t, ns))

/* writing tars: commit's layers (image/diff.c), cp/export streams (util/tarfs.c) */
MK_LAZY_FN(mk_lazy_libarchive, int, archive_write_open,
           (struct archive * a, void *data, archive_open_callback *open_cb,
            archive_write_callback *write_cb, archive_close_callback *close_cb),
           (a, data, open_cb, write_cb, close_cb))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_write_set_bytes_in_last_block, (struct archive * a, int n),
           (a, n))
MK_LAZY_VOID(mk_lazy_libarchive, archive_entry_xattr_add_entry,
             (struct archive_entry * e, const char *name, const void *value, size_t size),
             (e, name, value, size))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_write_open_fd, (struct archive * a, int fd), (a, fd))
MK_LAZY_FN(mk_lazy_libarchive, la_int64_t, archive_filter_bytes, (struct archive * a, int n), (a, n))
MK_LAZY_FN(mk_lazy_libarchive, dev_t, archive_entry_rdev, (struct archive_entry * e), (e))
MK_LAZY_FN(mk_lazy_libarchive, time_t, archive_entry_mtime, (struct archive_entry * e), (e))
MK_LAZY_FN(mk_lazy_libarchive, long, archive_entry_mtime_nsec, (struct archive_entry * e), (e))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_errno, (struct archive * a), (a))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_entry_xattr_count, (struct archive_entry * e), (e))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_entry_xattr_reset, (struct archive_entry * e), (e))
MK_LAZY_FN(mk_lazy_libarchive, int, archive_entry_xattr_next,
           (struct archive_entry * e, const char **name, const void **value, size_t *size),
           (e, name, value, size))
MK_LAZY_VOID(mk_lazy_libarchive, archive_entry_xattr_clear, (struct archive_entry * e), (e))
