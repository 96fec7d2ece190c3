/* template.c: the subset of Go's text/template that docker's --format uses,
 * evaluated over jansson values instead of Go structs.
 *
 * The template is lexed into tokens, parsed into a tree (text, actions, if,
 * range, with) and walked against the data.  Go's behaviour is the contract:
 * value printing follows fmt's %v, {{json}} follows encoding/json with HTML
 * escaping off (docker's encoder), error messages keep Go's wording.  The
 * input is user supplied, so the lexer never reads past the end and every
 * malformed template is a parse error, not a crash.
 *
 * Values: NULL is Go's "invalid" value (a missing map key, printed as
 * "<no value>"); JSON null is a nil interface. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "cli/format.h"

#define MAX_DEPTH 200

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alnum(char c)
{
    unsigned char u = (unsigned char)c;
    return u == '_' || isalnum(u) || u >= 0x80;
}

static void buf_add(mk_buf *b, const char *s, size_t n)
{
    if (n > 0)
        mk_buf_append(b, s, n);
}

static void buf_addc(mk_buf *b, char c)
{
    mk_buf_append(b, &c, 1);
}

static void buf_repeat(mk_buf *b, char c, long n)
{
    for (long i = 0; i < n; i++)
        buf_addc(b, c);
}

/* Decode one UTF-8 sequence as Go does: invalid or overlong sequences,
 * surrogates and values past U+10FFFF decode as U+FFFD of length 1. */
static size_t utf8_decode(const char *str, size_t n, uint32_t *r)
{
    const unsigned char *s = (const unsigned char *)str;
    *r = 0xFFFD;
    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *r = s[0];
        return 1;
    }
    size_t len;
    uint32_t c, min;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2, c = s[0] & 0x1F, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3, c = s[0] & 0x0F, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4, c = s[0] & 0x07, min = 0x10000;
    } else {
        return 1;
    }
    if (n < len)
        return 1;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 1;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 1;
    *r = c;
    return len;
}

static void utf8_encode(mk_buf *b, uint32_t r)
{
    char s[4];
    size_t n;
    if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
        r = 0xFFFD;
    if (r < 0x80) {
        s[0] = (char)r, n = 1;
    } else if (r < 0x800) {
        s[0] = (char)(0xC0 | (r >> 6)), s[1] = (char)(0x80 | (r & 0x3F)), n = 2;
    } else if (r < 0x10000) {
        s[0] = (char)(0xE0 | (r >> 12)), s[1] = (char)(0x80 | ((r >> 6) & 0x3F));
        s[2] = (char)(0x80 | (r & 0x3F)), n = 3;
    } else {
        s[0] = (char)(0xF0 | (r >> 18)), s[1] = (char)(0x80 | ((r >> 12) & 0x3F));
        s[2] = (char)(0x80 | ((r >> 6) & 0x3F)), s[3] = (char)(0x80 | (r & 0x3F)), n = 4;
    }
    mk_buf_append(b, s, n);
}

static size_t utf8_count(const char *s, size_t n)
{
    size_t count = 0;
    uint32_t r;
    for (size_t i = 0; i < n; count++)
        i += utf8_decode(s + i, n - i, &r);
    return count;
}

/* Simple case mapping: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic. */
static uint32_t rune_upper(uint32_t r)
{
    if (r >= 'a' && r <= 'z')
        return r - 32;
    if (r < 0x80)
        return r;
    if ((r >= 0xE0 && r <= 0xFE && r != 0xF7) || (r >= 0x3B1 && r <= 0x3CB && r != 0x3C2) ||
        (r >= 0x430 && r <= 0x44F))
        return r - 32;
    if (r == 0xFF)
        return 0x178;
    if (r == 0x3C2)
        return 0x3A3;
    if (r >= 0x450 && r <= 0x45F)
        return r - 80;
    if (r >= 0x100 && r <= 0x17F && r != 0x130 && r != 0x131 && r != 0x138 && r != 0x149 &&
        r != 0x17F) {
        bool odd_lower = (r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17E);
        if (odd_lower ? (r % 2 == 0) : (r % 2 == 1))
            return r - 1;
    }
    return r;
}

static uint32_t rune_lower(uint32_t r)
{
    if (r >= 'A' && r <= 'Z')
        return r + 32;
    if (r < 0x80)
        return r;
    if ((r >= 0xC0 && r <= 0xDE && r != 0xD7) || (r >= 0x391 && r <= 0x3AB && r != 0x3A2) ||
        (r >= 0x410 && r <= 0x42F))
        return r + 32;
    if (r == 0x178)
        return 0xFF;
    if (r >= 0x400 && r <= 0x40F)
        return r + 80;
    if (r >= 0x100 && r <= 0x17F && r != 0x130 && r != 0x131 && r != 0x138 && r != 0x149 &&
        r != 0x17F) {
        bool odd_lower = (r >= 0x139 && r <= 0x148) || (r >= 0x179 && r <= 0x17E);
        if (odd_lower ? (r % 2 == 1) : (r % 2 == 0))
            return r + 1;
    }
    return r;
}

static bool rune_is_space(uint32_t r)
{
    return r == 0x85 || r == 0xA0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 ||
           r == 0x2029 || r == 0x202F || r == 0x205F || r == 0x3000;
}

/* strings.Title's word boundaries: ASCII non-alphanumerics and Unicode spaces. */
static bool rune_is_separator(uint32_t r)
{
    if (r < 0x80)
        return !(isalnum((int)r) || r == '_');
    return rune_is_space(r);
}

enum case_map { CASE_UPPER, CASE_LOWER, CASE_TITLE };

static json_t *map_case(const char *s, size_t n, enum case_map how)
{
    mk_buf b = {0};
    uint32_t prev = ' ', r;
    for (size_t i = 0; i < n;) {
        size_t l = utf8_decode(s + i, n - i, &r);
        uint32_t m = r;
        if (how == CASE_UPPER)
            m = rune_upper(r);
        else if (how == CASE_LOWER)
            m = rune_lower(r);
        else if (rune_is_separator(prev))
            m = rune_upper(r);
        prev = r;
        if (m == r && !(r == 0xFFFD && l == 1))
            buf_add(&b, s + i, l);
        else
            utf8_encode(&b, m);
        i += l;
    }
    json_t *res = json_stringn_nocheck(b.data ? b.data : "", b.len);
    mk_buf_free(&b);
    return res;
}

static json_t *new_string(const char *s, size_t n)
{
    return json_stringn_nocheck(s ? s : "", s ? n : 0);
}

static json_t *buf_to_string(mk_buf *b)
{
    json_t *r = new_string(b->data, b->len);
    mk_buf_free(b);
    return r;
}

/* ------------------------------------------------------------------ */
/* number formatting as Go's strconv                                   */

/* Shortest decimal digits that read back as |d| (Go's 'shortest' mode).
 * dig gets the digits without a dot; returns their count; *exp10 is the
 * decimal exponent of the first digit. */
static int shortest_digits(double d, char *dig, int *exp10)
{
    char tmp[64];
    double a = fabs(d);
    for (int prec = 0; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, a);
        if (strtod(tmp, NULL) == a || prec == 17)
            break;
    }
    int n = 0;
    char *p = tmp;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            dig[n++] = *p;
    *exp10 = *p == 'e' ? atoi(p + 1) : 0;
    while (n > 1 && dig[n - 1] == '0')
        n--;
    dig[n] = '\0';
    if (a == 0)
        *exp10 = 0;
    return n;
}

static void fmt_exp(mk_buf *b, int e)
{
    buf_addc(b, 'e');
    buf_addc(b, e < 0 ? '-' : '+');
    if (e < 0)
        e = -e;
    if (e < 10)
        buf_addc(b, '0');
    mk_buf_printf(b, "%d", e);
}

/* strconv.FormatFloat(d, 'e' or 'f', -1, 64) */
static void fmt_shortest(mk_buf *b, double d, char mode)
{
    char dig[40];
    int e;
    int n = shortest_digits(d, dig, &e);
    if (signbit(d))
        buf_addc(b, '-');
    if (mode == 'e') {
        buf_addc(b, dig[0]);
        if (n > 1) {
            buf_addc(b, '.');
            buf_add(b, dig + 1, (size_t)n - 1);
        }
        fmt_exp(b, e);
        return;
    }
    if (e < 0) {
        buf_add(b, "0.", 2);
        buf_repeat(b, '0', -e - 1);
        buf_add(b, dig, (size_t)n);
        return;
    }
    for (int i = 0; i <= e; i++)
        buf_addc(b, i < n ? dig[i] : '0');
    if (n > e + 1) {
        buf_addc(b, '.');
        buf_add(b, dig + e + 1, (size_t)(n - e - 1));
    }
}

/* fmt's %v (and %g without precision) for a float64: strconv's shortest 'g',
 * exponent form below 1e-4 and from 1e6 ("1e+06"). */
static void fmt_float_v(mk_buf *b, double d)
{
    if (isnan(d)) {
        mk_buf_puts(b, "NaN");
        return;
    }
    if (isinf(d)) {
        mk_buf_puts(b, d > 0 ? "+Inf" : "-Inf");
        return;
    }
    char dig[40];
    int e;
    shortest_digits(d, dig, &e);
    fmt_shortest(b, d, (e < -4 || e >= 6) ? 'e' : 'f');
}

/* encoding/json's float encoding. */
static void fmt_float_json(mk_buf *b, double d)
{
    double a = fabs(d);
    if (a != 0 && (a < 1e-6 || a >= 1e21)) {
        mk_buf tmp = {0};
        fmt_shortest(&tmp, d, 'e');
        /* Go turns e-07 into e-7 */
        if (tmp.len >= 4 && tmp.data[tmp.len - 4] == 'e' && tmp.data[tmp.len - 3] == '-' &&
            tmp.data[tmp.len - 2] == '0') {
            tmp.data[tmp.len - 2] = tmp.data[tmp.len - 1];
            tmp.len--;
        }
        buf_add(b, tmp.data, tmp.len);
        mk_buf_free(&tmp);
        return;
    }
    fmt_shortest(b, d, 'f');
}

/* ------------------------------------------------------------------ */
/* value printing (fmt's %v) and JSON (encoding/json)                  */

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Object keys in Go's map order (sorted); the array is owned by the caller. */
static const char **sorted_keys(const json_t *obj, size_t *n)
{
    size_t cnt = json_object_size(obj), i = 0;
    const char **keys = xcalloc(cnt + 1, sizeof(char *));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (i < cnt)
            keys[i++] = k;
    }
    qsort(keys, i, sizeof(char *), cmp_keys);
    *n = i;
    return keys;
}

static void print_value(mk_buf *b, const json_t *v)
{
    if (v == NULL || json_is_null(v)) {
        mk_buf_puts(b, "<nil>");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        buf_add(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        mk_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        fmt_float_v(b, json_real_value(v));
        break;
    case JSON_TRUE:
        mk_buf_puts(b, "true");
        break;
    case JSON_FALSE:
        mk_buf_puts(b, "false");
        break;
    case JSON_ARRAY:
        buf_addc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0)
                buf_addc(b, ' ');
            print_value(b, json_array_get(v, i));
        }
        buf_addc(b, ']');
        break;
    case JSON_OBJECT: {
        size_t n;
        _cleanup_free_ const char **keys = sorted_keys(v, &n);
        mk_buf_puts(b, "map[");
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                buf_addc(b, ' ');
            mk_buf_puts(b, keys[i]);
            buf_addc(b, ':');
            print_value(b, json_object_get(v, keys[i]));
        }
        buf_addc(b, ']');
        break;
    }
    case JSON_NULL:
    default:
        mk_buf_puts(b, "<nil>");
        break;
    }
}

static void json_quote(mk_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_addc(b, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            switch (c) {
            case '"':
                mk_buf_puts(b, "\\\"");
                break;
            case '\\':
                mk_buf_puts(b, "\\\\");
                break;
            case '\n':
                mk_buf_puts(b, "\\n");
                break;
            case '\r':
                mk_buf_puts(b, "\\r");
                break;
            case '\t':
                mk_buf_puts(b, "\\t");
                break;
            case '\b':
                mk_buf_puts(b, "\\b");
                break;
            case '\f':
                mk_buf_puts(b, "\\f");
                break;
            default:
                if (c < 0x20) {
                    mk_buf_puts(b, "\\u00");
                    buf_addc(b, hex[c >> 4]);
                    buf_addc(b, hex[c & 0xF]);
                } else {
                    buf_addc(b, (char)c);
                }
                break;
            }
            i++;
            continue;
        }
        uint32_t r;
        size_t l = utf8_decode(s + i, n - i, &r);
        if (r == 0xFFFD && l == 1)
            mk_buf_puts(b, "\\ufffd");
        else if (r == 0x2028 || r == 0x2029)
            mk_buf_printf(b, "\\u%04x", (unsigned)r);
        else
            buf_add(b, s + i, l);
        i += l;
    }
    buf_addc(b, '"');
}

void mk_format_json_go(mk_buf *b, const json_t *v)
{
    if (v == NULL || json_is_null(v)) {
        mk_buf_puts(b, "null");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING:
        json_quote(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        mk_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        fmt_float_json(b, json_real_value(v));
        break;
    case JSON_TRUE:
        mk_buf_puts(b, "true");
        break;
    case JSON_FALSE:
        mk_buf_puts(b, "false");
        break;
    case JSON_ARRAY:
        buf_addc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0)
                buf_addc(b, ',');
            mk_format_json_go(b, json_array_get(v, i));
        }
        buf_addc(b, ']');
        break;
    case JSON_OBJECT: {
        const char *k;
        json_t *e;
        bool first = true;
        buf_addc(b, '{');
        json_object_foreach((json_t *)v, k, e)
        {
            if (!first)
                buf_addc(b, ',');
            first = false;
            json_quote(b, k, strlen(k));
            buf_addc(b, ':');
            mk_format_json_go(b, e);
        }
        buf_addc(b, '}');
        break;
    }
    case JSON_NULL:
    default:
        mk_buf_puts(b, "null");
        break;
    }
}

/* Go's strconv.Quote (used by printf %q). */
static void go_quote(mk_buf *b, const char *s, size_t n)
{
    buf_addc(b, '"');
    for (size_t i = 0; i < n;) {
        uint32_t r;
        size_t l = utf8_decode(s + i, n - i, &r);
        if (r == 0xFFFD && l == 1) {
            mk_buf_printf(b, "\\x%02x", (unsigned char)s[i]);
        } else if (r == '"' || r == '\\') {
            buf_addc(b, '\\');
            buf_addc(b, (char)r);
        } else if (r >= 0x20 && r < 0x7F) {
            buf_addc(b, (char)r);
        } else if (r < 0x20 || r == 0x7F) {
            const char *esc = NULL;
            switch (r) {
            case '\a':
                esc = "\\a";
                break;
            case '\b':
                esc = "\\b";
                break;
            case '\f':
                esc = "\\f";
                break;
            case '\n':
                esc = "\\n";
                break;
            case '\r':
                esc = "\\r";
                break;
            case '\t':
                esc = "\\t";
                break;
            case '\v':
                esc = "\\v";
                break;
            default:
                break;
            }
            if (esc)
                mk_buf_puts(b, esc);
            else
                mk_buf_printf(b, "\\x%02x", (unsigned)r);
        } else if ((r >= 0x80 && r < 0xA0) || r == 0xAD || rune_is_space(r) || r == 0xFEFF ||
                   (r >= 0x200B && r <= 0x200F)) {
            if (r < 0x10000)
                mk_buf_printf(b, "\\u%04x", (unsigned)r);
            else
                mk_buf_printf(b, "\\U%08x", (unsigned)r);
        } else {
            buf_add(b, s + i, l);
        }
        i += l;
    }
    buf_addc(b, '"');
}

static const char *type_name(const json_t *v)
{
    if (v == NULL || json_is_null(v))
        return "<nil>";
    switch (json_typeof(v)) {
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "int";
    case JSON_REAL:
        return "float64";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    case JSON_ARRAY:
        return "[]interface {}";
    case JSON_OBJECT:
        return "map[string]interface {}";
    case JSON_NULL:
    default:
        return "<nil>";
    }
}

/* Go's truth: false, 0, "", nil and empty containers are false. */
static bool truthy(const json_t *v)
{
    if (v == NULL)
        return false;
    switch (json_typeof(v)) {
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0;
    case JSON_TRUE:
        return true;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    case JSON_FALSE:
    case JSON_NULL:
    default:
        return false;
    }
}

/* ------------------------------------------------------------------ */
/* lexer                                                               */

enum tok_kind {
    TK_EOF,
    TK_TEXT,
    TK_LDELIM,
    TK_RDELIM,
    TK_SPACE,
    TK_FIELD,
    TK_DOT,
    TK_VAR,
    TK_IDENT,
    TK_STRING,
    TK_RAWSTRING,
    TK_CHAR,
    TK_NUMBER,
    TK_LPAREN,
    TK_RPAREN,
    TK_PIPE,
    TK_DECLARE,
    TK_ASSIGN,
    TK_COMMA,
    TK_BOOL,
    TK_NIL,
    TK_IF,
    TK_ELSE,
    TK_END,
    TK_RANGE,
    TK_WITH,
    TK_BREAK,
    TK_CONTINUE,
    TK_DEFINE,
    TK_TEMPLATE,
    TK_BLOCK,
};

struct tok {
    enum tok_kind kind;
    size_t pos, len;
};

struct parser {
    const char *src;
    size_t n;
    struct tok *toks;
    size_t ntoks, tokcap, cur;
    const char **vars;
    size_t nvars;
    int range_depth, depth;
    char *errmsg;
};

static int line_of(const char *src, size_t pos)
{
    int line = 1;
    for (size_t i = 0; i < pos; i++)
        if (src[i] == '\n')
            line++;
    return line;
}

static int perr(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int perr(struct parser *p, size_t pos, const char *fmt, ...)
{
    if (p->errmsg != NULL)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    p->errmsg = xasprintf("template: :%d: %s", line_of(p->src, pos > p->n ? p->n : pos), msg);
    return -1;
}

static void emit(struct parser *p, enum tok_kind kind, size_t pos, size_t len)
{
    if (p->ntoks == p->tokcap) {
        p->tokcap = p->tokcap ? p->tokcap * 2 : 64;
        p->toks = xrealloc(p->toks, p->tokcap * sizeof(struct tok));
    }
    p->toks[p->ntoks++] = (struct tok){kind, pos, len};
}

/* "}}" or " -}}" at i: returns the delimiter length, sets *trim. */
static size_t at_right_delim(const struct parser *p, size_t i, bool *trim)
{
    const char *s = p->src;
    if (i + 3 < p->n && is_space(s[i]) && s[i + 1] == '-' && s[i + 2] == '}' && s[i + 3] == '}') {
        *trim = true;
        return 4;
    }
    if (i + 1 < p->n && s[i] == '}' && s[i + 1] == '}') {
        *trim = false;
        return 2;
    }
    return 0;
}

static bool at_terminator(const struct parser *p, size_t i)
{
    bool trim;
    if (i >= p->n)
        return true;
    char c = p->src[i];
    return is_space(c) || c == '.' || c == ',' || c == '|' || c == ':' || c == ')' || c == '(' ||
           at_right_delim(p, i, &trim) > 0;
}

static const struct {
    const char *word;
    enum tok_kind kind;
} keywords[] = {
    {"if", TK_IF},
    {"else", TK_ELSE},
    {"end", TK_END},
    {"range", TK_RANGE},
    {"with", TK_WITH},
    {"break", TK_BREAK},
    {"continue", TK_CONTINUE},
    {"define", TK_DEFINE},
    {"template", TK_TEMPLATE},
    {"block", TK_BLOCK},
    {"nil", TK_NIL},
    {"true", TK_BOOL},
    {"false", TK_BOOL},
};

static int bad_char(struct parser *p, size_t i)
{
    uint32_t r;
    utf8_decode(p->src + i, p->n - i, &r);
    if (r >= 0x20 && r < 0x7F)
        return perr(p, i, "bad character U+%04X '%c'", (unsigned)r, (char)r);
    return perr(p, i, "bad character U+%04X", (unsigned)r);
}

/* Scan a quoted token starting at i (the quote); returns its end or 0 on error. */
static size_t lex_quote(struct parser *p, size_t i, char q)
{
    size_t j = i + 1;
    for (; j < p->n; j++) {
        char c = p->src[j];
        if (q != '`' && c == '\\') {
            j++;
            if (j >= p->n || p->src[j] == '\n')
                break;
            continue;
        }
        if (q != '`' && c == '\n')
            break;
        if (c == q)
            return j + 1;
    }
    if (q == '"')
        perr(p, i, "unterminated quoted string");
    else if (q == '`')
        perr(p, i, "unterminated raw quoted string");
    else
        perr(p, i, "unterminated character constant");
    return 0;
}

static size_t lex_number(struct parser *p, size_t i)
{
    const char *s = p->src;
    size_t j = i;
    if (j < p->n && (s[j] == '+' || s[j] == '-'))
        j++;
    const char *digits = "0123456789_";
    bool hex = false;
    if (j < p->n && s[j] == '0' && j + 1 < p->n) {
        char x = (char)tolower((unsigned char)s[j + 1]);
        if (x == 'x')
            digits = "0123456789abcdefABCDEF_", hex = true, j += 2;
        else if (x == 'o')
            digits = "01234567_", j += 2;
        else if (x == 'b')
            digits = "01_", j += 2;
    }
    while (j < p->n && strchr(digits, s[j]) && s[j] != '\0')
        j++;
    if (j < p->n && s[j] == '.') {
        j++;
        while (j < p->n && strchr(digits, s[j]) && s[j] != '\0')
            j++;
    }
    if (!hex && j < p->n && (s[j] == 'e' || s[j] == 'E')) {
        j++;
        if (j < p->n && (s[j] == '+' || s[j] == '-'))
            j++;
        while (j < p->n && ((s[j] >= '0' && s[j] <= '9') || s[j] == '_'))
            j++;
    }
    if (j < p->n && is_alnum(s[j])) {
        perr(p, i, "bad number syntax: \"%.*s\"", (int)(j + 1 - i), s + i);
        return 0;
    }
    return j;
}

/* Lex the inside of an action starting at *pos, up to and including its
 * closing delimiter. */
static int lex_action(struct parser *p, size_t *pos, bool *trim_next)
{
    const char *s = p->src;
    size_t i = *pos;
    int parens = 0;
    for (;;) {
        bool trim;
        size_t dl = at_right_delim(p, i, &trim);
        if (dl > 0) {
            if (parens > 0)
                return perr(p, i, "unclosed left paren");
            emit(p, TK_RDELIM, i, dl);
            *pos = i + dl;
            *trim_next = trim;
            return 0;
        }
        if (i >= p->n)
            return perr(p, i, "unclosed action");
        char c = s[i];
        size_t j = i + 1;
        if (is_space(c)) {
            while (j < p->n && is_space(s[j]))
                j++;
            /* leave the space of a " -}}" to the delimiter */
            if (at_right_delim(p, j - 1, &trim) == 4)
                j--;
            if (j > i)
                emit(p, TK_SPACE, i, j - i);
            i = j;
            continue;
        }
        switch (c) {
        case '"':
        case '`':
        case '\'':
            j = lex_quote(p, i, c);
            if (j == 0)
                return -1;
            emit(p, c == '"' ? TK_STRING : c == '`' ? TK_RAWSTRING : TK_CHAR, i, j - i);
            break;
        case '$':
            while (j < p->n && is_alnum(s[j]))
                j++;
            if (!at_terminator(p, j))
                return bad_char(p, j);
            emit(p, TK_VAR, i, j - i);
            break;
        case '(':
            parens++;
            emit(p, TK_LPAREN, i, 1);
            break;
        case ')':
            if (--parens < 0)
                return perr(p, i, "unexpected right paren");
            emit(p, TK_RPAREN, i, 1);
            break;
        case '|':
            emit(p, TK_PIPE, i, 1);
            break;
        case ',':
            emit(p, TK_COMMA, i, 1);
            break;
        case '=':
            emit(p, TK_ASSIGN, i, 1);
            break;
        case ':':
            if (j >= p->n || s[j] != '=')
                return perr(p, i, "expected :=");
            emit(p, TK_DECLARE, i, 2);
            j++;
            break;
        default:
            if (c == '.' && !(j < p->n && s[j] >= '0' && s[j] <= '9')) {
                while (j < p->n && is_alnum(s[j]))
                    j++;
                if (!at_terminator(p, j))
                    return bad_char(p, j);
                emit(p, j == i + 1 ? TK_DOT : TK_FIELD, i, j - i);
            } else if (c == '.' || c == '+' || c == '-' || (c >= '0' && c <= '9')) {
                j = lex_number(p, i);
                if (j == 0)
                    return -1;
                emit(p, TK_NUMBER, i, j - i);
            } else if (is_alnum(c)) {
                while (j < p->n && is_alnum(s[j]))
                    j++;
                if (!at_terminator(p, j))
                    return bad_char(p, j);
                enum tok_kind kind = TK_IDENT;
                for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
                    if (strlen(keywords[k].word) == j - i &&
                        memcmp(keywords[k].word, s + i, j - i) == 0)
                        kind = keywords[k].kind;
                emit(p, kind, i, j - i);
            } else {
                uint32_t r;
                utf8_decode(s + i, p->n - i, &r);
                if (r >= 0x20 && r < 0x7F)
                    return perr(p, i, "unrecognized character in action: U+%04X '%c'", (unsigned)r,
                                c);
                return perr(p, i, "unrecognized character in action: U+%04X", (unsigned)r);
            }
            break;
        }
        i = j;
    }
}

static int lex(struct parser *p)
{
    const char *s = p->src;
    size_t pos = 0;
    bool trim_next = false;
    for (;;) {
        const char *open = pos < p->n ? memmem(s + pos, p->n - pos, "{{", 2) : NULL;
        size_t text_end = open ? (size_t)(open - s) : p->n, start = pos;
        if (trim_next)
            while (start < text_end && is_space(s[start]))
                start++;
        size_t ld = open ? text_end + 2 : 0;
        bool left_trim = open && ld + 1 < p->n && s[ld] == '-' && is_space(s[ld + 1]);
        size_t end = text_end;
        if (left_trim)
            while (end > start && is_space(s[end - 1]))
                end--;
        if (end > start)
            emit(p, TK_TEXT, start, end - start);
        if (!open)
            break;
        size_t in = ld + (left_trim ? 2 : 0);
        if (in + 1 < p->n && s[in] == '/' && s[in + 1] == '*') {
            const char *close = memmem(s + in + 2, p->n - in - 2, "*/", 2);
            if (close == NULL)
                return perr(p, in, "unclosed comment");
            size_t after = (size_t)(close - s) + 2;
            size_t dl = at_right_delim(p, after, &trim_next);
            if (dl == 0)
                return perr(p, after, "comment ends before closing delimiter");
            pos = after + dl;
            continue;
        }
        emit(p, TK_LDELIM, text_end, in - text_end);
        pos = in;
        trim_next = false;
        if (lex_action(p, &pos, &trim_next) < 0)
            return -1;
    }
    emit(p, TK_EOF, p->n, 0);
    return 0;
}

/* ------------------------------------------------------------------ */
/* parse tree                                                          */

enum arg_kind {
    ARG_DOT,
    ARG_NIL,
    ARG_BOOL,
    ARG_INT,
    ARG_FLOAT,
    ARG_STRING,
    ARG_FIELD,
    ARG_VAR,
    ARG_FUNC,
    ARG_PIPE,
};

struct pipe;

struct arg {
    enum arg_kind kind;
    size_t pos, len; /* source span, for error messages */
    bool b;
    long long i;
    double f;
    char *s; /* string bytes, variable name or function name */
    size_t slen;
    char **fields; /* field chain after the term; for ARG_FIELD the chain from dot */
    size_t nfields;
    struct pipe *pipe; /* ARG_PIPE */
};

struct cmd {
    size_t pos;
    struct arg **args;
    size_t nargs;
};

struct pipe {
    size_t pos;
    bool is_assign;
    char *decl[2];
    size_t ndecl;
    struct cmd **cmds;
    size_t ncmds;
};

enum node_kind {
    NODE_TEXT,
    NODE_ACTION,
    NODE_IF,
    NODE_RANGE,
    NODE_WITH,
    NODE_BREAK,
    NODE_CONTINUE
};

struct node;
struct list {
    struct node **v;
    size_t n;
};

struct node {
    enum node_kind kind;
    size_t pos;
    const char *text; /* NODE_TEXT: points into the template's copy of the source */
    size_t len;
    struct pipe *pipe;
    struct list body, else_body;
};

struct mk_template {
    char *src;
    size_t n;
    struct list root;
};

#define PUSH(arr, cnt, item)                                                                       \
    do {                                                                                           \
        (arr) = xrealloc((arr), ((cnt) + 1) * sizeof(*(arr)));                                     \
        (arr)[(cnt)++] = (item);                                                                   \
    } while (0)

static void pipe_free(struct pipe *pp);

static void arg_free(struct arg *a)
{
    if (a == NULL)
        return;
    free(a->s);
    for (size_t i = 0; i < a->nfields; i++)
        free(a->fields[i]);
    free(a->fields);
    pipe_free(a->pipe);
    free(a);
}

static void cmd_free(struct cmd *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nargs; i++)
        arg_free(c->args[i]);
    free(c->args);
    free(c);
}

static void pipe_free(struct pipe *pp)
{
    if (pp == NULL)
        return;
    free(pp->decl[0]);
    free(pp->decl[1]);
    for (size_t i = 0; i < pp->ncmds; i++)
        cmd_free(pp->cmds[i]);
    free(pp->cmds);
    free(pp);
}

static void list_free(struct list *l);

static void node_free(struct node *n)
{
    if (n == NULL)
        return;
    pipe_free(n->pipe);
    list_free(&n->body);
    list_free(&n->else_body);
    free(n);
}

static void list_free(struct list *l)
{
    for (size_t i = 0; i < l->n; i++)
        node_free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

void mk_template_free(struct mk_template *t)
{
    if (t == NULL)
        return;
    list_free(&t->root);
    free(t->src);
    free(t);
}

/* ------------------------------------------------------------------ */
/* functions (declared here so the parser can reject unknown names)    */

struct exec;
typedef json_t *(*tfunc)(struct exec *ex, const struct arg *at, json_t **argv, size_t argc);

struct func {
    const char *name;
    int min, max; /* max -1: variadic */
    tfunc fn;
    bool header_passthrough; /* docker's HeaderFunctions return their argument */
};

static const struct func *find_func(const char *name, size_t len);

/* ------------------------------------------------------------------ */
/* parser                                                              */

static struct tok *peek(struct parser *p)
{
    return &p->toks[p->cur];
}

static struct tok *next_tok(struct parser *p)
{
    struct tok *t = &p->toks[p->cur];
    if (t->kind != TK_EOF)
        p->cur++;
    return t;
}

static struct tok *peek_nonspace(struct parser *p)
{
    while (peek(p)->kind == TK_SPACE)
        p->cur++;
    return peek(p);
}

static const char *tok_desc(const struct parser *p, const struct tok *t, char *buf, size_t sz)
{
    switch (t->kind) {
    case TK_EOF:
        return "EOF";
    case TK_RDELIM:
        return "\"}}\"";
    case TK_LDELIM:
        return "\"{{\"";
    case TK_SPACE:
        return "space";
    default:
        snprintf(buf, sz, "\"%.*s\"", (int)(t->len > 40 ? 40 : t->len), p->src + t->pos);
        return buf;
    }
}

static int unexpected(struct parser *p, const struct tok *t, const char *ctx)
{
    char buf[64];
    if (t->kind == TK_EOF)
        return perr(p, t->pos, "unexpected EOF");
    return perr(p, t->pos, "unexpected %s in %s", tok_desc(p, t, buf, sizeof buf), ctx);
}

static bool var_defined(const struct parser *p, const char *name, size_t len)
{
    for (size_t i = p->nvars; i-- > 0;)
        if (strlen(p->vars[i]) == len && memcmp(p->vars[i], name, len) == 0)
            return true;
    return false;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Go's strconv.Unquote for "..." and '...' literals (raw strings handled by the
 * caller).  Appends the bytes to b; returns the number of runes or -1. */
static int unquote(const char *s, size_t n, char q, mk_buf *b)
{
    int runes = 0;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c == q)
            return -1;
        if (c != '\\') {
            uint32_t r;
            size_t l = utf8_decode(s + i, n - i, &r);
            buf_add(b, s + i, l);
            i += l;
            runes++;
            continue;
        }
        if (++i >= n)
            return -1;
        c = s[i++];
        uint32_t val = 0;
        int digits = 0;
        switch (c) {
        case 'a':
            buf_addc(b, '\a');
            break;
        case 'b':
            buf_addc(b, '\b');
            break;
        case 'f':
            buf_addc(b, '\f');
            break;
        case 'n':
            buf_addc(b, '\n');
            break;
        case 'r':
            buf_addc(b, '\r');
            break;
        case 't':
            buf_addc(b, '\t');
            break;
        case 'v':
            buf_addc(b, '\v');
            break;
        case '\\':
            buf_addc(b, '\\');
            break;
        case '\'':
        case '"':
            if (c != q)
                return -1;
            buf_addc(b, c);
            break;
        case 'x':
        case 'u':
        case 'U':
            digits = c == 'x' ? 2 : c == 'u' ? 4 : 8;
            if (i + (size_t)digits > n)
                return -1;
            for (int k = 0; k < digits; k++) {
                int h = hexval(s[i + (size_t)k]);
                if (h < 0)
                    return -1;
                val = val * 16 + (uint32_t)h;
            }
            i += (size_t)digits;
            if (c == 'x') {
                buf_addc(b, (char)val);
            } else {
                if (val > 0x10FFFF || (val >= 0xD800 && val <= 0xDFFF))
                    return -1;
                utf8_encode(b, val);
            }
            break;
        default:
            if (c < '0' || c > '7' || i + 2 > n)
                return -1;
            val = (uint32_t)(c - '0');
            for (int k = 0; k < 2; k++) {
                char d = s[i + (size_t)k];
                if (d < '0' || d > '7')
                    return -1;
                val = val * 8 + (uint32_t)(d - '0');
            }
            if (val > 255)
                return -1;
            i += 2;
            buf_addc(b, (char)val);
            break;
        }
        runes++;
    }
    return runes;
}

static int parse_number(struct parser *p, const struct tok *t, struct arg *a)
{
    const char *s = p->src + t->pos;
    if (t->kind == TK_CHAR) {
        mk_buf b = {0};
        int runes = unquote(s + 1, t->len - 2, '\'', &b);
        uint32_t r = 0;
        if (runes == 1)
            utf8_decode(b.data, b.len, &r);
        if (runes == 1 && b.len == 1)
            r = (unsigned char)b.data[0];
        mk_buf_free(&b);
        if (runes != 1)
            return perr(p, t->pos, "malformed character constant: %.*s", (int)t->len, s);
        a->kind = ARG_INT;
        a->i = r;
        return 0;
    }
    char clean[128];
    size_t n = 0;
    for (size_t i = 0; i < t->len && n + 1 < sizeof clean; i++)
        if (s[i] != '_')
            clean[n++] = s[i];
    clean[n] = '\0';
    if (t->len >= sizeof clean)
        return perr(p, t->pos, "illegal number syntax: \"%.*s\"", (int)t->len, s);
    const char *d = clean;
    bool neg = false;
    if (*d == '+' || *d == '-')
        neg = *d++ == '-';
    int base = 10;
    if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X'))
        base = 16, d += 2;
    else if (d[0] == '0' && (d[1] == 'o' || d[1] == 'O'))
        base = 8, d += 2;
    else if (d[0] == '0' && (d[1] == 'b' || d[1] == 'B'))
        base = 2, d += 2;
    bool is_float = base == 10 && strpbrk(d, ".eE") != NULL;
    if (!is_float) {
        if (base == 10 && d[0] == '0' && d[1] != '\0')
            base = 8;
        if (*d == '\0')
            return perr(p, t->pos, "illegal number syntax: \"%.*s\"", (int)t->len, s);
        char *end;
        errno = 0;
        unsigned long long v = strtoull(d, &end, base);
        if (*end != '\0' || errno != 0 || v > (unsigned long long)LLONG_MAX + (neg ? 1 : 0) ||
            *d == '+' || *d == '-')
            return perr(p, t->pos, "illegal number syntax: \"%.*s\"", (int)t->len, s);
        a->kind = ARG_INT;
        a->i = neg ? (long long)(0 - v) : (long long)v;
        return 0;
    }
    if (*d == '\0' || *d == '+' || *d == '-' || strcmp(d, ".") == 0)
        return perr(p, t->pos, "illegal number syntax: \"%.*s\"", (int)t->len, s);
    char *end;
    errno = 0;
    double v = strtod(d, &end);
    if (*end != '\0' || isinf(v) || isnan(v))
        return perr(p, t->pos, "illegal number syntax: \"%.*s\"", (int)t->len, s);
    a->kind = ARG_FLOAT;
    a->f = neg ? -v : v;
    return 0;
}

static struct pipe *parse_pipeline(struct parser *p, const char *ctx, enum tok_kind end);

static struct arg *parse_term(struct parser *p)
{
    struct tok *t = peek(p);
    struct arg *a = xcalloc(1, sizeof *a);
    a->pos = t->pos;
    a->len = t->len;
    const char *s = p->src + t->pos;
    switch (t->kind) {
    case TK_IDENT:
        if (find_func(s, t->len) == NULL) {
            perr(p, t->pos, "function \"%.*s\" not defined", (int)t->len, s);
            goto fail;
        }
        a->kind = ARG_FUNC;
        a->s = xstrndup(s, t->len);
        break;
    case TK_DOT:
        a->kind = ARG_DOT;
        break;
    case TK_NIL:
        a->kind = ARG_NIL;
        break;
    case TK_BOOL:
        a->kind = ARG_BOOL;
        a->b = t->len == 4;
        break;
    case TK_VAR:
        if (!var_defined(p, s, t->len)) {
            perr(p, t->pos, "undefined variable \"%.*s\"", (int)t->len, s);
            goto fail;
        }
        a->kind = ARG_VAR;
        a->s = xstrndup(s, t->len);
        break;
    case TK_FIELD:
        a->kind = ARG_FIELD;
        PUSH(a->fields, a->nfields, xstrndup(s + 1, t->len - 1));
        break;
    case TK_NUMBER:
    case TK_CHAR:
        if (parse_number(p, t, a) < 0)
            goto fail;
        break;
    case TK_STRING:
    case TK_RAWSTRING: {
        mk_buf b = {0};
        if (t->kind == TK_RAWSTRING) {
            buf_add(&b, s + 1, t->len - 2);
        } else if (unquote(s + 1, t->len - 2, '"', &b) < 0) {
            mk_buf_free(&b);
            perr(p, t->pos, "invalid syntax");
            goto fail;
        }
        a->kind = ARG_STRING;
        a->slen = b.len;
        a->s = b.data ? mk_buf_steal(&b) : xstrdup("");
        break;
    }
    case TK_LPAREN:
        next_tok(p);
        if (++p->depth > MAX_DEPTH) {
            perr(p, t->pos, "max nesting depth exceeded");
            goto fail;
        }
        a->kind = ARG_PIPE;
        a->pipe = parse_pipeline(p, "parenthesized pipeline", TK_RPAREN);
        p->depth--;
        if (a->pipe == NULL)
            goto fail;
        a->len = p->toks[p->cur - 1].pos + 1 - a->pos;
        return a;
    default:
        free(a);
        return NULL;
    }
    next_tok(p);
    return a;
fail:
    arg_free(a);
    return NULL;
}

static struct arg *parse_operand(struct parser *p)
{
    struct arg *a = parse_term(p);
    if (a == NULL || peek(p)->kind != TK_FIELD)
        return a;
    if (a->kind != ARG_FIELD && a->kind != ARG_VAR && a->kind != ARG_PIPE) {
        mk_buf q = {0};
        go_quote(&q, p->src + a->pos, a->len);
        perr(p, a->pos, "unexpected . after term %s", q.data);
        mk_buf_free(&q);
        arg_free(a);
        return NULL;
    }
    while (peek(p)->kind == TK_FIELD) {
        struct tok *t = next_tok(p);
        PUSH(a->fields, a->nfields, xstrndup(p->src + t->pos + 1, t->len - 1));
        a->len = t->pos + t->len - a->pos;
    }
    return a;
}

static struct cmd *parse_command(struct parser *p)
{
    struct cmd *c = xcalloc(1, sizeof *c);
    c->pos = peek_nonspace(p)->pos;
    for (;;) {
        peek_nonspace(p);
        struct arg *a = parse_operand(p);
        if (p->errmsg)
            goto fail;
        if (a)
            PUSH(c->args, c->nargs, a);
        struct tok *t = next_tok(p);
        if (t->kind == TK_SPACE)
            continue;
        if (t->kind == TK_RDELIM || t->kind == TK_RPAREN) {
            p->cur--;
        } else if (t->kind != TK_PIPE) {
            unexpected(p, t, "operand");
            goto fail;
        }
        break;
    }
    if (c->nargs == 0) {
        perr(p, c->pos, "empty command");
        goto fail;
    }
    return c;
fail:
    cmd_free(c);
    return NULL;
}

static int declare(struct parser *p, struct pipe *pp, const struct tok *t, bool assign)
{
    const char *s = p->src + t->pos;
    if (assign && !var_defined(p, s, t->len))
        return perr(p, t->pos, "undefined variable \"%.*s\"", (int)t->len, s);
    pp->decl[pp->ndecl] = xstrndup(s, t->len);
    if (!assign)
        PUSH(p->vars, p->nvars, pp->decl[pp->ndecl]);
    pp->ndecl++;
    return 0;
}

static struct pipe *parse_pipeline(struct parser *p, const char *ctx, enum tok_kind end)
{
    struct pipe *pp = xcalloc(1, sizeof *pp);
    struct tok *t = peek_nonspace(p);
    pp->pos = t->pos;
    if (t->kind == TK_VAR) {
        size_t save = p->cur;
        next_tok(p);
        struct tok *t2 = peek_nonspace(p);
        if (t2->kind == TK_DECLARE || t2->kind == TK_ASSIGN) {
            next_tok(p);
            pp->is_assign = t2->kind == TK_ASSIGN;
            if (declare(p, pp, t, pp->is_assign) < 0)
                goto fail;
        } else if (t2->kind == TK_COMMA && strcmp(ctx, "range") == 0) {
            next_tok(p);
            struct tok *t3 = peek_nonspace(p);
            if (t3->kind != TK_VAR) {
                unexpected(p, t3, "range");
                goto fail;
            }
            next_tok(p);
            struct tok *t4 = peek_nonspace(p);
            if (t4->kind != TK_DECLARE && t4->kind != TK_ASSIGN) {
                unexpected(p, t4, "range");
                goto fail;
            }
            next_tok(p);
            pp->is_assign = t4->kind == TK_ASSIGN;
            if (declare(p, pp, t, pp->is_assign) < 0 || declare(p, pp, t3, pp->is_assign) < 0)
                goto fail;
        } else if (t2->kind == TK_COMMA) {
            perr(p, t2->pos, "too many declarations in %s", ctx);
            goto fail;
        } else {
            p->cur = save;
        }
    }
    for (;;) {
        t = peek_nonspace(p);
        if (t->kind == end) {
            next_tok(p);
            break;
        }
        switch (t->kind) {
        case TK_BOOL:
        case TK_CHAR:
        case TK_DOT:
        case TK_FIELD:
        case TK_IDENT:
        case TK_NUMBER:
        case TK_NIL:
        case TK_RAWSTRING:
        case TK_STRING:
        case TK_VAR:
        case TK_LPAREN:
        case TK_PIPE: {
            struct cmd *c = parse_command(p);
            if (c == NULL)
                goto fail;
            PUSH(pp->cmds, pp->ncmds, c);
            break;
        }
        default:
            unexpected(p, t, ctx);
            goto fail;
        }
    }
    if (pp->ncmds == 0) {
        perr(p, pp->pos, "missing value for %s", ctx);
        goto fail;
    }
    for (size_t i = 1; i < pp->ncmds; i++) {
        switch (pp->cmds[i]->args[0]->kind) {
        case ARG_BOOL:
        case ARG_DOT:
        case ARG_NIL:
        case ARG_INT:
        case ARG_FLOAT:
        case ARG_STRING:
            perr(p, pp->cmds[i]->pos, "non executable command in pipeline stage %zu", i + 1);
            goto fail;
        default:
            break;
        }
    }
    return pp;
fail:
    pipe_free(pp);
    return NULL;
}

static int expect_rdelim(struct parser *p, const char *ctx)
{
    struct tok *t = peek_nonspace(p);
    if (t->kind != TK_RDELIM)
        return unexpected(p, t, ctx);
    next_tok(p);
    return 0;
}

enum list_end { END_EOF, END_END, END_ELSE };

static int parse_list(struct parser *p, struct list *l, enum list_end *how);

static struct node *parse_control(struct parser *p, enum node_kind kind, size_t pos)
{
    const char *ctx = kind == NODE_IF ? "if" : kind == NODE_RANGE ? "range" : "with";
    size_t mark = p->nvars;
    enum list_end how;
    struct node *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->pos = pos;
    if (++p->depth > MAX_DEPTH) {
        perr(p, pos, "max nesting depth exceeded");
        goto fail;
    }
    n->pipe = parse_pipeline(p, ctx, TK_RDELIM);
    if (n->pipe == NULL)
        goto fail;
    if (kind == NODE_RANGE)
        p->range_depth++;
    int rc = parse_list(p, &n->body, &how);
    if (kind == NODE_RANGE)
        p->range_depth--;
    if (rc < 0)
        goto fail;
    if (how == END_EOF) {
        perr(p, p->n, "unexpected EOF");
        goto fail;
    }
    if (how == END_ELSE) {
        struct tok *t = peek_nonspace(p);
        if ((kind == NODE_IF && t->kind == TK_IF) || (kind == NODE_WITH && t->kind == TK_WITH)) {
            /* {{else if X}} is {{else}}{{if X}}...{{end}} sharing the outer {{end}} */
            next_tok(p);
            struct node *sub = parse_control(p, kind, t->pos);
            if (sub == NULL)
                goto fail;
            PUSH(n->else_body.v, n->else_body.n, sub);
        } else {
            if (expect_rdelim(p, "else") < 0 || parse_list(p, &n->else_body, &how) < 0)
                goto fail;
            if (how == END_EOF) {
                perr(p, p->n, "unexpected EOF");
                goto fail;
            }
            if (how == END_ELSE) {
                perr(p, p->toks[p->cur - 1].pos, "expected end; found {{else}}");
                goto fail;
            }
        }
    }
    p->nvars = mark;
    p->depth--;
    return n;
fail:
    p->nvars = mark;
    node_free(n);
    return NULL;
}

static int parse_list(struct parser *p, struct list *l, enum list_end *how)
{
    for (;;) {
        struct tok *t = peek(p);
        struct node *n = NULL;
        if (t->kind == TK_EOF) {
            *how = END_EOF;
            return 0;
        }
        if (t->kind == TK_TEXT) {
            next_tok(p);
            n = xcalloc(1, sizeof *n);
            n->kind = NODE_TEXT;
            n->pos = t->pos;
            n->text = p->src + t->pos;
            n->len = t->len;
            PUSH(l->v, l->n, n);
            continue;
        }
        if (t->kind != TK_LDELIM)
            return unexpected(p, t, "input");
        next_tok(p);
        t = peek_nonspace(p);
        switch (t->kind) {
        case TK_END:
            next_tok(p);
            if (expect_rdelim(p, "end") < 0)
                return -1;
            *how = END_END;
            return 0;
        case TK_ELSE:
            next_tok(p);
            *how = END_ELSE;
            return 0;
        case TK_IF:
        case TK_RANGE:
        case TK_WITH:
            next_tok(p);
            n = parse_control(p,
                              t->kind == TK_IF      ? NODE_IF
                              : t->kind == TK_RANGE ? NODE_RANGE
                                                    : NODE_WITH,
                              t->pos);
            if (n == NULL)
                return -1;
            break;
        case TK_BREAK:
        case TK_CONTINUE: {
            const char *word = t->kind == TK_BREAK ? "break" : "continue";
            if (p->range_depth == 0)
                return perr(p, t->pos, "{{%s}} outside {{range}}", word);
            next_tok(p);
            if (expect_rdelim(p, word) < 0)
                return -1;
            n = xcalloc(1, sizeof *n);
            n->kind = t->kind == TK_BREAK ? NODE_BREAK : NODE_CONTINUE;
            n->pos = t->pos;
            break;
        }
        case TK_DEFINE:
        case TK_TEMPLATE:
        case TK_BLOCK:
            return perr(p, t->pos, "{{%.*s}} is not supported", (int)t->len, p->src + t->pos);
        default: {
            struct pipe *pp = parse_pipeline(p, "command", TK_RDELIM);
            if (pp == NULL)
                return -1;
            n = xcalloc(1, sizeof *n);
            n->kind = NODE_ACTION;
            n->pos = pp->pos;
            n->pipe = pp;
            break;
        }
        }
        PUSH(l->v, l->n, n);
    }
}

int mk_template_parse(const char *text, struct mk_template **out, mk_err **err)
{
    struct mk_template *t = xcalloc(1, sizeof *t);
    t->src = xstrdup(text);
    t->n = strlen(text);
    struct parser p = {.src = t->src, .n = t->n};
    static const char dollar[] = "$";
    PUSH(p.vars, p.nvars, dollar);
    enum list_end how = END_EOF;
    int rc = lex(&p);
    if (rc == 0)
        rc = parse_list(&p, &t->root, &how);
    if (rc == 0 && how != END_EOF)
        rc = perr(&p, p.toks[p.cur > 0 ? p.cur - 1 : 0].pos, "unexpected {{%s}}",
                  how == END_END ? "end" : "else");
    free(p.toks);
    free(p.vars);
    if (rc < 0) {
        mk_err_set(err, MK_ERR_INVALID, "template parsing error: %s",
                   p.errmsg ? p.errmsg : "template: :1: invalid template");
        free(p.errmsg);
        mk_template_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

/* ------------------------------------------------------------------ */
/* execution                                                           */

struct var {
    const char *name;
    json_t *val;
};

enum flow { FLOW_NONE, FLOW_BREAK, FLOW_CONTINUE };

struct exec {
    const struct mk_template *t;
    mk_buf *out;
    struct var *vars;
    size_t nvars;
    bool header;
    enum flow flow;
    bool failed;
    mk_err **err;
};

static void xerr(struct exec *ex, size_t pos, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void xerr(struct exec *ex, size_t pos, size_t len, const char *fmt, ...)
{
    if (ex->failed)
        return;
    ex->failed = true;
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    const char *src = ex->t->src;
    if (pos > ex->t->n)
        pos = ex->t->n;
    if (pos + len > ex->t->n)
        len = ex->t->n - pos;
    size_t col = pos;
    for (size_t i = 0; i < pos; i++)
        if (src[i] == '\n')
            col = pos - i - 1;
    mk_err_set(ex->err, MK_ERR_INVALID, "template: :%d:%zu: executing \"\" at <%.*s>: %s",
               line_of(src, pos), col, (int)len, src + pos, msg);
}

static void push_var(struct exec *ex, const char *name, json_t *val)
{
    ex->vars = xrealloc(ex->vars, (ex->nvars + 1) * sizeof(struct var));
    ex->vars[ex->nvars++] = (struct var){name, json_incref(val)};
}

static void pop_vars(struct exec *ex, size_t mark)
{
    while (ex->nvars > mark) {
        ex->nvars--;
        json_decref(ex->vars[ex->nvars].val);
    }
}

static struct var *find_var(struct exec *ex, const char *name)
{
    for (size_t i = ex->nvars; i-- > 0;)
        if (strcmp(ex->vars[i].name, name) == 0)
            return &ex->vars[i];
    return NULL;
}

static void set_var(struct var *v, json_t *val)
{
    json_incref(val);
    json_decref(v->val);
    v->val = val;
}

static json_t *eval_pipe(struct exec *ex, json_t *dot, const struct pipe *pp, bool declare_vars);
static json_t *eval_arg(struct exec *ex, json_t *dot, const struct arg *a);

/* "Labels" as an object, or docker's "k=v,k2=v2" string form. */
static json_t *label_lookup(const json_t *obj, const char *key)
{
    const json_t *labels = json_object_get(obj, "Labels");
    if (json_is_object(labels)) {
        const json_t *v = json_object_get(labels, key);
        return json_is_string(v) ? json_incref((json_t *)v) : json_string("");
    }
    if (json_is_string(labels)) {
        const char *s = json_string_value(labels);
        size_t klen = strlen(key);
        while (*s) {
            const char *comma = strchr(s, ',');
            size_t len = comma ? (size_t)(comma - s) : strlen(s);
            if (len > klen && strncmp(s, key, klen) == 0 && s[klen] == '=')
                return new_string(s + klen + 1, len - klen - 1);
            s += len + (comma ? 1 : 0);
        }
    }
    return json_string("");
}

/* One field access: recv.name, with method arguments (only docker's .Label). */
static json_t *eval_field(struct exec *ex, json_t *dot, const struct arg *node, const char *name,
                          const struct arg *const *args, size_t nargs, bool has_final,
                          json_t *final, json_t *recv)
{
    bool has_args = nargs > 0 || has_final;
    if (recv == NULL)
        return NULL;
    if (json_is_null(recv)) {
        xerr(ex, node->pos, node->len, "nil pointer evaluating interface {}.%s", name);
        return NULL;
    }
    if (!json_is_object(recv)) {
        xerr(ex, node->pos, node->len, "can't evaluate field %s in type %s", name, type_name(recv));
        return NULL;
    }
    json_t *v = json_object_get(recv, name);
    if (has_args) {
        if (!ex->header && v == NULL && strcmp(name, "Label") == 0 && nargs + has_final == 1) {
            json_t *key = has_final ? json_incref(final) : eval_arg(ex, dot, args[0]);
            json_t *res = NULL;
            if (!ex->failed && !json_is_string(key))
                xerr(ex, node->pos, node->len, "wrong type for value; expected string; got %s",
                     type_name(key));
            else if (!ex->failed)
                res = label_lookup(recv, json_string_value(key));
            json_decref(key);
            return res;
        }
        xerr(ex, node->pos, node->len, "%s is not a method but has arguments", name);
        return NULL;
    }
    if (v == NULL && ex->header)
        return json_string(name);
    return json_incref(v);
}

static json_t *eval_chain(struct exec *ex, json_t *dot, json_t *recv, const struct arg *node,
                          const struct arg *const *args, size_t nargs, bool has_final,
                          json_t *final)
{
    json_t *cur = json_incref(recv);
    for (size_t i = 0; i < node->nfields; i++) {
        bool last = i + 1 == node->nfields;
        json_t *nv = eval_field(ex, dot, node, node->fields[i], last ? args : NULL,
                                last ? nargs : 0, last && has_final, last ? final : NULL, cur);
        json_decref(cur);
        cur = nv;
        if (ex->failed) {
            json_decref(cur);
            return NULL;
        }
    }
    return cur;
}

static json_t *call_func(struct exec *ex, json_t *dot, const struct arg *fn,
                         const struct arg *const *args, size_t nargs, bool has_final,
                         json_t *final);

/* The value of a term: what a variable, field or parenthesized pipeline
 * refers to before its field chain is applied. */
static json_t *eval_term(struct exec *ex, json_t *dot, const struct arg *a)
{
    switch (a->kind) {
    case ARG_DOT:
        return json_incref(dot);
    case ARG_FIELD:
        return json_incref(dot);
    case ARG_VAR: {
        struct var *v = find_var(ex, a->s);
        if (v == NULL) {
            xerr(ex, a->pos, a->len, "undefined variable: %s", a->s);
            return NULL;
        }
        return json_incref(v->val);
    }
    case ARG_PIPE:
        return eval_pipe(ex, dot, a->pipe, false);
    case ARG_NIL:
        return json_null();
    case ARG_BOOL:
        return json_boolean(a->b);
    case ARG_INT:
        return json_integer(a->i);
    case ARG_FLOAT:
        return json_real(a->f);
    case ARG_STRING:
        return new_string(a->s, a->slen);
    case ARG_FUNC:
        return call_func(ex, dot, a, NULL, 0, false, NULL);
    default:
        return NULL;
    }
}

static json_t *eval_arg(struct exec *ex, json_t *dot, const struct arg *a)
{
    json_t *base = eval_term(ex, dot, a);
    if (ex->failed || a->nfields == 0 || a->kind == ARG_FUNC)
        return base;
    json_t *r = eval_chain(ex, dot, base, a, NULL, 0, false, NULL);
    json_decref(base);
    return r;
}

static json_t *eval_cmd(struct exec *ex, json_t *dot, const struct cmd *c, bool has_final,
                        json_t *final)
{
    const struct arg *first = c->args[0];
    const struct arg *const *rest = (const struct arg *const *)c->args + 1;
    size_t nrest = c->nargs - 1;
    if (first->kind == ARG_FUNC)
        return call_func(ex, dot, first, rest, nrest, has_final, final);
    if (first->nfields > 0 && first->kind != ARG_NIL) {
        json_t *base = eval_term(ex, dot, first);
        if (ex->failed)
            return NULL;
        json_t *r = eval_chain(ex, dot, base, first, rest, nrest, has_final, final);
        json_decref(base);
        return r;
    }
    if (nrest > 0 || has_final) {
        xerr(ex, first->pos, first->len, "can't give argument to non-function %.*s",
             (int)first->len, ex->t->src + first->pos);
        return NULL;
    }
    if (first->kind == ARG_NIL) {
        xerr(ex, first->pos, first->len, "nil is not a command");
        return NULL;
    }
    return eval_term(ex, dot, first);
}

static json_t *eval_pipe(struct exec *ex, json_t *dot, const struct pipe *pp, bool declare_vars)
{
    json_t *val = NULL;
    for (size_t i = 0; i < pp->ncmds; i++) {
        json_t *nv = eval_cmd(ex, dot, pp->cmds[i], i > 0, val);
        json_decref(val);
        val = nv;
        if (ex->failed) {
            json_decref(val);
            return NULL;
        }
        /* Go unwraps interface values between commands: a JSON null becomes
         * the invalid value, printed as <no value>. */
        if (json_is_null(val)) {
            json_decref(val);
            val = NULL;
        }
    }
    if (declare_vars) {
        for (size_t i = 0; i < pp->ndecl; i++) {
            struct var *v = pp->is_assign ? find_var(ex, pp->decl[i]) : NULL;
            if (v)
                set_var(v, val);
            else
                push_var(ex, pp->decl[i], val);
        }
    }
    return val;
}

static void print_top(mk_buf *b, const json_t *v)
{
    if (v == NULL || json_is_null(v))
        mk_buf_puts(b, "<no value>");
    else
        print_value(b, v);
}

static void walk_list(struct exec *ex, json_t *dot, const struct list *l);

static void walk_range(struct exec *ex, json_t *dot, const struct node *n)
{
    size_t mark = ex->nvars;
    const struct pipe *pp = n->pipe;
    json_t *val = eval_pipe(ex, dot, pp, false);
    if (ex->failed)
        return;
    struct var *dvars[2] = {NULL, NULL};
    for (size_t i = 0; i < pp->ndecl; i++) {
        if (pp->is_assign) {
            dvars[i] = find_var(ex, pp->decl[i]);
        } else {
            push_var(ex, pp->decl[i], val);
        }
    }
    if (!pp->is_assign)
        for (size_t i = 0; i < pp->ndecl; i++)
            dvars[i] = &ex->vars[mark + i];
    /* dvars may move when the body pushes variables: remember indexes */
    size_t idx[2] = {0, 0};
    for (size_t i = 0; i < pp->ndecl; i++)
        idx[i] = dvars[i] ? (size_t)(dvars[i] - ex->vars) : (size_t)-1;

    size_t count = 0;
    const char **keys = NULL;
    if (val == NULL) {
        count = 0;
    } else if (json_is_array(val)) {
        count = json_array_size(val);
    } else if (json_is_object(val)) {
        keys = sorted_keys(val, &count);
    } else if (json_is_integer(val)) {
        if (pp->ndecl > 1) {
            xerr(ex, pp->pos, 0,
                 "can't use %" JSON_INTEGER_FORMAT " to iterate over more than one variable",
                 json_integer_value(val));
            goto out;
        }
        count = json_integer_value(val) > 0 ? (size_t)json_integer_value(val) : 0;
    } else {
        mk_buf tmp = {0};
        print_value(&tmp, val);
        xerr(ex, n->pos, 5, "range can't iterate over %s", tmp.data ? tmp.data : "");
        mk_buf_free(&tmp);
        goto out;
    }
    for (size_t i = 0; i < count && !ex->failed; i++) {
        json_t *index, *elem;
        if (keys) {
            index = json_string(keys[i]);
            elem = json_incref(json_object_get(val, keys[i]));
        } else if (json_is_array(val)) {
            index = json_integer((json_int_t)i);
            elem = json_incref(json_array_get(val, i));
        } else {
            index = json_integer((json_int_t)i);
            elem = json_incref(index);
        }
        if (pp->ndecl == 1 && idx[0] != (size_t)-1)
            set_var(&ex->vars[idx[0]], elem);
        if (pp->ndecl == 2) {
            if (idx[0] != (size_t)-1)
                set_var(&ex->vars[idx[0]], index);
            if (idx[1] != (size_t)-1)
                set_var(&ex->vars[idx[1]], elem);
        }
        size_t imark = ex->nvars;
        walk_list(ex, elem, &n->body);
        pop_vars(ex, imark);
        json_decref(index);
        json_decref(elem);
        enum flow f = ex->flow;
        ex->flow = FLOW_NONE;
        if (f == FLOW_BREAK)
            break;
    }
    if (count == 0 && !ex->failed)
        walk_list(ex, dot, &n->else_body);
out:
    free(keys);
    json_decref(val);
    pop_vars(ex, mark);
}

static void walk(struct exec *ex, json_t *dot, const struct node *n)
{
    switch (n->kind) {
    case NODE_TEXT:
        buf_add(ex->out, n->text, n->len);
        break;
    case NODE_ACTION: {
        json_t *v = eval_pipe(ex, dot, n->pipe, true);
        if (!ex->failed && n->pipe->ndecl == 0)
            print_top(ex->out, v);
        json_decref(v);
        break;
    }
    case NODE_IF:
    case NODE_WITH: {
        size_t mark = ex->nvars;
        json_t *v = eval_pipe(ex, dot, n->pipe, true);
        if (!ex->failed) {
            if (truthy(v))
                walk_list(ex, n->kind == NODE_WITH ? v : dot, &n->body);
            else
                walk_list(ex, dot, &n->else_body);
        }
        json_decref(v);
        pop_vars(ex, mark);
        break;
    }
    case NODE_RANGE:
        walk_range(ex, dot, n);
        break;
    case NODE_BREAK:
        ex->flow = FLOW_BREAK;
        break;
    case NODE_CONTINUE:
        ex->flow = FLOW_CONTINUE;
        break;
    default:
        break;
    }
}

static void walk_list(struct exec *ex, json_t *dot, const struct list *l)
{
    for (size_t i = 0; i < l->n && !ex->failed && ex->flow == FLOW_NONE; i++)
        walk(ex, dot, l->v[i]);
}

static int render(const struct mk_template *t, const json_t *data, bool header, mk_buf *out,
                  mk_err **err)
{
    struct exec ex = {.t = t, .out = out, .header = header, .err = err};
    json_t *root = (json_t *)data;
    push_var(&ex, "$", root);
    walk_list(&ex, root, &t->root);
    pop_vars(&ex, 0);
    free(ex.vars);
    return ex.failed ? -1 : 0;
}

int mk_template_render(const struct mk_template *t, const json_t *data, mk_buf *out, mk_err **err)
{
    return render(t, data, false, out, err);
}

int mk_template_render_header(const struct mk_template *t, const json_t *headers, mk_buf *out,
                              mk_err **err)
{
    return render(t, headers, true, out, err);
}

/* ------------------------------------------------------------------ */
/* builtin functions                                                   */

static bool want_string(struct exec *ex, const struct arg *at, const json_t *v)
{
    if (v == NULL || json_is_null(v)) {
        xerr(ex, at->pos, at->len, "invalid value; expected string");
        return false;
    }
    if (!json_is_string(v)) {
        xerr(ex, at->pos, at->len, "wrong type for value; expected string; got %s", type_name(v));
        return false;
    }
    return true;
}

static bool want_int(struct exec *ex, const struct arg *at, const json_t *v, long long *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (v == NULL || json_is_null(v))
        xerr(ex, at->pos, at->len, "invalid value; expected int");
    else
        xerr(ex, at->pos, at->len, "wrong type for value; expected int; got %s", type_name(v));
    return false;
}

static json_t *fn_not(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    return json_boolean(!truthy(argv[0]));
}

static json_t *fn_len(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    json_t *v = argv[0];
    if (json_is_string(v))
        return json_integer((json_int_t)json_string_length(v));
    if (json_is_array(v))
        return json_integer((json_int_t)json_array_size(v));
    if (json_is_object(v))
        return json_integer((json_int_t)json_object_size(v));
    if (json_is_null(v)) /* a nil map or slice of docker's typed data */
        return json_integer(0);
    if (v == NULL)
        xerr(ex, at->pos, at->len, "error calling len: len of nil pointer");
    else
        xerr(ex, at->pos, at->len, "error calling len: len of type %s", type_name(v));
    return NULL;
}

/* A missing key of a map of strings (docker's Labels, Options) reads as "" as Go's
 * zero value does; of any other map it is nil. */
static json_t *missing_key(const json_t *obj)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)obj, k, v)
    {
        if (!json_is_string(v))
            return NULL;
    }
    return json_string("");
}

static json_t *fn_index(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    json_t *item = json_incref(argv[0]);
    for (size_t i = 1; i < argc; i++) {
        json_t *key = argv[i], *next = NULL;
        if (json_is_null(item) && json_is_string(key)) {
            /* docker's data are typed: a null map is a nil map[string]string */
            next = json_string("");
        } else if (json_is_null(item) && json_is_integer(key)) {
            xerr(ex, at->pos, at->len,
                 "error calling index: index out of range: %" JSON_INTEGER_FORMAT,
                 json_integer_value(key));
        } else if (item == NULL || json_is_null(item)) {
            xerr(ex, at->pos, at->len, "error calling index: index of untyped nil");
        } else if (json_is_object(item)) {
            if (!json_is_string(key)) {
                xerr(ex, at->pos, at->len,
                     "error calling index: value has type %s; should be string", type_name(key));
            } else {
                next = json_object_get(item, json_string_value(key));
                next = next ? json_incref(next) : missing_key(item);
            }
        } else if (json_is_array(item) || json_is_string(item)) {
            size_t len = json_is_array(item) ? json_array_size(item) : json_string_length(item);
            if (!json_is_integer(key)) {
                xerr(ex, at->pos, at->len,
                     "error calling index: cannot index slice/array with type %s", type_name(key));
            } else if (json_integer_value(key) < 0 || (size_t)json_integer_value(key) >= len) {
                xerr(ex, at->pos, at->len,
                     "error calling index: index out of range: %" JSON_INTEGER_FORMAT,
                     json_integer_value(key));
            } else if (json_is_array(item)) {
                next = json_incref(json_array_get(item, (size_t)json_integer_value(key)));
            } else {
                next =
                    json_integer((unsigned char)json_string_value(item)[json_integer_value(key)]);
            }
        } else {
            xerr(ex, at->pos, at->len, "error calling index: can't index item of type %s",
                 type_name(item));
        }
        json_decref(item);
        item = next;
        if (ex->failed) {
            json_decref(item);
            return NULL;
        }
    }
    return item;
}

/* fmt.Sprint: spaces between operands when neither side is a string. */
static json_t *fn_print(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    mk_buf b = {0};
    for (size_t i = 0; i < argc; i++) {
        if (i > 0 && !json_is_string(argv[i]) && !json_is_string(argv[i - 1]))
            buf_addc(&b, ' ');
        print_value(&b, argv[i]);
    }
    return buf_to_string(&b);
}

static json_t *fn_println(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    mk_buf b = {0};
    for (size_t i = 0; i < argc; i++) {
        if (i > 0)
            buf_addc(&b, ' ');
        print_value(&b, argv[i]);
    }
    buf_addc(&b, '\n');
    return buf_to_string(&b);
}

/* ---- printf ---- */

struct fmtspec {
    bool minus, plus, sharp, space, zero;
    long width, prec; /* -1: unset */
    char verb;
};

/* Pad s to the width (counted in runes) as fmt does. */
static void pad_out(mk_buf *b, const struct fmtspec *fs, const char *s, size_t n, bool numeric)
{
    long w = (long)utf8_count(s, n);
    long padn = fs->width > w ? fs->width - w : 0;
    if (fs->minus) {
        buf_add(b, s, n);
        buf_repeat(b, ' ', padn);
        return;
    }
    if (fs->zero && padn > 0) {
        /* zeros go after the sign of a number */
        if (numeric && n > 0 && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) {
            buf_addc(b, s[0]);
            s++, n--;
        }
        buf_repeat(b, '0', padn);
        buf_add(b, s, n);
        return;
    }
    buf_repeat(b, ' ', padn);
    buf_add(b, s, n);
}

static void fmt_bad_verb(mk_buf *b, uint32_t verb, const json_t *v)
{
    mk_buf_puts(b, "%!");
    utf8_encode(b, verb);
    buf_addc(b, '(');
    if (v == NULL || json_is_null(v)) {
        mk_buf_puts(b, "<nil>");
    } else {
        mk_buf_puts(b, type_name(v));
        buf_addc(b, '=');
        print_value(b, v);
    }
    buf_addc(b, ')');
}

static void fmt_integer(mk_buf *b, const struct fmtspec *fs, long long v)
{
    char digits[80];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int base = fs->verb == 'x' || fs->verb == 'X' ? 16
               : fs->verb == 'o'                  ? 8
               : fs->verb == 'b'                  ? 2
                                                  : 10;
    const char *dig = fs->verb == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0;
    do {
        digits[n++] = dig[u % (unsigned)base];
        u /= (unsigned)base;
    } while (u > 0 && n < 70);
    mk_buf s = {0};
    if (v < 0)
        buf_addc(&s, '-');
    else if (fs->plus)
        buf_addc(&s, '+');
    else if (fs->space)
        buf_addc(&s, ' ');
    if (fs->sharp && base == 16)
        mk_buf_puts(&s, fs->verb == 'X' ? "0X" : "0x");
    if (fs->sharp && base == 8)
        buf_addc(&s, '0');
    for (long k = n; k < fs->prec; k++)
        buf_addc(&s, '0');
    while (n > 0)
        buf_addc(&s, digits[--n]);
    struct fmtspec f2 = *fs;
    if (fs->prec >= 0)
        f2.zero = false;
    pad_out(b, &f2, s.data, s.len, true);
    mk_buf_free(&s);
}

static void fmt_floatv(mk_buf *b, const struct fmtspec *fs, double d)
{
    mk_buf s = {0};
    if (!signbit(d) && fs->plus)
        buf_addc(&s, '+');
    else if (!signbit(d) && fs->space)
        buf_addc(&s, ' ');
    char verb = fs->verb;
    if ((verb == 'v' || verb == 'g' || verb == 'G') && fs->prec < 0) {
        fmt_float_v(&s, d);
    } else if (isnan(d) || isinf(d)) {
        mk_buf_puts(&s, isnan(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf");
    } else {
        int prec = fs->prec < 0 ? 6 : (int)(fs->prec > 100 ? 100 : fs->prec);
        switch (verb) {
        case 'e':
            mk_buf_printf(&s, "%.*e", prec, d);
            break;
        case 'E':
            mk_buf_printf(&s, "%.*E", prec, d);
            break;
        case 'g':
        case 'v':
            mk_buf_printf(&s, "%.*g", prec, d);
            break;
        case 'G':
            mk_buf_printf(&s, "%.*G", prec, d);
            break;
        default:
            mk_buf_printf(&s, "%.*f", prec, d);
            break;
        }
    }
    pad_out(b, fs, s.data ? s.data : "", s.len, true);
    mk_buf_free(&s);
}

static void fmt_one(mk_buf *b, const struct fmtspec *fs, const json_t *v)
{
    char verb = fs->verb;
    if (json_is_array(v) && verb != 'T') {
        /* fmt applies the verb to each element */
        buf_addc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0)
                buf_addc(b, ' ');
            fmt_one(b, fs, json_array_get(v, i));
        }
        buf_addc(b, ']');
        return;
    }
    if (verb == 'T') {
        pad_out(b, fs, type_name(v), strlen(type_name(v)), false);
        return;
    }
    switch (json_typeof(v ? v : json_null())) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        if (verb == 's' || verb == 'v') {
            if (fs->prec >= 0) {
                /* precision counts runes */
                size_t i = 0;
                uint32_t r;
                for (long k = 0; k < fs->prec && i < n; k++)
                    i += utf8_decode(s + i, n - i, &r);
                n = i;
            }
            pad_out(b, fs, s, n, false);
        } else if (verb == 'q') {
            mk_buf q = {0};
            go_quote(&q, s, n);
            pad_out(b, fs, q.data, q.len, false);
            mk_buf_free(&q);
        } else if (verb == 'x' || verb == 'X') {
            mk_buf h = {0};
            for (size_t i = 0; i < n; i++)
                mk_buf_printf(&h, verb == 'x' ? "%02x" : "%02X", (unsigned char)s[i]);
            pad_out(b, fs, h.data ? h.data : "", h.len, false);
            mk_buf_free(&h);
        } else {
            fmt_bad_verb(b, (unsigned char)verb, v);
        }
        break;
    }
    case JSON_INTEGER: {
        long long i = json_integer_value(v);
        if (strchr("vdxXob", verb)) {
            fmt_integer(b, fs, i);
        } else if (strchr("eEfFgG", verb)) {
            fmt_floatv(b, fs, (double)i);
        } else if (verb == 'c' || verb == 'q') {
            mk_buf s = {0};
            if (verb == 'q')
                buf_addc(&s, '\'');
            utf8_encode(&s, i < 0 || i > 0x10FFFF ? 0xFFFD : (uint32_t)i);
            if (verb == 'q')
                buf_addc(&s, '\'');
            pad_out(b, fs, s.data, s.len, false);
            mk_buf_free(&s);
        } else {
            fmt_bad_verb(b, (unsigned char)verb, v);
        }
        break;
    }
    case JSON_REAL:
        if (strchr("veEfFgG", verb))
            fmt_floatv(b, fs, json_real_value(v));
        else
            fmt_bad_verb(b, (unsigned char)verb, v);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        if (verb == 't' || verb == 'v')
            pad_out(b, fs, json_is_true(v) ? "true" : "false", json_is_true(v) ? 4 : 5, false);
        else
            fmt_bad_verb(b, (unsigned char)verb, v);
        break;
    case JSON_OBJECT: {
        size_t n;
        _cleanup_free_ const char **keys = sorted_keys(v, &n);
        mk_buf_puts(b, "map[");
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                buf_addc(b, ' ');
            json_t *key = json_string(keys[i]);
            fmt_one(b, fs, key);
            json_decref(key);
            buf_addc(b, ':');
            fmt_one(b, fs, json_object_get(v, keys[i]));
        }
        buf_addc(b, ']');
        break;
    }
    case JSON_NULL:
    case JSON_ARRAY:
    default:
        if (verb == 'v')
            pad_out(b, fs, "<nil>", 5, false);
        else
            fmt_bad_verb(b, (unsigned char)verb, NULL);
        break;
    }
}

static json_t *fn_printf(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    if (!want_string(ex, at, argv[0]))
        return NULL;
    const char *f = json_string_value(argv[0]);
    size_t n = json_string_length(argv[0]), argi = 1;
    mk_buf b = {0};
    for (size_t i = 0; i < n;) {
        if (f[i] != '%') {
            buf_addc(&b, f[i++]);
            continue;
        }
        i++;
        struct fmtspec fs = {.width = -1, .prec = -1};
        for (; i < n; i++) {
            char c = f[i];
            if (c == '-')
                fs.minus = true;
            else if (c == '+')
                fs.plus = true;
            else if (c == '#')
                fs.sharp = true;
            else if (c == ' ')
                fs.space = true;
            else if (c == '0')
                fs.zero = !fs.minus;
            else
                break;
        }
        if (i < n && f[i] == '*') {
            i++;
            long long w = 0;
            if (argi < argc && json_is_integer(argv[argi]))
                w = json_integer_value(argv[argi]);
            else
                mk_buf_puts(&b, "%!(BADWIDTH)");
            argi++;
            if (w < 0)
                fs.minus = true, w = -w;
            fs.width = w > 1000000 ? 1000000 : (long)w;
        } else {
            while (i < n && f[i] >= '0' && f[i] <= '9' && fs.width < 1000000)
                fs.width = (fs.width < 0 ? 0 : fs.width * 10) + (f[i++] - '0');
        }
        if (i < n && f[i] == '.') {
            i++;
            fs.prec = 0;
            if (i < n && f[i] == '*') {
                i++;
                long long pr = 0;
                if (argi < argc && json_is_integer(argv[argi]))
                    pr = json_integer_value(argv[argi]);
                else
                    mk_buf_puts(&b, "%!(BADPREC)");
                argi++;
                fs.prec = pr < 0 ? -1 : pr > 1000000 ? 1000000 : (long)pr;
            } else {
                while (i < n && f[i] >= '0' && f[i] <= '9' && fs.prec < 1000000)
                    fs.prec = fs.prec * 10 + (f[i++] - '0');
            }
        }
        if (fs.minus)
            fs.zero = false;
        if (i >= n) {
            mk_buf_puts(&b, "%!(NOVERB)");
            break;
        }
        uint32_t r;
        size_t l = utf8_decode(f + i, n - i, &r);
        i += l;
        if (r == '%') {
            buf_addc(&b, '%');
            continue;
        }
        if (argi >= argc) {
            mk_buf_puts(&b, "%!");
            utf8_encode(&b, r);
            mk_buf_puts(&b, "(MISSING)");
            continue;
        }
        fs.verb = r < 0x80 ? (char)r : '?';
        if (r >= 0x80 || r == '\0' || !strchr("vsdqtxXobcfFeEgGT", fs.verb))
            fmt_bad_verb(&b, r, argv[argi]);
        else
            fmt_one(&b, &fs, argv[argi]);
        argi++;
    }
    if (argi < argc) {
        mk_buf_puts(&b, "%!(EXTRA ");
        for (size_t k = argi; k < argc; k++) {
            if (k > argi)
                mk_buf_puts(&b, ", ");
            if (argv[k] == NULL || json_is_null(argv[k])) {
                mk_buf_puts(&b, "<nil>");
                continue;
            }
            mk_buf_puts(&b, type_name(argv[k]));
            buf_addc(&b, '=');
            print_value(&b, argv[k]);
        }
        buf_addc(&b, ')');
    }
    return buf_to_string(&b);
}

/* ---- comparisons ---- */

enum kind { K_INVALID, K_BOOL, K_INT, K_FLOAT, K_STRING, K_OTHER };

static enum kind kind_of(const json_t *v)
{
    if (v == NULL || json_is_null(v))
        return K_INVALID;
    if (json_is_boolean(v))
        return K_BOOL;
    if (json_is_integer(v))
        return K_INT;
    if (json_is_real(v))
        return K_FLOAT;
    if (json_is_string(v))
        return K_STRING;
    return K_OTHER;
}

/* -1, 0, 1 for two values of the same basic kind */
static int compare(const json_t *a, const json_t *b, enum kind k)
{
    switch (k) {
    case K_BOOL:
        return json_is_true(a) == json_is_true(b) ? 0 : 1;
    case K_INT:
        return json_integer_value(a) < json_integer_value(b)   ? -1
               : json_integer_value(a) > json_integer_value(b) ? 1
                                                               : 0;
    case K_FLOAT:
        return json_real_value(a) < json_real_value(b)   ? -1
               : json_real_value(a) > json_real_value(b) ? 1
                                                         : 0;
    case K_STRING: {
        size_t la = json_string_length(a), lb = json_string_length(b);
        int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
        if (c != 0)
            return c < 0 ? -1 : 1;
        return la < lb ? -1 : la > lb ? 1 : 0;
    }
    case K_INVALID:
    case K_OTHER:
    default:
        return 0;
    }
}

static int eq_values(struct exec *ex, const struct arg *at, const char *name, json_t **argv,
                     size_t argc)
{
    if (argc < 2) {
        xerr(ex, at->pos, at->len, "error calling %s: missing argument for comparison", name);
        return -1;
    }
    enum kind k1 = kind_of(argv[0]);
    for (size_t i = 1; i < argc; i++) {
        enum kind k2 = kind_of(argv[i]);
        if (k1 != k2) {
            if (k1 != K_INVALID && k2 != K_INVALID) {
                xerr(ex, at->pos, at->len, "error calling %s: incompatible types for comparison",
                     name);
                return -1;
            }
            continue;
        }
        if (k1 == K_OTHER) {
            xerr(ex, at->pos, at->len, "error calling %s: non-comparable type %s", name,
                 type_name(argv[0]));
            return -1;
        }
        if (k1 == K_INVALID || compare(argv[0], argv[i], k1) == 0)
            return 1;
    }
    return 0;
}

static json_t *fn_eq(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    int r = eq_values(ex, at, "eq", argv, argc);
    return r < 0 ? NULL : json_boolean(r);
}

static json_t *fn_ne(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    int r = eq_values(ex, at, "ne", argv, argc);
    return r < 0 ? NULL : json_boolean(!r);
}

static json_t *ordered(struct exec *ex, const struct arg *at, json_t **argv, const char *name)
{
    enum kind k1 = kind_of(argv[0]), k2 = kind_of(argv[1]);
    if (k1 == K_INVALID || k1 == K_OTHER || k1 == K_BOOL || k2 == K_INVALID || k2 == K_OTHER ||
        k2 == K_BOOL) {
        xerr(ex, at->pos, at->len, "error calling %s: invalid type for comparison", name);
        return NULL;
    }
    if (k1 != k2) {
        xerr(ex, at->pos, at->len, "error calling %s: incompatible types for comparison", name);
        return NULL;
    }
    int c = compare(argv[0], argv[1], k1);
    bool r;
    if (strcmp(name, "lt") == 0)
        r = c < 0;
    else if (strcmp(name, "le") == 0)
        r = c <= 0;
    else if (strcmp(name, "gt") == 0)
        r = c > 0;
    else
        r = c >= 0;
    return json_boolean(r);
}

static json_t *fn_lt(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    return ordered(ex, at, argv, "lt");
}

static json_t *fn_le(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    return ordered(ex, at, argv, "le");
}

static json_t *fn_gt(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    return ordered(ex, at, argv, "gt");
}

static json_t *fn_ge(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    return ordered(ex, at, argv, "ge");
}

/* ---- docker's functions ---- */

static json_t *fn_json(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    mk_buf b = {0};
    mk_format_json_go(&b, argv[0]);
    return buf_to_string(&b);
}

static json_t *fn_split(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    if (!want_string(ex, at, argv[0]) || !want_string(ex, at, argv[1]))
        return NULL;
    const char *s = json_string_value(argv[0]), *sep = json_string_value(argv[1]);
    size_t n = json_string_length(argv[0]), sl = json_string_length(argv[1]);
    json_t *arr = json_array();
    if (sl == 0) {
        uint32_t r;
        for (size_t i = 0; i < n;) {
            size_t l = utf8_decode(s + i, n - i, &r);
            json_array_append_new(arr, new_string(s + i, l));
            i += l;
        }
        return arr;
    }
    size_t start = 0;
    for (;;) {
        const char *hit = start <= n ? memmem(s + start, n - start, sep, sl) : NULL;
        if (hit == NULL)
            break;
        json_array_append_new(arr, new_string(s + start, (size_t)(hit - s) - start));
        start = (size_t)(hit - s) + sl;
    }
    json_array_append_new(arr, new_string(s + start, n - start));
    return arr;
}

static json_t *fn_join(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    json_t *arr = argv[0];
    bool ok = json_is_array(arr);
    for (size_t i = 0; ok && i < json_array_size(arr); i++)
        ok = json_is_string(json_array_get(arr, i));
    if (!ok) {
        xerr(ex, at->pos, at->len, "wrong type for value; expected []string; got %s",
             type_name(arr));
        return NULL;
    }
    if (!want_string(ex, at, argv[1]))
        return NULL;
    mk_buf b = {0};
    for (size_t i = 0; i < json_array_size(arr); i++) {
        if (i > 0)
            buf_add(&b, json_string_value(argv[1]), json_string_length(argv[1]));
        json_t *e = json_array_get(arr, i);
        buf_add(&b, json_string_value(e), json_string_length(e));
    }
    return buf_to_string(&b);
}

static json_t *fn_case(struct exec *ex, const struct arg *at, json_t *v, enum case_map how)
{
    if (!want_string(ex, at, v))
        return NULL;
    return map_case(json_string_value(v), json_string_length(v), how);
}

static json_t *fn_upper(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    return fn_case(ex, at, argv[0], CASE_UPPER);
}

static json_t *fn_lower(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    return fn_case(ex, at, argv[0], CASE_LOWER);
}

static json_t *fn_title(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    return fn_case(ex, at, argv[0], CASE_TITLE);
}

static json_t *fn_pad(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    long long before, after;
    if (!want_string(ex, at, argv[0]) || !want_int(ex, at, argv[1], &before) ||
        !want_int(ex, at, argv[2], &after))
        return NULL;
    if (json_string_length(argv[0]) == 0)
        return json_string("");
    if (before < 0 || after < 0 || before > 1000000 || after > 1000000) {
        xerr(ex, at->pos, at->len, "error calling pad: negative Repeat count");
        return NULL;
    }
    mk_buf b = {0};
    buf_repeat(&b, ' ', (long)before);
    buf_add(&b, json_string_value(argv[0]), json_string_length(argv[0]));
    buf_repeat(&b, ' ', (long)after);
    return buf_to_string(&b);
}

static json_t *fn_truncate(struct exec *ex, const struct arg *at, json_t **argv, size_t argc)
{
    long long len;
    if (!want_string(ex, at, argv[0]) || !want_int(ex, at, argv[1], &len))
        return NULL;
    size_t n = json_string_length(argv[0]);
    if ((long long)n < len)
        return json_incref(argv[0]);
    if (len < 0) {
        xerr(ex, at->pos, at->len,
             "error calling truncate: runtime error: slice bounds out of range [:%lld]", len);
        return NULL;
    }
    return new_string(json_string_value(argv[0]), (size_t)len);
}

static const struct func funcs[] = {
    {"and", 1, -1, NULL, false},         {"or", 1, -1, NULL, false},
    {"not", 1, 1, fn_not, false},        {"len", 1, 1, fn_len, false},
    {"index", 1, -1, fn_index, false},   {"print", 0, -1, fn_print, false},
    {"printf", 1, -1, fn_printf, false}, {"println", 0, -1, fn_println, false},
    {"eq", 1, -1, fn_eq, false},         {"ne", 2, 2, fn_ne, false},
    {"lt", 2, 2, fn_lt, false},          {"le", 2, 2, fn_le, false},
    {"gt", 2, 2, fn_gt, false},          {"ge", 2, 2, fn_ge, false},
    {"json", 1, 1, fn_json, true},       {"split", 2, 2, fn_split, true},
    {"join", 2, 2, fn_join, true},       {"title", 1, 1, fn_title, true},
    {"lower", 1, 1, fn_lower, true},     {"upper", 1, 1, fn_upper, true},
    {"pad", 3, 3, fn_pad, false},        {"truncate", 2, 2, fn_truncate, true},
};

static const struct func *find_func(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
        if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0)
            return &funcs[i];
    return NULL;
}

static json_t *call_func(struct exec *ex, json_t *dot, const struct arg *fn,
                         const struct arg *const *args, size_t nargs, bool has_final, json_t *final)
{
    const struct func *f = find_func(fn->s, strlen(fn->s));
    size_t argc = nargs + (has_final ? 1 : 0);
    if (f == NULL) {
        xerr(ex, fn->pos, fn->len, "%s is not a defined function", fn->s);
        return NULL;
    }
    if ((int)argc < f->min || (f->max >= 0 && (int)argc > f->max)) {
        if (f->max < 0)
            xerr(ex, fn->pos, fn->len, "wrong number of args for %s: want at least %d got %zu",
                 fn->s, f->min, argc);
        else
            xerr(ex, fn->pos, fn->len, "wrong number of args for %s: want %d got %zu", fn->s,
                 f->min, argc);
        return NULL;
    }
    if (f->fn == NULL) {
        /* and / or evaluate lazily and return the deciding operand */
        bool is_and = fn->s[0] == 'a';
        json_t *v = NULL;
        for (size_t i = 0; i < argc; i++) {
            json_decref(v);
            v = i < nargs ? eval_arg(ex, dot, args[i]) : json_incref(final);
            if (ex->failed) {
                json_decref(v);
                return NULL;
            }
            if (truthy(v) != is_and)
                break;
        }
        return v;
    }
    json_t **argv = xcalloc(argc + 1, sizeof(json_t *));
    json_t *res = NULL;
    for (size_t i = 0; i < nargs && !ex->failed; i++)
        argv[i] = eval_arg(ex, dot, args[i]);
    if (has_final)
        argv[argc - 1] = json_incref(final);
    if (!ex->failed) {
        if (ex->header && f->header_passthrough) {
            if (want_string(ex, fn, argv[0]))
                res = json_incref(argv[0]);
        } else {
            res = f->fn(ex, fn, argv, argc);
        }
    }
    for (size_t i = 0; i < argc; i++)
        json_decref(argv[i]);
    free(argv);
    if (ex->failed) {
        json_decref(res);
        return NULL;
    }
    return res;
}
