/*
 * check.h - the test harness: CHECK macros that count failures and report
 * file:line, a seeded PRNG, and a runner for a table of test functions.
 * A test program returns non-zero when any check failed.
 */
#ifndef EVO_CHECK_H
#define EVO_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                          \
    do {                                                                     \
        check_count++;                                                       \
        if (!(cond)) {                                                       \
            check_failures++;                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                    \
    } while (0)

#define CHECK_MSG(cond, ...)                                                 \
    do {                                                                     \
        check_count++;                                                       \
        if (!(cond)) {                                                       \
            check_failures++;                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                    \
            fprintf(stderr, "\n");                                           \
        }                                                                    \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                \
    do {                                                                     \
        double check_a_ = (double)(a), check_b_ = (double)(b);               \
        check_count++;                                                       \
        if (!(fabs(check_a_ - check_b_) <= (tol))) {                         \
            check_failures++;                                                \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g, %s = %.9g, tol %g\n", \
                    __FILE__, __LINE__, #a, check_a_, #b, check_b_, (double)(tol)); \
        }                                                                    \
    } while (0)

/* xorshift64*: seeded, reproducible. */
typedef struct check_rng {
    uint64_t s;
} check_rng;

static inline uint64_t check_rng_u64(check_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ull;
}
/* Uniform in [lo, hi). */
static inline float check_rng_float(check_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * (float)((check_rng_u64(r) >> 40) * (1.0 / 16777216.0));
}
/* Uniform integer in [lo, hi]. */
static inline int check_rng_int(check_rng *r, int lo, int hi)
{
    return (int)(lo + (int64_t)(check_rng_u64(r) % (uint64_t)((int64_t)hi - lo + 1)));
}

typedef struct check_test {
    const char *name;
    void (*fn)(void);
} check_test;

/* Runs every test (or only the one named in argv[1]); prints "N passed, N failed". */
static inline int check_run(const check_test *tests, int n, int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (int i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
            continue;
        int before = check_failures;
        tests[i].fn();
        if (check_failures == before) {
            passed++;
        } else {
            failed++;
            fprintf(stderr, "FAIL %s\n", tests[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#define CHECK_MAIN(...)                                                      \
    int main(int argc, char **argv)                                          \
    {                                                                        \
        static const check_test tests_[] = {__VA_ARGS__};                    \
        return check_run(tests_, (int)(sizeof(tests_) / sizeof(tests_[0])), argc, argv); \
    }
#define CHECK_TEST(fn) {#fn, fn}

#endif /* EVO_CHECK_H */
