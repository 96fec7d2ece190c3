/* container_attach.c: docker attach and docker rename, the two operations on a
 * container that change nothing about how it runs. */
#include "engine/engine.h"
#include "engine/internal.h"

#include "monitor/monitor.h"

#include <string.h>
#include <unistd.h>

/* docker's own wording (the CLI checks the state before it attaches). */
static int check_attachable(const struct mk_container *c, mk_err **err)
{
    if (strcmp(c->status, "paused") == 0)
        return mk_err_set(err, MK_ERR_CONFLICT,
                          "You cannot attach to a paused container, unpause it first");
    if (strcmp(c->status, "restarting") == 0)
        return mk_err_set(err, MK_ERR_CONFLICT,
                          "You cannot attach to a restarting container, wait until it is running");
    if (!mk_container_is_running(c))
        return mk_err_set(err, MK_ERR_CONFLICT,
                          "You cannot attach to a stopped container, start it first");
    return 0;
}

int mk_container_attach(struct mk_engine *e, const struct mk_container *c, int *fd, mk_err **err)
{
    if (check_attachable(c, err) < 0)
        return -1;
    int sock = mk_engine_attach_connect(e, c);
    /* The monitor closes its socket as the container ends: it just stopped. */
    if (sock < 0)
        return mk_err_set(err, MK_ERR_CONFLICT,
                          "You cannot attach to a stopped container, start it first");
    mk_container_event(e, c, "attach", NULL);
    *fd = sock;
    return 0;
}

int mk_container_resize(struct mk_engine *e, const char *ref, unsigned rows, unsigned cols,
                        mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    bool running = mk_container_is_running(c);
    int sock = running ? mk_engine_attach_connect(e, c) : -1;
    if (sock < 0) {
        mk_err_set(err, MK_ERR_CONFLICT, "Container %s is not running", c->id);
        mk_container_free(c);
        return -1;
    }
    mk_container_free(c);
    char text[32];
    int n = snprintf(text, sizeof(text), "%u %u", rows, cols);
    int r = mk_frame_write(sock, MK_FRAME_RESIZE, text, (size_t)n);
    close(sock);
    if (r < 0)
        return mk_err_sys(err, "resize the container's terminal");
    return 0;
}

static int rename_checked(struct mk_engine *e, struct mk_container *c, const char *new_name,
                          mk_err **err)
{
    if (strcmp(c->name, new_name) == 0)
        return mk_err_set(err, MK_ERR_INVALID,
                          "Renaming a container with the same name as its current name");
    if (mk_store_container_rename(e->store, c->id, new_name, err) < 0)
        return -1;
    _cleanup_free_ char *old = xasprintf("/%s", c->name);
    free(c->name);
    c->name = xstrdup(new_name);
    json_t *attrs = json_pack("{s:s}", "oldName", old);
    mk_container_event(e, c, "rename", attrs);
    json_decref(attrs);
    return 0;
}

int mk_container_rename(struct mk_engine *e, const char *ref, const char *new_name, mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    int ret;
    /* docker names the new name as it stores it, with the slash. */
    if (!mk_engine_valid_name(new_name))
        ret = mk_err_set(err, MK_ERR_INVALID,
                         "Invalid container name (%s%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                         new_name[0] == '/' ? "" : "/", new_name);
    else
        ret = rename_checked(e, c, new_name[0] == '/' ? new_name + 1 : new_name, err);
    mk_container_free(c);
    return ret;
}
