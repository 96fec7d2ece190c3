/* time.c: clocks, RFC 3339 times, and the duration and size notations of Go and
 * docker/go-units, reproduced exactly because their text reaches users through
 * `docker ps`, `--since`, `--memory` and friends. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "util.h"

#define NS_PER_SEC   1000000000LL
#define SECS_PER_DAY 86400LL

int64_t mk_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t mk_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* Proleptic Gregorian calendar <-> days since 1970-01-01, via 400-year eras
 * that start on March 1st so the leap day ends each year. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static char *rfc3339(int64_t ns, bool fixed)
{
    if (ns == 0 && !fixed)
        return xstrdup("0001-01-01T00:00:00Z");
    int64_t secs = floor_div(ns, NS_PER_SEC);
    int64_t frac = ns - secs * NS_PER_SEC;
    int64_t days = floor_div(secs, SECS_PER_DAY);
    int64_t rem = secs - days * SECS_PER_DAY;
    int64_t year;
    int month, day;
    civil_from_days(days, &year, &month, &day);
    mk_buf b = {0};
    mk_buf_printf(&b, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)year, month, day,
                  (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    if (frac != 0 || fixed) {
        /* RFC3339Nano: the fraction without trailing zeros */
        char digits[16];
        snprintf(digits, sizeof digits, "%09lld", (long long)frac);
        size_t n = 9;
        while (!fixed && n > 0 && digits[n - 1] == '0')
            n--;
        mk_buf_append(&b, ".", 1);
        mk_buf_append(&b, digits, n);
    }
    mk_buf_append(&b, "Z", 1);
    return mk_buf_steal(&b);
}

char *mk_time_rfc3339(int64_t ns)
{
    return rfc3339(ns, false);
}

char *mk_time_rfc3339_fixed(int64_t ns)
{
    return rfc3339(ns, true);
}

char *mk_time_go_string(int64_t ns)
{
    time_t secs = (time_t)(ns / 1000000000);
    struct tm tm;
    char buf[80];
    localtime_r(&secs, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
    return xstrdup(buf);
}

/* ---- Go's time.ParseDuration ---- */

static int duration_invalid(const char *orig, mk_err **err)
{
    return mk_err_set(err, MK_ERR_INVALID, "time: invalid duration \"%s\"", orig);
}

int mk_duration_parse(const char *orig, int64_t *out_ns, mk_err **err)
{
    const uint64_t limit = 1ULL << 63;
    const char *s = orig;
    uint64_t d = 0;
    bool neg = false;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (strcmp(s, "0") == 0) {
        *out_ns = 0;
        return 0;
    }
    if (*s == '\0')
        return duration_invalid(orig, err);
    while (*s != '\0') {
        uint64_t v = 0, f = 0;
        double scale = 1;
        if (!(*s == '.' || (*s >= '0' && *s <= '9')))
            return duration_invalid(orig, err);
        const char *p = s;
        for (; *s >= '0' && *s <= '9'; s++) {
            if (v > limit / 10)
                return duration_invalid(orig, err);
            v = v * 10 + (uint64_t)(*s - '0');
            if (v > limit)
                return duration_invalid(orig, err);
        }
        bool pre = s != p, post = false;
        if (*s == '.') {
            s++;
            p = s;
            bool overflow = false;
            for (; *s >= '0' && *s <= '9'; s++) {
                if (overflow)
                    continue;
                if (f > (limit - 1) / 10) {
                    overflow = true;
                    continue;
                }
                uint64_t y = f * 10 + (uint64_t)(*s - '0');
                if (y > limit) {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10;
            }
            post = s != p;
        }
        if (!pre && !post)
            return duration_invalid(orig, err);
        p = s;
        while (*s != '\0' && *s != '.' && !(*s >= '0' && *s <= '9'))
            s++;
        if (s == p)
            return mk_err_set(err, MK_ERR_INVALID, "time: missing unit in duration \"%s\"", orig);
        size_t ul = (size_t)(s - p);
        static const struct {
            const char *name;
            uint64_t ns;
        } units[] = {
            {"ns", 1},
            {"us", 1000},
            {"\xc2\xb5s", 1000}, /* U+00B5 micro sign */
            {"\xce\xbcs", 1000}, /* U+03BC Greek mu */
            {"ms", 1000000},
            {"s", 1000000000ULL},
            {"m", 60ULL * 1000000000ULL},
            {"h", 3600ULL * 1000000000ULL},
        };
        uint64_t unit = 0;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            if (strlen(units[i].name) == ul && memcmp(units[i].name, p, ul) == 0)
                unit = units[i].ns;
        if (unit == 0)
            return mk_err_set(err, MK_ERR_INVALID, "time: unknown unit \"%.*s\" in duration \"%s\"",
                              (int)ul, p, orig);
        if (v > limit / unit)
            return duration_invalid(orig, err);
        v *= unit;
        if (f > 0) {
            v += (uint64_t)((double)f * ((double)unit / scale));
            if (v > limit)
                return duration_invalid(orig, err);
        }
        d += v;
        if (d > limit)
            return duration_invalid(orig, err);
    }
    if (neg) {
        *out_ns = d == limit ? INT64_MIN : -(int64_t)d;
        return 0;
    }
    if (d > limit - 1)
        return duration_invalid(orig, err);
    *out_ns = (int64_t)d;
    return 0;
}

/* ---- time.Parse for the layouts docker's GetTimestamp uses ---- */

enum std {
    STD_NONE,
    STD_YEAR,  /* 2006 */
    STD_MONTH, /* 01 */
    STD_DAY,   /* 02 */
    STD_HOUR,  /* 15 */
    STD_MIN,   /* 04 */
    STD_SEC,   /* 05 */
    STD_FRAC9, /* .999999999 */
    STD_TZ,    /* Z07:00 */
};

static const struct {
    const char *text;
    enum std std;
} std_chunks[] = {
    {"2006", STD_YEAR}, {"Z07:00", STD_TZ}, {".999999999", STD_FRAC9}, {"01", STD_MONTH},
    {"02", STD_DAY},    {"15", STD_HOUR},   {"04", STD_MIN},           {"05", STD_SEC},
};

/* Split layout into literal prefix, std chunk and the rest (Go's nextStdChunk). */
static enum std next_chunk(const char *layout, size_t *prefix_len, size_t *std_len)
{
    for (size_t i = 0; layout[i] != '\0'; i++) {
        for (size_t k = 0; k < sizeof std_chunks / sizeof std_chunks[0]; k++) {
            size_t l = strlen(std_chunks[k].text);
            if (strncmp(layout + i, std_chunks[k].text, l) == 0) {
                *prefix_len = i;
                *std_len = l;
                return std_chunks[k].std;
            }
        }
    }
    *prefix_len = strlen(layout);
    *std_len = 0;
    return STD_NONE;
}

/* 1 or 2 digits (exactly 2 when fixed); -1 on error */
static int getnum(const char **v, bool fixed)
{
    const char *s = *v;
    if (!isdigit((unsigned char)s[0]))
        return -1;
    if (!isdigit((unsigned char)s[1])) {
        if (fixed)
            return -1;
        *v = s + 1;
        return s[0] - '0';
    }
    *v = s + 2;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int parse_err(mk_err **err, const char *layout, const char *value, const char *value_elem,
                     size_t layout_elem_len, const char *layout_elem)
{
    return mk_err_set(err, MK_ERR_INVALID,
                      "parsing time \"%s\" as \"%s\": cannot parse \"%s\" as \"%.*s\"", value,
                      layout, value_elem, (int)layout_elem_len, layout_elem);
}

/* time.ParseInLocation with a fixed zone offset (seconds east of UTC) used when
 * the value carries no zone. */
static int go_time_parse(const char *layout, const char *value, long local_offset, int64_t *out,
                         mk_err **err)
{
    const char *l = layout, *v = value;
    int64_t year = 1;
    int month = 1, day = 1, hour = 0, min = 0, sec = 0;
    long nsec = 0, offset = local_offset;
    for (;;) {
        size_t plen, slen;
        enum std std = next_chunk(l, &plen, &slen);
        for (size_t i = 0; i < plen; i++, v++)
            if (*v != l[i])
                return parse_err(err, layout, value, v, plen - i, l + i);
        if (std == STD_NONE) {
            if (*v != '\0')
                return mk_err_set(err, MK_ERR_INVALID, "parsing time \"%s\": extra text: \"%s\"",
                                  value, v);
            break;
        }
        const char *stdstr = l + plen, *hold = v;
        const char *range = NULL;
        bool bad = false;
        l = stdstr + slen;
        switch (std) {
        case STD_YEAR:
            if (strlen(v) < 4 || !isdigit((unsigned char)v[0]) || !isdigit((unsigned char)v[1]) ||
                !isdigit((unsigned char)v[2]) || !isdigit((unsigned char)v[3])) {
                bad = true;
                break;
            }
            year = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
            v += 4;
            break;
        case STD_MONTH:
            month = getnum(&v, true);
            bad = month < 0;
            if (!bad && (month < 1 || month > 12))
                range = "month";
            break;
        case STD_DAY:
            day = getnum(&v, true);
            bad = day < 0;
            if (!bad && day > 31)
                range = "day";
            break;
        case STD_HOUR:
            hour = getnum(&v, false);
            bad = hour < 0;
            if (!bad && hour >= 24)
                range = "hour";
            break;
        case STD_MIN:
            min = getnum(&v, true);
            bad = min < 0;
            if (!bad && min >= 60)
                range = "minute";
            break;
        case STD_SEC: {
            sec = getnum(&v, true);
            bad = sec < 0;
            if (!bad && sec >= 60) {
                range = "second";
                break;
            }
            size_t pl, sl;
            /* a fraction the layout does not spell out is accepted after seconds */
            if (!bad && (v[0] == '.' || v[0] == ',') && isdigit((unsigned char)v[1]) &&
                next_chunk(l, &pl, &sl) != STD_FRAC9) {
                v++;
                long scale = 100000000;
                for (; isdigit((unsigned char)*v); v++, scale /= 10)
                    nsec += (*v - '0') * scale;
            }
            break;
        }
        case STD_FRAC9:
            if ((v[0] != '.' && v[0] != ',') || !isdigit((unsigned char)v[1]))
                break;
            v++;
            for (long scale = 100000000; isdigit((unsigned char)*v); v++, scale /= 10)
                nsec += (*v - '0') * scale;
            break;
        case STD_TZ: {
            if (v[0] == 'Z') {
                offset = 0;
                v++;
                break;
            }
            if (strlen(v) < 6 || v[3] != ':' || (v[0] != '+' && v[0] != '-')) {
                bad = true;
                break;
            }
            const char *hh = v + 1, *mm = v + 4;
            int h = getnum(&hh, true), m = getnum(&mm, true);
            if (h < 0 || m < 0) {
                bad = true;
                break;
            }
            if (h > 24)
                range = "time zone offset hour";
            else if (m > 60)
                range = "time zone offset minute";
            offset = (h * 60L + m) * 60L * (v[0] == '-' ? -1 : 1);
            v += 6;
            break;
        }
        case STD_NONE:
        default:
            break;
        }
        if (range)
            return mk_err_set(err, MK_ERR_INVALID, "parsing time \"%s\": %s out of range", value,
                              range);
        if (bad)
            return parse_err(err, layout, value, hold, slen, stdstr);
    }
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int dim = mdays[month - 1] + (month == 2 && is_leap(year));
    if (day < 1 || day > dim)
        return mk_err_set(err, MK_ERR_INVALID, "parsing time \"%s\": day out of range", value);
    int64_t secs =
        days_from_civil(year, month, day) * SECS_PER_DAY + hour * 3600 + min * 60 + sec - offset;
    *out = secs * NS_PER_SEC + nsec;
    return 0;
}

/* strconv.ParseInt(s, 10, 64) */
static bool parse_int64(const char *s, int64_t *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (*p == '\0')
        return false;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno != 0)
        return false;
    *out = v;
    return true;
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

int mk_time_parse(const char *s, int64_t now_ns, int64_t *out_ns, mk_err **err)
{
    int64_t d;
    _cleanup_err_ mk_err *derr = NULL;
    if (strcmp(s, "0") != 0 && mk_duration_parse(s, &d, &derr) == 0) {
        /* docker sends reference.Add(-d).Unix(): whole seconds */
        *out_ns = floor_div(now_ns - d, NS_PER_SEC) * NS_PER_SEC;
        return 0;
    }
    bool in_location = strpbrk(s, "zZ+") == NULL && count_char(s, '-') != 3;
    const char *layout;
    if (strchr(s, '.')) {
        layout =
            in_location ? "2006-01-02T15:04:05.999999999" : "2006-01-02T15:04:05.999999999Z07:00";
    } else if (strchr(s, 'T')) {
        size_t colons = count_char(s, ':');
        if (!in_location && strpbrk(s, "zZ") == NULL && colons > 0)
            colons--;
        if (in_location)
            layout = colons == 0   ? "2006-01-02T15"
                     : colons == 1 ? "2006-01-02T15:04"
                                   : "2006-01-02T15:04:05";
        else
            layout = colons == 0   ? "2006-01-02T15Z07:00"
                     : colons == 1 ? "2006-01-02T15:04Z07:00"
                                   : "2006-01-02T15:04:05Z07:00";
    } else {
        layout = in_location ? "2006-01-02" : "2006-01-02Z07:00";
    }
    long local_offset = 0;
    if (in_location) {
        /* Go's time.FixedZone(reference.Zone()): the local offset now */
        time_t now = (time_t)floor_div(now_ns, NS_PER_SEC);
        struct tm tm;
        if (localtime_r(&now, &tm) != NULL)
            local_offset = tm.tm_gmtoff;
    }
    _cleanup_err_ mk_err *perr = NULL;
    if (go_time_parse(layout, s, local_offset, out_ns, &perr) == 0)
        return 0;
    if (strchr(s, '-')) {
        /* an RFC 3339-like value that did not parse: report why */
        *err = steal_pointer(&perr);
        return -1;
    }
    /* a unix timestamp, "seconds[.fraction]" */
    const char *dot = strchr(s, '.');
    _cleanup_free_ char *secs_text = dot ? xstrndup(s, (size_t)(dot - s)) : xstrdup(s);
    int64_t secs, nanos = 0;
    if (!parse_int64(secs_text, &secs) || (dot && !parse_int64(dot + 1, &nanos)))
        return mk_err_set(err, MK_ERR_INVALID, "failed to parse value as time or duration: \"%s\"",
                          s);
    if (dot) {
        double scaled = (double)nanos;
        for (long digits = (long)strlen(dot + 1); digits < 9; digits++)
            scaled *= 10;
        for (long digits = (long)strlen(dot + 1); digits > 9; digits--)
            scaled /= 10;
        nanos = (int64_t)scaled;
    }
    *out_ns = secs * NS_PER_SEC + nanos;
    return 0;
}

/* ---- docker/go-units ---- */

/* Go's fmtFrac: v / 10^prec with the fraction's trailing zeros (and a lone
 * '.') dropped. */
static void put_frac(mk_buf *b, uint64_t v, int prec)
{
    char digits[20];
    bool print = false;
    int n = 0;
    /* The fraction from its last digit up, skipping trailing zeros. */
    for (int i = 0; i < prec; i++) {
        uint64_t digit = v % 10;
        print |= digit != 0;
        if (print)
            digits[n++] = (char)('0' + digit);
        v /= 10;
    }
    mk_buf_printf(b, "%llu", (unsigned long long)v);
    if (n == 0)
        return;
    mk_buf_append(b, ".", 1);
    while (n > 0)
        mk_buf_append(b, &digits[--n], 1);
}

char *mk_duration_string(int64_t ns)
{
    if (ns == 0)
        return xstrdup("0s");
    mk_buf b = {0};
    uint64_t u = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;
    if (ns < 0)
        mk_buf_append(&b, "-", 1);
    if (u < 1000) {
        mk_buf_printf(&b, "%lluns", (unsigned long long)u);
    } else if (u < 1000000) {
        put_frac(&b, u, 3);
        mk_buf_puts(&b, "\xc2\xb5s"); /* µs */
    } else if (u < 1000000000) {
        put_frac(&b, u, 6);
        mk_buf_puts(&b, "ms");
    } else {
        uint64_t secs = u / 1000000000, h = secs / 3600, m = secs / 60 % 60;
        if (h > 0)
            mk_buf_printf(&b, "%lluh", (unsigned long long)h);
        if (h > 0 || m > 0)
            mk_buf_printf(&b, "%llum", (unsigned long long)m);
        put_frac(&b, u % 60000000000ULL, 9);
        mk_buf_puts(&b, "s");
    }
    return mk_buf_steal(&b);
}

char *mk_human_duration(int64_t ns)
{
    const int64_t minute = 60 * NS_PER_SEC, hour = 60 * minute;
    int64_t seconds = ns / NS_PER_SEC;
    if (seconds < 1)
        return xstrdup("Less than a second");
    if (seconds == 1)
        return xstrdup("1 second");
    if (seconds < 60)
        return xasprintf("%lld seconds", (long long)seconds);
    int64_t minutes = ns / minute;
    if (minutes == 1)
        return xstrdup("About a minute");
    if (minutes < 60)
        return xasprintf("%lld minutes", (long long)minutes);
    /* hours are rounded (half away from zero), as d.Round(time.Hour) */
    int64_t r = ns % hour;
    int64_t hours = ns / hour + (r + r >= hour ? 1 : 0);
    if (hours == 1)
        return xstrdup("About an hour");
    if (hours < 48)
        return xasprintf("%lld hours", (long long)hours);
    if (hours < 24 * 7 * 2)
        return xasprintf("%lld days", (long long)(hours / 24));
    if (hours < 24 * 30 * 2)
        return xasprintf("%lld weeks", (long long)(hours / 24 / 7));
    if (hours < 24 * 365 * 2)
        return xasprintf("%lld months", (long long)(hours / 24 / 30));
    return xasprintf("%lld years", (long long)(ns / hour / 24 / 365));
}

char *mk_human_size(int64_t bytes)
{
    return mk_human_size_prec(bytes, 3);
}

char *mk_human_size_prec(int64_t bytes, int precision)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
    double size = (double)bytes;
    size_t i = 0;
    while (size >= 1000.0 && i < sizeof units / sizeof units[0] - 1) {
        size /= 1000.0;
        i++;
    }
    /* Go's %.3g and C's agree for every value this can produce */
    return xasprintf("%.*g%s", precision, size, units[i]);
}

char *mk_human_size_binary(int64_t bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
    double size = (double)bytes;
    size_t i = 0;
    while (size >= 1024.0 && i < sizeof units / sizeof units[0] - 1) {
        size /= 1024.0;
        i++;
    }
    return xasprintf("%.*g%s", 4, size, units[i]);
}

/* strconv.ParseFloat's syntax: decimal with optional exponent, or hex with a
 * mandatory p exponent. */
static bool float_syntax_ok(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex)
        s += 2;
    size_t digits = 0;
    for (; hex ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s); s++)
        digits++;
    if (*s == '.')
        for (s++; hex ? isxdigit((unsigned char)*s) : isdigit((unsigned char)*s); s++)
            digits++;
    if (digits == 0)
        return false;
    if (hex ? (*s == 'p' || *s == 'P') : (*s == 'e' || *s == 'E')) {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!isdigit((unsigned char)*s))
            return false;
        while (isdigit((unsigned char)*s))
            s++;
    } else if (hex) {
        return false;
    }
    return *s == '\0';
}

int mk_size_parse(const char *s, int64_t *out, mk_err **err)
{
    /* the number ends at the last digit, dot or space */
    const char *sep = NULL;
    for (const char *p = s; *p; p++)
        if (isdigit((unsigned char)*p) || *p == '.' || *p == ' ')
            sep = p;
    if (sep == NULL)
        return mk_err_set(err, MK_ERR_INVALID, "invalid size: '%s'", s);
    _cleanup_free_ char *num = xstrndup(s, (size_t)(sep - s) + (*sep == ' ' ? 0 : 1));
    const char *sfx = sep + 1;
    if (!float_syntax_ok(num))
        return mk_err_set(err, MK_ERR_INVALID, "strconv.ParseFloat: parsing \"%s\": invalid syntax",
                          num);
    errno = 0;
    double size = strtod(num, NULL);
    if (errno == ERANGE && (size > 1 || size < -1))
        return mk_err_set(err, MK_ERR_INVALID,
                          "strconv.ParseFloat: parsing \"%s\": value out of range", num);
    if (size < 0)
        return mk_err_set(err, MK_ERR_INVALID, "invalid size: '%s'", s);
    size_t sl = strlen(sfx);
    if (sl > 3)
        return mk_err_set(err, MK_ERR_INVALID, "invalid suffix: '%s'", sfx);
    char lower[4] = {0};
    for (size_t i = 0; i < sl; i++)
        lower[i] = (char)tolower((unsigned char)sfx[i]);
    if (sl > 0) {
        static const char prefixes[] = "kmgtp";
        const char *pos = lower[0] != '\0' ? strchr(prefixes, lower[0]) : NULL;
        if (lower[0] == 'b') {
            if (sl > 1)
                return mk_err_set(err, MK_ERR_INVALID, "invalid suffix: '%s'", lower);
        } else if (pos == NULL || (sl == 2 && lower[1] != 'b') ||
                   (sl == 3 && strcmp(lower + 1, "ib") != 0)) {
            return mk_err_set(err, MK_ERR_INVALID, "invalid suffix: '%s'", lower);
        } else {
            for (long k = 0; k <= pos - prefixes; k++)
                size *= 1024.0;
        }
    }
    /* Go's int64(float64) on amd64: out of range gives the minimum */
    if (!(size < 9223372036854775808.0))
        *out = INT64_MIN;
    else
        *out = (int64_t)size;
    return 0;
}

void mk_sleep_until_monotonic(int64_t deadline_ns)
{
    int64_t left = deadline_ns - mk_monotonic_ns();
    if (left <= 0)
        return;
    struct timespec ts = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
    nanosleep(&ts, NULL);
}
