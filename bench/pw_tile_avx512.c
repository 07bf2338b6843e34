/*
 * pw_tile_avx512.c - GFLOP/s of register tiles for a 1x1 conv with vectors
 * over output channels (the expansion half of pwdwc_avx512), on one
 * thread, input and output in cache, for tuning (not part of the tests):
 *
 *     build/evo_pw_tile [--pixels P] [--runs R] K [K ...]
 *
 * For each K (input channels): 96 output channels over P pixels (default
 * 784, a 28 x 28 map) with tiles of 16 channels x 28 pixels (pwdwc's:
 * one weight vector and 28 broadcasts per k), the same with the first k a
 * multiply instead of zeroed accumulators, and 32 channels x 14 pixels
 * (two weight vectors, 14 broadcasts); the best of R sweeps. Every tile
 * ends by storing its 28 vectors, after K FMAs each: at small K that
 * store, not the FMAs, sets the rate.
 */
#include "core/cpu.h"

#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NJ 28

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* 16 channels x 28 pixels; x rows ld floats apart, w [k][16]; peel: the first k multiplies. */
__attribute__((noinline)) static void tile16(const float *x, int64_t ld, const float *w, int64_t k, bool peel,
                                             float *o)
{
    __m512 acc[NJ], wv = _mm512_load_ps(w);
    for (int j = 0; j < NJ; j++)
        acc[j] = peel ? _mm512_mul_ps(_mm512_set1_ps(x[j]), wv) : _mm512_setzero_ps();
    for (int64_t kk = peel; kk < k; kk++) {
        wv = _mm512_load_ps(w + kk * 16);
        _Pragma("GCC unroll 32") for (int j = 0; j < NJ; j++) acc[j] =
            _mm512_fmadd_ps(_mm512_set1_ps(x[kk * ld + j]), wv, acc[j]);
    }
    for (int j = 0; j < NJ; j++)
        _mm512_store_ps(o + j * 16, acc[j]);
}

/* 32 channels x 14 pixels; w [k][32]. */
__attribute__((noinline)) static void tile32(const float *x, int64_t ld, const float *w, int64_t k, float *o)
{
    __m512 acc[NJ];
    for (int j = 0; j < NJ; j++)
        acc[j] = _mm512_setzero_ps();
    for (int64_t kk = 0; kk < k; kk++) {
        __m512 w0 = _mm512_load_ps(w + kk * 32), w1 = _mm512_load_ps(w + kk * 32 + 16);
        _Pragma("GCC unroll 16") for (int j = 0; j < NJ / 2; j++)
        {
            __m512 b = _mm512_set1_ps(x[kk * ld + j]);
            acc[j] = _mm512_fmadd_ps(b, w0, acc[j]);
            acc[NJ / 2 + j] = _mm512_fmadd_ps(b, w1, acc[NJ / 2 + j]);
        }
    }
    for (int j = 0; j < NJ; j++)
        _mm512_store_ps(o + j * 16, acc[j]);
}

static void run_k(int64_t k, int64_t pixels, int runs)
{
    const int64_t c_out = 96, px = pixels / NJ * NJ;
    float *x = aligned_alloc(64, (size_t)(k * pixels) * sizeof(float));
    float *w = aligned_alloc(64, (size_t)(k * c_out) * sizeof(float));
    float *o = aligned_alloc(64, (size_t)(c_out * pixels) * sizeof(float));
    if (!x || !w || !o) {
        fprintf(stderr, "evo_pw_tile: out of memory\n");
        exit(1);
    }
    for (int64_t i = 0; i < k * pixels; i++)
        x[i] = (float)(i % 7) * 0.125f;
    for (int64_t i = 0; i < k * c_out; i++)
        w[i] = (float)(i % 5) * 0.25f;
    memset(o, 0, (size_t)(c_out * pixels) * sizeof(float));
    double best[3] = {1e30, 1e30, 1e30};
    for (int r = 0; r < runs; r++)
        for (int v = 0; v < 3; v++) {
            double t0 = now_s();
            int64_t cw = v == 2 ? 32 : 16, pj = v == 2 ? NJ / 2 : NJ;
            for (int64_t cb = 0; cb < c_out / cw; cb++)
                for (int64_t p = 0; p + pj <= px; p += pj) {
                    float *dst = o + (cb * pixels + p) * 16;
                    if (v == 2)
                        tile32(x + p, pixels, w + cb * k * 32, k, dst);
                    else
                        tile16(x + p, pixels, w + cb * k * 16, k, v == 1, dst);
                }
            double t = now_s() - t0;
            best[v] = t < best[v] ? t : best[v];
        }
    double flop = 2.0 * (double)(k * c_out * px);
    printf("K %4lld: 16x28 %6.1f  16x28 first-k multiply %6.1f  32x14 %6.1f GFLOP/s\n", (long long)k,
           flop / best[0] * 1e-9, flop / best[1] * 1e-9, flop / best[2] * 1e-9);
    free(x);
    free(w);
    free(o);
}

int main(int argc, char **argv)
{
    if (!evo_cpu_has_isa(EVO_ISA_AVX512)) {
        fprintf(stderr, "evo_pw_tile: this CPU has no AVX-512\n");
        return 1;
    }
    int64_t pixels = 784;
    int runs = 200, n_k = 0;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "--pixels") == 0 || strcmp(argv[i], "--runs") == 0) && i + 1 < argc) {
            long v = strtol(argv[i + 1], NULL, 10);
            if (v < 1 || v > (1 << 20)) {
                fprintf(stderr, "evo_pw_tile: %s must be 1..1048576\n", argv[i]);
                return 2;
            }
            if (argv[i][2] == 'p')
                pixels = v < NJ ? NJ : v;
            else
                runs = (int)v;
            i++;
            continue;
        }
        long k = strtol(argv[i], NULL, 10);
        if (k < 1 || k > 4096) {
            fprintf(stderr, "usage: evo_pw_tile [--pixels P] [--runs R] K [K ...]  (K 1..4096, got %s)\n", argv[i]);
            return 2;
        }
        run_k(k, pixels, runs);
        n_k++;
    }
    if (!n_k)
        fprintf(stderr, "usage: evo_pw_tile [--pixels P] [--runs R] K [K ...]\n");
    return n_k ? 0 : 2;
}
