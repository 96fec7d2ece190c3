/* cmd_network.c: docker network create|ls|inspect|rm|prune|connect|disconnect. */
#include "cli/cli.h"
#include "cli/format.h"

#include <string.h>

/* docker's "strings" flags: repeatable, and each value a comma-separated list. */
static char **split_all(char *const *values)
{
    char **out = xcalloc(1, sizeof(*out));
    for (size_t i = 0; values != NULL && values[i] != NULL; i++) {
        _cleanup_free_ char *dup = xstrdup(values[i]);
        char *save = NULL;
        for (char *t = strtok_r(dup, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
            mk_strv_push(&out, t);
    }
    return out;
}

static bool in_subnet(const char *subnet, const char *addr)
{
    struct mk_ipv4_net n;
    uint32_t a;
    return mk_ipv4_cidr_parse(subnet, &n, NULL) == 0 && mk_ipv4_parse(addr, &a, NULL) == 0 &&
           mk_ipv4_net_contains(&(struct mk_ipv4_net){n.addr & mk_ipv4_mask(n.prefix), n.prefix},
                                a);
}

/* The docker CLI pairs each --gateway and --ip-range with the --subnet that
 * holds it before asking the daemon; *gw and *range get the match of subnet
 * (NULL if none).  Its errors are the CLI's own (no "Error response"). */
static int pair_with_subnets(char **subnets, char **gateways, char **ranges, const char **gw,
                             const char **range)
{
    *gw = *range = NULL;
    if (mk_strv_len(subnets) < mk_strv_len(gateways) ||
        mk_strv_len(subnets) < mk_strv_len(ranges)) {
        fprintf(stderr, "every ip-range or gateway must have a corresponding subnet\n");
        return -1;
    }
    for (size_t i = 0; ranges[i] != NULL; i++) {
        const char *slash = strchr(ranges[i], '/');
        _cleanup_free_ char *base =
            xstrndup(ranges[i], slash ? (size_t)(slash - ranges[i]) : strlen(ranges[i]));
        const char *owner = NULL;
        for (size_t j = 0; subnets[j] != NULL && owner == NULL; j++)
            if (slash != NULL && in_subnet(subnets[j], base))
                owner = subnets[j];
        if (owner == NULL) {
            fprintf(stderr, "no matching subnet for range %s\n", ranges[i]);
            return -1;
        }
        if (owner == subnets[0] && *range != NULL) {
            fprintf(stderr, "cannot configure multiple ranges (%s, %s) on the same subnet (%s)\n",
                    ranges[i], *range, owner);
            return -1;
        }
        if (owner == subnets[0])
            *range = ranges[i];
    }
    for (size_t i = 0; gateways[i] != NULL; i++) {
        const char *owner = NULL;
        for (size_t j = 0; subnets[j] != NULL && owner == NULL; j++)
            if (in_subnet(subnets[j], gateways[i]))
                owner = subnets[j];
        if (owner == NULL) {
            fprintf(stderr, "no matching subnet for gateway %s\n", gateways[i]);
            return -1;
        }
        if (owner == subnets[0] && *gw != NULL) {
            fprintf(stderr,
                    "cannot configure multiple gateways (%s, %s) for the same subnet (%s)\n",
                    gateways[i], *gw, owner);
            return -1;
        }
        if (owner == subnets[0])
            *gw = gateways[i];
    }
    return 0;
}

int cmd_network_create(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"network create", "network create [OPTIONS] NETWORK",
                                      "Create a network", true};
    char *driver = NULL, *ipam_driver = NULL, *scope = NULL, *config_from = NULL;
    bool attachable = false, internal = false, ipv6 = false, ipv4 = true, ingress = false,
         config_only = false;
    _cleanup_strv_ char **labels = NULL, **opts_kv = NULL, **subnet_v = NULL, **gateway_v = NULL,
                        **range_v = NULL, **aux = NULL, **ipam_opts = NULL;
    struct mk_opt opts[] = {
        {"attachable", 0, MK_OPT_BOOL, &attachable, "Enable manual container attachment", NULL},
        {"aux-address", 0, MK_OPT_REFUSED_VALUE, &aux,
         "auxiliary addresses are not supported by mocker's IPAM", NULL},
        {"config-from", 0, MK_OPT_REFUSED_VALUE, &config_from,
         "configuration-only networks are a swarm feature mocker does not have", NULL},
        {"config-only", 0, MK_OPT_REFUSED_BOOL, &config_only,
         "configuration-only networks are a swarm feature mocker does not have", NULL},
        {"driver", 'd', MK_OPT_STRING, &driver, "Driver to manage the Network", NULL},
        {"gateway", 0, MK_OPT_LIST, &gateway_v, "IPv4 or IPv6 Gateway for the master subnet", NULL},
        {"ingress", 0, MK_OPT_REFUSED_BOOL, &ingress,
         "the routing-mesh network is a swarm feature mocker does not have", NULL},
        {"internal", 0, MK_OPT_BOOL, &internal, "Restrict external access to the network", NULL},
        {"ip-range", 0, MK_OPT_LIST, &range_v, "Allocate container ip from a sub-range", NULL},
        {"ipam-driver", 0, MK_OPT_STRING, &ipam_driver, "IP Address Management Driver", NULL},
        {"ipam-opt", 0, MK_OPT_REFUSED_VALUE, &ipam_opts,
         "mocker's default IPAM driver takes no options", NULL},
        {"ipv4", 0, MK_OPT_BOOL, &ipv4, "Enable or disable IPv4 address assignment", NULL},
        {"ipv6", 0, MK_OPT_BOOL, &ipv6, "Enable or disable IPv6 address assignment", NULL},
        {"label", 0, MK_OPT_LIST, &labels, "Set metadata on a network", NULL},
        {"opt", 'o', MK_OPT_LIST, &opts_kv, "Set driver specific options", NULL},
        {"scope", 0, MK_OPT_STRING, &scope, "Control the network's scope", NULL},
        {"subnet", 0, MK_OPT_LIST, &subnet_v,
         "Subnet in CIDR format that represents a network segment", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, 1, &rest);
    _cleanup_free_ char *d = driver, *ipamd = ipam_driver, *sc = scope;
    if (r >= 0)
        return r;
    mk_err *err = NULL;
    if (ipamd != NULL && strcmp(ipamd, "default") != 0) {
        mk_err_set(&err, MK_ERR_NOT_FOUND, "plugin \"%s\" not found", ipamd);
        return mk_cli_fail(NULL, err, 1);
    }
    if (sc != NULL && strcmp(sc, "local") != 0) {
        mk_err_set(&err, MK_ERR_UNSUPPORTED,
                   "network scope \"%s\" is not supported by mocker (only local)", sc);
        return mk_cli_fail(NULL, err, 125);
    }
    if (!ipv4) {
        mk_err_set(&err, MK_ERR_UNSUPPORTED,
                   "networks without IPv4 (--ipv4=false) are not supported by mocker");
        return mk_cli_fail(NULL, err, 125);
    }
    _cleanup_strv_ char **subnets = split_all(subnet_v), **gateways = split_all(gateway_v),
                        **ranges = split_all(range_v);
    const char *gw = NULL, *range = NULL;
    if (pair_with_subnets(subnets, gateways, ranges, &gw, &range) < 0)
        return 1;
    if (mk_strv_len(subnets) > 1) {
        mk_err_set(&err, MK_ERR_INVALID, "bridge driver doesn't support multiple subnets");
        return mk_cli_fail(NULL, err, 1);
    }
    _cleanup_json_ json_t *lab = json_object(), *o = json_object();
    for (size_t i = 0; labels && labels[i]; i++)
        mk_cli_kv_set(lab, labels[i]);
    for (size_t i = 0; opts_kv && opts_kv[i]; i++)
        mk_cli_kv_set(o, opts_kv[i]);
    struct mk_network_create_opts co = {.name = rest[0],
                                        .driver = d,
                                        .subnet = subnets[0],
                                        .gateway = gw,
                                        .ip_range = range,
                                        .internal = internal,
                                        .attachable = attachable,
                                        .ipv6 = ipv6,
                                        .labels = lab,
                                        .options = o};
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    struct mk_network *n = NULL;
    r = mk_network_create(e, &co, &n, &err);
    mk_engine_free(e);
    if (r < 0)
        return mk_cli_fail(NULL, err, err->kind == MK_ERR_UNSUPPORTED ? 125 : 1);
    printf("%s\n", n->id);
    mk_network_free(n);
    return 0;
}

static json_t *network_inspect_one(struct mk_engine *e, const char *ref, mk_err **err)
{
    struct mk_network *n = NULL;
    if (mk_network_get(e, ref, &n, err) < 0)
        return NULL;
    json_t *obj = mk_network_inspect_json(e, n);
    mk_network_free(n);
    return obj;
}

int cmd_network_inspect(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"network inspect",
                                      "network inspect [OPTIONS] NETWORK [NETWORK...]",
                                      "Display detailed information on one or more networks", true};
    char *format = NULL;
    bool verbose = false;
    struct mk_opt opts[] = {
        {"format", 'f', MK_OPT_STRING, &format, "Format output using a custom template", NULL},
        {"verbose", 'v', MK_OPT_BOOL, &verbose, "Verbose output for diagnostics", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, (size_t)-1, &rest);
    _cleanup_free_ char *fmt = format;
    if (r >= 0)
        return r;
    /* -v adds swarm services and peers to docker's output; a local network
     * has neither, so the output is the same. */
    return mk_cli_inspect_each(rest, fmt, network_inspect_one);
}

int cmd_network_rm(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"network rm", "network rm NETWORK [NETWORK...]",
                                      "Remove one or more networks", true};
    bool force = false;
    struct mk_opt opts[] = {
        {"force", 'f', MK_OPT_BOOL, &force, "Do not error if the network does not exist", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, (size_t)-1, &rest);
    if (r >= 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    int status = 0;
    for (size_t i = 0; rest[i] != NULL; i++) {
        mk_err *err = NULL;
        if (mk_network_remove(e, rest[i], &err) == 0)
            printf("%s\n", rest[i]);
        else if (force && err->kind == MK_ERR_NOT_FOUND)
            mk_err_free(err); /* -f: a missing network is no error, and not printed */
        else
            status = mk_cli_fail(NULL, err, 1);
    }
    mk_engine_free(e);
    return status;
}

/* ---- ls ---- */

/* Go's time.Time.String() with its nanoseconds, as network ls's CreatedAt. */
static char *created_at(int64_t ns)
{
    _cleanup_free_ char *secs = mk_time_go_string(ns);
    char frac[16];
    snprintf(frac, sizeof(frac), ".%09lld", (long long)(ns % 1000000000));
    size_t len = strlen(frac);
    while (len > 1 && frac[len - 1] == '0')
        frac[--len] = '\0';
    if (len == 1)
        frac[0] = '\0';
    /* "2026-11-23 15:32:53 +0000 UTC": the fraction goes after the seconds */
    return xasprintf("%.19s%s%s", secs, frac, secs + 19);
}

static json_t *network_row(const struct mk_network *n, bool no_trunc)
{
    mk_buf labels = {0};
    _cleanup_json_ json_t *sorted = mk_engine_json_sorted(json_object_get(n->config, "Labels"));
    const char *k;
    json_t *v;
    json_object_foreach(sorted, k, v)
    {
        mk_buf_printf(&labels, "%s%s=%s", labels.len > 0 ? "," : "", k,
                      json_string_value(v) ? json_string_value(v) : "");
    }
    _cleanup_free_ char *created = created_at(n->created);
    _cleanup_free_ char *id = no_trunc ? xstrdup(n->id) : xstrndup(n->id, 12);
    bool bridge = strcmp(n->driver, "bridge") == 0;
    json_t *row =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "CreatedAt", created, "Driver",
                  n->driver, "ID", id, "IPv4", bridge ? "true" : "false", "IPv6", "false",
                  "Internal", mk_json_bool(n->config, "Internal", false) ? "true" : "false",
                  "Labels", labels.data ? labels.data : "", "Name", n->name, "Scope", "local");
    mk_buf_free(&labels);
    return row;
}

int cmd_network_ls(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"network ls", "network ls [OPTIONS]", "List networks", true};
    bool quiet = false, no_trunc = false;
    char *format = NULL;
    _cleanup_strv_ char **filters = NULL;
    struct mk_opt opts[] = {
        {"filter", 'f', MK_OPT_LIST, &filters, "Provide filter values (e.g. \"driver=bridge\")",
         NULL},
        {"format", 0, MK_OPT_STRING, &format, "Format output using a custom template", NULL},
        {"no-trunc", 0, MK_OPT_BOOL, &no_trunc, "Do not truncate the output", NULL},
        {"quiet", 'q', MK_OPT_BOOL, &quiet, "Only display network IDs", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    _cleanup_free_ char *fmt = format;
    if (r >= 0)
        return r;
    if ((r = mk_cli_check_filters(&cmd, "-f, --filter", filters)) != 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    mk_err *err = NULL;
    struct mk_network **v = NULL;
    size_t n = 0;
    r = mk_network_select(e, filters, &v, &n, &err);
    mk_engine_free(e);
    if (r < 0)
        return mk_cli_fail(NULL, err, 1);
    _cleanup_json_ json_t *rows = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, network_row(v[i], no_trunc));
    mk_network_list_free(v, n);
    const char *use = fmt;
    if (quiet && (fmt == NULL || *fmt == '\0' || strcmp(fmt, "table") == 0))
        use = "{{.ID}}";
    _cleanup_json_ json_t *headers =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ID", "NETWORK ID", "Name", "NAME",
                  "Driver", "DRIVER", "Scope", "SCOPE", "IPv4", "IPV4", "IPv6", "IPV6", "Internal",
                  "INTERNAL", "Labels", "LABELS", "CreatedAt", "CREATED AT");
    if (mk_format_rows(use, "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", headers, rows,
                       stdout, &err) < 0)
        return mk_cli_fail("template parsing error", err, 1);
    return 0;
}

/* ---- prune ---- */

int cmd_network_prune(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"network prune", "network prune [OPTIONS]",
                                      "Remove all unused networks", true};
    bool force = false;
    _cleanup_strv_ char **filters = NULL;
    struct mk_opt opts[] = {
        {"filter", 0, MK_OPT_LIST, &filters, "Provide filter values (e.g. \"until=<timestamp>\")",
         NULL},
        {"force", 'f', MK_OPT_BOOL, &force, "Do not prompt for confirmation", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    if (r >= 0)
        return r;
    if ((r = mk_cli_check_filters(&cmd, "--filter", filters)) != 0)
        return r;
    mk_err *err = NULL;
    int64_t until = 0;
    _cleanup_strv_ char **labels = NULL, **not_labels = NULL;
    if (mk_network_prune_filters(filters, &until, &labels, &not_labels, &err) < 0)
        return mk_cli_fail(NULL, err, 1);
    if (!force &&
        !mk_cli_confirm("WARNING! This will remove all custom networks not used by at least one "
                        "container."))
        return 0;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    _cleanup_strv_ char **names = NULL;
    /* prune is where docker users clean up: bridges a crash left go too */
    r = mk_network_reconcile(e, &err);
    if (r == 0)
        r = mk_network_prune(e, until, labels, not_labels, &names, &err);
    mk_engine_free(e);
    if (r < 0)
        return mk_cli_fail(NULL, err, 1);
    if (names[0] != NULL) {
        printf("Deleted Networks:\n");
        for (size_t i = 0; names[i] != NULL; i++)
            printf("%s\n", names[i]);
        printf("\n");
    }
    return 0;
}

/* ---- connect / disconnect ---- */

int cmd_network_connect(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"network connect",
                                      "network connect [OPTIONS] NETWORK CONTAINER",
                                      "Connect a container to a network", true};
    char *ip = NULL, *ip6 = NULL;
    long gw_priority = 0;
    _cleanup_strv_ char **alias_v = NULL, **driver_opts = NULL, **links = NULL, **lla = NULL;
    struct mk_opt opts[] = {
        {"alias", 0, MK_OPT_LIST, &alias_v, "Add network-scoped alias for the container", NULL},
        {"driver-opt", 0, MK_OPT_REFUSED_VALUE, &driver_opts,
         "endpoint driver options are not supported by mocker's bridge driver", NULL},
        {"gw-priority", 0, MK_OPT_REFUSED_VALUE, &gw_priority,
         "choosing the default gateway among networks is not supported by mocker", NULL},
        {"ip", 0, MK_OPT_STRING, &ip, "IPv4 address (e.g., \"172.30.100.104\")", NULL},
        {"ip6", 0, MK_OPT_REFUSED_VALUE, &ip6, "IPv6 networks are not supported by mocker yet",
         NULL},
        {"link", 0, MK_OPT_REFUSED_VALUE, &links, "legacy links are not supported by mocker yet",
         NULL},
        {"link-local-ip", 0, MK_OPT_REFUSED_VALUE, &lla,
         "link-local addresses are not supported by mocker", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 2, 2, &rest);
    _cleanup_free_ char *ipv4 = ip;
    if (r >= 0)
        return r;
    _cleanup_strv_ char **aliases = split_all(alias_v);
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    mk_err *err = NULL;
    r = mk_network_connect(e, rest[0], rest[1], ipv4, aliases, &err);
    mk_engine_free(e);
    if (r < 0)
        return mk_cli_fail(NULL, err, err->kind == MK_ERR_UNSUPPORTED ? 125 : 1);
    return 0;
}

int cmd_network_disconnect(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"network disconnect",
                                      "network disconnect [OPTIONS] NETWORK CONTAINER",
                                      "Disconnect a container from a network", true};
    bool force = false;
    struct mk_opt opts[] = {
        {"force", 'f', MK_OPT_BOOL, &force, "Force the container to disconnect from a network",
         NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 2, 2, &rest);
    if (r >= 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    mk_err *err = NULL;
    r = mk_network_disconnect(e, rest[0], rest[1], force, &err);
    mk_engine_free(e);
    if (r < 0)
        return mk_cli_fail(NULL, err, err->kind == MK_ERR_UNSUPPORTED ? 125 : 1);
    return 0;
}

/* ---- hidden: what the container side does before attaching, for tests ---- */

/* `mocker network __ensure NETWORK`: mk_network_ensure, then the id. */
int cmd_network_ensure(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"network __ensure", "network __ensure NETWORK",
                                      "Make a network ready to take containers", true};
    struct mk_opt opts[] = {{NULL, 0, 0, NULL, NULL, NULL}};
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, 1, &rest);
    if (r >= 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    mk_err *err = NULL;
    struct mk_network *n = NULL;
    r = mk_network_ensure(e, rest[0], &n, &err);
    mk_engine_free(e);
    if (r < 0)
        return mk_cli_fail(NULL, err, 1);
    printf("%s\n", n->id);
    mk_network_free(n);
    return 0;
}

/* The hidden maintenance commands: no arguments, one engine call. */
static int engine_op(const struct mk_cmd *cmd, int argc, char **argv,
                     int (*op)(struct mk_engine *e, mk_err **err))
{
    struct mk_opt opts[] = {{NULL, 0, 0, NULL, NULL, NULL}};
    _cleanup_strv_ char **rest = NULL;
    int r = mk_cli_args(cmd, argc, argv, opts, 0, 0, &rest);
    if (r >= 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    mk_err *err = NULL;
    r = op(e, &err);
    mk_engine_free(e);
    return r < 0 ? mk_cli_fail(NULL, err, 1) : 0;
}

/* `mocker network __reconcile`: delete this store's bridges no network owns. */
int cmd_network_reconcile(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"network __reconcile", "network __reconcile",
                                      "Delete bridges no network owns", true};
    return engine_op(&cmd, argc, argv, mk_network_reconcile);
}

/* `mocker network __teardown`: what this store made on the host (every
 * network's bridge and firewall rules), for test and benchmark stores that
 * are deleted with their directory (tools/netclean).  The rows stay. */
int cmd_network_teardown(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"network __teardown", "network __teardown",
                                      "Delete this store's bridges and firewall rules", true};
    return engine_op(&cmd, argc, argv, mk_network_teardown);
}
