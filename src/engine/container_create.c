/* container_create.c: docker create: validate the body, merge the image's
 * defaults, record the container and lay out its directory. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "engine/spec.h"
#include "image/image.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

/* HostConfig keys this issue implements; anything else set to a non-empty
 * value is refused rather than silently ignored. */
static const char *const supported_host_keys[] = {
    "Binds",       "Tmpfs",     "ReadonlyRootfs", "Init",        "AutoRemove", "NetworkMode",
    "LogConfig",   "Runtime",   "CapAdd",         "CapDrop",     "Privileged", "SecurityOpt",
    "Ulimits",     "Memory",    "MemorySwap",     "NanoCpus",    "CpuShares",  "CpusetCpus",
    "PidsLimit",   "CpuQuota",  "CpuPeriod",      "CpusetMems",  "MemoryReservation", "BlkioWeight", "MemorySwappiness",
    "ShmSize",     "OomScoreAdj", "Sysctls",      "GroupAdd",    "IpcMode",    "PidMode",
    "UTSMode",     "RestartPolicy", "Annotations", "Devices", "DeviceCgroupRules",
    "CgroupnsMode", "OomKillDisable", "CgroupParent", "Mounts", "VolumesFrom", "Dns",
    "DnsSearch", "DnsOptions", "ExtraHosts", "PortBindings", "PublishAllPorts", "Links", NULL,
};

/* --network/--pid container:X name a container that exists (docker checks
 * at create; it must run at start). */
static int check_container_modes(struct mk_engine *e, const json_t *hc, mk_err **err)
{
    const char *ipc = mk_json_str(hc, "IpcMode");
    if (ipc != NULL && mk_str_has_prefix(ipc, "container:"))
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "--ipc=%s is not supported yet: mocker cannot share a container's "
                          "/dev/shm",
                          ipc);
    static const char *const keys[] = {"NetworkMode", "PidMode"};
    for (size_t i = 0; i < 2; i++) {
        const char *mode = mk_json_str(hc, keys[i]);
        if (mode == NULL || !mk_str_has_prefix(mode, "container:"))
            continue;
        struct mk_container *t = NULL;
        if (mk_container_get(e, mode + 10, &t, err) < 0)
            return -1;
        mk_container_free(t);
    }
    const char *net = mk_json_str(hc, "NetworkMode");
    if (net != NULL && mk_str_has_prefix(net, "container:") &&
        json_object_size(json_object_get(hc, "PortBindings")) > 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "conflicting options: port publishing and the container type network "
                          "mode");
    return 0;
}

/* NetworkingConfig.EndpointsConfig (--ip, --network-alias): docker's checks
 * for what only user-defined networks have. */
static int check_endpoints(struct mk_engine *e, const json_t *body, const json_t *hc, mk_err **err)
{
    const json_t *eps = json_object_get(json_object_get(body, "NetworkingConfig"), "EndpointsConfig");
    const char *mode = mk_json_str(hc, "NetworkMode");
    bool builtin = mode == NULL || *mode == '\0' || strcmp(mode, "default") == 0 ||
                   strcmp(mode, "bridge") == 0 || strcmp(mode, "none") == 0 ||
                   strcmp(mode, "host") == 0 || mk_str_has_prefix(mode, "container:");
    if (json_array_size(json_object_get(hc, "Links")) > 0 && !(mode == NULL || *mode == '\0' ||
                                                              strcmp(mode, "default") == 0 ||
                                                              strcmp(mode, "bridge") == 0))
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "--link is supported by mocker on the default bridge network only "
                          "(containers on a user-defined network find each other by name)");
    const char *mac = mk_json_str(body, "MacAddress");
    bool own_ns = mode == NULL || *mode == '\0' ||
                  (strcmp(mode, "none") != 0 && strcmp(mode, "host") != 0 &&
                   !mk_str_has_prefix(mode, "container:"));
    if (mac != NULL && *mac != '\0' && !own_ns)
        return mk_err_set(err, MK_ERR_INVALID, "conflicting options: mac-address and the network mode");
    /* A network by name must exist (docker checks at create). */
    if (own_ns && mode != NULL && *mode != '\0' && strcmp(mode, "default") != 0) {
        struct mk_network *n = NULL;
        if (mk_network_get(e, mode, &n, err) < 0)
            return -1;
        mk_network_free(n);
    }
    const char *name;
    json_t *ep;
    json_object_foreach((json_t *)eps, name, ep)
    {
        const char *ip = mk_json_str(json_object_get(ep, "IPAMConfig"), "IPv4Address");
        if (builtin && ip != NULL && *ip != '\0')
            return mk_err_set(err, MK_ERR_INVALID,
                              "user specified IP address is supported on user defined networks "
                              "only");
        size_t k;
        json_t *al;
        json_array_foreach(json_object_get(ep, "Aliases"), k, al)
        {
            if (!json_is_string(al) || *json_string_value(al) == '\0')
                return mk_err_set(err, MK_ERR_INVALID, "invalid network alias in %s", name);
        }
        if (builtin && json_array_size(json_object_get(ep, "Aliases")) > 0)
            return mk_err_set(err, MK_ERR_INVALID,
                              "network-scoped alias is supported only for containers in user "
                              "defined networks");
    }
    return 0;
}

static int check_host_config(const json_t *hc, mk_err **err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)hc, key, v)
    {
        bool known = false;
        for (size_t i = 0; supported_host_keys[i] != NULL; i++)
            if (strcmp(key, supported_host_keys[i]) == 0)
                known = true;
        /* the docker CLI always sends ConsoleSize ([0,0] without a terminal):
         * the pty's first size (process.consoleSize) */
        if (strcmp(key, "ConsoleSize") == 0) {
            if (!json_is_array(v) || json_array_size(v) != 2 ||
                !json_is_integer(json_array_get(v, 0)) || !json_is_integer(json_array_get(v, 1)) ||
                json_integer_value(json_array_get(v, 0)) < 0 ||
                json_integer_value(json_array_get(v, 1)) < 0)
                return mk_err_set(err, MK_ERR_INVALID,
                                  "HostConfig.ConsoleSize must be [height, width]");
            continue;
        }
        if (!known && !mk_json_is_empty(v))
            return mk_err_set(err, MK_ERR_UNSUPPORTED, "HostConfig.%s is not supported by mocker yet",
                              key);
    }
    if (mk_restart_policy_validate(hc, err) < 0)
        return -1;
    const char *cgns = mk_json_str(hc, "CgroupnsMode");
    if (cgns != NULL && *cgns != '\0' && strcmp(cgns, "host") != 0 && strcmp(cgns, "private") != 0)
        return mk_err_set(err, MK_ERR_INVALID, "invalid cgroup namespace mode: %s", cgns);
    /* cgroup v2 has no memory.oom_control; docker drops the setting with a
     * warning, mocker refuses it rather than run without what was asked. */
    if (mk_json_bool(hc, "OomKillDisable", false) && mk_cgroup_detect() == MK_CGROUP_V2)
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "--oom-kill-disable is not supported on a cgroup v2 host: the kernel "
                          "has no OOM killer switch (memory.oom_control) there");
    const char *ld = mk_json_str(json_object_get(hc, "LogConfig"), "Type");
    if (ld != NULL && *ld != '\0' && strcmp(ld, "json-file") != 0 && strcmp(ld, "none") != 0)
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "logging driver \"%s\" is not supported by mocker (json-file, none)", ld);
    return 0;
}

/* Env lists merge by key: later entries replace earlier ones in place. */
static void env_merge(json_t *into, const json_t *add)
{
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)add, i, e)
    {
        const char *kv = json_string_value(e);
        if (kv == NULL)
            continue;
        size_t klen = strcspn(kv, "=");
        bool replaced = false;
        size_t j;
        json_t *old;
        json_array_foreach(into, j, old)
        {
            const char *o = json_string_value(old);
            if (o != NULL && strncmp(o, kv, klen) == 0 && (o[klen] == '=' || o[klen] == '\0')) {
                json_array_set(into, j, e);
                replaced = true;
                break;
            }
        }
        if (!replaced)
            json_array_append(into, e);
    }
}

/* docker's rules for combining the create body with the image config. */
static json_t *merge_config(const json_t *body, const json_t *image_cfg)
{
    json_t *c = json_object();
    const json_t *ic = json_object_get(image_cfg, "config");
    json_object_set_new(c, "Hostname", json_string(mk_json_str(body, "Hostname") ?: ""));
    json_object_set_new(c, "Domainname", json_string(mk_json_str(body, "Domainname") ?: ""));
    const char *user = mk_json_str(body, "User");
    json_object_set_new(c, "User", json_string(user && *user ? user : (mk_json_str(ic, "User") ?: "")));
    const char *flags[] = {"AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin",
                           "StdinOnce"};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        json_object_set_new(c, flags[i], json_boolean(mk_json_bool(body, flags[i], false)));
    json_t *env = json_array();
    env_merge(env, json_object_get(ic, "Env"));
    env_merge(env, json_object_get(body, "Env"));
    json_object_set_new(c, "Env", env);

    const json_t *ep = json_object_get(body, "Entrypoint");
    const json_t *cmd = json_object_get(body, "Cmd");
    bool user_ep = json_is_array(ep) || json_is_string(ep);
    if (json_is_string(ep)) /* the API allows a string entrypoint */
        ep = json_pack("[s]", json_string_value(ep));
    else
        json_incref((json_t *)ep);
    if (json_is_array(cmd) && json_array_size(cmd) > 0)
        json_object_set(c, "Cmd", (json_t *)cmd);
    else if (!user_ep && json_is_array(json_object_get(ic, "Cmd")))
        json_object_set(c, "Cmd", json_object_get(ic, "Cmd"));
    else
        json_object_set_new(c, "Cmd", json_null());
    json_object_set_new(c, "Image", json_string(mk_json_str(body, "Image")));
    json_t *vols = json_object();
    json_object_update(vols, json_object_get(ic, "Volumes"));
    json_object_update(vols, json_object_get(body, "Volumes"));
    json_object_set_new(c, "Volumes", json_object_size(vols) ? vols : (json_decref(vols), json_null()));
    const char *wd = mk_json_str(body, "WorkingDir");
    json_object_set_new(c, "WorkingDir",
                        json_string(wd && *wd ? wd : (mk_json_str(ic, "WorkingDir") ?: "")));
    if (user_ep && json_array_size(ep) > 0 && json_string_value(json_array_get(ep, 0))[0] != '\0')
        json_object_set(c, "Entrypoint", (json_t *)ep);
    else if (!user_ep && json_is_array(json_object_get(ic, "Entrypoint")))
        json_object_set(c, "Entrypoint", json_object_get(ic, "Entrypoint"));
    else
        json_object_set_new(c, "Entrypoint", json_null());
    json_decref((json_t *)ep);
    json_object_set_new(c, "OnBuild", json_null());
    json_t *labels = json_object();
    json_object_update(labels, json_object_get(ic, "Labels"));
    json_object_update(labels, json_object_get(body, "Labels"));
    json_object_set_new(c, "Labels", labels);
    json_t *ports = json_object();
    json_object_update(ports, json_object_get(ic, "ExposedPorts"));
    json_object_update(ports, json_object_get(body, "ExposedPorts"));
    if (json_object_size(ports))
        json_object_set_new(c, "ExposedPorts", ports);
    else
        json_decref(ports);
    const char *ss = mk_json_str(body, "StopSignal") ?: mk_json_str(ic, "StopSignal");
    if (ss != NULL && *ss)
        json_object_set_new(c, "StopSignal", json_string(ss));
    if (json_is_integer(json_object_get(body, "StopTimeout")))
        json_object_set(c, "StopTimeout", json_object_get(body, "StopTimeout"));
    mk_health_config_merge(c, json_object_get(body, "Healthcheck"),
                           json_object_get(ic, "Healthcheck"));
    return c;
}

/* docker rejects names that are not [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool mk_engine_valid_name(const char *n)
{
    if (*n == '/')
        n++;
    if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9')))
        return false;
    for (const char *p = n + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.' || *p == '-'))
            return false;
    return strlen(n) >= 2;
}

int mk_container_create(struct mk_engine *e, const char *name, const json_t *body, char **out_id,
                        json_t **warnings, mk_err **err)
{
    return mk_container_create_platform(e, name, NULL, body, out_id, warnings, err);
}

int mk_container_create_platform(struct mk_engine *e, const char *name,
                                 const struct mk_platform *platform, const json_t *body,
                                 char **out_id, json_t **warnings, mk_err **err)
{
    if (!json_is_object(body))
        return mk_err_set(err, MK_ERR_INVALID, "config cannot be empty in order to create a container");
    const char *image_name = mk_json_str(body, "Image");
    if (image_name == NULL || *image_name == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "No command specified");
    json_t *hc = json_object_get(body, "HostConfig");
    _cleanup_json_ json_t *host_config = hc ? json_deep_copy(hc) : json_object();
    if (check_host_config(host_config, err) < 0 || check_container_modes(e, host_config, err) < 0 ||
        check_endpoints(e, body, host_config, err) < 0 ||
        mk_health_config_validate(json_object_get(body, "Healthcheck"), err) < 0)
        return -1;
    /* Refuse bad capabilities now, as docker does, not at the first start. */
    _cleanup_strv_ char **caps = NULL;
    if (mk_spec_capabilities(json_object_get(host_config, "CapAdd"),
                             json_object_get(host_config, "CapDrop"),
                             mk_json_bool(host_config, "Privileged", false), &caps, err) < 0)
        return mk_err_wrap(err, "invalid CapAdd");
    _cleanup_free_ char *runtime = NULL;
    if (mk_engine_runtime_path(mk_json_str(host_config, "Runtime"), &runtime, err) < 0)
        return -1;
    if (name != NULL && *name != '\0' && !mk_engine_valid_name(name))
        return mk_err_set(err, MK_ERR_INVALID,
                          "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                          name);

    struct mk_image *img = NULL;
    if (mk_image_lookup(e->store, image_name, &img, err) < 0)
        return -1;
    _cleanup_free_ char *platform_warning = NULL;
    if (mk_engine_check_platform(image_name, img, platform, &platform_warning, err) < 0) {
        mk_image_free(img);
        return -1;
    }
    _cleanup_json_ json_t *config = merge_config(body, img->config);
    json_t *cmd = json_object_get(config, "Cmd"), *ep = json_object_get(config, "Entrypoint");
    if (json_array_size(cmd) == 0 && json_array_size(ep) == 0) {
        mk_image_free(img);
        return mk_err_set(err, MK_ERR_INVALID, "no command specified");
    }

    _cleanup_free_ char *id = mk_random_hex(64);
    /* Sharing a container's network is sharing its name on it. */
    const char *net_mode = mk_json_str(host_config, "NetworkMode");
    if (net_mode != NULL && mk_str_has_prefix(net_mode, "container:")) {
        if (*mk_json_str(config, "Hostname") != '\0') {
            mk_image_free(img);
            return mk_err_set(err, MK_ERR_INVALID,
                              "conflicting options: hostname and the network mode");
        }
        struct mk_container *t = NULL;
        if (mk_container_get(e, net_mode + 10, &t, err) < 0) {
            mk_image_free(img);
            return -1;
        }
        const char *hn = mk_json_str(json_object_get(t->config, "Config"), "Hostname");
        json_object_set_new(config, "Hostname", json_string(hn != NULL ? hn : ""));
        mk_container_free(t);
    }
    if (*mk_json_str(config, "Hostname") == '\0') {
        _cleanup_free_ char *short_id = xstrndup(id, 12);
        json_object_set_new(config, "Hostname", json_string(short_id));
    }
    /* docker's daemon defaults: a cgroup namespace of its own only on cgroup
     * v2 (default-cgroupns-mode), the OOM killer on. */
    const char *cgns = mk_json_str(host_config, "CgroupnsMode");
    if (cgns == NULL || *cgns == '\0')
        json_object_set_new(host_config, "CgroupnsMode",
                            json_string(mk_cgroup_detect() == MK_CGROUP_V2 ? "private" : "host"));
    if (!json_is_boolean(json_object_get(host_config, "OomKillDisable")))
        json_object_set_new(host_config, "OomKillDisable", json_false());
    const char *net = mk_json_str(host_config, "NetworkMode");
    if (net == NULL || *net == '\0')
        json_object_set_new(host_config, "NetworkMode", json_string("default"));
    bool host_net = strcmp(mk_json_str(host_config, "NetworkMode"), "host") == 0;

    /* docker discards a block I/O weight the kernel cannot apply, and says so. */
    /* docker drops the ports of a container on the host's network, and says so. */
    bool ports_discarded = false;
    if (host_net && (json_object_size(json_object_get(host_config, "PortBindings")) > 0 ||
                     mk_json_bool(host_config, "PublishAllPorts", false))) {
        json_object_set_new(host_config, "PortBindings", json_object());
        json_object_set_new(host_config, "PublishAllPorts", json_false());
        ports_discarded = true;
    }
    bool blkio_discarded = false;
    if (mk_json_int(host_config, "BlkioWeight", 0) != 0 && !mk_cgroup_blkio_weight_supported()) {
        json_object_set_new(host_config, "BlkioWeight", json_integer(0));
        blkio_discarded = true;
    }

    /* Volumes are made before the row that uses them, so that no rm or
     * prune sees a row naming a volume that does not exist yet. */
    _cleanup_json_ json_t *points = NULL;
    _cleanup_strv_ char **made = NULL, **copy_dests = NULL;
    _cleanup_close_ int vol_lock = mk_store_lock_volumes(e->store, false, err);
    if (vol_lock < 0 ||
        mk_engine_volumes_prepare(e, host_config, config, &points, &made, &copy_dests, err) < 0) {
        mk_image_free(img);
        return -1;
    }

    struct mk_container c = {0};
    c.id = id;
    c.image = (char *)image_name;
    c.image_id = img->id;
    c.created = mk_now_ns();
    _cleanup_json_ json_t *stored = json_pack("{s:O,s:O,s:O}", "Config", config, "HostConfig",
                                              host_config, "MountPoints", points);
    /* --ip and --network-alias, in the shape `network connect` also writes. */
    const json_t *eps = json_object_get(json_object_get(body, "NetworkingConfig"), "EndpointsConfig");
    if (json_object_size(eps) > 0)
        json_object_set_new(stored, "NetworkingConfig",
                            json_pack("{s:O}", "EndpointsConfig", eps));
    const char *mac = mk_json_str(body, "MacAddress");
    if (mac != NULL && *mac != '\0')
        json_object_set_new(config, "MacAddress", json_string(mac));
    c.config = stored;
    c.status = "created";
    /* A random name can collide with another run's: pick again, as docker does. */
    int ret = -1;
    _cleanup_free_ char *chosen = NULL;
    for (int attempt = 0; attempt < 20; attempt++) {
        free(chosen);
        if (name != NULL && *name != '\0')
            chosen = xstrdup(name[0] == '/' ? name + 1 : name);
        else
            chosen = mk_container_random_name();
        c.name = chosen;
        mk_err_clear(err);
        /* Links are stored as docker stores them, naming this container. */
        const json_t *links = json_object_get(host_config, "Links");
        if (json_array_size(links) > 0) {
            json_t *norm = NULL;
            if (mk_links_normalize(e, links, chosen, &norm, err) < 0) {
                ret = -1;
                break;
            }
            json_object_set_new(json_object_get(stored, "HostConfig"), "Links", norm);
        }
        ret = mk_store_container_insert(e->store, &c, err);
        if (ret == 0 || (name != NULL && *name != '\0') || (*err)->kind != MK_ERR_CONFLICT)
            break;
    }
    mk_image_free(img);
    if (ret < 0) {
        mk_engine_volumes_undo(e, made);
        return -1;
    }
    if (mk_container_dir_make(e, id, mk_json_str(config, "Hostname"), host_config, host_net,
                              err) < 0 ||
        mk_engine_volumes_copy_up(e, id, points, copy_dests, err) < 0) {
        /* Leave nothing half made: the row goes with the directory. */
        _cleanup_err_ mk_err *ignored = NULL;
        _cleanup_free_ char *dir = mk_store_container_dir(e->store, id);
        mk_rm_rf(dir, &ignored);
        mk_store_container_delete(e->store, id, &ignored);
        mk_engine_volumes_undo(e, made);
        return -1;
    }
    mk_container_event(e, &c, "create", NULL);
    if (warnings != NULL) {
        *warnings = json_array();
        if (platform_warning != NULL)
            json_array_append_new(*warnings, json_string(platform_warning));
        if (ports_discarded)
            json_array_append_new(*warnings,
                                  json_string("Published ports are discarded when using host "
                                              "network mode"));
        if (blkio_discarded)
            json_array_append_new(*warnings,
                                  json_string("Your kernel does not support Block I/O weight or "
                                              "the cgroup is not mounted. Weight discarded."));
        if (mk_json_bool(host_config, "OomKillDisable", false) &&
            mk_json_int(host_config, "Memory", 0) == 0)
            json_array_append_new(*warnings,
                                  json_string("OOM killer is disabled for the container, but no "
                                              "memory limit is set, this can result in the system "
                                              "running out of resources."));
    }
    *out_id = steal_pointer(&id);
    return 0;
}
