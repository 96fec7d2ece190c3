/* platform.c: image platforms (os/arch[/variant]) as docker reads, writes and
 * matches them: the --platform specifier, the host's platform, which platforms
 * a wanted one accepts, and the entry of an image index a pull takes.
 *
 * The rules are those of containerd's platforms package that dockerd uses
 * (facts only; wording measured against dockerd 20.10): GOOS/GOARCH names,
 * aliases folded case-insensitively (x86_64 -> amd64, aarch64 -> arm64,
 * armhf -> arm/v7, armel -> arm/v6, i386 -> 386), arm64's v8 the same as no
 * variant, and a CPU accepting the older variants of its family (arm/v7
 * runs v6 and v5, arm64 runs arm/v8 and below, amd64 runs 386). */
#include "image/image.h"

#include <ctype.h>
#include <string.h>
#include <sys/utsname.h>

/* The component syntax dockerd 20.10 accepts, as its errors quote it. */
#define COMPONENT_RE "^[A-Za-z0-9_-]+$"

static bool known_os(const char *os)
{
    static const char *const all[] = {"aix",   "android", "darwin",  "dragonfly", "freebsd", "hurd",
                                      "illumos", "ios",   "js",      "linux",     "nacl",    "netbsd",
                                      "openbsd", "plan9", "solaris", "windows",   "zos",     NULL};
    for (size_t i = 0; all[i]; i++)
        if (strcmp(os, all[i]) == 0)
            return true;
    return false;
}

static bool known_arch(const char *arch)
{
    static const char *const all[] = {
        "386",  "amd64",  "amd64p32",    "arm",     "armbe",    "arm64",   "arm64be", "ppc64",
        "ppc64le", "loong64", "mips", "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le",
        "ppc",  "riscv",  "riscv64",     "s390",    "s390x",    "sparc",   "sparc64", "wasm",
        NULL};
    for (size_t i = 0; all[i]; i++)
        if (strcmp(arch, all[i]) == 0)
            return true;
    return false;
}

static void lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* Values longer than a field (from an image config) are cut short. */
static void set(char *field, const char *value)
{
    size_t n = strnlen(value, MK_PLATFORM_FIELD - 1);
    memmove(field, value, n);
    field[n] = '\0';
}

static void normalize_os(char *os)
{
    lower(os);
    if (*os == '\0')
        set(os, "linux");
    else if (strcmp(os, "macos") == 0)
        set(os, "darwin");
}

static bool any_of(const char *s, const char *a, const char *b, const char *c)
{
    return strcmp(s, a) == 0 || strcmp(s, b) == 0 || (c != NULL && strcmp(s, c) == 0);
}

static void normalize_arch(char *arch, char *variant)
{
    lower(arch);
    lower(variant);
    if (strcmp(arch, "i386") == 0) {
        set(arch, "386");
        set(variant, "");
    } else if (any_of(arch, "x86_64", "x86-64", "amd64")) {
        set(arch, "amd64");
        if (strcmp(variant, "v1") == 0)
            set(variant, "");
    } else if (any_of(arch, "aarch64", "arm64", NULL)) {
        set(arch, "arm64");
        if (any_of(variant, "8", "v8", "v8.0"))
            set(variant, "");
        else if (any_of(variant, "9", "9.0", "v9.0"))
            set(variant, "v9");
    } else if (strcmp(arch, "armhf") == 0) {
        set(arch, "arm");
        set(variant, "v7");
    } else if (strcmp(arch, "armel") == 0) {
        set(arch, "arm");
        set(variant, "v6");
    } else if (strcmp(arch, "arm") == 0) {
        if (any_of(variant, "", "7", NULL))
            set(variant, "v7");
        else if (any_of(variant, "5", "6", "8")) {
            memmove(variant + 1, variant, 2); /* "6" -> "v6" */
            variant[0] = 'v';
        }
    }
}

void mk_platform_normalize(struct mk_platform *p)
{
    normalize_os(p->os);
    normalize_arch(p->architecture, p->variant);
}

static bool valid_component(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

int mk_platform_parse(const char *s, struct mk_platform *out, mk_err **err)
{
    if (strchr(s, '*') != NULL)
        return mk_err_set(err, MK_ERR_INVALID, "\"%s\": wildcards not yet supported: invalid argument", s);
    /* At most four parts: a fourth keeps the rest, slashes and all. */
    const char *parts[4];
    size_t lens[4], n = 0;
    for (const char *p = s;; n++) {
        const char *slash = n < 3 ? strchr(p, '/') : NULL;
        parts[n] = p;
        lens[n] = slash ? (size_t)(slash - p) : strlen(p);
        if (!valid_component(p, lens[n]))
            return mk_err_set(err, MK_ERR_INVALID,
                              "\"%.*s\" is an invalid component of \"%s\": platform specifier "
                              "component must match \"" COMPONENT_RE "\": invalid argument",
                              (int)lens[n], p, s);
        if (lens[n] >= MK_PLATFORM_FIELD)
            return mk_err_set(err, MK_ERR_INVALID, "\"%s\": platform component too long: invalid argument", s);
        if (slash == NULL) {
            n++;
            break;
        }
        p = slash + 1;
    }
    if (n == 4)
        return mk_err_set(err, MK_ERR_INVALID, "\"%s\": cannot parse platform specifier: invalid argument", s);
    struct mk_platform p = {{0}};
    snprintf(p.os, sizeof(p.os), "%.*s", (int)lens[0], parts[0]);
    normalize_os(p.os);
    if (n == 1) {
        /* One word: an OS if it is one (with the host's architecture), else an
         * architecture on linux. */
        if (known_os(p.os)) {
            struct mk_platform host;
            mk_platform_host(&host);
            set(p.architecture, host.architecture);
            if (strcmp(host.architecture, "arm") == 0 && strcmp(host.variant, "v7") != 0)
                set(p.variant, host.variant);
            *out = p;
            return 0;
        }
        snprintf(p.architecture, sizeof(p.architecture), "%.*s", (int)lens[0], parts[0]);
        normalize_arch(p.architecture, p.variant);
        if (!known_arch(p.architecture))
            return mk_err_set(err, MK_ERR_INVALID, "\"%s\": unknown operating system or architecture: invalid argument", s);
        set(p.os, "linux");
        if (strcmp(p.architecture, "arm") == 0 && strcmp(p.variant, "v7") == 0)
            set(p.variant, "");
        *out = p;
        return 0;
    }
    snprintf(p.architecture, sizeof(p.architecture), "%.*s", (int)lens[1], parts[1]);
    if (n == 3)
        snprintf(p.variant, sizeof(p.variant), "%.*s", (int)lens[2], parts[2]);
    normalize_arch(p.architecture, p.variant);
    /* Written as the user meant it: arm's default v7 left out when not given,
     * arm64's v8 kept when it was. */
    if (n == 2 && strcmp(p.architecture, "arm") == 0 && strcmp(p.variant, "v7") == 0)
        set(p.variant, "");
    if (n == 3 && strcmp(p.architecture, "arm64") == 0 && *p.variant == '\0')
        set(p.variant, "v8");
    *out = p;
    return 0;
}

void mk_platform_host(struct mk_platform *out)
{
    static const struct {
        const char *machine, *arch, *variant;
    } map[] = {
        {"x86_64", "amd64", ""},     {"aarch64", "arm64", "v8"}, {"aarch64_be", "arm64be", ""},
        {"armv8l", "arm", "v8"},     {"armv7l", "arm", "v7"},    {"armv6l", "arm", "v6"},
        {"armv5tel", "arm", "v5"},   {"i686", "386", ""},        {"i586", "386", ""},
        {"i386", "386", ""},         {"ppc64le", "ppc64le", ""}, {"ppc64", "ppc64", ""},
        {"s390x", "s390x", ""},      {"riscv64", "riscv64", ""}, {"mips64", "mips64le", ""},
        {"loongarch64", "loong64", ""},
    };
    struct mk_platform p = {{0}};
    set(p.os, "linux");
    struct utsname u;
    set(p.architecture, uname(&u) == 0 ? u.machine : "amd64");
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(p.architecture, map[i].machine) == 0) {
            set(p.architecture, map[i].arch);
            set(p.variant, map[i].variant);
            break;
        }
    *out = p;
}

char *mk_platform_format(const struct mk_platform *p)
{
    if (*p->os == '\0')
        return xstrdup("unknown");
    return xasprintf("%s%s%s%s%s", p->os, *p->architecture ? "/" : "", p->architecture,
                     *p->variant ? "/" : "", p->variant);
}

bool mk_platform_from_config(const json_t *config, struct mk_platform *out)
{
    const char *arch = mk_json_str(config, "architecture");
    if (arch == NULL || *arch == '\0')
        return false;
    const char *os = mk_json_str(config, "os");
    const char *variant = mk_json_str(config, "variant");
    struct mk_platform p = {{0}};
    set(p.os, os != NULL && *os ? os : "linux");
    set(p.architecture, arch);
    set(p.variant, variant != NULL ? variant : "");
    *out = p;
    return true;
}

static bool same(const struct mk_platform *a, const struct mk_platform *b)
{
    struct mk_platform x = *a, y = *b;
    mk_platform_normalize(&x);
    mk_platform_normalize(&y);
    return strcmp(x.os, y.os) == 0 && strcmp(x.architecture, y.architecture) == 0 &&
           strcmp(x.variant, y.variant) == 0;
}

/* "vN" (or "vN.M") as numbers; false for anything else. */
static bool variant_version(const char *v, int *major, int *minor)
{
    char *end;
    if (v[0] != 'v' || !isdigit((unsigned char)v[1]))
        return false;
    *major = (int)strtol(v + 1, &end, 10);
    *minor = 0;
    if (*end == '.' && isdigit((unsigned char)end[1]))
        *minor = (int)strtol(end + 1, &end, 10);
    return *end == '\0';
}

/* Rank of candidate among the platforms `want` accepts, best first: 1 for
 * want itself, then its family's older variants; 0 when not accepted. */
static int arm_rank(const struct mk_platform *want, const struct mk_platform *cand, int major,
                    int base)
{
    struct mk_platform v = *want;
    set(v.architecture, "arm");
    for (int k = major, rank = base; k >= 5; k--, rank++) {
        snprintf(v.variant, sizeof(v.variant), "v%d", k);
        if (same(&v, cand))
            return rank;
    }
    return 0;
}

int mk_platform_match(const struct mk_platform *want, const struct mk_platform *candidate)
{
    struct mk_platform w = *want;
    mk_platform_normalize(&w);
    int major, minor;
    if (strcmp(w.architecture, "arm64") == 0) {
        /* v9.x runs v9.x..v9.0, then v8.(x+5)..v8.0 (capped at v8.9);
         * v8.x runs v8.x..v8.0; then all of them 32-bit arm v8 and below. */
        const char *variant = *w.variant ? w.variant : "v8";
        if (!variant_version(variant, &major, &minor) || major < 8 || major > 9 ||
            (major == 9 && minor > 7) || minor > 9)
            return same(&w, candidate) ? 1 : 0;
        struct mk_platform v = w;
        int rank = 1;
        for (int m = major; m >= 8; m--) {
            int top = m == major ? minor : (minor + 5 > 9 ? 9 : minor + 5);
            for (int k = top; k >= 0; k--, rank++) {
                if (k == 0)
                    snprintf(v.variant, sizeof(v.variant), "v%d", m);
                else
                    snprintf(v.variant, sizeof(v.variant), "v%d.%d", m, k);
                if (same(&v, candidate))
                    return rank;
            }
        }
        return arm_rank(&w, candidate, 8, rank);
    }
    if (same(&w, candidate))
        return 1;
    if (strcmp(w.architecture, "arm") == 0 && variant_version(w.variant, &major, &minor) &&
        minor == 0)
        return arm_rank(&w, candidate, major - 1, 2);
    if (strcmp(w.architecture, "amd64") == 0) {
        struct mk_platform v = w;
        int rank = 2;
        if (variant_version(w.variant, &major, &minor) && minor == 0)
            for (int k = major - 1; k >= 1; k--, rank++) {
                snprintf(v.variant, sizeof(v.variant), "v%d", k);
                if (same(&v, candidate))
                    return rank;
            }
        set(v.architecture, "386");
        set(v.variant, "");
        return same(&v, candidate) ? rank : 0;
    }
    return 0;
}

bool mk_platform_runs_on(const struct mk_platform *host, const struct mk_platform *image)
{
    if (mk_platform_match(host, image) > 0)
        return true;
    /* Image configs often leave the variant out: same OS and architecture is
     * then enough (dockerd's fallback). */
    if (*image->variant != '\0')
        return false;
    struct mk_platform h = *host, i = *image;
    mk_platform_normalize(&h);
    mk_platform_normalize(&i);
    return strcmp(h.os, i.os) == 0 && strcmp(h.architecture, i.architecture) == 0;
}

/* An index entry's platform; false for entries that are not images to run
 * (attestations, which buildkit marks and gives the platform unknown/unknown). */
static bool entry_platform(const json_t *entry, struct mk_platform *out)
{
    const char *type =
        mk_json_str(json_object_get(entry, "annotations"), "vnd.docker.reference.type");
    if (type != NULL && strcmp(type, "attestation-manifest") == 0)
        return false;
    const json_t *plat = json_object_get(entry, "platform");
    const char *os = mk_json_str(plat, "os"), *arch = mk_json_str(plat, "architecture");
    const char *variant = mk_json_str(plat, "variant");
    if (os == NULL || arch == NULL || (strcmp(os, "unknown") == 0 && strcmp(arch, "unknown") == 0))
        return false;
    *out = (struct mk_platform){{0}};
    set(out->os, os);
    set(out->architecture, arch);
    set(out->variant, variant != NULL ? variant : "");
    return true;
}

int mk_platform_choose(const json_t *manifests, const struct mk_platform *want, size_t *index,
                       mk_err **err)
{
    size_t i, best = 0;
    int best_rank = 0;
    const json_t *entry;
    struct mk_platform p;
    json_array_foreach(manifests, i, entry) {
        if (!entry_platform(entry, &p))
            continue;
        int rank = mk_platform_match(want, &p);
        if (rank > 0 && (best_rank == 0 || rank < best_rank)) {
            best = i;
            best_rank = rank;
        }
    }
    /* Older indexes name arm without a variant: os and architecture do then. */
    struct mk_platform w = *want;
    mk_platform_normalize(&w);
    if (best_rank == 0 && strcmp(w.architecture, "arm") == 0)
        json_array_foreach(manifests, i, entry) {
            if (!entry_platform(entry, &p))
                continue;
            mk_platform_normalize(&p);
            if (strcmp(p.os, w.os) == 0 && strcmp(p.architecture, w.architecture) == 0) {
                best = i;
                best_rank = 1;
                break;
            }
        }
    if (best_rank == 0) {
        _cleanup_free_ char *name = mk_platform_format(want);
        return mk_err_set(err, MK_ERR_NOT_FOUND, "no matching manifest for %s in the manifest list entries", name);
    }
    *index = best;
    return 0;
}
