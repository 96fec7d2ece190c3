/* json.c: jansson helpers with docker's serialisation conventions. */
#include "util.h"

#include <string.h>

/* A value's type and its length (bytes, or items for arrays and objects). */
static void hash_head(struct mk_sha256 *h, char tag, uint64_t len)
{
    mk_sha256_update(h, &tag, 1);
    mk_sha256_update(h, &len, sizeof(len));
}

static void hash_bytes(struct mk_sha256 *h, char tag, const void *data, size_t len)
{
    hash_head(h, tag, len);
    mk_sha256_update(h, data, len);
}

void mk_json_hash(const json_t *v, struct mk_sha256 *h)
{
    const char *key;
    json_t *item;
    size_t i;
    switch (v != NULL ? json_typeof(v) : JSON_NULL) {
    case JSON_OBJECT:
        hash_head(h, 'o', json_object_size(v));
        json_object_foreach((json_t *)v, key, item) {
            hash_bytes(h, 'k', key, strlen(key));
            mk_json_hash(item, h);
        }
        break;
    case JSON_ARRAY:
        hash_head(h, 'a', json_array_size(v));
        json_array_foreach(v, i, item)
            mk_json_hash(item, h);
        break;
    case JSON_STRING:
        hash_bytes(h, 's', json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER: {
        json_int_t n = json_integer_value(v);
        hash_bytes(h, 'i', &n, sizeof(n));
        break;
    }
    case JSON_REAL: {
        double d = json_real_value(v);
        hash_bytes(h, 'r', &d, sizeof(d));
        break;
    }
    case JSON_TRUE:
        hash_head(h, 't', 0);
        break;
    case JSON_FALSE:
        hash_head(h, 'f', 0);
        break;
    case JSON_NULL:
    default:
        hash_head(h, 'n', 0);
        break;
    }
}

char *mk_json_dump(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY |
                                JSON_PRESERVE_ORDER);
    if (s == NULL)
        return xstrdup("null");
    return s;
}

char *mk_json_dump_pretty(const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(4) | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
    if (s == NULL)
        return xstrdup("null");
    return s;
}

json_t *mk_json_parse(const char *s, size_t len, mk_err **err)
{
    json_error_t je;
    json_t *j = json_loadb(s, len, JSON_DECODE_ANY, &je);
    if (j == NULL) {
        mk_err_set(err, MK_ERR_INVALID, "invalid JSON at line %d column %d: %s", je.line,
                   je.column, je.text);
        return NULL;
    }
    return j;
}

json_t *mk_json_load_file(const char *path, mk_err **err)
{
    _cleanup_free_ char *data = NULL;
    size_t len;
    if (mk_read_file(path, &data, &len, err) < 0)
        return NULL;
    json_t *j = mk_json_parse(data, len, err);
    if (j == NULL)
        mk_err_wrap(err, "%s", path);
    return j;
}

const char *mk_json_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

int64_t mk_json_int(const json_t *obj, const char *key, int64_t dflt)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_real(v))
        return (int64_t)json_real_value(v);
    return dflt;
}

bool mk_json_bool(const json_t *obj, const char *key, bool dflt)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_boolean(v))
        return json_is_true(v);
    return dflt;
}

char **mk_json_strv(const json_t *arr)
{
    if (!json_is_array(arr))
        return NULL;
    char **v = xcalloc(json_array_size(arr) + 1, sizeof(char *));
    size_t i, n = 0;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (json_is_string(e))
            v[n++] = xstrdup(json_string_value(e));
    }
    return v;
}

json_t *mk_json_from_strv(char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

bool mk_json_is_empty(const json_t *v)
{
    if (v == NULL || json_is_null(v) || json_is_false(v))
        return true;
    if (json_is_string(v))
        return *json_string_value(v) == '\0';
    if (json_is_integer(v))
        return json_integer_value(v) == 0;
    if (json_is_array(v))
        return json_array_size(v) == 0;
    if (json_is_object(v))
        return json_object_size(v) == 0;
    return false;
}

bool mk_json_label_matches(const json_t *labels, const char *filter)
{
    const char *eq = strchr(filter, '=');
    if (eq == NULL)
        return json_object_get(labels, filter) != NULL;
    _cleanup_free_ char *key = xstrndup(filter, (size_t)(eq - filter));
    const char *v = json_string_value(json_object_get(labels, key));
    return v != NULL && strcmp(v, eq + 1) == 0;
}
