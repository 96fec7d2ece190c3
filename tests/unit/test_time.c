/* test_time.c: RFC 3339 output, docker's --since/--until parsing, Go durations and
 * docker/go-units sizes and human durations, checked against Go's exact text. */
#include <stdlib.h>
#include <time.h>

#include "tap.h"
#include "util/util.h"

#define SEC    1000000000LL
#define MINUTE (60 * SEC)
#define HOUR   (60 * MINUTE)
#define DAY    (24 * HOUR)

static char *kept[512];
static size_t nkept;

/* Results live until the end of main, so checks can use them inline. */
static const char *keep(char *s)
{
    if (nkept < sizeof kept / sizeof kept[0])
        kept[nkept++] = s;
    return s;
}

static void free_kept(void)
{
    for (size_t i = 0; i < nkept; i++)
        free(kept[i]);
    nkept = 0;
}

static const char *rfc(int64_t ns)
{
    return keep(mk_time_rfc3339(ns));
}

static const char *hdur(int64_t ns)
{
    return keep(mk_human_duration(ns));
}

static const char *hsize(int64_t n)
{
    return keep(mk_human_size(n));
}

/* Parse a duration; returns the value or, on error, stores the message. */
static int64_t dur(const char *s, const char **errmsg)
{
    mk_err *err = NULL;
    int64_t v = 0x5eed;
    *errmsg = NULL;
    if (mk_duration_parse(s, &v, &err) < 0) {
        *errmsg = keep(xstrdup(err->msg));
        mk_err_free(err);
    }
    return v;
}

static int64_t size(const char *s, const char **errmsg)
{
    mk_err *err = NULL;
    int64_t v = 0x5eed;
    *errmsg = NULL;
    if (mk_size_parse(s, &v, &err) < 0) {
        *errmsg = keep(xstrdup(err->msg));
        mk_err_free(err);
    }
    return v;
}

static int64_t tparse(const char *s, int64_t now, const char **errmsg)
{
    mk_err *err = NULL;
    int64_t v = 0x5eed;
    *errmsg = NULL;
    if (mk_time_parse(s, now, &v, &err) < 0) {
        *errmsg = keep(xstrdup(err->msg));
        mk_err_free(err);
    }
    return v;
}

static void test_clocks(void)
{
    int64_t a = mk_monotonic_ns(), b = mk_monotonic_ns();
    CHECK(b >= a);
    CHECK(mk_now_ns() > 1700000000LL * SEC);
}

static void test_rfc3339(void)
{
    CHECK_STR(rfc(0), "0001-01-01T00:00:00Z");
    CHECK_STR(rfc(1700000000LL * SEC), "2023-11-14T22:13:20Z");
    CHECK_STR(rfc(1700000000LL * SEC + 123456789), "2023-11-14T22:13:20.123456789Z");
    CHECK_STR(rfc(1700000000LL * SEC + 100000000), "2023-11-14T22:13:20.1Z");
    CHECK_STR(rfc(1700000000LL * SEC + 123400000), "2023-11-14T22:13:20.1234Z");
    CHECK_STR(rfc(1700000000LL * SEC + 1), "2023-11-14T22:13:20.000000001Z");
    CHECK_STR(rfc(951782400LL * SEC), "2000-02-29T00:00:00Z");
    CHECK_STR(rfc(-1), "1969-12-31T23:59:59.999999999Z");
    CHECK_STR(rfc(-2203848000LL * SEC), "1900-03-01T12:00:00Z");
    CHECK_STR(rfc(1), "1970-01-01T00:00:00.000000001Z");
    /* docker's RFC3339NanoFixed, for logs -t and events: nine digits always */
    CHECK_STR(keep(mk_time_rfc3339_fixed(1700000000LL * SEC + 100000000)),
              "2023-11-14T22:13:20.100000000Z");
    CHECK_STR(keep(mk_time_rfc3339_fixed(1700000000LL * SEC)), "2023-11-14T22:13:20.000000000Z");
}

static void test_duration_parse(void)
{
    const char *e;
    CHECK_INT(dur("300ms", &e), 300000000);
    CHECK(e == NULL);
    CHECK_INT(dur("-1.5h", &e), -90 * MINUTE);
    CHECK_INT(dur("2h45m", &e), 2 * HOUR + 45 * MINUTE);
    CHECK_INT(dur("1us", &e), 1000);
    CHECK_INT(dur("1\xc2\xb5s", &e), 1000);
    CHECK_INT(dur("1\xce\xbcs", &e), 1000);
    CHECK_INT(dur("10ns", &e), 10);
    CHECK_INT(dur("0", &e), 0);
    CHECK_INT(dur("-0", &e), 0);
    CHECK_INT(dur("+5s", &e), 5 * SEC);
    CHECK_INT(dur(".5s", &e), SEC / 2);
    CHECK_INT(dur("1.s", &e), SEC);
    CHECK_INT(dur("1h1m1s1ms1us1ns", &e), HOUR + MINUTE + SEC + 1001001);
    CHECK_INT(dur("1.000000001s", &e), SEC + 1);
    CHECK_INT(dur("0.3333333333333333333h", &e), 20 * MINUTE);
    CHECK_INT(dur("9223372036854775807ns", &e), INT64_MAX);
    CHECK(e == NULL);
    CHECK_INT(dur("-9223372036854775808ns", &e), INT64_MIN);
    CHECK(e == NULL);

    dur("9223372036854775808ns", &e);
    CHECK_STR(e, "time: invalid duration \"9223372036854775808ns\"");
    dur("3000000h", &e);
    CHECK_STR(e, "time: invalid duration \"3000000h\"");
    dur("x", &e);
    CHECK_STR(e, "time: invalid duration \"x\"");
    dur("", &e);
    CHECK_STR(e, "time: invalid duration \"\"");
    dur("-", &e);
    CHECK_STR(e, "time: invalid duration \"-\"");
    dur(".s", &e);
    CHECK_STR(e, "time: invalid duration \".s\"");
    dur("1.5", &e);
    CHECK_STR(e, "time: missing unit in duration \"1.5\"");
    dur("10", &e);
    CHECK_STR(e, "time: missing unit in duration \"10\"");
    dur("1x", &e);
    CHECK_STR(e, "time: unknown unit \"x\" in duration \"1x\"");
    dur("1d", &e);
    CHECK_STR(e, "time: unknown unit \"d\" in duration \"1d\"");
    dur("1hh", &e);
    CHECK_STR(e, "time: unknown unit \"hh\" in duration \"1hh\"");
}

static void test_human_duration(void)
{
    const int64_t week = 7 * DAY, month = 30 * DAY, year = 365 * DAY;
    CHECK_STR(hdur(-5 * SEC), "Less than a second");
    CHECK_STR(hdur(450 * 1000000LL), "Less than a second");
    CHECK_STR(hdur(SEC), "1 second");
    CHECK_STR(hdur(SEC + SEC / 2), "1 second");
    CHECK_STR(hdur(2 * SEC), "2 seconds");
    CHECK_STR(hdur(59 * SEC), "59 seconds");
    CHECK_STR(hdur(60 * SEC), "About a minute");
    CHECK_STR(hdur(119 * SEC), "About a minute");
    CHECK_STR(hdur(2 * MINUTE), "2 minutes");
    CHECK_STR(hdur(35 * MINUTE + 40 * SEC), "35 minutes");
    CHECK_STR(hdur(59 * MINUTE + 59 * SEC), "59 minutes");
    CHECK_STR(hdur(HOUR), "About an hour");
    CHECK_STR(hdur(HOUR + 29 * MINUTE), "About an hour");
    CHECK_STR(hdur(HOUR + 30 * MINUTE), "2 hours");
    CHECK_STR(hdur(HOUR + 31 * MINUTE), "2 hours");
    CHECK_STR(hdur(3 * HOUR + 29 * MINUTE), "3 hours");
    CHECK_STR(hdur(3 * HOUR + 31 * MINUTE), "4 hours");
    CHECK_STR(hdur(DAY), "24 hours");
    CHECK_STR(hdur(DAY + 12 * HOUR), "36 hours");
    CHECK_STR(hdur(47 * HOUR + 29 * MINUTE), "47 hours");
    CHECK_STR(hdur(47 * HOUR + 31 * MINUTE), "2 days");
    CHECK_STR(hdur(2 * DAY), "2 days");
    CHECK_STR(hdur(13 * DAY + 5 * HOUR), "13 days");
    CHECK_STR(hdur(2 * week), "2 weeks");
    CHECK_STR(hdur(2 * week + 4 * DAY), "2 weeks");
    CHECK_STR(hdur(month), "4 weeks");
    CHECK_STR(hdur(month + 2 * week), "6 weeks");
    CHECK_STR(hdur(2 * month), "2 months");
    CHECK_STR(hdur(3 * month + week), "3 months");
    CHECK_STR(hdur(24 * month), "24 months");
    CHECK_STR(hdur(24 * month + 2 * week), "2 years");
    CHECK_STR(hdur(3 * year + 2 * month), "3 years");
}

static void test_human_size_binary(void)
{
    /* the figures docker stats printed for the same byte counts */
    CHECK_STR(keep(mk_human_size_binary(0)), "0B");
    CHECK_STR(keep(mk_human_size_binary(1023)), "1023B");
    CHECK_STR(keep(mk_human_size_binary(1536)), "1.5KiB");
    CHECK_STR(keep(mk_human_size_binary(344064)), "336KiB");
    CHECK_STR(keep(mk_human_size_binary(64LL << 20)), "64MiB");
    CHECK_STR(keep(mk_human_size_binary(25275305984LL)), "23.54GiB");
}

/* Go's time.Duration.String, as in docker's "Health check exceeded timeout (30s)". */
static void test_duration_string(void)
{
    CHECK_STR(keep(mk_duration_string(0)), "0s");
    CHECK_STR(keep(mk_duration_string(1)), "1ns");
    CHECK_STR(keep(mk_duration_string(1500)), "1.5\xc2\xb5s");
    CHECK_STR(keep(mk_duration_string(200 * 1000000LL)), "200ms");
    CHECK_STR(keep(mk_duration_string(1234567)), "1.234567ms");
    CHECK_STR(keep(mk_duration_string(30 * SEC)), "30s");
    CHECK_STR(keep(mk_duration_string(SEC + SEC / 2)), "1.5s");
    CHECK_STR(keep(mk_duration_string(2 * MINUTE)), "2m0s");
    CHECK_STR(keep(mk_duration_string(MINUTE + 30 * SEC + 1)), "1m30.000000001s");
    CHECK_STR(keep(mk_duration_string(HOUR)), "1h0m0s");
    CHECK_STR(keep(mk_duration_string(-90 * SEC)), "-1m30s");
}

static void test_human_size(void)
{
    CHECK_STR(hsize(0), "0B");
    CHECK_STR(hsize(1), "1B");
    CHECK_STR(hsize(999), "999B");
    CHECK_STR(hsize(1000), "1kB");
    CHECK_STR(hsize(1024), "1.02kB");
    CHECK_STR(hsize(1500), "1.5kB");
    CHECK_STR(hsize(10000), "10kB");
    CHECK_STR(hsize(123456), "123kB");
    CHECK_STR(hsize(999499), "999kB");
    CHECK_STR(hsize(999999), "1e+03kB");
    CHECK_STR(hsize(1234567), "1.23MB");
    CHECK_STR(hsize(7654321), "7.65MB");
    CHECK_STR(hsize(123456789), "123MB");
    CHECK_STR(hsize(5000000000LL), "5GB");
    CHECK_STR(hsize(1000000000000000000LL), "1EB");
    CHECK_STR(hsize(INT64_MAX), "9.22EB");
    CHECK_STR(hsize(-1), "-1B");
}

static void test_size_parse(void)
{
    const char *e;
    CHECK_INT(size("512", &e), 512);
    CHECK(e == NULL);
    CHECK_INT(size("32m", &e), 32LL << 20);
    CHECK_INT(size("32M", &e), 32LL << 20);
    CHECK_INT(size("1g", &e), 1LL << 30);
    CHECK_INT(size("1.5GB", &e), 3LL << 29);
    CHECK_INT(size("1.5g", &e), 3LL << 29);
    CHECK_INT(size("1kib", &e), 1024);
    CHECK_INT(size("1KiB", &e), 1024);
    CHECK_INT(size("1kb", &e), 1024);
    CHECK_INT(size("1 kb", &e), 1024);
    CHECK_INT(size("2t", &e), 2LL << 40);
    CHECK_INT(size("1p", &e), 1LL << 50);
    CHECK_INT(size("10b", &e), 10);
    CHECK_INT(size("10B", &e), 10);
    CHECK_INT(size("1.", &e), 1);
    CHECK_INT(size("0.5k", &e), 512);
    CHECK_INT(size("1e3", &e), 1000);
    CHECK_INT(size("1 ", &e), 1);
    CHECK(e == NULL);

    size("abc", &e);
    CHECK_STR(e, "invalid size: 'abc'");
    size("", &e);
    CHECK_STR(e, "invalid size: ''");
    size("-1", &e);
    CHECK_STR(e, "invalid size: '-1'");
    size("1x", &e);
    CHECK_STR(e, "invalid suffix: 'x'");
    size("1kbb", &e);
    CHECK_STR(e, "invalid suffix: 'kbb'");
    size("1KX", &e);
    CHECK_STR(e, "invalid suffix: 'kx'");
    size("1bk", &e);
    CHECK_STR(e, "invalid suffix: 'bk'");
    size("1kilob", &e);
    CHECK_STR(e, "invalid suffix: 'kilob'");
    size("1..5", &e);
    CHECK_STR(e, "strconv.ParseFloat: parsing \"1..5\": invalid syntax");
    size(" 1", &e);
    CHECK_STR(e, "strconv.ParseFloat: parsing \" 1\": invalid syntax");
    size("1e999", &e);
    CHECK_STR(e, "strconv.ParseFloat: parsing \"1e999\": value out of range");
}

static void test_time_parse(void)
{
    const char *e;
    const int64_t now = 1700000000LL * SEC + 700000000;
    setenv("TZ", "UTC", 1);
    tzset();
    /* durations are relative to now and whole seconds, as docker sends them */
    CHECK_INT(tparse("10m", now, &e), (1700000000LL - 600) * SEC);
    CHECK(e == NULL);
    CHECK_INT(tparse("1h30m", now, &e), (1700000000LL - 5400) * SEC);
    CHECK_INT(tparse("1.5s", now, &e), 1699999999LL * SEC);
    CHECK_INT(tparse("-10s", now, &e), 1700000010LL * SEC);
    /* unix timestamps */
    CHECK_INT(tparse("0", now, &e), 0);
    CHECK_INT(tparse("1700000000", now, &e), 1700000000LL * SEC);
    CHECK_INT(tparse("1700000000.5", now, &e), 1700000000LL * SEC + 500000000);
    CHECK_INT(tparse("1700000000.000000001", now, &e), 1700000000LL * SEC + 1);
    CHECK_INT(tparse("1700000000.1234567891", now, &e), 1700000000LL * SEC + 123456789);
    /* RFC 3339 */
    CHECK_INT(tparse("2023-11-14T22:13:20Z", now, &e), 1700000000LL * SEC);
    CHECK_INT(tparse("2023-11-14T22:13:20.25Z", now, &e), 1700000000LL * SEC + 250000000);
    CHECK_INT(tparse("2023-11-14T23:13:20+01:00", now, &e), 1700000000LL * SEC);
    CHECK_INT(tparse("2023-11-14T21:13:20-01:00", now, &e), 1700000000LL * SEC);
    CHECK_INT(tparse("2023-11-14T22:13:20.5+00:00", now, &e), 1700000000LL * SEC + 500000000);
    CHECK_INT(tparse("2023-11-14T22Z", now, &e), (1700000000LL - 800) * SEC);
    CHECK_INT(tparse("2023-11-14T22:13Z", now, &e), (1700000000LL - 20) * SEC);
    CHECK(e == NULL);
    /* local times: in the zone of now */
    CHECK_INT(tparse("2023-11-14", now, &e), 1699920000LL * SEC);
    CHECK_INT(tparse("2023-11-14T22:13:20", now, &e), 1700000000LL * SEC);
    CHECK_INT(tparse("2023-11-14T22:13:20.125", now, &e), 1700000000LL * SEC + 125000000);
    CHECK_INT(tparse("2023-11-14T22", now, &e), (1700000000LL - 800) * SEC);
    CHECK_INT(tparse("2023-11-14T22:13", now, &e), (1700000000LL - 20) * SEC);
    CHECK_INT(tparse("2000-02-29", now, &e), 951782400LL * SEC);
    CHECK(e == NULL);
    setenv("TZ", "XXX-2", 1);
    tzset();
    CHECK_INT(tparse("2023-11-15T00:13:20", now, &e), 1700000000LL * SEC);
    CHECK_INT(tparse("2023-11-14T22:13:20Z", now, &e), 1700000000LL * SEC);
    setenv("TZ", "UTC", 1);
    tzset();

    tparse("garbage", now, &e);
    CHECK_STR(e, "failed to parse value as time or duration: \"garbage\"");
    tparse("", now, &e);
    CHECK_STR(e, "failed to parse value as time or duration: \"\"");
    tparse("2023-13-01", now, &e);
    CHECK_STR(e, "parsing time \"2023-13-01\": month out of range");
    tparse("2023-02-29", now, &e);
    CHECK_STR(e, "parsing time \"2023-02-29\": day out of range");
    tparse("2023-1-01", now, &e);
    CHECK_STR(e, "parsing time \"2023-1-01\" as \"2006-01-02\": cannot parse \"1-01\" as \"01\"");
    tparse("2023-11-14T25:00:00Z", now, &e);
    CHECK_STR(e, "parsing time \"2023-11-14T25:00:00Z\": hour out of range");
    tparse("2023-11-14x", now, &e);
    CHECK_STR(e, "parsing time \"2023-11-14x\": extra text: \"x\"");
    tparse("2023/11/14", now, &e);
    CHECK_STR(e, "failed to parse value as time or duration: \"2023/11/14\"");
    tparse("2023-11-14T22:13:20+0100", now, &e);
    /* docker's colon count picks the minutes layout for a zone without a colon */
    CHECK_STR(e, "parsing time \"2023-11-14T22:13:20+0100\" as \"2006-01-02T15:04Z07:00\": "
                 "cannot parse \":20+0100\" as \"Z07:00\"");
    tparse("2023-11-14T22:13:20+01:0x", now, &e);
    CHECK_STR(e, "parsing time \"2023-11-14T22:13:20+01:0x\" as \"2006-01-02T15:04:05Z07:00\": "
                 "cannot parse \"+01:0x\" as \"Z07:00\"");
}

int main(void)
{
    RUN(test_clocks);
    RUN(test_rfc3339);
    RUN(test_duration_parse);
    RUN(test_human_duration);
    RUN(test_duration_string);
    RUN(test_human_size);
    RUN(test_human_size_binary);
    RUN(test_size_parse);
    RUN(test_time_parse);
    free_kept();
    return tap_done();
}
