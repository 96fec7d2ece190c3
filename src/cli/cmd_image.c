/* cmd_image.c: docker import, images, rmi and tag over the local store. */
#include "cli/cli.h"
#include "cli/format.h"
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>

int cmd_import(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"import", "import [OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
                                      "Import the contents from a tarball to create a filesystem image", true};
    _cleanup_strv_ char **changes = NULL;
    char *message = NULL;
    _cleanup_free_ char *platform = NULL;
    struct mk_opt opts[] = {
        {"change", 'c', MK_OPT_LIST, &changes, "Apply Dockerfile instruction to the created image", NULL},
        {"message", 'm', MK_OPT_STRING, &message, "Set commit message for imported image", NULL},
        {"platform", 0, MK_OPT_STRING, &platform, "Set platform if server is multi-platform capable", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    _cleanup_free_ char *msg = NULL;
    mk_err *err = NULL;
    int r = mk_args_parse(&cmd, argc, argv, opts, &rest, &err);
    msg = message;
    if (r != 0)
        return r > 0 ? 0 : mk_cli_usage_error(&cmd, err);
    if (mk_cli_check_args(&cmd, rest, 1, 2) != 0)
        return 1;
    struct mk_platform plat;
    if (platform != NULL && *platform != '\0' && mk_platform_parse(platform, &plat, &err) < 0)
        return mk_cli_fail(NULL, err, 1);
    const char *src = rest[0];
    if (strstr(src, "://") != NULL) {
        fprintf(stderr, "mocker: importing from a URL is not supported (no network access to fetch it); download it and import the file\n");
        return 1;
    }
    int fd = 0;
    if (strcmp(src, "-") != 0) {
        fd = open(src, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "open %s: %s\n", src, strerror(errno));
            return 1;
        }
    }
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    struct mk_import_opts io = {.ref = rest[1],
                                .changes = changes,
                                .message = msg,
                                .platform = platform != NULL && *platform ? &plat : NULL};
    _cleanup_free_ char *id = NULL;
    int status = 0;
    if (mk_image_import(e->store, fd, &io, &id, &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    else
        printf("%s\n", id);
    if (fd > 0)
        close(fd);
    mk_engine_free(e);
    return status;
}

static bool ref_matches(const char *pattern, const char *familiar_repo, const char *familiar)
{
    return fnmatch(pattern, familiar_repo, 0) == 0 || fnmatch(pattern, familiar, 0) == 0;
}

int cmd_images(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"images", "images [OPTIONS] [REPOSITORY[:TAG]]", "List images", true};
    bool all = false, quiet = false, digests = false, no_trunc = false;
    char *format = NULL;
    _cleanup_strv_ char **filters = NULL;
    struct mk_opt opts[] = {
        {"all", 'a', MK_OPT_BOOL, &all, "Show all images (default hides intermediate images)", NULL},
        {"digests", 0, MK_OPT_BOOL, &digests, "Show digests", NULL},
        {"filter", 'f', MK_OPT_LIST, &filters, "Filter output based on conditions provided", NULL},
        {"format", 0, MK_OPT_STRING, &format, "Format output using a custom template", NULL},
        {"no-trunc", 0, MK_OPT_BOOL, &no_trunc, "Don't truncate output", NULL},
        {"quiet", 'q', MK_OPT_BOOL, &quiet, "Only show image IDs", NULL},
        {"tree", 0, MK_OPT_REFUSED_BOOL, NULL, "the tree view is not implemented", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    _cleanup_free_ char *fmt = NULL;
    mk_err *err = NULL;
    int r = mk_args_parse(&cmd, argc, argv, opts, &rest, &err);
    fmt = format;
    if (r != 0)
        return r > 0 ? 0 : mk_cli_usage_error(&cmd, err);
    if (mk_cli_check_args(&cmd, rest, 0, 1) != 0)
        return 1;
    int dangling = -1;
    _cleanup_strv_ char **refs = NULL;
    _cleanup_strv_ char **labels = NULL;
    if (rest[0])
        mk_strv_push(&refs, rest[0]);
    for (size_t i = 0; filters && filters[i]; i++) {
        const char *f = filters[i];
        if (mk_str_has_prefix(f, "dangling="))
            dangling = strcmp(f + 9, "true") == 0 || strcmp(f + 9, "1") == 0;
        else if (mk_str_has_prefix(f, "reference="))
            mk_strv_push(&refs, f + 10);
        else if (mk_str_has_prefix(f, "label="))
            mk_strv_push(&labels, f + 6);
        else {
            fprintf(stderr, "Error response from daemon: invalid filter '%s' (mocker supports dangling, reference, label)\n", f);
            return 1;
        }
    }
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    struct mk_image **list = NULL;
    size_t n = 0;
    if (mk_store_image_list(e->store, &list, &n, &err) < 0) {
        mk_engine_free(e);
        return mk_cli_fail(NULL, err, 1);
    }
    int64_t now = mk_now_ns();
    json_t *rows = json_array();
    for (size_t i = 0; i < n; i++) {
        struct mk_image *img = list[i];
        size_t ntags = mk_strv_len(img->tags);
        if (dangling == 1 && ntags > 0)
            continue;
        if (dangling == 0 && ntags == 0)
            continue;
        const json_t *ilabels = json_object_get(json_object_get(img->config, "config"), "Labels");
        bool label_ok = true;
        for (size_t k = 0; labels && labels[k]; k++) {
            _cleanup_free_ char *kv = xstrdup(labels[k]);
            char *eq = strchr(kv, '=');
            if (eq)
                *eq++ = '\0';
            const char *have = mk_json_str(ilabels, kv);
            if (have == NULL || (eq && strcmp(have, eq) != 0))
                label_ok = false;
        }
        if (!label_ok)
            continue;
        _cleanup_free_ char *id = no_trunc ? xstrdup(img->id) : xstrndup(img->id + 7, 12);
        _cleanup_free_ char *ago = mk_human_duration(now - img->created);
        _cleanup_free_ char *since = xasprintf("%s ago", ago);
        _cleanup_free_ char *size = mk_human_size(img->size);
        _cleanup_free_ char *created_at = mk_time_rfc3339(img->created);
        for (size_t t = 0; t < (ntags ? ntags : 1); t++) {
            _cleanup_free_ char *repo = NULL, *tag = NULL, *fam = NULL;
            if (ntags) {
                fam = mk_ref_familiarize(img->tags[t]);
                char *colon = strrchr(fam, ':');
                char *slash = strrchr(fam, '/');
                if (colon != NULL && (slash == NULL || colon > slash)) {
                    repo = xstrndup(fam, (size_t)(colon - fam));
                    tag = xstrdup(colon + 1);
                } else {
                    repo = xstrdup(fam);
                    tag = xstrdup("<none>");
                }
            } else {
                repo = xstrdup("<none>");
                tag = xstrdup("<none>");
                fam = xstrdup("<none>:<none>");
            }
            if (refs != NULL) {
                bool ok = false;
                for (size_t k = 0; refs[k]; k++) {
                    /* docker matches "name" against the repository and "name:tag" against both */
                    ok |= ntags && (ref_matches(refs[k], repo, fam));
                }
                if (!ok)
                    continue;
            }
            if (quiet) {
                bool dup = false;
                for (size_t k = 0; k < json_array_size(rows); k++)
                    dup |= strcmp(mk_json_str(json_array_get(rows, k), "ID"), id) == 0;
                if (!dup)
                    json_array_append_new(rows, json_pack("{s:s}", "ID", id));
                continue;
            }
            json_array_append_new(rows, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Repository",
                                                  repo, "Tag", tag, "ID", id, "CreatedSince", since,
                                                  "CreatedAt", created_at, "Size", size, "Digest",
                                                  "<none>", "Containers", "N/A"));
        }
    }
    int status = 0;
    if (quiet) {
        for (size_t k = 0; k < json_array_size(rows); k++)
            printf("%s\n", mk_json_str(json_array_get(rows, k), "ID"));
    } else {
        json_t *headers = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Repository", "REPOSITORY",
                                    "Tag", "TAG", "ID", "IMAGE ID", "CreatedSince", "CREATED",
                                    "CreatedAt", "CREATED AT", "Size", "SIZE", "Digest", "DIGEST",
                                    "Containers", "CONTAINERS");
        const char *def = digests ? "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
                                  : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
        if (mk_format_rows(fmt, def, headers, rows, stdout, &err) < 0)
            status = mk_cli_fail(NULL, err, 1);
        json_decref(headers);
    }
    (void)all;
    json_decref(rows);
    mk_image_list_free(list, n);
    mk_engine_free(e);
    return status;
}

int cmd_rmi(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"rmi", "rmi [OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", true};
    bool force = false, no_prune = false;
    struct mk_opt opts[] = {
        {"force", 'f', MK_OPT_BOOL, &force, "Force removal of the image", NULL},
        {"no-prune", 0, MK_OPT_BOOL, &no_prune, "Do not delete untagged parents", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_args_parse(&cmd, argc, argv, opts, &rest, &err);
    if (r != 0)
        return r > 0 ? 0 : mk_cli_usage_error(&cmd, err);
    if (mk_cli_check_args(&cmd, rest, 1, (size_t)-1) != 0)
        return 1;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    int status = 0;
    for (size_t i = 0; rest[i]; i++) {
        _cleanup_strv_ char **report = NULL;
        if (mk_image_remove(e->store, rest[i], force, &report, &err) < 0) {
            status = mk_cli_fail(NULL, err, 1);
            err = NULL;
            continue;
        }
        for (size_t k = 0; report && report[k]; k++)
            printf("%s\n", report[k]);
    }
    mk_engine_free(e);
    return status;
}

int cmd_tag(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"tag", "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
                                      "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", true};
    struct mk_opt opts[] = {{NULL, 0, 0, NULL, NULL, NULL}};
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_args_parse(&cmd, argc, argv, opts, &rest, &err);
    if (r != 0)
        return r > 0 ? 0 : mk_cli_usage_error(&cmd, err);
    if (mk_cli_check_args(&cmd, rest, 2, 2) != 0)
        return 1;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    int status = 0;
    if (mk_image_tag(e->store, rest[0], rest[1], &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    mk_engine_free(e);
    return status;
}
