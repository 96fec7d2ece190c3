/* test_firewall.c: mocker's nftables rules against the real kernel, in a
 * private network namespace (the host's ruleset is never touched; as root,
 * skipped otherwise).
 *
 * The test process unshares its network namespace and plays the host: three
 * bridge networks A, B and I (internal), "containers" in namespaces of their
 * own on veths, and an "outside" namespace on a veth whose host end carries
 * the host's address 192.0.2.1.  Each namespace is a child process (an agent)
 * that starts TCP and UDP servers answering with the address they see the
 * client as, and makes connections on request.  So each check is a real
 * packet: masquerade shows as the source the outside sees, isolation as a
 * connection that does not happen.  Prints what the calls cost. */
#include "network/network.h"
#include "network/nftables.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const uint32_t host_ip = IP(192, 0, 2, 1), outside_ip = IP(192, 0, 2, 2);
static int nl = -1;
static mk_err *e;

#define OK(call) CHECK_MK_OK(e, call)

static double ms_since(int64_t t0)
{
    return (double)(mk_monotonic_ns() - t0) / 1e6;
}

/* ---- clients and servers (in any namespace) ---- */

static const char *ipstr(uint32_t ip)
{
    static char b[4][16];
    static int i;
    return mk_ipv4_str(ip, b[i++ & 3]);
}

/* Connect, read what the server says ("the address I see you as"); "" if the
 * connection does not happen within timeout_ms. */
static void tcp_query(uint32_t ip, uint16_t port, int timeout_ms, char out[32])
{
    out[0] = '\0';
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
    _cleanup_close_ int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
        return;
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) != 1)
        return;
    ssize_t n = read(s, out, 31);
    out[n > 0 ? n : 0] = '\0';
}

static void udp_query(uint32_t ip, uint16_t port, int timeout_ms, char out[32])
{
    out[0] = '\0';
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
    _cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sendto(s, "?", 1, 0, (struct sockaddr *)&sa, sizeof(sa)) != 1)
        return;
    struct pollfd p = {.fd = s, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) != 1)
        return;
    ssize_t n = recv(s, out, 31, 0);
    out[n > 0 ? n : 0] = '\0';
}

/* A server process that answers each client with its address; dies with its
 * parent. */
static int serve(bool udp, uint16_t port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    int s = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || (!udp && listen(s, 16) < 0)) {
        close(s);
        return -1;
    }
    pid_t pid = fork();
    if (pid != 0) {
        close(s);
        return pid < 0 ? -1 : 0;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;) {
        struct sockaddr_in peer;
        socklen_t pl = sizeof(peer);
        char buf[64];
        if (udp) {
            if (recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &pl) < 0)
                continue;
            const char *a = inet_ntoa(peer.sin_addr);
            sendto(s, a, strlen(a), 0, (struct sockaddr *)&peer, pl);
        } else {
            int c = accept4(s, (struct sockaddr *)&peer, &pl, SOCK_CLOEXEC);
            if (c < 0)
                continue;
            const char *a = inet_ntoa(peer.sin_addr);
            if (write(c, a, strlen(a)) < 0)
                _exit(1);
            close(c);
        }
    }
}

/* ---- agents: one process per namespace ---- */

struct req {
    char op; /* T/U: serve tcp/udp on port; t/u: query ip:port */
    uint32_t ip;
    uint16_t port;
    int timeout_ms;
};

struct agent {
    pid_t pid;
    int sock;
    int nsfd;
};

static void agent_main(int sock)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (unshare(CLONE_NEWNET) < 0)
        _exit(2);
    char ready = 'r';
    if (write(sock, &ready, 1) != 1)
        _exit(2);
    struct req r;
    while (read(sock, &r, sizeof(r)) == sizeof(r)) {
        char out[32] = "";
        if (r.op == 'T' || r.op == 'U')
            snprintf(out, sizeof(out), "%s", serve(r.op == 'U', r.port) == 0 ? "ok" : "fail");
        else if (r.op == 't')
            tcp_query(r.ip, r.port, r.timeout_ms, out);
        else if (r.op == 'u')
            udp_query(r.ip, r.port, r.timeout_ms, out);
        if (write(sock, out, sizeof(out)) != sizeof(out))
            _exit(2);
    }
    _exit(0);
}

static int agent_start(struct agent *a)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return -1;
    a->pid = fork();
    if (a->pid == 0) {
        close(sv[0]);
        agent_main(sv[1]);
    }
    close(sv[1]);
    a->sock = sv[0];
    char c;
    if (a->pid < 0 || read(a->sock, &c, 1) != 1)
        return -1;
    _cleanup_free_ char *p = xasprintf("/proc/%d/ns/net", (int)a->pid);
    a->nsfd = open(p, O_RDONLY | O_CLOEXEC);
    return a->nsfd;
}

static void agent_stop(struct agent *a)
{
    if (a->pid > 0) {
        close(a->sock);
        close(a->nsfd);
        kill(a->pid, SIGKILL);
        waitpid(a->pid, NULL, 0);
        a->pid = 0;
    }
}

/* What the agent's request answered ("" for no answer), in a static buffer. */
static const char *agent_ask(struct agent *a, char op, uint32_t ip, uint16_t port, int timeout_ms)
{
    static char out[4][32];
    static int i;
    char *o = out[i++ & 3];
    struct req r = {op, ip, port, timeout_ms};
    if (write(a->sock, &r, sizeof(r)) != sizeof(r) || read(a->sock, o, 32) != 32)
        snprintf(o, 32, "agent failed");
    return o;
}

/* Plug an agent into the host: a veth (host end hname, eth0 inside) with
 * addr/24 inside; on bridge br if given; a default route via gw if given. */
static int plug(struct agent *a, const char *hname, const char *br, uint32_t addr, uint32_t gw)
{
    _cleanup_close_ int ns = -1;
    if (mk_nl_veth_add(nl, hname, "eth0", a->nsfd, &e) < 0 ||
        (br && mk_nl_link_set_master(nl, hname, br, &e) < 0) ||
        mk_nl_link_set_up(nl, hname, &e) < 0 || (ns = mk_nl_open_netns(a->nsfd, &e)) < 0 ||
        mk_nl_addr_add(ns, "eth0", (struct in_addr){htonl(addr)}, 24, &e) < 0 ||
        mk_nl_link_set_up(ns, "lo", &e) < 0 || mk_nl_link_set_up(ns, "eth0", &e) < 0 ||
        (gw && mk_nl_route_add_default(ns, (struct in_addr){htonl(gw)}, &e) < 0))
        return -1;
    return 0;
}

static int bridge(const char *name, uint32_t gw)
{
    if (mk_nl_bridge_add(nl, name, &e) < 0 ||
        mk_nl_addr_add(nl, name, (struct in_addr){htonl(gw)}, 24, &e) < 0 ||
        mk_nl_link_set_up(nl, name, &e) < 0)
        return -1;
    return 0;
}

/* ---- the ruleset, read with libnftables itself ---- */

static char *nft(const char *cmd)
{
    static struct nft_ctx *ctx;
    if (ctx == NULL) {
        ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        nft_ctx_buffer_output(ctx);
        nft_ctx_buffer_error(ctx);
    }
    int r = nft_run_cmd_from_buffer(ctx, cmd);
    const char *out = nft_ctx_get_output_buffer(ctx);
    nft_ctx_get_error_buffer(ctx); /* emptied for the next command */
    if (r != 0)
        return NULL;
    return xstrdup(out);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* How many times needle is in `nft list table ip mocker`; -1 without a table. */
static int in_table(const char *needle)
{
    _cleanup_free_ char *t = nft("list table ip mocker");
    return t ? count(t, needle) : -1;
}

static bool table_exists(void)
{
    return in_table("table ip mocker") == 1;
}

/* ---- the scenario ---- */

static struct agent outside, a1, a2, b1, i1;
static const struct mk_fw_network net_a = {"aaaa", "mkt-a", {IP(10, 201, 0, 0), 24}, false};
static const struct mk_fw_network net_b = {"bbbb", "mkt-b", {IP(10, 202, 0, 0), 24}, false};
static const struct mk_fw_network net_i = {"iiii", "mkt-i", {IP(10, 203, 0, 0), 24}, true};
static const uint32_t a1_ip = IP(10, 201, 0, 2), a2_ip = IP(10, 201, 0, 3),
                      b1_ip = IP(10, 202, 0, 2), i1_ip = IP(10, 203, 0, 2);

static void test_topology(void)
{
    OK(mk_nl_link_set_up(nl, "lo", &e));
    CHECK(agent_start(&outside) >= 0 && agent_start(&a1) >= 0 && agent_start(&a2) >= 0 &&
          agent_start(&b1) >= 0 && agent_start(&i1) >= 0);
    /* The outside routes everything to the host: what the rules let through
     * is what arrives. */
    OK(plug(&outside, "mkt-up", NULL, outside_ip, host_ip));
    OK(mk_nl_addr_add(nl, "mkt-up", (struct in_addr){htonl(host_ip)}, 24, &e));
    OK(bridge("mkt-a", IP(10, 201, 0, 1)));
    OK(bridge("mkt-b", IP(10, 202, 0, 1)));
    OK(bridge("mkt-i", IP(10, 203, 0, 1)));
    OK(plug(&a1, "mkt-a1", "mkt-a", a1_ip, IP(10, 201, 0, 1)));
    OK(plug(&a2, "mkt-a2", "mkt-a", a2_ip, IP(10, 201, 0, 1)));
    OK(plug(&b1, "mkt-b1", "mkt-b", b1_ip, IP(10, 202, 0, 1)));
    /* A default route even on the internal network: the rules must stop it. */
    OK(plug(&i1, "mkt-i1", "mkt-i", i1_ip, IP(10, 203, 0, 1)));
    CHECK_STR(agent_ask(&outside, 'T', 0, 7000, 0), "ok");
    CHECK_STR(agent_ask(&a1, 'T', 0, 80, 0), "ok");
    CHECK_STR(agent_ask(&a1, 'U', 0, 5353, 0), "ok");
    CHECK_STR(agent_ask(&b1, 'T', 0, 80, 0), "ok");
    CHECK_STR(agent_ask(&i1, 'T', 0, 80, 0), "ok");
    CHECK(!table_exists());
}

static double t_net_first, t_net_next, t_net_again;

static void test_network_add(void)
{
    int64_t t = mk_monotonic_ns();
    OK(mk_fw_network_add(&net_a, &e));
    t_net_first = ms_since(t);
    t = mk_monotonic_ns();
    OK(mk_fw_network_add(&net_b, &e));
    t_net_next = ms_since(t);
    OK(mk_fw_network_add(&net_i, &e));
    t = mk_monotonic_ns();
    OK(mk_fw_network_add(&net_a, &e));
    t_net_again = ms_since(t);
    /* Twice changes nothing: one bridge element and four rules per network
     * (same-bridge accept, masquerade, hairpin), three for internal. */
    CHECK_INT(in_table("comment \"net:aaaa\""), 4);
    CHECK_INT(in_table("comment \"net:iiii\""), 4);
    CHECK_INT(in_table("masquerade"), 5);
    _cleanup_strv_ char **owners = NULL;
    OK(mk_fw_owners(&owners, &e));
    _cleanup_free_ char *all = mk_strv_join(owners, ",");
    CHECK_STR(all, "net:aaaa,net:bbbb,net:iiii");
    _cleanup_free_ char *rl = NULL;
    size_t n;
    OK(mk_read_file("/proc/sys/net/ipv4/conf/mkt-a/route_localnet", &rl, &n, &e));
    CHECK(rl[0] == '1');
}

static void test_bad_input(void)
{
    _cleanup_err_ mk_err *x = NULL;
    struct mk_fw_network n = net_a;
    n.bridge = "br\" accept";
    CHECK(mk_fw_network_add(&n, &x) < 0 && x->kind == MK_ERR_INVALID);
    mk_err_clear(&x);
    n = net_a;
    n.id = "a b";
    CHECK(mk_fw_network_add(&n, &x) < 0 && x->kind == MK_ERR_INVALID);
    mk_err_clear(&x);
    n = net_a;
    n.subnet.addr |= 1; /* host bits */
    CHECK(mk_fw_network_add(&n, &x) < 0 && x->kind == MK_ERR_INVALID);
    mk_err_clear(&x);
    n = net_a;
    n.bridge = "mkt-nosuch";
    CHECK(mk_fw_network_add(&n, &x) < 0 && x->kind == MK_ERR_NOT_FOUND);
    mk_err_clear(&x);
    struct mk_fw_port p = {MK_FW_TCP, 0, 0, a1_ip, 80};
    CHECK(mk_fw_ports_add("c1", &p, 1, &x) < 0 && x->kind == MK_ERR_INVALID);
    mk_err_clear(&x);
    CHECK(mk_fw_ports_remove("../x", &x) < 0 && x->kind == MK_ERR_INVALID);
}

static void test_outbound(void)
{
    /* The outside sees the host's address: masqueraded. */
    CHECK_STR(agent_ask(&a1, 't', outside_ip, 7000, 2000), ipstr(host_ip));
    CHECK_STR(agent_ask(&b1, 't', outside_ip, 7000, 2000), ipstr(host_ip));
}

static void test_isolation(void)
{
    /* Same network: fine. */
    CHECK_STR(agent_ask(&a2, 't', a1_ip, 80, 2000), ipstr(a2_ip));
    /* Across networks, both ways: nothing. */
    CHECK_STR(agent_ask(&b1, 't', a1_ip, 80, 300), "");
    CHECK_STR(agent_ask(&a1, 't', b1_ip, 80, 300), "");
    /* From outside straight to a container's address: nothing. */
    CHECK_STR(agent_ask(&outside, 't', a1_ip, 80, 300), "");
}

static void test_internal(void)
{
    CHECK_STR(agent_ask(&i1, 't', outside_ip, 7000, 300), "");
    CHECK_STR(agent_ask(&i1, 't', a1_ip, 80, 300), "");
    CHECK_STR(agent_ask(&a1, 't', i1_ip, 80, 300), "");
    /* The internal network's own gateway (the host) still answers the host's
     * own services, and the host reaches the container. */
    char out[32];
    tcp_query(i1_ip, 80, 2000, out);
    CHECK_STR(out, "10.203.0.1");
}

static double t_port_add, t_port_again, t_range_add, t_ports_rm;

static void test_published(void)
{
    struct mk_fw_port p[] = {
        {MK_FW_TCP, 0, 18080, a1_ip, 80},
        {MK_FW_UDP, 0, 15353, a1_ip, 5353},
        {MK_FW_TCP, IP(127, 0, 0, 1), 18081, a1_ip, 80},
    };
    int64_t t = mk_monotonic_ns();
    OK(mk_fw_ports_add("c1", p, 3, &e));
    t_port_add = ms_since(t);
    t = mk_monotonic_ns();
    OK(mk_fw_ports_add("c1", p, 3, &e));
    t_port_again = ms_since(t);
    CHECK_INT(in_table("comment \"ctr:c1\""), 3);

    char out[32];
    /* From the host: on 127.0.0.1 (masqueraded to the bridge's address) and
     * on its own address (seen as that address). */
    tcp_query(IP(127, 0, 0, 1), 18080, 2000, out);
    CHECK_STR(out, "10.201.0.1");
    tcp_query(host_ip, 18080, 2000, out);
    CHECK_STR(out, ipstr(host_ip));
    udp_query(IP(127, 0, 0, 1), 15353, 2000, out);
    CHECK_STR(out, "10.201.0.1");
    /* From outside: the client's own address, as docker keeps it. */
    CHECK_STR(agent_ask(&outside, 't', host_ip, 18080, 2000), ipstr(outside_ip));
    CHECK_STR(agent_ask(&outside, 'u', host_ip, 15353, 2000), ipstr(outside_ip));
    /* From a container on the same network (hairpin) and on another one. */
    CHECK_STR(agent_ask(&a2, 't', host_ip, 18080, 2000), "10.201.0.1");
    CHECK_STR(agent_ask(&a2, 't', IP(10, 201, 0, 1), 18080, 2000), "10.201.0.1");
    CHECK_STR(agent_ask(&b1, 't', host_ip, 18080, 2000), "10.201.0.1");
    /* One address only: 127.0.0.1:18081 answers, the host's address does not. */
    tcp_query(IP(127, 0, 0, 1), 18081, 2000, out);
    CHECK_STR(out, "10.201.0.1");
    CHECK_STR(agent_ask(&outside, 't', host_ip, 18081, 300), "");
    /* The internal network's container is not reachable through a port. */
    struct mk_fw_port pi = {MK_FW_TCP, 0, 18082, i1_ip, 80};
    OK(mk_fw_ports_add("ci", &pi, 1, &e));
    CHECK_STR(agent_ask(&outside, 't', host_ip, 18082, 300), "");
    OK(mk_fw_ports_remove("ci", &e));

    /* A range, one element per port. */
    struct mk_fw_port r[11];
    for (int i = 0; i < 11; i++)
        r[i] = (struct mk_fw_port){MK_FW_TCP, 0, (uint16_t)(18100 + i), a2_ip, (uint16_t)(80 + i)};
    CHECK_STR(agent_ask(&a2, 'T', 0, 85, 0), "ok");
    t = mk_monotonic_ns();
    OK(mk_fw_ports_add("c2", r, 11, &e));
    t_range_add = ms_since(t);
    tcp_query(host_ip, 18105, 2000, out);
    CHECK_STR(out, ipstr(host_ip));
    t = mk_monotonic_ns();
    OK(mk_fw_ports_remove("c2", &e));
    t_ports_rm = ms_since(t);
    CHECK_INT(in_table("ctr:c2"), 0);
}

static void test_conflicts(void)
{
    _cleanup_err_ mk_err *x = NULL;
    struct mk_fw_port same = {MK_FW_TCP, 0, 18080, b1_ip, 80};
    CHECK(mk_fw_ports_add("c3", &same, 1, &x) < 0);
    CHECK(x && x->kind == MK_ERR_CONFLICT);
    CHECK_STR(x ? x->msg : NULL, "Bind for 0.0.0.0:18080 failed: port is already allocated");
    mk_err_clear(&x);
    /* One address of a port taken on all, and all of one taken on one. */
    struct mk_fw_port one = {MK_FW_TCP, host_ip, 18080, b1_ip, 80};
    CHECK(mk_fw_ports_add("c3", &one, 1, &x) < 0 && x->kind == MK_ERR_CONFLICT);
    mk_err_clear(&x);
    struct mk_fw_port all = {MK_FW_TCP, 0, 18081, b1_ip, 80};
    CHECK(mk_fw_ports_add("c3", &all, 1, &x) < 0 && x->kind == MK_ERR_CONFLICT);
    mk_err_clear(&x);
    /* All or nothing: a free port before a taken one is not left behind. */
    struct mk_fw_port two[] = {{MK_FW_TCP, 0, 18090, b1_ip, 80}, same};
    CHECK(mk_fw_ports_add("c3", two, 2, &x) < 0 && x->kind == MK_ERR_CONFLICT);
    CHECK_INT(in_table("ctr:c3"), 0);
    /* The other protocol on the same number is another port. */
    struct mk_fw_port udp = {MK_FW_UDP, 0, 18080, b1_ip, 80};
    OK(mk_fw_ports_add("c3", &udp, 1, &e));
    /* The same container with a new address: its mapping is replaced. */
    udp.ctr_ip = IP(10, 202, 0, 9);
    OK(mk_fw_ports_add("c3", &udp, 1, &e));
    CHECK_INT(in_table("ctr:c3"), 1);
    CHECK_INT(in_table("10.202.0.9 . 80"), 1);
}

static void test_remove_by_owner(void)
{
    OK(mk_fw_ports_remove("c1", &e));
    CHECK_INT(in_table("ctr:c1"), 0);
    char out[32];
    tcp_query(IP(127, 0, 0, 1), 18080, 300, out);
    CHECK_STR(out, "");
    CHECK_STR(agent_ask(&outside, 't', host_ip, 18080, 300), "");
    /* Nothing of that owner: nothing to do, no error. */
    OK(mk_fw_ports_remove("c1", &e));
    /* Another container may take the port now. */
    struct mk_fw_port p = {MK_FW_TCP, 0, 18080, a1_ip, 80};
    OK(mk_fw_ports_add("c4", &p, 1, &e));
    tcp_query(host_ip, 18080, 2000, out);
    CHECK_STR(out, ipstr(host_ip));
}

static bool keep_listed(const char *owner, void *ctx)
{
    return mk_strv_contains(ctx, owner);
}

static void test_sweep(void)
{
    /* A crash left c3 and c4's ports and network B; the store knows only A,
     * I and c4. */
    char *keep[] = {"net:aaaa", "net:iiii", "ctr:c4", NULL};
    OK(mk_fw_sweep(keep_listed, keep, &e));
    _cleanup_strv_ char **owners = NULL;
    OK(mk_fw_owners(&owners, &e));
    _cleanup_free_ char *all = mk_strv_join(owners, ",");
    CHECK_STR(all, "ctr:c4,net:aaaa,net:iiii");
    CHECK_INT(in_table("mkt-b"), 0);
    /* B's containers are not masqueraded any more; A's still are. */
    CHECK_STR(agent_ask(&b1, 't', outside_ip, 7000, 2000), ipstr(b1_ip));
    CHECK_STR(agent_ask(&a1, 't', outside_ip, 7000, 2000), ipstr(host_ip));
    OK(mk_fw_network_add(&net_b, &e));
}

/* A bridge whose owner is gone (a crash, then a new network with the same
 * bridge name): the new network takes it over. */
static void test_stale_bridge_owner(void)
{
    struct mk_fw_network old = net_b;
    old.id = "oldb";
    OK(mk_fw_network_remove(net_b.id, &e));
    OK(mk_fw_network_add(&old, &e));
    OK(mk_fw_network_add(&net_b, &e));
    CHECK_INT(in_table("net:oldb"), 0);
    CHECK_INT(in_table("comment \"net:bbbb\""), 4);
    CHECK_STR(agent_ask(&b1, 't', outside_ip, 7000, 2000), ipstr(host_ip));
}

/* dockerd beside: iptables-nft's FORWARD drops by default and jumps to
 * DOCKER-USER first. */
static void test_docker_forward_drop(void)
{
    _cleanup_free_ char *r = nft("add table ip filter\n"
                                 "add chain ip filter DOCKER-USER\n"
                                 "add chain ip filter FORWARD { type filter hook forward priority "
                                 "filter; policy drop; }\n"
                                 "add rule ip filter FORWARD jump DOCKER-USER\n"
                                 "add rule ip filter DOCKER-USER return\n");
    CHECK(r != NULL);
    CHECK_STR(agent_ask(&a1, 't', outside_ip, 7000, 300), "");
    /* What a container start would do: the network again. */
    OK(mk_fw_network_add(&net_a, &e));
    OK(mk_fw_network_add(&net_a, &e));
    _cleanup_free_ char *chain = nft("list chain ip filter DOCKER-USER");
    CHECK_INT(count(chain, "comment \"mocker net:aaaa\""), 2);
    CHECK_STR(agent_ask(&a1, 't', outside_ip, 7000, 2000), ipstr(host_ip));
    CHECK_STR(agent_ask(&outside, 't', host_ip, 18080, 2000), ipstr(outside_ip));
    /* Isolation still holds: our chain decides. */
    OK(mk_fw_network_add(&net_b, &e));
    CHECK_STR(agent_ask(&b1, 't', a1_ip, 80, 300), "");
    _cleanup_strv_ char **owners = NULL;
    OK(mk_fw_owners(&owners, &e));
    CHECK(mk_strv_contains(owners, "net:bbbb"));
    OK(mk_fw_network_remove("bbbb", &e));
    _cleanup_free_ char *after = nft("list chain ip filter DOCKER-USER");
    CHECK_INT(count(after, "mocker net:bbbb"), 0);
    CHECK_INT(count(after, "mocker net:aaaa"), 2);
}

/* This binary again in a mode of main(): a fresh process, libnftables not
 * loaded yet.  What it prints is passed on. */
static void run_self(const char *mode)
{
    _cleanup_free_ char *self = realpath("/proc/self/exe", NULL);
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[1], 1);
        execl(self, self, mode, NULL);
        _exit(127);
    }
    close(p[1]);
    char buf[256] = "";
    ssize_t n = mk_read_all(p[0], buf, sizeof(buf) - 1);
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    buf[n > 0 ? n : 0] = '\0';
    printf("%s", buf);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The fds without close-on-exec, as a bitmap of the first 1024. */
static void inheritable_fds(uint64_t set[16])
{
    memset(set, 0, 16 * sizeof(uint64_t));
    for (int fd = 0; fd < 1024; fd++) {
        int fl = fcntl(fd, F_GETFD);
        if (fl >= 0 && !(fl & FD_CLOEXEC))
            set[fd / 64] |= 1ull << (fd % 64);
    }
}

static int cold_main(void)
{
    struct mk_fw_port port = {MK_FW_TCP, 0, 18200, a1_ip, 80};
    uint64_t before[16], after[16];
    inheritable_fds(before);
    int64_t t = mk_monotonic_ns();
    if (mk_fw_ports_add("cold", &port, 1, &e) < 0) {
        printf("# %s\n", e->msg);
        return 1;
    }
    double add = ms_since(t);
    /* libnftables' netlink socket must not reach a container's exec. */
    inheritable_fds(after);
    if (memcmp(before, after, sizeof(before)) != 0) {
        printf("# the firewall left an fd without close-on-exec\n");
        return 1;
    }
    t = mk_monotonic_ns();
    if (mk_fw_ports_remove("cold", &e) < 0)
        return 1;
    double rm = ms_since(t);
    t = mk_monotonic_ns();
    if (mk_fw_ports_add("cold", &port, 1, &e) < 0 || mk_fw_ports_remove("cold", &e) < 0)
        return 1;
    double again = ms_since(t);
    printf("# in a new process: mk_fw_ports_add (1 port, loads libnftables) %.2f ms, "
           "mk_fw_ports_remove %.2f ms; both again %.2f ms\n",
           add, rm, again);
    return 0;
}

/* A process that prepared the firewall ahead: what the start path pays. */
static int prepared_main(void)
{
    struct mk_fw_port port = {MK_FW_TCP, 0, 18201, a1_ip, 80};
    int64_t t = mk_monotonic_ns();
    if (mk_fw_prepare(&e) < 0)
        return 1;
    double prep = ms_since(t);
    t = mk_monotonic_ns();
    if (mk_fw_ports_add("prep", &port, 1, &e) < 0)
        return 1;
    double add = ms_since(t);
    if (mk_fw_ports_remove("prep", &e) < 0)
        return 1;
    printf("# in a new process: mk_fw_prepare %.2f ms, then mk_fw_ports_add (1 port) %.2f ms\n",
           prep, add);
    return 0;
}

/* The start path's cost in a fresh process, with the library loaded on the
 * way or ahead. */
static void test_cold_process(void)
{
    run_self("cold");
    run_self("prepared");
}

static void test_last_network_removes_all(void)
{
    OK(mk_fw_network_remove("iiii", &e));
    CHECK(table_exists());
    int64_t t = mk_monotonic_ns();
    OK(mk_fw_network_remove("aaaa", &e));
    double rm = ms_since(t);
    CHECK(!table_exists());
    _cleanup_free_ char *chain = nft("list chain ip filter DOCKER-USER");
    CHECK_INT(count(chain, "mocker"), 0);
    _cleanup_strv_ char **owners = NULL;
    OK(mk_fw_owners(&owners, &e));
    CHECK_INT(mk_strv_len(owners), 0);
    OK(mk_fw_reset(&e)); /* nothing there: fine */
    printf("# mk_fw_network_add: %.2f ms first in the process (loads libnftables, makes the "
           "table), %.2f ms the next network, %.2f ms one that is there already; "
           "mk_fw_network_remove of the last: %.2f ms\n",
           t_net_first, t_net_next, t_net_again, rm);
    printf("# mk_fw_ports_add: %.2f ms for 3 ports, %.2f ms again (no-op), %.2f ms for a range "
           "of 11; mk_fw_ports_remove of 11: %.2f ms\n",
           t_port_add, t_port_again, t_range_add, t_ports_rm);
}

static void stop_all(void)
{
    agent_stop(&outside);
    agent_stop(&a1);
    agent_stop(&a2);
    agent_stop(&b1);
    agent_stop(&i1);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "cold") == 0)
        return cold_main();
    if (argc == 2 && strcmp(argv[1], "prepared") == 0)
        return prepared_main();
    if (geteuid() != 0) {
        printf("# skip: network namespaces and nftables need root\n");
        return tap_done();
    }
    /* Everything below happens in a namespace of the test's own. */
    if (unshare(CLONE_NEWNET) < 0 || (nl = mk_nl_open(&e)) < 0) {
        printf("# skip: cannot make a network namespace: %m\n");
        return tap_done();
    }
    RUN(test_topology);
    RUN(test_network_add);
    RUN(test_bad_input);
    RUN(test_outbound);
    RUN(test_isolation);
    RUN(test_internal);
    RUN(test_published);
    RUN(test_conflicts);
    RUN(test_remove_by_owner);
    RUN(test_sweep);
    RUN(test_stale_bridge_owner);
    RUN(test_docker_forward_drop);
    RUN(test_cold_process);
    RUN(test_last_network_removes_all);
    stop_all();
    return tap_done();
}
