/*
 * check.h - the test harness: CHECK macros that count failures and report
 * file:line, a seeded PRNG, and a runner for a table of test functions.
 *
 * A test program exits 1 when any check failed, 77 (ctest's SKIP_RETURN_CODE,
 * set on every C test) when it ran nothing because something it needs is
 * absent (CHECK_SKIP, or a --isa tier this CPU lacks), else 0. A test
 * function that neither checked nor skipped anything fails. Arguments:
 * names of test functions to run (default: all) and `--isa NAME`, which caps
 * kernel choice at tier NAME for the whole process ($EVO_ISA; ref, avx2,
 * avx512, vnni, amx, neon, ...; or vbmi, avxvnni: a feature inside a tier)
 * and skips (77) on a CPU without it. CHECK_SKIP marks a part not run.
 */
#ifndef EVO_CHECK_H
#define EVO_CHECK_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"

static int check_failures;
static int check_count;
static int check_skips;

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

/*
 * A part the test cannot run here (no data, no CPU feature, no package):
 * prints "SKIP: <why>" and counts it. A test function that only skipped is
 * reported skipped; a program whose tests all skipped exits 77.
 */
#define CHECK_SKIP(...)                                                      \
    do {                                                                     \
        check_skips++;                                                       \
        printf("SKIP: ");                                                    \
        printf(__VA_ARGS__);                                                 \
        printf("\n");                                                        \
        fflush(stdout);                                                      \
    } while (0)

/* Whether msg is new (the first 64 messages are remembered). */
static inline int check_first_time(const char *msg)
{
    static char seen[64][160];
    static int n_seen;
    for (int i = 0; i < n_seen; i++)
        if (strcmp(seen[i], msg) == 0)
            return 0;
    if (n_seen < 64)
        snprintf(seen[n_seen++], sizeof(seen[0]), "%s", msg);
    return 1;
}

/* CHECK_SKIP printed once per message, for skips inside loops over cases (counted every time). */
#define CHECK_SKIP_ONCE(...)                                                 \
    do {                                                                     \
        char check_msg_[160];                                                \
        snprintf(check_msg_, sizeof(check_msg_), __VA_ARGS__);               \
        if (check_first_time(check_msg_))                                    \
            CHECK_SKIP("%s", check_msg_);                                    \
        else                                                                 \
            check_skips++;                                                   \
    } while (0)

/* Whether this CPU (capped by --isa) runs kernel k; if not, a SKIP line naming it, once. */
static inline int check_host_runs(const evo_kernel_def *k)
{
    if (evo_cpu_has_isa(k->isa))
        return 1;
    CHECK_SKIP_ONCE("kernel %s not run: this CPU has no %s", k->name, evo_isa_name(k->isa));
    return 0;
}

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

/*
 * --isa NAME: caps the process at tier NAME through $EVO_ISA, which CPU
 * detection and sessions honour. Returns 0 to go on, 77 when this CPU lacks
 * the tier, 2 for an unknown name.
 */
static inline int check_select_isa(const char *name)
{
    /* a feature inside a tier caps at that tier and needs the feature too */
    bool vbmi = strcmp(name, "vbmi") == 0, avxvnni = strcmp(name, "avxvnni") == 0;
    const char *tier = vbmi ? "vnni" : avxvnni ? "avx2" : name;
    evo_isa isa;
    if (!evo_isa_parse(tier, &isa)) {
        fprintf(stderr, "--isa %s: unknown tier\n", name);
        return 2;
    }
    setenv("EVO_ISA", tier, 1);
    const evo_cpu_info *cpu = evo_cpu_get();
    if (!evo_cpu_has_isa(isa) || (vbmi && !cpu->avx512vbmi) || (avxvnni && !cpu->avx_vnni)) {
        printf("SKIP: this CPU has no %s (--isa %s): nothing run\n", name, name);
        return 77;
    }
    printf("tier %s: kernels above %s are not chosen\n", name, tier);
    return 0;
}

/*
 * Runs every test (or those named in argv); prints "N passed, N failed"
 * (and ", N skipped" when some skipped). Exit: 1 on a failure or an unknown
 * test name, 77 when nothing ran but skips, else 0.
 */
static inline int check_run(const check_test *tests, int n, int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0, n_names = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--isa") == 0 && a + 1 < argc) {
            int rc = check_select_isa(argv[++a]);
            if (rc)
                return rc;
            continue;
        }
        n_names++;
        int known = 0;
        for (int i = 0; i < n; i++)
            known |= strcmp(argv[a], tests[i].name) == 0;
        if (!known) {
            fprintf(stderr, "FAIL %s: no such test in this program\n", argv[a]);
            failed++;
        }
    }
    for (int i = 0; i < n; i++) {
        int wanted = !n_names;
        for (int a = 1; a < argc && !wanted; a++)
            wanted = strcmp(argv[a], tests[i].name) == 0 && strcmp(argv[a - 1], "--isa") != 0;
        if (!wanted)
            continue;
        int before = check_failures, checks = check_count, skips = check_skips;
        tests[i].fn();
        if (check_failures != before) {
            failed++;
            fprintf(stderr, "FAIL %s\n", tests[i].name);
        } else if (check_count == checks && check_skips != skips) {
            skipped++;
            printf("skipped %s\n", tests[i].name);
        } else if (check_count == checks) {
            failed++;
            fprintf(stderr, "FAIL %s: checked nothing\n", tests[i].name);
        } else {
            passed++;
            if (check_skips != skips)
                printf("%s passed with parts skipped (SKIP lines above)\n", tests[i].name);
        }
    }
    if (skipped)
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    else
        printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : (!passed && skipped) ? 77 : 0;
}

#define CHECK_MAIN(...)                                                      \
    int main(int argc, char **argv)                                          \
    {                                                                        \
        static const check_test tests_[] = {__VA_ARGS__};                    \
        return check_run(tests_, (int)(sizeof(tests_) / sizeof(tests_[0])), argc, argv); \
    }
#define CHECK_TEST(fn) {#fn, fn}

#endif /* EVO_CHECK_H */
