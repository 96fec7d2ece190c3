/* test_ports.c: docker's -p and --expose syntax (engine/ports.c), with the
 * docker CLI 28's error messages. */
#include "engine/engine.h"
#include "engine/internal.h"
#include "tap.h"

static char *parse(const char *spec, char **exposed_out)
{
    json_t *b = json_object(), *e = json_object();
    mk_err *err = NULL;
    char *out;
    if (mk_port_spec_parse(spec, b, e, &err) < 0) {
        out = xasprintf("ERR %s", err->msg);
        mk_err_free(err);
    } else {
        out = json_dumps(b, JSON_SORT_KEYS | JSON_COMPACT);
    }
    if (exposed_out != NULL)
        *exposed_out = json_dumps(e, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(b);
    json_decref(e);
    return out;
}

#define CHECK_PARSE(spec, want)                                                                   \
    do {                                                                                          \
        _cleanup_free_ char *got_ = parse(spec, NULL);                                            \
        CHECK_STR(got_, want);                                                                    \
    } while (0)

static void test_publish_forms(void)
{
    CHECK_PARSE("80", "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}");
    CHECK_PARSE("8080:80", "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}]}");
    CHECK_PARSE("127.0.0.1:18080:80/udp",
                "{\"80/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"18080\"}]}");
    CHECK_PARSE("127.0.0.1::80", "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]}");
    CHECK_PARSE("8000-8001:80-81", "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8000\"}],"
                                   "\"81/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8001\"}]}");
    CHECK_PARSE("8000-8010:80", "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8000-8010\"}]}");
    CHECK_PARSE("0:80", "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"0\"}]}");
    char *exposed = NULL;
    _cleanup_free_ char *b = parse("90-91/udp", &exposed);
    CHECK_STR(exposed, "{\"90/udp\":{},\"91/udp\":{}}");
    free(exposed);
}

static void test_publish_errors(void)
{
    CHECK_PARSE("abc", "ERR invalid containerPort: abc");
    CHECK_PARSE("80:abc", "ERR invalid containerPort: abc");
    CHECK_PARSE("1.2.3:80:80", "ERR invalid IP address: 1.2.3");
    CHECK_PARSE("80/xyz", "ERR invalid proto: xyz");
    CHECK_PARSE("8000-8010:80-85",
                "ERR invalid ranges specified for container and host Ports: 80-85 and 8000-8010");
    CHECK_PARSE("70000:80", "ERR invalid hostPort: 70000");
    CHECK_PARSE("80-78", "ERR invalid containerPort: 80-78");
    CHECK_PARSE("", "ERR no port specified: <empty>");
    CHECK_PARSE("1:2:3:4", "ERR invalid port specification: \"1:2:3:4\"");
    _cleanup_free_ char *v6 = parse("[::1]:80:80", NULL);
    CHECK(strncmp(v6, "ERR invalid port specification [::1]:80:80", 42) == 0);
}

static void test_expose(void)
{
    json_t *e = json_object();
    CHECK(mk_expose_parse("80", e, NULL) == 0);
    CHECK(mk_expose_parse("7000-7001/udp", e, NULL) == 0);
    _cleanup_free_ char *s = json_dumps(e, JSON_SORT_KEYS | JSON_COMPACT);
    CHECK_STR(s, "{\"7000/udp\":{},\"7001/udp\":{},\"80/tcp\":{}}");
    mk_err *err = NULL;
    CHECK(mk_expose_parse("abc", e, &err) < 0);
    CHECK_STR(err->msg, "invalid range format for --expose: abc, error: strconv.ParseUint: "
                        "parsing \"abc\": invalid syntax");
    mk_err_free(err);
    json_decref(e);
}

/* Reserving binds real sockets: on 127.0.0.1 only. */
static void test_reserve(void)
{
    json_t *hc = json_object(), *config = json_object();
    json_t *b = json_object(), *e = json_object();
    CHECK(mk_port_spec_parse("127.0.0.1::80", b, e, NULL) == 0);
    CHECK(mk_port_spec_parse("127.0.0.1::53/udp", b, e, NULL) == 0);
    json_object_set_new(hc, "PortBindings", b);
    json_object_set_new(config, "ExposedPorts", e);
    json_object_set_new(json_object_get(config, "ExposedPorts"), "443/tcp", json_object());
    struct mk_port_map *m = NULL;
    size_t n = 0;
    CHECK(mk_ports_reserve(config, hc, &m, &n, NULL) == 0);
    CHECK_INT(n, 2);
    CHECK(m[0].host_port > 0 && m[1].host_port > 0 && m[0].fd >= 0 && m[1].fd >= 0);
    json_t *ports = mk_ports_json(config, hc, m, n);
    CHECK(json_is_null(json_object_get(ports, "443/tcp")));
    CHECK_STR(mk_json_str(json_array_get(json_object_get(ports, "80/tcp"), 0), "HostIp"),
              "127.0.0.1");
    json_decref(ports);
    /* The same host port again: docker's error, and nothing held. */
    char spec[64];
    unsigned taken = strcmp(m[0].proto, "tcp") == 0 ? m[0].host_port : m[1].host_port;
    snprintf(spec, sizeof(spec), "127.0.0.1:%u:81", taken);
    json_t *hc2 = json_object(), *b2 = json_object(), *e2 = json_object();
    CHECK(mk_port_spec_parse(spec, b2, e2, NULL) == 0);
    json_object_set_new(hc2, "PortBindings", b2);
    struct mk_port_map *m2 = NULL;
    size_t n2 = 0;
    mk_err *err = NULL;
    CHECK(mk_ports_reserve(e2, hc2, &m2, &n2, &err) < 0);
    char want[96];
    snprintf(want, sizeof(want), "Bind for 127.0.0.1:%u failed: port is already allocated", taken);
    CHECK_STR(err->msg, want);
    mk_err_free(err);
    mk_ports_release(m, n);
    /* Released: free again. */
    CHECK(mk_ports_reserve(e2, hc2, &m2, &n2, NULL) == 0);
    mk_ports_release(m2, n2);
    json_decref(hc2);
    json_decref(e2);
    json_decref(hc);
    json_decref(config);
}

int main(void)
{
    RUN(test_reserve);
    RUN(test_publish_forms);
    RUN(test_publish_errors);
    RUN(test_expose);
    return tap_done();
}
