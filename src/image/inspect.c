/* inspect.c: docker image inspect's JSON for a local image, in dockerd 20.10's
 * shape (the Engine API's ImageInspect).  Deliberate differences: no
 * "Container"/"ContainerConfig" (deprecated, gone from the API since 1.45, and
 * empty for anything but a commit); GraphDriver.Data names the layer dirs that
 * exist (UpperDir, LowerDir), not a merged/work dir, which mocker never makes
 * for an image; Metadata.LastTagTime is not recorded (Go's zero time). */
#include "image/image.h"

#include <string.h>

/* Copy key from the OCI config into c, or null when it is absent. */
static void copy_or_null(json_t *c, const json_t *oci, const char *key)
{
    json_t *v = json_object_get(oci, key);
    json_object_set_new(c, key, v != NULL ? json_deep_copy(v) : json_null());
}

static void copy_if_set(json_t *c, const json_t *oci, const char *key)
{
    json_t *v = json_object_get(oci, key);
    if (v != NULL && !json_is_null(v))
        json_object_set_new(c, key, json_deep_copy(v));
}

/* An OCI image config's "config" as docker's container.Config, its fields in
 * Go's order, omitempty ones only when set. */
static json_t *container_config(const json_t *oci)
{
    json_t *c = json_object();
    json_object_set_new(c, "Hostname", json_string(""));
    json_object_set_new(c, "Domainname", json_string(""));
    json_object_set_new(c, "User", json_string(mk_json_str(oci, "User") ?: ""));
    json_object_set_new(c, "AttachStdin", json_false());
    json_object_set_new(c, "AttachStdout", json_false());
    json_object_set_new(c, "AttachStderr", json_false());
    if (json_object_size(json_object_get(oci, "ExposedPorts")) > 0)
        copy_if_set(c, oci, "ExposedPorts");
    json_object_set_new(c, "Tty", json_false());
    json_object_set_new(c, "OpenStdin", json_false());
    json_object_set_new(c, "StdinOnce", json_false());
    copy_or_null(c, oci, "Env");
    copy_or_null(c, oci, "Cmd");
    copy_if_set(c, oci, "Healthcheck");
    if (mk_json_bool(oci, "ArgsEscaped", false))
        json_object_set_new(c, "ArgsEscaped", json_true());
    json_object_set_new(c, "Image", json_string(""));
    copy_or_null(c, oci, "Volumes");
    json_object_set_new(c, "WorkingDir", json_string(mk_json_str(oci, "WorkingDir") ?: ""));
    copy_or_null(c, oci, "Entrypoint");
    copy_or_null(c, oci, "OnBuild");
    copy_or_null(c, oci, "Labels");
    copy_if_set(c, oci, "StopSignal");
    copy_if_set(c, oci, "Shell");
    return c;
}

static json_t *familiar_list(char *const *refs)
{
    json_t *a = json_array();
    for (size_t i = 0; refs != NULL && refs[i] != NULL; i++) {
        _cleanup_free_ char *f = mk_ref_familiarize(refs[i]);
        json_array_append_new(a, json_string(f));
    }
    return a;
}

/* overlay2's view: the top layer as UpperDir, the ones under it as LowerDir. */
static json_t *graph_driver(struct mk_store *s, const struct mk_image *img)
{
    _cleanup_strv_ char **dirs = NULL;
    _cleanup_err_ mk_err *ignored = NULL;
    json_t *data = json_null();
    if (json_array_size(json_object_get(json_object_get(img->config, "rootfs"), "diff_ids")) > 0 &&
        mk_image_lower_dirs(s, img, &dirs, &ignored) == 0) {
        data = json_object();
        if (dirs[1] != NULL) {
            _cleanup_free_ char *lower = mk_strv_join(dirs + 1, ":");
            json_object_set_new(data, "LowerDir", json_string(lower));
        }
        json_object_set_new(data, "UpperDir", json_string(dirs[0]));
    }
    return json_pack("{s:o,s:s}", "Data", data, "Name", "overlay2");
}

json_t *mk_image_inspect_json(struct mk_store *s, const struct mk_image *img)
{
    const json_t *cfg = img->config;
    _cleanup_free_ char *created = mk_time_rfc3339(img->created);
    /* docker's Comment is the last history entry's (import -m, commit -m) */
    const json_t *hist = json_object_get(cfg, "history");
    const char *comment = mk_json_str(json_array_get(hist, json_array_size(hist) - 1), "comment");
    const json_t *layers = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
    json_t *j = json_pack("{s:s,s:o,s:o,s:s,s:s,s:s,s:s,s:s,s:o,s:s}", "Id", img->id, "RepoTags",
                          familiar_list(img->tags), "RepoDigests", familiar_list(img->digests),
                          "Parent", img->parent ?: "", "Comment",
                          comment ?: (mk_json_str(cfg, "comment") ?: ""), "Created", created,
                          "DockerVersion", mk_json_str(cfg, "docker_version") ?: "", "Author",
                          mk_json_str(cfg, "author") ?: "", "Config",
                          container_config(json_object_get(cfg, "config")), "Architecture",
                          mk_json_str(cfg, "architecture") ?: "");
    const char *variant = mk_json_str(cfg, "variant");
    if (variant != NULL && *variant != '\0')
        json_object_set_new(j, "Variant", json_string(variant));
    json_object_set_new(j, "Os", json_string(mk_json_str(cfg, "os") ?: "linux"));
    const char *os_version = mk_json_str(cfg, "os.version");
    if (os_version != NULL && *os_version != '\0')
        json_object_set_new(j, "OsVersion", json_string(os_version));
    json_object_set_new(j, "Size", json_integer(img->size));
    json_object_set_new(j, "VirtualSize", json_integer(img->size));
    json_object_set_new(j, "GraphDriver", graph_driver(s, img));
    json_object_set_new(j, "RootFS",
                        json_pack("{s:s,s:o}", "Type", "layers", "Layers",
                                  layers ? json_deep_copy(layers) : json_array()));
    json_object_set_new(j, "Metadata", json_pack("{s:s}", "LastTagTime", "0001-01-01T00:00:00Z"));
    return j;
}
