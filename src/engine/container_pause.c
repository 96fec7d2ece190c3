/* container_pause.c: docker pause and unpause, through the cgroup freezer.
 *
 * "paused" is a status of a running container: the monitor keeps watching the
 * init, and a stop, kill or rm -f of a paused container thaws it after sending
 * the signal (as dockerd does), since a frozen task never acts on one. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "runtime/runtime.h"

#include <string.h>

int mk_engine_cgroup_path(struct mk_engine *e, const struct mk_container *c, char **out,
                          mk_err **err)
{
    _cleanup_free_ char *dir = mk_store_container_dir(e->store, c->id);
    _cleanup_free_ char *cfg = mk_path_join(dir, "config.json");
    _cleanup_json_ json_t *spec = mk_json_load_file(cfg, err);
    if (spec == NULL)
        return mk_err_wrap(err, "container %s", c->id);
    const char *p = mk_json_str(json_object_get(spec, "linux"), "cgroupsPath");
    if (p == NULL || *p != '/')
        return mk_err_set(err, MK_ERR_INTERNAL, "container %s has no cgroup", c->id);
    *out = xstrdup(p);
    return 0;
}

static int set_paused(struct mk_engine *e, struct mk_container *c, bool paused, mk_err **err)
{
    _cleanup_free_ char *cg = NULL;
    if (mk_engine_cgroup_path(e, c, &cg, err) < 0)
        return -1;
    /* Record "running" before thawing: a thawed init may exit at once, and the
     * monitor's "exited" must be the last word. */
    if (paused && mk_cgroup_freeze(cg, true, err) < 0)
        return -1;
    free(c->status);
    c->status = xstrdup(paused ? "paused" : "running");
    if (mk_store_container_save_state(e->store, c, err) < 0)
        return -1;
    if (!paused && mk_cgroup_freeze(cg, false, err) < 0)
        return -1;
    mk_container_event(e, c, paused ? "pause" : "unpause", NULL);
    return 0;
}

int mk_container_pause(struct mk_engine *e, const char *ref, mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    int ret = -1;
    if (!mk_container_is_running(c))
        mk_err_set(err, MK_ERR_CONFLICT, "Container %s is not running", c->id);
    else if (strcmp(c->status, "paused") == 0)
        mk_err_set(err, MK_ERR_CONFLICT, "Container %s is already paused", c->id);
    else if (strcmp(c->status, "restarting") == 0)
        mk_err_set(err, MK_ERR_CONFLICT, "Container %s is restarting, wait until the container is running", c->id);
    else
        ret = set_paused(e, c, true, err);
    mk_container_free(c);
    return ret;
}

int mk_container_unpause(struct mk_engine *e, const char *ref, mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    int ret = -1;
    if (strcmp(c->status, "paused") != 0)
        mk_err_set(err, MK_ERR_CONFLICT, "Container %s is not paused", c->id);
    else
        ret = set_paused(e, c, false, err);
    mk_container_free(c);
    return ret;
}

void mk_engine_thaw_after_signal(struct mk_engine *e, struct mk_container *c)
{
    if (strcmp(c->status, "paused") != 0)
        return;
    set_paused(e, c, false, NULL);
}
