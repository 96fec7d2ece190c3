/* network.c: docker's networks as data: create (with dockerd's validation
 * and subnet choice), inspect, rm, prune, connect/disconnect of stopped
 * containers, and what the container side needs before it attaches a
 * container (mk_network_ensure).  Each bridge network owns a Linux bridge,
 * made over netlink with the gateway address on it.
 *
 * Several stores (test roots, a second installation) share the host's links,
 * so every bridge made here is marked with its store's root (the link's
 * ifalias): reconcile and rm only ever delete bridges marked as their own.
 * Creating a network holds the store's write lock from the subnet choice to
 * the commit, bridge included: two creates never pick the same subnet, and a
 * reconcile (which takes the same lock) never sees a bridge whose row is about
 * to be committed. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "util/daemon_config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>

#define DEFAULT_BRIDGE  "mocker0"
#define BRIDGE_PREFIX   "mk-"
#define OPT_BRIDGE_NAME "com.docker.network.bridge.name"
#define OPT_MTU         "com.docker.network.driver.mtu"
#define IP_FORWARD      "/proc/sys/net/ipv4/ip_forward"

bool mk_network_predefined(const struct mk_network *n)
{
    return strcmp(n->name, "bridge") == 0 || strcmp(n->name, "host") == 0 ||
           strcmp(n->name, "none") == 0;
}

int mk_network_get(struct mk_engine *e, const char *ref, struct mk_network **out, mk_err **err)
{
    return mk_store_network_get(e->store, ref, out, err);
}

static void network_event(struct mk_engine *e, const struct mk_network *n, const char *action,
                          const char *container)
{
    _cleanup_json_ json_t *attrs = json_pack("{s:s,s:s}", "name", n->name, "type", n->driver);
    if (container != NULL)
        json_object_set_new(attrs, "container", json_string(container));
    mk_err *ignored = NULL;
    if (mk_store_event_add(e->store, "network", action, n->id, attrs, &ignored) < 0)
        mk_err_free(ignored);
}

int mk_network_ipv4(const struct mk_network *n, struct mk_network_ipv4 *out, mk_err **err)
{
    const char *subnet = mk_json_str(n->config, "Subnet");
    const char *gateway = mk_json_str(n->config, "Gateway");
    const char *range = mk_json_str(n->config, "IPRange");
    if (subnet == NULL || gateway == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "network %s has no IPv4 subnet", n->name);
    struct mk_network_ipv4 v = {0};
    if (mk_ipv4_subnet_parse(subnet, &v.subnet, err) < 0 ||
        mk_ipv4_parse(gateway, &v.gateway, err) < 0 ||
        (range != NULL && mk_ipv4_subnet_parse(range, &v.range, err) < 0))
        return mk_err_wrap(err, "network %s", n->name);
    if (range == NULL)
        v.range = v.subnet;
    const char *mtu = mk_json_str(json_object_get(n->config, "Options"), OPT_MTU);
    v.mtu = mtu != NULL ? atoi(mtu) : 0;
    *out = v;
    return 0;
}

/* ---- the Linux bridge ---- */

/* The mark a bridge of this store carries in its ifalias. */
static char *bridge_mark(struct mk_engine *e)
{
    if (strlen(e->store->root) < 200)
        return xasprintf("mocker:%s", e->store->root);
    char *d = mk_sha256_digest(e->store->root, strlen(e->store->root));
    char *m = xasprintf("mocker:%s", d);
    free(d);
    return m;
}

static char *sysfs_path(const char *link, const char *file)
{
    return xasprintf("/sys/class/net/%s/%s", link, file);
}

/* Whether link exists and carries this store's mark. */
static bool bridge_is_ours(struct mk_engine *e, const char *link)
{
    _cleanup_free_ char *path = sysfs_path(link, "ifalias");
    _cleanup_free_ char *mark = bridge_mark(e);
    char *have = NULL;
    size_t len = 0;
    if (mk_read_file(path, &have, &len, NULL) < 0)
        return false;
    have[strcspn(have, "\n")] = '\0';
    bool ours = strcmp(have, mark) == 0;
    free(have);
    return ours;
}

static int write_small(const char *path, const char *text, mk_err **err)
{
    _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) < 0)
        return mk_err_sys(err, "write %s", path);
    return 0;
}

/* docker turns IPv4 forwarding on for its bridges: without it nothing a
 * container sends leaves the host. */
static int ip_forward_on(mk_err **err)
{
    char *v = NULL;
    size_t len = 0;
    if (mk_read_file(IP_FORWARD, &v, &len, NULL) == 0 && v[0] == '1') {
        free(v);
        return 0;
    }
    free(v);
    return write_small(IP_FORWARD, "1", err);
}

/* Make (or complete, after a crash or reboot) the bridge of n: the link,
 * marked, with the gateway address, up.  Another process making it at the
 * same moment is fine. */
/* The network's NAT, forwarding and isolation rules (firewall.c). */
static int firewall_add(const struct mk_network *n, const struct mk_network_ipv4 *v, mk_err **err)
{
    struct mk_fw_network fw = {.id = n->id,
                               .bridge = mk_json_str(n->config, "Bridge"),
                               .subnet = v->subnet,
                               .internal = mk_json_bool(n->config, "Internal", false)};
    if (mk_fw_network_add(&fw, err) < 0)
        return mk_err_wrap(err, "firewall rules of network %s", n->name);
    return 0;
}

/* The Linux bridge, up with the gateway address, and, when it had to be
 * made (a new network, or after a reboot) or lacks the store's mark, its
 * firewall rules: loading the firewall costs a start ~1.5 ms, so a marked
 * bridge is trusted to have them. */
static int bridge_ensure(struct mk_engine *e, const struct mk_network *n, mk_err **err)
{
    bool made = false;
    const char *name = mk_json_str(n->config, "Bridge");
    struct mk_network_ipv4 v;
    if (name == NULL)
        return mk_err_set(err, MK_ERR_INTERNAL, "network %s has no bridge", n->name);
    if (mk_network_ipv4(n, &v, err) < 0)
        return -1;
    _cleanup_close_ int nl = mk_nl_open(err);
    if (nl < 0)
        return -1;
    struct mk_nl_link link;
    mk_err *missing = NULL;
    if (mk_nl_link_get(nl, name, &link, &missing) < 0) {
        if (missing->kind != MK_ERR_NOT_FOUND) {
            *err = missing;
            return -1;
        }
        mk_err_free(missing);
        mk_err *exists = NULL;
        if (mk_nl_bridge_add(nl, name, &exists) < 0) {
            if (exists->kind != MK_ERR_CONFLICT) {
                *err = exists;
                return -1;
            }
            mk_err_free(exists);
        } else {
            made = true;
        }
    }
    /* The store's mark goes on last, once the rules are there: a bridge
     * without it (just made, or left half made by a crash) gets its rules. */
    bool complete = !made && bridge_is_ours(e, name);
    struct mk_nl_addr *addrs = NULL;
    size_t naddrs = 0;
    if (mk_nl_addr_list(nl, name, &addrs, &naddrs, err) < 0)
        return -1;
    bool have = false;
    for (size_t i = 0; i < naddrs; i++)
        if (ntohl(addrs[i].addr.s_addr) == v.gateway && addrs[i].prefix == v.subnet.prefix)
            have = true;
    free(addrs);
    if (!have) {
        mk_err *exists = NULL;
        struct in_addr a = {htonl(v.gateway)};
        if (mk_nl_addr_add(nl, name, a, v.subnet.prefix, &exists) < 0) {
            if (exists->kind != MK_ERR_CONFLICT) {
                *err = exists;
                return -1;
            }
            mk_err_free(exists);
        }
    }
    if (mk_nl_link_set_up(nl, name, err) < 0 || ip_forward_on(err) < 0)
        return -1;
    if (complete)
        return 0;
    _cleanup_free_ char *alias = sysfs_path(name, "ifalias");
    _cleanup_free_ char *mark = bridge_mark(e);
    if (firewall_add(n, &v, err) < 0 || write_small(alias, mark, err) < 0) {
        /* Not left up without its rules (no NAT, no isolation). */
        if (made)
            mk_nl_link_del(nl, name, NULL);
        return -1;
    }
    return 0;
}

/* Delete the bridge of n if it is this store's. */
static void bridge_delete(struct mk_engine *e, const char *name)
{
    if (name == NULL || !bridge_is_ours(e, name))
        return;
    mk_err *ignored = NULL;
    int nl = mk_nl_open(&ignored);
    if (nl < 0 || mk_nl_link_del(nl, name, &ignored) < 0)
        mk_err_free(ignored);
    if (nl >= 0)
        close(nl);
}

/* ---- subnets ---- */

/* The host's routes and every network's subnet but skip_id's: what a new
 * subnet must not overlap. */
static int used_subnets(struct mk_engine *e, struct mk_ipv4_net **out, size_t *n, mk_err **err)
{
    struct mk_ipv4_net *v = NULL;
    size_t len = 0;
    if (mk_ipam_read_routes("/proc/net/route", &v, &len, err) < 0)
        return -1;
    struct mk_network **nets = NULL;
    size_t nn = 0;
    if (mk_store_network_list(e->store, &nets, &nn, err) < 0) {
        free(v);
        return -1;
    }
    for (size_t i = 0; i < nn; i++) {
        struct mk_ipv4_net sn;
        const char *s = mk_json_str(nets[i]->config, "Subnet");
        if (s == NULL || mk_ipv4_subnet_parse(s, &sn, NULL) < 0)
            continue;
        v = xrealloc(v, (len + 1) * sizeof(*v));
        v[len++] = sn;
    }
    mk_network_list_free(nets, nn);
    *out = v;
    *n = len;
    return 0;
}

/* A subnet given by the user against every other network's: dockerd's error. */
static int check_overlap(struct mk_engine *e, const struct mk_ipv4_net *want, mk_err **err)
{
    struct mk_network **nets = NULL;
    size_t nn = 0;
    if (mk_store_network_list(e->store, &nets, &nn, err) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; i < nn && r == 0; i++) {
        struct mk_ipv4_net sn;
        const char *s = mk_json_str(nets[i]->config, "Subnet");
        if (s != NULL && mk_ipv4_subnet_parse(s, &sn, NULL) == 0 && mk_ipv4_net_overlaps(&sn, want))
            r = mk_err_set(err, MK_ERR_FORBIDDEN,
                           "Pool overlaps with other one on this address space");
    }
    mk_network_list_free(nets, nn);
    return r;
}

static int parse_subnet(const char *s, struct mk_ipv4_net *out, mk_err **err)
{
    if (strchr(s, ':') != NULL)
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "IPv6 subnets are not supported by mocker yet: %s", s);
    struct mk_ipv4_net n;
    if (mk_ipv4_cidr_parse(s, &n, NULL) < 0)
        return mk_err_set(err, MK_ERR_INVALID, "Invalid subnet %s : invalid CIDR address: %s", s,
                          s);
    if ((n.addr & ~mk_ipv4_mask(n.prefix)) != 0) {
        struct mk_ipv4_net base = {n.addr & mk_ipv4_mask(n.prefix), n.prefix};
        _cleanup_free_ char *want = mk_ipv4_net_str(&base);
        return mk_err_set(err, MK_ERR_INVALID, "invalid subnet %s: it should be %s", s, want);
    }
    *out = n;
    return 0;
}

/* The IPv4 config of a new network into cfg: the user's subnet, gateway and
 * range, checked as dockerd checks them, or a free subnet. */
static int network_ipam(struct mk_engine *e, const struct mk_network_create_opts *o, json_t *cfg,
                        mk_err **err)
{
    struct mk_ipv4_net subnet;
    if (o->subnet == NULL) {
        if (o->gateway != NULL || o->ip_range != NULL)
            return mk_err_set(err, MK_ERR_INVALID,
                              "every ip-range or gateway must have a corresponding subnet");
        _cleanup_free_ struct mk_ipv4_net *used = NULL;
        size_t nused = 0;
        if (used_subnets(e, &used, &nused, err) < 0)
            return -1;
        if (mk_ipam_pick_subnet(used, nused, &subnet, err) < 0)
            return mk_err_wrap(err, "could not find an available, non-overlapping IPv4 address "
                                    "pool among the defaults to assign to the network");
    } else {
        if (parse_subnet(o->subnet, &subnet, err) < 0 || check_overlap(e, &subnet, err) < 0)
            return -1;
        json_object_set_new(cfg, "UserSubnet", json_true());
    }
    uint32_t gw = mk_ipam_gateway(&subnet);
    if (o->gateway != NULL) {
        if (mk_ipv4_parse(o->gateway, &gw, NULL) < 0 || !mk_ipv4_net_contains(&subnet, gw))
            return mk_err_set(err, MK_ERR_INVALID, "no matching subnet for gateway %s", o->gateway);
        uint32_t host = gw & ~mk_ipv4_mask(subnet.prefix);
        if (subnet.prefix < 31 && (host == 0 || host == ~mk_ipv4_mask(subnet.prefix)))
            return mk_err_set(err, MK_ERR_FORBIDDEN,
                              "failed to allocate gateway (%s): Address already in use",
                              o->gateway);
    }
    if (o->ip_range != NULL) {
        struct mk_ipv4_net range;
        if (strchr(o->ip_range, ':') != NULL || mk_ipv4_cidr_parse(o->ip_range, &range, NULL) < 0 ||
            range.prefix < subnet.prefix || !mk_ipv4_net_contains(&subnet, range.addr))
            return mk_err_set(err, MK_ERR_INVALID, "no matching subnet for range %s", o->ip_range);
        range.addr &= mk_ipv4_mask(range.prefix);
        _cleanup_free_ char *rs = mk_ipv4_net_str(&range);
        json_object_set_new(cfg, "IPRange", json_string(rs));
    }
    char buf[16];
    _cleanup_free_ char *sn = mk_ipv4_net_str(&subnet);
    json_object_set_new(cfg, "Subnet", json_string(sn));
    json_object_set_new(cfg, "Gateway", json_string(mk_ipv4_str(gw, buf)));
    return 0;
}

/* -o: the two options mocker's bridge driver implements; the rest of
 * docker's (enable_icc, host_binding_ipv4...) are refused, not ignored. */
static int check_options(const json_t *opts, mk_err **err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)opts, k, v)
    {
        const char *val = json_string_value(v) ? json_string_value(v) : "";
        if (strcmp(k, OPT_BRIDGE_NAME) == 0) {
            if (*val == '\0' || strlen(val) >= IFNAMSIZ || strcspn(val, "/ \t\n:") != strlen(val))
                return mk_err_set(err, MK_ERR_INVALID, "invalid bridge name \"%s\"", val);
        } else if (strcmp(k, OPT_MTU) == 0) {
            char *end;
            long mtu = strtol(val, &end, 10);
            if (*val == '\0' || *end != '\0')
                return mk_err_set(err, MK_ERR_INVALID,
                                  "failed to parse %s value: %s (invalid syntax)", OPT_MTU, val);
            if (mtu < 68 || mtu > 65535)
                return mk_err_set(err, MK_ERR_INVALID, "invalid MTU number: %ld", mtu);
        } else {
            return mk_err_set(err, MK_ERR_UNSUPPORTED,
                              "network option \"%s\" is not supported by mocker (only %s and %s)",
                              k, OPT_BRIDGE_NAME, OPT_MTU);
        }
    }
    return 0;
}

static int check_driver(const char *driver, mk_err **err)
{
    if (strcmp(driver, "bridge") == 0)
        return 0;
    if (strcmp(driver, "host") == 0 || strcmp(driver, "null") == 0)
        return mk_err_set(err, MK_ERR_FORBIDDEN, "only one instance of \"%s\" network is allowed",
                          driver);
    if (strcmp(driver, "macvlan") == 0 || strcmp(driver, "ipvlan") == 0 ||
        strcmp(driver, "overlay") == 0)
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "the %s network driver is not supported by mocker (only bridge)", driver);
    return mk_err_set(err, MK_ERR_NOT_FOUND, "plugin \"%s\" not found", driver);
}

/* Another network already has the bridge name: dockerd's error. */
static int check_bridge_free(struct mk_engine *e, const char *id, const char *bridge, mk_err **err)
{
    struct mk_network **nets = NULL;
    size_t nn = 0;
    if (mk_store_network_list(e->store, &nets, &nn, err) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; i < nn && r == 0; i++) {
        const char *b = mk_json_str(nets[i]->config, "Bridge");
        if (b != NULL && strcmp(b, bridge) == 0)
            r = mk_err_set(err, MK_ERR_FORBIDDEN,
                           "cannot create network %s (%s): conflicts with network %s (%s): "
                           "networks have same bridge name",
                           id, bridge, nets[i]->id, b);
    }
    mk_network_list_free(nets, nn);
    return r;
}

static json_t *object_or_empty(const json_t *j)
{
    return json_is_object(j) ? json_deep_copy(j) : json_object();
}

int mk_network_create(struct mk_engine *e, const struct mk_network_create_opts *o,
                      struct mk_network **out, mk_err **err)
{
    const char *driver = o->driver != NULL && *o->driver != '\0' ? o->driver : "bridge";
    if (o->name == NULL || *o->name == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "network name is required");
    if (check_driver(driver, err) < 0)
        return -1;
    if (o->ipv6)
        return mk_err_set(err, MK_ERR_UNSUPPORTED, "IPv6 networks are not supported by mocker yet");
    _cleanup_json_ json_t *opts = object_or_empty(o->options);
    if (check_options(opts, err) < 0)
        return -1;
    _cleanup_free_ char *id = mk_random_hex(64);
    const char *bridge_opt = mk_json_str(opts, OPT_BRIDGE_NAME);
    _cleanup_free_ char *bridge =
        bridge_opt != NULL ? xstrdup(bridge_opt) : xasprintf(BRIDGE_PREFIX "%.12s", id);
    _cleanup_json_ json_t *cfg = json_pack(
        "{s:b,s:b,s:b,s:o,s:O,s:s}", "Internal", o->internal, "Attachable", o->attachable,
        "EnableIPv6", 0, "Labels", object_or_empty(o->labels), "Options", opts, "Bridge", bridge);

    if (mk_store_begin(e->store, err) < 0)
        return -1;
    struct mk_network *old = NULL;
    if (mk_store_network_get(e->store, o->name, &old, NULL) == 0 &&
        strcmp(old->name, o->name) == 0) {
        mk_network_free(old);
        mk_store_rollback(e->store);
        return mk_err_set(err, MK_ERR_CONFLICT, "network with name %s already exists", o->name);
    }
    mk_network_free(old);
    struct mk_network n = {.id = id,
                           .name = (char *)o->name,
                           .driver = (char *)driver,
                           .created = mk_now_ns(),
                           .config = cfg};
    if (network_ipam(e, o, cfg, err) < 0 || check_bridge_free(e, id, bridge, err) < 0 ||
        mk_store_network_insert(e->store, &n, err) < 0)
        goto fail;
    /* The bridge before the commit: a failure leaves no row, a crash leaves
     * a marked bridge without a row, which mk_network_reconcile removes. */
    if (bridge_ensure(e, &n, err) < 0) {
        bridge_delete(e, bridge);
        mk_fw_network_remove(id, NULL);
        goto fail;
    }
    if (mk_store_commit(e->store, err) < 0) {
        bridge_delete(e, bridge);
        mk_fw_network_remove(id, NULL);
        return -1;
    }
    network_event(e, &n, "create", NULL);
    return mk_store_network_get(e->store, id, out, err);
fail:
    mk_store_rollback(e->store);
    return -1;
}

/* ---- bridge, the default network ---- */

/* daemon.json's "bip" ("192.168.200.1/24": the gateway with its prefix) and
 * "bridge" (the Linux bridge's name) into the config of `bridge`. */
static int default_bridge_config(struct mk_engine *e, json_t *cfg, mk_err **err)
{
    _cleanup_json_ json_t *daemon = NULL;
    if (mk_daemon_config_load(&daemon, err) < 0)
        return -1;
    const char *bip = mk_json_str(daemon, "bip");
    const char *name = mk_json_str(daemon, "bridge");
    _cleanup_free_ char *own_name = NULL;
    if (name != NULL) {
        if (*name == '\0' || strcmp(name, "none") == 0 || strlen(name) >= IFNAMSIZ ||
            strcspn(name, "/ \t\n:") != strlen(name))
            return mk_err_set(err, MK_ERR_INVALID,
                              "daemon.json: bridge \"%s\" is not a bridge name mocker can use",
                              name);
    } else if (strcmp(e->store->root, MK_STORE_DEFAULT_ROOT) != 0) {
        /* Another store (tests, a second root) must not fight over mocker0:
         * a name of its own, from its root. */
        char *d = mk_sha256_digest(e->store->root, strlen(e->store->root));
        name = own_name = xasprintf("mkbr%.10s", d + 7);
        free(d);
    }
    if (name != NULL) {
        json_object_set_new(cfg, "Bridge", json_string(name));
        json_t *opts = json_object_get(cfg, "Options");
        if (json_is_object(opts))
            json_object_set_new(opts, OPT_BRIDGE_NAME, json_string(name));
    }
    struct mk_ipv4_net subnet;
    uint32_t gw;
    if (bip != NULL) {
        struct mk_ipv4_net n;
        if (mk_ipv4_cidr_parse(bip, &n, NULL) < 0)
            return mk_err_set(err, MK_ERR_INVALID, "daemon.json: invalid bip %s", bip);
        subnet = (struct mk_ipv4_net){n.addr & mk_ipv4_mask(n.prefix), n.prefix};
        gw = n.addr;
        uint32_t host = gw & ~mk_ipv4_mask(n.prefix);
        if (n.prefix >= 31 || host == 0 || host == ~mk_ipv4_mask(n.prefix))
            return mk_err_set(err, MK_ERR_INVALID,
                              "daemon.json: bip %s is not a host address with its prefix", bip);
    } else {
        _cleanup_free_ struct mk_ipv4_net *used = NULL;
        size_t nused = 0;
        if (used_subnets(e, &used, &nused, err) < 0 ||
            mk_ipam_pick_subnet(used, nused, &subnet, err) < 0)
            return mk_err_wrap(err, "pick a subnet for the default bridge network");
        gw = mk_ipam_gateway(&subnet);
    }
    char buf[16];
    _cleanup_free_ char *sn = mk_ipv4_net_str(&subnet);
    json_object_set_new(cfg, "Subnet", json_string(sn));
    json_object_set_new(cfg, "Gateway", json_string(mk_ipv4_str(gw, buf)));
    return 0;
}

int mk_network_ensure(struct mk_engine *e, const char *ref, struct mk_network **out, mk_err **err)
{
    struct mk_network *n = NULL;
    if (mk_store_network_get(e->store, ref, &n, err) < 0)
        return -1;
    if (strcmp(n->driver, "bridge") != 0) {
        *out = n;
        return 0;
    }
    if (mk_json_str(n->config, "Subnet") == NULL) {
        /* Under the write lock, read again: another process may have chosen. */
        mk_network_free(n);
        n = NULL;
        if (mk_store_begin(e->store, err) < 0)
            return -1;
        if (mk_store_network_get(e->store, ref, &n, err) < 0)
            goto fail;
        if (mk_json_str(n->config, "Subnet") == NULL &&
            (default_bridge_config(e, n->config, err) < 0 ||
             mk_store_network_save_config(e->store, n->id, n->config, err) < 0))
            goto fail;
        if (mk_store_commit(e->store, err) < 0)
            goto fail;
    }
    if (bridge_ensure(e, n, err) < 0) {
        mk_err_wrap(err, "network %s", n->name);
        mk_network_free(n);
        return -1;
    }
    *out = n;
    return 0;
fail:
    mk_store_rollback(e->store);
    mk_network_free(n);
    return -1;
}

/* ---- inspect ---- */

char *mk_network_endpoint_id(const char *network_id, const char *container_id)
{
    _cleanup_free_ char *key = xasprintf("%s/%s", network_id, container_id);
    char *d = mk_sha256_digest(key, strlen(key));
    char *hex = xstrdup(d + 7);
    free(d);
    return hex;
}

static json_t *containers_json(struct mk_engine *e, const struct mk_network *n, int prefix)
{
    json_t *out = json_object();
    struct mk_net_endpoint **eps = NULL;
    size_t neps = 0;
    mk_err *ignored = NULL;
    if (mk_store_endpoint_list_by_network(e->store, n->id, &eps, &neps, &ignored) < 0) {
        mk_err_free(ignored);
        return out;
    }
    for (size_t i = 0; i < neps; i++) {
        struct mk_container *c = NULL;
        if (mk_store_container_get(e->store, eps[i]->container_id, &c, &ignored) < 0) {
            mk_err_clear(&ignored);
            continue;
        }
        char buf[16];
        _cleanup_free_ char *addr = xasprintf("%s/%d", mk_ipv4_str(eps[i]->ip, buf), prefix);
        _cleanup_free_ char *epid = mk_network_endpoint_id(eps[i]->network_id, eps[i]->container_id);
        json_object_set_new(out, c->id,
                            json_pack("{s:s,s:s,s:s,s:s,s:s}", "Name", c->name, "EndpointID", epid,
                                      "MacAddress", eps[i]->mac, "IPv4Address", addr, "IPv6Address",
                                      ""));
        mk_container_free(c);
    }
    mk_net_endpoint_list_free(eps, neps);
    return out;
}

json_t *mk_network_inspect_json(struct mk_engine *e, const struct mk_network *n)
{
    json_t *ipam_cfg = json_array();
    int prefix = 0;
    const char *subnet = mk_json_str(n->config, "Subnet");
    if (subnet != NULL) {
        json_t *c = json_pack("{s:s}", "Subnet", subnet);
        const char *range = mk_json_str(n->config, "IPRange");
        if (range != NULL)
            json_object_set_new(c, "IPRange", json_string(range));
        json_object_set_new(c, "Gateway", json_string(mk_json_str(n->config, "Gateway")));
        json_array_append_new(ipam_cfg, c);
        const char *slash = strchr(subnet, '/');
        prefix = slash != NULL ? atoi(slash + 1) : 32;
    }
    _cleanup_free_ char *created = mk_time_rfc3339(n->created);
    bool predefined = mk_network_predefined(n);
    return json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:b,s:{s:s,s:o,s:o},s:b,s:b,s:b,s:{s:s},s:b,s:o,s:o,s:o}", "Name",
        n->name, "Id", n->id, "Created", created, "Scope", "local", "Driver", n->driver,
        "EnableIPv6", 0, "IPAM", "Driver", "default", "Options",
        predefined ? json_null() : json_object(), "Config", ipam_cfg, "Internal",
        mk_json_bool(n->config, "Internal", false), "Attachable",
        mk_json_bool(n->config, "Attachable", false), "Ingress", 0, "ConfigFrom", "Network", "",
        "ConfigOnly", 0, "Containers", containers_json(e, n, prefix), "Options",
        mk_engine_json_sorted(json_object_get(n->config, "Options")), "Labels",
        mk_engine_json_sorted(json_object_get(n->config, "Labels")));
}

/* ---- rm, prune, reconcile ---- */

/* Delete n's row unless it has endpoints, then its bridge.  The row goes
 * first: a crash in between leaves a marked bridge without a row, which
 * reconcile removes, never a row whose bridge is gone for good. */
static int network_remove_one(struct mk_engine *e, const char *ref, struct mk_network **removed,
                              mk_err **err)
{
    if (mk_store_begin(e->store, err) < 0)
        return -1;
    struct mk_network *n = NULL;
    struct mk_net_endpoint **eps = NULL;
    size_t neps = 0;
    if (mk_store_network_get(e->store, ref, &n, err) < 0)
        goto fail;
    if (mk_network_predefined(n)) {
        mk_err_set(err, MK_ERR_FORBIDDEN, "%s is a pre-defined network and cannot be removed",
                   n->name);
        goto fail;
    }
    if (mk_store_endpoint_list_by_network(e->store, n->id, &eps, &neps, err) < 0)
        goto fail;
    /* Leases of containers whose monitor was killed do not count. */
    size_t active = 0;
    for (size_t i = 0; i < neps; i++)
        active += mk_lease_remove_if_stale(e, eps[i]) == 0;
    mk_net_endpoint_list_free(eps, neps);
    if (active > 0) {
        mk_err_set(err, MK_ERR_FORBIDDEN,
                   "error while removing network: network %s id %s has active endpoints", n->name,
                   n->id);
        goto fail;
    }
    if (mk_store_network_delete(e->store, n->id, err) < 0 || mk_store_commit(e->store, err) < 0)
        goto fail;
    bridge_delete(e, mk_json_str(n->config, "Bridge"));
    /* Only a network that had a bridge can have rules. */
    if (strcmp(n->driver, "bridge") == 0)
        mk_fw_network_remove(n->id, NULL);
    network_event(e, n, "destroy", NULL);
    *removed = n;
    return 0;
fail:
    mk_store_rollback(e->store);
    mk_network_free(n);
    return -1;
}

int mk_network_remove(struct mk_engine *e, const char *ref, mk_err **err)
{
    struct mk_network *n = NULL;
    if (network_remove_one(e, ref, &n, err) < 0)
        return -1;
    mk_network_free(n);
    return 0;
}

int mk_network_prune(struct mk_engine *e, int64_t until_ns, char *const *labels,
                     char *const *not_labels, char ***names, mk_err **err)
{
    struct mk_network **v = NULL;
    size_t n = 0;
    if (mk_store_network_list(e->store, &v, &n, err) < 0)
        return -1;
    char **out = xcalloc(1, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        if (mk_network_predefined(v[i]) || (until_ns != 0 && v[i]->created >= until_ns) ||
            !mk_volume_labels_match(json_object_get(v[i]->config, "Labels"), labels, not_labels))
            continue;
        struct mk_network *gone = NULL;
        mk_err *busy = NULL;
        /* in use (or removed meanwhile): not ours to prune */
        if (network_remove_one(e, v[i]->id, &gone, &busy) < 0) {
            mk_err_free(busy);
            continue;
        }
        mk_strv_push(&out, gone->name);
        mk_network_free(gone);
    }
    mk_network_list_free(v, n);
    *names = out;
    return 0;
}

int mk_network_teardown(struct mk_engine *e, mk_err **err)
{
    struct mk_network **v = NULL;
    size_t n = 0;
    if (mk_store_network_list(e->store, &v, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i]->driver, "bridge") != 0)
            continue;
        mk_fw_network_remove(v[i]->id, NULL);
        bridge_delete(e, mk_json_str(v[i]->config, "Bridge"));
    }
    mk_network_list_free(v, n);
    return mk_network_reconcile(e, err);
}

int mk_network_reconcile(struct mk_engine *e, mk_err **err)
{
    /* The write lock: a create between its bridge and its commit holds it. */
    if (mk_store_begin(e->store, err) < 0)
        return -1;
    struct mk_network **v = NULL;
    size_t n = 0;
    if (mk_store_network_list(e->store, &v, &n, err) < 0) {
        mk_store_rollback(e->store);
        return -1;
    }
    _cleanup_closedir_ DIR *d = opendir("/sys/class/net");
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        if (!mk_str_has_prefix(de->d_name, BRIDGE_PREFIX) &&
            strcmp(de->d_name, DEFAULT_BRIDGE) != 0)
            continue;
        bool owned = false;
        for (size_t i = 0; i < n && !owned; i++) {
            const char *b = mk_json_str(v[i]->config, "Bridge");
            owned = b != NULL && strcmp(b, de->d_name) == 0;
        }
        if (!owned)
            bridge_delete(e, de->d_name);
    }
    mk_network_list_free(v, n);
    mk_store_rollback(e->store);
    return 0;
}

/* ---- connect / disconnect (stopped containers) ---- */

/* The container's EndpointsConfig (borrowed from c->config), made from its
 * NetworkMode the first time. */
static json_t *endpoints_config(struct mk_engine *e, struct mk_container *c)
{
    json_t *nc = json_object_get(c->config, "NetworkingConfig");
    if (!json_is_object(nc)) {
        nc = json_object();
        json_object_set_new(c->config, "NetworkingConfig", nc);
    }
    json_t *eps = json_object_get(nc, "EndpointsConfig");
    if (json_is_object(eps))
        return eps;
    eps = json_object();
    json_object_set_new(nc, "EndpointsConfig", eps);
    const char *mode = mk_json_str(json_object_get(c->config, "HostConfig"), "NetworkMode");
    if (mode == NULL || strcmp(mode, "default") == 0)
        mode = "bridge";
    struct mk_network *n = NULL;
    mk_err *ignored = NULL;
    if (strcmp(mode, "host") == 0 || strcmp(mode, "none") == 0 ||
        mk_str_has_prefix(mode, "container:") ||
        mk_store_network_get(e->store, mode, &n, &ignored) < 0) {
        mk_err_free(ignored);
        return eps;
    }
    json_object_set_new(eps, n->name,
                        json_pack("{s:n,s:n,s:s}", "IPAMConfig", "Aliases", "NetworkID", n->id));
    mk_network_free(n);
    return eps;
}

/* What docker refuses whatever the container's state. */
static int check_connect(const struct mk_container *c, const struct mk_network *n, const char *ip,
                         char *const *aliases, mk_err **err)
{
    const char *mode = mk_json_str(json_object_get(c->config, "HostConfig"), "NetworkMode");
    if (mode == NULL)
        mode = "";
    if (strcmp(n->driver, "host") == 0 || strcmp(mode, "host") == 0 ||
        mk_str_has_prefix(mode, "container:"))
        return mk_err_set(err, MK_ERR_FORBIDDEN,
                          strcmp(n->driver, "host") == 0
                              ? "container cannot be disconnected from host network or "
                                "connected to host network"
                              : "container sharing network namespace with another container or "
                                "host cannot be connected to any other network");
    if (strcmp(n->driver, "null") == 0 || strcmp(mode, "none") == 0)
        return mk_err_set(err, MK_ERR_FORBIDDEN,
                          "container cannot be connected to multiple networks with one of the "
                          "networks in private (none) mode");
    if (aliases != NULL && aliases[0] != NULL && strcmp(n->name, "bridge") == 0)
        return mk_err_set(err, MK_ERR_FORBIDDEN,
                          "network-scoped alias is supported only for containers in user defined "
                          "networks");
    if (ip == NULL)
        return 0;
    struct mk_network_ipv4 v;
    if (!mk_json_bool(n->config, "UserSubnet", false) || mk_network_ipv4(n, &v, NULL) < 0)
        return mk_err_set(err, MK_ERR_FORBIDDEN,
                          "user specified IP address is supported only when connecting to "
                          "networks with user configured subnets");
    uint32_t addr;
    if (mk_ipv4_parse(ip, &addr, err) < 0)
        return -1;
    return mk_ipam_check(&v.subnet, v.gateway, NULL, 0, addr, err);
}

static bool is_stopped(const struct mk_container *c)
{
    return strcmp(c->status, "created") == 0 || strcmp(c->status, "exited") == 0 ||
           strcmp(c->status, "dead") == 0;
}

/* Find the entry of n (by name, or by NetworkID for a renamed one). */
static const char *endpoint_key(json_t *eps, const char *name, const char *id)
{
    const char *k;
    json_t *v;
    json_object_foreach(eps, k, v)
    {
        const char *nid = mk_json_str(v, "NetworkID");
        if (strcmp(k, name) == 0 || (id != NULL && nid != NULL && strcmp(nid, id) == 0))
            return k;
    }
    return NULL;
}

/* Change the stored EndpointsConfig of the stopped container ctr_ref with
 * edit, in one transaction that reads the container again under the write
 * lock: a start in between would otherwise run without the change. */
struct endpoints_edit {
    const struct mk_network *n;
    const char *net_ref; /* disconnect -f of a network that is gone: n is NULL */
    json_t *endpoint;    /* connect: the entry to add (stolen) */
};

/* The container's stored NetworkingConfig.EndpointsConfig gains or loses
 * the network; live: the container runs and its endpoint was just made or
 * removed (else it must still be stopped). */
static int edit_endpoints(struct mk_engine *e, const char *ctr_ref, struct endpoints_edit *ed,
                          bool live, mk_err **err)
{
    struct mk_container *c = NULL;
    bool connect = ed->endpoint != NULL;
    if (mk_store_begin(e->store, err) < 0)
        return -1;
    if (mk_store_container_get(e->store, ctr_ref, &c, err) < 0)
        goto fail;
    if (!live && !is_stopped(c)) {
        mk_err_set(err, MK_ERR_CONFLICT, "container %s changed state meanwhile; try again",
                   c->name);
        goto fail;
    }
    json_t *eps = endpoints_config(e, c);
    const char *name = ed->n != NULL ? ed->n->name : ed->net_ref;
    const char *key = endpoint_key(eps, name, ed->n != NULL ? ed->n->id : NULL);
    if (connect && key != NULL) {
        mk_err_set(err, MK_ERR_FORBIDDEN, "endpoint with name %s already exists in network %s",
                   c->name, name);
        goto fail;
    }
    if (!connect && key == NULL) {
        mk_err_set(err, MK_ERR_FORBIDDEN, "container %s is not connected to the network %s", c->id,
                   name);
        goto fail;
    }
    if (connect)
        json_object_set_new(eps, name, steal_pointer(&ed->endpoint));
    else
        json_object_del(eps, key);
    if (mk_store_container_save_config(e->store, c->id, c->config, err) < 0 ||
        mk_store_commit(e->store, err) < 0)
        goto fail;
    if (ed->n != NULL)
        network_event(e, ed->n, connect ? "connect" : "disconnect", c->id);
    mk_container_free(c);
    return 0;
fail:
    mk_store_rollback(e->store);
    mk_container_free(c);
    return -1;
}

int mk_network_connect(struct mk_engine *e, const char *net_ref, const char *ctr_ref,
                       const char *ip, char *const *aliases, mk_err **err)
{
    struct mk_container *c = NULL;
    struct mk_network *n = NULL;
    if (mk_container_get(e, ctr_ref, &c, err) < 0)
        return -1;
    int r = -1;
    if (mk_store_network_get(e->store, net_ref, &n, err) < 0 ||
        check_connect(c, n, ip, aliases, err) < 0)
        goto out;
    struct endpoints_edit ed = {.n = n};
    ed.endpoint =
        json_pack("{s:o,s:o,s:s}", "IPAMConfig",
                  ip != NULL ? json_pack("{s:s}", "IPv4Address", ip) : json_null(), "Aliases",
                  aliases != NULL && aliases[0] != NULL ? mk_json_from_strv(aliases) : json_null(),
                  "NetworkID", n->id);
    if (is_stopped(c)) {
        r = edit_endpoints(e, ctr_ref, &ed, false, err);
    } else if (mk_container_network_connect_live(e, c, n, ed.endpoint, err) == 0) {
        /* Kept for its next start; undone if it cannot be. */
        r = edit_endpoints(e, ctr_ref, &ed, true, err);
        if (r < 0)
            mk_container_network_disconnect_live(e, c, n, true, NULL);
        else
            mk_container_network_changed(e, c);
    }
    json_decref(ed.endpoint);
out:
    mk_container_free(c);
    mk_network_free(n);
    return r;
}

int mk_network_disconnect(struct mk_engine *e, const char *net_ref, const char *ctr_ref, bool force,
                          mk_err **err)
{
    struct mk_container *c = NULL;
    struct mk_network *n = NULL;
    if (mk_container_get(e, ctr_ref, &c, err) < 0)
        return -1;
    int r = -1;
    mk_err *missing = NULL;
    /* -f: a network removed meanwhile can still be dropped from the config */
    if (mk_store_network_get(e->store, net_ref, &n, &missing) < 0 &&
        (!force || missing->kind != MK_ERR_NOT_FOUND || !is_stopped(c))) {
        *err = missing;
        goto out;
    }
    mk_err_free(missing);
    if (n != NULL && strcmp(n->driver, "host") == 0) {
        mk_err_set(err, MK_ERR_FORBIDDEN,
                   "container cannot be disconnected from host network or connected to host "
                   "network");
        goto out;
    }
    struct endpoints_edit ed = {.n = n, .net_ref = net_ref};
    if (is_stopped(c))
        r = edit_endpoints(e, ctr_ref, &ed, false, err);
    else if (n == NULL)
        r = mk_err_set(err, MK_ERR_NOT_FOUND, "network %s not found", net_ref);
    else if (mk_container_network_disconnect_live(e, c, n, force, err) == 0)
        r = edit_endpoints(e, ctr_ref, &ed, true, err);
out:
    mk_container_free(c);
    mk_network_free(n);
    return r;
}
