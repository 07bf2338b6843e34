/*
 * adapt.c - a many-thread session's choice, run by run, between its
 * threads and the calling thread alone.
 *
 * The plan gives each step the threads its work pays for on this
 * machine as measured when the session was made. What a second thread
 * costs can change under a running session: on a virtual machine whose
 * host moves its CPUs about, the round trip of a cache line between the
 * two threads goes from about 60 ns (a shared cache) to 330-400 ns (a
 * socket apart) for minutes at a time, and then every step that reads
 * what the other thread wrote pays for it. NanoDet-m on 2 threads
 * (2026-12-06, `evo bench nanodet_m_416.onnx --threads 2`) ran 8.0 ms
 * in the first state and 15.3-15.6 ms in the second, its 1-thread 14.1
 * ms either way: its copies and channel shuffles went from 7 to 140 us
 * each. MobileNetV2 and ResNet18 stay faster on 2 threads in both.
 *
 * So the session times its runs both ways: it keeps the last few run
 * times of each and runs the way whose median is lower (the calling
 * thread only when it is at least SERIAL_GAIN faster, as the threads are
 * what the caller asked for), and now and then runs the other way to
 * keep that way's times fresh: rarely while the threads win (one run
 * alone costs the full difference), often while the calling thread
 * does (the threads' state is what changes, and a run on them costs
 * little then). The first run of a session is cold and is not counted.
 */
#include "exec/adapt.h"

/* The calling thread alone takes over when its median beats the threads' by this factor. */
#define SERIAL_GAIN 0.97
/* Runs between probes of the other way: while the threads win, while the calling thread does. */
#define PROBE_SERIAL_EVERY 256
#define PROBE_THREADS_EVERY 16
/*
 * Run times before the estimates decide: one on the calling thread (the
 * second run), two on the threads (which run until then). A choice made
 * on a stray time undoes itself: the way chosen gets a new time every
 * run.
 */
#define FIRST_SERIAL 1
#define FIRST_THREADS 2

int64_t evo_adapt_estimate(const evo_adapt *a, evo_run_way w)
{
    int n = a->n[w] < EVO_ADAPT_KEEP ? a->n[w] : EVO_ADAPT_KEEP;
    if (n == 0)
        return -1;
    int64_t v[EVO_ADAPT_KEEP];
    for (int i = 0; i < n; i++) {
        int64_t x = a->ns[w][i];
        int j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

evo_run_way evo_adapt_next(const evo_adapt *a)
{
    if (a->runs == 0)
        return EVO_RUN_THREADS;
    if (a->n[EVO_RUN_SERIAL] < FIRST_SERIAL)
        return EVO_RUN_SERIAL;
    if (a->n[EVO_RUN_THREADS] < FIRST_THREADS)
        return EVO_RUN_THREADS;
    int64_t every = a->way == EVO_RUN_THREADS ? PROBE_SERIAL_EVERY : PROBE_THREADS_EVERY;
    if (a->since_probe >= every)
        return a->way == EVO_RUN_THREADS ? EVO_RUN_SERIAL : EVO_RUN_THREADS;
    return a->way;
}

void evo_adapt_record(evo_adapt *a, evo_run_way w, int64_t ns)
{
    a->serial_runs += w == EVO_RUN_SERIAL;
    if (a->runs++ == 0)
        return;
    a->ns[w][a->n[w] % EVO_ADAPT_KEEP] = ns;
    a->n[w]++;
    a->since_probe = w == a->way ? a->since_probe + 1 : 0;
    if (a->n[EVO_RUN_SERIAL] < FIRST_SERIAL || a->n[EVO_RUN_THREADS] < FIRST_THREADS)
        return;
    int64_t t = evo_adapt_estimate(a, EVO_RUN_THREADS), s = evo_adapt_estimate(a, EVO_RUN_SERIAL);
    evo_run_way way = (double)s < SERIAL_GAIN * (double)t ? EVO_RUN_SERIAL : EVO_RUN_THREADS;
    if (way != a->way)
        a->since_probe = 0;
    a->way = way;
}
