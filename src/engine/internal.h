/* internal.h: helpers shared by the engine's files, not part of its API. */
#ifndef MK_ENGINE_INTERNAL_H
#define MK_ENGINE_INTERNAL_H

#include "engine/engine.h"

/* mk_engine_open without the after-boot check (the monitor's own open: its
 * caller did the check). */
int mk_engine_open_plain(struct mk_engine **out, mk_err **err);
/* Build the OCI spec of c (image layers, paths, resources...). */
int mk_engine_build_spec(struct mk_engine *e, const struct mk_container *c, json_t **out,
                         mk_err **err);
/* Delete everything a container owns: cgroup, run directory, row; its
 * directory is moved to the trash.  spec may be NULL (it is then read from the
 * bundle when present). */
int mk_engine_remove_files(struct mk_engine *e, const struct mk_container *c, const json_t *spec,
                           mk_err **err);
/* Delete what is in the trash (this remover's and any left by dead ones). */
void mk_engine_empty_trash(struct mk_engine *e);
/* Resolve HostConfig.Runtime: *out NULL for the built-in runtime. */
int mk_engine_runtime_path(const char *name, char **out, mk_err **err);
/* Wait (up to timeout_ms, -1 forever) for the monitor of c to report the exit.
 * Returns 1 with *code on an exit, 0 on timeout, -1 if no monitor answers. */
int mk_engine_wait_exit(struct mk_engine *e, const struct mk_container *c, int timeout_ms,
                        int *code);

#endif
