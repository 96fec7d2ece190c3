/* test_ipam.c: IPv4 parsing, subnet arithmetic, address allocation and the
 * choice of a default subnet clear of the host's routes. */
#include "network/network.h"
#include "tap.h"

static uint32_t ip(const char *s)
{
    uint32_t v = 0;
    if (mk_ipv4_parse(s, &v, NULL) < 0)
        abort();
    return v;
}

static void test_parse(void)
{
    uint32_t v;
    char buf[16];
    CHECK(mk_ipv4_parse("172.18.0.1", &v, NULL) == 0);
    CHECK_INT(v, 0xac120001u);
    CHECK_STR(mk_ipv4_str(v, buf), "172.18.0.1");
    CHECK_STR(mk_ipv4_str(0xffffffffu, buf), "255.255.255.255");
    const char *bad[] = {"",        "1.2.3",  "1.2.3.4.5", "256.0.0.1",  "01.2.3.4",  "1.2.3.4 ",
                         "a.b.c.d", "1..2.3", "1.2.3.-4",  "1.2.3.4/24", "1234.1.1.1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        _cleanup_err_ mk_err *e = NULL;
        if (mk_ipv4_parse(bad[i], &v, &e) == 0)
            FAIL_AT("accepted \"%s\"", bad[i]);
        CHECK_INT(e->kind, MK_ERR_INVALID);
    }
}

static void test_cidr(void)
{
    struct mk_ipv4_net n;
    CHECK(mk_ipv4_subnet_parse("10.1.2.0/24", &n, NULL) == 0);
    CHECK_INT(n.addr, ip("10.1.2.0"));
    CHECK_INT(n.prefix, 24);
    _cleanup_free_ char *s = mk_ipv4_net_str(&n);
    CHECK_STR(s, "10.1.2.0/24");
    CHECK(mk_ipv4_subnet_parse("0.0.0.0/0", &n, NULL) == 0);
    CHECK(mk_ipv4_subnet_parse("10.0.0.5/32", &n, NULL) == 0);

    /* An address with its prefix keeps the host bits; a subnet may not have any. */
    CHECK(mk_ipv4_cidr_parse("10.1.2.3/24", &n, NULL) == 0);
    CHECK_INT(n.addr, ip("10.1.2.3"));
    _cleanup_err_ mk_err *e = NULL;
    CHECK(mk_ipv4_subnet_parse("10.1.2.3/24", &n, &e) < 0);
    CHECK_STR(e->msg, "invalid subnet 10.1.2.3/24: it should be 10.1.2.0/24");

    const char *bad[] = {"10.0.0.0",    "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
                         "10.0.0.0/2x", "/24",       "10.0.0/8",    "10.0.0.0/008"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (mk_ipv4_cidr_parse(bad[i], &n, NULL) == 0)
            FAIL_AT("accepted \"%s\"", bad[i]);
}

static void test_contains_overlaps(void)
{
    struct mk_ipv4_net a = {ip("172.16.0.0"), 12}, b = {ip("172.18.0.0"), 16},
                       c = {ip("172.32.0.0"), 16}, all = {0, 0}, host = {ip("172.18.5.6"), 32};
    CHECK(mk_ipv4_net_contains(&a, ip("172.31.255.255")));
    CHECK(!mk_ipv4_net_contains(&a, ip("172.32.0.0")));
    CHECK(mk_ipv4_net_overlaps(&a, &b));
    CHECK(mk_ipv4_net_overlaps(&b, &a));
    CHECK(!mk_ipv4_net_overlaps(&a, &c));
    CHECK(mk_ipv4_net_overlaps(&all, &c));
    CHECK(mk_ipv4_net_overlaps(&host, &b));
    CHECK(!mk_ipv4_net_overlaps(&host, &c));
    CHECK_INT(mk_ipv4_mask(0), 0);
    CHECK_INT(mk_ipv4_mask(20), 0xfffff000u);
    CHECK_INT(mk_ipv4_mask(32), 0xffffffffu);
}

static void test_alloc(void)
{
    struct mk_ipv4_net n = {ip("172.18.0.0"), 16};
    uint32_t gw = mk_ipam_gateway(&n), a;
    CHECK_INT(gw, ip("172.18.0.1"));
    CHECK(mk_ipam_alloc(&n, gw, NULL, 0, &a, NULL) == 0);
    CHECK_INT(a, ip("172.18.0.2"));

    /* The lowest gap, whatever the order of the taken list; duplicates and strays are harmless. */
    uint32_t taken[] = {ip("172.18.0.4"), ip("172.18.0.2"), ip("10.0.0.3"),
                        ip("172.18.0.3"), ip("172.18.0.2"), ip("172.18.0.6")};
    CHECK(mk_ipam_alloc(&n, gw, taken, 6, &a, NULL) == 0);
    CHECK_INT(a, ip("172.18.0.5"));

    /* A gateway elsewhere than the first host: the first host is given out. */
    CHECK(mk_ipam_alloc(&n, ip("172.18.0.254"), NULL, 0, &a, NULL) == 0);
    CHECK_INT(a, ip("172.18.0.1"));

    /* /30: two hosts, one the gateway. */
    struct mk_ipv4_net small = {ip("10.9.9.4"), 30};
    gw = mk_ipam_gateway(&small);
    CHECK(mk_ipam_alloc(&small, gw, NULL, 0, &a, NULL) == 0);
    CHECK_INT(a, ip("10.9.9.6"));
    _cleanup_err_ mk_err *e = NULL;
    CHECK(mk_ipam_alloc(&small, gw, &a, 1, &a, &e) < 0);
    CHECK_INT(e->kind, MK_ERR_CONFLICT);
    CHECK_STR(e->msg, "no available IPv4 addresses in subnet 10.9.9.4/30");
    struct mk_ipv4_net tiny = {ip("10.9.9.4"), 31};
    CHECK(mk_ipam_alloc(&tiny, ip("10.9.9.4"), NULL, 0, &a, NULL) < 0);

    /* The top of the address space: no wrap-around past the broadcast. */
    struct mk_ipv4_net top = {ip("255.255.255.248"), 29};
    uint32_t full[] = {ip("255.255.255.250"), ip("255.255.255.251"), ip("255.255.255.252"),
                       ip("255.255.255.253"), ip("255.255.255.254")};
    CHECK(mk_ipam_alloc(&top, mk_ipam_gateway(&top), full, 4, &a, NULL) == 0);
    CHECK_INT(a, ip("255.255.255.254"));
    CHECK(mk_ipam_alloc(&top, mk_ipam_gateway(&top), full, 5, &a, NULL) < 0);
}

static void test_alloc_many(void)
{
    /* 50 containers on one /24 get 50 distinct addresses, in order. */
    struct mk_ipv4_net n = {ip("192.168.16.0"), 24};
    uint32_t gw = mk_ipam_gateway(&n), taken[300];
    size_t k = 0;
    for (; k < 253; k++) {
        if (mk_ipam_alloc(&n, gw, taken, k, &taken[k], NULL) < 0)
            FAIL_AT("allocation %zu failed", k);
        CHECK_INT(taken[k], ip("192.168.16.2") + k);
    }
    CHECK(mk_ipam_alloc(&n, gw, taken, k, &taken[k], NULL) < 0);
}

static void test_check(void)
{
    struct mk_ipv4_net n = {ip("10.5.0.0"), 24};
    uint32_t gw = mk_ipam_gateway(&n), taken[] = {ip("10.5.0.7")};
    CHECK(mk_ipam_check(&n, gw, taken, 1, ip("10.5.0.8"), NULL) == 0);
    struct {
        const char *ip;
        enum mk_err_kind kind;
    } bad[] = {{"10.5.0.0", MK_ERR_INVALID},
               {"10.5.0.255", MK_ERR_INVALID},
               {"10.5.0.1", MK_ERR_CONFLICT},
               {"10.5.0.7", MK_ERR_CONFLICT},
               {"10.5.1.2", MK_ERR_INVALID}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        _cleanup_err_ mk_err *e = NULL;
        if (mk_ipam_check(&n, gw, taken, 1, ip(bad[i].ip), &e) == 0)
            FAIL_AT("accepted %s", bad[i].ip);
        CHECK_INT(e->kind, bad[i].kind);
    }
    _cleanup_err_ mk_err *e = NULL;
    mk_ipam_check(&n, gw, taken, 1, ip("10.5.1.2"), &e);
    CHECK_STR(e->msg,
              "invalid address 10.5.1.2: it does not belong to any of this network's subnets");
}

static void test_routes_and_pick(void)
{
    char path[] = "/tmp/mk-test-route-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    /* As the kernel prints it on a little-endian host: the default route, the
     * LAN 192.0.2.0/24, and docker's 172.17.0.0/16 plus a user network on 172.18. */
    const char *route =
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
        "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
        "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
        "br-1\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n";
    CHECK(mk_write_all(fd, route, strlen(route)) == 0);
    close(fd);
    _cleanup_free_ struct mk_ipv4_net *r = NULL;
    size_t n = 0;
    int rc = mk_ipam_read_routes(path, &r, &n, NULL);
    unlink(path);
    CHECK(rc == 0);
    CHECK_INT(n, 3);
    _cleanup_free_ char *s0 = mk_ipv4_net_str(&r[0]), *s1 = mk_ipv4_net_str(&r[1]);
    CHECK_STR(s0, "192.0.2.0/24");
    CHECK_STR(s1, "172.17.0.0/16");

    struct mk_ipv4_net pick;
    CHECK(mk_ipam_pick_subnet(r, n, &pick, NULL) == 0);
    _cleanup_free_ char *ps = mk_ipv4_net_str(&pick);
    CHECK_STR(ps, "172.19.0.0/16");
    CHECK(mk_ipam_pick_subnet(NULL, 0, &pick, NULL) == 0);
    CHECK_INT(pick.addr, ip("172.18.0.0"));

    /* A host route covering all of 172.16/12 sends the choice to 192.168.x.0/20. */
    struct mk_ipv4_net used[] = {{ip("172.16.0.0"), 12}, {ip("192.168.0.0"), 19}};
    CHECK(mk_ipam_pick_subnet(used, 2, &pick, NULL) == 0);
    _cleanup_free_ char *ps2 = mk_ipv4_net_str(&pick);
    CHECK_STR(ps2, "192.168.32.0/20");
    struct mk_ipv4_net everything[] = {{ip("172.0.0.0"), 8}, {ip("192.168.0.0"), 16}};
    _cleanup_err_ mk_err *e = NULL;
    CHECK(mk_ipam_pick_subnet(everything, 2, &pick, &e) < 0);
    CHECK_INT(e->kind, MK_ERR_CONFLICT);

    /* The real file parses, whatever is in it. */
    _cleanup_free_ struct mk_ipv4_net *real = NULL;
    CHECK(mk_ipam_read_routes("/proc/net/route", &real, &n, NULL) == 0);
    CHECK(mk_ipam_read_routes("/nonexistent/route", &real, &n, NULL) < 0);
}

int main(void)
{
    RUN(test_parse);
    RUN(test_cidr);
    RUN(test_contains_overlaps);
    RUN(test_alloc);
    RUN(test_alloc_many);
    RUN(test_check);
    RUN(test_routes_and_pick);
    return tap_done();
}
