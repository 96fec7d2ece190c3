/* kv.c: docker's KEY=VALUE flags (--label, -o) into a JSON object. */
#include "cli/cli.h"

#include <string.h>

void mk_cli_kv_set(json_t *obj, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL) {
        json_object_set_new(obj, kv, json_string(""));
        return;
    }
    _cleanup_free_ char *k = xstrndup(kv, (size_t)(eq - kv));
    json_object_set_new(obj, k, json_string(eq + 1));
}
