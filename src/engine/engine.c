/* engine.c: opening the engine, signal names and container names. */
#include "engine/engine.h"
#include "engine/internal.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <ctype.h>
#include <string.h>

/* The init for --init is looked for beside the binary first (build/ and a
 * DESTDIR install keep them together), then in the installed libexec dir. */
static char *find_init(const char *self_exe)
{
    _cleanup_free_ char *dir = xstrdup(self_exe);
    char *slash = strrchr(dir, '/');
    if (slash != NULL) {
        *slash = '\0';
        char *beside = xasprintf("%s/mocker-init", dir);
        if (access(beside, X_OK) == 0)
            return beside;
        free(beside);
        char *libexec = xasprintf("%s/../libexec/mocker/mocker-init", dir);
        if (access(libexec, X_OK) == 0)
            return libexec;
        free(libexec);
    }
    return xstrdup(MK_LIBEXECDIR "/mocker-init");
}

int mk_engine_open(struct mk_engine **out, mk_err **err)
{
    struct mk_engine *e = NULL;
    if (mk_engine_open_plain(&e, err) < 0)
        return -1;
    mk_trace("engine-store");
    /* A failed restart is recorded on its container; the command goes on. */
    mk_engine_boot_check(e, NULL);
    *out = e;
    return 0;
}

int mk_engine_open_plain(struct mk_engine **out, mk_err **err)
{
    struct mk_store *store = NULL;
    if (mk_store_open(NULL, NULL, &store, err) < 0)
        return -1;
    struct mk_engine *e = xcalloc(1, sizeof(*e));
    e->store = store;
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n < 0) {
        mk_engine_free(e);
        return mk_err_sys(err, "readlink /proc/self/exe");
    }
    buf[n] = '\0';
    e->self_exe = xstrdup(buf);
    e->init_path = find_init(e->self_exe);
    *out = e;
    return 0;
}

void mk_engine_free(struct mk_engine *e)
{
    if (e == NULL)
        return;
    mk_store_free(e->store);
    free(e->self_exe);
    free(e->init_path);
    free(e);
}

static const struct {
    const char *name;
    int num;
} signals[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP},   {"ABRT", SIGABRT},     {"IOT", SIGIOT},     {"BUS", SIGBUS},
    {"FPE", SIGFPE},     {"KILL", SIGKILL},     {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},   {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT},   {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},
    {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH}, {"IO", SIGIO},         {"POLL", SIGPOLL},   {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

int mk_signal_parse(const char *s, int *out, mk_err **err)
{
    if (s == NULL || *s == '\0')
        return mk_err_set(err, MK_ERR_INVALID, "invalid signal: %s", s ? s : "");
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (*end == '\0' && errno == 0) {
        if (n <= 0 || n > SIGRTMAX)
            return mk_err_set(err, MK_ERR_INVALID, "Invalid signal: %s", s);
        *out = (int)n;
        return 0;
    }
    const char *name = s;
    if (strncasecmp(name, "SIG", 3) == 0)
        name += 3;
    for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        if (strcasecmp(name, signals[i].name) == 0) {
            *out = signals[i].num;
            return 0;
        }
    }
    /* RTMIN+n / RTMAX-n as docker accepts them. */
    if (strncasecmp(name, "RTMIN+", 6) == 0 || strncasecmp(name, "RTMAX-", 6) == 0) {
        long k = strtol(name + 6, &end, 10);
        int v = (toupper((unsigned char)name[4]) == 'I') ? SIGRTMIN + (int)k : SIGRTMAX - (int)k;
        if (*end == '\0' && k >= 0 && v >= SIGRTMIN && v <= SIGRTMAX) {
            *out = v;
            return 0;
        }
    }
    return mk_err_set(err, MK_ERR_INVALID, "Invalid signal: %s", s);
}

/* Our own word lists (adjective_noun, as docker names containers). */
static const char *const adjectives[] = {
    "agile",   "bold",    "brave",   "bright",  "calm",    "clever",  "cool",    "crisp",
    "daring",  "eager",   "fancy",   "festive", "gentle",  "happy",   "humble",  "jolly",
    "keen",    "kind",    "lively",  "lucid",   "merry",   "modest",  "nimble",  "noble",
    "patient", "plucky",  "proud",   "quick",   "quiet",   "rapid",   "sharp",   "shiny",
    "silent",  "smart",   "snappy",  "solid",   "steady",  "sunny",   "swift",   "tender",
    "tidy",    "upbeat",  "vivid",   "warm",    "wise",    "witty",   "zealous", "zen",
};
static const char *const nouns[] = {
    "ampere",  "babbage", "bohr",     "boole",   "curie",   "darwin",  "dirac",   "euler",
    "faraday", "fermi",   "feynman",  "gauss",   "hertz",   "hopper",  "kepler",  "knuth",
    "lamarr",  "leibniz", "lovelace", "maxwell", "meitner", "newton",  "noether", "pascal",
    "planck",  "ritchie", "shannon",  "tesla",   "thompson", "turing", "volta",   "wozniak",
};

char *mk_container_random_name(void)
{
    _cleanup_free_ char *r = mk_random_hex(8);
    unsigned long v = strtoul(r, NULL, 16);
    size_t na = sizeof(adjectives) / sizeof(adjectives[0]);
    size_t nn = sizeof(nouns) / sizeof(nouns[0]);
    return xasprintf("%s_%s", adjectives[v % na], nouns[(v / na) % nn]);
}
