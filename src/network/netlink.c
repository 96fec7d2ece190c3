/* netlink.c: links, addresses and routes over a raw rtnetlink socket.
 *
 * Why not `ip`: a fork+exec per step costs milliseconds and its error is text
 * on stderr; why not libnl/libmnl: the dozen requests mocker sends fit in a
 * small message builder, and neither library is on a stock host.  Every
 * request asks for an ACK, so the kernel's errno comes back as the answer to
 * that very request and becomes a docker-like message
 * ("failed to create bridge mocker0: File exists"). */
#include "network/network.h"

#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

/* One request: header, family header, attributes.  Nests never get deeper than
 * three levels (linkinfo, info_data, veth peer). */
struct nl_req {
    union {
        struct nlmsghdr hdr;
        char buf[1024];
    } u;
    struct rtattr *nest[8];
    int depth;
};

static void *req_init(struct nl_req *r, uint16_t type, uint16_t flags, size_t family_len)
{
    memset(r, 0, sizeof(*r));
    r->u.hdr.nlmsg_len = NLMSG_LENGTH(family_len);
    r->u.hdr.nlmsg_type = type;
    r->u.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    return NLMSG_DATA(&r->u.hdr);
}

/* The requests are fixed and small: overflowing the buffer is a bug here, not input. */
static void *req_reserve(struct nl_req *r, size_t len)
{
    size_t off = NLMSG_ALIGN(r->u.hdr.nlmsg_len);
    if (off + NLMSG_ALIGN(len) > sizeof(r->u.buf))
        abort();
    void *p = r->u.buf + off;
    memset(p, 0, NLMSG_ALIGN(len));
    r->u.hdr.nlmsg_len = (uint32_t)(off + len);
    return p;
}

static void req_attr(struct nl_req *r, unsigned short type, const void *data, size_t len)
{
    struct rtattr *a = req_reserve(r, RTA_LENGTH(len));
    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len > 0)
        memcpy(RTA_DATA(a), data, len);
}

static void req_str(struct nl_req *r, unsigned short type, const char *s)
{
    req_attr(r, type, s, strlen(s) + 1);
}

static void req_u32(struct nl_req *r, unsigned short type, uint32_t v)
{
    req_attr(r, type, &v, sizeof(v));
}

static void nest_begin(struct nl_req *r, unsigned short type)
{
    /* Fixed requests: nesting deeper than the array is a bug here. */
    if (r->depth >= (int)(sizeof(r->nest) / sizeof(r->nest[0])))
        abort();
    r->nest[r->depth++] = req_reserve(r, RTA_LENGTH(0));
    r->nest[r->depth - 1]->rta_type = type;
}

static void nest_end(struct nl_req *r)
{
    struct rtattr *a = r->nest[--r->depth];
    a->rta_len = (unsigned short)((char *)&r->u.buf[r->u.hdr.nlmsg_len] - (char *)a);
}

/* Called for every reply message other than the final ACK / DONE. */
typedef void (*nl_reply_fn)(const struct nlmsghdr *h, void *data);

/* Send r and read until its ACK (or, for a dump, NLMSG_DONE).  Returns 0 or a
 * negative errno from the kernel; -errno of send/recv on a socket failure. */
static int nl_talk(int nl, struct nl_req *r, nl_reply_fn fn, void *data)
{
    static uint32_t seq;
    uint32_t my_seq = __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED);
    r->u.hdr.nlmsg_seq = my_seq;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(nl, r->u.buf, r->u.hdr.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
        return -errno;
    /* A dump's replies come in several datagrams; 32 KiB holds any one of them. */
    _cleanup_free_ char *buf = xmalloc(32768);
    for (;;) {
        ssize_t n = recv(nl, buf, 32768, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        int left = (int)n; /* signed: NLMSG_OK's own guard needs it */
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
             h = NLMSG_NEXT(h, left)) {
            /* Replies to an earlier request that gave up (an error mid-dump) are skipped. */
            if (h->nlmsg_seq != my_seq)
                continue;
            if (h->nlmsg_type == NLMSG_DONE)
                return 0;
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);
                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
                    return -EBADMSG;
                /* A dump ends with DONE; its ACK (error 0) may come before. */
                if (e->error == 0 && (r->u.hdr.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP)
                    continue;
                return e->error;
            }
            if (fn != NULL)
                fn(h, data);
        }
    }
}

static int nl_socket(mk_err **err)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0)
        return mk_err_sys(err, "open netlink socket");
    /* Get a reply to a request even when the kernel drops unsolicited messages. */
    int one = 1;
    (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
    return fd;
}

int mk_nl_open(mk_err **err)
{
    return nl_socket(err);
}

struct netns_open {
    int netns_fd, fd, errnum;
};

static void *netns_open_thread(void *arg)
{
    struct netns_open *o = arg;
    /* setns moves only this thread, which ends right after: the socket keeps the namespace. */
    if (setns(o->netns_fd, CLONE_NEWNET) < 0) {
        o->errnum = errno;
        return NULL;
    }
    o->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (o->fd < 0)
        o->errnum = errno;
    return NULL;
}

int mk_nl_open_netns(int netns_fd, mk_err **err)
{
    struct netns_open o = {.netns_fd = netns_fd, .fd = -1};
    pthread_t t;
    int rc = pthread_create(&t, NULL, netns_open_thread, &o);
    if (rc != 0)
        return mk_err_errno(err, rc, "open netlink socket in network namespace: create thread");
    pthread_join(t, NULL);
    if (o.fd < 0)
        return mk_err_errno(err, o.errnum, "open netlink socket in network namespace");
    int one = 1;
    (void)setsockopt(o.fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
    return o.fd;
}

/* mk_err from a negative errno the kernel answered. */
static int nl_fail(mk_err **err, int rc, const char *what, const char *name)
{
    if (rc == -ENODEV)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "%s %s: no such network interface", what, name);
    return mk_err_errno(err, -rc, "%s %s", what, name);
}

static int name_ok(const char *name, mk_err **err)
{
    if (name == NULL || name[0] == '\0' || strlen(name) >= IFNAMSIZ || strchr(name, '/') ||
        strcspn(name, " \t\n:") != strlen(name))
        return mk_err_set(err, MK_ERR_INVALID, "invalid network interface name \"%s\"",
                          name ? name : "");
    return 0;
}

/* RTM_NEWLINK creating name of the given kind; IFLA_LINKINFO is left open. */
static void new_link_req(struct nl_req *r, const char *name, const char *kind)
{
    req_init(r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
    req_str(r, IFLA_IFNAME, name);
    nest_begin(r, IFLA_LINKINFO);
    req_str(r, IFLA_INFO_KIND, kind);
}

int mk_nl_bridge_add(int nl, const char *name, mk_err **err)
{
    if (name_ok(name, err) < 0)
        return -1;
    struct nl_req r;
    new_link_req(&r, name, "bridge");
    nest_end(&r);
    int rc = nl_talk(nl, &r, NULL, NULL);
    return rc < 0 ? nl_fail(err, rc, "failed to create bridge", name) : 0;
}

int mk_nl_veth_add(int nl, const char *host_name, const char *peer_name, int netns_fd, mk_err **err)
{
    struct mk_nl_veth v = {.name = host_name, .peer_name = peer_name, .peer_netns_fd = netns_fd};
    return mk_nl_veth_create(nl, &v, err);
}

int mk_nl_veth_create(int nl, const struct mk_nl_veth *v, mk_err **err)
{
    if (name_ok(v->name, err) < 0 || name_ok(v->peer_name, err) < 0)
        return -1;
    struct nl_req r;
    struct ifinfomsg *ifi = req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(*ifi));
    if (v->up) {
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
    }
    req_str(&r, IFLA_IFNAME, v->name);
    if (v->master_index > 0)
        req_u32(&r, IFLA_MASTER, (uint32_t)v->master_index);
    if (v->mtu > 0) {
        req_u32(&r, IFLA_MTU, (uint32_t)v->mtu);
    }
    nest_begin(&r, IFLA_LINKINFO);
    req_str(&r, IFLA_INFO_KIND, "veth");
    nest_begin(&r, IFLA_INFO_DATA);
    nest_begin(&r, VETH_INFO_PEER);
    /* The peer's attributes follow its own ifinfomsg inside the nest. */
    /* Not the peer's flags: the kernel opens the peer before the pair is
     * linked, and a veth refuses to go up without its peer (ENOTCONN). */
    req_reserve(&r, sizeof(struct ifinfomsg));
    req_str(&r, IFLA_IFNAME, v->peer_name);
    if (v->peer_netns_fd >= 0)
        req_u32(&r, IFLA_NET_NS_FD, (uint32_t)v->peer_netns_fd);
    if (v->peer_mac != NULL)
        req_attr(&r, IFLA_ADDRESS, v->peer_mac, 6);
    if (v->mtu > 0)
        req_u32(&r, IFLA_MTU, (uint32_t)v->mtu);
    nest_end(&r);
    nest_end(&r);
    nest_end(&r);
    int rc = nl_talk(nl, &r, NULL, NULL);
    if (rc < 0)
        return mk_err_errno(err, -rc,
                            "failed to add the host (%s) <=> sandbox (%s) pair interfaces",
                            v->name, v->peer_name);
    return 0;
}

/* An RTM_NEWLINK/DELLINK request addressed by name. */
static struct ifinfomsg *link_req(struct nl_req *r, uint16_t type, const char *name)
{
    struct ifinfomsg *ifi = req_init(r, type, 0, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    req_str(r, IFLA_IFNAME, name);
    return ifi;
}

int mk_nl_link_del(int nl, const char *name, mk_err **err)
{
    if (name_ok(name, err) < 0)
        return -1;
    struct nl_req r;
    link_req(&r, RTM_DELLINK, name);
    int rc = nl_talk(nl, &r, NULL, NULL);
    return rc < 0 ? nl_fail(err, rc, "failed to delete interface", name) : 0;
}

int mk_nl_link_set_up(int nl, const char *name, mk_err **err)
{
    if (name_ok(name, err) < 0)
        return -1;
    struct nl_req r;
    struct ifinfomsg *ifi = link_req(&r, RTM_NEWLINK, name);
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    int rc = nl_talk(nl, &r, NULL, NULL);
    return rc < 0 ? nl_fail(err, rc, "failed to set link up", name) : 0;
}

int mk_nl_link_set_master(int nl, const char *name, const char *master, mk_err **err)
{
    struct mk_nl_link m;
    if (name_ok(name, err) < 0 || mk_nl_link_get(nl, master, &m, err) < 0)
        return -1;
    struct nl_req r;
    link_req(&r, RTM_NEWLINK, name);
    req_u32(&r, IFLA_MASTER, (uint32_t)m.index);
    int rc = nl_talk(nl, &r, NULL, NULL);
    if (rc < 0)
        return mk_err_errno(err, -rc, "failed to add interface %s to bridge %s", name, master);
    return 0;
}

int mk_nl_link_set_no_ipv6(int nl, const char *name, mk_err **err)
{
    if (name_ok(name, err) < 0)
        return -1;
    struct nl_req r;
    link_req(&r, RTM_NEWLINK, name);
    nest_begin(&r, IFLA_AF_SPEC);
    nest_begin(&r, AF_INET6);
    uint8_t mode = IN6_ADDR_GEN_MODE_NONE;
    req_attr(&r, IFLA_INET6_ADDR_GEN_MODE, &mode, 1);
    nest_end(&r);
    nest_end(&r);
    int rc = nl_talk(nl, &r, NULL, NULL);
    /* A kernel without IPv6 has nothing to turn off. */
    if (rc == -EAFNOSUPPORT)
        return 0;
    return rc < 0 ? nl_fail(err, rc, "failed to turn IPv6 addresses off on", name) : 0;
}

int mk_nl_link_set_mac(int nl, const char *name, const unsigned char mac[6], mk_err **err)
{
    if (name_ok(name, err) < 0)
        return -1;
    struct nl_req r;
    link_req(&r, RTM_NEWLINK, name);
    req_attr(&r, IFLA_ADDRESS, mac, 6);
    int rc = nl_talk(nl, &r, NULL, NULL);
    return rc < 0 ? nl_fail(err, rc, "failed to set MAC address of", name) : 0;
}

static void link_reply(const struct nlmsghdr *h, void *data)
{
    struct mk_nl_link *l = data;
    if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
        return;
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    l->index = ifi->ifi_index;
    l->flags = ifi->ifi_flags;
    int len = (int)IFLA_PAYLOAD(h);
    for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFLA_MASTER && RTA_PAYLOAD(a) >= 4)
            memcpy(&l->master, RTA_DATA(a), 4);
        else if (a->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(a) == 6)
            memcpy(l->mac, RTA_DATA(a), 6);
    }
}

int mk_nl_link_get(int nl, const char *name, struct mk_nl_link *out, mk_err **err)
{
    if (name_ok(name, err) < 0)
        return -1;
    struct nl_req r;
    link_req(&r, RTM_GETLINK, name);
    struct mk_nl_link l = {0};
    int rc = nl_talk(nl, &r, link_reply, &l);
    if (rc < 0)
        return nl_fail(err, rc, "look up interface", name);
    if (l.index == 0)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "look up interface %s: no such network interface",
                          name);
    *out = l;
    return 0;
}

static int name_index(int nl, const char *name, mk_err **err)
{
    struct mk_nl_link l;
    return mk_nl_link_get(nl, name, &l, err) < 0 ? -1 : l.index;
}

int mk_nl_addr_add(int nl, const char *name, struct in_addr addr, int prefix, mk_err **err)
{
    int index = name_index(nl, name, err);
    if (index < 0)
        return -1;
    char buf[INET_ADDRSTRLEN];
    if (prefix < 0 || prefix > 32)
        return mk_err_set(err, MK_ERR_INVALID, "invalid prefix length %d", prefix);
    struct nl_req r;
    struct ifaddrmsg *ifa =
        req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg));
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = (unsigned char)prefix;
    ifa->ifa_index = (unsigned)index;
    req_attr(&r, IFA_LOCAL, &addr, 4);
    req_attr(&r, IFA_ADDRESS, &addr, 4);
    /* The broadcast address `ip addr add ... brd +` would set; none for /31 and /32. */
    if (prefix < 31) {
        struct in_addr brd = {addr.s_addr | htonl(~mk_ipv4_mask(prefix))};
        req_attr(&r, IFA_BROADCAST, &brd, 4);
    }
    int rc = nl_talk(nl, &r, NULL, NULL);
    if (rc < 0)
        return mk_err_errno(err, -rc, "failed to add address %s/%d to %s",
                            mk_ipv4_str(ntohl(addr.s_addr), buf), prefix, name);
    return 0;
}

struct addr_list {
    int index;
    struct mk_nl_addr *v;
    size_t n;
};

static void addr_reply(const struct nlmsghdr *h, void *data)
{
    struct addr_list *l = data;
    if (h->nlmsg_type != RTM_NEWADDR || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifaddrmsg)))
        return;
    const struct ifaddrmsg *ifa = NLMSG_DATA(h);
    if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != l->index)
        return;
    int len = (int)IFA_PAYLOAD(h);
    for (const struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFA_LOCAL && RTA_PAYLOAD(a) == 4) {
            l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
            memcpy(&l->v[l->n].addr, RTA_DATA(a), 4);
            l->v[l->n].prefix = ifa->ifa_prefixlen;
            l->n++;
        }
    }
}

int mk_nl_addr_list(int nl, const char *name, struct mk_nl_addr **out, size_t *n, mk_err **err)
{
    int index = name_index(nl, name, err);
    if (index < 0)
        return -1;
    struct nl_req r;
    struct ifaddrmsg *ifa = req_init(&r, RTM_GETADDR, NLM_F_DUMP, sizeof(struct ifaddrmsg));
    ifa->ifa_family = AF_INET;
    struct addr_list l = {.index = index};
    int rc = nl_talk(nl, &r, addr_reply, &l);
    if (rc < 0) {
        free(l.v);
        return mk_err_errno(err, -rc, "list addresses of %s", name);
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

int mk_nl_route_add_default(int nl, struct in_addr gateway, mk_err **err)
{
    struct nl_req r;
    struct rtmsg *rt = req_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct rtmsg));
    rt->rtm_family = AF_INET;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = RT_SCOPE_UNIVERSE;
    rt->rtm_type = RTN_UNICAST;
    req_attr(&r, RTA_GATEWAY, &gateway, 4);
    int rc = nl_talk(nl, &r, NULL, NULL);
    if (rc < 0) {
        char buf[INET_ADDRSTRLEN];
        return mk_err_errno(err, -rc, "failed to set gateway %s",
                            mk_ipv4_str(ntohl(gateway.s_addr), buf));
    }
    return 0;
}
