/* lookup.c: finding a local image by the names docker accepts (repo[:tag],
 * repo@digest, full or short id, with or without "sha256:") and tagging it. */
#include "image/image.h"

#include <string.h>

/* "sha256:<hex>" or "<hex>" of at most 64 digits: a possible image id or prefix. */
static bool is_id_form(const char *name)
{
    const char *hex = mk_str_has_prefix(name, "sha256:") ? name + 7 : name;
    return mk_str_is_hex(hex) && strlen(hex) <= 64;
}

/* The image a parsed reference names: 1 found, 0 not, -1 error. */
static int lookup_ref(struct mk_store *s, const struct mk_ref *ref, struct mk_image **out,
                      mk_err **err)
{
    _cleanup_free_ char *full = NULL;
    _cleanup_err_ mk_err *e = NULL;
    int r;
    if (ref->digest != NULL) {
        /* A digest reference names the repository and the digest, not the tag. */
        struct mk_ref by_digest = {ref->domain, ref->path, NULL, ref->digest};
        full = mk_ref_string(&by_digest);
        r = mk_store_image_get_by_digest_ref(s, full, out, &e);
    } else {
        full = mk_ref_string(ref);
        r = mk_store_image_get_by_tag(s, full, out, &e);
    }
    if (r == 0)
        return 1;
    if (e->kind == MK_ERR_NOT_FOUND)
        return 0;
    if (err != NULL)
        *err = steal_pointer(&e);
    return -1;
}

int mk_image_lookup(struct mk_store *s, const char *name, struct mk_image **out, mk_err **err)
{
    if (name == NULL || *name == '\0')
        return mk_err_set(err, MK_ERR_NOT_FOUND, "No such image: %s", name ? name : "");
    struct mk_ref *ref = NULL;
    _cleanup_err_ mk_err *parse_err = NULL;
    if (mk_ref_parse(name, &ref, &parse_err) == 0) {
        int r = lookup_ref(s, ref, out, err);
        mk_ref_free(ref);
        if (r != 0)
            return r < 0 ? -1 : 0;
    }
    if (is_id_form(name)) {
        _cleanup_err_ mk_err *e = NULL;
        if (mk_store_image_get_by_id(s, name, out, &e) == 0)
            return 0;
        /* docker answers an ambiguous prefix with "No such image" too. */
        if (e->kind != MK_ERR_NOT_FOUND && e->kind != MK_ERR_INVALID) {
            if (err != NULL)
                *err = steal_pointer(&e);
            return -1;
        }
    } else if (parse_err != NULL) {
        if (err != NULL)
            *err = steal_pointer(&parse_err);
        return -1;
    }
    /* dockerd names the normalised reference: "No such image: x:latest". */
    _cleanup_free_ char *familiar = NULL;
    if (mk_ref_parse(name, &ref, NULL) == 0) {
        familiar = mk_ref_familiar(ref);
        mk_ref_free(ref);
    }
    return mk_err_set(err, MK_ERR_NOT_FOUND, "No such image: %s", familiar ? familiar : name);
}

int mk_image_tag(struct mk_store *s, const char *source, const char *target, mk_err **err)
{
    struct mk_image *img = NULL;
    if (mk_image_lookup(s, source, &img, err) < 0)
        return -1;
    struct mk_ref *ref = NULL;
    if (mk_ref_parse(target, &ref, err) < 0) {
        mk_image_free(img);
        return -1;
    }
    int r = 0;
    if (ref->digest != NULL) {
        r = mk_err_set(err, MK_ERR_INVALID, "refusing to create a tag with a digest reference");
    } else {
        _cleanup_free_ char *full = mk_ref_string(ref);
        r = mk_store_tag_set(s, full, img->id, err);
        if (r == 0) {
            _cleanup_free_ char *familiar = mk_ref_familiar(ref);
            _cleanup_json_ json_t *attrs = json_pack("{s:s}", "name", familiar);
            _cleanup_err_ mk_err *ignored = NULL;
            mk_store_event_add(s, "image", "tag", img->id, attrs, &ignored);
        }
    }
    mk_ref_free(ref);
    mk_image_free(img);
    return r;
}
