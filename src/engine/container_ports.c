/* container_ports.c: a container's published ports, reserved on the host.
 *
 * Each published port is held by a socket of the monitor bound to the host
 * address and port (TCP bound without listening, UDP bound): another program
 * (or container) asking for the port fails, as with docker's proxy, and the
 * port stays ours until the container stops.  The traffic itself goes
 * through the firewall's DNAT rules, never through these sockets.  An empty
 * HostPort takes an ephemeral port from the kernel; a range the first free
 * one. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "network/network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int bind_port(const char *proto, uint32_t ip, unsigned port, unsigned *bound)
{
    int type = strcmp(proto, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(ip)};
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    socklen_t len = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    *bound = ntohs(sa.sin_port);
    return fd;
}

static int reserve_one(struct mk_port_map *m, const char *host_port, mk_err **err)
{
    char ipbuf[16];
    unsigned lo = 0, hi = 0;
    if (*host_port != '\0') {
        char *end;
        lo = hi = (unsigned)strtoul(host_port, &end, 10);
        if (*end == '-')
            hi = (unsigned)strtoul(end + 1, &end, 10);
    }
    for (unsigned p = lo; p <= hi; p++) {
        m->fd = bind_port(m->proto, m->host_ip, p, &m->host_port);
        if (m->fd >= 0)
            return 0;
        if (errno != EADDRINUSE)
            return mk_err_sys(err, "Bind for %s:%u failed", mk_ipv4_str(m->host_ip, ipbuf), p);
    }
    /* docker's words. */
    if (lo == hi)
        return mk_err_set(err, MK_ERR_CONFLICT, "Bind for %s:%u failed: port is already allocated",
                          mk_ipv4_str(m->host_ip, ipbuf), lo);
    return mk_err_set(err, MK_ERR_CONFLICT,
                      "Bind for %s:%u-%u failed: all ports of the range are already allocated",
                      mk_ipv4_str(m->host_ip, ipbuf), lo, hi);
}

static bool split_key(const char *key, unsigned *port, char proto[5])
{
    char *end;
    unsigned long p = strtoul(key, &end, 10);
    const char *pr = *end == '/' ? end + 1 : "tcp";
    if (p == 0 || p > 65535 || (*end != '/' && *end != '\0') ||
        (strcmp(pr, "tcp") != 0 && strcmp(pr, "udp") != 0 && strcmp(pr, "sctp") != 0))
        return false;
    *port = (unsigned)p;
    strcpy(proto, pr);
    return true;
}

int mk_ports_reserve(const json_t *config, const json_t *host_config, struct mk_port_map **out,
                     size_t *n_out, mk_err **err)
{
    *out = NULL;
    *n_out = 0;
    struct mk_port_map *v = NULL;
    size_t n = 0;
    const json_t *bindings = json_object_get(host_config, "PortBindings");
    /* -P: every exposed port that -p did not bind gets an ephemeral one. */
    _cleanup_json_ json_t *all = json_is_object(bindings) ? json_deep_copy(bindings) : json_object();
    if (mk_json_bool(host_config, "PublishAllPorts", false)) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)json_object_get(config, "ExposedPorts"), key, val)
        {
            if (json_array_size(json_object_get(all, key)) == 0)
                json_object_set_new(all, key, json_pack("[{s:s,s:s}]", "HostIp", "", "HostPort", ""));
        }
    }
    const char *key;
    json_t *list;
    json_object_foreach(all, key, list)
    {
        unsigned ctr_port;
        char proto[5];
        if (!split_key(key, &ctr_port, proto)) {
            mk_err_set(err, MK_ERR_INVALID, "invalid port %s", key);
            goto fail;
        }
        if (strcmp(proto, "sctp") == 0) {
            mk_err_set(err, MK_ERR_UNSUPPORTED, "publishing sctp ports (%s) is not supported by mocker", key);
            goto fail;
        }
        size_t i;
        json_t *b;
        json_array_foreach(list, i, b)
        {
            const char *hip = mk_json_str(b, "HostIp");
            const char *hport = mk_json_str(b, "HostPort");
            struct in_addr a = {0};
            if (hip != NULL && *hip != '\0' && inet_pton(AF_INET, hip, &a) != 1) {
                mk_err_set(err, MK_ERR_INVALID, "invalid IP address: %s", hip);
                goto fail;
            }
            v = xrealloc(v, (n + 1) * sizeof(*v));
            struct mk_port_map *m = &v[n];
            memset(m, 0, sizeof(*m));
            m->fd = -1;
            strcpy(m->proto, proto);
            m->ctr_port = ctr_port;
            m->host_ip = ntohl(a.s_addr);
            n++;
            if (reserve_one(m, hport != NULL ? hport : "", err) < 0)
                goto fail;
        }
    }
    *out = v;
    *n_out = n;
    return 0;
fail:
    mk_ports_release(v, n);
    return -1;
}

void mk_ports_release(struct mk_port_map *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].fd >= 0)
            close(v[i].fd);
    free(v);
}

json_t *mk_ports_json(const json_t *config, const json_t *host_config,
                      const struct mk_port_map *v, size_t n)
{
    /* docker lists every exposed port, null when it is not published. */
    json_t *ports = json_object();
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)json_object_get(config, "ExposedPorts"), key, val)
        json_object_set_new(ports, key, json_null());
    for (size_t i = 0; i < n; i++) {
        char k[32], ip[16], port[8];
        snprintf(k, sizeof(k), "%u/%s", v[i].ctr_port, v[i].proto);
        snprintf(port, sizeof(port), "%u", v[i].host_port);
        json_t *list = json_object_get(ports, k);
        if (!json_is_array(list)) {
            list = json_array();
            json_object_set_new(ports, k, list);
        }
        json_array_append_new(list, json_pack("{s:s,s:s}", "HostIp", mk_ipv4_str(v[i].host_ip, ip),
                                              "HostPort", port));
    }
    (void)host_config;
    return ports;
}

int mk_port_key_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    long px = strtol(x, NULL, 10), py = strtol(y, NULL, 10);
    return px != py ? (px < py ? -1 : 1) : strcmp(x, y);
}
