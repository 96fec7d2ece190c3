/* network.h: the network layer's building blocks: links, addresses and routes
 * set up over rtnetlink (netlink.c), and IPv4 subnet arithmetic and address
 * allocation (ipam.c).  Nothing here knows about containers or the store; the
 * engine composes these into docker's bridge networks.
 *
 * Netlink calls take a NETLINK_ROUTE socket from mk_nl_open() (the host's
 * network namespace) or mk_nl_open_netns() (a container's): a netlink socket
 * stays in the namespace it was created in, so one socket per namespace is all
 * it takes to configure that namespace from any thread of mocker. */
#ifndef MK_NETWORK_H
#define MK_NETWORK_H

#include "util/util.h"

#include <netinet/in.h>

/* ---- netlink.c ---- */

/* A NETLINK_ROUTE socket in the calling thread's network namespace. */
int mk_nl_open(mk_err **err);
/* A NETLINK_ROUTE socket in the network namespace netns_fd refers to (an fd of
 * /proc/PID/ns/net).  The calling thread's own namespace is left untouched. */
int mk_nl_open_netns(int netns_fd, mk_err **err);

/* A Linux bridge named name, down.  CONFLICT "failed to create bridge NAME: File exists". */
int mk_nl_bridge_add(int nl, const char *name, mk_err **err);
/* A veth pair: host_name in nl's namespace, its peer created directly in the
 * namespace netns_fd (never visible in nl's) under the name peer_name.  With
 * netns_fd -1 the peer stays in nl's namespace. */
int mk_nl_veth_add(int nl, const char *host_name, const char *peer_name, int netns_fd,
                   mk_err **err);
/* Delete a link (a veth's peer goes with it).  NOT_FOUND if there is none. */
int mk_nl_link_del(int nl, const char *name, mk_err **err);
int mk_nl_link_set_up(int nl, const char *name, mk_err **err);
/* Make link a port of the bridge master. */
int mk_nl_link_set_master(int nl, const char *name, const char *master, mk_err **err);
int mk_nl_link_set_mac(int nl, const char *name, const unsigned char mac[6], mk_err **err);

struct mk_nl_link {
    int index;
    int master;     /* ifindex of the bridge it is a port of, 0 if none */
    unsigned flags; /* IFF_UP... */
    unsigned char mac[6];
};
/* Look a link up by name.  NOT_FOUND "no such network interface NAME". */
int mk_nl_link_get(int nl, const char *name, struct mk_nl_link *out, mk_err **err);

/* Add addr/prefix to the link (the subnet route comes with it, as `ip addr add`). */
int mk_nl_addr_add(int nl, const char *name, struct in_addr addr, int prefix, mk_err **err);
/* The IPv4 addresses (network byte order, with their prefix lengths) on the
 * link; *out (xmalloc'ed, may be NULL when *n is 0) is set on success. */
struct mk_nl_addr {
    struct in_addr addr;
    int prefix;
};
int mk_nl_addr_list(int nl, const char *name, struct mk_nl_addr **out, size_t *n, mk_err **err);
/* A default route via gateway in nl's namespace. */
int mk_nl_route_add_default(int nl, struct in_addr gateway, mk_err **err);

/* ---- netns.c ---- */

/* A new network namespace with its loopback up; *out is an fd of it.  The
 * calling thread stays in its own namespace. */
int mk_netns_create(int *out, mk_err **err);

/* ---- ipam.c: IPv4 in host byte order ---- */

struct mk_ipv4_net {
    uint32_t addr; /* as written; the network address when parsed as a subnet */
    int prefix;    /* 0..32 */
};

/* "a.b.c.d" into host order.  INVALID on anything else (no short forms). */
int mk_ipv4_parse(const char *s, uint32_t *out, mk_err **err);
/* "a.b.c.d" of a host-order address into buf. */
const char *mk_ipv4_str(uint32_t addr, char buf[16]);
/* "a.b.c.d/n"; host bits are kept (an address with its prefix). */
int mk_ipv4_cidr_parse(const char *s, struct mk_ipv4_net *out, mk_err **err);
/* A subnet: as mk_ipv4_cidr_parse, and the host bits must be zero. */
int mk_ipv4_subnet_parse(const char *s, struct mk_ipv4_net *out, mk_err **err);
/* "a.b.c.d/n" into a new string. */
char *mk_ipv4_net_str(const struct mk_ipv4_net *n);
uint32_t mk_ipv4_mask(int prefix);
bool mk_ipv4_net_contains(const struct mk_ipv4_net *n, uint32_t addr);
bool mk_ipv4_net_overlaps(const struct mk_ipv4_net *a, const struct mk_ipv4_net *b);
/* The first host of the subnet, as docker picks its gateway. */
uint32_t mk_ipam_gateway(const struct mk_ipv4_net *n);
/* Whether addr may be given to a container: inside the subnet, not its network
 * or broadcast address, not the gateway, not taken.  INVALID or CONFLICT. */
int mk_ipam_check(const struct mk_ipv4_net *n, uint32_t gateway, const uint32_t *taken,
                  size_t ntaken, uint32_t addr, mk_err **err);
/* The lowest address mk_ipam_check accepts.  CONFLICT when the subnet is full. */
int mk_ipam_alloc(const struct mk_ipv4_net *n, uint32_t gateway, const uint32_t *taken,
                  size_t ntaken, uint32_t *out, mk_err **err);
/* The IPv4 routes of a /proc/net/route file, the default route left out (it
 * overlaps everything).  *out may be NULL when *n is 0. */
int mk_ipam_read_routes(const char *path, struct mk_ipv4_net **out, size_t *n, mk_err **err);
/* The first of docker's default pools (172.18.0.0/16 ... 172.31.0.0/16, then
 * 192.168.0.0/20 ... 192.168.240.0/20; 172.17.0.0/16 is left to a dockerd
 * running beside) that overlaps none of used[].  CONFLICT if all do. */
int mk_ipam_pick_subnet(const struct mk_ipv4_net *used, size_t nused, struct mk_ipv4_net *out,
                        mk_err **err);

/* ---- firewall.c: NAT, forwarding and published ports (nftables) ----
 *
 * All of mocker's rules live in one nftables table, `ip mocker`, that no one
 * else writes; every rule and element carries its owner in a comment:
 * "net:<network id>" or "ctr:<container id>".  The few rules mocker must put
 * in another table (when dockerd's FORWARD chain drops by default) say
 * "mocker <owner>".  So a crash leaves nothing that mk_fw_owners() cannot
 * find and mk_fw_sweep() cannot remove.  Ids and bridge names are checked
 * ([A-Za-z0-9_.-]) before they reach an nft command.  Everything happens in the
 * calling thread's network namespace as of the first call. */

/* Load libnftables and warm it up now, in the network namespace the rules
 * are for: a fresh process's mk_fw_ports_add then costs ~1 ms instead of
 * ~2.5 ms.  For a process with time to spare before it needs the firewall
 * (the monitor while the CLI prepares the container); optional. */
int mk_fw_prepare(mk_err **err);

struct mk_fw_network {
    const char *id;     /* the owner: the network's id */
    const char *bridge; /* its Linux bridge; must exist (its sysctls are set) */
    struct mk_ipv4_net subnet;
    bool internal; /* --internal: nothing in or out but the bridge itself */
};

/* Outbound NAT, forwarding and isolation for a bridge network, in one
 * transaction; creates the table on first use.  Idempotent: adding a network
 * that is there already does nothing (a stale owner of the same bridge, left
 * by a crash, is replaced).  Also sets net.ipv4.conf.BRIDGE.route_localnet=1
 * (127.0.0.1:PORT reaches published ports) and, unless internal,
 * net.ipv4.ip_forward=1, as dockerd does. */
int mk_fw_network_add(const struct mk_fw_network *n, mk_err **err);
/* Remove the network's rules; with the last network, the whole table (and
 * every rule of mocker's elsewhere).  Nothing there is not an error. */
int mk_fw_network_remove(const char *network_id, mk_err **err);

enum mk_fw_proto { MK_FW_TCP, MK_FW_UDP };

struct mk_fw_port {
    enum mk_fw_proto proto;
    uint32_t host_ip; /* host order; 0: every address of the host */
    uint16_t host_port;
    uint32_t ctr_ip; /* the container's address on its network */
    uint16_t ctr_port;
};

/* Publish ports of a container (a range is one entry per port), all or none.
 * Reachable on the host's own addresses (host_ip 0) or on host_ip, from the
 * host itself (127.0.0.1 too), from outside and from other containers.
 * Idempotent for the same owner; the owner's old mapping of the same host
 * port is replaced.  CONFLICT "Bind for IP:PORT failed: port is already
 * allocated" when another owner holds it (on that address or on all). */
int mk_fw_ports_add(const char *container_id, const struct mk_fw_port *ports, size_t n,
                    mk_err **err);
int mk_fw_ports_remove(const char *container_id, mk_err **err);

/* Every owner that has something in the firewall ("net:ID", "ctr:ID"),
 * sorted, NULL-terminated. */
int mk_fw_owners(char ***out, mk_err **err);
/* Remove everything of each owner that keep() refuses: reconciliation after a
 * crash, with keep() asking the store.  As with mk_fw_network_remove, the
 * table goes when no network is left. */
int mk_fw_sweep(bool (*keep)(const char *owner, void *ctx), void *ctx, mk_err **err);
/* Remove the table and every rule of mocker's elsewhere. */
int mk_fw_reset(mk_err **err);

#endif
