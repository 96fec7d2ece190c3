/* init.c: mocker-init, the tiny init that `--init` runs as the container's pid 1
 * (the role of docker-init, which is tini).  Usage: mocker-init -- CMD [ARG...]
 *
 * It starts CMD, forwards every signal it receives to it, reaps every zombie
 * (orphans of the container are reparented to pid 1) and exits with CMD's
 * status, 128+N if a signal N killed it.  Built static with libc only, so it
 * runs in any image. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PREFIX "[mocker-init] "

/* Signals raised by a fault in this process stay deliverable (and fatal). */
static const int fault_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGABRT};

static void child_exec(char **argv, const sigset_t *orig_mask)
{
    /* Its own process group, in the foreground of the terminal if there is one,
     * so job control inside works as it would without an init. */
    setpgid(0, 0);
    if (isatty(STDIN_FILENO))
        tcsetpgrp(STDIN_FILENO, getpid());
    signal(SIGTTIN, SIG_DFL);
    signal(SIGTTOU, SIG_DFL);
    sigprocmask(SIG_SETMASK, orig_mask, NULL);
    execvp(argv[0], argv);
    int saved = errno;
    fprintf(stderr, PREFIX "exec %s failed: %s\n", argv[0], strerror(saved));
    _exit(saved == ENOENT ? 127 : 126);
}

static int exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

int main(int argc, char **argv)
{
    int first = 1;
    if (first < argc && strcmp(argv[first], "--") == 0)
        first++;
    if (first >= argc) {
        fprintf(stderr, "usage: %s -- COMMAND [ARG...]\n", argv[0]);
        return 1;
    }
    /* Outside a pid namespace orphans would go to the host's init: claim them. */
    if (getpid() != 1)
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

    sigset_t all, orig;
    sigfillset(&all);
    for (size_t i = 0; i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++)
        sigdelset(&all, fault_signals[i]);
    /* Blocked signals are queued even for pid 1, which the kernel otherwise
     * spares from every signal it has no handler for. */
    sigprocmask(SIG_SETMASK, &all, &orig);
    /* Taking the terminal for the child must not stop us. */
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);

    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, PREFIX "fork failed: %s\n", strerror(errno));
        return 1;
    }
    if (child == 0)
        child_exec(argv + first, &orig);

    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig < 0)
            continue; /* EINTR */
        if (sig != SIGCHLD) {
            kill(child, sig);
            continue;
        }
        int status;
        pid_t pid;
        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid == child)
                return exit_code(status);
        }
    }
}
