/*
 * cpu.c - CPU feature detection, run once under pthread_once: x86 through
 * the compiler's cpuid helpers, AArch64 from the hardware capabilities the
 * kernel passes in the auxiliary vector (getauxval), which also works
 * unprivileged and under qemu-user, where reading the ID registers may not.
 */
#include "core/cpu.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
/* The bits of <asm/hwcap.h>, spelled out for older kernel headers. */
#define EVO_HWCAP_FPHP (1UL << 9)
#define EVO_HWCAP_ASIMDHP (1UL << 10)
#define EVO_HWCAP_ASIMD (1UL << 1)
#define EVO_HWCAP_ASIMDDP (1UL << 20)
#define EVO_HWCAP_SVE (1UL << 22)
#define EVO_HWCAP2_I8MM (1UL << 13)
#endif

static evo_cpu_info cpu_info;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void cpu_detect(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    cpu_info.avx2 = __builtin_cpu_supports("avx2");
    cpu_info.fma = __builtin_cpu_supports("fma");
    cpu_info.avx512f = __builtin_cpu_supports("avx512f");
    cpu_info.avx512bw = __builtin_cpu_supports("avx512bw");
    cpu_info.avx512vl = __builtin_cpu_supports("avx512vl");
    cpu_info.avx512dq = __builtin_cpu_supports("avx512dq");
    cpu_info.avx512vnni = __builtin_cpu_supports("avx512vnni");
    cpu_info.avx512vbmi = __builtin_cpu_supports("avx512vbmi");
    {
        unsigned a, b, c, d;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
        cpu_info.f16c = (c >> 29) & 1;
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(0));
        cpu_info.amx_tile = (d >> 24) & 1;
        cpu_info.amx_int8 = (d >> 25) & 1;
        /* AVX-VNNI (vpdpbusd on ymm, VEX): leaf 7 subleaf 1, EAX bit 4; usable only with AVX2 */
        __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(7), "c"(1));
        cpu_info.avx_vnni = ((a >> 4) & 1) && cpu_info.avx2;
    }
#elif defined(__aarch64__) && defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    cpu_info.neon = (hw & EVO_HWCAP_ASIMD) != 0;
    cpu_info.fp16 = (hw & EVO_HWCAP_FPHP) && (hw & EVO_HWCAP_ASIMDHP);
    cpu_info.dotprod = cpu_info.neon && (hw & EVO_HWCAP_ASIMDDP);
    cpu_info.i8mm = cpu_info.dotprod && (hw2 & EVO_HWCAP2_I8MM);
    cpu_info.sve = (hw & EVO_HWCAP_SVE) != 0;
#elif defined(__aarch64__)
    cpu_info.neon = true; /* Advanced SIMD is part of every AArch64 core */
#endif
    /* $EVO_ISA caps what the kernels may use: the features above the tier read as absent */
    const char *cap_name = getenv("EVO_ISA");
    evo_isa cap;
    if (!cap_name || !evo_isa_parse(cap_name, &cap))
        return;
    if (cap < EVO_ISA_AMX)
        cpu_info.amx_tile = cpu_info.amx_int8 = false;
    if (cap < EVO_ISA_VNNI)
        cpu_info.avx512vnni = false;
    if (cap < EVO_ISA_AVX512)
        cpu_info.avx512f = cpu_info.avx512bw = cpu_info.avx512vl = cpu_info.avx512dq = cpu_info.avx512vbmi = false;
    if (cap < EVO_ISA_AVX2)
        cpu_info.avx2 = cpu_info.fma = cpu_info.f16c = cpu_info.avx_vnni = false;
    if (cap < EVO_ISA_I8MM)
        cpu_info.i8mm = false;
    if (cap < EVO_ISA_DOTPROD)
        cpu_info.dotprod = false;
    if (cap == EVO_ISA_REF)
        cpu_info.neon = cpu_info.fp16 = false;
}

const evo_cpu_info *evo_cpu_get(void)
{
    pthread_once(&cpu_once, cpu_detect);
    return &cpu_info;
}

evo_isa evo_cpu_best_isa(void)
{
    const evo_cpu_info *c = evo_cpu_get();
    if (c->i8mm)
        return EVO_ISA_I8MM;
    if (c->dotprod)
        return EVO_ISA_DOTPROD;
    if (c->neon)
        return EVO_ISA_NEON;
    bool avx512 = c->avx512f && c->avx512bw && c->avx512vl && c->avx512dq;
    if (avx512 && c->avx512vnni)
        return EVO_ISA_VNNI;
    if (avx512)
        return EVO_ISA_AVX512;
    if (c->avx2 && c->fma)
        return EVO_ISA_AVX2;
    return EVO_ISA_REF;
}

bool evo_cpu_has_isa(evo_isa isa)
{
    const evo_cpu_info *c = evo_cpu_get();
    bool avx512 = c->avx512f && c->avx512bw && c->avx512vl && c->avx512dq;
    switch (isa) {
    case EVO_ISA_REF:
        return true;
    case EVO_ISA_AVX2:
        return c->avx2 && c->fma;
    case EVO_ISA_AVX512:
        return avx512;
    case EVO_ISA_VNNI:
        return avx512 && c->avx512vnni;
    case EVO_ISA_AMX:
        return avx512 && c->amx_tile && c->amx_int8;
    case EVO_ISA_NEON:
        return c->neon;
    case EVO_ISA_DOTPROD:
        return c->neon && c->dotprod;
    case EVO_ISA_I8MM:
        return c->neon && c->dotprod && c->i8mm;
    }
    return false;
}

static const char *const isa_names[] = {"ref", "neon", "dotprod", "i8mm", "avx2", "avx512", "vnni", "amx"};

bool evo_isa_native(evo_isa isa)
{
#if defined(__aarch64__)
    return isa <= EVO_ISA_I8MM;
#elif defined(__x86_64__) || defined(__i386__)
    return isa == EVO_ISA_REF || isa >= EVO_ISA_AVX2;
#else
    return isa == EVO_ISA_REF;
#endif
}

const char *evo_isa_choices(void)
{
#if defined(__aarch64__)
    return "ref, neon, dotprod, i8mm";
#elif defined(__x86_64__) || defined(__i386__)
    return "ref, avx2, avx512, vnni, amx";
#else
    return "ref";
#endif
}

const char *evo_isa_name(evo_isa isa)
{
    return (isa >= 0 && isa < (int)(sizeof(isa_names) / sizeof(isa_names[0]))) ? isa_names[isa]
                                                                              : "unknown";
}

bool evo_isa_parse(const char *s, evo_isa *out)
{
    for (int i = 0; i < (int)(sizeof(isa_names) / sizeof(isa_names[0])); i++) {
        if (strcmp(s, isa_names[i]) == 0) {
            *out = (evo_isa)i;
            return true;
        }
    }
    return false;
}
