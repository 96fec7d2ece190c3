/* test_netfiles.c: a container's /etc/hosts and /etc/resolv.conf
 * (engine/container_netfiles.c), against what dockerd 20.10 wrote for the
 * same settings on this machine. */
#include "engine/internal.h"
#include "tap.h"

static json_t *hc(const char *text)
{
    return json_loads(text, 0, NULL);
}

static void test_hosts(void)
{
    json_t *h = hc("{\"ExtraHosts\":[\"foo:1.2.3.4\",\"gw:host-gateway\",\"six:::1\"]}");
    _cleanup_free_ char *s = mk_netfiles_hosts(h, "myhost", 0xac110002, 0xac110001, NULL);
    CHECK_STR(s, "127.0.0.1\tlocalhost\n"
                 "::1\tlocalhost ip6-localhost ip6-loopback\n"
                 "fe00::0\tip6-localnet\n"
                 "ff00::0\tip6-mcastprefix\n"
                 "ff02::1\tip6-allnodes\n"
                 "ff02::2\tip6-allrouters\n"
                 "1.2.3.4\tfoo\n"
                 "172.17.0.1\tgw\n"
                 "::1\tsix\n"
                 "172.17.0.2\tmyhost\n");
    _cleanup_free_ char *none = mk_netfiles_hosts(NULL, "myhost", 0, 0, NULL);
    CHECK(strstr(none, "myhost") == NULL);
    json_decref(h);
    char *host = NULL, *ip = NULL;
    mk_err *err = NULL;
    CHECK(mk_extra_host_parse("foo", NULL, NULL, &err) < 0);
    CHECK_STR(err->msg, "bad format for add-host: \"foo\"");
    mk_err_free(err);
    CHECK(mk_extra_host_parse("a=10.0.0.1", &host, &ip, NULL) == 0);
    CHECK_STR(host, "a");
    CHECK_STR(ip, "10.0.0.1");
    free(host);
    free(ip);
    CHECK(mk_extra_host_parse("a:nope", NULL, NULL, NULL) < 0);
}

static void test_resolv(void)
{
    const char *host = "# generated\nsearch corp.example\nnameserver 127.0.0.53\noptions edns0\n";
    json_t *empty = hc("{}");
    /* A user-defined network: the embedded server; search and options kept. */
    _cleanup_free_ char *emb = mk_netfiles_resolv(empty, host, false, true);
    CHECK_STR(emb, "search corp.example\nnameserver 127.0.0.11\noptions edns0 ndots:0\n");
    /* As dockerd wrote it for --dns 9.9.9.9 --dns-search example.com --dns-option rotate. */
    json_t *custom = hc("{\"Dns\":[\"9.9.9.9\"],\"DnsSearch\":[\"example.com\"],"
                        "\"DnsOptions\":[\"rotate\"]}");
    _cleanup_free_ char *emb2 = mk_netfiles_resolv(custom, "nameserver 10.0.0.1\n", false, true);
    CHECK_STR(emb2, "search example.com\nnameserver 127.0.0.11\noptions rotate ndots:0\n");
    /* The default bridge: the host's loopback resolver is unreachable, docker's fallbacks. */
    _cleanup_free_ char *br = mk_netfiles_resolv(empty, host, false, false);
    CHECK_STR(br, "# generated\nsearch corp.example\noptions edns0\n"
                  "\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    _cleanup_free_ char *br2 = mk_netfiles_resolv(empty, "nameserver 10.255.255.53\n", false,
                                                  false);
    CHECK_STR(br2, "nameserver 10.255.255.53\n");
    _cleanup_free_ char *br3 = mk_netfiles_resolv(custom, host, false, false);
    CHECK_STR(br3, "search example.com\nnameserver 9.9.9.9\noptions rotate\n");
    /* Host networking: the host's file as it is. */
    _cleanup_free_ char *hn = mk_netfiles_resolv(empty, host, true, false);
    CHECK_STR(hn, host);
    json_decref(empty);
    json_decref(custom);
}

int main(void)
{
    RUN(test_hosts);
    RUN(test_resolv);
    return tap_done();
}
