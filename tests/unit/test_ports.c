/* test_ports.c: docker's -p and --expose syntax (engine/ports.c), with the
 * docker CLI 28's error messages. */
#include "engine/engine.h"
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

int main(void)
{
    RUN(test_publish_forms);
    RUN(test_publish_errors);
    RUN(test_expose);
    return tap_done();
}
