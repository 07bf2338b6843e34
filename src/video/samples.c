/*
 * samples.c - timing samples for the per-stage mean, p50 and p99 of a
 * stream. Every sample is kept up to a cap (about an hour of video at 30
 * FPS); past it a uniform reservoir of the cap's size stands in for the
 * whole run, so a camera left running never grows memory without bound.
 */
#include "video/video.h"

#include <stdlib.h>

#define SAMPLES_CAP ((int64_t)1 << 17)

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17; // xorshift64
    return *s;
}

void evo_samples_add(evo_samples *s, double ms)
{
    s->seen++;
    s->sum += ms;
    if (s->n < SAMPLES_CAP) {
        if (s->n == s->cap) {
            int64_t cap = s->cap ? 2 * s->cap : 256;
            float *v = realloc(s->v, sizeof(float) * (size_t)cap);
            if (!v)
                return; // the mean stays exact; the percentiles use what was kept
            s->v = v, s->cap = cap;
        }
        s->v[s->n++] = (float)ms;
        return;
    }
    if (!s->rng)
        s->rng = 0x9e3779b97f4a7c15ull;
    uint64_t j = next_rand(&s->rng) % (uint64_t)s->seen;
    if (j < (uint64_t)s->n)
        s->v[j] = (float)ms;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v. */
static double rank(const float *v, int64_t n, double p)
{
    int64_t k = (int64_t)(p * (double)n + 0.999999) - 1;
    return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

void evo_samples_summary(evo_samples *s, double *mean, double *p50, double *p99)
{
    *mean = *p50 = *p99 = 0;
    if (s->seen == 0 || s->n == 0)
        return;
    qsort(s->v, (size_t)s->n, sizeof(float), cmp_float);
    *mean = s->sum / (double)s->seen;
    *p50 = rank(s->v, s->n, 0.50);
    *p99 = rank(s->v, s->n, 0.99);
}

void evo_samples_free(evo_samples *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = s->seen = 0;
}
