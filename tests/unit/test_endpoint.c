/* test_endpoint.c: a container's attachment to a bridge (endpoint.c) and a
 * network namespace made ahead (netns.c), against the real kernel, inside a
 * network namespace of the test's own (nothing touches the host's links).
 * Checked by reading the links back and by a TCP connection from the bridge's
 * gateway address to a listener in the container's namespace; prints what an
 * endpoint costs. */
#include "network/network.h"
#include "tap.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>
#include <sched.h>
#include <sys/socket.h>

static int in_netns_listen(int netns, uint32_t addr, uint16_t port)
{
    int own = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (own < 0 || setns(netns, CLONE_NEWNET) < 0)
        return -1;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(addr)};
    if (s >= 0 && (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4) < 0)) {
        close(s);
        s = -1;
    }
    if (setns(own, CLONE_NEWNET) < 0)
        abort();
    close(own);
    return s;
}

static void test_endpoint_in_private_namespace(void)
{
    if (geteuid() != 0) {
        printf("# skip: network namespaces need root\n");
        return;
    }
    /* Everything below happens in a namespace only this process sees. */
    CHECK(unshare(CLONE_NEWNET) == 0);
    int nl = mk_nl_open(NULL);
    CHECK(nl >= 0);
    CHECK(mk_nl_bridge_add(nl, "mktestbr0", NULL) == 0);
    struct mk_ipv4_net net;
    CHECK(mk_ipv4_subnet_parse("10.77.0.0/24", &net, NULL) == 0);
    uint32_t gw = mk_ipam_gateway(&net), addr = gw + 1;
    CHECK(mk_nl_addr_add(nl, "mktestbr0", (struct in_addr){htonl(gw)}, 24, NULL) == 0);
    CHECK(mk_nl_link_set_up(nl, "mktestbr0", NULL) == 0);

    int netns = -1;
    int64_t t0 = mk_monotonic_ns();
    CHECK(mk_netns_create(&netns, NULL) == 0);
    int64_t t1 = mk_monotonic_ns();
    int ns_nl = mk_nl_open_netns(netns, NULL);
    CHECK(ns_nl >= 0);
    struct mk_endpoint ep = {.bridge = "mktestbr0", .host_name = "mkvtest0", .ifname = "eth0",
                             .netns_fd = netns, .addr = addr, .prefix = 24, .gateway = gw};
    mk_err *err = NULL;
    int64_t t2 = mk_monotonic_ns();
    int r = mk_endpoint_add(nl, ns_nl, &ep, &err);
    int64_t t3 = mk_monotonic_ns();
    if (r < 0)
        printf("# %s\n", err->msg);
    CHECK(r == 0);
    printf("# netns with lo up %.3f ms, endpoint (veth, address, route) %.3f ms\n",
           (double)(t1 - t0) / 1e6, (double)(t3 - t2) / 1e6);

    /* The host end is a port of the bridge; the container's end is up with docker's MAC. */
    struct mk_nl_link host, br, inside, lo;
    CHECK(mk_nl_link_get(nl, "mkvtest0", &host, NULL) == 0);
    CHECK(mk_nl_link_get(nl, "mktestbr0", &br, NULL) == 0);
    CHECK_INT(host.master, br.index);
    CHECK(host.flags & IFF_UP);
    CHECK(mk_nl_link_get(ns_nl, "eth0", &inside, NULL) == 0);
    CHECK(inside.flags & IFF_UP);
    unsigned char want[6] = {0x02, 0x42, 10, 77, 0, 2};
    CHECK(memcmp(inside.mac, want, 6) == 0);
    CHECK(mk_nl_link_get(ns_nl, "lo", &lo, NULL) == 0);
    CHECK(lo.flags & IFF_UP);
    _cleanup_free_ struct mk_nl_addr *addrs = NULL;
    size_t n = 0;
    CHECK(mk_nl_addr_list(ns_nl, "eth0", &addrs, &n, NULL) == 0);
    CHECK(n == 1 && ntohl(addrs[0].addr.s_addr) == addr && addrs[0].prefix == 24);

    /* Traffic: from the gateway to a listener on the container's address. */
    int l = in_netns_listen(netns, addr, 8080);
    CHECK(l >= 0);
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(8080),
                             .sin_addr.s_addr = htonl(addr)};
    CHECK(connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    int a = accept(l, NULL, NULL);
    CHECK(a >= 0);
    CHECK(write(c, "hi", 2) == 2);
    char buf[4] = {0};
    CHECK(read(a, buf, sizeof(buf)) == 2 && memcmp(buf, "hi", 2) == 0);
    close(a);
    close(c);
    close(l);

    /* A second endpoint with a name already taken fails and leaves nothing. */
    struct mk_endpoint dup = ep;
    dup.ifname = "eth1";
    dup.addr = addr + 1;
    CHECK(mk_endpoint_add(nl, ns_nl, &dup, NULL) < 0);
    CHECK(mk_nl_link_get(ns_nl, "eth1", &inside, NULL) < 0);

    /* The host end goes with the namespace. */
    close(ns_nl);
    close(netns);
    bool gone = false;
    for (int i = 0; i < 200 && !gone; i++) {
        gone = mk_nl_link_get(nl, "mkvtest0", &host, NULL) < 0;
        if (!gone)
            usleep(5000);
    }
    CHECK(gone);
    mk_err_free(err);
    close(nl);
}

int main(void)
{
    RUN(test_endpoint_in_private_namespace);
    return tap_done();
}
