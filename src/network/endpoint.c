/* endpoint.c: one container's attachment to a bridge network, as docker
 * makes it: a veth pair whose host end is a port of the network's bridge and
 * whose other end (eth0, eth1...) is created directly in the container's
 * network namespace, up, with docker's MAC (02:42 and the IPv4 address), the
 * address and a default route through the bridge's gateway.
 *
 * Five netlink requests in all (the pair, its host end already a bridge port
 * and up; the container's end without IPv6, then up; the address; the
 * route): the host end needs no removal, since it goes with its
 * peer when the container's network namespace dies (removing a veth by hand
 * costs the kernel ~25 ms here; a dying namespace takes it asynchronously). */
#include "network/network.h"

#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

void mk_endpoint_mac(uint32_t addr, unsigned char mac[6])
{
    mac[0] = 0x02;
    mac[1] = 0x42;
    mac[2] = (unsigned char)(addr >> 24);
    mac[3] = (unsigned char)(addr >> 16);
    mac[4] = (unsigned char)(addr >> 8);
    mac[5] = (unsigned char)addr;
}

int mk_endpoint_add(int host_nl, int ns_nl, const struct mk_endpoint *ep, mk_err **err)
{
    struct mk_nl_link bridge;
    if (mk_nl_link_get(host_nl, ep->bridge, &bridge, err) < 0)
        return -1;
    unsigned char mac[6];
    if (ep->mac != NULL)
        memcpy(mac, ep->mac, 6);
    else
        mk_endpoint_mac(ep->addr, mac);
    struct mk_nl_veth v = {.name = ep->host_name,
                           .peer_name = ep->ifname,
                           .master_index = bridge.index,
                           .peer_netns_fd = ep->netns_fd,
                           .peer_mac = mac,
                           .mtu = ep->mtu,
                           .up = true};
    if (mk_nl_veth_create(host_nl, &v, err) < 0)
        return -1;
    struct in_addr a = {.s_addr = htonl(ep->addr)};
    /* docker turns IPv6 off on a network without it: no link-local address,
     * no router solicitations. */
    if (mk_nl_link_set_no_ipv6(ns_nl, ep->ifname, err) < 0 ||
        mk_nl_link_set_up(ns_nl, ep->ifname, err) < 0 ||
        mk_nl_addr_add(ns_nl, ep->ifname, a, ep->prefix, err) < 0)
        goto undo;
    if (ep->gateway != 0) {
        struct in_addr gw = {.s_addr = htonl(ep->gateway)};
        if (mk_nl_route_add_default(ns_nl, gw, err) < 0)
            goto undo;
    }
    return 0;
undo:
    /* Not left half made on a network the container may join again. */
    mk_nl_link_del(host_nl, ep->host_name, NULL);
    return -1;
}
