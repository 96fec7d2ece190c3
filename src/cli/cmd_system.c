/* cmd_system.c: docker version and docker info. */
#include "cli/cli.h"
#include "cli/format.h"
#include "runtime/runtime.h"

#include <string.h>
#include <sys/utsname.h>

static const char *go_arch(const char *machine)
{
    if (strcmp(machine, "x86_64") == 0)
        return "amd64";
    if (strcmp(machine, "aarch64") == 0)
        return "arm64";
    return machine;
}

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
    const char *arch = go_arch(u.machine);
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

static int64_t mem_total(void)
{
    _cleanup_free_ char *m = NULL;
    if (mk_read_file("/proc/meminfo", &m, NULL, NULL) < 0)
        return 0;
    const char *p = strstr(m, "MemTotal:");
    return p ? strtoll(p + 9, NULL, 10) * 1024 : 0;
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
    struct mk_container **list = NULL;
    size_t n = 0, running = 0, paused = 0, n_images = 0;
    if (mk_container_list(e, &list, &n, &err) < 0) {
        mk_engine_free(e);
        return mk_cli_fail(NULL, err, 1);
    }
    for (size_t i = 0; i < n; i++) {
        running += strcmp(list[i]->status, "running") == 0;
        paused += strcmp(list[i]->status, "paused") == 0;
    }
    mk_container_list_free(list, n);
    struct mk_image **imgs = NULL;
    if (mk_store_image_list(e->store, &imgs, &n_images, NULL) == 0)
        mk_image_list_free(imgs, n_images);
    struct utsname u;
    uname(&u);
    enum mk_cgroup_layout layout = mk_cgroup_detect();
    const char *cg = layout == MK_CGROUP_V2 ? "2" : "1";
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    _cleanup_free_ char *mem = mk_human_size(mem_total());
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    _cleanup_json_ json_t *info = json_pack(
        "{s:i,s:i,s:i,s:i,s:i,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:I,s:s,s:s,s:s,s:{s:{s:s},s:{s:s}}}",
        "Containers", (int)n, "ContainersRunning", (int)running, "ContainersPaused", (int)paused,
        "ContainersStopped", (int)(n - running - paused), "Images", (int)n_images,
        "ServerVersion", MK_VERSION, "Driver", "overlay2", "LoggingDriver", "json-file",
        "CgroupDriver", "cgroupfs", "CgroupVersion", cg, "KernelVersion", u.release, "OSType",
        "linux", "Architecture", u.machine, "NCPU", (int)ncpu, "MemTotal", (json_int_t)mem_total(),
        "Name", host, "DockerRootDir", e->store->root, "DefaultRuntime", "mocker", "Runtimes",
        "mocker", "path", e->self_exe, "runc", "path", "runc");
    mk_engine_free(e);
    if (fmt != NULL)
        return print_template(fmt, info);
    printf("Client:\n Version:    %s\n Context:    default\n\n", MK_VERSION);
    printf("Server:\n"
           " Containers: %zu\n  Running: %zu\n  Paused: %zu\n  Stopped: %zu\n"
           " Images: %zu\n Server Version: %s\n Storage Driver: overlay2\n"
           " Logging Driver: json-file\n Cgroup Driver: cgroupfs\n Cgroup Version: %s%s\n"
           " Runtimes: mocker runc\n Default Runtime: mocker\n Kernel Version: %s\n"
           " OSType: linux\n Architecture: %s\n CPUs: %ld\n Total Memory: %s\n Name: %s\n"
           " Docker Root Dir: %s\n",
           n, running, paused, n - running - paused, n_images, MK_VERSION, cg,
           layout == MK_CGROUP_HYBRID ? " (hybrid: v1 controllers with a cgroup2 mount)" : "",
           u.release, u.machine, ncpu, mem, host, mk_json_str(info, "DockerRootDir"));
    return 0;
}
