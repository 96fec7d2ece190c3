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
/* No IPv6 address generation on a link that is still down (no link-local
 * address, so no IPv6 traffic at all). */
int mk_nl_link_set_no_ipv6(int nl, const char *name, mk_err **err);

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

/* ---- dns.c: the embedded DNS server of containers on user-defined networks ----
 *
 * Docker's 127.0.0.11: A records for the names the container side knows
 * (container names, aliases, short ids), every other query forwarded to the
 * upstream resolvers and their answer relayed.  It parses what a container
 * sends, so every length is checked and nothing it sends can crash it.
 *
 * The monitor holds one server per container.  The server's sockets (bound in
 * the container's namespace by mk_dns_listen) and everything it opens later
 * (upstream sockets, TCP clients) live in an epoll set of its own, so an event
 * loop watches one fd for EPOLLIN, calls mk_dns_server_process() when it is
 * readable or when mk_dns_server_timeout_ms() has passed, and never has to
 * track fds that come and go:
 *
 *     mk_dns_listen(netns_fd, MK_DNS_ADDR, 53, &udp, &tcp, &err);
 *     dns = mk_dns_server_new(udp, tcp, &cfg, &err);
 *     epoll_ctl(epfd, EPOLL_CTL_ADD, mk_dns_server_fd(dns), EPOLLIN -> its tag);
 *     each turn: timeout = min(own, mk_dns_server_timeout_ms(dns)); epoll_wait;
 *                mk_dns_server_process(dns) if its fd fired or the timeout passed
 *
 * (calling mk_dns_server_process more often is harmless).  The callbacks run
 * synchronously inside mk_dns_server_process. */

#define MK_DNS_ADDR          0x7f00000bu /* 127.0.0.11, host order */
#define MK_DNS_TTL           600         /* docker's embedded DNS answers with it */
#define MK_DNS_MAX_UPSTREAMS 3           /* glibc's MAXNS, docker's maxExtDNS */

enum {
    MK_DNS_TYPE_A = 1,
    MK_DNS_TYPE_PTR = 12,
    MK_DNS_TYPE_MX = 15,
    MK_DNS_TYPE_AAAA = 28,
    MK_DNS_TYPE_OPT = 41,
};
enum {
    MK_DNS_NOERROR = 0,
    MK_DNS_FORMERR = 1,
    MK_DNS_SERVFAIL = 2,
    MK_DNS_NXDOMAIN = 3,
    MK_DNS_NOTIMP = 4,
    MK_DNS_REFUSED = 5,
};

/* A message's header and its one question (a reply parses the same way). */
struct mk_dns_query {
    uint16_t id, flags, qtype, qclass;
    uint16_t udp_size; /* the EDNS0 payload size it offers, 0 without an OPT record */
    /* The question's name as sent (case kept: replies echo it), uncompressed. */
    uint8_t wire[255];
    size_t wire_len;
    /* The name in lower case without the trailing dot ("" for the root).  A byte
     * that is not printable, or a '.' or '\' inside a label, is written \DDD, so
     * the text never equals a name the wire form is not. */
    char name[1024];
};
/* Parse msg: at least a header, exactly one question; an OPT record among the
 * additional records is read if the rest of the message parses.  Compressed
 * names are followed only backwards, so a pointer loop ends.  INVALID on
 * anything malformed. */
int mk_dns_parse_query(const void *msg, size_t len, struct mk_dns_query *q, mk_err **err);

/* One answer record: an A (addr, host order) or a PTR (name, dotted, the final
 * dot optional).  The owner is always the question's name, the TTL MK_DNS_TTL. */
struct mk_dns_answer {
    uint16_t type;
    uint32_t addr;
    const char *name;
};
/* A reply to q in buf: q's id, opcode, RD and CD, RA set, the rcode, q's
 * question and as many of the n answers as fit in cap bytes (TC set when
 * some did not, as docker truncates).  Returns its length, 0 when not even
 * the question fits or a PTR name cannot be encoded. */
size_t mk_dns_build_reply(const struct mk_dns_query *q, int rcode, const struct mk_dns_answer *an,
                          size_t n, void *buf, size_t cap);

/* An upstream resolver: an IPv4 or IPv6 address and port. */
struct mk_dns_upstream {
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } addr;
    socklen_t len;
};
/* "1.2.3.4", "::1", "fe80::1%eth0" with port.  INVALID on anything else. */
int mk_dns_upstream_parse(const char *s, uint16_t port, struct mk_dns_upstream *out, mk_err **err);
/* The first MK_DNS_MAX_UPSTREAMS valid nameserver lines of a resolv.conf, port
 * 53 (invalid addresses skipped, as glibc does).  *n may be 0: docker then
 * falls back to 8.8.8.8 and 8.8.4.4, a decision left to the caller. */
int mk_dns_upstreams_from_resolv_conf(const char *path,
                                      struct mk_dns_upstream out[MK_DNS_MAX_UPSTREAMS], size_t *n,
                                      mk_err **err);

struct mk_dns_config {
    /* The IPv4 addresses (host order, at most max) of name: lower case, no
     * trailing dot, as it was asked ("web", "web.mynet", "3f2a1b0c9d8e");
     * 0 when the name is not one of the container's networks'. */
    int (*lookup)(void *ctx, const char *name, uint32_t *addrs, size_t max);
    /* Optional (NULL: PTR queries are forwarded): the name of addr (host order)
     * into buf, NUL-terminated; true if known. */
    bool (*reverse)(void *ctx, uint32_t addr, char *buf, size_t size);
    void *ctx;
    struct mk_dns_upstream upstreams[MK_DNS_MAX_UPSTREAMS];
    size_t nupstreams; /* 0: what is not answered locally gets SERVFAIL */
    /* The container set ndots explicitly (--dns-option ndots:N): an unknown
     * single-label name gets an empty answer instead of being forwarded, so the
     * client goes on with its search domains (docker does the same). */
    bool ndots_set;
    /* >= 0: upstreams that are not loopback addresses are reached from this
     * network namespace (docker dials them from the container's, so an
     * --internal network resolves nothing outside); loopback ones, such as
     * 127.0.0.53, always from the caller's.  -1: all from the caller's. */
    int upstream_netns_fd;
    int timeout_ms; /* per upstream tried; 0: docker's 4 s */
};

/* The server answering on udp_fd (a bound UDP socket) and tcp_fd (a listening
 * TCP socket, or -1), both taken over: closed by mk_dns_server_free, or here
 * on failure.  cfg is copied (upstream_netns_fd is not: it must stay open). */
struct mk_dns_server *mk_dns_server_new(int udp_fd, int tcp_fd, const struct mk_dns_config *cfg,
                                        mk_err **err);
/* The one fd to watch for EPOLLIN. */
int mk_dns_server_fd(const struct mk_dns_server *s);
/* Milliseconds until mk_dns_server_process has a timeout to handle (an
 * upstream that did not answer, an idle TCP client), -1 if none. */
int mk_dns_server_timeout_ms(const struct mk_dns_server *s);
/* Handle whatever is ready and whatever timed out; never blocks. */
void mk_dns_server_process(struct mk_dns_server *s);
void mk_dns_server_free(struct mk_dns_server *s);
/* A UDP socket and a listening TCP socket bound to addr:port (host order) in
 * the network namespace netns_fd (-1: the caller's), non-blocking.  Port 0
 * picks a free UDP port and the same one for TCP: docker listens on such a
 * port and DNATs 127.0.0.11:53 to it, which leaves port 53 of 0.0.0.0 to a
 * DNS server the container runs itself (a socket on 127.0.0.11:53 makes its
 * bind fail with EADDRINUSE). */
int mk_dns_listen(int netns_fd, uint32_t addr, uint16_t port, int *udp_fd, int *tcp_fd,
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
/* Inside the container's network namespace netns_fd: 127.0.0.11:53 (UDP and
 * TCP) redirected to port, where the embedded DNS server listens, as docker
 * does, so that port 53 stays free for a DNS server the container runs.  Its
 * own table there (ip mocker_dns), gone with the namespace. */
int mk_fw_dns_redirect(int netns_fd, uint16_t port, mk_err **err);

#endif
