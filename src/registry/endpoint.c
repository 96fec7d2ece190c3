/* endpoint.c: how to reach a registry: the host behind a domain, whether it
 * is insecure (plain HTTP allowed, TLS unverified), and its TLS material from
 * docker's certs.d convention.
 *
 * As docker: loopback (127.0.0.0/8, ::1, localhost) and the hosts or CIDRs of
 * daemon.json's "insecure-registries" are insecure.  Unlike docker, a host
 * with a CA in certs.d is always verified against it: whoever put a CA there
 * wants it checked, and it lets the tests check TLS on loopback.  Host names
 * are not resolved to match CIDRs (docker does): a DNS lookup on every pull
 * is slow when the network is, and names are listed as names. */
#include "registry/internal.h"
#include "util/daemon_config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

const char *mk_registry_etc_dir(void)
{
    return mk_etc_dir();
}

/* "host:port" -> "host"; "[::1]:5000" -> "::1". */
static char *host_only(const char *hostport)
{
    if (hostport[0] == '[') {
        const char *end = strchr(hostport, ']');
        return end != NULL ? xstrndup(hostport + 1, (size_t)(end - hostport - 1))
                           : xstrdup(hostport);
    }
    const char *colon = strchr(hostport, ':');
    if (colon != NULL && strchr(colon + 1, ':') == NULL)
        return xstrndup(hostport, (size_t)(colon - hostport));
    return xstrdup(hostport);
}

/* Is the literal address host inside cidr ("10.0.0.0/8", "::1/128")? */
static bool in_cidr(const char *host, const char *cidr)
{
    const char *slash = strchr(cidr, '/');
    if (slash == NULL)
        return false;
    _cleanup_free_ char *net = xstrndup(cidr, (size_t)(slash - cidr));
    char *end;
    long bits = strtol(slash + 1, &end, 10);
    unsigned char a[16], b[16];
    size_t len;
    if (inet_pton(AF_INET, host, a) == 1 && inet_pton(AF_INET, net, b) == 1)
        len = 4;
    else if (inet_pton(AF_INET6, host, a) == 1 && inet_pton(AF_INET6, net, b) == 1)
        len = 16;
    else
        return false;
    if (*end != '\0' || bits < 0 || bits > (long)len * 8)
        return false;
    for (long i = 0; i < bits; i++) {
        unsigned char m = (unsigned char)(0x80 >> (i % 8));
        if ((a[i / 8] & m) != (b[i / 8] & m))
            return false;
    }
    return true;
}

static bool host_insecure(const char *hostport, char *const *listed)
{
    _cleanup_free_ char *host = host_only(hostport);
    if (strcmp(host, "localhost") == 0 || in_cidr(host, "127.0.0.0/8") ||
        in_cidr(host, "::1/128"))
        return true;
    for (size_t i = 0; listed != NULL && listed[i] != NULL; i++)
        if (strcmp(listed[i], hostport) == 0 || strcmp(listed[i], host) == 0 ||
            in_cidr(host, listed[i]))
            return true;
    return false;
}

/* daemon.json's "insecure-registries"; a missing file is an empty list. */
static int read_insecure(char ***out, mk_err **err)
{
    *out = NULL;
    _cleanup_json_ json_t *cfg = NULL;
    if (mk_daemon_config_load(&cfg, err) < 0)
        return -1;
    json_t *list = json_object_get(cfg, "insecure-registries");
    if (list != NULL && !json_is_array(list))
        return mk_err_set(err, MK_ERR_INVALID, "%s/daemon.json: insecure-registries is not a list",
                          mk_etc_dir());
    *out = mk_json_strv(list);
    return 0;
}

/* certs.d/<dir>/: every *.crt is a CA (added to the system's), every
 * <name>.cert with its <name>.key a client certificate, as docker reads it. */
static int read_certs_d(struct mk_endpoint *e, const char *dirname, mk_err **err)
{
    _cleanup_free_ char *certs = mk_path_join(mk_registry_etc_dir(), "certs.d");
    _cleanup_free_ char *dir = mk_path_join(certs, dirname);
    _cleanup_closedir_ DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    mk_buf ca = {0};
    bool have_ca = false;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        _cleanup_free_ char *path = mk_path_join(dir, de->d_name);
        if (mk_str_has_suffix(de->d_name, ".crt")) {
            if (!have_ca) {
                char *sys = NULL;
                size_t len = 0;
                if (mk_read_file(SYSTEM_CA_BUNDLE, &sys, &len, NULL) == 0) {
                    mk_buf_append(&ca, sys, len);
                    mk_buf_puts(&ca, "\n");
                    free(sys);
                }
            }
            char *pem = NULL;
            size_t len = 0;
            if (mk_read_file(path, &pem, &len, err) < 0) {
                mk_buf_free(&ca);
                return -1;
            }
            mk_buf_append(&ca, pem, len);
            mk_buf_puts(&ca, "\n");
            free(pem);
            have_ca = true;
        } else if (mk_str_has_suffix(de->d_name, ".cert")) {
            size_t n = strlen(de->d_name) - strlen(".cert");
            _cleanup_free_ char *key = xasprintf("%s/%.*s.key", dir, (int)n, de->d_name);
            if (access(key, R_OK) != 0) {
                mk_buf_free(&ca);
                return mk_err_set(err, MK_ERR_INVALID, "missing key %s for client certificate %s",
                                  key, path);
            }
            free(e->client_cert);
            free(e->client_key);
            e->client_cert = steal_pointer(&path);
            e->client_key = steal_pointer(&key);
        }
    }
    if (have_ca) {
        e->ca_len = ca.len;
        e->ca_pem = mk_buf_steal(&ca);
        e->secure_tls = true;
    }
    mk_buf_free(&ca);
    return 0;
}

int mk_endpoint_resolve(const char *domain, struct mk_endpoint *out, mk_err **err)
{
    memset(out, 0, sizeof(*out));
    if (strcmp(domain, "docker.io") == 0 || strcmp(domain, "index.docker.io") == 0)
        out->host = xstrdup("registry-1.docker.io");
    else
        out->host = xstrdup(domain);
    _cleanup_strv_ char **listed = NULL;
    if (read_insecure(&listed, err) < 0 || read_certs_d(out, domain, err) < 0) {
        mk_endpoint_clear(out);
        return -1;
    }
    out->insecure = !out->secure_tls && host_insecure(out->host, listed);
    return 0;
}

void mk_endpoint_clear(struct mk_endpoint *e)
{
    free(e->host);
    free(e->ca_pem);
    free(e->client_cert);
    free(e->client_key);
    memset(e, 0, sizeof(*e));
}
