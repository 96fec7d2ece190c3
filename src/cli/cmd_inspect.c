/* cmd_inspect.c: docker inspect, container inspect and image inspect. */
#include "cli/cli.h"
#include "cli/format.h"
#include "image/image.h"

#include <string.h>

enum kind { ANY, CONTAINER, IMAGE };

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
                obj = mk_image_inspect_json(e->store, img);
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
