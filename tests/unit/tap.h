/* tap.h: a tiny TAP producer for mocker's unit tests.
 * Each test file defines test functions and calls them through RUN(fn) in main,
 * then returns tap_done().  Assertions record a failure and return from the test. */
#ifndef MK_TAP_H
#define MK_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed, tap_cur_failed;

#define RUN(fn)                                                                                   \
    do {                                                                                          \
        tap_cur_failed = 0;                                                                       \
        fn();                                                                                     \
        tap_n++;                                                                                  \
        if (tap_cur_failed)                                                                       \
            tap_failed++;                                                                         \
        printf("%s %d - %s\n", tap_cur_failed ? "not ok" : "ok", tap_n, #fn);                     \
        fflush(stdout);                                                                           \
    } while (0)

#define FAIL_AT(...)                                                                              \
    do {                                                                                          \
        printf("# %s:%d: ", __FILE__, __LINE__);                                                  \
        printf(__VA_ARGS__);                                                                      \
        printf("\n");                                                                             \
        tap_cur_failed = 1;                                                                       \
        return;                                                                                   \
    } while (0)

#define CHECK(cond)                                                                               \
    do {                                                                                          \
        if (!(cond))                                                                              \
            FAIL_AT("check failed: %s", #cond);                                                   \
    } while (0)

#define CHECK_STR(a, b)                                                                           \
    do {                                                                                          \
        const char *a_ = (a), *b_ = (b);                                                          \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                                      \
            FAIL_AT("%s == %s: got \"%s\", want \"%s\"", #a, #b, a_ ? a_ : "(null)",              \
                    b_ ? b_ : "(null)");                                                          \
    } while (0)

#define CHECK_INT(a, b)                                                                           \
    do {                                                                                          \
        long long a_ = (long long)(a), b_ = (long long)(b);                                       \
        if (a_ != b_)                                                                             \
            FAIL_AT("%s == %s: got %lld, want %lld", #a, #b, a_, b_);                             \
    } while (0)

/* A mocker call (< 0 on failure) that must succeed: on failure the mk_err it
 * filled (err_var, given to the call) is printed and cleared. */
#define CHECK_MK_OK(err_var, call)                                                                \
    do {                                                                                          \
        if ((call) < 0) {                                                                         \
            printf("# %s\n", (err_var) ? (err_var)->msg : "?");                                   \
            mk_err_clear(&(err_var));                                                             \
            FAIL_AT("%s", #call);                                                                 \
        }                                                                                         \
    } while (0)

static inline int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}

#endif
