/* internal.h: what the monitor's own files share and nothing outside
 * src/monitor/ sees: the healthcheck runner that monitor.c drives. */
#ifndef MK_MONITOR_INTERNAL_H
#define MK_MONITOR_INTERNAL_H

#include "monitor/monitor.h"

/* Runs p->health's probes against the container whose init is init_pid.  Its
 * fds are registered in epfd with tag as their data; the monitor calls
 * health_runner_event when tag reports, and health_runner_child for every
 * child it reaps that is not the init (true: it was the probe). */
struct health_runner;
struct health_runner *health_runner_new(const struct mk_monitor_params *p, pid_t init_pid,
                                        int epfd, void *tag, mk_err **err);
void health_runner_event(struct health_runner *h);
bool health_runner_child(struct health_runner *h, pid_t pid, int status);
/* Kills a running probe (its exit is left to the reaper).  NULL is fine. */
void health_runner_free(struct health_runner *h);

#endif
