/* container_update.c: docker update: new resource limits for a container,
 * saved in its HostConfig (the next start uses them) and, when it runs,
 * written to its cgroup at once. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "runtime/runtime.h"

#include <string.h>

/* A new restart policy: docker's update refuses one for a --rm container
 * (which the shared check words for create), then checks it as create does. */
static int check_restart_policy(const json_t *old_hc, const json_t *rp, mk_err **err)
{
    const char *name = mk_json_str(rp, "Name");
    if (mk_json_bool(old_hc, "AutoRemove", false) && name != NULL && *name != '\0' &&
        strcmp(name, "no") != 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "Restart policy cannot be updated because AutoRemove is enabled for "
                          "the container");
    _cleanup_json_ json_t *hc = json_pack("{s:O}", "RestartPolicy", rp);
    return mk_restart_policy_validate(hc, err);
}

/* moby's check: a memory limit alone may not pass the memory+swap limit set before. */
static int check_memory(const json_t *old_hc, const json_t *changes, mk_err **err)
{
    int64_t memory = mk_json_int(changes, "Memory", 0);
    int64_t old_swap = mk_json_int(old_hc, "MemorySwap", 0);
    if (memory > 0 && json_object_get(changes, "MemorySwap") == NULL && old_swap > 0 &&
        memory > old_swap)
        return mk_err_set(err, MK_ERR_INVALID,
                          "Memory limit should be smaller than already set memoryswap limit, "
                          "update the memoryswap at the same time");
    return 0;
}

/* The resources the cgroup takes on a live update (not devices: those stay). */
static json_t *live_resources(const json_t *spec)
{
    const json_t *res = json_object_get(json_object_get(spec, "linux"), "resources");
    json_t *out = json_object();
    static const char *const keys[] = {"memory", "cpu", "pids", "blockIO"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
        json_t *v = json_object_get(res, keys[i]);
        if (v != NULL)
            json_object_set(out, keys[i], v);
    }
    return out;
}

static int apply_live(struct mk_engine *e, const struct mk_container *c, const json_t *spec,
                      mk_err **err)
{
    _cleanup_free_ char *cg = NULL;
    if (mk_engine_cgroup_path(e, c, &cg, err) < 0)
        return -1;
    _cleanup_json_ json_t *res = live_resources(spec);
    if (mk_cgroup_update(cg, res, err) < 0)
        return mk_err_wrap(err, "Cannot update container %s", c->id);
    return 0;
}

int mk_container_update(struct mk_engine *e, const char *ref, const json_t *changes, mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    int ret = -1;
    _cleanup_json_ json_t *spec = NULL;
    json_t *hc = json_object_get(c->config, "HostConfig");
    if (hc == NULL) {
        hc = json_object();
        json_object_set_new(c->config, "HostConfig", hc);
    }
    const json_t *rp = json_object_get(changes, "RestartPolicy");
    if ((rp != NULL && check_restart_policy(hc, rp, err) < 0) || check_memory(hc, changes, err) < 0)
        goto out;
    json_object_update(hc, (json_t *)changes);
    /* The spec builder validates the new values as create does. */
    if (mk_engine_build_spec(e, c, &spec, err) < 0)
        goto out;
    if (mk_container_is_running(c) && apply_live(e, c, spec, err) < 0)
        goto out;
    if (mk_store_container_save_config(e->store, c->id, c->config, err) < 0)
        goto out;
    mk_container_event(e, c, "update", NULL);
    ret = 0;
out:
    mk_container_free(c);
    return ret;
}
