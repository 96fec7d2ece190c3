/* binfmt.c: letting the kernel run another architecture's binaries, for
 * images of a foreign platform, through qemu-user and binfmt_misc.
 *
 * An enabled binfmt_misc entry whose magic and mask accept an ELF header of
 * that architecture means the kernel can already do it (whatever registered
 * it: systemd-binfmt, binfmt-support, docker's binfmt tool).  Otherwise an
 * entry is registered from what qemu-user-static installed, read where the
 * distribution keeps it rather than known here: a systemd binfmt.d line
 * (qemu-<arch>.conf), else binfmt-support's description (/usr/share/binfmts),
 * else a line made from the architecture's ELF header for the bare
 * /usr/bin/qemu-<arch>-static.  Every entry mocker registers has the F flag:
 * the kernel opens the interpreter at registration, so it works inside a
 * container's mount namespace, where no qemu exists. */
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#define BINFMT_DIR "/proc/sys/fs/binfmt_misc"
#define ELF_HEADER 20 /* e_ident, e_type and e_machine: what magic masks look at */

struct elf_arch {
    const char *goarch, *qemu;
    unsigned char class; /* 1: 32-bit, 2: 64-bit */
    bool big_endian;
    unsigned short machine; /* e_machine */
};

static const struct elf_arch elf_archs[] = {
    {"amd64", "x86_64", 2, false, 62},       {"386", "i386", 1, false, 3},
    {"arm64", "aarch64", 2, false, 183},     {"arm64be", "aarch64_be", 2, true, 183},
    {"arm", "arm", 1, false, 40},            {"armbe", "armeb", 1, true, 40},
    {"ppc64le", "ppc64le", 2, false, 21},    {"ppc64", "ppc64", 2, true, 21},
    {"ppc", "ppc", 1, true, 20},             {"s390x", "s390x", 2, true, 22},
    {"riscv64", "riscv64", 2, false, 243},   {"riscv", "riscv32", 1, false, 243},
    {"mips64le", "mips64el", 2, false, 8},   {"mips64", "mips64", 2, true, 8},
    {"mipsle", "mipsel", 1, false, 8},       {"mips", "mips", 1, true, 8},
    {"loong64", "loongarch64", 2, false, 258}, {"sparc64", "sparc64", 2, true, 43},
};

static const struct elf_arch *find_arch(const char *goarch)
{
    for (size_t i = 0; i < sizeof(elf_archs) / sizeof(elf_archs[0]); i++)
        if (strcmp(elf_archs[i].goarch, goarch) == 0)
            return &elf_archs[i];
    return NULL;
}

/* Is a the machine this very program was built for (its own ELF header)? */
static bool is_native(const struct elf_arch *a)
{
    unsigned char h[20];
    _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || mk_read_all(fd, h, sizeof(h)) != (ssize_t)sizeof(h) || memcmp(h, "\177ELF", 4) != 0)
        return false;
    bool big = h[5] == 2;
    unsigned short machine = big ? (unsigned short)(h[18] << 8 | h[19])
                                 : (unsigned short)(h[19] << 8 | h[18]);
    return h[4] == a->class && big == a->big_endian && machine == a->machine;
}

/* The first bytes of an executable of arch; mask says which of them an
 * entry must match (not the OS ABI byte, and ET_EXEC or ET_DYN alike). */
static void elf_header(const struct elf_arch *a, unsigned char hdr[ELF_HEADER],
                       unsigned char mask[ELF_HEADER])
{
    static const unsigned char ident[8] = {0x7f, 'E', 'L', 'F', 0, 0, 1, 0};
    memset(hdr, 0, ELF_HEADER);
    memset(mask, 0xff, ELF_HEADER);
    memcpy(hdr, ident, sizeof(ident));
    hdr[4] = a->class;
    hdr[5] = a->big_endian ? 2 : 1;
    mask[7] = 0;
    int lo = a->big_endian ? 1 : 0, hi = 1 - lo;
    hdr[16 + lo] = 2; /* ET_EXEC */
    mask[16 + lo] = 0xfe;
    hdr[18 + lo] = (unsigned char)(a->machine & 0xff);
    hdr[18 + hi] = (unsigned char)(a->machine >> 8);
}

/* Where the tests look for qemu's files instead of / ("" normally).  What
 * is found there is registered for the whole host, so a prefix counts only
 * when root owns it and nobody else may write to it. */
static const char *prefix(void)
{
    const char *p = getenv("MOCKER_BINFMT_PREFIX");
    struct stat st;
    if (p == NULL || *p == '\0' || stat(p, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 ||
        (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return "";
    return p;
}

static int ensure_mounted(mk_err **err)
{
    struct statfs st;
    if (statfs(BINFMT_DIR, &st) == 0 && st.f_type == BINFMTFS_MAGIC)
        return 0;
    /* As systemd mounts it; EBUSY: someone else just did. */
    if (mount("binfmt_misc", BINFMT_DIR, "binfmt_misc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) <
            0 &&
        errno != EBUSY)
        return mk_err_sys(err, "mount binfmt_misc on %s", BINFMT_DIR);
    return 0;
}

static int hex_nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The kernel's hex dump of a magic or mask into out; its length, -1 if bad. */
static int parse_hex(const char *s, unsigned char *out, size_t cap)
{
    size_t n = 0;
    for (; s[0] && s[0] != '\n'; s += 2) {
        int hi = hex_nibble(s[0]), lo = hex_nibble(s[1]);
        if (hi < 0 || lo < 0 || n == cap)
            return -1;
        out[n++] = (unsigned char)(hi << 4 | lo);
    }
    return (int)n;
}

enum entry_verdict { ENTRY_NO, ENTRY_ENABLED, ENTRY_DISABLED };

/* Does the entry whose status text is `status` accept arch's executables? */
static enum entry_verdict entry_accepts(const char *status, const struct elf_arch *a)
{
    unsigned char magic[128], mask[128], hdr[ELF_HEADER], ours[ELF_HEADER];
    const char *m = strstr(status, "\nmagic ");
    if (m == NULL)
        return ENTRY_NO; /* an extension entry */
    int n = parse_hex(m + 7, magic, sizeof(magic));
    if (n <= 0)
        return ENTRY_NO;
    const char *k = strstr(status, "\nmask ");
    int nm = k ? parse_hex(k + 6, mask, sizeof(mask)) : -1;
    if (nm < 0)
        memset(mask, 0xff, sizeof(mask));
    const char *o = strstr(status, "\noffset ");
    long off = o ? strtol(o + 8, NULL, 10) : 0;
    if (off < 0 || off >= ELF_HEADER)
        return ENTRY_NO;
    elf_header(a, hdr, ours);
    /* Bytes past the ELF header (e_flags, for some) are taken as matching. */
    for (long i = 0; i < n && off + i < ELF_HEADER; i++) {
        unsigned char em = nm < 0 || i < nm ? mask[i] : 0xff;
        if ((hdr[off + i] & em) != (magic[i] & em))
            return ENTRY_NO;
    }
    return mk_str_has_prefix(status, "enabled") ? ENTRY_ENABLED : ENTRY_DISABLED;
}

/* Scan the registered entries: ENTRY_ENABLED if one runs arch, else
 * ENTRY_DISABLED with its name in *disabled when only a disabled one would;
 * -1 on error. */
static int scan_entries(const struct elf_arch *a, char **disabled, mk_err **err)
{
    _cleanup_closedir_ DIR *d = opendir(BINFMT_DIR);
    if (d == NULL)
        return mk_err_sys(err, "open %s", BINFMT_DIR);
    enum entry_verdict best = ENTRY_NO;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "register") == 0 ||
            strcmp(de->d_name, "status") == 0)
            continue;
        _cleanup_free_ char *path = mk_path_join(BINFMT_DIR, de->d_name);
        _cleanup_free_ char *status = NULL;
        _cleanup_err_ mk_err *ignored = NULL;
        /* An entry removed meanwhile is just not there. */
        if (mk_read_file(path, &status, NULL, &ignored) < 0)
            continue;
        enum entry_verdict v = entry_accepts(status, a);
        if (v == ENTRY_ENABLED)
            return ENTRY_ENABLED;
        if (v == ENTRY_DISABLED && best == ENTRY_NO) {
            best = ENTRY_DISABLED;
            free(*disabled);
            *disabled = xstrdup(de->d_name);
        }
    }
    return best;
}

/* A systemd binfmt.d file's registration line (comments skipped). */
static char *line_from_binfmt_d(const char *path)
{
    _cleanup_free_ char *text = NULL;
    _cleanup_err_ mk_err *ignored = NULL;
    if (mk_read_file(path, &text, NULL, &ignored) < 0)
        return NULL;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        size_t n = strlen(l);
        while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '\r'))
            l[--n] = '\0';
        if (*l != '#' && *l != ';' && *l != '\0')
            return xstrdup(l);
    }
    return NULL;
}

/* binfmt-support's "key value" description of an entry, as a registration line. */
static char *line_from_binfmts(const char *path, const char *name)
{
    _cleanup_free_ char *text = NULL;
    _cleanup_err_ mk_err *ignored = NULL;
    if (mk_read_file(path, &text, NULL, &ignored) < 0)
        return NULL;
    const char *interp = NULL, *magic = NULL, *mask = "", *offset = "";
    bool creds = false, fix = false, preserve = false;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *v = strchr(l, ' ');
        if (v == NULL)
            continue;
        *v++ = '\0';
        if (strcmp(l, "interpreter") == 0)
            interp = v;
        else if (strcmp(l, "magic") == 0)
            magic = v;
        else if (strcmp(l, "mask") == 0)
            mask = v;
        else if (strcmp(l, "offset") == 0)
            offset = v;
        else if (strcmp(l, "credentials") == 0)
            creds = strcmp(v, "yes") == 0;
        else if (strcmp(l, "fix_binary") == 0)
            fix = strcmp(v, "yes") == 0;
        else if (strcmp(l, "preserve") == 0)
            preserve = strcmp(v, "yes") == 0;
    }
    if (interp == NULL || magic == NULL)
        return NULL;
    return xasprintf(":%s:M:%s:%s:%s:%s:%s%s%s", name, offset, magic, mask, interp,
                     preserve ? "P" : "", creds ? "C" : "", fix ? "F" : "");
}

/* The line for the bare interpreter, magic and mask from the ELF facts. */
static char *line_from_elf(const struct elf_arch *a, const char *interp)
{
    unsigned char hdr[ELF_HEADER], mask[ELF_HEADER];
    elf_header(a, hdr, mask);
    char mg[ELF_HEADER * 4 + 1], mk[ELF_HEADER * 4 + 1];
    for (int i = 0; i < ELF_HEADER; i++) {
        snprintf(mg + i * 4, 5, "\\x%02x", hdr[i]);
        snprintf(mk + i * 4, 5, "\\x%02x", mask[i]);
    }
    return xasprintf(":qemu-%s:M::%s:%s:%s:F", a->qemu, mg, mk, interp);
}

/* The interpreter field (the sixth) of a registration line, if it exists. */
static bool interpreter_exists(const char *line)
{
    const char *p = line;
    for (int field = 0; field < 5 && p != NULL; field++)
        p = strchr(p + 1, line[0]);
    if (p == NULL)
        return false;
    const char *end = strchr(p + 1, line[0]);
    _cleanup_free_ char *interp = end ? xstrndup(p + 1, (size_t)(end - p - 1)) : xstrdup(p + 1);
    return access(interp, X_OK) == 0;
}

/* A registration line for arch from what is installed, with the F flag;
 * NULL when no interpreter for it is installed. */
static char *find_registration(const struct elf_arch *a, char **looked_for)
{
    const char *pre = prefix();
    static const char *const conf_dirs[] = {"/etc/binfmt.d", "/run/binfmt.d", "/usr/lib/binfmt.d"};
    char *line = NULL;
    for (size_t i = 0; i < 3 && line == NULL; i++) {
        _cleanup_free_ char *path = xasprintf("%s%s/qemu-%s.conf", pre, conf_dirs[i], a->qemu);
        line = line_from_binfmt_d(path);
        if (line != NULL && !interpreter_exists(line))
            free(steal_pointer(&line));
    }
    if (line == NULL) {
        _cleanup_free_ char *path = xasprintf("%s/usr/share/binfmts/qemu-%s", pre, a->qemu);
        _cleanup_free_ char *name = xasprintf("qemu-%s", a->qemu);
        line = line_from_binfmts(path, name);
        if (line != NULL && !interpreter_exists(line))
            free(steal_pointer(&line));
    }
    _cleanup_free_ char *bare = xasprintf("%s/usr/bin/qemu-%s-static", pre, a->qemu);
    if (line == NULL && access(bare, X_OK) == 0)
        line = line_from_elf(a, bare);
    if (line == NULL) {
        *looked_for = steal_pointer(&bare);
        return NULL;
    }
    /* The flags are the last field: without F the interpreter would be looked
     * up inside the container. */
    const char *flags = strrchr(line, line[0]);
    if (strchr(flags, 'F') == NULL) {
        char *with_f = xasprintf("%sF", line);
        free(line);
        line = with_f;
    }
    return line;
}

int mk_binfmt_ensure(const char *goarch, mk_err **err)
{
    const struct elf_arch *a = find_arch(goarch);
    if (a == NULL)
        return mk_err_set(err, MK_ERR_UNSUPPORTED,
                          "no emulator is known for architecture %s", goarch);
    /* Never for the host's own binaries: that entry would route every
     * program the host runs through qemu. */
    if (is_native(a))
        return mk_err_set(err, MK_ERR_INVALID,
                          "refusing to register an emulator for %s, the host's own architecture",
                          goarch);
    if (ensure_mounted(err) < 0)
        return -1;
    _cleanup_free_ char *global = NULL;
    _cleanup_err_ mk_err *ignored = NULL;
    if (mk_read_file(BINFMT_DIR "/status", &global, NULL, &ignored) == 0 &&
        mk_str_has_prefix(global, "disabled"))
        return mk_err_set(err, MK_ERR_UNSUPPORTED, "binfmt_misc is disabled (%s/status)", BINFMT_DIR);
    _cleanup_free_ char *disabled = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        int v = scan_entries(a, &disabled, err);
        if (v < 0)
            return -1;
        if (v == ENTRY_ENABLED)
            return 0;
        if (v == ENTRY_DISABLED)
            return mk_err_set(err, MK_ERR_UNSUPPORTED,
                              "the binfmt_misc entry %s for %s binaries is disabled (%s/%s)",
                              disabled, goarch, BINFMT_DIR, disabled);
        if (attempt == 1)
            break;
        _cleanup_free_ char *looked_for = NULL;
        _cleanup_free_ char *line = find_registration(a, &looked_for);
        if (line == NULL)
            return mk_err_set(err, MK_ERR_NOT_FOUND,
                              "no binfmt_misc entry runs %s binaries and %s is not installed "
                              "(Debian: apt-get install qemu-user-static)",
                              goarch, looked_for);
        _cleanup_close_ int fd = open(BINFMT_DIR "/register", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return mk_err_sys(err, "open %s/register", BINFMT_DIR);
        /* EEXIST: another process registered the same name meanwhile; the
         * second scan says whether it is usable. */
        if (write(fd, line, strlen(line)) < 0 && errno != EEXIST)
            return mk_err_sys(err, "register %s with binfmt_misc", line);
    }
    return mk_err_set(err, MK_ERR_INTERNAL,
                      "registered an emulator for %s, but binfmt_misc does not list it", goarch);
}
