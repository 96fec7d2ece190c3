/* test_mount_opt.c: --mount values as the docker CLI reads them. */
#include "tap.h"
#include "cli/cli.h"

static char *parse_dump(const char *v, mk_err **err)
{
    json_t *m = NULL;
    if (mk_cli_mount_parse(v, &m, err) < 0)
        return NULL;
    char *s = mk_json_dump(m);
    json_decref(m);
    return s;
}

static void test_forms(void)
{
    mk_err *err = NULL;
    char *s = parse_dump("type=volume,src=v,dst=/x,ro,volume-nocopy,volume-label=a=b", &err);
    CHECK_STR(s, "{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/x\",\"ReadOnly\":true,"
                 "\"VolumeOptions\":{\"NoCopy\":true,\"Labels\":{\"a\":\"b\"}}}");
    free(s);
    s = parse_dump("destination=/t,type=tmpfs,tmpfs-size=1m,tmpfs-mode=1770", &err);
    CHECK_STR(s, "{\"Target\":\"/t\",\"Type\":\"tmpfs\",\"TmpfsOptions\":{\"SizeBytes\":1048576,"
                 "\"Mode\":1016}}");
    free(s);
    s = parse_dump("target=/d", &err); /* volume is the default type */
    CHECK_STR(s, "{\"Target\":\"/d\",\"Type\":\"volume\"}");
    free(s);
    s = parse_dump("type=bind,source=/a,target=/b,readonly=false,bind-propagation=rshared", &err);
    CHECK_STR(s, "{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/b\",\"ReadOnly\":false,"
                 "\"BindOptions\":{\"Propagation\":\"rshared\"}}");
    free(s);
}

static void test_errors(void)
{
    mk_err *err = NULL;
    CHECK(parse_dump("type=volume,dst=/x,foo=bar", &err) == NULL);
    CHECK_STR(err->msg, "invalid argument \"type=volume,dst=/x,foo=bar\" for \"--mount\" flag: "
                        "unexpected key 'foo' in 'foo=bar'");
    mk_err_clear(&err);
    CHECK(parse_dump("type=bind,src=/a,dst=/x,tmpfs-size=1", &err) == NULL);
    CHECK(strstr(err->msg, "cannot mix 'tmpfs-*' options with mount type 'bind'") != NULL);
    mk_err_clear(&err);
    CHECK(parse_dump("type=volume,src=v", &err) == NULL);
    CHECK(strstr(err->msg, "target is required") != NULL);
    mk_err_clear(&err);
    CHECK(parse_dump("type=volume,dst=/x,volume-driver=nfs", &err) == NULL);
    CHECK_INT(err->kind, MK_ERR_UNSUPPORTED);
    mk_err_clear(&err);
    CHECK(parse_dump("type=tmpfs,dst=/x,tmpfs-mode=9", &err) == NULL);
    mk_err_clear(&err);
}

int main(void)
{
    RUN(test_forms);
    RUN(test_errors);
    return tap_done();
}
