/* cmd_inspect.c: docker inspect, container inspect and image inspect. */
#include "cli/cli.h"
#include "cli/format.h"
#include "image/image.h"

#include <string.h>

enum kind { ANY, CONTAINER, IMAGE };

/* docker image inspect's shape. */
static json_t *image_inspect_json(const struct mk_image *img)
{
    const json_t *cfg = img->config;
    _cleanup_free_ char *created = mk_time_rfc3339(img->created);
    json_t *tags = json_array();
    for (size_t i = 0; img->tags && img->tags[i]; i++) {
        _cleanup_free_ char *f = mk_ref_familiarize(img->tags[i]);
        json_array_append_new(tags, json_string(f));
    }
    json_t *digests = json_array();
    for (size_t i = 0; img->digests && img->digests[i]; i++) {
        _cleanup_free_ char *f = mk_ref_familiarize(img->digests[i]);
        json_array_append_new(digests, json_string(f));
    }
    json_t *config = json_deep_copy(json_object_get(cfg, "config"));
    if (config == NULL)
        config = json_object();
    json_t *rootfs = json_deep_copy(json_object_get(cfg, "rootfs"));
    json_t *layers = rootfs ? json_object_get(rootfs, "diff_ids") : NULL;
    json_t *j = json_pack("{s:s,s:o,s:o,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:I,s:{s:n,s:s},s:{s:s,s:O},s:{s:s}}",
                          "Id", img->id, "RepoTags", tags, "RepoDigests", digests, "Parent", img->parent ?: "",
                          "Comment", mk_json_str(cfg, "comment") ?: "", "Created", created, "DockerVersion", "", "Author",
                          mk_json_str(cfg, "author") ?: "", "Config", config, "Architecture",
                          mk_json_str(cfg, "architecture") ?: "", "Os",
                          mk_json_str(cfg, "os") ?: "linux", "Variant",
                          mk_json_str(cfg, "variant") ?: "", "Size", (json_int_t)img->size,
                          "GraphDriver", "Data", "Name", "overlay2", "RootFS", "Type", "layers",
                          "Layers", layers ? layers : json_array(), "Metadata", "LastTagTime",
                          "0001-01-01T00:00:00Z");
    if (json_string_length(json_object_get(j, "Variant")) == 0)
        json_object_del(j, "Variant");
    const json_t *hist = json_object_get(cfg, "history");
    const char *comment = mk_json_str(json_array_get(hist, json_array_size(hist) - 1), "comment");
    if (comment != NULL)
        json_object_set_new(j, "Comment", json_string(comment));
    json_decref(rootfs);
    return j;
}

static int inspect_main(int argc, char **argv, enum kind fixed, const char *name, const char *usage)
{
    const struct mk_cmd cmd = {name, usage, "Return low-level information on objects", true};
    char *format = NULL, *type = NULL;
    bool size = false;
    struct mk_opt opts[] = {
        {"format", 'f', MK_OPT_STRING, &format, "Format output using a custom template", NULL},
        {"type", 0, MK_OPT_STRING, &type, "Return JSON for specified type", NULL},
        {"size", 's', MK_OPT_REFUSED_BOOL, &size, "sizes come with the rest of the container commands", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    if (fixed != ANY)
        opts[1] = opts[3];
    _cleanup_strv_ char **rest = NULL;
    _cleanup_free_ char *fmt = NULL, *typ = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, (size_t)-1, &rest);
    fmt = format;
    typ = type;
    if (r >= 0)
        return r;
    enum kind k = fixed;
    if (typ != NULL) {
        if (strcmp(typ, "container") == 0)
            k = CONTAINER;
        else if (strcmp(typ, "image") == 0)
            k = IMAGE;
        else {
            fprintf(stderr, "\"%s\" is not a valid value for --type\n", typ);
            return 1;
        }
    }
    struct mk_template *tmpl = NULL;
    if (fmt != NULL && strcmp(fmt, "json") != 0 && mk_template_parse(fmt, &tmpl, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        mk_err_free(err);
        return 1;
    }
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL) {
        mk_template_free(tmpl);
        return 1;
    }
    int status = 0;
    json_t *out = json_array();
    mk_buf missing = {0};
    for (size_t i = 0; rest[i]; i++) {
        json_t *obj = NULL;
        if (k != IMAGE) {
            struct mk_container *c = NULL;
            if (mk_container_get(e, rest[i], &c, NULL) == 0) {
                obj = mk_container_inspect_json(e, c);
                mk_container_free(c);
            }
        }
        if (obj == NULL && k != CONTAINER) {
            struct mk_image *img = NULL;
            if (mk_image_lookup(e->store, rest[i], &img, NULL) == 0) {
                obj = image_inspect_json(img);
                mk_image_free(img);
            }
        }
        if (obj == NULL) {
            /* docker reports the missing ones after printing what it found */
            mk_buf_printf(&missing, "%s%s\n",
                          k == CONTAINER ? "Error response from daemon: No such container: "
                          : k == IMAGE   ? "Error response from daemon: No such image: "
                                         : "Error: No such object: ",
                          rest[i]);
            status = 1;
            continue;
        }
        if (tmpl != NULL) {
            mk_buf b = {0};
            if (mk_template_render(tmpl, obj, &b, &err) < 0) {
                fprintf(stderr, "%s\n", err->msg);
                mk_err_clear(&err);
                status = 1;
            } else {
                printf("%s\n", b.data ? b.data : "");
            }
            mk_buf_free(&b);
            json_decref(obj);
        } else if (fmt != NULL) {
            char *s = mk_json_dump(obj);
            printf("%s\n", s);
            free(s);
            json_decref(obj);
        } else {
            json_array_append_new(out, obj);
        }
    }
    if (tmpl == NULL && fmt == NULL && (json_array_size(out) > 0 || status != 0)) {
        char *s = mk_json_dump_pretty(out);
        printf("%s\n", s);
        free(s);
    }
    fflush(stdout);
    if (missing.len > 0)
        fputs(missing.data, stderr);
    mk_buf_free(&missing);
    json_decref(out);
    mk_template_free(tmpl);
    mk_engine_free(e);
    return status;
}

int cmd_inspect(int argc, char **argv)
{
    return inspect_main(argc, argv, ANY, "inspect", "inspect [OPTIONS] NAME|ID [NAME|ID...]");
}

int cmd_container_inspect(int argc, char **argv)
{
    return inspect_main(argc, argv, CONTAINER, "container inspect",
                        "container inspect [OPTIONS] CONTAINER [CONTAINER...]");
}

int cmd_image_inspect(int argc, char **argv)
{
    return inspect_main(argc, argv, IMAGE, "image inspect",
                        "image inspect [OPTIONS] IMAGE [IMAGE...]");
}
