/*
 * cmd_bench.c - `evo bench MODEL`: warm-up plus N timed runs on a fixed
 * pseudo-random input; prints latency statistics (mean, std, min, max,
 * p50, p99), FPS, achieved GFLOP/s, and with --profile a per-layer table,
 * slowest first. --json prints one machine-readable line instead.
 */
#include "cli.h"
#include "core/core.h"
#include "core/cpu.h"
#include "exec/session.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Steps whose multiply-adds are int8 (what the int8 dot-product peak bounds). */
static bool is_int8_op(const char *op)
{
    return op && (strncmp(op, "QLinear", 7) == 0 || strcmp(op, "ConvInteger") == 0 ||
                  strcmp(op, "MatMulInteger") == 0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(const double *sorted, int n, double p)
{
    if (n == 1)
        return sorted[0];
    double pos = p * (n - 1);
    int lo = (int)pos;
    int hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

static void fill_inputs(evo_model *model, evo_session *sess)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < evo_model_n_inputs(model); i++) {
        evo_tensor_desc d;
        evo_model_input_desc(model, i, &d);
        unsigned char *p = evo_session_input_data(sess, i);
        if (d.dtype == EVO_DTYPE_FLOAT) {
            float *f = (float *)p;
            for (size_t k = 0; k < d.size_bytes / 4; k++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                f[k] = (float)((s >> 40) & 0xffff) / 65536.0f;
            }
        } else {
            memset(p, 0, d.size_bytes);
        }
    }
}

/*
 * The inputs fill_inputs wrote, copied back before every run: a run may
 * reuse the inputs' memory once they are read (the planner gives it to
 * later values), and each run should see the same input.
 */
typedef struct saved_inputs {
    int n;
    void **data;
    size_t *bytes;
} saved_inputs;

static bool save_inputs(evo_model *model, evo_session *sess, saved_inputs *si)
{
    si->n = evo_model_n_inputs(model);
    si->data = calloc((size_t)si->n + 1, sizeof(void *));
    si->bytes = calloc((size_t)si->n + 1, sizeof(size_t));
    if (!si->data || !si->bytes)
        return false;
    for (int i = 0; i < si->n; i++) {
        evo_tensor_desc d;
        evo_model_input_desc(model, i, &d);
        si->bytes[i] = d.size_bytes;
        if (!(si->data[i] = malloc(d.size_bytes + 1)))
            return false;
        memcpy(si->data[i], evo_session_input_data(sess, i), d.size_bytes);
    }
    return true;
}

static void restore_inputs(evo_session *sess, const saved_inputs *si)
{
    for (int i = 0; i < si->n; i++)
        memcpy(evo_session_input_data(sess, i), si->data[i], si->bytes[i]);
}

static void free_inputs(saved_inputs *si)
{
    for (int i = 0; si->data && i < si->n; i++)
        free(si->data[i]);
    free(si->data);
    free(si->bytes);
}

typedef struct layer_row {
    evo_step_profile p;
    double total_ms, cpu_ms;
} layer_row;

static int cmp_row(const void *a, const void *b)
{
    double x = ((const layer_row *)a)->total_ms, y = ((const layer_row *)b)->total_ms;
    return (x < y) - (x > y);
}

/* , "layers": [...]: every step in plan order with its mean time over the runs. */
static void print_profile_json(evo_session *sess, const double *step_ms, const double *step_cpu, int runs)
{
    printf(", \"layers\": [");
    for (int i = 0; i < evo_session_n_steps(sess); i++) {
        evo_step_profile p;
        evo_session_profile(sess, i, &p);
        printf("%s{\"node\": ", i ? ", " : "");
        evo_json_put_string(stdout, p.node);
        printf(", \"output\": ");
        evo_json_put_string(stdout, p.output);
        printf(", \"op\": ");
        evo_json_put_string(stdout, p.op);
        printf(", \"kernel\": ");
        evo_json_put_string(stdout, p.kernel);
        printf(", \"ms\": %.4f, \"cpu_ms\": %.4f, \"gflop\": %.6f, \"mbyte\": %.4f, \"tasks\": %d, "
               "\"reference\": %s}",
               step_ms[i] / runs, step_cpu[i] / runs, p.flops / 1e9, p.bytes / 1e6, p.n_tasks,
               p.is_reference ? "true" : "false");
    }
    printf("]");
}

/*
 * The profile table, slowest step first. On more than one thread a cpu ms
 * column gives the time the step's tasks ran summed over the threads: set
 * beside the same step's ms on one thread, it shows which steps do more
 * work once split, apart from any waiting.
 */
static void print_profile(evo_session *sess, const double *step_ms, const double *step_cpu, int runs,
                          double total_ms, bool threads)
{
    int n = evo_session_n_steps(sess);
    layer_row *rows = calloc((size_t)n + 1, sizeof(layer_row));
    if (!rows)
        return;
    for (int i = 0; i < n; i++) {
        evo_session_profile(sess, i, &rows[i].p);
        rows[i].total_ms = step_ms[i] / runs;
        rows[i].cpu_ms = step_cpu[i] / runs;
    }
    qsort(rows, (size_t)n, sizeof(layer_row), cmp_row);
    printf("\n%-4s %-36s %-18s %-12s %3s %10s %7s %9s %8s", "#", "node", "op", "kernel", "tsk", "ms", "%",
           "GFLOP/s", "GB/s");
    printf(threads ? " %9s\n" : "\n", "cpu ms");
    double ref_ms = 0;
    int n_ref = 0;
    for (int i = 0; i < n; i++) {
        double ms = rows[i].total_ms;
        double gf = ms > 0 ? rows[i].p.flops / (ms * 1e6) : 0, gb = ms > 0 ? rows[i].p.bytes / (ms * 1e6) : 0;
        printf("%-4d %-36.36s %-18.18s %-12s %3d %10.3f %6.1f%% %9.2f %8.2f", i, rows[i].p.node, rows[i].p.op,
               rows[i].p.kernel, rows[i].p.n_tasks, ms, 100.0 * ms / total_ms, gf, gb);
        if (threads)
            printf(" %9.3f", rows[i].cpu_ms);
        printf("%s\n", rows[i].p.is_reference ? "  <- reference kernel" : "");
        if (rows[i].p.is_reference)
            ref_ms += ms, n_ref++;
    }
    if (n_ref)
        printf("\n%d step%s on reference kernels: %.3f ms, %.1f %% of the run\n", n_ref, n_ref == 1 ? "" : "s",
               ref_ms, 100.0 * ref_ms / total_ms);
    free(rows);
}

int evo_cmd_bench(int argc, char **argv)
{
    cli_model_opts mo = {.n_threads = 1};
    const char *path = NULL;
    int warmup = 3, runs = 20, rc = 1;
    bool profile = false, json = false;
    for (int i = 1; i < argc; i++) {
        int r = cli_parse_model_opt(argc, argv, &i, &mo);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc) {
            if (!cli_parse_int("--warmup", argv[++i], 0, 100000, &warmup))
                return 1;
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            if (!cli_parse_int("--runs", argv[++i], 1, 1000000, &runs))
                return 1;
        } else if (strcmp(argv[i], "--profile") == 0) {
            profile = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (argv[i][0] == '-') {
            return cli_fail("bench: unknown or incomplete option \"%s\"", argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!path)
        return cli_fail("usage: evo bench MODEL [--threads N] [--warmup W] [--runs R] [--profile] [--json]");

    evo_error err = {0};
    evo_model *model = NULL;
    evo_session *sess = NULL;
    double *times = NULL, *step_ms = NULL, *step_cpu = NULL;
    saved_inputs inputs = {0};
    evo_compile_options co = cli_compile_options(&mo);
    int64_t t0 = evo_now_ns();
    if (evo_model_load(path, &co, &model, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    double load_ms = (double)(evo_now_ns() - t0) / 1e6;
    evo_session_options so = cli_session_options(&mo);
    so.profile = profile;
    if (evo_session_create(model, &so, &sess, &err) != EVO_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
    fill_inputs(model, sess);
    int n_steps = evo_session_n_steps(sess);
    times = calloc((size_t)runs, sizeof(double));
    step_ms = calloc((size_t)n_steps + 1, sizeof(double));
    step_cpu = calloc((size_t)n_steps + 1, sizeof(double));
    if (!times || !step_ms || !step_cpu || !save_inputs(model, sess, &inputs)) {
        cli_fail("out of memory");
        goto done;
    }
    for (int i = 0; i < warmup; i++) {
        restore_inputs(sess, &inputs);
        if (evo_session_run(sess, &err) != EVO_OK) {
            cli_fail("%s", err.msg);
            goto done;
        }
    }
    double flops = 0, int8_ops = 0;
    int64_t serial0 = 0, serial1 = 0;
    evo_session_runs(sess, &serial0);
    for (int r = 0; r < runs; r++) {
        restore_inputs(sess, &inputs);
        int64_t a = evo_now_ns();
        if (evo_session_run(sess, &err) != EVO_OK) {
            cli_fail("%s", err.msg);
            goto done;
        }
        times[r] = (double)(evo_now_ns() - a) / 1e6;
        for (int i = 0; i < n_steps; i++) {
            evo_step_profile p;
            evo_session_profile(sess, i, &p);
            if (profile)
                step_ms[i] += p.time_ms, step_cpu[i] += p.cpu_ms;
            if (r == 0)
                flops += p.flops;
            if (r == 0 && is_int8_op(p.op))
                int8_ops += p.flops;
        }
    }
    evo_session_runs(sess, &serial1);
    int64_t serial_runs = serial1 - serial0; /* timed runs the session put on the calling thread alone */
    double sum = 0, sq = 0;
    for (int r = 0; r < runs; r++)
        sum += times[r];
    double mean = sum / runs;
    for (int r = 0; r < runs; r++)
        sq += (times[r] - mean) * (times[r] - mean);
    double std = runs > 1 ? sqrt(sq / (runs - 1)) : 0;
    qsort(times, (size_t)runs, sizeof(double), cmp_double);
    double p50 = percentile(times, runs, 0.5), p99 = percentile(times, runs, 0.99);
    double gflops = flops / (p50 * 1e6);
    /* how far apart the threads sat while the runs ran (first: the peak below runs threads of its own): a few
       hundred ns when a 2-CPU VM spans two sockets */
    double handoff_ns = (double)evo_pool_handoff_ns(evo_session_pool(sess));
    /* this machine's FMA peak for the ISA the kernels ran at, on as many threads */
    evo_isa isa = evo_cpu_best_isa();
    const char *isa_name = mo.isa ? mo.isa : getenv("EVO_ISA");
    evo_isa cap;
    if (isa_name && isa_name[0] && evo_isa_parse(isa_name, &cap) && cap < isa)
        isa = cap;
    double peak = 0;
    if (cli_peak_isa(isa) != EVO_ISA_REF)
        peak = cli_measure_peak(cli_peak_isa(isa), mo.n_threads, CLI_PEAK_ITERS / 4);
    double pct = peak > 0 ? 100.0 * gflops / peak : 0;
    /* the int8 steps' share of the work, against the int8 dot-product peak */
    double int8_peak = int8_ops > 0 ? cli_measure_int8_peak(isa, mo.n_threads, CLI_PEAK_ITERS / 4) : 0;
    if (json) {
        printf("{\"model\": ");
        evo_json_put_string(stdout, path);
        printf(", \"threads\": %d, \"runs\": %d, \"mean_ms\": %.4f, \"std_ms\": %.4f, "
               "\"min_ms\": %.4f, \"max_ms\": %.4f, \"p50_ms\": %.4f, \"p99_ms\": %.4f, \"fps\": %.2f, "
               "\"gflop\": %.4f, \"gflops\": %.2f, \"peak_gflops\": %.2f, \"peak_pct\": %.1f, "
               "\"int8_gop\": %.4f, \"int8_peak_gops\": %.2f, "
               "\"load_ms\": %.2f, \"arena_bytes\": %zu, \"dispatch_us\": %.3f, \"handoff_ns\": %.0f, "
               "\"serial_steps\": %d, \"serial_runs\": %lld",
               mo.n_threads, runs, mean, std, times[0], times[runs - 1], p50, p99, 1000.0 / p50, flops / 1e9,
               gflops, peak, pct, int8_ops / 1e9, int8_peak, load_ms, evo_session_arena_bytes(sess),
               (double)evo_session_dispatch_ns(sess) / 1e3, handoff_ns, evo_session_serial_steps(sess),
               (long long)serial_runs);
        if (profile)
            print_profile_json(sess, step_ms, step_cpu, runs);
        printf("}\n");
    } else {
        printf("model:    %s (load+compile %.1f ms)\n", path, load_ms);
        printf("threads:  %d, warm-up %d, runs %d\n", mo.n_threads, warmup, runs);
        if (mo.n_threads > 1)
            printf("dispatch: %.2f us to fork and join a parallel step (measured); %d of %d steps too small "
                   "to split run on the calling thread\n",
                   (double)evo_session_dispatch_ns(sess) / 1e3, evo_session_serial_steps(sess), n_steps);
        if (mo.n_threads > 1 && !profile && !mo.fixed_threads)
            printf("runs:     %lld of %d on the calling thread alone (to time that way, or while it measured "
                   "faster than %d threads; --fixed-threads: never)\n",
                   (long long)serial_runs, runs, mo.n_threads);
        if (mo.n_threads > 1 && handoff_ns > 0)
            printf("handoff:  %.0f ns for a cache line to go to another thread and back (measured after the runs)\n",
                   handoff_ns);
        printf("latency:  mean %.3f ms, std %.3f, min %.3f, max %.3f, p50 %.3f, p99 %.3f\n", mean, std,
               times[0], times[runs - 1], p50, p99);
        printf("fps:      %.2f (p50)\n", 1000.0 / p50);
        printf("compute:  %.3f GFLOP per run, %.2f GFLOP/s (p50)", flops / 1e9, gflops);
        if (peak > 0)
            printf(", %.0f %% of this machine's FMA peak (%.1f GFLOP/s on %d thread%s)", pct, peak,
                   mo.n_threads, mo.n_threads == 1 ? "" : "s");
        printf("\n");
        if (int8_ops > 0) {
            printf("int8:     %.3f GOP per run in int8 steps (%.0f %%)", int8_ops / 1e9, 100.0 * int8_ops / flops);
            if (int8_peak > 0)
                printf("; this machine's int8 dot-product peak %.1f GOP/s on %d thread%s (%s); the whole run at "
                       "%.0f %% of it",
                       int8_peak, mo.n_threads, mo.n_threads == 1 ? "" : "s",
                       cli_int8_peak_isa(isa) == EVO_ISA_VNNI ? "vpdpbusd" : "sdot", 100.0 * gflops / int8_peak);
            printf("\n");
        }
        printf("memory:   arena %.2f MB\n", (double)evo_session_arena_bytes(sess) / 1e6);
        if (profile)
            print_profile(sess, step_ms, step_cpu, runs, sum / runs, mo.n_threads > 1);
    }
    rc = 0;
done:
    free_inputs(&inputs);
    free(times);
    free(step_ms);
    free(step_cpu);
    evo_session_free(sess);
    evo_model_free(model);
    return rc;
}
