/* ipam.c: IPv4 address management, pure arithmetic: parsing subnets, the
 * gateway and the next free address of a network, and a default subnet that
 * stays clear of the host's own routes (a bridge on a subnet the host already
 * reaches another way would cut it off from that network). */
#include "network/network.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mk_ipv4_parse(const char *s, uint32_t *out, mk_err **err)
{
    uint32_t v = 0;
    const char *p = s;
    for (int i = 0; i < 4; i++) {
        if (i > 0 && *p++ != '.')
            goto bad;
        /* Digits only, no leading zeros (inet_aton would read "010" as octal). */
        if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
            goto bad;
        unsigned octet = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            octet = octet * 10 + (unsigned)(*p++ - '0');
            digits++;
        }
        if (octet > 255)
            goto bad;
        v = v << 8 | octet;
    }
    if (*p != '\0')
        goto bad;
    *out = v;
    return 0;
bad:
    return mk_err_set(err, MK_ERR_INVALID, "invalid IPv4 address: %s", s);
}

const char *mk_ipv4_str(uint32_t a, char buf[16])
{
    snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
    return buf;
}

uint32_t mk_ipv4_mask(int prefix)
{
    return prefix <= 0 ? 0 : prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
}

int mk_ipv4_cidr_parse(const char *s, struct mk_ipv4_net *out, mk_err **err)
{
    const char *slash = strchr(s, '/');
    if (slash == NULL || slash[1] == '\0' || strlen(slash + 1) > 2)
        return mk_err_set(err, MK_ERR_INVALID, "invalid CIDR address: %s", s);
    _cleanup_free_ char *ip = xstrndup(s, (size_t)(slash - s));
    int prefix = 0;
    for (const char *p = slash + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return mk_err_set(err, MK_ERR_INVALID, "invalid CIDR address: %s", s);
        prefix = prefix * 10 + (*p - '0');
    }
    uint32_t a;
    if (prefix > 32 || mk_ipv4_parse(ip, &a, NULL) < 0)
        return mk_err_set(err, MK_ERR_INVALID, "invalid CIDR address: %s", s);
    out->addr = a;
    out->prefix = prefix;
    return 0;
}

int mk_ipv4_subnet_parse(const char *s, struct mk_ipv4_net *out, mk_err **err)
{
    struct mk_ipv4_net n;
    if (mk_ipv4_cidr_parse(s, &n, err) < 0)
        return -1;
    uint32_t net = n.addr & mk_ipv4_mask(n.prefix);
    if (net != n.addr) {
        char buf[16];
        return mk_err_set(err, MK_ERR_INVALID, "invalid subnet %s: it should be %s/%d", s,
                          mk_ipv4_str(net, buf), n.prefix);
    }
    *out = n;
    return 0;
}

char *mk_ipv4_net_str(const struct mk_ipv4_net *n)
{
    char buf[16];
    return xasprintf("%s/%d", mk_ipv4_str(n->addr, buf), n->prefix);
}

bool mk_ipv4_net_contains(const struct mk_ipv4_net *n, uint32_t addr)
{
    uint32_t m = mk_ipv4_mask(n->prefix);
    return (addr & m) == (n->addr & m);
}

bool mk_ipv4_net_overlaps(const struct mk_ipv4_net *a, const struct mk_ipv4_net *b)
{
    /* Two prefixes overlap exactly when they agree on the shorter one's bits. */
    uint32_t m = mk_ipv4_mask(a->prefix < b->prefix ? a->prefix : b->prefix);
    return (a->addr & m) == (b->addr & m);
}

uint32_t mk_ipam_gateway(const struct mk_ipv4_net *n)
{
    return (n->addr & mk_ipv4_mask(n->prefix)) + 1;
}

int mk_ipam_check(const struct mk_ipv4_net *n, uint32_t gateway, const uint32_t *taken,
                  size_t ntaken, uint32_t addr, mk_err **err)
{
    char buf[16];
    uint32_t m = mk_ipv4_mask(n->prefix);
    if (n->prefix > 30 || !mk_ipv4_net_contains(n, addr))
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid address %s: it does not belong to any of this network's subnets",
                          mk_ipv4_str(addr, buf));
    if ((addr & ~m) == 0 || (addr & ~m) == ~m)
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid address %s: it is the network or broadcast address of %s/%d",
                          mk_ipv4_str(addr, buf), mk_ipv4_str(n->addr & m, (char[16]){0}),
                          n->prefix);
    bool used = addr == gateway;
    for (size_t i = 0; i < ntaken && !used; i++)
        used = taken[i] == addr;
    if (used)
        return mk_err_set(err, MK_ERR_CONFLICT, "address %s already in use",
                          mk_ipv4_str(addr, buf));
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int mk_ipam_alloc(const struct mk_ipv4_net *n, uint32_t gateway, const uint32_t *taken,
                  size_t ntaken, uint32_t *out, mk_err **err)
{
    uint32_t m = mk_ipv4_mask(n->prefix);
    uint32_t first = (n->addr & m) + 1, last = (n->addr | ~m) - 1;
    /* Sorted, a single walk finds the lowest gap: O(n log n) for any subnet size. */
    size_t k = ntaken + 1;
    _cleanup_free_ uint32_t *s = xmalloc(k * sizeof(*s));
    if (ntaken > 0)
        memcpy(s, taken, ntaken * sizeof(*s));
    s[ntaken] = gateway;
    qsort(s, k, sizeof(*s), cmp_u32);
    uint32_t cand = first;
    for (size_t i = 0; n->prefix <= 30 && i <= k; i++) {
        if (i == k || s[i] > cand) {
            if (cand <= last) {
                *out = cand;
                return 0;
            }
            break;
        }
        if (s[i] == cand) {
            if (cand == last)
                break;
            cand++;
        }
    }
    _cleanup_free_ char *net = mk_ipv4_net_str(&(struct mk_ipv4_net){n->addr & m, n->prefix});
    return mk_err_set(err, MK_ERR_CONFLICT, "no available IPv4 addresses in subnet %s", net);
}

int mk_ipam_read_routes(const char *path, struct mk_ipv4_net **out, size_t *n, mk_err **err)
{
    _cleanup_fclose_ FILE *f = fopen(path, "re");
    if (f == NULL)
        return mk_err_sys(err, "read routes: open %s", path);
    struct mk_ipv4_net *v = NULL;
    size_t len = 0;
    char line[512];
    bool header = true;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (header) {
            header = false;
            continue;
        }
        char iface[64];
        unsigned dst, gw, flags, refcnt, use, metric, mask;
        if (sscanf(line, "%63s %x %x %x %u %u %u %x", iface, &dst, &gw, &flags, &refcnt, &use,
                   &metric, &mask) != 8)
            continue;
        /* The kernel prints the network-order word as a native integer. */
        uint32_t d = ntohl(dst), m = ntohl(mask);
        if (m == 0)
            continue;
        v = xrealloc(v, (len + 1) * sizeof(*v));
        v[len].addr = d & m;
        v[len].prefix = __builtin_popcount(m);
        len++;
    }
    *out = v;
    *n = len;
    return 0;
}

int mk_ipam_pick_subnet(const struct mk_ipv4_net *used, size_t nused, struct mk_ipv4_net *out,
                        mk_err **err)
{
    for (int i = 0; i < 14 + 16; i++) {
        struct mk_ipv4_net c =
            i < 14 ? (struct mk_ipv4_net){(172u << 24 | (18u + i) << 16), 16}
                   : (struct mk_ipv4_net){(192u << 24 | 168u << 16 | (uint32_t)(i - 14) << 12), 20};
        bool clash = false;
        for (size_t j = 0; j < nused && !clash; j++)
            clash = mk_ipv4_net_overlaps(&c, &used[j]);
        if (!clash) {
            *out = c;
            return 0;
        }
    }
    return mk_err_set(err, MK_ERR_CONFLICT,
                      "could not find an available, non-overlapping IPv4 address pool among the "
                      "defaults to assign to the network");
}
