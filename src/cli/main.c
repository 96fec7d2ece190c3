/* main.c: mocker's entry point: global flags, then one docker command.
 * `mocker __monitor ID` is the monitor mode the engine re-executes. */
#include "cli/cli.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", cmd_run, "Create and run a new container from an image"},
    {"create", cmd_create, "Create a new container"},
    {"start", cmd_start, "Start one or more stopped containers"},
    {"stop", cmd_stop, "Stop one or more running containers"},
    {"restart", cmd_restart, "Restart one or more containers"},
    {"kill", cmd_kill, "Kill one or more running containers"},
    {"rm", cmd_rm, "Remove one or more containers"},
    {"ps", cmd_ps, "List containers"},
    {"logs", cmd_logs, "Fetch the logs of a container"},
    {"exec", cmd_exec, "Execute a command in a running container"},
    {"inspect", cmd_inspect, "Return low-level information on Docker objects"},
    {"wait", cmd_wait, "Block until one or more containers stop, then print their exit codes"},
    {"version", cmd_version, "Show the mocker version information"},
    {"info", cmd_info, "Display system-wide information"},
    {"serve", cmd_serve, "Serve the Docker Engine API on a Unix socket"},
    {"import", cmd_import, "Import the contents from a tarball to create a filesystem image"},
    {"images", cmd_images, "List images"},
    {"history", cmd_history, "Show the history of an image"},
    {"rmi", cmd_rmi, "Remove one or more images"},
    {"tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
    {"diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem"},
    {"commit", cmd_commit, "Create a new image from a container's changes"},
    {"pause", cmd_pause, "Pause all processes within one or more containers"},
    {"unpause", cmd_unpause, "Unpause all processes within one or more containers"},
    {"stats", cmd_stats, "Display a live stream of container(s) resource usage statistics"},
    {"top", cmd_top, "Display the running processes of a container"},
    {"update", cmd_update, "Update configuration of one or more containers"},
    {"cp", cmd_cp, "Copy files/folders between a container and the local filesystem"},
    {"export", cmd_export, "Export a container's filesystem as a tar archive"},
    {"attach", cmd_attach, "Attach local standard input, output, and error streams to a running container"},
    {"rename", cmd_rename, "Rename a container"},
    {"port", cmd_port, "List port mappings or a specific mapping for the container"},
    {"login", cmd_login, "Authenticate to a registry"},
    {"logout", cmd_logout, "Log out from a registry"},
    {"events", cmd_events, "Get real time events from the server"},
    {"save", cmd_save, "Save one or more images to a tar archive (streamed to STDOUT by default)"},
    {"load", cmd_load, "Load an image from a tar archive or STDIN"},
    {"pull", cmd_pull, "Download an image from a registry"},
    {"push", cmd_push, "Upload an image to a registry"},
    {"search", cmd_search, "Search Docker Hub for images"},
    {NULL, NULL, NULL},
};

/* `mocker container X`, `mocker image X` and `mocker system X`.  The first row
 * of a function in a group is what its help lists; later rows are aliases.  A
 * row without a summary takes the top-level command's. */
static const struct {
    const char *group, *sub;
    int (*fn)(int argc, char **argv);
    const char *summary;
} grouped[] = {
    {"container", "attach", cmd_attach, NULL},
    {"container", "create", cmd_create, NULL},
    {"container", "exec", cmd_exec, NULL},
    {"container", "inspect", cmd_container_inspect, "Display detailed information on one or more containers"},
    {"container", "kill", cmd_kill, NULL},
    {"container", "logs", cmd_logs, NULL},
    {"container", "ls", cmd_ps, NULL},
    {"container", "list", cmd_ps, NULL},
    {"container", "ps", cmd_ps, NULL},
    {"container", "port", cmd_port, NULL},
    {"container", "prune", cmd_container_prune, "Remove all stopped containers"},
    {"container", "rename", cmd_rename, NULL},
    {"container", "rm", cmd_rm, NULL},
    {"container", "remove", cmd_rm, NULL},
    {"container", "run", cmd_run, NULL},
    {"container", "start", cmd_start, NULL},
    {"container", "stop", cmd_stop, NULL},
    {"container", "wait", cmd_wait, NULL},
    {"container", "pause", cmd_pause, NULL},
    {"container", "unpause", cmd_unpause, NULL},
    {"container", "stats", cmd_stats, NULL},
    {"container", "top", cmd_top, NULL},
    {"container", "update", cmd_update, NULL},
    {"container", "diff", cmd_diff, NULL},
    {"container", "commit", cmd_commit, NULL},
    {"container", "cp", cmd_cp, NULL},
    {"container", "export", cmd_export, NULL},
    {"container", "restart", cmd_restart, NULL},
    {"image", "import", cmd_import, NULL},
    {"image", "inspect", cmd_image_inspect, "Display detailed information on one or more images"},
    {"image", "ls", cmd_images, NULL},
    {"image", "list", cmd_images, NULL},
    {"image", "rm", cmd_rmi, NULL},
    {"image", "remove", cmd_rmi, NULL},
    {"image", "tag", cmd_tag, NULL},
    {"image", "history", cmd_history, NULL},
    {"image", "save", cmd_save, NULL},
    {"image", "load", cmd_load, NULL},
    {"image", "pull", cmd_pull, NULL},
    {"image", "push", cmd_push, NULL},
    {"image", "prune", cmd_image_prune, "Remove unused images"},
    {"network", "connect", cmd_network_connect, "Connect a container to a network"},
    {"network", "create", cmd_network_create, "Create a network"},
    {"network", "disconnect", cmd_network_disconnect, "Disconnect a container from a network"},
    {"network", "inspect", cmd_network_inspect, "Display detailed information on one or more networks"},
    {"network", "ls", cmd_network_ls, "List networks"},
    {"network", "list", cmd_network_ls, NULL},
    {"network", "prune", cmd_network_prune, "Remove all unused networks"},
    {"network", "rm", cmd_network_rm, "Remove one or more networks"},
    {"network", "remove", cmd_network_rm, NULL},
    {"network", "__ensure", cmd_network_ensure, NULL},
    {"network", "__reconcile", cmd_network_reconcile, NULL},
    {"network", "__teardown", cmd_network_teardown, NULL},
    {"volume", "create", cmd_volume_create, "Create a volume"},
    {"volume", "inspect", cmd_volume_inspect, "Display detailed information on one or more volumes"},
    {"volume", "ls", cmd_volume_ls, "List volumes"},
    {"volume", "list", cmd_volume_ls, NULL},
    {"volume", "prune", cmd_volume_prune, "Remove unused local volumes"},
    {"volume", "rm", cmd_volume_rm, "Remove one or more volumes"},
    {"volume", "remove", cmd_volume_rm, NULL},
    {"system", "df", cmd_system_df, "Show mocker disk usage"},
    {"system", "events", cmd_events, NULL},
    {"system", "info", cmd_info, NULL},
};
#define NGROUPED (sizeof(grouped) / sizeof(grouped[0]))

static const struct {
    const char *name, *summary;
} groups[] = {
    {"container", "Manage containers"},
    {"image", "Manage images"},
    {"network", "Manage networks"},
    {"system", "Manage mocker"},
    {"volume", "Manage volumes"},
};

/* docker's "Common Commands", in docker's order. */
static const char *const common[] = {"run", "exec", "ps", "images", "version", "info", NULL};

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const struct command *const *)a)->name, (*(const struct command *const *)b)->name);
}

static void usage(FILE *f)
{
    fprintf(f, "Usage:  mocker [OPTIONS] COMMAND\n\n"
               "A Docker-compatible container engine: daemonless, with its own runtime\n\n"
               "Common Commands:\n");
    for (size_t i = 0; common[i]; i++)
        for (const struct command *c = commands; c->name; c++)
            if (strcmp(c->name, common[i]) == 0)
                fprintf(f, "  %-11s %s\n", c->name, c->summary);
    fprintf(f, "\nManagement Commands:\n");
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        fprintf(f, "  %-11s %s\n", groups[i].name, groups[i].summary);
    /* The rest alphabetically, as docker lists them. */
    const struct command *rest[sizeof(commands) / sizeof(commands[0])];
    size_t n = 0;
    for (const struct command *c = commands; c->name; c++) {
        bool is_common = false;
        for (size_t i = 0; common[i]; i++)
            is_common |= strcmp(c->name, common[i]) == 0;
        if (!is_common)
            rest[n++] = c;
    }
    qsort(rest, n, sizeof(rest[0]), by_name);
    fprintf(f, "\nCommands:\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-11s %s\n", rest[i]->name, rest[i]->summary);
    fprintf(f, "\nGlobal Options:\n"
               "      --root string       Root of the store (default /var/lib/mocker, $MOCKER_ROOT)\n"
               "      --run-root string   Run state directory (default /run/mocker, $MOCKER_RUNROOT)\n"
               "  -h, --help              Print usage\n"
               "  -v, --version           Print version information and quit\n"
               "\nRun 'mocker COMMAND --help' for more information on a command.\n");
}

static const char *group_summary(const char *group)
{
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
        if (strcmp(groups[i].name, group) == 0)
            return groups[i].summary;
    return NULL;
}

/* The summary of grouped row k, or NULL if the row is an alias. */
static const char *row_summary(size_t k)
{
    for (size_t j = 0; j < k; j++)
        if (strcmp(grouped[j].group, grouped[k].group) == 0 && grouped[j].fn == grouped[k].fn)
            return NULL;
    if (grouped[k].summary != NULL)
        return grouped[k].summary;
    for (const struct command *c = commands; c->name; c++)
        if (c->fn == grouped[k].fn)
            return c->summary;
    return "";
}

static int by_sub(const void *a, const void *b)
{
    return strcmp(grouped[*(const size_t *)a].sub, grouped[*(const size_t *)b].sub);
}

static int group_usage(const char *group)
{
    printf("Usage:  mocker %s COMMAND\n\n%s\n\nCommands:\n", group, group_summary(group));
    size_t rows[NGROUPED], n = 0;
    for (size_t k = 0; k < NGROUPED; k++)
        /* "__x" rows are internal (tests, other tools), never listed */
        if (strcmp(grouped[k].group, group) == 0 && row_summary(k) != NULL &&
            grouped[k].sub[0] != '_')
            rows[n++] = k;
    qsort(rows, n, sizeof(rows[0]), by_sub);
    for (size_t i = 0; i < n; i++)
        printf("  %-11s %s\n", grouped[rows[i]].sub, row_summary(rows[i]));
    printf("\nRun 'mocker %s COMMAND --help' for more information on a command.\n", group);
    return 0;
}

/* docker writes unbuffered, so with 2>&1 its errors land in order with its
 * output ("[]" before "Error: No such object").  When both streams reach the
 * same file we flush stdout at every line to keep that order; otherwise it
 * stays fully buffered (ps over hundreds of containers). */
static void same_order_as_written(void)
{
    struct stat out, err;
    if (fstat(STDOUT_FILENO, &out) == 0 && fstat(STDERR_FILENO, &err) == 0 &&
        out.st_dev == err.st_dev && out.st_ino == err.st_ino)
        setvbuf(stdout, NULL, _IOLBF, 0);
}

int main(int argc, char **argv)
{
    /* A closed pipe (mocker ps | head) must end us quietly, as it ends docker. */
    signal(SIGPIPE, SIG_DFL);
    mk_trace("main");
    same_order_as_written();
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--root") == 0 && i + 1 < argc) {
            setenv("MOCKER_ROOT", argv[++i], 1);
        } else if (mk_str_has_prefix(a, "--root=")) {
            setenv("MOCKER_ROOT", a + 7, 1);
        } else if (strcmp(a, "--run-root") == 0 && i + 1 < argc) {
            setenv("MOCKER_RUNROOT", argv[++i], 1);
        } else if (mk_str_has_prefix(a, "--run-root=")) {
            setenv("MOCKER_RUNROOT", a + 11, 1);
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
            printf("mocker version %s\n", MK_VERSION);
            return 0;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "unknown flag: %s\nSee 'mocker --help'.\n", a);
            return 125;
        }
    }
    if (i >= argc) {
        usage(stdout);
        return 0;
    }
    const char *name = argv[i];
    if (strcmp(name, "__monitor") == 0 && i + 1 < argc) {
        mk_err *err = NULL;
        mk_trace("monitor-main");
        /* fd 3 came through exec on purpose; nothing the monitor starts needs it. */
        fcntl(3, F_SETFD, FD_CLOEXEC);
        /* Signals ignored by whoever started us (nohup, CI runners) would
         * reach the container through exec (the forked monitor of `run`
         * resets them in detach_forked). */
        mk_signals_default();
        if (mk_engine_monitor_main(argv[i + 1], 3, &err) < 0) {
            mk_err_free(err);
            return 1;
        }
        return 0;
    }
    /* The systemd unit's boot pass (contrib/systemd/mocker-restart.service). */
    if (strcmp(name, "__boot") == 0)
        return cmd_boot();
    if (group_summary(name) != NULL) {
        if (i + 1 >= argc || strcmp(argv[i + 1], "--help") == 0)
            return group_usage(name);
        for (size_t k = 0; k < NGROUPED; k++)
            if (strcmp(grouped[k].group, name) == 0 && strcmp(grouped[k].sub, argv[i + 1]) == 0)
                return grouped[k].fn(argc - i - 1, argv + i + 1);
        fprintf(stderr, "mocker: unknown command: mocker %s %s\n\nRun 'mocker %s --help' for more information\n",
                name, argv[i + 1], name);
        return 1;
    }
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c->fn(argc - i, argv + i);
    fprintf(stderr, "mocker: unknown command: mocker %s\n\nRun 'mocker --help' for more information\n",
            name);
    return 1;
}
