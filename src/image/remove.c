/* remove.c: `docker rmi`.  Untagging and deleting follow docker's
 * ImageService.ImageDelete: a tag is removed first (refused while a container
 * uses an image it is the only name of, unless forced); an image is deleted
 * when its last reference went or an id was given, with docker's conflict
 * rules and wording.  Layers and blobs that no remaining image needs are then
 * removed under the exclusive layer lock. */
#include "image/image.h"

#include <errno.h>
#include <string.h>

enum conflict {
    CONFLICT_CHILD = 1,      /* hard: cannot be forced */
    CONFLICT_RUNNING = 2,    /* hard */
    CONFLICT_ACTIVE_REF = 4, /* soft */
    CONFLICT_STOPPED = 8,    /* soft */
};
#define CONFLICT_HARD (CONFLICT_CHILD | CONFLICT_RUNNING)
#define CONFLICT_SOFT (CONFLICT_ACTIVE_REF | CONFLICT_STOPPED)

struct rmi {
    struct mk_store *s;
    char **report;
    char **events;          /* action, image id, action, image id... */
    struct mk_image **gone; /* deleted images, in the order deleted */
    size_t n_gone;
};

/* "sha256:0123456789ab..." -> "0123456789ab" (docker's stringid.TruncateID). */
static char *short_id(const char *id)
{
    const char *colon = strchr(id, ':');
    if (colon != NULL)
        id = colon + 1;
    return xstrndup(id, 12);
}

/* "domain/path" of a stored full reference ("" if it does not parse). */
static char *repo_of(const char *full)
{
    struct mk_ref *r = NULL;
    if (mk_ref_parse(full, &r, NULL) < 0)
        return xstrdup("");
    char *repo = xasprintf("%s/%s", r->domain, r->path);
    mk_ref_free(r);
    return repo;
}

static bool container_running(const struct mk_container *c)
{
    return c->status != NULL &&
           (strcmp(c->status, "running") == 0 || strcmp(c->status, "paused") == 0 ||
            strcmp(c->status, "restarting") == 0);
}

static size_t ref_count(const struct mk_image *img)
{
    return mk_strv_len(img->tags) + mk_strv_len(img->digests);
}

/* docker's isSingleReference: one tag (with any digests of the same repository),
 * or digests of a single repository only. */
static bool single_reference(char *const *tags, char *const *digests)
{
    size_t nt = mk_strv_len(tags), nd = mk_strv_len(digests);
    if (nt + nd <= 1)
        return nt + nd == 1;
    if (nt > 1)
        return false;
    _cleanup_free_ char *single = repo_of(nt == 1 ? tags[0] : digests[0]);
    for (size_t i = 0; i < nd; i++) {
        _cleanup_free_ char *repo = repo_of(digests[i]);
        if (strcmp(repo, single) != 0)
            return false;
    }
    return true;
}

static void strv_remove(char **v, const char *s)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
        if (strcmp(v[i], s) == 0) {
            free(v[i]);
            memmove(&v[i], &v[i + 1], (mk_strv_len(v + i + 1) + 1) * sizeof(char *));
            return;
        }
    }
}

static void add_event(struct rmi *rm, const char *action, const char *id)
{
    mk_strv_push(&rm->events, action);
    mk_strv_push(&rm->events, id);
}

/* Remove one stored reference and report it as docker does. */
static int untag(struct rmi *rm, struct mk_image *img, const char *full, bool is_digest,
                 mk_err **err)
{
    _cleanup_free_ char *copy = xstrdup(full);
    if (is_digest ? mk_store_digest_remove(rm->s, copy, err) < 0
                  : mk_store_tag_remove(rm->s, copy, err) < 0)
        return -1;
    strv_remove(is_digest ? img->digests : img->tags, copy);
    _cleanup_free_ char *familiar = mk_ref_familiarize(copy);
    mk_strv_push_owned(&rm->report, xasprintf("Untagged: %s", familiar));
    add_event(rm, "untag", img->id);
    return 0;
}

static int untag_all(struct rmi *rm, struct mk_image *img, mk_err **err)
{
    while (img->tags != NULL && img->tags[0] != NULL)
        if (untag(rm, img, img->tags[0], false, err) < 0)
            return -1;
    while (img->digests != NULL && img->digests[0] != NULL)
        if (untag(rm, img, img->digests[0], true, err) < 0)
            return -1;
    return 0;
}

/* Whether an image was committed from id (read inside the transaction, so an
 * image deleted by this rmi no longer counts). */
static int has_children(struct mk_store *s, const char *id, bool *out, mk_err **err)
{
    struct mk_image **all = NULL;
    size_t n = 0;
    if (mk_store_image_list(s, &all, &n, err) < 0)
        return -1;
    *out = mk_image_has_children(all, n, id);
    mk_image_list_free(all, n);
    return 0;
}

/* docker's checkImageDeleteConflict: 0 if none of mask applies, else -1 with
 * *err set and *used telling whether a container is the reason. */
static int check_conflict(struct rmi *rm, const struct mk_image *img, int mask, bool *used,
                          mk_err **err)
{
    _cleanup_free_ char *sid = short_id(img->id);
    *used = false;
    if (mask & CONFLICT_CHILD) {
        bool children = false;
        if (has_children(rm->s, img->id, &children, err) < 0)
            return -1;
        if (children)
            return mk_err_set(err, MK_ERR_CONFLICT,
                              "conflict: unable to delete %s (cannot be forced) - image has "
                              "dependent child images",
                              sid);
    }
    struct mk_container **users = NULL;
    size_t n_users = 0;
    if (mk_store_container_list_by_image(rm->s, img->id, &users, &n_users, err) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; (mask & CONFLICT_RUNNING) && i < n_users && r == 0; i++) {
        if (!container_running(users[i]))
            continue;
        _cleanup_free_ char *cid = short_id(users[i]->id);
        *used = true;
        r = mk_err_set(err, MK_ERR_CONFLICT,
                       "conflict: unable to delete %s (cannot be forced) - image is being used by "
                       "running container %s",
                       sid, cid);
    }
    if (r == 0 && (mask & CONFLICT_ACTIVE_REF) && ref_count(img) > 0)
        r = mk_err_set(err, MK_ERR_CONFLICT,
                       "conflict: unable to delete %s (must be forced) - image is referenced in "
                       "multiple repositories",
                       sid);
    for (size_t i = 0; (mask & CONFLICT_STOPPED) && i < n_users && r == 0; i++) {
        if (container_running(users[i]))
            continue;
        _cleanup_free_ char *cid = short_id(users[i]->id);
        *used = true;
        r = mk_err_set(err, MK_ERR_CONFLICT,
                       "conflict: unable to delete %s (must be forced) - image is being used by "
                       "stopped container %s",
                       sid, cid);
    }
    mk_container_list_free(users, n_users);
    return r;
}

/* docker's imageDeleteHelper; takes img.  quiet: a tag was just removed (or
 * this is a parent being pruned), so a conflict means "leave the image" rather
 * than an error, unless the image is now dangling and unused.  prune: then
 * delete the parent too if nothing names or uses it. */
static int delete_image(struct rmi *rm, struct mk_image *img, bool force, bool prune, bool quiet,
                        mk_err **err)
{
    int mask = CONFLICT_HARD | (force ? 0 : CONFLICT_SOFT);
    bool used;
    _cleanup_err_ mk_err *conflict = NULL;
    if (check_conflict(rm, img, mask, &used, &conflict) < 0) {
        bool children = true;
        if (conflict->kind != MK_ERR_CONFLICT ||
            (quiet && has_children(rm->s, img->id, &children, &conflict) < 0)) {
            mk_image_free(img);
            if (err != NULL)
                *err = steal_pointer(&conflict);
            return -1;
        }
        bool dangling = ref_count(img) == 0 && !children;
        mk_image_free(img);
        if (quiet && (!dangling || used))
            return 0;
        if (err != NULL)
            *err = steal_pointer(&conflict);
        return -1;
    }
    if (untag_all(rm, img, err) < 0 || mk_store_image_delete(rm->s, img->id, err) < 0) {
        mk_image_free(img);
        return -1;
    }
    mk_strv_push_owned(&rm->report, xasprintf("Deleted: %s", img->id));
    add_event(rm, "delete", img->id);
    rm->gone = xrealloc(rm->gone, (rm->n_gone + 1) * sizeof(*rm->gone));
    rm->gone[rm->n_gone++] = img;
    if (!prune || img->parent == NULL)
        return 0;
    struct mk_image *parent = NULL;
    _cleanup_err_ mk_err *missing = NULL;
    if (mk_store_image_get_by_id(rm->s, img->parent, &parent, &missing) < 0) {
        if (missing->kind == MK_ERR_NOT_FOUND)
            return 0;
        if (err != NULL)
            *err = steal_pointer(&missing);
        return -1;
    }
    /* not forced, and quietly: a parent that is named or used stays */
    return delete_image(rm, parent, false, true, true, err);
}

/* `rmi REPO[:TAG]` / `rmi REPO@DIGEST`. */
static int remove_by_name(struct rmi *rm, struct mk_image *img, const char *name,
                          const struct mk_image_rm *o, mk_err **err)
{
    struct mk_container **users = NULL;
    size_t n_users = 0;
    if (mk_store_container_list_by_image(rm->s, img->id, &users, &n_users, err) < 0)
        return -1;
    int r = 0;
    if (!o->force && single_reference(img->tags, img->digests) && n_users > 0) {
        _cleanup_free_ char *cid = short_id(users[0]->id);
        _cleanup_free_ char *iid = short_id(img->id);
        r = mk_err_set(err, MK_ERR_CONFLICT,
                       "conflict: unable to remove repository reference \"%s\" (must force) - "
                       "container %s is using its referenced image %s",
                       name, cid, iid);
    }
    mk_container_list_free(users, n_users);
    struct mk_ref *ref = NULL;
    if (r < 0 || mk_ref_parse(name, &ref, err) < 0)
        return -1;
    struct mk_ref named = {ref->domain, ref->path, ref->digest ? NULL : ref->tag, ref->digest};
    _cleanup_free_ char *full = mk_ref_string(&named);
    _cleanup_free_ char *repo = xasprintf("%s/%s", ref->domain, ref->path);
    bool is_digest = ref->digest != NULL;
    mk_ref_free(ref);
    if (untag(rm, img, full, is_digest, err) < 0)
        return -1;
    if (!is_digest) {
        /* The repository's digest references go with its last tag. */
        bool tag_left = false;
        for (size_t i = 0; img->tags[i] != NULL && !tag_left; i++) {
            _cleanup_free_ char *tr = repo_of(img->tags[i]);
            tag_left = strcmp(tr, repo) == 0;
        }
        for (size_t i = 0; !tag_left && img->digests[i] != NULL;) {
            _cleanup_free_ char *dr = repo_of(img->digests[i]);
            if (strcmp(dr, repo) != 0) {
                i++;
                continue;
            }
            if (untag(rm, img, img->digests[i], true, err) < 0)
                return -1;
        }
    }
    if (ref_count(img) > 0)
        return 0;
    return 1;
}

/* `rmi ID`: with at most one name (one repository), the names go first, as
 * long as no container stops it. */
static int remove_by_id(struct rmi *rm, struct mk_image *img, bool force, mk_err **err)
{
    if (!single_reference(img->tags, img->digests))
        return 0;
    int mask = CONFLICT_HARD | (force ? 0 : CONFLICT_STOPPED);
    bool used;
    if (check_conflict(rm, img, mask, &used, err) < 0 || untag_all(rm, img, err) < 0)
        return -1;
    return 0;
}

/* Digests of the blobs an image uses: config, manifest, the manifest's layers.
 * Returns false if the manifest could not be read (its layers are unknown). */
static bool image_blobs(struct mk_store *s, const struct mk_image *img, char ***blobs)
{
    mk_strv_push(blobs, img->id);
    if (img->manifest_digest == NULL)
        return true;
    mk_strv_push(blobs, img->manifest_digest);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    _cleanup_err_ mk_err *ignored = NULL;
    if (mk_store_blob_read(s, img->manifest_digest, &text, &len, &ignored) < 0)
        return false;
    _cleanup_json_ json_t *m = json_loadb(text, len, 0, NULL);
    if (m == NULL)
        return false;
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(m, "layers"), i, l)
    {
        const char *d = mk_json_str(l, "digest");
        if (d != NULL)
            mk_strv_push(blobs, d);
    }
    return true;
}

static void image_event(struct mk_store *s, const char *action, const char *id)
{
    _cleanup_json_ json_t *attrs = json_pack("{s:s}", "name", id);
    _cleanup_err_ mk_err *ignored = NULL;
    mk_store_event_add(s, "image", action, id, attrs, &ignored);
}

/* The chains and blobs of an image config (and manifest, when it has one). */
static bool add_needs(struct mk_store *s, const struct mk_image *img, char ***chains, char ***blobs)
{
    char **c = NULL;
    if (mk_image_chain_ids(img->config, &c, NULL) < 0)
        return false;
    for (size_t j = 0; c[j] != NULL; j++)
        mk_strv_push(chains, c[j]);
    mk_strv_free(c);
    return image_blobs(s, img, blobs);
}

/* What stays needed whatever this rmi removes: every image row, and every
 * container's image, read from its config blob when its row is gone (rmi -f
 * of a stopped container's image keeps that blob and the layers, so the
 * container still starts).  False if some image's layers are unknown. */
static bool needed_by_others(struct mk_store *s, char ***chains, char ***blobs)
{
    struct mk_image **all = NULL;
    size_t n = 0;
    if (mk_store_image_list(s, &all, &n, NULL) < 0)
        return false;
    bool known = true;
    for (size_t i = 0; i < n; i++)
        known = add_needs(s, all[i], chains, blobs) && known;
    mk_image_list_free(all, n);
    struct mk_container **cs = NULL;
    size_t nc = 0;
    if (mk_store_container_list(s, &cs, &nc, NULL) < 0)
        return false;
    for (size_t i = 0; i < nc && known; i++) {
        if (mk_strv_contains(*blobs, cs[i]->image_id))
            continue;
        struct mk_image *img = NULL;
        if (mk_image_get_for_container(s, cs[i]->image_id, &img, NULL) == 0)
            known = add_needs(s, img, chains, blobs);
        mk_image_free(img);
    }
    mk_container_list_free(cs, nc);
    return known;
}

/* Move layers/<hex> aside, then delete it: an interrupted removal leaves a
 * tmp- directory for mk_store_gc_tmp, never a half layer under its real name. */
static int remove_layer_dir(struct mk_store *s, const char *chain_id, int64_t *size, mk_err **err)
{
    _cleanup_free_ char *dir = mk_store_layer_dir(s, chain_id);
    _cleanup_free_ char *rnd = mk_random_hex(32);
    _cleanup_free_ char *aside = xasprintf("%s/layers/tmp-%s", s->root, rnd);
    int64_t bytes = mk_dir_size(dir);
    if (rename(dir, aside) < 0) {
        if (errno == ENOENT)
            return 0;
        return mk_err_sys(err, "remove layer %s", chain_id);
    }
    *size += bytes > 0 ? bytes : 0;
    return mk_rm_rf(aside, err);
}

/* After the rows of rm->gone are committed away: remove their layers and
 * blobs that nothing else needs, top layer first.  (*layer_lines)[i] gets
 * docker's "Deleted: <chain id>" lines for gone[i]: the layers it was the last
 * image to use (a pruned parent's own layers are reported under the parent). */
static int collect_unused(struct rmi *rm, char ***layer_lines, int64_t *reclaimed, mk_err **err)
{
    _cleanup_close_ int lock = mk_store_lock_layers(rm->s, true, err);
    if (lock < 0)
        return -1;
    _cleanup_strv_ char **base_chains = NULL;
    _cleanup_strv_ char **base_blobs = NULL;
    if (!needed_by_others(rm->s, &base_chains, &base_blobs))
        /* Some image's layers are unknown: removing anything could break it. */
        return 0;
    for (size_t i = 0; i < rm->n_gone; i++) {
        const struct mk_image *img = rm->gone[i];
        _cleanup_strv_ char **chains = NULL;
        _cleanup_strv_ char **blobs = NULL;
        if (mk_image_chain_ids(img->config, &chains, err) < 0)
            return -1;
        bool blobs_known = image_blobs(rm->s, img, &blobs);
        /* the images deleted after this one (its parents) still hold theirs */
        _cleanup_strv_ char **need_chains = mk_strv_dup(base_chains);
        _cleanup_strv_ char **need_blobs = mk_strv_dup(base_blobs);
        for (size_t k = i + 1; k < rm->n_gone; k++)
            add_needs(rm->s, rm->gone[k], &need_chains, &need_blobs);
        for (size_t c = mk_strv_len(chains); c-- > 0;) {
            if (mk_strv_contains(need_chains, chains[c]))
                continue;
            if (remove_layer_dir(rm->s, chains[c], reclaimed, err) < 0)
                return -1;
            mk_strv_push_owned(&layer_lines[i], xasprintf("Deleted: %s", chains[c]));
        }
        for (size_t b = 0; blobs_known && blobs[b] != NULL; b++) {
            if (mk_strv_contains(need_blobs, blobs[b]))
                continue;
            if (mk_store_blob_remove(rm->s, blobs[b], err) < 0)
                return -1;
        }
    }
    /* Leftovers of killed pulls, loads and removals go with the lock held. */
    mk_err *gc_err = NULL;
    mk_store_gc_tmp(rm->s, &gc_err);
    mk_err_free(gc_err);
    return 0;
}

int mk_image_get_for_container(struct mk_store *s, const char *image_id, struct mk_image **out,
                               mk_err **err)
{
    _cleanup_err_ mk_err *e = NULL;
    if (mk_store_image_get_by_id(s, image_id, out, &e) == 0)
        return 0;
    if (e->kind != MK_ERR_NOT_FOUND || !mk_store_digest_valid(image_id) ||
        !mk_store_blob_exists(s, image_id)) {
        if (err != NULL)
            *err = steal_pointer(&e);
        return -1;
    }
    /* the image id is its config's digest: the blob is the config itself */
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    if (mk_store_blob_read(s, image_id, &text, &len, err) < 0)
        return -1;
    json_t *config = json_loadb(text, len, 0, NULL);
    if (!json_is_object(config)) {
        json_decref(config);
        return mk_err_set(err, MK_ERR_INTERNAL, "image config %s is not a JSON object", image_id);
    }
    struct mk_image *img = xcalloc(1, sizeof(*img));
    img->id = xstrdup(image_id);
    img->config = config;
    img->tags = xcalloc(1, sizeof(char *));
    img->digests = xcalloc(1, sizeof(char *));
    *out = img;
    return 0;
}

int mk_image_remove_with(struct mk_store *s, const char *name, struct mk_image_rm *o,
                         char ***report, mk_err **err)
{
    struct rmi rm = {.s = s};
    struct mk_image *img = NULL;
    if (mk_image_lookup(s, name, &img, err) < 0)
        return -1;
    bool by_id = mk_str_has_prefix(img->id, name) || mk_str_has_prefix(img->id + 7, name);
    if (mk_store_begin(s, err) < 0) {
        mk_image_free(img);
        return -1;
    }
    int r = by_id ? remove_by_id(&rm, img, o->force, err)
                  : remove_by_name(&rm, img, name, o, err);
    if (r >= 0 && (by_id || r == 1))
        r = delete_image(&rm, steal_pointer(&img), o->force, !o->no_prune, !by_id, err);
    mk_image_free(img);
    if (r < 0)
        mk_store_rollback(s);
    else if (mk_store_commit(s, err) < 0)
        r = -1;
    char ***layer_lines = xcalloc(rm.n_gone + 1, sizeof(char **));
    o->reclaimed = 0;
    if (r >= 0) {
        for (size_t i = 0; rm.events != NULL && rm.events[i] != NULL; i += 2)
            image_event(s, rm.events[i], rm.events[i + 1]);
        /* The images are gone either way; a failed cleanup leaves only garbage. */
        if (rm.n_gone > 0)
            r = collect_unused(&rm, layer_lines, &o->reclaimed, err);
        /* What was committed happened, even if removing the files failed after:
         * each deleted image's layers right after it, as docker lists them. */
        for (size_t i = 0, g = 0; rm.report != NULL && rm.report[i] != NULL; i++) {
            mk_strv_push(report, rm.report[i]);
            if (g < rm.n_gone && mk_str_has_prefix(rm.report[i], "Deleted: ") &&
                strcmp(rm.report[i] + 9, rm.gone[g]->id) == 0) {
                for (size_t k = 0; layer_lines[g] != NULL && layer_lines[g][k] != NULL; k++)
                    mk_strv_push(report, layer_lines[g][k]);
                g++;
            }
        }
    }
    for (size_t i = 0; i < rm.n_gone; i++) {
        mk_strv_free(layer_lines[i]);
        mk_image_free(rm.gone[i]);
    }
    free(layer_lines);
    free(rm.gone);
    mk_strv_free(rm.report);
    mk_strv_free(rm.events);
    return r < 0 ? -1 : 0;
}

int mk_image_remove(struct mk_store *s, const char *name, bool force, char ***report, mk_err **err)
{
    struct mk_image_rm o = {.force = force};
    return mk_image_remove_with(s, name, &o, report, err);
}
