/* container_commit.c: docker diff and docker commit: a container's upper dir
 * read as a list of changes, or stored as a new layer on top of its image. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "image/image.h"

#include <signal.h>
#include <string.h>

/* The container's upper dir and the image layers under it (topmost first). */
static int container_layers(struct mk_engine *e, const struct mk_container *c,
                            struct mk_image **img, char **upper, char ***lower, mk_err **err)
{
    _cleanup_strv_ char **dirs = NULL;
    if (mk_image_get_for_container(e->store, c->image_id, img, err) < 0)
        return mk_err_wrap(err, "image of container %s", c->id);
    if (mk_image_lower_dirs(e->store, *img, &dirs, err) < 0) {
        mk_image_free(*img);
        *img = NULL;
        return -1;
    }
    _cleanup_free_ char *dir = mk_store_container_dir(e->store, c->id);
    *upper = mk_path_join(dir, "upper");
    *lower = steal_pointer(&dirs);
    return 0;
}

int mk_container_changes(struct mk_engine *e, const char *ref, json_t **out, mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    struct mk_image *img = NULL;
    _cleanup_free_ char *upper = NULL;
    _cleanup_strv_ char **lower = NULL;
    int r = container_layers(e, c, &img, &upper, &lower, err);
    if (r == 0)
        r = mk_layer_changes(upper, lower, out, err);
    mk_image_free(img);
    mk_container_free(c);
    return r;
}

/* Is v unset as dockerd's commit merge sees it: null, "", 0, false, [] or {}? */
static bool unset(const json_t *v)
{
    return v == NULL || json_is_null(v) || (json_is_string(v) && *json_string_value(v) == '\0') ||
           (json_is_array(v) && json_array_size(v) == 0) ||
           (json_is_object(v) && json_object_size(v) == 0) || json_is_false(v) ||
           (json_is_integer(v) && json_integer_value(v) == 0);
}

/* The variable name of an Env entry "K=V" (or "K"). */
static size_t env_key_len(const char *kv)
{
    const char *eq = strchr(kv, '=');
    return eq != NULL ? (size_t)(eq - kv) : strlen(kv);
}

/* The committed Config: the user's (the API body), with what it leaves
 * unset taken from the container's; Env gets the container's variables the
 * user's does not set, Labels, ExposedPorts and Volumes the keys it lacks. */
static json_t *merge_config(const json_t *user, const json_t *ctr)
{
    json_t *out = json_deep_copy(user);
    const char *key;
    json_t *cv;
    json_object_foreach((json_t *)ctr, key, cv)
    {
        json_t *uv = json_object_get(out, key);
        /* as dockerd: a user Entrypoint comes without the container's Cmd */
        if (strcmp(key, "Cmd") == 0 && !unset(json_object_get(user, "Entrypoint")))
            continue;
        if (unset(uv)) {
            json_object_set_new(out, key, json_deep_copy(cv));
        } else if (strcmp(key, "Env") == 0 && json_is_array(uv) && json_is_array(cv)) {
            size_t i, k;
            json_t *e, *u;
            json_array_foreach(cv, i, e)
            {
                const char *ce = json_string_value(e);
                bool shadowed = ce == NULL;
                json_array_foreach(uv, k, u)
                {
                    const char *ue = json_string_value(u);
                    if (!shadowed && ue != NULL && env_key_len(ue) == env_key_len(ce) &&
                        strncmp(ue, ce, env_key_len(ce)) == 0)
                        shadowed = true;
                }
                if (!shadowed)
                    json_array_append(uv, e);
            }
        } else if (json_is_object(uv) && json_is_object(cv)) {
            const char *k;
            json_t *v;
            json_object_foreach(cv, k, v)
            {
                if (json_object_get(uv, k) == NULL)
                    json_object_set(uv, k, v);
            }
        }
    }
    return out;
}

/* The new image's config, as docker's NewChildImage makes it: the image's,
 * with the container's config (then the -c changes), an author, and a
 * history entry for the new layer (empty_layer when nothing changed). */
static json_t *commit_config(const struct mk_image *img, const struct mk_container *c,
                             const struct mk_commit_opts *o, bool empty, const char *created)
{
    json_t *cfg = json_deep_copy(img->config);
    const json_t *ctr_cfg = json_object_get(c->config, "Config");
    _cleanup_json_ json_t *container_cfg =
        o->config != NULL ? merge_config(o->config, ctr_cfg) : json_deep_copy(ctr_cfg);
    json_object_set_new(cfg, "config", json_deep_copy(container_cfg));
    json_object_set_new(cfg, "container_config", json_deep_copy(ctr_cfg));
    json_object_set_new(cfg, "container", json_string(c->id));
    json_object_set_new(cfg, "created", json_string(created));
    json_object_del(cfg, "comment"); /* the parent's (import's) comment is not ours */
    json_object_del(cfg, "author");
    if (o->author != NULL && *o->author)
        json_object_set_new(cfg, "author", json_string(o->author));
    if (!json_is_object(json_object_get(cfg, "rootfs")))
        json_object_set_new(cfg, "rootfs", json_pack("{s:s, s:[]}", "type", "layers", "diff_ids"));

    _cleanup_strv_ char **cmd = mk_json_strv(json_object_get(container_cfg, "Cmd"));
    _cleanup_free_ char *created_by = cmd != NULL ? mk_strv_join(cmd, " ") : xstrdup("");
    json_t *h = json_pack("{s:s}", "created", created);
    if (o->author != NULL && *o->author)
        json_object_set_new(h, "author", json_string(o->author));
    if (*created_by)
        json_object_set_new(h, "created_by", json_string(created_by));
    if (o->comment != NULL && *o->comment)
        json_object_set_new(h, "comment", json_string(o->comment));
    if (empty)
        json_object_set_new(h, "empty_layer", json_true());
    json_t *history = json_object_get(cfg, "history");
    if (!json_is_array(history)) {
        history = json_array();
        json_object_set_new(cfg, "history", history);
    }
    json_array_append_new(history, h);
    return cfg;
}

/* -p (docker's default): docker freezes a running container while its layer
 * is read, so the files are consistent.  One it finds paused stays paused. */
/* Ctrl-C, a hangup or a TERM between the pause and the unpause would leave
 * the container frozen: they wait (blocked) until it is thawed again. */
static const int deferred_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static int pause_for_commit(struct mk_engine *e, const struct mk_container *c, bool pause,
                            bool *paused, sigset_t *saved, mk_err **err)
{
    *paused = false;
    if (!pause || !mk_container_is_running(c) || strcmp(c->status, "paused") == 0)
        return 0;
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof(deferred_signals) / sizeof(deferred_signals[0]); i++)
        sigaddset(&set, deferred_signals[i]);
    sigprocmask(SIG_BLOCK, &set, saved);
    if (mk_container_pause(e, c->id, err) < 0) {
        sigprocmask(SIG_SETMASK, saved, NULL);
        return -1;
    }
    *paused = true;
    return 0;
}

static void resume_after_commit(struct mk_engine *e, const struct mk_container *c, bool paused,
                                const sigset_t *saved)
{
    if (!paused)
        return;
    mk_container_unpause(e, c->id, NULL);
    sigprocmask(SIG_SETMASK, saved, NULL);
}

/* Read the upper dir into w (NULL when nothing changed: docker then adds no
 * layer, only a history entry). */
static int read_layer(struct mk_engine *e, const struct mk_container *c, bool pause,
                      struct mk_blob_writer **w, mk_err **err)
{
    struct mk_image *img = NULL;
    _cleanup_free_ char *upper = NULL;
    _cleanup_strv_ char **lower = NULL;
    _cleanup_json_ json_t *changes = NULL;
    bool paused = false;
    sigset_t saved;
    *w = NULL;
    if (container_layers(e, c, &img, &upper, &lower, err) < 0)
        return -1;
    mk_image_free(img);
    if (pause_for_commit(e, c, pause && mk_container_is_running(c), &paused, &saved, err) < 0)
        return -1;
    int r = mk_layer_changes(upper, lower, &changes, err);
    if (r == 0 && json_array_size(changes) > 0) {
        r = mk_blob_writer_new(e->store, w, err);
        if (r == 0 && mk_layer_tar_upper(upper, changes, *w, err) < 0) {
            mk_blob_writer_free(*w);
            *w = NULL;
            r = -1;
        }
    }
    resume_after_commit(e, c, paused, &saved);
    return r;
}

static void commit_event(struct mk_engine *e, const struct mk_container *c,
                         const struct mk_commit_opts *o, const char *id, const char *tag)
{
    _cleanup_free_ char *familiar = tag != NULL ? mk_ref_familiarize(tag) : xstrdup("");
    _cleanup_json_ json_t *attrs = json_pack("{s:s, s:s, s:s}", "comment",
                                             o->comment ? o->comment : "", "imageID", id,
                                             "imageRef", familiar);
    mk_container_event(e, c, "commit", attrs);
}

static int commit_container(struct mk_engine *e, const struct mk_container *c,
                            const struct mk_commit_opts *o, const char *tag, char **out_id,
                            mk_err **err)
{
    struct mk_image *img = NULL;
    if (mk_image_get_for_container(e->store, c->image_id, &img, err) < 0)
        return mk_err_wrap(err, "image of container %s", c->id);
    struct mk_blob_writer *w = NULL;
    int r = read_layer(e, c, o->pause, &w, err);
    int64_t created_ns = mk_now_ns();
    _cleanup_free_ char *created = mk_time_rfc3339(created_ns);
    _cleanup_json_ json_t *config = r < 0 ? NULL : commit_config(img, c, o, w == NULL, created);
    if (r == 0)
        r = mk_image_apply_changes(config, o->changes, err);
    if (r == 0) {
        /* Shared: an rmi collecting unused layers waits until our rows exist. */
        _cleanup_close_ int lock = mk_store_lock_layers(e->store, false, err);
        struct mk_image_new n = {.parent = img, .layer = w, .config = config,
                                 .created = created_ns, .tag = tag};
        r = lock < 0 ? -1 : mk_image_create(e->store, &n, out_id, err);
    }
    if (r == 0)
        commit_event(e, c, o, *out_id, tag);
    mk_blob_writer_free(w);
    mk_image_free(img);
    return r;
}

int mk_container_commit(struct mk_engine *e, const char *ref, const struct mk_commit_opts *o,
                        char **out_id, mk_err **err)
{
    _cleanup_free_ char *tag = NULL;
    if (mk_image_new_tag(o->ref, &tag, err) < 0)
        return -1;
    /* Bad -c instructions fail before anything is read. */
    _cleanup_json_ json_t *probe = json_object();
    if (mk_image_apply_changes(probe, o->changes, err) < 0)
        return -1;
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    int r = commit_container(e, c, o, tag, out_id, err);
    mk_container_free(c);
    return r;
}
