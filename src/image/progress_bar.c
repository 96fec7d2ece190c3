/* progress_bar.c: the text of a progress bar as docker draws it, shared by
 * the CLI's display and the Engine API's "progress" field (dockerd sends the
 * bar it would draw along with the numbers). */
#include "image/image.h"

#define BAR_WIDTH 50

/* docker's "[=====>      ]  12.3MB/45.6MB" */
char *mk_progress_bar(int64_t current, int64_t total)
{
    mk_buf b = {0};
    if (total > 0) {
        int64_t filled = current >= total ? BAR_WIDTH : current * BAR_WIDTH / total;
        mk_buf_puts(&b, "[");
        for (int64_t i = 0; i < BAR_WIDTH; i++)
            mk_buf_puts(&b, i < filled - 1 || (filled == BAR_WIDTH && i < BAR_WIDTH - 1) ? "="
                            : i == (filled > 0 ? filled - 1 : 0) && filled < BAR_WIDTH ? ">"
                            : i == BAR_WIDTH - 1 && filled == BAR_WIDTH              ? ">"
                                                                                     : " ");
        mk_buf_puts(&b, "] ");
    }
    _cleanup_free_ char *cur = mk_human_size_prec(current, 4);
    if (total > 0) {
        _cleanup_free_ char *tot = mk_human_size_prec(total, 4);
        mk_buf_printf(&b, "%8s/%s", cur, tot);
    } else {
        mk_buf_printf(&b, "%8s", cur);
    }
    mk_buf_append(&b, "", 1);
    return mk_buf_steal(&b);
}
