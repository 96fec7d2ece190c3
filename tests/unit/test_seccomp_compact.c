/* test_seccomp_compact.c: the range-search rewrite of libseccomp's programs
 * decides every syscall as the original does. */
#include "engine/spec.h"
#include "runtime/internal.h"
#include "tap.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The constants the program compares argument words with (and masks them
 * by), either side of each too: the values worth trying. */
static size_t arg_values(const struct sock_fprog *p, uint32_t *v, size_t cap)
{
    size_t n = 0;
    bool on_arg = false;
    v[n++] = 0;
    v[n++] = UINT32_MAX;
    for (size_t i = 0; i < p->len && n + 3 <= cap; i++) {
        const struct sock_filter *f = &p->filter[i];
        if (BPF_CLASS(f->code) == BPF_LD)
            on_arg = f->k >= offsetof(struct seccomp_data, args);
        else if (on_arg && BPF_CLASS(f->code) != BPF_RET && BPF_OP(f->code) != BPF_JA) {
            v[n++] = f->k;
            v[n++] = f->k - 1;
            v[n++] = f->k + 1;
        }
    }
    return n;
}

static void set_word(struct seccomp_data *d, size_t off, uint32_t v)
{
    memcpy((char *)d + off, &v, sizeof(v));
}

/* Both programs over every number of the x86 tables (and x32's), on each
 * architecture and a foreign one, with each argument word at each value. */
static int compare(const struct sock_fprog *a, const struct sock_fprog *b)
{
    /* Arguments vary on the first two (the profiles': the others are foreign). */
    static const uint32_t arches[] = {AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0,
                                      UINT32_MAX};
    const size_t args_end = offsetof(struct seccomp_data, args) + 3 * sizeof(uint64_t);
    uint32_t values[512];
    size_t n_values = arg_values(a, values, 512);
    int bad = 0;
    for (size_t ai = 0; ai < sizeof(arches) / sizeof(arches[0]); ai++) {
        for (uint32_t k = 0; k < 1400; k++) {
            uint32_t nr = k < 700 ? k : 0x40000000u + (k - 700);
            struct seccomp_data d = {.nr = (int)nr, .arch = arches[ai]};
            /* off == args_end: all words 0. */
            size_t first = ai < 2 ? offsetof(struct seccomp_data, args) : args_end;
            for (size_t off = first; off <= args_end && bad < 5; off += 4) {
                for (size_t v = 0; v < (off < args_end ? n_values : 1); v++) {
                    struct seccomp_data e = d;
                    if (off < args_end)
                        set_word(&e, off, values[v]);
                    uint32_t ra = 1, rb = 2;
                    if (rt_bpf_run(a, &e, &ra) < 0 || rt_bpf_run(b, &e, &rb) < 0 || ra != rb) {
                        printf("# arch %#x nr %#x word %zu = %#x: %#x against %#x\n", e.arch, nr,
                               off, off < args_end ? values[v] : 0, ra, rb);
                        bad++;
                    }
                }
            }
        }
    }
    /* Numbers far from the tables, and random argument vectors. */
    srand(7);
    for (int r = 0; r < 20000 && bad < 5; r++) {
        struct seccomp_data e = {.arch = arches[r % 5]};
        e.nr = r % 3 == 0 ? rand() : r % 3 == 1 ? -(rand() % 4096) : 0x40000000 + rand() % 4096;
        for (size_t off = offsetof(struct seccomp_data, instruction_pointer); off < sizeof(e);
             off += 4)
            set_word(&e, off, rand() % 2 ? values[(size_t)rand() % n_values] : (uint32_t)rand());
        uint32_t ra = 1, rb = 2;
        if (rt_bpf_run(a, &e, &ra) < 0 || rt_bpf_run(b, &e, &rb) < 0 || ra != rb) {
            printf("# random arch %#x nr %#x: %#x against %#x\n", e.arch, (uint32_t)e.nr, ra, rb);
            bad++;
        }
    }
    return bad;
}

static void check_profile(json_t *sec, unsigned max_len)
{
    struct sock_fprog orig = {0}, small = {0};
    mk_err *err = NULL;
    CHECK_MK_OK(err, rt_seccomp_compile(sec, &orig, &err));
    int64_t t0 = mk_monotonic_ns();
    bool ok = rt_bpf_compact(&orig, &small);
    printf("# libseccomp %u instructions, compacted %u (in %.2f ms)\n", orig.len,
           ok ? small.len : 0, (mk_monotonic_ns() - t0) / 1e6);
    if (ok)
        CHECK_INT(compare(&orig, &small), 0);
    free(orig.filter);
    free(small.filter);
    CHECK(ok);
    CHECK(small.len <= max_len);
}

static void test_docker_default(void)
{
    _cleanup_strv_ char **caps = NULL;
    mk_spec_capabilities(NULL, NULL, false, &caps, NULL);
    _cleanup_json_ json_t *sec = NULL;
    CHECK(mk_spec_seccomp_default(caps, &sec, NULL) == 0);
    check_profile(sec, 500);
}

/* --cap-add ALL: more syscalls allowed, clone without its flag test. */
static void test_docker_all_caps(void)
{
    _cleanup_strv_ char **caps = NULL;
    _cleanup_json_ json_t *add = json_pack("[s]", "ALL");
    mk_spec_capabilities(add, NULL, false, &caps, NULL);
    _cleanup_json_ json_t *sec = NULL;
    CHECK(mk_spec_seccomp_default(caps, &sec, NULL) == 0);
    check_profile(sec, 500);
}

/* Argument rules of every kind: 64-bit values (two words each), masks,
 * several conditions in one rule, several rules on one syscall, actions
 * with data, on the default allow. */
static void test_argument_rules(void)
{
    _cleanup_json_ json_t *sec = json_loads(
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\","
        " \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],"
        " \"syscalls\": ["
        /* ioctl(fd, 0x100000002) gets EINVAL */
        "  {\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 22,"
        "   \"args\": [{\"index\": 1, \"value\": 4294967298, \"op\": \"SCMP_CMP_EQ\"}]},"
        /* mmap of PROT_EXEC (under a mask) shorter than 4096 is killed */
        "  {\"names\": [\"mmap\"], \"action\": \"SCMP_ACT_KILL_PROCESS\","
        "   \"args\": [{\"index\": 2, \"value\": 4, \"valueTwo\": 4, \"op\": "
        "\"SCMP_CMP_MASKED_EQ\"},"
        "              {\"index\": 1, \"value\": 4096, \"op\": \"SCMP_CMP_LT\"}]},"
        /* kill and tgkill of a signal >= 2^33 trap */
        "  {\"names\": [\"kill\", \"tgkill\"], \"action\": \"SCMP_ACT_TRAP\","
        "   \"args\": [{\"index\": 1, \"value\": 8589934592, \"op\": \"SCMP_CMP_GE\"}]},"
        /* two rules on one syscall */
        "  {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ERRNO\","
        "   \"args\": [{\"index\": 0, \"value\": 40, \"op\": \"SCMP_CMP_EQ\"}]},"
        "  {\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ERRNO\","
        "   \"args\": [{\"index\": 0, \"value\": 16, \"op\": \"SCMP_CMP_GT\"}]},"
        /* and plain denials, most of them neighbours on x86_64 (200-230) */
        "  {\"names\": [\"reboot\", \"kexec_load\", \"swapon\", \"tkill\", \"time\", \"futex\","
        "   \"sched_setaffinity\", \"sched_getaffinity\", \"set_thread_area\", \"io_setup\","
        "   \"io_destroy\", \"io_getevents\", \"io_submit\", \"io_cancel\", \"get_thread_area\","
        "   \"lookup_dcookie\", \"epoll_create\", \"remap_file_pages\", \"getdents64\","
        "   \"set_tid_address\", \"restart_syscall\", \"semtimedop\", \"fadvise64\","
        "   \"timer_create\", \"timer_settime\", \"timer_gettime\", \"timer_getoverrun\","
        "   \"timer_delete\", \"clock_settime\", \"clock_gettime\", \"clock_getres\","
        "   \"clock_nanosleep\"], \"action\": \"SCMP_ACT_ERRNO\"}"
        "]}",
        0, NULL);
    CHECK(sec != NULL);
    check_profile(sec, 4096);
}

/* What the pass does not follow, it leaves alone. */
static void test_refuses(void)
{
    struct sock_filter ldx[] = {
        BPF_STMT(BPF_LDX | BPF_W | BPF_IMM, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_filter bits[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_filter off_end[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog out;
    struct sock_fprog p1 = {sizeof(ldx) / sizeof(ldx[0]), ldx};
    struct sock_fprog p2 = {sizeof(bits) / sizeof(bits[0]), bits};
    struct sock_fprog p3 = {sizeof(off_end) / sizeof(off_end[0]), off_end};
    CHECK(!rt_bpf_compact(&p1, &out));
    CHECK(!rt_bpf_compact(&p2, &out));
    CHECK(!rt_bpf_compact(&p3, &out));
    uint32_t ret;
    struct seccomp_data d = {.nr = 2};
    CHECK(rt_bpf_run(&p3, &d, &ret) < 0);
    CHECK(rt_bpf_run(&p2, &d, &ret) == 0 && ret == SECCOMP_RET_ALLOW);
    d.nr = 3;
    CHECK(rt_bpf_run(&p1, &d, &ret) == 0 && ret == SECCOMP_RET_KILL_PROCESS);
}

/* The kernel takes the compacted docker filter and decides as docker's. */
static void test_kernel_loads_it(void)
{
    if (geteuid() != 0) {
        printf("# skip: needs root\n");
        return;
    }
    _cleanup_strv_ char **caps = NULL;
    mk_spec_capabilities(NULL, NULL, false, &caps, NULL);
    _cleanup_json_ json_t *sec = NULL;
    CHECK(mk_spec_seccomp_default(caps, &sec, NULL) == 0);
    struct sock_fprog orig = {0}, small = {0};
    mk_err *err = NULL;
    CHECK_MK_OK(err, rt_seccomp_compile(sec, &orig, &err));
    CHECK(rt_bpf_compact(&orig, &small));
    free(orig.filter);
    pid_t pid = fork();
    if (pid == 0) {
        int code = 0;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &small) < 0)
            _exit(100);
        if (getppid() <= 0)
            code |= 1;
        if (syscall(SYS_unshare, 0) == 0 || errno != EPERM)
            code |= 2;
        if (syscall(SYS_clone3, NULL, 0) == 0 || errno != ENOSYS)
            code |= 4;
        if (syscall(SYS_personality, 0xffffffffUL) < 0)
            code |= 8;
        if (syscall(SYS_personality, 0x1UL) == 0 || errno != EPERM)
            code |= 16;
        if (syscall(SYS_socket, 40, 1, 0) >= 0 || errno != EPERM)
            code |= 32;
        _exit(code);
    }
    free(small.filter);
    int st = 0;
    CHECK(waitpid(pid, &st, 0) == pid);
    CHECK(WIFEXITED(st));
    CHECK_INT(WEXITSTATUS(st), 0);
}

int main(void)
{
    RUN(test_docker_default);
    RUN(test_docker_all_caps);
    RUN(test_argument_rules);
    RUN(test_refuses);
    RUN(test_kernel_loads_it);
    return tap_done();
}
