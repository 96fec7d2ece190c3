/* daemon_config.c: reading daemon.json, which several layers consult (the
 * registry code for insecure-registries, the networks for bip), so that
 * each reads the same file the same way. */
#include "util/daemon_config.h"

#include <stdlib.h>
#include <unistd.h>

const char *mk_etc_dir(void)
{
    const char *e = getenv("MOCKER_ETC");
    return e != NULL && *e != '\0' ? e : "/etc/mocker";
}

int mk_daemon_config_load(json_t **out, mk_err **err)
{
    _cleanup_free_ char *path = mk_path_join(mk_etc_dir(), "daemon.json");
    if (access(path, F_OK) != 0) {
        *out = json_object();
        return 0;
    }
    json_t *cfg = mk_json_load_file(path, err);
    if (cfg == NULL)
        return mk_err_wrap(err, "%s", path);
    if (!json_is_object(cfg)) {
        json_decref(cfg);
        return mk_err_set(err, MK_ERR_INVALID, "%s: not a JSON object", path);
    }
    *out = cfg;
    return 0;
}
