/* main.c: mocker's entry point: global flags, then one docker command.
 * `mocker __monitor ID` is the monitor mode the engine re-executes. */
#include "cli/cli.h"

#include <signal.h>
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
    {"kill", cmd_kill, "Kill one or more running containers"},
    {"rm", cmd_rm, "Remove one or more containers"},
    {"ps", cmd_ps, "List containers"},
    {"logs", cmd_logs, "Fetch the logs of a container"},
    {"exec", cmd_exec, "Execute a command in a running container"},
    {"inspect", cmd_inspect, "Return low-level information on Docker objects"},
    {"wait", cmd_wait, "Block until one or more containers stop, then print their exit codes"},
    {"version", cmd_version, "Show the mocker version information"},
    {"info", cmd_info, "Display system-wide information"},
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
    {NULL, NULL, NULL},
};

/* `mocker container X` and `mocker image X`, with docker's aliases. */
static const struct {
    const char *group, *sub;
    int (*fn)(int argc, char **argv);
} grouped[] = {
    {"container", "run", cmd_run},         {"container", "create", cmd_create},
    {"container", "start", cmd_start},     {"container", "stop", cmd_stop},
    {"container", "kill", cmd_kill},       {"container", "rm", cmd_rm},
    {"container", "remove", cmd_rm},       {"container", "ps", cmd_ps},
    {"container", "ls", cmd_ps},           {"container", "list", cmd_ps},
    {"container", "logs", cmd_logs},       {"container", "exec", cmd_exec},
    {"container", "inspect", cmd_container_inspect}, {"container", "wait", cmd_wait},
    {"container", "pause", cmd_pause},     {"container", "unpause", cmd_unpause},
    {"container", "stats", cmd_stats},     {"container", "top", cmd_top},
    {"container", "update", cmd_update},
    {"image", "import", cmd_import},       {"image", "ls", cmd_images},
    {"image", "list", cmd_images},         {"image", "rm", cmd_rmi},
    {"image", "remove", cmd_rmi},          {"image", "tag", cmd_tag},
    {"container", "diff", cmd_diff},       {"container", "commit", cmd_commit},
    {"image", "inspect", cmd_image_inspect},
    {"image", "history", cmd_history},
};

static void usage(FILE *f)
{
    fprintf(f, "\nUsage:  mocker [OPTIONS] COMMAND\n\n"
               "A Docker-compatible container engine: daemonless, with its own runtime.\n\n"
               "Options:\n"
               "      --root string       Root of the store (default /var/lib/mocker, $MOCKER_ROOT)\n"
               "      --run-root string   Run state directory (default /run/mocker, $MOCKER_RUNROOT)\n"
               "  -v, --version           Print version information and quit\n\n"
               "Commands:\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\nManagement Commands:\n  container  Manage containers\n  image      Manage images\n"
               "\nRun 'mocker COMMAND --help' for more information on a command.\n");
}

static int group_usage(const char *group)
{
    printf("\nUsage:  mocker %s COMMAND\n\nManage %ss\n\nCommands:\n", group, group);
    for (size_t i = 0; i < sizeof(grouped) / sizeof(grouped[0]); i++)
        if (strcmp(grouped[i].group, group) == 0)
            printf("  %s\n", grouped[i].sub);
    printf("\nRun 'mocker %s COMMAND --help' for more information on a command.\n", group);
    return 0;
}

int main(int argc, char **argv)
{
    /* A closed pipe (mocker ps | head) must end us quietly, as it ends docker. */
    signal(SIGPIPE, SIG_DFL);
    mk_trace("main");
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
        if (mk_engine_monitor_main(argv[i + 1], 3, &err) < 0) {
            mk_err_free(err);
            return 1;
        }
        return 0;
    }
    if (strcmp(name, "container") == 0 || strcmp(name, "image") == 0) {
        if (i + 1 >= argc || strcmp(argv[i + 1], "--help") == 0)
            return group_usage(name);
        for (size_t k = 0; k < sizeof(grouped) / sizeof(grouped[0]); k++)
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
