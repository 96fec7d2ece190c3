/* container_exec.c: docker exec, a process joining a running container. */
#include "engine/engine.h"
#include "engine/spec.h"
#include "image/image.h"
#include "runtime/runtime.h"

#include <string.h>
#include <sys/socket.h>

/* The exec's user, resolved against the container's own /etc/passwd. */
static int resolve_exec_user(struct mk_engine *e, const struct mk_container *c, const char *user,
                             json_t *process, mk_err **err)
{
    struct mk_image *img = NULL;
    if (mk_image_get_for_container(e->store, c->image_id, &img, err) < 0)
        return -1;
    _cleanup_strv_ char **lowers = NULL;
    int r = mk_image_lower_dirs(e->store, img, &lowers, err);
    mk_image_free(img);
    if (r < 0)
        return -1;
    _cleanup_free_ char *dir = mk_store_container_dir(e->store, c->id);
    _cleanup_strv_ char **dirs = NULL;
    mk_strv_push_owned(&dirs, mk_path_join(dir, "upper"));
    for (size_t i = 0; lowers[i] != NULL; i++)
        mk_strv_push(&dirs, lowers[i]);
    _cleanup_free_ char *passwd = mk_layers_find_file(dirs, "etc/passwd");
    _cleanup_free_ char *group = mk_layers_find_file(dirs, "etc/group");
    uid_t uid;
    gid_t gid;
    _cleanup_free_ gid_t *extra = NULL;
    size_t n_extra = 0;
    _cleanup_free_ char *home = NULL;
    if (mk_spec_resolve_user(user, passwd, group, &uid, &gid, &extra, &n_extra, &home, err) < 0)
        return -1;
    json_t *gids = json_array();
    for (size_t i = 0; i < n_extra; i++)
        json_array_append_new(gids, json_integer(extra[i]));
    json_object_set_new(process, "user",
                        json_pack("{s:I,s:I,s:o}", "uid", (json_int_t)uid, "gid", (json_int_t)gid,
                                  "additionalGids", gids));
    return 0;
}

static void env_set(json_t *env, const char *kv)
{
    size_t klen = strcspn(kv, "=");
    size_t i;
    json_t *old;
    json_array_foreach(env, i, old)
    {
        const char *o = json_string_value(old);
        if (o != NULL && strncmp(o, kv, klen) == 0 && o[klen] == '=') {
            json_array_set_new(env, i, json_string(kv));
            return;
        }
    }
    json_array_append_new(env, json_string(kv));
}

int mk_container_exec(struct mk_engine *e, const char *ref, const json_t *opts, int stdin_fd,
                      int stdout_fd, int stderr_fd, int *pty_master, pid_t *pid, mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    int ret = -1;
    json_t *spec = NULL;
    json_t *process = NULL;
    _cleanup_close_ int console_ours = -1, console_theirs = -1;
    _cleanup_free_ char *dir = mk_store_container_dir(e->store, c->id);
    _cleanup_free_ char *cfg = mk_path_join(dir, "config.json");
    if (strcmp(c->status, "paused") == 0) {
        mk_err_set(err, MK_ERR_CONFLICT, "Container %s is paused, unpause the container before exec",
                   ref);
        goto out;
    }
    if (!mk_container_is_running(c)) {
        mk_err_set(err, MK_ERR_CONFLICT, "Container %s is not running", c->id);
        goto out;
    }
    const json_t *cmd = json_object_get(opts, "Cmd");
    if (json_array_size(cmd) == 0) {
        mk_err_set(err, MK_ERR_INVALID, "No exec command specified");
        goto out;
    }
    if (mk_json_bool(opts, "Privileged", false)) {
        mk_err_set(err, MK_ERR_UNSUPPORTED, "exec --privileged is not supported by mocker yet");
        goto out;
    }
    spec = mk_json_load_file(cfg, err);
    if (spec == NULL)
        goto out;
    process = json_deep_copy(json_object_get(spec, "process"));
    json_object_set(process, "args", (json_t *)cmd);
    json_t *env = json_object_get(process, "env");
    size_t i;
    json_t *kv;
    json_array_foreach(json_object_get(opts, "Env"), i, kv)
    {
        if (json_is_string(kv))
            env_set(env, json_string_value(kv));
    }
    const char *wd = mk_json_str(opts, "WorkingDir");
    if (wd != NULL && *wd != '\0')
        json_object_set_new(process, "cwd", json_string(wd));
    const char *user = mk_json_str(opts, "User");
    if (user != NULL && *user != '\0' && resolve_exec_user(e, c, user, process, err) < 0)
        goto out;
    bool tty = mk_json_bool(opts, "Tty", false);
    json_object_set_new(process, "terminal", json_boolean(tty));
    struct mk_runtime_io io = {stdin_fd, stdout_fd, stderr_fd, -1};
    if (tty) {
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
            mk_err_sys(err, "socketpair");
            goto out;
        }
        console_ours = sp[0];
        console_theirs = sp[1];
        io.console_sock = console_theirs;
    }
    if (mk_runtime_exec(c->pid, spec, process, &io, pid, err) < 0)
        goto out;
    if (tty) {
        close(steal_fd(&console_theirs));
        int master = mk_recv_fd(console_ours, err);
        if (master < 0)
            goto out;
        *pty_master = master;
    }
    ret = 0;
out:
    json_decref(process);
    json_decref(spec);
    mk_container_free(c);
    return ret;
}
