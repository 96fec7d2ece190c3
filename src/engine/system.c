/* system.c: what `docker version` and `docker info` report, computed once for
 * both front ends (cli/cmd_system.c prints it, api/ sends it as JSON) in the
 * Engine API's shapes. */
#include "engine/engine.h"
#include "runtime/runtime.h"

#include <string.h>
#include <sys/utsname.h>
#include <time.h>

const char *mk_go_arch(const char *machine)
{
    if (strcmp(machine, "x86_64") == 0)
        return "amd64";
    if (strcmp(machine, "aarch64") == 0)
        return "arm64";
    return machine;
}

/* The compiler mocker was built with, in the place docker puts Go's version. */
static const char *compiler(void)
{
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "cc";
#endif
}

json_t *mk_engine_version_json(void)
{
    struct utsname u;
    uname(&u);
    const char *arch = mk_go_arch(u.machine);
    /* BuildTime: the binary's compile date, as docker reports its build */
    struct tm tm = {0};
    char build[64] = "";
    if (strptime(__DATE__ " " __TIME__, "%b %d %Y %H:%M:%S", &tm) != NULL)
        strftime(build, sizeof(build), "%Y-%m-%dT%H:%M:%S.000000000+00:00", &tm);
    return json_pack("{s:{s:s},s:[{s:s,s:s,s:{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}}],"
                     "s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
                     "Platform", "Name", "mocker Engine", "Components", "Name", "Engine",
                     "Version", MK_VERSION, "Details", "ApiVersion", "1.47", "Arch", arch,
                     "BuildTime", build, "Experimental", "false", "GitCommit", "",
                     "GoVersion", compiler(), "KernelVersion", u.release, "MinAPIVersion",
                     "1.24", "Os", "linux", "Version", MK_VERSION, "ApiVersion", "1.47",
                     "MinAPIVersion", "1.24", "GitCommit", "", "GoVersion", compiler(), "Os",
                     "linux", "Arch", arch, "KernelVersion", u.release, "BuildTime", build);
}

static int64_t mem_total(void)
{
    _cleanup_free_ char *m = NULL;
    if (mk_read_file("/proc/meminfo", &m, NULL, NULL) < 0)
        return 0;
    const char *p = strstr(m, "MemTotal:");
    return p ? strtoll(p + 9, NULL, 10) * 1024 : 0;
}

/* PRETTY_NAME and VERSION_ID of /etc/os-release ("" when missing). */
static void os_release(char **pretty, char **version)
{
    _cleanup_free_ char *s = NULL;
    *pretty = NULL;
    *version = NULL;
    if (mk_read_file("/etc/os-release", &s, NULL, NULL) == 0) {
        char *save = NULL;
        for (char *l = strtok_r(s, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            char **dst = mk_str_has_prefix(l, "PRETTY_NAME=") ? pretty
                         : mk_str_has_prefix(l, "VERSION_ID=") ? version
                                                               : NULL;
            if (dst == NULL || *dst != NULL)
                continue;
            char *v = strchr(l, '=') + 1;
            size_t n = strlen(v);
            if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
                *dst = xstrndup(v + 1, n - 2);
            else
                *dst = xstrdup(v);
        }
    }
    if (*pretty == NULL)
        *pretty = xstrdup("");
    if (*version == NULL)
        *version = xstrdup("");
}

int mk_engine_info_json(struct mk_engine *e, json_t **out, mk_err **err)
{
    struct mk_container **list = NULL;
    size_t n = 0, running = 0, paused = 0, n_images = 0;
    if (mk_container_list(e, &list, &n, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        running += strcmp(list[i]->status, "running") == 0;
        paused += strcmp(list[i]->status, "paused") == 0;
    }
    mk_container_list_free(list, n);
    struct mk_image **imgs = NULL;
    if (mk_store_image_list(e->store, &imgs, &n_images, err) < 0)
        return -1;
    mk_image_list_free(imgs, n_images);
    struct utsname u;
    uname(&u);
    enum mk_cgroup_layout layout = mk_cgroup_detect();
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    _cleanup_free_ char *pretty = NULL, *os_version = NULL;
    os_release(&pretty, &os_version);
    _cleanup_free_ char *now = mk_time_rfc3339(mk_now_ns());
    json_t *info = json_pack(
        "{s:s,s:I,s:I,s:I,s:I,s:I,s:s,s:[],s:{s:[s],s:[s,s,s],s:n,s:[s]},"
        "s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,"
        "s:I,s:I,s:s,s:s,s:s,s:s,s:[],s:b,s:s,s:s,s:{s:{s:s},s:{s:s}},"
        "s:{s:s,s:s,s:s,s:b,s:s,s:n},s:b,s:s,s:s,s:[s],s:n}",
        "ID", "", "Containers", (json_int_t)n, "ContainersRunning", (json_int_t)running,
        "ContainersPaused", (json_int_t)paused, "ContainersStopped",
        (json_int_t)(n - running - paused), "Images", (json_int_t)n_images, "Driver",
        "overlay2", "DriverStatus", "Plugins", "Volume", "local", "Network", "bridge", "host",
        "null", "Authorization", "Log", "json-file", "MemoryLimit", 1, "SwapLimit", 1,
        "CpuCfsPeriod", 1, "CpuCfsQuota", 1, "CPUShares", 1, "CPUSet", 1, "PidsLimit", 1,
        "IPv4Forwarding", 1, "Debug", 0, "SystemTime", now, "LoggingDriver", "json-file",
        "CgroupDriver", "cgroupfs", "CgroupVersion", layout == MK_CGROUP_V2 ? "2" : "1",
        "KernelVersion", u.release, "OperatingSystem", pretty, "OSVersion", os_version,
        "OSType", "linux", "Architecture", u.machine, "NCPU",
        (json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "MemTotal", (json_int_t)mem_total(),
        "DockerRootDir", e->store->root, "HttpProxy", "", "HttpsProxy", "", "Name", host,
        "Labels", "ExperimentalBuild", 0, "ServerVersion", MK_VERSION, "IndexServerAddress",
        "https://index.docker.io/v1/", "Runtimes", "mocker", "path", e->self_exe, "runc",
        "path", "runc", "Swarm", "NodeID", "", "NodeAddr", "", "LocalNodeState", "inactive",
        "ControlAvailable", 0, "Error", "", "RemoteManagers", "LiveRestoreEnabled", 0,
        "DefaultRuntime", "mocker", "InitBinary", "mocker-init", "SecurityOptions",
        "name=seccomp,profile=builtin", "Warnings");
    *out = info;
    return 0;
}
