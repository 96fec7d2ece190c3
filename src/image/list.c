/* list.c: docker's image list (`docker images`, GET /images/json) and the
 * filters it and `image prune` take, with dockerd's rules: a reference=
 * pattern keeps only the references it matches (Go's path.Match on the
 * familiar name, with and without the tag), an image left with none is not
 * listed, and untagged images with children (intermediate images of a commit
 * chain) only show with -a. */
#include "image/image.h"

#include <string.h>

void mk_image_filters_clear(struct mk_image_filters *f)
{
    mk_strv_free(f->references);
    mk_strv_free(f->labels);
    mk_strv_free(f->not_labels);
    *f = (struct mk_image_filters){.dangling = -1};
}

/* dockerd's GetBoolOrDefault: every value must be one of true/1 or false/0,
 * and not both.  prune: dockerd's prune rule instead, false/0 wins, then
 * true/1, other values are ignored beside them. */
static int parse_dangling(char *const *values, bool prune, int *out, mk_err **err)
{
    bool yes = false, no = false, bad = false;
    for (size_t i = 0; values[i] != NULL; i++) {
        if (strcmp(values[i], "true") == 0 || strcmp(values[i], "1") == 0)
            yes = true;
        else if (strcmp(values[i], "false") == 0 || strcmp(values[i], "0") == 0)
            no = true;
        else
            bad = true;
    }
    if (prune && (yes || no)) {
        *out = !no;
        return 0;
    }
    if (bad || yes == no) {
        /* Go prints the values as a []string: "[a b]" */
        _cleanup_free_ char *joined = mk_strv_join(values, " ");
        return mk_err_set(err, MK_ERR_INVALID, "Invalid filter 'dangling=[%s]'", joined);
    }
    *out = yes;
    return 0;
}

/* before=/since=: the created time of the image named (the last one given wins). */
static int image_created(struct mk_store *s, const char *name, int64_t *out, mk_err **err)
{
    struct mk_image *img = NULL;
    if (mk_image_lookup(s, name, &img, err) < 0)
        return -1;
    *out = img->created;
    mk_image_free(img);
    return 0;
}

int mk_image_filters_parse(struct mk_store *s, char *const *kv, const char *const *accepted,
                           bool prune, struct mk_image_filters *f, mk_err **err)
{
    *f = (struct mk_image_filters){.dangling = -1};
    _cleanup_strv_ char **dangling = NULL;
    for (size_t i = 0; kv != NULL && kv[i] != NULL; i++) {
        const char *eq = strchr(kv[i], '=');
        _cleanup_free_ char *key = eq ? xstrndup(kv[i], (size_t)(eq - kv[i])) : xstrdup(kv[i]);
        const char *value = eq ? eq + 1 : "";
        bool known = false;
        for (size_t k = 0; accepted[k] != NULL && !known; k++)
            known = strcmp(accepted[k], key) == 0;
        if (!known) {
            mk_image_filters_clear(f);
            return mk_err_set(err, MK_ERR_INVALID, "Invalid filter '%s'", key);
        }
        int r = 0;
        if (strcmp(key, "dangling") == 0)
            mk_strv_push(&dangling, value);
        else if (strcmp(key, "reference") == 0)
            mk_strv_push(&f->references, value);
        else if (strcmp(key, "label") == 0)
            mk_strv_push(&f->labels, value);
        else if (strcmp(key, "label!") == 0)
            mk_strv_push(&f->not_labels, value);
        else if (strcmp(key, "before") == 0)
            r = image_created(s, value, &f->before_ns, err), f->before = true;
        else if (strcmp(key, "since") == 0)
            r = image_created(s, value, &f->since_ns, err), f->since = true;
        else if (strcmp(key, "until") == 0)
            r = mk_time_parse(value, mk_now_ns(), &f->until_ns, err), f->until = true;
        if (r < 0) {
            mk_image_filters_clear(f);
            return -1;
        }
    }
    if (dangling != NULL && parse_dangling(dangling, prune, &f->dangling, err) < 0) {
        mk_image_filters_clear(f);
        return -1;
    }
    return 0;
}

bool mk_image_filters_match(const struct mk_image_filters *f, const struct mk_image *img)
{
    if (f->until && img->created > f->until_ns)
        return false;
    if (f->before && img->created >= f->before_ns)
        return false;
    if (f->since && img->created <= f->since_ns)
        return false;
    const json_t *labels = json_object_get(json_object_get(img->config, "config"), "Labels");
    for (size_t i = 0; f->labels != NULL && f->labels[i] != NULL; i++)
        if (!mk_json_label_matches(labels, f->labels[i]))
            return false;
    for (size_t i = 0; f->not_labels != NULL && f->not_labels[i] != NULL; i++)
        if (mk_json_label_matches(labels, f->not_labels[i]))
            return false;
    return true;
}

int mk_image_ref_matches(char *const *patterns, const char *full, mk_err **err)
{
    struct mk_ref *ref = NULL;
    if (mk_ref_parse(full, &ref, NULL) < 0)
        return 0;
    _cleanup_free_ char *familiar = mk_ref_familiar(ref);
    _cleanup_free_ char *name = mk_ref_familiar_repo(ref);
    mk_ref_free(ref);
    for (size_t i = 0; patterns[i] != NULL; i++) {
        int r = mk_path_match(patterns[i], familiar, err);
        if (r == 0)
            r = mk_path_match(patterns[i], name, err);
        if (r != 0)
            return r;
    }
    return 0;
}

bool mk_image_has_children(struct mk_image *const *all, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (all[i]->parent != NULL && strcmp(all[i]->parent, id) == 0)
            return true;
    return false;
}

/* The stored references of one kind that the reference filter keeps, familiar. */
static int kept_refs(const struct mk_image_filters *f, char *const *refs, json_t *out,
                     mk_err **err)
{
    for (size_t i = 0; refs != NULL && refs[i] != NULL; i++) {
        if (f->references != NULL) {
            int r = mk_image_ref_matches(f->references, refs[i], err);
            if (r <= 0) {
                if (r < 0)
                    return -1;
                continue;
            }
        }
        _cleanup_free_ char *familiar = mk_ref_familiarize(refs[i]);
        json_array_append_new(out, json_string(familiar));
    }
    return 0;
}

json_t *mk_image_summary_json(const struct mk_image *img, json_t *tags, json_t *digests)
{
    const json_t *labels = json_object_get(json_object_get(img->config, "config"), "Labels");
    return json_pack("{s:i,s:I,s:s,s:O?,s:s,s:o,s:o,s:i,s:I,s:I}", "Containers", -1, "Created",
                     (json_int_t)(img->created / 1000000000), "Id", img->id, "Labels",
                     json_object_size(labels) ? labels : NULL, "ParentId", img->parent ?: "",
                     "RepoDigests", digests, "RepoTags", tags, "SharedSize", -1, "Size",
                     (json_int_t)img->size, "VirtualSize", (json_int_t)img->size);
}

int mk_image_list(struct mk_store *s, const struct mk_image_filters *f, bool all, json_t **out,
                  mk_err **err)
{
    struct mk_image **v = NULL;
    size_t n = 0;
    if (mk_store_image_list(s, &v, &n, err) < 0)
        return -1;
    _cleanup_json_ json_t *list = json_array();
    int r = 0;
    for (size_t i = 0; i < n && r == 0; i++) {
        const struct mk_image *img = v[i];
        bool children = mk_image_has_children(v, n, img->id);
        /* dangling=true looks at images without children only, even with -a */
        if ((f->dangling == 1 && children) || !mk_image_filters_match(f, img))
            continue;
        json_t *tags = json_array(), *digests = json_array();
        if (kept_refs(f, img->tags, tags, err) < 0 || kept_refs(f, img->digests, digests, err) < 0) {
            json_decref(tags);
            json_decref(digests);
            r = -1;
            break;
        }
        bool none = json_array_size(tags) == 0 && json_array_size(digests) == 0;
        bool skip = false;
        if (none) {
            /* an image whose references the filter all dropped is not listed */
            skip = (!all && children) || f->dangling == 0 || f->references != NULL;
            json_array_append_new(tags, json_string("<none>:<none>"));
            json_array_append_new(digests, json_string("<none>@<none>"));
        } else {
            /* digest-only images count as dangling */
            skip = f->dangling == 1 && json_array_size(tags) > 0;
        }
        if (skip) {
            json_decref(tags);
            json_decref(digests);
            continue;
        }
        json_array_append_new(list, mk_image_summary_json(img, tags, digests));
    }
    mk_image_list_free(v, n);
    if (r < 0)
        return -1;
    *out = steal_pointer(&list);
    return 0;
}

const char *const mk_image_list_filters[] = {"dangling", "reference", "label", "before",
                                             "since",    "until",     NULL};
