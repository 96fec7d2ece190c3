/* daemon_config.h: mocker's host configuration, docker's daemon.json. */
#ifndef MK_DAEMON_CONFIG_H
#define MK_DAEMON_CONFIG_H

#include "util/util.h"

/* Directory of the host configuration: $MOCKER_ETC, default /etc/mocker. */
const char *mk_etc_dir(void);
/* daemon.json in it as an object (borrow nothing: a new reference); a missing
 * file is an empty object, a file that is not a JSON object is INVALID. */
int mk_daemon_config_load(json_t **out, mk_err **err);

#endif
