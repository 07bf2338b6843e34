/*
 * test_cpu_cap.c - $EVO_ISA caps CPU detection: the features above the
 * tier read as absent, so kernel choice, kernels' own feature checks and
 * the tests' --isa tiers all see the machine of that tier. Detection runs
 * once per process, so each cap is read in a child process.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

typedef struct seen {
    evo_cpu_info info;
    evo_isa best;
    bool has[EVO_ISA_AMX + 1]; /* AMX: the last tier */
} seen;

/* What a fresh process with $EVO_ISA = cap (NULL: unset) detects; false if the child failed. */
static bool detect_with(const char *cap, seen *out)
{
    int fd[2];
    if (pipe(fd) != 0)
        return false;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return false;
    }
    if (pid == 0) {
        close(fd[0]);
        if (cap)
            setenv("EVO_ISA", cap, 1);
        else
            unsetenv("EVO_ISA");
        seen s;
        memset(&s, 0, sizeof(s));
        s.info = *evo_cpu_get();
        s.best = evo_cpu_best_isa();
        for (int i = 0; i <= EVO_ISA_AMX; i++)
            s.has[i] = evo_cpu_has_isa((evo_isa)i);
        _exit(write(fd[1], &s, sizeof(s)) == (ssize_t)sizeof(s) ? 0 : 1);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], out, sizeof(*out));
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    return got == (ssize_t)sizeof(*out) && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void test_caps(void)
{
    seen host, s;
    CHECK(detect_with(NULL, &host));
    CHECK(host.has[EVO_ISA_REF] && host.has[host.best]);

    CHECK(detect_with("ref", &s));
    CHECK(s.best == EVO_ISA_REF && !s.info.avx2 && !s.info.fma && !s.info.avx512f && !s.info.avx512vnni &&
          !s.info.avx512vbmi && !s.info.avx_vnni && !s.info.amx_tile && !s.info.neon);
    for (int i = EVO_ISA_REF + 1; i <= EVO_ISA_AMX; i++)
        CHECK_MSG(!s.has[i], "capped at ref, the CPU still has %s", evo_isa_name((evo_isa)i));

    CHECK(detect_with("avx2", &s));
    CHECK(s.info.avx2 == host.info.avx2 && s.info.fma == host.info.fma && s.info.avx_vnni == host.info.avx_vnni);
    CHECK(!s.info.avx512f && !s.info.avx512bw && !s.info.avx512vnni && !s.info.avx512vbmi && !s.info.amx_tile);
    CHECK(s.best <= EVO_ISA_AVX2);
    CHECK(s.has[EVO_ISA_AVX2] == host.has[EVO_ISA_AVX2] && !s.has[EVO_ISA_AVX512] && !s.has[EVO_ISA_VNNI]);

    CHECK(detect_with("avx512", &s));
    CHECK(s.info.avx512f == host.info.avx512f && s.info.avx512vbmi == host.info.avx512vbmi);
    CHECK(!s.info.avx512vnni && !s.info.amx_tile && !s.has[EVO_ISA_VNNI]);
    CHECK(s.has[EVO_ISA_AVX512] == host.has[EVO_ISA_AVX512]);

    /* the top tier and an unknown name leave the CPU as it is */
    CHECK(detect_with("amx", &s));
    CHECK(memcmp(&s.info, &host.info, sizeof(s.info)) == 0 && s.best == host.best);
    CHECK(detect_with("frobnicate", &s));
    CHECK(memcmp(&s.info, &host.info, sizeof(s.info)) == 0 && s.best == host.best);
}

CHECK_MAIN(CHECK_TEST(test_caps))
