/* reap.h: children that outlive the call that started them (a container's
 * monitor) and that a long-lived process must wait for.
 *
 * The CLI exits and leaves them to init; mocker serve stays, and each would
 * remain a zombie of it.  A reaper that waited for any child would take the
 * exit status that other code waits for (a tool run with waitpid(pid)), so
 * only the children registered here are reaped. */
#ifndef MK_UTIL_REAP_H
#define MK_UTIL_REAP_H

#include <stdbool.h>
#include <sys/types.h>

/* From now on register() records pids (before it, a no-op: the CLI). */
void mk_reap_enable(void);
/* pid is a child nobody will wait for. */
void mk_reap_register(pid_t pid);
/* Wait for the registered children that have exited; how many are left. */
size_t mk_reap_poll(void);

#endif
