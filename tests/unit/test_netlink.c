/* test_netlink.c: the rtnetlink layer against the real kernel (as root;
 * skipped otherwise).  A bridge and a veth pair into a fresh network namespace,
 * addresses, a default route and a MAC, checked by reading them back over
 * netlink and by TCP connections from the namespace to addresses on the bridge
 * (all traffic stays between this host and its own namespace); then
 * everything is deleted and checked gone.  Prints how long the kernel takes to
 * create and delete links. */
#include "network/network.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

static int nl = -1;
static char br[IFNAMSIZ], vh[IFNAMSIZ], vt[IFNAMSIZ], vt2[IFNAMSIZ];
static struct mk_ipv4_net
    subnet; /* a /23: the lower /24 on the bridge, an address of the upper as a /32 */
static uint32_t gw, extra, cip;
static pid_t child = -1;
static int to_child = -1, from_child = -1;

static struct in_addr in4(uint32_t host_order)
{
    return (struct in_addr){htonl(host_order)};
}

static double ms_since(int64_t t0)
{
    return (double)(mk_monotonic_ns() - t0) / 1e6;
}

static bool link_exists(int sock, const char *name)
{
    struct mk_nl_link l;
    return mk_nl_link_get(sock, name, &l, NULL) == 0;
}

/* A random 10.x.y.0/23 that no route of the host touches. */
static bool pick_subnet(void)
{
    _cleanup_free_ struct mk_ipv4_net *routes = NULL;
    size_t n = 0;
    if (mk_ipam_read_routes("/proc/net/route", &routes, &n, NULL) < 0)
        return false;
    srandom((unsigned)(getpid() ^ mk_monotonic_ns()));
    for (int tries = 0; tries < 200; tries++) {
        struct mk_ipv4_net c = {10u << 24 | (uint32_t)(random() & 0xfffe) << 8, 23};
        bool clash = false;
        for (size_t i = 0; i < n && !clash; i++)
            clash = mk_ipv4_net_overlaps(&c, &routes[i]);
        if (!clash) {
            subnet = c;
            gw = c.addr + 1;
            cip = c.addr + 2;
            extra = c.addr + 256 + 1;
            return true;
        }
    }
    return false;
}

/* The "container": a child in a new network namespace that connects to the
 * ports it is sent and answers one byte per port (1 connected, 0 not). */
static void child_main(int in, int out)
{
    if (unshare(CLONE_NEWNET) < 0)
        _exit(2);
    if (write(out, "r", 1) != 1)
        _exit(2);
    uint32_t addr;
    uint16_t port;
    while (read(in, &addr, 4) == 4 && read(in, &port, 2) == 2) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = port, .sin_addr.s_addr = addr};
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        char ok = 0;
        if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            ok = 1;
        else if (errno == EINPROGRESS) {
            struct pollfd p = {.fd = s, .events = POLLOUT};
            int e = 0;
            socklen_t el = sizeof(e);
            if (poll(&p, 1, 3000) == 1 && getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el) == 0 &&
                e == 0)
                ok = 1;
        }
        close(s);
        if (write(out, &ok, 1) != 1)
            _exit(2);
    }
    _exit(0);
}

static int start_child(void)
{
    int a[2], b[2];
    if (pipe2(a, O_CLOEXEC) < 0 || pipe2(b, O_CLOEXEC) < 0)
        return -1;
    child = fork();
    if (child == 0) {
        close(a[1]);
        close(b[0]);
        child_main(a[0], b[1]);
    }
    close(a[0]);
    close(b[1]);
    to_child = a[1];
    from_child = b[0];
    char c;
    if (read(from_child, &c, 1) != 1)
        return -1;
    _cleanup_free_ char *p = xasprintf("/proc/%d/ns/net", (int)child);
    return open(p, O_RDONLY | O_CLOEXEC);
}

static void stop_child(void)
{
    if (child > 0) {
        close(to_child);
        close(from_child);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        child = -1;
    }
}

/* Ask the namespace's child to connect to addr:port of a listener; 1 if it did. */
static int child_connects(uint32_t addr)
{
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr = in4(addr)};
    socklen_t sl = sizeof(sa);
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 1) < 0 ||
        getsockname(l, (struct sockaddr *)&sa, &sl) < 0) {
        printf("# listener on %s: %m\n", inet_ntoa(sa.sin_addr));
        close(l);
        return -1;
    }
    char ok = 0;
    if (write(to_child, &sa.sin_addr.s_addr, 4) != 4 || write(to_child, &sa.sin_port, 2) != 2 ||
        read(from_child, &ok, 1) != 1)
        ok = -1;
    close(l);
    return ok;
}

static void test_errors(void)
{
    _cleanup_err_ mk_err *e = NULL;
    CHECK(mk_nl_bridge_add(nl, br, NULL) == 0);
    CHECK(mk_nl_bridge_add(nl, br, &e) < 0);
    CHECK_INT(e->kind, MK_ERR_CONFLICT);
    _cleanup_free_ char *want = xasprintf("failed to create bridge %s: File exists", br);
    CHECK_STR(e->msg, want);
    CHECK(mk_nl_link_del(nl, br, NULL) == 0);
    mk_err_clear(&e);
    CHECK(mk_nl_link_del(nl, br, &e) < 0);
    CHECK_INT(e->kind, MK_ERR_NOT_FOUND);
    mk_err_clear(&e);
    CHECK(mk_nl_link_set_up(nl, br, &e) < 0);
    CHECK_INT(e->kind, MK_ERR_NOT_FOUND);
    mk_err_clear(&e);
    CHECK(mk_nl_bridge_add(nl, "this-name-is-too-long", &e) < 0);
    CHECK_INT(e->kind, MK_ERR_INVALID);
    mk_err_clear(&e);
    CHECK(mk_nl_bridge_add(nl, "a/b", &e) < 0);
    CHECK_INT(e->kind, MK_ERR_INVALID);
    mk_err_clear(&e);
    /* A namespace fd that is not one: the kernel refuses, nothing is created. */
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    CHECK(mk_nl_veth_add(nl, vh, "eth0", devnull, &e) < 0);
    close(devnull);
    CHECK(e != NULL && strstr(e->msg, "failed to add the host") != NULL);
    CHECK(!link_exists(nl, vh));
}

static void test_bridge_veth_netns(void)
{
    _cleanup_close_ int nsfd = start_child();
    CHECK(nsfd >= 0);
    mk_err *e = NULL;
#define OK(call) CHECK_MK_OK(e, call)
    OK(mk_nl_bridge_add(nl, br, &e));
    OK(mk_nl_addr_add(nl, br, in4(gw), 24, &e));
    OK(mk_nl_addr_add(nl, br, in4(extra), 32, &e));
    OK(mk_nl_link_set_up(nl, br, &e));
    OK(mk_nl_veth_add(nl, vh, "eth0", nsfd, &e));
    OK(mk_nl_link_set_master(nl, vh, br, &e));
    OK(mk_nl_link_set_up(nl, vh, &e));

    _cleanup_close_ int ns = mk_nl_open_netns(nsfd, &e);
    OK(ns);
    const unsigned char mac[6] = {0x02, 0x42, (gw >> 24) & 255, (gw >> 16) & 255, (gw >> 8) & 255,
                                  2};
    OK(mk_nl_link_set_mac(ns, "eth0", mac, &e));
    OK(mk_nl_addr_add(ns, "eth0", in4(cip), 24, &e));
    OK(mk_nl_link_set_up(ns, "lo", &e));
    OK(mk_nl_link_set_up(ns, "eth0", &e));
    OK(mk_nl_route_add_default(ns, in4(gw), &e));

    /* Read back. */
    struct mk_nl_link bl, hl, cl;
    OK(mk_nl_link_get(nl, br, &bl, &e));
    OK(mk_nl_link_get(nl, vh, &hl, &e));
    OK(mk_nl_link_get(ns, "eth0", &cl, &e));
    CHECK_INT(hl.master, bl.index);
    CHECK(hl.flags & IFF_UP);
    CHECK(cl.flags & IFF_UP);
    CHECK(memcmp(cl.mac, mac, 6) == 0);
    _cleanup_free_ struct mk_nl_addr *a = NULL;
    size_t n = 0;
    OK(mk_nl_addr_list(ns, "eth0", &a, &n, &e));
    CHECK_INT(n, 1);
    CHECK_INT(ntohl(a[0].addr.s_addr), cip);
    CHECK_INT(a[0].prefix, 24);
    _cleanup_free_ struct mk_nl_addr *b = NULL;
    OK(mk_nl_addr_list(nl, br, &b, &n, &e));
    CHECK_INT(n, 2);
    _cleanup_err_ mk_err *dup = NULL;
    CHECK(mk_nl_route_add_default(ns, in4(gw), &dup) < 0);
    CHECK(dup != NULL && strstr(dup->msg, "File exists") != NULL);

    /* Traffic: the gateway on the link, and an address beyond it through the default route. */
    CHECK_INT(child_connects(gw), 1);
    CHECK_INT(child_connects(extra), 1);

    /* Teardown: the host end takes eth0 with it; the bridge takes its addresses and routes. */
    OK(mk_nl_link_del(nl, vh, &e));
    CHECK(!link_exists(ns, "eth0"));
    OK(mk_nl_link_del(nl, br, &e));
    CHECK(!link_exists(nl, br));
    CHECK(!link_exists(nl, vh));
    struct ifaddrs *ifa = NULL;
    CHECK(getifaddrs(&ifa) == 0);
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
            mk_ipv4_net_contains(&subnet,
                                 ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr)))
            FAIL_AT("address left on %s", i->ifa_name);
    freeifaddrs(ifa);
    _cleanup_free_ struct mk_ipv4_net *routes = NULL;
    CHECK(mk_ipam_read_routes("/proc/net/route", &routes, &n, NULL) == 0);
    for (size_t i = 0; i < n; i++)
        CHECK(!mk_ipv4_net_overlaps(&routes[i], &subnet));
    stop_child();
}

/* How long the kernel takes: the design depends on these numbers. */
static void test_timings(void)
{
    mk_err *e = NULL;
    int64_t t = mk_monotonic_ns();
    OK(mk_nl_bridge_add(nl, br, &e));
    double br_add = ms_since(t);
    t = mk_monotonic_ns();
    OK(mk_nl_link_del(nl, br, &e));
    double br_del = ms_since(t);

    t = mk_monotonic_ns();
    OK(mk_nl_veth_add(nl, vt, vt2, -1, &e));
    double v_add = ms_since(t);
    t = mk_monotonic_ns();
    OK(mk_nl_link_del(nl, vt, &e));
    double v_del = ms_since(t);
    CHECK(!link_exists(nl, vt2));

    /* A veth into a namespace: deleted by hand, and left to the namespace's end. */
    _cleanup_close_ int nsfd = start_child();
    CHECK(nsfd >= 0);
    t = mk_monotonic_ns();
    OK(mk_nl_veth_add(nl, vt, "eth0", nsfd, &e));
    double vn_add = ms_since(t);
    t = mk_monotonic_ns();
    OK(mk_nl_link_del(nl, vt, &e));
    double vn_del = ms_since(t);

    OK(mk_nl_veth_add(nl, vt, "eth0", nsfd, &e));
    t = mk_monotonic_ns();
    stop_child();
    close(steal_fd(&nsfd));
    double ns_gone = ms_since(t);
    /* The kernel tears the namespace down in a work queue: poll for the host end. */
    while (link_exists(nl, vt) && ms_since(t) < 5000)
        usleep(200);
    double ns_veth_gone = ms_since(t);
    CHECK(!link_exists(nl, vt));
    printf("# bridge: create %.2f ms, delete %.2f ms\n", br_add, br_del);
    printf("# veth in the host: create %.2f ms, delete %.2f ms\n", v_add, v_del);
    printf("# veth into a netns: create %.2f ms, delete %.2f ms; or kill the namespace's last "
           "process and close its fd: %.2f ms, host end gone after %.2f ms\n",
           vn_add, vn_del, ns_gone, ns_veth_gone);
}

/* What a failed test left behind, so the next one starts clean. */
static void cleanup(void)
{
    stop_child();
    mk_nl_link_del(nl, vh, NULL);
    mk_nl_link_del(nl, vt, NULL);
    mk_nl_link_del(nl, br, NULL);
}

int main(void)
{
    if (geteuid() != 0) {
        printf("# skip: creating links and network namespaces needs root\n");
        return tap_done();
    }
    _cleanup_err_ mk_err *e = NULL;
    nl = mk_nl_open(&e);
    if (nl < 0 || !pick_subnet()) {
        printf("# skip: %s\n", e ? e->msg : "no free 10.x.y.0/23 for the test");
        return tap_done();
    }
    unsigned tag = (unsigned)getpid() & 0xfffff;
    snprintf(br, sizeof(br), "mktb%05x", tag);
    snprintf(vh, sizeof(vh), "mkth%05x", tag);
    snprintf(vt, sizeof(vt), "mktv%05x", tag);
    snprintf(vt2, sizeof(vt2), "mktw%05x", tag);
    RUN(test_errors);
    cleanup();
    RUN(test_bridge_veth_netns);
    cleanup();
    RUN(test_timings);
    cleanup();
    close(nl);
    return tap_done();
}
