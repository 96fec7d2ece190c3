/* container_netfiles.c: a container's /etc/hosts and /etc/resolv.conf, as
 * docker writes them.
 *
 * hosts: docker's six fixed lines, the --add-host entries ("host-gateway"
 * is the default bridge's gateway), the --link entries, then the container's
 * own address with its hostname when it has one on a network.
 * resolv.conf: on a user-defined network the embedded DNS server
 * (nameserver 127.0.0.11, options ndots:0, the search domains kept); on the
 * default bridge or none, the host's file without its loopback resolvers
 * (which the container cannot reach), docker's public fallbacks when none is
 * left; with host networking the host's file.  --dns, --dns-search and
 * --dns-option replace the corresponding lines. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "network/network.h"

#include <arpa/inet.h>
#include <string.h>

static const char hosts_base[] = "127.0.0.1\tlocalhost\n"
                                 "::1\tlocalhost ip6-localhost ip6-loopback\n"
                                 "fe00::0\tip6-localnet\n"
                                 "ff00::0\tip6-mcastprefix\n"
                                 "ff02::1\tip6-allnodes\n"
                                 "ff02::2\tip6-allrouters\n";

int mk_extra_host_parse(const char *entry, char **host, char **ip, mk_err **err)
{
    /* host:ip, or host=ip as newer docker CLIs also take; the address may be IPv6. */
    const char *sep = strpbrk(entry, ":=");
    if (sep == NULL || sep == entry || sep[1] == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "bad format for add-host: \"%s\"", entry);
    const char *addr = sep + 1;
    unsigned char buf[16];
    if (strcmp(addr, "host-gateway") != 0 && inet_pton(AF_INET, addr, buf) != 1 &&
        inet_pton(AF_INET6, addr, buf) != 1)
        return mk_err_set(err, MK_ERR_INVALID, "invalid IP address in add-host: \"%s\"", addr);
    if (host != NULL)
        *host = xstrndup(entry, (size_t)(sep - entry));
    if (ip != NULL)
        *ip = xstrdup(addr);
    return 0;
}

char *mk_netfiles_hosts(const json_t *host_config, const char *hostname, uint32_t ip,
                        uint32_t host_gateway, const json_t *links)
{
    mk_buf b = {0};
    mk_buf_puts(&b, hosts_base);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(host_config, "ExtraHosts"), i, v)
    {
        _cleanup_free_ char *host = NULL, *addr = NULL;
        if (!json_is_string(v) ||
            mk_extra_host_parse(json_string_value(v), &host, &addr, NULL) < 0)
            continue; /* refused at create: cannot happen */
        char gw[16];
        const char *a = strcmp(addr, "host-gateway") == 0 ? mk_ipv4_str(host_gateway, gw) : addr;
        mk_buf_printf(&b, "%s\t%s\n", a, host);
    }
    json_array_foreach(links, i, v)
        mk_buf_printf(&b, "%s\n", json_string_value(v));
    if (ip != 0 && hostname != NULL && *hostname != '\0') {
        char own[16];
        mk_buf_printf(&b, "%s\t%s\n", mk_ipv4_str(ip, own), hostname);
    }
    return mk_buf_steal(&b);
}

static bool loopback_resolver(const char *a)
{
    return mk_str_has_prefix(a, "127.") || strcmp(a, "::1") == 0;
}

/* The value of a resolv.conf line "KEY value..." (NULL for other keys). */
static const char *line_value(const char *line, const char *key)
{
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0 || (line[n] != ' ' && line[n] != '\t'))
        return NULL;
    line += n;
    while (*line == ' ' || *line == '\t')
        line++;
    return line;
}

static void put_list(mk_buf *b, const char *key, const json_t *list)
{
    if (json_array_size(list) == 0)
        return;
    mk_buf_puts(b, key);
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
        mk_buf_printf(b, " %s", json_string_value(v));
    mk_buf_puts(b, "\n");
}

char *mk_netfiles_resolv(const json_t *host_config, const char *host_resolv, bool host_net,
                         bool embedded_dns)
{
    const json_t *dns = json_object_get(host_config, "Dns");
    const json_t *search = json_object_get(host_config, "DnsSearch");
    const json_t *opts = json_object_get(host_config, "DnsOptions");
    bool custom = json_array_size(dns) > 0 || json_array_size(search) > 0 ||
                  json_array_size(opts) > 0;
    if (host_net && !custom)
        return xstrdup(host_resolv);
    /* What the host's file says, for the lines not given. */
    json_t *h_ns = json_array(), *h_search = json_array(), *h_opts = json_array();
    mk_buf filtered = {0};
    _cleanup_free_ char *copy = xstrdup(host_resolv);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *val;
        if ((val = line_value(line, "nameserver")) != NULL) {
            if (loopback_resolver(val) && !host_net)
                continue;
            json_array_append_new(h_ns, json_string(val));
        } else if ((val = line_value(line, "search")) != NULL ||
                   (val = line_value(line, "domain")) != NULL) {
            json_array_clear(h_search);
            _cleanup_free_ char *v = xstrdup(val);
            char *s2 = NULL;
            for (char *d = strtok_r(v, " \t", &s2); d; d = strtok_r(NULL, " \t", &s2))
                json_array_append_new(h_search, json_string(d));
        } else if ((val = line_value(line, "options")) != NULL) {
            _cleanup_free_ char *v = xstrdup(val);
            char *s2 = NULL;
            for (char *o = strtok_r(v, " \t", &s2); o; o = strtok_r(NULL, " \t", &s2))
                json_array_append_new(h_opts, json_string(o));
        }
        mk_buf_printf(&filtered, "%s\n", line);
    }
    mk_buf out = {0};
    if (embedded_dns) {
        put_list(&out, "search", json_array_size(search) ? search : h_search);
        mk_buf_puts(&out, "nameserver 127.0.0.11\n");
        const json_t *o = json_array_size(opts) ? opts : h_opts;
        json_t *all = json_copy((json_t *)o);
        bool ndots = false;
        size_t i;
        json_t *v;
        json_array_foreach(all, i, v)
            ndots |= mk_str_has_prefix(json_string_value(v), "ndots:");
        if (!ndots)
            json_array_append_new(all, json_string("ndots:0"));
        put_list(&out, "options", all);
        json_decref(all);
    } else if (!custom) {
        mk_buf_puts(&out, filtered.data != NULL ? filtered.data : "");
        if (json_array_size(h_ns) == 0)
            mk_buf_puts(&out, "\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    } else {
        put_list(&out, "search", json_array_size(search) ? search : h_search);
        const json_t *ns = json_array_size(dns) ? dns : h_ns;
        size_t i;
        json_t *v;
        json_array_foreach(ns, i, v)
            mk_buf_printf(&out, "nameserver %s\n", json_string_value(v));
        if (json_array_size(ns) == 0)
            mk_buf_puts(&out, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        put_list(&out, "options", json_array_size(opts) ? opts : h_opts);
    }
    mk_buf_free(&filtered);
    json_decref(h_ns);
    json_decref(h_search);
    json_decref(h_opts);
    if (out.data == NULL)
        mk_buf_puts(&out, "");
    return mk_buf_steal(&out);
}

char *mk_host_resolv_conf(void)
{
    char *text = NULL;
    if (mk_read_file("/etc/resolv.conf", &text, NULL, NULL) < 0)
        return xstrdup("");
    /* systemd-resolved's stub (127.0.0.53) is the host's only resolver: the
     * upstreams it uses are in its own file, as docker reads them. */
    bool stub = false, other = false;
    _cleanup_free_ char *copy = xstrdup(text);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        const char *ns = line_value(line, "nameserver");
        if (ns == NULL)
            continue;
        if (strcmp(ns, "127.0.0.53") == 0)
            stub = true;
        else
            other = true;
    }
    char *resolved = NULL;
    if (stub && !other &&
        mk_read_file("/run/systemd/resolve/resolv.conf", &resolved, NULL, NULL) == 0) {
        free(text);
        return resolved;
    }
    return text;
}
