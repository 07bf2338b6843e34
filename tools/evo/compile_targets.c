/*
 * compile_targets.c - `evo compile MODEL --target a,b,c`: one output per
 * target, the targets compiled in parallel (one thread each, at most one per
 * core), each through the compile cache (cache.c).
 *
 * The int8 graph every NPU target places comes from MODEL itself (an int8
 * .evo from evo quantize) or, for a float ONNX model, from quantizing it
 * here with --calib DIR (evo quantize's options forwarded; --target-sqnr 0
 * unless given: an NPU runs every conv int8). The quantized graph is cached
 * too, so a new target reuses it. Per target: the exact rewrites
 * (src/npu/rewrite.c), the placement recorded in the .evo, the file written.
 *
 * Names: one target writes -o OUT (default MODEL.evo); several write
 * OUT with ".TARGET" before its extension: yolov5s.ethos-u55-128.evo.
 * Cache keys hash the model's bytes, the options that change the result
 * (with the calibration images' names, sizes and times), the target and the
 * evo executable's size and time, so a rebuilt evo does not reuse entries.
 */
#include "cli.h"
#include "core/core.h"
#include "exec/model.h"
#include "npu/npu.h"
#include "plan/evo_file.h"

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TARGETS 32

typedef struct job {
    const cli_compile_req *req;
    const evo_npu_target *t;
    const char *src;       /* the graph compiled for the target: an .evo or the ONNX model */
    const char *cache_dir; /* NULL: no cache */
    char out[4096];
    char key[33];
    bool hit;
    double ms;
    int rc;
    char msg[1536];
} job;

typedef struct pool {
    job *jobs;
    int n;
    atomic_int next;
} pool;

static void say(job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(job *j, const char *fmt, ...)
{
    size_t len = strlen(j->msg);
    va_list ap;
    va_start(ap, fmt);
    if (len < sizeof(j->msg))
        vsnprintf(j->msg + len, sizeof(j->msg) - len, fmt, ap);
    va_end(ap);
}

/* OUT with ".T" before the extension (or appended). */
static int target_output(const char *out, const char *t, char *buf, size_t cap)
{
    const char *slash = strrchr(out, '/'), *dot = strrchr(out, '.');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - out) : strlen(out);
    int n = snprintf(buf, cap, "%.*s.%s%s", (int)stem, out, t, out + stem);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* Compiles one target: cached file, or load + rewrite + place + write. */
static void compile_one(job *j)
{
    const cli_compile_req *r = j->req;
    int64_t t0 = evo_now_ns();
    char entry[4200], note[4400], tmp[4400];
    if (j->cache_dir && cli_cache_lookup(j->cache_dir, j->key, entry, sizeof(entry), note, sizeof(note))) {
        j->hit = true;
        if (cli_copy_file(entry, j->out) != 0) {
            j->rc = 1;
            say(j, "evo: %s: cannot write %s\n", j->t->name, j->out);
        }
        j->ms = (double)(evo_now_ns() - t0) / 1e6;
        return;
    }
    if (j->cache_dir && note[0])
        say(j, "evo: %s\n", note);
    evo_compile_options co = evo_compile_options_default();
    co.input_shapes = r->mo->shapes;
    co.n_input_shapes = r->mo->n_shapes;
    co.disable_passes = r->mo->disable_passes;
    co.act_levels = evo_file_path_has_magic(j->src) ? NULL : r->mo->act;
    evo_error err = {0};
    evo_graph *g = NULL;
    evo_npu_placement pl;
    evo_npu_rewrites rw = {{0}};
    if (evo_graph_load_compiled(j->src, NULL, 0, &co, &g, &err) != EVO_OK)
        goto fail;
    g->npu_target = NULL; /* placed anew: a placement the file records is for its own node ids */
    g->npu_place = NULL;
    if (r->rewrite && j->t->table && evo_npu_rewrite(g, j->t->table, &rw, &err) != EVO_OK)
        goto fail;
    if (evo_npu_record(g, j->t, &pl, &err) != EVO_OK)
        goto fail;
    if (r->rewrite && j->t->table) {
        char buf[256];
        say(j, "evo: target %s: rewritten: %s (exact: the same function)\n", j->t->name,
            evo_npu_rewrites_str(&rw, buf, sizeof(buf)));
    }
    say(j, "evo: target %s: %d of %d nodes, %.1f%% of the MACs on the NPU, %d NPU subgraphs, %d transitions\n",
        j->t->name, pl.n_npu, pl.n_nodes, pl.macs_total > 0 ? 100.0 * pl.macs_npu / pl.macs_total : 0.0,
        pl.n_subgraphs, pl.n_transitions);
    evo_npu_placement_free(&pl);
    size_t bytes = 0;
    if (!j->cache_dir) {
        if (evo_file_write(g, j->out, &bytes, &err) != EVO_OK)
            goto fail;
    } else {
        snprintf(tmp, sizeof(tmp), "%s/%s.%ld.%lx.tmp", j->cache_dir, j->key, (long)getpid(),
                 (unsigned long)pthread_self());
        if (evo_file_write(g, tmp, &bytes, &err) != EVO_OK)
            goto fail;
        if (cli_cache_store(j->cache_dir, j->key, tmp) != 0 ||
            !cli_cache_lookup(j->cache_dir, j->key, entry, sizeof(entry), note, sizeof(note)) ||
            cli_copy_file(entry, j->out) != 0) {
            unlink(tmp);
            evo_graph_free(g);
            j->rc = 1;
            say(j, "evo: %s: cannot write %s through the cache %s\n", j->t->name, j->out, j->cache_dir);
            return;
        }
    }
    evo_graph_free(g);
    j->ms = (double)(evo_now_ns() - t0) / 1e6;
    return;
fail:
    evo_graph_free(g);
    j->rc = 1;
    say(j, "evo: %s\n", err.msg);
}

static void *worker(void *arg)
{
    pool *p = arg;
    for (int i; (i = atomic_fetch_add(&p->next, 1)) < p->n;)
        compile_one(&p->jobs[i]);
    return NULL;
}

/* Adds what identifies this evo executable (size and time) to h. */
static void hash_exe(cli_hash *h)
{
    struct stat st;
    cli_hash_update(h, EVO_VERSION_STRING, sizeof(EVO_VERSION_STRING));
    if (stat("/proc/self/exe", &st) == 0) {
        int64_t id[3] = {(int64_t)st.st_size, (int64_t)st.st_mtim.tv_sec, (int64_t)st.st_mtim.tv_nsec};
        cli_hash_update(h, id, sizeof(id));
    }
}

/* Adds the calibration images' names, sizes and times to h (the --calib DIR of the forwarded options); 1 after
   printing why the folder cannot be listed. */
static int hash_calib(const cli_compile_req *r, cli_hash *h)
{
    for (int i = 0; i + 1 < r->quant_argc; i++) {
        if (strcmp(r->quant_argv[i], "--calib") != 0)
            continue;
        char **paths = NULL;
        int n = 0;
        if (cli_list_images(r->quant_argv[i + 1], 100000, &paths, &n) != 0)
            return 1;
        for (int k = 0; k < n; k++) {
            struct stat st;
            cli_hash_update(h, paths[k], strlen(paths[k]) + 1);
            if (stat(paths[k], &st) == 0) {
                int64_t id[3] = {(int64_t)st.st_size, (int64_t)st.st_mtim.tv_sec, (int64_t)st.st_mtim.tv_nsec};
                cli_hash_update(h, id, sizeof(id));
            }
        }
        cli_free_list(paths, n);
    }
    return 0;
}

static bool has_calib(const cli_compile_req *r)
{
    for (int i = 0; i + 1 < r->quant_argc; i++)
        if (strcmp(r->quant_argv[i], "--calib") == 0)
            return true;
    return false;
}

/* The CPUs this process may run on (its affinity mask; taskset narrows it), at least 1. */
static int usable_cpus(void)
{
    cpu_set_t allowed;
    int n = sched_getaffinity(0, sizeof(allowed), &allowed) == 0 ? CPU_COUNT(&allowed) : 1;
    return n < 1 ? 1 : n > 64 ? 64 : n;
}

/*
 * Quantizes the ONNX model into path (evo quantize with the forwarded
 * options), calibrating on --threads N threads, else on every usable CPU
 * (the result does not depend on the thread count).
 */
static int quantize_to(const cli_compile_req *r, const char *path)
{
    char **argv = calloc((size_t)r->quant_argc + 10, sizeof(*argv));
    if (!argv)
        return cli_fail("compile: out of memory");
    char threads[16];
    snprintf(threads, sizeof threads, "%d", r->mo->n_threads > 0 ? r->mo->n_threads : usable_cpus());
    int n = 0;
    argv[n++] = "quantize";
    argv[n++] = (char *)r->model;
    argv[n++] = "--threads";
    argv[n++] = threads;
    argv[n++] = "--target-sqnr"; /* every conv int8, as an NPU runs them; a later --target-sqnr wins */
    argv[n++] = "0";
    for (int i = 0; i < r->quant_argc; i++)
        argv[n++] = r->quant_argv[i];
    argv[n++] = "-o";
    argv[n++] = (char *)path;
    int rc = evo_cmd_quantize(n, argv);
    free(argv);
    return rc;
}

/* The targets of a comma-separated list, each once; 1 after printing an error. */
static int parse_targets(const char *list, const evo_npu_target **ts, int *n)
{
    *n = 0;
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        char name[128];
        if (len == 0 || len >= sizeof(name))
            return cli_fail("compile: --target \"%s\": empty or overlong target name", list);
        memcpy(name, p, len);
        name[len] = 0;
        const evo_npu_target *t;
        if (cli_npu_target(name, &t))
            return 1;
        bool dup = false;
        for (int k = 0; k < *n; k++)
            dup |= ts[k] == t;
        if (!dup && *n >= MAX_TARGETS)
            return cli_fail("compile: more than %d targets", MAX_TARGETS);
        if (!dup)
            ts[(*n)++] = t;
        p = e ? e + 1 : NULL;
    }
    return *n ? 0 : cli_fail("compile: --target needs at least one target");
}

/* Options that do not fit the model: 1 after printing why. */
static int check_options(const cli_compile_req *r)
{
    bool is_evo = evo_file_path_has_magic(r->model);
    if (is_evo && r->mo->act)
        return cli_fail("%s: activation levels (--act %s) apply to a float ONNX model before quantization, not to "
                        "a compiled .evo",
                        r->model, r->mo->act);
    if (is_evo && r->quant_argc)
        return cli_fail("compile: %s is a compiled .evo: quantize options (--calib ...) apply to an ONNX model",
                        r->model);
    if (!is_evo && r->quant_argc && !has_calib(r))
        return cli_fail("compile: unknown option \"%s\" (quantize options need --calib DIR)", r->quant_argv[0]);
    return 0;
}

/* The graph source: MODEL when it is an int8 .evo (or no target needs int8), else its quantized form. */
static int prepare_source(const cli_compile_req *r, bool need_int8, const char *dir, const cli_hash *base,
                          char *src, size_t cap, bool *tmp_src)
{
    *tmp_src = false;
    bool is_evo = evo_file_path_has_magic(r->model);
    if (is_evo || !r->quant_argc) {
        snprintf(src, cap, "%s", r->model);
        if (!need_int8)
            return 0;
        evo_graph *g = NULL;
        evo_error err = {0};
        evo_compile_options co = evo_compile_options_default();
        co.input_shapes = r->mo->shapes;
        co.n_input_shapes = r->mo->n_shapes;
        co.disable_passes = r->mo->disable_passes;
        co.act_levels = r->mo->act;
        if (evo_graph_load_compiled(r->model, NULL, 0, &co, &g, &err) != EVO_OK)
            return cli_fail("%s", err.msg);
        bool int8 = evo_npu_graph_is_int8(g); /* an ONNX model may be quantized already (QLinearConv, QDQ) */
        evo_graph_free(g);
        if (int8)
            return 0;
        if (!is_evo)
            return cli_fail("%s: a float model; an NPU target places int8 graphs: give --calib DIR (calibration "
                            "images, with the model's --preset) to quantize it here, or an int8 .evo from "
                            "evo quantize %s --calib DIR -o MODEL_int8.evo",
                            r->model, r->model);
        return cli_fail("%s: a float .evo; an NPU target places int8 graphs: compile the ONNX model with "
                        "--calib DIR, or give the int8 .evo from evo quantize",
                        r->model);
        return 0;
    }
    cli_hash h = *base;
    char key[33], note[4400];
    cli_hash_update(&h, "int8", 5);
    cli_hash_str(&h, key);
    if (dir && cli_cache_lookup(dir, key, src, cap, note, sizeof(note))) {
        fprintf(stderr, "evo: quantized %s: cache hit (%s)\n", r->model, src);
        return 0;
    }
    if (dir && note[0])
        fprintf(stderr, "evo: %s\n", note);
    char tmp[4400];
    if (dir)
        snprintf(tmp, sizeof(tmp), "%s/%s.%ld.q.tmp", dir, key, (long)getpid());
    else
        snprintf(tmp, sizeof(tmp), "%s.%ld.int8.tmp", r->out ? r->out : r->model, (long)getpid());
    if (quantize_to(r, tmp)) {
        unlink(tmp);
        return 1;
    }
    if (!dir) {
        snprintf(src, cap, "%s", tmp);
        *tmp_src = true;
        return 0;
    }
    if (cli_cache_store(dir, key, tmp) != 0 || !cli_cache_lookup(dir, key, src, cap, note, sizeof(note))) {
        unlink(tmp);
        return cli_fail("compile: cannot store the quantized model in the cache %s", dir);
    }
    return 0;
}

int cli_compile_targets(const cli_compile_req *r)
{
    const evo_npu_target *ts[MAX_TARGETS];
    int n_t = 0;
    if (parse_targets(r->targets, ts, &n_t) || check_options(r))
        return 1;
    int64_t t0 = evo_now_ns();
    char dir[4096], src[4400], base_out[4096];
    const char *cache_dir = NULL;
    if (r->cache) {
        if (cli_cache_dir(dir, sizeof(dir)) == 0)
            cache_dir = dir;
        else
            fprintf(stderr, "evo: warning: no usable cache directory (set EVO_CACHE_DIR): compiling without one\n");
    }
    cli_hash base;
    cli_hash_init(&base);
    hash_exe(&base);
    if (cli_hash_file(r->model, &base) != 0)
        return cli_fail("%s: cannot read the model", r->model);
    cli_hash_update(&base, r->key_opts, strlen(r->key_opts) + 1);
    if (hash_calib(r, &base))
        return 1;
    bool need_int8 = false, tmp_src = false;
    for (int i = 0; i < n_t; i++)
        need_int8 |= ts[i]->table != NULL;
    const char *dot = strrchr(r->model, '.'), *slash = strrchr(r->model, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - r->model) : strlen(r->model);
    if (r->out)
        snprintf(base_out, sizeof(base_out), "%s", r->out);
    else if (snprintf(base_out, sizeof(base_out), "%.*s.evo", (int)stem, r->model) >= (int)sizeof(base_out))
        return cli_fail("compile: path too long");
    job *jobs = calloc((size_t)n_t, sizeof(*jobs));
    if (!jobs)
        return cli_fail("compile: out of memory");
    int rc = 0;
    for (int i = 0; i < n_t && !rc; i++) {
        job *j = &jobs[i];
        j->req = r;
        j->t = ts[i];
        j->src = src;
        j->cache_dir = cache_dir;
        if (n_t == 1)
            snprintf(j->out, sizeof(j->out), "%s", base_out);
        else if (target_output(base_out, ts[i]->name, j->out, sizeof(j->out)))
            rc = cli_fail("compile: path too long");
        if (!rc && strcmp(j->out, r->model) == 0)
            rc = cli_fail("compile: the output would overwrite the input \"%s\"", r->model);
        cli_hash h = base;
        cli_hash_update(&h, ts[i]->name, strlen(ts[i]->name) + 1);
        cli_hash_update(&h, r->rewrite ? "rw" : "--", 3);
        cli_hash_update(&h, r->quant_argc ? "q" : "-", 2);
        cli_hash_str(&h, j->key);
    }
    if (!rc)
        rc = prepare_source(r, need_int8, cache_dir, &base, src, sizeof(src), &tmp_src);
    if (rc) {
        free(jobs);
        return rc;
    }
    long n_cpu = sysconf(_SC_NPROCESSORS_ONLN);
    int n_threads = n_t < (n_cpu > 0 ? (int)n_cpu : 1) ? n_t : (int)(n_cpu > 0 ? n_cpu : 1);
    pool p = {jobs, n_t, 0};
    pthread_t th[MAX_TARGETS];
    int started = 0;
    for (int i = 1; i < n_threads; i++)
        started += pthread_create(&th[started], NULL, worker, &p) == 0;
    worker(&p);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < n_t; i++) {
        fputs(jobs[i].msg, stderr);
        if (!jobs[i].rc)
            fprintf(stderr, "evo: %s -> %s (%s, %.1f ms)\n", ts[i]->name, jobs[i].out,
                    jobs[i].hit ? "cache hit" : cache_dir ? "compiled, cached" : "compiled", jobs[i].ms);
        rc |= jobs[i].rc;
    }
    fprintf(stderr, "evo: %d target%s in %.1f ms on %d thread%s%s%s\n", n_t, n_t > 1 ? "s" : "",
            (double)(evo_now_ns() - t0) / 1e6, n_threads, n_threads > 1 ? "s" : "", cache_dir ? ", cache " : "",
            cache_dir ? cache_dir : "");
    if (tmp_src)
        unlink(src);
    free(jobs);
    return rc;
}
