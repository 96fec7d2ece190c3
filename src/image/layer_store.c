/* layer_store.c: putting a layer into the store, shared by import, commit and
 * load.
 *
 * A layer tar is unpacked into layers/tmp-<random>/diff first and renamed to
 * layers/<chain-hex> only when the whole image it belongs to is good: a failed
 * or killed command leaves temp directories (which mk_store_gc_tmp collects),
 * never a half layer under a real name. */
#include "image/image.h"
#include "util/lazylib.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int mk_layer_decompress(int fd, int (*sink)(void *ctx, const void *buf, size_t n, mk_err **err),
                        void *ctx, mk_err **err)
{
    /* libarchive's "raw" format: any compression filter, no container format. */
    struct archive *a = archive_read_new();
    mk_archive_read_filters(a);
    archive_read_support_format_raw(a);
    int ret = -1;
    struct archive_entry *e;
    if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
        mk_err_set(err, MK_ERR_INVALID, "read input: %s", archive_error_string(a));
        goto out;
    }
    int r = archive_read_next_header(a, &e);
    if (r == ARCHIVE_EOF) {
        mk_err_set(err, MK_ERR_INVALID, "empty input: not a tar archive");
        goto out;
    }
    if (r < ARCHIVE_WARN) {
        mk_err_set(err, MK_ERR_INVALID, "read input: %s", archive_error_string(a));
        goto out;
    }
    char buf[1 << 16];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof(buf))) > 0)
        if (sink(ctx, buf, (size_t)n, err) < 0)
            goto out;
    if (n < 0) {
        mk_err_set(err, MK_ERR_INVALID, "read input: %s", archive_error_string(a));
        goto out;
    }
    ret = 0;
out:
    archive_read_free(a);
    return ret;
}

int mk_layer_unpack_temp(struct mk_store *s, int tar_fd, char **tmp_name, int64_t *size,
                         mk_err **err)
{
    _cleanup_free_ char *rnd = mk_random_hex(32);
    _cleanup_free_ char *name = xasprintf("tmp-%s", rnd);
    _cleanup_free_ char *top = xasprintf("%s/layers/%s", s->root, name);
    _cleanup_free_ char *diff = mk_path_join(top, "diff");
    if (mkdir(top, 0700) < 0)
        return mk_err_sys(err, "mkdir %s", top);
    if (mkdir(diff, 0755) < 0) {
        mk_err_sys(err, "mkdir %s", diff);
        goto fail;
    }
    if (mk_layer_extract(tar_fd, diff, size, err) < 0)
        goto fail;
    *tmp_name = steal_pointer(&name);
    return 0;
fail:
    mk_rm_rf(top, NULL);
    return -1;
}

void mk_layer_discard_temp(struct mk_store *s, const char *tmp_name)
{
    if (tmp_name == NULL)
        return;
    _cleanup_free_ char *top = xasprintf("%s/layers/%s", s->root, tmp_name);
    mk_rm_rf(top, NULL);
}

int mk_layer_install(struct mk_store *s, const char *tmp_name, const char *chain_id, mk_err **err)
{
    _cleanup_free_ char *tmp = xasprintf("%s/layers/%s", s->root, tmp_name);
    _cleanup_free_ char *final = mk_store_layer_dir(s, chain_id);
    if (final == NULL) {
        mk_layer_discard_temp(s, tmp_name);
        return mk_err_set(err, MK_ERR_INVALID, "invalid chain id %s", chain_id);
    }
    if (rename(tmp, final) == 0)
        return 0;
    if (errno != EEXIST && errno != ENOTEMPTY) {
        mk_err_sys(err, "rename %s to %s", tmp, final);
        mk_layer_discard_temp(s, tmp_name);
        return -1;
    }
    /* Same chain id means same content: keep the existing one. */
    return mk_rm_rf(tmp, err);
}

bool mk_layer_present(struct mk_store *s, const char *chain_id)
{
    _cleanup_free_ char *dir = mk_store_layer_dir(s, chain_id);
    if (dir == NULL)
        return false;
    _cleanup_free_ char *diff = mk_path_join(dir, "diff");
    struct stat st;
    return stat(diff, &st) == 0 && S_ISDIR(st.st_mode);
}

json_t *mk_image_descriptor(const char *media_type, const char *digest, int64_t size)
{
    return json_pack("{s:s, s:s, s:I}", "mediaType", media_type, "digest", digest, "size",
                     (json_int_t)size);
}

void mk_image_event(struct mk_store *s, const char *action, const char *id, const char *name)
{
    _cleanup_json_ json_t *attrs = json_pack("{s:s}", "name", name);
    _cleanup_err_ mk_err *ignored = NULL;
    /* The image is stored either way; a lost event is not worth failing for. */
    mk_store_event_add(s, "image", action, id, attrs, &ignored);
}
