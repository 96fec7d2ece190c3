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
    CONFLICT_RUNNING = 1,    /* hard: cannot be forced */
    CONFLICT_ACTIVE_REF = 2, /* soft */
    CONFLICT_STOPPED = 4,    /* soft */
};

struct rmi {
    struct mk_store *s;
    struct mk_image *img; /* tags/digests shrink as references are removed */
    struct mk_container **users;
    size_t n_users;
    char **report;
    int untagged;
    bool deleted;
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

/* Remove one stored reference and report it as docker does. */
static int untag(struct rmi *rm, const char *full, bool is_digest, mk_err **err)
{
    _cleanup_free_ char *copy = xstrdup(full);
    if (is_digest ? mk_store_digest_remove(rm->s, copy, err) < 0
                  : mk_store_tag_remove(rm->s, copy, err) < 0)
        return -1;
    strv_remove(is_digest ? rm->img->digests : rm->img->tags, copy);
    _cleanup_free_ char *familiar = mk_ref_familiarize(copy);
    mk_strv_push_owned(&rm->report, xasprintf("Untagged: %s", familiar));
    rm->untagged++;
    return 0;
}

static int untag_all(struct rmi *rm, mk_err **err)
{
    while (rm->img->tags != NULL && rm->img->tags[0] != NULL)
        if (untag(rm, rm->img->tags[0], false, err) < 0)
            return -1;
    while (rm->img->digests != NULL && rm->img->digests[0] != NULL)
        if (untag(rm, rm->img->digests[0], true, err) < 0)
            return -1;
    return 0;
}

/* docker's checkImageDeleteConflict: 0 if none of mask applies, else -1 with
 * *err set and *used telling whether a container is the reason. */
static int check_conflict(struct rmi *rm, int mask, bool *used, mk_err **err)
{
    _cleanup_free_ char *sid = short_id(rm->img->id);
    *used = false;
    if (mask & CONFLICT_RUNNING) {
        for (size_t i = 0; i < rm->n_users; i++) {
            if (!container_running(rm->users[i]))
                continue;
            _cleanup_free_ char *cid = short_id(rm->users[i]->id);
            *used = true;
            return mk_err_set(err, MK_ERR_CONFLICT,
                              "conflict: unable to delete %s (cannot be forced) - image is being "
                              "used by running container %s",
                              sid, cid);
        }
    }
    if ((mask & CONFLICT_ACTIVE_REF) &&
        mk_strv_len(rm->img->tags) + mk_strv_len(rm->img->digests) > 0)
        return mk_err_set(err, MK_ERR_CONFLICT,
                          "conflict: unable to delete %s (must be forced) - image is referenced in "
                          "multiple repositories",
                          sid);
    if (mask & CONFLICT_STOPPED) {
        for (size_t i = 0; i < rm->n_users; i++) {
            if (container_running(rm->users[i]))
                continue;
            _cleanup_free_ char *cid = short_id(rm->users[i]->id);
            *used = true;
            return mk_err_set(err, MK_ERR_CONFLICT,
                              "conflict: unable to delete %s (must be forced) - image is being "
                              "used by stopped container %s",
                              sid, cid);
        }
    }
    return 0;
}

/* docker's imageDeleteHelper.  quiet: a tag was just removed, so a conflict
 * means "leave the image" rather than an error, unless the image is now
 * dangling and unused. */
static int delete_image(struct rmi *rm, bool force, bool quiet, mk_err **err)
{
    int mask = CONFLICT_RUNNING | (force ? 0 : CONFLICT_ACTIVE_REF | CONFLICT_STOPPED);
    bool used;
    _cleanup_err_ mk_err *conflict = NULL;
    if (check_conflict(rm, mask, &used, &conflict) < 0) {
        bool dangling = mk_strv_len(rm->img->tags) + mk_strv_len(rm->img->digests) == 0;
        if (quiet && (!dangling || used))
            return 0;
        if (err != NULL)
            *err = steal_pointer(&conflict);
        return -1;
    }
    if (untag_all(rm, err) < 0 || mk_store_image_delete(rm->s, rm->img->id, err) < 0)
        return -1;
    mk_strv_push_owned(&rm->report, xasprintf("Deleted: %s", rm->img->id));
    rm->deleted = true;
    return 0;
}

/* `rmi REPO[:TAG]` / `rmi REPO@DIGEST`. */
static int remove_by_name(struct rmi *rm, const char *name, bool force, mk_err **err)
{
    if (!force && single_reference(rm->img->tags, rm->img->digests) && rm->n_users > 0) {
        _cleanup_free_ char *cid = short_id(rm->users[0]->id);
        _cleanup_free_ char *iid = short_id(rm->img->id);
        return mk_err_set(err, MK_ERR_CONFLICT,
                          "conflict: unable to remove repository reference \"%s\" (must force) - "
                          "container %s is using its referenced image %s",
                          name, cid, iid);
    }
    struct mk_ref *ref = NULL;
    if (mk_ref_parse(name, &ref, err) < 0)
        return -1;
    struct mk_ref named = {ref->domain, ref->path, ref->digest ? NULL : ref->tag, ref->digest};
    _cleanup_free_ char *full = mk_ref_string(&named);
    _cleanup_free_ char *repo = xasprintf("%s/%s", ref->domain, ref->path);
    bool is_digest = ref->digest != NULL;
    mk_ref_free(ref);
    if (untag(rm, full, is_digest, err) < 0)
        return -1;
    if (!is_digest) {
        /* The repository's digest references go with its last tag. */
        bool tag_left = false;
        for (size_t i = 0; rm->img->tags[i] != NULL && !tag_left; i++) {
            _cleanup_free_ char *r = repo_of(rm->img->tags[i]);
            tag_left = strcmp(r, repo) == 0;
        }
        for (size_t i = 0; !tag_left && rm->img->digests[i] != NULL;) {
            _cleanup_free_ char *r = repo_of(rm->img->digests[i]);
            if (strcmp(r, repo) != 0) {
                i++;
                continue;
            }
            if (untag(rm, rm->img->digests[i], true, err) < 0)
                return -1;
        }
    }
    if (mk_strv_len(rm->img->tags) + mk_strv_len(rm->img->digests) > 0)
        return 0;
    return delete_image(rm, force, true, err);
}

/* `rmi ID`. */
static int remove_by_id(struct rmi *rm, bool force, mk_err **err)
{
    if (single_reference(rm->img->tags, rm->img->digests)) {
        int mask = CONFLICT_RUNNING | (force ? 0 : CONFLICT_STOPPED);
        bool used;
        if (check_conflict(rm, mask, &used, err) < 0 || untag_all(rm, err) < 0)
            return -1;
    }
    return delete_image(rm, force, false, err);
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

/* Move layers/<hex> aside, then delete it: an interrupted removal leaves a
 * tmp- directory for mk_store_gc_tmp, never a half layer under its real name. */
static int remove_layer_dir(struct mk_store *s, const char *chain_id, mk_err **err)
{
    _cleanup_free_ char *dir = mk_store_layer_dir(s, chain_id);
    _cleanup_free_ char *rnd = mk_random_hex(32);
    _cleanup_free_ char *aside = xasprintf("%s/layers/tmp-%s", s->root, rnd);
    if (rename(dir, aside) < 0) {
        if (errno == ENOENT)
            return 0;
        return mk_err_sys(err, "remove layer %s", chain_id);
    }
    return mk_rm_rf(aside, err);
}

/* After img's row is gone: remove its layers and blobs that no remaining image
 * needs.  keep_layers: containers still run on it (rmi -f of a stopped
 * container's image), so its layer directories stay. */
static int collect_unused(struct mk_store *s, const struct mk_image *img, bool keep_layers,
                          char ***report, mk_err **err)
{
    _cleanup_close_ int lock = mk_store_lock_layers(s, true, err);
    if (lock < 0)
        return -1;
    _cleanup_strv_ char **chains = NULL;
    if (mk_image_chain_ids(img->config, &chains, err) < 0)
        return -1;
    _cleanup_strv_ char **blobs = NULL;
    bool blobs_known = image_blobs(s, img, &blobs);

    struct mk_image **all = NULL;
    size_t n = 0;
    if (mk_store_image_list(s, &all, &n, err) < 0)
        return -1;
    _cleanup_strv_ char **needed_chains = NULL;
    _cleanup_strv_ char **needed_blobs = NULL;
    bool all_known = true;
    for (size_t i = 0; i < n; i++) {
        char **c = NULL;
        if (mk_image_chain_ids(all[i]->config, &c, NULL) == 0) {
            for (size_t j = 0; c[j] != NULL; j++)
                mk_strv_push(&needed_chains, c[j]);
            mk_strv_free(c);
        } else {
            all_known = false;
        }
        all_known = image_blobs(s, all[i], &needed_blobs) && all_known;
    }
    mk_image_list_free(all, n);
    if (!all_known)
        /* Some image's layers are unknown: removing anything could break it. */
        return 0;

    size_t nc = mk_strv_len(chains);
    for (size_t i = nc; i-- > 0 && !keep_layers;) {
        if (mk_strv_contains(needed_chains, chains[i]))
            continue;
        if (remove_layer_dir(s, chains[i], err) < 0)
            return -1;
        mk_strv_push_owned(report, xasprintf("Deleted: %s", chains[i]));
    }
    for (size_t i = 0; blobs_known && blobs[i] != NULL; i++) {
        if (mk_strv_contains(needed_blobs, blobs[i]))
            continue;
        if (mk_store_blob_remove(s, blobs[i], err) < 0)
            return -1;
    }
    return 0;
}

static void image_event(struct mk_store *s, const char *action, const char *id)
{
    _cleanup_json_ json_t *attrs = json_pack("{s:s}", "name", id);
    _cleanup_err_ mk_err *ignored = NULL;
    mk_store_event_add(s, "image", action, id, attrs, &ignored);
}

int mk_image_remove(struct mk_store *s, const char *name, bool force, char ***report, mk_err **err)
{
    struct rmi rm = {.s = s};
    int r = -1;
    bool committed = false;
    if (mk_image_lookup(s, name, &rm.img, err) < 0)
        return -1;
    if (mk_store_container_list_by_image(s, rm.img->id, &rm.users, &rm.n_users, err) < 0)
        goto out;
    bool by_id = mk_str_has_prefix(rm.img->id, name) || mk_str_has_prefix(rm.img->id + 7, name);
    if (mk_store_begin(s, err) < 0)
        goto out;
    r = by_id ? remove_by_id(&rm, force, err) : remove_by_name(&rm, name, force, err);
    if (r < 0) {
        mk_store_rollback(s);
        goto out;
    }
    if (mk_store_commit(s, err) < 0) {
        r = -1;
        goto out;
    }
    committed = true;
    for (int i = 0; i < rm.untagged; i++)
        image_event(s, "untag", rm.img->id);
    if (rm.deleted) {
        image_event(s, "delete", rm.img->id);
        /* The image is gone either way; a failed cleanup leaves only garbage. */
        r = collect_unused(s, rm.img, rm.n_users > 0, &rm.report, err);
    }
out:
    /* What was committed happened, even if removing the files failed after. */
    if (committed)
        for (size_t i = 0; rm.report != NULL && rm.report[i] != NULL; i++)
            mk_strv_push(report, rm.report[i]);
    mk_strv_free(rm.report);
    mk_container_list_free(rm.users, rm.n_users);
    mk_image_free(rm.img);
    return r;
}
