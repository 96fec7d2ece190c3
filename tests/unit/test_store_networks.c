/* test_store_networks.c: the networks and endpoints tables (store/networks.c)
 * in a temp store: the predefined networks, docker's name resolution, unique
 * names and addresses, and leases going with their container. */
#include "store/store.h"
#include "tap.h"

static char tmpl[] = "/tmp/mocker-test-netstore-XXXXXX";
static struct mk_store *s;

static char *err_msg(mk_err *err)
{
    char *m = xstrdup(err != NULL ? err->msg : "(no error)");
    mk_err_free(err);
    return m;
}

static int add_network(const char *id, const char *name, mk_err **err)
{
    struct mk_network n = {.id = (char *)id,
                           .name = (char *)name,
                           .driver = (char *)"bridge",
                           .created = 1,
                           .config = json_pack("{s:s}", "Subnet", "10.9.0.0/24")};
    int r = mk_store_network_insert(s, &n, err);
    json_decref(n.config);
    return r;
}

static int add_container(const char *id, mk_err **err)
{
    struct mk_container c = {.id = (char *)id,
                             .name = (char *)id,
                             .image = (char *)"x",
                             .image_id = (char *)"sha256:00",
                             .created = 1,
                             .status = (char *)"created"};
    return mk_store_container_insert(s, &c, err);
}

static int add_endpoint(const char *net, const char *ctr, uint32_t ip, mk_err **err)
{
    struct mk_net_endpoint ep = {.network_id = (char *)net,
                                 .container_id = (char *)ctr,
                                 .ip = ip,
                                 .mac = (char *)"02:42:0a:09:00:02",
                                 .aliases = json_pack("[s]", "web")};
    int r = mk_store_endpoint_add(s, &ep, err);
    json_decref(ep.aliases);
    return r;
}

static void test_predefined(void)
{
    struct mk_network **v = NULL;
    size_t n = 0;
    mk_err *err = NULL;
    CHECK(mk_store_network_list(s, &v, &n, &err) == 0);
    CHECK(n == 3);
    CHECK_STR(v[0]->name, "bridge");
    CHECK_STR(v[0]->driver, "bridge");
    CHECK_STR(mk_json_str(v[0]->config, "Bridge"), "mocker0");
    /* picked on first use, not at install */
    CHECK(json_object_get(v[0]->config, "Subnet") == NULL);
    CHECK_STR(v[1]->name, "host");
    CHECK_STR(v[1]->driver, "host");
    CHECK_STR(v[2]->name, "none");
    CHECK_STR(v[2]->driver, "null");
    CHECK(strlen(v[0]->id) == 64 && mk_str_is_hex(v[0]->id));
    CHECK(strcmp(v[0]->id, v[1]->id) != 0);
    CHECK(v[0]->created > 1600000000LL * 1000000000);
    mk_network_list_free(v, n);
}

static void test_resolution(void)
{
    mk_err *err = NULL;
    const char *a = "abcd000000000000000000000000000000000000000000000000000000000001";
    const char *b = "abcd000000000000000000000000000000000000000000000000000000000002";
    CHECK(add_network(a, "alpha", &err) == 0);
    CHECK(add_network(b, "beta", &err) == 0);
    /* a name that is another network's id prefix: the name wins */
    CHECK(add_network("ffff000000000000000000000000000000000000000000000000000000000003", "abcd",
                      &err) == 0);
    CHECK(add_network("eeee000000000000000000000000000000000000000000000000000000000004", "alpha",
                      &err) < 0);
    CHECK(err->kind == MK_ERR_CONFLICT);
    _cleanup_free_ char *m = err_msg(err);
    err = NULL;
    CHECK_STR(m, "network with name alpha already exists");

    struct mk_network *n = NULL;
    CHECK(mk_store_network_get(s, a, &n, &err) == 0);
    CHECK_STR(n->name, "alpha");
    CHECK_STR(mk_json_str(n->config, "Subnet"), "10.9.0.0/24");
    mk_network_free(n);
    n = NULL;
    CHECK(mk_store_network_get(s, "beta", &n, &err) == 0);
    CHECK_STR(n->id, b);
    mk_network_free(n);
    n = NULL;
    CHECK(mk_store_network_get(s, "abcd", &n, &err) == 0);
    CHECK_STR(n->name, "abcd");
    mk_network_free(n);
    n = NULL;
    CHECK(mk_store_network_get(s, "abcd0000000000000000000000000000000000000000000000000000000000",
                               &n, &err) < 0);
    CHECK(err->kind == MK_ERR_INVALID);
    _cleanup_free_ char *amb = err_msg(err);
    err = NULL;
    CHECK_STR(amb, "network abcd0000000000000000000000000000000000000000000000000000000000 is "
                   "ambiguous (2 matches found based on ID prefix)");
    CHECK(mk_store_network_get(s, "ffff", &n, &err) == 0);
    CHECK_STR(n->name, "abcd");
    mk_network_free(n);
    n = NULL;
    CHECK(mk_store_network_get(s, "nosuch", &n, &err) < 0);
    CHECK(err->kind == MK_ERR_NOT_FOUND);
    _cleanup_free_ char *nf = err_msg(err);
    err = NULL;
    CHECK_STR(nf, "network nosuch not found");

    json_t *cfg = json_pack("{s:s,s:s}", "Subnet", "10.10.0.0/16", "Gateway", "10.10.0.1");
    CHECK(mk_store_network_save_config(s, b, cfg, &err) == 0);
    json_decref(cfg);
    CHECK(mk_store_network_get(s, b, &n, &err) == 0);
    CHECK_STR(mk_json_str(n->config, "Gateway"), "10.10.0.1");
    mk_network_free(n);
    CHECK(mk_store_network_delete(
              s, "ffff000000000000000000000000000000000000000000000000000000000003", &err) == 0);
    CHECK(mk_store_network_delete(
              s, "ffff000000000000000000000000000000000000000000000000000000000003", &err) < 0);
    CHECK(err->kind == MK_ERR_NOT_FOUND);
    mk_err_clear(&err);
}

static void test_endpoints(void)
{
    mk_err *err = NULL;
    const char *net = "abcd000000000000000000000000000000000000000000000000000000000001";
    const char *net2 = "abcd000000000000000000000000000000000000000000000000000000000002";
    CHECK(add_container("c1", &err) == 0);
    CHECK(add_container("c2", &err) == 0);
    CHECK(add_endpoint(net, "c1", 0x0a090002, &err) == 0);
    CHECK(add_endpoint(net2, "c1", 0x0a090002, &err) == 0); /* same address, other network */
    CHECK(add_endpoint(net, "c2", 0x0a090002, &err) < 0);
    CHECK(err->kind == MK_ERR_CONFLICT);
    _cleanup_free_ char *m = err_msg(err);
    err = NULL;
    CHECK_STR(m, "Address already in use");
    CHECK(add_endpoint(net, "c1", 0x0a090009, &err) < 0);
    CHECK(err->kind == MK_ERR_CONFLICT);
    mk_err_clear(&err);
    CHECK(add_endpoint(net, "c2", 0x0a090003, &err) == 0);

    struct mk_net_endpoint **v = NULL;
    size_t n = 0;
    CHECK(mk_store_endpoint_list_by_network(s, net, &v, &n, &err) == 0);
    CHECK(n == 2);
    CHECK_STR(v[0]->container_id, "c1");
    CHECK(v[0]->ip == 0x0a090002);
    CHECK_STR(v[0]->mac, "02:42:0a:09:00:02");
    CHECK_STR(json_string_value(json_array_get(v[0]->aliases, 0)), "web");
    CHECK_STR(v[1]->container_id, "c2");
    mk_net_endpoint_list_free(v, n);
    CHECK(mk_store_endpoint_list_by_container(s, "c1", &v, &n, &err) == 0);
    CHECK(n == 2);
    CHECK_STR(v[0]->network_id, net);
    CHECK_STR(v[1]->network_id, net2);
    mk_net_endpoint_list_free(v, n);

    /* a network with leases is not deleted */
    CHECK(mk_store_network_delete(s, net2, &err) < 0);
    mk_err_clear(&err);
    CHECK(mk_store_endpoint_remove(s, net2, "c1", &err) == 0);
    CHECK(mk_store_endpoint_remove(s, net2, "c1", &err) == 0);
    CHECK(mk_store_endpoint_list_by_container(s, "c1", &v, &n, &err) == 0);
    CHECK(n == 1);
    mk_net_endpoint_list_free(v, n);
    CHECK(mk_store_network_delete(s, net2, &err) == 0);

    /* every endpoint of a container; and a container's row takes its leases */
    CHECK(mk_store_endpoint_remove(s, NULL, "c1", &err) == 0);
    CHECK(mk_store_endpoint_list_by_container(s, "c1", &v, &n, &err) == 0);
    CHECK(n == 0);
    mk_net_endpoint_list_free(v, n);
    CHECK(mk_store_container_delete(s, "c2", &err) == 0);
    CHECK(mk_store_endpoint_list_by_network(s, net, &v, &n, &err) == 0);
    CHECK(n == 0);
    mk_net_endpoint_list_free(v, n);
    CHECK(mk_store_network_delete(s, net, &err) == 0);
}

int main(void)
{
    if (mkdtemp(tmpl) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    _cleanup_free_ char *root = xasprintf("%s/root", tmpl);
    _cleanup_free_ char *runroot = xasprintf("%s/run", tmpl);
    mk_err *err = NULL;
    if (mk_store_open(root, runroot, &s, &err) < 0) {
        printf("Bail out! open: %s\n", err->msg);
        return 1;
    }
    RUN(test_predefined);
    RUN(test_resolution);
    RUN(test_endpoints);
    mk_store_free(s);
    if (mk_rm_rf(tmpl, &err) < 0)
        mk_err_free(err);
    return tap_done();
}
