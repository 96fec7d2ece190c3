/* test_template.c: Go text/template semantics over JSON, as docker's --format
 * shows them: value printing, functions, control flow, errors, and robustness
 * against malformed templates. */
#include <stdlib.h>
#include <string.h>

#include "cli/format.h"
#include "tap.h"

static char *kept[4096];
static size_t nkept;

/* Results live until the end of main, so checks can use them inline. */
static const char *keep(char *s)
{
    if (nkept == sizeof kept / sizeof kept[0]) {
        for (size_t i = 0; i < nkept; i++)
            free(kept[i]);
        nkept = 0;
    }
    kept[nkept++] = s;
    return s;
}

static const char *DATA = "{\"Name\":\"web\",\"ID\":\"abc123\",\"Count\":3,\"Ratio\":1.5,"
                          "\"Whole\":3.0,\"Big\":1000000.0,\"Tiny\":0.00001,\"On\":true,"
                          "\"Off\":false,\"Nil\":null,\"Empty\":\"\",\"Zero\":0,"
                          "\"List\":[\"a\",\"b\",\"c\"],\"Nums\":[3,1,2],\"None\":[],"
                          "\"Labels\":{\"com.x\":\"1\",\"app\":\"web\"},\"Obj\":{},"
                          "\"Nested\":{\"Inner\":{\"Deep\":\"yes\"},\"N\":7},"
                          "\"Html\":\"<a&b>\",\"Mixed\":{\"b\":[1,{\"z\":null}],\"a\":\"x y\"}}";

/* Render tmpl against JSON data; "ERR: message" on failure. */
static const char *R2(const char *tmpl, const char *data)
{
    json_error_t je;
    json_t *j = json_loads(data, JSON_DECODE_ANY, &je);
    struct mk_template *t = NULL;
    mk_err *err = NULL;
    mk_buf out = {0};
    char *res;
    if (j == NULL)
        return keep(xasprintf("BAD JSON: %s", je.text));
    if (mk_template_parse(tmpl, &t, &err) < 0 || mk_template_render(t, j, &out, &err) < 0)
        res = xasprintf("ERR: %s", err->msg);
    else
        res = out.data ? xstrdup(out.data) : xstrdup("");
    mk_err_free(err);
    mk_buf_free(&out);
    mk_template_free(t);
    json_decref(j);
    return keep(res);
}

static const char *R(const char *tmpl)
{
    return R2(tmpl, DATA);
}

static void test_fields(void)
{
    CHECK_STR(R("plain text"), "plain text");
    CHECK_STR(R(""), "");
    CHECK_STR(R("{{.Name}}"), "web");
    CHECK_STR(R("id={{.ID}} name={{.Name}}"), "id=abc123 name=web");
    CHECK_STR(R("{{.Nested.Inner.Deep}}"), "yes");
    CHECK_STR(R("{{.Nested.N}}"), "7");
    CHECK_STR(R("{{ .Name }}"), "web");
    CHECK_STR(R("{{.Missing}}"), "<no value>");
    CHECK_STR(R("{{.Missing.Deeper}}"), "<no value>");
    CHECK_STR(R("{{.Nil}}"), "<no value>");
    CHECK_STR(R2("{{.}}", "\"just a string\""), "just a string");
    CHECK_STR(R2("{{.}}", "42"), "42");
    CHECK_STR(R("{{$.Name}}"), "web");
    CHECK_STR(R("{{with .Nested}}{{$.Name}}/{{.N}}{{end}}"), "web/7");
    /* tabs and \t stay as written: docker's caller replaces \t */
    CHECK_STR(R("{{.Name}}\t{{.ID}}\\t"), "web\tabc123\\t");
}

static void test_value_printing(void)
{
    CHECK_STR(R("{{.Count}}"), "3");
    CHECK_STR(R("{{.Ratio}}"), "1.5");
    CHECK_STR(R("{{.Whole}}"), "3");
    CHECK_STR(R("{{.Big}}"), "1e+06");
    CHECK_STR(R("{{.Tiny}}"), "1e-05");
    CHECK_STR(R2("{{.}}", "123456.5"), "123456.5");
    CHECK_STR(R2("{{.}}", "0.0001"), "0.0001");
    CHECK_STR(R2("{{.}}", "0.1"), "0.1");
    CHECK_STR(R2("{{.}}", "-2.5"), "-2.5");
    CHECK_STR(R2("{{.}}", "1234567.0"), "1.234567e+06");
    CHECK_STR(R("{{.On}} {{.Off}}"), "true false");
    CHECK_STR(R("{{.List}}"), "[a b c]");
    CHECK_STR(R("{{.None}}"), "[]");
    CHECK_STR(R("{{.Labels}}"), "map[app:web com.x:1]");
    CHECK_STR(R("{{.Obj}}"), "map[]");
    CHECK_STR(R("{{.Mixed}}"), "map[a:x y b:[1 map[z:<nil>]]]");
    CHECK_STR(R("{{.Html}}"), "<a&b>");
}

static void test_json(void)
{
    CHECK_STR(R("{{json .Name}}"), "\"web\"");
    CHECK_STR(R("{{json .Count}}"), "3");
    CHECK_STR(R("{{json .Ratio}}"), "1.5");
    CHECK_STR(R("{{json .Whole}}"), "3");
    CHECK_STR(R("{{json .Big}}"), "1000000");
    CHECK_STR(R("{{json .Tiny}}"), "0.00001");
    CHECK_STR(R2("{{json .}}", "1e21"), "1e+21");
    CHECK_STR(R2("{{json .}}", "1e-7"), "1e-7");
    CHECK_STR(R2("{{json .}}", "0.1"), "0.1");
    CHECK_STR(R("{{json .List}}"), "[\"a\",\"b\",\"c\"]");
    CHECK_STR(R("{{json .Labels}}"), "{\"com.x\":\"1\",\"app\":\"web\"}");
    CHECK_STR(R("{{json .Nil}}"), "null");
    CHECK_STR(R("{{json .Missing}}"), "null");
    CHECK_STR(R("{{json .Obj}}"), "{}");
    CHECK_STR(R("{{json .None}}"), "[]");
    /* docker's encoder does not escape HTML */
    CHECK_STR(R("{{json .Html}}"), "\"<a&b>\"");
    CHECK_STR(R2("{{json .}}", "\"q\\\"b\\\\s\\n\\t\\r\\b\\f\\u0001\\u001f\""),
              "\"q\\\"b\\\\s\\n\\t\\r\\b\\f\\u0001\\u001f\"");
    CHECK_STR(R2("{{json .}}", "\"\\u2028\\u2029 \\u00e9 /\""), "\"\\u2028\\u2029 \xc3\xa9 /\"");
    CHECK_STR(R2("{{json .}}", "{\"b\":1,\"a\":[true,false,null]}"),
              "{\"b\":1,\"a\":[true,false,null]}");
    CHECK_STR(R("{{.Name | json}}"), "\"web\"");
}

static void test_functions(void)
{
    CHECK_STR(R("{{index .Labels \"app\"}}"), "web");
    CHECK_STR(R("{{index .Labels \"nope\"}}"), "");
    CHECK_STR(R("{{index .Nested \"nope\"}}"), "<no value>");
    CHECK_STR(R("{{index .List 1}}"), "b");
    CHECK_STR(R("{{index .Mixed \"b\" 1 \"z\"}}"), "<no value>");
    CHECK_STR(R("{{index .Name 0}}"), "119");
    CHECK_STR(R("{{index .Nil \"k\"}}|{{len .Nil}}"), "|0");
    CHECK_STR(R("{{index .Missing \"k\"}}"), "ERR: template: :1:2: executing \"\" at <index>: "
                                             "error calling index: index of untyped nil");
    CHECK_STR(R("{{printf \"%.2v|%!\" 3.14159 1}}"), "3.1|%!!(int=1)");
    CHECK_STR(R("{{.Label \"app\"}}"), "web");
    CHECK_STR(R("{{.Label \"com.x\"}}"), "1");
    CHECK_STR(R("{{.Label \"nope\"}}"), "");
    CHECK_STR(R2("{{.Label \"b\"}}|{{.Label \"c\"}}", "{\"Labels\":\"a=1,b=2=3\"}"), "2=3|");
    CHECK_STR(R2("{{.Label \"x\"}}", "{}"), "");
    CHECK_STR(R("{{upper .Name}} {{lower \"MiXeD\"}} {{title \"hello world-foo_bar\"}}"),
              "WEB mixed Hello World-Foo_bar");
    CHECK_STR(R2("{{upper .}}", "\"\xc3\xa9t\xc3\xa9 \xd0\xb4\""), "\xc3\x89T\xc3\x89 \xd0\x94");
    CHECK_STR(R("{{join .List \",\"}}"), "a,b,c");
    CHECK_STR(R("{{join .None \",\"}}"), "");
    CHECK_STR(R("{{split \"a,b,,c\" \",\"}}"), "[a b  c]");
    CHECK_STR(R("{{split \"abc\" \"\"}}"), "[a b c]");
    CHECK_STR(R("{{len (split \"\" \",\")}}"), "1");
    CHECK_STR(R("{{len .List}} {{len .Name}} {{len .Labels}} {{len .None}}"), "3 3 2 0");
    CHECK_STR(R("{{println .Name}}"), "web\n");
    CHECK_STR(R("{{println .Name 1 .On}}"), "web 1 true\n");
    CHECK_STR(R("{{print .Name}}"), "web");
    CHECK_STR(R("{{print 1 2}}|{{print \"a\" \"b\"}}|{{print \"a\" 1}}|{{print 1 .Nil}}"),
              "1 2|ab|a1|1 <nil>");
    CHECK_STR(R("{{pad .Name 2 3}}|{{pad \"\" 2 2}}|"), "  web   ||");
    CHECK_STR(R("{{truncate .ID 3}}|{{truncate .ID 30}}"), "abc|abc123");
    CHECK_STR(R("{{.Name | upper}}"), "WEB");
    CHECK_STR(R("{{.Name | printf \"%s!\" | upper}}"), "WEB!");
    CHECK_STR(R("{{(index .Nested \"Inner\").Deep}}"), "yes");
    CHECK_STR(R("{{not .On}} {{not .Empty}}"), "false true");
    CHECK_STR(R("{{and .On .Name}}|{{and .On .Empty .Name}}|{{or .Empty .Zero .Name}}"),
              "web||web");
    CHECK_STR(R("{{or .Empty .Zero}}"), "0");
    CHECK_STR(R("{{eq .Name \"web\"}} {{eq .Count 3}} {{eq .Name \"x\" \"web\"}} {{ne .Count 4}}"),
              "true true true true");
    CHECK_STR(R("{{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2.5}}"), "true true true false");
    CHECK_STR(R("{{eq .Nil .Missing}} {{eq .Nil 1}}"), "true false");
}

static void test_printf(void)
{
    CHECK_STR(R("{{printf \"%s-%d\" .Name .Count}}"), "web-3");
    CHECK_STR(R("{{printf \"%v|%v|%v|%v\" .Name .Count .Ratio .On}}"), "web|3|1.5|true");
    CHECK_STR(R("{{printf \"%5s|%-5s|%05d|%x|%X|%o\" \"ab\" \"cd\" 42 255 255 8}}"),
              "   ab|cd   |00042|ff|FF|10");
    CHECK_STR(R("{{printf \"%q\" .Html}}"), "\"<a&b>\"");
    CHECK_STR(R("{{printf \"%q\" \"a\\\"b\\n\"}}"), "\"a\\\"b\\n\"");
    CHECK_STR(R("{{printf \"%.2f|%6.1f|%e|%g\" 3.14159 2.25 1234.5 0.5}}"),
              "3.14|   2.2|1.234500e+03|0.5");
    CHECK_STR(R("{{printf \"%.2s|%t|%%|%c\" \"hello\" true 65}}"), "he|true|%|A");
    CHECK_STR(R("{{printf \"%v\" .Labels}}"), "map[app:web com.x:1]");
    CHECK_STR(R("{{printf \"%s\" .List}}"), "[a b c]");
    CHECK_STR(R("{{printf \"%d\" .Nums}}"), "[3 1 2]");
    CHECK_STR(R("{{printf \"%d %d\" 1}}"), "1 %!d(MISSING)");
    CHECK_STR(R("{{printf \"%d\" 1 \"x\"}}"), "1%!(EXTRA string=x)");
    CHECK_STR(R("{{printf \"%d\" .Name}}"), "%!d(string=web)");
    CHECK_STR(R("{{printf \"%s\" .Nil}}"), "%!s(<nil>)");
    CHECK_STR(R("{{printf \"%v\" .Nil}}"), "<nil>");
    CHECK_STR(R("{{printf \"%z\" 1}}"), "%!z(int=1)");
    CHECK_STR(R("{{printf \"100%\"}}"), "100%!(NOVERB)");
    CHECK_STR(R("{{printf \"%x\" \"hi\"}}"), "6869");
    CHECK_STR(R("{{printf \"%+d|% d|%-4d|\" 5 5 5}}"), "+5| 5|5   |");
    CHECK_STR(R("{{printf \"%*d|%.*f\" 4 7 1 2.25}}"), "   7|2.2");
}

static void test_if_else(void)
{
    CHECK_STR(R("{{if .On}}yes{{else}}no{{end}}"), "yes");
    CHECK_STR(R("{{if .Off}}yes{{else}}no{{end}}"), "no");
    CHECK_STR(R("{{if .Empty}}y{{end}}{{if .Zero}}y{{end}}{{if .None}}y{{end}}{{if .Obj}}y{{end}}"
                "{{if .Nil}}y{{end}}{{if .Missing}}y{{end}}{{if .Off}}y{{end}}"),
              "");
    CHECK_STR(
        R("{{if .Name}}a{{end}}{{if .Count}}b{{end}}{{if .List}}c{{end}}{{if .Labels}}d{{end}}"
          "{{if .Ratio}}e{{end}}"),
        "abcde");
    CHECK_STR(R("{{if .Off}}1{{else if .Empty}}2{{else if .Name}}3{{else}}4{{end}}"), "3");
    CHECK_STR(R("{{if .Off}}1{{else if .Empty}}2{{else}}4{{end}}"), "4");
    CHECK_STR(R("{{if eq .Name \"web\"}}match{{end}}"), "match");
    CHECK_STR(R("{{if and .On (gt .Count 2)}}big{{end}}"), "big");
    CHECK_STR(R("{{with .Nested.Inner}}{{.Deep}}{{else}}none{{end}}"), "yes");
    CHECK_STR(R("{{with .Missing}}{{.Deep}}{{else}}none{{end}}"), "none");
    CHECK_STR(R("{{with $x := .Name}}{{$x}}{{end}}"), "web");
    CHECK_STR(R("{{with .Off}}a{{else with .Name}}{{.}}{{end}}"), "web");
}

static void test_range(void)
{
    CHECK_STR(R("{{range .List}}[{{.}}]{{end}}"), "[a][b][c]");
    CHECK_STR(R("{{range $i, $v := .List}}{{$i}}={{$v}} {{end}}"), "0=a 1=b 2=c ");
    CHECK_STR(R("{{range $v := .Nums}}{{$v}}{{end}}"), "312");
    CHECK_STR(R("{{range $k, $v := .Labels}}{{$k}}:{{$v}};{{end}}"), "app:web;com.x:1;");
    CHECK_STR(R("{{range .Labels}}{{.}},{{end}}"), "web,1,");
    CHECK_STR(R("{{range .None}}x{{else}}empty{{end}}"), "empty");
    CHECK_STR(R("{{range .Missing}}x{{else}}missing{{end}}"), "missing");
    CHECK_STR(R("{{range .List}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}"), "a");
    CHECK_STR(R("{{range .List}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}"), "ac");
    CHECK_STR(R("{{range $i, $e := .List}}{{if $i}},{{end}}{{$e}}{{end}}"), "a,b,c");
    CHECK_STR(R("{{range 3}}{{.}}{{end}}"), "012");
    CHECK_STR(R("{{range .List}}{{$.Name}}{{end}}"), "webwebweb");
    CHECK_STR(R("{{range .Mixed.b}}<{{.}}>{{end}}"), "<1><map[z:<nil>]>");
    CHECK_STR(R("{{$n := 0}}{{range .List}}{{$n = .}}{{end}}{{$n}}"), "c");
}

static void test_variables_and_literals(void)
{
    CHECK_STR(R("{{$x := .Name}}{{$x}}-{{$x}}"), "web-web");
    CHECK_STR(R("{{$x := 1}}{{$x = 2}}{{$x}}"), "2");
    CHECK_STR(R("{{$x := .Nested}}{{$x.Inner.Deep}}"), "yes");
    CHECK_STR(R("{{$}}"), R("{{.}}"));
    CHECK_STR(R("{{\"a\\tb\\n\\\\\\\"\\x41\\u00e9\\101\"}}"), "a\tb\n\\\"A\xc3\xa9"
                                                              "A");
    CHECK_STR(R("{{`raw\\n`}}"), "raw\\n");
    CHECK_STR(R("{{1}} {{-3}} {{0x10}} {{1.5}} {{1e3}} {{'a'}} {{true}} {{017}} {{1_000}}"),
              "1 -3 16 1.5 1000 97 true 15 1000");
    CHECK_STR(R("{{/* a comment */}}x{{- /* trimmed */ -}} y"), "xy");
}

static void test_trim(void)
{
    CHECK_STR(R("a  {{- .Name -}}  b"), "awebb");
    CHECK_STR(R("a \n\t{{- .Name}} b"), "aweb b");
    CHECK_STR(R("a {{.Name -}} \n b"), "a webb");
    CHECK_STR(R("{{- .Name -}}"), "web");
    CHECK_STR(R("{{range .List -}}\n  {{.}}\n{{- end}}"), "abc");
    /* no space after the dash: a negative number, not a trim marker */
    CHECK_STR(R("{{-3}}"), "-3");
}

static void test_header(void)
{
    json_t *headers = json_pack("{s:s, s:s}", "ID", "CONTAINER ID", "Names", "NAMES");
    struct mk_template *t = NULL;
    mk_err *err = NULL;
    mk_buf out = {0};
    CHECK(mk_template_parse("{{.ID}}\t{{upper .Names}}\t{{json .Status}}\t{{pad .ID 1 1}}", &t,
                            &err) == 0);
    CHECK(mk_template_render_header(t, headers, &out, &err) == 0);
    CHECK_STR(out.data, "CONTAINER ID\tNAMES\tStatus\t CONTAINER ID ");
    mk_buf_free(&out);
    mk_template_free(t);
    t = NULL;
    /* a method call cannot be made on docker's header map: the header stops there */
    CHECK(mk_template_parse("{{.ID}}\t{{.Label \"x\"}}\t{{.Names}}", &t, &err) == 0);
    CHECK(mk_template_render_header(t, headers, &out, &err) < 0);
    CHECK_STR(out.data, "CONTAINER ID\t");
    mk_err_free(err);
    mk_buf_free(&out);
    mk_template_free(t);
    json_decref(headers);
}

static const char *perr(const char *tmpl)
{
    return R(tmpl);
}

static void test_parse_errors(void)
{
    CHECK_STR(perr("{{.Name"), "ERR: template parsing error: template: :1: unclosed action");
    CHECK_STR(perr("{{foo .Name}}"),
              "ERR: template parsing error: template: :1: function \"foo\" not defined");
    CHECK_STR(perr("{{end}}"), "ERR: template parsing error: template: :1: unexpected {{end}}");
    CHECK_STR(perr("{{else}}"), "ERR: template parsing error: template: :1: unexpected {{else}}");
    CHECK_STR(perr("{{if .On}}x"), "ERR: template parsing error: template: :1: unexpected EOF");
    CHECK_STR(perr("a\n{{range .List}}\nx"),
              "ERR: template parsing error: template: :3: unexpected EOF");
    CHECK_STR(perr("{{if .On}}a{{else}}b{{else}}c{{end}}"),
              "ERR: template parsing error: template: :1: expected end; found {{else}}");
    CHECK_STR(perr("{{$x}}"),
              "ERR: template parsing error: template: :1: undefined variable \"$x\"");
    CHECK_STR(perr("{{if 1}}{{$x := 1}}{{end}}{{$x}}"),
              "ERR: template parsing error: template: :1: undefined variable \"$x\"");
    CHECK_STR(perr("{{.Name | 3}}"),
              "ERR: template parsing error: template: :1: non executable command in pipeline "
              "stage 2");
    CHECK_STR(perr("{{\"abc}}"),
              "ERR: template parsing error: template: :1: unterminated quoted string");
    CHECK_STR(perr("{{`abc}}"),
              "ERR: template parsing error: template: :1: unterminated raw quoted string");
    CHECK_STR(perr("{{(.Name}}"), "ERR: template parsing error: template: :1: unclosed left paren");
    CHECK_STR(perr("{{.Name)}}"),
              "ERR: template parsing error: template: :1: unexpected right paren");
    CHECK_STR(perr("{{}}"), "ERR: template parsing error: template: :1: missing value for command");
    CHECK_STR(perr("{{range}}{{end}}"),
              "ERR: template parsing error: template: :1: missing value for range");
    CHECK_STR(perr("{{break}}"),
              "ERR: template parsing error: template: :1: {{break}} outside {{range}}");
    CHECK_STR(perr("{{/* x }}"), "ERR: template parsing error: template: :1: unclosed comment");
    CHECK_STR(perr("{{\"\\q\"}}"), "ERR: template parsing error: template: :1: invalid syntax");
    CHECK_STR(perr("{{3x}}"),
              "ERR: template parsing error: template: :1: bad number syntax: \"3x\"");
    CHECK_STR(perr("{{.Name#}}"),
              "ERR: template parsing error: template: :1: bad character U+0023 '#'");
    CHECK_STR(perr("{{template \"x\"}}"),
              "ERR: template parsing error: template: :1: {{template}} is not supported");
    CHECK_STR(perr("{{$a, $b := .List}}"),
              "ERR: template parsing error: template: :1: too many declarations in command");
    CHECK_STR(perr("{{\"a\".Name}}"),
              "ERR: template parsing error: template: :1: unexpected . after term \"\\\"a\\\"\"");
    CHECK(strncmp(perr("{{.Name :}}"), "ERR: template parsing error: template: :1: ", 43) == 0);
    CHECK(strncmp(perr("{{| .Name}}"), "ERR: template parsing error: ", 29) == 0);
    CHECK(strncmp(perr("{{if}}{{end}}"), "ERR: template parsing error: ", 29) == 0);
    CHECK(strncmp(perr("{{else if}}"), "ERR: template parsing error: ", 29) == 0);
    CHECK(strncmp(perr("{{range $a, $b}}{{end}}"), "ERR: template parsing error: ", 29) == 0);
    CHECK(strncmp(perr("{{-}}"), "ERR: template parsing error: ", 29) == 0);
    CHECK(strncmp(perr("{{'ab'}}"), "ERR: template parsing error: ", 29) == 0);
    CHECK(strncmp(perr("{{"), "ERR: template parsing error: ", 29) == 0);
    CHECK(strncmp(perr("{{ -"), "ERR: template parsing error: ", 29) == 0);
    CHECK(strncmp(perr("{{\""), "ERR: template parsing error: ", 29) == 0);
    CHECK(strncmp(perr("{{99999999999999999999}}"), "ERR: template parsing error: ", 29) == 0);
}

static void test_exec_errors(void)
{
    CHECK_STR(R("{{.Name.X}}"), "ERR: template: :1:2: executing \"\" at <.Name.X>: can't evaluate "
                                "field X in type string");
    CHECK_STR(R("a\nb {{.Nil.X}}"),
              "ERR: template: :2:4: executing \"\" at <.Nil.X>: nil pointer evaluating "
              "interface {}.X");
    CHECK_STR(R("{{index .List 5}}"), "ERR: template: :1:2: executing \"\" at <index>: error "
                                      "calling index: index out of range: 5");
    CHECK_STR(R("{{upper .Count}}"), "ERR: template: :1:2: executing \"\" at <upper>: wrong type "
                                     "for value; expected string; got int");
    CHECK_STR(R("{{upper .Missing}}"),
              "ERR: template: :1:2: executing \"\" at <upper>: invalid value; expected string");
    CHECK_STR(R("{{upper}}"), "ERR: template: :1:2: executing \"\" at <upper>: wrong number of "
                              "args for upper: want 1 got 0");
    CHECK_STR(R("{{.Name 1}}"), "ERR: template: :1:2: executing \"\" at <.Name>: Name is not a "
                                "method but has arguments");
    CHECK_STR(R("{{1 2}}"),
              "ERR: template: :1:2: executing \"\" at <1>: can't give argument to non-function 1");
    CHECK_STR(R("{{nil}}"), "ERR: template: :1:2: executing \"\" at <nil>: nil is not a command");
    CHECK_STR(R("{{range .Name}}{{end}}"),
              "ERR: template: :1:2: executing \"\" at <range>: range can't iterate over web");
    CHECK_STR(R("{{eq .Name 1}}"), "ERR: template: :1:2: executing \"\" at <eq>: error calling "
                                   "eq: incompatible types for comparison");
    CHECK_STR(R("{{join .Nums \",\"}}"), "ERR: template: :1:2: executing \"\" at <join>: wrong "
                                         "type for value; expected []string; got []interface {}");
    CHECK_STR(R("{{len .Count}}"),
              "ERR: template: :1:2: executing \"\" at <len>: error calling len: len of type int");
    CHECK_STR(R("{{lt .On .Off}}"), "ERR: template: :1:2: executing \"\" at <lt>: error calling "
                                    "lt: invalid type for comparison");
}

/* Random templates made of template syntax must parse or fail cleanly and
 * render or fail cleanly; the sanitizer build turns any overrun into a failure. */
static void test_fuzz(void)
{
    static const char *const pieces[] = {
        "{{",
        "}}",
        "{{-",
        " -}}",
        "-",
        " ",
        ".",
        ".Name",
        ".List",
        ".Labels",
        ".Nested.Inner",
        "$",
        "$x",
        ":=",
        "=",
        ",",
        "|",
        "(",
        ")",
        "\"",
        "\"s\"",
        "`",
        "'",
        "'a'",
        "\\",
        "if",
        "else",
        "end",
        "range",
        "with",
        "break",
        "continue",
        "json",
        "upper",
        "index",
        "printf",
        "\"%d%s%v%q%x%5.2f%*d%\"",
        "len",
        "split",
        "join",
        "1",
        "-2",
        "0x1f",
        "1.5e3",
        "1e",
        "0b",
        "nil",
        "true",
        "/*",
        "*/",
        "\n",
        "\xc3",
        "\xa9",
        "\xff",
        "{{range $i, $v := .List}}",
        "{{end}}",
        "{{else}}",
        "{{if .On}}",
        "eq",
        "and",
        "or",
        "not",
        "print",
        "pad",
        "truncate",
        ".Label \"app\"",
        "title",
    };
    json_t *data = json_loads(DATA, 0, NULL);
    unsigned seed = 12345;
    int parsed = 0;
    for (int iter = 0; iter < 30000; iter++) {
        mk_buf src = {0};
        seed = seed * 1103515245 + 12345;
        int n = 1 + (int)((seed >> 16) % 12);
        for (int k = 0; k < n; k++) {
            seed = seed * 1103515245 + 12345;
            mk_buf_puts(&src, pieces[(seed >> 16) % (sizeof pieces / sizeof pieces[0])]);
        }
        struct mk_template *t = NULL;
        mk_err *err = NULL;
        if (mk_template_parse(src.data, &t, &err) == 0) {
            parsed++;
            mk_buf out = {0};
            if (mk_template_render(t, data, &out, &err) < 0)
                CHECK(err != NULL && strncmp(err->msg, "template: :", 11) == 0);
            mk_buf_free(&out);
            mk_template_free(t);
        } else {
            CHECK(err != NULL && strncmp(err->msg, "template parsing error: ", 24) == 0);
        }
        mk_err_free(err);
        mk_buf_free(&src);
    }
    CHECK(parsed > 100);
    /* and raw bytes from the characters the lexer cares about */
    static const char alphabet[] = "{{}}.$-\"`' ()|:=,\\/*ab09eExp_+\n\t\xff\xc3";
    for (int iter = 0; iter < 30000; iter++) {
        char src[40];
        seed = seed * 1103515245 + 12345;
        size_t n = 2 + (seed >> 16) % (sizeof src - 3);
        src[0] = '{', src[1] = '{';
        for (size_t k = 2; k < n; k++) {
            seed = seed * 1103515245 + 12345;
            src[k] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        src[n] = '\0';
        struct mk_template *t = NULL;
        mk_err *err = NULL;
        if (mk_template_parse(src, &t, &err) == 0) {
            mk_buf out = {0};
            mk_template_render(t, data, &out, &err);
            mk_buf_free(&out);
            mk_template_free(t);
        }
        mk_err_free(err);
    }
    /* deep nesting is refused, not a stack overflow */
    mk_buf deep = {0};
    mk_buf_puts(&deep, "{{");
    for (int i = 0; i < 100000; i++)
        mk_buf_puts(&deep, "(");
    struct mk_template *t = NULL;
    mk_err *err = NULL;
    CHECK(mk_template_parse(deep.data, &t, &err) < 0);
    mk_err_free(err);
    err = NULL;
    mk_buf_free(&deep);
    for (int i = 0; i < 5000; i++)
        mk_buf_puts(&deep, "{{if 1}}");
    CHECK(mk_template_parse(deep.data, &t, &err) < 0);
    mk_err_free(err);
    mk_buf_free(&deep);
    json_decref(data);
}

int main(void)
{
    RUN(test_fields);
    RUN(test_value_printing);
    RUN(test_json);
    RUN(test_functions);
    RUN(test_printf);
    RUN(test_if_else);
    RUN(test_range);
    RUN(test_variables_and_literals);
    RUN(test_trim);
    RUN(test_header);
    RUN(test_parse_errors);
    RUN(test_exec_errors);
    RUN(test_fuzz);
    for (size_t i = 0; i < nkept; i++)
        free(kept[i]);
    return tap_done();
}
