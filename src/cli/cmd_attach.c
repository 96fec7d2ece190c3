/* cmd_attach.c: docker attach: relay a running container's stdio through its
 * monitor's attach socket, as run and start -a do. */
#include "cli/cli.h"
#include "monitor/monitor.h"

#include <string.h>

struct attach_flags {
    bool no_stdin, sig_proxy;
    char *detach_keys;
};

/* Everything after the state check; the connection is the caller's to close. */
static int relay(struct mk_engine *e, const struct mk_container *c, const struct attach_flags *f)
{
    const json_t *config = json_object_get(c->config, "Config");
    bool tty = mk_json_bool(config, "Tty", false);
    bool with_stdin = !f->no_stdin && mk_json_bool(config, "OpenStdin", false);
    mk_err *err = NULL;
    uint8_t keys[MK_DETACH_KEYS_MAX];
    size_t nkeys;
    /* Bad keys fail before anything is attached (docker checks them first too). */
    if (mk_detach_keys_parse(f->detach_keys, keys, &nkeys, &err) < 0)
        return mk_cli_fail(NULL, err, 1);
    if (tty && !f->no_stdin && !isatty(STDIN_FILENO)) {
        fprintf(stderr, "the input device is not a TTY\n");
        return 1;
    }
    int fd = -1;
    if (mk_container_attach(e, c, &fd, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        mk_err_free(err);
        return 1;
    }
    struct mk_attach_opts ao = {.stdin_ = with_stdin, .tty = tty, .detach_keys = f->detach_keys,
                                .sig_proxy = f->sig_proxy && !tty, .container_pid = c->pid};
    int code = 0;
    bool detached = false;
    int r = mk_attach_client(fd, &ao, &code, &detached, &err);
    close(fd);
    if (r < 0)
        return mk_cli_fail(NULL, err, 1);
    if (detached) {
        /* docker attach reports a detach as an error; docker run does not. */
        fprintf(stderr, "read escape sequence\n");
        return 1;
    }
    return code;
}

int cmd_attach(int argc, char **argv)
{
    static const struct mk_cmd cmd = {
        "attach", "attach [OPTIONS] CONTAINER",
        "Attach local standard input, output, and error streams to a running container", true};
    struct attach_flags f = {.sig_proxy = true};
    struct mk_opt opts[] = {
        {"detach-keys", 0, MK_OPT_STRING, &f.detach_keys, "Override the key sequence for detaching a container", NULL},
        {"no-stdin", 0, MK_OPT_BOOL, &f.no_stdin, "Do not attach STDIN", NULL},
        {"sig-proxy", 0, MK_OPT_BOOL, &f.sig_proxy, "Proxy all received signals to the process (default true)", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 1, 1, &rest);
    _cleanup_free_ char *dk = f.detach_keys;
    if (r >= 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    struct mk_container *c = NULL;
    int status;
    if (mk_container_get(e, rest[0], &c, &err) < 0)
        status = mk_cli_fail(NULL, err, 1);
    else
        status = relay(e, c, &f);
    mk_container_free(c);
    mk_engine_free(e);
    return status;
}
