/* networks.c: the Engine API's /networks endpoints.  Each is the engine call
 * docker network create|ls|inspect|rm|connect|disconnect|prune makes; what is
 * left here is reading docker's request bodies (refusing, not ignoring, what
 * mocker's bridge driver cannot do) and answering in dockerd's shapes. */
#include "api/api.h"

#include <string.h>

static int no_content(struct mk_api_ctx *c)
{
    return mk_http_reply_send(c->reply, 204, NULL, NULL, 0);
}

int mk_api_networks_list(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_strv_ char **kv = NULL;
    struct mk_network **v = NULL;
    size_t n = 0;
    if (mk_api_filters(c->req, &kv, err) < 0 || mk_api_engine(c, &e, err) < 0 ||
        mk_network_select(e, kv, &v, &n, err) < 0)
        return -1;
    _cleanup_json_ json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *j = mk_network_inspect_json(e, v[i]);
        /* dockerd lists networks without their containers (API >= 1.28):
         * only inspect fills Containers */
        json_object_set_new(j, "Containers", json_object());
        json_array_append_new(out, j);
    }
    mk_network_list_free(v, n);
    return mk_http_reply_json(c->reply, 200, out);
}

int mk_api_network_inspect(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    struct mk_network *n = NULL;
    const char *ref = mk_api_param(c, "id");
    _cleanup_free_ char *scope = mk_http_query(c->req, "scope");
    /* verbose adds swarm services and peers; a local network has neither */
    (void)mk_http_query_bool(c->req, "verbose", false);
    /* every network here is local: one asked for in another scope does not exist */
    if (scope != NULL && *scope != '\0' && strcmp(scope, "local") != 0)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "network %s not found", ref);
    if (mk_api_engine(c, &e, err) < 0 || mk_network_get(e, ref, &n, err) < 0)
        return -1;
    _cleanup_json_ json_t *j = mk_network_inspect_json(e, n);
    mk_network_free(n);
    return mk_http_reply_json(c->reply, 200, j);
}

static const struct mk_api_field create_fields[] = {
    {"Name", MK_API_STRING},       {"CheckDuplicate", MK_API_BOOL}, {"Driver", MK_API_STRING},
    {"Scope", MK_API_STRING},      {"Internal", MK_API_BOOL},       {"Attachable", MK_API_BOOL},
    {"Ingress", MK_API_BOOL},      {"ConfigOnly", MK_API_BOOL},     {"ConfigFrom", MK_API_OBJECT},
    {"EnableIPv6", MK_API_BOOL},   {"EnableIPv4", MK_API_BOOL},     {"IPAM", MK_API_OBJECT},
    {"Options", MK_API_STRING_MAP}, {"Labels", MK_API_STRING_MAP},  {NULL, 0},
};
static const struct mk_api_field ipam_fields[] = {
    {"Driver", MK_API_STRING},
    {"Options", MK_API_STRING_MAP},
    {"Config", MK_API_LIST},
    {NULL, 0},
};
static const struct mk_api_field ipam_config_fields[] = {
    {"Subnet", MK_API_STRING},
    {"IPRange", MK_API_STRING},
    {"Gateway", MK_API_STRING},
    {"AuxiliaryAddresses", MK_API_STRING_MAP},
    {NULL, 0},
};

/* IPAM into o's subnet, gateway and range (borrowed from ipam). */
static int read_ipam(const json_t *ipam, struct mk_network_create_opts *o, mk_err **err)
{
    static const char *const ipam_refused[] = {"Options", NULL};
    static const char *const config_refused[] = {"AuxiliaryAddresses", NULL};
    if (ipam == NULL || json_is_null(ipam))
        return 0;
    if (mk_api_check_fields(ipam, "NetworkCreateRequest.IPAM", ipam_fields, err) < 0 ||
        mk_api_refuse_set(ipam, "IPAM", ipam_refused, "the default IPAM driver takes no options",
                          err) < 0)
        return -1;
    const char *driver = mk_json_str(ipam, "Driver");
    if (driver != NULL && *driver != '\0' && strcmp(driver, "default") != 0)
        return mk_err_set(err, MK_ERR_NOT_FOUND, "plugin \"%s\" not found", driver);
    const json_t *cfgs = json_object_get(ipam, "Config");
    if (json_array_size(cfgs) > 1)
        return mk_err_set(err, MK_ERR_INVALID, "bridge driver doesn't support multiple subnets");
    const json_t *cfg = json_array_get(cfgs, 0);
    if (cfg == NULL)
        return 0;
    if (!json_is_object(cfg))
        return mk_err_set(err, MK_ERR_INVALID, "invalid JSON: IPAM.Config[0] must be an object");
    if (mk_api_check_fields(cfg, "NetworkCreateRequest.IPAM.Config", ipam_config_fields, err) < 0 ||
        mk_api_refuse_set(cfg, "IPAM.Config[0]", config_refused,
                          "auxiliary addresses are not supported by mocker's IPAM", err) < 0)
        return -1;
    const char *subnet = mk_json_str(cfg, "Subnet");
    if (subnet != NULL && strchr(subnet, ':') != NULL)
        return mk_err_set(err, MK_ERR_UNSUPPORTED, "IPv6 networks are not supported by mocker yet");
    /* "" is Go's zero value: not given */
    o->subnet = subnet != NULL && *subnet != '\0' ? subnet : NULL;
    o->gateway = mk_json_is_empty(json_object_get(cfg, "Gateway")) ? NULL
                                                                    : mk_json_str(cfg, "Gateway");
    o->ip_range = mk_json_is_empty(json_object_get(cfg, "IPRange")) ? NULL
                                                                     : mk_json_str(cfg, "IPRange");
    return 0;
}

int mk_api_network_create(struct mk_api_ctx *c, mk_err **err)
{
    static const char *const swarm_only[] = {"Ingress", "ConfigOnly", "ConfigFrom", NULL};
    struct mk_engine *e;
    _cleanup_json_ json_t *body = NULL;
    if (mk_api_json_body(c, MK_API_BODY_EOF, &body, err) < 0 ||
        mk_api_check_fields(body, "NetworkCreateRequest", create_fields, err) < 0 ||
        mk_api_refuse_set(body, "NetworkCreateRequest", swarm_only,
                          "it is a swarm feature mocker does not have", err) < 0)
        return -1;
    const char *scope = mk_json_str(body, "Scope");
    if (scope != NULL && *scope != '\0' && strcmp(scope, "local") != 0)
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "network scope \"%s\" is not supported by mocker (only local)", scope);
    if (!mk_json_bool(body, "EnableIPv4", true))
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "networks without IPv4 (EnableIPv4 false) are not supported by mocker");
    struct mk_network_create_opts o = {
        .name = mk_json_str(body, "Name"),
        .driver = mk_json_str(body, "Driver"),
        .internal = mk_json_bool(body, "Internal", false),
        .attachable = mk_json_bool(body, "Attachable", false),
        .ipv6 = mk_json_bool(body, "EnableIPv6", false),
        .labels = json_object_get(body, "Labels"),
        .options = json_object_get(body, "Options"),
    };
    /* CheckDuplicate needs nothing: a taken name is always refused, as by
     * dockerd since API 1.44 */
    struct mk_network *n = NULL;
    if (read_ipam(json_object_get(body, "IPAM"), &o, err) < 0 || mk_api_engine(c, &e, err) < 0 ||
        mk_network_create(e, &o, &n, err) < 0)
        return -1;
    _cleanup_json_ json_t *out = json_pack("{s:s,s:s}", "Id", n->id, "Warning", "");
    mk_network_free(n);
    return mk_http_reply_json(c->reply, 201, out);
}

int mk_api_network_remove(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    if (mk_api_engine(c, &e, err) < 0 || mk_network_remove(e, mk_api_param(c, "id"), err) < 0)
        return -1;
    return no_content(c);
}

/* The Container of a connect or disconnect body, which must name one
 * (dockerd's wording when it does not). */
static const char *body_container(const json_t *body, mk_err **err)
{
    const char *ctr = mk_json_str(body, "Container");
    if (ctr == NULL || *ctr == '\0') {
        mk_err_set(err, MK_ERR_INVALID, "invalid name or ID supplied: \"\"");
        return NULL;
    }
    return ctr;
}

static const struct mk_api_field connect_fields[] = {
    {"Container", MK_API_STRING},
    {"EndpointConfig", MK_API_OBJECT},
    {NULL, 0},
};
static const struct mk_api_field endpoint_fields[] = {
    {"IPAMConfig", MK_API_OBJECT}, {"Links", MK_API_STRING_LIST},
    {"Aliases", MK_API_STRING_LIST}, {"MacAddress", MK_API_STRING},
    {"DriverOpts", MK_API_STRING_MAP}, {"GwPriority", MK_API_INT},
    {NULL, 0},
};
static const struct mk_api_field ipam_config_ep_fields[] = {
    {"IPv4Address", MK_API_STRING},
    {"IPv6Address", MK_API_STRING},
    {"LinkLocalIPs", MK_API_STRING_LIST},
    {NULL, 0},
};

int mk_api_network_connect(struct mk_api_ctx *c, mk_err **err)
{
    /* what docker network connect's refused flags carry; the output-only
     * fields (NetworkID, IPAddress...) dockerd ignores, and so does this */
    static const char *const ep_refused[] = {"Links", "MacAddress", "DriverOpts", "GwPriority",
                                             NULL};
    static const char *const ipam_refused[] = {"IPv6Address", "LinkLocalIPs", NULL};
    struct mk_engine *e;
    _cleanup_json_ json_t *body = NULL;
    if (mk_api_json_body(c, MK_API_BODY_EOF, &body, err) < 0 ||
        mk_api_check_fields(body, "NetworkConnectRequest", connect_fields, err) < 0)
        return -1;
    const char *ctr = body_container(body, err);
    const json_t *ep = json_object_get(body, "EndpointConfig");
    const json_t *ipam = json_object_get(ep, "IPAMConfig");
    if (ctr == NULL ||
        mk_api_check_fields(ep, "NetworkConnectRequest.EndpointConfig", endpoint_fields, err) < 0 ||
        mk_api_refuse_set(ep, "EndpointConfig", ep_refused,
                          "only aliases and an IPv4 address can be set on a connection", err) < 0 ||
        mk_api_check_fields(ipam, "NetworkConnectRequest.EndpointConfig.IPAMConfig", ipam_config_ep_fields, err) < 0 ||
        mk_api_refuse_set(ipam, "EndpointConfig.IPAMConfig", ipam_refused,
                          "mocker's networks are IPv4 only", err) < 0)
        return -1;
    const char *ip = mk_json_str(ipam, "IPv4Address");
    _cleanup_strv_ char **aliases = mk_json_strv(json_object_get(ep, "Aliases"));
    if (mk_api_engine(c, &e, err) < 0 ||
        mk_network_connect(e, mk_api_param(c, "id"), ctr, ip != NULL && *ip != '\0' ? ip : NULL,
                           aliases, err) < 0)
        return -1;
    return mk_http_reply_send(c->reply, 200, NULL, NULL, 0);
}

int mk_api_network_disconnect(struct mk_api_ctx *c, mk_err **err)
{
    static const struct mk_api_field fields[] = {
        {"Container", MK_API_STRING},
        {"Force", MK_API_BOOL},
        {NULL, 0},
    };
    struct mk_engine *e;
    _cleanup_json_ json_t *body = NULL;
    if (mk_api_json_body(c, MK_API_BODY_EOF, &body, err) < 0 ||
        mk_api_check_fields(body, "NetworkDisconnectRequest", fields, err) < 0)
        return -1;
    const char *ctr = body_container(body, err);
    if (ctr == NULL || mk_api_engine(c, &e, err) < 0 ||
        mk_network_disconnect(e, mk_api_param(c, "id"), ctr, mk_json_bool(body, "Force", false),
                              err) < 0)
        return -1;
    return mk_http_reply_send(c->reply, 200, NULL, NULL, 0);
}

int mk_api_networks_prune(struct mk_api_ctx *c, mk_err **err)
{
    struct mk_engine *e;
    _cleanup_strv_ char **kv = NULL, **labels = NULL, **not_labels = NULL, **names = NULL;
    int64_t until = 0;
    if (mk_api_filters(c->req, &kv, err) < 0 ||
        mk_network_prune_filters(kv, &until, &labels, &not_labels, err) < 0 ||
        mk_api_engine(c, &e, err) < 0 || mk_network_reconcile(e, err) < 0 ||
        mk_network_prune(e, until, labels, not_labels, &names, err) < 0)
        return -1;
    /* dockerd's report has null, not [], when nothing went */
    _cleanup_json_ json_t *out = json_pack(
        "{s:o}", "NetworksDeleted", names[0] != NULL ? mk_json_from_strv(names) : json_null());
    return mk_http_reply_json(c->reply, 200, out);
}
