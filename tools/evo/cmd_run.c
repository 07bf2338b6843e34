/*
 * cmd_run.c - `evo run MODEL --input FILE --output FILE`: one inference on
 * tensor files. Inputs and outputs bind by position or as NAME=FILE.
 */
#include "cli.h"
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

#define MAX_BINDINGS 32

typedef struct binding {
    const char *arg;
    int index;        /* tensor index, resolved */
    const char *path; /* file part of arg */
} binding;

/* Resolves "NAME=FILE" (NAME a tensor) or "FILE" (next position). */
static int resolve(binding *b, int position, const evo_tensor_desc *descs, int n, const char *what)
{
    const char *eq = strchr(b->arg, '=');
    if (eq) {
        for (int i = 0; i < n; i++) {
            size_t len = strlen(descs[i].name);
            if ((size_t)(eq - b->arg) == len && strncmp(b->arg, descs[i].name, len) == 0) {
                b->index = i;
                b->path = eq + 1;
                return 0;
            }
        }
    }
    if (position >= n)
        return cli_fail("%s \"%s\": the model has only %d %ss", what, b->arg, n, what);
    b->index = position;
    b->path = b->arg;
    return 0;
}

int evo_cmd_run(int argc, char **argv)
{
    cli_model_opts mo = {.n_threads = 1};
    binding ins[MAX_BINDINGS], outs[MAX_BINDINGS];
    int n_ins = 0, n_outs = 0, rc = 1;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        int r = cli_parse_model_opt(argc, argv, &i, &mo);
        if (r < 0)
            return 1;
        if (r > 0)
            continue;
        if ((strcmp(argv[i], "--input") == 0 || strcmp(argv[i], "-i") == 0) && i + 1 < argc) {
            if (n_ins == MAX_BINDINGS)
                return cli_fail("too many --input options");
            ins[n_ins++].arg = argv[++i];
        } else if ((strcmp(argv[i], "--output") == 0 || strcmp(argv[i], "-o") == 0) && i + 1 < argc) {
            if (n_outs == MAX_BINDINGS)
                return cli_fail("too many --output options");
            outs[n_outs++].arg = argv[++i];
        } else if (argv[i][0] == '-') {
            return cli_fail("run: unknown or incomplete option \"%s\"", argv[i]);
        } else if (!path) {
            path = argv[i];
        } else {
            return cli_fail("run: more than one model given (\"%s\")", argv[i]);
        }
    }
    if (!path)
        return cli_fail("usage: evo run MODEL --input [NAME=]FILE ... --output [NAME=]FILE ... [--threads N]");

    evo_error err = {0};
    evo_model *model = NULL;
    evo_session *sess = NULL;
    evo_compile_options co = evo_compile_options_default();
    co.input_shapes = mo.shapes;
    co.n_input_shapes = mo.n_shapes;
    co.disable_passes = mo.disable_passes;
    co.act_levels = mo.act;
    co.log = cli_log;
    int64_t t0 = evo_now_ns();
    if (evo_model_load(path, &co, &model, &err) != EVO_OK)
        return cli_fail("%s", err.msg);
    int64_t t1 = evo_now_ns();
    evo_session_options so = evo_session_options_default();
    so.n_threads = mo.n_threads;
    so.isa = mo.isa;
    if (evo_session_create(model, &so, &sess, &err) != EVO_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
    int n_in = evo_model_n_inputs(model), n_out = evo_model_n_outputs(model);
    evo_tensor_desc in_desc[MAX_BINDINGS], out_desc[MAX_BINDINGS];
    if (n_in > MAX_BINDINGS || n_out > MAX_BINDINGS) {
        cli_fail("%s: more than %d inputs or outputs", path, MAX_BINDINGS);
        goto done;
    }
    for (int i = 0; i < n_in; i++)
        evo_model_input_desc(model, i, &in_desc[i]);
    for (int i = 0; i < n_out; i++)
        evo_model_output_desc(model, i, &out_desc[i]);
    if (n_ins != n_in) {
        cli_fail("%s: the model has %d input%s, %d --input given", path, n_in, n_in == 1 ? "" : "s", n_ins);
        goto done;
    }
    for (int i = 0; i < n_ins; i++) {
        if (resolve(&ins[i], i, in_desc, n_in, "input"))
            goto done;
        if (cli_read_tensor(ins[i].path, &in_desc[ins[i].index], evo_session_input_data(sess, ins[i].index),
                            &err) != EVO_OK) {
            cli_fail("%s", err.msg);
            goto done;
        }
    }
    for (int i = 0; i < n_outs; i++) {
        if (resolve(&outs[i], i, out_desc, n_out, "output"))
            goto done;
    }
    int64_t t2 = evo_now_ns();
    if (evo_session_run(sess, &err) != EVO_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
    int64_t t3 = evo_now_ns();
    for (int i = 0; i < n_outs; i++) {
        const evo_tensor_desc *d = &out_desc[outs[i].index];
        if (cli_write_tensor(outs[i].path, d, evo_session_output_data(sess, outs[i].index), &err) != EVO_OK) {
            cli_fail("%s", err.msg);
            goto done;
        }
    }
    fprintf(stderr, "evo: %s: load+compile %.1f ms, run %.2f ms (%d thread%s)\n", path, (double)(t1 - t0) / 1e6,
            (double)(t3 - t2) / 1e6, mo.n_threads, mo.n_threads == 1 ? "" : "s");
    rc = 0;
done:
    evo_session_free(sess);
    evo_model_free(model);
    return rc;
}
