/* container_netup.c: a starting container's networks, made by its monitor.
 *
 * The monitor already holds the container's network namespace (made while
 * it waited, loopback up).  For each network the container is on, the first
 * one being the one its NetworkMode names: the network is ensured (its bridge
 * exists), an address is leased in the store (the endpoints table), and the
 * endpoint made (network/endpoint.c), or with mocker's runtime planned and
 * made while the container's init mounts its rootfs (mk_container_net_link:
 * the veth pairs are ~0.6 ms of the start here).  Then the files that depend on the
 * address (/etc/hosts, /etc/resolv.conf), the published ports (held by the
 * monitor, forwarded by the firewall's rules), the embedded DNS server on
 * user-defined networks, and network.json for inspect and port.  Everything
 * is undone by mk_container_net_down, in the monitor, before the exit is
 * reported; what a killed monitor leaves (leases, rules) is found by the
 * next start on the network (leases of containers whose monitor is gone) and
 * by the firewall's sweep. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "monitor/monitor.h"
#include "network/network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct mk_container_net {
    struct mk_engine *e;
    char *id;
    struct mk_port_map *ports;
    size_t nports;
    bool fw_ports; /* the firewall forwards them, under the container's id */
    struct mk_dns_server *dns;
    int netns; /* the container's network namespace (a DNS server started late needs it) */
    struct mk_net_link *links; /* planned, not made yet (mk_container_net_link) */
    size_t nlinks;
};

static int link_make(const struct mk_net_link *l, int netns, int host_nl, int ns_nl, mk_err **err)
{
    struct mk_endpoint ep = {.bridge = l->bridge,
                             .host_name = l->host_name,
                             .ifname = l->ifname,
                             .netns_fd = netns,
                             .addr = l->addr,
                             .prefix = l->prefix,
                             .gateway = l->gateway,
                             .mac = l->mac,
                             .mtu = l->mtu};
    return mk_endpoint_add(host_nl, ns_nl, &ep, err);
}

static void links_free(struct mk_container_net *cn)
{
    for (size_t i = 0; i < cn->nlinks; i++)
        free(cn->links[i].bridge);
    free(cn->links);
    cn->links = NULL;
    cn->nlinks = 0;
}

/* The networks the container is on, in order: [[name, endpoint config]...],
 * empty for none, host and container:X. */
static json_t *wanted_networks(const struct mk_container *c)
{
    json_t *out = json_array();
    const json_t *hc = json_object_get(c->config, "HostConfig");
    const char *mode = mk_json_str(hc, "NetworkMode");
    if (mode == NULL || *mode == '\0' || strcmp(mode, "default") == 0)
        mode = "bridge";
    if (strcmp(mode, "none") == 0 || strcmp(mode, "host") == 0 ||
        mk_str_has_prefix(mode, "container:"))
        return out;
    const json_t *eps =
        json_object_get(json_object_get(c->config, "NetworkingConfig"), "EndpointsConfig");
    const json_t *first = json_object_get(eps, mode);
    if (first == NULL && strcmp(mode, "bridge") == 0)
        first = json_object_get(eps, "default");
    json_array_append_new(out, json_pack("[s,O?]", mode, first));
    const char *name;
    json_t *ep;
    json_object_foreach((json_t *)eps, name, ep)
    {
        if (strcmp(name, mode) == 0 || (strcmp(mode, "bridge") == 0 && strcmp(name, "default") == 0))
            continue;
        json_array_append_new(out, json_pack("[s,O]", name, ep));
    }
    return out;
}

/* Whether the container has no monitor (killed with -9, or gone with a
 * reboot) to give its leases and ports back.  Every monitor holds its
 * container's run lock for its whole life, from before it leases until after
 * it gives the leases back, so a lock nobody holds means nobody will.  When
 * true, *lock (if not NULL) holds the lock: what is removed meanwhile cannot
 * race a new monitor of the same container. */
static bool monitor_gone(struct mk_engine *e, const char *container_id, int *lock)
{
    mk_err *busy = NULL;
    int fd = mk_engine_lock_container(e, container_id, false, &busy);
    if (fd < 0) {
        /* CONFLICT: a monitor (or a cp) holds it; the directory gone: a
         * container being removed, whose row takes its leases with it. */
        mk_err_free(busy);
        return false;
    }
    if (lock != NULL)
        *lock = fd;
    else
        close(fd);
    return true;
}

int mk_lease_remove_if_stale(struct mk_engine *e, const struct mk_net_endpoint *ep)
{
    int lock = -1;
    if (!monitor_gone(e, ep->container_id, &lock))
        return 0;
    mk_store_endpoint_remove(e->store, ep->network_id, ep->container_id, NULL);
    close(lock);
    return 1;
}

static bool parse_mac(const char *s, unsigned char mac[6])
{
    unsigned b[6];
    char tail;
    if (s == NULL || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
                            &b[5], &tail) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        mac[i] = (unsigned char)b[i];
    return true;
}

static void mac_text(const unsigned char mac[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
             mac[5]);
}

static int lease(struct mk_engine *e, const struct mk_network *n, const struct mk_network_ipv4 *v4,
                 const char *cid, uint32_t want, const char *mac, const json_t *aliases,
                 uint32_t *out, mk_err **err)
{
    for (int attempt = 0; attempt < 8; attempt++) {
        struct mk_net_endpoint **eps = NULL;
        size_t n_eps = 0;
        if (mk_store_endpoint_list_by_network(e->store, n->id, &eps, &n_eps, err) < 0)
            return -1;
        uint32_t *taken = xcalloc(n_eps + 1, sizeof(*taken));
        size_t nt = 0;
        for (size_t i = 0; i < n_eps; i++) {
            if (!mk_lease_remove_if_stale(e, eps[i]))
                taken[nt++] = eps[i]->ip;
        }
        mk_net_endpoint_list_free(eps, n_eps);
        int r = want != 0 ? mk_ipam_check(&v4->subnet, v4->gateway, taken, nt, want, err)
                          : mk_ipam_alloc(&v4->range, v4->gateway, taken, nt, out, err);
        free(taken);
        if (r < 0)
            return -1;
        if (want != 0)
            *out = want;
        char derived[18];
        if (mac == NULL) {
            unsigned char b[6];
            mk_endpoint_mac(*out, b);
            mac_text(b, derived);
        }
        struct mk_net_endpoint ep = {.network_id = n->id,
                                     .container_id = (char *)cid,
                                     .ip = *out,
                                     .mac = (char *)(mac != NULL ? mac : derived),
                                     .aliases = (json_t *)aliases};
        mk_err *add_err = NULL;
        if (mk_store_endpoint_add(e->store, &ep, &add_err) == 0)
            return 0;
        /* Another start took the address between the list and the add: again. */
        if (add_err->kind != MK_ERR_CONFLICT || want != 0) {
            *err = add_err;
            return -1;
        }
        mk_err_free(add_err);
    }
    return mk_err_set(err, MK_ERR_CONFLICT, "could not lease an address on network %s", n->name);
}

/* One network: lease, endpoint, and its entry of NetworkSettings.Networks. */
int mk_container_join_network(struct mk_engine *e, const struct mk_container *c, int idx,
                              const char *name, const json_t *epcfg, int netns, int host_nl,
                              int ns_nl, struct mk_net_link *later, json_t *state,
                              uint32_t *primary_ip, bool *user_net, bool *primary_internal,
                              mk_err **err)
{
    json_t *networks = json_object_get(state, "Networks");
    json_t *ifaces = json_object_get(state, "Interfaces");
    struct mk_network *n = NULL;
    if (mk_network_ensure(e, name, &n, err) < 0)
        return -1;
    int ret = -1;
    _cleanup_free_ char *endpoint_id = NULL;
    _cleanup_free_ char *rnd = NULL;
    struct mk_network_ipv4 v4;
    /* Named twice (by name and by id): joined once. */
    const char *k;
    json_t *joined;
    json_object_foreach(networks, k, joined)
    {
        if (strcmp(mk_json_str(joined, "NetworkID"), n->id) == 0) {
            ret = 0;
            goto out;
        }
    }
    if (strcmp(n->driver, "bridge") != 0) {
        mk_err_set(err, MK_ERR_INVALID, "container cannot be connected to network %s of driver %s",
                   n->name, n->driver);
        goto out;
    }
    if (mk_network_ipv4(n, &v4, err) < 0)
        goto out;
    uint32_t want = 0;
    const char *ipstr = mk_json_str(json_object_get(epcfg, "IPAMConfig"), "IPv4Address");
    if (ipstr != NULL && *ipstr != '\0' && mk_ipv4_parse(ipstr, &want, err) < 0)
        goto out;
    unsigned char mac[6];
    const char *want_mac = idx == 0 ? mk_json_str(json_object_get(c->config, "Config"), "MacAddress")
                                    : NULL;
    bool own_mac = want_mac != NULL && *want_mac != '\0' && parse_mac(want_mac, mac);
    /* The short id is an alias on user-defined networks, as docker's. */
    bool predefined = mk_network_predefined(n);
    json_t *aliases = json_array();
    if (!predefined) {
        _cleanup_free_ char *short_id = xstrndup(c->id, 12);
        json_array_append_new(aliases, json_string(short_id));
        json_array_extend(aliases, json_object_get(epcfg, "Aliases"));
    }
    uint32_t ip = 0;
    char mac_s[18];
    if (own_mac)
        mac_text(mac, mac_s);
    if (lease(e, n, &v4, c->id, want, own_mac ? mac_s : NULL, aliases, &ip, err) < 0) {
        json_decref(aliases);
        goto out;
    }
    if (!own_mac)
        mk_endpoint_mac(ip, mac);
    mac_text(mac, mac_s);
    bool internal = mk_json_bool(n->config, "Internal", false);
    struct mk_net_link link = {.bridge = xstrdup(mk_json_str(n->config, "Bridge")),
                               .addr = ip,
                               .prefix = v4.subnet.prefix,
                               .gateway = idx == 0 && !internal ? v4.gateway : 0,
                               .mtu = v4.mtu};
    memcpy(link.mac, mac, sizeof(link.mac));
    /* Random, as docker's: the previous run's end may still exist, going
     * with its namespace, when the container starts again. */
    rnd = mk_random_hex(10);
    snprintf(link.host_name, sizeof(link.host_name), "mkv%s", rnd);
    snprintf(link.ifname, sizeof(link.ifname), "eth%d", idx);
    if (later != NULL) {
        *later = link;
    } else {
        int r = link_make(&link, netns, host_nl, ns_nl, err);
        free(link.bridge);
        if (r < 0) {
            mk_store_endpoint_remove(e->store, n->id, c->id, NULL);
            json_decref(aliases);
            goto out;
        }
    }
    char ipb[16], gwb[16];
    endpoint_id = mk_network_endpoint_id(n->id, c->id);
    json_object_set_new(networks, n->name,
                        json_pack("{s:O?,s:n,s:o,s:s,s:s,s:s,s:s,s:i,s:s,s:s,s:i,s:s,s:n}",
                                  "IPAMConfig", json_object_get(epcfg, "IPAMConfig"), "Links",
                                  "Aliases", predefined ? json_null() : aliases, "NetworkID",
                                  n->id, "EndpointID", endpoint_id, "Gateway",
                                  internal ? "" : mk_ipv4_str(v4.gateway, gwb), "IPAddress",
                                  mk_ipv4_str(ip, ipb), "IPPrefixLen", v4.subnet.prefix,
                                  "IPv6Gateway", "", "GlobalIPv6Address", "",
                                  "GlobalIPv6PrefixLen", 0, "MacAddress", mac_s, "DriverOpts"));
    if (predefined)
        json_decref(aliases);
    json_object_set_new(ifaces, n->name, json_string(link.ifname));
    if (idx == 0) {
        *primary_ip = ip;
        *user_net = !predefined;
        *primary_internal = internal;
    }
    ret = 0;
out:
    mk_network_free(n);
    return ret;
}

/* Whether an endpoint answers to name: an alias (the short id is one) or
 * its container's name, alone or followed by ".NETWORK". */
static bool endpoint_named(struct mk_engine *e, const struct mk_net_endpoint *ep,
                           const char *net_name, const char *name)
{
    size_t nl = strlen(net_name), len = strlen(name);
    _cleanup_free_ char *bare = NULL;
    if (len > nl + 1 && name[len - nl - 1] == '.' && strcasecmp(name + len - nl, net_name) == 0)
        bare = xstrndup(name, len - nl - 1);
    const char *want[2] = {name, bare};
    for (int w = 0; w < 2 && want[w] != NULL; w++) {
        size_t a;
        json_t *al;
        json_array_foreach(ep->aliases, a, al)
        {
            if (json_is_string(al) && strcasecmp(json_string_value(al), want[w]) == 0)
                return true;
        }
    }
    struct mk_container *c = NULL;
    if (mk_store_container_get(e->store, ep->container_id, &c, NULL) < 0)
        return false;
    bool match = strcasecmp(c->name, name) == 0 || (bare != NULL && strcasecmp(c->name, bare) == 0);
    mk_container_free(c);
    return match;
}

/* The embedded DNS server's question: the containers on the asking one's
 * user-defined networks, as they are now (connect and disconnect change them
 * while it runs). */
static int dns_lookup(void *ctx, const char *name, uint32_t *addrs, size_t max)
{
    struct mk_container_net *cn = ctx;
    struct mk_net_endpoint **mine = NULL;
    size_t nmine = 0, found = 0;
    if (mk_store_endpoint_list_by_container(cn->e->store, cn->id, &mine, &nmine, NULL) < 0)
        return 0;
    for (size_t i = 0; i < nmine && found < max; i++) {
        struct mk_network *n = NULL;
        if (mk_store_network_get(cn->e->store, mine[i]->network_id, &n, NULL) < 0)
            continue;
        struct mk_net_endpoint **eps = NULL;
        size_t neps = 0;
        if (!mk_network_predefined(n) &&
            mk_store_endpoint_list_by_network(cn->e->store, n->id, &eps, &neps, NULL) == 0) {
            for (size_t k = 0; k < neps && found < max; k++)
                if (endpoint_named(cn->e, eps[k], n->name, name))
                    addrs[found++] = eps[k]->ip;
            mk_net_endpoint_list_free(eps, neps);
        }
        mk_network_free(n);
    }
    mk_net_endpoint_list_free(mine, nmine);
    return (int)found;
}

static int dns_start(struct mk_container_net *cn, const json_t *hc, int netns,
                     const char *host_resolv_path, mk_err **err)
{
    struct mk_dns_config cfg = {.lookup = dns_lookup, .ctx = cn, .upstream_netns_fd = netns};
    const json_t *dns = json_object_get(hc, "Dns");
    size_t i;
    json_t *v;
    json_array_foreach(dns, i, v)
    {
        if (cfg.nupstreams < MK_DNS_MAX_UPSTREAMS &&
            mk_dns_upstream_parse(json_string_value(v), 53, &cfg.upstreams[cfg.nupstreams],
                                  NULL) == 0)
            cfg.nupstreams++;
    }
    if (json_array_size(dns) == 0 &&
        mk_dns_upstreams_from_resolv_conf(host_resolv_path, cfg.upstreams, &cfg.nupstreams,
                                          NULL) < 0)
        cfg.nupstreams = 0;
    if (cfg.nupstreams == 0) {
        /* docker's fallbacks, as for resolv.conf. */
        mk_dns_upstream_parse("8.8.8.8", 53, &cfg.upstreams[0], NULL);
        mk_dns_upstream_parse("8.8.4.4", 53, &cfg.upstreams[1], NULL);
        cfg.nupstreams = 2;
    }
    json_array_foreach(json_object_get(hc, "DnsOptions"), i, v)
        cfg.ndots_set |= mk_str_has_prefix(json_string_value(v), "ndots:");
    /* On a port of its own, 127.0.0.11:53 redirected to it: port 53 stays
     * free for a DNS server the container runs itself (docker's way). */
    int udp = -1, tcp = -1;
    if (mk_dns_listen(netns, MK_DNS_ADDR, 0, &udp, &tcp, err) < 0)
        return -1;
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    if (getsockname(udp, (struct sockaddr *)&sa, &len) < 0 ||
        mk_fw_dns_redirect(netns, ntohs(sa.sin_port), err) < 0) {
        if (*err == NULL)
            mk_err_sys(err, "getsockname");
        close(udp);
        close(tcp);
        return -1;
    }
    cn->dns = mk_dns_server_new(udp, tcp, &cfg, err);
    return cn->dns != NULL ? 0 : -1;
}

static int net_timeout(void *ctx)
{
    struct mk_container_net *cn = ctx;
    return cn->dns != NULL ? mk_dns_server_timeout_ms(cn->dns) : -1;
}

static void net_process(void *ctx)
{
    struct mk_container_net *cn = ctx;
    if (cn->dns != NULL)
        mk_dns_server_process(cn->dns);
}

/* Whether the container is on a user-defined network now. */
static bool on_user_network(struct mk_container_net *cn)
{
    struct mk_net_endpoint **mine = NULL;
    size_t n = 0;
    bool user = false;
    if (mk_store_endpoint_list_by_container(cn->e->store, cn->id, &mine, &n, NULL) < 0)
        return false;
    for (size_t i = 0; i < n && !user; i++) {
        struct mk_network *net = NULL;
        if (mk_store_network_get(cn->e->store, mine[i]->network_id, &net, NULL) == 0)
            user = !mk_network_predefined(net);
        mk_network_free(net);
    }
    mk_net_endpoint_list_free(mine, n);
    return user;
}

/* docker network connect of a running container: on its first user-defined
 * network it gets the embedded DNS server, as one started there does, and
 * its resolv.conf names it (rewritten in place: the container's
 * /etc/resolv.conf is a bind mount of that file).  The server's fd, or -1. */
static int net_changed(void *ctx)
{
    struct mk_container_net *cn = ctx;
    if (cn->dns != NULL || cn->netns < 0 || !on_user_network(cn))
        return -1;
    struct mk_container *c = NULL;
    if (mk_store_container_get(cn->e->store, cn->id, &c, NULL) < 0)
        return -1;
    const json_t *hc = json_object_get(c->config, "HostConfig");
    mk_err *err = NULL;
    int fd = -1;
    if (dns_start(cn, hc, cn->netns, "/etc/resolv.conf", &err) == 0) {
        fd = mk_dns_server_fd(cn->dns);
        _cleanup_free_ char *host_resolv = mk_host_resolv_conf();
        _cleanup_free_ char *resolv = mk_netfiles_resolv(hc, host_resolv, false, true);
        _cleanup_free_ char *dir = mk_store_container_dir(cn->e->store, cn->id);
        _cleanup_free_ char *path = mk_path_join(dir, "resolv.conf");
        mk_err *werr = NULL;
        if (mk_rewrite_file_at(AT_FDCWD, path, resolv, strlen(resolv), 0644, &werr) < 0) {
            fprintf(stderr, "mocker monitor: container %s: rewrite resolv.conf: %s\n", cn->id,
                    werr->msg);
            mk_err_free(werr);
        }
    } else {
        fprintf(stderr, "mocker monitor: container %s: start the embedded DNS server: %s\n",
                cn->id, err->msg);
        mk_err_free(err);
    }
    mk_container_free(c);
    return fd;
}

void mk_container_net_source(struct mk_container_net *cn, struct mk_monitor_params *p)
{
    if (cn == NULL)
        return;
    p->source_fd = cn->dns != NULL ? mk_dns_server_fd(cn->dns) : -1;
    p->source_timeout_ms = net_timeout;
    p->source_process = net_process;
    p->source_ctx = cn;
    p->net_changed = net_changed;
}

/* Firewall owners to keep: all but the containers of this store whose
 * monitor is gone (other stores' owners are not ours to judge). */
static bool keep_owner(const char *owner, void *ctx)
{
    struct mk_engine *e = ctx;
    if (!mk_str_has_prefix(owner, "ctr:"))
        return true;
    struct mk_container *c = NULL;
    if (mk_store_container_get(e->store, owner + 4, &c, NULL) < 0)
        return true;
    mk_container_free(c);
    return !monitor_gone(e, owner + 4, NULL);
}

/* The held ports forwarded to the container's address by the firewall. */
static int publish(struct mk_container_net *cn, uint32_t ip, bool internal, mk_err **err)
{
    if (cn->nports == 0)
        return 0;
    /* docker leaves such ports unreachable without a word: refused here. */
    if (internal)
        return mk_err_set(err, MK_ERR_INVALID,
                          "ports cannot be published from a container on an internal network");
    struct mk_fw_port *v = xcalloc(cn->nports, sizeof(*v));
    for (size_t k = 0; k < cn->nports; k++)
        v[k] = (struct mk_fw_port){.proto = strcmp(cn->ports[k].proto, "udp") == 0 ? MK_FW_UDP
                                                                                   : MK_FW_TCP,
                                   .host_ip = cn->ports[k].host_ip,
                                   .host_port = (uint16_t)cn->ports[k].host_port,
                                   .ctr_ip = ip,
                                   .ctr_port = (uint16_t)cn->ports[k].ctr_port};
    mk_err *conflict = NULL;
    int r = mk_fw_ports_add(cn->id, v, cn->nports, &conflict);
    /* The port may be held by a container whose monitor was killed: its
     * rules are swept and the publish tried once more. */
    if (r < 0 && conflict->kind == MK_ERR_CONFLICT) {
        mk_err_free(conflict);
        conflict = NULL;
        mk_fw_sweep(keep_owner, cn->e, NULL);
        r = mk_fw_ports_add(cn->id, v, cn->nports, &conflict);
    }
    if (r < 0)
        *err = conflict;
    free(v);
    if (r == 0)
        cn->fw_ports = true;
    return r;
}

static int write_files(struct mk_engine *e, const struct mk_container *c, uint32_t ip,
                       bool embedded_dns, mk_err **err)
{
    const json_t *hc = json_object_get(c->config, "HostConfig");
    uint32_t gw = 0;
    struct mk_network *bridge = NULL;
    /* host-gateway: the default bridge's gateway, as docker's. */
    if (mk_network_get(e, "bridge", &bridge, NULL) == 0) {
        struct mk_network_ipv4 v4;
        if (mk_network_ipv4(bridge, &v4, NULL) == 0)
            gw = v4.gateway;
        mk_network_free(bridge);
    }
    _cleanup_free_ char *dir = mk_store_container_dir(e->store, c->id);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return mk_err_sys(err, "open %s", dir);
    const char *hostname = mk_json_str(json_object_get(c->config, "Config"), "Hostname");
    /* --link: the linked containers under their aliases. */
    _cleanup_json_ json_t *links = NULL;
    _cleanup_json_ json_t *env = NULL;
    if (mk_links_resolve(e, c, &links, &env, err) < 0)
        return -1;
    _cleanup_free_ char *hosts = mk_netfiles_hosts(hc, hostname, ip, gw, links);
    _cleanup_free_ char *host_resolv = mk_host_resolv_conf();
    _cleanup_free_ char *resolv = mk_netfiles_resolv(hc, host_resolv, false, embedded_dns);
    /* In place: made at create, not read by anyone before the clone. */
    if (mk_rewrite_file_at(dfd, "hosts", hosts, strlen(hosts), 0644, err) < 0 ||
        mk_rewrite_file_at(dfd, "resolv.conf", resolv, strlen(resolv), 0644, err) < 0)
        return -1;
    return 0;
}

int mk_container_net_up(struct mk_engine *e, const struct mk_container *c, int netns,
                        bool links_later, struct mk_container_net **out, mk_err **err)
{
    *out = NULL;
    _cleanup_json_ json_t *wanted = wanted_networks(c);
    if (json_array_size(wanted) == 0)
        return 0;
    _cleanup_free_ char *sandbox = NULL;
    struct mk_container_net *cn = xcalloc(1, sizeof(*cn));
    cn->e = e;
    cn->id = xstrdup(c->id);
    cn->netns = fcntl(netns, F_DUPFD_CLOEXEC, 3);
    /* A restart by hand, or leases a killed monitor of ours left. */
    mk_store_endpoint_remove(e->store, NULL, c->id, NULL);
    _cleanup_close_ int host_nl = -1;
    _cleanup_close_ int ns_nl = -1;
    if (links_later)
        cn->links = xcalloc(json_array_size(wanted), sizeof(*cn->links));
    else if ((host_nl = mk_nl_open(err)) < 0 || (ns_nl = mk_nl_open_netns(netns, err)) < 0)
        goto fail;
    json_t *state = json_pack("{s:{},s:{}}", "Networks", "Interfaces");
    uint32_t ip = 0;
    bool user_net = false, internal = false;
    size_t i;
    json_t *w;
    json_array_foreach(wanted, i, w)
    {
        struct mk_net_link *later = links_later ? &cn->links[cn->nlinks] : NULL;
        if (mk_container_join_network(e, c, (int)i, json_string_value(json_array_get(w, 0)),
                                      json_array_get(w, 1), netns, host_nl, ns_nl, later, state,
                                      &ip, &user_net, &internal, err) < 0) {
            json_decref(state);
            goto fail;
        }
        /* Named twice: joined once, nothing planned the second time. */
        if (later != NULL && later->bridge != NULL)
            cn->nlinks++;
    }
    const json_t *config = json_object_get(c->config, "Config");
    const json_t *hc = json_object_get(c->config, "HostConfig");
    if (write_files(e, c, ip, user_net, err) < 0 ||
        (user_net && dns_start(cn, hc, netns, "/etc/resolv.conf", err) < 0) ||
        mk_ports_reserve(config, hc, &cn->ports, &cn->nports, err) < 0 ||
        publish(cn, ip, internal, err) < 0) {
        json_decref(state);
        goto fail;
    }
    sandbox = xasprintf("/proc/%d/fd/%d", (int)getpid(), netns);
    json_object_set_new(state, "SandboxKey", json_string(sandbox));
    json_object_set_new(state, "Ports", mk_ports_json(config, hc, cn->ports, cn->nports));
    int r = mk_container_net_state_write(e, c->id, state, err);
    json_decref(state);
    if (r < 0)
        goto fail;
    *out = cn;
    return 0;
fail:
    mk_container_net_down(cn);
    return -1;
}

bool mk_container_net_links_planned(const struct mk_container_net *cn)
{
    return cn != NULL && cn->nlinks > 0;
}

int mk_container_net_link(struct mk_container_net *cn, mk_err **err)
{
    if (cn == NULL || cn->nlinks == 0)
        return 0;
    _cleanup_close_ int host_nl = mk_nl_open(err);
    _cleanup_close_ int ns_nl = host_nl >= 0 ? mk_nl_open_netns(cn->netns, err) : -1;
    int ret = ns_nl < 0 ? -1 : 0;
    for (size_t i = 0; ret == 0 && i < cn->nlinks; i++)
        ret = link_make(&cn->links[i], cn->netns, host_nl, ns_nl, err);
    links_free(cn);
    return ret;
}

void mk_container_net_down(struct mk_container_net *cn)
{
    if (cn == NULL)
        return;
    links_free(cn);
    if (cn->fw_ports)
        mk_fw_ports_remove(cn->id, NULL);
    mk_ports_release(cn->ports, cn->nports);
    mk_dns_server_free(cn->dns);
    if (cn->netns >= 0)
        close(cn->netns);
    mk_store_endpoint_remove(cn->e->store, NULL, cn->id, NULL);
    mk_container_net_state_remove(cn->e, cn->id);
    free(cn->id);
    free(cn);
}
