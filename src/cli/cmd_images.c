/* cmd_images.c: docker images / image ls.  The engine's list (image/list.c)
 * gives dockerd's summaries; this file turns them into the docker CLI's rows:
 * one per repository and tag, the repository's digests beside each of its tags
 * (a row per digest), digest-only repositories as <none> tags. */
#include "cli/cli.h"
#include "cli/format.h"
#include "image/image.h"

#include <string.h>

/* Fields of a row, alphabetical as docker's {{json .}} prints them. */
static json_t *image_row(const json_t *sum, const char *repo, const char *tag, const char *digest,
                         bool no_trunc, int64_t now)
{
    const char *id = mk_json_str(sum, "Id");
    _cleanup_free_ char *short_id = xstrndup(mk_str_has_prefix(id, "sha256:") ? id + 7 : id, 12);
    int64_t created = json_integer_value(json_object_get(sum, "Created")) * 1000000000;
    int64_t size = json_integer_value(json_object_get(sum, "Size"));
    _cleanup_free_ char *ago = mk_human_duration(now - created);
    _cleanup_free_ char *since = xasprintf("%s ago", ago);
    _cleanup_free_ char *created_at = mk_time_go_string(created);
    _cleanup_free_ char *size_text = mk_human_size(size);
    _cleanup_free_ char *virtual_text = mk_human_size_prec(size, 4);
    /* SharedSize, UniqueSize and Containers are not computed by the list (-1) */
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Containers", "N/A",
                     "CreatedAt", created_at, "CreatedSince", since, "Digest", digest, "ID",
                     no_trunc ? id : short_id, "Repository", repo, "SharedSize", "N/A", "Size",
                     size_text, "Tag", tag, "UniqueSize", "N/A", "VirtualSize", virtual_text);
}

/* Split a familiar reference ("bb:1", "x@sha256:...") into its name and the
 * tag or digest; false if it does not parse. */
static bool split_ref(const char *s, char **name, char **tag_or_digest)
{
    struct mk_ref *r = NULL;
    if (mk_ref_parse(s, &r, NULL) < 0)
        return false;
    *name = mk_ref_familiar_repo(r);
    *tag_or_digest = xstrdup(r->digest ? r->digest : r->tag);
    mk_ref_free(r);
    return true;
}

/* The docker CLI's rows for one image summary. */
static void add_rows(json_t *rows, const json_t *sum, bool show_digests, bool no_trunc,
                     int64_t now)
{
    const json_t *tags = json_object_get(sum, "RepoTags");
    const json_t *digests = json_object_get(sum, "RepoDigests");
    if (json_array_size(tags) == 1 &&
        strcmp(json_string_value(json_array_get(tags, 0)), "<none>:<none>") == 0) {
        json_array_append_new(rows, image_row(sum, "<none>", "<none>", "<none>", no_trunc, now));
        return;
    }
    /* repositories in the order first seen, each with its tags and digests */
    _cleanup_strv_ char **repos = NULL;
    _cleanup_json_ json_t *by_repo = json_object();
    for (int kind = 0; kind < 2; kind++) {
        size_t i;
        json_t *ref;
        json_array_foreach(kind == 0 ? tags : digests, i, ref)
        {
            _cleanup_free_ char *name = NULL, *what = NULL;
            if (!split_ref(json_string_value(ref), &name, &what))
                continue;
            json_t *entry = json_object_get(by_repo, name);
            if (entry == NULL) {
                entry = json_pack("{s:[],s:[]}", "tags", "digests");
                json_object_set_new(by_repo, name, entry);
                mk_strv_push(&repos, name);
            }
            json_array_append_new(json_object_get(entry, kind == 0 ? "tags" : "digests"),
                                  json_string(what));
        }
    }
    for (size_t r = 0; repos != NULL && repos[r] != NULL; r++) {
        const json_t *entry = json_object_get(by_repo, repos[r]);
        const json_t *rtags = json_object_get(entry, "tags");
        const json_t *rdigests = json_object_get(entry, "digests");
        size_t nd = show_digests ? json_array_size(rdigests) : 0;
        if (json_array_size(rtags) == 0) {
            /* digest-only: a <none> tag, a row per digest when they are shown */
            for (size_t d = 0; d < (nd ? nd : 1); d++)
                json_array_append_new(
                    rows, image_row(sum, repos[r], "<none>",
                                    nd ? json_string_value(json_array_get(rdigests, d)) : "<none>",
                                    no_trunc, now));
            continue;
        }
        for (size_t t = 0; t < json_array_size(rtags); t++)
            for (size_t d = 0; d < (nd ? nd : 1); d++)
                json_array_append_new(
                    rows, image_row(sum, repos[r], json_string_value(json_array_get(rtags, t)),
                                    nd ? json_string_value(json_array_get(rdigests, d)) : "<none>",
                                    no_trunc, now));
    }
}


int cmd_images(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"images", "images [OPTIONS] [REPOSITORY[:TAG]]", "List images", true};
    bool all = false, quiet = false, digests = false, no_trunc = false;
    _cleanup_strv_ char **filters = NULL;
    char *format = NULL;
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
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 1, &rest);
    _cleanup_free_ char *fmt = format;
    if (r >= 0)
        return r;
    if ((r = mk_cli_check_filters(&cmd, "-f, --filter", filters)) != 0)
        return r;
    /* the argument is one more reference filter, as the docker CLI sends it */
    if (rest[0] != NULL)
        mk_strv_push_owned(&filters, xasprintf("reference=%s", rest[0]));
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    mk_err *err = NULL;
    struct mk_image_filters f;
    _cleanup_json_ json_t *list = NULL;
    int status = 0;
    if (mk_image_filters_parse(e->store, filters, mk_image_list_filters, false, &f, &err) < 0) {
        mk_engine_free(e);
        return mk_cli_fail(NULL, err, 1);
    }
    r = mk_image_list(e->store, &f, all, &list, &err);
    mk_image_filters_clear(&f);
    mk_engine_free(e);
    if (r < 0)
        return mk_cli_fail(NULL, err, 1);

    /* docker shows digests for --digests or a format that names {{.Digest}} */
    bool show_digests = digests || (fmt != NULL && strstr(fmt, "{{.Digest}}") != NULL);
    int64_t now = mk_now_ns();
    _cleanup_json_ json_t *rows = json_array();
    size_t i;
    json_t *sum;
    json_array_foreach(list, i, sum)
    add_rows(rows, sum, show_digests, no_trunc, now);
    const char *def = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
    const char *use = fmt;
    if (quiet && (fmt == NULL || *fmt == '\0' || strcmp(fmt, "table") == 0))
        /* -q is the ID column alone, a line per row; a custom --format wins */
        use = "{{.ID}}";
    else if (digests)
        def = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
    _cleanup_json_ json_t *headers = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Repository", "REPOSITORY", "Tag", "TAG",
        "ID", "IMAGE ID", "CreatedSince", "CREATED", "CreatedAt", "CREATED AT", "Size", "SIZE",
        "VirtualSize", "SIZE", "SharedSize", "SHARED SIZE", "UniqueSize", "UNIQUE SIZE", "Digest",
        "DIGEST", "Containers", "CONTAINERS");
    if (mk_format_rows(use, def, headers, rows, stdout, &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    return status;
}
