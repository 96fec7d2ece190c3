/* progress.h: drawing pull/push progress as the docker CLI does. */
#ifndef MK_CLI_PROGRESS_H
#define MK_CLI_PROGRESS_H

#include "image/image.h"

#include <stdio.h>

struct mk_cli_progress {
    FILE *out;
    bool tty, quiet;
    char **ids; /* one line per id, in order of appearance (terminal only) */
};
void mk_cli_progress_init(struct mk_cli_progress *p, FILE *out, bool quiet);
void mk_cli_progress_free(struct mk_cli_progress *p);
/* An mk_progress_fn. */
void mk_cli_progress_cb(void *ctx, const struct mk_progress *ev);

/* pull/push NAME: parsed into *out (-1: go on); with --all-tags it must
 * name a repository, no tag or digest (docker's error, exit 1).  Else the
 * exit status, the error printed. */
int mk_cli_registry_name(const char *name, bool all_tags, struct mk_ref **out);
/* pull/push --disable-content-trust=false: refused, exit 125. */
int mk_cli_no_content_trust(void);

#endif
