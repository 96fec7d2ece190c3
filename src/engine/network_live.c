/* network_live.c: network connect / disconnect of a running container: a veth
 * into its network namespace, an address, routes and DNS, live.  That
 * plumbing belongs to the container side of networking and is not wired yet;
 * until it is, these refuse honestly instead of changing only the stored
 * configuration of a container that would not see the change. */
#include "engine/engine.h"

int mk_container_network_connect_live(struct mk_engine *e, const struct mk_container *c,
                                      const struct mk_network *n, const json_t *endpoint,
                                      mk_err **err)
{
    return mk_err_set(err, MK_ERR_UNSUPPORTED,
                      "connecting running container %s to network %s is not supported by mocker "
                      "yet (live connect is not wired); stop the container first",
                      c->name, n->name);
}

int mk_container_network_disconnect_live(struct mk_engine *e, const struct mk_container *c,
                                         const struct mk_network *n, bool force, mk_err **err)
{
    return mk_err_set(err, MK_ERR_UNSUPPORTED,
                      "disconnecting running container %s from network %s is not supported by "
                      "mocker yet (live disconnect is not wired); stop the container first",
                      c->name, n->name);
}
