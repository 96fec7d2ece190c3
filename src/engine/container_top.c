/* container_top.c: docker top: the host's ps, cut down to the container's
 * processes (the pids in its cgroup), parsed into dockerd's Titles/Processes. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "runtime/runtime.h"

#include <string.h>

static bool has_pid(const pid_t *pids, size_t n, long pid)
{
    for (size_t i = 0; i < n; i++)
        if (pids[i] == pid)
            return true;
    return false;
}

/* Whitespace-separated fields of line; the fields from index `last` on are kept
 * as one (ps's command column has spaces), as moby's parsePSOutput does. */
static json_t *split_fields(char *line, size_t last)
{
    json_t *row = json_array();
    char *save = NULL;
    for (char *f = strtok_r(line, " \t", &save); f != NULL; f = strtok_r(NULL, " \t", &save)) {
        if (last > 0 && json_array_size(row) == last) {
            mk_buf rest = {0};
            mk_buf_puts(&rest, f);
            for (char *g = strtok_r(NULL, " \t", &save); g; g = strtok_r(NULL, " \t", &save)) {
                mk_buf_puts(&rest, " ");
                mk_buf_puts(&rest, g);
            }
            json_array_append_new(row, json_string(rest.data));
            mk_buf_free(&rest);
            break;
        }
        json_array_append_new(row, json_string(f));
    }
    return row;
}

static int parse_ps(char *output, const pid_t *pids, size_t npids, json_t **out, mk_err **err)
{
    char *save = NULL;
    char *header = strtok_r(output, "\n", &save);
    if (header == NULL)
        return mk_err_set(err, MK_ERR_INTERNAL, "Couldn't find PID field in ps output");
    _cleanup_json_ json_t *titles = split_fields(header, 0);
    size_t pid_col = (size_t)-1, i;
    json_t *t;
    json_array_foreach(titles, i, t)
    {
        if (pid_col == (size_t)-1 && strcmp(json_string_value(t), "PID") == 0)
            pid_col = i;
    }
    if (pid_col == (size_t)-1)
        return mk_err_set(err, MK_ERR_INTERNAL, "Couldn't find PID field in ps output");
    _cleanup_json_ json_t *procs = json_array();
    for (char *l = strtok_r(NULL, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        json_t *row = split_fields(l, json_array_size(titles) - 1);
        const char *p = json_string_value(json_array_get(row, pid_col));
        char *end;
        long pid = p ? strtol(p, &end, 10) : 0;
        if (p == NULL || *end != '\0') {
            json_decref(row);
            return mk_err_set(err, MK_ERR_INTERNAL, "Unexpected pid '%s'", p ? p : "");
        }
        if (has_pid(pids, npids, pid))
            json_array_append(procs, row);
        json_decref(row);
    }
    *out = json_pack("{s:O,s:O}", "Titles", titles, "Processes", procs);
    return 0;
}

static int run_ps(char *const *ps_args, char **out, mk_err **err)
{
    static char *const default_args[] = {"-ef", NULL};
    const char *const *args = (const char *const *)(ps_args && ps_args[0] ? ps_args : default_args);
    size_t n = 0;
    while (args[n])
        n++;
    _cleanup_free_ char **argv = xcalloc(n + 2, sizeof(char *));
    argv[0] = "ps";
    memcpy(argv + 1, args, n * sizeof(char *));
    _cleanup_free_ char *stderr_text = NULL;
    int status;
    if (mk_run_capture(argv, out, &stderr_text, &status, err) < 0)
        return mk_err_wrap(err, "ps");
    if (status != 0) {
        /* dockerd reports the first line ps wrote to stderr */
        stderr_text[strcspn(stderr_text, "\n")] = '\0';
        mk_err_set(err, MK_ERR_INTERNAL, "ps: %s",
                   *stderr_text ? stderr_text : "exit status");
        free(steal_pointer(out));
        return -1;
    }
    return 0;
}

int mk_container_top(struct mk_engine *e, const char *ref, char *const *ps_args, json_t **out,
                     mk_err **err)
{
    struct mk_container *c = NULL;
    if (mk_container_get(e, ref, &c, err) < 0)
        return -1;
    int ret = -1;
    _cleanup_free_ char *cg = NULL, *output = NULL;
    _cleanup_free_ pid_t *pids = NULL;
    size_t npids = 0;
    if (!mk_container_is_running(c)) {
        mk_err_set(err, MK_ERR_CONFLICT, "Container %s is not running", c->id);
        goto out;
    }
    if (strcmp(c->status, "restarting") == 0) {
        mk_err_set(err, MK_ERR_CONFLICT,
                   "Container %s is restarting, wait until the container is running", c->id);
        goto out;
    }
    if (mk_engine_cgroup_path(e, c, &cg, err) < 0 || mk_cgroup_pids(cg, &pids, &npids, err) < 0 ||
        run_ps(ps_args, &output, err) < 0 || parse_ps(output, pids, npids, out, err) < 0)
        goto out;
    ret = 0;
out:
    mk_container_free(c);
    return ret;
}
