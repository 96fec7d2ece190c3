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
/* A veth pair in one request: name in nl's namespace (a port of the bridge
 * whose index is master_index, when > 0, and up when up), its peer peer_name
 * created directly in the namespace peer_netns_fd (-1: nl's), down, with
 * peer_mac (NULL: random).  mtu 0: the default. */
struct mk_nl_veth {
    const char *name, *peer_name;
    int master_index;
    int peer_netns_fd;
    const unsigned char *peer_mac;
    int mtu;
    bool up;
};
int mk_nl_veth_create(int nl, const struct mk_nl_veth *v, mk_err **err);
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

/* ---- endpoint.c ---- */

/* A container's attachment to a bridge (addresses in host order). */
struct mk_endpoint {
    const char *bridge;    /* the network's bridge, in host_nl's namespace */
    const char *host_name; /* the host end of the veth pair */
    const char *ifname;    /* the end in the container: eth0, eth1... */
    int netns_fd;          /* the container's network namespace */
    uint32_t addr;
    int prefix;
    uint32_t gateway;         /* 0: no default route (an internal network, or not the first) */
    const unsigned char *mac; /* NULL: docker's, from the address */
    int mtu;                  /* 0: the default */
};
/* docker's MAC for an address: 02:42 and its four bytes. */
void mk_endpoint_mac(uint32_t addr, unsigned char mac[6]);
/* Create the pair and configure the container's end through ns_nl (a netlink
 * socket in its namespace, mk_nl_open_netns).  On failure nothing is left. */
int mk_endpoint_add(int host_nl, int ns_nl, const struct mk_endpoint *ep, mk_err **err);

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

#endif
