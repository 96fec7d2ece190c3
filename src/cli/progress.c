/* progress.c: what the pull and push commands share: the image name's
 * checks, and docker's progress display (its jsonmessage output).
 * On a terminal every layer keeps one line, redrawn in place, with a bar for
 * "Downloading"/"Uploading"; otherwise each status is a plain line and the
 * byte-count updates are left out, as docker does when piped. */
#include "cli/progress.h"
#include "cli/cli.h"

#include <string.h>
#include <unistd.h>

void mk_cli_progress_init(struct mk_cli_progress *p, FILE *out, bool quiet)
{
    memset(p, 0, sizeof(*p));
    p->out = out;
    p->quiet = quiet;
    p->tty = isatty(fileno(out));
}

void mk_cli_progress_free(struct mk_cli_progress *p)
{
    mk_strv_free(p->ids);
    p->ids = NULL;
}

void mk_cli_progress_cb(void *ctx, const struct mk_progress *ev)
{
    struct mk_cli_progress *p = ctx;
    if (p->quiet)
        return;
    bool has_bar = ev->current >= 0;
    if (!p->tty) {
        if (has_bar)
            return;
        if (ev->id != NULL)
            fprintf(p->out, "%s: %s\n", ev->id, ev->status);
        else
            fprintf(p->out, "%s\n", ev->status);
        fflush(p->out);
        return;
    }
    _cleanup_free_ char *b = has_bar ? mk_progress_bar(ev->current, ev->total) : NULL;
    if (ev->id == NULL) {
        fprintf(p->out, "%s\n", ev->status);
        fflush(p->out);
        return;
    }
    size_t n = mk_strv_len(p->ids), at = n;
    for (size_t i = 0; i < n; i++)
        if (strcmp(p->ids[i], ev->id) == 0)
            at = i;
    if (at == n) {
        mk_strv_push(&p->ids, ev->id);
        fprintf(p->out, "%s: %s%s%s\n", ev->id, ev->status, b ? " " : "", b ? b : "");
    } else {
        size_t up = n - at;
        fprintf(p->out, "\033[%zuA\r\033[2K%s: %s%s%s\033[%zuB\r", up, ev->id, ev->status,
                b ? " " : "", b ? b : "", up);
    }
    fflush(p->out);
}

int mk_cli_no_content_trust(void)
{
    fprintf(stderr, "mocker: --disable-content-trust=false: content trust (Notary signing and "
                    "verification) is not supported\n");
    return 125;
}

int mk_cli_registry_name(const char *name, bool all_tags, struct mk_ref **out)
{
    mk_err *err = NULL;
    if (mk_ref_parse(name, out, &err) < 0)
        return mk_cli_fail(NULL, err, 1);
    if (all_tags && ((*out)->digest != NULL || mk_ref_has_tag(name))) {
        mk_ref_free(*out);
        *out = NULL;
        fprintf(stderr, "tag can't be used with --all-tags/-a\n");
        return 1;
    }
    return -1;
}
