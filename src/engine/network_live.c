/* network_live.c: docker network connect / disconnect of a running
 * container: an endpoint made in (or removed from) its network namespace
 * while it runs, its lease, and its network.json, which inspect, port and the
 * DNS server read.  network.c keeps the stored configuration in step. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "monitor/monitor.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int open_netns(const struct mk_container *c, mk_err **err)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)c->pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mk_err_sys(err, "open the network namespace of container %s", c->name);
    return fd;
}

/* The container's network.json, or a new one for a container that had no
 * network of its own yet (none). */
static json_t *load_state(struct mk_engine *e, const struct mk_container *c)
{
    json_t *state = mk_container_net_state(e, c);
    if (state == NULL)
        state = json_pack("{s:{},s:{},s:{},s:s}", "Networks", "Interfaces", "Ports", "SandboxKey", "");
    if (!json_is_object(json_object_get(state, "Interfaces")))
        json_object_set_new(state, "Interfaces", json_object());
    if (!json_is_object(json_object_get(state, "Networks")))
        json_object_set_new(state, "Networks", json_object());
    return state;
}

int mk_container_network_connect_live(struct mk_engine *e, const struct mk_container *c,
                                      const struct mk_network *n, const json_t *endpoint,
                                      mk_err **err)
{
    const char *mode = mk_json_str(json_object_get(c->config, "HostConfig"), "NetworkMode");
    if (mode != NULL && (strcmp(mode, "host") == 0 || mk_str_has_prefix(mode, "container:")))
        return mk_err_set(err, MK_ERR_FORBIDDEN,
                          "container sharing network namespace with another container or host "
                          "cannot be connected to any other network");
    _cleanup_json_ json_t *state = load_state(e, c);
    json_t *ifaces = json_object_get(state, "Interfaces");
    if (json_object_get(ifaces, n->name) != NULL)
        return mk_err_set(err, MK_ERR_FORBIDDEN, "endpoint with name %s already exists in network %s",
                          c->name, n->name);
    /* The next free ethN. */
    int idx = 0;
    for (bool used = true; used; idx++) {
        char want[16];
        snprintf(want, sizeof(want), "eth%d", idx);
        used = false;
        const char *k;
        json_t *v;
        json_object_foreach(ifaces, k, v)
            used |= strcmp(json_string_value(v), want) == 0;
        if (!used)
            break;
    }
    _cleanup_close_ int netns = open_netns(c, err);
    if (netns < 0)
        return -1;
    _cleanup_close_ int host_nl = mk_nl_open(err);
    _cleanup_close_ int ns_nl = host_nl >= 0 ? mk_nl_open_netns(netns, err) : -1;
    if (ns_nl < 0)
        return -1;
    uint32_t ip;
    bool user, internal;
    if (mk_container_join_network(e, c, idx, n->name, endpoint, netns, host_nl, ns_nl, NULL, state,
                                  &ip, &user, &internal, err) < 0)
        return -1;
    return mk_container_net_state_write(e, c->id, state, err);
}

void mk_container_network_changed(struct mk_engine *e, const struct mk_container *c)
{
    _cleanup_close_ int fd = mk_engine_attach_connect(e, c);
    if (fd < 0 || mk_frame_write(fd, MK_FRAME_NET_CHANGED, NULL, 0) < 0)
        return; /* no monitor: the container is ending */
    /* Its answer, past any output it sends an attached client meanwhile; a
     * monitor that ends, or takes over 5 s, ends the wait. */
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    for (;;) {
        enum mk_frame_type type;
        char *data = NULL;
        size_t len;
        int r = mk_frame_read(fd, &type, &data, &len);
        free(data);
        if (r <= 0 || type == MK_FRAME_NET_CHANGED)
            break;
    }
}

int mk_container_network_disconnect_live(struct mk_engine *e, const struct mk_container *c,
                                         const struct mk_network *n, bool force, mk_err **err)
{
    _cleanup_json_ json_t *state = load_state(e, c);
    const char *ifname = mk_json_str(json_object_get(state, "Interfaces"), n->name);
    if (ifname == NULL)
        return mk_err_set(err, MK_ERR_FORBIDDEN, "container %s is not connected to network %s",
                          c->id, n->name);
    _cleanup_close_ int netns = open_netns(c, err);
    if (netns < 0)
        return -1;
    _cleanup_close_ int ns_nl = mk_nl_open_netns(netns, err);
    if (ns_nl < 0)
        return -1;
    /* Deleting the container's end takes the pair (and, synchronously, the
     * kernel's ~25 ms: nothing else waits on a disconnect). */
    mk_err *gone = NULL;
    if (mk_nl_link_del(ns_nl, ifname, &gone) < 0) {
        if (gone->kind != MK_ERR_NOT_FOUND && !force) {
            *err = gone;
            return -1;
        }
        mk_err_free(gone);
    }
    mk_store_endpoint_remove(e->store, n->id, c->id, NULL);
    json_object_del(json_object_get(state, "Interfaces"), n->name);
    json_object_del(json_object_get(state, "Networks"), n->name);
    return mk_container_net_state_write(e, c->id, state, err);
}
