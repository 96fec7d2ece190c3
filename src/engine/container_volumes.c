/* container_volumes.c: a new container's volumes and other mounts, resolved at
 * create into its config's MountPoints (what inspect shows as Mounts, what the
 * spec mounts, what marks a volume in use):
 *   -v NAME:/dst[:mode]   a named volume, made if missing;
 *   -v /dst, image VOLUMEs, --mount type=volume without source: anonymous
 *                         volumes with random names, removed by rm -v and --rm;
 *   --mount type=volume|bind|tmpfs, docker's HostConfig.Mounts;
 *   --volumes-from C[:ro|rw]: C's mount points (and its host binds).
 * -v /host:/dst binds and --tmpfs stay in Binds/Tmpfs, mounted by spec.c as
 * before.  A volume that is still empty is filled from the image's content at
 * the destination (docker's copy-up), unless nocopy.  Private keys beside
 * docker's: TmpfsData (a --mount tmpfs's options), HostSource (what a
 * -o o=bind,device=DIR volume really mounts). */
#include "engine/internal.h"
#include "engine/spec.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct prep {
    struct mk_engine *e;
    json_t *points;    /* MountPoints */
    json_t *dests;     /* destinations taken: Binds, Tmpfs and points */
    char **made;       /* volumes made here, removed again if create fails */
    char **copy_dests; /* destinations of volumes to fill from the image */
};

/* s cut at every sep, empty fields kept ("a::b" is three). */
static char **split(const char *s, char sep)
{
    char **v = xcalloc(1, sizeof(*v));
    for (;;) {
        const char *end = strchr(s, sep);
        mk_strv_push_owned(&v, end ? xstrndup(s, (size_t)(end - s)) : xstrdup(s));
        if (end == NULL)
            return v;
        s = end + 1;
    }
}

static int take_dest(struct prep *p, const char *dest, mk_err **err)
{
    if (json_object_get(p->dests, dest) != NULL)
        return mk_err_set(err, MK_ERR_INVALID, "Duplicate mount point: %s", dest);
    json_object_set_new(p->dests, dest, json_true());
    return 0;
}

/* A volume mount point: name NULL or "" makes an anonymous volume. */
static int add_volume(struct prep *p, const char *name, const char *dest, bool ro, const char *mode,
                      bool nocopy, const json_t *labels, mk_err **err)
{
    _cleanup_free_ char *clean = mk_spec_path_clean(dest);
    if (*clean != '/')
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid mount config for type \"volume\": invalid mount path: '%s' "
                          "mount path must be absolute",
                          dest);
    if (take_dest(p, clean, err) < 0)
        return -1;
    bool anonymous = name == NULL || *name == '\0';
    struct mk_volume *v = NULL;
    if (!anonymous && mk_volume_get(p->e, name, &v, NULL) == 0) {
        /* an existing volume is filled too while it is still empty */
    } else {
        struct mk_volume_create_opts o = {
            .name = anonymous ? NULL : name, .labels = (json_t *)labels, .anonymous = anonymous};
        if (mk_volume_create(p->e, &o, &v, err) < 0)
            return -1;
        mk_strv_push(&p->made, v->name);
    }
    _cleanup_free_ char *src = mk_volume_data_path(p->e, v->name);
    json_t *mp = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:s}", "Type", "volume", "Name", v->name,
                           "Source", src, "Destination", clean, "Driver", v->driver, "Mode", mode,
                           "RW", !ro, "Propagation", "");
    /* -o o=bind,device=DIR: DIR is what is mounted (docker binds it onto
     * _data at first use; here the container binds it directly) */
    const char *device = mk_volume_bind_device(v->options);
    struct stat st;
    int e = 0;
    if (device != NULL && stat(device, &st) < 0)
        e = errno;
    else if (device != NULL && !S_ISDIR(st.st_mode))
        e = ENOTDIR;
    if (e != 0) {
        /* Go spells errno texts in lower case */
        _cleanup_free_ char *why = xstrdup(strerror(e));
        why[0] = (char)tolower((unsigned char)why[0]);
        mk_err_set(err, MK_ERR_INVALID,
                   "error while mounting volume '%s': failed to mount local volume: mount "
                   "%s:%s, flags: 0x1000: %s",
                   src, device, src, why);
        json_decref(mp);
        mk_volume_free(v);
        return -1;
    }
    if (device != NULL)
        json_object_set_new(mp, "HostSource", json_string(device));
    json_array_append_new(p->points, mp);
    if (!nocopy)
        mk_strv_push(&p->copy_dests, clean);
    mk_volume_free(v);
    return 0;
}

/* -v entries that are volumes (a name or no source): the rest are binds. */
static int from_binds(struct prep *p, const json_t *binds, mk_err **err)
{
    size_t i;
    json_t *b;
    json_array_foreach((json_t *)binds, i, b)
    {
        const char *raw = json_string_value(b);
        if (raw == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "Binds entries must be strings");
        _cleanup_strv_ char **parts = split(raw, ':');
        size_t n = mk_strv_len(parts);
        const char *src = NULL, *dst, *mode = "";
        if (n == 1) {
            dst = parts[0];
        } else if (n == 2 && parts[1][0] != '/') {
            dst = parts[0]; /* "/dst:ro" */
            mode = parts[1];
        } else {
            src = parts[0];
            dst = parts[1];
            mode = n > 2 ? parts[2] : "";
        }
        if (src != NULL && src[0] == '/') {
            _cleanup_free_ char *clean = mk_spec_path_clean(dst);
            if (take_dest(p, clean, err) < 0)
                return -1;
            continue;
        }
        if (n > 3 || *dst == '\0')
            return mk_err_set(err, MK_ERR_INVALID, "invalid volume specification: '%s'", raw);
        if (src != NULL && !mk_volume_name_valid(src) && strlen(src) >= 2)
            return mk_err_set(err, MK_ERR_INVALID,
                              "create %s: \"%s\" includes invalid characters for a local volume "
                              "name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
                              "intended to pass a host directory, use absolute path",
                              src, src);
        bool ro = false, nocopy = false;
        _cleanup_strv_ char **opts = split(mode, ',');
        for (size_t k = 0; opts[k] != NULL; k++) {
            if (strcmp(opts[k], "ro") == 0)
                ro = true;
            else if (strcmp(opts[k], "nocopy") == 0)
                nocopy = true;
            else if (strcmp(opts[k], "rw") != 0 && strcmp(opts[k], "z") != 0 &&
                     strcmp(opts[k], "Z") != 0 && *opts[k] != '\0')
                return mk_err_set(err, MK_ERR_INVALID, "invalid mode: %s", mode);
        }
        /* docker shows a named volume's empty mode as "z" */
        const char *shown = *mode != '\0' ? mode : src != NULL ? "z" : "";
        if (add_volume(p, src, dst, ro, shown, nocopy, NULL, err) < 0)
            return -1;
    }
    return 0;
}

static int refuse_key(const char *type, const char *what, mk_err **err)
{
    return mk_err_set(err, MK_ERR_UNSUPPORTED,
                      "invalid mount config for type \"%s\": %s is not supported by mocker", type,
                      what);
}

static int mount_bind(struct prep *p, const json_t *m, const char *dest, mk_err **err)
{
    const char *src = mk_json_str(m, "Source");
    if (src == NULL || *src == '\0')
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid mount config for type \"bind\": field Source must not be empty");
    if (*src != '/')
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid mount config for type \"bind\": invalid mount path: '%s' mount "
                          "path must be absolute",
                          src);
    struct stat st;
    if (stat(src, &st) < 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid mount config for type \"bind\": bind source path does not "
                          "exist: %s",
                          src);
    const json_t *bo = json_object_get(m, "BindOptions");
    static const char *const refused[] = {"NonRecursive", "CreateMountpoint",
                                          "ReadOnlyNonRecursive", "ReadOnlyForceRecursive", NULL};
    for (size_t k = 0; refused[k] != NULL; k++)
        if (mk_json_bool(bo, refused[k], false))
            return refuse_key("bind", refused[k], err);
    const char *prop = mk_json_str(bo, "Propagation");
    if (prop == NULL || *prop == '\0')
        prop = "rprivate";
    static const char *const props[] = {"private", "rprivate", "shared", "rshared",
                                        "slave",   "rslave",   NULL};
    bool known = false;
    for (size_t k = 0; props[k] != NULL; k++)
        known = known || strcmp(props[k], prop) == 0;
    if (!known)
        return mk_err_set(err, MK_ERR_INVALID, "invalid propagation mode: %s", prop);
    if (take_dest(p, dest, err) < 0)
        return -1;
    _cleanup_free_ char *clean_src = mk_spec_path_clean(src);
    json_array_append_new(p->points,
                          json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "Type", "bind", "Source",
                                    clean_src, "Destination", dest, "Mode", "", "RW",
                                    !mk_json_bool(m, "ReadOnly", false), "Propagation", prop));
    return 0;
}

static int mount_tmpfs(struct prep *p, const json_t *m, const char *dest, mk_err **err)
{
    const char *src = mk_json_str(m, "Source");
    if (src != NULL && *src != '\0')
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid mount config for type \"tmpfs\": field Source must not be "
                          "specified");
    if (mk_json_bool(m, "ReadOnly", false))
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid mount config for type \"tmpfs\": tmpfs mounts cannot be "
                          "read-only");
    const json_t *to = json_object_get(m, "TmpfsOptions");
    if (!mk_json_is_empty(json_object_get(to, "Options")))
        return refuse_key("tmpfs", "TmpfsOptions.Options", err);
    mk_buf data = {0};
    int64_t size = mk_json_int(to, "SizeBytes", 0);
    if (size < 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "invalid mount config for type \"tmpfs\": invalid tmpfs size");
    if (size > 0)
        mk_buf_printf(&data, "size=%lld", (long long)size);
    int64_t mode = mk_json_int(to, "Mode", 0);
    if (mode != 0)
        mk_buf_printf(&data, "%smode=%llo", data.len > 0 ? "," : "", (long long)mode);
    if (take_dest(p, dest, err) < 0) {
        mk_buf_free(&data);
        return -1;
    }
    json_array_append_new(p->points,
                          json_pack("{s:s,s:s,s:s,s:s,s:b,s:s,s:s}", "Type", "tmpfs", "Source", "",
                                    "Destination", dest, "Mode", "", "RW", 1, "Propagation", "",
                                    "TmpfsData", data.data ? data.data : ""));
    mk_buf_free(&data);
    return 0;
}

static int from_mounts(struct prep *p, const json_t *mounts, mk_err **err)
{
    size_t i;
    json_t *m;
    json_array_foreach((json_t *)mounts, i, m)
    {
        const char *type = mk_json_str(m, "Type");
        const char *target = mk_json_str(m, "Target");
        if (type == NULL || *type == '\0')
            type = "volume";
        if (target == NULL || *target == '\0')
            return mk_err_set(err, MK_ERR_INVALID,
                              "invalid mount config for type \"%s\": field Target must not be "
                              "empty",
                              type);
        _cleanup_free_ char *dest = mk_spec_path_clean(target);
        if (*dest != '/')
            return mk_err_set(err, MK_ERR_INVALID,
                              "invalid mount config for type \"%s\": invalid mount path: '%s' "
                              "mount path must be absolute",
                              type, target);
        const char *cons = mk_json_str(m, "Consistency");
        if (cons != NULL && *cons != '\0' && strcmp(cons, "default") != 0 &&
            strcmp(cons, "consistent") != 0 && strcmp(cons, "cached") != 0 &&
            strcmp(cons, "delegated") != 0)
            return mk_err_set(err, MK_ERR_INVALID, "invalid consistency: %s", cons);
        int r;
        if (strcmp(type, "volume") == 0) {
            const json_t *vo = json_object_get(m, "VolumeOptions");
            const json_t *dc = json_object_get(vo, "DriverConfig");
            const char *driver = mk_json_str(dc, "Name");
            if ((driver != NULL && *driver != '\0' && strcmp(driver, "local") != 0) ||
                json_object_size(json_object_get(dc, "Options")) > 0)
                return refuse_key("volume", "volume-driver and volume-opt", err);
            if (!mk_json_is_empty(json_object_get(vo, "Subpath")))
                return refuse_key("volume", "volume-subpath", err);
            r = add_volume(p, mk_json_str(m, "Source"), dest, mk_json_bool(m, "ReadOnly", false),
                           "z", mk_json_bool(vo, "NoCopy", false), json_object_get(vo, "Labels"),
                           err);
        } else if (strcmp(type, "bind") == 0) {
            r = mount_bind(p, m, dest, err);
        } else if (strcmp(type, "tmpfs") == 0) {
            r = mount_tmpfs(p, m, dest, err);
        } else {
            return mk_err_set(err, MK_ERR_UNSUPPORTED, "mount type \"%s\" is not supported by mocker",
                              type);
        }
        if (r < 0)
            return -1;
    }
    return 0;
}

/* --volumes-from C[:ro|rw]: C's volumes and binds, ro/rw overriding theirs. */
static int from_containers(struct prep *p, const json_t *from, mk_err **err)
{
    size_t i;
    json_t *f;
    json_array_foreach((json_t *)from, i, f)
    {
        const char *spec = json_string_value(f);
        if (spec == NULL)
            return mk_err_set(err, MK_ERR_INVALID, "VolumesFrom entries must be strings");
        _cleanup_free_ char *ref = xstrdup(spec);
        char *mode = strchr(ref, ':');
        if (mode != NULL)
            *mode++ = '\0';
        if (mode != NULL && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
            return mk_err_set(err, MK_ERR_INVALID, "invalid mode for volumes-from: %s", mode);
        struct mk_container *c = NULL;
        if (mk_store_container_get(p->e->store, ref, &c, err) < 0)
            return -1;
        _cleanup_json_ json_t *add = json_array();
        size_t k;
        json_t *mp;
        json_array_foreach(json_object_get(c->config, "MountPoints"), k, mp)
            json_array_append_new(add, json_deep_copy(mp));
        json_array_foreach(json_object_get(json_object_get(c->config, "HostConfig"), "Binds"), k, mp)
        {
            _cleanup_strv_ char **parts = split(json_string_value(mp) ? json_string_value(mp) : "", ':');
            if (mk_strv_len(parts) < 2 || parts[0][0] != '/')
                continue;
            const char *m = mk_strv_len(parts) > 2 ? parts[2] : "";
            bool ro = strstr(m, "ro") != NULL;
            _cleanup_free_ char *d = mk_spec_path_clean(parts[1]);
            json_array_append_new(add, json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}", "Type", "bind",
                                                 "Source", parts[0], "Destination", d, "Mode", m,
                                                 "RW", !ro, "Propagation", "rprivate"));
        }
        mk_container_free(c);
        json_array_foreach(add, k, mp)
        {
            if (take_dest(p, mk_json_str(mp, "Destination"), err) < 0)
                return -1;
            if (mode != NULL) {
                json_object_set_new(mp, "RW", json_boolean(strcmp(mode, "rw") == 0));
                json_object_set_new(mp, "Mode", json_string(mode));
            }
            json_array_append(p->points, mp);
        }
    }
    return 0;
}

void mk_engine_volumes_undo(struct mk_engine *e, char **made)
{
    /* The caller holds the volumes lock (shared) since it made them: taking
     * it again, exclusively, would wait for ourselves. */
    for (size_t i = 0; made != NULL && made[i] != NULL; i++) {
        _cleanup_err_ mk_err *ignored = NULL;
        mk_volume_discard(e, made[i], &ignored);
    }
}

int mk_engine_volumes_prepare(struct mk_engine *e, const json_t *host_config,
                              const json_t *config, json_t **points, char ***made,
                              char ***copy_dests, mk_err **err)
{
    struct prep p = {.e = e, .points = json_array(), .dests = json_object()};
    size_t i;
    json_t *v;
    const char *key;
    json_object_foreach((json_t *)json_object_get(host_config, "Tmpfs"), key, v)
    {
        _cleanup_free_ char *clean = mk_spec_path_clean(key);
        json_object_set_new(p.dests, clean, json_true());
    }
    int r = from_binds(&p, json_object_get(host_config, "Binds"), err);
    if (r == 0)
        r = from_mounts(&p, json_object_get(host_config, "Mounts"), err);
    if (r == 0)
        r = from_containers(&p, json_object_get(host_config, "VolumesFrom"), err);
    /* The image's VOLUMEs: anonymous volumes where nothing else is mounted. */
    json_object_foreach((json_t *)json_object_get(config, "Volumes"), key, v)
    {
        if (r < 0)
            break;
        _cleanup_free_ char *clean = mk_spec_path_clean(key);
        if (json_object_get(p.dests, clean) == NULL)
            r = add_volume(&p, NULL, clean, false, "", false, NULL, err);
    }
    (void)i;
    json_decref(p.dests);
    if (r < 0) {
        mk_engine_volumes_undo(e, p.made);
        mk_strv_free(p.made);
        mk_strv_free(p.copy_dests);
        json_decref(p.points);
        return -1;
    }
    *points = p.points;
    *made = p.made;
    *copy_dests = p.copy_dests;
    return 0;
}

/* Fill one volume from the container's filesystem: a child streams the
 * image's directory as tar into a pipe, we extract it under the volume's
 * data directory (resolved inside it: nothing lands outside). */
static int copy_up_one(struct mk_container_fs *fs, const char *dest, const char *data,
                       mk_err **err)
{
    struct mk_path_stat st = {0};
    _cleanup_err_ mk_err *missing = NULL;
    if (mk_container_fs_stat(fs, dest, &st, &missing) < 0)
        return 0; /* nothing in the image there */
    bool dir = S_ISDIR(st.st.st_mode);
    mk_path_stat_clear(&st);
    if (!dir || !mk_dir_is_empty_at(AT_FDCWD, data))
        return 0;
    _cleanup_close_ int root = open(data, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return mk_err_sys(err, "open %s", data);
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        return mk_err_sys(err, "pipe");
    pid_t child = fork();
    if (child < 0) {
        close(pfd[0]);
        close(pfd[1]);
        return mk_err_sys(err, "fork");
    }
    if (child == 0) {
        close(pfd[0]);
        _cleanup_free_ char *contents = xasprintf("%s/.", dest);
        _exit(mk_container_fs_archive(fs, contents, NULL, pfd[1], NULL) < 0 ? 1 : 0);
    }
    close(pfd[1]);
    struct mk_tar_extract_opts o = {.chown = true};
    int r = mk_tar_extract(root, "/", pfd[0], &o, NULL, err);
    close(pfd[0]);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    if (r == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        r = mk_err_set(err, MK_ERR_INTERNAL, "reading %s from the image failed", dest);
    return r < 0 ? mk_err_wrap(err, "copy the image's %s into its volume", dest) : 0;
}

int mk_engine_volumes_copy_up(struct mk_engine *e, const char *id, const json_t *points,
                              char *const *dests, mk_err **err)
{
    if (dests == NULL || dests[0] == NULL)
        return 0;
    struct mk_container_fs *fs = NULL;
    if (mk_container_fs_open(e, id, &fs, err) < 0)
        return -1;
    int r = 0;
    for (size_t i = 0; r == 0 && dests[i] != NULL; i++) {
        size_t k;
        json_t *mp;
        json_array_foreach((json_t *)points, k, mp)
        {
            if (strcmp(mk_json_str(mp, "Destination"), dests[i]) == 0 &&
                strcmp(mk_json_str(mp, "Type"), "volume") == 0) {
                const char *host = mk_json_str(mp, "HostSource");
                r = copy_up_one(fs, dests[i], host ? host : mk_json_str(mp, "Source"), err);
                break;
            }
        }
    }
    mk_container_fs_close(fs);
    return r;
}

void mk_engine_remove_anon_volumes(struct mk_engine *e, const struct mk_container *c)
{
    size_t i;
    json_t *mp;
    json_array_foreach(json_object_get(c->config, "MountPoints"), i, mp)
    {
        const char *name = mk_json_str(mp, "Name");
        struct mk_volume *v = NULL;
        if (name == NULL || mk_volume_get(e, name, &v, NULL) < 0)
            continue;
        /* another container may use it (--volumes-from): then it stays */
        if (v->anonymous) {
            _cleanup_err_ mk_err *ignored = NULL;
            mk_volume_remove(e, name, false, &ignored);
        }
        mk_volume_free(v);
    }
}

json_t *mk_engine_mount_points_json(const json_t *points)
{
    json_t *out = json_array();
    size_t i;
    json_t *mp;
    json_array_foreach((json_t *)points, i, mp)
    {
        json_t *o = json_deep_copy(mp);
        json_object_del(o, "TmpfsData");
        json_object_del(o, "HostSource");
        json_array_append_new(out, o);
    }
    return out;
}
