/* container_links.c: docker's legacy links (`--link NAME[:ALIAS]`) on the
 * default bridge network.
 *
 * A link makes the linked container known to this one by its alias: an
 * /etc/hosts line ("IP\tALIAS SHORTID NAME") and docker's environment
 * variables (ALIAS_NAME, ALIAS_PORT*, for each exposed port
 * ALIAS_PORT_<port>_<PROTO>{,_ADDR,_PORT,_PROTO}, and ALIAS_ENV_<var> for the
 * linked container's environment but HOME and PATH).  The linked container
 * must exist at create and run at start; its address is the one its monitor
 * published for the bridge network. */
#include "engine/engine.h"
#include "engine/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int mk_link_parse(const char *raw, char **name, char **alias, mk_err **err)
{
    const char *colon = strchr(raw, ':');
    _cleanup_free_ char *n = colon ? xstrndup(raw, (size_t)(colon - raw)) : xstrdup(raw);
    const char *a = colon ? colon + 1 : NULL;
    /* The stored form is docker's "/name:/container/alias". */
    const char *bare = n[0] == '/' ? n + 1 : n;
    if (*bare == '\0' || (a != NULL && *a == '\0') || strchr(bare, '/') != NULL)
        return mk_err_set(err, MK_ERR_INVALID, "invalid link format: %s", raw);
    if (a != NULL && a[0] == '/') {
        const char *last = strrchr(a, '/');
        a = last + 1;
    }
    *name = xstrdup(bare);
    *alias = xstrdup(a != NULL ? a : bare);
    return 0;
}

int mk_links_normalize(struct mk_engine *e, const json_t *links, const char *self, json_t **out,
                       mk_err **err)
{
    json_t *v = json_array();
    size_t i;
    json_t *l;
    json_array_foreach(links, i, l)
    {
        _cleanup_free_ char *name = NULL, *alias = NULL;
        if (!json_is_string(l) || mk_link_parse(json_string_value(l), &name, &alias, err) < 0)
            goto fail;
        struct mk_container *t = NULL;
        if (mk_container_get(e, name, &t, err) < 0) {
            mk_err_wrap(err, "could not get container for %s", name);
            goto fail;
        }
        json_array_append_new(v, json_sprintf("/%s:/%s/%s", t->name, self, alias));
        mk_container_free(t);
    }
    *out = v;
    return 0;
fail:
    json_decref(v);
    return -1;
}

/* ALIAS in environment-variable form: upper case, '-' as '_'. */
static char *env_prefix(const char *alias)
{
    char *p = xstrdup(alias);
    for (char *q = p; *q; q++)
        *q = *q == '-' ? '_' : (char)toupper((unsigned char)*q);
    return p;
}

static void link_env(json_t *env, const char *pfx, const char *link_name, const char *ip,
                     const struct mk_container *t)
{
    json_array_append_new(env, json_sprintf("%s_NAME=%s", pfx, link_name));
    const json_t *config = json_object_get(t->config, "Config");
    const json_t *exposed = json_object_get(config, "ExposedPorts");
    size_t n = json_object_size(exposed), k = 0;
    const char **keys = xcalloc(n + 1, sizeof(*keys));
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)exposed, key, v)
        keys[k++] = key;
    qsort(keys, k, sizeof(*keys), mk_port_key_cmp);
    for (size_t i = 0; i < k; i++) {
        long port = strtol(keys[i], NULL, 10);
        const char *slash = strchr(keys[i], '/');
        const char *proto = slash != NULL ? slash + 1 : "tcp";
        _cleanup_free_ char *up = env_prefix(proto);
        if (i == 0)
            json_array_append_new(env, json_sprintf("%s_PORT=%s://%s:%ld", pfx, proto, ip, port));
        json_array_append_new(env, json_sprintf("%s_PORT_%ld_%s=%s://%s:%ld", pfx, port, up,
                                                proto, ip, port));
        json_array_append_new(env, json_sprintf("%s_PORT_%ld_%s_ADDR=%s", pfx, port, up, ip));
        json_array_append_new(env, json_sprintf("%s_PORT_%ld_%s_PORT=%ld", pfx, port, up, port));
        json_array_append_new(env,
                              json_sprintf("%s_PORT_%ld_%s_PROTO=%s", pfx, port, up, proto));
    }
    free(keys);
    size_t i;
    json_array_foreach(json_object_get(config, "Env"), i, v)
    {
        const char *kv = json_string_value(v);
        const char *eq = kv != NULL ? strchr(kv, '=') : NULL;
        if (eq == NULL || strncmp(kv, "HOME=", 5) == 0 || strncmp(kv, "PATH=", 5) == 0)
            continue;
        json_array_append_new(env, json_sprintf("%s_ENV_%s", pfx, kv));
    }
}

int mk_links_resolve(struct mk_engine *e, const struct mk_container *c, json_t **hosts,
                     json_t **env, mk_err **err)
{
    *hosts = json_array();
    *env = json_array();
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(json_object_get(c->config, "HostConfig"), "Links"), i, l)
    {
        _cleanup_free_ char *name = NULL, *alias = NULL;
        if (mk_link_parse(json_string_value(l), &name, &alias, err) < 0)
            goto fail;
        struct mk_container *t = NULL;
        if (mk_container_get(e, name, &t, err) < 0)
            goto fail;
        _cleanup_free_ char *link_name = xasprintf("/%s/%s", c->name, alias);
        _cleanup_json_ json_t *state = mk_container_net_state(e, t);
        const char *ip = mk_json_str(
            json_object_get(json_object_get(state, "Networks"), "bridge"), "IPAddress");
        if (!mk_container_is_running(t) || ip == NULL || *ip == '\0') {
            mk_err_set(err, MK_ERR_CONFLICT,
                       "Cannot link to a non running container: /%s AS %s", t->name, link_name);
            mk_container_free(t);
            goto fail;
        }
        json_array_append_new(*hosts, json_sprintf("%s\t%s %.12s %s", ip, alias, t->id, t->name));
        _cleanup_free_ char *pfx = env_prefix(alias);
        link_env(*env, pfx, link_name, ip, t);
        mk_container_free(t);
    }
    return 0;
fail:
    json_decref(*hosts);
    json_decref(*env);
    *hosts = *env = NULL;
    return -1;
}
