/* container_inspect.c: docker inspect's JSON for a container. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "image/image.h"

#include <string.h>

static json_t *str_or_empty(const char *s)
{
    return json_string(s ? s : "");
}

static json_t *state_json(const struct mk_container *c)
{
    _cleanup_free_ char *started = mk_time_rfc3339(c->started_at);
    _cleanup_free_ char *finished = mk_time_rfc3339(c->finished_at);
    bool running = mk_container_is_running(c);
    return json_pack("{s:s,s:b,s:b,s:b,s:b,s:b,s:i,s:i,s:s,s:s,s:s}", "Status", c->status,
                     "Running", running, "Paused", strcmp(c->status, "paused") == 0, "Restarting",
                     strcmp(c->status, "restarting") == 0, "OOMKilled", c->oom_killed, "Dead",
                     strcmp(c->status, "dead") == 0, "Pid", running ? (int)c->pid : 0, "ExitCode",
                     c->exit_code, "Error", c->error ? c->error : "", "StartedAt", started,
                     "FinishedAt", finished);
}

/* HostConfig as docker shows it: every field present with its zero value. */
static json_t *host_config_json(const json_t *stored)
{
    json_t *h = json_pack("{s:n,s:s,s:{s:s,s:{}},s:s,s:{s:s,s:i},s:b,s:s,s:n,s:n,s:n,s:n,s:s,"
                          "s:s,s:s,s:b,s:b,s:n,s:s,s:i,s:s,s:[i,i],s:s}",
                          "Binds", "ContainerIDFile", "", "LogConfig", "Type", "json-file",
                          "Config", "NetworkMode", "none", "RestartPolicy", "Name", "no",
                          "MaximumRetryCount", 0, "AutoRemove", 0, "VolumeDriver", "",
                          "VolumesFrom", "CapAdd", "CapDrop", "Dns", "CgroupnsMode", "private",
                          "IpcMode", "private", "PidMode", "", "Privileged", 0, "ReadonlyRootfs", 0,
                          "SecurityOpt", "UTSMode", "", "ShmSize", 67108864, "Runtime", "runc",
                          "ConsoleSize", 0, 0, "Isolation", "");
    json_t *res = json_pack("{s:i,s:i,s:i,s:i,s:i,s:s,s:s,s:i,s:i,s:i,s:n,s:n}", "CpuShares", 0,
                            "Memory", 0, "NanoCpus", 0, "CpuPeriod", 0, "CpuQuota", 0,
                            "CpusetCpus", "", "CpusetMems", "", "MemoryReservation", 0,
                            "MemorySwap", 0, "OomScoreAdj", 0, "PidsLimit", "Ulimits");
    json_object_update(h, res);
    json_decref(res);
    json_object_set_new(h, "Init", json_null());
    json_object_set_new(h, "Tmpfs", json_null());
    json_object_set_new(h, "Sysctls", json_null());
    json_object_set_new(h, "GroupAdd", json_null());
    json_object_set_new(h, "Devices", json_array());
    json_object_set_new(h, "DeviceCgroupRules", json_null());
    json_object_set_new(h, "CgroupParent", json_string(""));
    json_object_set_new(h, "OomKillDisable", json_false());
    json_object_update(h, (json_t *)stored);
    const char *rt = mk_json_str(stored, "Runtime");
    if (rt == NULL || *rt == '\0')
        json_object_set_new(h, "Runtime", json_string("mocker"));
    return h;
}

/* A stopped container's endpoint on a network: no addresses, but what it
 * asked for (IPAMConfig, Aliases) and the network's id, as dockerd keeps
 * them (compose reads the Aliases of a created container). */
static json_t *stored_endpoint(const json_t *cfg)
{
    json_t *ep = json_pack("{s:n,s:n,s:n,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:i,s:s,s:n}", "IPAMConfig",
                           "Links", "Aliases", "NetworkID", "", "EndpointID", "", "Gateway", "",
                           "IPAddress", "", "IPPrefixLen", 0, "IPv6Gateway", "",
                           "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0, "MacAddress", "",
                           "DriverOpts");
    static const char *const kept[] = {"IPAMConfig", "Aliases", "NetworkID"};
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        json_t *v = json_object_get(cfg, kept[i]);
        if (v != NULL && !mk_json_is_empty(v))
            json_object_set(ep, kept[i], v);
    }
    return ep;
}

/* docker's NetworkSettings: what the monitor published while the container
 * runs (network.json), the networks it is on with empty addresses otherwise.
 * On the default bridge the primary endpoint's fields are repeated at the top
 * level, as docker does. */
/* The network a container's NetworkMode names ("default" is the bridge). */
static const char *primary_network(const json_t *hc)
{
    const char *mode = mk_json_str(hc, "NetworkMode");
    return mode == NULL || *mode == '\0' || strcmp(mode, "default") == 0 ? "bridge" : mode;
}

json_t *mk_container_networks_json(struct mk_engine *e, const struct mk_container *c,
                                   json_t **state_out)
{
    const json_t *hc = json_object_get(c->config, "HostConfig");
    json_t *state = mk_container_net_state(e, c);
    *state_out = state;
    const char *primary = primary_network(hc);
    json_t *networks = json_object();
    json_t *running = json_object_get(state, "Networks");
    if (running != NULL) {
        json_object_update(networks, running);
    } else if (!mk_str_has_prefix(primary, "container:")) {
        const json_t *eps =
            json_object_get(json_object_get(c->config, "NetworkingConfig"), "EndpointsConfig");
        json_object_set_new(networks, primary, stored_endpoint(json_object_get(eps, primary)));
        const char *name;
        json_t *ep;
        json_object_foreach((json_t *)eps, name, ep)
        {
            if (strcmp(name, primary) != 0 && strcmp(name, "default") != 0)
                json_object_set_new(networks, name, stored_endpoint(ep));
        }
    }
    return networks;
}

json_t *mk_container_network_settings_json(struct mk_engine *e, const struct mk_container *c)
{
    const json_t *hc = json_object_get(c->config, "HostConfig");
    const char *primary = primary_network(hc);
    _cleanup_json_ json_t *state = NULL;
    json_t *networks = mk_container_networks_json(e, c, &state);
    const json_t *top = strcmp(primary, "bridge") == 0 ? json_object_get(networks, "bridge") : NULL;
    json_t *net = json_pack(
        "{s:s,s:s,s:b,s:s,s:i,s:O?,s:s,s:n,s:n,s:s,s:s,s:s,s:i,s:s,s:i,s:s,s:s,s:o}", "Bridge",
        "", "SandboxID", "", "HairpinMode", 0, "LinkLocalIPv6Address", "",
        "LinkLocalIPv6PrefixLen", 0, "Ports", json_object_get(state, "Ports"), "SandboxKey",
        state != NULL ? mk_json_str(state, "SandboxKey") : "", "SecondaryIPAddresses",
        "SecondaryIPv6Addresses", "EndpointID", top ? mk_json_str(top, "EndpointID") : "",
        "Gateway", top ? mk_json_str(top, "Gateway") : "", "GlobalIPv6Address", "",
        "GlobalIPv6PrefixLen", 0, "IPAddress", top ? mk_json_str(top, "IPAddress") : "",
        "IPPrefixLen", top ? (int)mk_json_int(top, "IPPrefixLen", 0) : 0, "IPv6Gateway", "",
        "MacAddress", top ? mk_json_str(top, "MacAddress") : "", "Networks", networks);
    if (!json_is_object(json_object_get(net, "Ports")))
        json_object_set_new(net, "Ports", json_object());
    return net;
}

json_t *mk_container_mounts_json(const struct mk_container *c)
{
    const json_t *hc = json_object_get(c->config, "HostConfig");
    json_t *mounts = json_array();
    size_t i;
    json_t *b;
    json_array_foreach(json_object_get(hc, "Binds"), i, b)
    {
        _cleanup_free_ char *spec = xstrdup(json_string_value(b));
        char *src = spec, *dst = strchr(spec, ':');
        if (dst == NULL)
            continue;
        *dst++ = '\0';
        /* volumes (a name, or "/dst:mode") are in MountPoints */
        if (*src != '/' || *dst != '/')
            continue;
        char *mode = strchr(dst, ':');
        if (mode != NULL)
            *mode++ = '\0';
        bool rw = mode == NULL || strstr(mode, "ro") == NULL;
        json_array_append_new(mounts, json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "Type", "bind",
                                                "Source", src, "Destination", dst, "Mode",
                                                mode ? mode : "", "RW", rw, "Propagation",
                                                "rprivate"));
    }
    _cleanup_json_ json_t *points = mk_engine_mount_points_json(json_object_get(c->config, "MountPoints"));
    json_array_extend(mounts, points);
    return mounts;
}

json_t *mk_container_inspect_json(struct mk_engine *e, const struct mk_container *c)
{
    const json_t *config = json_object_get(c->config, "Config");
    const json_t *hc = json_object_get(c->config, "HostConfig");
    _cleanup_free_ char *dir = mk_store_container_dir(e->store, c->id);
    _cleanup_free_ char *created = mk_time_rfc3339(c->created);
    _cleanup_free_ char *log_path = mk_container_log_path(e, c);
    _cleanup_free_ char *hosts = mk_path_join(dir, "hosts");
    _cleanup_free_ char *hostname = mk_path_join(dir, "hostname");
    _cleanup_free_ char *resolv = mk_path_join(dir, "resolv.conf");
    _cleanup_free_ char *upper = mk_path_join(dir, "upper");
    _cleanup_free_ char *work = mk_path_join(dir, "work");
    _cleanup_free_ char *merged = mk_path_join(dir, "rootfs");
    _cleanup_free_ char *name = xasprintf("/%s", c->name);

    /* Path and Args: the command split as docker shows it. */
    json_t *argv = json_array();
    json_array_extend(argv, json_object_get(config, "Entrypoint") ?: json_array());
    json_array_extend(argv, json_object_get(config, "Cmd") ?: json_array());
    const char *path = json_string_value(json_array_get(argv, 0));
    json_t *args = json_array();
    for (size_t i = 1; i < json_array_size(argv); i++)
        json_array_append(args, json_array_get(argv, i));

    json_t *graph_data = json_object();
    struct mk_image *img = NULL;
    _cleanup_strv_ char **lowers = NULL;
    if (mk_image_get_for_container(e->store, c->image_id, &img, NULL) == 0 &&
        mk_container_lower_dirs(e->store, img, &lowers, NULL) == 0) {
        _cleanup_free_ char *lower = mk_strv_join(lowers, ":");
        json_object_set_new(graph_data, "LowerDir", json_string(lower));
    }
    mk_image_free(img);
    json_object_set_new(graph_data, "MergedDir", json_string(merged));
    json_object_set_new(graph_data, "UpperDir", json_string(upper));
    json_object_set_new(graph_data, "WorkDir", json_string(work));

    json_t *mounts = mk_container_mounts_json(c);
    json_t *net = mk_container_network_settings_json(e, c);

    json_t *j = json_object();
    json_object_set_new(j, "Id", json_string(c->id));
    json_object_set_new(j, "Created", json_string(created));
    json_object_set_new(j, "Path", str_or_empty(path));
    json_object_set_new(j, "Args", args);
    json_t *state = state_json(c);
    json_t *health = NULL;
    /* docker shows State.Health once a healthcheck has run, and keeps it. */
    if (mk_store_health_get(e->store, c->id, &health, NULL) == 0 && health != NULL)
        json_object_set_new(state, "Health", health);
    json_object_set_new(j, "State", state);
    json_object_set_new(j, "Image", json_string(c->image_id));
    json_object_set_new(j, "ResolvConfPath", json_string(resolv));
    json_object_set_new(j, "HostnamePath", json_string(hostname));
    json_object_set_new(j, "HostsPath", json_string(hosts));
    json_object_set_new(j, "LogPath", json_string(log_path));
    json_object_set_new(j, "Name", json_string(name));
    json_object_set_new(j, "RestartCount", json_integer(c->restart_count));
    json_object_set_new(j, "Driver", json_string("overlay2"));
    json_object_set_new(j, "Platform", json_string("linux"));
    json_object_set_new(j, "MountLabel", json_string(""));
    json_object_set_new(j, "ProcessLabel", json_string(""));
    json_object_set_new(j, "AppArmorProfile", json_string(""));
    json_object_set_new(j, "ExecIDs", json_null());
    json_object_set_new(j, "HostConfig", host_config_json(hc));
    json_object_set_new(j, "GraphDriver", json_pack("{s:o,s:s}", "Data", graph_data, "Name", "overlay2"));
    json_object_set_new(j, "Mounts", mounts);
    json_object_set_new(j, "Config", json_deep_copy(config));
    json_object_set_new(j, "NetworkSettings", net);
    json_decref(argv);
    return j;
}
