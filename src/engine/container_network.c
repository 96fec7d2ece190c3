/* container_network.c: what a running container's network looks like from
 * outside, as its monitor publishes it.
 *
 * The monitor writes <rundir>/network.json when it has set the container's
 * network up: docker's NetworkSettings fields that only exist while the
 * container runs (SandboxKey, Ports, and per network the address, gateway,
 * MAC, endpoint).  It lives in the run directory (tmpfs, gone at reboot, like
 * the state it describes) and goes with the container's exit. */
#include "engine/engine.h"
#include "engine/internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int mk_container_net_state_write(struct mk_engine *e, const char *id, const json_t *state,
                                 mk_err **err)
{
    _cleanup_free_ char *rundir = mk_store_container_rundir(e->store, id);
    _cleanup_close_ int dfd = open(rundir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return mk_err_sys(err, "open %s", rundir);
    _cleanup_free_ char *data = mk_json_dump(state);
    return mk_write_file_replace_at(dfd, "network.json", data, strlen(data), 0600, err);
}

json_t *mk_container_net_state(struct mk_engine *e, const struct mk_container *c)
{
    if (!mk_container_is_running(c))
        return NULL;
    _cleanup_free_ char *rundir = mk_store_container_rundir(e->store, c->id);
    _cleanup_free_ char *path = mk_path_join(rundir, "network.json");
    return mk_json_load_file(path, NULL);
}

void mk_container_net_state_remove(struct mk_engine *e, const char *id)
{
    _cleanup_free_ char *rundir = mk_store_container_rundir(e->store, id);
    _cleanup_free_ char *path = mk_path_join(rundir, "network.json");
    unlink(path);
}

int mk_container_port_lines(struct mk_engine *e, const char *ref, const char *private_port,
                            char ***out, mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    _cleanup_json_ json_t *state = mk_container_net_state(e, c);
    const json_t *ports = json_object_get(state, "Ports");
    _cleanup_free_ char *want = NULL;
    if (private_port != NULL)
        want = strchr(private_port, '/') ? xstrdup(private_port) : xasprintf("%s/tcp", private_port);
    size_t nkeys = json_object_size(ports), k = 0;
    const char **keys = xcalloc(nkeys + 1, sizeof(*keys));
    const char *key;
    json_t *list;
    json_object_foreach((json_t *)ports, key, list)
        keys[k++] = key;
    qsort(keys, k, sizeof(*keys), mk_port_key_cmp);
    char **lines = NULL;
    size_t n = 0;
    for (size_t i = 0; i < k; i++) {
        if (want != NULL && strcmp(keys[i], want) != 0)
            continue;
        size_t j;
        json_t *b;
        json_array_foreach(json_object_get(ports, keys[i]), j, b)
        {
            const char *ip = mk_json_str(b, "HostIp"), *port = mk_json_str(b, "HostPort");
            lines = xrealloc(lines, (n + 2) * sizeof(*lines));
            lines[n++] = want != NULL ? xasprintf("%s:%s", ip, port)
                                      : xasprintf("%s -> %s:%s", keys[i], ip, port);
            lines[n] = NULL;
        }
    }
    free(keys);
    int ret = 0;
    if (want != NULL && n == 0)
        ret = mk_err_set(err, MK_ERR_NOT_FOUND, "No public port '%s' published for %s", want,
                         ref);
    mk_container_free(c);
    if (ret < 0) {
        mk_strv_free(lines);
        return -1;
    }
    *out = lines != NULL ? lines : xcalloc(1, sizeof(char *));
    return 0;
}
