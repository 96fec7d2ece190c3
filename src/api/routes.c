/* routes.c: the Engine API endpoints mocker serves (paths without the
 * /vX.YY prefix, which http.c strips). */
#include "api/api.h"

const struct mk_api_route mk_api_routes[] = {
    {"GET", "/_ping", mk_api_ping},
    {"HEAD", "/_ping", mk_api_ping},
    {"GET", "/version", mk_api_version},
    {"GET", "/info", mk_api_info},
    {"GET", "/containers/json", mk_api_containers_list},
    {"GET", "/containers/{id}/json", mk_api_container_inspect},
    {"POST", "/containers/create", mk_api_container_create},
    {"POST", "/containers/prune", mk_api_containers_prune},
    {"POST", "/containers/{id}/start", mk_api_container_start},
    {"POST", "/containers/{id}/stop", mk_api_container_stop},
    {"POST", "/containers/{id}/restart", mk_api_container_restart},
    {"POST", "/containers/{id}/kill", mk_api_container_kill},
    {"POST", "/containers/{id}/pause", mk_api_container_pause},
    {"POST", "/containers/{id}/unpause", mk_api_container_unpause},
    {"POST", "/containers/{id}/rename", mk_api_container_rename},
    {"POST", "/containers/{id}/wait", mk_api_container_wait},
    {"DELETE", "/containers/{id}", mk_api_container_remove},
    {"GET", "/containers/{id}/logs", mk_api_container_logs},
    {"GET", "/images/json", mk_api_images_list},
    /* events, stats, system df (api/events.c, api/container_stats.c, api/system_df.c) */
    {"GET", "/events", mk_api_events},
    {"GET", "/containers/{id}/stats", mk_api_container_stats},
    {"GET", "/system/df", mk_api_system_df},
    /* swarm mode: docker's answer for a node that is not a manager */
    {"*", "/swarm", mk_api_swarm_inactive},
    {"*", "/swarm/{rest*}", mk_api_swarm_inactive},
    {"*", "/nodes", mk_api_swarm_inactive},
    {"*", "/nodes/{rest*}", mk_api_swarm_inactive},
    {"*", "/services", mk_api_swarm_inactive},
    {"*", "/services/{rest*}", mk_api_swarm_inactive},
    {"*", "/tasks", mk_api_swarm_inactive},
    {"*", "/tasks/{rest*}", mk_api_swarm_inactive},
    {"*", "/secrets", mk_api_swarm_inactive},
    {"*", "/secrets/{rest*}", mk_api_swarm_inactive},
    {"*", "/configs", mk_api_swarm_inactive},
    {"*", "/configs/{rest*}", mk_api_swarm_inactive},
    {NULL, NULL, NULL},
};
