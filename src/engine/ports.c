/* ports.c: docker's port specifications, as the docker CLI parses them.
 *
 * `-p [ip:][hostPort[-end]:]containerPort[-end][/proto]` becomes entries of
 * HostConfig.PortBindings ({"80/tcp": [{"HostIp": "", "HostPort": "8080"}]})
 * and of Config.ExposedPorts ({"80/tcp": {}}); `--expose port[-end][/proto]`
 * only the latter.  The wording of the errors is the docker CLI's. */
#include "engine/engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* "N" or "N-M" (M >= N); ports are 1..65535, or 0..65535 when zero_ok. */
static bool parse_range(const char *s, bool zero_ok, unsigned *start, unsigned *end)
{
    char *p;
    errno = 0;
    unsigned long a = strtoul(s, &p, 10);
    if (p == s || errno != 0 || a > 65535 || (a == 0 && !zero_ok) || *s == '-' || *s == '+')
        return false;
    unsigned long b = a;
    if (*p == '-') {
        const char *q = p + 1;
        if (*q == '-' || *q == '+')
            return false;
        b = strtoul(q, &p, 10);
        if (p == q || errno != 0 || b > 65535 || b < a)
            return false;
    }
    if (*p != '\0')
        return false;
    *start = (unsigned)a;
    *end = (unsigned)b;
    return true;
}

static bool valid_proto(const char *p)
{
    return strcmp(p, "tcp") == 0 || strcmp(p, "udp") == 0 || strcmp(p, "sctp") == 0;
}

static void expose(json_t *exposed, unsigned port, const char *proto)
{
    char key[32];
    snprintf(key, sizeof(key), "%u/%s", port, proto);
    json_object_set_new(exposed, key, json_object());
}

int mk_port_spec_parse(const char *raw, json_t *bindings, json_t *exposed, mk_err **err)
{
    _cleanup_free_ char *s = xstrdup(raw);
    const char *proto = "tcp";
    char *slash = strrchr(s, '/');
    if (slash != NULL) {
        *slash = '\0';
        proto = slash + 1;
        if (*proto == '\0')
            proto = "tcp";
    }
    if (s[0] == '[')
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "invalid port specification %s: mocker publishes ports on IPv4 "
                          "addresses only",
                          raw);
    /* ip:host:container, host:container or container. */
    char *parts[3] = {NULL, NULL, NULL};
    size_t n = 0;
    for (char *rest = s; rest != NULL;) {
        char *tok = strsep(&rest, ":");
        if (n == 3)
            return mk_err_set(err, MK_ERR_INVALID, "invalid port specification: \"%s\"", raw);
        parts[n++] = tok;
    }
    char *ip = n == 3 ? parts[0] : NULL;
    char *host = n >= 2 ? parts[n - 2] : NULL;
    char *ctr = parts[n - 1];
    if (*ctr == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "no port specified: %s", *raw ? raw : "<empty>");
    if (ip != NULL && *ip != '\0') {
        struct in_addr a;
        if (inet_pton(AF_INET, ip, &a) != 1)
            return mk_err_set(err, MK_ERR_INVALID, "invalid IP address: %s", ip);
    }
    unsigned cs, ce, hs = 0, he = 0;
    if (!parse_range(ctr, false, &cs, &ce))
        return mk_err_set(err, MK_ERR_INVALID, "invalid containerPort: %s", ctr);
    bool host_given = host != NULL && *host != '\0';
    if (host_given && !parse_range(host, true, &hs, &he))
        return mk_err_set(err, MK_ERR_INVALID, "invalid hostPort: %s", host);
    if (!valid_proto(proto))
        return mk_err_set(err, MK_ERR_INVALID, "invalid proto: %s", proto);
    /* A range on both sides maps port by port; one container port may take
     * any free host port of a range. */
    if (host_given && he - hs != ce - cs && ce != cs)
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid ranges specified for container and host Ports: %s and %s", ctr,
                          host);
    for (unsigned p = cs; p <= ce; p++) {
        expose(exposed, p, proto);
        char key[32], hp[16];
        snprintf(key, sizeof(key), "%u/%s", p, proto);
        if (!host_given)
            hp[0] = '\0';
        else if (ce == cs && he != hs)
            snprintf(hp, sizeof(hp), "%u-%u", hs, he);
        else
            snprintf(hp, sizeof(hp), "%u", hs + (p - cs));
        json_t *list = json_object_get(bindings, key);
        if (list == NULL) {
            list = json_array();
            json_object_set_new(bindings, key, list);
        }
        json_array_append_new(list, json_pack("{s:s,s:s}", "HostIp", ip != NULL ? ip : "",
                                              "HostPort", hp));
    }
    return 0;
}

int mk_expose_parse(const char *raw, json_t *exposed, mk_err **err)
{
    _cleanup_free_ char *s = xstrdup(raw);
    const char *proto = "tcp";
    char *slash = strrchr(s, '/');
    if (slash != NULL) {
        *slash = '\0';
        proto = slash + 1;
    }
    unsigned a, b;
    if (!parse_range(s, false, &a, &b)) {
        /* The docker CLI passes on Go's message for the part it could not read. */
        char *dash = strchr(s, '-');
        const char *bad = s;
        if (dash != NULL && dash != s) {
            *dash = '\0';
            char *end;
            unsigned long v = strtoul(s, &end, 10);
            bad = (*end == '\0' && v <= 65535) ? dash + 1 : s;
        }
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid range format for --expose: %s, error: strconv.ParseUint: "
                          "parsing \"%s\": invalid syntax",
                          raw, bad);
    }
    if (!valid_proto(proto))
        return mk_err_set(err, MK_ERR_INVALID, "invalid proto: %s", proto);
    for (unsigned p = a; p <= b; p++)
        expose(exposed, p, proto);
    return 0;
}
