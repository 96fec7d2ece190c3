/* cmd_system.c: docker version and docker info. */
#include "cli/cli.h"
#include "cli/format.h"
#include "runtime/runtime.h"

#include <string.h>
#include <sys/utsname.h>

static int print_template(const char *fmt, const json_t *data)
{
    struct mk_template *t = NULL;
    mk_err *err = NULL;
    if (mk_template_parse(fmt, &t, &err) < 0) {
        fprintf(stderr, "%s\n", err->msg);
        mk_err_free(err);
        return 1;
    }
    mk_buf b = {0};
    int r = mk_template_render(t, data, &b, &err);
    mk_template_free(t);
    if (r < 0) {
        fprintf(stderr, "%s\n", err->msg);
        mk_err_free(err);
        return 1;
    }
    printf("%s\n", b.data ? b.data : "");
    mk_buf_free(&b);
    return 0;
}

int cmd_version(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"version", "version [OPTIONS]", "Show the mocker version information", true};
    char *format = NULL;
    struct mk_opt opts[] = {
        {"format", 'f', MK_OPT_STRING, &format, "Format output using a custom template", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    _cleanup_free_ char *fmt = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    fmt = format;
    if (r >= 0)
        return r;
    struct utsname u;
    uname(&u);
    const char *arch = mk_go_arch(u.machine);
    _cleanup_json_ json_t *v = json_pack(
        "{s:{s:s,s:s,s:s,s:s,s:s,s:s},s:{s:{s:s},s:s,s:s,s:s,s:s,s:s,s:s,s:s}}", "Client",
        "Version", MK_VERSION, "ApiVersion", "1.47", "Os", "linux", "Arch", arch, "GoVersion",
        "n/a (C)", "GitCommit", "", "Server", "Platform", "Name", "mocker Engine", "Version",
        MK_VERSION, "ApiVersion", "1.47", "MinAPIVersion", "1.24", "Os", "linux", "Arch", arch,
        "KernelVersion", u.release, "GoVersion", "n/a (C)");
    if (fmt != NULL)
        return print_template(fmt, v);
    printf("Client:\n"
           " Version:           %s\n"
           " API version:       1.47\n"
           " OS/Arch:           linux/%s\n"
           " Context:           default\n\n"
           "Server: mocker Engine\n"
           " Engine:\n"
           "  Version:          %s\n"
           "  API version:      1.47 (minimum version 1.24)\n"
           "  OS/Arch:          linux/%s\n"
           "  Kernel version:   %s\n"
           "  Runtime:          built in (namespaces, overlayfs, cgroups, seccomp)\n",
           MK_VERSION, arch, MK_VERSION, arch, u.release);
    return 0;
}

int cmd_info(int argc, char **argv)
{
    static const struct mk_cmd cmd = {"info", "info [OPTIONS]", "Display system-wide information", true};
    char *format = NULL;
    struct mk_opt opts[] = {
        {"format", 'f', MK_OPT_STRING, &format, "Format output using a custom template", NULL},
        {NULL, 0, 0, NULL, NULL, NULL},
    };
    _cleanup_strv_ char **rest = NULL;
    _cleanup_free_ char *fmt = NULL;
    mk_err *err = NULL;
    int r = mk_cli_args(&cmd, argc, argv, opts, 0, 0, &rest);
    fmt = format;
    if (r >= 0)
        return r;
    struct mk_engine *e = mk_cli_engine();
    if (e == NULL)
        return 1;
    _cleanup_json_ json_t *info = NULL;
    r = mk_engine_info_json(e, &info, &err);
    mk_engine_free(e);
    if (r < 0)
        return mk_cli_fail(NULL, err, 1);
    enum mk_cgroup_layout layout = mk_cgroup_detect();
    int64_t n = mk_json_int(info, "Containers", 0);
    _cleanup_free_ char *mem = mk_human_size(mk_json_int(info, "MemTotal", 0));
    if (fmt != NULL)
        return print_template(fmt, info);
    printf("Client:\n Version:    %s\n Context:    default\n\n", MK_VERSION);
    printf("Server:\n"
           " Containers: %lld\n  Running: %lld\n  Paused: %lld\n  Stopped: %lld\n"
           " Images: %lld\n Server Version: %s\n Storage Driver: overlay2\n"
           " Logging Driver: json-file\n Cgroup Driver: cgroupfs\n Cgroup Version: %s%s\n"
           " Runtimes: mocker runc\n Default Runtime: mocker\n Kernel Version: %s\n"
           " OSType: linux\n Architecture: %s\n CPUs: %lld\n Total Memory: %s\n Name: %s\n"
           " Docker Root Dir: %s\n",
           (long long)n, (long long)mk_json_int(info, "ContainersRunning", 0),
           (long long)mk_json_int(info, "ContainersPaused", 0),
           (long long)mk_json_int(info, "ContainersStopped", 0),
           (long long)mk_json_int(info, "Images", 0), MK_VERSION,
           mk_json_str(info, "CgroupVersion"),
           layout == MK_CGROUP_HYBRID ? " (hybrid: v1 controllers with a cgroup2 mount)" : "",
           mk_json_str(info, "KernelVersion"), mk_json_str(info, "Architecture"),
           (long long)mk_json_int(info, "NCPU", 0), mem, mk_json_str(info, "Name"),
           mk_json_str(info, "DockerRootDir"));
    return 0;
}
